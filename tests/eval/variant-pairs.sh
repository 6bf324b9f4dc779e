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
# it.  The dictionary keys that made a pair are its triggers: only a
# keyword holding one can get that pair from OpenCC.  Prints the C lines of
# both tables (compare them with the file; the comments on the pairs there
# are written by hand).
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
# via of each pair: VIA_HK when s2hk yields it (it has s2t's phrases too)
awk '{ p = $1 " " $2; if (!(p in via) || $3 ~ /s2hk/)
	via[p] = $3 ~ /s2hk/ ? "VIA_HK" : "VIA_TW" }
END { for (p in via) print p, via[p] }' "$T/pairs" | LC_ALL=C sort >"$T/via"
echo "/* variant_pairs[] */"
awk '{ printf "\t{ 0x%s, 0x%s, %s },\n", tolower($1), tolower($2), $3 }' \
    "$T/via"
# the triggers: each dictionary key that made a pair, the character there
# (its anchor: a keyword is searched for the key only where it holds one)
# and its byte offset, with the pair's via; sorted by anchor, then key
echo "/* variant_triggers[] */"
awk 'NR == FNR { via[$1 " " $2] = $3; next }
!($6 in t) { t[$6] = via[$1 " " $2]; at[$6] = $5; off[$6] = $4; next }
index(t[$6], via[$1 " " $2]) == 0 { t[$6] = t[$6] "|" via[$1 " " $2] }
END { for (k in t) printf "%06s %s %s %s\n", at[k], k, off[k], t[k] }' \
    "$T/via" "$T/pairs" | LC_ALL=C sort | while read -r a k o v; do
	printf '\t{ 0x%s, %d, "%s", %s },\n' "$(echo "$a" | tr -d ' ' |
	    tr 'A-F' 'a-f')" "$o" "$k" "$v"
done
