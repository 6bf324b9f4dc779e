/*
 * ops.c — the operational alerts: input stall, and Redis data loss.
 *
 * DESIGN: while this daemon leads (holds the detector's lease), each tick
 * sums the group's stored Kafka positions (io->positions_sum): when the
 * sum moves, posts reached the group; a post arriving at this daemon
 * counts too (stats.last_post_ms).  When nothing moved for stall_after, it
 * publishes {"type":"stall","state":"firing",…} as the alerts of the
 * topic "_ops" (io->publish: once across daemons, to the channel and the
 * alert log) and records the state "firing|resolved <since ms>", so a new
 * leader (io->stall_state) neither repeats the alert nor forgets to
 * resolve it.  A publish that fails changes nothing here, so the next
 * tick tries again.  When posts move again it publishes the "resolved"
 * one.  A daemon that does not lead forgets what it saw: when it takes
 * over it starts watching from then.
 *
 * Redis data loss: the consumers count in stats.store_resets every
 * partition whose position Redis lost or rolled back (consumer.c compares
 * it with the group's Kafka commits); the leader also reads `since` each
 * tick, which moves forward only when the counters were lost.  Each tick
 * publishes one {"type":"store_reset",…} alert for what is new since the
 * last one published; a failed publish is tried again at the next tick.
 * Main thread only; all Redis I/O goes through struct ops_io.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "jsonw.h"
#include "log.h"
#include "ops.h"
#include "stats.h"
#include "xmalloc.h"

struct ops {
	const struct config	*cfg;
	struct ops_io		 io;
	char			*instance;
	bool			 loaded;	/* state read from Redis */
	bool			 firing;
	int64_t			 since_ms;	/* last sign of posts */
	int64_t			 stall_ms;	/* firing: the last post before */
	int64_t			 sum;		/* positions at the last tick */
	bool			 have_sum;
	int64_t			 since;		/* leader: `since` at the last
						 * tick; -1 unknown */
	int64_t			 since_was;	/* `since` before it moved
						 * forward, not yet alerted;
						 * -1 none */
	int64_t			 since_now;
	uint64_t		 resets_alerted;	/* stats.store_resets */
};

struct ops *
ops_new(const struct config *cfg, const struct ops_io *io,
    const char *instance)
{
	struct ops *o = xcalloc(1, sizeof *o);

	o->cfg = cfg;
	o->io = *io;
	o->instance = xstrdup(instance);
	o->since = o->since_was = -1;
	return o;
}

void
ops_free(struct ops *o)
{
	if (o == NULL)
		return;
	if (o->io.free != NULL)
		o->io.free(o->io.ctx);
	free(o->instance);
	free(o);
}

/* Reads the stall state a previous leader left. */
static int
load_state(struct ops *o, int64_t now)
{
	char state[64];

	if (o->io.stall_state(o->io.ctx, state, sizeof state) == -1)
		return -1;
	o->firing = false;
	o->since_ms = now;
	if (strncmp(state, "firing ", 7) == 0) {
		o->firing = true;
		o->since_ms = o->stall_ms = strtoll(state + 7, NULL, 10);
	}
	return 0;
}

/* The members every ops alert opens with, up to the group and a comma. */
static void
json_head(struct jsonw *w, const struct ops *o, const char *id,
    const char *type, const char *state, const char *severity)
{
	jsonw_raw(w, "{", 1);
	jsonw_key(w, "id");
	jsonw_strz(w, id);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "type");
	jsonw_strz(w, type);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "state");
	jsonw_strz(w, state);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "topic");
	jsonw_strz(w, "_ops");
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "severity");
	jsonw_strz(w, severity);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "group");
	jsonw_strz(w, o->cfg->kafka_group);
	jsonw_raw(w, ",", 1);
}

/* The members every ops alert ends with, from the comma before them. */
static void
json_tail(struct jsonw *w, const struct ops *o, int64_t now)
{
	char at[64];

	clock_rfc3339_ms(now, at, sizeof at);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "instance");
	jsonw_strz(w, o->instance);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "detected_at");
	jsonw_strz(w, at);
	jsonw_raw(w, "}", 1);
}

static char *
stall_json(struct ops *o, const char *id, int64_t now)
{
	struct jsonw w = { NULL, 0, 0 };
	char since[64], back[64];
	size_t i;

	clock_rfc3339_ms(o->stall_ms, since, sizeof since);
	clock_rfc3339_ms(o->since_ms, back, sizeof back);
	json_head(&w, o, id, "stall", o->firing ? "resolved" : "firing",
	    "warning");
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
	json_tail(&w, o, now);
	return w.buf;
}

