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
 * over mean 0); zscore over max(stddev, sqrt(mean), 1) — the 1 keeps
 * empty baselines finite.  Below max(min_count, 1) nothing
 * fires, else the first of threshold, ratio, zscore that holds (OR); ratio
 * and zscore need nbaseline > 0, so a fresh start with no history cannot
 * false-alarm, while a rise from a known-empty baseline passes ratio,
 * guarded by min_count.  poisson fires when count > factor × u, u the
 * smallest k with P(X > k) <= p for X ~ Poisson(max(mean, 1)), from the
 * regularised incomplete gamma function (series / continued fraction).
 * The EWMA baseline ({halflife}) is state, not a sum: spike_learn() folds
 * each window ending up to T - w into st->ew_mean/ew_var with weight
 * max(1 - 2^(-res/halflife), 1/n) — the plain mean while few are known —
 * unless it lies more than `exclude` deviations above the mean (then
 * ew_skip counts it; after a halflife of such windows they are learned
 * again: a lasting change becomes normal); it is used once ew_span covers
 * min(halflife, 10 windows).  With `season`, ratio, zscore and poisson
 * also need the count season robust deviations above the same window
 * 1..season_lookback season_periods back (median, 1.4826 MAD; stateless,
 * O(lookback) per step; passes with fewer than 3 such windows kept).
 * A guarded block (count authors or texts, min_authors,
 * max_posts_per_author) whose condition holds then reads its distinct
 * counts through the series' distinct callback (the detector's Redis
 * HyperLogLogs, backtest's in memory) and holds only if they pass: read
 * only then, so a quiet topic costs no read.  spike_run() is the stepping loop of the
 * daemon and backtest: learn, evaluate, step, emit, with the state put
 * back if emit fails; spike_reads() names the buckets a step needs, so
 * the readers of Redis fetch them first.  spike_step(): see its comment.  Time arithmetic
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

	if ((s->count == NULL && s->sum == NULL) || end <= s->history_start)
		return 0;
	avail = elapsed(end, s->history_start) / (uint64_t)res;
	k = (uint64_t)nb < avail ? (uint64_t)nb : avail;
	b = back(end, k * (uint64_t)res);
	if (s->sum != NULL)
		return k > 0 ? s->sum(s->arg, b, end) : 0;
	for (i = 0; i < k; i++, b += res) {
		n = s->count(s->arg, b);
		if (n > 0)
			sum = sum > INT64_MAX - n ? INT64_MAX : sum + n;
	}
	return sum;
}

/* Welford's running mean and sum of squared deviations, one value more. */
static void
welford_add(double c, int *n, double *mean, double *m2)
{
	double	d;

	(*n)++;
	d = c - *mean;
	*mean += d / *n;
	*m2 += d * (c - *mean);
}

/* Baseline window [end - w, end): adds its count if it is kept whole.
 * Returns false when it begins before history_start (or before time). */
static bool
add_window(const struct spike_series *s, int64_t res, int64_t end, int64_t nb,
    int64_t w, int *n, double *mean, double *m2)
{
	int64_t	start;

	if (!sub_ok(end, w, &start) || start < s->history_start)
		return false;
	welford_add((double)sum_window(s, res, end, nb), n, mean, m2);
	return true;
}

/* The plain baseline window by window: nwin windows ending at T - w,
 * T - 2w, ..., up to the first that is not kept whole. */
static void
add_windows_each(const struct spike_series *s, int64_t res, int64_t T,
    int64_t nb, int64_t w, int64_t nwin, int *n, double *mean, double *m2)
{
	int64_t	end = T, j;

	for (j = 0; j < nwin && *n < INT_MAX; j++)
		if (!sub_ok(end, w, &end) ||
		    !add_window(s, res, end, nb, w, n, mean, m2))
			break;
}

/* The plain baseline through the series' sums(): the same windows as
 * add_window() ending at T - w, T - 2w, ... (at most nwin, each kept whole
 * from history_start on), fetched oldest first in chunks and added most
 * recent first, in add_window()'s order, so the result is the same to the
 * bit. */
