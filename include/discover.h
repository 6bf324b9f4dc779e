/*
 * discover.h — emerging terms and stories nobody wrote a rule for.
 *
 * Discovery has two halves.  Each instance counts the terms of its posts
 * (segment.h) and the pairs of terms that occur in one post, per flush,
 * with their evidence (disc_flush.h), and hands over the flush's busiest
 * keys as a bounded list.  The scorer (this file) merges such lists from
 * any number of instances (disc_merge) into hashed tables of fixed size:
 * each key falls in `hashes` cells of its table, and each cell keeps the
 * count of the current time bucket and an exponentially weighted mean and
 * variance of its past buckets.  A key's significance is the smallest
 * over its cells of disc_score(); terms and pairs that cross the threshold
 * are clustered by co-occurrence into stories, handed to the caller's
 * callback once each.  disc_add() runs both halves in one process (one
 * instance feeding the scorer, flushed every flush_ms of post time), as
 * `backtest --discover` does.  Memory is fixed at disc_new(): nothing
 * grows with the vocabulary.  One engine belongs to one thread.
 */
#ifndef TW_DISCOVER_H
#define TW_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"
#include "segment.h"

#define DISC_TERMS_PER_POST	32	/* a post's first terms counted (the
					 * segmenter's max_terms) */
#define DISC_STORY_TERMS	8	/* top terms a story shows */
#define DISC_SAMPLES		3	/* sample posts a story shows */
#define DISC_SAMPLE_BYTES	280	/* a sample's text is cut there */
#define DISC_TOPICS		4	/* rule topics a story shows */
#define DISC_TOPIC_BYTES	64	/* a topic name is cut there */

struct disc_opts {
	int64_t		bucket_ms;	/* the counting period */
	int64_t		half_life_ms;	/* of the moving mean and variance */
	int64_t		check_ms;	/* stories are formed this often
					 * (post time) while a term trends */
	int64_t		story_ttl_ms;	/* a story not trending this long is
					 * over; the same terms later make a
					 * new one */
	size_t		memory;		/* bytes for everything, fixed */
	int		hashes;		/* cells per term, 1..8 */
	size_t		candidates;	/* heavy-hitter entries (term strings,
					 * authors, samples) */
	double		threshold;	/* significance for a term to trend */
	double		floor;		/* noise floor: least mean a count is
					 * compared with */
	double		beta;		/* added to the deviation */
	int64_t		min_posts;	/* posts in the bucket for a term to
					 * trend */
	int		max_pairs;	/* pairs of terms counted per post */
	int64_t		flush_ms;	/* disc_add(): a flush per this much
					 * post time; 0: disc_merge() only */
	size_t		flush_keys;	/* keys one flush can count */
	size_t		flush_top;	/* keys one flush hands over */
};

/* bucket 1h, half-life 1d, check 5m, ttl 6h, 64 MiB, 3 hashes, 4096
 * candidates, threshold 4, floor and beta 1, min_posts 4, max_pairs 28,
 * flushes of 1m, 4096 keys, all of them handed over */
void disc_opts_default(struct disc_opts *o);

/* One post as discovery sees it; nothing is kept after disc_add(). */
struct disc_post {
	int64_t			 time_ms;
	const struct seg_result	*terms;
	const char		*author;	/* NULL: unknown */
	size_t			 author_len;
	const char		*text;		/* for samples */
	size_t			 text_len;
	const char *const	*topics;	/* rule topics it matched */
	size_t			 ntopics;
};

/* A story, valid during the callback only. */
struct disc_story {
	char		 id[17];		/* 16 hex digits */
	int64_t		 first_seen_ms;		/* its terms became candidates */
	int64_t		 detected_ms;		/* it was formed (post time) */
	double		 score;			/* its top term's significance */
	const char	*terms[DISC_STORY_TERMS];	/* most significant first */
	size_t		 nterms;
	int64_t		 posts;			/* of its busiest term */
	int64_t		 seen;			/* of those, seen with their
						 * author and text */
	int64_t		 authors;		/* distinct among seen; -1: no
						 * post had an author */
	int64_t		 texts;			/* distinct texts among seen */
	const char	*samples[DISC_SAMPLES];
	size_t		 nsamples;
	const char	*topics[DISC_TOPICS];
	size_t		 ntopics;
};

typedef void (*disc_story_fn)(void *arg, const struct disc_story *s);

struct discover;

/* Allocates every table, its own instance's included (o->memory in
 * all, about); fn is called with each
 * new story.  Returns NULL with the reason in errstr when o->memory cannot
 * hold the candidates and a minimal table. */
struct discover *disc_new(const struct disc_opts *o, disc_story_fn fn,
    void *arg, char *errstr, size_t errstr_size);
void disc_free(struct discover *d);

struct disc_entry;

/* Scores the entries of one flush period, from any number of instances
 * (dflush_take()'s lists, concatenated, in any order; entries of one key
 * are merged in place, the array is reordered), and forms stories when
 * due.  An entry of an older bucket than the scorer's counts in the
 * current one.  now_ms: the latest post time of the period. */
void disc_merge(struct discover *d, struct disc_entry **v, size_t n,
    int64_t now_ms);
/* Counts one post in the engine's own instance (o->flush_ms > 0; posts
 * come in time order), merging its flush when a post opens the next
 * flush period. */
void disc_add(struct discover *d, const struct disc_post *p);
/* Merges the last flush and forms stories from what trends now (at the
 * end of a replay). */
void disc_finish(struct discover *d);
/* Bytes allocated, fixed from disc_new() on. */
size_t disc_memory(const struct discover *d);

/* The story as JSON (one object, as <prefix>alerts:_emerging carries it). */
void disc_story_json(const struct disc_story *s, struct jsonw *w);

/* ---- the arithmetic, for tests -------------------------------------- */

/* (x - max(mean, floor)) / (sqrt(var) + beta) */
double disc_score(double x, double mean, double var, double floor,
    double beta);
/* One bucket of count x into the moving mean and variance. */
void disc_ewm_step(double *mean, double *var, double x, double alpha);
/* k buckets of count 0 at once (the same as k disc_ewm_step(…, 0, …)). */
void disc_ewm_zeros(double *mean, double *var, uint64_t k, double alpha);

/* A small HyperLogLog (256 registers, about 6.5% error). */
struct disc_hll {
	uint8_t	reg[256];
};
void disc_hll_add(struct disc_hll *h, uint64_t hash);
double disc_hll_count(const struct disc_hll *h);

#endif
