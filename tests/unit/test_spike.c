/*
 * test_spike.c — the detector's arithmetic and state machine, no Redis.
 *
 * A series is an array of per-bucket counts (resolution 60 s, bucket i at
 * i * 60) read through the same callback type the daemon uses; the callback
 * also checks that every bucket asked for is aligned.  Alert blocks are
 * built by hand with block(), the loader's defaults applied.  Tests cover
 * window edges, plain and seasonal baselines, history_start, every
 * condition and their order, the zero-baseline guards, the state machine
 * step by step, extreme int64 inputs, and a 100-step sustained burst whose
 * whole sequence of actions is asserted; and the buckets spike_reads()
 * names for a step of each kind of baseline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <cmocka.h>

#include "spike.h"

#define RES	60
#define NB	2000		/* buckets in a test series */

struct arr {
	int64_t	counts[NB];
	int64_t	calls;
	int64_t	lo, hi;		/* lowest and highest bucket asked for */
};

static struct arr A;

static int64_t
arr_count(void *arg, int64_t t)
{
	struct arr	*x = arg;

	if (t % RES != 0)
		fail_msg("unaligned bucket %lld", (long long)t);
	x->calls++;
	if (x->calls == 1 || t < x->lo)
		x->lo = t;
	if (x->calls == 1 || t > x->hi)
		x->hi = t;
	if (t < 0 || t / RES >= NB)
		return 0;
	return x->counts[t / RES];
}

static int
reset(void **state)
{
	(void)state;
	memset(&A, 0, sizeof A);
	return 0;
}

static struct spike_series
series(int64_t history_start)
{
	struct spike_series	s;

	memset(&s, 0, sizeof s);
	s.resolution_s = RES;
	s.history_start = history_start;
	s.count = arr_count;
	s.arg = &A;

	return s;
}

/* n posts in the bucket holding time t. */
static void
put(int64_t t, int64_t n)
{
	A.counts[t / RES] += n;
}

/* n posts in each bucket of [from, to). */
static void
fill(int64_t from, int64_t to, int64_t n)
{
	int64_t	t;

	for (t = from; t < to; t += RES)
		put(t, n);
}

/* Every bucket of [from, to) holds n posts. */
static void
set(int64_t from, int64_t to, int64_t n)
{
	int64_t	t;

	for (t = from; t < to; t += RES)
		A.counts[t / RES] = n;
}

/* A block with every optional number unset and the loader's defaults. */
static struct rule_alert
block(int64_t window_s)
{
	struct rule_alert	a;

	memset(&a, 0, sizeof a);
	a.window_s = window_s;
	a.baseline_s = 0;
	a.period_s = 0;
	a.lookback = 0;
	a.min_count = 1;
	a.threshold = -1;
	a.ratio = -1;
	a.zscore = -1;
	a.cooldown_s = 1800;
	a.resolve_after_s = window_s;
	a.severity = SEV_WARNING;
	return a;
}

#define assert_near(x, y) do {						\
	double x_ = (x), y_ = (y);					\
	if (!(fabs(x_ - y_) <= 1e-9 * fmax(1.0, fabs(y_))))		\
		fail_msg("%s = %.17g, expected %.17g", #x, x_, y_);	\
} while (0)

static struct spike_eval
eval(const struct rule_alert *a, int64_t hist, int64_t T)
{
	struct spike_series	s = series(hist);
	struct spike_eval	ev;

	spike_evaluate(a, &s, T, &ev);
	return ev;
}

/* ---- windows ---- */

static void
test_cond_names(void **state)
{
	(void)state;
	assert_string_equal(spike_cond_name(COND_NONE), "none");
	assert_string_equal(spike_cond_name(COND_THRESHOLD), "threshold");
	assert_string_equal(spike_cond_name(COND_RATIO), "ratio");
	assert_string_equal(spike_cond_name(COND_ZSCORE), "zscore");
}

static void
test_window_edges(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;
	int64_t			T = 6000;

	(void)state;
	put(T - 300, 1);	/* first bucket of the window: counts */
	put(T - 1, 10);		/* last second of the window: counts */
	put(T, 100);		/* the window end: does not */
	put(T - 300 - RES, 1000);	/* the bucket before: does not */
	ev = eval(&a, 0, T);
	assert_int_equal(ev.window_start, 5700);
	assert_int_equal(ev.window_end, 6000);
	assert_int_equal(ev.count, 11);
	assert_int_equal(A.lo, 5700);
	assert_int_equal(A.hi, 5940);
	assert_int_equal(A.calls, 5);
}

static void
test_window_one_bucket(void **state)
{
	struct rule_alert	a = block(60);
	struct spike_eval	ev;

	(void)state;
	put(6000 - 60, 3);
	put(6000 - 120, 7);
	put(6000, 11);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.window_start, 5940);
	assert_int_equal(ev.count, 3);
	assert_int_equal(A.calls, 1);
}

static void
test_window_unaligned_T(void **state)
{
	struct rule_alert	a = block(120);
	struct spike_eval	ev;

	(void)state;
	put(5880, 1);
	put(5940, 2);
	put(6000, 4);
	ev = eval(&a, 0, 6059);		/* aligned down to 6000 */
	assert_int_equal(ev.window_end, 6000);
	assert_int_equal(ev.window_start, 5880);
	assert_int_equal(ev.count, 3);
}

static void
test_window_not_multiple(void **state)
{
	struct rule_alert	a = block(90);	/* rounded up to 2 buckets */
	struct spike_eval	ev;

	(void)state;
	put(5880, 1);
	put(5940, 2);
	put(5820, 4);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.window_start, 5880);
	assert_int_equal(ev.count, 3);
}

static void
test_window_before_history(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	fill(5700, 6000, 1);
	ev = eval(&a, 5880, 6000);	/* only 5880 and 5940 are kept */
	assert_int_equal(ev.count, 2);
	assert_int_equal(A.calls, 2);
	assert_int_equal(A.lo, 5880);
	ev = eval(&a, 6000, 6000);	/* nothing kept yet */
	assert_int_equal(ev.count, 0);
	assert_int_equal(ev.nbaseline, 0);
}

static void
test_negative_counts_ignored(void **state)
{
	struct rule_alert	a = block(180);
	struct spike_eval	ev;

	(void)state;
	put(5820, 5);
	put(5880, -3);
	put(5940, 2);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 7);
}

/* ---- baselines ---- */

static void
test_plain_baseline(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;
	int64_t			T = 6000;

	(void)state;
	a.baseline_s = 900;		/* three windows */
	put(T - 300, 20);		/* current: 50 */
	put(T - 60, 30);
	put(T - 600, 4);		/* [T-600, T-300): 10 */
	put(T - 360, 6);
	put(T - 900, 20);		/* [T-900, T-600): 20 */
	put(T - 1200, 15);		/* [T-1200, T-900): 30 */
	put(T - 960, 15);
	put(T - 1500, 99);		/* before the baseline */
	put(T - 1260, 99);
	ev = eval(&a, 0, T);
	assert_int_equal(ev.count, 50);
	assert_int_equal(ev.nbaseline, 3);
	assert_near(ev.mean, 20);
	assert_near(ev.stddev, sqrt(200.0 / 3));
	assert_near(ev.baseline_rate, 20);
	assert_near(ev.ratio, 2.5);
	assert_near(ev.zscore, 30 / sqrt(200.0 / 3));
	assert_int_equal(A.lo, T - 1200);
	assert_int_equal(A.hi, T - 60);
	assert_int_equal(A.calls, 20);
}

