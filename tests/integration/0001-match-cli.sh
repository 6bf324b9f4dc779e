#!/bin/sh
# tidewatch match: one JSON line per input line, in order; bad lines give an
# error line and the run goes on; --text, --field, --offsets.
SCRIPT=0001-match-cli
. tests/integration/helpers.sh

cat >"$T/rules.yaml" <<'YAML'
topics:
  - id: food-safety
    match: {any: [地沟油, 食物中毒]}
  - id: quake
    match: {any: [地震, earthquake]}
YAML

printf '%s\n' \
  '{"id":"a1","text":"某地查处地溝油窝点"}' \
  '{"id":"a2","text":"今天天气很好"}' \
  'this is not json' \
  '{"id":"a4","text":"地震 and earthquake, 食物中毒"}' \
  '{"id":"a5"}' \
  '{"id":"a6","text":42}' \
  '[1,2]' \
  '{"id":7,"text":"地*沟*油"}' >"$T/in.jsonl"
printf '{"id":"bad","text":"\377\376"}\n' >>"$T/in.jsonl"
printf '{"id":"a10","text":"earthquake"}\n' >>"$T/in.jsonl"
printf '{"id":"a11","text":"tab\there"}\n' >>"$T/in.jsonl"
printf '{"id":"a12","text":null}\n' >>"$T/in.jsonl"
printf '{"id":"a13","text":"a\\u0000"}\n' >>"$T/in.jsonl"

"$TIDEWATCH" match -r "$T/rules.yaml" "$T/in.jsonl" >"$T/out" 2>"$T/err"
check "exit status 0" test $? -eq 0
check "one output line per input line" test "$(wc -l <"$T/out")" -eq 13

cat >"$T/want" <<'OUT'
{"line":1,"id":"a1","topics":[{"id":"food-safety","keywords":["地沟油"]}]}
{"line":2,"id":"a2","topics":[]}
{"line":3,"error":"not valid JSON (at byte 0)","reason":"not_json"}
{"line":4,"id":"a4","topics":[{"id":"food-safety","keywords":["食物中毒"]},{"id":"quake","keywords":["地震","earthquake"]}]}
{"line":5,"error":"no text field 'text'","reason":"no_text"}
{"line":6,"error":"text field 'text' is not a string","reason":"text_type"}
{"line":7,"error":"JSON value is not an object","reason":"not_object"}
{"line":8,"id":"7","topics":[{"id":"food-safety","keywords":["地沟油"]}]}
{"line":9,"error":"invalid UTF-8","reason":"not_utf8"}
{"line":10,"id":"a10","topics":[{"id":"quake","keywords":["earthquake"]}]}
{"line":11,"error":"not valid JSON (control byte in a string at byte 23)","reason":"not_json"}
{"line":12,"error":"text field 'text' is null, not a string","reason":"text_type"}
{"line":13,"error":"a string holds \\u0000 (a NUL character)","reason":"nul_escape"}
OUT
check "output lines as expected" same "$T/want" "$T/out"

# stdin, --text
printf '地震了\n没事\n\n' | "$TIDEWATCH" match -r "$T/rules.yaml" --text >"$T/out2"
cat >"$T/want2" <<'OUT'
{"line":1,"topics":[{"id":"quake","keywords":["地震"]}]}
{"line":2,"topics":[]}
{"line":3,"topics":[]}
OUT
check "--text reads plain lines from stdin" same "$T/want2" "$T/out2"

# --field
echo '{"body":"地震","text":"无关"}' | "$TIDEWATCH" match -r "$T/rules.yaml" --field body >"$T/out3"
check "--field chooses the text member" grep -q '"quake"' "$T/out3"

# --offsets: byte offsets of the hit in the original text
echo '{"text":"ab地*沟油c"}' | "$TIDEWATCH" match -r "$T/rules.yaml" --offsets >"$T/out4"
check "--offsets maps the hit back to the original bytes" \
  grep -q '"hits":\[{"keyword":"地沟油","start":2,"end":12,"text":"地\*沟油"}\]' "$T/out4"

# a broken rule file stops before reading anything
printf 'topics:\n  - id: Bad!\n    match: {any: [x]}\n' >"$T/bad.yaml"
echo '{"text":"x"}' | "$TIDEWATCH" match -r "$T/bad.yaml" >"$T/out5" 2>"$T/err5"
check "invalid rules: exit 1" test $? -eq 1
check "invalid rules: error names file:line:col" grep -q "bad.yaml:2:" "$T/err5"
check "invalid rules: nothing written to stdout" test ! -s "$T/out5"

"$TIDEWATCH" match 2>/dev/null
check "no rules given: usage error" test $? -eq 2
