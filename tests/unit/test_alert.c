/*
 * test_alert.c — alert ids and alert JSON: firing, repeat, resolved and
 * late alerts against exact expected strings; no inf or nan ever written;
 * alert_make asks its evidence source for the documented limits; group_wait
 * (alert_group_*) over a store in an array: when a digest is due (posts'
 * time or wall clock), its alerts in id order, its id and JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "alert.h"
#include "xmalloc.h"

/* 2026-11-26T05:05:00Z */
#define T_END	INT64_C(1795669500)

static struct rule_alert blocks[2];
static struct rule_topic topic;

static void
setup_topic(void)
{
	memset(blocks, 0, sizeof blocks);
	blocks[0].window_s = 300;
	blocks[0].severity = SEV_WARNING;
	blocks[1].window_s = 300;
	blocks[1].severity = SEV_CRITICAL;
	memset(&topic, 0, sizeof topic);
	topic.id = (char *)"food-safety";
	topic.name = (char *)"食品安全";
	topic.alerts = blocks;
	topic.nalerts = 2;
	topic.file = "rules/food.yaml";
}

static void
top_fill(struct alert_top *t, size_t n, const char *const *names,
    const int64_t *counts)
{
	size_t i;

	t->names = xcalloc(n, sizeof *t->names);
	t->counts = xcalloc(n, sizeof *t->counts);
	for (i = 0; i < n; i++) {
		t->names[i] = xstrdup(names[i]);
		t->counts[i] = counts[i];
	}
	t->n = n;
}

/* The documented example alert, with evidence owned by al. */
static void
make_alert(struct alert *al, enum spike_action action)
{
	static const char *const kw[] = { "食物中毒", "地沟油" };
	static const int64_t kwc[] = { 120, 40 };
	static const char *const reg[] = { "广州", "深圳" };
	static const int64_t regc[] = { 90, 31 };

	setup_topic();
	memset(al, 0, sizeof *al);
	al->action = action;
	al->topic = &topic;
	al->block = 0;
	al->ev.window_start = T_END - 300;
	al->ev.window_end = T_END;
	al->ev.count = 184;
	al->ev.nbaseline = 12;
	al->ev.mean = 23.5;
	al->ev.stddev = 1.75;
	al->ev.baseline_rate = 23.5;
	al->ev.ratio = 184 / 23.5;	/* 7.829787… */
	al->ev.zscore = 9.1;
	al->ev.cond = COND_RATIO;
	top_fill(&al->keywords, 2, kw, kwc);
	al->breakdown = xcalloc(1, sizeof *al->breakdown);
	al->breakdown[0].field = "region";
	top_fill(&al->breakdown[0].top, 2, reg, regc);
	al->nbreakdown = 1;
	al->samples = xcalloc(2, sizeof *al->samples);
	al->samples[0] = xstrdup("{\"id\":\"p1\",\"text\":\"学校食堂发生\\\"食物中毒\\\"\"}");
	al->samples[1] = xstrdup("{\"id\":\"p2\",\"text\":\"x\"}");
	al->nsamples = 2;
	al->distinct.authors = 40;
	al->distinct.texts = 3;
	al->distinct.posts = 300;
	al->distinct.base_authors = 500;
	al->distinct.base_posts = 650;
	al->top_text.text = xstrdup("学校食堂发生食物中毒");
	al->top_text.n = 7;
	al->top_text.of = 10;
	al->detected_ms = T_END * 1000 + 1234;	/* 05:05:01.234 */
}

#define EVIDENCE \
	"\"authors\":40,\"texts\":3,\"posts_per_author\":7.5," \
	"\"baseline_posts_per_author\":1.3," \
	"\"top_text\":{\"text\":\"学校食堂发生食物中毒\",\"posts\":7,\"of\":10," \
	"\"share\":0.7}," \
	"\"top_keywords\":[[\"食物中毒\",120],[\"地沟油\",40]]," \
	"\"breakdown\":{\"region\":[[\"广州\",90],[\"深圳\",31]]}," \
	"\"samples\":[{\"id\":\"p1\",\"text\":\"学校食堂发生\\\"食物中毒\\\"\"}," \
	"{\"id\":\"p2\",\"text\":\"x\"}],\"rules_file\":\"rules/food.yaml\""

