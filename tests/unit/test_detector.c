/*
 * test_detector.c — the detector over an in-memory store (struct
 * detector_ops): a burst fires once and resolves; a restarted detector
 * goes on from the stored states; a detector that lost the lease publishes
 * nothing; a publish that fails goes out on a later tick; group_wait holds
 * new alerts and sends them as one digest; a pass reads only the topics
 * the flushes counted into (the dirty set) and does nothing without them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "alert.h"
#include "config.h"
#include "detector.h"
#include "diag.h"
#include "log.h"
#include "rules.h"
#include "xmalloc.h"

/* 2026-11-26T05:00:00Z, on a bucket boundary */
#define S	INT64_C(1795669200)
#define RES	10
#define NB	120		/* buckets of counts: 20 minutes */

#define MAX_TOPICS	4
#define MAX_STATES	16
#define MAX_SENT	64

struct fake_topic {
	char	id[32];
	int64_t	v[NB];		/* bucket S + i * RES */
	int64_t	dirty;		/* earliest bucket counted into; 0: none */
};

struct fake_state {
	char			topic[32];
	size_t			b;
	struct spike_state	st;
	int64_t			last_T;
};

struct fake_sent {
	char	id[160];
	char	*json;
	bool	late;
};

/* Redis, in memory. */
struct fake {
	struct fake_topic	topics[MAX_TOPICS];
	size_t			ntopics;
	int64_t			wm_ms;
	char			holder[64];	/* "": the lease is free */
	struct fake_state	states[MAX_STATES];
	size_t			nstates;
	char			dedup[MAX_SENT][160];
	size_t			ndedup;
	struct fake_sent	sent[MAX_SENT];	/* published alerts */
	size_t			nsent;
	size_t			attempts;	/* publish calls */
	int			fail;		/* publishes to fail */
	struct alert_held_item	held[MAX_SENT];
	size_t			nheld;
	int64_t			held_since, held_wall, held_wait;
	char			*digests[8];
	size_t			ndigests;
	size_t			saves;		/* block states written */
	size_t			spans;		/* spans of counts read */
};

static bool
fake_dedup(struct fake *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->ndedup; i++)
		if (strcmp(f->dedup[i], id) == 0)
			return false;
	snprintf(f->dedup[f->ndedup++], sizeof f->dedup[0], "%s", id);
	return true;
}

static int
fake_lease(void *arg, const char *holder, int64_t ttl_ms, bool *held)
{
	struct fake *f = arg;

	(void)ttl_ms;
	if (f->holder[0] == '\0')
		snprintf(f->holder, sizeof f->holder, "%s", holder);
	*held = strcmp(f->holder, holder) == 0;
	return 0;
}

static int
fake_watermark(void *arg, int64_t *wm_ms, int64_t *newest_ms)
{
	*wm_ms = *newest_ms = ((struct fake *)arg)->wm_ms;
	return 0;
}

static int
fake_since(void *arg, int64_t *since)
{
	(void)arg;
	*since = S;
	return 0;
}

static struct fake_state *
fake_state(struct fake *f, const char *topic, size_t b, bool create)
{
	size_t i;

	for (i = 0; i < f->nstates; i++)
		if (strcmp(f->states[i].topic, topic) == 0 && f->states[i].b == b)
			return &f->states[i];
	if (!create)
		return NULL;
	assert_true(f->nstates < MAX_STATES);
	snprintf(f->states[f->nstates].topic, sizeof f->states[0].topic, "%s",
	    topic);
	f->states[f->nstates].b = b;
	return &f->states[f->nstates++];
}

static int
fake_load_states(void *arg, const char *const *topics, const size_t *nblocks,
    size_t n, struct spike_state *st, int64_t *last_T, bool *found)
{
	struct fake_state *s;
	size_t i, b, at = 0;

	for (i = 0; i < n; at += nblocks[i], i++)
		for (b = 0; b < nblocks[i]; b++) {
			s = fake_state(arg, topics[i], b, false);
			found[at + b] = s != NULL;
			if (s != NULL) {
				st[at + b] = s->st;
				last_T[at + b] = s->last_T;
			}
		}
	return 0;
}

