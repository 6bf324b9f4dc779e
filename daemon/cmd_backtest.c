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
 * a replay in the posts' time order.  Detection then runs in time order
 * through watch_step() and spike_run() — the daemon detector's stepping
 * code — over in-memory counts (prefix sums, so each window is O(1)), with
 * every window end evaluated once, complete; alerts carry the evidence of
 * the aggregate (top keywords, count_by values, and sample posts: the
 * first few of each bucket in file order, the window's earliest first).
 * group_wait holds new alerts and prints them as one digest, in posts'
 * time, as the daemon sends them.  A post without a time cannot be placed:
 * it is counted and reported as an error, like a post that does not
 * decode.
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
#include "commands.h"
#include "decoder.h"
#include "jsonw.h"
#include "pipeline.h"
#include "rules.h"
#include "spike.h"
#include "watch.h"
#include "xmalloc.h"

#define BT_MAX_THREADS		16
#define BT_MAX_ERRORS_SHOWN	10
#define BT_MAX_CELLS		(INT64_C(64) * 1024 * 1024)	/* buckets × topics */
#define BT_TOP			5
#define BT_SAMPLES		3

static void
backtest_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tidewatch backtest -r RULES [-r RULES...] [-c CONFIG] [--json]\n"
	    "                          [--threads N] [--timing] POSTS.jsonl\n"
	    "       tidewatch backtest --series FILE.csv --alert BLOCK [--json]\n"
	    "                          [--resolution DURATION]\n"
	    "  Replays posts (JSON lines with a time) through the daemon's\n"
	    "  decoding, matching, counting and spike detection, with counters in\n"
	    "  memory, and prints every alert that would have fired (firing,\n"
	    "  repeat, resolved), then a summary per topic.  --json prints the\n"
	    "  alerts as the daemon publishes them, and the summary as a last\n"
	    "  JSON line.  --series runs one alert block, e.g.\n"
	    "  --alert '{window: 5m, baseline: 1d, zscore: 4}', over a count\n"
	    "  series of 'timestamp,value' lines (as in NAB).\n"
	    "  Posts are decoded with the config's input settings and counted\n"
	    "  at their own time (input.time_field): a file has no Kafka\n"
	    "  timestamps, so input.time kafka reads that field too, and no\n"
	    "  arrival times, so input.time arrival is refused, as is\n"
	    "  input.format text (plain lines carry no time).\n");
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

/* ---- counts in memory ------------------------------------------------- */

struct kwent {
	int64_t		 bucket;
	const char	*aux, *aux2;	/* keyword; or field, value */
	int64_t		 count;
	int		 kind;
};

/* One topic's counts: prefix sums over [b0, b0 + n*res), and its evidence
 * entries sorted by bucket. */
struct tcounts {
	int64_t			*pre;		/* pre[i] = sum of buckets < i */
	struct kwent		*ev;
	size_t			 nev, capev;
	const struct agg_sample	**samples;
	size_t			 nsamples, capsamples;
	int64_t			 posts;
	int64_t			 peak;		/* largest window count seen */
	int64_t			 peak_end;
	size_t			 fired, repeats, resolved;
	int			 at_end;	/* still firing, announced */
};

struct series_ctx {
	int64_t		 b0, res, n;
	const int64_t	*pre;
};

static int64_t
idx_of(const struct series_ctx *c, int64_t t)
{
	int64_t i = (t - c->b0) / c->res;

	if (t < c->b0)
		return 0;
	return i > c->n ? c->n : i;
}

static int64_t
ser_sum(void *arg, int64_t from, int64_t to)
{
	const struct series_ctx *c = arg;

	return c->pre[idx_of(c, to)] - c->pre[idx_of(c, from)];
}

static int64_t
ser_count(void *arg, int64_t b)
{
	return ser_sum(arg, b, b + ((const struct series_ctx *)arg)->res);
}

static int
cmp_kwent(const void *a, const void *b)
{
	const struct kwent *x = a, *y = b;

	return x->bucket < y->bucket ? -1 : x->bucket > y->bucket;
}

static int
cmp_sample(const void *a, const void *b)
{
	const struct agg_sample *x = *(const struct agg_sample *const *)a;
	const struct agg_sample *y = *(const struct agg_sample *const *)b;

	if (x->time_ms != y->time_ms)
		return x->time_ms < y->time_ms ? -1 : 1;
	return 0;
}

