#!/bin/sh
# The web view in a real browser: a daemon that has just seen a burst
# (with a hostile post text among it) serves its overview, a topic page and
# the alerts timeline; headless Chromium, driven through the DevTools
# protocol by tests/tools/webcheck.py, checks that the firing topic comes
# first and is marked, that the chart has the alert marker and the
# baseline band, that the hostile text renders as text and injects
# nothing, and that no console error or exception occurs.  curl checks the
# security headers and the bearer token.  `tidewatch backtest --html` over
# the same posts writes a report the browser opens from the file, with the
# firing topic's chart first.  Screenshots are kept in
# $BUILD/test-output/0086-web/.
SCRIPT=0086-web
. tests/integration/helpers.sh

need redis-server redis-cli curl chromium /usr/bin/python3
/usr/bin/python3 -c 'import websocket' 2>/dev/null || {
	echo "SKIP $SCRIPT: python3-websocket is not installed"; exit 0; }

OUT=${TEST_OUT:-$BUILD/test-output}/0086-web
mkdir -p "$OUT" "$T/rules"
start_redis
start_kafka posts:2
cat >"$T/rules/web.yaml" <<'YAML'
topics:
  - id: quake
    name: 地震 earthquake
    tags: [disaster, sichuan]
    match: {any: [地震]}
    count_by: [region]
    alert: {window: 30s, baseline: 10m, ratio: 3, min_count: 20,
            resolve_after: 10m, severity: critical}
  - id: flood
    name: 洪水 flood
    tags: [disaster]
    match: {any: [洪水]}
    alert: {window: 30s, baseline: 10m, ratio: 3, min_count: 20}
  - id: food
    name: 食品安全 food safety
    tags: [health]
    match: {any: [地沟油, 毒奶粉]}
    alert: {window: 30s, baseline: 10m, ratio: 3, min_count: 20}
  - id: outage
    name: 停电 power cut
    tags: [infrastructure]
    match: {any: [停电]}
    alert: {window: 30s, baseline: 10m, ratio: 3, min_count: 20}
YAML
printf 's3cret-token\n' >"$T/token"
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
cat >"$T/tw.yaml" <<CONF
kafka: {brokers: "$BROKERS", topics: [posts], group: tw}
redis: {address: "127.0.0.1:$REDIS_PORT", flush_interval: 250ms}
rules: {paths: ["$T/rules"]}
metrics: {listen: "127.0.0.1:$PORT"}
web: {bearer_token_file: "$T/token"}
CONF

# 40 minutes of noisy background ending now, a quake burst over the last
# minute; the newest post (kept as a sample) is hostile.
HOSTILE='<img src=x onerror=alert(1)></script><script>window.__pwned=1</script><b>地震</b>'
now=$(date +%s)
S=$(( now - 2400 ))
awk -v S="$S" -v h="$HOSTILE" 'function post(id, text, t, extra) {
		printf "{\"id\":\"%s\",\"text\":\"%s\",\"time\":%d%s}\n", id, text, t, extra
	}
	BEGIN {
	srand(84)
	split("四川 成都 绵阳 雅安", region, " ")
	for (t = S; t < S + 2400; t += 10) {
		for (i = int(rand() * 4); i > 0; i--)
			post("q" ++n, "小地震", t + i, ",\"region\":\"" region[1 + int(rand() * 4)] "\"")
		for (i = int(rand() * 3 + (t - S) / 800); i > 0; i--)
			post("f" ++n, "洪水预警", t + i, "")
		if (rand() < 0.3)
			post("o" ++n, "地沟油", t + 2, "")
		for (i = int(rand() * 3); i > 0; i--)
			post("p" ++n, "小区停电了", t + i, "")
		if (t >= S + 2340)
			for (i = 0; i < 14; i++)
				post("b" ++n, "刚才地震了", t + i % 8, ",\"region\":\"" (i % 3 ? "成都" : "绵阳") "\",\"author\":\"u" i % 5 "\"")
	}
	gsub(/"/, "\\\"", h)
	post("hostile", h, S + 2399, ",\"region\":\"成都\"")
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")
start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
all_consumed "$n" || fail "every post counted"
check "the burst fires" wait_for 20 sh -c \
    "redis-cli -p $REDIS_PORT XRANGE tidewatch:alert-log - + | grep -q '\"topic\":\"quake\"'"

# curl: headers, authentication, the API
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
AUTH="Authorization: Bearer s3cret-token"
check "401 without the token" test "$(code "$BASE/api/topics")" = 401
check "401 with a wrong token" test "$(code -H 'Authorization: Bearer nope' "$BASE/")" = 401
check "the page with the token" test "$(code -H "$AUTH" "$BASE/")" = 200
check "basic auth with the token as password" \
    test "$(code -u "any:s3cret-token" "$BASE/api/topics")" = 200
check "/metrics stays open" test "$(code "$BASE/metrics")" = 200
curl -s -D "$T/headers" -o /dev/null -H "$AUTH" "$BASE/topics/quake"
check "strict Content-Security-Policy" grep -qi \
    "^content-security-policy: default-src 'none'; script-src 'self'; style-src 'self';" "$T/headers"
check "nosniff" grep -qi '^x-content-type-options: nosniff' "$T/headers"
curl -s -H "$AUTH" "$BASE/api/topics" >"$T/overview.json"
check "API: the firing topic first" grep -q '^{"time":[0-9]*,.*"topics":\[{"id":"quake",[^}]*"state":"firing"' "$T/overview.json"
curl -s -H "$AUTH" "$BASE/api/topics?tag=health" >"$T/health.json"
check "API: filter by tag" sh -c "grep -q '\"id\":\"food\"' $T/health.json && ! grep -q '\"id\":\"quake\"' $T/health.json"
check "API: points capped" test "$(curl -s -H "$AUTH" "$BASE/api/topics/quake?points=100000" |
    sed 's/.*"count":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | wc -l)" -le 1000
# the burst's posts have five authors, the others none; three texts
curl -s -H "$AUTH" "$BASE/api/topics/quake" >"$T/quake.json"
check "API: distinct authors of the range" grep -q '"distinct":{[^}]*"authors":5,' "$T/quake.json"
check "API: distinct texts of the range" grep -q '"distinct":{[^}]*"texts":3}' "$T/quake.json"
check "API: an unknown topic is 404" test "$(code -H "$AUTH" "$BASE/api/topics/nope")" = 404

# the backtest report of the same posts
check "backtest --html writes the report" "$TIDEWATCH" backtest -r "$T/rules" \
    --html "$T/report.html" "$T/posts.jsonl" >"$T/backtest.out"
check "the report fetches nothing" sh -c \
    "! grep -Eq '<(script|link|img)[^>]* (src|href)=' $T/report.html"

# the browser
/usr/bin/python3 "$TOP/tests/tools/webcheck.py" /usr/bin/chromium "$BASE" \
    s3cret-token quake "$HOSTILE" "$OUT" "$T/report.html" >"$T/webcheck.out" 2>&1
sed -n 's/^ok /PASS 0086-web: browser: /p; s/^not ok /FAIL 0086-web: browser: /p' "$T/webcheck.out"
grep -q '^\(not \)\?ok ' "$T/webcheck.out" || { fail "browser driver"; cat "$T/webcheck.out"; }
check "screenshots saved in $OUT" test -s "$OUT/overview.png" -a -s "$OUT/topic.png"
kill -TERM "$tw_PID"
wait "$tw_PID"
check "exit 0 on SIGTERM (nothing leaked under the sanitizers)" test $? -eq 0
