/*
 * rules_int.h — what the files of the rule loader share; not a public API.
 *
 * The loader is split along its concerns:
 *   rules.c        files and directories, the two passes, the checks across
 *                  topics (duplicate ids, inhibit), the all-or-nothing build
 *                  and the public entry points of rules.h;
 *   rules_yaml.c   libyaml: the syntax check and load of one buffer, node
 *                  access, "path:line:col: message" errors, the item budget,
 *                  scalars (durations, numbers) and "did you mean";
 *   rules_match.c  keywords, regexes, $lists and a topic's match expression
 *                  (any, all, none, where);
 *   rules_topic.c  one topic: its keys, count_by, tags, inhibit, tests;
 *   rules_alert.c  alert blocks, driven by the key tables of the alert, its
 *                  baseline and its poisson condition.
 * The rule keys, each a table next to its parser with a line of help per
 * key: top_keys[] (rules.c), topic_keys[] and tests_keys[]
 * (rules_topic.c), match_keys[] (rules_match.c), alert_table[],
 * baseline_table[] and poisson_table[] (rules_alert.c); the fields of
 * `where`, `count_by` and test posts are free names.  The tables are
 * exported (struct rkeys, struct akeys) for the JSON Schema of rule files
 * (schema.c), which reads the same rows the loader checks keys against.
 * Each file exports its names with its own prefix (ryaml_, rmatch_,
 * rtopic_, ralert_).  They touch nothing but the struct loader they are
 * given, and run in the thread that calls rules_load() or on a second
 * thread of rules.c with a copy of the loader of its own: a reader
 * (ryaml_load_buffer(), see load_entries()) or the builder of half of the
 * topics (rtopic_parse(), see build_topics_split()), which only reads the
 * files' documents and lists.
 */
#ifndef TW_RULES_INT_H
#define TW_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "rules.h"

#define RULES_MAX_DEPTH		32
#define RULES_MAX_NODES		2000000	/* YAML nodes of a file, at least */
#define RULES_NODES_PER_ITEM	2	/* and per item of rules.max_items */
#define RULES_MAX_REGEX		50000
#define RULES_MAX_ERRORS	1000
#define RULES_MAX_GROUPS	64
#define RULES_MAX_ID		64
#define RULES_MAX_COUNT_BY	16
#define RULES_MAX_FIELD_NAME	128	/* bytes of a count_by field name (it is
					 * part of Redis key names) */
#define RULES_MAX_LOOKBACK	365
#define RULES_MAX_DURATION	(3650LL * 86400)
#define RULES_DEFAULT_RES	10
#define RULES_DEFAULT_COOLDOWN	1800
#define RULES_DEFAULT_LOOKBACK	7
#define RULES_MAX_GROUP_WAIT	3600
#define RULES_MAX_INHIBIT	16
#define RULES_MAX_POISSON_P	0.5

#define SHOWSZ	256		/* ryaml_show() and ryaml_got() buffers */

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/* An error, kept until the end so that they can be sorted. */
struct lerr {
	size_t	 file;
	int	 line, col;
	size_t	 seq;
	char	*msg;		/* complete "path:line:col: message" */
};

struct lfile {
	char		*path;
	int		 direrr;	/* a directory that gave no files: its
					 * errno, or -1 for no *.yaml in it */
	yaml_document_t	 doc;
	yaml_node_t	*slice;		/* room for its nodes in the loader's
					 * slab, or NULL */
	size_t		 slicecap;	/* nodes */
	bool		 loaded;
	yaml_node_t	*topics;	/* `topics`, found in pass 1 */
};

/* A keyword as parsed, before it is placed in a topic.  text and display
 * point into the file's document (which outlives the passes), except a
 * regex's source, cut out of its slashes into owned. */
struct lkw {
	const char	*text;		/* textlen bytes, not NUL-terminated */
	size_t		 textlen;
	const char	*display;
	char		*owned;		/* freed with the keyword */
	bool		 is_regex;
	uint32_t	 flags;
};

struct llist {
	const char	*name;		/* points into its file's document */
	size_t		 file;
	size_t		 order;
	int		 line, col;
	struct lkw	*kws;
	size_t		 nkws;
	bool		 bad;		/* errors already reported */
};

/* Where a topic's id is written, for duplicate ids once all are read. */
struct idmark {
	size_t	file;
	int	line, col;
};

/* Where a topic names a topic in `inhibit`, for errors once all are read. */
struct inhmark {
	size_t	topic, k;	/* rs->topics[topic].inhibit[k] */
	size_t	file;
	int	line, col;
};

