/*
 * page_alloc.c - Linux's buddy allocator for one simulated zone.
 *
 * See page_alloc.h. Each function names the Linux (mm/page_alloc.c, 6.18)
 * function it imitates; where the simulation differs, the comment says so.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimicos/page_alloc.h"
#include "workload/prng.h"

/* State of a max-order (4 MiB) block. */
enum {
	MB_FREE,	/* one free order-10 block (on a free list) */
	MB_ALLOC,	/* one allocated order-10 block */
	MB_SPLIT,	/* split: its struct pages exist in mem_map */
	MB_RESERVED,	/* held by "the rest of the system" (seeding) */
};

struct maxblk {
	struct page_link lru;	/* buddy_list of the order-10 block */
	uint8_t state;
};

_Static_assert(sizeof(struct page) <= 64, "struct page must stay within 64 bytes");

/* fpi_t */
#define FPI_NONE	0u
#define FPI_TO_TAIL	0x2u

const char *const page_alloc_counter_names[] = {
#define X(name) #name,
	PAGE_ALLOC_COUNTERS(X)
#undef X
	NULL
};

/* ---- metadata ---------------------------------------------------------- */

static inline unsigned long zone_end_pfn(const struct zone *z)
{
	return z->zone_start_pfn + z->spanned_pages;
}

static inline bool zone_spans_pfn(const struct zone *z, unsigned long pfn)
{
	return pfn >= z->zone_start_pfn && pfn < zone_end_pfn(z);
}

static inline unsigned long mb_idx(const struct zone *z, unsigned long pfn)
{
	return (pfn - z->zone_start_pfn) >> MAX_PAGE_ORDER;
}

static inline struct maxblk *pfn_to_maxblk(const struct zone *z, unsigned long pfn)
{
	return &z->maxblk[mb_idx(z, pfn)];
}

/* The struct page of pfn, or NULL when its max-order block is not split. */
static inline struct page *pfn_to_page_or_null(const struct zone *z, unsigned long pfn)
{
	struct page *chunk = z->mem_map[mb_idx(z, pfn)];

	return chunk ? &chunk[(pfn - z->zone_start_pfn) & (MAX_ORDER_NR_PAGES - 1)] : NULL;
}

/* pfn_to_page(): only for pages of split max-order blocks. */
static inline struct page *pfn_to_page(const struct zone *z, unsigned long pfn)
{
	struct page *page = pfn_to_page_or_null(z, pfn);

	mimicos_check(page, "pfn %#lx: no struct page (max-order block not split)", pfn);
	return page;
}

/* Give a free or allocated order-10 block its struct pages (all "in use"). */
static void split_maxblk(struct zone *z, unsigned long pfn)
{
	unsigned long i = mb_idx(z, pfn);

	if (z->mem_map[i])
		return;
	z->mem_map[i] = calloc(MAX_ORDER_NR_PAGES, sizeof(struct page));
	mimicos_check(z->mem_map[i], "out of host memory for struct page");
	z->nr_mem_map_chunks++;
	z->maxblk[i].state = MB_SPLIT;
}

/* The block merged back to order 10: its struct pages are not needed. */
static void unsplit_maxblk(struct zone *z, unsigned long pfn)
{
	unsigned long i = mb_idx(z, pfn);

	if (!z->mem_map[i])
		return;
	free(z->mem_map[i]);
	z->mem_map[i] = NULL;
	z->nr_mem_map_chunks--;
}

/* get_pfnblock_migratetype() */
int get_pfnblock_migratetype(const struct zone *z, unsigned long pfn)
{
	mimicos_check(zone_spans_pfn(z, pfn), "pfn %#lx outside the zone", pfn);
	return z->pageblock_mt[(pfn - z->zone_start_pfn) >> pageblock_order];
}

/* set_pageblock_migratetype() */
static void set_pageblock_migratetype(struct zone *z, unsigned long pfn, int mt)
{
	z->pageblock_mt[(pfn - z->zone_start_pfn) >> pageblock_order] = (uint8_t)mt;
}

/* change_pageblock_range() */
static void change_pageblock_range(struct zone *z, unsigned long pfn, int start_order, int mt)
{
	int nr_pageblocks = 1 << (start_order - pageblock_order);

	while (nr_pageblocks--) {
		set_pageblock_migratetype(z, pfn, mt);
		pfn += pageblock_nr_pages;
	}
}

static inline bool migratetype_is_mergeable(int mt)
{
	return mt < MIGRATE_PCPTYPES;
}

/* ---- pfn lists (list_head over pfns) ----------------------------------- */

static struct page_link *lnode(const struct zone *z, unsigned long pfn, bool maxorder)
{
	return maxorder ? &pfn_to_maxblk(z, pfn)->lru : &pfn_to_page(z, pfn)->lru;
}

static void pfn_list_add(struct zone *z, struct pfn_list *l, unsigned long pfn,
			 bool maxorder, bool tail)
{
	struct page_link *n = lnode(z, pfn, maxorder);

	if (l->head == PFN_NONE) {
		n->next = n->prev = PFN_NONE;
		l->head = l->tail = pfn;
	} else if (tail) {
		n->prev = l->tail;
		n->next = PFN_NONE;
		lnode(z, l->tail, maxorder)->next = pfn;
		l->tail = pfn;
	} else {
		n->next = l->head;
		n->prev = PFN_NONE;
		lnode(z, l->head, maxorder)->prev = pfn;
		l->head = pfn;
	}
	l->nr++;
}

static void pfn_list_del(struct zone *z, struct pfn_list *l, unsigned long pfn, bool maxorder)
{
	struct page_link *n = lnode(z, pfn, maxorder);

	mimicos_check(l->nr > 0, "list_del of pfn %#lx from an empty list", pfn);
	if (n->prev == PFN_NONE) {
		mimicos_check(l->head == pfn, "pfn %#lx is not on this list", pfn);
		l->head = n->next;
	} else {
		lnode(z, n->prev, maxorder)->next = n->next;
	}
	if (n->next == PFN_NONE) {
		mimicos_check(l->tail == pfn, "pfn %#lx is not on this list", pfn);
		l->tail = n->prev;
	} else {
		lnode(z, n->next, maxorder)->prev = n->prev;
	}
	n->next = n->prev = PFN_NONE;
	l->nr--;
}

static inline bool pfn_list_empty(const struct pfn_list *l)
{
	return l->head == PFN_NONE;
}

static void pfn_list_init(struct pfn_list *l)
{
	l->head = l->tail = PFN_NONE;
	l->nr = 0;
}

/* ---- free lists -------------------------------------------------------- */

/* account_freepages() */
static void account_freepages(struct zone *z, long nr_pages, int mt)
{
	z->nr_free_pages += nr_pages;
	if (mt == MIGRATE_HIGHATOMIC)
		z->nr_free_highatomic += nr_pages;
}

/* PageBuddy() && buddy_order() == order */
static bool page_is_buddy(const struct zone *z, unsigned long pfn, unsigned int order)
{
	struct page *page;

	if (!zone_spans_pfn(z, pfn))
		return false;
	if (order == MAX_PAGE_ORDER)
		return !(pfn & (MAX_ORDER_NR_PAGES - 1)) && pfn_to_maxblk(z, pfn)->state == MB_FREE;
	page = pfn_to_page_or_null(z, pfn);
	return page && (page->flags & PG_buddy) && page->private == order;
}

/* set_buddy_order(): the block at pfn is free at this order. */
static void set_buddy_order(struct zone *z, unsigned long pfn, unsigned int order)
{
	if (order == MAX_PAGE_ORDER) {
		unsplit_maxblk(z, pfn);
		pfn_to_maxblk(z, pfn)->state = MB_FREE;
	} else {
		struct page *page = pfn_to_page(z, pfn);

		page->flags = PG_buddy;
		page->private = order;
	}
}

/* __add_to_free_list() */
static void __add_to_free_list(struct zone *z, unsigned long pfn, unsigned int order,
			       int mt, bool tail)
{
	struct free_area *area = &z->free_area[order];

	mimicos_check(get_pfnblock_migratetype(z, pfn) == mt,
		      "pfn %#lx: pageblock type %d, free list type %d",
		      pfn, get_pfnblock_migratetype(z, pfn), mt);
	pfn_list_add(z, &area->free_list[mt], pfn, order == MAX_PAGE_ORDER, tail);
	area->nr_free++;
	if (order >= pageblock_order)
		z->nr_free_pages_blocks += 1UL << order;
}

