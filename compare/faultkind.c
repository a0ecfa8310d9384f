/*
 * faultkind.c - what the kernel did for each fault, read from an event log
 * the same way on both sides (compare.h, FAULT_KINDS), and which faults met
 * cold memory.
 *
 * A fault record says whether a present entry refused the access (P), the
 * access (W), whether it completed, and the folios it allocated (the
 * movable allocation is the data folio; page tables are unmovable). That
 * decides every kind but one pair: a read that allocates nothing maps
 * either the 4 KiB zero page (do_anonymous_page) or the huge zero page
 * (do_huge_pmd_anonymous_page), and both allocate the same page table on
 * the way. The 2 MiB block tells them apart:
 *
 *  - the huge zero page needs the block's PMD to be empty, so it is the
 *    first fault in its block since the block was last zapped; any fault
 *    there before it means a PTE table, hence the 4 KiB zero page;
 *  - it maps the whole block, so the next fault in the block (before a
 *    zap) is a write to a present entry: a 2 MiB allocation (6.18 replaces
 *    the huge zero page by a THP) confirms it; another not-present fault,
 *    or an order-0 COW, means it was the 4 KiB zero page;
 *  - with no later fault in the block and no zap, the block's backing at
 *    the end says it: all 512 pages "zero" is the huge zero page (512
 *    separate 4 KiB zero-page reads would be 512 faults in the block).
 */
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"
#include "workload/side.h"

#define BLOCK_SHIFT	21
#define BLOCK_PAGES	512u
#define PAGE_4K		4096u

static const char *const kind_names[] = {
#define FAULT_KIND_NAME(name, desc) #name,
	FAULT_KINDS(FAULT_KIND_NAME)
#undef FAULT_KIND_NAME
};

static const char *const kind_descs[] = {
#define FAULT_KIND_DESC(name, desc) desc,
	FAULT_KINDS(FAULT_KIND_DESC)
#undef FAULT_KIND_DESC
};

const char *fault_kind_name(unsigned kind)
{
	return kind < FAULT_KIND_NR ? kind_names[kind] : NULL;
}

const char *fault_kind_desc(unsigned kind)
{
	return kind < FAULT_KIND_NR ? kind_descs[kind] : NULL;
}

/* Everything but the zero-page pair, from the record alone. */
static enum fault_kind kind_of(const struct side_fault *f)
{
	if (!f->completed)
		return FAULT_other;
	if (!f->allocated)
		return !f->present && !f->write ? FAULT_zero_read : FAULT_other;
	switch (f->order) {
	case 0:
		return !f->present ? FAULT_anon_4k : f->write ? FAULT_zero_cow : FAULT_other;
	case 9:
		return !f->present ? FAULT_thp : f->write ? FAULT_huge_zero_write : FAULT_other;
	case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		return !f->present ? (enum fault_kind)(FAULT_mthp_16k + f->order - 2) : FAULT_other;
	default:
		return FAULT_other;
	}
}

static const struct side_fault *sort_base;

/* By 2 MiB block, then by position in the log. */
static int by_block(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	uint64_t bi = sort_base[i].addr >> BLOCK_SHIFT, bj = sort_base[j].addr >> BLOCK_SHIFT;

	return bi != bj ? (bi < bj ? -1 : 1) : (i < j ? -1 : i > j);
}

/* Was the block of 'addr' zapped between faults lo (exclusive) and hi (inclusive)? */
static bool zapped(const struct side_zap *z, size_t nz, uint64_t addr, size_t lo, size_t hi)
{
	uint64_t start = addr >> BLOCK_SHIFT << BLOCK_SHIFT, end = start + (1ull << BLOCK_SHIFT);

	for (size_t k = 0; k < nz; k++)
		if (z[k].before > lo && z[k].before <= hi && z[k].start < end && z[k].end > start)
			return true;
	return false;
}