static void
test_plain_baseline_floor(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 1199;		/* 3 whole windows, the rest unused */
	fill(0, 6000, 1);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.nbaseline, 3);
	assert_near(ev.mean, 5);
	assert_near(ev.stddev, 0);
	assert_int_equal(A.lo, 6000 - 1200);

	a.baseline_s = 299;		/* shorter than a window: none */
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.nbaseline, 0);
	assert_near(ev.mean, 0);
}

static void
test_plain_baseline_one_bucket(void **state)
{
	struct rule_alert	a = block(60);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 240;
	put(5940, 9);
	put(5880, 1);
	put(5820, 2);
	put(5760, 3);
	put(5700, 6);
	put(5640, 100);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 9);
	assert_int_equal(ev.nbaseline, 4);
	assert_near(ev.mean, 3);
	assert_near(ev.stddev, sqrt(14.0 / 4));
	assert_near(ev.ratio, 3);
	assert_near(ev.zscore, 6 / sqrt(3.5));
}

static void
test_seasonal_baseline(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;
	int64_t			T = 4 * 3600 + 1800;	/* 16200 */

	(void)state;
	a.period_s = 3600;
	a.lookback = 3;
	fill(0, NB * RES, 1000);		/* noise everywhere … */
	set(T - 300, T, 0);
	put(T - 60, 40);
	set(T - 3600 - 300, T - 3600, 0);	/* … but the same time on */
	put(T - 3600 - 300, 5);			/* earlier periods */
	set(T - 7200 - 300, T - 7200, 0);
	put(T - 7200 - 60, 7);
	set(T - 10800 - 300, T - 10800, 0);
	put(T - 10800 - 180, 9);
	ev = eval(&a, 0, T);			/* k = 4 exists, unused */
	assert_int_equal(ev.count, 40);
	assert_int_equal(ev.nbaseline, 3);
	assert_near(ev.mean, 7);
	assert_near(ev.stddev, sqrt(8.0 / 3));
	assert_near(ev.ratio, 40.0 / 7);
	assert_near(ev.zscore, 33 / sqrt(7.0));
	assert_int_equal(A.calls, 20);
	assert_int_equal(A.lo, T - 10800 - 300);

	a.lookback = 4;				/* k = 4 begins at 1500: used */
	set(T - 14400 - 300, T - 14400, 0);
	put(T - 14400 - 300, 7);
	ev = eval(&a, 0, T);
	assert_int_equal(ev.nbaseline, 4);
	assert_near(ev.mean, 7);
	assert_near(ev.stddev, sqrt(8.0 / 4));
}

static void
test_seasonal_history(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;
	int64_t			T = 16200;

	(void)state;
	a.period_s = 3600;
	a.lookback = 7;
	put(T - 3600 - 60, 2);
	put(T - 7200 - 60, 4);
	put(T - 10800 - 60, 600);
	/* T - 7200 - 300 = 8700 is kept, T - 10800 - 300 = 5100 is not */
	ev = eval(&a, 8700, T);
	assert_int_equal(ev.nbaseline, 2);
	assert_near(ev.mean, 3);
	assert_near(ev.stddev, 1);
	ev = eval(&a, 8701, T);
	assert_int_equal(ev.nbaseline, 1);
	assert_near(ev.mean, 2);
	ev = eval(&a, 0, T);			/* k = 5.. begin before 0 */
	assert_int_equal(ev.nbaseline, 4);
	assert_near(ev.mean, 606.0 / 4);
}

static void
test_seasonal_unaligned_period(void **state)
{
	struct rule_alert	a = block(120);
	struct spike_eval	ev;

	(void)state;
	a.period_s = 3630;		/* T - period = 2370, aligned to 2340 */
	a.lookback = 1;
	put(2220, 1);
	put(2280, 2);
	put(2340, 100);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.nbaseline, 1);
	assert_near(ev.mean, 3);
}

static void
test_history_start_plain(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;
	int64_t			T = 6000;

	(void)state;
	a.baseline_s = 1500;		/* five windows */
	fill(0, T, 1);
	put(T - 600, 5);		/* the most recent window: 10 */
	ev = eval(&a, 0, T);
	assert_int_equal(ev.nbaseline, 5);
	ev = eval(&a, T - 900, T);	/* two windows begin at or after */
	assert_int_equal(ev.nbaseline, 2);
	assert_near(ev.mean, 7.5);
	assert_near(ev.stddev, 2.5);
	A.calls = 0;
	ev = eval(&a, T - 750, T);	/* in the middle of the second */
	assert_int_equal(ev.nbaseline, 1);
	assert_near(ev.mean, 10);
	assert_near(ev.stddev, 0);
	assert_int_equal(A.lo, T - 600);
	ev = eval(&a, T - 301, T);	/* none */
	assert_int_equal(ev.nbaseline, 0);
	assert_int_equal(ev.count, 5);
}

static void
test_no_baseline(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	fill(0, 6000, 3);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 15);
	assert_int_equal(ev.nbaseline, 0);
	assert_near(ev.mean, 0);
	assert_near(ev.stddev, 0);
	assert_near(ev.baseline_rate, 0);
	assert_true(isinf(ev.ratio) && ev.ratio > 0);
	assert_near(ev.zscore, 15);		/* denominator floor 1 */
	assert_int_equal(A.calls, 5);

	memset(A.counts, 0, sizeof A.counts);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 0);
	assert_near(ev.ratio, 0);
	assert_near(ev.zscore, 0);
	assert_int_equal(ev.cond, COND_NONE);
}

/* ---- conditions ---- */

static void
test_fresh_start_no_alarm(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 3600;
	a.ratio = 3;
	a.zscore = 2;
	put(5940, 1);
	ev = eval(&a, 6000 - 300, 6000);	/* no history before the window */
	assert_int_equal(ev.count, 1);
	assert_int_equal(ev.nbaseline, 0);
	assert_int_equal(ev.cond, COND_NONE);
	put(5940, 100000);
	ev = eval(&a, 6000 - 300, 6000);
	assert_int_equal(ev.cond, COND_NONE);
	a.threshold = 500;			/* only threshold can fire */
	ev = eval(&a, 6000 - 300, 6000);
	assert_int_equal(ev.cond, COND_THRESHOLD);
}

static void
test_empty_baseline_min_count(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 3600;
	a.ratio = 3;
	a.min_count = 20;
	put(5940, 1);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.nbaseline, 12);
	assert_near(ev.mean, 0);
	assert_int_equal(ev.cond, COND_NONE);

	put(5940, 24);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 25);
	assert_true(isinf(ev.ratio));
	assert_near(ev.zscore, 25);
	assert_int_equal(ev.cond, COND_RATIO);

	/* 1 from a known 0 does not fire even with min_count 1: the ratio is
	 * taken against at least one post per window */
	a.min_count = 1;
	memset(A.counts, 0, sizeof A.counts);
	put(5940, 1);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
	put(5940, 2);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 3);
	assert_int_equal(ev.cond, COND_RATIO);
}

