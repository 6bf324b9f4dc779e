/*
 * schema.c — JSON Schemas (draft 2020-12) of rule files and of the config,
 * generated from the loaders' own key tables.
 *
 * DESIGN: the keys, their help and their bounds are never written here.
 * A rule file's mappings come from the rule loader's tables (struct rkeys
 * of rules.c, rules_topic.c and rules_match.c; struct akeys of
 * rules_alert.c, whose rows also carry each value's type and bounds); the
 * config's keys from config_key_doc() (config_table).  What this file adds
 * is the shape of the values the loader reads with code rather than a
 * table row (a keyword, a where value, a topic id...), one function per
 * key in rule_values[], named "mapping.key".  A key of the loader's tables
 * without an entry there, or an entry whose key the loader no longer has,
 * fails the generation, so the schema cannot fall behind the loader.  The
 * patterns follow the loader's checks as far as a regular expression can
 * (docs/rules.md lists what it cannot: uniqueness across topics and files,
 * regex syntax, lengths compared with each other or with the config).
 * Scalars the loader reads as text also accept the number or boolean a
 * YAML 1.2 reader makes of the same plain text.  Only keywords draft-07
 * validators also know are used (yaml-language-server reads draft-07),
 * but for dependentRequired, which is repeated as draft-07's dependencies.  Output is cJSON text; the
 * caller owns it.  Runs in the calling thread; no state between calls.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "config.h"
#include "rules.h"
#include "rules_int.h"
#include "schema.h"

#define DRAFT	"https://json-schema.org/draft/2020-12/schema"

/* One generation: the first error, and which rule_values[] were used. */
struct gen {
	char	*err;
	size_t	 errsz;
	bool	 failed;
	bool	 used[32];
};

static void
gen_fail(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	if (g->failed)
		return;
	g->failed = true;
	va_start(ap, fmt);
	vsnprintf(g->err, g->errsz, fmt, ap);
	va_end(ap);
}

/* ---- small builders --------------------------------------------------- */

/* o.type: one name, or an array of the names given (NULL-terminated). */
static void
put_types(cJSON *o, const char *first, ...)
{
	cJSON *a;
	const char *t;
	va_list ap;

	va_start(ap, first);
	t = va_arg(ap, const char *);
	if (t == NULL) {
		cJSON_AddStringToObject(o, "type", first);
		va_end(ap);
		return;
	}
	a = cJSON_AddArrayToObject(o, "type");
	cJSON_AddItemToArray(a, cJSON_CreateString(first));
	for (; t != NULL; t = va_arg(ap, const char *))
		cJSON_AddItemToArray(a, cJSON_CreateString(t));
	va_end(ap);
}

/* A new element of array a. */
static cJSON *
put_alt(cJSON *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToArray(a, o);
	return o;
}

static cJSON *
names_array(const char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
	return a;
}

/* An object that is not o: a value the loader refuses. */
static void
put_not_string_pattern(cJSON *o, const char *pattern)
{
	cJSON *n = cJSON_AddObjectToObject(o, "not");

	cJSON_AddStringToObject(n, "type", "string");
	cJSON_AddStringToObject(n, "pattern", pattern);
}

static char *
print_schema(cJSON *root, struct gen *g)
{
	char *s = NULL;

	if (!g->failed && (s = cJSON_Print(root)) == NULL)
		gen_fail(g, "out of memory");
	cJSON_Delete(root);
	return s;
}

/* ---- rule values read by code ------------------------------------------ */

/* Characters of a literal keyword: at least one that is not a space or
 * ASCII punctuation (the loader asks for a letter, digit or ideograph, so
 * a keyword of other punctuation only passes here and fails there). */
#define RE_LITERAL	"(?![$/])[\\s\\S]*[^\\s!-/:-@\\[-`{-~][\\s\\S]*"
#define RE_REGEX	"/[\\s\\S]+/[imsx]*"
#define RE_LISTREF	"\\$[A-Za-z0-9_-]{1,64}"
#define RE_FIELD	"^[A-Za-z0-9_.-]{1,128}$"
#define RE_DURATION	"^([0-9]+[smhdw])+$|^[0-9]+$"
#define RE_ZERO		"^(0+[smhdw])+$|^0+$"

