/*
 * backtest.c — counts in memory and the daemon's detection over them.
 *
 * DESIGN.  A backtest holds, per topic, the prefix sums of its counts over
 * the buckets [b0, b0 + nb*res) (so a window is two reads), its keyword and
 * count_by entries sorted by bucket, and its sample posts newest first
 * (one per JSON, as the store's sorted set keeps them);
 * they come from a merged aggregate (backtest_add_agg: the strings stay the
 * aggregate's) or from a count series (backtest_add_series).  Detection is
 * the daemon's: watch_step() steps every topic with alert blocks through
 * every window end once, in time order, each topic after those that
 * inhibit it; an action becomes an alert through alert_make() with this
 * file's evidence source (the same limits as the daemon's), and a new
 * alert of a topic with group_wait is held through alert_group_*() in an
 * array instead of the daemon's Redis hash (the end of the data ends the
 * wait).  What is shown, and how, is the caller's (struct backtest_out).
 * Distinct authors and texts are HyperLogLogs per topic and hour (hll.c,
 * counting as Redis does) fed with the aggregate's distinct elements as
 * the store would PFADD them, so guards and alerts count what the daemon
 * counts.  Times: the counts are in bucket time; what is shown is moved by the
 * caller's offset (a series whose rows do not start on a bucket boundary).
 * One thread; no I/O.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backtest.h"
#include "hll.h"
#include "spike.h"
#include "textkey.h"
#include "strmap.h"
#include "watch.h"
#include "xmalloc.h"

#define BACKTEST_MAX_CELLS	(INT64_C(64) * 1024 * 1024)	/* buckets × topics */

/* A keyword or count_by entry of one bucket. */
struct kwent {
	int64_t		 bucket;
	const char	*aux, *aux2;	/* keyword; or field, value */
	int64_t		 count;
	int		 kind;
};

/* The distinct authors and texts of one topic and hour. */
struct thour {
	int64_t		hour;
	struct hll	h[2];		/* by enum agg_distinct_kind */
};

/* One topic's counts: prefix sums over [b0, b0 + nb*res), and its evidence
 * entries sorted by bucket. */
struct tcounts {
	struct thour		*hours;		/* sorted by hour */
	size_t			 nhours, caphours;
	int64_t			*pre;		/* pre[i] = sum of buckets < i */
	struct kwent		*ev;
	size_t			 nev, capev;
	const struct agg_sample	**samples;
	size_t			 nsamples, capsamples;
	struct backtest_topic	 out;
	int64_t			 b0, res, nb;	/* the backtest's, for the
						 * series callbacks */
};

/* A held alert (group_wait). */
struct held {
	char	*id;
	char	*line;
};

struct backtest {
	const struct ruleset	*rs;
	struct strmap		 ids;		/* topic id → index in rs */
	int64_t			 res, b0, nb;
	struct tcounts		*tc;		/* per topic */
	/* during detection */
	const struct backtest_out *out;
	int64_t			 offset;
	struct alert_group	 group;
	struct held		*held;
	size_t			 nheld, capheld;
	int64_t			 held_since, held_wall, held_wait;
	size_t			 nalerts, ndigests;
	const struct normalizer	*norm;		/* text keys; NULL: none */
	struct textkey_scratch	 tks;
};

struct backtest *
backtest_new(const struct ruleset *rs, int64_t res)
{
	struct backtest *bt = xcalloc(1, sizeof *bt);
	size_t i;

	bt->rs = rs;
	bt->res = res > 0 ? res : 1;
	bt->tc = xcalloc(rs->ntopics + 1, sizeof *bt->tc);
	for (i = rs->ntopics; i > 0; i--)	/* the first of equal ids wins */
		if (rs->topics[i - 1].id != NULL)
			strmap_put(&bt->ids, rs->topics[i - 1].id, i - 1);
	return bt;
}

