/*
 * test_hll.c — the in-memory HyperLogLog counts what Redis counts: the
 * PFCOUNT of "e1".."eN" added in order, as a Redis 7 server answered,
 * at sizes across the sparse and the dense form and the small-range
 * correction; a union of sketches counts as one sketch of everything;
 * adding an element again changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hll.h"

static void
add_range(struct hll *h, unsigned long from, unsigned long to)
{
	char b[32];
	unsigned long i;

	for (i = from; i <= to; i++)
		hll_add(h, b, (size_t)snprintf(b, sizeof b, "e%lu", i));
}

static void
test_redis_counts(void **state)
{
	/* redis-cli PFADD k e1 … eN; PFCOUNT k */
	static const unsigned long n[] = { 1, 2, 3, 10, 100, 1000, 5000,
		20000, 100000 };
	static const uint64_t want[] = { 1, 2, 3, 10, 100, 1008, 4968, 19899,
		100853 };
	struct hll h;
	const struct hll *v[1] = { &h };
	unsigned long last = 0;
	size_t i;

	(void)state;
	memset(&h, 0, sizeof h);
	assert_int_equal(hll_count(v, 1), 0);
	for (i = 0; i < sizeof n / sizeof n[0]; i++) {
		add_range(&h, last + 1, n[i]);
		last = n[i];
		assert_int_equal(hll_count(v, 1), want[i]);
	}
	hll_clear(&h);
	assert_null(h.dense);
	assert_int_equal(h.n, 0);
}

static void
test_union_and_replay(void **state)
{
	struct hll a, b, all;
	const struct hll *ab[2] = { &a, &b }, *one[1] = { &all };

	(void)state;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&all, 0, sizeof all);
	add_range(&a, 1, 3000);		/* dense */
	add_range(&b, 2500, 5000);	/* overlaps a */
	add_range(&all, 1, 5000);
	assert_int_equal(hll_count(ab, 2), hll_count(one, 1));
	assert_int_equal(hll_count(one, 1), 4968);
	/* a replay adds nothing */
	add_range(&all, 1, 5000);
	assert_int_equal(hll_count(one, 1), 4968);
	/* a sparse sketch and a dense one */
	hll_clear(&b);
	add_range(&b, 1, 3);
	assert_true(b.dense == NULL && a.dense != NULL);
	assert_int_equal(hll_count(ab, 2), hll_count(ab, 1));
	hll_clear(&a);
	hll_clear(&b);
	hll_clear(&all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redis_counts),
		cmocka_unit_test(test_union_and_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
