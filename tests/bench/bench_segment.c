/*
 * bench_segment.c — Chinese segmentation for discovery: libfriso against
 * character n-grams filtered by a lexicon, for speed and quality.
 *
 * Speed: every title of the Weibo hot-search file (the CSV's title
 * column), segmented by each method (median of 5 passes), as titles per
 * second; both methods normalise first.  Quality: the hand-scored sample
 * tests/data/hotsearch-terms.tsv (title, then the names and phrases a
 * reader sees as one unit): the share of those each method gives as a
 * term of its own.  Methods: "friso" is segment.c as discovery runs it;
 * "bigram-lexicon" keeps every two-character window of a Han run that is a
 * word of the lexicon (THUOCL's lists and friso's own dictionary, about
 * 290,000 words); "ngram-lexicon" every window of two to six characters
 * that is.  Prints one "bench-segment method=…" line each.
 * Single thread.
 *
 * usage: bench_segment HOTSEARCH.csv SCORED.tsv THUOCL_DIR FRISO_DICT
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "normalize.h"
#include "segment.h"
#include "xmalloc.h"

#define MAX_GRAM	6

struct lex {
	uint64_t	*v;		/* open addressing, 0 empty */
	size_t		 mask;
};

struct titles {
	char		**v;
	size_t		 n, cap;
};

/* a method: the terms of one title into out ('|'-separated, leading and
 * trailing '|') */
struct method {
	const char	*name;
	int		 maxgram;	/* 0: friso */
};

static struct normalizer *norm;
static struct seg_ctx *sctx;
static struct lex lex;
static struct norm_buf nb;

static double
now_s(void)
{
	return (double)clock_mono_ms() / 1000;
}

/* The slot of word w in the lexicon, or the empty one where it goes. */
static uint64_t *
lex_slot(const char *w, size_t len)
{
	uint64_t h = seg_hash(w, len);
	size_t i;

	for (i = h & lex.mask; lex.v[i] != 0 && lex.v[i] != h;
	    i = (i + 1) & lex.mask)
		;
	return &lex.v[i];
}

static void
lex_add(const char *w, size_t len)
{
	*lex_slot(w, len) = seg_hash(w, len);
}

static int
lex_has(const char *w, size_t len)
{
	return *lex_slot(w, len) != 0;
}

/* THUOCL_*.txt: "word<TAB>frequency" lines (some files end lines with
 * CR alone) */
static size_t
lex_load(const char *dir)
{
	char path[4096], buf[1 << 16], *p, *e, *w;
	struct dirent *de;
	size_t n = 0, len, keep = 0;
	DIR *d;
	FILE *fp;

	if (lex.v == NULL) {
		lex.mask = (1u << 20) - 1;
		lex.v = xcalloc(lex.mask + 1, sizeof *lex.v);
	}
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "THUOCL_", 7) != 0 &&
		    (len < 4 || strcmp(de->d_name + len - 4, ".lex") != 0))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		keep = 0;
		while ((len = fread(buf + keep, 1, sizeof buf - keep - 1, fp)) >
		    0 || keep > 0) {
			len += keep;
			buf[len] = '\0';
			for (p = buf; (e = strpbrk(p, "\r\n")) != NULL ||
			    (feof(fp) && *p != '\0'); p = e + 1) {
				if (e == NULL)
					e = p + strlen(p);
				*e = '\0';
				w = p;
				if (strncmp(w, "\xef\xbb\xbf", 3) == 0)
					w += 3;
				w[strcspn(w, "\t /")] = '\0';
				if (*w != '\0' && n < lex.mask / 2) {
					lex_add(w, strlen(w));
					n++;
				}
				if (e == buf + len)
					break;
			}
			keep = p < buf + len ? (size_t)(buf + len - p) : 0;
			if (keep >= sizeof buf - 1 || feof(fp))
				keep = 0;
			memmove(buf, p, keep);
			if (feof(fp) && keep == 0)
				break;
		}
		fclose(fp);
	}
	closedir(d);
	return n;
}

static void
out_add(char *out, size_t *len, size_t cap, const char *t, size_t tl)
{
	if (*len + tl + 2 >= cap)
		return;
	memcpy(out + *len, t, tl);
	*len += tl;
	out[(*len)++] = '|';
	out[*len] = '\0';
}

/* n-grams of each run of ideographs (no separator between) in the lexicon */
static size_t
segment_ngrams(const char *title, int maxgram, char *out, size_t cap)
{
	size_t i, j, k, len = 1, tl, nt = 0;
	char t[MAX_GRAM * 4];

	out[0] = '|';
	out[1] = '\0';
	if (norm_text(norm, title, strlen(title), &nb) == -1)
		return 0;
	for (i = 0; i < nb.n; i++) {
		if (nb.v[i].cls != NC_CJK)
			continue;
		for (k = 2; k <= (size_t)maxgram && i + k <= nb.n; k++) {
			for (j = i, tl = 0; j < i + k; j++) {
				if (nb.v[j].cls != NC_CJK ||
				    (j > i && nb.v[j].gap > 0))
					break;
				tl += seg_utf8_put(t + tl, nb.v[j].cp);
			}
			if (j < i + k)
				break;
			if (lex_has(t, tl)) {
				out_add(out, &len, cap, t, tl);
				nt++;
			}
		}
	}
	return nt;
}

