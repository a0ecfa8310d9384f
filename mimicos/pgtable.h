/*
 * pgtable.h - x86-64 page tables, 4-level and 5-level, in simulated physical
 * memory.
 *
 * Imitates arch/x86/include/asm/pgtable_types.h, pgtable_64_types.h,
 * pgtable.h, include/linux/pgtable.h, arch/x86/mm/pgtable.c and the
 * page-table parts of mm/memory.c (__pte_alloc, __pmd_alloc, __pud_alloc,
 * __p4d_alloc, walk_to_pmd, free_pgd_range) and mm/pgtable-generic.c
 * (pgtable_trans_huge_deposit/withdraw), Linux MIMICOS_LINUX_VERSION.
 *
 * Table pages are real pages of the buddy zone (order 0, GFP_PGTABLE_USER:
 * unmovable), and their 512 entries live in simulated physical memory
 * (struct physmem): a hash map from pfn to a host 4 KiB buffer that exists
 * only for table pages, so a 256 GiB machine costs host memory only for its
 * page tables. The simulator's hardware walker reads entries with
 * phys_read64() at the physical addresses the kernel side wrote them to,
 * starting from mm->cr3.
 *
 * Entry locations: where Linux passes a pointer into the table (pmd_t *),
 * MimicOS passes the entry's physical address (uint64_t pmdp), so that every
 * kernel read and write of a table can be reported by its physical address
 * (struct pgtable_trace). Entries are read with pgdp_get()..ptep_get() and
 * written with set_pte_at(), set_pmd_at(), pxx_clear() and the populate
 * helpers; the *_offset() helpers compute the child entry's address from the
 * parent entry's value (already read) and read nothing.
 *
 * 4-level vs 5-level is chosen per mm at pgd_alloc() (x86 chooses it at boot,
 * pgtable_l5_enabled()). In 4-level mode the p4d level is folded at run time
 * exactly as x86 folds it: PTRS_PER_P4D is 1, p4d_offset() returns the pgd
 * entry's address, a p4d entry *is* the pgd entry, pgd_populate()/pgd_clear()
 * do nothing and no p4d table is ever allocated; PGDIR_SHIFT is 39 (48 in
 * 5-level mode), P4D_SHIFT is 39 in both.
 *
 * What is traced, in order (the instruction-stream channel replays it): one
 * read per entry load that Linux's compiled code cannot merge. pxx_alloc():
 * read the entry; if none, __pxx_alloc() zeroes the new table (trace->zero),
 * re-reads the entry under the page-table lock, writes the entry; then the
 * offset step re-reads the entry (the load after the call). pte_alloc_map()
 * is the same (the pmd_same() recheck after taking the PTE lock is not
 * traced). set_pxx_at()/pxx_clear(): one write. free_pgd_range(): one read
 * per entry visited and one write per entry cleared. The reference walk
 * (pgtable_walk()) and the invariant checks are not traced.
 *
 * Where the simulation knowingly differs from Linux:
 *  - No PTI: the pgd is one page (PGD_ALLOCATION_ORDER 0) and user entries
 *    are not mirrored into a kernel copy; the kernel half of the pgd
 *    (indices 256..511 in 4-level) is left empty (there is no kernel).
 *  - Freed tables go straight back to the zone (no mmu_gather batching or
 *    RCU freeing of tables).
 *  - THP deposits are kept per PMD table page (x86 has split PMD ptlocks,
 *    so pmd_huge_pte() lives in the PMD table's ptdesc): the ring order of
 *    mm/pgtable-generic.c is kept (deposit A, B, C then withdraw gives C, A,
 *    B). Depositing does not count nr_ptes: like Linux, the caller does
 *    mm_inc_nr_ptes() when it allocates the table it deposits.
 *  - Invariants Linux only warns about abort here: freeing a PTE table that
 *    still maps a page or a PMD table that still holds deposits, a huge
 *    entry left in a range given to free_pgd_range(), pgd_free() with
 *    non-zero pgtables_bytes (check_mm()).
 */
#ifndef MIMICOS_PGTABLE_H
#define MIMICOS_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mimicos/mm.h"
#include "mimicos/mm_types.h"
#include "mimicos/page_alloc.h"
#include "workload/x86.h"

