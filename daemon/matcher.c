/*
 * matcher.c — the per-post runtime: scan, checks, topic decisions, results.
 *
 * DESIGN.  match_post() normalises the post's text once (significant
 * characters only), maps them to the automaton's symbols and scans them
 * once (scan_automaton), with the root table and bigram filter keeping most
 * steps out of the double array.  Each output state reports its patterns:
 * a literal's raw hit is kept only if the separators inside it are few
 * enough, split no word, and a word literal starts and ends at word
 * boundaries (literal_hit_ok); it then sets its group bit in per-topic
 * state stamped per post (only touched topics are reset), vetoes the topic
 * (a none keyword) or, for a regex factor, lets that regex run.  The touched
 * topics plus those whose every group has an ungated regex are decided in
 * topic order (decide_topic): groups, where conditions, regexes through
 * matcher_regex.c, none keywords.  assemble_results() sorts the hits of the
 * matched topics into the caller's struct match_result.
 *
 * This file owns the per-thread struct match_ctx: scratch reused from post
 * to post without malloc once it has grown.  The matcher is read only (see
 * matcher_build.c), so threads share it, each with its own context.  The
 * whole hot path is in this one file so that the compiler inlines it into
 * match_post().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "matcher_int.h"

/* --- context ---------------------------------------------------------- */

/* The flags of each topic's per-post state that never change. */
static void
ts_init(struct tstate *ts, const struct matcher *m)
{
	const struct mtopic *mt;
	size_t i;

	for (i = 0; i < m->ntopics; i++) {
		mt = &m->topics[i];
		if (mt->npos > 32)
			ts[i].flags |= TS_WIDE;
		if (mt->nre == 0 && !(mt->flags & T_WHERE) &&
		    mt->npos <= UINT16_MAX) {
			ts[i].flags |= TS_PLAIN;
			ts[i].need = (uint16_t)mt->npos;
		}
	}
}

/* A context for m: arrays sized by the matcher, PCRE2 match data, match
 * context with the matcher's limits, and a JIT stack. */
struct match_ctx *
match_ctx_new(const struct matcher *m)
{
	struct match_ctx *ctx;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->m = m;
	ctx->ts = xcalloc(m->ntopics ? m->ntopics : 1, sizeof *ctx->ts);
	ts_init(ctx->ts, m);
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

/* --- matching: literals ----------------------------------------------- */

/* First hit of topic t in this post: stamps it, clears its state and group
 * bits, and lists it among the touched topics. */
static inline void
topic_touch(struct match_ctx *ctx, uint32_t t)
{
	const struct mtopic *mt;
	struct tstate *st = &ctx->ts[t];

	st->stamp = ctx->gen;
	st->sat = 0;
	st->bits = 0;
	st->flags &= (uint8_t)~TS_POST;
	if (st->flags & TS_WIDE) {
		mt = &ctx->m->topics[t];
		memset(ctx->gbits + mt->gw, 0, ((mt->npos + 63) / 64) *
		    sizeof *ctx->gbits);
	}
	ctx->touched[ctx->ntouched++] = t;
}

/* Sets group bit g of topic t; returns true if it was not set. */
static inline bool
group_set(struct match_ctx *ctx, uint32_t t, uint32_t g)
{
	struct tstate *st = &ctx->ts[t];
	uint64_t *w, bit;

	if (!(st->flags & TS_WIDE)) {
		if (st->bits >> g & 1)
			return false;
		st->bits |= UINT32_C(1) << g;
		st->sat++;
		return true;
	}
	w = ctx->gbits + ctx->m->topics[t].gw + (g >> 6);
	bit = UINT64_C(1) << (g & 63);
	if (*w & bit)
		return false;
	*w |= bit;
	st->sat++;
	return true;
}

/* True if group g of topic t is satisfied in this post. */
static inline bool
group_isset(const struct match_ctx *ctx, uint32_t t, uint32_t g)
{
	const struct tstate *st = &ctx->ts[t];

	if (!(st->flags & TS_WIDE))
		return st->bits >> g & 1;
	return (ctx->gbits[ctx->m->topics[t].gw + (g >> 6)] >> (g & 63)) & 1;
}

/* --- matching: separators inside a hit --------------------------------- */

/*
 * Separators the text skips between two characters of a keyword fall in
 * two kinds.  Evasion marks — symbols and emoji (Unicode S*), * . - _ / \
 * # @ & % and their full-width forms — are what people put between the
 * characters of a word to hide it, and are always skipped.  Every other
 * separator (spaces, line breaks, sentence punctuation such as ，。、？,
 * quotes and brackets) is also how text separates words, so a gap of those
 * next to a CJK character is skipped only when the text is letter-spaced
 * there (hit_letter_spaced): 新 华 书 店 hits 新华, 泰国 电诈 does not hit
 * 国电.  Format characters and marks inside a gap decide nothing.
 */
static bool
sep_is_evasion(uint32_t cp)
{
	if (cp >= 0xff01 && cp <= 0xff5e)
		cp -= 0xfee0;		/* full-width ASCII */
	if (cp < 0x80)
		return strchr("*.-_/\\#@&%$+<=>^`|~", (int)cp) != NULL &&
		    cp != 0;
	switch (utf8proc_category((utf8proc_int32_t)cp)) {
	case UTF8PROC_CATEGORY_SM:
	case UTF8PROC_CATEGORY_SC:
	case UTF8PROC_CATEGORY_SK:
	case UTF8PROC_CATEGORY_SO:
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_CF:
		return true;
	default:
		/* middle dots and bullets: 地·沟·油 */
		return cp == 0xb7 || cp == 0x2022 || cp == 0x2027 ||
		    cp == 0x30fb || cp == 0xff65;
	}
}

/* True if the source bytes [a, b) between two characters hold evasion
 * marks only (see above); an empty span (an expansion such as ㈱) too. */
static bool
gap_is_evasion(const char *text, uint32_t a, uint32_t b)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;

	while (a < b) {
		k = utf8proc_iterate(s + a, b - a, &cp);
		if (k <= 0)
			return true;	/* validated by norm_text() */
		if (!sep_is_evasion((uint32_t)cp))
			return false;
		a += (uint32_t)k;
	}
	return true;
}

