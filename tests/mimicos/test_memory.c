/*
 * test_memory.c - the anonymous fault path against hand-derived expectations
 * (Linux 6.18, docs/linux-facts.md section 1).
 *
 * A 256 MiB zone at pfn 0x100000, one CPU, a fresh 4-level mm per test. The
 * zero page is taken at boot; a region is mmap'ed anonymous and private, 2 MiB
 * aligned (its length is a multiple of 2 MiB). A fresh mm has only its pgd,
 * so the first fault in a region allocates a PUD, a PMD and a PTE table (or
 * a PTE table to deposit, for a THP).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <criterion/criterion.h>

#include <linux/types.h>

#include "mimicos/memory.h"
#include "mimicos/mmap.h"
#include "tests/mimicos/harness.h"
#include "workload/event.h"
#include "workload/prng.h"

#define MiB (1UL << 20)
#define W (FAULT_FLAG_WRITE | FAULT_FLAG_USER)
#define R FAULT_FLAG_USER

static struct mimicos os;
static struct mm_struct mm;
static struct mm_mem mem;
static unsigned long free_after_boot;

static void boot(const struct thp_settings *thp)
{
	struct zone_config zc = { .size_bytes = 256 * MiB, .start_pfn = 0x100000, .nr_cpus = 1 };
	struct mm_layout l;
	struct wl_rng rng;

	cr_assert_eq(mimicos_init(&os, &zc, thp), 0);
	free_after_boot = os.zone.nr_free_pages;
	mm_layout_init(&l);
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm, &mem, 4), 0);
}

static void shutdown(void)
{
	mm_mem_release(&mm);
	mm_release(&mm);
	mimicos_release(&os);
}

static void setup(void) { boot(NULL); }

/* Settings: defaults (enabled=madvise, use_zero_page=1) with a change. */
static struct thp_settings thp;

static void setup_never(void)
{
	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_NEVER;
	boot(&thp);
}

static void setup_always(void)
{
	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_ALWAYS;
	boot(&thp);
}

/* 64kB always, global never: only mTHP. */
static void setup_mthp(void)
{
	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_NEVER;
	thp.size[4] = THP_SIZE_ALWAYS;
	boot(&thp);
}

static unsigned long map(unsigned long len, unsigned long prot)
{
	unsigned long addr;

	cr_assert_eq(do_mmap(&mm, 0, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, &addr), 0);
	cr_assert_eq(addr & (PMD_SIZE - 1), 0, "len %lu not 2 MiB aligned", len);
	return addr;
}

static unsigned long map_rw(unsigned long len)
{
	return map(len, PROT_READ | PROT_WRITE);
}

static vm_fault_t fault(unsigned long addr, unsigned int flags, struct fault_result *r)
{
	return do_user_addr_fault(&mm, addr, flags, r);
}

static uint64_t ev(enum vm_event_item item)
{
	return os.ev.event[item];
}

static uint64_t mthp(int order, enum mthp_stat_item item)
{
	return os.ev.mthp[order][item];
}

/* ---------------------------------------------------------------------- */

Test(memory, zero_page_allocated_at_boot, .init = setup, .fini = shutdown)
{
	cr_assert_eq(os.zero_pfn >> MAX_PAGE_ORDER, 0x100000 >> MAX_PAGE_ORDER);
	cr_assert_eq(os.huge_zero_pfn, PFN_NONE);
	cr_assert_eq(ev(THP_ZERO_PAGE_ALLOC), 0);
	/* The zero page, then the mm's pgd; the rest free or on the pcp list. */
	cr_assert_eq(free_after_boot, os.zone.managed_pages - 1);
	cr_assert_eq(os.zone.nr_free_pages + (unsigned long)os.zone.pcp[0].count,
		     os.zone.managed_pages - 2);
}