static void
add_windows_batch(const struct spike_series *s, int64_t T, int64_t w,
    int64_t nwin, int *n, double *mean, double *m2)
{
	int64_t		buf[256], m, j0, j1, j, avail;

	if (T < s->history_start)
		return;
	avail = (int64_t)(elapsed(T, s->history_start) / (uint64_t)w);
	m = avail >= 2 ? avail - 1 : 0;
	if (m > nwin)
		m = nwin;
	if (m > INT_MAX)
		m = INT_MAX;
	for (j0 = 0; j0 < m; j0 = j1) {
		j1 = m - j0 > 256 ? j0 + 256 : m;
		/* window j is [T - (j + 2)w, T - (j + 1)w): the oldest of
		 * the chunk first */
		s->sums(s->arg, T - (j1 + 1) * w, w, (size_t)(j1 - j0), buf);
		for (j = j0; j < j1; j++)
			welford_add((double)buf[j1 - 1 - j], n, mean, m2);
	}
}

/* Window length in buckets (rounded up) and in seconds. */
static void
window_len(const struct rule_alert *a, int64_t res, int64_t *nbp, int64_t *wp)
{
	int64_t	nb;

	nb = a->window_s > 0 ? a->window_s / res : 1;
	if (a->window_s > 0 && a->window_s % res != 0)
		nb++;
	if (nb > INT64_MAX / res)
		nb = INT64_MAX / res;
	*nbp = nb;
	*wp = nb * res;
}

/* ---- Poisson ---------------------------------------------------------- */

/*
 * The regularised lower incomplete gamma function P(a, x), a > 0: by its
 * power series below x = a + 1, else as 1 - Q(a, x) with Q by its continued
 * fraction (modified Lentz).  P(X >= k) = P(k, lambda) for a Poisson X.
 */
