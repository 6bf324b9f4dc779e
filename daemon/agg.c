/*
 * agg.c — local pre-aggregation between flushes.
 *
 * DESIGN: two open-addressing hash tables.  The intern table maps every
 * string an entry refers to (topic ids, keywords, count_by fields and
 * values) to one private copy, so entries compare strings by pointer and
 * stay valid after the rule set they came from is released by a reload.
 * The entry table maps (kind, topic, bucket, aux, aux2) to a count; entries
 * live in one array in insertion order, which is the order a flush writes
 * them.  Samples are the samples_per_bucket greatest posts of each topic
 * and bucket by agg_sample_cmp() (the newest), chained per (topic, bucket)
 * from its count entry (heads[], beside the entries), so keeping one costs
 * a walk of that short chain
 * and the JSON is built only for a post that is kept, once whatever the
 * number of its topics: the samples of one post share one
 * reference-counted copy (struct sjson).
 * agg_clear() keeps the tables, the entry array and the interned strings
 * (the topics and keywords of one flush are mostly those of the next, so
 * a flush costs no allocation per string); it frees the samples, and the
 * strings only once they number more than AGG_INTERN_KEEP beyond twice
 * the ids and keywords of the rule set in use (count_by values can be
 * unbounded; a set of a million keywords must not have its strings
 * dropped and interned again at every flush).  The interned topic ids,
 * keywords and count_by field names are also cached by topic and keyword
 * index of the rule set in use, so a hit costs no string hashing (only a
 * count_by value is interned per post); the cache is dropped when the
 * rule set changes.  A post matching many topics of a large rule set
 * finds each topic's cache entry at a random place: agg_add() prefetches
 * them all before reading the first.  Distinct authors and texts of
 * (topic, hour) are a third table, a set of (kind, topic, hour, element)
 * in insertion order (struct dset), cleared with the rest.  One aggregate
 * per thread.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "jsonw.h"
#include "strmap.h"
#include "xmalloc.h"

struct slot {
	uint32_t	idx;	/* index + 1 into entries; 0: empty */
	uint32_t	hash;
};

struct istr {
	char		*s;
	uint32_t	 hash;
};

/* The interned strings of one topic of the rule set in use, by index. */
struct tcache {
	const char		*id;	/* NULL: not interned yet */
	const char		**kws;	/* per keyword index, allocated at the
					 * topic's first keyword hit */
	const char		**by;	/* its count_by field names, interned
					 * with id (NULL: none) */
};

/* A sample's JSON, shared by the samples of one post, each holding a
 * reference; agg_sample.json points at json. */
struct sjson {
	size_t		refs;
	char		json[];
};

/* A candidate sample: a post (its JSON built when first needed), or a
 * shared JSON already built. */
struct cand {
	const struct post	*p;
	const char		*bytes;	/* the JSON, NULL: not built yet */
	size_t			 len;
	char			*json;	/* shared copy of bytes, or NULL; the
					 * caller holds this reference */
};

/* The distinct elements: an array in insertion order and an open-addressing
 * index over it (slot: index + 1, 0 empty). */
struct dset {
	struct agg_distinct	*v;
	size_t			 n, cap;
	uint32_t		*slots;
	size_t			 nslots;	/* power of two */
};

struct agg {
	int64_t			 res;
	struct dset		 ds;
	size_t			 samples_per_bucket;

	struct agg_entry	*entries;
	uint32_t		*heads;		/* per entry: an AGG_COUNT's first
						 * sample, index + 1 (0: none) */
	size_t			 nentries, entries_cap;
	struct slot		*slots;
	size_t			 nslots;	/* power of two */

	struct istr		*strs;		/* intern set */
	size_t			 nstrs_used, nstrs;	/* nstrs: power of two */

	struct agg_sample	*samples;
	size_t			 nsamples, samples_cap;
	struct jsonw		 scratch;	/* a candidate sample's JSON */

	const struct ruleset	*crs;		/* the rule set tc is of: only
						 * compared, it may be freed */
	struct tcache		*tc;
	size_t			 ntc;		/* entries of tc */
	size_t			 crs_nkeywords;	/* crs's, when crs is set */

	size_t			 posts;
	const char		*all;		/* interned "_all", or NULL */
	size_t			 all_last;	/* index + 1 of its last entry, for
						 * a run of posts in one bucket */
};