Test(memory, write_fault_4k, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	uint64_t tables = mem.pgtable.stats.pgtable_alloc;
	uint64_t order0 = os.zone.stats.pgalloc_order[0];
	struct fault_result r;

	cr_assert_eq(fault(a + 0x5000, W, &r), 0);
	cr_assert_eq(r.page_size, PAGE_SIZE);
	cr_assert_eq(r.order, 0);
	cr_assert_not(r.zero_page);
	cr_assert_not(r.tlb_flush);
	cr_assert_eq(r.start, a + 0x5000);
	cr_assert_eq(r.end, a + 0x6000);
	cr_assert_eq(os.folios.nr, 1);
	cr_assert_eq(pfn_folio(&os, r.pfn)->order, 0);
	/* PUD, PMD and PTE tables, then the page: four order-0 blocks. */
	cr_assert_eq(mem.pgtable.stats.pgtable_alloc - tables, 3);
	cr_assert_eq(os.zone.stats.pgalloc_order[0] - order0, 4);
	cr_assert_eq(mem.pgtable.nr_ptes, 1);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 1);
	cr_assert_eq(ev(PGFAULT), 1);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	cr_assert_eq(mm_page_class(&mm, a + 0x5000), PAGE_CLASS_PTE);
	mm_expect_classes(&mm, a, 4 * MiB, 1023, 0, 1, 0);
	cr_assert_neq(mm.mmap->anon_vma, 0, "anon_vma_prepare() ran");
}

Test(memory, read_fault_maps_zero_page, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a + 0x3000, R, &r), 0);
	cr_assert_eq(r.page_size, PAGE_SIZE);
	cr_assert_eq(r.order, -1);
	cr_assert(r.zero_page);
	cr_assert_eq(r.pfn, os.zero_pfn);
	cr_assert_eq(os.folios.nr, 0, "no allocation");
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 0);
	cr_assert_eq(mem.pgtable.nr_ptes, 1, "the PTE table is allocated");
	cr_assert_eq(mm_page_class(&mm, a + 0x3000), PAGE_CLASS_ZERO);
	cr_assert_eq(mm.mmap->anon_vma, 0, "reads do not prepare an anon_vma");
	/* Read again: present, nothing changes. */
	cr_assert_eq(fault(a + 0x3000, R, &r), 0);
	cr_assert_eq(r.start, r.end);
	cr_assert_eq(ev(PGFAULT), 2);
}

Test(memory, cow_of_zero_page_is_order0_with_mthp, .init = setup_mthp, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a + 0x11000, R, &r), 0);
	cr_assert(r.zero_page);
	cr_assert_eq(fault(a + 0x11000, W, &r), 0);
	cr_assert_eq(r.order, 0, "COW of the zero page is always order 0");
	cr_assert_eq(r.page_size, PAGE_SIZE);
	cr_assert_not(r.zero_page);
	cr_assert(r.tlb_flush, "the zero-page PTE was present");
	cr_assert_eq(r.start, a + 0x11000);
	cr_assert_eq(r.end, a + 0x12000);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 1);
	cr_assert_eq(mthp(4, MTHP_STAT_ANON_FAULT_ALLOC), 0);
	mm_expect_classes(&mm, a + 0x10000, 0x10000, 15, 0, 1, 0);
}

Test(memory, write_to_exclusive_readonly_pte_reuses, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;
	unsigned long pfn;
	uint64_t ptep;
	pte_t pte;

	cr_assert_eq(fault(a, W, &r), 0);
	pfn = r.pfn;
	ptep = get_locked_pte(&mem.pgtable, a);
	pte = ptep_get(&mem.pgtable, ptep);
	set_pte_at(&mem.pgtable, a, ptep, pte_wrprotect(pte));
	cr_assert_eq(fault(a, W, &r), 0);
	cr_assert_eq(r.pfn, pfn, "the exclusive page is reused");
	cr_assert_eq(r.order, -1);
	cr_assert_not(r.tlb_flush);
	cr_assert(pte_write(ptep_get(&mem.pgtable, ptep)));
	cr_assert_eq(os.folios.nr, 1);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 1);
}

