#!/bin/sh
# variant-pairs.sh — regenerates the table variant_pairs[] of
# daemon/variants.c from the OpenCC installed here.
#
# Every key of the dictionaries of s2hk.json and s2tw.json (OpenCC's C++
# interface, tests/eval/opencc-keys.cc, compiled with g++) is converted
# with both configurations and folded (tests/tools/cconv --pairs); each
# position where the folds differ and the variant's character is outside
# GB 2312 gives a pair.  A pair both configurations yield comes from s2t's
# phrases and is asked of s2hk (VIA_HK); the others of the one that yields
# it.  Prints the C lines of the table (compare them with the file; the
# comments there are written by hand).
#
# Environment: BUILD (build), OPENCC_DATA (/usr/share/opencc), CXX (g++).
set -eu
BUILD=${BUILD:-build}
DIR=${OPENCC_DATA:-/usr/share/opencc}
CXX=${CXX:-g++}

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
"$CXX" -O1 -o "$T/opencc-keys" tests/eval/opencc-keys.cc -lopencc
"$T/opencc-keys" "$DIR/s2hk.json" "$DIR/s2tw.json" | LC_ALL=C sort -u >"$T/keys"
"$BUILD"/tests/cconv --pairs s2hk.json s2tw.json <"$T/keys" >"$T/pairs"
echo "variant-pairs: $(wc -l <"$T/keys") dictionary keys," \
    "$(wc -l <"$T/pairs") differing positions" >&2
awk '{ via[$1 " " $2] = via[$1 " " $2] " " $3; n[$1 " " $2]++ }
END {
	for (p in via) {
		split(p, cp, " ")
		v = via[p] ~ /s2hk/ ? "VIA_HK" : "VIA_TW"
		printf "\t{ 0x%s, 0x%s, %s },\n", tolower(cp[1]), tolower(cp[2]), v
	}
}' "$T/pairs" | LC_ALL=C sort
