/*
 * vmstat.h - MimicOS's event counters, named as Linux names them.
 *
 * Two kinds, as in the kernel named in mimicos/version.h:
 *
 *  - vm events (include/linux/vm_event_item.h, printed by mm/vmstat.c as
 *    /proc/vmstat lines): the subset MimicOS performs, in Linux's relative
 *    order. Events Linux has but MimicOS cannot produce (file THP, swap,
 *    migration, PUD splits, compaction) are left out rather than kept at 0.
 *  - per-size mTHP stats (enum mthp_stat_item in include/linux/huge_mm.h,
 *    /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/stats/<name>),
 *    counted per folio order by count_mthp_stat(). The anonymous ones only:
 *    no zswpout, swpin*, swpout*, shmem_*.
 *
 * Each list below is the only place a counter is named: it generates the
 * enum and the strings, and the strings are Linux's own, so compare/ matches
 * a simulated counter with the real /proc/vmstat or sysfs one by name.
 *
 * Counters are plain fields of struct vm_events: there is no global state,
 * the owner (one per simulated machine; a copy per region of interest) passes
 * it in. vm_events_to_json() is the one place they are printed.
 */
#ifndef MIMICOS_VMSTAT_H
#define MIMICOS_VMSTAT_H

#include <stdint.h>

#include "mimicos/mm_types.h"

/*
 * X(ENUM_NAME, linux_name): the vm events MimicOS counts. linux_name is the
 * /proc/vmstat key. Kept in the order of enum vm_event_item in 6.18.
 */
#define VM_EVENT_ITEMS(X)							\
	X(PGALLOC_NORMAL, pgalloc_normal)	/* pages allocated in ZONE_NORMAL */ \
	X(PGFREE, pgfree)			/* pages freed */		\
	X(PGFAULT, pgfault)			/* every fault (handle_mm_fault) */ \
	X(PGMAJFAULT, pgmajfault)		/* VM_FAULT_MAJOR (never, anon) */ \
	X(THP_FAULT_ALLOC, thp_fault_alloc)	/* PMD THP allocated at fault */ \
	X(THP_FAULT_FALLBACK, thp_fault_fallback) /* PMD THP alloc failed */	\
	X(THP_FAULT_FALLBACK_CHARGE, thp_fault_fallback_charge) /* memcg charge failed */ \
	X(THP_COLLAPSE_ALLOC, thp_collapse_alloc) /* khugepaged/MADV_COLLAPSE alloc */ \
	X(THP_COLLAPSE_ALLOC_FAILED, thp_collapse_alloc_failed)		\
	X(THP_SPLIT_PAGE, thp_split_page)	/* PMD-order folio split */	\
	X(THP_SPLIT_PAGE_FAILED, thp_split_page_failed)			\
	X(THP_DEFERRED_SPLIT_PAGE, thp_deferred_split_page) /* queued partially mapped */ \
	X(THP_UNDERUSED_SPLIT_PAGE, thp_underused_split_page) /* shrinker split, max_ptes_none */ \
	X(THP_SPLIT_PMD, thp_split_pmd)		/* PMD mapping split to PTEs */	\
	X(THP_SCAN_EXCEED_NONE_PTE, thp_scan_exceed_none_pte) /* khugepaged bail-outs */ \
	X(THP_SCAN_EXCEED_SWAP_PTE, thp_scan_exceed_swap_pte)		\
	X(THP_SCAN_EXCEED_SHARE_PTE, thp_scan_exceed_share_pte) \
	X(THP_ZERO_PAGE_ALLOC, thp_zero_page_alloc) /* huge zero folio allocated */ \
	X(THP_ZERO_PAGE_ALLOC_FAILED, thp_zero_page_alloc_failed)

enum vm_event_item {
#define X(item, name) item,
	VM_EVENT_ITEMS(X)
#undef X
	NR_VM_EVENT_ITEMS
};

