#!/bin/sh
# tidewatch alerts: readable lines and --json from live PUBLISHes, --since
# replays the alert log, --topic filters, no duplicates between replay and
# live, unparsable messages are shown, SIGTERM exits 0, and the subscriber
# survives a redis-server restart.  Alerts are published by hand with
# redis-cli, as alert_publish does (PUBLISH + XADD).
SCRIPT=0010-alerts-cli
. tests/integration/helpers.sh

need redis-server redis-cli

# Subscribers: patterns (all topics) or subscribers of one channel.
numpat_is() { [ "$(rcli pubsub numpat)" = "$1" ]; }
numsub_is() {
	[ "$(rcli pubsub numsub "tw:alerts:$1" | sed -n 2p)" = "$2" ]
}

# wait_exit PID SECONDS: waits for a background job; its status in $st.
wait_exit() {
	n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		st=124
		return 1
	fi
	wait "$1"
	st=$?
	return 0
}

# publish TOPIC JSON: what alert_publish does.
publish() {
	rcli publish "tw:alerts:$1" "$2" >/dev/null
	rcli xadd tw:alert-log MAXLEN '~' 100 '*' alert "$2" >/dev/null
}

start_redis

cat >"$T/cfg.yaml" <<EOF
redis:
  address: 127.0.0.1:$REDIS_PORT
  prefix: "tw:"
  timeout: 1s
log:
  level: info
EOF

A1='{"id":"food-safety:0:1795669500:firing","state":"firing","topic":"food-safety","name":"食品安全","severity":"warning","condition":"ratio","window_s":300,"window_start":"2026-11-26T05:00:00Z","window_end":"2026-11-26T05:05:00Z","count":184,"baseline_rate":23.5,"ratio":7.83,"zscore":9.1,"top_keywords":[["食物中毒",120],["地沟油",40]],"breakdown":{"region":[["广州",90],["深圳",31]]},"samples":[{"id":"p1","text":"学校食堂发生食物中毒，多名学生送医"}],"rules_file":"rules/food.yaml","detected_at":"2026-11-26T05:05:01.234Z"}'
L1='2026-11-26 05:05:00Z  WARNING  食品安全 (food-safety)  count 184 vs baseline 23.5 (×7.8)  top 食物中毒  "学校食堂发生食物中毒，多名学生送医"'
A2='{"id":"quake:0:1795670100:firing","state":"firing","topic":"quake","name":"quake","severity":"critical","condition":"zscore","window_s":600,"window_start":"2026-11-26T05:05:00Z","window_end":"2026-11-26T05:15:00Z","count":75,"baseline_rate":0,"ratio":null,"zscore":12.4,"top_keywords":[["地震",75]],"breakdown":{},"samples":[],"rules_file":"rules/quake.yaml","late":true,"detected_at":"2026-11-26T05:15:00.100Z"}'
L2='2026-11-26 05:15:00Z  CRITICAL  quake  count 75 vs baseline 0 z 12.4  top 地震  (late)'
A3='{"id":"food-safety:0:1795671300:resolved","state":"resolved","topic":"food-safety","name":"食品安全","severity":"warning","condition":"none","window_s":300,"window_start":"2026-11-26T05:30:00Z","window_end":"2026-11-26T05:35:00Z","count":12,"baseline_rate":23.5,"ratio":0.51,"zscore":-1.2,"top_keywords":[],"breakdown":{},"samples":[],"rules_file":"rules/food.yaml","detected_at":"2026-11-26T05:35:00.000Z"}'
L3='2026-11-26 05:35:00Z  RESOLVED  食品安全 (food-safety)  count 12 vs baseline 23.5 (×0.5)'

# 1. a live alert as a readable line
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --count 1 >"$T/out1" 2>"$T/err1" &
p=$!
track_pid $p
check "subscribes with PSUBSCRIBE" wait_for 10 numpat_is 1
publish food-safety "$A1"
wait_exit $p 10
check "--count 1: exits 0 after one alert" test "$st" -eq 0
printf '%s\n' "$L1" >"$T/want1"
check "readable line" same "$T/want1" "$T/out1"

