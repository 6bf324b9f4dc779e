/*
 * variants.c — traditional spellings of literal keywords through OpenCC's
 * phrase tables, computed when a rule set is compiled.
 *
 * DESIGN.  Posts are folded one character at a time (normalize.c), so a
 * character that traditional text writes differently only inside some
 * phrases (了 in 一目瞭然, 抵 in 牴觸, 背 in 揹包) keeps its traditional form
 * in the post and the simplified keyword misses it.  Converting posts by
 * phrases would cost time on every post and go wrong where a phrase spans
 * two words (OpenCC's t2s turns 皇傢俱樂部 into 皇家具乐部 and loses 俱乐部).
 * Keywords are converted instead, once per compile: every literal keyword
 * goes through OpenCC s2tw and s2hk (s2t adds nothing these two miss; s2twp
 * adds only Taiwanese vocabulary, 兼容 → 相容, which is translation, not
 * spelling), and a result that folds to something other than the keyword
 * is another literal of the same keyword (matcher_build.c).
 *
 * Which results count.  A result is kept only when, at some position, the
 * keyword's folded character c became a character t that everyday
 * simplified text does not use (outside GB 2312), so the variant cannot
 * turn up in simplified text by accident.  家具 → 傢俱 folds to 家俱 (俱 is
 * common: 俱乐部) and simplified text holds 家俱 in 皇家俱乐部, so it is
 * not kept; nor are 坐标 → 座标 or 反复 → 反覆.  The pairs (c, t) that can
 * qualify are few, and fixed by OpenCC's data: variant_pairs[]
 * (variants_table.h) lists every one that OpenCC 1.1's s2tw and s2hk
 * dictionaries produce (every dictionary key converted, folded and
 * compared character by character; tests/eval/variant-pairs.sh
 * regenerates the tables).  The keys that produce them, 189, are the
 * prefilter: OpenCC changes a character only through a key that covers
 * it, so a keyword holding none of these keys cannot have a variant and is
 * not converted.  Of a million keywords, only the few thousand holding one
 * go through OpenCC (each distinct text once, all texts in one call per
 * configuration, one per line: no phrase spans a line break), and at a
 * reload only those the previous compile did not convert (OpenCC's answers
 * are kept until the next compile).
 *
 * One thread builds a struct variants (the compile's); it is read-only
 * afterwards and owns copies of everything it returns.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opencc.h>

#include "normalize.h"
#include "rules.h"
#include "strmap.h"
#include "variants.h"
#include "xmalloc.h"

/*
 * OpenCC configurations.  Both apply s2t's phrases, then Hong Kong's or
 * Taiwan's character forms; a variant pair says which one it needs (both
 * give the phrase pairs, s2hk is asked for those).
 */
static const char *const variant_configs[] = { "s2hk.json", "s2tw.json" };
#define NCONFIGS	(sizeof variant_configs / sizeof variant_configs[0])
#define VIA_HK		1u	/* bit of variant_configs[0] */
#define VIA_TW		2u	/* bit of variant_configs[1] */

/*
 * Opening a configuration loads its dictionaries (some 30 ms each), so the
 * handles are opened on first use and kept for the life of the process;
 * the lock makes one compile at a time use them.
 */
static pthread_mutex_t	 cc_lock = PTHREAD_MUTEX_INITIALIZER;
static opencc_t		 cc_handles[NCONFIGS];

/*
 * OpenCC's answers for the candidate texts of the last compile, so that a
 * reload of much the same rules sends only its new texts through OpenCC.
 * Each compile with candidates takes the answers it needs and replaces
 * the rest with its own; under cc_lock.
 */
static struct {
	struct strmap	  map;		/* text → index */
	char		**text;		/* owned copies: the map's keys */
	char		**conv;		/* [i * NCONFIGS + c], or NULL */
	size_t		  n;
} cc_cache;

#include "variants_table.h"

#define NPAIRS	(sizeof variant_pairs / sizeof variant_pairs[0])