/*
 * The separators between two characters counted as user-perceived
 * characters (extended grapheme clusters): a family emoji, a flag or an
 * emoji with its skin tone is one separator, not four or two.  The
 * normaliser counts code points, so this only lowers a gap it reported
 * as too wide (g); an empty span (an expansion) keeps g.  Counting stops
 * once past lim.
 */
static unsigned
gap_clusters(const char *text, uint32_t a, uint32_t b, unsigned g,
    unsigned lim)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
	utf8proc_int32_t cp, prev = -1, state = 0;
	utf8proc_ssize_t k;
	unsigned n = 0;

	if (a >= b)
		return g;
	while (a < b && n <= lim) {
		k = utf8proc_iterate(s + a, b - a, &cp);
		if (k <= 0)
			return g;
		if (prev < 0 || utf8proc_grapheme_break_stateful(prev, cp,
		    &state))
			n++;
		prev = cp;
		a += (uint32_t)k;
	}
	return n < g ? n : g;
}

/*
 * The hit ch[i..j] is letter-spaced: a separator stands between every two
 * of its characters (where the keyword has none of its own), and a
 * two-character hit is also cut off from the text on both sides, so that
 * 新 华 书 店 counts but 泰国 电诈 (国电) does not.
 */
static bool
hit_letter_spaced(const struct norm_char *ch, size_t n, const uint8_t *kg,
    size_t i, size_t j)
{
	size_t k;

	for (k = i + 1; k <= j; k++)
		if (ch[k].gap == 0 && kg[k - i] == 0)
			return false;
	if (j == i + 1)
		return ch[i].gap != 0 && (j + 1 == n || ch[j + 1].gap != 0);
	return true;
}

/* The source bytes between ch[a] and ch[a + 1]. */
static inline bool
same_separator(const char *text, const struct norm_char *ch, size_t a,
    size_t b)
{
	uint32_t la = ch[a + 1].src_start - ch[a].src_end;
	uint32_t lb = ch[b + 1].src_start - ch[b].src_end;

	return ch[a].src_end <= ch[a + 1].src_start &&
	    ch[b].src_end <= ch[b + 1].src_start && la == lb &&
	    memcmp(text + ch[a].src_end, text + ch[b].src_end, la) == 0;
}

/* ch[x] is a letter or digit standing alone: no letter touches it. */
static inline bool
word_char_alone(const struct norm_char *ch, size_t n, size_t x)
{
	return ch[x].cls == NC_WORD &&
	    (ch[x].gap != 0 || x == 0 || ch[x - 1].cls != NC_WORD) &&
	    (x + 1 == n || ch[x + 1].gap != 0 || ch[x + 1].cls != NC_WORD);
}

/*
 * Word boundaries of a spelled-out word: when the hit's last letter stands
 * alone (c.a.t) and the next letter also stands alone behind the same
 * separator, the word goes on (c.a.t.e.g.o.r.y, 1 1 0 0), so the end is no
 * boundary; the same at the start (b.o.b.c.a.t).
 */
