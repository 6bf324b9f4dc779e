/*
 * cmd_top.c — `tidewatch top [-c FILE] [--once]`: the topics, live.
 *
 * DESIGN: a reader of Redis only, so it runs on any machine that reaches
 * Redis; every read goes through store (store.c, store_detect.c).  The
 * topics and their windows come from the rule files named in the config
 * (the first alert block of a topic gives its window and baseline; 5m
 * against a 1h baseline without one); without readable rules, from the
 * topics counted today.  Every second it evaluates every topic's first
 * block at the end of the bucket the stream has reached (the detector's
 * watermark; the clock when nothing was counted yet) with topview.c: the
 * detector's own code over a copy of the stored state, in a few pipelined
 * reads, so count, baseline and ratio are what the detector computes for
 * that window, for
 * every kind of baseline; every few seconds it also reads the top count_by
 * values of the window.  One frame: topics sorted by ratio, with a
 * sparkline of the last hour; the columns that fit the terminal, STATE
 * always among them (plan_layout).  Every string drawn goes through
 * termsafe in out_field: ids, count_by values and errors come from Redis
 * and from posts.  The terminal is driven with plain ANSI escapes in the
 * alternate screen; `q` (or Ctrl-C) quits and restores it.  `--once`
 * prints one frame without escapes, for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>

#include "commands.h"
#include "config.h"
#include "log.h"
#include "rules.h"
#include "spike.h"
#include "store.h"
#include "termsafe.h"
#include "topview.h"
#include "xmalloc.h"

#define HOUR_S		3600
#define SPARK_BINS	30		/* two minutes each */
#define TOP_REFRESH_S	5		/* count_by values are read this often */
#define MAX_BY		2		/* count_by fields shown */

struct ttopic {
	char		*id;
	char		*name;
	struct rule_alert a;	/* the first alert block, or 5m against 1h */
	bool		 has_state;	/* a is the topic's block 0 */
	char		*by[MAX_BY];
	size_t		 nby;

	/* one frame */
	int64_t	 count;
	double	 baseline;	/* mean count per window; < 0 none */
	double	 ratio;		/* count / baseline; NAN without one */
	int64_t	 spark[SPARK_BINS];
	char	 state[16];
	char	 top[512];
	int64_t	 top_at;	/* when top was read */
};

struct top {
	struct config	 cfg;
	struct store	*store;
	struct ttopic	*t;
	size_t		 n, cap;
	bool		 from_rules;
	char		 note[256];	/* why the topics come from Redis */
	char		 err[256];	/* Redis error of the last frame */
	int64_t		 all_count;	/* every post in the last 5 minutes */
	int64_t		 since;		/* start of the counted history */
};

static volatile sig_atomic_t top_stop, top_resized;

static void
top_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_stop = 1;
}

static void
top_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch top [-c CONFIG] [-s key=value]... [--once]\n"
	    "  Live view of the topics, sorted by their count against the\n"
	    "  baseline, read from Redis every second; q quits.\n"
	    "  --once  print one frame and exit\n");
}

static int64_t
wall_s(void)
{
	return (int64_t)time(NULL);
}

static struct ttopic *
add_topic(struct top *tp, const char *id, const char *name)
{
	struct ttopic *t;

	tp->t = xgrow(tp->t, &tp->cap, tp->n + 1, sizeof *tp->t);
	t = &tp->t[tp->n++];
	memset(t, 0, sizeof *t);
	t->id = xstrdup(id);
	t->name = xstrdup(name != NULL ? name : id);
	t->a.window_s = 300;
	t->a.baseline_s = HOUR_S;
	t->a.min_count = 1;
	t->a.threshold = t->a.ratio = t->a.zscore = -1;
	t->a.cooldown_s = t->a.resolve_after_s = -1;
	return t;
}

