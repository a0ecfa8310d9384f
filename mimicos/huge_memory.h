/*
 * huge_memory.h - THP and mTHP policy: the sysfs knobs and which folio
 * orders an anonymous VMA may use; and the PMD-level mechanisms.
 *
 * Imitates include/linux/huge_mm.h and mm/huge_memory.c of the kernel named
 * in mimicos/version.h (anonymous memory only: no files, shmem, DAX or
 * hugetlb). huge_memory.c also holds mm/huge_memory.c's mechanisms: the
 * PMD-level fault handlers and the huge zero folio, __split_huge_pmd_locked,
 * split_huge_pmd_address, zap_huge_pmd, change_huge_pmd and the deferred
 * split queue (deferred_split_folio, deferred_split_scan, split_folio);
 * those taking the fault path's or the zap's state are declared in
 * mimicos/internal.h. The fault path (memory.c) and khugepaged call in here.
 *
 * The knobs (/sys/kernel/mm/transparent_hugepage):
 *   enabled            always | madvise | never          (global)
 *   defrag             always | defer | defer+madvise | madvise | never
 *   use_zero_page      0 | 1   (huge zero folio on read faults)
 *   hugepages-<N>kB/enabled   always | inherit | madvise | never, one per
 *                      anonymous order 2..9 (16kB .. 2048kB); Linux's
 *                      default: 2048kB inherit, the others never
 *   khugepaged/{scan_sleep_millisecs, alloc_sleep_millisecs, pages_to_scan,
 *               max_ptes_none, max_ptes_swap, max_ptes_shared, defrag}
 *
 * The order policy (thp_vma_allowable_orders() and
 * __thp_vma_allowable_orders() in 6.18), for an anonymous VMA:
 *
 *   allowed = per-size always
 *           U per-size madvise                       if VM_HUGEPAGE
 *           U per-size inherit  if global always, or VM_HUGEPAGE and global != never
 *
 * restricted to orders 2..9 (THP_ORDERS_ALL_ANON), and none at all when the
 * VMA has VM_NOHUGEPAGE, the mm has MMF_DISABLE_THP_COMPLETELY (prctl
 * PR_SET_THP_DISABLE), or MMF_DISABLE_THP_EXCEPT_ADVISED without VM_HUGEPAGE,
 * or the VMA is a stack still being set up by exec (vma_is_temporary_stack()).
 * Note, as in Linux: a VM_GROWSDOWN stack after exec is not excluded (thread
 * stacks are, because MAP_STACK sets VM_NOHUGEPAGE). Outside the fault path
 * (TVA_SMAPS, TVA_KHUGEPAGED) the orders whose aligned block cannot fit at
 * the VMA's end are dropped too, and khugepaged needs an anon_vma.
 * MADV_COLLAPSE (TVA_FORCED_COLLAPSE) ignores the sysfs knobs and the
 * "except advised" prctl, but not VM_NOHUGEPAGE.
 *
 * Modules (struct mimicos_modules) switch whole mechanisms off, as if the
 * kernel were built without them; they never change the knobs, so the
 * effective configuration still reads as the workload gave it:
 *   thp         off: no order is ever allowed (!CONFIG_TRANSPARENT_HUGEPAGE);
 *               implies no mTHP, no huge zero folio, no khugepaged
 *   mthp        off: only the PMD order remains (orders 2..8 unsupported)
 *   huge_zero_page  off: read faults never map the huge zero folio
 *   khugepaged  off: no mm is ever registered or scanned
 */
#ifndef MIMICOS_HUGE_MEMORY_H
#define MIMICOS_HUGE_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "mimicos/mm_types.h"
#include "mimicos/page_alloc.h"
#include "workload/thp_modes.h"

struct mimicos;
struct wl_kernel;

#ifndef PMD_ORDER
#define PMD_ORDER		HPAGE_PMD_ORDER
#endif
#define HPAGE_PMD_NR		(1 << HPAGE_PMD_ORDER)

#ifndef BIT
#define BIT(nr)			(1UL << (nr))
#endif

