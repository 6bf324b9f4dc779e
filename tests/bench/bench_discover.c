/*
 * bench_discover.c — what discovery costs per post: segmentation, then
 * the counting of a flush (disc_add: one instance feeding the scorer).
 *
 * Reads JSON lines with a "text" field (`gapcorpus posts`: Weibo
 * hot-search titles, then COLD comments), gives them times a second
 * apart, and times each variant over all of them in this one run (best of
 * 3 passes, taken in turn), overall and over the long posts (200 bytes or
 * more):
 *   all-terms   the segmenter with no term limit (256)
 *   first-32    max_terms 32: segmentation stops at the terms discovery
 *               counts, and copies of a recent text are not segmented
 *               again (the daemon's and backtest's setting)
 * Prints "bench-discover variant=… posts=… us_per_post=… seg_us=…
 * long_posts=… long_us_per_post=… same_terms=…" (same_terms: posts whose
 * first 32 terms equal all-terms's).  Single thread.
 *
 * usage: bench_discover POSTS.jsonl FRISO_DICT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "discover.h"
#include "normalize.h"
#include "segment.h"
#include "xmalloc.h"

#define LONG_BYTES	200

struct texts {
	char	**v;
	size_t	 n, cap;
};

static void
texts_load(struct texts *t, const char *path)
{
	char line[1 << 16];
	cJSON *j, *x;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if ((j = cJSON_Parse(line)) == NULL)
			continue;
		x = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (cJSON_IsString(x)) {
			t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof *t->v);
			t->v[t->n++] = xstrdup(x->valuestring);
		}
		cJSON_Delete(j);
	}
	fclose(f);
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
on_story(void *arg, const struct disc_story *s)
{
	(void)s;
	(*(size_t *)arg)++;
}

/* One pass; the times of segmenting and of all, overall and long. */
static void
pass(const struct texts *t, struct seg_ctx *sc, double *seg, double *all,
    double *long_all)
{
	struct disc_opts o;
	struct discover *d;
	struct seg_result r;
	struct disc_post p;
	char err[256];
	size_t i, stories = 0;
	double a, b, c;

	disc_opts_default(&o);
	if ((d = disc_new(&o, on_story, &stories, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench_discover: %s\n", err);
		exit(1);
	}
	*seg = *all = *long_all = 0;
	for (i = 0; i < t->n; i++) {
		a = now_us();
		(void)seg_text(sc, t->v[i], strlen(t->v[i]), &r);
		b = now_us();
		memset(&p, 0, sizeof p);
		p.time_ms = 1700000000000LL + (int64_t)i * 1000;
		p.terms = &r;
		p.text = t->v[i];
		p.text_len = strlen(t->v[i]);
		disc_add(d, &p);
		c = now_us();
		*seg += b - a;
		*all += c - a;
		if (p.text_len >= LONG_BYTES)
			*long_all += c - a;
	}
	disc_finish(d);
	disc_free(d);
}

/* Whether the first 32 terms of each text agree between two contexts. */
static size_t
same_terms(const struct texts *t, struct seg_ctx *x, struct seg_ctx *y)
{
	struct seg_result a, b;
	size_t i, k, n, same = 0;

	for (i = 0; i < t->n; i++) {
		(void)seg_text(x, t->v[i], strlen(t->v[i]), &a);
		(void)seg_text(y, t->v[i], strlen(t->v[i]), &b);
		/* one context may be both: a's terms are then b's */
		n = a.n < DISC_TERMS_PER_POST ? a.n : DISC_TERMS_PER_POST;
		if ((b.n < DISC_TERMS_PER_POST ? b.n : DISC_TERMS_PER_POST) !=
		    n)
			continue;
		for (k = 0; k < n && a.v[k].hash == b.v[k].hash; k++)
			;
		same += k == n;
	}
	return same;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		size_t		 max_terms;
	} variants[] = { { "all-terms", 0 }, { "first-32", 32 } };
	struct texts t = { NULL, 0, 0 };
	struct norm_opts no;
	struct normalizer *norm;
	struct seg_opts so;
	struct segmenter *seg[2];
	struct seg_ctx *sc[2];
	char err[256];
	size_t i, v, nlong = 0;
	double s, a, l, bs_[2], ba_[2], bl_[2];

	if (argc != 3) {
		fprintf(stderr, "usage: bench_discover POSTS.jsonl "
		    "FRISO_DICT\n");
		return 2;
	}
	texts_load(&t, argv[1]);
	for (i = 0; i < t.n; i++)
		nlong += strlen(t.v[i]) >= LONG_BYTES;
	norm_opts_default(&no);
	if ((norm = norm_new(&no, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench_discover: %s\n", err);
		return 1;
	}
	for (v = 0; v < 2; v++) {
		memset(&so, 0, sizeof so);
		so.dictionary = argv[2];
		so.max_terms = variants[v].max_terms;
		if ((seg[v] = seg_new(&so, norm, err, sizeof err)) == NULL) {
			fprintf(stderr, "bench_discover: %s\n", err);
			return 1;
		}
		sc[v] = seg_ctx_new(seg[v]);
	}
	/* passes alternate between the variants, so that a load on the
	 * machine weighs on both alike */
	for (v = 0; v < 2; v++)
		bs_[v] = ba_[v] = bl_[v] = 1e300;
	for (i = 0; i < 3; i++) {
		for (v = 0; v < 2; v++) {
			pass(&t, sc[v], &s, &a, &l);
			if (a < ba_[v]) {
				bs_[v] = s;
				ba_[v] = a;
				bl_[v] = l;
			}
		}
	}
	for (v = 0; v < 2; v++)
		printf("bench-discover variant=%s posts=%zu us_per_post=%.1f "
		    "seg_us=%.1f long_posts=%zu long_us_per_post=%.1f "
		    "same_terms=%zu\n", variants[v].name, t.n,
		    ba_[v] / (double)t.n, bs_[v] / (double)t.n, nlong,
		    nlong ? bl_[v] / (double)nlong : 0,
		    same_terms(&t, sc[0], sc[v]));
	for (v = 0; v < 2; v++) {
		seg_ctx_free(sc[v]);
		seg_free(seg[v]);
	}
	norm_free(norm);
	for (i = 0; i < t.n; i++)
		free(t.v[i]);
	free(t.v);
	return 0;
}
