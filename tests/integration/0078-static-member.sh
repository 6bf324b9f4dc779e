#!/bin/sh
# kafka.group_instance_id makes each consumer thread a static group member
# (librdkafka group.instance.id, "-<thread>" appended when threads > 1),
# and the daemon counts as before.  librdkafka 2.0's mock cluster does not
# implement static membership, so the rejoin time after a restart (at once
# on a real broker, instead of after session.timeout.ms) is not measured.
SCRIPT=0078-static-member
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:4
write_config "$T/tw.yaml" <<Y
threads: 2
Y
sed -i "s|^kafka: .*|kafka: {brokers: \"$BROKERS\", topics: [posts], group: tw, group_instance_id: host-a}|" "$T/tw.yaml"
"$BUILD"/tests/postgen -n 2000 -d 600 -s now-600 -r 78 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")
check "the config takes kafka.group_instance_id" \
    sh -c "'$TIDEWATCH' config -c '$T/tw.yaml' | grep -q ': ok\$'"
start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
check "each thread a static member of its own" wait_for 20 sh -c "
    grep -q 'msg=\"kafka static group member\" consumer=0 group.instance.id=host-a-0' '$T/tw.log' &&
    grep -q 'msg=\"kafka static group member\" consumer=1 group.instance.id=host-a-1' '$T/tw.log'"
check "static members count every post" all_consumed "$n"
check "counts exact" counts_match "$T/posts.jsonl" "$TOP/rules"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
