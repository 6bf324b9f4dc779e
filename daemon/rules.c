/*
 * rules.c — rule files (YAML) → an immutable, refcounted rule set.
 *
 * DESIGN: rules_load() lists every file first (a directory gives its *.yaml
 * and *.yml files, sorted by name), then reads them, two at a time on two
 * threads when there are several, and has rules_yaml.c check and load each
 * as a libyaml document.  Two passes over the documents follow: the first
 * collects the `lists` of every file (rules_match.c), so that a file may use
 * a list defined in another; the second builds the topics (rules_topic.c,
 * with rules_match.c and rules_alert.c), for a large set on two threads,
 * each with the files of about half of the nodes, joined in file order.  Then the checks across files:
 * topic ids used twice, and `inhibit`, resolved to topic indexes and
 * ordered so that each topic comes after those that inhibit it.  Every
 * problem is recorded in the loader with its file and position; at the end
 * the errors are sorted by file and position and appended to the caller's
 * diag, and any error throws the whole set away.  What a set holds per
 * topic and per keyword lives in one arena freed with it (a million
 * keywords are a million small strings).  Loading touches no global
 * state: a reader thread works on a copy of the loader and writes only the
 * documents of the files it took, and it is joined before the passes (the
 * second thread of pass 2 likewise builds into a loader of its own); a
 * loaded set is read-only, shared by a plain reference count from one
 * thread.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "diag.h"
#include "rules.h"
#include "rules_int.h"
#include "xmalloc.h"

static const char *const top_keys[] = { "lists", "topics" };
enum { TOP_LISTS, TOP_TOPICS, TOP__N };
static const char *const top_help[TOP__N] = {
	[TOP_LISTS] = "named keyword lists, name: [keywords], used in any "
	    "rule file as $name",
	[TOP_TOPICS] = "the topics: each an id, a match expression and "
	    "optional alert blocks",
};
const struct rkeys rules_file_keys = { top_keys, top_help, TOP__N };

/* ---- files ------------------------------------------------------------ */

static size_t
file_new(struct loader *ld, const char *path)
{
	struct lfile *f;

	ld->files = xgrow(ld->files, &ld->capfiles, ld->nfiles + 1,
	    sizeof *ld->files);
	f = &ld->files[ld->nfiles];
	memset(f, 0, sizeof *f);
	f->path = xstrdup(path);
	return ld->nfiles++;
}

/* Reads and loads file ld->cur (its path as given), or reports why not. */
static void
read_file(struct loader *ld)
{
	const char *path = ld->files[ld->cur].path;
	struct stat sb;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ryaml_error_at(ld, ld->cur, 0, 0, "cannot read: %s",
		    strerror(errno));
		goto fail;
	}
	if (fstat(fd, &sb) == -1) {
		ryaml_error_at(ld, ld->cur, 0, 0, "cannot read: %s",
		    strerror(errno));
		close(fd);
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		ryaml_error_at(ld, ld->cur, 0, 0, "cannot read: %s",
		    strerror(EISDIR));
		close(fd);
		goto fail;
	}
	if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > ld->max_file) {
		ryaml_file_too_large(ld);
		close(fd);
		goto fail;
	}
	cap = S_ISREG(sb.st_mode) ? (size_t)sb.st_size + 1 : 65536;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > ld->max_file)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ryaml_error_at(ld, ld->cur, 0, 0, "cannot read: %s",
			    strerror(errno));
			close(fd);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (ryaml_load_buffer(ld, buf, len) == -1)
		goto fail;
	free(buf);
	return;

fail:
	free(buf);
	ld->broken = true;
}

