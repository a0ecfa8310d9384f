/*
 * test_pgtable.c - x86-64 page tables against hand-derived expectations.
 *
 * Indices: 4-level splits a virtual address into pgd [47:39], pud [38:30],
 * pmd [29:21], pte [20:12]; 5-level puts pgd at [56:48] and p4d at [47:39].
 * Entry bits: P 0, RW 1, US 2, A 5, D 6, PSE 7, NX 63, so a user table
 * entry (_PAGE_TABLE) is 0x67. Table pages come from a 64 MiB zone at pfn
 * 0x100000; the trace tests take the tables' addresses from the zero
 * callback (each new table is reported when it is cleared).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "mimicos/pgtable.h"
#include "workload/prng.h"

#define S 0x100000UL
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define P_RW_US_A_D (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

static struct zone zone;
static struct physmem pm;
static struct mm_pgtable mm;
static unsigned long initial_free;

/* The trace recorder: 'R', 'W' (8-byte accesses) and 'Z' (table clears). */
struct event {
	char kind;
	uint64_t paddr;
};

static struct event events[256];
static int nr_events;

static void rec_access(void *ctx, uint64_t paddr, bool write)
{
	(void)ctx;
	cr_assert_lt(nr_events, 256);
	events[nr_events++] = (struct event){ write ? 'W' : 'R', paddr };
}

static void rec_zero(void *ctx, uint64_t paddr, uint64_t len)
{
	(void)ctx;
	cr_assert_eq(len, PAGE_SIZE);
	cr_assert_lt(nr_events, 256);
	events[nr_events++] = (struct event){ 'Z', paddr };
}

static void setup(void)
{
	struct zone_config cfg = { .size_bytes = 64 * MiB, .start_pfn = S, .nr_cpus = 1 };

	cr_assert_eq(zone_init(&zone, &cfg), 0);
	cr_assert_eq(physmem_init(&pm, &zone), 0);
	initial_free = zone.nr_free_pages;
	nr_events = 0;
}

static void teardown(void)
{
	physmem_release(&pm);
	zone_release(&zone);
}

static void mm_setup(unsigned int levels)
{
	cr_assert_eq(pgd_alloc(&mm, &pm, levels, 0), 0);
	cr_assert_eq(mm.cr3, (uint64_t)mm.pgd << PAGE_SHIFT);
	cr_assert_eq(mm.stats.pgtable_alloc, 1);
}

static void trace_on(void)
{
	mm.trace = (struct pgtable_trace){ .access = rec_access, .zero = rec_zero };
	nr_events = 0;
}

/* Map one 4 KiB page, Linux-style: get_locked_pte() then set_pte_at(). */
static uint64_t map_page(unsigned long va, unsigned long pfn)
{
	uint64_t ptep = get_locked_pte(&mm, va);

	cr_assert_neq(ptep, PHYS_ADDR_NONE);
	set_pte_at(&mm, va, ptep, pfn_pte(pfn, __pgprot(P_RW_US_A_D | _PAGE_NX)));
	return ptep;
}

/* Zap one 4 KiB page (zap_pte_range's pte clear). */
static void unmap_page(unsigned long va)
{
	struct pgtable_walk w;

	cr_assert(pgtable_walk(&mm, va, &w));
	cr_assert_eq(w.level, PG_LEVEL_4K);
	pte_clear(&mm, va, w.entry_pa);
}

/* Every page back in the buddy lists, merged as at zone_init(). */
static void expect_zone_restored(void)
{
	drain_all_pages(&zone);
	zone_check(&zone);
	cr_expect_eq(zone.nr_free_pages, initial_free);
	cr_expect_eq(pm.nr, 0, "no table page keeps contents");
}

TestSuite(pgtable, .init = setup, .fini = teardown);

