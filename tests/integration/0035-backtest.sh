#!/bin/sh
# tidewatch backtest, offline, on the posts of 0030-alerts: what only
# backtest does to an alert (detected at the window end, never late), the
# window's newest posts as samples (as the daemon picks them), its summary
# and stderr totals; file order and threads do not matter; the text output; posts without a time
# are errors; group_wait digests and inhibit; --series over a count series
# and --alert errors as path:line:col.  That backtest gives the daemon's
# alerts, field by field, is 0037-daemon-vs-backtest's comparison.
SCRIPT=0035-backtest
. tests/integration/helpers.sh

mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    name: 地震
    match: {any: [地震]}
    count_by: [region]
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 20,
            cooldown: 2m, resolve_after: 30s, severity: warning}
  - id: flood
    name: 洪水
    match: {any: [洪水]}
    alert: {window: 30s, threshold: 60, cooldown: 2m, resolve_after: 30s,
            severity: critical}
  - id: lonely
    match: {any: [孤独的关键词]}
    alert: {window: 30s, baseline: 5m, ratio: 2, min_count: 1}
YAML
S=1795669200
awk -v S="$S" 'BEGIN {
	n = 0
	for (b = 0; b < 150; b++) {
		t = S + b * 10
		printf "{\"id\":\"q%d\",\"text\":\"小地震，没事\",\"time\":%d,\"region\":\"四川\"}\n", ++n, t + 1
		printf "{\"id\":\"c%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", ++n, t + 2
		if (b == 60)
			for (i = 0; i < 100; i++)
				printf "{\"id\":\"qb%d\",\"text\":\"刚才地震了好晃\",\"time\":%d,\"region\":\"%s\"}\n", ++n, t + i % 10, (i % 4 ? "成都" : "绵阳")
		if (b >= 60 && b < 90)
			for (i = 0; i < 30; i++)
				printf "{\"id\":\"f%d\",\"text\":\"洪水来了\",\"time\":%d}\n", ++n, t + i % 10
	}
	printf "{\"id\":\"lonely\",\"text\":\"孤独的关键词\",\"time\":%d}\n", S + 1000
}' >"$T/posts.jsonl"
iso() { date -u -d @"$1" +%Y-%m-%dT%H:%M:%SZ; }

"$TIDEWATCH" backtest -r "$T/rules" --json "$T/posts.jsonl" >"$T/out" 2>"$T/err"
check "exit status 0" test $? -eq 0
grep '"state"' "$T/out" >"$T/alerts"
sel() { grep "\"topic\":\"$1\"" "$T/alerts" | grep "\"state\":\"$2\""; }
has() { case "$1" in *"$2"*) return 0;; *) return 1;; esac; }
q=$(sel quake firing)
check "quake: exactly one firing" test "$(sel quake firing | wc -l)" -eq 1
# the newest of the window [S+580, S+610): the burst's posts at S+609, the
# greatest JSON first (qb222 > qb212 > qb202), as a Redis sorted set
# scored by time gives them
check "quake: the window's newest posts as samples" has "$q" '"samples":[{"id":"qb222","text":"刚才地震了好晃"},{"id":"qb212","text":"刚才地震了好晃"},{"id":"qb202","text":"刚才地震了好晃"}]'
check "quake: detected at the window end" has "$q" "\"detected_at\":\"$(iso $((S + 610)) | sed 's/Z$//').000Z\""
check "quake: not late" sh -c "! echo '$q' | grep -q late"
sum=$(tail -1 "$T/out")
check "summary line" has "$sum" '{"summary":{"posts":1301,"matched":1151,"rejected":0,"no_time":0,"alerts":6,'
check "summary per topic" has "$sum" '{"id":"flood","posts":900,"peak":90,"fired":1,"repeats":2,"resolved":1,"firing_at_end":false}'
check "stderr reports the posts" grep -q '^backtest: 1301 lines, 1301 posts counted, 1151 matched, 0 rejected, 0 without a time; resolution 10s;' "$T/err"

# the order of the file does not matter (samples aside: they are the first
# posts of each bucket in file order)
sort -r "$T/posts.jsonl" >"$T/shuffled.jsonl"
"$TIDEWATCH" backtest -r "$T/rules" --json --threads 3 "$T/shuffled.jsonl" >"$T/out2" 2>/dev/null
sed 's/"samples":\[[^]]*\]//' "$T/out" >"$T/a"
sed 's/"samples":\[[^]]*\]//' "$T/out2" >"$T/b"
check "reversed file, 3 threads: the same alerts" cmp -s "$T/a" "$T/b"

# text output: one line per alert, then the summary; the top keywords
# count the window widened to whole 5-minute slots (05:05 .. 05:15: the
# burst and 60 background posts)
"$TIDEWATCH" backtest -r "$T/rules" "$T/posts.jsonl" >"$T/text" 2>/dev/null
check "text: a firing line" grep -qF "$(date -u -d @$((S + 610)) '+%Y-%m-%d %H:%M:%SZ')  FIRING   quake [0] warning ratio  window 05:09:40Z .. 05:10:10Z  count 103  baseline 3.00 (x34.33)  z 57.74  top 地震 (160)" "$T/text"
check "text: summary row" grep -q '^flood  *900  *90 .* 1  *2  *1  -$' "$T/text"

