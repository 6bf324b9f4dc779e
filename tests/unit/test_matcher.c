/*
 * test_matcher.c — the compiled matcher: evasion cases through the real
 * normaliser, word boundaries, any/all/none/where/$list, hits and their byte
 * offsets, literals shared across topics, thousands of topics, a runaway
 * regex cut off by the PCRE2 limits, and no allocation growth per post.
 *
 * Rule sets are YAML text loaded with rules_load_string(), so the real
 * loader feeds the matcher.  show() renders a result as
 * "topic(kw|kw) topic(kw)" for compact assertions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "matcher.h"
#include "normalize.h"
#include "rules.h"
#include "xmalloc.h"

static struct normalizer *norm;

struct fx {
	struct ruleset		*rs;
	struct matcher		*m;
	struct match_ctx	*ctx;
	struct match_result	 res;
	char			 buf[4096];
};

static int
setup_norm(void **state)
{
	struct norm_opts o;
	char err[256];

	(void)state;
	norm_opts_default(&o);
	norm = norm_new(&o, err, sizeof err);
	if (norm == NULL) {
		fprintf(stderr, "norm_new: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown_norm(void **state)
{
	(void)state;
	norm_free(norm);
	return 0;
}

static void
fx_load(struct fx *f, const char *yaml)
{
	struct diag errs;
	char err[256];
	size_t i;

	memset(f, 0, sizeof *f);
	diag_init(&errs);
	if (rules_load_string("test.yaml", yaml, strlen(yaml), &f->rs,
	    &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fail_msg("rules did not load");
	}
	diag_free(&errs);
	f->m = match_compile(f->rs, norm, NULL, err, sizeof err);
	if (f->m == NULL)
		fail_msg("match_compile: %s", err);
	/* The matcher holds its own reference. */
	rules_unref(f->rs);
	f->rs = NULL;
	f->ctx = match_ctx_new(f->m);
}

static void
fx_free(struct fx *f)
{
	match_ctx_free(f->ctx);
	match_free(f->m);
}

