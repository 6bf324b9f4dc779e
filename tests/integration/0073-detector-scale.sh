#!/bin/sh
# The detector at scale: DETECTOR_SCALE_TOPICS (default 20000) topics, each
# with {window: 5m, baseline: 1d, ratio: 3, min_count: 20}, and three days
# of posts that touch most of them: two days as a backlog, the third live
# at 4,000 posts/s.  While the detector steps through it all, in its own
# thread:
#  - the lease never falls below half its TTL (PTTL of <p>leader, polled);
#  - no flush waits on it (while the third day streams, the consumer's
#    "flushed" lines keep coming about every second, none of them taking
#    half the lease's TTL, which a flush behind a long pass would);
#  - an idle pass (nothing new) takes well under 100 ms;
#  - its memory does not grow with history: after the third day, the
#    buckets its series hold (the pass log's points=) and the daemon's RSS
#    stay where they were after the second;
#  - a burst at the end of the stream still fires, once.
SCRIPT=0073-detector-scale
. tests/integration/helpers.sh
need redis-server redis-cli

N=${DETECTOR_SCALE_TOPICS:-20000}
FLUSH=1s
# a sanitizer build (build/san) runs several times slower, and ASan keeps
# freed memory in quarantine (256 MB) before reusing it: the pass and RSS
# budgets are those of the plain build there, times ten and plus 256 MB
idle_max=100 rss_slack=32768
case $BUILD in
*san*)	idle_max=1000 rss_slack=$((32768 + 262144)) ;;
esac
start_redis
start_kafka posts:4

mkdir "$T/rules"
awk -v n="$N" 'BEGIN {
	print "topics:"
	for (i = 0; i < n; i++)
		printf "  - id: s%d\n    match: {any: [sk%dq]}\n    alert: {window: 5m, baseline: 1d, ratio: 3, min_count: 20}\n", i, i
}' >"$T/rules/scale.yaml"
RULES="$T/rules" write_config "$T/tw.yaml" <<YAML
log: {level: debug}
YAML

now=$(date +%s)
day=86400
# posts DAYS-from .. DAYS-to days ago, COUNT of them, in time order, each
# naming a random topic (never s1: its burst is below)
gen() {
	awk -v n="$N" -v c="$3" -v t0=$((now - $1 * day)) -v t1=$((now - $2 * day - 120)) \
	    -v seed="$4" 'BEGIN {
		srand(seed)
		for (i = 0; i < c; i++) {
			k = 2 + int(rand() * (n - 2))
			printf "{\"id\":\"%s%d\",\"text\":\"news sk%dq today\",\"time\":%d}\n", seed, i, k, t0 + int(i * (t1 - t0) / c)
		}
	}'
}
gen 3 2 40000 1 >"$T/day1.jsonl"
gen 2 1 40000 2 >"$T/day2.jsonl"
gen 1 0 40000 3 >"$T/day3.jsonl"
awk -v t=$((now - 60)) 'BEGIN {
	for (i = 0; i < 200; i++)
		printf "{\"id\":\"b%d\",\"text\":\"sk1q breaking\",\"time\":%d}\n", i, t + i % 50
}' >"$T/burst.jsonl"

# PTTL of the lease, every 0.1 s, from now on
ttl_ms=5000		# 3 × flush_interval + 2 s
(
	while :; do
		echo "$(rcli pttl tidewatch:leader)"
		sleep 0.1
	done
) >"$T/pttl" 2>/dev/null &
track_pid $!

start_daemon tw "$T/tw.yaml"
wait_for 30 grep -q 'partitions assigned' "$T/tw.log"
produce_spread "$T/day1.jsonl"
all_consumed 40000 || fail "the first day was not counted"

