/*
 * cmd_backtest.c — `tidewatch backtest`: the alerts a rule set would have
 * sent over a file of posts, or over a ready count series.
 *
 * DESIGN.  Posts go through the daemon's own pipeline (pipeline.c: the
 * decoder with the config's input settings, the normaliser and matcher,
 * and agg.c), each worker thread with its own pipeline and aggregate over
 * its share of the file (whole lines), merged at the end.  An aggregate is a
 * sum per (topic, time bucket), so the order posts are added in does not
 * change it: counting in file order in parallel gives exactly the counts of
 * a replay in the posts' time order.  The merged aggregate goes to
 * backtest.c, the counts in memory and the daemon's detection over them
 * (watch_step, alert_make, group_wait), with every window end evaluated
 * once, complete; alerts carry the evidence of the aggregate (top keywords,
 * count_by values, and sample posts: the first few of each bucket in file
 * order, the window's earliest first), and group_wait's digests go out in
 * the posts' time, as the daemon sends them.  This file is the command:
 * arguments, reading the input, the workers, and printing each alert (the
 * daemon's JSON, or a line of text), each digest and the summary.  A post
 * without a time cannot be placed: it is counted and reported as an error,
 * like a post that does not decode.
 *
 * --series FILE.csv runs one alert block (--alert, parsed by the rule
 * loader's own alert parser) over a `timestamp,value` series such as NAB's:
 * the resolution is the series' step, and times are shifted so that the
 * first row starts a bucket.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agg.h"
#include "alert.h"
#include "backtest.h"
#include "commands.h"
#include "decoder.h"
#include "disc_replay.h"
#include "jsonw.h"
#include "pipeline.h"
#include "rules.h"
#include "spike.h"
#include "termsafe.h"
#include "watch.h"
#include "web.h"
#include "xmalloc.h"

#define BT_MAX_THREADS		16
#define BT_MAX_ERRORS_SHOWN	10

static void
backtest_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tidewatch backtest -r RULES [-r RULES...] [-c CONFIG] [--json]\n"
	    "                          [--html FILE] [--threads N] [--timing]\n"
	    "                          [--discover] POSTS.jsonl\n"
	    "       tidewatch backtest --series FILE.csv --alert BLOCK [--json]\n"
	    "                          [--resolution DURATION] [--html FILE]\n"
	    "  Replays posts (JSON lines with a time) through the daemon's\n"
	    "  decoding, matching, counting and spike detection, with counters in\n"
	    "  memory, and prints every alert that would have fired (firing,\n"
	    "  repeat, resolved), then a summary per topic.  --json prints the\n"
	    "  alerts as the daemon publishes them, and the summary as a last\n"
	    "  JSON line.  --series runs one alert block, e.g.\n"
	    "  --alert '{window: 5m, baseline: 1d, zscore: 4}', over a count\n"
	    "  series of 'timestamp,value' lines (as in NAB).  --html FILE also\n"
	    "  writes a self-contained report: every topic's chart against its\n"
	    "  baseline with the alerts on it, as the web view draws them.\n"
	    "  Posts are decoded with the config's input settings and counted\n"
	    "  at their own time (input.time_field): a file has no Kafka\n"
	    "  timestamps, so input.time kafka reads that field too, and no\n"
	    "  arrival times, so input.time arrival is refused, as is\n"
	    "  input.format text (plain lines carry no time).\n"
	    "  --discover then replays discovery (the config's discovery.*\n"
	    "  keys) over the posts in time order and prints each emerging\n"
	    "  story as it forms (--json: as <prefix>alerts:_emerging carries\n"
	    "  it), then a discovery summary line.\n");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- input ------------------------------------------------------------ */

struct input {
	const char	*buf;
	size_t		 len;
	void		*map;		/* mmap'ed, or NULL */
	char		*heap;		/* read, or NULL */
};

