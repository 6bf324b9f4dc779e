/*
 * test_agg.c — local pre-aggregation: counts per topic and bucket, keyword
 * hits, count_by values with the _other cap, samples, clear and merge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "matcher.h"
#include "normalize.h"
#include "rules.h"

static struct ruleset *rs;
static struct normalizer *norm;
static struct matcher *m;
static struct match_ctx *ctx;

static int
setup(void **state)
{
	static const char yaml[] =
	    "topics:\n"
	    "  - id: food\n"
	    "    match: {any: [地沟油, 食物中毒]}\n"
	    "    count_by: [region]\n"
	    "  - id: quake\n"
	    "    match: {any: [地震]}\n";
	struct norm_opts o;
	struct diag d;
	char err[256];

	(void)state;
	diag_init(&d);
	if (rules_load_string("t.yaml", yaml, sizeof yaml - 1, &rs, &d) == -1)
		return -1;
	diag_free(&d);
	norm_opts_default(&o);
	norm = norm_new(&o, err, sizeof err);
	m = match_compile(rs, norm, NULL, err, sizeof err);
	ctx = match_ctx_new(m);
	return m == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	match_ctx_free(ctx);
	match_free(m);
	norm_free(norm);
	rules_unref(rs);
	return 0;
}

static void
add(struct agg *a, const char *text, const char *region, int64_t t)
{
	struct post_field f = { "region", region, region ? strlen(region) : 0 };
	struct match_result res;
	struct post p;

	memset(&p, 0, sizeof p);
	p.id = "id1";
	p.id_len = 3;
	p.text = text;
	p.text_len = strlen(text);
	p.time_ms = t * 1000;
	p.fields = &f;
	p.nfields = 1;
	assert_int_equal(match_post(ctx, &p, &res), 0);
	agg_add_total(a, t);
	if (res.ntopics > 0)
		agg_add(a, rs, &p, t, &res);
}

static int64_t
get(struct agg *a, enum agg_kind kind, const char *topic, int64_t bucket,
    const char *aux, const char *aux2)
{
	const struct agg_entry *e;
	size_t n, i;

	e = agg_entries(a, &n);
	for (i = 0; i < n; i++) {
		if ((int)e[i].kind != (int)kind || strcmp(e[i].topic, topic) != 0 ||
		    e[i].bucket != bucket)
			continue;
		if ((aux == NULL) != (e[i].aux == NULL) ||
		    (aux && strcmp(aux, e[i].aux) != 0))
			continue;
		if ((aux2 == NULL) != (e[i].aux2 == NULL) ||
		    (aux2 && strcmp(aux2, e[i].aux2) != 0))
			continue;
		return e[i].count;
	}
	return 0;
}

static void
test_counts(void **state)
{
	struct agg *a = agg_new(10, 2);
	const struct agg_sample *s;
	size_t ns;

	(void)state;
	add(a, "地沟油和食物中毒", "广东", 1000);	/* one post, two keywords */
	add(a, "地沟油", "广东", 1009);
	add(a, "地沟油", "北京", 1010);		/* next bucket */
	add(a, "地震了", NULL, 1003);
	add(a, "天气不错", NULL, 1004);
	add(a, "地沟油", "广东", -5);		/* before the epoch: bucket -10 */
	assert_int_equal(get(a, AGG_COUNT, "food", 1000, NULL, NULL), 2);
	assert_int_equal(get(a, AGG_COUNT, "food", 1010, NULL, NULL), 1);
	assert_int_equal(get(a, AGG_COUNT, "food", -10, NULL, NULL), 1);
	assert_int_equal(get(a, AGG_COUNT, "quake", 1000, NULL, NULL), 1);
	assert_int_equal(get(a, AGG_COUNT, "_all", 1000, NULL, NULL), 4);
	assert_int_equal(get(a, AGG_KEYWORD, "food", 1000, "地沟油", NULL), 2);
	assert_int_equal(get(a, AGG_KEYWORD, "food", 1000, "食物中毒", NULL), 1);
	assert_int_equal(get(a, AGG_BY, "food", 1000, "region", "广东"), 2);
	assert_int_equal(get(a, AGG_BY, "food", 1010, "region", "北京"), 1);
	assert_int_equal(get(a, AGG_BY, "quake", 1000, "region", "_none"), 0);
	assert_int_equal(agg_posts(a), 5);
	/* at most 2 samples per topic and bucket */
	s = agg_samples(a, &ns);
	assert_int_equal(ns, 2 + 1 + 1 + 1);
	assert_string_equal(s[0].topic, "food");
	assert_string_equal(s[0].text, "地沟油和食物中毒");
	agg_clear(a);
	agg_entries(a, &ns);
	assert_int_equal(ns, 0);
	assert_int_equal(agg_posts(a), 0);
	agg_free(a);
}

static void
test_values_cap(void **state)
{
	struct agg *a = agg_new(10, 0);
	char region[32];
	int i;

	(void)state;
	for (i = 0; i < AGG_MAX_VALUES + 10; i++) {
		snprintf(region, sizeof region, "r%d", i);
		add(a, "地沟油", region, 2000);
	}
	add(a, "地沟油", "r0", 2000);		/* a known value still counts */
	assert_int_equal(get(a, AGG_BY, "food", 2000, "region", "r0"), 2);
	assert_int_equal(get(a, AGG_BY, "food", 2000, "region", "_other"), 10);
	assert_int_equal(get(a, AGG_COUNT, "food", 2000, NULL, NULL),
	    AGG_MAX_VALUES + 11);
	agg_free(a);
}

static void
test_merge(void **state)
{
	struct agg *a = agg_new(10, 1), *b = agg_new(10, 1);
	size_t n;

	(void)state;
	add(a, "地沟油", "广东", 100);
	add(b, "地沟油", "广东", 105);
	add(b, "地震", NULL, 100);
	agg_merge(a, b);
	assert_int_equal(get(a, AGG_COUNT, "food", 100, NULL, NULL), 2);
	assert_int_equal(get(a, AGG_COUNT, "quake", 100, NULL, NULL), 1);
	assert_int_equal(get(a, AGG_BY, "food", 100, "region", "广东"), 2);
	agg_entries(b, &n);
	assert_int_equal(n, 0);
	agg_samples(a, &n);
	assert_int_equal(n, 3);
	agg_free(a);
	agg_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_values_cap),
		cmocka_unit_test(test_merge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
