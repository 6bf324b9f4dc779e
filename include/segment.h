/*
 * segment.h — the terms of a post, for discovery (discover.c).
 *
 * A segmenter turns a post's text into the set of terms discovery counts:
 * Chinese words (libfriso over the normalised text), Latin words (folded
 * as the normaliser folds them), hashtags (Weibo "#话题#" and "#tag") and,
 * when asked, @mentions.  The text is normalised first (normalize.c), so
 * evasion spellings fold together: 地*沟*油 and 地 沟 油 give 地沟油,
 * ＦＯＯＤ and f.o.o.d give food, traditional characters become simplified.
 * Stop terms (a built-in list plus the configured ones), single Chinese
 * characters, numbers, URLs and one-letter words are left out.
 *
 * Threads: a struct segmenter (the dictionary, the stop list) is built
 * once and is then read-only, shared by any number of threads; each
 * thread segments through its own struct seg_ctx.
 */
#ifndef TW_SEGMENT_H
#define TW_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "normalize.h"

#define SEG_MAX_TERM	64	/* longest term kept, in bytes */

enum seg_kind {
	SEG_WORD,	/* a Chinese or Latin word */
	SEG_HASHTAG,	/* "#话题" or "#tag": '#' and the normalised tag */
	SEG_MENTION,	/* "@name", only with seg_opts.mentions */
};

struct seg_opts {
	const char	*dictionary;	/* friso's UTF-8 lexicon directory */
	char *const	*stop_terms;	/* added to the built-in list */
	size_t		 nstop_terms;
	bool		 mentions;	/* keep @mentions as terms (else
					 * they are skipped) */
	size_t		 max_terms;	/* stop after this many terms (the
					 * text's first ones, as without a
					 * limit); 0: 256 */
};

/* One term of a post: its bytes at str[off, off + len) of the result. */
struct seg_term {
	uint64_t	hash;		/* of its bytes (seg_hash) */
	uint32_t	off;
	uint16_t	len;
	uint8_t		kind;		/* enum seg_kind */
};

/* The terms of one text, each once, in order of first appearance.
 * Valid until the next seg_text() on the same context. */
struct seg_result {
	const struct seg_term	*v;
	size_t			 n;
	const char		*str;
};

struct segmenter;
struct seg_ctx;

/* Loads the dictionary of o->dictionary and the stop terms (each
 * normalised with n); n is borrowed and must outlive the segmenter.
 * Returns NULL with the reason in errstr. */
struct segmenter *seg_new(const struct seg_opts *o,
    const struct normalizer *n, char *errstr, size_t errstr_size);
void seg_free(struct segmenter *s);

/* A context for one thread (s must outlive it). */
struct seg_ctx *seg_ctx_new(const struct segmenter *s);
void seg_ctx_free(struct seg_ctx *c);

/* Segments len bytes of UTF-8 text.  Returns 0 with the terms in *r, or -1
 * when the text is not valid UTF-8 (*r then has no terms). */
int seg_text(struct seg_ctx *c, const char *text, size_t len,
    struct seg_result *r);

/* The hash discovery keys a term by (64-bit FNV-1a, then mixed). */
uint64_t seg_hash(const char *s, size_t len);
/* Writes code point cp as UTF-8 at dst (4 bytes room); returns its length. */
size_t seg_utf8_put(char *dst, uint32_t cp);

#endif
