/*
 * detector.c — evaluates alert blocks against the counters in Redis.
 *
 * DESIGN: each tick (main thread, every flush interval) the detector
 *   1. takes or renews the lease <p>leader (SET NX PX; renewed only by its
 *      holder), and does nothing more unless it holds it;
 *   2. reads the stream's watermark from <p>pos:<group>: the newest post
 *      time of every partition ("t:" fields); if some partitions are behind
 *      their end ("l:" lag > 0), the oldest of those bounds the watermark,
 *      so a backlog is judged in its own time and partitions read at
 *      different speeds do not make false spikes;
 *   3. for every topic and alert block, steps the window end T through each
 *      bucket boundary after the last one it evaluated, up to the end of the
 *      bucket holding the watermark (that last, partial window is evaluated
 *      again every tick, so a burst alerts within one flush); a block never
 *      evaluated before starts at the beginning of the counted history
 *      (<p>since, at most a day back), so the first backlog is judged too;
 *      — all blocks of all topics in step through watch_step() (watch.c),
 *      which runs spike_run() (spike.c) per block, the loop backtest runs
 *      too, with each topic after those that `inhibit` it;
 *   4. on a firing, repeat or resolve, gathers the evidence (top keywords,
 *      count_by values, samples: alert_make) and publishes it through
 *      alert_publish(), whose dedup key makes the notification unique
 *      across daemons; a new alert of a topic with group_wait is held in
 *      Redis instead (alert_group_hold) and sent as part of a digest once
 *      due (alert_group_tick after each window end, alert_group_flush at
 *      the end of every tick).
 * Counts come from a per-topic cache of buckets; buckets inside the windows
 * being evaluated are read again each tick (another daemon may still add to
 * them), older ones once; which buckets a step needs, spike_reads() says.
 * Block states, with the EWMA baseline's learned mean and variance, are
 * stored after each change.  Every read and write goes through a struct
 * detector_ops: the Redis one at the end of this file (the store_* calls
 * of store_detect.c, and alert_publish), or a test's in memory.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "detector.h"
#include "log.h"
#include "spike.h"
#include "stats.h"
#include "store.h"
#include "strmap.h"
#include "watch.h"
#include "xmalloc.h"

#define MAX_STEPS_PER_TICK	20000
#define LATE_AFTER_S		120	/* window end this far behind: late */
#define FIRST_BACKFILL_S	86400	/* history a new block goes through */

struct cache {
	int64_t		*keys;		/* bucket start; INT64_MIN: empty */
	int64_t		*vals;
	size_t		 cap, n;
};

struct tstate {
	char			*topic;		/* topic id */
	size_t			 nblocks;
	struct spike_state	*st;
	int64_t			*last_T;	/* last window end evaluated; 0 none */
	struct cache		 cache;
	/* for the tick under way: the series (counts from the cache), and
	 * per block the first window end to step */
	struct watch_topic	 w;
	const struct rule_alert	*a;		/* the topic's blocks */
	int			*changed;	/* per block: an action, save */
	int			 seen;		/* still in the rule set */
};

struct detector {
	const struct config		*cfg;
	const struct detector_ops	*ops;
	void				*arg;
	struct detector_redis		*redis;	/* the Redis ops' arg, owned */
	char				*id;
	int				 leading;
	struct tstate			*ts;
	size_t				 nts, tscap;
	struct strmap			 tsmap;		/* topic id → index in ts */
	int				 loaded;	/* states read */
	int64_t				 history_start;
	struct alert_group		 group;		/* group_wait */
	volatile sig_atomic_t		*stop;		/* set: end the pass early */
};

static void
cache_clear(struct cache *c)
{
	free(c->keys);
	free(c->vals);
	memset(c, 0, sizeof *c);
}

static uint64_t
cache_hash(int64_t k)
{
	uint64_t x = (uint64_t)k;

	x ^= x >> 31;
	x *= UINT64_C(0x9e3779b97f4a7c15);
	return x ^ (x >> 29);
}

