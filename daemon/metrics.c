/*
 * metrics.c — the Prometheus endpoint and the metrics beyond stats.h.
 *
 * DESIGN: most numbers are the atomics of stats.h, read when /metrics is
 * scraped.  What needs a table lives here, under one mutex: the matched
 * count per topic (fed after each successful flush from the aggregate's
 * AGG_COUNT entries, so it lags the stream by one flush interval; one lock
 * per flush and a hash lookup per entry, the table sorted by name only
 * when scraped) and the
 * consumer lag per partition (fed by librdkafka's statistics callback on
 * the consumer threads, every statistics.interval.ms).  Both tables are
 * bounded: topics past METRICS_MAX_TOPICS count under "_other", partitions
 * past METRICS_MAX_PARTITIONS are not reported.  The flush duration
 * histogram is a row of atomics.  libmicrohttpd serves GET /metrics (text
 * format 0.0.4) and /healthz on its own thread; /healthz answers 503 with
 * the reason when Redis or Kafka has not succeeded for
 * metrics.unhealthy_after; /reload-status gives the outcome of the last
 * reload (reloadst.h) for `tidewatch reload`; the web view's URLs (/,
 * /topics/, /alerts, /static/, /api/) go to web.c.  Every topic of the rule set
 * in force has its matched series from the start (0), and the process_*
 * metrics of the Prometheus client conventions are read from the kernel at
 * each scrape.  Everything but metrics_start/stop may be called from any
 * thread.
 */
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>

#include "clock.h"
#include "agg.h"
#include "engine.h"
#include "log.h"
#include "metrics.h"
#include "reloadst.h"
#include "rules.h"
#include "stats.h"
#include "store.h"
#include "strmap.h"
#include "version.h"
#include "web.h"
#include "xmalloc.h"

struct topic_count {
	char		*name;
	uint64_t	 n;
};

struct part_lag {
	int		 consumer;
	char		*topic;
	int32_t		 partition;
	int64_t		 lag;
};

static pthread_mutex_t		 mu = PTHREAD_MUTEX_INITIALIZER;
static struct topic_count	*topics;	/* in the order first seen */
static size_t			 ntopics, topiccap;
static struct strmap		 topicmap;	/* name -> index in topics */
static uint64_t			 topics_other;
static struct part_lag		*lags;
static size_t			 nlags, lagcap;

static const double flush_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};
#define NBOUNDS	(sizeof flush_bounds / sizeof flush_bounds[0])
static _Atomic uint64_t		 flush_buckets[NBOUNDS];	/* not cumulative */
static _Atomic uint64_t		 flush_count, flush_sum_ns;

static _Atomic int64_t		 unhealthy_after_ms = 30000;
static struct MHD_Daemon	*httpd;
static int			 http_port;
static int64_t			 start_ms;

void
metrics_flush_totals(uint64_t *count, double *seconds)
{
	*count = atomic_load(&flush_count);
	*seconds = (double)atomic_load(&flush_sum_ns) / 1e9;
}

double
metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Tables. */

/* Adds n to topic's count; the caller holds mu. */
static void
topic_add_locked(const char *topic, uint64_t n)
{
	size_t i = strmap_get(&topicmap, topic);

	if (i != STRMAP_NONE) {
		topics[i].n += n;
		return;
	}
	if (ntopics >= METRICS_MAX_TOPICS) {
		topics_other += n;
		return;
	}
	topics = xgrow(topics, &topiccap, ntopics + 1, sizeof *topics);
	topics[ntopics].name = xstrdup(topic);
	topics[ntopics].n = n;
	strmap_put(&topicmap, topics[ntopics].name, ntopics);
	ntopics++;
}

void
metrics_topic_add(const char *topic, uint64_t n)
{
	pthread_mutex_lock(&mu);
	topic_add_locked(topic, n);
	pthread_mutex_unlock(&mu);
}

void
metrics_flushed(const struct agg *a)
{
	const struct agg_entry *e;
	size_t n, i;

	STAT_SET(redis_ok_ms, clock_wall_ms());
	e = agg_entries(a, &n);
	pthread_mutex_lock(&mu);
	for (i = 0; i < n; i++)
		if (e[i].kind == AGG_COUNT && e[i].count > 0 &&
		    strcmp(e[i].topic, "_all") != 0)
			topic_add_locked(e[i].topic, (uint64_t)e[i].count);
	pthread_mutex_unlock(&mu);
}

