#!/bin/sh
# Backlog without false alarms: the daemon is down while 30 minutes of
# posts pile up, one real burst among them.  On restart the catch-up fires
# exactly one alert: late, with the burst's original window, and nothing
# for the ordinary traffic around it.
SCRIPT=0066-fault-backlog
. tests/integration/helpers.sh
need redis-server redis-cli

start_redis
start_kafka posts:4
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    name: 地震
    match: {any: [地震]}
    alert: {window: 1m, baseline: 10m, ratio: 4, min_count: 30,
            cooldown: 30m, resolve_after: 2m}
  - id: weather
    match: {any: [天气]}
    alert: {window: 1m, baseline: 10m, ratio: 4, min_count: 30}
YAML
RULES="$T/rules" KAFKA_PROPS="$SHORT_SESSION" write_config "$T/tw.yaml" </dev/null

# the timeline: [S, S+600) before the downtime, [S+600, S+2400) the
# 30-minute backlog, with a burst at S+1500; it ended a minute ago
now=$(date +%s)
S=$(( (now - 2460) / 10 * 10 ))
gen() {
	awk -v S="$S" -v from="$1" -v to="$2" 'BEGIN {
		for (b = from; b < to; b++) {
			t = S + b * 10
			for (i = 0; i < 8; i++)
				printf "{\"id\":\"w%d-%d\",\"text\":\"今天天气不错\",\"time\":%d}\n", b, i, t + i
			for (i = 0; i < 2; i++)
				printf "{\"id\":\"q%d-%d\",\"text\":\"有点小地震\",\"time\":%d}\n", b, i, t + 5 + i
			if (b == 150)
				for (i = 0; i < 120; i++)
					printf "{\"id\":\"burst%d\",\"text\":\"地震了，好晃\",\"time\":%d}\n", i, t + i % 10
		}
	}'
}
gen 0 60 >"$T/before.jsonl"
gen 60 240 >"$T/backlog.jsonl"

rcli PSUBSCRIBE 'tidewatch:alerts:*' >"$T/sub.out" &
track_pid $!
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMPAT | grep -qx 1"

start_daemon tw1 "$T/tw.yaml"
produce_spread "$T/before.jsonl"
all_consumed "$(wc -l <"$T/before.jsonl")"
sleep 2
kill -TERM "$tw1_PID"
wait "$tw1_PID"

# downtime: the backlog piles up in Kafka
produce_spread "$T/backlog.jsonl"
start_daemon tw2 "$T/tw.yaml"
n=$(cat "$T/before.jsonl" "$T/backlog.jsonl" | wc -l)
check "backlog consumed" all_consumed "$n"
wait_for 20 sh -c "grep -q '\"state\":\"resolved\"' $T/sub.out"
sleep 3
kill -TERM "$tw2_PID"
wait "$tw2_PID"
grep '^{' "$T/sub.out" >"$T/alerts"
check "exactly one firing alert from the backlog" \
    test "$(grep -c '"state":"firing"' "$T/alerts")" -eq 1
check "it is the burst topic" grep -q '"state":"firing","topic":"quake"' "$T/alerts"
check "with the burst's original window" sh -c "grep '\"state\":\"firing\"' $T/alerts | grep -q '\"window_end\":\"$(date -u -d @$((S + 1510)) +%Y-%m-%dT%H:%M:%SZ)\"'"
check "marked late" sh -c "grep '\"state\":\"firing\"' $T/alerts | grep -q '\"late\":true'"
check "no alert for the steady topic" test "$(grep -c '"topic":"weather"' "$T/alerts")" -eq 0
cat "$T/before.jsonl" "$T/backlog.jsonl" >"$T/all.jsonl"
check "counters exact" counts_match "$T/all.jsonl" "$T/rules"