Test(memory, thp_fault_madvised_block, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	uint64_t tables;
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 4 * MiB, MADV_HUGEPAGE), 0);
	tables = mem.pgtable.stats.pgtable_alloc;
	cr_assert_eq(fault(a + PMD_SIZE + 0x7000, W, &r), 0);
	cr_assert_eq(r.page_size, PMD_SIZE);
	cr_assert_eq(r.order, 9);
	cr_assert_eq(r.start, a + PMD_SIZE);
	cr_assert_eq(r.end, a + 2 * PMD_SIZE);
	cr_assert_eq(r.pfn & 511, 7);
	cr_assert_not(r.tlb_flush);
	cr_assert_eq(os.folios.nr, 1);
	cr_assert_eq(pfn_folio(&os, r.pfn)->order, 9);
	cr_assert_eq(os.zone.stats.pgalloc_order[9], 1);
	/* PUD and PMD tables, and the PTE table deposited. */
	cr_assert_eq(mem.pgtable.stats.pgtable_alloc - tables, 3);
	cr_assert_eq(mem.pgtable.nr_deposited, 1);
	cr_assert_eq(mem.pgtable.nr_ptes, 1);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 512);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 1);
	cr_assert_eq(mthp(9, MTHP_STAT_ANON_FAULT_ALLOC), 1);
	mm_expect_classes(&mm, a, 4 * MiB, 512, 0, 0, 512);
	/* A read elsewhere in the THP is a spurious fault: nothing changes. */
	cr_assert_eq(fault(a + PMD_SIZE + 0x1000, R, &r), 0);
	cr_assert_eq(r.start, r.end);
	cr_assert_eq(os.folios.nr, 1);
}

/*
 * Another CPU's write fault on the same block, begun before the THP above
 * was installed (FAULT_FLAG_RACED): it allocated and cleared its own THP and
 * a PTE table, found the PMD set under the lock and gave both back. A
 * fault (pgfault), no THP_FAULT_ALLOC, nothing mapped or left allocated.
 */
Test(memory, a_thp_fault_that_lost_the_race_gives_its_folio_back, .init = setup,
     .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB), free_pages;
	uint64_t pgfault, tables;
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(fault(a, W, &r), 0);
	cr_assert_eq(r.order, 9);
	free_pages = os.zone.nr_free_pages;
	pgfault = ev(PGFAULT);
	tables = mem.pgtable.stats.pgtable_alloc;
	cr_assert_eq(fault(a + 0x3000, W | FAULT_FLAG_RACED, &r), 0);
	cr_assert_eq(r.order, 9, "it allocated a THP of its own");
	cr_assert_eq(r.page_size, PMD_SIZE);
	cr_assert_eq(r.start, r.end, "nothing changed");
	cr_assert_eq(os.zone.stats.pgalloc_order[9], 2);
	cr_assert_eq(mem.pgtable.stats.pgtable_alloc - tables, 1, "its PTE table");
	cr_assert_eq(os.zone.nr_free_pages, free_pages, "both given back");
	cr_assert_eq(os.folios.nr, 1);
	cr_assert_eq(ev(PGFAULT), pgfault + 1);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 1);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 0, 0, 512);
	/* without a huge PMD there, the flag changes nothing: an ordinary fault */
	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_DONTNEED), 0);
	cr_assert_eq(fault(a, W | FAULT_FLAG_RACED, &r), 0);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 0, 0, 512);
}

Test(memory, thp_fault_always_unmadvised, .init = setup_always, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a + 0x1ff000, W, &r), 0);
	cr_assert_eq(r.order, 9);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 1);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 0, 0, 512);
}

Test(memory, madvise_mode_unmadvised_gets_4k, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a, W, &r), 0);
	cr_assert_eq(r.order, 0);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	cr_assert_eq(ev(THP_FAULT_FALLBACK), 0, "not eligible is not a fallback");
}

Test(memory, thp_needs_whole_block_in_vma, .init = setup_always, .fini = shutdown)
{
	/* [base + 4 KiB, base + 4 MiB): only the block [base + 2 MiB, base + 4 MiB) fits. */
	const unsigned long base = 0x600000000000UL;
	unsigned long a;
	struct fault_result r;

	cr_assert_eq(do_mmap(&mm, base + PAGE_SIZE, 4 * MiB - PAGE_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, &a), 0);
	cr_assert_eq(a, base + PAGE_SIZE);
	cr_assert_eq(fault(base + 0x100000, W, &r), 0);
	cr_assert_eq(r.order, 0, "the block's first page is outside the VMA");
	cr_assert_eq(ev(THP_FAULT_FALLBACK), 0, "unsuitable is not a fallback");
	cr_assert_eq(fault(base + 3 * MiB, W, &r), 0);
	cr_assert_eq(r.order, 9);
	mm_expect_classes(&mm, a, 4 * MiB - PAGE_SIZE, 510, 0, 1, 512);
}

