/*
 * discover.c — hashed significance of terms and pairs, candidates, stories.
 *
 * DESIGN.  Two cell tables (single terms; pairs of terms of one post) of
 * 2^k cells each; a term hashes to `hashes` cells of its table (double
 * hashing), like a count-min sketch.  A cell holds the count of its
 * current bucket and an exponentially weighted mean and variance of the
 * counts of its past buckets (alpha from the half-life).  Cells are
 * brought up to date lazily when touched: the count of the bucket they
 * last saw is folded in, then the buckets since with a count of zero, in
 * closed form (disc_ewm_zeros), so no pass over the tables is ever needed.
 * Every cell starts at zero with the engine, so the averages are divided
 * by 1 - (1 - alpha)^n after n buckets (the bias correction of a moving
 * average started at zero); nothing trends in the first bucket, and no
 * story forms in the first DISC_WARMUP buckets, while the deviations
 * rest on too few buckets.
 * A term's count is the smallest of its cells' counts and its significance
 * the smallest of their scores, disc_score(): count minus the mean (at
 * least the noise floor), over the deviation plus beta (the significance
 * of SigniTrend: Schubert, Weiler and Kriegel, KDD 2014).  Scores are
 * taken as posts arrive, so a burst is seen inside its bucket.
 *
 * Counts come from flushes (disc_flush.c): disc_merge() orders the
 * entries of one flush period by key, merges the entries of one key (from
 * several instances), and adds each key's count to its cells at once.
 * With every instance's list whole (no more keys in a flush than
 * flush_top), the merged list is the list one instance would have made of
 * all the posts, so the tables, candidates and stories are the same
 * however the posts were spread over instances.
 * Term strings exist only in the candidate table: a term or pair whose
 * significance reaches a quarter of the threshold after a merge takes an
 * entry (evicting the least busy of a few, a clock hand's scan: a
 * space-saving-like table), which keeps its string, its count in the
 * bucket and the merged evidence of its flushes (disc_flush.h): small
 * HyperLogLogs of the authors and texts of its posts, three sample posts
 * and the rule topics they matched.  While a candidate trends (threshold and min_posts)
 * stories are formed every check_ms: trending terms are joined when a
 * trending pair links them or when the pair table says most posts of the
 * rarer one also carry the other; each connected group is one story.  A
 * group that shares a term with a story of the last story_ttl, or one of
 * whose terms mostly comes with a term of such a story, is that story
 * (not shown again); any other is a new story, given to the callback.
 *
 * Memory: everything is allocated in disc_new(); disc_add() and
 * disc_merge() allocate nothing.  One thread owns an engine.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "disc_flush.h"
#include "discover.h"
#include "xmalloc.h"

#define DISC_TRENDING_MAX	64	/* trending candidates per check */
#define DISC_STORY_MEMBERS	16	/* terms remembered per story */
#define DISC_STORIES		256	/* stories remembered (story_ttl) */
#define DISC_EVICT_SCAN		16	/* entries a clock hand looks at */
#define DISC_WARMUP		4	/* buckets before the first story */
#define DISC_CO_SHARE		0.5	/* share of the rarer term's posts a
					 * pair needs to join two terms */

struct cell {
	float		mean;
	float		var;
	uint32_t	cnt;		/* in bucket bkt */
	uint32_t	bkt;		/* bucket number, modulo 2^32 */
};

struct table {
	struct cell	*c;
	uint64_t	 n;
};

enum { CAND_FREE, CAND_TERM = DISC_KEY_TERM, CAND_PAIR = DISC_KEY_PAIR };

struct cand {
	uint64_t	 hash;		/* of the term, or of the pair */
	uint64_t	 ha, hb;	/* a pair's terms (ha: a term's own) */
	uint8_t		 kind;		/* CAND_*, as DISC_KEY_* */
	uint32_t	 bkt;		/* the bucket cnt counts */
	int64_t		 cnt;		/* posts in bucket bkt */
	int64_t		 posts;		/* since it became a candidate */
	int64_t		 seen;		/* of those, with evidence in ev */
	double		 z;		/* at the last check */
	char		 a[SEG_MAX_TERM + 1], b[SEG_MAX_TERM + 1];
	struct disc_ev	 ev;
};