# passes: "ms points" of each logged pass after line $1
passes_after() {
	sed -n "$1,\$p" "$T/tw.log" |
	    sed -n 's/.*msg="detector pass".* ms=\([0-9]*\) .* points=\([0-9]*\) .*/\1 \2/p'
}
settle() {	# waits for 3 idle passes (nothing read) after the log's end now
	_from=$(( $(wc -l <"$T/tw.log") + 1 ))
	wait_for 60 sh -c "[ \$(sed -n '$_from,\$p' '$T/tw.log' | grep 'msg=\"detector pass\"' | grep -c ' read=0 ') -ge 3 ]"
	echo "$_from"
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$tw_PID/status"; }
settle >/dev/null
# the second day: the baseline is full from now on
produce_spread "$T/day2.jsonl"
all_consumed 80000 || fail "the second day was not counted"
from=$(settle)
p2=$(passes_after "$from" | tail -1 | cut -d' ' -f2)
rss2=$(rss)
# the third day live, 4,000 posts/s, while the detector catches up a day
flush_from=$(( $(wc -l <"$T/tw.log") + 1 ))
stream "$T/day3.jsonl" 4000
wait "$STREAM_PID"
all_consumed 120000 || fail "the third day was not counted"
flush_to=$(wc -l <"$T/tw.log")
produce_spread "$T/burst.jsonl"
all_consumed 120200 || fail "the burst was not counted"
from=$(settle)
p3=$(passes_after "$from" | tail -1 | cut -d' ' -f2)
rss3=$(rss)
# idle passes: nothing read (no flush counted since the one before)
idle=$(sed -n "$from,\$p" "$T/tw.log" |
    sed -n 's/.*msg="detector pass".* ms=\([0-9]*\) .* read=0 .*/\1/p' |
    sort -n | tail -1)

check "the daemon leads" grep -q 'msg="detector leads"' "$T/tw.log"
# memory: a third day of history grows neither the series nor the daemon
echo "series points: $p2 after two days, $p3 after three; RSS ${rss2} kB, ${rss3} kB"
check "series points after 3 days ($p3) within 1.2 × those after 2 days ($p2)" \
    test "${p3:-999999999}" -le $(( ${p2:-0} * 6 / 5 + 1000 ))
check "RSS after 3 days (${rss3} kB) within $((rss_slack / 1024)) MB of that after 2 days (${rss2} kB)" \
    test "${rss3:-999999999}" -le $(( ${rss2:-0} + rss_slack ))
check "an idle pass over $N topics took ${idle} ms (< $idle_max)" \
    test "${idle:-99999}" -lt "$idle_max"
# the lease: never below half its TTL while the daemon ran
low=$(awk -v h=$((ttl_ms / 2)) '$1 > 0 && $1 < h' "$T/pttl" | head -3 | tr '\n' ' ')
check "the lease's PTTL never fell below $((ttl_ms / 2)) ms ($(wc -l <"$T/pttl") readings; low: $low)" \
    test -z "$low"
# the flushes while the third day streamed: each fast, one a second
sed -n "$flush_from,${flush_to}p" "$T/tw.log" | grep 'msg="flushed"' >"$T/flushes"
flushes=$(wc -l <"$T/flushes")
slow=$(sed -n 's/.*msg="flushed".* ms=\([0-9]*\).*/\1/p' "$T/flushes" | sort -n | tail -1)
gap=$(sed -n 's/^ts=[^T]*T\([0-9:.]*\)Z.*/\1/p' "$T/flushes" |
    awk -F: '{ t = ($1 * 3600 + $2 * 60 + $3) * 1000; if (NR > 1 && t - p > g) g = t - p; p = t }
    END { printf "%d\n", g }')
check "$flushes flushes while streaming, the slowest took ${slow} ms (< $((ttl_ms / 2)))" \
    test "${slow:-99999}" -lt $((ttl_ms / 2)) -a "$flushes" -ge 5
check "flushes at most 3 s apart while streaming (largest gap ${gap} ms)" \
    test "${gap:-99999}" -le 3000
# detection still works: the burst of s1 fired once
wait_for 20 sh -c "redis-cli -p $REDIS_PORT xrange tidewatch:alert-log - + | grep -q '\"topic\":\"s1\"'"
fired=$(rcli xrange tidewatch:alert-log - + | grep '"topic":"s1"' | grep -c '"state":"firing"')
check "the burst of s1 fired once ($fired)" test "$fired" -eq 1
kill -TERM "$tw_PID"
wait "$tw_PID"
check "SIGTERM: exit 0" test $? -eq 0