/* ---- alerts ----------------------------------------------------------- */

struct held {
	size_t			 topic, block;
	enum spike_action	 act;
	struct spike_eval	 ev;
	char			 id[128];	/* alert id, for the order */
};

static int
cmp_held(const void *a, const void *b)
{
	return strcmp(((const struct held *)a)->id,
	    ((const struct held *)b)->id);
}

struct bt {
	const struct ruleset	*rs;
	struct tcounts		*tc;		/* per topic */
	struct series_ctx	*sc;		/* per topic */
	int64_t			 offset;	/* added to every time shown */
	int			 json;
	struct jsonw		 w;
	size_t			 nalerts;
	/* group_wait: new alerts held for a digest */
	struct held		*held;
	size_t			 nheld, capheld;
	int64_t			 held_since;	/* window end of the first held */
	int64_t			 held_wait;	/* the shortest group_wait held */
	size_t			 ndigests;
};

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

/* Top n (name, count) of entries of kind k (and field f) in [from, to). */
static void
top_of(const struct tcounts *tc, int kind, const char *field, int64_t from,
    int64_t to, size_t n, struct alert_top *out)
{
	struct kwent key, *lo;
	struct { const char *name; int64_t count; } *acc = NULL;
	size_t nacc = 0, cap = 0, i, j, a, b, m;

	memset(out, 0, sizeof *out);
	if (tc->nev == 0)
		return;
	/* first entry at or after from */
	key.bucket = from;
	a = 0;
	b = tc->nev;
	while (a < b) {
		m = a + (b - a) / 2;
		if (cmp_kwent(&tc->ev[m], &key) < 0)
			a = m + 1;
		else
			b = m;
	}
	for (lo = &tc->ev[a]; lo < tc->ev + tc->nev && lo->bucket < to; lo++) {
		const char *name = kind == AGG_KEYWORD ? lo->aux : lo->aux2;

		if (lo->kind != kind || (field != NULL && lo->aux != field))
			continue;
		for (j = 0; j < nacc; j++)
			if (acc[j].name == name)	/* interned */
				break;
		if (j == nacc) {
			acc = xgrow(acc, &cap, nacc + 1, sizeof *acc);
			acc[nacc].name = name;
			acc[nacc++].count = 0;
		}
		acc[j].count += lo->count;
	}
	/* the n largest, by count then name */
	out->names = xcalloc(n + 1, sizeof *out->names);
	out->counts = xcalloc(n + 1, sizeof *out->counts);
	for (i = 0; i < n; i++) {
		size_t best = nacc;

		for (j = 0; j < nacc; j++) {
			if (acc[j].name == NULL)
				continue;
			if (best == nacc || acc[j].count > acc[best].count ||
			    (acc[j].count == acc[best].count &&
			    strcmp(acc[j].name, acc[best].name) < 0))
				best = j;
		}
		if (best == nacc)
			break;
		out->names[i] = xstrdup(acc[best].name);
		out->counts[i] = acc[best].count;
		acc[best].name = NULL;
		out->n++;
	}
	free(acc);
}

static void
evidence(struct bt *bt, const struct rule_topic *t, size_t ti,
    struct alert *al)
{
	const struct tcounts *tc = &bt->tc[ti];
	int64_t from = al->ev.window_start, to = al->ev.window_end;
	struct jsonw w = { NULL, 0, 0 };
	size_t i;

	top_of(tc, AGG_KEYWORD, NULL, from, to, BT_TOP, &al->keywords);
	if (t->ncount_by > 0) {
		al->breakdown = xcalloc(t->ncount_by, sizeof *al->breakdown);
		al->nbreakdown = t->ncount_by;
	}
	for (i = 0; i < t->ncount_by; i++) {
		const char *f = NULL;
		size_t j;

		al->breakdown[i].field = t->count_by[i];
		/* the interned field name, as the entries hold it */
		for (j = 0; j < tc->nev; j++)
			if (tc->ev[j].kind == AGG_BY &&
			    strcmp(tc->ev[j].aux, t->count_by[i]) == 0) {
				f = tc->ev[j].aux;
				break;
			}
		if (f != NULL)
			top_of(tc, AGG_BY, f, from, to, BT_TOP,
			    &al->breakdown[i].top);
	}
	al->samples = xcalloc(BT_SAMPLES, sizeof *al->samples);
	for (i = 0; i < tc->nsamples && al->nsamples < BT_SAMPLES; i++) {
		const struct agg_sample *s = tc->samples[i];

		if (s->bucket < from || s->bucket >= to)
			continue;
		jsonw_reset(&w);
		jsonw_raw(&w, "{\"id\":", 6);
		if (s->id != NULL)
			jsonw_strz(&w, s->id);
		else
			jsonw_rawz(&w, "null");
		jsonw_raw(&w, ",\"text\":", 8);
		jsonw_strz(&w, s->text);
		jsonw_raw(&w, "}", 1);
		al->samples[al->nsamples++] = xstrndup(w.buf, w.len);
	}
	jsonw_free(&w);
}

