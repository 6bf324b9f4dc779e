/*
 * cmd_alerts.c — `tidewatch alerts [-c FILE] [--topic T] [--json]
 * [--since ID] [--count N]`: print alerts as they are published.
 *
 * DESIGN: one subscriber (store_sub: every topic's channel, or the one of
 * --topic), waited on half a second at a time so that a signal is noticed;
 * the store keeps the line alive and says when it is lost.  Replays of the
 * alert log (--since, and after every reconnection from shortly before the
 * connection was lost) run on the store's own connection, closed after
 * each replay, *after* subscribing, so nothing falls between replay and
 * live messages; every alert id printed is
 * remembered (a ring of SEEN_MAX) and a second copy is skipped.  Lost
 * connections are retried with a backoff up to 5 s, logging one line per
 * state change.  SIGINT and SIGTERM set a flag; the loop exits with 0.
 * Every string of an alert is printed through termsafe (JSON escapes for
 * --json), since it comes from posts and from Redis.
 * Single-threaded; all state lives in one struct sub on the stack.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "commands.h"
#include "log.h"
#include "store.h"
#include "termsafe.h"
#include "xmalloc.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define CATCHUP_MS	2000	/* replay this much before a lost connection */
#define REPLAY_PAGE	500	/* entries per XRANGE */
#define SEEN_MAX	1024
#define SAMPLE_CHARS	60

struct sub {
	const struct config	*cfg;
	struct store		*store;		/* replays */
	const char		*topic;		/* --topic, or NULL */
	bool			 json;
	int64_t			 count;		/* stop after; 0: never */
	int64_t			 printed;
	bool			 done;
	int			 status;

	struct store_sub	*sub;
	char			 err[256];
	int64_t			 last_rx_wall;	/* wall clock ms */

	char			*seen[SEEN_MAX];
	size_t			 seen_next;
};

static volatile sig_atomic_t alerts_stop;

static void
alerts_signal(int sig)
{
	(void)sig;
	alerts_stop = 1;
}

static void
alerts_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch alerts [-c CONFIG] [--topic T] [--json] "
	    "[--since ID] [--count N]\n"
	    "  Subscribes to the alert channels and prints one line per alert.\n"
	    "  --topic T   only the alerts of topic T\n"
	    "  --json      print each alert's JSON as it was published\n"
	    "  --since ID  first replay the alert log after stream ID "
	    "(0: all of it)\n"
	    "  --count N   exit after N alerts\n"
	    "  Reconnects when Redis goes away, and replays what was logged\n"
	    "  meanwhile.\n");
}

/* Sleeps ms, in slices, returning early on a signal. */
static void
nap(int64_t ms)
{
	while (ms > 0 && !alerts_stop) {
		int slice = ms > 200 ? 200 : (int)ms;

		poll(NULL, 0, slice);
		ms -= slice;
	}
}

/* Remembers id; returns true if it was printed before. */
static bool
seen_add(struct sub *sb, const char *id)
{
	size_t i;

	for (i = 0; i < SEEN_MAX; i++)
		if (sb->seen[i] != NULL && strcmp(sb->seen[i], id) == 0)
			return true;
	free(sb->seen[sb->seen_next]);
	sb->seen[sb->seen_next] = xstrdup(id);
	sb->seen_next = (sb->seen_next + 1) % SEEN_MAX;
	return false;
}

static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number with at most `decimals` decimals, trailing zeros dropped. */
static void
fmt_num(char *buf, size_t sz, double v, int decimals)
{
	size_t n;

	snprintf(buf, sz, "%.*f", decimals, v);
	if (strchr(buf, '.') == NULL)
		return;
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		n--;
	if (n > 0 && buf[n - 1] == '.')
		n--;
	buf[n] = '\0';
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
}

/* Writes the first sample's text, one line, at most SAMPLE_CHARS
 * characters (before escaping), quoted and made safe for a terminal. */
static void
put_sample(FILE *fp, const cJSON *root)
{
	const cJSON *samples = cJSON_GetObjectItemCaseSensitive(root, "samples");
	const char *text, *p;
	char *cut;
	int chars = 0;

	if (!cJSON_IsArray(samples) || cJSON_GetArraySize(samples) == 0)
		return;
	if ((text = jstr(cJSON_GetArrayItem(samples, 0), "text")) == NULL)
		return;
	for (p = text; *p != '\0'; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && chars++ == SAMPLE_CHARS)
			break;
	cut = xstrndup(text, (size_t)(p - text));
	fputs("  \"", fp);
	termsafe_fputs(cut, fp);
	if (*p != '\0')
		fputs("…", fp);
	putc('"', fp);
	free(cut);
}

/* The string at key, made safe for a terminal, or dflt when there is
 * none; the caller frees it. */
