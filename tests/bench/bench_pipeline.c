/*
 * bench_pipeline.c — a consumer thread's CPU per post, without Kafka or
 * Redis.
 *
 * usage: bench_pipeline [-p PASSES] [-f FLUSH_ENTRIES] [-m] POSTS RULES...
 * Loads the rule files (a file or a directory each; caps raised to fit any
 * set) with the daemon's loader and compiles them, reads POSTS (JSON lines
 * with id, text and time) into memory, then runs every post through the
 * daemon's per-post path, pipeline_process() (decode, normalise, match,
 * count into an aggregate with the daemon's defaults), clearing the
 * aggregate whenever it holds FLUSH_ENTRIES entries and samples (default
 * 4096, redis.flush_max_entries) as a flush would, but building nothing for
 * Redis.  PASSES passes (default 3); the median pass, in the calling
 * thread's CPU time, gives one line:
 *
 *   bench-pipeline topics=N keywords=K posts=P topic_hits_per_post=…
 *       posts_per_s=… cpu_us_per_post=… match_us_per_post=…
 *
 * match_us_per_post is a pass of decoding, normalising and matching only
 * (PIPELINE_MATCH), so the difference is counting.  -m runs that pass
 * only (for a profiler); under valgrind --tool=callgrind
 * --instr-atstart=no only the passes are counted.  Linked with the
 * daemon's allocator.  A benchmark, not a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include "pipeline.h"
#include "rules.h"
#include "xmalloc.h"

struct line {
	const char	*s;		/* a copy */
	size_t		 len;
};

/* CPU seconds of the calling thread. */
static double
thread_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The non-empty lines of the file at path, each a copy, or NULL. */
static struct line *
read_lines(const char *path, size_t *np)
{
	FILE *fp = fopen(path, "r");
	struct line *v = NULL;
	char *buf = NULL;
	size_t cap = 0, bufsz = 0, n = 0;
	ssize_t len;

	if (fp == NULL)
		return NULL;
	while ((len = getline(&buf, &bufsz, fp)) != -1) {
		if (len > 0 && buf[len - 1] == '\n')
			len--;
		if (len == 0)
			continue;
		v = xgrow(v, &cap, n + 1, sizeof *v);
		v[n].s = xstrndup(buf, (size_t)len);
		v[n++].len = (size_t)len;
	}
	free(buf);
	fclose(fp);
	*np = n;
	return v;
}

/* One pass over the posts; returns the thread CPU seconds it took and
 * adds the matched topics to *hits. */
static double
run_pass(struct pipeline *pl, struct agg *agg, size_t flush_at,
    const struct line *posts, size_t n, size_t *hits)
{
	struct pipeline_result r;
	double t0 = thread_s();
	size_t i;

	for (i = 0; i < n; i++) {
		if (pipeline_process(pl, posts[i].s, posts[i].len, -1, 0,
		    &r) == PIPELINE_OK)
			*hits += r.match.ntopics;
		if (agg != NULL && agg_size(agg) >= flush_at)
			agg_clear(agg);
	}
	if (agg != NULL)
		agg_clear(agg);
	return thread_s() - t0;
}

/* The median of passes of one mode. */
static double
median_pass(struct pipeline_opts *po, size_t flush_at,
    const struct line *posts, size_t n, int passes, size_t *hits)
{
	char err[512];
	struct pipeline *pl;
	double *t = xcalloc((size_t)passes, sizeof *t), med;
	int i;

	if ((pl = pipeline_new(po, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench-pipeline: %s\n", err);
		exit(1);
	}
	for (i = 0; i < passes; i++) {
		*hits = 0;
		t[i] = run_pass(pl, po->agg, flush_at, posts, n, hits);
	}
	pipeline_free(pl);
	qsort(t, (size_t)passes, sizeof *t, dbl_cmp);
	med = t[passes / 2];
	free(t);
	return med;
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct normalizer *norm;
	struct rules_opts ro;
	struct ruleset *rs;
	struct matcher *m;
	struct pipeline_opts po;
	struct agg *agg;
	struct diag errs;
	struct line *posts;
	char err[512];
	size_t i, n = 0, hits = 0, flush_at = 4096;
	double tm, tc = 0;
	int ch, passes = 3, match_only = 0;

	while ((ch = getopt(argc, argv, "p:f:m")) != -1) {
		switch (ch) {
		case 'p':
			passes = atoi(optarg);
			break;
		case 'f':
			flush_at = (size_t)atol(optarg);
			break;
		case 'm':
			match_only = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 2 || passes < 1)
		goto usage;
	if ((posts = read_lines(argv[optind], &n)) == NULL) {
		fprintf(stderr, "bench-pipeline: cannot read %s\n", argv[optind]);
		return 1;
	}
	if (n == 0) {
		fprintf(stderr, "bench-pipeline: no posts in %s\n", argv[optind]);
		return 1;
	}

	config_defaults(&cfg);
	if ((norm = norm_new(&cfg.norm, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench-pipeline: normaliser: %s\n", err);
		return 1;
	}
	memset(&ro, 0, sizeof ro);
	ro.resolution_s = cfg.resolution_s;
	ro.max_items = SIZE_MAX / 4;
	ro.max_file_bytes = SIZE_MAX / 4;
	memset(&errs, 0, sizeof errs);
	if (rules_load_opts((const char *const *)argv + optind + 1,
	    (size_t)(argc - optind - 1), &ro, &rs, &errs) == -1) {
		fprintf(stderr, "bench-pipeline: %zu errors, the first: %s\n",
		    errs.n, errs.n > 0 ? errs.msgs[0] : "?");
		return 1;
	}
	if ((m = match_compile(rs, norm, NULL, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench-pipeline: matcher: %s\n", err);
		return 1;
	}

	/* under valgrind --tool=callgrind --instr-atstart=no, only the
	 * passes are counted */
	CALLGRIND_START_INSTRUMENTATION;
	memset(&po, 0, sizeof po);
	po.cfg = &cfg;
	po.m = m;
	po.mode = PIPELINE_MATCH;
	tm = median_pass(&po, flush_at, posts, n, passes, &hits);
	if (!match_only) {
		agg = agg_new(cfg.resolution_s, (size_t)cfg.samples);
		po.mode = PIPELINE_FILE;
		po.agg = agg;
		tc = median_pass(&po, flush_at, posts, n, passes, &hits);
		agg_free(agg);
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	printf("bench-pipeline topics=%zu keywords=%zu posts=%zu "
	    "topic_hits_per_post=%.2f posts_per_s=%.0f cpu_us_per_post=%.3f "
	    "match_us_per_post=%.3f\n", rs->ntopics, rs->nkeywords, n,
	    (double)hits / (double)n, match_only ? (double)n / tm :
	    (double)n / tc, (match_only ? tm : tc) * 1e6 / (double)n,
	    tm * 1e6 / (double)n);
	rules_unref(rs);
	match_free(m);
	norm_free(norm);
	diag_free(&errs);
	for (i = 0; i < n; i++)
		free((char *)posts[i].s);
	free(posts);
	return 0;
usage:
	fprintf(stderr, "usage: bench_pipeline [-p PASSES] [-f FLUSH_ENTRIES] "
	    "[-m] POSTS RULES...\n");
	return 2;
}
