/*
 * rules_topic.c — one topic of a rule file, and freeing it.
 *
 * DESIGN: rtopic_parse() reads one item of `topics` (pass 2) into a new
 * rule_topic at the end of the loader's set: id and name, tags, the match
 * expression (rules_match.c), count_by, alert blocks (rules_alert.c), the
 * embedded tests, group_wait and inhibit.  The names in `inhibit` are only
 * recorded here, with where they are written; rules.c resolves them once
 * every file is read, as it checks ids for duplicates.  Errors go to the
 * loader through rules_yaml.c; strings, tests and topics take items of the
 * budget.  The id, the name, the keywords and the alert blocks go into
 * the set's arena (rules.c); rtopic_free() frees what a topic owns outside
 * it, for the set and for a partial set thrown away.
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rules.h"
#include "rules_int.h"
#include "xmalloc.h"

static const char *const topic_keys[] = {
	"id", "name", "tags", "match", "count_by", "alert", "tests",
	"group_wait", "inhibit"
};
enum { TK_ID, TK_NAME, TK_TAGS, TK_MATCH, TK_COUNT_BY, TK_ALERT, TK_TESTS,
	TK_GROUP_WAIT, TK_INHIBIT, TK__N };

static const char *const topic_help[TK__N] = {
	[TK_ID] = "the topic's id: 1 to 64 characters of a-z, 0-9 and '-', "
	    "not starting with '-', unique across the rule files",
	[TK_NAME] = "a display name (default: the id)",
	[TK_TAGS] = "labels for the topic, e.g. [food, health]",
	[TK_MATCH] = "which posts belong to the topic: any, all, none and "
	    "where",
	[TK_COUNT_BY] = "post fields whose top values are counted and shown "
	    "in alerts; at most 16 names of at most 128 bytes",
	[TK_ALERT] = "when to alert: one alert block or a list of them",
	[TK_TESTS] = "posts that must match (match) and must not (no_match), "
	    "run by tidewatch check",
	[TK_GROUP_WAIT] = "hold a new alert this long (at most 1h) so that "
	    "topics firing together go out as one digest",
	[TK_INHIBIT] = "topic ids (this topic's parents, at most 16): while "
	    "one of them is firing, this topic does not alert",
};
const struct rkeys rtopic_keys = { topic_keys, topic_help, TK__N };

static const char *const tests_keys[] = { "match", "no_match" };
enum { XK_MATCH, XK_NO_MATCH, XK__N };
static const char *const tests_help[XK__N] = {
	[XK_MATCH] = "texts or posts ({text, field: value}) the topic must "
	    "match",
	[XK_NO_MATCH] = "texts or posts the topic must not match",
};
const struct rkeys rtopic_tests_keys = { tests_keys, tests_help, XK__N };

/* ---- names ------------------------------------------------------------ */

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

/* ---- tests ------------------------------------------------------------ */

