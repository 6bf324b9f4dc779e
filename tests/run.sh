#!/bin/sh
# Runs every test of tidewatch and ends with one line
# "N passed, N failed, N skipped".
#
#   BUILD        build directory (build, or build/san for the sanitizer build)
#   TIDEWATCH    the binary under test
#   TESTS        optional filter: only suites whose name contains it.  Suite
#                names are the groups (unit, data, bad-rules, examples,
#                integration) followed by the suite, e.g. unit/test_rules,
#                data/nab-scorer, integration/0030-alerts; so TESTS=unit runs
#                every unit binary and TESTS=0030 one integration script.
#   REQUIRE_ALL  1: every SKIP also counts as a failure (CI sets it, so a
#                missing tool or data set cannot pass unnoticed)
#
# Unit tests are cmocka binaries; data tests are tests/data/*.test run by
# the datatest tool, and NAB's scorer checked by nabeval; bad-rules are
# broken rule files that must produce exactly the errors written in their
# "# error:" lines; examples is `tidewatch check rules/`; integration tests
# are the numbered scripts in tests/integration/, which print PASS, FAIL
# and SKIP lines.  Every suite prints one PASS/FAIL/SKIP line per result
# and a TIME line; a suite that runs but reports nothing is a failure.

BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}
REQUIRE_ALL=${REQUIRE_ALL:-0}
export BUILD TIDEWATCH
TOP=$(pwd)
export TOP
pass=0
fail=0
skip=0
failed_names=""
skipped_names=""

want() { [ -z "$TESTS" ] || case "$1" in *"$TESTS"*) return 0;; *) return 1;; esac; }

# passed N: N checks passed.
passed() { pass=$((pass + $1)); }

# failed NAME [N]: N (default 1) checks of NAME failed.
failed() {
	fail=$((fail + ${2:-1}))
	failed_names="$failed_names
  $1"
}

# skipped NAME REASON: one check of NAME did not run.  Under REQUIRE_ALL=1
# it is a failure too.
skipped() {
	skip=$((skip + 1))
	skipped_names="$skipped_names
  $1: $2"
	echo "SKIP $1: $2"
	if [ "$REQUIRE_ALL" = 1 ]; then
		failed "$1: skipped ($2), REQUIRE_ALL=1"
	fi
}

# count_skips NAME FILE: counts FILE's "SKIP WHO: REASON" lines as skips.
count_skips() {
	grep '^SKIP ' "$2" | sed 's/^SKIP [^:]*: //' >"$tmp/skips"
	while IFS= read -r reason; do
		skipped "$1" "$reason" >/dev/null
	done <"$tmp/skips"
}

# now_ms, took START: wall-clock milliseconds; seconds since START.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
took() {
	_ms=$(($(now_ms) - $1))
	printf '%d.%ds' $((_ms / 1000)) $((_ms % 1000 / 100))
}
timed() { echo "TIME $1 $(took "$2")"; }

