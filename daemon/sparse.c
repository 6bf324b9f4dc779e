/*
 * sparse.c — a topic's counts as a sparse sorted series with running sums.
 *
 * DESIGN.  Pure, no I/O; the detector's thread owns each series.  Entries
 * [lo, n) of bucket[] hold the buckets that counted a post, ascending, and
 * cum[] the running sum of their counts (from an arbitrary start: base is
 * the sum before entry lo), so a span's count is the difference of two
 * running sums found by binary search.  Trimming only moves lo (and base);
 * the arrays are compacted once half of them is dead, and freed when the
 * series is empty, so a quiet topic holds nothing.  A replace rewrites the
 * entries from the first bucket it covers on (in the detector that is the
 * last few buckets, the ones still being counted into).
 */
#include <stdlib.h>
#include <string.h>

#include "sparse.h"
#include "xmalloc.h"

void
sparse_init(struct sparse *s)
{
	memset(s, 0, sizeof *s);
}

void
sparse_clear(struct sparse *s)
{
	free(s->bucket);
	free(s->cum);
	sparse_init(s);
}

/* The first live entry whose bucket is >= b (n if none). */
static size_t
lower_bound(const struct sparse *s, int64_t b)
{
	size_t lo = s->lo, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->bucket[mid] < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The running sum before entry i (lo <= i <= n). */
static int64_t
cum_before(const struct sparse *s, size_t i)
{
	return i == s->lo ? s->base : s->cum[i - 1];
}

static int
point_cmp(const void *a, const void *b)
{
	const struct sparse_point *x = a, *y = b;

	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

/* Moves the live entries to the front, rebasing the running sums on 0. */
static void
compact(struct sparse *s)
{
	size_t i, live = s->n - s->lo;

	for (i = 0; i < live; i++) {
		s->bucket[i] = s->bucket[s->lo + i];
		s->cum[i] = s->cum[s->lo + i] - s->base;
	}
	s->n = live;
	s->lo = 0;
	s->base = 0;
}

void
sparse_replace(struct sparse *s, int64_t from, int64_t to,
    struct sparse_point *pts, size_t n)
{
	size_t a, b, tail, keep, i, j, add = 0;
	int64_t *tb, run, prev;

	if (to <= from)
		return;
	if (n > 1)
		qsort(pts, n, sizeof *pts, point_cmp);
	for (i = 0; i < n; i++)
		if (pts[i].count > 0 && pts[i].bucket >= from &&
		    pts[i].bucket < to)
			add++;
	a = lower_bound(s, from);
	b = lower_bound(s, to);
	tail = s->n - b;
	if (add == 0 && a == b)
		return;			/* nothing counted, nothing was */
	if (s->lo > 0)
		compact(s);		/* indexes move: find them again */
	a = lower_bound(s, from);
	b = lower_bound(s, to);
	keep = a;
	if (keep + add + tail > s->cap) {
		size_t cap = s->cap;

		s->bucket = xgrow(s->bucket, &cap, keep + add + tail,
		    sizeof *s->bucket);
		s->cum = xrealloc(s->cum, cap * sizeof *s->cum);
		s->cap = cap;
	}
	/* the tail's buckets, kept aside while the span is rewritten */
	tb = tail > 0 ? xmalloc(tail * 2 * sizeof *tb) : NULL;
	for (i = 0; i < tail; i++) {
		tb[2 * i] = s->bucket[b + i];
		tb[2 * i + 1] = s->cum[b + i] - cum_before(s, b + i);
	}
	run = cum_before(s, a);
	j = a;
	for (i = 0; i < n; i++) {
		if (pts[i].count <= 0 || pts[i].bucket < from ||
		    pts[i].bucket >= to)
			continue;
		prev = pts[i].count > SPARSE_COUNT_MAX ? SPARSE_COUNT_MAX :
		    pts[i].count;
		if (j > a && s->bucket[j - 1] == pts[i].bucket) {
			run += prev;	/* the same bucket twice: added */
			s->cum[j - 1] = run;
			continue;
		}
		run += prev;
		s->bucket[j] = pts[i].bucket;
		s->cum[j++] = run;
	}
	for (i = 0; i < tail; i++) {
		run += tb[2 * i + 1];
		s->bucket[j] = tb[2 * i];
		s->cum[j++] = run;
	}
	s->n = j;
	free(tb);
}

void
sparse_trim(struct sparse *s, int64_t keep_from)
{
	if (s->n == s->lo)
		return;
	s->lo = lower_bound(s, keep_from);
	s->base = s->lo > 0 ? s->cum[s->lo - 1] : s->base;
	if (s->lo == s->n)
		sparse_clear(s);
	else if (s->lo >= 16 && s->lo * 2 >= s->n)
		compact(s);
}

int64_t
sparse_count(const struct sparse *s, int64_t b)
{
	size_t i = lower_bound(s, b);

	return i < s->n && s->bucket[i] == b ? s->cum[i] - cum_before(s, i) : 0;
}

int64_t
sparse_sum(const struct sparse *s, int64_t from, int64_t to)
{
	size_t a, b;

	if (to <= from || s->n == s->lo)
		return 0;
	a = lower_bound(s, from);
	b = lower_bound(s, to);
	return cum_before(s, b) - cum_before(s, a);
}

void
sparse_sums(const struct sparse *s, int64_t from, int64_t w, size_t n,
    int64_t *out)
{
	size_t i, k;
	int64_t end = from, prev;

	if (s->n == s->lo) {
		memset(out, 0, n * sizeof *out);
		return;
	}
	i = lower_bound(s, from);
	prev = cum_before(s, i);
	for (k = 0; k < n; k++) {
		end += w;
		while (i < s->n && s->bucket[i] < end)
			i++;
		out[k] = cum_before(s, i) - prev;
		prev = cum_before(s, i);
	}
}

int64_t
sparse_next(const struct sparse *s, int64_t from)
{
	size_t i = lower_bound(s, from);

	return i < s->n ? s->bucket[i] : INT64_MAX;
}

bool
sparse_quiet(const struct sparse *s, int64_t from, int64_t to)
{
	size_t i;

	if (s->n == s->lo || to <= from)
		return true;
	i = lower_bound(s, from);
	return i >= s->n || s->bucket[i] >= to;
}

static int64_t
count_cb(void *arg, int64_t b)
{
	return sparse_count(arg, b);
}

static int64_t
sum_cb(void *arg, int64_t from, int64_t to)
{
	return sparse_sum(arg, from, to);
}

static void
sums_cb(void *arg, int64_t from, int64_t w, size_t n, int64_t *out)
{
	sparse_sums(arg, from, w, n, out);
}

static int64_t
next_cb(void *arg, int64_t from)
{
	return sparse_next(arg, from);
}

void
sparse_series(struct sparse *s, struct spike_series *ser)
{
	ser->count = count_cb;
	ser->sum = sum_cb;
	ser->sums = sums_cb;
	ser->next = next_cb;
	ser->arg = s;
}

size_t
sparse_len(const struct sparse *s)
{
	return s->n - s->lo;
}

size_t
sparse_bytes(const struct sparse *s)
{
	return s->cap * (sizeof *s->bucket + sizeof *s->cum);
}
