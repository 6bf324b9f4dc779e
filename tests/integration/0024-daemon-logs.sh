#!/bin/sh
# The daemon's log lines and its process and per-topic metrics.  Under
# journald (JOURNAL_STREAM naming its stderr) every line carries its
# syslog priority.  Every topic of the rules has its matched series at 0
# before any post, and the process_* metrics are there.  A regex that
# PCRE2 cuts off (match limit) on 30 posts is counted 30 times and logged
# once, naming the topic and the keyword (the others are held back for a
# minute).  With no Kafka broker listening, each connection failure is
# logged once (by the error callback), not a second time as librdkafka's
# own FAIL line.
SCRIPT=0024-daemon-logs
. tests/integration/helpers.sh
need kcat redis-server redis-cli curl

start_redis
start_kafka posts:2
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: evil
    match: {any: ['/(\w+\s?)+y/']}
  - id: quiet
    match: {any: [从未出现的词]}
YAML
MPORT=$(free_port)
# config BROKERS: the daemon's config on stdout
config() {
	cat <<EOC
kafka: {brokers: "$1", topics: [posts], group: tw}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 250ms}
rules: {paths: ["$T/rules"], reload: signal}
metrics: {listen: "127.0.0.1:$MPORT"}
EOC
}
config "$BROKERS" >"$T/tw.yaml"
scrape() { curl -sf "http://127.0.0.1:$MPORT/metrics"; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }

: >"$T/tw.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/tw.log") \
    "$TIDEWATCH" run -c "$T/tw.yaml" >>"$T/tw.log" 2>&1 &
TW_PID=$!
track_pid $TW_PID

check "every topic's matched series is there at 0 before any post" \
    wait_for 20 sh -c "
    curl -sf http://127.0.0.1:$MPORT/metrics >'$T/m0' &&
    grep -qx 'tidewatch_posts_matched_total{topic=\"evil\"} 0' '$T/m0' &&
    grep -qx 'tidewatch_posts_matched_total{topic=\"quiet\"} 0' '$T/m0'"
now=$(date +%s)
check "process_* metrics: CPU, memory, open fds, start time" awk -v now="$now" '
    $1 == "process_cpu_seconds_total" && $2 >= 0 { c = 1 }
    $1 == "process_resident_memory_bytes" && $2 > 1048576 { r = 1 }
    $1 == "process_virtual_memory_bytes" && $2 > 1048576 { v = 1 }
    $1 == "process_open_fds" && $2 >= 3 { f = 1 }
    $1 == "process_max_fds" && $2 >= 3 { m = 1 }
    $1 == "process_start_time_seconds" && $2 > now - 120 && $2 <= now + 1 { s = 1 }
    END { exit !(c && r && v && f && m && s) }' "$T/m0"

awk 'BEGIN {
	for (i = 0; i < 30; i++)
		printf "{\"id\":\"e%d\",\"text\":\"y xxxxxxxxxxxxxxxxxxxxxxxxxxxxxaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaz\"}\n", i
}' >"$T/evil.jsonl"
produce "$T/evil.jsonl"
check "30 regex cut-offs counted" wait_for 30 sh -c \
    "[ \"\$(curl -sf http://127.0.0.1:$MPORT/metrics | awk '\$1 == \"tidewatch_regex_errors_total\" { print \$2 }')\" = 30 ]"
check "the cut-off logged once, as a warning naming topic and keyword" sh -c "
    [ \$(grep -c 'msg=\"regex cut off, counted as no match\"' '$T/tw.log') -eq 1 ] &&
    grep -q '^<4>ts=[^ ]* level=warn msg=\"regex cut off, counted as no match\" topic=evil keyword=\"/(\\\\\\\\w+\\\\\\\\s?)+y/\" error=\"match limit exceeded\"' '$T/tw.log'"
kill -TERM $TW_PID
wait $TW_PID
check "journald: every line of the daemon starts with its priority" sh -c "
    [ \$(wc -l <'$T/tw.log') -ge 3 ] &&
    ! grep -v '^<[3467]>ts=' '$T/tw.log' &&
    grep -q '^<6>ts=[^ ]* level=info ' '$T/tw.log' &&
    ! grep -q '^<[^6]>ts=[^ ]* level=info ' '$T/tw.log'"

# no broker: each failure logged once
config "127.0.0.1:$(free_port)" >"$T/down.yaml"
"$TIDEWATCH" run -c "$T/down.yaml" >"$T/down.log" 2>&1 &
DOWN_PID=$!
track_pid $DOWN_PID
wait_for 20 grep -q 'Connection refused' "$T/down.log"
sleep 2
kill -TERM $DOWN_PID
wait $DOWN_PID
check "no broker: the failure is logged by the error callback" \
    grep -q 'level=[a-z]* msg="kafka: .*Connection refused' "$T/down.log"
check "no broker: not a second time as librdkafka's FAIL line" sh -c \
    "! grep -q 'msg=\"librdkafka FAIL' '$T/down.log'"