/* Interned strings kept across agg_clear() up to this many beyond those of
 * the rule sets' ids and keywords (agg_clear). */
#define AGG_INTERN_KEEP	(1u << 20)

/* Internal kinds that bound the breakdowns and samples per bucket. */
#define KIND_VALUES	100	/* distinct count_by values of (topic, field, bucket) */

static uint32_t
hash_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return (uint32_t)x;
}

/* A shared copy of the len bytes at s, with one reference. */
static char *
sjson_new(const char *s, size_t len)
{
	struct sjson *j = xmalloc(sizeof *j + len + 1);

	j->refs = 1;
	memcpy(j->json, s, len);
	j->json[len] = '\0';
	return j->json;
}

static struct sjson *
sjson_of(char *json)
{
	return (struct sjson *)(void *)(json - offsetof(struct sjson, json));
}

static char *
sjson_ref(char *json)
{
	sjson_of(json)->refs++;
	return json;
}

/* Drops a reference (NULL: none). */
static void
sjson_unref(char *json)
{
	struct sjson *j;

	if (json == NULL)
		return;
	j = sjson_of(json);
	if (--j->refs == 0)
		free(j);
}

static const char *
intern(struct agg *a, const char *s, size_t n)
{
	uint32_t h = strmap_hash(s, n);
	size_t mask, i;

	if ((a->nstrs_used + 1) * 2 > a->nstrs) {
		struct istr *old = a->strs;
		size_t oldn = a->nstrs, j;

		a->nstrs = a->nstrs ? a->nstrs * 2 : 256;
		a->strs = xcalloc(a->nstrs, sizeof *a->strs);
		for (j = 0; j < oldn; j++) {
			if (old[j].s == NULL)
				continue;
			i = old[j].hash & (a->nstrs - 1);
			while (a->strs[i].s != NULL)
				i = (i + 1) & (a->nstrs - 1);
			a->strs[i] = old[j];
		}
		free(old);
	}
	mask = a->nstrs - 1;
	for (i = h & mask; a->strs[i].s != NULL; i = (i + 1) & mask) {
		if (a->strs[i].hash == h && strncmp(a->strs[i].s, s, n) == 0 &&
		    a->strs[i].s[n] == '\0')
			return a->strs[i].s;
	}
	a->strs[i].s = xstrndup(s, n);
	a->strs[i].hash = h;
	a->nstrs_used++;
	return a->strs[i].s;
}

static uint32_t
entry_hash(int kind, const char *topic, int64_t bucket, const char *aux,
    const char *aux2)
{
	uint64_t x = (uint64_t)(uintptr_t)topic * 31 + (uint64_t)bucket;

	x = x * 131 + (uint64_t)kind;
	x = x * 31 + (uint64_t)(uintptr_t)aux;
	x = x * 31 + (uint64_t)(uintptr_t)aux2;
	return hash_mix(x);
}

static void
rehash(struct agg *a)
{
	size_t i, j, mask;

	free(a->slots);
	a->nslots = a->nslots ? a->nslots * 2 : 1024;
	a->slots = xcalloc(a->nslots, sizeof *a->slots);
	mask = a->nslots - 1;
	for (i = 0; i < a->nentries; i++) {
		const struct agg_entry *e = &a->entries[i];
		uint32_t h = entry_hash((int)e->kind, e->topic, e->bucket, e->aux,
		    e->aux2);

		for (j = h & mask; a->slots[j].idx != 0; j = (j + 1) & mask)
			;
		a->slots[j].idx = (uint32_t)i + 1;
		a->slots[j].hash = h;
	}
}

static struct agg_entry *
find(struct agg *a, int kind, const char *topic, int64_t bucket,
    const char *aux, const char *aux2)
{
	uint32_t h = entry_hash(kind, topic, bucket, aux, aux2);
	size_t j, mask;
	struct agg_entry *e;

	if (a->nslots == 0)
		return NULL;
	mask = a->nslots - 1;
	for (j = h & mask; a->slots[j].idx != 0; j = (j + 1) & mask) {
		if (a->slots[j].hash != h)
			continue;
		e = &a->entries[a->slots[j].idx - 1];
		if ((int)e->kind == kind && e->topic == topic &&
		    e->bucket == bucket && e->aux == aux && e->aux2 == aux2)
			return e;
	}
	return NULL;
}