void
metrics_flush_observe(double seconds)
{
	size_t i;

	if (!(seconds >= 0))
		seconds = 0;
	for (i = 0; i < NBOUNDS && seconds > flush_bounds[i]; i++)
		;
	if (i < NBOUNDS)
		atomic_fetch_add_explicit(&flush_buckets[i], 1,
		    memory_order_relaxed);
	atomic_fetch_add_explicit(&flush_sum_ns, (uint64_t)(seconds * 1e9),
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&flush_count, 1, memory_order_relaxed);
}

static int64_t
json_int(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

int
metrics_kafka_stats(int consumer, const char *json, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *brokers, *tops, *b, *t, *p;
	struct part_lag *fresh = NULL;
	size_t nfresh = 0, freshcap = 0, i, j;
	int up = 0;

	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -1;
	}
	brokers = cJSON_GetObjectItemCaseSensitive(root, "brokers");
	cJSON_ArrayForEach(b, brokers) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "state");

		if (json_int(b, "nodeid", -1) >= 0 && cJSON_IsString(st) &&
		    strcmp(st->valuestring, "UP") == 0)
			up = 1;
	}
	tops = cJSON_GetObjectItemCaseSensitive(root, "topics");
	cJSON_ArrayForEach(t, tops) {
		const cJSON *parts = cJSON_GetObjectItemCaseSensitive(t,
		    "partitions");

		if (t->string == NULL)
			continue;
		cJSON_ArrayForEach(p, parts) {
			int64_t part = json_int(p, "partition", -1);
			int64_t lag = json_int(p, "consumer_lag", -1);
			const cJSON *desired = cJSON_GetObjectItemCaseSensitive(p,
			    "desired");

			if (part < 0 || part > INT32_MAX)
				continue;
			if (!cJSON_IsTrue(desired) && lag < 0)
				continue;	/* not assigned to us */
			if (lag < 0) {
				/* nothing committed yet: from the position */
				int64_t end = json_int(p, "ls_offset", -1);
				int64_t pos = json_int(p, "app_offset", -1);

				if (end < 0)
					end = json_int(p, "hi_offset", -1);
				if (pos < 0)
					pos = json_int(p, "next_offset", -1);
				if (pos < 0)
					pos = json_int(p, "lo_offset", -1);
				if (end >= 0 && pos >= 0)
					lag = end > pos ? end - pos : 0;
			}
			if (nfresh >= METRICS_MAX_PARTITIONS)
				break;
			fresh = xgrow(fresh, &freshcap, nfresh + 1, sizeof *fresh);
			fresh[nfresh].consumer = consumer;
			fresh[nfresh].topic = xstrdup(t->string);
			fresh[nfresh].partition = (int32_t)part;
			fresh[nfresh].lag = lag;
			nfresh++;
		}
	}
	cJSON_Delete(root);
	if (up)
		STAT_SET(kafka_ok_ms, clock_wall_ms());

	pthread_mutex_lock(&mu);
	for (i = j = 0; i < nlags; i++) {
		if (lags[i].consumer == consumer)
			free(lags[i].topic);
		else
			lags[j++] = lags[i];
	}
	nlags = j;
	for (i = 0; i < nfresh; i++) {
		if (nlags >= METRICS_MAX_PARTITIONS) {
			free(fresh[i].topic);
			continue;
		}
		lags = xgrow(lags, &lagcap, nlags + 1, sizeof *lags);
		lags[nlags++] = fresh[i];
	}
	pthread_mutex_unlock(&mu);
	free(fresh);
	return 0;
}

size_t
metrics_partitions(int consumer)
{
	size_t i, n = 0;

	pthread_mutex_lock(&mu);
	for (i = 0; i < nlags; i++)
		if (consumer < 0 || lags[i].consumer == consumer)
			n++;
	pthread_mutex_unlock(&mu);
	return n;
}

void
metrics_reset(void)
{
	size_t i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < ntopics; i++)
		free(topics[i].name);
	free(topics);
	topics = NULL;
	ntopics = topiccap = 0;
	strmap_free(&topicmap);
	topics_other = 0;
	for (i = 0; i < nlags; i++)
		free(lags[i].topic);
	free(lags);
	lags = NULL;
	nlags = lagcap = 0;
	pthread_mutex_unlock(&mu);
	for (i = 0; i < NBOUNDS; i++)
		atomic_store(&flush_buckets[i], 0);
	atomic_store(&flush_count, 0);
	atomic_store(&flush_sum_ns, 0);
}

