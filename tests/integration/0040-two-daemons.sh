#!/bin/sh
# Two daemons in one consumer group over a stream with a burst: the
# counters equal what a single daemon counts (and what tidewatch match
# counts offline), and the burst is alerted exactly once.
SCRIPT=0040-two-daemons
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:6
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    name: 地震
    match: {any: [地震]}
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 20,
            cooldown: 30m, resolve_after: 1m}
  - id: weather
    match: {any: [天气]}
YAML
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null

now=$(date +%s)
S=$(( (now - 1200) / 10 * 10 ))
awk -v S="$S" 'BEGIN {
	n = 0
	for (b = 0; b < 120; b++) {
		t = S + b * 10
		for (i = 0; i < 20; i++)
			printf "{\"id\":\"c%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", ++n, t + i % 10
		printf "{\"id\":\"q%d\",\"text\":\"小地震\",\"time\":%d}\n", ++n, t + 3
		if (b == 70)
			for (i = 0; i < 300; i++)
				printf "{\"id\":\"qb%d\",\"text\":\"地震了\",\"time\":%d}\n", ++n, t + i % 10
	}
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")
half=$((n / 2))
head -n "$half" "$T/posts.jsonl" >"$T/part1"
tail -n +"$((half + 1))" "$T/posts.jsonl" >"$T/part2"

rcli PSUBSCRIBE 'tidewatch:alerts:*' >"$T/sub.out" &
track_pid $!
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMPAT | grep -qx 1"

start_daemon a "$T/tw.yaml"
start_daemon b "$T/tw.yaml"
wait_for 30 sh -c "grep -q 'partitions assigned' $T/a.log && grep -q 'partitions assigned' $T/b.log"
produce_spread "$T/part1"
produce_spread "$T/part2"
check "both daemons got partitions" sh -c \
    "grep -q 'partitions assigned' $T/a.log && grep -q 'partitions assigned' $T/b.log"
check "every message consumed" wait_for 60 sh -c \
    "[ \$(redis-cli -p $REDIS_PORT hgetall tidewatch:pos:tw | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -eq $n ]"
sleep 3
offline_counts "$T/posts.jsonl" "$T/rules" >"$T/want"
redis_counts >"$T/got"
check "counters equal the offline counts (as one daemon counts)" same "$T/want" "$T/got"
kill -TERM "$a_PID" "$b_PID"
wait "$a_PID"
wait "$b_PID"
grep '^{' "$T/sub.out" >"$T/alerts"
check "the burst alerted exactly once" \
    test "$(grep '"topic":"quake"' "$T/alerts" | grep -c '"state":"firing"')" -eq 1
check "no other alert" test "$(grep -vc '"topic":"quake"' "$T/alerts")" -eq 0
check "both daemons logged their part" sh -c \
    "grep -q 'msg=\"stopped\"' $T/a.log && grep -q 'msg=\"stopped\"' $T/b.log"
