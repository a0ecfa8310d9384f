/*
 * khugepaged.h - khugepaged and MADV_COLLAPSE (mm/khugepaged.c of Linux
 * MIMICOS_LINUX_VERSION), in simulated time.
 *
 * The kernel thread (khugepaged(): khugepaged_do_scan() then
 * khugepaged_wait_work(), forever) becomes a state machine driven by the
 * simulated clock: khugepaged_advance(os, now) runs every pass whose start
 * time is before now, each pass at its own start time, in order. A pass due
 * exactly at 'now' runs after what the workload does at 'now': khugepaged runs
 * at nice 19 on another CPU, and on this 2-CPU host its pass after a wake-up
 * was seen to start after the workload's next step (khugepaged-collapse:
 * the pass woken by MADV_HUGEPAGE landed after the wait had read
 * full_scans; khugepaged-sleep: 10 passes in a 1 s sleep with a 100 ms
 * scan_sleep, not 11). A pass takes no simulated time (its cost belongs to
 * another CPU; the instruction-stream channel reports its work), so only the
 * sleeps space passes apart:
 *
 *   no mm registered            wait for work (no wake-up time); the first
 *                               registration (__khugepaged_enter() on an
 *                               empty list) wakes it at the time of the call
 *   after a pass, mms listed    sleep scan_sleep_millisecs (0: run again at
 *                               once, as Linux does, but at most one pass per
 *                               khugepaged_advance() step to stay finite)
 *   allocation failure in pass  khugepaged_alloc_sleep(): the pass resumes
 *                               alloc_sleep_millisecs later; a second
 *                               failure in the same pass ends it
 *
 * khugepaged_do_scan(): progress toward pages_to_scan; khugepaged_scan_mm_slot()
 * takes the mm slot at the cursor (or the list head, cursor address 0), +1
 * for taking it, walks its VMAs from the cursor address: a VMA where PMD
 * order is not allowed (TVA_KHUGEPAGED) +1, else each 2 MiB-aligned range
 * inside it (hpage_collapse_scan_pmd()) +512 and the cursor moves on; a pass
 * stops once progress >= pages_to_scan, or after passing the list head twice.
 * Reaching the end of an mm moves the cursor to the next mm, or to none with
 * khugepaged_full_scans++.
 *
 * hpage_collapse_scan_pmd() records an enum scan_result for every outcome,
 * with the counters Linux bumps (thp_scan_exceed_none_pte, ...), and on
 * success collapse_huge_page(): an order-9 folio (thp_collapse_alloc or
 * thp_collapse_alloc_failed), pmdp_collapse_flush() (a TLB flush of the
 * 2 MiB), the 512 subpages copied or cleared, old pages unmapped and freed,
 * RSS += the none/zero PTEs, the PTE table deposited under a new huge PMD
 * (khugepaged's pages_collapsed++ for a khugepaged collapse).
 *
 * Every scan and collapse is also an event (struct khugepaged_event), so the
 * comparison with Linux's mm_khugepaged_scan_pmd / mm_collapse_huge_page
 * tracepoints matches them by status name (scan_result_name(): the
 * tracepoint's own strings).
 *
 * Where the simulation knowingly differs from Linux: one CPU runs everything,
 * so nothing changes between the scan and the collapse (the revalidation
 * after retaking mmap_lock always passes), mmap_read_trylock() never fails,
 * there is no swap (unmapped is 0, __collapse_huge_page_swapin() never runs),
 * no uffd, no file or shmem VMAs, one NUMA node, no memcg.
 */
#ifndef MIMICOS_KHUGEPAGED_H
#define MIMICOS_KHUGEPAGED_H

#include <stdbool.h>
#include <stdint.h>

#include "mimicos/memory.h"
#include "mimicos/mimicos.h"

/* enum scan_result (mm/khugepaged.c), values as the tracepoints print them. */
#define SCAN_RESULTS(X) \
	X(SCAN_FAIL, "failed") \
	X(SCAN_SUCCEED, "succeeded") \
	X(SCAN_PMD_NULL, "pmd_null") \
	X(SCAN_PMD_NONE, "pmd_none") \
	X(SCAN_PMD_MAPPED, "page_pmd_mapped") \
	X(SCAN_EXCEED_NONE_PTE, "exceed_none_pte") \
	X(SCAN_EXCEED_SWAP_PTE, "exceed_swap_pte") \
	X(SCAN_EXCEED_SHARED_PTE, "exceed_shared_pte") \
	X(SCAN_PTE_NON_PRESENT, "pte_non_present") \
	X(SCAN_PTE_UFFD_WP, "pte_uffd_wp") \
	X(SCAN_PTE_MAPPED_HUGEPAGE, "pte_mapped_hugepage") \
	X(SCAN_LACK_REFERENCED_PAGE, "lack_referenced_page") \
	X(SCAN_PAGE_NULL, "page_null") \
	X(SCAN_SCAN_ABORT, "scan_aborted") \
	X(SCAN_PAGE_COUNT, "not_suitable_page_count") \
	X(SCAN_PAGE_LRU, "page_not_in_lru") \
	X(SCAN_PAGE_LOCK, "page_locked") \
	X(SCAN_PAGE_ANON, "page_not_anon") \
	X(SCAN_PAGE_COMPOUND, "page_compound") \
	X(SCAN_ANY_PROCESS, "no_process_for_page") \
	X(SCAN_VMA_NULL, "vma_null") \
	X(SCAN_VMA_CHECK, "vma_check_failed") \
	X(SCAN_ADDRESS_RANGE, "not_suitable_address_range") \
	X(SCAN_DEL_PAGE_LRU, "could_not_delete_page_from_lru") \
	X(SCAN_ALLOC_HUGE_PAGE_FAIL, "alloc_huge_page_failed") \
	X(SCAN_CGROUP_CHARGE_FAIL, "ccgroup_charge_failed") \
	X(SCAN_TRUNCATED, "truncated") \
	X(SCAN_PAGE_HAS_PRIVATE, "page_has_private") \
	X(SCAN_STORE_FAILED, "store_failed") \
	X(SCAN_COPY_MC, "copy_poisoned_page") \
	X(SCAN_PAGE_FILLED, "page_filled")

