/*
 * rules.c — rule files (YAML) → an immutable, refcounted rule set.
 *
 * rules_load() reads every file first (a directory gives its *.yaml and
 * *.yml files, sorted by name), checks each with libyaml's event parser
 * (syntax, nesting depth, node count) and loads it as a libyaml document.
 * Two passes over the documents follow: the first collects the `lists` of
 * every file, so that a file may use a list defined in another; the second
 * builds the topics, expanding $lists, compiling regexes with PCRE2 (JIT
 * when it can) and checking alert blocks against the counter resolution.
 * Every problem is recorded with its file and the libyaml mark of the node
 * at fault; at the end the errors are sorted by file and position and
 * appended to the caller's diag, and any error throws the whole set away.
 * Aliases are followed, so the work is bounded by an item budget and the
 * number of errors by a cap.  Loading touches no global state; a loaded set
 * is read-only, shared by a plain reference count from one thread.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "rules.h"
#include "xmalloc.h"

#define RULES_MAX_FILE		(16 * 1024 * 1024)
#define RULES_MAX_DEPTH		32
#define RULES_MAX_NODES		2000000
#define RULES_MAX_ITEMS		1000000
#define RULES_MAX_REGEX		50000
#define RULES_MAX_ERRORS	1000
#define RULES_MAX_GROUPS	64
#define RULES_MAX_ID		64
#define RULES_MAX_COUNT_BY	16
#define RULES_MAX_LOOKBACK	365
#define RULES_MAX_DURATION	(3650LL * 86400)
#define RULES_DEFAULT_RES	10
#define RULES_DEFAULT_COOLDOWN	1800
#define RULES_DEFAULT_LOOKBACK	7
#define RULES_MAX_GROUP_WAIT	3600
#define RULES_MAX_INHIBIT	16

#define SHOWSZ	256		/* show() and got() buffers */

/* An error, kept until the end so that they can be sorted. */
struct lerr {
	size_t	 file;
	int	 line, col;
	size_t	 seq;
	char	*msg;		/* complete "path:line:col: message" */
};

struct lfile {
	char		*path;
	yaml_document_t	 doc;
	bool		 loaded;
	yaml_node_t	*topics;	/* `topics`, found in pass 1 */
};

/* A keyword as parsed, before it is placed in a topic. */
struct lkw {
	char		*text;
	char		*display;
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

struct kwbuf {
	struct rule_kw	*v;
	size_t		 n, cap;
};

struct loader {
	int64_t		 res;
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

static const char *const top_keys[] = { "lists", "topics" };
enum { TOP_LISTS, TOP_TOPICS, TOP__N };

static const char *const topic_keys[] = {
	"id", "name", "tags", "match", "count_by", "alert", "tests",
	"group_wait", "inhibit"
};
enum { TK_ID, TK_NAME, TK_TAGS, TK_MATCH, TK_COUNT_BY, TK_ALERT, TK_TESTS,
	TK_GROUP_WAIT, TK_INHIBIT, TK__N };

static const char *const match_keys[] = { "any", "all", "none", "where" };
enum { MK_ANY, MK_ALL, MK_NONE, MK_WHERE, MK__N };

static const char *const alert_keys[] = {
	"window", "baseline", "min_count", "threshold", "ratio", "zscore",
	"cooldown", "resolve_after", "severity", "poisson"
};
enum { AK_WINDOW, AK_BASELINE, AK_MIN_COUNT, AK_THRESHOLD, AK_RATIO,
	AK_ZSCORE, AK_COOLDOWN, AK_RESOLVE, AK_SEVERITY, AK_POISSON, AK__N };

static const char *const baseline_keys[] = {
	"period", "lookback", "halflife", "exclude"
};
enum { BK_PERIOD, BK_LOOKBACK, BK_HALFLIFE, BK_EXCLUDE, BK__N };

static const char *const poisson_keys[] = { "p", "factor" };
enum { PK_P, PK_FACTOR, PK__N };

static const char *const tests_keys[] = { "match", "no_match" };
enum { XK_MATCH, XK_NO_MATCH, XK__N };

static const char *const severity_names[] = { "info", "warning", "critical" };

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/* ---- small helpers ---------------------------------------------------- */

static int
mark_line(const yaml_mark_t *m)
{
	return m->line >= (size_t)INT_MAX - 1 ? INT_MAX : (int)m->line + 1;
}

static int
mark_col(const yaml_mark_t *m)
{
	return m->column >= (size_t)INT_MAX - 1 ? INT_MAX : (int)m->column + 1;
}

static size_t
utf8_len(unsigned char c)
{
	if (c < 0xc0)
		return 1;
	if (c < 0xe0)
		return 2;
	if (c < 0xf0)
		return 3;
	return 4;
}

/* Decodes one UTF-8 character at s (NUL-terminated); *n is its length.
 * Invalid sequences give U+FFFD and a length of 1. */
static uint32_t
utf8_decode(const char *s, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = utf8_len(u[0]), i;
	uint32_t c;

	*n = 1;
	if (u[0] < 0x80)
		return u[0];
	if (u[0] < 0xc2 || u[0] > 0xf4)
		return 0xfffd;
	c = u[0] & (0xff >> (len + 1));
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0xfffd;
		c = (c << 6) | (u[i] & 0x3f);
	}
	*n = len;
	return c;
}

/*
 * Copies s for an error message: at most 60 bytes of it (whole characters),
 * control characters escaped, "..." when cut: at most 4 * 60 + 3 bytes and
 * the NUL, so buf needs SHOWSZ - 1 bytes.
 */
static const char *
show(const char *s, char *buf)
{
	size_t i = 0, o = 0, n, k;
	unsigned char c;

	while (s[i] != '\0' && i < 60) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			if (c == '\n' || c == '\t') {
				buf[o++] = '\\';
				buf[o++] = c == '\n' ? 'n' : 't';
			} else {
				snprintf(buf + o, SHOWSZ - o, "\\x%02x", c);
				o += 4;
			}
			i++;
			continue;
		}
		n = utf8_len(c);
		for (k = 1; k < n; k++) {
			if (s[i + k] == '\0') {
				n = k;
				break;
			}
		}
		if (i + n > 60)
			break;
		memcpy(buf + o, s + i, n);
		o += n;
		i += n;
	}
	if (s[i] != '\0') {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static bool
is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = (const char *)n->data.scalar.value;
	return (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

/* The text of a scalar that is not null and holds no NUL byte, or NULL. */
static const char *
sval(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return NULL;
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return NULL;
	return s;
}

/* Says what a node is, for "expected X, got Y". */
static const char *
got(const yaml_node_t *n, char *buf)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "an empty value";
		if (strlen((const char *)n->data.scalar.value) !=
		    n->data.scalar.length)
			return "a string with a NUL character";
		/* show() writes at most 248 bytes, so the quotes fit. */
		buf[0] = '\'';
		show((const char *)n->data.scalar.value, buf + 1);
		strcat(buf, "'");
		return buf;
	default:
		return "nothing";
	}
}

static bool
is_field_name(const char *s)
{
	const char *p;

	if (*s == '\0' || strlen(s) > 128)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		    *p == '-'))
			return false;
	}
	return true;
}

static bool
is_list_name(const char *s)
{
	const char *p;

	if (*s == '\0' || strlen(s) > RULES_MAX_ID)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	}
	return true;
}

static bool
is_topic_id(const char *s)
{
	const char *p;

	if (*s == '\0' || *s == '-' || strlen(s) > RULES_MAX_ID)
		return false;
	for (p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			return false;
	}
	return true;
}

/*
 * Whether a character can be matched: letters, digits and ideographs, as
 * opposed to spaces, punctuation, symbols, marks and format characters
 * (which normalisation drops or skips).  Coarse blocks suffice here.
 */
static bool
is_matchable(uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
	} no[] = {
		{ 0x0080, 0x00a9 }, { 0x00ab, 0x00b1 }, { 0x00b4, 0x00b4 },
		{ 0x00b6, 0x00b8 }, { 0x00bb, 0x00bb }, { 0x00bf, 0x00bf },
		{ 0x00d7, 0x00d7 }, { 0x00f7, 0x00f7 }, { 0x0300, 0x036f },
		{ 0x2000, 0x206f }, { 0x20a0, 0x20ff }, { 0x2190, 0x245f },
		{ 0x2500, 0x2bff }, { 0x2e00, 0x2e7f }, { 0x3000, 0x3004 },
		{ 0x3008, 0x3020 }, { 0x3030, 0x3030 }, { 0x303d, 0x303f },
		{ 0x30fb, 0x30fb }, { 0xd800, 0xf8ff }, { 0xfe00, 0xfe1f },
		{ 0xfe30, 0xfe6f }, { 0xfeff, 0xfeff }, { 0xff00, 0xff0f },
		{ 0xff1a, 0xff20 }, { 0xff3b, 0xff40 }, { 0xff5b, 0xff65 },
		{ 0xffe0, 0xffff }, { 0x1f000, 0x1faff }, { 0xe0000, 0xe01ef },
		{ 0xf0000, 0x10ffff },
	};
	size_t i;

	if (c < 0x80)
		return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z'));
	for (i = 0; i < nitems(no); i++) {
		if (c >= no[i].lo && c <= no[i].hi)
			return false;
	}
	return true;
}

static bool
is_space(uint32_t c)
{
	return (c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0 ||
	    c == 0x3000);
}

static const char *
fmt_dur(int64_t s, char *buf, size_t size)
{
	static const struct {
		int64_t	n;
		char	u;
	} units[] = { { 604800, 'w' }, { 86400, 'd' }, { 3600, 'h' },
	    { 60, 'm' } };
	size_t i;

	for (i = 0; i < nitems(units); i++) {
		if (s % units[i].n == 0) {
			snprintf(buf, size, "%" PRId64 "%c", s / units[i].n,
			    units[i].u);
			return buf;
		}
	}
	snprintf(buf, size, "%" PRId64 "s", s);
	return buf;
}

