/*
 * rules_alert.c — alert blocks: the key tables and how the values fit.
 *
 * DESIGN: every key of an alert block is one row of alert_table[]: its
 * name, the type of its value, the field of struct rule_alert it sets, its
 * bounds, what it means to the block (required, a condition, compared with
 * the baseline) and a line of help.  The same for the keys of a mapping
 * baseline (baseline_table[]) and of poisson (poisson_table[]).  One
 * function reads a value of each type, with one message per type, so a key
 * is added by adding a row; baseline and poisson, which take a mapping,
 * have their own parsers.  Once every value is read, the checks between
 * keys follow: windows and baselines against the counter resolution and
 * each other, at least one condition, a baseline for those that need one.
 * A bad block is reported completely and dropped.  Runs in the loading
 * thread, on the loader it is given.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rules.h"
#include "rules_int.h"
#include "xmalloc.h"

static const char *const severity_names[] = { "info", "warning", "critical" };
static const char *const count_names[] = { "posts", "authors", "texts" };

/* The keys of an alert block, in the order of "expected ..." messages;
 * values are read in this order. */
enum { AK_WINDOW, AK_BASELINE, AK_MIN_COUNT, AK_THRESHOLD, AK_RATIO,
	AK_ZSCORE, AK_COOLDOWN, AK_RESOLVE, AK_SEVERITY, AK_POISSON, AK_COUNT,
	AK_MIN_AUTHORS, AK_MAX_PPA, AK__N };

/* One alert block being read. */
struct aparse {
	struct loader		*ld;
	struct rule_alert	 a;
	yaml_node_t		*key[AK__N], *val[AK__N]; /* by row */
	bool			 good[AK__N];	/* the value was read */
	uint32_t		 suggested;	/* rows "did you mean" named */
	yaml_node_t		*period;	/* the baseline's period */
	yaml_node_t		*halflife;	/* the baseline's halflife */
	bool			 ok;		/* no error in the block */
};

static int	parse_baseline(struct aparse *, yaml_node_t *);
static int	parse_poisson(struct aparse *, yaml_node_t *);

#define A(f)	offsetof(struct rule_alert, f)

static const struct akey alert_table[AK__N] = {
	[AK_WINDOW] = { "window", AT_DURATION, A(window_s), 0, 0, NULL,
	    AF_REQUIRED, "the window posts are counted in; a multiple of the "
	    "counter resolution" },
	[AK_BASELINE] = { "baseline", AT_BLOCK, 0, 0, 0, parse_baseline, 0,
	    "history the window is compared with: a duration, {period, "
	    "lookback} (seasonal) or {halflife, exclude} (EWMA)" },
	[AK_MIN_COUNT] = { "min_count", AT_WHOLE64, A(min_count), 1, 0, NULL,
	    0, "the window's count must reach this before anything fires "
	    "(default 1)" },
	[AK_THRESHOLD] = { "threshold", AT_POSITIVE, A(threshold), 0, 0, NULL,
	    AF_CONDITION, "fire when the window's count reaches this" },
	[AK_RATIO] = { "ratio", AT_POSITIVE, A(ratio), 0, 0, NULL,
	    AF_CONDITION | AF_BASELINE, "fire when the count is this many "
	    "times the baseline's" },
	[AK_ZSCORE] = { "zscore", AT_POSITIVE, A(zscore), 0, 0, NULL,
	    AF_CONDITION | AF_BASELINE, "fire when the count is this many "
	    "deviations above the baseline's mean" },
	[AK_COOLDOWN] = { "cooldown", AT_DURATION, A(cooldown_s), 0, 0, NULL,
	    0, "no repeated notification within this time (default 30m)" },
	[AK_RESOLVE] = { "resolve_after", AT_DURATION, A(resolve_after_s), 0,
	    0, NULL, 0, "resolved once the condition has been false this long "
	    "(default: the window)" },
	[AK_SEVERITY] = { "severity", AT_SEVERITY, A(severity), 0, 0, NULL, 0,
	    "info, warning (default) or critical" },
	[AK_POISSON] = { "poisson", AT_BLOCK, 0, 0, 0, parse_poisson,
	    AF_CONDITION | AF_BASELINE, "p or {p, factor}: fire when the count "
	    "exceeds factor times the Poisson bound at confidence 1 - p" },
	[AK_COUNT] = { "count", AT_COUNT, A(count), 0, 0, NULL, 0,
	    "what threshold counts: posts (default), authors or texts "
	    "(distinct, over the hours the window touches)" },
	[AK_MIN_AUTHORS] = { "min_authors", AT_WHOLE64, A(min_authors), 1, 0,
	    NULL, 0, "nothing fires unless this many distinct authors posted "
	    "in the hours the window touches" },
	[AK_MAX_PPA] = { "max_posts_per_author", AT_POSITIVE,
	    A(max_posts_per_author), 0, 0, NULL, 0, "nothing fires while the "
	    "posts per distinct author of the hours the window touches are "
	    "above this" },
};

