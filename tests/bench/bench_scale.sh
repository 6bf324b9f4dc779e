#!/bin/sh
# bench_scale.sh — tidewatch at deployment rule counts: 1k, 10k and 100k
# topics.
#
# For each size N in BENCH_SCALE_SIZES (default "1000 10000 100000"):
#  - a rule set of N topics, K keywords each (15 up to 10k topics, 8 beyond,
#    in 10 files), every topic with
#    alert: {window: 5m, baseline: 1d, ratio: 3, min_count: 20}.  The
#    keywords are THUOCL words (THUOCL, default ../shared/data/thuocl-lexicon)
#    when present, otherwise synthetic Latin tokens; a set needing more
#    words than the lexicon holds takes them again in another combination.
#  - a stream of BENCH_SCALE_POSTS posts (default 200000), each one a rule
#    word of a topic drawn at random, between two pieces of filler (COLD
#    comments, ../shared/data/cold-chinese-offensive, when present,
#    otherwise fixed chatter), so that a flush touches as many distinct
#    topics as the posts allow, and not postgen's few.  Posts are dated over
#    the last minute, produced to the mock Kafka (tests/tools/kafka-mock) as
#    a backlog, then drained by `tidewatch run` (threads 1, flush 1 s, log
#    level debug) against a redis-server on a free loopback port.
# Figures, one line per size:
#   compile_s   wall time of `tidewatch check` on the set (load, compile,
#               embedded tests);
#   rss_mb      the daemon's peak RSS (VmHWM) at the end;
#   posts_per_s posts counted (the sum of the positions stored in Redis,
#               polled every 0.2 s) from the first flush that counted any
#               to the last poll, over that time (from the daemon's start
#               if one flush counted them all);
#   tick_ms     median of the detector passes logged once the backlog was
#               counted (up to 5 of them, within BENCH_SCALE_TICK_WAIT
#               seconds, default 60);
#   latency_p99_ms  after the drain, BENCH_SCALE_BURSTS (8) live bursts of
#               60 posts by build/bench/bench_latency, each on its own
#               burst-NN topic (threshold 50 in 10 s): the p99 of the time
#               from a burst's first post produced to its alert on Pub/Sub
#               (NA, said on stderr, when a burst had no alert within
#               BENCH_SCALE_LAT_WAIT s, default 60);
#   redis_mb_per_topic_day  after the bursts, a whole UTC day (yesterday)
#               of posts for BENCH_SCALE_DAY_TOPICS (20) topics, one post
#               per topic in every 10 s bucket naming two of its keywords
#               (and ~120 bytes of Latin padding that hits no topic), is
#               counted by the same daemon; then MEMORY USAGE of each such
#               topic's keys of that day (c:, k:, kn:, b:, bn:) and of its
#               sample set s:, over the topics: the formula of
#               docs/operations.md (Redis schema) for topics active all
#               day.  The backlog's own keys (a minute of posts) are
#               printed above, for comparison;
#   flush_script_max_ms  the slowest flush script inside Redis (the slow
#               log, every EVALSHA over 1 ms), with the calls, mean
#               (INFO commandstats) and how many took 50 ms or more above.
# flush_ms (median of the daemon's "flushed" lines) and the entries per
# flush are printed above each line.
# Each size is bounded by BENCH_SCALE_TIMEOUT seconds of draining (default
# 600): past it, posts_per_s is the rate over what was counted, said on
# stderr.  Everything lives in a temp dir removed on exit; every process
# is stopped by its PID.
#
# Environment: BUILD (build), TIDEWATCH (./tidewatch), BENCH_SCALE_SIZES,
# BENCH_SCALE_POSTS, BENCH_SCALE_TIMEOUT, BENCH_SCALE_TICK_WAIT,
# BENCH_SCALE_BURSTS, BENCH_SCALE_LAT_WAIT, BENCH_SCALE_DAY_TOPICS,
# BENCH_SCALE_FLUSH_MAX (the
# daemon's redis.flush_max_entries; default its own), THUOCL, COLD.
set -u