/* All orders up to PMD_ORDER except 0 (not huge) and 1 (THP limitation). */
#define THP_ORDERS_ALL_ANON	((BIT(PMD_ORDER + 1) - 1) & ~(BIT(0) | BIT(1)))
/* The mTHP orders: anonymous orders below the PMD order (16kB .. 1MB). */
#define THP_ORDERS_MTHP		(THP_ORDERS_ALL_ANON & ~BIT(PMD_ORDER))

/* vm_flags bits mm_types.h does not carry (include/linux/mm.h values). */
#ifndef VM_SEQ_READ
#define VM_SEQ_READ		0x00008000UL
#endif
#ifndef VM_RAND_READ
#define VM_RAND_READ		0x00010000UL
#endif
/* exec's stack before setup_arg_pages() finishes (include/linux/mm.h). */
#define VM_STACK_INCOMPLETE_SETUP	(VM_RAND_READ | VM_SEQ_READ)

/* mm flag bits (bit numbers, include/linux/mm_types.h 6.18), set by prctl. */
#define MMF_DISABLE_THP_EXCEPT_ADVISED	23	/* PR_THP_DISABLE_EXCEPT_ADVISED */
#define MMF_DISABLE_THP_COMPLETELY	24	/* PR_SET_THP_DISABLE */

/*
 * gfp bits the THP policy needs beyond page_alloc.h's, with 6.18's values
 * (include/linux/gfp_types.h). GFP_TRANSHUGE_LIGHT comes from page_alloc.h;
 * GFP_TRANSHUGE is Linux's definition on top of it.
 */
#ifndef GFP_TRANSHUGE
#define GFP_TRANSHUGE		(GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM)
#endif

/*
 * The sysfs settings' values, from workload/thp_modes.h's lists (one place
 * for the modes and their names):
 *
 * enabled: ALWAYS is TRANSPARENT_HUGEPAGE_FLAG, MADVISE
 *	TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG;
 * defrag: ALWAYS is TRANSPARENT_HUGEPAGE_DEFRAG_DIRECT_FLAG, DEFER
 *	..._DEFRAG_KSWAPD_FLAG, DEFER_MADVISE ..._DEFRAG_KSWAPD_OR_MADV_FLAG,
 *	MADVISE ..._DEFRAG_REQ_MADV_FLAG;
 * hugepages-<N>kB/enabled: which of huge_anon_orders_{always,inherit,madvise}
 *	holds the order.
 */
#define THP_ENABLED_ENUM(e, name) THP_ENABLED_##e,
#define THP_DEFRAG_ENUM(e, name) THP_DEFRAG_##e,
#define THP_SIZE_ENUM(e, name) THP_SIZE_##e,
enum thp_enabled { THP_ENABLED_MODES(THP_ENABLED_ENUM) };
enum thp_defrag { THP_DEFRAG_MODES(THP_DEFRAG_ENUM) };
enum thp_size_mode { THP_SIZE_MODES(THP_SIZE_ENUM) };
#undef THP_ENABLED_ENUM
#undef THP_DEFRAG_ENUM
#undef THP_SIZE_ENUM

/* /sys/kernel/mm/transparent_hugepage/khugepaged/ (mm/khugepaged.c). */
struct khugepaged_settings {
	unsigned int scan_sleep_millisecs;	/* 10000 */
	unsigned int alloc_sleep_millisecs;	/* 60000 */
	unsigned int pages_to_scan;		/* HPAGE_PMD_NR * 8 = 4096, > 0 */
	unsigned int max_ptes_none;		/* HPAGE_PMD_NR - 1 = 511, <= 511 */
	unsigned int max_ptes_swap;		/* HPAGE_PMD_NR / 8 = 64, <= 511 */
	unsigned int max_ptes_shared;		/* HPAGE_PMD_NR / 2 = 256, <= 511 */
	bool defrag;				/* TRANSPARENT_HUGEPAGE_DEFRAG_KHUGEPAGED_FLAG, 1 */
};

/* Mechanisms that can be switched off (see the top of this file). */
struct mimicos_modules {
	bool thp;
	bool mthp;
	bool huge_zero_page;
	bool khugepaged;
};

