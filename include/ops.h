/*
 * ops.h — operational alerts about the daemon itself, published like topic
 * alerts on <prefix>alerts:_ops and the alert log.
 *
 * Two kinds.  "stall", when no post has reached the consumer group for
 * stall_after, and its "resolved" when posts flow again: judged by the
 * daemon that holds the detection lease, from the group's positions in
 * Redis (so a daemon with no partitions does not cry stall) and its own
 * arrivals.  "store_reset", when Redis lost data: each daemon reports
 * what its consumers found (positions lost or behind the group's Kafka
 * commits, counted in stats.store_resets), and the leader also watches
 * `since`, which only moves forward when the counters were lost.  Runs on the main thread.  ops speaks to Redis only through
 * struct ops_io: store_ops_io() (store) gives the real one, the unit test
 * a fake.
 */
#ifndef TW_OPS_H
#define TW_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* What ops needs from Redis.  Every function returns 0, or -1 on a Redis
 * error with errstr() saying why. */
struct ops_io {
	void	*ctx;
	/* The sum of the group's stored Kafka positions: it moves when posts
	 * reach the group. */
	int	(*positions_sum)(void *ctx, int64_t *sum);
	/* The stall state a previous leader left ("firing <ms>" or
	 * "resolved <ms>"), "" when none. */
	int	(*stall_state)(void *ctx, char *buf, size_t sz);
	/* Publishes the alert json under id once across daemons (a
	 * duplicate is not an error) and, unless state is NULL, records it
	 * as the stall state.  On -1 nothing was written: a later call
	 * publishes it. */
	int	(*publish)(void *ctx, const char *id, const char *json,
		    const char *state);
	/* The first bucket ever counted (<prefix>since); *since is left as
	 * it is when there is none. */
	int	(*since)(void *ctx, int64_t *since);
	/* Checks that Redis answers. */
	int	(*ping)(void *ctx);
	const char *(*errstr)(void *ctx);
	void	(*free)(void *ctx);
};

struct ops;

/* Takes io over (io->free(io->ctx) at ops_free). */
struct ops *ops_new(const struct config *cfg, const struct ops_io *io,
    const char *instance_id);
void ops_free(struct ops *o);

/* Once a second or so.  leading: this daemon holds the detection lease
 * (only the leader judges and publishes; the others only PING).  Returns 0
 * when Redis answered, -1 when it could not be reached. */
int ops_tick(struct ops *o, bool leading, int64_t now_ms);
/* Why the last ops_tick() returned -1. */
const char *ops_errstr(const struct ops *o);

#endif
