/*
 * cmd_config.c — `tidewatch config`: the configuration reference.
 *
 * `--defaults` prints every key of the config table with its default and
 * help as a commented YAML file (deploy/tidewatch.yaml is exactly this
 * output, checked by a test); `-c FILE [-s key=value]…` validates a config
 * file with its overrides as `run` would read them and prints "FILE: ok"
 * or every error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "config.h"
#include "diag.h"
#include "xmalloc.h"

static void
config_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch config --defaults\n"
	    "       tidewatch config [-c CONFIG] [-s key=value]...\n"
	    "  --defaults  print every key with its default and help (a valid,\n"
	    "              commented config file)\n"
	    "  -c CONFIG   check a config file (default %s)\n",
	    CONFIG_DEFAULT_PATH);
}

int
cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "defaults", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = CONFIG_DEFAULT_PATH;
	char **sets = NULL;
	size_t nsets = 0, setcap = 0, i;
	struct config cfg;
	struct diag errs;
	int ch, defaults = 0, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "dc:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			defaults = 1;
			break;
		case 'c':
			path = optarg;
			break;
		case 's':
			sets = xgrow(sets, &setcap, nsets + 1, sizeof *sets);
			sets[nsets++] = optarg;
			break;
		case 'h':
			config_usage(stdout);
			free(sets);
			return 0;
		default:
			config_usage(stderr);
			free(sets);
			return 2;
		}
	}
	if (optind < argc) {
		config_usage(stderr);
		free(sets);
		return 2;
	}
	if (defaults) {
		config_print_defaults(stdout);
		free(sets);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	diag_init(&errs);
	if (config_load(path, &cfg, &errs) == 0)
		for (i = 0; i < nsets; i++)
			config_set(&cfg, sets[i], &errs);
	if (errs.n > 0) {
		cmd_print_diag(&errs);
		rc = 1;
	} else
		printf("%s: ok\n", path);
	config_free(&cfg);
	diag_free(&errs);
	free(sets);
	return rc;
}