static size_t
append(struct fx *f, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static size_t
append(struct fx *f, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len >= sizeof f->buf - 1)
		return len;
	va_start(ap, fmt);
	n = vsnprintf(f->buf + len, sizeof f->buf - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return len;
	len += (size_t)n;
	return len < sizeof f->buf ? len : sizeof f->buf - 1;
}

/* Matches a post with optional fields (name, value, ..., NULL). */
static const char *
showv(struct fx *f, const char *text, va_list ap)
{
	const struct ruleset *rs = match_ruleset(f->m);
	struct post_field fields[8];
	struct post p;
	const struct match_topic *mt;
	const struct rule_topic *t;
	const char *name;
	size_t i, k, len = 0;

	memset(&p, 0, sizeof p);
	p.text = text;
	p.text_len = strlen(text);
	p.fields = fields;
	while ((name = va_arg(ap, const char *)) != NULL && p.nfields < 8) {
		fields[p.nfields].name = name;
		fields[p.nfields].value = va_arg(ap, const char *);
		fields[p.nfields].len = strlen(fields[p.nfields].value);
		p.nfields++;
	}
	if (match_post(f->ctx, &p, &f->res) == -1)
		return "invalid";
	f->buf[0] = '\0';
	for (i = 0; i < f->res.ntopics; i++) {
		mt = &f->res.topics[i];
		t = &rs->topics[mt->topic];
		len = append(f, len, "%s%s(", i ? " " : "", t->id);
		for (k = 0; k < mt->nkws; k++)
			len = append(f, len, "%s%s", k ? "|" : "",
			    t->kws[mt->kws[k]].display);
		len = append(f, len, ")");
	}
	return f->res.ntopics ? f->buf : "-";
}

static const char *
show(struct fx *f, const char *text, ...)
{
	const char *s;
	va_list ap;

	va_start(ap, text);
	s = showv(f, text, ap);
	va_end(ap);
	return s;
}

static const char *const evasion_rules =
    "topics:\n"
    "  - id: oil\n"
    "    match: {any: [地沟油]}\n"
    "  - id: food\n"
    "    match: {any: [food poisoning]}\n"
    "  - id: num\n"
    "    match: {any: [\"110\"]}\n"
    "  - id: words\n"
    "    match: {any: [cat, notice, food]}\n";

static void
test_evasions(void **state)
{
	static const struct { const char *text, *want; } c[] = {
		{ "地沟油", "oil(地沟油)" },
		{ "某地查处地溝油窝点", "oil(地沟油)" },
		{ "地*沟*油", "oil(地沟油)" },
		{ "地 沟 油", "oil(地沟油)" },
		{ "地\xe2\x80\x8b沟油", "oil(地沟油)" },
		{ "地\xe2\x80\x8b溝*油!!", "oil(地沟油)" },
		{ "food poisoning", "food(food poisoning) words(food)" },
		{ "FOOD Poisoning", "food(food poisoning) words(food)" },
		{ "ＦＯＯＤ ｐｏｉｓｏｎｉｎｇ",
		    "food(food poisoning) words(food)" },
		{ "food-poisoning", "food(food poisoning) words(food)" },
		{ "food  poisoning", "food(food poisoning) words(food)" },
		{ "110", "num(110)" },
		{ "①①⓪", "num(110)" },
		{ "call 1 1 0 now", "num(110)" },
		{ "f.o.o.d", "words(food)" },
		{ "f o o d", "words(food)" },
		{ "the cat sat", "words(cat)" },
		{ "Cat.", "words(cat)" },
		{ "猫cat猫", "words(cat)" },
		{ "notice", "words(notice)" },
		/* must not hit */
		{ "category", "-" },
		{ "concatenate", "-" },
		{ "1100", "-" },
		{ "2110", "-" },
		{ "地下沟渠里的油", "-" },
		{ "地沟里的油", "-" },
		{ "地***  *沟油", "-" },	/* 6 separators > max_gap 3 */
		{ "not ice", "-" },
		{ "fo od", "-" },
		{ "foods", "-" },
		{ "", "-" },
		{ "   ", "-" },
	};
	struct fx f;
	size_t i;

	(void)state;
	fx_load(&f, evasion_rules);
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		const char *got = show(&f, c[i].text, NULL);

		if (strcmp(got, c[i].want) != 0)
			fail_msg("\"%s\": want %s, got %s", c[i].text,
			    c[i].want, got);
	}
	fx_free(&f);
}

static void
test_invalid_utf8(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, evasion_rules);
	assert_string_equal(show(&f, "地沟油\xff", NULL), "invalid");
	assert_int_equal(f.res.ntopics, 0);
	assert_string_equal(show(&f, "地沟油", NULL), "oil(地沟油)");
	fx_free(&f);
}

static const char *const language_rules =
    "lists:\n"
    "  cities: [北京, 上海, 广州, 深圳]\n"
    "topics:\n"
    "  - id: food-safety\n"
    "    match:\n"
    "      any: [食物中毒, 地沟油, 过期食品, food poisoning, "
    "\"/毒(奶粉|大米)/\"]\n"
    "      none: [演习, 电影]\n"
    "  - id: city-flooding\n"
    "    match:\n"
    "      all: [$cities, [暴雨, 内涝, 积水]]\n"
    "      none: [预报]\n"
    "  - id: platform-only\n"
    "    match:\n"
    "      any: [召回]\n"
    "      where: {platform: [weibo, douyin]}\n"
    "  - id: region-regex\n"
    "    match:\n"
    "      any: [停电]\n"
    "      where: {region: \"/^(广东|广西)/\"}\n"
    "  - id: where-only\n"
    "    match:\n"
    "      where: {platform: kuaishou, lang: zh}\n"
    "  - id: all-with-regex\n"
    "    match:\n"
    "      all: [疫苗, \"/问题|过期/\"]\n"
    "  - id: none-regex\n"
    "    match:\n"
    "      any: [火灾]\n"
    "      none: [\"/演练|模拟/\"]\n";

