/*
 * test_zap.c - munmap, MADV_DONTNEED and mprotect on mapped memory (the
 * mm_hooks of memory.c) against hand-derived expectations: Linux 6.18 as
 * docs/linux-facts.md section 4 and the rows dontneed-split, mprotect-split
 * and munmap-partial of datasets/workloads/INDEX.md describe it.
 *
 * A 256 MiB zone at pfn 0x100000, one CPU, a fresh 4-level mm per test,
 * an 8 MiB anonymous private region, 2 MiB aligned (blocks 0..3). Each
 * dataset is replayed phase by phase: a touch writes every 4 KiB page in
 * order and faults where the hardware walk finds no (writable) entry, an
 * access reads (each page once: a uniform or sequential pattern over a
 * range touches no page the one-pass read misses).
 */
#include <string.h>
#include <sys/mman.h>

#include <criterion/criterion.h>

#include "mimicos/memory.h"
#include "tests/mimicos/harness.h"
#include "mimicos/mmap.h"
#include "workload/prng.h"

#define MiB (1UL << 20)
#define KiB (1UL << 10)
#define W (FAULT_FLAG_WRITE | FAULT_FLAG_USER)
#define R FAULT_FLAG_USER

static struct mimicos os;
static struct mm_struct mm;
static struct mm_mem mem;
static unsigned long free_after_boot;
static struct thp_settings thp;

/* TLB flushes reported through mem.tlb. */
static struct flush_log flushes;

static void boot(void)
{
	struct zone_config zc = { .size_bytes = 256 * MiB, .start_pfn = 0x100000, .nr_cpus = 1 };
	struct mm_layout l;
	struct wl_rng rng;

	cr_assert_eq(mimicos_init(&os, &zc, &thp), 0);
	free_after_boot = os.zone.nr_free_pages;
	mm_layout_init(&l);
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm, &mem, 4), 0);
	mem.tlb = (struct mm_tlb_trace){ .flush = flush_log_record, .ctx = &flushes };
	flushes.nr = 0;
}

/* enabled=madvise, defrag=madvise, use_zero_page, mTHP never (dontneed-split, mprotect-split). */
static void setup_madvise(void)
{
	thp_settings_init(&thp);
	boot();
}

/* enabled=always, defrag=defer+madvise (munmap-partial). */
static void setup_always(void)
{
	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_ALWAYS;
	thp.defrag = THP_DEFRAG_DEFER_MADVISE;
	boot();
}

static void shutdown(void)
{
	if (mm.mem)
		mm_mem_release(&mm);
	mm_release(&mm);
	mimicos_release(&os);
}

static unsigned long map_8mib(void)
{
	unsigned long a;

	cr_assert_eq(do_mmap(&mm, 0, 8 * MiB, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, &a), 0);
	cr_assert_eq(a & (PMD_SIZE - 1), 0);
	return a;
}

static uint64_t ev(enum vm_event_item item)
{
	return os.ev.event[item];
}

static long rss(void)
{
	return get_mm_counter(&mm, MM_ANONPAGES);
}

static void assert_flush(int i, unsigned long start, unsigned long end)
{
	cr_assert_gt(flushes.nr, i, "%d flushes, want flush %d", flushes.nr, i);
	cr_assert_eq(flushes.r[i].start, start, "flush %d starts at %#lx, want %#lx", i, flushes.r[i].start, start);
	cr_assert_eq(flushes.r[i].end, end, "flush %d ends at %#lx, want %#lx", i, flushes.r[i].end, end);
}

/*
 * Exit: every page and table back in the zone, no folio, an empty queue.
 * The huge zero folio, once allocated, stays (no shrinker).
 */
static void assert_exit_returns_everything(void)
{
	unsigned long huge_zero = os.huge_zero_pfn != PFN_NONE ? HPAGE_PMD_NR : 0;

	mm_mem_release(&mm);
	drain_all_pages(&os.zone);
	cr_assert_eq(os.zone.nr_free_pages + huge_zero, free_after_boot);
	cr_assert_eq(os.folios.nr, 0);
	cr_assert_eq(os.deferred_split.nr, 0);
	cr_assert_eq(os.ev.mthp[HPAGE_PMD_ORDER][MTHP_STAT_NR_ANON_PARTIALLY_MAPPED], 0);
	zone_check(&os.zone);
}

/* ---------------------------------------------------------------------- */
/* The datasets.                                                           */

