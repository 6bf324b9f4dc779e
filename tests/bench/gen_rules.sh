#!/bin/sh
# gen_rules.sh — writes a large rule set for the rule-load benchmarks.
#
# usage: gen_rules.sh TOPICS KEYWORDS_PER_TOPIC DIR [FILES]
# Writes TOPICS topics of KEYWORDS_PER_TOPIC literal keywords each into
# FILES files DIR/rules-NN.yaml (default 10), every topic with
# alert: {window: 5m, baseline: 1d, ratio: 3, min_count: 20}.  Every keyword
# of the set is distinct: THUOCL words first ($THUOCL, default
# ../shared/data/thuocl-lexicon, two characters or more), then, once those
# are used up, two of them joined (word i followed by word (i * 7919 + r)
# for round r), which is how the real lists grow (a place and a thing, a
# name and an event).  Without the lexicon the words are synthetic Latin
# tokens.  With GEN_RULES_REUSE=1 the words are taken again instead of
# joined (keyword j is word (j + (j / W) * 7919) mod W), so that each word
# stands in about K*TOPICS/W topics, as in tests/bench/bench_scale.sh, and
# a post naming one hits that many.  Prints "words=W keywords=K" on stdout.
set -eu

[ $# -ge 3 ] || { echo "usage: gen_rules.sh TOPICS PER_TOPIC DIR [FILES]" >&2; exit 2; }
N=$1
K=$2
DIR=$3
NF=${4:-10}
THUOCL=${THUOCL:-../shared/data/thuocl-lexicon}

mkdir -p "$DIR"
words="$DIR/.words"
if ls "$THUOCL"/THUOCL_*.txt >/dev/null 2>&1; then
	cat "$THUOCL"/THUOCL_*.txt | awk -F '[ \t]' '
	    length($1) >= 6 && $1 !~ /["\\]/ && !seen[$1]++ { print $1 }' >"$words"
else
	awk 'BEGIN { a = "bcdfghjklmnpqrstvwxz"; v = "aeiou"
	    for (i = 0; i < 100000; i++) {
	        w = "q"; x = i
	        do { w = w substr(a, x % 20 + 1, 1) substr(v, int(x / 20) % 5 + 1, 1)
	             x = int(x / 100) } while (x > 0)
	        print w } }' >"$words"
fi
awk -v n="$N" -v k="$K" -v dir="$DIR" -v nf="$NF" -v reuse="${GEN_RULES_REUSE:-0}" '
{ w[NR - 1] = $0 }
END {
	nw = NR
	for (t = 0; t < n; t++) {
		f = sprintf("%s/rules-%02d.yaml", dir, t % nf)
		if (!(f in opened)) { print "topics:" > f; opened[f] = 1 }
		line = ""
		for (i = 0; i < k; i++) {
			j = t * k + i
			r = int(j / nw)
			x = j % nw
			kw = w[x]
			if (reuse)
				kw = w[(j + r * 7919) % nw]
			else if (r > 0) {
				y = (x * 7919 + r) % nw
				if (y == x) y = (y + 1) % nw
				kw = kw w[y]
			}
			line = line (i ? ", " : "") "\"" kw "\""
		}
		printf "  - id: g%06d\n    match: {any: [%s]}\n", t, line > f
		print "    alert: {window: 5m, baseline: 1d, ratio: 3, min_count: 20}" > f
	}
	printf "words=%d keywords=%d\n", nw, n * k
}' "$words"
rm -f "$words"
