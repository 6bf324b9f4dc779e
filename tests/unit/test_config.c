/*
 * test_config.c — defaults, YAML loading, every error kind with its
 * position, command-line overrides, kafka.properties as librdkafka takes
 * them (secrets from the environment, never in an error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "rules.h"

static int
load(const char *yaml, struct config *c, struct diag *d)
{
	diag_init(d);
	return config_load_string("t.yaml", yaml, strlen(yaml), c, d);
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.kafka_brokers, "localhost:9092");
	assert_int_equal(c.kafka_ntopics, 1);
	assert_string_equal(c.kafka_topics[0], "posts");
	assert_string_equal(c.redis_prefix, "tidewatch:");
	assert_int_equal(c.flush_interval_ms, 1000);
	assert_int_equal(c.resolution_s, 10);
	assert_int_equal(c.retention_s, 8 * 86400);
	assert_true(c.norm.nfkc && c.norm.casefold && c.norm.t2s &&
	    c.norm.strip_format);
	assert_int_equal(c.norm.max_gap, 3);
	assert_int_equal(c.time_source, TIME_POST);
	assert_int_equal(c.max_post_bytes, 1024 * 1024);
	/* the loader's caps: the config's defaults are the loader's */
	assert_int_equal(c.rules_max_items, RULES_DEFAULT_MAX_ITEMS);
	assert_int_equal(c.rules_max_file_bytes, RULES_DEFAULT_MAX_FILE);
	config_free(&c);
}

static void
test_load(void **state)
{
	struct config c;
	struct diag d;

	(void)state;
	assert_int_equal(load(
	    "kafka:\n"
	    "  brokers: a:1,b:2\n"
	    "  topics: [weibo, douyin]\n"
	    "  properties: {fetch.min.bytes: 1, \"client.id\": tw}\n"
	    "input:\n"
	    "  fields: {region: user.region}\n"
	    "  time: kafka\n"
	    "  max_post_bytes: 64KiB\n"
	    "redis:\n"
	    "  flush_interval: 250ms\n"
	    "normalize: {t2s: false, max_gap: 0}\n"
	    "counters: {resolution: 1m, retention: 2d}\n"
	    "threads: 2\n", &c, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(c.kafka_brokers, "a:1,b:2");
	assert_int_equal(c.kafka_ntopics, 2);
	assert_string_equal(c.kafka_topics[1], "douyin");
	assert_int_equal(c.kafka_nprops, 2);
	assert_string_equal(c.kafka_props[0].key, "fetch.min.bytes");
	assert_string_equal(c.kafka_props[1].value, "tw");
	assert_string_equal(c.field_map[0].value, "user.region");
	assert_int_equal(c.time_source, TIME_KAFKA);
	assert_int_equal(c.max_post_bytes, 65536);
	assert_int_equal(c.flush_interval_ms, 250);
	assert_false(c.norm.t2s);
	assert_int_equal(c.norm.max_gap, 0);
	assert_int_equal(c.resolution_s, 60);
	assert_int_equal(c.retention_s, 2 * 86400);
	assert_int_equal(c.threads, 2);
	config_free(&c);
	diag_free(&d);
}

static void
test_errors(void **state)
{
	struct config c;
	struct diag d;

	(void)state;
	assert_int_equal(load(
	    "kafak:\n"
	    "  brokers: x\n"
	    "redis:\n"
	    "  flush_intervall: 1s\n"
	    "  timeout: soon\n"
	    "normalize:\n"
	    "  nfkc: maybe\n"
	    "input:\n"
	    "  time: never\n"
	    "threads: 0\n"
	    "log: {level: loud}\n", &c, &d), -1);
	assert_int_equal(d.n, 7);
	assert_string_equal(d.msgs[0],
	    "t.yaml:1:1: unknown key 'kafak' (did you mean 'kafka'?)");
	assert_string_equal(d.msgs[1], "t.yaml:4:3: unknown key "
	    "'redis.flush_intervall' (did you mean 'flush_interval'?)");
	assert_string_equal(d.msgs[2], "t.yaml:5:12: redis.timeout: expected a "
	    "duration like 250ms, 1s or 2m, got 'soon'");
	assert_string_equal(d.msgs[3],
	    "t.yaml:7:9: normalize.nfkc: expected true or false, got 'maybe'");
	assert_string_equal(d.msgs[4], "t.yaml:9:9: input.time: expected one of "
	    "post, kafka, arrival, got 'never'");
	assert_string_equal(d.msgs[5],
	    "t.yaml:10:10: threads: 0 is out of range (1…256)");
	assert_string_equal(d.msgs[6], "t.yaml: log.level: expected debug, info, "
	    "warn or error, got 'loud'");
	config_free(&c);
	diag_free(&d);

	/* names that go into Redis key names are bounded */
	{
		char text[256];

		snprintf(text, sizeof text, "redis: {prefix: %0129d}\n", 7);
		assert_int_equal(load(text, &c, &d), -1);
		assert_int_equal(d.n, 1);
		assert_string_equal(d.msgs[0], "t.yaml:1:17: redis.prefix: at "
		    "most 128 bytes, got 129");
		config_free(&c);
		diag_free(&d);
		snprintf(text, sizeof text, "redis: {prefix: %0128d}\n", 7);
		assert_int_equal(load(text, &c, &d), 0);
		config_free(&c);
		diag_free(&d);
	}

	assert_int_equal(load("kafka: [1, 2]\n", &c, &d), -1);
	assert_string_equal(d.msgs[0],
	    "t.yaml:1:8: kafka: expected a mapping of settings");
	config_free(&c);
	diag_free(&d);

	assert_int_equal(load("a: [\n", &c, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "t.yaml:2:1: "));
	config_free(&c);
	diag_free(&d);

	assert_int_equal(load("", &c, &d), 0);
	config_free(&c);
	diag_free(&d);
}

static void
test_set(void **state)
{
	struct config c;
	struct diag d;

	(void)state;
	diag_init(&d);
	config_defaults(&c);
	assert_int_equal(config_set(&c, "redis.address=unix:/run/redis.sock", &d), 0);
	assert_string_equal(c.redis_address, "unix:/run/redis.sock");
	assert_int_equal(config_set(&c, "kafka.topics=a,b,c", &d), 0);
	assert_int_equal(c.kafka_ntopics, 3);
	assert_int_equal(config_set(&c, "normalize.max_gap=17", &d), -1);
	assert_int_equal(config_set(&c, "nope=1", &d), -1);
	assert_int_equal(config_set(&c, "novalue", &d), -1);
	assert_int_equal(d.n, 3);
	config_free(&c);
	diag_free(&d);
}

/* -s kafka.properties.NAME=value, and the properties as librdkafka takes
 * them: NAME_env resolved, its value never in an error. */
static void
test_kafka_properties(void **state)
{
	struct config c;
	struct diag d;
	rd_kafka_conf_t *conf;
	char v[64];
	size_t n = sizeof v;

	(void)state;
	diag_init(&d);
	config_defaults(&c);
	assert_int_equal(config_set(&c, "kafka.properties.fetch.min.bytes=5", &d), 0);
	assert_int_equal(config_set(&c, "kafka.properties.fetch.min.bytes=7", &d), 0);
	assert_int_equal(config_set(&c, "kafka.properties.client.id_env=TW_UNIT_CID", &d), 0);
	assert_int_equal(c.kafka_nprops, 2);
	assert_string_equal(c.kafka_props[0].value, "7");
	assert_int_equal(config_set(&c, "kafka.properties.=1", &d), -1);
	assert_int_equal(d.n, 1);
	diag_free(&d);

	diag_init(&d);
	setenv("TW_UNIT_CID", "from-env", 1);
	conf = rd_kafka_conf_new();
	assert_int_equal(config_kafka_apply(&c, conf, &d), 0);
	assert_int_equal(rd_kafka_conf_get(conf, "client.id", v, &n), RD_KAFKA_CONF_OK);
	assert_string_equal(v, "from-env");
	rd_kafka_conf_destroy(conf);

	/* a secret librdkafka refuses: named, its value not shown */
	setenv("TW_UNIT_CID", "s3cr3t", 1);
	assert_int_equal(config_set(&c, "kafka.properties.enable.auto.commit_env=TW_UNIT_CID", &d), 0);
	conf = rd_kafka_conf_new();
	assert_int_equal(config_kafka_apply(&c, conf, &d), -1);
	rd_kafka_conf_destroy(conf);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "kafka.properties.enable.auto.commit_env: "
	    "librdkafka refuses the value of enable.auto.commit read from "
	    "variable TW_UNIT_CID (not shown)"));
	assert_null(strstr(d.msgs[0], "s3cr3t"));
	unsetenv("TW_UNIT_CID");
	diag_free(&d);
	config_free(&c);
}

