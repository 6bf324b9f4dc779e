/*
 * test_pipeline.c — one post's way: decoder options from the config, every
 * outcome (matched, unmatched, each reject reason, future, late, no time),
 * each time source in a stream and in a file, text lines, matching only,
 * and the second a time is counted in, before 1970 too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agg.h"
#include "config.h"
#include "matcher.h"
#include "normalize.h"
#include "pipeline.h"
#include "rules.h"
#include "xmalloc.h"

#define NOW	INT64_C(1795500000000)	/* the wall clock of a stream, ms */
#define RES	10			/* counters.resolution, s */

static struct ruleset *rs;
static struct normalizer *norm;
static struct matcher *m;

static const char rules_yaml[] =
    "topics:\n"
    "  - id: food\n"
    "    match: {any: [地沟油]}\n"
    "    count_by: [region]\n"
    "  - id: quake\n"
    "    match: {any: [地震]}\n";

/* The rule set, its normaliser and matcher, each step checked. */
static int
setup(void **state)
{
	struct norm_opts no;
	struct diag d;
	char err[256] = "";
	size_t i;
	int rc;

	(void)state;
	diag_init(&d);
	rc = rules_load_string("pipeline.yaml", rules_yaml,
	    strlen(rules_yaml), &rs, &d);
	for (i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	diag_free(&d);
	if (rc == 0) {
		norm_opts_default(&no);
		norm = norm_new(&no, err, sizeof err);
	}
	if (norm != NULL)
		m = match_compile(rs, norm, NULL, err, sizeof err);
	if (m == NULL && err[0] != '\0')
		fprintf(stderr, "%s\n", err);
	return m == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	match_free(m);
	norm_free(norm);
	rules_unref(rs);
	return 0;
}

/* A pipeline of mode over a config (yaml; NULL: the defaults), counting
 * into a fresh aggregate. */
struct fixture {
	struct config	 cfg;
	struct agg	*agg;
	struct pipeline	*pl;
	char		 err[256];
};

static void
fixture_open(struct fixture *f, enum pipeline_mode mode, const char *yaml)
{
	struct pipeline_opts po;
	struct diag d;

	memset(f, 0, sizeof *f);
	diag_init(&d);
	if (yaml == NULL)
		config_defaults(&f->cfg);
	else
		assert_int_equal(config_load_string("t.yaml", yaml, strlen(yaml),
		    &f->cfg, &d), 0);
	diag_free(&d);
	f->agg = agg_new(RES, 2);
	memset(&po, 0, sizeof po);
	po.mode = mode;
	po.cfg = &f->cfg;
	po.m = m;
	po.agg = f->agg;
	f->pl = pipeline_new(&po, f->err, sizeof f->err);
}

static void
fixture_close(struct fixture *f)
{
	pipeline_free(f->pl);
	agg_free(f->agg);
	config_free(&f->cfg);
}

static enum pipeline_status
process(struct fixture *f, const char *msg, int64_t kafka_ms, int64_t now_ms,
    struct pipeline_result *r)
{
	enum pipeline_status st;

	st = pipeline_process(f->pl, msg, strlen(msg), kafka_ms, now_ms, r);
	assert_int_equal(st, r->status);
	return st;
}

/* The count of topic in the bucket starting at second b (0: none). */
static int64_t
count_at(const struct agg *a, const char *topic, int64_t b)
{
	const struct agg_entry *e;
	size_t n, i;

	e = agg_entries(a, &n);
	for (i = 0; i < n; i++)
		if (e[i].kind == AGG_COUNT && strcmp(e[i].topic, topic) == 0 &&
		    e[i].bucket == b)
			return e[i].count;
	return 0;
}

static size_t
nentries(const struct agg *a)
{
	size_t n;

	agg_entries(a, &n);
	return n;
}

static void
test_matched(void **state)
{
	struct fixture f;
	struct pipeline_result r;
	int64_t b = (NOW / 1000 - 5) / RES * RES;

	(void)state;
	fixture_open(&f, PIPELINE_STREAM, "input: {fields: {region: user.region}}");
	assert_non_null(f.pl);
	assert_int_equal(process(&f, "{\"id\":\"p1\",\"text\":\"又是地沟油\","
	    "\"time\":1795499995,\"user\":{\"region\":\"广东\"}}", -1, NOW, &r),
	    PIPELINE_OK);
	assert_true(r.decoded);
	assert_int_equal(r.time_ms, NOW - 5000);
	assert_int_equal(r.match.ntopics, 1);
	assert_int_equal(r.match.nerrors, 0);
	assert_string_equal(r.detail, "");
	assert_int_equal(r.post.id_len, 2);
	assert_memory_equal(r.post.id, "p1", 2);
	/* the field map reaches the decoder: region counted by its path */
	assert_string_equal(post_field(&r.post, "region", NULL), "广东");
	assert_int_equal(count_at(f.agg, "_all", b), 1);
	assert_int_equal(count_at(f.agg, "food", b), 1);
	assert_int_equal(agg_posts(f.agg), 1);
	fixture_close(&f);
}

static void
test_unmatched(void **state)
{
	struct fixture f;
	struct pipeline_result r;
	int64_t b = NOW / 1000 / RES * RES;

	(void)state;
	fixture_open(&f, PIPELINE_STREAM, NULL);
	assert_int_equal(process(&f, "{\"text\":\"天气不错\",\"time\":1795500000}",
	    -1, NOW, &r), PIPELINE_OK);
	assert_int_equal(r.match.ntopics, 0);
	assert_null(r.post.id);
	/* counted under _all only */
	assert_int_equal(count_at(f.agg, "_all", b), 1);
	assert_int_equal(nentries(f.agg), 1);
	assert_int_equal(agg_posts(f.agg), 0);
	fixture_close(&f);
}

static void
test_reject_reasons(void **state)
{
	static const struct {
		const char	*msg;
		int		 reason;
	} cases[] = {
		{ "{\"text\":\"a\xff\"}", DEC_NOT_UTF8 },
		{ "not json", DEC_NOT_JSON },
		{ "[1,2]", DEC_NOT_OBJECT },
		{ "{\"id\":\"x\"}", DEC_NO_TEXT },
		{ "{\"text\":7}", DEC_TEXT_TYPE },
		{ "{\"text\":\"a\\u0000b\"}", DEC_NUL_ESCAPE },
		{ "{\"text\":\"a\tb\"}", DEC_NOT_JSON },
		{ "{\"text\":\"a\",\"n\":012}", DEC_NOT_JSON },
		{ "{\"text\":null}", DEC_TEXT_TYPE },
		{ "{\"text\":\"x\",\"time\":\"soon\"}", DEC_BAD_TIME },
	};
	struct fixture f;
	struct pipeline_result r;
	char *deep, *big;
	size_t i;

	(void)state;
	fixture_open(&f, PIPELINE_STREAM, "input: {max_post_bytes: 64}");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(process(&f, cases[i].msg, -1, NOW, &r),
		    PIPELINE_REJECTED);
		assert_int_equal(r.reason, cases[i].reason);
		assert_false(r.decoded);
		assert_true(r.detail[0] != '\0');
	}
	/* input.max_post_bytes reaches the decoder */
	big = xmalloc(100);
	snprintf(big, 100, "{\"text\":\"%070d\"}", 0);
	assert_int_equal(process(&f, big, -1, NOW, &r), PIPELINE_REJECTED);
	assert_int_equal(r.reason, DEC_TOO_LARGE);
	free(big);
	fixture_close(&f);

	/* nesting beyond the decoder's depth limit */
	fixture_open(&f, PIPELINE_STREAM, NULL);
	deep = xmalloc(300);
	snprintf(deep, 300, "{\"text\":\"x\",\"a\":%.*s%.*s}", 100,
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 100,
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	assert_int_equal(process(&f, deep, -1, NOW, &r), PIPELINE_REJECTED);
	assert_int_equal(r.reason, DEC_TOO_DEEP);
	free(deep);
	assert_int_equal(nentries(f.agg), 0);	/* nothing refused is counted */
	fixture_close(&f);
}

static void
test_future_and_late(void **state)
{
	struct fixture f;
	struct pipeline_result r;
	char msg[128];

	(void)state;
	fixture_open(&f, PIPELINE_STREAM, "input: {max_future: 1m}");
	/* at the limit: counted; a millisecond further: refused */
	snprintf(msg, sizeof msg, "{\"text\":\"地震\",\"time\":%" PRId64 "}",
	    NOW + 60000);
	assert_int_equal(process(&f, msg, -1, NOW, &r), PIPELINE_OK);
	snprintf(msg, sizeof msg, "{\"text\":\"地震\",\"time\":%" PRId64 "}",
	    NOW + 60001);
	assert_int_equal(process(&f, msg, -1, NOW, &r), PIPELINE_REJECTED);
	assert_int_equal(r.reason, PIPELINE_REJ_FUTURE);
	assert_true(r.decoded);
	assert_int_equal(r.time_ms, NOW + 60001);
	assert_string_equal(r.detail, "post time too far in the future");
	fixture_close(&f);

	/* counters.retention is 8 days by default */
	fixture_open(&f, PIPELINE_STREAM, NULL);
	snprintf(msg, sizeof msg, "{\"text\":\"地震\",\"time\":%" PRId64 "}",
	    NOW - 8 * INT64_C(86400000));
	assert_int_equal(process(&f, msg, -1, NOW, &r), PIPELINE_OK);
	snprintf(msg, sizeof msg, "{\"text\":\"地震\",\"time\":%" PRId64 "}",
	    NOW - 8 * INT64_C(86400000) - 1);
	assert_int_equal(process(&f, msg, -1, NOW, &r), PIPELINE_LATE);
	assert_int_equal(r.time_ms, NOW - 8 * INT64_C(86400000) - 1);
	assert_int_equal(count_at(f.agg, "quake",
	    (NOW - 8 * INT64_C(86400000)) / 1000 / RES * RES), 1);
	assert_int_equal(count_at(f.agg, "quake",
	    (NOW - 8 * INT64_C(86400000)) / 1000 / RES * RES - RES), 0);
	fixture_close(&f);
}

static void
test_stream_time_sources(void **state)
{
	static const char with_time[] = "{\"text\":\"x\",\"time\":1795499990}";
	static const char without[] = "{\"text\":\"x\"}";
	static const char bad_time[] = "{\"text\":\"x\",\"time\":\"soon\"}";
	struct fixture f;
	struct pipeline_result r;

	(void)state;
	/* post: its own time, else Kafka's, else the arrival */
	fixture_open(&f, PIPELINE_STREAM, "input: {time: post}");
	process(&f, with_time, NOW - 20000, NOW, &r);
	assert_int_equal(r.time_ms, NOW - 10000);
	process(&f, without, NOW - 20000, NOW, &r);
	assert_int_equal(r.time_ms, NOW - 20000);
	process(&f, without, -1, NOW, &r);
	assert_int_equal(r.time_ms, NOW);
	fixture_close(&f);

	/* kafka: the post's time field is not even read */
	fixture_open(&f, PIPELINE_STREAM, "input: {time: kafka}");
	process(&f, with_time, NOW - 20000, NOW, &r);
	assert_int_equal(r.time_ms, NOW - 20000);
	assert_int_equal(process(&f, bad_time, NOW - 20000, NOW, &r), PIPELINE_OK);
	process(&f, with_time, -1, NOW, &r);
	assert_int_equal(r.time_ms, NOW);
	fixture_close(&f);

	/* arrival: the clock, whatever the post and Kafka say */
	fixture_open(&f, PIPELINE_STREAM, "input: {time: arrival}");
	process(&f, with_time, NOW - 20000, NOW, &r);
	assert_int_equal(r.time_ms, NOW);
	assert_int_equal(process(&f, bad_time, -1, NOW, &r), PIPELINE_OK);
	fixture_close(&f);

	/* another time field */
	fixture_open(&f, PIPELINE_STREAM, "input: {time_field: meta.at}");
	assert_int_equal(process(&f, "{\"text\":\"x\",\"meta\":{\"at\":"
	    "\"2026-11-24T05:00:00Z\"}}", -1, NOW, &r), PIPELINE_OK);
	assert_int_equal(r.time_ms, INT64_C(1795496400000));
	fixture_close(&f);
}

static void
test_file_time_sources(void **state)
{
	struct fixture f;
	struct pipeline_result r;

	(void)state;
	/* post: its own time; no clock checks (a replay is of the past) */
	fixture_open(&f, PIPELINE_FILE, NULL);
	assert_non_null(f.pl);
	assert_int_equal(process(&f, "{\"text\":\"地震\",\"time\":1000}", -1, -1,
	    &r), PIPELINE_OK);
	assert_int_equal(r.time_ms, 1000000);
	assert_int_equal(count_at(f.agg, "quake", 1000), 1);
	assert_int_equal(process(&f, "{\"text\":\"地震\"}", -1, -1, &r),
	    PIPELINE_NO_TIME);
	assert_true(r.decoded);
	assert_string_equal(r.detail, "the post has no time");
	assert_int_equal(count_at(f.agg, "quake", 1000), 1);
	assert_int_equal(count_at(f.agg, "_all", 1000), 1);
	fixture_close(&f);

	/* kafka: a file has none, so the post's own time is read */
	fixture_open(&f, PIPELINE_FILE, "input: {time: kafka}");
	assert_non_null(f.pl);
	assert_int_equal(process(&f, "{\"text\":\"x\",\"time\":1000}", -1, -1, &r),
	    PIPELINE_OK);
	assert_int_equal(r.time_ms, 1000000);
	assert_int_equal(process(&f, "{\"text\":\"x\"}", -1, -1, &r),
	    PIPELINE_NO_TIME);
	assert_non_null(strstr(r.detail, "Kafka"));
	fixture_close(&f);

	/* arrival, and text lines: refused with a reason */
	fixture_open(&f, PIPELINE_FILE, "input: {time: arrival}");
	assert_null(f.pl);
	assert_non_null(strstr(f.err, "input.time is arrival"));
	fixture_close(&f);
	fixture_open(&f, PIPELINE_FILE, "input: {format: text}");
	assert_null(f.pl);
	assert_non_null(strstr(f.err, "input.format is text"));
	fixture_close(&f);
}

static void
test_text_lines(void **state)
{
	struct fixture f;
	struct pipeline_result r;

	(void)state;
	fixture_open(&f, PIPELINE_STREAM, "input: {format: text}");
	assert_int_equal(process(&f, "{\"text\":\"地震\"}", NOW - 1000, NOW, &r),
	    PIPELINE_OK);
	/* the whole line is the text, and its time is Kafka's */
	assert_int_equal(r.post.text_len, strlen("{\"text\":\"地震\"}"));
	assert_int_equal(r.match.ntopics, 1);
	assert_int_equal(r.time_ms, NOW - 1000);
	assert_int_equal(process(&f, "a\xff", -1, NOW, &r), PIPELINE_REJECTED);
	assert_int_equal(r.reason, DEC_NOT_UTF8);
	fixture_close(&f);
}

static void
test_match_only(void **state)
{
	struct fixture f;
	struct pipeline_result r;
	struct pipeline_opts po;
	struct pipeline *pl;

	(void)state;
	fixture_open(&f, PIPELINE_MATCH, NULL);
	/* no time is read (a bad one does not matter), nothing is counted */
	assert_int_equal(process(&f, "{\"text\":\"地震\",\"time\":\"soon\"}", -1, -1,
	    &r), PIPELINE_OK);
	assert_int_equal(r.match.ntopics, 1);
	assert_int_equal(r.time_ms, -1);
	assert_int_equal(nentries(f.agg), 0);

	/* the caller's text field and text lines override the config */
	memset(&po, 0, sizeof po);
	po.mode = PIPELINE_MATCH;
	po.cfg = &f.cfg;
	po.m = m;
	po.text_field = "body";
	pl = pipeline_new(&po, NULL, 0);
	assert_int_equal(pipeline_process(pl, "{\"body\":\"地震\"}",
	    strlen("{\"body\":\"地震\"}"), -1, -1, &r), PIPELINE_OK);
	assert_int_equal(r.match.ntopics, 1);
	pipeline_free(pl);
	po.text_field = NULL;
	po.text_lines = 1;
	pl = pipeline_new(&po, NULL, 0);
	assert_int_equal(pipeline_process(pl, "not json 地震",
	    strlen("not json 地震"), -1, -1, &r), PIPELINE_OK);
	assert_int_equal(r.match.ntopics, 1);
	pipeline_free(pl);
	fixture_close(&f);
}

static void
test_timing(void **state)
{
	struct pipeline_timing tm = { 0, 0, 0 };
	struct pipeline_result r;
	struct pipeline_opts po;
	struct config cfg;
	struct agg *a = agg_new(RES, 0);
	struct pipeline *pl;
	const char *msg = "{\"text\":\"地震\",\"time\":1000}";
	int i;

	(void)state;
	config_defaults(&cfg);
	memset(&po, 0, sizeof po);
	po.mode = PIPELINE_FILE;
	po.cfg = &cfg;
	po.m = m;
	po.agg = a;
	po.timing = &tm;
	pl = pipeline_new(&po, NULL, 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(pipeline_process(pl, msg, strlen(msg), -1, -1,
		    &r), PIPELINE_OK);
	assert_true(tm.decode > 0 && tm.match > 0 && tm.count > 0);
	pipeline_free(pl);
	agg_free(a);
	config_free(&cfg);
}

static void
test_second_floor(void **state)
{
	struct fixture f;
	struct pipeline_result r;

	(void)state;
	assert_int_equal(pipeline_second(0), 0);
	assert_int_equal(pipeline_second(999), 0);
	assert_int_equal(pipeline_second(1000), 1);
	assert_int_equal(pipeline_second(-1), -1);
	assert_int_equal(pipeline_second(-999), -1);
	assert_int_equal(pipeline_second(-1000), -1);
	assert_int_equal(pipeline_second(-1001), -2);
	/* half a second before 1970 (a clock that far off, in arrival time):
	 * the post and its topic both land in the bucket before the epoch */
	fixture_open(&f, PIPELINE_STREAM, "input: {time: arrival}");
	assert_int_equal(process(&f, "{\"text\":\"地震\"}", -1, -500, &r),
	    PIPELINE_OK);
	assert_int_equal(count_at(f.agg, "_all", -RES), 1);
	assert_int_equal(count_at(f.agg, "quake", -RES), 1);
	assert_int_equal(count_at(f.agg, "quake", 0), 0);
	fixture_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matched),
		cmocka_unit_test(test_unmatched),
		cmocka_unit_test(test_reject_reasons),
		cmocka_unit_test(test_future_and_late),
		cmocka_unit_test(test_stream_time_sources),
		cmocka_unit_test(test_file_time_sources),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_match_only),
		cmocka_unit_test(test_timing),
		cmocka_unit_test(test_second_floor),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
