#!/bin/sh
# bench_e2e.sh — tidewatch end to end: Kafka (mock) → tidewatch run → Redis.
#
# One run, one mock cluster, one redis-server, all on loopback in a temp dir
# (removed on exit; every server killed by PID):
#
#  1. Throughput.  POSTS posts (~300-byte JSON, bench_match's generator:
#     mixed Chinese/English, ~4% match a topic of its 1,000-keyword rule
#     set) are produced once to topic "bench", with enough partitions that
#     the mock keeps them all (it keeps ~5 MiB per partition); then, REPEAT
#     times, interleaved so that the machine's noise hits all alike:
#       ceiling    build/bench/bare_consumer drains the topic (new group):
#                  msgs/s from its first message to its last;
#       threads=1  tidewatch run, 1,000-keyword rules, a new group;
#       threads=2  the same with two consumer threads;
#       malloc=... threads=1 with glibc's malloc (build/bench/tidewatch-glibc)
#                  and with jemalloc preloaded into that build, if
#                  installed: the daemon links tcmalloc (see the Makefile).
#     The daemon's posts/s is read from Redis: the sum of the positions it
#     stores in <prefix>pos:<group> (= posts counted) is polled every 20 ms
#     with Redis's clock.  It rises in steps, one per flush (1 s).  The rate
#     is (sum after the last full flush - sum after the first flush) / (time
#     between them): the first flush holds the group join, the last one
#     only the tail of the backlog, so both ends are whole flush intervals
#     of steady consumption.  Medians of REPEAT runs; ratio = daemon median
#     / ceiling median.  CPU per post (whole process, every thread) is
#     printed too: it depends much less on what else the machine runs; and
#     so is the CPU of the consumer threads alone (named tw-consumer-N, read
#     from /proc) per post, summed over them: consumer_cpu_us_per_post,
#     whose threads=2 / threads=1 ratio is about 1 when threads share
#     nothing on the per-post path.
#  2. Alert latency.  Topic "live1" gets background posts at 20k/s (times =
#     wall clock), the daemon (threads: 1) runs with the 1,000-keyword rules
#     plus BURSTS topics burst-NN (threshold 50 in 10 s, cooldown 1h), and
#     build/bench/bench_latency produces a 60-post burst per topic, about
#     every 2 s, and timestamps the first post and the alert's arrival on
#     PSUBSCRIBE <prefix>alerts:* (one process, one clock).
#  3. Flushes.  At 20k/s (the latency run) and 100k/s (topic "live2"), with
#     log.level debug: the daemon's "flushed" lines give entries, commands
#     and bytes per flush, the position steps in Redis give posts per
#     flush, and INFO commandstats gives EVALSHA calls per flush (the round
#     trips; counted, not assumed).  Medians over the steady part.
#
# Environment: BUILD (build), TIDEWATCH (./tidewatch), BENCH_POSTS
# (5000000), BENCH_REPEAT (3), BENCH_BURSTS (24), BENCH_FLUSH_SECS (12).
# Ends with the machine-readable lines "bench-e2e ...", "bench-latency ..."
# and "bench-flush ...".  Exit status 1 when a run failed (not when a target
# is missed: the lines say that).
set -u

BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-./tidewatch}
POSTS=${BENCH_POSTS:-5000000}
REPEAT=${BENCH_REPEAT:-3}
BURSTS=${BENCH_BURSTS:-24}
FLUSH_SECS=${BENCH_FLUSH_SECS:-12}
PREFIX=tidewatch:

T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-bench.XXXXXX") || exit 1
PIDS=""
RESULTS="$T/results"
: >"$RESULTS"

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

track_pid() { PIDS="$PIDS $1"; }
untrack_pid() {
	_l=""
	for _p in $PIDS; do
		[ "$_p" = "$1" ] || _l="$_l $_p"
	done
	PIDS=$_l
}
# stop PID: SIGTERM and wait for it
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	untrack_pid "$1"
}
die() {
	echo "bench-e2e: $*" >&2
	exit 1
}
note() { echo "  $*"; }

