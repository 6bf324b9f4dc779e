#!/bin/sh
# Spike alerts end to end, received by redis-cli PSUBSCRIBE as a user would:
# a burst fires one alert with the right fields and is resolved; a sustained
# burst repeats only after its cooldown; a topic with an empty baseline and
# one post does not fire.  The posts carry their own times (a timeline that
# ended minutes ago), so the windows follow the posts, not the clock, and
# every alert is marked late.
SCRIPT=0030-alerts
. tests/integration/helpers.sh
need kcat redis-server redis-cli

start_redis
start_kafka posts:2
mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: quake
    name: 地震
    match: {any: [地震]}
    count_by: [region]
    alert: {window: 30s, baseline: 5m, ratio: 3, min_count: 20,
            cooldown: 2m, resolve_after: 30s, severity: warning}
  - id: flood
    name: 洪水
    match: {any: [洪水]}
    alert: {window: 30s, threshold: 60, cooldown: 2m, resolve_after: 30s,
            severity: critical}
  - id: lonely
    match: {any: [孤独的关键词]}
    alert: {window: 30s, baseline: 5m, ratio: 2, min_count: 1}
YAML
RULES="$T/rules" write_config "$T/tw.yaml" </dev/null

# S: the start of the timeline, 25 minutes ago, on a bucket boundary.
now=$(date +%s)
S=$(( (now - 1500) / 10 * 10 ))
awk -v S="$S" 'BEGIN {
	n = 0
	for (b = 0; b < 150; b++) {
		t = S + b * 10
		# background: one quake and one flood post per bucket, chatter
		printf "{\"id\":\"q%d\",\"text\":\"小地震，没事\",\"time\":%d,\"region\":\"四川\"}\n", ++n, t + 1
		printf "{\"id\":\"c%d\",\"text\":\"今天天气很好\",\"time\":%d}\n", ++n, t + 2
		# quake burst: 100 posts in the bucket at S+600
		if (b == 60)
			for (i = 0; i < 100; i++)
				printf "{\"id\":\"qb%d\",\"text\":\"刚才地震了好晃\",\"time\":%d,\"region\":\"%s\"}\n", ++n, t + i % 10, (i % 4 ? "成都" : "绵阳")
		# flood: 30 posts per bucket over [S+600, S+900)
		if (b >= 60 && b < 90)
			for (i = 0; i < 30; i++)
				printf "{\"id\":\"f%d\",\"text\":\"洪水来了\",\"time\":%d}\n", ++n, t + i % 10
	}
	printf "{\"id\":\"lonely\",\"text\":\"孤独的关键词\",\"time\":%d}\n", S + 1000
}' >"$T/posts.jsonl"
n=$(wc -l <"$T/posts.jsonl")

redis-cli -p "$REDIS_PORT" PSUBSCRIBE 'tidewatch:alerts:*' >"$T/sub.out" &
SUB_PID=$!
track_pid $SUB_PID
wait_for 5 sh -c "redis-cli -p $REDIS_PORT PUBSUB NUMPAT | grep -qx 1"

start_daemon tw "$T/tw.yaml"
produce "$T/posts.jsonl"
wait_for 60 sh -c "[ \$(redis-cli -p $REDIS_PORT hgetall tidewatch:pos:tw | awk 'NR%2==1{f=\$0;next} f!~/^[tl]:/{s+=\$0} END{print s+0}') -eq $n ]"
# the detector catches up with the whole timeline
wait_for 20 sh -c "grep -q '\"topic\":\"flood\".*\"state\":\"resolved\"\|\"state\":\"resolved\",\"topic\":\"flood\"' $T/sub.out"
sleep 2
kill -TERM "$tw_PID"
wait "$tw_PID"
kill "$SUB_PID" 2>/dev/null

grep '^{' "$T/sub.out" >"$T/alerts"
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"; }
sel() { grep "\"topic\":\"$1\"" "$T/alerts" | grep "\"state\":\"$2\""; }

# quake: one firing with the right fields, one resolved
check "quake: exactly one firing" test "$(sel quake firing | wc -l)" -eq 1
q=$(sel quake firing)
check "quake: name, severity, condition" sh -c "echo '$q' | grep -q '\"name\":\"地震\",\"severity\":\"warning\",\"condition\":\"ratio\"'"
check "quake: window of the burst (posts' own time)" sh -c "echo '$q' | grep -q '\"window_s\":30,\"window_start\":\"$(date -u -d @$((S + 580)) +%Y-%m-%dT%H:%M:%SZ)\",\"window_end\":\"$(date -u -d @$((S + 610)) +%Y-%m-%dT%H:%M:%SZ)\"'"
check "quake: count and baseline" sh -c "echo '$q' | grep -q '\"count\":103,\"baseline_rate\":3,\"ratio\":34.33'"
# top keywords and values count the window widened to whole 5-minute
# slots (the store keeps them per slot): the burst and one background
# post (四川) per bucket of the widened window
lo=$(( (S + 580) / 300 * 300 )); hi=$(( (S + 610 + 299) / 300 * 300 ))
bg=$(( (hi - lo) / 10 ))
check "quake: top keyword (window widened to whole slots: $bg background posts)" \
    sh -c "echo '$q' | grep -q '\"top_keywords\":\[\[\"地震\",$((100 + bg))\]\]'"
check "quake: breakdown by region" sh -c "echo '$q' | grep -q '\"breakdown\":{\"region\":\[\[\"成都\",75\],\[\"四川\",$bg\],\[\"绵阳\",25\]\]}'"
check "quake: sample posts" sh -c "echo '$q' | grep -q '\"samples\":\[{\"id\":\"'"
check "quake: marked late" sh -c "echo '$q' | grep -q '\"late\":true'"
check "quake: exactly one resolved" test "$(sel quake resolved | wc -l)" -eq 1

# flood: fires once, repeats every cooldown (2m) while high, resolves once
check "flood: one first firing" test "$(sel flood firing | grep -vc '"repeat":true')" -eq 1
check "flood: first firing at the window that reached 60" sh -c \
    "sel() { :; }; grep '\"topic\":\"flood\"' $T/alerts | grep -v repeat | grep '\"state\":\"firing\"' | grep -q '\"window_end\":\"$(date -u -d @$((S + 620)) +%Y-%m-%dT%H:%M:%SZ)\"'"
reps=$(sel flood firing | grep '"repeat":true' | field window_end | tr -d '"' | tr '\n' ' ')
want_reps="$(date -u -d @$((S + 740)) +%Y-%m-%dT%H:%M:%SZ) $(date -u -d @$((S + 860)) +%Y-%m-%dT%H:%M:%SZ) "
check "flood: repeats only after the cooldown, every cooldown ($reps)" test "$reps" = "$want_reps"
check "flood: one resolved, 30 s after the last high window" sh -c \
    "[ \$(grep '\"topic\":\"flood\"' $T/alerts | grep '\"state\":\"resolved\"' | wc -l) -eq 1 ] && grep '\"topic\":\"flood\"' $T/alerts | grep '\"state\":\"resolved\"' | grep -q '\"window_end\":\"$(date -u -d @$((S + 940)) +%Y-%m-%dT%H:%M:%SZ)\"'"

# an empty baseline and one post: nothing
check "lonely: one post against an empty baseline does not fire" \
    test "$(grep -c '"topic":"lonely"' "$T/alerts")" -eq 0

# the alert log stream holds every published alert
check "alert-log stream has every alert" \
    test "$(rcli XLEN tidewatch:alert-log)" -eq "$(wc -l <"$T/alerts")"
