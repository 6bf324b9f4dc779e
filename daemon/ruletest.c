/*
 * ruletest.c — runs the tests embedded in rule files against a compiled
 * matcher, exactly as the daemon would match the same post.
 *
 * A test item is a text or a set of post fields (for where rules); it is
 * turned into a struct post and matched with a private context.  Failures
 * are reported at the item's position in the rule file, with what was
 * expected and what happened (including regex cut-offs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruletest.h"
#include "xmalloc.h"

static void
describe_got(const struct rule_topic *t, const struct match_result *res,
    uint32_t ti, char *buf, size_t sz)
{
	size_t i, j, n = 0;

	buf[0] = '\0';
	for (i = 0; i < res->ntopics; i++) {
		if (res->topics[i].topic != ti)
			continue;
		n += (size_t)snprintf(buf + n, sz - n, "match on");
		for (j = 0; j < res->topics[i].nkws && n < sz; j++)
			n += (size_t)snprintf(buf + n, sz - n, "%s%s",
			    j ? ", " : " ", t->kws[res->topics[i].kws[j]].display);
		return;
	}
	snprintf(buf, sz, "no match");
	for (i = 0; i < res->nerrors; i++) {
		if (res->errors[i].topic == ti) {
			snprintf(buf, sz, "no match (a regex was cut off: "
			    "PCRE2 error %d)", res->errors[i].pcre2_rc);
			break;
		}
	}
}

size_t
ruletest_run(const struct matcher *m, size_t *passed, struct diag *fails)
{
	const struct ruleset *rs = match_ruleset(m);
	struct match_ctx *ctx = match_ctx_new(m);
	struct post_field *fields = NULL;
	size_t fcap = 0, nfail = 0, npass = 0, ti, k, i;

	for (ti = 0; ti < rs->ntopics; ti++) {
		const struct rule_topic *t = &rs->topics[ti];

		for (k = 0; k < t->ntests; k++) {
			const struct rule_test *tc = &t->tests[k];
			struct match_result res;
			struct post p;
			bool matched = false;
			char got[512];

			memset(&p, 0, sizeof p);
			p.time_ms = -1;
			p.text = tc->text ? tc->text : "";
			p.text_len = strlen(p.text);
			fields = xgrow(fields, &fcap, tc->nfields + 1, sizeof *fields);
			for (i = 0; i < tc->nfields; i++) {
				fields[i].name = tc->fields[i].name;
				fields[i].value = tc->fields[i].value;
				fields[i].len = strlen(tc->fields[i].value);
			}
			p.fields = fields;
			p.nfields = tc->nfields;
			if (match_post(ctx, &p, &res) == -1) {
				diag_add(fails, t->file, tc->line, tc->col,
				    "test failed: topic '%s': text is not valid "
				    "UTF-8", t->id);
				nfail++;
				continue;
			}
			for (i = 0; i < res.ntopics; i++)
				if (res.topics[i].topic == ti)
					matched = true;
			if (matched == tc->expect_match) {
				npass++;
				continue;
			}
			describe_got(t, &res, (uint32_t)ti, got, sizeof got);
			diag_add(fails, t->file, tc->line, tc->col,
			    "test failed: topic '%s': expected %s, got %s: \"%s\"",
			    t->id, tc->expect_match ? "match" : "no match", got,
			    p.text);
			nfail++;
		}
	}
	free(fields);
	match_ctx_free(ctx);
	*passed = npass;
	return nfail;
}
