/*
 * matcher_build.c — compiling a rule set into a matcher.
 *
 * DESIGN.  match_compile() takes a loaded rule set and the posts'
 * normaliser and builds an immutable struct matcher (matcher_int.h) in
 * steps, each a section below: keywords are collected topic by topic and
 * folded with the normaliser into literals (code points plus the
 * separators written inside the keyword); a regex keyword is gated on the
 * literal runs every match must contain (read by matcher_regex.c) and
 * those join the literals.  Every code point used becomes a dense symbol,
 * most frequent first, in a two-level table.  The sorted literals become
 * patterns (identical ones share one, listing each topic and keyword) and
 * a trie, placed breadth first in a double array with failure and
 * dictionary links: one Aho-Corasick automaton.  A root table and a bigram
 * filter then cover the common steps near the root for the scan in
 * matcher.c.  Compile-time scratch lives in struct build and is freed
 * before match_compile() returns.  The matcher holds a reference on the
 * rule set and borrows the normaliser; it is never written after
 * match_compile(), so threads share it.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher_int.h"
#include "variants.h"

#define PLACE_TRIES	64		/* anchors tried from the lowest free cell */
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

struct tnode {
	uint32_t	first;		/* first child, 0 = none */
	uint32_t	last;
	uint32_t	next;		/* next sibling */
	uint32_t	sym;
	uint32_t	pat;		/* pattern index + 1 */
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

