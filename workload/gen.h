/*
 * gen.h - the one generator: a parsed spec becomes a stream of operations.
 *
 * Both worlds consume this stream: the native executor (native.h) performs it
 * on the real host, the simulator feeds it to its MMU model with MimicOS behind.
 * Because the same code produces both, the same spec gives the same accesses
 * in both worlds, access for access.
 *
 * The stream of a spec is:
 *
 *	for each region r:  MAP r  [MADVISE r (its advice, in order)]
 *	for each phase i:   PHASE_BEGIN i  <the phase's ops>  PHASE_END i
 *
 * Phase bodies:
 *	touch		ACCESS per stride step, in the phase's order
 *	access		sequential/uniform/zipf: 'count' ACCESSes;
 *			chase: one store per slot in ascending address order,
 *			each linking to its successor in the cycle (WL_ACC_LINK,
 *			arg = successor's offset), then 'count' dependent loads
 *			(WL_ACC_DEP on all but the first) following the cycle
 *	madvise		MADVISE;  mprotect: MPROTECT;  munmap: MUNMAP
 *	khugepaged_wait	KHUGEPAGED_WAIT;  sleep: SLEEP
 *
 * Determinism: every random choice of phase i comes from its own xoshiro256**
 * stream seeded with wl_rng_derive(spec->seed, i). The same spec always yields
 * the same stream; changing one phase never changes another phase's ops.
 *
 * Random orders and placements (touch "random", zipf placement, the chase
 * cycle) use wl_perm, a keyed bijection on [0, n) computed on the fly, so no
 * table is allocated however large the range: the generator allocates nothing
 * after wl_gen_init() and nothing per access.
 */
#ifndef WORKLOAD_GEN_H
#define WORKLOAD_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "workload/prng.h"
#include "workload/spec.h"

enum wl_op_type {
	WL_OP_MAP,		/* region; arg = size; flags = WL_MAP_POPULATE */
	WL_OP_MADVISE,		/* region, off, arg = length; flags = enum wl_advice */
	WL_OP_MPROTECT,		/* region, off, arg = length; flags = enum wl_prot */
	WL_OP_MUNMAP,		/* region, off, arg = length */
	WL_OP_ACCESS,		/* region, off, size; flags = WL_ACC_*; arg: see LINK */
	WL_OP_KHUGEPAGED_WAIT,	/* arg = full_scans, off = timeout_ms */
	WL_OP_SLEEP,		/* arg = ms */
	WL_OP_PHASE_BEGIN,	/* arg = phase index */
	WL_OP_PHASE_END,	/* arg = phase index */
};

#define WL_MAP_POPULATE	0x1

#define WL_ACC_WRITE	0x1	/* a store (else a load) */
#define WL_ACC_DEP	0x2	/* load whose address is the value the previous load returned */
#define WL_ACC_LINK	0x4	/* chase build store: writes the address of region + arg */

/* One operation; 24 bytes, passed in batches. */
struct wl_op {
	uint64_t off;		/* offset within the region (bytes) */
	uint64_t arg;		/* per type, above */
	uint32_t region;	/* index into spec->regions */
	uint8_t type;		/* enum wl_op_type */
	uint8_t flags;
	uint16_t size;		/* bytes accessed (WL_ACCESS_SIZE) for ACCESS */
};

/* ---- keyed permutation --------------------------------------------------- */

/*
 * A pseudo-random bijection of [0, n) drawn from an rng: four rounds of
 * invertible mixing (xor with a key, multiply by an odd constant, xorshift)
 * on the smallest power-of-two domain >= n, with cycle walking to stay below
 * n. O(1) memory, a few nanoseconds per element, and invertible, so a chase
 * can find any slot's successor without a table.
 */
struct wl_perm {
	uint64_t n;
	uint64_t mask;		/* domain - 1 */
	unsigned shift;		/* xorshift distance */
	uint64_t key[4], mul[4], inv[4];
};

