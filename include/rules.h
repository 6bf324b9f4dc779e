/*
 * rules.h — the rule set: topics, keywords, conditions, alerts, tests.
 *
 * rules_load() reads rule files (a file, or a directory of *.yaml files) with
 * libyaml and builds a complete rule set or nothing: every error found in
 * every file is added to a diag list as "path:line:col: message" and the
 * partial set is thrown away.  A loaded set is immutable and refcounted so
 * the daemon can swap in a new one on reload while older users finish.
 *
 * The structures below are plain data for the matcher, the detector and the
 * commands to read; only the rule loader (daemon/rules*.c) writes them.
 */
#ifndef TW_RULES_H
#define TW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "diag.h"

/* Where a keyword sits in its topic's match expression. */
enum kw_role {
	KW_ANY,		/* match.any: one of them is enough */
	KW_ALL,		/* match.all[group]: one per group is needed */
	KW_NONE,	/* match.none: any hit vetoes the topic */
};

struct rules_strings;

/* 40 bytes: a set holds a million of them.  text and display live in the
 * rule set's arena and may be the same pointer. */
struct rule_kw {
	char		*text;		/* literal text, or regex source (no slashes) */
	char		*display;	/* as written in the file: 地沟油, /毒(奶粉|大米)/i */
	pcre2_code	*re;		/* compiled (UTF|UCP|flags), JIT'ed; NULL for literals */
	uint32_t	 re_flags;	/* PCRE2 compile options from /…/flags */
	int		 line, col;
	uint16_t	 group;		/* KW_ALL: index of the OR-group; else 0 */
	uint8_t		 role;		/* enum kw_role */
	bool		 is_regex;
};

/* match.where: field must equal one of values, or match re. */
struct rule_where {
	char		*field;
	char	       **values;	/* exact values (after trimming nothing) */
	size_t		 nvalues;
	char		*re_display;	/* "/…/flags" or NULL */
	pcre2_code	*re;		/* NULL unless a regex condition */
	int		 line, col;
};

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };
/* What an alert block's threshold counts. */
enum rule_count { COUNT_POSTS, COUNT_AUTHORS, COUNT_TEXTS };

/* One alert block.  Durations are in seconds; an unset number is < 0. */
/* The most earlier periods an EWMA season check reads. */
#define RULES_MAX_SEASON	365

struct rule_alert {
	int64_t		window_s;	/* required */
	int64_t		baseline_s;	/* plain baseline length; 0 when seasonal */
	int64_t		period_s;	/* seasonal: {period, lookback}; else 0 */
	int		lookback;	/* seasonal: number of earlier periods */
	int64_t		min_count;	/* default 1 */
	double		threshold;	/* < 0: unset */
	double		ratio;		/* < 0: unset */
	double		zscore;		/* < 0: unset */
	int64_t		halflife_s;	/* EWMA baseline {halflife}; 0: not EWMA */
	double		exclude;	/* EWMA: a window this many deviations
					 * above the mean is not learned;
					 * 0: the default (20) */
	double		season;		/* EWMA: ratio, zscore and poisson also
					 * need the count this many robust
					 * deviations above the same window in
					 * earlier periods; 0: no such check */
	int64_t		season_period_s;/* its period; 0: 1d */
	int		season_lookback;/* its earlier periods; 0: 7;
					 * at most RULES_MAX_SEASON */
	double		poisson_p;	/* poisson: {p}; 0: unset */
	double		poisson_factor;	/* poisson: {factor}; 0: 1.0 */
	int64_t		cooldown_s;	/* default 30m */
	int64_t		resolve_after_s;/* default: window_s */
	enum severity	severity;	/* default warning */
	enum rule_count	count;		/* default posts */
	int64_t		min_authors;	/* 0: unset */
	double		max_posts_per_author;	/* 0: unset */
	int		line, col;
};

/* An embedded test: a text, or a post given as fields (for where rules). */
struct rule_field {
	char	*name;
	char	*value;
};

struct rule_test {
	bool			 expect_match;
	char			*text;		/* the text field; may be NULL with fields */
	struct rule_field	*fields;	/* other fields, for where rules */
	size_t			 nfields;
	int			 line, col;
};

