#!/bin/sh
# make demo: the whole product on private servers, in well under a minute.
#
# Starts redis-server and the mock Kafka (topic posts, 4 partitions) on free
# loopback ports in a temp dir, produces two hours of everyday posts timed
# in the past so the baselines are filled, starts `tidewatch run` with the
# example rules in rules/ and a `tidewatch alerts` subscriber, waits until
# the history is consumed (and checks that it raised no alert), then
# streams live posts at their own time with a burst about 食物中毒/地沟油.
# It prints the alert as `tidewatch alerts` shows it and as the alert log
# holds it, stops everything and exits 0; it exits 1, with the daemon's
# log tail, if no alert of the burst topic arrives within 30 s of the
# burst's start or another topic fires.  Where prometheus-alertmanager is
# installed it also runs one, notifying a local webhook sink, has the
# daemon deliver to it, and shows the notification Alertmanager sent
# (skipped with a note otherwise).  The daemon's web view is on a free
# loopback port, printed at the start.
#
# Run from the top of the tree (make demo does); BUILD and TIDEWATCH say
# where the binaries are, DEMO_KEEP=1 keeps the temp dir (logs, posts).
# Needs GNU date and sleep (Debian has them).

# shellcheck disable=SC2317  # functions called through trap and wait_for
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}

HIST_S=7200		# history: 2 h of posts before now
HIST_N=48000		# 6.7 posts/s
RATE_MILLI=6667		# the same rate live, posts per 1000 s
LIVE_S=36		# live stream length
BURST_AT=3		# the burst starts this long into the live stream
BURST_S=20		# and lasts this long
BURST_N=150		# posts per burst text (two texts)
BURST_TOPIC=food-safety
ALERT_WAIT_S=30		# from the burst's start
GROUP=demo

for c in redis-server redis-cli; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "demo: $c is not installed; the README's install line:" >&2
		sed -n 's/^\(sudo apt-get install -y .*\)/\1/p' README.md | head -1 >&2
		exit 1
	fi
done
for f in "$TIDEWATCH" "$BUILD"/tests/kafka-mock "$BUILD"/tests/kafka-produce \
    "$BUILD"/tests/postgen "$BUILD"/tests/freeport; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is missing; run make demo" >&2
		exit 1
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-demo.XXXXXX") || exit 1
REDIS_PID='' KAFKA_PID='' DAEMON_PID='' ALERTS_PID='' PRODUCER_PID='' STREAMER_PID=''
AM_PID='' SINK_PID=''

cleanup() {
	rc=$?
	trap - EXIT INT TERM
	: >"$T/stop"
	for p in $STREAMER_PID $PRODUCER_PID $ALERTS_PID $DAEMON_PID \
	    $KAFKA_PID $REDIS_PID $AM_PID $SINK_PID; do
		kill "$p" 2>/dev/null
	done
	for p in $STREAMER_PID $PRODUCER_PID $ALERTS_PID $DAEMON_PID \
	    $KAFKA_PID $REDIS_PID $AM_PID $SINK_PID; do
		wait "$p" 2>/dev/null
	done
	if [ -n "${DEMO_KEEP:-}" ]; then
		echo "demo: kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now_ms() { date +%s%3N; }

# secs FROM_MS [TO_MS]: elapsed seconds with one decimal.
secs() {
	_to=${2:-$(now_ms)}
	awk -v a="$1" -v b="$_to" 'BEGIN { printf "%.1f", (b - a) / 1000 }'
}

# thousands N: 48000 -> 48,000
thousands() {
	echo "$1" | awk '{ s = $0; o = ""
	    while (length(s) > 3) { o = "," substr(s, length(s) - 2) o
	        s = substr(s, 1, length(s) - 3) }
	    print s o }'
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds.
wait_for() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

die() {
	echo "demo FAILED: $*" >&2
	if [ -s "$T/daemon.log" ]; then
		echo "--- last lines of the tidewatch run log:" >&2
		tail -n 25 "$T/daemon.log" >&2
	fi
	exit 1
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# consumed: the sum of the next offsets the daemon stored in Redis.
consumed() {
	rcli hgetall "tidewatch:pos:$GROUP" | awk 'NR % 2 == 1 { f = $0; next }
	    f !~ /^[tl]:/ { s += $0 } END { print s + 0 }'
}
drained() { [ "$(consumed)" -ge "$1" ]; }

# evaluated_to SECS: the detector went through the windows up to SECS
# (field 6 of a block state is the last window end it evaluated).
evaluated_to() {
	_t=$(rcli hget "tidewatch:state:$BURST_TOPIC" 0 | awk '{ print $6 + 0 }')
	[ "${_t:-0}" -ge "$1" ]
}

# pretty: one JSON object per line -> its top-level members one per line.
pretty() {
	awk '{
		s = $0; n = length(s); depth = 0; instr = 0; esc = 0; out = ""
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1)
			if (instr) {
				out = out c
				if (esc) esc = 0
				else if (c == "\\") esc = 1
				else if (c == "\"") instr = 0
				continue
			}
			if (c == "\"") { instr = 1; out = out c; continue }
			if (c == "{" || c == "[") {
				depth++
				out = out c
				if (depth == 1) out = out "\n  "
				continue
			}
			if (c == "}" || c == "]") {
				if (depth == 1) out = out "\n"
				depth--
				out = out c
				continue
			}
			if (c == "," && depth == 1) { out = out ",\n  "; continue }
			if (c == ":" && depth == 1) { out = out ": "; continue }
			out = out c
		}
		print out
	}'
}