struct loader {
	int64_t		 res;		/* counter resolution, seconds */
	yaml_node_t	*slab;		/* the files' nodes (load_entries()) */
	size_t		 max_items;	/* rules.max_items */
	size_t		 max_file;	/* rules.max_file_bytes */
	struct lfile	*files;
	size_t		 nfiles, capfiles;
	size_t		 cur;		/* file being read */

	struct lerr	*errs;
	size_t		 nerrs, caperrs;
	bool		 capped;
	size_t		 capfile;

	struct llist	*lists;
	size_t		 nlists, caplists;
	const char     **lnames;	/* distinct names, for suggestions */
	size_t		 nlnames;
	bool		 broken;	/* a file could not be read or parsed */

	size_t		 items, regexes;
	bool		 toobig;

	struct ruleset	*rs;
	size_t		 captopics;
	struct idmark	*idmarks;	/* where each topic's id is written */
	size_t		 capidmarks;
	struct inhmark	*inhmarks;
	size_t		 ninhmarks, capinhmarks;
};

/* The items of a list; a lone scalar counts as a list of one when lenient,
 * null as an empty list. */
struct items {
	yaml_node_item_t	*v;
	size_t			 n;
	yaml_node_item_t	 one;
};

/* ---- rules.c: the set's arena ---------------------------------------- */

/* A copy of s[0..n) and a NUL in rs's arena, freed with the set. */
char	*rules_strndup(struct ruleset *rs, const char *s, size_t n);
/* n bytes in rs's arena, aligned for any of the set's structures. */
void	*rules_alloc(struct ruleset *rs, size_t n);

/* ---- rules_yaml.c: YAML, errors, scalars ------------------------------ */

/* Checks buf (syntax, one document, depth, node count) while it builds
 * it as the document of the current file.  Returns 0, or -1 after an
 * error. */
int	ryaml_load_buffer(struct loader *ld, const char *buf, size_t len);
/* The nodes a file of len bytes is given room for at first. */
size_t	ryaml_nodes_for(size_t len);
/* Frees a document that ryaml_load_buffer() built for file f. */
void	ryaml_document_free(struct lfile *f);

int	ryaml_line(const yaml_mark_t *m);	/* 1-based */
int	ryaml_col(const yaml_mark_t *m);	/* 1-based */
/* Node id of the current file's document, or NULL. */
yaml_node_t *ryaml_node(struct loader *ld, int id);
bool	ryaml_is_null(const yaml_node_t *n);	/* "", ~, null, Null, NULL */
/* The text of a scalar that is not null and holds no NUL, or NULL. */
const char *ryaml_text(const yaml_node_t *n);
/* What n is, for "expected X, got Y": "a list", "'text'"...; buf holds
 * SHOWSZ bytes. */
const char *ryaml_got(const yaml_node_t *n, char *buf);
/* s cut to 60 bytes, control characters escaped; buf holds SHOWSZ. */
const char *ryaml_show(const char *s, char *buf);
size_t	ryaml_utf8_len(unsigned char lead);
/* One character at s; invalid sequences give U+FFFD and *n = 1. */
uint32_t ryaml_utf8_decode(const char *s, size_t *n);

