/*
 * test_sparse.c — the detector's sparse series against a dense array:
 * random replaces, trims, sums, window sums and counts agree with adding
 * up the array; an empty or trimmed-out series holds no memory; days of
 * counts through a replace-and-trim loop keep the memory bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "rules.h"
#include "sparse.h"
#include "spike.h"
#include "watch.h"

#define RES	10
#define NB	2000		/* buckets of the model */

/* The model: dense counts of buckets 0 .. NB-1 (times RES), and the first
 * bucket the series is still asked about. */
struct model {
	int64_t	v[NB];
	int64_t	lo;
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t
model_sum(const struct model *m, int64_t from, int64_t to)
{
	int64_t b, s = 0;

	for (b = from; b < to; b += RES)
		if (b >= 0 && b / RES < NB && b >= m->lo)
			s += m->v[b / RES];
	return s;
}

/* Replaces [from, to) in both with random counts (some zero). */
static void
random_replace(struct sparse *s, struct model *m, int64_t from, int64_t to)
{
	struct sparse_point *pts = calloc((size_t)NB, sizeof *pts);
	size_t n = 0;
	int64_t b;

	for (b = from; b < to; b += RES) {
		int64_t c = next_rand() % 3 == 0 ? (int64_t)(next_rand() % 50) : 0;

		m->v[b / RES] = c;
		if (c != 0 || next_rand() % 4 == 0) {	/* zeros sent too */
			pts[n].bucket = b;
			pts[n++].count = c;
		}
	}
	/* any order */
	for (b = 0; n > 1 && b < (int64_t)n; b++) {
		size_t i = next_rand() % n, j = next_rand() % n;
		struct sparse_point t = pts[i];

		pts[i] = pts[j];
		pts[j] = t;
	}
	sparse_replace(s, from, to, pts, n);
	free(pts);
}

static void
check_against(const struct sparse *s, const struct model *m)
{
	int64_t out[16], from, w;
	size_t k, n;
	int i;

	for (i = 0; i < 200; i++) {
		int64_t a = m->lo + (int64_t)(next_rand() % NB) * RES;
		int64_t b = a + (int64_t)(next_rand() % 300) * RES;

		if (a / RES >= NB)
			continue;
		assert_int_equal(sparse_sum(s, a, b), model_sum(m, a, b));
		assert_int_equal(sparse_count(s, a), model_sum(m, a, a + RES));
		assert_int_equal(sparse_quiet(s, a, b), model_sum(m, a, b) == 0);
	}
	for (i = 0; i < 50; i++) {
		from = m->lo + (int64_t)(next_rand() % NB) * RES;
		w = (int64_t)(1 + next_rand() % 30) * RES;
		n = 1 + next_rand() % 16;
		sparse_sums(s, from, w, n, out);
		for (k = 0; k < n; k++)
			assert_int_equal(out[k], model_sum(m,
			    from + (int64_t)k * w, from + (int64_t)(k + 1) * w));
	}
}

static void
test_matches_dense_model(void **state)
{
	struct sparse s;
	struct model *m = calloc(1, sizeof *m);
	int round;

	(void)state;
	sparse_init(&s);
	random_replace(&s, m, 0, NB * RES);
	check_against(&s, m);
	for (round = 0; round < 300; round++) {
		int64_t a = (int64_t)(next_rand() % NB) * RES;
		int64_t b = a + (int64_t)(next_rand() % 64) * RES;

		if (b > NB * RES)
			b = NB * RES;
		if (a < m->lo)
			a = m->lo;
		if (a < b)
			random_replace(&s, m, a, b);
		if (round % 50 == 49) {
			m->lo += 100 * RES;
			sparse_trim(&s, m->lo);
		}
		check_against(&s, m);
	}
	sparse_clear(&s);
	free(m);
}

static void
test_empty_holds_nothing(void **state)
{
	struct sparse s;
	struct sparse_point p[2] = { { 100, 0 }, { 110, -3 } };

	(void)state;
	sparse_init(&s);
	sparse_replace(&s, 0, 1000, p, 2);	/* only zero and negative */
	assert_int_equal(sparse_bytes(&s), 0);
	assert_int_equal(sparse_sum(&s, 0, 1000), 0);
	assert_true(sparse_quiet(&s, 0, 1000));
	p[0].count = 5;
	sparse_replace(&s, 0, 1000, p, 1);
	assert_int_equal(sparse_len(&s), 1);
	assert_true(sparse_bytes(&s) > 0);
	sparse_trim(&s, 200);			/* past every bucket */
	assert_int_equal(sparse_len(&s), 0);
	assert_int_equal(sparse_bytes(&s), 0);
	sparse_clear(&s);
}

/* The sum of 1 + t % 7 over the buckets of the hour from t0. */
static int64_t
model_hour(int64_t t0)
{
	int64_t t, s = 0;

	for (t = t0; t < t0 + 3600; t += RES)
		s += 1 + t % 7;
	return s;
}

/* Ten days of a bucket counted every 10 s, kept to the last day: the
 * memory stays within a small multiple of a day's buckets. */
static void
test_memory_bounded_over_days(void **state)
{
	struct sparse s;
	struct sparse_point p;
	int64_t t, day = 86400, most = 0, bytes;

	(void)state;
	sparse_init(&s);
	for (t = 0; t < 10 * day; t += RES) {
		p.bucket = t;
		p.count = 1 + t % 7;
		sparse_replace(&s, t, t + RES, &p, 1);
		if (t % 600 == 0)
			sparse_trim(&s, t - day);
		bytes = (int64_t)sparse_bytes(&s);
		if (bytes > most)
			most = bytes;
	}
	assert_true(sparse_len(&s) <= (size_t)(day / RES + 600 / RES + 1));
	assert_true(most <= 4 * (day / RES) * 16);
	assert_int_equal(sparse_sum(&s, 10 * day - 3600, 10 * day),
	    model_hour(10 * day - 3600));
	sparse_clear(&s);
}

/* ---- stepping over the sparse series is stepping over the counts ---- */

static const char STEP_RULES[] =
"topics:\n"
"  - id: ratio\n"
"    match: {any: [a]}\n"
"    alert: {window: 1m, baseline: 30m, ratio: 3, min_count: 5}\n"
"  - id: z\n"
"    match: {any: [b]}\n"
"    alert: {window: 30s, baseline: 20m, zscore: 3, min_count: 3, cooldown: 2m}\n"
"  - id: thr\n"
"    match: {any: [c]}\n"
"    inhibit: [ratio]\n"
"    alert:\n"
"      - {window: 20s, threshold: 8, resolve_after: 1m}\n"
"      - {window: 1m, baseline: {halflife: 10m}, zscore: 2, min_count: 4}\n"
"      - {window: 1m, baseline: {halflife: 10m, season: 1, season_period: 5m, season_lookback: 3}, zscore: 2, min_count: 4}\n"
"      - {window: 40s, baseline: {period: 10m, lookback: 3}, ratio: 2, min_count: 4}\n"
"      - {window: 30s, baseline: 10m, poisson: {p: 0.001}, min_count: 3}\n";

/* One action reported, as a comparable record. */
struct step_rec {
	size_t			i, b;
	enum spike_action	act;
	struct spike_eval	ev;
};

struct step_log {
	struct step_rec	r[4096];
	size_t		n;
};

static int
log_step(void *arg, size_t i, size_t b, enum spike_action act,
    const struct spike_eval *ev)
{
	struct step_log *l = arg;

	assert_true(l->n < 4096);
	memset(&l->r[l->n], 0, sizeof l->r[l->n]);
	l->r[l->n].i = i;
	l->r[l->n].b = b;
	l->r[l->n].act = act;
	l->r[l->n++].ev = *ev;
	return 0;
}

static int64_t
dense_count(void *arg, int64_t b)
{
	const int64_t *v = arg;

	return b >= 0 && b / RES < NB ? v[b / RES] : 0;
}

static void
test_stepping_matches_dense(void **state)
{
	struct ruleset *rs = NULL;
	struct rules_opts ro;
	struct diag errs;
	int64_t (*v)[NB] = calloc(3, sizeof *v);
	struct sparse sp[3];
	struct watch_topic wd[3], ws[3], *pd[3], *ps[3];
	struct step_log *ld = calloc(1, sizeof *ld), *ls = calloc(1, sizeof *ls);
	struct sparse_point *pts = calloc(NB, sizeof *pts);
	size_t i, b, n, k;
	int64_t t;

	(void)state;
	memset(&ro, 0, sizeof ro);
	ro.resolution_s = RES;
	diag_init(&errs);
	if (rules_load_string_opts("s.yaml", STEP_RULES, strlen(STEP_RULES),
	    &ro, &rs, &errs) == -1)
		fail_msg("%s", errs.n > 0 ? errs.msgs[0] : "rules");
	diag_free(&errs);
	for (i = 0; i < 3; i++) {
		/* a quiet trickle with bursts, and long empty stretches */
		for (t = 0; t < NB; t++) {
			int64_t r = (int64_t)(next_rand() % 100);

			if ((t / 150) % 3 == 2)
				v[i][t] = 0;
			else
				v[i][t] = r < 70 ? 0 : r < 95 ? 1 : r % 4;
			if (t % 400 >= 300 && t % 400 < 306)
				v[i][t] += 12 + (int64_t)i;
		}
		sparse_init(&sp[i]);
		for (n = 0, t = 0; t < NB; t++) {
			pts[n].bucket = t * RES;
			pts[n++].count = v[i][t];
		}
		sparse_replace(&sp[i], 0, NB * RES, pts, n);
		for (k = 0; k < 2; k++) {
			struct watch_topic *w = k == 0 ? &wd[i] : &ws[i];

			memset(w, 0, sizeof *w);
			w->ser.resolution_s = RES;
			w->ser.history_start = 0;
			w->nblocks = rs->topics[i].nalerts;
			w->st = calloc(w->nblocks, sizeof *w->st);
			w->from = calloc(w->nblocks, sizeof *w->from);
			for (b = 0; b < w->nblocks; b++)
				w->from[b] = RES;
			if (k == 0) {
				w->ser.count = dense_count;
				w->ser.arg = v[i];
			} else {
				sparse_series(&sp[i], &w->ser);
			}
		}
		pd[i] = &wd[i];
		ps[i] = &ws[i];
	}
	assert_int_equal(watch_step(rs, pd, RES, NB * RES, RES, log_step, NULL,
	    ld), 0);
	assert_int_equal(watch_step(rs, ps, RES, NB * RES, RES, log_step, NULL,
	    ls), 0);
	assert_true(ld->n > 10);
	assert_int_equal(ld->n, ls->n);
	for (k = 0; k < ld->n; k++)
		assert_memory_equal(&ld->r[k], &ls->r[k], sizeof ld->r[k]);
	for (i = 0; i < 3; i++) {
		for (b = 0; b < wd[i].nblocks; b++)
			assert_memory_equal(&wd[i].st[b], &ws[i].st[b],
			    sizeof wd[i].st[b]);
		free(wd[i].st);
		free(wd[i].from);
		free(ws[i].st);
		free(ws[i].from);
		sparse_clear(&sp[i]);
	}
	rules_unref(rs);
	free(v);
	free(ld);
	free(ls);
	free(pts);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_dense_model),
		cmocka_unit_test(test_empty_holds_nothing),
		cmocka_unit_test(test_memory_bounded_over_days),
		cmocka_unit_test(test_stepping_matches_dense),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