_Static_assert(RULES_MAX_ID == 64 && RULES_MAX_FIELD_NAME == 128,
    "RE_LISTREF, RE_FIELD and put_topic_id() write the loader's limits");

/* A keyword of any, all or none (refs) or of a list (!refs). */
static void
put_keyword(cJSON *o, bool refs)
{
	put_types(o, "string", "number", NULL);
	cJSON_AddStringToObject(o, "pattern", refs ?
	    "^(" RE_LISTREF "|" RE_REGEX "|" RE_LITERAL ")$" :
	    "^(" RE_REGEX "|" RE_LITERAL ")$");
}

/* A lone value (one) or a list of items, as min, max and unique say;
 * null too when null is set. */
static void
put_one_or_list(cJSON *o, void (*one)(cJSON *), void (*item)(cJSON *),
    int min, int max, bool unique, bool null)
{
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf"), *a;

	one(put_alt(any));
	a = put_alt(any);
	cJSON_AddStringToObject(a, "type", "array");
	item(cJSON_AddObjectToObject(a, "items"));
	if (min > 0)
		cJSON_AddNumberToObject(a, "minItems", min);
	if (max > 0)
		cJSON_AddNumberToObject(a, "maxItems", max);
	if (unique)
		cJSON_AddTrueToObject(a, "uniqueItems");
	if (null)
		cJSON_AddStringToObject(put_alt(any), "type", "null");
}

/* A list the loader also takes as a lone scalar: item, or [item...]. */
static void
put_lenient_list(cJSON *o, void (*item)(cJSON *), int min, int max,
    bool unique, bool null)
{
	put_one_or_list(o, item, item, min, max, unique, null);
}

static void
put_kw_ref(cJSON *o)
{
	put_keyword(o, true);
}

static void
put_kw_plain(cJSON *o)
{
	put_keyword(o, false);
}

static void
put_text(cJSON *o)
{
	put_types(o, "string", "number", "boolean", NULL);
}

static void
put_nonempty_text(cJSON *o)
{
	put_text(o);
	cJSON_AddNumberToObject(o, "minLength", 1);
}

static void
put_field_name(cJSON *o)
{
	put_types(o, "string", "integer", NULL);
	cJSON_AddStringToObject(o, "pattern", RE_FIELD);
	cJSON_AddNumberToObject(o, "minimum", 0);
}

static void
put_topic_id(cJSON *o)
{
	put_types(o, "string", "integer", NULL);
	cJSON_AddStringToObject(o, "pattern", "^[a-z0-9][a-z0-9-]{0,63}$");
	cJSON_AddNumberToObject(o, "minimum", 0);
}

static void
put_duration(cJSON *o)
{
	put_types(o, "string", "integer", NULL);
	cJSON_AddStringToObject(o, "pattern", RE_DURATION);
	put_not_string_pattern(o, RE_ZERO);
	cJSON_AddNumberToObject(o, "minimum", 1);
	cJSON_AddNumberToObject(o, "maximum", (double)RULES_MAX_DURATION);
}

/* A test post: {text: ..., field: value...}. */
static void
put_test_post(cJSON *o)
{
	cJSON *r;

	cJSON_AddStringToObject(o, "type", "object");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "propertyNames"),
	    "pattern", RE_FIELD);
	put_text(cJSON_AddObjectToObject(o, "additionalProperties"));
	r = cJSON_AddArrayToObject(o, "required");
	cJSON_AddItemToArray(r, cJSON_CreateString("text"));
}

static void
put_test_item(cJSON *o)
{
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf");

	put_text(put_alt(any));
	put_test_post(put_alt(any));
}

/* The value of one key of a mapping of the rule format. */
struct rvalue {
	const char	*key;		/* "mapping.key" */
	void		(*put)(struct gen *, cJSON *);
};

static void	put_rule_mapping(struct gen *, cJSON *, const struct rkeys *,
		    const char *);
static void	put_required(cJSON *, const char *, const char *);
static void	put_alert_mapping(struct gen *, cJSON *, const struct akeys *,
		    const char *);