/* Parses a duration that may be 0; -1 on bad syntax or overflow. */
static int
dur_parse(const char *s, int64_t *out)
{
	int64_t total = 0, v, mul;
	const char *p = s;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return -1;
		v = 0;
		while (*p >= '0' && *p <= '9') {
			if (v > (INT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		switch (*p) {
		case '\0':
			if (p != s && total == 0 &&
			    strspn(s, "0123456789") == strlen(s)) {
				*out = v;	/* a bare number: seconds */
				return 0;
			}
			return -1;
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'w':
			mul = 604800;
			break;
		default:
			return -1;
		}
		p++;
		if (v > (INT64_MAX - total) / mul)
			return -1;
		total += v * mul;
	}
	*out = total;
	return 0;
}

/* A whole number of at most 18 digits; -1 otherwise. */
static int
int_parse(const char *s, int64_t *out)
{
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

static int
num_parse(const char *s, double *out)
{
	size_t n = strlen(s);
	char *end;
	double v;

	if (n == 0 || n > 64 || strspn(s, "0123456789.eE+-") != n)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || errno != 0 || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* ---- errors ----------------------------------------------------------- */

static void
verr_at(struct loader *ld, size_t file, int line, int col, const char *fmt,
    va_list ap)
{
	struct lerr *e;
	const char *path = ld->files[file].path;
	char *body;

	if (ld->capped)
		return;
	if (ld->nerrs == RULES_MAX_ERRORS) {
		ld->capped = true;
		ld->capfile = file;
		return;
	}
	if (vasprintf(&body, fmt, ap) < 0)
		body = xstrdup(fmt);
	ld->errs = xgrow(ld->errs, &ld->caperrs, ld->nerrs + 1,
	    sizeof *ld->errs);
	e = &ld->errs[ld->nerrs];
	e->file = file;
	e->line = line;
	e->col = col;
	e->seq = ld->nerrs;
	if (line > 0)
		e->msg = xasprintf("%s:%d:%d: %s", path, line, col, body);
	else
		e->msg = xasprintf("%s: %s", path, body);
	free(body);
	ld->nerrs++;
}

static void __attribute__((format(printf, 5, 6)))
err_at(struct loader *ld, size_t file, int line, int col, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(ld, file, line, col, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 3, 4)))
node_err(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(ld, ld->cur, mark_line(&n->start_mark),
	    mark_col(&n->start_mark), fmt, ap);
	va_end(ap);
}

static bool
stopped(const struct loader *ld)
{
	return (ld->toobig || ld->capped);
}

/* Takes n items from the budget that bounds the work aliases can cause. */
static bool
budget(struct loader *ld, const yaml_node_t *at, size_t n)
{
	if (ld->toobig)
		return false;
	ld->items += n;
	if (ld->items > RULES_MAX_ITEMS) {
		node_err(ld, at, "rule set too large: more than %d keywords, "
		    "values and tests (aliases and $lists count each time they "
		    "are used)", RULES_MAX_ITEMS);
		ld->toobig = true;
		return false;
	}
	return true;
}

static int
cmp_lerr(const void *a, const void *b)
{
	const struct lerr *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* ---- document access -------------------------------------------------- */

static yaml_node_t *
node(struct loader *ld, int id)
{
	return yaml_document_get_node(&ld->files[ld->cur].doc, id);
}

static int
node_id(struct loader *ld, yaml_node_t *n)
{
	return (int)(n - ld->files[ld->cur].doc.nodes.start) + 1;
}

/* The items of a list; a lone scalar counts as a list of one when lenient,
 * null as an empty list.  Returns -1 after an error. */
struct items {
	yaml_node_item_t	*v;
	size_t			 n;
	yaml_node_item_t	 one;
};

static int
get_items(struct loader *ld, yaml_node_t *n, const char *what,
    const char *expected, bool lenient, struct items *it)
{
	char g[SHOWSZ];

	it->v = NULL;
	it->n = 0;
	if (is_null(n))
		return 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		it->v = n->data.sequence.items.start;
		it->n = (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
		return 0;
	}
	if (lenient && n->type == YAML_SCALAR_NODE) {
		it->one = node_id(ld, n);
		it->v = &it->one;
		it->n = 1;
		return 0;
	}
	node_err(ld, n, "%s: expected %s, got %s", what, expected, got(n, g));
	return -1;
}

static void
join_keys(const char *const *known, size_t n, char *buf, size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++) {
		o += (size_t)snprintf(buf + o, size - o, "%s%s",
		    i == 0 ? "" : (i == n - 1 ? " or " : ", "), known[i]);
	}
}

/*
 * Reads a mapping with a fixed set of keys into key[]/val[] (NULL when
 * absent), reporting keys that are unknown, repeated or not strings.
 * Returns a mask of the known keys that were suggested for unknown ones,
 * so that callers do not also report them missing.
 */
static uint32_t
get_keys(struct loader *ld, yaml_node_t *n, const char *const *known,
    size_t nknown, const char *in, yaml_node_t **key, yaml_node_t **val)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	const char *name, *sug;
	char g[SHOWSZ], s1[SHOWSZ], all[256];
	uint32_t suggested = 0;
	size_t i;

	for (i = 0; i < nknown; i++)
		key[i] = val[i] = NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = node(ld, p->key);
		v = node(ld, p->value);
		if (k == NULL || v == NULL)
			continue;
		if ((name = sval(k)) == NULL) {
			node_err(ld, k, "expected a key in %s, got %s", in,
			    got(k, g));
			continue;
		}
		for (i = 0; i < nknown; i++) {
			if (strcmp(name, known[i]) == 0)
				break;
		}
		if (i == nknown) {
			sug = rules_suggest(name, known, nknown);
			if (sug != NULL) {
				node_err(ld, k, "unknown key '%s' in %s "
				    "(did you mean '%s'?)", show(name, s1), in,
				    sug);
				for (i = 0; i < nknown; i++) {
					if (known[i] == sug)
						suggested |= 1U << i;
				}
			} else {
				join_keys(known, nknown, all, sizeof all);
				node_err(ld, k, "unknown key '%s' in %s "
				    "(expected %s)", show(name, s1), in, all);
			}
		} else if (val[i] != NULL)
			node_err(ld, k, "duplicate key '%s' in %s", known[i],
			    in);
		else {
			key[i] = k;
			val[i] = v;
		}
	}
	return suggested;
}

static int
cmp_keynode(const void *a, const void *b)
{
	const yaml_node_t *x = *(yaml_node_t *const *)a;
	const yaml_node_t *y = *(yaml_node_t *const *)b;
	int c;

	c = strcmp((const char *)x->data.scalar.value,
	    (const char *)y->data.scalar.value);
	if (c != 0)
		return c;
	if (x->start_mark.index != y->start_mark.index)
		return x->start_mark.index < y->start_mark.index ? -1 : 1;
	return 0;
}

/* Reports repeated keys of a mapping with free keys (sorting, not n²). */
static void
dup_keys(struct loader *ld, yaml_node_t *n, const char *in)
{
	yaml_node_pair_t *p;
	yaml_node_t **keys, *k;
	size_t nk = 0, i;
	char s1[SHOWSZ];

	keys = xcalloc((size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start), sizeof *keys);
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		if ((k = node(ld, p->key)) != NULL && sval(k) != NULL)
			keys[nk++] = k;
	}
	if (nk > 0)
		qsort(keys, nk, sizeof *keys, cmp_keynode);
	for (i = 1; i < nk; i++) {
		if (strcmp((const char *)keys[i]->data.scalar.value,
		    (const char *)keys[i - 1]->data.scalar.value) == 0) {
			node_err(ld, keys[i], "duplicate key '%s' in %s",
			    show((const char *)keys[i]->data.scalar.value, s1),
			    in);
		}
	}
	free(keys);
}

/* ---- keywords --------------------------------------------------------- */

static void
lkw_free(struct lkw *k)
{
	free(k->text);
	free(k->display);
	k->text = k->display = NULL;
}

/* Compiles a regex; reports errors unless quiet.  NULL on failure. */
static pcre2_code *
compile_re(struct loader *ld, const yaml_node_t *at, const char *display,
    const char *pat, uint32_t flags, bool quiet)
{
	pcre2_code *re;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	char s1[SHOWSZ];
	int ec;

	if (ld->toobig)
		return NULL;
	if (++ld->regexes > RULES_MAX_REGEX) {
		node_err(ld, at, "too many regexes in the rule set (more than "
		    "%d)", RULES_MAX_REGEX);
		ld->toobig = true;
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)pat, strlen(pat),
	    PCRE2_UTF | PCRE2_UCP | flags, &ec, &off, NULL);
	if (re == NULL) {
		if (!quiet) {
			if (pcre2_get_error_message(ec, msg, sizeof msg) < 0)
				snprintf((char *)msg, sizeof msg, "error %d",
				    ec);
			node_err(ld, at, "invalid regex '%s': %s at offset %zu",
			    show(display, s1), (const char *)msg, (size_t)off);
		}
		return NULL;
	}
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);	/* optional */
	return re;
}

