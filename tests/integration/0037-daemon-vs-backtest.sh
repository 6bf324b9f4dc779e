#!/bin/sh
# The daemon and `tidewatch backtest` over the same posts give the same
# alerts and the same counts.  One stream of posts (an hour of background,
# 70 to 10 minutes ago) carries a burst for every kind of alert: a
# threshold with two blocks that repeats and resolves, ratio, zscore,
# poisson, an EWMA baseline, a seasonal baseline (a bump every period that
# is normal, then one out of season), a child topic inhibited by its parent,
# and two group_wait topics that go out as one digest.  The same posts go
# to the daemon through the mock Kafka and to backtest as a file, with the
# same rules and config; the alerts are compared field by field by
# tests/tools/alertcmp, the counters per topic and bucket in Redis with
# tidewatch match's, and the totals and peaks per topic with backtest's
# summary.
#
# The daemon evaluates the newest, still filling window at every tick (so a
# burst alerts within one flush), which makes the count of such an alert
# depend on where the stream was cut into flushes; backtest evaluates each
# window once it is complete.  So the daemon first counts every post with
# the topics' alert blocks left out, then the alert blocks come in by a
# rule reload: blocks never evaluated go through the whole counted history
# in one pass over complete windows, as backtest does.
SCRIPT=0037-daemon-vs-backtest
. tests/integration/helpers.sh
need redis-server redis-cli

# Rules: every alert block on one line, so that the counting phase can
# leave them out with grep.
cat >"$T/all.yaml" <<'YAML'
topics:
  - id: thr
    name: 停电
    match: {any: [停电, 断电]}
    count_by: [region]
    alert: [{window: 30s, threshold: 60, cooldown: 1m, resolve_after: 30s}, {window: 30s, threshold: 120, severity: critical}]
  - id: child
    match: {any: [变电站]}
    inhibit: [thr]
    alert: {window: 30s, threshold: 30}
  - id: rat
    name: 地震
    match: {any: [地震, 余震]}
    count_by: [region]
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 20, cooldown: 2m}
  - id: zsc
    match: {any: [洪水]}
    alert: {window: 30s, baseline: 5m, zscore: 5, min_count: 20}
  - id: poi
    match: {any: [火灾]}
    alert: {window: 30s, baseline: 5m, poisson: {p: 0.001, factor: 1}, min_count: 10}
  - id: ewm
    match: {any: [食物中毒]}
    alert: {window: 30s, baseline: {halflife: 5m, exclude: 20}, zscore: 6, min_count: 20}
  - id: sea
    match: {any: [堵车]}
    alert: {window: 30s, baseline: {period: 10m, lookback: 3}, ratio: 3, min_count: 20}
  - id: gw-a
    match: {any: [台风]}
    group_wait: 30s
    alert: {window: 30s, threshold: 40}
  - id: gw-b
    match: {any: [暴雨]}
    group_wait: 1m
    alert: {window: 30s, threshold: 40}
YAML
mkdir -p "$T/rules"
grep -v '^    alert:' "$T/all.yaml" >"$T/rules/t.yaml"

