/*
 * watch.c — every alert block of a rule set stepped together.
 *
 * DESIGN.  Pure, no I/O, no allocation; the caller owns the per-topic
 * states (struct watch_topic) and the counts behind their series.  The
 * outer loop is time (window ends, one resolution apart), the inner loop
 * the topics in ruleset->order (each after those that inhibit it), then
 * their blocks; a block is stepped one window end at a time by spike_run(),
 * the per-block loop the daemon and backtest share, with the inhibition
 * of that moment; a quiet stretch after a step (a series with next())
 * is stepped at once and the block waits for its end.  A failed emit stops everything at once: spike_run() has
 * put that block back, and every block's from[] says where it got to, so
 * the caller can go on from there later.  Used by the detector (main
 * thread) and by backtest.  watch_step_order() steps only the topics of a
 * list (the detector's: those with something to step), while the others'
 * states still answer for inhibition.
 */
#include <stdbool.h>

#include "watch.h"

int
watch_inhibited(const struct ruleset *rs, struct watch_topic **wt, size_t i)
{
	const struct rule_topic *t = &rs->topics[i];
	const struct watch_topic *p;
	size_t k, b;

	for (k = 0; k < t->ninhibit; k++) {
		if (t->inhibit_idx == NULL ||
		    (p = wt[t->inhibit_idx[k]]) == NULL)
			continue;
		for (b = 0; b < p->nblocks; b++)
			if (p->st[b].firing)
				return 1;
	}
	return 0;
}

struct hop {
	watch_emit_fn	 emit;
	void		*arg;
	size_t		 i, b;
};

static int
hop_emit(void *arg, enum spike_action act, const struct spike_eval *ev)
{
	struct hop *h = arg;

	return h->emit != NULL ? h->emit(h->arg, h->i, h->b, act, ev) : 0;
}

/* After block b stepped T: a quiet stretch after it (spike_quiet_until)
 * is stepped at once, and the block waits for its last window end, which
 * is stepped again (quiet: the same state).  Returns the last window end
 * stepped. */
static int64_t
skip_quiet(const struct rule_alert *a, struct watch_topic *w, size_t b,
    int64_t T, int64_t to, int64_t res)
{
	int64_t Tq;

	if (T > INT64_MAX - res)
		return T;
	Tq = spike_quiet_until(a, &w->ser, &w->st[b], T + res, to);
	if (Tq == INT64_MIN)
		return T;
	spike_skip_quiet(&w->st[b], Tq);
	return Tq;
}

int
watch_step(const struct ruleset *rs, struct watch_topic **wt, int64_t from,
    int64_t to, int64_t res, watch_emit_fn emit, watch_tick_fn tick,
    void *arg)
{
	return watch_step_order(rs, wt, NULL, rs->ntopics, from, to, res,
	    emit, tick, arg);
}

int
watch_step_order(const struct ruleset *rs, struct watch_topic **wt,
    const size_t *order, size_t norder, int64_t from, int64_t to, int64_t res,
    watch_emit_fn emit, watch_tick_fn tick, void *arg)
{
	struct hop h;
	int64_t T, stopped;
	size_t k, i, b;
	bool inh;

	if (res <= 0)
		res = 1;
	h.emit = emit;
	h.arg = arg;
	for (T = from; T <= to; T += res) {
		for (k = 0; k < norder; k++) {
			struct watch_topic *w;

			i = order != NULL ? order[k] : rs->order != NULL ?
			    rs->order[k] : k;
			if ((w = wt[i]) == NULL)
				continue;
			inh = watch_inhibited(rs, wt, i);
			h.i = i;
			for (b = 0; b < w->nblocks; b++) {
				if (T < w->from[b])
					continue;
				h.b = b;
				if (spike_run(&rs->topics[i].alerts[b], &w->ser,
				    &w->st[b], T, T, inh, hop_emit, &h,
				    &stopped) == -1)
					return -1;
				w->from[b] = skip_quiet(&rs->topics[i].alerts[b],
				    w, b, T, to, res);
			}
		}
		if (tick != NULL && tick(arg, T) == -1)
			return -1;
		if (T > INT64_MAX - res)
			break;
	}
	return 0;
}