/* Entry types (pgtable_64_types.h, pgtable_types.h). */
typedef uint64_t pteval_t, pmdval_t, pudval_t, p4dval_t, pgdval_t, pgprotval_t;
typedef struct { pteval_t pte; } pte_t;
typedef struct { pmdval_t pmd; } pmd_t;
typedef struct { pudval_t pud; } pud_t;
typedef struct { p4dval_t p4d; } p4d_t;
typedef struct { pgdval_t pgd; } pgd_t;
typedef struct { pgprotval_t pgprot; } pgprot_t;
/* A table page, by pfn (Linux: pgtable_t, a struct page / ptdesc pointer). */
typedef unsigned long pgtable_t;

#define __pte(x)	((pte_t){ (x) })
#define __pmd(x)	((pmd_t){ (x) })
#define __pud(x)	((pud_t){ (x) })
#define __p4d(x)	((p4d_t){ (x) })
#define __pgd(x)	((pgd_t){ (x) })
#define __pgprot(x)	((pgprot_t){ (x) })
#define pte_val(x)	((x).pte)
#define pmd_val(x)	((x).pmd)
#define pud_val(x)	((x).pud)
#define p4d_val(x)	((x).p4d)
#define pgd_val(x)	((x).pgd)
#define pgprot_val(x)	((x).pgprot)

/* Entry bits: workload/x86.h. */

/* PROT_NONE entries: not present to the hardware, present to Linux. */
#define _PAGE_PROTNONE	_PAGE_GLOBAL
/* Knights Landing may set A/D on a not-present entry: *_none() ignores them. */
#define _PAGE_KNL_ERRATUM_MASK	(_PAGE_DIRTY | _PAGE_ACCESSED)

/* _PAGE_TABLE_NOENC: a user table entry (0x67). */
#define _PAGE_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)
#define _KERNPG_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

/* __PHYSICAL_MASK and PTE_PFN_MASK: workload/x86.h. */
#define PHYSICAL_PAGE_MASK	(((uint64_t)PAGE_MASK) & __PHYSICAL_MASK)
#define PHYSICAL_PMD_PAGE_MASK	(((uint64_t)PMD_MASK) & __PHYSICAL_MASK)
#define PHYSICAL_PUD_PAGE_MASK	(((uint64_t)PUD_MASK) & __PHYSICAL_MASK)
_Static_assert(PTE_PFN_MASK == PHYSICAL_PAGE_MASK, "an entry's frame is a page's address");

/* Geometry (pgtable_64_types.h). PMD_SHIFT/SIZE/MASK are in mm_types.h. */
#define PTRS_PER_PTE	512
#define PTRS_PER_PMD	512
#define PTRS_PER_PUD	512
#define PTRS_PER_PGD	512
#define PUD_SHIFT	30
#define PUD_SIZE	(1UL << PUD_SHIFT)
#define PUD_MASK	(~(PUD_SIZE - 1))
#define P4D_SHIFT	39
#define P4D_SIZE	(1UL << P4D_SHIFT)
#define P4D_MASK	(~(P4D_SIZE - 1))
#define PGDIR_SHIFT_L4	39
#define PGDIR_SHIFT_L5	48

/* Protections of user pages (pgtable_types.h, x86 with NX). */
#define __PAGE_NONE_VAL		(_PAGE_PROTNONE | _PAGE_ACCESSED)
#define __PAGE_SHARED_VAL	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define __PAGE_SHARED_EXEC_VAL	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)
#define __PAGE_COPY_VAL		(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define __PAGE_COPY_EXEC_VAL	(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED)
#define PAGE_NONE		__pgprot(__PAGE_NONE_VAL)
#define PAGE_SHARED		__pgprot(__PAGE_SHARED_VAL)
#define PAGE_SHARED_EXEC	__pgprot(__PAGE_SHARED_EXEC_VAL)
#define PAGE_COPY		__pgprot(__PAGE_COPY_VAL)
#define PAGE_COPY_EXEC		__pgprot(__PAGE_COPY_EXEC_VAL)
#define PAGE_READONLY		PAGE_COPY
#define PAGE_READONLY_EXEC	PAGE_COPY_EXEC

/* vm_get_page_prot() (x86 protection_map[] for the low four vm_flags bits). */
pgprot_t vm_get_page_prot(vm_flags_t vm_flags);

/* x86 enum pg_level: the size one entry of a level maps. */
enum pg_level {
	PG_LEVEL_NONE,
	PG_LEVEL_4K,	/* pte */
	PG_LEVEL_2M,	/* pmd */
	PG_LEVEL_1G,	/* pud */
	PG_LEVEL_512G,	/* p4d (the pgd entry in 4-level mode) */
	PG_LEVEL_256T,	/* pgd in 5-level mode */
	PG_LEVEL_NUM
};

