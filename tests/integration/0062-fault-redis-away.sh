#!/bin/sh
# Redis (with AOF) stopped for 10 s mid-stream and started again: no crash,
# counters exact, the daemon said what happened.
SCRIPT=0062-fault-redis-away
. tests/integration/helpers.sh
need curl redis-server redis-cli

start_redis --appendonly yes --appendfsync always
start_kafka posts:4
MPORT=$(free_port)
FLUSH=500ms write_config "$T/tw.yaml" </dev/null
sed -i "s|^metrics: .*|metrics: {listen: \"127.0.0.1:$MPORT\"}|" "$T/tw.yaml"
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
"$BUILD"/tests/postgen -n 30000 -d 3000 -s now-3000 -r 62 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw "$T/tw.yaml"
stream "$T/posts.jsonl" 1500
sleep 4
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
sleep 5
check "metrics during the outage: redis errors counted" \
    sh -c "[ \$(curl -s http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tidewatch_redis_errors_total\" { print \$2 }') -gt 0 ]"
check "metrics during the outage: /healthz still answers" \
    curl -s -o /dev/null "http://127.0.0.1:$MPORT/healthz"
sleep 5
start_redis --appendonly yes --appendfsync always
wait "$STREAM_PID"
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all posts consumed once Redis is back" all_consumed "$n"
check "counters exact across a 10 s Redis outage" counts_match "$T/posts.jsonl" "$TOP/rules"
check "daemon still running" kill -0 "$tw_PID"
check "metrics after the outage: flush errors counted" \
    test "$(metric tidewatch_flush_errors_total)" -gt 0
check "metrics after the outage: every consumed post decoded" \
    test "$(metric tidewatch_posts_decoded_total)" -eq "$n"
check "metrics after the outage: nothing rejected" \
    test "$(metric 'tidewatch_posts_rejected_total{reason="not_json"}')" -eq 0
check "logged that Redis went away" grep -q 'redis unreachable, keeping counts' "$T/tw.log"
check "logged that Redis came back" grep -q 'redis reachable again' "$T/tw.log"
check "logged the outage once, not per retry" \
    test "$(grep -c 'redis unreachable, keeping counts' "$T/tw.log")" -le 1
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