/* Health. */

void
metrics_set_unhealthy_after(int64_t ms)
{
	atomic_store(&unhealthy_after_ms, ms);
}

/* What /healthz says Redis is: "redis unreachable", or the kind of the
 * last failure when it was not the connection ("redis: authentication
 * failed"). */
static const char *
redis_cause(void)
{
	static const char *const causes[] = {
		[STORE_FAULT_UNAVAILABLE] = "redis: not serving",
		[STORE_FAULT_AUTH] = "redis: authentication failed",
		[STORE_FAULT_NOPERM] = "redis: permission denied",
		[STORE_FAULT_DATABASE] = "redis: no such database",
		[STORE_FAULT_LAYOUT] = "redis: counters of another layout",
		[STORE_FAULT_ERROR] = "redis: error",
	};
	int f = STAT_GET(redis_fault);

	if (f <= STORE_FAULT_UNREACHABLE || f > STORE_FAULT_ERROR)
		return "redis unreachable";
	return causes[f];
}

int
metrics_health(int64_t now_ms, char *reason, size_t sz)
{
	int64_t limit = atomic_load(&unhealthy_after_ms);
	int64_t r = STAT_GET(redis_ok_ms), k = STAT_GET(kafka_ok_ms);
	int64_t post = STAT_GET(last_post_ms);
	int64_t since = start_ms;	/* grace after start; 0 in tests */

	if (post > k)
		k = post;
	if (r < since)
		r = since;
	if (k < since)
		k = since;
	if (now_ms - r > limit && now_ms - k > limit)
		snprintf(reason, sz, "%s for %" PRId64 "s, kafka "
		    "unreachable for %" PRId64 "s", redis_cause(), (now_ms - r) / 1000,
		    (now_ms - k) / 1000);
	else if (now_ms - r > limit)
		snprintf(reason, sz, "%s for %" PRId64 "s", redis_cause(),
		    (now_ms - r) / 1000);
	else if (now_ms - k > limit)
		snprintf(reason, sz, "kafka unreachable for %" PRId64 "s",
		    (now_ms - k) / 1000);
	else {
		snprintf(reason, sz, "ok");
		return 0;
	}
	return -1;
}

/* Rendering. */

struct buf {
	char	*p;
	size_t	 n, cap;
};

static void
bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < b->cap - b->n) {
			b->n += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
}

/* A label value, escaped as the text format wants: \\, \" and \n. */
static void
blabel(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			bprintf(b, "\\\\");
		else if (*v == '"')
			bprintf(b, "\\\"");
		else if (*v == '\n')
			bprintf(b, "\\n");
		else
			bprintf(b, "%c", *v);
	}
}

static void
family(struct buf *b, const char *name, const char *type, const char *help)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	family(b, name, "counter", help);
	bprintf(b, "%s %" PRIu64 "\n", name, v);
}

static void
gauge(struct buf *b, const char *name, const char *help, double v)
{
	family(b, name, "gauge", help);
	if (v == (double)(int64_t)v)
		bprintf(b, "%s %" PRId64 "\n", name, (int64_t)v);
	else
		bprintf(b, "%s %.3f\n", name, v);
}

/* Every topic of the rule set in force gets its matched-posts series,
 * at 0 until a flush counts one, so each topic is there from the start
 * (and from the reload that added it); done once per rule set version. */
static void
declare_rule_topics(void)
{
	static _Atomic uint64_t declared;	/* rule set version */
	struct engine *e = engine_current();
	size_t i;

	if (e == NULL)
		return;
	if (atomic_exchange(&declared, e->version) != e->version &&
	    e->rs != NULL)
		for (i = 0; i < e->rs->ntopics; i++)
			metrics_topic_add(e->rs->topics[i].id, 0);
	engine_unref(e);
}

/* qsort order of topic indexes: by name. */
static int
cmp_topic_name(const void *x, const void *y)
{
	return strcmp(topics[*(const size_t *)x].name,
	    topics[*(const size_t *)y].name);
}