static void
test_language(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, language_rules);
	/* any, none */
	assert_string_equal(show(&f, "学校食堂发生食物中毒", NULL),
	    "food-safety(食物中毒)");
	assert_string_equal(show(&f, "查处地溝油窝点，还有过期食品", NULL),
	    "food-safety(地沟油|过期食品)");
	assert_string_equal(show(&f, "食物中毒应急演习", NULL), "-");
	assert_string_equal(show(&f, "电影里的地沟油情节", NULL), "-");
	assert_string_equal(show(&f, "毒奶粉事件", NULL),
	    "food-safety(/毒(奶粉|大米)/)");
	/* a regex found as well as a literal is reported too */
	assert_string_equal(show(&f, "毒大米和地沟油", NULL),
	    "food-safety(地沟油|/毒(奶粉|大米)/)");
	/* all with OR-groups and $list */
	assert_string_equal(show(&f, "广州暴雨", NULL),
	    "city-flooding(广州|暴雨)");
	assert_string_equal(show(&f, "深圳内涝积水", NULL),
	    "city-flooding(深圳|内涝|积水)");
	assert_string_equal(show(&f, "广州天气晴", NULL), "-");
	assert_string_equal(show(&f, "暴雨来袭", NULL), "-");
	assert_string_equal(show(&f, "广州暴雨预报", NULL), "-");
	/* where: values */
	assert_string_equal(show(&f, "汽车召回", "platform", "weibo", NULL),
	    "platform-only(召回)");
	assert_string_equal(show(&f, "汽车召回", "platform", "twitter",
	    NULL), "-");
	assert_string_equal(show(&f, "汽车召回", NULL), "-");
	/* where: regex on the raw field */
	assert_string_equal(show(&f, "大面积停电", "region", "广东深圳",
	    NULL), "region-regex(停电)");
	assert_string_equal(show(&f, "大面积停电", "region", "湖南", NULL),
	    "-");
	/* where only: every post with the fields */
	assert_string_equal(show(&f, "随便说说", "platform", "kuaishou",
	    "lang", "zh", NULL), "where-only()");
	assert_string_equal(show(&f, "随便说说", "platform", "kuaishou",
	    "lang", "en", NULL), "-");
	/* a group satisfied only by a regex */
	assert_string_equal(show(&f, "疫苗过期", NULL),
	    "all-with-regex(疫苗|/问题|过期/)");
	assert_string_equal(show(&f, "疫苗", NULL), "-");
	assert_string_equal(show(&f, "过期", NULL), "-");
	/* none as a regex */
	assert_string_equal(show(&f, "仓库火灾", NULL), "none-regex(火灾)");
	assert_string_equal(show(&f, "火灾演练", NULL), "-");
	/* several topics in one post, ascending */
	assert_string_equal(show(&f, "广州暴雨，食堂食物中毒", NULL),
	    "food-safety(食物中毒) city-flooding(广州|暴雨)");
	assert_int_equal(f.res.nerrors, 0);
	fx_free(&f);
}