struct story {
	uint64_t	 members[DISC_STORY_MEMBERS];
	size_t		 nmembers;
	int64_t		 last_ms;	/* 0: free */
};

struct node {
	uint64_t	 h;
	const char	*s;
	double		 z;
	int		 parent;
	int		 main;		/* candidate index, busiest */
};

/* One formation of stories: the trending candidates and their terms. */
struct check {
	struct node	 nodes[DISC_TRENDING_MAX * 2];
	int		 nnodes;
	int		 trending[DISC_TRENDING_MAX];
	int		 ntrending;
};

struct discover {
	struct disc_opts	 o;
	struct check		 chk;
	double			 alpha;
	disc_story_fn		 fn;
	void			*arg;
	struct table		 terms, pairs;
	struct cand		*cand;
	size_t			 ncand;
	int32_t			*index;		/* hash → cand, -1 empty */
	size_t			 index_mask;
	size_t			 hand;
	struct story		*stories;
	struct dflush		*own;		/* disc_add()'s instance */
	int64_t			 own_period;	/* of its flush */
	int64_t			 own_last_ms;
	bool			 own_started;
	uint32_t		 now_b;		/* current bucket */
	uint32_t		 first_b;	/* the first post's */
	double			 warm;		/* 1 - (1 - alpha)^buckets since */
	bool			 warmed;	/* DISC_WARMUP buckets since */
	bool			 started;
	bool			 hot;		/* a candidate trends */
	int64_t			 last_ms;	/* latest post time */
	int64_t			 next_check_ms;
	size_t			 memory;
};

void
disc_opts_default(struct disc_opts *o)
{
	memset(o, 0, sizeof *o);
	o->bucket_ms = 3600 * 1000;
	o->half_life_ms = 24 * 3600 * 1000;
	o->check_ms = 5 * 60 * 1000;
	o->story_ttl_ms = 6 * 3600 * 1000;
	o->memory = 64u << 20;
	o->hashes = 3;
	o->candidates = 4096;
	o->threshold = 4;
	o->floor = 1;
	o->beta = 1;
	o->min_posts = 4;
	o->max_pairs = 28;
	o->flush_ms = 60 * 1000;
	o->flush_keys = 4096;
	o->flush_top = 4096;
}

/* ---- arithmetic --------------------------------------------------------- */

double
disc_score(double x, double mean, double var, double floor, double beta)
{
	return (x - (mean > floor ? mean : floor)) /
	    (sqrt(var > 0 ? var : 0) + beta);
}

void
disc_ewm_step(double *mean, double *var, double x, double alpha)
{
	double delta = x - *mean;

	*mean += alpha * delta;
	*var = (1 - alpha) * (*var + alpha * delta * delta);
}

/*
 * k zero counts: the mean decays by q = (1 - alpha)^k, and summing the
 * variance's k steps (delta_t = -mean_t) gives
 * var_k = q * (var + mean^2 * (1 - q)).
 */
void
disc_ewm_zeros(double *mean, double *var, uint64_t k, double alpha)
{
	double q = pow(1 - alpha, (double)k);

	*var = q * (*var + *mean * *mean * (1 - q));
	*mean *= q;
}

void
disc_hll_add(struct disc_hll *h, uint64_t hash)
{
	uint64_t w = disc_mix64(hash);
	unsigned idx = (unsigned)(w >> 56);
	uint8_t rho = (uint8_t)(__builtin_clzll((w << 8) | 0x80) + 1);

	if (rho > h->reg[idx])
		h->reg[idx] = rho;
}

