/*
 * test_rules.c — unit tests for the rule loader (daemon/rules*.c).
 *
 * Rule sets are loaded from strings with rules_load_string (file name
 * "t.yaml") and checked field by field; broken ones must fail with exactly
 * the listed "path:line:col: message" lines and nothing else.  Multi-file
 * behaviour (directories, lists shared across files, duplicate ids across
 * files) uses a temporary directory.  Every key of the alert key tables is
 * tried with a good and a bad value, the keys read from the loader's own
 * "expected ..." message.  A small deterministic mutation loop
 * feeds damaged rule files to the loader, which must never crash or leak
 * (run under ASan to see leaks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "rules.h"
#include "xmalloc.h"

static const char full_example[] =
    "lists:\n"
    "  cities: [北京, 上海, 广州, 深圳]\n"
    "\n"
    "topics:\n"
    "  - id: food-safety            # [a-z0-9-], unique across all files\n"
    "    name: 食品安全\n"
    "    tags: [public-health]\n"
    "    match:\n"
    "      any: [食物中毒, 地沟油, 过期食品, food poisoning, \"/毒(奶粉|大米)/\"]\n"
    "      none: [演习, 电影]          # exclusion words (排除词)\n"
    "      where: {platform: [weibo, douyin]}\n"
    "    count_by: [platform, region]   # extra breakdowns shown in alerts\n"
    "    alert:\n"
    "      window: 5m\n"
    "      baseline: 1h\n"
    "      min_count: 20\n"
    "      ratio: 3.0\n"
    "      cooldown: 30m\n"
    "      severity: warning\n"
    "    tests:\n"
    "      match: [学校食堂发生食物中毒, 某地查处地溝油窝点]\n"
    "      no_match: [食物中毒应急演习]\n"
    "\n"
    "  - id: city-flooding\n"
    "    match:\n"
    "      all: [$cities, [暴雨, 内涝, 积水]]   # AND of OR-groups\n"
    "      none: [预报]\n"
    "    alert: {window: 10m, baseline: 24h, zscore: 4, min_count: 50}\n";

/* ---- helpers ---------------------------------------------------------- */

static struct ruleset *
load_opts(const char *yaml, const struct rules_opts *opts, struct diag *d)
{
	struct ruleset *rs = (struct ruleset *)1;

	diag_init(d);
	if (rules_load_string_opts("t.yaml", yaml, strlen(yaml), opts, &rs,
	    d) == 0) {
		assert_non_null(rs);
		assert_int_equal(d->n, 0);
		return rs;
	}
	assert_null(rs);
	assert_true(d->n > 0);
	return NULL;
}

static struct ruleset *
load_ok(const char *yaml)
{
	struct ruleset *rs;
	struct diag d;
	size_t i;

	rs = load_opts(yaml, NULL, &d);
	for (i = 0; i < d.n; i++)
		print_error("unexpected: %s\n", d.msgs[i]);
	diag_free(&d);
	assert_non_null(rs);
	assert_int_equal(rs->refcnt, 1);
	return rs;
}

/* The load must fail with exactly the given lines (NULL-terminated). */
static void
expect_errors_opts(const char *yaml, const struct rules_opts *opts, ...)
{
	struct ruleset *rs;
	struct diag d;
	const char *want[64];
	size_t nwant = 0, i;
	va_list ap;
	bool same;

	va_start(ap, opts);
	while ((want[nwant] = va_arg(ap, const char *)) != NULL)
		nwant++;
	va_end(ap);

	rs = load_opts(yaml, opts, &d);
	same = rs == NULL && d.n == nwant;
	for (i = 0; same && i < nwant; i++)
		same = strcmp(d.msgs[i], want[i]) == 0;
	if (!same) {
		for (i = 0; i < nwant; i++)
			print_error("want: %s\n", want[i]);
		for (i = 0; i < d.n; i++)
			print_error("got:  %s\n", d.msgs[i]);
	}
	diag_free(&d);
	rules_unref(rs);
	assert_true(same);
}

#define expect_errors(yaml, ...) \
	expect_errors_opts((yaml), NULL, __VA_ARGS__, (const char *)NULL)

/* One topic with an alert block, for the alert tests. */
static char *
with_alert(const char *alert)
{
	return xasprintf("topics:\n"
	    "  - id: t\n"
	    "    match: {any: [地沟油]}\n"
	    "    alert: %s\n", alert);
}

#define expect_alert_error(alert, ...) do {				\
	char *yaml_ = with_alert(alert);				\
									\
	expect_errors(yaml_, __VA_ARGS__);				\
	free(yaml_);							\
} while (0)

static struct ruleset *
load_alert(const char *alert, const struct rules_opts *opts)
{
	char *yaml = with_alert(alert);
	struct ruleset *rs;
	struct diag d;
	size_t i;

	rs = load_opts(yaml, opts, &d);
	for (i = 0; i < d.n; i++)
		print_error("unexpected: %s\n", d.msgs[i]);
	diag_free(&d);
	free(yaml);
	assert_non_null(rs);
	assert_int_equal(rs->topics[0].nalerts, 1);
	return rs;
}

/* ---- a full example: lists, every match kind, alerts, tests -------- */

static void
test_full_example(void **state)
{
	struct ruleset *rs = load_ok(full_example);
	struct rule_topic *t;
	struct rule_alert *a;
	size_t i;

	(void)state;
	assert_int_equal(rs->ntopics, 2);
	assert_int_equal(rs->nfiles, 1);
	assert_string_equal(rs->files[0], "t.yaml");
	assert_int_equal(rs->nkeywords, 7 + 8);
	assert_int_equal(rs->ntests, 3);

	t = &rs->topics[0];
	assert_string_equal(t->id, "food-safety");
	assert_string_equal(t->name, "食品安全");
	assert_ptr_equal(t->file, rs->files[0]);
	assert_int_equal(t->line, 5);
	assert_int_equal(t->col, 5);
	assert_int_equal(t->ntags, 1);
	assert_string_equal(t->tags[0], "public-health");
	assert_true(t->has_any);
	assert_int_equal(t->nall, 0);
	assert_int_equal(t->nkws, 7);
	for (i = 0; i < 5; i++) {
		assert_int_equal(t->kws[i].role, KW_ANY);
		assert_int_equal(t->kws[i].group, 0);
		assert_int_equal(t->kws[i].line, 9);
	}
	assert_string_equal(t->kws[0].text, "食物中毒");
	assert_int_equal(t->kws[0].col, 13);
	assert_false(t->kws[0].is_regex);
	assert_null(t->kws[0].re);
	assert_string_equal(t->kws[3].text, "food poisoning");
	assert_string_equal(t->kws[4].text, "毒(奶粉|大米)");
	assert_string_equal(t->kws[4].display, "/毒(奶粉|大米)/");
	assert_true(t->kws[4].is_regex);
	assert_non_null(t->kws[4].re);
	assert_int_equal(t->kws[4].re_flags, 0);
	assert_int_equal(t->kws[5].role, KW_NONE);
	assert_string_equal(t->kws[5].text, "演习");
	assert_int_equal(t->kws[6].role, KW_NONE);
	assert_string_equal(t->kws[6].text, "电影");
	assert_int_equal(t->nwhere, 1);
	assert_string_equal(t->where[0].field, "platform");
	assert_int_equal(t->where[0].nvalues, 2);
	assert_string_equal(t->where[0].values[0], "weibo");
	assert_string_equal(t->where[0].values[1], "douyin");
	assert_null(t->where[0].re);
	assert_int_equal(t->ncount_by, 2);
	assert_string_equal(t->count_by[1], "region");

	assert_int_equal(t->nalerts, 1);
	a = &t->alerts[0];
	assert_int_equal(a->window_s, 300);
	assert_int_equal(a->baseline_s, 3600);
	assert_int_equal(a->period_s, 0);
	assert_int_equal(a->min_count, 20);
	assert_true(a->ratio == 3.0);
	assert_true(a->threshold < 0);
	assert_true(a->zscore < 0);
	assert_int_equal(a->cooldown_s, 1800);
	assert_int_equal(a->resolve_after_s, 300);
	assert_int_equal(a->severity, SEV_WARNING);
	assert_int_equal(a->line, 14);

	assert_int_equal(t->ntests, 3);
	assert_true(t->tests[0].expect_match);
	assert_string_equal(t->tests[1].text, "某地查处地溝油窝点");
	assert_false(t->tests[2].expect_match);
	assert_string_equal(t->tests[2].text, "食物中毒应急演习");
	assert_int_equal(t->tests[2].nfields, 0);

	t = &rs->topics[1];
	assert_string_equal(t->id, "city-flooding");
	assert_string_equal(t->name, "city-flooding");
	assert_false(t->has_any);
	assert_int_equal(t->nall, 2);
	assert_int_equal(t->nkws, 8);
	for (i = 0; i < 4; i++) {
		assert_int_equal(t->kws[i].role, KW_ALL);
		assert_int_equal(t->kws[i].group, 0);
		/* list members sit where the $list is used */
		assert_int_equal(t->kws[i].line, 26);
		assert_int_equal(t->kws[i].col, 13);
	}
	assert_string_equal(t->kws[0].display, "北京");
	assert_string_equal(t->kws[3].text, "深圳");
	assert_int_equal(t->kws[4].group, 1);
	assert_string_equal(t->kws[6].text, "积水");
	assert_int_equal(t->kws[6].group, 1);
	assert_int_equal(t->kws[7].role, KW_NONE);
	assert_string_equal(t->kws[7].text, "预报");
	assert_int_equal(t->alerts[0].window_s, 600);
	assert_int_equal(t->alerts[0].baseline_s, 86400);
	assert_true(t->alerts[0].zscore == 4);
	assert_int_equal(t->alerts[0].min_count, 50);

	rules_unref(rs);
}