static int64_t *
cache_slot(struct cache *c, int64_t key, int create)
{
	size_t i, mask;

	if (c->cap == 0 || (create && (c->n + 1) * 2 > c->cap)) {
		struct cache old = *c;
		size_t j;

		if (!create && c->cap == 0)
			return NULL;
		c->cap = c->cap ? c->cap * 2 : 1024;
		c->keys = xmalloc(c->cap * sizeof *c->keys);
		c->vals = xmalloc(c->cap * sizeof *c->vals);
		c->n = 0;
		for (i = 0; i < c->cap; i++)
			c->keys[i] = INT64_MIN;
		for (j = 0; j < old.cap; j++)
			if (old.keys[j] != INT64_MIN)
				*cache_slot(c, old.keys[j], 1) = old.vals[j];
		free(old.keys);
		free(old.vals);
	}
	mask = c->cap - 1;
	for (i = cache_hash(key) & mask; c->keys[i] != INT64_MIN; i = (i + 1) & mask)
		if (c->keys[i] == key)
			return &c->vals[i];
	if (!create)
		return NULL;
	c->keys[i] = key;
	c->vals[i] = 0;
	c->n++;
	return &c->vals[i];
}

/* Drops buckets older than keep_from to bound the cache. */
static void
cache_trim(struct cache *c, int64_t keep_from)
{
	struct cache nc;
	size_t i;

	if (c->n < 65536)
		return;
	memset(&nc, 0, sizeof nc);
	for (i = 0; i < c->cap; i++)
		if (c->keys[i] != INT64_MIN && c->keys[i] >= keep_from)
			*cache_slot(&nc, c->keys[i], 1) = c->vals[i];
	cache_clear(c);
	*c = nc;
}


struct detector_redis;
static struct detector_redis *redis_new(const struct config *cfg,
    const char *password);
static void redis_free(struct detector_redis *r);
static const struct detector_ops redis_ops;

struct detector *
detector_new_ops(const struct config *cfg, const char *instance_id,
    const struct detector_ops *ops, void *arg)
{
	struct detector *d = xcalloc(1, sizeof *d);

	d->cfg = cfg;
	d->ops = ops;
	d->arg = arg;
	d->id = xstrdup(instance_id);
	d->history_start = INT64_MAX;
	alert_group_init(&d->group, &ops->held, arg);
	return d;
}

struct detector *
detector_new(const struct config *cfg, const char *password,
    const char *instance_id)
{
	struct detector_redis *r = redis_new(cfg, password);
	struct detector *d = detector_new_ops(cfg, instance_id, &redis_ops, r);

	d->redis = r;
	return d;
}

static void
tstate_blocks(struct tstate *ts, size_t n)
{
	free(ts->st);
	free(ts->last_T);
	free(ts->w.from);
	free(ts->changed);
	ts->nblocks = n;
	ts->st = xcalloc(n, sizeof *ts->st);
	ts->last_T = xcalloc(n, sizeof *ts->last_T);
	ts->w.from = xcalloc(n, sizeof *ts->w.from);
	ts->changed = xcalloc(n, sizeof *ts->changed);
}

static void
tstate_free(struct tstate *t)
{
	free(t->topic);
	free(t->st);
	free(t->last_T);
	free(t->w.from);
	free(t->changed);
	cache_clear(&t->cache);
}

void
detector_free(struct detector *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nts; i++)
		tstate_free(&d->ts[i]);
	free(d->ts);
	strmap_free(&d->tsmap);
	redis_free(d->redis);
	free(d->id);
	free(d);
}

int
detector_leading(const struct detector *d)
{
	return d->leading;
}

