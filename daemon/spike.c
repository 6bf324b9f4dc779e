/*
 * spike.c — window and baseline arithmetic, and the alert state machine.
 *
 * DESIGN.  Pure, no I/O, no allocation, any thread.  spike_evaluate() aligns
 * T down to the resolution and reads buckets through the series callback;
 * the window [T - w, T) is window_s in whole buckets (rounded up), buckets
 * before history_start read 0.  Baseline windows are w long and used only
 * if they begin at or after history_start: plain, floor(baseline/w) windows
 * back to back ending at T - w; seasonal, [T - k*period - w, T - k*period)
 * for k = 1..lookback.  mean (= baseline_rate, posts per window) and
 * population stddev over those nbaseline windows; ratio = count/mean (inf
 * over mean 0); zscore over max(stddev, sqrt(mean), 1) — the 1, beyond
 * SPEC, keeps empty baselines finite.  Below max(min_count, 1) nothing
 * fires, else the first of threshold, ratio, zscore that holds (OR); ratio
 * and zscore need nbaseline > 0, so a fresh start with no history cannot
 * false-alarm, while a rise from a known-empty baseline passes ratio,
 * guarded by min_count.  spike_step(): see its comment.  Time arithmetic
 * is overflow-safe for any int64; reads are bounded by history_start..T.
 */
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "spike.h"

#define SPIKE_DEFAULT_COOLDOWN	1800	/* as rules.h: cooldown 30m */

/* *out = a - b; false (and *out untouched) if it does not fit. */
static bool
sub_ok(int64_t a, int64_t b, int64_t *out)
{
	if ((b > 0 && a < INT64_MIN + b) || (b < 0 && a > INT64_MAX + b))
		return false;
	*out = a - b;
	return true;
}

/* later - earlier, exact, for later >= earlier (no wrap-around). */
static uint64_t
elapsed(int64_t later, int64_t earlier)
{
	if (earlier >= 0 || later < 0)
		return (uint64_t)(later - earlier);
	return (uint64_t)later + (uint64_t)(-(earlier + 1)) + 1;
}

/* end - d, for d <= elapsed(end, INT64_MIN): the result is an int64. */
static int64_t
back(int64_t end, uint64_t d)
{
	if (d <= (uint64_t)INT64_MAX)
		return end - (int64_t)d;
	return -(int64_t)(d - (uint64_t)end - 1) - 1;
}

/* t aligned down to res; up if nothing aligned is below it (near INT64_MIN). */
static int64_t
align_down(int64_t t, int64_t res)
{
	int64_t	r = t % res;

	if (r < 0)
		r += res;
	if (t < INT64_MIN + r)
		return t + (res - r);
	return t - r;
}

/* Sum of the nb buckets ending at end, skipping those before history_start;
 * negative counts read as 0, the sum saturates. */
static int64_t
sum_window(const struct spike_series *s, int64_t res, int64_t end, int64_t nb)
{
	uint64_t	avail, k, i;
	int64_t		b, n, sum = 0;

	if (s->count == NULL || end <= s->history_start)
		return 0;
	avail = elapsed(end, s->history_start) / (uint64_t)res;
	k = (uint64_t)nb < avail ? (uint64_t)nb : avail;
	b = back(end, k * (uint64_t)res);
	for (i = 0; i < k; i++, b += res) {
		n = s->count(s->arg, b);
		if (n > 0)
			sum = sum > INT64_MAX - n ? INT64_MAX : sum + n;
	}
	return sum;
}

/* Baseline window [end - w, end): adds its count if it is kept whole.
 * Returns false when it begins before history_start (or before time). */
static bool
add_window(const struct spike_series *s, int64_t res, int64_t end, int64_t nb,
    int64_t w, int *n, double *mean, double *m2)
{
	int64_t	start;
	double	c, d;

	if (!sub_ok(end, w, &start) || start < s->history_start)
		return false;
	c = (double)sum_window(s, res, end, nb);
	(*n)++;
	d = c - *mean;
	*mean += d / *n;
	*m2 += d * (c - *mean);
	return true;
}