/* Entry ld->cur: a file read and loaded, or a directory's error. */
static void
load_entry(struct loader *ld)
{
	const struct lfile *f = &ld->files[ld->cur];

	if (f->direrr == 0) {
		read_file(ld);
		return;
	}
	if (f->direrr > 0)
		ryaml_error_at(ld, ld->cur, 0, 0, "cannot read: %s",
		    strerror(f->direrr));
	else
		ryaml_error_at(ld, ld->cur, 0, 0, "no rule files (*.yaml, "
		    "*.yml) in this directory");
	ld->broken = true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* The directory's rule files, in order of name, as entries to load. */
static void
list_dir(struct loader *ld, const char *path)
{
	struct dirent *de;
	struct stat sb;
	char **names = NULL, *full;
	size_t n = 0, cap = 0, i, plen = strlen(path);
	DIR *d;

	if ((d = opendir(path)) == NULL) {
		int e = errno > 0 ? errno : EIO;

		i = file_new(ld, path);
		ld->files[i].direrr = e;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!has_suffix(de->d_name, ".yaml") &&
		    !has_suffix(de->d_name, ".yml"))
			continue;
		names = xgrow(names, &cap, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		if (plen > 0 && path[plen - 1] == '/')
			full = xasprintf("%s%s", path, names[i]);
		else
			full = xasprintf("%s/%s", path, names[i]);
		if (stat(full, &sb) != 0 || !S_ISDIR(sb.st_mode))
			(void)file_new(ld, full);
		free(full);
	}
	if (n == 0) {
		i = file_new(ld, path);
		ld->files[i].direrr = -1;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
list_path(struct loader *ld, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		list_dir(ld, path);
	else
		(void)file_new(ld, path);
}

/*
 * Reading the files.  libyaml reads about 40 MB/s, so a large set's files
 * are read by READERS threads at once, each taking the next file not yet
 * taken.  A reader works on a copy of the loader that shares its files
 * (each reader writes only the documents of the files it took) and keeps
 * its own errors; they join the loader's afterwards in the order of the
 * files, as if one thread had read them in turn.
 */
#define READERS	2

struct reader {
	struct loader	 ld;		/* a copy: own errors, shared files */
	atomic_size_t	*next;		/* the next file to take */
	pthread_t	 thread;
};

static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	size_t i;

	while ((i = atomic_fetch_add(r->next, 1)) < r->ld.nfiles) {
		r->ld.cur = i;
		load_entry(&r->ld);
	}
	return NULL;
}

static int
cmp_lerr_file(const void *a, const void *b)
{
	const struct lerr *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The readers' errors into ld, in the order of the files (each reader
 * read its files in that order), capped as ryaml_error_at() caps them. */
static void
adopt_reader_errors(struct loader *ld, struct reader *r, size_t nr)
{
	struct lerr *all = NULL;
	size_t n = 0, cap = 0, i, capfile = SIZE_MAX;

	for (i = 0; i < nr; i++) {
		all = xgrow(all, &cap, n + r[i].ld.nerrs + 1, sizeof *all);
		if (r[i].ld.nerrs > 0)
			memcpy(all + n, r[i].ld.errs, r[i].ld.nerrs *
			    sizeof *all);
		n += r[i].ld.nerrs;
		free(r[i].ld.errs);
		if (r[i].ld.capped && r[i].ld.capfile < capfile)
			capfile = r[i].ld.capfile;
		if (r[i].ld.broken)
			ld->broken = true;
	}
	if (n > 0)
		qsort(all, n, sizeof *all, cmp_lerr_file);
	for (i = 0; i < n; i++) {
		if (!ld->capped && ld->nerrs == RULES_MAX_ERRORS) {
			ld->capped = true;
			ld->capfile = all[i].file;
		}
		if (ld->capped) {
			free(all[i].msg);
			continue;
		}
		ld->errs = xgrow(ld->errs, &ld->caperrs, ld->nerrs + 1,
		    sizeof *ld->errs);
		ld->errs[ld->nerrs] = all[i];
		ld->errs[ld->nerrs].seq = ld->nerrs;
		ld->nerrs++;
	}
	if (!ld->capped && capfile != SIZE_MAX) {
		ld->capped = true;
		ld->capfile = capfile;
	}
	free(all);
}

/*
 * One array for the nodes of every file of a large set (each file gets
 * room for what its size usually holds, as ryaml_load_buffer() would give
 * it): freed at once with the documents, it leaves one large block of
 * pages already in use, which the compile's arrays (a million-state
 * automaton and its scratch) reuse instead of faulting in new ones.
 */
#define SLAB_MIN_NODES	65536
#define SLAB_MAX_NODES	(4 * 1024 * 1024)	/* 384 MiB of room */

static void
make_slab(struct loader *ld)
{
	struct stat sb;
	size_t i, total = 0, at = 0;

	for (i = 0; i < ld->nfiles; i++) {
		ld->files[i].slicecap = 0;
		if (ld->files[i].direrr == 0 &&
		    stat(ld->files[i].path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    (uint64_t)sb.st_size <= ld->max_file)
			ld->files[i].slicecap = ryaml_nodes_for(
			    (size_t)sb.st_size);
		total += ld->files[i].slicecap;
	}
	if (total < SLAB_MIN_NODES || total > SLAB_MAX_NODES ||
	    (ld->slab = malloc(total * sizeof *ld->slab)) == NULL)
		return;		/* each file gets an array of its own */
	for (i = 0; i < ld->nfiles; i++) {
		if (ld->files[i].slicecap > 0)
			ld->files[i].slice = ld->slab + at;
		at += ld->files[i].slicecap;
	}
}

/* Loads every entry listed, on up to READERS threads. */
static void
load_entries(struct loader *ld)
{
	struct reader r[READERS];
	atomic_size_t next;
	size_t nr = 0, i;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	make_slab(ld);

	if (ld->nfiles < 2 || ncpu < 2) {
		for (i = 0; i < ld->nfiles; i++) {
			ld->cur = i;
			load_entry(ld);
		}
		return;
	}
	atomic_init(&next, 0);
	for (nr = 0; nr < READERS && nr < ld->nfiles &&
	    (long)nr < ncpu; nr++) {
		r[nr].ld = *ld;
		r[nr].ld.errs = NULL;
		r[nr].ld.nerrs = r[nr].ld.caperrs = 0;
		r[nr].ld.capped = r[nr].ld.broken = false;
		r[nr].next = &next;
		if (nr > 0 && pthread_create(&r[nr].thread, NULL, reader_run,
		    &r[nr]) != 0)
			break;
	}
	reader_run(&r[0]);
	for (i = 1; i < nr; i++)
		pthread_join(r[i].thread, NULL);
	adopt_reader_errors(ld, r, nr);
	ld->cur = ld->nfiles - 1;
}

/* ---- the string arena ------------------------------------------------- */

/*
 * What a large set holds per topic and per keyword is small and numerous:
 * a million keyword strings and 100,000 topics' keyword arrays, alert
 * blocks and ids.  They go into chunks of ARENA_CHUNK bytes (a larger
 * piece gets a chunk of its own), so each costs its bytes, not an
 * allocation; nothing in the arena is freed before the set, which frees
 * it chunk by chunk.
 */
#define ARENA_CHUNK	(256 * 1024)

struct rules_strings {
	struct rules_strings	*next;
	size_t			 used, size;
	max_align_t		 data[];
};

/* n bytes aligned to align (a power of two) in rs's arena. */
static void *
arena_take(struct ruleset *rs, size_t n, size_t align)
{
	struct rules_strings *c = rs->strings;
	size_t size, at = 0;

	if (c != NULL)
		at = (c->used + align - 1) & ~(align - 1);
	if (c == NULL || at > c->size || c->size - at < n) {
		size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof *c + size);
		c->used = 0;
		c->size = size;
		at = 0;
		if (rs->strings != NULL && n > ARENA_CHUNK) {
			/* a large one: keep filling the current chunk */
			c->next = rs->strings->next;
			rs->strings->next = c;
		} else {
			c->next = rs->strings;
			rs->strings = c;
		}
	}
	c->used = at + n;
	return (char *)c->data + at;
}

void *
rules_alloc(struct ruleset *rs, size_t n)
{
	return arena_take(rs, n > 0 ? n : 1, sizeof(void *) > 8 ?
	    sizeof(void *) : 8);
}

char *
rules_strndup(struct ruleset *rs, const char *s, size_t n)
{
	char *p = arena_take(rs, n + 1, 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
arena_free(struct rules_strings *c)
{
	struct rules_strings *next;

	for (; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
}

/* ---- the whole set ---------------------------------------------------- */

static void
ruleset_free(struct ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->ntopics; i++)
		rtopic_free(&rs->topics[i]);	/* reads the arena */
	arena_free(rs->strings);
	free(rs->topics);
	free(rs->order);
	for (i = 0; i < rs->nfiles; i++)
		free(rs->files[i]);
	free(rs->files);
	free(rs);
}

static void
loader_free(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nfiles; i++) {
		if (ld->files[i].loaded)
			ryaml_document_free(&ld->files[i]);
		free(ld->files[i].path);
	}
	free(ld->files);
	free(ld->slab);
	for (i = 0; i < ld->nerrs; i++)
		free(ld->errs[i].msg);
	free(ld->errs);
	rmatch_free_lists(ld);
	free(ld->idmarks);
	free(ld->inhmarks);
	ruleset_free(ld->rs);
}

/* ---- errors ----------------------------------------------------------- */

static int
cmp_lerr(const void *a, const void *b)
{
	const struct lerr *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* Appends the errors to errs, sorted by file and position. */
static void
append_errors(struct loader *ld, struct diag *errs)
{
	size_t i;

	if (ld->nerrs > 0)
		qsort(ld->errs, ld->nerrs, sizeof *ld->errs, cmp_lerr);
	for (i = 0; i < ld->nerrs; i++)
		diag_addf(errs, "%s", ld->errs[i].msg);
}

/* ---- checks across topics --------------------------------------------- */

struct idref {
	const char	*id;
	size_t		 i;
};

static int
cmp_idref(const void *a, const void *b)
{
	const struct idref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Reports topic ids used twice, at the later use. */
static void
check_ids(struct loader *ld)
{
	struct ruleset *rs = ld->rs;
	struct idmark *m, *f;
	struct idref *v;
	size_t n = 0, i, first = 0;

	v = xcalloc(rs->ntopics, sizeof *v);
	for (i = 0; i < rs->ntopics; i++) {
		if (rs->topics[i].id != NULL) {
			v[n].id = rs->topics[i].id;
			v[n++].i = i;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_idref);
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i].id, v[first].id) != 0) {
			first = i;
			continue;
		}
		m = &ld->idmarks[v[i].i];
		f = &ld->idmarks[v[first].i];
		ryaml_error_at(ld, m->file, m->line, m->col, "duplicate topic "
		    "id '%s' (first defined at %s:%d:%d)", v[i].id,
		    ld->files[f->file].path, f->line, f->col);
	}
	free(v);
}

/* The topic named id, or -1: v holds the n ids sorted. */
static ssize_t
find_topic(const struct idref *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, v[mid].id)) == 0)
			return (ssize_t)v[mid].i;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* Resolves the topics named in `inhibit` and orders the topics so that
 * each comes after those that inhibit it; reports unknown names, a topic
 * inhibiting itself, and cycles. */