static int
fake_save_states(void *arg, const struct store_state_put *v, size_t n)
{
	struct fake *f = arg;
	size_t i;

	f->saves += n;
	for (i = 0; i < n; i++) {
		struct fake_state *s = fake_state(f, v[i].topic, v[i].block,
		    true);

		s->st = v[i].st;
		s->last_T = v[i].last_T;
	}
	return 0;
}

static int
fake_dirty(void *arg, const char *holder, char ***topics, int64_t **buckets,
    size_t *n)
{
	struct fake *f = arg;
	size_t i;

	if (strcmp(f->holder, holder) != 0)
		return -1;		/* the lease is another's */
	*topics = xcalloc(MAX_TOPICS + 1, sizeof **topics);
	*buckets = xcalloc(MAX_TOPICS + 1, sizeof **buckets);
	*n = 0;
	for (i = 0; i < f->ntopics; i++)
		if (f->topics[i].dirty != 0) {
			(*topics)[*n] = xstrdup(f->topics[i].id);
			(*buckets)[(*n)++] = f->topics[i].dirty;
			f->topics[i].dirty = 0;
		}
	return 0;
}

static int
fake_read_spans(void *arg, int64_t res, struct store_span *v, size_t n)
{
	struct fake *f = arg;
	const struct fake_topic *t;
	size_t i, j;
	int64_t b, k;

	f->spans += n;
	for (i = 0; i < n; i++) {
		v[i].pts = xcalloc((size_t)((v[i].to - v[i].from) / res) + 1,
		    sizeof *v[i].pts);
		v[i].n = 0;
		for (t = NULL, j = 0; j < f->ntopics; j++)
			if (strcmp(f->topics[j].id, v[i].topic) == 0)
				t = &f->topics[j];
		for (b = v[i].from; t != NULL && b < v[i].to; b += res) {
			k = (b - S) / RES;
			if (k >= 0 && k < NB && t->v[k] != 0) {
				v[i].pts[v[i].n].bucket = b;
				v[i].pts[v[i].n++].count = t->v[k];
			}
		}
	}
	return 0;
}

static int
fake_publish(void *arg, const struct alert *al, const char *json)
{
	struct fake *f = arg;
	char id[160];

	f->attempts++;
	if (f->fail > 0) {
		f->fail--;
		return -1;
	}
	alert_id(al, id, sizeof id);
	if (!fake_dedup(f, id))
		return 0;
	assert_true(f->nsent < MAX_SENT);
	snprintf(f->sent[f->nsent].id, sizeof f->sent[0].id, "%s", id);
	f->sent[f->nsent].json = xstrdup(json);
	f->sent[f->nsent++].late = al->late;
	return 1;
}

static const char *
fake_errstr(void *arg)
{
	(void)arg;
	return "fake failure";
}

static int
fake_top(void *arg, const struct rule_topic *t, const char *field,
    int64_t from, int64_t to, size_t max, struct alert_top *out)
{
	(void)arg, (void)t, (void)field, (void)from, (void)to, (void)max;
	memset(out, 0, sizeof *out);
	return 0;
}

static int
fake_samples(void *arg, const struct rule_topic *t, int64_t from, int64_t to,
    size_t max, char ***json, size_t *n)
{
	(void)arg, (void)t, (void)from, (void)to, (void)max;
	*json = NULL;
	*n = 0;
	return 0;
}

static int
fake_held_add(void *arg, const char *id, const char *json, int64_t window_end,
    int64_t wall_ms, int64_t wait_s)
{
	struct fake *f = arg;

	if (!fake_dedup(f, id))
		return 0;
	if (f->nheld == 0) {
		f->held_since = window_end;
		f->held_wall = wall_ms;
		f->held_wait = wait_s;
	} else if (wait_s < f->held_wait)
		f->held_wait = wait_s;
	f->held[f->nheld].id = xstrdup(id);
	f->held[f->nheld++].json = xstrdup(json);
	return 1;
}

static int
fake_held_list(void *arg, struct alert_held *h)
{
	struct fake *f = arg;
	size_t i;

	memset(h, 0, sizeof *h);
	h->since = f->held_since;
	h->wall_ms = f->held_wall;
	h->wait_s = f->held_wait;
	h->items = xcalloc(f->nheld + 1, sizeof *h->items);
	for (i = 0; i < f->nheld; i++) {
		h->items[i].id = xstrdup(f->held[i].id);
		h->items[i].json = xstrdup(f->held[i].json);
	}
	h->n = f->nheld;
	return 0;
}