/* One alert as a line: the daemon's JSON, or text; caller frees. */
static char *
format_alert(struct bt *bt, size_t ti, size_t b, enum spike_action act,
    const struct spike_eval *ev0, const char *digest)
{
	const struct rule_topic *t = &bt->rs->topics[ti];
	const struct rule_alert *a = &t->alerts[b];
	struct spike_eval ev = *ev0;
	struct jsonw w = { NULL, 0, 0 };
	struct alert al;
	char ws[40], we[40], buf[512];
	char *json;
	size_t i;

	ev.window_start += bt->offset;
	ev.window_end += bt->offset;
	memset(&al, 0, sizeof al);
	al.action = act;
	al.topic = t;
	al.block = b;
	al.detected_ms = ev.window_end * 1000;
	if (act != SPIKE_RESOLVE) {
		al.ev = *ev0;		/* evidence: bucket times */
		evidence(bt, t, ti, &al);
	}
	al.ev = ev;
	if (bt->json) {
		json = alert_json(&al);
		alert_clear(&al);
		return json;
	}
	fmt_time(ev.window_start, ws, sizeof ws);
	fmt_time(ev.window_end, we, sizeof we);
	snprintf(buf, sizeof buf, "%s  %-8s %s [%zu] %s %s  window %s .. %s  "
	    "count %" PRId64, we, act == SPIKE_RESOLVE ? "RESOLVED" :
	    act == SPIKE_REPEAT ? "REPEAT" : "FIRING", t->id, b,
	    rules_severity_name(a->severity), act == SPIKE_RESOLVE ? "-" :
	    spike_cond_name(ev.cond), ws + 11, we + 11, ev.count);
	jsonw_rawz(&w, buf);
	if (ev.nbaseline > 0) {
		snprintf(buf, sizeof buf, "  baseline %.2f", ev.baseline_rate);
		jsonw_rawz(&w, buf);
		if (isfinite(ev.ratio)) {
			snprintf(buf, sizeof buf, " (x%.2f)", ev.ratio);
			jsonw_rawz(&w, buf);
		}
		snprintf(buf, sizeof buf, "  z %.2f", ev.zscore);
		jsonw_rawz(&w, buf);
	} else
		jsonw_rawz(&w, "  no baseline");
	if (a->poisson_p > 0) {
		snprintf(buf, sizeof buf, "  p %.3g (bound %" PRId64 ")",
		    ev.pvalue, ev.upper);
		jsonw_rawz(&w, buf);
	}
	for (i = 0; i < al.keywords.n; i++) {
		snprintf(buf, sizeof buf, "%s%s (%" PRId64 ")", i == 0 ?
		    "  top " : ", ", al.keywords.names[i], al.keywords.counts[i]);
		jsonw_rawz(&w, buf);
	}
	if (digest != NULL) {
		snprintf(buf, sizeof buf, "  [%s]", digest);
		jsonw_rawz(&w, buf);
	}
	jsonw_raw(&w, "", 1);	/* NUL */
	alert_clear(&al);
	return w.buf;
}

static void
print_alert(struct bt *bt, size_t ti, size_t b, enum spike_action act,
    const struct spike_eval *ev)
{
	char *line = format_alert(bt, ti, b, act, ev, NULL);

	bt->nalerts++;
	printf("%s\n", line);
	free(line);
}

/* Sends what group_wait held, as one digest (as the daemon does on
 * <prefix>alerts:_digest). */
