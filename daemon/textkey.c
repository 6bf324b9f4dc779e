/*
 * textkey.c — text fingerprints for counting distinct texts.
 *
 * DESIGN: a key is computed in three steps, all on the caller's thread with
 * the caller's scratch, and nothing is kept between calls.
 *   1. A byte scan of the raw text finds what is not the text's own
 *      content: repost chain markers (//@user:, RT @user:, 转发微博 and its
 *      traditional spelling), URLs (http:// and https:// up to a space or a
 *      non-ASCII byte), mentions (@ and a name up to a separator, with the
 *      colon of a reply), and hashtags (#话题# and #tag).  Hashtags are
 *      dropped only when something else is left, so a text that is only a
 *      hashtag keeps it.  The scan records byte ranges.
 *   2. The characters the normaliser emitted for the text whose source
 *      bytes lie outside those ranges are the content (folded, separators
 *      gone: punctuation, spaces and emoji never split two copies).
 *   3. MinHash over the content's shingles of p->shingle characters: per
 *      row, the least of a 64-bit hash of each shingle under that row's
 *      seed; the key hashes the rows of the one band.  A text shorter than
 *      a shingle is one shingle; a text with no content has one fixed key.
 * With one row, two texts share the key with probability equal to the
 * Jaccard similarity of their shingle sets; each further row multiplies
 * it by that similarity again.
 */
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "textkey.h"
#include "xmalloc.h"

#define TK_NAME_MAX	30	/* code points of a mention name */
#define TK_TAG_MAX	150	/* bytes between the two # of #话题# */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

void
textkey_params_default(struct textkey_params *p)
{
	p->shingle = 3;
	p->rows = 2;
}

void
textkey_scratch_free(struct textkey_scratch *sc)
{
	if (sc == NULL)
		return;
	free(sc->spans);
	free(sc->cps);
	norm_buf_free(&sc->nb);
	memset(sc, 0, sizeof *sc);
}

uint64_t
textkey_hash(const void *s, size_t len)
{
	return mix64(strmap_hash64(s, len));
}

/* The code point at s[i] (valid UTF-8) and its length in *n. */
static uint32_t
cp_at(const unsigned char *s, size_t len, size_t i, size_t *n)
{
	size_t k = s[i] < 0x80 ? 1 : utf8_seq_len(s + i, len - i);
	uint32_t cp;

	if (k <= 1) {
		*n = 1;
		return s[i];
	}
	cp = s[i] & (0x7f >> k);
	for (size_t j = 1; j < k; j++)
		cp = cp << 6 | (s[i + j] & 0x3f);
	*n = k;
	return cp;
}

/* Whether cp ends a mention or #tag: ASCII space and punctuation (but _
 * and -), CJK and fullwidth punctuation, general punctuation. */
