/*
 * test_mmu.c - the MMU (simulator/mmu.h) alone, over page tables the test
 * builds in its own physical memory (a map paddr -> 8-byte value), with
 * counts derived by hand below; and once over a real MimicOS instance,
 * against pgtable_walk().
 *
 * The fake machine: cr3 = 0x1000 (the root table), further tables from
 * 0x2000 up in the order the builder needs them, so a 4-level table for one
 * page is PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. Every memory
 * access costs ACCESS cycles; the structures' latencies are L1 1, STLB 8,
 * PWC 2, NTLB 3, so a cycle count names the path taken.
 *
 * Walk counts (native, 4 levels; 5 levels add the PML5 read on top):
 *   first access		4 reads, one per level (PML4, PDPT, PD, PT)
 *   same page again		L1 hit, 0 reads
 *   next page, same PT		the PD PWC hit gives the PT: 1 read (the PTE)
 *   other PD entry, same PD	the PDPT PWC hit gives the PD: 2 reads
 *   other PDPT entry, same PDPT	the PML4 PWC hit gives the PDPT: 3 reads
 *   other PML4 entry (5-level)	the PML5 PWC hit gives the PML4: 4 reads
 *   2 MiB leaf			levels - 1 reads; 1 GiB leaf levels - 2
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "mimicos/memory.h"
#include "mimicos/mmap.h"
#include "mimicos/pgtable.h"
#include "simulator/mmu.h"
#include "simulator/stats.h"
#include "workload/prng.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define TiB (1ULL << 40)

#define ACCESS	20	/* cycles of one memory access */
#define L1_LAT	1
#define STLB_LAT 8
#define PWC_LAT	2
#define NTLB_LAT 3

#define USER_PAGE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define USER_RO		(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)

/* ---- the fake physical memory ------------------------------------------- */

#define MEM_SLOTS (1u << 14)
static struct { uint64_t pa, val; bool used; } mem[MEM_SLOTS];
static uint64_t next_table = 0x2000;

static uint32_t slot_of(uint64_t pa)
{
	uint32_t i = (uint32_t)((pa * 0x9e3779b97f4a7c15ULL) >> 50) & (MEM_SLOTS - 1);

	while (mem[i].used && mem[i].pa != pa)
		i = (i + 1) & (MEM_SLOTS - 1);
	return i;
}

static uint64_t mem_get(uint64_t pa)
{
	uint32_t i = slot_of(pa);

	return mem[i].used ? mem[i].val : 0;
}

static void mem_set(uint64_t pa, uint64_t val)
{
	uint32_t i = slot_of(pa);

	mem[i].used = true;
	mem[i].pa = pa;
	mem[i].val = val;
}

static unsigned int idx(uint64_t va, unsigned int level)
{
	return (unsigned int)(va >> mmu_level_shift(level)) & 511;
}

/* The address of va's entry of 'level', creating the tables above it. */
static uint64_t entry_at(uint64_t root, unsigned int levels, uint64_t va, unsigned int level)
{
	uint64_t table = root;

	for (unsigned int l = levels; l > level; l--) {
		uint64_t ea = table + idx(va, l) * 8, e = mem_get(ea);

		if (!(e & _PAGE_PRESENT)) {
			e = next_table | _PAGE_TABLE;
			next_table += 0x1000;
			mem_set(ea, e);
		}
		table = e & PTE_PFN_MASK;
	}
	return table + idx(va, level) * 8;
}

/* Map va -> pa with a leaf at 'level' (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static void map_leaf(unsigned int levels, uint64_t va, uint64_t pa, unsigned int level,
		     uint64_t flags)
{
	mem_set(entry_at(0x1000, levels, va, level), pa | flags | (level > 1 ? _PAGE_PSE : 0));
}

static void map4k(unsigned int levels, uint64_t va, uint64_t pa)
{
	map_leaf(levels, va, pa, 1, USER_PAGE);
}

/* ---- the port ------------------------------------------------------------ */

#define LOG_MAX 64
static uint64_t access_log[LOG_MAX];
static unsigned int nr_access;

static uint64_t fake_read(void *ctx, uint64_t pa)
{
	(void)ctx;
	cr_assert_eq(pa & 7, 0);
	return mem_get(pa);
}

static uint32_t fake_access(void *ctx, uint64_t pa, bool write)
{
	(void)ctx;
	cr_assert_not(write);
	if (nr_access < LOG_MAX)
		access_log[nr_access] = pa;
	nr_access++;
	return ACCESS;
}

static const struct mmu_port port = { .read_entry = fake_read, .access = fake_access };

static struct sa_config sa(uint32_t sets, uint32_t ways, uint32_t latency)
{
	return (struct sa_config){ .sets = sets, .ways = ways, .latency = latency,
				   .repl = SA_REPL_LRU };
}

/* Split L1 (4K 16x4, 2M 8x4, 1G 1x4), STLB 128x8 without 1G, PWCs 8x4. */
static struct mmu_config base_cfg(void)
{
	struct mmu_config c;

	memset(&c, 0, sizeof(c));
	c.dtlb_4k = sa(16, 4, L1_LAT);
	c.dtlb_2m = sa(8, 4, L1_LAT);
	c.dtlb_1g = sa(1, 4, L1_LAT);
	c.dtlb = sa(16, 4, L1_LAT);
	c.stlb = sa(128, 8, STLB_LAT);
	c.pwc = true;
	for (int i = 0; i < PWC_NR; i++)
		c.pwc_level[i] = sa(8, 4, PWC_LAT);
	c.walkers = 4;
	c.nested.host_page_size = 4096;
	c.nested.host_levels = 4;
	c.nested.ntlb = sa(16, 4, NTLB_LAT);
	return c;
}

static struct mmu m;
static struct mmu_result r;

static void init(const struct mmu_config *cfg, unsigned int levels)
{
	cr_assert_eq(mmu_init(&m, cfg, levels, &port, NULL), 0);
}

static void fini(void)
{
	mmu_release(&m);
}

/* Translate (asid 1, cr3 0x1000) and return the references it made. */
static unsigned int xlate(uint64_t va, bool write)
{
	unsigned int before = nr_access;
	int ret = mmu_translate(&m, 0x1000, 1, va, write, &r);

	cr_assert_eq(ret, r.fault == MMU_FAULT_NONE ? 0 : -EFAULT);
	cr_assert_eq(nr_access - before, r.refs, "every reference goes through the port");
	return r.refs;
}

static void expect_reads(unsigned int pt, unsigned int pd, unsigned int pdpt,
			 unsigned int pml4, unsigned int pml5)
{
	cr_assert_eq(r.reads[1], pt);
	cr_assert_eq(r.reads[2], pd);
	cr_assert_eq(r.reads[3], pdpt);
	cr_assert_eq(r.reads[4], pml4);
	cr_assert_eq(r.reads[5], pml5);
}

/* ---- native walks ---------------------------------------------------------- */

#define VA	0x00007f1234400000ULL	/* PD index 34, 2 MiB aligned */