/*
 * dontneed-split: 4 THP faults; DONTNEED of block 0 zaps its PMD (no split,
 * RSS -512, one flush of the 2 MiB); DONTNEED of [3 MiB, 3.5 MiB) splits
 * block 1 (thp_split_pmd 1), zaps 128 PTEs and queues the folio
 * (thp_deferred_split_page 1); re-touching block 0 is one THP fault, the
 * hole 128 4 KiB faults: 133 faults, 5 THP, pmd 1536, pte 512.
 */

Test(zap, dataset_dontneed_split, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib(), faults;

	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_HUGEPAGE), 0);
	faults = mm_touch(&mm, a, 8 * MiB, W);
	cr_assert_eq(faults, 4);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 4);
	cr_assert_eq(rss(), 2048);
	cr_assert_eq(mem.pgtable.nr_ptes, 4);

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_DONTNEED), 0);
	cr_assert_eq(rss(), 1536);
	cr_assert_eq(ev(THP_SPLIT_PMD), 0);
	cr_assert_eq(mem.pgtable.nr_ptes, 3, "the deposited table goes with the PMD");
	cr_assert_eq(os.folios.nr, 3);
	mm_expect_classes(&mm, a, 8 * MiB, 512, 0, 0, 1536);
	cr_assert_eq(flushes.nr, 1);
	assert_flush(0, a, a + 2 * MiB);

	cr_assert_eq(do_madvise(&mm, a + 3 * MiB, 512 * KiB, MADV_DONTNEED), 0);
	cr_assert_eq(ev(THP_SPLIT_PMD), 1);
	cr_assert_eq(ev(THP_DEFERRED_SPLIT_PAGE), 1);
	cr_assert_eq(os.ev.mthp[HPAGE_PMD_ORDER][MTHP_STAT_SPLIT_DEFERRED], 1);
	cr_assert_eq(os.ev.mthp[HPAGE_PMD_ORDER][MTHP_STAT_NR_ANON_PARTIALLY_MAPPED], 1);
	cr_assert_eq(os.deferred_split.nr, 1);
	cr_assert_eq(rss(), 1536 - 128);
	cr_assert_eq(os.folios.nr, 3, "the split folio stays whole until the deferred split");
	mm_expect_classes(&mm, a, 8 * MiB, 512 + 128, 0, 384, 1024);
	/* pmdp_invalidate() of the split, then the zapped PTEs */
	cr_assert_eq(flushes.nr, 3);
	assert_flush(1, a + 2 * MiB, a + 4 * MiB);
	assert_flush(2, a + 3 * MiB, a + 3 * MiB + 512 * KiB);

	faults = mm_touch(&mm, a, 2 * MiB, W);
	cr_assert_eq(faults, 1);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 5);
	cr_assert_eq(rss(), 2048 - 128);
	faults += mm_touch(&mm, a + 3 * MiB, 512 * KiB, W);
	cr_assert_eq(faults, 1 + 128);
	cr_assert_eq(rss(), 2048);
	cr_assert_eq(ev(PGFAULT), 133);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 5);
	mm_expect_classes(&mm, a, 8 * MiB, 0, 0, 512, 1536);
	assert_exit_returns_everything();
}

/*
 * mprotect-split: 4 THP faults; mprotect(r) of [3 MiB, 4 MiB) splits the
 * VMA at 3 MiB (inside block 1: split_huge_pmd, thp_split_pmd 1) and at
 * 4 MiB (aligned: nothing), then write-protects the 256 PTEs; reads take no
 * fault; PROT_NONE on block 3 keeps its PMD; rw again merges the VMAs and
 * makes the exclusive anon PTEs writable, so the store touch takes no
 * fault: 4 faults, then 0; pmd 1536 (blocks 0, 2, 3), pte 512 (block 1).
 */
