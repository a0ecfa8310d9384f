/*
 * memsys.h - the data side of the memory hierarchy: L1D, L2 and LLC (three
 * struct sa_cache, 64-byte lines) in front of the DRAM model, for one core.
 *
 * An access looks up L1D, then L2, then LLC, then DRAM, adding each level's
 * latency on the way down (a hit at L2 costs l1d.latency + l2.latency); a
 * miss fills every level it missed (non-inclusive, no back-invalidation). A
 * store marks its L1D line dirty; a dirty victim is written back to the next
 * level (marked dirty there, or written to DRAM from the LLC), off the
 * critical path: write-backs cost no latency but do count and do move DRAM
 * rows.
 *
 * Traffic is counted by class, so the statistics separate the program's
 * data from the page walker's entry reads and from the kernel's own work
 * (the fault handler's entries, struct pages and the pages it clears or
 * copies): hits and misses per level per class, DRAM accesses per class.
 *
 * Bulk operations (a kernel clearing or copying a physical range) touch
 * every line of the range. Their time: the lines are independent stores
 * (and loads for a copy), so their latencies overlap up to the core's
 * memory-level parallelism: max(lines, sum of latencies / mlp) cycles.
 */
#ifndef SIMULATOR_MEMSYS_H
#define SIMULATOR_MEMSYS_H

#include <stdbool.h>
#include <stdint.h>

#include "simulator/cache.h"
#include "simulator/dram.h"

enum memsys_level {
	MEMSYS_L1D,
	MEMSYS_L2,
	MEMSYS_LLC,
	MEMSYS_LEVELS
};

enum memsys_class {
	MEMSYS_DATA,		/* the workload's loads and stores */
	MEMSYS_TRANSLATION,	/* page-table entries the walker reads */
	MEMSYS_KERNEL,		/* the kernel's work on a fault (the instruction stream) */
	MEMSYS_CLASSES
};

struct memsys_stats {
	uint64_t hits[MEMSYS_LEVELS][MEMSYS_CLASSES];
	uint64_t misses[MEMSYS_LEVELS][MEMSYS_CLASSES];
	uint64_t dram[MEMSYS_CLASSES];		/* accesses that reached DRAM */
	uint64_t writebacks;			/* dirty lines written to DRAM */
	uint64_t prefetches;			/* lines the stream prefetcher brought into L2 */
	uint64_t prefetch_dram;			/* of them, from DRAM */
	uint64_t adjacent;			/* lines the adjacent-line prefetcher brought */
	uint64_t adjacent_dram;			/* of them, from DRAM */
};

/*
 * The L2 stream prefetcher, for the program's data alone (JSON "prefetch":
 * {"degree": 0, "streams": 16}). It keeps the last 'streams' 4 KiB pages an
 * L1D miss of the program touched (least recently used out), with the last
 * line missed in each; a miss on the next line up is an ascending stream,
 * and the lines up to 'degree' past it, within the page (the next physical
 * page is not the next virtual one), are brought into L2 and the LLC, from
 * the LLC or DRAM, at no cost to the demand (as if timely). What a real one
 * does beyond that (descending and strided streams, L1 prefetch, page
 * crossing on large pages) is not modelled. degree 0: off.
 */
struct prefetch_config {
	uint32_t degree;			/* lines ahead, 0..63 */
	uint32_t streams;			/* 1..MEMSYS_MAX_STREAMS */
	/*
	 * The adjacent-line (spatial) prefetcher of x86 L2s ("adjacent":
	 * false): a line L2 misses on, whoever asked (program, walker,
	 * kernel), brings the other line of its 128-byte pair into L2 and the
	 * LLC too. Free for a dense working set, it halves what the caches
	 * hold of a sparse one: one line per page takes two.
	 */
	bool adjacent;
};

#define MEMSYS_MAX_STREAMS	64

struct memsys_stream {
	uint64_t page;				/* line key >> 6; UINT64_MAX: unused */
	uint64_t last;				/* the last line missed in it */
	uint64_t ahead;				/* the furthest line prefetched */
	uint64_t used;				/* when it last trained (LRU) */
};