/* The topics of the rule files, with their first alert block. */
static int
topics_from_rules(struct top *tp)
{
	struct rules_opts ro;
	struct ruleset *rs;
	struct diag errs;
	size_t i, j;

	memset(&ro, 0, sizeof ro);
	ro.resolution_s = tp->cfg.resolution_s;
	ro.max_items = (size_t)tp->cfg.rules_max_items;
	ro.max_file_bytes = (size_t)tp->cfg.rules_max_file_bytes;
	diag_init(&errs);
	if (tp->cfg.rule_npaths == 0 ||
	    rules_load_opts((const char *const *)tp->cfg.rule_paths,
	    tp->cfg.rule_npaths, &ro, &rs, &errs) == -1) {
		snprintf(tp->note, sizeof tp->note, "rules not readable (%s); "
		    "topics from Redis", errs.n > 0 ? errs.msgs[0] : "no paths");
		diag_free(&errs);
		return -1;
	}
	diag_free(&errs);
	for (i = 0; i < rs->ntopics; i++) {
		const struct rule_topic *rt = &rs->topics[i];
		struct ttopic *t = add_topic(tp, rt->id, rt->name);

		if (rt->nalerts > 0) {
			t->a = rt->alerts[0];
			t->has_state = true;
		}
		for (j = 0; j < rt->ncount_by && t->nby < MAX_BY; j++)
			t->by[t->nby++] = xstrdup(rt->count_by[j]);
	}
	rules_unref(rs);
	return 0;
}

/* The topics counted today. */
static int
topics_from_redis(struct top *tp)
{
	char day[16], **ids;
	size_t nids, i;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y%m%d", &tm);
	if (store_counted_topics(tp->store, day, &ids, &nids) == -1) {
		snprintf(tp->err, sizeof tp->err, "%s", store_errstr(tp->store));
		return -1;
	}
	for (i = 0; i < nids; i++) {
		add_topic(tp, ids[i], NULL);
		free(ids[i]);
	}
	free(ids);
	return 0;
}

static void
topics_free(struct top *tp)
{
	size_t i, j;

	for (i = 0; i < tp->n; i++) {
		free(tp->t[i].id);
		free(tp->t[i].name);
		for (j = 0; j < tp->t[i].nby; j++)
			free(tp->t[i].by[j]);
	}
	free(tp->t);
	tp->t = NULL;
	tp->n = tp->cap = 0;
}

