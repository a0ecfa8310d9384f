/*
 * internal.h - what MimicOS's mechanisms share among themselves and do not
 * offer their users (Linux: mm/internal.h). memory.c (the fault path, zaps)
 * and huge_memory.c (the PMD level, splits) provide these; khugepaged.c and
 * the policy modules use them.
 *
 * Folio pointers: folios live by value in the sectioned mem_map (struct
 * folio_table), at their head pfn's slot, so a pointer stays valid until
 * the folio is freed (folio_put_refs() that frees, folio_forget()); after
 * that the slot may hold another folio. Look a folio up again
 * (pfn_folio()) when in doubt.
 */
#ifndef MIMICOS_INTERNAL_H
#define MIMICOS_INTERNAL_H

#include "mimicos/memory.h"
#include "mimicos/mimicos.h"

#define HPAGE_PMD_MASK	PMD_MASK
#define HPAGE_PMD_SIZE	PMD_SIZE

/* struct vm_fault: what the fault handlers share (include/linux/mm.h). */
struct vm_fault {
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct mm_mem *mem;
	struct mimicos *os;
	unsigned long address;
	unsigned int flags;
	uint64_t pmd;		/* the PMD entry's physical address */
	pmd_t orig_pmd;
	uint64_t pte;		/* the PTE's physical address, or PHYS_ADDR_NONE */
	pte_t orig_pte;
	struct fault_result *res;
};

/*
 * struct mmu_gather, the part that matters here: the virtual range of the
 * entries cleared or changed, flushed once at tlb_finish_mmu().
 */
struct mmu_gather {
	struct mm_mem *mem;
	unsigned long start, end;
	bool freed_tables;	/* page tables were freed: the flush reaches lazy CPUs */
};

/* --- Folios ---------------------------------------------------------- */

/* vma_alloc_folio(): a folio of 2^order pages, refcount 1, unmapped; NULL if none. */
struct folio *vma_alloc_folio(struct mimicos *os, gfp_t gfp, unsigned int order);
/*
 * A record for pages already allocated from the zone (refcount 1, nothing
 * mapped): how a policy turns pages it holds into a folio. NULL: no host memory.
 */
struct folio *folio_record(struct mimicos *os, unsigned long pfn, unsigned int order);
/* Drop the record without freeing its pages (the caller owns them again). */
void folio_forget(struct mimicos *os, struct folio *f);
/* folio_put_refs(): drop references; the last one frees the pages (and the record). */
void folio_put_refs(struct mimicos *os, struct folio *f, int refs);
/* folio_add_new_anon_rmap(RMAP_EXCLUSIVE) for 'nr' mappings of its pages. */
void folio_add_new_anon_rmap(struct folio *f, int nr);
/*
 * __folio_set_anon(): the folio belongs to vma's mm, its first page at
 * 'address' (rounded down to the folio's size). Call with
 * folio_add_new_anon_rmap(); a folio without it cannot be split later.
 */
void __folio_set_anon(struct folio *f, const struct vm_area_struct *vma, unsigned long address);
/* folio_remove_rmap_ptes()/_pmd(): a large folio left partly mapped is queued. */
void folio_remove_rmap(struct mimicos *os, struct folio *f, int nr);
/* deferred_split_folio(partially_mapped = true) */
void deferred_split_folio(struct mimicos *os, struct folio *f);
/* folio_unqueue_deferred_split(): a freed folio leaves the queue. */
void folio_unqueue_deferred_split(struct mimicos *os, struct folio *f);
/* The deferred split queue's shrinker (struct zone.shrinker): all of it. */
unsigned long deferred_split_shrinker(void *ctx);
/* Clearing 2^order pages from pfn, reported on the trace as one bulk clear. */
void folio_zero_range(struct mm_mem *mem, unsigned long pfn, unsigned int order);
/* folio_zero_user(): clear the folio; reported as one bulk clear. */
void folio_zero_user(struct vm_fault *vmf, const struct folio *f);

/* --- Entries, counters, TLB ------------------------------------------ */

pgprot_t vma_page_prot(const struct vm_area_struct *vma);
pte_t maybe_mkwrite(pte_t pte, const struct vm_area_struct *vma);
pmd_t maybe_pmd_mkwrite(pmd_t pmd, const struct vm_area_struct *vma);
void add_mm_counter(struct mm_mem *mem, int member, long value);
/* mm_find_pmd() without allocating: the PMD entry's address, or PHYS_ADDR_NONE. */
uint64_t mm_find_pmd(struct mm_pgtable *pt, unsigned long addr);

