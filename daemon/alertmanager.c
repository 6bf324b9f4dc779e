/*
 * alertmanager.c — the alert log delivered to Prometheus Alertmanager, and
 * to the Kafka topic alerts.kafka_topic.
 *
 * DESIGN: one thread of its own (am_start), with its own Redis connection
 * (store_am.c) and one libcurl handle per Alertmanager URL, so a slow or
 * absent Alertmanager never holds up counting or detection.  It works only
 * while this daemon leads (stats.leading, the detector's lease): when it
 * becomes leader it reads each URL's cursor (<p>am-cursor: the last log
 * entry that URL accepted) and the whole alert log, which rebuilds the set
 * of firing alerts and queues, per URL, every entry after its cursor; a
 * URL without a cursor starts at the log's end.  Then every tick it reads
 * the entries appended since, converts each (am_alert.c) and queues it for
 * every URL.  Each URL drains its queue in POSTs of up to AM_BATCH alerts;
 * only a 2xx moves its cursor (memory, then Redis), so an alert is posted
 * until Alertmanager took it, across restarts and leader changes, and at
 * worst twice (Alertmanager merges an alert it gets twice by its labels).
 * A failure is retried after 1 s, doubling up to alertmanager.retry_max;
 * 400 and 422 (Alertmanager refuses the alerts themselves) drop the batch
 * with an error logged.  A URL whose queue is empty re-posts every firing
 * alert each resend_interval with endsAt four intervals ahead, as
 * Prometheus does, so Alertmanager keeps it active while it fires and
 * resolves it by itself if tidewatch goes away; a resolved alert carries
 * its end, in the past.  A firing alert whose topic the rules in force no
 * longer have is resolved at once: the resolve is queued for every URL.  Losing the lease drops the
 * queues and the set: the next leader starts from the cursors.  Counters:
 * stats.am_sent, am_failed, am_pending.  The Kafka topic is one more
 * target with the same queue, cursor (field kafka:<topic>) and backoff,
 * given each log entry's JSON as it is and no re-sends or resolves of its
 * own; its batches go through alert_kafka.c without blocking, and only
 * the delivered ones move its cursor.  Counters: stats.kafka_out_*.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alertmanager.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "rules.h"
#include "stats.h"
#include "store.h"
#include "strmap.h"
#include "version.h"
#include "xmalloc.h"

#define AM_TICK_MS	500	/* how often the log is read */
#define AM_PAGE		256	/* log entries per XRANGE */
#define AM_BATCH	64	/* alerts per POST */
#define AM_KAFKA_BATCH	256	/* alerts per Kafka batch */
#define AM_RETRY_MS	1000	/* the first retry */
#define AM_ENDS_AHEAD	4	/* a firing alert's endsAt: this many
				 * resend intervals ahead */
#define FAIL_OTHER	1	/* unreachable, timeout, 5xx… */
#define FAIL_AUTH	2	/* 401 or 403: the credentials */
/* A URL, or the Kafka topic (kafka != NULL: it gets the log's JSON as it
 * is, and no re-sends). */
struct am_target {
	char		*url;		/* as configured, or kafka:<topic>: the
					 * cursor's field */
	char		*post_url;	/* <url>/api/v2/alerts; the Kafka topic */
	CURL		*curl;
	struct akafka	*kafka;
	size_t		 inflight;	/* items of the Kafka batch */
	bool		 stale;		/* that batch is from before a reset */
	_Atomic uint64_t *sent, *failed;	/* its counters in stats */
	_Atomic int64_t	*pending;
	char		 errbuf[CURL_ERROR_SIZE];
	char		 reply[256];	/* the start of the reply body */
	size_t		 nreply;
	char		 cursor[AM_ID];	/* the last entry accepted */
	bool		 fresh;		/* no cursor: starts at the log's end */
	bool		 dirty;		/* cursor not yet written to Redis */
	int		 failing;	/* logged as failing: 0 no, else
					 * FAIL_AUTH or FAIL_OTHER */
	struct am_queue	 q;		/* postable alerts (am_queue.c) */
	int64_t		 retry_at, backoff_ms, resend_at;	/* monotonic */
};

