/*
 * cmd_setup.c — the start-up shared by the subcommands.
 *
 * Config first (its normalisation switches and rule paths), then the rule
 * set, the normaliser and the matcher.  Nothing half-built escapes: on any
 * error everything is released and the caller gets the errors.  Also the
 * address of a running daemon's HTTP endpoint, for the commands that ask
 * it (health, reload).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "commands.h"
#include "httpc.h"
#include "rules.h"
#include "xmalloc.h"

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

int
cmd_endpoint_args(int argc, char **argv, bool with_pid, int wait_s,
    void (*usage)(FILE *), struct endpoint_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "address", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t setcap = 0;
	char *end;
	long v;
	int ch;

	memset(a, 0, sizeof *a);
	a->timeout_ms = 5000;
	a->wait_ms = wait_s * 1000;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->cfgpath = optarg;
			break;
		case 's':
			a->sets = xgrow(a->sets, &setcap, a->nsets + 1,
			    sizeof *a->sets);
			a->sets[a->nsets++] = optarg;
			break;
		case 'a':
			a->address = optarg;
			break;
		case 't':
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v <= 0 ||
			    v > (ch == 't' ? 3600 : INT32_MAX) ||
			    (ch == 'p' && !with_pid)) {
				usage(stderr);
				return 2;
			}
			if (ch == 't')
				a->wait_ms = (int)v * 1000;
			else
				a->pid = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int
cmd_endpoint(const struct endpoint_args *a, char *host, size_t hostsz,
    char *port, size_t portsz, struct diag *errs)
{
	const char *cfgpath = a->cfgpath;
	struct config cfg;
	char err[512];
	size_t i;
	int rc;

	if (a->address != NULL)
		rc = httpc_target(a->address, host, hostsz, port, portsz, err,
		    sizeof err);
	else {
		if (cfgpath == NULL && access(CONFIG_DEFAULT_PATH, R_OK) == 0)
			cfgpath = CONFIG_DEFAULT_PATH;
		if (cfgpath != NULL) {
			if (config_load_sets(cfgpath, a->sets, a->nsets, &cfg,
			    errs) == -1) {
				config_free(&cfg);
				return -1;
			}
		} else {
			config_defaults(&cfg);
			for (i = 0; i < a->nsets; i++)
				if (config_set(&cfg, a->sets[i], errs) == -1) {
					config_free(&cfg);
					return -1;
				}
		}
		rc = httpc_target(cfg.metrics_listen, host, hostsz, port,
		    portsz, err, sizeof err);
		config_free(&cfg);
	}
	if (rc == -1)
		diag_addf(errs, "%s", err);
	return rc;
}
