/*
 * detect_loop.c — the detector's thread.
 *
 * DESIGN: one thread per daemon runs detector_tick() in a loop: it waits
 * on a condition variable until the main loop pokes it (a flush counted;
 * at least a quarter interval after the last pass began, so a backlog's
 * back-to-back flushes are read together) or the interval has passed
 * since the last pass began, then takes a
 * reference on the current engine, runs one pass over its rule set, logs
 * the pass (debug; a warning past 2 s) and sets the `leading` stat (read
 * by the main loop's ops job and the metrics).  Stopping sets an atomic
 * flag the detector checks at every window end and read batch, so a pass
 * ends within one of them; then the thread is joined and every state
 * stepped since its last checkpoint is stored.  Only this thread touches
 * the detector between start and stop.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "detect_loop.h"
#include "engine.h"
#include "log.h"
#include "stats.h"
#include "xmalloc.h"

struct detect_loop {
	struct detector	*det;
	int64_t		 interval_ms;
	pthread_t	 tid;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* CLOCK_MONOTONIC */
	bool		 poked;		/* under mu */
	atomic_int	 stop;
};

/* Waits until poked (but not before the monotonic time earliest_ms),
 * stopped, or the monotonic time due_ms. */
static void
wait_for_work(struct detect_loop *l, int64_t earliest_ms, int64_t due_ms)
{
	struct timespec ts;
	int64_t now, until;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		now = clock_mono_ms();
		if (atomic_load(&l->stop) || now >= due_ms ||
		    (l->poked && now >= earliest_ms))
			break;
		until = l->poked && earliest_ms < due_ms ? earliest_ms : due_ms;
		ts.tv_sec = (time_t)(until / 1000);
		ts.tv_nsec = (long)(until % 1000) * 1000000;
		(void)pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	}
	l->poked = false;
	pthread_mutex_unlock(&l->mu);
}

/* One pass over the rules in force, logged. */
static void
run_pass(struct detect_loop *l)
{
	struct engine *cur = engine_current();
	struct detector_pass p;
	int64_t t0 = clock_mono_ms(), took;
	int rc;

	rc = detector_tick(l->det, cur->rs, clock_wall_ms());
	took = clock_mono_ms() - t0;
	engine_unref(cur);
	STAT_SET(leading, detector_leading(l->det) ? 1 : 0);
	detector_last_pass(l->det, &p);
	if (took > 2000)
		log_warn("detector pass took %" PRId64 " ms", took);
	else
		log_debug("detector pass | ms=%" PRId64 " rc=%d topics=%zu "
		    "read=%zu stepped=%zu saved=%zu points=%zu series_kb=%zu "
		    "full=%d", took, rc, p.topics, p.read, p.stepped, p.saved,
		    p.points, p.bytes / 1024, p.full ? 1 : 0);
}

static void *
loop_main(void *arg)
{
	struct detect_loop *l = arg;
	int64_t start = clock_mono_ms(), next = start + l->interval_ms;

	while (!atomic_load(&l->stop)) {
		/* passes a quarter interval apart at most: while flushes come
		 * back to back (a backlog), one pass takes what several
		 * counted, each topic read once */
		wait_for_work(l, start + l->interval_ms / 4, next);
		if (atomic_load(&l->stop))
			break;
		start = clock_mono_ms();
		next = start + l->interval_ms;
		run_pass(l);
	}
	return NULL;
}

struct detect_loop *
detect_loop_start(struct detector *det, int64_t interval_ms, char *err,
    size_t errsz)
{
	struct detect_loop *l = xcalloc(1, sizeof *l);
	pthread_condattr_t ca;
	int e;

	l->det = det;
	l->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	atomic_init(&l->stop, 0);
	detector_set_stop(det, &l->stop);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((e = pthread_create(&l->tid, NULL, loop_main, l)) != 0) {
		snprintf(err, errsz, "detector thread: %s", strerror(e));
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return NULL;
	}
	return l;
}

void
detect_loop_poke(struct detect_loop *l)
{
	pthread_mutex_lock(&l->mu);
	l->poked = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

void
detect_loop_stop(struct detect_loop *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	atomic_store(&l->stop, 1);
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->tid, NULL);
	detector_set_stop(l->det, NULL);
	detector_checkpoint(l->det);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