/* A firing alert: what to re-send, with its labels as first sent. */
struct am_active {
	char		 key[320];
	char		*src;		/* its log JSON */
	cJSON		*labels;
	int64_t		 starts_ms;
};

struct am {
	const struct config	*cfg;
	struct store		*store;
	struct curl_slist	*headers;
	char			*userpwd;	/* "user:password"; NULL: none */
	struct am_target	*t;		/* the URLs, then the Kafka
						 * topic if any */
	size_t			 nt, nurls;
	struct am_active	*act;
	size_t			 nact, actcap;
	char			 head[AM_ID + 1]; /* XRANGE start of what is
						  * not read yet */
	bool			 loaded;
	bool			 store_failing;
	bool			 check_gone;	/* the set may hold alerts of
						 * topics the rules lost */
	uint64_t		 gone_version;	/* the engine last checked */
	struct engine		*eng;		/* tags of its rules */
	struct strmap		 topics;	/* topic id → index */
	pthread_t		 thr;
	bool			 started;
	atomic_int		 stop;
};

/* ---- stream ids, credentials --------------------------------------- */

/* <0, 0, >0 as stream id a is before, equal to, after b ("" is before
 * every id). */
static int
id_cmp(const char *a, const char *b)
{
	unsigned long long am = 0, as = 0, bm = 0, bs = 0;

	if (a[0] == '\0' || b[0] == '\0')
		return (a[0] != '\0') - (b[0] != '\0');
	sscanf(a, "%llu-%llu", &am, &as);
	sscanf(b, "%llu-%llu", &bm, &bs);
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : as > bs;
}

/* The first line of path, into a new string; NULL with err set. */
static char *
read_secret(const char *what, const char *path, char *err, size_t errsz)
{
	char line[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL) {
		snprintf(err, errsz, "alertmanager.%s %s: %m", what, path);
		return NULL;
	}
	if (fgets(line, sizeof line, fp) == NULL)
		line[0] = '\0';
	fclose(fp);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0) {
		snprintf(err, errsz, "alertmanager.%s %s: empty", what, path);
		return NULL;
	}
	return xstrdup(line);
}

/* The Authorization header or the basic auth pair, from the config. */
static int
load_credentials(struct am *am, char *err, size_t errsz)
{
	const struct config *c = am->cfg;
	char *secret, *h;

	am->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (c->am_bearer_token_file[0] != '\0' && c->am_username[0] != '\0') {
		snprintf(err, errsz, "alertmanager: username and "
		    "bearer_token_file exclude each other");
		return -1;
	}
	if (c->am_bearer_token_file[0] != '\0') {
		if ((secret = read_secret("bearer_token_file",
		    c->am_bearer_token_file, err, errsz)) == NULL)
			return -1;
		h = xasprintf("Authorization: Bearer %s", secret);
		am->headers = curl_slist_append(am->headers, h);
		free(secret);
		free(h);
	} else if (c->am_username[0] != '\0') {
		if (c->am_password_file[0] == '\0') {
			snprintf(err, errsz, "alertmanager.username needs "
			    "alertmanager.password_file");
			return -1;
		}
		if ((secret = read_secret("password_file",
		    c->am_password_file, err, errsz)) == NULL)
			return -1;
		am->userpwd = xasprintf("%s:%s", c->am_username, secret);
		free(secret);
	}
	return 0;
}

/* ---- HTTP ------------------------------------------------------------ */

static size_t
keep_reply(char *p, size_t size, size_t n, void *arg)
{
	struct am_target *t = arg;
	size_t len = size * n, room = sizeof t->reply - 1 - t->nreply;

	memcpy(t->reply + t->nreply, p, len < room ? len : room);
	t->nreply += len < room ? len : room;
	t->reply[t->nreply] = '\0';
	return len;
}