struct thp_settings {
	enum thp_enabled enabled;
	enum thp_defrag defrag;
	bool use_zero_page;
	/* Per anonymous order (2..PMD_ORDER); entries 0 and 1 are unused (NEVER). */
	enum thp_size_mode size[PMD_ORDER + 1];
	struct khugepaged_settings khugepaged;
	struct mimicos_modules modules;
};

/* Every module on. */
void mimicos_modules_init(struct mimicos_modules *m);

/*
 * Linux's boot defaults on the host of the facts file (CONFIG_TRANSPARENT_
 * HUGEPAGE_MADVISE): enabled=madvise, defrag=madvise, use_zero_page=1,
 * hugepages-2048kB=inherit, 16kB..1MB=never, khugepaged defaults; all
 * modules on.
 */
void thp_settings_init(struct thp_settings *s);

/*
 * The settings of a workload's kernel block. Every setting must already be
 * resolved (wl_kernel_resolve()): one left to the host is -EINVAL, as is a
 * khugepaged value Linux's sysfs would refuse (pages_to_scan 0, max_ptes_*
 * above 511, defrag not 0/1, a negative or too large value). The spec has no
 * key for hugepages-2048kB, which keeps Linux's default (inherit). 'modules'
 * NULL means every module on. Returns 0 or -EINVAL (s then holds defaults).
 */
int thp_settings_from_spec(struct thp_settings *s, const struct wl_kernel *k,
			   const struct mimicos_modules *modules);

/* The sysfs spellings ("defer+madvise", "inherit", ...). */
const char *thp_enabled_name(enum thp_enabled v);
const char *thp_defrag_name(enum thp_defrag v);
const char *thp_size_mode_name(enum thp_size_mode v);

/* hugepage_global_enabled() / hugepage_global_always(). */
static inline bool hugepage_global_enabled(const struct thp_settings *s)
{
	return s->enabled != THP_ENABLED_NEVER;
}

static inline bool hugepage_global_always(const struct thp_settings *s)
{
	return s->enabled == THP_ENABLED_ALWAYS;
}

/* The anonymous orders the enabled modules support (THP_ORDERS_ALL_ANON, less what is off). */
unsigned long thp_orders_supported(const struct thp_settings *s);

/* huge_anon_orders_always / _inherit / _madvise: the supported orders set to 'mode'. */
unsigned long huge_anon_orders(const struct thp_settings *s, enum thp_size_mode mode);

/* transparent_hugepage_use_zero_page(), and the huge zero page module on. */
static inline bool transparent_hugepage_use_zero_page(const struct thp_settings *s)
{
	return s->modules.thp && s->modules.huge_zero_page && s->use_zero_page;
}

/* hugepage_pmd_enabled() (anonymous part): could any VMA get a PMD THP? */
bool hugepage_pmd_enabled(const struct thp_settings *s);

/* khugepaged runs: its module is on and hugepage_pmd_enabled() (hugepage_pmd_enabled() gate of start_stop_khugepaged()). */
static inline bool khugepaged_enabled(const struct thp_settings *s)
{
	return s->modules.khugepaged && hugepage_pmd_enabled(s);
}

/* highest_order(): the highest set order, -1 if none. */
static inline int highest_order(unsigned long orders)
{
	return orders ? (int)(8 * sizeof(orders)) - 1 - __builtin_clzl(orders) : -1;
}

/* next_order(): drop 'prev' from *orders and return the next highest. */
static inline int next_order(unsigned long *orders, int prev)
{
	*orders &= ~BIT(prev);
	return highest_order(*orders);
}

/* Who asks (enum tva_type, include/linux/huge_mm.h 6.18). */
enum tva_type {
	TVA_SMAPS,		/* "THPeligible:" in smaps */
	TVA_PAGEFAULT,		/* serving a page fault */
	TVA_KHUGEPAGED,		/* khugepaged collapse */
	TVA_FORCED_COLLAPSE,	/* MADV_COLLAPSE: sysfs knobs ignored */
};

/*
 * vma_thp_disabled(): VM_NOHUGEPAGE, or the prctl bits of 'mm_flags' (a
 * bit mask of 1UL << MMF_*: mm_struct has no flags word yet).
 */