/* ---------------------------------------------------------------------- */
/* Simulated physical memory: contents of table pages only.               */

/*
 * struct ptdesc: what Linux keeps in a table page's struct ptdesc, for each
 * page that is a table page. The table's 512 entries are in host memory.
 */
struct ptdesc {
	unsigned long pfn;		/* key; PFN_NONE for an empty slot */
	uint64_t *table;		/* 512 entries */
	pgtable_t pmd_huge_pte;		/* PMD table: deposit ring head, or PFN_NONE */
	pgtable_t pt_next, pt_prev;	/* deposited PTE table: ring links */
};

struct physmem {
	struct zone *zone;		/* where table pages come from */
	struct ptdesc *slots;		/* open addressing, linear probing */
	size_t cap;			/* power of two */
	size_t nr;			/* table pages with contents */
	unsigned int shift;		/* 64 - log2(cap) */
	void *pool;			/* freed 4 KiB host buffers, for reuse */
	size_t pool_nr;
	uint64_t host_bytes;		/* host memory held for contents and slots */
};

/* Set up empty physical memory over 'zone'. 0 or -ENOMEM. */
int physmem_init(struct physmem *pm, struct zone *zone);
/* Free the host memory (table pages are not returned to the zone). */
void physmem_release(struct physmem *pm);
/* The ptdesc of a table page, or NULL when pfn is not a table page. The
 * pointer is valid until the next table page is added or removed. */
struct ptdesc *page_ptdesc(const struct physmem *pm, unsigned long pfn);
/* The home slot of pfn in pm->slots (Fibonacci hashing). */
static inline size_t physmem_slot(const struct physmem *pm, unsigned long pfn)
{
	return (size_t)(((uint64_t)pfn * 0x9e3779b97f4a7c15ULL) >> pm->shift);
}

/* page_ptdesc()'s lookup, inline for the walker's reads: pfn's ptdesc or NULL. */
static inline const struct ptdesc *__page_ptdesc(const struct physmem *pm, unsigned long pfn)
{
	size_t mask = pm->cap - 1;

	for (size_t i = physmem_slot(pm, pfn);; i = (i + 1) & mask) {
		if (pm->slots[i].pfn == pfn)
			return &pm->slots[i];
		if (pm->slots[i].pfn == PFN_NONE)
			return NULL;
	}
}

/*
 * Read or write the 8-byte word at paddr (8-byte aligned). Pages that are
 * not table pages read as zero; writing one aborts (only tables have
 * contents). Neither is traced: this is the simulated hardware's view.
 * The read is inline: the simulator's walker and its look-ahead make
 * several per simulated access.
 */
static inline uint64_t phys_read64(const struct physmem *pm, uint64_t paddr)
{
	const struct ptdesc *d;

	mimicos_check(!(paddr & 7), "unaligned 8-byte read at %#llx",
		      (unsigned long long)paddr);
	d = __page_ptdesc(pm, (unsigned long)(paddr >> PAGE_SHIFT));
	return d ? d->table[(paddr & ~PAGE_MASK) >> 3] : 0;
}

void phys_write64(struct physmem *pm, uint64_t paddr, uint64_t val);

/* Start loading the host line of the word at paddr (a hint: no effect, no check). */
static inline void phys_prefetch(const struct physmem *pm, uint64_t paddr)
{
	const struct ptdesc *d = __page_ptdesc(pm, (unsigned long)(paddr >> PAGE_SHIFT));

	if (d)
		__builtin_prefetch(&d->table[(paddr & ~PAGE_MASK) >> 3]);
}

/* ---------------------------------------------------------------------- */
/* Per-mm page-table state.                                               */

/*
 * Reports every physical access of a table operation, in program order.
 * access: one 8-byte entry read or written; zero: a bulk clear of a new
 * table (paddr, len). Any callback may be NULL.
 */
struct pgtable_trace {
	void (*access)(void *ctx, uint64_t paddr, bool write);
	void (*zero)(void *ctx, uint64_t paddr, uint64_t len);
	/* A bulk copy of len bytes between physical ranges (khugepaged's collapse copy). */
	void (*copy)(void *ctx, uint64_t dst, uint64_t src, uint64_t len);
	void *ctx;
};

