#!/bin/sh
# tests/fuzz/run.sh — runs the libFuzzer harnesses built by `make fuzz`.
#
#   run.sh fuzz      each harness for FUZZ_SECONDS on a copy of its seed
#                    corpus (and regression inputs) in $FUZZ_DIR/corpus/;
#                    crashes, leaks and timeouts land in $FUZZ_DIR/artifacts/
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

mode=${1:-fuzz}
failed=0
for h in $HARNESSES; do
	bin=$FUZZ_DIR/$h-fuzzer
	log=$FUZZ_DIR/$h.log
	if [ "$mode" = regress ]; then
		files=$(find tests/fuzz/corpus/"$h" tests/fuzz/regress/"$h" \
		    -type f 2>/dev/null | sort)
		n=$(echo "$files" | grep -c .)
		# shellcheck disable=SC2086
		if "$bin" $files >"$log" 2>&1; then
			echo "fuzz-regress $h: $n inputs ok"
		else
			echo "fuzz-regress $h: FAILED (see $log)"
			tail -n 40 "$log"
			failed=1
		fi
		continue
	fi
	corpus=$FUZZ_DIR/corpus/$h
	art=$FUZZ_DIR/artifacts/$h
	mkdir -p "$corpus" "$art"
	cp tests/fuzz/corpus/"$h"/* "$corpus"/
	if [ -d tests/fuzz/regress/"$h" ]; then
		cp tests/fuzz/regress/"$h"/* "$corpus"/ 2>/dev/null
	fi
	echo "fuzz $h: ${FUZZ_SECONDS}s, -max_len=$(max_len "$h")"
	if "$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$h")" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$art"/ "$corpus" >"$log" 2>&1; then
		echo "fuzz $h: ok, $(stat_of "$log" number_of_executed_units) runs," \
		    "$(stat_of "$log" average_exec_per_sec) exec/s," \
		    "$(grep -o 'cov: [0-9]*' "$log" | tail -1)," \
		    "corpus $(find "$corpus" -type f | wc -l) inputs"
	else
		echo "fuzz $h: FAILED (log $log, inputs in $art/)"
		tail -n 60 "$log"
		failed=1
	fi
done
exit $failed
