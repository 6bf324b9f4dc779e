/*
 * cmd_match.c — `tidewatch match -r RULES [FILE]`, offline matching.
 *
 * Reads posts as JSON lines (or plain text lines with --text) from FILE or
 * stdin and writes exactly one JSON line per input line, in order:
 *   {"line":N,"id":…,"topics":[{"id":"food-safety","keywords":["地沟油"]}]}
 * or {"line":N,"error":"…"} for a line that cannot be decoded; the run goes
 * on.  Each line goes through the daemon's pipeline (pipeline.c: decoder,
 * normaliser, matcher) without time or counting, so its matches are the
 * daemon's matches.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "jsonw.h"
#include "pipeline.h"
#include "xmalloc.h"

static void
match_usage(FILE *fp)
{
	fprintf(fp, "usage: tidewatch match -r RULES [-r RULES...] [-c CONFIG]\n"
	    "                       [--field NAME] [--text] [--offsets] [FILE]\n"
	    "  Prints the topics and keywords each post matches, one JSON line\n"
	    "  per input line.  Input is JSON lines (text in the 'text' member,\n"
	    "  or --field NAME, or the config's input.text_field) or, with\n"
	    "  --text, plain text lines.  --offsets adds each keyword hit with\n"
	    "  its byte offsets in the text.\n");
}

static void
write_result(struct jsonw *w, const struct ruleset *rs, const struct post *p,
    const struct match_result *res, int offsets)
{
	size_t i, j;

	jsonw_raw(w, ",\"topics\":[", 11);
	for (i = 0; i < res->ntopics; i++) {
		const struct match_topic *mt = &res->topics[i];
		const struct rule_topic *t = &rs->topics[mt->topic];

		if (i > 0)
			jsonw_raw(w, ",", 1);
		jsonw_raw(w, "{\"id\":", 6);
		jsonw_strz(w, t->id);
		jsonw_raw(w, ",\"keywords\":[", 13);
		for (j = 0; j < mt->nkws; j++) {
			if (j > 0)
				jsonw_raw(w, ",", 1);
			jsonw_strz(w, t->kws[mt->kws[j]].display);
		}
		jsonw_raw(w, "]", 1);
		if (offsets) {
			int first = 1;

			jsonw_raw(w, ",\"hits\":[", 9);
			for (j = 0; j < res->nhits; j++) {
				const struct match_hit *h = &res->hits[j];

				if (h->topic != mt->topic)
					continue;
				if (!first)
					jsonw_raw(w, ",", 1);
				first = 0;
				jsonw_raw(w, "{\"keyword\":", 11);
				jsonw_strz(w, t->kws[h->kw].display);
				jsonw_raw(w, ",\"start\":", 9);
				jsonw_int(w, h->start);
				jsonw_raw(w, ",\"end\":", 7);
				jsonw_int(w, h->end);
				jsonw_raw(w, ",\"text\":", 8);
				jsonw_str(w, p->text + h->start, h->end - h->start);
				jsonw_raw(w, "}", 1);
			}
			jsonw_raw(w, "]", 1);
		}
		jsonw_raw(w, "}", 1);
	}
	jsonw_raw(w, "]", 1);
	if (res->nerrors > 0) {
		jsonw_raw(w, ",\"regex_errors\":[", 17);
		for (i = 0; i < res->nerrors; i++) {
			const struct rule_topic *t = &rs->topics[res->errors[i].topic];

			if (i > 0)
				jsonw_raw(w, ",", 1);
			jsonw_raw(w, "{\"topic\":", 9);
			jsonw_strz(w, t->id);
			if (res->errors[i].kw != UINT32_MAX) {
				jsonw_raw(w, ",\"keyword\":", 11);
				jsonw_strz(w, t->kws[res->errors[i].kw].display);
			}
			jsonw_raw(w, ",\"pcre2_error\":", 15);
			jsonw_int(w, res->errors[i].pcre2_rc);
			jsonw_raw(w, "}", 1);
		}
		jsonw_raw(w, "]", 1);
	}
}

/* One input line: its JSON result line (or error line) into w. */
static void
match_line(struct jsonw *w, struct pipeline *pl, const struct matcher *m,
    const char *line, size_t len, size_t lineno, int offsets)
{
	struct pipeline_result r;

	jsonw_reset(w);
	jsonw_raw(w, "{\"line\":", 8);
	jsonw_int(w, (int64_t)lineno);
	pipeline_process(pl, line, len, -1, -1, &r);
	if (!r.decoded) {
		jsonw_raw(w, ",\"error\":", 9);
		jsonw_strz(w, r.detail);
		jsonw_raw(w, ",\"reason\":", 10);
		jsonw_strz(w, decoder_result_name((enum dec_result)r.reason));
		jsonw_raw(w, "}\n", 2);
		return;
	}
	if (r.post.id != NULL) {
		jsonw_raw(w, ",\"id\":", 6);
		jsonw_str(w, r.post.id, r.post.id_len);
	}
	if (r.status != PIPELINE_OK) {	/* the matcher refused the text */
		jsonw_raw(w, ",\"error\":\"text is not valid UTF-8\"}\n", 36);
		return;
	}
	write_result(w, match_ruleset(m), &r.post, &r.match, offsets);
	jsonw_raw(w, "}\n", 2);
}