static void
v_lists(struct gen *g, cJSON *o)
{
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf"), *m;

	(void)g;
	cJSON_AddStringToObject(put_alt(any), "type", "null");
	m = put_alt(any);
	cJSON_AddStringToObject(m, "type", "object");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "propertyNames"),
	    "pattern", "^[A-Za-z0-9_-]{1,64}$");
	put_lenient_list(cJSON_AddObjectToObject(m, "additionalProperties"),
	    put_kw_plain, 1, 0, false, false);
}

static void
v_topics(struct gen *g, cJSON *o)
{
	cJSON *t;

	put_types(o, "array", "null", NULL);
	t = cJSON_AddObjectToObject(o, "items");
	put_rule_mapping(g, t, &rtopic_keys, "topic");
	put_required(t, "id", "match");
}

static void
v_topic_id(struct gen *g, cJSON *o)
{
	(void)g;
	put_topic_id(o);
}

static void
v_name(struct gen *g, cJSON *o)
{
	(void)g;
	put_nonempty_text(o);
}

static void
v_tags(struct gen *g, cJSON *o)
{
	(void)g;
	put_lenient_list(o, put_nonempty_text, 0, 0, false, true);
}

static void
v_match(struct gen *g, cJSON *o)
{
	cJSON *any;
	static const char *const need[] = { "any", "all", "where" };
	size_t i;

	put_rule_mapping(g, o, &rmatch_keys, "match");
	any = cJSON_AddArrayToObject(o, "anyOf");
	for (i = 0; i < nitems(need); i++)
		cJSON_AddItemToObject(put_alt(any), "required",
		    names_array(&need[i], 1));
}

static void
v_kwlist(struct gen *g, cJSON *o)
{
	(void)g;
	put_lenient_list(o, put_kw_ref, 1, 0, false, false);
}

/* all: keywords, $lists or OR-groups (lists of them). */
static void
put_all_item(cJSON *o)
{
	put_lenient_list(o, put_kw_ref, 1, 0, false, false);
}

static void
v_all(struct gen *g, cJSON *o)
{
	(void)g;
	put_lenient_list(o, put_all_item, 1, RULES_MAX_GROUPS, false, false);
}

static void
put_where_item(cJSON *o)
{
	put_text(o);
	cJSON_AddStringToObject(o, "pattern",
	    "^(" RE_LISTREF "|(?![$/])[\\s\\S]*)$");
}

/* A where field's lone value: also a /regex/. */
static void
put_where_value(cJSON *o)
{
	put_text(o);
	cJSON_AddStringToObject(o, "pattern", "^(" RE_LISTREF "|" RE_REGEX
	    "|(?![$/])[\\s\\S]*)$");
}

static void
v_where(struct gen *g, cJSON *o)
{
	(void)g;
	cJSON_AddStringToObject(o, "type", "object");
	cJSON_AddNumberToObject(o, "minProperties", 1);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "propertyNames"),
	    "pattern", RE_FIELD);
	put_one_or_list(cJSON_AddObjectToObject(o, "additionalProperties"),
	    put_where_value, put_where_item, 1, 0, false, false);
}

static void
v_count_by(struct gen *g, cJSON *o)
{
	(void)g;
	put_lenient_list(o, put_field_name, 0, RULES_MAX_COUNT_BY, true, true);
}

static void
v_alert(struct gen *g, cJSON *o)
{
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf"), *a, *block;

	block = put_alt(any);
	put_alert_mapping(g, block, &ralert_keys, "alert");
	a = put_alt(any);
	cJSON_AddStringToObject(a, "type", "array");
	cJSON_AddNumberToObject(a, "minItems", 1);
	put_alert_mapping(g, cJSON_AddObjectToObject(a, "items"), &ralert_keys,
	    "alert");
}

static void
v_tests(struct gen *g, cJSON *o)
{
	put_rule_mapping(g, o, &rtopic_tests_keys, "tests");
}

static void
v_test_list(struct gen *g, cJSON *o)
{
	(void)g;
	put_lenient_list(o, put_test_item, 0, 0, false, true);
}

static void
v_group_wait(struct gen *g, cJSON *o)
{
	(void)g;
	put_duration(o);
	cJSON_ReplaceItemInObject(o, "maximum",
	    cJSON_CreateNumber(RULES_MAX_GROUP_WAIT));
}

