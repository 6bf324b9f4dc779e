#!/bin/sh
# Redis goes away after start-up but before the group assigns partitions:
# the partitions wait for their stored positions (paused), and once Redis
# answers they resume and every post is counted, exactly.
SCRIPT=0074-positions-wait
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:4
write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 3000 -d 300 -s now-300 -r 74 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

# the group's first assignment comes about 3 s after "started"
start_daemon tw "$T/tw.yaml"
wait_for 20 grep -q 'msg="started"' "$T/tw.log"
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
check "assigned while Redis is away: the partitions wait" wait_for 20 \
    grep -q 'cannot read positions from redis; partitions wait' "$T/tw.log"
start_redis
produce_spread "$T/posts.jsonl"
check "Redis back: the positions are read" wait_for 20 \
    grep -q 'positions read; partitions resume' "$T/tw.log"
check "the waiting partitions resume: all $n posts consumed" all_consumed "$n"
check "counts exact" counts_match "$T/posts.jsonl" "$TOP/rules"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
