/*
 * test_am_queue.c — a delivery target's queue: items come out in order
 * with their entries, popping more than waits empties it, and a queue
 * that never empties (a slow Alertmanager: one in, one out, a backlog
 * behind) keeps its storage bounded by what waits, also after a large
 * backlog drained.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "alertmanager.h"

static void
order_and_entries(void **state)
{
	struct am_queue q = { 0 };
	char e[AM_ID], t[32];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(e, sizeof e, "%d-0", i);
		snprintf(t, sizeof t, "{\"n\":%d}", i);
		amq_push(&q, i % 3 == 0 ? "" : e, t);
	}
	for (i = 0; i < 1000; i += 7) {
		snprintf(e, sizeof e, "%d-0", i);
		snprintf(t, sizeof t, "{\"n\":%d}", i);
		assert_int_equal(amq_len(&q), 1000 - i);
		assert_string_equal(amq_at(&q, 0)->text, t);
		assert_string_equal(amq_at(&q, 0)->entry, i % 3 == 0 ? "" : e);
		amq_pop(&q, 7);
	}
	assert_int_equal(amq_len(&q), 0);
	amq_push(&q, "1-1", "x");
	amq_pop(&q, 5);
	assert_int_equal(amq_len(&q), 0);
	amq_free(&q);
	amq_free(&q);
}

static void
never_empty_stays_bounded(void **state)
{
	struct am_queue q = { 0 };
	char t[32];
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		amq_push(&q, "1-0", "backlog");
	for (i = 0; i < 100000; i++) {
		snprintf(t, sizeof t, "%d", i);
		amq_push(&q, "2-0", t);
		if (i >= 100) {
			snprintf(t, sizeof t, "%d", i - 100);
			assert_string_equal(amq_at(&q, 0)->text, t);
		}
		amq_pop(&q, 1);
	}
	assert_int_equal(amq_len(&q), 100);
	assert_in_range(q.cap, 100, 2048);
	/* a large backlog drained down to a few: the storage shrinks */
	for (i = 0; i < 200000; i++)
		amq_push(&q, "3-0", "b");
	while (amq_len(&q) > 10)
		amq_pop(&q, 64);
	assert_in_range(q.cap, 10, 2048);
	amq_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(order_and_entries),
		cmocka_unit_test(never_empty_stays_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
