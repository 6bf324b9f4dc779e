/*
 * normalize.c — Unicode and evasion folding through per-code-point tables.
 *
 * DESIGN.  norm_new() asks utf8proc (decomposition, COMPAT and CASEFOLD as
 * the options say) and OpenCC t2s (one bulk call over every Han code point)
 * about each code point once and keeps the answers in a two-level table
 * (stage 1 by cp >> 8, pages of 256 entries, equal pages shared).  norm_text()
 * is then a validating UTF-8 decode and one or two loads per code point, no
 * library call.  Text is compared in decomposed form (é = e + U+0301); a
 * combining mark takes the class of the character it follows, and after a
 * separator or at the start counts as a separator.  Two exceptions need
 * the character before, so the loop's slow path handles them: a mark on an
 * ideograph is dropped (ideographs take none, so it is decoration), and
 * Hangul is compared as syllables: syllables stay whole and conjoining
 * jamo compose as NFC composes them.
 * The normaliser is immutable once built: threads share it, each with its
 * own struct norm_buf.  Offsets are uint32_t: the decoder caps posts far
 * below 4 GiB, and longer input is refused as if invalid.
 */
#include <endian.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opencc.h>
#include <utf8proc.h>

#include "normalize.h"
#include "xmalloc.h"

#define T2S_CONFIG	"t2s.json"
#define NCP		0x110000u	/* code points */
#define NPAGE		(NCP >> 8)	/* stage1 entries */

/*
 * A table entry: kind in the top 8 bits, value in the low 24.  For K_WORD,
 * K_CJK, K_MARK and K_SEP the value is the mapped code point XOR the code
 * point itself, so unchanged characters are 0 and their pages are shared.
 * For K_EXP and K_SEPX it is an index into the pool: pool[i] is the count,
 * then come that many entries whose value is the output code point itself.
 * Each output of an expansion has its own kind (㈱ → "(株)" is separator,
 * ideograph, separator), and they all get the span of the input.  K_WORD,
 * K_CJK and K_SEP equal NC_WORD, NC_CJK and NC_SEP.
 *
 * Enclosing marks (Me: keycap U+20E3, U+20DD…) are decoration and count as
 * separators.  K_SEPX is a separator that maps to several code points
 * (… → ...): one separator for the gap, expanded by norm_text_full().
 * K_IGN is removed without a trace (strip_format; else those are K_SEP).
 */
enum {
	K_WORD = NC_WORD,
	K_CJK = NC_CJK,
	K_SEP = NC_SEP,
	K_MARK,
	K_IGN,
	K_SEPX,
	K_EXP,
	K_BAD,		/* surrogate: only the fast 3-byte decode meets it */
	K_JAMO_V,	/* Hangul vowel jamo: joins a leading consonant */
	K_JAMO_T,	/* Hangul trailing consonant: joins an LV syllable */
};
#define E(kind, val)	((uint32_t)(kind) << 24 | (uint32_t)(val))
#define E_KIND(e)	((e) >> 24)
#define E_VAL(e)	((e) & 0xffffffu)

#define MAXMAP		32	/* longest mapping of one code point (18) */
#define OUT_SLACK	64	/* extra norm_chars reserved per call */

struct normalizer {
	struct norm_opts	 opts;
	/*
	 * tab[0 .. NPAGE) is stage 1, the pages follow (page 0, U+0000..
	 * U+00FF, first).  tab[cp >> 8] is the page's index in tab minus
	 * (cp & ~0xff), modulo 2^32, so an entry is tab[tab[cp >> 8] + cp].
	 */
	uint32_t		*tab;
	size_t			 npages;
	uint32_t		*pool;
	size_t			 npool;
};

/* State while building: flat table, pool, t2s mapping. */
struct build {
	const struct norm_opts	*opts;
	uint32_t		*flat;		/* NCP entries */
	uint32_t		*t2s;		/* NCP or NULL; 0: no change */
	uint32_t		*pool;
	size_t			 npool;
	size_t			 poolcap;
};

void
norm_opts_default(struct norm_opts *opts)
{
	opts->nfkc = true;
	opts->casefold = true;
	opts->t2s = true;
	opts->strip_format = true;
	opts->max_gap = 3;
}