static void
check_inhibit(struct loader *ld)
{
	struct ruleset *rs = ld->rs;
	struct idref *v;
	const char **names;
	const char *sug;
	char s1[SHOWSZ];
	bool *placed, progress;
	size_t n = 0, i, k, no = 0;
	ssize_t j;

	rs->order = xcalloc(rs->ntopics + 1, sizeof *rs->order);
	v = xcalloc(rs->ntopics + 1, sizeof *v);
	names = xcalloc(rs->ntopics + 1, sizeof *names);
	for (i = 0; i < rs->ntopics; i++) {
		if (rs->topics[i].ninhibit > 0)
			rs->topics[i].inhibit_idx = xcalloc(
			    rs->topics[i].ninhibit, sizeof (size_t));
		if (rs->topics[i].id != NULL) {
			v[n].id = rs->topics[i].id;
			names[n] = rs->topics[i].id;
			v[n++].i = i;
		}
	}
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_idref);
	for (k = 0; k < ld->ninhmarks; k++) {
		const struct inhmark *m = &ld->inhmarks[k];
		struct rule_topic *t = &rs->topics[m->topic];
		const char *id = t->inhibit[m->k];

		if ((j = find_topic(v, n, id)) == -1) {
			if ((sug = rules_suggest(id, names, n)) != NULL)
				ryaml_error_at(ld, m->file, m->line, m->col,
				    "inhibit: no topic '%s' in the rule set "
				    "(did you mean '%s'?)", ryaml_show(id, s1),
				    sug);
			else
				ryaml_error_at(ld, m->file, m->line, m->col,
				    "inhibit: no topic '%s' in the rule set",
				    ryaml_show(id, s1));
			j = (ssize_t)m->topic;	/* harmless below */
		} else if ((size_t)j == m->topic)
			ryaml_error_at(ld, m->file, m->line, m->col, "inhibit: "
			    "topic '%s' cannot inhibit itself", id);
		t->inhibit_idx[m->k] = (size_t)j;
	}

	/* parents first; what is left over sits on a cycle */
	placed = xcalloc(rs->ntopics + 1, sizeof *placed);
	do {
		progress = false;
		for (i = 0; i < rs->ntopics; i++) {
			const struct rule_topic *t = &rs->topics[i];

			if (placed[i])
				continue;
			for (k = 0; k < t->ninhibit; k++)
				if (t->inhibit_idx[k] != i &&
				    !placed[t->inhibit_idx[k]])
					break;
			if (k < t->ninhibit)
				continue;
			placed[i] = true;
			rs->order[no++] = i;
			progress = true;
		}
	} while (progress && no < rs->ntopics);
	for (k = 0; k < ld->ninhmarks && no < rs->ntopics; k++) {
		const struct inhmark *m = &ld->inhmarks[k];
		const struct rule_topic *t = &rs->topics[m->topic];

		if (placed[m->topic] || placed[t->inhibit_idx[m->k]])
			continue;
		ryaml_error_at(ld, m->file, m->line, m->col, "inhibit: topics "
		    "'%s' and '%s' inhibit each other (a cycle)", t->id != NULL
		    ? t->id : "?", rs->topics[t->inhibit_idx[m->k]].id != NULL ?
		    rs->topics[t->inhibit_idx[m->k]].id : "?");
		break;
	}
	free(placed);
	free(names);
	free(v);
}

