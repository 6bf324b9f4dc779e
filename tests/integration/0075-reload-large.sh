#!/bin/sh
# A reload of a large rule set (20,000 topics, 200,000 keywords) does not
# stall consumption: the new set is built on a thread of its own while
# posts stream in and the consumers keep counting and flushing (at least
# one flush per second of the build, flush interval 250 ms), every post
# is counted, and the new set is in force once it is built.
SCRIPT=0075-reload-large
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:4
sh "$TOP"/tests/bench/gen_rules.sh 20000 10 "$T/rules" >/dev/null ||
    { fail "gen_rules.sh failed"; exit 0; }
RULES="$T/rules" write_config "$T/tw.yaml" <<EOF2
log: {level: debug}
EOF2
# more than the test needs: the stream is stopped once the reload is done
"$BUILD"/tests/postgen -n 400000 -d 3000 -s now-3000 -r 75 -m 20 >"$T/posts.jsonl"

start_daemon tw "$T/tw.yaml"
wait_for 120 grep -q 'partitions assigned' "$T/tw.log" ||
    { fail "the daemon did not start: $(tail -3 "$T/tw.log")"; exit 0; }
stream "$T/posts.jsonl" 2000
wait_for 10 grep -q 'msg="flushed"' "$T/tw.log"
printf 'topics:\n  - id: zz-weather\n    match: {any: [天气]}\n' >"$T/rules/zz-new.yaml"
kill -HUP "$tw_PID"
check "the large set is reloaded" \
    wait_for 120 grep -q 'msg="rules reloaded" topics=20001 keywords=200001' "$T/tw.log"

# milliseconds of the day of a log line's ts=
ms() { sed -n 's/^ts=[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z.*/\1 \2 \3/p' |
    awk '{ printf "%.0f\n", ($1 * 3600 + $2 * 60 + $3) * 1000 }'; }
t0=$(grep 'msg="reload requested' "$T/tw.log" | head -1 | ms)
t1=$(grep 'msg="rules reloaded"' "$T/tw.log" | tail -1 | ms)
flushes=$(grep 'msg="flushed"' "$T/tw.log" | ms |
    awk -v a="$t0" -v b="$t1" '$1 > a && $1 < b { n++ } END { print n + 0 }')
echo "reload took $((t1 - t0)) ms, $flushes flushes meanwhile"
check "consumers flushed during the build (>= 1 per second of it)" \
    test "$flushes" -ge 1 -a "$flushes" -ge $(( (t1 - t0) / 1000 ))
sleep 1
kill -TERM "$STREAM_PID"	# it stops reading and delivers what it read
wait "$STREAM_PID"
n=$(sed -n 's/^produced \([0-9]*\) messages, 0 failed$/\1/p' "$T/produce.log")
check "the stream delivered its posts" test -n "$n"
check "every post streamed across the reload is counted" all_consumed "${n:-1}"
printf '{"id":"after","text":"今天天气很好","time":%s}\n' "$(date +%s)" >"$T/after.jsonl"
produce "$T/after.jsonl"
check "the new set is in force" \
    wait_for 20 sh -c "redis-cli -p $REDIS_PORT --scan --pattern 'tidewatch:c:zz-weather:*' | grep -q ."
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