static int
take_lease(struct detector *d)
{
	int was = d->leading;
	bool held;

	if (d->ops->lease(d->arg, d->id, d->cfg->flush_interval_ms * 3 + 2000,
	    &held) == -1)
		return -1;
	d->leading = held;
	if (d->leading && !was) {
		log_info("detector leads | instance=%s", d->id);
		d->loaded = 0;	/* read states again: another leader moved them */
	} else if (!d->leading && was)
		log_info("detector follows | instance=%s", d->id);
	return 0;
}

static struct tstate *
tstate_get(struct detector *d, const struct rule_topic *t)
{
	struct tstate *ts;
	size_t i = strmap_get(&d->tsmap, t->id);

	if (i != STRMAP_NONE) {
		ts = &d->ts[i];
		if (ts->nblocks != t->nalerts) {
			/* the blocks changed with a reload: start over */
			tstate_blocks(ts, t->nalerts);
		}
		ts->seen = 1;
		return ts;
	}
	d->ts = xgrow(d->ts, &d->tscap, d->nts + 1, sizeof *d->ts);
	ts = &d->ts[d->nts];
	memset(ts, 0, sizeof *ts);
	ts->topic = xstrdup(t->id);
	strmap_put(&d->tsmap, ts->topic, d->nts);
	d->nts++;
	tstate_blocks(ts, t->nalerts);
	ts->seen = 1;
	return ts;
}

/* The stored states replace those in memory (a read error keeps them). */
static void
load_states(struct detector *d, struct tstate *ts)
{
	struct spike_state *st = xcalloc(ts->nblocks + 1, sizeof *st);
	int64_t *last_T = xcalloc(ts->nblocks + 1, sizeof *last_T);
	bool *found = xcalloc(ts->nblocks + 1, sizeof *found);
	size_t b;

	if (d->ops->load_states(d->arg, ts->topic, ts->nblocks, st, last_T,
	    found) == 0)
		for (b = 0; b < ts->nblocks; b++)
			if (found[b]) {
				ts->st[b] = st[b];
				ts->last_T[b] = last_T[b];
			}
	free(st);
	free(last_T);
	free(found);
}

static void
save_state(struct detector *d, struct tstate *ts, size_t b)
{
	(void)d->ops->save_state(d->arg, ts->topic, b, &ts->st[b],
	    ts->last_T[b]);
}

/* What fetch_range needs besides the range. */
struct fetch_ctx {
	struct detector	*d;
	struct tstate	*ts;
};

/* Makes sure buckets [from, to) are cached; those at or after fresh_from
 * are read again. */
static int
fetch_range(void *arg, int64_t from, int64_t to, int64_t fresh_from)
{
	struct fetch_ctx *c = arg;
	struct detector *d = c->d;
	int64_t res = d->cfg->resolution_s, b, *vals;
	size_t n, i;

	if (from < d->history_start)
		from = d->history_start - d->history_start % res;
	if (to <= from)
		return 0;
	/* find the first bucket not cached (or fresh) and read from there:
	 * old buckets are read once */
	for (b = from; b < to; b += res)
		if (b >= fresh_from || cache_slot(&c->ts->cache, b, 0) == NULL)
			break;
	if (b >= to)
		return 0;
	n = (size_t)((to - b) / res);
	vals = xmalloc(n * sizeof *vals);
	if (d->ops->counts(d->arg, c->ts->topic, b, res, n, vals) == -1) {
		free(vals);
		return -1;
	}
	for (i = 0; i < n; i++)
		*cache_slot(&c->ts->cache, b + (int64_t)i * res, 1) = vals[i];
	free(vals);
	return 0;
}

static int64_t
count_cb(void *arg, int64_t bucket)
{
	struct tstate *ts = arg;
	int64_t *v = cache_slot(&ts->cache, bucket, 0);

	return v ? *v : 0;
}

