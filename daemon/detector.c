/*
 * detector.c — evaluates alert blocks against the counters in Redis.
 *
 * DESIGN: each pass (in the detector's thread, detect_loop.c: after every
 * flush and at least once per flush interval) the detector
 *   1. takes or renews the lease <p>leader (SET NX PX; renewed only by its
 *      holder), and does nothing more unless it holds it; a long pass
 *      renews it again between read batches and window ends;
 *   2. reads the stream's watermark from <p>pos:<group>: the newest post
 *      time of every partition ("t:" fields); if some partitions are behind
 *      their end ("l:" lag > 0) or do not know it yet (-1: nothing fetched,
 *      older posts may come), the oldest of those bounds the watermark,
 *      so a backlog is judged in its own time and partitions read at
 *      different speeds do not make false spikes;
 *   3. reads what changed: it pops the dirty set (each topic a flush
 *      counted into, with the earliest bucket) and reads those topics'
 *      counts from there on into their sparse series (sparse.c), in
 *      pipelined batches; a new leader, or one after a read error, reads
 *      every topic's history instead (the states too), once;
 *   4. for every topic and alert block, steps the window end T through each
 *      bucket boundary after the last one it evaluated, up to the end of the
 *      bucket holding the watermark (that last, partial window is evaluated
 *      again while it fills, so a burst alerts within one flush); a block
 *      never evaluated before starts at the beginning of the counted history
 *      (<p>since, at most a day back), so the first backlog is judged too;
 *      — the topics with something to step go through watch_step_order()
 *      (watch.c), which runs spike_run() (spike.c) per block, the loop
 *      backtest runs too, with each topic after those that `inhibit` it; a
 *      block whose span holds no count and that is not firing (nor learning
 *      an EWMA) is stepped at once, and a topic with nothing new whose
 *      blocks already stand at T is not stepped;
 *      a guarded block's distinct authors and texts are read from Redis
 *      (store_get_distinct) when its condition holds (spike.c);
 *   5. on a firing, repeat or resolve, gathers the evidence (top keywords,
 *      count_by values, samples, distinct authors and texts: alert_make)
 *      and publishes it through
 *      alert_publish(), whose dedup key makes the notification unique
 *      across daemons; a new alert of a topic with group_wait is held in
 *      Redis instead (alert_group_hold) and sent as part of a digest once
 *      due (alert_group_tick after each window end, alert_group_flush at
 *      the end of every pass);
 *   6. stores, in one batch, the states of the blocks that acted or whose
 *      alert fields moved, and a checkpoint of the others every
 *      CHECKPOINT_S of stream time (spread by topic); then trims each series
 *      to what its blocks can still read.
 * Every read and write goes through a struct detector_ops: the Redis one
 * at the end of this file (the store_* calls of store_detect.c, and
 * alert_publish), or a test's in memory.  One thread uses a detector.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "alert.h"
#include "detector.h"
#include "log.h"
#include "spike.h"
#include "stats.h"
#include "store.h"
#include "sparse.h"
#include "textkey.h"
#include "strmap.h"
#include "watch.h"
#include "xmalloc.h"

#define MAX_STEPS_PER_TICK	20000
#define LATE_AFTER_S		120	/* window end this far behind: late */
#define FIRST_BACKFILL_S	86400	/* history a new block goes through */
#define CHECKPOINT_S		300	/* a block's last window end is stored
					 * at least this often (posts' time) */
#define READ_BATCH		2000	/* spans per read_spans call */
#define STATE_BATCH		4096	/* topics (or blocks) per load_states
					 * (save_states) call */

/* What a topic's guards read distinct counts through. */
struct tdistinct {
	struct detector		*d;
	const struct rule_topic	*t;
};

struct tstate {
	char			*topic;		/* topic id */
	size_t			 nblocks;
	struct spike_state	*st;
	int64_t			*last_T;	/* last window end evaluated; 0 none */
	struct spike_state	*saved;		/* per block: as stored */
	int64_t			*saved_T;	/* per block: last_T stored; 0 none */
	struct sparse		 ser;		/* the counts the blocks can read */
	int64_t			 have_from;	/* ser is complete from this bucket
						 * on; INT64_MAX: nothing read */
	int64_t			 dirty_from;	/* counted into from this bucket on
						 * since read; INT64_MAX: not */
	int64_t			 jitter;	/* spreads the checkpoints (s) */
	int64_t			 settled_T;	/* every block stood at this window
						 * end after the last pass, with
						 * its series trimmed for it */
	bool			 states_loaded;
	/* for the tick under way: the series (counts from ser), and per
	 * block the first window end to step */
	struct watch_topic	 w;
	struct tdistinct	 dx;		/* w.ser's distinct_arg */
	const struct rule_alert	*a;		/* the topic's blocks */
	int			*changed;	/* per block: an action, save */
	bool			 step;		/* stepped through watch_step */
	bool			 touched;	/* read or stepped this pass */
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
	const struct ruleset		*idx_rs;	/* the rule set idx is of
							 * (only compared) */
	size_t				*idx;		/* per topic index of
							 * idx_rs: index + 1 in
							 * ts when last found */
	size_t				 nidx;
	int				 loaded;	/* histories and states read */
	int64_t				 history_start;
	int64_t				 settled_hs;	/* history_start of the last
							 * pass */
	int64_t				 lease_ms;	/* wall ms of the last renewal */
	struct detector_pass		 pass;
	struct alert_group		 group;		/* group_wait */
	const atomic_int		*stop;		/* set: end the pass early */
};

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
	free(ts->saved);
	free(ts->saved_T);
	free(ts->w.from);
	free(ts->changed);
	ts->nblocks = n;
	ts->settled_T = 0;
	ts->st = xcalloc(n, sizeof *ts->st);
	ts->last_T = xcalloc(n, sizeof *ts->last_T);
	ts->saved = xcalloc(n, sizeof *ts->saved);
	ts->saved_T = xcalloc(n, sizeof *ts->saved_T);
	ts->w.from = xcalloc(n, sizeof *ts->w.from);
	ts->changed = xcalloc(n, sizeof *ts->changed);
	ts->states_loaded = false;
}