static void
test_once_and_offsets(void **state)
{
	static const char text[] = "地沟油，地溝油! FOOD-Poisoning 地*沟*油";
	struct fx f;
	const struct match_hit *h;
	size_t i;

	(void)state;
	fx_load(&f, language_rules);
	assert_string_equal(show(&f, text, NULL),
	    "food-safety(地沟油|food poisoning)");
	assert_int_equal(f.res.ntopics, 1);
	assert_int_equal(f.res.topics[0].nkws, 2);
	assert_int_equal(f.res.topics[0].kws[0], 1);
	assert_int_equal(f.res.topics[0].kws[1], 3);
	/* every occurrence, by (topic, kw, start) */
	assert_int_equal(f.res.nhits, 4);
	h = f.res.hits;
	for (i = 0; i < 4; i++)
		assert_int_equal(h[i].topic, 0);
	assert_int_equal(h[0].kw, 1);
	assert_int_equal(h[0].start, 0);
	assert_int_equal(h[0].end, 9);
	assert_int_equal(h[1].kw, 1);
	assert_int_equal(h[1].start, 12);
	assert_int_equal(h[1].end, 21);
	assert_int_equal(h[2].kw, 1);
	assert_int_equal(h[2].start, 38);
	assert_int_equal(h[2].end, 49);
	assert_memory_equal(text + h[2].start, "地*沟*油", 11);
	assert_int_equal(h[3].kw, 3);
	assert_memory_equal(text + h[3].start, "FOOD-Poisoning",
	    h[3].end - h[3].start);
	assert_int_equal(h[3].end - h[3].start, 14);

	/* a regex hit maps back through the normalised text */
	assert_string_equal(show(&f, "ＡＢ毒大米!", NULL),
	    "food-safety(/毒(奶粉|大米)/)");
	assert_int_equal(f.res.nhits, 1);
	assert_int_equal(f.res.hits[0].start, 6);
	assert_int_equal(f.res.hits[0].end, 15);
	fx_free(&f);
}

static void
test_shared_literals(void **state)
{
	static const char yaml[] =
	    "topics:\n"
	    "  - id: a\n"
	    "    match: {any: [地沟油, 食品]}\n"
	    "  - id: b\n"
	    "    match: {any: [沟油, 地沟油]}\n"
	    "  - id: c\n"
	    "    match: {all: [地沟油, 食品]}\n"
	    "  - id: d\n"
	    "    match: {any: [食品], none: [地沟油]}\n"
	    "  - id: e\n"
	    "    match: {any: [he, she, his, hers]}\n";
	struct fx f;
	struct match_stats st;

	(void)state;
	fx_load(&f, yaml);
	match_get_stats(f.m, &st);
	assert_int_equal(st.literals, 7);	/* 地沟油 食品 沟油 he she his hers */
	assert_int_equal(st.regexes, 0);
	assert_true(st.states > 0);
	assert_true(st.bytes > 0);
	assert_string_equal(show(&f, "地沟油食品", NULL),
	    "a(地沟油|食品) b(沟油|地沟油) c(地沟油|食品)");
	assert_string_equal(show(&f, "食品", NULL), "a(食品) d(食品)");
	assert_string_equal(show(&f, "沟油", NULL), "b(沟油)");
	/* overlapping outputs through dictionary links */
	assert_string_equal(show(&f, "she hers his", NULL), "e(she|his|hers)");
	assert_string_equal(show(&f, "ushers", NULL), "-");
	fx_free(&f);
}

/*
 * Regexes are gated on literal runs every match must contain (a factor per
 * top-level branch); results must be the same as running them always.
 */
