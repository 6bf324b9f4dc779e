/*
 * cmd_check.c — `tidewatch check [-c FILE] [-s key=value]… [--corpus FILE]
 * [RULES…]`.
 *
 * Validates the config (when given, with the -s overrides `run` would
 * take; kafka.properties through librdkafka as the consumers set them,
 * consumer.h) and the rule set, prints the matcher's
 * warnings (keywords that fold into something else, each as
 * "path:line:col: warning: …") and runs every test embedded in the rule
 * files.  Prints "N topics, M keywords, K tests passed" (", W warnings"
 * when there are some) on success; otherwise every error and every failed
 * test, each as "path:line:col: message", and exits 1.  Warnings alone
 * leave the exit status 0.
 *
 * With --corpus, every line of a sample corpus goes through the daemon's
 * pipeline (pipeline.c in PIPELINE_MATCH mode, as `tidewatch match` runs
 * it) and the report gives each positive keyword's hit rate: the share of
 * posts in which it is among the keywords its topic matched with.  A
 * keyword is flagged when it hits far more posts than its topic's other
 * keywords: at least FAR_FACTOR times the median of their hits (a median
 * below one post counts as one) and at least FAR_MIN_SHARE of the posts.
 * The report is a table sorted by hit rate, or JSON lines with --json.
 * Single-threaded.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "consumer.h"
#include "jsonw.h"
#include "pipeline.h"
#include "ruletest.h"
#include "xmalloc.h"

#define FAR_FACTOR	10	/* × the median of the topic's other keywords */
#define FAR_MIN_SHARE	0.01	/* of the corpus's posts */

struct check_opts {
	const char	*cfgpath;
	char	       **sets;		/* -s key=value, as run takes them */
	size_t		 nsets;
	const char	*corpus;	/* --corpus FILE, "-" for stdin */
	const char	*field;		/* --field NAME */
	int		 text_lines;	/* --text */
	int		 json;		/* --json */
};

/* One positive keyword's line in the corpus report. */
struct kw_rate {
	uint32_t	topic;
	uint32_t	kw;
	uint64_t	hits;
	double		others;		/* median hits of the topic's other
					 * positive keywords; < 0: none */
	bool		flagged;
};

struct corpus_report {
	struct kw_rate	*rates;
	size_t		 nrates;
	size_t		*first;		/* per topic: its first entry in rates */
	uint64_t	 posts;		/* matched without error */
	uint64_t	 unread;	/* lines refused (not decoded, not UTF-8) */
};

static void
check_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch check [-c CONFIG] [-s key=value]...\n"
	    "                       [--corpus FILE [--text] [--field NAME] [--json]]\n"
	    "                       [RULES...]\n"
	    "  Validates the config (with -s overrides, as run takes them;\n"
	    "  kafka.properties through librdkafka) and rule files (files or\n"
	    "  directories),\n"
	    "  warns about keywords that fold into something else (C++ folds\n"
	    "  to c) and runs the tests embedded in the rules.  Without RULES,\n"
	    "  the config's rules.paths are checked.  Exits 1 on an error or a\n"
	    "  failed test; warnings alone exit 0.\n"
	    "  --corpus FILE  matches a sample corpus (JSON lines as 'match'\n"
	    "                 reads them, or plain lines with --text; --field\n"
	    "                 NAME names the text member) and prints each\n"
	    "                 keyword's hit rate, flagging with '*' a keyword\n"
	    "                 that hits >= %dx the median of its topic's other\n"
	    "                 keywords and >= %g%% of the posts.\n"
	    "  --json         the corpus report as JSON lines.\n",
	    FAR_FACTOR, FAR_MIN_SHARE * 100);
}

/* Entries for every positive keyword of every topic, in rule order. */
static void
report_init(struct corpus_report *r, const struct ruleset *rs)
{
	size_t ti, ki, cap = 0;

	memset(r, 0, sizeof *r);
	r->first = xcalloc(rs->ntopics + 1, sizeof *r->first);
	for (ti = 0; ti < rs->ntopics; ti++) {
		const struct rule_topic *t = &rs->topics[ti];

		r->first[ti] = r->nrates;
		for (ki = 0; ki < t->nkws; ki++) {
			if (t->kws[ki].role == KW_NONE)
				continue;
			r->rates = xgrow(r->rates, &cap, r->nrates + 1,
			    sizeof *r->rates);
			memset(&r->rates[r->nrates], 0, sizeof *r->rates);
			r->rates[r->nrates].topic = (uint32_t)ti;
			r->rates[r->nrates].kw = (uint32_t)ki;
			r->nrates++;
		}
	}
	r->first[rs->ntopics] = r->nrates;
}