/* ---- keywords --------------------------------------------------------- */

static void
test_keywords(void **state)
{
	struct ruleset *rs;
	struct rule_topic *t;

	(void)state;
	rs = load_ok("topics:\n"
	    "  - id: k\n"
	    "    match:\n"
	    "      any: [110, 3.5, \" 地沟油 \", \"/a\\\\/b/\", /Food/imsx, "
	    "\"a  b\", yes, ＦＯＯＤ]\n");
	t = &rs->topics[0];
	assert_int_equal(t->nkws, 8);
	assert_string_equal(t->kws[0].text, "110");	/* unquoted number */
	assert_string_equal(t->kws[1].text, "3.5");
	assert_string_equal(t->kws[2].text, "地沟油");	/* trimmed */
	assert_string_equal(t->kws[2].display, " 地沟油 ");
	assert_string_equal(t->kws[3].text, "a\\/b");	/* last '/' closes */
	assert_true(t->kws[3].is_regex);
	assert_string_equal(t->kws[4].text, "Food");
	assert_int_equal(t->kws[4].re_flags, PCRE2_CASELESS | PCRE2_MULTILINE |
	    PCRE2_DOTALL | PCRE2_EXTENDED);
	assert_string_equal(t->kws[5].text, "a  b");
	assert_string_equal(t->kws[6].text, "yes");
	assert_string_equal(t->kws[7].text, "ＦＯＯＤ");	/* normaliser's job */
	rules_unref(rs);

	/* A single scalar where a list is expected. */
	rs = load_ok("topics:\n"
	    "  - id: k\n"
	    "    match: {any: 地沟油, none: 演习, all: $c}\n"
	    "lists: {c: [a, /b/i]}\n");
	t = &rs->topics[0];
	assert_int_equal(t->nkws, 4);
	assert_string_equal(t->kws[0].text, "地沟油");
	assert_int_equal(t->kws[1].role, KW_ALL);
	assert_string_equal(t->kws[2].display, "/b/i");
	assert_non_null(t->kws[2].re);
	assert_int_equal(t->kws[2].re_flags, PCRE2_CASELESS);
	assert_int_equal(t->kws[3].role, KW_NONE);
	assert_int_equal(t->nall, 1);
	rules_unref(rs);
}

static void
test_keyword_errors(void **state)
{
	(void)state;
	expect_errors("topics: [{id: k, match: {any: [\"/a(/\"]}}]\n",
	    "t.yaml:1:32: invalid regex '/a(/': missing closing parenthesis "
	    "at offset 2");
	expect_errors("topics: [{id: k, match: {any: [/a/g, /b/é]}}]\n",
	    "t.yaml:1:32: unknown regex flag 'g' in '/a/g' (expected i, m, s "
	    "or x)",
	    "t.yaml:1:38: unknown regex flag 'é' in '/b/é' (expected i, m, s "
	    "or x)");
	expect_errors("topics: [{id: k, match: {any: [\"//\", /abc]}}]\n",
	    "t.yaml:1:32: empty regex '//'",
	    "t.yaml:1:38: regex '/abc' has no closing '/'");
	expect_errors("topics: [{id: k, match: {any: [\"/x*/\"]}}]\n",
	    "t.yaml:1:32: regex '/x*/' matches empty text, so it would hit "
	    "every post");
	expect_errors("topics: [{id: k, match: {any: [\"\", \" \", \"*-*\", "
	    "\"　、。\", \"\u200b\"]}}]\n",
	    "t.yaml:1:32: keyword has no characters to match",
	    "t.yaml:1:36: keyword has no characters to match",
	    "t.yaml:1:41: keyword has no characters to match",
	    "t.yaml:1:48: keyword has no characters to match",
	    "t.yaml:1:55: keyword has no characters to match");
	expect_errors("topics: [{id: k, match: {any: [a, ~, [b], {c: d}]}}]\n",
	    "t.yaml:1:35: any: expected a keyword or $list, got an empty "
	    "value",
	    "t.yaml:1:38: any: expected a keyword or $list, got a list",
	    "t.yaml:1:43: any: expected a keyword or $list, got a mapping");
	expect_errors("topics: [{id: k, match: {any: \"a\\0b\"}}]\n",
	    "t.yaml:1:31: any: expected a keyword or $list, got a string "
	    "with a NUL character");
	expect_errors("topics: [{id: k, match: {any: []}}]\n",
	    "t.yaml:1:31: any: expected at least one keyword");
	expect_errors("topics: [{id: k, match: {any: {a: b}}}]\n",
	    "t.yaml:1:31: any: expected a list of keywords, got a mapping");
}

static void
test_lists(void **state)
{
	struct ruleset *rs;
	struct rule_topic *t;

	(void)state;
	/* Lists may come after their use; $list in any expands in place. */
	rs = load_ok("topics:\n"
	    "  - id: k\n"
	    "    match: {any: [x, $a, y]}\n"
	    "lists:\n"
	    "  a: [p, q]\n"
	    "  B_2-x: &w [r]\n");
	t = &rs->topics[0];
	assert_int_equal(t->nkws, 4);
	assert_string_equal(t->kws[1].text, "p");
	assert_string_equal(t->kws[2].text, "q");
	assert_string_equal(t->kws[3].text, "y");
	assert_int_equal(t->kws[1].col, 22);
	rules_unref(rs);

	expect_errors("lists:\n"
	    "  cities: [北京]\n"
	    "  \"bad name\": [x]\n"
	    "  empty: []\n"
	    "  nested: [$cities]\n"
	    "  cities: [上海]\n"
	    "  map: {a: b}\n"
	    "topics:\n"
	    "  - id: k\n"
	    "    match: {all: [$citys, $bad, $empty, $nested, $nope]}\n",
	    "t.yaml:3:3: list name 'bad name' may only hold letters, digits, "
	    "'_' and '-'",
	    "t.yaml:4:10: list 'empty' is empty",
	    "t.yaml:5:12: list 'nested': a list cannot use another list "
	    "('$cities')",
	    "t.yaml:6:3: duplicate list name 'cities' (first defined at "
	    "t.yaml:2:3)",
	    "t.yaml:7:8: lists: expected a list of keywords, got a mapping",
	    "t.yaml:10:19: unknown list '$citys' (did you mean '$cities'?)",
	    "t.yaml:10:27: unknown list '$bad'",
	    "t.yaml:10:50: unknown list '$nope'");
	expect_errors("lists: [a]\n",
	    "t.yaml:1:8: lists: expected a mapping of name: [keywords], got "
	    "a list");
	/* A broken member makes the list bad once, not at every use. */
	expect_errors("lists: {a: [\"/(/\"]}\n"
	    "topics: [{id: k, match: {any: [$a]}},\n"
	    "  {id: j, match: {any: $a}}]\n",
	    "t.yaml:1:13: invalid regex '/(/': missing closing parenthesis at "
	    "offset 1");
}

static void
test_all_groups(void **state)
{
	struct ruleset *rs;
	struct rule_topic *t;
	char *yaml, *p;
	size_t i, n;

	(void)state;
	rs = load_ok("lists: {c: [北京, 上海]}\n"
	    "topics:\n"
	    "  - id: k\n"
	    "    match:\n"
	    "      all: [$c, [暴雨, $c, /内涝|积水/], 警报]\n");
	t = &rs->topics[0];
	assert_int_equal(t->nall, 3);
	assert_int_equal(t->nkws, 2 + 4 + 1);
	assert_int_equal(t->kws[0].group, 0);
	assert_int_equal(t->kws[1].group, 0);
	for (i = 2; i < 6; i++)
		assert_int_equal(t->kws[i].group, 1);
	assert_string_equal(t->kws[3].text, "北京");
	assert_true(t->kws[5].is_regex);
	assert_int_equal(t->kws[6].group, 2);
	assert_string_equal(t->kws[6].text, "警报");
	rules_unref(rs);

	/* 64 groups are fine, 65 are not. */
	for (n = 64; n <= 65; n++) {
		yaml = xstrdup("topics: [{id: k, match: {all: [");
		for (i = 0; i < n; i++) {
			p = xasprintf("%s%sw%zu", yaml, i ? ", " : "", i);
			free(yaml);
			yaml = p;
		}
		p = xasprintf("%s]}}]\n", yaml);
		free(yaml);
		yaml = p;
		if (n == 64) {
			rs = load_ok(yaml);
			assert_int_equal(rs->topics[0].nall, 64);
			assert_int_equal(rs->topics[0].kws[63].group, 63);
			rules_unref(rs);
		} else
			expect_errors(yaml, "t.yaml:1:342: all: more than 64 "
			    "groups");
		free(yaml);
	}

	expect_errors("topics: [{id: k, match: {all: [a, [], {b: c}, [[d]]]}}]"
	    "\n",
	    "t.yaml:1:35: all: empty group",
	    "t.yaml:1:39: all: expected a keyword, $list or a list of them, "
	    "got a mapping",
	    "t.yaml:1:48: all: expected a keyword or $list, got a list");
}

static void
test_match_errors(void **state)
{
	(void)state;
	expect_errors("topics: [{id: k, match: {none: [a]}}]\n",
	    "t.yaml:1:26: match has only 'none', which matches nothing: add "
	    "'any', 'all' or 'where'");
	expect_errors("topics: [{id: k, match: {}}]\n",
	    "t.yaml:1:25: match needs at least one of 'any', 'all' or 'where'");
	expect_errors("topics: [{id: k, match: [a]}]\n",
	    "t.yaml:1:25: match: expected a mapping with any, all, none or "
	    "where, got a list");
	/* The unknown key's suggestion stands for the missing key. */
	expect_errors("topics: [{id: k, match: {ayn: [a]}}]\n",
	    "t.yaml:1:26: unknown key 'ayn' in match (did you mean 'any'?)");
	expect_errors("topics: [{id: k, match: {any: [a], xyz: 1}}]\n",
	    "t.yaml:1:36: unknown key 'xyz' in match (expected any, all, none "
	    "or where)");
}