/* Finds or creates the entry; returns it. */
static struct agg_entry *
entry(struct agg *a, int kind, const char *topic, int64_t bucket,
    const char *aux, const char *aux2, int *created)
{
	uint32_t h = entry_hash(kind, topic, bucket, aux, aux2);
	size_t j, mask;
	struct agg_entry *e;

	if ((a->nentries + 1) * 2 > a->nslots)
		rehash(a);
	mask = a->nslots - 1;
	for (j = h & mask; a->slots[j].idx != 0; j = (j + 1) & mask) {
		if (a->slots[j].hash != h)
			continue;
		e = &a->entries[a->slots[j].idx - 1];
		if ((int)e->kind == kind && e->topic == topic &&
		    e->bucket == bucket && e->aux == aux && e->aux2 == aux2) {
			if (created)
				*created = 0;
			return e;
		}
	}
	if (a->nentries == a->entries_cap) {
		a->entries = xgrow(a->entries, &a->entries_cap,
		    a->nentries + 1, sizeof *a->entries);
		a->heads = xrealloc(a->heads, a->entries_cap *
		    sizeof *a->heads);
	}
	a->heads[a->nentries] = 0;
	e = &a->entries[a->nentries++];
	e->kind = (enum agg_kind)kind;
	e->topic = topic;
	e->bucket = bucket;
	e->aux = aux;
	e->aux2 = aux2;
	e->count = 0;
	a->slots[j].idx = (uint32_t)a->nentries;
	a->slots[j].hash = h;
	if (created)
		*created = 1;
	return e;
}

/* ---- distinct elements ------------------------------------------------- */

static uint32_t
dset_hash(const char *topic, int64_t hour, int kind, uint64_t elem)
{
	return hash_mix(((uint64_t)(uintptr_t)topic * 31 + (uint64_t)hour) *
	    131 + (uint64_t)kind) ^ hash_mix(elem);
}

static void
dset_rehash(struct dset *d)
{
	size_t i, j, mask;

	free(d->slots);
	d->nslots = d->nslots ? d->nslots * 2 : 1024;
	d->slots = xcalloc(d->nslots, sizeof *d->slots);
	mask = d->nslots - 1;
	for (i = 0; i < d->n; i++) {
		const struct agg_distinct *e = &d->v[i];

		for (j = dset_hash(e->topic, e->hour, e->kind, e->elem) & mask;
		    d->slots[j] != 0; j = (j + 1) & mask)
			;
		d->slots[j] = (uint32_t)i + 1;
	}
}

/* Adds (kind, topic, hour, elem) unless it is there. */
static void
dset_add(struct dset *d, const char *topic, int64_t hour, int kind,
    uint64_t elem)
{
	size_t j, mask;
	struct agg_distinct *e;

	if ((d->n + 1) * 2 > d->nslots)
		dset_rehash(d);
	mask = d->nslots - 1;
	for (j = dset_hash(topic, hour, kind, elem) & mask; d->slots[j] != 0;
	    j = (j + 1) & mask) {
		e = &d->v[d->slots[j] - 1];
		if (e->elem == elem && e->topic == topic && e->hour == hour &&
		    e->kind == kind)
			return;
	}
	d->v = xgrow(d->v, &d->cap, d->n + 1, sizeof *d->v);
	e = &d->v[d->n++];
	e->topic = topic;
	e->hour = hour;
	e->elem = elem;
	e->kind = (uint8_t)kind;
	d->slots[j] = (uint32_t)d->n;
}

struct agg *
agg_new(int64_t resolution_s, size_t samples_per_bucket)
{
	struct agg *a = xcalloc(1, sizeof *a);

	a->res = resolution_s > 0 ? resolution_s : 10;
	a->samples_per_bucket = samples_per_bucket;
	return a;
}

/* Forgets the interned strings cached per topic index. */
static void
tcache_drop(struct agg *a)
{
	size_t i;

	for (i = 0; i < a->ntc; i++) {
		free(a->tc[i].kws);
		free(a->tc[i].by);
	}
	free(a->tc);
	a->tc = NULL;
	a->ntc = 0;
	a->crs = NULL;
}

void
agg_forget_rules(struct agg *a)
{
	tcache_drop(a);
}

