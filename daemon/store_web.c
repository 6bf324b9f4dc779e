/*
 * store_web.c — what the web view reads from Redis beyond the readers it
 * shares with `tidewatch top` and the detector.
 *
 * DESIGN: the alerts timeline and a topic's alert markers read the alert
 * log (<p><alerts.stream>) newest first with one bounded XREVRANGE: the
 * entry ids are the wall clock (ms) of each write, so a time range is an
 * id range.  Entries are handed over by store_log_entries(), as the
 * forward reader of store_alerts.c does.  Called on the web view's thread
 * with its own store.
 */
#include <inttypes.h>
#include <stdio.h>

#include <hiredis.h>

#include "store.h"
#include "store_int.h"

int
store_web_alerts(struct store *s, int64_t from_ms, int64_t to_ms,
    size_t max, store_log_fn *fn, void *ctx)
{
	char stream[512], hi[32], lo[32], count[32];
	const char *argv[6] = { "XREVRANGE", stream, hi, lo, "COUNT", count };
	redisReply *r;
	size_t n;

	if (max == 0 || to_ms < from_ms)
		return 0;
	store_key(s, STORE_KEY_ALERT_LOG, NULL, NULL, NULL, stream,
	    sizeof stream);
	snprintf(hi, sizeof hi, "%" PRId64, to_ms);
	snprintf(lo, sizeof lo, "%" PRId64, from_ms > 0 ? from_ms : 0);
	snprintf(count, sizeof count, "%zu", max);
	if ((r = store_run(s, 6, argv, NULL)) == NULL)
		return -1;
	if (r->type != REDIS_REPLY_ARRAY) {
		store_set_err(s, "redis: unexpected reply to XREVRANGE %s",
		    stream);
		freeReplyObject(r);
		return -1;
	}
	n = store_log_entries(r, fn, ctx, NULL, 0);
	freeReplyObject(r);
	return (int)n;
}