/* ---- where ------------------------------------------------------------ */

static void
test_where(void **state)
{
	struct ruleset *rs;
	struct rule_topic *t;

	(void)state;
	rs = load_ok("lists: {plats: [weibo, douyin]}\n"
	    "topics:\n"
	    "  - id: w\n"
	    "    match:\n"
	    "      where:\n"
	    "        platform: $plats\n"
	    "        lang: zh\n"
	    "        user.region: [北京, \"\", $plats]\n"
	    "        url: /^https?:\\/\\/t\\.cn\\//i\n"
	    "        level: 3\n");
	t = &rs->topics[0];
	assert_int_equal(t->nkws, 0);
	assert_false(t->has_any);
	assert_int_equal(t->nwhere, 5);
	assert_string_equal(t->where[0].field, "platform");
	assert_int_equal(t->where[0].nvalues, 2);
	assert_string_equal(t->where[0].values[1], "douyin");
	assert_int_equal(t->where[1].nvalues, 1);
	assert_string_equal(t->where[1].values[0], "zh");
	assert_string_equal(t->where[2].field, "user.region");
	assert_int_equal(t->where[2].nvalues, 4);
	assert_string_equal(t->where[2].values[1], "");
	assert_string_equal(t->where[2].values[3], "douyin");
	assert_int_equal(t->where[3].nvalues, 0);
	assert_non_null(t->where[3].re);
	assert_string_equal(t->where[3].re_display,
	    "/^https?:\\/\\/t\\.cn\\//i");
	assert_string_equal(t->where[4].values[0], "3");
	assert_int_equal(t->where[4].line, 10);
	assert_int_equal(t->where[4].col, 16);
	rules_unref(rs);

	expect_errors("lists: {r: [/x/]}\n"
	    "topics:\n"
	    "  - id: w\n"
	    "    match:\n"
	    "      any: [a]\n"
	    "      where:\n"
	    "        a b: x\n"
	    "        p: [x, /y/]\n"
	    "        q: {a: b}\n"
	    "        r: $r\n"
	    "        s: []\n"
	    "        t: /(/\n"
	    "        u: ~\n"
	    "        p: z\n"
	    "        [k]: v\n",
	    "t.yaml:7:9: where: field name 'a b' may only hold letters, "
	    "digits, '_', '.' and '-'",
	    "t.yaml:8:16: where.p: a /regex/ must be the field's only value, "
	    "not an item of a list",
	    "t.yaml:9:12: where.q: expected a value, a list of values or a "
	    "/regex/, got a mapping",
	    "t.yaml:10:12: where.r: list '$r' holds a regex (/x/); where "
	    "values must be exact",
	    "t.yaml:11:12: where.s: expected at least one value",
	    "t.yaml:12:12: invalid regex '/(/': missing closing parenthesis "
	    "at offset 1",
	    "t.yaml:13:12: where.u: expected a value, got an empty value",
	    "t.yaml:14:9: duplicate key 'p' in where",
	    "t.yaml:15:9: where: expected a field name, got a list");
	expect_errors("topics: [{id: w, match: {where: [a]}}]\n",
	    "t.yaml:1:33: where: expected a mapping of field: value, got a "
	    "list");
	expect_errors("topics: [{id: w, match: {where: {}}}]\n",
	    "t.yaml:1:33: where: expected at least one field");
}

/* ---- topics ----------------------------------------------------------- */

static void
test_topic_fields(void **state)
{
	struct ruleset *rs;
	struct rule_topic *t;

	(void)state;
	rs = load_ok("topics:\n"
	    "  - id: a-1\n"
	    "    name: 名字\n"
	    "    tags: one\n"
	    "    count_by: [user.region, platform]\n"
	    "    match: {any: x}\n"
	    "  - id: 0123456789012345678901234567890123456789012345678901234567"
	    "890123\n"
	    "    tags: []\n"
	    "    match: {any: x}\n"
	    "  - id: 77\n"
	    "    match: {any: x}\n");
	assert_int_equal(rs->ntopics, 3);
	t = &rs->topics[0];
	assert_string_equal(t->name, "名字");
	assert_int_equal(t->ntags, 1);
	assert_string_equal(t->tags[0], "one");
	assert_int_equal(t->ncount_by, 2);
	assert_string_equal(t->count_by[0], "user.region");
	assert_int_equal(t->nalerts, 0);
	assert_int_equal(t->ntests, 0);
	assert_int_equal(strlen(rs->topics[1].id), 64);
	assert_int_equal(rs->topics[1].ntags, 0);
	assert_string_equal(rs->topics[2].id, "77");
	rules_unref(rs);

	/* No rules at all is a valid, empty set. */
	rs = load_ok("# nothing yet\n");
	assert_int_equal(rs->ntopics, 0);
	rules_unref(rs);
	rs = load_ok("lists: {a: [x]}\ntopics: []\n");
	assert_int_equal(rs->ntopics, 0);
	rules_unref(rs);
	rs = load_ok("topics:\n");
	rules_unref(rs);
}

static void
test_topic_errors(void **state)
{
	(void)state;
	expect_errors("topics:\n"
	    "  - id: Food\n"
	    "    match: {any: [a]}\n"
	    "  - id: -a\n"
	    "    match: {any: [a]}\n"
	    "  - id: \"\"\n"
	    "    match: {any: [a]}\n"
	    "  - id: 01234567890123456789012345678901234567890123456789012345678"
	    "901234\n"
	    "    match: {any: [a]}\n"
	    "  - id: [a]\n"
	    "    match: {any: [a]}\n"
	    "  - name: x\n"
	    "    match: {any: [a]}\n"
	    "  - id: ok\n"
	    "  - idd: x\n"
	    "    match: {any: [a]}\n"
	    "  - 5\n",
	    "t.yaml:2:9: topic id 'Food' must be 1 to 64 characters of a-z, "
	    "0-9 and '-', not starting with '-'",
	    "t.yaml:4:9: topic id '-a' must be 1 to 64 characters of a-z, "
	    "0-9 and '-', not starting with '-'",
	    "t.yaml:6:9: topic id '' must be 1 to 64 characters of a-z, "
	    "0-9 and '-', not starting with '-'",
	    "t.yaml:8:9: topic id '012345678901234567890123456789012345678901"
	    "234567890123456789...' must be 1 to 64 characters of a-z, 0-9 "
	    "and '-', not starting with '-'",
	    "t.yaml:10:9: id: expected a topic id like food-safety, got a list",
	    "t.yaml:12:5: topic has no 'id'",
	    "t.yaml:14:5: topic 'ok' has no 'match'",
	    "t.yaml:15:5: unknown key 'idd' in topic (did you mean 'id'?)",
	    "t.yaml:17:5: expected a topic (a mapping with id and match), got "
	    "'5'");
	expect_errors("topics:\n"
	    "  - id: a\n"
	    "    match: {any: [x]}\n"
	    "    match: {any: [y]}\n"
	    "    name: \"\"\n"
	    "    tags: [x, {a: b}, \"\"]\n"
	    "    count_by: [a, a, \"b c\", [d]]\n",
	    "t.yaml:4:5: duplicate key 'match' in topic",
	    "t.yaml:5:11: name: expected a string, got ''",
	    "t.yaml:6:15: tags: expected a string, got a mapping",
	    "t.yaml:6:23: tags: expected a string, got ''",
	    "t.yaml:7:19: count_by: duplicate field 'a'",
	    "t.yaml:7:22: count_by: field name 'b c' may only hold letters, "
	    "digits, '_', '.' and '-'",
	    "t.yaml:7:29: count_by: expected a field name, got a list");
	expect_errors("topics: [{id: a, match: {any: x}, count_by: [a, b, c, "
	    "d, e, f, g, h, i, j, k, l, m, n, o, p, q]}]\n",
	    "t.yaml:1:45: count_by: at most 16 fields");
	expect_errors("topics: [{id: a, match: {any: x}, mtach: 1, keywords: "
	    "2}]\n",
	    "t.yaml:1:35: unknown key 'mtach' in topic (did you mean "
	    "'match'?)",
	    "t.yaml:1:45: unknown key 'keywords' in topic (expected id, name, "
	    "tags, match, count_by, alert, tests, group_wait or inhibit)");
	expect_errors("topics: {a: 1}\n",
	    "t.yaml:1:9: topics: expected a list of topics, got a mapping");
	expect_errors("[1, 2]\n",
	    "t.yaml:1:1: expected a mapping with 'lists' and 'topics' at the "
	    "top of the file, got a list");
	expect_errors("topic: []\n{a: 1}: 2\n",
	    "t.yaml:1:1: unknown key 'topic' in rule file (did you mean "
	    "'topics'?)",
	    "t.yaml:2:1: expected a key in rule file, got a mapping");
}

static void
test_duplicate_ids(void **state)
{
	(void)state;
	expect_errors("topics:\n"
	    "  - id: b\n"
	    "    match: {any: [x]}\n"
	    "  - id: a\n"
	    "    match: {any: [x]}\n"
	    "  - id: b\n"
	    "    match: {any: [x]}\n"
	    "  - {id: b, match: {any: [x]}}\n",
	    "t.yaml:6:9: duplicate topic id 'b' (first defined at t.yaml:2:9)",
	    "t.yaml:8:10: duplicate topic id 'b' (first defined at "
	    "t.yaml:2:9)");
}

/* ---- alerts ----------------------------------------------------------- */

