/*
 * ops.c — the input stall alert.
 *
 * DESIGN: while this daemon leads (holds the detector's lease), each tick
 * sums the group's stored positions (<p>pos:<group>, the fields that are
 * not "t:" or "l:"): when the sum moves, posts reached the group; a post
 * arriving at this daemon counts too (stats.last_post_ms).  When nothing
 * moved for stall_after, it publishes {"type":"stall","state":"firing",…}
 * on <p><alerts.channel>_ops and XADDs it to the alert log, through a
 * dedup key like topic alerts, and keeps the state in <p>state:_ops (field
 * "stall": "firing|resolved <since ms>"), so a new leader neither repeats
 * the alert nor forgets to resolve it.  When posts move again it publishes
 * the "resolved" one.  A daemon that does not lead forgets what it saw:
 * when it takes over it starts watching from then.  Main thread only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis.h>

#include "jsonw.h"
#include "log.h"
#include "ops.h"
#include "stats.h"
#include "store.h"
#include "xmalloc.h"

#define OPS_DEDUP_TTL_MS	"86400000"

static const char PUBLISH_LUA[] =
"if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then\n"
"  redis.call('PUBLISH', ARGV[2], ARGV[4])\n"
"  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'alert', ARGV[4])\n"
"end\n"
"redis.call('HSET', KEYS[3], 'stall', ARGV[5])\n"
"return 1\n";

struct ops {
	const struct config	*cfg;
	struct store		*store;
	char			*instance;
	bool			 loaded;	/* state read from Redis */
	bool			 firing;
	int64_t			 since_ms;	/* last sign of posts */
	int64_t			 stall_ms;	/* firing: the last post before */
	int64_t			 sum;		/* positions at the last tick */
	bool			 have_sum;
};

struct ops *
ops_new(const struct config *cfg, const char *password, const char *instance)
{
	struct ops *o = xcalloc(1, sizeof *o);

	o->cfg = cfg;
	o->store = store_open(cfg, password);
	o->instance = xstrdup(instance);
	return o;
}

void
ops_free(struct ops *o)
{
	if (o == NULL)
		return;
	store_free(o->store);
	free(o->instance);
	free(o);
}

static void
rfc3339_ms(int64_t ms, char *buf, size_t sz)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sz - n, ".%03dZ", (int)(ms % 1000));
}

/* The sum of the group's stored positions; -1 on a Redis error. */
static int
positions_sum(struct ops *o, int64_t *sum)
{
	char key[512];
	const char *argv[2];
	redisReply *r;
	size_t i;

	snprintf(key, sizeof key, "%spos:%s", o->cfg->redis_prefix,
	    o->cfg->kafka_group);
	argv[0] = "HGETALL";
	argv[1] = key;
	if ((r = store_command(o->store, 2, argv)) == NULL)
		return -1;
	*sum = 0;
	if (r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i + 1 < r->elements; i += 2) {
			const char *f = r->element[i]->str;

			if (f == NULL || strncmp(f, "t:", 2) == 0 ||
			    strncmp(f, "l:", 2) == 0 || r->element[i + 1]->str == NULL)
				continue;
			*sum += strtoll(r->element[i + 1]->str, NULL, 10);
		}
	freeReplyObject(r);
	return 0;
}

/* Reads the stall state a previous leader left. */
static int
load_state(struct ops *o, int64_t now)
{
	char key[512];
	const char *argv[3];
	redisReply *r;

	snprintf(key, sizeof key, "%sstate:_ops", o->cfg->redis_prefix);
	argv[0] = "HGET";
	argv[1] = key;
	argv[2] = "stall";
	if ((r = store_command(o->store, 3, argv)) == NULL)
		return -1;
	o->firing = false;
	o->since_ms = now;
	if (r->type == REDIS_REPLY_STRING && strncmp(r->str, "firing ", 7) == 0) {
		o->firing = true;
		o->since_ms = o->stall_ms = strtoll(r->str + 7, NULL, 10);
	}
	freeReplyObject(r);
	return 0;
}

