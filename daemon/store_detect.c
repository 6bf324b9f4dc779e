/*
 * store_detect.c — the detector's keys in Redis, and what `tidewatch top`
 * reads of them.
 *
 * DESIGN: the part of the schema (see store.c for the counters) that the
 * detection side owns:
 *   <p>leader          the detection lease: the holder's instance id, PX
 *                      (SET NX, renewed only by its holder, one script)
 *   <p>pos:<group>     read for the watermark: "t:" newest post ms and "l:"
 *                      lag of each partition (written by store_flush)
 *   <p>since           read for the start of the counted history
 *   <p>state:<topic>   block index → the block's state as text (below)
 *   <p>held            group_wait: "a:<alert id>" → alert JSON, and
 *                      _since, _wall, _wait (first window end and wall ms
 *                      held, shortest wait); taken with the dedup key
 *                      <p>dedup:<alert id> as a publish is
 *   <p>c:*:<day>??     scanned for the topics counted today; read in
 *                      spans for the detector (GETRANGE of the cells of
 *                      each hour key)
 *   <p>dirty           popped (ZPOPMIN): the topics flushes counted into,
 *                      with the earliest bucket (written by FLUSH_LUA)
 * A block state is "firing notified since notified_at last_true last_T"
 * then the EWMA baseline "ew_n ew_T ew_span ew_skip ew_mean ew_var" (a state
 * written before the EWMA existed has only the first six), so a new leader,
 * a restarted daemon and `top` all read what the last leader stepped.
 * The detector's batches (dirty set, spans of counts, states) are
 * pipelined: about PIPE_BATCH commands are sent, then their replies read.
 * Alert text is opaque here: callers give JSON strings.  Same thread rules
 * as store.c: one store per thread.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

/* A command of argv; NULL on an error (store_errstr says which). */
static redisReply *
detect_run(struct store *s, int argc, const char **argv)
{
	return store_run(s, argc, argv, NULL);
}

/* The key of kind (with a), allocated; caller frees. */
static char *
detect_key(const struct store *s, enum store_key kind, const char *a,
    const char *b)
{
	size_t n = store_key(s, kind, a, b, NULL, NULL, 0) + 1;
	char *k = xmalloc(n);

	store_key(s, kind, a, b, NULL, k, n);
	return k;
}

/* ---- lease, watermark, history ----------------------------------------- */

static const char LEASE_LUA[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 "
    "elseif redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then "
    "  return 1 else return 0 end";

int
store_take_lease(struct store *s, const char *holder, int64_t ttl_ms,
    bool *held)
{
	char *key, ttl[32];
	const char *argv[6];
	redisReply *r;

	key = detect_key(s, STORE_KEY_LEADER, NULL, NULL);
	snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
	argv[0] = "EVAL";
	argv[1] = LEASE_LUA;
	argv[2] = "1";
	argv[3] = key;
	argv[4] = holder;
	argv[5] = ttl;
	r = detect_run(s, 6, argv);
	free(key);
	if (r == NULL)
		return -1;
	*held = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return 0;
}

/* The lag field "l:<partition>" of f = "t:<partition>" is not 0: the
 * partition was behind its end at the last flush, or its end was unknown
 * (-1: not fetched yet, so older posts may still come from it). */
static bool
partition_behind(const redisReply *r, const char *f)
{
	size_t j;

	for (j = 0; j + 1 < r->elements; j += 2) {
		const char *g = r->element[j]->str, *v = r->element[j + 1]->str;

		if (g != NULL && g[0] == 'l' && g[1] == ':' &&
		    strcmp(g + 2, f + 2) == 0 && v != NULL &&
		    strtoll(v, NULL, 10) != 0)
			return true;
	}
	return false;
}

int
store_get_watermark(struct store *s, const char *group, int64_t *wm_ms,
    int64_t *newest_ms)
{
	char *key;
	const char *argv[2];
	redisReply *r;
	int64_t maxt = -1, minlag = INT64_MAX;
	size_t i;

	key = detect_key(s, STORE_KEY_POSITIONS, group, NULL);
	argv[0] = "HGETALL";
	argv[1] = key;
	r = detect_run(s, 2, argv);
	free(key);
	if (r == NULL)
		return -1;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const char *f = r->element[i]->str, *v = r->element[i + 1]->str;
		int64_t t;

		if (f == NULL || v == NULL || strncmp(f, "t:", 2) != 0)
			continue;
		t = strtoll(v, NULL, 10);
		if (t > maxt)
			maxt = t;
		if (t < minlag && partition_behind(r, f))
			minlag = t;
	}
	freeReplyObject(r);
	*wm_ms = minlag != INT64_MAX ? minlag : maxt;
	if (newest_ms != NULL)
		*newest_ms = maxt;
	return 0;
}

