/*
 * sparse.h — one topic's counts per bucket, kept sparse, with running sums;
 * pure, no I/O.
 *
 * The detector keeps a series per topic: only the buckets that counted a
 * post, sorted, each with the running sum of the counts up to it, so that
 * the count of any span of buckets is two binary searches, whatever the
 * window or baseline, and a topic that counted nothing holds no memory.
 * Counts enter as the points of a span read from the store
 * (sparse_replace: the span's counts are exactly those points); the old
 * ones leave with sparse_trim once no block can read them again.  The
 * owner (one thread) frees it with sparse_clear.
 */
#ifndef TW_SPARSE_H
#define TW_SPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spike.h"

/* One bucket's count, as read from the store. */
struct sparse_point {
	int64_t	bucket;		/* bucket start, seconds */
	int64_t	count;
};

struct sparse {
	int64_t	*bucket;	/* sorted; entries [lo, n) are live */
	int64_t	*cum;		/* cum[i]: running sum up to entry i */
	int64_t	 base;		/* the running sum before entry lo */
	size_t	 lo, n, cap;
};

/* Counts above this are taken as this (no running sum can overflow). */
#define SPARSE_COUNT_MAX	(INT64_C(1) << 40)

/* An empty series (all zero is one too). */
void sparse_init(struct sparse *s);
/* Frees the entries; the series is empty again. */
void sparse_clear(struct sparse *s);

/* The counts of the buckets in [from, to) become exactly pts (n points,
 * any order, buckets inside [from, to); zero and negative counts are not
 * kept).  pts is sorted in place. */
void sparse_replace(struct sparse *s, int64_t from, int64_t to,
    struct sparse_point *pts, size_t n);
/* Drops the buckets before keep_from; an empty series frees its memory. */
void sparse_trim(struct sparse *s, int64_t keep_from);

/* The count of bucket b (0 when none). */
int64_t sparse_count(const struct sparse *s, int64_t b);
/* The sum of the buckets that start in [from, to). */
int64_t sparse_sum(const struct sparse *s, int64_t from, int64_t to);
/* out[k] = sparse_sum(from + k * w, from + (k + 1) * w), k < n, in one
 * walk: n consecutive windows of w seconds. */
void sparse_sums(const struct sparse *s, int64_t from, int64_t w, size_t n,
    int64_t *out);
/* The first bucket at or after from that counted (INT64_MAX: none). */
int64_t sparse_next(const struct sparse *s, int64_t from);
/* True when no bucket in [from, to) counted anything. */
bool sparse_quiet(const struct sparse *s, int64_t from, int64_t to);
/* Points ser's count, sum, sums and next at s (resolution and history
 * start are the caller's to set). */
void sparse_series(struct sparse *s, struct spike_series *ser);
/* Buckets held, and the bytes allocated for them. */
size_t sparse_len(const struct sparse *s);
size_t sparse_bytes(const struct sparse *s);

#endif