/* The keys of a baseline given as a mapping. */
enum { BK_PERIOD, BK_LOOKBACK, BK_HALFLIFE, BK_EXCLUDE, BK_SEASON,
	BK_SEASON_PERIOD, BK_SEASON_LOOKBACK, BK__N };

static const struct akey baseline_table[BK__N] = {
	[BK_PERIOD] = { "period", AT_DURATION, A(period_s), 0, 0, NULL, 0,
	    "seasonal: the period (1d compares with the same time of day)" },
	[BK_LOOKBACK] = { "lookback", AT_WHOLE, A(lookback), 1,
	    RULES_MAX_LOOKBACK, NULL, 0, "seasonal: how many earlier periods "
	    "(default 7)" },
	[BK_HALFLIFE] = { "halflife", AT_DURATION, A(halflife_s), 0, 0, NULL,
	    0, "EWMA: the half-life of the moving mean and variance" },
	[BK_EXCLUDE] = { "exclude", AT_POSITIVE, A(exclude), 0, 0, NULL, 0,
	    "EWMA: a window this many deviations above the mean is not "
	    "learned" },
	[BK_SEASON] = { "season", AT_POSITIVE, A(season), 0, 0, NULL, 0,
	    "EWMA: ratio, zscore and poisson also need the count this many "
	    "robust deviations (median, MAD) above the same window in "
	    "earlier periods" },
	[BK_SEASON_PERIOD] = { "season_period", AT_DURATION,
	    A(season_period_s), 0, 0, NULL, 0, "EWMA season: the period "
	    "(default 1d)" },
	[BK_SEASON_LOOKBACK] = { "season_lookback", AT_WHOLE,
	    A(season_lookback), 3, RULES_MAX_LOOKBACK, NULL, 0, "EWMA "
	    "season: how many earlier periods (default 7)" },
};

/* The keys of poisson given as a mapping. */
enum { PK_P, PK_FACTOR, PK__N };

static const struct akey poisson_table[PK__N] = {
	[PK_P] = { "p", AT_PROBABILITY, A(poisson_p), 0, 0, NULL, 0,
	    "the probability of a false alarm per window, e.g. 0.001" },
	[PK_FACTOR] = { "factor", AT_POSITIVE, A(poisson_factor), 0, 0, NULL,
	    0, "how far above the bound the count must be (default 1)" },
};

const struct akeys ralert_keys = { alert_table, AK__N };
const struct akeys ralert_baseline_keys = { baseline_table, BK__N };
const struct akeys ralert_poisson_keys = { poisson_table, PK__N };

/* ---- reading values --------------------------------------------------- */

_Static_assert((int)BK__N <= (int)AK__N && (int)PK__N <= (int)AK__N,
    "table_keys() holds the names of a table in AK__N slots");

static void
table_names(const struct akey *table, size_t n, const char **names)
{
	size_t i;

	for (i = 0; i < n; i++)
		names[i] = table[i].name;
}

/* Reads a mapping whose keys are the rows of table; as ryaml_keys(). */
static uint32_t
table_keys(struct loader *ld, yaml_node_t *n, const struct akey *table,
    size_t nrows, const char *in, yaml_node_t **key, yaml_node_t **val)
{
	const char *names[AK__N];

	table_names(table, nrows, names);
	return ryaml_keys(ld, n, names, nrows, in, key, val);
}

