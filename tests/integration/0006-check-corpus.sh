#!/bin/sh
# tidewatch check: warnings about keywords that fold into something else
# (file:line:col, as written and as folded; exit 0), and --corpus, the hit
# rate of every keyword on a sample corpus with the keywords that hit far
# more posts than their topic's others flagged.
SCRIPT=0006-check-corpus
. tests/integration/helpers.sh

mkdir -p "$T/fold" "$T/gov"
cat >"$T/fold/lang.yaml" <<'YAML'
topics:
  - id: lang
    match:
      any:
        - C++
        - C#
        - c#
        - "%d"
        - "#if"
        - C#语言
        - 地沟油
        - new york
        - Ｃ罗
YAML
"$TIDEWATCH" check "$T/fold" >"$T/out" 2>"$T/err"
check "fold warnings alone: exit 0" test $? -eq 0
check "fold warnings: counted in the summary" \
  grep -qx '1 topics, 9 keywords, 0 tests passed, 6 warnings' "$T/out"
check "fold warnings: one line per keyword that folds into something else" \
  test "$(grep -c ': warning: ' "$T/err")" -eq 6
F=$T/fold/lang.yaml
check "C++: place, as written, as folded, dropped, short word" grep -qx \
  "$F:5:11: warning: topic 'lang': keyword \"C++\" folds to \"c\": \"++\" dropped as separators, leaving the 1-letter Latin word \"c\"" "$T/err"
check "C#: folds to c" grep -qx \
  "$F:6:11: warning: topic 'lang': keyword \"C#\" folds to \"c\": \"#\" dropped as separators, leaving the 1-letter Latin word \"c\"" "$T/err"
check "c#: folds to c" grep -q "^$F:7:11: warning: .*\"c#\" folds to \"c\"" "$T/err"
check "%d: folds to d" grep -q "^$F:8:11: warning: .*\"%d\" folds to \"d\": \"%\" dropped" "$T/err"
check "#if: folds to the 2-letter word if" grep -q \
  "^$F:9:11: warning: .*\"#if\" folds to \"if\": .*2-letter Latin word \"if\"" "$T/err"
check "C#语言: collapses into c语言" grep -qx \
  "$F:10:11: warning: topic 'lang': keyword \"C#语言\" folds to \"c语言\": \"#\" dropped as separators, leaving the 1-letter Latin word \"c\"" "$T/err"
check "keywords that fold cleanly: no warning" \
  sh -c "! grep -e 地沟油 -e 'new york' -e Ｃ罗 '$T/err'"
# the warnings are proof of what the matcher does: C# hits C罗
printf '压力又给到C罗了\n' | "$TIDEWATCH" match --text -r "$F" >"$T/m"
check "a warned keyword does hit unrelated text" grep -q '"C++","C#","c#"' "$T/m"

# 会同 among ordinary keywords of its topic: it hits most of a sample.
cat >"$T/gov/gov.yaml" <<'YAML'
topics:
  - id: gov
    match: {any: [会同, 国务院, 常务会议, 部署, 安全生产]}
  - id: quake
    match: {any: [地震, 余震]}
YAML
: >"$T/posts.jsonl"
i=0
while [ $i -lt 40 ]; do
	printf '{"id":"h%d","text":"市政府会同有关部门开展第%d次检查"}\n' $i $i >>"$T/posts.jsonl"
	i=$((i + 1))
done
printf '%s\n' '{"id":"g1","text":"国务院召开常务会议"}' \
  '{"id":"g2","text":"国务院常务会议研究有关工作"}' \
  '{"id":"g3","text":"部署下一阶段工作"}' \
  '{"id":"q1","text":"四川发生地震"}' \
  '{"id":"q2","text":"地震后余震不断"}' >>"$T/posts.jsonl"
while [ $i -lt 95 ]; do
	printf '{"id":"n%d","text":"今天天气很好，第%d天"}\n' $i $i >>"$T/posts.jsonl"
	i=$((i + 1))
done
printf 'not json\n' >>"$T/posts.jsonl"
G=$T/gov/gov.yaml

"$TIDEWATCH" check --corpus "$T/posts.jsonl" "$T/gov" >"$T/out" 2>"$T/err"
check "corpus report: exit 0" test $? -eq 0
check "corpus report: posts read and lines not read" \
  grep -qx "corpus $T/posts.jsonl: 100 posts, 1 line not read" "$T/out"