static int
input_open(const char *path, struct input *in)
{
	struct stat sb;
	size_t cap = 1 << 20;
	ssize_t n;
	int fd;

	memset(in, 0, sizeof *in);
	if (strcmp(path, "-") == 0)
		fd = 0;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fd != 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size > 0) {
		in->map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE,
		    fd, 0);
		if (in->map != MAP_FAILED) {
			in->buf = in->map;
			in->len = (size_t)sb.st_size;
			(void)madvise(in->map, in->len, MADV_SEQUENTIAL);
			close(fd);
			return 0;
		}
		in->map = NULL;
	}
	in->heap = xmalloc(cap);
	for (;;) {
		if (in->len == cap)
			in->heap = xrealloc(in->heap, cap *= 2);
		n = read(fd, in->heap + in->len, cap - in->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		in->len += (size_t)n;
	}
	if (fd != 0)
		close(fd);
	in->buf = in->heap;
	return n == -1 ? -1 : 0;
}

static void
input_close(struct input *in)
{
	if (in->map != NULL)
		munmap(in->map, in->len);
	free(in->heap);
}

/* ---- counting: workers over whole lines ------------------------------ */

struct bt_error {
	size_t		 line;
	char		*msg;
};

struct worker {
	pthread_t		 thr;
	const char		*buf;		/* its lines */
	size_t			 len;
	size_t			 first_line;	/* number of its first line */
	struct pipeline		*pl;		/* counts into agg */
	struct agg		*agg;
	int			 started;	/* in a thread of its own */
	/* results */
	size_t			 lines, posts, matched, no_time, regex_errors;
	size_t			 rejected[DEC__COUNT];
	struct bt_error		 errs[BT_MAX_ERRORS_SHOWN];
	size_t			 nerrs;
	struct pipeline_timing	 timing;	/* with --timing */
};

static void
worker_error(struct worker *w, size_t line, const char *reason,
    const char *detail)
{
	if (w->nerrs < BT_MAX_ERRORS_SHOWN) {
		w->errs[w->nerrs].line = line;
		w->errs[w->nerrs].msg = xasprintf("%s (%s)", detail, reason);
		w->nerrs++;
	}
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	const char *p = w->buf, *end = w->buf + w->len, *nl;
	struct pipeline_result r;
	size_t line = w->first_line, len;

	for (; p < end; p = nl + 1, line++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		w->lines++;
		if (len == 0)
			continue;	/* an empty line is no post */
		switch (pipeline_process(w->pl, p, len, -1, -1, &r)) {
		case PIPELINE_OK:
			w->posts++;
			w->regex_errors += r.match.nerrors;
			if (r.match.ntopics > 0)
				w->matched++;
			break;
		case PIPELINE_NO_TIME:
			w->no_time++;
			worker_error(w, line, "no_time", r.detail);
			break;
		case PIPELINE_REJECTED:	/* a file has no clock: a decoder result */
			w->rejected[r.reason]++;
			worker_error(w, line,
			    decoder_result_name((enum dec_result)r.reason),
			    r.detail);
			break;
		case PIPELINE_LATE:	/* only in a stream */
			break;
		}
	}
	return NULL;
}

/* ---- output ----------------------------------------------------------- */

