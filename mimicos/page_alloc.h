/*
 * page_alloc.h - physical memory: Linux's buddy allocator for one zone.
 *
 * A zone of simulated physical memory (mm/page_alloc.c of the kernel named in
 * mimicos/version.h), with Linux's names and Linux's decisions:
 *
 *  - free_area[order].free_list[migratetype] for orders 0..MAX_PAGE_ORDER (10)
 *    and the migratetypes UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC;
 *    a pageblock (pageblock_order 9, 2 MiB) carries the migratetype, in a
 *    separate byte map as Linux keeps it in the pageblock bitmap.
 *  - Allocation: __rmqueue_smallest() + expand() (split, the upper halves go
 *    to the free lists at the head); when the preferred type is empty,
 *    __rmqueue_claim() (largest fallback block first, fallbacks[], claims the
 *    whole pageblock by should_try_claim_block()/try_to_claim_block()) then
 *    __rmqueue_steal() (smallest fallback block, no claim). ALLOC_NOFRAGMENT
 *    (Linux sets it for ZONE_NORMAL when ZONE_DMA32 exists, as on x86-64)
 *    first restricts claims to whole pageblocks, then the zonelist is retried
 *    without it.
 *  - Freeing: __free_one_page() merges with the buddy (pfn ^ (1 << order))
 *    while it is free at the same order, up to MAX_PAGE_ORDER; blocks above
 *    pageblock_order are freed pageblock by pageblock (split_large_buddy()).
 *    The merged block goes to the tail when buddy_merge_likely().
 *  - Per-CPU page lists (struct per_cpu_pages), one set per simulated CPU,
 *    for orders 0..PAGE_ALLOC_COSTLY_ORDER (3) x 3 types plus 2 lists for
 *    order 9 (HPAGE_PMD_ORDER): batch from zone_batchsize(), high_min/high_max
 *    from zone_highsize(), refill count from nr_pcp_alloc() (alloc_factor
 *    doubling), drain by free_pcppages_bulk() with nr_pcp_high()/nr_pcp_free().
 *  - Watermarks min/low/high/promo as __setup_per_zone_wmarks() computes them
 *    from min_free_kbytes (calculate_min_free_kbytes(), raised by khugepaged's
 *    set_recommended_min_free_kbytes() when THP is enabled), checked by
 *    __zone_watermark_ok()/zone_watermark_fast() in get_page_from_freelist().
 *
 * Numbers for the host of the facts file (one zone of ~4.25 GiB, 2 CPUs):
 * zone_batchsize() = min(managed >> 12, 64) = 64, rounded down to 2^n - 1 of
 * 64 + 32 -> 63; order-0 refill = 63 << alloc_factor (capped by high), an
 * order-9 refill max(63 >> 9, 2) = 2 blocks. A zone of 1 GiB and more has
 * batch 63; 512 MiB gives min(131072 >> 12, 64) = 32 -> 48 -> 31.
 *
 * Page metadata: struct page is 24 bytes (at most 64), and it exists only for
 * max-order blocks (4 MiB) that have been split: a free or allocated
 * order-10 block is described by its entry in the zone's max-order block
 * table alone, as Linux only touches head pages of free blocks. A freshly
 * initialised 256 GiB zone costs ~2 MiB of host memory (block table, chunk
 * pointers, pageblock map); each split 4 MiB block costs 24 KiB more, and the
 * metadata is released when its block merges back to order 10.
 *
 * HIGHATOMIC: a non-blocking order > 0 request that reaches the slow path
 * (GFP_ATOMIC) sets ALLOC_HIGHATOMIC and reserve_highatomic_pageblock() turns
 * its pageblock HIGHATOMIC (up to ~1% of the zone); such blocks never merge
 * with other types at or above pageblock_order.
 *
 * Where the simulation knowingly differs from Linux:
 *  - No reclaim, kswapd or compaction: an allocation that still fails its
 *    watermark in the slow path's retry at WMARK_MIN fails with -ENOMEM.
 *  - No watermark boosting (boost_watermark() needs kswapd to decay it), no
 *    CMA, no page isolation, no unreserve_highatomic_pageblock(), no free
 *    page shuffling or page reporting, one zone and one node.
 *  - PageLRU, which the claim heuristic counts, is set at allocation for
 *    __GFP_MOVABLE requests (anonymous pages go on the LRU at once).
 *  - set_recommended_min_free_kbytes() counts this one zone; a real x86-64
 *    host counts DMA32 and Normal, so give min_free_kbytes to match a host.
 *  - pcp->high decay runs only when the caller calls decay_pcp_high().
 *
 * Invariants are always checked: a violated one prints one line naming it and
 * aborts (mimicos_check()); zone_check() walks every list and block.
 */
