/*
 * prng.h - the project's one pseudo-random generator.
 *
 * xoshiro256** 1.0 (Blackman and Vigna, 2018; public domain reference at
 * https://prng.di.unimi.it/xoshiro256starstar.c), seeded by expanding a 64-bit
 * seed through splitmix64 (Steele, Lea and Flood, 2014), as its authors
 * recommend. Never libc rand(): every random choice of the project takes a
 * struct wl_rng that the caller seeded, so runs are reproducible.
 *
 * Streams: wl_rng_derive(seed, id) gives an independent seed for sub-stream
 * 'id' (the generator uses one per phase), so adding or changing one phase
 * never shifts the random choices of another.
 */
#ifndef WORKLOAD_PRNG_H
#define WORKLOAD_PRNG_H

#include <stdint.h>

struct wl_rng {
	uint64_t s[4];
};

/* splitmix64: advance *state and return the next output. */
static inline uint64_t wl_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed xoshiro256** with four splitmix64 outputs of 'seed' (never all zero). */
static inline void wl_rng_seed(struct wl_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = wl_splitmix64(&seed);
}

/* The seed of sub-stream 'id' of a spec seeded with 'seed'. */
static inline uint64_t wl_rng_derive(uint64_t seed, uint64_t id)
{
	uint64_t st = seed ^ (0x6a09e667f3bcc909ULL * (id + 1));

	wl_splitmix64(&st);
	return wl_splitmix64(&st);
}

static inline uint64_t wl_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: the next 64 random bits. */
static inline uint64_t wl_rng_next(struct wl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = wl_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = wl_rotl64(s[3], 45);
	return result;
}

/*
 * A number in [0, n), n >= 1, by Lemire's multiply-shift with rejection
 * ("Fast random integer generation in an interval", 2019): exactly uniform.
 */
static inline uint64_t wl_rng_below(struct wl_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)wl_rng_next(r) * n;
	uint64_t lo = (uint64_t)m;

	if (__builtin_expect(lo < n, 0)) {
		uint64_t t = -n % n;

		while (lo < t) {
			m = (unsigned __int128)wl_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* A double in [0, 1) with 53 random bits. */
static inline double wl_rng_double(struct wl_rng *r)
{
	return (double)(wl_rng_next(r) >> 11) * 0x1.0p-53;
}

#endif
