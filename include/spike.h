/*
 * spike.h — window and baseline arithmetic, and the alert state machine;
 * pure functions, no I/O.
 *
 * Time is the posts' own time, in whole seconds, cut into buckets of the
 * counter resolution.  A window ending at T (exclusive, a bucket boundary)
 * covers [T - window, T).  Counts are read through a callback so the same
 * code serves the daemon (counts cached from Redis), backtest (counts in
 * memory) and the unit tests (arrays).
 */
#ifndef TW_SPIKE_H
#define TW_SPIKE_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

/* Returns the number of posts counted in bucket [t, t + resolution). */
typedef int64_t (*spike_count_fn)(void *arg, int64_t bucket_start);

struct spike_series {
	int64_t		 resolution_s;
	int64_t		 history_start;	/* first bucket with data kept; baseline
					 * windows before it are not used */
	spike_count_fn	 count;
	void		*arg;
};

enum spike_cond { COND_NONE, COND_THRESHOLD, COND_RATIO, COND_ZSCORE };

struct spike_eval {
	int64_t		window_start;	/* T - window */
	int64_t		window_end;	/* T */
	int64_t		count;		/* posts in the window */
	int		nbaseline;	/* baseline windows used (0: none) */
	double		mean;		/* mean count per baseline window */
	double		stddev;
	double		baseline_rate;	/* mean per window, as in alerts */
	double		ratio;		/* count / mean; INFINITY if mean = 0 */
	double		zscore;		/* (count - mean) / max(stddev, √mean, 1) */
	enum spike_cond	cond;		/* first condition that holds, or NONE */
};

/* Evaluates block a for the window ending at T. */
void spike_evaluate(const struct rule_alert *a, const struct spike_series *s,
    int64_t T, struct spike_eval *out);

const char *spike_cond_name(enum spike_cond c);

/* The state of one alert block of one topic. */
struct spike_state {
	bool	firing;
	int64_t	since;		/* window_end when the episode began */
	int64_t	notified_at;	/* window_end of the last firing notification */
	int64_t	last_true;	/* last window_end the condition held */
	/* All zero (calloc) is a state that never stepped nor notified. */
	bool	stepped;	/* last_step is valid */
	bool	notified;	/* notified_at is valid */
	int64_t	last_step;	/* window_end of the last step */
};

enum spike_action {
	SPIKE_NOTHING,
	SPIKE_FIRE,		/* a new episode: publish state=firing */
	SPIKE_REPEAT,		/* still high after cooldown: publish firing again */
	SPIKE_RESOLVE,		/* false for resolve_after: publish state=resolved */
};

/* Advances the state with the evaluation of window end ev->window_end and
 * says what to publish.  Windows must be stepped in increasing order;
 * a step backwards does nothing. */
enum spike_action spike_step(const struct rule_alert *a, struct spike_state *st,
    const struct spike_eval *ev);

#endif