static void
test_alerts(void **state)
{
	struct rules_opts opts = { .resolution_s = 60 };
	struct ruleset *rs;
	struct rule_alert *a;

	(void)state;
	rs = load_alert("{window: 30s, threshold: 5}", NULL);
	a = &rs->topics[0].alerts[0];
	assert_int_equal(a->window_s, 30);
	assert_true(a->threshold == 5);
	assert_true(a->ratio < 0 && a->zscore < 0);
	assert_int_equal(a->baseline_s, 0);
	assert_int_equal(a->period_s, 0);
	assert_int_equal(a->min_count, 1);
	assert_int_equal(a->cooldown_s, 1800);
	assert_int_equal(a->resolve_after_s, 30);
	assert_int_equal(a->severity, SEV_WARNING);
	rules_unref(rs);

	rs = load_alert("{window: 1h, baseline: {period: 1d, lookback: 28}, "
	    "zscore: 4.5, ratio: 2, threshold: 1e3, min_count: 7, "
	    "cooldown: 1h30m, resolve_after: 120, severity: critical}", NULL);
	a = &rs->topics[0].alerts[0];
	assert_int_equal(a->window_s, 3600);
	assert_int_equal(a->baseline_s, 0);
	assert_int_equal(a->period_s, 86400);
	assert_int_equal(a->lookback, 28);
	assert_true(a->zscore == 4.5);
	assert_true(a->ratio == 2);
	assert_true(a->threshold == 1000);
	assert_int_equal(a->min_count, 7);
	assert_int_equal(a->cooldown_s, 5400);
	assert_int_equal(a->resolve_after_s, 120);
	assert_int_equal(a->severity, SEV_CRITICAL);
	rules_unref(rs);

	/* lookback defaults to 7; a baseline equal to the window is fine. */
	rs = load_alert("{window: 10m, baseline: {period: 1w}, zscore: 3}",
	    NULL);
	assert_int_equal(rs->topics[0].alerts[0].lookback, 7);
	assert_int_equal(rs->topics[0].alerts[0].period_s, 604800);
	rules_unref(rs);
	rs = load_alert("{window: 10m, baseline: 10m, ratio: 3, "
	    "severity: info}", NULL);
	assert_int_equal(rs->topics[0].alerts[0].severity, SEV_INFO);
	rules_unref(rs);

	/* A list of blocks, e.g. a warning and a critical level. */
	rs = load_ok("topics:\n"
	    "  - id: t\n"
	    "    match: {any: [x]}\n"
	    "    alert:\n"
	    "      - {window: 5m, baseline: 1h, ratio: 3}\n"
	    "      - {window: 5m, baseline: 1h, ratio: 10,\n"
	    "         severity: critical}\n");
	assert_int_equal(rs->topics[0].nalerts, 2);
	assert_true(rs->topics[0].alerts[1].ratio == 10);
	assert_int_equal(rs->topics[0].alerts[1].line, 6);
	assert_int_equal(rs->topics[0].alerts[1].col, 9);
	rules_unref(rs);

	/* The counter resolution is an option. */
	rs = load_alert("{window: 45s, threshold: 1}",
	    &(struct rules_opts){ .resolution_s = 15 });
	rules_unref(rs);
	expect_errors_opts("topics: [{id: t, match: {any: x}, alert: {window: "
	    "90s, baseline: 150, threshold: 1}}]\n", &opts,
	    "t.yaml:1:51: window 90s is not a multiple of the counter "
	    "resolution (1m)",
	    "t.yaml:1:66: baseline 150s is not a multiple of the counter "
	    "resolution (1m)", (const char *)NULL);
	expect_errors_opts("topics: [{id: t, match: {any: x}, alert: {window: "
	    "1m, baseline: {period: 90s}, zscore: 1}}]\n", &opts,
	    "t.yaml:1:74: baseline period 90s is not a multiple of the "
	    "counter resolution (1m)", (const char *)NULL);
}

static void
test_alert_errors(void **state)
{
	(void)state;
	expect_alert_error("{window: abc, threshold: 1}",
	    "t.yaml:4:21: window: expected a duration like 30s, 5m, 2h or 1d, "
	    "got 'abc'");
	expect_alert_error("{window: [5m], threshold: 1}",
	    "t.yaml:4:21: window: expected a duration like 30s, 5m, 2h or 1d, "
	    "got a list");
	expect_alert_error("{window: , threshold: 1}",
	    "t.yaml:4:21: window: expected a duration like 30s, 5m, 2h or 1d, "
	    "got an empty value");
	expect_alert_error("{window: 0m, threshold: 1}",
	    "t.yaml:4:21: window: expected a duration greater than 0, got "
	    "'0m'");
	expect_alert_error("{window: 3651d, threshold: 1}",
	    "t.yaml:4:21: window: duration '3651d' is too long (at most "
	    "3650d)");
	expect_alert_error("{window: 45s, threshold: 1}",
	    "t.yaml:4:21: window 45s is not a multiple of the counter "
	    "resolution (10s)");
	expect_alert_error("{threshold: 1}",
	    "t.yaml:4:12: alert has no 'window'");
	expect_alert_error("{window: 5m}",
	    "t.yaml:4:12: alert needs at least one of threshold, ratio, "
	    "zscore or poisson");
	expect_alert_error("{window: 5m, ratio: 2}",
	    "t.yaml:4:25: ratio needs a baseline to compare with (e.g. "
	    "baseline: 1h)");
	expect_alert_error("{window: 5m, zscore: 2}",
	    "t.yaml:4:25: zscore needs a baseline to compare with (e.g. "
	    "baseline: 1h)");
	expect_alert_error("{window: 5m, baseline: 4m, ratio: 2}",
	    "t.yaml:4:35: baseline 4m must be at least the window (5m)");
	expect_alert_error("{window: 5m, baseline: 45s, ratio: 2}",
	    "t.yaml:4:35: baseline 45s is not a multiple of the counter "
	    "resolution (10s)");
	expect_alert_error("{window: 5m, baseline: [1h], ratio: 2}",
	    "t.yaml:4:35: baseline: expected a duration or a mapping with "
	    "period and lookback, got a list");
	expect_alert_error("{window: 1d, baseline: {period: 1d}, zscore: 2}",
	    "t.yaml:4:44: baseline period 1d must be longer than the window "
	    "(1d)");
	expect_alert_error("{window: 1h, baseline: {lookback: 3}, zscore: 2}",
	    "t.yaml:4:35: baseline has no 'period'");
	expect_alert_error("{window: 1h, baseline: {perod: 1d}, zscore: 2}",
	    "t.yaml:4:36: unknown key 'perod' in baseline (did you mean "
	    "'period'?)");
	expect_alert_error("{window: 1h, baseline: {period: 1d, lookback: 0}, "
	    "zscore: 2}",
	    "t.yaml:4:58: lookback: expected a whole number from 1 to 365, "
	    "got '0'");
	expect_alert_error("{window: 1h, baseline: {period: x, lookback: 366}, "
	    "zscore: 2}",
	    "t.yaml:4:44: period: expected a duration like 30s, 5m, 2h or 1d, "
	    "got 'x'",
	    "t.yaml:4:57: lookback: expected a whole number from 1 to 365, "
	    "got '366'");
	expect_alert_error("{window: 5m, threshold: 0, ratio: -1, zscore: x, "
	    "baseline: 1h}",
	    "t.yaml:4:36: threshold: expected a number greater than 0, got "
	    "'0'",
	    "t.yaml:4:46: ratio: expected a number greater than 0, got '-1'",
	    "t.yaml:4:58: zscore: expected a number greater than 0, got 'x'");
	expect_alert_error("{window: 5m, threshold: inf, ratio: nan, "
	    "baseline: 1h}",
	    "t.yaml:4:36: threshold: expected a number greater than 0, got "
	    "'inf'",
	    "t.yaml:4:48: ratio: expected a number greater than 0, got 'nan'");
	expect_alert_error("{window: 5m, threshold: 1, min_count: 0}",
	    "t.yaml:4:50: min_count: expected a whole number of at least 1, "
	    "got '0'");
	expect_alert_error("{window: 5m, threshold: 1, min_count: 1.5}",
	    "t.yaml:4:50: min_count: expected a whole number of at least 1, "
	    "got '1.5'");
	expect_alert_error("{window: 5m, threshold: 1, severity: warn}",
	    "t.yaml:4:49: severity: expected info, warning or critical, got "
	    "'warn'");
	expect_alert_error("{window: 5m, threshold: 1, cooldown: 0, "
	    "resolve_after: -5m}",
	    "t.yaml:4:49: cooldown: expected a duration greater than 0, got "
	    "'0'",
	    "t.yaml:4:67: resolve_after: expected a duration like 30s, 5m, 2h "
	    "or 1d, got '-5m'");
	expect_alert_error("{window: 5m, treshold: 1}",
	    "t.yaml:4:25: unknown key 'treshold' in alert (did you mean "
	    "'threshold'?)");
	expect_alert_error("5m",
	    "t.yaml:4:12: alert: expected a mapping or a list of mappings, "
	    "got '5m'");
	expect_alert_error("[]",
	    "t.yaml:4:12: alert: expected at least one alert block");
	expect_alert_error("[{window: 5m, threshold: 1}, 3]",
	    "t.yaml:4:41: alert: expected a mapping with a window and a "
	    "condition, got '3'");
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*s;
		int64_t		 v;	/* -1: invalid */
	} cases[] = {
		{ "30s", 30 }, { "5m", 300 }, { "2h", 7200 }, { "1d", 86400 },
		{ "1w", 604800 }, { "90", 90 }, { "1h30m", 5400 },
		{ "1d12h", 129600 }, { "0", -1 }, { "0s", -1 }, { "", -1 },
		{ "m", -1 }, { "5", 5 }, { "5x", -1 }, { "-5s", -1 },
		{ " 5s", -1 }, { "5s ", -1 }, { "5 s", -1 }, { "1.5h", -1 },
		{ "3650d", 3650LL * 86400 }, { "3651d", -1 },
		{ "99999999999999999999", -1 }, { "9223372036854775807s", -1 },
		{ "5m5", -1 }, { "5M", -1 },
	};
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = -1;
		if (rules_parse_duration(cases[i].s, &v) == -1)
			v = -1;
		if (v != cases[i].v)
			print_error("%s: want %lld, got %lld\n", cases[i].s,
			    (long long)cases[i].v, (long long)v);
		assert_true(v == cases[i].v);
	}
	assert_int_equal(rules_parse_duration(NULL, &v), -1);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_embedded_tests(void **state)
{
	struct ruleset *rs;
	struct rule_topic *t;

	(void)state;
	rs = load_ok("topics:\n"
	    "  - id: t\n"
	    "    match: {any: [x], where: {platform: weibo}}\n"
	    "    tests:\n"
	    "      match:\n"
	    "        - {text: x y, platform: weibo, user.region: 北京}\n"
	    "        - 123\n"
	    "      no_match: [{text: x, platform: douyin}]\n"
	    "  - id: u\n"
	    "    match: {any: [x]}\n"
	    "    tests: {match: x}\n"
	    "  - id: v\n"
	    "    match: {any: [x]}\n"
	    "    tests: {match: [], no_match: ~}\n");
	assert_int_equal(rs->ntests, 4);
	t = &rs->topics[0];
	assert_int_equal(t->ntests, 3);
	assert_true(t->tests[0].expect_match);
	assert_string_equal(t->tests[0].text, "x y");
	assert_int_equal(t->tests[0].nfields, 2);
	assert_string_equal(t->tests[0].fields[0].name, "platform");
	assert_string_equal(t->tests[0].fields[0].value, "weibo");
	assert_string_equal(t->tests[0].fields[1].name, "user.region");
	assert_string_equal(t->tests[0].fields[1].value, "北京");
	assert_int_equal(t->tests[0].line, 6);
	assert_int_equal(t->tests[0].col, 11);
	assert_string_equal(t->tests[1].text, "123");
	assert_int_equal(t->tests[1].nfields, 0);
	assert_false(t->tests[2].expect_match);
	assert_int_equal(t->tests[2].nfields, 1);
	assert_int_equal(rs->topics[1].ntests, 1);
	assert_int_equal(rs->topics[2].ntests, 0);
	rules_unref(rs);

	expect_errors("topics:\n"
	    "  - id: t\n"
	    "    match: {any: [x]}\n"
	    "    tests:\n"
	    "      match:\n"
	    "        - {platform: weibo}\n"
	    "        - {text: a, b: [c], \"d e\": f, text: g}\n"
	    "        - [x]\n"
	    "        - ~\n"
	    "      no_match: {a: b}\n"
	    "      nomatch: [x]\n"
	    "  - id: u\n"
	    "    match: {any: [x]}\n"
	    "    tests: [x]\n",
	    "t.yaml:6:11: tests.match: test post has no 'text' field",
	    "t.yaml:7:24: tests.match: field 'b': expected a string, got a "
	    "list",
	    "t.yaml:7:29: tests.match: expected a field name (letters, digits, "
	    "'_', '.' and '-'), got 'd e'",
	    "t.yaml:7:39: duplicate key 'text' in test post",
	    "t.yaml:8:11: tests.match: expected a text or a mapping of post "
	    "fields, got a list",
	    "t.yaml:9:11: tests.match: expected a text or a mapping of post "
	    "fields, got an empty value",
	    "t.yaml:10:17: tests.no_match: expected a list of texts or posts, "
	    "got a mapping",
	    "t.yaml:11:7: unknown key 'nomatch' in tests (did you mean "
	    "'no_match'?)",
	    "t.yaml:14:12: tests: expected a mapping with match and no_match, "
	    "got a list");
}

