/*
 * test_khugepaged.c - khugepaged and MADV_COLLAPSE against hand-derived
 * expectations: the anonymous scenarios of the kernel selftest
 * tools/testing/selftests/mm/khugepaged.c, each in both of its collapse
 * contexts (khugepaged: MADV_HUGEPAGE then wait for two full scans;
 * madvise: thp=never then MADV_COLLAPSE), plus the scan's progress
 * accounting, the allocation-failure sleep and registration.
 *
 * Selftest scenarios not imitated, and why: collapse_swapin_single_pte and
 * collapse_max_ptes_swap need swap (MimicOS has none); collapse_max_ptes_shared
 * and collapse_fork* need fork(); the file and shmem variants need a page
 * cache. These are the "where applicable" limits of the issue.
 *
 * Machine: a 256 MiB zone at pfn 0x100000, one CPU, one 4-level mm. The
 * selftest's settings: enabled=madvise, defrag=always, khugepaged defrag on,
 * scan_sleep 10 ms, alloc_sleep 10 ms, pages_to_scan 4096, max_ptes_none 511.
 * Memory is counted after drain_all_pages(), so per-CPU lists do not hide
 * frees.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <criterion/criterion.h>
#include <linux/types.h>

#include "mimicos/internal.h"
#include "mimicos/khugepaged.h"
#include "mimicos/memory.h"
#include "mimicos/mmap.h"
#include "tests/mimicos/harness.h"
#include "workload/event.h"
#include "workload/prng.h"

#define MiB (1UL << 20)
#define MS 1000000ULL
#define W (FAULT_FLAG_WRITE | FAULT_FLAG_USER)

static struct mimicos os;
static struct mm_struct mm;
static struct mm_mem mem;
static struct thp_settings thp;
static uint64_t now;

static struct khugepaged_event events[256];
static int nr_events;
static struct flush_log flushes;

static void record_event(void *ctx, const struct khugepaged_event *ev)
{
	(void)ctx;
	if (nr_events < 256)
		events[nr_events] = *ev;
	nr_events++;
}

static void boot(void)
{
	struct zone_config zc = { .size_bytes = 256 * MiB, .start_pfn = 0x100000, .nr_cpus = 1 };
	struct mm_layout l;
	struct wl_rng rng;

	cr_assert_eq(mimicos_init(&os, &zc, &thp), 0);
	cr_assert_eq(khugepaged_init(&os), 0);
	khugepaged_set_trace(&os, &(struct khugepaged_trace){ .event = record_event });
	mm_layout_init(&l);
	wl_rng_seed(&rng, 7);
	mm_init(&mm, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm, &mem, 4), 0);
	khugepaged_mm_init(&mm);
	mem.tlb = (struct mm_tlb_trace){ .flush = flush_log_record, .ctx = &flushes };
	now = 0;
	nr_events = flushes.nr = 0;
}

/* The selftest's default settings (tools/testing/selftests/mm/khugepaged.c main()). */
static void selftest_settings(void)
{
	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_MADVISE;
	thp.defrag = THP_DEFRAG_ALWAYS;
	thp.khugepaged.scan_sleep_millisecs = 10;
	thp.khugepaged.alloc_sleep_millisecs = 10;
	thp.khugepaged.pages_to_scan = HPAGE_PMD_NR * 8;
	thp.khugepaged.max_ptes_none = HPAGE_PMD_NR - 1;
}

static void setup(void)
{
	selftest_settings();
	boot();
}

static void shutdown(void)
{
	khugepaged_exit(&mm);
	if (mm.mem)
		mm_mem_release(&mm);
	mm_release(&mm);
	khugepaged_release(&os);
	mimicos_release(&os);
}

TestSuite(khugepaged, .init = setup, .fini = shutdown);

/* setup_area(): nr 2 MiB blocks, aligned, neither VM_HUGEPAGE nor VM_NOHUGEPAGE. */
static unsigned long setup_area(unsigned int nr)
{
	unsigned long a;

	cr_assert_eq(do_mmap(&mm, 0, nr * PMD_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, &a), 0);
	cr_assert_eq(a & ~PMD_MASK, 0);
	return a;
}

/* fault(): write the first byte of each page of [start + off, start + off + len). */
static void fault(unsigned long start, unsigned long off, unsigned long len)
{
	mm_touch(&mm, start + off, len, W);
}

