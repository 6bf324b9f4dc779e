/*
 * normalize.h — Unicode and evasion folding, the same for posts and keywords.
 *
 * A normaliser is built once from its options (per-code-point tables built
 * at load time from utf8proc and OpenCC) and is then immutable: any number
 * of threads may use one normaliser at the same time.
 *
 * Normalising a text yields its "significant" characters (letters, digits,
 * ideographs…) after compatibility folding (ＦＯＯＤ→food, ①→1), case folding
 * and traditional→simplified Chinese, in decomposed form except for Hangul
 * (syllables; conjoining jamo compose) and for combining marks on
 * ideographs (dropped).  Zero-width and format characters are
 * removed without a trace.  Separators (spaces, punctuation, symbols, emoji)
 * are not emitted; each emitted character records how many separators came
 * right before it (its gap) so the matcher can skip a few separators inside
 * a keyword (地*沟 油, f.o.o.d) and still find word boundaries in Latin text.
 * Every emitted character keeps the byte span of the input it came from
 * (one code point, or a syllable's jamo, or an ideograph and its dropped
 * marks), so a hit maps back to byte offsets in the original text.
 */
#ifndef TW_NORMALIZE_H
#define TW_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct norm_opts {
	bool	nfkc;		/* compatibility folding: ＦＯＯＤ→FOOD, ①→1, ⓕ→f */
	bool	casefold;	/* FOOD→food */
	bool	t2s;		/* traditional→simplified Chinese (OpenCC t2s) */
	bool	strip_format;	/* drop zero-width and format characters */
	int	max_gap;	/* separators skipped between two keyword
				 * characters; 0 turns skipping off */
};

/* Defaults: every step on, max_gap 3. */
void norm_opts_default(struct norm_opts *opts);

/* Classes of emitted characters (struct norm_char.cls). */
enum norm_class {
	NC_WORD = 1,	/* letter or digit of a script written with spaces
			 * (Latin, Greek, Cyrillic, digits…): word boundaries apply */
	NC_CJK  = 2,	/* ideographs, kana, hangul, and other characters
			 * matched as plain substrings */
	NC_SEP  = 3,	/* separator; only emitted by norm_text_full() */
};

struct norm_char {
	uint32_t	cp;		/* normalised code point */
	uint32_t	src_start;	/* byte offset of the input code point */
	uint32_t	src_end;	/* byte offset just past it */
	uint8_t		gap;		/* separators since the previous emitted
					 * character (saturates at 255); the
					 * first character counts the start of
					 * text as a separator: gap >= 1 */
	uint8_t		cls;		/* enum norm_class */
	uint16_t	pad;
};

/* A reusable output buffer; one per thread.  Zero-initialise, then reuse. */
struct norm_buf {
	struct norm_char	*v;
	size_t			 n;
	size_t			 cap;
};

struct normalizer;

/* Builds the tables for opts (copied).  Returns NULL with a reason in errstr
 * when OpenCC's data cannot be opened.  Free with norm_free(). */
struct normalizer *norm_new(const struct norm_opts *opts, char *errstr,
    size_t errstr_size);
void norm_free(struct normalizer *n);
const struct norm_opts *norm_options(const struct normalizer *n);

/* Normalises len bytes of UTF-8 into out (cleared first); only significant
 * characters are emitted.  Returns 0, or -1 if s is not valid UTF-8 (out is
 * then empty).  NUL bytes are treated as separators. */
int norm_text(const struct normalizer *n, const char *s, size_t len,
    struct norm_buf *out);

/* Like norm_text() but separators are emitted too (cls NC_SEP, mapped the
 * same way), so the result keeps the shape of the text: used for regular
 * expressions, which must see spaces.  gap is 0 for every character. */
int norm_text_full(const struct normalizer *n, const char *s, size_t len,
    struct norm_buf *out);

/* Writes the UTF-8 of a normalised buffer into *dst (grown as needed,
 * NUL-terminated, length in *dst_len).  With offs non-NULL, (*offs)[i] is
 * the index in buf of the character that byte i of the output belongs to. */
void norm_utf8(const struct norm_buf *buf, char **dst, size_t *dst_len,
    size_t *dst_cap, uint32_t **offs, size_t *offs_cap);

void norm_buf_free(struct norm_buf *buf);

/* Returns true when s[0..len) is valid UTF-8 (no surrogates, no overlongs). */
bool utf8_valid(const char *s, size_t len);

/*
 * The length of the well-formed UTF-8 sequence at s (lead byte >= 0x80, n
 * bytes readable), or 0: Unicode's Table 3-7, no overlongs, no surrogates,
 * nothing above U+10FFFF.  Inline for the decoder's scan and utf8_valid().
 */
static inline size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		return n >= 3 && s[1] >= lo && s[1] <= hi &&
		    (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c < 0xf5) {
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
		return n >= 4 && s[1] >= lo && s[1] <= hi &&
		    (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

#endif