static void
log_published(const struct rule_topic *t, size_t b, const struct alert *al)
{
	const struct spike_eval *ev = &al->ev;

	STAT_ADD(alerts[t->alerts[b].severity], 1);
	log_info("alert %s | topic=%s block=%zu severity=%s count=%" PRId64
	    " baseline=%.2f window_end=%" PRId64 " late=%d",
	    al->action == SPIKE_RESOLVE ? "resolved" :
	    al->action == SPIKE_REPEAT ? "repeated" : "firing", t->id, b,
	    rules_severity_name(t->alerts[b].severity), ev->count,
	    ev->baseline_rate, ev->window_end, al->late ? 1 : 0);
}

/* Publishes (or holds, for group_wait) one action: 1 done, 0 a duplicate,
 * -1 error.  *published counts what was sent (a held alert is counted
 * when its digest goes out). */
static int
publish(struct detector *d, const struct rule_topic *t, size_t b,
    enum spike_action act, const struct spike_eval *ev, int64_t now_ms,
    int *published)
{
	struct alert al;
	char *json;
	int rc;

	alert_make(&al, t, b, act, ev, now_ms, &d->ops->evidence, d->arg);
	al.late = now_ms / 1000 - ev->window_end > LATE_AFTER_S;
	json = alert_json(&al);
	if (alert_group_waits(&al)) {
		/* held for a digest (counted when the digest goes out) */
		rc = alert_group_hold(&d->group, &al, json);
		if (rc == 1)
			log_info("alert held | topic=%s block=%zu group_wait=%"
			    PRId64 " window_end=%" PRId64, t->id, b,
			    t->group_wait_s, ev->window_end);
	} else {
		rc = d->ops->publish(d->arg, &al, json);
		if (rc == 1) {
			log_published(t, b, &al);
			(*published)++;
		}
	}
	if (rc == 0)
		STAT_ADD(alerts_dup, 1);
	else if (rc == -1)
		log_warn("cannot publish alert | topic=%s error=\"%s\"", t->id,
		    d->ops->errstr(d->arg));
	free(json);
	alert_clear(&al);
	return rc;
}

/* What watch_step reports to. */
struct emit_ctx {
	struct detector		*d;
	const struct ruleset	*rs;
	struct tstate		**tsv;
	int64_t			 now_ms;
	int			 published;
};

static int
emit_action(void *arg, size_t i, size_t b, enum spike_action act,
    const struct spike_eval *ev)
{
	struct emit_ctx *c = arg;
	int rc;

	/* not published: the window is stepped again next tick and goes out
	 * then, marked late if it is late by then */
	rc = publish(c->d, &c->rs->topics[i], b, act, ev, c->now_ms,
	    &c->published);
	if (rc == -1)
		return -1;
	c->tsv[i]->changed[b] = 1;
	return 0;
}

/* Counts a digest sent (n alerts) or fails (-1). */
static int
digest_sent(struct detector *d, int n, int *published)
{
	if (n == -1) {
		log_warn("cannot send alert digest | error=\"%s\"",
		    d->ops->errstr(d->arg));
		return -1;
	}
	if (n > 0) {
		log_info("alert digest sent | alerts=%d", n);
		*published += n;
	}
	return 0;
}

static int
stopping(const struct detector *d)
{
	return d->stop != NULL && *d->stop;
}

void
detector_set_stop(struct detector *d, volatile sig_atomic_t *stop)
{
	d->stop = stop;
}

/* After each window end: a digest due in the posts' time goes out in its
 * place in the timeline (before later alerts of a backlog). */
static int
after_window_end(void *arg, int64_t T)
{
	struct emit_ctx *c = arg;

	if (stopping(c->d))
		return -1;
	return digest_sent(c->d, alert_group_tick(&c->d->group, T, c->now_ms),
	    &c->published);
}

