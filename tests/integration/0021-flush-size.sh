#!/bin/sh
# Flushes split by size (redis.flush_max_entries): with a flush interval
# far longer than the test, a daemon whose aggregate reaches 64 scripts of
# 64 entries flushes early, cut after a whole post, and stores it in many
# scripts of about 64 entries each (staged, then applied).  Every message is
# then counted exactly as `tidewatch match` counts it offline, the stored
# positions cover every message, every key carries a TTL (set by the flush
# that created one of its fields), and a restart counts nothing twice.
SCRIPT=0021-flush-size
. tests/integration/helpers.sh
need redis-server redis-cli

# all_consumed_within SECS N: the positions stored cover N messages
all_consumed_within() {
	wait_for "$1" sh -c "[ \$(redis-cli -p $REDIS_PORT hgetall tidewatch:pos:tw | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -ge $2 ]"
}

start_redis
start_kafka posts:4
MPORT=$(free_port)
FLUSH=60s METRICS=127.0.0.1:$MPORT write_config "$T/tw.yaml" <<EOF2
log: {level: debug}
EOF2
sed -i 's/flush_interval: 60s}/flush_interval: 60s, flush_max_entries: 64}/' "$T/tw.yaml"
# received N: the daemon has received N messages from Kafka (what a
# SIGTERM then has to flush), whatever it has stored yet.
received() {
	wait_for 40 sh -c "[ \"\$(curl -sf http://127.0.0.1:$MPORT/metrics |
	    awk '\$1 == \"tidewatch_posts_consumed_total\" { print \$2 }')\" -ge $1 ]"
}
check "config: flush_max_entries set" grep -q 'flush_max_entries: 64' "$T/tw.yaml"

# both batches of posts lie in one UTC hour (20 to 30 minutes before the
# current hour began), so the counter key deleted below is the one the
# second batch recreates, whatever the time the test runs at
A=$(( $(date +%s) / 3600 * 3600 - 1800 ))
"$BUILD"/tests/postgen -n 6000 -d 600 -s $A -r 21 -m 15 \
    -b '某地查处地沟油窝点@300+30*200' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
# what stays below 16 x 64 entries waits for the interval (or the shutdown);
# the early flushes hold most of the posts
check "most messages counted well before the 60 s flush interval" \
    all_consumed_within 40 $((n / 2))
check "the flushes were split into scripts of about 64 entries (many, each at most 64 + slack)" \
    sh -c "sed -n 's/.*msg=\"flushed\".* scripts=\\([0-9]*\\) script_entries_max=\\([0-9]*\\).*/\\1 \\2/p' '$T/tw.log' |
        awk '{ n += \$1; if (\$2 > 64 + 200) bad = 1 } END { exit bad || n < 20 }'"
check "a flush holds many scripts' worth: it flushes early at 16 x 64 entries" \
    sh -c "grep 'msg=\"flushed\"' '$T/tw.log' | sed -n 's/.* entries=\\([0-9]*\\).*/\\1/p' |
        awk '\$1 >= 16 * 64 { big++ } \$1 > 16 * 64 + 200 { bad = 1 } END { exit bad || big < 1 }'"
check "every message received before the SIGTERM" received "$n"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "SIGTERM: exit 0" test $? -eq 0
check "SIGTERM flushed the rest: every message counted" all_consumed_within 1 "$n"
check "redis counters equal tidewatch match, topic by topic, bucket by bucket" \
    counts_match "$T/posts.jsonl" "$TOP/rules"
check "every key carries a TTL" sh -c "for k in \$(redis-cli -p $REDIS_PORT --scan --pattern 'tidewatch:[cks]:*'); do t=\$(redis-cli -p $REDIS_PORT ttl \$k); [ \$t -gt 0 ] || exit 1; done"

# a key emptied behind the daemon's back gets its TTL again from the flush
# that recreates it
day=$(rcli --scan --pattern 'tidewatch:c:food-safety:*' | sort | tail -1)	# the posts' hour
check "a food-safety counter exists" sh -c "[ -n '$day' ] && [ \$(redis-cli -p $REDIS_PORT exists '$day') -eq 1 ]"
key_counts "$day" | awk '{ print "food-safety", $0 }' >"$T/deleted"
rcli del "$day" >/dev/null
"$BUILD"/tests/postgen -n 6000 -d 600 -s $((A + 600)) -r 22 -m 15 \
    -b '某地查处地沟油窝点@10+10*50' >"$T/more.jsonl"
start_daemon tw2 "$T/tw.yaml"
produce_spread "$T/more.jsonl"
cat "$T/posts.jsonl" "$T/more.jsonl" >"$T/all.jsonl"
n2=$(wc -l <"$T/all.jsonl")
check "restart: size-bounded flushes count the new messages" \
    all_consumed_within 40 $((n + (n2 - n) / 2))
check "restart: every new message received before the SIGTERM" received "$((n2 - n))"
kill -TERM "$tw2_PID"
wait "$tw2_PID"
check "restart: SIGTERM flushed the rest" all_consumed_within 1 "$n2"
offline_counts "$T/all.jsonl" "$TOP/rules" >"$T/want2"
# the deleted key's counts are gone from Redis: add them back
redis_counts | cat - "$T/deleted" | awk '{ c[$1 " " $2] += $3 }
    END { for (k in c) print k, c[k] }' | sort >"$T/got2"
check "restart: counters exact (nothing counted twice)" same "$T/want2" "$T/got2"
check "restart: the deleted counter was recreated" sh -c "[ \$(redis-cli -p $REDIS_PORT exists '$day') -eq 1 ]"
for k in $(rcli --scan --pattern 'tidewatch:c:*'); do
	[ "$(rcli ttl "$k")" -gt 0 ] || echo "$k" >>"$T/nottl"
done
check "restart: every counter key, the recreated one too, carries a TTL" \
    test ! -s "$T/nottl"
