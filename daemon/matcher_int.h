/*
 * matcher_int.h — the layout shared by the matcher's three files; not an API.
 *
 * A compiled matcher (struct matcher) is built by matcher_build.c (keyword
 * collection, symbols, the automaton as a double array, the root table and
 * the bigram filter, topics and regexes), read by matcher.c (the per-post
 * runtime: scan, separator and word checks, topic decisions, results) and
 * by matcher_regex.c (regex factors at compile time, PCRE2 runs per post).
 * A struct match_ctx is one thread's scratch for matcher.c and
 * matcher_regex.c; matcher_fold.c warns about keywords that fold into
 * something else while matcher_build.c folds them.  Only these files
 * include this header; everyone else sees the opaque types of
 * include/matcher.h.  The few helpers here
 * are static inline so that the scan loop in matcher.c keeps them inlined.
 */
#ifndef TW_MATCHER_INT_H
#define TW_MATCHER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matcher.h"
#include "xmalloc.h"

#define SYM_PAGES	(0x110000 >> 8)
#define SYM_L1		8192		/* power of two >= SYM_PAGES */
#define OUT_FLAG	0x80000000u	/* in dacell.base: state has output */
#define BASE_MASK	0x7fffffffu
#define FAIL_D1		0x80000000u	/* in dacell.fail: the failure is a
					 * child of the root */
#define FAIL_MASK	0x7fffffffu
#define CELL_EMPTY	UINT32_MAX
#define GROUP_NONE	UINT16_MAX	/* occurrence of a none keyword */
#define GROUP_TRIG	(UINT16_MAX - 1)/* occurrence of a regex's factor */
#define MAX_FACTORS	16		/* branches gated per regex */

#define T_ALWAYS	0x01	/* candidate for every post */
#define T_WHERE		0x02
#define T_POS_RE	0x04	/* has positive regex keywords */
#define T_NONE_RE	0x08	/* has none regex keywords */

/* One cell: a state when check names its parent.  16 bytes, so a step
 * that lands on a state has its failure link in the same cache line. */
struct dacell {
	uint32_t	base;		/* OUT_FLAG | base of the children */
	uint32_t	check;		/* parent cell, CELL_EMPTY if free */
	uint32_t	fail;		/* failure link | FAIL_D1 */
	uint32_t	pat;		/* index + 1 of the first pattern
					 * ending here (its own, or its
					 * dictionary links'), or 0 */
};

/* The root's child on one symbol. */
struct mroot {
	uint32_t	cell;		/* | OUT_FLAG; 0: no child */
	uint32_t	base;		/* its children's base */
};

/* A distinct normalised literal (code points and its own gaps).  16 bytes:
 * a set has a million.  Its occurrences run up to the next pattern's
 * (pats has a last entry with occ == noccs); a literal written without
 * separators has gaps 0, the zeros that kgaps starts with. */
struct mpat {
	uint32_t	len : 31;	/* characters */
	uint32_t	raw : 1;	/* regex factor: no gap/boundary check */
	uint32_t	gaps;		/* offset in kgaps: len bytes */
	uint32_t	occ;		/* first entry in occs */
	uint32_t	next;		/* index+1 of the next pattern that
					 * ends at the same place: same
					 * characters and other gaps, then
					 * a shorter suffix's (link_outputs) */
};

/* One (topic, keyword) that a pattern stands for. */
struct mocc {
	uint32_t	topic;
	uint32_t	kw;		/* GROUP_TRIG: index in res */
	uint16_t	group;		/* positive group, GROUP_NONE, GROUP_TRIG */
};

/* A regex keyword of a topic; the code belongs to the rule set. */
struct mre {
	const pcre2_code *re;
	uint32_t	kw;
	uint16_t	group;		/* positive group, or GROUP_NONE */
	uint8_t		jit;
	uint8_t		gated;		/* runs only once a factor was seen */
};

/* A topic's compiled shape: its groups, regexes and flags (T_*). */
struct mtopic {
	uint32_t	npos;		/* positive groups */
	uint32_t	gw;		/* first word in ctx->gbits */
	uint32_t	grp;		/* offset in grp_re: npos bytes */
	uint32_t	re;		/* first entry in res */
	uint32_t	nre;
	uint8_t		flags;
};

/* Written by match_compile() only; read only afterwards, by any thread. */
struct matcher {
	struct ruleset		*rs;
	const struct normalizer	*norm;
	struct match_limits	 limits;
	int			 max_gap;

	uint32_t		*sym_l1;	/* cp >> 8 -> page offset */
	uint32_t		*sym_pages;	/* page 0 is all zero */
	size_t			 nsym_pages;
	uint32_t		 nsyms;

	struct dacell		*da;
	size_t			 ncells;	/* with padding */
	size_t			 nstates;
	/* Steps from the root and its children without the array: root[c]
	 * is the root's child on symbol c (cell 0: none; | OUT_FLAG if it
	 * has output) and the base of its children.  bigram has bit
	 * bigram_hash(p, c) set if the root's child on p has a child on c;
	 * clear means it has none. */
	struct mroot		*root;
	uint64_t		*bigram;
	uint32_t		 bigram_shift;	/* 32 - log2(bits) */

	struct mpat		*pats;
	size_t			 npats;
	uint8_t			*kgaps;
	size_t			 nkgaps;
	struct mocc		*occs;
	size_t			 noccs;