int
store_get_since(struct store *s, int64_t *since)
{
	char *key;
	const char *argv[2];
	redisReply *r;

	key = detect_key(s, STORE_KEY_SINCE, NULL, NULL);
	argv[0] = "GET";
	argv[1] = key;
	r = detect_run(s, 2, argv);
	free(key);
	if (r == NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING)
		*since = strtoll(r->str, NULL, 10);
	freeReplyObject(r);
	return 0;
}

/* ---- block states ------------------------------------------------------ */

/* Parses a state text into *st and *last_T; false if it is not one. */
static bool
state_parse(const char *text, struct spike_state *st, int64_t *last_T)
{
	int firing = 0, notified = 0, n;
	long long since, notified_at, last_true, lastT;
	long long ew_n, ew_T, ew_span, ew_skip;
	double ew_mean, ew_var;

	n = sscanf(text, "%d %d %lld %lld %lld %lld %lld %lld %lld %lld %lg %lg",
	    &firing, &notified, &since, &notified_at, &last_true, &lastT,
	    &ew_n, &ew_T, &ew_span, &ew_skip, &ew_mean, &ew_var);
	if (n != 6 && n != 12)
		return false;
	memset(st, 0, sizeof *st);
	if (n == 12 && ew_n >= 0 && ew_span >= 0 && ew_skip >= 0 &&
	    isfinite(ew_mean) && isfinite(ew_var)) {
		/* the EWMA baseline (older states have none) */
		st->ew_n = ew_n;
		st->ew_T = ew_T;
		st->ew_span = ew_span;
		st->ew_skip = ew_skip;
		st->ew_mean = ew_mean;
		st->ew_var = ew_var;
	}
	st->firing = firing != 0;
	st->notified = notified != 0;
	st->stepped = lastT > 0;
	st->last_step = lastT;
	st->since = since;
	st->notified_at = notified_at;
	st->last_true = last_true;
	*last_T = lastT;
	return true;
}

int
store_get_states(struct store *s, const char *topic, size_t n,
    struct spike_state *st, int64_t *last_T, bool *found)
{
	return store_get_states_multi(s, &topic, &n, 1, st, last_T, found);
}

int
store_get_state_summary(struct store *s, const char *topic, bool *any,
    bool *firing)
{
	struct spike_state st;
	int64_t last_T;
	char *key;
	const char *argv[2];
	redisReply *r;
	size_t i;

	key = detect_key(s, STORE_KEY_STATE, topic, NULL);
	argv[0] = "HVALS";
	argv[1] = key;
	r = detect_run(s, 2, argv);
	free(key);
	if (r == NULL)
		return -1;
	*any = *firing = false;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		*any = true;
		if (r->element[i]->str != NULL &&
		    state_parse(r->element[i]->str, &st, &last_T) && st.firing)
			*firing = true;
	}
	freeReplyObject(r);
	return 0;
}

int
store_put_state(struct store *s, const char *topic, size_t b,
    const struct spike_state *st, int64_t last_T, int64_t ttl_s)
{
	struct store_state_put v;

	v.topic = topic;
	v.block = b;
	v.st = *st;
	v.last_T = last_T;
	return store_put_states(s, &v, 1, ttl_s);
}