void wl_perm_init(struct wl_perm *p, uint64_t n, struct wl_rng *rng);
uint64_t wl_perm_apply(const struct wl_perm *p, uint64_t i);	/* i < n */
uint64_t wl_perm_invert(const struct wl_perm *p, uint64_t y);	/* y < n */

/* ---- Zipf ------------------------------------------------------------------ */

/*
 * Zipf(s) over ranks 1..n: P(k) proportional to k^-s. Sampled in O(1) by
 * rejection-inversion (Hoermann and Derflinger, 1996), no table.
 */
struct wl_zipf {
	uint64_t n;
	double s;
	double h_x1, h_n, t;	/* precomputed bounds of the hat function */
};

void wl_zipf_init(struct wl_zipf *z, uint64_t n, double s);
uint64_t wl_zipf_sample(const struct wl_zipf *z, struct wl_rng *rng);	/* 1..n */

/* ---- the generator ------------------------------------------------------- */

struct wl_gen {
	const struct wl_spec *spec;
	unsigned thread;	/* whose stream this is (wl_gen_init_thread) */
	struct wl_phase ph;	/* the current phase as this thread runs it */
	size_t region;		/* setup: next region to map */
	size_t advice;		/* setup: next advice of that region */
	size_t phase;		/* current phase; == nr_phases when done */
	int stage;		/* private: where in the phase we are */
	uint64_t i, n;		/* position in the current body part and its length */
	uint64_t cur;		/* pattern cursor (sequential offset, chase slot) */
	uint64_t wthresh;	/* write_fraction as a 64-bit threshold */
	struct wl_rng rng;	/* this phase's stream */
	struct wl_perm perm;
	struct wl_zipf zipf;
};

/* Start the stream of 's' (which must outlive g). Allocates nothing. */
void wl_gen_init(struct wl_gen *g, const struct wl_spec *s);

/*
 * Start thread t's stream of a spec with threads (docs/workload-format.md,
 * "Threads"): thread 0's holds the setup (the regions' MAP and MADVISE),
 * the others' none; every thread's holds PHASE_BEGIN and PHASE_END of every
 * phase, and between them the phase's ops if it runs the phase (its slice
 * of a range shared by slices). Thread 0's random choices in phase i come
 * from wl_rng_derive(seed, i), as a one-thread stream's do (so it is the
 * same stream); thread t > 0's from wl_rng_derive(wl_rng_derive(seed, i), t).
 * wl_gen_init() is wl_gen_init_thread(g, s, 0).
 */
void wl_gen_init_thread(struct wl_gen *g, const struct wl_spec *s, unsigned t);

/*
 * Fill up to 'cap' ops into 'buf'; returns how many, 0 at the end of the
 * stream. Batches never span a PHASE_BEGIN/PHASE_END boundary in the sense
 * that those markers are always emitted in stream order.
 */
size_t wl_gen_next(struct wl_gen *g, struct wl_op *buf, size_t cap);

/* Restart at phase 'i' (its PHASE_BEGIN), skipping setup and earlier phases; the same thread. */
void wl_gen_seek_phase(struct wl_gen *g, size_t i);

/*
 * Callback form: call fn on batches until the stream ends or fn returns
 * non-zero (which is then returned). 'batch' ops live on the stack.
 */
typedef int (*wl_gen_fn)(const struct wl_op *ops, size_t n, void *ctx);
int wl_gen_foreach(const struct wl_spec *s, wl_gen_fn fn, void *ctx);

/* Number of ACCESS ops phase i produces (chase: slots + count), all its threads together. */
uint64_t wl_phase_accesses(const struct wl_spec *s, size_t i);

/* Those of thread t alone. */
uint64_t wl_phase_thread_accesses(const struct wl_spec *s, size_t i, unsigned t);

/* FNV-1a 64 over the fields of a batch of ops, chained through 'h'. */
uint64_t wl_ops_hash(uint64_t h, const struct wl_op *ops, size_t n);
#define WL_FNV_OFFSET 0xcbf29ce484222325ULL

#endif