static int
fake_held_send(void *arg, const struct alert_held *h, const char *digest_id)
{
	struct fake *f = arg;
	size_t i;

	assert_true(f->ndigests < 8);
	(void)digest_id;
	f->digests[f->ndigests++] = alert_digest_json(digest_id, h);
	for (i = 0; i < f->nheld; i++) {
		free(f->held[i].id);
		free(f->held[i].json);
	}
	f->nheld = 0;
	return (int)h->n;
}

static const struct detector_ops fake_ops = {
	.lease = fake_lease,
	.watermark = fake_watermark,
	.since = fake_since,
	.dirty = fake_dirty,
	.load_states = fake_load_states,
	.save_states = fake_save_states,
	.read_spans = fake_read_spans,
	.publish = fake_publish,
	.errstr = fake_errstr,
	.evidence = { .top = fake_top, .samples = fake_samples },
	.held = { .add = fake_held_add, .list = fake_held_list,
	    .send = fake_held_send },
};

static void
fake_free(struct fake *f)
{
	size_t i;

	for (i = 0; i < f->nsent; i++)
		free(f->sent[i].json);
	for (i = 0; i < f->nheld; i++) {
		free(f->held[i].id);
		free(f->held[i].json);
	}
	for (i = 0; i < f->ndigests; i++)
		free(f->digests[i]);
	free(f);
}

/* One post per bucket in every bucket, and `burst` more in buckets
 * [from, from + n). */
static void
fake_counts_set(struct fake *f, const char *topic, size_t from, size_t n,
    int64_t burst)
{
	struct fake_topic *t = &f->topics[f->ntopics++];
	size_t i;

	snprintf(t->id, sizeof t->id, "%s", topic);
	for (i = 0; i < NB; i++)
		t->v[i] = 1 + (i >= from && i < from + n ? burst : 0);
	t->dirty = S;
}

/* The stream has reached the end of bucket i (its last post in it): the
 * buckets from the old watermark's on were counted into (flushes mark
 * them dirty). */
static void
fake_reach(struct fake *f, size_t i)
{
	int64_t from = f->wm_ms > 0 ? f->wm_ms / 1000 / RES * RES : S;
	size_t k;

	for (k = 0; k < f->ntopics; k++)
		if (f->topics[k].dirty == 0 || from < f->topics[k].dirty)
			f->topics[k].dirty = from;
	f->wm_ms = (S + (int64_t)i * RES + RES - 1) * 1000;
}

static size_t
count_sent(const struct fake *f, const char *state, bool repeat)
{
	size_t i, n = 0;

	for (i = 0; i < f->nsent; i++)
		if (strstr(f->sent[i].id, state) != NULL &&
		    (strstr(f->sent[i].json, "\"repeat\":true") != NULL) == repeat)
			n++;
	return n;
}

static struct config cfg;

static struct ruleset *
load_rules(const char *yaml)
{
	struct ruleset *rs = NULL;
	struct diag errs;
	struct rules_opts ro;

	memset(&ro, 0, sizeof ro);
	ro.resolution_s = RES;
	diag_init(&errs);
	if (rules_load_string_opts("t.yaml", yaml, strlen(yaml), &ro, &rs,
	    &errs) == -1) {
		size_t i;

		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
	}
	diag_free(&errs);
	assert_non_null(rs);
	return rs;
}

static const char RULES[] =
"topics:\n"
"  - id: quake\n"
"    match: {any: [地震]}\n"
"    alert: {window: 30s, threshold: 50, resolve_after: 30s}\n";

/* The wall clock a little after the stream's time: nothing is late. */
static int64_t
now_of(const struct fake *f)
{
	return f->wm_ms + 5000;
}

static int
setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERROR);
	config_defaults(&cfg);
	cfg.resolution_s = RES;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