# wait_for SECONDS COMMAND...: polls every 0.2 s until the command succeeds.
wait_for() {
	_n=$(( $1 * 5 ))
	shift
	while [ $_n -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
		_n=$((_n - 1))
	done
	return 1
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA";
    else if (NR % 2) print v[(NR + 1) / 2];
    else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for tool in kafka-mock kafka-produce freeport; do
	[ -x "$BUILD/tests/$tool" ] || die "$BUILD/tests/$tool missing (make bench builds it)"
done
for tool in bare_consumer bench_latency bench_match; do
	[ -x "$BUILD/bench/$tool" ] || die "$BUILD/bench/$tool missing (make bench builds it)"
done
[ -x "$TIDEWATCH" ] || die "$TIDEWATCH missing"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
	die "redis-server and redis-cli are needed"
fi
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# --- servers ----------------------------------------------------------------

echo "bench-e2e: generating $POSTS posts and the 1,000-keyword rule set"
mkdir -p "$T/rules" "$T/redis"
now=$(date +%s)
"$BUILD"/bench/bench_match --emit-rules 1000 "$T/rules/bench.yaml" \
    --emit-posts "$POSTS" "$T/posts.jsonl" --time $((now - 60)) 60 ||
    die "bench_match --emit failed"
bytes=$(wc -c <"$T/posts.jsonl")
# the mock keeps ~5 MiB per partition: 4 MB each leaves room for overhead
PARTS=$(( bytes / 4000000 + 1 ))
[ $PARTS -ge 8 ] || PARTS=8
note "posts: $(( bytes / POSTS )) bytes on average, topic bench: $PARTS partitions"

REDIS_PORT=$("$BUILD"/tests/freeport)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$T/redis" --daemonize no >"$T/redis.log" 2>&1 &
track_pid $!
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
wait_for 10 rcli ping || die "redis-server did not start: $(cat "$T/redis.log")"

"$BUILD"/tests/kafka-mock -t "bench:$PARTS" -t live1:8 -t live2:8 \
    >"$T/kafka.out" 2>"$T/kafka.err" </dev/null &
track_pid $!
wait_for 10 test -s "$T/kafka.out" || die "kafka-mock did not start: $(cat "$T/kafka.err")"
BROKERS=$(head -1 "$T/kafka.out")

# Sum of the stored positions (posts counted) and Redis's clock, one line.
SUM_LUA="local h = redis.call('HGETALL', KEYS[1]) local s = 0
for i = 1, #h, 2 do local p = string.sub(h[i], 1, 2)
  if p ~= 't:' and p ~= 'l:' then s = s + tonumber(h[i + 1]) end end
local t = redis.call('TIME')
return t[1] .. '.' .. string.format('%06d', t[2]) .. ' ' .. s"
counted() { rcli EVAL "$SUM_LUA" 1 "${PREFIX}pos:$1" | awk '{ print $2 }'; }
all_counted() { [ "$(counted "$1")" = "$POSTS" ]; }
# poll GROUP FILE: samples every 20 ms into FILE until killed; sets POLL_PID
poll() {
	redis-cli -p "$REDIS_PORT" -r 1000000 -i 0.02 EVAL "$SUM_LUA" 1 \
	    "${PREFIX}pos:$1" >"$2" 2>/dev/null &
	POLL_PID=$!
	track_pid $POLL_PID
}

# write_cfg FILE GROUP TOPIC THREADS RULES LOGLEVEL
write_cfg() {
	cat >"$1" <<EOF
kafka: {brokers: "$BROKERS", topics: [$3], group: $2}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 1s}
rules: {paths: ["$5"]}
metrics: {listen: ""}
log: {level: $6}
threads: $4
EOF
}

# start_daemon NAME CONFIG [BINARY [PRELOAD]]: sets DPID
start_daemon() {
	LD_PRELOAD=${4:-} "${3:-$TIDEWATCH}" run -c "$2" >"$T/$1.log" 2>&1 &
	DPID=$!
	track_pid $DPID
}

# cpu_s PID: CPU seconds of the process so far (every thread)
cpu_s() {
	if [ -r "/proc/$1/stat" ]; then
		awk -v hz="$CLK_TCK" '{ printf "%.3f\n", ($14 + $15) / hz }' \
		    "/proc/$1/stat"
	else
		echo 0
	fi
}

# consumer_cpu_s PID: CPU seconds of its consumer threads (named
# tw-consumer-N), each, comma-separated; for a build older than the names,
# every unnamed thread but the main one
consumer_cpu_s() {
	_pat=tw-consumer-*
	grep -q '^tw-consumer-' /proc/"$1"/task/*/comm 2>/dev/null || _pat=tidewatch
	for _t in /proc/"$1"/task/*; do
		[ "$_pat" = tidewatch ] && [ "${_t##*/}" = "$1" ] && continue
		case $(cat "$_t/comm" 2>/dev/null) in
		$_pat)
			awk -v hz="$CLK_TCK" '{ sub(/.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' \
			    "$_t/stat" ;;
		esac
	done | paste -sd, -
}

