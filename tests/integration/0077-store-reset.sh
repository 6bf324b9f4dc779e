#!/bin/sh
# Redis restarted without persistence loses counters and positions.  The
# daemon finds it (positions missing although the group committed offsets
# to Kafka; `since` moving forward), logs an error, publishes a
# {"type":"store_reset"} ops alert on <prefix>alerts:_ops and in the alert
# log, and counts it in tidewatch_store_resets_total.  With the default
# redis.on_reset: continue it goes on from the committed offsets; with
# rebuild it recounts from Kafka's earliest offset, so the counters equal
# an offline count of everything Kafka holds.
SCRIPT=0077-store-reset
. tests/integration/helpers.sh
need curl redis-server redis-cli

start_redis
start_kafka posts:4
MPORT=$(free_port)
FLUSH=250ms KAFKA_PROPS="$SHORT_SESSION" write_config "$T/tw.yaml" </dev/null
sed -i "s|^metrics: .*|metrics: {listen: \"127.0.0.1:$MPORT\"}|" "$T/tw.yaml"
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
"$BUILD"/tests/postgen -n 2000 -d 600 -s now-1200 -r 771 -m 20 >"$T/a.jsonl"
"$BUILD"/tests/postgen -n 2000 -d 600 -s now-600 -r 772 -m 20 >"$T/b.jsonl"
cat "$T/a.jsonl" "$T/b.jsonl" >"$T/all.jsonl"
na=$(wc -l <"$T/a.jsonl")
nall=$(wc -l <"$T/all.jsonl")

restart_redis_empty() {
	kill -TERM "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null
	start_redis
}

# --- continue (the default): found, alerted, counting goes on
start_daemon tw "$T/tw.yaml"
produce_spread "$T/a.jsonl"
check "first half counted" all_consumed "$na"
sleep 2			# the commits to Kafka follow the flushes
check "no reset while Redis keeps its data" test "$(metric tidewatch_store_resets_total)" -eq 0
restart_redis_empty
sleep 1
produce_spread "$T/b.jsonl"
check "the lost positions are found (error logged)" wait_for 20 \
    grep -q 'level=error msg="redis lost the position of a partition the group committed to kafka' "$T/tw.log"
check "tidewatch_store_resets_total counts them" \
    wait_for 10 sh -c "[ \"\$(curl -s http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tidewatch_store_resets_total\" { print \$2 }')\" -ge 4 ]"
check "a store_reset ops alert in the alert log" wait_for 10 sh -c \
    "redis-cli -p $REDIS_PORT XRANGE tidewatch:alert-log - + | grep -q '\"type\":\"store_reset\".*\"topic\":\"_ops\".*\"on_reset\":\"continue\"'"
# the replay of what the log holds now (it has the store_reset alert)
timeout 5 "$TIDEWATCH" alerts -c "$T/tw.yaml" --since 0 \
    --count "$(rcli XLEN tidewatch:alert-log)" >"$T/alerts.txt" 2>&1
check "tidewatch alerts: the store_reset alert as a line of its own" \
    grep -q 'CRITICAL  redis lost data: [0-9]* resets\{0,1\} found.*; on_reset continue$' "$T/alerts.txt"
check "continue: the second half is counted from the committed offsets" \
    all_consumed "$nall"
check "the moved 'since' is found too" wait_for 10 \
    grep -q 'redis lost data: the first bucket counted (since) moved forward' "$T/tw.log"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0

# --- rebuild: Redis lost everything while the daemon was down
restart_redis_empty
"$TIDEWATCH" run -c "$T/tw.yaml" -s redis.on_reset=rebuild >>"$T/tw2.log" 2>&1 &
tw2_PID=$!
track_pid $tw2_PID
check "rebuild: the loss is found at assignment" wait_for 20 \
    grep -q 'recounting from the earliest offset.*on_reset=rebuild' "$T/tw2.log"
check "rebuild: everything Kafka holds is counted again" all_consumed "$nall"
check "rebuild: counts exact against an offline count of all posts" \
    counts_match "$T/all.jsonl" "$TOP/rules"
check "rebuild: the alert says so" wait_for 10 sh -c \
    "redis-cli -p $REDIS_PORT XRANGE tidewatch:alert-log - + | grep -q '\"type\":\"store_reset\".*\"on_reset\":\"rebuild\"'"
kill -TERM "$tw2_PID"
wait "$tw2_PID"
check "exit 0 on SIGTERM" test $? -eq 0
