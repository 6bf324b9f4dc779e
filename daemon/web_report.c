/*
 * web_report.c — `tidewatch backtest --html`: the web view's charts as one
 * self-contained file.
 *
 * DESIGN: called once by cmd_backtest.c after detection.  For every topic
 * it evaluates the first alert block (or the plain one of the web view)
 * over the backtest's counts with topview_points(), the code behind the
 * topic page's chart, at most WEBAPI_MAX_POINTS points, and groups the
 * alerts by topic; the data goes into the file as one JSON element
 * (every "<" written as \u003c, so no text can close it), followed by
 * the embedded style and script (web_assets) inlined, which draw it
 * without a server.  Nothing is fetched when the file is opened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "backtest.h"
#include "rules.h"
#include "topview.h"
#include "web.h"
#include "xmalloc.h"

/* The chart of block a over topic ti's counts: from, to, step, series. */
static void
add_chart(cJSON *o, struct backtest *bt, size_t ti,
    const struct rule_alert *a, int64_t res, int64_t offset)
{
	struct spike_series ser;
	struct topview_point *p;
	int64_t b0, nb, step;
	size_t n;

	if (!backtest_series(bt, ti, &ser, &b0, &nb))
		return;
	step = (nb + WEBAPI_MAX_POINTS - 1) / WEBAPI_MAX_POINTS * res;
	n = (size_t)((nb * res + step - 1) / step);
	p = xcalloc(n + 1, sizeof *p);
	topview_points(a, &ser, b0, step, n, p);
	cJSON_AddNumberToObject(o, "from", (double)(b0 + offset));
	cJSON_AddNumberToObject(o, "to", (double)(b0 + (int64_t)n * step +
	    offset));
	cJSON_AddNumberToObject(o, "step", (double)step);
	cJSON_AddItemToObject(o, "series", webapi_series(p, n, offset));
	free(p);
}

/* The alerts of topic id among alerts[], as the topic page lists them. */
static void
add_alerts(cJSON *o, const char *id, char *const *alerts, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "alerts");
	size_t i;

	for (i = 0; i < n; i++)
		(void)webapi_add_alert(arr, id, "", alerts[i], strlen(alerts[i]));
}

static cJSON *
report_json(const struct ruleset *rs, struct backtest *bt, int64_t offset,
    char *const *alerts, size_t nalerts, int64_t res)
{
	cJSON *root = cJSON_CreateObject(), *topics;
	struct rule_alert plain;
	size_t i, j;

	topview_plain_block(&plain);
	cJSON_AddNumberToObject(root, "generated", (double)time(NULL));
	cJSON_AddNumberToObject(root, "resolution_s", (double)res);
	cJSON_AddNumberToObject(root, "nalerts", (double)nalerts);
	topics = cJSON_AddArrayToObject(root, "topics");
	for (i = 0; i < rs->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[i];
		const struct backtest_topic *r = backtest_topic(bt, i);
		cJSON *o = cJSON_CreateObject(), *tags;

		cJSON_AddStringToObject(o, "id", t->id);
		cJSON_AddStringToObject(o, "name", t->name != NULL ? t->name :
		    t->id);
		tags = cJSON_AddArrayToObject(o, "tags");
		for (j = 0; j < t->ntags; j++)
			cJSON_AddItemToArray(tags, cJSON_CreateString(t->tags[j]));
		cJSON_AddStringToObject(o, "file", t->file != NULL ? t->file : "");
		cJSON_AddNumberToObject(o, "line", t->line);
		cJSON_AddNumberToObject(o, "window_s", (double)(t->nalerts > 0 ?
		    t->alerts[0].window_s : plain.window_s));
		cJSON_AddNumberToObject(o, "posts", (double)r->posts);
		cJSON_AddNumberToObject(o, "peak", (double)r->peak);
		cJSON_AddStringToObject(o, "state", r->firing_at_end ?
		    "firing" : "ok");
		add_chart(o, bt, i, t->nalerts > 0 ? &t->alerts[0] : &plain,
		    res, offset);
		add_alerts(o, t->id, alerts, nalerts);
		cJSON_AddItemToArray(topics, o);
	}
	return root;
}

/* Writes s with every '<' as \u003c (the JSON's meaning is unchanged). */
static void
put_json_escaped(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '<')
			fputs("\\u003c", fp);
		else
			fputc(*s, fp);
}

int
webreport_write(const char *path, const struct ruleset *rs,
    struct backtest *bt, int64_t res, int64_t offset, char *const *alerts,
    size_t nalerts, char *err, size_t errsz)
{
	const struct web_asset *css = web_asset_find("/static/app.css");
	const struct web_asset *js = web_asset_find("/static/app.js");
	cJSON *root;
	char *json;
	FILE *fp;
	int bad;

	if (css == NULL || js == NULL || memmem(js->data, js->len, "</",
	    2) != NULL || memmem(css->data, css->len, "</", 2) != NULL) {
		snprintf(err, errsz, "the embedded page cannot be inlined");
		return -1;
	}
	if ((fp = fopen(path, "w")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	root = report_json(rs, bt, offset, alerts, nalerts, res);
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>tidewatch backtest</title>\n"
	    "<style>\n", fp);
	fwrite(css->data, 1, css->len, fp);
	fputs("</style>\n</head>\n<body>\n<header><span class=\"brand\">"
	    "tidewatch</span><span>backtest report</span>"
	    "<span id=\"status\"></span></header>\n<main id=\"main\"></main>\n"
	    "<script type=\"application/json\" id=\"report-data\">", fp);
	put_json_escaped(fp, json);
	fputs("</script>\n<script>\n", fp);
	fwrite(js->data, 1, js->len, fp);
	fputs("</script>\n</body>\n</html>\n", fp);
	free(json);
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad) {
		snprintf(err, errsz, "%s: write error", path);
		return -1;
	}
	return 0;
}