static void
tstate_free(struct tstate *t)
{
	free(t->topic);
	free(t->st);
	free(t->last_T);
	free(t->saved);
	free(t->saved_T);
	free(t->w.from);
	free(t->changed);
	sparse_clear(&t->ser);
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
	free(d->idx);
	redis_free(d->redis);
	free(d->id);
	free(d);
}

int
detector_leading(const struct detector *d)
{
	return d->leading;
}

void
detector_last_pass(const struct detector *d, struct detector_pass *p)
{
	*p = d->pass;
}

static int64_t
lease_ttl_ms(const struct detector *d)
{
	return d->cfg->flush_interval_ms * 3 + 2000;
}

static int
take_lease(struct detector *d, int64_t now_ms)
{
	int was = d->leading;
	bool held;

	if (d->ops->lease(d->arg, d->id, lease_ttl_ms(d), &held) == -1) {
		/* not renewed: another daemon may take it once it expires,
		 * so this one no longer leads (and reads everything again
		 * when it takes the lease back) */
		if (was)
			log_warn("detector cannot renew its lease, follows | "
			    "instance=%s", d->id);
		d->leading = 0;
		return -1;
	}
	d->leading = held;
	d->lease_ms = now_ms;
	if (d->leading && !was) {
		log_info("detector leads | instance=%s", d->id);
		d->loaded = 0;	/* read everything again: another leader
				 * moved the states and took the dirty set */
	} else if (!d->leading && was)
		log_info("detector follows | instance=%s", d->id);
	return 0;
}

/* Renews the lease when an eighth of its TTL has gone by since it was
 * last renewed (so a pass, and the wait after it, never leave it below
 * half); -1 when it cannot, or another daemon holds it now.  Called
 * between read and write batches, window ends and every 1024 topics. */
static int
keep_lease(struct detector *d)
{
	int64_t now = clock_wall_ms();

	if (now - d->lease_ms < lease_ttl_ms(d) / 8)
		return 0;
	if (take_lease(d, now) == -1 || !d->leading)
		return -1;
	return 0;
}

/* keep_lease() at every 1024th topic of a loop over them. */
static int
keep_lease_every(struct detector *d, size_t i)
{
	return (i & 1023) == 1023 ? keep_lease(d) : 0;
}

