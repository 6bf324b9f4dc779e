/*
 * am_alert.c — what one alert of the alert log is to Alertmanager.
 *
 * DESIGN: am_alert_convert() parses an alert as the detector or the ops
 * module wrote it to the log and builds Alertmanager's postable alert
 * (API v2): the labels that identify it (Alertmanager deduplicates, groups
 * and silences by them, so they hold nothing that changes between its
 * firing and its resolution), the annotations that describe it, and the
 * times it started and ended.  A topic alert is labelled alertname
 * "TidewatchTopic", topic, severity, block and tags (",a,b,", from the
 * rules in force through the caller's am_tags_fn); an operational one
 * "Tidewatch<Type>" (TidewatchStall, TidewatchStoreReset), topic "_ops",
 * severity and group.  A firing alert starts at its window's end (at the
 * latest when it was detected); a resolved one ends the same way; the log's
 * times are read as RFC 3339 (Z or an offset, a fraction of up to nine
 * digits truncated to milliseconds), anything else refuses the alert.
 * Pure: no I/O, no state; any thread.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertmanager.h"
#include "clock.h"
#include "jsonw.h"

static const char *
str_member(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number as people write it (184, 23.5, 7.83), "none" for null. */
static void
number_text(const cJSON *v, char *buf, size_t sz)
{
	double d;
	size_t n;

	if (!cJSON_IsNumber(v)) {
		snprintf(buf, sz, "none");
		return;
	}
	d = v->valuedouble;
	if (d == floor(d) && fabs(d) < 1e15) {
		snprintf(buf, sz, "%.0f", d);
		return;
	}
	snprintf(buf, sz, "%.2f", d);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
}

/* n decimal digits at s → *v; false when one is not a digit. */
static bool
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* RFC 3339 ("2026-11-26T05:05:01Z", "2026-11-26T13:05:01.12+08:00": an
 * optional fraction of 1 to 9 digits, then Z or an offset) → ms since the
 * epoch, the fraction truncated to ms; -1 when it is not one. */
static int64_t
parse_time_ms(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, oh, om, ms = 0, scale = 100, i, off = 0;
	const char *p;

	if (s == NULL || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec) || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (i = 1; isdigit((unsigned char)p[i]); i++)
			if (i <= 3) {
				ms += (p[i] - '0') * scale;
				scale /= 10;
			}
		if (i == 1 || i > 10)
			return -1;
		p += i;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) &&
	    p[3] == ':' && digits(p + 4, 2, &om) && p[6] == '\0' && oh <= 23 &&
	    om <= 59)
		off = (*p == '-' ? -1 : 1) * (oh * 60 + om) * 60;
	else
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return ((int64_t)timegm(&tm) - off) * 1000 + ms;
}

/* The time an alert happened: its window's end, unless it was detected
 * before that (a window still filling); detected_at when it has no window. */
static int64_t
alert_time_ms(const cJSON *root)
{
	int64_t end = parse_time_ms(str_member(root, "window_end"));
	int64_t det = parse_time_ms(str_member(root, "detected_at"));

	if (end < 0)
		return det;
	if (det >= 0 && det < end)
		return det;
	return end;
}

/* [[name,count],…] as "name count, name count". */
static void
top_text(const cJSON *arr, struct jsonw *t)
{
	const cJSON *pair;
	char num[64];
	int i = 0;

	cJSON_ArrayForEach(pair, arr) {
		const cJSON *name = cJSON_GetArrayItem(pair, 0);

		if (!cJSON_IsString(name))
			continue;
		if (i++ > 0)
			jsonw_rawz(t, ", ");
		number_text(cJSON_GetArrayItem(pair, 1), num, sizeof num);
		jsonw_rawz(t, name->valuestring);
		jsonw_rawz(t, " ");
		jsonw_rawz(t, num);
	}
}

/* Adds name: the text t holds (nothing when it is empty), and empties t. */
static void
annotate(cJSON *ann, const char *name, struct jsonw *t)
{
	if (t->len > 0)
		cJSON_AddStringToObject(ann, name, t->buf);
	jsonw_reset(t);
}

/* The evidence of a topic alert: summary, counts, keywords, breakdowns,
 * samples, rule file. */