static char *
stall_json(struct ops *o, const char *id, int64_t now)
{
	struct jsonw w = { NULL, 0, 0 };
	char at[64], since[64], back[64];
	size_t i;

	rfc3339_ms(now, at, sizeof at);
	rfc3339_ms(o->stall_ms, since, sizeof since);
	rfc3339_ms(o->since_ms, back, sizeof back);
	jsonw_raw(&w, "{", 1);
	jsonw_key(&w, "id");
	jsonw_strz(&w, id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "type");
	jsonw_strz(&w, "stall");
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "state");
	jsonw_strz(&w, o->firing ? "resolved" : "firing");
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "topic");
	jsonw_strz(&w, "_ops");
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "severity");
	jsonw_strz(&w, "warning");
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "group");
	jsonw_strz(&w, o->cfg->kafka_group);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "kafka_topics");
	jsonw_raw(&w, "[", 1);
	for (i = 0; i < o->cfg->kafka_ntopics; i++) {
		if (i > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_strz(&w, o->cfg->kafka_topics[i]);
	}
	jsonw_raw(&w, "]", 1);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "last_post_at");
	jsonw_strz(&w, since);
	if (o->firing) {	/* resolving */
		jsonw_raw(&w, ",", 1);
		jsonw_key(&w, "resumed_at");
		jsonw_strz(&w, back);
	}
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "silent_s");
	jsonw_int(&w, ((o->firing ? o->since_ms : now) - o->stall_ms) / 1000);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "stall_after_s");
	jsonw_int(&w, o->cfg->stall_after_s);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "instance");
	jsonw_strz(&w, o->instance);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "detected_at");
	jsonw_strz(&w, at);
	jsonw_raw(&w, "}", 1);
	return w.buf;
}

/* Publishes the change of state (firing → resolved or the reverse) once
 * across daemons.  Returns 0 or -1. */
static int
publish(struct ops *o, int64_t now, int64_t silent_ms)
{
	const char *state = o->firing ? "resolved" : "firing";
	char id[128], val[64], maxlen[32], *dedup, *stream, *channel, *skey;
	char *json;
	const char *argv[11];
	redisReply *r;

	if (!o->firing)
		o->stall_ms = o->since_ms;
	snprintf(id, sizeof id, "_ops:stall:%" PRId64 ":%s", o->stall_ms / 1000,
	    state);
	json = stall_json(o, id, now);
	dedup = xasprintf("%sdedup:%s", o->cfg->redis_prefix, id);
	stream = xasprintf("%s%s", o->cfg->redis_prefix, o->cfg->alert_stream);
	channel = xasprintf("%s%s_ops", o->cfg->redis_prefix,
	    o->cfg->alert_channel);
	skey = xasprintf("%sstate:_ops", o->cfg->redis_prefix);
	snprintf(val, sizeof val, "%s %" PRId64, state, o->stall_ms);
	snprintf(maxlen, sizeof maxlen, "%" PRId64, o->cfg->alert_stream_maxlen);
	argv[0] = "EVAL";
	argv[1] = PUBLISH_LUA;
	argv[2] = "3";
	argv[3] = dedup;
	argv[4] = stream;
	argv[5] = skey;
	argv[6] = OPS_DEDUP_TTL_MS;
	argv[7] = channel;
	argv[8] = maxlen;
	argv[9] = json;
	argv[10] = val;
	r = store_command(o->store, 11, argv);
	free(dedup);
	free(stream);
	free(channel);
	free(skey);
	free(json);
	if (r == NULL) {
		log_warn("cannot publish the stall alert | error=\"%s\"",
		    store_errstr(o->store));
		return -1;
	}
	freeReplyObject(r);
	if (o->firing) {
		STAT_ADD(stall_alerts[1], 1);
		log_info("input flows again, stall resolved | silent_s=%" PRId64,
		    silent_ms / 1000);
	} else {
		STAT_ADD(stall_alerts[0], 1);
		log_warn("input stalled: no post for stall_after | silent_s=%"
		    PRId64 " stall_after_s=%" PRId64, silent_ms / 1000,
		    o->cfg->stall_after_s);
	}
	o->firing = !o->firing;
	return 0;
}

int
ops_tick(struct ops *o, bool leading, int64_t now)
{
	int64_t sum, last_post, silent;

	if (!leading) {
		const char *argv[1] = { "PING" };
		redisReply *r;

		o->loaded = o->have_sum = false;
		STAT_SET(stalled, 0);
		if ((r = store_command(o->store, 1, argv)) == NULL)
			return -1;
		freeReplyObject(r);
		return 0;
	}
	if (!o->loaded) {
		if (load_state(o, now) == -1)
			return -1;
		o->loaded = true;
	}
	if (positions_sum(o, &sum) == -1)
		return -1;
	if (o->have_sum && sum != o->sum)
		o->since_ms = now;
	o->sum = sum;
	o->have_sum = true;
	last_post = STAT_GET(last_post_ms);
	if (last_post > o->since_ms)
		o->since_ms = last_post;
	silent = now - o->since_ms;
	if (!o->firing && silent >= o->cfg->stall_after_s * 1000)
		publish(o, now, silent);
	else if (o->firing && silent < o->cfg->stall_after_s * 1000)
		publish(o, now, o->since_ms - o->stall_ms);
	STAT_SET(stalled, o->firing ? 1 : 0);
	return 0;
}