/* Block b's first window end to step this tick. */
static int64_t
first_window_end(const struct detector *d, const struct tstate *ts, size_t b,
    int64_t Tcur)
{
	int64_t res = d->cfg->resolution_s, T0 = ts->last_T[b];

	if (T0 <= 0 || T0 > Tcur) {
		/* never evaluated: go through the history counted so far, at
		 * most FIRST_BACKFILL_S */
		T0 = Tcur - res;
		if (d->history_start != INT64_MAX &&
		    d->history_start + res < T0)
			T0 = d->history_start + res;
		if (T0 < Tcur - FIRST_BACKFILL_S)
			T0 = Tcur - FIRST_BACKFILL_S;
	}
	if (Tcur - T0 > MAX_STEPS_PER_TICK * res)
		T0 = Tcur - MAX_STEPS_PER_TICK * res;
	return T0;
}

/* Readies topic t for stepping to Tcur: its states, series, first window
 * ends and counts.  Lowers *Tmin to its earliest window end.  Returns the
 * topic's state, or NULL on an error. */
static struct tstate *
prepare_topic(struct detector *d, const struct rule_topic *t, int64_t Tcur,
    int64_t *Tmin)
{
	struct tstate *ts = tstate_get(d, t);
	struct fetch_ctx fc;
	size_t b;

	if (!d->loaded)
		load_states(d, ts);
	ts->a = t->alerts;
	ts->w.ser.resolution_s = d->cfg->resolution_s;
	ts->w.ser.history_start = d->history_start;
	ts->w.ser.count = count_cb;
	ts->w.ser.arg = ts;
	ts->w.nblocks = ts->nblocks;
	ts->w.st = ts->st;
	fc.d = d;
	fc.ts = ts;
	for (b = 0; b < t->nalerts; b++) {
		int64_t T0 = first_window_end(d, ts, b, Tcur);

		ts->w.from[b] = T0;
		ts->changed[b] = 0;
		if (T0 < *Tmin)
			*Tmin = T0;
		if (spike_reads(&ts->a[b], &ts->w.ser, &ts->st[b], T0, Tcur,
		    fetch_range, &fc) == -1)
			return NULL;
	}
	return ts;
}

/* After the steps: each block's last window end and state stored.  rc -1:
 * the pass failed or was stopped; each block goes on from where it got
 * to, saved now only when stopping (for whoever leads next). */
static void
finish_topics(struct detector *d, const struct ruleset *rs,
    struct tstate **tsv, int64_t Tcur, int rc)
{
	int64_t res = d->cfg->resolution_s;
	size_t i, b;

	for (i = 0; i < rs->ntopics; i++) {
		struct tstate *ts = tsv[i];

		for (b = 0; ts != NULL && b < ts->nblocks; b++) {
			const struct rule_alert *a = &ts->a[b];

			if (rc == -1) {
				ts->last_T[b] = ts->w.from[b];
				if (stopping(d) && ts->changed[b])
					save_state(d, ts, b);
				continue;
			}
			if (ts->last_T[b] != Tcur || ts->changed[b]) {
				ts->last_T[b] = Tcur;
				save_state(d, ts, b);
			}
			cache_trim(&ts->cache, Tcur - 2 * a->window_s -
			    a->baseline_s - a->period_s * a->lookback - res);
		}
	}
}

/* Forgets topics that left the rule set. */
static void
forget_unseen(struct detector *d)
{
	size_t i;
	int removed = 0;

	for (i = 0; i < d->nts; ) {
		if (!d->ts[i].seen) {
			tstate_free(&d->ts[i]);
			d->ts[i] = d->ts[--d->nts];
			removed = 1;
		} else
			i++;
	}
	if (removed) {	/* indexes moved */
		strmap_clear(&d->tsmap);
		for (i = 0; i < d->nts; i++)
			strmap_put(&d->tsmap, d->ts[i].topic, i);
	}
}

/* Steps every block of rs up to Tcur; returns the alerts published, -1
 * (an error, or stopped while stepping), or -2 (stopped before). */
