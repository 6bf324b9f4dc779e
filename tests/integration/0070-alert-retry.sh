#!/bin/sh
# An alert that cannot be published (here the alert-log key has the wrong
# type) is not lost: the detector tries again every tick and publishes it,
# once, when Redis takes it, marked late.
SCRIPT=0070-alert-retry
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:1
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    match: {any: [地震]}
    alert: {window: 30s, threshold: 50, cooldown: 30m}
YAML
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null
now=$(date +%s)
S=$(( (now - 400) / 10 * 10 ))
awk -v S="$S" 'BEGIN {
	for (b = 0; b < 30; b++)
		printf "{\"id\":\"c%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", b, S + b * 10
	for (i = 0; i < 80; i++)
		printf "{\"id\":\"q%d\",\"text\":\"地震了\",\"time\":%d}\n", i, S + 200 + i % 10
}' | sort -t: -k4 -n >"$T/posts.jsonl"

rcli SET tidewatch:alert-log not-a-stream >/dev/null
rcli PSUBSCRIBE 'tidewatch:alerts:*' >"$T/sub.out" &
track_pid $!
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMPAT | grep -qx 1"
start_daemon tw "$T/tw.yaml"
produce "$T/posts.jsonl"
check "publishing fails while the stream key is broken" \
    wait_for 30 grep -q 'cannot publish alert' "$T/tw.log"
sleep 2
check "nothing published meanwhile" test "$(grep -c '^{' "$T/sub.out")" -eq 0
check "the dedup key was given back" \
    test -z "$(rcli --scan --pattern 'tidewatch:dedup:*')"
rcli DEL tidewatch:alert-log >/dev/null
check "published once Redis takes it" \
    wait_for 15 grep -q '"state":"firing","topic":"quake"' "$T/sub.out"
sleep 2
check "published exactly once" test "$(grep -c '"state":"firing"' "$T/sub.out")" -eq 1
check "marked late" grep -q '"late":true' "$T/sub.out"
check "in the alert log too, once" test "$(rcli XRANGE tidewatch:alert-log - + | grep -c '"state":"firing"')" -eq 1
kill -TERM "$tw_PID"
wait "$tw_PID"
