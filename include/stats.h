/*
 * stats.h — process-wide counters for logs and metrics.
 *
 * Plain atomics, bumped with relaxed ordering by the detector and by
 * consumer threads (their per-post counts once per batch of messages, so
 * threads do not write one cache line per post) and read by whoever
 * reports them.  Nothing here is exact across
 * a crash; the exact counts live in Redis (rejects: <prefix>rejected-total,
 * written by the flush, see rejects.h).
 */
#ifndef TW_STATS_H
#define TW_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "decoder.h"

enum reject_extra {
	REJ_FUTURE = DEC__COUNT,	/* post time too far ahead */
	REJ__COUNT
};

struct stats {
	_Atomic uint64_t	consumed;	/* Kafka messages received */
	_Atomic uint64_t	decoded;	/* posts decoded and matched */
	_Atomic uint64_t	matched;	/* posts matching >= 1 topic */
	_Atomic uint64_t	late;		/* older than the retention */
	_Atomic uint64_t	rejected[REJ__COUNT];
	_Atomic uint64_t	regex_errors;
	_Atomic uint64_t	flushes;
	_Atomic uint64_t	flush_errors;
	_Atomic uint64_t	flush_conflicts;
	_Atomic uint64_t	flush_us_total;
	_Atomic uint64_t	flush_us_last;
	_Atomic uint64_t	kafka_errors;
	_Atomic uint64_t	redis_errors;
	_Atomic uint64_t	alerts[3];	/* by severity */
	_Atomic uint64_t	alerts_dup;	/* detected but already published */
	_Atomic uint64_t	reloads_ok;
	_Atomic uint64_t	reloads_failed;
	_Atomic int64_t		lag;		/* sum over assigned partitions */
	_Atomic int64_t		last_post_ms;	/* wall clock of the last post */
	_Atomic uint64_t	flush_seq;	/* bumped after each flush that
						 * wrote counts: the detector
						 * runs right after it */
	_Atomic int64_t		redis_ok_ms;	/* wall clock of the last Redis
						 * success (a flush, a detector
						 * tick) */
	_Atomic int		redis_fault;	/* enum store_fault of the last
						 * Redis failure (/healthz) */
	_Atomic int64_t		kafka_ok_ms;	/* the last sign of a broker: a
						 * message, or one UP in the
						 * librdkafka statistics */
	_Atomic uint64_t	stall_alerts[2];	/* firing, resolved */
	_Atomic uint64_t	store_resets;	/* partitions whose position Redis
						 * lost or rolled back, and
						 * `since` moving forward */
	_Atomic int		stalled;	/* a stall alert is firing */
	_Atomic int		leading;	/* this daemon runs detection */
	_Atomic uint64_t	am_sent;	/* alerts Alertmanager took, per
						 * URL (re-sends not counted) */
	_Atomic uint64_t	am_failed;	/* alerts of failed POSTs, per
						 * attempt */
	_Atomic int64_t		am_pending;	/* alerts waiting, summed over
						 * the URLs */
	_Atomic uint64_t	kafka_out_sent;	/* alerts alerts.kafka_topic
						 * took */
	_Atomic uint64_t	kafka_out_failed; /* failed deliveries there */
	_Atomic int64_t		kafka_out_pending; /* alerts waiting for it */
};

extern struct stats stats;

#define STAT_ADD(f, n)	atomic_fetch_add_explicit(&stats.f, (n), memory_order_relaxed)
#define STAT_GET(f)	atomic_load_explicit(&stats.f, memory_order_relaxed)
#define STAT_SET(f, v)	atomic_store_explicit(&stats.f, (v), memory_order_relaxed)

const char *stats_reject_name(int reason);

#endif