/* The state ts of topic t found: marked seen, its blocks as t's. */
static struct tstate *
tstate_found(struct tstate *ts, const struct rule_topic *t)
{
	if (ts->nblocks != t->nalerts) {
		/* the blocks changed with a reload: start over */
		tstate_blocks(ts, t->nalerts);
	}
	ts->seen = 1;
	return ts;
}

static struct tstate *
tstate_get(struct detector *d, const struct rule_topic *t)
{
	struct tstate *ts;
	size_t i = strmap_get(&d->tsmap, t->id);

	if (i != STRMAP_NONE)
		return tstate_found(&d->ts[i], t);
	d->ts = xgrow(d->ts, &d->tscap, d->nts + 1, sizeof *d->ts);
	ts = &d->ts[d->nts];
	memset(ts, 0, sizeof *ts);
	ts->topic = xstrdup(t->id);
	ts->have_from = ts->dirty_from = INT64_MAX;
	ts->jitter = (int64_t)(strmap_hash(t->id, strlen(t->id)) %
	    CHECKPOINT_S);
	strmap_put(&d->tsmap, ts->topic, d->nts);
	d->nts++;
	tstate_blocks(ts, t->nalerts);
	ts->seen = 1;
	return ts;
}

/*
 * The index in d->ts of the state of topic i of rs.  A pass asks for every
 * topic: the index each had in the last pass over rs is tried first, and
 * kept while it still holds that topic (forget_unseen moves states; a rule
 * set may be freed and another allocated in its place), which costs no
 * hashing and no probe at a random place of the map.
 */
static size_t
tstate_index(struct detector *d, const struct ruleset *rs, size_t i)
{
	const struct rule_topic *t = &rs->topics[i];
	size_t k;

	if (d->idx_rs != rs || d->nidx != rs->ntopics) {
		free(d->idx);
		d->idx = xcalloc(rs->ntopics + 1, sizeof *d->idx);
		d->idx_rs = rs;
		d->nidx = rs->ntopics;
	}
	k = d->idx[i];
	if (k != 0 && k <= d->nts && strcmp(d->ts[k - 1].topic, t->id) == 0) {
		tstate_found(&d->ts[k - 1], t);
		return k - 1;
	}
	k = (size_t)(tstate_get(d, t) - d->ts);
	d->idx[i] = k + 1;
	return k;
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
	return d->stop != NULL && atomic_load(d->stop);
}

void
detector_set_stop(struct detector *d, const atomic_int *stop)
{
	d->stop = stop;
}

/* After each window end: a digest due in the posts' time goes out in its
 * place in the timeline (before later alerts of a backlog).  A long pass
 * renews the lease here, and ends if it lost it or is asked to stop. */