double
disc_hll_count(const struct disc_hll *h)
{
	const double m = 256, am = 0.7213 / (1 + 1.079 / 256);
	double sum = 0, e;
	unsigned i, zeros = 0;

	for (i = 0; i < 256; i++) {
		sum += ldexp(1.0, -(int)h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	e = am * m * m / sum;
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / zeros);
	return e;
}

/* ---- cells -------------------------------------------------------------- */

static struct cell *
cell_at(const struct table *t, uint64_t h, int i)
{
	uint64_t h2 = disc_mix64(h) | 1;

	return &t->c[(h + (uint64_t)i * h2) % t->n];
}

/* Brings a cell to bucket b: folds in its count and the empty buckets
 * between. */
static void
cell_advance(struct cell *c, uint32_t b, double alpha)
{
	double mean = c->mean, var = c->var;
	uint32_t k = b - c->bkt;

	if (k == 0 || k > UINT32_MAX / 2)
		return;		/* current, or a late post's older bucket */
	disc_ewm_step(&mean, &var, (double)c->cnt, alpha);
	if (k > 1)
		disc_ewm_zeros(&mean, &var, k - 1, alpha);
	c->mean = (float)mean;
	c->var = (float)var;
	c->cnt = 0;
	c->bkt = b;
}

/* The significance of a key in bucket b, and its count (the smallest
 * over its cells); read only. */
static double
key_score(const struct discover *d, const struct table *t, uint64_t h,
    uint32_t b, int64_t *count)
{
	double z = INFINITY, s, mean, var, x;
	int64_t n = INT64_MAX;
	int i;

	if (d->warm <= 0) {		/* the first bucket: no past yet */
		*count = 0;
		return -INFINITY;
	}

	for (i = 0; i < d->o.hashes; i++) {
		const struct cell *c = cell_at(t, h, i);
		uint32_t k = b - c->bkt;

		mean = c->mean;
		var = c->var;
		x = c->cnt;
		if (k != 0 && k <= UINT32_MAX / 2) {
			disc_ewm_step(&mean, &var, x, d->alpha);
			if (k > 1)
				disc_ewm_zeros(&mean, &var, k - 1, d->alpha);
			x = 0;
		}
		/* every cell started at 0 with the engine: correct the
		 * moving averages' bias towards that start */
		mean /= d->warm;
		var /= d->warm;
		s = disc_score(x, mean, var, d->o.floor, d->o.beta);
		if (s < z)
			z = s;
		if ((int64_t)x < n)
			n = (int64_t)x;
	}
	*count = n;
	return z;
}

static void
key_count(struct discover *d, struct table *t, uint64_t h, int64_t n)
{
	struct cell *c;
	int i;

	for (i = 0; i < d->o.hashes; i++) {
		c = cell_at(t, h, i);
		cell_advance(c, d->now_b, d->alpha);
		c->cnt = (uint64_t)c->cnt + (uint64_t)n < UINT32_MAX ?
		    c->cnt + (uint32_t)n : UINT32_MAX;
	}
}

/* ---- candidates --------------------------------------------------------- */

static size_t
index_slot(const struct discover *d, uint64_t h)
{
	size_t i;

	for (i = h & d->index_mask; d->index[i] != -1;
	    i = (i + 1) & d->index_mask)
		if (d->cand[d->index[i]].hash == h)
			return i;
	return i;
}

static struct cand *
cand_find(const struct discover *d, uint64_t h)
{
	size_t i = index_slot(d, h);

	return d->index[i] == -1 ? NULL : &d->cand[d->index[i]];
}

/* Removes h from the index (linear probing: the cluster after it moves
 * back into the hole). */
static void
index_remove(struct discover *d, uint64_t h)
{
	size_t i = index_slot(d, h), j, want;

	if (d->index[i] == -1)
		return;
	for (j = i;;) {
		d->index[i] = -1;
		for (;;) {
			j = (j + 1) & d->index_mask;
			if (d->index[j] == -1)
				return;
			want = d->cand[d->index[j]].hash & d->index_mask;
			/* j's entry may fill i when want is not in (i, j] */
			if (i <= j ? (want <= i || want > j) :
			    (want <= i && want > j))
				break;
		}
		d->index[i] = d->index[j];
		i = j;
	}
}

/* The entry to reuse: a free one, or one not counted in this bucket, or
 * the least busy of DISC_EVICT_SCAN from the clock hand. */
static struct cand *
cand_victim(struct discover *d)
{
	struct cand *best = NULL, *c;
	size_t i;

	for (i = 0; i < DISC_EVICT_SCAN; i++) {
		c = &d->cand[d->hand];
		d->hand = (d->hand + 1) % d->ncand;
		if (c->kind == CAND_FREE || c->bkt != d->now_b)
			return c;
		if (best == NULL || c->cnt < best->cnt)
			best = c;
	}
	return best;
}

static struct cand *
cand_insert(struct discover *d, const struct disc_entry *e, int64_t count)
{
	struct cand *c = cand_victim(d);
	size_t i;

	if (c->kind != CAND_FREE)
		index_remove(d, c->hash);
	memset(c, 0, sizeof *c);
	c->hash = e->hash;
	c->kind = e->kind;
	c->ha = e->ha;
	c->hb = e->hb;
	memcpy(c->a, e->a, sizeof c->a);
	memcpy(c->b, e->b, sizeof c->b);
	c->bkt = d->now_b;
	/* the posts of earlier flushes were counted but not seen here */
	c->cnt = count > e->count ? count - e->count : 0;
	c->posts = c->cnt;
	disc_ev_reset(&c->ev);
	i = index_slot(d, e->hash);
	d->index[i] = (int32_t)(c - d->cand);
	return c;
}

/* Counts one key of a flush, and follows it as a candidate when it is or
 * becomes one. */
static void
entry_apply(struct discover *d, const struct disc_entry *e)
{
	struct table *t = e->kind == CAND_TERM ? &d->terms : &d->pairs;
	struct cand *c;
	int64_t n;
	double z;

	key_count(d, t, e->hash, e->count);
	z = key_score(d, t, e->hash, d->now_b, &n);
	if ((c = cand_find(d, e->hash)) == NULL) {
		if (z < d->o.threshold / 4 || n < 2)
			return;
		c = cand_insert(d, e, n);
	}
	if (c->bkt != d->now_b) {
		c->bkt = d->now_b;
		c->cnt = 0;
	}
	c->cnt += e->count;
	c->posts += e->count;
	c->seen += e->count;
	disc_ev_merge(&c->ev, &e->ev);
	if (z >= d->o.threshold && c->cnt >= d->o.min_posts)
		d->hot = true;
}

/* ---- stories ------------------------------------------------------------ */

static int
node_of(struct check *k, uint64_t h, const char *s)
{
	int i;

	for (i = 0; i < k->nnodes; i++)
		if (k->nodes[i].h == h)
			return i;
	k->nodes[i].h = h;
	k->nodes[i].s = s;
	k->nodes[i].z = -INFINITY;
	k->nodes[i].parent = i;
	k->nodes[i].main = -1;
	k->nnodes++;
	return i;
}

static int
node_root(struct check *k, int i)
{
	while (k->nodes[i].parent != i)
		i = k->nodes[i].parent = k->nodes[k->nodes[i].parent].parent;
	return i;
}

static void
node_join(struct check *k, int a, int b)
{
	a = node_root(k, a);
	b = node_root(k, b);
	if (a != b)
		k->nodes[b].parent = a;
}

/* A node's busiest candidate (a term's own before a pair's). */
static void
node_note(const struct discover *d, struct check *k, int n, int ci, double z)
{
	struct node *nd = &k->nodes[n];
	const struct cand *c = &d->cand[ci], *m;

	if (z > nd->z)
		nd->z = z;
	m = nd->main >= 0 ? &d->cand[nd->main] : NULL;
	if (m == NULL || (c->kind == CAND_TERM && m->kind != CAND_TERM) ||
	    (c->kind == m->kind && c->cnt > m->cnt))
		nd->main = ci;
}

/* The trending candidates, most significant kept when there are more. */
static void
collect_trending(struct discover *d, struct check *k)
{
	struct cand *c;
	int64_t n;
	size_t i;
	int j, low;

	k->ntrending = 0;
	for (i = 0; i < d->ncand; i++) {
		c = &d->cand[i];
		if (c->kind == CAND_FREE || c->bkt != d->now_b ||
		    c->cnt < d->o.min_posts)
			continue;
		c->z = key_score(d, c->kind == CAND_TERM ? &d->terms :
		    &d->pairs, c->hash, d->now_b, &n);
		if (c->z < d->o.threshold)
			continue;
		if (k->ntrending < DISC_TRENDING_MAX) {
			k->trending[k->ntrending++] = (int)i;
			continue;
		}
		for (j = 1, low = 0; j < k->ntrending; j++)
			if (d->cand[k->trending[j]].z <
			    d->cand[k->trending[low]].z)
				low = j;
		if (d->cand[k->trending[low]].z < c->z)
			k->trending[low] = (int)i;
	}
}

/* Trending terms and pairs as nodes, joined by trending pairs and by
 * pairs most posts of the rarer term share. */
static void
cluster(struct discover *d, struct check *k)
{
	const struct cand *c, *x, *y;
	int i, j, a, b;
	int64_t n;

	k->nnodes = 0;
	for (i = 0; i < k->ntrending; i++) {
		c = &d->cand[k->trending[i]];
		a = node_of(k, c->ha, c->a);
		node_note(d, k, a, k->trending[i], c->z);
		if (c->kind == CAND_PAIR) {
			b = node_of(k, c->hb, c->b);
			node_note(d, k, b, k->trending[i], c->z);
			node_join(k, a, b);
		}
	}
	for (i = 0; i < k->nnodes; i++) {
		for (j = i + 1; j < k->nnodes; j++) {
			x = &d->cand[k->nodes[i].main];
			y = &d->cand[k->nodes[j].main];
			(void)key_score(d, &d->pairs,
			    disc_pair_hash(k->nodes[i].h, k->nodes[j].h), d->now_b,
			    &n);
			if ((double)n >= DISC_CO_SHARE *
			    (double)(x->cnt < y->cnt ? x->cnt : y->cnt))
				node_join(k, i, j);
		}
	}
}

/* Whether most posts of node j in this bucket also carry term h. */
static bool
node_goes_with(const struct discover *d, const struct check *k, int j,
    uint64_t h)
{
	int64_t n;

	(void)key_score(d, &d->pairs, disc_pair_hash(k->nodes[j].h, h), d->now_b,
	    &n);
	return (double)n >= DISC_CO_SHARE *
	    (double)d->cand[k->nodes[j].main].cnt;
}

/* The live story group root belongs to: one that has a term of the group,
 * or a term most posts of one of the group's terms carry. */
static struct story *
story_match(struct discover *d, const struct check *k, int root)
{
	struct story *s;
	size_t i, m;
	int j, pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < DISC_STORIES; i++) {
			s = &d->stories[i];
			if (s->last_ms == 0 ||
			    s->last_ms < d->last_ms - d->o.story_ttl_ms)
				continue;
			for (m = 0; m < s->nmembers; m++)
				for (j = 0; j < k->nnodes; j++)
					if (k->nodes[j].parent == root &&
					    (pass == 0 ? k->nodes[j].h ==
					    s->members[m] : node_goes_with(d,
					    k, j, s->members[m])))
						return s;
		}
	}
	return NULL;
}

