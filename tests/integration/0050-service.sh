#!/bin/sh
# Running as a service, as an operator would: `make install` into a DESTDIR,
# the installed binary run against the installed example config (pointed at
# the test's Redis and mock Kafka with -s overrides) under a stand-in for
# systemd's notification socket; /metrics through `promtool check metrics`,
# values that move as posts flow, /healthz; SIGHUP reloads the config's
# reloadable keys and the rules (counter, log lines, RELOADING=1/READY=1);
# the stall alert on <prefix>alerts:_ops when no post comes, resolved when
# posts flow, firing again when the producer stops; `tidewatch top` under
# tmux; the systemd unit through systemd-analyze verify and security; the
# deploy/ files kept in step with the code and the README.
SCRIPT=0050-service
. tests/integration/helpers.sh
need kcat curl redis-server redis-cli

# --- make install into a DESTDIR (the binary under test, not rebuilt)
R="$T/root"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -o "$TIDEWATCH" install \
    BIN="$TIDEWATCH" DESTDIR="$R" PREFIX=/usr >"$T/install.log" 2>&1
check "make install DESTDIR PREFIX=/usr" test $? -eq 0
TW="$R/usr/bin/tidewatch"
CFG="$R/etc/tidewatch/tidewatch.yaml"
UNIT="$R/usr/lib/systemd/system/tidewatch.service"
check "installed: binary, man pages, unit, config, rules, docs" sh -c "
    [ -x '$TW' ] && [ -s '$R/usr/share/man/man1/tidewatch.1' ] &&
    [ -s '$R/usr/share/man/man5/tidewatch-rules.5' ] &&
    [ -s '$R/usr/share/man/man5/tidewatch.yaml.5' ] &&
    [ -s '$UNIT' ] && [ -s '$CFG' ] &&
    [ \$(ls '$R/etc/tidewatch/rules.d' | wc -l) -eq \$(ls rules/*.yaml | wc -l) ] &&
    [ -s '$R/usr/share/doc/tidewatch/redis.conf' ]"
check "installed unit runs the installed binary" \
    grep -q '^ExecStart=/usr/bin/tidewatch run -c /etc/tidewatch/tidewatch.yaml$' "$UNIT"
check "installed config is the example config" same deploy/tidewatch.yaml "$CFG"
echo "# an operator's edit" >>"$CFG"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -o "$TIDEWATCH" install \
    BIN="$TIDEWATCH" DESTDIR="$R" PREFIX=/usr >>"$T/install.log" 2>&1
check "make install again keeps an existing config" \
    grep -q "^# an operator's edit" "$CFG"

# --- deploy/ in step with the code and the README
"$TW" config --defaults >"$T/defaults.yaml"
check "deploy/tidewatch.yaml is 'tidewatch config --defaults'" same "$T/defaults.yaml" deploy/tidewatch.yaml
check "the example config is valid" sh -c "'$TW' config -c deploy/tidewatch.yaml | grep -q ': ok\$'"
readme_pkgs=$(sed -n 's/^sudo apt-get install -y //p' README.md | head -1)
docker_pkgs=$(sed -n 's/^RUN apt-get update && apt-get install -y --no-install-recommends //p' deploy/Dockerfile | head -1)
check "Dockerfile installs the README's packages" test -n "$readme_pkgs" -a "$readme_pkgs" = "$docker_pkgs"
check "Dockerfile builds and installs as the README says" sh -c \
    "grep -q '^RUN make clean && make -j\"\$(nproc)\" && make install DESTDIR=/out PREFIX=/usr\$' deploy/Dockerfile"
mkdir -p "$T/aof"
AOF_PORT=$(free_port)
redis-server deploy/redis.conf --port "$AOF_PORT" --bind 127.0.0.1 \
    --dir "$T/aof" --daemonize no >"$T/aof.log" 2>&1 &
track_pid $!
wait_for 10 redis-cli -p "$AOF_PORT" ping
check "deploy/redis.conf turns AOF on, fsync every second" sh -c "
    redis-cli -p $AOF_PORT CONFIG GET appendonly | grep -qx yes &&
    redis-cli -p $AOF_PORT CONFIG GET appendfsync | grep -qx everysec"
redis-cli -p "$AOF_PORT" shutdown nosave >/dev/null 2>&1

# --- the unit
if have systemd-analyze; then
	mkdir -p "$T/unit"
	sed "s|/usr/bin/tidewatch|$TW|" "$UNIT" >"$T/unit/tidewatch.service"
	(cd "$T/unit" && MANPATH="$R/usr/share/man" systemd-analyze verify \
	    ./tidewatch.service) >"$T/verify.out" 2>&1
	check "systemd-analyze verify accepts the unit" test $? -eq 0 -a ! -s "$T/verify.out"
	[ -s "$T/verify.out" ] && cat "$T/verify.out"
	(cd "$T/unit" && systemd-analyze security --offline=true ./tidewatch.service) \
	    >"$T/security.out" 2>&1
	score=$(sed -n 's/.*Overall exposure level for tidewatch.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p' "$T/security.out")
	echo "systemd-analyze security: $score"
	check "systemd-analyze security rates the unit 1.5 or lower, OK ($score)" \
	    sh -c "echo '$score' | awk '{ exit !(\$1 <= 1.5 && \$2 == \"OK\") }'"
	check "unit: Type=notify, ExecReload runs tidewatch reload, watchdog, own user" sh -c "
	    grep -qx 'Type=notify' '$UNIT' &&
	    grep -qx 'ExecReload=/usr/bin/tidewatch reload -c /etc/tidewatch/tidewatch.yaml' '$UNIT' &&
	    grep -qx 'WatchdogSec=30' '$UNIT' && grep -qx 'DynamicUser=yes' '$UNIT'"
	check "unit: secrets as credentials from systemd's store (skipped when absent)" sh -c "
	    grep -qx 'LoadCredential=tidewatch-redis-password' '$UNIT' &&
	    grep -qx 'LoadCredential=tidewatch-kafka-password' '$UNIT'"
else
	skip "systemd-analyze is not installed (apt-get install systemd)"
fi

# --- the daemon, from the installed files
start_redis
start_kafka posts:2
MPORT=$(free_port)
"$BUILD"/tests/notify-listen "$T/notify.sock" >"$T/notify.out" 2>&1 &
track_pid $!
wait_for 5 test -S "$T/notify.sock"
redis-cli -p "$REDIS_PORT" SUBSCRIBE tidewatch:alerts:_ops >"$T/ops.out" &
track_pid $!
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 "$TW" run -c "$CFG" \
    -s kafka.brokers="$BROKERS" -s kafka.group=svc \
    -s redis.address="127.0.0.1:$REDIS_PORT" -s redis.flush_interval=250ms \
    -s rules.paths="$R/etc/tidewatch/rules.d" \
    -s metrics.listen="127.0.0.1:$MPORT" -s stall_after=3s \
    >"$T/tw.log" 2>&1 &
TW_PID=$!
track_pid $TW_PID

scrape() { curl -sf "http://127.0.0.1:$MPORT/metrics"; }
# metric NAME[{labels}]: its value in a fresh scrape
metric() { scrape | awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print "none" }'; }

check "READY=1 once the rules are loaded and the group joined" \
    wait_for 20 grep -q '^READY=1' "$T/notify.out"
check "WATCHDOG=1 from the main loop (WATCHDOG_USEC set)" \
    wait_for 5 grep -q '^WATCHDOG=1' "$T/notify.out"
scrape >"$T/m0.txt"
if have promtool; then
	check "promtool check metrics accepts /metrics" sh -c "promtool check metrics <'$T/m0.txt'"
else
	skip "promtool is not installed (apt-get install prometheus)"
fi
check "metrics: build info and rules version 1" sh -c "
    grep -q '^tidewatch_build_info{version=\"' '$T/m0.txt' &&
    grep -qx 'tidewatch_rules_version 1' '$T/m0.txt'"
check "nothing consumed yet" test "$(metric tidewatch_posts_consumed_total)" = 0
check "/healthz answers 200 ok" sh -c "curl -sf http://127.0.0.1:$MPORT/healthz | grep -qx ok"

# no post at all: the stall alert fires (stall_after 3s)
check "no post for stall_after: a stall alert on alerts:_ops" \
    wait_for 20 grep -q '"type":"stall","state":"firing"' "$T/ops.out"
check "stall gauge is 1" test "$(metric tidewatch_input_stalled)" = 1

now=$(date +%s)
awk -v now="$now" 'BEGIN {
	for (i = 1; i <= 60; i++)
		printf "{\"id\":\"s%d\",\"text\":\"学校食堂发生食物中毒\",\"time\":%d,\"region\":\"广州\"}\n", i, now - 30 + i % 20
	for (i = 1; i <= 40; i++)
		printf "{\"id\":\"c%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", i, now - 30 + i % 20
	print "not json"
}' >"$T/posts.jsonl"
produce "$T/posts.jsonl"
check "consumed counts every message" wait_for 20 sh -c \
    "[ \"\$(curl -sf http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tidewatch_posts_consumed_total\" { print \$2 }')\" = 101 ]"
check "matched per topic reaches the flushed count" wait_for 10 sh -c \
    "curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'tidewatch_posts_matched_total{topic=\"food-safety\"} 60'"
scrape >"$T/m1.txt"
val() { awk -v m="$1" '$1 == m { print $2 }' "$T/m1.txt"; }
check "decoded 100, rejected not_json 1, with a match 60" sh -c "
    [ '$(val tidewatch_posts_decoded_total)' = 100 ] &&
    [ '$(val 'tidewatch_posts_rejected_total{reason="not_json"}')' = 1 ] &&
    [ '$(val tidewatch_posts_with_match_total)' = 60 ]"
check "flush histogram counted the flushes" sh -c "
    [ '$(val tidewatch_flush_duration_seconds_count)' -ge 1 ] &&
    [ '$(val 'tidewatch_flush_duration_seconds_bucket{le="+Inf"}')' = '$(val tidewatch_flush_duration_seconds_count)' ]"
if have promtool; then
	check "promtool check metrics accepts /metrics with values" sh -c "promtool check metrics <'$T/m1.txt'"
fi
check "posts flow again: the stall is resolved" \
    wait_for 10 grep -q '"type":"stall","state":"resolved"' "$T/ops.out"
check "consumer lag per partition from the librdkafka statistics" wait_for 12 sh -c \
    "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^tidewatch_kafka_consumer_lag{topic=\"posts\",partition=\"[01]\"} 0\$'"

# --- tidewatch top, from Redis only
"$TW" top -c "$CFG" -s redis.address="127.0.0.1:$REDIS_PORT" \
    -s rules.paths="$R/etc/tidewatch/rules.d" --once >"$T/top.out" 2>&1
check "top --once: food-safety first, 60 in its window, region" sh -c "
    sed -n 3p '$T/top.out' | grep -q '^food-safety .* 60 .*region=广州 100%'"
check "top --once: a sparkline of the last hour" grep -q '█' "$T/top.out"
if have tmux; then
	TMUX_SOCK="$T/tmux.sock"
	tmux -S "$TMUX_SOCK" new-session -d -x 150 -y 30 \
	    "$TW top -c $CFG -s redis.address=127.0.0.1:$REDIS_PORT -s rules.paths=$R/etc/tidewatch/rules.d"
	wait_for 10 sh -c "tmux -S '$TMUX_SOCK' capture-pane -p | grep -q '^food-safety'"
	tmux -S "$TMUX_SOCK" capture-pane -p >"$T/pane.txt"
	check "top under tmux: header, columns, food-safety on top" sh -c "
	    grep -q '^tidewatch top — redis 127.0.0.1:$REDIS_PORT' '$T/pane.txt' &&
	    grep -q '^TOPIC .*COUNT.*BASELINE.*RATIO.*LAST HOUR.*STATE' '$T/pane.txt' &&
	    sed -n 3p '$T/pane.txt' | grep -q '^food-safety .* 60 '"
	s1=$(head -1 "$T/pane.txt")
	sleep 2
	check "top under tmux: refreshes every second" sh -c \
	    "[ \"\$(tmux -S '$TMUX_SOCK' capture-pane -p | head -1)\" != '$s1' ]"
	tmux -S "$TMUX_SOCK" send-keys q
	check "top under tmux: q quits" wait_for 5 sh -c \
	    "! tmux -S '$TMUX_SOCK' has-session 2>/dev/null"
	tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
else
	skip "tmux is not installed"
fi

# --- SIGHUP: the config's reloadable keys and the rules
sed -i 's/^  level: "info"$/  level: "debug"/; s/^  max_future: 1h$/  max_future: 2h/' "$CFG"
: >"$T/notify.mark"
kill -HUP $TW_PID
check "SIGHUP: the reload counter moves and the version is 2" wait_for 10 sh -c "
    curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'tidewatch_rule_reloads_total{result=\"ok\"} 1' &&
    curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'tidewatch_rules_version 2'"
check "SIGHUP: log lines for the reload" sh -c "
    grep -q 'msg=\"reload requested (SIGHUP)\"' '$T/tw.log' &&
    grep -q 'msg=\"rules reloaded\" .*version=2' '$T/tw.log'"
check "SIGHUP: log.level reloaded, a non-reloadable key needs a restart" sh -c "
    grep -q 'msg=\"config reloaded\" key=log.level' '$T/tw.log' &&
    grep -q 'msg=\"config changed, needs restart to take effect\" key=input.max_future' '$T/tw.log'"
echo "{\"id\":\"after-hup\",\"text\":\"食物中毒\",\"time\":$(date +%s)}" >"$T/one.jsonl"
produce "$T/one.jsonl"
check "SIGHUP: the new log level is in force (debug lines)" \
    wait_for 10 grep -q 'level=debug msg="flushed"' "$T/tw.log"
check "SIGHUP: RELOADING=1, then READY=1" sh -c "
    awk '/^RELOADING=1/ { r = NR } /^READY=1/ && r && NR > r { ok = 1 } END { exit !ok }' '$T/notify.out'"

# --- the producer stops: stall again
check "producer stopped: the stall alert fires again" wait_for 15 sh -c \
    "[ \$(grep -c '\"type\":\"stall\",\"state\":\"firing\"' '$T/ops.out') -ge 2 ]"
check "stall alerts are in the alert log too" sh -c \
    "[ \$(redis-cli -p $REDIS_PORT XRANGE tidewatch:alert-log - + | grep -c '\"type\":\"stall\"') -ge 3 ]"
echo "redis: {address: \"127.0.0.1:$REDIS_PORT\"}" >"$T/alerts.yaml"
timeout 10 "$TW" alerts -c "$T/alerts.yaml" --since 0 --count 3 >"$T/alerts.out" 2>&1
check "tidewatch alerts prints the stall alerts (valid JSON)" sh -c "
    [ \$(grep -c '  WARNING  input stall (svc): no post since 20' '$T/alerts.out') -eq 2 ] &&
    [ \$(grep -c '  RESOLVED  input stall over (svc): posts again after' '$T/alerts.out') -eq 1 ] &&
    ! grep -q 'not valid JSON' '$T/alerts.out'"
[ -s "$T/alerts.out" ] && ! grep -q '^20' "$T/alerts.out" && cat "$T/alerts.out"
check "ops alert counters" sh -c "
    curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^tidewatch_ops_alerts_total{type=\"stall\",state=\"resolved\"} [1-9]'"
check "summary log line: posts/s, matched/s, lag, flush time" wait_for 12 \
    grep -q 'msg="summary" posts_per_s=[0-9.]* matched_per_s=[0-9.]* lag=[0-9]* .*flush_ms_avg=' "$T/tw.log"
check "STATUS= with posts/s and lag" grep -q '^STATUS=[0-9.]* posts/s, [0-9.]* matched/s, lag [0-9]*' "$T/notify.out"

# --- Redis away: /healthz fails after metrics.unhealthy_after
kill -TERM $TW_PID
wait $TW_PID
check "SIGTERM: exits 0" test $? -eq 0
check "STOPPING=1 at shutdown" grep -q '^STOPPING=1' "$T/notify.out"
"$TW" run -c "$CFG" -s kafka.brokers="$BROKERS" -s kafka.group=svc \
    -s redis.address="127.0.0.1:$(free_port)" -s redis.timeout=200ms \
    -s rules.paths="$R/etc/tidewatch/rules.d" -s log.level=error \
    -s metrics.listen="127.0.0.1:$MPORT" -s metrics.unhealthy_after=2s \
    >"$T/tw2.log" 2>&1 &
TW2=$!
track_pid $TW2
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$MPORT/metrics"
check "Redis unreachable: /healthz answers 503 with the reason" wait_for 15 sh -c "
    [ \"\$(curl -s -o '$T/health.txt' -w '%{http_code}' http://127.0.0.1:$MPORT/healthz)\" = 503 ] &&
    grep -q '^redis unreachable for [0-9]*s' '$T/health.txt'"
kill -TERM $TW2
wait $TW2