Test(zap, dataset_mprotect_split, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib(), va;
	struct pgtable_walk w;

	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(mm_touch(&mm, a, 8 * MiB, W), 4);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 4);

	cr_assert_eq(do_mprotect(&mm, a + 3 * MiB, 1 * MiB, PROT_READ), 0);
	cr_assert_eq(mm.map_count, 3);
	cr_assert_eq(ev(THP_SPLIT_PMD), 1);
	cr_assert_eq(ev(THP_DEFERRED_SPLIT_PAGE), 0, "the folio is still wholly mapped");
	cr_assert_eq(rss(), 2048);
	mm_expect_classes(&mm, a, 8 * MiB, 0, 0, 512, 1536);
	for (va = a + 2 * MiB; va < a + 4 * MiB; va += PAGE_SIZE) {
		cr_assert(pgtable_walk(&mem.pgtable, va, &w));
		cr_assert_eq(w.page_size, PAGE_SIZE);
		cr_assert_eq(!!(w.entry & _PAGE_RW), va < a + 3 * MiB, "RW at %#lx", va);
	}
	/* the split's flush of block 1, then the write-protected PTEs */
	cr_assert_eq(flushes.nr, 2);
	assert_flush(0, a + 2 * MiB, a + 4 * MiB);
	assert_flush(1, a + 3 * MiB, a + 4 * MiB);

	cr_assert_eq(mm_touch(&mm, a + 3 * MiB, 1 * MiB, R), 0);
	cr_assert_eq(ev(PGFAULT), 4);

	cr_assert_eq(do_mprotect(&mm, a + 6 * MiB, 2 * MiB, PROT_NONE), 0);
	cr_assert_eq(ev(THP_SPLIT_PMD), 1, "PROT_NONE on a whole aligned block keeps the PMD");
	mm_expect_classes(&mm, a + 6 * MiB, 2 * MiB, 0, 0, 0, 512);
	cr_assert_not(pgtable_walk(&mem.pgtable, a + 6 * MiB, &w), "PROT_NONE is not present to the hardware");
	assert_flush(2, a + 6 * MiB, a + 8 * MiB);

	cr_assert_eq(do_mprotect(&mm, a + 3 * MiB, 1 * MiB, PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(mm.map_count, 2);
	cr_assert_eq(mm_touch(&mm, a + 3 * MiB, 1 * MiB, W), 0);
	cr_assert_eq(ev(PGFAULT), 4);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 4);
	cr_assert_eq(ev(THP_SPLIT_PMD), 1);
	cr_assert_eq(rss(), 2048);
	mm_expect_classes(&mm, a, 8 * MiB, 0, 0, 512, 1536);
	assert_exit_returns_everything();
}

/*
 * munmap-partial (thp=always): 4 THP faults; munmap of [1 MiB, 3 MiB)
 * splits the VMA at 1 MiB and 3 MiB, each inside a THP (thp_split_pmd 2),
 * zaps 256 PTEs of each (both folios queued: thp_deferred_split_page 2);
 * munmap of the aligned [6 MiB, 8 MiB) drops the PMD; the rest stays:
 * 4 faults, then 0; none 1024, pte 512, pmd 512.
 */
Test(zap, dataset_munmap_partial, .init = setup_always, .fini = shutdown)
{
	unsigned long a = map_8mib();

	cr_assert_eq(mm_touch(&mm, a, 8 * MiB, W), 4);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 4);
	cr_assert_eq(rss(), 2048);

	cr_assert_eq(do_munmap(&mm, a + 1 * MiB, 2 * MiB), 0);
	cr_assert_eq(mm.map_count, 2);
	cr_assert_eq(ev(THP_SPLIT_PMD), 2);
	cr_assert_eq(ev(THP_DEFERRED_SPLIT_PAGE), 2);
	cr_assert_eq(os.deferred_split.nr, 2);
	cr_assert_eq(rss(), 1536);
	cr_assert_eq(os.folios.nr, 4);
	/* both PTE tables still serve a VMA: none freed */
	cr_assert_eq(mem.pgtable.nr_ptes, 4);
	mm_expect_classes(&mm, a, 8 * MiB, 512, 0, 512, 1024);
	/* two splits, then the zapped range */
	cr_assert_eq(flushes.nr, 3);
	assert_flush(0, a, a + 2 * MiB);
	assert_flush(1, a + 2 * MiB, a + 4 * MiB);
	assert_flush(2, a + 1 * MiB, a + 3 * MiB);

	cr_assert_eq(do_munmap(&mm, a + 6 * MiB, 2 * MiB), 0);
	cr_assert_eq(ev(THP_SPLIT_PMD), 2);
	cr_assert_eq(rss(), 1024);
	cr_assert_eq(os.folios.nr, 3);
	cr_assert_eq(mem.pgtable.nr_ptes, 3);
	assert_flush(3, a + 6 * MiB, a + 8 * MiB);

	cr_assert_eq(mm_touch(&mm, a, 1 * MiB, W), 0);
	cr_assert_eq(mm_touch(&mm, a + 3 * MiB, 3 * MiB, R), 0);
	cr_assert_eq(ev(PGFAULT), 4);
	mm_expect_classes(&mm, a, 8 * MiB, 1024, 0, 512, 512);
	assert_exit_returns_everything();
}

/* ---------------------------------------------------------------------- */
/* Pieces.                                                                 */