static void
v_inhibit(struct gen *g, cJSON *o)
{
	(void)g;
	put_lenient_list(o, put_topic_id, 0, RULES_MAX_INHIBIT, true, true);
}

/* A table's row by name, or NULL after an error. */
static const struct akey *
row_named(struct gen *g, const struct akeys *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	gen_fail(g, "the rule loader has no key '%s' (schema.c expects it)",
	    name);
	return NULL;
}

/* required: [names...] into o. */
static void
put_required(cJSON *o, const char *a, const char *b)
{
	cJSON *r = cJSON_AddArrayToObject(o, "required");

	cJSON_AddItemToArray(r, cJSON_CreateString(a));
	if (b != NULL)
		cJSON_AddItemToArray(r, cJSON_CreateString(b));
}

/* o must not have any of the keys names[0..n). */
static void
put_forbidden(cJSON *o, const char *const *names, size_t n)
{
	cJSON *any = cJSON_AddArrayToObject(cJSON_AddObjectToObject(o, "not"),
	    "anyOf");
	size_t i;

	for (i = 0; i < n; i++)
		put_required(put_alt(any), names[i], NULL);
}

/* Keys of o that need key `needs`: dependentRequired, repeated as
 * draft-07's dependencies for the validators that know only that. */
static void
put_needs(cJSON *o, const char *const *names, size_t n, const char *needs)
{
	cJSON *dep = cJSON_AddObjectToObject(o, "dependentRequired");
	size_t i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToObject(dep, names[i],
		    names_array((const char *[]){ needs }, 1));
	cJSON_AddItemToObject(o, "dependencies", cJSON_Duplicate(dep, true));
}

/* baseline: a duration, {period, lookback} or {halflife, exclude, season,
 * season_period, season_lookback}; the season_ keys go with season. */
static void
v_baseline(struct gen *g, cJSON *o)
{
	static const char *const ewma_only[] = { "halflife", "exclude",
	    "season", "season_period", "season_lookback" };
	static const char *const seasonal_only[] = { "period", "lookback" };
	const struct akeys *t = &ralert_baseline_keys;
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf"), *m, *one, *k;
	size_t i;

	for (i = 0; i < sizeof ewma_only / sizeof ewma_only[0]; i++)
		if (row_named(g, t, ewma_only[i]) == NULL)
			return;
	for (i = 0; i < sizeof seasonal_only / sizeof seasonal_only[0]; i++)
		if (row_named(g, t, seasonal_only[i]) == NULL)
			return;
	put_duration(put_alt(any));
	m = put_alt(any);
	put_alert_mapping(g, m, t, "baseline");
	one = cJSON_AddArrayToObject(m, "oneOf");
	k = put_alt(one);
	cJSON_AddStringToObject(k, "description", "seasonal");
	put_required(k, "period", NULL);
	put_forbidden(k, ewma_only, sizeof ewma_only / sizeof ewma_only[0]);
	k = put_alt(one);
	cJSON_AddStringToObject(k, "description", "EWMA");
	put_required(k, "halflife", NULL);
	put_forbidden(k, seasonal_only,
	    sizeof seasonal_only / sizeof seasonal_only[0]);
	put_needs(k, ewma_only + 3, 2, "season");
}

static void	put_akey_value(cJSON *, const struct akey *);

/* poisson: p, or {p, factor}. */
static void
v_poisson(struct gen *g, cJSON *o)
{
	const struct akeys *t = &ralert_poisson_keys;
	const struct akey *p;
	cJSON *any = cJSON_AddArrayToObject(o, "anyOf"), *m;

	if ((p = row_named(g, t, "p")) == NULL)
		return;
	put_akey_value(put_alt(any), p);
	m = put_alt(any);
	put_alert_mapping(g, m, t, "poisson");
	put_required(m, "p", NULL);
}

static const struct rvalue rule_values[] = {
	{ "rule file.lists", v_lists },
	{ "rule file.topics", v_topics },
	{ "topic.id", v_topic_id },
	{ "topic.name", v_name },
	{ "topic.tags", v_tags },
	{ "topic.match", v_match },
	{ "topic.count_by", v_count_by },
	{ "topic.alert", v_alert },
	{ "topic.tests", v_tests },
	{ "topic.group_wait", v_group_wait },
	{ "topic.inhibit", v_inhibit },
	{ "match.any", v_kwlist },
	{ "match.all", v_all },
	{ "match.none", v_kwlist },
	{ "match.where", v_where },
	{ "tests.match", v_test_list },
	{ "tests.no_match", v_test_list },
	{ "alert.baseline", v_baseline },
	{ "alert.poisson", v_poisson },
};