#define PGTABLE_COUNTERS(X)						\
	X(pgtable_alloc)	/* table pages allocated (pgd included) */	\
	X(pgtable_free)		/* table pages freed (pgd included) */	\
	X(pgtable_deposit)	/* pgtable_trans_huge_deposit() */		\
	X(pgtable_withdraw)	/* pgtable_trans_huge_withdraw() */

struct pgtable_stats {
#define X(name) uint64_t name;
	PGTABLE_COUNTERS(X)
#undef X
};

/* The names of struct pgtable_stats' fields, in order; NULL-ended. */
extern const char *const pgtable_counter_names[];

/*
 * The page-table part of an mm_struct (mm->pgd, mm->pgtables_bytes and the
 * nr_* counters). Linux folds p4d counting away: pgtables_bytes counts PTE,
 * PMD and PUD tables (mm_inc_nr_ptes/pmds/puds), never the pgd or p4ds.
 */
struct mm_pgtable {
	struct physmem *physmem;
	unsigned int levels;		/* 4 or 5 (pgtable_l5_enabled()) */
	unsigned int pgdir_shift;	/* 39 or 48 */
	unsigned int cpu;		/* whose per-cpu lists allocations use */
	pgtable_t pgd;			/* pfn of the pgd table */
	uint64_t cr3;			/* pgd's physical address */

	long pgtables_bytes;		/* mm->pgtables_bytes */
	long nr_ptes, nr_pmds, nr_puds, nr_p4ds; /* tables in use per level */
	long nr_deposited;		/* PTE tables deposited for THPs */

	struct pgtable_trace trace;
	struct pgtable_stats stats;
};

/*
 * pgd_alloc(): allocate the zeroed pgd of a 4- or 5-level mm on 'cpu's lists
 * and set mm->cr3. mm is zeroed first (trace and stats too; set the trace
 * afterwards). 0, -EINVAL (levels) or -ENOMEM.
 */
int pgd_alloc(struct mm_pgtable *mm, struct physmem *pm, unsigned int levels,
	      unsigned int cpu);
/* pgd_free(): return the pgd; every lower table must have been freed. */
void pgd_free(struct mm_pgtable *mm);

static inline bool pgtable_l5_enabled(const struct mm_pgtable *mm)
{
	return mm->levels == 5;
}

/* Index helpers (pgtable.h): in 4-level mode p4d_index() is always 0. */
static inline unsigned long pgd_index(const struct mm_pgtable *mm, unsigned long a)
{
	return (a >> mm->pgdir_shift) & (PTRS_PER_PGD - 1);
}
static inline unsigned long p4d_index(const struct mm_pgtable *mm, unsigned long a)
{
	return pgtable_l5_enabled(mm) ? (a >> P4D_SHIFT) & 511 : 0;
}
static inline unsigned long pud_index(unsigned long a) { return (a >> PUD_SHIFT) & (PTRS_PER_PUD - 1); }
static inline unsigned long pmd_index(unsigned long a) { return (a >> PMD_SHIFT) & (PTRS_PER_PMD - 1); }
static inline unsigned long pte_index(unsigned long a) { return (a >> PAGE_SHIFT) & (PTRS_PER_PTE - 1); }

/* pgd_addr_end() and friends: the next boundary, or end when it comes first. */
static inline unsigned long pxx_addr_end(unsigned long addr, unsigned long end,
					 unsigned int shift)
{
	unsigned long boundary = (addr + (1UL << shift)) & ~((1UL << shift) - 1);

	return boundary - 1 < end - 1 ? boundary : end;
}
static inline unsigned long pgd_addr_end(const struct mm_pgtable *mm, unsigned long a,
					 unsigned long end)
{
	return pxx_addr_end(a, end, mm->pgdir_shift);
}
static inline unsigned long p4d_addr_end(unsigned long a, unsigned long end) { return pxx_addr_end(a, end, P4D_SHIFT); }
static inline unsigned long pud_addr_end(unsigned long a, unsigned long end) { return pxx_addr_end(a, end, PUD_SHIFT); }
static inline unsigned long pmd_addr_end(unsigned long a, unsigned long end) { return pxx_addr_end(a, end, PMD_SHIFT); }