static void
render_tables(struct buf *b)
{
	size_t i, *order;

	declare_rule_topics();
	pthread_mutex_lock(&mu);
	family(b, "tidewatch_posts_matched_total", "counter",
	    "Posts matched per topic, counted when written to Redis.");
	order = xcalloc(ntopics + 1, sizeof *order);
	for (i = 0; i < ntopics; i++)
		order[i] = i;
	qsort(order, ntopics, sizeof *order, cmp_topic_name);
	for (i = 0; i < ntopics; i++) {
		bprintf(b, "tidewatch_posts_matched_total{topic=\"");
		blabel(b, topics[order[i]].name);
		bprintf(b, "\"} %" PRIu64 "\n", topics[order[i]].n);
	}
	free(order);
	if (topics_other > 0)
		bprintf(b, "tidewatch_posts_matched_total{topic=\"_other\"} %"
		    PRIu64 "\n", topics_other);
	family(b, "tidewatch_kafka_consumer_lag", "gauge",
	    "Messages behind the end of each assigned partition "
	    "(librdkafka statistics; -1 unknown).");
	for (i = 0; i < nlags; i++) {
		bprintf(b, "tidewatch_kafka_consumer_lag{topic=\"");
		blabel(b, lags[i].topic);
		bprintf(b, "\",partition=\"%" PRId32 "\"} %" PRId64 "\n",
		    lags[i].partition, lags[i].lag);
	}
	pthread_mutex_unlock(&mu);
}

static void
render_histogram(struct buf *b)
{
	uint64_t cum = 0, count;
	size_t i;

	family(b, "tidewatch_flush_duration_seconds", "histogram",
	    "Time of one flush of a consumer's counts to Redis.");
	count = atomic_load(&flush_count);
	for (i = 0; i < NBOUNDS; i++) {
		cum += atomic_load(&flush_buckets[i]);
		bprintf(b, "tidewatch_flush_duration_seconds_bucket{le=\"%g\"} %"
		    PRIu64 "\n", flush_bounds[i], cum);
	}
	if (count < cum)
		count = cum;
	bprintf(b, "tidewatch_flush_duration_seconds_bucket{le=\"+Inf\"} %"
	    PRIu64 "\n", count);
	bprintf(b, "tidewatch_flush_duration_seconds_sum %.9f\n",
	    (double)atomic_load(&flush_sum_ns) / 1e9);
	bprintf(b, "tidewatch_flush_duration_seconds_count %" PRIu64 "\n", count);
}

/* The process_* metrics of the Prometheus client libraries, from
 * getrusage, getrlimit and /proc/self (statm, fd); a value that cannot
 * be read is left out. */
