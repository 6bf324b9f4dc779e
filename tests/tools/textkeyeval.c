/*
 * textkeyeval.c — how well text keys (daemon/textkey.c) merge copies and
 * keep distinct texts apart, on real text.
 *
 *   textkeyeval [N]  <posts.jsonl
 *
 * Reads JSON lines {"text": …} (tests/tools/gapcorpus.c posts), keeps the
 * texts whose content (what textkey_content() keeps) has at least 4
 * characters, one per distinct content, and takes N of them (default
 * 20000) with a fixed seed.  For each it makes near-duplicates — one
 * character replaced, inserted or deleted (a random ideograph, at a random
 * place), a hashtag added (#…# of the first characters of another title,
 * before or after), a repost (转发微博//@user:, //@user: with a comment of
 * two characters, RT @user:) and a URL appended — and counts a missed
 * merge when a copy's key differs from the original's.  It then draws N × 10
 * pairs of two distinct texts and counts a false merge when their keys are
 * equal.  Last, the distinct keys of all the texts, and of 1,000 of them
 * (in the order of a digest of their content: a random draw), which is
 * what a count of distinct texts would say of them.  Each figure is printed for every (shingle, rows) tried, by
 * length of the content (short: < 20 characters, long: >= 20):
 *   eval-textkey shingle=K rows=R edit=short|long|all missed_merge=X% …
 *   eval-textkey shingle=K rows=R false_merge=X% pairs=N
 * Single-threaded; deterministic for one input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "normalize.h"
#include "textkey.h"
#include "xmalloc.h"

enum edit { E_SUB, E_INS, E_DEL, E_TAG, E_REPOST, E_COMMENT, E_RT, E_URL,
	E__COUNT };
static const char *const edit_names[E__COUNT] = { "replace", "insert",
	"delete", "hashtag", "repost", "repost_comment", "rt", "url" };

struct text {
	char	*s;
	size_t	 len;
	size_t	 nchars;	/* of content */
};

static uint64_t rng = UINT64_C(0x853c49e6748fea9b);

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct normalizer *norm;
static struct norm_buf nb;
static struct textkey_scratch sc;

static uint64_t
key_of(const struct textkey_params *p, const char *s, size_t len)
{
	if (norm_text(norm, s, len, &nb) == -1)
		return 0;
	return textkey_of(p, s, len, &nb, &sc);
}

/* Byte offsets of the code points of s (n + 1 of them, the last = len). */
static size_t
cp_offsets(const char *s, size_t len, size_t *offs, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		offs[n++] = i;
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
	}
	offs[n] = i;
	return n;
}

static void
put_cp(char *out, size_t *o, uint32_t cp)
{
	out[(*o)++] = (char)(0xe0 | cp >> 12);
	out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[(*o)++] = (char)(0x80 | (cp & 0x3f));
}

/* A near-duplicate of t made by edit e, in out (NUL-terminated). */
static size_t
make_copy(const struct text *t, const struct text *other, enum edit e,
    char *out)
{
	static size_t offs[4097];
	size_t n = cp_offsets(t->s, t->len, offs, 4096), at, o = 0, on;
	uint32_t cp = 0x4e00 + (uint32_t)(rnd() % 20900);

	at = n > 0 ? (size_t)(rnd() % n) : 0;
	switch (e) {
	case E_SUB:
	case E_INS:
	case E_DEL:
		memcpy(out, t->s, offs[at]);
		o = offs[at];
		if (e != E_DEL)
			put_cp(out, &o, cp);
		at += e == E_INS ? 0 : 1;
		memcpy(out + o, t->s + offs[at], t->len - offs[at]);
		o += t->len - offs[at];
		break;
	case E_TAG:
		on = cp_offsets(other->s, other->len, offs, 6);
		if (rnd() & 1) {
			o = (size_t)sprintf(out, "#%.*s#", (int)offs[on], other->s);
			memcpy(out + o, t->s, t->len);
			o += t->len;
		} else
			o = (size_t)sprintf(out, "%.*s #%.*s#", (int)t->len, t->s,
			    (int)offs[on], other->s);
		break;
	case E_REPOST:
		o = (size_t)sprintf(out, "转发微博//@用户%u:%.*s",
		    (unsigned)(rnd() % 100000), (int)t->len, t->s);
		break;
	case E_COMMENT:
		o = (size_t)sprintf(out, "顶！//@user_%u: %.*s",
		    (unsigned)(rnd() % 100000), (int)t->len, t->s);
		break;
	case E_RT:
		o = (size_t)sprintf(out, "RT @user%u: %.*s",
		    (unsigned)(rnd() % 100000), (int)t->len, t->s);
		break;
	case E_URL:
		o = (size_t)sprintf(out, "%.*s http://t.cn/A6%06x", (int)t->len,
		    t->s, (unsigned)(rnd() % 0xffffff));
		break;
	default:
		break;
	}
	out[o] = '\0';
	return o;
}