/* ---- pipelined batches ------------------------------------------------- */

/* Commands sent before their replies are read. */
#define PIPE_BATCH	1000

/* Queues one command on the connection; -1 (and disconnected) on an
 * error. */
static int
pipe_send(struct store *s, redisContext *c, int argc, const char **argv)
{
	if (redisAppendCommandArgv(c, argc, argv, NULL) == REDIS_OK)
		return 0;
	store_set_err(s, "redis: %s", c->errstr[0] ? c->errstr : "out of memory");
	store_disconnect(s);
	return -1;
}

/* The next reply of the pipeline; NULL on an I/O error or an error reply
 * (then the store is disconnected: the replies still due are dropped with
 * the connection). */
static redisReply *
pipe_reply(struct store *s, redisContext *c)
{
	void *v = NULL;
	redisReply *r;

	if (redisGetReply(c, &v) != REDIS_OK || v == NULL) {
		store_set_err(s, "redis: %s",
		    c->errstr[0] ? c->errstr : "connection lost");
		store_disconnect(s);
		return NULL;
	}
	r = v;
	if (r->type == REDIS_REPLY_ERROR) {
		store_set_err(s, "redis: %s", r->str);
		freeReplyObject(r);
		store_disconnect(s);
		return NULL;
	}
	return r;
}

/* Pops up to ARGV[2] members of the dirty set only while ARGV[1] holds
 * the lease: a daemon that lost it takes nothing from the next leader. */
static const char POP_DIRTY_LUA[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end "
    "return redis.call('ZPOPMIN', KEYS[2], ARGV[2])";

/* Adds the (member, score) pairs of one pop to the arrays; false when the
 * set is empty now (fewer than asked for came back). */
static bool
dirty_take(const redisReply *r, char ***topics, int64_t **buckets, size_t *n,
    size_t *cap, size_t *bcap)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY)
		return false;
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->str == NULL || r->element[i + 1]->str == NULL)
			continue;
		*topics = xgrow(*topics, cap, *n + 1, sizeof **topics);
		*buckets = xgrow(*buckets, bcap, *n + 1, sizeof **buckets);
		(*topics)[*n] = xstrdup(r->element[i]->str);
		(*buckets)[(*n)++] = (int64_t)strtod(r->element[i + 1]->str,
		    NULL);
	}
	return r->elements >= 2000;
}

int
store_pop_dirty(struct store *s, const char *holder, char ***topics,
    int64_t **buckets, size_t *n)
{
	const char *argv[7];
	char *lease, *key;
	redisContext *c;
	size_t cap = 0, bcap = 0, k;
	bool more = true, lost = false;
	int rc = 0;

	*topics = NULL;
	*buckets = NULL;
	*n = 0;
	lease = detect_key(s, STORE_KEY_LEADER, NULL, NULL);
	key = detect_key(s, STORE_KEY_DIRTY, NULL, NULL);
	argv[0] = "EVAL";
	argv[1] = POP_DIRTY_LUA;
	argv[2] = "2";
	argv[3] = lease;
	argv[4] = key;
	argv[5] = holder;
	argv[6] = "1000";
	while (more && rc == 0) {
		/* four pops a round trip, until one comes back short */
		if ((c = store_conn(s)) == NULL) {
			rc = -1;
			break;
		}
		for (k = 0; k < 4 && rc == 0; k++)
			rc = pipe_send(s, c, 7, argv);
		for (k = 0; k < 4 && rc == 0; k++) {
			redisReply *r = pipe_reply(s, c);

			if (r == NULL) {
				rc = -1;
				break;
			}
			if (r->type == REDIS_REPLY_NIL) {
				store_set_err(s, "the detection lease is "
				    "held by another daemon");
				rc = -1;
				lost = true;
			} else if (!dirty_take(r, topics, buckets, n, &cap,
			    &bcap))
				more = false;
			freeReplyObject(r);
		}
		while (lost && k < 4) {	/* the replies still due */
			redisReply *r = pipe_reply(s, c);

			if (r == NULL)
				break;
			freeReplyObject(r);
			k++;
		}
	}
	free(lease);
	free(key);
	return rc;
}