/* Ideographs: what OpenCC is asked about, and part of NC_CJK. */
static bool
cp_is_han(uint32_t cp)
{
	return (cp >= 0x2e80 && cp <= 0x2fdf) ||	/* radicals */
	    (cp >= 0x3005 && cp <= 0x3007) ||		/* 々〆〇 */
	    (cp >= 0x3021 && cp <= 0x3029) ||		/* Hangzhou numerals */
	    (cp >= 0x3038 && cp <= 0x303b) ||
	    (cp >= 0x3400 && cp <= 0x4dbf) ||		/* extension A */
	    (cp >= 0x4e00 && cp <= 0x9fff) ||		/* unified */
	    (cp >= 0xf900 && cp <= 0xfaff) ||		/* compatibility */
	    (cp >= 0x16fe0 && cp <= 0x18aff) ||	/* Tangut etc. */
	    (cp >= 0x1b170 && cp <= 0x1b2ff) ||	/* Nushu */
	    (cp >= 0x20000 && cp <= 0x3134f);		/* extensions B–G */
}

/* Scripts written without spaces between words: matched as substrings. */
static bool
cp_is_nospace(uint32_t cp)
{
	if (cp < 0x0e00)
		return false;
	return cp_is_han(cp) ||
	    (cp >= 0x0e00 && cp <= 0x0eff) ||		/* Thai, Lao */
	    (cp >= 0x1000 && cp <= 0x109f) ||		/* Myanmar */
	    (cp >= 0x1100 && cp <= 0x11ff) ||		/* Hangul jamo */
	    (cp >= 0x1780 && cp <= 0x17ff) ||		/* Khmer */
	    (cp >= 0x1950 && cp <= 0x19ff) ||		/* Tai Le, New Tai Lue,
							 * Khmer symbols */
	    (cp >= 0x1a20 && cp <= 0x1aaf) ||		/* Tai Tham */
	    (cp >= 0x3040 && cp <= 0x30ff) ||		/* kana */
	    (cp >= 0x3100 && cp <= 0x318f) ||		/* Bopomofo, jamo */
	    (cp >= 0x31a0 && cp <= 0x31bf) ||		/* Bopomofo ext. */
	    (cp >= 0x31f0 && cp <= 0x31ff) ||		/* kana ext. */
	    (cp >= 0xa000 && cp <= 0xa4cf) ||		/* Yi */
	    (cp >= 0xa960 && cp <= 0xa97f) ||		/* jamo ext. A */
	    (cp >= 0xa9e0 && cp <= 0xa9ff) ||		/* Myanmar ext. B */
	    (cp >= 0xaa60 && cp <= 0xaadf) ||		/* Myanmar, Tai Viet */
	    (cp >= 0xac00 && cp <= 0xd7ff) ||		/* Hangul */
	    (cp >= 0xff66 && cp <= 0xffdc) ||		/* half-width kana,
							 * jamo */
	    (cp >= 0x1aff0 && cp <= 0x1b16f);		/* kana supplements */
}

/* Characters strip_format removes: format and default-ignorable. */
static bool
cp_is_format(uint32_t cp, const utf8proc_property_t *pr)
{
	return pr->category == UTF8PROC_CATEGORY_CF || pr->ignorable ||
	    (cp >= 0xfe00 && cp <= 0xfe0f) ||		/* variation sel. */
	    (cp >= 0xe0100 && cp <= 0xe01ef) ||
	    cp == 0x034f || cp == 0x180e || cp == 0x00ad;
}

/* Kind of a code point as it stands, after any mapping. */
static int
cp_kind(const struct norm_opts *opts, uint32_t cp)
{
	const utf8proc_property_t *pr = utf8proc_get_property((int32_t)cp);

	if (cp_is_format(cp, pr))
		return opts->strip_format ? K_IGN : K_SEP;
	switch (pr->category) {
	case UTF8PROC_CATEGORY_LU:
	case UTF8PROC_CATEGORY_LL:
	case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM:
	case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL:
	case UTF8PROC_CATEGORY_NO:
		return cp_is_nospace(cp) ? K_CJK : K_WORD;
	case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC:
		return K_MARK;
	default:	/* Me, P*, S*, Z*, Cc, Cs, Co, Cn */
		return K_SEP;
	}
}