static int64_t
sum(const int64_t *v, size_t n)
{
	int64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* The top count_by values of the window ending at T. */
static int
read_top_values(struct top *tp, struct ttopic *t, int64_t T)
{
	size_t used = 0, i;

	t->top[0] = '\0';
	for (i = 0; i < t->nby && t->count > 0; i++) {
		char **names;
		int64_t *counts;
		size_t nn, j;

		if (store_get_top(tp->store, 'b', t->id, t->by[i],
		    T - t->a.window_s, T, 1, &names, &counts, &nn) == -1)
			return -1;
		if (nn > 0 && used < sizeof t->top)
			used += (size_t)snprintf(t->top + used,
			    sizeof t->top - used, "%s%s=%s %d%%",
			    used ? "  " : "", t->by[i], names[0],
			    (int)(counts[0] * 100 / t->count));
		for (j = 0; j < nn; j++)
			free(names[j]);
		free(names);
		free(counts);
	}
	return 0;
}

/* Takes one topic's evaluation (topview_read) for the frame ending at T:
 * count, baseline, ratio, the last hour's sparkline and the state. */
static void
take_topic(struct top *tp, struct ttopic *t, const struct topview *v,
    int64_t T)
{
	int64_t res = tp->cfg.resolution_s, b;

	t->count = v->count;
	t->baseline = v->baseline;
	t->ratio = v->ratio;
	memset(t->spark, 0, sizeof t->spark);
	for (b = T - HOUR_S; b < T; b += res)
		t->spark[(b - (T - HOUR_S)) * SPARK_BINS / HOUR_S] +=
		    sparse_count(&v->counts, b);
	snprintf(t->state, sizeof t->state, "%s", v->firing ? "FIRING" :
	    v->stated ? "ok" : "-");
}

/* Evaluates every topic for the frame ending at T (topview). */
static int
read_topics(struct top *tp, int64_t T, int64_t now, bool want_top)
{
	struct topview *v = xcalloc(tp->n + 1, sizeof *v);
	size_t i;
	int rc = 0;

	for (i = 0; i < tp->n; i++) {
		v[i].id = tp->t[i].id;
		v[i].a = &tp->t[i].a;
		v[i].nblocks = tp->t[i].has_state ? 1 : 0;
	}
	if (topview_read(tp->store, tp->cfg.resolution_s, tp->since, T,
	    HOUR_S, v, tp->n) == -1)
		rc = -1;
	for (i = 0; i < tp->n && rc == 0; i++) {
		struct ttopic *t = &tp->t[i];

		take_topic(tp, t, &v[i], T);
		if (want_top || now - t->top_at >= TOP_REFRESH_S) {
			t->top_at = now;
			if (read_top_values(tp, t, T) == -1)
				rc = -1;
		}
	}
	if (rc == 0) {		/* in display order */
		size_t *idx = xcalloc(tp->n + 1, sizeof *idx);
		struct ttopic *sorted = xcalloc(tp->n + 1, sizeof *sorted);

		topview_order(v, tp->n, idx);
		for (i = 0; i < tp->n; i++)
			sorted[i] = tp->t[idx[i]];
		memcpy(tp->t, sorted, tp->n * sizeof *tp->t);
		free(sorted);
		free(idx);
	}
	topview_clear(v, tp->n);
	free(v);
	return rc;
}

/* Reads every topic.  Returns 0 or -1 (tp->err says why). */
static int
read_frame(struct top *tp, bool want_top)
{
	int64_t now = wall_s(), res = tp->cfg.resolution_s, T, all[30];

	tp->err[0] = '\0';
	if (!tp->from_rules && tp->n == 0 && topics_from_redis(tp) == -1)
		return -1;
	if (topview_frame_end(tp->store, tp->cfg.kafka_group, res, now, &T,
	    &tp->since) == -1 || read_topics(tp, T, now, want_top) == -1)
		goto fail;
	if (300 / res <= 30 && 300 % res == 0) {
		if (store_get_counts(tp->store, "_all", T - 300, res,
		    (size_t)(300 / res), all) == -1)
			goto fail;
		tp->all_count = sum(all, (size_t)(300 / res));
	} else
		tp->all_count = -1;
	return 0;
fail:
	snprintf(tp->err, sizeof tp->err, "%s", store_errstr(tp->store));
	return -1;
}

/* Output, clipped to a display width. */

struct out {
	char	*buf;
	size_t	 len, cap;
	int	 col;		/* display columns on this line */
	int	 width;		/* clip at this many columns; 0: none */
	bool	 ansi;
};

static void
out_bytes(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Display width of s (bytes n), per utf8proc. */
static int
text_width(const char *s, size_t n)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	size_t i = 0;
	int w = 0;

	while (i < n) {
		k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0) {
			i++;
			w++;
			continue;
		}
		w += utf8proc_charwidth(cp) > 0 ? utf8proc_charwidth(cp) : 0;
		i += (size_t)k;
	}
	return w;
}

/* Writes s in a field of `field` columns (0: as it is), left aligned or
 * right aligned, cut with "…" when longer; clips at the line's width.
 * Every string is made safe for the terminal here (termsafe): topic ids,
 * count_by values and errors come from Redis and from posts. */
