#!/bin/sh
# variants.sh — what traditional keyword spellings (daemon/variants.c) add
# on real text written in traditional characters.
#
# The corpus is every Weibo hot-search title and COLD comment in DATA
# (default ../shared/data), 55,982 posts, as written (simplified) and
# converted by OpenCC s2t and s2tw (tests/tools/cconv, phrase by phrase);
# the rule set is the 50,000 most frequent THUOCL words in topics of 100
# (tests/tools/gapcorpus.c).  A hit is a (post, keyword) pair reported by
# `tidewatch match`.  On a converted corpus, "recall" is the share of the
# original's hits found again in the converted copy of the same post, and
# "extra" the hits the converted copy has that the original has not.
# "before" is the matcher of VARIANTS_BASE (default: the last commit
# without keyword variants), built from git into a temporary directory;
# without git or that commit, only "after" is printed.  On the original
# corpus the variants must add no hit (a variant is a traditional
# spelling, and simplified text should not hold one by accident).
#
# Prints machine-readable lines:
#   eval-variants rule=before|after corpus=orig|s2t|s2tw hits=N recall=P% extra=N
#   eval-variants orig_added=N orig_lost=N (goal: 0 and 0)
#   eval-variants corpus=C recall_change=+P points
# and "eval-variants: skipped: …" when the data is absent.
#
# Environment: BUILD (build), TIDEWATCH ($BUILD/tidewatch), VARIANTS_DATA,
# VARIANTS_KEYWORDS (50000), VARIANTS_BASE, VARIANTS_SHOW=1 (list the hits
# that changed).
set -eu
BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}
DATA=${VARIANTS_DATA:-../shared/data}
K=${VARIANTS_KEYWORDS:-50000}
BASE=${VARIANTS_BASE:-65420213345928cf7ead18e87aa4a25c782fe8fb}
TOP=$(pwd)

NAME=eval-variants
. "$TOP/tests/eval/corpus.sh"
corpus_need VARIANTS_DATA

corpus_prepare orig.jsonl
for c in s2t s2tw; do
	"$BUILD"/tests/cconv "$c.json" text <"$T/orig.jsonl" >"$T/$c.jsonl"
done

# hits of binary $1 (named $2) on each corpus, and their recall
measure() {
	for c in orig s2t s2tw; do
		"$1" match -r "$T/rules.yaml" "$T/$c.jsonl" | pairs >"$T/$2.$c"
	done
	for c in orig s2t s2tw; do
		hits=$(wc -l <"$T/$2.$c")
		found=$(LC_ALL=C comm -12 "$T/$2.orig" "$T/$2.$c" | wc -l)
		extra=$(LC_ALL=C comm -13 "$T/$2.orig" "$T/$2.$c" | wc -l)
		echo "eval-variants rule=$2 corpus=$c keywords=$K hits=$hits" \
		    "recall=$(awk -v f="$found" -v n="$(wc -l <"$T/$2.orig")" \
		    'BEGIN { printf "%.2f", n ? 100 * f / n : 0 }')%" \
		    "extra=$extra"
	done
}

before=
if corpus_build_base "$BASE" "$T/old"; then
	measure "$T/old/build/tidewatch" before
	before=1
fi
measure "$TIDEWATCH" after
if [ -n "$before" ]; then
	echo "eval-variants orig_added=$(LC_ALL=C comm -13 "$T/before.orig" \
	    "$T/after.orig" | wc -l) orig_lost=$(LC_ALL=C comm -23 \
	    "$T/before.orig" "$T/after.orig" | wc -l) (goal: 0 and 0)"
	for c in s2t s2tw; do
		b=$(LC_ALL=C comm -12 "$T/before.orig" "$T/before.$c" | wc -l)
		a=$(LC_ALL=C comm -12 "$T/after.orig" "$T/after.$c" | wc -l)
		echo "eval-variants corpus=$c recovered=$((a - b))" \
		    "recall_change=+$(awk -v a="$a" -v b="$b" \
		    -v n="$(wc -l <"$T/after.orig")" \
		    'BEGIN { printf "%.2f", n ? 100 * (a - b) / n : 0 }') points"
		if [ -n "${VARIANTS_SHOW:-}" ]; then
			# the hits the variants brought back, with their posts
			LC_ALL=C comm -13 "$T/before.$c" "$T/after.$c" |
			while IFS='	' read -r l kw; do
				printf '%s\t%s\n' "$kw" "$(sed -n "${l}p" "$T/$c.jsonl")"
			done
		fi
	done
fi