static void
test_regex_factors(void **state)
{
	static const char yaml[] =
	    "topics:\n"
	    "  - id: poison\n"
	    "    match: {any: [\"/毒(奶粉|大米)/\"]}\n"
	    "  - id: branches\n"
	    "    match: {any: [\"/问题疫苗|过期药/\"]}\n"
	    "  - id: money\n"
	    "    match: {any: [\"/[0-9]{4,}元/\"]}\n"
	    "  - id: recall\n"
	    "    match: {any: [\"/recall(s|ed)?\\\\s+of/i\"]}\n"
	    "  - id: optional\n"
	    "    match: {any: [\"/ab?c/\"]}\n"
	    "  - id: nofactor\n"
	    "    match: {any: [\"/\\\\d{3}-\\\\d{4}/\"]}\n"
	    "  - id: spaced\n"
	    "    match: {any: [\"/食物 中毒/\"]}\n"
	    "  - id: vetoed\n"
	    "    match: {any: [火灾], none: [\"/消防(演练|演习)/\"]}\n";
	static const struct { const char *text, *want; } c[] = {
		{ "毒奶粉", "poison(/毒(奶粉|大米)/)" },
		{ "毒 大米", "-" },
		{ "奶粉有毒", "-" },
		{ "问题疫苗", "branches(/问题疫苗|过期药/)" },
		{ "一批过期药", "branches(/问题疫苗|过期药/)" },
		{ "问题", "-" },
		{ "花了12000元", "money(/[0-9]{4,}元/)" },
		{ "花了１２０００元", "money(/[0-9]{4,}元/)" },
		{ "花了12元", "-" },
		{ "A RECALL  OF cars", "recall(/recall(s|ed)?\\s+of/i)" },
		{ "Recalled of", "recall(/recall(s|ed)?\\s+of/i)" },
		{ "recall", "-" },
		{ "ac", "optional(/ab?c/)" },
		{ "xabcx", "optional(/ab?c/)" },
		{ "call 555-1234", "nofactor(/\\d{3}-\\d{4}/)" },
		{ "食物 中毒", "spaced(/食物 中毒/)" },
		{ "食物中毒", "-" },
		{ "仓库火灾", "vetoed(火灾)" },
		{ "火灾 消防演练", "-" },
	};
	struct fx f;
	struct match_stats st;
	size_t i;

	(void)state;
	fx_load(&f, yaml);
	match_get_stats(f.m, &st);
	assert_int_equal(st.regexes, 8);
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		const char *got = show(&f, c[i].text, NULL);

		if (strcmp(got, c[i].want) != 0)
			fail_msg("\"%s\": want %s, got %s", c[i].text,
			    c[i].want, got);
	}
	fx_free(&f);
}

static void
test_many_topics(void **state)
{
	char *yaml, *p;
	size_t cap = 4 << 20, i, len;
	struct fx f;
	char text[256], want[256];

	(void)state;
	yaml = p = xmalloc(cap);
	p += sprintf(p, "topics:\n");
	for (i = 0; i < 5000; i++)
		p += sprintf(p, "  - id: t%zu\n    match: {any: [词%zu号, "
		    "w%zux, common]%s}\n", i, i, i,
		    i % 7 == 0 ? ", none: [veto]" : "");
	fx_load(&f, yaml);
	free(yaml);
	for (i = 0; i < 5000; i += 37) {
		snprintf(text, sizeof text, "这里有词%zu号和别的", i);
		snprintf(want, sizeof want, "t%zu(词%zu号)", i, i);
		assert_string_equal(show(&f, text, NULL), want);
		snprintf(text, sizeof text, "W%zuX w%zux1", i, i + 1);
		snprintf(want, sizeof want, "t%zu(w%zux)", i, i);
		assert_string_equal(show(&f, text, NULL), want);
	}
	assert_string_equal(show(&f, "词5000号", NULL), "-");
	/* one shared literal in 5,000 topics, 715 of them vetoed */
	show(&f, "common veto", NULL);
	assert_int_equal(f.res.ntopics, 5000 - 715);
	assert_int_equal(f.res.nhits, 5000 - 715);
	show(&f, "common", NULL);
	assert_int_equal(f.res.ntopics, 5000);
	for (i = 0, len = 0; i < f.res.ntopics; i++)
		if (f.res.topics[i].topic == i)
			len++;
	assert_int_equal(len, 5000);
	fx_free(&f);
}