check "corpus report: 会同 flagged, first (highest rate)" grep -qx \
  "\*       40  40.00%   1.50%  gov  会同  ($G:3:19)" "$T/out"
check "corpus report: sorted by hit rate" test \
  "$(grep -n '  会同  ' "$T/out" | cut -d: -f1)" -eq 3
check "corpus report: an ordinary keyword is not flagged" grep -qx \
  "         2   2.00%   1.50%  gov  国务院  ($G:3:23)" "$T/out"
check "corpus report: a keyword that never hits is listed" grep -q \
  '        0   0.00%   2.00%  gov  安全生产  (' "$T/out"
check "corpus report: only 会同 is flagged" \
  test "$(grep -c '^\*' "$T/out")" -eq 1
check "corpus report: 地震 twice its topic's other is not far more" grep -qx \
  "         2   2.00%   1.00%  quake  地震  ($G:5:19)" "$T/out"
check "corpus report: the flag is explained" \
  grep -q '^1 keyword flagged (\*: hits >= 10x the median' "$T/out"
check "corpus report: then the check summary" \
  grep -qx '2 topics, 7 keywords, 0 tests passed' "$T/out"

"$TIDEWATCH" check --json --corpus "$T/posts.jsonl" "$T/gov" >"$T/out" 2>"$T/err"
check "--json: exit 0" test $? -eq 0
check "--json: one line per positive keyword" test "$(wc -l <"$T/out")" -eq 7
check "--json: 会同 flagged, with its place and rates" grep -qx \
  "{\"topic\":\"gov\",\"keyword\":\"会同\",\"file\":\"$G\",\"line\":3,\"col\":19,\"posts\":100,\"hits\":40,\"rate\":0.4,\"others_median_rate\":0.015,\"flagged\":true}" "$T/out"
check "--json: the others are not" test "$(grep -c '"flagged":false' "$T/out")" -eq 6
check "--json: the summary goes to stderr" \
  grep -qx '2 topics, 7 keywords, 0 tests passed' "$T/err"

# --text reads plain lines, --field another member
sed -n 's/.*"text":"\([^"]*\)".*/\1/p' "$T/posts.jsonl" >"$T/posts.txt"
"$TIDEWATCH" check --text --corpus "$T/posts.txt" "$T/gov" >"$T/out" 2>"$T/err"
check "--text: every line is a post" \
  grep -qx "corpus $T/posts.txt: 100 posts" "$T/out"
check "--text: same flag" grep -q '^\*       40  40.00%.*会同' "$T/out"
sed 's/"text"/"body"/' "$T/posts.jsonl" >"$T/body.jsonl"
"$TIDEWATCH" check --field body --corpus "$T/body.jsonl" "$T/gov" >"$T/out" 2>"$T/err"
check "--field: reads that member" grep -q '^\*       40  40.00%.*会同' "$T/out"

"$TIDEWATCH" check --json "$T/gov" >/dev/null 2>"$T/err"
check "--json without --corpus: usage error" test $? -eq 2
"$TIDEWATCH" check --corpus "$T/nonexistent.jsonl" "$T/gov" >/dev/null 2>"$T/err"
check "unreadable corpus: exit 1" test $? -eq 1
check "unreadable corpus: named" grep -q "$T/nonexistent.jsonl" "$T/err"

# the daemon logs the first five fold warnings at load, then how many more
if have redis-server && have redis-cli; then
	start_redis
	start_kafka
	RULES=$T/fold write_config "$T/tw.yaml" </dev/null
	start_daemon tw "$T/tw.yaml"
	wait_for 20 grep -q 'ready' "$T/tw.log"
	check "run: logs the first five fold warnings" \
	  test "$(grep -c 'level=warn.*warning: topic .lang.: keyword' "$T/tw.log")" -eq 5
	check "run: the warning names the keyword's place" \
	  grep -q "level=warn.*$F:5:11: warning: .*\\\\\"C++\\\\\" folds to" "$T/tw.log" ||
	  grep 'warning' "$T/tw.log" | head -3
	check "run: then how many more" \
	  grep -q 'level=warn.*1 more keyword warning; tidewatch check lists them all' "$T/tw.log"
else
	skip "redis-server is not installed: the run log part"
fi