# --- servers
REDIS_PORT=$("$BUILD"/tests/freeport) || die "no free port"
mkdir -p "$T/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
    --appendonly no --dir "$T/redis" --daemonize no \
    >"$T/redis.log" 2>&1 </dev/null &
REDIS_PID=$!
wait_for 10 rcli ping || { cat "$T/redis.log" >&2; die "redis-server did not start"; }

"$BUILD"/tests/kafka-mock -t posts:4 >"$T/kafka.out" 2>"$T/kafka.err" </dev/null &
KAFKA_PID=$!
wait_for 10 test -s "$T/kafka.out" || { cat "$T/kafka.err" >&2; die "kafka-mock did not start"; }
BROKERS=$(head -1 "$T/kafka.out")

CFG="$T/tidewatch.yaml"
WEB_PORT=$("$BUILD"/tests/freeport) || die "no free port"
cat >"$CFG" <<EOF
kafka: {brokers: "$BROKERS", topics: [posts], group: $GROUP}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 1s}
rules: {paths: ["$TOP/rules"]}
metrics: {listen: "127.0.0.1:$WEB_PORT"}
web: {base_url: "http://127.0.0.1:$WEB_PORT"}
EOF
echo "servers: redis-server on 127.0.0.1:$REDIS_PORT, mock Kafka on $BROKERS (topic posts, 4 partitions)"
echo "web view: http://127.0.0.1:$WEB_PORT/ while the demo runs"

# --- Alertmanager, where installed: notifies a local webhook sink
if command -v prometheus-alertmanager >/dev/null 2>&1 &&
    [ -x "$BUILD"/tests/webhook-sink ]; then
	AM_PORT=$("$BUILD"/tests/freeport) || die "no free port"
	SINK_PORT=$("$BUILD"/tests/freeport) || die "no free port"
	"$BUILD"/tests/webhook-sink "$SINK_PORT" "$T/sink.out" \
	    2>"$T/sink.err" </dev/null &
	SINK_PID=$!
	cat >"$T/alertmanager.yml" <<EOF
route: {receiver: sink, group_by: [topic], group_wait: 1s, group_interval: 5s}
receivers:
  - name: sink
    webhook_configs: [{url: "http://127.0.0.1:$SINK_PORT/"}]
EOF
	prometheus-alertmanager --config.file="$T/alertmanager.yml" \
	    --storage.path="$T/am" --web.listen-address="127.0.0.1:$AM_PORT" \
	    --cluster.listen-address= >"$T/am.log" 2>&1 </dev/null &
	AM_PID=$!
	wait_for 20 grep -q "Listening on" "$T/am.log" ||
	    { cat "$T/am.log" >&2; die "prometheus-alertmanager did not start"; }
	echo "alertmanager: prometheus-alertmanager on 127.0.0.1:$AM_PORT, notifying a webhook sink on 127.0.0.1:$SINK_PORT"
	echo "alertmanager: {urls: [\"http://127.0.0.1:$AM_PORT\"]}" >>"$CFG"
else
	echo "alertmanager: prometheus-alertmanager is not installed; delivery through Alertmanager not shown"
fi

# --- history: 2 h of background posts in the past
t0=$(now_ms)
hist_end=$(date +%s)
"$BUILD"/tests/postgen -n "$HIST_N" -s $((hist_end - HIST_S)) -d "$HIST_S" \
    -r 11 -m 8 >"$T/history.jsonl" || die "postgen failed"
hist_lines=$(wc -l <"$T/history.jsonl")
"$BUILD"/tests/kafka-produce -b "$BROKERS" -t posts "$T/history.jsonl" \
    2>"$T/produce.log" || { cat "$T/produce.log" >&2; die "producing the history failed"; }
echo "history: $(thousands "$hist_lines") posts over the past $((HIST_S / 3600)) h produced ($(secs "$t0") s)"

# --- the subscriber, then the daemon
"$TIDEWATCH" alerts -c "$CFG" --count 1 >"$T/alert.txt" 2>"$T/alerts.log" &
ALERTS_PID=$!
wait_for 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT pubsub numpat)\" -ge 1 ]" ||
    { cat "$T/alerts.log" >&2; die "tidewatch alerts did not subscribe"; }

t0=$(now_ms)
"$TIDEWATCH" run -c "$CFG" >"$T/daemon.log" 2>&1 </dev/null &
DAEMON_PID=$!
wait_for 30 drained "$hist_lines" ||
    die "the daemon consumed $(consumed) of $hist_lines posts in 30 s"
