/*
 * disc_flush.c — the terms and pairs of one flush, with their evidence.
 *
 * DESIGN.  A flush's keys (a term, or a pair of terms of one post, in one
 * discovery bucket) live in an array of flush_keys entries found through
 * an open-addressing index of at least twice as many slots; nothing is
 * ever removed until dflush_take() empties the whole table, so the index
 * needs no deletion.  Each post adds one to each of its keys and offers
 * its evidence: its author and text (a set of terms: the same words in
 * another order, or with another URL, are the same text) to two small
 * HyperLogLogs, its text as a sample, the rule topics it matched.  Samples
 * and topics are kept by a total order (the earliest post of each text;
 * the least topic names) and HyperLogLogs by register maxima, so merging
 * evidence is exact: disc_ev_merge(x, y) is what one table fed with the
 * posts of both would hold.  dflush_take() picks the flush_top busiest
 * keys (count, then the key, so the choice does not depend on the order
 * posts came in) and sorts them by key.  Allocation happens in
 * dflush_new() only.  One thread owns a struct dflush.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "disc_flush.h"
#include "xmalloc.h"

struct dflush {
	struct disc_opts	  o;
	struct disc_entry	 *e;		/* flush_keys */
	struct disc_entry	**out;		/* dflush_take()'s list */
	size_t			  n;
	int32_t			 *index;	/* → e, -1 empty */
	size_t			  index_mask;
	uint64_t		  dropped;
};

uint64_t
disc_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t
disc_pair_hash(uint64_t a, uint64_t b)
{
	uint64_t lo = a < b ? a : b, hi = a ^ b ^ lo;

	return disc_mix64(lo * 0x9e3779b97f4a7c15ULL + hi);
}

uint32_t
disc_bucket_of(int64_t ms, int64_t bucket_ms)
{
	int64_t b = ms / bucket_ms;

	if (ms < 0 && ms % bucket_ms != 0)
		b--;
	return (uint32_t)b;
}

static size_t
index_slots(size_t keys)
{
	size_t n;

	for (n = 16; n < keys * 2; n *= 2)
		;
	return n;
}

size_t
dflush_memory(const struct disc_opts *o)
{
	return sizeof(struct dflush) + o->flush_keys *
	    (sizeof(struct disc_entry) + sizeof(struct disc_entry *)) +
	    index_slots(o->flush_keys) * sizeof(int32_t);
}

struct dflush *
dflush_new(const struct disc_opts *o)
{
	struct dflush *f = xcalloc(1, sizeof *f);
	size_t slots = index_slots(o->flush_keys);

	f->o = *o;
	f->e = xcalloc(o->flush_keys, sizeof *f->e);
	f->out = xcalloc(o->flush_keys, sizeof *f->out);
	f->index = xmalloc(slots * sizeof *f->index);
	memset(f->index, 0xff, slots * sizeof *f->index);
	f->index_mask = slots - 1;
	return f;
}

void
dflush_free(struct dflush *f)
{
	if (f == NULL)
		return;
	free(f->e);
	free(f->out);
	free(f->index);
	free(f);
}

uint64_t
dflush_dropped(const struct dflush *f)
{
	return f->dropped;
}

/* ---- evidence ----------------------------------------------------------- */

void
disc_ev_reset(struct disc_ev *ev)
{
	/* the sample and topic texts past nsamples and ntopics are never
	 * read: only the rest is cleared (a flush clears one per key) */
	memset(ev, 0, offsetof(struct disc_ev, samples));
	ev->first_ms = INT64_MAX;
}