	struct tnode	*nodes;
	size_t		 nnodes;
	size_t		 nodescap;

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

/* Adds the traditional spellings of keyword ki (variants.c) as more
 * literals of the same keyword. */
static int
add_variant_literals(struct build *b, const struct normalizer *norm,
    struct norm_buf *nb, uint32_t ti, uint32_t ki, uint16_t group,
    char *errstr, size_t errstr_size)
{
	const char *const *vt;
	size_t i, n = variants_of(b->vars, ti, ki, &vt);

	for (i = 0; i < n; i++)
		if (add_literal(b, norm, nb, vt[i], strlen(vt[i]), ti, ki,
		    group, false, errstr, errstr_size) == -1)
			return -1;
	return 0;
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
		if (!kw->is_regex && add_variant_literals(b, m->norm, nb, ti,
		    ki, group, errstr, errstr_size) == -1) {
			prefix_keyword_place(errstr, errstr_size, t, kw);
			return -1;
		}
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
	for (ti = 0; ti < m->ntopics; ti++)
		if (build_topic(m, b, nb, ti, errstr, errstr_size) == -1)
			return -1;
	m->bytes += m->ntopics * sizeof *m->topics + b->ngrp +
	    m->nres * sizeof *m->res + m->nalways * sizeof *m->always;
	return 0;
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

/*
 * Sorts v by key, least significant 16 bits first (stable passes; a pass
 * whose digit is the same everywhere is skipped).  Returns the array that
 * holds the result, v or tmp.
 */
static struct litkey *
radix_sort_keys(struct litkey *v, struct litkey *tmp, size_t n)
{
	size_t *count, k, sum, c;
	struct litkey *swap;
	unsigned w, shift;
	uint32_t d;

	count = xmalloc(65536 * sizeof *count);
	for (w = 2; w-- > 0;)
		for (shift = 0; shift < 64; shift += 16) {
			memset(count, 0, 65536 * sizeof *count);
			for (k = 0; k < n; k++)
				count[(v[k].key[w] >> shift) & 0xffff]++;
			if (count[(v[0].key[w] >> shift) & 0xffff] == n)
				continue;
			for (d = 0, sum = 0; d < 65536; d++) {
				c = count[d];
				count[d] = sum;
				sum += c;
			}
			for (k = 0; k < n; k++)
				tmp[count[(v[k].key[w] >> shift) & 0xffff]++] =
				    v[k];
			swap = v;
			v = tmp;
			tmp = swap;
		}
	free(count);
	return v;
}

/*
 * Sorts the literals (lit_cmp's order) and lays their symbols and gaps out
 * again in that order, so that building the trie reads memory in sequence.
 * The sort is a radix sort of packed prefixes; literals with the same
 * prefix are then compared whole (at a million literals, comparing them in
 * the pool costs a cache miss each).
 */
static void
sort_literals(struct build *b, uint32_t nsyms)
{
	struct litkey *keys, *tmp, *sorted;
	struct lit *lits;
	uint32_t *syms, bits = 1, per, i, j;
	uint8_t *gaps;
	size_t k, e, off = 0;

	if (b->nlits == 0)
		return;
	while (bits < 32 && ((uint64_t)1 << bits) <= nsyms)
		bits++;
	per = 64 / bits;
	keys = xcalloc(b->nlits, sizeof *keys);
	for (k = 0; k < b->nlits; k++) {
		const struct lit *l = &b->lits[k];

		for (j = 0; j < 2 * per; j++)
			keys[k].key[j / per] = keys[k].key[j / per] << bits |
			    (j < l->len ? b->syms[l->off + j] : 0);
		keys[k].lit = (uint32_t)k;
	}
	tmp = xcalloc(b->nlits, sizeof *tmp);
	sorted = radix_sort_keys(keys, tmp, b->nlits);
	/* literals sharing their first 2 * per symbols: whole comparisons */
	for (k = 0; k < b->nlits; k = e) {
		for (e = k + 1; e < b->nlits &&
		    sorted[e].key[0] == sorted[k].key[0] &&
		    sorted[e].key[1] == sorted[k].key[1]; e++)
			;
		if (e - k > 1)
			qsort_r(sorted + k, e - k, sizeof *sorted, litkey_cmp,
			    b);
	}

	lits = xcalloc(b->nlits, sizeof *lits);
	syms = xcalloc(b->npool ? b->npool : 1, sizeof *syms);
	gaps = xcalloc(b->npool ? b->npool : 1, 1);
	for (k = 0; k < b->nlits; k++) {
		if (k + 2 * AHEAD < b->nlits)
			__builtin_prefetch(&b->lits[sorted[k + 2 * AHEAD].lit]);
		if (k + AHEAD < b->nlits) {
			j = b->lits[sorted[k + AHEAD].lit].off;
			__builtin_prefetch(&b->syms[j]);
			__builtin_prefetch(&b->gaps[j]);
		}
		lits[k] = b->lits[sorted[k].lit];
		for (i = 0; i < lits[k].len; i++) {
			syms[off + i] = b->syms[lits[k].off + i];
			gaps[off + i] = b->gaps[lits[k].off + i];
		}
		lits[k].off = (uint32_t)off;
		off += lits[k].len;
	}
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

static uint32_t
trie_add_child(struct build *b, uint32_t parent, uint32_t sym)
{
	struct tnode *n;
	uint32_t id;

	b->nodes = xgrow(b->nodes, &b->nodescap, b->nnodes + 1,
	    sizeof *b->nodes);
	id = b->nnodes++;
	n = &b->nodes[id];
	memset(n, 0, sizeof *n);
	n->sym = sym;
	if (b->nodes[parent].first == 0)
		b->nodes[parent].first = id;
	else
		b->nodes[b->nodes[parent].last].next = id;
	b->nodes[parent].last = id;
	return id;
}

/*
 * Sorted literals become patterns (equal characters and gaps merge) and a
 * trie built by streaming: each string shares its prefix with the previous
 * one, so children are created in ascending symbol order.
 */
static void
build_trie(struct matcher *m, struct build *b)
{
	uint32_t *path = NULL, node, i, d, lcp, maxlen = 0;
	size_t pathcap = 0, k, np = 0;
	const struct lit *l, *pl = NULL;
	struct mpat *p = NULL;

	sort_literals(b, m->nsyms);

	for (k = 0; k < b->nlits; k++)
		if (b->lits[k].len > maxlen)
			maxlen = b->lits[k].len;
	m->pats = xcalloc(b->nlits + 1, sizeof *m->pats);
	m->occs = xcalloc(b->nlits ? b->nlits : 1, sizeof *m->occs);
	/* the zeros every literal without separators points to, then the
	 * gaps of the others */
	m->kgaps = xcalloc(maxlen + b->npool + 1, 1);
	m->nkgaps = maxlen;
	b->nodes = xgrow(b->nodes, &b->nodescap, 1, sizeof *b->nodes);
	memset(&b->nodes[0], 0, sizeof b->nodes[0]);
	b->nnodes = 1;
	path = xgrow(path, &pathcap, 1, sizeof *path);
	path[0] = 0;

	for (k = 0; k < b->nlits; k++, pl = l) {
		l = &b->lits[k];
		lcp = 0;
		if (pl != NULL) {
			d = pl->len < l->len ? pl->len : l->len;
			while (lcp < d && b->syms[pl->off + lcp] ==
			    b->syms[l->off + lcp])
				lcp++;
		}
		if (pl == NULL || lcp != l->len || pl->len != l->len ||
		    pl->raw != l->raw ||
		    memcmp(b->gaps + pl->off, b->gaps + l->off, l->len) != 0) {
			/*
			 * Sorted order: a new string shares path[0..lcp]
			 * with the previous one and only appends children
			 * with larger symbols.
			 */
			path = xgrow(path, &pathcap, l->len + 1,
			    sizeof *path);
			node = path[lcp];
			for (i = lcp; i < l->len; i++) {
				node = trie_add_child(b, node,
				    b->syms[l->off + i]);
				path[i + 1] = node;
			}
			node = path[l->len];
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
			if (b->nodes[node].pat == 0)
				b->nodes[node].pat = np + 1;
			else	/* same characters, other gaps or kind */
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
	free(path);
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

static void
da_ensure(struct matcher *m, size_t *cap, size_t need)
{
	size_t n = *cap, i;

	if (need <= n)
		return;
	if (n == 0)
		n = 1024;
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
 * The root table and the bigram filter of the automaton just built (b's
 * trie, cellof its cells).  The filter has about 32 bits per depth-2 state
 * (a few per cent set), at least 2^16 and at most 2^22 bits.
 */
static void
build_root(struct matcher *m, const struct build *b, const uint32_t *cellof)
{
	uint32_t v, u, t, h, bits = 16;
	size_t n2 = 0;

	m->root = xcalloc((size_t)m->nsyms + 1, sizeof *m->root);
	for (v = b->nodes[0].first; v != 0; v = b->nodes[v].next) {
		t = cellof[v];
		m->root[b->nodes[v].sym] = t | (m->da[t].base & OUT_FLAG);
		for (u = b->nodes[v].first; u != 0; u = b->nodes[u].next)
			n2++;
	}
	while (bits < 22 && ((size_t)1 << bits) < n2 * 32)
		bits++;
	m->bigram_shift = 32 - bits;
	m->bigram = xcalloc(((size_t)1 << bits) / 64, sizeof *m->bigram);
	for (v = b->nodes[0].first; v != 0; v = b->nodes[v].next)
		for (u = b->nodes[v].first; u != 0; u = b->nodes[u].next) {
			h = bigram_hash(m, b->nodes[v].sym, b->nodes[u].sym);
			m->bigram[h >> 6] |= UINT64_C(1) << (h & 63);
		}
	m->bytes += ((size_t)m->nsyms + 1) * sizeof *m->root +
	    ((size_t)1 << bits) / 8;
}

/*
 * Every pattern that ends where state s is reached, in one list from
 * m->da[s].pat: s's own patterns (same characters, other gaps), then those
 * of dict[s], the nearest state on s's failure path that has patterns of
 * its own, and so on.  The last own pattern of a state goes on to its
 * dictionary state's first; a state with none of its own starts at its
 * dictionary state's.  A state's own chain is only ever changed by this
 * state, so each walk to its end sees its own patterns only.
 */
static void
link_outputs(struct matcher *m, const uint32_t *dict)
{
	uint32_t pi, d;
	size_t i;

	for (i = 1; i < m->ncells; i++) {
		if (m->da[i].check == CELL_EMPTY)
			continue;
		d = dict[i];
		if (m->da[i].pat != 0) {
			for (pi = m->da[i].pat; m->pats[pi - 1].next != 0;
			    pi = m->pats[pi - 1].next)
				;
			m->pats[pi - 1].next = d != 0 ? m->da[d].pat : 0;
		} else if (d != 0)
			m->da[i].pat = m->da[d].pat;
	}
}

/*
 * Places the trie in base/check cells in breadth-first order (children of a
 * node at base + symbol), then computes failure and dictionary links in the
 * same order.  Root is cell 0; every symbol is >= 1 so no child lands there.
 */
static int
build_da(struct matcher *m, struct build *b, char *errstr, size_t errstr_size)
{
	uint32_t *queue, *cellof, *kids = NULL, *dict, v, u, c, f, t, cell;
	size_t qh, qt, k, kidscap = 0, cap = 0, base, i, n;

	queue = xcalloc(b->nnodes, sizeof *queue);
	cellof = xcalloc(b->nnodes, sizeof *cellof);
	/* nearly one cell per state: the placement leaves few holes */
	da_ensure(m, &cap, b->nnodes + m->nsyms + 2);
	cell_use(b, 0);
	m->da[0].check = 0;
	qh = 0;
	qt = 0;
	queue[qt++] = 0;
	while (qh < qt) {
		if (qh + AHEAD < qt) {
			__builtin_prefetch(&b->nodes[queue[qh + AHEAD]]);
			__builtin_prefetch(&cellof[queue[qh + AHEAD]]);
		}
		v = queue[qh++];
		k = 0;
		for (u = b->nodes[v].first; u != 0; u = b->nodes[u].next) {
			kids = xgrow(kids, &kidscap, k + 1, sizeof *kids);
			kids[k++] = b->nodes[u].sym;
		}
		cell = cellof[v];
		if (k == 0) {
			m->da[cell].base = 0;
			continue;
		}
		base = find_base(b, kids, k);
		if (base + m->nsyms + 1 >= BASE_MASK) {
			errorf(errstr, errstr_size, "automaton too large");
			free(kids);
			free(queue);
			free(cellof);
			return -1;
		}
		da_ensure(m, &cap, base + kids[k - 1] + 1);
		m->da[cell].base = base;
		for (u = b->nodes[v].first; u != 0; u = b->nodes[u].next) {
			c = base + b->nodes[u].sym;
			cell_use(b, c);
			m->da[c].check = cell;
			m->da[c].pat = b->nodes[u].pat;
			cellof[u] = c;
			queue[qt++] = u;
		}
	}
	free(kids);

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
	dict = xcalloc(n, sizeof *dict);
	m->nstates = b->nnodes;
	m->bytes += n * sizeof *m->da;

	for (qh = 0; qh < qt; qh++) {
		if (qh + 2 * AHEAD < qt)
			__builtin_prefetch(&b->nodes[queue[qh + 2 * AHEAD]]);
		if (qh + AHEAD < qt)
			__builtin_prefetch(&m->da[cellof[queue[qh + AHEAD]]]);
		if (qh + AHEAD / 2 < qt)	/* where its failure leads */
			__builtin_prefetch(&m->da[m->da[cellof[queue[qh +
			    AHEAD / 2]]].fail]);
		v = queue[qh];
		for (u = b->nodes[v].first; u != 0; u = b->nodes[u].next) {
			cell = cellof[u];
			c = b->nodes[u].sym;
			if (v == 0)
				f = 0;
			else {
				f = m->da[cellof[v]].fail;
				for (;;) {
					t = (m->da[f].base & BASE_MASK) + c;
					if (m->da[t].check == f) {
						f = t;
						break;
					}
					if (f == 0)
						break;
					f = m->da[f].fail;
				}
			}
			m->da[cell].fail = f;
			dict[cell] = m->da[f].pat != 0 ? f : dict[f];
			if (m->da[cell].pat != 0 || dict[cell] != 0)
				m->da[cell].base |= OUT_FLAG;
		}
	}
	link_outputs(m, dict);
	free(dict);
	build_root(m, b, cellof);
	free(queue);
	free(cellof);
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
	free(b->nodes);
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

	if ((b.vars = variants_build(rs, norm, errstr, errstr_size)) == NULL ||
	    build_topics(m, &b, &nb, errstr, errstr_size) == -1)
		goto fail;
	assign_symbols(m, &b);
	build_trie(m, &b);
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
