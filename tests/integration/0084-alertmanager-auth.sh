#!/bin/sh
# Credentials sent to Alertmanager, and resolves every URL gets.  The real
# Alertmanager checks no credentials (a proxy in front of it does), so two
# webhook sinks stand in for an HA pair behind such a proxy: each refuses
# (401) a POST whose Authorization header is not the one it expects.
#   - A wrong bearer token: a clear error, failed posts counted and
#     retried, the alert kept; the token file fixed and the daemon
#     restarted, the alert reaches both with the token read from the file.
#   - The topic removed from the rules: both URLs get its resolve at once.
#   - Basic auth (username, password_file): the restarted daemon resolves
#     the gone topic again with the Basic header.
# The daemon asks Redis for the alert log's first entry only (no XREVRANGE).
SCRIPT=0084-alertmanager-auth
. tests/integration/helpers.sh
need kcat redis-server redis-cli curl base64

start_redis
start_kafka posts:1
printf 'Bearer s3cret\n' >"$T/expect"
for n in 1 2; do
	port=$(free_port)
	eval "SINK${n}_PORT=$port"
	"$BUILD"/tests/webhook-sink -a "$T/expect" "$port" "$T/sink$n.out" \
	    2>>"$T/sink.err" &
	track_pid $!
done
mkdir -p "$T/rules"
# rules ID...: one topic per id, matching its id
rules() {
	{
		echo "topics:"
		for id in "$@"; do
			echo "  - id: $id"
			echo "    match: {any: [$id]}"
			echo "    alert: {window: 30s, threshold: 50, cooldown: 1h, severity: warning}"
		done
	} >"$T/rules/t.yaml"
}
rules quake flood
printf 'wrong\n' >"$T/token"
MPORT=$(free_port)
# config AUTH-LINES: the daemon's config, with these alertmanager keys
config() {
	RULES="$T/rules" METRICS="127.0.0.1:$MPORT" write_config "$T/tw.yaml" <<EOF
alertmanager:
  urls: ["http://127.0.0.1:$SINK1_PORT", "http://127.0.0.1:$SINK2_PORT"]
  resend_interval: 1h
  retry_max: 500ms
  timeout: 2s
$1
EOF
}
config "  bearer_token_file: \"$T/token\""
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
metric_ge() { [ "$(metric "$1")" -ge "$2" ] 2>/dev/null; }
# quake_ends N: endsAt of the last alert sink N took for quake
quake_ends() {
	grep '"topic":"quake"' "$T/sink$1.out" | tail -1 |
	    grep -o '"endsAt":"[^"]*"' | sed 's/.*:"//; s/"$//'
}
resolved_at() {
	e=$(quake_ends "$1")
	[ -n "$e" ] && [ "$(date -d "$e" +%s)" -le "$(date +%s)" ]
}
stop_daemon() {
	kill -TERM "$tw_PID"
	wait "$tw_PID"
	check "the daemon exits 0 on SIGTERM" test $? -eq 0
}

start_daemon tw "$T/tw.yaml"
now=$(date +%s)
S=$(( (now - 1500) / 10 * 10 ))
awk -v S="$S" 'BEGIN {
	for (t = 0; t < 620; t += 10)
		printf "{\"id\":\"c%d\",\"text\":\"chatter\",\"time\":%d}\n", t, S + t + 1
	for (i = 0; i < 100; i++)
		printf "{\"id\":\"q%d\",\"text\":\"quake now\",\"time\":%d}\n", i, S + 600 + i % 10
}' >"$T/posts.jsonl"
produce "$T/posts.jsonl"

# --- a wrong token: refused, logged, counted, retried; nothing taken
check "a wrong token gives a clear error" wait_for 40 grep -q \
    "alertmanager refused the credentials, retrying: check alertmanager.bearer_token_file.*HTTP 401" "$T/tw.log"
check "failed posts counted and retried" wait_for 10 metric_ge \
    tidewatch_alertmanager_failed_total 4
check "the alert is pending" metric_ge tidewatch_alertmanager_pending 1
check "the sinks saw the wrong token" grep -q \
    '^refused Authorization: Bearer wrong$' "$T/sink2.out"
check "nothing taken with the wrong token" sh -c \
    "! grep -q '\"topic\":\"quake\"' '$T/sink1.out' '$T/sink2.out'"

# --- the token fixed, the daemon restarted: delivered from the cursor
printf 's3cret\n' >"$T/token"
stop_daemon
start_daemon tw "$T/tw.yaml"
for n in 1 2; do
	check "quake reached sink $n with the right token" wait_for 20 \
	    grep -q '"topic":"quake"' "$T/sink$n.out"
	check "sink $n got the token read from the file" \
	    grep -qx 'Authorization: Bearer s3cret' "$T/sink$n.out"
done
pending_zero() { [ "$(metric tidewatch_alertmanager_pending)" = 0 ]; }
check "nothing pending" wait_for 10 pending_zero

# --- quake removed from the rules: every URL gets the resolve
rules flood
kill -HUP "$tw_PID"
check "rules reloaded" wait_for 10 grep -q 'msg="rules reloaded" topics=1' "$T/tw.log"
check "the resolve reached sink 1" wait_for 10 resolved_at 1
check "the resolve reached sink 2 (every URL)" wait_for 10 resolved_at 2
stop_daemon

# --- basic auth: the gone topic resolved again after a restart
printf 'pw\n' >"$T/pw"
config "  username: tw
  password_file: \"$T/pw\""
printf 'Basic %s\n' "$(printf 'tw:pw' | base64)" >"$T/expect"
: >"$T/sink1.out"
: >"$T/sink2.out"
start_daemon tw "$T/tw.yaml"
for n in 1 2; do
	check "sink $n took the resolve with basic auth" wait_for 20 resolved_at $n
	check "sink $n got the Basic header" \
	    grep -qx 'Authorization: Basic dHc6cHc=' "$T/sink$n.out"
done
check "no error logged besides the refused credentials" sh -c \
    "! grep 'level=error' '$T/tw.log' | grep -qv 'refused the credentials'"
check "no XREVRANGE sent to Redis" sh -c \
    "! redis-cli -p $REDIS_PORT info commandstats | grep -q xrevrange"
stop_daemon
