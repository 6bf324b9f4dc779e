/*
 * agg.h — local pre-aggregation of matched posts between two flushes.
 *
 * A consumer thread adds each matched post to its aggregate: one count per
 * (topic, bucket), plus keyword hits, count_by values and a few sample
 * posts.  A flush then writes the aggregate to Redis in one round trip, so
 * Redis work grows with topics × buckets touched, never with the number of
 * posts.  Topics are keyed by id (not by index) so an aggregate survives a
 * rule reload.  One aggregate per thread; not shared.
 */
#ifndef TW_AGG_H
#define TW_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "matcher.h"
#include "post.h"
#include "rules.h"

enum agg_kind {
	AGG_COUNT,	/* posts of topic in bucket */
	AGG_KEYWORD,	/* aux = keyword as written in the rules */
	AGG_BY,		/* aux = field name, aux2 = value */
};

struct agg_entry {
	enum agg_kind	 kind;
	const char	*topic;		/* interned topic id ("_all": every post) */
	int64_t		 bucket;	/* bucket start, seconds since the epoch */
	const char	*aux;
	const char	*aux2;
	int64_t		 count;
};

/*
 * A sample post: the JSON object {"id":…,"text":…} that alerts carry (text
 * cut to AGG_SAMPLE_TEXT bytes, valid UTF-8).  Of each (topic, bucket) the
 * aggregate keeps the samples_per_bucket greatest by agg_sample_cmp() —
 * the newest by counted time, then by the bytes of the JSON — so what is
 * kept does not depend on how the stream was cut into flushes, partitions
 * or threads: the store (Redis orders a sorted set by score, then by the
 * member's bytes) and backtest pick the same posts.
 */
struct agg_sample {
	const char	*topic;
	int64_t		 bucket;
	int64_t		 time_ms;	/* the time the post was counted at */
	char		*json;
	size_t		 json_len;
	uint32_t	 next;		/* internal: index + 1 of the next sample
					 * of the same (topic, bucket) */
};

/* The order of samples: time_ms, then the JSON's bytes as memcmp compares
 * them (a prefix first); <0, 0, >0. */
int agg_sample_cmp(int64_t t1, const char *j1, size_t l1, int64_t t2,
    const char *j2, size_t l2);

#define AGG_SAMPLE_TEXT		280	/* bytes of text kept per sample */
#define AGG_MAX_VALUES		32	/* count_by values kept per topic,
					 * field and bucket; more go to "_other" */

struct agg;

struct agg *agg_new(int64_t resolution_s, size_t samples_per_bucket);
void agg_free(struct agg *a);

/* Adds one post, counted at time t_ms (its bucket: the second
 * floor(t_ms / 1000)), with its match result. */
void agg_add(struct agg *a, const struct ruleset *rs, const struct post *p,
    int64_t t_ms, const struct match_result *res);
/* The aggregate keeps, per topic index of the rule set agg_add() was last
 * given, the strings it interned for it; a caller that is about to pass
 * another rule set (which could sit where a freed one was) says so first.
 * The strings themselves stay. */
void agg_forget_rules(struct agg *a);

/*
 * Distinct authors and texts: each post that agg_add() counted under some
 * topics can add its author and its text key (textkey.h) to each of those
 * topics' sets of the UTC hour its time falls in.  The aggregate keeps each
 * (kind, topic, hour, element) once between two clears, so a flush carries
 * each element once (and the store adds it to an idempotent HyperLogLog).
 */
enum agg_distinct_kind { AGG_AUTHORS, AGG_TEXTS };

#define AGG_DISTINCT_S	3600	/* the grain of distinct counts */

struct agg_distinct {
	const char	*topic;		/* interned topic id */
	int64_t		 hour;		/* start of the hour, seconds */
	uint64_t	 elem;
	uint8_t		 kind;		/* enum agg_distinct_kind */
};

/* The keys of one post: has_author 0 when it has no author. */
struct agg_keys {
	uint64_t	author;
	uint64_t	text;
	int		has_author;
};

/* Adds keys to every topic of res at time t_ms: call right after the
 * agg_add() of the same post (same rule set and result). */
void agg_add_distinct(struct agg *a, const struct ruleset *rs,
    int64_t t_ms, const struct match_result *res, const struct agg_keys *k);
/* The distinct elements since the last clear, in insertion order; valid
 * until the next add or clear. */
const struct agg_distinct *agg_distincts(const struct agg *a, size_t *n);

/* Counts a decoded post under "_all" (every post, matched or not). */
void agg_add_total(struct agg *a, int64_t t_s);

/* The aggregated entries and samples, valid until the next agg_add or
 * agg_clear.  Entries of a kind other than those of enum agg_kind are the
 * aggregate's own bookkeeping: skip them. */
const struct agg_entry *agg_entries(const struct agg *a, size_t *n);
const struct agg_sample *agg_samples(const struct agg *a, size_t *n);
size_t agg_posts(const struct agg *a);	/* posts added since the last clear */
size_t agg_size(const struct agg *a);	/* entries + samples + distinct
					 * elements (memory bound) */
void agg_clear(struct agg *a);

/* Moves everything of b into a (b is cleared). */
void agg_merge(struct agg *a, struct agg *b);

#endif
