/*
 * sa.h - the configuration of one set-associative structure (cache, TLB or
 * page-walk cache): what every such component's JSON object holds. The
 * structure itself is in cache.h. JSON keys are the field names:
 *	{ "sets": 16, "ways": 4, "latency": 1, "replacement": "lru" }
 */
#ifndef SIMULATOR_SA_H
#define SIMULATOR_SA_H

#include <stdint.h>

/* Replacement policies (ops of the generic structure). */
enum sa_repl {
	SA_REPL_LRU,
	SA_REPL_SRRIP,		/* static RRIP, 2-bit (Jaleel et al., ISCA 2010) */
	SA_REPL_RANDOM,		/* seeded (workload/prng.h), deterministic */
	SA_REPL_NR
};

struct sa_config {
	uint32_t sets;		/* power of two >= 1 */
	uint32_t ways;		/* >= 1 */
	uint32_t latency;	/* cycles of a lookup */
	enum sa_repl repl;	/* "replacement": "lru" | "srrip" | "random" */
};

#endif