/* ---- building and the public entry points ----------------------------- */

/* Pass 2 over files [first, end): their topics, appended to ld->rs. */
static void
build_topics(struct loader *ld, size_t first, size_t end)
{
	struct lfile *f;
	yaml_node_t *item;
	struct items it;
	size_t i, j;

	for (i = first; i < end && !ryaml_stopped(ld); i++) {
		f = &ld->files[i];
		ld->cur = i;
		if (f->topics == NULL)
			continue;
		if (ryaml_items(ld, f->topics, "topics", "a list of topics",
		    false, &it) == -1)
			continue;
		for (j = 0; j < it.n && !ryaml_stopped(ld); j++) {
			if ((item = ryaml_node(ld, it.v[j])) != NULL)
				rtopic_parse(ld, item);
		}
	}
}

/*
 * Pass 2 on two threads.  The lists are known and only read now, so the
 * files' topics can be built apart: the first files (about half of the
 * YAML nodes) here, the others by a second thread into a loader of its
 * own (its own set, arena, marks and errors, the budgets counted on from
 * pass 1).  Joined in file order, the result is what one thread would
 * have built, unless a budget or the error cap was reached (each half
 * sees only its own count): then both halves are thrown away and
 * build_topics() runs on one thread again.
 */
#define SPLIT_MIN_NODES	200000	/* YAML nodes worth a second thread */