/* ---- YAML level ------------------------------------------------------- */

static void
test_yaml_errors(void **state)
{
	struct rules_opts ro;
	struct ruleset *rs;
	struct diag d;
	char *big;
	size_t n;

	(void)state;
	expect_errors("topics:\n  - id: a\n    match: {any: [x]\n  - id: b\n",
	    "t.yaml:4:3: did not find expected ',' or '}' (while parsing a "
	    "flow mapping at line 3, column 12)");
	expect_errors("a: b: c\n",
	    "t.yaml:1:5: mapping values are not allowed in this context");
	expect_errors("topics: [\xff]\n",
	    "t.yaml:1:10: invalid leading UTF-8 octet (byte 0xff)");
	expect_errors("topics: [{id: a, match: {any: *x}}]\n",
	    "t.yaml:1:31: found undefined alias");
	expect_errors("topics: []\n---\ntopics: []\n",
	    "t.yaml:2:1: a rule file holds a single YAML document, this is a "
	    "second one");
	expect_errors("topics: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]]]\n",
	    "t.yaml:1:40: nested deeper than 32 levels");

	/* Anchors and aliases are followed. */
	rs = load_ok("lists: {a: &kw [x, y]}\n"
	    "topics:\n"
	    "  - &t {id: a, match: {any: *kw}, alert: &al {window: 5m, "
	    "threshold: 1}}\n"
	    "  - {id: b, match: {all: [*kw, *kw]}, alert: *al}\n");
	assert_int_equal(rs->topics[0].nkws, 2);
	assert_int_equal(rs->topics[1].nkws, 4);
	assert_int_equal(rs->topics[1].nall, 2);
	assert_int_equal(rs->topics[1].nalerts, 1);
	rules_unref(rs);

	/* A self-referencing list is a wrong type, not a loop. */
	expect_errors("topics: [{id: a, match: {any: &s [x, *s]}}]\n",
	    "t.yaml:1:31: any: expected a keyword or $list, got a list");

	/* Too large. */
	n = 16 * 1024 * 1024 + 1;
	big = xmalloc(n);
	memset(big, '#', n);
	diag_init(&d);
	assert_int_equal(rules_load_string("big.yaml", big, n, &rs, &d), -1);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0],
	    "big.yaml: file is larger than 16 MiB (rules.max_file_bytes)");
	diag_free(&d);
	free(big);

	/* The cap is rules.max_file_bytes. */
	memset(&ro, 0, sizeof ro);
	ro.max_file_bytes = 4096;
	big = xmalloc(5000);
	memset(big, '#', 5000);
	diag_init(&d);
	assert_int_equal(rules_load_string_opts("big.yaml", big, 5000, &ro,
	    &rs, &d), -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0],
	    "big.yaml: file is larger than 4096 bytes (rules.max_file_bytes)");
	diag_free(&d);
	free(big);
}

static void
test_limits(void **state)
{
	static const char small[] = "topics:\n"
	    "  - {id: a, match: {any: [x, y]}}\n"
	    "  - {id: b, match: {any: [x, y]}}\n"
	    "  - {id: c, match: {any: [x, y]}}\n";
	struct rules_opts ro;
	struct ruleset *rs;
	struct diag d;
	char *yaml, *p;
	size_t i;

	(void)state;
	/* Aliases cannot multiply work without bound. */
	yaml = xstrdup("lists: {a: [");
	for (i = 0; i < 1000; i++) {
		p = xasprintf("%s%sw%zu", yaml, i ? "," : "", i);
		free(yaml);
		yaml = p;
	}
	p = xasprintf("%s]}\ntopics:\n  - &t {id: a, match: {any: [", yaml);
	free(yaml);
	yaml = p;
	for (i = 0; i < 1000; i++) {
		p = xasprintf("%s%s$a", yaml, i ? "," : "");
		free(yaml);
		yaml = p;
	}
	p = xasprintf("%s]}}\n  - [*t, *t, *t]\n", yaml);
	free(yaml);
	yaml = p;
	rs = load_opts(yaml, NULL, &d);
	assert_null(rs);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "rule set too large: more than "
	    "1000000 items (topics, keywords, alert blocks, values and tests;"));
	assert_non_null(strstr(d.msgs[0], "raise rules.max_items"));
	diag_free(&d);
	free(yaml);

	/* The budget is rules.max_items: 3 topics of 2 keywords are 9 items. */
	memset(&ro, 0, sizeof ro);
	ro.max_items = 9;
	rules_unref(load_opts(small, &ro, &d));
	diag_free(&d);
	ro.max_items = 8;
	assert_null(load_opts(small, &ro, &d));
	assert_non_null(strstr(d.msgs[0], "more than 8 items"));
	diag_free(&d);

	/* Errors stop at a cap. */
	yaml = xstrdup("topics:\n");
	for (i = 0; i < 1100; i++) {
		p = xasprintf("%s  - {id: X}\n", yaml);
		free(yaml);
		yaml = p;
	}
	rs = load_opts(yaml, NULL, &d);
	assert_null(rs);
	assert_int_equal(d.n, 1001);
	assert_string_equal(d.msgs[1000],
	    "t.yaml: too many errors, stopped after 1000");
	diag_free(&d);
	free(yaml);
}

/* Deterministic mutations of good files: the loader must survive all. */
static void
test_mutations(void **state)
{
	static const char alphabet[] = "[]{}:-,'\"&*!|>#%@`$/ \n\tax0~?";
	struct ruleset *rs;
	struct diag d;
	char *buf;
	size_t len = sizeof full_example - 1, i, j, pos;
	uint32_t seed = 12345;

	(void)state;
	buf = xmalloc(len + 1);
	for (i = 0; i < 3000; i++) {
		memcpy(buf, full_example, len + 1);
		for (j = 0; j < 1 + i % 4; j++) {
			seed = seed * 1103515245 + 12345;
			pos = (seed >> 8) % len;
			seed = seed * 1103515245 + 12345;
			buf[pos] = alphabet[(seed >> 8) %
			    (sizeof alphabet - 1)];
		}
		diag_init(&d);
		if (rules_load_string("m.yaml", buf, len, &rs, &d) == 0) {
			assert_int_equal(d.n, 0);
			rules_unref(rs);
		} else {
			assert_null(rs);
			assert_true(d.n > 0);
		}
		diag_free(&d);
	}
	free(buf);
}

