#!/bin/sh
# bench_pipeline.sh — a consumer thread's CPU per post at 100,000 topics,
# on real text, without Kafka or Redis.
#
# Writes, with tests/bench/gen_rules.sh and GEN_RULES_REUSE=1, the rule set
# of `make bench-scale`'s largest size: BENCH_PIPELINE_TOPICS topics
# (100000) of 8 THUOCL words each (800,000 keywords, each word in about
# seven topics), and BENCH_PIPELINE_POSTS posts (100000) shaped as that
# benchmark's: a word of a random topic between two COLD comments
# (../shared/data/cold-chinese-offensive), so that a post hits about
# fifteen topics.  Then build/bench/bench_pipeline times the daemon's
# per-post path over them (decode, normalise, match, count) and prints
#   bench-match topics=N keywords=K posts=P topic_hits_per_post=…
#       posts_per_s=… cpu_us_per_post=… match_us_per_post=…
# (thread CPU, median of 3 passes; match_us_per_post without counting).
# Skips, saying so, when the THUOCL lexicon or the COLD corpus is absent.
# Environment: BUILD (build), THUOCL, COLD, BENCH_PIPELINE_TOPICS,
# BENCH_PIPELINE_POSTS, KEEP (keep the temp dir).
set -u

BUILD=${BUILD:-build}
THUOCL=${THUOCL:-../shared/data/thuocl-lexicon}
COLD=${COLD:-../shared/data/cold-chinese-offensive}
TOPICS=${BENCH_PIPELINE_TOPICS:-100000}
POSTS=${BENCH_PIPELINE_POSTS:-100000}
PER=8
HERE=$(dirname "$0")

if ! ls "$THUOCL"/THUOCL_*.txt >/dev/null 2>&1 || [ ! -r "$COLD/train.csv" ]; then
	echo "bench-match topics=$TOPICS: skipped ($THUOCL or $COLD not found)"
	exit 0
fi
[ -x "$BUILD/bench/bench_pipeline" ] || {
	echo "bench-match: $BUILD/bench/bench_pipeline missing" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-pipeline.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

GEN_RULES_REUSE=1 THUOCL=$THUOCL sh "$HERE/gen_rules.sh" "$TOPICS" "$PER" \
    "$T/rules" >/dev/null || exit 1
# the words in gen_rules.sh's order, and the comments (the TEXT column,
# quotes and backslashes dropped, 60 bytes)
cat "$THUOCL"/THUOCL_*.txt | awk -F '[ \t]' '
    length($1) >= 6 && $1 !~ /["\\]/ && !seen[$1]++ { print $1 }' >"$T/words"
awk -F ',' 'NR > 1 { t = $NF; gsub(/["\\\r]/, "", t)
    if (length(t) > 12) print substr(t, 1, 60) }' "$COLD/train.csv" |
    iconv -c -f UTF-8 -t UTF-8 >"$T/comments"
awk -v n="$TOPICS" -v k="$PER" -v posts="$POSTS" '
FILENAME == ARGV[1] { word[nw++] = $0; next }
{ comment[nc++] = $0 }
END {
	srand(14)
	for (i = 0; i < posts; i++) {
		j = int(rand() * n) * k + int(rand() * k)
		kw = word[(j + int(j / nw) * 7919) % nw]
		a = comment[int(rand() * nc)]
		b = comment[int(rand() * nc)]
		printf "{\"id\":\"p%d\",\"text\":\"%s %s，%s\",\"time\":%d}\n",
		    i, a, kw, b, 1700000000 + int(i / 1000)
	}
}' "$T/words" "$T/comments" >"$T/posts.jsonl"

"$BUILD/bench/bench_pipeline" "$T/posts.jsonl" "$T/rules" |
    sed 's/^bench-pipeline /bench-match /'
