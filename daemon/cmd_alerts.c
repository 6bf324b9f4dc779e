/*
 * cmd_alerts.c — `tidewatch alerts [-c FILE] [--topic T] [--json]
 * [--since ID] [--count N]`: print alerts as they are published.
 *
 * DESIGN: one subscribed hiredis connection (PSUBSCRIBE <prefix><channel>*,
 * or SUBSCRIBE <prefix><channel><topic>) read with poll(2), so that a
 * signal or a dead server is noticed: when the line has been quiet for
 * KEEPALIVE_MS a PING goes out, and no answer within the Redis timeout
 * counts as a lost connection.  Replays of the alert stream (--since, and
 * after every reconnection from shortly before the connection was lost)
 * run on a second, short-lived connection *after* subscribing, so nothing
 * falls between replay and live messages; every alert id printed is
 * remembered (a ring of SEEN_MAX) and a second copy is skipped.  Lost
 * connections are retried with a backoff up to 5 s, logging one line per
 * state change.  SIGINT and SIGTERM set a flag; the loop exits with 0.
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
#include <hiredis.h>

#include "commands.h"
#include "log.h"
#include "xmalloc.h"

#define KEEPALIVE_MS	5000
#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
#define CATCHUP_MS	2000	/* replay this much before a lost connection */
#define REPLAY_PAGE	500	/* entries per XRANGE */
#define SEEN_MAX	1024
#define SAMPLE_CHARS	60

struct sub {
	const struct config	*cfg;
	const char		*password;	/* NULL: none */
	char			*target;	/* channel or pattern */
	bool			 pattern;
	char			*stream;
	const char		*topic;		/* --topic, or NULL */
	bool			 json;
	int64_t			 count;		/* stop after; 0: never */
	int64_t			 printed;
	bool			 done;
	int			 status;