static bool
re_matches_empty(pcre2_code *re)
{
	pcre2_match_data *md;
	int rc;

	md = pcre2_match_data_create_from_pattern(re, NULL);
	if (md == NULL)
		return false;
	rc = pcre2_match(re, (PCRE2_SPTR)"", 0, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/*
 * Splits "/source/flags" into the source and PCRE2 options.  Returns the
 * source (caller frees), or NULL after an error.
 */
static char *
split_regex(struct loader *ld, const yaml_node_t *at, const char *s,
    uint32_t *flags)
{
	const char *end = strrchr(s, '/'), *f;
	char s1[SHOWSZ], s2[SHOWSZ], fc[8];
	size_t n;

	*flags = 0;
	if (end == s) {
		node_err(ld, at, "regex '%s' has no closing '/'", show(s, s1));
		return NULL;
	}
	for (f = end + 1; *f != '\0'; f++) {
		switch (*f) {
		case 'i':
			*flags |= PCRE2_CASELESS;
			break;
		case 'm':
			*flags |= PCRE2_MULTILINE;
			break;
		case 's':
			*flags |= PCRE2_DOTALL;
			break;
		case 'x':
			*flags |= PCRE2_EXTENDED;
			break;
		default:
			n = utf8_len((unsigned char)*f);
			if (n > strlen(f))
				n = strlen(f);
			memcpy(fc, f, n);
			fc[n] = '\0';
			node_err(ld, at, "unknown regex flag '%s' in '%s' "
			    "(expected i, m, s or x)", show(fc, s2),
			    show(s, s1));
			return NULL;
		}
	}
	if (end == s + 1) {
		node_err(ld, at, "empty regex '%s'", show(s, s1));
		return NULL;
	}
	return xstrndup(s + 1, (size_t)(end - s - 1));
}

/*
 * Parses a keyword scalar (not a $list): a /regex/flags or a literal.  A
 * regex is compiled to check it; its code goes to *rep (or is freed when
 * rep is NULL).  Returns 0, or -1 after an error.
 */
static int
parse_kw(struct loader *ld, yaml_node_t *n, struct lkw *kw, pcre2_code **rep)
{
	const char *s = (const char *)n->data.scalar.value, *p, *start, *end;
	pcre2_code *re;
	char s1[SHOWSZ];
	uint32_t c;
	size_t len;
	bool any = false;

	memset(kw, 0, sizeof *kw);
	if (rep != NULL)
		*rep = NULL;
	if (s[0] == '/') {
		if ((kw->text = split_regex(ld, n, s, &kw->flags)) == NULL)
			return -1;
		re = compile_re(ld, n, s, kw->text, kw->flags, false);
		if (re == NULL) {
			lkw_free(kw);
			return -1;
		}
		if (re_matches_empty(re)) {
			node_err(ld, n, "regex '%s' matches empty text, so it "
			    "would hit every post", show(s, s1));
			pcre2_code_free(re);
			lkw_free(kw);
			return -1;
		}
		kw->is_regex = true;
		kw->display = xstrdup(s);
		if (rep != NULL)
			*rep = re;
		else
			pcre2_code_free(re);
		return 0;
	}

	/* A literal: trim spaces, then it must hold something to match. */
	start = end = NULL;
	for (p = s; *p != '\0'; p += len) {
		c = utf8_decode(p, &len);
		if (is_space(c))
			continue;
		if (start == NULL)
			start = p;
		end = p + len;
		if (is_matchable(c))
			any = true;
	}
	if (!any) {
		node_err(ld, n, "keyword has no characters to match");
		return -1;
	}
	kw->text = xstrndup(start, (size_t)(end - start));
	kw->display = xstrdup(s);
	return 0;
}

/* Places a keyword in a topic; re is taken over (compiled here if NULL). */
static void
add_kw(struct loader *ld, struct kwbuf *b, const struct lkw *k,
    pcre2_code *re, enum kw_role role, unsigned group, yaml_node_t *at)
{
	struct rule_kw *kw;

	if (!budget(ld, at, 1)) {
		pcre2_code_free(re);
		return;
	}
	if (k->is_regex && re == NULL) {
		re = compile_re(ld, at, k->display, k->text, k->flags, true);
		if (re == NULL)
			return;
	}
	b->v = xgrow(b->v, &b->cap, b->n + 1, sizeof *b->v);
	kw = &b->v[b->n++];
	memset(kw, 0, sizeof *kw);
	kw->text = xstrdup(k->text);
	kw->display = xstrdup(k->display);
	kw->is_regex = k->is_regex;
	kw->re_flags = k->flags;
	kw->re = re;
	kw->role = role;
	kw->group = (uint16_t)group;
	kw->line = mark_line(&at->start_mark);
	kw->col = mark_col(&at->start_mark);
}

/* Finds the list named by a "$name" scalar, or reports it unknown. */
static struct llist *
find_list(struct loader *ld, yaml_node_t *ref)
{
	const char *name = (const char *)ref->data.scalar.value + 1, *sug;
	size_t lo = 0, hi = ld->nlists, mid;
	char s1[SHOWSZ];

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(ld->lists[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ld->nlists && strcmp(ld->lists[lo].name, name) == 0)
		return &ld->lists[lo];
	if (ld->broken)
		return NULL;	/* it may be in the file that failed */
	sug = rules_suggest(name, ld->lnames, ld->nlnames);
	if (sug != NULL)
		node_err(ld, ref, "unknown list '$%s' (did you mean '$%s'?)",
		    show(name, s1), sug);
	else
		node_err(ld, ref, "unknown list '$%s'", show(name, s1));
	return NULL;
}

/* One keyword or $list in match.any/all/none.  Returns 0 or -1. */
static int
kw_item(struct loader *ld, struct kwbuf *b, yaml_node_t *n, const char *what,
    enum kw_role role, unsigned group)
{
	struct llist *l;
	struct lkw k;
	pcre2_code *re;
	const char *s;
	char g[SHOWSZ];
	size_t i;

	if ((s = sval(n)) == NULL) {
		node_err(ld, n, "%s: expected a keyword or $list, got %s", what,
		    got(n, g));
		return -1;
	}
	if (s[0] == '$') {
		if ((l = find_list(ld, n)) == NULL || l->bad)
			return -1;
		for (i = 0; i < l->nkws && !stopped(ld); i++)
			add_kw(ld, b, &l->kws[i], NULL, role, group, n);
		return 0;
	}
	if (parse_kw(ld, n, &k, &re) == -1)
		return -1;
	add_kw(ld, b, &k, re, role, group, n);
	lkw_free(&k);
	return 0;
}

/* match.any or match.none: a list of keywords and $lists.  Returns the
 * number of items. */
static size_t
parse_kwlist(struct loader *ld, struct kwbuf *b, yaml_node_t *n,
    const char *what, enum kw_role role)
{
	struct items it;
	yaml_node_t *item;
	size_t i;

	if (get_items(ld, n, what, "a list of keywords", true, &it) == -1)
		return 0;
	if (it.n == 0) {
		node_err(ld, n, "%s: expected at least one keyword", what);
		return 0;
	}
	for (i = 0; i < it.n && !stopped(ld); i++) {
		if ((item = node(ld, it.v[i])) != NULL)
			(void)kw_item(ld, b, item, what, role, 0);
	}
	return it.n;
}

/* match.all: items are keywords, $lists or lists of them (OR-groups). */
static uint16_t
parse_all(struct loader *ld, struct kwbuf *b, yaml_node_t *n)
{
	struct items it, git;
	yaml_node_t *item, *sub;
	char g[SHOWSZ];
	size_t i, j;

	if (get_items(ld, n, "all", "a list of keywords and groups", true,
	    &it) == -1)
		return 0;
	if (it.n == 0) {
		node_err(ld, n, "all: expected at least one keyword or group");
		return 0;
	}
	for (i = 0; i < it.n && !stopped(ld); i++) {
		if ((item = node(ld, it.v[i])) == NULL)
			continue;
		if (i == RULES_MAX_GROUPS) {
			node_err(ld, item, "all: more than %d groups",
			    RULES_MAX_GROUPS);
			return RULES_MAX_GROUPS;
		}
		if (item->type == YAML_SCALAR_NODE) {
			(void)kw_item(ld, b, item, "all", KW_ALL, (unsigned)i);
			continue;
		}
		if (item->type != YAML_SEQUENCE_NODE) {
			node_err(ld, item, "all: expected a keyword, $list or "
			    "a list of them, got %s", got(item, g));
			continue;
		}
		(void)get_items(ld, item, "all", "", false, &git);
		if (git.n == 0) {
			node_err(ld, item, "all: empty group");
			continue;
		}
		for (j = 0; j < git.n && !stopped(ld); j++) {
			if ((sub = node(ld, git.v[j])) != NULL)
				(void)kw_item(ld, b, sub, "all", KW_ALL,
				    (unsigned)i);
		}
	}
	return (uint16_t)(it.n > RULES_MAX_GROUPS ? RULES_MAX_GROUPS : it.n);
}

/* ---- where ------------------------------------------------------------ */

static void
add_value(struct rule_where *w, size_t *cap, const char *v)
{
	w->values = xgrow(w->values, cap, w->nvalues + 1, sizeof *w->values);
	w->values[w->nvalues++] = xstrdup(v);
}

/* A where value from a list item or the lone value: $list or exact. */
static void
where_value(struct loader *ld, struct rule_where *w, size_t *cap,
    yaml_node_t *n, const char *field)
{
	struct llist *l;
	const char *s;
	char g[SHOWSZ], s1[SHOWSZ], s2[SHOWSZ];
	size_t i;

	if ((s = sval(n)) == NULL) {
		node_err(ld, n, "where.%s: expected a value, got %s",
		    show(field, s1), got(n, g));
		return;
	}
	if (s[0] == '$') {
		if ((l = find_list(ld, n)) == NULL || l->bad)
			return;
		for (i = 0; i < l->nkws; i++) {
			if (l->kws[i].is_regex) {
				node_err(ld, n, "where.%s: list '$%s' holds a "
				    "regex (%s); where values must be exact",
				    show(field, s1), l->name,
				    show(l->kws[i].display, s2));
				return;
			}
		}
		if (!budget(ld, n, l->nkws))
			return;
		for (i = 0; i < l->nkws; i++)
			add_value(w, cap, l->kws[i].display);
		return;
	}
	if (s[0] == '/') {
		node_err(ld, n, "where.%s: a /regex/ must be the field's only "
		    "value, not an item of a list", show(field, s1));
		return;
	}
	if (budget(ld, n, 1))
		add_value(w, cap, s);
}

static void
parse_where(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v, *item;
	struct rule_where *w;
	struct items it;
	const char *field, *s;
	char g[SHOWSZ], s1[SHOWSZ];
	uint32_t flags;
	size_t npairs, cap, i;
	char *pat;

	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, "where: expected a mapping of field: value, "
		    "got %s", got(n, g));
		return;
	}
	npairs = (size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start);
	if (npairs == 0) {
		node_err(ld, n, "where: expected at least one field");
		return;
	}
	dup_keys(ld, n, "where");
	t->where = xcalloc(npairs, sizeof *t->where);
	for (p = n->data.mapping.pairs.start;
	    p < n->data.mapping.pairs.top && !stopped(ld); p++) {
		k = node(ld, p->key);
		v = node(ld, p->value);
		if (k == NULL || v == NULL)
			continue;
		if ((field = sval(k)) == NULL) {
			node_err(ld, k, "where: expected a field name, got %s",
			    got(k, g));
			continue;
		}
		if (!is_field_name(field)) {
			node_err(ld, k, "where: field name '%s' may only hold "
			    "letters, digits, '_', '.' and '-'",
			    show(field, s1));
			continue;
		}
		w = &t->where[t->nwhere++];
		w->field = xstrdup(field);
		w->line = mark_line(&v->start_mark);
		w->col = mark_col(&v->start_mark);
		cap = 0;
		if (v->type == YAML_SCALAR_NODE && (s = sval(v)) != NULL &&
		    s[0] == '/') {
			if ((pat = split_regex(ld, v, s, &flags)) == NULL)
				continue;
			w->re = compile_re(ld, v, s, pat, flags, false);
			free(pat);
			if (w->re != NULL)
				w->re_display = xstrdup(s);
			continue;
		}
		if (v->type == YAML_SCALAR_NODE) {
			where_value(ld, w, &cap, v, field);
			continue;
		}
		if (v->type != YAML_SEQUENCE_NODE) {
			node_err(ld, v, "where.%s: expected a value, a list of "
			    "values or a /regex/, got %s", show(field, s1),
			    got(v, g));
			continue;
		}
		(void)get_items(ld, v, "where", "", false, &it);
		if (it.n == 0) {
			node_err(ld, v, "where.%s: expected at least one value",
			    show(field, s1));
			continue;
		}
		for (i = 0; i < it.n && !stopped(ld); i++) {
			if ((item = node(ld, it.v[i])) != NULL)
				where_value(ld, w, &cap, item, field);
		}
	}
}

/* ---- match ------------------------------------------------------------ */

static void
parse_match(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	yaml_node_t *key[MK__N], *val[MK__N];
	struct kwbuf b = { NULL, 0, 0 };
	char g[SHOWSZ];
	uint32_t sug;

	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, "match: expected a mapping with any, all, none "
		    "or where, got %s", got(n, g));
		return;
	}
	sug = get_keys(ld, n, match_keys, MK__N, "match", key, val);
	if (val[MK_ANY] != NULL)
		t->has_any = parse_kwlist(ld, &b, val[MK_ANY], "any",
		    KW_ANY) > 0;
	if (val[MK_ALL] != NULL && !stopped(ld))
		t->nall = parse_all(ld, &b, val[MK_ALL]);
	if (val[MK_NONE] != NULL && !stopped(ld))
		parse_kwlist(ld, &b, val[MK_NONE], "none", KW_NONE);
	if (val[MK_WHERE] != NULL && !stopped(ld))
		parse_where(ld, t, val[MK_WHERE]);
	t->kws = b.v;
	t->nkws = b.n;

	if (val[MK_ANY] == NULL && val[MK_ALL] == NULL &&
	    val[MK_WHERE] == NULL &&
	    (sug & (1U << MK_ANY | 1U << MK_ALL | 1U << MK_WHERE)) == 0) {
		if (val[MK_NONE] != NULL)
			node_err(ld, key[MK_NONE], "match has only 'none', "
			    "which matches nothing: add 'any', 'all' or "
			    "'where'");
		else
			node_err(ld, n, "match needs at least one of 'any', "
			    "'all' or 'where'");
	}
}