/* Modern conjoining jamo, the ones that compose into syllables U+AC00… */
static inline bool
jamo_is_l(uint32_t cp)
{
	return cp >= 0x1100 && cp < 0x1100 + 19;
}

static inline bool
jamo_is_v(uint32_t cp)
{
	return cp >= 0x1161 && cp < 0x1161 + 21;
}

static inline bool
jamo_is_t(uint32_t cp)
{
	return cp > 0x11a7 && cp < 0x11a7 + 28;
}

/* A syllable without a trailing consonant (가, not 각). */
static inline bool
hangul_is_lv(uint32_t cp)
{
	return cp >= 0xac00 && cp <= 0xd7a3 && (cp - 0xac00) % 28 == 0;
}

/*
 * Folds runs of conjoining jamo L V [T] back into Hangul syllables, so that
 * compatibility forms (㈜ → (주)) agree with the precomposed syllables we
 * keep.  Returns the new length.
 */
static size_t
hangul_compose(uint32_t *v, size_t n)
{
	size_t	i, j;

	for (i = j = 0; i < n; i++) {
		if (i + 1 < n && jamo_is_l(v[i]) && jamo_is_v(v[i + 1])) {
			uint32_t s = 0xac00 +
			    ((v[i] - 0x1100) * 21 + (v[i + 1] - 0x1161)) * 28;

			i++;
			if (i + 1 < n && jamo_is_t(v[i + 1]))
				s += v[++i] - 0x11a7;
			v[j++] = s;
		} else
			v[j++] = v[i];
	}
	return j;
}

/* Maps one code point to its folded sequence; returns its length. */
static size_t
map_cp(const struct build *b, uint32_t cp, uint32_t *out)
{
	utf8proc_option_t	 o = UTF8PROC_DECOMPOSE;
	utf8proc_ssize_t	 r;
	size_t			 i, n;

	if (cp >= 0xac00 && cp <= 0xd7a3) {	/* keep syllables whole */
		out[0] = cp;
		return 1;
	}
	if (b->opts->nfkc)
		o |= UTF8PROC_COMPAT;
	if (b->opts->casefold)
		o |= UTF8PROC_CASEFOLD;
	r = utf8proc_decompose_char((int32_t)cp, (int32_t *)out, MAXMAP, o,
	    NULL);
	if (r < 1 || r > MAXMAP) {
		out[0] = cp;
		return 1;
	}
	n = (size_t)r;
	if (b->t2s != NULL) {
		for (i = 0; i < n; i++) {
			if (out[i] < NCP && b->t2s[out[i]] != 0)
				out[i] = b->t2s[out[i]];
		}
	}
	return hangul_compose(out, n);
}

static size_t
pool_add(struct build *b, const uint32_t *v, size_t n)
{
	size_t	at = b->npool;

	b->pool = xgrow(b->pool, &b->poolcap, b->npool + n + 1,
	    sizeof *b->pool);
	b->pool[b->npool++] = (uint32_t)n;
	memcpy(b->pool + b->npool, v, n * sizeof *v);
	b->npool += n;
	return at;
}

