#!/bin/sh
# bench_rules.sh — loading a deployment-sized rule set: time and memory.
#
# For each size N in BENCH_RULES_SIZES (default 100000), a rule set of N
# topics with BENCH_RULES_PER_TOPIC distinct keywords each (default 10: a
# million keywords at 100k topics), written by tests/bench/gen_rules.sh
# (THUOCL words when present, otherwise synthetic).  Three runs of each
# step (BENCH_RULES_RUNS), the median printed:
#   check_s     wall time of `tidewatch check` on the set (load, compile,
#               embedded tests, warnings);
#   ready_s     what the daemon pays from reading the files to a ready
#               matcher: load, compile and embedded tests, in process
#               (build/bench/bench_rules, with the daemon's allocator);
#   load_s, compile_s  rules_load() and match_compile() alone (the same);
#   rss_mb      the daemon's resident memory once it is ready;
#   bytes_per_keyword  that RSS minus the RSS of the same daemon with an
#               empty rule set, over the keywords.
# The daemon runs against the mock Kafka (tests/tools/kafka-mock) and a
# redis-server on a free loopback port; "ready" in its log is when it is
# measured.  One line per size:
#   bench-rules topics=N keywords=K check_s=… ready_s=… load_s=…
#       compile_s=… rss_mb=… bytes_per_keyword=…
# Everything lives in a temp dir removed on exit; every process is stopped
# by its PID.  Environment: BUILD (build), TIDEWATCH (build/tidewatch),
# BENCH_RULES_SIZES, BENCH_RULES_PER_TOPIC, BENCH_RULES_RUNS (3), THUOCL.
set -u

BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-$BUILD/tidewatch}
SIZES=${BENCH_RULES_SIZES:-100000}
PER=${BENCH_RULES_PER_TOPIC:-10}
RUNS=${BENCH_RULES_RUNS:-3}
HERE=$(dirname "$0")

T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-rules.XXXXXX") || exit 1
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "bench-rules: $*" >&2; exit 1; }
clock() { date +%s.%N; }
median3() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "NA" }'; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

for tool in kafka-mock freeport; do
	[ -x "$BUILD/tests/$tool" ] || fail "$BUILD/tests/$tool missing (make bench-rules builds it)"
done
[ -x "$BUILD/bench/bench_rules" ] || fail "$BUILD/bench/bench_rules missing"
command -v redis-server >/dev/null || fail "redis-server is needed"

REDIS_PORT=$("$BUILD"/tests/freeport)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$T" --daemonize no >"$T/redis.log" 2>&1 &
PIDS="$PIDS $!"
"$BUILD"/tests/kafka-mock -t posts:2 >"$T/kafka.out" 2>"$T/kafka.err" </dev/null &
PIDS="$PIDS $!"
n=50
while ! [ -s "$T/kafka.out" ] && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
BROKERS=$(head -1 "$T/kafka.out")
[ -n "$BROKERS" ] || fail "kafka-mock did not start"

# config DIR FILE
config() {
	cat >"$2" <<CFG
kafka: {brokers: "$BROKERS", topics: [posts], group: rules}
redis: {address: "127.0.0.1:$REDIS_PORT"}
rules: {paths: ["$1"], max_items: 100000000, max_file_bytes: 1GiB}
metrics: {listen: ""}
CFG
}

# daemon_rss CONFIG: the ready daemon's VmRSS in kB
daemon_rss() {
	_log="$T/run.log"
	rm -f "$_log"	# the background redirection may create it late
	"$TIDEWATCH" run -c "$1" >"$_log" 2>&1 &
	_pid=$!
	PIDS="$PIDS $_pid"
	_n=1500
	until grep -q 'msg="ready' "$_log" 2>/dev/null; do
		kill -0 "$_pid" 2>/dev/null || fail "the daemon exited: $(tail -3 "$_log")"
		_n=$((_n - 1))
		[ $_n -gt 0 ] || fail "the daemon was not ready in 300 s"
		sleep 0.2
	done
	awk '/^VmRSS/ { print $2 }' "/proc/$_pid/status"
	kill "$_pid"
	wait "$_pid" 2>/dev/null
}

mkdir -p "$T/empty"
echo "topics: []" >"$T/empty/rules.yaml"
config "$T/empty" "$T/empty.yaml"
for i in $(seq "$RUNS"); do daemon_rss "$T/empty.yaml"; done | median3 >"$T/rss0"

for n in $SIZES; do
	dir="$T/rules$n"
	sh "$HERE/gen_rules.sh" "$n" "$PER" "$dir" >/dev/null || fail "gen_rules.sh failed"
	config "$dir" "$T/c$n.yaml"
	kw=$((n * PER))
	: >"$T/check"
	: >"$T/inproc"
	: >"$T/rss"
	for i in $(seq "$RUNS"); do
		t0=$(clock)
		"$TIDEWATCH" check -c "$T/c$n.yaml" >/dev/null 2>"$T/check.err" ||
		    fail "tidewatch check failed: $(grep -v warning: "$T/check.err" | head -3)"
		awk -v a="$t0" -v b="$(clock)" 'BEGIN { printf "%.2f\n", b - a }' >>"$T/check"
		"$BUILD"/bench/bench_rules "$dir" >>"$T/inproc" || fail "bench_rules failed"
		daemon_rss "$T/c$n.yaml" >>"$T/rss"
	done
	rss=$(median3 <"$T/rss")
	echo "bench-rules topics=$n keywords=$kw check_s=$(median3 <"$T/check")" \
	    "ready_s=$(field ready_s <"$T/inproc" | median3)" \
	    "load_s=$(field load_s <"$T/inproc" | median3)" \
	    "compile_s=$(field compile_s <"$T/inproc" | median3)" \
	    "rss_mb=$(awk -v r="$rss" 'BEGIN { printf "%.0f", r / 1024 }')" \
	    "bytes_per_keyword=$(awk -v r="$rss" -v e="$(cat "$T/rss0")" -v k="$kw" \
	        'BEGIN { printf "%.0f", (r - e) * 1024 / k }')"
done