static void
test_min_count_zero_is_one(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 600;
	a.min_count = 0;
	a.threshold = 0;
	a.ratio = 0;
	a.zscore = 0;
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 0);
	assert_int_equal(ev.cond, COND_NONE);
	a.min_count = -5;
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
	put(5700, 1);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_THRESHOLD);
}

static void
test_threshold_alone(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.threshold = 10;
	put(5700, 9);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
	put(5940, 1);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 10);
	assert_int_equal(ev.cond, COND_THRESHOLD);

	a.min_count = 20;		/* an AND guard over every condition */
	put(5940, 5);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.count, 15);
	assert_int_equal(ev.cond, COND_NONE);
	put(5940, 5);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_THRESHOLD);
}

/* Distinct counts a guarded block reads: authors, texts, posts of the
 * hours, and how often and over what it asked. */
struct dist {
	int64_t	v[3];
	int	calls;
	int64_t	from, to;
};

static int
dist_read(void *arg, int64_t from, int64_t to, int64_t out[3])
{
	struct dist *d = arg;

	d->calls++;
	d->from = from;
	d->to = to;
	memcpy(out, d->v, sizeof d->v);
	return d->v[0] < 0 ? -1 : 0;
}

static enum spike_cond
eval_guarded(const struct rule_alert *a, struct dist *d, int64_t T)
{
	struct spike_series	s = series(0);
	struct spike_eval	ev;

	s.distinct = dist_read;
	s.distinct_arg = d;
	spike_evaluate(a, &s, T, &ev);
	if (ev.cond != COND_NONE)
		assert_int_equal(ev.authors, spike_guarded(a) ? d->v[0] : -1);
	return ev.cond;
}

static void
test_guards(void **state)
{
	struct rule_alert	a = block(300);
	struct dist		d = { { 3, 1, 90 }, 0, 0, 0 };

	(void)state;
	a.threshold = 10;
	put(5700, 30);
	/* unguarded: no read */
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_THRESHOLD);
	assert_int_equal(d.calls, 0);
	assert_false(spike_guarded(&a));
	/* min_authors: 3 authors are not 10; read over the window */
	a.min_authors = 10;
	assert_true(spike_guarded(&a));
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_NONE);
	assert_true(d.calls == 1 && d.from == 5700 && d.to == 6000);
	d.v[0] = 10;
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_THRESHOLD);
	/* nothing is read while the condition does not hold */
	d.calls = 0;
	assert_int_equal(eval_guarded(&a, &d, 3000), COND_NONE);
	assert_int_equal(d.calls, 0);
	/* max_posts_per_author: 90 posts by 10 authors is 9 */
	a.max_posts_per_author = 5;
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_NONE);
	a.max_posts_per_author = 9;
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_THRESHOLD);
	/* count texts: 1 text is not 10; count authors: 10 is */
	a.min_authors = 0;
	a.max_posts_per_author = 0;
	a.count = COUNT_TEXTS;
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_NONE);
	a.count = COUNT_AUTHORS;
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_THRESHOLD);
	/* a failed read holds nothing */
	d.v[0] = -1;
	assert_int_equal(eval_guarded(&a, &d, 6000), COND_NONE);
}

static void
test_ratio_exact(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 1200;
	a.ratio = 3;
	fill(0, 6000 - 300, 2);		/* every baseline window: 10 */
	put(5700, 29);
	ev = eval(&a, 0, 6000);
	assert_near(ev.mean, 10);
	assert_near(ev.ratio, 2.9);
	assert_int_equal(ev.cond, COND_NONE);
	put(5700, 1);
	ev = eval(&a, 0, 6000);
	assert_near(ev.ratio, 3);
	assert_int_equal(ev.cond, COND_RATIO);
}

static void
test_zscore_noisy(void **state)
{
	static const int64_t	 bl[8] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	struct rule_alert	 a = block(300);
	struct spike_eval	 ev;
	int			 i;

	(void)state;
	a.baseline_s = 8 * 300;
	a.zscore = 3;
	for (i = 0; i < 8; i++)		/* window i+1 back from the current */
		put(6000 - (i + 2) * 300, bl[i]);
	put(5940, 11);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.nbaseline, 8);
	assert_near(ev.mean, 5);
	assert_near(ev.stddev, 2);
	/* sqrt(mean) > stddev: the denominator is sqrt(5) */
	assert_near(ev.zscore, 6 / sqrt(5.0));
	assert_int_equal(ev.cond, COND_NONE);
	put(5940, 1);
	ev = eval(&a, 0, 6000);
	assert_near(ev.zscore, 7 / sqrt(5.0));
	assert_int_equal(ev.cond, COND_ZSCORE);
}

static void
test_zscore_stddev(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 600;
	a.zscore = 3;
	put(5400, 30);			/* windows 30 and 10 */
	put(5100, 10);
	put(5700, 49);
	ev = eval(&a, 0, 6000);
	assert_near(ev.mean, 20);
	assert_near(ev.stddev, 10);
	assert_near(ev.zscore, 2.9);
	assert_int_equal(ev.cond, COND_NONE);
	put(5700, 1);
	ev = eval(&a, 0, 6000);
	assert_near(ev.zscore, 3);
	assert_int_equal(ev.cond, COND_ZSCORE);

	memset(A.counts, 0, sizeof A.counts);	/* below the mean */
	put(5700, 5);
	put(5400, 30);
	put(5100, 10);
	ev = eval(&a, 0, 6000);
	assert_near(ev.zscore, -1.5);
	assert_near(ev.ratio, 0.25);
	assert_int_equal(ev.cond, COND_NONE);
}

static void
test_cond_order(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 600;
	put(5400, 10);
	put(5100, 10);
	put(5700, 100);		/* mean 10, stddev 0: ratio 10, z 28.46 */
	a.threshold = 50;
	a.ratio = 2;
	a.zscore = 2;
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_THRESHOLD);
	a.threshold = 101;
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_RATIO);
	a.ratio = 11;
	ev = eval(&a, 0, 6000);
	assert_near(ev.zscore, 90 / sqrt(10.0));
	assert_int_equal(ev.cond, COND_ZSCORE);
	a.zscore = 29;
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
}

static void
test_cond_or(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 600;
	put(5400, 10);
	put(5100, 10);
	put(5700, 25);			/* ratio 2.5, z 4.74 */
	a.threshold = 1000;		/* fails */
	a.ratio = 5;			/* fails */
	a.zscore = 4;			/* holds */
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_ZSCORE);
	a.zscore = 100;			/* fails */
	a.ratio = 2.5;			/* holds */
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_RATIO);
	a.ratio = -1;			/* unset */
	a.zscore = -1;
	a.threshold = 25;
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_THRESHOLD);
	a.threshold = -1;		/* nothing set: never fires */
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
}

