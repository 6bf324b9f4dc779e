/*
 * alert.c — alert JSON, PUBLISH + XADD, dedup across instances.
 *
 * DESIGN: the detector fills a struct alert (evaluation plus evidence read
 * from Redis) and asks for its JSON (alert_json), then publishes it with
 * alert_publish, through store_publish(): taken once across daemons by the
 * dedup key of the alert id, then written to the alert log and published
 * on the topic's channel.  The alert id is built from the topic, block,
 * window end and state only, so every daemon of a group computes the same
 * id for the same spike and exactly one of them publishes it.  Numbers are
 * written with at most two decimals and never as inf or nan (null
 * instead).  Nothing is kept here: no state, callable from any thread
 * with its own store.
 *
 * group_wait: alert_hold() puts a new alert in the hash <prefix>held under
 * the same dedup key (fields "a:<id>" → JSON, plus _since, _wall, _wait:
 * the first window end and wall time held, and the shortest wait), so any
 * leader can finish the job; alert_flush_held() reads it, and once due
 * sends one digest {"id","digest":true,"window_end","count","alerts":[…]}
 * on <channel>_digest and every held alert to the stream, in one script
 * that first checks nothing was added since it read the hash.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis.h>

#include "alert.h"
#include "jsonw.h"
#include "xmalloc.h"

#define ALERT_DEDUP_TTL_MS	(INT64_C(7) * 86400 * 1000)
#define ALERT_STREAM_MAXLEN	10000

static const char *
alert_state(const struct alert *al)
{
	return al->action == SPIKE_RESOLVE ? "resolved" : "firing";
}

void
alert_id(const struct alert *al, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s:%zu:%" PRId64 ":%s", al->topic->id, al->block,
	    al->ev.window_end, alert_state(al));
}

/* RFC 3339 UTC of t seconds (ms >= 0: with milliseconds). */
static void
rfc3339(int64_t t, int ms, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n;

	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, sz, "1970-01-01T00:00:00Z");
		return;
	}
	n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms >= 0)
		snprintf(buf + n, sz - n, ".%03dZ", ms);
	else
		snprintf(buf + n, sz - n, "Z");
}

static void
write_time(struct jsonw *w, const char *key, int64_t t)
{
	char buf[64];

	rfc3339(t, -1, buf, sizeof buf);
	jsonw_key(w, key);
	jsonw_strz(w, buf);
}

/* A number rounded to two decimals, trailing zeros dropped: 23.5, 7.84, 3;
 * null when not finite. */
static void
write_num(struct jsonw *w, double v)
{
	char tmp[64];
	size_t n;

	if (!isfinite(v)) {
		jsonw_rawz(w, "null");
		return;
	}
	if (fabs(v) >= 1e15) {
		snprintf(tmp, sizeof tmp, "%.6g", v);
		jsonw_rawz(w, tmp);
		return;
	}
	v = round(v * 100) / 100;
	if (v == 0)
		v = 0;		/* no -0 */
	snprintf(tmp, sizeof tmp, "%.2f", v);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '0')
		n--;
	if (n > 0 && tmp[n - 1] == '.')
		n--;
	jsonw_raw(w, tmp, n);
}

/* [[name,count],…] */
static void
write_top(struct jsonw *w, const struct alert_top *t)
{
	size_t i;

	jsonw_raw(w, "[", 1);
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			jsonw_raw(w, ",", 1);
		jsonw_raw(w, "[", 1);
		jsonw_strz(w, t->names[i] != NULL ? t->names[i] : "");
		jsonw_raw(w, ",", 1);
		jsonw_int(w, t->counts[i]);
		jsonw_raw(w, "]", 1);
	}
	jsonw_raw(w, "]", 1);
}