static uint64_t pmd_pages(unsigned long start, unsigned long len)
{
	uint64_t c[PAGE_CLASS_NR] = { 0 };

	mm_page_classes(&mm, start, len, c);
	return c[PAGE_CLASS_PMD];
}

/* check_huge(p, nr): exactly nr PMD-mapped THPs in the area. */
static void check_huge(unsigned long p, unsigned int area, unsigned int nr)
{
	uint64_t got = pmd_pages(p, area * PMD_SIZE);

	cr_assert_eq(got, (uint64_t)nr * HPAGE_PMD_NR, "%lu pmd pages, want %u THPs",
		     (unsigned long)got, nr);
}

static unsigned long free_pages(void)
{
	drain_all_pages(&os.zone);
	return os.zone.nr_free_pages;
}

/* khugepaged context: MADV_HUGEPAGE, then wait for two more full scans. */
static bool khugepaged_collapse(unsigned long p, unsigned int nr)
{
	cr_assert_eq(do_madvise(&mm, p, nr * PMD_SIZE, MADV_HUGEPAGE), 0);
	return khugepaged_wait_full_scans(&os, &now, 2, 3000 * MS);
}

/* madvise context: thp=never (keeps khugepaged away), MADV_HUGEPAGE, MADV_COLLAPSE. */
static int madvise_collapse_ctx(unsigned long p, unsigned int nr)
{
	os.thp.enabled = THP_ENABLED_NEVER;
	cr_assert_eq(do_madvise(&mm, p, nr * PMD_SIZE, MADV_HUGEPAGE), 0);
	return do_madvise(&mm, p, nr * PMD_SIZE, MADV_COLLAPSE);
}

static int count_events(enum khugepaged_event_type type, enum scan_result status)
{
	int n = 0;

	for (int i = 0; i < nr_events && i < 256; i++)
		n += events[i].type == type && events[i].status == status;
	return n;
}

/* ---- collapse_full: four fully populated PTE tables collapse ---------------- */

static void collapse_full_check(unsigned long p, unsigned long free_before)
{
	check_huge(p, 4, 4);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 4 * HPAGE_PMD_NR);
	cr_assert_eq(os.ev.event[THP_COLLAPSE_ALLOC], 4);
	/* 4 x 512 pages freed, 4 THPs allocated; the tables stay (deposited). */
	cr_assert_eq(free_pages(), free_before);
	cr_assert_eq(count_events(KHUGEPAGED_EV_COLLAPSE, SCAN_SUCCEED), 4);
}

Test(khugepaged, collapse_full_khugepaged)
{
	unsigned long p = setup_area(4), before;

	fault(p, 0, 4 * PMD_SIZE);
	check_huge(p, 4, 0);
	before = free_pages();
	cr_assert(khugepaged_collapse(p, 4));
	collapse_full_check(p, before);
	cr_assert_eq(khugepaged_stats(&os)->pages_collapsed, 4);
}

Test(khugepaged, collapse_full_madvise)
{
	unsigned long p = setup_area(4), before;

	fault(p, 0, 4 * PMD_SIZE);
	before = free_pages();
	cr_assert_eq(madvise_collapse_ctx(p, 4), 0);
	collapse_full_check(p, before);
	cr_assert_eq(khugepaged_stats(&os)->pages_collapsed, 0, "MADV_COLLAPSE is not khugepaged");
}

/* ---- collapse_empty: an empty range does not collapse -------------------------- */

Test(khugepaged, collapse_empty_khugepaged)
{
	unsigned long p = setup_area(1), q;

	/*
	 * An untouched VMA has no anon_vma, so PMD order is not allowed for
	 * khugepaged there (__thp_vma_allowable_orders()) and MADV_HUGEPAGE
	 * does not register the mm: the wait times out, nothing collapses.
	 */
	cr_assert_not(khugepaged_collapse(p, 1));
	check_huge(p, 1, 0);
	cr_assert_eq(nr_events, 0);
	/*
	 * Registered through another VMA (as the selftest's process is, by its
	 * earlier tests), the empty range is scanned and found without a PTE
	 * table: pmd_null when no table reaches it, pmd_none when a PMD table
	 * exists but its entry is empty.
	 */
	q = setup_area(1);
	fault(q, 0, PAGE_SIZE);
	cr_assert(khugepaged_collapse(q, 1));
	check_huge(p, 1, 0);
	check_huge(q, 1, 1);
	cr_assert_eq(os.ev.event[THP_COLLAPSE_ALLOC], 1);
	for (int i = 0; i < nr_events; i++)
		if (events[i].address == p)
			cr_assert(events[i].status == SCAN_PMD_NONE || events[i].status == SCAN_PMD_NULL,
				  "empty range: %s", scan_result_name(events[i].status));
}

