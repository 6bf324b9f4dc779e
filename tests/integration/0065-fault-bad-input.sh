#!/bin/sh
# A stream mixing good posts with every kind of bad input: the good posts
# are counted exactly, the bad ones are counted by reason in
# <prefix>rejected-total and each kept in the dead-letter stream (with no
# budget none kept, all counted as _not_kept), posts older than the
# retention count as late, and the stream never stops.
SCRIPT=0065-fault-bad-input
. tests/integration/helpers.sh
need curl redis-server redis-cli

start_redis
start_kafka posts:2
write_config "$T/tw.yaml" <<'YAML'
input: {max_post_bytes: 1MiB, max_future: 1h}
YAML
MPORT=$(free_port)
sed -i "s|^metrics: .*|metrics: {listen: \"127.0.0.1:$MPORT\"}|" "$T/tw.yaml"
now=$(date +%s)
"$BUILD"/tests/postgen -n 6000 -d 600 -s now-600 -r 65 -m 25 >"$T/good.jsonl"

# bad lines, each kind twice, spread among the good ones
{
	echo 'this is not json'
	echo '["an array"]'
	printf '{"text":"a tab\there"}\n'
	echo '{"id":"null","text":null}'
	printf '%s\n' '{"id":"esc","text":"a\u0000b"}'
	printf '{"text":"\377\376 bad bytes"}\n'
	printf '{"text":"NUL \000 inside"}\n'
	# 1.5 MB: larger than max_post_bytes; the mock broker keeps only
	# 5 MiB per partition, so the 10 MB case is a decoder unit test
	awk 'BEGIN { printf "{\"text\":\""; for (i = 0; i < 1572864; i++) printf "a"; print "\"}" }'
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "{\"a\":"; printf "1"; for (i = 0; i < 5000; i++) printf "}"; print "" }'
	echo '{"id":"no-text","platform":"weibo"}'
	echo '{"id":"num","text":12345}'
	echo '{"id":"arr","text":["地震"]}'
	echo "{\"id\":\"future\",\"text\":\"地震了\",\"time\":$((now + 86400 * 365))}"
	echo '{"id":"bad-time","text":"地震了","time":"yesterday"}'
} >"$T/bad1.jsonl"
old="{\"id\":\"old\",\"text\":\"地震了\",\"time\":$((now - 86400 * 365 * 3))}"

# interleave: 1000 good, the bad ones, 1000 good, bad again, the rest
{
	head -n 1000 "$T/good.jsonl"
	cat "$T/bad1.jsonl"
	echo "$old"
	sed -n '1001,2000p' "$T/good.jsonl"
	cat "$T/bad1.jsonl"
	echo "$old"
	tail -n +2001 "$T/good.jsonl"
} >"$T/mixed.jsonl"
n=$(wc -l <"$T/mixed.jsonl")

# a second group under its own prefix, with no dead-letter budget: every
# reject counted, none kept, all of them under _not_kept
GROUP=nokeep write_config "$T/nokeep.yaml" <<'YAML'
input: {max_post_bytes: 1MiB, max_future: 1h, dead_letter_bytes: 0}
YAML
sed -i 's|^redis: {|redis: {prefix: "nk:", |' "$T/nokeep.yaml"

start_daemon tw "$T/tw.yaml"
start_daemon nokeep "$T/nokeep.yaml"
"$BUILD"/tests/kafka-produce -b "$BROKERS" -t posts -k \
    -X message.max.bytes=20000000 "$T/mixed.jsonl" 2>>"$T/produce.log"
check "producer delivered all $n messages (1.5 MB ones among them)" \
    grep -q "produced $n messages, 0 failed" "$T/produce.log"
check "every message consumed, bad ones included" all_consumed "$n"
check "good posts counted exactly" counts_match "$T/good.jsonl" "$TOP/rules"
rcli XRANGE tidewatch:rejected - + >"$T/rejected"
for reason in not_object not_utf8 nul_byte nul_escape too_large too_deep \
    no_text bad_time future; do
	check "dead-letter stream holds the 2 '$reason' records" \
	    test "$(grep -cx "$reason" "$T/rejected")" -eq 2
done
check "dead-letter stream holds the 4 'not_json' records (a tab among them)" \
    test "$(grep -cx not_json "$T/rejected")" -eq 4
check "dead-letter stream holds the 6 'text_type' records (null among them)" \
    test "$(grep -cx text_type "$T/rejected")" -eq 6
check "dead-letter records say where the message was" \
    grep -q '^posts/[01]@[0-9]*$' "$T/rejected"
check "dead-letter payloads are cut (the 1.5 MB ones kept short)" \
    test "$(awk 'length > 2000' "$T/rejected" | wc -l)" -eq 0
check "posts older than the retention counted as late" \
    wait_for 15 grep -q 'late=2 ' "$T/tw.log"
check "rejects counted in the summary" \
    wait_for 15 grep -q 'rejected=28 ' "$T/tw.log"
# every reason the daemon counts is in its metrics and documented
curl -s "http://127.0.0.1:$MPORT/metrics" |
    sed -n 's/^tidewatch_posts_rejected_total{reason="\([a-z0-9_]*\)"} \([0-9]*\)$/\1 \2/p' |
    sort >"$T/metric"
check "metrics list every reason (not_object, nul_escape among them)" sh -c "
    [ \$(wc -l <'$T/metric') -ge 11 ] &&
    grep -qx 'not_object 2' '$T/metric' && grep -qx 'nul_escape 2' '$T/metric'" ||
    sed 's/^/  /' "$T/metric"
for doc in README.md docs/operations.md deploy/tidewatch.1; do
	missing=$(cut -d' ' -f1 "$T/metric" | while read -r r; do
		grep -qw -- "$r" "$TOP/$doc" || echo "$r"; done)
	check "every reason documented in $doc" test -z "$missing" ||
	    echo "  missing: $missing"
done
rcli HGETALL tidewatch:rejected-total | paste - - -d ' ' | sort >"$T/total"
printf '%s 2\n' bad_time future no_text not_object not_utf8 nul_byte \
    nul_escape too_deep too_large >"$T/total.want"
printf 'not_json 4\ntext_type 6\n' >>"$T/total.want"
sort -o "$T/total.want" "$T/total.want"
check "rejected-total counts every reject by reason, none over the budget" \
    same "$T/total.want" "$T/total"
check "no budget: every message consumed" wait_for 60 sh -c \
    "[ \$(redis-cli -p $REDIS_PORT hgetall nk:pos:nokeep | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -ge $n ]"
rcli HGETALL nk:rejected-total | paste - - -d ' ' | sort >"$T/nk.total"
{ cat "$T/total.want"; echo '_not_kept 28'; } | sort >"$T/nk.want"
check "no budget: rejected-total counts every reject, all under _not_kept" \
    same "$T/nk.want" "$T/nk.total"
check "no budget: the dead-letter stream stays empty" \
    test "$(rcli XLEN nk:rejected)" -eq 0
kill -TERM "$tw_PID" "$nokeep_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
wait "$nokeep_PID"