static int
step_all(struct detector *d, const struct ruleset *rs, int64_t Tcur,
    int64_t now_ms)
{
	struct tstate **tsv;
	struct watch_topic **wtv;
	struct emit_ctx ec;
	int64_t Tmin = Tcur;
	size_t i;
	int rc = 0;

	for (i = 0; i < rs->ntopics; i++)	/* may move d->ts: first */
		if (rs->topics[i].nalerts > 0)
			(void)tstate_get(d, &rs->topics[i]);
	tsv = xcalloc(rs->ntopics + 1, sizeof *tsv);
	wtv = xcalloc(rs->ntopics + 1, sizeof *wtv);
	for (i = 0; i < rs->ntopics && rc == 0; i++) {
		if (rs->topics[i].nalerts == 0)
			continue;
		if (stopping(d))
			rc = -2;
		else if ((tsv[i] = prepare_topic(d, &rs->topics[i], Tcur,
		    &Tmin)) == NULL)
			rc = -1;
		else
			wtv[i] = &tsv[i]->w;
	}
	if (rc != 0) {
		free(tsv);
		free(wtv);
		return rc;
	}

	/* all blocks in step through the window ends (watch.c) */
	memset(&ec, 0, sizeof ec);
	ec.d = d;
	ec.rs = rs;
	ec.tsv = tsv;
	ec.now_ms = now_ms;
	rc = watch_step(rs, wtv, Tmin, Tcur, d->cfg->resolution_s, emit_action,
	    after_window_end, &ec);
	finish_topics(d, rs, tsv, Tcur, rc);
	free(wtv);
	free(tsv);
	return rc == -1 ? -1 : ec.published;
}

int
detector_tick(struct detector *d, const struct ruleset *rs, int64_t now_ms)
{
	int64_t res = d->cfg->resolution_s, wm, Tcur;
	int published = 0;
	size_t i;

	if (take_lease(d) == -1 || !d->leading)
		return d->leading ? -1 : 0;
	if (d->ops->watermark(d->arg, &wm) == -1 ||
	    d->ops->since(d->arg, &d->history_start) == -1)
		return -1;
	if (wm < 0)
		return 0;
	Tcur = (wm / 1000) / res * res + res;
	for (i = 0; i < d->nts; i++)
		d->ts[i].seen = 0;
	if ((published = step_all(d, rs, Tcur, now_ms)) < 0)
		return published == -2 ? 0 : -1;
	/* group_wait: what is held (also by an earlier leader), once due by
	 * the posts' time or the wall clock */
	if (digest_sent(d, alert_group_flush(&d->group, Tcur, now_ms),
	    &published) == -1)
		return -1;
	d->loaded = 1;
	forget_unseen(d);
	return published;
}

/* ---- the Redis ops ------------------------------------------------------- */

/* The daemon's detector_ops: store_detect.c for the detector's keys, the
 * counters and evidence through store.c, alerts through alert_publish. */
struct detector_redis {
	const struct config	*cfg;
	struct store		*store;
	struct alert_pub	 pub;
	struct store_held	 read;		/* what held_list last read */
};

static struct detector_redis *
redis_new(const struct config *cfg, const char *password)
{
	struct detector_redis *r = xcalloc(1, sizeof *r);

	r->cfg = cfg;
	r->store = store_open(cfg, password);
	r->pub.stream_maxlen = cfg->alert_stream_maxlen;
	r->pub.dedup_ttl_ms = (cfg->retention_s + 86400) * 1000;
	return r;
}

static void
redis_free(struct detector_redis *r)
{
	if (r == NULL)
		return;
	store_held_clear(&r->read);
	store_free(r->store);
	free(r);
}

static int
redis_lease(void *arg, const char *holder, int64_t ttl_ms, bool *held)
{
	return store_take_lease(((struct detector_redis *)arg)->store, holder,
	    ttl_ms, held);
}

