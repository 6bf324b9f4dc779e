/*
 * textkey.h — a post's text fingerprint, for counting distinct texts.
 *
 * A text key is one 64-bit value per post such that copies of one text
 * get the same key: reposts (the chain markers //@user:, 转发微博,
 * RT @user:), URLs, mentions and hashtags are dropped, the rest is taken as
 * the normaliser emitted it (folded, separators gone), and its character
 * shingles are summarised by MinHash; the key is the hash of one LSH band
 * of that signature.  Two texts share a key with a probability that grows
 * with the Jaccard similarity of their shingle sets (a one-character edit
 * of a long text almost always keeps the key; unrelated texts almost never
 * share one): the distinct keys of a bucket count its distinct texts with
 * near-duplicates merged.  The rates measured on real text are in
 * docs/design.md (make eval, tests/eval/textkey.sh).
 *
 * Pure and reentrant: the caller owns a scratch per thread.
 */
#ifndef TW_TEXTKEY_H
#define TW_TEXTKEY_H

#include <stddef.h>
#include <stdint.h>

#include "normalize.h"

/* The shape of the MinHash: characters per shingle, and rows of the one
 * band the key hashes (more rows: fewer false merges, more missed ones). */
struct textkey_params {
	int	shingle;	/* 1..8 */
	int	rows;		/* 1..8 */
};

/* What the daemon and backtest use. */
void textkey_params_default(struct textkey_params *p);

/* Per-thread buffers; zero-initialise, free with textkey_scratch_free(). */
struct textkey_scratch {
	uint32_t	*spans;		/* byte ranges dropped: [start, end) pairs */
	size_t		 nspans, spans_cap;
	uint32_t	*cps;		/* the code points kept */
	size_t		 ncps, cps_cap;
	struct norm_buf	 nb;		/* textkey_of_text()'s */
};
void textkey_scratch_free(struct textkey_scratch *sc);

/* The key of text[0..len) (valid UTF-8), whose normalised form nb is
 * (norm_text() of the same bytes). */
uint64_t textkey_of(const struct textkey_params *p, const char *text,
    size_t len, const struct norm_buf *nb, struct textkey_scratch *sc);

/* The same with the default parameters for a text not normalised yet
 * (an alert's sample): -1 on invalid UTF-8, else 0 and *key. */
int textkey_of_text(const struct normalizer *n, const char *text, size_t len,
    struct textkey_scratch *sc, uint64_t *key);

/* The code points textkey_of() hashes, left in sc->cps (sc->ncps): for
 * tests and the evaluation. */
void textkey_content(const char *text, size_t len, const struct norm_buf *nb,
    struct textkey_scratch *sc);

/* A 64-bit hash of len bytes (an author id becomes one element). */
uint64_t textkey_hash(const void *s, size_t len);

#endif