Test(khugepaged, collapse_empty_madvise)
{
	unsigned long p = setup_area(1);

	/* Measured on this host: MADV_COLLAPSE of an untouched 2 MiB is EINVAL. */
	cr_assert_eq(madvise_collapse_ctx(p, 1), -EINVAL);
	check_huge(p, 1, 0);
}

/* ---- collapse_single_pte_entry: one page is enough (max_ptes_none 511) -------- */

static void single_pte_check(unsigned long p, unsigned long free_before)
{
	check_huge(p, 1, 1);
	/* RSS: 1 page + 511 none PTEs counted in by the copy. */
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), HPAGE_PMD_NR);
	/* One page freed, 512 allocated. */
	cr_assert_eq(free_pages(), free_before - (HPAGE_PMD_NR - 1));
}

Test(khugepaged, collapse_single_pte_entry_khugepaged)
{
	unsigned long p = setup_area(1), before;

	fault(p, 0, PAGE_SIZE);
	before = free_pages();
	cr_assert(khugepaged_collapse(p, 1));
	single_pte_check(p, before);
	for (int i = 0; i < nr_events; i++)
		if (events[i].type == KHUGEPAGED_EV_SCAN_PMD && events[i].status == SCAN_SUCCEED) {
			cr_assert_eq(events[i].none_or_zero, 511);
			cr_assert_eq(events[i].referenced, 1);
		}
}

Test(khugepaged, collapse_single_pte_entry_madvise)
{
	unsigned long p = setup_area(1), before;

	fault(p, 0, PAGE_SIZE);
	before = free_pages();
	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	single_pte_check(p, before);
}

/* ---- collapse_max_ptes_none: khugepaged enforces it, MADV_COLLAPSE does not -- */

Test(khugepaged, collapse_max_ptes_none_khugepaged)
{
	unsigned long p;

	os.thp.khugepaged.max_ptes_none = HPAGE_PMD_NR / 2;	/* 256 */
	p = setup_area(1);
	/* 512 - 256 - 1 = 255 pages: 257 none > 256. */
	fault(p, 0, (HPAGE_PMD_NR - HPAGE_PMD_NR / 2 - 1) * PAGE_SIZE);
	cr_assert(khugepaged_collapse(p, 1));
	check_huge(p, 1, 0);
	cr_assert_gt(os.ev.event[THP_SCAN_EXCEED_NONE_PTE], 0);
	cr_assert_eq(os.ev.event[THP_SCAN_EXCEED_NONE_PTE],
		     (uint64_t)count_events(KHUGEPAGED_EV_SCAN_PMD, SCAN_EXCEED_NONE_PTE));
	for (int i = 0; i < nr_events; i++)	/* the scan stops at the 257th none PTE */
		cr_assert_eq(events[i].none_or_zero, 257);
	/* 256 pages: exactly 256 none, allowed. */
	fault(p, 0, (HPAGE_PMD_NR - HPAGE_PMD_NR / 2) * PAGE_SIZE);
	cr_assert(khugepaged_wait_full_scans(&os, &now, 2, 3000 * MS));
	check_huge(p, 1, 1);
}

Test(khugepaged, collapse_max_ptes_none_madvise)
{
	unsigned long p;

	os.thp.khugepaged.max_ptes_none = HPAGE_PMD_NR / 2;
	p = setup_area(1);
	fault(p, 0, (HPAGE_PMD_NR - HPAGE_PMD_NR / 2 - 1) * PAGE_SIZE);
	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	check_huge(p, 1, 1);
	cr_assert_eq(os.ev.event[THP_SCAN_EXCEED_NONE_PTE], 0);
}