int
cmd_match(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "field", required_argument, NULL, 'f' },
		{ "text", no_argument, NULL, 't' },
		{ "offsets", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfgpath = NULL, *field = NULL;
	char **rpaths = NULL, *line = NULL;
	size_t nr = 0, rcap = 0, linecap = 0, lineno = 0;
	int ch, text_mode = 0, offsets = 0, rc = 0;
	struct config cfg;
	struct normalizer *norm;
	struct matcher *m;
	struct pipeline_opts po;
	struct pipeline *pl;
	struct diag errs;
	struct jsonw w = { NULL, 0, 0 };
	ssize_t len;
	FILE *in = stdin;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "r:c:f:toh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			rpaths = xgrow(rpaths, &rcap, nr + 1, sizeof *rpaths);
			rpaths[nr++] = optarg;
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'f':
			field = optarg;
			break;
		case 't':
			text_mode = 1;
			break;
		case 'o':
			offsets = 1;
			break;
		case 'h':
			match_usage(stdout);
			free(rpaths);
			return 0;
		default:
			match_usage(stderr);
			free(rpaths);
			return 2;
		}
	}
	if (nr == 0 && cfgpath == NULL) {
		fprintf(stderr, "tidewatch match: -r RULES (or -c CONFIG) is required\n");
		match_usage(stderr);
		return 2;
	}
	if (argc - optind > 1) {
		match_usage(stderr);
		free(rpaths);
		return 2;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0 &&
	    (in = fopen(argv[optind], "rb")) == NULL) {
		perror(argv[optind]);
		free(rpaths);
		return 1;
	}
	diag_init(&errs);
	if (cmd_setup(cfgpath, rpaths, nr, &cfg, &norm, &m, &errs) == -1) {
		cmd_print_diag(&errs);
		diag_free(&errs);
		config_free(&cfg);
		free(rpaths);
		if (in != stdin)
			fclose(in);
		return 1;
	}
	free(rpaths);

	memset(&po, 0, sizeof po);
	po.mode = PIPELINE_MATCH;
	po.cfg = &cfg;
	po.m = m;
	po.text_field = field;
	po.text_lines = text_mode;
	pl = pipeline_new(&po, NULL, 0);	/* matching takes any config */

	while ((len = getline(&line, &linecap, in)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		match_line(&w, pl, m, line, (size_t)len, lineno, offsets);
		fwrite(w.buf, 1, w.len, stdout);
	}
	if (ferror(in)) {
		perror("tidewatch match: read");
		rc = 1;
	}
	if (fflush(stdout) != 0) {
		perror("tidewatch match: write");
		rc = 1;
	}
	free(line);
	jsonw_free(&w);
	pipeline_free(pl);
	match_free(m);
	norm_free(norm);
	config_free(&cfg);
	diag_free(&errs);
	if (in != stdin)
		fclose(in);
	return rc;
}
