/*
 * matcher_regex.c — the matcher's PCRE2 side: regex factors, regex runs.
 *
 * DESIGN.  At compile time, match_re_factors() reads a regex's text for the
 * literal runs every match must contain (one per top-level branch), so that
 * matcher_build.c can gate the regex on them in the automaton, and
 * match_re_has_jit() says whether the rule loader JIT-compiled it.  Per
 * post, match_re_run() runs one regex keyword over the normalised full text
 * (separators kept), built once per post in the context on first need, and
 * turns its occurrences into hits in the post's original bytes; match and
 * depth limits come from the context, and a failure or cut-off is recorded
 * as a match_error.  The regexes themselves are compiled by the rule loader
 * and owned by the rule set.  Called from matcher.c's topic decisions, on
 * the thread that owns the context.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "matcher_int.h"

#define RE_MAX_HITS	256		/* occurrences recorded per regex */

/* --- compile: regex factors ------------------------------------------- */

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
size_t
match_re_factors(const char *s, uint32_t flags, struct span *runs,
    size_t max)
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

/* True if the rule loader JIT-compiled re. */
bool
match_re_has_jit(const pcre2_code *re)
{
	size_t jitsize = 0;

	return pcre2_pattern_info(re, PCRE2_INFO_JITSIZE, &jitsize) == 0 &&
	    jitsize > 0;
}

/* --- per post: running a regex ---------------------------------------- */

/* Normalised full text (separators kept) as UTF-8, built once per post. */
static int
ensure_full_text(struct match_ctx *ctx)
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

/*
 * Offset in the post's original text of byte b of the UTF-8 full text: where
 * the character at b starts or, with end, where the character before b ends.
 */
static uint32_t
src_offset_of(const struct match_ctx *ctx, size_t b, bool end)
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
int
match_re_run(struct match_ctx *ctx, uint32_t t, const struct mre *r,
    bool record)
{
	PCRE2_SIZE off = 0, *ov, s, e;
	int rc, found = 0, nhits = 0;
	uint32_t start, end;

	if (ensure_full_text(ctx) == -1)
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
			regex_error_add(ctx, t, r->kw, rc);
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
		start = src_offset_of(ctx, s, false);
		end = e > s ? src_offset_of(ctx, e, true) : start;
		raw_hit_add(ctx, t, r->kw, start, end);
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