/* ---- compound pages: PTE-mapped THPs collapse into a new THP ---------------- */

/* alloc_hpage(): fault a 2 MiB, MADV_COLLAPSE it, then MADV_HUGEPAGE. */
static unsigned long alloc_hpage(void)
{
	unsigned long p = setup_area(1);

	fault(p, 0, PMD_SIZE);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_COLLAPSE), 0);
	check_huge(p, 1, 1);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_HUGEPAGE), 0);
	return p;
}

Test(khugepaged, collapse_single_pte_entry_compound_khugepaged)
{
	unsigned long p = alloc_hpage(), old_thp, before;
	struct pgtable_walk w;

	cr_assert(pgtable_walk(&mem.pgtable, p, &w));
	old_thp = w.pa >> PAGE_SHIFT;
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_NOHUGEPAGE), 0);
	/* Split leaving a single PTE mapping the compound page. */
	cr_assert_eq(do_madvise(&mm, p + PAGE_SIZE, PMD_SIZE - PAGE_SIZE, MADV_DONTNEED), 0);
	check_huge(p, 1, 0);
	cr_assert_eq(os.deferred_split.nr, 1, "the partly unmapped THP is queued");
	before = free_pages();
	cr_assert(khugepaged_collapse(p, 1));
	check_huge(p, 1, 1);
	/* The old THP went (and left the queue): 512 freed, 512 allocated. */
	cr_assert_eq(os.deferred_split.nr, 0);
	cr_assert_null(pfn_folio(&os, old_thp));
	cr_assert_eq(free_pages(), before);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), HPAGE_PMD_NR);
}

Test(khugepaged, collapse_full_of_compound_khugepaged)
{
	unsigned long p = alloc_hpage(), before;
	uint64_t splits = os.ev.event[THP_SPLIT_PMD];

	/* A VMA boundary at p + 4 KiB splits the PMD; the second madvise merges again. */
	cr_assert_eq(do_madvise(&mm, p, PAGE_SIZE, MADV_NOHUGEPAGE), 0);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_NOHUGEPAGE), 0);
	check_huge(p, 1, 0);
	cr_assert_eq(os.ev.event[THP_SPLIT_PMD], splits + 1);
	before = free_pages();
	cr_assert(khugepaged_collapse(p, 1));
	check_huge(p, 1, 1);
	cr_assert_eq(free_pages(), before);
}

Test(khugepaged, collapse_full_of_compound_madvise)
{
	unsigned long p = alloc_hpage(), before;

	cr_assert_eq(do_madvise(&mm, p, PAGE_SIZE, MADV_NOHUGEPAGE), 0);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_NOHUGEPAGE), 0);
	before = free_pages();
	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	check_huge(p, 1, 1);
	cr_assert_eq(free_pages(), before);
}

/* madvise_collapse_existing_thps: a PMD-mapped range counts as done, nothing allocated. */
Test(khugepaged, madvise_collapse_existing_thps)
{
	unsigned long p = alloc_hpage();
	uint64_t allocs = os.ev.event[THP_COLLAPSE_ALLOC];

	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	check_huge(p, 1, 1);
	cr_assert_eq(os.ev.event[THP_COLLAPSE_ALLOC], allocs);
	cr_assert_eq(events[nr_events - 1].status, SCAN_PMD_MAPPED);
}

/* ---- the collapse itself ------------------------------------------------------ */

/* pmdp_collapse_flush() flushes the 2 MiB; the old table is deposited, not freed. */
Test(khugepaged, collapse_flushes_the_range_and_deposits_the_table)
{
	unsigned long p = setup_area(1);
	unsigned long nr_ptes;

	fault(p, 0, 64 * PAGE_SIZE);
	nr_ptes = mem.pgtable.nr_ptes;
	flushes.nr = 0;
	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	cr_assert_eq(flushes.nr, 1);
	cr_assert_eq(flushes.r[0].start, p);
	cr_assert_eq(flushes.r[0].end, p + PMD_SIZE);
	cr_assert_eq(mem.pgtable.nr_ptes, nr_ptes, "the PTE table stays counted (deposited)");
	/* Zapping the THP withdraws and frees that table: no table left behind. */
	cr_assert_eq(do_munmap(&mm, p, PMD_SIZE), 0);
	cr_assert_eq(mem.pgtable.nr_ptes, 0);
}

