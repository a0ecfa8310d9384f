/*
 * pgtable.c - x86-64 page tables in simulated physical memory (see pgtable.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mimicos/pgtable.h"

/* GFP_PGTABLE_USER: GFP_KERNEL_ACCOUNT | __GFP_ZERO, unmovable. */
#define GFP_PGTABLE_USER	GFP_KERNEL

const char *const pgtable_counter_names[] = {
#define X(name) #name,
	PGTABLE_COUNTERS(X)
#undef X
	NULL
};

/* ---------------------------------------------------------------------- */
/* physmem: pfn -> ptdesc, open addressing with backward-shift deletion.  */

#define PHYSMEM_MIN_BITS 6

static int physmem_alloc_slots(struct physmem *pm, unsigned int bits)
{
	size_t cap = (size_t)1 << bits;
	struct ptdesc *slots = malloc(cap * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		slots[i].pfn = PFN_NONE;
	pm->slots = slots;
	pm->cap = cap;
	pm->shift = 64 - bits;
	return 0;
}

int physmem_init(struct physmem *pm, struct zone *zone)
{
	memset(pm, 0, sizeof(*pm));
	pm->zone = zone;
	if (physmem_alloc_slots(pm, PHYSMEM_MIN_BITS))
		return -ENOMEM;
	pm->host_bytes = pm->cap * sizeof(struct ptdesc);
	return 0;
}

void physmem_release(struct physmem *pm)
{
	for (size_t i = 0; i < pm->cap; i++)
		if (pm->slots[i].pfn != PFN_NONE)
			free(pm->slots[i].table);
	while (pm->pool) {
		void *next = *(void **)pm->pool;

		free(pm->pool);
		pm->pool = next;
	}
	free(pm->slots);
	memset(pm, 0, sizeof(*pm));
}

struct ptdesc *page_ptdesc(const struct physmem *pm, unsigned long pfn)
{
	return (struct ptdesc *)__page_ptdesc(pm, pfn);
}

static void physmem_insert_slot(struct physmem *pm, const struct ptdesc *d)
{
	size_t mask = pm->cap - 1, i = physmem_slot(pm, d->pfn);

	while (pm->slots[i].pfn != PFN_NONE)
		i = (i + 1) & mask;
	pm->slots[i] = *d;
}

static int physmem_grow(struct physmem *pm)
{
	struct ptdesc *old = pm->slots;
	size_t old_cap = pm->cap;

	if (physmem_alloc_slots(pm, 64 - pm->shift + 1)) {
		pm->slots = old;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].pfn != PFN_NONE)
			physmem_insert_slot(pm, &old[i]);
	free(old);
	pm->host_bytes += (pm->cap - old_cap) * sizeof(struct ptdesc);
	return 0;
}

/* Give pfn zeroed contents (a new table page). */
static int physmem_add(struct physmem *pm, unsigned long pfn)
{
	struct ptdesc d = {
		.pfn = pfn, .pmd_huge_pte = PFN_NONE,
		.pt_next = PFN_NONE, .pt_prev = PFN_NONE,
	};

	mimicos_check(!page_ptdesc(pm, pfn), "pfn %#lx is already a table page", pfn);
	if ((pm->nr + 1) * 4 > pm->cap * 3 && physmem_grow(pm))
		return -ENOMEM;
	if (pm->pool) {
		d.table = pm->pool;
		pm->pool = *(void **)pm->pool;
		pm->pool_nr--;
		memset(d.table, 0, PAGE_SIZE);
	} else {
		d.table = calloc(PTRS_PER_PTE, sizeof(uint64_t));
		if (!d.table)
			return -ENOMEM;
		pm->host_bytes += PAGE_SIZE;
	}
	physmem_insert_slot(pm, &d);
	pm->nr++;
	return 0;
}

