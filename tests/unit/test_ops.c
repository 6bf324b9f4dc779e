/*
 * test_ops.c — the stall alert's logic against a fake struct ops_io (no
 * Redis): it fires after stall_after without posts, resolves when posts
 * flow again, only the leader judges and publishes, a publish that failed
 * is tried again with the same id, and a new leader takes over a firing
 * stall without repeating it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "ops.h"
#include "stats.h"

#define MAXPUB	8
#define T0	INT64_C(1795669500000)	/* ms */
#define AFTER	60			/* stall_after, s */

struct fake {
	int64_t	 sum;		/* the group's positions */
	char	 state[64];	/* the stored stall state */
	int	 fail_publish;	/* publishes that fail before one works */
	int	 fail_redis;	/* every call fails */
	int	 npub;
	char	 ids[MAXPUB][128];
	char	 states[MAXPUB][64];
	char	*jsons[MAXPUB];
	int	 tries;
	int	 pings;
	int	 reads;
	int	 freed;
	int64_t	 since;		/* <prefix>since; -1 none */
};

static int
fake_sum(void *ctx, int64_t *sum)
{
	struct fake *f = ctx;

	f->reads++;
	if (f->fail_redis)
		return -1;
	*sum = f->sum;
	return 0;
}

static int
fake_state(void *ctx, char *buf, size_t sz)
{
	struct fake *f = ctx;

	f->reads++;
	if (f->fail_redis)
		return -1;
	snprintf(buf, sz, "%s", f->state);
	return 0;
}

static int
fake_publish(void *ctx, const char *id, const char *json, const char *state)
{
	struct fake *f = ctx;

	f->tries++;
	if (f->fail_redis)
		return -1;
	if (f->fail_publish > 0) {
		f->fail_publish--;
		return -1;
	}
	assert_true(f->npub < MAXPUB);
	snprintf(f->ids[f->npub], sizeof f->ids[f->npub], "%s", id);
	snprintf(f->states[f->npub], sizeof f->states[f->npub], "%s",
	    state != NULL ? state : "(none)");
	f->jsons[f->npub] = strdup(json);
	if (state != NULL)
		snprintf(f->state, sizeof f->state, "%s", state);
	f->npub++;
	return 0;
}

static int
fake_since(void *ctx, int64_t *since)
{
	struct fake *f = ctx;

	if (f->fail_redis)
		return -1;
	if (f->since >= 0)
		*since = f->since;
	return 0;
}

static int
fake_ping(void *ctx)
{
	struct fake *f = ctx;

	f->pings++;
	return f->fail_redis ? -1 : 0;
}

static const char *
fake_errstr(void *ctx)
{
	(void)ctx;
	return "fake error";
}

static void
fake_free(void *ctx)
{
	struct fake *f = ctx;
	int i;

	for (i = 0; i < f->npub; i++)
		free(f->jsons[i]);
	f->freed++;
}

static struct config cfg;
static struct fake fk;

static struct ops *
new_ops(void)
{
	struct ops_io io = {
		.ctx = &fk,
		.positions_sum = fake_sum,
		.stall_state = fake_state,
		.publish = fake_publish,
		.since = fake_since,
		.ping = fake_ping,
		.errstr = fake_errstr,
		.free = fake_free,
	};

	return ops_new(&cfg, &io, "host:1:2");
}

static int
setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof fk);
	fk.since = -1;
	STAT_SET(store_resets, 0);
	config_defaults(&cfg);
	cfg.stall_after_s = AFTER;
	STAT_SET(last_post_ms, 0);
	STAT_SET(stalled, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

static void
test_fires_after_stall_after(void **state)
{
	struct ops *o = new_ops();

	(void)state;
	fk.sum = 100;
	assert_int_equal(ops_tick(o, true, T0), 0);
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 1000 - 1), 0);
	assert_int_equal(fk.npub, 0);
	assert_int_equal(STAT_GET(stalled), 0);
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 1000), 0);
	assert_int_equal(fk.npub, 1);
	assert_int_equal(STAT_GET(stalled), 1);
	assert_string_equal(fk.ids[0], "_ops:stall:1795669500:firing");
	assert_string_equal(fk.states[0], "firing 1795669500000");
	assert_non_null(strstr(fk.jsons[0], "\"type\":\"stall\",\"state\":\"firing\""));
	assert_non_null(strstr(fk.jsons[0], "\"silent_s\":60"));
	/* still silent: not published again */
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 2000), 0);
	assert_int_equal(fk.npub, 1);
	ops_free(o);
	assert_int_equal(fk.freed, 1);
}

static void
test_resolves_when_posts_flow(void **state)
{
	struct ops *o = new_ops();
	int64_t back = T0 + 90 * 1000;

	(void)state;
	fk.sum = 100;
	ops_tick(o, true, T0);
	ops_tick(o, true, T0 + AFTER * 1000);
	assert_int_equal(fk.npub, 1);
	fk.sum = 130;		/* posts counted by some consumer */
	assert_int_equal(ops_tick(o, true, back), 0);
	assert_int_equal(fk.npub, 2);
	assert_int_equal(STAT_GET(stalled), 0);
	assert_string_equal(fk.ids[1], "_ops:stall:1795669500:resolved");
	assert_string_equal(fk.states[1], "resolved 1795669500000");
	assert_non_null(strstr(fk.jsons[1], "\"state\":\"resolved\""));
	assert_non_null(strstr(fk.jsons[1], "\"silent_s\":90"));
	ops_free(o);
}

