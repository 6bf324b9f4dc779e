#!/bin/sh
# tidewatch top --once beside the daemon's alerts: for a topic with an EWMA
# baseline, one with a seasonal baseline and one with a plain baseline, the
# count, baseline and ratio top shows for the stream's current window are
# those of the alert the detector published for that window (top evaluates
# the block with the detector's spike code and its stored state).  The
# burst is the timeline's last bucket and min_count is the burst window's
# full count, so each alert is for that window, with every post counted.
SCRIPT=0031-top
. tests/integration/helpers.sh
need kcat redis-server redis-cli

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
}' >"$T/burst.jsonl"
counted() {
	[ "$(rcli hgetall tidewatch:pos:tw | awk 'NR%2==1{f=$0;next} f!~/^[tl]:/{s+=$0} END{print s+0}')" -eq "$1" ]
}

start_daemon tw "$T/tw.yaml"
produce "$T/posts.jsonl"
check "the timeline is counted" wait_for 60 counted "$(wc -l <"$T/posts.jsonl")"
produce "$T/burst.jsonl"
check "the three topics fire" wait_for 60 sh -c \
    "[ \$(redis-cli -p $REDIS_PORT XLEN tidewatch:alert-log) -ge 3 ]"
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