static int
after_window_end(void *arg, int64_t T)
{
	struct emit_ctx *c = arg;

	if (stopping(c->d) || keep_lease(c->d) == -1)
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

/* spike_reads() callback: the lowest bucket read. */
static int
lowest_read(void *arg, int64_t from, int64_t to, int64_t fresh_from)
{
	int64_t *lo = arg;

	(void)fresh_from;
	if (to > from && from < *lo)
		*lo = from;
	return 0;
}

/* The first bucket the blocks of ts read to step from their w.from[] (or,
 * next true, from Tcur) up to Tcur; INT64_MAX when none. */
static int64_t
reads_from(const struct detector *d, struct tstate *ts, int64_t Tcur,
    bool next)
{
	int64_t lo = INT64_MAX, res = d->cfg->resolution_s;
	size_t b;

	for (b = 0; b < ts->nblocks; b++)
		(void)spike_reads(&ts->a[b], &ts->w.ser, &ts->st[b],
		    next ? Tcur : ts->w.from[b], Tcur, lowest_read, &lo);
	if (lo != INT64_MAX && d->history_start != INT64_MAX &&
	    lo < d->history_start)
		lo = d->history_start - d->history_start % res;
	return lo;
}

/* spike_series.distinct: through the evidence source. */
static int
series_distinct(void *arg, int64_t from, int64_t to, int64_t out[3])
{
	const struct tdistinct *x = arg;

	if (x->d->ops->evidence.distinct == NULL)
		return -1;
	return x->d->ops->evidence.distinct(x->d->arg, x->t, from, to, out);
}

/* Readies topic t for stepping to Tcur (series, first window ends) and
 * says which span of its counts to read, if any: [*from, read_to). */
static bool
prepare_topic(struct detector *d, struct tstate *ts,
    const struct rule_topic *t, int64_t Tcur, int64_t read_to, int64_t *from)
{
	int64_t need;
	size_t b;

	ts->a = t->alerts;
	ts->w.ser.resolution_s = d->cfg->resolution_s;
	ts->w.ser.history_start = d->history_start;
	sparse_series(&ts->ser, &ts->w.ser);
	ts->dx.d = d;
	ts->dx.t = t;
	ts->w.ser.distinct = series_distinct;
	ts->w.ser.distinct_arg = &ts->dx;
	ts->w.nblocks = ts->nblocks;
	ts->w.st = ts->st;
	ts->step = ts->touched = false;
	for (b = 0; b < t->nalerts; b++) {
		ts->w.from[b] = first_window_end(d, ts, b, Tcur);
		ts->changed[b] = 0;
	}
	/* nothing counted and every block already at Tcur: what it reads is
	 * what it read last time */
	if (ts->settled_T == Tcur && d->settled_hs == d->history_start &&
	    ts->have_from != INT64_MAX && ts->dirty_from >= read_to)
		return false;
	need = reads_from(d, ts, Tcur, false);
	if (need == INT64_MAX || need >= read_to)
		return false;
	if (ts->have_from == INT64_MAX || need < ts->have_from) {
		/* nothing read yet, or blocks reaching further back */
		*from = need;
		ts->have_from = need;
	} else if (ts->dirty_from < read_to)
		*from = ts->dirty_from > ts->have_from ? ts->dirty_from :
		    ts->have_from;
	else
		return false;
	if (ts->dirty_from < read_to)
		ts->dirty_from = INT64_MAX;
	return true;
}

/* Takes the dirty set: each topic's earliest bucket counted into.  With
 * `discard` (before reading everything) it is only emptied. */
static int
take_dirty(struct detector *d, bool discard)
{
	char **topics;
	int64_t *buckets;
	size_t n, i, k;

	if (d->ops->dirty(d->arg, d->id, &topics, &buckets, &n) == -1) {
		log_warn("detector cannot take the dirty set | error=\"%s\"",
		    d->ops->errstr(d->arg));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!discard &&
		    (k = strmap_get(&d->tsmap, topics[i])) != STRMAP_NONE &&
		    buckets[i] < d->ts[k].dirty_from)
			d->ts[k].dirty_from = buckets[i];
		free(topics[i]);
	}
	free(topics);
	free(buckets);
	return 0;
}

/* Reads the stored states of the topics that have none in memory. */
static int
load_states(struct detector *d, struct tstate **tsv, size_t nt)
{
	const char **topics = xcalloc(nt + 1, sizeof *topics);
	size_t *nb = xcalloc(nt + 1, sizeof *nb), n = 0, total = 0, i, b, at, k;
	struct tstate **which = xcalloc(nt + 1, sizeof *which);
	struct spike_state *st;
	int64_t *last_T;
	bool *found;
	int rc = 0;

	for (i = 0; i < nt; i++)
		if (tsv[i] != NULL && !tsv[i]->states_loaded) {
			which[n] = tsv[i];
			topics[n] = tsv[i]->topic;
			nb[n] = tsv[i]->nblocks;
			total += nb[n++];
		}
	st = xcalloc(total + 1, sizeof *st);
	last_T = xcalloc(total + 1, sizeof *last_T);
	found = xcalloc(total + 1, sizeof *found);
	/* in batches, the lease renewed between them */
	for (i = at = 0; rc == 0 && i < n; i += k) {
		k = n - i < STATE_BATCH ? n - i : STATE_BATCH;
		if (keep_lease(d) == -1 || d->ops->load_states(d->arg,
		    topics + i, nb + i, k, st + at, last_T + at,
		    found + at) == -1)
			rc = -1;
		for (b = i; b < i + k; b++)
			at += nb[b];
	}
	for (i = at = 0; rc == 0 && i < n; at += nb[i], i++) {
		struct tstate *ts = which[i];

		for (b = 0; b < ts->nblocks; b++) {
			memset(&ts->st[b], 0, sizeof ts->st[b]);
			ts->last_T[b] = ts->saved_T[b] = 0;
			if (found[at + b]) {
				ts->st[b] = st[at + b];
				ts->last_T[b] = ts->saved_T[b] = last_T[at + b];
			}
			ts->saved[b] = ts->st[b];
		}
		ts->states_loaded = true;
	}
	free(topics);
	free(nb);
	free(which);
	free(st);
	free(last_T);
	free(found);
	return rc;
}