#ifndef MIMICOS_PAGE_ALLOC_H
#define MIMICOS_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "mimicos/mm.h"

#define MAX_PAGE_ORDER		10
#define NR_PAGE_ORDERS		(MAX_PAGE_ORDER + 1)
#define MAX_ORDER_NR_PAGES	(1UL << MAX_PAGE_ORDER)
#define pageblock_order		9
#define pageblock_nr_pages	(1UL << pageblock_order)
#define PAGE_ALLOC_COSTLY_ORDER	3
#define HPAGE_PMD_ORDER		9
#define CONFIG_PCP_BATCH_SCALE_MAX 5
#define MIN_PERCPU_PAGELIST_HIGH_FRACTION 8
#define PFN_NONE		(~0UL)

/* include/linux/mmzone.h, 6.18 order (HIGHATOMIC shares MIGRATE_PCPTYPES). */
enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES,
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_TYPES
};

#define NR_LOWORDER_PCP_LISTS	(MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_THP		2
#define NR_PCP_LISTS		(NR_LOWORDER_PCP_LISTS + NR_PCP_THP)

/*
 * gfp flags: Linux's names and the bit values that matter to migratetype
 * (___GFP_MOVABLE 0x08, ___GFP_RECLAIMABLE 0x10, GFP_MOVABLE_SHIFT 3).
 */
typedef unsigned int gfp_t;
#define __GFP_MOVABLE		0x08u
#define __GFP_RECLAIMABLE	0x10u
#define __GFP_HIGH		0x20u
#define __GFP_IO		0x40u
#define __GFP_FS		0x80u
#define __GFP_DIRECT_RECLAIM	0x400u
#define __GFP_KSWAPD_RECLAIM	0x800u
#define __GFP_NOWARN		0x2000u
#define __GFP_NORETRY		0x10000u
#define __GFP_COMP		0x40000u
#define __GFP_NOMEMALLOC	0x80000u
#define GFP_MOVABLE_SHIFT	3
#define __GFP_RECLAIM		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL		(__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_ATOMIC		(__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
#define GFP_NOWAIT		__GFP_KSWAPD_RECLAIM
#define GFP_HIGHUSER_MOVABLE	(GFP_KERNEL | __GFP_MOVABLE)
/* include/linux/gfp_types.h: a THP allocation that neither reclaims nor warns */
#define GFP_TRANSHUGE_LIGHT	((GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | \
				  __GFP_NOWARN) & ~__GFP_RECLAIM)

/* gfp_migratetype(): the free list a request prefers. */
static inline int gfp_migratetype(gfp_t gfp)
{
	return (int)((gfp & (__GFP_RECLAIMABLE | __GFP_MOVABLE)) >> GFP_MOVABLE_SHIFT);
}

