/*
 * rules_yaml.c — the rule loader's YAML layer: documents, nodes, errors.
 *
 * DESIGN: a rule file is read once with libyaml's event parser, which is
 * checked (syntax, one document, nesting depth, node count) event by
 * event, so that a hostile file is refused before it is built, and built
 * into a libyaml document as yaml_parser_load() would.
 * Everything above works on yaml_node_t through the helpers here: scalar
 * text (null and NUL-holding scalars are not text), "expected X, got Y"
 * descriptions, mappings with a fixed set of keys (unknown keys get the
 * nearest known one as "did you mean"), lists, durations and numbers.
 * Errors are recorded in the struct loader as "path:line:col: message",
 * with the libyaml mark of the node at fault, up to RULES_MAX_ERRORS; the
 * item budget bounds the work that aliases can multiply.  No global state:
 * everything lives in the loader of the calling thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rules.h"
#include "rules_int.h"
#include "xmalloc.h"

/* ---- small helpers ---------------------------------------------------- */

int
ryaml_line(const yaml_mark_t *m)
{
	return m->line >= (size_t)INT_MAX - 1 ? INT_MAX : (int)m->line + 1;
}

int
ryaml_col(const yaml_mark_t *m)
{
	return m->column >= (size_t)INT_MAX - 1 ? INT_MAX : (int)m->column + 1;
}

size_t
ryaml_utf8_len(unsigned char c)
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
uint32_t
ryaml_utf8_decode(const char *s, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = ryaml_utf8_len(u[0]), i;
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
const char *
ryaml_show(const char *s, char *buf)
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
		n = ryaml_utf8_len(c);
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

bool
ryaml_is_null(const yaml_node_t *n)
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
const char *
ryaml_text(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || ryaml_is_null(n))
		return NULL;
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length)
		return NULL;
	return s;
}

/* Says what a node is, for "expected X, got Y". */
const char *
ryaml_got(const yaml_node_t *n, char *buf)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SCALAR_NODE:
		if (ryaml_is_null(n))
			return "an empty value";
		if (strlen((const char *)n->data.scalar.value) !=
		    n->data.scalar.length)
			return "a string with a NUL character";
		/* ryaml_show() writes at most 248 bytes, so the quotes fit. */
		buf[0] = '\'';
		ryaml_show((const char *)n->data.scalar.value, buf + 1);
		strcat(buf, "'");
		return buf;
	default:
		return "nothing";
	}
}

const char *
ryaml_format_duration(int64_t s, char *buf, size_t size)
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
int
ryaml_parse_duration(const char *s, int64_t *out)
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
int
ryaml_parse_whole(const char *s, int64_t *out)
{
	size_t n = strlen(s);

	if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
		return -1;
	*out = strtoll(s, NULL, 10);
	return 0;
}

int
ryaml_parse_number(const char *s, double *out)
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

void
ryaml_error_at(struct loader *ld, size_t file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(ld, file, line, col, fmt, ap);
	va_end(ap);
}

void
ryaml_error(struct loader *ld, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(ld, ld->cur, ryaml_line(&n->start_mark),
	    ryaml_col(&n->start_mark), fmt, ap);
	va_end(ap);
}

bool
ryaml_stopped(const struct loader *ld)
{
	return (ld->toobig || ld->capped);
}

/* Takes n items from the budget that bounds the work aliases can cause. */
bool
ryaml_budget(struct loader *ld, const yaml_node_t *at, size_t n)
{
	if (ld->toobig)
		return false;
	ld->items += n;
	if (ld->items > ld->max_items) {
		ryaml_error(ld, at, "rule set too large: more than %zu items "
		    "(topics, keywords, alert blocks, values and tests; aliases "
		    "and $lists count each time they are used): raise "
		    "rules.max_items to allow more", ld->max_items);
		ld->toobig = true;
		return false;
	}
	return true;
}

void
ryaml_file_too_large(struct loader *ld)
{
	if (ld->max_file % (1024 * 1024) == 0)
		ryaml_error_at(ld, ld->cur, 0, 0, "file is larger than %zu MiB "
		    "(rules.max_file_bytes)", ld->max_file / (1024 * 1024));
	else
		ryaml_error_at(ld, ld->cur, 0, 0, "file is larger than %zu "
		    "bytes (rules.max_file_bytes)", ld->max_file);
}