static bool
spelled_word_goes_on(const struct matcher *m, const uint8_t *kg,
    const struct norm_char *ch, size_t n, const char *text, size_t i,
    size_t j)
{
	unsigned lim = (unsigned)m->max_gap;

	if (j == i)
		return false;
	if (ch[j].cls == NC_WORD && j + 1 < n && kg[j - i] == 0 &&
	    ch[j].gap != 0 && ch[j + 1].gap != 0 && ch[j + 1].gap <= lim &&
	    word_char_alone(ch, n, j) && word_char_alone(ch, n, j + 1) &&
	    same_separator(text, ch, j - 1, j))
		return true;
	return ch[i].cls == NC_WORD && i > 0 && kg[1] == 0 &&
	    ch[i + 1].gap != 0 && ch[i].gap != 0 && ch[i].gap <= lim &&
	    word_char_alone(ch, n, i) && word_char_alone(ch, n, i - 1) &&
	    same_separator(text, ch, i - 1, i);
}

/*
 * The separators inside a raw hit ch[i..j] of pattern p (some gap is
 * non-zero): few enough (counted as grapheme clusters), evasion marks or
 * in letter-spaced text next to CJK characters, not splitting a word that
 * is not spelled out one letter at a time ("not ice" is not "notice"), and
 * a spelled-out word must end where the keyword does ("cat" is not in
 * "c.a.t.e.g.o.r.y").  Out of line: most hits have no gap, and the scan
 * loop keeps its registers.
 */
static __attribute__((noinline, cold)) bool
gapped_hit_ok(const struct matcher *m, const struct mpat *p,
    const struct norm_char *ch, size_t n, size_t j, const char *text)
{
	const uint8_t *kg = m->kgaps + p->gaps;
	size_t i = j + 1 - p->len, k;
	unsigned g, lim;
	bool lone, spaced = false;

	for (k = i + 1; k <= j; k++) {
		if ((g = ch[k].gap) == 0)
			continue;
		lim = (unsigned)m->max_gap;
		if (kg[k - i] != 0) {
			/* The keyword itself has separators here. */
			if (kg[k - i] > lim)
				lim = kg[k - i];
			if (g > lim && gap_clusters(text, ch[k - 1].src_end,
			    ch[k].src_start, g, lim) > lim)
				return false;
			continue;
		}
		if (g > lim && gap_clusters(text, ch[k - 1].src_end,
		    ch[k].src_start, g, lim) > lim)
			return false;
		if (ch[k - 1].cls != NC_WORD || ch[k].cls != NC_WORD) {
			/* Next to CJK: evasion marks, or letter-spaced. */
			if (spaced || gap_is_evasion(text, ch[k - 1].src_end,
			    ch[k].src_start))
				continue;
			if (!hit_letter_spaced(ch, n, kg, i, j))
				return false;
			spaced = true;
			continue;
		}
		/* Split inside a word: one side must be a lone letter. */
		lone = k - 1 == i || ch[k - 1].gap != 0 ||
		    ch[k - 2].cls != NC_WORD;
		if (!lone)
			lone = k == j || ch[k + 1].gap != 0 ||
			    ch[k + 1].cls != NC_WORD;
		if (!lone)
			return false;
	}
	return !spelled_word_goes_on(m, kg, ch, n, text, i, j);
}

/*
 * A raw automaton hit of pattern p ending at character j: a word-class
 * literal must start and end at word boundaries ("cat" is not in
 * "category"), and separators inside it must pass gapped_hit_ok().
 */
static inline bool
literal_hit_ok(const struct matcher *m, const struct mpat *p,
    const struct norm_char *ch, size_t n, size_t j, const char *text)
{
	size_t i = j + 1 - p->len, k;

	if (ch[i].cls == NC_WORD && i > 0 && ch[i].gap == 0 &&
	    ch[i - 1].cls == NC_WORD)
		return false;
	if (ch[j].cls == NC_WORD && j + 1 < n && ch[j + 1].gap == 0 &&
	    ch[j + 1].cls == NC_WORD)
		return false;
	for (k = i + 1; k <= j; k++)
		if (ch[k].gap != 0)
			return gapped_hit_ok(m, p, ch, n, j, text);
	return true;
}

/*
 * The automaton reached output state s at character j: every pattern of s
 * and of the states its dictionary links lead to ends there, one list from
 * s (matcher_build.c links them).  A regex factor
 * only marks its regex runnable; a literal that passes literal_hit_ok()
 * vetoes its topics (none) or satisfies a group and records the hit.
 */
