/*
 * store_am.c — the Redis side of Alertmanager delivery: the durable
 * cursors and the ends of the alert log.
 *
 * DESIGN: the delivery thread (alertmanager.c) reads the alert log
 * (<p><alerts.stream>) with store_read_alert_log() and remembers, per
 * Alertmanager URL, the id of the last entry that URL accepted in the hash
 * <p>am-cursor (HSET after every accepted POST), so a restarted daemon or
 * a new leader sends each URL what it missed and nothing twice.  The log's
 * first id (XRANGE - + COUNT 1) tells whether a cursor fell behind MAXLEN
 * trimming.  Every call runs on the caller's store, which the delivery
 * thread owns: one connection, one thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis.h>

#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

int
store_am_cursors(struct store *s, char ***urls, char ***ids, size_t *n)
{
	char key[512];
	const char *argv[2] = { "HGETALL", key };
	redisReply *r;
	size_t i, k = 0;

	*urls = *ids = NULL;
	*n = 0;
	store_key(s, STORE_KEY_AM_CURSOR, NULL, NULL, NULL, key, sizeof key);
	if ((r = store_run(s, 2, argv, NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		store_set_err(s, "redis: unexpected reply to HGETALL %s", key);
		freeReplyObject(r);
		return -1;
	}
	*urls = xcalloc(r->elements / 2 + 1, sizeof **urls);
	*ids = xcalloc(r->elements / 2 + 1, sizeof **ids);
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		(*urls)[k] = xstrdup(r->element[i]->str);
		(*ids)[k] = xstrdup(r->element[i + 1]->str);
		k++;
	}
	*n = k;
	freeReplyObject(r);
	return 0;
}

int
store_am_set_cursor(struct store *s, const char *url, const char *id)
{
	char key[512];
	const char *argv[4] = { "HSET", key, url, id };
	redisReply *r;

	store_key(s, STORE_KEY_AM_CURSOR, NULL, NULL, NULL, key, sizeof key);
	if ((r = store_run(s, 4, argv, NULL)) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}

int
store_am_log_first(struct store *s, char *first, size_t sz)
{
	char stream[512];
	const char *argv[6] = { "XRANGE", stream, "-", "+", "COUNT", "1" };
	redisReply *r, *e;

	first[0] = '\0';
	store_key(s, STORE_KEY_ALERT_LOG, NULL, NULL, NULL, stream,
	    sizeof stream);
	if ((r = store_run(s, 6, argv, NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		store_set_err(s, "redis: unexpected reply to XRANGE %s", stream);
		freeReplyObject(r);
		return -1;
	}
	if (r->elements > 0) {
		e = r->element[0];
		if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
		    e->element[0]->type == REDIS_REPLY_STRING)
			snprintf(first, sz, "%s", e->element[0]->str);
	}
	freeReplyObject(r);
	return 0;
}
