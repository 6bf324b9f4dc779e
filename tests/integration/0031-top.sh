#!/bin/sh
# tidewatch top --once beside the daemon's alerts: for a topic with an EWMA
# baseline, one with a seasonal baseline and one with a plain baseline, the
# count, baseline and ratio top shows for the stream's current window are
# those of the alert the detector published for that window (top evaluates
# the block with the detector's spike code and its stored state).  The
# burst is the timeline's last bucket and min_count is the burst window's
# full count, so each alert is for that window, with every post counted.
# A fourth topic counts hostile posts (escape sequences, a C1 CSI, bidi
# overrides in the text and in a count_by value): `top --once` and
# `alerts` show them as visible escapes, never as raw control characters,
# and its threshold alert reads "(threshold)", not "vs baseline 0".  Under
# tmux at 80x24, top still shows the STATE column and FIRING.
SCRIPT=0031-top
. tests/integration/helpers.sh
need kcat redis-server redis-cli tmux

start_redis
start_kafka posts:2
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: ewma
    match: {any: [地震]}
    alert: {window: 30s, baseline: {halflife: 2m}, zscore: 5, min_count: 106}
  - id: season
    match: {any: [地震]}
    alert: {window: 30s, baseline: {period: 1m, lookback: 3}, ratio: 3,
            min_count: 106}
  - id: plain
    match: {any: [地震]}
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 106}
  - id: hostile
    match: {any: [中毒]}
    count_by: [region]
    alert: {window: 30s, threshold: 5}
YAML
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null

# 150 buckets of 10 s ending about now: 4 posts in every fourth bucket, 1
# in the others (windows of 3 and 6 posts: baselines that are no round
# numbers); then 100 more in the last bucket: its window holds 106.
now=$(date +%s)
S=$(( (now - 1500) / 10 * 10 ))
awk -v S="$S" 'BEGIN {
	n = 0
	for (b = 0; b < 150; b++) {
		k = (b % 4 == 0) ? 4 : 1
		for (i = 0; i < k; i++)
			printf "{\"id\":\"p%d\",\"text\":\"又地震了\",\"time\":%d}\n", ++n, S + b * 10 + i % 10
	}
}' >"$T/posts.jsonl"
awk -v S="$S" 'BEGIN {
	for (i = 0; i < 100; i++)
		printf "{\"id\":\"b%d\",\"text\":\"又地震了\",\"time\":%d}\n", i, S + 1490 + i % 10
	for (i = 0; i < 6; i++)
		printf "{\"id\":\"h%d\",\"text\":\"食物中毒\\u001b[2J\\u001b[41m\\u202e\\u009b31m\",\"region\":\"\\u001b]0;owned\\u0007广州\\u202e\",\"time\":%d}\n", i, S + 1495
}' >"$T/burst.jsonl"
counted() {
	[ "$(rcli hgetall tidewatch:pos:tw | awk 'NR%2==1{f=$0;next} f!~/^[tl]:/{s+=$0} END{print s+0}')" -eq "$1" ]
}

start_daemon tw "$T/tw.yaml"
produce "$T/posts.jsonl"
check "the timeline is counted" wait_for 60 counted "$(wc -l <"$T/posts.jsonl")"
produce "$T/burst.jsonl"
check "the four topics fire" wait_for 60 sh -c \
    "[ \$(redis-cli -p $REDIS_PORT XLEN tidewatch:alert-log) -ge 4 ]"
sleep 1
kill -TERM "$tw_PID"
wait "$tw_PID"

rcli XRANGE tidewatch:alert-log - + | grep '^{' >"$T/alerts"
"$TIDEWATCH" top -c "$T/tw.yaml" --once >"$T/top" 2>"$T/top.err"
check "top --once exits 0" test $? -eq 0

field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
# near A B: |A - B| <= 0.06 (the alert rounds to 2 decimals, top to 1)
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; exit !(d <= 0.06 && d >= -0.06) }'; }

