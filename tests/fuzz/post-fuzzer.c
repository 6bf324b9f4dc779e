/*
 * post-fuzzer.c — libFuzzer harness for decode + normalise + match.
 *
 * Each input is one Kafka message.  It is decoded as JSON with a field
 * mapping (id, text, time, and the fields the rules read: platform, lang,
 * region ← user.region); input that is not JSON is decoded once more as a
 * plain-text message.  A decoded post is matched against a fixed rule set
 * (literals, regexes including a catastrophic one, all/none/where, a named
 * list), compiled once in LLVMFuzzerInitialize() from the YAML below.
 * Checked on every input: a message decoded as JSON holds no control byte
 * in a string, none but tab, LF and CR outside one, and no number with a
 * leading zero (JSON forbids them; cJSON alone would take them); the
 * decoded text is valid UTF-8; norm_text() and
 * norm_text_full() agree with each other and with utf8_valid(), their spans
 * lie on UTF-8 boundaries inside the text; every hit is inside the text, on
 * UTF-8 boundaries, of a positive keyword of a matched topic; a matched
 * topic has what its match block needs; matching twice gives the same
 * result.  A regex cut off by PCRE2's limits is a reported result, not a
 * failure.  The raw bytes are also cut into discovery's terms
 * (segment.c): none for invalid UTF-8, else each term valid UTF-8 of 1 to
 * SEG_MAX_TERM bytes, hashed as seg_hash() hashes it, once, with its sigil
 * when a hashtag or mention; and the terms go into a small discovery
 * engine (discover.c), whose memory must not move.  Nothing is read or
 * written but memory.  Built by `make fuzz`.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "decoder.h"
#include "../post_same.h"
#include "diag.h"
#include "discover.h"
#include "matcher.h"
#include "normalize.h"
#include "rules.h"
#include "segment.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void init_discovery(void);

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static const char rules_yaml[] =
    "lists:\n"
    "  cities: [北京, 上海, 广州, 深圳, 台北, 香港]\n"
    "topics:\n"
    "  - id: food-safety\n"
    "    name: 食品安全\n"
    "    tags: [food]\n"
    "    match:\n"
    "      any: [食物中毒, 地沟油, 过期食品, 瘦肉精, food poisoning,\n"
    "            '/毒(奶粉|大米|豇豆)/', '/(吃|喝)出(虫子|苍蝇|异物)/',\n"
    "            '/(吃|喝|食用|误食)[^,.!?;。]{0,6}中毒/']\n"
    "      none: [演练, 演习, 电影, 电视剧, 一目了然]\n"
    "    count_by: [platform, region]\n"
    "    alert: {window: 5m, baseline: 1h, min_count: 20, ratio: 3}\n"
    "  - id: city-flooding\n"
    "    match:\n"
    "      all: [$cities, [暴雨, 内涝, 积水, flood]]\n"
    "      none: [预报, '/演(练|习)/']\n"
    "    alert: {window: 10m, threshold: 50}\n"
    "  - id: backtrack\n"
    "    match:\n"
    "      any: ['/(a+)+$/', '/(x|xx)+y/', '/(\\w+\\s?)*!$/']\n"
    "    alert: {window: 1m, threshold: 5}\n"
    "  - id: platform-only\n"
    "    match:\n"
    "      where: {platform: [weibo, douyin]}\n"
    "    alert: {window: 1m, threshold: 1000}\n"
    "  - id: complaints-zh\n"
    "    match:\n"
    "      any: [投诉, 态度恶劣, 抵触, complaint]\n"
    "      where: {lang: '/^zh(-|$)/', platform: [weibo, douyin, kuaishou]}\n"
    "    alert: {window: 10m, baseline: {period: 1d, lookback: 7}, ratio: 2.5}\n"
    "  - id: latin-words\n"
    "    match:\n"
    "      any: [cat, '110', café, notice, e. coli, 'f.o.o.d']\n"
    "      all: [[recall, 召回], [car, 汽车, '/\\bsuv\\b/i']]\n"
    "      none: ['/^rt\\b/m']\n"
    "    alert: {window: 1m, threshold: 10}\n"
    "  - id: quake\n"
    "    match:\n"
    "      any: ['/\\d+(\\.\\d)?级地震/', '/^breaking\\b.*quake/ims',\n"
    "            '/ q u a k e /x', 地震, 余震]\n"
    "      none: [演练]\n"
    "    alert: {window: 1m, threshold: 10, severity: critical}\n";

static struct normalizer *norm;		/* default options */
static struct normalizer *norm_raw;	/* every step off but max_gap 16 */
static struct matcher *matcher;
static struct match_ctx *ctx;
static struct decoder *dec_json, *dec_full, *dec_text;
static struct norm_buf nb, nbf;
static struct segmenter *seg;
static struct seg_ctx *sctx;
static struct discover *disc;
static size_t disc_bytes;
static int64_t disc_ms = 1700000000000;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct kv map[] = { { (char *)"region", (char *)"user.region" } };
	struct decoder_opts o;
	struct norm_opts no;
	struct ruleset *rs;
	struct diag errs;
	const char **names, **paths;
	size_t nfields, i;
	char err[256];

	(void)argc;
	(void)argv;
	norm_opts_default(&no);
	if ((norm = norm_new(&no, err, sizeof err)) == NULL) {
		fprintf(stderr, "post-fuzzer: normaliser: %s\n", err);
		abort();
	}
	no.nfkc = no.casefold = no.t2s = no.strip_format = false;
	no.max_gap = 16;
	if ((norm_raw = norm_new(&no, err, sizeof err)) == NULL) {
		fprintf(stderr, "post-fuzzer: normaliser: %s\n", err);
		abort();
	}
	diag_init(&errs);
	if (rules_load_string("post-fuzzer.yaml", rules_yaml,
	    sizeof rules_yaml - 1, &rs, &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		abort();
	}
	diag_free(&errs);
	if ((matcher = match_compile(rs, norm, NULL, err, sizeof err)) == NULL) {
		fprintf(stderr, "post-fuzzer: matcher: %s\n", err);
		abort();
	}
	rules_unref(rs);
	ctx = match_ctx_new(matcher);
	init_discovery();

	decoder_rule_fields(match_ruleset(matcher), map, 1, &names, &paths,
	    &nfields);
	memset(&o, 0, sizeof o);
	o.format = DEC_FORMAT_JSON;
	o.id_field = "id";
	o.text_field = "text";
	o.time_field = "time";
	o.fields = names;
	o.field_paths = paths;
	o.nfields = nfields;
	o.max_bytes = 6000;		/* below -max_len: too_large is reached */
	o.max_depth = 0;		/* the default, 64 */
	dec_json = decoder_new(&o);
	o.full_parse = 1;
	dec_full = decoder_new(&o);
	o.full_parse = 0;
	o.format = DEC_FORMAT_TEXT;
	dec_text = decoder_new(&o);
	free(names);
	free(paths);
	return 0;
}

