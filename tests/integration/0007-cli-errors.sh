#!/bin/sh
# The command line's errors and log lines, without a server.  A config
# file that is missing or is a directory is an error naming the cause, for
# every subcommand that reads one (not "cannot open: Success", not "ok"
# on the built-in defaults).  A log line keeps an argument holding " | "
# inside its quoted message, and quotes a value that holds spaces.  Under
# journald (JOURNAL_STREAM naming the stream stderr is) every log line
# starts with its syslog priority (<3> error, <4> warn, <6> info), which
# is what `journalctl -p err` filters on; elsewhere with nothing.
SCRIPT=0007-cli-errors
. tests/integration/helpers.sh

need timeout

# refused CMD PATH WHAT MESSAGE: `tidewatch CMD -c PATH` exits 1 with
# PATH: MESSAGE, never "Success" nor "ok"
refused() {
	timeout 10 "$TIDEWATCH" "$1" -c "$2" </dev/null >"$T/out" 2>"$T/err"
	_st=$?
	check "$1 -c $3: exit 1 with the cause ($_st: $(head -1 "$T/err"))" sh -c "
	    [ $_st -eq 1 ] && grep -qF '$2: $4' '$T/err' &&
	    ! grep -q 'Success' '$T/err' && ! grep -q ': ok' '$T/out'"
}
mkdir -p "$T/dir"
for cmd in config check top alerts run; do
	refused $cmd "$T/none.yaml" MISSING \
	    'cannot open: No such file or directory'
	refused $cmd "$T/dir" DIRECTORY 'is a directory, not a config file'
done

# " | " in an argument: stays in the message; a value with spaces quoted
"$TIDEWATCH" run -c "$T/x | level=debug" >"$T/out" 2>"$T/err"
check "' | ' in an argument stays inside msg=\"…\"" grep -qF \
    "level=error msg=\"$T/x | level=debug: cannot open: No such file or directory\"" "$T/err"
check "a value with ' | ' is quoted" grep -qF \
    "msg=\"invalid config, not starting\" file=\"$T/x | level=debug\" errors=1" "$T/err"

# journald: alerts against a Redis nobody listens on logs a warning
port=$(free_port)
cat >"$T/cfg.yaml" <<EOC
redis: {address: "127.0.0.1:$port", timeout: 1s}
log: {level: debug}
EOC
# logs NAME [JOURNAL_STREAM]: a second of alerts' log lines in $T/NAME
logs() {
	: >"$T/$1"
	if [ -n "$2" ]; then
		JOURNAL_STREAM=$2 timeout 1 "$TIDEWATCH" alerts -c "$T/cfg.yaml" \
		    >/dev/null 2>>"$T/$1"
	else
		env -u JOURNAL_STREAM timeout 1 "$TIDEWATCH" alerts \
		    -c "$T/cfg.yaml" >/dev/null 2>>"$T/$1"
	fi
}
: >"$T/j.log"
logs j.log "$(stat -c '%d:%i' "$T/j.log")"
check "journald: the warning starts with <4>" \
    grep -q '^<4>ts=[^ ]* level=warn msg="redis unreachable, retrying"' "$T/j.log"
check "journald: every line starts with its priority" sh -c "
    [ -s '$T/j.log' ] &&
    ! grep -v '^<[3467]>ts=' '$T/j.log' &&
    ! grep '^<[^4]>.* level=warn ' '$T/j.log' &&
    ! grep '^<[^7]>.* level=debug ' '$T/j.log'"
logs plain.log
check "not journald: lines start with ts=" sh -c "
    grep -q '^ts=[^ ]* level=warn msg=\"redis unreachable' '$T/plain.log' &&
    ! grep -q '^<' '$T/plain.log'"
: >"$T/other"
logs other.log "$(stat -c '%d:%i' "$T/other")"
check "JOURNAL_STREAM of another stream: no priority" sh -c "
    [ -s '$T/other.log' ] && ! grep -q '^<' '$T/other.log'"
