/*
 * datatest.c — runs the data-driven match tests in the .test files of tests/data.
 *
 * A .test file is a series of blocks (a reader can scan it, like jq's
 * tests/jq.test):
 *
 *   ### config            optional; one key=value per line (config keys)
 *   normalize.max_gap=0
 *   ### rules             a rule file, as YAML
 *   topics: …
 *   ### cases             one case per line: INPUT => EXPECTED
 *   地溝油 => food
 *   地下沟渠里的油 => -
 *   {"text":"…","platform":"weibo"} => food(地沟油)
 *
 * INPUT is a text (escapes \uXXXX, \t, \n, \\ allowed) or, if it starts with
 * '{', a JSON post.  EXPECTED lists the topic ids that must match, space
 * separated, or '-' for none; topic(kw|kw) also requires exactly those
 * keywords (as written in the rules).  A new "### rules" block replaces the
 * rules; "### config" applies to the rules blocks after it.  Each case is
 * one test; the last line printed is "datatest: N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decoder.h"
#include "matcher.h"
#include "normalize.h"
#include "rules.h"
#include "xmalloc.h"

static size_t npass, nfail;

struct env {
	struct config		 cfg;
	struct normalizer	*norm;
	struct matcher		*m;
	struct match_ctx	*ctx;
	struct decoder		*dec;
	const char		*file;
	int			 rules_line;
};

static void
env_clear(struct env *e)
{
	match_ctx_free(e->ctx);
	match_free(e->m);
	norm_free(e->norm);
	decoder_free(e->dec);
	e->ctx = NULL;
	e->m = NULL;
	e->norm = NULL;
	e->dec = NULL;
}

/* Decodes \uXXXX (and \UXXXXXXXX), \t, \n, \\ into UTF-8. */
static char *
unescape(const char *s, size_t len, size_t *outlen)
{
	char *o = xmalloc(len * 4 + 1);
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned long cp;
		int digits;

		if (s[i] != '\\' || i + 1 >= len) {
			o[n++] = s[i];
			continue;
		}
		switch (s[i + 1]) {
		case 't': o[n++] = '\t'; i++; continue;
		case 'n': o[n++] = '\n'; i++; continue;
		case '\\': o[n++] = '\\'; i++; continue;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default: o[n++] = s[i]; continue;
		}
		if (i + 2 + (size_t)digits > len) {
			o[n++] = s[i];
			continue;
		}
		{
			char hex[9];

			memcpy(hex, s + i + 2, (size_t)digits);
			hex[digits] = '\0';
			cp = strtoul(hex, NULL, 16);
		}
		i += 1 + (size_t)digits;
		if (cp < 0x80)
			o[n++] = (char)cp;
		else if (cp < 0x800) {
			o[n++] = (char)(0xC0 | (cp >> 6));
			o[n++] = (char)(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			o[n++] = (char)(0xE0 | (cp >> 12));
			o[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			o[n++] = (char)(0x80 | (cp & 0x3F));
		} else {
			o[n++] = (char)(0xF0 | (cp >> 18));
			o[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
			o[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			o[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	o[n] = '\0';
	*outlen = n;
	return o;
}

static int
build(struct env *e, const char *yaml, size_t len)
{
	struct ruleset *rs = NULL;
	struct diag errs;
	struct decoder_opts dopts;
	const char **names = NULL;
	size_t nn = 0, cap = 0, ti, i, j;
	char name[512], err[256];

	env_clear(e);
	diag_init(&errs);
	snprintf(name, sizeof name, "%s:%d", e->file, e->rules_line);
	if (rules_load_string(name, yaml, len, &rs, &errs) == -1) {
		for (i = 0; i < errs.n; i++)
			printf("FAIL %s: rules: %s\n", name, errs.msgs[i]);
		diag_free(&errs);
		return -1;
	}
	diag_free(&errs);
	if ((e->norm = norm_new(&e->cfg.norm, err, sizeof err)) == NULL ||
	    (e->m = match_compile(rs, e->norm, NULL, err, sizeof err)) == NULL) {
		printf("FAIL %s: %s\n", name, err);
		rules_unref(rs);
		return -1;
	}
	e->ctx = match_ctx_new(e->m);
	for (ti = 0; ti < rs->ntopics; ti++) {
		for (i = 0; i < rs->topics[ti].nwhere; i++) {
			const char *f = rs->topics[ti].where[i].field;

			for (j = 0; j < nn; j++)
				if (strcmp(names[j], f) == 0)
					break;
			if (j == nn) {
				names = xgrow(names, &cap, nn + 1, sizeof *names);
				names[nn++] = f;
			}
		}
	}
	memset(&dopts, 0, sizeof dopts);
	dopts.format = DEC_FORMAT_JSON;
	dopts.text_field = "text";
	dopts.id_field = "id";
	dopts.fields = names;
	dopts.nfields = nn;
	e->dec = decoder_new(&dopts);
	free(names);
	rules_unref(rs);
	return 0;
}

/* Splits EXPECTED on spaces that are not inside parentheses. */
static size_t
split_expect(char *s, char **tok, size_t max)
{
	size_t n = 0;
	int depth = 0;
	char *p = s;

	while (*p == ' ')
		p++;
	if (*p != '\0' && n < max)
		tok[n++] = p;
	for (; *p != '\0'; p++) {
		if (*p == '(')
			depth++;
		else if (*p == ')')
			depth--;
		else if (*p == ' ' && depth == 0) {
			*p = '\0';
			while (p[1] == ' ')
				p++;
			if (p[1] != '\0' && n < max)
				tok[n++] = p + 1;
		}
	}
	return n;
}

/* Checks one "INPUT => EXPECTED" line. */
static void
run_case(struct env *e, const char *line, int lineno)
{
	const char *arrow = NULL, *p;
	char *input, *expect, *toks[64], *gots[64], want[4096] = "", got[4096] = "";
	size_t inlen, i, j, ntok, ngot = 0;
	struct match_result res;
	struct post post;
	int ok = 1;

	for (p = line; (p = strstr(p, " => ")) != NULL; p++)
		arrow = p;
	if (arrow == NULL) {
		printf("FAIL %s:%d: no ' => ' in case line\n", e->file, lineno);
		nfail++;
		return;
	}
	if (e->m == NULL) {
		printf("FAIL %s:%d: no usable rules for this case\n", e->file, lineno);
		nfail++;
		return;
	}
	input = unescape(line, (size_t)(arrow - line), &inlen);
	expect = xstrdup(arrow + 4);
	snprintf(want, sizeof want, "%s", expect);
	if (input[0] == '{') {
		enum dec_result dr;
		char detail[128];

		dr = decoder_decode(e->dec, input, inlen, &post, detail, sizeof detail);
		if (dr != DEC_OK) {
			printf("FAIL %s:%d: bad JSON input: %s\n", e->file, lineno,
			    detail);
			nfail++;
			free(input);
			free(expect);
			return;
		}
	} else {
		memset(&post, 0, sizeof post);
		post.text = input;
		post.text_len = inlen;
		post.time_ms = -1;
	}
	if (match_post(e->ctx, &post, &res) == -1) {
		snprintf(got, sizeof got, "(invalid UTF-8)");
		ok = 0;
	} else {
		const struct ruleset *rs = match_ruleset(e->m);

		for (i = 0; i < res.ntopics && i < 64; i++) {
			const struct rule_topic *t = &rs->topics[res.topics[i].topic];
			char one[1024];
			size_t n;

			snprintf(one, sizeof one, "%s(", t->id);
			for (j = 0; j < res.topics[i].nkws; j++) {
				n = strlen(one);
				snprintf(one + n, sizeof one - n, "%s%s", j ? "|" : "",
				    t->kws[res.topics[i].kws[j]].display);
			}
			n = strlen(one);
			snprintf(one + n, sizeof one - n, ")");
			gots[ngot++] = xstrdup(one);
			n = strlen(got);
			snprintf(got + n, sizeof got - n, "%s%s", n ? " " : "", one);
		}
		if (ngot == 0)
			snprintf(got, sizeof got, "-");
	}
	ntok = split_expect(expect, toks, 64);
	if (ntok == 1 && strcmp(toks[0], "-") == 0)
		ntok = 0;
	if (ntok != ngot)
		ok = 0;
	for (i = 0; ok && i < ntok; i++) {
		int found = 0;
		size_t tl = strlen(toks[i]);

		for (j = 0; j < ngot && !found; j++) {
			if (strchr(toks[i], '(') != NULL)
				found = strcmp(toks[i], gots[j]) == 0;
			else
				found = strncmp(toks[i], gots[j], tl) == 0 &&
				    gots[j][tl] == '(';
		}
		if (!found)
			ok = 0;
	}
	for (j = 0; j < ngot; j++)
		free(gots[j]);
	if (ok)
		npass++;
	else {
		nfail++;
		printf("FAIL %s:%d: %s\n  expected: %s\n  got:      %s\n", e->file,
		    lineno, line, want, got);
	}
	free(input);
	free(expect);
}

static void
run_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct env e;
	char *line = NULL, *yaml = NULL;
	size_t cap = 0, ylen = 0, ycap = 0;
	ssize_t len;
	int lineno = 0, mode = 0;	/* 0 none, 1 config, 2 rules, 3 cases */
	struct diag errs;

	if (fp == NULL) {
		printf("FAIL %s: cannot open\n", path);
		nfail++;
		return;
	}
	memset(&e, 0, sizeof e);
	e.file = path;
	config_defaults(&e.cfg);
	diag_init(&errs);
	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strncmp(line, "### ", 4) == 0) {
			if (mode == 2 && build(&e, yaml ? yaml : "", ylen) == -1)
				nfail++;
			if (strcmp(line + 4, "config") == 0)
				mode = 1;
			else if (strcmp(line + 4, "rules") == 0) {
				mode = 2;
				ylen = 0;
				e.rules_line = lineno + 1;
			} else if (strcmp(line + 4, "cases") == 0)
				mode = 3;
			else {
				printf("FAIL %s:%d: unknown block '%s'\n", path,
				    lineno, line + 4);
				nfail++;
			}
			continue;
		}
		switch (mode) {
		case 1:
			if (line[0] == '#' || line[0] == '\0')
				break;
			if (config_set(&e.cfg, line, &errs) == -1) {
				printf("FAIL %s:%d: %s\n", path, lineno,
				    errs.msgs[errs.n - 1]);
				nfail++;
			}
			break;
		case 2:
			yaml = xgrow(yaml, &ycap, ylen + (size_t)len + 2, 1);
			memcpy(yaml + ylen, line, (size_t)len);
			ylen += (size_t)len;
			yaml[ylen++] = '\n';
			yaml[ylen] = '\0';
			break;
		case 3:
			if (line[0] == '#' || line[0] == '\0')
				break;
			run_case(&e, line, lineno);
			break;
		default:
			break;
		}
	}
	env_clear(&e);
	config_free(&e.cfg);
	diag_free(&errs);
	free(line);
	free(yaml);
	fclose(fp);
}

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		run_file(argv[i]);
	printf("datatest: %zu passed, %zu failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