static void
render_process(struct buf *b)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long vsz, rss;
	long page = sysconf(_SC_PAGESIZE);
	FILE *fp;
	DIR *d;
	struct dirent *de;
	int fds = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		family(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.");
		bprintf(b, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	if ((fp = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(fp, "%llu %llu", &vsz, &rss) == 2 && page > 0) {
			gauge(b, "process_resident_memory_bytes",
			    "Resident memory size in bytes.",
			    (double)(rss * (unsigned long long)page));
			gauge(b, "process_virtual_memory_bytes",
			    "Virtual memory size in bytes.",
			    (double)(vsz * (unsigned long long)page));
		}
		fclose(fp);
	}
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				fds++;
		closedir(d);
		gauge(b, "process_open_fds", "Number of open file descriptors.",
		    fds - 1);	/* not the directory's own */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		gauge(b, "process_max_fds",
		    "Maximum number of open file descriptors.",
		    (double)rl.rlim_cur);
	gauge(b, "process_start_time_seconds",
	    "Start time of the process since unix epoch in seconds.",
	    (double)start_ms / 1000.0);
}

char *
metrics_render(void)
{
	struct buf b = { NULL, 0, 0 };
	char reason[128];
	int64_t now = clock_wall_ms();
	size_t i;

	b.cap = 16384;
	b.p = xmalloc(b.cap);
	b.p[0] = '\0';

	family(&b, "tidewatch_build_info", "gauge",
	    "Version of tidewatch and its main libraries; always 1.");
	bprintf(&b, "tidewatch_build_info{version=\"");
	blabel(&b, TW_VERSION);
	bprintf(&b, "\",librdkafka=\"");
	blabel(&b, rd_kafka_version_str());
	bprintf(&b, "\",hiredis=\"");
	blabel(&b, store_client_version());
	bprintf(&b, "\"} 1\n");
	render_process(&b);
	gauge(&b, "tidewatch_up", "1 while /healthz reports healthy, else 0.",
	    metrics_health(now, reason, sizeof reason) == 0 ? 1 : 0);

	counter(&b, "tidewatch_posts_consumed_total",
	    "Kafka messages received on assigned partitions.",
	    STAT_GET(consumed));
	counter(&b, "tidewatch_posts_decoded_total",
	    "Posts decoded and matched against the rules.", STAT_GET(decoded));
	family(&b, "tidewatch_posts_rejected_total", "counter",
	    "Messages rejected by reason (not counted anywhere else).");
	for (i = DEC_OK + 1; i < REJ__COUNT; i++)
		bprintf(&b, "tidewatch_posts_rejected_total{reason=\"%s\"} %"
		    PRIu64 "\n", stats_reject_name((int)i), STAT_GET(rejected[i]));
	counter(&b, "tidewatch_posts_late_total",
	    "Posts older than the retention, not counted.", STAT_GET(late));
	counter(&b, "tidewatch_posts_with_match_total",
	    "Posts that matched at least one topic.", STAT_GET(matched));
	render_tables(&b);
	counter(&b, "tidewatch_regex_errors_total",
	    "Regular expressions cut off by the PCRE2 limits or failing.",
	    STAT_GET(regex_errors));
	gauge(&b, "tidewatch_last_post_timestamp_seconds",
	    "When the last Kafka message arrived (0: none yet).",
	    (double)STAT_GET(last_post_ms) / 1000.0);
	gauge(&b, "tidewatch_input_stalled",
	    "1 while a stall alert is firing (no post for stall_after).",
	    STAT_GET(stalled));

	counter(&b, "tidewatch_flushes_total",
	    "Successful flushes of counts and positions to Redis.",
	    STAT_GET(flushes));
	counter(&b, "tidewatch_flush_errors_total",
	    "Flushes that failed (Redis away); the counts are kept and retried.",
	    STAT_GET(flush_errors));
	counter(&b, "tidewatch_flush_conflicts_total",
	    "Flushes refused because a partition moved to another consumer.",
	    STAT_GET(flush_conflicts));
	render_histogram(&b);
	counter(&b, "tidewatch_redis_errors_total",
	    "Redis commands that failed.", STAT_GET(redis_errors));
	counter(&b, "tidewatch_kafka_errors_total",
	    "Errors reported by librdkafka.", STAT_GET(kafka_errors));
	gauge(&b, "tidewatch_redis_last_success_timestamp_seconds",
	    "Last successful use of Redis (0: none yet).",
	    (double)STAT_GET(redis_ok_ms) / 1000.0);
	gauge(&b, "tidewatch_kafka_last_success_timestamp_seconds",
	    "Last sign of a reachable Kafka broker (0: none yet).",
	    (double)STAT_GET(kafka_ok_ms) / 1000.0);

	family(&b, "tidewatch_rule_reloads_total", "counter",
	    "Reloads by result; a failed one (config or rules) keeps the "
	    "config and rules in force.");
	bprintf(&b, "tidewatch_rule_reloads_total{result=\"ok\"} %" PRIu64 "\n"
	    "tidewatch_rule_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    STAT_GET(reloads_ok), STAT_GET(reloads_failed));
	gauge(&b, "tidewatch_rules_last_reload_success_timestamp_seconds",
	    "When the config and rules were last loaded without an error "
	    "(start-up or reload).", (double)reloadst_last_success_ms() / 1000.0);
	gauge(&b, "tidewatch_rules_version",
	    "Version of the rule set in force (1 at start, +1 per reload).",
	    (double)engine_current_version());
	family(&b, "tidewatch_alerts_sent_total", "counter",
	    "Topic alerts published by this daemon, by severity.");
	for (i = 0; i < 3; i++)
		bprintf(&b, "tidewatch_alerts_sent_total{severity=\"%s\"} %"
		    PRIu64 "\n", rules_severity_name((enum severity)i),
		    STAT_GET(alerts[i]));
	counter(&b, "tidewatch_alerts_duplicate_total",
	    "Alerts another daemon had already published.",
	    STAT_GET(alerts_dup));
	family(&b, "tidewatch_ops_alerts_total", "counter",
	    "Operational alerts published on <prefix>alerts:_ops.");
	bprintf(&b, "tidewatch_ops_alerts_total{type=\"stall\",state=\"firing\"} %"
	    PRIu64 "\n"
	    "tidewatch_ops_alerts_total{type=\"stall\",state=\"resolved\"} %"
	    PRIu64 "\n", STAT_GET(stall_alerts[0]), STAT_GET(stall_alerts[1]));
	gauge(&b, "tidewatch_detector_leader",
	    "1 while this daemon holds the detection lease.", STAT_GET(leading));
	counter(&b, "tidewatch_alertmanager_sent_total",
	    "Alerts of the alert log Alertmanager accepted, summed over its "
	    "URLs (re-sends of firing alerts not counted).",
	    STAT_GET(am_sent));
	counter(&b, "tidewatch_alertmanager_failed_total",
	    "Alerts in POSTs to Alertmanager that failed (each attempt).",
	    STAT_GET(am_failed));
	gauge(&b, "tidewatch_alertmanager_pending",
	    "Alerts of the alert log waiting for Alertmanager, summed over "
	    "its URLs.", (double)STAT_GET(am_pending));
	counter(&b, "tidewatch_alert_kafka_sent_total",
	    "Alerts of the alert log delivered to alerts.kafka_topic.",
	    STAT_GET(kafka_out_sent));
	counter(&b, "tidewatch_alert_kafka_failed_total",
	    "Alerts whose delivery to alerts.kafka_topic failed (each "
	    "attempt).", STAT_GET(kafka_out_failed));
	gauge(&b, "tidewatch_alert_kafka_pending",
	    "Alerts of the alert log waiting for alerts.kafka_topic.",
	    (double)STAT_GET(kafka_out_pending));
	counter(&b, "tidewatch_store_resets_total",
	    "Data loss found in Redis: partitions whose position was lost or "
	    "rolled back behind the group's Kafka commits, and `since` moving "
	    "forward.", STAT_GET(store_resets));
	return b.p;
}

/* HTTP. */

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned int status, const char *type,
    char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
serve_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	char reason[160], *body;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		if (*upload_size > 0) {
			*upload_size = 0;	/* ignore a body */
			return MHD_YES;
		}
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "text/plain; charset=utf-8", xstrdup("use GET\n"));
	}
	if (strcmp(url, "/metrics") == 0)
		return reply(conn, MHD_HTTP_OK,
		    "text/plain; version=0.0.4; charset=utf-8", metrics_render());
	if (strcmp(url, "/healthz") == 0) {
		int ok = metrics_health(clock_wall_ms(), reason, sizeof reason) == 0;

		body = xmalloc(strlen(reason) + 2);
		snprintf(body, strlen(reason) + 2, "%s\n", reason);
		return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		    "text/plain; charset=utf-8", body);
	}
	if (web_handles(url))
		return (enum MHD_Result)web_serve(conn, url);
	if (strcmp(url, "/reload-status") == 0)
		return reply(conn, MHD_HTTP_OK, "text/plain; charset=utf-8",
		    reloadst_render());
	if (strcmp(url, "/") == 0)
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
		    xstrdup("<html><body><h1>tidewatch</h1><p><a href=\"/metrics\">"
		    "metrics</a> <a href=\"/healthz\">healthz</a></p></body>"
		    "</html>\n"));
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
	    xstrdup("not found: try /metrics or /healthz\n"));
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("metrics http: %s", msg);
}

