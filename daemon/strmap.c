/*
 * strmap.c — string → index map for the per-topic and per-key lookups of
 * the flush (store.c), the detector and backtest.
 *
 * DESIGN: one open-addressing table with linear probing, at most half
 * full; each slot holds the key's pointer (not a copy), its hash and the
 * index.  Keys are compared by hash first, then by strcmp.  There is no
 * removal: owners whose indexes move rebuild the map (strmap_clear and a
 * put per entry).  Used by one thread at a time, the owner's.
 */
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "xmalloc.h"

struct strmap_slot {
	const char	*key;	/* NULL: empty */
	uint32_t	 hash;
	size_t		 idx;
};

uint64_t
strmap_hash64(const void *s, size_t n)
{
	const unsigned char *b = s;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint32_t
strmap_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

/* The slot holding key, or the empty one where it would go. */
static struct strmap_slot *
find_slot(const struct strmap *m, const char *key, uint32_t h)
{
	size_t mask = m->cap - 1, i = h & mask;

	while (m->slots[i].key != NULL &&
	    (m->slots[i].hash != h || strcmp(m->slots[i].key, key) != 0))
		i = (i + 1) & mask;
	return &m->slots[i];
}

size_t
strmap_get(const struct strmap *m, const char *key)
{
	const struct strmap_slot *sl;

	if (m->n == 0)
		return STRMAP_NONE;
	sl = find_slot(m, key, strmap_hash(key, strlen(key)));
	return sl->key != NULL ? sl->idx : STRMAP_NONE;
}

static void
grow_table(struct strmap *m)
{
	struct strmap_slot *old = m->slots;
	size_t oldcap = m->cap, j;

	m->cap = m->cap ? m->cap * 2 : 64;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	for (j = 0; j < oldcap; j++)
		if (old[j].key != NULL)
			*find_slot(m, old[j].key, old[j].hash) = old[j];
	free(old);
}

void
strmap_put(struct strmap *m, const char *key, size_t idx)
{
	uint32_t h = strmap_hash(key, strlen(key));
	struct strmap_slot *sl;

	if ((m->n + 1) * 2 > m->cap)
		grow_table(m);
	sl = find_slot(m, key, h);
	if (sl->key == NULL) {
		sl->key = key;
		sl->hash = h;
		m->n++;
	}
	sl->idx = idx;
}

void
strmap_clear(struct strmap *m)
{
	if (m->cap > 0)
		memset(m->slots, 0, m->cap * sizeof *m->slots);
	m->n = 0;
}

void
strmap_free(struct strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}