static void
out_field(struct out *o, const char *raw, int field, bool right)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k;
	char *s = termsafe_dup(raw);
	size_t i = 0, n = strlen(s);
	int w = text_width(s, n), pad, limit = field > 0 ? field : INT_MAX, cw;

	if (o->width > 0 && limit > o->width - o->col)
		limit = o->width - o->col;
	if (limit <= 0) {
		free(s);
		return;
	}
	if (w <= limit) {
		pad = field > 0 ? (field < limit ? field : limit) - w : 0;
		if (right)
			while (pad-- > 0) {
				out_bytes(o, " ", 1);
				o->col++;
			}
		out_bytes(o, s, n);
		o->col += w;
		if (!right)
			while (pad-- > 0) {
				out_bytes(o, " ", 1);
				o->col++;
			}
		free(s);
		return;
	}
	w = 0;
	while (i < n) {
		k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
		    (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0)
			break;
		cw = utf8proc_charwidth(cp) > 0 ? utf8proc_charwidth(cp) : 0;
		if (w + cw > limit - 1)
			break;
		out_bytes(o, s + i, (size_t)k);
		w += cw;
		i += (size_t)k;
	}
	out_bytes(o, "…", strlen("…"));
	w++;
	while (field > 0 && w < limit) {
		out_bytes(o, " ", 1);
		w++;
	}
	o->col += w;
	free(s);
}

static void
out_endline(struct out *o)
{
	if (o->ansi)
		out_bytes(o, "\033[K\r\n", 5);
	else
		out_bytes(o, "\n", 1);
	o->col = 0;
}

static void
sparkline(const int64_t *v, char *buf, size_t sz)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇",
	    "█" };
	int64_t max = 0;
	size_t i, n = 0;

	for (i = 0; i < SPARK_BINS; i++)
		if (v[i] > max)
			max = v[i];
	buf[0] = '\0';
	for (i = 0; i < SPARK_BINS && n + 4 < sz; i++) {
		const char *c = " ";

		if (v[i] > 0)
			c = bars[v[i] * 7 / max];
		n += (size_t)snprintf(buf + n, sz - n, "%s", c);
	}
}

static void
fmt_dur(int64_t s, char *buf, size_t sz)
{
	if (s % 86400 == 0)
		snprintf(buf, sz, "%" PRId64 "d", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, sz, "%" PRId64 "h", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, sz, "%" PRId64 "m", s / 60);
	else
		snprintf(buf, sz, "%" PRId64 "s", s);
}

/* The columns of a frame.  TOPIC, COUNT, BASELINE, RATIO, STATE and TOP
 * are always shown, so a firing topic says so on any terminal; the last
 * hour's sparkline, then WINDOW, then NAME are added while TOP keeps
 * TOP_MIN columns, and TOPIC narrows to TOPIC_MIN on a narrow terminal.
 * Without a width (--once into a pipe), every column. */
#define TOPIC_W		24
#define TOPIC_MIN	12
#define TOP_MIN		20
#define FIXED_W		(8 + 10 + 8 + 9)	/* COUNT BASELINE RATIO STATE */

struct layout {
	int	 topic;
	bool	 name, window, spark;
};

static void
plan_layout(int width, struct layout *l)
{
	int used = TOPIC_W + FIXED_W;

	l->topic = TOPIC_W;
	l->name = l->window = l->spark = true;
	if (width <= 0)
		return;
	if ((l->spark = used + 2 + SPARK_BINS + TOP_MIN <= width))
		used += 2 + SPARK_BINS;
	if ((l->window = used + 7 + TOP_MIN <= width))
		used += 7;
	if ((l->name = used + 13 + TOP_MIN <= width))
		used += 13;
	if (used + TOP_MIN > width)
		l->topic = TOPIC_W - (used + TOP_MIN - width) > TOPIC_MIN ?
		    TOPIC_W - (used + TOP_MIN - width) : TOPIC_MIN;
}