/* One command of a span read: GETRANGE of the cells of the buckets
 * [lo, hi) of one hour key (cell 1 + the bucket's index in its hour, u32
 * big-endian; cell 0 is the key's header). */
struct span_cmd {
	size_t	 span;
	int64_t	 lo, hi;
	int64_t	 first;		/* the bucket of the first cell read */
};

/* Adds the buckets of reply r (to command sc) to the span's points. */
static void
span_take(struct store_span *sp, const struct span_cmd *sc, int64_t res,
    const redisReply *r, size_t *cap)
{
	const unsigned char *c;
	size_t i;

	if (r->type != REDIS_REPLY_STRING)
		return;
	c = (const unsigned char *)r->str;
	for (i = 0; i + 4 <= r->len; i += 4) {
		int64_t b = sc->first + (int64_t)(i / 4) * res;
		uint32_t cnt = (uint32_t)c[i] << 24 | (uint32_t)c[i + 1] << 16 |
		    (uint32_t)c[i + 2] << 8 | c[i + 3];

		if (cnt == 0 || b < sc->lo || b >= sc->hi)
			continue;
		sp->pts = xgrow(sp->pts, cap, sp->n + 1, sizeof *sp->pts);
		sp->pts[sp->n].bucket = b;
		sp->pts[sp->n++].count = cnt;
	}
}

/* Queues the read of [lo, hi) (inside one hour) of span i. */
static int
span_send(struct store *s, redisContext *c, const struct store_span *sp,
    size_t i, int64_t lo, int64_t hi, int64_t res, struct span_cmd *sc)
{
	char key[512], day[48], a[24], b[24];
	const char *argv[4] = { "GETRANGE", key, a, b };
	int64_t hs = store_hour_start(lo);
	int64_t c0 = 1 + (lo - hs + res - 1) / res, c1 = 1 + (hi - hs - 1) / res;

	store_hour_name(lo, day, sizeof day);
	store_key(s, STORE_KEY_COUNTS, sp->topic, day, NULL, key, sizeof key);
	sc->span = i;
	sc->lo = lo;
	sc->hi = hi;
	sc->first = hs + (c0 - 1) * res;
	if (c1 < c0)		/* no bucket starts in [lo, hi): read nothing */
		c1 = c0 - 1;
	snprintf(a, sizeof a, "%" PRId64, c0 * 4);
	snprintf(b, sizeof b, "%" PRId64, c1 * 4 + 3);
	return pipe_send(s, c, 4, argv);
}

/* Where span i's reading starts: its from, or the hour of the first
 * bucket ever counted when that is later (no key is older). */
static int64_t
span_start(const struct store_span *v, size_t i, int64_t first)
{
	return v[i].from > first ? v[i].from : first;
}

