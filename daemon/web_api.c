/*
 * web_api.c — the web view's JSON answers: overview, one topic, alerts.
 *
 * DESIGN: pure builders over the store and the rule set in force, called
 * on the listener's thread by web.c with the view's own store.  Every
 * reader is shared: topview.c evaluates the windows (the detector's own
 * arithmetic, as `tidewatch top`), store_get_top/store_get_samples give
 * keywords, count_by values and samples (as alert evidence does), and
 * store_web_alerts reads the alert log newest first.  Every query is
 * bounded (web.h: hours, range, points, limits), so an answer costs at
 * most a fixed number of Redis reads per topic.  The rule text is read
 * from the topic's file at request time: the lines of its entry, from its
 * line to the next entry at the same indentation.  The JSON is built with
 * cJSON, so every string from posts or Redis is escaped here; the page
 * sets every text with textContent.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "rules.h"
#include "store.h"
#include "topview.h"
#include "web.h"
#include "xmalloc.h"

static char *
error_json(int *status, int code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *out;

	cJSON_AddStringToObject(o, "error", msg);
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	*status = code;
	return out;
}

static char *
finish(cJSON *o, int *status)
{
	char *out = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	*status = 200;
	return out;
}

/* A measure with two decimals, or null when not finite (JSON has no inf
 * or nan). */
static cJSON *
num2(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(round(v * 100) / 100) :
	    cJSON_CreateNull();
}

static void
add_num(cJSON *o, const char *key, double v)
{
	cJSON_AddItemToObject(o, key, num2(v));
}

static bool
has_tag(const struct rule_topic *t, const char *tag)
{
	size_t i;

	for (i = 0; i < t->ntags; i++)
		if (strcmp(t->tags[i], tag) == 0)
			return true;
	return false;
}

static cJSON *
tags_json(const struct rule_topic *t)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < t->ntags; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(t->tags[i]));
	return a;
}

static const char *
state_name(const struct topview *v)
{
	return v->firing ? "firing" : v->met ? "pending" : "ok";
}

/* What overview and topic say about a topic's current window. */
static void
add_now(cJSON *o, const struct rule_topic *t, const struct topview *v)
{
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "name", t->name != NULL ? t->name : t->id);
	cJSON_AddItemToObject(o, "tags", tags_json(t));
	cJSON_AddStringToObject(o, "state", state_name(v));
	cJSON_AddNumberToObject(o, "window_s", (double)v->a->window_s);
	cJSON_AddNumberToObject(o, "count", (double)v->count);
	add_num(o, "baseline", v->baseline >= 0 ? v->baseline : NAN);
	add_num(o, "ratio", v->ratio);
}

/* Every tag of the rule set, each once, in order of first use. */
static cJSON *
all_tags(const struct ruleset *rs)
{
	cJSON *a = cJSON_CreateArray(), *e;
	size_t i, j;

	for (i = 0; i < rs->ntopics; i++)
		for (j = 0; j < rs->topics[i].ntags; j++) {
			const char *tag = rs->topics[i].tags[j];
			bool seen = false;

			cJSON_ArrayForEach(e, a)
				if (strcmp(e->valuestring, tag) == 0)
					seen = true;
			if (!seen)
				cJSON_AddItemToArray(a, cJSON_CreateString(tag));
		}
	return a;
}