struct builder {
	struct loader	 ld;		/* a copy: see builder_init() */
	size_t		 items0;	/* ld.items and ld.regexes at the */
	size_t		 regexes0;	/* start */
	size_t		 first, end;	/* its files */
	pthread_t	 thread;
};

static void
builder_init(struct builder *w, const struct loader *ld, size_t first,
    size_t end)
{
	w->ld = *ld;
	w->ld.rs = xcalloc(1, sizeof *w->ld.rs);
	w->ld.captopics = 0;
	w->ld.idmarks = NULL;
	w->ld.capidmarks = 0;
	w->ld.inhmarks = NULL;
	w->ld.ninhmarks = w->ld.capinhmarks = 0;
	w->ld.errs = NULL;
	w->ld.nerrs = w->ld.caperrs = 0;
	w->items0 = ld->items;
	w->regexes0 = ld->regexes;
	w->first = first;
	w->end = end;
}

static void *
builder_run(void *arg)
{
	struct builder *w = arg;

	build_topics(&w->ld, w->first, w->end);
	return NULL;
}

/* What a builder holds, given up. */
static void
builder_discard(struct builder *w)
{
	size_t i;

	ruleset_free(w->ld.rs);
	free(w->ld.idmarks);
	free(w->ld.inhmarks);
	for (i = 0; i < w->ld.nerrs; i++)
		free(w->ld.errs[i].msg);
	free(w->ld.errs);
}

