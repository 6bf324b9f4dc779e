#!/bin/sh
# Redis (with AOF) stopped for 10 s mid-stream and started again: no crash,
# counters exact, the daemon said what happened.
SCRIPT=0062-fault-redis-away
. tests/integration/helpers.sh
need kcat

start_redis --appendonly yes --appendfsync always
start_kafka posts:4
FLUSH=500ms write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 30000 -d 3000 -s now-3000 -r 62 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw "$T/tw.yaml"
stream "$T/posts.jsonl" 1500
sleep 4
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
sleep 10
start_redis --appendonly yes --appendfsync always
wait "$STREAM_PID"
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all posts consumed once Redis is back" all_consumed "$n"
check "counters exact across a 10 s Redis outage" counts_match "$T/posts.jsonl" "$TOP/rules"
check "daemon still running" kill -0 "$tw_PID"
check "logged that Redis went away" grep -q 'redis unreachable, keeping counts' "$T/tw.log"
check "logged that Redis came back" grep -q 'redis reachable again' "$T/tw.log"
check "logged the outage once, not per retry" \
    test "$(grep -c 'redis unreachable, keeping counts' "$T/tw.log")" -le 1
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
