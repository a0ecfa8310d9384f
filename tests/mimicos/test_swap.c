/*
 * test_swap.c - the per-CPU lru_add batches (mimicos/swap.h) against Linux
 * 6.18's mm/swap.c: folio_batch_add() holds PAGEVEC_SIZE = 31 folios and
 * reports the space left, so __folio_batch_add_and_move() moves the batch
 * when the 31st joins, when a large folio joins (!folio_may_be_lru_cached()),
 * and at every lru_add_drain(): unmap_region() (munmap),
 * zap_page_range_single_batched() (MADV_DONTNEED); khugepaged_do_scan() and
 * madvise_collapse() drain every CPU's (lru_add_drain_all()).
 *
 * A 256 MiB zone, one CPU, a fresh 4-level mm, as test_memory.c.
 */
#include <string.h>
#include <sys/mman.h>

#include <criterion/criterion.h>

#include "mimicos/internal.h"
#include "mimicos/khugepaged.h"
#include "mimicos/memory.h"
#include "mimicos/mmap.h"
#include "tests/mimicos/harness.h"
#include "workload/prng.h"

#define MiB (1UL << 20)
#define W (FAULT_FLAG_WRITE | FAULT_FLAG_USER)
#define R FAULT_FLAG_USER

static struct mimicos os;
static struct mm_struct mm;
static struct mm_mem mem;
static struct thp_settings thp;
/* what the trace saw: each move's folio, in order */
static unsigned long moved[1024];
static unsigned int moved_order[1024];
static size_t nr_moved;

static void on_move(void *ctx, unsigned long pfn, unsigned int order)
{
	(void)ctx;
	if (nr_moved < 1024) {
		moved[nr_moved] = pfn;
		moved_order[nr_moved] = order;
	}
	nr_moved++;
}

static void boot(enum thp_enabled enabled)
{
	struct zone_config zc = { .size_bytes = 256 * MiB, .start_pfn = 0x100000, .nr_cpus = 1 };
	struct mm_layout l;
	struct wl_rng rng;

	thp_settings_init(&thp);
	thp.enabled = enabled;
	cr_assert_eq(mimicos_init(&os, &zc, &thp), 0);
	os.lru_trace = (struct lru_trace){ .move = on_move };
	nr_moved = 0;
	mm_layout_init(&l);
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm, &mem, 4), 0);
}

static void setup_never(void) { boot(THP_ENABLED_NEVER); }
static void setup_always(void) { boot(THP_ENABLED_ALWAYS); }
static void setup_madvise(void) { boot(THP_ENABLED_MADVISE); }

static void shutdown(void)
{
	mm_mem_release(&mm);
	mm_release(&mm);
	mimicos_release(&os);
}

static unsigned long map_rw(unsigned long len)
{
	unsigned long addr;

	cr_assert_eq(do_mmap(&mm, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     &addr), 0);
	return addr;
}

static unsigned long write_fault(unsigned long addr)
{
	struct fault_result r;

	cr_assert_eq(do_user_addr_fault(&mm, addr, W, &r), 0);
	return r.pfn;
}

Test(swap, every_31st_new_folio_moves_the_batch, .init = setup_never, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB), pfn[100];

	for (int i = 0; i < 100; i++) {
		pfn[i] = write_fault(a + (unsigned long)i * PAGE_SIZE);
		/* the fault that filled the batch (i = 30, 61, 92) moved it */
		cr_assert_eq(os.lru_stats.batch_moves, (uint64_t)(i + 1) / 31, "fault %d", i);
	}
	cr_assert_eq(os.lru_stats.folios_moved, 93);
	cr_assert_eq(lru_add_pending(&os), 100 - 93);
	cr_assert_eq(nr_moved, 93);
	for (int i = 0; i < 93; i++)
		cr_expect_eq(moved[i], pfn[i], "moved in the order they joined: %d", i);
}

