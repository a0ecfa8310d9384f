/*
 * bench_cache.c - how fast the generic set-associative structure
 * (simulator/cache.h) looks up and fills, the budget the timing simulator
 * builds on.
 *
 * Goal: 150 M accesses/s on one core for an L1D-sized and an STLB-sized
 * structure under LRU when most accesses hit. The simulator's own goal is
 * 5-30 M memory accesses/s, and an access that hits its L1 TLB and L1D costs
 * two lookups, with an STLB, page-walk caches, L2 and LLC on the misses: 150 M
 * lookups/s leaves that budget room for everything else. Streams with more
 * misses (each a lookup plus a fill that picks a victim) and the other
 * policies are reported for information.
 *
 * An access is sa_lookup() and, on a miss, sa_insert(), as a cache does.
 * Keys are drawn beforehand (uniform over a working set of a given multiple
 * of the capacity) so the generator is not timed; the hit count is printed so
 * the compiler cannot drop the work. Exit status is 0 even when a goal is
 * missed.
 *
 *   L1D	64 sets x 12 ways (48 KiB of 64-byte lines), physical line keys
 *   STLB	128 sets x 12 ways (1536 entries, ChampSim's), 4 KiB page keys
 *		of one PCID with TLB payloads
 *   LLC	32768 sets x 12 ways (24 MiB of lines, the default machine's),
 *		far beyond the host's caches: what one set visit costs in
 *		host cache misses (for information)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "simulator/cache.h"

#define GOAL_MPS	150.0
#define NKEYS		(1u << 20)	/* keys drawn per case, replayed */
#define ACCESSES	100000000ULL	/* per case */

struct bench_case {
	const char *name;
	uint32_t sets, ways;
	enum sa_repl repl;
	int tlb;		/* keys are sa_va_key() pages, else lines */
	double ws;		/* working set, in capacities */
	int has_goal;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void draw_keys(uint64_t *keys, const struct bench_case *bc, uint64_t seed)
{
	uint64_t span = (uint64_t)(bc->ws * bc->sets * bc->ways);
	struct wl_rng rng;

	wl_rng_seed(&rng, seed);
	for (uint32_t i = 0; i < NKEYS; i++) {
		uint64_t n = wl_rng_below(&rng, span);

		keys[i] = bc->tlb ? sa_va_key(0x7f0000000000ULL + (n << 12), 12)
				  : sa_line_key(0x100000000ULL + (n << 6));
	}
}

/* Seconds for ACCESSES accesses; *hits gets the hits. */
static double run(struct sa_cache *c, const uint64_t *keys, uint64_t *hits)
{
	uint64_t h = 0, payload = 0;
	double t0 = now_s();

	for (uint64_t n = 0; n < ACCESSES; n++) {
		uint64_t key = keys[n & (NKEYS - 1)];

		if (sa_lookup(c, key, 1, &payload))
			h++;
		else
			sa_insert(c, key, 1, sa_tlb_payload(key << 12, 12, SA_PERM_READ), NULL);
	}
	*hits = h + (payload == 1);
	return now_s() - t0;
}

int main(void)
{
	static const struct bench_case cases[] = {
		{ "L1D lru ws=0.5", 64, 12, SA_REPL_LRU, 0, 0.5, 1 },
		{ "L1D lru ws=1.5", 64, 12, SA_REPL_LRU, 0, 1.5, 0 },
		{ "L1D lru ws=16", 64, 12, SA_REPL_LRU, 0, 16, 0 },
		{ "L1D srrip ws=1.5", 64, 12, SA_REPL_SRRIP, 0, 1.5, 0 },
		{ "L1D random ws=1.5", 64, 12, SA_REPL_RANDOM, 0, 1.5, 0 },
		{ "STLB lru ws=0.5", 128, 12, SA_REPL_LRU, 1, 0.5, 1 },
		{ "STLB lru ws=1.5", 128, 12, SA_REPL_LRU, 1, 1.5, 0 },
		{ "STLB lru ws=16", 128, 12, SA_REPL_LRU, 1, 16, 0 },
		{ "LLC lru ws=1.5", 32768, 12, SA_REPL_LRU, 0, 1.5, 0 },
	};
	uint64_t *keys = malloc(NKEYS * sizeof(*keys));
	int missed = 0;

	if (!keys) {
		fprintf(stderr, "bench_cache: out of memory\n");
		return 1;
	}
	printf("%-18s %10s %9s %12s %9s\n", "structure", "hit rate", "seconds",
	       "M acc/s", "vs goal");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bench_case *bc = &cases[i];
		struct sa_config cfg = { .sets = bc->sets, .ways = bc->ways,
					 .latency = 1, .repl = bc->repl };
		struct wl_rng rng;
		struct sa_cache c;
		uint64_t hits;
		double sec, mps;
		const char *verdict = "";

		wl_rng_seed(&rng, 42);
		if (sa_init(&c, &cfg, bc->name, &rng)) {
			fprintf(stderr, "bench_cache: %s: sa_init failed\n", bc->name);
			return 1;
		}
		draw_keys(keys, bc, 7 + i);
		sec = run(&c, keys, &hits);
		mps = ACCESSES / sec / 1e6;
		if (bc->has_goal && mps < GOAL_MPS) {
			verdict = "  goal missed";
			missed = 1;
		} else if (!bc->has_goal) {
			verdict = "  (info)";
		}
		printf("%-18s %9.1f%% %9.3f %12.1f %8.2fx%s\n", bc->name,
		       100.0 * hits / ACCESSES, sec, mps, mps / GOAL_MPS, verdict);
		sa_release(&c);
	}
	free(keys);
	printf(missed ? "bench_cache: goal missed (150 M accesses/s, LRU, mostly hits)\n"
		      : "bench_cache: goal met (150 M accesses/s, LRU, mostly hits)\n");
	return 0;
}
