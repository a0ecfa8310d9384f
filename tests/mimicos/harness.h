/*
 * harness.h - what the MimicOS suites share: replaying a touch as the MMU
 * would, checking page classes, logging TLB flushes, fragmenting a zone.
 * Header-only (static functions); include it after criterion.h.
 */
#ifndef TESTS_MIMICOS_HARNESS_H
#define TESTS_MIMICOS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "mimicos/memory.h"
#include "mimicos/mmap.h"

/*
 * A touch as the simulator replays it: each 4 KiB page of [start, start +
 * len) in order; an access whose translation is missing (or read-only, for
 * a write) faults. Returns the number of faults; each must succeed.
 */
static inline unsigned long mm_touch(struct mm_struct *mm, unsigned long start,
				     unsigned long len, unsigned int flags)
{
	unsigned long va, faults = 0;

	for (va = start; va < start + len; va += PAGE_SIZE) {
		struct pgtable_walk w;

		if (pgtable_walk(&mm->mem->pgtable, va, &w) &&
		    (!(flags & FAULT_FLAG_WRITE) || (w.entry & _PAGE_RW)))
			continue;
		cr_assert_eq(do_user_addr_fault(mm, va, flags, NULL), 0, "fault at %#lx", va);
		faults++;
	}
	return faults;
}

/* The pages of [start, start + len) are none, zero, pte and pmd, that many each. */
static inline void mm_expect_classes(struct mm_struct *mm, unsigned long start,
				     unsigned long len, uint64_t none, uint64_t zero,
				     uint64_t pte, uint64_t pmd)
{
	uint64_t c[PAGE_CLASS_NR] = { 0 };

	mm_page_classes(mm, start, len, c);
	cr_assert_eq(c[PAGE_CLASS_NONE], none, "none %lu, want %lu", (unsigned long)c[PAGE_CLASS_NONE], (unsigned long)none);
	cr_assert_eq(c[PAGE_CLASS_ZERO], zero, "zero %lu, want %lu", (unsigned long)c[PAGE_CLASS_ZERO], (unsigned long)zero);
	cr_assert_eq(c[PAGE_CLASS_PTE], pte, "pte %lu, want %lu", (unsigned long)c[PAGE_CLASS_PTE], (unsigned long)pte);
	cr_assert_eq(c[PAGE_CLASS_PMD], pmd, "pmd %lu, want %lu", (unsigned long)c[PAGE_CLASS_PMD], (unsigned long)pmd);
}

/* The TLB flushes an mm reported (struct mm_tlb_trace's flush, ctx = the log). */
struct flush_log {
	struct { unsigned long start, end; } r[64];
	int nr;
};

static inline void flush_log_record(void *ctx, unsigned long start, unsigned long end)
{
	struct flush_log *l = ctx;

	cr_assert_lt(l->nr, 64);
	l->r[l->nr].start = start;
	l->r[l->nr].end = end;
	l->nr++;
}

/*
 * Leave no free block of order >= 1: allocate every order-0 page the
 * watermarks allow (through the pcp lists), then free every other one. The
 * freed pfns' buddies stay allocated, so nothing merges. The watermarks stop
 * the first loop with some larger blocks still free: those are taken once
 * half the pages are free, until a drain of the per-CPU lists brings none
 * back.
 */
static inline void fragment_zone(struct zone *z)
{
	static long pfns[65536];
	long n = 0, i, pfn;

	while ((pfn = __alloc_pages(z, GFP_HIGHUSER_MOVABLE, 0, 0)) >= 0) {
		cr_assert_lt(n, 65536);
		pfns[n++] = pfn;
	}
	for (i = 0; i < n; i++)
		if (!(pfns[i] & 1))
			__free_pages(z, (unsigned long)pfns[i], 0, 0);
	for (;;) {
		bool any = false;

		drain_all_pages(z);
		for (int o = MAX_PAGE_ORDER; o >= 1; o--)
			while (zone_nr_free(z, (unsigned int)o)) {
				cr_assert_geq(__alloc_pages(z, GFP_HIGHUSER_MOVABLE, (unsigned int)o, 0), 0);
				any = true;
			}
		if (!any)
			break;
	}
	for (i = 1; i < NR_PAGE_ORDERS; i++)
		cr_assert_eq(zone_nr_free(z, (unsigned int)i), 0, "order %ld still free", i);
	cr_assert_gt(zone_nr_free(z, 0), 1000);
}

#endif