/* ---- alerts ----------------------------------------------------------- */

static int
get_dur(struct loader *ld, yaml_node_t *n, const char *what, int64_t *out)
{
	const char *s = sval(n);
	char g[SHOWSZ];
	int64_t v;

	if (s == NULL || dur_parse(s, &v) == -1) {
		node_err(ld, n, "%s: expected a duration like 30s, 5m, 2h or "
		    "1d, got %s", what, got(n, g));
		return -1;
	}
	if (v == 0) {
		node_err(ld, n, "%s: expected a duration greater than 0, "
		    "got %s", what, got(n, g));
		return -1;
	}
	if (v > RULES_MAX_DURATION) {
		node_err(ld, n, "%s: duration %s is too long (at most 3650d)",
		    what, got(n, g));
		return -1;
	}
	*out = v;
	return 0;
}

static int
get_positive(struct loader *ld, yaml_node_t *n, const char *what,
    double *out)
{
	const char *s = sval(n);
	char g[SHOWSZ];

	if (s == NULL || num_parse(s, out) == -1 || !(*out > 0)) {
		node_err(ld, n, "%s: expected a number greater than 0, got %s",
		    what, got(n, g));
		return -1;
	}
	return 0;
}

/* baseline: {period: duration, lookback: n} (seasonal) or {halflife:
 * duration, exclude: x} (EWMA).  Returns 0 if the period or halflife is
 * good, else -1; *ok is cleared on any error.  *period is the node of the
 * period (NULL for an EWMA baseline), *half that of the halflife. */
static int
parse_seasonal(struct loader *ld, struct rule_alert *a, yaml_node_t *n,
    yaml_node_t **period, yaml_node_t **half, bool *ok)
{
	yaml_node_t *key[BK__N], *val[BK__N];
	const char *s;
	char g[SHOWSZ];
	uint32_t sug;
	int64_t v;
	int rc = 0;

	sug = get_keys(ld, n, baseline_keys, BK__N, "baseline", key, val);
	*period = val[BK_PERIOD];
	*half = val[BK_HALFLIFE];
	if (val[BK_HALFLIFE] != NULL) {
		/* an EWMA baseline */
		if (val[BK_PERIOD] != NULL || val[BK_LOOKBACK] != NULL) {
			node_err(ld, key[val[BK_PERIOD] != NULL ? BK_PERIOD :
			    BK_LOOKBACK], "baseline: halflife (a moving "
			    "average) and period/lookback (the same time in "
			    "earlier periods) are two kinds of baseline, "
			    "choose one");
			*ok = false;
			rc = -1;
		}
		*period = NULL;
		if (get_dur(ld, val[BK_HALFLIFE], "halflife",
		    &a->halflife_s) == -1) {
			*ok = false;
			rc = -1;
		}
		if (val[BK_EXCLUDE] != NULL && get_positive(ld,
		    val[BK_EXCLUDE], "exclude", &a->exclude) == -1)
			*ok = false;
		return rc;
	}
	if (val[BK_EXCLUDE] != NULL) {
		node_err(ld, key[BK_EXCLUDE], "baseline: exclude goes with a "
		    "halflife (e.g. {halflife: 1d, exclude: 20})");
		*ok = false;
	}
	a->lookback = RULES_DEFAULT_LOOKBACK;
	if (val[BK_PERIOD] == NULL) {
		if ((sug & (1U << BK_PERIOD | 1U << BK_HALFLIFE)) == 0)
			node_err(ld, n, "baseline has no 'period'");
		*ok = false;
		rc = -1;
	} else if (get_dur(ld, val[BK_PERIOD], "period", &a->period_s) == -1) {
		*ok = false;
		rc = -1;
	}
	if (val[BK_LOOKBACK] != NULL) {
		s = sval(val[BK_LOOKBACK]);
		if (s == NULL || int_parse(s, &v) == -1 || v < 1 ||
		    v > RULES_MAX_LOOKBACK) {
			node_err(ld, val[BK_LOOKBACK], "lookback: expected a "
			    "whole number from 1 to %d, got %s",
			    RULES_MAX_LOOKBACK, got(val[BK_LOOKBACK], g));
			*ok = false;
		} else
			a->lookback = (int)v;
	}
	return rc;
}

/* poisson: p, or {p: 0.001, factor: 1.5}.  Returns 0 or -1. */
static int
parse_poisson(struct loader *ld, struct rule_alert *a, yaml_node_t *n)
{
	yaml_node_t *key[PK__N], *val[PK__N], *pn = n;
	char g[SHOWSZ];
	int rc = 0;

	a->poisson_factor = 1.0;
	if (n->type == YAML_MAPPING_NODE) {
		uint32_t sug = get_keys(ld, n, poisson_keys, PK__N, "poisson",
		    key, val);

		if ((pn = val[PK_P]) == NULL) {
			if ((sug & 1U << PK_P) == 0)
				node_err(ld, n, "poisson has no 'p' (e.g. "
				    "{p: 0.001, factor: 1})");
			return -1;
		}
		if (val[PK_FACTOR] != NULL && get_positive(ld, val[PK_FACTOR],
		    "factor", &a->poisson_factor) == -1)
			rc = -1;
	} else if (n->type != YAML_SCALAR_NODE) {
		node_err(ld, n, "poisson: expected p or a mapping with p and "
		    "factor, got %s", got(n, g));
		return -1;
	}
	if (sval(pn) == NULL || num_parse(sval(pn), &a->poisson_p) == -1 ||
	    !(a->poisson_p > 0) || !(a->poisson_p < 0.5)) {
		node_err(ld, pn, "p: expected a probability between 0 and 0.5 "
		    "(e.g. 0.001), got %s", got(pn, g));
		a->poisson_p = 0;
		return -1;
	}
	return rc;
}

