#!/bin/sh
# textkey.sh — how text keys (daemon/textkey.c) count distinct texts on
# real text: the missed merges of near-duplicates and the false merges of
# distinct texts (docs/design.md, "Distinct texts").
#
# The corpus is every Weibo hot-search title and COLD comment in DATA
# (default ../shared/data; tests/tools/gapcorpus.c posts); the copies and
# pairs are made by tests/tools/textkeyeval.c with a fixed seed, so a run
# is reproducible.  Prints its "eval-textkey …" lines, or
# "eval-textkey: skipped: …" when the data is absent.
#
# Environment: BUILD (build), TEXTKEY_DATA, TEXTKEY_TEXTS (20000 texts
# copied).
set -eu
BUILD=${BUILD:-build}
DATA=${TEXTKEY_DATA:-../shared/data}
N=${TEXTKEY_TEXTS:-20000}

for d in weibo-hot-search cold-chinese-offensive; do
	if [ ! -d "$DATA/$d" ]; then
		echo "eval-textkey: skipped: $DATA/$d is absent (set TEXTKEY_DATA)"
		exit 0
	fi
done
"$BUILD"/tests/gapcorpus posts "$DATA" | "$BUILD"/tests/textkeyeval "$N"