static void
flush_held(struct bt *bt)
{
	char id[64], *digest, **lines;
	size_t i;

	if (bt->nheld == 0)
		return;
	bt->ndigests++;
	snprintf(id, sizeof id, "digest:%" PRId64 ":%zu",
	    bt->held_since + bt->offset, bt->nheld);
	/* in alert id order, as the daemon sends them */
	for (i = 0; i < bt->nheld; i++)
		snprintf(bt->held[i].id, sizeof bt->held[i].id, "%s:%zu:%" PRId64,
		    bt->rs->topics[bt->held[i].topic].id, bt->held[i].block,
		    bt->held[i].ev.window_end + bt->offset);
	qsort(bt->held, bt->nheld, sizeof *bt->held, cmp_held);
	lines = xcalloc(bt->nheld, sizeof *lines);
	for (i = 0; i < bt->nheld; i++) {
		lines[i] = format_alert(bt, bt->held[i].topic, bt->held[i].block,
		    bt->held[i].act, &bt->held[i].ev, bt->json ? NULL : id);
		bt->nalerts++;
	}
	if (bt->json) {
		digest = alert_digest_json(id, bt->held_since + bt->offset,
		    (const char *const *)lines, bt->nheld);
		printf("%s\n", digest);
		free(digest);
	} else
		for (i = 0; i < bt->nheld; i++)
			printf("%s\n", lines[i]);
	for (i = 0; i < bt->nheld; i++)
		free(lines[i]);
	free(lines);
	bt->nheld = 0;
}

static int
bt_emit(void *arg, size_t i, size_t b, enum spike_action act,
    const struct spike_eval *ev)
{
	struct bt *bt = arg;
	const struct rule_topic *t = &bt->rs->topics[i];
	struct tcounts *tc = &bt->tc[i];

	if (act == SPIKE_FIRE)
		tc->fired++;
	else if (act == SPIKE_REPEAT)
		tc->repeats++;
	else if (act == SPIKE_RESOLVE)
		tc->resolved++;
	if (act == SPIKE_FIRE && t->group_wait_s > 0) {
		struct held *h;

		if (bt->nheld == 0) {
			bt->held_since = ev->window_end;
			bt->held_wait = t->group_wait_s;
		} else if (t->group_wait_s < bt->held_wait)
			bt->held_wait = t->group_wait_s;
		bt->held = xgrow(bt->held, &bt->capheld, bt->nheld + 1,
		    sizeof *bt->held);
		h = &bt->held[bt->nheld++];
		h->topic = i;
		h->block = b;
		h->act = act;
		h->ev = *ev;
		return 0;
	}
	print_alert(bt, i, b, act, ev);
	return 0;
}

/* After each window end: the peaks for the summary, and group_wait. */
static int
bt_tick(void *arg, int64_t T)
{
	struct bt *bt = arg;

	if (bt->nheld > 0 && T >= bt->held_since + bt->held_wait)
		flush_held(bt);
	return 0;
}

/* Steps every topic with alert blocks over [first, last] window ends. */
static void
detect(struct bt *bt, int64_t b0, int64_t nb, int64_t res)
{
	const struct ruleset *rs = bt->rs;
	struct watch_topic *wt, **wtv;
	size_t i, b;

	wt = xcalloc(rs->ntopics + 1, sizeof *wt);
	wtv = xcalloc(rs->ntopics + 1, sizeof *wtv);
	for (i = 0; i < rs->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[i];

		if (t->nalerts == 0 || bt->tc[i].pre == NULL)
			continue;
		wt[i].ser.resolution_s = res;
		wt[i].ser.history_start = b0;
		wt[i].ser.count = ser_count;
		wt[i].ser.sum = ser_sum;
		wt[i].ser.arg = &bt->sc[i];
		wt[i].nblocks = t->nalerts;
		wt[i].st = xcalloc(t->nalerts, sizeof *wt[i].st);
		wt[i].from = xcalloc(t->nalerts, sizeof *wt[i].from);
		for (b = 0; b < t->nalerts; b++)
			wt[i].from[b] = b0 + res;
		wtv[i] = &wt[i];
	}
	(void)watch_step(rs, wtv, b0 + res, b0 + nb * res, res, bt_emit, bt_tick,
	    bt);
	flush_held(bt);		/* the end of the data ends the wait */
	for (i = 0; i < rs->ntopics; i++) {
		size_t k;
		int64_t j, w = 0, c;

		/* the largest count of the topic's first block's window */
		if (wtv[i] != NULL && bt->tc[i].pre != NULL) {
			w = rs->topics[i].alerts[0].window_s / res;
			if (w < 1)
				w = 1;
			for (j = 0; j + w <= nb; j++) {
				c = bt->tc[i].pre[j + w] - bt->tc[i].pre[j];
				if (c > bt->tc[i].peak) {
					bt->tc[i].peak = c;
					bt->tc[i].peak_end = b0 + (j + w) * res;
				}
			}
		}
		for (k = 0; wtv[i] != NULL && k < wt[i].nblocks; k++)
			if (wt[i].st[k].firing && wt[i].st[k].notified &&
			    wt[i].st[k].notified_at >= wt[i].st[k].since)
				bt->tc[i].at_end = 1;
		free(wt[i].st);
		free(wt[i].from);
	}
	free(wt);
	free(wtv);
}