# give the detector the time to go through the whole history
wait_for 5 evaluated_to $((hist_end / 10 * 10)) || sleep 2
if [ -s "$T/alert.txt" ]; then
	cat "$T/alert.txt"
	die "an alert fired during the history replay (only the burst should alert)"
fi
kill -0 "$DAEMON_PID" 2>/dev/null || die "tidewatch run exited"
echo "history: consumed and evaluated by tidewatch run with rules/ in $(secs "$t0") s; no alert"

# --- live: background at the same rate plus a burst, each post produced
# in the second it is dated
live_start=$(($(date +%s) + 1))
burst_start=$((live_start + BURST_AT))
"$BUILD"/tests/postgen -n $((LIVE_S * RATE_MILLI / 1000)) -s "$live_start" \
    -d "$LIVE_S" -r 12 -m 8 \
    -b "学校食堂发生食物中毒，多名学生送医@$BURST_AT+$BURST_S*$BURST_N" \
    -b "网曝多家餐馆使用地沟油，已有人食物中毒@$BURST_AT+$BURST_S*$BURST_N" |
    sed 's/^{"id":"p/{"id":"live-/' >"$T/live.jsonl" || die "postgen failed"
mkfifo "$T/live.fifo"
"$BUILD"/tests/kafka-produce -b "$BROKERS" -t posts "$T/live.fifo" \
    2>"$T/live-produce.log" &
PRODUCER_PID=$!
(
	last=$((live_start - 1))
	while [ "$last" -lt $((live_start + LIVE_S)) ] && [ ! -e "$T/stop" ]; do
		now=$(date +%s)
		if [ "$now" -gt "$last" ]; then
			awk -v a="$last" -v b="$now" 'match($0, /"time":[0-9]+/) {
			    t = substr($0, RSTART + 7, RLENGTH - 7) + 0
			    if (t > a && t <= b) print }' "$T/live.jsonl"
			last=$now
		fi
		sleep 0.1
	done
) >"$T/live.fifo" &
STREAMER_PID=$!
echo "live: background at $(awk -v r="$RATE_MILLI" 'BEGIN { printf "%.1f", r / 1000 }') posts/s; burst of $((2 * BURST_N)) posts about 食物中毒/地沟油 over $BURST_S s"

# --- the alert
while [ "$(date +%s)" -lt "$burst_start" ]; do
	sleep 0.1
done
t_burst=$(now_ms)
echo "burst: started; waiting for the alert (at most $ALERT_WAIT_S s)…"
deadline=$((burst_start + ALERT_WAIT_S))
while [ ! -s "$T/alert.txt" ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 0.1
done
if [ ! -s "$T/alert.txt" ]; then
	die "no alert within $ALERT_WAIT_S s of the burst's start"
fi
took=$(secs "$t_burst")
echo
echo "alert after $took s, as tidewatch alerts prints it:"
cat "$T/alert.txt"
wait_for 5 sh -c "! kill -0 $ALERTS_PID"
grep -q "($BURST_TOPIC)" "$T/alert.txt" || die "the alert is not about $BURST_TOPIC"

echo
echo "the alert log (redis-cli XRANGE tidewatch:alert-log - +):"
rcli --raw xrange tidewatch:alert-log - + >"$T/log.txt"
awk 'NR % 3 == 0' "$T/log.txt" >"$T/log.json"
pretty <"$T/log.json"
others=$(grep -v "\"topic\":\"$BURST_TOPIC\"" "$T/log.json" | grep -c .)
[ "$others" -eq 0 ] || die "$others alert(s) of other topics in the alert log"

# --- the notification Alertmanager sent
if [ -n "$AM_PID" ]; then
	echo
	if wait_for 15 grep -q "\"topic\":\"$BURST_TOPIC\"" "$T/sink.out"; then
		echo "alertmanager notified the webhook (labels and summary):"
		head -1 "$T/sink.out" | grep -o '"labels":{[^}]*}' | head -1
		head -1 "$T/sink.out" | grep -o '"summary":"[^"]*"' | head -1
	else
		die "alertmanager sent no notification of $BURST_TOPIC within 15 s"
	fi
fi

# --- stop everything
: >"$T/stop"
kill "$STREAMER_PID" 2>/dev/null
wait "$STREAMER_PID" 2>/dev/null
wait "$PRODUCER_PID" 2>/dev/null
STREAMER_PID='' PRODUCER_PID=''
kill -TERM "$DAEMON_PID"
n=100
while kill -0 "$DAEMON_PID" 2>/dev/null && [ $n -gt 0 ]; do
	sleep 0.1
	n=$((n - 1))
done
kill -0 "$DAEMON_PID" 2>/dev/null && die "tidewatch run did not stop within 10 s of SIGTERM"
wait "$DAEMON_PID"
rc=$?
DAEMON_PID=
[ "$rc" -eq 0 ] || die "tidewatch run exited with status $rc"
echo
echo "demo passed: one $BURST_TOPIC alert $took s after the burst began; servers stopped"
exit 0
