# Shared by the numbered integration scripts (sourced, POSIX sh).
#
# Each script calls pass/fail per check; tests/run.sh counts the PASS and
# FAIL lines.  T is a private temp dir removed on exit, and every server a
# script starts is registered with track_pid so cleanup kills it by PID.

TIDEWATCH=${TIDEWATCH:-build/tidewatch}
T=$(mktemp -d "${TMPDIR:-/tmp}/tidewatch-test.XXXXXX")
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
trap 'exit 1' INT TERM

track_pid() { PIDS="$PIDS $1"; }

pass() { echo "PASS $SCRIPT: $1"; }
fail() { echo "FAIL $SCRIPT: $1"; }

# check NAME COMMAND...: PASS if the command succeeds; returns its status,
# so `check … || show-more` can add detail to a failure.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; return 1; fi
}

# same FILE1 FILE2: compare, showing a diff on mismatch.
same() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff -u "$1" "$2" | head -40
	return 1
}

BUILD=${BUILD:-build}

# free_port: a TCP port on 127.0.0.1 nobody listens on now.  When
# tests/run.sh runs scripts side by side it sets TW_PORT_DIR, where each
# port handed out is claimed (mkdir is atomic), so two scripts never get
# the same port between freeport's check and their server's bind.
free_port() {
	_tries=0
	while _port=$("$BUILD"/tests/freeport); do
		if [ -z "$TW_PORT_DIR" ] || mkdir "$TW_PORT_DIR/$_port" 2>/dev/null ||
		    [ $_tries -ge 50 ]; then
			echo "$_port"
			return 0
		fi
		_tries=$((_tries + 1))
	done
	return 1
}

# need CMD...: skip the whole script (SKIP line, exit 0) if a command is
# missing.  Every script names exactly the commands it runs besides
# coreutils, sed, awk, grep and the project's own binaries, including those
# of the helpers below (start_redis: redis-server, redis-cli; produce:
# kcat).  tests/run.sh counts each SKIP, and with REQUIRE_ALL=1 (as in CI)
# a SKIP fails the run.
need() {
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP $SCRIPT: $c is not installed"
			exit 0
		fi
	done
}

# have CMD, skip REASON: for a part of a script that runs only where CMD
# is installed; skip prints the SKIP line tests/run.sh counts.
have() { command -v "$1" >/dev/null 2>&1; }
skip() { echo "SKIP $SCRIPT: $1"; }

# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds.
wait_for() {
	_n=$(( $1 * 10 ))
	shift
	while [ $_n -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# start_redis [EXTRA ARGS]: a private redis-server on a free loopback port;
# sets REDIS_PORT and REDIS_PID.
start_redis() {
	need redis-server redis-cli
	REDIS_PORT=${REDIS_PORT:-$(free_port)}
	mkdir -p "$T/redis"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
	    --appendonly no --dir "$T/redis" --daemonize no "$@" \
	    >>"$T/redis.log" 2>&1 &
	REDIS_PID=$!
	track_pid $REDIS_PID
	wait_for 10 redis-cli -p "$REDIS_PORT" ping || {
		echo "FAIL $SCRIPT: redis-server did not start"; cat "$T/redis.log"; exit 1; }
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# start_kafka [topic:partitions...]: the mock cluster; sets BROKERS,
# KAFKA_PID and KAFKA_CTL (a FIFO that takes fault commands).
start_kafka() {
	KAFKA_CTL="$T/kafka.ctl"
	mkfifo "$KAFKA_CTL"
	_args=""
	for tp in "$@"; do _args="$_args -t $tp"; done
	[ -n "$_args" ] || _args="-t posts:4"
	# shellcheck disable=SC2086
	"$BUILD"/tests/kafka-mock $_args -c "$KAFKA_CTL" >"$T/kafka.out" 2>"$T/kafka.err" &
	KAFKA_PID=$!
	track_pid $KAFKA_PID
	wait_for 10 test -s "$T/kafka.out" || {
		echo "FAIL $SCRIPT: kafka-mock did not start"; cat "$T/kafka.err"; exit 1; }
	BROKERS=$(head -1 "$T/kafka.out")
}

# produce FILE [TOPIC]: every line of FILE as one message, with kcat as a
# user would (the script needs kcat).
produce() {
	kcat -P -l -b "$BROKERS" -t "${2:-posts}" "$1"
}

# SHORT_SESSION: kafka.properties for a script that stops or kills a
# daemon and starts another in the same group: the partitions of a member
# gone are handed on after 3 s instead of the daemon's 10 s session
# timeout (the mock cluster waits for it even after a clean leave).
SHORT_SESSION="session.timeout.ms: 3000, heartbeat.interval.ms: 300"

# write_config FILE [extra YAML lines on stdin]; METRICS: the metrics
# listener (none by default); KAFKA_PROPS, if set, is the inside of
# kafka.properties (e.g. "$SHORT_SESSION").
write_config() {
	{
		echo "kafka: {brokers: \"$BROKERS\", topics: [posts], group: ${GROUP:-tw}${KAFKA_PROPS:+, properties: {$KAFKA_PROPS\}}}"
		echo "redis: {address: \"127.0.0.1:$REDIS_PORT\", flush_interval: ${FLUSH:-250ms}}"
		echo "rules: {paths: [\"${RULES:-$TOP/rules}\"], reload: ${RELOAD:-signal}}"
		echo "metrics: {listen: \"${METRICS:-}\"}"
		cat
	} >"$1"
}

# start_daemon NAME CONFIG: tidewatch run in the background; sets
# DAEMON_PID (and NAME_PID is the same).
start_daemon() {
	"$TIDEWATCH" run -c "$2" >>"$T/$1.log" 2>&1 &
	DAEMON_PID=$!
	track_pid $DAEMON_PID
	eval "$1_PID=$DAEMON_PID"
}

# consumed_offsets: the sum of the next offsets stored in Redis.
consumed_offsets() {
	rcli hgetall "tidewatch:pos:${GROUP:-tw}" | awk 'NR % 2 == 1 { f = $0; next }
	    f !~ /^[tl]:/ { s += $0 } END { print s + 0 }'
}

# key_counts KEY: "bucket count" lines of one counter key (10 s buckets),
# read by deploy/tidewatch-counts.lua as an operator would.
key_counts() {
	rcli --eval "$TOP/deploy/tidewatch-counts.lua" "$1" , 10
}

# redis_counts: "topic bucket count" lines of every counter, sorted: the
# same script as key_counts, loaded once and run on every key through one
# redis-cli (each reply follows an ECHO of its key).
redis_counts() {
	_sha=$(rcli SCRIPT LOAD "$(cat "$TOP/deploy/tidewatch-counts.lua")")
	rcli --scan --pattern 'tidewatch:c:*' |
	    awk -v sha="$_sha" '{ print "ECHO @@" $0; print "EVALSHA " sha " 1 " $0 " 10" }' |
	    rcli | awk '/^@@/ { split(substr($0, 3), k, ":"); t = k[3]; next }
		$0 != "" { print t, $0 }' | sort
}

# offline_counts POSTS RULES: the same lines computed by tidewatch match,
# with 10 s buckets of each post's "time".
offline_counts() {
	"$TIDEWATCH" match -r "$2" "$1" >"$T/offline.jsonl"
	awk 'NR == FNR {
		if (match($0, /"time":[0-9]+/))
			t[FNR] = substr($0, RSTART + 7, RLENGTH - 7)
		next
	}
	/"error":/ { next }
	{
		b = int(t[FNR] / 10) * 10
		all[b]++
		s = $0
		while (match(s, /\{"id":"[a-z0-9-]+","keywords"/)) {
			id = substr(s, RSTART + 7, RLENGTH - 7 - 12)
			c[id " " b]++
			s = substr(s, RSTART + RLENGTH)
		}
	}
	END {
		for (k in c) print k, c[k]
		for (b in all) print "_all", b, all[b]
	}' "$1" "$T/offline.jsonl" | sort
}

# produce_spread FILE [TOPIC]: like produce, keyed by line number so the
# messages spread over every partition.
produce_spread() {
	"$BUILD"/tests/kafka-produce -b "$BROKERS" -t "${2:-posts}" -k "$1" \
	    2>>"$T/produce.log"
}

# stream FILE RATE: produces FILE at RATE messages/s in the background
# (keyed, so every partition gets some); sets STREAM_PID.
stream() {
	"$BUILD"/tests/kafka-produce -b "$BROKERS" -t "${3:-posts}" -k -r "$2" \
	    "$1" 2>>"$T/produce.log" &
	STREAM_PID=$!
	track_pid $STREAM_PID
}

# all_consumed N: waits (up to 120 s) until the positions stored in Redis
# cover N messages.
all_consumed() {
	wait_for 120 sh -c "[ \$(redis-cli -p $REDIS_PORT hgetall tidewatch:pos:${GROUP:-tw} | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -ge $1 ]"
}

# counts_match POSTS RULES: the Redis counters equal tidewatch match's.
counts_match() {
	offline_counts "$1" "$2" >"$T/want"
	redis_counts >"$T/got"
	same "$T/want" "$T/got"
}
