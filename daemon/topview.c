/*
 * topview.c — every topic's current window, read from Redis in bulk.
 *
 * DESIGN: a reader for `tidewatch top` and the web view (web_api.c); it
 * holds nothing between calls.  topview_read() takes the stored state of
 * every block of every topic in one pipelined read, asks the detector's
 * arithmetic (spike_learn_from, spike_reads) which buckets the evaluated
 * block needs at T, adds the recent span the caller draws, reads all of
 * those spans in one pipelined pass (store_read_spans) into a sparse
 * series per topic, and evaluates the block at T with spike_learn and
 * spike_evaluate_state on a copy of its stored state: count, baseline and
 * ratio are what the detector computes for that window, for every kind of
 * baseline.  A state more than an hour behind T is used as it is (no
 * detector is stepping).  Reads are clamped to the first bucket ever
 * counted and to TOPVIEW_MAX_READ seconds per span.  Runs on the caller's
 * thread with the caller's store.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "spike.h"
#include "store.h"
#include "topview.h"
#include "xmalloc.h"

#define STALE_S	3600

/* The spans to read, each for the topic at index item. */
struct span_list {
	struct store_span	*v;
	size_t			*item;
	size_t			 n, cap, icap;
	size_t			 cur;		/* the topic being planned */
	int64_t			 since;
	int64_t			 res;
};

static void
span_list_add(struct span_list *sl, const char *topic, int64_t from,
    int64_t to)
{
	if (sl->since != INT64_MAX && from < sl->since)
		from = sl->since - sl->since % sl->res;
	if (from < to - TOPVIEW_MAX_READ)
		from = to - TOPVIEW_MAX_READ;
	if (to <= from)
		return;
	sl->v = xgrow(sl->v, &sl->cap, sl->n + 1, sizeof *sl->v);
	sl->item = xgrow(sl->item, &sl->icap, sl->n + 1, sizeof *sl->item);
	memset(&sl->v[sl->n], 0, sizeof sl->v[sl->n]);
	sl->v[sl->n].topic = topic;
	sl->v[sl->n].from = from;
	sl->v[sl->n].to = to;
	sl->item[sl->n++] = sl->cur;
}

/* Reads every span planned into the counts of v[item]. */
static int
span_list_read(struct store *s, int64_t res, struct span_list *sl,
    struct topview *v)
{
	size_t i;

	if (store_read_spans(s, res, sl->v, sl->n) == -1)
		return -1;
	for (i = 0; i < sl->n; i++)
		sparse_replace(&v[sl->item[i]].counts, sl->v[i].from,
		    sl->v[i].to, sl->v[i].pts, sl->v[i].n);
	return 0;
}

static void
span_list_free(struct span_list *sl)
{
	size_t i;

	for (i = 0; i < sl->n; i++)
		free(sl->v[i].pts);
	free(sl->v);
	free(sl->item);
}

struct plan_ctx {
	struct span_list	*sl;
	const char		*topic;
};

/* spike_range_fn: notes a span the block reads. */
static int
plan_range(void *arg, int64_t from, int64_t to, int64_t fresh_from)
{
	struct plan_ctx *pc = arg;

	(void)fresh_from;	/* every span is read afresh */
	span_list_add(pc->sl, pc->topic, from, to);
	return 0;
}

int
topview_frame_end(struct store *s, const char *group, int64_t res,
    int64_t now, int64_t *T, int64_t *since)
{
	int64_t wm;

	*since = INT64_MAX;
	if (store_get_watermark(s, group, &wm, NULL) == -1 ||
	    store_get_since(s, since) == -1)
		return -1;
	if (wm >= 0)
		*T = (wm / 1000) / res * res + res;
	else
		*T = now - now % res + res;
	return 0;
}

/* The series over v's counts as the detector sees them. */
static void
series_of(struct topview *v, int64_t res, int64_t since,
    struct spike_series *ser)
{
	memset(ser, 0, sizeof *ser);
	sparse_series(&v->counts, ser);
	ser->resolution_s = res;
	ser->history_start = since != INT64_MAX ? since : INT64_MIN;
}

/* Reads the block states of v[0..n): *st gets each topic's block 0 (zero
 * when it has none). */
static int
read_states(struct store *s, struct topview *v, size_t n,
    struct spike_state *st)
{
	const char **ids = xcalloc(n + 1, sizeof *ids);
	size_t *nb = xcalloc(n + 1, sizeof *nb), total = 0, off, i, b;
	struct spike_state *all;
	int64_t *last_T;
	bool *found;
	int rc;

	for (i = 0; i < n; i++) {
		ids[i] = v[i].id;
		nb[i] = v[i].nblocks;
		total += nb[i];
	}
	all = xcalloc(total + 1, sizeof *all);
	last_T = xcalloc(total + 1, sizeof *last_T);
	found = xcalloc(total + 1, sizeof *found);
	rc = store_get_states_multi(s, ids, nb, n, all, last_T, found);
	for (i = 0, off = 0; i < n && rc == 0; off += nb[i], i++) {
		memset(&st[i], 0, sizeof st[i]);
		v[i].firing = v[i].stated = false;
		for (b = 0; b < nb[i]; b++) {
			if (!found[off + b])
				continue;
			v[i].stated = true;
			v[i].firing = v[i].firing || all[off + b].firing;
		}
		if (nb[i] > 0 && found[off])
			st[i] = all[off];
	}
	free(ids);
	free(nb);
	free(all);
	free(last_T);
	free(found);
	return rc;
}

