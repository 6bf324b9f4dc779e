/*
 * test_agg.c — local pre-aggregation: counts per topic and bucket, keyword
 * hits, count_by values with the _other cap, samples (one post's shared by
 * its topics), clear and merge;
 * the strings cached per rule index follow a change of rule set; distinct
 * authors and texts per topic and hour, each element once, and merged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
		agg_add(a, rs, &p, t * 1000, &res);
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
	assert_string_equal(s[0].json,
	    "{\"id\":\"id1\",\"text\":\"地沟油和食物中毒\"}");
	assert_int_equal(s[0].json_len, strlen(s[0].json));
	assert_int_equal(s[0].time_ms, 1000000);
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
	/* the same post (JSON) twice in a bucket is one sample, at its
	 * later time */
	{
		const struct agg_sample *s = agg_samples(a, &n);
		size_t i;

		assert_int_equal(n, 2);
		for (i = 0; i < n; i++)
			if (strcmp(s[i].topic, "food") == 0)
				assert_int_equal(s[i].time_ms, 105000);
	}
	agg_free(a);
	agg_free(b);
}

/* Adds post number i of a burst (id "p<i>", time t_ms) to topic food. */
static void
add_numbered(struct agg *a, int i, int64_t t_ms)
{
	struct match_result res;
	struct post p;
	char id[16];

	snprintf(id, sizeof id, "p%d", i);
	memset(&p, 0, sizeof p);
	p.id = id;
	p.id_len = strlen(id);
	p.text = "地沟油";
	p.text_len = strlen(p.text);
	p.time_ms = t_ms;
	assert_int_equal(match_post(ctx, &p, &res), 0);
	agg_add(a, rs, &p, t_ms, &res);
}

/* A rule set whose topic 0 has another id and keyword spelling: the
 * aggregate's cache by topic index must not give the old ones. */
static void
test_rules_change(void **state)
{
	static const char yaml[] =
	    "topics:\n"
	    "  - id: renamed\n"
	    "    match: {any: [\"地沟 油\"]}\n";
	struct agg *a = agg_new(10, 0);
	struct ruleset *rs2;
	struct matcher *m2;
	struct match_ctx *ctx2;
	struct match_result res;
	struct post p;
	struct diag d;
	char err[256];
	int round;

	(void)state;
	diag_init(&d);
	assert_int_equal(rules_load_string("t2.yaml", yaml, sizeof yaml - 1,
	    &rs2, &d), 0);
	diag_free(&d);
	m2 = match_compile(rs2, norm, NULL, err, sizeof err);
	assert_non_null(m2);
	ctx2 = match_ctx_new(m2);
	memset(&p, 0, sizeof p);
	p.text = "地沟油";
	p.text_len = strlen(p.text);
	for (round = 0; round < 2; round++) {	/* across a clear too */
		add(a, "地沟油", NULL, 100);
		assert_int_equal(match_post(ctx2, &p, &res), 0);
		assert_int_equal(res.ntopics, 1);
		assert_int_equal(res.topics[0].topic, 0);
		agg_forget_rules(a);
		agg_add(a, rs2, &p, 100000, &res);
		add(a, "地沟油", NULL, 100);
		assert_int_equal(get(a, AGG_COUNT, "food", 100, NULL, NULL), 2);
		assert_int_equal(get(a, AGG_COUNT, "renamed", 100, NULL, NULL), 1);
		assert_int_equal(get(a, AGG_KEYWORD, "renamed", 100, "地沟 油",
		    NULL), 1);
		assert_int_equal(get(a, AGG_KEYWORD, "food", 100, "地沟油",
		    NULL), 2);
		agg_clear(a);
	}
	/* the rule set in use is freed (a reload) before the aggregate
	 * forgets it, and before the aggregate is freed */
	agg_add(a, rs2, &p, 100000, &res);
	match_ctx_free(ctx2);
	match_free(m2);
	rules_unref(rs2);
	agg_forget_rules(a);
	agg_free(a);
}

static int
cmp_desc(const void *x, const void *y)
{
	const struct agg_sample *a = x, *b = y;

	return agg_sample_cmp(b->time_ms, b->json, b->json_len, a->time_ms,
	    a->json, a->json_len);
}

/* The samples of a bucket, sorted newest first, as one string of JSONs. */
static void
kept(struct agg *a, char *buf, size_t sz)
{
	const struct agg_sample *s;
	struct agg_sample *c;
	size_t n, i, used = 0;

	s = agg_samples(a, &n);
	c = malloc(n * sizeof *c + 1);
	memcpy(c, s, n * sizeof *c);
	qsort(c, n, sizeof *c, cmp_desc);
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, sz - used, "%s@%lld ",
		    c[i].json, (long long)c[i].time_ms);
	free(c);
}

/* The samples kept of a (topic, bucket) are its greatest by time, then
 * JSON, whatever the order of the posts and however they were cut into
 * aggregates and merged: the daemon's flushes and backtest's workers
 * keep the same posts. */