/* Drop pfn's contents (the table page is freed); keeps the buffer in the pool. */
static void physmem_remove(struct physmem *pm, unsigned long pfn)
{
	struct ptdesc *d = page_ptdesc(pm, pfn);
	size_t mask = pm->cap - 1, hole, i;

	mimicos_check(d, "pfn %#lx is not a table page", pfn);
	*(void **)d->table = pm->pool;
	pm->pool = d->table;
	pm->pool_nr++;

	/* Backward-shift deletion keeps every probe sequence unbroken. */
	hole = (size_t)(d - pm->slots);
	pm->slots[hole].pfn = PFN_NONE;
	for (i = (hole + 1) & mask; pm->slots[i].pfn != PFN_NONE; i = (i + 1) & mask) {
		size_t home = physmem_slot(pm, pm->slots[i].pfn);

		/* Move i into the hole unless its home lies cyclically in (hole, i]. */
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			pm->slots[hole] = pm->slots[i];
			pm->slots[i].pfn = PFN_NONE;
			hole = i;
		}
	}
	pm->nr--;
}

void phys_write64(struct physmem *pm, uint64_t paddr, uint64_t val)
{
	struct ptdesc *d;

	mimicos_check(!(paddr & 7), "unaligned 8-byte write at %#llx",
		      (unsigned long long)paddr);
	d = page_ptdesc(pm, (unsigned long)(paddr >> PAGE_SHIFT));
	mimicos_check(d, "write to %#llx, which is not in a table page",
		      (unsigned long long)paddr);
	d->table[(paddr & ~PAGE_MASK) >> 3] = val;
}

/* ---------------------------------------------------------------------- */
/* Traced accesses.                                                       */

static uint64_t pt_read(struct mm_pgtable *mm, uint64_t paddr)
{
	if (mm->trace.access)
		mm->trace.access(mm->trace.ctx, paddr, false);
	return phys_read64(mm->physmem, paddr);
}

static void pt_write(struct mm_pgtable *mm, uint64_t paddr, uint64_t val)
{
	if (mm->trace.access)
		mm->trace.access(mm->trace.ctx, paddr, true);
	phys_write64(mm->physmem, paddr, val);
}

pgd_t pgdp_get(struct mm_pgtable *mm, uint64_t pgdp) { return __pgd(pt_read(mm, pgdp)); }
p4d_t p4dp_get(struct mm_pgtable *mm, uint64_t p4dp) { return __p4d(pt_read(mm, p4dp)); }
pud_t pudp_get(struct mm_pgtable *mm, uint64_t pudp) { return __pud(pt_read(mm, pudp)); }
pmd_t pmdp_get(struct mm_pgtable *mm, uint64_t pmdp) { return __pmd(pt_read(mm, pmdp)); }
pte_t ptep_get(struct mm_pgtable *mm, uint64_t ptep) { return __pte(pt_read(mm, ptep)); }

void set_pte_at(struct mm_pgtable *mm, unsigned long addr, uint64_t ptep, pte_t pte)
{
	(void)addr;
	pt_write(mm, ptep, pte_val(pte));
}

void set_pmd_at(struct mm_pgtable *mm, unsigned long addr, uint64_t pmdp, pmd_t pmd)
{
	(void)addr;
	pt_write(mm, pmdp, pmd_val(pmd));
}

void set_pud_at(struct mm_pgtable *mm, unsigned long addr, uint64_t pudp, pud_t pud)
{
	(void)addr;
	pt_write(mm, pudp, pud_val(pud));
}

void pte_clear(struct mm_pgtable *mm, unsigned long addr, uint64_t ptep)
{
	(void)addr;
	pt_write(mm, ptep, 0);
}

void pmd_clear(struct mm_pgtable *mm, uint64_t pmdp) { pt_write(mm, pmdp, 0); }
void pud_clear(struct mm_pgtable *mm, uint64_t pudp) { pt_write(mm, pudp, 0); }
void p4d_clear(struct mm_pgtable *mm, uint64_t p4dp) { pt_write(mm, p4dp, 0); }

void pgd_clear(struct mm_pgtable *mm, uint64_t pgdp)
{
	if (pgtable_l5_enabled(mm))
		pt_write(mm, pgdp, 0);
}

/* ---------------------------------------------------------------------- */
/* Counters (include/linux/mm.h mm_inc_nr_*; PTRS_PER_X * sizeof entry).  */

void mm_inc_nr_ptes(struct mm_pgtable *mm) { mm->nr_ptes++; mm->pgtables_bytes += PAGE_SIZE; }
void mm_inc_nr_pmds(struct mm_pgtable *mm) { mm->nr_pmds++; mm->pgtables_bytes += PAGE_SIZE; }
void mm_inc_nr_puds(struct mm_pgtable *mm) { mm->nr_puds++; mm->pgtables_bytes += PAGE_SIZE; }