static void
parse_test(struct loader *ld, struct rule_topic *t, size_t *cap,
    yaml_node_t *n, const char *what, bool expect)
{
	struct rule_test *x;
	yaml_node_t *k, *v;
	const char *s, *name;
	char g[SHOWSZ], s1[SHOWSZ];
	size_t pi;

	if (n->type != YAML_MAPPING_NODE) {
		if ((s = ryaml_text(n)) == NULL) {
			ryaml_error(ld, n, "%s: expected a text or a mapping "
			    "of post fields, got %s", what, ryaml_got(n, g));
			return;
		}
		if (!ryaml_budget(ld, n, 1))
			return;
		t->tests = xgrow(t->tests, cap, t->ntests + 1,
		    sizeof *t->tests);
		x = &t->tests[t->ntests++];
		memset(x, 0, sizeof *x);
		x->expect_match = expect;
		x->text = xstrdup(s);
		x->line = ryaml_line(&n->start_mark);
		x->col = ryaml_col(&n->start_mark);
		return;
	}

	if (!ryaml_budget(ld, n, 1))
		return;
	ryaml_dup_keys(ld, n, "test post");
	t->tests = xgrow(t->tests, cap, t->ntests + 1, sizeof *t->tests);
	x = &t->tests[t->ntests++];
	memset(x, 0, sizeof *x);
	x->expect_match = expect;
	x->line = ryaml_line(&n->start_mark);
	x->col = ryaml_col(&n->start_mark);
	x->fields = xcalloc(ryaml_npairs(n), sizeof *x->fields);
	for (pi = 0; pi < ryaml_npairs(n); pi++) {
		if (!ryaml_pair(ld, n, pi, &k, &v))
			continue;
		if ((name = ryaml_text(k)) == NULL ||
		    !rmatch_is_field_name(name)) {
			ryaml_error(ld, k, "%s: expected a field name "
			    "(letters, digits, '_', '.' and '-'), got %s", what,
			    ryaml_got(k, g));
			continue;
		}
		if ((s = ryaml_text(v)) == NULL) {
			ryaml_error(ld, v, "%s: field '%s': expected a string, "
			    "got %s", what, ryaml_show(name, s1),
			    ryaml_got(v, g));
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
		ryaml_error(ld, n, "%s: test post has no 'text' field", what);
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
		ryaml_error(ld, n, "tests: expected a mapping with match and "
		    "no_match, got %s", ryaml_got(n, g));
		return;
	}
	ryaml_keys(ld, n, tests_keys, XK__N, "tests", key, val);
	for (j = 0; j < XK__N; j++) {
		if (val[j] == NULL)
			continue;
		if (ryaml_items(ld, val[j], what[j], "a list of texts or posts",
		    true, &it) == -1)
			continue;
		for (i = 0; i < it.n && !ryaml_stopped(ld); i++) {
			if ((item = ryaml_node(ld, it.v[i])) != NULL)
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
	if (ryaml_items(ld, n, what, fields ? "a list of field names" :
	    "a list of strings", true, &it) == -1)
		return NULL;
	if (fields && it.n > RULES_MAX_COUNT_BY) {
		ryaml_error(ld, n, "%s: at most %d fields", what,
		    RULES_MAX_COUNT_BY);
		return NULL;
	}
	if (it.n == 0 || !ryaml_budget(ld, n, it.n))
		return NULL;
	v = xcalloc(it.n, sizeof *v);
	for (i = 0; i < it.n; i++) {
		if ((item = ryaml_node(ld, it.v[i])) == NULL)
			continue;
		if ((s = ryaml_text(item)) == NULL || *s == '\0') {
			ryaml_error(ld, item, "%s: expected %s, got %s", what,
			    fields ? "a field name" : "a string",
			    ryaml_got(item, g));
			continue;
		}
		if (fields && strlen(s) > RULES_MAX_FIELD_NAME) {
			ryaml_error(ld, item, "%s: field name '%s' is longer "
			    "than %d bytes", what, ryaml_show(s, s1),
			    RULES_MAX_FIELD_NAME);
			continue;
		}
		if (fields && !rmatch_is_field_name(s)) {
			ryaml_error(ld, item, "%s: field name '%s' may only "
			    "hold letters, digits, '_', '.' and '-'", what,
			    ryaml_show(s, s1));
			continue;
		}
		for (j = 0; fields && j < nv; j++) {
			if (strcmp(v[j], s) == 0)
				break;
		}
		if (fields && j < nv) {
			ryaml_error(ld, item, "%s: duplicate field '%s'", what,
			    s);
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

	if (ryaml_items(ld, n, "inhibit", "a list of topic ids", true,
	    &it) == -1)
		return;
	if (it.n > RULES_MAX_INHIBIT) {
		ryaml_error(ld, n, "inhibit: at most %d topics",
		    RULES_MAX_INHIBIT);
		return;
	}
	if (it.n == 0 || !ryaml_budget(ld, n, it.n))
		return;
	t->inhibit = xcalloc(it.n, sizeof *t->inhibit);
	for (i = 0; i < it.n; i++) {
		struct inhmark *m;

		if ((item = ryaml_node(ld, it.v[i])) == NULL)
			continue;
		if ((s = ryaml_text(item)) == NULL || !is_topic_id(s)) {
			ryaml_error(ld, item, "inhibit: expected a topic id, "
			    "got %s", ryaml_got(item, g));
			continue;
		}
		for (j = 0; j < t->ninhibit; j++)
			if (strcmp(t->inhibit[j], s) == 0)
				break;
		if (j < t->ninhibit) {
			ryaml_error(ld, item, "inhibit: '%s' is listed twice",
			    s);
			continue;
		}
		ld->inhmarks = xgrow(ld->inhmarks, &ld->capinhmarks,
		    ld->ninhmarks + 1, sizeof *ld->inhmarks);
		m = &ld->inhmarks[ld->ninhmarks++];
		m->topic = ld->rs->ntopics - 1;
		m->k = t->ninhibit;
		m->file = ld->cur;
		m->line = ryaml_line(&item->start_mark);
		m->col = ryaml_col(&item->start_mark);
		t->inhibit[t->ninhibit++] = xstrdup(s);
	}
}

void
rtopic_parse(struct loader *ld, yaml_node_t *n)
{
	yaml_node_t *key[TK__N], *val[TK__N];
	struct ruleset *rs = ld->rs;
	struct rule_topic *t;
	struct idmark *im;
	const char *s;
	char g[SHOWSZ], s1[SHOWSZ];
	uint32_t sug;

	if (n->type != YAML_MAPPING_NODE) {
		ryaml_error(ld, n, "expected a topic (a mapping with id and "
		    "match), got %s", ryaml_got(n, g));
		return;
	}
	if (!ryaml_budget(ld, n, 1))
		return;
	sug = ryaml_keys(ld, n, topic_keys, TK__N, "topic", key, val);

	rs->topics = xgrow(rs->topics, &ld->captopics, rs->ntopics + 1,
	    sizeof *rs->topics);
	ld->idmarks = xgrow(ld->idmarks, &ld->capidmarks, rs->ntopics + 1,
	    sizeof *ld->idmarks);
	t = &rs->topics[rs->ntopics];
	im = &ld->idmarks[rs->ntopics];
	rs->ntopics++;
	memset(t, 0, sizeof *t);
	t->file = ld->files[ld->cur].path;
	t->line = ryaml_line(&n->start_mark);
	t->col = ryaml_col(&n->start_mark);
	im->file = ld->cur;
	im->line = im->col = 0;

	if (val[TK_ID] == NULL) {
		if ((sug & 1U << TK_ID) == 0)
			ryaml_error(ld, n, "topic has no 'id'");
	} else if ((s = ryaml_text(val[TK_ID])) == NULL)
		ryaml_error(ld, val[TK_ID], "id: expected a topic id like "
		    "food-safety, got %s", ryaml_got(val[TK_ID], g));
	else if (!is_topic_id(s))
		ryaml_error(ld, val[TK_ID], "topic id '%s' must be 1 to %d "
		    "characters of a-z, 0-9 and '-', not starting with '-'",
		    ryaml_show(s, s1), RULES_MAX_ID);
	else {
		t->id = rules_strndup(ld->rs, s, strlen(s));
		im->line = ryaml_line(&val[TK_ID]->start_mark);
		im->col = ryaml_col(&val[TK_ID]->start_mark);
	}

	if (val[TK_NAME] != NULL) {
		if ((s = ryaml_text(val[TK_NAME])) == NULL || *s == '\0')
			ryaml_error(ld, val[TK_NAME], "name: expected a "
			    "string, got %s", ryaml_got(val[TK_NAME], g));
		else
			t->name = rules_strndup(ld->rs, s, strlen(s));
	}
	if (t->name == NULL)
		t->name = t->id != NULL ? t->id :
		    rules_strndup(ld->rs, "", 0);

	if (val[TK_TAGS] != NULL)
		t->tags = parse_strings(ld, val[TK_TAGS], "tags", false,
		    &t->ntags);
	if (val[TK_MATCH] == NULL) {
		if ((sug & 1U << TK_MATCH) != 0)
			;	/* the unknown key said it */
		else if (t->id != NULL)
			ryaml_error(ld, n, "topic '%s' has no 'match'", t->id);
		else
			ryaml_error(ld, n, "topic has no 'match'");
	} else
		rmatch_parse(ld, t, val[TK_MATCH]);
	if (val[TK_COUNT_BY] != NULL && !ryaml_stopped(ld))
		t->count_by = parse_strings(ld, val[TK_COUNT_BY], "count_by",
		    true, &t->ncount_by);
	if (val[TK_ALERT] != NULL && !ryaml_stopped(ld))
		ralert_parse_list(ld, t, val[TK_ALERT]);
	if (val[TK_TESTS] != NULL && !ryaml_stopped(ld))
		parse_tests(ld, t, val[TK_TESTS]);
	if (val[TK_GROUP_WAIT] != NULL &&
	    ryaml_duration(ld, val[TK_GROUP_WAIT], "group_wait",
	    &t->group_wait_s) == 0 && t->group_wait_s > RULES_MAX_GROUP_WAIT) {
		ryaml_error(ld, val[TK_GROUP_WAIT], "group_wait: %s is too "
		    "long (at most 1h)", ryaml_got(val[TK_GROUP_WAIT], g));
		t->group_wait_s = 0;
	}
	if (val[TK_INHIBIT] != NULL && !ryaml_stopped(ld))
		parse_inhibit(ld, t, val[TK_INHIBIT]);
}

/* ---- freeing -------------------------------------------------------- */

/* A keyword's text is in the set's arena (rules.c), its regex is not. */
static void
kw_free(struct rule_kw *kw)
{
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

void
rtopic_free(struct rule_topic *t)
{
	size_t i, j;

	strings_free(t->tags, t->ntags);
	for (i = 0; i < t->nkws; i++)
		kw_free(&t->kws[i]);
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
