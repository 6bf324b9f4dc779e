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

# check NAME COMMAND...: PASS if the command succeeds.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# same FILE1 FILE2: compare, showing a diff on mismatch.
same() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff -u "$1" "$2" | head -40
	return 1
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now.
free_port() {
	while :; do
		port=$(( (($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 20000) + 30000 ))
		if ! (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}