static void
story_remember(struct discover *d, struct story *s, const struct check *k,
    int root)
{
	size_t m;
	int j;

	for (j = 0; j < k->nnodes; j++) {
		if (k->nodes[j].parent != root ||
		    s->nmembers == DISC_STORY_MEMBERS)
			continue;
		for (m = 0; m < s->nmembers; m++)
			if (s->members[m] == k->nodes[j].h)
				break;
		if (m == s->nmembers)
			s->members[s->nmembers++] = k->nodes[j].h;
	}
	s->last_ms = d->last_ms;
}

static struct story *
story_new(struct discover *d)
{
	struct story *s, *old = &d->stories[0];
	size_t i;

	for (i = 0; i < DISC_STORIES; i++) {
		s = &d->stories[i];
		if (s->last_ms == 0 ||
		    s->last_ms < d->last_ms - d->o.story_ttl_ms)
			return memset(s, 0, sizeof *s);
		if (s->last_ms < old->last_ms)
			old = s;
	}
	return memset(old, 0, sizeof *old);
}

/* Fills the story of group root (its nodes' parent is root) and shows it. */
static void
story_show(struct discover *d, const struct check *k, int root)
{
	struct disc_story st;
	const struct cand *main = NULL, *c;
	int order[DISC_TRENDING_MAX * 2] = { 0 }, n = 0, i, j, t;
	size_t q;
	uint64_t id;

	memset(&st, 0, sizeof st);
	for (i = 0; i < k->nnodes; i++) {
		if (k->nodes[i].parent != root)
			continue;
		for (j = n++; j > 0 && k->nodes[order[j - 1]].z <
		    k->nodes[i].z; j--)
			order[j] = order[j - 1];
		order[j] = i;
		c = &d->cand[k->nodes[i].main];
		if (main == NULL || (c->kind == CAND_TERM &&
		    main->kind != CAND_TERM) || (c->kind == main->kind &&
		    c->posts > main->posts))
			main = c;
	}
	if (main == NULL)
		return;
	st.first_seen_ms = INT64_MAX;
	for (i = 0; i < n; i++) {
		c = &d->cand[k->nodes[order[i]].main];
		if (c->ev.first_ms < st.first_seen_ms)
			st.first_seen_ms = c->ev.first_ms;
		if (st.nterms < DISC_STORY_TERMS)
			st.terms[st.nterms++] = k->nodes[order[i]].s;
		for (t = 0; t < c->ev.ntopics; t++) {
			for (q = 0; q < st.ntopics; q++)
				if (strcmp(st.topics[q], c->ev.topics[t]) == 0)
					break;
			if (q == st.ntopics && st.ntopics < DISC_TOPICS)
				st.topics[st.ntopics++] = c->ev.topics[t];
		}
	}
	st.detected_ms = d->last_ms;
	st.score = k->nodes[order[0]].z;
	st.posts = main->posts;
	st.seen = main->seen;
	st.authors = main->ev.authored == 0 ? -1 :
	    (int64_t)llround(disc_hll_count(&main->ev.authors));
	if (st.authors > main->ev.authored)
		st.authors = main->ev.authored;
	st.texts = (int64_t)llround(disc_hll_count(&main->ev.texts));
	if (st.texts > main->seen)
		st.texts = main->seen;
	for (q = 0; q < main->ev.nsamples; q++)
		st.samples[st.nsamples++] = main->ev.samples[q];
	id = disc_mix64(k->nodes[order[0]].h ^ (uint64_t)st.first_seen_ms);
	snprintf(st.id, sizeof st.id, "%016llx", (unsigned long long)id);
	d->fn(d->arg, &st);
}