/* Counts one matched post: each keyword its topics matched with. */
static void
report_count(struct corpus_report *r, const struct match_result *res)
{
	size_t i, j, e;

	r->posts++;
	for (i = 0; i < res->ntopics; i++) {
		const struct match_topic *mt = &res->topics[i];

		e = r->first[mt->topic];
		for (j = 0; j < mt->nkws; j++) {
			while (e < r->first[mt->topic + 1] &&
			    r->rates[e].kw < mt->kws[j])
				e++;
			if (e < r->first[mt->topic + 1] &&
			    r->rates[e].kw == mt->kws[j])
				r->rates[e].hits++;
		}
	}
}

/* Runs every line of in through a PIPELINE_MATCH pipeline into r.
 * Returns 0, or -1 with the reason on stderr. */
static int
report_read(struct corpus_report *r, const struct check_opts *o,
    const struct config *cfg, const struct matcher *m, FILE *in)
{
	struct pipeline_opts po;
	struct pipeline_result res;
	struct pipeline *pl;
	char *line = NULL;
	size_t linecap = 0;
	ssize_t len;
	int rc = 0;

	memset(&po, 0, sizeof po);
	po.mode = PIPELINE_MATCH;
	po.cfg = cfg;
	po.m = m;
	po.text_field = o->field;
	po.text_lines = o->text_lines;
	pl = pipeline_new(&po, NULL, 0);	/* matching takes any config */
	while ((len = getline(&line, &linecap, in)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (pipeline_process(pl, line, (size_t)len, -1, -1, &res) ==
		    PIPELINE_OK)
			report_count(r, &res.match);
		else
			r->unread++;
	}
	if (ferror(in)) {
		perror("tidewatch check: read corpus");
		rc = -1;
	}
	free(line);
	pipeline_free(pl);
	return rc;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of sorted v[0..n) without the element at index skip. */
static double
median_without(const uint64_t *v, size_t n, size_t skip)
{
	size_t m = n - 1, a, b;

	a = (m - 1) / 2;
	b = m / 2;
	a += a >= skip;
	b += b >= skip;
	return ((double)v[a] + (double)v[b]) / 2;
}

/* Each keyword's median of its topic's others, and the flags. */
static void
report_flag(struct corpus_report *r, size_t ntopics)
{
	uint64_t *sorted = NULL;
	size_t cap = 0, ti, i, k, n;
	double floor;

	for (ti = 0; ti < ntopics; ti++) {
		struct kw_rate *kr = r->rates + r->first[ti];

		n = r->first[ti + 1] - r->first[ti];
		sorted = xgrow(sorted, &cap, n + 1, sizeof *sorted);
		for (i = 0; i < n; i++)
			sorted[i] = kr[i].hits;
		qsort(sorted, n, sizeof *sorted, u64_cmp);
		for (i = 0; i < n; i++) {
			kr[i].others = -1;
			if (n < 2)
				continue;
			for (k = 0; sorted[k] != kr[i].hits; k++)
				;
			kr[i].others = median_without(sorted, n, k);
			floor = kr[i].others < 1 ? 1 : kr[i].others;
			kr[i].flagged = (double)kr[i].hits >=
			    FAR_FACTOR * floor && (double)kr[i].hits >=
			    FAR_MIN_SHARE * (double)r->posts;
		}
	}
	free(sorted);
}

/* Highest hits first; rule order among equals. */
static int
kw_rate_cmp(const void *a, const void *b)
{
	const struct kw_rate *x = a, *y = b;

	if (x->hits != y->hits)
		return x->hits > y->hits ? -1 : 1;
	if (x->topic != y->topic)
		return x->topic < y->topic ? -1 : 1;
	return x->kw < y->kw ? -1 : x->kw > y->kw;
}

static double
share(uint64_t n, uint64_t of)
{
	return of == 0 ? 0 : (double)n / (double)of;
}

static void
report_print_table(const struct corpus_report *r, const struct ruleset *rs,
    const char *name)
{
	size_t i, nflagged = 0;

	printf("corpus %s: %llu posts", name, (unsigned long long)r->posts);
	if (r->unread > 0)
		printf(", %llu line%s not read", (unsigned long long)r->unread,
		    r->unread == 1 ? "" : "s");
	printf("\n      hits    rate  others  topic  keyword  (where)\n");
	for (i = 0; i < r->nrates; i++) {
		const struct kw_rate *kr = &r->rates[i];
		const struct rule_topic *t = &rs->topics[kr->topic];
		const struct rule_kw *kw = &t->kws[kr->kw];
		char others[16];

		if (kr->others < 0)
			snprintf(others, sizeof others, "%7s", "-");
		else
			snprintf(others, sizeof others, "%6.2f%%", r->posts == 0 ?
			    0 : 100 * kr->others / (double)r->posts);
		nflagged += kr->flagged;
		printf("%c %8llu %6.2f%% %s  %s  %s  (%s:%d:%d)\n",
		    kr->flagged ? '*' : ' ', (unsigned long long)kr->hits,
		    100 * share(kr->hits, r->posts), others, t->id,
		    kw->display, t->file != NULL ? t->file : "-", kw->line,
		    kw->col);
	}
	printf("%zu keyword%s flagged (*: hits >= %dx the median of its "
	    "topic's other keywords, and >= %g%% of the posts)\n", nflagged,
	    nflagged == 1 ? "" : "s", FAR_FACTOR, FAR_MIN_SHARE * 100);
}

static void
report_print_json(const struct corpus_report *r, const struct ruleset *rs)
{
	struct jsonw w = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < r->nrates; i++) {
		const struct kw_rate *kr = &r->rates[i];
		const struct rule_topic *t = &rs->topics[kr->topic];
		const struct rule_kw *kw = &t->kws[kr->kw];

		jsonw_reset(&w);
		jsonw_rawz(&w, "{\"topic\":");
		jsonw_strz(&w, t->id);
		jsonw_rawz(&w, ",\"keyword\":");
		jsonw_strz(&w, kw->display);
		jsonw_rawz(&w, ",\"file\":");
		jsonw_strz(&w, t->file != NULL ? t->file : "-");
		jsonw_rawz(&w, ",\"line\":");
		jsonw_int(&w, kw->line);
		jsonw_rawz(&w, ",\"col\":");
		jsonw_int(&w, kw->col);
		jsonw_rawz(&w, ",\"posts\":");
		jsonw_int(&w, (int64_t)r->posts);
		jsonw_rawz(&w, ",\"hits\":");
		jsonw_int(&w, (int64_t)kr->hits);
		jsonw_rawz(&w, ",\"rate\":");
		jsonw_double(&w, share(kr->hits, r->posts));
		jsonw_rawz(&w, ",\"others_median_rate\":");
		if (kr->others < 0)
			jsonw_rawz(&w, "null");
		else
			jsonw_double(&w, r->posts == 0 ? 0 :
			    kr->others / (double)r->posts);
		jsonw_rawz(&w, kr->flagged ? ",\"flagged\":true}\n" :
		    ",\"flagged\":false}\n");
		fwrite(w.buf, 1, w.len, stdout);
	}
	jsonw_free(&w);
}

/* The --corpus report.  Returns 0, or -1 when the corpus cannot be read. */
static int
check_corpus(const struct check_opts *o, const struct config *cfg,
    const struct matcher *m)
{
	const struct ruleset *rs = match_ruleset(m);
	struct corpus_report r;
	FILE *in = stdin;
	int rc;

	if (strcmp(o->corpus, "-") != 0 &&
	    (in = fopen(o->corpus, "rb")) == NULL) {
		perror(o->corpus);
		return -1;
	}
	report_init(&r, rs);
	rc = report_read(&r, o, cfg, m, in);
	if (in != stdin)
		fclose(in);
	if (rc == 0) {
		report_flag(&r, rs->ntopics);
		qsort(r.rates, r.nrates, sizeof *r.rates, kw_rate_cmp);
		if (o->json)
			report_print_json(&r, rs);
		else
			report_print_table(&r, rs, o->corpus);
	}
	free(r.rates);
	free(r.first);
	return rc;
}

/* Options into o.  Returns -1 to go on, or the exit status. */
static int
check_parse(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "corpus", required_argument, NULL, 'C' },
		{ "field", required_argument, NULL, 'f' },
		{ "text", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t setcap = 0;
	int ch;

	memset(o, 0, sizeof *o);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->cfgpath = optarg;
			break;
		case 's':
			o->sets = xgrow(o->sets, &setcap, o->nsets + 1,
			    sizeof *o->sets);
			o->sets[o->nsets++] = optarg;
			break;
		case 'C':
			o->corpus = optarg;
			break;
		case 'f':
			o->field = optarg;
			break;
		case 't':
			o->text_lines = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	if (o->corpus == NULL && (o->field != NULL || o->text_lines ||
	    o->json)) {
		fprintf(stderr, "tidewatch check: --field, --text and --json "
		    "go with --corpus\n");
		check_usage(stderr);
		return 2;
	}
	if (o->cfgpath == NULL && optind == argc) {
		if (access(CONFIG_DEFAULT_PATH, R_OK) == 0)
			o->cfgpath = CONFIG_DEFAULT_PATH;
		else {
			fprintf(stderr, "tidewatch check: no rules given and no "
			    "%s to read them from\n", CONFIG_DEFAULT_PATH);
			check_usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* The config file (or the defaults) with the -s overrides; when either
 * was given, the Kafka settings as librdkafka will take them.  Returns 0,
 * or -1 with every error in errs (cfg must be freed either way). */
static int
check_config(const struct check_opts *o, struct config *cfg,
    struct diag *errs)
{
	size_t i, before = errs->n;

	if (o->cfgpath != NULL) {
		if (config_load_sets(o->cfgpath, o->sets, o->nsets, cfg,
		    errs) == -1)
			return -1;
	} else {
		config_defaults(cfg);
		for (i = 0; i < o->nsets; i++)
			config_set(cfg, o->sets[i], errs);
		if (errs->n > before)
			return -1;
	}
	if (o->cfgpath != NULL || o->nsets > 0)
		return consumer_conf_check(cfg, errs);
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	struct check_opts o;
	struct config cfg;
	struct normalizer *norm;
	struct matcher *m;
	struct diag errs, fails;
	const struct ruleset *rs;
	size_t passed = 0, failed, nwarn;
	FILE *out;
	int rc;

	if ((rc = check_parse(argc, argv, &o)) != -1) {
		free(o.sets);
		return rc;
	}
	diag_init(&errs);
	diag_init(&fails);
	if (check_config(&o, &cfg, &errs) == -1 ||
	    cmd_setup_rules(&cfg, argv + optind, (size_t)(argc - optind),
	    &norm, &m, &errs) == -1) {
		cmd_print_diag(&errs);
		fprintf(stderr, "%zu error%s\n", errs.n, errs.n == 1 ? "" : "s");
		diag_free(&errs);
		config_free(&cfg);
		free(o.sets);
		return 1;
	}
	nwarn = match_warnings(m)->n;
	cmd_print_diag(match_warnings(m));
	failed = ruletest_run(m, &passed, &fails);
	cmd_print_diag(&fails);
	rc = failed ? 1 : 0;
	if (o.corpus != NULL && check_corpus(&o, &cfg, m) == -1)
		rc = 1;
	rs = match_ruleset(m);
	out = o.json ? stderr : stdout;	/* stdout is JSON lines only */
	fprintf(out, "%zu topics, %zu keywords, %zu tests passed",
	    rs->ntopics, rs->nkeywords, passed);
	if (failed > 0)
		fprintf(out, ", %zu failed", failed);
	if (nwarn > 0)
		fprintf(out, ", %zu warning%s", nwarn, nwarn == 1 ? "" : "s");
	fputc('\n', out);
	match_free(m);
	norm_free(norm);
	config_free(&cfg);
	diag_free(&errs);
	diag_free(&fails);
	free(o.sets);
	return rc;
}
