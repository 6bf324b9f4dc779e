/*
 * test_store.c — the store: what needs no server (settings from the
 * config, every key name, errors when Redis cannot be reached), and, when
 * TW_REDIS_PORT names a scratch redis-server (tests/integration/
 * 0004-store-redis.sh starts one), the commands against it: publish once
 * with the dedup key given back when the log refuses the alert, the stall
 * state, reading the log by pages, a subscriber, a flush and its
 * positions, the rejects it stores; and, on TW_REDIS_AUTH_PORT (a server with the password
 * "s3cret"), that every connection authenticates.  Without TW_REDIS_PORT only the first group runs (that
 * script fails unless the second one ran and passed too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hiredis.h>

#include "agg.h"
#include "config.h"
#include "diag.h"
#include "store.h"

static struct config cfg;

static int
setup(void **state)
{
	(void)state;
	config_defaults(&cfg);
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
test_conf_from_config(void **state)
{
	struct store_conf sc;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(config_set(&cfg, "redis.address=unix:/run/r.sock", &d), 0);
	assert_int_equal(config_set(&cfg, "redis.prefix=tw2:", &d), 0);
	assert_int_equal(config_set(&cfg, "redis.timeout=750ms", &d), 0);
	assert_int_equal(config_set(&cfg, "counters.retention=3d", &d), 0);
	diag_free(&d);
	store_conf_from_config(&cfg, "secret", &sc);
	assert_string_equal(sc.address, "unix:/run/r.sock");
	assert_string_equal(sc.password, "secret");
	assert_string_equal(sc.prefix, "tw2:");
	assert_string_equal(sc.channel, "alerts:");
	assert_string_equal(sc.stream, "alert-log");
	assert_int_equal(sc.timeout_ms, 750);
	assert_int_equal(sc.retention_s, 3 * 86400);
	assert_int_equal(sc.samples_keep, 100);
	assert_int_equal(sc.resolution_s, 10);
	store_conf_from_config(&cfg, NULL, &sc);
	assert_null(sc.password);
}

static void
test_key_names(void **state)
{
	struct store *s = store_open(&cfg, NULL);
	char k[128];

	(void)state;
	assert_string_equal(store_prefix(s), "tidewatch:");
#define KEY(kind, a, b, c, want) do {					\
	assert_int_equal(store_key(s, kind, a, b, c, k, sizeof k),	\
	    strlen(want));						\
	assert_string_equal(k, want);					\
} while (0)
	KEY(STORE_KEY_COUNTS, "quake", "20261126", NULL,
	    "tidewatch:c:quake:20261126");
	KEY(STORE_KEY_KEYWORDS, "quake", "20261126", NULL,
	    "tidewatch:k:quake:20261126");
	KEY(STORE_KEY_BREAKDOWN, "quake", "region", "20261126",
	    "tidewatch:b:quake:region:20261126");
	KEY(STORE_KEY_SAMPLES, "quake", NULL, NULL, "tidewatch:s:quake");
	KEY(STORE_KEY_POSITIONS, "tw", NULL, NULL, "tidewatch:pos:tw");
	KEY(STORE_KEY_SINCE, NULL, NULL, NULL, "tidewatch:since");
	KEY(STORE_KEY_REJECTED, NULL, NULL, NULL, "tidewatch:rejected");
	KEY(STORE_KEY_REJECTED_TOTAL, NULL, NULL, NULL,
	    "tidewatch:rejected-total");
	KEY(STORE_KEY_STATE, "_ops", NULL, NULL, "tidewatch:state:_ops");
	KEY(STORE_KEY_DEDUP, "quake:0:1795669500:firing", NULL, NULL,
	    "tidewatch:dedup:quake:0:1795669500:firing");
	KEY(STORE_KEY_HELD, NULL, NULL, NULL, "tidewatch:held");
	KEY(STORE_KEY_LEADER, NULL, NULL, NULL, "tidewatch:leader");
	KEY(STORE_KEY_ALERT_LOG, NULL, NULL, NULL, "tidewatch:alert-log");
	KEY(STORE_KEY_CHANNEL, "quake", NULL, NULL, "tidewatch:alerts:quake");
	KEY(STORE_KEY_CHANNEL, "_ops", NULL, NULL, "tidewatch:alerts:_ops");
#undef KEY
	/* too small a buffer: cut, and the length needed returned */
	assert_int_equal(store_key(s, STORE_KEY_STATE, "quake", NULL, NULL, k,
	    12), strlen("tidewatch:state:quake"));
	assert_string_equal(k, "tidewatch:s");
	assert_int_equal(store_key(s, STORE_KEY_STATE, "quake", NULL, NULL,
	    NULL, 0), strlen("tidewatch:state:quake"));
	store_free(s);
}