Test(mmu, walk_4level_reads_one_entry_per_level_then_hits_l1, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map4k(4, VA + 0x3000, 0x40000000);
	cr_assert_eq(xlate(VA + 0x3123, false), 4);
	cr_assert_eq(r.where, MMU_WALK);
	expect_reads(1, 1, 1, 1, 0);
	cr_assert_eq(r.paddr, 0x40000123);
	cr_assert_eq(r.page_size, 4096);
	/* L1, STLB, PWC probes, four accesses */
	cr_assert_eq(r.cycles, L1_LAT + STLB_LAT + PWC_LAT + 4 * ACCESS);
	/* the first entry read is the PML4's at cr3 + index * 8 */
	cr_assert_eq(access_log[0], 0x1000 + idx(VA, 4) * 8);
	cr_assert_eq(access_log[3], 0x4000 + 3 * 8);
	cr_assert_eq(m.stats.pwc_misses[PWC_PD], 1);
	cr_assert_eq(m.stats.pwc_misses[PWC_PML4], 1);
	cr_assert_eq(m.stats.pwc_misses[PWC_PML5], 0, "no PML5 PWC with 4 levels");

	cr_assert_eq(xlate(VA + 0x3ff8, true), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(r.cycles, L1_LAT);
	cr_assert_eq(r.paddr, 0x40000ff8);
	cr_assert_eq(m.stats.l1_hits[MMU_4K], 1);
	cr_assert_eq(m.stats.walks, 1);
	cr_assert_eq(m.stats.guest_refs[0], 1);
	cr_assert_eq(m.stats.guest_refs[3], 1);
}

Test(mmu, neighbours_skip_levels_by_pwc_hits, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map4k(4, VA, 0x40000000);
	map4k(4, VA + 0x1000, 0x40001000);		/* same PT */
	map4k(4, VA + 2 * MiB, 0x40002000);		/* other PD entry, same PD */
	map4k(4, VA + 1 * GiB, 0x40003000);		/* other PDPT entry, same PDPT */
	cr_assert_eq(xlate(VA, false), 4);

	cr_assert_eq(xlate(VA + 0x1000, false), 1);
	expect_reads(1, 0, 0, 0, 0);
	cr_assert_eq(r.paddr, 0x40001000);
	cr_assert_eq(m.stats.pwc_hits[PWC_PD], 1);
	cr_assert_eq(r.cycles, L1_LAT + STLB_LAT + PWC_LAT + ACCESS);

	cr_assert_eq(xlate(VA + 2 * MiB, false), 2);
	expect_reads(1, 1, 0, 0, 0);
	cr_assert_eq(r.paddr, 0x40002000);
	cr_assert_eq(m.stats.pwc_hits[PWC_PDPT], 1);

	cr_assert_eq(xlate(VA + 1 * GiB, false), 3);
	expect_reads(1, 1, 1, 0, 0);
	cr_assert_eq(r.paddr, 0x40003000);
	cr_assert_eq(m.stats.pwc_hits[PWC_PML4], 1);
	/* PD missed 3 times (VA, +2M, +1G), PDPT 2 times, PML4 once */
	cr_assert_eq(m.stats.pwc_misses[PWC_PD], 3);
	cr_assert_eq(m.stats.pwc_misses[PWC_PDPT], 2);
	cr_assert_eq(m.stats.pwc_misses[PWC_PML4], 1);
}

Test(mmu, walk_5level_counts, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 5);
	map4k(5, VA, 0x40000000);
	map4k(5, VA + 0x1000, 0x40001000);
	map4k(5, VA + 2 * MiB, 0x40002000);
	map4k(5, VA + 1 * GiB, 0x40003000);
	map4k(5, VA + 512 * GiB, 0x40004000);		/* other PML4 entry, same PML4 table */
	cr_assert_eq(xlate(VA, false), 5);
	expect_reads(1, 1, 1, 1, 1);
	cr_assert_eq(access_log[0], 0x1000 + idx(VA, 5) * 8);
	cr_assert_eq(xlate(VA + 0x1000, false), 1);
	cr_assert_eq(xlate(VA + 2 * MiB, false), 2);
	cr_assert_eq(xlate(VA + 1 * GiB, false), 3);
	cr_assert_eq(xlate(VA + 512 * GiB, false), 4);
	expect_reads(1, 1, 1, 1, 0);
	cr_assert_eq(r.paddr, 0x40004000);
	cr_assert_eq(m.stats.pwc_hits[PWC_PML5], 1);
	cr_assert_eq(xlate(VA, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
}

Test(mmu, without_pwc_every_walk_reads_every_level, .fini = fini)
{
	struct mmu_config c = base_cfg();

	c.pwc = false;
	init(&c, 4);
	map4k(4, VA, 0x40000000);
	map4k(4, VA + 0x1000, 0x40001000);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(r.cycles, L1_LAT + STLB_LAT + 4 * ACCESS, "no PWC latency");
	cr_assert_eq(xlate(VA + 0x1000, false), 4);
}

Test(mmu, leaf_2m_reads_levels_minus_one, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map_leaf(4, VA, 0x80000000, 2, USER_PAGE);
	cr_assert_eq(xlate(VA + 0x12345, true), 3);
	expect_reads(0, 1, 1, 1, 0);
	cr_assert_eq(r.page_size, 2 * MiB);
	cr_assert_eq(r.paddr, 0x80012345);
	/* anywhere in the 2 MiB hits dtlb_2m */
	cr_assert_eq(xlate(VA + 0x1fffff, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(r.paddr, 0x801fffff);
	cr_assert_eq(m.stats.l1_hits[MMU_2M], 1);
	/* the leaf did not enter the PD PWC: PD missed once, PDPT once */
	cr_assert_eq(m.dtlb[MMU_2M].stats.inserts, 1);
	cr_assert_eq(m.pwc[PWC_PD].stats.inserts, 0);
	cr_assert_eq(m.pwc[PWC_PDPT].stats.inserts, 1);
}

Test(mmu, leaf_2m_5level_reads_four, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 5);
	map_leaf(5, VA, 0x80000000, 2, USER_PAGE);
	cr_assert_eq(xlate(VA + 0x12345, false), 4);
	expect_reads(0, 1, 1, 1, 1);
	cr_assert_eq(r.page_size, 2 * MiB);
}

Test(mmu, leaf_1g_reads_levels_minus_two, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map_leaf(4, 0x7f8000000000ULL + 3 * GiB, 0x40000000, 3, USER_PAGE);
	cr_assert_eq(xlate(0x7f8000000000ULL + 3 * GiB + 0x2345678, false), 2);
	expect_reads(0, 0, 1, 1, 0);
	cr_assert_eq(r.page_size, GiB);
	cr_assert_eq(r.paddr, 0x42345678);
	cr_assert_eq(xlate(0x7f8000000000ULL + 3 * GiB + 0x3000000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(m.stats.l1_hits[MMU_1G], 1);
	cr_assert_eq(m.stlb.stats.inserts, 0, "stlb_1g is false");
}

/*
 * A 1 GiB page with no 1 GiB structure anywhere is not cached: every access
 * walks, reading only the PDPT entry once the PML4 entry is in its PWC.
 */
Test(mmu, leaf_1g_without_1g_structures_walks_every_time, .fini = fini)
{
	struct mmu_config c = base_cfg();
	uint64_t va = 0x7f8000000000ULL + 3 * GiB;

	c.dtlb_1g.ways = 0;
	init(&c, 4);
	map_leaf(4, va, 0x40000000, 3, USER_PAGE);
	cr_assert_eq(xlate(va, false), 2);
	cr_assert_eq(xlate(va + 0x1000, false), 1);
	cr_assert_eq(r.where, MMU_WALK);
	expect_reads(0, 0, 1, 0, 0);
	cr_assert_eq(r.paddr, 0x40001000);
}

Test(mmu, leaf_1g_in_stlb_when_stlb_1g, .fini = fini)
{
	struct mmu_config c = base_cfg();
	uint64_t va = 0x7f8000000000ULL + 3 * GiB;

	c.dtlb_1g.ways = 0;
	c.stlb_1g = true;
	init(&c, 4);
	map_leaf(4, va, 0x40000000, 3, USER_PAGE);
	cr_assert_eq(xlate(va, false), 2);
	cr_assert_eq(xlate(va + 0x1000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_STLB);
	cr_assert_eq(r.cycles, L1_LAT + STLB_LAT);
	cr_assert_eq(m.stats.stlb_hits[MMU_1G], 1);
}

/* ---- faults ---------------------------------------------------------------- */

Test(mmu, not_present_pte_faults_at_level_1_and_caches_nothing, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map4k(4, VA + 0x1000, 0x40001000);		/* the PT exists; VA's PTE is 0 */
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(r.fault, MMU_FAULT_NOT_PRESENT);
	cr_assert_eq(r.fault_level, 1);
	cr_assert_eq(r.paddr, 0);
	cr_assert_eq(m.stats.faults_not_present, 1);
	/* the fault forgot the PWC entries of VA (SDM 4.10.4.1): all 4 again */
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(r.fault_level, 1);
	for (int i = 0; i < PWC_NR; i++)
		cr_assert_eq(m.pwc[i].stats.inserts - m.pwc[i].stats.invalidations,
			     0, "pwc %d holds something", i);
	/* ... and VA's neighbour in the same PT walks from the top too */
	cr_assert_eq(xlate(VA + 0x1000, false), 4);
	cr_assert_eq(r.fault, MMU_FAULT_NONE);
	/* MimicOS installs the PTE (no flush needed for a not-present entry) */
	mem_set(0x4000 + idx(VA, 1) * 8, 0x40000000 | USER_PAGE);
	cr_assert_eq(xlate(VA, false), 1);
	cr_assert_eq(r.fault, MMU_FAULT_NONE);
	cr_assert_eq(r.paddr, 0x40000000);
}

Test(mmu, not_present_upper_levels_report_their_level, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map4k(4, VA, 0x40000000);
	/* other PD entry of the same PD table: empty */
	cr_assert_eq(xlate(VA + 2 * MiB, false), 3);
	cr_assert_eq(r.fault, MMU_FAULT_NOT_PRESENT);
	cr_assert_eq(r.fault_level, 2);
	/* other PML4 entry: empty */
	cr_assert_eq(xlate(VA + 512 * GiB, false), 1);
	cr_assert_eq(r.fault_level, 4);
	cr_assert_eq(m.stats.faults_not_present, 2);
	cr_assert_eq(m.stats.l1_hits[MMU_4K] + m.dtlb[MMU_4K].stats.inserts, 0);
}

Test(mmu, write_to_read_only_is_a_protection_fault, .fini = fini)
{
	struct mmu_config c = base_cfg();
	uint64_t ptep;

	init(&c, 4);
	map_leaf(4, VA, 0x40000000, 1, USER_RO);
	ptep = 0x4000 + idx(VA, 1) * 8;

	/* from a walk: nothing cached, the read after it walks again */
	cr_assert_eq(xlate(VA, true), 4);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
	cr_assert_eq(m.stats.faults_protection, 1);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(r.fault, MMU_FAULT_NONE);
	cr_assert_eq(r.perms & SA_PERM_WRITE, 0);

	/* from an L1 hit: no walk, and the entry is forgotten */
	cr_assert_eq(xlate(VA, true), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
	cr_assert_eq(r.cycles, L1_LAT);
	cr_assert_eq(m.stats.faults_protection, 2);

	/* do_wp_page reuses the page: RW set without a flush; the retry walks */
	mem_set(ptep, mem_get(ptep) | _PAGE_RW | _PAGE_DIRTY);
	cr_assert_eq(xlate(VA, true), 4);
	cr_assert_eq(r.fault, MMU_FAULT_NONE);
	cr_assert(r.perms & SA_PERM_WRITE);
	cr_assert(r.perms & SA_PERM_DIRTY);
	cr_assert_eq(xlate(VA, true), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
}

Test(mmu, write_protection_from_an_stlb_hit, .fini = fini)
{
	struct mmu_config c = base_cfg();

	c.dtlb_4k.ways = 0;
	c.dtlb_2m.ways = 0;
	c.dtlb_1g.ways = 0;
	init(&c, 4);
	map_leaf(4, VA, 0x40000000, 1, USER_RO);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(xlate(VA, false), 0);
	cr_assert_eq(r.where, MMU_HIT_STLB);
	cr_assert_eq(r.cycles, STLB_LAT, "no L1 at all");
	cr_assert_eq(xlate(VA, true), 0);
	cr_assert_eq(r.where, MMU_HIT_STLB);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
}

Test(mmu, permissions_are_the_and_of_every_level, .fini = fini)
{
	struct mmu_config c = base_cfg();
	uint64_t pde, pdpte;

	init(&c, 4);
	map4k(4, VA, 0x40000000);
	map4k(4, VA + 0x5000, 0x40005000);
	map4k(4, VA + 1 * GiB, 0x40001000);
	/* the PD entry of VA without RW: reads fine, writes fault */
	pde = entry_at(0x1000, 4, VA, 2);
	mem_set(pde, mem_get(pde) & ~_PAGE_RW);
	cr_assert_eq(xlate(VA, true), 4);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(r.fault, MMU_FAULT_NONE);
	/* a PWC hit carries the permissions of the levels it skips */
	cr_assert_eq(xlate(VA + 0x5000, true), 1);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
	/*
	 * The PDPT entry of VA + 1 GiB without U/S: even a read faults, at the
	 * end of a whole walk (that fault emptied the PWCs of VA's path,
	 * which VA + 1 GiB shares).
	 */
	pdpte = entry_at(0x1000, 4, VA + 1 * GiB, 3);
	mem_set(pdpte, mem_get(pdpte) & ~_PAGE_USER);
	cr_assert_eq(xlate(VA + 1 * GiB, false), 4);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
}

/* ---- the hierarchy ----------------------------------------------------------- */

/*
 * dtlb_4k of 4 sets x 2 ways (LRU): pages 0, 4 and 8 of the PT share set 0,
 * so the third evicts the first from the L1; the STLB (128 sets) keeps all.
 */
Test(mmu, stlb_hit_after_l1_eviction, .fini = fini)
{
	struct mmu_config c = base_cfg();

	c.dtlb_4k = sa(4, 2, L1_LAT);
	init(&c, 4);
	for (int p = 0; p <= 8; p += 4)
		map4k(4, VA + (uint64_t)p * 0x1000, 0x40000000 + (uint64_t)p * 0x1000);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(xlate(VA + 0x4000, false), 1);
	cr_assert_eq(xlate(VA + 0x8000, false), 1);
	cr_assert_eq(m.dtlb[MMU_4K].stats.evictions, 1);
	cr_assert_eq(xlate(VA + 0x10, false), 0);
	cr_assert_eq(r.where, MMU_HIT_STLB);
	cr_assert_eq(r.cycles, L1_LAT + STLB_LAT);
	cr_assert_eq(r.paddr, 0x40000010);
	cr_assert_eq(m.stats.stlb_hits[MMU_4K], 1);
	/* the STLB hit refilled the L1 */
	cr_assert_eq(xlate(VA, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	/* ... evicting page 4, the least recently used */
	cr_assert_eq(xlate(VA + 0x4000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_STLB);
}

Test(mmu, unified_l1_holds_every_size, .fini = fini)
{
	struct mmu_config c = base_cfg();

	c.l1_unified = true;
	c.dtlb_4k.ways = c.dtlb_2m.ways = c.dtlb_1g.ways = 0;
	init(&c, 4);
	map4k(4, VA + 0x3000, 0x40003000);
	map_leaf(4, VA + 2 * MiB, 0x80000000, 2, USER_PAGE);
	map_leaf(4, VA + 4 * GiB, 0xc0000000, 3, USER_PAGE);
	cr_assert_eq(xlate(VA + 0x3000, false), 4);
	/* the PDPT PWC gives the PD: its entry is the leaf, 1 read */
	cr_assert_eq(xlate(VA + 2 * MiB + 0x1234, false), 1);
	/* the PML4 PWC gives the PDPT: its entry is the leaf, 1 read */
	cr_assert_eq(xlate(VA + 4 * GiB + 0x5000, false), 1);
	expect_reads(0, 0, 1, 0, 0);
	cr_assert_eq(xlate(VA + 0x3008, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(xlate(VA + 2 * MiB + 0x100000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(r.page_size, 2 * MiB);
	cr_assert_eq(xlate(VA + 4 * GiB + 0x100000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(r.paddr, 0xc0000000 + 0x100000 + ((VA + 4 * GiB) & (GiB - 1)));
	cr_assert_eq(m.dtlb_unified.stats.inserts, 3);
	cr_assert_eq(m.stats.l1_hits[MMU_4K], 1);
	cr_assert_eq(m.stats.l1_hits[MMU_2M], 1);
	cr_assert_eq(m.stats.l1_hits[MMU_1G], 1);
	mmu_invalidate_range(&m, 1, VA + 2 * MiB + 0x5000, VA + 2 * MiB + 0x6000);
	cr_assert_eq(xlate(VA + 2 * MiB, false), 3, "PWCs flushed too");
}

Test(mmu, invalidate_range_then_rewalk, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map4k(4, VA, 0x40000000);
	map4k(4, VA + 0x1000, 0x40001000);
	map_leaf(4, VA + 2 * MiB, 0x80000000, 2, USER_PAGE);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(xlate(VA + 0x1000, false), 1);
	cr_assert_eq(xlate(VA + 2 * MiB, false), 1);	/* PDPT PWC hit, the PD leaf */

	/* VA's page: gone from L1 and STLB, and the PWCs of the asid flushed */
	mmu_invalidate_range(&m, 1, VA, VA + 0x1000);
	cr_assert_eq(m.stats.shootdowns, 1);
	/*
	 * VA's 4 KiB entry in dtlb_4k and in the STLB (the 2 MiB entries are
	 * VA + 2 MiB's, not overlapping), and the asid's PWC entries: PML4,
	 * PDPT and VA's PD entry (a leaf never enters a PWC): 2 + 3.
	 */
	cr_assert_eq(m.stats.shootdown_entries, 2 + 3);
	cr_assert_eq(xlate(VA + 0x1000, false), 0, "outside the range");
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(xlate(VA, false), 4);

	/* a 4 KiB range inside the 2 MiB page takes the whole 2 MiB entry */
	mmu_invalidate_range(&m, 1, VA + 2 * MiB + 0x7000, VA + 2 * MiB + 0x8000);
	cr_assert_eq(xlate(VA + 2 * MiB + 0x1000, false), 3);
	cr_assert_eq(r.page_size, 2 * MiB);

	/* a range ending on a page boundary does not take the next page */
	mmu_invalidate_range(&m, 1, VA - 0x1000, VA + 0x1000);
	cr_assert_eq(xlate(VA + 0x1000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
}

Test(mmu, asid_isolation, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	map4k(4, VA, 0x40000000);
	cr_assert_eq(mmu_translate(&m, 0x1000, 1, VA, false, &r), 0);
	cr_assert_eq(r.refs, 4);
	cr_assert_eq(mmu_translate(&m, 0x1000, 2, VA, false, &r), 0);
	cr_assert_eq(r.refs, 4, "asid 2 shares nothing with asid 1, PWCs included");
	mmu_flush_asid(&m, 1);
	cr_assert_eq(mmu_translate(&m, 0x1000, 2, VA, false, &r), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(mmu_translate(&m, 0x1000, 1, VA, false, &r), 0);
	cr_assert_eq(r.refs, 4);
	mmu_invalidate_range(&m, 2, VA, VA + 1);
	cr_assert_eq(mmu_translate(&m, 0x1000, 1, VA, false, &r), 0);
	cr_assert_eq(r.where, MMU_HIT_L1, "a shootdown of asid 2 leaves asid 1");
	mmu_flush_all(&m);
	cr_assert_eq(mmu_translate(&m, 0x1000, 1, VA, false, &r), 0);
	cr_assert_eq(r.refs, 4);
	cr_assert_eq(m.stats.flushes, 2);
}

/* ---- look-ahead hints (mmu_prefetch) --------------------------------------- */

/*
 * A port that counts entry reads and logs the hints. Tables as in the fake
 * machine above: for VA, PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000.
 */
static unsigned int nr_reads, nr_hints;
static uint64_t hint_log[LOG_MAX];	/* prefetch(pa), and entry(pa) | 1 */

static uint64_t counting_read(void *ctx, uint64_t pa)
{
	nr_reads++;
	return fake_read(ctx, pa);
}

static void log_prefetch(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (nr_hints < LOG_MAX)
		hint_log[nr_hints] = pa;
	nr_hints++;
}

static void log_prefetch_entry(void *ctx, uint64_t pa)
{
	log_prefetch(ctx, pa | 1);
}

static const struct mmu_port hint_port = {
	.read_entry = counting_read, .access = fake_access, .prefetch = log_prefetch,
	.prefetch_entry = log_prefetch_entry,
};

/* Hint va; returns the entries it read (the hints it gave are in hint_log[0..]). */
static unsigned int hint(uint64_t cr3, uint64_t va, bool to_data)
{
	unsigned int before = nr_reads;

	nr_hints = 0;
	mmu_prefetch(&m, cr3, va, to_data);
	return nr_reads - before;
}

static void expect_no_effect(void)
{
	struct mmu_stats zero;

	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(nr_access, 0, "hints never go through the simulated caches");
	cr_assert_eq(memcmp(&m.stats, &zero, sizeof(zero)), 0, "hints count nothing");
	cr_assert_eq(m.dtlb[MMU_4K].stats.hits + m.dtlb[MMU_4K].stats.misses, 0);
	cr_assert_eq(m.stlb.stats.hits + m.stlb.stats.misses + m.stlb.stats.inserts, 0);
}

Test(mmu, hints_walk_from_the_root_once_per_2m, .fini = fini)
{
	struct mmu_config c = base_cfg();

	cr_assert_eq(mmu_init(&m, &c, 4, &hint_port, NULL), 0);
	map4k(4, VA + 0x3000, 0x40000000);
	map4k(4, VA + 0x5000, 0x50000000);

	/* far: PML4, PDPT and PD entries read; the PTE's host copy and its line's sets */
	cr_assert_eq(hint(0x1000, VA + 0x3123, false), 3);
	cr_assert_eq(nr_hints, 2);
	cr_assert_eq(hint_log[0], (0x4000 + 3 * 8) | 1);
	cr_assert_eq(hint_log[1], 0x4000 + 3 * 8);
	/* near, same 2 MiB: the PT is remembered, only the PTE is read; the data's sets */
	cr_assert_eq(hint(0x1000, VA + 0x3123, true), 1);
	cr_assert_eq(nr_hints, 1);
	cr_assert_eq(hint_log[0], 0x40000123);
	cr_assert_eq(hint(0x1000, VA + 0x5008, true), 1);
	cr_assert_eq(hint_log[0], 0x50000008);
	cr_assert_eq(hint(0x1000, VA + 0x5008, false), 0);
	cr_assert_eq(hint_log[0], (0x4000 + 5 * 8) | 1);
	/* a page not present: the PTE reads 0, no hint */
	cr_assert_eq(hint(0x1000, VA + 0x7000, true), 1);
	cr_assert_eq(nr_hints, 0);
	/* another 2 MiB (its PD entry is not present): from the root, nothing remembered */
	cr_assert_eq(hint(0x1000, VA + 2 * MiB, true), 3);
	cr_assert_eq(nr_hints, 0);
	cr_assert_eq(hint(0x1000, VA + 2 * MiB, true), 3);
	/* another cr3: the tables remembered were another address space's */
	cr_assert_eq(hint(0x9000, VA + 0x3000, true), 1, "the new root's PML4 entry, not present");
	cr_assert_eq(hint(0x1000, VA + 0x3000, true), 4);
	cr_assert_eq(hint_log[0], 0x40000000);
	expect_no_effect();
}

Test(mmu, hints_follow_tables_replaced_after_a_shootdown, .fini = fini)
{
	struct mmu_config c = base_cfg();

	cr_assert_eq(mmu_init(&m, &c, 4, &hint_port, NULL), 0);
	map4k(4, VA, 0x40000000);
	cr_assert_eq(hint(0x1000, VA, true), 4);
	cr_assert_eq(hint(0x1000, VA, true), 1);

	/* the PT at 0x4000 is freed, a 2 MiB leaf replaces it (a collapse), a shootdown */
	mem_set(0x3000 + idx(VA, 2) * 8, 0x80000000 | USER_PAGE | _PAGE_PSE);
	mmu_invalidate_range(&m, 1, VA, VA + 2 * MiB);
	cr_assert_eq(hint(0x1000, VA + 0x1234, true), 3, "from the root again");
	cr_assert_eq(hint_log[0], 0x80001234);
	/* the PD holding the leaf is remembered: one read, the leaf */
	cr_assert_eq(hint(0x1000, VA + 0x5678, true), 1);
	cr_assert_eq(hint_log[0], 0x80005678);
	/* a far hint of a 2 MiB page reads the leaf and hints the data */
	cr_assert_eq(hint(0x1000, VA + 0x9000, false), 1);
	cr_assert_eq(nr_hints, 1);
	cr_assert_eq(hint_log[0], 0x80009000);

	/* split back into a PT at 0x7000; a flush forgets the PD too */
	mem_set(0x3000 + idx(VA, 2) * 8, 0x7000 | _PAGE_TABLE);
	mem_set(0x7000 + 2 * 8, 0x60000000 | USER_PAGE);
	mmu_flush_all(&m);
	m.stats.flushes = m.stats.shootdowns = m.stats.shootdown_entries = 0;
	cr_assert_eq(hint(0x1000, VA + 0x2010, true), 4);
	cr_assert_eq(hint_log[0], 0x60000010);
	cr_assert_eq(hint(0x1000, VA + 0x2010, false), 0);
	cr_assert_eq(hint_log[0], (0x7000 + 2 * 8) | 1);
	expect_no_effect();
}

Test(mmu, walks_hint_the_data_until_the_caller_does, .fini = fini)
{
	struct mmu_config c = base_cfg();

	cr_assert_eq(mmu_init(&m, &c, 4, &hint_port, NULL), 0);
	map4k(4, VA, 0x40000000);
	map4k(4, VA + 0x1000, 0x40001000);
	map4k(4, VA + 0x2000, 0x40002000);
	nr_hints = 0;
	cr_assert_eq(xlate(VA + 0x10, false), 4);
	cr_assert_eq(nr_hints, 1, "the walk hints the data at its leaf");
	cr_assert_eq(hint_log[0], 0x40000010);
	/* a far hint does not change that */
	cr_assert_eq(hint(0x1000, VA + 0x1000, false), 3);
	nr_hints = 0;
	cr_assert_eq(xlate(VA + 0x1020, false), 1);
	cr_assert_eq(nr_hints, 1);
	cr_assert_eq(hint_log[0], 0x40001020);
	/* the caller's data hint: the walk's would repeat it */
	cr_assert_eq(hint(0x1000, VA + 0x2030, true), 1);
	cr_assert_eq(hint_log[0], 0x40002030);
	nr_hints = 0;
	cr_assert_eq(xlate(VA + 0x2030, false), 1);
	cr_assert_eq(r.paddr, 0x40002030);
	cr_assert_eq(nr_hints, 0);
}

Test(mmu, hints_of_a_nested_mmu_do_nothing, .fini = fini)
{
	struct mmu_config c = base_cfg();

	c.nested.enabled = true;
	cr_assert_eq(mmu_init(&m, &c, 4, &hint_port, NULL), 0);
	map4k(4, VA, 0x40000000);
	cr_assert_eq(hint(0x1000, VA, true), 0);
	cr_assert_eq(hint(0x1000, VA, false), 0);
	cr_assert_eq(nr_hints, 0);
	expect_no_effect();
}

/* ---- nested (2D) walks ---------------------------------------------------- */

/*
 * A host-physical address for guest-physical 'gpa' over host pages of
 * 'page' bytes (mmu.h): above 1 TiB and below 2, at gpa's offset in its
 * page; the frame itself is the host's choice (scattered), checked for
 * being one to one and not contiguous in nested_host_frames_scatter.
 */
static void expect_host(uint64_t hpa, uint64_t gpa, uint64_t page)
{
	cr_expect(hpa >= TiB && hpa < 2 * TiB, "host-physical %#llx out of [1 TiB, 2 TiB)",
		  (unsigned long long)hpa);
	cr_expect_eq(hpa & (page - 1), gpa & (page - 1), "offset %#llx, guest's %#llx",
		     (unsigned long long)(hpa & (page - 1)), (unsigned long long)(gpa & (page - 1)));
}

/*
 * Guest tables at gPA 0x1000 (PML4), 0x2000, 0x3000, 0x4000 (PT) and the data
 * page at gPA 0x100000: five different 4 KiB host pages, all in the first
 * 2 MiB (and 1 GiB) of guest-physical memory.
 *
 * 4 KiB host pages, 4 host levels (h = 4), 4 guest levels (g = 4), nothing
 * cached: each of the 4 guest entries needs its gPA translated (4 host
 * references) and is read (1), then the data gPA (4): (g + 1) * h + g = 24.
 * With the NTLB it is still 24: five different host pages, five misses.
 */
static void nested_cfg(struct mmu_config *c, uint64_t host_page, unsigned int host_levels,
		       bool ntlb)
{
	*c = base_cfg();
	c->nested.enabled = true;
	c->nested.host_page_size = host_page;
	c->nested.host_levels = host_levels;
	if (!ntlb)
		c->nested.ntlb.ways = 0;
}

static uint64_t host_entry(unsigned int level, uint64_t gpa)
{
	return MMU_NESTED_TABLES + (uint64_t)(level - 1) * MMU_NESTED_LEVEL_SPAN +
	       (gpa >> (mmu_level_shift(level) + 9)) * 4096 + ((gpa >> mmu_level_shift(level)) & 511) * 8;
}

Test(mmu, nested_4k_host_pages_cost_24, .fini = fini)
{
	struct mmu_config c;

	nested_cfg(&c, 4096, 4, true);
	init(&c, 4);
	map4k(4, VA, 0x100000);
	map4k(4, VA + 0x1000, 0x101000);
	cr_assert_eq(xlate(VA + 0x10, false), 24);
	expect_reads(1, 1, 1, 1, 0);
	for (int l = 1; l <= 4; l++)
		cr_assert_eq(r.host_reads[l], 5, "host level %d", l);
	cr_assert_eq(r.host_reads[5], 0);
	expect_host(r.paddr, 0x100010, 4096);
	cr_assert_eq(r.page_size, 4096);
	cr_assert_eq(m.stats.ntlb_misses, 5);
	/* L1, STLB, PWC, 5 NTLB lookups, 24 references */
	cr_assert_eq(r.cycles, L1_LAT + STLB_LAT + PWC_LAT + 5 * NTLB_LAT + 24 * ACCESS);
	/* the host walk of the guest PML4 table's gPA, then the guest entry at its hPA */
	cr_assert_eq(access_log[0], host_entry(4, 0x1000));
	cr_assert_eq(access_log[0], MMU_NESTED_TABLES + 3 * MMU_NESTED_LEVEL_SPAN);
	cr_assert_eq(access_log[1], host_entry(3, 0x1000));
	cr_assert_eq(access_log[2], host_entry(2, 0x1000));
	cr_assert_eq(access_log[3], host_entry(1, 0x1000));
	cr_assert_eq(access_log[3], MMU_NESTED_TABLES + 8);
	expect_host(access_log[4], 0x1000 + idx(VA, 4) * 8, 4096);
	cr_assert_eq(access_log[23], host_entry(1, 0x100000));

	/*
	 * The next page in the same PT: the PD PWC gives the PT's gPA (0x4000),
	 * the NTLB its host page (hit); 1 guest read; the data page 0x101000 is
	 * a new host page: 4 host references. 5 in all.
	 */
	cr_assert_eq(xlate(VA + 0x1000, false), 5);
	expect_reads(1, 0, 0, 0, 0);
	cr_assert_eq(r.host_reads[1], 1);
	cr_assert_eq(r.host_reads[4], 1);
	cr_assert_eq(m.stats.ntlb_hits, 1);
	expect_host(r.paddr, 0x101000, 4096);
	cr_assert_eq(xlate(VA + 0x1000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
}

/*
 * 512 consecutive guest frames (one page table of 4 KiB pages) land on 512
 * distinct host frames, and fewer than 16 of the 511 neighbours stay
 * neighbours: a host's allocator does not hand a guest one contiguous run.
 * Line i mod 64 of page i, in a physically indexed cache of 2048 sets
 * (index bits 6 to 16), then falls in many sets: in contiguous frames the
 * frame's low bits would follow the line's, 64 sets for all 512 lines.
 */
Test(mmu, nested_host_frames_scatter, .fini = fini)
{
	struct mmu_config c;
	uint64_t hf[512];
	unsigned adjacent = 0, sets[2048] = { 0 }, used = 0;

	nested_cfg(&c, 4096, 4, true);
	init(&c, 4);
	for (uint64_t i = 0; i < 512; i++) {
		map4k(4, VA + i * 4096, 0x400000 + i * 4096);
		xlate(VA + i * 4096 + (i % 64) * 64, false);
		expect_host(r.paddr, 0x400000 + i * 4096 + (i % 64) * 64, 4096);
		hf[i] = r.paddr >> 12;
		if (!sets[(r.paddr >> 6) & 2047]++)
			used++;
	}
	for (int i = 0; i < 512; i++)
		for (int j = 0; j < i; j++)
			cr_assert_neq(hf[i], hf[j], "guest frames %d and %d share a host frame", i, j);
	for (int i = 1; i < 512; i++)
		adjacent += hf[i] == hf[i - 1] + 1;
	cr_expect_lt(adjacent, 16, "%u of 511 neighbours contiguous", adjacent);
	cr_expect_gt(used, 256, "line i mod 64 of 512 pages in %u of 2048 sets", used);
}

/* Without an NTLB: (g + 1) * h + g for every h. */
Test(mmu, nested_without_ntlb_every_host_page_size, .fini = fini)
{
	struct mmu_config c;

	/* 4 KiB host pages: h = 4 (PML4..PT), 5 * 4 + 4 = 24 */
	nested_cfg(&c, 4096, 4, false);
	init(&c, 4);
	map4k(4, VA, 0x100000);
	cr_assert_eq(xlate(VA, false), 24);
	mmu_release(&m);
	/* 2 MiB host pages: the host leaf is the PD, h = 3: 5 * 3 + 4 = 19 */
	nested_cfg(&c, 2 * MiB, 4, false);
	init(&c, 4);
	cr_assert_eq(xlate(VA, false), 19);
	cr_assert_eq(r.host_reads[1], 0);
	cr_assert_eq(r.host_reads[2], 5);
	cr_assert_eq(r.paddr, TiB + 0x100000);
	mmu_release(&m);
	/* 1 GiB host pages: the host leaf is the PDPT, h = 2: 5 * 2 + 4 = 14 */
	nested_cfg(&c, GiB, 4, false);
	init(&c, 4);
	cr_assert_eq(xlate(VA, false), 14);
	cr_assert_eq(r.host_reads[3], 5);
	cr_assert_eq(r.host_reads[2], 0);
	mmu_release(&m);
	/* 5 host levels, 4 KiB: h = 5: 5 * 5 + 4 = 29 */
	nested_cfg(&c, 4096, 5, false);
	init(&c, 4);
	nr_access = 0;
	cr_assert_eq(xlate(VA, false), 29);
	cr_assert_eq(r.host_reads[5], 5);
	cr_assert_eq(access_log[0], host_entry(5, 0x1000));
}

Test(mmu, nested_5level_guest_costs_29, .fini = fini)
{
	struct mmu_config c;

	/* g = 5, h = 4: 6 * 4 + 5 = 29 */
	nested_cfg(&c, 4096, 4, true);
	init(&c, 5);
	map4k(5, VA, 0x100000);
	cr_assert_eq(xlate(VA, false), 29);
	expect_reads(1, 1, 1, 1, 1);
}

/*
 * With the NTLB and 2 MiB host pages, every guest table and the data lie in
 * the one host page [0, 2 MiB): the first gPA (the PML4 table) walks the
 * host (h = 3), the other three tables and the data hit the NTLB:
 * 3 + 4 = 7. With 1 GiB host pages: 2 + 4 = 6.
 */
Test(mmu, nested_large_host_pages_with_ntlb, .fini = fini)
{
	struct mmu_config c;

	nested_cfg(&c, 2 * MiB, 4, true);
	init(&c, 4);
	map4k(4, VA, 0x100000);
	cr_assert_eq(xlate(VA, false), 7);
	cr_assert_eq(m.stats.ntlb_misses, 1);
	cr_assert_eq(m.stats.ntlb_hits, 4);
	cr_assert_eq(r.page_size, 4096, "a 4 KiB guest page stays 4 KiB");
	mmu_release(&m);

	nested_cfg(&c, GiB, 4, true);
	init(&c, 4);
	cr_assert_eq(xlate(VA, false), 6);
	cr_assert_eq(r.host_reads[4], 1);
	cr_assert_eq(r.host_reads[3], 1);
}

/*
 * A 2 MiB guest page over 4 KiB host pages: the guest walk reads 3 entries
 * (3 tables: 3 host walks) and the data gPA is one more: 4 * 4 + 3 = 19. The
 * TLB entry is the 4 KiB host page: a neighbouring 4 KiB of the same guest
 * page walks again: the PDPT PWC gives the PD (its host page in the NTLB),
 * 1 guest read, and the data's new host page 4: 5.
 */
Test(mmu, nested_guest_2m_over_host_4k_is_cached_as_4k, .fini = fini)
{
	struct mmu_config c;

	nested_cfg(&c, 4096, 4, true);
	init(&c, 4);
	map_leaf(4, VA, 0x200000, 2, USER_PAGE);
	cr_assert_eq(xlate(VA + 0x1234, false), 19);
	cr_assert_eq(r.page_size, 4096);
	expect_host(r.paddr, 0x201234, 4096);
	cr_assert_eq(xlate(VA + 0x1ff8, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(xlate(VA + 0x2000, false), 5);
	expect_reads(0, 1, 0, 0, 0);
	expect_host(r.paddr, 0x202000, 4096);
	mmu_release(&m);

	/* over 2 MiB host pages it is a 2 MiB entry */
	nested_cfg(&c, 2 * MiB, 4, true);
	init(&c, 4);
	cr_assert_eq(xlate(VA + 0x1234, false), 3 + 3 + 3, "tables in host page 0, data in 1");
	cr_assert_eq(r.page_size, 2 * MiB);
	cr_assert_eq(xlate(VA + 0x1ff000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
}

Test(mmu, nested_gpa_beyond_the_limit_aborts, .signal = SIGABRT, .fini = fini)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	struct mmu_config c;

	nested_cfg(&c, 4096, 4, true);
	init(&c, 4);
	map4k(4, VA, 2 * TiB);
	xlate(VA, false);
}

/* ---- set-up, invariants, stats ---------------------------------------------- */

Test(mmu, init_rejects_bad_configurations)
{
	struct mmu_config c = base_cfg();
	struct mmu_port noread = { .access = fake_access };

	cr_assert_eq(mmu_init(&m, &c, 3, &port, NULL), -EINVAL);
	cr_assert_eq(mmu_init(&m, &c, 4, &noread, NULL), -EINVAL);
	c.stlb.sets = 3;
	cr_assert_eq(mmu_init(&m, &c, 4, &port, NULL), -EINVAL);
	nested_cfg(&c, 8192, 4, true);
	cr_assert_eq(mmu_init(&m, &c, 4, &port, NULL), -EINVAL);
	nested_cfg(&c, 4096, 3, true);
	cr_assert_eq(mmu_init(&m, &c, 4, &port, NULL), -EINVAL);
	c = base_cfg();
	c.stlb.repl = SA_REPL_RANDOM;
	cr_assert_eq(mmu_init(&m, &c, 4, &port, NULL), -EINVAL, "RANDOM needs a generator");
	nested_cfg(&c, GiB, 5, true);
	cr_assert_eq(mmu_init(&m, &c, 5, &port, NULL), 0);
	cr_assert_eq(m.pwc_at[5], &m.pwc[PWC_PML5]);
	mmu_release(&m);
}

Test(mmu, reversed_invalidation_aborts, .signal = SIGABRT, .fini = fini)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	struct mmu_config c = base_cfg();

	init(&c, 4);
	mmu_invalidate_range(&m, 1, VA, VA);
}

Test(mmu, stats_json, .fini = fini)
{
	struct mmu_config c = base_cfg();
	cJSON *j, *o;

	init(&c, 4);
	map4k(4, VA, 0x40000000);
	xlate(VA, false);
	xlate(VA, false);
	xlate(VA + 2 * MiB, false);
	j = mmu_stats_to_json(&m.stats);
	cr_assert_not_null(j);
	cr_assert_eq(cJSON_GetObjectItem(j, "translations")->valuedouble, 3);
	cr_assert_eq(cJSON_GetObjectItem(j, "walks")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(j, "faults_not_present")->valuedouble, 1);
	o = cJSON_GetObjectItem(j, "l1_hits");
	cr_assert_eq(cJSON_GetObjectItem(o, "4k")->valuedouble, 1);
	o = cJSON_GetObjectItem(j, "guest_refs");
	cr_assert_eq(cJSON_GetObjectItem(o, "pt")->valuedouble, 1);
	cr_assert_eq(cJSON_GetObjectItem(o, "pd")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(o, "pml4")->valuedouble, 1);
	cr_assert_eq(cJSON_GetObjectItem(o, "pml5")->valuedouble, 0);
	o = cJSON_GetObjectItem(j, "pwc_hits");
	cr_assert_eq(cJSON_GetObjectItem(o, "pdpt")->valuedouble, 1);
	/* one walk found a 4 KiB page, the other (VA + 2 MiB) found nothing; no stores */
	o = cJSON_GetObjectItem(j, "walks_found");
	cr_assert_eq(cJSON_GetObjectItem(o, "4k")->valuedouble, 1);
	cr_assert_eq(cJSON_GetObjectItem(o, "2m")->valuedouble, 0);
	cr_assert_eq(cJSON_GetObjectItem(j, "store_walks")->valuedouble, 0);
	cr_assert_eq(cJSON_GetArraySize(j), 28);
	cJSON_Delete(j);
}

/*
 * The hardware's TLB events, loads and stores apart: a store that walks
 * and faults, a load that walks and finds the page, a store hitting the L1
 * (the first walk's entry), a load from another page of the same 2 MiB
 * that walks again; by hand: loads 2 accesses, 2 walks, both found 4 KiB;
 * stores 2 accesses, 1 walk (the faulting one, found nothing), 0 found.
 */
Test(mmu, tlb_events_split_loads_from_stores, .fini = fini)
{
	struct mmu_config c = base_cfg();
	cJSON *j, *ld, *st;

	init(&c, 4);
	xlate(VA + 2 * MiB, true);		/* nothing mapped there: a faulting walk */
	map4k(4, VA, 0x40000000);
	map4k(4, VA + 4096, 0x40001000);
	xlate(VA, false);
	xlate(VA, true);
	xlate(VA + 4096, false);
	j = mmu_tlb_events_to_json(&m.stats);
	cr_assert_not_null(j);
	ld = cJSON_GetObjectItem(j, "loads");
	st = cJSON_GetObjectItem(j, "stores");
	cr_assert_eq(cJSON_GetObjectItem(ld, "accesses")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(ld, "walk_completed")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(ld, "walk_found")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(ld, "walk_completed_4k")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(ld, "stlb_hit")->valuedouble, 0);
	cr_assert_eq(cJSON_GetObjectItem(st, "accesses")->valuedouble, 2);
	cr_assert_eq(cJSON_GetObjectItem(st, "walk_completed")->valuedouble, 1);
	cr_assert_eq(cJSON_GetObjectItem(st, "walk_found")->valuedouble, 0);
	cr_assert_eq(cJSON_GetObjectItem(st, "walk_completed_4k")->valuedouble, 0);
	cr_assert_gt(cJSON_GetObjectItem(ld, "walk_cycles")->valuedouble, 0);
	cr_assert_gt(cJSON_GetObjectItem(st, "walk_cycles")->valuedouble, 0);
	cr_assert_eq(cJSON_GetObjectItem(ld, "walk_cycles")->valuedouble +
		     cJSON_GetObjectItem(st, "walk_cycles")->valuedouble,
		     (double)m.stats.walk_cycles);
	cJSON_Delete(j);
}

/*
 * The kernel's direct-map translations: 2 MiB entries of asid 0 in the
 * L1 2M TLB and the STLB. First touch of a 2 MiB: L1 miss, STLB miss, a walk
 * of the PD entry alone: L1_LAT + STLB_LAT + PWC_LAT + ACCESS at MMU_KERNEL_PD
 * + (pa >> 21) * 8. Again (another line of the same 2 MiB): an L1 hit. The
 * workload's page at the same virtual offset is not hit (another asid).
 */
Test(mmu, kernel_direct_map_translations_take_tlb_entries, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	nr_access = 0;
	cr_assert_eq(mmu_kernel_translate(&m, 0x40200000), L1_LAT + STLB_LAT + PWC_LAT + ACCESS);
	cr_assert_eq(nr_access, 1);
	cr_assert_eq(access_log[0], MMU_KERNEL_PD + (0x40200000 >> 21) * 8);
	cr_assert_eq(mmu_kernel_translate(&m, 0x40200000 + 4096 * 7), L1_LAT);
	cr_assert_eq(m.stats.kernel_walks, 1);
	cr_assert_eq(m.stats.kernel_l1_hits, 1);
	/* the entry lives in the 2M L1: a user translation does not see it */
	cr_assert_eq(m.dtlb[MMU_2M].stats.inserts, 1);
	map4k(4, VA, 0x40000000);
	cr_assert_eq(xlate(VA, false), 4, "the user walk reads all four levels");
	/* a user shootdown leaves the kernel's (global) entry */
	mmu_invalidate_range(&m, 1, 0, ~0ULL);
	cr_assert_eq(mmu_kernel_translate(&m, 0x40200000), L1_LAT);
}

/*
 * Every page size is probed on every translation, and counted, whether or
 * not an entry of that size exists: by hand, a kernel 2M entry, then a user
 * 4K walk, then a user 2M page, then a 4K L1 hit:
 *	kernel:	dtlb_2m miss, stlb miss (its 2M probe)
 *	4K walk: dtlb 4K/2M/1G miss; stlb 4K and 2M probes miss
 *	2M walk (the PD entry only: the PDPT PWC hits): the same five misses
 *	2M hit at another 4K page of it, after a 4K translation in between
 *		(so not the last-hit shortcut): dtlb 4K miss, dtlb 2M hit
 */
Test(mmu, every_page_size_is_probed_and_counted, .fini = fini)
{
	struct mmu_config c = base_cfg();

	init(&c, 4);
	mmu_kernel_translate(&m, 0x40200000);
	map4k(4, VA, 0x40000000);
	map_leaf(4, VA + 2 * MiB, 0x80000000, 2, USER_PAGE);
	cr_assert_eq(xlate(VA, false), 4);
	cr_assert_eq(xlate(VA + 2 * MiB + 0x5000, false), 1, "the PDPT PWC hits: the PD entry only");
	cr_assert_eq(xlate(VA + 0x10, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(xlate(VA + 2 * MiB + 0x7000, false), 0);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(r.paddr, 0x80007000);
	cr_expect_eq(m.dtlb[MMU_4K].stats.misses, 3);
	cr_expect_eq(m.dtlb[MMU_4K].stats.hits, 1);
	cr_expect_eq(m.dtlb[MMU_2M].stats.misses, 1 + 2);
	cr_expect_eq(m.dtlb[MMU_2M].stats.hits, 1);
	cr_expect_eq(m.dtlb[MMU_1G].stats.misses, 2);
	cr_expect_eq(m.stlb.stats.misses, 1 + 2 + 2);
	cr_expect_eq(m.stlb.stats.hits, 0);
	cr_expect_eq(m.stats.l1_misses, 2);
	cr_expect_eq(m.stats.stlb_misses, 2);
}

/* ---- against a real MimicOS ---------------------------------------------------- */

static struct mimicos os;
static struct mm_struct mm;
static struct mm_mem mmem;

static uint64_t os_read(void *ctx, uint64_t pa)
{
	return phys_read64(ctx, pa);
}

static void real_machine(unsigned int levels)
{
	struct zone_config zc = { .size_bytes = 256 * MiB, .start_pfn = 0x100000, .nr_cpus = 1 };
	struct mmu_port p = { .read_entry = os_read, .access = NULL, .ctx = &os.physmem };
	struct mmu_config c = base_cfg();
	struct mm_layout l;
	struct wl_rng rng;
	unsigned long a;
	struct fault_result fr;
	const unsigned int W = FAULT_FLAG_WRITE | FAULT_FLAG_USER, R = FAULT_FLAG_USER;
	/* offsets in a 16 MiB region: THPs in the first 4 MiB (madvised), 4 KiB after */
	static const unsigned long faults[][2] = {
		{ 0x1000, 1 }, { 2 * MiB + 0x5000, 1 }, { 4 * MiB + 0x3000, 1 },
		{ 4 * MiB + 0x4000, 1 }, { 6 * MiB + 0x7000, 1 }, { 9 * MiB, 0 },
		{ 15 * MiB + 0xf000, 1 },
	};
	static const unsigned long probes[] = {
		0x1000, 0x1ff008, 2 * MiB, 2 * MiB + 0x1ffff8, 4 * MiB + 0x3010, 4 * MiB + 0x4ff8,
		4 * MiB + 0x5000, 6 * MiB + 0x7abc, 9 * MiB + 8, 15 * MiB + 0xf000, 12 * MiB,
		0x1000, 4 * MiB + 0x3010,
	};

	cr_assert_eq(mimicos_init(&os, &zc, NULL), 0);
	mm_layout_init(&l);
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm, &mmem, levels), 0);
	cr_assert_eq(do_mmap(&mm, 0, 16 * MiB, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, &a), 0);
	cr_assert_eq(a & (2 * MiB - 1), 0);
	cr_assert_eq(do_madvise(&mm, a, 4 * MiB, MADV_HUGEPAGE), 0);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		cr_assert_eq(do_user_addr_fault(&mm, a + faults[i][0], faults[i][1] ? W : R, &fr), 0);

	cr_assert_eq(mmu_init(&m, &c, levels, &p, NULL), 0);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		unsigned long va = a + probes[i];
		struct pgtable_walk w;
		bool mapped = pgtable_walk(&mmem.pgtable, va, &w);
		int ret = mmu_translate(&m, mmem.pgtable.cr3, 1, va, false, &r);

		if (!mapped) {
			cr_assert_eq(ret, -EFAULT, "va %#lx", va);
			cr_assert_eq(r.fault, MMU_FAULT_NOT_PRESENT);
			cr_assert_eq(r.fault_level, w.level, "va %#lx", va);
			continue;
		}
		cr_assert_eq(ret, 0, "va %#lx", va);
		cr_assert_eq(r.paddr, w.pa, "va %#lx: %#llx vs %#llx", va,
			     (unsigned long long)r.paddr, (unsigned long long)w.pa);
		cr_assert_eq(r.page_size, w.page_size, "va %#lx", va);
	}
	/* 4 MiB + 0x5000 (a PTE) and 12 MiB (a PD entry) were never touched */
	cr_assert_eq(m.stats.faults_not_present, 2);
	cr_assert_eq(mmu_translate(&m, mmem.pgtable.cr3, 1, a + 0x1000, false, &r), 0);
	cr_assert_eq(r.page_size, 2 * MiB);
	cr_assert_eq(r.where, MMU_HIT_L1);
	cr_assert_eq(mmu_translate(&m, mmem.pgtable.cr3, 1, a + 4 * MiB + 0x3000, false, &r), 0);
	cr_assert_eq(r.page_size, 4096);
	/* the read fault at 9 MiB mapped the zero page read-only */
	cr_assert_eq(mmu_translate(&m, mmem.pgtable.cr3, 1, a + 9 * MiB, true, &r), -EFAULT);
	cr_assert_eq(r.fault, MMU_FAULT_PROTECTION);
	cr_assert_eq(r.where, MMU_HIT_L1);
	/* the write fault makes it a real page; the retried write walks and succeeds */
	cr_assert_eq(do_user_addr_fault(&mm, a + 9 * MiB, W, &fr), 0);
	cr_assert_eq(mmu_translate(&m, mmem.pgtable.cr3, 1, a + 9 * MiB, true, &r), 0);
	cr_assert_eq(r.paddr, (uint64_t)fr.pfn << 12);
	/* a 4 KiB page walk in a fresh MMU reads exactly 'levels' entries */
	mmu_release(&m);
	cr_assert_eq(mmu_init(&m, &c, levels, &p, NULL), 0);
	cr_assert_eq(mmu_translate(&m, mmem.pgtable.cr3, 1, a + 6 * MiB + 0x7000, false, &r), 0);
	cr_assert_eq(r.refs, levels);
	cr_assert_eq(mmu_translate(&m, mmem.pgtable.cr3, 1, a + 0x1000, false, &r), 0);
	cr_assert_eq(r.refs, 1, "the PDPT PWC gives the PD, whose entry is the THP's leaf");
	mmu_release(&m);

	mm_mem_release(&mm);
	mm_release(&mm);
	mimicos_release(&os);
}

Test(mmu, mimicos_4level_matches_pgtable_walk)
{
	real_machine(4);
}

Test(mmu, mimicos_5level_matches_pgtable_walk)
{
	real_machine(5);
}