static void
check_json(const struct alert *al, const char *want)
{
	char *got = alert_json(al);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "got:  %s\nwant: %s\n", got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_firing(void **state)
{
	struct alert al;

	(void)state;
	make_alert(&al, SPIKE_FIRE);
	check_json(&al,
	    "{\"id\":\"food-safety:0:1795669500:firing\",\"state\":\"firing\","
	    "\"topic\":\"food-safety\",\"name\":\"食品安全\","
	    "\"severity\":\"warning\",\"condition\":\"ratio\",\"window_s\":300,"
	    "\"window_start\":\"2026-11-26T05:00:00Z\","
	    "\"window_end\":\"2026-11-26T05:05:00Z\","
	    "\"count\":184,\"baseline_rate\":23.5,\"ratio\":7.83,\"zscore\":9.1,"
	    EVIDENCE ",\"detected_at\":\"2026-11-26T05:05:01.234Z\"}");
	alert_clear(&al);
	assert_null(al.keywords.names);
	assert_null(al.breakdown);
	assert_null(al.samples);
	alert_clear(&al);	/* twice is harmless */
}

static void
test_repeat(void **state)
{
	struct alert al;

	(void)state;
	make_alert(&al, SPIKE_REPEAT);
	al.block = 1;
	al.ev.cond = COND_ZSCORE;
	check_json(&al,
	    "{\"id\":\"food-safety:1:1795669500:firing\",\"state\":\"firing\","
	    "\"topic\":\"food-safety\",\"name\":\"食品安全\","
	    "\"severity\":\"critical\",\"condition\":\"zscore\",\"window_s\":300,"
	    "\"window_start\":\"2026-11-26T05:00:00Z\","
	    "\"window_end\":\"2026-11-26T05:05:00Z\","
	    "\"count\":184,\"baseline_rate\":23.5,\"ratio\":7.83,\"zscore\":9.1,"
	    EVIDENCE ",\"repeat\":true"
	    ",\"detected_at\":\"2026-11-26T05:05:01.234Z\"}");
	alert_clear(&al);
}

static void
test_resolved(void **state)
{
	struct alert al;

	(void)state;
	make_alert(&al, SPIKE_RESOLVE);
	alert_clear(&al);	/* no evidence at all */
	al.ev.count = 20;
	al.ev.ratio = 20 / 23.5;
	al.ev.zscore = -0.001;
	al.ev.cond = COND_NONE;
	topic.name = NULL;	/* name falls back to the id */
	topic.file = NULL;
	check_json(&al,
	    "{\"id\":\"food-safety:0:1795669500:resolved\",\"state\":\"resolved\","
	    "\"topic\":\"food-safety\",\"name\":\"food-safety\","
	    "\"severity\":\"warning\",\"condition\":\"none\",\"window_s\":300,"
	    "\"window_start\":\"2026-11-26T05:00:00Z\","
	    "\"window_end\":\"2026-11-26T05:05:00Z\","
	    "\"count\":20,\"baseline_rate\":23.5,\"ratio\":0.85,\"zscore\":0,"
	    "\"authors\":null,\"texts\":null,\"posts_per_author\":null,"
	    "\"baseline_posts_per_author\":null,\"top_text\":null,"
	    "\"top_keywords\":[],\"breakdown\":{},\"samples\":[],"
	    "\"rules_file\":null"
	    ",\"detected_at\":\"2026-11-26T05:05:01.234Z\"}");
}

static void
test_late(void **state)
{
	struct alert al;

	(void)state;
	make_alert(&al, SPIKE_FIRE);
	al.late = true;
	al.ev.cond = COND_THRESHOLD;
	al.detected_ms = T_END * 1000 + 3600 * 1000 + 7;
	check_json(&al,
	    "{\"id\":\"food-safety:0:1795669500:firing\",\"state\":\"firing\","
	    "\"topic\":\"food-safety\",\"name\":\"食品安全\","
	    "\"severity\":\"warning\",\"condition\":\"threshold\",\"window_s\":300,"
	    "\"window_start\":\"2026-11-26T05:00:00Z\","
	    "\"window_end\":\"2026-11-26T05:05:00Z\","
	    "\"count\":184,\"baseline_rate\":23.5,\"ratio\":7.83,\"zscore\":9.1,"
	    EVIDENCE ",\"late\":true"
	    ",\"detected_at\":\"2026-11-26T06:05:00.007Z\"}");
	alert_clear(&al);
}

/* A zero baseline: ratio is infinite, written as null; nan too. */
static void
test_no_inf_nan(void **state)
{
	struct alert al;
	char *j;

	(void)state;
	make_alert(&al, SPIKE_FIRE);
	al.ev.baseline_rate = 0;
	al.ev.mean = 0;
	al.ev.ratio = INFINITY;
	al.ev.zscore = NAN;
	j = alert_json(&al);
	assert_non_null(strstr(j,
	    "\"baseline_rate\":0,\"ratio\":null,\"zscore\":null,"));
	assert_null(strstr(j, "inf"));
	assert_null(strstr(j, "nan"));
	free(j);
	al.ev.ratio = -INFINITY;
	al.ev.baseline_rate = NAN;
	al.ev.zscore = 1e300;
	j = alert_json(&al);
	assert_non_null(strstr(j,
	    "\"baseline_rate\":null,\"ratio\":null,\"zscore\":1e+300,"));
	free(j);
	alert_clear(&al);
}

/* The id depends only on topic, block, window end and state: not on the
 * evidence, the counts or the wall clock. */
static void
test_id_stable(void **state)
{
	struct alert a, b;
	char ida[256], idb[256];

	(void)state;
	make_alert(&a, SPIKE_FIRE);
	alert_id(&a, ida, sizeof ida);
	assert_string_equal(ida, "food-safety:0:1795669500:firing");
	make_alert(&b, SPIKE_FIRE);
	b.ev.count = 999;
	b.ev.ratio = 2;
	b.detected_ms += 60000;
	b.late = true;
	alert_id(&b, idb, sizeof idb);
	assert_string_equal(ida, idb);
	/* a repeat later on is another alert; so is the resolution */
	b.action = SPIKE_REPEAT;
	b.ev.window_end += 1800;
	alert_id(&b, idb, sizeof idb);
	assert_string_equal(idb, "food-safety:0:1795671300:firing");
	b.action = SPIKE_RESOLVE;
	alert_id(&b, idb, sizeof idb);
	assert_string_equal(idb, "food-safety:0:1795671300:resolved");
	alert_clear(&a);
	alert_clear(&b);
	alert_clear(NULL);
}


/* ---- evidence ---------------------------------------------------------- */

struct asked {
	size_t	keywords, values, samples, calls;
	int64_t	from, to;
	int64_t	dfrom[2], dto[2];	/* the distinct spans asked */
	size_t	ndistinct;
};

static int
src_top(void *arg, const struct rule_topic *t, const char *field,
    int64_t from, int64_t to, size_t max, struct alert_top *out)
{
	struct asked *a = arg;

	(void)t;
	a->calls++;
	a->from = from;
	a->to = to;
	if (field == NULL)
		a->keywords = max;
	else
		a->values = max;
	memset(out, 0, sizeof *out);
	return 0;
}

static int
src_samples(void *arg, const struct rule_topic *t, int64_t from, int64_t to,
    size_t max, char ***json, size_t *n)
{
	struct asked *a = arg;

	(void)t, (void)from, (void)to;
	a->calls++;
	a->samples = max;
	/* the newest first; two copies of one text */
	*json = xcalloc(3, sizeof **json);
	(*json)[0] = xstrdup("{\"id\":\"p1\",\"text\":\"x\"}");
	(*json)[1] = xstrdup("{\"id\":\"p2\",\"text\":\"y\\\"z\"}");
	(*json)[2] = xstrdup("{\"id\":\"p3\",\"text\":\"Y\\\"z!\"}");
	*n = 3;
	return 0;
}

/* Case and punctuation do not count, as for text keys. */
static uint64_t
src_text_key(void *arg, const char *text, size_t len)
{
	(void)arg;
	return len > 0 ? (uint64_t)(text[0] | 0x20) : 0;
}

/* 12 authors, 4 texts, 60 posts in the window's hours; 100 authors and
 * 200 posts in the day before. */
static int
src_distinct(void *arg, const struct rule_topic *t, int64_t from, int64_t to,
    int64_t out[3])
{
	struct asked *a = arg;

	(void)t;
	a->calls++;
	if (a->ndistinct < 2) {
		a->dfrom[a->ndistinct] = from;
		a->dto[a->ndistinct] = to;
	}
	out[0] = a->ndistinct == 0 ? 12 : 100;
	out[1] = a->ndistinct == 0 ? 4 : 90;
	out[2] = a->ndistinct++ == 0 ? 60 : 200;
	return 0;
}

static const struct alert_evidence src = { src_top, src_samples,
	src_distinct, src_text_key };

static void
test_make_evidence_limits(void **state)
{
	static char *by[] = { (char *)"region" };
	struct spike_eval ev;
	struct asked a;
	struct alert al;
	char *json;

	(void)state;
	setup_topic();
	topic.count_by = by;
	topic.ncount_by = 1;
	memset(&ev, 0, sizeof ev);
	ev.window_start = T_END - 300;
	ev.window_end = T_END;
	memset(&a, 0, sizeof a);
	alert_make(&al, &topic, 1, SPIKE_FIRE, &ev, 42, &src, &a);
	assert_int_equal(a.keywords, ALERT_TOP_KEYWORDS);
	assert_int_equal(a.values, ALERT_TOP_VALUES);
	assert_int_equal(a.samples, ALERT_SAMPLES);
	assert_int_equal(a.keywords, 5);
	assert_int_equal(a.samples, 3);
	assert_true(a.from == T_END - 300 && a.to == T_END);
	assert_int_equal(al.block, 1);
	assert_int_equal(al.detected_ms, 42);
	assert_int_equal(al.nbreakdown, 1);
	assert_string_equal(al.breakdown[0].field, "region");
	assert_int_equal(al.nsamples, 3);
	/* distinct counts: the window's hours, then the 24 hours before */
	assert_int_equal(a.ndistinct, 2);
	assert_true(a.dfrom[0] == T_END - 300 && a.dto[0] == T_END);
	assert_true(a.dto[1] == (T_END - 300) / 3600 * 3600 &&
	    a.dfrom[1] == a.dto[1] - 86400);
	json = alert_json(&al);
	assert_non_null(strstr(json, "\"authors\":12,\"texts\":4,"
	    "\"posts_per_author\":5,\"baseline_posts_per_author\":2,"));
	/* the top text among the samples: the newest of its copies */
	assert_non_null(strstr(json, "\"top_text\":{\"text\":\"y\\\"z\","
	    "\"posts\":2,\"of\":3,\"share\":0.67},"));
	free(json);
	alert_clear(&al);
	/* a resolve carries no evidence */
	memset(&a, 0, sizeof a);
	alert_make(&al, &topic, 0, SPIKE_RESOLVE, &ev, 42, &src, &a);
	assert_int_equal(a.calls, 0);
	alert_clear(&al);
	topic.count_by = NULL;
	topic.ncount_by = 0;
}

/* ---- group_wait over an array ------------------------------------------ */

struct held_store {
	struct alert_held_item	 items[8];
	size_t			 n;
	int64_t			 since, wall, wait;
	char			*digest;	/* the last digest sent */
	size_t			 sent;		/* digests */
};

static int
hs_add(void *arg, const char *id, const char *json, int64_t window_end,
    int64_t wall_ms, int64_t wait_s)
{
	struct held_store *h = arg;
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->items[i].id, id) == 0)
			return 0;
	if (h->n == 0) {
		h->since = window_end;
		h->wall = wall_ms;
		h->wait = wait_s;
	} else if (wait_s < h->wait)
		h->wait = wait_s;
	h->items[h->n].id = xstrdup(id);
	h->items[h->n++].json = xstrdup(json);
	return 1;
}

