/*
 * store_alerts.c — the alert channels and the alert log: publishing an
 * alert exactly once, and what `tidewatch alerts` reads.
 *
 * DESIGN: store_publish() is one EVAL of PUBLISH_LUA (Redis caches it;
 * alerts are rare), for topic alerts and the daemon's own (stall) alike:
 * it takes the dedup key <p>dedup:<id> with SET NX PX and only if it got it
 * XADDs the alert to the log (MAXLEN ~) and PUBLISHes it on the topic's
 * channel; optionally it also records a state in <p>state:<topic>.  Every
 * daemon of a group computes the same id for the same alert, so exactly
 * one of them publishes it.  A script that fails half-way keeps what it
 * wrote before, so if the log refuses the alert (e.g. the key has another
 * type) the dedup key is taken back and nothing else is written: the
 * alert is published by a later try, not lost.
 *
 * A subscriber (struct store_sub) is a connection of its own, made
 * by store_dial() like every other, on which SUBSCRIBE <p><channel><topic>
 * (one topic) or PSUBSCRIBE <p><channel>* (every topic, the prefix and
 * channel glob-escaped) was sent; it is then read with poll(2), so that the
 * caller regains control every wait_ms to notice a signal.  When the line
 * has been quiet for STORE_SUB_KEEPALIVE_MS a PING goes out, and no answer
 * within the store's timeout counts as a lost connection.  The alert log
 * (<p><stream>) is read a page at a time with XRANGE on the store's own
 * connection.  Single-threaded: one subscriber per thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis.h>

#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

#define STORE_SUB_KEEPALIVE_MS	5000

/* KEYS: dedup key, alert log[, state hash]; ARGV: dedup TTL ms, channel,
 * log MAXLEN, alert JSON[, state field, state value]. */
static const char PUBLISH_LUA[] =
"local got = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])\n"
"if got then\n"
"  local ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',\n"
"      'alert', ARGV[4])\n"
"  if type(ok) == 'table' and ok.err then\n"
"    redis.call('DEL', KEYS[1])\n"
"    return redis.error_reply(ok.err)\n"
"  end\n"
"  redis.call('PUBLISH', ARGV[2], ARGV[4])\n"
"end\n"
"if KEYS[3] then redis.call('HSET', KEYS[3], ARGV[5], ARGV[6]) end\n"
"if got then return 1 end\n"
"return 0\n";

