/*
 * hll.h — HyperLogLog counts as Redis computes them, in memory.
 *
 * backtest counts distinct authors and texts without Redis; to name the
 * same counts as the daemon (PFADD, then PFCOUNT of several keys), a
 * sketch here hashes an element, places it in a register and estimates
 * exactly as Redis does: 16384 registers, MurmurHash64A with Redis's
 * seed, and the estimator of Ertl ("New cardinality estimation algorithms
 * for HyperLogLog sketches", 2017) that Redis uses since 5.0.
 * tests/unit/test_hll.c holds it to counts taken from a Redis server.
 * A sketch starts sparse (a short sorted list) and becomes 16 KiB of
 * registers past HLL_SPARSE_MAX of them.  Not shared between threads.
 */
#ifndef TW_HLL_H
#define TW_HLL_H

#include <stddef.h>
#include <stdint.h>

#define HLL_REGISTERS		16384
#define HLL_SPARSE_MAX		512

struct hll {
	uint8_t		*dense;		/* HLL_REGISTERS, or NULL */
	uint32_t	*sparse;	/* register << 8 | value, sorted */
	size_t		 n, cap;
};

/* A zeroed struct hll is an empty sketch; hll_clear() frees it. */
void hll_clear(struct hll *h);
void hll_add(struct hll *h, const void *elem, size_t len);
/* The estimate of the union of n sketches (PFCOUNT of n keys). */
uint64_t hll_count(const struct hll *const *v, size_t n);

#endif
