/*
 * nabeval.c — NAB's scorer, and tidewatch's detectors scored on NAB
 * realTweets (the 10 Twitter mention series with labelled anomalies).
 *
 *   nabeval check DATADIR
 *       scores the fixtures in DATADIR/scorer-reference/ (numenta's
 *       anomaly scores on AAPL and PFE) and compares with NAB's published
 *       per-file scores, every profile: prints PASS/FAIL lines.
 *   nabeval eval TIDEWATCH DATADIR CONFIGS
 *       runs `TIDEWATCH backtest --series FILE --alert BLOCK --json` for
 *       every detector configuration of CONFIGS (lines "name<TAB>block";
 *       the first is the default) on every file, scores the firing alerts
 *       as detections, and prints a table configuration × file of
 *       normalised standard scores beside the published detectors' scores
 *       on the same files, for the tuned files (AAPL, AMZN, CRM, CVS, FB)
 *       and the held-out ones (GOOG, IBM, KO, PFE, UPS); then the default's
 *       time to detect and "eval-nab profile=P tuned=X heldout=Y" lines.
 * DATADIR is ../shared/data/nab-realtweets; when it is absent both print
 * a SKIP line and exit 0.
 *
 * The scorer follows DATADIR/README.md ("NAB scoring"), i.e. NAB's
 * sweeper.py and scorer.py: a detection is a row whose anomaly score is at
 * least the threshold; rows before the probationary end are ignored; a
 * window [L, R] counts its earliest detection at
 * scaledSigmoid(-(R-i+1)/width) * tpWeight / scaledSigmoid(-1), or
 * -fnWeight if missed; a detection outside every window costs
 * scaledSigmoid(|i - Rp| / (Wp - 1)) * fpWeight after a window (Rp, Wp:
 * the previous window's right edge and width), or -fpWeight before any.
 * Normalised: 100 (S - S_null) / (S_perfect - S_null), S_null = -fnWeight
 * × windows, S_perfect = tpWeight × windows, over the files scored.
 */
#include <sys/stat.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "decoder.h"

#define NFILES		10
#define NPROF		3
#define MAXWIN		16
#define MAXCONF		512
#define NTUNED		5

static const char *const files[NFILES] = {
	"AAPL", "AMZN", "CRM", "CVS", "FB",	/* tuned */
	"GOOG", "IBM", "KO", "PFE", "UPS",	/* held out */
};
static const char *const profiles[NPROF] = {
	"standard", "reward_low_FP_rate", "reward_low_FN_rate"
};
static const char *const short_prof[NPROF] = {
	"standard", "reward_low_FP", "reward_low_FN"
};

struct weights {
	double	tp, fp, fn;
};

struct window {
	long	start, end;		/* rows, inclusive */
};

struct nabfile {
	long		rows, prob;
	long		t0;		/* first timestamp, seconds */
	struct window	win[MAXWIN];
	int		nwin;
	long		points[MAXWIN];	/* labelled anomaly rows */
	int		npoints;
};

static struct weights W[NPROF];
static struct nabfile F[NFILES];

/* ---- the scorer ------------------------------------------------------- */

static double
sigmoid(double x)
{
	return 1 / (1 + exp(-x));
}

static double
scaled_sigmoid(double y)
{
	if (y > 3.0)
		return -1.0;
	return 2 * sigmoid(-5 * y) - 1;
}