/* Whether one thread would have reached no budget and no error cap. */
static bool
builders_within_limits(const struct loader *ld, const struct builder *w,
    size_t n)
{
	size_t items = ld->items, regexes = ld->regexes, nerrs = ld->nerrs, i;

	for (i = 0; i < n; i++) {
		if (w[i].ld.toobig || w[i].ld.capped)
			return false;
		items += w[i].ld.items - ld->items;
		regexes += w[i].ld.regexes - ld->regexes;
		nerrs += w[i].ld.nerrs;
	}
	return items <= ld->max_items && regexes <= RULES_MAX_REGEX &&
	    nerrs <= RULES_MAX_ERRORS;
}

/* Appends builder w's topics, marks and errors to ld (and frees w's). */
static void
builder_join(struct loader *ld, struct builder *w)
{
	struct ruleset *rs = ld->rs, *ws = w->ld.rs;
	struct rules_strings **tail;
	size_t base = rs->ntopics, i;

	rs->topics = xgrow(rs->topics, &ld->captopics, base + ws->ntopics,
	    sizeof *rs->topics);
	ld->idmarks = xgrow(ld->idmarks, &ld->capidmarks, base + ws->ntopics,
	    sizeof *ld->idmarks);
	if (ws->ntopics > 0) {
		memcpy(rs->topics + base, ws->topics, ws->ntopics *
		    sizeof *rs->topics);
		memcpy(ld->idmarks + base, w->ld.idmarks, ws->ntopics *
		    sizeof *ld->idmarks);
	}
	rs->ntopics += ws->ntopics;
	for (i = 0; i < w->ld.ninhmarks; i++) {
		ld->inhmarks = xgrow(ld->inhmarks, &ld->capinhmarks,
		    ld->ninhmarks + 1, sizeof *ld->inhmarks);
		ld->inhmarks[ld->ninhmarks] = w->ld.inhmarks[i];
		ld->inhmarks[ld->ninhmarks++].topic += base;
	}
	for (i = 0; i < w->ld.nerrs; i++) {
		ld->errs = xgrow(ld->errs, &ld->caperrs, ld->nerrs + 1,
		    sizeof *ld->errs);
		ld->errs[ld->nerrs] = w->ld.errs[i];
		ld->errs[ld->nerrs].seq = ld->nerrs;
		ld->nerrs++;
	}
	for (tail = &rs->strings; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = ws->strings;
	ld->items += w->ld.items - w->items0;
	ld->regexes += w->ld.regexes - w->regexes0;
	free(ws->topics);
	free(ws);
	free(w->ld.idmarks);
	free(w->ld.inhmarks);
	free(w->ld.errs);
}

/*
 * Pass 2 split between this thread and a second one (see above).  Returns
 * 0 when done, -1 when it did nothing: the set is small, there is one
 * processor, or the halves went past a limit.
 */
static int
build_topics_split(struct loader *ld)
{
	struct builder w[2];
	size_t total = 0, half = 0, i, k, nodes;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	for (i = 0; i < ld->nfiles; i++)
		if (ld->files[i].topics != NULL)
			total += (size_t)(ld->files[i].doc.nodes.top -
			    ld->files[i].doc.nodes.start);
	if (total < SPLIT_MIN_NODES || ncpu < 2)
		return -1;
	for (k = 0; k < ld->nfiles && half < total / 2; k++) {
		nodes = ld->files[k].topics == NULL ? 0 : (size_t)(
		    ld->files[k].doc.nodes.top - ld->files[k].doc.nodes.start);
		if (half > 0 && half + nodes / 2 > total / 2)
			break;	/* nearer the middle without this file */
		half += nodes;
	}
	if (k == 0 || k == ld->nfiles)
		return -1;
	builder_init(&w[0], ld, 0, k);
	builder_init(&w[1], ld, k, ld->nfiles);
	if (pthread_create(&w[1].thread, NULL, builder_run, &w[1]) != 0) {
		builder_discard(&w[0]);
		builder_discard(&w[1]);
		return -1;
	}
	builder_run(&w[0]);
	pthread_join(w[1].thread, NULL);
	if (!builders_within_limits(ld, w, 2)) {
		builder_discard(&w[0]);
		builder_discard(&w[1]);
		return -1;
	}
	builder_join(ld, &w[0]);
	builder_join(ld, &w[1]);
	return 0;
}

/* Both passes over the loaded files, then the checks across them. */
static void
build_ruleset(struct loader *ld)
{
	struct lfile *f;
	yaml_node_t *root, *key[TOP__N], *val[TOP__N];
	struct ruleset *rs = ld->rs;
	char g[SHOWSZ];
	size_t i;

	for (i = 0; i < ld->nfiles && !ryaml_stopped(ld); i++) {
		f = &ld->files[i];
		ld->cur = i;
		if (!f->loaded ||
		    (root = yaml_document_get_root_node(&f->doc)) == NULL ||
		    ryaml_is_null(root))
			continue;
		if (root->type != YAML_MAPPING_NODE) {
			ryaml_error(ld, root, "expected a mapping with 'lists' "
			    "and 'topics' at the top of the file, got %s",
			    ryaml_got(root, g));
			continue;
		}
		ryaml_keys(ld, root, top_keys, TOP__N, "rule file", key, val);
		f->topics = val[TOP_TOPICS];
		if (val[TOP_LISTS] != NULL)
			rmatch_parse_lists(ld, val[TOP_LISTS]);
	}
	rmatch_index_lists(ld);

	if (ryaml_stopped(ld) || build_topics_split(ld) == -1)
		build_topics(ld, 0, ld->nfiles);
	check_ids(ld);
	check_inhibit(ld);
	if (rs->ntopics > 0 && rs->ntopics < ld->captopics) {
		/* a new array of the size: realloc() may keep the block */
		struct rule_topic *v = xmalloc(rs->ntopics * sizeof *v);

		memcpy(v, rs->topics, rs->ntopics * sizeof *v);
		free(rs->topics);
		rs->topics = v;
		ld->captopics = rs->ntopics;
	}

	for (i = 0; i < rs->ntopics; i++) {
		rs->nkeywords += rs->topics[i].nkws;
		rs->ntests += rs->topics[i].ntests;
	}
}

static void
loader_init(struct loader *ld, const struct rules_opts *opts)
{
	memset(ld, 0, sizeof *ld);
	ld->res = RULES_DEFAULT_RES;
	if (opts != NULL && opts->resolution_s > 0)
		ld->res = opts->resolution_s;
	ld->max_items = opts != NULL && opts->max_items > 0 ?
	    opts->max_items : RULES_DEFAULT_MAX_ITEMS;
	ld->max_file = opts != NULL && opts->max_file_bytes > 0 ?
	    opts->max_file_bytes : RULES_DEFAULT_MAX_FILE;
	ld->rs = xcalloc(1, sizeof *ld->rs);
}

/* Builds the set, hands it out or reports, and frees the loader. */
static int
finish_load(struct loader *ld, struct ruleset **out, struct diag *errs)
{
	struct ruleset *rs;
	size_t i;

	/* also when some files failed: report every error */
	build_ruleset(ld);
	if (ld->nerrs > 0 || ld->capped) {
		append_errors(ld, errs);
		if (ld->capped)
			diag_add(errs, ld->files[ld->capfile].path, 0, 0,
			    "too many errors, stopped after %d",
			    RULES_MAX_ERRORS);
		loader_free(ld);
		return -1;
	}

	/* The set keeps the file names its topics point to. */
	rs = ld->rs;
	ld->rs = NULL;
	rs->files = xcalloc(ld->nfiles, sizeof *rs->files);
	for (i = 0; i < ld->nfiles; i++) {
		rs->files[rs->nfiles++] = ld->files[i].path;
		ld->files[i].path = NULL;
	}
	rs->refcnt = 1;
	loader_free(ld);
	*out = rs;
	return 0;
}

int
rules_load_opts(const char *const *paths, size_t npaths,
    const struct rules_opts *opts, struct ruleset **out, struct diag *errs)
{
	struct loader ld;
	size_t i;

	*out = NULL;
	if (npaths == 0) {
		diag_addf(errs, "no rule files given");
		return -1;
	}
	loader_init(&ld, opts);
	for (i = 0; i < npaths; i++)
		list_path(&ld, paths[i]);
	load_entries(&ld);
	return finish_load(&ld, out, errs);
}

int
rules_load(const char *const *paths, size_t npaths, struct ruleset **out,
    struct diag *errs)
{
	return rules_load_opts(paths, npaths, NULL, out, errs);
}

int
rules_load_string_opts(const char *name, const char *yaml, size_t len,
    const struct rules_opts *opts, struct ruleset **out, struct diag *errs)
{
	struct loader ld;

	*out = NULL;
	loader_init(&ld, opts);
	ld.cur = file_new(&ld, name);
	if (ryaml_load_buffer(&ld, yaml, len) == -1)
		ld.broken = true;
	return finish_load(&ld, out, errs);
}

int
rules_load_string(const char *name, const char *yaml, size_t len,
    struct ruleset **out, struct diag *errs)
{
	return rules_load_string_opts(name, yaml, len, NULL, out, errs);
}

int
rules_parse_alert(const char *name, const char *yaml, size_t len,
    const struct rules_opts *opts, struct rule_alert *out, struct diag *errs)
{
	struct loader ld;
	struct rule_topic t;
	yaml_node_t *root;
	size_t cap = 0;
	int rc = 0;

	loader_init(&ld, opts);
	ld.cur = file_new(&ld, name);
	memset(&t, 0, sizeof t);
	if (ryaml_load_buffer(&ld, yaml, len) == 0) {
		root = yaml_document_get_root_node(&ld.files[0].doc);
		if (root == NULL || ryaml_is_null(root))
			ryaml_error_at(&ld, 0, 1, 1, "alert: expected a "
			    "mapping with a window and a condition, got "
			    "nothing");
		else
			ralert_parse(&ld, &t, &cap, root);
	}
	if (ld.nerrs > 0 || ld.capped || t.nalerts != 1) {
		append_errors(&ld, errs);
		if (ld.nerrs == 0)
			diag_add(errs, name, 0, 0, "not a valid alert block");
		rc = -1;
	} else
		*out = t.alerts[0];
	free(t.alerts);
	loader_free(&ld);
	return rc;
}

struct ruleset *
rules_ref(struct ruleset *rs)
{
	if (rs != NULL)
		rs->refcnt++;
	return rs;
}

void
rules_unref(struct ruleset *rs)
{
	if (rs == NULL || --rs->refcnt > 0)
		return;
	ruleset_free(rs);
}
