/*
 * rejects.h — the messages a consumer thread refused since its last flush.
 *
 * Every refused message is counted by reason; while the per-flush byte
 * budget lasts it is also kept (reason, detail, where it came from, its
 * first bytes) for the dead-letter stream.  What is over the budget is
 * counted under REJECTS_NOT_KEPT as well.  The flush that moves the
 * messages' positions writes both (store_flush), so a message re-read
 * after a crash is counted and kept once.  One list per consumer thread,
 * owned by its flusher; not shared.
 */
#ifndef TW_REJECTS_H
#define TW_REJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "store.h"

#define REJECTS_NOT_KEPT	"_not_kept"
#define REJECTS_PAYLOAD_MAX	1024	/* payload bytes kept per message */
#define REJECTS_OVERHEAD	64	/* budget bytes a record costs beyond
					 * its detail, where and payload */

struct rejects {
	size_t			 budget;	/* bytes kept per flush */
	int64_t			 maxlen;	/* the stream's MAXLEN ~ */

	struct store_reject	*kept;		/* strings: one xmalloc each */
	size_t			 nkept, cap;
	size_t			 bytes;		/* spent of the budget */
	int64_t			 count[REJ__COUNT + 1];	/* + not kept */

	/* the store's view, filled by rejects_view() */
	const char		*names[REJ__COUNT + 1];
};

/* Counts one refused message (reason: a dec_result or REJ_FUTURE) and
 * keeps it if the budget allows.  where: "<topic>/<partition>@<offset>". */
void rejects_add(struct rejects *rj, int reason, const char *detail,
    const char *where, const char *payload, size_t len);

/* Messages counted since the last clear. */
int64_t rejects_pending(const struct rejects *rj);

/* What store_flush() writes; valid until the next add or clear. */
void rejects_view(struct rejects *rj, struct store_rejects *out);

/* Forgets everything counted (after a stored flush, or when the messages
 * will be read again). */
void rejects_clear(struct rejects *rj);

/* rejects_clear() and the record array; the settings stay. */
void rejects_free(struct rejects *rj);

#endif
