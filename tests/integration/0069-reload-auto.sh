#!/bin/sh
# rules.reload: auto — a changed rule file is reloaded without a signal; an
# invalid edit keeps the rules in force and is logged with path:line:col.
SCRIPT=0069-reload-auto
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:1
mkdir -p "$T/rules"
printf 'topics:\n  - id: quake\n    match: {any: [地震]}\n' >"$T/rules/a.yaml"
RULES="$T/rules" RELOAD=auto write_config "$T/tw.yaml" </dev/null
start_daemon tw "$T/tw.yaml"
wait_for 30 grep -q 'partitions assigned' "$T/tw.log"

sleep 1.1
printf 'topics:\n  - id: quake\n    match: {any: [地震]}\n  - id: fire\n    match: {any: [火灾]}\n' >"$T/rules/a.yaml"
check "a changed file is reloaded" wait_for 10 grep -q 'msg="rules reloaded" topics=2' "$T/tw.log"
sleep 1.1
printf 'topics:\n  - id: quake\n    match: {any: [地震]}\n  - id: Fire!\n    match: {any: [火灾]}\n' >"$T/rules/a.yaml"
check "an invalid edit is refused" wait_for 10 grep -q 'reload failed, keeping the rules in force' "$T/tw.log"
check "the error is logged with path:line:col" grep -q "$T/rules/a.yaml:4:9: " "$T/tw.log"
printf '{"id":"x","text":"发生火灾","time":%s}\n' "$(date +%s)" >"$T/p.jsonl"
produce "$T/p.jsonl"
check "the last valid rules stay in force" \
    wait_for 20 sh -c "redis-cli -p $REDIS_PORT --scan --pattern 'tidewatch:c:fire:*' | grep -q ."
kill -TERM "$tw_PID"
wait "$tw_PID"