static void
copy_cut(char *dst, size_t cap, const char *s, size_t len)
{
	/* cut at a character boundary */
	if (len >= cap) {
		len = cap - 1;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* The order samples are kept by: time, text hash, then the bytes. */
static int
sample_cmp(int64_t ms, uint64_t h, const char *s, const struct disc_ev *ev,
    int i)
{
	if (ms != ev->sample_ms[i])
		return ms < ev->sample_ms[i] ? -1 : 1;
	if (h != ev->sample_h[i])
		return h < ev->sample_h[i] ? -1 : 1;
	return strcmp(s, ev->samples[i]);
}

/* Keeps the sample when it is among the DISC_SAMPLES least, one per text
 * hash.  s is cut already (DISC_SAMPLE_BYTES). */
static void
ev_offer_sample(struct disc_ev *ev, int64_t ms, uint64_t h, const char *s)
{
	int i, at;

	for (i = 0; i < ev->nsamples; i++) {
		if (ev->sample_h[i] != h)
			continue;
		if (sample_cmp(ms, h, s, ev, i) >= 0)
			return;
		/* the same text, earlier: drop the later copy */
		memmove(&ev->sample_ms[i], &ev->sample_ms[i + 1],
		    (size_t)(ev->nsamples - i - 1) * sizeof ev->sample_ms[0]);
		memmove(&ev->sample_h[i], &ev->sample_h[i + 1],
		    (size_t)(ev->nsamples - i - 1) * sizeof ev->sample_h[0]);
		memmove(ev->samples[i], ev->samples[i + 1],
		    (size_t)(ev->nsamples - i - 1) * sizeof ev->samples[0]);
		ev->nsamples--;
		break;
	}
	for (at = ev->nsamples; at > 0 && sample_cmp(ms, h, s, ev, at - 1) < 0;
	    at--)
		;
	if (at == DISC_SAMPLES)
		return;
	i = ev->nsamples < DISC_SAMPLES ? ev->nsamples++ : DISC_SAMPLES - 1;
	for (; i > at; i--) {
		ev->sample_ms[i] = ev->sample_ms[i - 1];
		ev->sample_h[i] = ev->sample_h[i - 1];
		memcpy(ev->samples[i], ev->samples[i - 1], sizeof ev->samples[0]);
	}
	ev->sample_ms[at] = ms;
	ev->sample_h[at] = h;
	memcpy(ev->samples[at], s, strlen(s) + 1);
}

/* Keeps the topic when it is among the DISC_TOPICS least names. */
static void
ev_offer_topic(struct disc_ev *ev, const char *t)
{
	int i, at, c;

	for (at = 0; at < ev->ntopics; at++) {
		if ((c = strcmp(t, ev->topics[at])) == 0)
			return;
		if (c < 0)
			break;
	}
	if (at == DISC_TOPICS)
		return;
	i = ev->ntopics < DISC_TOPICS ? ev->ntopics++ : DISC_TOPICS - 1;
	for (; i > at; i--)
		memcpy(ev->topics[i], ev->topics[i - 1], sizeof ev->topics[0]);
	memcpy(ev->topics[at], t, strlen(t) + 1);
}

void
disc_ev_merge(struct disc_ev *dst, const struct disc_ev *src)
{
	int i;

	dst->authored += src->authored;
	if (src->first_ms < dst->first_ms)
		dst->first_ms = src->first_ms;
	for (i = 0; i < 256; i++) {
		if (src->authors.reg[i] > dst->authors.reg[i])
			dst->authors.reg[i] = src->authors.reg[i];
		if (src->texts.reg[i] > dst->texts.reg[i])
			dst->texts.reg[i] = src->texts.reg[i];
	}
	for (i = 0; i < src->nsamples; i++)
		ev_offer_sample(dst, src->sample_ms[i], src->sample_h[i],
		    src->samples[i]);
	for (i = 0; i < src->ntopics; i++)
		ev_offer_topic(dst, src->topics[i]);
}

/* ---- keys --------------------------------------------------------------- */

static bool
entry_is(const struct disc_entry *e, int kind, uint64_t h, uint32_t bkt)
{
	return e->hash == h && e->bkt == bkt && e->kind == kind;
}

/* The entry of a key, made when new; NULL when the table is full. */
static struct disc_entry *
entry_get(struct dflush *f, int kind, uint64_t h, uint32_t bkt)
{
	struct disc_entry *e;
	size_t i;

	for (i = disc_mix64(h ^ bkt) & f->index_mask; f->index[i] != -1;
	    i = (i + 1) & f->index_mask)
		if (entry_is(&f->e[f->index[i]], kind, h, bkt))
			return &f->e[f->index[i]];
	if (f->n == f->o.flush_keys) {
		f->dropped++;
		return NULL;
	}
	f->index[i] = (int32_t)f->n;
	e = &f->e[f->n++];
	e->hash = h;
	e->bkt = bkt;
	e->kind = (uint8_t)kind;
	e->count = 0;
	e->a[0] = e->b[0] = '\0';
	disc_ev_reset(&e->ev);
	return e;
}

/* What one post offers each of its keys. */
struct offer {
	const struct disc_post	*p;
	uint32_t		 bkt;
	uint64_t		 author_h, text_h;
	char			 sample[DISC_SAMPLE_BYTES + 1];
};

static void
key_add(struct dflush *f, const struct offer *o, int kind, uint64_t h,
    const struct seg_term *x, const struct seg_term *y)
{
	const struct seg_result *r = o->p->terms;
	struct disc_entry *e;
	size_t i;

	if ((e = entry_get(f, kind, h, o->bkt)) == NULL)
		return;
	if (e->count++ == 0) {
		copy_cut(e->a, sizeof e->a, r->str + x->off, x->len);
		e->ha = x->hash;
		e->hb = y != NULL ? y->hash : 0;
		if (y != NULL)
			copy_cut(e->b, sizeof e->b, r->str + y->off, y->len);
	}
	if (o->p->time_ms < e->ev.first_ms)
		e->ev.first_ms = o->p->time_ms;
	disc_hll_add(&e->ev.texts, o->text_h);
	if (o->p->author != NULL) {
		e->ev.authored++;
		disc_hll_add(&e->ev.authors, o->author_h);
	}
	if (o->p->text != NULL)
		ev_offer_sample(&e->ev, o->p->time_ms, o->text_h, o->sample);
	for (i = 0; i < o->p->ntopics; i++)
		ev_offer_topic(&e->ev, o->p->topics[i]);
}

/* The pairs of a post's first terms, hashtags first (a hashtag often
 * closes a post), at most max_pairs of them. */
static void
add_pairs(struct dflush *f, const struct offer *o, size_t n)
{
	const struct seg_result *r = o->p->terms;
	const struct seg_term *x, *y, *lo;
	size_t order[DISC_TERMS_PER_POST], no = 0, i, j;
	int np = 0;

	for (i = 0; i < n; i++)
		if (r->v[i].kind == SEG_HASHTAG)
			order[no++] = i;
	for (i = 0; i < n; i++)
		if (r->v[i].kind != SEG_HASHTAG)
			order[no++] = i;
	for (j = 1; j < no && np < f->o.max_pairs; j++) {
		for (i = 0; i < j && np < f->o.max_pairs; i++, np++) {
			x = &r->v[order[i]];
			y = &r->v[order[j]];
			lo = x->hash < y->hash ? x : y;
			key_add(f, o, DISC_KEY_PAIR,
			    disc_pair_hash(x->hash, y->hash), lo,
			    lo == x ? y : x);
		}
	}
}

void
dflush_add(struct dflush *f, const struct disc_post *p)
{
	const struct seg_result *r = p->terms;
	struct offer o;
	size_t i, n;

	n = r->n < DISC_TERMS_PER_POST ? r->n : DISC_TERMS_PER_POST;
	if (n == 0)
		return;
	o.p = p;
	o.bkt = disc_bucket_of(p->time_ms, f->o.bucket_ms);
	o.text_h = 0;
	for (i = 0; i < n; i++)
		o.text_h += disc_mix64(r->v[i].hash);
	o.author_h = p->author != NULL ? seg_hash(p->author, p->author_len) :
	    0;
	o.sample[0] = '\0';
	if (p->text != NULL)
		copy_cut(o.sample, sizeof o.sample, p->text, p->text_len);
	for (i = 0; i < n; i++)
		key_add(f, &o, DISC_KEY_TERM, r->v[i].hash, &r->v[i], NULL);
	add_pairs(f, &o, n);
}

/* ---- the list ----------------------------------------------------------- */

int
disc_entry_cmp(const void *a, const void *b)
{
	const struct disc_entry *x = *(const struct disc_entry *const *)a;
	const struct disc_entry *y = *(const struct disc_entry *const *)b;

	if (x->bkt != y->bkt)
		return x->bkt < y->bkt ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return 0;
}

static int
cmp_busiest(const void *a, const void *b)
{
	const struct disc_entry *x = *(const struct disc_entry *const *)a;
	const struct disc_entry *y = *(const struct disc_entry *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return disc_entry_cmp(a, b);
}

size_t
dflush_take(struct dflush *f, struct disc_entry ***v)
{
	size_t i, n = f->n;

	for (i = 0; i < n; i++)
		f->out[i] = &f->e[i];
	if (n > f->o.flush_top) {
		qsort(f->out, n, sizeof *f->out, cmp_busiest);
		n = f->o.flush_top;
	}
	qsort(f->out, n, sizeof *f->out, disc_entry_cmp);
	/* empty the table; the entries stay until the next post */
	memset(f->index, 0xff, (f->index_mask + 1) * sizeof *f->index);
	f->n = 0;
	*v = f->out;
	return n;
}
