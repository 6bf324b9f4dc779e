#!/bin/sh
# kill -9 the daemon at random points mid-stream, 5 times, restarting it
# each time: the counters are exact (nothing lost, nothing counted twice).
SCRIPT=0061-fault-kill9
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:4
write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 30000 -d 3000 -s now-3000 -r 61 -m 20 \
    -b '某地查处地沟油窝点@1500+60*300' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw0 "$T/tw.yaml"
stream "$T/posts.jsonl" 2500
i=1
while [ $i -le 5 ]; do
	# 0.5 to 2 s apart
	sleep "$(awk -v s="$$$i" 'BEGIN { srand(s); printf "%.1f", 0.5 + rand() * 1.5 }')"
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	start_daemon "tw$i" "$T/tw.yaml"
	i=$((i + 1))
done
wait "$STREAM_PID"
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all $n posts consumed after 5 kill -9 and restarts" all_consumed "$n"
check "counters exact after 5 kill -9 mid-stream" counts_match "$T/posts.jsonl" "$TOP/rules"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "last daemon exits 0 on SIGTERM" test $? -eq 0