_Static_assert(nitems(rule_values) <= 32, "struct gen marks 32 used");

/* The value of key `name` of mapping `in`, from rule_values[]. */
static void
put_rule_value(struct gen *g, cJSON *o, const char *in, const char *name)
{
	char key[128];
	size_t i;

	snprintf(key, sizeof key, "%s.%s", in, name);
	for (i = 0; i < nitems(rule_values); i++) {
		if (strcmp(rule_values[i].key, key) == 0) {
			g->used[i] = true;
			rule_values[i].put(g, o);
			return;
		}
	}
	gen_fail(g, "rule key '%s' in %s: no schema for its value (add it "
	    "to rule_values[] in schema.c)", name, in);
}

/* A mapping whose keys are k's: each with its help and its value. */
static void
put_rule_mapping(struct gen *g, cJSON *o, const struct rkeys *k,
    const char *in)
{
	cJSON *props, *p;
	size_t i;

	cJSON_AddStringToObject(o, "type", "object");
	props = cJSON_AddObjectToObject(o, "properties");
	for (i = 0; i < k->n; i++) {
		p = cJSON_AddObjectToObject(props, k->names[i]);
		cJSON_AddStringToObject(p, "description", k->help[i]);
		put_rule_value(g, p, in, k->names[i]);
	}
	cJSON_AddFalseToObject(o, "additionalProperties");
}

/* The value of an alert key, from its row's type and bounds. */
static void
put_akey_value(cJSON *o, const struct akey *k)
{
	const char *sev[SEV_CRITICAL + COUNT_TEXTS + 2];
	enum severity s;
	enum rule_count c;
	size_t n = 0;

	switch (k->type) {
	case AT_DURATION:
		put_duration(o);
		break;
	case AT_WHOLE64:
	case AT_WHOLE:
		cJSON_AddStringToObject(o, "type", "integer");
		cJSON_AddNumberToObject(o, "minimum", (double)k->min);
		if (k->max > 0)
			cJSON_AddNumberToObject(o, "maximum", (double)k->max);
		break;
	case AT_POSITIVE:
		cJSON_AddStringToObject(o, "type", "number");
		cJSON_AddNumberToObject(o, "exclusiveMinimum", 0);
		break;
	case AT_PROBABILITY:
		cJSON_AddStringToObject(o, "type", "number");
		cJSON_AddNumberToObject(o, "exclusiveMinimum", 0);
		cJSON_AddNumberToObject(o, "exclusiveMaximum",
		    RULES_MAX_POISSON_P);
		break;
	case AT_SEVERITY:
		for (s = SEV_INFO; s <= SEV_CRITICAL; s++)
			sev[n++] = rules_severity_name(s);
		cJSON_AddItemToObject(o, "enum", names_array(sev, n));
		break;
	case AT_COUNT:
		for (c = COUNT_POSTS; c <= COUNT_TEXTS; c++)
			sev[n++] = rules_count_name(c);
		cJSON_AddItemToObject(o, "enum", names_array(sev, n));
		break;
	case AT_BLOCK:
		break;
	}
}

/* An alert, baseline or poisson mapping from its table: the help, type
 * and bounds of each row; required keys, conditions and the baseline the
 * conditions compare with, from the rows' flags. */