/* tlb:tlb_flush records, from MimicOS's event sink. */
static struct vt_event tlb_events[8];
static unsigned int nr_tlb_events;

static unsigned int ipi_events;

static void record_vt(void *ctx, const struct vt_event *e)
{
	(void)ctx;
	if (e->type == VT_TLB_FLUSH && nr_tlb_events < 8)
		tlb_events[nr_tlb_events++] = *e;
	if (e->type == VT_IPI)
		ipi_events++;
}

/*
 * khugepaged's collapse flush is another task's, on its own CPU: the TLBs
 * lose the range either way, but the trace is the IPI the workload's CPU
 * takes (a remote shootdown, with its cross-call records) only while the
 * workload runs; blocked (its CPU lazy), none (x86 sends no IPI to a lazy
 * CPU unless page tables were freed). MADV_COLLAPSE flushes in its own
 * context: a local MM shootdown.
 */
Test(khugepaged, khugepaged_flushes_trace_only_while_the_workload_runs)
{
	unsigned long p = setup_area(2);

	fault(p, 0, 64 * PAGE_SIZE);
	fault(p, PMD_SIZE, 64 * PAGE_SIZE);
	os.events = (struct mimicos_event_sink){ .event = record_vt };
	flushes.nr = 0;
	nr_tlb_events = 0;
	ipi_events = 0;
	enter_lazy_tlb(&os, 0);
	cr_assert(khugepaged_collapse(p, 1));
	switch_mm(&os, 0, mm.mem, 0);
	cr_assert_eq(pmd_pages(p, PMD_SIZE), 512);
	cr_assert_eq(flushes.nr, 1, "the TLBs are flushed all the same");
	cr_assert_eq(nr_tlb_events, 0, "no CPU of the blocked workload took an IPI");

	cr_assert(khugepaged_collapse(p + PMD_SIZE, 1));
	cr_assert_eq(pmd_pages(p + PMD_SIZE, PMD_SIZE), 512);
	cr_assert_eq(flushes.nr, 2);
	cr_assert_eq(nr_tlb_events, 1);
	cr_assert_eq(tlb_events[0].tlb.reason, 1, "TLB_REMOTE_SHOOTDOWN");
	cr_assert_eq(tlb_events[0].tlb.source, VT_TLB_SRC_KHUGEPAGED);
	cr_assert_eq(tlb_events[0].cpu, 0, "on the workload's CPU");
	cr_assert_eq(ipi_events, 2, "one cross-call queued by khugepaged and run");
	os.events.event = NULL;
}

Test(khugepaged, madvise_collapse_flushes_in_the_workloads_context)
{
	unsigned long p = setup_area(1);

	fault(p, 0, 64 * PAGE_SIZE);
	os.events = (struct mimicos_event_sink){ .event = record_vt };
	nr_tlb_events = 0;
	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	cr_assert_eq(nr_tlb_events, 1);
	cr_assert_eq(tlb_events[0].tlb.reason, 3, "TLB_LOCAL_MM_SHOOTDOWN");
	cr_assert_eq(tlb_events[0].tlb.pages, -1, "512 pages: past the single-page ceiling");
	os.events.event = NULL;
}

/* Read faults map the zero page: khugepaged counts them as none_or_zero and copies nothing. */
Test(khugepaged, zero_page_ptes_count_as_none)
{
	unsigned long p = setup_area(1);
	struct pgtable_walk w;

	for (unsigned long va = p; va < p + PMD_SIZE; va += 2 * PAGE_SIZE)
		cr_assert_eq(do_user_addr_fault(&mm, va, FAULT_FLAG_USER, NULL), 0);
	fault(p + PAGE_SIZE, 0, PAGE_SIZE);
	cr_assert_eq(madvise_collapse_ctx(p, 1), 0);
	check_huge(p, 1, 1);
	cr_assert(pgtable_walk(&mem.pgtable, p, &w));
	cr_assert_neq(w.pa >> PAGE_SHIFT, os.zero_pfn);
	/* The collapse event comes first, then the scan's (Linux traces the scan last). */
	cr_assert_eq(events[nr_events - 1].type, KHUGEPAGED_EV_SCAN_PMD);
	cr_assert_eq(events[nr_events - 1].none_or_zero, 511);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), HPAGE_PMD_NR);
}