void mm_dec_nr_ptes(struct mm_pgtable *mm)
{
	mimicos_check(mm->nr_ptes > 0, "nr_ptes underflow");
	mm->nr_ptes--;
	mm->pgtables_bytes -= PAGE_SIZE;
}

void mm_dec_nr_pmds(struct mm_pgtable *mm)
{
	mimicos_check(mm->nr_pmds > 0, "nr_pmds underflow");
	mm->nr_pmds--;
	mm->pgtables_bytes -= PAGE_SIZE;
}

void mm_dec_nr_puds(struct mm_pgtable *mm)
{
	mimicos_check(mm->nr_puds > 0, "nr_puds underflow");
	mm->nr_puds--;
	mm->pgtables_bytes -= PAGE_SIZE;
}

/* ---------------------------------------------------------------------- */
/* Table pages.                                                           */

/* A zeroed table page from the zone (pte_alloc_one() and friends). */
static long table_alloc_one(struct mm_pgtable *mm)
{
	struct physmem *pm = mm->physmem;
	long pfn = __alloc_pages(pm->zone, GFP_PGTABLE_USER, 0, mm->cpu);

	if (pfn < 0)
		return pfn;
	if (physmem_add(pm, (unsigned long)pfn)) {
		__free_pages(pm->zone, (unsigned long)pfn, 0, mm->cpu);
		return -ENOMEM;
	}
	if (mm->trace.zero)
		mm->trace.zero(mm->trace.ctx, (uint64_t)pfn << PAGE_SHIFT, PAGE_SIZE);
	mm->stats.pgtable_alloc++;
	return pfn;
}

/* Is every entry of the table none? (untraced: an invariant check). */
static bool table_is_empty(const struct mm_pgtable *mm, pgtable_t pfn)
{
	const struct ptdesc *d = page_ptdesc(mm->physmem, pfn);

	for (int i = 0; i < PTRS_PER_PTE; i++)
		if (d->table[i] & ~_PAGE_KNL_ERRATUM_MASK)
			return false;
	return true;
}

static void table_free(struct mm_pgtable *mm, pgtable_t pfn, const char *what)
{
	const struct ptdesc *d = page_ptdesc(mm->physmem, pfn);

	mimicos_check(d, "freeing %s table %#lx, which is not a table page", what, pfn);
	mimicos_check(d->pmd_huge_pte == PFN_NONE,
		      "freeing %s table %#lx with deposited PTE tables", what, pfn);
	mimicos_check(d->pt_next == PFN_NONE, "freeing deposited table %#lx", pfn);
	mimicos_check(table_is_empty(mm, pfn), "freeing %s table %#lx that is not empty",
		      what, pfn);
	physmem_remove(mm->physmem, pfn);
	__free_pages(mm->physmem->zone, pfn, 0, mm->cpu);
	mm->stats.pgtable_free++;
}

long pte_alloc_one(struct mm_pgtable *mm)
{
	return table_alloc_one(mm);
}

void pte_free(struct mm_pgtable *mm, pgtable_t pte)
{
	table_free(mm, pte, "PTE");
}

int pgd_alloc(struct mm_pgtable *mm, struct physmem *pm, unsigned int levels,
	      unsigned int cpu)
{
	long pfn;

	memset(mm, 0, sizeof(*mm));
	if (levels != 4 && levels != 5)
		return -EINVAL;
	mm->physmem = pm;
	mm->levels = levels;
	mm->pgdir_shift = levels == 5 ? PGDIR_SHIFT_L5 : PGDIR_SHIFT_L4;
	mm->cpu = cpu;
	pfn = table_alloc_one(mm);
	if (pfn < 0)
		return (int)pfn;
	mm->pgd = (pgtable_t)pfn;
	mm->cr3 = (uint64_t)pfn << PAGE_SHIFT;
	return 0;
}

void pgd_free(struct mm_pgtable *mm)
{
	/* check_mm(): Linux warns "non-zero pgtables_bytes on freeing mm". */
	mimicos_check(mm->pgtables_bytes == 0 && mm->nr_p4ds == 0,
		      "pgd_free with %ld pgtables_bytes and %ld p4d tables",
		      mm->pgtables_bytes, mm->nr_p4ds);
	mimicos_check(mm->nr_deposited == 0, "pgd_free with %ld deposited tables",
		      mm->nr_deposited);
	table_free(mm, mm->pgd, "pgd");
	mm->pgd = PFN_NONE;
	mm->cr3 = 0;
}