struct rule_topic {
	char			*id;		/* [a-z0-9-]+, unique in the set */
	char			*name;		/* defaults to id */
	char		       **tags;
	size_t			 ntags;
	struct rule_kw		*kws;		/* any, then all groups, then none */
	size_t			 nkws;
	bool			 has_any;	/* match.any present (non-empty) */
	uint16_t		 nall;		/* number of match.all groups */
	struct rule_where	*where;
	size_t			 nwhere;
	char		       **count_by;
	size_t			 ncount_by;
	struct rule_alert	*alerts;
	size_t			 nalerts;
	struct rule_test	*tests;
	size_t			 ntests;
	int64_t			 group_wait_s;	/* 0: new alerts go out at once */
	char		       **inhibit;	/* topics whose firing mutes this one */
	size_t			 ninhibit;
	size_t			*inhibit_idx;	/* their indexes in ruleset->topics */
	const char		*file;		/* points into ruleset->files */
	int			 line, col;
};

struct ruleset {
	struct rule_topic	*topics;
	size_t			 ntopics;
	char		       **files;		/* every file read, in order */
	size_t			 nfiles;
	size_t			 nkeywords;	/* sum of nkws over topics */
	size_t			 ntests;
	size_t			*order;		/* topic indexes, each topic after
						 * those that inhibit it */
	struct rules_strings	*strings;	/* arena: keywords, their text,
						 * ids, alert blocks */
	int			 refcnt;
};

/* Loads every path (a file, or a directory of .yaml and .yml files, sorted by name) as one
 * rule set.  On success returns 0 and *out (refcount 1).  On any error returns
 * -1, *out is NULL, and every error is in errs. */
int rules_load(const char *const *paths, size_t npaths, struct ruleset **out,
    struct diag *errs);
/* Loads from a string, as if read from file `name` (tests and fuzzing). */
int rules_load_string(const char *name, const char *yaml, size_t len,
    struct ruleset **out, struct diag *errs);

/* Load options; NULL (or a field <= 0) selects the default. */
/* The loader's caps, config keys rules.max_items and rules.max_file_bytes
 * (their defaults in config.c's table are these). */
#define RULES_DEFAULT_MAX_ITEMS	1000000
#define RULES_DEFAULT_MAX_FILE	(16 * 1024 * 1024)

struct rules_opts {
	int64_t	resolution_s;	/* counter resolution: windows and baselines
				 * must be multiples of it (default 10) */
	size_t	max_items;	/* items (topics, keywords, alert blocks, values, tests) of a
				 * set (0: RULES_DEFAULT_MAX_ITEMS) */
	size_t	max_file_bytes;	/* largest file (0: RULES_DEFAULT_MAX_FILE) */
};
int rules_load_opts(const char *const *paths, size_t npaths,
    const struct rules_opts *opts, struct ruleset **out, struct diag *errs);
int rules_load_string_opts(const char *name, const char *yaml, size_t len,
    const struct rules_opts *opts, struct ruleset **out, struct diag *errs);

/* Parses one alert block given as YAML text ("{window: 5m, ratio: 3}"),
 * with the checks and messages of a rule file, errors as name:line:col.
 * Returns 0 and *out, or -1 with every error in errs. */
int rules_parse_alert(const char *name, const char *yaml, size_t len,
    const struct rules_opts *opts, struct rule_alert *out, struct diag *errs);

struct ruleset *rules_ref(struct ruleset *rs);
void rules_unref(struct ruleset *rs);	/* frees on the last reference; NULL ok */

/* Parses "30s", "5m", "2h", "1d", "1w" or a bare number of seconds.
 * Returns 0 and *out seconds, or -1. */
int rules_parse_duration(const char *s, int64_t *out);
const char *rules_severity_name(enum severity s);
const char *rules_count_name(enum rule_count c);

/* Returns the known word closest to word (Levenshtein distance, a swap of
 * neighbours counting as one edit, <= 2 or a third of its length, and at
 * most half of it), or NULL.  Used for "did you mean". */
const char *rules_suggest(const char *word, const char *const *known, size_t n);

#endif