	redisContext		*c;
	char			 err[256];
	int64_t			 last_rx;	/* monotonic ms */
	int64_t			 last_rx_wall;	/* wall clock ms */
	int64_t			 ping_sent;	/* monotonic ms; 0: none */

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

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* A connection with AUTH done, or NULL with the reason in sb->err. */
static redisContext *
redis_open(struct sub *sb)
{
	const char *addr = sb->cfg->redis_address;
	int64_t tmo = sb->cfg->redis_timeout_ms > 0 ?
	    sb->cfg->redis_timeout_ms : 2000;
	struct timeval tv;
	redisContext *c;
	redisReply *r;

	tv.tv_sec = tmo / 1000;
	tv.tv_usec = (tmo % 1000) * 1000;
	if (strncmp(addr, "unix:", 5) == 0)
		c = redisConnectUnixWithTimeout(addr + 5, tv);
	else {
		char host[256];
		const char *colon = strrchr(addr, ':');
		int port = 6379;
		size_t n;

		if (colon != NULL) {
			snprintf(host, sizeof host, "%.*s",
			    (int)(colon - addr), addr);
			port = atoi(colon + 1);
		} else
			snprintf(host, sizeof host, "%s", addr);
		n = strlen(host);
		if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = '\0';
		}
		c = redisConnectWithTimeout(host, port, tv);
	}
	if (c == NULL || c->err) {
		snprintf(sb->err, sizeof sb->err, "%s",
		    c != NULL ? c->errstr : "cannot allocate a context");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	redisEnableKeepAlive(c);
	if (sb->password != NULL && sb->password[0] != '\0') {
		r = redisCommand(c, "AUTH %s", sb->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(sb->err, sizeof sb->err, "AUTH: %s",
			    r != NULL ? r->str : c->errstr);
			if (r != NULL)
				freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
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
 * characters, quoted. */
static void
put_sample(FILE *fp, const cJSON *root)
{
	const cJSON *samples = cJSON_GetObjectItemCaseSensitive(root, "samples");
	const char *text, *p;
	int chars = 0;

	if (!cJSON_IsArray(samples) || cJSON_GetArraySize(samples) == 0)
		return;
	if ((text = jstr(cJSON_GetArrayItem(samples, 0), "text")) == NULL)
		return;
	fputs("  \"", fp);
	for (p = text; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch & 0xc0) != 0x80 && chars++ == SAMPLE_CHARS) {
			fputs("…", fp);
			break;
		}
		putc(ch < 0x20 ? ' ' : ch, fp);
	}
	putc('"', fp);
}

/* 2026-11-26 05:05:00Z  WARNING  食品安全 (food-safety)  count 184 vs
 * baseline 23.5 (×7.8)  top 食物中毒  "sample…" */
static void
put_line(FILE *fp, const cJSON *root)
{
	const char *when, *state, *sev, *topic, *name, *cond;
	const cJSON *v, *top;
	char num[64], word[32];
	size_t i;

	if ((when = jstr(root, "window_end")) == NULL &&
	    (when = jstr(root, "detected_at")) == NULL)
		when = "?";
	for (i = 0; when[i] != '\0'; i++)
		putc(when[i] == 'T' ? ' ' : when[i], fp);

	state = jstr(root, "state");
	sev = jstr(root, "severity");
	if (state != NULL && strcmp(state, "firing") != 0)
		snprintf(word, sizeof word, "%s", state);
	else
		snprintf(word, sizeof word, "%s", sev != NULL ? sev : "firing");
	for (i = 0; word[i] != '\0'; i++)
		if (word[i] >= 'a' && word[i] <= 'z')
			word[i] = (char)(word[i] - 'a' + 'A');
	fprintf(fp, "  %s  ", word);

	if ((v = cJSON_GetObjectItemCaseSensitive(root, "type")) != NULL &&
	    cJSON_IsString(v) && strcmp(v->valuestring, "stall") == 0) {
		/* an ops alert: no post reached the group for a while */
		const char *since = jstr(root, "last_post_at");

		v = cJSON_GetObjectItemCaseSensitive(root, "silent_s");
		fmt_num(num, sizeof num, cJSON_IsNumber(v) ? v->valuedouble : 0, 0);
		if (state != NULL && strcmp(state, "resolved") == 0)
			fprintf(fp, "input stall over (%s): posts again after %ss "
			    "without\n", jstr(root, "group") ? jstr(root, "group") :
			    "?", num);
		else
			fprintf(fp, "input stall (%s): no post since %s (%ss)\n",
			    jstr(root, "group") ? jstr(root, "group") : "?",
			    since ? since : "?", num);
		return;
	}
	topic = jstr(root, "topic");
	name = jstr(root, "name");
	if (topic == NULL)
		topic = "?";
	if (name != NULL && strcmp(name, topic) != 0)
		fprintf(fp, "%s (%s)", name, topic);
	else
		fputs(topic, fp);

	v = cJSON_GetObjectItemCaseSensitive(root, "count");
	if (cJSON_IsNumber(v)) {
		fmt_num(num, sizeof num, v->valuedouble, 0);
		fprintf(fp, "  count %s", num);
		v = cJSON_GetObjectItemCaseSensitive(root, "baseline_rate");
		if (cJSON_IsNumber(v)) {
			fmt_num(num, sizeof num, v->valuedouble, 2);
			fprintf(fp, " vs baseline %s", num);
		}
		v = cJSON_GetObjectItemCaseSensitive(root, "ratio");
		if (cJSON_IsNumber(v)) {
			fmt_num(num, sizeof num, v->valuedouble, 1);
			fprintf(fp, " (×%s)", num);
		}
	}
	cond = jstr(root, "condition");
	v = cJSON_GetObjectItemCaseSensitive(root, "zscore");
	if (cond != NULL && strcmp(cond, "zscore") == 0 && cJSON_IsNumber(v)) {
		fmt_num(num, sizeof num, v->valuedouble, 1);
		fprintf(fp, " z %s", num);
	}

	top = cJSON_GetObjectItemCaseSensitive(root, "top_keywords");
	if (cJSON_IsArray(top) && cJSON_GetArraySize(top) > 0) {
		v = cJSON_GetArrayItem(cJSON_GetArrayItem(top, 0), 0);
		if (cJSON_IsString(v))
			fprintf(fp, "  top %s", v->valuestring);
	}
	put_sample(fp, root);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "repeat")))
		fputs("  (repeat)", fp);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "late")))
		fputs("  (late)", fp);
	putc('\n', fp);
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
		fwrite(msg, 1, len, stdout);
		putc('\n', stdout);
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
		if (sb->json) {
			fwrite(msg, 1, len, stdout);
			putc('\n', stdout);
		} else
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