/* ---- files and directories -------------------------------------------- */

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
remove_tree(const char *dir, const char *const *names, size_t n)
{
	char *path;
	size_t i;

	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
}

static void
test_files(void **state)
{
	static const char *const names[] = {
		"b.yaml", "a.yml", "c.txt", ".hidden.yaml", "sub.yaml"
	};
	char tmpl[] = "/tmp/tw-rules-XXXXXX", *sub, *f1, *f2, *missing;
	const char *paths[3];
	struct ruleset *rs;
	struct diag d;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	/* b uses a list from a; a.yml sorts first; others are skipped. */
	write_file(tmpl, "b.yaml", "topics:\n"
	    "  - id: two\n"
	    "    match: {all: [$cities, 暴雨]}\n");
	write_file(tmpl, "a.yml", "lists: {cities: [北京]}\n"
	    "topics: [{id: one, match: {any: x}}]\n");
	write_file(tmpl, "c.txt", "not: [yaml\n");
	write_file(tmpl, ".hidden.yaml", "not: [yaml\n");
	sub = xasprintf("%s/sub.yaml", tmpl);
	assert_int_equal(mkdir(sub, 0700), 0);	/* not recursive */

	paths[0] = tmpl;
	diag_init(&d);
	assert_int_equal(rules_load(paths, 1, &rs, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(rs->nfiles, 2);
	f1 = xasprintf("%s/a.yml", tmpl);
	f2 = xasprintf("%s/b.yaml", tmpl);
	assert_string_equal(rs->files[0], f1);
	assert_string_equal(rs->files[1], f2);
	assert_int_equal(rs->ntopics, 2);
	assert_string_equal(rs->topics[0].id, "one");
	assert_ptr_equal(rs->topics[0].file, rs->files[0]);
	assert_string_equal(rs->topics[1].id, "two");
	assert_ptr_equal(rs->topics[1].file, rs->files[1]);
	assert_int_equal(rs->topics[1].nkws, 2);

	/* refcounting */
	assert_ptr_equal(rules_ref(rs), rs);
	assert_int_equal(rs->refcnt, 2);
	rules_unref(rs);
	assert_int_equal(rs->refcnt, 1);
	rules_unref(rs);
	rules_unref(NULL);
	diag_free(&d);

	/* The same directory twice: every id and list is a duplicate, at the
	 * later file, and a missing path is reported in its place. */
	missing = xasprintf("%s/nope.yaml", tmpl);
	paths[1] = missing;
	paths[2] = f2;
	diag_init(&d);
	assert_int_equal(rules_load(paths, 3, &rs, &d), -1);
	assert_null(rs);
	assert_int_equal(d.n, 2);
	free(missing);
	missing = xasprintf("%s/nope.yaml: cannot read: No such file or "
	    "directory", tmpl);
	assert_string_equal(d.msgs[0], missing);
	free(missing);
	missing = xasprintf("%s:2:9: duplicate topic id 'two' (first defined "
	    "at %s:2:9)", f2, f2);
	assert_string_equal(d.msgs[1], missing);
	free(missing);
	diag_free(&d);

	/* A file may be given directly, once only per id. */
	paths[0] = f1;
	paths[1] = f1;
	diag_init(&d);
	assert_int_equal(rules_load(paths, 2, &rs, &d), -1);
	assert_int_equal(d.n, 2);
	missing = xasprintf("%s:1:9: duplicate list name 'cities' (first "
	    "defined at %s:1:9)", f1, f1);
	assert_string_equal(d.msgs[0], missing);
	free(missing);
	diag_free(&d);

	/* Without the file that defines the list. */
	paths[0] = f2;
	diag_init(&d);
	assert_int_equal(rules_load(paths, 1, &rs, &d), -1);
	assert_int_equal(d.n, 1);
	missing = xasprintf("%s:3:19: unknown list '$cities'", f2);
	assert_string_equal(d.msgs[0], missing);
	free(missing);
	diag_free(&d);

	/* No paths; an empty directory. */
	diag_init(&d);
	assert_int_equal(rules_load(paths, 0, &rs, &d), -1);
	assert_int_equal(d.n, 1);
	diag_free(&d);
	paths[0] = sub;
	diag_init(&d);
	assert_int_equal(rules_load(paths, 1, &rs, &d), -1);
	assert_int_equal(d.n, 1);
	missing = xasprintf("%s: no rule files (*.yaml, *.yml) in this "
	    "directory", sub);
	assert_string_equal(d.msgs[0], missing);
	free(missing);
	diag_free(&d);

	rmdir(sub);
	free(sub);
	free(f1);
	free(f2);
	remove_tree(tmpl, names, sizeof names / sizeof names[0]);
}

/* ---- small functions -------------------------------------------------- */

static void
test_suggest(void **state)
{
	static const char *const keys[] = {
		"id", "name", "tags", "match", "count_by", "alert", "tests"
	};
	const size_t n = sizeof keys / sizeof keys[0];

	(void)state;
	assert_string_equal(rules_suggest("mtach", keys, n), "match");
	assert_string_equal(rules_suggest("Match", keys, n), "match");
	assert_string_equal(rules_suggest("nmae", keys, n), "name");
	assert_string_equal(rules_suggest("countby", keys, n), "count_by");
	assert_string_equal(rules_suggest("alerts", keys, n), "alert");
	assert_string_equal(rules_suggest("test", keys, n), "tests");
	assert_null(rules_suggest("x", keys, n));
	assert_null(rules_suggest("keywords", keys, n));
	assert_null(rules_suggest("", keys, n));
	assert_null(rules_suggest("mtach", keys, 0));
}

static void
test_severity_names(void **state)
{
	(void)state;
	assert_string_equal(rules_severity_name(SEV_INFO), "info");
	assert_string_equal(rules_severity_name(SEV_WARNING), "warning");
	assert_string_equal(rules_severity_name(SEV_CRITICAL), "critical");
}

/* Every error of every kind in one load, sorted by position. */
static void
test_all_errors_reported(void **state)
{
	(void)state;
	expect_errors("topics:\n"
	    "  - id: b\n"
	    "    match: {none: [x]}\n"
	    "    alert: {window: 5s, threshold: 1}\n"
	    "lists:\n"
	    "  a: [\"/(/\"]\n"
	    "  a: [y]\n",
	    "t.yaml:3:13: match has only 'none', which matches nothing: add "
	    "'any', 'all' or 'where'",
	    "t.yaml:4:21: window 5s is not a multiple of the counter "
	    "resolution (10s)",
	    "t.yaml:6:7: invalid regex '/(/': missing closing parenthesis at "
	    "offset 1",
	    "t.yaml:7:3: duplicate list name 'a' (first defined at "
	    "t.yaml:6:3)");
}

/* ---- detectors: poisson, EWMA; group_wait, inhibit ---------------------- */

static void
test_detector_keys(void **state)
{
	struct ruleset *rs;
	struct rule_alert *a;

	(void)state;
	rs = load_alert("{window: 5m, baseline: {halflife: 1d, exclude: 6}, "
	    "zscore: 4}", NULL);
	a = &rs->topics[0].alerts[0];
	assert_int_equal(a->halflife_s, 86400);
	assert_true(a->exclude == 6);
	assert_int_equal(a->baseline_s, 0);
	assert_int_equal(a->period_s, 0);
	assert_true(a->poisson_p == 0);
	rules_unref(rs);

	/* exclude defaults to 0 (spike.c's default); poisson as a number */
	rs = load_alert("{window: 5m, baseline: {halflife: 1h}, poisson: 0.01}",
	    NULL);
	a = &rs->topics[0].alerts[0];
	assert_int_equal(a->halflife_s, 3600);
	assert_true(a->exclude == 0);
	assert_true(a->poisson_p == 0.01);
	assert_true(a->poisson_factor == 1.0);
	rules_unref(rs);

	rs = load_alert("{window: 5m, baseline: 1h, poisson: {p: 1e-6, "
	    "factor: 2.5}}", NULL);
	a = &rs->topics[0].alerts[0];
	assert_true(a->poisson_p == 1e-6);
	assert_true(a->poisson_factor == 2.5);
	assert_int_equal(a->baseline_s, 3600);
	rules_unref(rs);
}

static void
test_detector_errors(void **state)
{
	(void)state;
	expect_alert_error("{window: 5m, baseline: {halflife: 1d, period: 1d}, "
	    "zscore: 3}",
	    "t.yaml:4:50: baseline: halflife (a moving average) and "
	    "period/lookback (the same time in earlier periods) are two kinds "
	    "of baseline, choose one");
	expect_alert_error("{window: 5m, baseline: {period: 1d, exclude: 3}, "
	    "zscore: 3}",
	    "t.yaml:4:48: baseline: exclude goes with a halflife (e.g. "
	    "{halflife: 1d, exclude: 20})");
	expect_alert_error("{window: 5m, poisson: {p: 0.7}}",
	    "t.yaml:4:25: poisson needs a baseline to compare with (e.g. "
	    "baseline: 1h)",
	    "t.yaml:4:38: p: expected a probability between 0 and 0.5 (e.g. "
	    "0.001), got '0.7'");
	expect_alert_error("{window: 5m, baseline: 1h, poisson: {factor: 2}}",
	    "t.yaml:4:48: poisson has no 'p' (e.g. {p: 0.001, factor: 1})");
	expect_alert_error("{window: 5m, baseline: 1h, poisson: {p: 0.1, "
	    "factor: 0}}",
	    "t.yaml:4:65: factor: expected a number greater than 0, got '0'");
	expect_alert_error("{window: 5m, baseline: {halflife: 15s}, poisson: "
	    "0.01}",
	    "t.yaml:4:46: baseline halflife 15s is not a multiple of the "
	    "counter resolution (10s)");
	expect_alert_error("{window: 5m, baseline: {halflife: 1m}, zscore: 3}",
	    "t.yaml:4:46: baseline halflife 1m must be at least the window "
	    "(5m)");
	expect_alert_error("{window: 5m, baseline: {halflife: 1h, exclude: -1}, "
	    "zscore: 3}",
	    "t.yaml:4:59: exclude: expected a number greater than 0, got '-1'");
	expect_alert_error("{window: 5m, baseline: 1h, poisn: 0.1}",
	    "t.yaml:4:39: unknown key 'poisn' in alert (did you mean "
	    "'poisson'?)");
}

static void
test_group_wait_inhibit(void **state)
{
	struct ruleset *rs;
	size_t i;

	(void)state;
	rs = load_ok("topics:\n"
	    "  - id: child\n"
	    "    match: {any: [a]}\n"
	    "    inhibit: [parent, grand]\n"
	    "    group_wait: 30s\n"
	    "  - id: parent\n"
	    "    match: {any: [b]}\n"
	    "    inhibit: grand\n"
	    "  - id: grand\n"
	    "    match: {any: [c]}\n");
	assert_int_equal(rs->topics[0].group_wait_s, 30);
	assert_int_equal(rs->topics[0].ninhibit, 2);
	assert_int_equal(rs->topics[0].inhibit_idx[0], 1);
	assert_int_equal(rs->topics[0].inhibit_idx[1], 2);
	assert_int_equal(rs->topics[1].ninhibit, 1);
	assert_int_equal(rs->topics[1].inhibit_idx[0], 2);
	assert_int_equal(rs->topics[2].group_wait_s, 0);
	/* every topic after those that inhibit it */
	assert_int_equal(rs->order[0], 2);
	assert_int_equal(rs->order[1], 1);
	assert_int_equal(rs->order[2], 0);
	rules_unref(rs);

	rs = load_ok("topics:\n"
	    "  - {id: a, match: {any: [a]}}\n"
	    "  - {id: b, match: {any: [b]}}\n");
	for (i = 0; i < 2; i++)
		assert_int_equal(rs->order[i], i);
	rules_unref(rs);

	expect_errors("topics:\n"
	    "  - id: food\n"
	    "    match: {any: [a]}\n"
	    "  - id: food-2\n"
	    "    match: {any: [b]}\n"
	    "    inhibit: [fod, food-2, food, food]\n"
	    "    group_wait: 2h\n"
	    "  - {id: c1, match: {any: [c]}, inhibit: c2}\n"
	    "  - {id: c2, match: {any: [c]}, inhibit: [c1], group_wait: 0}\n"
	    "  - {id: c3, match: {any: [c]}, inhibit: [Bad]}\n",
	    "t.yaml:6:15: inhibit: no topic 'fod' in the rule set (did you "
	    "mean 'food'?)",
	    "t.yaml:6:20: inhibit: topic 'food-2' cannot inhibit itself",
	    "t.yaml:6:34: inhibit: 'food' is listed twice",
	    "t.yaml:7:17: group_wait: '2h' is too long (at most 1h)",
	    "t.yaml:8:42: inhibit: topics 'c1' and 'c2' inhibit each other "
	    "(a cycle)",
	    "t.yaml:9:60: group_wait: expected a duration greater than 0, "
	    "got '0'",
	    "t.yaml:10:43: inhibit: expected a topic id, got 'Bad'");
}

/* One alert block from a string, as backtest --alert reads it. */
static void
test_parse_alert(void **state)
{
	struct rules_opts opts = { .resolution_s = 300 };
	struct rule_alert a;
	struct diag d;
	const char *y;

	(void)state;
	diag_init(&d);
	y = "{window: 30m, baseline: {halflife: 14d}, zscore: 5.5, "
	    "cooldown: 1d}";
	assert_int_equal(rules_parse_alert("--alert", y, strlen(y), &opts, &a,
	    &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(a.window_s, 1800);
	assert_int_equal(a.halflife_s, 14 * 86400);
	assert_true(a.zscore == 5.5);
	assert_int_equal(a.cooldown_s, 86400);
	assert_int_equal(a.resolve_after_s, 1800);
	assert_int_equal(a.min_count, 1);
	assert_true(a.threshold < 0 && a.ratio < 0);

	y = "window: 45s\nratio: 2\nzz: 1\n";
	assert_int_equal(rules_parse_alert("--alert", y, strlen(y), &opts, &a,
	    &d), -1);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.msgs[0], "--alert:1:9: window 45s is not a "
	    "multiple of the counter resolution (5m)");
	assert_string_equal(d.msgs[1], "--alert:2:1: ratio needs a baseline "
	    "to compare with (e.g. baseline: 1h)");
	assert_string_equal(d.msgs[2], "--alert:3:1: unknown key 'zz' in "
	    "alert (expected window, baseline, min_count, threshold, ratio, "
	    "zscore, cooldown, resolve_after, severity, poisson, count, "
	    "min_authors or max_posts_per_author)");
	diag_free(&d);

	diag_init(&d);
	assert_int_equal(rules_parse_alert("--alert", "", 0, &opts, &a, &d),
	    -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], "--alert:1:1: alert: expected a mapping "
	    "with a window and a condition, got nothing");
	diag_free(&d);

	diag_init(&d);
	y = "{window: 5m, threshold: [";
	assert_int_equal(rules_parse_alert("--alert", y, strlen(y), &opts, &a,
	    &d), -1);
	assert_true(d.n >= 1);
	assert_true(strncmp(d.msgs[0], "--alert:", 8) == 0);
	diag_free(&d);
}

/* ---- the alert key tables --------------------------------------------- */

/*
 * Every key of an alert block, of a baseline mapping and of a poisson
 * mapping, accepted with a good value and refused with a bad one, with its
 * message.  The keys come from the loader's own "unknown key ... (expected
 * ...)" messages, so a key added to a table without a case here fails.
 */
struct key_case {
	const char	*key;	/* window, baseline.period, poisson.p... */
	const char	*good;	/* an alert block with a good value */
	double		 value;	/* what the good value sets */
	const char	*bad;	/* the same block with a bad value */
	const char	*error;	/* its only error, after "--alert:L:C: " */
};

static const struct key_case key_cases[] = {
	{ "window", "{window: 5m, threshold: 3}", 300,
	  "{window: 0, threshold: 3}",
	  "window: expected a duration greater than 0, got '0'" },
	{ "baseline", "{window: 5m, baseline: 1h, ratio: 2}", 3600,
	  "{window: 5m, baseline: [1h], ratio: 2}",
	  "baseline: expected a duration or a mapping with period and "
	  "lookback, got a list" },
	{ "min_count", "{window: 5m, threshold: 3, min_count: 20}", 20,
	  "{window: 5m, threshold: 3, min_count: 0}",
	  "min_count: expected a whole number of at least 1, got '0'" },
	{ "threshold", "{window: 5m, threshold: 3.5}", 3.5,
	  "{window: 5m, threshold: -1}",
	  "threshold: expected a number greater than 0, got '-1'" },
	{ "ratio", "{window: 5m, baseline: 1h, ratio: 2.5}", 2.5,
	  "{window: 5m, baseline: 1h, ratio: 0}",
	  "ratio: expected a number greater than 0, got '0'" },
	{ "zscore", "{window: 5m, baseline: 1h, zscore: 4}", 4,
	  "{window: 5m, baseline: 1h, zscore: abc}",
	  "zscore: expected a number greater than 0, got 'abc'" },
	{ "cooldown", "{window: 5m, threshold: 3, cooldown: 1h}", 3600,
	  "{window: 5m, threshold: 3, cooldown: 5x}",
	  "cooldown: expected a duration like 30s, 5m, 2h or 1d, got '5x'" },
	{ "resolve_after", "{window: 5m, threshold: 3, resolve_after: 10m}",
	  600, "{window: 5m, threshold: 3, resolve_after: 3651d}",
	  "resolve_after: duration '3651d' is too long (at most 3650d)" },
	{ "severity", "{window: 5m, threshold: 3, severity: critical}",
	  SEV_CRITICAL, "{window: 5m, threshold: 3, severity: high}",
	  "severity: expected info, warning or critical, got 'high'" },
	{ "poisson", "{window: 5m, baseline: 1h, poisson: 0.001}", 0.001,
	  "{window: 5m, baseline: 1h, poisson: [0.1]}",
	  "poisson: expected p or a mapping with p and factor, got a list" },
	{ "count", "{window: 5m, threshold: 3, count: authors}",
	  COUNT_AUTHORS, "{window: 5m, threshold: 3, count: people}",
	  "count: expected posts, authors or texts, got 'people'" },
	{ "min_authors", "{window: 5m, threshold: 3, min_authors: 10}", 10,
	  "{window: 5m, threshold: 3, min_authors: 0}",
	  "min_authors: expected a whole number of at least 1, got '0'" },
	{ "max_posts_per_author",
	  "{window: 5m, threshold: 3, max_posts_per_author: 2.5}", 2.5,
	  "{window: 5m, threshold: 3, max_posts_per_author: 0}",
	  "max_posts_per_author: expected a number greater than 0, got '0'" },
	{ "baseline.period", "{window: 5m, baseline: {period: 1d}, zscore: 3}",
	  86400, "{window: 5m, baseline: {period: 1x}, zscore: 3}",
	  "period: expected a duration like 30s, 5m, 2h or 1d, got '1x'" },
	{ "baseline.lookback",
	  "{window: 5m, baseline: {period: 1d, lookback: 3}, zscore: 3}", 3,
	  "{window: 5m, baseline: {period: 1d, lookback: 366}, zscore: 3}",
	  "lookback: expected a whole number from 1 to 365, got '366'" },
	{ "baseline.halflife",
	  "{window: 5m, baseline: {halflife: 1d}, zscore: 3}", 86400,
	  "{window: 5m, baseline: {halflife: 0}, zscore: 3}",
	  "halflife: expected a duration greater than 0, got '0'" },
	{ "baseline.exclude",
	  "{window: 5m, baseline: {halflife: 1d, exclude: 20}, zscore: 3}", 20,
	  "{window: 5m, baseline: {halflife: 1d, exclude: 0}, zscore: 3}",
	  "exclude: expected a number greater than 0, got '0'" },
	{ "baseline.season",
	  "{window: 5m, baseline: {halflife: 1d, season: 10}, zscore: 3}", 10,
	  "{window: 5m, baseline: {halflife: 1d, season: -1}, zscore: 3}",
	  "season: expected a number greater than 0, got '-1'" },
	{ "baseline.season_period",
	  "{window: 5m, baseline: {halflife: 1d, season: 10, "
	  "season_period: 7d}, zscore: 3}", 7 * 86400,
	  "{window: 5m, baseline: {halflife: 1d, season: 10, "
	  "season_period: 7x}, zscore: 3}",
	  "season_period: expected a duration like 30s, 5m, 2h or 1d, "
	  "got '7x'" },
	{ "baseline.season_lookback",
	  "{window: 5m, baseline: {halflife: 1d, season: 10, "
	  "season_lookback: 7}, zscore: 3}", 7,
	  "{window: 5m, baseline: {halflife: 1d, season: 10, "
	  "season_lookback: 2}, zscore: 3}",
	  "season_lookback: expected a whole number from 3 to 365, got '2'" },
	{ "poisson.p", "{window: 5m, baseline: 1h, poisson: {p: 0.01}}", 0.01,
	  "{window: 5m, baseline: 1h, poisson: {p: 0.5}}",
	  "p: expected a probability between 0 and 0.5 (e.g. 0.001), "
	  "got '0.5'" },
	{ "poisson.factor",
	  "{window: 5m, baseline: 1h, poisson: {p: 0.01, factor: 2}}", 2,
	  "{window: 5m, baseline: 1h, poisson: {p: 0.01, factor: -2}}",
	  "factor: expected a number greater than 0, got '-2'" },
};

/* The field a key case sets. */
static double
key_field(const struct rule_alert *a, const char *key)
{
	static const struct {
		const char	*key;
		size_t		 off;
		char		 type;	/* 'l' int64_t, 'i' int, 'd' double */
	} fields[] = {
		{ "window", offsetof(struct rule_alert, window_s), 'l' },
		{ "baseline", offsetof(struct rule_alert, baseline_s), 'l' },
		{ "min_count", offsetof(struct rule_alert, min_count), 'l' },
		{ "threshold", offsetof(struct rule_alert, threshold), 'd' },
		{ "ratio", offsetof(struct rule_alert, ratio), 'd' },
		{ "zscore", offsetof(struct rule_alert, zscore), 'd' },
		{ "cooldown", offsetof(struct rule_alert, cooldown_s), 'l' },
		{ "resolve_after", offsetof(struct rule_alert, resolve_after_s),
		  'l' },
		{ "severity", offsetof(struct rule_alert, severity), 'i' },
		{ "poisson", offsetof(struct rule_alert, poisson_p), 'd' },
		{ "count", offsetof(struct rule_alert, count), 'i' },
		{ "min_authors", offsetof(struct rule_alert, min_authors), 'l' },
		{ "max_posts_per_author", offsetof(struct rule_alert,
		  max_posts_per_author), 'd' },
		{ "baseline.period", offsetof(struct rule_alert, period_s),
		  'l' },
		{ "baseline.lookback", offsetof(struct rule_alert, lookback),
		  'i' },
		{ "baseline.halflife", offsetof(struct rule_alert, halflife_s),
		  'l' },
		{ "baseline.exclude", offsetof(struct rule_alert, exclude),
		  'd' },
		{ "baseline.season", offsetof(struct rule_alert, season),
		  'd' },
		{ "baseline.season_period", offsetof(struct rule_alert,
		  season_period_s), 'l' },
		{ "baseline.season_lookback", offsetof(struct rule_alert,
		  season_lookback), 'i' },
		{ "poisson.p", offsetof(struct rule_alert, poisson_p), 'd' },
		{ "poisson.factor", offsetof(struct rule_alert,
		  poisson_factor), 'd' },
	};
	const char *p;
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (strcmp(fields[i].key, key) != 0)
			continue;
		p = (const char *)a + fields[i].off;
		if (fields[i].type == 'l')
			return (double)*(const int64_t *)p;
		if (fields[i].type == 'i')
			return *(const int *)p;
		return *(const double *)p;
	}
	fail_msg("no field for key %s", key);
	return 0;
}

/* The message of "--alert:L:C: message". */
static const char *
message_of(const char *msg)
{
	const char *p = msg + strlen("--alert:");

	p = strchr(p, ':');
	assert_non_null(p);
	p = strchr(p + 1, ':');
	assert_non_null(p);
	return p + 2;
}

static const struct key_case *
find_key_case(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++)
		if (strcmp(key_cases[i].key, key) == 0)
			return &key_cases[i];
	return NULL;
}