# 2. --json: the raw JSON as published, for a firing and a resolved alert
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --json --count 2 >"$T/out2" 2>"$T/err2" &
p=$!
track_pid $p
wait_for 10 numpat_is 1
publish quake "$A2"
publish food-safety "$A3"
wait_exit $p 10
printf '%s\n%s\n' "$A2" "$A3" >"$T/want2"
check "--json prints the JSON exactly as published" same "$T/want2" "$T/out2"

# 3. --since 0 replays the whole log (A1, A2, A3 were XADDed)
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --since 0 --count 3 >"$T/out3" 2>"$T/err3" &
p=$!
track_pid $p
wait_exit $p 10
printf '%s\n%s\n%s\n' "$L1" "$L2" "$L3" >"$T/want3"
check "--since 0 replays the alert log in order" same "$T/want3" "$T/out3"

# --since ID: only what came after ID
first=$(rcli xrange tw:alert-log - + COUNT 1 | head -1)
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --since "$first" --count 2 >"$T/out4" 2>"$T/err4" &
p=$!
track_pid $p
wait_exit $p 10
printf '%s\n%s\n' "$L2" "$L3" >"$T/want4"
check "--since ID replays the entries after ID" same "$T/want4" "$T/out4"

# 4. --topic: live and replayed alerts of other topics are not shown
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --topic quake --json --count 1 >"$T/out5" 2>"$T/err5" &
p=$!
track_pid $p
check "--topic subscribes to one channel" wait_for 10 numsub_is quake 1
publish food-safety "$A1"
publish quake "$A2"
wait_exit $p 10
printf '%s\n' "$A2" >"$T/want5"
check "--topic shows only that topic" same "$T/want5" "$T/out5"

"$TIDEWATCH" alerts -c "$T/cfg.yaml" --topic food-safety --since 0 --count 3 >"$T/out6" 2>"$T/err6" &
p=$!
track_pid $p
wait_for 10 numsub_is food-safety 1
publish food-safety "$A1"	# a copy of a replayed alert: not shown again
A4=$(printf '%s' "$A3" | sed 's/1795671300:resolved/1795673100:resolved/; s/05:35:00Z/06:05:00Z/')
publish food-safety "$A4"
wait_exit $p 10
printf '%s\n%s\n%s\n' "$L1" "$L3" "$(printf '%s' "$L3" | sed 's/05:35:00Z/06:05:00Z/')" >"$T/want6"
check "--topic with --since: replay filtered, then live, no duplicates" \
    same "$T/want6" "$T/out6"

# 5. a message that is not JSON is shown as it is, with a warning
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --count 1 >"$T/out7" 2>"$T/err7" &
p=$!
track_pid $p
wait_for 10 numpat_is 1
rcli publish tw:alerts:x 'not json {' >/dev/null
wait_exit $p 10
check "unparsable message printed raw" test "$(cat "$T/out7")" = 'not json {'
check "unparsable message warned about" grep -q 'not valid JSON' "$T/err7"

# 6. SIGTERM ends a subscriber with status 0
"$TIDEWATCH" alerts -c "$T/cfg.yaml" >"$T/out8" 2>"$T/err8" &
p=$!
track_pid $p
wait_for 10 numpat_is 1
kill -TERM $p
wait_exit $p 5
check "SIGTERM: exit 0" test "$st" -eq 0

# 7. redis-server goes away and comes back: the subscriber reconnects
"$TIDEWATCH" alerts -c "$T/cfg.yaml" --json --count 2 >"$T/out9" 2>"$T/err9" &
p=$!
track_pid $p
wait_for 10 numpat_is 1
publish quake "$A2"
wait_for 10 test -s "$T/out9"
kill "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
check "connection loss is logged" wait_for 10 grep -q 'redis connection lost' "$T/err9"
sleep 1
start_redis	# the same port: REDIS_PORT is set
check "resubscribes after the restart" wait_for 15 numpat_is 1
publish food-safety "$A1"
wait_exit $p 10
printf '%s\n%s\n' "$A2" "$A1" >"$T/want9"
check "alert after the restart arrives" same "$T/want9" "$T/out9"
check "--count 2 across a restart: exit 0" test "$st" -eq 0
check "recovery is logged" grep -q 'redis reachable again' "$T/err9"
check "one log line per state change" \
    test "$(grep -c 'level=warn' "$T/err9")" -le 2

# 8. bad usage
"$TIDEWATCH" alerts --count x >/dev/null 2>&1
check "bad --count: usage error" test $? -eq 2