char *
webapi_overview(const struct webapi_ctx *c, const struct ruleset *rs,
    const struct webapi_query *q, int *status)
{
	int64_t hours = q->hours > 0 ? q->hours : WEBAPI_DEFAULT_HOURS;
	int64_t T, since, span, step, b;
	struct topview *v;
	const struct rule_topic **tv;
	struct rule_alert plain;
	size_t n = 0, i, k, *idx;
	cJSON *o, *arr;
	char *out;

	if (hours > WEBAPI_MAX_HOURS)
		hours = WEBAPI_MAX_HOURS;
	if (topview_frame_end(c->store, c->group, c->res, c->now, &T,
	    &since) == -1)
		return error_json(status, 503, store_errstr(c->store));
	span = hours * 3600;
	if (since != INT64_MAX && T - since < span)	/* nothing before */
		span = T - since;
	step = (span / WEBAPI_SPARK_POINTS + c->res - 1) / c->res * c->res;
	if (step < c->res)
		step = c->res;
	topview_plain_block(&plain);
	v = xcalloc(rs->ntopics + 1, sizeof *v);
	tv = xcalloc(rs->ntopics + 1, sizeof *tv);
	for (i = 0; i < rs->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[i];

		if (q->tag != NULL && q->tag[0] != '\0' && !has_tag(t, q->tag))
			continue;
		tv[n] = t;
		v[n].id = t->id;
		v[n].a = t->nalerts > 0 ? &t->alerts[0] : &plain;
		v[n].nblocks = t->nalerts;
		n++;
	}
	if (topview_read(c->store, c->res, since, T, step *
	    WEBAPI_SPARK_POINTS, v, n) == -1) {
		topview_clear(v, n);
		free(v);
		free(tv);
		return error_json(status, 503, store_errstr(c->store));
	}
	idx = xcalloc(n + 1, sizeof *idx);
	topview_order(v, n, idx);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "time", (double)T);
	cJSON_AddNumberToObject(o, "resolution_s", (double)c->res);
	cJSON_AddNumberToObject(o, "spark_from",
	    (double)(T - step * WEBAPI_SPARK_POINTS));
	cJSON_AddNumberToObject(o, "spark_step", (double)step);
	cJSON_AddItemToObject(o, "tags", all_tags(rs));
	arr = cJSON_AddArrayToObject(o, "topics");
	for (i = 0; i < n; i++) {
		const struct topview *tw = &v[idx[i]];
		cJSON *e = cJSON_CreateObject();
		double pts[WEBAPI_SPARK_POINTS];
		int64_t from = T - step * WEBAPI_SPARK_POINTS;

		add_now(e, tv[idx[i]], tw);
		for (k = 0; k < WEBAPI_SPARK_POINTS; k++) {
			pts[k] = 0;
			for (b = from + (int64_t)k * step;
			    b < from + (int64_t)(k + 1) * step; b += c->res)
				pts[k] += (double)sparse_count(&tw->counts, b);
		}
		cJSON_AddItemToObject(e, "spark",
		    cJSON_CreateDoubleArray(pts, WEBAPI_SPARK_POINTS));
		cJSON_AddItemToArray(arr, e);
	}
	out = finish(o, status);
	topview_clear(v, n);
	free(v);
	free(tv);
	free(idx);
	return out;
}

/* The alert log entries read, of one topic or all. */
struct marker_ctx {
	cJSON		*arr;
	const char	*topic;		/* NULL: every one */
};

bool
webapi_add_alert(cJSON *arr, const char *topic, const char *entry_id,
    const char *json, size_t len)
{
	cJSON *a = cJSON_ParseWithLength(json, len), *e;
	const cJSON *t;

	if (a == NULL)
		return false;
	t = cJSON_GetObjectItemCaseSensitive(a, "topic");
	if (topic != NULL && (!cJSON_IsString(t) ||
	    strcmp(t->valuestring, topic) != 0)) {
		cJSON_Delete(a);
		return false;
	}
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "entry", entry_id);
	cJSON_AddItemToObject(e, "alert", a);
	cJSON_AddItemToArray(arr, e);
	return true;
}

/* store_log_fn: the entries of one topic, or all. */
static void
on_alert(void *arg, const char *entry_id, const char *json, size_t len)
{
	struct marker_ctx *mc = arg;

	(void)webapi_add_alert(mc->arr, mc->topic, entry_id, json, len);
}

/* Top names as [{"name":…,"count":…}] (kind 'k' keywords, 'b' field). */
static int
add_top(const struct webapi_ctx *c, cJSON *to, const char *key, char kind,
    const char *topic, const char *field, int64_t from, int64_t until)
{
	char **names;
	int64_t *counts;
	size_t n, i;
	cJSON *arr;

	if (store_get_top(c->store, kind, topic, field, from, until,
	    WEBAPI_TOP_N, &names, &counts, &n) == -1)
		return -1;
	arr = cJSON_AddArrayToObject(to, key);
	for (i = 0; i < n; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "name", names[i]);
		cJSON_AddNumberToObject(e, "count", (double)counts[i]);
		cJSON_AddItemToArray(arr, e);
		free(names[i]);
	}
	free(names);
	free(counts);
	return 0;
}

static int
add_samples(const struct webapi_ctx *c, cJSON *o, const char *topic,
    int64_t from, int64_t to)
{
	char **json;
	size_t n, i;
	cJSON *arr;

	if (store_get_samples(c->store, topic, from, to, WEBAPI_SAMPLES, &json,
	    &n) == -1)
		return -1;
	arr = cJSON_AddArrayToObject(o, "samples");
	for (i = 0; i < n; i++) {
		cJSON *s = cJSON_Parse(json[i]);

		if (s != NULL)
			cJSON_AddItemToArray(arr, s);
		free(json[i]);
	}
	free(json);
	return 0;
}