static void
print_summary(struct bt *bt, const struct worker *ws, size_t nw,
    double secs, int64_t res)
{
	const struct ruleset *rs = bt->rs;
	size_t lines = 0, posts = 0, matched = 0, no_time = 0, rej = 0, i, k;
	size_t rejected[DEC__COUNT];
	struct jsonw w = { NULL, 0, 0 };
	char pk[40];

	memset(rejected, 0, sizeof rejected);
	for (i = 0; i < nw; i++) {
		lines += ws[i].lines;
		posts += ws[i].posts;
		matched += ws[i].matched;
		no_time += ws[i].no_time;
		for (k = 0; k < DEC__COUNT; k++) {
			rejected[k] += ws[i].rejected[k];
			rej += ws[i].rejected[k];
		}
	}
	if (bt->json) {
		jsonw_raw(&w, "{\"summary\":{\"posts\":", 20);
		jsonw_int(&w, (int64_t)posts);
		jsonw_rawz(&w, ",\"matched\":");
		jsonw_int(&w, (int64_t)matched);
		jsonw_rawz(&w, ",\"rejected\":");
		jsonw_int(&w, (int64_t)rej);
		jsonw_rawz(&w, ",\"no_time\":");
		jsonw_int(&w, (int64_t)no_time);
		jsonw_rawz(&w, ",\"alerts\":");
		jsonw_int(&w, (int64_t)bt->nalerts);
		jsonw_rawz(&w, ",\"digests\":");
		jsonw_int(&w, (int64_t)bt->ndigests);
		jsonw_rawz(&w, ",\"topics\":[");
	} else
		printf("\n%-24s %10s %10s %-20s %6s %7s %8s  %s\n", "topic",
		    "posts", "peak", "peak window end", "fired", "repeats",
		    "resolved", "at end");
	for (i = 0, k = 0; i < rs->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[i];
		const struct tcounts *tc = &bt->tc[i];
		int at_end = tc->at_end;
		int64_t np = tc->posts;

		if (bt->json) {
			if (k++ > 0)
				jsonw_raw(&w, ",", 1);
			jsonw_raw(&w, "{\"id\":", 6);
			jsonw_strz(&w, t->id);
			jsonw_rawz(&w, ",\"posts\":");
			jsonw_int(&w, np);
			jsonw_rawz(&w, ",\"peak\":");
			jsonw_int(&w, tc->peak);
			jsonw_rawz(&w, ",\"fired\":");
			jsonw_int(&w, (int64_t)tc->fired);
			jsonw_rawz(&w, ",\"repeats\":");
			jsonw_int(&w, (int64_t)tc->repeats);
			jsonw_rawz(&w, ",\"resolved\":");
			jsonw_int(&w, (int64_t)tc->resolved);
			jsonw_rawz(&w, at_end ? ",\"firing_at_end\":true}" :
			    ",\"firing_at_end\":false}");
			continue;
		}
		if (tc->peak > 0)
			fmt_time(tc->peak_end + bt->offset, pk, sizeof pk);
		else
			snprintf(pk, sizeof pk, "-");
		printf("%-24s %10" PRId64 " %10" PRId64 " %-20s %6zu %7zu %8zu  %s\n",
		    t->id, np, tc->peak, pk, tc->fired, tc->repeats, tc->resolved,
		    t->nalerts == 0 ? "(no alert)" : at_end ? "firing" : "-");
	}
	if (bt->json) {
		jsonw_rawz(&w, "]}}\n");
		fwrite(w.buf, 1, w.len, stdout);
		jsonw_free(&w);
	} else
		printf("%zu alerts, %zu digests\n", bt->nalerts, bt->ndigests);
	fflush(stdout);

	fprintf(stderr, "backtest: %zu lines, %zu posts counted, %zu matched, "
	    "%zu rejected, %zu without a time", lines, posts, matched, rej,
	    no_time);
	for (k = 0; k < DEC__COUNT; k++)
		if (rejected[k] > 0)
			fprintf(stderr, ", %s %zu", decoder_result_name(k),
			    rejected[k]);
	fprintf(stderr, "; resolution %" PRId64 "s; %.3f s, %.0f posts/s\n",
	    res, secs, secs > 0 ? (double)lines / secs : 0.0);
}