BUILD=${BUILD:-build}
TIDEWATCH=${TIDEWATCH:-./tidewatch}
SIZES=${BENCH_SCALE_SIZES:-1000 10000 100000}
POSTS=${BENCH_SCALE_POSTS:-200000}
TIMEOUT=${BENCH_SCALE_TIMEOUT:-600}
TICK_WAIT=${BENCH_SCALE_TICK_WAIT:-60}
BURSTS=${BENCH_SCALE_BURSTS:-8}
FLUSH_MAX=${BENCH_SCALE_FLUSH_MAX:-}	# redis.flush_max_entries; empty: default
LAT_WAIT=${BENCH_SCALE_LAT_WAIT:-60}
DAY_TOPICS=${BENCH_SCALE_DAY_TOPICS:-20}
THUOCL=${THUOCL:-../shared/data/thuocl-lexicon}
COLD=${COLD:-../shared/data/cold-chinese-offensive}
PREFIX=tidewatch:

T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-scale.XXXXXX") || exit 1
PIDS=""

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

fail() {
	echo "bench-scale: $*" >&2
	exit 1
}
forget_pid() {
	_keep=""
	for _p in $PIDS; do
		[ "$_p" = "$1" ] || _keep="$_keep $_p"
	done
	PIDS=$_keep
}
# halt PID: SIGTERM, SIGKILL after 30 s (a long detector pass holds it)
halt() {
	kill "$1" 2>/dev/null
	_n=150
	while kill -0 "$1" 2>/dev/null && [ $_n -gt 0 ]; do
		sleep 0.2
		_n=$((_n - 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "bench-scale: pid $1 still running 30 s after SIGTERM: SIGKILL" >&2
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	forget_pid "$1"
}
# retry SECONDS COMMAND...: every 0.2 s until the command succeeds
retry() {
	_n=$(( $1 * 5 ))
	shift
	until "$@" >/dev/null 2>&1; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.2
	done
}
clock() { date +%s.%N; }
# proc_cpu_s PID: CPU seconds of the process so far (every thread)
proc_cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
	    "/proc/$1/stat" 2>/dev/null || echo 0
}

for tool in tests/kafka-mock tests/kafka-produce tests/freeport bench/bench_latency; do
	[ -x "$BUILD/$tool" ] || fail "$BUILD/$tool missing (make bench-scale builds it)"
done
[ -x "$TIDEWATCH" ] || fail "$TIDEWATCH missing"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    fail "redis-server and redis-cli are needed"

# --- words and filler -------------------------------------------------------

if ls "$THUOCL"/THUOCL_*.txt >/dev/null 2>&1; then
	# first column, two characters or more, no quote or backslash, once
	cat "$THUOCL"/THUOCL_*.txt | awk -F '[ \t]' '
	    length($1) >= 6 && $1 !~ /["\\]/ && !seen[$1]++ { print $1 }' \
	    >"$T/words"
	WORDS="THUOCL ($(wc -l <"$T/words") words)"
else
	awk 'BEGIN { a = "bcdfghjklmnpqrstvwxz"; v = "aeiou"
	    for (i = 0; i < 200000; i++) {
	        w = "zq"; x = i
	        do { w = w substr(a, x % 20 + 1, 1) substr(v, int(x / 20) % 5 + 1, 1)
	             x = int(x / 100) } while (x > 0)
	        print w } }' >"$T/words"
	WORDS="synthetic ($(wc -l <"$T/words") words; $THUOCL not found)"
fi
if [ -r "$COLD/train.csv" ]; then
	# the TEXT column (the last), quotes and backslashes dropped, 60 bytes
	awk -F ',' 'NR > 1 { t = $NF; gsub(/["\\\r]/, "", t)
	    if (length(t) > 12) print substr(t, 1, 60) }' "$COLD/train.csv" |
	    iconv -c -f UTF-8 -t UTF-8 >"$T/filler"
	FILLER="COLD comments ($(wc -l <"$T/filler"))"