static void
record_outputs(struct match_ctx *ctx, uint32_t s,
    const struct norm_char *ch, size_t n, size_t j)
{
	const struct matcher *m = ctx->m;
	const struct mpat *p;
	const struct mocc *o, *oe;
	uint32_t pi, t, start, end;

	for (pi = m->da[s].pat; pi != 0; pi = p->next) {
		p = &m->pats[pi - 1];
		if (p->raw) {
			/* Factors: their regexes may run now. */
			o = &m->occs[p->occ];
			for (oe = m->occs + pat_occ_end(p); o < oe; o++) {
				t = o->topic;
				if (ctx->ts[t].stamp != ctx->gen)
					topic_touch(ctx, t);
				ctx->restamp[o->kw] = ctx->gen;
			}
			continue;
		}
		if (!literal_hit_ok(m, p, ch, n, j, ctx->p->text))
			continue;
		start = ch[j + 1 - p->len].src_start;
		end = ch[j].src_end;
		o = &m->occs[p->occ];
		for (oe = m->occs + pat_occ_end(p); o < oe; o++) {
			t = o->topic;
			if (ctx->ts[t].stamp != ctx->gen)
				topic_touch(ctx, t);
			if (o->group == GROUP_NONE) {
				ctx->ts[t].flags |= TS_VETO;
				continue;
			}
			group_set(ctx, t, o->group);
			raw_hit_add(ctx, t, o->kw, start, end);
		}
	}
}

/*
 * The hot loop: one automaton step per significant character.  A step reads
 * the symbol (two table loads, independent of the state).  Most steps start
 * from the root or from one of its children, and there the array is read
 * at most once: a root step is one load from the small root table, and a
 * step from a root child on symbol p goes back to the root (its failure
 * link) unless the bigram filter says p, c may continue; then the child's
 * cell is found from the base the root table keeps.  Deeper, the step
 * follows the dependent chain state -> cell -> child through the array,
 * whose cells hold the failure links; a failure to a root child (FAIL_D1)
 * is that child on the previous symbol, and goes on as above.
 */
static void
scan_automaton(struct match_ctx *ctx)
{
	const struct matcher *m = ctx->m;
	const struct dacell *da = m->da;
	const uint32_t *l1 = m->sym_l1, *pages = m->sym_pages;
	const struct mroot *root = m->root;
	const uint64_t *bg = m->bigram;
	const struct norm_char *ch = ctx->nb.v;
	size_t n = ctx->nb.n, j;
	uint32_t s = 0, c, t, h, e, f, cp, p = 0, *sym;

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
			p = 0;
			continue;
		}
		while (s != 0 && p == 0) {
			t = (da[s].base & BASE_MASK) + c;
			if (da[t].check == s)
				goto child;
			f = da[s].fail;
			s = f & FAIL_MASK;
			if (f & FAIL_D1)
				p = sym[j - 1];
		}
		if (s != 0) {
			/* s is the root's child on p */
			h = bigram_hash(m, p, c);
			if (bg[h >> 6] >> (h & 63) & 1) {
				t = root[p].base + c;
				if (da[t].check == s)
					goto child;
			}
		}
		e = root[c].cell;
		s = e & BASE_MASK;
		p = s != 0 ? c : 0;
		if (e & OUT_FLAG)
			record_outputs(ctx, s, ch, n, j);
		continue;
child:
		s = t;
		p = 0;
		if (da[t].base & OUT_FLAG)
			record_outputs(ctx, s, ch, n, j);
	}
}

/* --- matching: conditions and topic decisions ------------------------- */

/* True if every where condition of topic ti holds for the post's fields;
 * a where regex that fails or is cut off is recorded and counts as false. */
static bool
where_holds(struct match_ctx *ctx, uint32_t ti)
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
				regex_error_add(ctx, ti, UINT32_MAX, rc);
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
decide_topic(struct match_ctx *ctx, uint32_t t)
{
	const struct matcher *m = ctx->m;
	struct tstate *st = &ctx->ts[t];
	const struct mtopic *mt;
	const struct mre *r, *re;
	uint32_t g, i;

	if (st->flags & TS_VETO)
		return;
	if (st->flags & TS_PLAIN) {
		if (st->sat >= st->need)
			st->flags |= TS_MATCHED;
		return;
	}
	mt = &m->topics[t];
	re = mt->nre > 0 ? m->res + mt->re : NULL;
	if (st->sat < mt->npos)
		for (g = 0; g < mt->npos; g++)
			if (!m->grp_re[mt->grp + g] && !group_isset(ctx, t, g))
				return;
	if ((mt->flags & T_WHERE) && !where_holds(ctx, t))
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
			if (match_re_run(ctx, t, r, true))
				group_set(ctx, t, r->group);
		}
		if (st->sat < mt->npos)
			return;
	}
	if (mt->flags & T_NONE_RE) {
		for (i = 0; i < mt->nre; i++) {
			r = &re[i];
			if (r->group == GROUP_NONE && re_runnable(ctx, r) &&
			    match_re_run(ctx, t, r, false)) {
				st->flags |= TS_VETO;
				return;
			}
		}
	}
	st->flags |= TS_MATCHED;
	if (mt->flags & T_POS_RE) {
		for (i = 0; i < mt->nre; i++) {
			r = &re[i];
			if (r->group != GROUP_NONE && !ctx->ran[i] &&
			    re_runnable(ctx, r))
				match_re_run(ctx, t, r, true);
		}
	}
}

