/*
 * rules_build.h — a rule set made ready to run: loaded, compiled, tested.
 *
 * rules_build() reads the rule files, compiles the matcher and runs the
 * tests embedded in the rules, all or nothing, in the calling thread.  The
 * daemon builds its first set that way; a reload runs the same build on a
 * thread of its own (rules_build_start()) and the daemon's main loop picks
 * the result up when rules_build_done() says so, so that neither the
 * consumers nor the main loop wait seconds for a large set.
 */
#ifndef TW_RULES_BUILD_H
#define TW_RULES_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "matcher.h"
#include "normalize.h"
#include "rules.h"

struct rules_build_opts {
	const char *const	*paths;		/* files or directories */
	size_t			 npaths;
	struct rules_opts	 ro;
	const struct normalizer	*norm;		/* must outlive the build */
};

/* The compiled matcher (owning a reference on its rule set), or NULL with
 * every error in errs: the loader's, the matcher's, and each failed
 * embedded test. */
struct matcher *rules_build(const struct rules_build_opts *o,
    struct diag *errs);

struct rules_job;

/* Starts rules_build() on a new thread (or runs it here if no thread can
 * be made); o's paths are copied.  Never NULL. */
struct rules_job *rules_build_start(const struct rules_build_opts *o);
/* Whether the build has ended; never blocks. */
bool rules_build_done(const struct rules_job *j);
/* Waits for the build's end, frees j and returns what rules_build()
 * returned, with its errors added to errs. */
struct matcher *rules_build_finish(struct rules_job *j, struct diag *errs);

#endif
