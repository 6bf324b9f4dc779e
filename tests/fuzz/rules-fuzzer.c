/*
 * rules-fuzzer.c — libFuzzer harness for the rule loader.
 *
 * Each input is one rule file, loaded with rules_load_string() (no file is
 * read or written).  A set that loads is then compiled into a matcher with
 * the default normaliser, built once in LLVMFuzzerInitialize(), and the
 * tests embedded in it are run, so match_compile() sees every odd rule set
 * the fuzzer can make.  A failed load must leave no set and at least one
 * error; a successful one no error.  The same input is also read as one
 * alert block (rules_parse_alert(), as `backtest --alert` does): an error
 * or a block with a window and a condition.  Built and run by `make fuzz`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "matcher.h"
#include "normalize.h"
#include "rules.h"
#include "ruletest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

static struct normalizer *norm;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct norm_opts o;
	char err[256];

	(void)argc;
	(void)argv;
	norm_opts_default(&o);
	if ((norm = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "rules-fuzzer: normaliser: %s\n", err);
		abort();
	}
	return 0;
}

/* The input as one alert block. */
static void
fuzz_alert_block(const uint8_t *data, size_t size)
{
	struct rule_alert a;
	struct diag errs;
	size_t i;
	int rc;

	diag_init(&errs);
	rc = rules_parse_alert("fuzz.yaml", (const char *)data, size, NULL, &a,
	    &errs);
	CHECK((rc == 0) == (errs.n == 0));
	for (i = 0; i < errs.n; i++)
		CHECK(strncmp(errs.msgs[i], "fuzz.yaml", 9) == 0);
	if (rc == 0)
		CHECK(a.window_s > 0 && a.resolve_after_s > 0 &&
		    (a.threshold > 0 || a.ratio > 0 || a.zscore > 0 ||
		    a.poisson_p > 0));
	diag_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset *rs = (struct ruleset *)1;
	struct matcher *m;
	struct diag errs, fails;
	size_t passed = 0, i;
	char err[256];
	int rc;

	fuzz_alert_block(data, size);
	diag_init(&errs);
	rc = rules_load_string("fuzz.yaml", (const char *)data, size, &rs,
	    &errs);
	if (rc == -1) {
		CHECK(rs == NULL);
		CHECK(errs.n > 0);
		for (i = 0; i < errs.n; i++)
			CHECK(strncmp(errs.msgs[i], "fuzz.yaml", 9) == 0);
		diag_free(&errs);
		return 0;
	}
	CHECK(rc == 0 && rs != NULL && errs.n == 0);
	diag_free(&errs);

	m = match_compile(rs, norm, NULL, err, sizeof err);
	rules_unref(rs);	/* the matcher holds its own reference */
	if (m == NULL)
		return 0;
	diag_init(&fails);
	(void)ruletest_run(m, &passed, &fails);
	diag_free(&fails);
	match_free(m);
	return 0;
}