static double
gamma_p(double a, double x)
{
	double	lead, sum, term, b, c, d, h, an, del;
	int	i;

	if (!(x > 0))
		return 0;
	if (!isfinite(x))
		return 1;
	lead = -x + a * log(x) - lgamma(a);
	if (x < a + 1) {
		sum = term = 1 / a;
		for (i = 1; i < 100000; i++) {
			term *= x / (a + i);
			sum += term;
			if (fabs(term) < fabs(sum) * 1e-15)
				break;
		}
		return fmin(1.0, sum * exp(lead));
	}
	b = x + 1 - a;
	c = 1 / 1e-300;
	d = 1 / b;
	h = d;
	for (i = 1; i < 100000; i++) {
		an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = b + an / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return fmax(0.0, 1 - exp(lead) * h);
}

double
spike_poisson_tail(double lambda, int64_t k)
{
	if (k <= 0)
		return 1;
	if (!(lambda > 0))
		return 0;
	return gamma_p((double)k, lambda);
}

int64_t
spike_poisson_upper(double lambda, double p)
{
	int64_t	lo, hi, mid, step;

	if (!(lambda > 0) || !(p > 0))
		return 0;
	if (lambda > 1e15)
		return INT64_MAX / 4;
	/* P(X > k) = tail(k + 1) falls with k: the answer is in (lo, hi] */
	lo = (int64_t)floor(lambda) - 1;
	if (lo < -1)
		lo = -1;
	if (spike_poisson_tail(lambda, lo + 1) <= p)
		return lo + 1 < 0 ? 0 : lo + 1;
	step = (int64_t)ceil(sqrt(lambda)) + 1;
	hi = lo + step;
	while (spike_poisson_tail(lambda, hi + 1) > p) {
		lo = hi;
		step *= 2;
		hi += step;
	}
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (spike_poisson_tail(lambda, mid + 1) <= p)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* ---- EWMA baseline ---------------------------------------------------- */

#define SPIKE_DEFAULT_EXCLUDE	20.0

/* The learned windows must span this long before the baseline is used:
 * the halflife, or ten windows if that is shorter. */
static int64_t
ew_warmup(const struct rule_alert *a, int64_t w)
{
	int64_t	ten = w > INT64_MAX / 10 ? INT64_MAX : w * 10;

	return a->halflife_s < ten ? a->halflife_s : ten;
}

static bool
ew_usable(const struct rule_alert *a, const struct spike_state *st, int64_t w)
{
	return st != NULL && st->ew_n > 0 && st->ew_span >= ew_warmup(a, w);
}

/* Deviations of c above mean, with spike_evaluate's floor. */
static double
ew_z(double c, double mean, double var)
{
	double	sd = sqrt(var > 0 ? var : 0);

	return (c - mean) / fmax(fmax(sd, sqrt(mean > 0 ? mean : 0)), 1.0);
}

int64_t
spike_learn_from(const struct rule_alert *a, const struct spike_series *s,
    const struct spike_state *st, int64_t T)
{
	int64_t	res, nb, w, target, first;

	if (a->halflife_s <= 0)
		return INT64_MAX;
	res = s->resolution_s > 0 ? s->resolution_s : 1;
	window_len(a, res, &nb, &w);
	if (!sub_ok(align_down(T, res), w, &target))
		return INT64_MAX;
	if (st->ew_T == 0 && st->ew_n == 0 && st->ew_span == 0)
		first = target;		/* nothing looked at yet */
	else if (st->ew_T >= target)
		return INT64_MAX;	/* done already, or going back */
	else
		first = st->ew_T + res;
	if (elapsed(target, first) / (uint64_t)res >= SPIKE_LEARN_MAX)
		first = back(target, (uint64_t)(SPIKE_LEARN_MAX - 1) * (uint64_t)res);
	return first;
}

void
spike_learn(const struct rule_alert *a, const struct spike_series *s,
    struct spike_state *st, int64_t T)
{
	int64_t	res, nb, w, target, E, start;
	double	alpha, ae, c, d, ex;

	if ((E = spike_learn_from(a, s, st, T)) == INT64_MAX)
		return;
	res = s->resolution_s > 0 ? s->resolution_s : 1;
	window_len(a, res, &nb, &w);
	target = align_down(T, res) - w;	/* checked by spike_learn_from */
	alpha = -expm1(-log(2.0) * (double)res / (double)a->halflife_s);
	ex = a->exclude > 0 ? a->exclude : SPIKE_DEFAULT_EXCLUDE;
	for (;; E += res) {
		if (sub_ok(E, w, &start) && start >= s->history_start) {
			c = (double)sum_window(s, res, E, nb);
			if (st->ew_span < INT64_MAX - res)
				st->ew_span += res;
			if (ew_usable(a, st, w) &&
			    ew_z(c, st->ew_mean, st->ew_var) > ex &&
			    st->ew_skip * res < a->halflife_s) {
				/* anomalous: not learned, unless it has lasted
				 * a halflife (then it is the new normal) */
				st->ew_skip++;
			} else {
				st->ew_skip = 0;
				if (st->ew_n < INT64_MAX)
					st->ew_n++;
				ae = fmax(alpha, 1.0 / (double)st->ew_n);
				d = c - st->ew_mean;
				st->ew_mean += ae * d;
				st->ew_var = (1 - ae) * (st->ew_var + ae * d * d);
			}
		}
		if (E >= target || E > INT64_MAX - res)
			break;
	}
	st->ew_T = target;
}

/* ---- season check of the EWMA baseline -------------------------------- */

#define SPIKE_SEASON_PERIOD	86400
#define SPIKE_SEASON_LOOKBACK	7

static void
season_shape(const struct rule_alert *a, int64_t *period, int *lookback)
{
	*period = a->season_period_s > 0 ? a->season_period_s :
	    SPIKE_SEASON_PERIOD;
	*lookback = a->season_lookback > 0 ? a->season_lookback :
	    SPIKE_SEASON_LOOKBACK;
}

/* The median of v[0 .. n-1] (n >= 1), sorting v in place. */
static double
median_sorting(double *v, int n)
{
	double	x;
	int	i, j;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Whether count c lies a->season robust deviations above the windows of
 * the same length ending at T - k*period, k = 1..lookback (kept whole
 * from history_start): (c - median) / max(1.4826 MAD, sqrt(median), 1).
 * With fewer than 3 such windows there is nothing to compare with and
 * the check passes. */
static bool
season_holds(const struct rule_alert *a, const struct spike_series *s,
    int64_t res, int64_t T, int64_t nb, int64_t w, double c)
{
	double	v[RULES_MAX_SEASON], med, mad;
	int64_t	period, raw = T, end, start;
	int	lookback, n = 0, k;

	if (!(a->season > 0))
		return true;
	season_shape(a, &period, &lookback);
	for (k = 1; k <= lookback && n < RULES_MAX_SEASON; k++) {
		if (!sub_ok(raw, period, &raw))
			break;
		end = align_down(raw, res);
		if (!sub_ok(end, w, &start) || start < s->history_start)
			break;
		v[n++] = (double)sum_window(s, res, end, nb);
	}
	if (n < 3)
		return true;
	med = median_sorting(v, n);
	for (k = 0; k < n; k++)
		v[k] = fabs(v[k] - med);
	mad = 1.4826 * median_sorting(v, n);
	return (c - med) / fmax(fmax(mad, sqrt(med)), 1.0) >= a->season;
}

bool
spike_guarded(const struct rule_alert *a)
{
	return a->count != COUNT_POSTS || a->min_authors > 0 ||
	    a->max_posts_per_author > 0;
}

/* A condition that holds still needs the block's distinct counts: count
 * authors or texts (they reach the threshold too), min_authors,
 * max_posts_per_author; read over the hours the window touches.  A failed
 * read holds nothing. */
static void
apply_guards(const struct rule_alert *a, const struct spike_series *s,
    struct spike_eval *ev)
{
	int64_t d[3];

	if (s->distinct(s->distinct_arg, ev->window_start, ev->window_end,
	    d) == -1) {
		ev->cond = COND_NONE;
		return;
	}
	ev->authors = d[0];
	ev->texts = d[1];
	ev->hour_posts = d[2];
	if ((a->count == COUNT_AUTHORS && !((double)d[0] >= a->threshold)) ||
	    (a->count == COUNT_TEXTS && !((double)d[1] >= a->threshold)) ||
	    (a->min_authors > 0 && d[0] < a->min_authors) ||
	    (a->max_posts_per_author > 0 && (d[0] <= 0 ||
	    (double)d[2] / (double)d[0] > a->max_posts_per_author)))
		ev->cond = COND_NONE;
}

void
spike_evaluate(const struct rule_alert *a, const struct spike_series *s,
    int64_t T, struct spike_eval *out)
{
	spike_evaluate_state(a, s, NULL, T, out);
}

void
spike_evaluate_state(const struct rule_alert *a, const struct spike_series *s,
    const struct spike_state *st, int64_t T, struct spike_eval *out)
{
	int64_t	res, nb, w, end, raw, min, k, nwin;
	int	n = 0;
	double	mean = 0, m2 = 0, c, sd, den, lambda;

	memset(out, 0, sizeof *out);
	res = s->resolution_s > 0 ? s->resolution_s : 1;
	T = align_down(T, res);
	window_len(a, res, &nb, &w);

	out->window_end = T;
	if (!sub_ok(T, w, &out->window_start))
		out->window_start = INT64_MIN;
	out->count = sum_window(s, res, T, nb);

	if (a->halflife_s > 0) {
		if (ew_usable(a, st, w)) {
			n = st->ew_n > INT_MAX ? INT_MAX : (int)st->ew_n;
			mean = st->ew_mean;
			m2 = st->ew_var > 0 ? st->ew_var * n : 0;
		}
	} else if (a->period_s > 0) {
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
		if (s->sums != NULL && T > INT64_MIN / 2 && w < INT64_MAX / 4 &&
		    nwin < (INT64_MAX / 4) / w)
			add_windows_batch(s, T, w, nwin, &n, &mean, &m2);
		else
			add_windows_each(s, res, T, nb, w, nwin, &n, &mean,
			    &m2);
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
	if (a->poisson_p > 0) {
		lambda = fmax(mean, 1.0);
		out->pvalue = spike_poisson_tail(lambda, out->count);
		out->upper = spike_poisson_upper(lambda, a->poisson_p);
	}

	min = a->min_count < 1 ? 1 : a->min_count;
	if (out->count < min)
		out->cond = COND_NONE;
	else if (a->threshold >= 0 && c >= a->threshold)
		out->cond = COND_THRESHOLD;
	else if (n > 0 && !season_holds(a, s, res, T, nb, w, c))
		out->cond = COND_NONE;
	else if (a->ratio >= 0 && n > 0 && c >= a->ratio * fmax(mean, 1.0))
		out->cond = COND_RATIO;
	else if (a->zscore >= 0 && n > 0 && out->zscore >= a->zscore)
		out->cond = COND_ZSCORE;
	else if (a->poisson_p > 0 && n > 0 && c > (a->poisson_factor > 0 ?
	    a->poisson_factor : 1.0) * (double)out->upper)
		out->cond = COND_POISSON;
	else
		out->cond = COND_NONE;
	out->authors = out->texts = out->hour_posts = -1;
	if (out->cond != COND_NONE && spike_guarded(a) && s->distinct != NULL)
		apply_guards(a, s, out);
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
	case COND_POISSON:
		return "poisson";
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
	return spike_step_inhibited(a, st, ev, false);
}

enum spike_action
spike_step_inhibited(const struct rule_alert *a, struct spike_state *st,
    const struct spike_eval *ev, bool inhibited)
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
		if (inhibited || (st->notified &&
		    elapsed(we, st->notified_at) < (uint64_t)cooldown))
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

int
spike_reads(const struct rule_alert *a, const struct spike_series *s,
    const struct spike_state *st, int64_t T0, int64_t T1, spike_range_fn fn,
    void *arg)
{
	int64_t	w = a->window_s, res, E, k, period;
	int	lookback;

	res = s->resolution_s > 0 ? s->resolution_s : 1;
	if (fn(arg, T0 - w, T1, T0 - w) == -1)
		return -1;
	if (a->halflife_s > 0) {
		/* the EWMA learns the windows ending in (ew_T, T1 - w] */
		E = spike_learn_from(a, s, st, T0);
		if (E == INT64_MAX || E > T0 - w + res)
			E = T0 - w + res;
		if (fn(arg, E - w, T1 - w, T0 - w) == -1)
			return -1;
		if (a->season > 0) {
			season_shape(a, &period, &lookback);
			for (k = 1; k <= lookback; k++)
				if (fn(arg, T0 - k * period - w,
				    T1 - k * period, INT64_MAX) == -1)
					return -1;
		}
		return 0;
	}
	if (a->period_s > 0) {
		for (k = 1; k <= a->lookback; k++)
			if (fn(arg, T0 - k * a->period_s - w,
			    T1 - k * a->period_s, INT64_MAX) == -1)
				return -1;
		return 0;
	}
	if (a->baseline_s > 0)
		return fn(arg, T0 - w - a->baseline_s, T0 - w, INT64_MAX);
	return 0;
}

/* A step that cannot act, done in O(one window sum): a block without an
 * EWMA baseline (nothing to learn), not firing (nothing to resolve), whose
 * window counts below min_count (no condition can hold) only records the
 * step, exactly as spike_step_inhibited() would; the baseline is not
 * computed.  Returns false when the step must be taken in full. */
static bool
step_quiet(const struct rule_alert *a, const struct spike_series *s,
    struct spike_state *st, int64_t T)
{
	int64_t	res, nb, w, min;

	if (a->halflife_s > 0 || st->firing)
		return false;
	res = s->resolution_s > 0 ? s->resolution_s : 1;
	window_len(a, res, &nb, &w);
	min = a->min_count < 1 ? 1 : a->min_count;
	if (sum_window(s, res, T, nb) >= min)
		return false;
	spike_skip_quiet(st, T);
	return true;
}

int64_t
spike_quiet_until(const struct rule_alert *a, const struct spike_series *s,
    const struct spike_state *st, int64_t T, int64_t to)
{
	int64_t	res, nb, w, start, first;

	if (s->next == NULL || a->halflife_s > 0 || st->firing || T > to)
		return INT64_MIN;
	res = s->resolution_s > 0 ? s->resolution_s : 1;
	window_len(a, res, &nb, &w);
	if (!sub_ok(align_down(T, res), w, &start))
		return INT64_MIN;
	/* a window [t - w, t) with t <= first holds no count */
	first = s->next(s->arg, start);
	if (first < T)
		return INT64_MIN;
	return first < to ? align_down(first, res) : align_down(to, res);
}

void
spike_skip_quiet(struct spike_state *st, int64_t Tq)
{
	if (!st->stepped || Tq >= st->last_step) {
		st->stepped = true;
		st->last_step = Tq;
	}
}

int
spike_run(const struct rule_alert *a, const struct spike_series *s,
    struct spike_state *st, int64_t from, int64_t to, bool inhibited,
    spike_emit_fn emit, void *arg, int64_t *stopped)
{
	struct spike_state	saved;
	struct spike_eval	ev;
	enum spike_action	act;
	int64_t			res, T;
	int			n = 0;

	res = s->resolution_s > 0 ? s->resolution_s : 1;
	from = align_down(from, res);
	to = align_down(to, res);
	for (T = from; T <= to; T += res) {
		if (step_quiet(a, s, st, T)) {
			if (T > INT64_MAX - res)
				break;
			continue;
		}
		saved = *st;
		spike_learn(a, s, st, T);
		spike_evaluate_state(a, s, st, T, &ev);
		act = spike_step_inhibited(a, st, &ev, inhibited);
		if (act != SPIKE_NOTHING) {
			if (emit != NULL && emit(arg, act, &ev) == -1) {
				*st = saved;
				if (stopped != NULL)
					*stopped = T;
				return -1;
			}
			n++;
		}
		if (T > INT64_MAX - res)
			break;
	}
	return n;
}
