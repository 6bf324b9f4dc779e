#!/bin/sh
# kill -9 the daemon at random points mid-stream, 5 times, restarting it
# each time, and kill -9 Redis (AOF, fsync always) once and start it again:
# the counters are exact (nothing lost, nothing counted twice),
# and so are the rejects among the posts: <prefix>rejected-total holds
# each bad message once by reason, the dead-letter stream each one once.
SCRIPT=0061-fault-kill9
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis --appendonly yes --appendfsync always
start_kafka posts:4
KAFKA_PROPS="$SHORT_SESSION" write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 30000 -d 3000 -s now-3000 -r 61 -m 20 \
    -b '某地查处地沟油窝点@1500+60*300' >"$T/posts.jsonl"
# a bad message after every 100th post, six kinds in turn; want: its reason
LC_ALL=C awk -v want="$T/bad.want" '{ print }
NR % 100 == 50 {
	k++
	m = k % 6
	if (m == 0) { print "not json " k; r = "not_json" }
	if (m == 1) { printf "{\"id\":\"b%d\",\"text\":\"\377\"}\n", k; r = "not_utf8" }
	if (m == 2) { printf "{\"id\":\"b%d\"}\n", k; r = "no_text" }
	if (m == 3) { printf "{\"id\":\"b%d\",\"text\":%d}\n", k, k; r = "text_type" }
	if (m == 4) { printf "{\"id\":\"b%d\",\"text\":\"x\",\"time\":\"yesterday\"}\n", k; r = "bad_time" }
	if (m == 5) { printf "[%d]\n", k; r = "not_object" }
	print r >want
}' "$T/posts.jsonl" >"$T/mixed.jsonl"
n=$(wc -l <"$T/mixed.jsonl")
nbad=$(wc -l <"$T/bad.want")

start_daemon tw0 "$T/tw.yaml"
stream "$T/mixed.jsonl" 2500
i=1
while [ $i -le 5 ]; do
	# 0.5 to 2 s apart
	sleep "$(awk -v s="$$$i" 'BEGIN { srand(s); printf "%.1f", 0.5 + rand() * 1.5 }')"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	start_daemon "tw$i" "$T/tw.yaml"
	if [ $i -eq 3 ]; then
		sleep 1
		kill -9 "$REDIS_PID"
		wait "$REDIS_PID" 2>/dev/null
		sleep 1
		start_redis --appendonly yes --appendfsync always
	fi
	i=$((i + 1))
done
wait "$STREAM_PID"
check "producer delivered all $n messages" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all $n messages consumed after 5 kill -9 and restarts" all_consumed "$n"
check "counters exact after 5 kill -9 and a Redis restart mid-stream" \
    counts_match "$T/posts.jsonl" "$TOP/rules"
sort "$T/bad.want" | uniq -c | awk '{ print $2, $1 }' >"$T/rejected.want"
rcli HGETALL tidewatch:rejected-total | paste - - -d ' ' | sort >"$T/rejected.got"
check "rejected-total holds each of the $nbad bad messages once, by reason" \
    same "$T/rejected.want" "$T/rejected.got"
check "the dead-letter stream holds each bad message once" sh -c "
    [ \$(redis-cli -p $REDIS_PORT XLEN tidewatch:rejected) -eq $nbad ] &&
    [ \$(redis-cli -p $REDIS_PORT XRANGE tidewatch:rejected - + |
        grep -c '^posts/[0-9]*@[0-9]*\$' | tr -d ' ') -eq $nbad ] &&
    [ \$(redis-cli -p $REDIS_PORT XRANGE tidewatch:rejected - + |
        grep '^posts/[0-9]*@[0-9]*\$' | sort -u | wc -l) -eq $nbad ]"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "last daemon exits 0 on SIGTERM" test $? -eq 0