/* The keys that the error for the unknown key zzzzzz in `in` lists, in
 * the alert block `alert`, each given a case (named prefix + key); returns
 * how many there are. */
static size_t
check_listed_keys(const char *alert, const char *in, const char *prefix)
{
	struct rule_alert a;
	struct diag d;
	const char *p, *end, *sep;
	char key[64], *head;
	size_t n = 0, len;

	diag_init(&d);
	assert_int_equal(rules_parse_alert("--alert", alert, strlen(alert),
	    NULL, &a, &d), -1);
	assert_int_equal(d.n, 1);
	head = xasprintf("unknown key 'zzzzzz' in %s (expected ", in);
	p = message_of(d.msgs[0]);
	if (strncmp(p, head, strlen(head)) != 0)
		fail_msg("%s: not '%s...'", d.msgs[0], head);
	p += strlen(head);
	free(head);
	end = strchr(p, ')');
	assert_non_null(end);
	while (p < end) {
		if ((sep = strstr(p, ", ")) == NULL || sep > end)
			sep = strstr(p, " or ");
		if (sep == NULL || sep > end)
			sep = end;
		len = (size_t)(sep - p);
		assert_true(len > 0 && len < 32);
		snprintf(key, sizeof key, "%s%.*s", prefix, (int)len, p);
		if (find_key_case(key) == NULL)
			fail_msg("no case for the key %s", key);
		n++;
		p = sep == end ? end : sep + (*sep == ',' ? 2 : 4);
	}
	diag_free(&d);
	return n;
}

