#!/bin/sh
# Discovery replayed by `tidewatch backtest --discover`, offline: three
# days of background chatter, then a burst no rule names (a school canteen
# and gutter oil, half of it in evasion spellings: 地*沟*油, 地溝油) told by
# forty accounts in their own words, and on the last day a giveaway pushed
# by three accounts reposting one text.  Each must come out as exactly one
# story with its own terms: the first with many authors and texts and the
# rule topic its posts matched, the second with three authors and one
# text; the background makes no story.  A story forms as soon as its
# terms trend (a few posts in): its authors and texts are of the posts
# seen until then.  Also the text output and the
# summary line.
SCRIPT=0038-discover-backtest
. tests/integration/helpers.sh

mkdir -p "$T/rules"
cat >"$T/rules/t.yaml" <<'YAML'
topics:
  - id: canteen
    match: {any: [食堂]}
YAML
cat >"$T/tw.yaml" <<'YAML'
input:
  fields: {author: user}
YAML
S=1795669200
awk -v S="$S" 'BEGIN {
	srand(7)
	split("天气 周末 电影 咖啡 地铁 加班 晚饭 跑步 音乐 小说 旅行 猫咪 " \
	    "火锅 考试 手机 游戏 公园 早餐 下雨 朋友 演唱会 奶茶 健身 " \
	    "搬家 超市 快递 医生 图书馆 篮球 足球", w, " ")
	n = 0
	for (t = S; t < S + 3 * 86400; t += 120) {
		printf "{\"id\":\"b%d\",\"text\":\"今天%s，%s和%s\",\"time\":%d,\"user\":\"u%d\"}\n",
		    ++n, w[int(rand() * 30) + 1], w[int(rand() * 30) + 1],
		    w[int(rand() * 30) + 1], t, int(rand() * 500)
		if (t == S + 2 * 86400) {
			for (i = 0; i < 40; i++) {
				oil = i % 3 == 0 ? "地*沟*油" : i % 3 == 1 ? "地溝油" : "地沟油"
				printf "{\"id\":\"e%d\",\"text\":\"第%d个消息：红星中学食堂被曝用%s，家长%s\",\"time\":%d,\"user\":\"p%d\"}\n",
				    i, i, oil, w[int(rand() * 30) + 1], t + i * 40, i
			}
		}
		if (t == S + 2 * 86400 + 12 * 3600)
			for (i = 0; i < 45; i++)
				printf "{\"id\":\"g%d\",\"text\":\"转发抽奖 星空牌 免费送 快来\",\"time\":%d,\"user\":\"bot%d\"}\n",
				    i, t + i * 30, i % 3
	}
}' >"$T/posts.jsonl"

"$TIDEWATCH" backtest -c "$T/tw.yaml" -r "$T/rules" --discover --json \
    "$T/posts.jsonl" >"$T/out.json" 2>"$T/err.txt"
check "backtest --discover exits 0" test $? -eq 0
grep '"type":"emerging"' "$T/out.json" >"$T/stories.json"
check "two stories, no more" test "$(wc -l <"$T/stories.json")" -eq 2
oil=$(grep '"地沟油"' "$T/stories.json")
check "the burst is a story with its folded term" test -n "$oil"
check "… and the school and the canteen" \
    sh -c "printf '%s' '$oil' | grep -q '\"食堂\"' &&
           printf '%s' '$oil' | grep -q '\"红星\\(中学\\)\\?\"'"
authors=$(printf '%s' "$oil" | sed 's/.*"authors":\([0-9]*\).*/\1/')
seen=$(printf '%s' "$oil" | sed 's/.*"seen":\([0-9]*\).*/\1/')
texts=$(printf '%s' "$oil" | sed 's/.*"texts":\([0-9]*\).*/\1/')
check "… told by as many authors ($authors) and texts ($texts) as posts seen ($seen)" \
    test "$authors" -eq "$seen" -a "$texts" -eq "$seen" -a "$seen" -ge 4
check "… which matched the rule topic canteen" \
    sh -c "printf '%s' '$oil' | grep -q '\"topics\":\\[\"canteen\"\\]'"
gift=$(grep '"星空"' "$T/stories.json")
check "the reposted giveaway is a story" test -n "$gift"
check "… of three authors" \
    sh -c "printf '%s' '$gift' | grep -q '\"authors\":3,'"
check "… and one text" sh -c "printf '%s' '$gift' | grep -q '\"texts\":1,'"
check "the discovery summary ends the output" \
    sh -c "tail -1 '$T/out.json' | grep -q '^{\"discovery\":{\"posts\":[0-9]*,\"stories\":2,'"

"$TIDEWATCH" backtest -c "$T/tw.yaml" -r "$T/rules" --discover \
    "$T/posts.jsonl" >"$T/out.txt" 2>/dev/null
check "text output: a STORY line each" \
    test "$(grep -c '  STORY [0-9a-f]\{16\}  ' "$T/out.txt")" -eq 2
check "text output: the summary" grep -q '^discovery: 2 stories over ' "$T/out.txt"