/* A keyword that has variants: texts[first .. first + n). */
struct kwvar {
	uint32_t	topic;
	uint32_t	kw;
	uint32_t	first;
	uint32_t	n;
};

struct variants {
	struct kwvar		*kws;		/* by (topic, kw) */
	size_t			 nkws;
	char			**texts;
	size_t			 ntexts;
	struct variants_stats	 st;
};

/* Compile-time state: the distinct candidate texts and who uses them. */
struct cand {
	uint32_t	topic;
	uint32_t	kw;
	uint32_t	u;		/* index in build.utext */
};

struct vbuild {
	const char	**utext;	/* borrowed from the rule set */
	uint8_t		*uvia;		/* configurations each text needs */
	uint8_t		*uneed;		/* those not answered by the cache */
	char		**conv;		/* [u * NCONFIGS + c]: OpenCC's output */
	uint32_t	*ufirst;	/* first variant in variants.texts */
	uint32_t	*un;
	size_t		 nu, ucap;
	struct cand	*cands;
	size_t		 ncands, candcap;
	struct strmap	 seen;
};

static const struct variant_pair *
pair_lookup_from(uint32_t cp)
{
	size_t lo = 0, hi = NPAIRS, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (variant_pairs[mid].from < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < NPAIRS && variant_pairs[lo].from == cp ?
	    &variant_pairs[lo] : NULL;
}

#define NTRIGGERS	(sizeof variant_triggers / sizeof variant_triggers[0])

/* The code point of the well-formed k-byte sequence at u (k >= 2). */
static uint32_t
utf8_cp(const unsigned char *u, size_t k)
{
	uint32_t cp = u[0] & (0x7f >> k);
	size_t i;

	for (i = 1; i < k; i++)
		cp = cp << 6 | (u[i] & 0x3f);
	return cp;
}

/*
 * A filter in front of the trigger search for the scan of every keyword:
 * bit (cp & 255) is set for each trigger's anchor.
 */
struct trigger_filter {
	uint64_t	bits[4];
};

static void
trigger_filter_init(struct trigger_filter *f)
{
	size_t i;

	memset(f, 0, sizeof *f);
	for (i = 0; i < NTRIGGERS; i++)
		f->bits[(variant_triggers[i].anchor >> 6) & 3] |=
		    UINT64_C(1) << (variant_triggers[i].anchor & 63);
}

/* The first trigger whose anchor is not below cp. */
static size_t
trigger_lower_bound(uint32_t cp)
{
	size_t lo = 0, hi = NTRIGGERS, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (variant_triggers[mid].anchor < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The configurations a text must go through: those of the triggers it
 * holds (0: it cannot have a variant).  A trigger is looked for only
 * around its anchor, where the text has that character.
 */
static unsigned
text_variant_via(const struct trigger_filter *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	const struct variant_trigger *g;
	size_t n = strlen(s), i = 0, k, t;
	unsigned via = 0;
	uint32_t cp;

	while (i < n) {
		if (u[i] < 0xe0 || (k = utf8_seq_len(u + i, n - i)) == 0) {
			i++;	/* anchors are ideographs: 3 or 4 bytes */
			continue;
		}
		cp = utf8_cp(u + i, k);
		if ((f->bits[(cp >> 6) & 3] >> (cp & 63) & 1) != 0)
			for (t = trigger_lower_bound(cp); t < NTRIGGERS &&
			    variant_triggers[t].anchor == cp; t++) {
				g = &variant_triggers[t];
				if (g->off <= i && strncmp(s + i - g->off,
				    g->key, strlen(g->key)) == 0)
					via |= g->via;
			}
		i += k;
	}
	return via;
}

/* Every literal keyword that may vary, each distinct text once. */
static void
collect_candidates(const struct ruleset *rs, struct vbuild *b)
{
	const struct rule_topic *t;
	const struct rule_kw *kw;
	struct trigger_filter f;
	size_t ti, ki, u;
	unsigned via;

	trigger_filter_init(&f);
	for (ti = 0; ti < rs->ntopics; ti++) {
		t = &rs->topics[ti];
		for (ki = 0; ki < t->nkws; ki++) {
			kw = &t->kws[ki];
			if (kw->is_regex ||
			    (via = text_variant_via(&f, kw->text)) == 0)
				continue;
			if ((u = strmap_get(&b->seen, kw->text)) == STRMAP_NONE) {
				u = b->nu++;
				b->utext = xgrow(b->utext, &b->ucap, b->nu,
				    sizeof *b->utext);
				b->uvia = xrealloc(b->uvia, b->ucap);
				b->utext[u] = kw->text;
				b->uvia[u] = (uint8_t)via;
				strmap_put(&b->seen, kw->text, u);
			}
			b->cands = xgrow(b->cands, &b->candcap, b->ncands + 1,
			    sizeof *b->cands);
			b->cands[b->ncands].topic = (uint32_t)ti;
			b->cands[b->ncands].kw = (uint32_t)ki;
			b->cands[b->ncands].u = (uint32_t)u;
			b->ncands++;
		}
	}
}

static void
opencc_errorf(char *errstr, size_t errstr_size, const char *config,
    const char *what)
{
	const char *err = opencc_error();

	snprintf(errstr, errstr_size, "OpenCC %s: %s", config,
	    err != NULL && *err != '\0' ? err : what);
}

/* Converts one text alone into b->conv[u * NCONFIGS + c]. */
static int
convert_one(opencc_t cc, struct vbuild *b, size_t u, size_t c)
{
	char *r = opencc_convert_utf8(cc, b->utext[u], strlen(b->utext[u]));

	if (r == NULL)
		return -1;
	b->conv[u * NCONFIGS + c] = xstrdup(r);
	opencc_convert_utf8_free(r);
	return 0;
}

/*
 * Converts the candidate texts that need configuration c: one call over
 * all of them, one per line (a text holding a line break goes alone).
 * Should the output not have as many lines, each is converted on its own.
 */
static int
convert_all(opencc_t cc, struct vbuild *b, size_t c)
{
	char *in = NULL, *res, *line, *nl;
	size_t cap = 0, len = 0, nlines = 0, u, k;

	for (u = 0; u < b->nu; u++) {
		if (!(b->uneed[u] & (1u << c)) ||
		    strchr(b->utext[u], '\n') != NULL)
			continue;
		k = strlen(b->utext[u]);
		in = xgrow(in, &cap, len + k + 2, 1);
		memcpy(in + len, b->utext[u], k);
		len += k;
		in[len++] = '\n';
		nlines++;
	}
	res = len > 0 ? opencc_convert_utf8(cc, in, len) : NULL;
	free(in);
	if (len > 0 && res == NULL)
		return -1;
	for (k = 0, nl = res; nl != NULL && (nl = strchr(nl, '\n')) != NULL;
	    nl++)
		k++;
	line = res;
	for (u = 0; u < b->nu; u++) {
		if (!(b->uneed[u] & (1u << c)))
			continue;
		if (k != nlines || strchr(b->utext[u], '\n') != NULL) {
			if (convert_one(cc, b, u, c) == -1) {
				opencc_convert_utf8_free(res);
				return -1;
			}
			continue;
		}
		nl = strchr(line, '\n');
		*nl = '\0';
		b->conv[u * NCONFIGS + c] = xstrdup(line);
		line = nl + 1;
	}
	if (res != NULL)
		opencc_convert_utf8_free(res);
	return 0;
}

/*
 * Is the fold of a conversion (v, n characters) a variant of the keyword's
 * fold (k, nk)?  Same length, and a variant pair at some position.
 */
static bool
fold_is_variant(const struct norm_char *k, size_t nk,
    const struct norm_char *v, size_t n)
{
	const struct variant_pair *p;
	size_t i;

	if (n != nk)
		return false;
	for (i = 0; i < n; i++)
		if (k[i].cp != v[i].cp &&
		    (p = pair_lookup_from(k[i].cp)) != NULL && p->to == v[i].cp)
			return true;
	return false;
}

static bool
fold_equal(const struct norm_buf *a, const struct norm_buf *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->v[i].cp != b->v[i].cp || (i > 0 &&
		    a->v[i].gap != b->v[i].gap))
			return false;
	return true;
}

/*
 * The variants of each candidate text u: its conversions whose fold is a
 * variant, each fold once, appended to v->texts.
 */
static void
keep_variants(const struct normalizer *norm, struct vbuild *b,
    struct variants *v)
{
	struct norm_buf nk, nv[NCONFIGS];
	size_t u, c, d, cap = 0;
	const char *s;

	memset(&nk, 0, sizeof nk);
	memset(nv, 0, sizeof nv);
	for (u = 0; u < b->nu; u++) {
		b->ufirst[u] = (uint32_t)v->ntexts;
		if (norm_text(norm, b->utext[u], strlen(b->utext[u]), &nk) == -1)
			continue;
		for (c = 0; c < NCONFIGS; c++) {
			s = b->conv[u * NCONFIGS + c];
			nv[c].n = 0;
			if (s == NULL || strcmp(s, b->utext[u]) == 0 ||
			    norm_text(norm, s, strlen(s), &nv[c]) == -1 ||
			    !fold_is_variant(nk.v, nk.n, nv[c].v, nv[c].n))
				continue;
			for (d = 0; d < c; d++)
				if (nv[d].n > 0 && fold_equal(&nv[d], &nv[c]))
					break;
			if (d < c) {
				nv[c].n = 0;
				continue;
			}
			v->texts = xgrow(v->texts, &cap, v->ntexts + 1,
			    sizeof *v->texts);
			v->texts[v->ntexts++] = xstrdup(s);
		}
		b->un[u] = (uint32_t)(v->ntexts - b->ufirst[u]);
	}
	norm_buf_free(&nk);
	for (c = 0; c < NCONFIGS; c++)
		norm_buf_free(&nv[c]);
}

/* The keywords whose text has variants, in (topic, keyword) order. */
static void
index_keywords(const struct vbuild *b, struct variants *v)
{
	size_t i, cap = 0;
	const struct cand *c;

	for (i = 0; i < b->ncands; i++) {
		c = &b->cands[i];
		if (b->un[c->u] == 0)
			continue;
		v->kws = xgrow(v->kws, &cap, v->nkws + 1, sizeof *v->kws);
		v->kws[v->nkws].topic = c->topic;
		v->kws[v->nkws].kw = c->kw;
		v->kws[v->nkws].first = b->ufirst[c->u];
		v->kws[v->nkws].n = b->un[c->u];
		v->nkws++;
		v->st.variants += b->un[c->u];
	}
	v->st.keywords = v->nkws;
}

/*
 * Takes the cached answers for b's texts (b->conv), clears their bits in
 * b->uneed, and returns how many texts still need OpenCC.  Under cc_lock.
 */
static size_t
cache_take(struct vbuild *b)
{
	size_t u, c, i, n = 0;
	char **slot;

	for (u = 0; u < b->nu; u++) {
		b->uneed[u] = b->uvia[u];
		i = strmap_get(&cc_cache.map, b->utext[u]);
		for (c = 0; c < NCONFIGS && i != STRMAP_NONE; c++) {
			slot = &cc_cache.conv[i * NCONFIGS + c];
			if ((b->uneed[u] & (1u << c)) && *slot != NULL) {
				b->conv[u * NCONFIGS + c] = *slot;
				*slot = NULL;
				b->uneed[u] &= (uint8_t)~(1u << c);
			}
		}
		if (b->uneed[u] != 0)
			n++;
	}
	return n;
}

/* The cache now holds b's texts and answers (b->conv moves there). */
static void
cache_replace(struct vbuild *b)
{
	size_t i;

	for (i = 0; i < cc_cache.n * NCONFIGS; i++)
		free(cc_cache.conv[i]);
	for (i = 0; i < cc_cache.n; i++)
		free(cc_cache.text[i]);
	free(cc_cache.conv);
	free(cc_cache.text);
	strmap_clear(&cc_cache.map);
	cc_cache.n = b->nu;
	cc_cache.text = xcalloc(b->nu, sizeof *cc_cache.text);
	for (i = 0; i < b->nu; i++) {
		cc_cache.text[i] = xstrdup(b->utext[i]);
		strmap_put(&cc_cache.map, cc_cache.text[i], i);
	}
	cc_cache.conv = b->conv;
	b->conv = NULL;
}

static void
vbuild_free(struct vbuild *b)
{
	size_t i;

	if (b->conv != NULL)
		for (i = 0; i < b->nu * NCONFIGS; i++)
			free(b->conv[i]);
	free(b->conv);
	free(b->utext);
	free(b->uvia);
	free(b->uneed);
	free(b->ufirst);
	free(b->un);
	free(b->cands);
	strmap_free(&b->seen);
}

struct variants *
variants_build(const struct ruleset *rs, const struct normalizer *norm,
    char *errstr, size_t errstr_size)
{
	struct variants *v = xcalloc(1, sizeof *v);
	struct vbuild b;
	opencc_t cc;
	size_t c;

	memset(&b, 0, sizeof b);
	if (!norm_options(norm)->t2s)
		return v;
	collect_candidates(rs, &b);
	v->st.candidates = b.ncands;
	if (b.nu == 0) {
		vbuild_free(&b);
		return v;
	}
	b.conv = xcalloc(b.nu * NCONFIGS, sizeof *b.conv);
	b.uneed = xcalloc(b.nu, sizeof *b.uneed);
	b.ufirst = xcalloc(b.nu, sizeof *b.ufirst);
	b.un = xcalloc(b.nu, sizeof *b.un);
	pthread_mutex_lock(&cc_lock);
	v->st.converted = cache_take(&b);
	for (c = 0; c < NCONFIGS; c++) {
		if (cc_handles[c] == NULL &&
		    (cc = opencc_open(variant_configs[c])) != (opencc_t)-1)
			cc_handles[c] = cc;
		if (cc_handles[c] == NULL) {
			opencc_errorf(errstr, errstr_size, variant_configs[c],
			    "cannot open");
			break;
		}
		if (convert_all(cc_handles[c], &b, c) == -1) {
			opencc_errorf(errstr, errstr_size, variant_configs[c],
			    "conversion failed");
			break;
		}
	}
	if (c == NCONFIGS) {
		keep_variants(norm, &b, v);
		index_keywords(&b, v);
		cache_replace(&b);
	}
	pthread_mutex_unlock(&cc_lock);
	if (c < NCONFIGS)
		goto fail;
	vbuild_free(&b);
	return v;

fail:
	vbuild_free(&b);
	variants_free(v);
	return NULL;
}

size_t
variants_of(const struct variants *v, size_t ti, size_t ki,
    const char *const **texts)
{
	size_t lo = 0, hi, mid;
	const struct kwvar *k;

	if (v == NULL)
		return 0;
	hi = v->nkws;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		k = &v->kws[mid];
		if (k->topic < ti || (k->topic == ti && k->kw < ki))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->nkws || v->kws[lo].topic != ti || v->kws[lo].kw != ki)
		return 0;
	*texts = (const char *const *)v->texts + v->kws[lo].first;
	return v->kws[lo].n;
}

size_t
variants_at(const struct variants *v, size_t i, size_t *ti, size_t *ki,
    const char *const **texts)
{
	if (v == NULL || i >= v->nkws)
		return 0;
	*ti = v->kws[i].topic;
	*ki = v->kws[i].kw;
	*texts = (const char *const *)v->texts + v->kws[i].first;
	return v->kws[i].n;
}

void
variants_get_stats(const struct variants *v, struct variants_stats *st)
{
	if (v == NULL)
		memset(st, 0, sizeof *st);
	else
		*st = v->st;
}

void
variants_free(struct variants *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->ntexts; i++)
		free(v->texts[i]);
	free(v->texts);
	free(v->kws);
	free(v);
}
