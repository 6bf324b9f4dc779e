/*
 * web.h — the web view: the analysts' pages and their JSON API, served on
 * the metrics listener (metrics.c hands over every URL web_handles()).
 *
 * web_start() (before the listener starts) reads the credentials and
 * opens the view's own Redis store; every request is then served on the
 * listener's thread.  web_api.c builds the JSON; web.c owns HTTP: routes,
 * authentication, headers, the embedded assets.
 */
#ifndef TW_WEB_H
#define TW_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct MHD_Connection;
struct store;
struct ruleset;

/* Reads web.* of cfg (the credentials' files now) and opens the store;
 * with web.enabled false nothing is served.  0, or -1 with err. */
int web_start(const struct config *cfg, const char *redis_password,
    char *err, size_t errsz);
void web_stop(void);
/* Whether url is the web view's (with web.enabled). */
bool web_handles(const char *url);
/* Serves a GET of url (web_handles); an int holding an enum MHD_Result. */
int web_serve(struct MHD_Connection *conn, const char *url);

/* The page's files, embedded at build time (web/embed.sh writes them
 * from web/ into $(BUILD)/gen/web_assets.c). */
struct web_asset {
	const char		*path;		/* "/static/app.js" */
	const char		*type;		/* Content-Type */
	const unsigned char	*data;
	size_t			 len;
};
extern const struct web_asset web_assets[];
extern const size_t web_nassets;
/* The asset at path ("/static/app.js", "/index.html"), or NULL. */
const struct web_asset *web_asset_find(const char *path);

/*
 * The JSON API (web_api.c).  Each builds one answer for the rule set in
 * force; *status gets the HTTP status, the result is the body (malloc'd),
 * {"error": "..."} when the status is not 200.
 */
struct webapi_ctx {
	struct store	*store;
	int64_t		 res;		/* counters.resolution */
	const char	*group;		/* kafka.group: the stream's time */
	int64_t		 now;		/* wall clock, seconds */
};
/* The query of a request; a number < 0 is not given. */
struct webapi_query {
	const char	*tag;		/* NULL: every topic */
	const char	*topic;		/* NULL: every topic (alerts) */
	int64_t		 from, to;	/* seconds */
	int64_t		 hours;		/* overview's sparkline span */
	int64_t		 points;
	int64_t		 limit;
};

/* Bounds of every query (documented in docs/web.md). */
#define WEBAPI_SPARK_POINTS	60
#define WEBAPI_MAX_HOURS	24
#define WEBAPI_DEFAULT_HOURS	3
#define WEBAPI_MAX_RANGE_S	(7 * 24 * 3600)
#define WEBAPI_DEFAULT_RANGE_S	(6 * 3600)
#define WEBAPI_MAX_POINTS	1000
#define WEBAPI_DEFAULT_POINTS	360
#define WEBAPI_MAX_LIMIT	1000
#define WEBAPI_DEFAULT_LIMIT	200
#define WEBAPI_TOP_N		20	/* keywords and values per field */
#define WEBAPI_SAMPLES		20
#define WEBAPI_MARKER_SCAN	2000	/* alert log entries scanned for
					 * one topic's markers */
#define WEBAPI_RULE_LINES	200	/* lines of rule text shown */

char *webapi_overview(const struct webapi_ctx *c, const struct ruleset *rs,
    const struct webapi_query *q, int *status);
char *webapi_topic(const struct webapi_ctx *c, const struct ruleset *rs,
    const char *id, const struct webapi_query *q, int *status);
char *webapi_alerts(const struct webapi_ctx *c, const struct webapi_query *q,
    int *status);
/* A topic's "series" member (t, count, mean, sd) of n points, times moved
 * by offset; the caller owns it (cJSON_Delete). */
struct cJSON;
struct topview_point;
struct cJSON *webapi_series(const struct topview_point *p, size_t n,
    int64_t offset);
/* Appends {"entry": entry_id, "alert": <json parsed>} to the array arr
 * when json is an alert of topic (NULL: any).  Whether it did. */
bool webapi_add_alert(struct cJSON *arr, const char *topic,
    const char *entry_id, const char *json, size_t len);

/*
 * The backtest report (web_report.c): one HTML file with the page's own
 * style and script inlined (a file has no server, and no CSP applies),
 * every topic's chart over the backtest's counts and the alerts given
 * (their JSON as published, alerts[0..nalerts)).  Times shown are bucket
 * times + offset.  0, or -1 with err.
 */
struct backtest;
int webreport_write(const char *path, const struct ruleset *rs,
    struct backtest *bt, int64_t res, int64_t offset, char *const *alerts,
    size_t nalerts, char *err, size_t errsz);

#endif