Test(memory, read_fault_maps_huge_zero_page, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 4 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(fault(a + 0x2000, R, &r), 0);
	cr_assert_eq(r.page_size, PMD_SIZE);
	cr_assert(r.zero_page);
	cr_assert_eq(r.order, -1);
	cr_assert_eq(r.pfn, os.huge_zero_pfn + 2);
	cr_assert_eq(ev(THP_ZERO_PAGE_ALLOC), 1);
	cr_assert_eq(os.folios.nr, 0, "the huge zero folio is not a user folio");
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 0);
	cr_assert_eq(mem.pgtable.nr_deposited, 1);
	cr_assert_eq(mem.pgtable.nr_ptes, 1);
	/* Second block: the same folio, no new allocation. */
	cr_assert_eq(fault(a + PMD_SIZE, R, &r), 0);
	cr_assert_eq(r.pfn, os.huge_zero_pfn);
	cr_assert_eq(ev(THP_ZERO_PAGE_ALLOC), 1);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	mm_expect_classes(&mm, a, 4 * MiB, 0, 1024, 0, 0);
}

Test(memory, huge_zero_page_first_use_only_across_mms, .init = setup, .fini = shutdown)
{
	struct mm_struct mm2;
	struct mm_mem mem2;
	struct mm_layout l;
	struct wl_rng rng;
	unsigned long a, b;

	a = map_rw(2 * MiB);
	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(fault(a, R, NULL), 0);
	mm_layout_init(&l);
	wl_rng_seed(&rng, 2);
	mm_init(&mm2, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm2, &mem2, 4), 0);
	cr_assert_eq(do_mmap(&mm2, 0, 2 * MiB, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, &b), 0);
	cr_assert_eq(do_madvise(&mm2, b, 2 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(do_user_addr_fault(&mm2, b, R, NULL), 0);
	cr_assert_eq(ev(THP_ZERO_PAGE_ALLOC), 1);
	cr_assert_eq(os.huge_zero_refcount, 3);
	mm_mem_release(&mm2);
	mm_release(&mm2);
	cr_assert_eq(os.huge_zero_refcount, 2);
}

Test(memory, use_zero_page_off_read_gets_thp, .init = setup_always, .fini = shutdown)
{
	unsigned long a;
	struct fault_result r;

	os.thp.use_zero_page = false;
	a = map_rw(2 * MiB);
	cr_assert_eq(fault(a, R, &r), 0);
	cr_assert_eq(r.order, 9);
	cr_assert_eq(ev(THP_ZERO_PAGE_ALLOC), 0);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 0, 0, 512);
}

Test(memory, write_to_huge_zero_pmd_allocates_thp, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(fault(a, R, &r), 0);
	cr_assert_eq(fault(a + 0x10000, W, &r), 0);
	cr_assert_eq(r.order, 9, "6.18: do_huge_zero_wp_pmd()");
	cr_assert_eq(r.page_size, PMD_SIZE);
	cr_assert(r.tlb_flush, "the huge zero PMD was present");
	cr_assert_eq(r.start, a);
	cr_assert_eq(r.end, a + PMD_SIZE);
	cr_assert_not(r.zero_page);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 1);
	cr_assert_eq(ev(THP_SPLIT_PMD), 0);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 512);
	cr_assert_eq(mem.pgtable.nr_deposited, 1, "the zero PMD's deposit is kept");
	cr_assert_eq(mem.pgtable.nr_ptes, 1);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 0, 0, 512);
}