static void
test_alert_key_table(void **state)
{
	const struct key_case *c;
	struct rule_alert a;
	struct diag d;
	size_t i, nkeys;

	(void)state;
	for (i = 0; i < sizeof key_cases / sizeof key_cases[0]; i++) {
		c = &key_cases[i];
		diag_init(&d);
		if (rules_parse_alert("--alert", c->good, strlen(c->good), NULL,
		    &a, &d) != 0 || d.n != 0)
			fail_msg("%s: %s refused: %s", c->key, c->good,
			    d.n > 0 ? d.msgs[0] : "?");
		if (key_field(&a, c->key) != c->value)
			fail_msg("%s: %s gives %g, not %g", c->key, c->good,
			    key_field(&a, c->key), c->value);
		diag_free(&d);

		diag_init(&d);
		assert_int_equal(rules_parse_alert("--alert", c->bad,
		    strlen(c->bad), NULL, &a, &d), -1);
		if (d.n != 1 || strcmp(message_of(d.msgs[0]), c->error) != 0)
			fail_msg("%s: %s gives %zu errors, the first '%s', "
			    "not '%s'", c->key, c->bad, d.n,
			    d.n > 0 ? d.msgs[0] : "", c->error);
		diag_free(&d);
	}

	/* count authors or texts goes with threshold only */
	diag_init(&d);
	assert_int_equal(rules_parse_alert("--alert", "{window: 5m, baseline: "
	    "1h, ratio: 2, count: texts}", 50, NULL, &a, &d), -1);
	assert_int_equal(d.n, 1);
	assert_string_equal(message_of(d.msgs[0]), "ratio counts posts: "
	    "count: texts goes with threshold only");
	diag_free(&d);

	nkeys = check_listed_keys("{window: 5m, threshold: 3, zzzzzz: 1}",
	    "alert", "");
	nkeys += check_listed_keys("{window: 5m, zscore: 3, baseline: "
	    "{period: 1d, zzzzzz: 1}}", "baseline", "baseline.");
	nkeys += check_listed_keys("{window: 5m, baseline: 1h, poisson: "
	    "{p: 0.01, zzzzzz: 1}}", "poisson", "poisson.");
	assert_int_equal(nkeys, sizeof key_cases / sizeof key_cases[0]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_keyword_errors),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_all_groups),
		cmocka_unit_test(test_match_errors),
		cmocka_unit_test(test_where),
		cmocka_unit_test(test_topic_fields),
		cmocka_unit_test(test_topic_errors),
		cmocka_unit_test(test_duplicate_ids),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_alert_errors),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_embedded_tests),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_detector_keys),
		cmocka_unit_test(test_detector_errors),
		cmocka_unit_test(test_group_wait_inhibit),
		cmocka_unit_test(test_parse_alert),
		cmocka_unit_test(test_alert_key_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
