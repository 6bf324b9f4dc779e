/*
 * cconv.c — converts text between Chinese scripts with OpenCC, for
 * tests/eval/variants.sh (the Debian package of the `opencc` command is not
 * needed: libopencc is already a build dependency).
 *
 *   cconv CONFIG [FIELD]      CONFIG is an OpenCC configuration (s2t.json,
 *                             s2tw.json, t2s.json…).  Each line of stdin is
 *                             converted and written to stdout.  With FIELD,
 *                             each line is a JSON object and only the string
 *                             value of "FIELD" is converted (the rest is
 *                             copied as it is; escapes are left alone, so
 *                             \uXXXX stays unconverted).
 *   cconv --pairs CONFIG…     each line of stdin is a text (OpenCC's own
 *                             dictionary keys, tests/eval/variant-pairs.sh);
 *                             each is converted with every CONFIG and both
 *                             are folded with the default normaliser; where
 *                             the folds have the same length and differ at a
 *                             character that is outside GB 2312, prints
 *                             "FROM TO CONFIG OFF AT TEXT" (code points in
 *                             hex; AT is the character of TEXT that became
 *                             TO, OFF its byte offset): the variant pairs
 *                             of daemon/variants.c and their triggers.
 *
 * Lines are converted in blocks of about 1 MiB through one
 * opencc_convert_utf8() call each (a newline ends every phrase OpenCC
 * looks up), so a corpus of 50,000 posts takes well under a second.
 * Single-threaded; exit 1 when OpenCC cannot be opened or fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iconv.h>
#include <opencc.h>

#include "normalize.h"
#include "xmalloc.h"

#define BLOCK	(1u << 20)

static opencc_t cc;

/* Converts s[0..len) (whole lines) and writes the result. */
static void
convert_put(const char *s, size_t len)
{
	char *r;

	if (len == 0)
		return;
	if ((r = opencc_convert_utf8(cc, s, len)) == NULL) {
		fprintf(stderr, "cconv: %s\n", opencc_error());
		exit(1);
	}
	fputs(r, stdout);
	opencc_convert_utf8_free(r);
}

/*
 * The byte range of the string value of "field" in the JSON object on
 * line s (NUL-terminated): [*from, *to).  Returns 0 when absent.
 */
static int
json_field_span(const char *s, const char *field, size_t *from, size_t *to)
{
	char key[256];
	const char *p, *q;

	snprintf(key, sizeof key, "\"%s\"", field);
	if ((p = strstr(s, key)) == NULL)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == ':')
		p++;
	if (*p != '"')
		return 0;
	for (q = ++p; *q != '\0' && *q != '"'; q++)
		if (*q == '\\' && q[1] != '\0')
			q++;
	*from = (size_t)(p - s);
	*to = (size_t)(q - s);
	return 1;
}

/*
 * JSON lines: the field's values of a block of lines go through OpenCC
 * together, one per line, and are put back between the rest of each line.
 */
static void
convert_json_lines(const char *field)
{
	char *line = NULL, *in = NULL, *out;
	char **lines = NULL;
	size_t linecap = 0, incap = 0, inlen = 0, nlines = 0, linescap = 0;
	size_t i, from, to;
	char *o, *nl;
	ssize_t n;
	int done = 0;

	while (!done) {
		n = getline(&line, &linecap, stdin);
		if (n < 0)
			done = 1;
		else {
			lines = xgrow(lines, &linescap, nlines + 1,
			    sizeof *lines);
			lines[nlines++] = xstrdup(line);
			if (!json_field_span(line, field, &from, &to))
				from = to = 0;
			in = xgrow(in, &incap, inlen + (to - from) + 2, 1);
			memcpy(in + inlen, line + from, to - from);
			inlen += to - from;
			in[inlen++] = '\n';
			in[inlen] = '\0';
		}
		if (nlines == 0 || (!done && inlen < BLOCK))
			continue;
		if ((out = opencc_convert_utf8(cc, in, inlen)) == NULL) {
			fprintf(stderr, "cconv: %s\n", opencc_error());
			exit(1);
		}
		o = out;
		for (i = 0; i < nlines; i++) {
			nl = strchr(o, '\n');

			if (nl == NULL) {
				fprintf(stderr, "cconv: OpenCC joined lines\n");
				exit(1);
			}
			if (json_field_span(lines[i], field, &from, &to)) {
				fwrite(lines[i], 1, from, stdout);
				fwrite(o, 1, (size_t)(nl - o), stdout);
				fputs(lines[i] + to, stdout);
			} else
				fputs(lines[i], stdout);
			o = nl + 1;
			free(lines[i]);
		}
		opencc_convert_utf8_free(out);
		nlines = 0;
		inlen = 0;
	}
	free(lines);
	free(line);
	free(in);
}