static char *
jsafe(const cJSON *o, const char *key, const char *dflt)
{
	const char *v = jstr(o, key);

	return termsafe_dup(v != NULL ? v : dflt);
}

/* The stall ops alert: no post reached the group for a while. */
static void
put_stall(FILE *fp, const cJSON *root, const char *state)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "silent_s");
	char *group = jsafe(root, "group", "?");
	char *since = jsafe(root, "last_post_at", "?");
	char num[64];

	fmt_num(num, sizeof num, cJSON_IsNumber(v) ? v->valuedouble : 0, 0);
	if (state != NULL && strcmp(state, "resolved") == 0)
		fprintf(fp, "input stall over (%s): posts again after %ss "
		    "without\n", group, num);
	else
		fprintf(fp, "input stall (%s): no post since %s (%ss)\n", group,
		    since, num);
	free(group);
	free(since);
}

/* Epoch seconds as "2026-11-26 05:05:00Z" (the number itself when out of
 * range). */
static void
utc_time(char *buf, size_t sz, double secs)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (secs < 0 || secs > 253402300799.0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		fmt_num(buf, sz, secs, 0);
}

/* The store_reset ops alert: Redis lost counters (positions behind the
 * group's Kafka commits, or the first bucket counted moved forward). */
static void
put_store_reset(FILE *fp, const cJSON *root)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "resets");
	const cJSON *was = cJSON_GetObjectItemCaseSensitive(root, "since_was");
	const cJSON *now = cJSON_GetObjectItemCaseSensitive(root, "since_now");
	char *mode = jsafe(root, "on_reset", "?");
	char num[64], a[64], b[64];

	fmt_num(num, sizeof num, cJSON_IsNumber(n) ? n->valuedouble : 0, 0);
	fprintf(fp, "redis lost data: %s reset%s found", num,
	    strcmp(num, "1") == 0 ? "" : "s");
	if (cJSON_IsNumber(was) && cJSON_IsNumber(now)) {
		utc_time(a, sizeof a, was->valuedouble);
		utc_time(b, sizeof b, now->valuedouble);
		fprintf(fp, ", history now starts at %s (was %s)", b, a);
	}
	fprintf(fp, "; on_reset %s\n", mode);
	free(mode);
}

/* count 184 vs baseline 23.5 (×7.8); a threshold block without a
 * baseline says so instead of "vs baseline 0": count 60 (threshold). */
static void
put_numbers(FILE *fp, const cJSON *root)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "count");
	const char *cond = jstr(root, "condition");
	bool threshold = cond != NULL && strcmp(cond, "threshold") == 0;
	const char *sep = " (";
	char num[64];

	if (!cJSON_IsNumber(v))
		return;
	fmt_num(num, sizeof num, v->valuedouble, 0);
	fprintf(fp, "  count %s", num);
	v = cJSON_GetObjectItemCaseSensitive(root, "baseline_rate");
	if (cJSON_IsNumber(v) && !(threshold && v->valuedouble == 0)) {
		fmt_num(num, sizeof num, v->valuedouble, 2);
		fprintf(fp, " vs baseline %s", num);
		v = cJSON_GetObjectItemCaseSensitive(root, "ratio");
		if (cJSON_IsNumber(v)) {
			fmt_num(num, sizeof num, v->valuedouble, 1);
			fprintf(fp, "%s×%s", sep, num);
			sep = ", ";
		}
	}
	if (threshold)
		fprintf(fp, "%sthreshold", sep);
	if (threshold || strcmp(sep, ", ") == 0)
		putc(')', fp);
	v = cJSON_GetObjectItemCaseSensitive(root, "zscore");
	if (cond != NULL && strcmp(cond, "zscore") == 0 && cJSON_IsNumber(v)) {
		fmt_num(num, sizeof num, v->valuedouble, 1);
		fprintf(fp, " z %s", num);
	}
}

/* 2026-11-26 05:05:00Z  WARNING  食品安全 (food-safety)  count 184 vs
 * baseline 23.5 (×7.8)  top 食物中毒  "sample…"; every string of the
 * alert goes through termsafe. */
