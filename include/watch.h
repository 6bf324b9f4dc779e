/*
 * watch.h — every alert block of a rule set stepped together through the
 * posts' time; pure, no I/O.
 *
 * The daemon's detector (counts cached from Redis) and `tidewatch backtest`
 * (counts in memory) both drive their blocks through watch_step(): window
 * end by window end, all topics in step, each topic after the topics that
 * inhibit it (ruleset->order), so that "is a parent firing at T" is known
 * when a child is stepped at T.  Each block is stepped by spike_run().
 */
#ifndef TW_WATCH_H
#define TW_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "spike.h"

/* One topic's blocks, owned by the caller. */
struct watch_topic {
	struct spike_series	 ser;		/* the topic's counts */
	size_t			 nblocks;	/* = the topic's nalerts */
	struct spike_state	*st;		/* per block */
	int64_t			*from;		/* per block: first window end to
						 * step; on return the last one
						 * stepped */
};

/* Reports an action of block b of topic i; returns 0, or -1 to stop. */
typedef int (*watch_emit_fn)(void *arg, size_t i, size_t b,
    enum spike_action act, const struct spike_eval *ev);
/* Called after every window end T has been stepped for all topics;
 * returns 0, or -1 to stop. */
typedef int (*watch_tick_fn)(void *arg, int64_t T);

/*
 * Steps window ends T from `from` to `to` (inclusive, every resolution)
 * for every topic i with wt[i] != NULL, blocks only from their own from[b].
 * A topic listed in another's `inhibit` is stepped first at each T; while
 * any of its blocks is firing, the other topic's new notifications are held
 * back (spike_step_inhibited).  Returns 0, or -1 when emit or tick stopped
 * it (every from[b] then holds the last window end stepped, and the block
 * that stopped was put back as it was before that window end).
 */
int watch_step(const struct ruleset *rs, struct watch_topic **wt,
    int64_t from, int64_t to, int64_t resolution_s, watch_emit_fn emit,
    watch_tick_fn tick, void *arg);

/* The same for the topics order[0 .. norder - 1] only, a subsequence of
 * ruleset->order (order NULL: that order, norder topics); wt[] of the
 * others still says whether they fire, for inhibition. */
int watch_step_order(const struct ruleset *rs, struct watch_topic **wt,
    const size_t *order, size_t norder, int64_t from, int64_t to,
    int64_t resolution_s, watch_emit_fn emit, watch_tick_fn tick, void *arg);

/* True while a topic that inhibits topic i fires. */
int watch_inhibited(const struct ruleset *rs, struct watch_topic **wt,
    size_t i);

#endif