static void
fmt_time(int64_t t, char *buf, size_t sz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, sz, "%" PRId64, t);
	else
		strftime(buf, sz, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* How alerts are shown: the daemon's JSON or lines of text; with an HTML
 * report to write, every alert's JSON is also kept for it. */
struct bt_show {
	int	 json;
	char	**kept;		/* --html: alert JSON */
	size_t	 nkept, capkept;
	bool	 keep;
};

/* backtest_out.line: the daemon's JSON, or one line of text. */
static char *
alert_line(void *arg, const struct alert *al)
{
	struct bt_show *sh = arg;
	const int *json = &sh->json;
	const struct rule_alert *a = &al->topic->alerts[al->block];
	const struct spike_eval *ev = &al->ev;
	struct jsonw w = { NULL, 0, 0 };
	char ws[40], we[40], buf[512];
	size_t i;

	if (sh->keep) {
		sh->kept = xgrow(sh->kept, &sh->capkept, sh->nkept + 1,
		    sizeof *sh->kept);
		sh->kept[sh->nkept++] = alert_json(al);
	}
	if (*json)
		return alert_json(al);
	fmt_time(ev->window_start, ws, sizeof ws);
	fmt_time(ev->window_end, we, sizeof we);
	snprintf(buf, sizeof buf, "%s  %-8s %s [%zu] %s %s  window %s .. %s  "
	    "count %" PRId64, we, al->action == SPIKE_RESOLVE ? "RESOLVED" :
	    al->action == SPIKE_REPEAT ? "REPEAT" : "FIRING", al->topic->id,
	    al->block, rules_severity_name(a->severity),
	    al->action == SPIKE_RESOLVE ? "-" : spike_cond_name(ev->cond),
	    ws + 11, we + 11, ev->count);
	jsonw_rawz(&w, buf);
	if (ev->nbaseline > 0) {
		snprintf(buf, sizeof buf, "  baseline %.2f", ev->baseline_rate);
		jsonw_rawz(&w, buf);
		if (isfinite(ev->ratio)) {
			snprintf(buf, sizeof buf, " (x%.2f)", ev->ratio);
			jsonw_rawz(&w, buf);
		}
		snprintf(buf, sizeof buf, "  z %.2f", ev->zscore);
		jsonw_rawz(&w, buf);
	} else
		jsonw_rawz(&w, "  no baseline");
	if (a->poisson_p > 0) {
		snprintf(buf, sizeof buf, "  p %.3g (bound %" PRId64 ")",
		    ev->pvalue, ev->upper);
		jsonw_rawz(&w, buf);
	}
	for (i = 0; i < al->keywords.n; i++) {
		snprintf(buf, sizeof buf, "%s%s (%" PRId64 ")", i == 0 ?
		    "  top " : ", ", al->keywords.names[i],
		    al->keywords.counts[i]);
		jsonw_rawz(&w, buf);
	}
	jsonw_raw(&w, "", 1);	/* NUL */
	return w.buf;
}

/* A line of output made safe for a terminal (termsafe): keywords, ids and
 * the texts of an alert's JSON come from rule files and posts.  JSON lines
 * stay JSON with the same meaning. */
static void
put_safe_line(const char *line, int json)
{
	char *safe = termsafe_dupn(line, strlen(line), json ? TERMSAFE_JSON :
	    0);

	puts(safe);
	free(safe);
}

static void
print_line(void *arg, const char *line)
{
	const struct bt_show *sh = arg;

	put_safe_line(line, sh->json);
}

/* backtest_out.digest: as the daemon sends it on <prefix>alerts:_digest,
 * or the alerts' lines marked with the digest's id. */
static void
print_digest(void *arg, const char *digest_id, const struct alert_held *h)
{
	const int *json = &((const struct bt_show *)arg)->json;
	char *digest;
	size_t i;

	if (*json) {
		digest = alert_digest_json(digest_id, h);
		put_safe_line(digest, 1);
		free(digest);
		return;
	}
	for (i = 0; i < h->n; i++) {
		char *line = xasprintf("%s  [%s]", h->items[i].json, digest_id);

		put_safe_line(line, 0);
		free(line);
	}
}

/* What was read, for the summary. */
struct bt_totals {
	size_t	lines, posts, matched, no_time, rej;
	size_t	rejected[DEC__COUNT];
};

static void
sum_workers(const struct worker *ws, size_t nw, struct bt_totals *tot)
{
	size_t i, k;

	memset(tot, 0, sizeof *tot);
	for (i = 0; i < nw; i++) {
		tot->lines += ws[i].lines;
		tot->posts += ws[i].posts;
		tot->matched += ws[i].matched;
		tot->no_time += ws[i].no_time;
		for (k = 0; k < DEC__COUNT; k++) {
			tot->rejected[k] += ws[i].rejected[k];
			tot->rej += ws[i].rejected[k];
		}
	}
}

/* One topic's summary, as a JSON member of "topics" or a table row. */
static void
print_topic_summary(const struct rule_topic *t, const struct backtest_topic *r,
    struct jsonw *w, bool json)
{
	char pk[40];

	if (json) {
		jsonw_raw(w, "{\"id\":", 6);
		jsonw_strz(w, t->id);
		jsonw_rawz(w, ",\"posts\":");
		jsonw_int(w, r->posts);
		jsonw_rawz(w, ",\"peak\":");
		jsonw_int(w, r->peak);
		jsonw_rawz(w, ",\"fired\":");
		jsonw_int(w, (int64_t)r->fired);
		jsonw_rawz(w, ",\"repeats\":");
		jsonw_int(w, (int64_t)r->repeats);
		jsonw_rawz(w, ",\"resolved\":");
		jsonw_int(w, (int64_t)r->resolved);
		jsonw_rawz(w, r->firing_at_end ? ",\"firing_at_end\":true}" :
		    ",\"firing_at_end\":false}");
		return;
	}
	if (r->peak > 0)
		fmt_time(r->peak_end, pk, sizeof pk);
	else
		snprintf(pk, sizeof pk, "-");
	printf("%-24s %10" PRId64 " %10" PRId64 " %-20s %6zu %7zu %8zu  %s\n",
	    t->id, r->posts, r->peak, pk, r->fired, r->repeats, r->resolved,
	    t->nalerts == 0 ? "(no alert)" : r->firing_at_end ? "firing" : "-");
}

static void
print_summary(const struct backtest *bt, const struct ruleset *rs, int json,
    const struct bt_totals *tot, double secs, int64_t res)
{
	struct jsonw w = { NULL, 0, 0 };
	size_t i;

	if (json) {
		jsonw_raw(&w, "{\"summary\":{\"posts\":", 20);
		jsonw_int(&w, (int64_t)tot->posts);
		jsonw_rawz(&w, ",\"matched\":");
		jsonw_int(&w, (int64_t)tot->matched);
		jsonw_rawz(&w, ",\"rejected\":");
		jsonw_int(&w, (int64_t)tot->rej);
		jsonw_rawz(&w, ",\"no_time\":");
		jsonw_int(&w, (int64_t)tot->no_time);
		jsonw_rawz(&w, ",\"alerts\":");
		jsonw_int(&w, (int64_t)backtest_nalerts(bt));
		jsonw_rawz(&w, ",\"digests\":");
		jsonw_int(&w, (int64_t)backtest_ndigests(bt));
		jsonw_rawz(&w, ",\"topics\":[");
	} else
		printf("\n%-24s %10s %10s %-20s %6s %7s %8s  %s\n", "topic",
		    "posts", "peak", "peak window end", "fired", "repeats",
		    "resolved", "at end");
	for (i = 0; i < rs->ntopics; i++) {
		if (json && i > 0)
			jsonw_raw(&w, ",", 1);
		print_topic_summary(&rs->topics[i], backtest_topic(bt, i), &w,
		    json);
	}
	if (json) {
		jsonw_rawz(&w, "]}}\n");
		fwrite(w.buf, 1, w.len, stdout);
		jsonw_free(&w);
	} else
		printf("%zu alerts, %zu digests\n", backtest_nalerts(bt),
		    backtest_ndigests(bt));
	fflush(stdout);

	fprintf(stderr, "backtest: %zu lines, %zu posts counted, %zu matched, "
	    "%zu rejected, %zu without a time", tot->lines, tot->posts,
	    tot->matched, tot->rej, tot->no_time);
	for (i = 0; i < DEC__COUNT; i++)
		if (tot->rejected[i] > 0)
			fprintf(stderr, ", %s %zu", decoder_result_name(i),
			    tot->rejected[i]);
	fprintf(stderr, "; resolution %" PRId64 "s; %.3f s, %.0f posts/s\n",
	    res, secs, secs > 0 ? (double)tot->lines / secs : 0.0);
}

/* Detection over bt, every alert printed, then the summary; with html,
 * the report written there.  Returns 0, or -1 when the report could not
 * be written (printed). */
static int
detect_and_print(struct backtest *bt, const struct ruleset *rs, int json,
    const char *html, int64_t offset, const struct bt_totals *tot,
    double t_start, int64_t res)
{
	struct backtest_out out;
	struct bt_show sh;
	char err[512];
	size_t i;
	int rc = 0;

	memset(&out, 0, sizeof out);
	memset(&sh, 0, sizeof sh);
	sh.json = json;
	sh.keep = html != NULL;
	out.line = alert_line;
	out.alert = print_line;
	out.digest = print_digest;
	out.arg = &sh;
	backtest_detect(bt, offset, &out);
	print_summary(bt, rs, json, tot, now_s() - t_start, res);
	if (html != NULL && webreport_write(html, rs, bt, res, offset,
	    sh.kept, sh.nkept, err, sizeof err) == -1) {
		fprintf(stderr, "tidewatch backtest: --html: %s\n", err);
		rc = -1;
	}
	for (i = 0; i < sh.nkept; i++)
		free(sh.kept[i]);
	free(sh.kept);
	return rc;
}

/* ---- posts mode ------------------------------------------------------- */

struct bt_args {
	char		**rpaths;
	size_t		  nr;
	const char	 *cfgpath;
	int		  json, timing, threads, discover;
	const char	 *series, *alert, *resolution, *html;
	const char	 *file;
};

/* Whole lines to each of the nw workers, numbered from 1. */
static void
split_lines(const struct input *in, struct worker *ws, size_t nw)
{
	size_t off = 0, line = 1, i, j;

	for (i = 0; i < nw; i++) {
		size_t end = i + 1 == nw ? in->len : in->len / nw * (i + 1);
		const char *nl;

		if (end < off)
			end = off;
		if (end < in->len && (nl = memchr(in->buf + end, '\n',
		    in->len - end)) != NULL)
			end = (size_t)(nl - in->buf) + 1;
		else
			end = in->len;
		ws[i].buf = in->buf + off;
		ws[i].len = end - off;
		ws[i].first_line = line;
		for (j = off; j < end; ) {	/* count lines for numbering */
			const char *q = memchr(in->buf + j, '\n', end - j);

			if (q == NULL)
				break;
			line++;
			j = (size_t)(q - in->buf) + 1;
		}
		off = end;
	}
}

/* Runs the workers (the first on this thread) and merges their
 * aggregates into the first's. */
static void
run_workers(struct worker *ws, size_t nw)
{
	size_t i;

	for (i = 1; i < nw; i++)
		if (pthread_create(&ws[i].thr, NULL, worker_run, &ws[i]) == 0)
			ws[i].started = 1;
	for (i = 0; i < nw; i++)
		if (!ws[i].started)
			worker_run(&ws[i]);	/* the first, or no thread */
	for (i = 1; i < nw; i++)
		if (ws[i].started)
			pthread_join(ws[i].thr, NULL);
	for (i = 1; i < nw; i++)
		agg_merge(ws[0].agg, ws[i].agg);
}

static void
print_errors(const char *file, struct worker *ws, size_t nw)
{
	size_t i, j;

	for (i = 0; i < nw; i++) {
		for (j = 0; j < ws[i].nerrs; j++) {
			fprintf(stderr, "%s:%zu: ", file, ws[i].errs[j].line);
			termsafe_fputs(ws[i].errs[j].msg, stderr);
			putc('\n', stderr);
			free(ws[i].errs[j].msg);
		}
	}
}

static void
print_timing(const struct worker *ws, size_t nw, double counting,
    double rest)
{
	double d = 0, mt = 0, ag = 0;
	size_t i;

	for (i = 0; i < nw; i++) {
		d += ws[i].timing.decode;
		mt += ws[i].timing.match;
		ag += ws[i].timing.count;
	}
	fprintf(stderr, "backtest: %zu thread%s; counting %.3f s "
	    "(thread time: decode %.3f s, normalise+match %.3f s, "
	    "aggregate %.3f s), merge+detect+output %.3f s\n", nw,
	    nw == 1 ? "" : "s", counting, d, mt, ag, rest);
}

static int
run_posts(const struct bt_args *ba)
{
	struct config cfg;
	struct normalizer *norm;
	struct matcher *m;
	struct diag errs;
	struct pipeline_opts popts;
	char err[256];
	struct input in;
	struct worker *ws;
	struct backtest *bt;
	struct bt_totals tot;
	const struct ruleset *rs;
	size_t nw, i;
	int64_t res;
	double t_start, t_counted;
	int rc = 0;

	diag_init(&errs);
	if (cmd_setup(ba->cfgpath, ba->rpaths, ba->nr, &cfg, &norm, &m,
	    &errs) == -1) {
		cmd_print_diag(&errs);
		diag_free(&errs);
		config_free(&cfg);
		return 1;
	}
	diag_free(&errs);
	memset(&popts, 0, sizeof popts);
	popts.mode = PIPELINE_FILE;
	popts.cfg = &cfg;
	popts.m = m;
	err[0] = '\0';
	if (pipeline_check(&popts, err, sizeof err) == 0 &&
	    input_open(ba->file, &in) == -1)
		snprintf(err, sizeof err, "%s: %s", ba->file, strerror(errno));
	if (err[0] != '\0') {
		fprintf(stderr, "tidewatch backtest: %s\n", err);
		match_free(m);
		norm_free(norm);
		config_free(&cfg);
		return 1;
	}
	t_start = now_s();
	rs = match_ruleset(m);
	res = cfg.resolution_s > 0 ? cfg.resolution_s : 10;

	/* whole lines to each worker */
	nw = (size_t)ba->threads;
	if (in.len < ((size_t)1 << 20))
		nw = 1;
	ws = xcalloc(nw, sizeof *ws);
	split_lines(&in, ws, nw);
	for (i = 0; i < nw; i++) {
		ws[i].agg = agg_new(res, (size_t)cfg.samples);
		popts.agg = ws[i].agg;
		popts.timing = ba->timing ? &ws[i].timing : NULL;
		ws[i].pl = pipeline_new(&popts, NULL, 0);
	}
	run_workers(ws, nw);
	t_counted = now_s();
	print_errors(ba->file, ws, nw);

	/* counts per topic and bucket in memory, and detection over them */
	sum_workers(ws, nw, &tot);
	bt = backtest_new(rs, res);
	backtest_set_normalizer(bt, norm);
	if (backtest_add_agg(bt, ws[0].agg, err, sizeof err) == -1) {
		fprintf(stderr, "tidewatch backtest: %s\n", err);
		rc = 1;
	} else {
		if (detect_and_print(bt, rs, ba->json, ba->html, 0, &tot,
		    t_start, res) == -1)
			rc = 1;
		if (ba->timing)
			print_timing(ws, nw, t_counted - t_start,
			    now_s() - t_counted);
		if (ba->discover && disc_replay(in.buf, in.len, &cfg, m,
		    norm, ba->json) != 0)
			rc = 1;
	}
	backtest_free(bt);
	for (i = 0; i < nw; i++) {
		pipeline_free(ws[i].pl);
		agg_free(ws[i].agg);
	}
	free(ws);
	input_close(&in);
	match_free(m);
	norm_free(norm);
	config_free(&cfg);
	return rc;
}

/* ---- series mode ------------------------------------------------------ */

/* The rows of a `timestamp,value` file: times in seconds, counts. */
struct series {
	int64_t		*times, *vals;
	size_t		 n, cap, capv;
};

/* One row (len bytes at p, line `line`); 1 added, 0 skipped (the header),
 * -1 an error (printed). */
static int
series_row(const char *path, size_t line, const char *p, size_t len,
    struct series *s)
{
	const char *comma = memchr(p, ',', len);
	char tmp[64], *ep;
	int64_t ms;
	double v;

	if (comma == NULL || decoder_parse_time(p, (size_t)(comma - p),
	    &ms) == -1) {
		if (s->n == 0 && line == 1)
			return 0;	/* the header */
		fprintf(stderr, "%s:%zu: expected timestamp,value\n", path,
		    line);
		return -1;
	}
	if ((size_t)(p + len - comma - 1) >= sizeof tmp) {
		fprintf(stderr, "%s:%zu: value too long\n", path, line);
		return -1;
	}
	memcpy(tmp, comma + 1, (size_t)(p + len - comma - 1));
	tmp[p + len - comma - 1] = '\0';
	v = strtod(tmp, &ep);
	if (ep == tmp || *ep != '\0' || !isfinite(v) || v < 0 || v > 1e15) {
		fprintf(stderr, "%s:%zu: value: expected a count, got '", path,
		    line);
		termsafe_fputs(tmp, stderr);
		fputs("'\n", stderr);
		return -1;
	}
	s->times = xgrow(s->times, &s->cap, s->n + 1, sizeof *s->times);
	s->vals = xgrow(s->vals, &s->capv, s->n + 1, sizeof *s->vals);
	s->times[s->n] = ms / 1000;
	s->vals[s->n++] = (int64_t)llround(v);
	return 1;
}

/* Reads every row; -1 on an error (printed). */
static int
series_read(const char *path, const struct input *in, struct series *s)
{
	const char *p, *end, *nl;
	size_t line = 0, len;

	for (p = in->buf, end = in->buf + in->len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line++;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0 && series_row(path, line, p, len, s) == -1)
			return -1;
	}
	if (s->n < 2) {
		fprintf(stderr, "%s: a series needs at least two rows\n", path);
		return -1;
	}
	return 0;
}