static void
put_line(FILE *fp, const cJSON *root)
{
	const char *state, *sev, *type;
	const cJSON *v, *top;
	char word[32], *when, *topic, *name, *kw;
	size_t i;

	when = jsafe(root, jstr(root, "window_end") != NULL ? "window_end" :
	    "detected_at", "?");
	for (i = 0; when[i] != '\0'; i++)
		putc(when[i] == 'T' ? ' ' : when[i], fp);
	free(when);

	state = jstr(root, "state");
	sev = jstr(root, "severity");
	if (state != NULL && strcmp(state, "firing") != 0)
		termsafe(word, sizeof word, state, strlen(state), 0);
	else if (sev != NULL)
		termsafe(word, sizeof word, sev, strlen(sev), 0);
	else
		snprintf(word, sizeof word, "firing");
	for (i = 0; word[i] != '\0'; i++)
		if (word[i] >= 'a' && word[i] <= 'z')
			word[i] = (char)(word[i] - 'a' + 'A');
	fprintf(fp, "  %s  ", word);

	if ((type = jstr(root, "type")) != NULL && strcmp(type, "stall") == 0) {
		put_stall(fp, root, state);
		return;
	}
	if (type != NULL && strcmp(type, "store_reset") == 0) {
		put_store_reset(fp, root);
		return;
	}
	topic = jsafe(root, "topic", "?");
	name = jstr(root, "name") != NULL ? jsafe(root, "name", "") : NULL;
	if (name != NULL && strcmp(name, topic) != 0)
		fprintf(fp, "%s (%s)", name, topic);
	else
		fputs(topic, fp);
	free(topic);
	free(name);

	put_numbers(fp, root);
	top = cJSON_GetObjectItemCaseSensitive(root, "top_keywords");
	if (cJSON_IsArray(top) && cJSON_GetArraySize(top) > 0) {
		v = cJSON_GetArrayItem(cJSON_GetArrayItem(top, 0), 0);
		if (cJSON_IsString(v)) {
			kw = termsafe_dup(v->valuestring);
			fprintf(fp, "  top %s", kw);
			free(kw);
		}
	}
	put_sample(fp, root);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "repeat")))
		fputs("  (repeat)", fp);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "late")))
		fputs("  (late)", fp);
	putc('\n', fp);
}

/* Writes an alert's text as it was published (--json, or text that is
 * not JSON), made safe for a terminal: JSON escapes keep the JSON's
 * meaning. */
static void
put_raw(FILE *fp, const char *msg, size_t len, bool json)
{
	char *safe = termsafe_dupn(msg, len, json ? TERMSAFE_JSON : 0);

	fputs(safe, fp);
	putc('\n', fp);
	free(safe);
}

/* Prints one alert (unless a copy was printed already, or --topic
 * excludes it: `filter` for replays, where the stream holds all topics). */
static void
show(struct sub *sb, const char *msg, size_t len, const char *where,
    bool filter)
{
	cJSON *root = cJSON_ParseWithLength(msg, len);
	const char *id, *topic;

	if (sb->done)
		goto out;
	if (!cJSON_IsObject(root)) {
		log_warn("alert is not valid JSON, printed as it is | from=%s",
		    where);
		put_raw(stdout, msg, len, false);
	} else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root,
	    "digest"))) {
		/* a group_wait digest: its alerts, one by one */
		const cJSON *it;

		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root,
		    "alerts")) {
			char *one = cJSON_PrintUnformatted(it);

			if (one != NULL && !sb->done)
				show(sb, one, strlen(one), where, true);
			cJSON_free(one);
		}
		goto out;
	} else {
		topic = jstr(root, "topic");
		if (filter && sb->topic != NULL && topic != NULL &&
		    strcmp(topic, sb->topic) != 0)
			goto out;
		if ((id = jstr(root, "id")) != NULL && seen_add(sb, id))
			goto out;
		if (sb->json)
			put_raw(stdout, msg, len, true);
		else
			put_line(stdout, root);
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		/* the reader went away (a closed pipe ends us quietly) */
		int e = errno;

		if (e != EPIPE)
			log_error("cannot write alerts | error=\"%s\"",
			    strerror(e));
		sb->status = e == EPIPE ? 0 : 1;
		sb->done = true;
		goto out;
	}
	sb->printed++;
	if (sb->count > 0 && sb->printed >= sb->count)
		sb->done = true;
out:
	cJSON_Delete(root);
}

static void
replay_one(void *ctx, const char *entry_id, const char *json, size_t len)
{
	struct sub *sb = ctx;

	if (!sb->done)
		show(sb, json, len, entry_id, true);
}

/* Prints the alert log from start (an XRANGE start: "-", "(ID" or "ms").
 * Returns 0 or -1 (sb->err). */
static int
replay(struct sub *sb, const char *start)
{
	char from[160], next[160];
	int n, rc = 0;

	snprintf(from, sizeof from, "%s", start);
	while (!sb->done && !alerts_stop) {
		n = store_read_alert_log(sb->store, from, REPLAY_PAGE,
		    replay_one, sb, next, sizeof next);
		if (n == -1) {
			snprintf(sb->err, sizeof sb->err, "%s",
			    store_errstr(sb->store));
			rc = -1;
			break;
		}
		if (n < REPLAY_PAGE)
			break;
		snprintf(from, sizeof from, "%s", next);
	}
	store_disconnect(sb->store);
	return rc;
}

/* Reads and prints live alerts until a signal, --count, or a connection
 * error (-1, sb->err). */
