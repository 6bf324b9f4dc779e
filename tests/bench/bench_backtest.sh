#!/bin/sh
# bench_backtest.sh — replay speed of `tidewatch backtest`.
#
# 1,003,000 posts of the demo's generator (postgen: ~118 bytes each, spread
# over two days, seed 7) against the example rules (rules/), replayed
# REPEAT times with --threads 1 and with the default (every CPU); beside
# them, in the same rounds, `tidewatch match` over the same file on one
# thread (decode + normalise + match and JSON output, no counting or
# detection) as the reference.  Medians.  Ends with the machine-readable
# lines "bench-backtest threads=… posts_per_s=…" and
# "bench-backtest-reference match_posts_per_s=…".
#
# Environment: BUILD (build), TIDEWATCH (./tidewatch), BENCH_REPEAT (3).
set -u

BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-./tidewatch}
REPEAT=${BENCH_REPEAT:-3}
N=1003000

T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-bench-bt.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA";
    else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now_s() { date +%s.%N; }

"$BUILD"/tests/postgen -n $N -d 172800 -s 1795500000 -r 7 >"$T/posts.jsonl" ||
    { echo "bench-backtest: postgen failed" >&2; exit 1; }
echo "bench-backtest: $N posts, $(( $(wc -c <"$T/posts.jsonl") / N )) bytes" \
    "on average, rules/ ($(nproc) CPUs), $REPEAT rounds"

# backtest prints "…; S s, R posts/s" as its last stderr line
bt() {
	"$TIDEWATCH" backtest -r rules/ "$@" "$T/posts.jsonl" >/dev/null \
	    2>"$T/bt.err" || { cat "$T/bt.err" >&2; exit 1; }
	sed -n 's/.* \([0-9][0-9]*\) posts\/s$/\1/p' "$T/bt.err" | tail -1
}

round=1
while [ $round -le "$REPEAT" ]; do
	r1=$(bt --threads 1)
	rn=$(bt)
	t0=$(now_s)
	"$TIDEWATCH" match -r rules/ "$T/posts.jsonl" >/dev/null || exit 1
	t1=$(now_s)
	rm=$(awk -v a="$t0" -v b="$t1" -v n=$N 'BEGIN { printf "%.0f", n / (b - a) }')
	echo "  round $round: backtest threads=1 $r1 posts/s, threads=default $rn posts/s, match $rm posts/s"
	echo "$r1" >>"$T/r1"
	echo "$rn" >>"$T/rn"
	echo "$rm" >>"$T/rm"
	round=$((round + 1))
done
echo "bench-backtest threads=1 posts_per_s=$(median <"$T/r1")"
echo "bench-backtest threads=$(nproc) posts_per_s=$(median <"$T/rn")"
echo "bench-backtest-reference match_posts_per_s=$(median <"$T/rm")"
