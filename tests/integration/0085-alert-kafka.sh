#!/bin/sh
# alerts.kafka_topic: the leader produces every alert of the alert log to a
# Kafka topic, the same JSON, keyed by the alert's topic.  Deliveries fail
# (the mock refuses every Produce): counted, logged, retried; the daemon is
# restarted meanwhile and, the broker fixed, delivers the alert from its
# durable cursor; a later alert follows, and none arrives twice.
SCRIPT=0085-alert-kafka
. tests/integration/helpers.sh
need kcat redis-server redis-cli curl

start_redis
start_kafka posts:1 alerts-out:1
ctl() { echo "$*" >"$KAFKA_CTL"; }
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    match: {any: [quake]}
    alert: {window: 30s, threshold: 50, cooldown: 1h}
  - id: flood
    match: {any: [flood]}
    alert: {window: 30s, threshold: 50, cooldown: 1h}
YAML
MPORT=$(free_port)
RULES="$T/rules" METRICS="127.0.0.1:$MPORT" write_config "$T/tw.yaml" <<EOF
alerts: {kafka_topic: alerts-out}
alertmanager: {retry_max: 1s}
EOF
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
metric_ge() { [ "$(metric "$1")" -ge "$2" ] 2>/dev/null; }
stop_daemon() {
	kill -TERM "$tw_PID"
	wait "$tw_PID"
	check "the daemon exits 0 on SIGTERM" test $? -eq 0
}
# out: the alert topic as "key<TAB>value" lines
out() { kcat -C -b "$BROKERS" -t alerts-out -e -q -f '%k\t%s\n' 2>/dev/null; }
out_has() { [ "$(out | grep -c "^$1	")" -ge 1 ]; }
# logged: the alert log's documents, in order
logged() { rcli xrange tidewatch:alert-log - + | grep '^{'; }

now=$(date +%s)
S=$(( (now - 1500) / 10 * 10 ))
# burst WORD FROM: chatter up to FROM + 20 s, and 100 posts of WORD at FROM
burst() {
	awk -v S="$S" -v w="$1" -v at="$2" 'BEGIN {
		for (t = at - 600; t < at + 20; t += 10)
			printf "{\"id\":\"c%s%d\",\"text\":\"chatter\",\"time\":%d}\n", w, t, S + t + 1
		for (i = 0; i < 100; i++)
			printf "{\"id\":\"%s%d\",\"text\":\"%s now\",\"time\":%d}\n", w, i, w, S + at + i % 10
	}' >"$T/$1.jsonl"
	produce "$T/$1.jsonl"
}

burst quake 600
ctl request-errors Produce 100000 TOPIC_AUTHORIZATION_FAILED
start_daemon tw "$T/tw.yaml"
check "the alert is in the alert log" wait_for 40 sh -c \
    "redis-cli -p $REDIS_PORT xrange tidewatch:alert-log - + | grep -q '\"topic\":\"quake\"'"
check "a failed delivery is logged" wait_for 10 grep -q \
    'msg="kafka alert topic delivery failed, retrying" topic=alerts-out pending=1 error="Broker: Topic authorization failed"' "$T/tw.log"
check "failed deliveries counted, retried" wait_for 10 metric_ge \
    tidewatch_alert_kafka_failed_total 3
check "the alert is pending" metric_ge tidewatch_alert_kafka_pending 1
stop_daemon
check "nothing reached the alert topic" test -z "$(out)"

# the broker fixed, the daemon restarted: delivered from the cursor
ctl clear-request-errors Produce
start_daemon tw "$T/tw.yaml"
check "the alert reached the topic after the restart" wait_for 20 out_has quake
burst flood 1300
check "a later alert follows" wait_for 40 out_has flood
logged >"$T/want"
out | cut -f2 >"$T/got"
check "the topic holds the alert log's documents, each once, in order" \
    same "$T/want" "$T/got"
keyed() {
	out | awk -F '\t' '{ k = $2; sub(/.*"topic":"/, "", k); sub(/".*/, "", k)
	    if (k != $1) bad++ } END { exit NR == 0 || bad }'
}
check "each keyed by the alert's topic" keyed
check "deliveries counted" metric_ge tidewatch_alert_kafka_sent_total 2
check "nothing pending" test "$(metric tidewatch_alert_kafka_pending)" = 0
check "the cursor is stored" sh -c \
    "[ \"\$(redis-cli -p $REDIS_PORT hget tidewatch:am-cursor kafka:alerts-out)\" = \
    \"\$(redis-cli -p $REDIS_PORT xrevrange tidewatch:alert-log + - count 1 | head -1)\" ]"
stop_daemon
check "no error logged besides the refused deliveries" sh -c \
    "! grep 'level=error' '$T/tw.log' | grep -qv 'kafka alert topic delivery failed'"