static void
check_stories(struct discover *d)
{
	struct check *k = &d->chk;
	struct story *s;
	int i;

	d->hot = false;
	if (!d->warmed)
		return;
	collect_trending(d, k);
	if (k->ntrending == 0)
		return;
	cluster(d, k);
	for (i = 0; i < k->nnodes; i++)
		k->nodes[i].parent = node_root(k, i);
	for (i = 0; i < k->nnodes; i++) {
		if (k->nodes[i].parent != i)
			continue;
		if ((s = story_match(d, k, i)) == NULL) {
			s = story_new(d);
			story_show(d, k, i);
		}
		story_remember(d, s, k, i);
		d->hot = true;		/* still trending: check again */
	}
}

/* ---- the engine --------------------------------------------------------- */

struct discover *
disc_new(const struct disc_opts *o, disc_story_fn fn, void *arg,
    char *errstr, size_t errsz)
{
	struct discover *d;
	size_t fixed, nindex, ncells;

	for (nindex = 16; nindex < o->candidates * 2; nindex *= 2)
		;
	fixed = sizeof *d + o->candidates * sizeof(struct cand) +
	    nindex * sizeof(int32_t) + DISC_STORIES * sizeof(struct story) +
	    (o->flush_ms > 0 ? dflush_memory(o) : 0);
	ncells = o->memory > fixed ? (o->memory - fixed) / 2 /
	    sizeof(struct cell) : 0;
	if (ncells < 1024 || o->candidates < 16 || o->hashes < 1 ||
	    o->hashes > 8 || o->bucket_ms <= 0 || o->half_life_ms <= 0 ||
	    o->flush_ms < 0 || (o->flush_ms > 0 && (o->flush_keys < 1 ||
	    o->flush_top < 1))) {
		snprintf(errstr, errsz, "discovery: %zu bytes cannot hold %zu "
		    "candidates and two tables of 1024 cells", o->memory,
		    o->candidates);
		return NULL;
	}
	d = xcalloc(1, sizeof *d);
	d->o = *o;
	d->alpha = 1 - exp2(-(double)o->bucket_ms / (double)o->half_life_ms);
	d->fn = fn;
	d->arg = arg;
	d->terms.n = d->pairs.n = ncells;
	d->terms.c = xcalloc(ncells, sizeof(struct cell));
	d->pairs.c = xcalloc(ncells, sizeof(struct cell));
	d->ncand = o->candidates;
	d->cand = xcalloc(d->ncand, sizeof *d->cand);
	d->index = xmalloc(nindex * sizeof *d->index);
	memset(d->index, 0xff, nindex * sizeof *d->index);
	d->index_mask = nindex - 1;
	d->stories = xcalloc(DISC_STORIES, sizeof *d->stories);
	if (o->flush_ms > 0)
		d->own = dflush_new(o);
	d->memory = fixed + 2 * ncells * sizeof(struct cell);
	return d;
}