/* munmap of a whole region frees every table below the pgd. */
Test(zap, munmap_everything_frees_tables, .init = setup_always, .fini = shutdown)
{
	unsigned long a = map_8mib();

	mm_touch(&mm, a, 4 * MiB, W);
	mm_touch(&mm, a + 4 * MiB, 4 * MiB, R);		/* two huge zero PMDs */
	cr_assert_eq(rss(), 1024);
	cr_assert_eq(do_munmap(&mm, a, 8 * MiB), 0);
	cr_assert_eq(rss(), 0);
	cr_assert_eq(mm.map_count, 0);
	cr_assert_eq(mem.pgtable.pgtables_bytes, 0);
	cr_assert_eq(mem.pgtable.nr_deposited, 0);
	cr_assert_eq(os.folios.nr, 0);
	cr_assert_eq(ev(THP_SPLIT_PMD), 0);
	assert_exit_returns_everything();
}

/* DONTNEED of part of a huge zero PMD: 512 zero PTEs, 128 cleared, no RSS. */
Test(zap, dontneed_part_of_huge_zero_pmd, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib();

	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(mm_touch(&mm, a, 2 * MiB, R), 1);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 512, 0, 0);
	cr_assert_eq(do_madvise(&mm, a + 1 * MiB, 512 * KiB, MADV_DONTNEED), 0);
	cr_assert_eq(ev(THP_SPLIT_PMD), 1);
	cr_assert_eq(ev(THP_DEFERRED_SPLIT_PAGE), 0);
	cr_assert_eq(rss(), 0);
	mm_expect_classes(&mm, a, 2 * MiB, 128, 384, 0, 0);
	/* a write to a zero PTE is a 4 KiB COW */
	cr_assert_eq(mm_touch(&mm, a, PAGE_SIZE, W), 1);
	cr_assert_eq(rss(), 1);
	assert_exit_returns_everything();
}

/* 4 KiB pages: DONTNEED drops RSS and frees the pages, the table stays. */
Test(zap, dontneed_4k_pages, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib();

	cr_assert_eq(mm_touch(&mm, a, 1 * MiB, W), 256);
	cr_assert_eq(mm_touch(&mm, a + 1 * MiB, 1 * MiB, R), 256);	/* zero-page PTEs */
	cr_assert_eq(rss(), 256);
	cr_assert_eq(do_madvise(&mm, a + 512 * KiB, 1 * MiB, MADV_DONTNEED), 0);
	cr_assert_eq(rss(), 128);
	cr_assert_eq(os.folios.nr, 128);
	cr_assert_eq(mem.pgtable.nr_ptes, 1);
	mm_expect_classes(&mm, a, 2 * MiB, 256, 128, 128, 0);
	assert_flush(0, a + 512 * KiB, a + 1536 * KiB);
	assert_exit_returns_everything();
}

/* mprotect(r) of a whole THP keeps its PMD read-only; rw makes it writable again. */
Test(zap, mprotect_whole_thp_keeps_pmd, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib();
	struct pgtable_walk w;

	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(mm_touch(&mm, a, 4 * MiB, W), 2);
	cr_assert_eq(do_mprotect(&mm, a, 2 * MiB, PROT_READ), 0);
	cr_assert(pgtable_walk(&mem.pgtable, a, &w));
	cr_assert_eq(w.page_size, PMD_SIZE);
	cr_assert_not(w.entry & _PAGE_RW);
	cr_assert_eq(ev(THP_SPLIT_PMD), 0);
	cr_assert_eq(do_mprotect(&mm, a, 2 * MiB, PROT_READ | PROT_WRITE), 0);
	cr_assert(pgtable_walk(&mem.pgtable, a, &w));
	cr_assert(w.entry & _PAGE_RW);
	cr_assert_eq(mm_touch(&mm, a, 2 * MiB, W), 0);
	cr_assert_eq(ev(PGFAULT), 2);
	assert_exit_returns_everything();
}

/* mprotect(rw) does not make a zero-page PTE writable: the store still COWs. */
Test(zap, mprotect_rw_keeps_zero_page_readonly, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib();

	cr_assert_eq(mm_touch(&mm, a, PAGE_SIZE, R), 1);
	cr_assert_eq(mm_touch(&mm, a + PAGE_SIZE, PAGE_SIZE, W), 1);
	cr_assert_eq(do_mprotect(&mm, a, 2 * MiB, PROT_READ), 0);
	cr_assert_eq(do_mprotect(&mm, a, 2 * MiB, PROT_READ | PROT_WRITE), 0);
	cr_assert_eq(mm_touch(&mm, a + PAGE_SIZE, PAGE_SIZE, W), 0, "exclusive anon page: writable again");
	cr_assert_eq(mm_touch(&mm, a, PAGE_SIZE, W), 1, "zero page: COW");
	cr_assert_eq(rss(), 2);
	assert_exit_returns_everything();
}