static void
parse_alert(struct loader *ld, struct rule_topic *t, size_t *cap,
    yaml_node_t *n)
{
	yaml_node_t *key[AK__N], *val[AK__N], *period = NULL, *half = NULL;
	struct rule_alert a;
	const char *s;
	char g[SHOWSZ], d1[32], d2[32];
	bool ok = true, win_ok = false, base_ok = false;
	uint32_t sug;
	int64_t v;
	size_t i;

	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, "alert: expected a mapping with a window and a "
		    "condition, got %s", got(n, g));
		return;
	}
	sug = get_keys(ld, n, alert_keys, AK__N, "alert", key, val);
	memset(&a, 0, sizeof a);
	a.min_count = 1;
	a.threshold = a.ratio = a.zscore = -1;
	a.cooldown_s = RULES_DEFAULT_COOLDOWN;
	a.severity = SEV_WARNING;
	a.line = mark_line(&n->start_mark);
	a.col = mark_col(&n->start_mark);

	if (val[AK_WINDOW] == NULL) {
		if ((sug & 1U << AK_WINDOW) == 0)
			node_err(ld, n, "alert has no 'window'");
		ok = false;
	} else if (get_dur(ld, val[AK_WINDOW], "window", &a.window_s) == 0)
		win_ok = true;
	else
		ok = false;

	if (val[AK_BASELINE] != NULL) {
		if (val[AK_BASELINE]->type == YAML_MAPPING_NODE)
			base_ok = parse_seasonal(ld, &a, val[AK_BASELINE],
			    &period, &half, &ok) == 0;
		else if (val[AK_BASELINE]->type == YAML_SEQUENCE_NODE)
			node_err(ld, val[AK_BASELINE], "baseline: expected a "
			    "duration or a mapping with period and lookback, "
			    "got a list");
		else
			base_ok = get_dur(ld, val[AK_BASELINE], "baseline",
			    &a.baseline_s) == 0;
		if (!base_ok)
			ok = false;
	}
	if (val[AK_MIN_COUNT] != NULL) {
		s = sval(val[AK_MIN_COUNT]);
		if (s == NULL || int_parse(s, &v) == -1 || v < 1) {
			node_err(ld, val[AK_MIN_COUNT], "min_count: expected a "
			    "whole number of at least 1, got %s",
			    got(val[AK_MIN_COUNT], g));
			ok = false;
		} else
			a.min_count = v;
	}
	if (val[AK_THRESHOLD] != NULL && get_positive(ld, val[AK_THRESHOLD],
	    "threshold", &a.threshold) == -1)
		ok = false;
	if (val[AK_RATIO] != NULL &&
	    get_positive(ld, val[AK_RATIO], "ratio", &a.ratio) == -1)
		ok = false;
	if (val[AK_ZSCORE] != NULL &&
	    get_positive(ld, val[AK_ZSCORE], "zscore", &a.zscore) == -1)
		ok = false;
	if (val[AK_POISSON] != NULL &&
	    parse_poisson(ld, &a, val[AK_POISSON]) == -1)
		ok = false;
	if (val[AK_COOLDOWN] != NULL &&
	    get_dur(ld, val[AK_COOLDOWN], "cooldown", &a.cooldown_s) == -1)
		ok = false;
	if (val[AK_RESOLVE] != NULL) {
		if (get_dur(ld, val[AK_RESOLVE], "resolve_after",
		    &a.resolve_after_s) == -1)
			ok = false;
	} else
		a.resolve_after_s = a.window_s;
	if (val[AK_SEVERITY] != NULL) {
		s = sval(val[AK_SEVERITY]);
		for (i = 0; s != NULL && i < nitems(severity_names); i++) {
			if (strcmp(s, severity_names[i]) == 0)
				break;
		}
		if (s == NULL || i == nitems(severity_names)) {
			node_err(ld, val[AK_SEVERITY], "severity: expected "
			    "info, warning or critical, got %s",
			    got(val[AK_SEVERITY], g));
			ok = false;
		} else
			a.severity = (enum severity)i;
	}

	/* How the values fit together. */
	if (win_ok && a.window_s % ld->res != 0) {
		node_err(ld, val[AK_WINDOW], "window %s is not a multiple of "
		    "the counter resolution (%s)",
		    fmt_dur(a.window_s, d1, sizeof d1),
		    fmt_dur(ld->res, d2, sizeof d2));
		ok = false;
	}
	if (base_ok && half != NULL) {
		if (a.halflife_s % ld->res != 0) {
			node_err(ld, half, "baseline halflife %s is not a "
			    "multiple of the counter resolution (%s)",
			    fmt_dur(a.halflife_s, d1, sizeof d1),
			    fmt_dur(ld->res, d2, sizeof d2));
			ok = false;
		} else if (win_ok && a.halflife_s < a.window_s) {
			node_err(ld, half, "baseline halflife %s must be at "
			    "least the window (%s)",
			    fmt_dur(a.halflife_s, d1, sizeof d1),
			    fmt_dur(a.window_s, d2, sizeof d2));
			ok = false;
		}
	} else if (base_ok && period == NULL) {
		if (a.baseline_s % ld->res != 0) {
			node_err(ld, val[AK_BASELINE], "baseline %s is not a "
			    "multiple of the counter resolution (%s)",
			    fmt_dur(a.baseline_s, d1, sizeof d1),
			    fmt_dur(ld->res, d2, sizeof d2));
			ok = false;
		} else if (win_ok && a.baseline_s < a.window_s) {
			node_err(ld, val[AK_BASELINE], "baseline %s must be at "
			    "least the window (%s)",
			    fmt_dur(a.baseline_s, d1, sizeof d1),
			    fmt_dur(a.window_s, d2, sizeof d2));
			ok = false;
		}
	} else if (base_ok) {
		if (a.period_s % ld->res != 0) {
			node_err(ld, period, "baseline period %s is not a "
			    "multiple of the counter resolution (%s)",
			    fmt_dur(a.period_s, d1, sizeof d1),
			    fmt_dur(ld->res, d2, sizeof d2));
			ok = false;
		} else if (win_ok && a.period_s <= a.window_s) {
			node_err(ld, period, "baseline period %s must be "
			    "longer than the window (%s)",
			    fmt_dur(a.period_s, d1, sizeof d1),
			    fmt_dur(a.window_s, d2, sizeof d2));
			ok = false;
		}
	}
	if (val[AK_THRESHOLD] == NULL && val[AK_RATIO] == NULL &&
	    val[AK_ZSCORE] == NULL && val[AK_POISSON] == NULL) {
		if ((sug & (1U << AK_THRESHOLD | 1U << AK_RATIO |
		    1U << AK_ZSCORE | 1U << AK_POISSON)) == 0)
			node_err(ld, n, "alert needs at least one of "
			    "threshold, ratio, zscore or poisson");
		ok = false;
	}
	if (val[AK_RATIO] != NULL && val[AK_BASELINE] == NULL &&
	    (sug & 1U << AK_BASELINE) == 0) {
		node_err(ld, key[AK_RATIO], "ratio needs a baseline to compare "
		    "with (e.g. baseline: 1h)");
		ok = false;
	}
	if (val[AK_ZSCORE] != NULL && val[AK_BASELINE] == NULL &&
	    (sug & 1U << AK_BASELINE) == 0) {
		node_err(ld, key[AK_ZSCORE], "zscore needs a baseline to "
		    "compare with (e.g. baseline: 1h)");
		ok = false;
	}
	if (val[AK_POISSON] != NULL && val[AK_BASELINE] == NULL &&
	    (sug & 1U << AK_BASELINE) == 0) {
		node_err(ld, key[AK_POISSON], "poisson needs a baseline to "
		    "compare with (e.g. baseline: 1h)");
		ok = false;
	}
	if (!ok || !budget(ld, n, 1))
		return;
	t->alerts = xgrow(t->alerts, cap, t->nalerts + 1, sizeof *t->alerts);
	t->alerts[t->nalerts++] = a;
}

static void
parse_alerts(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	struct items it;
	yaml_node_t *item;
	size_t cap = 0, i;
	char g[SHOWSZ];

	if (n->type == YAML_MAPPING_NODE) {
		parse_alert(ld, t, &cap, n);
		return;
	}
	if (n->type != YAML_SEQUENCE_NODE) {
		node_err(ld, n, "alert: expected a mapping or a list of "
		    "mappings, got %s", got(n, g));
		return;
	}
	(void)get_items(ld, n, "alert", "", false, &it);
	if (it.n == 0) {
		node_err(ld, n, "alert: expected at least one alert block");
		return;
	}
	for (i = 0; i < it.n && !stopped(ld); i++) {
		if ((item = node(ld, it.v[i])) != NULL)
			parse_alert(ld, t, &cap, item);
	}
}

/* ---- tests ------------------------------------------------------------ */

static void
parse_test(struct loader *ld, struct rule_topic *t, size_t *cap,
    yaml_node_t *n, const char *what, bool expect)
{
	struct rule_test *x;
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	const char *s, *name;
	char g[SHOWSZ], s1[SHOWSZ];
	size_t npairs;

	if (n->type != YAML_MAPPING_NODE) {
		if ((s = sval(n)) == NULL) {
			node_err(ld, n, "%s: expected a text or a mapping of "
			    "post fields, got %s", what, got(n, g));
			return;
		}
		if (!budget(ld, n, 1))
			return;
		t->tests = xgrow(t->tests, cap, t->ntests + 1,
		    sizeof *t->tests);
		x = &t->tests[t->ntests++];
		memset(x, 0, sizeof *x);
		x->expect_match = expect;
		x->text = xstrdup(s);
		x->line = mark_line(&n->start_mark);
		x->col = mark_col(&n->start_mark);
		return;
	}

	if (!budget(ld, n, 1))
		return;
	dup_keys(ld, n, "test post");
	t->tests = xgrow(t->tests, cap, t->ntests + 1, sizeof *t->tests);
	x = &t->tests[t->ntests++];
	memset(x, 0, sizeof *x);
	x->expect_match = expect;
	x->line = mark_line(&n->start_mark);
	x->col = mark_col(&n->start_mark);
	npairs = (size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start);
	x->fields = xcalloc(npairs, sizeof *x->fields);
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = node(ld, p->key);
		v = node(ld, p->value);
		if (k == NULL || v == NULL)
			continue;
		if ((name = sval(k)) == NULL || !is_field_name(name)) {
			node_err(ld, k, "%s: expected a field name (letters, "
			    "digits, '_', '.' and '-'), got %s", what,
			    got(k, g));
			continue;
		}
		if ((s = sval(v)) == NULL) {
			node_err(ld, v, "%s: field '%s': expected a string, "
			    "got %s", what, show(name, s1), got(v, g));
			continue;
		}
		if (strcmp(name, "text") == 0) {
			if (x->text == NULL)
				x->text = xstrdup(s);
			continue;
		}
		x->fields[x->nfields].name = xstrdup(name);
		x->fields[x->nfields].value = xstrdup(s);
		x->nfields++;
	}
	if (x->text == NULL)
		node_err(ld, n, "%s: test post has no 'text' field", what);
}

static void
parse_tests(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	yaml_node_t *key[XK__N], *val[XK__N], *item;
	static const char *const what[] = { "tests.match", "tests.no_match" };
	struct items it;
	size_t cap = 0, i, j;
	char g[SHOWSZ];

	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, "tests: expected a mapping with match and "
		    "no_match, got %s", got(n, g));
		return;
	}
	get_keys(ld, n, tests_keys, XK__N, "tests", key, val);
	for (j = 0; j < XK__N; j++) {
		if (val[j] == NULL)
			continue;
		if (get_items(ld, val[j], what[j], "a list of texts or posts",
		    true, &it) == -1)
			continue;
		for (i = 0; i < it.n && !stopped(ld); i++) {
			if ((item = node(ld, it.v[i])) != NULL)
				parse_test(ld, t, &cap, item, what[j],
				    j == XK_MATCH);
		}
	}
}

/* ---- topics ----------------------------------------------------------- */