static int
hs_list(void *arg, struct alert_held *out)
{
	struct held_store *h = arg;
	size_t i;

	memset(out, 0, sizeof *out);
	out->since = h->since;
	out->wall_ms = h->wall;
	out->wait_s = h->wait;
	out->items = xcalloc(h->n + 1, sizeof *out->items);
	for (i = 0; i < h->n; i++) {
		out->items[i].id = xstrdup(h->items[i].id);
		out->items[i].json = xstrdup(h->items[i].json);
	}
	out->n = h->n;
	return 0;
}

static int
hs_send(void *arg, const struct alert_held *l, const char *digest_id)
{
	struct held_store *h = arg;
	size_t i;

	free(h->digest);
	h->digest = alert_digest_json(digest_id, l);
	h->sent++;
	for (i = 0; i < h->n; i++) {
		free(h->items[i].id);
		free(h->items[i].json);
	}
	h->n = 0;
	return (int)l->n;
}

static const struct alert_held_ops hs_ops = { hs_add, hs_list, hs_send };

/* A FIRE of block b of the topic at window end we, held through g. */
static int
hold(struct alert_group *g, size_t b, int64_t we, int64_t wall_ms)
{
	struct alert al;
	char json[64];

	memset(&al, 0, sizeof al);
	al.action = SPIKE_FIRE;
	al.topic = &topic;
	al.block = b;
	al.ev.window_end = we;
	al.detected_ms = wall_ms;
	snprintf(json, sizeof json, "{\"b\":%zu}", b);
	assert_true(alert_group_waits(&al));
	return alert_group_hold(g, &al, json);
}