int
store_read_spans(struct store *s, int64_t res, struct store_span *v,
    size_t n)
{
	struct span_cmd *cmds = xcalloc(PIPE_BATCH + 64, sizeof *cmds);
	size_t *caps = xcalloc(n + 1, sizeof *caps);
	size_t i = 0, k, nc;
	int64_t lo = 0, first = INT64_MIN;
	redisContext *c;
	int rc = 0;

	(void)res;	/* the cells are the store's buckets */
	res = store_resolution_s(s);
	for (k = 0; k < n; k++) {
		v[k].pts = NULL;
		v[k].n = 0;
	}
	if (n > 0 && store_get_since(s, &first) == -1)
		rc = -1;
	if (first != INT64_MIN)
		first = store_hour_start(first);
	while (i < n && span_start(v, i, first) >= v[i].to)	/* empty */
		i++;
	if (i < n)
		lo = span_start(v, i, first);
	while (i < n && rc == 0) {
		if ((c = store_conn(s)) == NULL) {
			rc = -1;
			break;
		}
		/* a batch of commands: each span's hour keys in turn */
		for (nc = 0; i < n && nc < PIPE_BATCH && rc == 0; nc++) {
			int64_t hi = store_hour_start(lo) + 3600;

			if (hi > v[i].to)
				hi = v[i].to;
			rc = span_send(s, c, &v[i], i, lo, hi, res, &cmds[nc]);
			lo = hi;
			if (lo >= v[i].to) {	/* the next span that reads */
				while (++i < n &&
				    span_start(v, i, first) >= v[i].to)
					;
				if (i < n)
					lo = span_start(v, i, first);
			}
		}
		for (k = 0; k < nc && rc == 0; k++) {
			redisReply *r = pipe_reply(s, c);

			if (r == NULL) {
				rc = -1;
				break;
			}
			span_take(&v[cmds[k].span], &cmds[k], res, r,
			    &caps[cmds[k].span]);
			freeReplyObject(r);
		}
	}
	free(cmds);
	free(caps);
	return rc;
}

int
store_get_counts(struct store *s, const char *topic, int64_t from,
    int64_t res, size_t n, int64_t *out)
{
	struct store_span sp;
	size_t i;

	if (n == 0)
		return 0;
	memset(out, 0, n * sizeof *out);
	sp.topic = topic;
	sp.from = from;
	sp.to = from + (int64_t)n * res;
	if (store_read_spans(s, res, &sp, 1) == -1)
		return -1;
	for (i = 0; i < sp.n; i++)
		out[(sp.pts[i].bucket - from) / res] = sp.pts[i].count;
	free(sp.pts);
	return 0;
}

int
store_get_states_multi(struct store *s, const char *const *topics,
    const size_t *nblocks, size_t n, struct spike_state *st, int64_t *last_T,
    bool *found)
{
	const char **argv;
	char *key, (*fields)[24];
	size_t i = 0, j, k, b, off = 0, maxb = 0, total = 0, sent, at;
	redisContext *c;
	int rc = 0;

	for (k = 0; k < n; k++) {
		total += nblocks[k];
		if (nblocks[k] > maxb)
			maxb = nblocks[k];
	}
	for (k = 0; k < total; k++)
		found[k] = false;
	argv = xcalloc(maxb + 2, sizeof *argv);
	fields = xcalloc(maxb + 1, sizeof *fields);
	for (b = 0; b < maxb; b++)
		snprintf(fields[b], sizeof fields[b], "%zu", b);
	argv[0] = "HMGET";
	while (i < n && rc == 0) {
		if ((c = store_conn(s)) == NULL) {
			rc = -1;
			break;
		}
		for (j = i, sent = 0; j < n && sent < PIPE_BATCH && rc == 0;
		    j++) {
			if (nblocks[j] == 0)
				continue;
			key = detect_key(s, STORE_KEY_STATE, topics[j], NULL);
			argv[1] = key;
			for (b = 0; b < nblocks[j]; b++)
				argv[b + 2] = fields[b];
			rc = pipe_send(s, c, (int)nblocks[j] + 2, argv);
			free(key);
			sent++;
		}
		for (at = off; i < j && rc == 0; at += nblocks[i], i++) {
			redisReply *r;

			if (nblocks[i] == 0)
				continue;
			if ((r = pipe_reply(s, c)) == NULL) {
				rc = -1;
				break;
			}
			for (b = 0; r->type == REDIS_REPLY_ARRAY &&
			    b < r->elements && b < nblocks[i]; b++)
				if (r->element[b]->type == REDIS_REPLY_STRING)
					found[at + b] = state_parse(
					    r->element[b]->str, &st[at + b],
					    &last_T[at + b]);
			freeReplyObject(r);
		}
		off = at;
	}
	free(argv);
	free(fields);
	return rc;
}

