/*
 * commands.h — the subcommands of the tidewatch binary.
 *
 * Each takes the arguments after its name (argv[0] is the command name)
 * and returns the process exit status.  cmd_setup() is the start-up they
 * share: config, rules, normaliser and matcher, all-or-nothing.
 */
#ifndef TW_COMMANDS_H
#define TW_COMMANDS_H

#include <stddef.h>

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

/* Prints every line of d to stderr. */
void cmd_print_diag(const struct diag *d);

#endif
