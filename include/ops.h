/*
 * ops.h — operational alerts about the daemon itself, published like topic
 * alerts on <prefix>alerts:_ops and the alert log.
 *
 * Today one kind: "stall", when no post has reached the consumer group for
 * stall_after, and its "resolved" when posts flow again.  Judged by the
 * daemon that holds the detection lease, from the group's positions in
 * Redis (so a daemon with no partitions does not cry stall) and its own
 * arrivals.  Runs on the main thread; owns its Redis connection.
 */
#ifndef TW_OPS_H
#define TW_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct ops;

struct ops *ops_new(const struct config *cfg, const char *password,
    const char *instance_id);
void ops_free(struct ops *o);

/* Once a second or so.  leading: this daemon holds the detection lease
 * (only the leader judges and publishes; the others only PING).  Returns 0
 * when Redis answered, -1 when it could not be reached. */
int ops_tick(struct ops *o, bool leading, int64_t now_ms);

#endif
