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
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* Returns the number of posts counted in bucket [t, t + resolution). */
typedef int64_t (*spike_count_fn)(void *arg, int64_t bucket_start);
/* Optional: the sum of the buckets that start in [from, to) (both aligned,
 * from >= history_start), negative counts as 0 — the same as adding up
 * count(), in O(1) from prefix sums (backtest evaluates every window). */
typedef int64_t (*spike_sum_fn)(void *arg, int64_t from, int64_t to);
/* Optional: out[k] = the sum of the buckets that start in
 * [from + k * w, from + (k + 1) * w) for k < n (from >= history_start):
 * n baseline windows back to back in one call (the detector walks its
 * sparse series once for them). */
typedef void (*spike_sums_fn)(void *arg, int64_t from, int64_t w, size_t n,
    int64_t *out);

/* Optional: the first bucket at or after from that counted a post
 * (INT64_MAX: none); lets a quiet stretch be stepped at once. */
typedef int64_t (*spike_next_fn)(void *arg, int64_t from);

/* Optional: out[0] distinct authors, out[1] distinct texts and out[2]
 * posts of the whole hours that [from, to) touches; 0, or -1 unknown. */
typedef int (*spike_distinct_fn)(void *arg, int64_t from, int64_t to,
    int64_t out[3]);

struct spike_series {
	int64_t		 resolution_s;
	int64_t		 history_start;	/* first bucket with data kept; baseline
					 * windows before it are not used */
	spike_count_fn	 count;
	void		*arg;
	spike_sum_fn	 sum;		/* NULL: add up count() */
	spike_sums_fn	 sums;		/* NULL: sum() per baseline window */
	spike_next_fn	 next;		/* NULL: no quiet stretches skipped */
	spike_distinct_fn distinct;	/* NULL: guards not applied (top's
					 * view); the detector and backtest
					 * always give one */
	void		*distinct_arg;
};

enum spike_cond { COND_NONE, COND_THRESHOLD, COND_RATIO, COND_ZSCORE,
	COND_POISSON };

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
	double		pvalue;		/* Poisson P(X >= count) at max(mean, 1);
					 * set when the block has poisson */
	int64_t		upper;		/* that Poisson's upper bound at 1 - p */
	enum spike_cond	cond;		/* first condition that holds, or NONE */
	/* read when a condition held and the block is guarded (count authors
	 * or texts, min_authors, max_posts_per_author): over the hours the
	 * window touches; -1 not read */
	int64_t		authors;
	int64_t		texts;
	int64_t		hour_posts;	/* posts of those hours */
};

struct spike_state;

/* Evaluates block a for the window ending at T.  An EWMA baseline
 * ({halflife}) reads its mean and variance from st (spike_learn); with st
 * NULL it has none yet.  Its season check reads the same window in
 * earlier season periods through the series, as spike_reads() names. */
void spike_evaluate(const struct rule_alert *a, const struct spike_series *s,
    int64_t T, struct spike_eval *out);
void spike_evaluate_state(const struct rule_alert *a,
    const struct spike_series *s, const struct spike_state *st, int64_t T,
    struct spike_eval *out);

const char *spike_cond_name(enum spike_cond c);
/* Whether block a needs distinct counts before it fires. */
bool spike_guarded(const struct rule_alert *a);

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
	/* EWMA baseline ({halflife}); ew_n 0: nothing learned yet. */
	int64_t	ew_n;		/* windows learned */
	int64_t	ew_T;		/* end of the last window looked at */
	int64_t	ew_span;	/* seconds of windows looked at (warm-up) */
	int64_t	ew_skip;	/* windows in a row not learned (anomalous) */
	double	ew_mean;	/* mean count per window */
	double	ew_var;		/* variance of the count per window */
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
/* The same; while inhibited (a parent topic fires) a firing or repeated
 * notification is held back (not marked notified: it goes out once the
 * inhibition ends, if still high); resolves still go out. */
enum spike_action spike_step_inhibited(const struct rule_alert *a,
    struct spike_state *st, const struct spike_eval *ev, bool inhibited);

/* EWMA baseline: learns every window ending after st->ew_T up to T - window
 * (the window just before the one ending at T), at most SPIKE_LEARN_MAX of
 * them, skipping a window that lies more than a->exclude deviations above
 * the mean learned so far, so a long spike does not become normal (once
 * such windows have lasted a halflife they are learned again: a lasting
 * change becomes the new normal).  Nothing for other baselines; the same
 * T again, or an earlier one, learns nothing. */
#define SPIKE_LEARN_MAX	20000
void spike_learn(const struct rule_alert *a, const struct spike_series *s,
    struct spike_state *st, int64_t T);

/* The first window end a learning step at T will read (for prefetching
 * counts): windows ending in (result, T - window] are learned. */
int64_t spike_learn_from(const struct rule_alert *a,
    const struct spike_series *s, const struct spike_state *st, int64_t T);

/*
 * The buckets block a reads to step window ends T0 .. T1 (T0 <= T1) from
 * state st: reported as ranges [from, to) through fn, which returns 0, or
 * -1 to stop (spike_reads then returns -1).  fresh_from is where the
 * windows being stepped begin: buckets at or after it may still be counted
 * into (a reader that caches them reads those again).  The detector and
 * `tidewatch top` fetch exactly these before evaluating.
 */
typedef int (*spike_range_fn)(void *arg, int64_t from, int64_t to,
    int64_t fresh_from);
int spike_reads(const struct rule_alert *a, const struct spike_series *s,
    const struct spike_state *st, int64_t T0, int64_t T1, spike_range_fn fn,
    void *arg);

/*
 * Where a quiet stretch from window end T ends: the last window end T' in
 * [T, to] such that block a cannot act at any of T .. T' (no EWMA
 * baseline, not firing, and every window ending there empty, found with
 * the series' next()); INT64_MIN when T is not known to be quiet so.
 * spike_skip_quiet() then steps the block through T .. T' at once, with
 * the same state as stepping them one by one.
 */
int64_t spike_quiet_until(const struct rule_alert *a,
    const struct spike_series *s, const struct spike_state *st, int64_t T,
    int64_t to);
void spike_skip_quiet(struct spike_state *st, int64_t Tq);

/*
 * The stepping loop the daemon and backtest share: for every window end T
 * from `from` to `to` (aligned to the resolution, inclusive), learn,
 * evaluate and step block a, and report every action through emit.  emit
 * returns 0 to go on, or -1 to stop: the state is then put back as it was
 * before that window end, *stopped is set to it, and spike_run returns -1.
 * Otherwise it returns the number of actions reported.  The same window end
 * as the last step is evaluated again (a window still filling).
 */
typedef int (*spike_emit_fn)(void *arg, enum spike_action act,
    const struct spike_eval *ev);
int spike_run(const struct rule_alert *a, const struct spike_series *s,
    struct spike_state *st, int64_t from, int64_t to, bool inhibited,
    spike_emit_fn emit, void *arg, int64_t *stopped);

/* Poisson helpers (exposed for tests): P(X >= k) for X ~ Poisson(lambda),
 * and the smallest k with P(X > k) <= p. */
double spike_poisson_tail(double lambda, int64_t k);
int64_t spike_poisson_upper(double lambda, double p);

#endif