int
metrics_start(const char *listen, char *err, size_t errsz)
{
	struct addrinfo hints, *ai = NULL;
	const char *colon;
	char host[256], port[16];
	unsigned int flags;
	int rc;
	const union MHD_DaemonInfo *info;

	if (start_ms == 0)
		start_ms = clock_wall_ms();
	if (listen == NULL || listen[0] == '\0')
		return 0;
	colon = strrchr(listen, ':');
	if (colon == NULL || colon[1] == '\0' || strlen(colon + 1) >= sizeof port ||
	    (size_t)(colon - listen) >= sizeof host) {
		snprintf(err, errsz, "metrics.listen: expected host:port, got '%s'",
		    listen);
		return -1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	snprintf(port, sizeof port, "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] == '\0' || strcmp(host, "*") == 0 ? NULL : host,
	    port, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(err, errsz, "metrics.listen: %s: %s", listen,
		    rc ? gai_strerror(rc) : "no address");
		return -1;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	httpd = MHD_start_daemon(flags, (uint16_t)atoi(port), NULL, NULL,
	    serve_request,
	    NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (httpd == NULL) {
		snprintf(err, errsz, "metrics.listen: cannot listen on %s (in use, "
		    "or not an address of this host)", listen);
		return -1;
	}
	info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
	http_port = info != NULL ? info->port : atoi(port);
	return 0;
}

int
metrics_port(void)
{
	return httpd != NULL ? http_port : 0;
}

void
metrics_stop(void)
{
	if (httpd != NULL)
		MHD_stop_daemon(httpd);
	httpd = NULL;
	http_port = 0;
}