/* Computes the table entry of one code point. */
static uint32_t
entry_of(struct build *b, uint32_t cp)
{
	const utf8proc_property_t *pr = utf8proc_get_property((int32_t)cp);
	uint32_t	 m[MAXMAP], v[MAXMAP];
	size_t		 n, nv, i;
	int		 k, prev, allsep;

	if (cp_is_format(cp, pr))
		return b->opts->strip_format ? E(K_IGN, 0) : E(K_SEP, 0);
	if (pr->category == UTF8PROC_CATEGORY_CS)
		return E(K_BAD, 0);
	if (pr->category == UTF8PROC_CATEGORY_CN ||
	    pr->category == UTF8PROC_CATEGORY_CO)
		return E(K_SEP, 0);
	if (pr->category == UTF8PROC_CATEGORY_ME)
		return E(K_SEP, 0);

	n = map_cp(b, cp, m);

	/*
	 * Classify each output by itself (ⓕ → f is a word character, ㈱ →
	 * "(株)" is separator, ideograph, separator).  A mark after a
	 * separator inside the mapping is a separator too (´ → " " U+0301).
	 */
	nv = 0;
	prev = 0;
	allsep = 1;
	for (i = 0; i < n; i++) {
		k = cp_kind(b->opts, m[i]);
		if (k == K_IGN)
			continue;
		if (k == K_MARK && prev != 0)
			k = prev;
		if (k != K_SEP)
			allsep = 0;
		v[nv++] = E(k, m[i]);
		prev = k;
	}
	if (nv == 0)
		return E(K_IGN, 0);
	if (allsep) {
		if (nv == 1)
			return E(K_SEP, E_VAL(v[0]) ^ cp);
		return E(K_SEPX, pool_add(b, v, nv));
	}
	if (nv == 1) {
		k = (int)E_KIND(v[0]);
		if (k == K_CJK && jamo_is_v(E_VAL(v[0])))
			k = K_JAMO_V;
		else if (k == K_CJK && jamo_is_t(E_VAL(v[0])))
			k = K_JAMO_T;
		return E(k, E_VAL(v[0]) ^ cp);
	}
	return E(K_EXP, pool_add(b, v, nv));
}


#define UTF8_BAD	0xffffffffu

/*
 * Decodes the multi-byte sequence at u[*ip] (lead byte >= 0x80), strictly:
 * no overlongs, no surrogates, nothing above U+10FFFF, nothing cut short
 * by len.  Returns the code point and advances *ip, or returns UTF8_BAD.
 */
