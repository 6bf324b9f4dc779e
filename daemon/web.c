/*
 * web.c — the web view's HTTP side on the metrics listener: routes,
 * authentication, security headers, the embedded page.
 *
 * DESIGN: metrics.c hands every URL web_handles() claims to web_serve(),
 * on libmicrohttpd's one polling thread, so the view's store (opened by
 * web_start, before the listener runs) is only ever used there.  Routes:
 * "/", "/topics/<id>" and "/alerts" answer the same page (web/index.html;
 * its script draws what the path names), "/static/…" the embedded assets,
 * "/api/…" JSON from web_api.c for the rule set in force (engine_current,
 * so a reload shows at once).  With web.bearer_token_file or
 * web.username set, every one of those needs the credentials (compared in
 * constant time; the secret is read once at start and never printed);
 * /metrics and /healthz stay open.  Every answer carries a strict
 * Content-Security-Policy (scripts, styles and fetches from 'self' only,
 * no inline script), nosniff, no framing and no referrer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "config.h"
#include "engine.h"
#include "matcher.h"
#include "rules.h"
#include "store.h"
#include "web.h"
#include "xmalloc.h"

#define WEB_CSP	"default-src 'none'; script-src 'self'; style-src 'self'; " \
		"img-src 'self'; connect-src 'self'; base-uri 'none'; " \
		"form-action 'none'; frame-ancestors 'none'"

static struct {
	bool		 on;
	struct store	*store;
	int64_t		 res;
	char		*group;
	char		*user;		/* basic auth user; NULL: any */
	char		*secret;	/* token or password; NULL: no auth */
	bool		 bearer;
} web;

/* Reads the credentials of cfg into web.user, web.secret. */
static int
load_auth(const struct config *cfg, char *err, size_t errsz)
{
	char why[1024];

	if (cfg->web_bearer_token_file[0] != '\0' && cfg->web_username[0] != '\0') {
		snprintf(err, errsz, "web.username and web.bearer_token_file "
		    "exclude each other");
		return -1;
	}
	if (cfg->web_bearer_token_file[0] != '\0') {
		if (config_secret_file(cfg->web_bearer_token_file, &web.secret,
		    why, sizeof why) == -1) {
			snprintf(err, errsz, "web.bearer_token_file: %s", why);
			return -1;
		}
		web.bearer = true;
	} else if (cfg->web_username[0] != '\0') {
		if (cfg->web_password_file[0] == '\0') {
			snprintf(err, errsz, "web.username needs "
			    "web.password_file");
			return -1;
		}
		if (config_secret_file(cfg->web_password_file, &web.secret, why,
		    sizeof why) == -1) {
			snprintf(err, errsz, "web.password_file: %s", why);
			return -1;
		}
		web.user = xstrdup(cfg->web_username);
	}
	return 0;
}

int
web_start(const struct config *cfg, const char *redis_password, char *err,
    size_t errsz)
{
	if (!cfg->web_enabled || cfg->metrics_listen[0] == '\0')
		return 0;
	if (load_auth(cfg, err, errsz) == -1)
		return -1;
	web.store = store_open(cfg, redis_password);
	web.res = cfg->resolution_s;
	web.group = xstrdup(cfg->kafka_group);
	web.on = true;
	return 0;
}

void
web_stop(void)
{
	store_free(web.store);
	free(web.group);
	free(web.user);
	if (web.secret != NULL)
		explicit_bzero(web.secret, strlen(web.secret));
	free(web.secret);
	memset(&web, 0, sizeof web);
}

bool
web_handles(const char *url)
{
	return web.on && (strcmp(url, "/") == 0 || strcmp(url, "/alerts") == 0 ||
	    strncmp(url, "/topics/", 8) == 0 || strncmp(url, "/static/", 8) == 0 ||
	    strncmp(url, "/api/", 5) == 0);
}

/* Equal, in a time that does not depend on where they differ. */
static bool
same_secret(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), i;
	unsigned char d = na != nb;

	for (i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static bool
authorized(struct MHD_Connection *conn)
{
	const char *h;
	char *user, *pass = NULL;
	bool ok;

	if (web.secret == NULL)
		return true;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (web.bearer && h != NULL && strncmp(h, "Bearer ", 7) == 0)
		return same_secret(h + 7, web.secret);
	/* basic: the user and password, or (a token) any user */
	user = MHD_basic_auth_get_username_password(conn, &pass);
	ok = user != NULL && pass != NULL && same_secret(pass, web.secret) &&
	    (web.user == NULL || same_secret(user, web.user));
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

/* Queues body (malloc'd, taken) with the view's headers. */
static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned int status, const char *type,
    void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", web.bearer ?
		    "Bearer realm=\"tidewatch\"" : "Basic realm=\"tidewatch\"");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer_text(struct MHD_Connection *conn, unsigned int status,
    const char *msg)
{
	return answer(conn, status, "text/plain; charset=utf-8", (void *)msg,
	    strlen(msg), MHD_RESPMEM_PERSISTENT);
}

const struct web_asset *
web_asset_find(const char *path)
{
	size_t i;

	for (i = 0; i < web_nassets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

/* A query argument as a number; -1 when absent, not a number or beyond
 * 2^40 (no time, count or limit is near it: the arithmetic on it cannot
 * overflow). */
static int64_t
arg_num(struct MHD_Connection *conn, const char *key)
{
	const char *v = MHD_lookup_connection_value(conn,
	    MHD_GET_ARGUMENT_KIND, key);
	char *end;
	long long n;

	if (v == NULL || v[0] == '\0')
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	return *end == '\0' && errno == 0 && n >= 0 &&
	    n <= (INT64_C(1) << 40) ? (int64_t)n : -1;
}

static enum MHD_Result
serve_api(struct MHD_Connection *conn, const char *path)
{
	struct webapi_query q;
	struct webapi_ctx c;
	struct engine *e;
	char *body;
	int status = 404;

	memset(&q, 0, sizeof q);
	q.tag = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "tag");
	q.topic = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "topic");
	q.from = arg_num(conn, "from");
	q.to = arg_num(conn, "to");
	q.hours = arg_num(conn, "hours");
	q.points = arg_num(conn, "points");
	q.limit = arg_num(conn, "limit");
	c.store = web.store;
	c.res = web.res;
	c.group = web.group;
	c.now = (int64_t)time(NULL);
	e = engine_current();
	if (strcmp(path, "topics") == 0 && e != NULL)
		body = webapi_overview(&c, e->rs, &q, &status);
	else if (strncmp(path, "topics/", 7) == 0 && e != NULL)
		body = webapi_topic(&c, e->rs, path + 7, &q, &status);
	else if (strcmp(path, "alerts") == 0)
		body = webapi_alerts(&c, &q, &status);
	else
		body = xstrdup("{\"error\":\"no such endpoint: see docs/web.md\"}");
	engine_unref(e);
	return answer(conn, (unsigned int)status,
	    "application/json; charset=utf-8", body, strlen(body),
	    MHD_RESPMEM_MUST_FREE);
}

int
web_serve(struct MHD_Connection *conn, const char *url)
{
	const struct web_asset *a;

	if (!authorized(conn))
		return answer_text(conn, MHD_HTTP_UNAUTHORIZED,
		    "authorization required\n");
	if (strncmp(url, "/api/", 5) == 0)
		return serve_api(conn, url + 5);
	a = web_asset_find(strncmp(url, "/static/", 8) == 0 ? url :
	    "/index.html");
	if (a == NULL)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
	return answer(conn, MHD_HTTP_OK, a->type, (void *)a->data, a->len,
	    MHD_RESPMEM_PERSISTENT);
}