static void
test_group_wait(void **state)
{
	struct held_store h;
	struct alert_group g;
	struct alert al;
	char want[256];

	(void)state;
	setup_topic();
	topic.group_wait_s = 60;
	memset(&h, 0, sizeof h);
	alert_group_init(&g, &hs_ops, &h);
	/* which alerts wait: a new one of a topic with group_wait */
	memset(&al, 0, sizeof al);
	al.topic = &topic;
	al.action = SPIKE_REPEAT;
	assert_false(alert_group_waits(&al));
	al.action = SPIKE_RESOLVE;
	assert_false(alert_group_waits(&al));
	assert_int_equal(alert_group_tick(&g, T_END, 0), 0);

	assert_int_equal(hold(&g, 1, T_END, 1000), 1);
	assert_int_equal(hold(&g, 1, T_END, 1000), 0);	/* held already */
	assert_int_equal(hold(&g, 0, T_END + 10, 2000), 1);
	/* not due before the first window end + group_wait */
	assert_int_equal(alert_group_tick(&g, T_END + 50, INT64_MIN), 0);
	assert_int_equal(alert_group_flush(&g, T_END + 59, 1000 + 59999), 0);
	assert_int_equal(h.sent, 0);
	/* due by the posts' time: one digest, the alerts in id order */
	assert_int_equal(alert_group_tick(&g, T_END + 60, INT64_MIN), 2);
	assert_int_equal(h.sent, 1);
	snprintf(want, sizeof want, "{\"id\":\"digest:%lld:2\",\"digest\":true,"
	    "\"window_end\":\"2026-11-26T05:05:00Z\",\"count\":2,"
	    "\"alerts\":[{\"b\":0},{\"b\":1}]}", (long long)T_END);
	assert_string_equal(h.digest, want);
	/* nothing held: nothing more */
	assert_int_equal(alert_group_tick(&g, T_END + 600, INT64_MIN), 0);
	assert_int_equal(alert_group_flush(&g, T_END + 600, INT64_MAX), 0);
	assert_int_equal(h.sent, 1);

	/* due by the wall clock a group_wait after it was held, whatever
	 * the posts' time; never by it with now_ms INT64_MIN */
	assert_int_equal(hold(&g, 0, T_END + 900, 5000), 1);
	assert_int_equal(alert_group_flush(&g, T_END + 900, INT64_MIN), 0);
	assert_int_equal(alert_group_flush(&g, T_END + 900, 5000 + 59999), 0);
	assert_int_equal(alert_group_flush(&g, T_END + 900, 5000 + 60000), 1);
	assert_int_equal(h.sent, 2);
	free(h.digest);
	topic.group_wait_s = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firing),
		cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_resolved),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_no_inf_nan),
		cmocka_unit_test(test_id_stable),
		cmocka_unit_test(test_make_evidence_limits),
		cmocka_unit_test(test_group_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
