/*
 * cmd_check.c — `tidewatch check [-c FILE] [RULES…]`.
 *
 * Validates the config (when given) and the rule set, then runs every test
 * embedded in the rule files.  Prints "N topics, M keywords, K tests passed"
 * on success; otherwise every error and every failed test, each as
 * "path:line:col: message", and exits 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "ruletest.h"

static void
check_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch check [-c CONFIG] [RULES...]\n"
	    "  Validates the config and rule files (files or directories) and\n"
	    "  runs the tests embedded in the rules.  Without RULES, the\n"
	    "  config's rules.paths are checked.\n");
}

int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL;
	struct config cfg;
	struct normalizer *norm;
	struct matcher *m;
	struct diag errs, fails;
	size_t passed = 0, failed;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cfgpath = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	if (cfgpath == NULL && optind == argc) {
		if (access(CONFIG_DEFAULT_PATH, R_OK) == 0)
			cfgpath = CONFIG_DEFAULT_PATH;
		else {
			fprintf(stderr, "tidewatch check: no rules given and no "
			    "%s to read them from\n", CONFIG_DEFAULT_PATH);
			check_usage(stderr);
			return 2;
		}
	}
	diag_init(&errs);
	diag_init(&fails);
	if (cmd_setup(cfgpath, argv + optind, (size_t)(argc - optind), &cfg,
	    &norm, &m, &errs) == -1) {
		cmd_print_diag(&errs);
		fprintf(stderr, "%zu error%s\n", errs.n, errs.n == 1 ? "" : "s");
		diag_free(&errs);
		config_free(&cfg);
		return 1;
	}
	failed = ruletest_run(m, &passed, &fails);
	cmd_print_diag(&fails);
	{
		const struct ruleset *rs = match_ruleset(m);

		if (failed == 0)
			printf("%zu topics, %zu keywords, %zu tests passed\n",
			    rs->ntopics, rs->nkeywords, passed);
		else
			printf("%zu topics, %zu keywords, %zu tests passed, "
			    "%zu failed\n", rs->ntopics, rs->nkeywords, passed,
			    failed);
	}
	match_free(m);
	norm_free(norm);
	config_free(&cfg);
	diag_free(&errs);
	diag_free(&fails);
	return failed ? 1 : 0;
}
