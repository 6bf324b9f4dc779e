/*
 * strmap.h — a map from strings to indexes (open addressing).
 *
 * The keys are not copied: each must stay valid and unchanged while it is
 * in the map (typically a string held in the array the index points into).
 * Lookups and insertions are O(1) on average.  Not thread-safe: one map
 * per owner.
 */
#ifndef TIDEWATCH_STRMAP_H
#define TIDEWATCH_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#define STRMAP_NONE	SIZE_MAX	/* strmap_get: not in the map */

struct strmap_slot;

struct strmap {
	struct strmap_slot	*slots;
	size_t			 cap;	/* power of two, or 0 */
	size_t			 n;
};

/* FNV-1a of the n bytes at s. */
uint32_t strmap_hash(const char *s, size_t n);
/* 64-bit FNV-1a of n bytes (terms, authors: ids that may meet in a set). */
uint64_t strmap_hash64(const void *s, size_t n);
/* The index stored for key, or STRMAP_NONE. */
size_t strmap_get(const struct strmap *m, const char *key);
/* Stores key → idx (replacing the index of an equal key). */
void strmap_put(struct strmap *m, const char *key, size_t idx);
/* Empties the map, keeping its memory. */
void strmap_clear(struct strmap *m);
void strmap_free(struct strmap *m);

#endif
