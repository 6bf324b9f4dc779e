#!/bin/sh
# kill -9 mid-stream does not inflate distinct authors or texts.  6,000
# posts by 300 authors with 200 texts (each posted as reposts, with chains,
# URLs and mentions around it) are streamed while the daemon is killed
# with -9 three times and restarted: a flush that was cut off is replayed
# from the stored positions, and its PFADDs, made again, change nothing.
# The HyperLogLogs then hold exactly what a second daemon, in another
# consumer group under another key prefix, counts from the same topic in
# one clean pass, and that is 300 authors and 200 texts (within the
# estimator's error).
SCRIPT=0092-fault-authors
. tests/integration/helpers.sh
need redis-server redis-cli

mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: leak
    match: {any: [泄漏]}
YAML
now=$(date +%s)
S=$(( now - 1800 ))
awk -v S="$S" 'function hex(   h, k) {
	for (k = 0; k < 6; k++)
		h = h sprintf("%06x", int(rand() * 16777216))
	return h
}
BEGIN {
	srand(85)
	for (j = 0; j < 200; j++)
		txt[j] = hex() " 化工厂泄漏 " hex()
	for (i = 0; i < 6000; i++)
		printf "{\"id\":\"p%d\",\"text\":\"转发微博//@u%d: %s http://t.cn/%d @x%d\",\"time\":%d,\"author\":\"a%d\"}\n",
		    i, i % 97, txt[(i * 7) % 200], i, i % 13, S + i % 600, (i * 11) % 300
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_redis
start_kafka posts:4
KAFKA_PROPS="$SHORT_SESSION" RULES="$T/rules" write_config "$T/tw.yaml" </dev/null
start_daemon tw0 "$T/tw.yaml"
stream "$T/posts.jsonl" 1500
i=1
while [ $i -le 3 ]; do
	sleep "$(awk -v s="$$$i" 'BEGIN { srand(s); printf "%.1f", 0.5 + rand() }')"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	start_daemon "tw$i" "$T/tw.yaml"
	i=$((i + 1))
done
wait "$STREAM_PID"
check "all $n posts consumed after 3 kill -9 and restarts" all_consumed "$n"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"

# the same topic, counted once more in one clean pass
GROUP=clean RULES="$T/rules" write_config "$T/clean.yaml" <<YAML
redis: {address: "127.0.0.1:$REDIS_PORT", prefix: "clean:"}
YAML
start_daemon clean "$T/clean.yaml"
check "the clean pass consumed all $n posts" wait_for 60 sh -c \
    "[ \$(redis-cli -p $REDIS_PORT hgetall clean:pos:clean | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -ge $n ]"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"

pf() { rcli PFCOUNT $(rcli --scan --pattern "$1:$2:leak:*"); }
killed="$(pf tidewatch ha) $(pf tidewatch ht)"
clean="$(pf clean ha) $(pf clean ht)"
check "authors and texts after kill -9 ($killed) = one clean pass ($clean)" \
    test "$killed" = "$clean"
check "300 authors and 200 texts, within 2% ($killed)" \
    awk -v a="${killed% *}" -v t="${killed#* }" \
    'BEGIN { exit !(a >= 294 && a <= 306 && t >= 196 && t <= 204) }'
