/*
 * detector.h — spike detection over the counters in Redis.
 *
 * Every daemon runs a detector; one of them at a time (the holder of a
 * lease key in Redis) evaluates, so the work is not repeated, and every
 * notification is published through a dedup key, so a spike is alerted once
 * even while two daemons briefly both believe they lead.  Windows follow the
 * posts' time: the detector steps through every bucket boundary up to the
 * watermark of the stream (the newest post time counted, held back by
 * partitions that are still catching up), so a backlog fires the spikes that
 * are in its own timeline, with their original windows, and no others.
 * The per-block alert state lives in Redis too, so a new leader goes on
 * where the old one stopped.  Runs on the main thread.
 */
#ifndef TW_DETECTOR_H
#define TW_DETECTOR_H

#include <signal.h>
#include <stdint.h>

#include "config.h"
#include "rules.h"

struct detector;

struct detector *detector_new(const struct config *cfg, const char *password,
    const char *instance_id);
void detector_free(struct detector *d);

/* One pass over every topic with alert blocks.  Returns the number of
 * alerts published, or -1 when Redis could not be used this time. */
int detector_tick(struct detector *d, const struct ruleset *rs, int64_t now_ms);

/* A flag the signal handler sets: a pass under way stops at the next
 * window end or topic once it is set, so a shutdown is not held by a long
 * backfill.  The blocks go on from their stored states next time. */
void detector_set_stop(struct detector *d, volatile sig_atomic_t *stop);

/* True if this detector held the lease at its last tick. */
int detector_leading(const struct detector *d);

#endif