Test(pgtable, index_4level_top_of_user_space)
{
	mm_setup(4);
	/* 0x7fffffffe000 = 0b0111_1111_1 (255) 1_1111_1111 (511) x2, 1_1111_1110 (510) */
	cr_expect_eq(pgd_index(&mm, 0x7fffffffe000UL), 255);
	cr_expect_eq(p4d_index(&mm, 0x7fffffffe000UL), 0);
	cr_expect_eq(pud_index(0x7fffffffe000UL), 511);
	cr_expect_eq(pmd_index(0x7fffffffe000UL), 511);
	cr_expect_eq(pte_index(0x7fffffffe000UL), 510);
	/* 0x555555554000: bits [47:39] 0xaa, [38:30] 0x155, [29:21] 0xaa, [20:12] 0x154 */
	cr_expect_eq(pgd_index(&mm, 0x555555554000UL), 170);
	cr_expect_eq(pud_index(0x555555554000UL), 341);
	cr_expect_eq(pmd_index(0x555555554000UL), 170);
	cr_expect_eq(pte_index(0x555555554000UL), 340);
	cr_expect_eq(pgd_offset(&mm, 0x7fffffffe000UL), mm.cr3 + 255 * 8);
	cr_expect_eq(pgd_addr_end(&mm, 0x1000, 0x10000000000UL), 0x8000000000UL);
}

Test(pgtable, index_5level)
{
	mm_setup(5);
	cr_expect_eq(pgd_index(&mm, 0x7fffffffe000UL), 0);
	cr_expect_eq(p4d_index(&mm, 0x7fffffffe000UL), 255);
	cr_expect_eq(pud_index(0x7fffffffe000UL), 511);
	/* 0x00ff800000001000: [56:48] 0xff, [47:39] 0x100, the rest 0 but pte 1 */
	cr_expect_eq(pgd_index(&mm, 0x00ff800000001000UL), 255);
	cr_expect_eq(p4d_index(&mm, 0x00ff800000001000UL), 256);
	cr_expect_eq(pud_index(0x00ff800000001000UL), 0);
	cr_expect_eq(pmd_index(0x00ff800000001000UL), 0);
	cr_expect_eq(pte_index(0x00ff800000001000UL), 1);
	cr_expect_eq(pgd_addr_end(&mm, 0x1000, 0x10000000000000UL), 0x1000000000000UL);
}

Test(pgtable, entry_bits_equal_hand_built_constants)
{
	pte_t pte = pfn_pte(0x1234, __pgprot(P_RW_US_A_D | _PAGE_NX));

	cr_expect_eq(pte_val(pte), 0x8000000001234067ULL);
	cr_expect_eq(_PAGE_TABLE, 0x67);
	cr_expect_eq(PTE_PFN_MASK, 0x000ffffffffff000ULL);
	cr_expect_eq(pte_pfn(pte), 0x1234);
	/* PAGE_COPY = P|US|A|NX; mkwrite, mkdirty, mkyoung give the same PTE */
	cr_expect_eq(pgprot_val(vm_get_page_prot(VM_READ | VM_WRITE)), 0x8000000000000025ULL);
	pte = pfn_pte(0x1234, vm_get_page_prot(VM_READ | VM_WRITE));
	pte = pte_mkyoung(pte_mkdirty(pte_mkwrite(pte, NULL)));
	cr_expect_eq(pte_val(pte), 0x8000000001234067ULL);
	cr_expect_eq(pgprot_val(vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED)),
		     0x8000000000000027ULL);
	cr_expect_eq(pgprot_val(vm_get_page_prot(VM_NONE)), 0x120);
	/* A 2 MiB page at pfn 0x200: PSE (0x80) on a present PMD */
	pmd_t pmd = pmd_mkhuge(pfn_pmd(0x200, __pgprot(P_RW_US_A_D)));

	cr_expect_eq(pmd_val(pmd), 0x2000e7);
	cr_expect(pmd_trans_huge(pmd));
	cr_expect_eq(pmd_pfn(pmd), 0x200);
	cr_expect(!pmd_trans_huge(__pmd(0x200067)));
	cr_expect(!pmd_trans_huge(__pmd(0)));
	cr_expect(pte_none(__pte(_PAGE_ACCESSED | _PAGE_DIRTY)), "KNL erratum bits");
	cr_expect(!pte_present(__pte(0x1234000)));
	cr_expect(pte_present(__pte(0x1234000 | _PAGE_PROTNONE)), "PROT_NONE is present");
}