# steady_rate FILE: posts/s between the first and the last full flush (see
# the header); the position steps of one flush (of every thread) arrive
# within 300 ms of each other and count as one.
steady_rate() {
	awk '{ t = $1 + 0; v = $2 + 0 }
	v > 0 && v != last {
		if (n == 0 || t - T[n] > 0.3) n++
		T[n] = t; V[n] = v; last = v
	}
	END {
		if (n >= 3) printf "%.0f %d\n", (V[n-1] - V[1]) / (T[n-1] - T[1]), n - 2
		else if (n == 2) printf "%.0f 1\n", (V[2] - V[1]) / (T[2] - T[1])
		else print "NA 0"
	}' "$1"
}

# --- 1. throughput ------------------------------------------------------------

echo "bench-e2e: producing $POSTS posts to topic bench"
"$BUILD"/tests/kafka-produce -k -v -b "$BROKERS" -t bench "$T/posts.jsonl" \
    2>"$T/produce.err" || die "producing failed: $(cat "$T/produce.err")"
note "$(tail -1 "$T/produce.err" | sed 's/^kafka-produce: //')"
rm -f "$T/posts.jsonl"

# daemon_run THREADS RUN [LABEL BINARY [PRELOAD]]: one throughput
# measurement of tidewatch run (LABEL: another build or allocator)
daemon_run() {
	key="t$1${3:+-$3}" label=${3:-}
	g="$key-r$2"
	rcli flushall >/dev/null
	write_cfg "$T/$g.yaml" "$g" bench "$1" "$T/rules/bench.yaml" info
	poll "$g" "$T/$g.poll"
	start_daemon "$g" "$T/$g.yaml" "${4:-}" "${5:-}"
	if ! wait_for 300 all_counted "$g"; then
		stop $DPID
		stop $POLL_PID
		die "threads=$1: not every post counted (see $T/$g.log)"
	fi
	cpu=$(cpu_s $DPID)
	tcpu=$(consumer_cpu_s $DPID)
	sleep 0.1
	stop $DPID
	stop $POLL_PID
	# shellcheck disable=SC2046 # "rate intervals", split on purpose
	set -- $(steady_rate "$T/$g.poll") "$1"
	# the consumer threads' CPU per post: summed over the threads, so
	# it stays flat when threads add nothing but parallelism
	tus=$(echo "$tcpu" | awk -F, -v p="$POSTS" '{ for (i = 1; i <= NF; i++) s += $i }
	    END { printf "%.3f", s * 1e6 / p }')
	awk -v r="$1" -v n="$2" -v th="$3" -v c="$cpu" -v p="$POSTS" -v l="${label:+ malloc=$label}" -v tc="$tcpu" -v tu="$tus" 'BEGIN {
	    printf "  threads=%s%s posts_per_s=%s (over %d flush intervals) cpu_us_per_post=%.2f consumer_threads_cpu_s=%s consumer_cpu_us_per_post=%s\n",
	    th, l, r, n, c * 1e6 / p, tc, tu }'
	echo "$key $1 $(awk -v c="$cpu" -v p="$POSTS" 'BEGIN { printf "%.3f", c * 1e6 / p }') $tus" >>"$RESULTS"
}

ceiling_run() {
	out=$("$BUILD"/bench/bare_consumer -b "$BROKERS" -t bench -g "ceil-r$1" \
	    -n "$POSTS" -T 120) || die "bare_consumer did not get $POSTS messages"
	c_rate=$(echo "$out" | sed -n 's/.*msgs_per_s=\([0-9]*\).*/\1/p')
	c_cpu=$(echo "$out" | sed -n 's/.*cpu_us_per_msg=\([0-9.]*\).*/\1/p')
	note "ceiling msgs_per_s=$c_rate cpu_us_per_msg=$c_cpu"
	echo "ceil $c_rate $c_cpu" >>"$RESULTS"
}