/* Reads the spans (of tsv's topics, spans[k] for topic at[k]) in batches,
 * renewing the lease between them.  -1: an error, the lease lost, or
 * stopped. */
static int
read_counts(struct detector *d, struct tstate **which, struct store_span *v,
    size_t n)
{
	size_t i, k, m;

	for (i = 0; i < n; i += m) {
		m = n - i < READ_BATCH ? n - i : READ_BATCH;
		if (stopping(d) || keep_lease(d) == -1)
			return -1;
		if (d->ops->read_spans(d->arg, d->cfg->resolution_s, v + i,
		    m) == -1) {
			log_warn("detector cannot read counts | error=\"%s\"",
			    d->ops->errstr(d->arg));
			return -1;
		}
		for (k = i; k < i + m; k++) {
			sparse_replace(&which[k]->ser, v[k].from, v[k].to,
			    v[k].pts, v[k].n);
			free(v[k].pts);
			v[k].pts = NULL;
			which[k]->touched = true;
		}
	}
	return 0;
}

/* Window length of block a in seconds, as spike.c rounds it. */
static int64_t
window_seconds(const struct rule_alert *a, int64_t res)
{
	int64_t nb = a->window_s > 0 ? (a->window_s + res - 1) / res : 1;

	return nb * res;
}

/* Whether topic i needs stepping, and its blocks that cannot act step at
 * once: a block without an EWMA baseline, not firing, with no count in any
 * window it goes through, only records its last step (as spike_run would,
 * one window end at a time).  Lowers *Tmin to the first window end of a
 * block left to step. */
static bool
plan_topic(const struct detector *d, const struct ruleset *rs,
    struct tstate **tsv, size_t i, int64_t Tcur, int64_t *Tmin)
{
	const struct rule_topic *t = &rs->topics[i];
	struct tstate *ts = tsv[i];
	int64_t res = d->cfg->resolution_s;
	size_t b, k;
	bool need = ts->touched, any = false;

	for (b = 0; b < ts->nblocks; b++)
		if (ts->last_T[b] != Tcur)
			need = true;
	for (k = 0; !need && k < t->ninhibit; k++)
		if (t->inhibit_idx != NULL && tsv[t->inhibit_idx[k]] != NULL &&
		    tsv[t->inhibit_idx[k]]->step)
			need = true;
	for (b = 0; b < ts->nblocks; b++) {
		const struct rule_alert *a = &ts->a[b];
		struct spike_state *st = &ts->st[b];
		int64_t T0 = ts->w.from[b];

		if (need && (a->halflife_s > 0 || st->firing ||
		    !sparse_quiet(&ts->ser, T0 - window_seconds(a, res),
		    Tcur))) {
			any = true;
			if (T0 < *Tmin)
				*Tmin = T0;
			continue;
		}
		if (need && (!st->stepped || Tcur >= st->last_step)) {
			st->stepped = true;
			st->last_step = Tcur;
		}
		ts->last_T[b] = Tcur;
		ts->w.from[b] = INT64_MAX;	/* not stepped */
	}
	ts->step = any;
	return any;
}

/* A block's state differs from the one stored in what an alert needs. */
static bool
state_moved(const struct spike_state *a, const struct spike_state *b)
{
	return a->firing != b->firing || a->notified != b->notified ||
	    a->since != b->since || a->notified_at != b->notified_at ||
	    a->last_true != b->last_true;
}

/* Queues block b of ts to be stored when its state moved, an action was
 * taken, or its checkpoint is due. */