/* Prints the alert log from start (an XRANGE start: "-", "(ID" or "ms")
 * on a connection of its own.  Returns 0 or -1 (sb->err). */
static int
replay(struct sub *sb, const char *start)
{
	redisContext *c;
	redisReply *r, *e, *f;
	char *from = xstrdup(start);
	size_t i, j, n;
	int rc = 0;

	if ((c = redis_open(sb)) == NULL) {
		free(from);
		return -1;
	}
	while (!sb->done && !alerts_stop) {
		r = redisCommand(c, "XRANGE %s %s + COUNT %d", sb->stream,
		    from, REPLAY_PAGE);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
			snprintf(sb->err, sizeof sb->err, "XRANGE %s: %s",
			    sb->stream, r == NULL ? c->errstr :
			    r->type == REDIS_REPLY_ERROR ? r->str :
			    "unexpected reply");
			if (r != NULL)
				freeReplyObject(r);
			rc = -1;
			break;
		}
		n = r->elements;
		for (i = 0; i < n; i++) {
			e = r->element[i];
			if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
			    e->element[0]->type != REDIS_REPLY_STRING)
				continue;
			free(from);
			from = xasprintf("(%s", e->element[0]->str);
			f = e->element[1];
			if (f->type != REDIS_REPLY_ARRAY)
				continue;
			for (j = 0; j + 1 < f->elements; j += 2)
				if (f->element[j]->type == REDIS_REPLY_STRING &&
				    strcmp(f->element[j]->str, "alert") == 0 &&
				    f->element[j + 1]->type == REDIS_REPLY_STRING)
					show(sb, f->element[j + 1]->str,
					    f->element[j + 1]->len,
					    e->element[0]->str, true);
		}
		freeReplyObject(r);
		if (n < REPLAY_PAGE)
			break;
	}
	free(from);
	redisFree(c);
	return rc;
}

/* Connects and subscribes.  Returns 0 or -1 (sb->err). */
static int
subscribe(struct sub *sb)
{
	redisReply *r;

	if ((sb->c = redis_open(sb)) == NULL)
		return -1;
	r = redisCommand(sb->c, sb->pattern ? "PSUBSCRIBE %s" : "SUBSCRIBE %s",
	    sb->target);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		snprintf(sb->err, sizeof sb->err, "%s: %s",
		    sb->pattern ? "PSUBSCRIBE" : "SUBSCRIBE",
		    r == NULL ? sb->c->errstr : r->type == REDIS_REPLY_ERROR ?
		    r->str : "unexpected reply");
		if (r != NULL)
			freeReplyObject(r);
		redisFree(sb->c);
		sb->c = NULL;
		return -1;
	}
	freeReplyObject(r);
	sb->last_rx = clock_ms(CLOCK_MONOTONIC);
	sb->last_rx_wall = clock_ms(CLOCK_REALTIME);
	sb->ping_sent = 0;
	return 0;
}

static void
handle(struct sub *sb, const redisReply *r)
{
	const redisReply *kind, *chan, *msg;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;		/* e.g. the answer to a keep-alive PING */
	kind = r->element[0];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "message") == 0) {
		chan = r->element[1];
		msg = r->element[2];
	} else if (strcmp(kind->str, "pmessage") == 0 && r->elements >= 4) {
		chan = r->element[2];
		msg = r->element[3];
	} else
		return;
	if (chan->type != REDIS_REPLY_STRING || msg->type != REDIS_REPLY_STRING)
		return;
	show(sb, msg->str, msg->len, chan->str, false);
}

