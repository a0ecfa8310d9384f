/*
 * memory.h - the anonymous fault path: handle_mm_fault() and what it needs
 * (folios, per-mm page-table state and RSS; the instance with its zero pages
 * is struct mimicos, mimicos.h).
 *
 * Imitates mm/memory.c (handle_mm_fault, __handle_mm_fault, create_huge_pmd,
 * wp_huge_pmd, handle_pte_fault, do_anonymous_page, alloc_anon_folio,
 * do_wp_page, wp_page_reuse, wp_page_copy) of Linux MIMICOS_LINUX_VERSION
 * (version.h), plus the x86 checks of do_user_addr_fault() (bad_area,
 * access_error) that precede them. The PMD-level handlers it calls are
 * mm/huge_memory.c's, in huge_memory.c (do_huge_pmd_anonymous_page,
 * __do_huge_pmd_anonymous_page, vma_alloc_anon_folio_pmd, map_anon_folio_pmd,
 * set_huge_zero_folio, mm_get_huge_zero_folio, do_huge_pmd_wp_page,
 * do_huge_zero_wp_pmd, huge_pmd_set_accessed, __split_huge_zero_page_pmd);
 * so are the splits, zap_huge_pmd(), change_huge_pmd() and the deferred
 * split queue that the hooks below use.
 *
 * The branches, as 6.18 takes them (docs/linux-facts.md section 1):
 *
 *   handle_mm_fault        __handle_mm_fault, then pgfault++ (mm_account_fault)
 *   __handle_mm_fault      walk to the PMD (allocating PUD/PMD tables);
 *     pmd_none && PMD order allowed (TVA_PAGEFAULT) -> create_huge_pmd ->
 *       do_huge_pmd_anonymous_page: the aligned 2 MiB must fit in the VMA
 *       (else FALLBACK); anon_vma_prepare; khugepaged_enter_vma hook;
 *         read && use_zero_page: PTE table + huge zero folio (allocated on
 *           first use, thp_zero_page_alloc) -> deposit, PMD, nr_ptes++, no
 *           RSS; no huge zero folio -> thp_fault_fallback, FALLBACK
 *         else: order 9 with vma_thp_gfp_mask(); failure -> thp_fault_fallback
 *           + anon_fault_fallback[9], FALLBACK; success: zero it, PTE table,
 *           deposit, PMD, RSS += 512, thp_fault_alloc, anon_fault_alloc[9]
 *       FALLBACK continues with handle_pte_fault (which can give an mTHP)
 *     huge PMD, write to a read-only one -> do_huge_pmd_wp_page:
 *       huge zero: do_huge_zero_wp_pmd (6.18) allocates a THP and replaces
 *         the PMD (TLB flush, RSS += 512, thp_fault_alloc); if that fails,
 *         the PMD is split into 512 zero-page PTEs (thp_split_pmd) and the
 *         fault goes on to handle_pte_fault -> do_wp_page (4 KiB COW)
 *       exclusive THP: reuse, made writable
 *     huge PMD otherwise -> huge_pmd_set_accessed
 *   handle_pte_fault
 *     no PTE table or pte_none -> do_anonymous_page: pte_alloc;
 *       read: the 4 KiB zero page (special PTE; no allocation, no RSS)
 *       write: anon_vma_prepare, alloc_anon_folio: the mTHP orders allowed
 *         (below PMD order) and suitable, the highest whose aligned PTE range
 *         is all pte_none, then each order high to low (a failure counts
 *         anon_fault_fallback), else order 0 (failure: VM_FAULT_OOM);
 *         nr PTEs set, RSS += nr, anon_fault_alloc[order]
 *     present, write, !pte_write -> do_wp_page:
 *       exclusive anon folio -> wp_page_reuse (writable, dirty; no flush)
 *       otherwise (the zero page) -> wp_page_copy: always order 0, the old
 *         PTE cleared and flushed, RSS += 1 when the old page was the zero page
 *     present otherwise -> access/dirty bits (a spurious fault changes nothing)
 *
 * SIGSEGV: an address with no VMA, a write to a VMA without VM_WRITE, an
 * instruction fetch from one without VM_EXEC or any access to a PROT_NONE
 * VMA. On Linux the x86 fault handler rejects these (bad_area,
 * access_error) before handle_mm_fault, so they do not count pgfault; the
 * same here. VM_SHARED anonymous VMAs (not supported by mmap.c) -> SIGBUS.
 *
 * Folios: a record per allocated user folio (head pfn, order, refcount,
 * mapcount, anon/exclusive), in a hash table of the kernel instance. Without
 * fork every anonymous folio is exclusive (folio_add_new_anon_rmap with
 * RMAP_EXCLUSIVE), so a write to a read-only PTE of one reuses it, and only
 * the zero pages are ever copied. A PTE-mapped folio of order n holds n
 * references and n mappings (folio_ref_add(nr - 1)), a PMD-mapped one 1 and 1.
 *
 * Zero pages: ZERO_PAGE(0) is one order-0 page taken from the zone when the
 * instance is set up (Linux's empty_zero_page is in the kernel image, which
 * memblock reserves before the buddy allocator exists: taking one page before
 * any process runs is the closest imitation). The huge zero folio is
 * allocated on first use (get_huge_zero_folio(), GFP_TRANSHUGE without
 * __GFP_MOVABLE, order 9) and counted by thp_zero_page_alloc or
 * thp_zero_page_alloc_failed. There is no shrinker (Linux frees it under
 * memory pressure when no mm uses it), so it stays until the instance goes.
 *
 * Trace: page-table reads and writes go through pgtable.h's traced accessors;
 * clearing a new folio (folio_zero_user) is reported through the same
 * mm_pgtable.trace.zero callback as one bulk clear of its physical range
 * (len PAGE_SIZE << order), where Linux clears it: a THP before the PTE
 * table to deposit is allocated, a 4 KiB or mTHP folio after pte_alloc().
 *
 * Where the simulation knowingly differs from Linux: no locks, so no retry
 * (VM_FAULT_RETRY never), no userfaultfd, memcg, NUMA hinting, swap, KSM or
 * file/shared memory; the folio's LRU and rmap are not modelled beyond the
 * counts above.
 */