/* move_to_free_list() */
static void move_to_free_list(struct zone *z, unsigned long pfn, unsigned int order,
			      int old_mt, int new_mt)
{
	struct free_area *area = &z->free_area[order];
	long nr_pages = 1L << order;

	mimicos_check(get_pfnblock_migratetype(z, pfn) == old_mt,
		      "pfn %#lx: pageblock type %d, moved from %d",
		      pfn, get_pfnblock_migratetype(z, pfn), old_mt);
	pfn_list_del(z, &area->free_list[old_mt], pfn, order == MAX_PAGE_ORDER);
	pfn_list_add(z, &area->free_list[new_mt], pfn, order == MAX_PAGE_ORDER, true);
	account_freepages(z, -nr_pages, old_mt);
	account_freepages(z, nr_pages, new_mt);
}

/* __del_page_from_free_list() */
static void __del_page_from_free_list(struct zone *z, unsigned long pfn, unsigned int order,
				      int mt)
{
	mimicos_check(get_pfnblock_migratetype(z, pfn) == mt,
		      "pfn %#lx: pageblock type %d, deleted from list %d",
		      pfn, get_pfnblock_migratetype(z, pfn), mt);
	mimicos_check(page_is_buddy(z, pfn, order), "pfn %#lx is not a free order-%u block",
		      pfn, order);
	pfn_list_del(z, &z->free_area[order].free_list[mt], pfn, order == MAX_PAGE_ORDER);
	if (order == MAX_PAGE_ORDER) {
		pfn_to_maxblk(z, pfn)->state = MB_ALLOC;
	} else {
		struct page *page = pfn_to_page(z, pfn);

		page->flags &= ~PG_buddy;
		page->private = 0;
	}
	z->free_area[order].nr_free--;
	if (order >= pageblock_order)
		z->nr_free_pages_blocks -= 1UL << order;
}

/* del_page_from_free_list() */
static void del_page_from_free_list(struct zone *z, unsigned long pfn, unsigned int order,
				    int mt)
{
	__del_page_from_free_list(z, pfn, order, mt);
	account_freepages(z, -(1L << order), mt);
}

/* get_page_from_free_area() */
static unsigned long get_page_from_free_area(const struct free_area *area, int mt)
{
	return area->free_list[mt].head;
}

static inline bool free_area_empty(const struct free_area *area, int mt)
{
	return pfn_list_empty(&area->free_list[mt]);
}

/* find_buddy_page_pfn(): *buddy_pfn is always set, as in Linux. */
static bool find_buddy_page_pfn(const struct zone *z, unsigned long pfn, unsigned int order,
				unsigned long *buddy_pfn)
{
	unsigned long b = __find_buddy_pfn(pfn, order);

	if (buddy_pfn)
		*buddy_pfn = b;
	return page_is_buddy(z, b, order);
}

/* buddy_merge_likely() */
static bool buddy_merge_likely(const struct zone *z, unsigned long pfn, unsigned long buddy_pfn,
			       unsigned int order)
{
	unsigned long higher_page_pfn;

	if (order >= MAX_PAGE_ORDER - 1)
		return false;
	higher_page_pfn = buddy_pfn & pfn;
	return find_buddy_page_pfn(z, higher_page_pfn, order + 1, NULL);
}

/* __free_one_page() */
static void __free_one_page(struct zone *z, unsigned long pfn, unsigned int order, int mt,
			    unsigned int fpi_flags)
{
	unsigned long buddy_pfn = 0;
	bool to_tail;

	mimicos_check(!(pfn & ((1UL << order) - 1)), "free of pfn %#lx misaligned for order %u",
		      pfn, order);
	mimicos_check(zone_spans_pfn(z, pfn), "free of pfn %#lx outside the zone", pfn);
	account_freepages(z, 1L << order, mt);

	while (order < MAX_PAGE_ORDER) {
		int buddy_mt = mt;

		if (!find_buddy_page_pfn(z, pfn, order, &buddy_pfn))
			goto done_merging;

		if (order >= pageblock_order) {
			buddy_mt = get_pfnblock_migratetype(z, buddy_pfn);
			if (mt != buddy_mt && (!migratetype_is_mergeable(mt) ||
					       !migratetype_is_mergeable(buddy_mt)))
				goto done_merging;
		}
		__del_page_from_free_list(z, buddy_pfn, order, buddy_mt);
		if (buddy_mt != mt)
			change_pageblock_range(z, buddy_pfn, order, mt);
		pfn &= buddy_pfn;
		order++;
	}

done_merging:
	set_buddy_order(z, pfn, order);
	if (fpi_flags & FPI_TO_TAIL)
		to_tail = true;
	else
		to_tail = buddy_merge_likely(z, pfn, buddy_pfn, order);
	__add_to_free_list(z, pfn, order, mt, to_tail);
}

/* expand(): split a block of order high down to low, upper halves to the lists. */
static unsigned int expand(struct zone *z, unsigned long pfn, int low, int high, int mt)
{
	unsigned long size = 1UL << high;
	unsigned int nr_added = 0;

	if (high == MAX_PAGE_ORDER && low < high)
		split_maxblk(z, pfn);
	while (high > low) {
		high--;
		size >>= 1;
		__add_to_free_list(z, pfn + size, high, mt, false);
		set_buddy_order(z, pfn + size, high);
		nr_added += size;
	}
	return nr_added;
}

/* page_del_and_expand() */
static void page_del_and_expand(struct zone *z, unsigned long pfn, int low, int high, int mt)
{
	long nr_pages = 1L << high;

	__del_page_from_free_list(z, pfn, high, mt);
	nr_pages -= expand(z, pfn, low, high, mt);
	account_freepages(z, -nr_pages, mt);
}

/* __rmqueue_smallest() */
static unsigned long __rmqueue_smallest(struct zone *z, unsigned int order, int mt)
{
	for (unsigned int current_order = order; current_order < NR_PAGE_ORDERS; ++current_order) {
		struct free_area *area = &z->free_area[current_order];
		unsigned long pfn = get_page_from_free_area(area, mt);

		if (pfn == PFN_NONE)
			continue;
		page_del_and_expand(z, pfn, order, current_order, mt);
		z->stats.mm_page_alloc_zone_locked++;
		return pfn;
	}
	return PFN_NONE;
}

/* fallbacks[] */
static const int fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
	[MIGRATE_UNMOVABLE]   = { MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE   },
	[MIGRATE_MOVABLE]     = { MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
	[MIGRATE_RECLAIMABLE] = { MIGRATE_UNMOVABLE,   MIGRATE_MOVABLE   },
};

/* __move_freepages_block(): move the free blocks of a pageblock; caller sets the type. */
static int __move_freepages_block(struct zone *z, unsigned long start_pfn, int old_mt, int new_mt)
{
	unsigned long end_pfn = start_pfn + pageblock_nr_pages;
	int pages_moved = 0;

	for (unsigned long pfn = start_pfn; pfn < end_pfn;) {
		struct page *page = pfn_to_page(z, pfn);
		unsigned int order;

		if (!(page->flags & PG_buddy)) {
			pfn++;
			continue;
		}
		order = page->private;
		move_to_free_list(z, pfn, order, old_mt, new_mt);
		pfn += 1UL << order;
		pages_moved += 1 << order;
	}
	return pages_moved;
}

/*
 * prep_move_freepages_block(): count free and movable pages of the pageblock.
 * Movable = PageLRU: our allocated blocks carry PG_lru when they were
 * allocated with __GFP_MOVABLE (anonymous memory goes on the LRU at once).
 */
static bool prep_move_freepages_block(struct zone *z, unsigned long pfn, unsigned long *start_pfn,
				      int *num_free, int *num_movable)
{
	unsigned long start = pfn & ~(pageblock_nr_pages - 1);
	unsigned long end = start + pageblock_nr_pages;

	if (!zone_spans_pfn(z, start) || !zone_spans_pfn(z, end - 1))
		return false;
	*start_pfn = start;
	if (num_free) {
		*num_free = 0;
		*num_movable = 0;
		for (pfn = start; pfn < end;) {
			struct page *page = pfn_to_page(z, pfn);

			if (page->flags & PG_buddy) {
				int nr = 1 << page->private;

				*num_free += nr;
				pfn += nr;
				continue;
			}
			if (page->flags & (PG_head | PG_pcp)) {
				/* Whole block: a folio's tails are LRU with their head. */
				int nr = 1 << page->private;

				if ((page->flags & PG_head) && (page->flags & PG_lru))
					*num_movable += nr;
				pfn += nr;
				continue;
			}
			if (page->flags & PG_lru)
				(*num_movable)++;
			pfn++;
		}
	}
	return true;
}