else
	printf '%s\n' "今天天气不错，出去走走" "终于下班了，累了一天" \
	    "这家店的奶茶很好喝" "Coffee first, then work" "地铁上人好多" \
	    "看了一场精彩的球赛" "晚饭吃什么好呢" >"$T/filler"
	FILLER="fixed chatter ($COLD not found)"
fi
echo "bench-scale: keywords from $WORDS, filler from $FILLER"

# gen_rules N K DIR: N topics of K keywords in DIR (10 files past 10k)
gen_rules() {
	mkdir -p "$3"
	awk -v n="$1" -v k="$2" -v dir="$3" '
	{ w[NR - 1] = $0 }
	END {
		nf = n > 10000 ? 10 : 1
		for (t = 0; t < n; t++) {
			f = sprintf("%s/rules-%02d.yaml", dir, t % nf)
			if (!(f in opened)) { print "topics:" > f; opened[f] = 1 }
			# stride 7919 (prime): a word reused past the lexicon
			# is in another combination
			line = ""
			for (i = 0; i < k; i++) {
				j = t * k + i
				j = (j + int(j / NR) * 7919) % NR
				line = line (i ? ", " : "") "\"" w[j] "\""
			}
			printf "  - id: s%06d\n    match: {any: [%s]}\n", t, line > f
			print "    alert: {window: 5m, baseline: 1d, ratio: 3, min_count: 20}" > f
		}
	}' "$T/words"
}

# gen_burst_rules FILE: BURSTS topics burst-NN for the latency bursts of
# build/bench/bench_latency (its keyword twburstNN, 60 posts per burst)
gen_burst_rules() {
	awk -v n="$BURSTS" 'BEGIN { print "topics:"
	    for (i = 1; i <= n; i++) {
	        printf "  - id: burst-%02d\n    match: {any: [twburst%02d]}\n", i, i
	        print "    alert: {window: 10s, threshold: 50, cooldown: 1h}" } }' >"$1"
}

# gen_posts N K FILE: POSTS posts, each naming a keyword of a random topic
gen_posts() {
	awk -v n="$1" -v k="$2" -v posts="$POSTS" -v now="$(date +%s)" '
	FILENAME == ARGV[1] { w[nw++] = $0; next }
	{ f[nf++] = $0 }
	END {
		srand(14)
		for (p = 0; p < posts; p++) {
			t = int(rand() * n); i = int(rand() * k)
			j = t * k + i
			j = (j + int(j / nw) * 7919) % nw
			printf "{\"id\":\"s%d\",\"text\":\"%s %s，%s\",\"time\":%d}\n",
			    p, f[int(rand() * nf)], w[j], f[int(rand() * nf)],
			    now - 60 + int(p * 60 / posts)
		}
	}' "$T/words" "$T/filler" >"$3"
}

# --- servers ------------------------------------------------------------------

REDIS_PORT=$("$BUILD"/tests/freeport)
mkdir -p "$T/redis"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$T/redis" --daemonize no >"$T/redis.log" 2>&1 &
REDIS_PID=$!
PIDS="$PIDS $REDIS_PID"
rcli() { redis-cli -p "$REDIS_PORT" "$@"; }
retry 10 rcli ping || fail "redis-server did not start: $(cat "$T/redis.log")"

TOPICS=""
for n in $SIZES; do
	TOPICS="$TOPICS -t scale$n:16"
done
# shellcheck disable=SC2086 # one -t per size
"$BUILD"/tests/kafka-mock $TOPICS >"$T/kafka.out" 2>"$T/kafka.err" </dev/null &
PIDS="$PIDS $!"
retry 10 test -s "$T/kafka.out" || fail "kafka-mock did not start: $(cat "$T/kafka.err")"
BROKERS=$(head -1 "$T/kafka.out")