static void
topic_annotations(const cJSON *root, bool firing, cJSON *ann)
{
	const char *name = str_member(root, "name");
	const cJSON *v, *e;
	struct jsonw t = { NULL, 0, 0 };
	char count[64], base[64], ratio[64], win[64], buf[512];
	int i = 0;

	number_text(cJSON_GetObjectItemCaseSensitive(root, "count"), count,
	    sizeof count);
	number_text(cJSON_GetObjectItemCaseSensitive(root, "baseline_rate"),
	    base, sizeof base);
	number_text(cJSON_GetObjectItemCaseSensitive(root, "ratio"), ratio,
	    sizeof ratio);
	number_text(cJSON_GetObjectItemCaseSensitive(root, "window_s"), win,
	    sizeof win);
	if (firing)
		snprintf(buf, sizeof buf, "%s: %s posts in %s s, baseline %s "
		    "(ratio %s)", name != NULL ? name : "?", count, win, base,
		    ratio);
	else
		snprintf(buf, sizeof buf, "%s: back to normal, %s posts in %s s, "
		    "baseline %s", name != NULL ? name : "?", count, win, base);
	cJSON_AddStringToObject(ann, "summary", buf);
	snprintf(buf, sizeof buf, "%s posts vs baseline %s per window of %s s",
	    count, base, win);
	cJSON_AddStringToObject(ann, "count", buf);
	if ((name = str_member(root, "condition")) != NULL)
		cJSON_AddStringToObject(ann, "condition", name);
	top_text(cJSON_GetObjectItemCaseSensitive(root, "top_keywords"), &t);
	annotate(ann, "top_keywords", &t);
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root,
	    "breakdown")) {
		if (t.len > 0)
			jsonw_rawz(&t, "; ");
		jsonw_rawz(&t, v->string);
		jsonw_rawz(&t, ": ");
		top_text(v, &t);
	}
	annotate(ann, "breakdown", &t);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root,
	    "samples")) {
		const char *s = str_member(e, "text");

		if (s == NULL)
			continue;
		if (i++ > 0)
			jsonw_rawz(&t, "\n");
		jsonw_rawz(&t, s);
	}
	annotate(ann, "samples", &t);
	if ((name = str_member(root, "rules_file")) != NULL)
		cJSON_AddStringToObject(ann, "rules_file", name);
	jsonw_free(&t);
}

/* "<topic>:<block>:…" → block; -1 when the id is not that. */
static long
id_block(const char *id)
{
	const char *c = id != NULL ? strchr(id, ':') : NULL;
	char *end;
	long b;

	if (c == NULL || !isdigit((unsigned char)c[1]))
		return -1;
	b = strtol(c + 1, &end, 10);
	return *end == ':' ? b : -1;
}

static int
convert_topic(const cJSON *root, const char *base_url, am_tags_fn *tags,
    void *ctx, struct am_alert *out)
{
	const char *topic = str_member(root, "topic");
	cJSON *labels, *ann;
	char buf[4096], block[32];
	long b = id_block(str_member(root, "id"));

	if (topic == NULL || b < 0)
		return -1;
	snprintf(out->topic, sizeof out->topic, "%s", topic);
	snprintf(out->key, sizeof out->key, "%s:%ld", topic, b);
	snprintf(block, sizeof block, "%ld", b);
	labels = cJSON_AddObjectToObject(out->obj, "labels");
	cJSON_AddStringToObject(labels, "alertname", "TidewatchTopic");
	cJSON_AddStringToObject(labels, "topic", topic);
	if (str_member(root, "severity") != NULL)
		cJSON_AddStringToObject(labels, "severity",
		    str_member(root, "severity"));
	cJSON_AddStringToObject(labels, "block", block);
	buf[0] = '\0';
	tags(ctx, topic, &out->topic_known, buf, sizeof buf);
	if (buf[0] != '\0')
		cJSON_AddStringToObject(labels, "tags", buf);
	ann = cJSON_AddObjectToObject(out->obj, "annotations");
	topic_annotations(root, out->firing, ann);
	if (base_url != NULL && base_url[0] != '\0') {
		size_t n = strlen(base_url);

		while (n > 0 && base_url[n - 1] == '/')
			n--;
		snprintf(buf, sizeof buf, "%.*s/topics/%s", (int)n, base_url,
		    topic);
		cJSON_AddStringToObject(ann, "link", buf);
		cJSON_AddStringToObject(out->obj, "generatorURL", buf);
	}
	return 0;
}