static void
test_burst_fires_once_and_resolves(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);
	struct ruleset *rs = load_rules(RULES);
	struct detector *d = detector_new_ops(&cfg, "a", &fake_ops, f);
	char want[160];
	size_t i;

	(void)state;
	fake_counts_set(f, "quake", 60, 3, 30);
	/* tick by tick, a minute of stream each */
	for (i = 10; i < NB; i += 6) {
		fake_reach(f, i);
		assert_true(detector_tick(d, rs, now_of(f)) >= 0);
	}
	assert_true(detector_leading(d));
	assert_int_equal(count_sent(f, ":firing", false), 1);
	assert_int_equal(count_sent(f, ":resolved", false), 1);
	assert_int_equal(f->nsent, 2);
	/* the window ending at S+620 (buckets 59 to 61) is the first to
	 * reach 50 */
	snprintf(want, sizeof want, "quake:0:%lld:firing", (long long)(S + 620));
	assert_string_equal(f->sent[0].id, want);
	assert_false(f->sent[0].late);
	assert_non_null(strstr(f->sent[1].id, ":resolved"));
	detector_free(d);
	rules_unref(rs);
	fake_free(f);
}

static void
test_restart_goes_on_from_stored_state(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);
	struct ruleset *rs = load_rules(RULES);
	struct detector *d = detector_new_ops(&cfg, "a", &fake_ops, f);
	size_t attempts;

	(void)state;
	fake_counts_set(f, "quake", 60, 6, 30);
	fake_reach(f, 63);		/* in the middle of the burst */
	assert_true(detector_tick(d, rs, now_of(f)) >= 0);
	assert_int_equal(count_sent(f, ":firing", false), 1);
	detector_free(d);

	/* a new detector (a restart, or another daemon taking the lease) */
	d = detector_new_ops(&cfg, "a", &fake_ops, f);
	attempts = f->attempts;
	fake_reach(f, 66);		/* still high: nothing new */
	assert_int_equal(detector_tick(d, rs, now_of(f)), 0);
	assert_int_equal(f->attempts, attempts);
	fake_reach(f, NB - 1);		/* over: resolved, not fired again */
	assert_int_equal(detector_tick(d, rs, now_of(f)), 1);
	assert_int_equal(f->attempts, attempts + 1);
	assert_int_equal(count_sent(f, ":firing", false), 1);
	assert_int_equal(count_sent(f, ":resolved", false), 1);
	detector_free(d);
	rules_unref(rs);
	fake_free(f);
}

static void
test_lost_lease_stops_publishing(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);
	struct ruleset *rs = load_rules(RULES);
	struct detector *d = detector_new_ops(&cfg, "a", &fake_ops, f);

	(void)state;
	fake_counts_set(f, "quake", 60, 3, 30);
	fake_reach(f, 30);
	assert_true(detector_tick(d, rs, now_of(f)) >= 0);
	assert_true(detector_leading(d));
	/* another daemon holds the lease now */
	snprintf(f->holder, sizeof f->holder, "b");
	fake_reach(f, 64);
	assert_int_equal(detector_tick(d, rs, now_of(f)), 0);
	assert_false(detector_leading(d));
	assert_int_equal(f->attempts, 0);
	/* the lease comes back: the burst goes out then */
	f->holder[0] = '\0';
	assert_int_equal(detector_tick(d, rs, now_of(f)), 1);
	assert_true(detector_leading(d));
	assert_int_equal(count_sent(f, ":firing", false), 1);
	detector_free(d);
	rules_unref(rs);
	fake_free(f);
}

static void
test_failed_publish_is_retried(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);
	struct ruleset *rs = load_rules(RULES);
	struct detector *d = detector_new_ops(&cfg, "a", &fake_ops, f);

	(void)state;
	fake_counts_set(f, "quake", 60, 3, 30);
	fake_reach(f, 64);
	f->fail = 1;
	assert_int_equal(detector_tick(d, rs, now_of(f)), -1);
	assert_int_equal(f->nsent, 0);
	/* the next tick, three minutes later by the clock: sent, late */
	assert_int_equal(detector_tick(d, rs, now_of(f) + 180000), 1);
	assert_int_equal(count_sent(f, ":firing", false), 1);
	assert_true(f->sent[0].late);
	assert_int_equal(detector_tick(d, rs, now_of(f) + 181000), 0);
	assert_int_equal(f->nsent, 1);
	detector_free(d);
	rules_unref(rs);
	fake_free(f);
}