/* --- results ---------------------------------------------------------- */

/* Hits order by topic, keyword, start, end. */
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

/* Insertion sort for the few hits of one topic, qsort beyond. */
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

/* Insertion sort for a few topic indexes (up to 64 it costs fewer
 * instructions than glibc's qsort, its compare called through a pointer),
 * qsort beyond. */
static void
u32_sort(uint32_t *v, size_t n)
{
	uint32_t x;
	size_t i, k;

	if (n > 64) {
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

/*
 * The post's result in ctx's arrays: the matched topics (touched, sorted,
 * filtered in place), their hits sorted without duplicates, and per topic
 * the distinct keywords that hit.  The hits go to their topic's place by
 * a counting sort on the topic's rank among the matched (kept in its
 * state), so only the few hits of one topic are compared.
 */
static void
assemble_results(struct match_ctx *ctx, struct match_result *res)
{
	struct match_topic *rt = ctx->rtopics;
	struct match_hit *h;
	size_t i, k, at, end, nh = 0, nt = 0, nk = 0;
	uint32_t t;

	/* Matched topics (touched is sorted), their ranks, and the hits
	 * of each, counted in rt[].nkws. */
	for (i = 0; i < ctx->ntouched; i++) {
		t = ctx->touched[i];
		if (!(ctx->ts[t].flags & TS_MATCHED))
			continue;
		ctx->ts[t].rank = (uint32_t)nt;
		rt[nt].topic = t;
		rt[nt].kws = NULL;
		rt[nt++].nkws = 0;
	}
	ctx->ntouched = nt;
	for (i = 0; i < ctx->nraw; i++) {
		const struct tstate *st = &ctx->ts[ctx->raw[i].topic];

		if (st->flags & TS_MATCHED) {
			rt[st->rank].nkws++;
			nh++;
		}
	}

	/* Each topic's hits in its own range (counts become ends). */
	if (ctx->hitscap < nh)
		ctx->hits = xgrow(ctx->hits, &ctx->hitscap, nh,
		    sizeof *ctx->hits);
	for (i = 0, at = 0; i < nt; i++) {
		at += rt[i].nkws;
		rt[i].nkws = at - rt[i].nkws;	/* its first */
	}
	for (i = 0; i < ctx->nraw; i++) {
		const struct tstate *st = &ctx->ts[ctx->raw[i].topic];

		if (st->flags & TS_MATCHED)
			ctx->hits[rt[st->rank].nkws++] = ctx->raw[i];
	}

	/* Sorted per topic, duplicates dropped, the distinct keywords. */
	if (ctx->kwscap < nh)
		ctx->kws = xgrow(ctx->kws, &ctx->kwscap, nh, sizeof *ctx->kws);
	for (i = 0, at = 0, k = 0; i < nt; i++) {
		end = rt[i].nkws;
		hits_sort(ctx->hits + at, end - at);
		rt[i].nkws = 0;
		for (; at < end; at++) {
			h = &ctx->hits[at];
			if (k > 0 && hit_cmp(&ctx->hits[k - 1], h) == 0)
				continue;
			ctx->hits[k++] = *h;
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
	res->nhits = k;
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
		scan_automaton(ctx);
	for (i = 0; i < m->nalways; i++) {
		t = m->always[i];
		if (ctx->ts[t].stamp != ctx->gen)
			topic_touch(ctx, t);
	}
	/* Ascending, so errors and results come in topic order. */
	u32_sort(ctx->touched, ctx->ntouched);
	n = ctx->ntouched;
	for (i = 0; i < n; i++)
		decide_topic(ctx, ctx->touched[i]);
	assemble_results(ctx, res);
	ctx->p = NULL;
	return 0;
}

const struct norm_buf *
match_normalized(const struct match_ctx *ctx)
{
	return &ctx->nb;
}