static char **
parse_strings(struct loader *ld, yaml_node_t *n, const char *what,
    bool fields, size_t *np)
{
	struct items it;
	yaml_node_t *item;
	const char *s;
	char **v = NULL, g[SHOWSZ], s1[SHOWSZ];
	size_t i, j, nv = 0;

	*np = 0;
	if (get_items(ld, n, what, fields ? "a list of field names" :
	    "a list of strings", true, &it) == -1)
		return NULL;
	if (fields && it.n > RULES_MAX_COUNT_BY) {
		node_err(ld, n, "%s: at most %d fields", what,
		    RULES_MAX_COUNT_BY);
		return NULL;
	}
	if (it.n == 0 || !budget(ld, n, it.n))
		return NULL;
	v = xcalloc(it.n, sizeof *v);
	for (i = 0; i < it.n; i++) {
		if ((item = node(ld, it.v[i])) == NULL)
			continue;
		if ((s = sval(item)) == NULL || *s == '\0') {
			node_err(ld, item, "%s: expected %s, got %s", what,
			    fields ? "a field name" : "a string",
			    got(item, g));
			continue;
		}
		if (fields && !is_field_name(s)) {
			node_err(ld, item, "%s: field name '%s' may only hold "
			    "letters, digits, '_', '.' and '-'", what,
			    show(s, s1));
			continue;
		}
		for (j = 0; fields && j < nv; j++) {
			if (strcmp(v[j], s) == 0)
				break;
		}
		if (fields && j < nv) {
			node_err(ld, item, "%s: duplicate field '%s'", what, s);
			continue;
		}
		v[nv++] = xstrdup(s);
	}
	*np = nv;
	return v;
}

/* inhibit: [topic ids]; checked once every topic is read. */
static void
parse_inhibit(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	struct items it;
	yaml_node_t *item;
	const char *s;
	char g[SHOWSZ];
	size_t i, j;

	if (get_items(ld, n, "inhibit", "a list of topic ids", true, &it) == -1)
		return;
	if (it.n > RULES_MAX_INHIBIT) {
		node_err(ld, n, "inhibit: at most %d topics", RULES_MAX_INHIBIT);
		return;
	}
	if (it.n == 0 || !budget(ld, n, it.n))
		return;
	t->inhibit = xcalloc(it.n, sizeof *t->inhibit);
	for (i = 0; i < it.n; i++) {
		struct inhmark *m;

		if ((item = node(ld, it.v[i])) == NULL)
			continue;
		if ((s = sval(item)) == NULL || !is_topic_id(s)) {
			node_err(ld, item, "inhibit: expected a topic id, got %s",
			    got(item, g));
			continue;
		}
		for (j = 0; j < t->ninhibit; j++)
			if (strcmp(t->inhibit[j], s) == 0)
				break;
		if (j < t->ninhibit) {
			node_err(ld, item, "inhibit: '%s' is listed twice", s);
			continue;
		}
		ld->inhmarks = xgrow(ld->inhmarks, &ld->capinhmarks,
		    ld->ninhmarks + 1, sizeof *ld->inhmarks);
		m = &ld->inhmarks[ld->ninhmarks++];
		m->topic = ld->rs->ntopics - 1;
		m->k = t->ninhibit;
		m->file = ld->cur;
		m->line = mark_line(&item->start_mark);
		m->col = mark_col(&item->start_mark);
		t->inhibit[t->ninhibit++] = xstrdup(s);
	}
}

static void
parse_topic(struct loader *ld, yaml_node_t *n)
{
	yaml_node_t *key[TK__N], *val[TK__N];
	struct ruleset *rs = ld->rs;
	struct rule_topic *t;
	struct idmark *im;
	const char *s;
	char g[SHOWSZ], s1[SHOWSZ];
	uint32_t sug;

	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, "expected a topic (a mapping with id and "
		    "match), got %s", got(n, g));
		return;
	}
	if (!budget(ld, n, 1))
		return;
	sug = get_keys(ld, n, topic_keys, TK__N, "topic", key, val);

	rs->topics = xgrow(rs->topics, &ld->captopics, rs->ntopics + 1,
	    sizeof *rs->topics);
	ld->idmarks = xgrow(ld->idmarks, &ld->capidmarks, rs->ntopics + 1,
	    sizeof *ld->idmarks);
	t = &rs->topics[rs->ntopics];
	im = &ld->idmarks[rs->ntopics];
	rs->ntopics++;
	memset(t, 0, sizeof *t);
	t->file = ld->files[ld->cur].path;
	t->line = mark_line(&n->start_mark);
	t->col = mark_col(&n->start_mark);
	im->file = ld->cur;
	im->line = im->col = 0;

	if (val[TK_ID] == NULL) {
		if ((sug & 1U << TK_ID) == 0)
			node_err(ld, n, "topic has no 'id'");
	} else if ((s = sval(val[TK_ID])) == NULL)
		node_err(ld, val[TK_ID], "id: expected a topic id like "
		    "food-safety, got %s", got(val[TK_ID], g));
	else if (!is_topic_id(s))
		node_err(ld, val[TK_ID], "topic id '%s' must be 1 to %d "
		    "characters of a-z, 0-9 and '-', not starting with '-'",
		    show(s, s1), RULES_MAX_ID);
	else {
		t->id = xstrdup(s);
		im->line = mark_line(&val[TK_ID]->start_mark);
		im->col = mark_col(&val[TK_ID]->start_mark);
	}

	if (val[TK_NAME] != NULL) {
		if ((s = sval(val[TK_NAME])) == NULL || *s == '\0')
			node_err(ld, val[TK_NAME], "name: expected a string, "
			    "got %s", got(val[TK_NAME], g));
		else
			t->name = xstrdup(s);
	}
	if (t->name == NULL)
		t->name = xstrdup(t->id != NULL ? t->id : "");

	if (val[TK_TAGS] != NULL)
		t->tags = parse_strings(ld, val[TK_TAGS], "tags", false,
		    &t->ntags);
	if (val[TK_MATCH] == NULL) {
		if ((sug & 1U << TK_MATCH) != 0)
			;	/* the unknown key said it */
		else if (t->id != NULL)
			node_err(ld, n, "topic '%s' has no 'match'", t->id);
		else
			node_err(ld, n, "topic has no 'match'");
	} else
		parse_match(ld, t, val[TK_MATCH]);
	if (val[TK_COUNT_BY] != NULL && !stopped(ld))
		t->count_by = parse_strings(ld, val[TK_COUNT_BY], "count_by",
		    true, &t->ncount_by);
	if (val[TK_ALERT] != NULL && !stopped(ld))
		parse_alerts(ld, t, val[TK_ALERT]);
	if (val[TK_TESTS] != NULL && !stopped(ld))
		parse_tests(ld, t, val[TK_TESTS]);
	if (val[TK_GROUP_WAIT] != NULL &&
	    get_dur(ld, val[TK_GROUP_WAIT], "group_wait", &t->group_wait_s) == 0 &&
	    t->group_wait_s > RULES_MAX_GROUP_WAIT) {
		node_err(ld, val[TK_GROUP_WAIT], "group_wait: %s is too long "
		    "(at most 1h)", got(val[TK_GROUP_WAIT], g));
		t->group_wait_s = 0;
	}
	if (val[TK_INHIBIT] != NULL && !stopped(ld))
		parse_inhibit(ld, t, val[TK_INHIBIT]);
}

/* ---- lists ------------------------------------------------------------ */

static void
parse_lists(struct loader *ld, yaml_node_t *n)
{
	yaml_node_pair_t *p;
	yaml_node_t *k, *v, *item;
	struct llist *l;
	struct items it;
	const char *name, *s;
	char g[SHOWSZ], s1[SHOWSZ], s2[SHOWSZ];
	size_t i;

	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		node_err(ld, n, "lists: expected a mapping of name: "
		    "[keywords], got %s", got(n, g));
		return;
	}
	for (p = n->data.mapping.pairs.start;
	    p < n->data.mapping.pairs.top && !stopped(ld); p++) {
		k = node(ld, p->key);
		v = node(ld, p->value);
		if (k == NULL || v == NULL)
			continue;
		if ((name = sval(k)) == NULL) {
			node_err(ld, k, "lists: expected a list name, got %s",
			    got(k, g));
			continue;
		}
		ld->lists = xgrow(ld->lists, &ld->caplists, ld->nlists + 1,
		    sizeof *ld->lists);
		l = &ld->lists[ld->nlists];
		memset(l, 0, sizeof *l);
		l->name = name;
		l->file = ld->cur;
		l->order = ld->nlists;
		l->line = mark_line(&k->start_mark);
		l->col = mark_col(&k->start_mark);
		ld->nlists++;
		if (!is_list_name(name)) {
			node_err(ld, k, "list name '%s' may only hold letters, "
			    "digits, '_' and '-'", show(name, s1));
			l->bad = true;
		}
		if (get_items(ld, v, "lists", "a list of keywords", true,
		    &it) == -1) {
			l->bad = true;
			continue;
		}
		if (it.n == 0) {
			node_err(ld, v, "list '%s' is empty", show(name, s1));
			l->bad = true;
			continue;
		}
		if (!budget(ld, v, it.n)) {
			l->bad = true;
			continue;
		}
		l->kws = xcalloc(it.n, sizeof *l->kws);
		for (i = 0; i < it.n && !stopped(ld); i++) {
			if ((item = node(ld, it.v[i])) == NULL)
				continue;
			if ((s = sval(item)) == NULL) {
				node_err(ld, item, "list '%s': expected a "
				    "keyword, got %s", show(name, s1),
				    got(item, g));
				l->bad = true;
			} else if (s[0] == '$') {
				node_err(ld, item, "list '%s': a list cannot "
				    "use another list ('%s')", show(name, s1),
				    show(s, s2));
				l->bad = true;
			} else if (parse_kw(ld, item, &l->kws[l->nkws],
			    NULL) == -1)
				l->bad = true;
			else
				l->nkws++;
		}
	}
}