static void
test_unset_is_negative(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_eval	ev;

	(void)state;
	a.baseline_s = 600;
	a.threshold = NAN;
	a.ratio = NAN;
	a.zscore = NAN;
	put(5700, 1000);
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
	a.ratio = INFINITY;		/* inf * mean 0: no fire, no trap */
	ev = eval(&a, 0, 6000);
	assert_int_equal(ev.cond, COND_NONE);
}

/* ---- extremes ---- */

static int64_t
huge_count(void *arg, int64_t t)
{
	(void)arg;
	(void)t;
	return INT64_MAX / 2;
}

static void
test_extremes(void **state)
{
	static const int64_t	 ts[] = { INT64_MIN, INT64_MIN + 1, -1, 0,
	    INT64_MAX - 1, INT64_MAX };
	static const int64_t	 ws[] = { -1, 0, 1, 59, 60, INT64_MAX / 2,
	    INT64_MAX };
	static const int64_t	 ress[] = { -7, 0, 1, 60, INT64_MAX };
	struct rule_alert	 a;
	struct spike_series	 s;
	struct spike_eval	 ev;
	struct spike_state	 st;
	size_t			 i, j, k;
	int			 m;

	(void)state;
	memset(&s, 0, sizeof s);
	for (i = 0; i < sizeof ts / sizeof ts[0]; i++)
	for (j = 0; j < sizeof ws / sizeof ws[0]; j++)
	for (k = 0; k < sizeof ress / sizeof ress[0]; k++)
	for (m = 0; m < 4; m++) {
		a = block(ws[j]);
		a.baseline_s = m == 1 ? INT64_MAX : m == 2 ? 3600 : 0;
		a.period_s = m == 3 ? INT64_MAX : m == 0 ? 60 : 0;
		a.lookback = m == 0 ? INT_MAX : 7;
		a.threshold = 1;
		a.ratio = 1;
		a.zscore = 0;
		a.min_count = INT64_MAX;
		a.cooldown_s = m == 1 ? INT64_MAX : ws[j];
		a.resolve_after_s = m == 2 ? INT64_MAX : -1;
		s.resolution_s = ress[k];
		s.count = huge_count;
		s.arg = NULL;
		/* bounded history: an evaluation reads at most an hour */
		s.history_start = ts[i] < INT64_MIN + 3600 ? INT64_MIN :
		    ts[i] - 3600;
		spike_evaluate(&a, &s, ts[i], &ev);
		assert_true(ev.window_start <= ev.window_end);
		assert_true(ev.count >= 0);
		assert_false(isnan(ev.zscore));
		memset(&st, 0, sizeof st);
		(void)spike_step(&a, &st, &ev);
		ev.window_end = INT64_MIN;
		ev.cond = COND_NONE;
		assert_int_equal(spike_step(&a, &st, &ev), SPIKE_NOTHING);
		ev.window_end = INT64_MAX;
		(void)spike_step(&a, &st, &ev);
	}

	/* the saturating sum */
	a = block(300);
	s = series(0);
	s.count = huge_count;
	spike_evaluate(&a, &s, 6000, &ev);
	assert_int_equal(ev.count, INT64_MAX);
	a.min_count = INT64_MAX;
	a.threshold = 0;
	spike_evaluate(&a, &s, 6000, &ev);
	assert_int_equal(ev.cond, COND_THRESHOLD);
}

/* ---- the state machine ---- */

static struct spike_eval
at(int64_t window_end, enum spike_cond cond)
{
	struct spike_eval	ev;

	memset(&ev, 0, sizeof ev);
	ev.window_start = window_end;	/* unused by spike_step */
	ev.window_end = window_end;
	ev.cond = cond;
	return ev;
}

static enum spike_action
step(const struct rule_alert *a, struct spike_state *st, int64_t t, bool hi)
{
	struct spike_eval	ev = at(t, hi ? COND_RATIO : COND_NONE);

	return spike_step(a, st, &ev);
}

static void
test_step_zero_state(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st;

	(void)state;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 0, false), SPIKE_NOTHING);
	assert_false(st.firing);
	memset(&st, 0, sizeof st);	/* time 0 is not "never" */
	assert_int_equal(step(&a, &st, 0, true), SPIKE_FIRE);
	assert_true(st.firing);
	assert_int_equal(st.since, 0);
	assert_int_equal(st.notified_at, 0);
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, -600, true), SPIKE_FIRE);
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, INT64_MIN, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, INT64_MIN + 1800, true), SPIKE_REPEAT);
	assert_int_equal(step(&a, &st, INT64_MAX, false), SPIKE_RESOLVE);
	/* the same window end again, now high: a new episode, cooldown long
	 * past */
	assert_int_equal(step(&a, &st, INT64_MAX, true), SPIKE_FIRE);
}

static void
test_step_fire_once_cooldown_repeat(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st;
	int64_t			t;

	(void)state;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 600, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 660, true), SPIKE_FIRE);
	assert_int_equal(st.since, 660);
	assert_int_equal(st.notified_at, 660);
	for (t = 720; t < 660 + 1800; t += 60)
		assert_int_equal(step(&a, &st, t, true), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 660 + 1800, true), SPIKE_REPEAT);
	assert_int_equal(st.since, 660);
	assert_int_equal(st.notified_at, 2460);
	assert_int_equal(step(&a, &st, 2520, true), SPIKE_NOTHING);
	/* a step that skips past the cooldown repeats too */
	assert_int_equal(step(&a, &st, 9999, true), SPIKE_REPEAT);
	assert_int_equal(st.notified_at, 9999);
}

static void
test_step_resolve(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st;

	(void)state;
	a.resolve_after_s = 300;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 1000, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, 1060, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 1240, false), SPIKE_NOTHING);
	assert_true(st.firing);
	assert_int_equal(step(&a, &st, 1299, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 1300, false), SPIKE_RESOLVE);
	assert_false(st.firing);
	assert_int_equal(st.last_true, 1000);
	assert_int_equal(step(&a, &st, 1360, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 99999, false), SPIKE_NOTHING);
}

static void
test_step_resolve_grace(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st;

	(void)state;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 1000, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, 1240, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 1280, true), SPIKE_NOTHING);
	assert_int_equal(st.since, 1000);	/* the same episode */
	assert_int_equal(step(&a, &st, 1579, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 1580, false), SPIKE_RESOLVE);
}

static void
test_step_defaults(void **state)
{
	struct rule_alert	a = block(600);
	struct spike_state	st;

	(void)state;
	a.cooldown_s = -1;		/* 30m */
	a.resolve_after_s = -1;		/* the window */
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 0, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, 1799, true), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 1800, true), SPIKE_REPEAT);
	assert_int_equal(step(&a, &st, 2399, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 2400, false), SPIKE_RESOLVE);
}

static void
test_step_cooldown_zero(void **state)
{
	struct rule_alert	a = block(60);
	struct spike_state	st;

	(void)state;
	a.cooldown_s = 0;
	a.resolve_after_s = 0;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 60, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, 120, true), SPIKE_REPEAT);
	assert_int_equal(step(&a, &st, 180, false), SPIKE_RESOLVE);
	assert_int_equal(step(&a, &st, 240, true), SPIKE_FIRE);
}

