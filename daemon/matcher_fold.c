/*
 * matcher_fold.c — warnings about keywords that fold into something else.
 *
 * DESIGN.  matcher_build.c folds every literal keyword with the posts'
 * normaliser; right after, it hands the folded characters to
 * match_fold_warn(), which compares them with the keyword as written.  A
 * keyword that loses characters (a symbol is a separator, so C++ folds to
 * c and #if to if; a keyword of separators only folds to nothing) or whose
 * fold makes a Latin word of one or two letters out of something else (㏄
 * folds to cc) hits text its author did not mean: C++ hits 压力又给到C罗了.
 * Such a keyword gets one line in the matcher's warning list, as
 * "path:line:col: warning: …" with the keyword as written and as folded.
 * Whitespace is not counted as lost: it separates the words of a
 * multi-word keyword.  Warnings do not stop anything; `tidewatch check`
 * prints them and the daemon logs them at load.  Runs at compile time, on
 * the thread that calls match_compile(); the list is owned by the matcher.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher_int.h"

#define SHORT_WORD	2	/* a Latin word this short is warned about */

/* Decodes the code point at s[0..n) (valid UTF-8); its length in *len. */
static uint32_t
fold_decode_cp(const unsigned char *s, size_t n, size_t *len)
{
	size_t k = s[0] < 0x80 ? 1 : utf8_seq_len(s, n), i;
	uint32_t c;

	if (k == 0) {		/* not reached: keywords are valid UTF-8 */
		*len = 1;
		return s[0];
	}
	*len = k;
	if (k == 1)
		return s[0];
	c = s[0] & (0x7f >> k);
	for (i = 1; i < k; i++)
		c = (c << 6) | (s[i] & 0x3f);
	return c;
}

static bool
fold_is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == 0xa0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200a);
}

/* Whether any folded character came from byte offset off of the keyword. */
static bool
fold_emitted_from(const struct norm_buf *nb, size_t off)
{
	size_t i;

	for (i = 0; i < nb->n; i++)
		if (nb->v[i].src_start <= off && off < nb->v[i].src_end)
			return true;
	return false;
}

/* Whether the folded characters' source ranges never go back (starts and
 * ends in order), as they do unless marks were reordered. */
static bool
fold_ranges_in_order(const struct norm_buf *nb)
{
	size_t i;

	for (i = 1; i < nb->n; i++)
		if (nb->v[i].src_start < nb->v[i - 1].src_start ||
		    nb->v[i].src_end < nb->v[i - 1].src_end)
			return false;
	return true;
}

/* Appends the keyword's characters that fold to nothing (whitespace
 * aside) to *lost; returns how many there are.  With the ranges in order,
 * the first folded character that ends past a byte is the one to look at
 * (fold_emitted_from()'s answer in one pass over both). */
static size_t
fold_lost_chars(const char *text, const struct norm_buf *nb, char **lost,
    size_t *lostlen, size_t *lostcap)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), off, len, count = 0, j = 0;
	bool in_order = fold_ranges_in_order(nb), emitted;
	uint32_t c;

	for (off = 0; off < n; off += len) {
		c = fold_decode_cp(s + off, n - off, &len);
		if (in_order) {
			while (j < nb->n && nb->v[j].src_end <= off)
				j++;
			emitted = j < nb->n && nb->v[j].src_start <= off;
		} else
			emitted = fold_emitted_from(nb, off);
		if (fold_is_space(c) || emitted)
			continue;
		*lost = xgrow(*lost, lostcap, *lostlen + len + 1, 1);
		memcpy(*lost + *lostlen, text + off, len);
		*lostlen += len;
		(*lost)[*lostlen] = '\0';
		count++;
	}
	return count;
}

/* Code points in text[start..end). */
static size_t
fold_count_cps(const char *text, size_t start, size_t end)
{
	size_t n = 0, i;

	for (i = start; i < end; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * The first Latin word of at most SHORT_WORD characters in the fold (a run
 * of word characters with no separator between them, holding a letter)
 * that the fold made: the keyword lost characters, or the word was
 * written with another number of characters.  Returns its length and its
 * first index in *at, or 0 when there is none.
 */
static size_t
fold_short_word(const char *text, const struct norm_buf *nb, bool lossy,
    size_t *at)
{
	size_t i = 0, j, k;
	bool letter;

	while (i < nb->n) {
		if (nb->v[i].cls != NC_WORD) {
			i++;
			continue;
		}
		letter = false;
		for (j = i; j < nb->n && nb->v[j].cls == NC_WORD &&
		    (j == i || nb->v[j].gap == 0); j++)
			if (nb->v[j].cp < '0' || nb->v[j].cp > '9')
				letter = true;
		k = j - i;
		if (letter && k <= SHORT_WORD && (lossy ||
		    fold_count_cps(text, nb->v[i].src_start,
		    nb->v[j - 1].src_end) != k)) {
			*at = i;
			return k;
		}
		i = j;
	}
	return 0;
}

void
match_fold_warn(struct diag *d, const struct rule_topic *t,
    const struct rule_kw *kw, const struct norm_buf *nb)
{
	char *folded = NULL, *lost = NULL, word[4 * SHORT_WORD + 1];
	size_t flen = 0, fcap = 0, lostlen = 0, lostcap = 0, nlost, wlen, at;
	const char *file = t->file != NULL ? t->file : "-";

	nlost = fold_lost_chars(kw->text, nb, &lost, &lostlen, &lostcap);
	if (nb->n == 0) {
		diag_add(d, file, kw->line, kw->col, "warning: topic '%s': "
		    "keyword \"%s\" folds to nothing: every character is a "
		    "separator, so it never hits", t->id, kw->display);
		free(lost);
		return;
	}
	wlen = fold_short_word(kw->text, nb, nlost > 0, &at);
	if (nlost == 0 && wlen == 0)
		return;
	norm_utf8(nb, &folded, &flen, &fcap, NULL, NULL);
	if (wlen > 0) {
		struct norm_buf w = { nb->v + at, wlen, wlen };
		char *ws = NULL;
		size_t wslen = 0, wscap = 0;

		norm_utf8(&w, &ws, &wslen, &wscap, NULL, NULL);
		snprintf(word, sizeof word, "%s", ws);
		free(ws);
	}
	if (nlost > 0 && wlen > 0)
		diag_add(d, file, kw->line, kw->col, "warning: topic '%s': "
		    "keyword \"%s\" folds to \"%s\": \"%s\" dropped as "
		    "separators, leaving the %zu-letter Latin word \"%s\"",
		    t->id, kw->display, folded, lost, wlen, word);
	else if (nlost > 0)
		diag_add(d, file, kw->line, kw->col, "warning: topic '%s': "
		    "keyword \"%s\" folds to \"%s\": \"%s\" dropped as "
		    "separators", t->id, kw->display, folded, lost);
	else
		diag_add(d, file, kw->line, kw->col, "warning: topic '%s': "
		    "keyword \"%s\" folds to \"%s\": the fold makes the "
		    "%zu-letter Latin word \"%s\"", t->id, kw->display, folded,
		    wlen, word);
	free(folded);
	free(lost);
}

const struct diag *
match_warnings(const struct matcher *m)
{
	return &m->warns;
}