static int
ends_name(uint32_t cp)
{
	if (cp < 0x80)
		return cp <= ' ' || (cp != '_' && cp != '-' && !(cp >= '0' &&
		    cp <= '9') && !((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'));
	return (cp >= 0x2000 && cp <= 0x206f) || (cp >= 0x3000 &&
	    cp <= 0x303f) || (cp >= 0xff01 && cp <= 0xff0f) ||
	    (cp >= 0xff1a && cp <= 0xff20) || (cp >= 0xff3b && cp <= 0xff40) ||
	    (cp >= 0xff5b && cp <= 0xff65) || cp == 0xa0;
}

/* The end of the name that starts at s[i] (i itself when there is none). */
static size_t
name_end(const unsigned char *s, size_t len, size_t i)
{
	size_t n, k;

	for (k = 0; i < len && k < TK_NAME_MAX; k++) {
		if (ends_name(cp_at(s, len, i, &n)))
			break;
		i += n;
	}
	return i;
}

static int
has_prefix_ci(const unsigned char *s, size_t len, size_t i, const char *p)
{
	size_t n = strlen(p), j;

	if (len - i < n)
		return 0;
	for (j = 0; j < n; j++)
		if ((s[i + j] | 0x20) != (unsigned char)p[j])
			return 0;
	return 1;
}

static int
has_prefix(const unsigned char *s, size_t len, size_t i, const char *p)
{
	size_t n = strlen(p);

	return len - i >= n && memcmp(s + i, p, n) == 0;
}

/* The end of a mention whose @ is at s[i] (with the colon of a reply), or
 * i when no name follows. */
static size_t
mention_end(const unsigned char *s, size_t len, size_t i)
{
	size_t e = name_end(s, len, i + 1);

	if (e == i + 1)
		return i;
	if (e < len && s[e] == ':')
		e++;
	else if (has_prefix(s, len, e, "\xef\xbc\x9a"))	/* ： */
		e += 3;
	return e;
}

/* The end of a hashtag whose # is at s[i], or i. */
static size_t
hashtag_end(const unsigned char *s, size_t len, size_t i)
{
	size_t j, e;

	for (j = i + 1; j < len && j <= i + TK_TAG_MAX; j++) {
		if (s[j] == '\n')
			break;
		if (s[j] == '#')
			return j > i + 1 ? j + 1 : i;
	}
	e = name_end(s, len, i + 1);
	return e > i + 1 ? e : i;
}

/* The end of what is not content starting at s[i], or i. */
static size_t
drop_end(const unsigned char *s, size_t len, size_t i, int tags)
{
	size_t e;

	if (s[i] == 'h' || s[i] == 'H') {
		if (has_prefix_ci(s, len, i, "http://") ||
		    has_prefix_ci(s, len, i, "https://")) {
			for (e = i; e < len && s[e] > ' ' && s[e] < 0x80; e++)
				;
			return e;
		}
	} else if (s[i] == '/' && has_prefix(s, len, i, "//@")) {
		e = mention_end(s, len, i + 2);
		return e > i + 2 ? e : i;
	} else if (s[i] == '@')
		return mention_end(s, len, i);
	else if (s[i] == 'R' && has_prefix(s, len, i, "RT ") &&
	    (i == 0 || s[i - 1] <= ' ')) {
		for (e = i + 3; e < len && s[e] == ' '; e++)
			;
		return e < len && s[e] == '@' ? e : i;
	} else if (has_prefix(s, len, i, "转发微博") ||
	    has_prefix(s, len, i, "轉發微博"))
		return i + strlen("转发微博");
	else if (s[i] == '#' && tags)
		return hashtag_end(s, len, i);
	return i;
}

/* Fills sc->spans with the byte ranges dropped; returns whether a hashtag
 * was among them. */
static int
find_spans(const unsigned char *s, size_t len, int tags,
    struct textkey_scratch *sc)
{
	size_t i = 0, e, n;
	int tagged = 0;

	sc->nspans = 0;
	while (i < len) {
		if ((e = drop_end(s, len, i, tags)) > i) {
			sc->spans = xgrow(sc->spans, &sc->spans_cap,
			    sc->nspans + 2, sizeof *sc->spans);
			sc->spans[sc->nspans++] = (uint32_t)i;
			sc->spans[sc->nspans++] = (uint32_t)e;
			tagged |= s[i] == '#';
			i = e;
			continue;
		}
		cp_at(s, len, i, &n);
		i += n;
	}
	sc->nspans /= 2;
	return tagged;
}

/* The normalised characters outside sc->spans into sc->cps. */
static void
keep_content(const struct norm_buf *nb, struct textkey_scratch *sc)
{
	size_t j, k = 0;

	sc->ncps = 0;
	sc->cps = xgrow(sc->cps, &sc->cps_cap, nb->n + 1, sizeof *sc->cps);
	for (j = 0; j < nb->n; j++) {
		uint32_t at = nb->v[j].src_start;

		while (k < sc->nspans && sc->spans[2 * k + 1] <= at)
			k++;
		if (k < sc->nspans && sc->spans[2 * k] <= at)
			continue;
		sc->cps[sc->ncps++] = nb->v[j].cp;
	}
}

void
textkey_content(const char *text, size_t len, const struct norm_buf *nb,
    struct textkey_scratch *sc)
{
	const unsigned char *s = (const unsigned char *)text;

	int tagged = find_spans(s, len, 1, sc);

	keep_content(nb, sc);
	if (tagged && sc->ncps == 0) {
		find_spans(s, len, 0, sc);
		keep_content(nb, sc);
	}
}

uint64_t
textkey_of(const struct textkey_params *p, const char *text, size_t len,
    const struct norm_buf *nb, struct textkey_scratch *sc)
{
	uint64_t mins[8], key = UINT64_C(0x9e3779b97f4a7c15);
	size_t k = (size_t)(p->shingle < 1 ? 1 : p->shingle > 8 ? 8 :
	    p->shingle);
	size_t rows = (size_t)(p->rows < 1 ? 1 : p->rows > 8 ? 8 : p->rows);
	size_t i, j, nsh;

	textkey_content(text, len, nb, sc);
	if (sc->ncps == 0)
		return mix64(UINT64_C(0x656d707479));	/* "empty" */
	if (k > sc->ncps)
		k = sc->ncps;
	nsh = sc->ncps - k + 1;
	for (j = 0; j < rows; j++)
		mins[j] = UINT64_MAX;
	for (i = 0; i < nsh; i++) {
		uint64_t h = UINT64_C(0xcbf29ce484222325);

		for (j = 0; j < k; j++) {
			h ^= sc->cps[i + j];
			h *= UINT64_C(0x100000001b3);
		}
		h = mix64(h);
		for (j = 0; j < rows; j++) {
			uint64_t v = mix64(h ^ (UINT64_C(0x2545f4914f6cdd1d) *
			    (j + 1)));

			if (v < mins[j])
				mins[j] = v;
		}
	}
	for (j = 0; j < rows; j++)
		key = mix64(key ^ mins[j]);
	return key;
}

int
textkey_of_text(const struct normalizer *n, const char *text, size_t len,
    struct textkey_scratch *sc, uint64_t *key)
{
	struct textkey_params p;

	if (norm_text(n, text, len, &sc->nb) == -1)
		return -1;
	textkey_params_default(&p);
	*key = textkey_of(&p, text, len, &sc->nb, sc);
	return 0;
}