static int
redis_watermark(void *arg, int64_t *wm_ms)
{
	struct detector_redis *r = arg;

	return store_get_watermark(r->store, r->cfg->kafka_group, wm_ms);
}

static int
redis_since(void *arg, int64_t *since)
{
	return store_get_since(((struct detector_redis *)arg)->store, since);
}

static int
redis_load_states(void *arg, const char *topic, size_t n,
    struct spike_state *st, int64_t *last_T, bool *found)
{
	return store_get_states(((struct detector_redis *)arg)->store, topic, n,
	    st, last_T, found);
}

static int
redis_save_state(void *arg, const char *topic, size_t b,
    const struct spike_state *st, int64_t last_T)
{
	struct detector_redis *r = arg;

	return store_put_state(r->store, topic, b, st, last_T,
	    r->cfg->retention_s);
}

static int
redis_counts(void *arg, const char *topic, int64_t from, int64_t res,
    size_t n, int64_t *out)
{
	return store_get_counts(((struct detector_redis *)arg)->store, topic,
	    from, res, n, out);
}

static int
redis_publish(void *arg, const struct alert *al, const char *json)
{
	struct detector_redis *r = arg;

	return alert_publish(r->store, &r->pub, al, json);
}

static const char *
redis_errstr(void *arg)
{
	return store_errstr(((struct detector_redis *)arg)->store);
}

static int
redis_top(void *arg, const struct rule_topic *t, const char *field,
    int64_t from, int64_t to, size_t max, struct alert_top *out)
{
	return store_get_top(((struct detector_redis *)arg)->store,
	    field == NULL ? 'k' : 'b', t->id, field, from, to, max, &out->names,
	    &out->counts, &out->n);
}

static int
redis_samples(void *arg, const struct rule_topic *t, int64_t from,
    int64_t to, size_t max, char ***json, size_t *n)
{
	return store_get_samples(((struct detector_redis *)arg)->store, t->id,
	    from, to, max, json, n);
}

static int
redis_held_add(void *arg, const char *id, const char *json,
    int64_t window_end, int64_t wall_ms, int64_t wait_s)
{
	struct detector_redis *r = arg;

	return store_held_add(r->store, id, json, window_end, wall_ms, wait_s,
	    r->pub.dedup_ttl_ms);
}

/* Reads the hash; its strings move to h, the rest stays for the send. */
static int
redis_held_list(void *arg, struct alert_held *h)
{
	struct detector_redis *r = arg;
	size_t i;

	store_held_clear(&r->read);
	if (store_held_read(r->store, &r->read) == -1)
		return -1;
	memset(h, 0, sizeof *h);
	h->since = r->read.since;
	h->wall_ms = r->read.wall_ms;
	h->wait_s = r->read.wait_s;
	h->items = xcalloc(r->read.n + 1, sizeof *h->items);
	for (i = 0; i < r->read.n; i++) {
		h->items[i].id = r->read.ids[i];
		h->items[i].json = r->read.jsons[i];
		r->read.ids[i] = r->read.jsons[i] = NULL;
	}
	h->n = r->read.n;
	return 0;
}

static int
redis_held_send(void *arg, const struct alert_held *h, const char *digest_id)
{
	struct detector_redis *r = arg;
	char *digest = alert_digest_json(digest_id, h);
	int rc;

	rc = store_held_send(r->store, &r->read, r->pub.stream_maxlen,
	    r->pub.dedup_ttl_ms, digest_id, digest);
	free(digest);
	return rc;
}

static const struct detector_ops redis_ops = {
	.lease = redis_lease,
	.watermark = redis_watermark,
	.since = redis_since,
	.load_states = redis_load_states,
	.save_state = redis_save_state,
	.counts = redis_counts,
	.publish = redis_publish,
	.errstr = redis_errstr,
	.evidence = { .top = redis_top, .samples = redis_samples },
	.held = { .add = redis_held_add, .list = redis_held_list,
	    .send = redis_held_send },
};
