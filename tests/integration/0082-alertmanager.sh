#!/bin/sh
# Alerts delivered through Prometheus Alertmanager, the real one: two
# Alertmanagers (an HA pair, not clustered, each notifying its own
# webhook sink) get every alert.  A burst arrives at the sinks with its
# labels and annotations, then resolved; a silence added with amtool
# suppresses a topic; with one Alertmanager stopped for 30 s (and the daemon
# restarted meanwhile) an alert waits in the alert log and arrives once
# the Alertmanager is back, notified once.  The posts carry their own
# times, so the windows follow the posts, not the clock.
SCRIPT=0082-alertmanager
. tests/integration/helpers.sh
need kcat redis-server redis-cli prometheus-alertmanager amtool curl

# the duty-rota example of docs/operations.md is a valid alertmanager.yml
awk '/^\*\*Routing for a duty rota/ { f = 1 } f && /^```yaml/ { g = 1; next }
    g && /^```/ { exit } g' docs/operations.md >"$T/rota.yml"
check "docs/operations.md: the duty rota passes amtool check-config" \
    sh -c "test -s '$T/rota.yml' && amtool check-config '$T/rota.yml' >/dev/null 2>&1"

start_redis
start_kafka posts:1

# start_am N: Alertmanager N on AM<N>_PORT, notifying sink N.
start_am() {
	_port=$(eval echo "\$AM$1_PORT")
	prometheus-alertmanager --config.file="$T/am$1.yml" \
	    --storage.path="$T/am$1" --web.listen-address="127.0.0.1:$_port" \
	    --cluster.listen-address= >>"$T/am$1.log" 2>&1 &
	eval "AM$1_PID=$!"
	track_pid $!
	wait_for 20 curl -sf "http://127.0.0.1:$_port/-/ready" || {
		echo "FAIL $SCRIPT: alertmanager $1 did not start"
		cat "$T/am$1.log"; exit 1; }
}

for n in 1 2; do
	port=$(free_port)
	sport=$(free_port)
	eval "AM${n}_PORT=$port SINK${n}_PORT=$sport"
	"$BUILD"/tests/webhook-sink "$sport" "$T/sink$n.out" 2>>"$T/sink.err" &
	track_pid $!
	cat >"$T/am$n.yml" <<EOF
route:
  receiver: sink
  group_by: [topic]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: sink
    webhook_configs:
      - url: http://127.0.0.1:$sport/
        send_resolved: true
EOF
	start_am $n
done

mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    name: 地震
    tags: [disaster, sichuan]
    match: {any: [地震]}
    alert: {window: 30s, threshold: 50, cooldown: 1h, resolve_after: 30s,
            severity: warning}
  - id: flood
    name: 洪水
    match: {any: [洪水]}
    alert: {window: 30s, threshold: 50, cooldown: 1h, resolve_after: 30s,
            severity: critical}
  - id: storm
    name: 暴风
    match: {any: [暴风]}
    alert: {window: 30s, threshold: 50, cooldown: 1h, resolve_after: 30s,
            severity: critical}
YAML
# a third URL: a webhook sink standing in for an Alertmanager, to see
# what is posted (times, the bearer token)
FAKE_PORT=$(free_port)
"$BUILD"/tests/webhook-sink "$FAKE_PORT" "$T/fake.out" 2>>"$T/sink.err" &
track_pid $!
printf 's3cret-token\n' >"$T/token"
MPORT=$(free_port)
cat >"$T/tw.yaml" <<EOF
kafka: {brokers: "$BROKERS", topics: [posts], group: tw}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 250ms}
rules: {paths: ["$T/rules"]}
metrics: {listen: "127.0.0.1:$MPORT"}
alertmanager:
  urls: ["http://127.0.0.1:$AM1_PORT", "http://127.0.0.1:$AM2_PORT/",
         "http://127.0.0.1:$FAKE_PORT"]
  bearer_token_file: "$T/token"
  resend_interval: 2s
  retry_max: 2s
  timeout: 2s
web: {base_url: "http://tw.example/"}
EOF

# posts FROM TO [TEXT N AT]: one chatter post per 10 s bucket in
# [S+FROM, S+TO), and N posts of TEXT in the bucket at S+AT.
now=$(date +%s)
S=$(( (now - 1500) / 10 * 10 ))
seq=0
posts() {
	seq=$((seq + 1))
	awk -v S="$S" -v from="$1" -v to="$2" -v text="$3" -v n="${4:-0}" \
	    -v at="${5:-0}" -v k="$seq" 'BEGIN {
		for (t = from; t < to; t += 10)
			printf "{\"id\":\"c%d-%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", k, t, S + t + 1
		for (i = 0; i < n; i++)
			printf "{\"id\":\"b%d-%d\",\"text\":\"%s\",\"time\":%d}\n", k, i, text, S + at + i % 10
	}' >"$T/posts$seq.jsonl"
	produce "$T/posts$seq.jsonl"
}

# notes N TOPIC STATE: the notifications sink N got for TOPIC in STATE.
notes() {
	grep "\"status\":\"$3\"" "$T/sink$1.out" 2>/dev/null |
	    grep "\"groupLabels\":{\"topic\":\"$2\"}"
}
has_note() { [ -n "$(notes "$@")" ]; }
# metric NAME: its value in the daemon's /metrics.
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

start_daemon tw "$T/tw.yaml"

# --- a burst: firing at both sinks, with labels and annotations
posts 0 620 "四川地震了好晃" 100 600
check "quake firing reached sink 1" wait_for 40 has_note 1 quake firing
check "quake firing reached sink 2 (every URL)" wait_for 10 has_note 2 quake firing
q=$(notes 1 quake firing | head -1)
for want in '"alertname":"TidewatchTopic"' '"topic":"quake"' \
    '"severity":"warning"' '"block":"0"' '"tags":",disaster,sichuan,"' \
    '"link":"http://tw.example/topics/quake"' \
    '"generatorURL":"http://tw.example/topics/quake"' \
    '"top_keywords":"地震 100' '"samples":"四川地震了好晃' \
    '"summary":"地震: 100 posts in 30 s' '"count":"100 posts vs baseline'; do
	check "quake firing has $want" sh -c 'printf "%s" "$1" | grep -qF "$2"' _ "$q" "$want" ||
	    echo "  got: $q"
done

# --- the burst ends: resolved
posts 620 720
check "quake resolved reached sink 1" wait_for 40 has_note 1 quake resolved
check "quake resolved reached sink 2" wait_for 10 has_note 2 quake resolved
check "posts carry the bearer token" \
    grep -qx 'Authorization: Bearer s3cret-token' "$T/fake.out"
# the first endsAt after a summary: that alert's (times follow annotations)
ends_after() {
	sed -n "s/.*\"summary\":\"$1\(.*\)/\1/p" "$T/fake.out" | head -1 |
	    grep -o '"endsAt":"[^"]*"' | head -1 | sed 's/.*:"//; s/"$//'
}
now=$(date +%s)
e=$(ends_after '地震: 100 posts')
check "firing: endsAt ahead ($e)" sh -c \
    "[ -n '$e' ] && [ \$(date -d '$e' +%s) -gt $now ]"
e=$(ends_after '地震: back to normal')
check "resolved: endsAt in the past ($e)" sh -c \
    "[ -n '$e' ] && [ \$(date -d '$e' +%s) -le $now ]"

# --- a silence on topic=flood: Alertmanager has the alert, nobody is told
for n in 1 2; do
	port=$(eval echo "\$AM${n}_PORT")
	check "amtool adds a silence on alertmanager $n" sh -c \
	    'amtool --alertmanager.url="$1" silence add topic=flood \
	    --comment=test --author=test --duration=1h >/dev/null' _ \
	    "http://127.0.0.1:$port"
done
posts 720 770 "洪水来了" 100 730
for n in 1 2; do
	port=$(eval echo "\$AM${n}_PORT")
	check "alertmanager $n holds flood, suppressed" wait_for 40 sh -c \
	    "curl -s 'http://127.0.0.1:$port/api/v2/alerts?filter=topic%3D%22flood%22' | grep -q '\"state\":\"suppressed\"'"
done
sleep 5
check "silenced flood never reached sink 1" sh -c "! grep -q '\"topic\":\"flood\"' '$T/sink1.out'"
check "silenced flood never reached sink 2" sh -c "! grep -q '\"topic\":\"flood\"' '$T/sink2.out'"

# --- alertmanager 1 away for 30 s, the daemon restarted meanwhile
kill "$AM1_PID"
wait "$AM1_PID" 2>/dev/null
down_at=$(date +%s)
posts 770 800 "暴风来了" 100 780
check "storm reached sink 2 while alertmanager 1 is down" wait_for 40 has_note 2 storm firing
check "the daemon logs alertmanager 1 unreachable" wait_for 10 \
    grep -q "alertmanager unreachable.*$AM1_PORT" "$T/tw.log"
check "pending alerts counted" test "$(metric tidewatch_alertmanager_pending)" -ge 1
check "failed posts counted" test "$(metric tidewatch_alertmanager_failed_total)" -ge 1
kill -TERM "$tw_PID"
wait "$tw_PID"
grep -v '^$' "$T/tw.log" >"$T/tw1.log"
: >"$T/tw.log"
start_daemon tw "$T/tw.yaml"
check "cursors stored for every URL" sh -c \
    "[ \$(redis-cli -p $REDIS_PORT hlen tidewatch:am-cursor) -eq 3 ]"
left=$((30 - ($(date +%s) - down_at)))
[ "$left" -gt 0 ] && sleep "$left"
start_am 1
check "storm reached sink 1 after alertmanager 1 came back" wait_for 40 has_note 1 storm firing
check "the restarted daemon delivered it from its cursor" \
    grep -q "alertmanager reachable again.*$AM1_PORT" "$T/tw.log"
sleep 8		# four resends and group intervals
check "storm notified once at sink 1 (resends deduplicated)" \
    test "$(notes 1 storm firing | wc -l)" -eq 1
check "storm notified once at sink 2" test "$(notes 2 storm firing | wc -l)" -eq 1
check "quake firing notified once at sink 2" test "$(notes 2 quake firing | wc -l)" -eq 1
pending_zero() { [ "$(metric tidewatch_alertmanager_pending)" = 0 ]; }
check "nothing pending at the end" wait_for 10 pending_zero
check "alerts sent counted" test "$(metric tidewatch_alertmanager_sent_total)" -ge 1
check "no error logged besides the outage" sh -c \
    "! cat '$T/tw1.log' '$T/tw.log' | grep 'level=error' | grep -qv 'alertmanager unreachable'"
kill -TERM "$tw_PID"
wait "$tw_PID"