/* mm/internal.h alloc_flags (values are ours; meanings are Linux's). */
#define ALLOC_WMARK_MIN		0x00u
#define ALLOC_WMARK_LOW		0x01u
#define ALLOC_WMARK_HIGH	0x02u
#define ALLOC_NO_WATERMARKS	0x04u
#define ALLOC_WMARK_MASK	(ALLOC_NO_WATERMARKS - 1)
#define ALLOC_OOM		0x08u
#define ALLOC_NON_BLOCK		0x10u
#define ALLOC_MIN_RESERVE	0x20u
#define ALLOC_HIGHATOMIC	0x200u
#define ALLOC_KSWAPD		0x800u
#define ALLOC_NOFRAGMENT	0x1000u
#define ALLOC_RESERVES	(ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM)

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

/* struct page flags (the subset the buddy allocator reads). */
#define PG_buddy	0x1u	/* head of a free block on a free list (PageBuddy) */
#define PG_head		0x2u	/* head of an allocated block, order in private */
#define PG_pcp		0x4u	/* on a per-cpu list, order in private */
#define PG_lru		0x8u	/* movable user page (counted by claim heuristics) */

/*
 * struct page: one per 4 KiB page of a split max-order block. The list links
 * are pfns (buddy_list or pcp_list, never both), PFN_NONE-terminated.
 */
struct page_link {
	unsigned long next, prev;
};

struct page {
	struct page_link lru;	/* buddy_list or pcp_list */
	uint32_t flags;
	uint32_t private;	/* order: buddy, head or pcp */
};

/* A list of pfns threaded through struct page (or the max-order table). */
struct pfn_list {
	unsigned long head, tail;
	unsigned long nr;
};

struct free_area {
	struct pfn_list free_list[MIGRATE_TYPES];
	unsigned long nr_free;
};

#define PCPF_PREV_FREE_HIGH_ORDER	0x1u
#define PCPF_FREE_HIGH_BATCH		0x2u

/* include/linux/mmzone.h struct per_cpu_pages. */
struct per_cpu_pages {
	int count;		/* pages on the lists */
	int high;		/* auto-tuned between high_min and high_max */
	int high_min, high_max;
	int batch;		/* refill/drain chunk */
	uint8_t flags;		/* PCPF_* */
	uint8_t alloc_factor;	/* order-0 refill = batch << alloc_factor */
	short free_count;	/* consecutive pages freed without allocation */
	struct pfn_list lists[NR_PCP_LISTS];
};

/* Counters: Linux's names (vmstat events and kmem tracepoints). */
#define PAGE_ALLOC_COUNTERS(X)							\
	X(pgalloc_normal)	/* pages allocated (PGALLOC, ZONE_NORMAL) */	\
	X(pgfree)		/* pages freed (PGFREE) */			\
	X(mm_page_alloc_extfrag) /* fallbacks to another migratetype */	\
	X(mm_page_pcpu_drain)	/* blocks drained from pcp lists to buddy */	\
	X(mm_page_alloc_zone_locked) /* blocks taken from the buddy lists */

struct page_alloc_stats {
#define X(name) uint64_t name;
	PAGE_ALLOC_COUNTERS(X)
#undef X
	uint64_t pgalloc_order[NR_PAGE_ORDERS];	/* blocks allocated per order */
};

/* The names of struct page_alloc_stats' scalar fields, in order; NULL-ended. */
extern const char *const page_alloc_counter_names[];

/* A zone's configuration; zero fields take the documented defaults. */
struct zone_config {
	uint64_t size_bytes;		/* multiple of 4 MiB, <= 1 TiB */
	uint64_t start_pfn;		/* multiple of 1024; default 0 */
	unsigned int nr_cpus;		/* simulated CPUs with pcp lists; default 1 */
	int min_free_kbytes;		/* 0: as Linux computes it */
	int watermark_scale_factor;	/* 0: Linux's default 10 */
	int percpu_pagelist_high_fraction; /* 0: auto-tuned high (default) */
	bool thp_disabled;		/* true: no khugepaged min_free_kbytes raise */
	bool no_nofragment;		/* true: no ALLOC_NOFRAGMENT (no ZONE_DMA32) */
	bool free_high_batch;		/* PCPF_FREE_HIGH_BATCH (large cache slice) */
};

