/*
 * sa.h - the configuration of one set-associative structure (cache, TLB or
 * page-walk cache): what every such component's JSON object holds. The
 * structure itself is in cache.h. JSON keys are the field names:
 *	{ "sets": 16, "ways": 4, "latency": 1, "replacement": "lru", "index": "modulo" }
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
	bool hashed;		/* "index": "modulo" (false) | "xor" (true): cache.h sa_set_of() */
};

/*
 * Helpers for the configuration reader (defined in cache.c).
 *
 * sa_repl_name(): "lru", "srrip" or "random" (the JSON value); NULL for a
 * value out of range. sa_repl_from_name(): the inverse, 0 or -EINVAL for a
 * name that is none of them (exact, lower case).
 */
const char *sa_repl_name(enum sa_repl repl);
int sa_repl_from_name(const char *name, enum sa_repl *out);

/*
 * NULL if 'cfg' describes a structure sa_init() accepts, else what is wrong,
 * as one phrase naming the JSON key ("ways must be in [1, 65535]"), for
 * the reader's one-line error message: sets a power of two in [1, 2^24],
 * ways in [1, 65535], sets * ways <= 2^26 (= 4 GiB of 64-byte lines),
 * repl a known policy. latency is not checked (any cycle count is valid).
 */
const char *sa_config_error(const struct sa_config *cfg);

#endif