/* Is cp a character of GB 2312 (iconv's EUC-CN)? */
static int
cp_in_gb2312(iconv_t ic, uint32_t cp)
{
	char in[8], out[16], *ip = in, *op = out;
	size_t il, ol = sizeof out;
	uint8_t *u = (uint8_t *)in;

	if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		il = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		il = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		il = 4;
	}
	iconv(ic, NULL, NULL, NULL, NULL);
	return iconv(ic, &ip, &il, &op, &ol) != (size_t)-1;
}

/* The code point of the UTF-8 sequence at s (valid: OpenCC's keys). */
static unsigned
cp_at(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k = utf8_seq_len(u, 4), i;
	unsigned cp;

	if (k == 0)
		return u[0];
	cp = u[0] & (0x7f >> k);
	for (i = 1; i < k; i++)
		cp = cp << 6 | (u[i] & 0x3f);
	return cp;
}

/* The --pairs mode: see the top of the file. */
static int
print_variant_pairs(char **configs, int nconfigs)
{
	struct norm_opts o;
	struct normalizer *n;
	struct norm_buf a = { 0 }, b = { 0 };
	char err[256], *in = NULL, *line = NULL, *res, *r, *nl, *t;
	size_t incap = 0, inlen = 0, linecap = 0, i;
	ssize_t len;
	iconv_t ic;
	int c;

	norm_opts_default(&o);
	if ((n = norm_new(&o, err, sizeof err)) == NULL) {
		fprintf(stderr, "cconv: %s\n", err);
		return 1;
	}
	if ((ic = iconv_open("GB2312", "UTF-8")) == (iconv_t)-1) {
		fprintf(stderr, "cconv: iconv has no GB2312\n");
		return 1;
	}
	while ((len = getline(&line, &linecap, stdin)) > 0) {
		in = xgrow(in, &incap, inlen + (size_t)len + 2, 1);
		memcpy(in + inlen, line, (size_t)len);
		inlen += (size_t)len;
		if (in[inlen - 1] != '\n')
			in[inlen++] = '\n';
	}
	for (c = 0; c < nconfigs; c++) {
		if (c > 0)
			opencc_close(cc);
		if ((cc = opencc_open(configs[c])) == (opencc_t)-1 ||
		    (res = opencc_convert_utf8(cc, in, inlen)) == NULL) {
			fprintf(stderr, "cconv: %s: %s\n", configs[c],
			    opencc_error());
			return 1;
		}
		for (t = in, r = res; (nl = strchr(t, '\n')) != NULL;
		    t = nl + 1) {
			char *rn = strchr(r, '\n');

			if (rn == NULL)
				break;
			if (norm_text(n, t, (size_t)(nl - t), &a) == 0 &&
			    norm_text(n, r, (size_t)(rn - r), &b) == 0 &&
			    a.n == b.n)
				for (i = 0; i < a.n; i++)
					if (a.v[i].cp != b.v[i].cp &&
					    !cp_in_gb2312(ic, b.v[i].cp))
						printf("%04X %04X %s %u %X %.*s\n",
						    a.v[i].cp, b.v[i].cp,
						    configs[c], a.v[i].src_start,
						    cp_at(t + a.v[i].src_start),
						    (int)(nl - t), t);
			r = rn + 1;
		}
		opencc_convert_utf8_free(res);
	}
	opencc_close(cc);
	iconv_close(ic);
	norm_buf_free(&a);
	norm_buf_free(&b);
	norm_free(n);
	free(in);
	free(line);
	return 0;
}

int
main(int argc, char **argv)
{
	char *buf;
	size_t len = 0, n, cut;

	if (argc >= 3 && strcmp(argv[1], "--pairs") == 0)
		return print_variant_pairs(argv + 2, argc - 2);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: cconv CONFIG [FIELD] <in >out\n"
		    "       cconv --pairs CONFIG… <texts\n");
		return 2;
	}
	if ((cc = opencc_open(argv[1])) == (opencc_t)-1) {
		fprintf(stderr, "cconv: %s: %s\n", argv[1], opencc_error());
		return 1;
	}
	if (argc == 3) {
		convert_json_lines(argv[2]);
		opencc_close(cc);
		return 0;
	}
	buf = xmalloc(2 * BLOCK + 1);
	while ((n = fread(buf + len, 1, 2 * BLOCK - len, stdin)) > 0) {
		len += n;
		for (cut = len; cut > 0 && buf[cut - 1] != '\n'; cut--)
			;
		if (cut == 0 && len < 2 * BLOCK)
			continue;
		if (cut == 0)
			cut = len;
		convert_put(buf, cut);
		memmove(buf, buf + cut, len - cut);
		len -= cut;
	}
	convert_put(buf, len);
	free(buf);
	opencc_close(cc);
	return 0;
}
