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
 * where the old one stopped.  Everything the detector reads or writes goes
 * through a struct detector_ops: detector_new() uses Redis (store), and a
 * test can give its own in memory.  One thread at a time uses a detector:
 * the daemon's runs in a thread of its own (detect_loop.h).
 */
#ifndef TW_DETECTOR_H
#define TW_DETECTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "rules.h"
#include "spike.h"
#include "store.h"

struct detector;

/*
 * What the detector reads and writes; each returns 0 (or as said), -1 on
 * an error (errstr then says why).  All take the arg given with them.
 *   lease        takes or renews the lease for holder for ttl_ms; *held
 *                says whether holder has it
 *   watermark    the stream's watermark in ms (-1: nothing counted yet),
 *                and the newest post time counted by any partition (no
 *                count is in a later bucket)
 *   since        the first bucket counted; *since untouched when none
 *   dirty        takes the topics counted into since the last call, each
 *                with the earliest bucket counted into (arrays and strings
 *                the caller's), only while holder holds the lease
 *   load_states  the stored states of many topics (store_get_states_multi)
 *   save_states  stores block states with their last window end evaluated
 *   read_spans   the counts of spans of topics (store_read_spans)
 *   publish      sends an alert now: 1 sent, 0 a duplicate (sent by
 *                someone before), -1 error
 *   evidence     top keywords, count_by values and samples (alert.h)
 *   held         where group_wait holds alerts (alert.h)
 */
struct detector_ops {
	int		(*lease)(void *arg, const char *holder, int64_t ttl_ms,
			    bool *held);
	int		(*watermark)(void *arg, int64_t *wm_ms,
			    int64_t *newest_ms);
	int		(*since)(void *arg, int64_t *since);
	int		(*dirty)(void *arg, const char *holder,
			    char ***topics, int64_t **buckets, size_t *n);
	int		(*load_states)(void *arg, const char *const *topics,
			    const size_t *nblocks, size_t n,
			    struct spike_state *st, int64_t *last_T, bool *found);
	int		(*save_states)(void *arg,
			    const struct store_state_put *v, size_t n);
	int		(*read_spans)(void *arg, int64_t res,
			    struct store_span *v, size_t n);
	int		(*publish)(void *arg, const struct alert *al,
			    const char *json);
	const char	*(*errstr)(void *arg);
	struct alert_evidence	evidence;
	struct alert_held_ops	held;
};

/* What the last pass did (for the debug log and tests). */
struct detector_pass {
	size_t	topics;		/* topics with alert blocks */
	size_t	read;		/* spans of counts read */
	size_t	stepped;	/* topics stepped through watch_step */
	size_t	saved;		/* block states written */
	size_t	points;		/* buckets held in every topic's series */
	size_t	bytes;		/* memory of those series */
	bool	full;		/* every topic's history read (new leader) */
};

/* A detector over Redis (the daemon's). */
struct detector *detector_new(const struct config *cfg, const char *password,
    const char *instance_id);
/* A detector over ops and arg (kept by the caller, not freed). */
struct detector *detector_new_ops(const struct config *cfg,
    const char *instance_id, const struct detector_ops *ops, void *arg);
void detector_free(struct detector *d);

/* One pass over every topic with alert blocks.  Returns the number of
 * alerts sent (alone or in a digest; not those held for one), or -1 when
 * the store could not be used this time. */
int detector_tick(struct detector *d, const struct ruleset *rs, int64_t now_ms);

/* A flag another thread sets (NULL: none): a pass under way stops at the
 * next window end or read batch once it is set, so a shutdown is not held
 * by a long backfill; the states stepped so far are stored, and the blocks
 * go on from them next time. */
void detector_set_stop(struct detector *d, const atomic_int *stop);

/* Stores every block state stepped since it was last stored (the
 * checkpoints between): a clean stop leaves the next leader nothing to
 * step again.  Only while leading. */
void detector_checkpoint(struct detector *d);

/* True if this detector held the lease at its last tick. */
int detector_leading(const struct detector *d);

/* What the last pass did. */
void detector_last_pass(const struct detector *d, struct detector_pass *p);

#endif
