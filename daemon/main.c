/*
 * main.c — the tidewatch command line: dispatch to subcommands.
 *
 * tidewatch SUBCOMMAND [ARGS…]; every subcommand lives in its own
 * cmd_*.c and returns the exit status.  Nothing else happens here.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "version.h"

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*help;
} commands[] = {
	{ "run", cmd_run, "the daemon: consume, match, count, alert" },
	{ "check", cmd_check, "validate config and rules, run the rules' tests" },
	{ "match", cmd_match, "match posts offline, one JSON line per post" },
	{ "backtest", cmd_backtest, "replay posts offline: the alerts they would fire" },
	{ "alerts", cmd_alerts, "print alerts as they are published" },
	{ "top", cmd_top, "live view of the topics, by rate against baseline" },
	{ "config", cmd_config, "print the default config, or check a config file" },
	{ "reload", cmd_reload, "reload the running daemon, exit 1 if that failed" },
	{ "health", cmd_health, "ask the running daemon's /healthz (exit 0: healthy)" },
	{ "schema", cmd_schema, "print the JSON Schema of rule files or of the config" },
};

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: tidewatch COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(fp, "\n'tidewatch COMMAND --help' describes a command.\n"
	    "  --version  print the version\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("tidewatch %s\n", TW_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tidewatch: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
