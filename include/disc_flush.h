/*
 * disc_flush.h — discovery's per-instance half: the terms and pairs of the
 * posts of one flush, counted with their evidence, handed over as a
 * bounded list for the scorer (discover.h) to merge.
 *
 * A consumer thread feeds every post's terms to its own struct dflush
 * (dflush_add); at flush time dflush_take() gives the flush_top busiest
 * keys, each a struct disc_entry: the term or pair, its discovery bucket,
 * its count of posts and their evidence.  Entries of any number of
 * instances, concatenated, go to disc_merge() on the one scorer.  Every
 * part of an entry merges exactly (counts add, HyperLogLogs take the
 * larger register, samples and topics keep the least by a fixed order),
 * so the merge of two instances' entries for a key equals the entry one
 * instance would make of their posts together.  One struct dflush belongs
 * to one thread.
 */
#ifndef TW_DISC_FLUSH_H
#define TW_DISC_FLUSH_H

#include <stddef.h>
#include <stdint.h>

#include "discover.h"

enum { DISC_KEY_TERM = 1, DISC_KEY_PAIR = 2 };

/* What the posts of a key tell besides their number. */
struct disc_ev {
	int64_t		 authored;	/* posts with an author */
	int64_t		 first_ms;	/* the earliest post's time */
	struct disc_hll	 authors, texts;
	uint8_t		 nsamples, ntopics;
	/* the earliest posts of distinct texts: (time, text hash, text) */
	int64_t		 sample_ms[DISC_SAMPLES];
	uint64_t	 sample_h[DISC_SAMPLES];
	char		 samples[DISC_SAMPLES][DISC_SAMPLE_BYTES + 1];
	/* the least rule topic names, in byte order */
	char		 topics[DISC_TOPICS][DISC_TOPIC_BYTES + 1];
};

/* One key of one flush. */
struct disc_entry {
	uint64_t	 hash;		/* the term's, or the pair's */
	uint64_t	 ha, hb;	/* a pair's terms (hash of a < hash
					 * of b); a term: ha = hash, hb = 0 */
	uint32_t	 bkt;		/* discovery bucket, modulo 2^32 */
	uint8_t		 kind;		/* DISC_KEY_* */
	int64_t		 count;		/* posts */
	char		 a[SEG_MAX_TERM + 1], b[SEG_MAX_TERM + 1];
	struct disc_ev	 ev;
};

struct dflush;

/* Bytes dflush_new(o) allocates (o->flush_keys entries and their index). */
size_t dflush_memory(const struct disc_opts *o);
struct dflush *dflush_new(const struct disc_opts *o);
void dflush_free(struct dflush *f);

/* Counts the post's terms (its first 32) and the pairs of its first terms
 * (max_pairs, hashtags first).  A key new to the flush when flush_keys
 * are held already is not counted (dflush_dropped). */
void dflush_add(struct dflush *f, const struct disc_post *p);

/* The flush's flush_top busiest keys (ties: the least bucket, kind,
 * hash), in the order disc_entry_cmp() gives, as pointers into f; f is
 * empty after.  The entries stay valid until the next dflush_add(); the
 * scorer may change them (it merges duplicates in place). */
size_t dflush_take(struct dflush *f, struct disc_entry ***v);
/* Occurrences not counted since dflush_new() (flush_keys too small). */
uint64_t dflush_dropped(const struct dflush *f);

/* dst gets the evidence of src's posts as well. */
void disc_ev_merge(struct disc_ev *dst, const struct disc_ev *src);
/* The evidence of no post. */
void disc_ev_reset(struct disc_ev *ev);
/* Orders struct disc_entry pointers by bucket, kind, hash (qsort). */
int disc_entry_cmp(const void *a, const void *b);
/* The discovery bucket of a time. */
uint32_t disc_bucket_of(int64_t ms, int64_t bucket_ms);
/* The key of the pair of terms a and b, either way round. */
uint64_t disc_pair_hash(uint64_t a, uint64_t b);
uint64_t disc_mix64(uint64_t h);

#endif
