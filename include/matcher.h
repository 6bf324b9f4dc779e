/*
 * matcher.h — a rule set compiled for matching posts; pure, no I/O.
 *
 * match_compile() turns a rule set into one multi-literal automaton over the
 * normalised characters of every literal keyword of every topic, plus the
 * PCRE2 programs of regex keywords.  Matching a post normalises its text
 * once, runs the automaton once over it, and then evaluates only the topics
 * that a literal touched (and the few topics whose every requirement is a
 * regex or a where condition); PCRE2 runs only for topics that can still
 * match, under match and depth limits.  Cost per post grows with the text
 * and the hits, not with the number of rules.
 *
 * A matcher is immutable and may be shared by threads; each thread has its
 * own struct match_ctx for scratch space and results.  The matcher keeps a
 * reference on its rule set and normaliser borrows: the normaliser must
 * outlive the matcher.
 */
#ifndef TW_MATCHER_H
#define TW_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "normalize.h"
#include "post.h"
#include "rules.h"

struct matcher;
struct match_ctx;

/* Limits for PCRE2 (match_limit, depth_limit); 0 selects the defaults
 * (1,000,000 and 10,000). */
struct match_limits {
	uint32_t	match_limit;
	uint32_t	depth_limit;
};

/* One keyword occurrence, in bytes of the post's original text. */
struct match_hit {
	uint32_t	topic;		/* index in ruleset->topics */
	uint32_t	kw;		/* index in that topic's kws */
	uint32_t	start;
	uint32_t	end;
};

/* A topic that matched, with the distinct positive keywords that hit
 * (indexes into the topic's kws, ascending). */
struct match_topic {
	uint32_t	 topic;
	const uint32_t	*kws;
	size_t		 nkws;
};

/* A regex that PCRE2 cut off (match or depth limit) or failed on. */
struct match_error {
	uint32_t	topic;
	uint32_t	kw;		/* UINT32_MAX for a where regex */
	int		pcre2_rc;	/* PCRE2_ERROR_MATCHLIMIT, … */
};

/* Results of the last match_post() on a context; valid until the next. */
struct match_result {
	const struct match_topic *topics;	/* ascending by topic index */
	size_t			  ntopics;
	const struct match_hit	 *hits;		/* every positive keyword
						 * occurrence of matched topics */
	size_t			  nhits;
	const struct match_error *errors;
	size_t			  nerrors;
};

struct match_stats {
	size_t	literals;	/* distinct normalised literals */
	size_t	regexes;
	size_t	states;		/* automaton states */
	size_t	bytes;		/* memory held by the compiled matcher */
};

struct matcher *match_compile(struct ruleset *rs, const struct normalizer *norm,
    const struct match_limits *limits, char *errstr, size_t errstr_size);
void match_free(struct matcher *m);
const struct ruleset *match_ruleset(const struct matcher *m);
void match_get_stats(const struct matcher *m, struct match_stats *st);
/* Warnings found at compile time, one "path:line:col: warning: …" line per
 * literal keyword that folds into something else (it loses characters, or
 * becomes a Latin word of one or two letters).  Owned by the matcher. */
const struct diag *match_warnings(const struct matcher *m);

struct match_ctx *match_ctx_new(const struct matcher *m);
void match_ctx_free(struct match_ctx *ctx);

/* Matches one post (p->text must be valid UTF-8).  Returns 0, or -1 if the
 * text is not valid UTF-8.  Regex cut-offs are reported in res->errors and
 * do not stop the other topics. */
int match_post(struct match_ctx *ctx, const struct post *p,
    struct match_result *res);
/* The normalised text of the last post match_post() was given (valid
 * until the next call). */
const struct norm_buf *match_normalized(const struct match_ctx *ctx);

#endif