/* A store on a port where nothing listens. */
static struct store *
unreachable(void)
{
	struct diag d;
	struct store *s;

	diag_init(&d);
	assert_int_equal(config_set(&cfg, "redis.address=127.0.0.1:1", &d), 0);
	diag_free(&d);
	s = store_open(&cfg, NULL);
	return s;
}

static void
test_unreachable(void **state)
{
	struct store *s = unreachable();
	struct store_alert a = { .id = "x", .topic = "t", .json = "{}",
	    .dedup_ttl_ms = 1000, .stream_maxlen = 10 };
	char err[256], buf[16];
	int64_t sum;

	(void)state;
	assert_int_equal(store_connect(s), -1);
	assert_false(store_connected(s));
	assert_non_null(strstr(store_errstr(s), "redis 127.0.0.1:1: "));
	assert_int_equal(store_fault(s), STORE_FAULT_UNREACHABLE);
	assert_int_equal(store_publish(s, &a), -1);
	assert_int_equal(store_ping(s), -1);
	assert_int_equal(store_positions_sum(s, "tw", &sum), -1);
	assert_int_equal(store_state_get(s, "_ops", "stall", buf, sizeof buf), -1);
	assert_null(store_sub_open(s, NULL, err, sizeof err));
	assert_non_null(strstr(err, "redis 127.0.0.1:1: "));
	store_free(s);
}

/* --- against a scratch server (TW_REDIS_PORT) --- */

static redisContext *rc;

static struct store *
server_store(void)
{
	const char *port = getenv("TW_REDIS_PORT");
	char set[64];
	struct diag d;

	rc = redisConnect("127.0.0.1", atoi(port));
	assert_non_null(rc);
	assert_int_equal(rc->err, 0);
	freeReplyObject(redisCommand(rc, "FLUSHALL"));
	snprintf(set, sizeof set, "redis.address=127.0.0.1:%s", port);
	diag_init(&d);
	assert_int_equal(config_set(&cfg, set, &d), 0);
	diag_free(&d);
	return store_open(&cfg, NULL);
}

static void
server_done(struct store *s)
{
	store_free(s);
	redisFree(rc);
	rc = NULL;
}

/* The reply of a command on the test's own connection, as an integer. */
static long long
rint_of(const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(rc, fmt, arg);
	long long v;

	assert_non_null(r);
	v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
	freeReplyObject(r);
	return v;
}

static void
test_publish_once(void **state)
{
	struct store *s = server_store();
	struct store_alert a = { .id = "quake:0:100:firing", .topic = "quake",
	    .json = "{\"id\":\"quake:0:100:firing\"}", .dedup_ttl_ms = 60000,
	    .stream_maxlen = 100 };

	(void)state;
	assert_int_equal(store_publish(s, &a), 1);
	assert_int_equal(store_publish(s, &a), 0);
	assert_int_equal(rint_of("XLEN %s", "tidewatch:alert-log"), 1);
	assert_int_equal(rint_of("EXISTS %s",
	    "tidewatch:dedup:quake:0:100:firing"), 1);
	assert_true(rint_of("PTTL %s", "tidewatch:dedup:quake:0:100:firing")
	    > 50000);
	server_done(s);
}

static void
test_publish_gives_dedup_back(void **state)
{
	struct store *s = server_store();
	struct store_alert a = { .id = "_ops:stall:5:firing", .topic = "_ops",
	    .json = "{\"type\":\"stall\"}", .dedup_ttl_ms = 60000,
	    .stream_maxlen = 100, .state_topic = "_ops",
	    .state_field = "stall", .state_value = "firing 5000" };
	redisReply *r;

	(void)state;
	freeReplyObject(redisCommand(rc, "SET tidewatch:alert-log x"));
	assert_int_equal(store_publish(s, &a), -1);
	assert_non_null(strstr(store_errstr(s), "WRONGTYPE"));
	assert_int_equal(rint_of("EXISTS %s", "tidewatch:dedup:_ops:stall:5:firing"),
	    0);
	assert_int_equal(rint_of("EXISTS %s", "tidewatch:state:_ops"), 0);
	freeReplyObject(redisCommand(rc, "DEL tidewatch:alert-log"));
	assert_int_equal(store_publish(s, &a), 1);
	assert_int_equal(rint_of("XLEN %s", "tidewatch:alert-log"), 1);
	r = redisCommand(rc, "HGET tidewatch:state:_ops stall");
	assert_string_equal(r->str, "firing 5000");
	freeReplyObject(r);
	/* a duplicate still records the state */
	a.state_value = "firing 6000";
	assert_int_equal(store_publish(s, &a), 0);
	r = redisCommand(rc, "HGET tidewatch:state:_ops stall");
	assert_string_equal(r->str, "firing 6000");
	freeReplyObject(r);
	server_done(s);
}