/* Entry predicates (x86 pgtable.h). pgd_none() is the 5-level meaning. */
static inline bool pte_none(pte_t p) { return !(pte_val(p) & ~_PAGE_KNL_ERRATUM_MASK); }
static inline bool pmd_none(pmd_t p) { return !(pmd_val(p) & ~_PAGE_KNL_ERRATUM_MASK); }
static inline bool pud_none(pud_t p) { return !(pud_val(p) & ~_PAGE_KNL_ERRATUM_MASK); }
static inline bool p4d_none(p4d_t p) { return !(p4d_val(p) & ~_PAGE_KNL_ERRATUM_MASK); }
static inline bool pgd_none(pgd_t p) { return !pgd_val(p); }
/* Present to Linux: PROT_NONE entries count (the hardware sees P = 0). */
static inline bool pte_present(pte_t p) { return pte_val(p) & (_PAGE_PRESENT | _PAGE_PROTNONE); }
static inline bool pmd_present(pmd_t p) { return pmd_val(p) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE); }
static inline bool pud_present(pud_t p) { return pud_val(p) & _PAGE_PRESENT; }
static inline bool p4d_present(p4d_t p) { return p4d_val(p) & _PAGE_PRESENT; }
static inline bool pgd_present(pgd_t p) { return pgd_val(p) & _PAGE_PRESENT; }
/* A huge PMD: PSE on a present PMD. */
static inline bool pmd_trans_huge(pmd_t p) { return pmd_present(p) && (pmd_val(p) & _PAGE_PSE); }
static inline bool pmd_leaf(pmd_t p) { return pmd_trans_huge(p); }
static inline bool pud_leaf(pud_t p) { return pud_present(p) && (pud_val(p) & _PAGE_PSE); }

/* Entry construction and fields. */
static inline pte_t pfn_pte(unsigned long pfn, pgprot_t prot)
{
	return __pte((((uint64_t)pfn << PAGE_SHIFT) & PTE_PFN_MASK) | pgprot_val(prot));
}
/* pfn_pmd() as Linux: no PSE; pmd_mkhuge() (mk_huge_pmd()) adds it. */
static inline pmd_t pfn_pmd(unsigned long pfn, pgprot_t prot)
{
	return __pmd((((uint64_t)pfn << PAGE_SHIFT) & PTE_PFN_MASK) | pgprot_val(prot));
}
static inline pud_t pfn_pud(unsigned long pfn, pgprot_t prot)
{
	return __pud((((uint64_t)pfn << PAGE_SHIFT) & PTE_PFN_MASK) | pgprot_val(prot));
}
static inline pmd_t pmd_mkhuge(pmd_t p) { return __pmd(pmd_val(p) | _PAGE_PSE); }
static inline pud_t pud_mkhuge(pud_t p) { return __pud(pud_val(p) | _PAGE_PSE); }
static inline unsigned long pte_pfn(pte_t p) { return (pte_val(p) & PTE_PFN_MASK) >> PAGE_SHIFT; }
static inline unsigned long pmd_pfn(pmd_t p)
{
	uint64_t mask = (pmd_val(p) & _PAGE_PSE) ? PHYSICAL_PMD_PAGE_MASK : PTE_PFN_MASK;

	return (pmd_val(p) & mask) >> PAGE_SHIFT;
}
static inline unsigned long pud_pfn(pud_t p)
{
	uint64_t mask = (pud_val(p) & _PAGE_PSE) ? PHYSICAL_PUD_PAGE_MASK : PTE_PFN_MASK;

	return (pud_val(p) & mask) >> PAGE_SHIFT;
}
/* pmd_pgtable(): the PTE table a (non-huge) PMD points to. */
static inline pgtable_t pmd_pgtable(pmd_t p) { return (pmd_val(p) & PTE_PFN_MASK) >> PAGE_SHIFT; }

