/*
 * test_discover.c — discovery's arithmetic, clustering and memory, no
 * servers and no dictionary: posts are given as ready term lists.
 *
 * The significance and the moving mean and variance (the closed form for
 * empty buckets against step by step), the small HyperLogLog, then
 * synthetic streams: a steady background of a fixed vocabulary in which a
 * burst of new co-occurring terms must come out as one story (and nothing
 * else as a story), two unrelated bursts as two stories, a burst carried by
 * three accounts reposting one text as a low-author, all-duplicate story,
 * and a stream of ever-new terms under which the engine's memory and the
 * heap do not grow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <math.h>
#include <cmocka.h>

#include "disc_flush.h"
#include "discover.h"
#include "jsonw.h"

#define HOUR	(3600 * 1000LL)

/* ---- posts from word lists -------------------------------------------- */

struct tp {
	struct seg_term		 v[32];
	char			 str[32 * SEG_MAX_TERM];
	struct seg_result	 r;
};

static void
tp_set(struct tp *t, const char *const *words, size_t n)
{
	size_t i, off = 0, len;

	for (i = 0; i < n && i < 32; i++) {
		len = strlen(words[i]);
		memcpy(t->str + off, words[i], len);
		t->v[i].hash = seg_hash(words[i], len);
		t->v[i].off = (uint32_t)off;
		t->v[i].len = (uint16_t)len;
		t->v[i].kind = SEG_WORD;
		off += len;
	}
	t->r.v = t->v;
	t->r.n = i;
	t->r.str = t->str;
}

struct got {
	char	terms[32][256];
	int64_t	detected[32], first[32], authors[32], texts[32], seen[32];
	size_t	ntopics[32];
	int	n;
};

static void
on_story(void *arg, const struct disc_story *s)
{
	struct got *g = arg;
	size_t i, len = 0;

	if (g->n == 32)
		return;
	for (i = 0; i < s->nterms; i++)
		len += (size_t)snprintf(g->terms[g->n] + len,
		    sizeof g->terms[0] - len, "|%s", s->terms[i]);
	snprintf(g->terms[g->n] + len, sizeof g->terms[0] - len, "|");
	g->detected[g->n] = s->detected_ms;
	g->first[g->n] = s->first_seen_ms;
	g->authors[g->n] = s->authors;
	g->texts[g->n] = s->texts;
	g->seen[g->n] = s->seen;
	g->ntopics[g->n] = s->ntopics;
	g->n++;
}

/* random() of a fixed seed (engine() seeds it) */
static uint64_t
rnd(void)
{
	return (uint64_t)random();
}

static char vocab[400][16];

/*
 * Two instances and a merge-only scorer beside the one-instance engine:
 * posts go to the instances in turn, and at each flush period's end both
 * lists, concatenated, go to the scorer, as a leader would read them.
 */
struct twin {
	struct discover	*scorer;
	struct dflush	*inst[2];
	int64_t		 period, last_ms;
	size_t		 next;
	int		 started;
};

static struct twin *twin_on;

static void
twin_flush(struct twin *tw)
{
	struct disc_entry **a, **b, *v[2 * 1024];
	size_t na = dflush_take(tw->inst[0], &a);
	size_t nb = dflush_take(tw->inst[1], &b);

	memcpy(v, a, na * sizeof *v);
	memcpy(v + na, b, nb * sizeof *v);
	disc_merge(tw->scorer, v, na + nb, tw->last_ms);
}

static void
twin_add(struct twin *tw, const struct disc_post *p)
{
	int64_t period = p->time_ms / 60000;

	if (tw->started && period != tw->period)
		twin_flush(tw);
	tw->started = 1;
	tw->period = period;
	tw->last_ms = p->time_ms;
	dflush_add(tw->inst[tw->next++ % 2], p);
}

/* A background post: 5 words of the vocabulary (Zipf-like: low indexes
 * more often), plus extra words. */
