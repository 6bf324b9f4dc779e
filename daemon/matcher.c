/*
 * matcher.c — literal prefilter (Aho-Corasick) + PCRE2 confirmation.
 *
 * DESIGN.  match_compile() normalises each literal keyword with the posts'
 * normaliser, maps every code point used by a literal to a dense symbol
 * (two-level table; 0 = in no literal) and builds one Aho-Corasick automaton
 * over symbols as a double-array trie with failure and dictionary links,
 * plus a root table and a bigram filter so that the common steps (from the
 * root, or from a root child back to it) stay in small tables instead of
 * cache misses in the array.
 * Identical literals share a pattern listing each (topic, keyword).  A regex
 * is gated on the literal runs every match must contain (its "factors"), put
 * in the same automaton.  match_post() normalises once, scans once, checks
 * raw hits for separators and word boundaries, sets group bits in per-topic
 * state stamped per post (only touched topics are reset), and evaluates the
 * touched topics plus those whose every group has an ungated regex: groups,
 * where, regexes (JIT, limited), none.  The matcher is immutable and shared
 * by threads; a match_ctx is one thread's scratch, reused without malloc.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"
#include "xmalloc.h"

#define SYM_PAGES	(0x110000 >> 8)
#define SYM_L1		8192		/* power of two >= SYM_PAGES */
#define OUT_FLAG	0x80000000u	/* in dacell.base: state has output */
#define BASE_MASK	0x7fffffffu
#define CELL_EMPTY	UINT32_MAX
#define GROUP_NONE	UINT16_MAX	/* occurrence of a none keyword */
#define GROUP_TRIG	(UINT16_MAX - 1)/* occurrence of a regex's factor */
#define MAX_FACTORS	16		/* branches gated per regex */
#define PLACE_TRIES	64		/* anchors tried from the lowest free cell */
#define RE_MAX_HITS	256		/* occurrences recorded per regex */

#define T_ALWAYS	0x01	/* candidate for every post */
#define T_WHERE		0x02
#define T_POS_RE	0x04	/* has positive regex keywords */
#define T_NONE_RE	0x08	/* has none regex keywords */

/* One cell: a state when check names its parent.  16 bytes, so a step
 * that lands on a state has its failure link in the same cache line. */
struct dacell {
	uint32_t	base;		/* OUT_FLAG | base of the children */
	uint32_t	check;		/* parent cell, CELL_EMPTY if free */
	uint32_t	fail;		/* failure link */
	uint32_t	pat;		/* pattern index + 1, or 0 */
};

/* A distinct normalised literal (code points and its own gaps). */
struct mpat {
	uint32_t	len;		/* characters */
	uint32_t	gaps;		/* offset in kgaps: len bytes */
	uint32_t	occ;		/* first entry in occs */
	uint32_t	nocc;
	uint32_t	next;		/* same characters, other gaps: index+1 */
	uint8_t		raw;		/* regex factor: no gap/boundary check */
};

struct mocc {
	uint32_t	topic;
	uint32_t	kw;		/* GROUP_TRIG: index in res */
	uint16_t	group;		/* positive group, GROUP_NONE, GROUP_TRIG */
};

struct mre {
	const pcre2_code *re;
	uint32_t	kw;
	uint16_t	group;		/* positive group, or GROUP_NONE */
	uint8_t		jit;
	uint8_t		gated;		/* runs only once a factor was seen */
};

struct mtopic {
	uint32_t	npos;		/* positive groups */
	uint32_t	gw;		/* first word in ctx->gbits */
	uint32_t	grp;		/* offset in grp_re: npos bytes */
	uint32_t	re;		/* first entry in res */
	uint32_t	nre;
	uint8_t		flags;
};

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
	uint32_t		*dict;		/* next state with a pattern */
	size_t			 ncells;	/* with padding */
	size_t			 nstates;
	/* Root steps without the array: root[c] is the root's child on
	 * symbol c (0: none) | OUT_FLAG if it has output.  bigram has bit
	 * bigram_hash(p, c) set if the root's child on p has a child on c;
	 * clear means it has none. */
	uint32_t		*root;
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
};

struct tstate {
	uint32_t	stamp;		/* == ctx->gen when touched this post */
	uint32_t	sat;		/* positive groups satisfied */
	uint8_t		veto;
	uint8_t		matched;
};

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