# group_start, group_end NAME: a group's TIME line, if any suite of it ran
# (each suite adds one to ran).
group_start() { g0=$(now_ms); ran=0; }
group_end() { [ "$ran" -eq 0 ] || timed "$1" "$g0"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. cmocka unit tests: one binary per tests/unit/test_*.c
run_unit() {
	group_start
	for src in tests/unit/test_*.c; do
		[ -e "$src" ] || continue
		name=$(basename "$src" .c)
		want "unit/$name" || continue
		ran=$((ran + 1))
		t=$BUILD/tests/$name
		if [ ! -x "$t" ]; then
			skipped "unit/$name" "$t is not built"
			continue
		fi
		t0=$(now_ms)
		"$t" >"$tmp/out" 2>&1
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
		p=${p:-0}; f=${f:-0}; s=${s:-0}
		passed "$p"
		i=0
		while [ $i -lt "$s" ]; do
			skipped "unit/$name" "a cmocka test called skip()"
			i=$((i + 1))
		done
		if [ "$f" -gt 0 ] || [ $rc -ne 0 ] || [ $((p + s)) -eq 0 ]; then
			[ "$f" -gt 0 ] || f=1
			failed "unit/$name" "$f"
			cat "$tmp/out"
			echo "FAIL unit/$name ($f) $(took "$t0")"
		else
			echo "PASS unit/$name ($p) $(took "$t0")"
		fi
	done
	group_end unit
}

# 2. data-driven match tests, and NAB's scorer against NAB's published
#    scores (a SKIP without the data in ../shared/data, beside the clone)
run_data() {
	group_start
	if want data/match; then
		ran=$((ran + 1))
		if [ ! -x "$BUILD"/tests/datatest ]; then
			skipped data/match "$BUILD/tests/datatest is not built"
		else
			"$BUILD"/tests/datatest tests/data/*.test >"$tmp/out" 2>&1
			grep -v '^datatest:' "$tmp/out"
			p=$(sed -n 's/^datatest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/out")
			f=$(sed -n 's/^datatest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/out")
			if [ -z "$p" ] || [ "$p" -eq 0 ]; then
				failed "data/match (datatest did not finish)"
				echo "FAIL data/match (datatest did not finish)"
			else
				passed "$p"
				if [ "$f" -eq 0 ]; then
					echo "PASS data/match ($p cases)"
				else
					failed "data/match ($f cases)" "$f"
					echo "FAIL data/match ($f of $((p + f)) cases)"
				fi
			fi
		fi
	fi
	if want data/nab-scorer; then
		ran=$((ran + 1))
		if [ ! -x "$BUILD"/tests/nabeval ]; then
			skipped data/nab-scorer "$BUILD/tests/nabeval is not built"
		else
			"$BUILD"/tests/nabeval check "${NAB_DATA:-../shared/data/nab-realtweets}" >"$tmp/out" 2>&1
			rc=$?
			grep -E '^(FAIL|SKIP)' "$tmp/out"
			p=$(grep -c '^PASS' "$tmp/out")
			passed "$p"
			count_skips data/nab-scorer "$tmp/out"
			if [ $rc -ne 0 ] || grep -q '^FAIL' "$tmp/out"; then
				cat "$tmp/out"
				failed data/nab-scorer
				echo "FAIL data/nab-scorer"
			elif [ "$p" -gt 0 ]; then
				echo "PASS data/nab-scorer ($p checks)"
			elif ! grep -q '^SKIP' "$tmp/out"; then
				failed "data/nab-scorer (no result)"
				echo "FAIL data/nab-scorer: no PASS, FAIL or SKIP line"
			fi
		fi
	fi
	group_end data
}

# 3. broken rule files: each (a file, or a directory loaded as one rule
#    set) must make `tidewatch check` exit 1 and print on stderr exactly the
#    "# error:" lines of its files, in any order, besides "N errors".
run_bad_rules() {
	group_start
	for case in tests/rules-bad/*; do
		[ -e "$case" ] || continue
		want "bad-rules/$(basename "$case")" || continue
		if [ -d "$case" ]; then
			set --
			for f in "$case"/*.yaml "$case"/*.yml; do
				[ -f "$f" ] && set -- "$@" "$f"
			done
		else
			set -- "$case"
		fi
		[ $# -gt 0 ] || set -- /dev/null
		sed -n 's/^# error: //p' "$@" | LC_ALL=C sort >"$tmp/want"
		"$TIDEWATCH" check "$case" >"$tmp/stdout" 2>"$tmp/stderr"
		rc=$?
		grep -v '^[0-9]* errors\{0,1\}$' "$tmp/stderr" | LC_ALL=C sort >"$tmp/got"
		ran=$((ran + 1))
		if [ $rc -eq 1 ] && [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got"; then
			passed 1
		else
			failed "bad-rules/$(basename "$case") (exit $rc)"
			echo "FAIL bad-rules/$(basename "$case") (exit $rc)"
			[ -s "$tmp/want" ] || echo "  no '# error:' line in the case"
			diff "$tmp/want" "$tmp/got" |
			    sed -n 's/^</  missing:   /p; s/^>/  unexpected:/p'
		fi
	done
	[ "$ran" -eq 0 ] || echo "bad-rules: $ran cases run"
	group_end bad-rules
}

# 4. the example rules pass their own tests
run_examples() {
	want examples || return 0
	group_start
	ran=1
	if "$TIDEWATCH" check rules/ >"$tmp/out" 2>&1 &&
	    grep -q '^[0-9]* topics, [0-9]* keywords, [0-9]* tests passed$' "$tmp/out"; then
		passed 1
		echo "PASS examples: $(cat "$tmp/out")"
	else
		cat "$tmp/out"
		failed "examples (tidewatch check rules/)"
		echo "FAIL examples (tidewatch check rules/)"
	fi
	group_end examples
}

# 5. integration scripts (numbered, sharing tests/integration/helpers.sh),
#    TEST_JOBS at a time (default: the number of CPUs).  Each script uses
#    its own temp dir and free ports, so scripts run side by side; those in
#    SERIAL run afterwards, one at a time with nothing beside them, because
#    their assertions are about timing a busy machine can upset.  A script's
#    output is held until it ends, then printed in one piece.
SERIAL="0021-flush-size 0036-alert-volume 0067-fault-reloads 0073-detector-scale"
# The slowest of the others start first, so that the last to end is short.
FIRST="0082-alertmanager 0061-fault-kill9 0077-store-reset 0063-fault-kafka
0062-fault-redis-away 0008-schema 0066-fault-backlog 0068-shutdown
0080-sentinel 0050-service 0020-daemon-counts 0064-fault-join-leave"

# script_start NAME: runs tests/integration/NAME.sh in the background; its
# output goes to $idir/NAME.out, then its exit status and wall time (ms)
# to $idir/NAME.done, written last, by a rename, so it marks the end.
script_start() {
	(
		s0=$(now_ms)
		sh "tests/integration/$1.sh" >"$idir/$1.out" 2>&1 </dev/null
		echo "$? $(($(now_ms) - s0))" >"$idir/$1.tmp"
		mv "$idir/$1.tmp" "$idir/$1.done"
	) &
	running="$running $1"
}

# script_report NAME: counts and prints the results of a finished script.
script_report() {
	read -r rc ms <"$idir/$1.done"
	out=$idir/$1.out
	p=$(grep -c '^PASS' "$out")
	f=$(grep -c '^FAIL' "$out")
	s=$(grep -c '^SKIP' "$out")
	grep -E '^(PASS|FAIL|SKIP)' "$out"
	passed "$p"
	count_skips "integration/$1" "$out"
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ] || [ $((p + s)) -eq 0 ]; then
		[ "$f" -gt 0 ] || f=1
		failed "integration/$1" "$f"
		echo "--- output of $1 (exit $rc):"
		cat "$out"
	fi
	printf 'TIME integration/%s %d.%ds\n' "$1" $((ms / 1000)) $((ms % 1000 / 100))
}

# reap_below N: reports finished scripts until fewer than N run.
reap_below() {
	while :; do
		still=""
		for n in $running; do
			if [ -e "$idir/$n.done" ]; then
				script_report "$n"
			else
				still="$still $n"
			fi
		done
		running=$still
		set -- "$1" $running
		[ $(($# - 1)) -lt "$1" ] && return 0
		sleep 0.1
	done
}

run_integration() {
	group_start
	njobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
	[ "$njobs" -ge 1 ] 2>/dev/null || njobs=1
	idir=$tmp/integration
	TW_PORT_DIR=$tmp/ports
	export TW_PORT_DIR
	mkdir -p "$idir" "$TW_PORT_DIR"
	running=""
	later=""
	first=""
	rest=""
	for t in tests/integration/[0-9]*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		want "integration/$name" || continue
		ran=$((ran + 1))
		case " $(echo $SERIAL) " in
		*" $name "*) later="$later $name"; continue ;;
		esac
		case " $(echo $FIRST) " in
		*" $name "*) first="$first $name" ;;
		*) rest="$rest $name" ;;
		esac
	done
	for name in $first $rest; do
		reap_below "$njobs"
		script_start "$name"
	done
	for name in $later; do
		reap_below 1
		script_start "$name"
	done
	reap_below 1
	wait
	group_end integration
}

run_unit
run_data
run_bad_rules
run_examples
run_integration
# a filter that matches nothing: nothing ran, which is not a pass
if [ $((pass + fail + skip)) -eq 0 ]; then
	failed "nothing ran (TESTS=$TESTS matches no suite)"
fi

if [ $skip -gt 0 ]; then
	echo "skipped:$skipped_names"
fi
if [ $fail -gt 0 ]; then
	echo "failed:$failed_names"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