static void
test_step_new_episode_cooldown(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st;

	(void)state;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 0, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, 300, false), SPIKE_RESOLVE);
	/* a new episode within cooldown of the last notification: silent */
	assert_int_equal(step(&a, &st, 900, true), SPIKE_NOTHING);
	assert_true(st.firing);
	assert_int_equal(st.since, 900);
	assert_int_equal(st.notified_at, 0);
	assert_int_equal(step(&a, &st, 1740, true), SPIKE_NOTHING);
	/* still high once cooldown has passed: its first notification */
	assert_int_equal(step(&a, &st, 1800, true), SPIKE_FIRE);
	assert_int_equal(st.notified_at, 1800);
	assert_int_equal(step(&a, &st, 3600, true), SPIKE_REPEAT);
	assert_int_equal(step(&a, &st, 3900, false), SPIKE_RESOLVE);

	/* a silent episode that ends within cooldown resolves silently */
	assert_int_equal(step(&a, &st, 4000, true), SPIKE_NOTHING);
	assert_true(st.firing);
	assert_int_equal(step(&a, &st, 4300, false), SPIKE_NOTHING);
	assert_false(st.firing);
	/* and a new one after cooldown fires */
	assert_int_equal(step(&a, &st, 5400, true), SPIKE_FIRE);
	assert_int_equal(st.since, 5400);
}

static void
same_state(const struct spike_state *x, const struct spike_state *y)
{
	assert_int_equal(x->firing, y->firing);
	assert_int_equal(x->since, y->since);
	assert_int_equal(x->notified_at, y->notified_at);
	assert_int_equal(x->last_true, y->last_true);
	assert_int_equal(x->stepped, y->stepped);
	assert_int_equal(x->notified, y->notified);
	assert_int_equal(x->last_step, y->last_step);
}

static void
test_step_backwards(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st, saved;

	(void)state;
	memset(&st, 0, sizeof st);
	assert_int_equal(step(&a, &st, 600, false), SPIKE_NOTHING);
	saved = st;
	assert_int_equal(step(&a, &st, 540, true), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, INT64_MIN, true), SPIKE_NOTHING);
	same_state(&st, &saved);
	assert_false(st.firing);
	/* the same window end again is a window still filling: evaluated */
	assert_int_equal(step(&a, &st, 600, true), SPIKE_FIRE);
	assert_int_equal(step(&a, &st, 600, true), SPIKE_NOTHING);
	saved = st;
	assert_int_equal(step(&a, &st, 0, false), SPIKE_NOTHING);
	same_state(&st, &saved);
	assert_int_equal(step(&a, &st, 840, false), SPIKE_NOTHING);
	assert_int_equal(step(&a, &st, 900, false), SPIKE_RESOLVE);
}

/*
 * A sustained burst over 100 one-minute steps: 2 posts per bucket, and 200
 * in buckets 20..39 and 45..59 and 78..79 after T0.  Window 5m, seasonal
 * baseline (the burst never enters it: mean 10, stddev 0), ratio 3,
 * min_count 20, cooldown 30m, resolve_after 10m.  Step i's window holds
 * buckets i-5..i-1, so the condition holds at steps 21..44, 46..64, 79..84.
 */
static void
test_sustained_burst(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_series	s = series(0);
	struct spike_state	st;
	struct spike_eval	ev;
	enum spike_action	got[100], want[100];
	int64_t			T0 = 3 * 6000 + 300, T;
	int			i;

	(void)state;
	a.period_s = 6000;
	a.lookback = 3;
	a.ratio = 3;
	a.min_count = 20;
	a.cooldown_s = 1800;
	a.resolve_after_s = 600;
	fill(0, NB * RES, 2);
	set(T0 + 20 * RES, T0 + 40 * RES, 200);
	set(T0 + 45 * RES, T0 + 60 * RES, 200);
	set(T0 + 78 * RES, T0 + 80 * RES, 200);

	memset(&st, 0, sizeof st);
	for (i = 0; i < 100; i++) {
		T = T0 + i * RES;
		spike_evaluate(&a, &s, T, &ev);
		assert_int_equal(ev.nbaseline, 3);
		assert_near(ev.mean, 10);
		got[i] = spike_step(&a, &st, &ev);
		if (i == 20)
			assert_int_equal(ev.count, 10);
		if (i == 21) {
			assert_int_equal(ev.count, 208);
			assert_near(ev.ratio, 20.8);
			assert_near(ev.zscore, 198 / sqrt(10.0));
			assert_int_equal(ev.cond, COND_RATIO);
		}
		if (i == 45)
			assert_int_equal(ev.cond, COND_NONE);
		if (i == 50)
			assert_int_equal(ev.count, 1000);
	}
	for (i = 0; i < 100; i++)
		want[i] = SPIKE_NOTHING;
	want[21] = SPIKE_FIRE;		/* the burst begins */
	want[51] = SPIKE_REPEAT;	/* still high 30m later */
	want[74] = SPIKE_RESOLVE;	/* last high at 64, +10m */
	want[81] = SPIKE_FIRE;		/* high since 79; 30m after 51 */
	want[94] = SPIKE_RESOLVE;	/* last high at 84, +10m */
	for (i = 0; i < 100; i++) {
		if (got[i] != want[i])
			fail_msg("step %d: action %d, expected %d", i,
			    (int)got[i], (int)want[i]);
	}
	assert_false(st.firing);
}

/* ---- Poisson ------------------------------------------------------------ */

static void
test_poisson_math(void **state)
{
	(void)state;
	assert_near(spike_poisson_tail(1, 0), 1);
	assert_near(spike_poisson_tail(1, 1), 0.6321205588285577);
	assert_near(spike_poisson_tail(2, 3), 0.3233235838169364);
	assert_true(fabs(spike_poisson_tail(1, 6) - 0.0005941848175816924) <
	    1e-12);
	assert_true(fabs(spike_poisson_tail(10, 30) / 2.509951201527921e-07 -
	    1) < 1e-6);
	assert_true(fabs(spike_poisson_tail(100, 100) - 0.5132987982791705) <
	    1e-9);
	assert_true(fabs(spike_poisson_tail(1000, 1100) -
	    0.0009626304058662804) < 1e-9);
	assert_near(spike_poisson_tail(0, 5), 0);
	/* the smallest k with P(X > k) <= p */
	assert_int_equal(spike_poisson_upper(1, 0.001), 5);
	assert_int_equal(spike_poisson_upper(10, 0.001), 21);
	assert_int_equal(spike_poisson_upper(100, 1e-6), 151);
	assert_int_equal(spike_poisson_upper(0.5, 0.01), 3);
	assert_int_equal(spike_poisson_upper(1000, 0.001), 1099);
	assert_int_equal(spike_poisson_upper(0, 0.001), 0);
	assert_true(spike_poisson_upper(1e12, 1e-9) > 1e12);
}

