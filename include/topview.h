/*
 * topview.h — every topic's window as it stands now: count, baseline,
 * ratio and state, with its recent counts; what `tidewatch top` draws and
 * the web view's overview serves.
 *
 * The caller names the topics and the alert block evaluated for each; one
 * topview_read() fills them all from Redis in a few pipelined round trips
 * (the block states, then every span of counts), evaluated with the
 * detector's own code (spike.c).  One thread per call; the store is the
 * caller's.
 */
#ifndef TW_TOPVIEW_H
#define TW_TOPVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"
#include "sparse.h"
#include "spike.h"

struct store;

/* Counts read per span at most (older buckets read as 0). */
#define TOPVIEW_MAX_READ	(7 * 24 * 3600)

struct topview {
	/* the caller's */
	const char		*id;
	const struct rule_alert	*a;	/* the block evaluated (block 0) */
	size_t			 nblocks;	/* blocks with a stored state (0:
						 * none: evaluated from nothing) */
	/* filled by topview_read */
	int64_t			 count;		/* posts in the window ending at T */
	double			 baseline;	/* mean per window; < 0: none */
	double			 ratio;		/* count / baseline; NAN: none;
						 * INFINITY: a rise from 0 */
	bool			 met;		/* a condition of the block holds */
	bool			 firing;	/* a stored block state fires */
	bool			 stated;	/* any block has a stored state */
	struct sparse		 counts;	/* the buckets read (the last
						 * recent_s seconds among them) */
};

/* The window end the stream has reached (the end of the bucket of the
 * detector's watermark), or the end of the current bucket by the clock
 * now before anything is counted; *since: the first bucket counted
 * (INT64_MAX: none).  0, or -1 (store_errstr). */
int topview_frame_end(struct store *s, const char *group, int64_t res,
    int64_t now, int64_t *T, int64_t *since);

/* Reads and evaluates v[0..n) for the window ending at T, with the
 * buckets [T - recent_s, T) among the counts kept.  0, or -1
 * (store_errstr). */
int topview_read(struct store *s, int64_t res, int64_t since, int64_t T,
    int64_t recent_s, struct topview *v, size_t n);

/* Fills idx[0..n) with the indexes of v in display order: topics with a
 * ratio first, the largest first (infinite: a rise from nothing), then by
 * count, then by id. */
void topview_order(const struct topview *v, size_t n, size_t *idx);

/* One point of a topic's trend: the window of block a ending at t. */
struct topview_point {
	int64_t	t;
	int64_t	count;		/* posts in [t - window, t) */
	double	mean;		/* baseline per window; NAN: none */
	double	sd;		/* its standard deviation */
};

/* Evaluates block a over the counts of ser at t = from + (k + 1) * step
 * for k < n, from a fresh state stepped along, into out[0..n): pure (the
 * backtest report draws its charts with it). */
void topview_points(const struct rule_alert *a,
    const struct spike_series *ser, int64_t from, int64_t step, size_t n,
    struct topview_point *out);

/* topview_points() over the counts of topic id read from the store (step
 * a multiple of res; an EWMA baseline learns from the buckets before
 * from that it reads).  0, or -1 (store_errstr). */
int topview_series(struct store *s, int64_t res, int64_t since,
    const char *id, const struct rule_alert *a, int64_t from, int64_t step,
    size_t n, struct topview_point *out);

/* The block a topic without one is shown with: a 5-minute window against
 * a 1-hour baseline. */
void topview_plain_block(struct rule_alert *a);

/* Frees the counts of v[0..n). */
void topview_clear(struct topview *v, size_t n);

#endif