/*
 * A character's span is one code point plus whatever joined it: a
 * combining mark or a character that folds to marks (dropped on an
 * ideograph), a conjoining jamo that composed into a syllable, or a
 * character removed without a trace.
 * Checks each code point of s[a..b) after the first is one of those.
 */
static void
check_span_tail(const struct normalizer *n, const char *s, size_t a,
    size_t b)
{
	static struct norm_buf one;
	const utf8proc_property_t *pr;
	utf8proc_int32_t cp;
	utf8proc_ssize_t l;
	size_t off, k;
	int first = 1;

	for (off = a; off < b; off += (size_t)l, first = 0) {
		l = utf8proc_iterate((const utf8proc_uint8_t *)s + off,
		    (utf8proc_ssize_t)(b - off), &cp);
		CHECK(l > 0 && l <= 4);
		if (first)
			continue;
		pr = utf8proc_get_property(cp);
		if (pr->category == UTF8PROC_CATEGORY_MN ||
		    pr->category == UTF8PROC_CATEGORY_MC)
			continue;
		/* alone, it folds to nothing, to marks (ﾟ → U+309A) or to
		 * a conjoining jamo (ㅏ → U+1161) */
		CHECK(norm_text_full(n, s + off, (size_t)l, &one) == 0);
		for (k = 0; k < one.n; k++) {
			pr = utf8proc_get_property((utf8proc_int32_t)
			    one.v[k].cp);
			CHECK(pr->category == UTF8PROC_CATEGORY_MN ||
			    pr->category == UTF8PROC_CATEGORY_MC ||
			    (one.v[k].cp >= 0x1160 && one.v[k].cp <= 0x11ff));
		}
	}
}