void
disc_free(struct discover *d)
{
	if (d == NULL)
		return;
	free(d->terms.c);
	free(d->pairs.c);
	free(d->cand);
	free(d->index);
	free(d->stories);
	dflush_free(d->own);
	free(d);
}

size_t
disc_memory(const struct discover *d)
{
	return d->memory;
}

/* Brings the scorer to bucket b (the old bucket has its last word when
 * a story may form in it); an older bucket changes nothing. */
static void
bucket_reach(struct discover *d, uint32_t b, int64_t now_ms)
{
	if (!d->started) {
		d->started = true;
		d->now_b = d->first_b = b;
		d->last_ms = now_ms;
		d->next_check_ms = now_ms;
	} else if (b != d->now_b && b - d->now_b < UINT32_MAX / 2) {
		if (d->hot)
			check_stories(d);
		d->now_b = b;
		d->warm = 1 - pow(1 - d->alpha, (double)(b - d->first_b));
		d->warmed = b - d->first_b >= DISC_WARMUP;
	}
}

static bool
same_key(const struct disc_entry *x, const struct disc_entry *y)
{
	return x->bkt == y->bkt && x->kind == y->kind && x->hash == y->hash;
}

void
disc_merge(struct discover *d, struct disc_entry **v, size_t n,
    int64_t now_ms)
{
	size_t i, j;

	qsort(v, n, sizeof *v, disc_entry_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_key(v[i], v[j]); j++) {
			v[i]->count += v[j]->count;
			disc_ev_merge(&v[i]->ev, &v[j]->ev);
		}
		bucket_reach(d, v[i]->bkt, now_ms);
		entry_apply(d, v[i]);
	}
	if (!d->started)
		return;
	if (now_ms > d->last_ms)
		d->last_ms = now_ms;
	if (d->hot && d->last_ms >= d->next_check_ms) {
		check_stories(d);
		d->next_check_ms = d->last_ms + d->o.check_ms;
	}
}