/* --- compile: literals ------------------------------------------------- */

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
	uint32_t *path = NULL, node, i, d, lcp;
	size_t pathcap = 0, k, np = 0;
	const struct lit *l, *pl = NULL;
	struct mpat *p = NULL;

	if (b->nlits > 0)
		qsort_r(b->lits, b->nlits, sizeof *b->lits, lit_cmp, b);

	m->pats = xcalloc(b->nlits ? b->nlits : 1, sizeof *m->pats);
	m->occs = xcalloc(b->nlits ? b->nlits : 1, sizeof *m->occs);
	m->kgaps = xmalloc(b->npool ? b->npool : 1);
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
		if (pl != NULL && lcp == l->len && pl->len == l->len &&
		    pl->raw == l->raw &&
		    memcmp(b->gaps + pl->off, b->gaps + l->off, l->len) == 0) {
			/* Same pattern: one more occurrence. */
			p->nocc++;
		} else {
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
			p->gaps = m->nkgaps;
			memcpy(m->kgaps + m->nkgaps, b->gaps + l->off, l->len);
			m->nkgaps += l->len;
			p->occ = m->noccs;
			p->nocc = 0;
			p->next = 0;
			p->raw = l->raw;
			if (b->nodes[node].pat == 0)
				b->nodes[node].pat = np + 1;
			else	/* same characters, other gaps or kind */
				m->pats[np - 1].next = np + 1;
			np++;
			p->nocc = 1;
		}
		m->occs[m->noccs].topic = l->topic;
		m->occs[m->noccs].kw = l->kw;
		m->occs[m->noccs].group = l->group;
		m->noccs++;
	}
	m->npats = np;
	free(path);
}

/* --- compile: double array --------------------------------------------- */

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

