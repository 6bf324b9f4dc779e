/*
 * hll.c — HyperLogLog in memory, counting as Redis's PFADD/PFCOUNT do.
 *
 * DESIGN: an element is hashed with MurmurHash64A (Austin Appleby's, public
 * domain; Redis's seed 0xadc83b19); the low 14 bits pick one of 16384
 * registers and the register keeps the largest "position of the first 1
 * bit" of the remaining 50 bits (plus one), as Redis's registers do.  A
 * count merges the registers of every sketch given (a maximum per
 * register), makes the histogram of register values, and applies Ertl's
 * estimator with the same constants and the same rounding, so that
 * backtest's numbers are the daemon's.  Registers are kept as a sorted
 * list of (register, value) until there are HLL_SPARSE_MAX of them, then
 * as an array.  Called by backtest's thread only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hll.h"
#include "xmalloc.h"

#define HLL_P		14
#define HLL_Q		(64 - HLL_P)

static uint64_t
murmur64a(const unsigned char *p, size_t len, uint64_t seed)
{
	const uint64_t m = UINT64_C(0xc6a4a7935bd1e995);
	uint64_t h = seed ^ ((uint64_t)len * m), k;
	size_t i, n8 = len - len % 8;

	for (i = 0; i < n8; i += 8) {
		k = (uint64_t)p[i] | (uint64_t)p[i + 1] << 8 |
		    (uint64_t)p[i + 2] << 16 | (uint64_t)p[i + 3] << 24 |
		    (uint64_t)p[i + 4] << 32 | (uint64_t)p[i + 5] << 40 |
		    (uint64_t)p[i + 6] << 48 | (uint64_t)p[i + 7] << 56;
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	if (len % 8 != 0) {
		for (i = len % 8; i > 0; i--)
			h ^= (uint64_t)p[n8 + i - 1] << (8 * (i - 1));
		h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

void
hll_clear(struct hll *h)
{
	free(h->dense);
	free(h->sparse);
	memset(h, 0, sizeof *h);
}

/* Sets register r to at least v. */
static void
reg_max(struct hll *h, uint32_t r, uint8_t v)
{
	size_t a = 0, b = h->n, m, i;

	if (h->dense != NULL) {
		if (h->dense[r] < v)
			h->dense[r] = v;
		return;
	}
	while (a < b) {
		m = a + (b - a) / 2;
		if (h->sparse[m] >> 8 < r)
			a = m + 1;
		else
			b = m;
	}
	if (a < h->n && h->sparse[a] >> 8 == r) {
		if ((h->sparse[a] & 0xff) < v)
			h->sparse[a] = r << 8 | v;
		return;
	}
	if (h->n >= HLL_SPARSE_MAX) {
		h->dense = xcalloc(HLL_REGISTERS, 1);
		for (i = 0; i < h->n; i++)
			h->dense[h->sparse[i] >> 8] = h->sparse[i] & 0xff;
		free(h->sparse);
		h->sparse = NULL;
		h->n = h->cap = 0;
		h->dense[r] = v;
		return;
	}
	h->sparse = xgrow(h->sparse, &h->cap, h->n + 1, sizeof *h->sparse);
	memmove(h->sparse + a + 1, h->sparse + a, (h->n - a) *
	    sizeof *h->sparse);
	h->sparse[a] = r << 8 | v;
	h->n++;
}

void
hll_add(struct hll *h, const void *elem, size_t len)
{
	uint64_t x = murmur64a(elem, len, UINT64_C(0xadc83b19));
	uint32_t r = (uint32_t)(x & (HLL_REGISTERS - 1));
	uint8_t v = 1;

	x >>= HLL_P;
	x |= UINT64_C(1) << HLL_Q;
	while ((x & 1) == 0) {
		v++;
		x >>= 1;
	}
	reg_max(h, r, v);
}

static double
ertl_sigma(double x)
{
	double y = 1, z = x, prev;

	if (x == 1.0)
		return INFINITY;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (prev != z);
	return z;
}

static double
ertl_tau(double x)
{
	double y = 1, z = 1 - x, prev;

	if (x == 0.0 || x == 1.0)
		return 0;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= pow(1 - x, 2) * y;
	} while (prev != z);
	return z / 3;
}

uint64_t
hll_count(const struct hll *const *v, size_t n)
{
	uint8_t *regs = xcalloc(HLL_REGISTERS, 1);
	int histo[HLL_Q + 2] = { 0 };
	double m = HLL_REGISTERS, z;
	size_t i, j;
	int k;

	for (i = 0; i < n; i++) {
		const struct hll *h = v[i];

		if (h->dense != NULL) {
			for (j = 0; j < HLL_REGISTERS; j++)
				if (regs[j] < h->dense[j])
					regs[j] = h->dense[j];
		} else {
			for (j = 0; j < h->n; j++) {
				uint32_t r = h->sparse[j] >> 8;

				if (regs[r] < (h->sparse[j] & 0xff))
					regs[r] = h->sparse[j] & 0xff;
			}
		}
	}
	for (j = 0; j < HLL_REGISTERS; j++)
		histo[regs[j]]++;
	free(regs);
	z = m * ertl_tau((m - histo[HLL_Q + 1]) / m);
	for (k = HLL_Q; k >= 1; k--) {
		z += histo[k];
		z *= 0.5;
	}
	z += m * ertl_sigma(histo[0] / m);
	return (uint64_t)llroundl(0.721347520444481703680 * m * m / z);
}