/* Cuts a transfer short when the daemon stops. */
static int
abort_on_stop(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct am *am = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return atomic_load(&am->stop) ? 1 : 0;
}

static int
target_init(struct am *am, struct am_target *t, const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	t->sent = &stats.am_sent;
	t->failed = &stats.am_failed;
	t->pending = &stats.am_pending;
	t->url = xstrdup(url);
	t->post_url = xasprintf("%.*s/api/v2/alerts", (int)n, url);
	if ((t->curl = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(t->curl, CURLOPT_URL, t->post_url);
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, am->headers);
	curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "tidewatch/" TW_VERSION);
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS,
	    (long)am->cfg->am_timeout_ms);
	curl_easy_setopt(t->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)am->cfg->am_timeout_ms);
	curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, keep_reply);
	curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(t->curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	curl_easy_setopt(t->curl, CURLOPT_XFERINFODATA, am);
	if (am->userpwd != NULL) {
		curl_easy_setopt(t->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(t->curl, CURLOPT_USERPWD, am->userpwd);
	}
	return 0;
}

/* The Kafka topic's target: its cursor's field is kafka:<topic>. */
static int
kafka_target_init(struct am_target *t, const struct config *cfg, char *err,
    size_t errsz)
{
	char why[512];

	t->sent = &stats.kafka_out_sent;
	t->failed = &stats.kafka_out_failed;
	t->pending = &stats.kafka_out_pending;
	t->url = xasprintf("kafka:%s", cfg->alert_kafka_topic);
	t->post_url = xstrdup(cfg->alert_kafka_topic);
	if ((t->kafka = akafka_new(cfg, why, sizeof why)) == NULL) {
		snprintf(err, errsz, "alerts.kafka_topic: %s", why);
		return -1;
	}
	return 0;
}

/* POSTs body (a JSON array): 0 on a 2xx; else -1 with err set and
 * *status the HTTP status (0: no answer). */
static int
post(struct am_target *t, const char *body, long *status, char *err,
    size_t errsz)
{
	CURLcode rc;

	t->errbuf[0] = '\0';
	t->nreply = 0;
	t->reply[0] = '\0';
	*status = 0;
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	if ((rc = curl_easy_perform(t->curl)) != CURLE_OK) {
		snprintf(err, errsz, "%s", t->errbuf[0] != '\0' ? t->errbuf :
		    curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, status);
	if (*status >= 200 && *status < 300)
		return 0;
	t->reply[strcspn(t->reply, "\r\n")] = '\0';
	snprintf(err, errsz, "HTTP %ld: %s", *status, t->reply);
	return -1;
}

/* ---- the firing set and the queues ----------------------------------- */

static struct am_active *
active_find(struct am *am, const char *key)
{
	size_t i;

	for (i = 0; i < am->nact; i++)
		if (strcmp(am->act[i].key, key) == 0)
			return &am->act[i];
	return NULL;
}

static void
active_remove(struct am *am, struct am_active *a)
{
	free(a->src);
	cJSON_Delete(a->labels);
	*a = am->act[--am->nact];
}

static void
queue_push(struct am_target *t, const char *entry, const char *json)
{
	amq_push(&t->q, entry, json);
	atomic_fetch_add_explicit(t->pending, 1, memory_order_relaxed);
}

/* Drops the n first items of t's queue. */
static void
queue_pop(struct am_target *t, size_t n)
{
	amq_pop(&t->q, n);
	atomic_fetch_sub_explicit(t->pending, (int64_t)n, memory_order_relaxed);
}

/* Forgets the set, the queues and what was read: the state of a daemon
 * that does not lead. */
static void
am_reset(struct am *am)
{
	size_t i;

	while (am->nact > 0)
		active_remove(am, &am->act[0]);
	for (i = 0; i < am->nt; i++) {
		queue_pop(&am->t[i], amq_len(&am->t[i].q));
		am->t[i].cursor[0] = '\0';
		am->t[i].fresh = am->t[i].dirty = false;
		am->t[i].retry_at = am->t[i].backoff_ms = 0;
		am->t[i].stale = am->t[i].kafka != NULL &&
		    akafka_busy(am->t[i].kafka);
	}
	snprintf(am->head, sizeof am->head, "-");
	am->loaded = false;
	am->check_gone = true;
}

/* ---- converting ------------------------------------------------------ */

/* The tags of the rules in force, by topic id; the index is rebuilt when
 * a reload installs another rule set. */
static void
lookup_tags(void *ctx, const char *topic, bool *known, char *buf, size_t sz)
{
	struct am *am = ctx;
	const struct rule_topic *rt;
	size_t i, k, n = 0;

	if (am->eng == NULL || am->eng->version != engine_current_version()) {
		engine_unref(am->eng);
		am->eng = engine_current();
		strmap_clear(&am->topics);
		for (i = 0; am->eng != NULL && i < am->eng->rs->ntopics; i++)
			strmap_put(&am->topics, am->eng->rs->topics[i].id, i);
	}
	buf[0] = '\0';
	*known = am->eng == NULL;	/* no rules: nothing to compare with */
	if (am->eng == NULL ||
	    (k = strmap_get(&am->topics, topic)) == STRMAP_NONE)
		return;
	*known = true;
	rt = &am->eng->rs->topics[k];
	for (i = 0; i < rt->ntags && n + strlen(rt->tags[i]) + 2 < sz; i++)
		n += (size_t)snprintf(buf + n, sz - n, "%s%s,", n == 0 ? "," : "",
		    rt->tags[i]);
}

static int64_t
ends_ahead_ms(const struct am *am)
{
	return clock_wall_ms() + AM_ENDS_AHEAD * am->cfg->am_resend_s * 1000;
}

/* Applies one alert of the log to the firing set and returns what to post
 * for it (NULL: not an alert). */
static char *
take_entry(struct am *am, const char *json, size_t len)
{
	struct am_alert al;
	struct am_active *a = NULL;
	int64_t starts, ends;
	char *out;

	if (am_alert_convert(json, len, am->cfg->web_base_url, lookup_tags, am,
	    &al) == -1)
		return NULL;
	if (al.key[0] != '\0')
		a = active_find(am, al.key);
	starts = a != NULL ? a->starts_ms : al.starts_ms;
	if (a != NULL)
		am_alert_set_labels(al.obj, a->labels);
	if (al.firing) {
		ends = ends_ahead_ms(am);
		if (a == NULL && al.key[0] != '\0') {
			am->act = xgrow(am->act, &am->actcap, am->nact + 1,
			    sizeof *am->act);
			a = &am->act[am->nact++];
			snprintf(a->key, sizeof a->key, "%s", al.key);
			a->src = NULL;
			a->labels = cJSON_Duplicate(cJSON_GetObjectItem(al.obj,
			    "labels"), 1);
			a->starts_ms = starts;
			am->check_gone |= !al.topic_known;
		}
		if (a != NULL) {
			free(a->src);
			a->src = xstrndup(json, len);
		}
	} else {
		ends = al.ends_ms > starts ? al.ends_ms : starts;
		if (a != NULL)
			active_remove(am, a);
	}
	am_alert_times(al.obj, starts, ends);
	out = cJSON_PrintUnformatted(al.obj);
	cJSON_Delete(al.obj);
	return out;
}

/* store_log_fn: one entry of the log, queued for every target behind it:
 * converted for the URLs, as it is for Kafka. */
static void
on_entry(void *ctx, const char *entry_id, const char *json, size_t len)
{
	struct am *am = ctx;
	char *post_json = NULL, *raw = NULL;
	size_t i;

	if (am->nurls > 0 &&
	    (post_json = take_entry(am, json, len)) == NULL)
		log_warn("alert log entry is not an alert, not sent to "
		    "alertmanager | entry=%s", entry_id);
	for (i = 0; i < am->nt; i++) {
		struct am_target *t = &am->t[i];

		if (t->fresh || id_cmp(entry_id, t->cursor) <= 0)
			continue;
		if (t->kafka != NULL) {
			if (raw == NULL)
				raw = xstrndup(json, len);
			queue_push(t, entry_id, raw);
		} else if (post_json != NULL)
			queue_push(t, entry_id, post_json);
	}
	free(post_json);
	free(raw);
}

/* Reads what the log gained since am->head. */
static int
read_log(struct am *am)
{
	char next[AM_ID + 1];
	int n;

	do {
		next[0] = '\0';
		n = store_read_alert_log(am->store, am->head, AM_PAGE, on_entry,
		    am, next, sizeof next);
		if (n == -1)
			return -1;
		if (next[0] != '\0')
			snprintf(am->head, sizeof am->head, "%s", next);
	} while (n == AM_PAGE && !atomic_load(&am->stop));
	return 0;
}

/* The cursors, then the whole log: the firing set and each URL's queue. */
static int
load(struct am *am)
{
	char **urls, **ids, first[AM_ID];
	size_t n, i, j;

	if (store_am_cursors(am->store, &urls, &ids, &n) == -1)
		return -1;
	for (i = 0; i < am->nt; i++) {
		am->t[i].fresh = true;
		for (j = 0; j < n; j++)
			if (strcmp(urls[j], am->t[i].url) == 0) {
				snprintf(am->t[i].cursor, AM_ID, "%s", ids[j]);
				am->t[i].fresh = false;
			}
	}
	for (j = 0; j < n; j++) {
		free(urls[j]);
		free(ids[j]);
	}
	free(urls);
	free(ids);
	if (store_am_log_first(am->store, first, sizeof first) == -1)
		return -1;
	for (i = 0; i < am->nt; i++)	/* 0-0: started on an empty log */
		if (!am->t[i].fresh && first[0] != '\0' &&
		    strcmp(am->t[i].cursor, "0-0") != 0 &&
		    id_cmp(am->t[i].cursor, first) < 0)
			log_warn("alerts trimmed from the alert log before "
			    "they were delivered (alerts.stream_maxlen) | "
			    "target=%s cursor=%s first=%s", am->t[i].url,
			    am->t[i].cursor, first);
	if (read_log(am) == -1)
		return -1;
	for (i = 0; i < am->nt; i++) {
		if (am->t[i].fresh) {
			snprintf(am->t[i].cursor, AM_ID, "%s",
			    am->head[0] == '(' ? am->head + 1 : "0-0");
			am->t[i].fresh = false;
			am->t[i].dirty = true;
		}
		am->t[i].resend_at = 0;		/* at once */
	}
	log_info("alertmanager delivery started | urls=%zu firing=%zu "
	    "pending=%" PRId64, am->nt, am->nact, STAT_GET(am_pending));
	am->loaded = true;
	return 0;
}

/* ---- sending --------------------------------------------------------- */

/* "[a,b,…]" of n JSON texts. */
static char *
json_array(char *const *items, size_t n, size_t stride)
{
	size_t i, len = 3;
	char *body, *p;

	for (i = 0; i < n; i++)
		len += strlen(*(char *const *)((const char *)items + i * stride)) + 1;
	p = body = xmalloc(len);
	*p++ = '[';
	for (i = 0; i < n; i++) {
		const char *s = *(char *const *)((const char *)items + i * stride);
		size_t k = strlen(s);

		if (i > 0)
			*p++ = ',';
		memcpy(p, s, k);
		p += k;
	}
	*p++ = ']';
	*p = '\0';
	return body;
}

/* Every firing alert, with endsAt ahead. */
static char *
resend_body(struct am *am, size_t *n)
{
	char **items = xcalloc(am->nact + 1, sizeof *items), *body;
	struct am_alert al;
	size_t i, k = 0;

	for (i = 0; i < am->nact; i++) {
		struct am_active *a = &am->act[i];

		if (am_alert_convert(a->src, strlen(a->src),
		    am->cfg->web_base_url, lookup_tags, am, &al) == -1)
			continue;	/* it converted when it came */
		am_alert_set_labels(al.obj, a->labels);
		am_alert_times(al.obj, a->starts_ms, ends_ahead_ms(am));
		items[k++] = cJSON_PrintUnformatted(al.obj);
		cJSON_Delete(al.obj);
	}
	body = json_array(items, k, sizeof *items);
	for (i = 0; i < k; i++)
		free(items[i]);
	free(items);
	*n = k;
	return body;
}

/* The firing alerts whose topic the rules in force no longer have:
 * resolved now, queued for every URL (no log entry of their own, so no
 * cursor moves for them), and forgotten.  A restart before every URL took
 * one finds it firing in the log again and resolves it again.  Looked at
 * when the rules change or the set took an alert of an unknown topic. */
static void
resolve_gone(struct am *am)
{
	struct am_alert al;
	int64_t now = clock_wall_ms();
	uint64_t version = engine_current_version();
	size_t i = 0, j;
	char *out;

	if (!am->check_gone && version == am->gone_version)
		return;
	am->check_gone = false;
	am->gone_version = version;
	while (i < am->nact) {
		struct am_active *a = &am->act[i];

		if (am_alert_convert(a->src, strlen(a->src),
		    am->cfg->web_base_url, lookup_tags, am, &al) == -1 ||
		    al.topic_known) {
			cJSON_Delete(al.obj);
			i++;
			continue;
		}
		am_alert_set_labels(al.obj, a->labels);
		am_alert_times(al.obj, a->starts_ms,
		    now > a->starts_ms ? now : a->starts_ms);
		out = cJSON_PrintUnformatted(al.obj);
		cJSON_Delete(al.obj);
		for (j = 0; j < am->nurls; j++)
			queue_push(&am->t[j], "", out);
		free(out);
		log_info("alert resolved: its topic is gone from the rules | "
		    "key=%s", a->key);
		active_remove(am, a);
	}
}

/* A failed POST of n alerts (status: its HTTP status, 0 none): counted,
 * retried after a backoff, logged when the kind of failure changes. */
static void
note_failure(struct am *am, struct am_target *t, size_t n, long status,
    const char *err)
{
	int64_t max = am->cfg->am_retry_max_ms;
	int kind = status == 401 || status == 403 ? FAIL_AUTH : FAIL_OTHER;

	atomic_fetch_add_explicit(t->failed, n, memory_order_relaxed);
	t->backoff_ms = t->backoff_ms == 0 ? AM_RETRY_MS : t->backoff_ms * 2;
	if (t->backoff_ms > max)
		t->backoff_ms = max;
	t->retry_at = clock_mono_ms() + t->backoff_ms;
	if (t->failing != kind && kind == FAIL_AUTH)
		log_error("alertmanager refused the credentials, retrying: "
		    "check %s | url=%s pending=%zu error=\"%s\"",
		    am->cfg->am_bearer_token_file[0] != '\0' ?
		    "alertmanager.bearer_token_file" : am->userpwd != NULL ?
		    "alertmanager.username and password_file" :
		    "alertmanager.bearer_token_file or username (none set)",
		    t->post_url, amq_len(&t->q), err);
	else if (t->failing != kind && t->kafka != NULL)
		log_error("kafka alert topic delivery failed, retrying | "
		    "topic=%s pending=%zu error=\"%s\"", t->post_url,
		    amq_len(&t->q), err);
	else if (t->failing != kind)
		log_error("alertmanager unreachable, retrying | url=%s "
		    "pending=%zu error=\"%s\"", t->post_url, amq_len(&t->q),
		    err);
	t->failing = kind;
}

static void
note_success(struct am_target *t)
{
	if (t->failing)
		log_info("%s again | %s=%s", t->kafka != NULL ?
		    "kafka alert topic delivering" : "alertmanager reachable",
		    t->kafka != NULL ? "topic" : "url", t->post_url);
	t->failing = 0;
	t->backoff_ms = 0;
	t->retry_at = 0;
}

/* The n first items of t's queue were taken: the cursor moves over them
 * and they leave the queue. */
static void
take_items(struct am_target *t, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--)
		if (amq_at(&t->q, i - 1)->entry[0] != '\0') {
			memcpy(t->cursor, amq_at(&t->q, i - 1)->entry, AM_ID);
			t->dirty = true;
			break;
		}
	queue_pop(t, n);
}

/* Posts the first alerts of t's queue; moves its cursor when taken. */
static void
send_queued(struct am *am, struct am_target *t)
{
	size_t n = amq_len(&t->q);
	char err[512], *body;
	long status;

	if (n > AM_BATCH)
		n = AM_BATCH;
	body = json_array(&amq_at(&t->q, 0)->text, n, sizeof(struct am_item));
	if (post(t, body, &status, err, sizeof err) == 0 ||
	    status == 400 || status == 422) {
		if (status == 400 || status == 422) {
			atomic_fetch_add_explicit(t->failed, n,
			    memory_order_relaxed);
			log_error("alertmanager refused alerts, dropped | "
			    "url=%s alerts=%zu error=\"%s\"", t->post_url, n,
			    err);
		} else {
			atomic_fetch_add_explicit(t->sent, n,
			    memory_order_relaxed);
			note_success(t);
		}
		take_items(t, n);
	} else if (!atomic_load(&am->stop))
		note_failure(am, t, n, status, err);
	free(body);
}

/* The Kafka batch's reports: its delivered first items are taken, the
 * rest retried after the backoff; then the next batch, when due. */
static void
send_kafka(struct am *am, struct am_target *t, int64_t now)
{
	char err[512];
	size_t n, done;
	int rc;

	if (akafka_poll(t->kafka, &done, err, sizeof err) == 1) {
		if (t->stale)
			t->stale = false;	/* its items are gone */
		else {
			atomic_fetch_add_explicit(t->sent, done,
			    memory_order_relaxed);
			take_items(t, done);
			if (done < t->inflight)
				note_failure(am, t, t->inflight - done, 0, err);
			else
				note_success(t);
		}
	}
	if (akafka_busy(t->kafka) || amq_len(&t->q) == 0 || now < t->retry_at)
		return;
	n = amq_len(&t->q) < AM_KAFKA_BATCH ? amq_len(&t->q) : AM_KAFKA_BATCH;
	if ((rc = akafka_produce(t->kafka, &t->q, n, err, sizeof err)) == -1)
		note_failure(am, t, n, 0, err);
	else
		t->inflight = (size_t)rc;
}

/* Posts t's queue, or re-sends the firing set when due. */
static void
send_url(struct am *am, struct am_target *t, int64_t now)
{
	char err[512], *body;
	long status;
	size_t n;

	if (now < t->retry_at)
		return;
	if (amq_len(&t->q) > 0)
		send_queued(am, t);
	else if (now >= t->resend_at) {
		body = resend_body(am, &n);
		if (n == 0 || post(t, body, &status, err, sizeof err) == 0) {
			t->resend_at = now + am->cfg->am_resend_s * 1000;
			if (n > 0)
				note_success(t);
		} else if (!atomic_load(&am->stop))
			note_failure(am, t, n, status, err);
		free(body);
	}
}

static void
send_target(struct am *am, struct am_target *t, int64_t now)
{
	if (t->kafka != NULL)
		send_kafka(am, t, now);
	else
		send_url(am, t, now);
	if (t->dirty) {
		if (store_am_set_cursor(am->store, t->url, t->cursor) == 0)
			t->dirty = false;
		else
			log_warn("cannot store the alert delivery cursor, "
			    "retrying | target=%s error=\"%s\"", t->url,
			    store_errstr(am->store));
	}
}

/* ---- the thread ------------------------------------------------------ */

static void
tick(struct am *am)
{
	int64_t now = clock_mono_ms();
	size_t i;

	if (!STAT_GET(leading)) {
		if (am->loaded)
			log_info("not leading: alert delivery paused");
		if (am->loaded || am->head[0] != '-')
			am_reset(am);
		for (i = 0; i < am->nt; i++)	/* a stale batch's reports */
			if (am->t[i].kafka != NULL)
				send_kafka(am, &am->t[i], now);
		return;
	}
	if ((!am->loaded ? load(am) : read_log(am)) == -1) {
		if (!am->store_failing)
			log_warn("alertmanager delivery cannot read the alert "
			    "log, retrying | error=\"%s\"",
			    store_errstr(am->store));
		am->store_failing = true;
		if (!am->loaded) {	/* a half-done load starts over */
			am_reset(am);
			return;
		}
		/* what was read is still sent */
	} else
		am->store_failing = false;
	resolve_gone(am);
	for (i = 0; i < am->nt && !atomic_load(&am->stop); i++)
		send_target(am, &am->t[i], now);
}

static void *
am_thread(void *arg)
{
	struct am *am = arg;
	int64_t next = 0;

	while (!atomic_load(&am->stop)) {
		if (clock_mono_ms() >= next) {
			tick(am);
			next = clock_mono_ms() + AM_TICK_MS;
		}
		usleep(50000);
	}
	return NULL;
}

int
am_new(const struct config *cfg, const char *redis_password,
    struct am **out, char *err, size_t errsz)
{
	struct am *am;
	size_t i;

	*out = NULL;
	if (cfg->am_nurls == 0 && cfg->alert_kafka_topic[0] == '\0')
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "alertmanager: libcurl init failed");
		return -1;
	}
	am = xcalloc(1, sizeof *am);
	am->cfg = cfg;
	am->check_gone = true;
	snprintf(am->head, sizeof am->head, "-");
	if (load_credentials(am, err, errsz) == -1)
		goto fail;
	am->t = xcalloc(cfg->am_nurls + 1, sizeof *am->t);
	for (i = 0; i < cfg->am_nurls; i++, am->nt++)
		if (target_init(am, &am->t[i], cfg->am_urls[i]) == -1) {
			snprintf(err, errsz, "alertmanager: libcurl handle");
			am->nt++;
			goto fail;
		}
	am->nurls = am->nt;
	if (cfg->alert_kafka_topic[0] != '\0' &&
	    kafka_target_init(&am->t[am->nt++], cfg, err, errsz) == -1)
		goto fail;
	am->store = store_open(cfg, redis_password);
	*out = am;
	return 0;
fail:
	am_free(am);
	return -1;
}

int
am_start(struct am *am, char *err, size_t errsz)
{
	int rc;

	if ((rc = pthread_create(&am->thr, NULL, am_thread, am)) != 0) {
		snprintf(err, errsz, "alertmanager thread: %s", strerror(rc));
		return -1;
	}
	am->started = true;
	return 0;
}

void
am_free(struct am *am)
{
	size_t i;

	if (am == NULL)
		return;
	atomic_store(&am->stop, 1);
	if (am->started)
		pthread_join(am->thr, NULL);
	am_reset(am);
	for (i = 0; i < am->nt; i++) {
		if (am->t[i].curl != NULL)
			curl_easy_cleanup(am->t[i].curl);
		akafka_free(am->t[i].kafka);
		free(am->t[i].url);
		free(am->t[i].post_url);
		amq_free(&am->t[i].q);
	}
	free(am->t);
	free(am->act);
	curl_slist_free_all(am->headers);
	free(am->userpwd);
	engine_unref(am->eng);
	strmap_free(&am->topics);
	store_free(am->store);
	free(am);
	curl_global_cleanup();
}