static void
test_runaway_regex(void **state)
{
	static const char yaml[] =
	    "topics:\n"
	    "  - id: runaway\n"
	    "    match: {any: [\"/(a+)+$/\"]}\n"
	    "  - id: oil\n"
	    "    match: {any: [地沟油]}\n"
	    "  - id: both\n"
	    "    match: {any: [\"/(a+)+$/\", 地沟油]}\n";
	struct fx f;
	char *text;
	size_t n = 30000;

	(void)state;
	fx_load(&f, yaml);
	text = xmalloc(n + 32);
	memcpy(text, "地沟油 ", 10);
	memset(text + 10, 'a', n);
	strcpy(text + 10 + n, "b");
	assert_string_equal(show(&f, text, NULL), "oil(地沟油) both(地沟油)");
	assert_int_equal(f.res.nerrors, 2);
	assert_int_equal(f.res.errors[0].topic, 0);
	assert_int_equal(f.res.errors[0].kw, 0);
	assert_true(f.res.errors[0].pcre2_rc == PCRE2_ERROR_MATCHLIMIT ||
	    f.res.errors[0].pcre2_rc == PCRE2_ERROR_DEPTHLIMIT ||
	    f.res.errors[0].pcre2_rc == PCRE2_ERROR_JIT_STACKLIMIT);
	assert_int_equal(f.res.errors[1].topic, 2);
	/* the context goes on with the next post */
	assert_string_equal(show(&f, "aaa", NULL),
	    "runaway(/(a+)+$/) both(/(a+)+$/)");
	assert_int_equal(f.res.nerrors, 0);
	free(text);
	fx_free(&f);
}

static void
test_limits(void **state)
{
	static const char yaml[] =
	    "topics:\n"
	    "  - id: r\n"
	    "    match: {any: [\"/(x+x+)+$/\"]}\n";
	struct match_limits lim = { 1000, 0 };
	struct ruleset *rs;
	struct diag errs;
	struct matcher *m;
	struct match_ctx *ctx;
	struct match_result res;
	struct post p;
	char err[128];

	(void)state;
	diag_init(&errs);
	assert_int_equal(rules_load_string("t.yaml", yaml, strlen(yaml), &rs,
	    &errs), 0);
	m = match_compile(rs, norm, &lim, err, sizeof err);
	assert_non_null(m);
	assert_ptr_equal(match_ruleset(m), rs);
	rules_unref(rs);
	ctx = match_ctx_new(m);
	memset(&p, 0, sizeof p);
	p.text = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx!";
	p.text_len = strlen(p.text);
	assert_int_equal(match_post(ctx, &p, &res), 0);
	assert_int_equal(res.ntopics, 0);
	assert_int_equal(res.nerrors, 1);
	assert_int_equal(res.errors[0].pcre2_rc, PCRE2_ERROR_MATCHLIMIT);
	p.text = "xx";
	p.text_len = 2;
	assert_int_equal(match_post(ctx, &p, &res), 0);
	assert_int_equal(res.ntopics, 1);
	assert_int_equal(res.nerrors, 0);
	match_ctx_free(ctx);
	match_free(m);
	diag_free(&errs);
}

static void
test_no_growth(void **state)
{
	struct fx f;
	char text[256];
	size_t i, before = 0, after;

	(void)state;
	fx_load(&f, language_rules);
	for (i = 0; i < 10000; i++) {
		snprintf(text, sizeof text, "%zu 广州暴雨 食物中毒 毒奶粉 疫苗过期 "
		    "地沟油地沟油 food poisoning %zu", i, i * 7);
		show(&f, text, "platform", i % 2 ? "weibo" : "kuaishou",
		    "lang", "zh", NULL);
		assert_int_equal(f.res.ntopics, i % 2 ? 3 : 4);
		if (i == 99)
			before = mallinfo2().uordblks;
	}
	after = mallinfo2().uordblks;
	assert_int_equal(before, after);
	fx_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evasions),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_language),
		cmocka_unit_test(test_once_and_offsets),
		cmocka_unit_test(test_shared_literals),
		cmocka_unit_test(test_regex_factors),
		cmocka_unit_test(test_many_topics),
		cmocka_unit_test(test_runaway_regex),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_growth),
	};

	return cmocka_run_group_tests(tests, setup_norm, teardown_norm);
}
