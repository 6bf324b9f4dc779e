#!/bin/sh
# bench_web.sh — the web view's overview with BENCH_WEB_TOPICS topics
# (default 1000): how long /api/topics takes, and how long headless
# Chromium takes from navigation to the drawn page.
#
# A rule set of N topics (5-minute windows against 1-hour baselines, a
# tag each of ten), 60,000 posts spread over the last four hours counted
# by a daemon against the mock Kafka and a private redis-server; then five
# GETs of /api/topics (curl's total time) and three loads of / in
# Chromium (tests/tools/webcheck.py's driver; the page records when it
# was drawn).  Medians, one line:
#   bench-web topics=N api_s=… api_bytes=… drawn_ms=…
# Needs redis-server, curl, chromium and python3-websocket; everything is
# in a temp dir removed on exit, every process stopped by its PID.
SCRIPT=bench-web
TOP=${TOP:-$(pwd)}
. tests/integration/helpers.sh
need redis-server redis-cli curl chromium /usr/bin/python3
N=${BENCH_WEB_TOPICS:-1000}

start_redis
start_kafka posts:2
mkdir -p "$T/rules"
awk -v n="$N" 'BEGIN { print "topics:"; for (i = 0; i < n; i++)
	printf "  - id: t%d\n    tags: [g%d]\n    match: {any: [kw%dx]}\n    alert: {window: 5m, baseline: 1h, ratio: 3, min_count: 20}\n", i, i % 10, i }' \
    >"$T/rules/big.yaml"
PORT=$(free_port)
cat >"$T/tw.yaml" <<CONF
kafka: {brokers: "$BROKERS", topics: [posts], group: tw}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 250ms}
rules: {paths: ["$T/rules"]}
metrics: {listen: "127.0.0.1:$PORT"}
CONF
now=$(date +%s)
awk -v S=$((now - 4 * 3600)) -v n="$N" 'BEGIN { srand(1); for (k = 0; k < 60000; k++)
	printf "{\"id\":\"p%d\",\"text\":\"kw%dx\",\"time\":%d}\n", k, int(rand() * n), S + int(k * 4 * 3600 / 60000) }' \
    >"$T/posts.jsonl"
start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
all_consumed 60000 || { echo "bench-web: the posts were not counted" >&2; exit 1; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for i in 1 2 3 4 5; do
	curl -s -o "$T/o.json" -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/topics"
done | median >"$T/api"
/usr/bin/python3 - "http://127.0.0.1:$PORT/" "$T/profile" >"$T/drawn" <<'PY'
import sys
sys.path.insert(0, "tests/tools")
import webcheck
b = webcheck.Browser("/usr/bin/chromium", sys.argv[2])
try:
    b.send("Runtime.enable")
    b.send("Emulation.setDeviceMetricsOverride", width=1280, height=800,
           deviceScaleFactor=1, mobile=False)
    for _ in range(3):
        if b.load(sys.argv[1]):
            print(b.eval("document.body.dataset.drawnMs"))
finally:
    b.close()
PY
echo "bench-web topics=$N api_s=$(cat "$T/api") api_bytes=$(wc -c <"$T/o.json") drawn_ms=$(median <"$T/drawn")"
