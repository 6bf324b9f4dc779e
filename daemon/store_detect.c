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
 *   <p>c:*:<day>       scanned for the topics counted today
 * A block state is "firing notified since notified_at last_true last_T"
 * then the EWMA baseline "ew_n ew_T ew_span ew_skip ew_mean ew_var" (a state
 * written before the EWMA existed has only the first six), so a new leader,
 * a restarted daemon and `top` all read what the last leader stepped.
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

/* The lag field "l:<partition>" of f = "t:<partition>" is positive. */
static bool
partition_behind(const redisReply *r, const char *f)
{
	size_t j;

	for (j = 0; j + 1 < r->elements; j += 2) {
		const char *g = r->element[j]->str, *v = r->element[j + 1]->str;

		if (g != NULL && g[0] == 'l' && g[1] == ':' &&
		    strcmp(g + 2, f + 2) == 0 && v != NULL &&
		    strtoll(v, NULL, 10) > 0)
			return true;
	}
	return false;
}

int
store_get_watermark(struct store *s, const char *group, int64_t *wm_ms)
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
	const char **argv;
	char *key, (*fields)[24];
	redisReply *r;
	size_t b;

	for (b = 0; b < n; b++)
		found[b] = false;
	if (n == 0)
		return 0;
	key = detect_key(s, STORE_KEY_STATE, topic, NULL);
	argv = xcalloc(n + 2, sizeof *argv);
	fields = xcalloc(n, sizeof *fields);
	argv[0] = "HMGET";
	argv[1] = key;
	for (b = 0; b < n; b++) {
		snprintf(fields[b], sizeof fields[b], "%zu", b);
		argv[b + 2] = fields[b];
	}
	r = detect_run(s, (int)n + 2, argv);
	free(argv);
	free(fields);
	free(key);
	if (r == NULL)
		return -1;
	for (b = 0; r->type == REDIS_REPLY_ARRAY && b < r->elements && b < n; b++)
		if (r->element[b]->type == REDIS_REPLY_STRING)
			found[b] = state_parse(r->element[b]->str, &st[b],
			    &last_T[b]);
	freeReplyObject(r);
	return 0;
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
	char *key, field[24], val[320], ttl[32];
	const char *argv[4];
	redisReply *r;
	int rc = 0;

	key = detect_key(s, STORE_KEY_STATE, topic, NULL);
	snprintf(field, sizeof field, "%zu", b);
	snprintf(val, sizeof val, "%d %d %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
	    " %.17g %.17g", st->firing ? 1 : 0, st->notified ? 1 : 0,
	    st->since, st->notified_at, st->last_true, last_T,
	    st->ew_n, st->ew_T, st->ew_span, st->ew_skip, st->ew_mean,
	    st->ew_var);
	argv[0] = "HSET";
	argv[1] = key;
	argv[2] = field;
	argv[3] = val;
	if ((r = detect_run(s, 4, argv)) != NULL)
		freeReplyObject(r);
	else
		rc = -1;
	snprintf(ttl, sizeof ttl, "%" PRId64, ttl_s);
	argv[0] = "EXPIRE";
	argv[2] = ttl;
	if ((r = detect_run(s, 3, argv)) != NULL)
		freeReplyObject(r);
	else
		rc = -1;
	free(key);
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

/* Adds the topic ids of one SCAN reply's keys <p>c:<topic>:<day>. */
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
	char *pattern, cursor[32] = "0";
	size_t n = 0, cap = 0, i, k, plen;
	char **v = NULL;

	/* the topic begins where it would in the key of topic "" */
	plen = store_key(s, STORE_KEY_COUNTS, "", day, NULL, NULL, 0) -
	    strlen(day) - 1;
	pattern = detect_key(s, STORE_KEY_COUNTS, "*", day);
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
		add_counted_topics(r->element[1], plen, strlen(day), &v, &n, &cap);
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