static int
content_cmp(const void *x, const void *y)
{
	const struct text *a = x, *b = y;

	return strcmp(a->s, b->s);
}

/* Reads the texts, keeps those with >= 4 characters of content, one per
 * distinct content string (kept in s for the duplicate check), returns
 * how many. */
static struct text *
read_texts(size_t *np)
{
	struct text *v = NULL;
	size_t n = 0, cap = 0, lcap = 0, i, j;
	char *line = NULL;
	ssize_t ll;
	struct textkey_params p;

	textkey_params_default(&p);
	while ((ll = getline(&line, &lcap, stdin)) > 0) {
		cJSON *j0 = cJSON_Parse(line), *tx = cJSON_GetObjectItem(j0, "text");

		if (cJSON_IsString(tx) && strlen(tx->valuestring) < 2000 &&
		    norm_text(norm, tx->valuestring, strlen(tx->valuestring),
		    &nb) == 0) {
			textkey_content(tx->valuestring,
			    strlen(tx->valuestring), &nb, &sc);
			if (sc.ncps >= 4) {
				v = xgrow(v, &cap, n + 1, sizeof *v);
				v[n].s = xstrdup(tx->valuestring);
				v[n].len = strlen(v[n].s);
				v[n].nchars = sc.ncps;
				n++;
			}
		}
		cJSON_Delete(j0);
	}
	free(line);
	/* one per distinct content: sort by a content digest */
	for (i = 0; i < n; i++) {
		char *d = xmalloc(40);

		norm_text(norm, v[i].s, v[i].len, &nb);
		textkey_content(v[i].s, v[i].len, &nb, &sc);
		snprintf(d, 40, "%016llx%04zx%08zx", (unsigned long long)
		    textkey_hash(sc.cps, sc.ncps * sizeof *sc.cps), sc.ncps, i);
		/* keep the text after the digest */
		d = xrealloc(d, 29 + v[i].len + 1);
		memcpy(d + 28, "\t", 1);
		memcpy(d + 29, v[i].s, v[i].len + 1);
		free(v[i].s);
		v[i].s = d;
	}
	qsort(v, n, sizeof *v, content_cmp);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && memcmp(v[j - 1].s, v[i].s, 20) == 0) {
			free(v[i].s);
			continue;
		}
		v[j++] = v[i];
	}
	for (i = 0; i < j; i++) {
		memmove(v[i].s, v[i].s + 29, v[i].len + 1);
		v[i].len = strlen(v[i].s);
	}
	*np = j;
	return v;
}

static int
u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The distinct keys of all n texts (all distinct): what a count of
 * distinct texts over the whole corpus would say. */
static size_t
distinct_keys(const struct textkey_params *p, const struct text *v, size_t n)
{
	uint64_t *k = xmalloc(n * sizeof *k);
	size_t i, d = 0;

	for (i = 0; i < n; i++)
		k[i] = key_of(p, v[i].s, v[i].len);
	qsort(k, n, sizeof *k, u64_cmp);
	for (i = 0; i < n; i++)
		d += i == 0 || k[i] != k[i - 1];
	free(k);
	return d;
}

