/*
 * alertcmp.c — compares two files of alerts field by field.
 *
 *   alertcmp [-x FIELD]... NAME=FILE NAME=FILE
 *
 * Each FILE holds one JSON object per line, as the daemon publishes them
 * (alerts, and group_wait digests with their alerts inside) and as
 * `tidewatch backtest --json` prints them; other lines, and the backtest's
 * {"summary":…} line, are ignored.  The objects are paired by their "id";
 * every pair is compared recursively, member by member and element by
 * element, leaving out the members named by -x at any depth (fields that
 * differ by nature, such as the wall time of detection).
 *
 * Prints one line per difference — an id found in one file only, an id
 * found twice in one file, or "ID: PATH: NAME=VALUE NAME=VALUE" for a
 * member that differs — then "alertcmp: N alerts in both, N equal, N only
 * in NAME, N only in NAME".  Exits 0 when both files hold the same alerts,
 * 1 when they differ, 2 on a usage or input error.  Single-threaded; the
 * files are read whole with cJSON (the test suite's tool, not the
 * daemon's).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#define MAX_EXCLUDE	32
#define MAX_SHOWN	100	/* difference lines printed at most */

struct side {
	const char	*name;
	const char	*path;
	cJSON		**obj;		/* alerts, in file order */
	const char	**id;
	size_t		 n, cap;
	int		*paired;	/* matched, or a duplicate: done */
};

static const char *exclude[MAX_EXCLUDE];
static size_t nexclude;
static size_t ndiff;

static int
is_excluded(const char *member)
{
	size_t i;

	for (i = 0; i < nexclude; i++)
		if (strcmp(exclude[i], member) == 0)
			return 1;
	return 0;
}

/* Counts one difference and prints its line (the first MAX_SHOWN). */
static void __attribute__((format(printf, 1, 2)))
report(const char *fmt, ...)
{
	va_list ap;

	if (++ndiff <= MAX_SHOWN) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	if (ndiff == MAX_SHOWN + 1)
		printf("(more differences not shown)\n");
}

static char *
text_of(const cJSON *v)
{
	return v != NULL ? cJSON_PrintUnformatted(v) : strdup("(absent)");
}

static void
report_values(const char *id, const char *path, const struct side *l,
    const cJSON *lv, const struct side *r, const cJSON *rv)
{
	char *a = text_of(lv), *b = text_of(rv);

	report("%s: %s: %s=%s %s=%s\n", id, path[0] ? path : "(whole)",
	    l->name, a, r->name, b);
	free(a);
	free(b);
}

/* Compares lv and rv (either may be NULL: absent) at PATH; returns the
 * number of differences found. */