/* move_freepages_block() */
static int move_freepages_block(struct zone *z, unsigned long pfn, int old_mt, int new_mt)
{
	unsigned long start_pfn;
	int res;

	if (!prep_move_freepages_block(z, pfn, &start_pfn, NULL, NULL))
		return -1;
	res = __move_freepages_block(z, start_pfn, old_mt, new_mt);
	set_pageblock_migratetype(z, start_pfn, new_mt);
	return res;
}

/* should_try_claim_block() (page_group_by_mobility_disabled is never set here) */
static bool should_try_claim_block(unsigned int order, int start_mt)
{
	if (order >= pageblock_order)
		return true;
	if (order >= pageblock_order / 2)
		return true;
	if (start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE)
		return true;
	return false;
}

/* find_suitable_fallback(): fallback type, -1 none at this order, -2 too small to claim */
static int find_suitable_fallback(const struct free_area *area, unsigned int order, int mt,
				  bool claimable)
{
	if (claimable && !should_try_claim_block(order, mt))
		return -2;
	if (area->nr_free == 0)
		return -1;
	for (int i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
		int fallback_mt = fallbacks[mt][i];

		if (!free_area_empty(area, fallback_mt))
			return fallback_mt;
	}
	return -1;
}

/* try_to_claim_block() (no watermark boost: it needs kswapd to decay) */
static unsigned long try_to_claim_block(struct zone *z, unsigned long pfn, int current_order,
					int order, int start_type, int block_type)
{
	int free_pages, movable_pages, alike_pages;
	unsigned long start_pfn;

	if (current_order >= pageblock_order) {
		unsigned int nr_added;

		del_page_from_free_list(z, pfn, current_order, block_type);
		change_pageblock_range(z, pfn, current_order, start_type);
		nr_added = expand(z, pfn, order, current_order, start_type);
		account_freepages(z, nr_added, start_type);
		return pfn;
	}

	if (!prep_move_freepages_block(z, pfn, &start_pfn, &free_pages, &movable_pages))
		return PFN_NONE;

	if (start_type == MIGRATE_MOVABLE) {
		alike_pages = movable_pages;
	} else if (block_type == MIGRATE_MOVABLE) {
		alike_pages = (int)pageblock_nr_pages - (free_pages + movable_pages);
	} else {
		alike_pages = 0;
	}
	if (free_pages + alike_pages >= (1 << (pageblock_order - 1))) {
		__move_freepages_block(z, start_pfn, block_type, start_type);
		set_pageblock_migratetype(z, start_pfn, start_type);
		return __rmqueue_smallest(z, order, start_type);
	}
	return PFN_NONE;
}

/* __rmqueue_claim(): largest fallback block first, claiming its pageblock(s). */
static unsigned long __rmqueue_claim(struct zone *z, int order, int start_mt,
				     unsigned int alloc_flags)
{
	int min_order = order;

	if (order < pageblock_order && (alloc_flags & ALLOC_NOFRAGMENT))
		min_order = pageblock_order;

	for (int current_order = MAX_PAGE_ORDER; current_order >= min_order; --current_order) {
		struct free_area *area = &z->free_area[current_order];
		int fallback_mt = find_suitable_fallback(area, (unsigned int)current_order,
							 start_mt, true);
		unsigned long pfn;

		if (fallback_mt == -1)
			continue;
		if (fallback_mt == -2)
			break;
		pfn = get_page_from_free_area(area, fallback_mt);
		pfn = try_to_claim_block(z, pfn, current_order, order, start_mt, fallback_mt);
		if (pfn != PFN_NONE) {
			z->stats.mm_page_alloc_extfrag++;
			return pfn;
		}
	}
	return PFN_NONE;
}

/* __rmqueue_steal(): smallest fallback block, the pageblock keeps its type. */
static unsigned long __rmqueue_steal(struct zone *z, int order, int start_mt)
{
	for (int current_order = order; current_order < NR_PAGE_ORDERS; current_order++) {
		struct free_area *area = &z->free_area[current_order];
		int fallback_mt = find_suitable_fallback(area, (unsigned int)current_order,
							 start_mt, false);
		unsigned long pfn;

		if (fallback_mt == -1)
			continue;
		pfn = get_page_from_free_area(area, fallback_mt);
		page_del_and_expand(z, pfn, order, current_order, fallback_mt);
		z->stats.mm_page_alloc_extfrag++;
		return pfn;
	}
	return PFN_NONE;
}

enum rmqueue_mode { RMQUEUE_NORMAL, RMQUEUE_CLAIM, RMQUEUE_STEAL };

/* __rmqueue() (no CMA) */
static unsigned long __rmqueue(struct zone *z, unsigned int order, int mt,
			       unsigned int alloc_flags, enum rmqueue_mode *mode)
{
	unsigned long pfn;

	switch (*mode) {
	case RMQUEUE_NORMAL:
		pfn = __rmqueue_smallest(z, order, mt);
		if (pfn != PFN_NONE)
			return pfn;
		/* fall through */
	case RMQUEUE_CLAIM:
		pfn = __rmqueue_claim(z, (int)order, mt, alloc_flags);
		if (pfn != PFN_NONE) {
			*mode = RMQUEUE_NORMAL;
			return pfn;
		}
		/* fall through */
	case RMQUEUE_STEAL:
		if (!(alloc_flags & ALLOC_NOFRAGMENT)) {
			pfn = __rmqueue_steal(z, (int)order, mt);
			if (pfn != PFN_NONE) {
				*mode = RMQUEUE_STEAL;
				return pfn;
			}
		}
	}
	return PFN_NONE;
}

/* ---- per-cpu lists ----------------------------------------------------- */

/* order_to_pindex() */
static inline unsigned int order_to_pindex(int mt, unsigned int order)
{
	if (order > PAGE_ALLOC_COSTLY_ORDER) {
		mimicos_check(order == HPAGE_PMD_ORDER, "pcp order %u", order);
		return NR_LOWORDER_PCP_LISTS + (mt == MIGRATE_MOVABLE);
	}
	return (unsigned int)(MIGRATE_PCPTYPES * order) + (unsigned int)mt;
}

/* pindex_to_order() */
static inline unsigned int pindex_to_order(unsigned int pindex)
{
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return HPAGE_PMD_ORDER;
	return pindex / MIGRATE_PCPTYPES;
}

/* pcp_allowed_order() */
static inline bool pcp_allowed_order(unsigned int order)
{
	return order <= PAGE_ALLOC_COSTLY_ORDER || order == HPAGE_PMD_ORDER;
}

static void pcp_list_add(struct zone *z, struct per_cpu_pages *pcp, unsigned int pindex,
			 unsigned long pfn, unsigned int order, bool tail)
{
	struct page *page = pfn_to_page(z, pfn);

	page->flags = PG_pcp;
	page->private = order;
	pfn_list_add(z, &pcp->lists[pindex], pfn, false, tail);
}

static void pcp_list_del(struct zone *z, struct per_cpu_pages *pcp, unsigned int pindex,
			 unsigned long pfn)
{
	pfn_list_del(z, &pcp->lists[pindex], pfn, false);
	pfn_to_page(z, pfn)->flags = 0;
}

/* free_pcppages_bulk() */
static void free_pcppages_bulk(struct zone *z, int count, struct per_cpu_pages *pcp, int pindex)
{
	if (count > pcp->count)
		count = pcp->count;
	pindex = pindex - 1;

	while (count > 0) {
		struct pfn_list *list;
		unsigned int order;
		int nr_pages;

		do {
			if (++pindex > NR_PCP_LISTS - 1)
				pindex = 0;
			list = &pcp->lists[pindex];
		} while (pfn_list_empty(list));

		order = pindex_to_order((unsigned int)pindex);
		nr_pages = 1 << order;
		do {
			unsigned long pfn = list->tail;
			int mt = get_pfnblock_migratetype(z, pfn);

			pcp_list_del(z, pcp, (unsigned int)pindex, pfn);
			count -= nr_pages;
			pcp->count -= nr_pages;
			__free_one_page(z, pfn, order, mt, FPI_NONE);
			z->stats.mm_page_pcpu_drain++;
		} while (count > 0 && !pfn_list_empty(list));
	}
}

/* rmqueue_bulk(): count blocks to the tail of a pcp list; returns how many. */
static int rmqueue_bulk(struct zone *z, unsigned int order, int count,
			struct per_cpu_pages *pcp, unsigned int pindex, int mt,
			unsigned int alloc_flags)
{
	enum rmqueue_mode rmqm = RMQUEUE_NORMAL;
	int i;

	for (i = 0; i < count; ++i) {
		unsigned long pfn = __rmqueue(z, order, mt, alloc_flags, &rmqm);

		if (pfn == PFN_NONE)
			break;
		pcp_list_add(z, pcp, pindex, pfn, order, true);
	}
	return i;
}

