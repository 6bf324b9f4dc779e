/*
 * test_metrics.c — the exposition text (escaping, histogram, per-topic and
 * lag tables), the process_* metrics, librdkafka statistics parsing,
 * /healthz reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "stats.h"
#include "store.h"

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void
test_topics_escaped(void **state)
{
	char *m;

	(void)state;
	metrics_reset();
	metrics_topic_add("food-safety", 3);
	metrics_topic_add("food-safety", 2);
	metrics_topic_add("a\"b\\c\nd", 1);
	m = metrics_render();
	assert_true(has_line(m, "tidewatch_posts_matched_total{topic=\"food-safety\"} 5"));
	assert_true(has_line(m, "tidewatch_posts_matched_total{topic=\"a\\\"b\\\\c\\nd\"} 1"));
	assert_true(has_line(m, "# TYPE tidewatch_posts_matched_total counter"));
	free(m);
}

/* The value of the sample `name` (a line "name value"), or -1. */
static double
sample(const char *text, const char *name)
{
	const char *p = text;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

/* process_* as the Prometheus client libraries name them. */
static void
test_process(void **state)
{
	volatile double x = 0;
	char *m;
	long i;

	(void)state;
	for (i = 0; i < 20000000; i++)	/* some CPU time */
		x += (double)i;
	m = metrics_render();
	assert_true(has_line(m, "# TYPE process_cpu_seconds_total counter"));
	assert_true(sample(m, "process_cpu_seconds_total") > 0);
	assert_true(has_line(m, "# TYPE process_resident_memory_bytes gauge"));
	assert_true(sample(m, "process_resident_memory_bytes") > 1 << 20);
	assert_true(sample(m, "process_virtual_memory_bytes") >=
	    sample(m, "process_resident_memory_bytes"));
	/* stdin, stdout, stderr at least */
	assert_true(sample(m, "process_open_fds") >= 3);
	assert_true(sample(m, "process_max_fds") >= 3);
	assert_true(sample(m, "process_start_time_seconds") >= 0);
	free(m);
}

static void
test_histogram(void **state)
{
	char *m;

	(void)state;
	metrics_reset();
	metrics_flush_observe(0.003);
	metrics_flush_observe(0.2);
	metrics_flush_observe(60);
	m = metrics_render();
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_bucket{le=\"0.0025\"} 0"));
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_bucket{le=\"0.005\"} 1"));
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_bucket{le=\"0.25\"} 2"));
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_bucket{le=\"10\"} 2"));
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_bucket{le=\"+Inf\"} 3"));
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_count 3"));
	assert_true(has_line(m, "tidewatch_flush_duration_seconds_sum 60.203000000"));
	free(m);
}

static const char STATS1[] =
    "{\"name\":\"c#consumer-1\",\"type\":\"consumer\","
    "\"brokers\":{\"127.0.0.1:9092/1\":{\"nodeid\":1,\"state\":\"UP\"}},"
    "\"topics\":{\"posts\":{\"topic\":\"posts\",\"partitions\":{"
    "\"0\":{\"partition\":0,\"desired\":true,\"consumer_lag\":42},"
    "\"1\":{\"partition\":1,\"desired\":true,\"consumer_lag\":-1,"
    "\"app_offset\":-1001,\"next_offset\":5,\"hi_offset\":9,\"ls_offset\":9},"
    "\"2\":{\"partition\":2,\"desired\":false,\"consumer_lag\":-1},"
    "\"-1\":{\"partition\":-1,\"desired\":false,\"consumer_lag\":-1}}}}}";

static void
test_kafka_stats(void **state)
{
	char *m;

	(void)state;
	metrics_reset();
	STAT_SET(kafka_ok_ms, 0);
	assert_int_equal(metrics_kafka_stats(0, STATS1, strlen(STATS1)), 0);
	assert_int_equal(metrics_partitions(0), 2);
	assert_true(STAT_GET(kafka_ok_ms) > 0);
	m = metrics_render();
	assert_true(has_line(m, "tidewatch_kafka_consumer_lag{topic=\"posts\",partition=\"0\"} 42"));
	assert_true(has_line(m, "tidewatch_kafka_consumer_lag{topic=\"posts\",partition=\"1\"} 4"));
	assert_null(strstr(m, "partition=\"2\""));
	free(m);
	/* a second consumer adds its own; a new document replaces the old */
	assert_int_equal(metrics_kafka_stats(1, STATS1, strlen(STATS1)), 0);
	assert_int_equal(metrics_partitions(-1), 4);
	assert_int_equal(metrics_kafka_stats(0, "{\"topics\":{}}", 13), 0);
	assert_int_equal(metrics_partitions(0), 0);
	assert_int_equal(metrics_partitions(-1), 2);
	assert_int_equal(metrics_kafka_stats(0, "{not json", 9), -1);
	metrics_reset();
}

static void
test_health(void **state)
{
	char why[128];
	int64_t now = 1000000000;

	(void)state;
	metrics_set_unhealthy_after(30000);
	STAT_SET(redis_ok_ms, now - 1000);
	STAT_SET(kafka_ok_ms, now - 2000);
	STAT_SET(last_post_ms, 0);
	assert_int_equal(metrics_health(now, why, sizeof why), 0);
	assert_string_equal(why, "ok");
	STAT_SET(redis_ok_ms, now - 45000);
	assert_int_equal(metrics_health(now, why, sizeof why), -1);
	assert_string_equal(why, "redis unreachable for 45s");
	STAT_SET(kafka_ok_ms, now - 31000);
	assert_int_equal(metrics_health(now, why, sizeof why), -1);
	assert_string_equal(why, "redis unreachable for 45s, kafka unreachable for 31s");
	STAT_SET(last_post_ms, now - 10);	/* a message is a sign of Kafka */
	assert_int_equal(metrics_health(now, why, sizeof why), -1);
	assert_string_equal(why, "redis unreachable for 45s");
	/* Redis answers but refuses: the kind of refusal, not "unreachable" */
	STAT_SET(redis_fault, STORE_FAULT_AUTH);
	assert_int_equal(metrics_health(now, why, sizeof why), -1);
	assert_string_equal(why, "redis: authentication failed for 45s");
	STAT_SET(redis_fault, STORE_FAULT_NOPERM);
	assert_int_equal(metrics_health(now, why, sizeof why), -1);
	assert_string_equal(why, "redis: permission denied for 45s");
	STAT_SET(redis_fault, STORE_FAULT_UNREACHABLE);
	assert_int_equal(metrics_health(now, why, sizeof why), -1);
	assert_string_equal(why, "redis unreachable for 45s");
	STAT_SET(redis_fault, STORE_FAULT_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topics_escaped),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_process),
		cmocka_unit_test(test_kafka_stats),
		cmocka_unit_test(test_health),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