static size_t
compare_values(const char *id, const char *path, const struct side *l,
    const cJSON *lv, const struct side *r, const cJSON *rv)
{
	char sub[1024];
	const cJSON *e;
	size_t n = 0;
	int i, nl, nr;

	if (lv == NULL || rv == NULL || (lv->type & 0xff) != (rv->type & 0xff)) {
		report_values(id, path, l, lv, r, rv);
		return 1;
	}
	if (cJSON_IsObject(lv)) {
		cJSON_ArrayForEach(e, lv) {
			if (is_excluded(e->string))
				continue;
			snprintf(sub, sizeof sub, "%s%s%s", path,
			    path[0] ? "." : "", e->string);
			n += compare_values(id, sub, l, e, r,
			    cJSON_GetObjectItemCaseSensitive(rv, e->string));
		}
		cJSON_ArrayForEach(e, rv) {
			if (is_excluded(e->string) ||
			    cJSON_GetObjectItemCaseSensitive(lv, e->string))
				continue;
			snprintf(sub, sizeof sub, "%s%s%s", path,
			    path[0] ? "." : "", e->string);
			n += compare_values(id, sub, l, NULL, r, e);
		}
		return n;
	}
	if (cJSON_IsArray(lv)) {
		nl = cJSON_GetArraySize(lv);
		nr = cJSON_GetArraySize(rv);
		for (i = 0; i < nl || i < nr; i++) {
			snprintf(sub, sizeof sub, "%s[%d]", path, i);
			n += compare_values(id, sub, l, cJSON_GetArrayItem(lv, i),
			    r, cJSON_GetArrayItem(rv, i));
		}
		return n;
	}
	if (!cJSON_Compare(lv, rv, 1)) {
		report_values(id, path, l, lv, r, rv);
		return 1;
	}
	return 0;
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			if ((buf = realloc(buf, cap + 1)) == NULL)
				abort();
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Loads the alerts of one NAME=FILE argument; -1 on an error. */
static int
load_side(struct side *s, const char *arg)
{
	char *eq = strchr(arg, '='), *buf, *line, *next;
	size_t lineno = 0;

	if (eq == NULL || eq == arg || eq[1] == '\0') {
		fprintf(stderr, "alertcmp: expected NAME=FILE, got '%s'\n", arg);
		return -1;
	}
	s->name = strndup(arg, (size_t)(eq - arg));
	s->path = eq + 1;
	if ((buf = read_all(s->path)) == NULL) {
		fprintf(stderr, "alertcmp: cannot read %s\n", s->path);
		return -1;
	}
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		cJSON *o;
		const cJSON *id;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] != '{')
			continue;
		if ((o = cJSON_Parse(line)) == NULL) {
			fprintf(stderr, "alertcmp: %s:%zu: not JSON\n", s->path,
			    lineno);
			free(buf);
			return -1;
		}
		if (cJSON_GetObjectItemCaseSensitive(o, "summary") != NULL) {
			cJSON_Delete(o);
			continue;
		}
		id = cJSON_GetObjectItemCaseSensitive(o, "id");
		if (!cJSON_IsString(id)) {
			fprintf(stderr, "alertcmp: %s:%zu: no \"id\"\n", s->path,
			    lineno);
			cJSON_Delete(o);
			free(buf);
			return -1;
		}
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->obj = realloc(s->obj, s->cap * sizeof *s->obj);
			s->id = realloc(s->id, s->cap * sizeof *s->id);
			if (s->obj == NULL || s->id == NULL)
				abort();
		}
		s->obj[s->n] = o;
		s->id[s->n++] = id->valuestring;
	}
	free(buf);
	if ((s->paired = calloc(s->n + 1, sizeof *s->paired)) == NULL)
		abort();
	return 0;
}

/* Reports every id found twice in s and marks the later ones done. */
static void
mark_duplicates(struct side *s)
{
	size_t i, j;

	for (i = 0; i < s->n; i++)
		for (j = i + 1; j < s->n; j++)
			if (!s->paired[j] && strcmp(s->id[i], s->id[j]) == 0) {
				report("%s: twice in %s\n", s->id[j], s->name);
				s->paired[j] = 1;
			}
}

/* Index of the first alert called id in s not done yet; -1: none. */
static long
find_id(const struct side *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!s->paired[i] && strcmp(s->id[i], id) == 0)
			return (long)i;
	return -1;
}

static void
side_free(struct side *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		cJSON_Delete(s->obj[i]);
	free(s->obj);
	free(s->id);
	free(s->paired);
	free((char *)s->name);
}

int
main(int argc, char **argv)
{
	struct side l = { 0 }, r = { 0 };
	size_t i, both = 0, equal = 0, only_l = 0, only_r = 0;
	int a = 1;

	for (; a + 1 < argc && strcmp(argv[a], "-x") == 0; a += 2) {
		if (nexclude == MAX_EXCLUDE) {
			fprintf(stderr, "alertcmp: too many -x\n");
			return 2;
		}
		exclude[nexclude++] = argv[a + 1];
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: alertcmp [-x FIELD]... NAME=FILE NAME=FILE\n");
		return 2;
	}
	if (load_side(&l, argv[a]) == -1 || load_side(&r, argv[a + 1]) == -1)
		return 2;
	mark_duplicates(&l);
	mark_duplicates(&r);
	for (i = 0; i < l.n; i++) {
		long j;

		if (l.paired[i])
			continue;
		l.paired[i] = 1;
		if ((j = find_id(&r, l.id[i])) < 0) {
			report("%s: only in %s\n", l.id[i], l.name);
			only_l++;
			continue;
		}
		r.paired[j] = 1;
		both++;
		if (compare_values(l.id[i], "", &l, l.obj[i], &r, r.obj[j]) == 0)
			equal++;
	}
	for (i = 0; i < r.n; i++)
		if (!r.paired[i]) {
			report("%s: only in %s\n", r.id[i], r.name);
			only_r++;
		}
	printf("alertcmp: %zu alerts in both, %zu equal, %zu only in %s, "
	    "%zu only in %s\n", both, equal, only_l, l.name, only_r, r.name);
	side_free(&l);
	side_free(&r);
	return ndiff == 0 ? 0 : 1;
}