struct maxblk;

/*
 * Who is told of each block handed out by __alloc_pages() (after it is
 * taken) and given back to __free_pages() (before it is freed): pfn of the
 * first page and the order, as the caller asked (and the gfp of an
 * allocation). MimicOS's struct mimicos (mimicos.h) owns this hook (memory.c turns
 * the calls into events) and passes them on to its page_trace: the
 * instruction-stream
 * channel (channel.h) turns them into struct page metadata writes. A per-cpu
 * refill (rmqueue_bulk() taking 'blocks' blocks of 'order' from the buddy
 * for a pcp list) is reported to refill, after it. Drains, buddy merges
 * and splits are not reported. Any callback may be NULL; zone_init()
 * clears them.
 */
struct zone_trace {
	void (*alloc)(void *ctx, unsigned long pfn, unsigned int order, gfp_t gfp);
	void (*free)(void *ctx, unsigned long pfn, unsigned int order);
	void (*refill)(void *ctx, unsigned int order, int blocks);
	void *ctx;
};

struct zone {
	unsigned long zone_start_pfn;
	unsigned long spanned_pages;	/* == managed_pages here */
	unsigned long managed_pages;
	unsigned int nr_cpus;

	struct free_area free_area[NR_PAGE_ORDERS];
	unsigned long nr_free_pages;		/* NR_FREE_PAGES */
	unsigned long nr_free_pages_blocks;	/* NR_FREE_PAGES_BLOCKS */
	unsigned long nr_free_highatomic;
	unsigned long nr_reserved_highatomic;

	int min_free_kbytes;
	int watermark_scale_factor;
	unsigned long _watermark[NR_WMARK];
	unsigned long lowmem_reserve;		/* one zone: always 0 */
	bool below_high;			/* ZONE_BELOW_HIGH */
	bool nofragment;			/* alloc_flags_nofragment() applies */
	int pageset_batch, pageset_high_min, pageset_high_max;
	struct per_cpu_pages *pcp;		/* nr_cpus of them */

	/* Metadata: max-order block table, lazy struct page chunks, pageblocks. */
	struct maxblk *maxblk;
	struct page **mem_map;			/* per max-order block, or NULL */
	uint8_t *pageblock_mt;			/* migratetype per pageblock */
	unsigned long nr_maxblk;
	unsigned long nr_mem_map_chunks;	/* allocated chunks (host cost) */

	struct page_alloc_stats stats;
	struct zone_trace trace;
	/*
	 * shrink_slab() of direct reclaim: called once when an allocation that
	 * may reclaim (__GFP_DIRECT_RECLAIM) finds nothing even at the min
	 * watermark; it returns how many objects it freed (0: nothing, give
	 * up), then the allocation is retried once. NULL: no shrinker.
	 */
	struct zone_shrinker {
		unsigned long (*scan)(void *ctx);
		void *ctx;
	} shrinker;
};

/* Set up 'zone' with all memory free as MOVABLE max-order blocks, ascending
 * (memblock_free_all() frees with FPI_TO_TAIL). 0 or -EINVAL / -ENOMEM. */
int zone_init(struct zone *zone, const struct zone_config *cfg);
/* Free everything zone_init() and later calls allocated. */
void zone_release(struct zone *zone);

/*
 * Allocate 2^order pages (__alloc_pages(): fast path at WMARK_LOW, then the
 * slow path's one retry at WMARK_MIN). Returns the first pfn, or -ENOMEM.
 * 'cpu' selects the per-cpu lists (< nr_cpus).
 */