/* Leading spaces of a line; -1 for a blank or comment line. */
static int
indent_of(const char *line)
{
	int n = 0;

	while (line[n] == ' ')
		n++;
	if (line[n] == '\0' || line[n] == '\n' || line[n] == '\r' ||
	    line[n] == '#')
		return -1;
	return n;
}

/* The topic's entry as written: its lines from t->line while they are
 * blank, comments or indented deeper than the entry's "- " (col is the
 * column of its first key, 1-based). */
static char *
rule_text(const struct rule_topic *t)
{
	FILE *fp;
	char line[4096];
	size_t used = 0, cap = 0, nl = 0;
	char *buf = NULL;
	int lineno = 0, body = t->col > 2 ? t->col - 3 : 0, ind;

	if (t->file == NULL || (fp = fopen(t->file, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof line, fp) != NULL && nl < WEBAPI_RULE_LINES) {
		size_t n = strlen(line);

		if (++lineno < t->line)
			continue;
		ind = indent_of(line);
		if (lineno > t->line && ind >= 0 && ind <= body)
			break;
		buf = xgrow(buf, &cap, used + n + 1, 1);
		memcpy(buf + used, line, n + 1);
		used += n;
		nl++;
	}
	fclose(fp);
	while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' '))
		buf[--used] = '\0';
	return buf;
}

static const struct rule_topic *
find_topic(const struct ruleset *rs, const char *id)
{
	size_t i;

	for (i = 0; i < rs->ntopics; i++)
		if (strcmp(rs->topics[i].id, id) == 0)
			return &rs->topics[i];
	return NULL;
}

/* The range asked for, aligned, bounded and starting no earlier than the
 * first bucket counted: *step and *n points. */
static void
topic_range(const struct webapi_ctx *c, const struct webapi_query *q,
    int64_t T, int64_t since, int64_t *from, int64_t *step, size_t *n)
{
	int64_t to = q->to > 0 ? q->to : T, f, points;

	to = (to + c->res - 1) / c->res * c->res;
	f = q->from > 0 && q->from < to ? q->from : to - WEBAPI_DEFAULT_RANGE_S;
	if (since != INT64_MAX && f < since - since % c->res)
		f = since - since % c->res;	/* nothing counted before */
	if (to - f > WEBAPI_MAX_RANGE_S)
		f = to - WEBAPI_MAX_RANGE_S;
	if (to - f < c->res)
		f = to - c->res;
	points = q->points > 0 ? q->points : WEBAPI_DEFAULT_POINTS;
	if (points > WEBAPI_MAX_POINTS)
		points = WEBAPI_MAX_POINTS;
	*step = ((to - f) / points + c->res - 1) / c->res * c->res;
	if (*step < c->res)
		*step = c->res;
	*n = (size_t)((to - f + *step - 1) / *step);
	*from = to - (int64_t)*n * *step;
}

cJSON *
webapi_series(const struct topview_point *p, size_t n, int64_t offset)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *t = cJSON_AddArrayToObject(o, "t");
	cJSON *cnt = cJSON_AddArrayToObject(o, "count");
	cJSON *mean = cJSON_AddArrayToObject(o, "mean");
	cJSON *sd = cJSON_AddArrayToObject(o, "sd");
	size_t k;

	for (k = 0; k < n; k++) {
		cJSON_AddItemToArray(t, cJSON_CreateNumber((double)(p[k].t +
		    offset)));
		cJSON_AddItemToArray(cnt,
		    cJSON_CreateNumber((double)p[k].count));
		cJSON_AddItemToArray(mean, num2(p[k].mean));
		cJSON_AddItemToArray(sd, num2(p[k].sd));
	}
	return o;
}

/* Distinct authors and texts of the hours that overlap [from, to), with
 * the posts of those hours (store_get_distinct): {"from", "to", "posts",
 * "authors", "texts"}, the hours' own bounds, since a HyperLogLog counts
 * whole hours. */
static int
add_distinct(const struct webapi_ctx *c, cJSON *o, const char *topic,
    int64_t from, int64_t to)
{
	int64_t d[3], lo = from - from % 3600, hi = to;
	cJSON *x;

	if (hi % 3600 != 0)
		hi += 3600 - hi % 3600;
	if (store_get_distinct(c->store, topic, from, to, d) == -1)
		return -1;
	x = cJSON_AddObjectToObject(o, "distinct");
	cJSON_AddNumberToObject(x, "from", (double)lo);
	cJSON_AddNumberToObject(x, "to", (double)hi);
	cJSON_AddNumberToObject(x, "posts", (double)d[2]);
	cJSON_AddNumberToObject(x, "authors", (double)d[0]);
	cJSON_AddNumberToObject(x, "texts", (double)d[1]);
	return 0;
}