Test(memory, write_to_huge_zero_pmd_falls_back_to_split, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(fault(a, R, &r), 0);
	fragment_zone(&os.zone);
	cr_assert_eq(fault(a + 0x3000, W, &r), 0);
	cr_assert_eq(ev(THP_FAULT_FALLBACK), 1);
	cr_assert_eq(mthp(9, MTHP_STAT_ANON_FAULT_FALLBACK), 1);
	cr_assert_eq(ev(THP_SPLIT_PMD), 1);
	cr_assert_eq(r.order, 0);
	cr_assert_eq(r.page_size, PAGE_SIZE);
	cr_assert(r.tlb_flush);
	cr_assert_eq(r.start, a, "the split changed the whole PMD");
	cr_assert_eq(r.end, a + PMD_SIZE);
	cr_assert_eq(mem.pgtable.nr_deposited, 0);
	cr_assert_eq(mem.pgtable.nr_ptes, 1);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 1);
	mm_expect_classes(&mm, a, 2 * MiB, 0, 511, 1, 0);
	cr_assert_eq(mm_page_class(&mm, a + 0x3000), PAGE_CLASS_PTE);
}

Test(memory, pte_table_blocks_thp_at_fault_time, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a, R, &r), 0);	/* zero page: a PTE table now exists */
	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(fault(a + 0x100000, W, &r), 0);
	cr_assert_eq(r.order, 0);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	cr_assert_eq(ev(THP_FAULT_FALLBACK), 0);
	mm_expect_classes(&mm, a, 2 * MiB, 510, 1, 1, 0);
}

Test(memory, mthp_64k_write_fault, .init = setup_mthp, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a + 0x25000, W, &r), 0);
	cr_assert_eq(r.order, 4);
	cr_assert_eq(r.page_size, PAGE_SIZE);
	cr_assert_eq(r.start, a + 0x20000);
	cr_assert_eq(r.end, a + 0x30000);
	cr_assert_eq(r.pfn & 15, 5);
	cr_assert_eq(os.folios.nr, 1);
	cr_assert_eq(pfn_folio(&os, r.pfn)->refcount, 16);
	cr_assert_eq(pfn_folio(&os, r.pfn)->mapcount, 16);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 16);
	cr_assert_eq(mthp(4, MTHP_STAT_ANON_FAULT_ALLOC), 1);
	mm_expect_classes(&mm, a + 0x20000, 0x10000, 0, 0, 16, 0);
	/* The 15 neighbours are mapped writable: a write touch of them never faults. */
	cr_assert_eq(mm_touch(&mm, a + 0x20000, 0x10000, W), 0);
	cr_assert_eq(ev(PGFAULT), 1);
}

Test(memory, mthp_order_skips_populated_range)
{
	unsigned long a;
	struct fault_result r;

	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_NEVER;
	thp.size[4] = THP_SIZE_ALWAYS;
	thp.size[2] = THP_SIZE_ALWAYS;
	boot(&thp);
	a = map_rw(2 * MiB);
	cr_assert_eq(fault(a, R, &r), 0);		/* page 0: zero page */
	cr_assert_eq(fault(a + 0x9000, W, &r), 0);	/* 64K block 0 not empty -> 16K */
	cr_assert_eq(r.order, 2);
	cr_assert_eq(r.start, a + 0x8000);
	cr_assert_eq(r.end, a + 0xc000);
	cr_assert_eq(mthp(2, MTHP_STAT_ANON_FAULT_ALLOC), 1);
	cr_assert_eq(mthp(4, MTHP_STAT_ANON_FAULT_ALLOC), 0);
	cr_assert_eq(mthp(4, MTHP_STAT_ANON_FAULT_FALLBACK), 0, "skipping is not a fallback");
	cr_assert_eq(fault(a + 0x4000, W, &r), 0);	/* pages 4..7 empty -> 16K */
	cr_assert_eq(r.order, 2);
	cr_assert_eq(fault(a + 0x1000, W, &r), 0);	/* 16K block 0 has page 0 -> order 0 */
	cr_assert_eq(r.order, 0);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 9);
	mm_expect_classes(&mm, a, 0x10000, 6, 1, 9, 0);
	shutdown();
}

Test(memory, mthp_allocation_failure_falls_back, .init = setup_mthp, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	fragment_zone(&os.zone);
	cr_assert_eq(fault(a, W, &r), 0);
	cr_assert_eq(r.order, 0);
	cr_assert_eq(mthp(4, MTHP_STAT_ANON_FAULT_FALLBACK), 1);
	cr_assert_eq(mthp(4, MTHP_STAT_ANON_FAULT_ALLOC), 0);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 1);
}