long __alloc_pages(struct zone *zone, gfp_t gfp, unsigned int order, unsigned int cpu);
/* Return 2^order pages at pfn (as allocated) through cpu's pcp or the buddy. */
void __free_pages(struct zone *zone, unsigned long pfn, unsigned int order, unsigned int cpu);
/* split_page(): the allocated block at pfn (order < 10) becomes 2^order allocated order-0 pages. */
void split_page(struct zone *zone, unsigned long pfn, unsigned int order);
/* unsplit_page(): the inverse: 2^order allocated order-0 pages become one block of that order. */
void unsplit_page(struct zone *zone, unsigned long pfn, unsigned int order);
/* Spill cpu's per-cpu pages back to the buddy lists (drain_pages_zone()). */
void drain_local_pages(struct zone *zone, unsigned int cpu);
void drain_all_pages(struct zone *zone);
/*
 * decay_pcp_high(): lower an auto-tuned pcp->high by 1/8 (not below
 * high_min) and drain what is above it. Linux runs it from vmstat_update()
 * every second (sysctl vm.stat_interval); call it once per simulated second.
 * Returns whether more decay remains.
 */
bool decay_pcp_high(struct zone *zone, unsigned int cpu);

/* The buddy pfn of a block: pfn ^ (1 << order) (__find_buddy_pfn()). */
static inline unsigned long __find_buddy_pfn(unsigned long pfn, unsigned int order)
{
	return pfn ^ (1UL << order);
}

/* zone_watermark_ok(): free pages above mark and a free block of order. */
bool zone_watermark_ok(struct zone *zone, unsigned int order, unsigned long mark,
		       unsigned int alloc_flags);
static inline unsigned long min_wmark_pages(const struct zone *z) { return z->_watermark[WMARK_MIN]; }
static inline unsigned long low_wmark_pages(const struct zone *z) { return z->_watermark[WMARK_LOW]; }
static inline unsigned long high_wmark_pages(const struct zone *z) { return z->_watermark[WMARK_HIGH]; }

/* Inspection (tests, reports): none of these change the zone. */
int get_pfnblock_migratetype(const struct zone *zone, unsigned long pfn);
/* Is pfn the head of a free block of this order on the buddy lists? */
bool zone_pfn_is_free_head(const struct zone *zone, unsigned long pfn, unsigned int order);
/* The k-th pfn from the head of free_list[mt] of 'order', or PFN_NONE. */
unsigned long zone_free_list_nth(const struct zone *zone, unsigned int order, int mt,
				 unsigned long k);
/* Blocks of 'order' on all free lists (free_area[order].nr_free). */
static inline unsigned long zone_nr_free(const struct zone *z, unsigned int order)
{
	return z->free_area[order].nr_free;
}

/* Walk every list and block; abort on the first violated invariant. */
void zone_check(const struct zone *zone);

/*
 * Fragmentation seeding. The zone must be freshly initialised (all free).
 * Afterwards free_area[o].nr_free == nr_free[o] for every order, the free
 * blocks are MOVABLE and placed at seeded random positions such that no two
 * are mergeable buddies, and every other page is allocated (held by "the
 * rest of the system", not freeable, counted as LRU pages by the claim
 * heuristics since they sit in MOVABLE pageblocks). -ENOSPC if the counts
 * do not fit.
 */
int zone_seed_free_counts(struct zone *zone, const unsigned long nr_free[NR_PAGE_ORDERS],
			  uint64_t seed);
/*
 * Parse a /proc/buddyinfo line "Node 0, zone   Normal  n0 ... n10" for the
 * zone named 'zone_name' ("Normal"; NULL: the first line) from 'text' into
 * nr_free. 0, or -EINVAL when no such line has 11 counts.
 */
int buddyinfo_parse(const char *text, const char *zone_name,
		    unsigned long nr_free[NR_PAGE_ORDERS]);
/* buddyinfo_parse() then zone_seed_free_counts(). */
int zone_seed_buddyinfo(struct zone *zone, const char *text, const char *zone_name,
			uint64_t seed);
/* Print the zone's /proc/buddyinfo line (frag_show_print() format). */
int zone_buddyinfo(const struct zone *zone, char *buf, size_t len);

#endif
