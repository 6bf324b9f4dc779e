#!/bin/sh
# `tidewatch reload` and `tidewatch health` against a running daemon, as
# ExecReload= and a container HEALTHCHECK use them: reload exits 0 when the
# config and rules were reloaded and 1 with the loader's errors when not
# (the daemon keeps what was in force), waits for its own request, refuses a
# pid that is not the daemon answering; the reload metrics; health exits 0
# with "ok", 1 with the reason when unhealthy or not answering.
SCRIPT=0052-reload-health
. tests/integration/helpers.sh
need curl

start_redis
start_kafka posts:1
MPORT=$(free_port)
mkdir -p "$T/rules"
cat >"$T/rules/a.yaml" <<'YAML'
topics:
  - id: food
    match: {any: [地沟油]}
YAML
# write_config's metrics section replaced: a wildcard listen address
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null
sed -i "s|^metrics: {listen: \"\"}\$|metrics: {listen: \"0.0.0.0:$MPORT\", unhealthy_after: 2s}|" "$T/tw.yaml"
start_daemon tw "$T/tw.yaml"
TW=$DAEMON_PID
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

check "health: exit 0 and 'ok' once the daemon is up (0.0.0.0 asked on loopback)" \
    wait_for 20 sh -c "'$TIDEWATCH' health -c '$T/tw.yaml' | grep -qx ok"
ts0=$(metric tidewatch_rules_last_reload_success_timestamp_seconds)
check "metric: last reload success timestamp set by the load at start ($ts0)" \
    awk -v t="$ts0" -v now="$(date +%s)" 'BEGIN { exit !(t > now - 60 && t <= now + 1) }'

# a good reload
cat >>"$T/rules/a.yaml" <<'YAML'
  - id: flood
    match: {any: [暴雨]}
YAML
sleep 1
"$TIDEWATCH" reload -c "$T/tw.yaml" >"$T/out" 2>&1
check "reload: exit 0 when the reload worked" sh -c "[ $? -eq 0 ] && grep -q '^reloaded' '$T/out'" || cat "$T/out"
check "reload: the rules in force are version 2" test "$(metric tidewatch_rules_version)" = 2
ts1=$(metric tidewatch_rules_last_reload_success_timestamp_seconds)
check "metric: the success timestamp moved" awk -v a="$ts0" -v b="$ts1" 'BEGIN { exit !(b > a) }'

# broken rules: exit 1 with the loader's error, the old rules stay
cat >"$T/rules/b.yaml" <<'YAML'
topics:
  - id: broken
    match: {any: [[unclosed
YAML
"$TIDEWATCH" reload -c "$T/tw.yaml" >"$T/out" 2>&1
check "reload: exit 1 when the rules have an error" test $? -eq 1
check "reload: prints the loader's error with its path" grep -q "^$T/rules/b.yaml:" "$T/out" || cat "$T/out"
check "reload: says the daemon keeps what was in force" grep -q 'reload failed; the daemon keeps' "$T/out"
check "reload: version still 2, failure counted, timestamp unchanged" sh -c "
    [ '$(metric tidewatch_rules_version)' = 2 ] &&
    [ '$(metric 'tidewatch_rule_reloads_total{result="failed"}')' = 1 ] &&
    [ '$(metric tidewatch_rules_last_reload_success_timestamp_seconds)' = '$ts1' ]"
rm "$T/rules/b.yaml"

# a broken config: exit 1 with the config error, the rules are not rebuilt
cp "$T/tw.yaml" "$T/tw.good"
echo "redis: {adress: x}" >>"$T/tw.yaml"
"$TIDEWATCH" reload -c "$T/tw.good" >"$T/out" 2>&1
check "reload: exit 1 when the config has an error, naming it" sh -c "
    [ $? -eq 1 ] && grep -q \"unknown key 'redis.adress'\" '$T/out'" || cat "$T/out"
check "reload: the daemon logged it" grep -q 'invalid config, keeping the config and rules in force' "$T/tw.log"
cp "$T/tw.good" "$T/tw.yaml"
"$TIDEWATCH" reload -c "$T/tw.yaml" --timeout 30 >"$T/out" 2>&1
check "reload: fixed, exit 0 again (version 3)" sh -c "
    [ $? -eq 0 ] && [ '$(metric tidewatch_rules_version)' = 3 ]"

# the pid: $MAINPID as systemd sets it, and a wrong one refused
MAINPID=$TW "$TIDEWATCH" reload -c "$T/tw.yaml" >"$T/out" 2>&1
check "reload: \$MAINPID of the daemon is used" test $? -eq 0
sleep 30 &
OTHER=$!
track_pid $OTHER
MAINPID=$OTHER "$TIDEWATCH" reload -c "$T/tw.yaml" >"$T/out" 2>&1
check "reload: a pid that is not the daemon answering is refused, nothing signalled" sh -c "
    [ $? -eq 1 ] && grep -q 'pid $OTHER is not the daemon answering' '$T/out' &&
    kill -0 $OTHER"
"$TIDEWATCH" reload -c "$T/tw.yaml" --pid "$TW" --address "127.0.0.1:$MPORT" >"$T/out" 2>&1
check "reload: --pid and --address" test $? -eq 0
"$TIDEWATCH" reload -c "$T/tw.yaml" -s metrics.listen= >"$T/out" 2>&1
check "reload: metrics.listen empty: exit 1, says why" sh -c "
    [ $? -eq 1 ] && grep -q 'metrics.listen is empty' '$T/out'"

# health: unhealthy, and nobody answering
kill "$REDIS_PID"
check "health: exit 1 with the reason when Redis is away" wait_for 20 sh -c "
    ! '$TIDEWATCH' health -c '$T/tw.yaml' 2>'$T/h.err' && grep -q '^redis unreachable' '$T/h.err'"
kill "$TW"
wait "$TW" 2>/dev/null
"$TIDEWATCH" health --address "127.0.0.1:$MPORT" >"$T/out" 2>&1
check "health: exit 1 when nothing answers" sh -c "
    [ $? -eq 1 ] && grep -q 'cannot connect to 127.0.0.1:$MPORT' '$T/out'"
"$TIDEWATCH" reload --address "127.0.0.1:$MPORT" >"$T/out" 2>&1
check "reload: exit 1 when nothing answers" test $? -eq 1