Test(pgtable, map_one_4k_page_4level_allocates_three_tables)
{
	struct pgtable_walk w;

	mm_setup(4);
	map_page(0x7fffffffe000UL, 0x1234);
	cr_expect_eq(mm.stats.pgtable_alloc, 1 + 3);
	cr_expect_eq(mm.nr_puds, 1);
	cr_expect_eq(mm.nr_pmds, 1);
	cr_expect_eq(mm.nr_ptes, 1);
	cr_expect_eq(mm.nr_p4ds, 0);
	cr_expect_eq(mm.pgtables_bytes, 3 * 4096);
	cr_expect_eq(pm.nr, 4);

	cr_assert(pgtable_walk(&mm, 0x7fffffffe123UL, &w));
	cr_expect_eq(w.level, PG_LEVEL_4K);
	cr_expect_eq(w.page_size, 4096);
	cr_expect_eq(w.pa, 0x1234123);
	cr_expect_eq(w.entry, 0x8000000001234067ULL);

	cr_expect(!pgtable_walk(&mm, 0x7fffffffc000UL, &w), "pte 508 is none");
	cr_expect_eq(w.level, PG_LEVEL_4K);
	cr_expect(!pgtable_walk(&mm, 0x7fffffc00000UL, &w), "pmd 510 is none");
	cr_expect_eq(w.level, PG_LEVEL_2M);
	cr_expect(!pgtable_walk(&mm, 0x1000, &w), "pgd 0 is none");
	cr_expect_eq(w.level, PG_LEVEL_512G);
	cr_expect_eq(w.entry_pa, mm.cr3);
}

Test(pgtable, map_one_4k_page_5level_allocates_four_tables)
{
	struct pgtable_walk w;

	mm_setup(5);
	map_page(0x7fffffffe000UL, 0x1234);
	cr_expect_eq(mm.stats.pgtable_alloc, 1 + 4);
	cr_expect_eq(mm.nr_p4ds, 1);
	cr_expect_eq(mm.pgtables_bytes, 3 * 4096, "p4d tables are not in pgtables_bytes");
	cr_assert(pgtable_walk(&mm, 0x7fffffffefffUL, &w));
	cr_expect_eq(w.pa, 0x1234fff);
	cr_expect_eq(w.page_size, 4096);
	cr_expect(!pgtable_walk(&mm, 0x00ff800000001000UL, &w));
	cr_expect_eq(w.level, PG_LEVEL_256T);
	cr_expect_eq(w.entry_pa, mm.cr3 + 255 * 8);
}

Test(pgtable, two_pages_in_one_2m_region_share_the_pte_table)
{
	uint64_t p1, p2;
	struct pgtable_walk w;

	mm_setup(4);
	p1 = map_page(0x40000000UL, 0x5000);
	cr_expect_eq(mm.stats.pgtable_alloc, 4);
	p2 = map_page(0x40001000UL, 0x7000);
	cr_expect_eq(mm.stats.pgtable_alloc, 4, "no new table");
	cr_expect_eq(mm.nr_ptes, 1);
	cr_expect_eq(p2, p1 + 8);
	cr_expect_eq(p1 & 0xfff, 0, "pte index 0");
	cr_assert(pgtable_walk(&mm, 0x40001008UL, &w));
	cr_expect_eq(w.pa, 0x7000008);
	/* the next 2 MiB region needs a PTE table, nothing more */
	map_page(0x40200000UL, 0x9000);
	cr_expect_eq(mm.stats.pgtable_alloc, 5);
	cr_expect_eq(mm.nr_ptes, 2);
	cr_expect_eq(mm.nr_pmds, 1);
}