static void
log_count(void *ctx, const char *entry_id, const char *json, size_t len)
{
	int *n = ctx;

	assert_non_null(entry_id);
	assert_int_equal(strlen(json), len);
	assert_true(json[0] == '{');
	(*n)++;
}

static void
test_alert_log_pages(void **state)
{
	struct store *s = server_store();
	struct store_alert a = { .topic = "quake", .json = "{}",
	    .dedup_ttl_ms = 60000, .stream_maxlen = 100 };
	char next[64];
	int n = 0;

	(void)state;
	a.id = "a";
	store_publish(s, &a);
	a.id = "b";
	store_publish(s, &a);
	a.id = "c";
	store_publish(s, &a);
	assert_int_equal(store_read_alert_log(s, "-", 2, log_count, &n, next,
	    sizeof next), 2);
	assert_int_equal(n, 2);
	assert_true(next[0] == '(');
	assert_int_equal(store_read_alert_log(s, next, 2, log_count, &n, next,
	    sizeof next), 1);
	assert_int_equal(n, 3);
	server_done(s);
}

static void
test_subscriber(void **state)
{
	struct store *s = server_store();
	struct store_alert a = { .id = "q", .topic = "quake", .json = "{\"x\":1}",
	    .dedup_ttl_ms = 60000, .stream_maxlen = 100 };
	struct store_sub *one, *all;
	const char *chan, *msg;
	size_t len;
	bool pattern;
	char err[256];

	(void)state;
	one = store_sub_open(s, "quake", err, sizeof err);
	all = store_sub_open(s, NULL, err, sizeof err);
	assert_non_null(one);
	assert_non_null(all);
	assert_string_equal(store_sub_name(one, &pattern), "tidewatch:alerts:quake");
	assert_false(pattern);
	assert_string_equal(store_sub_name(all, &pattern), "tidewatch:alerts:*");
	assert_true(pattern);
	assert_int_equal(store_sub_next(one, 10, &chan, &msg, &len), 0);
	assert_int_equal(store_publish(s, &a), 1);
	assert_int_equal(store_sub_next(one, 2000, &chan, &msg, &len), 1);
	assert_string_equal(chan, "tidewatch:alerts:quake");
	assert_int_equal(len, 7);
	assert_memory_equal(msg, "{\"x\":1}", 7);
	assert_int_equal(store_sub_next(all, 2000, &chan, &msg, &len), 1);
	assert_string_equal(chan, "tidewatch:alerts:quake");
	store_sub_free(one);
	store_sub_free(all);
	server_done(s);
}