static inline int clamp_int(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline int max_int(int a, int b) { return a > b ? a : b; }
static inline int min_int(int a, int b) { return a < b ? a : b; }

/* nr_pcp_alloc(): how many blocks a refill takes from the buddy. */
static int nr_pcp_alloc(struct per_cpu_pages *pcp, struct zone *z, unsigned int order)
{
	int high, base_batch, batch, max_nr_alloc;
	int high_max, high_min;

	base_batch = pcp->batch;
	high_min = pcp->high_min;
	high_max = pcp->high_max;
	high = pcp->high = clamp_int(pcp->high, high_min, high_max);

	if (high < base_batch)
		return 1;
	if (order)
		batch = base_batch;
	else
		batch = base_batch << pcp->alloc_factor;

	if (high_min != high_max && !z->below_high)
		high = pcp->high = min_int(high + batch, high_max);

	if (!order) {
		max_nr_alloc = max_int(high - pcp->count - base_batch, base_batch);
		if (batch <= max_nr_alloc && pcp->alloc_factor < CONFIG_PCP_BATCH_SCALE_MAX)
			pcp->alloc_factor++;
		batch = min_int(batch, max_nr_alloc);
	}
	if (batch > 1)
		batch = max_int(batch >> order, 2);
	return batch;
}

/* __rmqueue_pcplist() + rmqueue_pcplist() */
static unsigned long rmqueue_pcplist(struct zone *z, unsigned int order, int mt,
				     unsigned int alloc_flags, struct per_cpu_pages *pcp)
{
	unsigned int pindex = order_to_pindex(mt, order);
	struct pfn_list *list = &pcp->lists[pindex];
	unsigned long pfn;

	pcp->free_count >>= 1;
	if (pfn_list_empty(list)) {
		int batch = nr_pcp_alloc(pcp, z, order);
		int alloced = rmqueue_bulk(z, order, batch, pcp, pindex, mt, alloc_flags);

		pcp->count += alloced << order;
		if (alloced && z->trace.refill)
			z->trace.refill(z->trace.ctx, order, alloced);
		if (pfn_list_empty(list))
			return PFN_NONE;
	}
	pfn = list->head;
	pcp_list_del(z, pcp, pindex, pfn);
	pcp->count -= 1 << order;
	return pfn;
}

/* nr_pcp_free() */
static int nr_pcp_free(struct per_cpu_pages *pcp, int batch, int high, bool free_high)
{
	int min_nr_free, max_nr_free;

	if (free_high)
		return min_int(pcp->count, batch << CONFIG_PCP_BATCH_SCALE_MAX);
	if (high < batch)
		return 1;
	min_nr_free = batch;
	max_nr_free = high - batch;
	return clamp_int(pcp->free_count, min_nr_free, max_nr_free);
}

/* nr_pcp_high() (ZONE_RECLAIM_ACTIVE is never set: no reclaim) */
static int nr_pcp_high(struct per_cpu_pages *pcp, struct zone *z, int batch, bool free_high)
{
	int high, high_min, high_max;

	high_min = pcp->high_min;
	high_max = pcp->high_max;
	high = pcp->high = clamp_int(pcp->high, high_min, high_max);

	if (!high)
		return 0;
	if (free_high) {
		pcp->high = max_int(high - (batch << CONFIG_PCP_BATCH_SCALE_MAX), high_min);
		return 0;
	}
	if (high_min == high_max)
		return high;
	if (z->below_high) {
		int free_count = max_int(pcp->free_count, batch);

		pcp->high = max_int(high - free_count, high_min);
		high = max_int(pcp->count, high_min);
	} else if (pcp->count >= high) {
		int need_high = pcp->free_count + batch;

		if (pcp->high < need_high)
			pcp->high = clamp_int(need_high, high_min, high_max);
	}
	return high;
}

static bool __zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
				unsigned int alloc_flags, long free_pages);

/* free_frozen_page_commit() */
static void free_frozen_page_commit(struct zone *z, struct per_cpu_pages *pcp,
				    unsigned long pfn, int mt, unsigned int order)
{
	int high, batch, to_free, pindex;
	bool free_high = false;

	pcp->alloc_factor >>= 1;
	z->stats.pgfree += 1UL << order;
	pindex = (int)order_to_pindex(mt, order);
	pcp_list_add(z, pcp, (unsigned int)pindex, pfn, order, false);
	pcp->count += 1 << order;

	batch = pcp->batch;
	if (order && order <= PAGE_ALLOC_COSTLY_ORDER) {
		free_high = (pcp->free_count >= (batch + pcp->high_min / 2) &&
			     (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) &&
			     (!(pcp->flags & PCPF_FREE_HIGH_BATCH) || pcp->count >= batch));
		pcp->flags |= PCPF_PREV_FREE_HIGH_ORDER;
	} else if (pcp->flags & PCPF_PREV_FREE_HIGH_ORDER) {
		pcp->flags &= (uint8_t)~PCPF_PREV_FREE_HIGH_ORDER;
	}
	if (pcp->free_count < (batch << CONFIG_PCP_BATCH_SCALE_MAX))
		pcp->free_count = (short)(pcp->free_count + (1 << order));

	high = nr_pcp_high(pcp, z, batch, free_high);
	if (pcp->count >= high) {
		to_free = nr_pcp_free(pcp, batch, high, free_high);
		while (to_free > 0 && pcp->count > 0) {
			int to_free_batched = min_int(to_free, batch);

			free_pcppages_bulk(z, to_free_batched, pcp, pindex);
			to_free -= to_free_batched;
		}
	}
	if (z->below_high &&
	    __zone_watermark_ok(z, 0, high_wmark_pages(z), 0, (long)z->nr_free_pages))
		z->below_high = false;
}

/* ---- allocation --------------------------------------------------------- */

/* prep_new_page(): the block at pfn is allocated at this order. */
static void prep_new_page(struct zone *z, unsigned long pfn, unsigned int order, gfp_t gfp)
{
	if (order == MAX_PAGE_ORDER) {
		pfn_to_maxblk(z, pfn)->state = MB_ALLOC;
	} else {
		struct page *page = pfn_to_page(z, pfn);

		page->flags = PG_head | ((gfp & __GFP_MOVABLE) ? PG_lru : 0);
		page->private = order;
	}
}

/* reserve_highatomic_pageblock() */
static void reserve_highatomic_pageblock(struct zone *z, unsigned long pfn, unsigned int order)
{
	unsigned long max_managed;
	int mt;

	if (z->managed_pages / 100 < pageblock_nr_pages)
		return;
	max_managed = (z->managed_pages / 100 + pageblock_nr_pages - 1) & ~(pageblock_nr_pages - 1);
	if (z->nr_reserved_highatomic >= max_managed)
		return;
	mt = get_pfnblock_migratetype(z, pfn);
	if (!migratetype_is_mergeable(mt))
		return;
	if (order < pageblock_order) {
		if (move_freepages_block(z, pfn, mt, MIGRATE_HIGHATOMIC) == -1)
			return;
		z->nr_reserved_highatomic += pageblock_nr_pages;
	} else {
		change_pageblock_range(z, pfn, (int)order, MIGRATE_HIGHATOMIC);
		z->nr_reserved_highatomic += 1UL << order;
	}
}

/* rmqueue_buddy() */
static unsigned long rmqueue_buddy(struct zone *z, unsigned int order, unsigned int alloc_flags,
				   int mt)
{
	unsigned long pfn = PFN_NONE;

	if (alloc_flags & ALLOC_HIGHATOMIC)
		pfn = __rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
	if (pfn == PFN_NONE) {
		enum rmqueue_mode rmqm = RMQUEUE_NORMAL;

		pfn = __rmqueue(z, order, mt, alloc_flags, &rmqm);
		if (pfn == PFN_NONE && (alloc_flags & (ALLOC_OOM | ALLOC_NON_BLOCK)))
			pfn = __rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
	}
	return pfn;
}

/* rmqueue() */
static unsigned long rmqueue(struct zone *z, unsigned int order, unsigned int alloc_flags,
			     int mt, unsigned int cpu)
{
	unsigned long pfn = PFN_NONE;

	if (pcp_allowed_order(order))
		pfn = rmqueue_pcplist(z, order, mt, alloc_flags, &z->pcp[cpu]);
	if (pfn == PFN_NONE)
		pfn = rmqueue_buddy(z, order, alloc_flags, mt);
	if (pfn != PFN_NONE) {
		z->stats.pgalloc_normal += 1UL << order;
		z->stats.pgalloc_order[order]++;
	}
	return pfn;
}