#ifndef MIMICOS_MEMORY_H
#define MIMICOS_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "mimicos/huge_memory.h"
#include "mimicos/mimicos.h"
#include "mimicos/mm_types.h"
#include "mimicos/page_alloc.h"
#include "mimicos/pgtable.h"
#include "mimicos/vmstat.h"
#include "workload/side.h"	/* enum page_class */

/* enum fault_flag (include/linux/mm_types.h): the ones a caller passes. */
#define FAULT_FLAG_WRITE	(1u << 0)
#define FAULT_FLAG_USER		(1u << 6)
#define FAULT_FLAG_INSTRUCTION	(1u << 8)
/*
 * MimicOS's own, not Linux's: the fault began before the huge PMD now at
 * its address was installed by another CPU's fault, so it runs as one that
 * found the PMD empty and lost the race to fill it (huge_memory.h:
 * do_huge_pmd_lost_race()). Without a huge PMD there, an ordinary fault.
 */
#define FAULT_FLAG_RACED	(1u << 30)

/* vm_fault_t bits (include/linux/mm_types.h enum vm_fault_reason). */
typedef unsigned int vm_fault_t;
#define VM_FAULT_OOM		0x000001u
#define VM_FAULT_SIGBUS		0x000002u
#define VM_FAULT_MAJOR		0x000004u
#define VM_FAULT_SIGSEGV	0x000040u
#define VM_FAULT_NOPAGE		0x000100u
#define VM_FAULT_RETRY		0x000400u
#define VM_FAULT_FALLBACK	0x000800u	/* internal: huge path gave up */
#define VM_FAULT_ERROR		(VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)

/* x86 _PAGE_SPECIAL (_PAGE_BIT_SOFTW1, 9): zero-page mappings. */
#ifndef _PAGE_SPECIAL
#define _PAGE_SPECIAL		(1ULL << 9)
#endif

/* enum rss_stat_item (include/linux/mm_types_task.h). */
enum {
	MM_FILEPAGES,
	MM_ANONPAGES,
	MM_SWAPENTS,
	MM_SHMEMPAGES,
	NR_MM_COUNTERS
};

