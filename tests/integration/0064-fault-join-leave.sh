#!/bin/sh
# A second daemon joins mid-stream, then the first is killed (kill -9):
# partitions move twice and the counters are exact.
SCRIPT=0064-fault-join-leave
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:6
KAFKA_PROPS="$SHORT_SESSION" write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 30000 -d 3000 -s now-3000 -r 64 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon a "$T/tw.yaml"
stream "$T/posts.jsonl" 2500
sleep 3
start_daemon b "$T/tw.yaml"
sleep 5
kill -9 "$a_PID"
wait "$STREAM_PID"
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all posts consumed" all_consumed "$n"
check "counters exact after a join and a kill -9" counts_match "$T/posts.jsonl" "$TOP/rules"
check "the second daemon got partitions" grep -q 'partitions assigned' "$T/b.log"
kill -TERM "$b_PID"
wait "$b_PID"