static void
test_own_post_counts(void **state)
{
	struct ops *o = new_ops();

	(void)state;
	ops_tick(o, true, T0);
	STAT_SET(last_post_ms, T0 + 30 * 1000);
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 1000), 0);
	assert_int_equal(fk.npub, 0);
	assert_int_equal(ops_tick(o, true, T0 + 30 * 1000 + AFTER * 1000), 0);
	assert_int_equal(fk.npub, 1);
	ops_free(o);
}

static void
test_only_leader_publishes(void **state)
{
	struct ops *o = new_ops();

	(void)state;
	assert_int_equal(ops_tick(o, false, T0), 0);
	assert_int_equal(ops_tick(o, false, T0 + AFTER * 5000), 0);
	assert_int_equal(fk.pings, 2);
	assert_int_equal(fk.reads, 0);
	assert_int_equal(fk.tries, 0);
	/* leading from now: watches from now, not from the first tick */
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 5000), 0);
	assert_int_equal(fk.npub, 0);
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 6000), 0);
	assert_int_equal(fk.npub, 1);
	fk.fail_redis = 1;
	assert_int_equal(ops_tick(o, false, T0 + AFTER * 7000), -1);
	assert_int_equal(STAT_GET(stalled), 0);
	ops_free(o);
}

static void
test_failed_publish_retried(void **state)
{
	struct ops *o = new_ops();

	(void)state;
	fk.fail_publish = 2;
	ops_tick(o, true, T0);
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 1000), 0);
	assert_int_equal(fk.tries, 1);
	assert_int_equal(fk.npub, 0);
	assert_int_equal(STAT_GET(stalled), 0);
	ops_tick(o, true, T0 + AFTER * 1000 + 1000);
	assert_int_equal(fk.tries, 2);
	assert_int_equal(fk.npub, 0);
	ops_tick(o, true, T0 + AFTER * 1000 + 2000);
	assert_int_equal(fk.tries, 3);
	assert_int_equal(fk.npub, 1);
	/* the same alert (same id: the dedup key of the failed tries) */
	assert_string_equal(fk.ids[0], "_ops:stall:1795669500:firing");
	assert_int_equal(STAT_GET(stalled), 1);
	ops_free(o);
}

static void
test_new_leader_takes_over(void **state)
{
	struct ops *o;

	(void)state;
	snprintf(fk.state, sizeof fk.state, "firing %" PRId64, T0 - 5000);
	fk.sum = 7;
	o = new_ops();
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 3000), 0);
	assert_int_equal(fk.npub, 0);		/* not fired twice */
	assert_int_equal(STAT_GET(stalled), 1);
	fk.sum = 8;
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 4000), 0);
	assert_int_equal(fk.npub, 1);
	assert_string_equal(fk.ids[0], "_ops:stall:1795669495:resolved");
	ops_free(o);
}

static void
test_redis_away(void **state)
{
	struct ops *o = new_ops();

	(void)state;
	fk.fail_redis = 1;
	assert_int_equal(ops_tick(o, true, T0), -1);
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 2000), -1);
	assert_int_equal(fk.tries, 0);
	fk.fail_redis = 0;
	assert_int_equal(ops_tick(o, true, T0 + AFTER * 2000), 0);
	assert_int_equal(fk.npub, 0);		/* watches from when it could */
	ops_free(o);
}

/* Redis data loss: `since` moving forward (the leader sees it) and the
 * consumers' counted resets each give one store_reset alert, retried
 * until published, never touching the stall state. */
static void
test_store_reset(void **state)
{
	struct ops *o = new_ops();

	(void)state;
	fk.sum = 100;
	fk.since = 1000;
	assert_int_equal(ops_tick(o, true, T0), 0);
	fk.since = 900;		/* backwards: a rebuild, not a loss */
	assert_int_equal(ops_tick(o, true, T0 + 1000), 0);
	assert_int_equal(fk.npub, 0);
	fk.since = 5000;	/* forward: the counters before are gone */
	fk.fail_publish = 1;
	assert_int_equal(ops_tick(o, true, T0 + 2000), -1);
	assert_int_equal(fk.npub, 0);
	assert_int_equal(STAT_GET(store_resets), 1);
	assert_int_equal(ops_tick(o, true, T0 + 3000), 0);
	assert_int_equal(fk.npub, 1);
	assert_string_equal(fk.ids[0], "_ops:store_reset:host:1:2:1");
	assert_string_equal(fk.states[0], "(none)");
	assert_string_equal(fk.state, "");
	assert_non_null(strstr(fk.jsons[0], "\"type\":\"store_reset\""));
	assert_non_null(strstr(fk.jsons[0], "\"since_was\":900,\"since_now\":5000"));
	assert_non_null(strstr(fk.jsons[0], "\"on_reset\":\"continue\""));
	assert_int_equal(ops_tick(o, true, T0 + 4000), 0);
	assert_int_equal(fk.npub, 1);
	/* a follower reports what its consumers found */
	STAT_ADD(store_resets, 3);
	assert_int_equal(ops_tick(o, false, T0 + 5000), 0);
	assert_int_equal(fk.npub, 2);
	assert_non_null(strstr(fk.jsons[1], "\"resets\":3"));
	assert_null(strstr(fk.jsons[1], "since_was"));
	ops_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fires_after_stall_after,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolves_when_posts_flow,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_post_counts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_leader_publishes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_publish_retried,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_leader_takes_over,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_redis_away,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
