/*
 * backtest.h — counts in memory and the daemon's detection over them.
 *
 * The core of `tidewatch backtest`, without its input or printing: the
 * counts of each topic per time bucket (prefix sums, so a window is O(1)),
 * the evidence an alert carries (top keywords, count_by values, samples),
 * read from an aggregate or given as a count series, and detection over
 * them with the daemon's code: watch_step() for the stepping, alert.c for
 * evidence, JSON and group_wait.  The caller says how to show an alert and
 * a digest (struct backtest_out).  One thread.
 */
#ifndef TW_BACKTEST_H
#define TW_BACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agg.h"
#include "alert.h"
#include "normalize.h"
#include "rules.h"
#include "spike.h"

struct backtest;

/* What detection shows, through the caller: line() writes one alert as
 * the caller prints it (caller frees what it returns; held alerts are
 * written when held); alert() shows an alert sent at once; digest() shows
 * the alerts group_wait held as one digest, in order (digest_id names it). */
struct backtest_out {
	char	*(*line)(void *arg, const struct alert *al);
	void	 (*alert)(void *arg, const char *line);
	void	 (*digest)(void *arg, const char *digest_id,
		    const struct alert_held *h);
	void	*arg;
};

/* What detection found for one topic. */
struct backtest_topic {
	int64_t	posts;		/* posts counted */
	int64_t	peak;		/* largest count of its first block's window */
	int64_t	peak_end;	/* that window's end (shown time) */
	size_t	fired, repeats, resolved;
	bool	firing_at_end;	/* an announced episode still firing */
};

/* A backtest of the topics of rs (kept by the caller) with buckets of
 * res seconds. */
struct backtest *backtest_new(const struct ruleset *rs, int64_t res);
/* The normaliser of the posts (borrowed), for the text keys of alerts'
 * top repeated text; without one, alerts name none. */
void backtest_set_normalizer(struct backtest *bt,
    const struct normalizer *norm);
void backtest_free(struct backtest *bt);

/* Takes the counts, evidence and samples of a merged aggregate; a (its
 * strings and samples) must outlive bt.  Returns 0, or -1 when the posts
 * span more buckets than memory allows (err says so). */
int backtest_add_agg(struct backtest *bt, const struct agg *a, char *err,
    size_t errsz);

/* Takes counts[i] as the posts of topic ti in bucket b0 + i * res, i < nb
 * (no evidence).  Only once, and not with backtest_add_agg. */
void backtest_add_series(struct backtest *bt, size_t ti, int64_t b0,
    const int64_t *counts, int64_t nb);

/* Runs detection over every window end of the counts, in time order, and
 * shows every alert and digest through out.  Times shown (alert windows,
 * ids, digests) are bucket times + offset. */
void backtest_detect(struct backtest *bt, int64_t offset,
    const struct backtest_out *out);

/* The counts of topic ti as a series the detector reads (valid while bt
 * lives), over the buckets [*b0, *b0 + *nb * res) (either may be NULL);
 * false when the topic counted nothing. */
bool backtest_series(struct backtest *bt, size_t ti, struct spike_series *ser,
    int64_t *b0, int64_t *nb);

/* Results, after backtest_detect. */
const struct backtest_topic *backtest_topic(const struct backtest *bt,
    size_t ti);
size_t backtest_nalerts(const struct backtest *bt);
size_t backtest_ndigests(const struct backtest *bt);

#endif
