/*
 * bench_rules.c — what loading and compiling a large rule set costs.
 *
 * usage: bench_rules PATH...
 * Loads the rule files (a file or a directory each) with the daemon's
 * loader, the caps raised to fit any set, compiles them with the daemon's
 * normaliser and matcher, runs their embedded tests, and prints one line:
 *
 *   bench-rules topics=N keywords=K ready_s=… load_s=… compile_s=…
 *       tests_s=… free_s=… rss_mb=… rules_bytes_per_keyword=…
 *       matcher_bytes_per_keyword=…
 *
 * ready_s is what the daemon pays from reading the files to a ready
 * matcher: rules_load() (load_s), match_compile() (compile_s) and the
 * embedded tests (tests_s), wall-clock; ready_cpu_s is the CPU time of
 * the whole process over those steps and ready_thread_s the calling
 * thread's (what ready_s comes to when a second core is free, the second
 * thread's work done beside it, waits aside); free_s is freeing the set and the
 * matcher (what the last user of a replaced set pays), rss_mb the
 * process's resident memory once both are done, and the two
 * bytes_per_keyword the growth of resident memory across each step over
 * the keywords (the normaliser is made before the first reading, so
 * neither counts it; free memory goes back to the system before each
 * reading).  Linked with the daemon's allocator (the Makefile).  The
 * daemon's own figure (its RSS after load against an empty rule set) comes
 * from tests/bench/bench_rules.sh.  The loader and the compiler use a
 * second thread for large sets; a benchmark, not a test.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matcher.h"
#include "normalize.h"
#include "rules.h"
#include "ruletest.h"

static double
seconds_of(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
seconds_now(void)
{
	return seconds_of(CLOCK_MONOTONIC);
}

/* tcmalloc's, when the program is linked with it. */
void MallocExtension_ReleaseFreeMemory(void) __attribute__((weak));

/* The process's resident memory (VmRSS), in bytes, once the free memory
 * went back to the system (so it counts what is held); 0 if unknown. */
static size_t
resident_bytes(void)
{
	FILE *fp;
	char line[256];
	size_t kb = 0;

	malloc_trim(0);
	if (MallocExtension_ReleaseFreeMemory != NULL)
		MallocExtension_ReleaseFreeMemory();
	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL)
		if (sscanf(line, "VmRSS: %zu kB", &kb) == 1)
			break;
	fclose(fp);
	return kb * 1024;
}

int
main(int argc, char **argv)
{
	struct norm_opts no;
	struct normalizer *norm;
	struct rules_opts ro;
	struct ruleset *rs;
	struct matcher *m;
	struct diag errs;
	char err[512];
	double t0, t1, tc, t2, tt, t3, t4;
	double p0, p1, pc, p2, pt, p3, h0, h1, hc, h2, ht, h3;
	size_t r0, r1, r2, passed, failed, nkw, ntopics, nkeywords;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_rules PATH...\n");
		return 2;
	}
	norm_opts_default(&no);
	if ((norm = norm_new(&no, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench-rules: normaliser: %s\n", err);
		return 1;
	}
	memset(&ro, 0, sizeof ro);
	ro.max_items = SIZE_MAX / 4;
	ro.max_file_bytes = SIZE_MAX / 4;
	memset(&errs, 0, sizeof errs);

	r0 = resident_bytes();
	p0 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	h0 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
	t0 = seconds_now();
	if (rules_load_opts((const char *const *)argv + 1, (size_t)argc - 1,
	    &ro, &rs, &errs) == -1) {
		fprintf(stderr, "bench-rules: %zu errors, the first: %s\n",
		    errs.n, errs.n > 0 ? errs.msgs[0] : "?");
		return 1;
	}
	t1 = seconds_now();
	p1 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	h1 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
	r1 = resident_bytes();
	pc = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	hc = seconds_of(CLOCK_THREAD_CPUTIME_ID);
	tc = seconds_now();
	m = match_compile(rs, norm, NULL, err, sizeof err);
	t2 = seconds_now();
	p2 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	h2 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
	r2 = resident_bytes();
	pt = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	ht = seconds_of(CLOCK_THREAD_CPUTIME_ID);
	tt = seconds_now();
	if (m == NULL) {
		fprintf(stderr, "bench-rules: matcher: %s\n", err);
		return 1;
	}
	failed = ruletest_run(m, &passed, &errs);
	t3 = seconds_now();
	p3 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	h3 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
	nkw = rs->nkeywords ? rs->nkeywords : 1;
	ntopics = rs->ntopics;
	nkeywords = rs->nkeywords;
	rules_unref(rs);
	match_free(m);
	t4 = seconds_now();
	printf("bench-rules topics=%zu keywords=%zu ready_s=%.2f "
	    "ready_cpu_s=%.2f ready_thread_s=%.2f load_s=%.2f "
	    "compile_s=%.2f tests_s=%.2f free_s=%.3f rss_mb=%.0f "
	    "rules_bytes_per_keyword=%.0f matcher_bytes_per_keyword=%.0f\n",
	    ntopics, nkeywords, (t1 - t0) + (t2 - tc) + (t3 - tt),
	    (p1 - p0) + (p2 - pc) + (p3 - pt), (h1 - h0) + (h2 - hc) +
	    (h3 - ht), t1 - t0, t2 - tc, t3 - tt, t4 - t3,
	    (double)r2 / 1048576.0,
	    (double)(r1 - r0) / (double)nkw, (double)(r2 - r1) / (double)nkw);
	norm_free(norm);
	diag_free(&errs);
	return failed > 0;
}