/* The series' step (or --resolution), checked against every row. */
static int
series_resolution(const struct bt_args *ba, const struct series *s,
    int64_t *resp)
{
	int64_t res = 0;
	size_t i;

	if (ba->resolution != NULL) {
		if (rules_parse_duration(ba->resolution, &res) == -1) {
			fprintf(stderr, "tidewatch backtest: --resolution: "
			    "expected a duration like 5m, got '%s'\n",
			    ba->resolution);
			return -1;
		}
	} else
		res = s->times[1] - s->times[0];
	for (i = 1; i < s->n && res > 0; i++)
		if (s->times[i] <= s->times[i - 1] ||
		    (s->times[i] - s->times[0]) % res != 0)
			break;
	if (res <= 0 || i < s->n) {
		fprintf(stderr, "%s:%zu: rows must be in time order, %" PRId64
		    " s apart (or multiples of it)\n", ba->series,
		    i < s->n ? i + 2 : (size_t)2, res);
		return -1;
	}
	*resp = res;
	return 0;
}

/* Detection of one alert block over the series, as topic "series".
 * Returns 0, or -1 when the report could not be written. */
static int
series_detect(const struct bt_args *ba, struct rule_alert *block,
    const struct series *s, int64_t res, double t_start)
{
	struct rule_topic topic;
	struct ruleset rs;
	struct backtest *bt;
	struct bt_totals tot;
	const char *base;
	int64_t t0 = s->times[0], off, nb, *counts;
	size_t i, order0 = 0;
	int rc;

	/* buckets start at multiples of res once shifted by off */
	off = ((t0 % res) + res) % res;
	memset(&topic, 0, sizeof topic);
	base = strrchr(ba->series, '/');
	base = base != NULL ? base + 1 : ba->series;
	topic.id = (char *)"series";
	topic.name = (char *)base;
	topic.alerts = block;
	topic.nalerts = 1;
	topic.file = ba->series;
	memset(&rs, 0, sizeof rs);
	rs.topics = &topic;
	rs.ntopics = 1;
	rs.order = &order0;

	nb = (s->times[s->n - 1] - t0) / res + 1;
	counts = xcalloc((size_t)nb, sizeof *counts);
	for (i = 0; i < s->n; i++)
		counts[(s->times[i] - t0) / res] += s->vals[i];
	bt = backtest_new(&rs, res);
	backtest_add_series(bt, 0, t0 - off, counts, nb);
	free(counts);
	memset(&tot, 0, sizeof tot);
	tot.lines = s->n;
	tot.posts = (size_t)backtest_topic(bt, 0)->posts;
	rc = detect_and_print(bt, &rs, ba->json, ba->html, off, &tot, t_start,
	    res);
	backtest_free(bt);
	return rc;
}