/* True when offset off of s[0..len) starts a code point (or is len). */
static bool
on_boundary(const char *s, size_t len, size_t off)
{
	return off == len || (off < len && ((uint8_t)s[off] & 0xc0) != 0x80);
}

static void
on_story(void *arg, const struct disc_story *st)
{
	(void)arg;
	CHECK(st->nterms > 0 && st->nsamples <= DISC_SAMPLES);
	CHECK(st->seen <= st->posts && st->texts <= st->seen);
}

static void
init_discovery(void)
{
	struct seg_opts so;
	struct disc_opts dopts;
	char err[256];

	memset(&so, 0, sizeof so);
	so.dictionary = "/usr/share/friso/dict/UTF-8";
	so.mentions = true;
	if ((seg = seg_new(&so, norm, err, sizeof err)) == NULL) {
		fprintf(stderr, "post-fuzzer: segmenter: %s\n", err);
		abort();
	}
	sctx = seg_ctx_new(seg);
	disc_opts_default(&dopts);
	dopts.memory = 1 << 20;
	dopts.candidates = 16;
	dopts.flush_keys = dopts.flush_top = 64;
	dopts.bucket_ms = 60000;
	dopts.half_life_ms = 600000;
	dopts.min_posts = 1;
	dopts.threshold = 1;
	if ((disc = disc_new(&dopts, on_story, NULL, err, sizeof err)) ==
	    NULL) {
		fprintf(stderr, "post-fuzzer: discovery: %s\n", err);
		abort();
	}
	disc_bytes = disc_memory(disc);
}

/* Discovery's terms of the raw bytes, and the engine fed with them. */
static void
check_terms(const char *s, size_t len)
{
	struct seg_result r;
	struct disc_post dp;
	size_t i, j;
	int rc = seg_text(sctx, s, len, &r);

	CHECK((rc == 0) == utf8_valid(s, len));
	if (rc != 0) {
		CHECK(r.n == 0);
		return;
	}
	for (i = 0; i < r.n; i++) {
		const struct seg_term *t = &r.v[i];

		CHECK(t->len >= 1 && t->len <= SEG_MAX_TERM);
		CHECK(utf8_valid(r.str + t->off, t->len));
		CHECK(t->hash == seg_hash(r.str + t->off, t->len));
		CHECK(t->kind <= SEG_MENTION);
		CHECK(t->kind == SEG_WORD ||
		    r.str[t->off] == (t->kind == SEG_HASHTAG ? '#' : '@'));
		for (j = 0; j < i; j++)
			CHECK(r.v[j].hash != t->hash);
	}
	memset(&dp, 0, sizeof dp);
	disc_ms += 7000;
	dp.time_ms = disc_ms;
	dp.terms = &r;
	dp.text = s;
	dp.text_len = len;
	dp.author = len > 0 ? s : NULL;
	dp.author_len = len > 3 ? 3 : len;
	disc_add(disc, &dp);
	CHECK(disc_memory(disc) == disc_bytes);
}