static void
test_print_defaults(void **state)
{
	struct config c;
	struct diag d;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	/* the printed defaults are themselves a valid config */
	config_print_defaults(fp);
	fclose(fp);
	assert_int_equal(load(buf, &c, &d), 0);
	assert_int_equal(c.norm.max_gap, 3);
	config_free(&c);
	diag_free(&d);
	free(buf);
}

/* Reload: reloadable keys are taken, the others are only named. */
static void
test_update(void **state)
{
	struct config cur, next;
	struct diag d, applied, restart;

	(void)state;
	assert_int_equal(load("log: {level: info}\nrules: {paths: [a]}\n", &cur,
	    &d), 0);
	diag_free(&d);
	assert_int_equal(load("log: {level: debug}\nrules: {paths: [a, b]}\n"
	    "kafka: {group: other}\nstall_after: 1m\n", &next, &d), 0);
	diag_free(&d);
	diag_init(&applied);
	diag_init(&restart);
	config_update(&cur, &next, &applied, &restart);
	assert_string_equal(cur.log_level, "debug");
	assert_int_equal(cur.rule_npaths, 2);
	assert_string_equal(cur.rule_paths[1], "b");
	assert_int_equal(cur.stall_after_s, 60);
	assert_string_equal(cur.kafka_group, "tidewatch");	/* not reloadable */
	assert_int_equal(applied.n, 3);
	assert_int_equal(restart.n, 1);
	assert_string_equal(restart.msgs[0], "kafka.group");
	/* next holds the old values now, and frees them */
	assert_string_equal(next.log_level, "info");
	config_free(&cur);
	config_free(&next);
	diag_free(&applied);
	diag_free(&restart);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_kafka_properties),
		cmocka_unit_test(test_print_defaults),
		cmocka_unit_test(test_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