int
topview_read(struct store *s, int64_t res, int64_t since, int64_t T,
    int64_t recent_s, struct topview *v, size_t n)
{
	struct spike_state *st = xcalloc(n + 1, sizeof *st);
	struct span_list sl;
	struct spike_series ser;
	struct spike_eval ev;
	struct plan_ctx pc;
	size_t i;
	int64_t E;
	int rc = -1;

	memset(&sl, 0, sizeof sl);
	sl.since = since;
	sl.res = res;
	for (i = 0; i < n; i++)
		sparse_init(&v[i].counts);
	if (read_states(s, v, n, st) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		sl.cur = i;
		span_list_add(&sl, v[i].id, T - recent_s, T);
		series_of(&v[i], res, since, &ser);
		E = spike_learn_from(v[i].a, &ser, &st[i], T);
		if (E != INT64_MAX && E < T - STALE_S && st[i].ew_n > 0)
			st[i].ew_T = T - v[i].a->window_s;	/* stale */
		pc.sl = &sl;
		pc.topic = v[i].id;
		if (spike_reads(v[i].a, &ser, &st[i], T, T, plan_range,
		    &pc) == -1)
			goto out;
	}
	if (span_list_read(s, res, &sl, v) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		series_of(&v[i], res, since, &ser);
		spike_learn(v[i].a, &ser, &st[i], T);
		spike_evaluate_state(v[i].a, &ser, &st[i], T, &ev);
		v[i].count = ev.count;
		v[i].baseline = ev.nbaseline > 0 ? ev.baseline_rate : -1;
		v[i].ratio = ev.nbaseline > 0 ? ev.ratio : NAN;
		v[i].met = ev.cond != COND_NONE;
	}
	rc = 0;
out:
	span_list_free(&sl);
	free(st);
	return rc;
}

static const struct topview *order_base;

static int
order_cmp(const void *pa, const void *pb)
{
	const struct topview *x = &order_base[*(const size_t *)pa];
	const struct topview *y = &order_base[*(const size_t *)pb];

	if (isnan(x->ratio) != isnan(y->ratio))
		return isnan(x->ratio) ? 1 : -1;
	if (!isnan(x->ratio) && x->ratio != y->ratio)
		return x->ratio > y->ratio ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* qsort has no context argument: order_base is set for the one sort (a
 * mutex makes it safe from any thread). */
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;

void
topview_order(const struct topview *v, size_t n, size_t *idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		idx[i] = i;
	pthread_mutex_lock(&order_mu);
	order_base = v;
	qsort(idx, n, sizeof *idx, order_cmp);
	order_base = NULL;
	pthread_mutex_unlock(&order_mu);
}

void
topview_points(const struct rule_alert *a, const struct spike_series *ser,
    int64_t from, int64_t step, size_t n, struct topview_point *out)
{
	struct spike_state st;
	struct spike_eval ev;
	size_t k;

	memset(&st, 0, sizeof st);
	for (k = 0; k < n; k++) {
		int64_t T = from + (int64_t)(k + 1) * step;

		spike_learn(a, ser, &st, T);
		spike_evaluate_state(a, ser, &st, T, &ev);
		out[k].t = T;
		out[k].count = ev.count;
		out[k].mean = ev.nbaseline > 0 ? ev.baseline_rate : NAN;
		out[k].sd = ev.nbaseline > 0 ? ev.stddev : NAN;
	}
}

int
topview_series(struct store *s, int64_t res, int64_t since,
    const char *id, const struct rule_alert *a, int64_t from, int64_t step,
    size_t n, struct topview_point *out)
{
	struct topview v;
	struct spike_state st;
	struct span_list sl;
	struct spike_series ser;
	struct plan_ctx pc;
	int rc = -1;

	if (n == 0)
		return 0;
	memset(&v, 0, sizeof v);
	memset(&st, 0, sizeof st);
	memset(&sl, 0, sizeof sl);
	sparse_init(&v.counts);
	sl.since = since;
	sl.res = res;
	span_list_add(&sl, id, from, from + (int64_t)n * step);
	series_of(&v, res, since, &ser);
	pc.sl = &sl;
	pc.topic = id;
	if (spike_reads(a, &ser, &st, from + step, from + (int64_t)n * step,
	    plan_range, &pc) == -1 || span_list_read(s, res, &sl, &v) == -1)
		goto out;
	series_of(&v, res, since, &ser);
	topview_points(a, &ser, from, step, n, out);
	rc = 0;
out:
	span_list_free(&sl);
	sparse_clear(&v.counts);
	return rc;
}

void
topview_plain_block(struct rule_alert *a)
{
	memset(a, 0, sizeof *a);
	a->window_s = 300;
	a->baseline_s = 3600;
	a->min_count = 1;
	a->threshold = a->ratio = a->zscore = -1;
	a->cooldown_s = a->resolve_after_s = -1;
}

void
topview_clear(struct topview *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sparse_clear(&v[i].counts);
}