static void
free_strings(struct agg *a)
{
	size_t i;

	tcache_drop(a);

	for (i = 0; i < a->nstrs; i++) {
		free(a->strs[i].s);
		a->strs[i].s = NULL;
	}
	a->nstrs_used = 0;
	a->all = NULL;		/* was interned */
	a->all_last = 0;
}

static void
free_samples(struct agg *a)
{
	size_t i;

	for (i = 0; i < a->nsamples; i++)
		sjson_unref(a->samples[i].json);
	a->nsamples = 0;
}

void
agg_free(struct agg *a)
{
	if (a == NULL)
		return;
	free_samples(a);
	free_strings(a);
	free(a->strs);
	free(a->samples);
	jsonw_free(&a->scratch);
	free(a->entries);
	free(a->heads);
	free(a->slots);
	free(a->ds.v);
	free(a->ds.slots);
	free(a);
}

static int64_t
bucket_of(const struct agg *a, int64_t t)
{
	int64_t b = t / a->res * a->res;

	if (t < 0 && b != t)
		b -= a->res;
	return b;
}

/* Cuts s to at most max bytes at a UTF-8 character boundary. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

void
agg_add_total(struct agg *a, int64_t t_s)
{
	int64_t b = bucket_of(a, t_s);
	struct agg_entry *e;

	/* posts come in runs of one bucket: the last entry, without hashing
	 * (entries is an array that may move: an index, not a pointer) */
	if (a->all_last > 0 && a->all_last <= a->nentries) {
		e = &a->entries[a->all_last - 1];
		if (e->bucket == b && e->topic == a->all &&
		    e->kind == AGG_COUNT) {
			e->count++;
			return;
		}
	}
	if (a->all == NULL)
		a->all = intern(a, "_all", 4);
	e = entry(a, AGG_COUNT, a->all, b, NULL, NULL, NULL);
	e->count++;
	a->all_last = (size_t)(e - a->entries) + 1;
}

int
agg_sample_cmp(int64_t t1, const char *j1, size_t l1, int64_t t2,
    const char *j2, size_t l2)
{
	int c;

	if (t1 != t2)
		return t1 < t2 ? -1 : 1;
	if ((c = memcmp(j1, j2, l1 < l2 ? l1 : l2)) != 0)
		return c;
	return l1 < l2 ? -1 : l1 > l2;
}

/* The JSON object of a sample post, in the aggregate's scratch buffer. */
static void
sample_json(struct agg *a, const struct post *p)
{
	struct jsonw *w = &a->scratch;

	jsonw_reset(w);
	jsonw_raw(w, "{\"id\":", 6);
	if (p->id != NULL)
		jsonw_str(w, p->id, p->id_len);
	else
		jsonw_raw(w, "null", 4);
	jsonw_raw(w, ",\"text\":", 8);
	jsonw_str(w, p->text, utf8_cut(p->text, p->text_len, AGG_SAMPLE_TEXT));
	jsonw_raw(w, "}", 1);
}

/*
 * Offers candidate c as a sample of (topic, bucket) at time t_ms, the
 * topic and bucket of the AGG_COUNT entry of index ci.  It is
 * kept while the (topic, bucket) has fewer than samples_per_bucket, or in
 * place of the least one when it is greater (agg_sample_cmp); the same
 * JSON twice is kept once, at the later time, as a sorted set keeps a
 * member once.  A post's JSON is built (in the scratch buffer) only when
 * compared, and copied (c->json) only when first kept.
 */
