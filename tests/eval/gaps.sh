#!/bin/sh
# gaps.sh — what separator skipping adds on real text, before and after the
# separator rule (docs/rules.md, "Keywords").
#
# The corpus is every Weibo hot-search title and COLD comment in DATA
# (default ../shared/data), 55,982 posts; the rule set is the 50,000 most
# frequent THUOCL words in topics of 100 (tests/tools/gapcorpus.c).  A
# "gap hit" is a (keyword, post) pair that `tidewatch match` reports with
# normalize.max_gap 3 but not with 0: it exists only because separators
# inside the keyword were skipped.  "before" is the same count with the
# matcher of GAPS_BASE (default: the last commit with the old rule), built
# from git into a temporary directory; without git or that commit, only
# "after" is printed.  The evasion check takes every gap-free hit and puts
# evasion marks between the keyword's characters in that post (*, letter
# spacing, a family emoji) and counts the hits that survive.
#
# Prints machine-readable lines:
#   eval-gaps rule=before|after keywords=K posts=P gap_hits=N gap_posts=N
#   eval-gaps change=-X% (goal: <= -90%)
#   eval-gaps evasion=MARK cases=N still_hit=N
# and "eval-gaps: skipped: …" when the data is absent.
#
# Environment: BUILD (build), TIDEWATCH ($BUILD/tidewatch), GAPS_DATA,
# GAPS_KEYWORDS (50000), GAPS_BASE.
set -eu
BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}
DATA=${GAPS_DATA:-../shared/data}
K=${GAPS_KEYWORDS:-50000}
BASE=${GAPS_BASE:-fc3d190f43beae751c6666b0a31b468dc6ddec0f}
TOP=$(pwd)

NAME=eval-gaps
. "$TOP/tests/eval/corpus.sh"
corpus_need GAPS_DATA

corpus_prepare posts.jsonl
printf 'normalize:\n  max_gap: 0\n' >"$T/gap0.yaml"
NPOSTS=$(wc -l <"$T/posts.jsonl")

# gap hits of binary $1 into $T/$2.gap
gap_hits() {
	"$1" match -r "$T/rules.yaml" "$T/posts.jsonl" | pairs >"$T/$2.3"
	"$1" match -c "$T/gap0.yaml" -r "$T/rules.yaml" "$T/posts.jsonl" |
	    pairs >"$T/$2.0"
	LC_ALL=C comm -23 "$T/$2.3" "$T/$2.0" >"$T/$2.gap"
	echo "eval-gaps rule=$2 keywords=$K posts=$NPOSTS" \
	    "gap_hits=$(wc -l <"$T/$2.gap")" \
	    "gap_posts=$(cut -f1 "$T/$2.gap" | sort -u | wc -l)"
}

before=
if corpus_build_base "$BASE" "$T/old"; then
	gap_hits "$T/old/build/tidewatch" before
	before=$(wc -l <"$T/before.gap")
fi
gap_hits "$TIDEWATCH" after
after=$(wc -l <"$T/after.gap")
if [ -n "$before" ] && [ "$before" -gt 0 ]; then
	echo "eval-gaps change=$(( (after - before) * 100 / before ))% (goal: <= -90%)"
fi
if [ -n "${GAPS_SHOW:-}" ]; then
	# the gap hits themselves, with their posts, for reading
	while IFS='	' read -r l kw; do
		printf '%s\t%s\n' "$kw" "$(sed -n "${l}p" "$T/posts.jsonl")"
	done <"$T/${GAPS_SHOW_RULE:-after}.gap"
fi

# Evasion: each gap-free hit of a CJK keyword in its post (the first
# post of each keyword), with marks put between the keyword's characters
# there, must still hit.  Keywords not written as such in the post (found
# after folding) are left out.
LC_ALL=C grep -v '	.*[ -~]' "$T/after.0" | awk -F'\t' '!seen[$2]++' \
    >"$T/ev.cases" || true
for m in star spaced emoji; do
	case $m in
	star) mark='*' pad= ;;
	spaced) mark=' ' pad=' ' ;;
	emoji) mark='👨‍👩‍👧‍👦' pad= ;;
	esac
	jq -Rc --slurpfile P "$T/posts.jsonl" --arg m "$mark" --arg p "$pad" '
	    split("\t") as [$l, $kw] |
	    ($P[($l | tonumber) - 1].text | split($kw)) as $parts |
	    select(($parts | length) > 1) |
	    {text: ($parts[0] + $p + ($kw | split("") | join($m)) + $p +
	        ($parts[1:] | join($kw))), kw: $kw}' \
	    <"$T/ev.cases" >"$T/ev.posts"
	jq -r .kw <"$T/ev.posts" | awk '{ print NR "\t" $0 }' |
	    LC_ALL=C sort -u >"$T/ev.want"
	"$TIDEWATCH" match -r "$T/rules.yaml" "$T/ev.posts" | pairs >"$T/ev.got"
	echo "eval-gaps evasion=$m cases=$(wc -l <"$T/ev.want")" \
	    "still_hit=$(LC_ALL=C comm -12 "$T/ev.want" "$T/ev.got" | wc -l)"
done
