#!/bin/sh
# The broker goes down and comes back, requests fail with injected errors,
# a partition loses its leader for a while: the daemon waits, recovers
# without a restart, and the counters are exact.
SCRIPT=0063-fault-kafka
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:4
write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 24000 -d 2400 -s now-2400 -r 63 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")
ctl() { echo "$*" >"$KAFKA_CTL"; }

start_daemon tw "$T/tw.yaml"
stream "$T/posts.jsonl" 2000
sleep 2
ctl broker-down 1
sleep 3
ctl broker-up 1
sleep 1
ctl request-errors Fetch 20 NOT_LEADER_FOR_PARTITION
ctl request-errors OffsetCommit 5 REQUEST_TIMED_OUT
ctl request-errors Heartbeat 3 COORDINATOR_NOT_AVAILABLE
sleep 2
ctl partition-leader posts 1 -1
sleep 2
ctl partition-leader posts 1 1
wait "$STREAM_PID"
check "the mock took every fault command" test "$(grep -c '^ok$' "$T/kafka.out")" -ge 7
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all posts consumed after the faults" all_consumed "$n"
check "counters exact across broker down/up and request errors" \
    counts_match "$T/posts.jsonl" "$TOP/rules"
check "daemon still running (no restart)" kill -0 "$tw_PID"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