Test(swap, zero_page_reads_add_no_folio, .init = setup_never, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB);
	struct fault_result r;

	for (int i = 0; i < 64; i++)
		cr_assert_eq(do_user_addr_fault(&mm, a + (unsigned long)i * PAGE_SIZE, R, &r), 0);
	cr_assert_eq(lru_add_pending(&os), 0, "the zero page is never on an LRU");
	/* a COW of the zero page is a new folio: it joins */
	write_fault(a);
	cr_assert_eq(lru_add_pending(&os), 1);
}

Test(swap, a_large_folio_moves_the_batch_with_it, .init = setup_always, .fini = shutdown)
{
	unsigned long a = map_rw(8 * MiB), small[5];

	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_NOHUGEPAGE), 0);
	for (int i = 0; i < 5; i++)
		small[i] = write_fault(a + (unsigned long)i * PAGE_SIZE);
	cr_assert_eq(lru_add_pending(&os), 5);
	cr_assert_eq(nr_moved, 0);
	write_fault(a + 2 * MiB);		/* a THP */
	cr_assert_eq(pfn_folio(&os, moved[5])->order, PMD_ORDER, "the THP last");
	cr_assert_eq(nr_moved, 6, "the five small ones and the THP");
	for (int i = 0; i < 5; i++)
		cr_expect_eq(moved[i], small[i]);
	cr_assert_eq(moved_order[5], PMD_ORDER);
	cr_assert_eq(os.lru_stats.batch_moves, 1);
	cr_assert_eq(lru_add_pending(&os), 0);
}

Test(swap, munmap_and_dontneed_drain_before_they_zap, .init = setup_never, .fini = shutdown)
{
	unsigned long a = map_rw(4 * MiB), b;

	for (int i = 0; i < 10; i++)
		write_fault(a + (unsigned long)i * PAGE_SIZE);
	cr_assert_eq(do_madvise(&mm, a + MiB, PAGE_SIZE, MADV_DONTNEED), 0);
	cr_assert_eq(nr_moved, 10, "DONTNEED of an untouched page still drains");
	cr_assert_eq(lru_add_pending(&os), 0);
	for (int i = 0; i < 4; i++)
		write_fault(a + (unsigned long)(20 + i) * PAGE_SIZE);
	b = map_rw(2 * MiB);
	cr_assert_eq(do_munmap(&mm, b, 2 * MiB), 0);
	cr_assert_eq(nr_moved, 14, "munmap drains the four");
	cr_assert_eq(os.lru_stats.batch_moves, 2);
}

Test(swap, a_folio_freed_while_batched_leaves_the_batch, .init = setup_never,
     .fini = shutdown)
{
	struct folio *f = vma_alloc_folio(&os, GFP_HIGHUSER_MOVABLE, 0);
	struct folio *g = vma_alloc_folio(&os, GFP_HIGHUSER_MOVABLE, 0);
	unsigned long gpfn = g->pfn;

	cr_assert_not_null(f);
	cr_assert_not_null(g);
	folio_add_lru(&os, f);
	folio_add_lru(&os, g);
	cr_assert_eq(lru_add_pending(&os), 2);
	folio_put_refs(&os, f, 1);
	cr_assert_eq(lru_add_pending(&os), 1);
	lru_add_drain(&os);
	cr_assert_eq(nr_moved, 1);
	cr_assert_eq(moved[0], gpfn, "only the folio still in use moves");
	folio_put_refs(&os, pfn_folio(&os, gpfn), 1);
}

Test(swap, khugepaged_drains_every_cpu_before_its_pass, .init = setup_madvise,
     .fini = shutdown)
{
	unsigned long a;

	cr_assert_eq(khugepaged_init(&os), 0);
	khugepaged_mm_init(&mm);
	a = map_rw(4 * MiB);
	for (int i = 0; i < 40; i++)
		write_fault(a + (unsigned long)i * PAGE_SIZE);
	cr_assert_eq(lru_add_pending(&os), 40 - 31);
	cr_assert_eq(do_madvise(&mm, a, 2 * MiB, MADV_HUGEPAGE), 0);
	khugepaged_advance(&os, 1);
	cr_assert_geq(khugepaged_stats(&os)->passes, 1);
	cr_assert_eq(lru_add_pending(&os), 0);
	cr_assert_geq(nr_moved, 40, "the nine left were moved by the pass");
}
