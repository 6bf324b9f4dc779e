/*
 * test_am_alert.c — alerts of the log as Alertmanager gets them (no
 * server): a topic alert's labels (tags from the lookup, none when the
 * topic has none), its evidence as annotations, the link only with a base
 * URL, its start at the window's end or earlier detection, a resolved
 * one's end; operational alerts named by their type, stall resolvable and
 * store_reset not; what is not an alert is refused; times in RFC 3339
 * with a fraction of 1 to 9 digits and any offset, and what is not one.
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

static const char FIRING[] =
    "{\"id\":\"quake:1:1795669510:firing\",\"state\":\"firing\","
    "\"topic\":\"quake\",\"name\":\"地震\",\"severity\":\"critical\","
    "\"condition\":\"ratio\",\"window_s\":30,"
    "\"window_start\":\"2026-11-26T05:04:40Z\","
    "\"window_end\":\"2026-11-26T05:05:10Z\",\"count\":184,"
    "\"baseline_rate\":23.5,\"ratio\":7.83,\"zscore\":null,"
    "\"top_keywords\":[[\"地震\",120],[\"好晃\",40]],"
    "\"breakdown\":{\"region\":[[\"成都\",90],[\"绵阳\",31]]},"
    "\"samples\":[{\"id\":\"p1\",\"text\":\"刚才地震了\"},"
    "{\"id\":\"p2\",\"text\":\"好晃\"}],\"rules_file\":\"r.yaml\","
    "\"detected_at\":\"2026-11-26T05:05:11.120Z\"}";

static const char RESOLVED[] =
    "{\"id\":\"quake:1:1795669600:resolved\",\"state\":\"resolved\","
    "\"topic\":\"quake\",\"name\":\"地震\",\"severity\":\"critical\","
    "\"window_s\":30,\"window_end\":\"2026-11-26T05:06:40Z\",\"count\":3,"
    "\"detected_at\":\"2026-11-26T05:06:39.500Z\"}";

static int lookups;

static void
tags_of(void *ctx, const char *topic, bool *known, char *tags, size_t sz)
{
	(void)ctx;
	lookups++;
	*known = strcmp(topic, "gone") != 0;
	snprintf(tags, sz, "%s", strcmp(topic, "quake") == 0 ?
	    ",disaster,sichuan," : "");
}

static const char *
member(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
topic_firing(void **state)
{
	struct am_alert al;

	(void)state;
	assert_int_equal(am_alert_convert(FIRING, strlen(FIRING),
	    "http://tw.example/", tags_of, NULL, &al), 0);
	assert_true(al.firing);
	assert_true(al.topic_known);
	assert_string_equal(al.key, "quake:1");
	assert_string_equal(member(al.obj, "labels", "alertname"),
	    "TidewatchTopic");
	assert_string_equal(member(al.obj, "labels", "topic"), "quake");
	assert_string_equal(member(al.obj, "labels", "severity"), "critical");
	assert_string_equal(member(al.obj, "labels", "block"), "1");
	assert_string_equal(member(al.obj, "labels", "tags"),
	    ",disaster,sichuan,");
	assert_string_equal(member(al.obj, "annotations", "summary"),
	    "地震: 184 posts in 30 s, baseline 23.5 (ratio 7.83)");
	assert_string_equal(member(al.obj, "annotations", "count"),
	    "184 posts vs baseline 23.5 per window of 30 s");
	assert_string_equal(member(al.obj, "annotations", "top_keywords"),
	    "地震 120, 好晃 40");
	assert_string_equal(member(al.obj, "annotations", "breakdown"),
	    "region: 成都 90, 绵阳 31");
	assert_string_equal(member(al.obj, "annotations", "samples"),
	    "刚才地震了\n好晃");
	assert_string_equal(member(al.obj, "annotations", "link"),
	    "http://tw.example/topics/quake");
	assert_string_equal(member(al.obj, "generatorURL", NULL),
	    "http://tw.example/topics/quake");
	/* 2026-11-26T05:05:10Z: the window's end, before its detection */
	assert_int_equal(al.starts_ms, INT64_C(1795669510000));
	am_alert_times(al.obj, al.starts_ms, al.starts_ms + 1500);
	assert_string_equal(member(al.obj, "startsAt", NULL),
	    "2026-11-26T05:05:10.000Z");
	assert_string_equal(member(al.obj, "endsAt", NULL),
	    "2026-11-26T05:05:11.500Z");
	cJSON_Delete(al.obj);
}

static void
topic_resolved_and_plain(void **state)
{
	struct am_alert al;
	cJSON *labels;

	(void)state;
	assert_int_equal(am_alert_convert(RESOLVED, strlen(RESOLVED), NULL,
	    tags_of, NULL, &al), 0);
	assert_false(al.firing);
	assert_string_equal(al.key, "quake:1");
	/* detected before its window's planned end: ends when detected */
	assert_int_equal(al.ends_ms, INT64_C(1795669599500));
	assert_null(member(al.obj, "annotations", "link"));
	assert_null(cJSON_GetObjectItem(al.obj, "generatorURL"));
	assert_non_null(strstr(member(al.obj, "annotations", "summary"),
	    "back to normal"));
	labels = cJSON_CreateObject();
	cJSON_AddStringToObject(labels, "alertname", "Other");
	am_alert_set_labels(al.obj, labels);
	cJSON_Delete(labels);
	assert_string_equal(member(al.obj, "labels", "alertname"), "Other");
	cJSON_Delete(al.obj);
}

