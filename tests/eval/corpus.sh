# corpus.sh — sourced by the evaluations on the Weibo + COLD corpus
# (gaps.sh, variants.sh): the checks before a run and the helpers they
# share.  Expects NAME (the prefix of every line printed), DATA and TOP set.

# Exits 0 with a "skipped" line when the data or jq is missing.
corpus_need() {
	for d in weibo-hot-search cold-chinese-offensive thuocl-lexicon; do
		if [ ! -d "$DATA/$d" ]; then
			echo "$NAME: skipped: $DATA/$d is absent (set $1)"
			exit 0
		fi
	done
	command -v jq >/dev/null ||
	    { echo "$NAME: skipped: jq is not installed"; exit 0; }
}

# (post line, keyword) pairs of a `tidewatch match` run, sorted
pairs() {
	jq -r '.line as $l | .topics[].keywords[] | "\($l)\t\(.)"' |
	    LC_ALL=C sort -u
}

# Builds the tidewatch of commit $1 into $2/build/tidewatch from git.
# Returns 1 (after saying why) when the commit is not in this history or
# does not build.
corpus_build_base() {
	if ! git -C "$TOP" rev-parse -q --verify "$1^{commit}" >/dev/null 2>&1
	then
		echo "$NAME: before: skipped, $1 is not in this git history"
		return 1
	fi
	mkdir "$2"
	git -C "$TOP" archive "$1" | tar -x -C "$2"
	if ! make -C "$2" -j2 BUILD=build build/tidewatch >"$2.log" 2>&1; then
		echo "$NAME: before: building $1 failed (see make output)"
		tail -5 "$2.log"
		return 1
	fi
}

# A temporary directory $T (removed on exit) with the corpus in $T/$1 and
# the rule set of the K most frequent THUOCL words in $T/rules.yaml.
corpus_prepare() {
	T=$(mktemp -d)
	trap 'rm -rf "$T"' EXIT INT TERM
	"$BUILD"/tests/gapcorpus posts "$DATA" >"$T/$1"
	"$BUILD"/tests/gapcorpus rules "$DATA" "$K" >"$T/rules.yaml"
}
