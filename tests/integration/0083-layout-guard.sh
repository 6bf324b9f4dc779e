#!/bin/sh
# The counters' cells are indexed by counters.resolution, so a daemon must
# never write into counters laid out at another resolution, nor into the
# per-day hashes of the older layout: `run` exits 1 naming the cause.  A
# store that lost the layout key with its data (a wipe) is taken up again.
SCRIPT=0083-layout-guard
. tests/integration/helpers.sh
need redis-server redis-cli timeout

start_kafka posts:2
start_redis
KAFKA_PROPS="$SHORT_SESSION" write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 500 -d 60 -s now-60 -r 83 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")
produce_spread "$T/posts.jsonl"

start_daemon tw "$T/tw.yaml"
check "first run: every post counted" all_consumed "$n"
check "first run: the layout key names version and resolution" \
    test "$(rcli get tidewatch:layout)" = "2 10"
kill -TERM "$tw_PID"
wait "$tw_PID"

# run_fails NAME [-s …]: exit 1 within 15 s, log in $T/NAME.log
run_fails() {
	_name=$1
	shift
	timeout 15 "$TIDEWATCH" run -c "$T/tw.yaml" "$@" >"$T/$_name.log" 2>&1
	echo $? >"$T/$_name.rc"
}
run_fails res60 -s counters.resolution=60s
check "another resolution: run exits 1" test "$(cat "$T/res60.rc")" -eq 1
check "another resolution: the reason is logged" \
    grep -q 'counters of another layout, not starting.*keep counters.resolution' "$T/res60.log"
check "another resolution: the counters are untouched" \
    test "$(rcli get tidewatch:layout)" = "2 10"

# a wipe: since written again by flushes, no layout key, no old hashes
rcli del tidewatch:layout >/dev/null
start_daemon tw2 "$T/tw.yaml"
check "layout key lost with a wipe: taken up again" \
    wait_for 15 sh -c "[ \"\$(redis-cli -p $REDIS_PORT get tidewatch:layout)\" = '2 10' ]"
kill -TERM "$tw2_PID"
wait "$tw2_PID"

# the older layout: per-day hashes under k:
rcli del tidewatch:layout >/dev/null
rcli hset tidewatch:k:food-safety:20261126 "1795669200:地沟油" 3 >/dev/null
run_fails old
check "older layout: run exits 1" test "$(cat "$T/old.rc")" -eq 1
check "older layout: the reason is logged" \
    grep -q 'written by an older layout.*another redis.prefix' "$T/old.log"
check "older layout: no layout key written" \
    test -z "$(rcli get tidewatch:layout)"