/* A plain baseline of mean 1 per window: the bound at p = 0.001 is 5. */
static void
test_poisson_condition(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_series	s = series(0);
	struct spike_eval	ev;
	int64_t			T = 11 * 300, t;

	(void)state;
	a.baseline_s = 3000;
	a.poisson_p = 0.001;
	a.poisson_factor = 0;	/* unset: 1 */
	for (t = 0; t < T - 300; t += 300)
		put(t, 1);
	put(T - 300, 5);
	spike_evaluate(&a, &s, T, &ev);
	assert_int_equal(ev.nbaseline, 10);
	assert_near(ev.mean, 1);
	assert_int_equal(ev.upper, 5);
	assert_int_equal(ev.cond, COND_NONE);	/* 5 is not above 5 */
	put(T - 300, 1);
	spike_evaluate(&a, &s, T, &ev);
	assert_int_equal(ev.cond, COND_POISSON);
	assert_true(fabs(ev.pvalue - 0.0005941848175816924) < 1e-12);
	assert_string_equal(spike_cond_name(ev.cond), "poisson");
	a.poisson_factor = 2;			/* above 10 */
	put(T - 300, 4);
	spike_evaluate(&a, &s, T, &ev);
	assert_int_equal(ev.count, 10);
	assert_int_equal(ev.cond, COND_NONE);
	put(T - 300, 1);
	spike_evaluate(&a, &s, T, &ev);
	assert_int_equal(ev.cond, COND_POISSON);
	/* zscore comes first when both hold */
	a.zscore = 3;
	spike_evaluate(&a, &s, T, &ev);
	assert_int_equal(ev.cond, COND_ZSCORE);
	/* an empty baseline counts as a rate of 1; no baseline never fires */
	memset(&A, 0, sizeof A);
	a.zscore = -1;
	a.poisson_factor = 1;
	put(T - 300, 6);
	spike_evaluate(&a, &s, T, &ev);
	assert_near(ev.mean, 0);
	assert_int_equal(ev.cond, COND_POISSON);
	s.history_start = T - 300;
	spike_evaluate(&a, &s, T, &ev);
	assert_int_equal(ev.nbaseline, 0);
	assert_int_equal(ev.cond, COND_NONE);
}

/* ---- EWMA baseline -------------------------------------------------------- */

/* Every window end from `from` to `to` through spike_run; the actions and
 * their window ends are recorded. */
struct rec {
	enum spike_action	act[NB];
	int64_t			at[NB];
	int			n;
	int			fail_at;	/* emit fails on this call (1-based) */
	int			calls;
};

static int
rec_emit(void *arg, enum spike_action act, const struct spike_eval *ev)
{
	struct rec *r = arg;

	if (++r->calls == r->fail_at)
		return -1;
	if (r->n < NB) {
		r->act[r->n] = act;
		r->at[r->n++] = ev->window_end;
	}
	return 0;
}

static struct rule_alert
ewma_block(int64_t halflife)
{
	struct rule_alert	a = block(RES);

	a.halflife_s = halflife;
	a.zscore = 4;
	a.cooldown_s = 100 * RES;
	a.resolve_after_s = RES;
	return a;
}

static void
test_ewma_steady(void **state)
{
	struct rule_alert	a = ewma_block(10 * RES);
	struct spike_series	s = series(0);
	struct spike_state	st;
	struct spike_eval	ev;
	struct rec		r;

	(void)state;
	memset(&st, 0, sizeof st);
	memset(&r, 0, sizeof r);
	fill(0, 300 * RES, 10);
	/* before the warm-up (10 windows here) the baseline is not used */
	{
		struct spike_state early = st;

		spike_learn(&a, &s, &early, 5 * RES);
		assert_int_equal(early.ew_n, 1);
		spike_evaluate_state(&a, &s, &early, 5 * RES, &ev);
		assert_int_equal(ev.nbaseline, 0);
	}
	assert_int_equal(spike_run(&a, &s, &st, RES, 300 * RES, false, rec_emit,
	    &r, NULL), 0);
	assert_int_equal(r.n, 0);
	assert_near(st.ew_mean, 10);
	assert_near(st.ew_var, 0);
	assert_int_equal(st.ew_T, 299 * RES);
	assert_int_equal(st.ew_n, 299);
	spike_evaluate_state(&a, &s, &st, 300 * RES, &ev);
	assert_true(ev.nbaseline > 0);
	assert_near(ev.baseline_rate, 10);
	assert_near(ev.zscore, 0);
	/* learning the same window end again changes nothing */
	{
		struct spike_state copy = st;

		spike_learn(&a, &s, &st, 300 * RES);
		assert_memory_equal(&copy, &st, sizeof st);
		spike_learn(&a, &s, &st, 100 * RES);	/* backwards */
		assert_memory_equal(&copy, &st, sizeof st);
	}
	/* spike_evaluate without a state: no EWMA baseline */
	spike_evaluate(&a, &s, 300 * RES, &ev);
	assert_int_equal(ev.nbaseline, 0);
}

/* An hour-long spike on 8/12/8/12: excluded, it keeps firing and the
 * baseline stays normal; without exclusion it teaches itself in. */
static void
test_ewma_excludes_spike(void **state)
{
	struct rule_alert	a = ewma_block(86400);
	struct spike_series	s = series(0);
	struct spike_state	st, st2;
	struct spike_eval	ev;
	struct rec		r;
	int64_t			t, T;

	(void)state;
	for (t = 0; t < 400 * RES; t += RES)
		put(t, (t / RES) % 2 ? 12 : 8);
	set(200 * RES, 260 * RES, 100);
	memset(&st, 0, sizeof st);
	memset(&r, 0, sizeof r);
	for (T = RES; T <= 400 * RES; T += RES) {
		assert_true(spike_run(&a, &s, &st, T, T, false, rec_emit, &r,
		    NULL) >= 0);
		if (T > 201 * RES && T <= 260 * RES) {
			spike_evaluate_state(&a, &s, &st, T, &ev);
			assert_int_equal(ev.cond, COND_ZSCORE);
			assert_true(st.firing);
		}
	}
	assert_int_equal(r.n, 2);
	assert_int_equal(r.act[0], SPIKE_FIRE);
	assert_int_equal(r.at[0], 201 * RES);
	assert_int_equal(r.act[1], SPIKE_RESOLVE);
	assert_int_equal(r.at[1], 261 * RES);
	assert_true(fabs(st.ew_mean - 10) < 0.2);
	assert_true(st.ew_var < 5);
	assert_int_equal(st.ew_skip, 0);

	/* exclude so high nothing is excluded: the spike is learned */
	a.exclude = 1e9;
	memset(&st2, 0, sizeof st2);
	assert_true(spike_run(&a, &s, &st2, RES, 400 * RES, false, NULL, NULL,
	    NULL) >= 0);
	assert_true(st2.ew_mean > 20);
	assert_true(st2.ew_var > 100);
}

/* season: a burst that comes back at the same time every period is not
 * an anomaly; one at a new time is; with fewer than 3 earlier periods
 * nothing is held back. */