static void
queue_save(struct tstate *ts, size_t b, bool force,
    struct store_state_put **v, size_t *n, size_t *cap)
{
	if (!force && !ts->changed[b] && ts->saved_T[b] != 0 &&
	    !state_moved(&ts->st[b], &ts->saved[b]) &&
	    ts->last_T[b] - ts->saved_T[b] < CHECKPOINT_S + ts->jitter)
		return;
	*v = xgrow(*v, cap, *n + 1, sizeof **v);
	(*v)[*n].topic = ts->topic;
	(*v)[*n].block = b;
	(*v)[*n].st = ts->st[b];
	(*v)[*n].last_T = ts->last_T[b];
	(*n)++;
}

/* Stores the queued states in batches, renewing the lease between them
 * (a daemon that lost it stops writing); each stored one is what is
 * stored now.  Returns how many were stored. */
static size_t
save_states(struct detector *d, const struct store_state_put *v, size_t n)
{
	size_t i, k, m;

	for (i = 0; i < n; i += m) {
		m = n - i < STATE_BATCH ? n - i : STATE_BATCH;
		while (i + m < n && strcmp(v[i + m].topic,
		    v[i + m - 1].topic) == 0)
			m++;	/* a topic's blocks in one batch */
		if (keep_lease(d) == -1 ||
		    d->ops->save_states(d->arg, v + i, m) == -1) {
			log_warn("detector cannot store block states | "
			    "error=\"%s\"", d->ops->errstr(d->arg));
			break;
		}
		for (k = i; k < i + m; k++) {
			struct tstate *ts = &d->ts[strmap_get(&d->tsmap,
			    v[k].topic)];

			ts->saved[v[k].block] = v[k].st;
			ts->saved_T[v[k].block] = v[k].last_T;
		}
	}
	return i < n ? i : n;
}

/* After the steps: each block's last window end, the states to store (in
 * batches), and each series trimmed to what the blocks can still read.
 * rc -1: the pass failed or was stopped; each block goes on from where it
 * got to, saved now only when stopping (for whoever leads next). */
static void
finish_topics(struct detector *d, const struct ruleset *rs,
    struct tstate **tsv, int64_t Tcur, int rc)
{
	struct store_state_put *v = NULL;
	size_t i, b, n = 0, cap = 0;

	for (i = 0; i < rs->ntopics; i++) {
		struct tstate *ts = tsv[i];
		int64_t keep;

		(void)keep_lease_every(d, i);	/* the saves check it again */
		for (b = 0; ts != NULL && b < ts->nblocks; b++) {
			if (ts->w.from[b] != INT64_MAX)
				ts->last_T[b] = rc == -1 ? ts->w.from[b] : Tcur;
			if (rc != -1 || stopping(d))
				queue_save(ts, b, false, &v, &n, &cap);
		}
		if (ts == NULL || rc == -1)
			continue;
		if (ts->settled_T == Tcur && !ts->touched && !ts->step &&
		    d->settled_hs == d->history_start)
			continue;	/* trimmed for Tcur already */
		keep = reads_from(d, ts, Tcur, true);
		sparse_trim(&ts->ser, keep);
		if (ts->have_from != INT64_MAX && keep != INT64_MAX &&
		    keep > ts->have_from)
			ts->have_from = keep;
		ts->settled_T = Tcur;
		for (b = 0; b < ts->nblocks; b++)
			if (ts->last_T[b] != Tcur)
				ts->settled_T = 0;
	}
	if (rc != -1)
		d->settled_hs = d->history_start;
	d->pass.saved = save_states(d, v, n);
	free(v);
}