/* ---- document access -------------------------------------------------- */

yaml_node_t *
ryaml_node(struct loader *ld, int id)
{
	return yaml_document_get_node(&ld->files[ld->cur].doc, id);
}

size_t
ryaml_npairs(const yaml_node_t *n)
{
	return (size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start);
}

bool
ryaml_pair(struct loader *ld, const yaml_node_t *n, size_t i,
    yaml_node_t **k, yaml_node_t **v)
{
	const yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];

	*k = ryaml_node(ld, p->key);
	*v = ryaml_node(ld, p->value);
	return *k != NULL && *v != NULL;
}

static int
node_id(struct loader *ld, yaml_node_t *n)
{
	return (int)(n - ld->files[ld->cur].doc.nodes.start) + 1;
}

/* The items of a list (see struct items) as `what`, which should be
 * `expected`.  Returns -1 after an error. */
int
ryaml_items(struct loader *ld, yaml_node_t *n, const char *what,
    const char *expected, bool lenient, struct items *it)
{
	char g[SHOWSZ];

	it->v = NULL;
	it->n = 0;
	if (ryaml_is_null(n))
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
	ryaml_error(ld, n, "%s: expected %s, got %s", what, expected,
	    ryaml_got(n, g));
	return -1;
}

void
ryaml_join_keys(const char *const *known, size_t n, char *buf, size_t size)
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
uint32_t
ryaml_keys(struct loader *ld, yaml_node_t *n, const char *const *known,
    size_t nknown, const char *in, yaml_node_t **key, yaml_node_t **val)
{
	yaml_node_t *k, *v;
	const char *name, *sug;
	char g[SHOWSZ], s1[SHOWSZ], all[256];
	uint32_t suggested = 0;
	size_t i, pi;

	for (i = 0; i < nknown; i++)
		key[i] = val[i] = NULL;
	for (pi = 0; pi < ryaml_npairs(n); pi++) {
		if (!ryaml_pair(ld, n, pi, &k, &v))
			continue;
		if ((name = ryaml_text(k)) == NULL) {
			ryaml_error(ld, k, "expected a key in %s, got %s", in,
			    ryaml_got(k, g));
			continue;
		}
		for (i = 0; i < nknown; i++) {
			if (strcmp(name, known[i]) == 0)
				break;
		}
		if (i == nknown) {
			sug = rules_suggest(name, known, nknown);
			if (sug != NULL) {
				ryaml_error(ld, k, "unknown key '%s' in %s "
				    "(did you mean '%s'?)",
				    ryaml_show(name, s1), in, sug);
				for (i = 0; i < nknown; i++) {
					if (known[i] == sug)
						suggested |= 1U << i;
				}
			} else {
				ryaml_join_keys(known, nknown, all, sizeof all);
				ryaml_error(ld, k, "unknown key '%s' in %s "
				    "(expected %s)", ryaml_show(name, s1), in,
				    all);
			}
		} else if (val[i] != NULL)
			ryaml_error(ld, k, "duplicate key '%s' in %s", known[i],
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
void
ryaml_dup_keys(struct loader *ld, yaml_node_t *n, const char *in)
{
	yaml_node_t **keys, *k;
	size_t nk = 0, i;
	char s1[SHOWSZ];

	keys = xcalloc(ryaml_npairs(n), sizeof *keys);
	for (i = 0; i < ryaml_npairs(n); i++) {
		k = ryaml_node(ld, n->data.mapping.pairs.start[i].key);
		if (k != NULL && ryaml_text(k) != NULL)
			keys[nk++] = k;
	}
	if (nk > 0)
		qsort(keys, nk, sizeof *keys, cmp_keynode);
	for (i = 1; i < nk; i++) {
		if (strcmp((const char *)keys[i]->data.scalar.value,
		    (const char *)keys[i - 1]->data.scalar.value) == 0) {
			ryaml_error(ld, keys[i], "duplicate key '%s' in %s",
			    ryaml_show(ryaml_text(keys[i]), s1), in);
		}
	}
	free(keys);
}

/* ---- typed values ----------------------------------------------------- */

/* A duration greater than 0 and at most RULES_MAX_DURATION, as `what`. */
int
ryaml_duration(struct loader *ld, yaml_node_t *n, const char *what,
    int64_t *out)
{
	const char *s = ryaml_text(n);
	char g[SHOWSZ];
	int64_t v;

	if (s == NULL || ryaml_parse_duration(s, &v) == -1) {
		ryaml_error(ld, n, "%s: expected a duration like 30s, 5m, 2h "
		    "or 1d, got %s", what, ryaml_got(n, g));
		return -1;
	}
	if (v == 0) {
		ryaml_error(ld, n, "%s: expected a duration greater than 0, "
		    "got %s", what, ryaml_got(n, g));
		return -1;
	}
	if (v > RULES_MAX_DURATION) {
		ryaml_error(ld, n, "%s: duration %s is too long (at most "
		    "3650d)", what, ryaml_got(n, g));
		return -1;
	}
	*out = v;
	return 0;
}

/* A number greater than 0, as `what`. */
int
ryaml_positive(struct loader *ld, yaml_node_t *n, const char *what,
    double *out)
{
	const char *s = ryaml_text(n);
	char g[SHOWSZ];

	if (s == NULL || ryaml_parse_number(s, out) == -1 || !(*out > 0)) {
		ryaml_error(ld, n, "%s: expected a number greater than 0, got "
		    "%s", what, ryaml_got(n, g));
		return -1;
	}
	return 0;
}

/* ---- loading a buffer ------------------------------------------------ */

static void
yaml_error(struct loader *ld, yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "YAML error";
	size_t i, end;
	int line = 1, col = 1;

	if (p->error == YAML_MEMORY_ERROR) {
		ryaml_error_at(ld, ld->cur, 0, 0, "out of memory while reading "
		    "YAML");
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
			ryaml_error_at(ld, ld->cur, line, col, "%s (byte "
			    "0x%02x)", problem, (unsigned)p->problem_value &
			    0xff);
		else
			ryaml_error_at(ld, ld->cur, line, col, "%s", problem);
		return;
	}
	if (p->context != NULL)
		ryaml_error_at(ld, ld->cur, ryaml_line(&p->problem_mark),
		    ryaml_col(&p->problem_mark), "%s (%s at line %d, column "
		    "%d)", problem, p->context, ryaml_line(&p->context_mark),
		    ryaml_col(&p->context_mark));
	else
		ryaml_error_at(ld, ld->cur, ryaml_line(&p->problem_mark),
		    ryaml_col(&p->problem_mark), "%s", problem);
}

/* Sets up p to read buf.  Returns 0, or -1 after an error. */
static int
open_parser(struct loader *ld, yaml_parser_t *p, const char *buf, size_t len)
{
	if (!yaml_parser_initialize(p)) {
		ryaml_error_at(ld, ld->cur, 0, 0, "out of memory while reading "
		    "YAML");
		return -1;
	}
	yaml_parser_set_input_string(p, (const unsigned char *)buf, len);
	return 0;
}

/*
 * One pass over buf's events builds its document, as yaml_parser_load()
 * would (default tags, anchors registered when their node starts, aliases
 * pointing at the anchored node, the same composer messages), and checks
 * it on the way: the syntax, one document, the nesting depth and the node
 * count (aliases count once here; the item budget counts their uses).  A
 * hostile file is refused before its nodes are built further, and the
 * file is read once (a million keywords are seconds of libyaml).
 */

#define NODE_BYTES	12	/* bytes of a rule file per YAML node, about */

/* The state of a pass: the document, its open collections and anchors. */
struct compose {
	yaml_document_t	*doc;
	size_t		 cap;		/* doc->nodes */
	yaml_node_t	*slice;		/* the file's room in the slab, or
					 * NULL (not to be freed) */
	int		 open[RULES_MAX_DEPTH + 1];
	int		 key[RULES_MAX_DEPTH + 1];	/* mapping: key, or 0 */
	size_t		 depth;
	struct anchor {
		char		*name;
		int		 node;
		yaml_mark_t	 mark;
	}		*anchors;
	size_t		 nanchors, capanchors;
	/* the first composer error, reported unless a syntax error follows */
	const char	*problem, *context;
	yaml_mark_t	 problem_mark, context_mark;
};

static void
compose_error(struct compose *c, const char *context, yaml_mark_t cmark,
    const char *problem, yaml_mark_t pmark)
{
	if (c->problem != NULL)
		return;
	c->problem = problem;
	c->problem_mark = pmark;
	c->context = context;
	c->context_mark = cmark;
}

/* v, holding len entries of elem bytes, with room for one more (the
 * capacity is xgrow()'s for len: 8, then powers of two). */
static void *
grow_by_one(void *v, size_t len, size_t elem)
{
	size_t cap = len == 0 ? 0 : 8;

	while (cap != 0 && cap < len)
		cap *= 2;
	return xgrow(v, &cap, len + 1, elem);
}

/* Appends node id to the open collection, if any (a mapping takes a key,
 * then its value). */
static void
compose_append(struct compose *c, int id)
{
	yaml_node_t *n;
	size_t d = c->depth, len;

	if (d == 0)
		return;
	n = &c->doc->nodes.start[c->open[d - 1] - 1];
	if (n->type == YAML_SEQUENCE_NODE) {
		len = (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
		n->data.sequence.items.start = grow_by_one(
		    n->data.sequence.items.start, len, sizeof (yaml_node_item_t));
		n->data.sequence.items.start[len] = id;
		n->data.sequence.items.top = n->data.sequence.items.end =
		    n->data.sequence.items.start + len + 1;
	} else if (c->key[d - 1] == 0)
		c->key[d - 1] = id;
	else {
		yaml_node_pair_t pair = { c->key[d - 1], id };

		len = (size_t)(n->data.mapping.pairs.top -
		    n->data.mapping.pairs.start);
		n->data.mapping.pairs.start = grow_by_one(
		    n->data.mapping.pairs.start, len, sizeof pair);
		n->data.mapping.pairs.start[len] = pair;
		n->data.mapping.pairs.top = n->data.mapping.pairs.end =
		    n->data.mapping.pairs.start + len + 1;
		c->key[d - 1] = 0;
	}
}

/*
 * The default tags, which 2.4 million nodes of a large set carry: every
 * node without a tag of its own points to one of these (libyaml's loader
 * copies it into each), so the document is freed by ryaml_document_free(),
 * not yaml_document_delete().
 */
static const char tag_scalar[] = YAML_DEFAULT_SCALAR_TAG;
static const char tag_seq[] = YAML_DEFAULT_SEQUENCE_TAG;
static const char tag_map[] = YAML_DEFAULT_MAPPING_TAG;

void
ryaml_document_free(struct lfile *f)
{
	yaml_document_t *doc = &f->doc;
	yaml_node_t *n;

	for (n = doc->nodes.start; n != NULL && n < doc->nodes.top; n++) {
		if ((const char *)n->tag != tag_scalar &&
		    (const char *)n->tag != tag_seq &&
		    (const char *)n->tag != tag_map)
			free(n->tag);
		if (n->type == YAML_SCALAR_NODE)
			free(n->data.scalar.value);
		else if (n->type == YAML_SEQUENCE_NODE)
			free(n->data.sequence.items.start);
		else if (n->type == YAML_MAPPING_NODE)
			free(n->data.mapping.pairs.start);
	}
	if (doc->nodes.start != f->slice)	/* not in the slab */
		free(doc->nodes.start);
	memset(doc, 0, sizeof *doc);
}

/* A new node of type (tag and value taken over) with its anchor, if any;
 * returns its id. */
static int
compose_node(struct compose *c, yaml_node_type_t type, yaml_char_t *tag,
    const char *deftag, char *anchor, const yaml_event_t *ev)
{
	yaml_node_t *n;
	struct anchor *a;
	size_t len = (size_t)(c->doc->nodes.top - c->doc->nodes.start), i;
	int id = (int)len + 1;

	if (tag == NULL || strcmp((char *)tag, "!") == 0) {
		free(tag);
		tag = (yaml_char_t *)deftag;	/* not copied: see below */
	}
	if (len == c->cap && c->doc->nodes.start == c->slice) {
		/* past the file's room in the slab: an array of its own */
		yaml_node_t *v = xmalloc(2 * c->cap * sizeof *v);

		memcpy(v, c->slice, len * sizeof *v);
		c->doc->nodes.start = v;
		c->cap *= 2;
	}
	c->doc->nodes.start = xgrow(c->doc->nodes.start, &c->cap, len + 1,
	    sizeof *c->doc->nodes.start);
	c->doc->nodes.end = c->doc->nodes.start + c->cap;
	c->doc->nodes.top = c->doc->nodes.start + len + 1;
	n = &c->doc->nodes.start[len];
	memset(n, 0, sizeof *n);
	n->type = type;
	n->tag = tag;
	n->start_mark = ev->start_mark;
	n->end_mark = ev->end_mark;
	if (anchor == NULL)
		return id;
	for (i = 0; i < c->nanchors; i++)
		if (strcmp(c->anchors[i].name, anchor) == 0) {
			compose_error(c, "found duplicate anchor; first "
			    "occurrence", c->anchors[i].mark, "second "
			    "occurrence", ev->start_mark);
			free(anchor);
			return id;
		}
	c->anchors = xgrow(c->anchors, &c->capanchors, c->nanchors + 1,
	    sizeof *c->anchors);
	a = &c->anchors[c->nanchors++];
	a->name = anchor;
	a->node = id;
	a->mark = ev->start_mark;
	return id;
}

/* The node anchored as name, or 0 after a composer error. */
static int
compose_alias(struct compose *c, const yaml_event_t *ev)
{
	size_t i;

	for (i = 0; i < c->nanchors; i++)
		if (strcmp(c->anchors[i].name,
		    (char *)ev->data.alias.anchor) == 0)
			return c->anchors[i].node;
	compose_error(c, NULL, ev->start_mark, "found undefined alias",
	    ev->start_mark);
	return 0;
}

/* Builds the document from one event (taking its strings); a composer
 * error stops the building, not the reading. */
static void
compose_event(struct compose *c, yaml_event_t *ev)
{
	int id = 0;

	if (c->problem != NULL)
		return;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		id = compose_node(c, YAML_SCALAR_NODE, ev->data.scalar.tag,
		    tag_scalar, (char *)ev->data.scalar.anchor,
		    ev);
		c->doc->nodes.start[id - 1].data.scalar.value =
		    ev->data.scalar.value;
		c->doc->nodes.start[id - 1].data.scalar.length =
		    ev->data.scalar.length;
		c->doc->nodes.start[id - 1].data.scalar.style =
		    ev->data.scalar.style;
		ev->data.scalar.tag = ev->data.scalar.value = NULL;
		ev->data.scalar.anchor = NULL;
		break;
	case YAML_ALIAS_EVENT:
		if ((id = compose_alias(c, ev)) == 0)
			return;
		break;
	case YAML_SEQUENCE_START_EVENT:
		id = compose_node(c, YAML_SEQUENCE_NODE,
		    ev->data.sequence_start.tag, tag_seq,
		    (char *)ev->data.sequence_start.anchor, ev);
		c->doc->nodes.start[id - 1].data.sequence.style =
		    ev->data.sequence_start.style;
		ev->data.sequence_start.tag = NULL;
		ev->data.sequence_start.anchor = NULL;
		break;
	case YAML_MAPPING_START_EVENT:
		id = compose_node(c, YAML_MAPPING_NODE,
		    ev->data.mapping_start.tag, tag_map,
		    (char *)ev->data.mapping_start.anchor, ev);
		c->doc->nodes.start[id - 1].data.mapping.style =
		    ev->data.mapping_start.style;
		ev->data.mapping_start.tag = NULL;
		ev->data.mapping_start.anchor = NULL;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		id = c->open[--c->depth];
		c->doc->nodes.start[id - 1].end_mark = ev->end_mark;
		compose_append(c, id);
		return;
	default:
		return;
	}
	if (ev->type == YAML_SEQUENCE_START_EVENT ||
	    ev->type == YAML_MAPPING_START_EVENT) {
		c->key[c->depth] = 0;
		c->open[c->depth++] = id;
	} else
		compose_append(c, id);
}

/* The checks of one event, before it is built.  Returns 0 or -1. */
static int
check_event(struct loader *ld, const yaml_event_t *ev, size_t *depth,
    size_t *nodes, size_t *docs, size_t max_nodes)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			ryaml_error_at(ld, ld->cur, ryaml_line(&ev->start_mark),
			    ryaml_col(&ev->start_mark), "a rule file holds a "
			    "single YAML document, this is a second one");
			return -1;
		}
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > RULES_MAX_DEPTH) {
			ryaml_error_at(ld, ld->cur, ryaml_line(&ev->start_mark),
			    ryaml_col(&ev->start_mark), "nested deeper than "
			    "%d levels", RULES_MAX_DEPTH);
			return -1;
		}
		/* FALLTHROUGH */
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		if (++*nodes > max_nodes) {
			ryaml_error_at(ld, ld->cur, ryaml_line(&ev->start_mark),
			    ryaml_col(&ev->start_mark), "more than %zu YAML "
			    "nodes in one file (%d per item of "
			    "rules.max_items, at least %d)", max_nodes,
			    RULES_NODES_PER_ITEM, RULES_MAX_NODES);
			return -1;
		}
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		break;
	default:
		break;
	}
	return 0;
}

size_t
ryaml_nodes_for(size_t len)
{
	return len / NODE_BYTES + 16;
}

int
ryaml_load_buffer(struct loader *ld, const char *buf, size_t len)
{
	struct lfile *f = &ld->files[ld->cur];
	struct compose c;
	yaml_parser_t p;
	yaml_event_t ev;
	size_t depth = 0, nodes = 0, docs = 0, i;
	size_t max_nodes = ld->max_items * RULES_NODES_PER_ITEM;
	int rc = 0;
	bool done = false;

	if (len > ld->max_file) {
		ryaml_file_too_large(ld);
		return -1;
	}
	if (max_nodes < RULES_MAX_NODES)
		max_nodes = RULES_MAX_NODES;
	if (open_parser(ld, &p, buf, len) == -1)
		return -1;
	memset(&f->doc, 0, sizeof f->doc);
	memset(&c, 0, sizeof c);
	c.doc = &f->doc;
	/* Room for the nodes a rule file of this size usually has (one per
	 * dozen bytes), so that a large file's nodes are not copied again
	 * and again as the array doubles; pages not reached stay untouched.
	 * The loader may have set that room aside in its slab. */
	c.cap = ryaml_nodes_for(len);
	if (c.cap > max_nodes)
		c.cap = max_nodes;
	if (f->slice != NULL) {
		c.slice = f->slice;
		c.cap = f->slicecap;
		f->doc.nodes.start = f->slice;
	} else
		f->doc.nodes.start = xmalloc(c.cap *
		    sizeof *f->doc.nodes.start);
	f->doc.nodes.top = f->doc.nodes.start;
	f->doc.nodes.end = f->doc.nodes.start + c.cap;
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_error(ld, &p, buf, len);
			rc = -1;
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		if ((rc = check_event(ld, &ev, &depth, &nodes, &docs,
		    max_nodes)) == 0 && docs == 1)
			compose_event(&c, &ev);
		yaml_event_delete(&ev);
	}
	if (rc == 0 && c.problem != NULL) {
		/* as libyaml's loader reports it */
		p.error = YAML_COMPOSER_ERROR;
		p.problem = c.problem;
		p.problem_mark = c.problem_mark;
		p.context = c.context;
		p.context_mark = c.context_mark;
		yaml_error(ld, &p, buf, len);
		rc = -1;
	}
	yaml_parser_delete(&p);
	for (i = 0; i < c.nanchors; i++)
		free(c.anchors[i].name);
	free(c.anchors);
	if (rc == -1)
		ryaml_document_free(f);
	else
		f->loaded = true;
	return rc;
}

/* ---- public helpers ---------------------------------------------------- */

int
rules_parse_duration(const char *s, int64_t *out)
{
	int64_t v;

	if (s == NULL || ryaml_parse_duration(s, &v) == -1 || v <= 0 ||
	    v > RULES_MAX_DURATION)
		return -1;
	*out = v;
	return 0;
}


static unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/*
 * Edit distance over bytes (Levenshtein, with a swap of two neighbours as
 * one edit, so that "mtach" is one step from "match"), ASCII case folded.
 * Words are at most 64 bytes.
 */
static size_t
edit_distance(const char *a, size_t la, const char *b, size_t lb)
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
		ca = ascii_lower((unsigned char)a[i - 1]);
		for (j = 1; j <= lb; j++) {
			cb = ascii_lower((unsigned char)b[j - 1]);
			best = p[j - 1] + (ca != cb);
			if (p[j] + 1 < best)
				best = p[j] + 1;
			if (r[j - 1] + 1 < best)
				best = r[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    ca == ascii_lower((unsigned char)b[j - 2]) &&
			    ascii_lower((unsigned char)a[i - 2]) == cb &&
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
		d = edit_distance(word, lw, known[i], lk);
		if (d <= limit && d * 2 <= lw && d < bestd) {
			best = known[i];
			bestd = d;
		}
	}
	return best;
}