bool vma_thp_disabled(vm_flags_t vm_flags, unsigned long mm_flags, bool forced_collapse);

/* vma_is_temporary_stack(): a stack VMA exec has not finished setting up. */
static inline bool vma_is_temporary_stack(const struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_GROWSDOWN))
		return false;
	return (vma->vm_flags & VM_STACK_INCOMPLETE_SETUP) == VM_STACK_INCOMPLETE_SETUP;
}

/*
 * thp_vma_allowable_orders(): the subset of 'orders' the policy allows for
 * the anonymous 'vma', judged with 'vm_flags' (which may differ from
 * vma->vm_flags, e.g. during madvise) and the mm's MMF_* bits 'mm_flags'.
 * Returns a bit mask (bit n = order n); 0 when none.
 */
unsigned long thp_vma_allowable_orders(const struct thp_settings *s,
				       const struct vm_area_struct *vma,
				       vm_flags_t vm_flags, unsigned long mm_flags,
				       enum tva_type type, unsigned long orders);

static inline bool thp_vma_allowable_order(const struct thp_settings *s,
					   const struct vm_area_struct *vma,
					   vm_flags_t vm_flags, unsigned long mm_flags,
					   enum tva_type type, int order)
{
	return thp_vma_allowable_orders(s, vma, vm_flags, mm_flags, type, BIT(order)) != 0;
}

/* thp_vma_suitable_order(): the order-aligned block around 'addr' lies inside the VMA. */
static inline bool thp_vma_suitable_order(const struct vm_area_struct *vma,
					  unsigned long addr, int order)
{
	unsigned long hpage_size = PAGE_SIZE << order;
	unsigned long haddr = addr & ~(hpage_size - 1);

	return haddr >= vma->vm_start && haddr + hpage_size <= vma->vm_end;
}

/* thp_vma_suitable_orders(): 'orders' less those whose aligned block does not fit. */
unsigned long thp_vma_suitable_orders(const struct vm_area_struct *vma,
				      unsigned long addr, unsigned long orders);

/*
 * vma_thp_gfp_mask(): the gfp of a fault-time THP allocation, by defrag mode
 * and whether the VMA is madvised (VM_HUGEPAGE):
 *   always         GFP_TRANSHUGE, | __GFP_NORETRY if not madvised
 *   defer          GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM
 *   defer+madvise  GFP_TRANSHUGE_LIGHT | (madvised ? __GFP_DIRECT_RECLAIM : __GFP_KSWAPD_RECLAIM)
 *   madvise        GFP_TRANSHUGE_LIGHT | (madvised ? __GFP_DIRECT_RECLAIM : 0)
 *   never          GFP_TRANSHUGE_LIGHT
 */
gfp_t vma_thp_gfp_mask(const struct thp_settings *s, bool vma_madvised);

/* alloc_hugepage_khugepaged_gfpmask(): GFP_TRANSHUGE if khugepaged/defrag, else LIGHT. */
static inline gfp_t alloc_hugepage_khugepaged_gfpmask(const struct thp_settings *s)
{
	return s->khugepaged.defrag ? GFP_TRANSHUGE : GFP_TRANSHUGE_LIGHT;
}

/*
 * deferred_split_scan() (the shrinker of the deferred split queue): split up
 * to nr_to_scan queued folios, oldest first, into order-0 folios, returning
 * their unmapped pages to the zone (split_folio(): thp_split_page for PMD
 * order, the mTHP split stat; thp_split_page_failed / split_failed for one
 * that cannot be split, which stays queued). Linux runs it under memory
 * pressure; here it is the zone's shrinker (struct zone.shrinker), which
 * __alloc_pages() runs when an allocation that may reclaim
 * (__GFP_DIRECT_RECLAIM) fails, then retries once. Returns the
 * number of folios split. 6.18's underused-THP part (splitting mostly-zero
 * THPs queued at fault time) is not imitated.
 */
unsigned long deferred_split_scan(struct mimicos *os, unsigned long nr_to_scan);

#endif
