#!/bin/sh
# Runs every test of tidewatch and ends with "N passed, N failed".
#
#   BUILD      build directory (build, or build/san for the sanitizer build)
#   TIDEWATCH  the binary under test
#   TESTS      optional filter: only groups whose name contains it
#              (unit, data, bad-rules, examples, integration)
#
# Unit tests are cmocka binaries; data tests are tests/data/*.test run by
# the datatest tool; bad-rules are broken rule files that must produce
# exactly the errors written in their "# error:" lines; integration tests
# are the numbered scripts in tests/integration/, which print PASS/FAIL.

BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}
export BUILD TIDEWATCH
TOP=$(pwd)
export TOP
pass=0
fail=0
failed_names=""

want() { [ -z "$TESTS" ] || case "$1" in *"$TESTS"*) return 0;; *) return 1;; esac; }

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); failed_names="$failed_names
  $1"; echo "FAIL $1"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. cmocka unit tests
if want unit; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		"$t" >"$tmp/out" 2>&1
		rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tmp/out" | tail -1)
		p=${p:-0}; f=${f:-0}
		pass=$((pass + p))
		if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
			[ "$f" -gt 0 ] || f=1
			fail=$((fail + f))
			failed_names="$failed_names
  unit/$name"
			cat "$tmp/out"
			echo "FAIL unit/$name ($f)"
		else
			echo "PASS unit/$name ($p)"
		fi
	done
fi

# 2. data-driven match tests
if want data; then
	"$BUILD"/tests/datatest tests/data/*.test >"$tmp/out" 2>&1
	grep -v '^datatest:' "$tmp/out"
	p=$(sed -n 's/^datatest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/out")
	f=$(sed -n 's/^datatest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/out")
	if [ -z "$p" ]; then
		bad "data (datatest did not finish)"
	else
		pass=$((pass + p))
		[ "$f" -eq 0 ] || { fail=$((fail + f)); failed_names="$failed_names
  data ($f cases)"; }
		echo "PASS data ($p cases)"
	fi
fi

# 2b. NAB's scorer against NAB's published scores (skipped without the data
#     in ../shared/data, beside the clone)
if want data; then
	"$BUILD"/tests/nabeval check "${NAB_DATA:-../shared/data/nab-realtweets}" >"$tmp/out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP)' "$tmp/out" | grep -v '^PASS'
	p=$(grep -c '^PASS' "$tmp/out")
	pass=$((pass + p))
	if [ $rc -ne 0 ] || grep -q '^FAIL' "$tmp/out"; then
		cat "$tmp/out"; bad "data/nab-scorer"
	elif [ "$p" -gt 0 ]; then
		echo "PASS data/nab-scorer ($p checks)"
	fi
fi

# 3. broken rule files: each must fail with exactly its "# error:" lines
if want bad-rules; then
	for case in tests/rules-bad/*; do
		[ -e "$case" ] || continue
		if [ -d "$case" ]; then files=$(ls "$case"/*.yaml); else files=$case; fi
		# shellcheck disable=SC2086
		sed -n 's/^# error: //p' $files | sort >"$tmp/want"
		"$TIDEWATCH" check "$case" >"$tmp/stdout" 2>"$tmp/stderr"
		rc=$?
		grep -v '^[0-9]* errors\{0,1\}$' "$tmp/stderr" | sort >"$tmp/got"
		if [ $rc -eq 1 ] && [ -s "$tmp/want" ] && cmp -s "$tmp/want" "$tmp/got"; then
			ok
		else
			bad "bad-rules/$(basename "$case") (exit $rc)"
			echo "  expected:"; sed 's/^/    /' "$tmp/want"
			echo "  got:"; sed 's/^/    /' "$tmp/stderr"
		fi
	done
	echo "bad-rules: done"
fi

# 4. the example rules pass their own tests
if want examples; then
	if "$TIDEWATCH" check rules/ >"$tmp/out" 2>&1 &&
	    grep -q '^[0-9]* topics, [0-9]* keywords, [0-9]* tests passed$' "$tmp/out"; then
		ok; echo "PASS examples: $(cat "$tmp/out")"
	else
		cat "$tmp/out"; bad "examples (tidewatch check rules/)"
	fi
fi

# 5. integration scripts (numbered, sharing tests/integration/helpers.sh)
if want integration; then
	for t in tests/integration/[0-9]*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		sh "$t" >"$tmp/out" 2>&1
		rc=$?
		p=$(grep -c '^PASS' "$tmp/out")
		f=$(grep -c '^FAIL' "$tmp/out")
		grep -E '^(PASS|FAIL|SKIP)' "$tmp/out"
		pass=$((pass + p))
		if [ "$f" -gt 0 ] || [ $rc -ne 0 ]; then
			[ "$f" -gt 0 ] || f=1
			fail=$((fail + f))
			failed_names="$failed_names
  integration/$name"
			echo "--- output of $name:"; cat "$tmp/out"
		fi
	done
fi

if [ $fail -gt 0 ]; then
	echo "failed:$failed_names"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