/* "store_reset" → "TidewatchStoreReset". */
static void
ops_alertname(const char *type, char *buf, size_t sz)
{
	size_t n = (size_t)snprintf(buf, sz, "Tidewatch");
	bool up = true;

	for (; *type != '\0' && n + 1 < sz; type++) {
		if (*type == '_' || *type == '-') {
			up = true;
			continue;
		}
		buf[n++] = up ? (char)toupper((unsigned char)*type) : *type;
		up = false;
	}
	buf[n] = '\0';
}

static int
convert_ops(const cJSON *root, const char *type, struct am_alert *out)
{
	static const char *const ident[] = { "id", "type", "state", "topic",
	    "severity", "group", NULL };
	const char *group = str_member(root, "group");
	const cJSON *v;
	cJSON *labels, *ann;
	char name[128], buf[512];
	size_t i;

	ops_alertname(type, name, sizeof name);
	snprintf(out->topic, sizeof out->topic, "_ops");
	if (strcmp(type, "stall") == 0)		/* resolved later */
		snprintf(out->key, sizeof out->key, "_ops:%s", type);
	out->topic_known = true;
	labels = cJSON_AddObjectToObject(out->obj, "labels");
	cJSON_AddStringToObject(labels, "alertname", name);
	cJSON_AddStringToObject(labels, "topic", "_ops");
	if (str_member(root, "severity") != NULL)
		cJSON_AddStringToObject(labels, "severity",
		    str_member(root, "severity"));
	if (group != NULL)
		cJSON_AddStringToObject(labels, "group", group);
	ann = cJSON_AddObjectToObject(out->obj, "annotations");
	snprintf(buf, sizeof buf, "tidewatch %s%s (group %s)", type,
	    out->firing ? "" : " resolved", group != NULL ? group : "?");
	cJSON_AddStringToObject(ann, "summary", buf);
	cJSON_ArrayForEach(v, root) {
		for (i = 0; ident[i] != NULL; i++)
			if (strcmp(v->string, ident[i]) == 0)
				break;
		if (ident[i] != NULL)
			continue;
		if (cJSON_IsString(v))
			cJSON_AddStringToObject(ann, v->string, v->valuestring);
		else if (cJSON_IsNumber(v) || cJSON_IsNull(v)) {
			number_text(v, buf, sizeof buf);
			cJSON_AddStringToObject(ann, v->string, buf);
		}
	}
	return 0;
}

int
am_alert_convert(const char *json, size_t len, const char *base_url,
    am_tags_fn *tags, void *ctx, struct am_alert *out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const char *state, *type;
	int64_t t;
	int rc;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(root) ||
	    (state = str_member(root, "state")) == NULL ||
	    (strcmp(state, "firing") != 0 && strcmp(state, "resolved") != 0) ||
	    (t = alert_time_ms(root)) < 0) {
		cJSON_Delete(root);
		return -1;
	}
	out->firing = strcmp(state, "firing") == 0;
	out->starts_ms = t;
	out->ends_ms = out->firing ? 0 : t;
	out->obj = cJSON_CreateObject();
	type = str_member(root, "type");
	rc = type != NULL ? convert_ops(root, type, out) :
	    convert_topic(root, base_url, tags, ctx, out);
	cJSON_Delete(root);
	if (rc == -1) {
		cJSON_Delete(out->obj);
		out->obj = NULL;
	}
	return rc;
}

void
am_alert_times(cJSON *obj, int64_t starts_ms, int64_t ends_ms)
{
	char buf[64];

	cJSON_DeleteItemFromObjectCaseSensitive(obj, "startsAt");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "endsAt");
	clock_rfc3339_ms(starts_ms, buf, sizeof buf);
	cJSON_AddStringToObject(obj, "startsAt", buf);
	clock_rfc3339_ms(ends_ms, buf, sizeof buf);
	cJSON_AddStringToObject(obj, "endsAt", buf);
}

void
am_alert_set_labels(cJSON *obj, const cJSON *labels)
{
	cJSON_ReplaceItemInObjectCaseSensitive(obj, "labels",
	    cJSON_Duplicate(labels, 1));
}