static void
held_forget(struct backtest *bt)
{
	size_t i;

	for (i = 0; i < bt->nheld; i++) {
		free(bt->held[i].id);
		free(bt->held[i].line);
	}
	bt->nheld = 0;
}

void
backtest_free(struct backtest *bt)
{
	size_t i, j;

	if (bt == NULL)
		return;
	for (i = 0; i < bt->rs->ntopics; i++) {
		free(bt->tc[i].pre);
		free(bt->tc[i].ev);
		free(bt->tc[i].samples);
		for (j = 0; j < bt->tc[i].nhours; j++) {
			hll_clear(&bt->tc[i].hours[j].h[0]);
			hll_clear(&bt->tc[i].hours[j].h[1]);
		}
		free(bt->tc[i].hours);
	}
	free(bt->tc);
	strmap_free(&bt->ids);
	textkey_scratch_free(&bt->tks);
	held_forget(bt);
	free(bt->held);
	free(bt);
}

const struct backtest_topic *
backtest_topic(const struct backtest *bt, size_t ti)
{
	return &bt->tc[ti].out;
}

size_t
backtest_nalerts(const struct backtest *bt)
{
	return bt->nalerts;
}

size_t
backtest_ndigests(const struct backtest *bt)
{
	return bt->ndigests;
}

/* ---- counts ------------------------------------------------------------ */

static int64_t
bucket_index(const struct tcounts *tc, int64_t t)
{
	int64_t i = (t - tc->b0) / tc->res;

	if (t < tc->b0)
		return 0;
	return i > tc->nb ? tc->nb : i;
}

static int64_t
series_sum(void *arg, int64_t from, int64_t to)
{
	const struct tcounts *tc = arg;

	return tc->pre[bucket_index(tc, to)] - tc->pre[bucket_index(tc, from)];
}

static int64_t
series_count(void *arg, int64_t b)
{
	return series_sum(arg, b, b + ((const struct tcounts *)arg)->res);
}