Test(memory, thp_allocation_failure_falls_back_to_ptes, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	fragment_zone(&os.zone);
	cr_assert_eq(fault(a, W, &r), 0);
	cr_assert_eq(ev(THP_FAULT_FALLBACK), 1);
	cr_assert_eq(mthp(9, MTHP_STAT_ANON_FAULT_FALLBACK), 1);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	cr_assert_eq(r.order, 0);
	cr_assert_eq(r.page_size, PAGE_SIZE);
	cr_assert_eq(mem.pgtable.nr_deposited, 0);
	mm_expect_classes(&mm, a, 2 * MiB, 511, 0, 1, 0);
}

Test(memory, fault_outside_vma_is_sigsegv, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(fault(a + 2 * MiB, W, &r), VM_FAULT_SIGSEGV);
	cr_assert_eq(r.ret, VM_FAULT_SIGSEGV);
	cr_assert_eq(r.page_size, 0);
	cr_assert_eq(r.order, -1);
	cr_assert_eq(fault(a - PAGE_SIZE, R, &r), VM_FAULT_SIGSEGV);
	cr_assert_eq(handle_mm_fault(NULL, a, R, &r), VM_FAULT_SIGSEGV);
	cr_assert_eq(ev(PGFAULT), 0, "bad_area() never reaches handle_mm_fault's count");
	cr_assert_eq(mem.pgtable.stats.pgtable_alloc, 1, "only the pgd");
}

Test(memory, write_to_readonly_vma_is_sigsegv, .init = setup, .fini = shutdown)
{
	unsigned long a = map(2 * MiB, PROT_READ);
	unsigned long n = map(2 * MiB, PROT_NONE);
	struct fault_result r;

	cr_assert_eq(fault(a, W, &r), VM_FAULT_SIGSEGV);
	cr_assert_eq(fault(a, R, &r), 0);
	cr_assert(r.zero_page);
	cr_assert_eq(fault(a, W, &r), VM_FAULT_SIGSEGV, "still read-only after the read");
	cr_assert_eq(fault(n, R, &r), VM_FAULT_SIGSEGV);
	cr_assert_eq(fault(a, FAULT_FLAG_INSTRUCTION | R, &r), VM_FAULT_SIGSEGV);
	cr_assert_eq(ev(PGFAULT), 1);
}

Test(memory, exit_returns_every_page, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(8 * MiB);

	cr_assert_eq(do_madvise(&mm, a, 4 * MiB, MADV_HUGEPAGE), 0);
	mm_touch(&mm, a, 8 * MiB, W);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 2048);
	mm_mem_release(&mm);
	drain_all_pages(&os.zone);
	/* Only the pgd is gone from the count: pgd_free() returned it too. */
	cr_assert_eq(os.zone.nr_free_pages, free_after_boot);
	cr_assert_eq(os.folios.nr, 0);
	zone_check(&os.zone);
}

/* ---------------------------------------------------------------------- */
/* Dataset expectations that are pure fault-path behaviour.               */

Test(memory, dataset_thp_never_64mib_write_touch, .init = setup_never, .fini = shutdown)
{
	unsigned long a = map_rw(64 * MiB);

	cr_assert_eq(mm_touch(&mm, a, 64 * MiB, W), 16384);
	cr_assert_eq(ev(PGFAULT), 16384);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 16384);
	mm_expect_classes(&mm, a, 64 * MiB, 0, 0, 16384, 0);
}

Test(memory, dataset_thp_always_64mib_write_touch, .init = setup_always, .fini = shutdown)
{
	unsigned long a = map_rw(64 * MiB);

	cr_assert_eq(mm_touch(&mm, a, 64 * MiB, W), 32);
	cr_assert_eq(ev(PGFAULT), 32);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 32);
	cr_assert_eq(mthp(9, MTHP_STAT_ANON_FAULT_ALLOC), 32);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 16384);
	mm_expect_classes(&mm, a, 64 * MiB, 0, 0, 0, 16384);
}