static int64_t
period_of(int64_t ms, int64_t period_ms)
{
	return ms / period_ms - (ms < 0 && ms % period_ms != 0);
}

static void
own_flush(struct discover *d)
{
	struct disc_entry **v;
	size_t n = dflush_take(d->own, &v);

	disc_merge(d, v, n, d->own_last_ms);
}

void
disc_add(struct discover *d, const struct disc_post *p)
{
	int64_t period = period_of(p->time_ms, d->o.flush_ms);

	if (d->own_started && period > d->own_period)
		own_flush(d);
	if (!d->own_started || period > d->own_period)
		d->own_period = period;
	if (!d->own_started || p->time_ms > d->own_last_ms)
		d->own_last_ms = p->time_ms;
	d->own_started = true;
	dflush_add(d->own, p);
}

void
disc_finish(struct discover *d)
{
	if (d->own_started)
		own_flush(d);
	if (d->started)
		check_stories(d);
}

void
disc_story_json(const struct disc_story *s, struct jsonw *w)
{
	char t[40];
	size_t i;

	jsonw_rawz(w, "{");
	jsonw_key(w, "type");
	jsonw_strz(w, "emerging");
	jsonw_rawz(w, ",");
	jsonw_key(w, "id");
	jsonw_strz(w, s->id);
	jsonw_rawz(w, ",");
	jsonw_key(w, "detected");
	clock_rfc3339_ms(s->detected_ms, t, sizeof t);
	jsonw_strz(w, t);
	jsonw_rawz(w, ",");
	jsonw_key(w, "first_seen");
	clock_rfc3339_ms(s->first_seen_ms, t, sizeof t);
	jsonw_strz(w, t);
	jsonw_rawz(w, ",");
	jsonw_key(w, "terms");
	jsonw_rawz(w, "[");
	for (i = 0; i < s->nterms; i++) {
		if (i > 0)
			jsonw_rawz(w, ",");
		jsonw_strz(w, s->terms[i]);
	}
	jsonw_rawz(w, "],");
	jsonw_key(w, "score");
	jsonw_double(w, s->score);
	jsonw_rawz(w, ",");
	jsonw_key(w, "posts");
	jsonw_int(w, s->posts);
	jsonw_rawz(w, ",");
	jsonw_key(w, "seen");
	jsonw_int(w, s->seen);
	jsonw_rawz(w, ",");
	jsonw_key(w, "authors");
	if (s->authors < 0)
		jsonw_rawz(w, "null");
	else
		jsonw_int(w, s->authors);
	jsonw_rawz(w, ",");
	jsonw_key(w, "texts");
	jsonw_int(w, s->texts);
	jsonw_rawz(w, ",");
	jsonw_key(w, "duplicate_share");
	jsonw_double(w, s->seen > 0 ? 1 - (double)s->texts /
	    (double)s->seen : 0);
	jsonw_rawz(w, ",");
	jsonw_key(w, "samples");
	jsonw_rawz(w, "[");
	for (i = 0; i < s->nsamples; i++) {
		if (i > 0)
			jsonw_rawz(w, ",");
		jsonw_strz(w, s->samples[i]);
	}
	jsonw_rawz(w, "],");
	jsonw_key(w, "topics");
	jsonw_rawz(w, "[");
	for (i = 0; i < s->ntopics; i++) {
		if (i > 0)
			jsonw_rawz(w, ",");
		jsonw_strz(w, s->topics[i]);
	}
	jsonw_rawz(w, "]}");
}
