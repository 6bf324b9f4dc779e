#!/bin/sh
# tidewatch check: the summary line, failed embedded tests with topic, text,
# expected and got, and exit codes.
SCRIPT=0002-check-cli
. tests/integration/helpers.sh

mkdir -p "$T/ok" "$T/bad"
cat >"$T/ok/a.yaml" <<'YAML'
lists:
  cities: [北京, 上海]
topics:
  - id: food
    match: {any: [地沟油, food poisoning]}
    tests:
      match: [地溝油, "FOOD-poisoning"]
      no_match: [地下沟渠里的油]
YAML
cat >"$T/ok/b.yml" <<'YAML'
topics:
  - id: flood
    match:
      all: [$cities, [暴雨, 内涝]]
    alert: {window: 5m, baseline: 1h, ratio: 3, min_count: 10}
    tests:
      match: [北京暴雨]
      no_match: [暴雨]
YAML
"$TIDEWATCH" check "$T/ok" >"$T/out" 2>"$T/err"
check "valid rules: exit 0" test $? -eq 0
check "valid rules: summary line" \
  grep -qx '2 topics, 6 keywords, 5 tests passed' "$T/out"

cat >"$T/bad/c.yaml" <<'YAML'
topics:
  - id: food
    match: {any: [地沟油]}
    tests:
      match: [地下沟渠里的油]
      no_match: [地沟油很多]
YAML
"$TIDEWATCH" check "$T/bad" >"$T/out" 2>"$T/err"
check "failed tests: exit 1" test $? -eq 1
check "failed match test: position, topic, expected, got, text" grep -qx \
  "$T/bad/c.yaml:5:15: test failed: topic 'food': expected match, got no match: \"地下沟渠里的油\"" "$T/err"
check "failed no_match test: says which keyword hit" grep -qx \
  "$T/bad/c.yaml:6:18: test failed: topic 'food': expected no match, got match on 地沟油: \"地沟油很多\"" "$T/err"
check "failed tests: summary counts them" \
  grep -qx '1 topics, 1 keywords, 0 tests passed, 2 failed' "$T/out"

"$TIDEWATCH" check "$T/nonexistent" >/dev/null 2>"$T/err"
check "missing path: exit 1" test $? -eq 1
check "missing path: named in the error" grep -q "$T/nonexistent" "$T/err"

# config errors are reported with file:line:col and the nearest key
cat >"$T/cfg.yaml" <<'YAML'
redis:
  adress: 127.0.0.1:6379
normalize:
  max_gap: 99
rules:
  paths: [PLACEHOLDER]
YAML
sed -i "s|PLACEHOLDER|$T/ok|" "$T/cfg.yaml"
"$TIDEWATCH" check -c "$T/cfg.yaml" >"$T/out" 2>"$T/err"
check "bad config: exit 1" test $? -eq 1
check "bad config: unknown key with suggestion" grep -qx \
  "$T/cfg.yaml:2:3: unknown key 'redis.adress' (did you mean 'address'?)" "$T/err"
check "bad config: out of range value" grep -q \
  "$T/cfg.yaml:4:12: normalize.max_gap: 99 is out of range" "$T/err"

sed -i '/adress/d; /max_gap/d' "$T/cfg.yaml"
"$TIDEWATCH" check -c "$T/cfg.yaml" >"$T/out" 2>"$T/err"
check "config's rules.paths are checked" grep -qx '2 topics, 6 keywords, 5 tests passed' "$T/out"
