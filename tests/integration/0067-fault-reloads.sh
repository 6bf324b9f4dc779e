#!/bin/sh
# 50 rule reloads (SIGHUP), half of them invalid, while posts stream in:
# the counters are exact, every invalid edit keeps the rules in force and
# is logged with path:line:col, and matching follows the last valid rules.
SCRIPT=0067-fault-reloads
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:4
mkdir -p "$T/rules"
cp "$TOP"/rules/*.yaml "$T/rules/"
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null
"$BUILD"/tests/postgen -n 30000 -d 3000 -s now-3000 -r 67 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw "$T/tw.yaml"
wait_for 30 grep -q 'partitions assigned' "$T/tw.log"
stream "$T/posts.jsonl" 3000
i=1
while [ $i -le 50 ]; do
	if [ $((i % 2)) -eq 0 ]; then
		# invalid: an unknown key and a bad window
		printf 'topics:\n  - id: broken-%d\n    mtach: {any: [x]}\n    alert: {window: 45s, ratio: 2}\n' \
		    "$i" >"$T/rules/zz-edit.yaml"
	else
		# valid, and changes no count: a topic nobody writes about
		printf 'topics:\n  - id: edit-%d\n    match: {any: [无人提及的词%d]}\n' \
		    "$i" "$i" >"$T/rules/zz-edit.yaml"
	fi
	kill -HUP "$tw_PID"
	sleep 0.2
	i=$((i + 1))
done
wait "$STREAM_PID"
check "producer delivered all $n posts" grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "all posts consumed during 50 reloads" all_consumed "$n"
check "counters exact across 50 reloads" counts_match "$T/posts.jsonl" "$TOP/rules"
wait_for 10 sh -c "[ \$(grep -c 'msg=\"reload requested' $T/tw.log) -ge 50 ]"
check "25 invalid reloads refused" \
    test "$(grep -c 'msg="reload failed, keeping the rules in force"' "$T/tw.log")" -eq 25
check "each refusal logged with path:line:col" \
    test "$(grep -c "zz-edit.yaml:3:5: unknown key 'mtach' in topic (did you mean 'match'?)" "$T/tw.log")" -eq 25
check "25 valid reloads taken" \
    test "$(grep -c 'msg="rules reloaded"' "$T/tw.log")" -eq 25

# the last valid rules are in force: a new topic matches new posts
printf 'topics:\n  - id: zz-weather\n    match: {any: [天气]}\n' >"$T/rules/zz-edit.yaml"
kill -HUP "$tw_PID"
wait_for 10 sh -c "[ \$(grep -c 'msg=\"rules reloaded\"' $T/tw.log) -eq 26 ]"
printf '{"id":"after","text":"今天天气很好","time":%s}\n' "$(date +%s)" >"$T/after.jsonl"
produce "$T/after.jsonl"
check "matching follows the last valid rule set" \
    wait_for 20 sh -c "redis-cli -p $REDIS_PORT --scan --pattern 'tidewatch:c:zz-weather:*' | grep -q ."
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
