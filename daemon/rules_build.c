/*
 * rules_build.c — loading, compiling and testing a rule set, here or on a
 * thread of its own.
 *
 * DESIGN.  rules_build() is the one sequence that makes a rule set ready:
 * rules_load_opts() (rules.c), match_compile() (matcher_build.c), then
 * ruletest_run(); any error throws the whole set away.  At a million
 * keywords it takes seconds, so a reload calls rules_build_start(): a
 * struct rules_job copies the paths and the options, a thread runs the
 * build into the job, and sets `done` (an atomic) as its last act.  The
 * daemon's main loop polls rules_build_done() on its tick and calls
 * rules_build_finish(), which joins the thread and hands the matcher over.
 * The job belongs to the thread that started it; the build thread touches
 * nothing but the job, the files and the immutable normaliser (for a large
 * set, rules_load() and match_compile() each take a second thread of
 * their own for part of their work, joined before they return).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "rules_build.h"
#include "ruletest.h"
#include "xmalloc.h"

struct rules_job {
	char			**paths;
	struct rules_build_opts	  o;
	pthread_t		  thread;
	bool			  threaded;
	struct matcher		 *m;
	struct diag		  errs;
	atomic_bool		  done;
};

struct matcher *
rules_build(const struct rules_build_opts *o, struct diag *errs)
{
	struct ruleset *rs;
	struct matcher *m;
	char err[512];
	size_t passed;

	if (rules_load_opts(o->paths, o->npaths, &o->ro, &rs, errs) == -1)
		return NULL;
	m = match_compile(rs, o->norm, NULL, err, sizeof err);
	rules_unref(rs);
	if (m == NULL) {
		diag_addf(errs, "matcher: %s", err);
		return NULL;
	}
	if (ruletest_run(m, &passed, errs) > 0) {
		match_free(m);
		return NULL;
	}
	return m;
}

static void *
build_thread(void *arg)
{
	struct rules_job *j = arg;

	j->m = rules_build(&j->o, &j->errs);
	atomic_store_explicit(&j->done, true, memory_order_release);
	return NULL;
}

struct rules_job *
rules_build_start(const struct rules_build_opts *o)
{
	struct rules_job *j = xcalloc(1, sizeof *j);
	size_t i;

	j->o = *o;
	j->paths = xcalloc(o->npaths ? o->npaths : 1, sizeof *j->paths);
	for (i = 0; i < o->npaths; i++)
		j->paths[i] = xstrdup(o->paths[i]);
	j->o.paths = (const char *const *)j->paths;
	diag_init(&j->errs);
	atomic_init(&j->done, false);
	if (pthread_create(&j->thread, NULL, build_thread, j) == 0)
		j->threaded = true;
	else
		build_thread(j);
	return j;
}

bool
rules_build_done(const struct rules_job *j)
{
	return atomic_load_explicit(&j->done, memory_order_acquire);
}

struct matcher *
rules_build_finish(struct rules_job *j, struct diag *errs)
{
	struct matcher *m;
	size_t i;

	if (j->threaded)
		pthread_join(j->thread, NULL);
	for (i = 0; i < j->errs.n; i++)
		diag_addf(errs, "%s", j->errs.msgs[i]);
	diag_free(&j->errs);
	m = j->m;
	for (i = 0; i < j->o.npaths; i++)
		free(j->paths[i]);
	free(j->paths);
	free(j);
	return m;
}
