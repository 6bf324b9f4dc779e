/*
 * cmd_config.c — `tidewatch config`: the configuration reference.
 *
 * `--defaults` prints every key of the config table with its default and
 * help as a commented YAML file (deploy/tidewatch.yaml is exactly this
 * output, checked by a test); `--man` prints the same keys as roff entries,
 * which the Makefile puts into tidewatch.yaml(5) (deploy/tidewatch.yaml.5.in
 * holds the rest of that page); `-c FILE [-s key=value]…` validates a
 * config file with its overrides as `run` would read them (every
 * kafka.properties entry set on a scratch librdkafka configuration, as the
 * consumers will set it, secrets read from their files or variables but
 * never printed) and prints "FILE: ok" or every error.  Everything comes from config_table through
 * config_key_doc(), so the docs cannot miss a key.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "consumer.h"
#include "diag.h"
#include "xmalloc.h"

static void
config_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch config --defaults\n"
	    "       tidewatch config --man\n"
	    "       tidewatch config [-c CONFIG] [-s key=value]...\n"
	    "  --defaults  print every key with its default and help (a valid,\n"
	    "              commented config file)\n"
	    "  --man       print every key as the roff entries of tidewatch.yaml(5)\n"
	    "  -c CONFIG   check a config file (default %s), with\n"
	    "              kafka.properties through librdkafka\n"
	    "  -s key=value  an override, as run takes it\n",
	    CONFIG_DEFAULT_PATH);
}

/* Writes s as roff text: backslashes escaped, and a leading '.' or '\''
 * kept from being read as a request. */
static void
put_roff_text(FILE *fp, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", fp);
	for (; *s != '\0'; s++)
		if (*s == '\\')
			fputs("\\e", fp);
		else
			fputc(*s, fp);
}

/* The default of one key as it is written in a config file. */
static void
put_default_value(FILE *fp, const struct config_keydoc *d)
{
	fputs("\\fB", fp);
	if (strcmp(d->type, "list") == 0) {
		fputc('[', fp);
		put_roff_text(fp, d->def);
		fputc(']', fp);
	} else if (strcmp(d->type, "mapping") == 0)
		fputs("{}", fp);
	else if (d->def[0] == '\0')
		fputs("\"\"", fp);
	else
		put_roff_text(fp, d->def);
	fputs("\\fR", fp);
}

/* One .TP entry per key, under a .SS heading per section (the keys
 * without a section last, under "Top-level keys"). */
static void
print_man_entries(FILE *fp)
{
	struct config_keydoc d;
	const char *sect = NULL;
	size_t i, sectlen = 0, c;

	for (i = 0; config_key_doc(i, &d) == 0; i++) {
		const char *dot = strchr(d.name, '.');
		size_t slen = dot != NULL ? (size_t)(dot - d.name) : 0;

		if (sect == NULL || slen != sectlen ||
		    strncmp(sect, d.name, slen) != 0) {
			if (dot != NULL)
				fprintf(fp, ".SS %.*s\n", (int)slen, d.name);
			else
				fputs(".SS \"Top-level keys\"\n", fp);
			sect = d.name;
			sectlen = slen;
		}
		fprintf(fp, ".TP\n.B %s\n", d.name);
		put_roff_text(fp, d.help);
		fputs(".\n.br\nDefault: ", fp);
		put_default_value(fp, &d);
		fprintf(fp, "\n.br\nType: %s", d.type);
		if (d.choices != NULL)
			for (c = 0; d.choices[c] != NULL; c++)
				fprintf(fp, "%s\\fB%s\\fR", c == 0 ? " of " : ", ",
				    d.choices[c]);
		else if (strcmp(d.type, "integer") == 0)
			fprintf(fp, ", %" PRId64 " to %" PRId64, d.min, d.max);
		fprintf(fp, ".%s\n", d.reloadable ? "  Reloadable." : "");
	}
}

int
cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "defaults", no_argument, NULL, 'd' },
		{ "man", no_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = CONFIG_DEFAULT_PATH;
	char **sets = NULL;
	size_t nsets = 0, setcap = 0;
	struct config cfg;
	struct diag errs;
	int ch, defaults = 0, man = 0, rc = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "dc:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			defaults = 1;
			break;
		case 'm':
			man = 1;
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
	if (defaults || man) {
		if (defaults)
			config_print_defaults(stdout);
		else
			print_man_entries(stdout);
		free(sets);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	diag_init(&errs);
	if (config_load_sets(path, sets, nsets, &cfg, &errs) == 0)
		consumer_conf_check(&cfg, &errs);
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
