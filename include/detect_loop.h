/*
 * detect_loop.h — the detector's own thread.
 *
 * The daemon's detector runs in a thread of its own, with its own Redis
 * connection (the detector's store), so that a long pass never delays the
 * main loop (systemd watchdog, signals, reloads, the lease of ops) nor a
 * consumer's flush.  A pass runs after every flush that counted (the main
 * loop pokes the thread) and at least once per interval.  Each pass takes
 * a reference on the engine in force (engine_current) and drops it at the
 * end, so a reload never frees the rule set under a pass: the next pass
 * uses the new one.
 */
#ifndef TW_DETECT_LOOP_H
#define TW_DETECT_LOOP_H

#include <stdint.h>

#include "detector.h"

struct detect_loop;

/* Starts the thread over det (kept by the caller, freed after
 * detect_loop_stop); NULL if the thread cannot start (the reason in err). */
struct detect_loop *detect_loop_start(struct detector *det,
    int64_t interval_ms, char *err, size_t errsz);
/* A flush counted: the thread runs a pass as soon as it is free. */
void detect_loop_poke(struct detect_loop *l);
/* Ends the pass under way at its next window end or read batch (it
 * stores the states it stepped), joins the thread and frees l.  NULL is
 * allowed. */
void detect_loop_stop(struct detect_loop *l);

#endif