static inline __attribute__((always_inline)) uint32_t
utf8_dec(const uint8_t *u, size_t len, size_t *ip)
{
	const uint8_t	*p = u + *ip;
	size_t		 left = len - *ip;
	uint32_t	 c = p[0], lo = 0x80, hi = 0xbf;

	if (c < 0xc2)			/* continuation, or overlong C0/C1 */
		return UTF8_BAD;
	if (c < 0xe0) {
		if (left < 2 || (p[1] & 0xc0) != 0x80)
			return UTF8_BAD;
		*ip += 2;
		return (c & 0x1f) << 6 | (p[1] & 0x3f);
	}
	if (c < 0xf0) {
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
		if (left < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return UTF8_BAD;
		*ip += 3;
		return (c & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
		    (p[2] & 0x3f);
	}
	if (c < 0xf5) {
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
		if (left < 4 || p[1] < lo || p[1] > hi ||
		    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
			return UTF8_BAD;
		*ip += 4;
		return (c & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
		    (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
	}
	return UTF8_BAD;
}

bool
utf8_valid(const char *s, size_t len)
{
	const uint8_t	*u = (const uint8_t *)s;
	uint64_t	 w;
	size_t		 i = 0, k;

	while (i < len) {
		if (len - i >= 8) {
			memcpy(&w, u + i, 8);
			if ((w & 0x8080808080808080ull) == 0) {
				i += 8;
				continue;
			}
		}
		if (u[i] < 0x80)
			i++;
		else if ((k = utf8_seq_len(u + i, len - i)) == 0)
			return false;
		else
			i += k;
	}
	return true;
}

/* Records OpenCC's answer for cp if it is exactly one other code point. */
static void
t2s_set(struct build *b, uint32_t cp, const char *s, size_t len)
{
	const uint8_t	*u = (const uint8_t *)s;
	size_t		 i = 0;
	uint32_t	 to;

	if (len == 0 || len > 4 || u[0] < 0x80 ||
	    (to = utf8_dec(u, len, &i)) == UTF8_BAD || i != len || to == cp)
		return;
	b->t2s[cp] = to;
}

/*
 * Fills b->t2s from OpenCC.  Every assigned Han code point goes into one
 * string, one per line, through a single opencc_convert_utf8(); a line that
 * comes back as exactly one other code point is a mapping (one character
 * that becomes several keeps its form).  Should the line count not match,
 * each character is converted on its own.
 */
static int
build_t2s(struct build *b, char *errstr, size_t errstr_size)
{
	opencc_t	 cc;
	uint32_t	*cps, cp;
	size_t		 ncps = 0, len = 0, nlines, i, k;
	char		*in, *res, *line, *nl, one[8];
	const char	*err;

	cc = opencc_open(T2S_CONFIG);
	if (cc == (opencc_t)-1) {
		err = opencc_error();
		snprintf(errstr, errstr_size, "OpenCC %s: %s", T2S_CONFIG,
		    err != NULL && *err != '\0' ? err : "cannot open");
		return -1;
	}
	cps = xmalloc(NCP / 4 * sizeof *cps);
	in = xmalloc(NCP / 4 * 5 + 1);
	for (cp = 0x2e80; cp <= 0x3134f; cp++) {
		if (!cp_is_han(cp) ||
		    utf8proc_category((int32_t)cp) == UTF8PROC_CATEGORY_CN)
			continue;
		cps[ncps++] = cp;
		len += (size_t)utf8proc_encode_char((int32_t)cp,
		    (uint8_t *)in + len);
		in[len++] = '\n';
	}
	in[len] = '\0';

	if ((res = opencc_convert_utf8(cc, in, len)) == NULL) {
		err = opencc_error();
		snprintf(errstr, errstr_size, "OpenCC %s: %s", T2S_CONFIG,
		    err != NULL && *err != '\0' ? err : "conversion failed");
		free(in);
		free(cps);
		opencc_close(cc);
		return -1;
	}
	nlines = 0;
	for (nl = res; (nl = strchr(nl, '\n')) != NULL; nl++)
		nlines++;
	if (nlines == ncps) {
		for (i = 0, line = res; i < ncps; i++, line = nl + 1) {
			nl = strchr(line, '\n');
			t2s_set(b, cps[i], line, (size_t)(nl - line));
		}
	} else {
		for (i = 0; i < ncps; i++) {
			k = (size_t)utf8proc_encode_char((int32_t)cps[i],
			    (uint8_t *)one);
			opencc_convert_utf8_free(res);
			if ((res = opencc_convert_utf8(cc, one, k)) != NULL)
				t2s_set(b, cps[i], res, strlen(res));
		}
	}
	opencc_convert_utf8_free(res);

	/* Follow chains (薴 → 苧 → 苎) so that folding is idempotent. */
	for (i = 0; i < ncps; i++) {
		cp = cps[i];
		for (k = 0; k < 8 && b->t2s[cp] != 0; k++) {
			if (b->t2s[b->t2s[cp]] == 0 ||
			    b->t2s[b->t2s[cp]] == cp)
				break;
			b->t2s[cp] = b->t2s[b->t2s[cp]];
		}
	}
	free(in);
	free(cps);
	opencc_close(cc);
	return 0;
}

/* Cuts the flat table into pages of 256 entries and shares equal pages. */
static void
build_pages(struct normalizer *n, const uint32_t *flat)
{
	const size_t	 pbytes = 256 * sizeof *flat, nslot = 2 * 8192;
	uint32_t	*slot, *pages, *stage1;
	const uint32_t	*src;
	uint64_t	 h;
	size_t		 pg, i, j, np = 0;

	slot = xcalloc(nslot, sizeof *slot);
	stage1 = xmalloc(NPAGE * sizeof *stage1);
	pages = xmalloc(NPAGE * pbytes);
	for (pg = 0; pg < NPAGE; pg++) {
		src = flat + pg * 256;
		h = 0xcbf29ce484222325ull;
		for (i = 0; i < 256; i++)
			h = (h ^ src[i]) * 0x100000001b3ull;
		for (j = h & (nslot - 1); slot[j] != 0;
		    j = (j + 1) & (nslot - 1)) {
			if (memcmp(pages + (size_t)(slot[j] - 1) * 256, src,
			    pbytes) == 0)
				break;
		}
		if (slot[j] == 0) {
			memcpy(pages + np * 256, src, pbytes);
			slot[j] = (uint32_t)++np;
		}
		stage1[pg] = slot[j] - 1;
	}
	n->npages = np;
	n->tab = xmalloc(NPAGE * sizeof *n->tab + np * pbytes);
	for (pg = 0; pg < NPAGE; pg++)
		n->tab[pg] = (uint32_t)(NPAGE + (stage1[pg] - pg) * 256);
	memcpy(n->tab + NPAGE, pages, np * pbytes);
	free(pages);
	free(stage1);
	free(slot);
}

struct normalizer *
norm_new(const struct norm_opts *opts, char *errstr, size_t errstr_size)
{
	struct normalizer	*n;
	struct build		 b;
	uint32_t		 cp;
	char			 dummy[1];

	if (errstr == NULL || errstr_size == 0) {
		errstr = dummy;
		errstr_size = sizeof dummy;
	}
	n = xcalloc(1, sizeof *n);
	n->opts = *opts;
	memset(&b, 0, sizeof b);
	b.opts = &n->opts;
	if (opts->t2s) {
		b.t2s = xcalloc(NCP, sizeof *b.t2s);
		if (build_t2s(&b, errstr, errstr_size) == -1) {
			free(b.t2s);
			free(n);
			return NULL;
		}
	}
	b.flat = xmalloc(NCP * sizeof *b.flat);
	for (cp = 0; cp < NCP; cp++)
		b.flat[cp] = entry_of(&b, cp);
	build_pages(n, b.flat);
	n->pool = b.pool;
	n->npool = b.npool;
	free(b.flat);
	free(b.t2s);
	return n;
}

void
norm_free(struct normalizer *n)
{
	if (n == NULL)
		return;
	free(n->tab);
	free(n->pool);
	free(n);
}

const struct norm_opts *
norm_options(const struct normalizer *n)
{
	return &n->opts;
}

/*
 * Writes one struct norm_char; on little-endian machines as two 64-bit
 * stores rather than six field stores, which the hot loop feels.
 */
static inline __attribute__((always_inline)) void
put_char(struct norm_char *o, uint32_t cp, uint32_t start, uint32_t end,
    uint32_t gap, uint32_t cls)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t	w[2];

	_Static_assert(sizeof *o == 16 &&
	    offsetof(struct norm_char, src_start) == 4 &&
	    offsetof(struct norm_char, src_end) == 8 &&
	    offsetof(struct norm_char, gap) == 12 &&
	    offsetof(struct norm_char, cls) == 13, "struct norm_char layout");
	w[0] = cp | (uint64_t)start << 32;
	w[1] = end | (uint64_t)gap << 32 | (uint64_t)cls << 40;
	memcpy(o, w, sizeof w);
#else
	o->cp = cp;
	o->src_start = start;
	o->src_end = end;
	o->gap = (uint8_t)gap;
	o->cls = (uint8_t)cls;
	o->pad = 0;
#endif
}

/* What the slow path hands back to the loop. */
struct norm_state {
	struct norm_char	*o;
	uint32_t		 gap;
};

/*
 * The character just emitted, if nothing came between it and the current
 * input code point but removed characters (full: separators are emitted,
 * so the last one is adjacent; otherwise a separator leaves a gap).
 */
static inline struct norm_char *
norm_adjacent(struct norm_state st, const struct norm_char *o0, int full)
{
	if (st.o == o0 || (!full && st.gap != 0))
		return NULL;
	return st.o - 1;
}

/* Appends one output of kind k (not K_IGN or K_SEPX). */
static inline struct norm_state
norm_put(struct norm_state st, const struct norm_char *o0, uint32_t c,
    uint32_t k, uint32_t start, uint32_t end, int full)
{
	struct norm_char	*prev;

	if (k == K_MARK) {
		/*
		 * Ideographs take no combining marks: one on a Han character
		 * is decoration (地́沟油), dropped into the span of its base.
		 * A separator in a Han block (a radical, an unassigned code
		 * point) is not one: the mark after it is a separator too.
		 */
		prev = norm_adjacent(st, o0, full);
		if (prev != NULL && prev->cls == NC_CJK &&
		    cp_is_han(prev->cp)) {
			prev->src_end = end;
			return st;
		}
		if (full)
			k = st.o > o0 ? st.o[-1].cls : NC_SEP;
		else
			k = st.gap == 0 ? st.o[-1].cls : NC_SEP;
	}
	if (k == K_SEP && !full) {
		st.gap += st.gap < 255;
		return st;
	}
	put_char(st.o++, c, start, end, st.gap, k);
	st.gap = 0;
	return st;
}

/*
 * Conjoining jamo compose as NFC composes them: a vowel right after a
 * leading consonant makes an LV syllable (ᄀ + ᅡ = 가), a trailing
 * consonant right after an LV syllable, composed or precomposed, makes an
 * LVT syllable (가 + ᆨ = 각).  The syllable spans all of its jamo.  Jamo
 * that do not compose are emitted as they are.
 */
static struct norm_state
norm_jamo(struct norm_state st, const struct norm_char *o0, uint32_t c,
    uint32_t k, uint32_t start, uint32_t end, int full)
{
	struct norm_char	*prev = norm_adjacent(st, o0, full);

	if (prev != NULL && k == K_JAMO_V && jamo_is_l(prev->cp)) {
		prev->cp = 0xac00 + ((prev->cp - 0x1100) * 21 +
		    (c - 0x1161)) * 28;
		prev->src_end = end;
		return st;
	}
	if (prev != NULL && k == K_JAMO_T && hangul_is_lv(prev->cp)) {
		prev->cp += c - 0x11a7;
		prev->src_end = end;
		return st;
	}
	return norm_put(st, o0, c, K_CJK, start, end, full);
}

/*
 * Marks, removed characters, expansions: rare, so out of the loop.  An
 * expansion checks for room: it may emit more characters than it has bytes.
 */
static struct norm_state
norm_slow(const struct normalizer *n, struct norm_buf *out,
    struct norm_state st, uint32_t e, uint32_t cp, uint32_t start,
    uint32_t end, size_t left, int full)
{
	const uint32_t	*pe;
	uint32_t	 k = E_KIND(e), cnt, i;
	size_t		 used, need;

	switch (k) {
	case K_BAD:
		st.o = NULL;
		return st;
	case K_IGN:
		return st;
	case K_MARK:
		return norm_put(st, out->v, E_VAL(e) ^ cp, K_MARK, start, end,
		    full);
	case K_SEPX:
		if (!full)
			return norm_put(st, out->v, 0, K_SEP, start, end, 0);
		break;
	case K_JAMO_V:
	case K_JAMO_T:
		return norm_jamo(st, out->v, E_VAL(e) ^ cp, k, start, end,
		    full);
	}
	pe = n->pool + E_VAL(e);
	cnt = *pe++;
	used = (size_t)(st.o - out->v);
	need = used + cnt + left + OUT_SLACK;
	if (need > out->cap) {
		out->v = xgrow(out->v, &out->cap, need, sizeof *out->v);
		st.o = out->v + used;
	}
	for (i = 0; i < cnt; i++) {
		k = E_KIND(pe[i]);
		st = norm_put(st, out->v, E_VAL(pe[i]), k, start, end, full);
	}
	return st;
}

/*
 * The loop behind norm_text() (full 0) and norm_text_full() (full 1),
 * inlined into each so that full is a constant.  Words, ideographs and
 * separators go through without a branch on their kind: the slot is
 * written every time and kept or not.  Room: on entry the buffer holds
 * len + OUT_SLACK characters and these emit at most one character per input
 * byte, so only norm_slow() (expansions) has to check.
 */
static inline __attribute__((always_inline)) int
norm_run(const struct normalizer *n, const char *s, size_t len,
    struct norm_buf *out, const int full)
{
	const uint8_t		*u = (const uint8_t *)s;
	const uint32_t		*tab = n->tab, *page0 = n->tab + NPAGE;
	struct norm_state	 st;
	struct norm_char	*o;
	size_t			 i = 0, start, lim;
	uint32_t		 cp, e, k, keep, w, gap = full ? 0 : 1;

	out->n = 0;
	if (len > UINT32_MAX - 4)
		return -1;
	if (out->cap < len + OUT_SLACK)
		out->v = xgrow(out->v, &out->cap, len + OUT_SLACK,
		    sizeof *out->v);
	o = out->v;
	lim = len > 3 ? len - 3 : 0;	/* 4 bytes readable below lim */
	while (i < len) {
		start = i;
		if (u[i] < 0x80) {
			cp = u[i++];
			e = page0[cp];
		} else {
			w = 0;
			if (i < lim) {
				memcpy(&w, u + i, 4);
				w = le32toh(w);
			}
			if ((w & 0xc0c0f0) == 0x8080e0) {
				/*
				 * Most of the text: 3 bytes, checked at once;
				 * surrogates have kind K_BAD in the table.
				 */
				cp = (w & 0x0f) << 12 | (w >> 2 & 0xfc0) |
				    (w >> 16 & 0x3f);
				if (__builtin_expect(cp < 0x800, 0))
					return -1;	/* overlong */
				i += 3;
			} else if ((cp = utf8_dec(u, len, &i)) == UTF8_BAD)
				return -1;
			e = tab[tab[cp >> 8] + cp];
		}
		k = E_KIND(e);
		if (__builtin_expect(k > K_SEP, 0)) {
			st.o = o;
			st.gap = gap;
			st = norm_slow(n, out, st, e, cp, (uint32_t)start,
			    (uint32_t)i, len - i, full);
			if ((o = st.o) == NULL)
				return -1;
			gap = st.gap;
			continue;
		}
		put_char(o, E_VAL(e) ^ cp, (uint32_t)start, (uint32_t)i,
		    full ? 0 : gap, k);
		if (full)
			o++;
		else {
			keep = k != K_SEP;
			o += keep;
			gap = (gap + (gap < 255)) & (keep - 1);
		}
	}
	out->n = (size_t)(o - out->v);
	return 0;
}

int
norm_text(const struct normalizer *n, const char *s, size_t len,
    struct norm_buf *out)
{
	return norm_run(n, s, len, out, 0);
}

int
norm_text_full(const struct normalizer *n, const char *s, size_t len,
    struct norm_buf *out)
{
	return norm_run(n, s, len, out, 1);
}

/*
 * offs, when asked for, also gets a sentinel: (*offs)[*dst_len] is buf->n,
 * so a match ending at the end of the text maps back without a special
 * case.  The output holds U+0000 where the text did (norm_text_full()).
 */
void
norm_utf8(const struct norm_buf *buf, char **dst, size_t *dst_len,
    size_t *dst_cap, uint32_t **offs, size_t *offs_cap)
{
	uint8_t		*d;
	uint32_t	*of = NULL, c;
	size_t		 i, len = 0, need = buf->n * 4 + 1;

	*dst = xgrow(*dst, dst_cap, need, 1);
	d = (uint8_t *)*dst;
	if (offs != NULL) {
		*offs = xgrow(*offs, offs_cap, need, sizeof **offs);
		of = *offs;
	}
	for (i = 0; i < buf->n; i++) {
		c = buf->v[i].cp;
		if (c < 0x80) {
			if (of != NULL)
				of[len] = (uint32_t)i;
			d[len++] = (uint8_t)c;
			continue;
		}
		if (of != NULL) {
			of[len] = of[len + 1] = of[len + 2] = (uint32_t)i;
			if (c >= 0x10000)
				of[len + 3] = (uint32_t)i;
		}
		if (c < 0x800) {
			d[len++] = (uint8_t)(0xc0 | c >> 6);
		} else if (c < 0x10000) {
			d[len++] = (uint8_t)(0xe0 | c >> 12);
			d[len++] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		} else {
			d[len++] = (uint8_t)(0xf0 | c >> 18);
			d[len++] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
			d[len++] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		}
		d[len++] = (uint8_t)(0x80 | (c & 0x3f));
	}
	d[len] = '\0';
	if (of != NULL)
		of[len] = (uint32_t)buf->n;
	*dst_len = len;
}

void
norm_buf_free(struct norm_buf *buf)
{
	if (buf == NULL)
		return;
	free(buf->v);
	buf->v = NULL;
	buf->n = buf->cap = 0;
}