for id in ewma season plain; do
	a=$(grep "\"topic\":\"$id\"" "$T/alerts" | grep '"state":"firing"')
	check "$id: one alert, for the window of the burst" sh -c \
	    "[ \$(grep -c '\"topic\":\"$id\"' '$T/alerts') -eq 1 ] && echo '$a' | grep -q '\"window_end\":\"$(date -u -d @$((S + 1500)) +%Y-%m-%dT%H:%M:%SZ)\"'"
	row=$(awk -v id="$id" '$1 == id' "$T/top")
	set -- $row
	tcount=$4 tbase=$5 tratio=$(echo "$6" | sed 's/^×//') tstate=$8
	acount=$(echo "$a" | field count)
	abase=$(echo "$a" | field baseline_rate)
	aratio=$(echo "$a" | field ratio)
	check "$id: top's count is the alert's ($tcount, $acount)" test "$tcount" = "$acount"
	check "$id: top's baseline is the alert's ($tbase, $abase)" near "$tbase" "$abase"
	check "$id: top's ratio is the alert's ($tratio, $aratio)" near "$tratio" "$aratio"
	check "$id: top shows it firing" test "$tstate" = FIRING
done
# the EWMA's baseline is learned (not the plain mean of the last windows)
eb=$(awk '$1 == "ewma" { print $5 }' "$T/top")
pb=$(awk '$1 == "plain" { print $5 }' "$T/top")
check "ewma and plain baselines differ ($eb, $pb)" test "$eb" != "$pb"

# --- hostile text: escapes, not control characters
# raw HOSTILE FILE: the file holds no ESC, BEL, C1 CSI or bidi override
raw_free() {
	! grep -q "$(printf '[\033\007]')" "$1" &&
	! grep -q "$(printf '\302\233')" "$1" &&
	! grep -q "$(printf '\342\200\256')" "$1"
}
check "top --once: no raw control or bidi character" raw_free "$T/top"
check "top --once: the count_by value shown escaped" grep -qF \
    'region=\x1b]0;owned\x07广州\u202e 100%' "$T/top"
row=$(awk '$1 == "hostile"' "$T/top")
check "top --once: hostile is firing" sh -c "echo '$row' | awk '{ exit \$8 != \"FIRING\" }'"

n=$(rcli XLEN tidewatch:alert-log)
"$TIDEWATCH" alerts -c "$T/tw.yaml" --since 0 --count "$n" >"$T/alerts.txt" 2>"$T/alerts.err"
check "alerts: no raw control or bidi character" raw_free "$T/alerts.txt"
check "alerts: the sample text shown escaped" grep -qF \
    '"食物中毒\x1b[2J\x1b[41m\u202e\u009b31m"' "$T/alerts.txt"
check "alerts: a threshold alert says so, not 'vs baseline 0'" sh -c "
    grep -q '  hostile  count 6 (threshold)  top 中毒' '$T/alerts.txt' &&
    ! grep -q 'hostile .*vs baseline' '$T/alerts.txt'"
"$TIDEWATCH" alerts -c "$T/tw.yaml" --since 0 --count "$n" --json >"$T/alerts.json" 2>>"$T/alerts.err"
check "alerts --json: no raw control or bidi character" raw_free "$T/alerts.json"
check "alerts --json: JSON escapes" grep -qF '\u202e\u009b31m' "$T/alerts.json"

# --- top at 80 columns under tmux: STATE and FIRING stay visible
TMUX_SOCK="$T/tmux.sock"
tmux -S "$TMUX_SOCK" new-session -d -x 80 -y 24 \
    "$TIDEWATCH top -c $T/tw.yaml"
check "top at 80x24: draws the topics" wait_for 10 sh -c \
    "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q '^hostile'"
tmux -S "$TMUX_SOCK" capture-pane -p >"$T/pane.txt"
check "top at 80x24: the STATE and TOP columns are shown" \
    grep -q '^TOPIC .*COUNT.*BASELINE.*RATIO.*STATE.*TOP' "$T/pane.txt"
for id in ewma season plain hostile; do
	check "top at 80x24: $id FIRING" grep -q "^$id .*FIRING" "$T/pane.txt"
done
check "top at 80x24: the count_by value shown escaped" \
    grep -qF 'region=\x1b]0;' "$T/pane.txt"
tmux -S "$TMUX_SOCK" send-keys q
wait_for 5 sh -c "! tmux -S '$TMUX_SOCK' has-session 2>/dev/null"
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || :
