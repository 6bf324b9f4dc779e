/*
 * rules_match.c — keywords, regexes, $lists and a topic's match expression.
 *
 * DESIGN: `lists` (pass 1, every file) are parsed into struct llist and
 * sorted by name, so that pass 2 can expand a "$name" in any file with a
 * binary search.  A topic's match (pass 2) becomes its rule_kw array, in
 * the order the matcher expects: match.any, then the OR-groups of
 * match.all, then match.none, each keyword a literal (trimmed; it must hold
 * a character that can be matched) or a /regex/flags compiled with PCRE2
 * (UTF, UCP, JIT when it can) and refused when it matches empty text.
 * match.where becomes rule_where conditions: exact values, $lists of
 * literals, or one /regex/.  Errors go to the loader through rules_yaml.c;
 * every keyword and value takes one item of the budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rules.h"
#include "rules_int.h"
#include "xmalloc.h"

static const char *const match_keys[] = { "any", "all", "none", "where" };
enum { MK_ANY, MK_ALL, MK_NONE, MK_WHERE, MK__N };
static const char *const match_help[MK__N] = {
	[MK_ANY] = "a post matches when it holds at least one of these "
	    "keywords, /regexes/flags or $lists",
	[MK_ALL] = "a post matches when it holds every item; an item that "
	    "is a list (or a $list) is an OR-group",
	[MK_NONE] = "a post holding any of these never matches",
	[MK_WHERE] = "post fields and the values they must have: field: "
	    "value, [values], $list or /regex/",
};
const struct rkeys rmatch_keys = { match_keys, match_help, MK__N };

/* The keywords of the topic being read, in the order of its match. */
struct kwbuf {
	struct rule_kw	*v;
	size_t		 n, cap;
};

/* ---- names and characters ----------------------------------------- */

bool
rmatch_is_field_name(const char *s)
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

/* ---- keywords --------------------------------------------------------- */

static void
lkw_free(struct lkw *k)
{
	free(k->owned);
	memset(k, 0, sizeof *k);
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
		ryaml_error(ld, at, "too many regexes in the rule set (more "
		    "than %d)", RULES_MAX_REGEX);
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
			ryaml_error(ld, at, "invalid regex '%s': %s at offset "
			    "%zu", ryaml_show(display, s1), (const char *)msg,
			    (size_t)off);
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
		ryaml_error(ld, at, "regex '%s' has no closing '/'",
		    ryaml_show(s, s1));
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
			n = ryaml_utf8_len((unsigned char)*f);
			if (n > strlen(f))
				n = strlen(f);
			memcpy(fc, f, n);
			fc[n] = '\0';
			ryaml_error(ld, at, "unknown regex flag '%s' in '%s' "
			    "(expected i, m, s or x)", ryaml_show(fc, s2),
			    ryaml_show(s, s1));
			return NULL;
		}
	}
	if (end == s + 1) {
		ryaml_error(ld, at, "empty regex '%s'", ryaml_show(s, s1));
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
		if ((kw->owned = split_regex(ld, n, s, &kw->flags)) == NULL)
			return -1;
		kw->text = kw->owned;
		kw->textlen = strlen(kw->owned);
		re = compile_re(ld, n, s, kw->owned, kw->flags, false);
		if (re == NULL) {
			lkw_free(kw);
			return -1;
		}
		if (re_matches_empty(re)) {
			ryaml_error(ld, n, "regex '%s' matches empty text, so "
			    "it would hit every post", ryaml_show(s, s1));
			pcre2_code_free(re);
			lkw_free(kw);
			return -1;
		}
		kw->is_regex = true;
		kw->display = s;
		if (rep != NULL)
			*rep = re;
		else
			pcre2_code_free(re);
		return 0;
	}

	/* A literal: trim spaces, then it must hold something to match. */
	start = end = NULL;
	for (p = s; *p != '\0'; p += len) {
		c = ryaml_utf8_decode(p, &len);
		if (is_space(c))
			continue;
		if (start == NULL)
			start = p;
		end = p + len;
		if (!any && is_matchable(c))
			any = true;
	}
	if (!any) {
		ryaml_error(ld, n, "keyword has no characters to match");
		return -1;
	}
	kw->text = start;
	kw->textlen = (size_t)(end - start);
	kw->display = s;
	return 0;
}

/* Places a keyword in a topic; re is taken over (compiled here if NULL). */
static void
add_kw(struct loader *ld, struct kwbuf *b, const struct lkw *k,
    pcre2_code *re, enum kw_role role, unsigned group, yaml_node_t *at)
{
	struct rule_kw *kw;
	size_t len;

	if (!ryaml_budget(ld, at, 1)) {
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
	len = strlen(k->display);
	kw->display = rules_strndup(ld->rs, k->display, len);
	if (k->textlen == len && memcmp(k->text, k->display, len) == 0)
		kw->text = kw->display;		/* nothing trimmed */
	else
		kw->text = rules_strndup(ld->rs, k->text, k->textlen);
	kw->is_regex = k->is_regex;
	kw->re_flags = k->flags;
	kw->re = re;
	kw->role = (uint8_t)role;
	kw->group = (uint16_t)group;
	kw->line = ryaml_line(&at->start_mark);
	kw->col = ryaml_col(&at->start_mark);
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
		ryaml_error(ld, ref, "unknown list '$%s' (did you mean '$%s'?)",
		    ryaml_show(name, s1), sug);
	else
		ryaml_error(ld, ref, "unknown list '$%s'",
		    ryaml_show(name, s1));
	return NULL;
}

/* One keyword or $list in match.any/all/none.  Returns 0 or -1. */
static int
parse_kw_item(struct loader *ld, struct kwbuf *b, yaml_node_t *n,
    const char *what, enum kw_role role, unsigned group)
{
	struct llist *l;
	struct lkw k;
	pcre2_code *re;
	const char *s;
	char g[SHOWSZ];
	size_t i;

	if ((s = ryaml_text(n)) == NULL) {
		ryaml_error(ld, n, "%s: expected a keyword or $list, got %s",
		    what, ryaml_got(n, g));
		return -1;
	}
	if (s[0] == '$') {
		if ((l = find_list(ld, n)) == NULL || l->bad)
			return -1;
		for (i = 0; i < l->nkws && !ryaml_stopped(ld); i++)
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

	if (ryaml_items(ld, n, what, "a list of keywords", true, &it) == -1)
		return 0;
	if (it.n == 0) {
		ryaml_error(ld, n, "%s: expected at least one keyword", what);
		return 0;
	}
	for (i = 0; i < it.n && !ryaml_stopped(ld); i++) {
		if ((item = ryaml_node(ld, it.v[i])) != NULL)
			(void)parse_kw_item(ld, b, item, what, role, 0);
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

	if (ryaml_items(ld, n, "all", "a list of keywords and groups", true,
	    &it) == -1)
		return 0;
	if (it.n == 0) {
		ryaml_error(ld, n, "all: expected at least one keyword or "
		    "group");
		return 0;
	}
	for (i = 0; i < it.n && !ryaml_stopped(ld); i++) {
		if ((item = ryaml_node(ld, it.v[i])) == NULL)
			continue;
		if (i == RULES_MAX_GROUPS) {
			ryaml_error(ld, item, "all: more than %d groups",
			    RULES_MAX_GROUPS);
			return RULES_MAX_GROUPS;
		}
		if (item->type == YAML_SCALAR_NODE) {
			(void)parse_kw_item(ld, b, item, "all", KW_ALL,
			    (unsigned)i);
			continue;
		}
		if (item->type != YAML_SEQUENCE_NODE) {
			ryaml_error(ld, item, "all: expected a keyword, $list "
			    "or a list of them, got %s", ryaml_got(item, g));
			continue;
		}
		(void)ryaml_items(ld, item, "all", "", false, &git);
		if (git.n == 0) {
			ryaml_error(ld, item, "all: empty group");
			continue;
		}
		for (j = 0; j < git.n && !ryaml_stopped(ld); j++) {
			if ((sub = ryaml_node(ld, git.v[j])) != NULL)
				(void)parse_kw_item(ld, b, sub, "all", KW_ALL,
				    (unsigned)i);
		}
	}
	return (uint16_t)(it.n > RULES_MAX_GROUPS ? RULES_MAX_GROUPS : it.n);
}

/* ---- lists ------------------------------------------------------------ */

void
rmatch_parse_lists(struct loader *ld, yaml_node_t *n)
{
	yaml_node_t *k, *v, *item;
	struct llist *l;
	struct items it;
	const char *name, *s;
	char g[SHOWSZ], s1[SHOWSZ], s2[SHOWSZ];
	size_t pi, i;

	if (ryaml_is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		ryaml_error(ld, n, "lists: expected a mapping of name: "
		    "[keywords], got %s", ryaml_got(n, g));
		return;
	}
	for (pi = 0; pi < ryaml_npairs(n) && !ryaml_stopped(ld); pi++) {
		if (!ryaml_pair(ld, n, pi, &k, &v))
			continue;
		if ((name = ryaml_text(k)) == NULL) {
			ryaml_error(ld, k, "lists: expected a list name, got "
			    "%s", ryaml_got(k, g));
			continue;
		}
		ld->lists = xgrow(ld->lists, &ld->caplists, ld->nlists + 1,
		    sizeof *ld->lists);
		l = &ld->lists[ld->nlists];
		memset(l, 0, sizeof *l);
		l->name = name;
		l->file = ld->cur;
		l->order = ld->nlists;
		l->line = ryaml_line(&k->start_mark);
		l->col = ryaml_col(&k->start_mark);
		ld->nlists++;
		if (!is_list_name(name)) {
			ryaml_error(ld, k, "list name '%s' may only hold "
			    "letters, digits, '_' and '-'",
			    ryaml_show(name, s1));
			l->bad = true;
		}
		if (ryaml_items(ld, v, "lists", "a list of keywords", true,
		    &it) == -1) {
			l->bad = true;
			continue;
		}
		if (it.n == 0) {
			ryaml_error(ld, v, "list '%s' is empty",
			    ryaml_show(name, s1));
			l->bad = true;
			continue;
		}
		if (!ryaml_budget(ld, v, it.n)) {
			l->bad = true;
			continue;
		}
		l->kws = xcalloc(it.n, sizeof *l->kws);
		for (i = 0; i < it.n && !ryaml_stopped(ld); i++) {
			if ((item = ryaml_node(ld, it.v[i])) == NULL)
				continue;
			if ((s = ryaml_text(item)) == NULL) {
				ryaml_error(ld, item, "list '%s': expected a "
				    "keyword, got %s", ryaml_show(name, s1),
				    ryaml_got(item, g));
				l->bad = true;
			} else if (s[0] == '$') {
				ryaml_error(ld, item, "list '%s': a list "
				    "cannot use another list ('%s')",
				    ryaml_show(name, s1), ryaml_show(s, s2));
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
void
rmatch_index_lists(struct loader *ld)
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
			ryaml_error_at(ld, l->file, l->line, l->col,
			    "duplicate list name '%s' (first defined at "
			    "%s:%d:%d)", ryaml_show(l->name, s1),
			    ld->files[first->file].path, first->line,
			    first->col);
			continue;
		}
		first = l;
		ld->lnames[ld->nlnames++] = l->name;
	}
}

void
rmatch_free_lists(struct loader *ld)
{
	size_t i, j;

	for (i = 0; i < ld->nlists; i++) {
		for (j = 0; j < ld->lists[i].nkws; j++)
			lkw_free(&ld->lists[i].kws[j]);
		free(ld->lists[i].kws);
	}
	free(ld->lists);
	free(ld->lnames);
}

/* ---- where ------------------------------------------------------------ */

static void
add_where_value(struct rule_where *w, size_t *cap, const char *v)
{
	w->values = xgrow(w->values, cap, w->nvalues + 1, sizeof *w->values);
	w->values[w->nvalues++] = xstrdup(v);
}

/* A where value from a list item or the lone value: $list or exact. */
static void
parse_where_value(struct loader *ld, struct rule_where *w, size_t *cap,
    yaml_node_t *n, const char *field)
{
	struct llist *l;
	const char *s;
	char g[SHOWSZ], s1[SHOWSZ], s2[SHOWSZ];
	size_t i;

	if ((s = ryaml_text(n)) == NULL) {
		ryaml_error(ld, n, "where.%s: expected a value, got %s",
		    ryaml_show(field, s1), ryaml_got(n, g));
		return;
	}
	if (s[0] == '$') {
		if ((l = find_list(ld, n)) == NULL || l->bad)
			return;
		for (i = 0; i < l->nkws; i++) {
			if (l->kws[i].is_regex) {
				ryaml_error(ld, n, "where.%s: list '$%s' holds "
				    "a regex (%s); where values must be exact",
				    ryaml_show(field, s1), l->name,
				    ryaml_show(l->kws[i].display, s2));
				return;
			}
		}
		if (!ryaml_budget(ld, n, l->nkws))
			return;
		for (i = 0; i < l->nkws; i++)
			add_where_value(w, cap, l->kws[i].display);
		return;
	}
	if (s[0] == '/') {
		ryaml_error(ld, n, "where.%s: a /regex/ must be the field's "
		    "only value, not an item of a list", ryaml_show(field, s1));
		return;
	}
	if (ryaml_budget(ld, n, 1))
		add_where_value(w, cap, s);
}

static void
parse_where(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	yaml_node_t *k, *v, *item;
	struct rule_where *w;
	struct items it;
	const char *field, *s;
	char g[SHOWSZ], s1[SHOWSZ];
	uint32_t flags;
	size_t npairs, cap, pi, i;
	char *pat;

	if (n->type != YAML_MAPPING_NODE) {
		ryaml_error(ld, n, "where: expected a mapping of field: value, "
		    "got %s", ryaml_got(n, g));
		return;
	}
	if ((npairs = ryaml_npairs(n)) == 0) {
		ryaml_error(ld, n, "where: expected at least one field");
		return;
	}
	ryaml_dup_keys(ld, n, "where");
	t->where = xcalloc(npairs, sizeof *t->where);
	for (pi = 0; pi < ryaml_npairs(n) && !ryaml_stopped(ld); pi++) {
		if (!ryaml_pair(ld, n, pi, &k, &v))
			continue;
		if ((field = ryaml_text(k)) == NULL) {
			ryaml_error(ld, k, "where: expected a field name, got "
			    "%s", ryaml_got(k, g));
			continue;
		}
		if (!rmatch_is_field_name(field)) {
			ryaml_error(ld, k, "where: field name '%s' may only "
			    "hold letters, digits, '_', '.' and '-'",
			    ryaml_show(field, s1));
			continue;
		}
		w = &t->where[t->nwhere++];
		w->field = xstrdup(field);
		w->line = ryaml_line(&v->start_mark);
		w->col = ryaml_col(&v->start_mark);
		cap = 0;
		if (v->type == YAML_SCALAR_NODE &&
		    (s = ryaml_text(v)) != NULL && s[0] == '/') {
			if ((pat = split_regex(ld, v, s, &flags)) == NULL)
				continue;
			w->re = compile_re(ld, v, s, pat, flags, false);
			free(pat);
			if (w->re != NULL)
				w->re_display = xstrdup(s);
			continue;
		}
		if (v->type == YAML_SCALAR_NODE) {
			parse_where_value(ld, w, &cap, v, field);
			continue;
		}
		if (v->type != YAML_SEQUENCE_NODE) {
			ryaml_error(ld, v, "where.%s: expected a value, a list "
			    "of values or a /regex/, got %s",
			    ryaml_show(field, s1), ryaml_got(v, g));
			continue;
		}
		(void)ryaml_items(ld, v, "where", "", false, &it);
		if (it.n == 0) {
			ryaml_error(ld, v, "where.%s: expected at least one "
			    "value", ryaml_show(field, s1));
			continue;
		}
		for (i = 0; i < it.n && !ryaml_stopped(ld); i++) {
			if ((item = ryaml_node(ld, it.v[i])) != NULL)
				parse_where_value(ld, w, &cap, item, field);
		}
	}
}

/* ---- match ------------------------------------------------------------ */

void
rmatch_parse(struct loader *ld, struct rule_topic *t, yaml_node_t *n)
{
	yaml_node_t *key[MK__N], *val[MK__N];
	struct kwbuf b = { NULL, 0, 0 };
	char g[SHOWSZ];
	uint32_t sug;

	if (n->type != YAML_MAPPING_NODE) {
		ryaml_error(ld, n, "match: expected a mapping with any, all, "
		    "none or where, got %s", ryaml_got(n, g));
		return;
	}
	sug = ryaml_keys(ld, n, match_keys, MK__N, "match", key, val);
	if (val[MK_ANY] != NULL)
		t->has_any = parse_kwlist(ld, &b, val[MK_ANY], "any",
		    KW_ANY) > 0;
	if (val[MK_ALL] != NULL && !ryaml_stopped(ld))
		t->nall = parse_all(ld, &b, val[MK_ALL]);
	if (val[MK_NONE] != NULL && !ryaml_stopped(ld))
		parse_kwlist(ld, &b, val[MK_NONE], "none", KW_NONE);
	if (val[MK_WHERE] != NULL && !ryaml_stopped(ld))
		parse_where(ld, t, val[MK_WHERE]);
	/* into the set's arena: a set holds a million */
	t->kws = NULL;
	if (b.n > 0) {
		t->kws = rules_alloc(ld->rs, b.n * sizeof *b.v);
		memcpy(t->kws, b.v, b.n * sizeof *b.v);
	}
	t->nkws = b.n;
	free(b.v);

	if (val[MK_ANY] == NULL && val[MK_ALL] == NULL &&
	    val[MK_WHERE] == NULL &&
	    (sug & (1U << MK_ANY | 1U << MK_ALL | 1U << MK_WHERE)) == 0) {
		if (val[MK_NONE] != NULL)
			ryaml_error(ld, key[MK_NONE], "match has only 'none', "
			    "which matches nothing: add 'any', 'all' or "
			    "'where'");
		else
			ryaml_error(ld, n, "match needs at least one of 'any', "
			    "'all' or 'where'");
	}
}