void
detector_checkpoint(struct detector *d)
{
	struct store_state_put *v = NULL;
	size_t i, b, n = 0, cap = 0;

	if (!d->leading)
		return;
	for (i = 0; i < d->nts; i++) {
		struct tstate *ts = &d->ts[i];

		for (b = 0; ts->states_loaded && b < ts->nblocks; b++)
			if (ts->last_T[b] != ts->saved_T[b] ||
			    memcmp(&ts->st[b], &ts->saved[b],
			    sizeof ts->st[b]) != 0)
				queue_save(ts, b, true, &v, &n, &cap);
	}
	if (n > 0)
		log_info("detector stores its states | blocks=%zu", n);
	(void)save_states(d, v, n);
	free(v);
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

/* The topics' states and the counts they need, read: everything when
 * the detector has not (a new leader, after an error), else only what
 * flushes counted into since the last pass.  -1 on an error. */
static int
read_topics(struct detector *d, const struct ruleset *rs,
    struct tstate **tsv, int64_t Tcur, int64_t read_to)
{
	struct store_span *v = xcalloc(rs->ntopics + 1, sizeof *v);
	struct tstate **which = xcalloc(rs->ntopics + 1, sizeof *which);
	size_t i, n = 0;
	int64_t from;
	int rc = 0;

	d->pass.full = !d->loaded;
	if (!d->loaded)
		for (i = 0; i < d->nts; i++) {
			d->ts[i].states_loaded = false;
			d->ts[i].settled_T = 0;
			d->ts[i].have_from = d->ts[i].dirty_from = INT64_MAX;
			sparse_clear(&d->ts[i].ser);
		}
	/* the dirty set first: what is counted after this is in it again */
	if (take_dirty(d, !d->loaded) == -1 ||
	    load_states(d, tsv, rs->ntopics) == -1) {
		free(v);
		free(which);
		return -1;
	}
	for (i = 0; i < rs->ntopics && rc == 0; i++) {
		rc = keep_lease_every(d, i);
		if (rc == 0 && tsv[i] != NULL && prepare_topic(d, tsv[i],
		    &rs->topics[i], Tcur, read_to, &from)) {
			v[n].topic = tsv[i]->topic;
			v[n].from = from;
			v[n].to = read_to;
			which[n++] = tsv[i];
		}
	}
	d->pass.read = n;
	if (rc == 0)
		rc = read_counts(d, which, v, n);
	free(v);
	free(which);
	return rc;
}

/* Steps every block of rs up to Tcur; returns the alerts published, -1
 * (an error, or stopped while stepping), or -2 (stopped before). */
static int
step_all(struct detector *d, const struct ruleset *rs, int64_t Tcur,
    int64_t read_to, int64_t now_ms)
{
	struct tstate **tsv;
	struct watch_topic **wtv;
	struct emit_ctx ec;
	int64_t Tmin = INT64_MAX, res = d->cfg->resolution_s;
	size_t i, k, *act, nact = 0;
	int rc = 0;

	/* act holds each topic's index in d->ts first: tstate_get may move
	 * d->ts, so the pointers are taken after */
	act = xcalloc(rs->ntopics + 1, sizeof *act);
	for (i = 0; i < rs->ntopics; i++)
		if (rs->topics[i].nalerts > 0)
			act[i] = tstate_index(d, rs, i);
	tsv = xcalloc(rs->ntopics + 1, sizeof *tsv);
	wtv = xcalloc(rs->ntopics + 1, sizeof *wtv);
	for (i = 0; i < rs->ntopics; i++)
		if (rs->topics[i].nalerts > 0) {
			tsv[i] = &d->ts[act[i]];
			wtv[i] = &tsv[i]->w;
			d->pass.topics++;
		}
	if (read_topics(d, rs, tsv, Tcur, read_to) == -1) {
		d->loaded = 0;	/* the dirty set was taken: read it all */
		rc = stopping(d) ? -2 : -1;
		goto out;
	}
	for (k = 0; k < rs->ntopics; k++) {
		i = rs->order != NULL ? rs->order[k] : k;
		if (keep_lease_every(d, k) == -1) {
			rc = -1;	/* nothing stepped: as a failed read */
			d->loaded = 0;
			goto out;
		}
		if (tsv[i] != NULL && plan_topic(d, rs, tsv, i, Tcur, &Tmin))
			act[nact++] = i;
	}
	d->pass.stepped = nact;

	/* the topics with something to step, in step through the window
	 * ends (watch.c); a digest due before the first is sent first */
	memset(&ec, 0, sizeof ec);
	ec.d = d;
	ec.rs = rs;
	ec.tsv = tsv;
	ec.now_ms = now_ms;
	if (Tmin == INT64_MAX)
		Tmin = Tcur;
	rc = after_window_end(&ec, Tmin - res);
	if (rc == 0)
		rc = watch_step_order(rs, wtv, act, nact, Tmin, Tcur, res,
		    emit_action, after_window_end, &ec);
	finish_topics(d, rs, tsv, Tcur, rc);
	if (rc == 0)
		rc = ec.published;
out:
	free(act);
	free(wtv);
	free(tsv);
	return rc;
}

/* Counts the series' memory for the pass report. */
static void
count_series(struct detector *d)
{
	size_t i;

	d->pass.points = d->pass.bytes = 0;
	for (i = 0; i < d->nts; i++) {
		d->pass.points += sparse_len(&d->ts[i].ser);
		d->pass.bytes += sparse_bytes(&d->ts[i].ser);
	}
}

int
detector_tick(struct detector *d, const struct ruleset *rs, int64_t now_ms)
{
	int64_t res = d->cfg->resolution_s, wm, newest, Tcur, read_to;
	int published = 0;
	size_t i;

	memset(&d->pass, 0, sizeof d->pass);
	if (take_lease(d, clock_wall_ms()) == -1 || !d->leading)
		return d->leading ? -1 : 0;
	if (d->ops->watermark(d->arg, &wm, &newest) == -1 ||
	    d->ops->since(d->arg, &d->history_start) == -1)
		return -1;
	if (wm < 0)
		return 0;
	Tcur = (wm / 1000) / res * res + res;
	/* no count is in a bucket after the newest post's */
	read_to = (newest / 1000) / res * res + res;
	if (read_to < Tcur)
		read_to = Tcur;
	for (i = 0; i < d->nts; i++)
		d->ts[i].seen = 0;
	published = step_all(d, rs, Tcur, read_to, now_ms);
	count_series(d);
	if (published < 0)
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
	struct normalizer	*norm;		/* for text keys, made when first
						 * needed */
	struct textkey_scratch	 tks;
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
	norm_free(r->norm);
	textkey_scratch_free(&r->tks);
	free(r);
}

static int
redis_lease(void *arg, const char *holder, int64_t ttl_ms, bool *held)
{
	return store_take_lease(((struct detector_redis *)arg)->store, holder,
	    ttl_ms, held);
}

static int
redis_watermark(void *arg, int64_t *wm_ms, int64_t *newest_ms)
{
	struct detector_redis *r = arg;

	return store_get_watermark(r->store, r->cfg->kafka_group, wm_ms,
	    newest_ms);
}

static int
redis_since(void *arg, int64_t *since)
{
	return store_get_since(((struct detector_redis *)arg)->store, since);
}

static int
redis_dirty(void *arg, const char *holder, char ***topics, int64_t **buckets,
    size_t *n)
{
	return store_pop_dirty(((struct detector_redis *)arg)->store, holder,
	    topics, buckets, n);
}

static int
redis_load_states(void *arg, const char *const *topics, const size_t *nblocks,
    size_t n, struct spike_state *st, int64_t *last_T, bool *found)
{
	return store_get_states_multi(((struct detector_redis *)arg)->store,
	    topics, nblocks, n, st, last_T, found);
}

static int
redis_save_states(void *arg, const struct store_state_put *v, size_t n)
{
	struct detector_redis *r = arg;

	return store_put_states(r->store, v, n, r->cfg->retention_s);
}

static int
redis_read_spans(void *arg, int64_t res, struct store_span *v, size_t n)
{
	return store_read_spans(((struct detector_redis *)arg)->store, res, v,
	    n);
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
redis_distinct(void *arg, const struct rule_topic *t, int64_t from,
    int64_t to, int64_t out[3])
{
	return store_get_distinct(((struct detector_redis *)arg)->store, t->id,
	    from, to, out);
}

/* alert_evidence.text_key, with the posts' normaliser (0 if it cannot
 * be made). */
static uint64_t
redis_text_key(void *arg, const char *text, size_t len)
{
	struct detector_redis *r = arg;
	char err[256];
	uint64_t k = 0;

	if (r->norm == NULL && (r->norm = norm_new(&r->cfg->norm, err,
	    sizeof err)) == NULL)
		return 0;
	(void)textkey_of_text(r->norm, text, len, &r->tks, &k);
	return k;
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
	.dirty = redis_dirty,
	.load_states = redis_load_states,
	.save_states = redis_save_states,
	.read_spans = redis_read_spans,
	.publish = redis_publish,
	.errstr = redis_errstr,
	.evidence = { .top = redis_top, .samples = redis_samples,
	    .distinct = redis_distinct, .text_key = redis_text_key },
	.held = { .add = redis_held_add, .list = redis_held_list,
	    .send = redis_held_send },
};