/*
 * X(ENUM_NAME, sysfs_name): the per-size anonymous mTHP stats, in the order
 * of 6.18's enum mthp_stat_item. nr_anon and nr_anon_partially_mapped are
 * gauges (mod_mthp_stat() with +1/-1), the rest events.
 */
#define MTHP_STAT_ITEMS(X)							\
	X(MTHP_STAT_ANON_FAULT_ALLOC, anon_fault_alloc)			\
	X(MTHP_STAT_ANON_FAULT_FALLBACK, anon_fault_fallback)		\
	X(MTHP_STAT_ANON_FAULT_FALLBACK_CHARGE, anon_fault_fallback_charge) \
	X(MTHP_STAT_SPLIT, split)						\
	X(MTHP_STAT_SPLIT_FAILED, split_failed)				\
	X(MTHP_STAT_SPLIT_DEFERRED, split_deferred)				\
	X(MTHP_STAT_NR_ANON, nr_anon)						\
	X(MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, nr_anon_partially_mapped)

enum mthp_stat_item {
#define X(item, name) item,
	MTHP_STAT_ITEMS(X)
#undef X
	__MTHP_STAT_COUNT
};

/* Orders with a stats row: 0..PMD order (Linux: ilog2(MAX_PTRS_PER_PTE) + 1). */
#define MTHP_STAT_NR_ORDERS	(PMD_SHIFT - PAGE_SHIFT + 1)
/* Orders printed: those anonymous THP can have, 2 .. PMD order (16kB..2048kB). */
#define MTHP_STAT_MIN_ORDER	2

struct vm_events {
	uint64_t event[NR_VM_EVENT_ITEMS];
	uint64_t mthp[MTHP_STAT_NR_ORDERS][__MTHP_STAT_COUNT];
};

/* Linux's string for an event or a per-size stat ("pgfault", "split"); "?" if out of range. */
const char *vm_event_name(enum vm_event_item item);
const char *mthp_stat_name(enum mthp_stat_item item);

/* All counters to 0. */
void vm_events_init(struct vm_events *ev);

static inline void count_vm_events(struct vm_events *ev, enum vm_event_item item,
				   uint64_t delta)
{
	mimicos_check((unsigned)item < NR_VM_EVENT_ITEMS, "vm event %d", (int)item);
	ev->event[item] += delta;
}

/* count_vm_event() of include/linux/vmstat.h. */
static inline void count_vm_event(struct vm_events *ev, enum vm_event_item item)
{
	count_vm_events(ev, item, 1);
}

/*
 * mod_mthp_stat() of include/linux/huge_mm.h: like Linux, orders <= 0 or
 * above the PMD order are ignored. A gauge may not go below 0.
 */
static inline void mod_mthp_stat(struct vm_events *ev, int order,
				 enum mthp_stat_item item, long delta)
{
	uint64_t *v;

	if (order <= 0 || order >= MTHP_STAT_NR_ORDERS)
		return;
	mimicos_check((unsigned)item < __MTHP_STAT_COUNT, "mthp stat %d", (int)item);
	v = &ev->mthp[order][item];
	mimicos_check(delta >= 0 || *v >= (uint64_t)-delta,
		      "mthp stat %s of order %d below 0", mthp_stat_name(item), order);
	*v += (uint64_t)delta;
}

/* count_mthp_stat() of include/linux/huge_mm.h. */
static inline void count_mthp_stat(struct vm_events *ev, int order,
				   enum mthp_stat_item item)
{
	mod_mthp_stat(ev, order, item, 1);
}

/*
 * The counters as a cJSON tree (free with cJSON_Delete), every counter
 * printed, zeros included, in list order:
 *
 *   {"vmstat": {"pgalloc_normal": 0, ..., "thp_zero_page_alloc_failed": 0},
 *    "mthp": {"hugepages-16kB": {"anon_fault_alloc": 0, ...}, ...,
 *             "hugepages-2048kB": {...}}}
 *
 * The size keys are Linux's sysfs directory names. NULL if out of memory.
 */
struct cJSON;
struct cJSON *vm_events_to_json(const struct vm_events *ev);

#endif