/* __zone_watermark_unusable_free() */
static long __zone_watermark_unusable_free(const struct zone *z, unsigned int order,
					   unsigned int alloc_flags)
{
	long unusable_free = (1L << order) - 1;

	if (!(alloc_flags & ALLOC_RESERVES))
		unusable_free += (long)z->nr_free_highatomic;
	return unusable_free;
}

/* __zone_watermark_ok() */
static bool __zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
				unsigned int alloc_flags, long free_pages)
{
	long min = (long)mark;

	free_pages -= __zone_watermark_unusable_free(z, order, alloc_flags);
	if (alloc_flags & ALLOC_RESERVES) {
		if (alloc_flags & ALLOC_MIN_RESERVE) {
			min -= min / 2;
			if (alloc_flags & ALLOC_NON_BLOCK)
				min -= min / 4;
		}
		if (alloc_flags & ALLOC_OOM)
			min -= min / 2;
	}
	if (free_pages <= min + (long)z->lowmem_reserve)
		return false;
	if (!order)
		return true;
	for (unsigned int o = order; o < NR_PAGE_ORDERS; o++) {
		const struct free_area *area = &z->free_area[o];

		if (!area->nr_free)
			continue;
		for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			if (!free_area_empty(area, mt))
				return true;
		if ((alloc_flags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) &&
		    !free_area_empty(area, MIGRATE_HIGHATOMIC))
			return true;
	}
	return false;
}

bool zone_watermark_ok(struct zone *z, unsigned int order, unsigned long mark,
		       unsigned int alloc_flags)
{
	return __zone_watermark_ok(z, order, mark, alloc_flags, (long)z->nr_free_pages);
}

/* zone_watermark_fast() (no watermark boost) */
static bool zone_watermark_fast(struct zone *z, unsigned int order, unsigned long mark,
				unsigned int alloc_flags)
{
	long free_pages = (long)z->nr_free_pages;

	if (!order) {
		long usable_free = free_pages;
		long reserved = __zone_watermark_unusable_free(z, 0, alloc_flags);

		usable_free -= usable_free < reserved ? usable_free : reserved;
		if (usable_free > (long)(mark + z->lowmem_reserve))
			return true;
	}
	return __zone_watermark_ok(z, order, mark, alloc_flags, free_pages);
}

/* get_page_from_freelist() for a zonelist of one zone */
static unsigned long get_page_from_freelist(struct zone *z, gfp_t gfp, unsigned int order,
					    unsigned int alloc_flags, int mt, unsigned int cpu)
{
	unsigned long pfn, mark;

retry:
	if (z->below_high)
		goto check_alloc_wmark;
	mark = high_wmark_pages(z);
	if (zone_watermark_fast(z, order, mark, alloc_flags))
		goto try_this_zone;
	z->below_high = true;

check_alloc_wmark:
	if (!(alloc_flags & ALLOC_NO_WATERMARKS)) {
		mark = z->_watermark[alloc_flags & ALLOC_WMARK_MASK];
		if (!zone_watermark_fast(z, order, mark, alloc_flags))
			goto next_zone;	/* node_reclaim_mode is 0 */
	}

try_this_zone:
	pfn = rmqueue(z, order, alloc_flags, mt, cpu);
	if (pfn != PFN_NONE) {
		prep_new_page(z, pfn, order, gfp);
		if (alloc_flags & ALLOC_HIGHATOMIC)
			reserve_highatomic_pageblock(z, pfn, order);
		return pfn;
	}

next_zone:
	if (alloc_flags & ALLOC_NOFRAGMENT) {
		alloc_flags &= ~ALLOC_NOFRAGMENT;
		goto retry;
	}
	return PFN_NONE;
}

/* gfp_to_alloc_flags() (no cpusets, no OOM victims) */
static unsigned int gfp_to_alloc_flags(gfp_t gfp, unsigned int order)
{
	unsigned int alloc_flags = ALLOC_WMARK_MIN;

	if (gfp & __GFP_HIGH)
		alloc_flags |= ALLOC_MIN_RESERVE;
	if (gfp & __GFP_KSWAPD_RECLAIM)
		alloc_flags |= ALLOC_KSWAPD;
	if (!(gfp & __GFP_DIRECT_RECLAIM) && !(gfp & __GFP_NOMEMALLOC)) {
		alloc_flags |= ALLOC_NON_BLOCK;
		if (order > 0)
			alloc_flags |= ALLOC_HIGHATOMIC;
	}
	return alloc_flags;
}

long __alloc_pages(struct zone *z, gfp_t gfp, unsigned int order, unsigned int cpu)
{
	int mt = gfp_migratetype(gfp);
	unsigned int alloc_flags = ALLOC_WMARK_LOW;
	unsigned long pfn;

	mimicos_check(order <= MAX_PAGE_ORDER, "allocation of order %u", order);
	mimicos_check(cpu < z->nr_cpus, "cpu %u of %u", cpu, z->nr_cpus);
	/* alloc_flags_nofragment() */
	if (gfp & __GFP_KSWAPD_RECLAIM)
		alloc_flags |= ALLOC_KSWAPD;
	if (z->nofragment)
		alloc_flags |= ALLOC_NOFRAGMENT;

	pfn = get_page_from_freelist(z, gfp, order, alloc_flags, mt, cpu);
	if (pfn == PFN_NONE) {
		/*
		 * __alloc_pages_slowpath(): one retry at the min watermark; then,
		 * when the caller may reclaim, the shrinker (the only reclaim
		 * here: no LRU scanning, no compaction) and one more try.
		 */
		alloc_flags = gfp_to_alloc_flags(gfp, order);
		pfn = get_page_from_freelist(z, gfp, order, alloc_flags, mt, cpu);
		if (pfn == PFN_NONE && (gfp & __GFP_DIRECT_RECLAIM) && z->shrinker.scan &&
		    z->shrinker.scan(z->shrinker.ctx)) {
			/* __alloc_pages_direct_reclaim(): what was freed may sit on pcp lists */
			drain_all_pages(z);
			pfn = get_page_from_freelist(z, gfp, order, alloc_flags, mt, cpu);
		}
		if (pfn == PFN_NONE)
			return -ENOMEM;
	}
	if (z->trace.alloc)
		z->trace.alloc(z->trace.ctx, pfn, order, gfp);
	return (long)pfn;
}

/* split_page(): an allocated block becomes 2^order allocated order-0 pages. */
void split_page(struct zone *z, unsigned long pfn, unsigned int order)
{
	struct page *head = pfn_to_page_or_null(z, pfn);
	unsigned long i, flags;

	mimicos_check(order < MAX_PAGE_ORDER && head && (head->flags & PG_head) &&
		      head->private == order, "split_page of pfn %#lx order %u: not allocated so",
		      pfn, order);
	flags = head->flags;
	for (i = 0; i < (1UL << order); i++) {
		struct page *page = pfn_to_page(z, pfn + i);

		page->flags = flags;
		page->private = 0;
	}
}

/*
 * unsplit_page(): the inverse of split_page(): 2^order allocated order-0
 * pages become one allocated block of that order (what prep_compound_page()
 * makes of a block allocated whole). Linux has none (a reservation's pages
 * never stop being one physical run there); a reservation's promotion and
 * whole-block free need it.
 */
void unsplit_page(struct zone *z, unsigned long pfn, unsigned int order)
{
	struct page *head = pfn_to_page_or_null(z, pfn);
	unsigned long i, lru;

	mimicos_check(order < MAX_PAGE_ORDER && head && !(pfn & ((1UL << order) - 1)),
		      "unsplit_page of pfn %#lx order %u", pfn, order);
	lru = head->flags & PG_lru;
	for (i = 0; i < (1UL << order); i++) {
		struct page *p = pfn_to_page(z, pfn + i);

		mimicos_check((p->flags & PG_head) && !(p->flags & (PG_buddy | PG_pcp)) &&
			      p->private == 0, "unsplit_page(%#lx, %u): pfn %#lx not allocated at order 0",
			      pfn, order, pfn + i);
		p->flags = 0;
		p->private = 0;
	}
	head->flags = PG_head | lru;
	head->private = order;
}

/* ---- freeing ------------------------------------------------------------ */