static int
cmp_list(const void *a, const void *b)
{
	const struct llist *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts the lists for lookup and reports names defined twice. */
static void
index_lists(struct loader *ld)
{
	struct llist *l, *first = NULL;
	char s1[SHOWSZ];
	size_t i;

	if (ld->nlists > 0)
		qsort(ld->lists, ld->nlists, sizeof *ld->lists, cmp_list);
	ld->lnames = xcalloc(ld->nlists, sizeof *ld->lnames);
	for (i = 0; i < ld->nlists; i++) {
		l = &ld->lists[i];
		if (first != NULL && strcmp(first->name, l->name) == 0) {
			err_at(ld, l->file, l->line, l->col, "duplicate list "
			    "name '%s' (first defined at %s:%d:%d)",
			    show(l->name, s1),
			    ld->files[first->file].path, first->line,
			    first->col);
			continue;
		}
		first = l;
		ld->lnames[ld->nlnames++] = l->name;
	}
}

/* ---- files ------------------------------------------------------------ */

static size_t
file_new(struct loader *ld, const char *path)
{
	struct lfile *f;

	ld->files = xgrow(ld->files, &ld->capfiles, ld->nfiles + 1,
	    sizeof *ld->files);
	f = &ld->files[ld->nfiles];
	memset(f, 0, sizeof *f);
	f->path = xstrdup(path);
	return ld->nfiles++;
}

static void
yaml_error(struct loader *ld, yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "YAML error";
	size_t i, end;
	int line = 1, col = 1;

	if (p->error == YAML_MEMORY_ERROR) {
		err_at(ld, ld->cur, 0, 0, "out of memory while reading YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* Only a byte offset is known: count lines and characters. */
		end = p->problem_offset < len ? p->problem_offset : len;
		for (i = 0; i < end; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80)
				col++;
		}
		if (p->problem_value != -1)
			err_at(ld, ld->cur, line, col, "%s (byte 0x%02x)",
			    problem, (unsigned)p->problem_value & 0xff);
		else
			err_at(ld, ld->cur, line, col, "%s", problem);
		return;
	}
	if (p->context != NULL)
		err_at(ld, ld->cur, mark_line(&p->problem_mark),
		    mark_col(&p->problem_mark), "%s (%s at line %d, column %d)",
		    problem, p->context, mark_line(&p->context_mark),
		    mark_col(&p->context_mark));
	else
		err_at(ld, ld->cur, mark_line(&p->problem_mark),
		    mark_col(&p->problem_mark), "%s", problem);
}

/*
 * Checks a buffer with the event parser (syntax, depth, size, one
 * document), then loads it as a document.  Returns 0 or -1.
 */
static int
parse_buffer(struct loader *ld, const char *buf, size_t len)
{
	struct lfile *f = &ld->files[ld->cur];
	yaml_parser_t p;
	yaml_event_t ev;
	size_t depth = 0, nodes = 0, docs = 0;
	int rc = 0;
	bool done = false;

	if (len > RULES_MAX_FILE) {
		err_at(ld, ld->cur, 0, 0, "file is larger than %d MiB",
		    RULES_MAX_FILE / (1024 * 1024));
		return -1;
	}
	if (!yaml_parser_initialize(&p)) {
		err_at(ld, ld->cur, 0, 0, "out of memory while reading YAML");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_error(ld, &p, buf, len);
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				err_at(ld, ld->cur, mark_line(&ev.start_mark),
				    mark_col(&ev.start_mark), "a rule file "
				    "holds a single YAML document, this is a "
				    "second one");
				rc = -1;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > RULES_MAX_DEPTH) {
				err_at(ld, ld->cur, mark_line(&ev.start_mark),
				    mark_col(&ev.start_mark), "nested deeper "
				    "than %d levels", RULES_MAX_DEPTH);
				rc = -1;
			}
			/* FALLTHROUGH */
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
			if (rc == 0 && ++nodes > RULES_MAX_NODES) {
				err_at(ld, ld->cur, mark_line(&ev.start_mark),
				    mark_col(&ev.start_mark), "more than %d "
				    "YAML nodes", RULES_MAX_NODES);
				rc = -1;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc == -1)
		return -1;

	if (!yaml_parser_initialize(&p)) {
		err_at(ld, ld->cur, 0, 0, "out of memory while reading YAML");
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &f->doc)) {
		yaml_error(ld, &p, buf, len);
		rc = -1;
	} else
		f->loaded = true;
	yaml_parser_delete(&p);
	return rc;
}

static void
add_file(struct loader *ld, const char *path)
{
	struct stat sb;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd;

	ld->cur = file_new(ld, path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		err_at(ld, ld->cur, 0, 0, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (fstat(fd, &sb) == -1) {
		err_at(ld, ld->cur, 0, 0, "cannot read: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		err_at(ld, ld->cur, 0, 0, "cannot read: %s", strerror(EISDIR));
		close(fd);
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && sb.st_size > RULES_MAX_FILE) {
		err_at(ld, ld->cur, 0, 0, "file is larger than %d MiB",
		    RULES_MAX_FILE / (1024 * 1024));
		close(fd);
		goto fail;
	}
	cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 65536;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > RULES_MAX_FILE)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_at(ld, ld->cur, 0, 0, "cannot read: %s",
			    strerror(errno));
			close(fd);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (parse_buffer(ld, buf, len) == -1)
		goto fail;
	free(buf);
	return;

fail:
	free(buf);
	ld->broken = true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static void
add_dir(struct loader *ld, const char *path)
{
	struct dirent *de;
	struct stat sb;
	char **names = NULL, *full;
	size_t n = 0, cap = 0, i, plen = strlen(path);
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		ld->cur = file_new(ld, path);
		err_at(ld, ld->cur, 0, 0, "cannot read: %s", strerror(errno));
		ld->broken = true;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!has_suffix(de->d_name, ".yaml") &&
		    !has_suffix(de->d_name, ".yml"))
			continue;
		names = xgrow(names, &cap, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		if (plen > 0 && path[plen - 1] == '/')
			full = xasprintf("%s%s", path, names[i]);
		else
			full = xasprintf("%s/%s", path, names[i]);
		if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			free(full);
			continue;
		}
		add_file(ld, full);
		free(full);
	}
	if (n == 0) {
		ld->cur = file_new(ld, path);
		err_at(ld, ld->cur, 0, 0, "no rule files (*.yaml, *.yml) in "
		    "this directory");
		ld->broken = true;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
add_path(struct loader *ld, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		add_dir(ld, path);
	else
		add_file(ld, path);
}

/* ---- the whole set ---------------------------------------------------- */

static void
kw_free(struct rule_kw *kw)
{
	free(kw->text);
	free(kw->display);
	pcre2_code_free(kw->re);
}

static void
strings_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
topic_free(struct rule_topic *t)
{
	size_t i, j;

	free(t->id);
	free(t->name);
	strings_free(t->tags, t->ntags);
	for (i = 0; i < t->nkws; i++)
		kw_free(&t->kws[i]);
	free(t->kws);
	for (i = 0; i < t->nwhere; i++) {
		free(t->where[i].field);
		strings_free(t->where[i].values, t->where[i].nvalues);
		free(t->where[i].re_display);
		pcre2_code_free(t->where[i].re);
	}
	free(t->where);
	strings_free(t->count_by, t->ncount_by);
	strings_free(t->inhibit, t->ninhibit);
	free(t->inhibit_idx);
	free(t->alerts);
	for (i = 0; i < t->ntests; i++) {
		free(t->tests[i].text);
		for (j = 0; j < t->tests[i].nfields; j++) {
			free(t->tests[i].fields[j].name);
			free(t->tests[i].fields[j].value);
		}
		free(t->tests[i].fields);
	}
	free(t->tests);
}

static void
ruleset_free(struct ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->ntopics; i++)
		topic_free(&rs->topics[i]);
	free(rs->topics);
	free(rs->order);
	strings_free(rs->files, rs->nfiles);
	free(rs);
}

static void
loader_free(struct loader *ld)
{
	size_t i, j;

	for (i = 0; i < ld->nfiles; i++) {
		if (ld->files[i].loaded)
			yaml_document_delete(&ld->files[i].doc);
		free(ld->files[i].path);
	}
	free(ld->files);
	for (i = 0; i < ld->nerrs; i++)
		free(ld->errs[i].msg);
	free(ld->errs);
	for (i = 0; i < ld->nlists; i++) {
		for (j = 0; j < ld->lists[i].nkws; j++)
			lkw_free(&ld->lists[i].kws[j]);
		free(ld->lists[i].kws);
	}
	free(ld->lists);
	free(ld->lnames);
	free(ld->idmarks);
	free(ld->inhmarks);
	ruleset_free(ld->rs);
}

struct idref {
	const char	*id;
	size_t		 i;
};

static int
cmp_idref(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Reports topic ids used twice, at the later use. */
static void
check_ids(struct loader *ld)
{
	struct ruleset *rs = ld->rs;
	struct idmark *m, *f;
	struct idref *v;
	size_t n = 0, i, first = 0;

	v = xcalloc(rs->ntopics, sizeof *v);
	for (i = 0; i < rs->ntopics; i++) {
		if (rs->topics[i].id != NULL) {
			v[n].id = rs->topics[i].id;
			v[n++].i = i;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_idref);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i].id, v[first].id) != 0) {
			first = i;
			continue;
		}
		m = &ld->idmarks[v[i].i];
		f = &ld->idmarks[v[first].i];
		err_at(ld, m->file, m->line, m->col, "duplicate topic id '%s' "
		    "(first defined at %s:%d:%d)", v[i].id,
		    ld->files[f->file].path, f->line, f->col);
	}
	free(v);
}

/* The topic named id, or -1: v holds the n ids sorted. */
static ssize_t
find_topic(const struct idref *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, v[mid].id)) == 0)
			return (ssize_t)v[mid].i;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Resolves the topics named in `inhibit` and orders the topics so that
 * each comes after those that inhibit it; reports unknown names, a topic
 * inhibiting itself, and cycles. */