static size_t
segment_friso(const char *title, char *out, size_t cap)
{
	struct seg_result r;
	size_t i, len = 1;

	out[0] = '|';
	out[1] = '\0';
	if (seg_text(sctx, title, strlen(title), &r) == -1)
		return 0;
	for (i = 0; i < r.n; i++)
		out_add(out, &len, cap, r.str + r.v[i].off, r.v[i].len);
	return r.n;
}

static size_t
segment_one(const struct method *m, const char *title, char *out, size_t cap)
{
	return m->maxgram == 0 ? segment_friso(title, out, cap) :
	    segment_ngrams(title, m->maxgram, out, cap);
}

static void
titles_add(struct titles *t, const char *s, size_t len)
{
	t->v = xgrow(t->v, &t->cap, t->n + 1, sizeof *t->v);
	t->v[t->n] = xmalloc(len + 1);
	memcpy(t->v[t->n], s, len);
	t->v[t->n++][len] = '\0';
}

/* the CSV's title column (the fifth; titles hold no comma or quote in this
 * file: a row with a quote is skipped) */
static void
titles_load(const char *path, struct titles *t)
{
	char line[4096], *p, *e;
	FILE *fp;
	int col;

	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof line, fp) == NULL) {
		fclose(fp);
		return;
	}
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strchr(line, '"') != NULL)
			continue;
		for (p = line, col = 0; col < 4 && p != NULL; col++)
			if ((p = strchr(p, ',')) != NULL)
				p++;
		if (p == NULL || (e = strchr(p, ',')) == NULL)
			continue;
		titles_add(t, p, (size_t)(e - p));
	}
	fclose(fp);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct method methods[] = {
		{ "friso", 0 }, { "bigram-lexicon", 2 }, { "ngram-lexicon", MAX_GRAM },
	};
	struct titles all = { 0 };
	struct norm_opts no;
	struct seg_opts so;
	struct segmenter *seg;
	char err[256], out[8192], line[4096], want[1024], *tab, *tok, *save;
	double t0, times[5];
	size_t mi, i, pass, nterms, whole, expected, nlex;
	FILE *fp;

	if (argc != 5) {
		fprintf(stderr, "usage: bench_segment HOTSEARCH.csv SCORED.tsv "
		    "THUOCL_DIR FRISO_DICT\n");
		return 2;
	}
	norm_opts_default(&no);
	if ((norm = norm_new(&no, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench_segment: %s\n", err);
		return 1;
	}
	memset(&so, 0, sizeof so);
	so.dictionary = argv[4];
	if ((seg = seg_new(&so, norm, err, sizeof err)) == NULL) {
		fprintf(stderr, "bench_segment: %s\n", err);
		return 1;
	}
	sctx = seg_ctx_new(seg);
	nlex = lex_load(argv[3]);
	nlex += lex_load(argv[4]);
	titles_load(argv[1], &all);
	if (all.n == 0 || nlex == 0) {
		fprintf(stderr, "bench_segment: no titles in %s or no lexicon "
		    "in %s\n", argv[1], argv[3]);
		return 1;
	}
	for (mi = 0; mi < sizeof methods / sizeof methods[0]; mi++) {
		const struct method *m = &methods[mi];

		for (pass = 0; pass < 5; pass++) {
			t0 = now_s();
			for (i = 0, nterms = 0; i < all.n; i++)
				nterms += segment_one(m, all.v[i], out,
				    sizeof out);
			times[pass] = now_s() - t0;
		}
		qsort(times, 5, sizeof times[0], cmp_double);
		whole = expected = 0;
		if ((fp = fopen(argv[2], "r")) == NULL) {
			fprintf(stderr, "bench_segment: %s: cannot open\n",
			    argv[2]);
			return 1;
		}
		while (fgets(line, sizeof line, fp) != NULL) {
			if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL)
				continue;
			*tab++ = '\0';
			tab[strcspn(tab, "\r\n")] = '\0';
			segment_one(m, line, out, sizeof out);
			for (tok = strtok_r(tab, "|", &save); tok != NULL;
			    tok = strtok_r(NULL, "|", &save)) {
				snprintf(want, sizeof want, "|%s|", tok);
				expected++;
				if (strstr(out, want) != NULL)
					whole++;
				else if (getenv("BENCH_SEGMENT_MISSES") != NULL)
					fprintf(stderr, "%s: %s not whole in %s\n",
					    m->name, tok, out);
			}
		}
		fclose(fp);
		printf("bench-segment method=%s titles=%zu titles_per_s=%.0f "
		    "terms_per_title=%.2f whole=%zu/%zu whole_pct=%.1f\n",
		    m->name, all.n, (double)all.n / times[2],
		    (double)nterms / (double)all.n, whole, expected,
		    100.0 * (double)whole / (double)expected);
	}
	seg_ctx_free(sctx);
	seg_free(seg);
	norm_free(norm);
	norm_buf_free(&nb);
	for (i = 0; i < all.n; i++)
		free(all.v[i]);
	free(all.v);
	free(lex.v);
	return 0;
}