static int
cmp_kwent(const void *a, const void *b)
{
	const struct kwent *x = a, *y = b;

	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* Newest first, as the store returns them (agg_sample_cmp, descending). */
static int
cmp_sample_newest(const void *a, const void *b)
{
	const struct agg_sample *x = *(const struct agg_sample *const *)a;
	const struct agg_sample *y = *(const struct agg_sample *const *)b;

	return agg_sample_cmp(y->time_ms, y->json, y->json_len, x->time_ms,
	    x->json, x->json_len);
}

static int
cmp_sample_json(const void *a, const void *b)
{
	const struct agg_sample *x = *(const struct agg_sample *const *)a;
	const struct agg_sample *y = *(const struct agg_sample *const *)b;

	return agg_sample_cmp(0, x->json, x->json_len, 0, y->json, y->json_len);
}

/* A topic's samples as the store's sorted set holds them: one per JSON,
 * at its latest time (ZADD GT), newest first. */
static void
order_samples(struct tcounts *tc)
{
	size_t i, n = 0;

	qsort(tc->samples, tc->nsamples, sizeof *tc->samples, cmp_sample_json);
	for (i = 0; i < tc->nsamples; i++) {
		const struct agg_sample *s = tc->samples[i];

		if (n > 0 && cmp_sample_json(&tc->samples[n - 1], &s) == 0) {
			if (s->time_ms > tc->samples[n - 1]->time_ms)
				tc->samples[n - 1] = s;
			continue;
		}
		tc->samples[n++] = s;
	}
	tc->nsamples = n;
	qsort(tc->samples, n, sizeof *tc->samples, cmp_sample_newest);
}

/* The index of topic id in the rule set (ntopics: none).  Topic ids are
 * interned in the aggregate: *last and *ti remember the last one. */
static size_t
topic_index(const struct backtest *bt, const char *id, const char **last,
    size_t *ti)
{
	if (id != *last) {
		*last = id;
		*ti = strmap_get(&bt->ids, id);
		if (*ti == STRMAP_NONE)
			*ti = bt->rs->ntopics;
	}
	return *ti;
}

/* The range of buckets counted; -1 if it is too long for memory. */
static int
agg_span(struct backtest *bt, const struct agg_entry *e, size_t ne,
    char *err, size_t errsz)
{
	const struct ruleset *rs = bt->rs;
	int64_t bmin = INT64_MAX, bmax = INT64_MIN;
	size_t i, cells = 0;

	for (i = 0; i < ne; i++) {
		if (e[i].kind != AGG_COUNT)
			continue;
		if (e[i].bucket < bmin)
			bmin = e[i].bucket;
		if (e[i].bucket > bmax)
			bmax = e[i].bucket;
	}
	bt->b0 = bmin <= bmax ? bmin : 0;
	bt->nb = bmin <= bmax ? (bmax - bmin) / bt->res + 1 : 0;
	for (i = 0; i < rs->ntopics; i++)
		if (rs->topics[i].nalerts > 0)
			cells++;
	if (bt->nb > 0 && cells > 0 &&
	    bt->nb > BACKTEST_MAX_CELLS / (int64_t)cells) {
		snprintf(err, errsz, "the posts span %" PRId64 " buckets of %"
		    PRId64 "s: too long for %zu topics with alerts (set a "
		    "coarser counters.resolution with -c)", bt->nb, bt->res,
		    cells);
		return -1;
	}
	return 0;
}

/* One count, keyword or count_by entry of the aggregate. */
static void
add_entry(struct backtest *bt, size_t ti, const struct agg_entry *x)
{
	struct tcounts *tc = &bt->tc[ti];

	if (x->kind == AGG_COUNT) {
		tc->out.posts += x->count;
		if (bt->rs->topics[ti].nalerts == 0)
			return;
		if (tc->pre == NULL)
			tc->pre = xcalloc((size_t)bt->nb + 1, sizeof *tc->pre);
		tc->pre[(x->bucket - bt->b0) / bt->res + 1] += x->count;
		return;
	}
	tc->ev = xgrow(tc->ev, &tc->capev, tc->nev + 1, sizeof *tc->ev);
	tc->ev[tc->nev].bucket = x->bucket;
	tc->ev[tc->nev].aux = x->aux;
	tc->ev[tc->nev].aux2 = x->aux2;
	tc->ev[tc->nev].count = x->count;
	tc->ev[tc->nev++].kind = (int)x->kind;
}

/* Prefix sums, and evidence in time order. */
static void
finish_counts(struct backtest *bt)
{
	size_t i;
	int64_t k;

	for (i = 0; i < bt->rs->ntopics; i++) {
		struct tcounts *tc = &bt->tc[i];

		if (tc->pre != NULL)
			for (k = 1; k <= bt->nb; k++)
				tc->pre[k] += tc->pre[k - 1];
		if (tc->nev > 0)
			qsort(tc->ev, tc->nev, sizeof *tc->ev, cmp_kwent);
		if (tc->nsamples > 0)
			order_samples(tc);
	}
}

/* The hour h of tc, added when missing. */
static struct thour *
hour_of(struct tcounts *tc, int64_t h)
{
	size_t a = 0, b = tc->nhours, m;

	while (a < b) {
		m = a + (b - a) / 2;
		if (tc->hours[m].hour < h)
			a = m + 1;
		else
			b = m;
	}
	if (a < tc->nhours && tc->hours[a].hour == h)
		return &tc->hours[a];
	tc->hours = xgrow(tc->hours, &tc->caphours, tc->nhours + 1,
	    sizeof *tc->hours);
	memmove(tc->hours + a + 1, tc->hours + a, (tc->nhours - a) *
	    sizeof *tc->hours);
	memset(&tc->hours[a], 0, sizeof tc->hours[a]);
	tc->hours[a].hour = h;
	tc->nhours++;
	return &tc->hours[a];
}

/* Each distinct element into its topic's hour, as the store PFADDs it
 * (8 bytes, little-endian). */
static void
add_distincts(struct backtest *bt, const struct agg *a)
{
	const struct agg_distinct *d;
	const char *last = NULL;
	size_t nd, i, k, ti = bt->rs->ntopics;
	unsigned char b[8];

	d = agg_distincts(a, &nd);
	for (i = 0; i < nd; i++) {
		if (topic_index(bt, d[i].topic, &last, &ti) == bt->rs->ntopics)
			continue;
		for (k = 0; k < 8; k++)
			b[k] = (unsigned char)(d[i].elem >> (8 * k));
		hll_add(&hour_of(&bt->tc[ti], d[i].hour)->h[d[i].kind], b, 8);
	}
}

int
backtest_add_agg(struct backtest *bt, const struct agg *a, char *err,
    size_t errsz)
{
	const struct ruleset *rs = bt->rs;
	const struct agg_entry *e;
	const struct agg_sample *sm;
	const char *last = NULL;
	size_t ne, nsm, i, ti = rs->ntopics;

	e = agg_entries(a, &ne);
	if (agg_span(bt, e, ne, err, errsz) == -1)
		return -1;
	for (i = 0; i < ne; i++) {
		if (e[i].kind != AGG_COUNT && e[i].kind != AGG_KEYWORD &&
		    e[i].kind != AGG_BY)
			continue;
		if (topic_index(bt, e[i].topic, &last, &ti) < rs->ntopics)
			add_entry(bt, ti, &e[i]);
	}
	add_distincts(bt, a);
	sm = agg_samples(a, &nsm);
	last = NULL;
	for (i = 0; i < nsm; i++) {
		struct tcounts *tc;

		if (topic_index(bt, sm[i].topic, &last, &ti) == rs->ntopics)
			continue;
		tc = &bt->tc[ti];
		tc->samples = xgrow(tc->samples, &tc->capsamples,
		    tc->nsamples + 1, sizeof *tc->samples);
		tc->samples[tc->nsamples++] = &sm[i];
	}
	finish_counts(bt);
	return 0;
}

void
backtest_add_series(struct backtest *bt, size_t ti, int64_t b0,
    const int64_t *counts, int64_t nb)
{
	struct tcounts *tc = &bt->tc[ti];
	int64_t i;

	bt->b0 = b0;
	bt->nb = nb;
	tc->pre = xcalloc((size_t)nb + 1, sizeof *tc->pre);
	for (i = 0; i < nb; i++) {
		tc->pre[i + 1] = tc->pre[i] + counts[i];
		tc->out.posts += counts[i];
	}
}

/* ---- evidence ---------------------------------------------------------- */

/* The first entry at or after bucket from. */
static size_t
first_entry(const struct tcounts *tc, int64_t from)
{
	struct kwent key;
	size_t a = 0, b = tc->nev, m;

	key.bucket = from;
	while (a < b) {
		m = a + (b - a) / 2;
		if (cmp_kwent(&tc->ev[m], &key) < 0)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

/* The n largest of acc, by count then name, into out. */
struct acc {
	const char	*name;		/* interned; NULL once taken */
	int64_t		 count;
};

static void
take_largest(struct acc *acc, size_t nacc, size_t n, struct alert_top *out)
{
	size_t i, j;

	out->names = xcalloc(n + 1, sizeof *out->names);
	out->counts = xcalloc(n + 1, sizeof *out->counts);
	for (i = 0; i < n; i++) {
		size_t best = nacc;

		for (j = 0; j < nacc; j++) {
			if (acc[j].name == NULL)
				continue;
			if (best == nacc || alert_top_cmp(acc[j].count,
			    acc[j].name, acc[best].count, acc[best].name) < 0)
				best = j;
		}
		if (best == nacc)
			break;
		out->names[i] = xstrdup(acc[best].name);
		out->counts[i] = acc[best].count;
		acc[best].name = NULL;
		out->n++;
	}
}

/* Top n (name, count) of entries of kind k (and field f, interned) in
 * [from, to). */
static void
top_of(const struct tcounts *tc, int kind, const char *field, int64_t from,
    int64_t to, size_t n, struct alert_top *out)
{
	const struct kwent *lo;
	struct acc *acc = NULL;
	size_t nacc = 0, cap = 0, j;

	memset(out, 0, sizeof *out);
	if (tc->nev == 0)
		return;
	for (lo = &tc->ev[first_entry(tc, from)];
	    lo < tc->ev + tc->nev && lo->bucket < to; lo++) {
		const char *name = kind == AGG_KEYWORD ? lo->aux : lo->aux2;

		if (lo->kind != kind || (field != NULL && lo->aux != field))
			continue;
		for (j = 0; j < nacc; j++)
			if (acc[j].name == name)	/* interned */
				break;
		if (j == nacc) {
			acc = xgrow(acc, &cap, nacc + 1, sizeof *acc);
			acc[nacc].name = name;
			acc[nacc++].count = 0;
		}
		acc[j].count += lo->count;
	}
	take_largest(acc, nacc, n, out);
	free(acc);
}

/* alert_evidence.top over the entries (times shown: less the offset). */
static int
evidence_top(void *arg, const struct rule_topic *t, const char *field,
    int64_t from, int64_t to, size_t max, struct alert_top *out)
{
	struct backtest *bt = arg;
	const struct tcounts *tc = &bt->tc[t - bt->rs->topics];
	const char *f = NULL;
	size_t j;

	from -= bt->offset;
	to -= bt->offset;
	if (field == NULL) {
		top_of(tc, AGG_KEYWORD, NULL, from, to, max, out);
		return 0;
	}
	/* the interned field name, as the entries hold it */
	for (j = 0; j < tc->nev && f == NULL; j++)
		if (tc->ev[j].kind == AGG_BY &&
		    strcmp(tc->ev[j].aux, field) == 0)
			f = tc->ev[j].aux;
	if (f != NULL)
		top_of(tc, AGG_BY, f, from, to, max, out);
	return 0;
}

/* alert_evidence.samples: the window's newest posts, as the store gives
 * them. */
static int
evidence_samples(void *arg, const struct rule_topic *t, int64_t from,
    int64_t to, size_t max, char ***json, size_t *n)
{
	struct backtest *bt = arg;
	const struct tcounts *tc = &bt->tc[t - bt->rs->topics];
	size_t i;

	from -= bt->offset;
	to -= bt->offset;
	*json = xcalloc(max + 1, sizeof **json);
	*n = 0;
	for (i = 0; i < tc->nsamples && *n < max; i++) {
		const struct agg_sample *s = tc->samples[i];

		if (s->bucket >= from && s->bucket < to)
			(*json)[(*n)++] = xstrndup(s->json, s->json_len);
	}
	return 0;
}

static int64_t
hour_floor(int64_t t)
{
	return t - ((t % 3600) + 3600) % 3600;
}

/* Authors, texts and posts of the whole hours [from, to) touches. */
static int
tc_distinct(void *arg, int64_t from, int64_t to, int64_t out[3])
{
	const struct tcounts *tc = arg;
	const struct hll **v = xcalloc(tc->nhours + 1, sizeof *v);
	int64_t lo = hour_floor(from), hi = to <= lo ? lo : hour_floor(to - 1) +
	    3600;
	size_t i, k, n;

	for (k = 0; k < 2; k++) {
		for (i = n = 0; i < tc->nhours; i++)
			if (tc->hours[i].hour >= lo && tc->hours[i].hour < hi)
				v[n++] = &tc->hours[i].h[k];
		out[k] = (int64_t)hll_count(v, n);
	}
	free(v);
	out[2] = tc->pre != NULL ? series_sum(arg, lo, hi) : 0;
	return 0;
}

/* alert_evidence.distinct (times shown: less the offset). */
static int
evidence_distinct(void *arg, const struct rule_topic *t, int64_t from,
    int64_t to, int64_t out[3])
{
	struct backtest *bt = arg;

	return tc_distinct(&bt->tc[t - bt->rs->topics], from - bt->offset,
	    to - bt->offset, out);
}

/* alert_evidence.text_key, with the posts' normaliser. */
static uint64_t
evidence_text_key(void *arg, const char *text, size_t len)
{
	struct backtest *bt = arg;
	uint64_t k = 0;

	if (bt->norm != NULL)
		(void)textkey_of_text(bt->norm, text, len, &bt->tks, &k);
	return k;
}

static const struct alert_evidence evidence = {
	.top = evidence_top,
	.samples = evidence_samples,
	.distinct = evidence_distinct,
	.text_key = evidence_text_key,
};

void
backtest_set_normalizer(struct backtest *bt, const struct normalizer *norm)
{
	bt->norm = norm;
}

/* ---- group_wait: held in an array ---------------------------------------- */

static int
held_add(void *arg, const char *id, const char *line, int64_t window_end,
    int64_t wall_ms, int64_t wait_s)
{
	struct backtest *bt = arg;
	size_t i;

	for (i = 0; i < bt->nheld; i++)
		if (strcmp(bt->held[i].id, id) == 0)
			return 0;
	if (bt->nheld == 0) {
		bt->held_since = window_end;
		bt->held_wall = wall_ms;
		bt->held_wait = wait_s;
	} else if (wait_s < bt->held_wait)
		bt->held_wait = wait_s;
	bt->held = xgrow(bt->held, &bt->capheld, bt->nheld + 1,
	    sizeof *bt->held);
	bt->held[bt->nheld].id = xstrdup(id);
	bt->held[bt->nheld++].line = xstrdup(line);
	return 1;
}

static int
held_list(void *arg, struct alert_held *h)
{
	struct backtest *bt = arg;
	size_t i;

	memset(h, 0, sizeof *h);
	h->since = bt->held_since;
	h->wall_ms = bt->held_wall;
	h->wait_s = bt->held_wait;
	h->items = xcalloc(bt->nheld + 1, sizeof *h->items);
	for (i = 0; i < bt->nheld; i++) {
		h->items[i].id = xstrdup(bt->held[i].id);
		h->items[i].json = xstrdup(bt->held[i].line);
	}
	h->n = bt->nheld;
	return 0;
}

static int
held_send(void *arg, const struct alert_held *h, const char *digest_id)
{
	struct backtest *bt = arg;

	bt->out->digest(bt->out->arg, digest_id, h);
	bt->nalerts += h->n;
	bt->ndigests++;
	held_forget(bt);
	return (int)h->n;
}

static const struct alert_held_ops held_ops = {
	.add = held_add,
	.list = held_list,
	.send = held_send,
};

/* ---- detection --------------------------------------------------------- */

static int
emit_action(void *arg, size_t i, size_t b, enum spike_action act,
    const struct spike_eval *ev0)
{
	struct backtest *bt = arg;
	const struct rule_topic *t = &bt->rs->topics[i];
	struct backtest_topic *o = &bt->tc[i].out;
	struct spike_eval ev = *ev0;
	struct alert al;
	char *line;

	if (act == SPIKE_FIRE)
		o->fired++;
	else if (act == SPIKE_REPEAT)
		o->repeats++;
	else if (act == SPIKE_RESOLVE)
		o->resolved++;
	ev.window_start += bt->offset;
	ev.window_end += bt->offset;
	alert_make(&al, t, b, act, &ev, ev.window_end * 1000, &evidence, bt);
	line = bt->out->line(bt->out->arg, &al);
	if (alert_group_waits(&al))
		(void)alert_group_hold(&bt->group, &al, line);
	else {
		bt->out->alert(bt->out->arg, line);
		bt->nalerts++;
	}
	free(line);
	alert_clear(&al);
	return 0;
}

/* After each window end: group_wait, in the posts' time alone. */
static int
after_window_end(void *arg, int64_t T)
{
	struct backtest *bt = arg;

	(void)alert_group_tick(&bt->group, T + bt->offset, INT64_MIN);
	return 0;
}

/* The largest count of the topic's first block's window, and whether an
 * announced episode still fires. */
static void
topic_results(struct backtest *bt, size_t i, const struct watch_topic *w)
{
	struct tcounts *tc = &bt->tc[i];
	int64_t j, win, c;
	size_t k;

	win = bt->rs->topics[i].alerts[0].window_s / bt->res;
	if (win < 1)
		win = 1;
	for (j = 0; j + win <= bt->nb; j++) {
		c = tc->pre[j + win] - tc->pre[j];
		if (c > tc->out.peak) {
			tc->out.peak = c;
			tc->out.peak_end = bt->b0 + (j + win) * bt->res +
			    bt->offset;
		}
	}
	for (k = 0; k < w->nblocks; k++)
		if (w->st[k].firing && w->st[k].notified &&
		    w->st[k].notified_at >= w->st[k].since)
			tc->out.firing_at_end = true;
}

bool
backtest_series(struct backtest *bt, size_t ti, struct spike_series *ser,
    int64_t *b0, int64_t *nb)
{
	struct tcounts *tc = &bt->tc[ti];

	memset(ser, 0, sizeof *ser);
	if (tc->pre == NULL || bt->nb <= 0)
		return false;
	tc->b0 = bt->b0;
	tc->res = bt->res;
	tc->nb = bt->nb;
	ser->resolution_s = bt->res;
	ser->history_start = bt->b0;
	ser->count = series_count;
	ser->sum = series_sum;
	ser->arg = tc;
	ser->distinct = tc_distinct;
	ser->distinct_arg = tc;
	if (b0 != NULL)
		*b0 = bt->b0;
	if (nb != NULL)
		*nb = bt->nb;
	return true;
}

void
backtest_detect(struct backtest *bt, int64_t offset,
    const struct backtest_out *out)
{
	const struct ruleset *rs = bt->rs;
	int64_t res = bt->res, b0 = bt->b0;
	struct watch_topic *wt, **wtv;
	size_t i, b;

	if (bt->nb <= 0)
		return;
	bt->out = out;
	bt->offset = offset;
	alert_group_init(&bt->group, &held_ops, bt);
	wt = xcalloc(rs->ntopics + 1, sizeof *wt);
	wtv = xcalloc(rs->ntopics + 1, sizeof *wtv);
	for (i = 0; i < rs->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[i];

		if (t->nalerts == 0 || bt->tc[i].pre == NULL)
			continue;
		(void)backtest_series(bt, i, &wt[i].ser, NULL, NULL);
		wt[i].nblocks = t->nalerts;
		wt[i].st = xcalloc(t->nalerts, sizeof *wt[i].st);
		wt[i].from = xcalloc(t->nalerts, sizeof *wt[i].from);
		for (b = 0; b < t->nalerts; b++)
			wt[i].from[b] = b0 + res;
		wtv[i] = &wt[i];
	}
	(void)watch_step(rs, wtv, b0 + res, b0 + bt->nb * res, res,
	    emit_action, after_window_end, bt);
	/* the end of the data ends the wait */
	(void)alert_group_flush(&bt->group, INT64_MAX, INT64_MIN);
	for (i = 0; i < rs->ntopics; i++) {
		if (wtv[i] != NULL)
			topic_results(bt, i, &wt[i]);
		free(wt[i].st);
		free(wt[i].from);
	}
	free(wt);
	free(wtv);
	bt->out = NULL;
}