/* free_pages_prepare(): the block must be allocated at exactly this order. */
static void free_pages_prepare(struct zone *z, unsigned long pfn, unsigned int order)
{
	mimicos_check(order <= MAX_PAGE_ORDER, "free of order %u", order);
	mimicos_check(zone_spans_pfn(z, pfn), "free of pfn %#lx outside the zone", pfn);
	mimicos_check(!(pfn & ((1UL << order) - 1)), "free of pfn %#lx misaligned for order %u",
		      pfn, order);
	if (order == MAX_PAGE_ORDER) {
		mimicos_check(pfn_to_maxblk(z, pfn)->state == MB_ALLOC,
			      "free of pfn %#lx order %u: not an allocated block", pfn, order);
	} else {
		struct page *page = pfn_to_page_or_null(z, pfn);

		mimicos_check(page && (page->flags & PG_head) && page->private == order,
			      "free of pfn %#lx order %u: not an allocated block of that order",
			      pfn, order);
		page->flags = 0;
		page->private = 0;
	}
}

/* split_large_buddy() + free_one_page() + __free_pages_ok() */
static void free_one_page(struct zone *z, unsigned long pfn, unsigned int order)
{
	if (order > pageblock_order) {
		int mt0 = get_pfnblock_migratetype(z, pfn);
		int mt1 = get_pfnblock_migratetype(z, pfn + pageblock_nr_pages);

		if (migratetype_is_mergeable(mt0) && migratetype_is_mergeable(mt1)) {
			/* The second pageblock's free merges the first into its type. */
			set_pageblock_migratetype(z, pfn, mt1);
			__free_one_page(z, pfn, order, mt1, FPI_NONE);
		} else {
			split_maxblk(z, pfn);
			__free_one_page(z, pfn, pageblock_order, mt0, FPI_NONE);
			__free_one_page(z, pfn + pageblock_nr_pages, pageblock_order, mt1, FPI_NONE);
		}
	} else {
		__free_one_page(z, pfn, order, get_pfnblock_migratetype(z, pfn), FPI_NONE);
	}
	z->stats.pgfree += 1UL << order;
}

/* __free_pages() -> free_frozen_pages() -> __free_frozen_pages() */
void __free_pages(struct zone *z, unsigned long pfn, unsigned int order, unsigned int cpu)
{
	int mt;

	mimicos_check(cpu < z->nr_cpus, "cpu %u of %u", cpu, z->nr_cpus);
	if (z->trace.free)
		z->trace.free(z->trace.ctx, pfn, order);
	free_pages_prepare(z, pfn, order);
	if (!pcp_allowed_order(order)) {
		free_one_page(z, pfn, order);
		return;
	}
	mt = get_pfnblock_migratetype(z, pfn);
	if (mt >= MIGRATE_PCPTYPES)
		mt = MIGRATE_MOVABLE;
	free_frozen_page_commit(z, &z->pcp[cpu], pfn, mt, order);
}

/* decay_pcp_high() */
bool decay_pcp_high(struct zone *z, unsigned int cpu)
{
	struct per_cpu_pages *pcp = &z->pcp[cpu];
	int high_min = pcp->high_min, batch = pcp->batch, to_drain;
	bool todo = false;

	mimicos_check(cpu < z->nr_cpus, "cpu %u of %u", cpu, z->nr_cpus);
	if (pcp->high > high_min) {
		pcp->high = max_int(max_int(pcp->count - (batch << CONFIG_PCP_BATCH_SCALE_MAX),
					    pcp->high - (pcp->high >> 3)), high_min);
		if (pcp->high > high_min)
			todo = true;
	}
	to_drain = pcp->count - pcp->high;
	while (to_drain > 0) {
		int to_drain_batched = min_int(to_drain, batch);

		free_pcppages_bulk(z, to_drain_batched, pcp, 0);
		todo = true;
		to_drain -= to_drain_batched;
	}
	return todo;
}

/* drain_pages_zone() */
void drain_local_pages(struct zone *z, unsigned int cpu)
{
	struct per_cpu_pages *pcp = &z->pcp[cpu];

	while (pcp->count) {
		int to_drain = min_int(pcp->count, pcp->batch << CONFIG_PCP_BATCH_SCALE_MAX);

		free_pcppages_bulk(z, to_drain, pcp, 0);
	}
}

void drain_all_pages(struct zone *z)
{
	for (unsigned int cpu = 0; cpu < z->nr_cpus; cpu++)
		drain_local_pages(z, cpu);
}

/* ---- setup -------------------------------------------------------------- */

static unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, bit = 1UL << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