/* Reads and prints live alerts until a signal, --count, or a connection
 * error (-1, sb->err). */
static int
pump(struct sub *sb)
{
	int64_t tmo = sb->cfg->redis_timeout_ms > 0 ?
	    sb->cfg->redis_timeout_ms : 2000;
	struct pollfd pfd;
	void *reply;
	int64_t now;
	int done, rc;

	while (!alerts_stop && !sb->done) {
		if (redisGetReplyFromReader(sb->c, &reply) == REDIS_ERR)
			goto fail;
		if (reply != NULL) {
			handle(sb, reply);
			freeReplyObject(reply);
			continue;
		}
		now = clock_ms(CLOCK_MONOTONIC);
		if (sb->ping_sent != 0 && now - sb->ping_sent > tmo) {
			snprintf(sb->err, sizeof sb->err,
			    "no answer to PING within %" PRId64 " ms", tmo);
			return -1;
		}
		if (sb->ping_sent == 0 && now - sb->last_rx >= KEEPALIVE_MS) {
			if (redisAppendCommand(sb->c, "PING") != REDIS_OK)
				goto fail;
			do {
				if (redisBufferWrite(sb->c, &done) == REDIS_ERR)
					goto fail;
			} while (!done);
			sb->ping_sent = now;
		}
		pfd.fd = sb->c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		rc = poll(&pfd, 1, 500);
		if (rc == -1 && errno != EINTR) {
			snprintf(sb->err, sizeof sb->err, "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (rc > 0) {
			if (redisBufferRead(sb->c) == REDIS_ERR)
				goto fail;
			sb->last_rx = clock_ms(CLOCK_MONOTONIC);
			sb->last_rx_wall = clock_ms(CLOCK_REALTIME);
			sb->ping_sent = 0;
		}
	}
	return 0;
fail:
	snprintf(sb->err, sizeof sb->err, "%s",
	    sb->c->errstr[0] != '\0' ? sb->c->errstr : "connection lost");
	return -1;
}

/* Escapes the glob characters of s for PSUBSCRIBE. */
static char *
glob_escape(const char *s)
{
	char *out = xmalloc(strlen(s) * 2 + 2), *o = out;

	for (; *s != '\0'; s++) {
		if (strchr("*?[]\\", *s) != NULL)
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

static int
alerts_loop(struct sub *sb, const char *since)
{
	int64_t backoff = BACKOFF_MIN_MS, catch_from = 0;
	bool connected_once = false, down = false;
	char start[64];
	const char *addr = sb->cfg->redis_address;

	while (!alerts_stop && !sb->done) {
		if (subscribe(sb) == -1) {
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
		if (down)
			log_info("redis reachable again, subscribed | "
			    "address=%s %s=%s", addr, sb->pattern ?
			    "pattern" : "channel", sb->target);
		else
			log_debug("subscribed | address=%s %s=%s", addr,
			    sb->pattern ? "pattern" : "channel", sb->target);
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
			log_warn("cannot replay the alert log | stream=%s "
			    "error=\"%s\"", sb->stream, sb->err);

		if (pump(sb) == -1) {
			log_warn("redis connection lost, reconnecting | "
			    "address=%s error=\"%s\"", addr, sb->err);
			down = true;
			catch_from = sb->last_rx_wall - CATCHUP_MS;
		}
		redisFree(sb->c);
		sb->c = NULL;
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
	sb.password = password;
	sb.stream = xasprintf("%s%s", cfg.redis_prefix, cfg.alert_stream);
	if (sb.topic != NULL)
		sb.target = xasprintf("%s%s%s", cfg.redis_prefix,
		    cfg.alert_channel, sb.topic);
	else {
		char *esc = glob_escape(cfg.redis_prefix);
		char *esc2 = glob_escape(cfg.alert_channel);

		sb.target = xasprintf("%s%s*", esc, esc2);
		sb.pattern = true;
		free(esc);
		free(esc2);
	}

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
	free(sb.target);
	free(sb.stream);
	free(password);
	config_free(&cfg);
	return rc;
}