static int
run_series(const struct bt_args *ba)
{
	struct input in;
	struct rules_opts ro;
	struct rule_alert block;
	struct diag errs;
	struct series s;
	int64_t res = 0;
	double t_start = now_s();
	int rc = 1;

	if (input_open(ba->series, &in) == -1) {
		fprintf(stderr, "tidewatch backtest: %s: %s\n", ba->series,
		    strerror(errno));
		return 1;
	}
	memset(&s, 0, sizeof s);
	if (series_read(ba->series, &in, &s) == 0 &&
	    series_resolution(ba, &s, &res) == 0) {
		diag_init(&errs);
		memset(&ro, 0, sizeof ro);
		ro.resolution_s = res;
		if (rules_parse_alert("--alert", ba->alert, strlen(ba->alert),
		    &ro, &block, &errs) == -1)
			cmd_print_diag(&errs);
		else {
			rc = series_detect(ba, &block, &s, res, t_start) == 0 ?
			    0 : 1;
		}
		diag_free(&errs);
	}
	free(s.times);
	free(s.vals);
	input_close(&in);
	return rc;
}

int
cmd_backtest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "threads", required_argument, NULL, 't' },
		{ "timing", no_argument, NULL, 'T' },
		{ "series", required_argument, NULL, 's' },
		{ "alert", required_argument, NULL, 'a' },
		{ "resolution", required_argument, NULL, 'R' },
		{ "discover", no_argument, NULL, 'D' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bt_args ba;
	size_t rcap = 0;
	long ncpu;
	int ch, rc;

	memset(&ba, 0, sizeof ba);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	ba.threads = ncpu > 0 ? (int)(ncpu < BT_MAX_THREADS ? ncpu :
	    BT_MAX_THREADS) : 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:c:jt:Ts:a:R:Dh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'r':
			ba.rpaths = xgrow(ba.rpaths, &rcap, ba.nr + 1,
			    sizeof *ba.rpaths);
			ba.rpaths[ba.nr++] = optarg;
			break;
		case 'c':
			ba.cfgpath = optarg;
			break;
		case 'j':
			ba.json = 1;
			break;
		case 't':
			ba.threads = atoi(optarg);
			if (ba.threads < 1 || ba.threads > BT_MAX_THREADS) {
				fprintf(stderr, "tidewatch backtest: --threads: "
				    "expected 1 to %d\n", BT_MAX_THREADS);
				free(ba.rpaths);
				return 2;
			}
			break;
		case 'T':
			ba.timing = 1;
			break;
		case 's':
			ba.series = optarg;
			break;
		case 'a':
			ba.alert = optarg;
			break;
		case 'R':
			ba.resolution = optarg;
			break;
		case 'D':
			ba.discover = 1;
			break;
		case 'H':
			ba.html = optarg;
			break;
		case 'h':
			backtest_usage(stdout);
			free(ba.rpaths);
			return 0;
		default:
			backtest_usage(stderr);
			free(ba.rpaths);
			return 2;
		}
	}
	if (ba.series != NULL) {
		if (ba.alert == NULL || ba.nr > 0 || optind != argc) {
			fprintf(stderr, "tidewatch backtest: --series needs "
			    "--alert BLOCK, and no rules or posts\n");
			backtest_usage(stderr);
			free(ba.rpaths);
			return 2;
		}
		rc = run_series(&ba);
		free(ba.rpaths);
		return rc;
	}
	if ((ba.nr == 0 && ba.cfgpath == NULL) || argc - optind != 1 ||
	    ba.alert != NULL) {
		fprintf(stderr, "tidewatch backtest: -r RULES (or -c CONFIG) "
		    "and one file of posts are required\n");
		backtest_usage(stderr);
		free(ba.rpaths);
		return 2;
	}
	ba.file = argv[optind];
	rc = run_posts(&ba);
	free(ba.rpaths);
	return rc;
}