# S: the first bucket, 70 minutes ago; 360 buckets of 10 s.
now=$(date +%s)
S=$(( (now - 4200) / 10 * 10 ))
awk -v S="$S" '
function post(text, t, region) {
	if (region != "")
		printf "{\"id\":\"p%d\",\"text\":\"%s\",\"time\":%d,\"region\":\"%s\"}\n", ++n, text, t, region
	else
		printf "{\"id\":\"p%d\",\"text\":\"%s\",\"time\":%d}\n", ++n, text, t
}
function burst(k, text, b, region2,   i) {
	for (i = 0; i < k; i++)
		post(text, b * 10 + S + i % 10, i % 4 ? region2 : "")
}
BEGIN {
	for (b = 0; b < 360; b++) {
		t = S + b * 10
		post("今天天气很好", t + 1, "")
		# background of each topic
		if (b % 3 == 0) post("又停电了", t + 2, "北京")
		post("刚才好像地震了", t + 3, "四川")
		burst(1 + b % 2, "洪水预警", b, "")
		burst(2, "火灾演习", b, "")
		burst(1 + (b % 5 == 0), "食物中毒事件", b, "")
		post("堵车", t + 4, "")
		# thr: 200 s high (25 a bucket, 45 in the middle), with its
		# child inside; then the other bursts, one after the other
		if (b >= 100 && b < 120) {
			burst(25, "停电了", b, "上海")
			burst(8, "小区断电", b, "上海")
		}
		if (b >= 105 && b < 109) burst(20, "全城停电", b, "广州")
		if (b >= 110 && b < 113) burst(15, "变电站着火", b, "")
		if (b >= 150 && b < 153) {
			burst(30, "地震了好晃", b, "成都")
			burst(10, "又一次余震", b, "绵阳")
		}
		if (b == 170) burst(30, "洪水来了", b, "")
		if (b >= 190 && b < 192) burst(15, "火灾现场", b, "")
		if (b >= 220 && b < 223) burst(20, "食物中毒住院", b, "")
		# sea: a bump at the same phase of every 10 minutes, then one
		# out of season
		if (b % 60 >= 30 && b % 60 < 33) burst(10, "下班堵车", b, "")
		if (b >= 260 && b < 263) burst(30, "严重堵车", b, "")
		if (b >= 300 && b < 303) burst(20, "台风登陆", b, "")
		if (b >= 302 && b < 305) burst(20, "暴雨红色预警", b, "")
	}
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

# --- the daemon: count every post, then the alert blocks by a reload
start_redis
start_kafka posts:2
# samples of every bucket of the hour stay in Redis (the default keeps the
# newest 100 per topic), so that alerts on old windows carry them as
# backtest's do
RULES="$T/rules" write_config "$T/tw.yaml" <<'EOF'
alerts: {samples_per_topic: 5000}
EOF
start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
check "daemon: all $n posts consumed" all_consumed "$n"

redis-cli -p "$REDIS_PORT" PSUBSCRIBE 'tidewatch:alerts:*' >"$T/sub.out" &
track_pid $!
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMPAT | grep -qx 1"
cp "$T/all.yaml" "$T/rules/t.yaml"
kill -HUP "$tw_PID"
wait_for 10 grep -q 'msg="rules reloaded"' "$T/tw.log"
# the pass is over once every topic's block states are saved and the alert
# log has stopped growing
wait_for 30 sh -c "[ \$(redis-cli -p $REDIS_PORT --scan --pattern 'tidewatch:state:*' | grep -vc _ops) -eq 9 ]"
last=-1
i=0
while [ $i -lt 30 ]; do
	sleep 1
	cur=$(rcli XLEN tidewatch:alert-log)
	[ "$cur" != "$last" ] || break
	last=$cur
	i=$((i + 1))
done
kill -TERM "$tw_PID"
wait "$tw_PID"
check "daemon: exit 0" test $? -eq 0

# the published alerts and digests (not the _ops channel's)
awk '$0 == "pmessage" { getline; getline; ch = $0; getline
	if (ch != "tidewatch:alerts:_ops") print }' "$T/sub.out" >"$T/daemon.jsonl"

# --- backtest: the same posts, rules and config
"$TIDEWATCH" backtest -r "$T/rules" -c "$T/tw.yaml" --json "$T/posts.jsonl" \
    >"$T/backtest.jsonl" 2>"$T/backtest.err"
check "backtest: exit 0" test $? -eq 0

# --- the stream fires every kind of alert (else the comparison proves
#     little): checked on the daemon's alerts
grep -v '"digest":true' "$T/daemon.jsonl" >"$T/single"
grep '"digest":true' "$T/daemon.jsonl" >"$T/digests"
has() { grep "\"topic\":\"$1\"" "$T/single" | grep -q "$2"; }
check "thr: fires on its threshold" has thr '"id":"thr:0:[0-9]*:firing","state":"firing".*"condition":"threshold"'
check "thr: repeats" has thr '"repeat":true'
check "thr: resolves" has thr '"state":"resolved"'
check "thr: its second block fires" has thr '"id":"thr:1:[0-9]*:firing".*"severity":"critical"'
check "rat: fires on ratio" has rat '"condition":"ratio"'
check "zsc: fires on zscore" has zsc '"condition":"zscore"'
check "poi: fires on poisson" has poi '"condition":"poisson"'
check "ewm: fires (EWMA baseline)" has ewm '"state":"firing"'
check "sea: fires out of season" has sea "\"id\":\"sea:0:$((S + 2610)):firing\""
check "gw-a and gw-b: one digest of both" sh -c "[ \$(wc -l <'$T/digests') -eq 1 ] &&
    grep -q '\"count\":2,\"alerts\":\[{\"id\":\"gw-a:0:[0-9]*:firing\".*{\"id\":\"gw-b:0:[0-9]*:firing\"' '$T/digests'"

# --- the alerts, field by field.  Left out:
#   detected_at  the daemon's wall clock; backtest gives the window end
#   late         the daemon's window end against its wall clock; backtest
#                has no wall clock
# Samples are compared too: both sides keep the newest posts of each
# bucket (by time, then by their JSON), however the stream was cut into
# flushes, and give the window's newest.  Below, each sample is also
# checked to be a post of the stream inside its alert's window.
"$BUILD"/tests/alertcmp -x detected_at -x late \
    daemon="$T/daemon.jsonl" backtest="$T/backtest.jsonl" >"$T/cmp.out" 2>&1
check "daemon and backtest: the same alerts ($(tail -1 "$T/cmp.out"))" test $? -eq 0 ||
    cat "$T/cmp.out"