Test(pgtable, pmd_huge_mapping_walks_to_a_2m_page)
{
	struct pgtable_walk w;
	uint64_t pmdp;

	mm_setup(4);
	pmdp = walk_to_pmd(&mm, 0x7f0000200000UL);
	cr_assert_neq(pmdp, PHYS_ADDR_NONE);
	cr_expect_eq(mm.stats.pgtable_alloc, 1 + 2, "PUD and PMD tables only");
	set_pmd_at(&mm, 0x7f0000200000UL, pmdp,
		   pmd_mkhuge(pfn_pmd(0x140000, __pgprot(P_RW_US_A_D | _PAGE_NX))));
	cr_assert(pgtable_walk(&mm, 0x7f0000212345UL, &w));
	cr_expect_eq(w.level, PG_LEVEL_2M);
	cr_expect_eq(w.page_size, 2 * MiB);
	cr_expect_eq(w.pa, (0x140000ULL << 12) + 0x12345);
	cr_expect_eq(w.entry, 0x80000001400000e7ULL);
	cr_expect(pmd_trans_huge(pmdp_get(&mm, pmdp)));
	/* PAT_LARGE (bit 12) is not part of a 2 MiB page's address */
	set_pmd_at(&mm, 0x7f0000200000UL, pmdp, __pmd(0x1400000e7ULL | _PAGE_PAT_LARGE));
	cr_assert(pgtable_walk(&mm, 0x7f00003fffffUL, &w));
	cr_expect_eq(w.pa, 0x1401fffffULL);
}

Test(pgtable, pud_huge_mapping_walks_to_a_1g_page)
{
	struct pgtable_walk w;
	uint64_t pudp;

	mm_setup(4);
	pudp = pud_alloc(&mm, p4d_alloc(&mm, pgd_offset(&mm, 0x7f0040000000UL),
					0x7f0040000000UL), 0x7f0040000000UL);
	set_pud_at(&mm, 0x7f0040000000UL, pudp, pud_mkhuge(pfn_pud(0x40000, __pgprot(P_RW_US_A_D))));
	cr_assert(pgtable_walk(&mm, 0x7f0040abcdefUL, &w));
	cr_expect_eq(w.level, PG_LEVEL_1G);
	cr_expect_eq(w.page_size, GiB);
	cr_expect_eq(w.pa, 0x40abcdefULL);
	pud_clear(&mm, pudp);
	free_pgtables(&mm, 0, 1UL << 47, 0, 0);
}

Test(pgtable, phys_read64_of_the_pgd_gives_the_pud_table_entry)
{
	uint64_t pud_table, pmd_table;

	mm_setup(4);
	trace_on();
	map_page(0x7fffffffe000UL, 0x1234);
	cr_assert_eq(events[1].kind, 'Z');
	cr_assert_eq(events[6].kind, 'Z');
	pud_table = events[1].paddr;
	pmd_table = events[6].paddr;
	cr_expect_eq(phys_read64(&pm, mm.cr3 + 255 * 8), pud_table | 0x67);
	cr_expect_eq(phys_read64(&pm, pud_table + 511 * 8), pmd_table | 0x67);
	cr_expect_eq(phys_read64(&pm, mm.cr3 + 254 * 8), 0);
	cr_expect_eq(phys_read64(&pm, 0x1234000), 0, "a data page reads as zero");
	cr_expect_neq(page_ptdesc(&pm, (unsigned long)(pud_table >> 12)), NULL);
	cr_expect_eq(page_ptdesc(&pm, 0x1234), NULL);
	cr_expect_geq(pud_table >> 12, S, "tables come from the zone");
	cr_expect_lt(pud_table >> 12, S + 16384);
}

Test(pgtable, trace_of_mapping_one_page_4level)
{
	uint64_t pgdp, t1, t2, t3;

	mm_setup(4);
	trace_on();
	map_page(0x7fffffffe000UL, 0x1234);
	cr_assert_eq(nr_events, 16);
	pgdp = mm.cr3 + 255 * 8;
	t1 = events[1].paddr;
	t2 = events[6].paddr;
	t3 = events[11].paddr;
	const struct event want[16] = {
		/* pud_alloc on the folded p4d (= the pgd entry) */
		{ 'R', pgdp }, { 'Z', t1 }, { 'R', pgdp }, { 'W', pgdp }, { 'R', pgdp },
		/* pmd_alloc */
		{ 'R', t1 + 511 * 8 }, { 'Z', t2 }, { 'R', t1 + 511 * 8 }, { 'W', t1 + 511 * 8 },
		{ 'R', t1 + 511 * 8 },
		/* pte_alloc_map */
		{ 'R', t2 + 511 * 8 }, { 'Z', t3 }, { 'R', t2 + 511 * 8 }, { 'W', t2 + 511 * 8 },
		{ 'R', t2 + 511 * 8 },
		/* set_pte_at */
		{ 'W', t3 + 510 * 8 },
	};

	for (int i = 0; i < 16; i++) {
		cr_expect_eq(events[i].kind, want[i].kind, "event %d", i);
		cr_expect_eq(events[i].paddr, want[i].paddr, "event %d", i);
	}
	cr_expect(t1 != t2 && t2 != t3 && t1 != mm.cr3);

	/* a second page in the same PTE table: one read per level, one write */
	nr_events = 0;
	map_page(0x7fffffffd000UL, 0x1235);
	cr_assert_eq(nr_events, 4);
	cr_expect(events[0].kind == 'R' && events[0].paddr == pgdp);
	cr_expect(events[1].kind == 'R' && events[1].paddr == t1 + 511 * 8);
	cr_expect(events[2].kind == 'R' && events[2].paddr == t2 + 511 * 8);
	cr_expect(events[3].kind == 'W' && events[3].paddr == t3 + 509 * 8);
}