void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_mem *mem);
void tlb_adjust_range(struct mmu_gather *tlb, unsigned long addr, unsigned long size);
void tlb_finish_mmu(struct mmu_gather *tlb);
/* flush_tlb_range(): report [start, end) to whoever models the TLBs. */
void flush_tlb_range(struct mm_mem *mem, unsigned long start, unsigned long end);
/* The same from khugepaged, on its own CPU (KHUGEPAGED_CPU, tlb.h). */
void flush_tlb_range_remote(struct mm_mem *mem, unsigned long start, unsigned long end);
/*
 * The fault's own flush of the entry it replaces (ptep_clear_flush(),
 * pmdp_huge_clear_flush()); pages -1 is a full flush.
 */
void fault_flush(struct vm_fault *vmf, long pages);

/* x86 _PAGE_CHG_MASK / _HPAGE_CHG_MASK: what pte_modify()/pmd_modify() keep. */
#define _PAGE_CHG_MASK	(PTE_PFN_MASK | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL | \
			 _PAGE_ACCESSED | _PAGE_DIRTY)
#define _HPAGE_CHG_MASK	(_PAGE_CHG_MASK | _PAGE_PSE)
/* x86 pte_needs_flush() (also pmd_needs_flush()): does the old TLB entry matter? */
bool entry_needs_flush(uint64_t oldval, uint64_t newval, uint64_t pfn_mask);
/* can_change_pte_writable() for a private VMA: an exclusive anonymous page. */
bool can_change_writable(struct mimicos *os, uint64_t val, unsigned long pfn);

/* --- The fault path (memory.c) ----------------------------------------- */

/*
 * vmf_set_result(): the fault's result: a 'size' mapping of 'pfn' over
 * [start, end), widened to cover a range already set (a split then a COW).
 */
void vmf_set_result(struct vm_fault *vmf, uint64_t size, unsigned long start,
		    unsigned long end, unsigned long pfn, bool zero);

/* --- PMD level (huge_memory.c) ----------------------------------------- */

/* do_huge_pmd_anonymous_page(): a fault on a none PMD; FALLBACK to the PTE level. */
/*
 * A fault that found the PMD empty while another CPU's fault filled it
 * (FAULT_FLAG_RACED): __do_huge_pmd_anonymous_page() up to the PMD lock
 * (the order-9 folio allocated and cleared, the PTE table for the deposit),
 * then, the PMD not none, both given back. 0; res->order 9 when it
 * allocated. A read with the huge zero page in use allocates nothing.
 */
vm_fault_t do_huge_pmd_lost_race(struct vm_fault *vmf);
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf);
/* do_huge_pmd_wp_page(): a write to a read-only huge PMD. */
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf);
/* huge_pmd_set_accessed(): touch_pmd(); writes only if the entry changes. */
void huge_pmd_set_accessed(struct vm_fault *vmf);
/*
 * __split_huge_pmd_locked(): replace the huge PMD at pmdp by the withdrawn
 * PTE table mapping the same pages (thp_split_pmd).
 */
void __split_huge_pmd_locked(struct mm_mem *mem, struct vm_area_struct *vma,
			     uint64_t pmdp, unsigned long haddr);
/* split_huge_pmd_address(): split the huge PMD mapping 'address', if any. */
void split_huge_pmd_address(struct mm_mem *mem, struct vm_area_struct *vma,
			    unsigned long address);
/* zap_huge_pmd(): a huge PMD whose whole 2 MiB is being unmapped. */
void zap_huge_pmd(struct mmu_gather *tlb, uint64_t pmdp, pmd_t pmd, unsigned long haddr);
/* change_huge_pmd(): a huge PMD whose whole 2 MiB takes 'newprot'. */
void change_huge_pmd(struct mmu_gather *tlb, uint64_t pmdp, pmd_t pmd, unsigned long addr,
		     pgprot_t newprot, bool try_writable);

/* --- Policy modules ---------------------------------------------------- */

/*
 * A THP policy beside Linux's, behind one interface (struct mimicos.policy;
 * NULL: Linux's own behaviour only). Each hook is optional.
 *
 *   anon_fault   called by __handle_mm_fault() first, for every fault on a
 *                VMA (vmf->pmd is the PMD entry, allocated, vmf->orig_pmd
 *                its value); returns
 *                VM_FAULT_FALLBACK to let Linux's path handle the fault,
 *                anything else is the fault's result
 *   unmap        [start, end) of mm is about to be zapped (munmap,
 *                DONTNEED, exit): give back what the policy holds there
 *   release_mm   the mm's memory is going away (after its last zap)
 *   release      the instance is going away
 */
struct thp_policy_ops {
	const char *name;
	vm_fault_t (*anon_fault)(struct vm_fault *vmf);
	void (*unmap)(struct mimicos *os, struct mm_mem *mem, unsigned long start,
		      unsigned long end);
	void (*release_mm)(struct mimicos *os, struct mm_mem *mem);
	void (*release)(struct mimicos *os);
};

#endif
