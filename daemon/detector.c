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
 *      count_by values, samples) and publishes it through alert_publish(),
 *      whose dedup key makes the notification unique across daemons; a new
 *      alert of a topic with group_wait is held in Redis instead
 *      (alert_hold) and sent as part of a digest once due
 *      (alert_flush_held, every tick).
 * Counts come from a per-topic cache of buckets; buckets inside the windows
 * being evaluated are read again each tick (another daemon may still add to
 * them), older ones once.  Block states, with the EWMA baseline's learned
 * mean and variance, are written to <p>state:<topic> after each change.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "alert.h"
#include "detector.h"
#include "log.h"
#include "spike.h"
#include "stats.h"
#include "store.h"
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
	const struct config	*cfg;
	struct store		*store;
	char			*id;
	char			 channel[256];
	char			 stream[256];
	int			 leading;
	struct tstate		*ts;
	size_t			 nts, tscap;
	int			 loaded;	/* states read from Redis */
	int64_t			 history_start;
	int64_t			 held_due;	/* a digest is due at this window
						 * end (INT64_MAX: none known) */
	volatile sig_atomic_t	*stop;		/* set: end the pass early */
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

struct detector *
detector_new(const struct config *cfg, const char *password,
    const char *instance_id)
{
	struct detector *d = xcalloc(1, sizeof *d);

	d->cfg = cfg;
	d->store = store_open(cfg, password);
	d->id = xstrdup(instance_id);
	snprintf(d->channel, sizeof d->channel, "%s%s", cfg->redis_prefix,
	    cfg->alert_channel);
	snprintf(d->stream, sizeof d->stream, "%s%s", cfg->redis_prefix,
	    cfg->alert_stream);
	d->history_start = INT64_MAX;
	d->held_due = INT64_MAX;
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
	store_free(d->store);
	free(d->id);
	free(d);
}

int
detector_leading(const struct detector *d)
{
	return d->leading;
}

static redisReply *
run(struct detector *d, int argc, const char **argv)
{
	return store_command(d->store, argc, argv);
}

static int
take_lease(struct detector *d)
{
	static const char lua[] =
	    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
	    "  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 "
	    "elseif redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
	    "  return 1 else return 0 end";
	char key[256], ttl[32];
	const char *argv[6];
	redisReply *r;
	int was = d->leading;

	snprintf(key, sizeof key, "%sleader", d->cfg->redis_prefix);
	snprintf(ttl, sizeof ttl, "%" PRId64,
	    d->cfg->flush_interval_ms * 3 + 2000);
	argv[0] = "EVAL";
	argv[1] = lua;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = d->id;
	argv[5] = ttl;
	if ((r = run(d, 6, argv)) == NULL)
		return -1;
	d->leading = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (d->leading && !was) {
		log_info("detector leads | instance=%s", d->id);
		d->loaded = 0;	/* read states again: another leader moved them */
	} else if (!d->leading && was)
		log_info("detector follows | instance=%s", d->id);
	return 0;
}

/* The watermark in ms, or -1 when nothing was counted yet. */
static int
read_watermark(struct detector *d, int64_t *wm)
{
	char key[256];
	const char *argv[2];
	redisReply *r;
	int64_t maxt = -1, minlag = INT64_MAX;
	size_t i, j;

	snprintf(key, sizeof key, "%spos:%s", d->cfg->redis_prefix,
	    d->cfg->kafka_group);
	argv[0] = "HGETALL";
	argv[1] = key;
	if ((r = run(d, 2, argv)) == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const char *f = r->element[i]->str, *v = r->element[i + 1]->str;
		int64_t t;

		if (f == NULL || v == NULL || strncmp(f, "t:", 2) != 0)
			continue;
		t = strtoll(v, NULL, 10);
		if (t > maxt)
			maxt = t;
		/* the partition's lag */
		for (j = 0; j + 1 < r->elements; j += 2) {
			const char *g = r->element[j]->str;

			if (g != NULL && g[0] == 'l' && g[1] == ':' &&
			    strcmp(g + 2, f + 2) == 0 && r->element[j + 1]->str &&
			    strtoll(r->element[j + 1]->str, NULL, 10) > 0 &&
			    t < minlag)
				minlag = t;
		}
	}
	freeReplyObject(r);
	*wm = minlag != INT64_MAX ? minlag : maxt;
	return 0;
}