Test(pgtable, trace_of_mapping_one_page_5level_starts_with_the_pgd)
{
	mm_setup(5);
	trace_on();
	map_page(0x7fffffffe000UL, 0x1234);
	cr_assert_eq(nr_events, 5 * 4 + 1);
	cr_expect(events[0].kind == 'R' && events[0].paddr == mm.cr3);
	cr_expect_eq(events[1].kind, 'Z');
	cr_expect(events[3].kind == 'W' && events[3].paddr == mm.cr3);
	cr_expect(events[5].kind == 'R' && events[5].paddr == events[1].paddr + 255 * 8,
		  "p4d index 255");
	cr_expect_eq(phys_read64(&pm, mm.cr3), events[1].paddr | 0x67);
}

Test(pgtable, free_pgtables_after_unmap_returns_every_table)
{
	static const unsigned long va[] = {
		0x7fffffffe000UL, 0x7fffffffd000UL, 0x7fffffc00000UL,
		0x7f0000000000UL, 0x400000UL, 0x40000000UL,
	};

	mm_setup(4);
	for (unsigned int i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		map_page(va[i], 0x2000 + i);
	/* pgd slots 255, 254, 0; PUD tables 3; PMD tables 4; PTE tables 5 */
	cr_expect_eq(mm.nr_puds, 3);
	cr_expect_eq(mm.nr_pmds, 4);
	cr_expect_eq(mm.nr_ptes, 5);
	cr_expect_eq(mm.stats.pgtable_alloc, 1 + 3 + 4 + 5);
	for (unsigned int i = 0; i < sizeof(va) / sizeof(va[0]); i++)
		unmap_page(va[i]);
	free_pgtables(&mm, 0x1000, 1UL << 47, 0, 0);
	cr_expect_eq(mm.nr_ptes, 0);
	cr_expect_eq(mm.nr_pmds, 0);
	cr_expect_eq(mm.nr_puds, 0);
	cr_expect_eq(mm.pgtables_bytes, 0);
	for (int i = 0; i < 512; i++)
		cr_expect_eq(phys_read64(&pm, mm.cr3 + (uint64_t)i * 8), 0);
	cr_expect_eq(pm.nr, 1, "the pgd");
	pgd_free(&mm);
	cr_expect_eq(mm.stats.pgtable_free, mm.stats.pgtable_alloc);
	expect_zone_restored();
}

Test(pgtable, free_pgtables_5level_frees_the_p4d_table)
{
	mm_setup(5);
	map_page(0x7fffffffe000UL, 0x1234);
	unmap_page(0x7fffffffe000UL);
	free_pgtables(&mm, 0x7fffffffe000UL, 0x7ffffffff000UL, 0, 0);
	cr_expect_eq(mm.nr_p4ds, 0);
	cr_expect_eq(phys_read64(&pm, mm.cr3), 0);
	pgd_free(&mm);
	expect_zone_restored();
}

Test(pgtable, free_pgtables_keeps_tables_shared_beyond_floor_or_ceiling)
{
	struct pgtable_walk w;

	mm_setup(4);
	map_page(0x40000000UL, 0x5000);
	map_page(0x40200000UL, 0x6000);
	unmap_page(0x40000000UL);
	/* [1 GiB, 1 GiB + 2 MiB) with the next VMA at 1 GiB + 2 MiB: the PTE
	 * table goes, the PMD table stays (its 1 GiB is not all free) */
	free_pgtables(&mm, 0x40000000UL, 0x40200000UL, 0, 0x40200000UL);
	cr_expect_eq(mm.nr_ptes, 1);
	cr_expect_eq(mm.nr_pmds, 1);
	cr_expect_eq(mm.nr_puds, 1);
	cr_expect(!pgtable_walk(&mm, 0x40000000UL, &w));
	cr_expect_eq(w.level, PG_LEVEL_2M);
	cr_expect(pgtable_walk(&mm, 0x40200000UL, &w));
	cr_expect_eq(w.pa, 0x6000000);

	/* a range smaller than 2 MiB with neighbours on both sides frees nothing */
	unmap_page(0x40200000UL);
	free_pgtables(&mm, 0x40201000UL, 0x40202000UL, 0x40201000UL, 0x40202000UL);
	cr_expect_eq(mm.nr_ptes, 1);
	/* the whole 1 GiB with no neighbours: PTE and PMD tables, PUD stays
	 * because a ceiling at 2 GiB keeps the 512 GiB it covers in use */
	free_pgtables(&mm, 0x40000000UL, 0x80000000UL, 0, 0x80000000UL);
	cr_expect_eq(mm.nr_ptes, 0);
	cr_expect_eq(mm.nr_pmds, 0);
	cr_expect_eq(mm.nr_puds, 1);
	free_pgtables(&mm, 0, 1UL << 47, 0, 0);
	cr_expect_eq(mm.nr_puds, 0);
	pgd_free(&mm);
	expect_zone_restored();
}

Test(pgtable, many_tables_survive_hash_growth_and_removal)
{
	struct pgtable_walk w;
	unsigned long base = 0x7e0000000000UL;

	mm_setup(4);
	for (unsigned long i = 0; i < 300; i++)
		map_page(base + i * PMD_SIZE + (i % 512) * PAGE_SIZE, 0x10000 + i);
	cr_expect_eq(mm.nr_ptes, 300);
	/* 300 * 2 MiB spans one PMD table (1 GiB = 512) */
	cr_expect_eq(mm.nr_pmds, 1);
	for (unsigned long i = 0; i < 300; i += 2)
		unmap_page(base + i * PMD_SIZE + (i % 512) * PAGE_SIZE);
	for (unsigned long i = 0; i < 300; i += 2)
		free_pgtables(&mm, base + i * PMD_SIZE, base + (i + 1) * PMD_SIZE,
			      base + i * PMD_SIZE, base + (i + 1) * PMD_SIZE);
	cr_expect_eq(mm.nr_ptes, 150);
	for (unsigned long i = 0; i < 300; i++) {
		bool mapped = pgtable_walk(&mm, base + i * PMD_SIZE + (i % 512) * PAGE_SIZE, &w);

		cr_expect_eq(mapped, i % 2 == 1, "page %lu", i);
		if (mapped)
			cr_expect_eq(w.pa, (0x10000 + i) << 12);
	}
	for (unsigned long i = 1; i < 300; i += 2)
		unmap_page(base + i * PMD_SIZE + (i % 512) * PAGE_SIZE);
	free_pgtables(&mm, base, base + 300 * PMD_SIZE, 0, 0);
	pgd_free(&mm);
	expect_zone_restored();
}

Test(pgtable, physmem_survives_random_add_and_remove)
{
	enum { N = 1000 };
	long pfn[N];
	bool live[N];
	struct wl_rng rng;

	mm_setup(4);
	wl_rng_seed(&rng, 42);
	for (int i = 0; i < N; i++) {
		pfn[i] = pte_alloc_one(&mm);
		cr_assert_geq(pfn[i], 0);
		live[i] = true;
		phys_write64(&pm, ((uint64_t)pfn[i] << 12) + 8 * (uint64_t)(i % 512), 0);
	}
	cr_expect_eq(pm.nr, N + 1);
	for (int round = 0; round < N; round++) {
		int k = (int)wl_rng_below(&rng, N);

		if (live[k]) {
			pte_free(&mm, (pgtable_t)pfn[k]);
			live[k] = false;
		} else {
			pfn[k] = pte_alloc_one(&mm);
			cr_assert_geq(pfn[k], 0);
			live[k] = true;
		}
		if (round % 50 == 0) {
			/* a dead index's pfn may have been handed out again */
			size_t nr_live = 0;

			for (int i = 0; i < N; i++) {
				const struct ptdesc *d = page_ptdesc(&pm, (unsigned long)pfn[i]);

				if (!live[i])
					continue;
				nr_live++;
				cr_assert(d && d->pfn == (unsigned long)pfn[i],
					  "round %d table %d", round, i);
			}
			cr_assert_eq(pm.nr, nr_live + 1);
		}
	}
	for (int i = 0; i < N; i++)
		if (live[i])
			pte_free(&mm, (pgtable_t)pfn[i]);
	cr_expect_eq(pm.nr, 1);
	pgd_free(&mm);
	expect_zone_restored();
}

Test(pgtable, deposit_withdraw_follow_linux_ring_order)
{
	uint64_t pmdp;
	long a, b, c;

	mm_setup(4);
	pmdp = walk_to_pmd(&mm, 0x40000000UL);
	a = pte_alloc_one(&mm);
	b = pte_alloc_one(&mm);
	c = pte_alloc_one(&mm);
	cr_assert(a >= 0 && b >= 0 && c >= 0);
	pgtable_trans_huge_deposit(&mm, pmdp, (pgtable_t)a);
	pgtable_trans_huge_deposit(&mm, pmdp, (pgtable_t)b);
	pgtable_trans_huge_deposit(&mm, pmdp, (pgtable_t)c);
	cr_expect_eq(mm.nr_deposited, 3);
	/* head C, then the ring after it: A, B */
	cr_expect_eq(pgtable_trans_huge_withdraw(&mm, pmdp), (pgtable_t)c);
	cr_expect_eq(pgtable_trans_huge_withdraw(&mm, pmdp), (pgtable_t)a);
	cr_expect_eq(pgtable_trans_huge_withdraw(&mm, pmdp), (pgtable_t)b);
	cr_expect_eq(mm.nr_deposited, 0);
	/* another PMD table has its own list */
	uint64_t other = walk_to_pmd(&mm, 0x80000000UL);

	pgtable_trans_huge_deposit(&mm, pmdp, (pgtable_t)a);
	pgtable_trans_huge_deposit(&mm, other, (pgtable_t)b);
	cr_expect_eq(pgtable_trans_huge_withdraw(&mm, other), (pgtable_t)b);
	cr_expect_eq(pgtable_trans_huge_withdraw(&mm, pmdp), (pgtable_t)a);
	pte_free(&mm, (pgtable_t)a);
	pte_free(&mm, (pgtable_t)b);
	pte_free(&mm, (pgtable_t)c);
	free_pgtables(&mm, 0, 1UL << 47, 0, 0);
	pgd_free(&mm);
	expect_zone_restored();
}

Test(pgtable, withdraw_with_nothing_deposited_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	mm_setup(4);
	pgtable_trans_huge_withdraw(&mm, walk_to_pmd(&mm, 0x40000000UL));
}

Test(pgtable, write_outside_a_table_page_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	phys_write64(&pm, 0x1234000, 1);
}

Test(pgtable, freeing_a_pte_table_that_maps_a_page_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	mm_setup(4);
	map_page(0x40000000UL, 0x5000);
	free_pgtables(&mm, 0, 1UL << 47, 0, 0);
}

Test(pgtable, pgd_free_with_tables_left_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	mm_setup(4);
	map_page(0x40000000UL, 0x5000);
	pgd_free(&mm);
}

Test(pgtable, bad_level_count_is_einval)
{
	cr_expect_eq(pgd_alloc(&mm, &pm, 3, 0), -EINVAL);
}

Test(pgtable, counter_names_match_fields)
{
	cr_expect_str_eq(pgtable_counter_names[0], "pgtable_alloc");
	cr_expect_eq(sizeof(struct pgtable_stats) / sizeof(uint64_t), 4);
	cr_expect_eq(pgtable_counter_names[4], NULL);
}