void
spike_evaluate(const struct rule_alert *a, const struct spike_series *s,
    int64_t T, struct spike_eval *out)
{
	int64_t	res, nb, w, end, raw, min, k, j, nwin;
	int	n = 0;
	double	mean = 0, m2 = 0, c, sd, den;

	memset(out, 0, sizeof *out);
	res = s->resolution_s > 0 ? s->resolution_s : 1;
	T = align_down(T, res);

	nb = a->window_s > 0 ? a->window_s / res : 1;
	if (a->window_s > 0 && a->window_s % res != 0)
		nb++;
	if (nb > INT64_MAX / res)
		nb = INT64_MAX / res;
	w = nb * res;

	out->window_end = T;
	if (!sub_ok(T, w, &out->window_start))
		out->window_start = INT64_MIN;
	out->count = sum_window(s, res, T, nb);

	if (a->period_s > 0) {
		raw = T;
		for (k = 1; k <= a->lookback && n < INT_MAX; k++) {
			if (!sub_ok(raw, a->period_s, &raw))
				break;
			end = align_down(raw, res);
			if (!add_window(s, res, end, nb, w, &n, &mean, &m2))
				break;
		}
	} else if (a->baseline_s > 0) {
		nwin = a->baseline_s / w;
		end = T;
		for (j = 0; j < nwin && n < INT_MAX; j++) {
			if (!sub_ok(end, w, &end) ||
			    !add_window(s, res, end, nb, w, &n, &mean, &m2))
				break;
		}
	}

	c = (double)out->count;
	sd = n > 0 ? sqrt(m2 > 0 ? m2 / n : 0) : 0;
	out->nbaseline = n;
	out->mean = mean;
	out->stddev = sd;
	out->baseline_rate = mean;
	if (mean > 0)
		out->ratio = c / mean;
	else
		out->ratio = out->count > 0 ? INFINITY : 0;
	den = fmax(fmax(sd, sqrt(mean)), 1.0);
	out->zscore = (c - mean) / den;

	min = a->min_count < 1 ? 1 : a->min_count;
	if (out->count < min)
		out->cond = COND_NONE;
	else if (a->threshold >= 0 && c >= a->threshold)
		out->cond = COND_THRESHOLD;
	else if (a->ratio >= 0 && n > 0 && c >= a->ratio * fmax(mean, 1.0))
		out->cond = COND_RATIO;
	else if (a->zscore >= 0 && n > 0 && out->zscore >= a->zscore)
		out->cond = COND_ZSCORE;
	else
		out->cond = COND_NONE;
}

const char *
spike_cond_name(enum spike_cond c)
{
	switch (c) {
	case COND_NONE:
		return "none";
	case COND_THRESHOLD:
		return "threshold";
	case COND_RATIO:
		return "ratio";
	case COND_ZSCORE:
		return "zscore";
	}
	return "unknown";
}

/*
 * An episode begins when the condition holds while not firing and ends once
 * it has been false for resolve_after (default window).  Notifications keep
 * cooldown (default 30m) apart, across episodes: an episode that begins
 * within cooldown of the last notification fires silently and sends its
 * FIRE once cooldown has passed, if still high; a still-high announced
 * episode sends REPEAT every cooldown.  Only an announced episode sends
 * RESOLVE.  A step before the last one does nothing; the same window end
 * again (a window still filling) is evaluated again.
 */
enum spike_action
spike_step(const struct rule_alert *a, struct spike_state *st,
    const struct spike_eval *ev)
{
	int64_t	we = ev->window_end, cooldown, resolve;
	bool	announced;

	/* the same window end again is a re-evaluation of a window that is
	 * still filling (the current bucket); only going back is ignored */
	if (st->stepped && we < st->last_step)
		return SPIKE_NOTHING;
	st->stepped = true;
	st->last_step = we;

	cooldown = a->cooldown_s >= 0 ? a->cooldown_s : SPIKE_DEFAULT_COOLDOWN;
	resolve = a->resolve_after_s >= 0 ? a->resolve_after_s : a->window_s;
	if (resolve < 0)
		resolve = 0;

	if (ev->cond != COND_NONE) {
		st->last_true = we;
		if (!st->firing) {
			st->firing = true;
			st->since = we;
		}
		announced = st->notified && st->notified_at >= st->since;
		if (st->notified &&
		    elapsed(we, st->notified_at) < (uint64_t)cooldown)
			return SPIKE_NOTHING;
		st->notified = true;
		st->notified_at = we;
		return announced ? SPIKE_REPEAT : SPIKE_FIRE;
	}

	if (st->firing && elapsed(we, st->last_true) >= (uint64_t)resolve) {
		announced = st->notified && st->notified_at >= st->since;
		st->firing = false;
		return announced ? SPIKE_RESOLVE : SPIKE_NOTHING;
	}
	return SPIKE_NOTHING;
}