char *
alert_json(const struct alert *al)
{
	const struct rule_topic *t = al->topic;
	const struct rule_alert *ra = &t->alerts[al->block];
	struct jsonw w = { NULL, 0, 0 };
	char id[512], at[64];
	int64_t ms;
	size_t i, n;

	alert_id(al, id, sizeof id);
	jsonw_raw(&w, "{", 1);
	jsonw_key(&w, "id");
	jsonw_strz(&w, id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "state");
	jsonw_strz(&w, alert_state(al));
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "topic");
	jsonw_strz(&w, t->id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "name");
	jsonw_strz(&w, t->name != NULL ? t->name : t->id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "severity");
	jsonw_strz(&w, rules_severity_name(ra->severity));
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "condition");
	jsonw_strz(&w, spike_cond_name(al->ev.cond));
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "window_s");
	jsonw_int(&w, al->ev.window_end - al->ev.window_start);
	jsonw_raw(&w, ",", 1);
	write_time(&w, "window_start", al->ev.window_start);
	jsonw_raw(&w, ",", 1);
	write_time(&w, "window_end", al->ev.window_end);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "count");
	jsonw_int(&w, al->ev.count);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "baseline_rate");
	write_num(&w, al->ev.baseline_rate);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "ratio");
	write_num(&w, al->ev.ratio);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "zscore");
	write_num(&w, al->ev.zscore);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "top_keywords");
	write_top(&w, &al->keywords);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "breakdown");
	jsonw_raw(&w, "{", 1);
	for (i = 0; i < al->nbreakdown; i++) {
		if (i > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_key(&w, al->breakdown[i].field);
		write_top(&w, &al->breakdown[i].top);
	}
	jsonw_raw(&w, "},", 2);
	jsonw_key(&w, "samples");
	jsonw_raw(&w, "[", 1);
	for (i = n = 0; i < al->nsamples; i++) {
		if (al->samples[i] == NULL || al->samples[i][0] == '\0')
			continue;
		if (n++ > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_rawz(&w, al->samples[i]);
	}
	jsonw_raw(&w, "],", 2);
	jsonw_key(&w, "rules_file");
	if (t->file != NULL)
		jsonw_strz(&w, t->file);
	else
		jsonw_rawz(&w, "null");
	if (al->action == SPIKE_REPEAT)
		jsonw_rawz(&w, ",\"repeat\":true");
	if (al->late)
		jsonw_rawz(&w, ",\"late\":true");
	jsonw_raw(&w, ",", 1);
	ms = al->detected_ms % 1000;
	if (ms < 0)
		ms += 1000;
	rfc3339((al->detected_ms - ms) / 1000, (int)ms, at, sizeof at);
	jsonw_key(&w, "detected_at");
	jsonw_strz(&w, at);
	jsonw_raw(&w, "}", 1);
	return w.buf;
}

int
alert_publish(struct store *s, const struct alert_pub *pub,
    const struct alert *al, const char *json)
{
	struct store_alert sa;
	char id[512];

	alert_id(al, id, sizeof id);
	memset(&sa, 0, sizeof sa);
	sa.id = id;
	sa.topic = al->topic->id;	/* the store's <p><alerts.channel> */
	sa.json = json;
	sa.dedup_ttl_ms = pub->dedup_ttl_ms > 0 ? pub->dedup_ttl_ms :
	    ALERT_DEDUP_TTL_MS;
	sa.stream_maxlen = pub->stream_maxlen > 0 ? pub->stream_maxlen :
	    ALERT_STREAM_MAXLEN;
	return store_publish(s, &sa);
}

/* group_wait: hold an alert (see alert.h). */
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

/* Sends the digest if the hash is still what was read; -1 if it changed. */
static const char FLUSH_LUA[] =
"if redis.call('HLEN', KEYS[1]) ~= tonumber(ARGV[1]) or\n"
"    redis.call('HGET', KEYS[1], '_since') ~= ARGV[2] then\n"
"  return -1\n"
"end\n"
"local n = 0\n"
"if redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[6]) then\n"
"  local all = redis.call('HGETALL', KEYS[1])\n"
"  for i = 1, #all, 2 do\n"
"    if string.sub(all[i], 1, 2) == 'a:' then\n"
"      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'alert',\n"
"          all[i + 1])\n"
"      n = n + 1\n"
"    end\n"
"  end\n"
"  redis.call('PUBLISH', ARGV[3], ARGV[5])\n"
"end\n"
"redis.call('DEL', KEYS[1])\n"
"return n\n";

int
alert_hold(struct store *s, const struct alert_pub *pub,
    const struct alert *al, const char *json, int64_t group_wait_s)
{
	char id[512], ttl[32], since[32], wait[32], wall[32];
	char *dedup, *held;
	const char *argv[11];
	redisReply *r;
	int rc;

	alert_id(al, id, sizeof id);
	dedup = xasprintf("%sdedup:%s", store_prefix(s), id);
	held = xasprintf("%sheld", store_prefix(s));
	snprintf(ttl, sizeof ttl, "%" PRId64,
	    pub->dedup_ttl_ms > 0 ? pub->dedup_ttl_ms : ALERT_DEDUP_TTL_MS);
	snprintf(since, sizeof since, "%" PRId64, al->ev.window_end);
	snprintf(wait, sizeof wait, "%" PRId64, group_wait_s);
	snprintf(wall, sizeof wall, "%" PRId64, al->detected_ms);
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
	r = store_command(s, 11, argv);
	free(dedup);
	free(held);
	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1 ? 1 : 0) : -1;
	freeReplyObject(r);
	return rc;
}

struct held_alert {
	const char	*name;		/* "a:<alert id>" */
	const char	*json;
};

static int
cmp_held(const void *a, const void *b)
{
	return strcmp(((const struct held_alert *)a)->name,
	    ((const struct held_alert *)b)->name);
}