/* Every 4 KiB page of the fault's block is "zero" in its region's backing at the end. */
static bool block_all_zero(const struct side *s, const struct side_fault *f)
{
	uint64_t block = f->addr >> BLOCK_SHIFT << BLOCK_SHIFT, page = 0, first, want = BLOCK_PAGES;
	const struct side_region *r;

	if (f->region < 0)
		return false;
	r = &s->regions[f->region];
	if (!r->backing || block < r->start || block + (1ull << BLOCK_SHIFT) > r->start + r->size)
		return false;
	first = (block - r->start) / PAGE_4K;
	for (size_t i = 0; i < r->nr_backing && want; i++) {
		uint64_t end = page + r->backing[i].pages;

		if (end > first) {
			uint64_t from = page > first ? page : first, n = end - from;

			if (r->backing[i].cls != PAGE_CLASS_ZERO)
				return false;
			want -= n < want ? n : want;
		}
		page = end;
	}
	return !want;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Per kind, Linux's faults far above the kind's lower quartile are cold.
 * The simulated world has no hypervisor behind it: its slow faults are its
 * model's (a page table allocated on the way), and stay in.
 */
void fault_mark_cold(struct side *s)
{
	uint64_t *v;

	for (size_t i = 0; i < s->nr_faults; i++)
		s->faults[i].cold = false;
	if (s->kind && !strcmp(s->kind, "sim"))
		return;
	v = malloc((s->nr_faults ? s->nr_faults : 1) * sizeof(*v));
	if (!v)
		return;		/* nothing marked: every fault counts as warm */
	for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
		size_t n = 0;
		uint64_t q1;

		for (size_t i = 0; i < s->nr_faults; i++)
			if (s->faults[i].kind == k && s->faults[i].latency_ns)
				v[n++] = s->faults[i].latency_ns;
		if (!n)
			continue;
		qsort(v, n, sizeof(*v), cmp_u64);
		q1 = side_quantile(v, n, 0.25);
		for (size_t i = 0; i < s->nr_faults; i++)
			if (s->faults[i].kind == k)
				s->faults[i].cold = s->faults[i].latency_ns > FAULT_COLD_FACTOR * q1;
	}
	free(v);
}

void fault_kinds_classify(struct side *s, const struct side_zap *zaps, size_t nr_zaps)
{
	size_t n = s->nr_faults, *idx = malloc((n ? n : 1) * sizeof(*idx));

	for (size_t i = 0; i < n; i++) {
		s->faults[i].kind = (uint8_t)kind_of(&s->faults[i]);
		s->faults[i].cold = false;
	}
	if (idx) {
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		sort_base = s->faults;
		qsort(idx, n, sizeof(*idx), by_block);
		for (size_t k = 0; k < n; k++) {
			size_t i = idx[k];
			struct side_fault *f = &s->faults[i];
			uint64_t block = f->addr >> BLOCK_SHIFT;
			const struct side_fault *prev = NULL, *next = NULL;
			size_t pi = 0, ni = 0;

			if (f->kind != FAULT_zero_read)
				continue;
			if (k > 0 && s->faults[idx[k - 1]].addr >> BLOCK_SHIFT == block) {
				pi = idx[k - 1];
				prev = &s->faults[pi];
			}
			if (k + 1 < n && s->faults[idx[k + 1]].addr >> BLOCK_SHIFT == block) {
				ni = idx[k + 1];
				next = &s->faults[ni];
			}
			if (prev && !zapped(zaps, nr_zaps, f->addr, pi, i))
				continue;		/* a PTE table was there: 4 KiB */
			if (next && !zapped(zaps, nr_zaps, f->addr, i, ni)) {
				if (next->present && next->write && next->allocated && next->order == 9)
					f->kind = FAULT_huge_zero_read;
				continue;
			}
			if (!next && !zapped(zaps, nr_zaps, f->addr, i, SIZE_MAX) &&
			    block_all_zero(s, f))
				f->kind = FAULT_huge_zero_read;
		}
		free(idx);
	}
	/* without the index, the zero-page pair stays "zero_read": the common one */
	fault_mark_cold(s);
}