int
store_publish(struct store *s, const struct store_alert *a)
{
	char dedup[512], stream[512], channel[512], state[512];
	char ttl[32], maxlen[32];
	const char *argv[13];
	redisReply *r;
	int argc = 0, rc;

	store_key(s, STORE_KEY_DEDUP, a->id, NULL, NULL, dedup, sizeof dedup);
	store_key(s, STORE_KEY_ALERT_LOG, NULL, NULL, NULL, stream,
	    sizeof stream);
	store_key(s, STORE_KEY_CHANNEL, a->topic, NULL, NULL, channel,
	    sizeof channel);
	snprintf(ttl, sizeof ttl, "%" PRId64, a->dedup_ttl_ms);
	snprintf(maxlen, sizeof maxlen, "%" PRId64, a->stream_maxlen);
	argv[argc++] = "EVAL";
	argv[argc++] = PUBLISH_LUA;
	argv[argc++] = a->state_topic != NULL ? "3" : "2";
	argv[argc++] = dedup;
	argv[argc++] = stream;
	if (a->state_topic != NULL) {
		store_key(s, STORE_KEY_STATE, a->state_topic, NULL, NULL, state,
		    sizeof state);
		argv[argc++] = state;
	}
	argv[argc++] = ttl;
	argv[argc++] = channel;
	argv[argc++] = maxlen;
	argv[argc++] = a->json;
	if (a->state_topic != NULL) {
		argv[argc++] = a->state_field;
		argv[argc++] = a->state_value;
	}
	if ((r = store_run(s, argc, argv, NULL)) == NULL)
		return -1;
	if (r->type == REDIS_REPLY_INTEGER)
		rc = r->integer == 1 ? 1 : 0;
	else {
		store_set_err(s, "redis: unexpected reply to the publish script");
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}

struct store_sub {
	redisContext	*c;
	char		*name;		/* channel or pattern */
	bool		 pattern;
	int64_t		 timeout_ms;
	int64_t		 last_rx;	/* monotonic ms */
	int64_t		 last_rx_wall;	/* wall clock ms */
	int64_t		 ping_sent;	/* monotonic ms; 0: none */
	redisReply	*msg;		/* the message last returned */
	char		 err[256];
};

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Escapes the glob characters of s for PSUBSCRIBE. */
static char *
glob_escape(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 2), *o = out;

	for (; *s != '\0'; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* The channel of topic, or the pattern of every topic's channel. */
static char *
sub_name(const struct store *s, const char *topic)
{
	char buf[512], *esc, *name;
	size_t n;

	if (topic != NULL) {
		n = store_key(s, STORE_KEY_CHANNEL, topic, NULL, NULL, NULL, 0);
		name = xmalloc(n + 1);
		store_key(s, STORE_KEY_CHANNEL, topic, NULL, NULL, name, n + 1);
		return name;
	}
	store_key(s, STORE_KEY_CHANNEL, "", NULL, NULL, buf, sizeof buf);
	esc = glob_escape(buf);
	name = xasprintf("%s*", esc);
	free(esc);
	return name;
}

struct store_sub *
store_sub_open(const struct store *s, const char *topic, char *err,
    size_t errsz)
{
	struct store_sub *sub = xcalloc(1, sizeof *sub);
	const char *argv[2];
	redisReply *r;

	sub->pattern = topic == NULL;
	sub->name = sub_name(s, topic);
	sub->timeout_ms = store_timeout_ms(s);
	if ((sub->c = store_dial(s, err, errsz)) == NULL)
		goto fail;
	redisEnableKeepAlive(sub->c);
	argv[0] = sub->pattern ? "PSUBSCRIBE" : "SUBSCRIBE";
	argv[1] = sub->name;
	r = redisCommandArgv(sub->c, 2, argv, NULL);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errsz, "%s: %s", argv[0],
		    r == NULL ? sub->c->errstr : r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected reply");
		if (r != NULL)
			freeReplyObject(r);
		goto fail;
	}
	freeReplyObject(r);
	sub->last_rx = clock_ms(CLOCK_MONOTONIC);
	sub->last_rx_wall = clock_ms(CLOCK_REALTIME);
	return sub;
fail:
	store_sub_free(sub);
	return NULL;
}

void
store_sub_free(struct store_sub *sub)
{
	if (sub == NULL)
		return;
	if (sub->msg != NULL)
		freeReplyObject(sub->msg);
	if (sub->c != NULL)
		redisFree(sub->c);
	free(sub->name);
	free(sub);
}

const char *
store_sub_name(const struct store_sub *sub, bool *pattern)
{
	if (pattern != NULL)
		*pattern = sub->pattern;
	return sub->name;
}

const char *
store_sub_errstr(const struct store_sub *sub)
{
	return sub->err;
}

int64_t
store_sub_last_rx_ms(const struct store_sub *sub)
{
	return sub->last_rx_wall;
}

/* The channel and payload of a (p)message reply; false for anything
 * else (the answer to a keep-alive PING, a subscription count). */
static bool
published_message(const redisReply *r, const char **channel,
    const char **msg, size_t *len)
{
	const redisReply *kind, *chan, *m;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return false;
	kind = r->element[0];
	if (kind->type != REDIS_REPLY_STRING)
		return false;
	if (strcmp(kind->str, "message") == 0) {
		chan = r->element[1];
		m = r->element[2];
	} else if (strcmp(kind->str, "pmessage") == 0 && r->elements >= 4) {
		chan = r->element[2];
		m = r->element[3];
	} else
		return false;
	if (chan->type != REDIS_REPLY_STRING || m->type != REDIS_REPLY_STRING)
		return false;
	*channel = chan->str;
	*msg = m->str;
	*len = m->len;
	return true;
}

/* Sends a PING when the line has been quiet long enough; -1 when the last
 * one went unanswered for the timeout, or cannot be sent. */
static int
keep_alive(struct store_sub *sub)
{
	int64_t now = clock_ms(CLOCK_MONOTONIC);
	int done;

	if (sub->ping_sent != 0 && now - sub->ping_sent > sub->timeout_ms) {
		snprintf(sub->err, sizeof sub->err,
		    "no answer to PING within %" PRId64 " ms", sub->timeout_ms);
		return -1;
	}
	if (sub->ping_sent == 0 && now - sub->last_rx >= STORE_SUB_KEEPALIVE_MS) {
		if (redisAppendCommand(sub->c, "PING") != REDIS_OK)
			goto lost;
		do {
			if (redisBufferWrite(sub->c, &done) == REDIS_ERR)
				goto lost;
		} while (!done);
		sub->ping_sent = now;
	}
	return 0;
lost:
	snprintf(sub->err, sizeof sub->err, "%s",
	    sub->c->errstr[0] != '\0' ? sub->c->errstr : "connection lost");
	return -1;
}

int
store_sub_next(struct store_sub *sub, int wait_ms, const char **channel,
    const char **msg, size_t *len)
{
	struct pollfd pfd;
	void *reply;
	int rc;

	if (sub->msg != NULL) {
		freeReplyObject(sub->msg);
		sub->msg = NULL;
	}
	for (;;) {
		if (redisGetReplyFromReader(sub->c, &reply) == REDIS_ERR)
			goto lost;
		if (reply != NULL) {
			if (published_message(reply, channel, msg, len)) {
				sub->msg = reply;
				return 1;
			}
			freeReplyObject(reply);
			continue;
		}
		if (keep_alive(sub) == -1)
			return -1;
		pfd.fd = sub->c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, wait_ms);
		if (rc == -1 && errno != EINTR) {
			snprintf(sub->err, sizeof sub->err, "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (rc <= 0)
			return 0;
		if (redisBufferRead(sub->c) == REDIS_ERR)
			goto lost;
		sub->last_rx = clock_ms(CLOCK_MONOTONIC);
		sub->last_rx_wall = clock_ms(CLOCK_REALTIME);
		sub->ping_sent = 0;
	}
lost:
	snprintf(sub->err, sizeof sub->err, "%s",
	    sub->c->errstr[0] != '\0' ? sub->c->errstr : "connection lost");
	return -1;
}

size_t
store_log_entries(const redisReply *r, store_log_fn *fn, void *ctx,
    char *next, size_t nextsz)
{
	const redisReply *e, *f;
	size_t i, j;

	for (i = 0; i < r->elements; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING)
			continue;
		if (next != NULL)
			snprintf(next, nextsz, "(%s", e->element[0]->str);
		f = e->element[1];
		if (f->type != REDIS_REPLY_ARRAY)
			continue;
		for (j = 0; j + 1 < f->elements; j += 2)
			if (f->element[j]->type == REDIS_REPLY_STRING &&
			    strcmp(f->element[j]->str, "alert") == 0 &&
			    f->element[j + 1]->type == REDIS_REPLY_STRING)
				fn(ctx, e->element[0]->str,
				    f->element[j + 1]->str,
				    f->element[j + 1]->len);
	}
	return r->elements;
}

int
store_read_alert_log(struct store *s, const char *start, size_t max,
    store_log_fn *fn, void *ctx, char *next, size_t nextsz)
{
	char stream[512], count[32];
	const char *argv[6] = { "XRANGE", stream, start, "+", "COUNT", count };
	redisReply *r;
	size_t n;

	store_key(s, STORE_KEY_ALERT_LOG, NULL, NULL, NULL, stream,
	    sizeof stream);
	snprintf(count, sizeof count, "%zu", max);
	if ((r = store_run(s, 6, argv, NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		store_set_err(s, "redis: unexpected reply to XRANGE %s", stream);
		freeReplyObject(r);
		return -1;
	}
	n = store_log_entries(r, fn, ctx, next, nextsz);
	freeReplyObject(r);
	return (int)n;
}
