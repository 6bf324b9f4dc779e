#!/bin/sh
# Alert volume control in the daemon: two topics with group_wait fire in
# the same minute and arrive as one digest on tidewatch:alerts:_digest
# (each also in the alert log, none on its own channel); a topic with
# inhibit does not alert while its parent fires; and `tidewatch backtest`
# on the same posts gives the same alerts and the same digest.
SCRIPT=0036-alert-volume
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:2
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    match: {any: [地震]}
    group_wait: 30s
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 20,
            cooldown: 2m, resolve_after: 30s}
  - id: flood
    match: {any: [洪水]}
    group_wait: 1m
    alert: {window: 30s, threshold: 60, cooldown: 1h, resolve_after: 30s}
  - id: quake-big
    match: {any: [刚才地震]}
    inhibit: [quake]
    alert: {window: 30s, threshold: 50, resolve_after: 30s}
  - id: weather
    match: {any: [天气]}
    alert: {window: 30s, baseline: {halflife: 5m}, zscore: 50}
YAML
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null

now=$(date +%s)
S=$(( (now - 1500) / 10 * 10 ))
awk -v S="$S" 'BEGIN {
	n = 0
	for (b = 0; b < 150; b++) {
		t = S + b * 10
		printf "{\"id\":\"q%d\",\"text\":\"小地震，没事\",\"time\":%d}\n", ++n, t + 1
		printf "{\"id\":\"c%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", ++n, t + 2
		if (b == 60)
			for (i = 0; i < 100; i++)
				printf "{\"id\":\"qb%d\",\"text\":\"刚才地震了好晃\",\"time\":%d}\n", ++n, t + i % 10
		if (b >= 60 && b < 90)
			for (i = 0; i < 30; i++)
				printf "{\"id\":\"f%d\",\"text\":\"洪水来了\",\"time\":%d}\n", ++n, t + i % 10
	}
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

redis-cli -p "$REDIS_PORT" PSUBSCRIBE 'tidewatch:alerts:*' >"$T/sub.out" &
SUB_PID=$!
track_pid $SUB_PID
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMPAT | grep -qx 1"

"$TIDEWATCH" alerts -c "$T/tw.yaml" >"$T/alerts.out" 2>"$T/alerts.err" &
ALERTS_PID=$!
track_pid $ALERTS_PID
sleep 0.5
start_daemon tw "$T/tw.yaml"
produce "$T/posts.jsonl"
wait_for 60 sh -c "[ \$(redis-cli -p $REDIS_PORT hgetall tidewatch:pos:tw | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -eq $n ]"
wait_for 20 sh -c "grep -q 'flood:0:[0-9]*:resolved' $T/sub.out"
sleep 2
kill -TERM "$tw_PID"
wait "$tw_PID"
kill "$SUB_PID" "$ALERTS_PID" 2>/dev/null

# redis-cli prints pmessage, pattern, channel, message
awk '/^pmessage$/ { getline; getline; ch = $0; getline; print ch "\t" $0 }' \
    "$T/sub.out" >"$T/msgs"
digests=$(grep -c '^tidewatch:alerts:_digest	' "$T/msgs")
check "one digest message" test "$digests" -eq 1
d=$(grep '^tidewatch:alerts:_digest	' "$T/msgs" | cut -f2)
check "the digest holds both topics' alerts, in id order" sh -c "echo '$d' | grep -q '^{\"id\":\"digest:$((S + 610)):2\",\"digest\":true,\"window_end\":\"[^\"]*\",\"count\":2,\"alerts\":\[{\"id\":\"flood:0:$((S + 620)):firing\".*},{\"id\":\"quake:0:$((S + 610)):firing\"'"
check "no firing alert on a topic channel" test "$(grep -v '_digest' "$T/msgs" | grep -c '"state":"firing"')" -eq 0
check "resolves go out on their own channels" test "$(grep -c '^tidewatch:alerts:\(quake\|flood\)	.*"state":"resolved"' "$T/msgs")" -eq 2
check "inhibit: quake-big never alerted" test "$(grep -c 'quake-big' "$T/msgs")" -eq 0
rcli XRANGE tidewatch:alert-log - + | grep '^{' | sed 's/^{"id":"\([^"]*\)".*/\1/' | sort >"$T/log.ids"
check "the alert log has every alert, held ones too" test "$(wc -l <"$T/log.ids")" -eq 4
check "the daemon logged the hold and the digest" sh -c "grep -q 'alert held.*quake' '$T/tw.log' && grep -q 'alert digest sent.*alerts=2' '$T/tw.log'" || grep alert "$T/tw.log"

check "tidewatch alerts prints the digest's alerts, before the resolves" sh -c "sed -n '1p;2p' '$T/alerts.out' | grep -c 'WARNING  \(flood  count 60\|quake  count 103\) ' | grep -qx 2 && sed -n '3p;4p' '$T/alerts.out' | grep -c RESOLVED | grep -qx 2" || cat "$T/alerts.out"

# the EWMA baseline's state is kept with the block's state
st=$(rcli HGET tidewatch:state:weather 0)
check "EWMA state saved ($st)" sh -c "echo '$st' | awk 'NF == 12 && \$7 > 100 && \$11 > 2.9 && \$11 < 3.1 { ok = 1 } END { exit !ok }'"

# backtest on the same posts: the same alerts, the same digest
"$TIDEWATCH" backtest -r "$T/rules" --json "$T/posts.jsonl" >"$T/bt.out" 2>/dev/null
grep -o '"id":"[a-z-]*:[0-9]*:[0-9]*:[a-z]*"' "$T/bt.out" | cut -d'"' -f4 | sort >"$T/bt.ids"
check "backtest: the same alerts as the daemon" same "$T/log.ids" "$T/bt.ids"
check "backtest: the same digest id" grep -q "^{\"id\":\"digest:$((S + 610)):2\"" "$T/bt.out"