struct memsys {
	struct sa_cache level[MEMSYS_LEVELS];
	struct dram dram;
	/*
	 * The LLC and DRAM in use: level[MEMSYS_LLC] and dram, or another
	 * core's (memsys_share()): several cores' private L1D and L2 over one
	 * LLC and one DRAM. No coherence between the private levels.
	 */
	struct sa_cache *llc;
	struct dram *mem;
	struct memsys_stats stats;
	/*
	 * The last-line fast path: last_key is a line in L1D whose next access
	 * needs no lookup, because a hit on it would change nothing in the
	 * cache but its hit counter (MEMSYS_NO_LINE: none). It is the line of
	 * the last L1D access when that was a hit (the policy already saw it),
	 * or a fill whose policy state a hit leaves as it is (fill_is_hit:
	 * LRU, whose fill makes the line most recent, and random, which keeps
	 * no state; not SRRIP, whose hit lowers the fill's re-reference
	 * prediction). Any other L1D access replaces it. A store takes the
	 * fast path only when last_dirty: the line is known dirty already. A
	 * pure speed-up: results are the same without it.
	 */
	uint64_t last_key;
	bool last_dirty;
	bool fill_is_hit;
	struct prefetch_config pf;
	struct memsys_stream stream[MEMSYS_MAX_STREAMS];
	uint64_t pf_clock;
};

#define MEMSYS_NO_LINE	UINT64_MAX	/* no line (sa_line_key() never gives it) */

/*
 * Build the three caches and DRAM, and the prefetcher (pf NULL: none). 0, or
 * -EINVAL / -ENOMEM (nothing to release).
 */
int memsys_init(struct memsys *ms, const struct sa_config *l1d, const struct sa_config *l2,
		const struct sa_config *llc, const struct dram_config *dram,
		const struct prefetch_config *pf, struct wl_rng *rng);
void memsys_release(struct memsys *ms);
/*
 * From now on ms uses owner's LLC and DRAM (its own are released), as
 * cores of one chip share them; owner must outlive it.
 */
void memsys_share(struct memsys *ms, struct memsys *owner);

/* Start loading the sets an access to paddr will visit (a host-speed hint only). */
static inline void memsys_prefetch(const struct memsys *ms, uint64_t paddr)
{
	for (int l = 0; l < MEMSYS_LLC; l++)
		sa_prefetch(&ms->level[l], sa_line_key(paddr));
	sa_prefetch(ms->llc, sa_line_key(paddr));
}

/* memsys_access() past the last-line fast path. */
uint32_t __memsys_access(struct memsys *ms, uint64_t paddr, bool write, enum memsys_class cls);

/*
 * One access of up to 64 bytes at paddr: its latency in cycles. Inline for
 * the access to the line just used (a sequential stream's common case), all
 * it does is count an L1D hit.
 */
static inline uint32_t memsys_access(struct memsys *ms, uint64_t paddr, bool write,
				     enum memsys_class cls)
{
	if (sa_line_key(paddr) == ms->last_key && (!write || ms->last_dirty)) {
		ms->level[MEMSYS_L1D].stats.hits++;
		ms->stats.hits[MEMSYS_L1D][cls]++;
		return ms->level[MEMSYS_L1D].cfg.latency;
	}
	return __memsys_access(ms, paddr, write, cls);
}

/*
 * Every line of [paddr, paddr + len) stored to (copy_from NOPHYS) or, for a
 * copy, loaded from copy_from + offset and stored to paddr + offset: the
 * cycles as the header says, with 'mlp' misses overlapped.
 */
#define MEMSYS_NO_SOURCE	UINT64_MAX
uint64_t memsys_bulk(struct memsys *ms, uint64_t paddr, uint64_t len, uint64_t copy_from,
		     uint32_t mlp, enum memsys_class cls);

const char *memsys_level_name(enum memsys_level l);	/* "l1d", "l2", "llc" */
const char *memsys_class_name(enum memsys_class c);	/* "data", "translation", "kernel" */

#endif