/* The evidence over [from, to): keywords, count_by values, samples,
 * distinct authors and texts, alert markers. */
static int
add_evidence(const struct webapi_ctx *c, cJSON *o,
    const struct rule_topic *t, int64_t from, int64_t to)
{
	struct marker_ctx mc;
	cJSON *by;
	size_t i;

	if (add_top(c, o, "keywords", 'k', t->id, NULL, from, to) == -1)
		return -1;
	by = cJSON_AddObjectToObject(o, "breakdowns");
	for (i = 0; i < t->ncount_by; i++)
		if (add_top(c, by, t->count_by[i], 'b', t->id, t->count_by[i],
		    from, to) == -1)
			return -1;
	if (add_samples(c, o, t->id, from, to) == -1)
		return -1;
	if (add_distinct(c, o, t->id, from, to) == -1)
		return -1;
	mc.arr = cJSON_AddArrayToObject(o, "alerts");
	mc.topic = t->id;
	if (store_web_alerts(c->store, from * 1000, INT64_MAX,
	    WEBAPI_MARKER_SCAN, on_alert, &mc) == -1)
		return -1;
	return 0;
}

char *
webapi_topic(const struct webapi_ctx *c, const struct ruleset *rs,
    const char *id, const struct webapi_query *q, int *status)
{
	const struct rule_topic *t = find_topic(rs, id);
	struct rule_alert plain;
	struct topview v;
	struct topview_point *pts;
	int64_t T, since, from, step;
	size_t n;
	cJSON *o;
	char *text;

	if (t == NULL)
		return error_json(status, 404, "no such topic");
	topview_plain_block(&plain);
	memset(&v, 0, sizeof v);
	v.id = t->id;
	v.a = t->nalerts > 0 ? &t->alerts[0] : &plain;
	v.nblocks = t->nalerts;
	if (topview_frame_end(c->store, c->group, c->res, c->now, &T,
	    &since) == -1 || topview_read(c->store, c->res, since, T, 0, &v,
	    1) == -1) {
		topview_clear(&v, 1);
		return error_json(status, 503, store_errstr(c->store));
	}
	topic_range(c, q, T, since, &from, &step, &n);
	pts = xcalloc(n, sizeof *pts);
	o = cJSON_CreateObject();
	add_now(o, t, &v);
	topview_clear(&v, 1);
	cJSON_AddNumberToObject(o, "time", (double)T);
	cJSON_AddNumberToObject(o, "from", (double)from);
	cJSON_AddNumberToObject(o, "to", (double)(from + (int64_t)n * step));
	cJSON_AddNumberToObject(o, "step", (double)step);
	cJSON_AddStringToObject(o, "file", t->file != NULL ? t->file : "");
	cJSON_AddNumberToObject(o, "line", t->line);
	text = rule_text(t);
	cJSON_AddStringToObject(o, "rule", text != NULL ? text : "");
	free(text);
	if (topview_series(c->store, c->res, since, t->id, v.a, from, step, n,
	    pts) == -1 || add_evidence(c, o, t, from,
	    from + (int64_t)n * step) == -1) {
		cJSON_Delete(o);
		free(pts);
		return error_json(status, 503, store_errstr(c->store));
	}
	cJSON_AddItemToObject(o, "series", webapi_series(pts, n, 0));
	free(pts);
	return finish(o, status);
}

char *
webapi_alerts(const struct webapi_ctx *c, const struct webapi_query *q,
    int *status)
{
	int64_t limit = q->limit > 0 ? q->limit : WEBAPI_DEFAULT_LIMIT;
	int64_t to = q->to > 0 ? q->to : c->now + 1;
	int64_t from = q->from > 0 ? q->from : to - WEBAPI_MAX_RANGE_S;
	struct marker_ctx mc;
	cJSON *o;

	if (limit > WEBAPI_MAX_LIMIT)
		limit = WEBAPI_MAX_LIMIT;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "from", (double)from);
	cJSON_AddNumberToObject(o, "to", (double)to);
	mc.arr = cJSON_AddArrayToObject(o, "alerts");
	mc.topic = q->topic != NULL && q->topic[0] != '\0' ? q->topic : NULL;
	if (store_web_alerts(c->store, from * 1000, to * 1000 + 999,
	    (size_t)limit, on_alert, &mc) == -1) {
		cJSON_Delete(o);
		return error_json(status, 503, store_errstr(c->store));
	}
	return finish(o, status);
}
