#!/bin/sh
# SIGTERM under full load: stop consuming, flush, store positions, commit
# and exit 0 within 5 s, with nothing lost (a restart finishes the stream
# with exact counts).  A second SIGTERM exits at once.
SCRIPT=0068-shutdown
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:4
KAFKA_PROPS="$SHORT_SESSION" write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 40000 -d 4000 -s now-4000 -r 68 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw "$T/tw.yaml"
wait_for 30 grep -q 'partitions assigned' "$T/tw.log"
stream "$T/posts.jsonl" 20000
sleep 1.5
t0=$(date +%s%N)
kill -TERM "$tw_PID"
wait "$tw_PID"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM under load: exit 0" test "$rc" -eq 0
if ! check "SIGTERM under load: exited in ${ms} ms (< 5000)" test "$ms" -lt 5000
then
	echo "SIGTERM sent at $(date -u -d @$((t0 / 1000000000)) +%T).$(( t0 / 1000000 % 1000 )); the log's end:"
	tail -12 "$T/tw.log"
fi
check "SIGTERM: counts flushed before exiting" grep -q 'msg="stopped"' "$T/tw.log"
wait "$STREAM_PID"
start_daemon tw2 "$T/tw.yaml"
check "a restart finishes the stream" all_consumed "$n"
check "counters exact across the shutdown" counts_match "$T/posts.jsonl" "$TOP/rules"

# a second SIGTERM exits at once, even while the first is still flushing
kill -STOP "$REDIS_PID"		# Redis hangs: the flush cannot finish
"$BUILD"/tests/postgen -n 500 -d 60 -s now-60 -r 69 >"$T/more.jsonl"
produce "$T/more.jsonl"
sleep 1.5			# consumed, waiting for Redis
kill -TERM "$tw2_PID"
sleep 0.3
check "first SIGTERM with Redis hanging: still flushing" kill -0 "$tw2_PID"
t0=$(date +%s%N)
kill -TERM "$tw2_PID"
wait "$tw2_PID"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT "$REDIS_PID"
check "second SIGTERM: exits at once (${ms} ms)" test "$ms" -lt 500