enum scan_result {
#define SCAN_ENUM(e, s) e,
	SCAN_RESULTS(SCAN_ENUM)
#undef SCAN_ENUM
	NR_SCAN_RESULTS
};

const char *scan_result_name(enum scan_result r);

/* One khugepaged or MADV_COLLAPSE event, as the Linux side records them. */
enum khugepaged_event_type {
	KHUGEPAGED_EV_SCAN_PMD,		/* mm_khugepaged_scan_pmd */
	KHUGEPAGED_EV_COLLAPSE,		/* mm_collapse_huge_page */
};

struct khugepaged_event {
	enum khugepaged_event_type type;
	bool madv_collapse;		/* MADV_COLLAPSE rather than khugepaged */
	uint64_t time_ns;		/* simulated time of the pass or call */
	struct mm_struct *mm;
	unsigned long address;		/* the 2 MiB range */
	unsigned long pfn;		/* scan: a page seen (Linux: the last folio's); collapse: the new THP */
	int referenced, none_or_zero, unmapped;
	enum scan_result status;
};

/* Where events go (NULL: nowhere). */
struct khugepaged_trace {
	void (*event)(void *ctx, const struct khugepaged_event *ev);
	void *ctx;
};

/* The khugepaged sysfs directory's read-only counters. */
struct khugepaged_stats {
	uint64_t pages_collapsed;	/* khugepaged/pages_collapsed */
	uint64_t full_scans;		/* khugepaged/full_scans */
	uint64_t passes;		/* khugepaged_do_scan() calls (not in sysfs) */
	/* THPs allocated for collapses, by khugepaged and by MADV_COLLAPSE (not in sysfs) */
	uint64_t collapse_allocs, madv_collapse_allocs;
	uint64_t scan_results[NR_SCAN_RESULTS];	/* hpage_collapse_scan_pmd() outcomes */
	uint64_t collapse_results[NR_SCAN_RESULTS];	/* collapse_huge_page() outcomes */
};

/*
 * Set up khugepaged for 'os' (os->khugepaged), idle at time 0. 0 or -ENOMEM.
 * With the khugepaged module switched off (os->thp.modules.khugepaged false)
 * registration does nothing and no pass ever runs; MADV_COLLAPSE still works.
 */
int khugepaged_init(struct mimicos *os);
void khugepaged_release(struct mimicos *os);

/*
 * Wire mm's khugepaged_enter_vma and madvise_collapse hooks (mm_types.h) to
 * this module; call after mm_mem_init(). Before mm_mem_release(), call
 * khugepaged_exit(mm) (__khugepaged_exit(): the mm leaves the list).
 */
void khugepaged_mm_init(struct mm_struct *mm);
void khugepaged_exit(struct mm_struct *mm);

/* khugepaged_enter_vma(): register vma's mm if PMD order is allowed there. */
void khugepaged_enter_vma(struct vm_area_struct *vma, vm_flags_t vm_flags);

/*
 * Run every pass due before 'now_ns' (simulated ns since the instance
 * started; never earlier than a previous call). Returns the number of
 * passes run.
 */
unsigned int khugepaged_advance(struct mimicos *os, uint64_t now_ns);

/* The start time of the next pass, or UINT64_MAX while it waits for work. */
uint64_t khugepaged_next_wakeup(const struct mimicos *os);

/*
 * The workload format's khugepaged_wait: read full_scans, then advance
 * simulated time from *now_ns pass by pass (a pass due at *now_ns counts)
 * until full_scans has grown by 'full_scans', or until *now_ns + timeout_ns
 * would be passed. *now_ns ends at the last pass run (or at the deadline on
 * timeout). true: the scans completed.
 */
bool khugepaged_wait_full_scans(struct mimicos *os, uint64_t *now_ns, unsigned int full_scans,
				uint64_t timeout_ns);

/*
 * madvise_collapse() on [start, end) of vma (inside it), at simulated time
 * 'now_ns' (for its events): 0, or -EINVAL, -ENOMEM, -EBUSY, -EAGAIN as
 * madvise_collapse_errno() maps the last failure.
 */
int madvise_collapse(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		     uint64_t now_ns);

const struct khugepaged_stats *khugepaged_stats(const struct mimicos *os);
void khugepaged_set_trace(struct mimicos *os, const struct khugepaged_trace *t);

#endif
