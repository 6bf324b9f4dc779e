/*
 * test_jsonw.c — JSON writing: escapes, numbers, keys.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "jsonw.h"

static void
test_strings(void **state)
{
	struct jsonw w = { NULL, 0, 0 };

	(void)state;
	jsonw_strz(&w, "a\"b\\c\n\t\x01地沟油");
	assert_string_equal(w.buf, "\"a\\\"b\\\\c\\n\\t\\u0001地沟油\"");
	jsonw_reset(&w);
	jsonw_str(&w, "a\0b", 3);
	assert_string_equal(w.buf, "\"a\\u0000b\"");
	jsonw_reset(&w);
	jsonw_raw(&w, "{", 1);
	jsonw_key(&w, "k");
	jsonw_int(&w, -42);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "d");
	jsonw_double(&w, 2.5);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "i");
	jsonw_double(&w, INFINITY);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "n");
	jsonw_double(&w, NAN);
	jsonw_raw(&w, "}", 1);
	assert_string_equal(w.buf, "{\"k\":-42,\"d\":2.5,\"i\":null,\"n\":null}");
	jsonw_free(&w);
}

static void
test_diag(void **state)
{
	struct diag d;

	(void)state;
	diag_init(&d);
	diag_add(&d, "r.yaml", 3, 7, "bad %s", "thing");
	diag_add(&d, "r.yaml", 0, 0, "whole file");
	diag_addf(&d, "plain %d", 1);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.msgs[0], "r.yaml:3:7: bad thing");
	assert_string_equal(d.msgs[1], "r.yaml: whole file");
	assert_string_equal(d.msgs[2], "plain 1");
	diag_free(&d);
	assert_int_equal(d.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_diag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