# the posts counted in group G (the positions stored) and Redis's clock
COUNTED_LUA="local s = 0
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h, 2 do
  local f = h[i]
  if f:sub(1, 2) ~= 't:' and f:sub(1, 2) ~= 'l:' then s = s + tonumber(h[i + 1]) end
end
local c = redis.call('TIME')
return c[1] .. '.' .. string.format('%06d', c[2]) .. ' ' .. s"

median_of() { sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) print "NA"; else print v[int((NR + 1) / 2)] }'; }

# script_stats N: the flush scripts' time inside Redis (EVALSHA): calls and
# mean from INFO commandstats (the detector's scripts too), the slowest and
# how many took 50 ms or more from the slow log (every one over 1 ms is
# logged; those whose first key is the positions or the staged list: the
# flush's scripts, staging and applying)
script_stats() {
	_cs=$(rcli info commandstats | tr -d '\r' |
	    sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),usec=[0-9]*,usec_per_call=\([0-9.]*\).*/\1 \2/p')
	# p99 over every call: the calls not logged took under 1 ms
	rcli slowlog get 100000 | awk -v calls="${_cs%% *}" '
	    k > 0 && --k == 0 && /:(pos:.*|staged)$/ { d[++m] = p }
	    /^[0-9]+$/ { v[++n] = $1 } /^EVALSHA$/ { if (n >= 3) { p = v[n]; k = 3 } }
	    { if ($0 !~ /^[0-9]+$/) n = 0 }
	    END { for (i = 1; i <= m; i++) { if (d[i] > mx) mx = d[i]; if (d[i] >= 50000) o++ }
	          r = int((calls + 99) / 100)	# the r-th slowest is the p99
	          for (i = 1; i <= m; i++) print d[i] > "/dev/stderr"
	          printf "%d %.1f %d\n", o, mx / 1000, r }' >"$T/slow$1" 2>"$T/slowall$1"
	read -r _over _max _rank <"$T/slow$1"
	_p99=$(sort -rn "$T/slowall$1" | sed -n "${_rank}p")
	_p99=$(awk -v u="${_p99:-0}" 'BEGIN { printf "%.1f", u / 1000 }')
	[ "${_p99}" != 0.0 ] || _p99="<1"
	echo "  $1 topics: flush scripts: ${_cs%% *} calls, usec_per_call ${_cs#* }, p99 ${_p99} ms, max ${_max} ms, ${_over} of 50 ms or more"
	# inside the scripts: each command's calls and µs (the top six by time)
	echo "  $1 topics: inside the scripts: $(rcli info commandstats | tr -d '\r' |
	    sed -n 's/^cmdstat_\([a-z]*\):calls=\([0-9]*\),usec=\([0-9]*\),.*/\3 \1 \2/p' |
	    grep -v ' evalsha ' | sort -rn | head -6 |
	    awk '{ printf "%s%s %d calls %.2f s", (NR > 1 ? ", " : ""), $2, $3, $1 / 1e6 }')"
	SCRIPT_MAX=$_max
}

# latency N: live bursts after the backlog (the daemon still running):
# bench_latency produces BURSTS bursts of 60 posts, each naming one
# burst-NN topic and dated now, and times each from its first post being
# produced to its alert on <prefix>alerts:*; p99 of those (nearest rank).
# A burst with no alert within BENCH_SCALE_LAT_WAIT s leaves it NA.
latency() {
	"$BUILD"/bench/bench_latency -b "$BROKERS" -t "scale$1" \
	    -r "127.0.0.1:$REDIS_PORT" -p "$PREFIX" -n "$BURSTS" -k 60 \
	    -g 1500 -w "$LAT_WAIT" >"$T/latency$1.out" 2>&1
	_l=$(grep '^bench-latency' "$T/latency$1.out")
	echo "  $1 topics: ${_l:-bench_latency failed: $(tail -1 "$T/latency$1.out")}"
	case $_l in
	*missing=0*)
		LAT_P99=$(echo "$_l" | sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p') ;;
	*)	LAT_P99=NA
		echo "bench-scale: $1 topics: latency_p99_ms NA: not every burst alerted within ${LAT_WAIT}s" >&2 ;;
	esac
}