/* Publishes the change of state (firing → resolved or the reverse) once
 * across daemons.  Returns 0 or -1. */
static int
publish(struct ops *o, int64_t now, int64_t silent_ms)
{
	const char *state = o->firing ? "resolved" : "firing";
	char id[128], val[64], *json;
	int rc;

	if (!o->firing)
		o->stall_ms = o->since_ms;
	snprintf(id, sizeof id, "_ops:stall:%" PRId64 ":%s", o->stall_ms / 1000,
	    state);
	json = stall_json(o, id, now);
	snprintf(val, sizeof val, "%s %" PRId64, state, o->stall_ms);
	rc = o->io.publish(o->io.ctx, id, json, val);
	free(json);
	if (rc == -1) {
		log_warn("cannot publish the stall alert | error=\"%s\"",
		    o->io.errstr(o->io.ctx));
		return -1;
	}
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

static char *
reset_json(struct ops *o, const char *id, uint64_t resets, int64_t now)
{
	struct jsonw w = { NULL, 0, 0 };

	json_head(&w, o, id, "store_reset", "firing", "critical");
	jsonw_key(&w, "resets");
	jsonw_int(&w, (int64_t)resets);
	if (o->since_was >= 0) {
		jsonw_raw(&w, ",", 1);
		jsonw_key(&w, "since_was");
		jsonw_int(&w, o->since_was);
		jsonw_raw(&w, ",", 1);
		jsonw_key(&w, "since_now");
		jsonw_int(&w, o->since_now);
	}
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "on_reset");
	jsonw_strz(&w, o->cfg->on_reset == ON_RESET_REBUILD ? "rebuild" :
	    "continue");
	json_tail(&w, o, now);
	return w.buf;
}

/* The leader's `since` watch: a first bucket counted that moves forward
 * means the counters before it are gone. */
static int
watch_since(struct ops *o)
{
	int64_t since = -1;

	if (o->io.since(o->io.ctx, &since) == -1)
		return -1;
	if (o->since >= 0 && since > o->since) {
		STAT_ADD(store_resets, 1);
		log_error("redis lost data: the first bucket counted (since) "
		    "moved forward | was=%" PRId64 " now=%" PRId64, o->since,
		    since);
		if (o->since_was < 0)
			o->since_was = o->since;
		o->since_now = since;
	}
	if (since >= 0)
		o->since = since;
	return 0;
}

/* One store_reset alert for the data loss found since the last one. */
static int
alert_resets(struct ops *o, int64_t now)
{
	uint64_t n = STAT_GET(store_resets);
	char id[384], *json;
	int rc;

	if (n == o->resets_alerted)
		return 0;
	snprintf(id, sizeof id, "_ops:store_reset:%s:%" PRIu64, o->instance, n);
	json = reset_json(o, id, n - o->resets_alerted, now);
	rc = o->io.publish(o->io.ctx, id, json, NULL);
	free(json);
	if (rc == -1) {
		log_warn("cannot publish the store_reset alert | error=\"%s\"",
		    o->io.errstr(o->io.ctx));
		return -1;
	}
	log_error("store_reset alert published | resets=%" PRIu64
	    " on_reset=%s", n - o->resets_alerted,
	    o->cfg->on_reset == ON_RESET_REBUILD ? "rebuild" : "continue");
	o->resets_alerted = n;
	o->since_was = -1;
	return 0;
}

int
ops_tick(struct ops *o, bool leading, int64_t now)
{
	int64_t sum, last_post, silent;

	if (!leading) {
		o->loaded = o->have_sum = false;	/* `since` is kept: it
						 * only ever moves back */
		STAT_SET(stalled, 0);
		if (o->io.ping(o->io.ctx) == -1)
			return -1;
		return alert_resets(o, now);
	}
	if (watch_since(o) == -1 || alert_resets(o, now) == -1)
		return -1;
	if (!o->loaded) {
		if (load_state(o, now) == -1)
			return -1;
		o->loaded = true;
	}
	if (o->io.positions_sum(o->io.ctx, &sum) == -1)
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

const char *
ops_errstr(const struct ops *o)
{
	return o->io.errstr(o->io.ctx);
}