static int
pump(struct sub *sb)
{
	const char *chan, *msg;
	size_t len;
	int rc;

	while (!alerts_stop && !sb->done) {
		rc = store_sub_next(sb->sub, 500, &chan, &msg, &len);
		sb->last_rx_wall = store_sub_last_rx_ms(sb->sub);
		if (rc == -1) {
			snprintf(sb->err, sizeof sb->err, "%s",
			    store_sub_errstr(sb->sub));
			return -1;
		}
		if (rc == 1)
			show(sb, msg, len, chan, false);
	}
	return 0;
}

static int
alerts_loop(struct sub *sb, const char *since)
{
	int64_t backoff = BACKOFF_MIN_MS, catch_from = 0;
	bool connected_once = false, down = false, pattern;
	char start[64];
	const char *addr = sb->cfg->redis_address, *name;

	while (!alerts_stop && !sb->done) {
		sb->sub = store_sub_open(sb->store, sb->topic, sb->err,
		    sizeof sb->err);
		if (sb->sub == NULL) {
			if (!down)
				log_warn("redis unreachable, retrying | "
				    "address=%s error=\"%s\"", addr, sb->err);
			down = true;
			nap(backoff);
			backoff = backoff * 2 > BACKOFF_MAX_MS ?
			    BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		sb->last_rx_wall = store_sub_last_rx_ms(sb->sub);
		name = store_sub_name(sb->sub, &pattern);
		if (down)
			log_info("redis reachable again, subscribed | "
			    "address=%s %s=%s", addr, pattern ?
			    "pattern" : "channel", name);
		else
			log_debug("subscribed | address=%s %s=%s", addr,
			    pattern ? "pattern" : "channel", name);
		down = false;

		/* replay after subscribing: the overlap is deduplicated */
		start[0] = '\0';
		if (connected_once)
			snprintf(start, sizeof start, "%" PRId64,
			    catch_from > 0 ? catch_from : 0);
		else if (since != NULL && strcmp(since, "$") != 0) {
			if (strcmp(since, "-") == 0 || strcmp(since, "0") == 0 ||
			    strcmp(since, "0-0") == 0)
				snprintf(start, sizeof start, "-");
			else
				snprintf(start, sizeof start, "(%s", since);
		}
		connected_once = true;
		if (start[0] != '\0' && replay(sb, start) == -1)
			log_warn("cannot replay the alert log | stream=%s%s "
			    "error=\"%s\"", sb->cfg->redis_prefix,
			    sb->cfg->alert_stream, sb->err);

		if (pump(sb) == -1) {
			log_warn("redis connection lost, reconnecting | "
			    "address=%s error=\"%s\"", addr, sb->err);
			down = true;
			catch_from = sb->last_rx_wall - CATCHUP_MS;
		}
		store_sub_free(sb->sub);
		sb->sub = NULL;
	}
	return sb->status;
}

int
cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "topic", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL, *since = NULL;
	struct config cfg;
	struct diag errs;
	struct sigaction sa;
	struct sub sb;
	enum log_level lvl;
	char *password = NULL, *end, err[512];
	size_t i;
	int ch, rc;

	memset(&sb, 0, sizeof sb);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 't':
			sb.topic = optarg;
			break;
		case 'j':
			sb.json = true;
			break;
		case 's':
			since = optarg;
			break;
		case 'n':
			errno = 0;
			sb.count = strtoll(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    sb.count <= 0) {
				fprintf(stderr, "tidewatch alerts: --count "
				    "wants a positive number\n");
				return 2;
			}
			break;
		case 'h':
			alerts_usage(stdout);
			return 0;
		default:
			alerts_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		alerts_usage(stderr);
		return 2;
	}
	if (sb.topic != NULL && sb.topic[0] == '\0') {
		fprintf(stderr, "tidewatch alerts: --topic wants a topic id\n");
		return 2;
	}

	diag_init(&errs);
	if (cfgpath == NULL && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
		cfgpath = CONFIG_DEFAULT_PATH;
	if (cfgpath != NULL)
		rc = config_load(cfgpath, &cfg, &errs);
	else {
		config_defaults(&cfg);
		rc = 0;
	}
	if (rc == -1) {
		cmd_print_diag(&errs);
		diag_free(&errs);
		config_free(&cfg);
		return 1;
	}
	diag_free(&errs);
	if (log_level_parse(cfg.log_level, &lvl) == 0)
		log_set_level(lvl);
	if (config_redis_password(&cfg, &password, err, sizeof err) == -1) {
		fprintf(stderr, "tidewatch alerts: %s\n", err);
		config_free(&cfg);
		return 1;
	}

	sb.cfg = &cfg;
	sb.store = store_open(&cfg, password);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = alerts_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	rc = alerts_loop(&sb, since);

	for (i = 0; i < SEEN_MAX; i++)
		free(sb.seen[i]);
	store_free(sb.store);
	free(password);
	config_free(&cfg);
	return rc;
}