static int rounddown_pow_of_two(int n)
{
	int p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

/* zone_batchsize() */
static int zone_batchsize(const struct zone *z)
{
	unsigned long b = z->managed_pages >> 12;
	int batch = (int)(b < (256 * 1024 / PAGE_SIZE) ? b : 256 * 1024 / PAGE_SIZE);

	if (batch <= 1)
		return 1;
	return rounddown_pow_of_two(batch + batch / 2) - 1;
}

/* zone_highsize(): the node's CPUs are all nr_cpus simulated ones. */
static int zone_highsize(const struct zone *z, int batch, int high_fraction)
{
	unsigned long total_pages;
	int high;

	if (!high_fraction)
		total_pages = low_wmark_pages(z);
	else
		total_pages = z->managed_pages / (unsigned long)high_fraction;
	high = (int)(total_pages / z->nr_cpus);
	return max_int(high, batch << 2);
}

/* zone_set_pageset_high_and_batch() */
static void zone_set_pageset_high_and_batch(struct zone *z, int high_fraction)
{
	int new_batch = zone_batchsize(z);
	int new_high_min, new_high_max;

	if (high_fraction) {
		new_high_min = new_high_max = zone_highsize(z, new_batch, high_fraction);
	} else {
		new_high_min = zone_highsize(z, new_batch, 0);
		new_high_max = zone_highsize(z, new_batch, MIN_PERCPU_PAGELIST_HIGH_FRACTION);
	}
	z->pageset_batch = new_batch;
	z->pageset_high_min = new_high_min;
	z->pageset_high_max = new_high_max;
	for (unsigned int cpu = 0; cpu < z->nr_cpus; cpu++) {
		z->pcp[cpu].batch = new_batch;
		z->pcp[cpu].high_min = new_high_min;
		z->pcp[cpu].high_max = new_high_max;
	}
}

/* __setup_per_zone_wmarks() for one lowmem zone */
static void __setup_per_zone_wmarks(struct zone *z)
{
	unsigned long pages_min = (unsigned long)z->min_free_kbytes >> (PAGE_SHIFT - 10);
	unsigned long tmp = pages_min;	/* pages_min * managed / lowmem_pages */
	unsigned long scaled = z->managed_pages * (unsigned long)z->watermark_scale_factor / 10000;

	z->_watermark[WMARK_MIN] = tmp;
	tmp = (tmp >> 2) > scaled ? (tmp >> 2) : scaled;
	z->_watermark[WMARK_LOW] = z->_watermark[WMARK_MIN] + tmp;
	z->_watermark[WMARK_HIGH] = z->_watermark[WMARK_LOW] + tmp;
	z->_watermark[WMARK_PROMO] = z->_watermark[WMARK_HIGH] + tmp;
}

/* nr_free_buffer_pages(): managed pages above the high watermark. */
static unsigned long nr_free_buffer_pages(const struct zone *z)
{
	unsigned long high = high_wmark_pages(z);

	return z->managed_pages > high ? z->managed_pages - high : 0;
}

/*
 * init_per_zone_wmark_min(): calculate_min_free_kbytes() (4 * sqrt(lowmem
 * kbytes), clamped to 128 KiB..256 MiB), then khugepaged's
 * set_recommended_min_free_kbytes() when THP is on: 2 pageblocks plus
 * MIGRATE_PCPTYPES^2 pageblocks per zone, at most 5% of lowmem.
 */
static void init_per_zone_wmark_min(struct zone *z, const struct zone_config *cfg)
{
	if (cfg->min_free_kbytes > 0) {
		z->min_free_kbytes = cfg->min_free_kbytes;
		__setup_per_zone_wmarks(z);
		return;
	}
	{
		unsigned long lowmem_kbytes = nr_free_buffer_pages(z) * (PAGE_SIZE >> 10);
		unsigned long v = int_sqrt(lowmem_kbytes * 16);

		z->min_free_kbytes = (int)(v < 128 ? 128 : v > 262144 ? 262144 : v);
	}
	__setup_per_zone_wmarks(z);
	if (!cfg->thp_disabled) {
		unsigned long nr_zones = 1;
		unsigned long recommended_min = pageblock_nr_pages * nr_zones * 2;
		unsigned long cap = nr_free_buffer_pages(z) / 20;

		recommended_min += pageblock_nr_pages * nr_zones * MIGRATE_PCPTYPES * MIGRATE_PCPTYPES;
		if (recommended_min > cap)
			recommended_min = cap;
		recommended_min <<= (PAGE_SHIFT - 10);
		if (recommended_min > (unsigned long)z->min_free_kbytes)
			z->min_free_kbytes = (int)recommended_min;
		__setup_per_zone_wmarks(z);
	}
}

int zone_init(struct zone *z, const struct zone_config *cfg)
{
	uint64_t nr_pages = cfg->size_bytes >> PAGE_SHIFT;

	memset(z, 0, sizeof(*z));
	if (!nr_pages || (cfg->size_bytes & ((MAX_ORDER_NR_PAGES << PAGE_SHIFT) - 1)) ||
	    cfg->size_bytes > (1ULL << 40) || (cfg->start_pfn & (MAX_ORDER_NR_PAGES - 1)))
		return -EINVAL;

	z->zone_start_pfn = cfg->start_pfn;
	z->spanned_pages = z->managed_pages = nr_pages;
	z->nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
	z->watermark_scale_factor = cfg->watermark_scale_factor ? cfg->watermark_scale_factor : 10;
	z->nofragment = !cfg->no_nofragment;
	z->nr_maxblk = nr_pages >> MAX_PAGE_ORDER;

	z->maxblk = calloc(z->nr_maxblk, sizeof(*z->maxblk));
	z->mem_map = calloc(z->nr_maxblk, sizeof(*z->mem_map));
	z->pageblock_mt = malloc(nr_pages >> pageblock_order);
	z->pcp = calloc(z->nr_cpus, sizeof(*z->pcp));
	if (!z->maxblk || !z->mem_map || !z->pageblock_mt || !z->pcp) {
		zone_release(z);
		return -ENOMEM;
	}
	/* memmap_init(): every pageblock starts MOVABLE. */
	memset(z->pageblock_mt, MIGRATE_MOVABLE, nr_pages >> pageblock_order);
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			pfn_list_init(&z->free_area[o].free_list[mt]);
	for (unsigned int cpu = 0; cpu < z->nr_cpus; cpu++)
		for (int i = 0; i < NR_PCP_LISTS; i++)
			pfn_list_init(&z->pcp[cpu].lists[i]);

	/* memblock_free_all(): ascending, FPI_TO_TAIL, no merges at order 10. */
	for (unsigned long i = 0; i < z->nr_maxblk; i++) {
		unsigned long pfn = z->zone_start_pfn + (i << MAX_PAGE_ORDER);

		z->maxblk[i].state = MB_ALLOC;
		__free_one_page(z, pfn, MAX_PAGE_ORDER, MIGRATE_MOVABLE, FPI_TO_TAIL);
	}

	init_per_zone_wmark_min(z, cfg);
	zone_set_pageset_high_and_batch(z, cfg->percpu_pagelist_high_fraction);
	for (unsigned int cpu = 0; cpu < z->nr_cpus; cpu++)
		if (cfg->free_high_batch)
			z->pcp[cpu].flags |= PCPF_FREE_HIGH_BATCH;
	return 0;
}

void zone_release(struct zone *z)
{
	if (z->mem_map)
		for (unsigned long i = 0; i < z->nr_maxblk; i++)
			free(z->mem_map[i]);
	free(z->mem_map);
	free(z->maxblk);
	free(z->pageblock_mt);
	free(z->pcp);
	memset(z, 0, sizeof(*z));
}

/* ---- inspection --------------------------------------------------------- */

bool zone_pfn_is_free_head(const struct zone *z, unsigned long pfn, unsigned int order)
{
	return order <= MAX_PAGE_ORDER && page_is_buddy(z, pfn, order);
}

unsigned long zone_free_list_nth(const struct zone *z, unsigned int order, int mt,
				 unsigned long k)
{
	unsigned long pfn = z->free_area[order].free_list[mt].head;

	while (pfn != PFN_NONE && k--)
		pfn = lnode(z, pfn, order == MAX_PAGE_ORDER)->next;
	return pfn;
}

struct extent {
	unsigned long pfn, nr;
};

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static void check_list(const struct zone *z, const struct pfn_list *l, bool maxorder,
		       struct extent *ext, unsigned long *n, unsigned long cap)
{
	unsigned long pfn = l->head, prev = PFN_NONE, count = 0;

	while (pfn != PFN_NONE) {
		const struct page_link *node;

		mimicos_check(zone_spans_pfn(z, pfn), "list entry %#lx outside the zone", pfn);
		node = lnode(z, pfn, maxorder);
		mimicos_check(node->prev == prev, "pfn %#lx: prev %#lx, expected %#lx",
			      pfn, node->prev, prev);
		mimicos_check(*n < cap, "more list entries than pages");
		ext[(*n)++].pfn = pfn;
		count++;
		prev = pfn;
		pfn = node->next;
	}
	mimicos_check(l->tail == prev, "list tail %#lx, last entry %#lx", l->tail, prev);
	mimicos_check(l->nr == count, "list count %lu, entries %lu", l->nr, count);
}

void zone_check(const struct zone *z)
{
	unsigned long cap = 0, n = 0, free_pages = 0, blocks_pages = 0, highatomic = 0;
	unsigned long nr_mb_free = 0, chunks = 0;
	struct extent *ext;

	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		cap += z->free_area[o].nr_free;
	for (unsigned int cpu = 0; cpu < z->nr_cpus; cpu++)
		cap += (unsigned long)z->pcp[cpu].count;
	ext = calloc(cap + 1, sizeof(*ext));
	mimicos_check(ext, "out of host memory for zone_check");

	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		unsigned long nr = 0;

		for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
			unsigned long first = n;

			check_list(z, &z->free_area[o].free_list[mt], o == MAX_PAGE_ORDER, ext, &n, cap);
			for (unsigned long i = first; i < n; i++) {
				unsigned long pfn = ext[i].pfn;
				unsigned long pb_n = o >= pageblock_order ? 1UL << (o - pageblock_order) : 1;

				ext[i].nr = 1UL << o;
				mimicos_check(!(pfn & ((1UL << o) - 1)), "free pfn %#lx misaligned for order %u",
					      pfn, o);
				mimicos_check(page_is_buddy(z, pfn, o), "pfn %#lx on order-%u list %d is not a free block",
					      pfn, o, mt);
				for (unsigned long b = 0; b < pb_n; b++)
					mimicos_check(get_pfnblock_migratetype(z, pfn + b * pageblock_nr_pages) == mt,
						      "free pfn %#lx order %u on list %d in a pageblock of type %d",
						      pfn, o, mt, get_pfnblock_migratetype(z, pfn + b * pageblock_nr_pages));
				/* Buddies of the same order are merged unless types forbid it. */
				if (o < MAX_PAGE_ORDER) {
					unsigned long b = __find_buddy_pfn(pfn, o);

					if (page_is_buddy(z, b, o))
						mimicos_check(o >= pageblock_order &&
							      get_pfnblock_migratetype(z, b) != mt &&
							      (!migratetype_is_mergeable(mt) ||
							       !migratetype_is_mergeable(get_pfnblock_migratetype(z, b))),
							      "free buddies %#lx and %#lx of order %u not merged",
							      pfn, b, o);
				}
				free_pages += 1UL << o;
				if (o >= pageblock_order)
					blocks_pages += 1UL << o;
				if (mt == MIGRATE_HIGHATOMIC)
					highatomic += 1UL << o;
			}
			nr += n - first;
		}
		mimicos_check(nr == z->free_area[o].nr_free, "order %u: nr_free %lu, listed %lu",
			      o, z->free_area[o].nr_free, nr);
	}
	mimicos_check(free_pages == z->nr_free_pages, "nr_free_pages %lu, listed %lu",
		      z->nr_free_pages, free_pages);
	mimicos_check(blocks_pages == z->nr_free_pages_blocks, "nr_free_pages_blocks %lu, listed %lu",
		      z->nr_free_pages_blocks, blocks_pages);
	mimicos_check(highatomic == z->nr_free_highatomic, "nr_free_highatomic %lu, listed %lu",
		      z->nr_free_highatomic, highatomic);

	for (unsigned int cpu = 0; cpu < z->nr_cpus; cpu++) {
		const struct per_cpu_pages *pcp = &z->pcp[cpu];
		unsigned long pages = 0;

		for (unsigned int pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
			unsigned int order = pindex_to_order(pindex);
			unsigned long first = n;

			check_list(z, &pcp->lists[pindex], false, ext, &n, cap);
			for (unsigned long i = first; i < n; i++) {
				const struct page *page = pfn_to_page(z, ext[i].pfn);

				ext[i].nr = 1UL << order;
				mimicos_check((page->flags & PG_pcp) && page->private == order,
					      "pfn %#lx on cpu %u pcp list %u is not a pcp page of order %u",
					      ext[i].pfn, cpu, pindex, order);
				pages += 1UL << order;
			}
		}
		mimicos_check(pages == (unsigned long)pcp->count, "cpu %u pcp count %d, listed %lu",
			      cpu, pcp->count, pages);
	}

	qsort(ext, n, sizeof(*ext), extent_cmp);
	for (unsigned long i = 1; i < n; i++)
		mimicos_check(ext[i - 1].pfn + ext[i - 1].nr <= ext[i].pfn,
			      "blocks %#lx+%lu and %#lx+%lu overlap",
			      ext[i - 1].pfn, ext[i - 1].nr, ext[i].pfn, ext[i].nr);
	free(ext);

	for (unsigned long i = 0; i < z->nr_maxblk; i++) {
		mimicos_check((z->maxblk[i].state == MB_SPLIT) == (z->mem_map[i] != NULL),
			      "max-order block %lu: state %d with%s struct pages", i,
			      z->maxblk[i].state, z->mem_map[i] ? "" : "out");
		nr_mb_free += z->maxblk[i].state == MB_FREE;
		chunks += z->mem_map[i] != NULL;
	}
	mimicos_check(nr_mb_free == z->free_area[MAX_PAGE_ORDER].nr_free,
		      "%lu free max-order blocks, %lu listed", nr_mb_free,
		      z->free_area[MAX_PAGE_ORDER].nr_free);
	mimicos_check(chunks == z->nr_mem_map_chunks, "%lu struct page chunks, counted %lu",
		      chunks, z->nr_mem_map_chunks);
}