static inline pte_t pte_mkwrite_novma(pte_t p) { return __pte(pte_val(p) | _PAGE_RW); }
/* 6.18 takes the VMA (x86 uses it for shadow stacks); unused here. */
static inline pte_t pte_mkwrite(pte_t p, const struct vm_area_struct *vma)
{
	(void)vma;
	return pte_mkwrite_novma(p);
}
static inline pte_t pte_wrprotect(pte_t p) { return __pte(pte_val(p) & ~_PAGE_RW); }
static inline pte_t pte_mkyoung(pte_t p) { return __pte(pte_val(p) | _PAGE_ACCESSED); }
static inline pte_t pte_mkold(pte_t p) { return __pte(pte_val(p) & ~_PAGE_ACCESSED); }
static inline pte_t pte_mkdirty(pte_t p) { return __pte(pte_val(p) | _PAGE_DIRTY); }
static inline pte_t pte_mkclean(pte_t p) { return __pte(pte_val(p) & ~_PAGE_DIRTY); }
static inline bool pte_write(pte_t p) { return pte_val(p) & _PAGE_RW; }
static inline bool pte_young(pte_t p) { return pte_val(p) & _PAGE_ACCESSED; }
static inline bool pte_dirty(pte_t p) { return pte_val(p) & _PAGE_DIRTY; }
static inline pmd_t pmd_mkwrite_novma(pmd_t p) { return __pmd(pmd_val(p) | _PAGE_RW); }
static inline pmd_t pmd_mkyoung(pmd_t p) { return __pmd(pmd_val(p) | _PAGE_ACCESSED); }
static inline pmd_t pmd_mkdirty(pmd_t p) { return __pmd(pmd_val(p) | _PAGE_DIRTY); }

/*
 * Offsets: the physical address of the entry for 'addr' in the table the
 * parent entry (already read) points to. pgd_offset() starts at cr3;
 * p4d_offset() in 4-level mode returns pgdp itself (folded) and ignores pgd.
 */
static inline uint64_t pgd_offset(const struct mm_pgtable *mm, unsigned long addr)
{
	return mm->cr3 + pgd_index(mm, addr) * 8;
}
static inline uint64_t p4d_offset(const struct mm_pgtable *mm, uint64_t pgdp, pgd_t pgd,
				  unsigned long addr)
{
	if (!pgtable_l5_enabled(mm))
		return pgdp;
	return (pgd_val(pgd) & PTE_PFN_MASK) + p4d_index(mm, addr) * 8;
}
static inline uint64_t pud_offset(p4d_t p4d, unsigned long addr)
{
	return (p4d_val(p4d) & PTE_PFN_MASK) + pud_index(addr) * 8;
}
static inline uint64_t pmd_offset(pud_t pud, unsigned long addr)
{
	return (pud_val(pud) & PTE_PFN_MASK) + pmd_index(addr) * 8;
}
/* pte_offset_kernel()/pte_offset_map() without the kmap. */
static inline uint64_t pte_offset(pmd_t pmd, unsigned long addr)
{
	return (pmd_val(pmd) & PTE_PFN_MASK) + pte_index(addr) * 8;
}

/* Traced entry reads (pgdp_get() ... ptep_get()). */
pgd_t pgdp_get(struct mm_pgtable *mm, uint64_t pgdp);
p4d_t p4dp_get(struct mm_pgtable *mm, uint64_t p4dp);
pud_t pudp_get(struct mm_pgtable *mm, uint64_t pudp);
pmd_t pmdp_get(struct mm_pgtable *mm, uint64_t pmdp);
pte_t ptep_get(struct mm_pgtable *mm, uint64_t ptep);

/* Traced entry writes. */
void set_pte_at(struct mm_pgtable *mm, unsigned long addr, uint64_t ptep, pte_t pte);
void set_pmd_at(struct mm_pgtable *mm, unsigned long addr, uint64_t pmdp, pmd_t pmd);
void set_pud_at(struct mm_pgtable *mm, unsigned long addr, uint64_t pudp, pud_t pud);
void pte_clear(struct mm_pgtable *mm, unsigned long addr, uint64_t ptep);
void pmd_clear(struct mm_pgtable *mm, uint64_t pmdp);
void pud_clear(struct mm_pgtable *mm, uint64_t pudp);
void p4d_clear(struct mm_pgtable *mm, uint64_t p4dp);
/* No-op in 4-level mode (the pgd entry is the p4d entry). */
void pgd_clear(struct mm_pgtable *mm, uint64_t pgdp);

/* mm_inc_nr_ptes() and friends: nr_* and pgtables_bytes. */
void mm_inc_nr_ptes(struct mm_pgtable *mm);
void mm_dec_nr_ptes(struct mm_pgtable *mm);
void mm_inc_nr_pmds(struct mm_pgtable *mm);
void mm_dec_nr_pmds(struct mm_pgtable *mm);
void mm_inc_nr_puds(struct mm_pgtable *mm);
void mm_dec_nr_puds(struct mm_pgtable *mm);