static void
put_alert_mapping(struct gen *g, cJSON *o, const struct akeys *t,
    const char *in)
{
	const struct akey *k;
	cJSON *props, *p, *req = NULL, *conds = NULL, *dep = NULL;
	size_t i;

	cJSON_AddStringToObject(o, "type", "object");
	props = cJSON_AddObjectToObject(o, "properties");
	for (i = 0; i < t->n; i++) {
		k = &t->rows[i];
		p = cJSON_AddObjectToObject(props, k->name);
		cJSON_AddStringToObject(p, "description", k->help);
		if (k->type == AT_BLOCK)
			put_rule_value(g, p, in, k->name);
		else
			put_akey_value(p, k);
	}
	cJSON_AddFalseToObject(o, "additionalProperties");
	for (i = 0; i < t->n; i++) {
		k = &t->rows[i];
		if (k->flags & AF_REQUIRED) {
			if (req == NULL)
				req = cJSON_AddArrayToObject(o, "required");
			cJSON_AddItemToArray(req, cJSON_CreateString(k->name));
		}
		if (k->flags & AF_CONDITION) {
			if (conds == NULL)
				conds = cJSON_AddArrayToObject(o, "anyOf");
			put_required(put_alt(conds), k->name, NULL);
		}
		if (k->flags & AF_BASELINE) {
			if (row_named(g, t, "baseline") == NULL)
				return;
			if (dep == NULL)
				dep = cJSON_AddObjectToObject(o,
				    "dependentRequired");
			cJSON_AddItemToObject(dep, k->name,
			    names_array((const char *[]){ "baseline" }, 1));
		}
	}
	/* the same for draft-07 validators (yaml-language-server), which
	 * know it as dependencies; 2020-12 ignores that name */
	if (dep != NULL)
		cJSON_AddItemToObject(o, "dependencies",
		    cJSON_Duplicate(dep, true));
}

/* A new generation into g and the root of its schema. */
static cJSON *
schema_start(struct gen *g, char *errstr, size_t errsz, const char *title,
    const char *desc)
{
	cJSON *root = cJSON_CreateObject();

	memset(g, 0, sizeof *g);
	g->err = errstr;
	g->errsz = errsz;
	cJSON_AddStringToObject(root, "$schema", DRAFT);
	cJSON_AddStringToObject(root, "title", title);
	cJSON_AddStringToObject(root, "description", desc);
	return root;
}

char *
schema_rules(char *errstr, size_t errsz)
{
	struct gen g;
	cJSON *root;
	size_t i;

	root = schema_start(&g, errstr, errsz, "tidewatch rule file", "Topics, "
	    "their keywords and alert conditions (tidewatch-rules(5)). "
	    "Generated by `tidewatch schema rules` from the rule loader's key "
	    "tables.");
	put_rule_mapping(&g, root, &rules_file_keys, "rule file");
	cJSON_ReplaceItemInObject(root, "type", names_array((const char *[]){
	    "object", "null" }, 2));
	for (i = 0; i < nitems(rule_values); i++)
		if (!g.used[i])
			gen_fail(&g, "schema.c describes rule key '%s', which "
			    "the rule loader does not have", rule_values[i].key);
	return print_schema(root, &g);
}

/* ---- the config ------------------------------------------------------- */

/* The default of a key as a JSON value of its type. */
static cJSON *
config_default(const struct config_keydoc *d)
{
	cJSON *a;
	const char *p, *q;
	char item[256];

	if (strcmp(d->type, "integer") == 0)
		return cJSON_CreateNumber(strtod(d->def, NULL));
	if (strcmp(d->type, "boolean") == 0)
		return cJSON_CreateBool(strcmp(d->def, "true") == 0);
	if (strcmp(d->type, "mapping") == 0)
		return cJSON_CreateObject();
	if (strcmp(d->type, "list") != 0)
		return cJSON_CreateString(d->def);
	a = cJSON_CreateArray();
	for (p = d->def; *p != '\0'; p = *q != '\0' ? q + 1 : q) {
		q = p + strcspn(p, ",");
		snprintf(item, sizeof item, "%.*s", (int)(q - p), p);
		if (q > p)
			cJSON_AddItemToArray(a, cJSON_CreateString(item));
	}
	return a;
}