static const char RULES_GROUPED[] =
"topics:\n"
"  - id: quake\n"
"    match: {any: [地震]}\n"
"    group_wait: 1m\n"
"    alert: {window: 30s, threshold: 50, resolve_after: 5m}\n"
"  - id: flood\n"
"    match: {any: [洪水]}\n"
"    group_wait: 2m\n"
"    alert: {window: 30s, threshold: 50, resolve_after: 5m}\n";

static void
test_group_wait_sends_one_digest(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);
	struct ruleset *rs = load_rules(RULES_GROUPED);
	struct detector *d = detector_new_ops(&cfg, "a", &fake_ops, f);
	char want[256];
	const char *q, *fl;

	(void)state;
	fake_counts_set(f, "quake", 60, 3, 30);
	fake_counts_set(f, "flood", 62, 3, 30);
	fake_reach(f, 66);		/* both fired, a minute not yet over */
	assert_int_equal(detector_tick(d, rs, now_of(f)), 0);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(f->nheld, 2);
	assert_int_equal(f->ndigests, 0);
	fake_reach(f, 70);		/* S+620 + 1m passed at S+680 */
	assert_int_equal(detector_tick(d, rs, now_of(f)), 2);
	assert_int_equal(f->nsent, 0);
	assert_int_equal(f->ndigests, 1);
	snprintf(want, sizeof want, "{\"id\":\"digest:%lld:2\",\"digest\":true,",
	    (long long)(S + 620));
	assert_true(strncmp(f->digests[0], want, strlen(want)) == 0);
	/* the alerts in id order: flood before quake */
	fl = strstr(f->digests[0], "\"id\":\"flood:0:");
	q = strstr(f->digests[0], "\"id\":\"quake:0:");
	assert_non_null(fl);
	assert_non_null(q);
	assert_true(fl < q);
	/* resolves are not held */
	fake_reach(f, NB - 1);
	assert_int_equal(detector_tick(d, rs, now_of(f)), 2);
	assert_int_equal(count_sent(f, ":resolved", false), 2);
	assert_int_equal(f->ndigests, 1);
	detector_free(d);
	rules_unref(rs);
	fake_free(f);
}

/* A pass reads only the topics counted into since the last one, from
 * the earliest bucket counted into; a pass with nothing new reads, steps
 * and stores nothing. */
static void
test_reads_only_what_was_counted(void **state)
{
	struct fake *f = xcalloc(1, sizeof *f);
	struct ruleset *rs = load_rules(RULES_GROUPED);
	struct detector *d = detector_new_ops(&cfg, "a", &fake_ops, f);
	struct detector_pass p;
	size_t spans, saves;

	(void)state;
	fake_counts_set(f, "quake", 60, 3, 30);
	fake_counts_set(f, "flood", 62, 3, 30);
	fake_reach(f, 20);
	assert_true(detector_tick(d, rs, now_of(f)) >= 0);
	detector_last_pass(d, &p);
	assert_true(p.full);
	assert_int_equal(p.topics, 2);
	assert_int_equal(p.read, 2);
	/* nothing new, the same watermark */
	spans = f->spans;
	saves = f->saves;
	assert_int_equal(detector_tick(d, rs, now_of(f)), 0);
	detector_last_pass(d, &p);
	assert_false(p.full);
	assert_int_equal(p.read, 0);
	assert_int_equal(p.stepped, 0);
	assert_int_equal(f->spans, spans);
	assert_int_equal(f->saves, saves);
	/* one topic counted into: only it is read */
	f->topics[1].dirty = S + 190;
	assert_true(detector_tick(d, rs, now_of(f)) >= 0);
	detector_last_pass(d, &p);
	assert_int_equal(p.read, 1);
	assert_int_equal(f->spans, spans + 1);
	/* one post per bucket is below min_count... of a threshold block:
	 * the quiet stretch is stepped without a baseline; the series holds
	 * only what the blocks can still read */
	assert_true(p.points <= 2 * 3 + 2);
	detector_free(d);
	rules_unref(rs);
	fake_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_fires_once_and_resolves),
		cmocka_unit_test(test_restart_goes_on_from_stored_state),
		cmocka_unit_test(test_lost_lease_stops_publishing),
		cmocka_unit_test(test_failed_publish_is_retried),
		cmocka_unit_test(test_group_wait_sends_one_digest),
		cmocka_unit_test(test_reads_only_what_was_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