/* ---------------------------------------------------------------------- */
/* Allocation (mm/memory.c).                                              */

/* __p4d_alloc(): only called in 5-level mode (pgd_none() is 0 when folded). */
int __p4d_alloc(struct mm_pgtable *mm, uint64_t pgdp, unsigned long addr)
{
	long new = table_alloc_one(mm);

	(void)addr;
	if (new < 0)
		return -ENOMEM;
	if (pgd_present(pgdp_get(mm, pgdp))) {	/* another thread populated it */
		table_free(mm, (pgtable_t)new, "p4d");
	} else {
		mm->nr_p4ds++;
		/* pgd_populate() */
		pt_write(mm, pgdp, _PAGE_TABLE | ((uint64_t)new << PAGE_SHIFT));
	}
	return 0;
}

int __pud_alloc(struct mm_pgtable *mm, uint64_t p4dp, unsigned long addr)
{
	long new = table_alloc_one(mm);

	(void)addr;
	if (new < 0)
		return -ENOMEM;
	if (!p4d_present(p4dp_get(mm, p4dp))) {
		mm_inc_nr_puds(mm);
		/* p4d_populate(): in 4-level mode this writes the pgd entry. */
		pt_write(mm, p4dp, _PAGE_TABLE | ((uint64_t)new << PAGE_SHIFT));
	} else {
		table_free(mm, (pgtable_t)new, "PUD");
	}
	return 0;
}

int __pmd_alloc(struct mm_pgtable *mm, uint64_t pudp, unsigned long addr)
{
	long new = table_alloc_one(mm);

	(void)addr;
	if (new < 0)
		return -ENOMEM;
	if (!pud_present(pudp_get(mm, pudp))) {
		mm_inc_nr_pmds(mm);
		/* pud_populate() */
		pt_write(mm, pudp, _PAGE_TABLE | ((uint64_t)new << PAGE_SHIFT));
	} else {
		table_free(mm, (pgtable_t)new, "PMD");
	}
	return 0;
}

/* pmd_install(): link *pte unless the PMD was populated meanwhile. */
static void pmd_install(struct mm_pgtable *mm, uint64_t pmdp, long *pte)
{
	if (pmd_none(pmdp_get(mm, pmdp))) {
		mm_inc_nr_ptes(mm);
		/* pmd_populate() */
		pt_write(mm, pmdp, _PAGE_TABLE | ((uint64_t)*pte << PAGE_SHIFT));
		*pte = -1;
	}
}

int __pte_alloc(struct mm_pgtable *mm, uint64_t pmdp)
{
	long new = pte_alloc_one(mm);

	if (new < 0)
		return -ENOMEM;
	pmd_install(mm, pmdp, &new);
	if (new >= 0)
		pte_free(mm, (pgtable_t)new);
	return 0;
}

uint64_t p4d_alloc(struct mm_pgtable *mm, uint64_t pgdp, unsigned long addr)
{
	pgd_t pgd = __pgd(0);

	if (pgtable_l5_enabled(mm)) {
		pgd = pgdp_get(mm, pgdp);
		if (pgd_none(pgd)) {
			if (__p4d_alloc(mm, pgdp, addr))
				return PHYS_ADDR_NONE;
			pgd = pgdp_get(mm, pgdp);
		}
	}
	return p4d_offset(mm, pgdp, pgd, addr);
}

uint64_t pud_alloc(struct mm_pgtable *mm, uint64_t p4dp, unsigned long addr)
{
	p4d_t p4d = p4dp_get(mm, p4dp);

	if (p4d_none(p4d)) {
		if (__pud_alloc(mm, p4dp, addr))
			return PHYS_ADDR_NONE;
		p4d = p4dp_get(mm, p4dp);
	}
	return pud_offset(p4d, addr);
}

uint64_t pmd_alloc(struct mm_pgtable *mm, uint64_t pudp, unsigned long addr)
{
	pud_t pud = pudp_get(mm, pudp);

	if (pud_none(pud)) {
		if (__pmd_alloc(mm, pudp, addr))
			return PHYS_ADDR_NONE;
		pud = pudp_get(mm, pudp);
	}
	mimicos_check(!pud_leaf(pud), "pmd_alloc below a huge PUD at %#lx", addr);
	return pmd_offset(pud, addr);
}

