/*
 * alert.c — alerts: evidence, JSON, group_wait digests; and the publish.
 *
 * DESIGN: the detector and backtest fill a struct alert with alert_make()
 * (evaluation plus evidence read through their alert_evidence source, with
 * the limits of alert.h) and ask for its JSON (alert_json).  The alert id is
 * built from the topic, block, window end and state only, so every daemon
 * of a group computes the same id for the same spike.  Numbers are written
 * with at most two decimals and never as inf or nan (null instead).
 * group_wait (alert_group_*) decides when held alerts are due, their order
 * and the digest's JSON; the alerts themselves are held by the caller's
 * alert_held_ops (Redis for the daemon, an array for backtest).  All of
 * that is pure: no I/O, no state beyond the caller's alert_group.  The
 * publish (alert_publish) goes through store_publish(): taken once across
 * daemons by the dedup key of the alert id, then written to the alert log
 * and published on the topic's channel, so exactly one daemon publishes an
 * alert.  Callable from any thread.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "alert.h"
#include "jsonw.h"
#include "xmalloc.h"

#define ALERT_DEDUP_TTL_MS	(INT64_C(7) * 86400 * 1000)
#define ALERT_STREAM_MAXLEN	10000

static const char *
alert_state(const struct alert *al)
{
	return al->action == SPIKE_RESOLVE ? "resolved" : "firing";
}

void
alert_id(const struct alert *al, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s:%zu:%" PRId64 ":%s", al->topic->id, al->block,
	    al->ev.window_end, alert_state(al));
}

/* RFC 3339 UTC of t seconds (ms >= 0: with milliseconds). */
static void
rfc3339(int64_t t, int ms, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n;

	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, sz, "1970-01-01T00:00:00Z");
		return;
	}
	n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms >= 0)
		snprintf(buf + n, sz - n, ".%03dZ", ms);
	else
		snprintf(buf + n, sz - n, "Z");
}

static void
write_time(struct jsonw *w, const char *key, int64_t t)
{
	char buf[64];

	rfc3339(t, -1, buf, sizeof buf);
	jsonw_key(w, key);
	jsonw_strz(w, buf);
}

/* A number rounded to two decimals, trailing zeros dropped: 23.5, 7.84, 3;
 * null when not finite. */
static void
write_num(struct jsonw *w, double v)
{
	char tmp[64];
	size_t n;

	if (!isfinite(v)) {
		jsonw_rawz(w, "null");
		return;
	}
	if (fabs(v) >= 1e15) {
		snprintf(tmp, sizeof tmp, "%.6g", v);
		jsonw_rawz(w, tmp);
		return;
	}
	v = round(v * 100) / 100;
	if (v == 0)
		v = 0;		/* no -0 */
	snprintf(tmp, sizeof tmp, "%.2f", v);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '0')
		n--;
	if (n > 0 && tmp[n - 1] == '.')
		n--;
	jsonw_raw(w, tmp, n);
}

/* [[name,count],…] */
static void
write_top(struct jsonw *w, const struct alert_top *t)
{
	size_t i;

	jsonw_raw(w, "[", 1);
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			jsonw_raw(w, ",", 1);
		jsonw_raw(w, "[", 1);
		jsonw_strz(w, t->names[i] != NULL ? t->names[i] : "");
		jsonw_raw(w, ",", 1);
		jsonw_int(w, t->counts[i]);
		jsonw_raw(w, "]", 1);
	}
	jsonw_raw(w, "]", 1);
}

/* n, or null when unknown (< 0). */
static void
write_count(struct jsonw *w, const char *key, int64_t n)
{
	jsonw_key(w, key);
	if (n < 0)
		jsonw_rawz(w, "null");
	else
		jsonw_int(w, n);
	jsonw_raw(w, ",", 1);
}

/* "authors", "texts", "posts_per_author", "baseline_posts_per_author",
 * each followed by a comma. */
static void
write_distinct(struct jsonw *w, const struct alert_distinct *d)
{
	write_count(w, "authors", d->authors);
	write_count(w, "texts", d->texts);
	jsonw_key(w, "posts_per_author");
	write_num(w, d->authors > 0 && d->posts >= 0 ?
	    (double)d->posts / (double)d->authors : NAN);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "baseline_posts_per_author");
	write_num(w, d->base_authors > 0 && d->base_posts >= 0 ?
	    (double)d->base_posts / (double)d->base_authors : NAN);
	jsonw_raw(w, ",", 1);
}