static void
offer_sample(struct agg *a, size_t ci, int64_t t_ms, struct cand *c)
{
	uint32_t *head = &a->heads[ci];
	struct agg_sample *s, *least = NULL;
	size_t n = 0;
	uint32_t i;

	for (i = *head; i != 0; i = s->next) {
		s = &a->samples[i - 1];
		if (least == NULL || agg_sample_cmp(s->time_ms, s->json,
		    s->json_len, least->time_ms, least->json,
		    least->json_len) < 0)
			least = s;
		n++;
	}
	if (n >= a->samples_per_bucket &&
	    (least == NULL || t_ms < least->time_ms))
		return;		/* older than all kept: no JSON needed */
	if (c->bytes == NULL) {
		sample_json(a, c->p);
		c->bytes = a->scratch.buf;
		c->len = a->scratch.len;
	}
	for (i = *head; i != 0; i = s->next) {
		s = &a->samples[i - 1];
		if (s->json == c->bytes || (s->json_len == c->len &&
		    memcmp(s->json, c->bytes, c->len) == 0)) {
			if (t_ms > s->time_ms)
				s->time_ms = t_ms;
			return;
		}
	}
	if (n < a->samples_per_bucket) {
		a->samples = xgrow(a->samples, &a->samples_cap, a->nsamples + 1,
		    sizeof *a->samples);
		s = &a->samples[a->nsamples++];
		s->topic = a->entries[ci].topic;
		s->bucket = a->entries[ci].bucket;
		s->next = *head;
		s->json = NULL;
		*head = (uint32_t)a->nsamples;
	} else if (least != NULL && agg_sample_cmp(t_ms, c->bytes, c->len,
	    least->time_ms, least->json, least->json_len) > 0) {
		s = least;
	} else
		return;
	if (c->json == NULL)
		c->bytes = c->json = sjson_new(c->bytes, c->len);
	sjson_unref(s->json);
	s->json = sjson_ref(c->json);
	s->time_ms = t_ms;
	s->json_len = c->len;
}

/* The interned id and count_by field names of topic t, at its first hit. */
static void
tcache_fill(struct agg *a, const struct rule_topic *t, struct tcache *tc)
{
	size_t j;

	tc->id = intern(a, t->id, strlen(t->id));
	if (t->ncount_by == 0)
		return;
	tc->by = xcalloc(t->ncount_by, sizeof *tc->by);
	for (j = 0; j < t->ncount_by; j++)
		tc->by[j] = intern(a, t->count_by[j], strlen(t->count_by[j]));
}

/* Counts the count_by values of topic t (cached as tc) in bucket b. */
static void
add_count_by(struct agg *a, const struct rule_topic *t,
    const struct tcache *tc, const struct post *p, int64_t b)
{
	struct agg_entry *e, *nv;
	const char *f, *v;
	size_t j, vlen;

	for (j = 0; j < t->ncount_by; j++) {
		f = tc->by[j];
		v = post_field(p, t->count_by[j], &vlen);
		if (v == NULL) {
			v = "_none";
			vlen = 5;
		}
		v = intern(a, v, utf8_cut(v, vlen, 128));
		if ((e = find(a, AGG_BY, tc->id, b, f, v)) != NULL) {
			e->count++;
			continue;
		}
		/* past AGG_MAX_VALUES values, the rest is _other */
		nv = entry(a, KIND_VALUES, tc->id, b, f, NULL, NULL);
		if (nv->count >= AGG_MAX_VALUES)
			v = intern(a, "_other", 6);
		else
			nv->count++;
		entry(a, AGG_BY, tc->id, b, f, v, NULL)->count++;
	}
}

void
agg_add(struct agg *a, const struct ruleset *rs, const struct post *p,
    int64_t t_ms, const struct match_result *res)
{
	int64_t t_s = t_ms / 1000 - (t_ms < 0 && t_ms % 1000 ? 1 : 0);
	int64_t b = bucket_of(a, t_s);
	struct cand c = { p, NULL, 0, NULL };
	struct agg_entry *e;
	size_t i, j, ci;

	a->posts++;
	if (rs != a->crs) {
		tcache_drop(a);
		a->crs = rs;
		a->ntc = rs->ntopics;
		a->crs_nkeywords = rs->nkeywords;
		a->tc = xcalloc(a->ntc + 1, sizeof *a->tc);
	}
	/* the topics' cache entries lie apart: fetch them all at once */
	for (i = 0; i < res->ntopics; i++)
		__builtin_prefetch(&a->tc[res->topics[i].topic]);
	for (i = 0; i < res->ntopics; i++) {
		const struct rule_topic *t = &rs->topics[res->topics[i].topic];
		struct tcache *tc = &a->tc[res->topics[i].topic];

		if (tc->id == NULL)
			tcache_fill(a, t, tc);
		if (i + 1 < res->ntopics)
			__builtin_prefetch(a->tc[res->topics[i + 1].topic].kws);
		e = entry(a, AGG_COUNT, tc->id, b, NULL, NULL, NULL);
		e->count++;
		ci = (size_t)(e - a->entries);	/* entries may move below */
		for (j = 0; j < res->topics[i].nkws; j++) {
			uint32_t k = res->topics[i].kws[j];

			if (tc->kws == NULL)
				tc->kws = xcalloc(t->nkws, sizeof *tc->kws);
			if (tc->kws[k] == NULL)
				tc->kws[k] = intern(a, t->kws[k].display,
				    strlen(t->kws[k].display));
			entry(a, AGG_KEYWORD, tc->id, b, tc->kws[k], NULL,
			    NULL)->count++;
		}
		if (tc->by != NULL)
			add_count_by(a, t, tc, p, b);
		if (a->samples_per_bucket > 0)
			offer_sample(a, ci, t_ms, &c);
	}
	sjson_unref(c.json);
}