static void
test_ewma_season(void **state)
{
	struct rule_alert	a = ewma_block(86400);
	struct spike_series	s = series(0);
	struct spike_state	st;
	struct spike_eval	ev;
	int64_t			p;

	(void)state;
	memset(&st, 0, sizeof st);
	st.ew_n = 100;
	st.ew_span = 1000 * RES;
	st.ew_T = 199 * RES;
	st.ew_mean = 10;
	st.ew_var = 4;
	set(0, 200 * RES, 10);
	for (p = 0; p < 10; p++)
		set((p * 20 + 15) * RES, (p * 20 + 16) * RES, 40);
	set(190 * RES, 191 * RES, 40);
	/* without season both bursts are 9.5 deviations above the mean */
	spike_evaluate_state(&a, &s, &st, 196 * RES, &ev);
	assert_int_equal(ev.cond, COND_ZSCORE);
	spike_evaluate_state(&a, &s, &st, 191 * RES, &ev);
	assert_int_equal(ev.cond, COND_ZSCORE);
	a.season = 5;
	a.season_period_s = 20 * RES;
	a.season_lookback = 4;
	spike_evaluate_state(&a, &s, &st, 196 * RES, &ev);
	assert_int_equal(ev.cond, COND_NONE);
	assert_true(ev.zscore > 9);
	spike_evaluate_state(&a, &s, &st, 191 * RES, &ev);
	assert_int_equal(ev.cond, COND_ZSCORE);
	/* a threshold is not held back */
	a.threshold = 30;
	spike_evaluate_state(&a, &s, &st, 196 * RES, &ev);
	assert_int_equal(ev.cond, COND_THRESHOLD);
	a.threshold = -1;
	/* two earlier periods kept: no comparison, the z-score decides */
	s = series(150 * RES);
	spike_evaluate_state(&a, &s, &st, 196 * RES, &ev);
	assert_int_equal(ev.cond, COND_ZSCORE);
	s = series(130 * RES);
	spike_evaluate_state(&a, &s, &st, 196 * RES, &ev);
	assert_int_equal(ev.cond, COND_NONE);
}

/* A change that lasts a halflife becomes the new normal. */
static void
test_ewma_level_shift(void **state)
{
	struct rule_alert	a = ewma_block(10 * RES);
	struct spike_series	s = series(0);
	struct spike_state	st;
	struct rec		r;
	int			i, fires = 0, resolves = 0;

	(void)state;
	fill(0, 100 * RES, 10);
	fill(100 * RES, 400 * RES, 100);
	memset(&st, 0, sizeof st);
	memset(&r, 0, sizeof r);
	assert_true(spike_run(&a, &s, &st, RES, 400 * RES, false, rec_emit, &r,
	    NULL) > 0);
	for (i = 0; i < r.n; i++) {
		fires += r.act[i] == SPIKE_FIRE;
		resolves += r.act[i] == SPIKE_RESOLVE;
	}
	assert_int_equal(fires, 1);
	assert_int_equal(resolves, 1);
	assert_int_equal(r.at[0], 101 * RES);
	assert_true(r.at[1] > 111 * RES && r.at[1] < 200 * RES);
	assert_false(st.firing);
	assert_true(fabs(st.ew_mean - 100) < 1);
}

/* A gap: at most SPIKE_LEARN_MAX windows are learned in one go. */
static void
test_ewma_gap(void **state)
{
	struct rule_alert	a = ewma_block(10 * RES);
	struct spike_series	s = series(0);
	struct spike_state	st;

	(void)state;
	memset(&st, 0, sizeof st);
	assert_int_equal(spike_learn_from(&a, &s, &st, 50 * RES), 49 * RES);
	st.ew_T = 10 * RES;
	st.ew_n = 1;
	assert_int_equal(spike_learn_from(&a, &s, &st, 50 * RES), 11 * RES);
	assert_int_equal(spike_learn_from(&a, &s, &st, 11 * RES), INT64_MAX);
	st.ew_T = -((int64_t)SPIKE_LEARN_MAX * 2) * RES;
	assert_int_equal(spike_learn_from(&a, &s, &st, 50 * RES),
	    (49 - (SPIKE_LEARN_MAX - 1)) * (int64_t)RES);
	a.halflife_s = 0;
	assert_int_equal(spike_learn_from(&a, &s, &st, 50 * RES), INT64_MAX);
}

/* ---- spike_run: the shared stepping loop --------------------------------- */

static void
test_run_matches_loop(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_series	s = series(0);
	struct spike_state	st, st2;
	struct spike_eval	ev;
	struct rec		r;
	int64_t			T0 = 3 * 6000 + 300, T;
	enum spike_action	act;
	int			i, k = 0;

	(void)state;
	a.period_s = 6000;
	a.lookback = 3;
	a.ratio = 3;
	a.min_count = 20;
	a.resolve_after_s = 600;
	fill(0, NB * RES, 2);
	set(T0 + 20 * RES, T0 + 40 * RES, 200);
	set(T0 + 45 * RES, T0 + 60 * RES, 200);
	set(T0 + 78 * RES, T0 + 80 * RES, 200);
	memset(&st, 0, sizeof st);
	memset(&st2, 0, sizeof st2);
	memset(&r, 0, sizeof r);
	assert_int_equal(spike_run(&a, &s, &st, T0, T0 + 99 * RES, false,
	    rec_emit, &r, NULL), 5);
	for (i = 0; i < 100; i++) {
		T = T0 + i * RES;
		spike_evaluate(&a, &s, T, &ev);
		act = spike_step(&a, &st2, &ev);
		if (act == SPIKE_NOTHING)
			continue;
		assert_int_equal(r.act[k], act);
		assert_int_equal(r.at[k], T);
		k++;
	}
	assert_int_equal(k, r.n);
	same_state(&st, &st2);
}

/* emit fails: the block is put back before that window end, and stepping
 * it again from there sends the same notification. */
static void
test_run_emit_fails(void **state)
{
	struct rule_alert	a = ewma_block(10 * RES);
	struct spike_series	s = series(0);
	struct spike_state	st, before;
	struct rec		r;
	int64_t			stopped = 0;

	(void)state;
	fill(0, 200 * RES, 10);
	set(150 * RES, 152 * RES, 500);
	memset(&st, 0, sizeof st);
	memset(&r, 0, sizeof r);
	r.fail_at = 1;
	assert_int_equal(spike_run(&a, &s, &st, RES, 150 * RES, false, rec_emit,
	    &r, NULL), 0);
	before = st;
	assert_int_equal(spike_run(&a, &s, &st, 151 * RES, 200 * RES, false,
	    rec_emit, &r, &stopped), -1);
	assert_int_equal(stopped, 151 * RES);
	assert_memory_equal(&before, &st, sizeof st);
	assert_int_equal(spike_run(&a, &s, &st, stopped, 200 * RES, false,
	    rec_emit, &r, &stopped), 2);
	assert_int_equal(r.act[0], SPIKE_FIRE);
	assert_int_equal(r.at[0], 151 * RES);
	assert_int_equal(r.act[1], SPIKE_RESOLVE);
	/* the same window end again (a window still filling) re-evaluates
	 * and learns nothing twice */
	before = st;
	assert_int_equal(spike_run(&a, &s, &st, 200 * RES, 200 * RES, false,
	    rec_emit, &r, NULL), 0);
	assert_memory_equal(&before, &st, sizeof st);
}