static void
eval_params(const struct textkey_params *p, const struct text *v, size_t n,
    size_t take)
{
	static char copy[65536];
	size_t missed[E__COUNT][2] = { { 0 } }, tried[E__COUNT][2] = { { 0 } };
	size_t i, e, pairs = take * 10, same = 0, tm[2] = { 0 }, mm[2] = { 0 };

	rng = UINT64_C(0x853c49e6748fea9b);
	for (i = 0; i < take; i++) {
		const struct text *t = &v[rnd() % n], *o = &v[rnd() % n];
		uint64_t k = key_of(p, t->s, t->len);
		int band = t->nchars >= 20;

		for (e = 0; e < E__COUNT; e++) {
			size_t cl = make_copy(t, o, (enum edit)e, copy);

			tried[e][band]++;
			tm[band]++;
			if (key_of(p, copy, cl) != k) {
				missed[e][band]++;
				mm[band]++;
			}
		}
	}
	for (e = 0; e < E__COUNT; e++)
		printf("eval-textkey shingle=%d rows=%d edit=%s "
		    "missed_merge_short=%.1f%% missed_merge_long=%.1f%%\n",
		    p->shingle, p->rows, edit_names[e],
		    100.0 * (double)missed[e][0] / (double)(tried[e][0] + !tried[e][0]),
		    100.0 * (double)missed[e][1] / (double)(tried[e][1] + !tried[e][1]));
	printf("eval-textkey shingle=%d rows=%d edit=all missed_merge_short=%.1f%% "
	    "missed_merge_long=%.1f%% copies=%zu\n", p->shingle, p->rows,
	    100.0 * (double)mm[0] / (double)(tm[0] + !tm[0]),
	    100.0 * (double)mm[1] / (double)(tm[1] + !tm[1]), tm[0] + tm[1]);
	for (i = 0; i < pairs; i++) {
		size_t a = rnd() % n, b = rnd() % n;

		if (a == b)
			b = (b + 1) % n;
		same += key_of(p, v[a].s, v[a].len) == key_of(p, v[b].s, v[b].len);
	}
	printf("eval-textkey shingle=%d rows=%d false_merge=%.3f%% pairs=%zu\n",
	    p->shingle, p->rows, 100.0 * (double)same / (double)pairs, pairs);
	printf("eval-textkey shingle=%d rows=%d distinct_keys=%zu texts=%zu "
	    "distinct_keys_of_1000=%zu\n", p->shingle, p->rows,
	    distinct_keys(p, v, n), n, distinct_keys(p, v, n < 1000 ? n : 1000));
}

int
main(int argc, char **argv)
{
	static const struct textkey_params tries[] = { { 2, 1 }, { 3, 1 },
		{ 4, 1 }, { 2, 2 }, { 3, 2 }, { 4, 2 } };
	struct textkey_params dflt;
	struct norm_opts o;
	struct text *v;
	size_t n, i, take = argc > 1 ? (size_t)atol(argv[1]) : 20000;
	char err[256];

	norm_opts_default(&o);
	if ((norm = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "textkeyeval: %s\n", err);
		return 1;
	}
	v = read_texts(&n);
	if (n < 2) {
		fprintf(stderr, "textkeyeval: fewer than 2 texts\n");
		return 1;
	}
	textkey_params_default(&dflt);
	printf("eval-textkey texts=%zu default: shingle=%d rows=%d\n", n,
	    dflt.shingle, dflt.rows);
	for (i = 0; i < sizeof tries / sizeof tries[0]; i++)
		eval_params(&tries[i], v, n, take < n ? take : n);
	for (i = 0; i < n; i++)
		free(v[i].s);
	free(v);
	norm_buf_free(&nb);
	textkey_scratch_free(&sc);
	norm_free(norm);
	return 0;
}