/* The text of one block state (see the top of the file). */
static void
state_format(const struct spike_state *st, int64_t last_T, char *val,
    size_t sz)
{
	snprintf(val, sz, "%d %d %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
	    " %.17g %.17g", st->firing ? 1 : 0, st->notified ? 1 : 0,
	    st->since, st->notified_at, st->last_true, last_T,
	    st->ew_n, st->ew_T, st->ew_span, st->ew_skip, st->ew_mean,
	    st->ew_var);
}

int
store_put_states(struct store *s, const struct store_state_put *v,
    size_t n, int64_t ttl_s)
{
	const char **argv = NULL;
	char *key, ttl[32], (*vals)[320] = NULL, (*fields)[24] = NULL;
	size_t i = 0, j, k, m, cap = 0, sent;
	redisContext *c;
	int rc = 0;

	snprintf(ttl, sizeof ttl, "%" PRId64, ttl_s);
	while (i < n && rc == 0) {
		if ((c = store_conn(s)) == NULL) {
			rc = -1;
			break;
		}
		for (sent = 0; i < n && sent < PIPE_BATCH && rc == 0;
		    i = j, sent += 2) {
			/* this topic's blocks: one HSET, then EXPIRE */
			for (j = i; j < n && strcmp(v[j].topic, v[i].topic) == 0;
			    j++)
				;
			m = j - i;
			if (2 * m + 2 > cap) {
				cap = 2 * m + 2;
				argv = xrealloc(argv, cap * sizeof *argv);
				vals = xrealloc(vals, cap * sizeof *vals);
				fields = xrealloc(fields, cap * sizeof *fields);
			}
			key = detect_key(s, STORE_KEY_STATE, v[i].topic, NULL);
			argv[0] = "HSET";
			argv[1] = key;
			for (k = 0; k < m; k++) {
				snprintf(fields[k], sizeof fields[k], "%zu",
				    v[i + k].block);
				state_format(&v[i + k].st, v[i + k].last_T,
				    vals[k], sizeof vals[k]);
				argv[2 + 2 * k] = fields[k];
				argv[3 + 2 * k] = vals[k];
			}
			rc = pipe_send(s, c, (int)(2 * m + 2), argv);
			if (rc == 0) {
				argv[0] = "EXPIRE";
				argv[2] = ttl;
				rc = pipe_send(s, c, 3, argv);
			}
			free(key);
		}
		for (k = 0; k < sent && rc == 0; k++) {
			redisReply *r = pipe_reply(s, c);

			if (r == NULL)
				rc = -1;
			else
				freeReplyObject(r);
		}
	}
	free(argv);
	free(vals);
	free(fields);
	return rc;
}

/* ---- group_wait: held alerts ------------------------------------------- */

static const char HOLD_LUA[] =
"if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then\n"
"  redis.call('HSET', KEYS[2], 'a:' .. ARGV[2], ARGV[3])\n"
"  redis.call('HSETNX', KEYS[2], '_since', ARGV[4])\n"
"  redis.call('HSETNX', KEYS[2], '_wall', ARGV[6])\n"
"  local w = tonumber(redis.call('HGET', KEYS[2], '_wait') or ARGV[5])\n"
"  if tonumber(ARGV[5]) < w then w = tonumber(ARGV[5]) end\n"
"  redis.call('HSET', KEYS[2], '_wait', w)\n"
"  redis.call('PEXPIRE', KEYS[2], ARGV[1])\n"
"  return 1\n"
"end\n"
"return 0\n";

/* Sends the digest if the hash is still what was read; -1 if it changed.
 * As PUBLISH_LUA does for one alert: if an XADD fails, the entries this
 * digest added are taken back, the dedup key is given back and the held
 * alerts stay, so the next try sends them all (nothing is lost). */