static void
post_background(struct discover *d, int64_t t, const char *const *extra,
    size_t nextra, const char *author, const char *text,
    const char *const *topics, size_t ntopics)
{
	const char *w[32];
	struct disc_post p;
	struct tp tp;
	size_t n = 0, i, k;

	for (i = 0; i < 5; i++) {
		k = (size_t)(rnd() % 400);
		k = k * (size_t)(rnd() % 400) / 400;
		w[n++] = vocab[k];
	}
	for (i = 0; i < nextra; i++)
		w[n++] = extra[i];
	/* terms are unique per post, as segment.c gives them */
	for (i = 0; i < n; i++)
		for (k = i + 1; k < n; k++)
			if (strcmp(w[i], w[k]) == 0)
				w[k--] = w[--n];
	tp_set(&tp, w, n);
	memset(&p, 0, sizeof p);
	p.time_ms = t;
	p.terms = &tp.r;
	p.author = author;
	p.author_len = author != NULL ? strlen(author) : 0;
	p.text = text != NULL ? text : "a post";
	p.text_len = strlen(p.text);
	p.topics = topics;
	p.ntopics = ntopics;
	disc_add(d, &p);
	if (twin_on != NULL)
		twin_add(twin_on, &p);
}

static struct discover *
engine(struct got *g, size_t memory)
{
	struct disc_opts o;
	struct discover *d;
	char err[256];
	size_t i;

	srandom(12);
	for (i = 0; i < 400; i++)
		snprintf(vocab[i], sizeof vocab[i], "w%zu", i);
	disc_opts_default(&o);
	o.memory = memory;
	o.candidates = 512;
	o.flush_keys = o.flush_top = 1024;
	d = disc_new(&o, on_story, g, err, sizeof err);
	if (d == NULL)
		fail_msg("disc_new: %s", err);
	return d;
}

/* three days of 60 posts an hour */
static int64_t
background(struct discover *d, int64_t t0, int hours)
{
	int64_t t = t0;
	int i;
	char author[32];

	for (i = 0; i < hours * 60; i++, t += 60 * 1000) {
		snprintf(author, sizeof author, "u%d", (int)(rnd() % 5000));
		post_background(d, t, NULL, 0, author, NULL, NULL, 0);
	}
	return t;
}

/* ---- arithmetic ------------------------------------------------------ */

static void
test_score(void **state)
{
	(void)state;
	/* the mean under the floor counts as the floor */
	assert_float_equal(disc_score(10, 1, 4, 2, 1), 8.0 / 3, 1e-12);
	assert_float_equal(disc_score(10, 5, 4, 2, 1), 5.0 / 3, 1e-12);
	/* no history: the count over beta, less the floor */
	assert_float_equal(disc_score(3, 0, 0, 2, 2), 0.5, 1e-12);
	assert_float_equal(disc_score(0, 0, 0, 2, 2), -1.0, 1e-12);
	/* a negative variance (float rounding) counts as none */
	assert_float_equal(disc_score(4, 0, -1e-9, 2, 1), 2.0, 1e-12);
}

static void
test_ewm(void **state)
{
	double m = 0, v = 0, m2, v2;
	uint64_t k, i;

	(void)state;
	disc_ewm_step(&m, &v, 10, 0.5);
	assert_float_equal(m, 5, 1e-12);
	assert_float_equal(v, 0.5 * (0 + 0.5 * 100), 1e-12);
	/* a steady count: the mean converges to it, the variance to 0 */
	for (i = 0; i < 400; i++)
		disc_ewm_step(&m, &v, 7, 0.1);
	assert_float_equal(m, 7, 1e-9);
	assert_true(v < 1e-9);
	/* k empty buckets at once, as k steps of 0 */
	for (k = 1; k < 60; k += 7) {
		m = m2 = 12.5;
		v = v2 = 30;
		for (i = 0; i < k; i++)
			disc_ewm_step(&m, &v, 0, 0.03);
		disc_ewm_zeros(&m2, &v2, k, 0.03);
		assert_float_equal(m2, m, 1e-9 * m);
		assert_float_equal(v2, v, 1e-9 * v);
	}
}

static void
test_hll(void **state)
{
	struct disc_hll h;
	uint64_t i;

	(void)state;
	memset(&h, 0, sizeof h);
	assert_float_equal(disc_hll_count(&h), 0, 1e-9);
	for (i = 0; i < 10; i++)
		disc_hll_add(&h, seg_hash((const char *)&i, sizeof i));
	/* small counts: linear counting, one register collision at most */
	assert_true(labs(llround(disc_hll_count(&h)) - 10) <= 1);
	for (i = 0; i < 20000; i++)
		disc_hll_add(&h, seg_hash((const char *)&i, sizeof i));
	assert_true(fabs(disc_hll_count(&h) - 20000) < 20000 * 0.2);
	/* adding again changes nothing */
	for (i = 0; i < 20000; i++)
		disc_hll_add(&h, seg_hash((const char *)&i, sizeof i));
	assert_true(fabs(disc_hll_count(&h) - 20000) < 20000 * 0.2);
}