# samples_checked FILE: every sample of every alert in FILE (one alert a
# line) is a post of the stream, with its text, inside the alert's window;
# prints the number of samples checked, or the first bad one.
samples_checked() {
	awk 'NR == FNR {
		match($0, /"id":"[^"]*"/); id = substr($0, RSTART + 6, RLENGTH - 7)
		match($0, /"text":"[^"]*"/); text[id] = substr($0, RSTART, RLENGTH)
		match($0, /"time":[0-9]*/); time[id] = substr($0, RSTART + 7, RLENGTH - 7)
		next
	}
	{
		match($0, /^{"id":"[^"]*"/); split(substr($0, 8, RLENGTH - 8), a, ":")
		match($0, /"window_s":[0-9]*/); w = substr($0, RSTART + 11, RLENGTH - 11)
		if (!match($0, /"samples":\[[^]]*\]/)) next
		s = substr($0, RSTART + 11, RLENGTH - 12)
		while (match(s, /{"id":"[^"]*","text":"[^"]*"}/)) {
			m = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
			match(m, /"id":"[^"]*"/); id = substr(m, RSTART + 6, RLENGTH - 7)
			match(m, /"text":"[^"]*"/); tx = substr(m, RSTART, RLENGTH)
			if (!(id in time) || text[id] != tx ||
			    time[id] < a[3] - w || time[id] >= a[3]) {
				print "bad sample " m " in " a[1] ":" a[2] ":" a[3]
				exit 1
			}
			n++
		}
	}
	END { print n + 0 }' "$T/posts.jsonl" "$1"
}
# one alert a line, those inside the digest too
flatten() {
	sed 's/,{"id":"\([a-z0-9-]*:[0-9]*:[0-9]*:[a-z]*"\)/\n{"id":"\1/g' "$1" |
	    grep '"state"'
}
flatten "$T/daemon.jsonl" >"$T/daemon.flat"
flatten "$T/backtest.jsonl" >"$T/backtest.flat"
for side in daemon backtest; do
	r=$(samples_checked "$T/$side.flat")
	check "$side: every sample is a post of its alert's window ($r)" \
	    sh -c "[ '$r' -gt 0 ] 2>/dev/null"
done

# --- the counts: Redis per topic and bucket against tidewatch match's
check "daemon: counters per topic and bucket are tidewatch match's" \
    counts_match "$T/posts.jsonl" "$T/rules"

# per topic: posts, the peak of the first block's 30 s window, and the
# alerts fired, repeated and resolved — Redis and the daemon's alerts
# against backtest's summary
redis_counts >"$T/counts"
awk 'NR == FNR {
	if ($1 == "_all") next
	c[$1 " " $2] = $3; posts[$1] += $3; topic[$1] = 1
	next
}
/"repeat":true/ { match($0, /"topic":"[^"]*"/); rep[substr($0, RSTART + 9, RLENGTH - 10)]++; next }
/"state":"firing"/ { match($0, /"topic":"[^"]*"/); fired[substr($0, RSTART + 9, RLENGTH - 10)]++; next }
/"state":"resolved"/ { match($0, /"topic":"[^"]*"/); res[substr($0, RSTART + 9, RLENGTH - 10)]++; next }
END {
	for (k in c) {
		split(k, f, " ")
		s = c[k]
		if ((f[1] " " f[2] - 10) in c) s += c[f[1] " " f[2] - 10]
		if ((f[1] " " f[2] - 20) in c) s += c[f[1] " " f[2] - 20]
		if (s > peak[f[1]]) peak[f[1]] = s
	}
	for (t in topic)
		printf "%s posts %d peak %d fired %d repeats %d resolved %d\n", t,
		    posts[t], peak[t], fired[t], rep[t], res[t]
}' "$T/counts" "$T/daemon.flat" | sort >"$T/daemon.sum"
tail -1 "$T/backtest.jsonl" | sed 's/.*"topics":\[//; s/\]}}$//; s/},{/}\n{/g' |
    sed -n 's/^{"id":"\([^"]*\)","posts":\([0-9]*\),"peak":\([0-9]*\),"fired":\([0-9]*\),"repeats":\([0-9]*\),"resolved":\([0-9]*\),.*/\1 posts \2 peak \3 fired \4 repeats \5 resolved \6/p' |
    sort >"$T/backtest.sum"
check "per topic: posts, peak, fired, repeats, resolved are backtest's summary" \
    same "$T/daemon.sum" "$T/backtest.sum"
check "child: high while thr fires (peak 30 or more), but no alert" \
    grep -q '^child posts [0-9]* peak \([3-9][0-9]\|[1-9][0-9][0-9]\) fired 0 repeats 0 resolved 0$' "$T/daemon.sum"
all=$(awk '$1 == "_all" { s += $3 } END { print s + 0 }' "$T/counts")
check "every post counted: Redis _all $all, backtest posts" \
    grep -q "^{\"summary\":{\"posts\":$all,\"matched\":[0-9]*,\"rejected\":0,\"no_time\":0," "$T/backtest.jsonl"