# bad lines and posts without a time
printf '%s\n' '{"id":"x","text":"地震"}' 'not json' \
    '{"id":"y","text":"地震","time":"yesterday"}' >>"$T/posts.jsonl"
"$TIDEWATCH" backtest -r "$T/rules" "$T/posts.jsonl" >/dev/null 2>"$T/err"
check "a post without a time is an error line" grep -q "posts.jsonl:1302: the post has no time (no_time)" "$T/err"
check "a bad line is an error line" grep -q "posts.jsonl:1303: not valid JSON (at byte 0) (not_json)" "$T/err"
check "they are counted" grep -q "^backtest: 1304 lines, 1301 posts counted, 1151 matched, 2 rejected, 1 without a time, not_json 1, bad_time 1; resolution 10s;" "$T/err"

# group_wait: quake and flood fire in the same minute, one digest;
# inhibit: quake-big does not alert while quake fires
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    match: {any: [地震]}
    group_wait: 30s
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 20}
  - id: flood
    match: {any: [洪水]}
    group_wait: 1m
    alert: {window: 30s, threshold: 60}
  - id: quake-big
    match: {any: [刚才地震]}
    inhibit: [quake]
    alert: {window: 30s, threshold: 50}
YAML
"$TIDEWATCH" backtest -r "$T/rules" --json "$T/posts.jsonl" >"$T/out" 2>/dev/null
check "group_wait: one digest of both topics" sh -c "grep '\"digest\":true' '$T/out' | grep -q '^{\"id\":\"digest:$((S + 610)):2\",\"digest\":true,\"window_end\":\"$(iso $((S + 610)))\",\"count\":2,\"alerts\":\[{\"id\":\"flood:0:$((S + 620)):firing\".*{\"id\":\"quake:0:$((S + 610)):firing\"'"
check "group_wait: nothing else fired alone" test "$(grep -o '"state":"firing"' "$T/out" | wc -l)" -eq 2
check "inhibit: the child did not alert while its parent fired" test "$(grep -c 'quake-big' "$T/out")" -eq 1
check "inhibit: it shows in the summary only" sh -c "tail -1 '$T/out' | grep -q '{\"id\":\"quake-big\",\"posts\":100,\"peak\":100,\"fired\":0,'"

# --series: a count series as NAB's, and --alert errors
printf 'timestamp,value\n' >"$T/s.csv"
awk 'BEGIN { for (i = 0; i < 200; i++) printf "2015-02-26 %02d:%02d:53,%d\n", int((i * 5 + 2) / 60), (i * 5 + 2) % 60, (i == 150 ? 500 : 10 + i % 3) }' >>"$T/s.csv"
"$TIDEWATCH" backtest --series "$T/s.csv" --alert '{window: 5m, baseline: {halflife: 2h}, zscore: 6}' >"$T/out" 2>"$T/err"
check "series: exit 0" test $? -eq 0
check "series: the spike fires at its row, in the series' own times" grep -q '^2015-02-26 12:37:53Z  FIRING   series \[0\] warning zscore  window 12:32:53Z .. 12:37:53Z  count 500  baseline ' "$T/out"
check "series: one firing" test "$(grep -c FIRING "$T/out")" -eq 1
check "series: resolution from the rows" grep -q 'resolution 300s' "$T/err"
"$TIDEWATCH" backtest --series "$T/s.csv" --alert '{window: 45s, ratio: 2}' >"$T/out" 2>"$T/err"
check "series: bad block exits 1" test $? -eq 1
check "series: errors name --alert:line:col" sh -c "grep -qx -- '--alert:1:10: window 45s is not a multiple of the counter resolution (5m)' '$T/err' && grep -qx -- '--alert:1:15: ratio needs a baseline to compare with (e.g. baseline: 1h)' '$T/err'"
printf 'timestamp,value\n2015-02-26 10:00:00,1\n2015-02-26 10:07:00,1\n2015-02-26 10:10:00,x\n' >"$T/bad.csv"
"$TIDEWATCH" backtest --series "$T/bad.csv" --alert '{window: 5m, threshold: 1}' >/dev/null 2>"$T/err"
check "series: a bad value is reported with its line" grep -q 'bad.csv:4: value: expected a count' "$T/err"

# post texts with terminal controls (bidi override, ESC, CSI as C1) reach
# the output escaped, the JSON keeping its meaning
sed 's/刚才地震了好晃/刚才地震了好晃\\u202e\\u001b[2J\\u009b/' "$T/posts.jsonl" >"$T/hostile.jsonl"
"$TIDEWATCH" backtest -r "$T/rules" --json "$T/hostile.jsonl" >"$T/hout" 2>/dev/null
check "hostile texts: the sample escaped in the JSON" \
    grep -qF '"text":"刚才地震了好晃\u202e\u001b[2J\u009b"' "$T/hout"
check "hostile texts: no raw ESC, C1 or bidi control in the output" \
    sh -c "! LC_ALL=C grep -q \"\$(printf '\\033\\\\|\\302\\233\\\\|\\342\\200\\256')\" '$T/hout'"