/* ---- streams --------------------------------------------------------- */

static void
test_burst_is_one_story(void **state)
{
	static const char *const ev[] = { "chemical", "plant", "explosion" };
	static const char *const topics[] = { "safety" };
	struct got g = { 0 };
	struct discover *d = engine(&g, 8 << 20);
	int64_t t, burst;
	char author[32];
	int i;

	(void)state;
	t = background(d, 1000 * HOUR, 72);
	assert_int_equal(g.n, 0);	/* a steady vocabulary trends not */
	burst = t;
	for (i = 0; i < 40; i++, t += 30 * 1000) {
		snprintf(author, sizeof author, "e%d", i);
		post_background(d, t, ev, 3, author, "an explosion at the plant",
		    topics, i % 2);
		if (i % 2 == 0)
			post_background(d, t, NULL, 0, "bg", NULL, NULL, 0);
	}
	t = background(d, t, 3);
	disc_finish(d);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(g.terms[0], "|explosion|"));
	assert_non_null(strstr(g.terms[0], "|plant|"));
	assert_non_null(strstr(g.terms[0], "|chemical|"));
	assert_true(g.first[0] >= burst && g.detected[0] < burst + HOUR / 2);
	assert_true(g.authors[0] >= g.seen[0] * 8 / 10);
	assert_int_equal(g.ntopics[0], 1);
	disc_free(d);
}

static void
test_two_bursts_two_stories(void **state)
{
	static const char *const a[] = { "flood", "river" };
	static const char *const b[] = { "concert", "tickets" };
	struct got g = { 0 };
	struct discover *d = engine(&g, 8 << 20);
	int64_t t;
	int i;

	(void)state;
	t = background(d, 2000 * HOUR, 72);
	for (i = 0; i < 30; i++, t += 40 * 1000) {
		post_background(d, t, a, 2, NULL, NULL, NULL, 0);
		post_background(d, t + 1, b, 2, NULL, NULL, NULL, 0);
	}
	disc_finish(d);
	assert_int_equal(g.n, 2);
	for (i = 0; i < 2; i++) {
		const char *s = g.terms[i];

		assert_true((strstr(s, "|flood|") && strstr(s, "|river|") &&
		    !strstr(s, "|concert|")) ||
		    (strstr(s, "|concert|") && strstr(s, "|tickets|") &&
		    !strstr(s, "|flood|")));
		assert_int_equal(g.authors[i], -1);
	}
	disc_free(d);
}

static void
test_reposts_low_authors(void **state)
{
	static const char *const ev[] = { "giveaway", "brandx", "win" };
	static const char *const who[] = { "bot1", "bot2", "bot3" };
	struct got g = { 0 };
	struct discover *d = engine(&g, 8 << 20);
	struct disc_post p;
	struct tp tp;
	int64_t t;
	int i;

	(void)state;
	t = background(d, 3000 * HOUR, 72);
	tp_set(&tp, ev, 3);
	for (i = 0; i < 60; i++, t += 20 * 1000) {
		memset(&p, 0, sizeof p);
		p.time_ms = t;
		p.terms = &tp.r;
		p.author = who[i % 3];
		p.author_len = 4;
		p.text = "win a brandx giveaway";
		p.text_len = strlen(p.text);
		disc_add(d, &p);
	}
	disc_finish(d);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(g.terms[0], "|brandx|"));
	assert_int_equal(g.authors[0], 3);
	assert_int_equal(g.texts[0], 1);
	/* counted when the story formed: at least min_posts of them */
	assert_true(g.seen[0] >= 4);
	disc_free(d);
}

static void
test_memory_fixed(void **state)
{
	struct got g = { 0 };
	struct discover *d = engine(&g, 4 << 20);
	size_t mem = disc_memory(d), before;
	char w[5][32];
	const char *pw[5];
	struct disc_post p;
	struct tp tp;
	int i, j;

	(void)state;
	assert_true(mem <= 4 << 20);
	memset(&p, 0, sizeof p);
	p.text = "x";
	p.text_len = 1;
	p.terms = &tp.r;
	before = mallinfo2().uordblks;
	/* 500,000 terms never seen before, over 10 days */
	for (i = 0; i < 100000; i++) {
		for (j = 0; j < 5; j++) {
			snprintf(w[j], sizeof w[j], "n%d_%d", i, j);
			pw[j] = w[j];
		}
		tp_set(&tp, pw, 5);
		p.time_ms = 5000 * HOUR + (int64_t)i * 8640;
		disc_add(d, &p);
	}
	disc_finish(d);
	assert_int_equal(mallinfo2().uordblks, before);
	assert_int_equal(disc_memory(d), mem);
	assert_int_equal(g.n, 0);
	disc_free(d);
}