/* ---------------------------------------------------------------------- */
/* The deferred split (the shrinker).                                      */

/*
 * DONTNEED of the upper 1 MiB of a THP: 256 PTEs stay, the folio is queued.
 * deferred_split_scan() splits it: the 256 unmapped pages go back to the
 * zone, the 256 mapped ones become order-0 folios mapped where they were
 * (same pfns, still writable), thp_split_page and mTHP split count 1, the
 * queue empties, one flush of the folio's 2 MiB.
 */
Test(zap, deferred_split_scan_frees_the_unmapped_half, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib(), free_before;
	struct pgtable_walk w;
	uint64_t pa_before;

	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_HUGEPAGE), 0);
	mm_touch(&mm, a, 2 * MiB, W);
	cr_assert(pgtable_walk(&mem.pgtable, a + 4096, &w));
	pa_before = w.pa;
	cr_assert_eq(do_madvise(&mm, a + 1 * MiB, 1 * MiB, MADV_DONTNEED), 0);
	cr_assert_eq(os.deferred_split.nr, 1);
	drain_all_pages(&os.zone);
	free_before = os.zone.nr_free_pages;
	flushes.nr = 0;

	cr_assert_eq(deferred_split_scan(&os, 16), 1);
	drain_all_pages(&os.zone);
	cr_assert_eq(os.zone.nr_free_pages, free_before + 256);
	cr_assert_eq(os.deferred_split.nr, 0);
	cr_assert_eq(ev(THP_SPLIT_PAGE), 1);
	cr_assert_eq(os.ev.mthp[HPAGE_PMD_ORDER][MTHP_STAT_SPLIT], 1);
	cr_assert_eq(os.ev.mthp[HPAGE_PMD_ORDER][MTHP_STAT_NR_ANON_PARTIALLY_MAPPED], 0);
	cr_assert_eq(os.folios.nr, 256);
	assert_flush(0, a, a + 2 * MiB);
	mm_expect_classes(&mm, a, 2 * MiB, 256, 0, 256, 0);
	cr_assert(pgtable_walk(&mem.pgtable, a + 4096, &w));
	cr_assert_eq(w.pa, pa_before, "the mapped pages stay where they were");
	cr_assert(w.entry & _PAGE_RW);
	cr_assert_eq(rss(), 256);
	/* A write to a split page takes no fault; the hole refills with 4 KiB faults. */
	cr_assert_eq(mm_touch(&mm, a, 1 * MiB, W), 0);
	cr_assert_eq(mm_touch(&mm, a + 1 * MiB, 1 * MiB, W), 256);
	assert_exit_returns_everything();
}

/*
 * Direct reclaim: when an allocation that may reclaim fails, the queued
 * folios are split (the zone's shrinker) and the allocation retried. Fill
 * the zone until a movable order-0 allocation fails, with one half-unmapped
 * THP queued: the fault's 4 KiB page still comes, from the split's 256
 * freed pages (drained from the per-CPU list as direct reclaim does).
 */
Test(zap, allocation_failure_splits_queued_folios, .init = setup_madvise, .fini = shutdown)
{
	unsigned long a = map_8mib();
	long *held = malloc(sizeof(long) * 70000);
	size_t nr_held = 0;

	cr_assert_not_null(held);
	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	mm_touch(&mm, a, 2 * MiB, W);
	cr_assert_eq(do_madvise(&mm, a + 1 * MiB, 1 * MiB, MADV_DONTNEED), 0);
	for (;;) {
		/* Without __GFP_DIRECT_RECLAIM: filling must not reclaim. */
		long pfn = __alloc_pages(&os.zone, GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM, 0, 0);

		if (pfn < 0)
			break;
		cr_assert_lt(nr_held, 70000);
		held[nr_held++] = pfn;
	}
	cr_assert_lt(__alloc_pages(&os.zone, GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM, 0, 0), 0);
	cr_assert_eq(os.deferred_split.nr, 1);
	cr_assert_eq(do_user_addr_fault(&mm, a + 4 * MiB, W, NULL), 0, "reclaim made room");
	cr_assert_eq(os.deferred_split.nr, 0);
	cr_assert_eq(ev(THP_SPLIT_PAGE), 1);
	while (nr_held)
		__free_pages(&os.zone, (unsigned long)held[--nr_held], 0, 0);
	free(held);
	assert_exit_returns_everything();
}