/* struct folio, the part the fault path reads. */
#define FOLIO_ANON		0x1u	/* folio_test_anon() */
#define FOLIO_ANON_EXCLUSIVE	0x2u	/* PageAnonExclusive() of its pages */
#define FOLIO_PARTIALLY_MAPPED	0x4u	/* folio_test_partially_mapped(): on the deferred split queue */

struct folio {
	unsigned long pfn;	/* head; PFN_NONE for an empty slot */
	uint8_t order;
	uint8_t flags;		/* FOLIO_* */
	int refcount;		/* folio_ref_count() */
	int mapcount;		/* folio_mapcount(): mappings of its pages */
	/*
	 * folio->mapping and folio->index of an anonymous folio (__folio_set_anon()):
	 * the mm it belongs to (Linux: its anon_vma) and the virtual page number of
	 * its first page (the linear index; no mremap here, so it is the address).
	 * The deferred split finds the folio's PTEs through them (the rmap walk).
	 */
	struct mm_mem *mapping;
	unsigned long index;
};

/*
 * Where unmapping, PMD splits and mprotect report the virtual ranges whose
 * TLB entries must be invalidated (flush_tlb_range(): one call per
 * tlb_finish_mmu() of an mmu_gather, covering the entries it cleared or
 * changed, and one per pmdp_invalidate() of a split). NULL: not reported.
 */
struct mm_tlb_trace {
	void (*flush)(void *ctx, unsigned long start, unsigned long end);
	/* one flush_tlb_multi() from CPU 'from' made cross-calls to the CPUs of 'to' (tlb.h) */
	void (*ipi)(void *ctx, unsigned int from, const uint64_t *to);
	void *ctx;
};

/* The fault-path part of an mm_struct (mm->mem). */
struct mm_mem {
	struct mimicos *os;
	struct mm_pgtable pgtable;	/* mm->pgd, pgtables_bytes, nr_ptes... */
	struct mm_tlb_trace tlb;
	long rss_stat[NR_MM_COUNTERS];	/* get_mm_counter() */
	unsigned long flags;		/* 1UL << MMF_DISABLE_THP_* (prctl) */
	bool huge_zero_folio;		/* MMF_HUGE_ZERO_FOLIO: holds a reference */
	uint64_t cpumask[MIMICOS_CPUMASK_WORDS];	/* mm_cpumask() (tlb.h) */
	uint64_t next_trim_cpumask_ns;		/* mm->context.next_trim_cpumask */
};

/*
 * Attach 'mem' to 'mm' (after mm_init()) with an empty 'levels'-level page
 * table (4 or 5), and wire the page-table hooks of mm->hooks that this file
 * implements (unmap_range, adjust_trans_huge, change_protection,
 * madvise_dontneed; priv and the other hooks are left alone: they find the
 * state through vma->vm_mm->mem). 0, -EINVAL or -ENOMEM.
 *
 * What the hooks do, as Linux 6.18 does it (section 4 of
 * docs/linux-facts.md):
 *
 *   unmap_range (munmap: unmap_region)  mmu_gather, unmap_page_range() of
 *     the VMA, then free_pgtables() between the VMAs around it
 *   madvise_dontneed  zap_page_range_single(): the same zap, tables kept
 *   zap_pmd_range  a huge PMD whose 2 MiB lies inside the range ->
 *     zap_huge_pmd() (no split: the THP is freed, the deposited table
 *     withdrawn and freed; a huge zero PMD is just cleared); a huge PMD
 *     partly inside -> __split_huge_pmd() (thp_split_pmd), then the PTEs
 *   zap_pte_range  PTEs of one folio are batched (folio_pte_batch()): RSS,
 *     mapcount and references drop by the batch; the last reference frees
 *     the folio; a large folio left partly mapped is queued for deferred
 *     split (deferred_split_folio(): thp_deferred_split_page for PMD order,
 *     mTHP split_deferred, nr_anon_partially_mapped); zero-page PTEs are
 *     just cleared
 *   adjust_trans_huge (vma_adjust_trans_huge -> split_huge_pmd_if_needed):
 *     a VMA boundary at an unaligned address inside a huge PMD whose whole
 *     2 MiB lies in the VMA splits that PMD: 512 PTEs from the deposited
 *     table with the PMD's write/young/dirty bits, refs and mapcount 512
 *   change_protection (mprotect): PTEs and huge PMDs get pte_modify() /
 *     pmd_modify() to the VMA's new protection; when the VMA is writable
 *     (MM_CP_TRY_CHANGE_WRITABLE) an exclusive anonymous page is made
 *     writable at once (can_change_pte_writable()), the zero pages are not;
 *     a huge PMD wholly inside keeps its PMD (PROT_NONE too), one partly
 *     inside is split first; entries that need it (pte_needs_flush()) are
 *     flushed
 *
 * Not imitated yet: 6.18's queueing of every fault-time THP for the
 * underused-THP shrinker (deferred_split_scan(), huge_memory.h, splits only the
 * partially mapped folios), PT_RECLAIM (DONTNEED
 * freeing a PTE table it emptied), NUMA hinting (prot_numa).
 */