static inline uint32_t
bigram_hash(const struct matcher *m, uint32_t p, uint32_t c)
{
	return ((p << 16 ^ c) * 0x9e3779b1u) >> m->bigram_shift;
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
 * Places the trie in base/check cells in breadth-first order (children of a
 * node at base + symbol), then computes failure and dictionary links in the
 * same order.  Root is cell 0; every symbol is >= 1 so no child lands there.
 */
static int
build_da(struct matcher *m, struct build *b, char *errstr, size_t errstr_size)
{
	uint32_t *queue, *cellof, *kids = NULL, v, u, c, f, t, cell;
	size_t qh, qt, k, kidscap = 0, cap = 0, base, i, n;

	queue = xcalloc(b->nnodes, sizeof *queue);
	cellof = xcalloc(b->nnodes, sizeof *cellof);
	da_ensure(m, &cap, m->nsyms + 2);
	cell_use(b, 0);
	m->da[0].check = 0;
	qh = 0;
	qt = 0;
	queue[qt++] = 0;
	while (qh < qt) {
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
	m->da = xrealloc(m->da, n * sizeof *m->da);
	m->dict = xcalloc(n, sizeof *m->dict);
	m->nstates = b->nnodes;
	m->bytes += n * (sizeof *m->da + sizeof *m->dict);

	for (qh = 0; qh < qt; qh++) {
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
			m->dict[cell] = m->da[f].pat != 0 ? f : m->dict[f];
			if (m->da[cell].pat != 0 || m->dict[cell] != 0)
				m->da[cell].base |= OUT_FLAG;
		}
	}
	build_root(m, b, cellof);
	free(queue);
	free(cellof);
	return 0;
}

/* --- compile: topics and regexes --------------------------------------- */

static uint16_t
kw_group(const struct rule_kw *kw, bool has_any)
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

/* --- compile: regex factors -------------------------------------------- */

struct span {
	size_t	off;
	size_t	len;
	size_t	nchars;		/* letters, digits and non-ASCII characters */
};

/* Skips a quantifier at s[i], if any. */
static size_t
skip_quant(const char *s, size_t i)
{
	size_t k;

	if (s[i] == '*' || s[i] == '+' || s[i] == '?')
		i++;
	else if (s[i] == '{') {
		for (k = i + 1; (s[k] >= '0' && s[k] <= '9') || s[k] == ',';
		    k++)
			;
		if (s[k] != '}' || k == i + 1)
			return i;	/* a literal brace */
		i = k + 1;
	} else
		return i;
	if (s[i] == '+' || s[i] == '?')
		i++;
	return i;
}

/* Skips a character class starting at s[i] == '['. */
static size_t
skip_class(const char *s, size_t i)
{
	i++;
	if (s[i] == '^')
		i++;
	if (s[i] == ']')
		i++;
	while (s[i] != '\0' && s[i] != ']') {
		if (s[i] == '\\' && s[i + 1] != '\0')
			i += 2;
		else if (s[i] == '[' && s[i + 1] == ':') {
			const char *e = strstr(s + i + 2, ":]");

			i = e != NULL ? (size_t)(e - s) + 2 : i + 1;
		} else
			i++;
	}
	return s[i] == ']' ? i + 1 : i;
}

/* Skips a group starting at s[i] == '('. */
static size_t
skip_group(const char *s, size_t i)
{
	int depth = 0;

	while (s[i] != '\0') {
		if (s[i] == '\\' && s[i + 1] != '\0')
			i += 2;
		else if (s[i] == '[')
			i = skip_class(s, i);
		else if (s[i] == '(') {
			depth++;
			i++;
		} else if (s[i] == ')') {
			i++;
			if (--depth == 0)
				break;
		} else
			i++;
	}
	return i;
}

/* Skips an escape starting at s[i] == '\\'. */
static size_t
skip_escape(const char *s, size_t i)
{
	const char *e;

	i++;
	if (s[i] == '\0')
		return i;
	if (strchr("xoNpPgk", s[i]) != NULL && s[i + 1] == '{') {
		e = strchr(s + i, '}');
		return e != NULL ? (size_t)(e - s) + 1 : strlen(s);
	}
	if ((s[i] == 'g' || s[i] == 'k') && (s[i + 1] == '<' ||
	    s[i + 1] == '\'')) {
		e = strchr(s + i + 2, s[i + 1] == '<' ? '>' : '\'');
		return e != NULL ? (size_t)(e - s) + 1 : strlen(s);
	}
	if (s[i] == 'c' || s[i] == 'p' || s[i] == 'P')
		return s[i + 1] != '\0' ? i + 2 : i + 1;
	if (s[i] >= '0' && s[i] <= '9') {
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		return i;
	}
	i++;
	while (((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

/*
 * Literal runs that every match of a regex must contain: for each top-level
 * branch, its longest run of plain characters outside groups, classes and
 * escapes and not made optional by a quantifier.  A match contains the run,
 * so the post's significant characters contain the run's significant
 * characters in a row, and the automaton sees them.  Returns the number of
 * runs (one per branch), or 0 when a branch has none or the syntax is
 * beyond this reading (extended mode, \Q...\E, many branches): then the
 * regex runs on every post.
 */
static size_t
re_factors(const char *s, uint32_t flags, struct span *runs, size_t max)
{
	struct span cur, best;
	size_t i = 0, n = 0, cl, k;
	unsigned char c;

	if (flags & (PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_LITERAL))
		return 0;
	if (strstr(s, "\\Q") != NULL)
		return 0;
	for (k = 0; s[k] != '\0'; k++) {
		if (s[k] == '\\' && s[k + 1] != '\0')
			k++;
		else if (s[k] == '(' && s[k + 1] == '?') {
			for (i = k + 2; strchr("imnsxJU^-", s[i]) != NULL &&
			    s[i] != '\0'; i++)
				if (s[i] == 'x')
					return 0;
		}
	}
	i = 0;
	memset(&cur, 0, sizeof cur);
	best = cur;
	for (;;) {
		c = (unsigned char)s[i];
		if (c == '\0' || c == '|') {
			if (cur.nchars > best.nchars)
				best = cur;
			if (best.nchars == 0 || n == max)
				return 0;
			runs[n++] = best;
			if (c == '\0')
				return n;
			i++;
			memset(&cur, 0, sizeof cur);
			best = cur;
			continue;
		}
		if (c == '(' || c == '[' || c == '\\' || c == '.' ||
		    c == '^' || c == '$' || c == ')' || c == '*' ||
		    c == '+' || c == '?' || c == '{') {
			if (cur.nchars > best.nchars)
				best = cur;
			memset(&cur, 0, sizeof cur);
			if (c == '(')
				i = skip_group(s, i);
			else if (c == '[')
				i = skip_class(s, i);
			else if (c == '\\')
				i = skip_escape(s, i);
			else
				i++;
			i = skip_quant(s, i);
			continue;
		}
		for (cl = 1; ((unsigned char)s[i + cl] & 0xc0) == 0x80; cl++)
			;
		k = i + cl;
		if (s[k] == '*' || s[k] == '?' || s[k] == '{') {
			/* optional (or counted): not part of the run */
			if (cur.nchars > best.nchars)
				best = cur;
			memset(&cur, 0, sizeof cur);
			i = skip_quant(s, k);
			if (i == k)
				i++;	/* a literal brace */
			continue;
		}
		if (cur.len == 0)
			cur.off = i;
		cur.len += cl;
		if (c >= 0x80 || (c >= '0' && c <= '9') ||
		    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			cur.nchars++;
		i = k;
		if (s[i] == '+') {
			/* required once, then repeated: the run ends */
			if (cur.nchars > best.nchars)
				best = cur;
			memset(&cur, 0, sizeof cur);
			i = skip_quant(s, i);
		}
	}
}

static int
build_topics(struct matcher *m, struct build *b, struct norm_buf *nb,
    char *errstr, size_t errstr_size)
{
	const struct ruleset *rs = m->rs;
	const struct rule_topic *t;
	const struct rule_kw *kw;
	struct mtopic *mt;
	struct mre *r;
	struct span runs[MAX_FACTORS];
	size_t ti, ki, ngrp = 0, resn = 0, g, rescap = 0, grpcap = 0;
	size_t alwayscap = 0, jitsize, nruns, k, freecap = 0;
	uint8_t *free_grp = NULL;	/* group has an ungated regex */
	bool has_any;
	uint16_t group, nall;
	int rc;

	m->ntopics = rs->ntopics;
	m->topics = xcalloc(rs->ntopics ? rs->ntopics : 1, sizeof *m->topics);
	for (ti = 0; ti < rs->ntopics; ti++) {
		t = &rs->topics[ti];
		mt = &m->topics[ti];
		has_any = t->has_any;
		nall = t->nall;
		for (ki = 0; ki < t->nkws; ki++) {
			if (t->kws[ki].role == KW_ANY)
				has_any = true;
			if (t->kws[ki].role == KW_ALL &&
			    t->kws[ki].group >= nall)
				nall = t->kws[ki].group + 1;
		}
		mt->npos = (has_any ? 1 : 0) + nall;
		if (mt->npos >= GROUP_TRIG) {
			errorf(errstr, errstr_size, "topic %s: too many "
			    "groups", t->id);
			goto fail;
		}
		mt->gw = m->ngwords;
		m->ngwords += (mt->npos + 63) / 64;
		mt->grp = ngrp;
		m->grp_re = xgrow(m->grp_re, &grpcap, ngrp + mt->npos + 1, 1);
		memset(m->grp_re + ngrp, 0, mt->npos + 1);
		free_grp = xgrow(free_grp, &freecap, mt->npos + 1, 1);
		memset(free_grp, 0, mt->npos + 1);
		ngrp += mt->npos;
		mt->re = resn;
		if (t->nwhere > 0)
			mt->flags |= T_WHERE;
		for (ki = 0; ki < t->nkws; ki++) {
			kw = &t->kws[ki];
			group = kw_group(kw, has_any);
			if (!kw->is_regex) {
				if (add_literal(b, m->norm, nb, kw->text,
				    strlen(kw->text), ti, ki, group, false,
				    errstr, errstr_size) == -1)
					goto kwfail;
				continue;
			}
			if (kw->re == NULL) {
				errorf(errstr, errstr_size, "regex is not "
				    "compiled");
				goto kwfail;
			}
			m->res = xgrow(m->res, &rescap, resn + 1,
			    sizeof *m->res);
			r = &m->res[resn];
			r->re = kw->re;
			r->kw = ki;
			r->group = group;
			jitsize = 0;
			r->jit = pcre2_pattern_info(kw->re, PCRE2_INFO_JITSIZE,
			    &jitsize) == 0 && jitsize > 0;
			/* Gate it on its factors when every branch has one. */
			r->gated = 0;
			nruns = re_factors(kw->text, kw->re_flags, runs,
			    MAX_FACTORS);
			for (k = 0; k < nruns; k++) {
				norm_text(m->norm, kw->text + runs[k].off,
				    runs[k].len, nb);
				if (nb->n == 0)
					break;
			}
			if (nruns > 0 && k == nruns) {
				for (k = 0; k < nruns; k++) {
					rc = add_literal(b, m->norm, nb,
					    kw->text + runs[k].off,
					    runs[k].len, ti, resn, GROUP_TRIG,
					    true, errstr, errstr_size);
					if (rc == -1)
						goto kwfail;
				}
				r->gated = 1;
			}
			resn++;
			if (group == GROUP_NONE)
				mt->flags |= T_NONE_RE;
			else {
				mt->flags |= T_POS_RE;
				m->grp_re[mt->grp + group] = 1;
				if (!r->gated)
					free_grp[group] = 1;
			}
		}
		mt->nre = resn - mt->re;
		if (mt->nre > m->max_nre)
			m->max_nre = mt->nre;
		/* Every group can hit without a literal: try every post. */
		for (g = 0; g < mt->npos; g++)
			if (!free_grp[g])
				break;
		if (g == mt->npos) {
			mt->flags |= T_ALWAYS;
			m->always = xgrow(m->always, &alwayscap,
			    m->nalways + 1, sizeof *m->always);
			m->always[m->nalways++] = ti;
		}
	}
	m->nres = resn;
	m->bytes += m->ntopics * sizeof *m->topics + ngrp +
	    resn * sizeof *m->res + m->nalways * sizeof *m->always;
	free(free_grp);
	return 0;

kwfail:
	/* errstr holds the reason; prefix the place. */
	{
		char why[256];

		snprintf(why, sizeof why, "%s", errstr != NULL ? errstr : "");
		errorf(errstr, errstr_size, "%s:%d:%d: topic %s: %s",
		    t->file != NULL ? t->file : "-", kw->line, kw->col, t->id,
		    why);
	}
fail:
	free(free_grp);
	return -1;
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

	if (build_topics(m, &b, &nb, errstr, errstr_size) == -1)
		goto fail;
	assign_symbols(m, &b);
	build_trie(m, &b);
	if (build_da(m, &b, errstr, errstr_size) == -1)
		goto fail;
	m->bytes += m->npats * sizeof *m->pats + m->nkgaps +
	    m->noccs * sizeof *m->occs;

	norm_buf_free(&nb);
	free(b.syms);
	free(b.gaps);
	free(b.lits);
	free(b.nodes);
	free(b.used);
	return m;

fail:
	norm_buf_free(&nb);
	free(b.syms);
	free(b.gaps);
	free(b.lits);
	free(b.nodes);
	free(b.used);
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
	free(m->dict);
	free(m->root);
	free(m->bigram);
	free(m->pats);
	free(m->kgaps);
	free(m->occs);
	free(m->topics);
	free(m->grp_re);
	free(m->res);
	free(m->always);
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

/* --- context ----------------------------------------------------------- */

struct match_ctx *
match_ctx_new(const struct matcher *m)
{
	struct match_ctx *ctx;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->m = m;
	ctx->ts = xcalloc(m->ntopics ? m->ntopics : 1, sizeof *ctx->ts);
	ctx->restamp = xcalloc(m->nres ? m->nres : 1, sizeof *ctx->restamp);
	ctx->gbits = xcalloc(m->ngwords ? m->ngwords : 1, sizeof *ctx->gbits);
	ctx->touched = xcalloc(m->ntopics ? m->ntopics : 1,
	    sizeof *ctx->touched);
	ctx->rtopics = xcalloc(m->ntopics ? m->ntopics : 1,
	    sizeof *ctx->rtopics);
	ctx->ran = xcalloc(m->max_nre ? m->max_nre : 1, 1);
	ctx->gen = 0;
	/* Only ovector[0..1] is read. */
	ctx->md = pcre2_match_data_create(1, NULL);
	ctx->mc = pcre2_match_context_create(NULL);
	if (ctx->md == NULL || ctx->mc == NULL) {
		fprintf(stderr, "level=error msg=\"out of memory\"\n");
		abort();
	}
	pcre2_set_match_limit(ctx->mc, m->limits.match_limit);
	pcre2_set_depth_limit(ctx->mc, m->limits.depth_limit);
	/*
	 * JIT code honours match_limit but not depth_limit: its recursion
	 * is bounded by this stack instead (1 MB), and running out is
	 * reported as PCRE2_ERROR_JIT_STACKLIMIT.
	 */
	ctx->js = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (ctx->js != NULL)
		pcre2_jit_stack_assign(ctx->mc, NULL, ctx->js);
	return ctx;
}

void
match_ctx_free(struct match_ctx *ctx)
{
	if (ctx == NULL)
		return;
	norm_buf_free(&ctx->nb);
	norm_buf_free(&ctx->fb);
	free(ctx->u8);
	free(ctx->offs);
	free(ctx->ts);
	free(ctx->restamp);
	free(ctx->sym);
	free(ctx->gbits);
	free(ctx->touched);
	free(ctx->ran);
	free(ctx->raw);
	free(ctx->hits);
	free(ctx->kws);
	free(ctx->rtopics);
	free(ctx->errs);
	if (ctx->md != NULL)
		pcre2_match_data_free(ctx->md);
	if (ctx->mc != NULL)
		pcre2_match_context_free(ctx->mc);
	if (ctx->js != NULL)
		pcre2_jit_stack_free(ctx->js);
	free(ctx);
}

/* --- matching: literals ------------------------------------------------ */

static inline void
topic_touch(struct match_ctx *ctx, uint32_t t)
{
	const struct mtopic *mt = &ctx->m->topics[t];
	struct tstate *st = &ctx->ts[t];

	st->stamp = ctx->gen;
	st->sat = 0;
	st->veto = 0;
	st->matched = 0;
	memset(ctx->gbits + mt->gw, 0, ((mt->npos + 63) / 64) *
	    sizeof *ctx->gbits);
	ctx->touched[ctx->ntouched++] = t;
}

/* Sets group bit g of topic t; returns true if it was not set. */
static inline bool
group_set(struct match_ctx *ctx, uint32_t t, uint32_t g)
{
	uint64_t *w = ctx->gbits + ctx->m->topics[t].gw + (g >> 6);
	uint64_t bit = 1ull << (g & 63);

	if (*w & bit)
		return false;
	*w |= bit;
	ctx->ts[t].sat++;
	return true;
}

static inline bool
group_isset(const struct match_ctx *ctx, uint32_t t, uint32_t g)
{
	return (ctx->gbits[ctx->m->topics[t].gw + (g >> 6)] >> (g & 63)) & 1;
}

static void
raw_add(struct match_ctx *ctx, uint32_t t, uint32_t kw, uint32_t start,
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

/*
 * A raw automaton hit of pattern p ending at character j: separators inside
 * it must be few enough, must not split a word that is not spelled out one
 * letter at a time ("not ice" is not "notice"), and a word-class literal
 * must start and end at word boundaries ("cat" is not in "category").
 */
static bool
verify(const struct matcher *m, const struct mpat *p,
    const struct norm_char *ch, size_t n, size_t j)
{
	const uint8_t *kg = m->kgaps + p->gaps;
	size_t i = j + 1 - p->len, k;
	unsigned g, lim;
	bool lone;

	if (ch[i].cls == NC_WORD && i > 0 && ch[i].gap == 0 &&
	    ch[i - 1].cls == NC_WORD)
		return false;
	if (ch[j].cls == NC_WORD && j + 1 < n && ch[j + 1].gap == 0 &&
	    ch[j + 1].cls == NC_WORD)
		return false;
	for (k = i + 1; k <= j; k++) {
		if ((g = ch[k].gap) == 0)
			continue;
		if (kg[k - i] != 0) {
			/* The keyword itself has separators here. */
			lim = (unsigned)m->max_gap > kg[k - i] ?
			    (unsigned)m->max_gap : kg[k - i];
			if (g > lim)
				return false;
			continue;
		}
		if (g > (unsigned)m->max_gap)
			return false;
		if (ch[k - 1].cls != NC_WORD || ch[k].cls != NC_WORD)
			continue;
		/* Split inside a word: one side must be a lone letter. */
		lone = k - 1 == i || ch[k - 1].gap != 0 ||
		    ch[k - 2].cls != NC_WORD;
		if (!lone)
			lone = k == j || ch[k + 1].gap != 0 ||
			    ch[k + 1].cls != NC_WORD;
		if (!lone)
			return false;
	}
	return true;
}

static void
report(struct match_ctx *ctx, uint32_t s, const struct norm_char *ch,
    size_t n, size_t j)
{
	const struct matcher *m = ctx->m;
	const struct mpat *p;
	const struct mocc *o, *oe;
	uint32_t pi, t, start, end;

	do {
		for (pi = m->da[s].pat; pi != 0; pi = p->next) {
			p = &m->pats[pi - 1];
			if (p->raw) {
				/* Factors: their regexes may run now. */
				o = &m->occs[p->occ];
				for (oe = o + p->nocc; o < oe; o++) {
					t = o->topic;
					if (ctx->ts[t].stamp != ctx->gen)
						topic_touch(ctx, t);
					ctx->restamp[o->kw] = ctx->gen;
				}
				continue;
			}
			if (!verify(m, p, ch, n, j))
				continue;
			start = ch[j + 1 - p->len].src_start;
			end = ch[j].src_end;
			o = &m->occs[p->occ];
			for (oe = o + p->nocc; o < oe; o++) {
				t = o->topic;
				if (ctx->ts[t].stamp != ctx->gen)
					topic_touch(ctx, t);
				if (o->group == GROUP_NONE) {
					ctx->ts[t].veto = 1;
					continue;
				}
				group_set(ctx, t, o->group);
				raw_add(ctx, t, o->kw, start, end);
			}
		}
		s = m->dict[s];
	} while (s != 0);
}

/*
 * The hot loop: one automaton step per significant character.  A step reads
 * the symbol (two table loads, independent of the state).  Most steps start
 * from the root or from one of its children, and there the array is not
 * read: a root step is one load from the small root table, and a step from
 * a root child on symbol p goes back to the root (its failure link) unless
 * the bigram filter says p, c may continue.  Only then, and below depth 1,
 * does the step follow the dependent chain state -> cell -> child through
 * the array, whose cells hold the failure links.
 */
static void
scan(struct match_ctx *ctx)
{
	const struct matcher *m = ctx->m;
	const struct dacell *da = m->da;
	const uint32_t *l1 = m->sym_l1, *pages = m->sym_pages, *root = m->root;
	const uint64_t *bg = m->bigram;
	const struct norm_char *ch = ctx->nb.v;
	size_t n = ctx->nb.n, j;
	uint32_t s = 0, c, t, h, e, cp, p = 0, *sym;

	/* Symbols first: independent loads, no branch. */
	if (ctx->symcap < n)
		ctx->sym = xgrow(ctx->sym, &ctx->symcap, n, sizeof *ctx->sym);
	sym = ctx->sym;
	for (j = 0; j < n; j++) {
		cp = ch[j].cp;
		sym[j] = pages[l1[(cp >> 8) & (SYM_L1 - 1)] + (cp & 0xff)];
	}
	for (j = 0; j < n; j++) {
		c = sym[j];
		if (c == 0) {
			s = 0;
			continue;
		}
		if (s != 0 && p != 0) {
			/* s is the root's child on p */
			h = bigram_hash(m, p, c);
			if (!(bg[h >> 6] >> (h & 63) & 1))
				s = 0;
		}
		while (s != 0) {
			t = (da[s].base & BASE_MASK) + c;
			if (da[t].check == s)
				break;
			s = da[s].fail;
		}
		if (s != 0) {
			s = t;
			p = 0;
			e = da[t].base;
		} else {
			e = root[c];
			s = e & BASE_MASK;
			p = c;
		}
		if (e & OUT_FLAG)
			report(ctx, s, ch, n, j);
	}
}

/* --- matching: regexes and conditions ---------------------------------- */

static void
error_add(struct match_ctx *ctx, uint32_t t, uint32_t kw, int rc)
{
	struct match_error *e;

	ctx->errs = xgrow(ctx->errs, &ctx->errscap, ctx->nerrs + 1,
	    sizeof *ctx->errs);
	e = &ctx->errs[ctx->nerrs++];
	e->topic = t;
	e->kw = kw;
	e->pcre2_rc = rc;
}

/* Normalised full text (separators kept) as UTF-8, built once per post. */
static int
full_text(struct match_ctx *ctx)
{
	if (ctx->full)
		return 0;
	if (norm_text_full(ctx->m->norm, ctx->p->text, ctx->p->text_len,
	    &ctx->fb) == -1)
		return -1;
	norm_utf8(&ctx->fb, &ctx->u8, &ctx->u8len, &ctx->u8cap, &ctx->offs,
	    &ctx->offscap);
	ctx->full = true;
	return 0;
}

static uint32_t
src_offset(const struct match_ctx *ctx, size_t b, bool end)
{
	const struct norm_char *c;

	if (end) {
		if (b == 0)
			return 0;
		c = &ctx->fb.v[ctx->offs[b - 1]];
		return c->src_end;
	}
	if (b >= ctx->u8len)
		return ctx->p->text_len;
	c = &ctx->fb.v[ctx->offs[b]];
	return c->src_start;
}

/*
 * Runs regex r of topic t on the normalised full text.  With record, every
 * occurrence (up to RE_MAX_HITS) becomes a raw hit.  Returns 1 on a match,
 * 0 on none; a PCRE2 error or limit is recorded and counts as no match.
 */
static int
re_run(struct match_ctx *ctx, uint32_t t, const struct mre *r, bool record)
{
	PCRE2_SIZE off = 0, *ov, s, e;
	int rc, found = 0, nhits = 0;
	uint32_t start, end;

	if (full_text(ctx) == -1)
		return 0;
	for (;;) {
		if (r->jit)
			rc = pcre2_jit_match(r->re, (PCRE2_SPTR)ctx->u8,
			    ctx->u8len, off, 0, ctx->md, ctx->mc);
		else
			rc = pcre2_match(r->re, (PCRE2_SPTR)ctx->u8,
			    ctx->u8len, off, PCRE2_NO_UTF_CHECK, ctx->md,
			    ctx->mc);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0) {
			error_add(ctx, t, r->kw, rc);
			break;
		}
		found = 1;
		if (!record)
			break;
		ov = pcre2_get_ovector_pointer(ctx->md);
		s = ov[0];
		e = ov[1];
		if (e < s)	/* \K in a lookahead */
			e = s;
		start = src_offset(ctx, s, false);
		end = e > s ? src_offset(ctx, e, true) : start;
		raw_add(ctx, t, r->kw, start, end);
		if (++nhits >= RE_MAX_HITS)
			break;
		if (e > off)
			off = e;
		else {
			if (off >= ctx->u8len)
				break;
			off++;
			while (off < ctx->u8len &&
			    ((unsigned char)ctx->u8[off] & 0xc0) == 0x80)
				off++;
		}
		if (off > ctx->u8len)
			break;
	}
	/* A limit after a first match still counts the match. */
	return found;
}

static bool
where_ok(struct match_ctx *ctx, uint32_t ti)
{
	const struct rule_topic *t = &ctx->m->rs->topics[ti];
	const struct rule_where *w;
	const char *v;
	size_t i, k, len = 0;
	int rc;

	for (i = 0; i < t->nwhere; i++) {
		w = &t->where[i];
		len = 0;
		if ((v = post_field(ctx->p, w->field, &len)) == NULL)
			return false;
		if (w->re != NULL) {
			rc = pcre2_match(w->re, (PCRE2_SPTR)v, len, 0, 0,
			    ctx->md, ctx->mc);
			if (rc == PCRE2_ERROR_NOMATCH)
				return false;
			if (rc < 0) {
				error_add(ctx, ti, UINT32_MAX, rc);
				return false;
			}
			continue;
		}
		for (k = 0; k < w->nvalues; k++)
			if (strlen(w->values[k]) == len &&
			    memcmp(w->values[k], v, len) == 0)
				break;
		if (k == w->nvalues)
			return false;
	}
	return true;
}

/* A regex may run if it has no factors or one of them was seen. */
static inline bool
re_runnable(const struct match_ctx *ctx, const struct mre *r)
{
	return !r->gated || ctx->restamp[r - ctx->m->res] == ctx->gen;
}

/*
 * Decides topic t.  Literal hits are known; a group still unsatisfied needs
 * a regex.  Cheap checks first: groups with nothing left to try, then where
 * conditions, then the group regexes, then none regexes.  A topic that
 * matches also runs its other positive regexes, so its keyword list is
 * complete.  Regexes whose factors were not seen cannot match and are
 * skipped.
 */
static void
topic_eval(struct match_ctx *ctx, uint32_t t)
{
	const struct matcher *m = ctx->m;
	const struct mtopic *mt = &m->topics[t];
	struct tstate *st = &ctx->ts[t];
	const struct mre *r, *re = mt->nre > 0 ? m->res + mt->re : NULL;
	uint32_t g, i;

	if (st->veto)
		return;
	if (st->sat < mt->npos)
		for (g = 0; g < mt->npos; g++)
			if (!m->grp_re[mt->grp + g] && !group_isset(ctx, t, g))
				return;
	if ((mt->flags & T_WHERE) && !where_ok(ctx, t))
		return;
	if (mt->nre > 0)
		memset(ctx->ran, 0, mt->nre);
	if (st->sat < mt->npos) {
		for (i = 0; i < mt->nre && st->sat < mt->npos; i++) {
			r = &re[i];
			if (r->group == GROUP_NONE ||
			    group_isset(ctx, t, r->group) ||
			    !re_runnable(ctx, r))
				continue;
			ctx->ran[i] = 1;
			if (re_run(ctx, t, r, true))
				group_set(ctx, t, r->group);
		}
		if (st->sat < mt->npos)
			return;
	}
	if (mt->flags & T_NONE_RE) {
		for (i = 0; i < mt->nre; i++) {
			r = &re[i];
			if (r->group == GROUP_NONE && re_runnable(ctx, r) &&
			    re_run(ctx, t, r, false)) {
				st->veto = 1;
				return;
			}
		}
	}
	st->matched = 1;
	if (mt->flags & T_POS_RE) {
		for (i = 0; i < mt->nre; i++) {
			r = &re[i];
			if (r->group != GROUP_NONE && !ctx->ran[i] &&
			    re_runnable(ctx, r))
				re_run(ctx, t, r, true);
		}
	}
}

/* --- results ----------------------------------------------------------- */

static inline int
hit_cmp(const struct match_hit *a, const struct match_hit *b)
{
	if (a->topic != b->topic)
		return a->topic < b->topic ? -1 : 1;
	if (a->kw != b->kw)
		return a->kw < b->kw ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->end < b->end ? -1 : a->end > b->end;
}

static int
hit_qcmp(const void *a, const void *b)
{
	return hit_cmp(a, b);
}

static void
hits_sort(struct match_hit *h, size_t n)
{
	struct match_hit x;
	size_t i, k;

	if (n > 24) {
		qsort(h, n, sizeof *h, hit_qcmp);
		return;
	}
	for (i = 1; i < n; i++) {
		x = h[i];
		for (k = i; k > 0 && hit_cmp(&h[k - 1], &x) > 0; k--)
			h[k] = h[k - 1];
		h[k] = x;
	}
}

static int
u32_qcmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
u32_sort(uint32_t *v, size_t n)
{
	uint32_t x;
	size_t i, k;

	if (n > 24) {
		qsort(v, n, sizeof *v, u32_qcmp);
		return;
	}
	for (i = 1; i < n; i++) {
		x = v[i];
		for (k = i; k > 0 && v[k - 1] > x; k--)
			v[k] = v[k - 1];
		v[k] = x;
	}
}

static void
results(struct match_ctx *ctx, struct match_result *res)
{
	struct match_topic *rt = ctx->rtopics;
	struct match_hit *h;
	size_t i, k, nh = 0, nt = 0, nk = 0;
	uint32_t t;

	/* Matched topics (touched is sorted). */
	for (i = 0; i < ctx->ntouched; i++)
		if (ctx->ts[ctx->touched[i]].matched)
			ctx->touched[nt++] = ctx->touched[i];
	ctx->ntouched = nt;

	/* Hits of matched topics, sorted, duplicates dropped. */
	if (ctx->hitscap < ctx->nraw)
		ctx->hits = xgrow(ctx->hits, &ctx->hitscap, ctx->nraw,
		    sizeof *ctx->hits);
	for (i = 0; i < ctx->nraw; i++)
		if (ctx->ts[ctx->raw[i].topic].matched)
			ctx->hits[nh++] = ctx->raw[i];
	hits_sort(ctx->hits, nh);
	for (i = 0, k = 0; i < nh; i++)
		if (k == 0 || hit_cmp(&ctx->hits[k - 1], &ctx->hits[i]) != 0)
			ctx->hits[k++] = ctx->hits[i];
	nh = k;

	/* Distinct keywords per topic. */
	if (ctx->kwscap < nh)
		ctx->kws = xgrow(ctx->kws, &ctx->kwscap, nh, sizeof *ctx->kws);
	for (i = 0, k = 0; i < nt; i++) {
		t = ctx->touched[i];
		rt[i].topic = t;
		rt[i].nkws = 0;
		rt[i].kws = NULL;
		while (k < nh && ctx->hits[k].topic < t)
			k++;
		for (; k < nh && ctx->hits[k].topic == t; k++) {
			h = &ctx->hits[k];
			if (rt[i].nkws == 0 || ctx->kws[nk - 1] != h->kw) {
				if (rt[i].nkws == 0)
					rt[i].kws = ctx->kws + nk;
				ctx->kws[nk++] = h->kw;
				rt[i].nkws++;
			}
		}
	}
	res->topics = rt;
	res->ntopics = nt;
	res->hits = ctx->hits;
	res->nhits = nh;
	res->errors = ctx->errs;
	res->nerrors = ctx->nerrs;
}

int
match_post(struct match_ctx *ctx, const struct post *p,
    struct match_result *res)
{
	const struct matcher *m = ctx->m;
	size_t i, n;
	uint32_t t;

	ctx->p = p;
	ctx->full = false;
	ctx->ntouched = 0;
	ctx->nraw = 0;
	ctx->nerrs = 0;
	memset(res, 0, sizeof *res);
	if (++ctx->gen == 0) {
		for (i = 0; i < m->ntopics; i++)
			ctx->ts[i].stamp = 0;
		for (i = 0; i < m->nres; i++)
			ctx->restamp[i] = 0;
		ctx->gen = 1;
	}
	if (norm_text(m->norm, p->text, p->text_len, &ctx->nb) == -1)
		return -1;
	if (m->npats > 0 && ctx->nb.n > 0)
		scan(ctx);
	for (i = 0; i < m->nalways; i++) {
		t = m->always[i];
		if (ctx->ts[t].stamp != ctx->gen)
			topic_touch(ctx, t);
	}
	/* Ascending, so errors and results come in topic order. */
	u32_sort(ctx->touched, ctx->ntouched);
	n = ctx->ntouched;
	for (i = 0; i < n; i++)
		topic_eval(ctx, ctx->touched[i]);
	results(ctx, res);
	ctx->p = NULL;
	return 0;
}