/* The value of config key d, from its type and bounds. */
static void
put_config_value(struct gen *g, cJSON *o, const struct config_keydoc *d)
{
	static const char *const bools[] = {
		"true", "false", "yes", "no", "on", "off"
	};
	char re[200];
	cJSON *e, *any, *a;
	size_t i;

	if (strcmp(d->type, "string") == 0) {
		put_types(o, "string", "number", "boolean", "null", NULL);
		if (d->max > 0)
			cJSON_AddNumberToObject(o, "maxLength", (double)d->max);
	} else if (strcmp(d->type, "boolean") == 0) {
		e = cJSON_AddArrayToObject(o, "enum");
		cJSON_AddItemToArray(e, cJSON_CreateTrue());
		cJSON_AddItemToArray(e, cJSON_CreateFalse());
		for (i = 0; i < nitems(bools); i++)
			cJSON_AddItemToArray(e, cJSON_CreateString(bools[i]));
	} else if (strcmp(d->type, "integer") == 0) {
		cJSON_AddStringToObject(o, "type", "integer");
		if (d->min != 0 || d->max != 0) {
			cJSON_AddNumberToObject(o, "minimum", (double)d->min);
			cJSON_AddNumberToObject(o, "maximum", (double)d->max);
		}
	} else if (strcmp(d->type, "duration") == 0 ||
	    strcmp(d->type, "size") == 0) {
		put_types(o, "string", "integer", NULL);
		snprintf(re, sizeof re, "^\\s*[0-9]+\\s*(%s)?$", d->units);
		cJSON_AddStringToObject(o, "pattern", re);
		cJSON_AddNumberToObject(o, "minimum", 0);
	} else if (strcmp(d->type, "choice") == 0) {
		e = cJSON_AddArrayToObject(o, "enum");
		for (i = 0; d->choices[i] != NULL; i++)
			cJSON_AddItemToArray(e,
			    cJSON_CreateString(d->choices[i]));
	} else if (strcmp(d->type, "list") == 0) {
		any = cJSON_AddArrayToObject(o, "anyOf");
		put_text(put_alt(any));
		a = put_alt(any);
		cJSON_AddStringToObject(a, "type", "array");
		put_text(cJSON_AddObjectToObject(a, "items"));
	} else if (strcmp(d->type, "mapping") == 0) {
		put_types(o, "object", "null", NULL);
		put_text(cJSON_AddObjectToObject(o, "additionalProperties"));
	} else
		gen_fail(g, "config key '%s': no schema for type '%s' (add it "
		    "to put_config_value() in schema.c)", d->name, d->type);
}

/* The mapping of a section (or the root, for section ""), made once. */
static cJSON *
config_section(cJSON *root, const char *name, size_t len)
{
	cJSON *props = cJSON_GetObjectItemCaseSensitive(root, "properties");
	cJSON *s;
	char key[64], desc[96];

	snprintf(key, sizeof key, "%.*s", (int)len, name);
	if ((s = cJSON_GetObjectItemCaseSensitive(props, key)) != NULL)
		return cJSON_GetObjectItemCaseSensitive(s, "properties");
	s = cJSON_AddObjectToObject(props, key);
	snprintf(desc, sizeof desc, "the %s settings", key);
	cJSON_AddStringToObject(s, "description", desc);
	put_types(s, "object", "null", NULL);
	cJSON_AddFalseToObject(s, "additionalProperties");
	return cJSON_AddObjectToObject(s, "properties");
}

char *
schema_config(char *errstr, size_t errsz)
{
	struct config_keydoc d;
	struct gen g;
	cJSON *root, *props, *p;
	const char *dot;
	char desc[1024];
	size_t i;

	root = schema_start(&g, errstr, errsz, "tidewatch config file",
	    "tidewatch.yaml (tidewatch.yaml(5)). Generated by `tidewatch schema "
	    "config` from the config table.");
	put_types(root, "object", "null", NULL);
	cJSON_AddObjectToObject(root, "properties");
	cJSON_AddFalseToObject(root, "additionalProperties");
	for (i = 0; config_key_doc(i, &d) == 0; i++) {
		if ((dot = strchr(d.name, '.')) != NULL)
			props = config_section(root, d.name,
			    (size_t)(dot - d.name));
		else
			props = cJSON_GetObjectItemCaseSensitive(root,
			    "properties");
		p = cJSON_AddObjectToObject(props, dot != NULL ? dot + 1 :
		    d.name);
		snprintf(desc, sizeof desc, "%s (default: %s%s)", d.help,
		    d.def[0] != '\0' ? d.def : "empty",
		    d.reloadable ? "; reloadable" : "");
		cJSON_AddStringToObject(p, "description", desc);
		put_config_value(&g, p, &d);
		cJSON_AddItemToObject(p, "default", config_default(&d));
	}
	return print_schema(root, &g);
}