# the allocator figures: the daemon linked with glibc's malloc, and with
# jemalloc preloaded into that one, where they are there
GLIBC_BIN="$BUILD/bench/tidewatch-glibc"
JEMALLOC=""
for f in /usr/lib/*/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
	[ -r "$f" ] && JEMALLOC=$f && break
done
if [ ! -x "$GLIBC_BIN" ]; then
	note "$GLIBC_BIN missing: no allocator figures (make bench builds it)"
	GLIBC_BIN=""
elif [ -z "$JEMALLOC" ]; then
	note "libjemalloc.so.2 not installed (Debian's libjemalloc2): no jemalloc figure"
fi

echo "bench-e2e: throughput, $REPEAT rounds of ceiling / threads=1 / threads=2${GLIBC_BIN:+ / threads=1 with glibc's malloc}${JEMALLOC:+ / with jemalloc}"
round=1
while [ $round -le "$REPEAT" ]; do
	echo " round $round"
	ceiling_run $round
	daemon_run 1 $round
	daemon_run 2 $round
	if [ -x "$GLIBC_BIN" ]; then
		daemon_run 1 $round glibc "$GLIBC_BIN"
		[ -z "$JEMALLOC" ] ||
		    daemon_run 1 $round jemalloc "$GLIBC_BIN" "$JEMALLOC"
	fi
	round=$((round + 1))
done

# --- 2 and 3. live runs: latency and flushes ---------------------------------

# live_run NAME TOPIC RATE SECS [latency]: the daemon (threads 1, debug log)
# on TOPIC while posts arrive at RATE/s for SECS (or during the bursts);
# appends a "flush" line to RESULTS.
live_run() {
	name=$1 topic=$2 rate=$3 secs=$4 lat=${5:-}
	rcli flushall >/dev/null
	rules="$T/rules/bench.yaml"
	if [ -n "$lat" ]; then
		mkdir -p "$T/lrules"
		cp "$T/rules/bench.yaml" "$T/lrules/"
		{
			echo "topics:"
			i=1
			while [ $i -le "$BURSTS" ]; do
				n=$(printf %02d $i)
				echo "  - id: burst-$n"
				echo "    match: {any: [twburst$n]}"
				echo "    alert: {window: 10s, threshold: 50, cooldown: 1h}"
				i=$((i + 1))
			done
		} >"$T/lrules/bursts.yaml"
		rules="$T/lrules"
	fi
	write_cfg "$T/$name.yaml" "$name" "$topic" 1 "$rules" debug
	"$TIDEWATCH" check -c "$T/$name.yaml" >/dev/null 2>"$T/$name.check" ||
	    die "config or rules invalid: $(cat "$T/$name.check")"
	# posts dated from the moment they are produced on, as a live stream
	# (the detector follows the posts' time): production starts at t_start
	t_start=$(( $(date +%s) + 8 ))
	"$BUILD"/bench/bench_match --emit-posts $((rate * secs)) "$T/$name.jsonl" \
	    --time "$t_start" "$secs" || die "bench_match --emit failed"
	rcli config resetstat >/dev/null
	poll "$name" "$T/$name.poll"
	start_daemon "$name" "$T/$name.yaml"
	wait_for 30 grep -q 'partitions assigned' "$T/$name.log" ||
	    die "$name: the daemon did not join the group (see $T/$name.log)"
	while [ "$(date +%s)" -lt "$t_start" ]; do
		sleep 0.05
	done
	"$BUILD"/tests/kafka-produce -k -r "$rate" -b "$BROKERS" -t "$topic" \
	    "$T/$name.jsonl" 2>"$T/$name.produce" &
	PPID_=$!
	track_pid $PPID_
	if [ -n "$lat" ]; then
		sleep 3
		"$BUILD"/bench/bench_latency -b "$BROKERS" -t "$topic" \
		    -r "127.0.0.1:$REDIS_PORT" -p "$PREFIX" -n "$BURSTS" -k 60 \
		    -g 1500 >"$T/latency.out" 2>&1
		lat_rc=$?
		t_end=$(date +%s)
		stop $PPID_
	else
		wait $PPID_
		untrack_pid $PPID_
		t_end=$(date +%s)
	fi
	sleep 1.5
	stop $DPID
	stop $POLL_PID
	rm -f "$T/$name.jsonl"
	rcli info commandstats >"$T/$name.cmdstats"

	evalsha=$(sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' "$T/$name.cmdstats")
	flushes=$(grep -c 'msg="flushed"' "$T/$name.log")
	# steady part: from 2 s after the stream started to 1 s before it ended
	lo=$(( (t_start + 2) % 86400 )) hi=$(( (t_end - 1) % 86400 ))
	grep 'msg="flushed"' "$T/$name.log" | awk -v lo="$lo" -v hi="$hi" '{
		split(substr($1, 15, 8), c, ":")	# ts=YYYY-MM-DDTHH:MM:SS
		s = c[1] * 3600 + c[2] * 60 + c[3]
		if (lo <= hi ? (s < lo || s > hi) : (s < lo && s > hi)) next
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			v[kv[1]] = kv[2]
		}
		print v["entries"], v["commands"], v["bytes"], v["ms"]
	}' >"$T/$name.flushes"
	awk -v lo="$((t_start + 2))" -v hi="$((t_end - 1))" '{ t = $1 + 0; v = $2 + 0 }
	    v != last { if (n++ && t >= lo && t <= hi) print v - last; last = v }' \
	    "$T/$name.poll" >"$T/$name.steps"
	med() { cut -d' ' -f"$1" "$T/$name.flushes" | median; }
	echo "flush $rate $(median <"$T/$name.steps") $evalsha $flushes $(med 1) $(med 2) $(med 3) $(med 4)" >>"$RESULTS"
	note "rate=$rate: $flushes flushes, $evalsha EVALSHA calls, $(wc -l <"$T/$name.flushes") flushes in the steady part"
}

echo "bench-e2e: alert latency ($BURSTS bursts, background 20000 posts/s) and flushes at 20000/s"
live_run live1 live1 20000 $((BURSTS * 2 + 15)) latency
sed 's/^/  /' "$T/latency.out" | grep -v '^  bench-latency'
grep '^bench-latency' "$T/latency.out" >/dev/null ||
    die "bench_latency failed: $(cat "$T/latency.out")"

echo "bench-e2e: flushes at 100000/s"
live_run live2 live2 100000 "$FLUSH_SECS"

# --- results -------------------------------------------------------------------

echo
ceil=$(awk '$1 == "ceil" { print $2 }' "$RESULTS" | median)
ceil_cpu=$(awk '$1 == "ceil" { print $3 }' "$RESULTS" | median)
for th in 1 2; do
	rate=$(awk -v k="t$th" '$1 == k { print $2 }' "$RESULTS" | median)
	cpu=$(awk -v k="t$th" '$1 == k { print $3 }' "$RESULTS" | median)
	tus=$(awk -v k="t$th" '$1 == k { print $4 }' "$RESULTS" | median)
	eval "tus$th=\$tus"
	awk -v th="$th" -v r="$rate" -v c="$ceil" -v cpu="$cpu" -v cc="$ceil_cpu" -v tu="$tus" 'BEGIN {
	    printf "bench-e2e threads=%s posts_per_s=%.0f ceiling_posts_per_s=%.0f ratio=%.2f cpu_us_per_post=%s consumer_cpu_us_per_post=%s ceiling_cpu_us_per_msg=%s\n",
	    th, r, c, (c > 0 ? r / c : 0), cpu, tu, cc }'
done
# CPU of the consumer threads per post, threads=2 over threads=1: about 1
# when the threads share nothing on the per-post path
awk -v a="$tus1" -v b="$tus2" 'BEGIN {
    printf "bench-e2e consumer_cpu_us_per_post threads1=%s threads2=%s ratio=%.2f\n",
    a, b, (a > 0 ? b / a : 0) }'
for key in t1-glibc t1-jemalloc; do
	grep -q "^$key " "$RESULTS" || continue
	rate=$(awk -v k="$key" '$1 == k { print $2 }' "$RESULTS" | median)
	cpu=$(awk -v k="$key" '$1 == k { print $3 }' "$RESULTS" | median)
	awk -v m="${key#t1-}" -v r="$rate" -v c="$ceil" -v cpu="$cpu" 'BEGIN {
	    printf "bench-e2e threads=1 malloc=%s posts_per_s=%.0f ceiling_posts_per_s=%.0f ratio=%.2f cpu_us_per_post=%s\n",
	    m, r, c, (c > 0 ? r / c : 0), cpu }'
done
grep '^bench-latency' "$T/latency.out"
awk '$1 == "flush" {
	printf "bench-flush rate=%s posts_per_flush=%s round_trips_per_flush=%.2f bytes_per_flush=%s commands_per_flush=%s entries_per_flush=%s flush_ms=%s\n",
	    $2, $3, ($5 > 0 ? $4 / $5 : 0), $8, $7, $6, $9 }' "$RESULTS"
[ "${lat_rc:-1}" -eq 0 ] || exit 1
exit 0