static void
test_samples_newest(void **state)
{
	static const int64_t times[12] = { 5000, 1000, 9000, 9000, 3000, 9000,
	    2000, 8000, 9000, 4000, 7000, 6000 };
	struct agg *whole = agg_new(10, 3), *cut, *part;
	char want[1024], got[1024];
	int i, start, perm;

	(void)state;
	for (i = 0; i < 12; i++)
		add_numbered(whole, i, 100000 + times[i]);
	kept(whole, want, sizeof want);
	/* the 3 kept: time 109000, then the greatest JSONs (p8 > p5 > p3) */
	assert_string_equal(want, "{\"id\":\"p8\",\"text\":\"地沟油\"}@109000 "
	    "{\"id\":\"p5\",\"text\":\"地沟油\"}@109000 "
	    "{\"id\":\"p3\",\"text\":\"地沟油\"}@109000 ");
	for (perm = 1; perm < 12; perm++) {
		/* posts in another order, cut into aggregates of perm posts */
		cut = agg_new(10, 3);
		for (start = 0; start < 12; start += perm) {
			part = agg_new(10, 3);
			for (i = start; i < start + perm && i < 12; i++) {
				int k = (i * 5 + perm) % 12;

				add_numbered(part, k, 100000 + times[k]);
			}
			agg_merge(cut, part);
			agg_free(part);
		}
		kept(cut, got, sizeof got);
		assert_string_equal(got, want);
		agg_free(cut);
	}
	agg_free(whole);
}

/* The sample of topic in bucket, or NULL. */
static const char *
sample_of(struct agg *a, const char *topic, int64_t bucket)
{
	const struct agg_sample *s;
	size_t n, i;

	s = agg_samples(a, &n);
	for (i = 0; i < n; i++)
		if (strcmp(s[i].topic, topic) == 0 && s[i].bucket == bucket)
			return s[i].json;
	return NULL;
}

/* A post of two topics is a sample of each; a newer post replacing it in
 * one leaves the other's intact, through a merge and a clear too. */
static void
test_samples_shared(void **state)
{
	static const char both[] = "{\"id\":\"id1\",\"text\":\"地沟油地震\"}";
	struct agg *a = agg_new(10, 1), *b = agg_new(10, 1);

	(void)state;
	add(b, "地沟油地震", NULL, 100);
	assert_string_equal(sample_of(b, "food", 100), both);
	assert_string_equal(sample_of(b, "quake", 100), both);
	agg_merge(a, b);
	agg_free(b);
	add(a, "地沟油 newer", NULL, 101);
	assert_string_equal(sample_of(a, "food", 100),
	    "{\"id\":\"id1\",\"text\":\"地沟油 newer\"}");
	assert_string_equal(sample_of(a, "quake", 100), both);
	agg_clear(a);
	assert_null(sample_of(a, "quake", 100));
	add(a, "地沟油地震", NULL, 100);
	assert_string_equal(sample_of(a, "quake", 100), both);
	agg_free(a);
}

/* The distinct elements of (kind, topic, hour). */
static size_t
ndistinct(const struct agg *a, int kind, const char *topic, int64_t hour)
{
	const struct agg_distinct *d;
	size_t n, i, k = 0;

	d = agg_distincts(a, &n);
	for (i = 0; i < n; i++)
		k += d[i].kind == kind && strcmp(d[i].topic, topic) == 0 &&
		    d[i].hour == hour;
	return k;
}

static void
add_keys(struct agg *a, const char *text, int64_t t, uint64_t author,
    uint64_t tk)
{
	struct agg_keys k = { author, tk, author != 0 };
	struct match_result res;
	struct post p;

	memset(&p, 0, sizeof p);
	p.text = text;
	p.text_len = strlen(text);
	assert_int_equal(match_post(ctx, &p, &res), 0);
	agg_add(a, rs, &p, t * 1000, &res);
	agg_add_distinct(a, rs, t * 1000, &res, &k);
}

static void
test_distinct(void **state)
{
	struct agg *a = agg_new(10, 0), *b = agg_new(10, 0);
	int64_t h = 1795669200;		/* an hour */
	size_t ne;

	(void)state;
	add_keys(a, "地沟油", h + 5, 1, 100);
	add_keys(a, "地沟油", h + 50, 1, 100);	/* the same again */
	add_keys(a, "地沟油 地震", h + 3599, 2, 100);
	add_keys(a, "地震", h + 3600, 3, 101);	/* the next hour */
	add_keys(a, "地震", h - 1, 0, 102);	/* no author; the hour before */
	assert_int_equal(ndistinct(a, AGG_AUTHORS, "food", h), 2);
	assert_int_equal(ndistinct(a, AGG_TEXTS, "food", h), 1);
	assert_int_equal(ndistinct(a, AGG_AUTHORS, "quake", h), 1);
	assert_int_equal(ndistinct(a, AGG_AUTHORS, "quake", h + 3600), 1);
	assert_int_equal(ndistinct(a, AGG_AUTHORS, "quake", h - 3600), 0);
	assert_int_equal(ndistinct(a, AGG_TEXTS, "quake", h - 3600), 1);
	agg_entries(a, &ne);
	assert_int_equal(agg_size(a), ne + 8);	/* entries + 8 elements */
	/* merged: b's elements join a's, each once */
	add_keys(b, "地沟油", h + 7, 1, 100);
	add_keys(b, "地沟油", h + 7, 4, 103);
	agg_merge(a, b);
	assert_int_equal(ndistinct(a, AGG_AUTHORS, "food", h), 3);
	assert_int_equal(ndistinct(a, AGG_TEXTS, "food", h), 2);
	assert_int_equal(agg_size(b), 0);
	agg_clear(a);
	assert_int_equal(ndistinct(a, AGG_TEXTS, "food", h), 0);
	add_keys(a, "地沟油", h + 5, 1, 100);
	assert_int_equal(ndistinct(a, AGG_AUTHORS, "food", h), 1);
	agg_free(a);
	agg_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_distinct),
		cmocka_unit_test(test_values_cap),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_rules_change),
		cmocka_unit_test(test_samples_newest),
		cmocka_unit_test(test_samples_shared),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
