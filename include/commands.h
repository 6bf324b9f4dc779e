/*
 * commands.h — the subcommands of the tidewatch binary.
 *
 * Each takes the arguments after its name (argv[0] is the command name)
 * and returns the process exit status.  cmd_setup() is the start-up they
 * share: config, rules, normaliser and matcher, all-or-nothing.
 */
#ifndef TW_COMMANDS_H
#define TW_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "matcher.h"
#include "normalize.h"

int cmd_check(int argc, char **argv);
int cmd_match(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_health(int argc, char **argv);
int cmd_schema(int argc, char **argv);

/* Loads the config (cfgpath, or defaults when NULL), then the rules from
 * rule_paths (or the config's rules.paths when nrules is 0), and builds the
 * normaliser and matcher.  Returns 0, or -1 with every error in errs. */
int cmd_setup(const char *cfgpath, char **rule_paths, size_t nrules,
    struct config *cfg, struct normalizer **norm, struct matcher **m,
    struct diag *errs);

/* The part of cmd_setup() after the config: rules (rule_paths, or cfg's
 * rules.paths when nrules is 0), normaliser and matcher. */
int cmd_setup_rules(const struct config *cfg, char **rule_paths,
    size_t nrules, struct normalizer **norm, struct matcher **m,
    struct diag *errs);

/* The options of the commands that ask a running daemon over HTTP
 * (health, reload): -c CONFIG, -s key=value…, --address HOST:PORT,
 * --timeout SECONDS (how long to wait for the outcome; wait_s when not
 * given), --pid PID (reload only, with_pid).  a->sets is allocated: the caller frees it. */
struct endpoint_args {
	const char	*cfgpath;
	char	       **sets;
	size_t		 nsets;
	const char	*address;
	int		 timeout_ms;	/* one HTTP request */
	int		 wait_ms;	/* --timeout: the whole wait */
	long		 pid;		/* 0: not given */
};
/* Parses argv into a.  Returns -1 to go on, or the exit status (0 after
 * --help, 2 on a usage error, usage() printed either way). */
int cmd_endpoint_args(int argc, char **argv, bool with_pid, int wait_s,
    void (*usage)(FILE *), struct endpoint_args *a);
/* Where the daemon answers HTTP: a->address when given, else
 * metrics.listen of a->cfgpath (or of CONFIG_DEFAULT_PATH when readable,
 * else the default) with the -s overrides; a wildcard host becomes
 * loopback.  Returns 0, or -1 with every error in errs. */
int cmd_endpoint(const struct endpoint_args *a, char *host, size_t hostsz,
    char *port, size_t portsz, struct diag *errs);

/* Prints every line of d to stderr. */
void cmd_print_diag(const struct diag *d);

#endif
