/*
 * test_variants.c — traditional keyword spellings (variants.c): which
 * keywords get one and which do not, that each distinct text goes through
 * OpenCC once and a rebuild converts only new texts, that regex keywords and keywords without a candidate
 * character are left alone, and that normalize.t2s off turns it all off.
 *
 * Rule sets are YAML text loaded with rules_load_string(); the normalisers
 * are real (OpenCC's data is a build dependency), nothing is faked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "normalize.h"
#include "rules.h"
#include "variants.h"

static struct normalizer *norm, *norm_no_t2s;

static int
setup_norms(void **state)
{
	struct norm_opts o;
	char err[256];

	(void)state;
	norm_opts_default(&o);
	if ((norm = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "norm_new: %s\n", err);
		return -1;
	}
	o.t2s = false;
	if ((norm_no_t2s = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "norm_new: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown_norms(void **state)
{
	(void)state;
	norm_free(norm);
	norm_free(norm_no_t2s);
	return 0;
}

static const char rules_yaml[] =
    "topics:\n"
    "  - id: a\n"
    "    match: {any: [一目了然, 家具, \"/抵触/\", food, 抵触]}\n"
    "  - id: b\n"
    "    match: {any: [抵触], none: [背包]}\n";

static struct ruleset *
load(void)
{
	struct ruleset *rs = NULL;
	struct diag errs;

	memset(&errs, 0, sizeof errs);
	assert_int_equal(rules_load_string("t.yaml", rules_yaml,
	    strlen(rules_yaml), &rs, &errs), 0);
	diag_free(&errs);
	return rs;
}

/* The one variant of keyword ki of topic ti, or NULL. */
static const char *
only_variant(const struct variants *v, size_t ti, size_t ki)
{
	const char *const *texts;
	size_t n = variants_of(v, ti, ki, &texts);

	assert_true(n <= 1);
	return n == 1 ? texts[0] : NULL;
}

static void
test_phrase_spellings(void **state)
{
	struct ruleset *rs = load();
	struct variants_stats st;
	struct variants *v;
	char err[256] = "";

	(void)state;
	v = variants_build(rs, norm, err, sizeof err);
	assert_non_null(v);
	assert_string_equal(only_variant(v, 0, 0), "一目瞭然");
	assert_null(only_variant(v, 0, 1));	/* 傢俱 folds to 家俱: common */
	assert_null(only_variant(v, 0, 2));	/* a regex */
	assert_null(only_variant(v, 0, 3));
	assert_string_equal(only_variant(v, 0, 4), "牴觸");
	assert_string_equal(only_variant(v, 1, 0), "牴觸");
	assert_string_equal(only_variant(v, 1, 1), "揹包");	/* none */
	assert_null(only_variant(v, 2, 0));	/* no such topic */
	variants_get_stats(v, &st);
	/* 一目了然, 抵触 ×2, 背包 may vary; 家具 and food cannot */
	assert_int_equal(st.candidates, 4);
	assert_int_equal(st.converted, 3);	/* 抵触 once */
	assert_int_equal(st.keywords, 4);
	assert_int_equal(st.variants, 4);
	variants_free(v);
	rules_unref(rs);
}

/* Builds rs and returns how many texts went through OpenCC. */
static size_t
build_count(struct ruleset *rs)
{
	struct variants_stats st;
	struct variants *v;
	char err[256] = "";

	v = variants_build(rs, norm, err, sizeof err);
	assert_non_null(v);
	variants_get_stats(v, &st);
	if (st.candidates == 4)
		assert_string_equal(only_variant(v, 1, 0), "牴觸");
	variants_free(v);
	return st.converted;
}

static void
test_rebuild_converts_new_texts(void **state)
{
	static const char other_yaml[] =
	    "topics:\n  - id: x\n    match: {any: [背包, 一目了然是]}\n";
	struct ruleset *rs = load(), *other = NULL;
	struct diag errs;

	(void)state;
	memset(&errs, 0, sizeof errs);
	assert_int_equal(rules_load_string("o.yaml", other_yaml,
	    strlen(other_yaml), &other, &errs), 0);
	diag_free(&errs);
	(void)build_count(rs);
	assert_int_equal(build_count(rs), 0);	/* all from the last build */
	assert_int_equal(build_count(other), 1);	/* 一目了然是; 背包 known */
	assert_int_equal(build_count(rs), 2);	/* 一目了然, 抵触 again */
	assert_int_equal(build_count(rs), 0);
	rules_unref(other);
	rules_unref(rs);
}

static void
test_t2s_off(void **state)
{
	struct ruleset *rs = load();
	struct variants_stats st;
	struct variants *v;
	char err[256] = "";

	(void)state;
	v = variants_build(rs, norm_no_t2s, err, sizeof err);
	assert_non_null(v);
	assert_null(only_variant(v, 0, 0));
	variants_get_stats(v, &st);
	assert_int_equal(st.candidates, 0);
	assert_int_equal(st.converted, 0);
	variants_free(v);
	variants_free(NULL);
	assert_int_equal(variants_of(NULL, 0, 0, NULL), 0);
	rules_unref(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phrase_spellings),
		cmocka_unit_test(test_rebuild_converts_new_texts),
		cmocka_unit_test(test_t2s_off),
	};

	return cmocka_run_group_tests(tests, setup_norms, teardown_norms);
}