/* "top_text":{"text","posts","of","share"} or null, and a comma. */
static void
write_top_text(struct jsonw *w, const struct alert_top_text *tt)
{
	jsonw_key(w, "top_text");
	if (tt->text == NULL || tt->of <= 0) {
		jsonw_rawz(w, "null,");
		return;
	}
	jsonw_raw(w, "{", 1);
	jsonw_key(w, "text");
	jsonw_strz(w, tt->text);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "posts");
	jsonw_int(w, tt->n);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "of");
	jsonw_int(w, tt->of);
	jsonw_raw(w, ",", 1);
	jsonw_key(w, "share");
	write_num(w, (double)tt->n / (double)tt->of);
	jsonw_raw(w, "},", 2);
}

char *
alert_json(const struct alert *al)
{
	const struct rule_topic *t = al->topic;
	const struct rule_alert *ra = &t->alerts[al->block];
	struct jsonw w = { NULL, 0, 0 };
	char id[512], at[64];
	int64_t ms;
	size_t i, n;

	alert_id(al, id, sizeof id);
	jsonw_raw(&w, "{", 1);
	jsonw_key(&w, "id");
	jsonw_strz(&w, id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "state");
	jsonw_strz(&w, alert_state(al));
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "topic");
	jsonw_strz(&w, t->id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "name");
	jsonw_strz(&w, t->name != NULL ? t->name : t->id);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "severity");
	jsonw_strz(&w, rules_severity_name(ra->severity));
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "condition");
	jsonw_strz(&w, spike_cond_name(al->ev.cond));
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "window_s");
	jsonw_int(&w, al->ev.window_end - al->ev.window_start);
	jsonw_raw(&w, ",", 1);
	write_time(&w, "window_start", al->ev.window_start);
	jsonw_raw(&w, ",", 1);
	write_time(&w, "window_end", al->ev.window_end);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "count");
	jsonw_int(&w, al->ev.count);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "baseline_rate");
	write_num(&w, al->ev.baseline_rate);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "ratio");
	write_num(&w, al->ev.ratio);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "zscore");
	write_num(&w, al->ev.zscore);
	jsonw_raw(&w, ",", 1);
	write_distinct(&w, &al->distinct);
	write_top_text(&w, &al->top_text);
	jsonw_key(&w, "top_keywords");
	write_top(&w, &al->keywords);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "breakdown");
	jsonw_raw(&w, "{", 1);
	for (i = 0; i < al->nbreakdown; i++) {
		if (i > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_key(&w, al->breakdown[i].field);
		write_top(&w, &al->breakdown[i].top);
	}
	jsonw_raw(&w, "},", 2);
	jsonw_key(&w, "samples");
	jsonw_raw(&w, "[", 1);
	for (i = n = 0; i < al->nsamples; i++) {
		if (al->samples[i] == NULL || al->samples[i][0] == '\0')
			continue;
		if (n++ > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_rawz(&w, al->samples[i]);
	}
	jsonw_raw(&w, "],", 2);
	jsonw_key(&w, "rules_file");
	if (t->file != NULL)
		jsonw_strz(&w, t->file);
	else
		jsonw_rawz(&w, "null");
	if (al->action == SPIKE_REPEAT)
		jsonw_rawz(&w, ",\"repeat\":true");
	if (al->late)
		jsonw_rawz(&w, ",\"late\":true");
	jsonw_raw(&w, ",", 1);
	ms = al->detected_ms % 1000;
	if (ms < 0)
		ms += 1000;
	rfc3339((al->detected_ms - ms) / 1000, (int)ms, at, sizeof at);
	jsonw_key(&w, "detected_at");
	jsonw_strz(&w, at);
	jsonw_raw(&w, "}", 1);
	return w.buf;
}

int
alert_publish(struct store *s, const struct alert_pub *pub,
    const struct alert *al, const char *json)
{
	struct store_alert sa;
	char id[512];

	alert_id(al, id, sizeof id);
	memset(&sa, 0, sizeof sa);
	sa.id = id;
	sa.topic = al->topic->id;	/* the store's <p><alerts.channel> */
	sa.json = json;
	sa.dedup_ttl_ms = pub->dedup_ttl_ms > 0 ? pub->dedup_ttl_ms :
	    ALERT_DEDUP_TTL_MS;
	sa.stream_maxlen = pub->stream_maxlen > 0 ? pub->stream_maxlen :
	    ALERT_STREAM_MAXLEN;
	return store_publish(s, &sa);
}

/* ---- evidence ---------------------------------------------------------- */

/* The distinct counts of the window's hours and of the 24 hours before. */
static void
make_distinct(struct alert *al, const struct rule_topic *t,
    const struct alert_evidence *src, void *arg)
{
	struct alert_distinct *d = &al->distinct;
	int64_t v[3], from = al->ev.window_start, h0;

	if (src->distinct == NULL ||
	    src->distinct(arg, t, from, al->ev.window_end, v) == -1)
		return;
	d->authors = v[0];
	d->texts = v[1];
	d->posts = v[2];
	h0 = from - ((from % 3600) + 3600) % 3600;
	if (src->distinct(arg, t, h0 - 86400, h0, v) == -1)
		return;
	d->base_authors = v[0];
	d->base_posts = v[2];
}

/* The most repeated text among the alert's samples, by text key (ties:
 * the newest); its newest sample's text.  The samples, not more of them:
 * the daemon's and backtest's are the same posts (agg.h). */
static void
make_top_text(struct alert *al, const struct alert_evidence *src, void *arg)
{
	size_t n = al->nsamples, i, j, best = 0, bestn = 0, cnt;
	uint64_t *keys;
	cJSON **docs;
	const cJSON *tx;

	if (src->text_key == NULL || n == 0)
		return;
	keys = xcalloc(n, sizeof *keys);
	docs = xcalloc(n, sizeof *docs);
	for (i = 0; i < n; i++) {
		docs[i] = cJSON_Parse(al->samples[i]);
		tx = cJSON_GetObjectItem(docs[i], "text");
		keys[i] = cJSON_IsString(tx) ? src->text_key(arg,
		    tx->valuestring, strlen(tx->valuestring)) : 0;
	}
	for (i = 0; i < n; i++) {
		for (j = cnt = 0; j < n; j++)
			cnt += keys[j] == keys[i];
		if (cnt > bestn) {
			bestn = cnt;
			best = i;
		}
	}
	tx = cJSON_GetObjectItem(docs[best], "text");
	al->top_text.text = xstrdup(cJSON_IsString(tx) ? tx->valuestring : "");
	al->top_text.n = (int64_t)bestn;
	al->top_text.of = (int64_t)n;
	for (i = 0; i < n; i++)
		cJSON_Delete(docs[i]);
	free(docs);
	free(keys);
}

void
alert_make(struct alert *al, const struct rule_topic *t, size_t block,
    enum spike_action act, const struct spike_eval *ev, int64_t detected_ms,
    const struct alert_evidence *src, void *arg)
{
	int64_t from = ev->window_start, to = ev->window_end;
	size_t i;

	memset(al, 0, sizeof *al);
	al->action = act;
	al->topic = t;
	al->block = block;
	al->ev = *ev;
	al->detected_ms = detected_ms;
	al->distinct.authors = al->distinct.texts = al->distinct.posts = -1;
	al->distinct.base_authors = al->distinct.base_posts = -1;
	if (act == SPIKE_RESOLVE || src == NULL)
		return;
	/* evidence counts: whole slots of the store */
	from -= ((from % STORE_SLOT_S) + STORE_SLOT_S) % STORE_SLOT_S;
	to += ((STORE_SLOT_S - to % STORE_SLOT_S) % STORE_SLOT_S);
	(void)src->top(arg, t, NULL, from, to, ALERT_TOP_KEYWORDS,
	    &al->keywords);
	if (t->ncount_by > 0) {
		al->breakdown = xcalloc(t->ncount_by, sizeof *al->breakdown);
		al->nbreakdown = t->ncount_by;
	}
	for (i = 0; i < t->ncount_by; i++) {
		al->breakdown[i].field = t->count_by[i];
		(void)src->top(arg, t, t->count_by[i], from, to,
		    ALERT_TOP_VALUES, &al->breakdown[i].top);
	}
	(void)src->samples(arg, t, ev->window_start, ev->window_end,
	    ALERT_SAMPLES, &al->samples, &al->nsamples);
	make_distinct(al, t, src, arg);
	make_top_text(al, src, arg);
}

int
alert_top_cmp(int64_t c1, const char *n1, int64_t c2, const char *n2)
{
	if (c1 != c2)
		return c1 > c2 ? -1 : 1;
	return strcmp(n1, n2);
}

/* ---- group_wait ---------------------------------------------------------- */

void
alert_group_init(struct alert_group *g, const struct alert_held_ops *ops,
    void *arg)
{
	g->ops = ops;
	g->arg = arg;
	g->since = INT64_MAX;
	g->wait = 0;
}

bool
alert_group_waits(const struct alert *al)
{
	return al->action == SPIKE_FIRE && al->topic->group_wait_s > 0;
}

int
alert_group_hold(struct alert_group *g, const struct alert *al,
    const char *json)
{
	int64_t wait = al->topic->group_wait_s;
	char id[512];
	int rc;

	alert_id(al, id, sizeof id);
	rc = g->ops->add(g->arg, id, json, al->ev.window_end, al->detected_ms,
	    wait);
	if (rc == 1) {
		if (g->since == INT64_MAX || al->ev.window_end < g->since)
			g->since = al->ev.window_end;
		if (g->wait == 0 || wait < g->wait)
			g->wait = wait;
	}
	return rc;
}

/* Due once the posts' time or the wall clock is a wait past the first. */
static bool
held_due(const struct alert_held *h, int64_t T, int64_t now_ms)
{
	if (T >= h->since + h->wait_s)
		return true;
	return now_ms != INT64_MIN && now_ms >= h->wall_ms + h->wait_s * 1000;
}

int
alert_group_tick(struct alert_group *g, int64_t T, int64_t now_ms)
{
	if (g->since == INT64_MAX || T < g->since + g->wait)
		return 0;
	return alert_group_flush(g, T, now_ms);
}

static int
cmp_held(const void *a, const void *b)
{
	return strcmp(((const struct alert_held_item *)a)->id,
	    ((const struct alert_held_item *)b)->id);
}

int
alert_group_flush(struct alert_group *g, int64_t T, int64_t now_ms)
{
	struct alert_held h;
	char id[96];
	int rc = 0;

	memset(&h, 0, sizeof h);
	if (g->ops->list(g->arg, &h) == -1)
		return -1;
	/* the timer follows what is held now (another leader may have sent
	 * it, or it expired), so an empty hold is not read at every step */
	g->since = h.n > 0 ? h.since : INT64_MAX;
	g->wait = h.n > 0 ? h.wait_s : 0;
	if (h.n > 0 && held_due(&h, T, now_ms)) {
		/* in id order: topic, block, window end */
		qsort(h.items, h.n, sizeof *h.items, cmp_held);
		snprintf(id, sizeof id, "digest:%" PRId64 ":%zu", h.since, h.n);
		rc = g->ops->send(g->arg, &h, id);
		if (rc > 0) {
			g->since = INT64_MAX;
			g->wait = 0;
		}
	}
	alert_held_clear(&h);
	return rc;
}

char *
alert_digest_json(const char *digest_id, const struct alert_held *h)
{
	struct jsonw w = { NULL, 0, 0 };
	size_t i;

	jsonw_raw(&w, "{", 1);
	jsonw_key(&w, "id");
	jsonw_strz(&w, digest_id);
	jsonw_rawz(&w, ",\"digest\":true,");
	write_time(&w, "window_end", h->since);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "count");
	jsonw_int(&w, (int64_t)h->n);
	jsonw_raw(&w, ",", 1);
	jsonw_key(&w, "alerts");
	jsonw_raw(&w, "[", 1);
	for (i = 0; i < h->n; i++) {
		if (i > 0)
			jsonw_raw(&w, ",", 1);
		jsonw_rawz(&w, h->items[i].json);
	}
	jsonw_raw(&w, "]}", 2);
	return w.buf;
}

void
alert_held_clear(struct alert_held *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		free(h->items[i].id);
		free(h->items[i].json);
	}
	free(h->items);
	memset(h, 0, sizeof *h);
}

static void
top_clear(struct alert_top *t)
{
	size_t i;

	if (t->names != NULL)
		for (i = 0; i < t->n; i++)
			free(t->names[i]);
	free(t->names);
	free(t->counts);
	t->names = NULL;
	t->counts = NULL;
	t->n = 0;
}

void
alert_clear(struct alert *al)
{
	size_t i;

	if (al == NULL)
		return;
	top_clear(&al->keywords);
	for (i = 0; i < al->nbreakdown; i++)
		top_clear(&al->breakdown[i].top);
	free(al->breakdown);
	al->breakdown = NULL;
	al->nbreakdown = 0;
	if (al->samples != NULL)
		for (i = 0; i < al->nsamples; i++)
			free(al->samples[i]);
	free(al->samples);
	al->samples = NULL;
	al->nsamples = 0;
	al->distinct.authors = al->distinct.texts = al->distinct.posts = -1;
	al->distinct.base_authors = al->distinct.base_posts = -1;
	free(al->top_text.text);
	al->top_text.text = NULL;
	al->top_text.n = al->top_text.of = 0;
}