/* ---- posts mode ------------------------------------------------------- */

struct bt_args {
	char		**rpaths;
	size_t		  nr;
	const char	 *cfgpath;
	int		  json, timing, threads;
	const char	 *series, *alert, *resolution;
	const char	 *file;
};

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
	struct bt bt;
	const struct ruleset *rs;
	const struct agg_entry *e;
	const struct agg_sample *sm;
	size_t nw, i, j, ne, nsm, ntopic_cells = 0;
	int64_t res, bmin = INT64_MAX, bmax = INT64_MIN, nb;
	double t_start, t_counted, t_end;
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
	{
		size_t off = 0, line = 1;

		for (i = 0; i < nw; i++) {
			size_t end = i + 1 == nw ? in.len :
			    in.len / nw * (i + 1);
			const char *nl;

			if (end < off)
				end = off;
			if (end < in.len && (nl = memchr(in.buf + end, '\n',
			    in.len - end)) != NULL)
				end = (size_t)(nl - in.buf) + 1;
			else
				end = in.len;
			ws[i].buf = in.buf + off;
			ws[i].len = end - off;
			ws[i].first_line = line;
			for (j = off; j < end; ) {	/* count lines for numbering */
				const char *q = memchr(in.buf + j, '\n', end - j);

				if (q == NULL)
					break;
				line++;
				j = (size_t)(q - in.buf) + 1;
			}
			off = end;
			ws[i].agg = agg_new(res, (size_t)cfg.samples);
			popts.agg = ws[i].agg;
			popts.timing = ba->timing ? &ws[i].timing : NULL;
			ws[i].pl = pipeline_new(&popts, NULL, 0);
		}
	}
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
	t_counted = now_s();
	for (i = 0; i < nw; i++) {
		for (j = 0; j < ws[i].nerrs; j++) {
			fprintf(stderr, "%s:%zu: %s\n", ba->file, ws[i].errs[j].line,
			    ws[i].errs[j].msg);
			free(ws[i].errs[j].msg);
		}
	}

	/* counts per topic and bucket, prefix sums; evidence sorted by time */
	memset(&bt, 0, sizeof bt);
	bt.rs = rs;
	bt.json = ba->json;
	bt.tc = xcalloc(rs->ntopics + 1, sizeof *bt.tc);
	bt.sc = xcalloc(rs->ntopics + 1, sizeof *bt.sc);
	e = agg_entries(ws[0].agg, &ne);
	for (i = 0; i < ne; i++) {
		if (e[i].kind != AGG_COUNT)
			continue;
		if (e[i].bucket < bmin)
			bmin = e[i].bucket;
		if (e[i].bucket > bmax)
			bmax = e[i].bucket;
	}
	nb = bmin <= bmax ? (bmax - bmin) / res + 1 : 0;
	for (i = 0; i < rs->ntopics; i++)
		if (rs->topics[i].nalerts > 0)
			ntopic_cells++;
	if (nb > 0 && ntopic_cells > 0 &&
	    nb > BT_MAX_CELLS / (int64_t)ntopic_cells) {
		fprintf(stderr, "tidewatch backtest: the posts span %" PRId64
		    " buckets of %" PRId64 "s: too long for %zu topics with "
		    "alerts (set a coarser counters.resolution with -c)\n", nb,
		    res, ntopic_cells);
		rc = 1;
		goto out;
	}
	{
		/* topic ids are interned in the aggregate: one pointer per
		 * topic, looked up by name once */
		const char *last = NULL;
		size_t ti = rs->ntopics;

		for (i = 0; i < ne; i++) {
			const struct agg_entry *x = &e[i];

			if (x->kind != AGG_COUNT && x->kind != AGG_KEYWORD &&
			    x->kind != AGG_BY)
				continue;
			if (x->topic != last) {
				last = x->topic;
				for (ti = 0; ti < rs->ntopics; ti++)
					if (strcmp(rs->topics[ti].id, x->topic) == 0)
						break;
			}
			if (ti == rs->ntopics)
				continue;
			if (x->kind == AGG_COUNT) {
				struct tcounts *tc = &bt.tc[ti];

				tc->posts += x->count;
				if (rs->topics[ti].nalerts == 0)
					continue;
				if (tc->pre == NULL)
					tc->pre = xcalloc((size_t)nb + 1,
					    sizeof *tc->pre);
				tc->pre[(x->bucket - bmin) / res + 1] += x->count;
			} else {
				struct tcounts *tc = &bt.tc[ti];

				tc->ev = xgrow(tc->ev, &tc->capev, tc->nev + 1,
				    sizeof *tc->ev);
				tc->ev[tc->nev].bucket = x->bucket;
				tc->ev[tc->nev].aux = x->aux;
				tc->ev[tc->nev].aux2 = x->aux2;
				tc->ev[tc->nev].count = x->count;
				tc->ev[tc->nev++].kind = (int)x->kind;
			}
		}
		sm = agg_samples(ws[0].agg, &nsm);
		last = NULL;
		for (i = 0; i < nsm; i++) {
			if (sm[i].topic != last) {
				last = sm[i].topic;
				for (ti = 0; ti < rs->ntopics; ti++)
					if (strcmp(rs->topics[ti].id, last) == 0)
						break;
			}
			if (ti == rs->ntopics)
				continue;
			bt.tc[ti].samples = xgrow(bt.tc[ti].samples,
			    &bt.tc[ti].capsamples, bt.tc[ti].nsamples + 1,
			    sizeof *bt.tc[ti].samples);
			bt.tc[ti].samples[bt.tc[ti].nsamples++] = &sm[i];
		}
		for (i = 0; i < rs->ntopics; i++) {
			struct tcounts *tc = &bt.tc[i];
			int64_t k;

			if (tc->pre != NULL)
				for (k = 1; k <= nb; k++)
					tc->pre[k] += tc->pre[k - 1];
			if (tc->nev > 0)
				qsort(tc->ev, tc->nev, sizeof *tc->ev, cmp_kwent);
			if (tc->nsamples > 0)
				qsort(tc->samples, tc->nsamples,
				    sizeof *tc->samples, cmp_sample);
			bt.sc[i].b0 = bmin;
			bt.sc[i].res = res;
			bt.sc[i].n = nb;
			bt.sc[i].pre = tc->pre;
		}
	}
	if (nb > 0)
		detect(&bt, bmin, nb, res);
	t_end = now_s();
	print_summary(&bt, ws, nw, t_end - t_start, res);
	if (ba->timing) {
		double d = 0, mt = 0, ag = 0;

		for (i = 0; i < nw; i++) {
			d += ws[i].timing.decode;
			mt += ws[i].timing.match;
			ag += ws[i].timing.count;
		}
		fprintf(stderr, "backtest: %zu thread%s; counting %.3f s "
		    "(thread time: decode %.3f s, normalise+match %.3f s, "
		    "aggregate %.3f s), merge+detect+output %.3f s\n", nw,
		    nw == 1 ? "" : "s", t_counted - t_start, d, mt, ag,
		    t_end - t_counted);
	}
