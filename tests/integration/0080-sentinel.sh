#!/bin/sh
# Redis Sentinel: one master, one replica and three sentinels on loopback.
# The daemon finds the master through the sentinels (redis.address points
# nowhere), the master is killed (-9) mid-stream, the sentinels promote the
# replica, the daemon follows them to it, re-reads its positions there and
# recounts what the replica had not received: the counters on the new
# master equal the offline count.  With redis.wait_replicas: 1 the offsets
# committed to Kafka are on the replica, so the failover loses nothing the
# group committed (no store_reset).
SCRIPT=0080-sentinel
. tests/integration/helpers.sh
need redis-server redis-cli redis-sentinel curl

M_PORT=$(free_port)
REDIS_PORT=$M_PORT start_redis
M_PID=$REDIS_PID
R_PORT=$(free_port)
mkdir -p "$T/replica"
redis-server --port "$R_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$T/replica" --daemonize no --replicaof 127.0.0.1 "$M_PORT" \
    >>"$T/replica.log" 2>&1 &
track_pid $!
wait_for 10 sh -c "redis-cli -p $R_PORT info replication | grep -q 'master_link_status:up'" || {
	echo "FAIL $SCRIPT: the replica did not sync"; cat "$T/replica.log"; exit 1; }
SENTINELS=""
for i in 1 2 3; do
	p=$(free_port)
	mkdir -p "$T/s$i"
	cat >"$T/s$i/sentinel.conf" <<C
port $p
bind 127.0.0.1
dir $T/s$i
sentinel monitor tw 127.0.0.1 $M_PORT 2
sentinel down-after-milliseconds tw 1000
sentinel failover-timeout tw 10000
C
	redis-sentinel "$T/s$i/sentinel.conf" >>"$T/s$i/log" 2>&1 &
	track_pid $!
	SENTINELS="$SENTINELS${SENTINELS:+, }\"127.0.0.1:$p\""
	S_PORT=$p
done
wait_for 20 sh -c "redis-cli -p $S_PORT sentinel replicas tw | grep -q $R_PORT" || {
	echo "FAIL $SCRIPT: the sentinels did not find the replica"; exit 1; }

start_kafka posts:4
FLUSH=250ms write_config "$T/tw.yaml" </dev/null
MPORT=$(free_port)
sed -i "s|^redis: .*|redis: {address: \"127.0.0.1:1\", sentinels: [$SENTINELS], master_name: tw, flush_interval: 250ms, timeout: 1s, wait_replicas: 1}|" "$T/tw.yaml"
sed -i "s|^metrics: .*|metrics: {listen: \"127.0.0.1:$MPORT\"}|" "$T/tw.yaml"
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
"$BUILD"/tests/postgen -n 16000 -d 1600 -s now-1600 -r 80 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw "$T/tw.yaml"
stream "$T/posts.jsonl" 2000
check "the master found through the sentinels" wait_for 20 sh -c \
    "[ \$(redis-cli -p $M_PORT hlen tidewatch:pos:tw) -gt 0 ]"
sleep 3
kill -9 "$M_PID"
check "the sentinels promote the replica" wait_for 30 sh -c \
    "redis-cli -p $R_PORT role | head -1 | grep -qx master"
wait "$STREAM_PID"
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
REDIS_PORT=$R_PORT
check "every post counted on the new master" all_consumed "$n"
check "counters exact across the failover" counts_match "$T/posts.jsonl" "$TOP/rules"
check "the daemon went on through it" kill -0 "$tw_PID"
check "followed the failover, logged" grep -q 'redis answers again' "$T/tw.log"
check "WAIT before each commit: the failover lost nothing committed (no store_reset)" \
    test "$(metric tidewatch_store_resets_total)" -eq 0
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
