#!/bin/sh
# A stall alert that cannot be published (here the alert-log key has the
# wrong type) is not lost, as a topic alert is not (0070): nothing goes out
# while the log refuses it, the dedup key is given back, and the next ticks
# publish it, once, to the channel and the alert log.
SCRIPT=0071-stall-retry
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:1
printf 'stall_after: 2s\n' | write_config "$T/tw.yaml"

rcli SET tidewatch:alert-log not-a-stream >/dev/null
rcli SUBSCRIBE tidewatch:alerts:_ops >"$T/ops.out" 2>"$T/ops.err" &
track_pid $!
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMSUB tidewatch:alerts:_ops | tail -1 | grep -qx 1"
start_daemon tw "$T/tw.yaml"
check "publishing the stall fails while the log key is broken" \
    wait_for 30 grep -q 'cannot publish the stall alert' "$T/tw.log"
sleep 2
check "nothing published meanwhile" test "$(grep -c '"type":"stall"' "$T/ops.out")" -eq 0
check "the dedup key was given back" \
    test -z "$(rcli --scan --pattern 'tidewatch:dedup:*')"
check "no stall state recorded meanwhile" \
    test -z "$(rcli HGET tidewatch:state:_ops stall)"
rcli DEL tidewatch:alert-log >/dev/null
check "published once Redis takes it" \
    wait_for 15 grep -q '"type":"stall","state":"firing"' "$T/ops.out"
sleep 2
check "published exactly once" \
    test "$(grep -c '"type":"stall","state":"firing"' "$T/ops.out")" -eq 1
check "in the alert log too, once" \
    test "$(rcli XRANGE tidewatch:alert-log - + | grep -c '"type":"stall","state":"firing"')" -eq 1
check "the stall state recorded" \
    sh -c "redis-cli -p $REDIS_PORT HGET tidewatch:state:_ops stall | grep -q '^firing '"
kill -TERM "$tw_PID"
wait "$tw_PID"