uint64_t pte_alloc_map(struct mm_pgtable *mm, uint64_t pmdp, unsigned long addr)
{
	pmd_t pmd = pmdp_get(mm, pmdp);

	if (pmd_none(pmd)) {
		if (__pte_alloc(mm, pmdp))
			return PHYS_ADDR_NONE;
		pmd = pmdp_get(mm, pmdp);
	}
	mimicos_check(!pmd_trans_huge(pmd), "pte_alloc_map on a huge PMD at %#lx", addr);
	return pte_offset(pmd, addr);
}

uint64_t walk_to_pmd(struct mm_pgtable *mm, unsigned long addr)
{
	uint64_t p = p4d_alloc(mm, pgd_offset(mm, addr), addr);

	if (p != PHYS_ADDR_NONE)
		p = pud_alloc(mm, p, addr);
	if (p != PHYS_ADDR_NONE)
		p = pmd_alloc(mm, p, addr);
	return p;
}

uint64_t get_locked_pte(struct mm_pgtable *mm, unsigned long addr)
{
	uint64_t pmdp = walk_to_pmd(mm, addr);

	return pmdp == PHYS_ADDR_NONE ? pmdp : pte_alloc_map(mm, pmdp, addr);
}

/* ---------------------------------------------------------------------- */
/* free_pgd_range() (mm/memory.c): free_pte_range .. free_p4d_range.      */

static void free_pte_range(struct mm_pgtable *mm, uint64_t pmdp, pmd_t pmd)
{
	pgtable_t token = pmd_pgtable(pmd);

	pmd_clear(mm, pmdp);
	pte_free(mm, token);
	mm_dec_nr_ptes(mm);
}

/* Is the whole [start & mask, + size) inside [floor, ceiling)? */
static bool table_covered(unsigned long start, unsigned long end, unsigned long floor,
			  unsigned long ceiling, unsigned long mask)
{
	start &= mask;
	if (start < floor)
		return false;
	if (ceiling) {
		ceiling &= mask;
		if (!ceiling)
			return false;
	}
	return !(end - 1 > ceiling - 1);
}

static void free_pmd_range(struct mm_pgtable *mm, uint64_t pudp, pud_t pud,
			   unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	unsigned long start = addr, next;
	uint64_t pmdp = pmd_offset(pud, addr);

	do {
		pmd_t pmd = pmdp_get(mm, pmdp);

		next = pmd_addr_end(addr, end);
		if (pmd_none(pmd))
			continue;
		mimicos_check(!pmd_trans_huge(pmd), "free_pgd_range over a huge PMD at %#lx",
			      addr);
		free_pte_range(mm, pmdp, pmd);
	} while (pmdp += 8, addr = next, addr != end);

	if (!table_covered(start, end, floor, ceiling, PUD_MASK))
		return;
	pud_clear(mm, pudp);
	table_free(mm, (pud_val(pud) & PTE_PFN_MASK) >> PAGE_SHIFT, "PMD");
	mm_dec_nr_pmds(mm);
}

static void free_pud_range(struct mm_pgtable *mm, uint64_t p4dp, p4d_t p4d,
			   unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	unsigned long start = addr, next;
	uint64_t pudp = pud_offset(p4d, addr);

	do {
		pud_t pud = pudp_get(mm, pudp);

		next = pud_addr_end(addr, end);
		if (pud_none(pud))
			continue;
		mimicos_check(!pud_leaf(pud), "free_pgd_range over a huge PUD at %#lx", addr);
		free_pmd_range(mm, pudp, pud, addr, next, floor, ceiling);
	} while (pudp += 8, addr = next, addr != end);

	if (!table_covered(start, end, floor, ceiling, P4D_MASK))
		return;
	p4d_clear(mm, p4dp);
	table_free(mm, (p4d_val(p4d) & PTE_PFN_MASK) >> PAGE_SHIFT, "PUD");
	mm_dec_nr_puds(mm);
}