# memory N [DAY]: Redis bytes per topic-day, from MEMORY USAGE of every
# key a topic has for a day (<p>c:<topic>:<day><hh> of each hour, <p>k:…,
# <p>kn:…, <p>b:…, <p>bn:…) and of its sample set (<p>s:<topic>), over the
# (topic, day) pairs that have a counter key (_all excluded from both): the
# formula of docs/operations.md.  Without DAY: over the backlog's keys (a
# minute of posts); with DAY: over the day stream's topics and that day
# only, each active in every bucket of it (the figure printed).  Also the
# share of each kind of key.
memory() {
	if [ $# -gt 1 ]; then
		while read -r _t; do
			rcli --scan --pattern "${PREFIX}c:$_t:$2??"
			rcli --scan --pattern "${PREFIX}b*:$_t:*:$2" |
			    grep -E "^${PREFIX}bn?:$_t:"
			printf '%s\n' "${PREFIX}k:$_t:$2" "${PREFIX}kn:$_t:$2" \
			    "${PREFIX}s:$_t"
		done <"$T/daytopics" >"$T/keys$1"
	else
		rcli --scan --pattern "${PREFIX}[ckbs]*:*" >"$T/keys$1"
	fi
	awk '{ print "MEMORY USAGE " $0 }' "$T/keys$1" | rcli >"$T/mem$1"
	paste -d' ' "$T/keys$1" "$T/mem$1" | awk -v p="$PREFIX" '
	    { k = substr($1, length(p) + 1); split(k, f, ":") }
	    f[2] == "_all" || $2 !~ /^[0-9]+$/ { next }
	    { bytes += $2; kind[f[1]] += $2 }
	    f[1] == "c" { td[f[2] ":" substr(f[3], 1, 8)] = 1 }
	    END { for (x in td) days++
	          if (days) printf "%.4f", bytes / days / 1048576; else printf "NA"
	          for (x in kind) printf " %s=%.1fKB", x, days ? kind[x] / days / 1024 : 0
	          print "" }' >"$T/memline$1"
	read -r _mb _share <"$T/memline$1"
	if [ $# -gt 1 ]; then
		MB_TOPIC_DAY=$_mb
		echo "  $1 topics: redis_mb_per_topic_day $_mb ($(wc -l <"$T/daytopics") topics active in every bucket of $2; per topic-day: $_share)"
	else
		echo "  $1 topics: $(wc -l <"$T/keys$1") keys; MB per topic-day $_mb over the backlog's keys (a minute of posts; $_share)"
	fi
}

# day_posts N K FILE: a whole UTC day (yesterday) of posts for the first
# DAY_TOPICS topics, one post per topic and 10 s bucket naming two of its
# keywords; prints the day (yyyymmdd) and writes the topic ids to
# $T/daytopics
day_posts() {
	_ds=$(( $(date +%s) / 86400 * 86400 - 86400 ))
	awk -v n="$DAY_TOPICS" -v k="$2" -v ds="$_ds" '
	{ w[nw++] = $0 }
	END {
		pad = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore"
		for (b = 0; b < 8640; b++)
			for (t = 0; t < n; t++) {
				for (i = 0; i < 2; i++) {
					j = t * k + i
					kw[i] = w[(j + int(j / nw) * 7919) % nw]
				}
				printf "{\"id\":\"d%d-%d\",\"text\":\"%s %s，%s\",\"time\":%d}\n",
				    b, t, kw[0], pad, kw[1], ds + b * 10 + t % 10
			}
	}' "$T/words" >"$3"
	awk -v n="$DAY_TOPICS" 'BEGIN { for (t = 0; t < n; t++) printf "s%06d\n", t }' >"$T/daytopics"
	date -u -d "@$_ds" +%Y%m%d
}

# counted_within N SECS: waits until group g<N> has counted $want posts
counted_within() {
	_end=$(( $(date +%s) + $2 ))
	while [ "$(date +%s)" -lt "$_end" ]; do
		_l=$(rcli EVAL "$COUNTED_LUA" 1 "${PREFIX}pos:g$1")
		case $_l in
		[0-9]*\ [0-9]*) [ "${_l#* }" -ge "$want" ] && return 0 ;;
		esac
		sleep 0.5
	done
	return 1
}

# --- one size -------------------------------------------------------------------

# run_size N: prints the bench-scale line of N topics
run_size() {
	n=$1
	if [ "$n" -gt 10000 ]; then k=8; else k=15; fi
	dir="$T/rules$n"
	gen_rules "$n" "$k" "$dir"
	gen_burst_rules "$dir/bursts.yaml"
	echo "bench-scale: $n topics × $k keywords: $(cat "$dir"/*.yaml | wc -c) bytes of rules; generating $POSTS posts"
	gen_posts "$n" "$k" "$T/posts$n.jsonl"
	"$BUILD"/tests/kafka-produce -k -b "$BROKERS" -t "scale$n" \
	    "$T/posts$n.jsonl" 2>"$T/produce$n.err" ||
	    fail "producing failed: $(cat "$T/produce$n.err")"
	rm -f "$T/posts$n.jsonl"

	cfg="$T/scale$n.yaml"
	cat >"$cfg" <<EOF
kafka: {brokers: "$BROKERS", topics: [scale$n], group: g$n}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 1s${FLUSH_MAX:+, flush_max_entries: $FLUSH_MAX}}
rules: {paths: ["$dir"], max_items: 2000000, max_file_bytes: 64MiB}
metrics: {listen: ""}
log: {level: debug}
threads: 1
EOF
	t0=$(clock)
	"$TIDEWATCH" check -c "$cfg" >/dev/null 2>"$T/check$n.err" ||
	    fail "$n topics: tidewatch check failed: $(head -3 "$T/check$n.err")"
	compile_s=$(awk -v a="$t0" -v b="$(clock)" 'BEGIN { printf "%.2f", b - a }')

	rcli flushall >/dev/null
	# every flush script slower than 1 ms is logged, to find the slowest
	rcli config set slowlog-log-slower-than 1000 >/dev/null
	rcli config set slowlog-max-len 100000 >/dev/null
	rcli slowlog reset >/dev/null
	rcli config resetstat >/dev/null
	"$TIDEWATCH" run -c "$cfg" >"$T/run$n.log" 2>&1 &
	dpid=$!
	PIDS="$PIDS $dpid"
	echo "$(clock) 0" >"$T/poll$n"	# the daemon's start
	rcpu0=$(proc_cpu_s "$REDIS_PID")
	deadline=$(( $(date +%s) + TIMEOUT ))
	counted=0
	while [ "$counted" -lt "$POSTS" ] && [ "$(date +%s)" -lt "$deadline" ]; do
		kill -0 "$dpid" 2>/dev/null ||
		    fail "$n topics: the daemon exited: $(tail -3 "$T/run$n.log")"
		line=$(rcli EVAL "$COUNTED_LUA" 1 "${PREFIX}pos:g$n")
		case $line in	# not "BUSY Redis is busy running a script"
		[0-9]*\ [0-9]*)
			echo "$line" >>"$T/poll$n"
			counted=${line#* } ;;
		esac
		sleep 0.2
	done
	drained=$(date +%s)
	dcpu=$(proc_cpu_s "$dpid")
	rcpu=$(awk -v a="$rcpu0" -v b="$(proc_cpu_s "$REDIS_PID")" 'BEGIN { printf "%.2f", b - a }')
	echo "  $n topics: CPU over the drain: daemon ${dcpu} s ($(awk -v c="$dcpu" -v p="$counted" 'BEGIN { printf "%.1f", p ? c * 1e6 / p : 0 }') µs/post), redis-server ${rcpu} s ($(awk -v c="$rcpu" -v p="$counted" 'BEGIN { printf "%.1f", p ? c * 1e6 / p : 0 }') µs/post)"
	# from the first flush that counted posts; if that one counted them
	# all, from the daemon's start (its group join included)
	rate=$(awk 'NR == 1 { s = $1 } $2 > 0 && !t0 { t0 = $1; c0 = $2 }
	    { t = $1; c = $2 }
	    END { if (t0 && t > t0 && c > c0) printf "%.0f\n", (c - c0) / (t - t0)
	          else if (c > 0) printf "%.0f start\n", c / (t - s)
	          else print "NA" }' "$T/poll$n")
	case $rate in
	*start) rate=${rate% start}
		echo "bench-scale: $n topics: one flush counted every post: posts_per_s is over the daemon's whole run, start-up included" >&2 ;;
	esac
	if [ "$counted" -lt "$POSTS" ]; then
		echo "bench-scale: $n topics: $counted of $POSTS posts counted in ${TIMEOUT}s: posts_per_s is the rate over those" >&2
	fi

	# idle detector passes, logged after the drain
	from=$(( $(wc -l <"$T/run$n.log") + 1 ))
	passes() {
		sed -n "$from,\$p" "$T/run$n.log" | sed -n \
		    -e 's/.*msg="detector pass".* ms=\([0-9]*\).*/\1/p' \
		    -e 's/.*msg="detector pass took \([0-9]*\) ms".*/\1/p'
	}
	while [ $(( $(date +%s) - drained )) -lt "$TICK_WAIT" ] &&
	    [ "$(passes | wc -l)" -lt 5 ]; do
		sleep 1
	done
	latency "$n"
	rss=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$dpid/status" 2>/dev/null)
	tick=$(passes | median_of)
	memory "$n"
	# the backlog's and the bursts' flushes
	flush=$(sed -n 's/.*msg="flushed".* ms=\([0-9]*\).*/\1/p' \
	    "$T/run$n.log" | median_of)
	entries=$(sed -n 's/.*msg="flushed".* entries=\([0-9]*\).*/\1/p' \
	    "$T/run$n.log" | median_of)
	echo "  $n topics: flush_ms median $flush, entries per flush median $entries"
	script_stats "$n"
	# a whole day of a few topics, for the memory per topic-day
	day=$(day_posts "$n" "$k" "$T/day$n.jsonl")
	want=$(( counted + BURSTS * 60 + $(wc -l <"$T/day$n.jsonl") ))
	"$BUILD"/tests/kafka-produce -k -b "$BROKERS" -t "scale$n" \
	    "$T/day$n.jsonl" 2>"$T/produce$n.err" ||
	    fail "producing failed: $(cat "$T/produce$n.err")"
	rm -f "$T/day$n.jsonl"
	if counted_within "$n" "$TIMEOUT"; then
		memory "$n" "$day"
	else
		MB_TOPIC_DAY=NA
		echo "bench-scale: $n topics: the day stream was not counted within ${TIMEOUT}s: redis_mb_per_topic_day NA" >&2
	fi
	halt "$dpid"
	[ "$tick" != NA ] ||
	    echo "bench-scale: $n topics: no detector pass within ${TICK_WAIT}s of the drain: tick_ms NA" >&2
	echo "bench-scale topics=$n keywords=$((n * k)) compile_s=$compile_s rss_mb=${rss:-NA} posts_per_s=$rate tick_ms=$tick redis_mb_per_topic_day=$MB_TOPIC_DAY latency_p99_ms=$LAT_P99 flush_script_max_ms=$SCRIPT_MAX" >>"$T/lines"
	tail -1 "$T/lines"
}

: >"$T/lines"
for n in $SIZES; do
	run_size "$n"
done
echo
cat "$T/lines"
