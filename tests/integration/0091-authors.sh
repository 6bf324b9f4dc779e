#!/bin/sh
# Distinct authors and texts.  Three accounts repost one text 90 times
# (转发微博//@…: chains around the same words): the topic with min_authors
# does not fire, its twin without the guard does and shows authors 3 and
# texts 1; fifty accounts posting fifty texts about something else fire a
# min_authors topic with authors 50.  The HyperLogLogs in Redis say the
# same, and `tidewatch backtest` over the same posts gives the same alerts
# with the same counts and the same top repeated text.  As in 0037, the
# daemon counts the posts first and gets the alert blocks by a reload, so
# that it judges complete windows as backtest does (an hour read while it
# fills has fewer posts and authors: operations.md, Alerts).
SCRIPT=0091-authors
. tests/integration/helpers.sh
need redis-server redis-cli

mkdir -p "$T/rules"
cat >"$T/all.yaml" <<'YAML'
topics:
  - id: mob
    match: {any: [停水]}
    alert: {window: 1m, threshold: 30, min_authors: 10, cooldown: 1h}
  - id: raw
    match: {any: [停水]}
    alert: {window: 1m, threshold: 30, cooldown: 1h}
  - id: crowd
    match: {any: [停电]}
    alert: {window: 1m, threshold: 30, min_authors: 10, max_posts_per_author: 2, cooldown: 1h}
YAML
grep -v '^    alert:' "$T/all.yaml" >"$T/rules/t.yaml"
# every post within one minute, 3 minutes ago (one UTC hour unless the
# minute straddles it: the hours are read whole, so both agree anyway)
now=$(date +%s)
S=$(( (now - 180) / 60 * 60 ))
# the fifty texts share nothing but the keyword: random hex around it
awk -v S="$S" 'function hex(   h, k) {
	for (k = 0; k < 8; k++)
		h = h sprintf("%06x", int(rand() * 16777216))
	return h
}
BEGIN {
	srand(84)
	for (i = 0; i < 90; i++)
		printf "{\"id\":\"m%d\",\"text\":\"转发微博//@路人%d:某小区停水三天无人管 http://t.cn/x%d\",\"time\":%d,\"author\":\"acct%d\"}\n", i, i, i, S + i % 50, i % 3
	for (i = 0; i < 50; i++)
		printf "{\"id\":\"c%d\",\"text\":\"%s 停电 %s\",\"time\":%d,\"author\":\"user%d\"}\n", i, hex(), hex(), S + i, i
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

start_redis
start_kafka posts:2
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null
start_daemon tw "$T/tw.yaml"
produce_spread "$T/posts.jsonl"
check "all $n posts consumed" all_consumed "$n"
cp "$T/all.yaml" "$T/rules/t.yaml"
kill -HUP "$DAEMON_PID"
log_has() { rcli XRANGE tidewatch:alert-log - + | grep -q "$1"; }
check "raw: 90 reposts by 3 accounts fire the topic without a guard" \
    wait_for 20 log_has '"topic":"raw"'
check "crowd: 50 accounts fire the min_authors topic" \
    wait_for 20 log_has '"topic":"crowd"'
# every block has stepped past the window: mob had every chance to fire
wait_for 10 sh -c "[ \$(redis-cli -p $REDIS_PORT --scan --pattern 'tidewatch:state:*' | grep -vc _ops) -eq 3 ]"
sleep 1
rcli XRANGE tidewatch:alert-log - + | grep '^{' >"$T/daemon.jsonl"
check "mob: 3 accounts do not fire a min_authors: 10 topic" \
    sh -c "! grep -q '\"topic\":\"mob\"' '$T/daemon.jsonl'"
check "raw: the alert shows authors 3, texts 1, 30 posts per author" \
    grep -q '"topic":"raw".*"authors":3,"texts":1,"posts_per_author":30,' "$T/daemon.jsonl"
check "crowd: the alert shows authors 50, texts 50" \
    grep -q '"topic":"crowd".*"authors":50,"texts":50,"posts_per_author":1,' "$T/daemon.jsonl"
check "raw: its top text is the reposted one, every sample of the alert" \
    grep -q '"topic":"raw".*"top_text":{"text":"[^"]*停水三天[^"]*","posts":\([0-9]*\),"of":\1,"share":1}' "$T/daemon.jsonl"
pf() { rcli PFCOUNT $(rcli --scan --pattern "tidewatch:$1:$2:*"); }
check "Redis: ha:raw counts 3 authors, ht:raw 1 text, ha:crowd 50" \
    test "$(pf ha raw) $(pf ht raw) $(pf ha crowd)" = "3 1 50"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "daemon: exit 0" test $? -eq 0

"$TIDEWATCH" backtest -r "$T/rules" -c "$T/tw.yaml" --json "$T/posts.jsonl" \
    >"$T/backtest.jsonl" 2>"$T/backtest.err"
check "backtest: exit 0" test $? -eq 0
fields() {
	grep -o '"topic":"[a-z]*"\|"authors":[0-9null]*,"texts":[0-9null]*,"posts_per_author":[0-9.null]*\|"top_text":{[^}]*}' "$1" |
	    paste -d ' ' - - - | sort -u
}
fields "$T/daemon.jsonl" >"$T/daemon.f"
fields "$T/backtest.jsonl" >"$T/backtest.f"
check "backtest: the same alerts with the same distinct counts" \
    same "$T/daemon.f" "$T/backtest.f"
