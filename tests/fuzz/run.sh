#!/bin/sh
# tests/fuzz/run.sh — runs the libFuzzer harnesses built by `make fuzz`.
#
#   run.sh fuzz      each harness for FUZZ_SECONDS on a copy of its seed
#                    corpus (and regression inputs) in $FUZZ_DIR/corpus/;
#                    crashes, leaks and timeouts land in $FUZZ_DIR/artifacts/.
#                    FUZZ_JOBS harnesses (default: the number of CPUs) run
#                    at once, each in one process; their reports are
#                    printed in HARNESSES order as they end.
#   run.sh regress   each harness once over every file of
#                    tests/fuzz/corpus/<h>/ and tests/fuzz/regress/<h>/
#
# Exits 1 if any harness found a crash, a leak or a timeout.  Nothing is
# written under tests/.
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
HARNESSES=${HARNESSES:-"rules config post"}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# -max_len per harness: rule files are the largest inputs.
max_len() {
	case $1 in
	rules) echo 8192 ;;
	config) echo 4096 ;;
	*) echo 8192 ;;
	esac
}

stat_of() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -1
}

# regress_one H: H once over its seed corpus and regression inputs.
regress_one() {
	log=$FUZZ_DIR/$1.log
	files=$(find tests/fuzz/corpus/"$1" tests/fuzz/regress/"$1" \
	    -type f 2>/dev/null | sort)
	n=$(echo "$files" | grep -c .)
	# shellcheck disable=SC2086
	if "$FUZZ_DIR/$1-fuzzer" $files >"$log" 2>&1; then
		echo "fuzz-regress $1: $n inputs ok"
	else
		echo "fuzz-regress $1: FAILED (see $log)"
		tail -n 40 "$log"
		return 1
	fi
}

# fuzz_one H: H for FUZZ_SECONDS on a fresh copy of its corpus; prints its
# report, returns 1 if it found something.
fuzz_one() {
	log=$FUZZ_DIR/$1.log
	corpus=$FUZZ_DIR/corpus/$1
	art=$FUZZ_DIR/artifacts/$1
	mkdir -p "$corpus" "$art"
	cp tests/fuzz/corpus/"$1"/* "$corpus"/
	if [ -d tests/fuzz/regress/"$1" ]; then
		cp tests/fuzz/regress/"$1"/* "$corpus"/ 2>/dev/null
	fi
	echo "fuzz $1: ${FUZZ_SECONDS}s, -max_len=$(max_len "$1")"
	if "$FUZZ_DIR/$1-fuzzer" -max_total_time="$FUZZ_SECONDS" \
	    -max_len="$(max_len "$1")" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$art"/ "$corpus" >"$log" 2>&1; then
		echo "fuzz $1: ok, $(stat_of "$log" number_of_executed_units) runs," \
		    "$(stat_of "$log" average_exec_per_sec) exec/s," \
		    "$(grep -o 'cov: [0-9]*' "$log" | tail -1)," \
		    "corpus $(find "$corpus" -type f | wc -l) inputs"
	else
		echo "fuzz $1: FAILED (log $log, inputs in $art/)"
		tail -n 60 "$log"
		return 1
	fi
}

# report_oldest: waits for the first harness still listed in $running,
# prints its report and drops it from the list.
report_oldest() {
	set -- $running
	wait "${1#*:}" || failed=1
	cat "$FUZZ_DIR/${1%:*}.report"
	shift
	running=$*
}

mode=${1:-fuzz}
failed=0
if [ "$mode" = regress ]; then
	for h in $HARNESSES; do
		regress_one "$h" || failed=1
	done
	exit $failed
fi
njobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$njobs" -ge 1 ] 2>/dev/null || njobs=1
mkdir -p "$FUZZ_DIR"
running=""
for h in $HARNESSES; do
	set -- $running
	[ $# -lt "$njobs" ] || report_oldest
	fuzz_one "$h" >"$FUZZ_DIR/$h.report" 2>&1 &
	running="$running $h:$!"
done
while [ -n "$running" ]; do
	report_oldest
done
exit $failed