static void
check_norm(const struct normalizer *n, const char *s, size_t len)
{
	static char *u8;
	static uint32_t *offs;
	static size_t u8cap, offscap;
	const struct norm_char *c, *prev = NULL;
	bool valid = utf8_valid(s, len);
	size_t i, j, k, nsep, u8len;
	int rc, rcf;

	rc = norm_text(n, s, len, &nb);
	rcf = norm_text_full(n, s, len, &nbf);
	CHECK(rc == rcf);
	CHECK((rc == 0) == valid);
	if (rc != 0) {
		CHECK(nb.n == 0 && nbf.n == 0);
		return;
	}
	/* The full form: every span inside the text, in order, on boundaries. */
	for (i = 0; i < nbf.n; i++) {
		c = &nbf.v[i];
		CHECK(c->src_start < c->src_end && c->src_end <= len);
		CHECK(on_boundary(s, len, c->src_start));
		CHECK(on_boundary(s, len, c->src_end));
		check_span_tail(n, s, c->src_start, c->src_end);
		CHECK(c->cls == NC_WORD || c->cls == NC_CJK || c->cls == NC_SEP);
		CHECK(c->gap == 0);
		CHECK(c->cp < 0x110000 && (c->cp < 0xd800 || c->cp > 0xdfff));
		if (prev != NULL)	/* one code point may expand to several */
			CHECK(c->src_start >= prev->src_end ||
			    (c->src_start == prev->src_start &&
			    c->src_end == prev->src_end));
		prev = c;
	}
	/* norm_text() is the full form without its separators. */
	for (i = 0, j = 0; i < nb.n; i++, j++) {
		c = &nb.v[i];
		CHECK(c->cls == NC_WORD || c->cls == NC_CJK);
		for (nsep = 0; j < nbf.n && nbf.v[j].cls == NC_SEP; j++)
			nsep++;
		CHECK(j < nbf.n);
		CHECK(c->cp == nbf.v[j].cp && c->cls == nbf.v[j].cls);
		CHECK(c->src_start == nbf.v[j].src_start &&
		    c->src_end == nbf.v[j].src_end);
		if (i == 0)
			CHECK(c->gap >= 1);
		else if (nsep == 0)
			CHECK(c->gap == 0);
		else
			CHECK(c->gap >= 1 && c->gap <= nsep);
	}
	for (; j < nbf.n; j++)
		CHECK(nbf.v[j].cls == NC_SEP);

	/* Its UTF-8 is valid and maps back to the characters in order. */
	norm_utf8(&nbf, &u8, &u8len, &u8cap, &offs, &offscap);
	CHECK(utf8_valid(u8, u8len));
	CHECK(offs[u8len] == nbf.n);
	for (k = 0; k < u8len; k++)
		CHECK(offs[k] < nbf.n && (k == 0 || offs[k] >= offs[k - 1]));
}

static void
check_result(const struct post *p, const struct match_result *res)
{
	const struct ruleset *rs = match_ruleset(matcher);
	const struct rule_topic *t;
	const struct match_topic *mt;
	const struct match_hit *h;
	const char *v;
	size_t i, j, k, vlen;
	uint64_t groups;
	bool any;

	for (i = 0; i < res->ntopics; i++) {
		mt = &res->topics[i];
		CHECK(mt->topic < rs->ntopics);
		CHECK(i == 0 || mt->topic > res->topics[i - 1].topic);
		t = &rs->topics[mt->topic];
		groups = 0;
		any = false;
		for (j = 0; j < mt->nkws; j++) {
			CHECK(mt->kws[j] < t->nkws);
			CHECK(j == 0 || mt->kws[j] > mt->kws[j - 1]);
			CHECK(t->kws[mt->kws[j]].role != KW_NONE);
			if (t->kws[mt->kws[j]].role == KW_ANY)
				any = true;
			else
				groups |= UINT64_C(1) << t->kws[mt->kws[j]].group;
			/* a keyword listed has a hit */
			for (k = 0; k < res->nhits; k++)
				if (res->hits[k].topic == mt->topic &&
				    res->hits[k].kw == mt->kws[j])
					break;
			CHECK(k < res->nhits);
		}
		if (t->has_any)
			CHECK(any);
		CHECK(t->nall <= 64);
		if (t->nall > 0)
			CHECK(groups == (t->nall == 64 ? UINT64_MAX :
			    (UINT64_C(1) << t->nall) - 1));
		for (j = 0; j < t->nwhere; j++) {
			v = post_field(p, t->where[j].field, &vlen);
			CHECK(v != NULL);
			if (t->where[j].re != NULL)
				continue;
			for (k = 0; k < t->where[j].nvalues; k++)
				if (strlen(t->where[j].values[k]) == vlen &&
				    memcmp(t->where[j].values[k], v, vlen) == 0)
					break;
			CHECK(k < t->where[j].nvalues);
		}
	}
	for (i = 0; i < res->nhits; i++) {
		h = &res->hits[i];
		CHECK(h->start < h->end && h->end <= p->text_len);
		CHECK(on_boundary(p->text, p->text_len, h->start));
		CHECK(on_boundary(p->text, p->text_len, h->end));
		CHECK(h->topic < rs->ntopics && h->kw < rs->topics[h->topic].nkws);
		CHECK(rs->topics[h->topic].kws[h->kw].role != KW_NONE);
		for (k = 0; k < res->ntopics; k++)
			if (res->topics[k].topic == h->topic)
				break;
		CHECK(k < res->ntopics);
	}
	for (i = 0; i < res->nerrors; i++) {
		CHECK(res->errors[i].topic < rs->ntopics);
		CHECK(res->errors[i].kw == UINT32_MAX ||
		    res->errors[i].kw < rs->topics[res->errors[i].topic].nkws);
		CHECK(res->errors[i].pcre2_rc < 0);
	}
}