static const char SEND_HELD_LUA[] =
"if redis.call('HLEN', KEYS[1]) ~= tonumber(ARGV[1]) or\n"
"    redis.call('HGET', KEYS[1], '_since') ~= ARGV[2] then\n"
"  return -1\n"
"end\n"
"local n = 0\n"
"if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[6]) then\n"
"  local all = redis.call('HGETALL', KEYS[1])\n"
"  local added = {}\n"
"  for i = 1, #all, 2 do\n"
"    if string.sub(all[i], 1, 2) == 'a:' then\n"
"      local ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*',\n"
"          'alert', all[i + 1])\n"
"      if type(ok) == 'table' and ok.err then\n"
"        for _, id in ipairs(added) do redis.call('XDEL', KEYS[2], id) end\n"
"        redis.call('DEL', KEYS[3])\n"
"        return redis.error_reply(ok.err)\n"
"      end\n"
"      added[#added + 1] = ok\n"
"      n = n + 1\n"
"    end\n"
"  end\n"
"  redis.call('PUBLISH', ARGV[3], ARGV[5])\n"
"end\n"
"redis.call('DEL', KEYS[1])\n"
"return n\n";

int
store_held_add(struct store *s, const char *id, const char *json,
    int64_t window_end, int64_t wall_ms, int64_t wait_s, int64_t ttl_ms)
{
	char ttl[32], since[32], wait[32], wall[32];
	char *dedup, *held;
	const char *argv[11];
	redisReply *r;
	int rc;

	dedup = detect_key(s, STORE_KEY_DEDUP, id, NULL);
	held = detect_key(s, STORE_KEY_HELD, NULL, NULL);
	snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
	snprintf(since, sizeof since, "%" PRId64, window_end);
	snprintf(wait, sizeof wait, "%" PRId64, wait_s);
	snprintf(wall, sizeof wall, "%" PRId64, wall_ms);
	argv[0] = "EVAL";
	argv[1] = HOLD_LUA;
	argv[2] = "2";
	argv[3] = dedup;
	argv[4] = held;
	argv[5] = ttl;
	argv[6] = id;
	argv[7] = json;
	argv[8] = since;
	argv[9] = wait;
	argv[10] = wall;
	r = detect_run(s, 11, argv);
	free(dedup);
	free(held);
	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1 ? 1 : 0) : -1;
	freeReplyObject(r);
	return rc;
}

void
store_held_clear(struct store_held *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->ids[i]);
		free(h->jsons[i]);
	}
	free(h->ids);
	free(h->jsons);
	memset(h, 0, sizeof *h);
}

int
store_held_read(struct store *s, struct store_held *h)
{
	char *held;
	const char *argv[2];
	redisReply *r;
	bool has_since = false;
	size_t i;

	memset(h, 0, sizeof *h);
	held = detect_key(s, STORE_KEY_HELD, NULL, NULL);
	argv[0] = "HGETALL";
	argv[1] = held;
	r = detect_run(s, 2, argv);
	free(held);
	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		freeReplyObject(r);
		return 0;
	}
	h->ids = xcalloc(r->elements / 2 + 1, sizeof *h->ids);
	h->jsons = xcalloc(r->elements / 2 + 1, sizeof *h->jsons);
	h->fields = r->elements / 2;
	for (i = 0; i + 1 < r->elements; i += 2) {
		const char *name = r->element[i]->str;
		const char *val = r->element[i + 1]->str;

		if (name == NULL || val == NULL)
			continue;
		if (strcmp(name, "_since") == 0) {
			has_since = true;
			h->since = strtoll(val, NULL, 10);
		} else if (strcmp(name, "_wall") == 0)
			h->wall_ms = strtoll(val, NULL, 10);
		else if (strcmp(name, "_wait") == 0)
			h->wait_s = strtoll(val, NULL, 10);
		else if (strncmp(name, "a:", 2) == 0) {
			h->ids[h->n] = xstrdup(name + 2);
			h->jsons[h->n++] = xstrdup(val);
		}
	}
	freeReplyObject(r);
	if (!has_since)
		store_held_clear(h);	/* half written: nothing to send */
	return 0;
}

