/*
 * gapcorpus.c — the real-text corpus and the THUOCL rule set that
 * tests/eval/gaps.sh measures separator skipping on.
 *
 *   gapcorpus posts DATA      JSON lines {"text": …}: every Weibo hot-search
 *                             title, then every COLD comment (train, dev,
 *                             test), in file order
 *   gapcorpus rules DATA N    a rule file: the N most frequent distinct
 *                             THUOCL words (by DF, ties by word), at least
 *                             two characters, in topics of 100 keywords
 *
 * DATA is ../shared/data or a copy (weibo-hot-search,
 * cold-chinese-offensive, thuocl-lexicon; see their READMEs for the quirks
 * handled here: BOMs, CR-only lines, spaces around the tab).  Output goes to
 * stdout; a missing file is an error (exit 1), the script checks first.
 * Single-threaded, no library code: it only prepares input for tidewatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* The whole file, NUL-terminated, without a leading UTF-8 BOM. */
static char *
file_read(const char *dir, const char *name, size_t *lenp)
{
	char path[4096];
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "gapcorpus: %s: cannot open\n", path);
		exit(1);
	}
	for (;;) {
		buf = xgrow(buf, &cap, len + 65536 + 1, 1);
		if ((n = fread(buf + len, 1, 65536, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	buf[len] = '\0';
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		memmove(buf, buf + 3, len - 2);
		len -= 3;
	}
	*lenp = len;
	return buf;
}

/* Writes s[0..len) as a JSON string. */
static void
json_string_put(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	putchar('"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/*
 * Reads one CSV field at buf[*i] (RFC 4180 quoting: fields may hold commas,
 * doubled quotes and newlines) into out; returns its length and leaves *i
 * on the ',' or line end after it.
 */
static size_t
csv_field(const char *buf, size_t len, size_t *i, char *out)
{
	size_t k = *i, n = 0;

	if (k < len && buf[k] == '"') {
		for (k++; k < len; k++) {
			if (buf[k] == '"' && k + 1 < len && buf[k + 1] == '"')
				out[n++] = buf[k++];
			else if (buf[k] == '"')
				break;
			else
				out[n++] = buf[k];
		}
		k++;
	}
	while (k < len && buf[k] != ',' && buf[k] != '\n')
		if (buf[k++] != '\r')
			out[n++] = buf[k - 1];
	*i = k;
	return n;
}

/*
 * Prints column col (0-based; col < 0: the last column) of every data row
 * of a CSV file as a post.  Empty fields are left out.
 */
static void
csv_column_posts(const char *dir, const char *name, int col)
{
	size_t len, i = 0, fl, kl;
	char *buf = file_read(dir, name, &len), *field, *kept;
	int c, row = 0;

	field = xmalloc(len + 1);
	kept = xmalloc(len + 1);
	while (i < len) {
		kl = 0;
		for (c = 0;; c++) {	/* one record */
			fl = csv_field(buf, len, &i, field);
			if (c == col || col < 0) {
				memcpy(kept, field, fl);
				kl = fl;
			}
			if (i >= len || buf[i++] == '\n')
				break;
		}
		if (row++ > 0 && kl > 0) {
			fputs("{\"text\":", stdout);
			json_string_put(kept, kl);
			fputs("}\n", stdout);
		}
	}
	free(kept);
	free(field);
	free(buf);
}

struct word {
	char	*w;
	long	 df;
};

static int
word_cmp(const void *a, const void *b)
{
	const struct word *x = a, *y = b;

	if (x->df != y->df)
		return x->df > y->df ? -1 : 1;
	return strcmp(x->w, y->w);
}

static int
word_name_cmp(const void *a, const void *b)
{
	const struct word *x = a, *y = b;
	int r = strcmp(x->w, y->w);

	if (r != 0)
		return r;
	return x->df > y->df ? -1 : x->df < y->df;
}

/* Code points in s (valid UTF-8 assumed). */
static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const char *const lexicon_files[] = {
	"THUOCL_IT.txt", "THUOCL_animal.txt", "THUOCL_caijing.txt",
	"THUOCL_car.txt", "THUOCL_chengyu.txt", "THUOCL_diming.txt",
	"THUOCL_food.txt", "THUOCL_law.txt", "THUOCL_lishimingren.txt",
	"THUOCL_medical.txt", "THUOCL_poem.txt",
};

/* Adds the words of one lexicon file: word TAB df, lines ended by \r\n,
 * \r or \n, both fields trimmed. */
static void
lexicon_add(const char *dir, const char *name, struct word **v, size_t *n,
    size_t *cap)
{
	size_t len;
	char *buf = file_read(dir, name, &len), *line, *tab, *e, *save = NULL;

	for (line = strtok_r(buf, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		while (*line == ' ')
			line++;
		for (e = tab; e > line && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (utf8_chars(line) < 2 || strpbrk(line, "\"\\") != NULL)
			continue;
		*v = xgrow(*v, cap, *n + 1, sizeof **v);
		(*v)[*n].w = xstrdup(line);
		(*v)[(*n)++].df = strtol(tab + 1, NULL, 10);
	}
	free(buf);
}

static void
rules_print(const char *dir, const char *lexdir, size_t want)
{
	struct word *v = NULL;
	size_t n = 0, cap = 0, i, k, out = 0;

	(void)dir;
	for (i = 0; i < sizeof lexicon_files / sizeof *lexicon_files; i++)
		lexicon_add(lexdir, lexicon_files[i], &v, &n, &cap);
	/* Distinct words, each with its highest DF. */
	qsort(v, n, sizeof *v, word_name_cmp);
	for (i = 0, k = 0; i < n; i++) {
		if (k > 0 && strcmp(v[k - 1].w, v[i].w) == 0) {
			free(v[i].w);
			continue;
		}
		v[k++] = v[i];
	}
	n = k;
	qsort(v, n, sizeof *v, word_cmp);
	fputs("topics:\n", stdout);
	for (i = 0; i < n && out < want; i++, out++) {
		if (out % 100 == 0)
			printf("  - id: t%zu\n    match:\n      any:\n",
			    out / 100);
		printf("        - \"%s\"\n", v[i].w);
	}
	for (i = 0; i < n; i++)
		free(v[i].w);
	free(v);
}

int
main(int argc, char **argv)
{
	char dir[4096];

	if (argc == 3 && strcmp(argv[1], "posts") == 0) {
		snprintf(dir, sizeof dir, "%s/weibo-hot-search", argv[2]);
		csv_column_posts(dir,
		    "weibo_hot_search_first_seen_2026-06-23_2026-08-23.csv",
		    4);
		snprintf(dir, sizeof dir, "%s/cold-chinese-offensive",
		    argv[2]);
		csv_column_posts(dir, "train.csv", -1);
		csv_column_posts(dir, "dev.csv", -1);
		csv_column_posts(dir, "test.csv", -1);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "rules") == 0) {
		snprintf(dir, sizeof dir, "%s/thuocl-lexicon", argv[2]);
		rules_print(argv[2], dir, strtoul(argv[3], NULL, 10));
		return 0;
	}
	fprintf(stderr, "usage: gapcorpus posts DATA\n"
	    "       gapcorpus rules DATA N\n");
	return 2;
}