/* While a parent fires, a child's notifications wait; resolves do not. */
static void
test_step_inhibited(void **state)
{
	struct rule_alert	a = block(300);
	struct spike_state	st;
	struct spike_eval	ev;

	(void)state;
	memset(&st, 0, sizeof st);
	ev = at(600, COND_RATIO);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, true),
	    SPIKE_NOTHING);
	assert_true(st.firing);
	assert_false(st.notified);
	ev = at(660, COND_RATIO);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, false), SPIKE_FIRE);
	assert_int_equal(st.notified_at, 660);
	assert_int_equal(st.since, 600);
	/* a repeat is held back too, and not counted as sent */
	ev = at(660 + 1800, COND_RATIO);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, true),
	    SPIKE_NOTHING);
	assert_int_equal(st.notified_at, 660);
	ev = at(660 + 1860, COND_RATIO);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, false),
	    SPIKE_REPEAT);
	/* the announced episode resolves even while inhibited */
	ev = at(660 + 1860 + 300, COND_NONE);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, true),
	    SPIKE_RESOLVE);
	/* an episode held back all along ends silently */
	memset(&st, 0, sizeof st);
	ev = at(600, COND_RATIO);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, true),
	    SPIKE_NOTHING);
	ev = at(900, COND_NONE);
	assert_int_equal(spike_step_inhibited(&a, &st, &ev, true),
	    SPIKE_NOTHING);
	assert_false(st.firing);
}

#define T_(f)	cmocka_unit_test_setup(f, reset)

/* ---- spike_reads: the buckets a step needs ----------------------------- */

struct ranges {
	int64_t	r[8][3];	/* from, to, fresh_from */
	int	n, stop_at;
};

static int
note_range(void *arg, int64_t from, int64_t to, int64_t fresh_from)
{
	struct ranges	*g = arg;

	if (g->n == g->stop_at)
		return -1;
	g->r[g->n][0] = from;
	g->r[g->n][1] = to;
	g->r[g->n][2] = fresh_from;
	g->n++;
	return 0;
}

#define assert_range(g, i, f, t, fr) do {				\
	assert_int_equal((g)->r[i][0], (f));				\
	assert_int_equal((g)->r[i][1], (t));				\
	assert_int_equal((g)->r[i][2], (fr));				\
} while (0)

static void
test_reads(void **state)
{
	struct rule_alert	a;
	struct spike_series	s = { RES, 0, arr_count, &A, NULL, NULL, NULL, NULL, NULL };
	struct spike_state	st;
	struct ranges		g;
	int64_t			T0 = 100 * RES, T1 = 110 * RES, w = 5 * RES;

	(void)state;
	memset(&st, 0, sizeof st);
	/* plain: the windows stepped, then the baseline before the first */
	a = block(w);
	a.baseline_s = 20 * RES;
	memset(&g, 0, sizeof g);
	g.stop_at = -1;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), 0);
	assert_int_equal(g.n, 2);
	assert_range(&g, 0, T0 - w, T1, T0 - w);
	assert_range(&g, 1, T0 - w - 20 * RES, T0 - w, INT64_MAX);
	/* seasonal: the same windows one and two periods back */
	a = block(w);
	a.period_s = 30 * RES;
	a.lookback = 2;
	memset(&g, 0, sizeof g);
	g.stop_at = -1;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), 0);
	assert_int_equal(g.n, 3);
	assert_range(&g, 1, T0 - 30 * RES - w, T1 - 30 * RES, INT64_MAX);
	assert_range(&g, 2, T0 - 60 * RES - w, T1 - 60 * RES, INT64_MAX);
	/* EWMA, nothing learned: the window before T0 onwards; learned up
	 * to long ago: from the first window not learned */
	a = block(w);
	a.halflife_s = 60 * RES;
	memset(&g, 0, sizeof g);
	g.stop_at = -1;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), 0);
	assert_int_equal(g.n, 2);
	assert_range(&g, 1, T0 - 2 * w, T1 - w, T0 - w);
	st.ew_n = 10;
	st.ew_span = 10 * RES;
	st.ew_T = T0 - 40 * RES;
	memset(&g, 0, sizeof g);
	g.stop_at = -1;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), 0);
	assert_range(&g, 1, T0 - 39 * RES - w, T1 - w, T0 - w);
	/* EWMA with season: also the windows stepped one, two and three
	 * season periods back */
	a.season = 10;
	a.season_period_s = 30 * RES;
	a.season_lookback = 3;
	memset(&g, 0, sizeof g);
	g.stop_at = -1;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), 0);
	assert_int_equal(g.n, 5);
	assert_range(&g, 1, T0 - 39 * RES - w, T1 - w, T0 - w);
	assert_range(&g, 2, T0 - 30 * RES - w, T1 - 30 * RES, INT64_MAX);
	assert_range(&g, 4, T0 - 90 * RES - w, T1 - 90 * RES, INT64_MAX);
	memset(&g, 0, sizeof g);
	g.stop_at = 3;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), -1);
	a.season = 0;
	/* the reader stops it */
	memset(&g, 0, sizeof g);
	g.stop_at = 1;
	assert_int_equal(spike_reads(&a, &s, &st, T0, T1, note_range, &g), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_cond_names),
		T_(test_reads),
		T_(test_window_edges),
		T_(test_window_one_bucket),
		T_(test_window_unaligned_T),
		T_(test_window_not_multiple),
		T_(test_window_before_history),
		T_(test_negative_counts_ignored),
		T_(test_plain_baseline),
		T_(test_plain_baseline_floor),
		T_(test_plain_baseline_one_bucket),
		T_(test_seasonal_baseline),
		T_(test_seasonal_history),
		T_(test_seasonal_unaligned_period),
		T_(test_history_start_plain),
		T_(test_no_baseline),
		T_(test_fresh_start_no_alarm),
		T_(test_empty_baseline_min_count),
		T_(test_min_count_zero_is_one),
		T_(test_threshold_alone),
		T_(test_guards),
		T_(test_ratio_exact),
		T_(test_zscore_noisy),
		T_(test_zscore_stddev),
		T_(test_cond_order),
		T_(test_cond_or),
		T_(test_unset_is_negative),
		T_(test_extremes),
		T_(test_step_zero_state),
		T_(test_step_fire_once_cooldown_repeat),
		T_(test_step_resolve),
		T_(test_step_resolve_grace),
		T_(test_step_defaults),
		T_(test_step_cooldown_zero),
		T_(test_step_new_episode_cooldown),
		T_(test_step_backwards),
		T_(test_sustained_burst),
		T_(test_poisson_math),
		T_(test_poisson_condition),
		T_(test_ewma_steady),
		T_(test_ewma_excludes_spike),
		T_(test_ewma_season),
		T_(test_ewma_level_shift),
		T_(test_ewma_gap),
		T_(test_run_matches_loop),
		T_(test_run_emit_fails),
		T_(test_step_inhibited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