static int
read_since(struct detector *d)
{
	char key[256];
	const char *argv[2];
	redisReply *r;

	snprintf(key, sizeof key, "%ssince", d->cfg->redis_prefix);
	argv[0] = "GET";
	argv[1] = key;
	if ((r = run(d, 2, argv)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING)
		d->history_start = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return 0;
}

static struct tstate *
tstate_get(struct detector *d, const struct rule_topic *t)
{
	struct tstate *ts;
	size_t i;

	for (i = 0; i < d->nts; i++) {
		ts = &d->ts[i];
		if (strcmp(ts->topic, t->id) == 0) {
			if (ts->nblocks != t->nalerts) {
				/* the blocks changed with a reload: start over */
				tstate_blocks(ts, t->nalerts);
			}
			ts->seen = 1;
			return ts;
		}
	}
	d->ts = xgrow(d->ts, &d->tscap, d->nts + 1, sizeof *d->ts);
	ts = &d->ts[d->nts++];
	memset(ts, 0, sizeof *ts);
	ts->topic = xstrdup(t->id);
	tstate_blocks(ts, t->nalerts);
	ts->seen = 1;
	return ts;
}

/* State text: "firing notified since notified_at last_true last_T", then
 * the EWMA baseline "ew_n ew_T ew_span ew_skip ew_mean ew_var" (a state
 * written before the EWMA existed has only the first six). */
static void
load_state(struct detector *d, struct tstate *ts)
{
	char key[512], field[24];
	const char *argv[3];
	redisReply *r;
	size_t b;

	snprintf(key, sizeof key, "%sstate:%s", d->cfg->redis_prefix, ts->topic);
	for (b = 0; b < ts->nblocks; b++) {
		int firing = 0, notified_flag = 0, n;
		long long since, notified, last_true, lastT;
		long long ew_n, ew_T, ew_span, ew_skip;
		double ew_mean, ew_var;

		snprintf(field, sizeof field, "%zu", b);
		argv[0] = "HGET";
		argv[1] = key;
		argv[2] = field;
		if ((r = run(d, 3, argv)) == NULL)
			return;
		if (r->type == REDIS_REPLY_STRING &&
		    ((n = sscanf(r->str, "%d %d %lld %lld %lld %lld %lld %lld "
		    "%lld %lld %lg %lg", &firing, &notified_flag, &since,
		    &notified, &last_true, &lastT, &ew_n, &ew_T, &ew_span,
		    &ew_skip, &ew_mean, &ew_var)) == 6 || n == 12)) {
			memset(&ts->st[b], 0, sizeof ts->st[b]);
			if (n == 12 && ew_n >= 0 && ew_span >= 0 && ew_skip >= 0 &&
			    isfinite(ew_mean) && isfinite(ew_var)) {
				/* the EWMA baseline (older states have none) */
				ts->st[b].ew_n = ew_n;
				ts->st[b].ew_T = ew_T;
				ts->st[b].ew_span = ew_span;
				ts->st[b].ew_skip = ew_skip;
				ts->st[b].ew_mean = ew_mean;
				ts->st[b].ew_var = ew_var;
			}
			ts->st[b].firing = firing != 0;
			ts->st[b].notified = notified_flag != 0;
			ts->st[b].stepped = lastT > 0;
			ts->st[b].last_step = lastT;
			ts->st[b].since = since;
			ts->st[b].notified_at = notified;
			ts->st[b].last_true = last_true;
			ts->last_T[b] = lastT;
		}
		freeReplyObject(r);
	}
}

static void
save_state(struct detector *d, struct tstate *ts, size_t b)
{
	char key[512], field[24], val[320], ttl[32];
	const char *argv[4];
	const struct spike_state *st = &ts->st[b];
	redisReply *r;

	snprintf(key, sizeof key, "%sstate:%s", d->cfg->redis_prefix, ts->topic);
	snprintf(field, sizeof field, "%zu", b);
	snprintf(val, sizeof val, "%d %d %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
	    " %.17g %.17g", st->firing ? 1 : 0, st->notified ? 1 : 0,
	    st->since, st->notified_at, st->last_true, ts->last_T[b],
	    st->ew_n, st->ew_T, st->ew_span, st->ew_skip, st->ew_mean,
	    st->ew_var);
	argv[0] = "HSET";
	argv[1] = key;
	argv[2] = field;
	argv[3] = val;
	if ((r = run(d, 4, argv)) != NULL)
		freeReplyObject(r);
	snprintf(ttl, sizeof ttl, "%" PRId64, d->cfg->retention_s);
	argv[0] = "EXPIRE";
	argv[2] = ttl;
	if ((r = run(d, 3, argv)) != NULL)
		freeReplyObject(r);
}

/* Makes sure buckets [from, to) are cached; those at or after fresh_from
 * are read again. */
static int
fetch(struct detector *d, struct tstate *ts, int64_t from, int64_t to,
    int64_t fresh_from)
{
	int64_t res = d->cfg->resolution_s, b, *vals;
	size_t n, i;

	if (from < d->history_start)
		from = d->history_start - d->history_start % res;
	if (to <= from)
		return 0;
	/* find the first bucket not cached (or fresh) and read from there:
	 * old buckets are read once */
	for (b = from; b < to; b += res)
		if (b >= fresh_from || cache_slot(&ts->cache, b, 0) == NULL)
			break;
	if (b >= to)
		return 0;
	n = (size_t)((to - b) / res);
	vals = xmalloc(n * sizeof *vals);
	if (store_get_counts(d->store, ts->topic, b, res, n, vals) == -1) {
		free(vals);
		return -1;
	}
	for (i = 0; i < n; i++)
		*cache_slot(&ts->cache, b + (int64_t)i * res, 1) = vals[i];
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
gather_evidence(struct detector *d, const struct rule_topic *t,
    struct alert *al)
{
	int64_t from = al->ev.window_start, to = al->ev.window_end;
	size_t i;

	store_get_top(d->store, 'k', t->id, NULL, from, to, 5,
	    &al->keywords.names, &al->keywords.counts, &al->keywords.n);
	if (t->ncount_by > 0) {
		al->breakdown = xcalloc(t->ncount_by, sizeof *al->breakdown);
		al->nbreakdown = t->ncount_by;
		for (i = 0; i < t->ncount_by; i++) {
			al->breakdown[i].field = t->count_by[i];
			store_get_top(d->store, 'b', t->id, t->count_by[i], from,
			    to, 5, &al->breakdown[i].top.names,
			    &al->breakdown[i].top.counts, &al->breakdown[i].top.n);
		}
	}
	store_get_samples(d->store, t->id, from, to, 3, &al->samples,
	    &al->nsamples);
}

static void
alert_pub_of(const struct detector *d, struct alert_pub *pub)
{
	memset(pub, 0, sizeof *pub);
	pub->channel = d->channel;
	pub->stream = d->stream;
	pub->stream_maxlen = d->cfg->alert_stream_maxlen;
	pub->dedup_ttl_ms = (d->cfg->retention_s + 86400) * 1000;
}

static int
publish(struct detector *d, const struct rule_topic *t, size_t b,
    enum spike_action act, const struct spike_eval *ev, int64_t now_ms)
{
	struct alert al;
	struct alert_pub pub;
	char *json;
	int rc;

	memset(&al, 0, sizeof al);
	al.action = act;
	al.topic = t;
	al.block = b;
	al.ev = *ev;
	al.detected_ms = now_ms;
	al.late = now_ms / 1000 - ev->window_end > LATE_AFTER_S;
	if (act != SPIKE_RESOLVE)
		gather_evidence(d, t, &al);
	json = alert_json(&al);
	alert_pub_of(d, &pub);
	if (act == SPIKE_FIRE && t->group_wait_s > 0) {
		/* held for a digest (sent by flush_held) */
		rc = alert_hold(d->store, &pub, &al, json, t->group_wait_s);
		if (rc == 1 && ev->window_end + t->group_wait_s < d->held_due)
			d->held_due = ev->window_end + t->group_wait_s;
		if (rc == 1)
			log_info("alert held | topic=%s block=%zu group_wait=%"
			    PRId64 " window_end=%" PRId64, t->id, b,
			    t->group_wait_s, ev->window_end);
	} else
		rc = alert_publish(d->store, &pub, &al, json);
	if (rc == 1 && act == SPIKE_FIRE && t->group_wait_s > 0)
		;	/* counted when the digest goes out */
	else if (rc == 1) {
		STAT_ADD(alerts[t->alerts[b].severity], 1);
		log_info("alert %s | topic=%s block=%zu severity=%s count=%" PRId64
		    " baseline=%.2f window_end=%" PRId64 " late=%d",
		    act == SPIKE_RESOLVE ? "resolved" : act == SPIKE_REPEAT ?
		    "repeated" : "firing", t->id, b,
		    rules_severity_name(t->alerts[b].severity), ev->count,
		    ev->baseline_rate, ev->window_end, al.late ? 1 : 0);
	} else if (rc == 0)
		STAT_ADD(alerts_dup, 1);
	else
		log_warn("cannot publish alert | topic=%s error=\"%s\"", t->id,
		    store_errstr(d->store));
	free(json);
	alert_clear(&al);
	return rc;
}

/* Buckets a block needs for window ends in (T0, T1]. */
static int
fetch_for(struct detector *d, struct tstate *ts, size_t b, int64_t T0,
    int64_t T1)
{
	const struct rule_alert *a = &ts->a[b];
	int64_t w = a->window_s, k, E;

	if (fetch(d, ts, T0 - w, T1, T0 - w) == -1)
		return -1;
	if (a->halflife_s > 0) {
		/* the EWMA learns the windows ending in (ew_T, T1 - w] */
		E = spike_learn_from(a, &ts->w.ser, &ts->st[b], T0);
		if (E == INT64_MAX || E > T0 - w + d->cfg->resolution_s)
			E = T0 - w + d->cfg->resolution_s;
		if (fetch(d, ts, E - w, T1 - w, T0 - w) == -1)
			return -1;
	} else if (a->period_s > 0) {
		for (k = 1; k <= a->lookback; k++)
			if (fetch(d, ts, T0 - k * a->period_s - w,
			    T1 - k * a->period_s, INT64_MAX) == -1)
				return -1;
	} else if (a->baseline_s > 0) {
		if (fetch(d, ts, T0 - w - a->baseline_s, T0 - w, INT64_MAX) == -1)
			return -1;
	}
	return 0;
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
emit(void *arg, size_t i, size_t b, enum spike_action act,
    const struct spike_eval *ev)
{
	struct emit_ctx *c = arg;
	int rc;

	/* not published: the window is stepped again next tick and goes out
	 * then, marked late if it is late by then */
	rc = publish(c->d, &c->rs->topics[i], b, act, ev, c->now_ms);
	if (rc == -1)
		return -1;
	c->tsv[i]->changed[b] = 1;
	if (rc == 1)
		c->published++;
	return 0;
}

/* Sends the digest of held alerts if due; returns -1 on a Redis error. */
static int
flush_held(struct detector *d, int64_t T, int64_t now_ms, int *published)
{
	struct alert_pub pub;
	int n;

	alert_pub_of(d, &pub);
	if ((n = alert_flush_held(d->store, &pub, T, now_ms)) == -1)
		return -1;
	if (n > 0) {
		log_info("alert digest sent | alerts=%d channel=%s_digest", n,
		    d->channel);
		*published += n;
		d->held_due = INT64_MAX;
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
tick(void *arg, int64_t T)
{
	struct emit_ctx *c = arg;

	if (stopping(c->d))
		return -1;
	if (T < c->d->held_due)
		return 0;
	return flush_held(c->d, T, c->now_ms, &c->published);
}

int
detector_tick(struct detector *d, const struct ruleset *rs, int64_t now_ms)
{
	int64_t res = d->cfg->resolution_s, wm, Tcur, Tmin;
	struct tstate **tsv;
	struct watch_topic **wtv;
	struct emit_ctx ec;
	size_t i, b;
	int rc;

	if (take_lease(d) == -1 || !d->leading)
		return d->leading ? -1 : 0;
	if (read_watermark(d, &wm) == -1 || read_since(d) == -1)
		return -1;
	if (wm < 0)
		return 0;
	Tcur = (wm / 1000) / res * res + res;
	for (i = 0; i < d->nts; i++)
		d->ts[i].seen = 0;

	/* every block's first window end, and the counts it needs */
	for (i = 0; i < rs->ntopics; i++)	/* may move d->ts: first */
		if (rs->topics[i].nalerts > 0)
			(void)tstate_get(d, &rs->topics[i]);
	tsv = xcalloc(rs->ntopics + 1, sizeof *tsv);
	wtv = xcalloc(rs->ntopics + 1, sizeof *wtv);
	Tmin = Tcur;
	for (i = 0; i < rs->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[i];
		struct tstate *ts;

		if (t->nalerts == 0)
			continue;
		if (stopping(d)) {
			free(tsv);
			free(wtv);
			return 0;
		}
		ts = tstate_get(d, t);
		if (!d->loaded)
			load_state(d, ts);
		ts->a = t->alerts;
		ts->w.ser.resolution_s = res;
		ts->w.ser.history_start = d->history_start;
		ts->w.ser.count = count_cb;
		ts->w.ser.arg = ts;
		ts->w.nblocks = ts->nblocks;
		ts->w.st = ts->st;
		for (b = 0; b < t->nalerts; b++) {
			int64_t T0 = ts->last_T[b];

			if (T0 <= 0 || T0 > Tcur) {
				/* never evaluated: go through the history
				 * counted so far, at most FIRST_BACKFILL_S */
				T0 = Tcur - res;
				if (d->history_start != INT64_MAX &&
				    d->history_start + res < T0)
					T0 = d->history_start + res;
				if (T0 < Tcur - FIRST_BACKFILL_S)
					T0 = Tcur - FIRST_BACKFILL_S;
			}
			if (Tcur - T0 > MAX_STEPS_PER_TICK * res)
				T0 = Tcur - MAX_STEPS_PER_TICK * res;
			ts->w.from[b] = T0;
			ts->changed[b] = 0;
			if (T0 < Tmin)
				Tmin = T0;
			if (fetch_for(d, ts, b, T0, Tcur) == -1) {
				free(tsv);
				free(wtv);
				return -1;
			}
		}
		tsv[i] = ts;
		wtv[i] = &ts->w;
	}

	/* all blocks in step through the window ends (watch.c) */
	memset(&ec, 0, sizeof ec);
	ec.d = d;
	ec.rs = rs;
	ec.tsv = tsv;
	ec.now_ms = now_ms;
	rc = watch_step(rs, wtv, Tmin, Tcur, res, emit, tick, &ec);

	for (i = 0; i < rs->ntopics; i++) {
		struct tstate *ts = tsv[i];

		for (b = 0; ts != NULL && b < ts->nblocks; b++) {
			const struct rule_alert *a = &ts->a[b];

			if (rc == -1) {
				/* Redis failed: each block goes on from where
				 * it got to, states saved next tick; stopped:
				 * saved now, for whoever leads next */
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
	free(wtv);
	free(tsv);
	if (rc == -1)
		return -1;
	/* group_wait: what is held (also by an earlier leader), once due by
	 * the posts' time or the wall clock */
	if (flush_held(d, Tcur, now_ms, &ec.published) == -1)
		return -1;
	d->loaded = 1;
	/* forget topics that left the rule set */
	for (i = 0; i < d->nts; ) {
		if (!d->ts[i].seen) {
			tstate_free(&d->ts[i]);
			d->ts[i] = d->ts[--d->nts];
		} else
			i++;
	}
	return ec.published;
}