static void
test_flush_and_positions(void **state)
{
	struct store *s = server_store();
	struct agg *a = agg_new(10, 0);
	struct store_pos pos = { "posts/0", -1, 5, 1795669500000, 0 };
	const char *fields[2] = { "posts/0", "posts/1" };
	int64_t offs[2], counts[3], sum;
	char buf[32];

	(void)state;
	agg_add_total(a, 1795669500);
	agg_add_total(a, 1795669501);
	agg_add_total(a, 1795669520);
	assert_int_equal(store_flush(s, "tw", a, &pos, 1, NULL, NULL), 0);
	assert_int_equal(store_get_positions(s, "tw", fields, 2, offs), 0);
	assert_int_equal(offs[0], 5);
	assert_int_equal(offs[1], -1);
	assert_int_equal(store_get_counts(s, "_all", 1795669500, 10, 3, counts), 0);
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 1);
	assert_int_equal(store_positions_sum(s, "tw", &sum), 0);
	assert_int_equal(sum, 5);
	/* a consumer that expects another position writes nothing */
	pos.from = 3;
	pos.to = 9;
	assert_int_equal(store_flush(s, "tw", a, &pos, 1, NULL, NULL), -2);
	assert_int_equal(store_get_counts(s, "_all", 1795669500, 10, 1, counts), 0);
	assert_int_equal(counts[0], 2);
	assert_int_equal(store_state_get(s, "quake", "0", buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(store_ping(s), 0);
	agg_free(a);
	server_done(s);
}

/* The watermark: the newest post time of all partitions, unless some are
 * behind their end or do not know it yet (lag -1, nothing fetched): then
 * the oldest of those, -1 while one of them has no post. */
static void
test_watermark_waits(void **state)
{
	struct store *s = server_store();
	struct agg *a = agg_new(10, 0);
	struct store_pos pos[2] = {
		{ "posts/0", -1, 50, 1795669990000, 0 },
		{ "posts/1", -1, STORE_POS_MARK, -1, -1 },
	};
	int64_t wm, newest;

	(void)state;
	agg_add_total(a, 1795669500);
	assert_int_equal(store_flush(s, "tw", a, pos, 2, NULL, NULL), 0);
	assert_int_equal(store_get_watermark(s, "tw", &wm, &newest), 0);
	assert_int_equal(newest, 1795669990000);
	assert_int_equal(wm, -1);	/* posts/1 may hold older posts */
	/* posts/1 fetched: its first message counted, 7 behind */
	pos[0].from = 50;
	pos[0].to = STORE_POS_MARK;
	pos[1].to = 1;
	pos[1].time_ms = 1795669600000;
	pos[1].lag = 7;
	assert_int_equal(store_flush(s, "tw", a, pos, 2, NULL, NULL), 0);
	assert_int_equal(store_get_watermark(s, "tw", &wm, &newest), 0);
	assert_int_equal(wm, 1795669600000);
	/* caught up */
	pos[1].from = 1;
	pos[1].to = 8;
	pos[1].time_ms = 1795669700000;
	pos[1].lag = 0;
	assert_int_equal(store_flush(s, "tw", a, pos, 2, NULL, NULL), 0);
	assert_int_equal(store_get_watermark(s, "tw", &wm, &newest), 0);
	assert_int_equal(wm, 1795669990000);
	agg_free(a);
	server_done(s);
}

/* A flush over redis.flush_max_entries is staged in chunks, then applied
 * one script each.  Chunks only staged (their process died) are applied
 * once, by the next store_check() or flush; an inline flush never moves a
 * watermark past them. */
static void
test_flush_staged(void **state)
{
	struct store *s = server_store(), *s2;
	struct agg *a = agg_new(10, 0), *small = agg_new(10, 0);
	struct store_pos pos = { "posts/0", -1, 200, 1795669500000, 0 };
	struct store_pos pos2 = { "posts/0", 200, 201, 1795671500000, 0 };
	struct store_flush_stats st;
	int64_t counts[200];
	struct diag d;
	redisReply *r;
	int i;

	(void)state;
	diag_init(&d);
	assert_int_equal(config_set(&cfg, "redis.flush_max_entries=64", &d), 0);
	diag_free(&d);
	store_free(s);
	s = store_open(&cfg, NULL);
	s2 = store_open(&cfg, NULL);
	for (i = 0; i < 200; i++)
		agg_add_total(a, 1795669500 + 10 * i);
	/* staged only: the position moved, no count applied yet */
	assert_int_equal(store_stage(s, "tw", a, &pos, 1, NULL, &st), 0);
	assert_true(store_undrained(s));
	/* 10-minute spans of the counts, in chunks of about 32 entries */
	assert_true(rint_of("LLEN %s", "tidewatch:staged") >= 2);
	assert_int_equal(rint_of("EXISTS %s", "tidewatch:since"), 1);
	assert_int_equal(store_get_counts(s, "_all", 1795669500, 10, 200,
	    counts), 0);
	assert_int_equal(counts[0], 0);
	assert_int_equal(rint_of("HEXISTS tidewatch:pos:tw %s", "t:posts/0"),
	    0);	/* the watermark waits for the counts */
	/* a flush small enough for one script goes behind the staged chunk */
	agg_add_total(small, 1795669500);
	assert_int_equal(store_flush(s2, "tw", small, &pos2, 1, NULL, &st), 0);
	assert_int_equal(rint_of("EXISTS %s", "tidewatch:staged"), 0);
	assert_true(st.scripts >= 2);
	assert_int_equal(store_get_counts(s, "_all", 1795669500, 10, 200,
	    counts), 0);
	assert_int_equal(counts[0], 2);
	for (i = 1; i < 200; i++)
		assert_int_equal(counts[i], 1);
	r = redisCommand(rc, "HGET tidewatch:pos:tw t:posts/0");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "1795671500000");
	freeReplyObject(r);
	/* a staged flush left by a crash: store_check() applies it, once */
	pos.from = 201;
	pos.to = 300;
	assert_int_equal(store_stage(s, "tw", a, &pos, 1, NULL, NULL), 0);
	assert_int_equal(store_check(s2, "tw"), 0);
	assert_int_equal(store_check(s2, "tw"), 0);
	assert_int_equal(rint_of("EXISTS %s", "tidewatch:staged"), 0);
	assert_int_equal(store_get_counts(s, "_all", 1795669500, 10, 200,
	    counts), 0);
	assert_int_equal(counts[0], 3);
	assert_int_equal(counts[199], 2);
	/* a flush of many topics' worth goes through store_flush() whole */
	pos.from = 300;
	pos.to = 400;
	assert_int_equal(store_flush(s, "tw", a, &pos, 1, NULL, &st), 0);
	assert_false(store_undrained(s));
	assert_true(st.scripts >= 2);
	assert_true(st.chunk_max >= 60 && st.chunk_max < 200);
	assert_int_equal(store_get_counts(s, "_all", 1795669500, 10, 200,
	    counts), 0);
	assert_int_equal(counts[199], 3);
	diag_init(&d);
	assert_int_equal(config_set(&cfg, "redis.flush_max_entries=512", &d), 0);
	diag_free(&d);
	store_free(s2);
	agg_free(a);
	agg_free(small);
	server_done(s);
}