static void free_p4d_range(struct mm_pgtable *mm, uint64_t pgdp, pgd_t pgd,
			   unsigned long addr, unsigned long end,
			   unsigned long floor, unsigned long ceiling)
{
	unsigned long start = addr, next;
	uint64_t p4dp = p4d_offset(mm, pgdp, pgd, addr);

	do {
		p4d_t p4d = p4dp_get(mm, p4dp);

		next = p4d_addr_end(addr, end);
		if (p4d_none(p4d))
			continue;
		free_pud_range(mm, p4dp, p4d, addr, next, floor, ceiling);
	} while (p4dp += 8, addr = next, addr != end);

	/* In 4-level mode pgd_clear() and p4d_free() do nothing. */
	if (!pgtable_l5_enabled(mm) ||
	    !table_covered(start, end, floor, ceiling, ~((1UL << mm->pgdir_shift) - 1)))
		return;
	pgd_clear(mm, pgdp);
	table_free(mm, (pgd_val(pgd) & PTE_PFN_MASK) >> PAGE_SHIFT, "p4d");
	mm->nr_p4ds--;
}

void free_pgd_range(struct mm_pgtable *mm, unsigned long addr, unsigned long end,
		    unsigned long floor, unsigned long ceiling)
{
	unsigned long next;
	uint64_t pgdp;

	/*
	 * Linux's comment: the range may extend beyond the VMAs; PMD-level
	 * granularity is the smallest unit freed, clipped to floor/ceiling.
	 */
	addr &= PMD_MASK;
	if (addr < floor) {
		addr += PMD_SIZE;
		if (!addr)
			return;
	}
	if (ceiling) {
		ceiling &= PMD_MASK;
		if (!ceiling)
			return;
	}
	if (end - 1 > ceiling - 1)
		end -= PMD_SIZE;
	if (addr > end - 1)
		return;

	pgdp = pgd_offset(mm, addr);
	do {
		pgd_t pgd = __pgd(0);

		next = pgd_addr_end(mm, addr, end);
		if (pgtable_l5_enabled(mm)) {	/* pgd_none() is 0 when folded */
			pgd = pgdp_get(mm, pgdp);
			if (pgd_none(pgd))
				continue;
		}
		free_p4d_range(mm, pgdp, pgd, addr, next, floor, ceiling);
	} while (pgdp += 8, addr = next, addr != end);
}

void free_pgtables(struct mm_pgtable *mm, unsigned long start, unsigned long end,
		   unsigned long floor, unsigned long ceiling)
{
	free_pgd_range(mm, start, end, floor, ceiling);
}

/* ---------------------------------------------------------------------- */
/* THP deposit (mm/pgtable-generic.c; pmd_huge_pte() per PMD table).       */

void pgtable_trans_huge_deposit(struct mm_pgtable *mm, uint64_t pmdp, pgtable_t pgtable)
{
	struct physmem *pm = mm->physmem;
	struct ptdesc *pmdt = page_ptdesc(pm, (unsigned long)(pmdp >> PAGE_SHIFT));
	struct ptdesc *d = page_ptdesc(pm, pgtable);

	mimicos_check(pmdt, "deposit for %#llx, not in a PMD table", (unsigned long long)pmdp);
	mimicos_check(d && d->pt_next == PFN_NONE, "depositing %#lx, not a free PTE table",
		      pgtable);
	/* FIFO per Linux's comment; in effect: after the head, then the new head. */
	if (pmdt->pmd_huge_pte == PFN_NONE) {
		d->pt_next = d->pt_prev = pgtable;
	} else {
		struct ptdesc *h = page_ptdesc(pm, pmdt->pmd_huge_pte);

		d->pt_next = h->pt_next;
		d->pt_prev = h->pfn;
		page_ptdesc(pm, h->pt_next)->pt_prev = pgtable;
		h->pt_next = pgtable;
	}
	pmdt->pmd_huge_pte = pgtable;
	mm->nr_deposited++;
	mm->stats.pgtable_deposit++;
}

