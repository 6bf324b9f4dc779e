/*
 * engine.h — the rule engine in force: a compiled matcher and its rule set,
 * swapped as a whole on reload.
 *
 * The daemon holds one current engine; consumer threads take a reference
 * and notice a newer one by its version between two posts, so a reload
 * never changes the rules in the middle of a post and never waits for a
 * thread.  The last reference frees the matcher (and with it the rule set's
 * reference).  The normaliser is shared by all engines and outlives them.
 */
#ifndef TW_ENGINE_H
#define TW_ENGINE_H

#include <stdint.h>

#include "matcher.h"

struct engine {
	struct matcher		*m;
	const struct ruleset	*rs;
	uint64_t		 version;
	int			 refs;		/* atomic */
};

/* Takes ownership of m. */
struct engine *engine_new(struct matcher *m, uint64_t version);
struct engine *engine_ref(struct engine *e);
void engine_unref(struct engine *e);

/* The current engine (a new reference) and its version. */
struct engine *engine_current(void);
uint64_t engine_current_version(void);
/* Installs e as current (takes the caller's reference). */
void engine_install(struct engine *e);

#endif