char *
alert_digest_json(const char *id, int64_t since, const char *const *jsons,
    size_t n)
{
	struct jsonw w = { NULL, 0, 0 };
	size_t i;

	jsonw_raw(&w, "{", 1);
	jsonw_key(&w, "id");
	jsonw_strz(&w, id);
	jsonw_rawz(&w, ",\"digest\":true,");
	write_time(&w, "window_end", since);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "count");
	jsonw_int(&w, (int64_t)n);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "alerts");
	jsonw_raw(&w, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_rawz(&w, jsons[i]);
	}
	jsonw_raw(&w, "]}", 2);
	return w.buf;
}

int
alert_flush_held(struct store *s, const struct alert_pub *pub, int64_t T,
    int64_t now_ms)
{
	char *held, *channel, *dedup, *digest, id[96], hlen[32], maxlen[32],
	    ttl[32];
	const char *argv[12], *since_s = NULL, **jsons;
	int64_t since = 0, wall = 0, wait = 0;
	struct held_alert *ha;
	redisReply *r, *f;
	size_t i, n = 0;
	int rc = 0;

	held = xasprintf("%sheld", store_prefix(s));
	argv[0] = "HGETALL";
	argv[1] = held;
	if ((r = store_command(s, 2, argv)) == NULL) {
		free(held);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
		freeReplyObject(r);
		free(held);
		return 0;
	}
	ha = xcalloc(r->elements / 2 + 1, sizeof *ha);
	jsons = xcalloc(r->elements / 2 + 1, sizeof *jsons);
	for (i = 0; i + 1 < r->elements; i += 2) {
		const char *name = r->element[i]->str;
		const char *val = r->element[i + 1]->str;

		if (name == NULL || val == NULL)
			continue;
		if (strcmp(name, "_since") == 0) {
			since_s = val;
			since = strtoll(val, NULL, 10);
		} else if (strcmp(name, "_wall") == 0)
			wall = strtoll(val, NULL, 10);
		else if (strcmp(name, "_wait") == 0)
			wait = strtoll(val, NULL, 10);
		else if (strncmp(name, "a:", 2) == 0) {
			ha[n].name = name;
			ha[n++].json = val;
		}
	}
	if (since_s == NULL || n == 0 ||
	    (T < since + wait && now_ms < wall + wait * 1000))
		goto out;	/* nothing held, or not yet due */
	/* in id order: topic, block, window end */
	qsort(ha, n, sizeof *ha, cmp_held);
	for (i = 0; i < n; i++)
		jsons[i] = ha[i].json;
	snprintf(id, sizeof id, "digest:%" PRId64 ":%zu", since, n);
	digest = alert_digest_json(id, since, jsons, n);
	dedup = xasprintf("%sdedup:%s", store_prefix(s), id);
	channel = xasprintf("%s_digest", pub->channel);
	snprintf(hlen, sizeof hlen, "%zu", r->elements / 2);
	snprintf(maxlen, sizeof maxlen, "%" PRId64,
	    pub->stream_maxlen > 0 ? pub->stream_maxlen : ALERT_STREAM_MAXLEN);
	snprintf(ttl, sizeof ttl, "%" PRId64,
	    pub->dedup_ttl_ms > 0 ? pub->dedup_ttl_ms : ALERT_DEDUP_TTL_MS);
	argv[0] = "EVAL";
	argv[1] = FLUSH_LUA;
	argv[2] = "3";
	argv[3] = held;
	argv[4] = pub->stream;
	argv[5] = dedup;
	argv[6] = hlen;
	argv[7] = since_s;
	argv[8] = channel;
	argv[9] = maxlen;
	argv[10] = digest;
	argv[11] = ttl;
	if ((f = store_command(s, 12, argv)) == NULL)
		rc = -1;
	else {
		/* -1: more was held meanwhile, send it all next time */
		rc = f->type == REDIS_REPLY_INTEGER && f->integer > 0 ?
		    (int)f->integer : 0;
		freeReplyObject(f);
	}
	free(digest);
	free(dedup);
	free(channel);
out:
	free(jsons);
	free(ha);
	freeReplyObject(r);
	free(held);
	return rc;
}

static void
top_clear(struct alert_top *t)
{
	size_t i;

	if (t->names != NULL)
		for (i = 0; i < t->n; i++)
			free(t->names[i]);
	free(t->names);
	free(t->counts);
	t->names = NULL;
	t->counts = NULL;
	t->n = 0;
}

void
alert_clear(struct alert *al)
{
	size_t i;

	if (al == NULL)
		return;
	top_clear(&al->keywords);
	for (i = 0; i < al->nbreakdown; i++)
		top_clear(&al->breakdown[i].top);
	free(al->breakdown);
	al->breakdown = NULL;
	al->nbreakdown = 0;
	if (al->samples != NULL)
		for (i = 0; i < al->nsamples; i++)
			free(al->samples[i]);
	free(al->samples);
	al->samples = NULL;
	al->nsamples = 0;
}