int mm_mem_init(struct mimicos *os, struct mm_struct *mm, struct mm_mem *mem,
		unsigned int levels);
/*
 * exit_mmap() without the VMAs: unmap every page of every VMA (folios whose
 * last mapping goes are freed), free all page tables and the pgd, drop the
 * huge zero folio reference. The VMAs stay (mm_release() frees them).
 * munmap() zapped its ranges and freed their tables through the hooks that
 * mm_mem_init() wired, so the VMAs' ranges hold everything left.
 */
void mm_mem_release(struct mm_struct *mm);
/*
 * The mm leaves a machine about to be released whole (mimicos_release()
 * frees the zone, the folios and physical memory at once): the policy's
 * per-mm state and the huge zero folio reference go, nothing is unmapped
 * or freed page by page. The VMAs stay (mm_release() frees them).
 */
void mm_mem_discard(struct mm_struct *mm);

static inline long get_mm_counter(const struct mm_struct *mm, int member)
{
	return mm->mem->rss_stat[member];
}

/* What a fault did: the fields the functional channel reports. */
struct fault_result {
	vm_fault_t ret;		/* 0 or VM_FAULT_* (never FALLBACK) */
	uint64_t page_size;	/* size of the entry installed/changed: PAGE_SIZE, PMD_SIZE, 0 */
	int order;		/* order of the folio allocated, -1 when none */
	unsigned long pfn;	/* pfn now mapping the address, PFN_NONE if none */
	bool zero_page;		/* the address now maps the 4 KiB or huge zero page */
	bool tlb_flush;		/* a present entry was replaced: invalidate [start, end) */
	unsigned long start, end; /* virtual range whose entries changed (empty: none) */
};

/*
 * handle_mm_fault(): resolve a fault at 'address' in 'vma' (which may be
 * NULL or not contain it, as find_vma() returns). flags: FAULT_FLAG_WRITE,
 * FAULT_FLAG_USER, FAULT_FLAG_INSTRUCTION. Returns out->ret (out may be
 * NULL).
 */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags, struct fault_result *out);
/* find_vma() then handle_mm_fault() (x86 do_user_addr_fault()). */
vm_fault_t do_user_addr_fault(struct mm_struct *mm, unsigned long address,
			      unsigned int flags, struct fault_result *out);

/*
 * Untraced software walk of mm's tables (what /proc/PID/pagemap reports):
 * the class of a 4 KiB virtual page, as docs/results-format.md defines it
 * (enum page_class, workload/side.h). Not present is Linux's pte_present():
 * a PROT_NONE entry counts as present.
 */
enum page_class mm_page_class(struct mm_struct *mm, unsigned long va);
/* counts[c] += the pages of [start, start + len) of class c. */
void mm_page_classes(struct mm_struct *mm, unsigned long start, unsigned long len,
		     uint64_t counts[PAGE_CLASS_NR]);

/* page_folio(): the folio holding 'pfn', or NULL (zero pages, tables). */
struct folio *pfn_folio(struct mimicos *os, unsigned long pfn);

#endif
