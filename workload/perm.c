/*
 * perm.c - wl_perm, a keyed bijection of [0, n) without a table.
 *
 * A small block cipher on the smallest power-of-two domain 2^k >= n: each of
 * the four rounds xors a key, multiplies by an odd constant (a bijection mod
 * 2^k, carrying low bits up) and xorshifts right by about k/2 (carrying high
 * bits down, since the multiply alone never moves information downwards).
 * Every step is invertible on k bits, so the rounds permute [0, 2^k).
 *
 * Cycle walking turns that into a permutation of [0, n): apply the rounds
 * again while the value is >= n. Because 2^k < 2n, fewer than two rounds
 * are needed on average. The inverse walks the inverse rounds the same way.
 */
#include "workload/gen.h"

#define PERM_ROUNDS 4

/* The inverse of an odd a modulo 2^64, by Newton's iteration (5 steps: 64 bits). */
static uint64_t inverse_odd(uint64_t a)
{
	uint64_t x = a;		/* correct to 3 bits: a * a == 1 mod 8 */

	for (int i = 0; i < 5; i++)
		x *= 2 - a * x;
	return x;
}

void wl_perm_init(struct wl_perm *p, uint64_t n, struct wl_rng *rng)
{
	unsigned bits = 0;

	while (bits < 64 && (1ULL << bits) < n)
		bits++;
	p->n = n;
	p->mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	/* At least 1: a shift of 0 would turn x ^= x >> s into x = 0. */
	p->shift = bits ? (bits + 1) / 2 : 1;
	/* Always the same number of draws, so later draws do not depend on n. */
	for (int r = 0; r < PERM_ROUNDS; r++) {
		p->key[r] = wl_rng_next(rng) & p->mask;
		p->mul[r] = wl_rng_next(rng) | 1;
		p->inv[r] = inverse_odd(p->mul[r]);
	}
}

static inline uint64_t perm_rounds(const struct wl_perm *p, uint64_t x)
{
	for (int r = 0; r < PERM_ROUNDS; r++) {
		x ^= p->key[r];
		x = (x * p->mul[r]) & p->mask;
		x ^= x >> p->shift;
	}
	return x;
}

/* Undo x ^= x >> s on values of at most 64 bits: xor in y >> s, y >> 2s, ... */
static inline uint64_t unxorshift(uint64_t y, unsigned s)
{
	for (unsigned sh = s; sh < 64; sh *= 2)
		y ^= y >> sh;
	return y;
}

static inline uint64_t perm_unrounds(const struct wl_perm *p, uint64_t x)
{
	for (int r = PERM_ROUNDS - 1; r >= 0; r--) {
		x = unxorshift(x, p->shift);
		x = (x * p->inv[r]) & p->mask;
		x ^= p->key[r];
	}
	return x;
}

uint64_t wl_perm_apply(const struct wl_perm *p, uint64_t i)
{
	do
		i = perm_rounds(p, i);
	while (i >= p->n);
	return i;
}

uint64_t wl_perm_invert(const struct wl_perm *p, uint64_t y)
{
	do
		y = perm_unrounds(p, y);
	while (y >= p->n);
	return y;
}