pgtable_t pgtable_trans_huge_withdraw(struct mm_pgtable *mm, uint64_t pmdp)
{
	struct physmem *pm = mm->physmem;
	struct ptdesc *pmdt = page_ptdesc(pm, (unsigned long)(pmdp >> PAGE_SHIFT));
	struct ptdesc *d;
	pgtable_t pgtable;

	mimicos_check(pmdt && pmdt->pmd_huge_pte != PFN_NONE,
		      "withdraw at %#llx with nothing deposited", (unsigned long long)pmdp);
	pgtable = pmdt->pmd_huge_pte;
	d = page_ptdesc(pm, pgtable);
	if (d->pt_next == pgtable) {
		pmdt->pmd_huge_pte = PFN_NONE;
	} else {
		page_ptdesc(pm, d->pt_next)->pt_prev = d->pt_prev;
		page_ptdesc(pm, d->pt_prev)->pt_next = d->pt_next;
		pmdt->pmd_huge_pte = d->pt_next;
	}
	d->pt_next = d->pt_prev = PFN_NONE;
	mm->nr_deposited--;
	mm->stats.pgtable_withdraw++;
	return pgtable;
}

/* ---------------------------------------------------------------------- */
/* vm_get_page_prot() and the reference walk.                             */

pgprot_t vm_get_page_prot(vm_flags_t vm_flags)
{
	/* arch/x86/mm/pgprot.c protection_map[], indexed by R/W/X/SHARED. */
	static const pgprotval_t map[16] = {
		[VM_NONE] = __PAGE_NONE_VAL,
		[VM_READ] = __PAGE_COPY_VAL,
		[VM_WRITE] = __PAGE_COPY_VAL,
		[VM_WRITE | VM_READ] = __PAGE_COPY_VAL,
		[VM_EXEC] = __PAGE_COPY_EXEC_VAL,
		[VM_EXEC | VM_READ] = __PAGE_COPY_EXEC_VAL,
		[VM_EXEC | VM_WRITE] = __PAGE_COPY_EXEC_VAL,
		[VM_EXEC | VM_WRITE | VM_READ] = __PAGE_COPY_EXEC_VAL,
		[VM_SHARED] = __PAGE_NONE_VAL,
		[VM_SHARED | VM_READ] = __PAGE_COPY_VAL,
		[VM_SHARED | VM_WRITE] = __PAGE_SHARED_VAL,
		[VM_SHARED | VM_WRITE | VM_READ] = __PAGE_SHARED_VAL,
		[VM_SHARED | VM_EXEC] = __PAGE_COPY_EXEC_VAL,
		[VM_SHARED | VM_EXEC | VM_READ] = __PAGE_COPY_EXEC_VAL,
		[VM_SHARED | VM_EXEC | VM_WRITE] = __PAGE_SHARED_EXEC_VAL,
		[VM_SHARED | VM_EXEC | VM_WRITE | VM_READ] = __PAGE_SHARED_EXEC_VAL,
	};

	return __pgprot(map[vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)]);
}

bool pgtable_walk(const struct mm_pgtable *mm, unsigned long va, struct pgtable_walk *w)
{
	static const unsigned int shift[PG_LEVEL_NUM] = {
		[PG_LEVEL_4K] = PAGE_SHIFT, [PG_LEVEL_2M] = PMD_SHIFT,
		[PG_LEVEL_1G] = PUD_SHIFT, [PG_LEVEL_512G] = P4D_SHIFT,
		[PG_LEVEL_256T] = PGDIR_SHIFT_L5,
	};
	enum pg_level level = pgtable_l5_enabled(mm) ? PG_LEVEL_256T : PG_LEVEL_512G;
	uint64_t table = mm->cr3;

	memset(w, 0, sizeof(*w));
	for (;; level--) {
		uint64_t pa = table + ((va >> shift[level]) & 511) * 8;
		uint64_t e = phys_read64(mm->physmem, pa);
		bool leaf = level == PG_LEVEL_4K ||
			    ((level == PG_LEVEL_2M || level == PG_LEVEL_1G) && (e & _PAGE_PSE));

		w->level = level;
		w->entry = e;
		w->entry_pa = pa;
		if (!(e & _PAGE_PRESENT))
			return false;
		if (leaf) {
			uint64_t size = 1ULL << shift[level];
			uint64_t mask = level == PG_LEVEL_4K ? PHYSICAL_PAGE_MASK :
					level == PG_LEVEL_2M ? PHYSICAL_PMD_PAGE_MASK :
					PHYSICAL_PUD_PAGE_MASK;

			w->page_size = size;
			w->pa = (e & mask) | (va & (size - 1));
			w->mapped = true;
			return true;
		}
		table = e & PTE_PFN_MASK;
	}
}