/* Records "path:line:col: message" (line 0: "path: message") for file. */
void	ryaml_error_at(struct loader *ld, size_t file, int line, int col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Records an error at node n of the current file. */
void	ryaml_error(struct loader *ld, const yaml_node_t *n, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* Whether loading stopped: too many errors, or the set is too large. */
bool	ryaml_stopped(const struct loader *ld);
/* Takes n items from the budget; false (reported once) when spent. */
bool	ryaml_budget(struct loader *ld, const yaml_node_t *at, size_t n);
/* Reports the file being read as larger than rules.max_file_bytes. */
void	ryaml_file_too_large(struct loader *ld);

size_t	ryaml_npairs(const yaml_node_t *n);	/* of mapping n */
/* Key and value of pair i of mapping n; false when one is missing. */
bool	ryaml_pair(struct loader *ld, const yaml_node_t *n, size_t i,
	    yaml_node_t **k, yaml_node_t **v);
/* The items of list n (see struct items) as `what`, which should be
 * `expected`.  Returns 0, or -1 after an error. */
int	ryaml_items(struct loader *ld, yaml_node_t *n, const char *what,
	    const char *expected, bool lenient, struct items *it);
/* Reads mapping n, whose keys should be known[], into key[] and val[]
 * (NULL when absent), reporting unknown, repeated and non-string keys.
 * Returns the mask of known keys given as "did you mean". */
uint32_t ryaml_keys(struct loader *ld, yaml_node_t *n,
	    const char *const *known, size_t nknown, const char *in,
	    yaml_node_t **key, yaml_node_t **val);
/* "a, b or c" into buf. */
void	ryaml_join_keys(const char *const *known, size_t n, char *buf,
	    size_t size);
/* Reports the repeated keys of a mapping whose keys are free. */
void	ryaml_dup_keys(struct loader *ld, yaml_node_t *n, const char *in);

/* "1h30m", "5m", a bare number of seconds; 0 allowed.  0 or -1. */
int	ryaml_parse_duration(const char *s, int64_t *out);
int	ryaml_parse_whole(const char *s, int64_t *out);	/* <= 18 digits */
int	ryaml_parse_number(const char *s, double *out);	/* finite */
/* The largest unit that divides s: "2h", "90s". */
const char *ryaml_format_duration(int64_t s, char *buf, size_t size);
/* A duration > 0 and <= RULES_MAX_DURATION at n, as `what`.  0 or -1. */
int	ryaml_duration(struct loader *ld, yaml_node_t *n, const char *what,
	    int64_t *out);
/* A number > 0 at n, as `what`.  0 or -1. */
int	ryaml_positive(struct loader *ld, yaml_node_t *n, const char *what,
	    double *out);

/* ---- rules_match.c: keywords, $lists, match --------------------------- */

/* Letters, digits, '_', '.' and '-', at most 128 bytes. */
bool	rmatch_is_field_name(const char *s);
/* Pass 1: the `lists` mapping of the current file. */
void	rmatch_parse_lists(struct loader *ld, yaml_node_t *n);
/* After pass 1: sorts the lists and reports names defined twice. */
void	rmatch_index_lists(struct loader *ld);
void	rmatch_free_lists(struct loader *ld);
/* A topic's `match`: its keywords and where conditions. */
void	rmatch_parse(struct loader *ld, struct rule_topic *t, yaml_node_t *n);

/* ---- rules_topic.c: one topic ----------------------------------------- */

/* Pass 2: one item of `topics`, appended to ld->rs. */
void	rtopic_parse(struct loader *ld, yaml_node_t *n);
void	rtopic_free(struct rule_topic *t);	/* what t owns, not t */

/* ---- rules_alert.c: alert blocks -------------------------------------- */

/* One alert block, appended to t->alerts (capacity *cap) when good. */
void	ralert_parse(struct loader *ld, struct rule_topic *t, size_t *cap,
	    yaml_node_t *n);
/* A topic's `alert`: one block or a list of them. */
void	ralert_parse_list(struct loader *ld, struct rule_topic *t,
	    yaml_node_t *n);

/* ---- the key tables, for the schema (schema.c) ----------------------- */

/* The keys of one mapping of the rule format, as the loader checks them,
 * with a line of help each (help[i] goes with names[i]). */
struct rkeys {
	const char *const	*names;
	const char *const	*help;
	size_t			 n;
};

extern const struct rkeys rules_file_keys;	/* rules.c: lists, topics */
extern const struct rkeys rtopic_keys;		/* a topic */
extern const struct rkeys rtopic_tests_keys;	/* a topic's tests */
extern const struct rkeys rmatch_keys;		/* a topic's match */

/* How the value of an alert key is written and where it goes. */
enum akey_type {
	AT_DURATION,	/* int64_t seconds: 30s, 5m, 2h, 1d; > 0, <= 3650d */
	AT_WHOLE64,	/* int64_t: a whole number from min (to max if > 0) */
	AT_WHOLE,	/* int: the same */
	AT_POSITIVE,	/* double > 0 */
	AT_PROBABILITY,	/* double, 0 < p < RULES_MAX_POISSON_P */
	AT_SEVERITY,	/* enum severity, by name */
	AT_COUNT,	/* enum rule_count, by name */
	AT_BLOCK,	/* read by the row's own parser */
};

#define AF_REQUIRED	0x1	/* the block needs it */
#define AF_CONDITION	0x2	/* the block needs one of them */
#define AF_BASELINE	0x4	/* compares with the baseline: needs one */

struct aparse;

/* A key of an alert block, of its baseline or of its poisson mapping. */
struct akey {
	const char	*name;
	enum akey_type	 type;
	size_t		 off;		/* the field of struct rule_alert */
	int64_t		 min, max;	/* AT_WHOLE*: max 0 is no maximum */
	int		(*parse)(struct aparse *, yaml_node_t *); /* AT_BLOCK */
	unsigned	 flags;		/* AF_* */
	const char	*help;
};

/* The rows of one alert table. */
struct akeys {
	const struct akey	*rows;
	size_t			 n;
};

extern const struct akeys ralert_keys;		/* an alert block */
extern const struct akeys ralert_baseline_keys;	/* baseline: {...} */
extern const struct akeys ralert_poisson_keys;	/* poisson: {...} */

#endif
