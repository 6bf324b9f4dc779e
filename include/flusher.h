/*
 * flusher.h — what a consumer thread does with each flush's outcome: the
 * aggregate, the partition moves and the rejects go to the store
 * through a narrow interface, and the result decides what is cleared,
 * committed, paused and retried.
 *
 * The decisions are kept apart from Kafka and Redis so a unit test can
 * drive them over a fake: the daemon's interface (consumer.c) wraps the
 * store and the Kafka handle.  One flusher per consumer thread; not shared.
 */
#ifndef TW_FLUSHER_H
#define TW_FLUSHER_H

#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "positions.h"
#include "rejects.h"
#include "store.h"

#define FLUSHER_BACKOFF_FIRST_MS	250
#define FLUSHER_BACKOFF_MAX_MS		5000

/* The world a flush touches; every function gets the flusher's arg. */
struct flusher_io {
	/* Stores the aggregate with every move and the rejects in one atomic
	 * step: 0 stored, -1 store error, -2 a move's from was not the stored
	 * position. */
	int		(*flush)(void *arg, const struct agg *a,
			    const struct store_pos *moves, size_t n,
			    const struct store_rejects *rj,
			    struct store_flush_stats *st);
	const char	*(*errstr)(void *arg);	/* the store's last error */
	positions_read_fn *read;		/* stored positions */
	positions_lag_fn  *lag;			/* each move's lag; may be NULL */
	void		(*commit)(void *arg);	/* commit every stored position */
	void		(*pause)(void *arg, int paused); /* consumption */
	void		(*reassign)(void *arg);	/* restart at the positions */
};

struct flusher {
	const struct flusher_io	*io;
	void			*arg;
	int			 id;		/* consumer id, for the log */
	struct positions	*pos;
	struct agg		*agg;
	size_t			 pause_at;	/* entries before pausing */

	int64_t			 backoff_ms;	/* 0 after a stored flush */
	int			 redis_down;	/* since the first failed flush */
	struct rejects		 rj;		/* refused since the last flush;
						 * the owner adds to it */
};

/* Flushes the aggregate, positions and rejects.  Stored: rejects and
 * aggregate cleared, offsets committed, backoff reset, consumption resumed.
 * Store error: everything kept, backoff doubled up to the maximum,
 * consumption paused once the aggregate reaches pause_at.  Conflict: the
 * aggregate and rejects dropped (their messages are read again), positions re-read, partitions reassigned.  Returns 0
 * when everything is stored (or nothing was pending), -1 otherwise. */
int flusher_flush(struct flusher *f);

/* Forgets the aggregate and the rejects: their messages will be read
 * again by whoever owns the partitions next. */
void flusher_drop(struct flusher *f);

/* Frees the rejects. */
void flusher_free(struct flusher *f);

#endif