/* Every story as its JSON, one after another. */
static void
on_story_json(void *arg, const struct disc_story *s)
{
	struct jsonw *w = arg;

	disc_story_json(s, w);
	jsonw_rawz(w, "\n");
}

/*
 * A stream split over two instances (posts in turn) and merged gives the
 * stories one instance gives over all of it, byte for byte: each flush's
 * lists are whole (fewer keys than flush_top), so the merged list of a
 * period holds every key with the sum of its counts and the merge of its
 * evidence, which is exactly the one instance's list.  With lists cut to
 * a few keys, the burst's terms still come through (they lead every
 * flush they are in), and the story still forms.
 */
static void
run_twin(size_t top, struct jsonw *one, struct jsonw *many)
{
	static const char *const ev[] = { "chemical", "plant", "explosion" };
	static const char *const topics[] = { "safety", "fire" };
	struct twin tw = { 0 };
	struct got g = { 0 };
	struct disc_opts o;
	struct discover *d = engine(&g, 8 << 20);
	char err[256], author[32];
	int64_t t;
	int i;

	disc_free(d);
	disc_opts_default(&o);
	o.memory = 8 << 20;
	o.candidates = 512;
	o.flush_keys = 1024;
	o.flush_top = top;
	/* the same stream as engine() feeds: srandom(12) there */
	d = disc_new(&o, on_story_json, one, err, sizeof err);
	o.flush_ms = 0;
	tw.scorer = disc_new(&o, on_story_json, many, err, sizeof err);
	assert_non_null(d);
	assert_non_null(tw.scorer);
	tw.inst[0] = dflush_new(&o);
	tw.inst[1] = dflush_new(&o);
	twin_on = &tw;
	t = background(d, 1000 * HOUR, 72);
	for (i = 0; i < 40; i++, t += 30 * 1000) {
		snprintf(author, sizeof author, "e%d", i % 7);
		post_background(d, t, ev, 3, author, i % 3 ? "an explosion" :
		    "the plant", topics + i % 2, 1);
		post_background(d, t, NULL, 0, "bg", NULL, NULL, 0);
	}
	t = background(d, t, 3);
	twin_on = NULL;
	disc_finish(d);
	twin_flush(&tw);
	disc_finish(tw.scorer);
	dflush_free(tw.inst[0]);
	dflush_free(tw.inst[1]);
	disc_free(tw.scorer);
	disc_free(d);
}

static void
test_two_instances_as_one(void **state)
{
	struct jsonw one = { NULL, 0, 0 }, many = { NULL, 0, 0 };

	(void)state;
	run_twin(1024, &one, &many);
	assert_true(one.len > 0);
	assert_non_null(memmem(one.buf, one.len, "explosion", 9));
	assert_int_equal(one.len, many.len);
	assert_memory_equal(one.buf, many.buf, one.len);
	jsonw_free(&one);
	jsonw_free(&many);

	/* lists of 12 keys: fewer counts, the same event */
	run_twin(12, &one, &many);
	assert_non_null(memmem(many.buf, many.len, "explosion", 9));
	assert_non_null(memmem(many.buf, many.len, "plant", 5));
	jsonw_free(&one);
	jsonw_free(&many);
}

static void
test_too_small(void **state)
{
	struct disc_opts o;
	char err[256];

	(void)state;
	disc_opts_default(&o);
	o.memory = 100000;
	assert_null(disc_new(&o, on_story, NULL, err, sizeof err));
	assert_non_null(strstr(err, "candidates"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_ewm),
		cmocka_unit_test(test_hll),
		cmocka_unit_test(test_burst_is_one_story),
		cmocka_unit_test(test_two_bursts_two_stories),
		cmocka_unit_test(test_reposts_low_authors),
		cmocka_unit_test(test_memory_fixed),
		cmocka_unit_test(test_two_instances_as_one),
		cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
