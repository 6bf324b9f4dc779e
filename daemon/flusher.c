/*
 * flusher.c — the outcome of a consumer thread's flush: what is cleared,
 * committed, retried, paused or recounted.
 *
 * DESIGN: a flush sends the aggregate together with every partition move
 * (positions.c) and the messages refused meanwhile (rejects.c) in one
 * atomic store step, through struct flusher_io.  Only when it is stored
 * are the aggregate and the rejects cleared and the Kafka offsets
 * committed, so a post is counted, and a reject recorded, once.  On
 * a store error nothing is lost: counts, moves and rejects stay for the
 * next try, which waits a doubling backoff, and consumption pauses when
 * the aggregate grows too big; the outage is logged once.  On a conflict
 * another consumer owns a partition now: the aggregate is dropped and
 * every partition goes back to its stored position (the rejects too: their
 * messages are read again).  Runs on the consumer
 * thread that owns the flusher; no Kafka, no Redis here.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "clock.h"
#include "flusher.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "xmalloc.h"

static void
count_flush_time(int64_t dt)
{
	STAT_ADD(flushes, 1);
	STAT_ADD(flush_us_total, (uint64_t)dt * 1000);
	atomic_store(&stats.flush_us_last, (uint64_t)dt * 1000);
}

/* Everything is stored: clear, commit, resume. */
static void
finish_stored(struct flusher *f, const struct store_flush_stats *st,
    int64_t dt)
{
	positions_flushed(f->pos, 0, f->io->read, f->arg);
	count_flush_time(dt);
	log_debug("flushed | consumer=%d posts=%zu entries=%zu "
	    "commands=%zu bytes=%zu scripts=%zu script_entries_max=%zu ms=%"
	    PRId64, f->id, agg_posts(f->agg), agg_size(f->agg), st->commands,
	    st->bytes_sent, st->scripts, st->chunk_max, dt);
	rejects_clear(&f->rj);
	if (agg_size(f->agg) > 0)
		STAT_ADD(flush_seq, 1);
	metrics_flushed(f->agg);
	agg_clear(f->agg);
	f->io->commit(f->arg);
	if (f->redis_down)
		log_info("redis reachable again, pending counts flushed | "
		    "consumer=%d", f->id);
	f->redis_down = 0;
	f->backoff_ms = 0;
	f->io->pause(f->arg, 0);
}

/* Another consumer stored a partition first: forget what was counted and
 * start again from the stored positions. */
static void
recount_from_stored(struct flusher *f)
{
	STAT_ADD(flush_conflicts, 1);
	log_warn("partition moved to another consumer; recounting from the "
	    "stored positions | consumer=%d reason=\"%s\"", f->id,
	    f->io->errstr(f->arg));
	flusher_drop(f);
	positions_flushed(f->pos, -2, f->io->read, f->arg);
	f->io->reassign(f->arg);
}

/* The store is away: keep everything, back off, pause when too big. */
static void
keep_and_back_off(struct flusher *f)
{
	STAT_ADD(flush_errors, 1);
	STAT_ADD(redis_errors, 1);
	if (!f->redis_down)
		log_warn("redis unreachable, keeping counts and retrying | "
		    "consumer=%d error=\"%s\"", f->id, f->io->errstr(f->arg));
	f->redis_down = 1;
	f->backoff_ms = f->backoff_ms ? f->backoff_ms * 2 :
	    FLUSHER_BACKOFF_FIRST_MS;
	if (f->backoff_ms > FLUSHER_BACKOFF_MAX_MS)
		f->backoff_ms = FLUSHER_BACKOFF_MAX_MS;
	if (agg_size(f->agg) >= f->pause_at)
		f->io->pause(f->arg, 1);
}

int
flusher_flush(struct flusher *f)
{
	struct store_pos *pos;
	struct store_flush_stats st;
	struct store_rejects rv;
	size_t np;
	int64_t t0, dt;
	double ft;
	int rc;

	pos = xcalloc(f->pos->n + 1, sizeof *pos);
	np = positions_moves(f->pos, pos, f->io->lag, f->arg);
	if (np == 0 && agg_size(f->agg) == 0 && rejects_pending(&f->rj) == 0) {
		free(pos);
		return 0;
	}
	np += positions_marks(f->pos, pos + np, f->io->lag, f->arg);
	t0 = clock_wall_ms();
	ft = metrics_clock();
	rejects_view(&f->rj, &rv);
	rc = f->io->flush(f->arg, f->agg, pos, np, &rv, &st);
	metrics_flush_observe(metrics_clock() - ft);
	dt = clock_wall_ms() - t0;
	free(pos);
	if (rc == 0) {
		finish_stored(f, &st, dt);
		return 0;
	}
	if (rc == -2)
		recount_from_stored(f);
	else
		keep_and_back_off(f);
	return -1;
}

void
flusher_drop(struct flusher *f)
{
	agg_clear(f->agg);
	rejects_clear(&f->rj);
}

void
flusher_free(struct flusher *f)
{
	rejects_free(&f->rj);
}