/* ---- fragmentation seeding ---------------------------------------------- */

static bool bits_any(const uint64_t *bm, unsigned long start, unsigned long n)
{
	for (unsigned long i = start; i < start + n;) {
		if (!(i & 63) && i + 64 <= start + n) {
			if (bm[i >> 6])
				return true;
			i += 64;
		} else {
			if (bm[i >> 6] & (1ULL << (i & 63)))
				return true;
			i++;
		}
	}
	return false;
}

static bool bits_all(const uint64_t *bm, unsigned long start, unsigned long n)
{
	for (unsigned long i = start; i < start + n;) {
		if (!(i & 63) && i + 64 <= start + n) {
			if (bm[i >> 6] != ~0ULL)
				return false;
			i += 64;
		} else {
			if (!(bm[i >> 6] & (1ULL << (i & 63))))
				return false;
			i++;
		}
	}
	return true;
}

static void bits_set(uint64_t *bm, unsigned long start, unsigned long n)
{
	for (unsigned long i = start; i < start + n; i++)
		bm[i >> 6] |= 1ULL << (i & 63);
}

/*
 * A free block of order o at zone offset off is placeable when its pages are
 * not free yet and its buddy is not entirely free: an entirely free buddy
 * range always holds two free buddies of one order, which Linux would have
 * merged. Checking the later-placed block of each pair suffices.
 */
static bool seed_fits(const uint64_t *bm, unsigned long off, unsigned int o)
{
	if (bits_any(bm, off, 1UL << o))
		return false;
	if (o < MAX_PAGE_ORDER && bits_all(bm, off ^ (1UL << o), 1UL << o))
		return false;
	return true;
}

int zone_seed_free_counts(struct zone *z, const unsigned long nr_free[NR_PAGE_ORDERS],
			  uint64_t seed)
{
	unsigned long total = 0, nr_blocks = 0, k = 0;
	struct extent *chosen;
	struct wl_rng rng;
	uint64_t *bm;

	mimicos_check(z->nr_free_pages == z->managed_pages,
		      "seeding needs a freshly initialised zone");
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		if (nr_free[o] > (z->managed_pages >> o))
			return -ENOSPC;
		total += nr_free[o] << o;
		nr_blocks += nr_free[o];
	}
	if (total > z->managed_pages)
		return -ENOSPC;

	bm = calloc((z->managed_pages + 63) / 64, sizeof(*bm));
	chosen = calloc(nr_blocks + 1, sizeof(*chosen));
	if (!bm || !chosen) {
		free(bm);
		free(chosen);
		return -ENOMEM;
	}
	wl_rng_seed(&rng, seed);

	/* Place the blocks, largest first: seeded random tries, then a scan. */
	for (int o = MAX_PAGE_ORDER; o >= 0; o--) {
		unsigned long slots = z->managed_pages >> o;

		for (unsigned long i = 0; i < nr_free[o]; i++) {
			unsigned long s = wl_rng_below(&rng, slots), off = PFN_NONE;

			for (int t = 0; t < 64 && off == PFN_NONE; t++) {
				if (seed_fits(bm, s << o, (unsigned int)o))
					off = s << o;
				else
					s = wl_rng_below(&rng, slots);
			}
			for (unsigned long j = 0; j < slots && off == PFN_NONE; j++) {
				unsigned long c = (s + j) % slots;

				if (seed_fits(bm, c << o, (unsigned int)o))
					off = c << o;
			}
			if (off == PFN_NONE) {
				free(bm);
				free(chosen);
				return -ENOSPC;
			}
			bits_set(bm, off, 1UL << o);
			chosen[k].pfn = z->zone_start_pfn + off;
			chosen[k++].nr = 1UL << o;
		}
	}

	/* Everything becomes held by the system, then the chosen blocks are freed. */
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++) {
		for (int mt = 0; mt < MIGRATE_TYPES; mt++)
			pfn_list_init(&z->free_area[o].free_list[mt]);
		z->free_area[o].nr_free = 0;
	}
	z->nr_free_pages = z->nr_free_pages_blocks = 0;
	for (unsigned long i = 0; i < z->nr_maxblk; i++) {
		unsigned long off = i << MAX_PAGE_ORDER;

		if (bits_any(bm, off, MAX_ORDER_NR_PAGES) && !bits_all(bm, off, MAX_ORDER_NR_PAGES)) {
			/* Held pages sit in MOVABLE pageblocks: count them as LRU pages. */
			split_maxblk(z, z->zone_start_pfn + off);
			for (unsigned long j = 0; j < MAX_ORDER_NR_PAGES; j++)
				z->mem_map[i][j].flags = PG_lru;
		} else
			z->maxblk[i].state = MB_RESERVED;
	}
	for (unsigned long i = 0; i < k; i++) {
		unsigned int o = (unsigned int)__builtin_ctzl(chosen[i].nr);

		__free_one_page(z, chosen[i].pfn, o, MIGRATE_MOVABLE, FPI_NONE);
	}
	free(bm);
	free(chosen);
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		mimicos_check(z->free_area[o].nr_free == nr_free[o],
			      "seeded order %u: %lu free blocks, wanted %lu", o,
			      z->free_area[o].nr_free, nr_free[o]);
	z->below_high = false;
	return 0;
}

int buddyinfo_parse(const char *text, const char *zone_name, unsigned long nr_free[NR_PAGE_ORDERS])
{
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[512], name[64];
		int node, pos = 0;

		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			if (sscanf(buf, " Node %d, zone %63s%n", &node, name, &pos) == 2 &&
			    (!zone_name || !strcmp(name, zone_name))) {
				unsigned long v[NR_PAGE_ORDERS + 1];
				const char *p = buf + pos;
				int cnt = 0, used;

				while (cnt <= NR_PAGE_ORDERS && sscanf(p, "%lu%n", &v[cnt], &used) == 1) {
					p += used;
					cnt++;
				}
				while (*p == ' ' || *p == '\t' || *p == '\r')
					p++;
				if (cnt == NR_PAGE_ORDERS && !*p) {
					memcpy(nr_free, v, sizeof(v[0]) * NR_PAGE_ORDERS);
					return 0;
				}
				return -EINVAL;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -EINVAL;
}

int zone_seed_buddyinfo(struct zone *z, const char *text, const char *zone_name, uint64_t seed)
{
	unsigned long nr_free[NR_PAGE_ORDERS];
	int err = buddyinfo_parse(text, zone_name, nr_free);

	return err ? err : zone_seed_free_counts(z, nr_free, seed);
}

/* frag_show_print() */
int zone_buddyinfo(const struct zone *z, char *buf, size_t len)
{
	int n = snprintf(buf, len, "Node %d, zone %8s ", 0, "Normal");

	for (unsigned int o = 0; o < NR_PAGE_ORDERS && n >= 0 && (size_t)n < len; o++)
		n += snprintf(buf + n, len - (size_t)n, "%6lu ", z->free_area[o].nr_free);
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "\n");
	return n;
}