const struct agg_entry *
agg_entries(const struct agg *a, size_t *n)
{
	*n = a->nentries;
	return a->entries;
}

const struct agg_sample *
agg_samples(const struct agg *a, size_t *n)
{
	*n = a->nsamples;
	return a->samples;
}

size_t
agg_posts(const struct agg *a)
{
	return a->posts;
}

size_t
agg_size(const struct agg *a)
{
	return a->nentries + a->nsamples + a->ds.n;
}

void
agg_clear(struct agg *a)
{
	a->nentries = 0;
	if (a->slots != NULL)
		memset(a->slots, 0, a->nslots * sizeof *a->slots);
	free_samples(a);
	if (a->nstrs_used > AGG_INTERN_KEEP + (a->crs == NULL ? 0 :
	    2 * (a->ntc + a->crs_nkeywords)))
		free_strings(a);
	a->all_last = 0;
	a->posts = 0;
	a->ds.n = 0;
	if (a->ds.slots != NULL)
		memset(a->ds.slots, 0, a->ds.nslots * sizeof *a->ds.slots);
}

void
agg_merge(struct agg *a, struct agg *b)
{
	size_t i;

	for (i = 0; i < b->nentries; i++) {
		const struct agg_entry *e = &b->entries[i];
		const char *topic, *aux, *aux2;

		topic = intern(a, e->topic, strlen(e->topic));
		aux = e->aux ? intern(a, e->aux, strlen(e->aux)) : NULL;
		aux2 = e->aux2 ? intern(a, e->aux2, strlen(e->aux2)) : NULL;
		entry(a, (int)e->kind, topic, e->bucket, aux, aux2, NULL)->count +=
		    e->count;
	}
	/* b's samples, each under the count entry of its topic and bucket
	 * (merged above: a sample's post was counted) */
	for (i = 0; i < b->nsamples; i++) {
		struct agg_sample *s = &b->samples[i];
		struct cand c = { NULL, s->json, s->json_len, s->json };
		struct agg_entry *e;

		s->json = NULL;		/* its reference is c's */
		e = entry(a, AGG_COUNT, intern(a, s->topic, strlen(s->topic)),
		    s->bucket, NULL, NULL, NULL);
		offer_sample(a, (size_t)(e - a->entries), s->time_ms, &c);
		sjson_unref(c.json);
	}
	for (i = 0; i < b->ds.n; i++) {
		const struct agg_distinct *d = &b->ds.v[i];

		dset_add(&a->ds, intern(a, d->topic, strlen(d->topic)), d->hour,
		    d->kind, d->elem);
	}
	a->posts += b->posts;
	agg_clear(b);
}

void
agg_add_distinct(struct agg *a, const struct ruleset *rs, int64_t t_ms,
    const struct match_result *res, const struct agg_keys *k)
{
	int64_t t_s = t_ms / 1000 - (t_ms < 0 && t_ms % 1000 ? 1 : 0);
	int64_t h = t_s / AGG_DISTINCT_S * AGG_DISTINCT_S;
	size_t i;

	if (t_s < 0 && h != t_s)
		h -= AGG_DISTINCT_S;
	for (i = 0; i < res->ntopics; i++) {
		struct tcache *tc = rs == a->crs ? &a->tc[res->topics[i].topic] :
		    NULL;
		const char *id = tc != NULL && tc->id != NULL ? tc->id :
		    intern(a, rs->topics[res->topics[i].topic].id,
		    strlen(rs->topics[res->topics[i].topic].id));

		if (k->has_author)
			dset_add(&a->ds, id, h, AGG_AUTHORS, k->author);
		dset_add(&a->ds, id, h, AGG_TEXTS, k->text);
	}
}

const struct agg_distinct *
agg_distincts(const struct agg *a, size_t *n)
{
	*n = a->ds.n;
	return a->ds.v;
}
