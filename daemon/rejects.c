/*
 * rejects.c — the refused messages of one flush (see rejects.h).
 *
 * DESIGN: a record is a struct store_reject whose detail, where and payload
 * share one allocation, so that a record costs what its strings are and no
 * fixed buffer: the budget bounds memory as well as what one flush writes
 * to Redis.  Counts are by reason index (stats_reject_name gives the
 * name); the last slot counts the records not kept.  Runs on the consumer
 * thread that owns the flusher.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rejects.h"
#include "xmalloc.h"

/* Keeps a copy of the record, its strings in one block. */
static void
keep_record(struct rejects *rj, int reason, const char *detail, size_t dlen,
    const char *where, size_t wlen, const char *payload, size_t plen,
    size_t size)
{
	struct store_reject *r;
	char *b = xmalloc(dlen + wlen + plen + 3);

	rj->kept = xgrow(rj->kept, &rj->cap, rj->nkept + 1, sizeof *rj->kept);
	r = &rj->kept[rj->nkept++];
	memcpy(b, detail, dlen);
	b[dlen] = '\0';
	memcpy(b + dlen + 1, where, wlen);
	b[dlen + 1 + wlen] = '\0';
	if (plen > 0)
		memcpy(b + dlen + wlen + 2, payload, plen);
	b[dlen + wlen + 2 + plen] = '\0';
	r->reason = stats_reject_name(reason);
	r->detail = b;
	r->where = b + dlen + 1;
	r->payload = b + dlen + wlen + 2;
	r->len = plen;
	r->size = size;
}

void
rejects_add(struct rejects *rj, int reason, const char *detail,
    const char *where, const char *payload, size_t len)
{
	size_t dlen, wlen, plen, cost;

	if (reason < 0 || reason >= REJ__COUNT)
		return;
	rj->count[reason]++;
	detail = detail != NULL ? detail : "";
	where = where != NULL ? where : "";
	dlen = strlen(detail);
	wlen = strlen(where);
	plen = payload != NULL ? (len < REJECTS_PAYLOAD_MAX ? len :
	    REJECTS_PAYLOAD_MAX) : 0;
	cost = dlen + wlen + plen + REJECTS_OVERHEAD;
	if (rj->bytes + cost > rj->budget) {
		rj->count[REJ__COUNT]++;
		return;
	}
	rj->bytes += cost;
	keep_record(rj, reason, detail, dlen, where, wlen, payload, plen, len);
}

int64_t
rejects_pending(const struct rejects *rj)
{
	int64_t n = 0;
	int i;

	for (i = 0; i < REJ__COUNT; i++)
		n += rj->count[i];
	return n;
}

void
rejects_view(struct rejects *rj, struct store_rejects *out)
{
	int i;

	for (i = 0; i < REJ__COUNT; i++)
		rj->names[i] = stats_reject_name(i);
	rj->names[REJ__COUNT] = REJECTS_NOT_KEPT;
	out->kept = rj->kept;
	out->nkept = rj->nkept;
	out->reasons = rj->names;
	out->counts = rj->count;
	out->nreasons = REJ__COUNT + 1;
	out->maxlen = rj->maxlen;
}

void
rejects_clear(struct rejects *rj)
{
	size_t i;

	for (i = 0; i < rj->nkept; i++)
		free((char *)(uintptr_t)rj->kept[i].detail);
	rj->nkept = 0;
	rj->bytes = 0;
	memset(rj->count, 0, sizeof rj->count);
}

void
rejects_free(struct rejects *rj)
{
	rejects_clear(rj);
	free(rj->kept);
	rj->kept = NULL;
	rj->cap = 0;
}