/*
 * pte_alloc_one(): a zeroed PTE table page (GFP_PGTABLE_USER), or -ENOMEM.
 * Not linked and not counted (the caller counts, as Linux does). pte_free()
 * returns one; it must hold no present entry.
 */
long pte_alloc_one(struct mm_pgtable *mm);
void pte_free(struct mm_pgtable *mm, pgtable_t pte);

/*
 * __pxx_alloc(): allocate a table below the given entry and link it with
 * _PAGE_TABLE unless the entry became present meanwhile (re-read under the
 * lock). 0 or -ENOMEM. __pte_alloc() is pte_alloc_one() + pmd_install().
 */
int __p4d_alloc(struct mm_pgtable *mm, uint64_t pgdp, unsigned long addr);
int __pud_alloc(struct mm_pgtable *mm, uint64_t p4dp, unsigned long addr);
int __pmd_alloc(struct mm_pgtable *mm, uint64_t pudp, unsigned long addr);
int __pte_alloc(struct mm_pgtable *mm, uint64_t pmdp);

/*
 * p4d_alloc() .. pmd_alloc(), pte_alloc_map(): read the entry, allocate the
 * table below it when it is none, return the child entry's address for
 * 'addr', or PHYS_ADDR_NONE on -ENOMEM (physical address 0 is a valid
 * table address when the zone starts at pfn 0).
 * pte_alloc_map() must not be called on a huge PMD.
 */
#define PHYS_ADDR_NONE	(~0ULL)
uint64_t p4d_alloc(struct mm_pgtable *mm, uint64_t pgdp, unsigned long addr);
uint64_t pud_alloc(struct mm_pgtable *mm, uint64_t p4dp, unsigned long addr);
uint64_t pmd_alloc(struct mm_pgtable *mm, uint64_t pudp, unsigned long addr);
uint64_t pte_alloc_map(struct mm_pgtable *mm, uint64_t pmdp, unsigned long addr);
/* walk_to_pmd(): pgd_offset + p4d/pud/pmd_alloc; the pmd entry or PHYS_ADDR_NONE. */
uint64_t walk_to_pmd(struct mm_pgtable *mm, unsigned long addr);
/* get_locked_pte() without the lock: walk_to_pmd + pte_alloc_map, or PHYS_ADDR_NONE. */
uint64_t get_locked_pte(struct mm_pgtable *mm, unsigned long addr);

/*
 * free_pgd_range() of mm/memory.c: free the page tables of [addr, end) that
 * no address outside [floor, ceiling) can use (ceiling 0: the top of the
 * address space). PTE tables go at PMD granularity, a PMD table only when the
 * whole 1 GiB it covers lies inside [floor, ceiling), a PUD table when its
 * 512 GiB does, a p4d table (5-level) when its 256 TiB does. The entries in
 * the range must have been zapped (no present PTE, no huge PMD or PUD).
 * free_pgtables() is the same for one unmapped region between the VMAs
 * around it (floor = end of the previous VMA, ceiling = start of the next).
 */
void free_pgd_range(struct mm_pgtable *mm, unsigned long addr, unsigned long end,
		    unsigned long floor, unsigned long ceiling);
void free_pgtables(struct mm_pgtable *mm, unsigned long start, unsigned long end,
		   unsigned long floor, unsigned long ceiling);

/*
 * THP: keep a PTE table for a huge PMD so splitting it can never fail
 * (pgtable_trans_huge_deposit/withdraw, mm/pgtable-generic.c). Withdraw
 * aborts when nothing is deposited for that PMD table.
 */
void pgtable_trans_huge_deposit(struct mm_pgtable *mm, uint64_t pmdp, pgtable_t pgtable);
pgtable_t pgtable_trans_huge_withdraw(struct mm_pgtable *mm, uint64_t pmdp);

/*
 * The reference walk: what the x86 hardware walker does for 'va' from cr3
 * (hardware meaning: P set, PSE at PUD/PMD is a leaf). Not traced; A/D bits
 * are not set. Fills *w and returns whether va is mapped.
 */
struct pgtable_walk {
	enum pg_level level;	/* level of the last entry read */
	uint64_t entry;		/* its value */
	uint64_t entry_pa;	/* its physical address */
	uint64_t page_size;	/* 4K/2M/1G when mapped, else 0 */
	uint64_t pa;		/* va's physical address when mapped */
	bool mapped;
};
bool pgtable_walk(const struct mm_pgtable *mm, unsigned long va, struct pgtable_walk *w);

#endif
