/*
 * matcher_build.c — compiling a rule set into a matcher.
 *
 * DESIGN.  match_compile() takes a loaded rule set and the posts'
 * normaliser and builds an immutable struct matcher (matcher_int.h) in
 * steps, each a section below: keywords are collected topic by topic and
 * folded with the normaliser into literals (code points plus the
 * separators written inside the keyword); a regex keyword is gated on the
 * literal runs every match must contain (read by matcher_regex.c) and
 * those join the literals; the keywords' traditional spellings
 * (variants.c, found on a second thread while the keywords are folded)
 * join them too.  Every code point used becomes a dense symbol, most
 * frequent first, in a two-level table.  The sorted literals become
 * patterns (identical ones share one, listing each topic and keyword);
 * their distinct strings become the trie, placed breadth first in a double
 * array straight from the sorted strings (a state is the range of those
 * that share its characters), then failure links and output lists: one
 * Aho-Corasick automaton.  A root table and a bigram filter then cover the
 * common steps near the root for the scan in matcher.c.  Compile-time
 * scratch lives in struct build and is freed before match_compile()
 * returns.  The matcher holds a reference on the rule set and borrows the
 * normaliser; it is never written after match_compile(), so threads share
 * it.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher_int.h"
#include "variants.h"

#define PLACE_TRIES	64		/* anchors tried from the lowest free cell */
#define VARIANTS_THREAD_MIN 4096	/* keywords worth a thread for
					 * variants_build() */
#define CHARS_PER_KEYWORD 8	/* characters a keyword has, room for */
#define SPLIT_MIN	65536	/* literals or states worth a second thread */
#define AHEAD		8		/* prefetch distance of the passes that
					 * read a million places at random */

/* tcmalloc's, when the program is linked with it (the daemon is). */
void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

/* Compile-time state. */
struct lit {
	uint32_t	off;		/* in build.syms and build.gaps */
	uint32_t	len;
	uint32_t	topic;
	uint32_t	kw;
	uint16_t	group;
	uint8_t		raw;
};

/* A distinct string of symbols, in sorted order. */
struct mstr {
	uint32_t	off;		/* in build.syms */
	uint32_t	len;
	uint32_t	pat;		/* its first pattern's index + 1 */
};

/* A state of the trie being placed: its cell and its strings. */
struct qnode {
	uint32_t	cell;
	uint32_t	lo, hi;		/* build.strs[lo .. hi) */
};

struct build {
	uint32_t	*syms;		/* code points, then symbols */
	uint8_t		*gaps;
	size_t		 npool;
	size_t		 poolcap;
	size_t		 gapscap;
	struct lit	*lits;
	size_t		 nlits;
	size_t		 litscap;

	struct mstr	*strs;		/* distinct strings, sorted */
	size_t		 nstrs;
	size_t		 nsyms_total;	/* of the strings */

	uint64_t	*used;		/* double-array cells in use */
	size_t		 nused;		/* words */
	size_t		 lo;		/* no free cell below */
	size_t		 top;		/* highest cell in use */

	/* topics */
	size_t		 ngrp;		/* entries in matcher.grp_re */
	size_t		 grpcap;
	size_t		 rescap;
	size_t		 alwayscap;
	uint8_t		*free_grp;	/* per group: has an ungated regex */
	size_t		 freecap;

	struct variants	*vars;		/* traditional spellings (variants.c) */
};

