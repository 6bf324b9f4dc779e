#!/bin/sh
# A group_wait digest that cannot be written to the alert log (here the
# alert-log key has the wrong type) is not lost: the held alerts stay held,
# the digest's dedup key is given back, and once Redis takes it the digest
# goes out once, with every held alert in the log once.
SCRIPT=0072-digest-retry
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:1
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    match: {any: [地震]}
    group_wait: 30s
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
check "sending the digest fails while the stream key is broken" \
    wait_for 30 grep -q 'cannot send alert digest' "$T/tw.log"
sleep 2
check "nothing published meanwhile" test "$(grep -c '^{' "$T/sub.out")" -eq 0
check "the alert is still held" \
    sh -c "redis-cli -p $REDIS_PORT HKEYS tidewatch:held | grep -q '^a:quake:0:'"
check "the digest's dedup key was given back" \
    test -z "$(rcli --scan --pattern 'tidewatch:dedup:digest:*')"
rcli DEL tidewatch:alert-log >/dev/null
check "the digest goes out once Redis takes it" \
    wait_for 15 grep -q '"digest":true' "$T/sub.out"
sleep 2
check "one digest, holding the alert" sh -c "[ \$(grep -c '\"digest\":true' '$T/sub.out') -eq 1 ] &&
    grep '\"digest\":true' '$T/sub.out' | grep -q '\"id\":\"quake:0:[0-9]*:firing\"'"
check "the alert is in the alert log once" \
    test "$(rcli XRANGE tidewatch:alert-log - + | grep -c '"state":"firing"')" -eq 1
check "nothing is held any more" test "$(rcli EXISTS tidewatch:held)" -eq 0
kill -TERM "$tw_PID"
wait "$tw_PID"