/* The score of one file, given which rows are detections. */
static double
score_file(const struct nabfile *f, const unsigned char *det,
    const struct weights *w, long *first_det)
{
	double ws[MAXWIN], fp = 0, s, total = 0;
	long i;
	int k, prev = -1, inwin;

	for (k = 0; k < f->nwin; k++) {
		ws[k] = -w->fn;
		if (first_det != NULL)
			first_det[k] = -1;
	}
	for (i = 0; i < f->rows; i++) {
		/* the window holding i, or the last one ended before it */
		inwin = -1;
		for (k = 0; k < f->nwin; k++) {
			if (i >= f->win[k].start && i <= f->win[k].end)
				inwin = k;
			if (f->win[k].end < i)
				prev = k;
		}
		if (!det[i] || i < f->prob)
			continue;
		if (inwin >= 0) {
			long L = f->win[inwin].start, R = f->win[inwin].end;
			double width = (double)(R - L + 1);

			s = scaled_sigmoid(-(double)(R - i + 1) / width) * w->tp /
			    scaled_sigmoid(-1.0);
			if (s > ws[inwin])
				ws[inwin] = s;
			if (first_det != NULL && first_det[inwin] < 0)
				first_det[inwin] = i;
		} else if (prev < 0)
			fp += -1.0 * w->fp;
		else {
			long Rp = f->win[prev].end;
			double Wp = (double)(f->win[prev].end - f->win[prev].start + 1);

			fp += scaled_sigmoid(fabs((double)(i - Rp)) / (Wp - 1)) *
			    w->fp;
		}
	}
	for (k = 0; k < f->nwin; k++)
		total += ws[k];
	return total + fp;
}

static double
normalise(double S, int nwin, const struct weights *w)
{
	double null = -w->fn * nwin, perfect = w->tp * nwin;

	return 100 * (S - null) / (perfect - null);
}

/* ---- reading ---------------------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		r = fread(buf + n, 1, cap - n - 1, fp);
		n += r;
		if (r == 0)
			break;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static long
parse_ts(const char *s)
{
	int64_t ms;

	if (decoder_parse_time(s, strlen(s), &ms) == -1)
		return -1;
	return (long)(ms / 1000);
}

static int
load_labels(const char *dir)
{
	char path[4096], name[64];
	cJSON *root, *prof, *fl, *f, *wins, *it;
	char *buf;
	int i, k;

	snprintf(path, sizeof path, "%s/realTweets_labels.json", dir);
	if ((buf = slurp(path, NULL)) == NULL) {
		fprintf(stderr, "nabeval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	root = cJSON_Parse(buf);
	free(buf);
	if (root == NULL) {
		fprintf(stderr, "nabeval: %s: not JSON\n", path);
		return -1;
	}
	prof = cJSON_GetObjectItem(root, "profiles");
	for (i = 0; i < NPROF; i++) {
		cJSON *cm = cJSON_GetObjectItem(cJSON_GetObjectItem(prof,
		    profiles[i]), "CostMatrix");

		W[i].tp = cJSON_GetNumberValue(cJSON_GetObjectItem(cm, "tpWeight"));
		W[i].fp = cJSON_GetNumberValue(cJSON_GetObjectItem(cm, "fpWeight"));
		W[i].fn = cJSON_GetNumberValue(cJSON_GetObjectItem(cm, "fnWeight"));
		if (!isfinite(W[i].tp) || !isfinite(W[i].fp) || !isfinite(W[i].fn)) {
			fprintf(stderr, "nabeval: %s: no profile %s\n", path,
			    profiles[i]);
			cJSON_Delete(root);
			return -1;
		}
	}
	fl = cJSON_GetObjectItem(root, "files");
	for (i = 0; i < NFILES; i++) {
		snprintf(name, sizeof name, "Twitter_volume_%s.csv", files[i]);
		if ((f = cJSON_GetObjectItem(fl, name)) == NULL) {
			fprintf(stderr, "nabeval: %s: no file %s\n", path, name);
			cJSON_Delete(root);
			return -1;
		}
		F[i].rows = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(f, "rows"));
		F[i].prob = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(f,
		    "probationary_rows"));
		F[i].t0 = parse_ts(cJSON_GetStringValue(cJSON_GetObjectItem(f,
		    "first_timestamp")));
		wins = cJSON_GetObjectItem(f, "windows");
		k = 0;
		cJSON_ArrayForEach(it, wins) {
			if (k == MAXWIN)
				break;
			F[i].win[k].start = (long)cJSON_GetNumberValue(
			    cJSON_GetObjectItem(it, "start_row"));
			F[i].win[k].end = (long)cJSON_GetNumberValue(
			    cJSON_GetObjectItem(it, "end_row"));
			k++;
		}
		F[i].nwin = k;
		k = 0;
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(f, "anomaly_point_rows")) {
			if (k == MAXWIN)
				break;
			F[i].points[k++] = (long)cJSON_GetNumberValue(it);
		}
		F[i].npoints = k;
	}
	cJSON_Delete(root);
	return 0;
}

/* Published per-file raw scores: pub[detector][profile][file]. */
#define MAXDET	32
static char *det_names[MAXDET];
static double pub[MAXDET][NPROF][NFILES];
static double pub_thr[MAXDET][NPROF][NFILES];
static int ndet;