Test(memory, dataset_madvise_64mib_write_touch, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(64 * MiB);

	cr_assert_eq(do_madvise(&mm, a, 64 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(mm_touch(&mm, a, 64 * MiB, W), 32);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 32);
	mm_expect_classes(&mm, a, 64 * MiB, 0, 0, 0, 16384);
}

Test(memory, dataset_zero_page_huge_read_touch, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(64 * MiB);

	cr_assert_eq(do_madvise(&mm, a, 64 * MiB, MADV_HUGEPAGE), 0);
	cr_assert_eq(mm_touch(&mm, a, 64 * MiB, R), 32, "one fault per 2 MiB");
	cr_assert_eq(ev(THP_ZERO_PAGE_ALLOC), 1);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 0);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 0);
	mm_expect_classes(&mm, a, 64 * MiB, 0, 16384, 0, 0);
	/* Then a write touch: each block becomes a THP (6.18). */
	cr_assert_eq(mm_touch(&mm, a, 64 * MiB, W), 32);
	cr_assert_eq(ev(THP_FAULT_ALLOC), 32);
	mm_expect_classes(&mm, a, 64 * MiB, 0, 0, 0, 16384);
}

Test(memory, dataset_zero_page_4k_read_touch, .init = setup_never, .fini = shutdown)
{
	unsigned long a = map_rw(8 * MiB);

	cr_assert_eq(mm_touch(&mm, a, 8 * MiB, R), 2048);
	cr_assert_eq(os.folios.nr, 0);
	mm_expect_classes(&mm, a, 8 * MiB, 0, 2048, 0, 0);
	/* Then a write touch: 2048 COWs, each order 0. */
	cr_assert_eq(mm_touch(&mm, a, 8 * MiB, W), 2048);
	cr_assert_eq(get_mm_counter(&mm, MM_ANONPAGES), 2048);
	mm_expect_classes(&mm, a, 8 * MiB, 0, 0, 2048, 0);
}

/* ---- the fault path's own TLB flushes, as tlb:tlb_flush records them ---------- */

static struct vt_event flushes[8];
static unsigned int nr_flushes;

static void record_flush(void *ctx, const struct vt_event *e)
{
	(void)ctx;
	if (e->type == VT_TLB_FLUSH && nr_flushes < 8)
		flushes[nr_flushes++] = *e;
}

static void trace_flushes(void)
{
	nr_flushes = 0;
	os.events = (struct mimicos_event_sink){ .event = record_flush };
}

/*
 * wp_page_copy()'s ptep_clear_flush() of the zero-page PTE: one local MM
 * shootdown of one page (this host: 512 of them for zero-page-4k-cow's 512
 * COW faults); a read fault of an empty PTE flushes nothing.
 */
Test(memory, cow_of_the_zero_page_traces_a_one_page_flush, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	struct fault_result r;

	trace_flushes();
	cr_assert_eq(fault(a + 0x5000, R, &r), 0);
	cr_assert_eq(nr_flushes, 0, "an empty PTE needs no flush");
	cr_assert_eq(fault(a + 0x5000, W, &r), 0);
	cr_assert_eq(nr_flushes, 1);
	cr_assert_eq(flushes[0].tlb.reason, 3, "TLB_LOCAL_MM_SHOOTDOWN");
	cr_assert_eq(flushes[0].tlb.pages, 1);
	os.events.event = NULL;
}

/* do_huge_zero_wp_pmd()'s pmdp_huge_clear_flush(): one flush, recorded as full here. */
Test(memory, write_to_the_huge_zero_pmd_traces_one_flush, .init = setup, .fini = shutdown)
{
	unsigned long a = map_rw(2 * MiB);
	struct fault_result r;

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	trace_flushes();
	cr_assert_eq(fault(a, R, &r), 0);
	cr_assert_eq(nr_flushes, 0);
	cr_assert_eq(fault(a + 0x10000, W, &r), 0);
	cr_assert_eq(r.order, 9);
	cr_assert_eq(nr_flushes, 1);
	cr_assert_eq(flushes[0].tlb.reason, 3);
	cr_assert_eq(flushes[0].tlb.pages, -1);
	os.events.event = NULL;
}