/* A copy of what a result says, to compare a second run with. */
struct snapshot {
	size_t			 ntopics, nhits, nerrors;
	uint32_t		 topics[64];
	struct match_hit	 hits[64];
};

static void
snap(struct snapshot *s, const struct match_result *res)
{
	size_t i;

	s->ntopics = res->ntopics;
	s->nhits = res->nhits;
	s->nerrors = res->nerrors;
	for (i = 0; i < res->ntopics && i < 64; i++)
		s->topics[i] = res->topics[i].topic;
	for (i = 0; i < res->nhits && i < 64; i++)
		s->hits[i] = res->hits[i];
}

static void
match_one(const struct post *p)
{
	struct match_result res;
	struct snapshot a, b;

	CHECK(p->text != NULL && utf8_valid(p->text, p->text_len));
	CHECK(memchr(p->text, '\0', p->text_len) == NULL);
	check_norm(norm, p->text, p->text_len);
	check_norm(norm_raw, p->text, p->text_len);

	CHECK(match_post(ctx, p, &res) == 0);
	check_result(p, &res);
	snap(&a, &res);
	CHECK(match_post(ctx, p, &res) == 0);
	snap(&b, &res);
	/* Regex cut-offs may differ between runs only if a limit is hit. */
	if (a.nerrors == 0 && b.nerrors == 0) {
		CHECK(a.ntopics == b.ntopics && a.nhits == b.nhits);
		CHECK(memcmp(a.topics, b.topics, (a.ntopics < 64 ? a.ntopics :
		    64) * sizeof a.topics[0]) == 0);
		CHECK(memcmp(a.hits, b.hits, (a.nhits < 64 ? a.nhits : 64) *
		    sizeof a.hits[0]) == 0);
	}
}

/* What the decoder refuses although cJSON parses it: a control byte in
 * a string or (but tab, LF, CR) outside, an integer part such as 0123.
 * Read here without the decoder's code. */
static bool
strict_json(const char *buf, size_t size)
{
	static const char numchars[] = "0123456789.eE+-";
	const unsigned char *s = (const unsigned char *)buf;
	bool in_str = false;
	size_t i, k;

	for (i = 0; i < size; i++) {
		unsigned char c = s[i];

		if (in_str) {
			if (c < 0x20)
				return false;
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return false;
		else if ((c == '-' || (c >= '0' && c <= '9')) && (i == 0 ||
		    memchr(numchars, s[i - 1], sizeof numchars - 1) == NULL)) {
			k = i + (c == '-');
			if (k + 1 < size && s[k] == '0' && s[k + 1] >= '0' &&
			    s[k + 1] <= '9')
				return false;
		}
	}
	return true;
}

/* The fast path must answer exactly as the full cJSON parse: the same
 * result, the same detail, the same members. */
static void
same_as_full_parse(const char *buf, size_t size, enum dec_result r,
    const struct post *p, const char *detail)
{
	struct post q;
	char qdetail[128];
	enum dec_result qr;

	qr = decoder_decode(dec_full, buf, size, &q, qdetail, sizeof qdetail);
	CHECK(qr == r);
	if (r != DEC_OK) {
		CHECK(strcmp(detail, qdetail) == 0);
		return;
	}
	CHECK(post_same(p, &q));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct post p;
	enum dec_result r;
	char detail[128];

	/* The normaliser on the raw bytes, valid UTF-8 or not. */
	check_norm(norm, buf, size);
	check_terms(buf, size);

	r = decoder_decode(dec_json, buf, size, &p, detail, sizeof detail);
	CHECK((unsigned)r < DEC__COUNT);
	same_as_full_parse(buf, size, r, &p, detail);
	if (r == DEC_OK) {
		CHECK(strict_json(buf, size));
		CHECK(p.time_ms >= -1);
		match_one(&p);
		return 0;
	}
	CHECK(strlen(detail) < sizeof detail);
	if (r == DEC_NOT_JSON || r == DEC_NOT_OBJECT) {
		r = decoder_decode(dec_text, buf, size, &p, detail,
		    sizeof detail);
		if (r == DEC_OK) {
			CHECK(p.text_len == size);
			match_one(&p);
		}
	}
	return 0;
}
