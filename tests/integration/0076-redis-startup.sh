#!/bin/sh
# Start-up against a Redis that cannot be used yet, or not at all: a wrong
# or missing password, an ACL user without the rights, a database that does
# not exist make `run` exit 1 with the reason; a Redis that is not there
# yet is retried (each attempt logged and counted), READY=1 waits until the
# positions are read, /healthz names the cause.  An ACL user with a password
# given by -s counts like the default user.  Once running, an outage is
# logged within a second and the detector_leader gauge falls to 0; a
# password required afterwards shows in /healthz as an authentication
# failure, not as "unreachable".
SCRIPT=0076-redis-startup
. tests/integration/helpers.sh
need curl redis-server redis-cli timeout

start_kafka posts:4
REDIS_PORT=$(free_port)
MPORT=$(free_port)
FLUSH=250ms write_config "$T/tw.yaml" </dev/null
sed -i "s|^metrics: .*|metrics: {listen: \"127.0.0.1:$MPORT\", unhealthy_after: 1s}|" "$T/tw.yaml"
metric() {
	curl -s "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
"$BUILD"/tests/postgen -n 3000 -d 600 -s now-600 -r 76 -m 20 >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

# run_fails NAME [-s …]: tidewatch run must exit 1 within 15 s; its log
# is $T/NAME.log
run_fails() {
	_name=$1
	shift
	timeout 15 "$TIDEWATCH" run -c "$T/tw.yaml" "$@" >"$T/$_name.log" 2>&1
	echo $? >"$T/$_name.rc"
	test "$(cat "$T/$_name.rc")" -eq 1
}

# --- permanent failures: exit 1 with the reason
start_redis --requirepass s3cret
run_fails wrongpass -s redis.password=wrong
check "wrong password: run exits 1" test "$(cat "$T/wrongpass.rc")" -eq 1
check "wrong password: the reason is logged" \
    grep -q 'redis: authentication failed, not starting.*WRONGPASS' "$T/wrongpass.log"
check "wrong password: never ready" sh -c "! grep -q 'ready' '$T/wrongpass.log'"
run_fails nopass
check "no password where one is needed: run exits 1" test "$(cat "$T/nopass.rc")" -eq 1
check "no password: the reason is logged (NOAUTH)" \
    grep -q 'redis: authentication failed, not starting.*NOAUTH' "$T/nopass.log"
run_fails baddb -s redis.password=s3cret -s redis.database=99
check "a database that does not exist: run exits 1" test "$(cat "$T/baddb.rc")" -eq 1
check "a database that does not exist: the reason is logged" \
    grep -q 'redis: no such database, not starting' "$T/baddb.log"
rcli -a s3cret --no-auth-warning ACL SETUSER reader on '>readpw' '~*' +@read +ping +auth >/dev/null
run_fails noperm -s redis.username=reader -s redis.password=readpw
check "an ACL user without the rights: run exits 1" test "$(cat "$T/noperm.rc")" -eq 1
check "an ACL user without the rights: the reason is logged (NOPERM)" \
    grep -q 'redis: permission denied, not starting.*NOPERM' "$T/noperm.log"
redis-cli -p "$REDIS_PORT" -a s3cret --no-auth-warning shutdown nosave >/dev/null 2>&1
wait "$REDIS_PID" 2>/dev/null

# --- transient: Redis not there yet; retried, not ready, then it comes
"$BUILD"/tests/notify-listen "$T/notify.sock" >"$T/notify.out" 2>&1 &
track_pid $!
wait_for 5 test -S "$T/notify.sock"
TW_REDIS_PW=twpw NOTIFY_SOCKET="$T/notify.sock" "$TIDEWATCH" run -c "$T/tw.yaml" \
    -s redis.username=tw -s redis.password_env=TW_REDIS_PW >"$T/tw.log" 2>&1 &
tw_PID=$!
track_pid $tw_PID
sleep 4
check "Redis away at start-up: retried and each attempt logged" \
    test "$(grep -c 'redis unreachable at start-up, retrying' "$T/tw.log")" -ge 3
check "Redis away at start-up: still running" kill -0 "$tw_PID"
check "Redis away at start-up: no READY=1" sh -c "! grep -q '^READY=1' '$T/notify.out'"
check "Redis away at start-up: redis_errors_total counts the attempts" \
    test "$(metric tidewatch_redis_errors_total)" -ge 3
check "Redis away at start-up: /healthz 503, unreachable" sh -c "
    [ \"\$(curl -s -o '$T/h1.txt' -w '%{http_code}' http://127.0.0.1:$MPORT/healthz)\" = 503 ] &&
    grep -q '^redis unreachable for' '$T/h1.txt'"
start_redis --user tw on '>twpw' '~tidewatch:*' '&*' +@all
produce_spread "$T/posts.jsonl"
check "Redis there: READY=1" wait_for 20 grep -q '^READY=1' "$T/notify.out"
check "an ACL user (password from the environment): every post counted" all_consumed "$n"
check "an ACL user: counts exact" counts_match "$T/posts.jsonl" "$TOP/rules"
check "leader gauge 1 while Redis answers" \
    wait_for 10 sh -c "[ \"\$(curl -s http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tidewatch_detector_leader\" { print \$2 }')\" = 1 ]"

# --- an outage while running: logged within a second, leader gauge 0
kill -TERM "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null
sleep 1.5
check "an outage is logged within a second, before any flush fails" \
    grep -q 'msg="redis unreachable" address=' "$T/tw.log"
check "the leader gauge falls to 0 when the lease cannot be renewed" \
    wait_for 5 sh -c "[ \"\$(curl -s http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tidewatch_detector_leader\" { print \$2 }')\" = 0 ]"
start_redis --requirepass other
check "/healthz names an authentication failure as such" wait_for 15 sh -c "
    [ \"\$(curl -s -o '$T/h2.txt' -w '%{http_code}' http://127.0.0.1:$MPORT/healthz)\" = 503 ] &&
    grep -q '^redis: authentication failed for' '$T/h2.txt'"
check "still running through it" kill -0 "$tw_PID"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM" test $? -eq 0