static int
parse_whole(struct loader *ld, const struct akey *k, yaml_node_t *n,
    int64_t *out)
{
	const char *s = ryaml_text(n);
	char g[SHOWSZ];

	if (s == NULL || ryaml_parse_whole(s, out) == -1 || *out < k->min ||
	    (k->max > 0 && *out > k->max)) {
		if (k->max > 0)
			ryaml_error(ld, n, "%s: expected a whole number from "
			    "%" PRId64 " to %" PRId64 ", got %s", k->name,
			    k->min, k->max, ryaml_got(n, g));
		else
			ryaml_error(ld, n, "%s: expected a whole number of at "
			    "least %" PRId64 ", got %s", k->name, k->min,
			    ryaml_got(n, g));
		return -1;
	}
	return 0;
}

/* One of nn names: its index in *out. */
static int
parse_choice(struct loader *ld, const struct akey *k, yaml_node_t *n,
    const char *const *names, size_t nn, int *out)
{
	const char *s = ryaml_text(n);
	char g[SHOWSZ], all[64];
	size_t i;

	for (i = 0; s != NULL && i < nn; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	ryaml_join_keys(names, nn, all, sizeof all);
	ryaml_error(ld, n, "%s: expected %s, got %s", k->name, all,
	    ryaml_got(n, g));
	return -1;
}

/* Reads the value n of key k into its field of ap->a.  Returns 0, or -1
 * after an error. */
static int
parse_value(struct aparse *ap, const struct akey *k, yaml_node_t *n)
{
	struct loader *ld = ap->ld;
	char *field = (char *)&ap->a + k->off, g[SHOWSZ];
	const char *s;
	int64_t v;
	double *d;
	int i;

	switch (k->type) {
	case AT_DURATION:
		return ryaml_duration(ld, n, k->name, (int64_t *)field);
	case AT_WHOLE64:
		return parse_whole(ld, k, n, (int64_t *)field);
	case AT_WHOLE:
		if (parse_whole(ld, k, n, &v) == -1)
			return -1;
		*(int *)field = (int)v;
		return 0;
	case AT_POSITIVE:
		return ryaml_positive(ld, n, k->name, (double *)field);
	case AT_PROBABILITY:
		s = ryaml_text(n);
		d = (double *)field;
		if (s == NULL || ryaml_parse_number(s, d) == -1 ||
		    !(*d > 0) || !(*d < RULES_MAX_POISSON_P)) {
			ryaml_error(ld, n, "%s: expected a probability between "
			    "0 and %g (e.g. 0.001), got %s", k->name,
			    RULES_MAX_POISSON_P, ryaml_got(n, g));
			return -1;
		}
		return 0;
	case AT_SEVERITY:
		if (parse_choice(ld, k, n, severity_names,
		    nitems(severity_names), &i) == -1)
			return -1;
		*(enum severity *)field = (enum severity)i;
		return 0;
	case AT_COUNT:
		if (parse_choice(ld, k, n, count_names, nitems(count_names),
		    &i) == -1)
			return -1;
		*(enum rule_count *)field = (enum rule_count)i;
		return 0;
	case AT_BLOCK:
		break;
	}
	return k->parse(ap, n);
}

/* ---- baseline and poisson --------------------------------------------- */

/* {halflife: duration, exclude: x}: an EWMA baseline.  Returns 0 when the
 * halflife is good (other errors only clear ap->ok). */
static int
parse_ewma_baseline(struct aparse *ap, yaml_node_t **key, yaml_node_t **val)
{
	struct loader *ld = ap->ld;
	int rc = 0, i;

	ap->halflife = val[BK_HALFLIFE];
	if (val[BK_PERIOD] != NULL || val[BK_LOOKBACK] != NULL) {
		ryaml_error(ld, key[val[BK_PERIOD] != NULL ? BK_PERIOD :
		    BK_LOOKBACK], "baseline: halflife (a moving average) and "
		    "period/lookback (the same time in earlier periods) are "
		    "two kinds of baseline, choose one");
		ap->ok = false;
		rc = -1;
	}
	if (parse_value(ap, &baseline_table[BK_HALFLIFE],
	    val[BK_HALFLIFE]) == -1) {
		ap->ok = false;
		rc = -1;
	}
	for (i = BK_EXCLUDE; i <= BK_SEASON_LOOKBACK; i++)
		if (val[i] != NULL && parse_value(ap, &baseline_table[i],
		    val[i]) == -1)
			ap->ok = false;
	if (val[BK_SEASON] == NULL && (val[BK_SEASON_PERIOD] != NULL ||
	    val[BK_SEASON_LOOKBACK] != NULL)) {
		ryaml_error(ld, key[val[BK_SEASON_PERIOD] != NULL ?
		    BK_SEASON_PERIOD : BK_SEASON_LOOKBACK], "baseline: "
		    "season_period and season_lookback go with season (e.g. "
		    "{halflife: 14d, season: 10, season_period: 1d})");
		ap->ok = false;
	}
	return rc;
}

/* {period: duration, lookback: n}: a seasonal baseline.  Returns 0 when
 * the period is good (other errors only clear ap->ok). */
static int
parse_seasonal_baseline(struct aparse *ap, yaml_node_t *n, uint32_t sug,
    yaml_node_t **key, yaml_node_t **val)
{
	struct loader *ld = ap->ld;
	int rc = 0, i;

	ap->period = val[BK_PERIOD];
	for (i = BK_EXCLUDE; i <= BK_SEASON_LOOKBACK; i++)
		if (val[i] != NULL) {
			ryaml_error(ld, key[i], "baseline: %s goes with a "
			    "halflife (e.g. {halflife: 1d, %s: %s})",
			    baseline_table[i].name, baseline_table[i].name,
			    i == BK_SEASON_PERIOD ? "1d" : i ==
			    BK_SEASON_LOOKBACK ? "14" : i == BK_SEASON ? "10" :
			    "20");
			ap->ok = false;
			break;
		}
	ap->a.lookback = RULES_DEFAULT_LOOKBACK;
	if (val[BK_PERIOD] == NULL) {
		if ((sug & (1U << BK_PERIOD | 1U << BK_HALFLIFE)) == 0)
			ryaml_error(ld, n, "baseline has no 'period'");
		ap->ok = false;
		rc = -1;
	} else if (parse_value(ap, &baseline_table[BK_PERIOD],
	    val[BK_PERIOD]) == -1) {
		ap->ok = false;
		rc = -1;
	}
	if (val[BK_LOOKBACK] != NULL && parse_value(ap,
	    &baseline_table[BK_LOOKBACK], val[BK_LOOKBACK]) == -1)
		ap->ok = false;
	return rc;
}

/* baseline: a duration, or a mapping of baseline_table keys. */
static int
parse_baseline(struct aparse *ap, yaml_node_t *n)
{
	yaml_node_t *key[BK__N], *val[BK__N];
	uint32_t sug;

	if (n->type == YAML_SEQUENCE_NODE) {
		ryaml_error(ap->ld, n, "baseline: expected a duration or a "
		    "mapping with period and lookback, got a list");
		return -1;
	}
	if (n->type != YAML_MAPPING_NODE)
		return ryaml_duration(ap->ld, n, "baseline",
		    &ap->a.baseline_s);
	sug = table_keys(ap->ld, n, baseline_table, BK__N, "baseline", key,
	    val);
	if (val[BK_HALFLIFE] != NULL)
		return parse_ewma_baseline(ap, key, val);
	return parse_seasonal_baseline(ap, n, sug, key, val);
}

/* poisson: p, or a mapping of poisson_table keys. */
static int
parse_poisson(struct aparse *ap, yaml_node_t *n)
{
	yaml_node_t *key[PK__N], *val[PK__N], *pn = n;
	struct loader *ld = ap->ld;
	char g[SHOWSZ];
	uint32_t sug;
	int rc = 0;

	ap->a.poisson_factor = 1.0;
	if (n->type == YAML_MAPPING_NODE) {
		sug = table_keys(ld, n, poisson_table, PK__N, "poisson", key,
		    val);
		if ((pn = val[PK_P]) == NULL) {
			if ((sug & 1U << PK_P) == 0)
				ryaml_error(ld, n, "poisson has no 'p' (e.g. "
				    "{p: 0.001, factor: 1})");
			return -1;
		}
		if (val[PK_FACTOR] != NULL && parse_value(ap,
		    &poisson_table[PK_FACTOR], val[PK_FACTOR]) == -1)
			rc = -1;
	} else if (n->type != YAML_SCALAR_NODE) {
		ryaml_error(ld, n, "poisson: expected p or a mapping with p "
		    "and factor, got %s", ryaml_got(n, g));
		return -1;
	}
	if (parse_value(ap, &poisson_table[PK_P], pn) == -1) {
		ap->a.poisson_p = 0;
		return -1;
	}
	return rc;
}

/* ---- how the values fit together -------------------------------------- */

/* Reports a length (of what) that is not a multiple of the counter
 * resolution; returns whether it is one. */
static bool
check_resolution(struct aparse *ap, yaml_node_t *at, const char *what,
    int64_t len)
{
	char d1[32], d2[32];

	if (len % ap->ld->res == 0)
		return true;
	ryaml_error(ap->ld, at, "%s %s is not a multiple of the counter "
	    "resolution (%s)", what, ryaml_format_duration(len, d1, sizeof d1),
	    ryaml_format_duration(ap->ld->res, d2, sizeof d2));
	ap->ok = false;
	return false;
}

/* Reports a baseline length shorter than the window (or as long, when
 * strict). */
static void
check_longer(struct aparse *ap, yaml_node_t *at, const char *what,
    int64_t len, bool strict)
{
	char d1[32], d2[32];
	int64_t w = ap->a.window_s;

	if (!ap->good[AK_WINDOW] || (strict ? len > w : len >= w))
		return;
	ryaml_error(ap->ld, at, "%s %s must be %s the window (%s)", what,
	    ryaml_format_duration(len, d1, sizeof d1),
	    strict ? "longer than" : "at least",
	    ryaml_format_duration(w, d2, sizeof d2));
	ap->ok = false;
}

static void
check_lengths(struct aparse *ap)
{
	const struct rule_alert *a = &ap->a;

	if (ap->good[AK_WINDOW])
		(void)check_resolution(ap, ap->val[AK_WINDOW], "window",
		    a->window_s);
	if (!ap->good[AK_BASELINE])
		return;
	if (ap->halflife != NULL) {
		if (check_resolution(ap, ap->halflife, "baseline halflife",
		    a->halflife_s))
			check_longer(ap, ap->halflife, "baseline halflife",
			    a->halflife_s, false);
	} else if (ap->period == NULL) {
		if (check_resolution(ap, ap->val[AK_BASELINE], "baseline",
		    a->baseline_s))
			check_longer(ap, ap->val[AK_BASELINE], "baseline",
			    a->baseline_s, false);
	} else if (check_resolution(ap, ap->period, "baseline period",
	    a->period_s))
		check_longer(ap, ap->period, "baseline period", a->period_s,
		    true);
}

/* At least one condition; a baseline for the conditions that need one.
 * Keys offered as "did you mean" count as present. */
static void
check_conditions(struct aparse *ap, yaml_node_t *n)
{
	const char *names[AK__N];
	char all[256];
	uint32_t conds = 0;
	size_t i, nc = 0;
	bool any = false;

	for (i = 0; i < AK__N; i++) {
		if ((alert_table[i].flags & AF_CONDITION) == 0)
			continue;
		names[nc++] = alert_table[i].name;
		conds |= 1U << i;
		if (ap->val[i] != NULL)
			any = true;
	}
	if (!any) {
		ryaml_join_keys(names, nc, all, sizeof all);
		if ((ap->suggested & conds) == 0)
			ryaml_error(ap->ld, n, "alert needs at least one of %s",
			    all);
		ap->ok = false;
	}
	if (ap->good[AK_COUNT] && ap->a.count != COUNT_POSTS) {
		for (i = 0; i < AK__N; i++) {
			if ((alert_table[i].flags & AF_CONDITION) == 0 ||
			    i == AK_THRESHOLD || ap->val[i] == NULL)
				continue;
			ryaml_error(ap->ld, ap->key[i], "%s counts posts: "
			    "count: %s goes with threshold only",
			    alert_table[i].name, count_names[ap->a.count]);
			ap->ok = false;
		}
	}
	if (ap->val[AK_BASELINE] != NULL ||
	    (ap->suggested & 1U << AK_BASELINE) != 0)
		return;
	for (i = 0; i < AK__N; i++) {
		if ((alert_table[i].flags & AF_BASELINE) != 0 &&
		    ap->val[i] != NULL) {
			ryaml_error(ap->ld, ap->key[i], "%s needs a baseline "
			    "to compare with (e.g. baseline: 1h)",
			    alert_table[i].name);
			ap->ok = false;
		}
	}
}

/* ---- blocks ----------------------------------------------------------- */

static void
alert_defaults(struct rule_alert *a, const yaml_node_t *n)
{
	memset(a, 0, sizeof *a);
	a->min_count = 1;
	a->threshold = a->ratio = a->zscore = -1;
	a->cooldown_s = RULES_DEFAULT_COOLDOWN;
	a->severity = SEV_WARNING;
	a->line = ryaml_line(&n->start_mark);
	a->col = ryaml_col(&n->start_mark);
}

void
ralert_parse(struct loader *ld, struct rule_topic *t, size_t *cap,
    yaml_node_t *n)
{
	const struct akey *k;
	struct aparse ap;
	char g[SHOWSZ];
	size_t i;

	if (n->type != YAML_MAPPING_NODE) {
		ryaml_error(ld, n, "alert: expected a mapping with a window "
		    "and a condition, got %s", ryaml_got(n, g));
		return;
	}
	memset(&ap, 0, sizeof ap);
	ap.ld = ld;
	ap.ok = true;
	ap.suggested = table_keys(ld, n, alert_table, AK__N, "alert", ap.key,
	    ap.val);
	alert_defaults(&ap.a, n);
	for (i = 0; i < AK__N; i++) {
		k = &alert_table[i];
		if (ap.val[i] == NULL) {
			if ((k->flags & AF_REQUIRED) == 0)
				continue;
			if ((ap.suggested & 1U << i) == 0)
				ryaml_error(ld, n, "alert has no '%s'",
				    k->name);
			ap.ok = false;
			continue;
		}
		if (parse_value(&ap, k, ap.val[i]) == 0)
			ap.good[i] = true;
		else
			ap.ok = false;
	}
	if (ap.val[AK_RESOLVE] == NULL)
		ap.a.resolve_after_s = ap.a.window_s;
	check_lengths(&ap);
	check_conditions(&ap, n);
	if (!ap.ok || !ryaml_budget(ld, n, 1))
		return;
	t->alerts = xgrow(t->alerts, cap, t->nalerts + 1, sizeof *t->alerts);
	t->alerts[t->nalerts++] = ap.a;
}

/* t->alerts, read into a buffer of cap, moved to the set's arena: a set
 * may have 100,000 topics. */
static void
alerts_to_arena(struct loader *ld, struct rule_topic *t)
{
	struct rule_alert *a = t->alerts;

	t->alerts = NULL;
	if (t->nalerts > 0) {
		t->alerts = rules_alloc(ld->rs, t->nalerts * sizeof *a);
		memcpy(t->alerts, a, t->nalerts * sizeof *a);
	}
	free(a);
}

void
ralert_parse_list(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	struct items it;
	yaml_node_t *item;
	size_t cap = 0, i;
	char g[SHOWSZ];

	if (n->type == YAML_MAPPING_NODE) {
		ralert_parse(ld, t, &cap, n);
		alerts_to_arena(ld, t);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		ryaml_error(ld, n, "alert: expected a mapping or a list of "
		    "mappings, got %s", ryaml_got(n, g));
		return;
	}
	(void)ryaml_items(ld, n, "alert", "", false, &it);
	if (it.n == 0) {
		ryaml_error(ld, n, "alert: expected at least one alert block");
		return;
	}
	for (i = 0; i < it.n && !ryaml_stopped(ld); i++) {
		if ((item = ryaml_node(ld, it.v[i])) != NULL)
			ralert_parse(ld, t, &cap, item);
	}
	alerts_to_arena(ld, t);
}

const char *
rules_count_name(enum rule_count c)
{
	if ((size_t)c >= nitems(count_names))
		return "unknown";
	return count_names[c];
}

const char *
rules_severity_name(enum severity s)
{
	if ((size_t)s >= nitems(severity_names))
		return "unknown";
	return severity_names[s];
}