static void
check_inhibit(struct loader *ld)
{
	struct ruleset *rs = ld->rs;
	struct idref *v;
	const char **names;
	const char *sug;
	char s1[SHOWSZ];
	bool *placed, progress;
	size_t n = 0, i, k, no = 0;
	ssize_t j;

	rs->order = xcalloc(rs->ntopics + 1, sizeof *rs->order);
	v = xcalloc(rs->ntopics + 1, sizeof *v);
	names = xcalloc(rs->ntopics + 1, sizeof *names);
	for (i = 0; i < rs->ntopics; i++) {
		if (rs->topics[i].ninhibit > 0)
			rs->topics[i].inhibit_idx = xcalloc(
			    rs->topics[i].ninhibit, sizeof (size_t));
		if (rs->topics[i].id != NULL) {
			v[n].id = rs->topics[i].id;
			names[n] = rs->topics[i].id;
			v[n++].i = i;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_idref);
	for (k = 0; k < ld->ninhmarks; k++) {
		const struct inhmark *m = &ld->inhmarks[k];
		struct rule_topic *t = &rs->topics[m->topic];
		const char *id = t->inhibit[m->k];

		if ((j = find_topic(v, n, id)) == -1) {
			if ((sug = rules_suggest(id, names, n)) != NULL)
				err_at(ld, m->file, m->line, m->col, "inhibit: "
				    "no topic '%s' in the rule set (did you "
				    "mean '%s'?)", show(id, s1), sug);
			else
				err_at(ld, m->file, m->line, m->col, "inhibit: "
				    "no topic '%s' in the rule set",
				    show(id, s1));
			j = (ssize_t)m->topic;	/* harmless below */
		} else if ((size_t)j == m->topic)
			err_at(ld, m->file, m->line, m->col, "inhibit: topic "
			    "'%s' cannot inhibit itself", id);
		t->inhibit_idx[m->k] = (size_t)j;
	}

	/* parents first; what is left over sits on a cycle */
	placed = xcalloc(rs->ntopics + 1, sizeof *placed);
	do {
		progress = false;
		for (i = 0; i < rs->ntopics; i++) {
			const struct rule_topic *t = &rs->topics[i];

			if (placed[i])
				continue;
			for (k = 0; k < t->ninhibit; k++)
				if (t->inhibit_idx[k] != i &&
				    !placed[t->inhibit_idx[k]])
					break;
			if (k < t->ninhibit)
				continue;
			placed[i] = true;
			rs->order[no++] = i;
			progress = true;
		}
	} while (progress && no < rs->ntopics);
	for (k = 0; k < ld->ninhmarks && no < rs->ntopics; k++) {
		const struct inhmark *m = &ld->inhmarks[k];
		const struct rule_topic *t = &rs->topics[m->topic];

		if (placed[m->topic] || placed[t->inhibit_idx[m->k]])
			continue;
		err_at(ld, m->file, m->line, m->col, "inhibit: topics '%s' and "
		    "'%s' inhibit each other (a cycle)",
		    t->id != NULL ? t->id : "?",
		    rs->topics[t->inhibit_idx[m->k]].id != NULL ?
		    rs->topics[t->inhibit_idx[m->k]].id : "?");
		break;
	}
	free(placed);
	free(names);
	free(v);
}

/* Both passes over the loaded files, then the checks across them. */
static void
build(struct loader *ld)
{
	struct lfile *f;
	yaml_node_t *root, *key[TOP__N], *val[TOP__N], *item;
	struct ruleset *rs = ld->rs;
	struct items it;
	char g[SHOWSZ];
	size_t i, j;

	for (i = 0; i < ld->nfiles && !stopped(ld); i++) {
		f = &ld->files[i];
		ld->cur = i;
		if (!f->loaded ||
		    (root = yaml_document_get_root_node(&f->doc)) == NULL ||
		    is_null(root))
			continue;
		if (root->type != YAML_MAPPING_NODE) {
			node_err(ld, root, "expected a mapping with 'lists' "
			    "and 'topics' at the top of the file, got %s",
			    got(root, g));
			continue;
		}
		get_keys(ld, root, top_keys, TOP__N, "rule file", key, val);
		f->topics = val[TOP_TOPICS];
		if (val[TOP_LISTS] != NULL)
			parse_lists(ld, val[TOP_LISTS]);
	}
	index_lists(ld);

	for (i = 0; i < ld->nfiles && !stopped(ld); i++) {
		f = &ld->files[i];
		ld->cur = i;
		if (f->topics == NULL)
			continue;
		if (get_items(ld, f->topics, "topics", "a list of topics",
		    false, &it) == -1)
			continue;
		for (j = 0; j < it.n && !stopped(ld); j++) {
			if ((item = node(ld, it.v[j])) != NULL)
				parse_topic(ld, item);
		}
	}
	check_ids(ld);
	check_inhibit(ld);

	for (i = 0; i < rs->ntopics; i++) {
		rs->nkeywords += rs->topics[i].nkws;
		rs->ntests += rs->topics[i].ntests;
	}
}

static void
loader_init(struct loader *ld, const struct rules_opts *opts)
{
	memset(ld, 0, sizeof *ld);
	ld->res = RULES_DEFAULT_RES;
	if (opts != NULL && opts->resolution_s > 0)
		ld->res = opts->resolution_s;
	ld->rs = xcalloc(1, sizeof *ld->rs);
}

/* Builds the set, hands it out or reports, and frees the loader. */
static int
finish(struct loader *ld, struct ruleset **out, struct diag *errs)
{
	struct ruleset *rs;
	size_t i;

	build(ld);	/* also when some files failed: report all errors */
	if (ld->nerrs > 0 || ld->capped) {
		if (ld->nerrs > 0)
			qsort(ld->errs, ld->nerrs, sizeof *ld->errs, cmp_lerr);
		for (i = 0; i < ld->nerrs; i++)
			diag_addf(errs, "%s", ld->errs[i].msg);
		if (ld->capped)
			diag_add(errs, ld->files[ld->capfile].path, 0, 0,
			    "too many errors, stopped after %d",
			    RULES_MAX_ERRORS);
		loader_free(ld);
		return -1;
	}

	/* The set keeps the file names its topics point to. */
	rs = ld->rs;
	ld->rs = NULL;
	rs->files = xcalloc(ld->nfiles, sizeof *rs->files);
	for (i = 0; i < ld->nfiles; i++) {
		rs->files[rs->nfiles++] = ld->files[i].path;
		ld->files[i].path = NULL;
	}
	rs->refcnt = 1;
	loader_free(ld);
	*out = rs;
	return 0;
}

int
rules_load_opts(const char *const *paths, size_t npaths,
    const struct rules_opts *opts, struct ruleset **out, struct diag *errs)
{
	struct loader ld;
	size_t i;

	*out = NULL;
	if (npaths == 0) {
		diag_addf(errs, "no rule files given");
		return -1;
	}
	loader_init(&ld, opts);
	for (i = 0; i < npaths; i++)
		add_path(&ld, paths[i]);
	return finish(&ld, out, errs);
}

int
rules_load(const char *const *paths, size_t npaths, struct ruleset **out,
    struct diag *errs)
{
	return rules_load_opts(paths, npaths, NULL, out, errs);
}

int
rules_load_string_opts(const char *name, const char *yaml, size_t len,
    const struct rules_opts *opts, struct ruleset **out, struct diag *errs)
{
	struct loader ld;

	*out = NULL;
	loader_init(&ld, opts);
	ld.cur = file_new(&ld, name);
	if (parse_buffer(&ld, yaml, len) == -1)
		ld.broken = true;
	return finish(&ld, out, errs);
}

int
rules_load_string(const char *name, const char *yaml, size_t len,
    struct ruleset **out, struct diag *errs)
{
	return rules_load_string_opts(name, yaml, len, NULL, out, errs);
}

int
rules_parse_alert(const char *name, const char *yaml, size_t len,
    const struct rules_opts *opts, struct rule_alert *out, struct diag *errs)
{
	struct loader ld;
	struct rule_topic t;
	yaml_node_t *root;
	size_t cap = 0, i;
	int rc = 0;

	loader_init(&ld, opts);
	ld.cur = file_new(&ld, name);
	memset(&t, 0, sizeof t);
	if (parse_buffer(&ld, yaml, len) == 0) {
		root = yaml_document_get_root_node(&ld.files[0].doc);
		if (root == NULL || is_null(root))
			err_at(&ld, 0, 1, 1, "alert: expected a mapping with "
			    "a window and a condition, got nothing");
		else
			parse_alert(&ld, &t, &cap, root);
	}
	if (ld.nerrs > 0 || ld.capped || t.nalerts != 1) {
		if (ld.nerrs > 0)
			qsort(ld.errs, ld.nerrs, sizeof *ld.errs, cmp_lerr);
		for (i = 0; i < ld.nerrs; i++)
			diag_addf(errs, "%s", ld.errs[i].msg);
		if (ld.nerrs == 0)
			diag_add(errs, name, 0, 0, "not a valid alert block");
		rc = -1;
	} else
		*out = t.alerts[0];
	free(t.alerts);
	loader_free(&ld);
	return rc;
}

struct ruleset *
rules_ref(struct ruleset *rs)
{
	if (rs != NULL)
		rs->refcnt++;
	return rs;
}

void
rules_unref(struct ruleset *rs)
{
	if (rs == NULL || --rs->refcnt > 0)
		return;
	ruleset_free(rs);
}

int
rules_parse_duration(const char *s, int64_t *out)
{
	int64_t v;

	if (s == NULL || dur_parse(s, &v) == -1 || v <= 0 ||
	    v > RULES_MAX_DURATION)
		return -1;
	*out = v;
	return 0;
}

const char *
rules_severity_name(enum severity s)
{
	if ((size_t)s >= nitems(severity_names))
		return "unknown";
	return severity_names[s];
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/*
 * Edit distance over bytes (Levenshtein, with a swap of two neighbours as
 * one edit, so that "mtach" is one step from "match"), ASCII case folded.
 * Words are at most 64 bytes.
 */
static size_t
distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][65], *pp, *p, *r, *tmp, i, j, best;
	unsigned char ca, cb;

	pp = rows[0];
	p = rows[1];
	r = rows[2];
	for (j = 0; j <= lb; j++)
		p[j] = j;
	for (i = 1; i <= la; i++) {
		r[0] = i;
		ca = lower((unsigned char)a[i - 1]);
		for (j = 1; j <= lb; j++) {
			cb = lower((unsigned char)b[j - 1]);
			best = p[j - 1] + (ca != cb);
			if (p[j] + 1 < best)
				best = p[j] + 1;
			if (r[j - 1] + 1 < best)
				best = r[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == lower((unsigned char)b[j - 2]) &&
			    lower((unsigned char)a[i - 2]) == cb &&
			    pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			r[j] = best;
		}
		tmp = pp;	/* rotate the rows: pp <- p <- r */
		pp = p;
		p = r;
		r = tmp;
	}
	return p[lb];
}

/* A suggestion keeps at least half of the word. */
const char *
rules_suggest(const char *word, const char *const *known, size_t n)
{
	size_t lw = strlen(word), lk, limit, d, bestd = SIZE_MAX, i;
	const char *best = NULL;

	if (lw == 0 || lw > 64)
		return NULL;
	limit = lw / 3 > 2 ? lw / 3 : 2;
	for (i = 0; i < n; i++) {
		lk = strlen(known[i]);
		if (lk > 64 || (lk > lw ? lk - lw : lw - lk) > limit)
			continue;
		d = distance(word, lw, known[i], lk);
		if (d <= limit && d * 2 <= lw && d < bestd) {
			best = known[i];
			bestd = d;
		}
	}
	return best;
}