static void
draw_header(struct top *tp, struct out *o)
{
	char line[512], when[32], num[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
	snprintf(line, sizeof line, "tidewatch top — redis %s — %s — %zu topic%s",
	    tp->cfg.redis_address, when, tp->n, tp->n == 1 ? "" : "s");
	if (tp->all_count >= 0) {
		snprintf(num, sizeof num, " — %.1f posts/s",
		    (double)tp->all_count / 300.0);
		strncat(line, num, sizeof line - strlen(line) - 1);
	}
	if (o->ansi)
		out_bytes(o, "\033[1m", 4);
	out_field(o, line, 0, false);
	if (o->ansi)
		out_bytes(o, "\033[0m", 4);
	out_endline(o);
}

static void
draw_titles(struct out *o, const struct layout *l)
{
	if (o->ansi)
		out_bytes(o, "\033[7m", 4);
	out_field(o, "TOPIC", l->topic, false);
	if (l->name)
		out_field(o, " NAME", 13, false);
	if (l->window)
		out_field(o, "WINDOW", 7, true);
	out_field(o, "COUNT", 8, true);
	out_field(o, "BASELINE", 10, true);
	out_field(o, "RATIO", 8, true);
	if (l->spark)
		out_field(o, "  LAST HOUR", 2 + SPARK_BINS, false);
	out_field(o, "  STATE ", 9, false);
	out_field(o, " TOP", o->width > 0 ? o->width - o->col : 0, false);
	if (o->ansi)
		out_bytes(o, "\033[0m", 4);
	out_endline(o);
}

static void
draw_topic(struct out *o, const struct layout *l, const struct ttopic *t)
{
	char spark[SPARK_BINS * 4 + 1], num[32];
	bool hot = strcmp(t->state, "FIRING") == 0;

	if (hot && o->ansi)
		out_bytes(o, "\033[1;31m", 7);
	out_field(o, t->id, l->topic, false);
	if (l->name) {
		out_field(o, " ", 1, false);
		out_field(o, t->name, 12, false);
	}
	if (l->window) {
		fmt_dur(t->a.window_s, num, sizeof num);
		out_field(o, num, 7, true);
	}
	snprintf(num, sizeof num, "%" PRId64, t->count);
	out_field(o, num, 8, true);
	if (t->baseline >= 0)
		snprintf(num, sizeof num, "%.1f", t->baseline);
	else
		snprintf(num, sizeof num, "-");
	out_field(o, num, 10, true);
	if (isnan(t->ratio))
		snprintf(num, sizeof num, "-");
	else if (isinf(t->ratio))
		snprintf(num, sizeof num, "×∞");
	else
		snprintf(num, sizeof num, "×%.1f", t->ratio);
	out_field(o, num, 8, true);
	if (l->spark) {
		out_field(o, "  ", 2, false);
		sparkline(t->spark, spark, sizeof spark);
		out_field(o, spark, SPARK_BINS, false);
	}
	out_field(o, "  ", 2, false);
	out_field(o, t->state, 7, false);
	out_field(o, "  ", 2, false);
	out_field(o, t->top, 0, false);
	if (hot && o->ansi)
		out_bytes(o, "\033[0m", 4);
	out_endline(o);
}

/* Draws one frame into o, at most `rows` lines (0: no limit). */
static void
draw(struct top *tp, struct out *o, int rows)
{
	struct layout l;
	size_t i;
	int row = 0;

	plan_layout(o->width, &l);
	draw_header(tp, o);
	row++;
	if (tp->err[0] != '\0' || tp->note[0] != '\0') {
		out_field(o, tp->err[0] ? tp->err : tp->note, 0, false);
		out_endline(o);
		row++;
	}
	draw_titles(o, &l);
	row++;
	for (i = 0; i < tp->n && (rows == 0 || row < rows); i++, row++)
		draw_topic(o, &l, &tp->t[i]);
	if (tp->n == 0) {
		out_field(o, "(no topics: no rules and no counters today)", 0,
		    false);
		out_endline(o);
	}
}

static void
term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void
write_all(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static int
run_once(struct top *tp)
{
	struct out o;
	int rows, cols, rc;

	memset(&o, 0, sizeof o);
	rc = read_frame(tp, true);
	if (isatty(STDOUT_FILENO)) {
		term_size(&rows, &cols);
		o.width = cols;
	}
	draw(tp, &o, 0);
	write_all(o.buf, o.len);
	free(o.buf);
	if (rc == -1) {
		fputs("tidewatch top: ", stderr);
		termsafe_fputs(tp->err, stderr);
		putc('\n', stderr);
	}
	return rc == -1 ? 1 : 0;
}

static int
run_live(struct top *tp)
{
	struct termios saved, raw;
	struct sigaction sa;
	bool tty = isatty(STDIN_FILENO);
	int64_t next = 0;

	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		raw = saved;
		raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = top_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	write_all("\033[?1049h\033[?25l\033[2J", 18);
	while (!top_stop) {
		struct pollfd pfd;
		int64_t now = (int64_t)time(NULL) * 1000;
		char c;

		if (now >= next || top_resized) {
			struct out o;
			int rows, cols;

			top_resized = 0;
			memset(&o, 0, sizeof o);
			o.ansi = true;
			term_size(&rows, &cols);
			o.width = cols;
			out_bytes(&o, "\033[H", 3);
			read_frame(tp, false);
			draw(tp, &o, rows - 1);
			out_bytes(&o, "\033[J", 3);
			write_all(o.buf, o.len);
			free(o.buf);
			next = (now / 1000 + 1) * 1000;
		}
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		pfd.revents = 0;
		{
			struct timespec ts;
			int wait;

			clock_gettime(CLOCK_REALTIME, &ts);
			wait = (int)(next - ((int64_t)ts.tv_sec * 1000 +
			    ts.tv_nsec / 1000000));
			if (poll(&pfd, 1, wait > 0 ? wait : 0) > 0 &&
			    read(STDIN_FILENO, &c, 1) == 1 &&
			    (c == 'q' || c == 'Q'))
				break;
			if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
				usleep(wait > 0 ? (useconds_t)wait * 1000 : 0);
		}
	}
	write_all("\033[?25h\033[?1049l", 14);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return 0;
}

int
cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL;
	char **sets = NULL, *password, err[512];
	size_t nsets = 0, setcap = 0, i;
	struct diag errs;
	struct top tp;
	bool once = false;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 's':
			sets = xgrow(sets, &setcap, nsets + 1, sizeof *sets);
			sets[nsets++] = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'h':
			top_usage(stdout);
			free(sets);
			return 0;
		default:
			top_usage(stderr);
			free(sets);
			return 2;
		}
	}
	if (optind != argc) {
		top_usage(stderr);
		free(sets);
		return 2;
	}
	memset(&tp, 0, sizeof tp);
	tp.since = INT64_MAX;
	diag_init(&errs);
	if (cfgpath == NULL && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
		cfgpath = CONFIG_DEFAULT_PATH;
	if (cfgpath != NULL)
		rc = config_load(cfgpath, &tp.cfg, &errs);
	else {
		config_defaults(&tp.cfg);
		rc = 0;
	}
	for (i = 0; rc == 0 && i < nsets; i++)
		rc = config_set(&tp.cfg, sets[i], &errs);
	free(sets);
	if (rc == -1) {
		cmd_print_diag(&errs);
		diag_free(&errs);
		config_free(&tp.cfg);
		return 1;
	}
	diag_free(&errs);
	log_set_level(LOG_ERROR);
	if (config_redis_password(&tp.cfg, &password, err, sizeof err) == -1) {
		fprintf(stderr, "tidewatch top: %s\n", err);
		config_free(&tp.cfg);
		return 1;
	}
	tp.store = store_open(&tp.cfg, password);
	free(password);
	tp.from_rules = topics_from_rules(&tp) == 0;
	rc = once ? run_once(&tp) : run_live(&tp);
	topics_free(&tp);
	store_free(tp.store);
	config_free(&tp.cfg);
	return rc;
}