	struct mtopic		*topics;
	size_t			 ntopics;
	uint8_t			*grp_re;	/* per positive group: has a regex */
	struct mre		*res;
	size_t			 nres;
	uint32_t		*always;
	size_t			 nalways;
	size_t			 ngwords;
	uint32_t		 max_nre;

	size_t			 bytes;
	struct diag		 warns;		/* match_fold_warn(), at compile */
};

/*
 * Per-post state of one topic, valid while stamp == ctx->gen.  16 bytes,
 * and all that a literal hit reads or writes, so that a hit on a topic
 * costs one cache line whatever the number of topics: the group bits of a
 * topic of at most 32 positive groups are here (TS_WIDE: in ctx->gbits
 * from the topic's gw), and a topic of literal groups only (TS_PLAIN) is
 * decided from sat >= need without its struct mtopic.  need and the
 * TS_WIDE and TS_PLAIN flags are set by match_ctx_new() and kept.
 */
struct tstate {
	uint32_t	stamp;		/* == ctx->gen when touched this post */
	uint32_t	bits;		/* group bits, unless TS_WIDE */
	union {
		uint32_t sat;		/* positive groups satisfied */
		uint32_t rank;		/* once decided and matched: its
					 * place among the matched topics */
	};
	uint16_t	need;		/* TS_PLAIN: positive groups */
	uint8_t		flags;		/* TS_* */
	uint8_t		pad;
};

#define TS_VETO		0x01	/* this post: a none keyword hit */
#define TS_MATCHED	0x02	/* this post: decided, matched */
#define TS_WIDE		0x04	/* group bits in ctx->gbits */
#define TS_PLAIN	0x08	/* no regex, no where: need decides */
#define TS_POST		(TS_VETO | TS_MATCHED)	/* cleared per post */

/* One thread's scratch, reused from post to post (matcher.c owns it). */
struct match_ctx {
	const struct matcher	*m;
	const struct post	*p;
	uint32_t		 gen;

	struct norm_buf		 nb;		/* significant characters */
	struct norm_buf		 fb;		/* full text, for regexes */
	char			*u8;
	size_t			 u8len;
	size_t			 u8cap;
	uint32_t		*offs;
	size_t			 offscap;
	bool			 full;		/* fb, u8, offs are this post's */

	struct tstate		*ts;
	uint32_t		*restamp;	/* per regex: == gen if triggered */
	uint64_t		*gbits;
	uint32_t		*sym;		/* symbols of nb */
	size_t			 symcap;
	uint32_t		*touched;	/* ntopics entries at most */
	size_t			 ntouched;
	uint8_t			*ran;		/* max_nre entries */

	struct match_hit	*raw;		/* positive hits, all topics */
	size_t			 nraw;
	size_t			 rawcap;
	struct match_hit	*hits;
	size_t			 hitscap;
	uint32_t		*kws;
	size_t			 kwscap;
	struct match_topic	*rtopics;	/* ntopics entries at most */
	struct match_error	*errs;
	size_t			 nerrs;
	size_t			 errscap;

	pcre2_match_data	*md;
	pcre2_match_context	*mc;
	pcre2_jit_stack		*js;
};

/* --- shared helpers --------------------------------------------------- */

/* The occurrences of pattern p: occs[p->occ] up to this. */
static inline uint32_t
pat_occ_end(const struct mpat *p)
{
	return p[1].occ;
}

/* Bit of the bigram filter for root child p followed by symbol c. */
static inline uint32_t
bigram_hash(const struct matcher *m, uint32_t p, uint32_t c)
{
	return ((p << 16 ^ c) * 0x9e3779b1u) >> m->bigram_shift;
}

/* Records an occurrence of keyword kw of topic t, in source bytes. */
static inline void
raw_hit_add(struct match_ctx *ctx, uint32_t t, uint32_t kw, uint32_t start,
    uint32_t end)
{
	struct match_hit *h;

	if (ctx->nraw == ctx->rawcap)
		ctx->raw = xgrow(ctx->raw, &ctx->rawcap, ctx->nraw + 1,
		    sizeof *ctx->raw);
	h = &ctx->raw[ctx->nraw++];
	h->topic = t;
	h->kw = kw;
	h->start = start;
	h->end = end;
}

/* Records a PCRE2 failure or cut-off of keyword kw (UINT32_MAX: where). */
static inline void
regex_error_add(struct match_ctx *ctx, uint32_t t, uint32_t kw, int rc)
{
	struct match_error *e;

	ctx->errs = xgrow(ctx->errs, &ctx->errscap, ctx->nerrs + 1,
	    sizeof *ctx->errs);
	e = &ctx->errs[ctx->nerrs++];
	e->topic = t;
	e->kw = kw;
	e->pcre2_rc = rc;
}

/* --- matcher_regex.c -------------------------------------------------- */

/* A literal run inside a regex's text. */
struct span {
	size_t	off;
	size_t	len;
	size_t	nchars;		/* letters, digits and non-ASCII characters */
};

size_t match_re_factors(const char *s, uint32_t flags, struct span *runs,
    size_t max);
bool match_re_has_jit(const pcre2_code *re);
int match_re_run(struct match_ctx *ctx, uint32_t t, const struct mre *r,
    bool record);

/* Adds a warning to d when literal keyword kw of topic t, folded into nb,
 * lost characters or became a short Latin word (matcher_fold.c). */
void match_fold_warn(struct diag *d, const struct rule_topic *t,
    const struct rule_kw *kw, const struct norm_buf *nb);

#endif