int
store_held_send(struct store *s, const struct store_held *h,
    int64_t stream_maxlen, int64_t dedup_ttl_ms, const char *digest_id,
    const char *digest)
{
	char *held, *channel, *dedup, *stream, hlen[32], since[32], maxlen[32],
	    ttl[32];
	const char *argv[12];
	redisReply *r;
	int rc;

	held = detect_key(s, STORE_KEY_HELD, NULL, NULL);
	dedup = detect_key(s, STORE_KEY_DEDUP, digest_id, NULL);
	channel = detect_key(s, STORE_KEY_CHANNEL, "_digest", NULL);
	stream = detect_key(s, STORE_KEY_ALERT_LOG, NULL, NULL);
	snprintf(hlen, sizeof hlen, "%zu", h->fields);
	snprintf(since, sizeof since, "%" PRId64, h->since);
	snprintf(maxlen, sizeof maxlen, "%" PRId64, stream_maxlen);
	snprintf(ttl, sizeof ttl, "%" PRId64, dedup_ttl_ms);
	argv[0] = "EVAL";
	argv[1] = SEND_HELD_LUA;
	argv[2] = "3";
	argv[3] = held;
	argv[4] = stream;
	argv[5] = dedup;
	argv[6] = hlen;
	argv[7] = since;
	argv[8] = channel;
	argv[9] = maxlen;
	argv[10] = digest;
	argv[11] = ttl;
	r = detect_run(s, 12, argv);
	free(held);
	free(dedup);
	free(channel);
	free(stream);
	if (r == NULL)
		return -1;
	/* -1: more was held meanwhile, send it all next time */
	rc = r->type == REDIS_REPLY_INTEGER && r->integer > 0 ?
	    (int)r->integer : 0;
	freeReplyObject(r);
	return rc;
}

/* ---- topics counted today ---------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the topic ids of one SCAN reply's keys <p>c:<topic>:<hour>. */
static void
add_counted_topics(const redisReply *keys, size_t plen, size_t dlen,
    char ***ids, size_t *n, size_t *cap)
{
	size_t i, len;

	for (i = 0; i < keys->elements; i++) {
		const char *k = keys->element[i]->str;

		if (k == NULL || (len = strlen(k)) <= plen + dlen + 1)
			continue;
		len -= plen + dlen + 1;
		if (len == 4 && strncmp(k + plen, "_all", 4) == 0)
			continue;
		*ids = xgrow(*ids, cap, *n + 1, sizeof **ids);
		(*ids)[(*n)++] = xstrndup(k + plen, len);
	}
}

int
store_counted_topics(struct store *s, const char *day, char ***ids,
    size_t *nids)
{
	char *pattern, cursor[32] = "0", hours[64];
	size_t n = 0, cap = 0, i, k, plen;
	char **v = NULL;

	/* the topic begins where it would in the key of topic "" */
	plen = store_key(s, STORE_KEY_COUNTS, "", day, NULL, NULL, 0) -
	    strlen(day) - 1;
	snprintf(hours, sizeof hours, "%s??", day);	/* one key an hour */
	pattern = detect_key(s, STORE_KEY_COUNTS, "*", hours);
	do {
		const char *argv[6] = { "SCAN", cursor, "MATCH", pattern,
		    "COUNT", "1000" };
		redisReply *r = detect_run(s, 6, argv);

		if (r == NULL) {
			for (i = 0; i < n; i++)
				free(v[i]);
			free(v);
			free(pattern);
			return -1;
		}
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			freeReplyObject(r);
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
		add_counted_topics(r->element[1], plen, strlen(hours), &v, &n,
		    &cap);
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	free(pattern);
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_str);
	/* each once */
	for (i = k = 0; i < n; i++) {
		if (k > 0 && strcmp(v[i], v[k - 1]) == 0)
			free(v[i]);
		else
			v[k++] = v[i];
	}
	*ids = v;
	*nids = k;
	return 0;
}
