/*
 * positions.h — where each partition a consumer thread holds stands: the
 * next offset stored in Redis and the next offset to consume.
 *
 * Counting is exactly-once because a flush stores the counts together with
 * every partition's move (from → next) in one atomic step, and a message
 * is counted only past the stored position.  This table is that
 * bookkeeping, with no Kafka and no Redis in it: the consumer feeds it the
 * assignment, each message's offset and the result of each flush, and
 * reads stored positions through a callback (Redis in the daemon, a fake
 * in the unit test).  One table per consumer thread; not shared.
 */
#ifndef TW_POSITIONS_H
#define TW_POSITIONS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct position {
	char		*topic;
	int32_t		 partition;
	int64_t		 from;		/* next offset stored in Redis; -1 none */
	int64_t		 next;		/* next offset to consume; -1 unknown */
	int64_t		 wm_ms;		/* newest post time consumed; -1 none */
	int		 need_pos;	/* stored position not read yet (Redis
					 * away): its messages wait */
};

struct positions {
	struct position	*v;
	size_t		 n, cap;
	size_t		 hint;		/* last found: messages come in runs
					 * from one partition */
};

/* Reads the stored next offset of each field ("<topic>/<partition>"; -1
 * when none) into offsets.  Returns 0 or -1. */
typedef int positions_read_fn(void *arg, const char *const *fields, size_t n,
    int64_t *offsets);

/* Drops every partition (revocation); positions_free() also the array. */
void positions_clear(struct positions *ps);
void positions_free(struct positions *ps);

/* A newly assigned partition: its position is unknown until read. */
struct position *positions_add(struct positions *ps, const char *topic,
    int32_t partition);
struct position *positions_find(struct positions *ps, const char *topic,
    int32_t partition);
/* The field a partition's position is stored under. */
void positions_field(const struct position *p, char *buf, size_t size);

/* Reads the stored positions of partitions [first, n) through read: on
 * success they start there (from = next = stored) and stop waiting.
 * Returns 0, or -1 and they keep waiting. */
int positions_load(struct positions *ps, size_t first, positions_read_fn *read,
    void *arg);
/* True while a partition waits for its stored position. */
int positions_waiting(const struct positions *ps);

/* The partition of a message at offset when that message is to be
 * counted — ours, its position known, not counted before — with next
 * moved past it; NULL when it is to be skipped. */
struct position *positions_take(struct positions *ps, const char *topic,
    int32_t partition, int64_t offset);

/* Messages behind a partition's end, -1 when unknown. */
typedef int64_t positions_lag_fn(void *arg, const struct position *p);

/* The moves a flush stores, one per partition that moved, each with its
 * lag from lag (NULL: -1); out has room for ps->n. */
size_t positions_moves(const struct positions *ps, struct store_pos *out,
    positions_lag_fn *lag, void *arg);

/* The partitions a flush does not move, as marks (to = STORE_POS_MARK)
 * with their newest post time and lag (-1: unknown, its end not fetched
 * yet), so the stored lag of every partition is that of the last flush: a
 * partition behind its end, or whose end is unknown, then bounds the
 * stream's watermark even when nothing of it was counted since (an early
 * flush cut before its messages, or before its first fetch); out has
 * room for the partitions positions_moves() did not return. */
size_t positions_marks(const struct positions *ps, struct store_pos *out,
    positions_lag_fn *lag, void *arg);

/* What a flush returned: 0 — the moves are stored (from = next); -2 —
 * another consumer stored a partition first: every partition goes back to
 * its stored position, read through read, or waits for it when that fails
 * (the caller drops its counts and reassigns); -1 — nothing changes, the
 * moves are sent again with the next flush. */
void positions_flushed(struct positions *ps, int rc, positions_read_fn *read,
    void *arg);

#endif