static void
errorf(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errorf(char *errstr, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (errstr == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errstr, size, fmt, ap);
	va_end(ap);
}


/*
 * A piece of work for a second thread: fn(arg) runs there, or here at once
 * when no thread can start; aside_join() waits for it.
 */
struct aside {
	pthread_t	thread;
	bool		threaded;
};

static void
aside_start(struct aside *a, void *(*fn)(void *), void *arg)
{
	a->threaded = pthread_create(&a->thread, NULL, fn, arg) == 0;
	if (!a->threaded)
		(void)fn(arg);
}

static void
aside_join(struct aside *a)
{
	if (a->threaded)
		pthread_join(a->thread, NULL);
}

/* --- keywords: collection and folding --------------------------------- */

/*
 * Adds the normalised text as a literal for (topic ti, keyword ki) in group;
 * a raw literal is a regex factor.  Returns 1 if added, 0 if the text has no
 * significant character, -1 on error.
 */
static int
add_literal(struct build *b, const struct normalizer *norm,
    struct norm_buf *nb, const char *text, size_t len, uint32_t ti,
    uint32_t ki, uint16_t group, bool raw, char *errstr, size_t errstr_size)
{
	struct lit *l;
	size_t i;

	if (norm_text(norm, text, len, nb) == -1) {
		errorf(errstr, errstr_size, "keyword is not valid UTF-8");
		return -1;
	}
	if (nb->n == 0)
		return 0;	/* nothing significant: it can never hit */
	if (nb->n > UINT32_MAX - b->npool) {
		errorf(errstr, errstr_size, "too many keyword characters");
		return -1;
	}
	b->syms = xgrow(b->syms, &b->poolcap, b->npool + nb->n,
	    sizeof *b->syms);
	b->gaps = xgrow(b->gaps, &b->gapscap, b->npool + nb->n, 1);
	for (i = 0; i < nb->n; i++) {
		b->syms[b->npool + i] = nb->v[i].cp;
		b->gaps[b->npool + i] = i == 0 ? 0 : nb->v[i].gap;
	}
	b->lits = xgrow(b->lits, &b->litscap, b->nlits + 1, sizeof *b->lits);
	l = &b->lits[b->nlits++];
	l->off = b->npool;
	l->len = nb->n;
	l->topic = ti;
	l->kw = ki;
	l->group = group;
	l->raw = raw;
	b->npool += nb->n;
	return 1;
}

/* A keyword's group: 0 for any, then the all groups (after the any group
 * if the topic has one); a none keyword has GROUP_NONE. */
static uint16_t
keyword_group(const struct rule_kw *kw, bool has_any)
{
	switch (kw->role) {
	case KW_ANY:
		return 0;
	case KW_ALL:
		return (has_any ? 1 : 0) + kw->group;
	default:
		return GROUP_NONE;
	}
}

/*
 * Positive groups of topic t: group 0 for its any keywords if it has any,
 * then one per all group.  *has_any says whether group 0 is the any group.
 */
static uint32_t
topic_positive_groups(const struct rule_topic *t, bool *has_any)
{
	uint16_t nall = t->nall;
	size_t ki;

	*has_any = t->has_any;
	for (ki = 0; ki < t->nkws; ki++) {
		if (t->kws[ki].role == KW_ANY)
			*has_any = true;
		if (t->kws[ki].role == KW_ALL && t->kws[ki].group >= nall)
			nall = t->kws[ki].group + 1;
	}
	return (*has_any ? 1 : 0) + nall;
}

/*
 * Adds regex keyword ki of topic ti in group: an entry in m->res, gated on
 * its factors (added as raw literals) when every branch of the regex has
 * one.  Returns 0, or -1 with the reason in errstr.
 */
static int
add_regex_keyword(struct matcher *m, struct build *b, struct norm_buf *nb,
    uint32_t ti, uint32_t ki, uint16_t group, char *errstr,
    size_t errstr_size)
{
	const struct rule_kw *kw = &m->rs->topics[ti].kws[ki];
	struct mtopic *mt = &m->topics[ti];
	struct span runs[MAX_FACTORS];
	struct mre *r;
	size_t nruns, k;

	if (kw->re == NULL) {
		errorf(errstr, errstr_size, "regex is not compiled");
		return -1;
	}
	m->res = xgrow(m->res, &b->rescap, m->nres + 1, sizeof *m->res);
	r = &m->res[m->nres];
	r->re = kw->re;
	r->kw = ki;
	r->group = group;
	r->jit = match_re_has_jit(kw->re);
	r->gated = 0;
	nruns = match_re_factors(kw->text, kw->re_flags, runs, MAX_FACTORS);
	for (k = 0; k < nruns; k++) {
		norm_text(m->norm, kw->text + runs[k].off, runs[k].len, nb);
		if (nb->n == 0)
			break;
	}
	if (nruns > 0 && k == nruns) {
		for (k = 0; k < nruns; k++)
			if (add_literal(b, m->norm, nb, kw->text + runs[k].off,
			    runs[k].len, ti, m->nres, GROUP_TRIG, true, errstr,
			    errstr_size) == -1)
				return -1;
		r->gated = 1;
	}
	m->nres++;
	if (group == GROUP_NONE)
		mt->flags |= T_NONE_RE;
	else {
		mt->flags |= T_POS_RE;
		m->grp_re[mt->grp + group] = 1;
		if (!r->gated)
			b->free_grp[group] = 1;
	}
	return 0;
}

/* Prefixes the reason in errstr with the keyword's place in the rules. */
static void
prefix_keyword_place(char *errstr, size_t errstr_size,
    const struct rule_topic *t, const struct rule_kw *kw)
{
	char why[256];

	snprintf(why, sizeof why, "%s", errstr != NULL ? errstr : "");
	errorf(errstr, errstr_size, "%s:%d:%d: topic %s: %s",
	    t->file != NULL ? t->file : "-", kw->line, kw->col, t->id, why);
}

/*
 * The traditional spellings of the keywords (b->vars, variants.c) as more
 * literals of the same keywords, in the keywords' groups.
 */
static int
add_variant_literals(struct matcher *m, struct build *b, struct norm_buf *nb,
    char *errstr, size_t errstr_size)
{
	const struct rule_topic *t;
	const struct rule_kw *kw;
	const char *const *vt;
	size_t i, j, n, ti, ki;
	uint16_t group;
	bool has_any;

	for (i = 0; (n = variants_at(b->vars, i, &ti, &ki, &vt)) > 0; i++) {
		t = &m->rs->topics[ti];
		kw = &t->kws[ki];
		(void)topic_positive_groups(t, &has_any);
		group = keyword_group(kw, has_any);
		for (j = 0; j < n; j++)
			if (add_literal(b, m->norm, nb, vt[j], strlen(vt[j]),
			    (uint32_t)ti, (uint32_t)ki, group, false, errstr,
			    errstr_size) == -1) {
				prefix_keyword_place(errstr, errstr_size, t,
				    kw);
				return -1;
			}
	}
	return 0;
}

/*
 * Topic ti: its group bits and flags, its literal keywords into b and its
 * regex keywords into m->res, and whether every post is a candidate (each
 * group can be satisfied by an ungated regex).
 */
static int
build_topic(struct matcher *m, struct build *b, struct norm_buf *nb,
    uint32_t ti, char *errstr, size_t errstr_size)
{
	const struct rule_topic *t = &m->rs->topics[ti];
	const struct rule_kw *kw;
	struct mtopic *mt = &m->topics[ti];
	bool has_any;
	uint16_t group;
	uint32_t ki, g;
	int rc;

	mt->npos = topic_positive_groups(t, &has_any);
	if (mt->npos >= GROUP_TRIG) {
		errorf(errstr, errstr_size, "topic %s: too many groups", t->id);
		return -1;
	}
	mt->gw = m->ngwords;
	m->ngwords += (mt->npos + 63) / 64;
	mt->grp = b->ngrp;
	m->grp_re = xgrow(m->grp_re, &b->grpcap, b->ngrp + mt->npos + 1, 1);
	memset(m->grp_re + b->ngrp, 0, mt->npos + 1);
	b->free_grp = xgrow(b->free_grp, &b->freecap, mt->npos + 1, 1);
	memset(b->free_grp, 0, mt->npos + 1);
	b->ngrp += mt->npos;
	mt->re = m->nres;
	if (t->nwhere > 0)
		mt->flags |= T_WHERE;
	for (ki = 0; ki < t->nkws; ki++) {
		kw = &t->kws[ki];
		group = keyword_group(kw, has_any);
		if (kw->is_regex)
			rc = add_regex_keyword(m, b, nb, ti, ki, group, errstr,
			    errstr_size);
		else
			rc = add_literal(b, m->norm, nb, kw->text,
			    strlen(kw->text), ti, ki, group, false, errstr,
			    errstr_size);
		if (rc == -1) {
			prefix_keyword_place(errstr, errstr_size, t, kw);
			return -1;
		}
		if (!kw->is_regex)	/* nb holds the keyword's fold */
			match_fold_warn(&m->warns, t, kw, nb);
	}
	mt->nre = m->nres - mt->re;
	if (mt->nre > m->max_nre)
		m->max_nre = mt->nre;
	/* Every group can hit without a literal: try every post. */
	for (g = 0; g < mt->npos; g++)
		if (!b->free_grp[g])
			break;
	if (g == mt->npos) {
		mt->flags |= T_ALWAYS;
		m->always = xgrow(m->always, &b->alwayscap, m->nalways + 1,
		    sizeof *m->always);
		m->always[m->nalways++] = ti;
	}
	return 0;
}

/* Every topic of the rule set, in order (a regex's index in m->res and a
 * topic's group words follow that order). */
static int
build_topics(struct matcher *m, struct build *b, struct norm_buf *nb,
    char *errstr, size_t errstr_size)
{
	size_t ti;

	m->ntopics = m->rs->ntopics;
	m->topics = xcalloc(m->ntopics ? m->ntopics : 1, sizeof *m->topics);
	/* A literal per keyword and a few characters each, at once: grown
	 * by doubling, the arrays of a million keywords are copied again
	 * and again, and each copy lands on new pages. */
	b->lits = xgrow(b->lits, &b->litscap, m->rs->nkeywords + 1,
	    sizeof *b->lits);
	b->syms = xgrow(b->syms, &b->poolcap, m->rs->nkeywords *
	    CHARS_PER_KEYWORD + 1, sizeof *b->syms);
	b->gaps = xgrow(b->gaps, &b->gapscap, m->rs->nkeywords *
	    CHARS_PER_KEYWORD + 1, 1);
	for (ti = 0; ti < m->ntopics; ti++)
		if (build_topic(m, b, nb, ti, errstr, errstr_size) == -1)
			return -1;
	m->bytes += m->ntopics * sizeof *m->topics + b->ngrp +
	    m->nres * sizeof *m->res + m->nalways * sizeof *m->always;
	return 0;
}

/* variants_build() on a thread of its own, beside build_topics(). */
struct vars_job {
	const struct ruleset	*rs;
	const struct normalizer	*norm;
	struct variants		*vars;
	char			 err[256];
};

static void *
vars_run(void *arg)
{
	struct vars_job *j = arg;

	j->vars = variants_build(j->rs, j->norm, j->err, sizeof j->err);
	return NULL;
}

/*
 * The literals of every keyword: the topics' own (build_topics()), then
 * the traditional spellings, which variants.c finds meanwhile on a second
 * thread when the set is large (a fifth of the time a million keywords
 * take to fold).  An error of variants.c comes first, as if it had run
 * first.
 */
static int
build_keywords(struct matcher *m, struct build *b, struct norm_buf *nb,
    char *errstr, size_t errstr_size)
{
	struct vars_job j;
	struct aside a;
	int rc;

	memset(&j, 0, sizeof j);
	j.rs = m->rs;
	j.norm = m->norm;
	if (m->rs->nkeywords >= VARIANTS_THREAD_MIN)
		aside_start(&a, vars_run, &j);
	else
		vars_run(&j);
	rc = build_topics(m, b, nb, errstr, errstr_size);
	if (m->rs->nkeywords >= VARIANTS_THREAD_MIN)
		aside_join(&a);
	b->vars = j.vars;
	if (b->vars == NULL) {
		errorf(errstr, errstr_size, "%s", j.err);
		return -1;
	}
	if (rc == -1)
		return -1;
	return add_variant_literals(m, b, nb, errstr, errstr_size);
}

/* --- symbols ---------------------------------------------------------- */

struct symfreq {
	uint32_t	cp;
	uint32_t	n;
};

static int
symfreq_cmp(const void *a, const void *b)
{
	const struct symfreq *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

/* Dense symbols, most frequent first, and the two-level table. */
static void
assign_symbols(struct matcher *m, struct build *b)
{
	uint32_t *count, cp, page, *pageof;
	struct symfreq *sf;
	size_t i, nsf = 0, npages = 1;

	count = xcalloc(0x110000, sizeof *count);
	for (i = 0; i < b->npool; i++)
		count[b->syms[i]]++;
	for (cp = 0; cp < 0x110000; cp++)
		if (count[cp] != 0)
			nsf++;
	sf = xcalloc(nsf, sizeof *sf);
	nsf = 0;
	for (cp = 0; cp < 0x110000; cp++)
		if (count[cp] != 0) {
			sf[nsf].cp = cp;
			sf[nsf++].n = count[cp];
		}
	qsort(sf, nsf, sizeof *sf, symfreq_cmp);

	pageof = xcalloc(SYM_PAGES, sizeof *pageof);
	for (i = 0; i < nsf; i++) {
		page = sf[i].cp >> 8;
		if (pageof[page] == 0)
			pageof[page] = npages++;
	}
	m->nsym_pages = npages;
	m->sym_l1 = xcalloc(SYM_L1, sizeof *m->sym_l1);
	m->sym_pages = xcalloc(npages * 256, sizeof *m->sym_pages);
	for (i = 0; i < SYM_PAGES; i++)
		m->sym_l1[i] = pageof[i] * 256;
	for (i = 0; i < nsf; i++) {
		cp = sf[i].cp;
		m->sym_pages[m->sym_l1[cp >> 8] + (cp & 0xff)] = i + 1;
		count[cp] = i + 1;
	}
	m->nsyms = nsf;
	for (i = 0; i < b->npool; i++)
		b->syms[i] = count[b->syms[i]];
	m->bytes += SYM_L1 * sizeof *m->sym_l1 +
	    npages * 256 * sizeof *m->sym_pages;
	free(pageof);
	free(sf);
	free(count);
}

/* --- patterns and trie ------------------------------------------------ */

static int
lit_cmp(const void *a, const void *c, void *arg)
{
	const struct lit *x = a, *y = c;
	const struct build *b = arg;
	uint32_t i, n = x->len < y->len ? x->len : y->len;
	int r;

	for (i = 0; i < n; i++)
		if (b->syms[x->off + i] != b->syms[y->off + i])
			return b->syms[x->off + i] < b->syms[y->off + i] ?
			    -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((r = memcmp(b->gaps + x->off, b->gaps + y->off, x->len)) != 0)
		return r;
	if (x->raw != y->raw)
		return x->raw < y->raw ? -1 : 1;
	if (x->topic != y->topic)
		return x->topic < y->topic ? -1 : 1;
	return x->kw < y->kw ? -1 : x->kw > y->kw;
}

/* A literal's first symbols packed into one number that sorts as they do
 * (a shorter literal's missing symbols are 0, below every symbol). */
struct litkey {
	uint64_t	key[2];
	uint32_t	lit;
	uint32_t	len;		/* the literal's */
};

static int
litkey_cmp(const void *a, const void *c, void *arg)
{
	const struct litkey *x = a, *y = c;
	const struct build *b = arg;

	if (x->key[0] != y->key[0])
		return x->key[0] < y->key[0] ? -1 : 1;
	if (x->key[1] != y->key[1])
		return x->key[1] < y->key[1] ? -1 : 1;
	return lit_cmp(&b->lits[x->lit], &b->lits[y->lit], arg);
}

#define SORT_SMALL	24	/* keys sorted by insertion */

/* The 8 bits of the 128-bit key (key[0] first) that follow its first pos
 * bits (pos a multiple of 8, below 128). */
static inline unsigned
key_byte(const struct litkey *x, unsigned pos)
{
	return pos < 64 ? (unsigned)(x->key[0] >> (56 - pos)) & 0xff :
	    (unsigned)(x->key[1] >> (120 - pos)) & 0xff;
}

static void
insertion_sort_keys(struct litkey *v, size_t n, struct build *b)
{
	struct litkey t;
	size_t i, j;

	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && litkey_cmp(&v[j - 1], &t, b) > 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/*
 * Sorts v[0..n), whose keys agree on their first pos bits, most
 * significant byte first (tmp has room for n); keys that agree on all 128
 * bits, and small groups, are compared whole (litkey_cmp).
 */
static void
msd_sort_keys(struct litkey *v, struct litkey *tmp, size_t n, unsigned pos,
    struct build *b)
{
	size_t count[257], i, at;
	unsigned d;

	for (;;) {
		if (n <= SORT_SMALL) {
			insertion_sort_keys(v, n, b);
			return;
		}
		if (pos >= 128) {
			qsort_r(v, n, sizeof *v, litkey_cmp, b);
			return;
		}
		memset(count, 0, sizeof count);
		for (i = 0; i < n; i++)
			count[key_byte(&v[i], pos) + 1]++;
		if (count[key_byte(&v[0], pos) + 1] == n) {
			pos += 8;	/* the same byte everywhere */
			continue;
		}
		break;
	}
	for (d = 1; d < 257; d++)
		count[d] += count[d - 1];
	for (i = 0; i < n; i++)
		tmp[count[key_byte(&v[i], pos)]++] = v[i];
	memcpy(v, tmp, n * sizeof *v);
	for (d = 0, at = 0; d < 256; d++) {
		if (count[d] - at > 1)
			msd_sort_keys(v + at, tmp + at, count[d] - at, pos + 8,
			    b);
		at = count[d];
	}
}

/* The groups [from, to) of keys of the same top 16 bits, each sorted by
 * msd_sort_keys(); count[d] is where group d ends. */
struct groups_job {
	struct litkey	*v, *tmp;
	const size_t	*count;
	uint32_t	 from, to;
	struct build	*b;
};

static void *
sort_groups(void *arg)
{
	struct groups_job *j = arg;
	size_t at = j->from == 0 ? 0 : j->count[j->from - 1];
	uint32_t d;

	for (d = j->from; d < j->to; d++) {
		if (j->count[d] - at > 1)
			msd_sort_keys(j->v + at, j->tmp + at, j->count[d] - at,
			    16, j->b);
		at = j->count[d];
	}
	return NULL;
}

/*
 * Sorts v[0..n) by the top 16 bits of their keys (one counting pass),
 * then each group of the same top bits by msd_sort_keys(): for many keys,
 * the groups of the second half of them on a second thread.
 */
static void
sort_keys(struct litkey *v, struct litkey *tmp, size_t n, struct build *b)
{
	size_t *count = xcalloc(65537, sizeof *count), i;
	struct groups_job j[2];
	struct aside a;
	uint32_t d, mid;

	for (i = 0; i < n; i++)
		count[(v[i].key[0] >> 48) + 1]++;
	for (d = 1; d < 65537; d++)
		count[d] += count[d - 1];
	for (i = 0; i < n; i++)
		tmp[count[v[i].key[0] >> 48]++] = v[i];
	memcpy(v, tmp, n * sizeof *v);
	for (mid = 0; mid < 65536 && count[mid] < n / 2; mid++)
		;
	for (i = 0; i < 2; i++) {
		j[i].v = v;
		j[i].tmp = tmp;
		j[i].count = count;
		j[i].b = b;
	}
	j[0].from = 0;
	j[0].to = j[1].from = mid;
	j[1].to = 65536;
	if (n >= SPLIT_MIN) {
		aside_start(&a, sort_groups, &j[1]);
		sort_groups(&j[0]);
		aside_join(&a);
	} else {
		j[0].to = 65536;
		sort_groups(&j[0]);
	}
	free(count);
}

/* Literals sorted[from, to) laid out from off in lits, syms and gaps. */
struct layout_job {
	struct build		*b;
	const struct litkey	*sorted;
	struct lit		*lits;
	uint32_t		*syms;
	uint8_t			*gaps;
	size_t			 from, to, off;
};

static void *
lay_out(void *arg)
{
	struct layout_job *j = arg;
	const struct build *b = j->b;
	const struct litkey *sorted = j->sorted;
	size_t k, off = j->off, n = j->to;
	uint32_t i, at;

	for (k = j->from; k < n; k++) {
		if (k + 2 * AHEAD < n)
			__builtin_prefetch(&b->lits[sorted[k + 2 * AHEAD].lit]);
		if (k + AHEAD < n) {
			at = b->lits[sorted[k + AHEAD].lit].off;
			__builtin_prefetch(&b->syms[at]);
			__builtin_prefetch(&b->gaps[at]);
		}
		j->lits[k] = b->lits[sorted[k].lit];
		for (i = 0; i < j->lits[k].len; i++) {
			j->syms[off + i] = b->syms[j->lits[k].off + i];
			j->gaps[off + i] = b->gaps[j->lits[k].off + i];
		}
		j->lits[k].off = (uint32_t)off;
		off += j->lits[k].len;
	}
	return NULL;
}

/*
 * Sorts the literals (lit_cmp's order) and lays their symbols and gaps out
 * again in that order, so that building the trie reads memory in sequence.
 * The sort is a radix sort of packed prefixes, most significant byte
 * first, down to groups small enough for insertion; literals with the same
 * prefix are then compared whole (at a million literals, comparing them in
 * the pool costs a cache miss each).
 */
static void
sort_literals(struct build *b, uint32_t nsyms)
{
	struct litkey *keys, *tmp;
	struct layout_job lj[2];
	struct aside a;
	struct lit *lits;
	uint32_t *syms, bits = 1, per, j;
	uint8_t *gaps;
	size_t k, off = 0;

	if (b->nlits == 0)
		return;
	while (bits < 32 && ((uint64_t)1 << bits) <= nsyms)
		bits++;
	per = 64 / bits;
	keys = xcalloc(b->nlits, sizeof *keys);
	for (k = 0; k < b->nlits; k++) {
		const struct lit *l = &b->lits[k];

		if (k + AHEAD < b->nlits)
			__builtin_prefetch(&b->syms[b->lits[k + AHEAD].off]);
		for (j = 0; j < 2 * per; j++)
			keys[k].key[j / per] = keys[k].key[j / per] << bits |
			    (j < l->len ? b->syms[l->off + j] : 0);
		/* the first symbol in the top bits */
		keys[k].key[0] <<= 64 - per * bits;
		keys[k].key[1] <<= 64 - per * bits;
		keys[k].lit = (uint32_t)k;
		keys[k].len = l->len;
	}
	tmp = xcalloc(b->nlits, sizeof *tmp);
	sort_keys(keys, tmp, b->nlits, b);

	lits = xcalloc(b->nlits, sizeof *lits);
	syms = xcalloc(b->npool + 1, sizeof *syms);
	gaps = xcalloc(b->npool + 1, 1);
	for (k = 0; k < 2; k++) {
		lj[k].b = b;
		lj[k].sorted = keys;
		lj[k].lits = lits;
		lj[k].syms = syms;
		lj[k].gaps = gaps;
	}
	lj[0].from = lj[0].off = 0;
	lj[0].to = b->nlits;
	if (b->nlits >= SPLIT_MIN) {
		/* the second half on a second thread, from where the first
		 * half's characters end */
		lj[0].to = lj[1].from = b->nlits / 2;
		lj[1].to = b->nlits;
		for (k = 0; k < lj[0].to; k++)
			off += keys[k].len;
		lj[1].off = off;
		aside_start(&a, lay_out, &lj[1]);
		lay_out(&lj[0]);
		aside_join(&a);
	} else
		lay_out(&lj[0]);
	free(keys);
	free(tmp);
	free(b->lits);
	free(b->syms);
	free(b->gaps);
	b->lits = lits;
	b->litscap = b->nlits;
	b->syms = syms;
	b->gaps = gaps;
	b->poolcap = b->gapscap = b->npool ? b->npool : 1;
}

/*
 * Sorted literals become patterns (equal characters and gaps merge, in
 * that order: a pattern's index follows the sort) and the distinct strings
 * of characters (b->strs, still sorted), each naming its first pattern;
 * the patterns of one string, other gaps or kind, are chained by next.
 */
static void
build_patterns(struct matcher *m, struct build *b)
{
	const struct lit *l, *pl = NULL;
	struct mstr *u = NULL;
	struct mpat *p;
	uint32_t i, maxlen = 0;
	size_t k, np = 0;
	bool same_syms;

	sort_literals(b, m->nsyms);

	for (k = 0; k < b->nlits; k++)
		if (b->lits[k].len > maxlen)
			maxlen = b->lits[k].len;
	m->pats = xcalloc(b->nlits + 1, sizeof *m->pats);
	m->occs = xcalloc(b->nlits ? b->nlits : 1, sizeof *m->occs);
	b->strs = xcalloc(b->nlits ? b->nlits : 1, sizeof *b->strs);
	/* the zeros every literal without separators points to, then the
	 * gaps of the others */
	m->kgaps = xcalloc(maxlen + b->npool + 1, 1);
	m->nkgaps = maxlen;

	for (k = 0; k < b->nlits; k++, pl = l) {
		l = &b->lits[k];
		same_syms = pl != NULL && pl->len == l->len &&
		    memcmp(b->syms + pl->off, b->syms + l->off,
		    l->len * sizeof *b->syms) == 0;
		if (!same_syms || pl->raw != l->raw ||
		    memcmp(b->gaps + pl->off, b->gaps + l->off, l->len) != 0) {
			p = &m->pats[np];
			p->len = l->len;
			p->gaps = 0;
			for (i = 1; i < l->len; i++)
				if (b->gaps[l->off + i] != 0)
					break;
			if (i < l->len) {
				p->gaps = m->nkgaps;
				memcpy(m->kgaps + m->nkgaps, b->gaps + l->off,
				    l->len);
				m->nkgaps += l->len;
			}
			p->occ = m->noccs;
			p->next = 0;
			p->raw = l->raw;
			if (!same_syms) {
				u = &b->strs[b->nstrs++];
				u->off = l->off;
				u->len = l->len;
				u->pat = np + 1;
				b->nsyms_total += l->len;
			} else	/* same characters, other gaps or kind */
				m->pats[np - 1].next = np + 1;
			np++;
		}
		m->occs[m->noccs].topic = l->topic;
		m->occs[m->noccs].kw = l->kw;
		m->occs[m->noccs].group = l->group;
		m->noccs++;
	}
	m->npats = np;
	m->pats = xrealloc(m->pats, (np + 1) * sizeof *m->pats);
	m->pats[np].occ = m->noccs;	/* the end of the last one's */
	m->kgaps = xrealloc(m->kgaps, m->nkgaps + 1);
}

/* --- automaton: double array, links, root table ----------------------- */

static inline bool
cell_used(const struct build *b, size_t c)
{
	if ((c >> 6) >= b->nused)
		return false;
	return (b->used[c >> 6] >> (c & 63)) & 1;
}

static void
cell_use(struct build *b, size_t c)
{
	size_t w = c >> 6, n;

	if (w >= b->nused) {
		n = b->nused ? b->nused : 64;
		while (n <= w)
			n *= 2;
		b->used = xrealloc(b->used, n * sizeof *b->used);
		memset(b->used + b->nused, 0, (n - b->nused) *
		    sizeof *b->used);
		b->nused = n;
	}
	b->used[w] |= 1ull << (c & 63);
	if (c > b->top)
		b->top = c;
	while (cell_used(b, b->lo))
		b->lo++;
}

/* First free cell at or after c. */
static size_t
cell_next_free(const struct build *b, size_t c)
{
	size_t w = c >> 6;
	uint64_t bits;

	if (w >= b->nused)
		return c;
	bits = ~b->used[w] & (~0ull << (c & 63));
	while (bits == 0) {
		if (++w >= b->nused)
			return w << 6;
		bits = ~b->used[w];
	}
	return (w << 6) + (size_t)__builtin_ctzll(bits);
}

/*
 * A base such that base + c[i] is free for every child symbol.  First fit
 * from the lowest free cell (a node with one child always fits there), then
 * in the sparse tail where wide nodes were put before, then past the end.
 * Bounded tries keep compiling linear; the tail keeps wide nodes (children
 * spread over thousands of symbols) from each adding their span.
 */
static size_t
find_base(const struct build *b, const uint32_t *c, size_t k)
{
	size_t f, base, i, tries, span = c[k - 1] - c[0], phase;

	for (phase = 0; phase < 2; phase++) {
		if (phase == 0)
			f = b->lo;
		else
			f = b->top > span ? b->top - span : 0;
		if (f < c[0])
			f = c[0];
		for (tries = 0; tries < (phase == 0 ? PLACE_TRIES :
		    PLACE_TRIES * 4); tries++, f++) {
			f = cell_next_free(b, f);
			base = f - c[0];
			if (f > b->top)
				return base;
			for (i = 1; i < k; i++)
				if (cell_used(b, base + c[i]))
					break;
			if (i == k)
				return base;
		}
	}
	return b->top + 1 - c[0];
}

/* Cells up to need at least (all of them the first time, twice as many
 * as before after), new ones empty. */
static void
da_ensure(struct matcher *m, size_t *cap, size_t need)
{
	size_t n = *cap, i;

	if (need <= n)
		return;
	if (n == 0)
		n = need;
	while (n < need)
		n *= 2;
	m->da = xrealloc(m->da, n * sizeof *m->da);
	for (i = *cap; i < n; i++) {
		m->da[i].base = 0;
		m->da[i].check = CELL_EMPTY;
		m->da[i].fail = 0;
		m->da[i].pat = 0;
	}
	*cap = n;
}

/*
 * The root table and the bigram filter of the automaton just built: q
 * holds its states breadth first, the root's children from q[1] on (n1 of
 * them), then their children (n2).  The filter has about 32 bits per
 * depth-2 state (a few per cent set), at least 2^16 and at most 2^22 bits.
 */
static void
build_root(struct matcher *m, const struct qnode *q, size_t n1, size_t n2)
{
	uint32_t t, p, base0 = m->da[0].base & BASE_MASK, h, bits = 16;
	size_t i;

	m->root = xcalloc((size_t)m->nsyms + 1, sizeof *m->root);
	for (i = 1; i <= n1; i++) {
		t = q[i].cell;
		m->root[t - base0].cell = t | (m->da[t].base & OUT_FLAG);
		m->root[t - base0].base = m->da[t].base & BASE_MASK;
	}
	while (bits < 22 && ((size_t)1 << bits) < n2 * 32)
		bits++;
	m->bigram_shift = 32 - bits;
	m->bigram = xcalloc(((size_t)1 << bits) / 64, sizeof *m->bigram);
	for (i = n1 + 1; i <= n1 + n2; i++) {
		t = q[i].cell;
		p = m->da[t].check;
		h = bigram_hash(m, p - base0, t - (m->da[p].base & BASE_MASK));
		m->bigram[h >> 6] |= UINT64_C(1) << (h & 63);
	}
	m->bytes += ((size_t)m->nsyms + 1) * sizeof *m->root +
	    ((size_t)1 << bits) / 8;
}

/*
 * The children of state q (of depth d): the distinct characters at
 * position d of its strings (those that do not end at d), into kids[], and
 * where each child's strings start, into from[] (from[k] is q's end).
 * Sets q's own pattern if one of its strings ends at d.  Returns the
 * number of children.
 */
static size_t
trie_children(struct matcher *m, struct build *b, const struct qnode *q,
    uint32_t d, uint32_t **kids, uint32_t **from, size_t *kidscap)
{
	const struct mstr *u = b->strs;
	uint32_t i = q->lo, c, prev = 0;
	size_t k = 0;

	if (i < q->hi && u[i].len == d)	/* sorted: it comes first */
		m->da[q->cell].pat = u[i++].pat;
	for (; i < q->hi; i++) {
		c = b->syms[u[i].off + d];
		if (k > 0 && c == prev)
			continue;
		if (k + 1 >= *kidscap) {
			*kidscap = *kidscap ? *kidscap * 2 : 64;
			*kids = xrealloc(*kids, *kidscap * sizeof **kids);
			*from = xrealloc(*from, *kidscap * sizeof **from);
		}
		(*kids)[k] = prev = c;
		(*from)[k++] = i;
	}
	if (k > 0)
		(*from)[k] = q->hi;
	return k;
}

/*
 * Places the trie in base/check cells, breadth first (children of a state
 * at base + symbol), straight from the sorted strings: a state is a range
 * of them that share its characters, and its children split the range by
 * the next character.  Appends the states to q in that order; *nq is their
 * number and level[d] where depth d starts (level[] has maxdepth + 4
 * entries, maxdepth the longest string).  Root is cell 0; every symbol
 * is >= 1 so no child lands there.
 */
static int
place_states(struct matcher *m, struct build *b, struct qnode *q,
    size_t *nq, size_t *level, size_t maxdepth, size_t *cap, char *errstr,
    size_t errstr_size)
{
	uint32_t *kids = NULL, *from = NULL, d = 0, c;
	size_t qh, qt = 1, k, kidscap = 0, base, i;
	int rc = 0;

	cell_use(b, 0);
	m->da[0].check = 0;
	q[0].cell = 0;
	q[0].lo = 0;
	q[0].hi = (uint32_t)b->nstrs;
	level[0] = 0;
	level[1] = 1;
	for (qh = 0; qh < qt; qh++) {
		if (qh == level[d + 1]) {	/* the next depth starts */
			d++;
			level[d + 1] = qt;
		}
		k = trie_children(m, b, &q[qh], d, &kids, &from, &kidscap);
		if (k == 0)
			continue;
		base = find_base(b, kids, k);
		if (base + m->nsyms + 1 >= BASE_MASK) {
			errorf(errstr, errstr_size, "automaton too large");
			rc = -1;
			break;
		}
		da_ensure(m, cap, base + kids[k - 1] + 1);
		m->da[q[qh].cell].base = base;
		for (i = 0; i < k; i++) {
			c = (uint32_t)(base + kids[i]);
			cell_use(b, c);
			m->da[c].check = q[qh].cell;
			q[qt].cell = c;
			q[qt].lo = from[i];
			q[qt].hi = from[i + 1];
			qt++;
		}
	}
	for (i = d + 2; i <= maxdepth + 3; i++)
		level[i] = qt;	/* the depths past the last are empty */
	*nq = qt;
	free(kids);
	free(from);
	return rc;
}

/*
 * Failure links and outputs of the states in breadth-first order q[]: a
 * state's failure is its parent's failure followed by its character (or
 * the failure's failure, and so on).  Every pattern that ends where a
 * state is reached forms one list from its pat: its own patterns (same
 * characters, other gaps), then those of its failure state's list, which
 * is complete by then (a failure is shallower: earlier in q).  The last
 * own pattern of a state goes on to its failure's first; a state with none
 * of its own starts at its failure's.  Such a state has output (OUT_FLAG)
 * when the list is not empty.  The states' cells come nearly in order,
 * but the failures they lead to are anywhere: each is fetched a few states
 * ahead, and the cell it leads to a little later.  A failure that is a
 * child of the root is flagged (FAIL_D1): the scan then takes what it
 * needs of that state from the root table instead of the array.
 */
static void
link_failures(struct matcher *m, const struct qnode *q, size_t from,
    size_t nq)
{
	struct dacell *da = m->da;
	uint32_t u, p, f, t, c, pi, d1;
	size_t qh;

	for (qh = from; qh < nq; qh++) {
		if (qh + AHEAD < nq) {
			u = q[qh + AHEAD].cell;
			p = da[u].check;
			__builtin_prefetch(&da[da[p].fail & FAIL_MASK]);
		}
		if (qh + AHEAD / 2 < nq) {
			u = q[qh + AHEAD / 2].cell;
			p = da[u].check;
			f = da[p].fail & FAIL_MASK;
			__builtin_prefetch(&da[(da[f].base & BASE_MASK) + u -
			    (da[p].base & BASE_MASK)]);
		}
		u = q[qh].cell;
		p = da[u].check;
		c = u - (da[p].base & BASE_MASK);
		f = 0;
		d1 = 0;
		if (p != 0) {
			f = da[p].fail & FAIL_MASK;
			for (;;) {
				t = (da[f].base & BASE_MASK) + c;
				if (da[t].check == f) {
					d1 = f == 0 ? FAIL_D1 : 0;
					f = t;
					break;
				}
				if (f == 0)
					break;
				f = da[f].fail & FAIL_MASK;
			}
		}
		da[u].fail = f | d1;
		if (da[u].pat != 0) {
			for (pi = da[u].pat; m->pats[pi - 1].next != 0;
			    pi = m->pats[pi - 1].next)
				;
			m->pats[pi - 1].next = da[f].pat;
		} else
			da[u].pat = da[f].pat;
		if (da[u].pat != 0)
			da[u].base |= OUT_FLAG;
	}
}

/* Half of a depth's states, linked on a thread of its own. */
struct link_job {
	struct matcher		*m;
	const struct qnode	*q;
	size_t			 from, to;
};

static void *
link_run(void *arg)
{
	struct link_job *j = arg;

	link_failures(j->m, j->q, j->from, j->to);
	return NULL;
}

/*
 * link_failures() depth by depth: a state reads only shallower ones (its
 * parent, its failure and the failure's child, which is no deeper than
 * its parent) and writes only its own cell and its own patterns' links,
 * so the states of one depth are independent.  A large depth is split
 * between this thread and a second one, joined before the next depth.
 */
static void
link_levels(struct matcher *m, const struct qnode *q, const size_t *level,
    size_t nlevels)
{
	struct link_job j;
	struct aside a;
	size_t d, lo, hi;

	for (d = 1; d < nlevels; d++) {
		lo = level[d];
		hi = level[d + 1];
		if (hi - lo < SPLIT_MIN) {
			link_failures(m, q, lo, hi);
			continue;
		}
		j.m = m;
		j.q = q;
		j.from = lo + (hi - lo) / 2;
		j.to = hi;
		aside_start(&a, link_run, &j);
		link_failures(m, q, lo, j.from);
		aside_join(&a);
	}
}

/*
 * The automaton: the trie placed in the double array (place_states()),
 * the array padded and trimmed, then failure links and outputs, and the
 * root table.
 */
static int
build_da(struct matcher *m, struct build *b, char *errstr, size_t errstr_size)
{
	struct qnode *q;
	size_t nq = 0, cap = 0, i, n, maxlen = 0, *level;

	for (i = 0; i < b->nstrs; i++)
		if (b->strs[i].len > maxlen)
			maxlen = b->strs[i].len;
	/* a state per character at most, and the root */
	q = xmalloc((b->nsyms_total + 1) * sizeof *q);
	level = xcalloc(maxlen + 4, sizeof *level);
	/* nearly one cell per state, the placement leaves few holes, and
	 * the padding (below) */
	da_ensure(m, &cap, b->nsyms_total + 2 * (size_t)m->nsyms + 2);
	if (place_states(m, b, q, &nq, level, maxlen, &cap, errstr,
	    errstr_size) == -1) {
		free(q);
		free(level);
		return -1;
	}

	/* Padding: base + any symbol stays inside the array. */
	n = b->top + 1;
	for (i = 0; i <= b->top; i++)
		if (m->da[i].check != CELL_EMPTY &&
		    m->da[i].base + m->nsyms + 1 > n)
			n = m->da[i].base + m->nsyms + 1;
	da_ensure(m, &cap, n);
	m->ncells = n;
	if (cap - n > n / 8) {
		/* A new array of the size: realloc() may keep (tcmalloc
		 * does) a block up to twice as large, every cell of it
		 * written. */
		struct dacell *da = xmalloc(n * sizeof *da);

		memcpy(da, m->da, n * sizeof *da);
		free(m->da);
		m->da = da;
	} else
		m->da = xrealloc(m->da, n * sizeof *m->da);
	m->nstates = nq;
	m->bytes += n * sizeof *m->da;

	link_levels(m, q, level, maxlen + 2);
	build_root(m, q, level[2] - level[1], level[3] - level[2]);
	free(q);
	free(level);
	return 0;
}

/* --- the matcher ------------------------------------------------------ */

/*
 * A large set's loading and compiling allocate and free several times what
 * stays (YAML documents, literals, the trie, the placement bitmap): at a
 * million keywords, more than the rule set and the matcher together.  The
 * free pages go back to the system, glibc's or tcmalloc's, so that a
 * daemon's memory is what it holds.
 */
static void
release_free_memory(void)
{
	malloc_trim(0);
	if (MallocExtension_ReleaseFreeMemory != NULL)
		MallocExtension_ReleaseFreeMemory();
}

static void
build_free(struct build *b)
{
	free(b->syms);
	free(b->gaps);
	free(b->lits);
	free(b->strs);
	free(b->used);
	free(b->free_grp);
	variants_free(b->vars);
}

struct matcher *
match_compile(struct ruleset *rs, const struct normalizer *norm,
    const struct match_limits *limits, char *errstr, size_t errstr_size)
{
	struct matcher *m;
	struct build b;
	struct norm_buf nb;

	memset(&b, 0, sizeof b);
	memset(&nb, 0, sizeof nb);
	m = xcalloc(1, sizeof *m);
	m->rs = rules_ref(rs);
	m->norm = norm;
	m->max_gap = norm_options(norm)->max_gap;
	if (m->max_gap < 0)
		m->max_gap = 0;
	m->limits.match_limit = 1000000;
	m->limits.depth_limit = 10000;
	if (limits != NULL && limits->match_limit != 0)
		m->limits.match_limit = limits->match_limit;
	if (limits != NULL && limits->depth_limit != 0)
		m->limits.depth_limit = limits->depth_limit;
	m->bytes = sizeof *m;

	if (build_keywords(m, &b, &nb, errstr, errstr_size) == -1)
		goto fail;
	assign_symbols(m, &b);
	build_patterns(m, &b);
	if (build_da(m, &b, errstr, errstr_size) == -1)
		goto fail;
	m->bytes += (m->npats + 1) * sizeof *m->pats + m->nkgaps +
	    m->noccs * sizeof *m->occs;

	norm_buf_free(&nb);
	build_free(&b);
	release_free_memory();
	return m;

fail:
	norm_buf_free(&nb);
	build_free(&b);
	match_free(m);
	return NULL;
}

void
match_free(struct matcher *m)
{
	if (m == NULL)
		return;
	free(m->sym_l1);
	free(m->sym_pages);
	free(m->da);
	free(m->root);
	free(m->bigram);
	free(m->pats);
	free(m->kgaps);
	free(m->occs);
	free(m->topics);
	free(m->grp_re);
	free(m->res);
	free(m->always);
	diag_free(&m->warns);
	rules_unref(m->rs);
	free(m);
}

const struct ruleset *
match_ruleset(const struct matcher *m)
{
	return m->rs;
}

void
match_get_stats(const struct matcher *m, struct match_stats *st)
{
	st->literals = m->npats;
	st->regexes = m->nres;
	st->states = m->nstates;
	st->bytes = m->bytes;
}