static void
topic_without_tags_or_rules(void **state)
{
	static const char GONE[] = "{\"id\":\"gone:0:1:firing\","
	    "\"state\":\"firing\",\"topic\":\"gone\",\"severity\":\"info\","
	    "\"window_end\":\"2026-11-26T05:05:10Z\"}";
	struct am_alert al;

	(void)state;
	assert_int_equal(am_alert_convert(GONE, strlen(GONE), "", tags_of,
	    NULL, &al), 0);
	assert_false(al.topic_known);
	assert_null(member(al.obj, "labels", "tags"));
	assert_null(member(al.obj, "annotations", "link"));
	cJSON_Delete(al.obj);
}

static void
ops_alerts(void **state)
{
	static const char STALL[] = "{\"id\":\"_ops:stall:1\",\"type\":\"stall\","
	    "\"state\":\"firing\",\"topic\":\"_ops\",\"severity\":\"critical\","
	    "\"group\":\"tw\",\"silent_s\":300,\"last_post_at\":"
	    "\"2026-11-26T05:00:00.000Z\",\"detected_at\":"
	    "\"2026-11-26T05:05:00.000Z\"}";
	static const char RESET[] = "{\"id\":\"_ops:store_reset:h:1\","
	    "\"type\":\"store_reset\",\"state\":\"firing\",\"topic\":\"_ops\","
	    "\"severity\":\"critical\",\"group\":\"tw\",\"resets\":2,"
	    "\"detected_at\":\"2026-11-26T05:05:00Z\"}";
	struct am_alert al;
	int before = lookups;

	(void)state;
	assert_int_equal(am_alert_convert(STALL, strlen(STALL), NULL, tags_of,
	    NULL, &al), 0);
	assert_int_equal(lookups, before);	/* no rules asked */
	assert_string_equal(al.key, "_ops:stall");
	assert_string_equal(member(al.obj, "labels", "alertname"),
	    "TidewatchStall");
	assert_string_equal(member(al.obj, "labels", "topic"), "_ops");
	assert_string_equal(member(al.obj, "labels", "group"), "tw");
	assert_string_equal(member(al.obj, "annotations", "silent_s"), "300");
	assert_string_equal(member(al.obj, "annotations", "last_post_at"),
	    "2026-11-26T05:00:00.000Z");
	assert_int_equal(al.starts_ms, INT64_C(1795669500000));
	cJSON_Delete(al.obj);
	assert_int_equal(am_alert_convert(RESET, strlen(RESET), NULL, tags_of,
	    NULL, &al), 0);
	assert_string_equal(al.key, "");
	assert_string_equal(member(al.obj, "labels", "alertname"),
	    "TidewatchStoreReset");
	cJSON_Delete(al.obj);
}

static void
not_alerts(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{\"state\":\"firing\"}",
		"{\"id\":\"x\",\"state\":\"firing\",\"topic\":\"x\","
		    "\"window_end\":\"2026-11-26T05:05:10Z\"}",
		"{\"id\":\"x:0:1:odd\",\"state\":\"odd\",\"topic\":\"x\","
		    "\"window_end\":\"2026-11-26T05:05:10Z\"}",
		"{\"id\":\"x:0:1:firing\",\"state\":\"firing\",\"topic\":\"x\"}",
		"{\"digest\":true,\"alerts\":[]}",
	};
	struct am_alert al;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(am_alert_convert(bad[i], strlen(bad[i]), NULL,
		    tags_of, NULL, &al), -1);
		assert_null(al.obj);
	}
}

/* The start of a topic alert whose window ends at `at`; -1 if refused. */
static int64_t
start_of(const char *at)
{
	char json[256];
	struct am_alert al;
	int64_t ms;

	snprintf(json, sizeof json, "{\"id\":\"x:0:1:firing\",\"state\":"
	    "\"firing\",\"topic\":\"x\",\"window_end\":\"%s\"}", at);
	if (am_alert_convert(json, strlen(json), NULL, tags_of, NULL, &al) == -1)
		return -1;
	ms = al.starts_ms;
	cJSON_Delete(al.obj);
	return ms;
}

static void
times_rfc3339(void **state)
{
	static const struct { const char *at; int64_t ms; } ok[] = {
		{ "2026-11-26T05:05:10Z", 0 },
		{ "2026-11-26T05:05:10.1Z", 100 },
		{ "2026-11-26T05:05:10.12Z", 120 },
		{ "2026-11-26T05:05:10.120Z", 120 },
		{ "2026-11-26T05:05:10.1234Z", 123 },
		{ "2026-11-26T05:05:10.123456789Z", 123 },
		{ "2026-11-26T05:05:10.000000001Z", 0 },
		{ "2026-11-26t05:05:10.5z", 500 },
		{ "2026-11-26T13:05:10.5+08:00", 500 },
		{ "2026-11-25T23:35:10.25-05:30", 250 },
		{ "2026-11-26T05:05:10+00:00", 0 },
	};
	static const char *const bad[] = {
		"2026-11-26T05:05:10", "2026-11-26T05:05:10.Z",
		"2026-11-26T05:05:10.1234567890Z", "2026-11-26T05:05:10+0800",
		"2026-11-26T05:05:10+08", "2026-11-26T05:05:10Zx",
		"2026-11-26 05:05:10Z", "2026-13-26T05:05:10Z",
		"2026-11-26T05:05:1Z", "+2026-11-26T05:05:10Z",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(start_of(ok[i].at),
		    INT64_C(1795669510000) + ok[i].ms);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(start_of(bad[i]), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(topic_firing),
		cmocka_unit_test(topic_resolved_and_plain),
		cmocka_unit_test(topic_without_tags_or_rules),
		cmocka_unit_test(ops_alerts),
		cmocka_unit_test(not_alerts),
		cmocka_unit_test(times_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
