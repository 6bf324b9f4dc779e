/*
 * engine.c — the current rule engine, swapped atomically on reload.
 *
 * One mutex guards the current pointer; its version is also kept in an
 * atomic so consumer threads can check for a newer engine on every post
 * without taking the lock.  References are atomic counters.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "engine.h"
#include "xmalloc.h"

static pthread_mutex_t	 engine_mu = PTHREAD_MUTEX_INITIALIZER;
static struct engine	*engine_cur;
static _Atomic uint64_t	 engine_ver;

struct engine *
engine_new(struct matcher *m, uint64_t version)
{
	struct engine *e = xcalloc(1, sizeof *e);

	e->m = m;
	e->rs = match_ruleset(m);
	e->version = version;
	e->refs = 1;
	return e;
}

struct engine *
engine_ref(struct engine *e)
{
	if (e != NULL)
		__atomic_add_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
	return e;
}

void
engine_unref(struct engine *e)
{
	if (e == NULL)
		return;
	if (__atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		match_free(e->m);
		free(e);
	}
}

struct engine *
engine_current(void)
{
	struct engine *e;

	pthread_mutex_lock(&engine_mu);
	e = engine_ref(engine_cur);
	pthread_mutex_unlock(&engine_mu);
	return e;
}

uint64_t
engine_current_version(void)
{
	return atomic_load_explicit(&engine_ver, memory_order_acquire);
}

void
engine_install(struct engine *e)
{
	struct engine *old;

	pthread_mutex_lock(&engine_mu);
	old = engine_cur;
	engine_cur = e;
	atomic_store_explicit(&engine_ver, e ? e->version : 0,
	    memory_order_release);
	pthread_mutex_unlock(&engine_mu);
	engine_unref(old);
}