/* A field of rejected-total, -1 when absent. */
static long long
rejected_total(const char *reason)
{
	redisReply *r = redisCommand(rc, "HGET tidewatch:rejected-total %s",
	    reason);
	long long v;

	assert_non_null(r);
	v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
	freeReplyObject(r);
	return v;
}

static long long
rejected_len(void)
{
	redisReply *r = redisCommand(rc, "XLEN tidewatch:rejected");
	long long v;

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* Element i of a stream entry's field list is want (n bytes). */
static void
entry_field(const redisReply *fields, size_t i, const char *want, size_t n)
{
	assert_true(i < fields->elements);
	assert_int_equal(fields->element[i]->len, n);
	assert_memory_equal(fields->element[i]->str, want, n);
}

/* The rejects go with the flush that moves past them: counted by reason
 * and dead-lettered when the positions move, not at all when they do not. */
static void
test_flush_rejects(void **state)
{
	struct store *s = server_store();
	struct agg *a = agg_new(10, 0);
	struct store_pos pos = { "posts/0", -1, 5, 1795669500000, 0 };
	static const char *const reasons[] = { "not_json", "too_deep",
	    "no_text", "_not_kept" };
	int64_t counts[] = { 2, 1, 0, 1 };
	struct store_reject kept[2] = {
		{ "not_json", "at byte 0", "posts/0@1", "oops\0x", 6, 6 },
		{ "too_deep", "", "posts/0@3", "[[[[", 4, 9000 },
	};
	struct store_rejects rj = { kept, 2, reasons, counts, 4, 100 };
	redisReply *r;

	(void)state;
	assert_int_equal(store_flush(s, "tw", a, &pos, 1, &rj, NULL), 0);
	assert_int_equal(rejected_total("not_json"), 2);
	assert_int_equal(rejected_total("too_deep"), 1);
	assert_int_equal(rejected_total("no_text"), -1);
	assert_int_equal(rejected_total("_not_kept"), 1);
	assert_int_equal(rejected_len(), 2);
	r = redisCommand(rc, "XRANGE tidewatch:rejected - + COUNT 1");
	assert_non_null(r);
	assert_int_equal(r->elements, 1);
	assert_int_equal(r->element[0]->element[1]->elements, 10);
	entry_field(r->element[0]->element[1], 0, "reason", 6);
	entry_field(r->element[0]->element[1], 1, "not_json", 8);
	entry_field(r->element[0]->element[1], 3, "at byte 0", 9);
	entry_field(r->element[0]->element[1], 5, "posts/0@1", 9);
	entry_field(r->element[0]->element[1], 7, "6", 1);
	entry_field(r->element[0]->element[1], 9, "oops\0x", 6);
	freeReplyObject(r);
	/* a consumer whose position is stale writes none of it */
	assert_int_equal(store_flush(s, "tw", a, &pos, 1, &rj, NULL), -2);
	assert_int_equal(rejected_total("not_json"), 2);
	assert_int_equal(rejected_len(), 2);
	/* the next flush adds to the totals */
	pos.from = 5;
	pos.to = 8;
	counts[0] = 0;
	counts[2] = 3;
	counts[3] = 0;
	rj.nkept = 0;
	assert_int_equal(store_flush(s, "tw", a, &pos, 1, &rj, NULL), 0);
	assert_int_equal(rejected_total("not_json"), 2);
	assert_int_equal(rejected_total("too_deep"), 2);
	assert_int_equal(rejected_total("no_text"), 3);
	assert_int_equal(rejected_total("_not_kept"), 1);
	assert_int_equal(rejected_len(), 2);
	agg_free(a);
	server_done(s);
}

/* A store and a subscriber on the password-protected server. */
static void
test_auth(void **state)
{
	const char *port = getenv("TW_REDIS_AUTH_PORT");
	struct store *s;
	struct store_sub *sub;
	char set[64], err[256];
	struct diag d;

	(void)state;
	assert_non_null(port);
	snprintf(set, sizeof set, "redis.address=127.0.0.1:%s", port);
	diag_init(&d);
	assert_int_equal(config_set(&cfg, set, &d), 0);
	diag_free(&d);
	s = store_open(&cfg, "s3cret");
	assert_int_equal(store_ping(s), 0);
	sub = store_sub_open(s, "quake", err, sizeof err);
	assert_non_null(sub);
	store_sub_free(sub);
	store_free(s);
	s = store_open(&cfg, "wrong");
	assert_int_equal(store_ping(s), -1);
	assert_non_null(strstr(store_errstr(s), ": AUTH: "));
	assert_null(store_sub_open(s, "quake", err, sizeof err));
	assert_non_null(strstr(err, ": AUTH: "));
	store_free(s);
	s = store_open(&cfg, NULL);
	assert_int_equal(store_ping(s), -1);
	assert_non_null(strstr(store_errstr(s), "NOAUTH"));
	store_free(s);
}

/* Error replies sorted into what the daemon does about them. */
static void
test_faults(void **state)
{
	static const struct {
		const char		*reply;
		enum store_fault	 fault;
		bool			 permanent;
	} cases[] = {
		{ "NOAUTH Authentication required.", STORE_FAULT_AUTH, true },
		{ "WRONGPASS invalid username-password pair or user is "
		  "disabled.", STORE_FAULT_AUTH, true },
		{ "ERR invalid password", STORE_FAULT_AUTH, true },
		{ "ERR AUTH <password> called without any password configured "
		  "for the default user.", STORE_FAULT_AUTH, true },
		{ "NOPERM this user has no permissions to run the 'script|load' "
		  "command", STORE_FAULT_NOPERM, true },
		{ "ERR DB index is out of range", STORE_FAULT_DATABASE, true },
		{ "LOADING Redis is loading the dataset in memory",
		  STORE_FAULT_UNAVAILABLE, false },
		{ "MASTERDOWN Link with MASTER is down",
		  STORE_FAULT_UNAVAILABLE, false },
		{ "READONLY You can't write against a read only replica.",
		  STORE_FAULT_UNAVAILABLE, false },
		{ "ERR wrong number of arguments", STORE_FAULT_ERROR, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum store_fault f = store_fault_of_reply(cases[i].reply);

		assert_int_equal(f, cases[i].fault);
		assert_int_equal(store_fault_permanent(f), cases[i].permanent);
	}
	assert_false(store_fault_permanent(STORE_FAULT_UNREACHABLE));
	assert_string_equal(store_fault_name(STORE_FAULT_AUTH),
	    "authentication failed");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conf_from_config, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_names, setup, teardown),
		cmocka_unit_test(test_faults),
		cmocka_unit_test_setup_teardown(test_unreachable, setup,
		    teardown),
	};
	const struct CMUnitTest server_tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_publish_gives_dedup_back,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_log_pages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_subscriber, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_and_positions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_rejects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flush_staged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_watermark_waits, setup,
		    teardown),
	};
	const struct CMUnitTest auth_tests[] = {
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
	};
	const char *port = getenv("TW_REDIS_PORT");
	const char *auth = getenv("TW_REDIS_AUTH_PORT");
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	if (port != NULL && port[0] != '\0')
		failed += cmocka_run_group_tests(server_tests, NULL, NULL);
	if (auth != NULL && auth[0] != '\0')
		failed += cmocka_run_group_tests(auth_tests, NULL, NULL);
	return failed;
}
