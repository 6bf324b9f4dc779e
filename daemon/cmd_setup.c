/*
 * cmd_setup.c — the start-up shared by the subcommands.
 *
 * Config first (its normalisation switches and rule paths), then the rule
 * set, the normaliser and the matcher.  Nothing half-built escapes: on any
 * error everything is released and the caller gets the errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "rules.h"

void
cmd_print_diag(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->msgs[i]);
}

int
cmd_setup(const char *cfgpath, char **rule_paths, size_t nrules,
    struct config *cfg, struct normalizer **norm, struct matcher **m,
    struct diag *errs)
{
	*norm = NULL;
	*m = NULL;
	if (cfgpath != NULL) {
		if (config_load(cfgpath, cfg, errs) == -1)
			return -1;
	} else
		config_defaults(cfg);
	return cmd_setup_rules(cfg, rule_paths, nrules, norm, m, errs);
}

int
cmd_setup_rules(const struct config *cfg, char **rule_paths, size_t nrules,
    struct normalizer **norm, struct matcher **m, struct diag *errs)
{
	struct rules_opts ro;
	struct ruleset *rs = NULL;
	char err[512];
	size_t before = errs->n;

	*norm = NULL;
	*m = NULL;
	if (nrules == 0) {
		rule_paths = cfg->rule_paths;
		nrules = cfg->rule_npaths;
	}
	memset(&ro, 0, sizeof ro);
	ro.resolution_s = cfg->resolution_s;
	ro.max_items = (size_t)cfg->rules_max_items;
	ro.max_file_bytes = (size_t)cfg->rules_max_file_bytes;
	if (rules_load_opts((const char *const *)rule_paths, nrules, &ro, &rs,
	    errs) == -1)
		return -1;
	if ((*norm = norm_new(&cfg->norm, err, sizeof err)) == NULL) {
		diag_addf(errs, "normaliser: %s", err);
		rules_unref(rs);
		return -1;
	}
	if ((*m = match_compile(rs, *norm, NULL, err, sizeof err)) == NULL) {
		diag_addf(errs, "matcher: %s", err);
		norm_free(*norm);
		*norm = NULL;
		rules_unref(rs);
		return -1;
	}
	rules_unref(rs);	/* the matcher holds its own reference */
	return errs->n > before ? -1 : 0;
}