/* ---- the thread: progress, sleeps, registration -------------------------------- */

/*
 * pages_to_scan 512: taking the mm costs 1, each 2 MiB range 512, so a pass
 * covers one range. A collapse also ends the mm's turn (mmap_lock dropped).
 * Four populated ranges: passes 1..4 collapse ranges 0..3, full_scans stays 0;
 * pass 5 finds the end of the mm (full_scans 1) and starts over at range 0.
 */
Test(khugepaged, pages_to_scan_512_scans_one_range_per_pass)
{
	unsigned long p;

	os.thp.khugepaged.pages_to_scan = HPAGE_PMD_NR;
	p = setup_area(4);
	fault(p, 0, 4 * PMD_SIZE);
	cr_assert_eq(do_madvise(&mm, p, 4 * PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(khugepaged_next_wakeup(&os), 0, "registration wakes it at once");
	for (unsigned int pass = 1; pass <= 4; pass++) {
		uint64_t t = (uint64_t)(pass - 1) * 10 * MS;

		cr_assert_eq(khugepaged_advance(&os, t + 1), 1);
		check_huge(p, 4, pass);
		cr_assert(pmd_pages(p + (pass - 1) * PMD_SIZE, PMD_SIZE) == HPAGE_PMD_NR);
		cr_assert_eq(khugepaged_stats(&os)->full_scans, 0);
		cr_assert_eq(khugepaged_next_wakeup(&os), t + 10 * MS);
	}
	nr_events = 0;
	cr_assert_eq(khugepaged_advance(&os, 40 * MS + 1), 1);
	cr_assert_eq(khugepaged_stats(&os)->full_scans, 1);
	cr_assert_eq(nr_events, 1);
	cr_assert_eq(events[0].address, p);
	cr_assert_eq(events[0].status, SCAN_PMD_MAPPED);
}

/* A pass due at t runs after what happens at t; passes follow every scan_sleep. */
Test(khugepaged, passes_are_spaced_by_scan_sleep)
{
	unsigned long p = setup_area(1);

	fault(p, 0, PAGE_SIZE);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(khugepaged_advance(&os, 0), 0);
	cr_assert_eq(khugepaged_advance(&os, 1000 * MS), 100, "t = 0, 10, ..., 990 ms");
	cr_assert_eq(khugepaged_stats(&os)->full_scans, 100);
	cr_assert_eq(khugepaged_stats(&os)->pages_collapsed, 1);
}

/*
 * khugepaged_alloc_sleep(): the first failed allocation suspends the pass
 * for alloc_sleep; the pass resumes with the next range, and a second
 * failure ends it; the next pass comes scan_sleep later. Two populated
 * ranges, no order-9 block free:
 *   t=0    range 0 fails (1), the pass sleeps until 50 ms
 *   t=50   range 1 fails (2), the pass ends; next pass at 60 ms
 *   (memory freed) t=60: both collapse; next pass at 70 ms
 */
Test(khugepaged, allocation_failure_sleeps_then_gives_up)
{
	long blocks[256];
	int nr_blocks = 0;
	unsigned long p;

	os.thp.khugepaged.alloc_sleep_millisecs = 50;
	p = setup_area(2);
	fault(p, 0, 32 * PAGE_SIZE);
	fault(p, PMD_SIZE, 32 * PAGE_SIZE);
	/* Take every block an order-9 allocation could use. */
	for (;;) {
		long pfn = __alloc_pages(&os.zone, GFP_TRANSHUGE, HPAGE_PMD_ORDER, 0);

		if (pfn < 0)
			break;
		cr_assert_lt(nr_blocks, 256);
		blocks[nr_blocks++] = pfn;
	}
	cr_assert_eq(do_madvise(&mm, p, 2 * PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(khugepaged_advance(&os, 1), 1);
	cr_assert_eq(os.ev.event[THP_COLLAPSE_ALLOC_FAILED], 1);
	cr_assert_eq(khugepaged_next_wakeup(&os), 50 * MS, "resumes after alloc_sleep");
	cr_assert_eq(khugepaged_advance(&os, 50 * MS + 1), 1);
	cr_assert_eq(os.ev.event[THP_COLLAPSE_ALLOC_FAILED], 2);
	cr_assert_eq(khugepaged_next_wakeup(&os), 60 * MS, "gave up; next pass after scan_sleep");
	cr_assert_eq(count_events(KHUGEPAGED_EV_COLLAPSE, SCAN_ALLOC_HUGE_PAGE_FAIL), 2);
	cr_assert_eq(khugepaged_stats(&os)->full_scans, 0);
	/* Memory back (above the watermarks again): the next pass collapses both. */
	while (nr_blocks > 0)
		__free_pages(&os.zone, (unsigned long)blocks[--nr_blocks], HPAGE_PMD_ORDER, 0);
	cr_assert_eq(khugepaged_advance(&os, 60 * MS + 1), 1);
	check_huge(p, 2, 2);
	cr_assert_eq(os.ev.event[THP_COLLAPSE_ALLOC_FAILED], 2);
	cr_assert_eq(khugepaged_next_wakeup(&os), 70 * MS);
}

/* madvise mode: only VM_HUGEPAGE registers the mm; a plain mmap does not. */
Test(khugepaged, registration_needs_pmd_order_allowed)
{
	unsigned long p = setup_area(1);

	fault(p, 0, PAGE_SIZE);
	cr_assert_eq(khugepaged_next_wakeup(&os), UINT64_MAX);
	cr_assert_eq(khugepaged_advance(&os, 1000 * MS), 0);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(khugepaged_next_wakeup(&os), 1000 * MS);
}

Test(khugepaged, never_mode_registers_nothing)
{
	unsigned long p;

	os.thp.enabled = THP_ENABLED_NEVER;
	p = setup_area(1);
	fault(p, 0, PAGE_SIZE);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(khugepaged_next_wakeup(&os), UINT64_MAX);
	/* ...but MADV_COLLAPSE ignores the sysfs mode. */
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_COLLAPSE), 0);
	check_huge(p, 1, 1);
}

Test(khugepaged, module_off_runs_no_pass)
{
	unsigned long p;

	os.thp.modules.khugepaged = false;
	p = setup_area(1);
	fault(p, 0, PAGE_SIZE);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(khugepaged_advance(&os, 1000 * MS), 0);
	check_huge(p, 1, 0);
	now = 1000 * MS;
	cr_assert_not(khugepaged_wait_full_scans(&os, &now, 2, 500 * MS));
	cr_assert_eq(now, 1500 * MS, "a wait that cannot finish ends at its timeout");
}

/* VM_NOHUGEPAGE: khugepaged skips the VMA (progress +1) and MADV_COLLAPSE refuses. */
Test(khugepaged, nohugepage_vma_is_skipped)
{
	unsigned long p = setup_area(1), q = setup_area(1);

	fault(p, 0, PAGE_SIZE);
	fault(q, 0, PAGE_SIZE);
	cr_assert_eq(do_madvise(&mm, p, PMD_SIZE, MADV_HUGEPAGE), 0);
	cr_assert_eq(do_madvise(&mm, q, PMD_SIZE, MADV_NOHUGEPAGE), 0);
	cr_assert(khugepaged_wait_full_scans(&os, &now, 2, 3000 * MS));
	check_huge(p, 1, 1);
	check_huge(q, 1, 0);
	cr_assert_eq(do_madvise(&mm, q, PMD_SIZE, MADV_COLLAPSE), -EINVAL);
}

Test(khugepaged, scan_result_names_are_the_tracepoints)
{
	/* huge_memory/mm_khugepaged_scan_pmd/format on this host (6.18). */
	cr_assert_str_eq(scan_result_name(SCAN_FAIL), "failed");
	cr_assert_str_eq(scan_result_name(SCAN_PMD_MAPPED), "page_pmd_mapped");
	cr_assert_str_eq(scan_result_name(SCAN_EXCEED_NONE_PTE), "exceed_none_pte");
	cr_assert_str_eq(scan_result_name(SCAN_ALLOC_HUGE_PAGE_FAIL), "alloc_huge_page_failed");
	cr_assert_str_eq(scan_result_name(SCAN_PAGE_FILLED), "page_filled");
	cr_assert_eq(SCAN_ALLOC_HUGE_PAGE_FAIL, 24);
	cr_assert_eq(NR_SCAN_RESULTS, 31);
}