static int
load_published(const char *dir)
{
	char path[4096], *buf, *line, *save = NULL;
	int d, p, f;

	snprintf(path, sizeof path,
	    "%s/scorer-reference/published_per_file_scores_realTweets.csv", dir);
	if ((buf = slurp(path, NULL)) == NULL) {
		fprintf(stderr, "nabeval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *fld[10], *q = line;
		int n = 0;

		while (n < 10 && (fld[n] = strsep(&q, ",")) != NULL)
			n++;
		if (n < 5 || strcmp(fld[0], "Detector") == 0)
			continue;
		for (p = 0; p < NPROF; p++)
			if (strcmp(fld[1], profiles[p]) == 0)
				break;
		for (f = 0; f < NFILES; f++) {
			char want[64];

			snprintf(want, sizeof want,
			    "realTweets/Twitter_volume_%s.csv", files[f]);
			if (strcmp(fld[2], want) == 0)
				break;
		}
		if (p == NPROF || f == NFILES)
			continue;
		for (d = 0; d < ndet; d++)
			if (strcmp(det_names[d], fld[0]) == 0)
				break;
		if (d == ndet) {
			if (ndet == MAXDET)
				continue;
			det_names[ndet++] = strdup(fld[0]);
		}
		pub[d][p][f] = strtod(fld[4], NULL);
		pub_thr[d][p][f] = strtod(fld[3], NULL);
	}
	free(buf);
	return 0;
}

static int
dir_present(const char *dir)
{
	struct stat sb;
	char path[4096];

	snprintf(path, sizeof path, "%s/realTweets_labels.json", dir);
	return stat(path, &sb) == 0;
}

/* ---- check: the scorer against NAB's own numbers ---------------------- */

static int
check_fixture(const char *dir, int fi, int *pass, int *fail)
{
	const char *name = files[fi];
	char path[4096], *buf, *line, *save = NULL;
	unsigned char *det;
	double *score, colsum[NPROF] = { 0, 0, 0 };
	long row = 0;
	int p, d;

	snprintf(path, sizeof path,
	    "%s/scorer-reference/numenta_Twitter_volume_%s.csv", dir, name);
	if ((buf = slurp(path, NULL)) == NULL) {
		fprintf(stderr, "nabeval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	score = calloc((size_t)F[fi].rows + 1, sizeof *score);
	det = calloc((size_t)F[fi].rows + 1, 1);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *fld[8], *q = line;
		int n = 0;

		while (n < 8 && (fld[n] = strsep(&q, ",")) != NULL)
			n++;
		if (n < 8 || strcmp(fld[0], "timestamp") == 0)
			continue;
		if (row < F[fi].rows)
			score[row] = strtod(fld[2], NULL);
		/* S(t) columns: reward_low_FP, reward_low_FN, standard */
		colsum[1] += strtod(fld[5], NULL);
		colsum[2] += strtod(fld[6], NULL);
		colsum[0] += strtod(fld[7], NULL);
		row++;
	}
	free(buf);
	if (row != F[fi].rows) {
		printf("FAIL nab-scorer: %s has %ld rows, labels say %ld\n", path,
		    row, F[fi].rows);
		(*fail)++;
	}
	for (d = 0; d < ndet; d++)
		if (strcmp(det_names[d], "numenta") == 0)
			break;
	if (d == ndet) {
		printf("FAIL nab-scorer: no published numenta scores\n");
		(*fail)++;
		free(score);
		free(det);
		return 0;
	}
	for (p = 0; p < NPROF; p++) {
		double got, want = pub[d][p][fi];
		long i;

		for (i = 0; i < F[fi].rows; i++)
			det[i] = score[i] >= pub_thr[d][p][fi];
		got = score_file(&F[fi], det, &W[p], NULL);
		if (fabs(got - want) <= 1e-6 && fabs(got - colsum[p]) <= 1e-6) {
			printf("PASS nab-scorer: numenta %s %s = %.6f (published "
			    "%.6f)\n", name, profiles[p], got, want);
			(*pass)++;
		} else {
			printf("FAIL nab-scorer: numenta %s %s = %.6f, published "
			    "%.6f, S(t) column sum %.6f\n", name, profiles[p],
			    got, want, colsum[p]);
			(*fail)++;
		}
	}
	free(score);
	free(det);
	return 0;
}

static int
cmd_check(const char *dir)
{
	int pass = 0, fail = 0, p;
	double S;
	unsigned char *none;
	int f, nwin = 0;

	if (!dir_present(dir)) {
		printf("SKIP nab-scorer: %s is absent\n", dir);
		return 0;
	}
	if (load_labels(dir) == -1 || load_published(dir) == -1)
		return 1;
	if (check_fixture(dir, 0, &pass, &fail) == -1 ||	/* AAPL */
	    check_fixture(dir, 8, &pass, &fail) == -1)		/* PFE */
		return 1;
	/* the null detector: every window missed, nothing else */
	for (p = 0; p < NPROF; p++) {
		S = 0;
		nwin = 0;
		for (f = 0; f < NFILES; f++) {
			none = calloc((size_t)F[f].rows + 1, 1);
			S += score_file(&F[f], none, &W[p], NULL);
			nwin += F[f].nwin;
			free(none);
		}
		if (nwin == 33 && fabs(normalise(S, nwin, &W[p])) < 1e-9) {
			printf("PASS nab-scorer: null detector %s = 0 over %d "
			    "windows\n", profiles[p], nwin);
			pass++;
		} else {
			printf("FAIL nab-scorer: null detector %s = %.6f over %d "
			    "windows\n", profiles[p], normalise(S, nwin, &W[p]),
			    nwin);
			fail++;
		}
	}
	/* the published corpus score of contextOSE on realTweets: 74.5 */
	for (p = 0; p < ndet; p++)
		if (strcmp(det_names[p], "contextOSE") == 0)
			break;
	if (p < ndet) {
		S = 0;
		for (f = 0; f < NFILES; f++)
			S += pub[p][0][f];
		if (fabs(normalise(S, 33, &W[0]) - 74.5) < 0.05) {
			printf("PASS nab-scorer: contextOSE realTweets standard "
			    "= %.1f\n", normalise(S, 33, &W[0]));
			pass++;
		} else {
			printf("FAIL nab-scorer: contextOSE realTweets standard "
			    "= %.2f, expected 74.5\n", normalise(S, 33, &W[0]));
			fail++;
		}
	}
	printf("nab-scorer: %d passed, %d failed\n", pass, fail);
	return fail > 0;
}

/* ---- eval: tidewatch's detectors -------------------------------------- */

struct conf {
	char	*name;
	char	*block;
	double	 raw[NPROF][NFILES];
	long	 first_det[NFILES][MAXWIN];
	int	 nalerts[NFILES];
};

static struct conf C[MAXCONF];
static int nconf;

static int
load_configs(const char *path)
{
	char *buf, *line, *save = NULL, *tab;

	if ((buf = slurp(path, NULL)) == NULL) {
		fprintf(stderr, "nabeval: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((tab = strchr(line, '\t')) == NULL || nconf == MAXCONF) {
			fprintf(stderr, "nabeval: %s: expected name<TAB>block: "
			    "%s\n", path, line);
			free(buf);
			return -1;
		}
		*tab = '\0';
		C[nconf].name = strdup(line);
		C[nconf].block = strdup(tab + 1);
		nconf++;
	}
	free(buf);
	return nconf > 0 ? 0 : -1;
}

/* Runs backtest; marks the rows where an alert fired (or repeated). */
static int
run_detector(const char *tw, const char *dir, int fi, const char *block,
    unsigned char *det, int *nalerts)
{
	char cmd[16384], *line = NULL, *q;
	const char *s;
	size_t cap = 0;
	FILE *fp;
	int rc;

	/* the block goes in single quotes: refuse one that holds any */
	if (strchr(block, '\'') != NULL) {
		fprintf(stderr, "nabeval: a block may not hold a quote: %s\n",
		    block);
		return -1;
	}
	snprintf(cmd, sizeof cmd, "'%s' backtest --json --series "
	    "'%s/Twitter_volume_%s.csv' --alert '%s' 2>&1", tw, dir, files[fi],
	    block);
	if ((fp = popen(cmd, "r")) == NULL)
		return -1;
	*nalerts = 0;
	while (getline(&line, &cap, fp) != -1) {
		cJSON *o = cJSON_Parse(line), *st, *we;
		long t, row;

		if (o == NULL) {
			/* an error of backtest; not its summary line */
			if (strncmp(line, "backtest: ", 10) != 0)
				fputs(line, stderr);
			continue;
		}
		st = cJSON_GetObjectItem(o, "state");
		we = cJSON_GetObjectItem(o, "window_end");
		if ((s = cJSON_GetStringValue(st)) != NULL &&
		    strcmp(s, "firing") == 0 &&
		    (q = cJSON_GetStringValue(we)) != NULL &&
		    (t = parse_ts(q)) >= 0) {
			/* the window [t - 300, t) is the row starting t - 300 */
			row = (t - 300 - F[fi].t0) / 300;
			if (row >= 0 && row < F[fi].rows) {
				det[row] = 1;
				(*nalerts)++;
			}
		}
		cJSON_Delete(o);
	}
	free(line);
	rc = pclose(fp);
	if (rc != 0) {
		fprintf(stderr, "nabeval: %s: exit status %d\n", cmd, rc);
		return -1;
	}
	return 0;
}

static int verbose;

/* One line per file: detections inside windows and outside. */
static void
explain(int c, int f, const unsigned char *det)
{
	long i;
	int k, in, fps = 0;

	printf("%s %s:", C[c].name, files[f]);
	for (k = 0; k < F[f].nwin; k++) {
		long d = C[c].first_det[f][k];

		printf(" win%d[%ld..%ld]=%s", k, F[f].win[k].start,
		    F[f].win[k].end, d < 0 ? "missed" : "");
		if (d >= 0)
			printf("+%ld", d - F[f].win[k].start);
	}
	printf(" fp:");
	for (i = F[f].prob; i < F[f].rows; i++) {
		if (!det[i])
			continue;
		for (in = 0, k = 0; k < F[f].nwin; k++)
			if (i >= F[f].win[k].start && i <= F[f].win[k].end)
				in = 1;
		if (!in) {
			fps++;
			printf(" %ld", i);
		}
	}
	printf(" (%d)\n", fps);
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static double
median(long *v, int n)
{
	if (n == 0)
		return NAN;
	qsort(v, (size_t)n, sizeof *v, cmp_long);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Normalised score of raw[] over files [from, to). */
static double
subset(const double *raw, int from, int to, const struct weights *w)
{
	double S = 0;
	int f, n = 0;

	for (f = from; f < to; f++) {
		S += raw[f];
		n += F[f].nwin;
	}
	return normalise(S, n, w);
}

static void
print_row(const char *name, double raw[NPROF][NFILES])
{
	int f;

	printf("%-26s", name);
	for (f = 0; f < NFILES; f++) {
		printf(" %6.1f", normalise(raw[0][f], F[f].nwin, &W[0]));
		if (f == NTUNED - 1)
			printf(" |");
	}
	printf(" | %6.1f %6.1f\n", subset(raw[0], 0, NTUNED, &W[0]),
	    subset(raw[0], NTUNED, NFILES, &W[0]));
}

static int
cmd_eval(const char *tw, const char *dir, const char *configs)
{
	unsigned char *det;
	long ttd[NFILES * MAXWIN], ttp[NFILES * MAXWIN];
	int c, f, p, k, n, np, caught[2] = { 0, 0 }, total[2] = { 0, 0 };
	double order[MAXDET];
	int idx[MAXDET], i, j;

	if (!dir_present(dir)) {
		printf("SKIP eval-nab: %s is absent\n", dir);
		return 0;
	}
	if (load_labels(dir) == -1 || load_published(dir) == -1 ||
	    load_configs(configs) == -1)
		return 1;
	for (c = 0; c < nconf; c++) {
		for (f = 0; f < NFILES; f++) {
			det = calloc((size_t)F[f].rows + 1, 1);
			if (run_detector(tw, dir, f, C[c].block, det,
			    &C[c].nalerts[f]) == -1) {
				free(det);
				return 1;
			}
			for (p = 0; p < NPROF; p++)
				C[c].raw[p][f] = score_file(&F[f], det, &W[p],
				    p == 0 ? C[c].first_det[f] : NULL);
			if (verbose)
				explain(c, f, det);
			free(det);
		}
	}

	printf("NAB realTweets, normalised score (standard profile) per file; "
	    "defaults chosen on the first five\n");
	printf("%-26s", "detector");
	for (f = 0; f < NFILES; f++) {
		printf(" %6s", files[f]);
		if (f == NTUNED - 1)
			printf(" |");
	}
	printf(" | %6s %6s\n", "tuned", "heldout");
	for (c = 0; c < nconf; c++) {
		char nm[64];

		snprintf(nm, sizeof nm, "%s%s", c == 0 ? "* " : "  ", C[c].name);
		print_row(nm, C[c].raw);
	}
	printf("published (NAB thresholds tuned on the whole corpus):\n");
	for (i = 0; i < ndet; i++) {
		idx[i] = i;
		order[i] = subset(pub[i][0], 0, NFILES, &W[0]);
	}
	for (i = 1; i < ndet; i++)	/* best first */
		for (j = i; j > 0 && order[idx[j]] > order[idx[j - 1]]; j--) {
			int t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	for (i = 0; i < ndet; i++) {
		char nm[64];

		snprintf(nm, sizeof nm, "  %s", det_names[idx[i]]);
		print_row(nm, pub[idx[i]]);
	}
	printf("\nscore tuned/held-out per profile:\n");
	for (c = 0; c < nconf; c++) {
		printf("%-24s", C[c].name);
		for (p = 0; p < NPROF; p++)
			printf("  %s=%.1f/%.1f", short_prof[p],
			    subset(C[c].raw[p], 0, NTUNED, &W[p]),
			    subset(C[c].raw[p], NTUNED, NFILES, &W[p]));
		n = 0;
		for (f = 0; f < NFILES; f++)
			n += C[c].nalerts[f];
		printf("  alerts=%d\n", n);
	}

	/* time to detect, the default */
	n = np = 0;
	for (f = 0; f < NFILES; f++)
		for (k = 0; k < F[f].nwin; k++) {
			long d = C[0].first_det[f][k];

			total[f >= NTUNED]++;
			if (d < 0)
				continue;
			caught[f >= NTUNED]++;
			ttd[n++] = d - F[f].win[k].start;
			/* after the labelled point in the window */
			for (j = 0; j < F[f].npoints; j++)
				if (F[f].points[j] >= F[f].win[k].start &&
				    F[f].points[j] <= F[f].win[k].end) {
					ttp[np++] = d - F[f].points[j];
					break;
				}
		}
	printf("\ndefault '%s': caught %d/%d windows tuned, %d/%d held out; "
	    "time to detect (5-minute buckets) median %.1f after the window "
	    "start, %.1f after the labelled point\n", C[0].name, caught[0],
	    total[0], caught[1], total[1], median(ttd, n), median(ttp, np));
	for (p = 0; p < NPROF; p++)
		printf("eval-nab profile=%s tuned=%.1f heldout=%.1f\n",
		    short_prof[p], subset(C[0].raw[p], 0, NTUNED, &W[p]),
		    subset(C[0].raw[p], NTUNED, NFILES, &W[p]));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	if (argc == 6 && strcmp(argv[1], "eval") == 0 &&
	    strcmp(argv[2], "-v") == 0) {
		verbose = 1;
		return cmd_eval(argv[3], argv[4], argv[5]);
	}
	if (argc == 5 && strcmp(argv[1], "eval") == 0)
		return cmd_eval(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: nabeval check DATADIR\n"
	    "       nabeval eval [-v] TIDEWATCH DATADIR CONFIGS\n");
	return 2;
}