out:
	for (i = 0; i < rs->ntopics; i++) {
		free(bt.tc[i].pre);
		free(bt.tc[i].ev);
		free(bt.tc[i].samples);
	}
	free(bt.tc);
	free(bt.sc);
	free(bt.held);
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

static int
run_series(const struct bt_args *ba)
{
	struct input in;
	struct rules_opts ro;
	struct rule_alert block;
	struct rule_topic topic;
	struct ruleset rs;
	struct diag errs;
	struct bt bt;
	struct worker w;
	const char *p, *end, *nl, *comma, *base;
	int64_t *times = NULL, *vals = NULL, res = 0, t0, *pre, ms, off;
	size_t n = 0, cap = 0, capv = 0, line = 0, i, order0 = 0;
	double t_start = now_s();
	int rc = 0;

	if (input_open(ba->series, &in) == -1) {
		fprintf(stderr, "tidewatch backtest: %s: %s\n", ba->series,
		    strerror(errno));
		return 1;
	}
	for (p = in.buf, end = in.buf + in.len; p < end; p = nl + 1) {
		char tmp[64];
		size_t len;
		double v;
		char *ep;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line++;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		comma = memchr(p, ',', len);
		if (comma == NULL || decoder_parse_time(p, (size_t)(comma - p),
		    &ms) == -1) {
			if (n == 0 && line == 1)
				continue;	/* the header */
			fprintf(stderr, "%s:%zu: expected timestamp,value\n",
			    ba->series, line);
			rc = 1;
			goto out;
		}
		if ((size_t)(p + len - comma - 1) >= sizeof tmp) {
			fprintf(stderr, "%s:%zu: value too long\n", ba->series,
			    line);
			rc = 1;
			goto out;
		}
		memcpy(tmp, comma + 1, (size_t)(p + len - comma - 1));
		tmp[p + len - comma - 1] = '\0';
		v = strtod(tmp, &ep);
		if (ep == tmp || *ep != '\0' || !isfinite(v) || v < 0 || v > 1e15) {
			fprintf(stderr, "%s:%zu: value: expected a count, got "
			    "'%s'\n", ba->series, line, tmp);
			rc = 1;
			goto out;
		}
		times = xgrow(times, &cap, n + 1, sizeof *times);
		vals = xgrow(vals, &capv, n + 1, sizeof *vals);
		times[n] = ms / 1000;
		vals[n++] = (int64_t)llround(v);
	}
	if (n < 2) {
		fprintf(stderr, "%s: a series needs at least two rows\n",
		    ba->series);
		rc = 1;
		goto out;
	}
	if (ba->resolution != NULL) {
		if (rules_parse_duration(ba->resolution, &res) == -1) {
			fprintf(stderr, "tidewatch backtest: --resolution: "
			    "expected a duration like 5m, got '%s'\n",
			    ba->resolution);
			rc = 1;
			goto out;
		}
	} else
		res = times[1] - times[0];
	for (i = 1; i < n && res > 0; i++)
		if (times[i] <= times[i - 1] || (times[i] - times[0]) % res != 0)
			break;
	if (res <= 0 || i < n) {
		fprintf(stderr, "%s:%zu: rows must be in time order, %" PRId64
		    " s apart (or multiples of it)\n", ba->series,
		    i < n ? i + 2 : (size_t)2, res);
		rc = 1;
		goto out;
	}

	diag_init(&errs);
	memset(&ro, 0, sizeof ro);
	ro.resolution_s = res;
	if (rules_parse_alert("--alert", ba->alert, strlen(ba->alert), &ro,
	    &block, &errs) == -1) {
		cmd_print_diag(&errs);
		diag_free(&errs);
		rc = 1;
		goto out;
	}
	diag_free(&errs);

	/* buckets start at multiples of res once shifted by off */
	t0 = times[0];
	off = ((t0 % res) + res) % res;
	memset(&topic, 0, sizeof topic);
	base = strrchr(ba->series, '/');
	base = base != NULL ? base + 1 : ba->series;
	topic.id = (char *)"series";
	topic.name = (char *)base;
	topic.alerts = &block;
	topic.nalerts = 1;
	topic.file = ba->series;
	memset(&rs, 0, sizeof rs);
	rs.topics = &topic;
	rs.ntopics = 1;
	rs.order = &order0;

	memset(&bt, 0, sizeof bt);
	bt.rs = &rs;
	bt.json = ba->json;
	bt.offset = off;
	bt.tc = xcalloc(1, sizeof *bt.tc);
	bt.sc = xcalloc(1, sizeof *bt.sc);
	{
		int64_t nb = (times[n - 1] - t0) / res + 1;

		pre = xcalloc((size_t)nb + 1, sizeof *pre);
		for (i = 0; i < n; i++) {
			pre[(times[i] - t0) / res + 1] += vals[i];
			bt.tc[0].posts += vals[i];
		}
		for (i = 1; i <= (size_t)nb; i++)
			pre[i] += pre[i - 1];
		bt.tc[0].pre = pre;
		bt.sc[0].b0 = t0 - off;
		bt.sc[0].res = res;
		bt.sc[0].n = nb;
		bt.sc[0].pre = pre;
		detect(&bt, t0 - off, nb, res);
	}
	memset(&w, 0, sizeof w);
	w.lines = n;
	w.posts = (size_t)bt.tc[0].posts;
	print_summary(&bt, &w, 1, now_s() - t_start, res);
	free(pre);
	free(bt.tc);
	free(bt.sc);
	free(bt.held);
out:
	free(times);
	free(vals);
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
	while ((ch = getopt_long(argc, argv, "r:c:jt:Ts:a:R:h", longopts,
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
