/*
 * khugepaged.c - khugepaged and MADV_COLLAPSE (see khugepaged.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "mimicos/internal.h"
#include "mimicos/khugepaged.h"
#include "mimicos/mimicos.h"
#include "mimicos/mmap.h"
#include "workload/event.h"

/* scan_sleep_millisecs 0: Linux loops at once; here the next pass comes 1 us later. */
#define KHUGEPAGED_MIN_SLEEP_NS	1000ULL
#define NSEC_PER_MSEC		1000000ULL

/*
 * khugepaged_scan plus the thread's state. slots[] is khugepaged_scan.mm_head
 * in list order (registration appends); cursor is khugepaged_scan.mm_slot
 * (-1: NULL, start at the head).
 */
struct khugepaged {
	uint64_t now_ns;		/* the simulated clock as last advanced */
	uint64_t wake_ns;		/* next pass (or resumption); UINT64_MAX: waiting for work */
	struct mm_struct **slots;
	size_t nr, cap;
	long cursor;
	unsigned long address;		/* khugepaged_scan.address */
	/* A pass suspended in khugepaged_alloc_sleep(). */
	bool in_pass;
	unsigned int progress, pass_through_head;
	bool wait;
	struct khugepaged_stats stats;
	struct khugepaged_trace trace;
};

/* struct collapse_control, the part that matters without NUMA. */
struct collapse_control {
	bool is_khugepaged;
	uint64_t now_ns;
};

static const char *const scan_result_names[] = {
#define SCAN_NAME(e, s) [e] = s,
	SCAN_RESULTS(SCAN_NAME)
#undef SCAN_NAME
};

const char *scan_result_name(enum scan_result r)
{
	return (unsigned)r < NR_SCAN_RESULTS ? scan_result_names[r] : "unknown";
}

/* To the module's own trace, and as a vt_event to MimicOS's event sink. */
static void trace_event(struct mimicos *os, const struct khugepaged_event *ev)
{
	struct khugepaged *kh = os->khugepaged;
	struct vt_event vt = { 0 };

	if (kh && kh->trace.event)
		kh->trace.event(kh->trace.ctx, ev);
	if (!os->events.event)
		return;
	if (ev->type == KHUGEPAGED_EV_SCAN_PMD) {	/* trace_mm_khugepaged_scan_pmd() */
		vt.type = VT_SCAN_PMD;
		vt.scan.pfn = ev->pfn == PFN_NONE ? (__u64)-1 : ev->pfn;
		vt.scan.referenced = ev->referenced;
		vt.scan.none_or_zero = ev->none_or_zero;
		vt.scan.status = ev->status;
		vt.scan.unmapped = ev->unmapped;
	} else {					/* trace_mm_collapse_huge_page() */
		vt.type = VT_COLLAPSE;
		vt.collapse.isolated = ev->status == SCAN_SUCCEED;
		vt.collapse.status = ev->status;
		vt.collapse.nr_freed = os->collapse.freed;
		vt.collapse.has_alloc = os->collapse.has_alloc;
		if (os->collapse.has_alloc)
			vt.collapse.alloc = (struct vt_alloc){
				.pfn = os->collapse.pfn, .gfp = os->collapse.gfp,
				.order = (__u8)os->collapse.order,
				.migratetype = (__u8)gfp_migratetype(os->collapse.gfp),
				.cause = os->alloc_cause };
	}
	mimicos_emit(os, &vt);
}

/* ---------------------------------------------------------------------- */
/* Registration (mm slots).                                                */

static long mm_slot_lookup(const struct khugepaged *kh, const struct mm_struct *mm)
{
	size_t i;

	for (i = 0; i < kh->nr; i++)
		if (kh->slots[i] == mm)
			return (long)i;
	return -1;
}

/* __khugepaged_enter(): append to the list; wake the thread if the list was empty. */
static void __khugepaged_enter(struct mimicos *os, struct mm_struct *mm)
{
	struct khugepaged *kh = os->khugepaged;

	if (mm_slot_lookup(kh, mm) >= 0)	/* MMF_VM_HUGEPAGE already set */
		return;
	if (kh->nr == kh->cap) {
		size_t cap = kh->cap ? kh->cap * 2 : 8;
		struct mm_struct **n = realloc(kh->slots, cap * sizeof(*n));

		mimicos_check(n, "khugepaged: out of host memory for mm slots");
		kh->slots = n;
		kh->cap = cap;
	}
	kh->slots[kh->nr++] = mm;
	if (kh->nr == 1 && !kh->in_pass && kh->wake_ns == UINT64_MAX)
		kh->wake_ns = kh->now_ns;	/* wake_up_interruptible(&khugepaged_wait) */
}

void khugepaged_enter_vma(struct vm_area_struct *vma, vm_flags_t vm_flags)
{
	struct mm_mem *mem = vma->vm_mm->mem;
	struct mimicos *os;

	if (!mem || !mem->os->khugepaged)
		return;
	os = mem->os;
	if (!khugepaged_enabled(&os->thp))	/* hugepage_pmd_enabled(); thread stopped */
		return;
	if (mm_slot_lookup(os->khugepaged, vma->vm_mm) >= 0)
		return;
	if (thp_vma_allowable_order(&os->thp, vma, vm_flags, mem->flags, TVA_KHUGEPAGED, PMD_ORDER))
		__khugepaged_enter(os, vma->vm_mm);
}

static void hook_enter_vma(void *priv, struct vm_area_struct *vma)
{
	(void)priv;
	khugepaged_enter_vma(vma, vma->vm_flags);
}

static int hook_madvise_collapse(void *priv, struct vm_area_struct *vma,
				 unsigned long start, unsigned long end)
{
	struct khugepaged *kh = vma->vm_mm->mem ? vma->vm_mm->mem->os->khugepaged : NULL;

	(void)priv;
	return madvise_collapse(vma, start, end, kh ? kh->now_ns : 0);
}

void khugepaged_mm_init(struct mm_struct *mm)
{
	mm->hooks.khugepaged_enter_vma = hook_enter_vma;
	mm->hooks.madvise_collapse = hook_madvise_collapse;
}

/* __khugepaged_exit(): the mm leaves the list; a cursor on it moves to the next. */
void khugepaged_exit(struct mm_struct *mm)
{
	struct khugepaged *kh = mm->mem ? mm->mem->os->khugepaged : NULL;
	long i;

	mm->hooks.khugepaged_enter_vma = NULL;
	mm->hooks.madvise_collapse = NULL;
	if (!kh || (i = mm_slot_lookup(kh, mm)) < 0)
		return;
	memmove(&kh->slots[i], &kh->slots[i + 1], (kh->nr - (size_t)i - 1) * sizeof(*kh->slots));
	kh->nr--;
	if (kh->cursor > i) {
		kh->cursor--;
	} else if (kh->cursor == i) {
		kh->address = 0;
		if ((size_t)i == kh->nr)
			kh->cursor = -1;
	}
}

/* ---------------------------------------------------------------------- */
/* One 2 MiB range.                                                        */

/* find_pmd_or_thp_or_none() -> check_pmd_state() */
static enum scan_result find_pmd_or_thp_or_none(struct mm_pgtable *pt, unsigned long address,
						uint64_t *pmdp)
{
	pmd_t pmd;

	*pmdp = mm_find_pmd(pt, address);
	if (*pmdp == PHYS_ADDR_NONE)
		return SCAN_PMD_NULL;
	pmd = pmdp_get(pt, *pmdp);
	if (pmd_none(pmd))
		return SCAN_PMD_NONE;
	if (!pmd_present(pmd))
		return SCAN_PMD_NULL;
	if (pmd_trans_huge(pmd))
		return SCAN_PMD_MAPPED;
	return SCAN_SUCCEED;
}

/* hugepage_vma_revalidate(): the VMA still takes a THP at 'address'. */
static enum scan_result hugepage_vma_revalidate(struct mm_struct *mm, unsigned long address,
						const struct collapse_control *cc,
						struct vm_area_struct **vmap)
{
	struct vm_area_struct *vma = vma_lookup(mm, address);

	*vmap = vma;
	if (!vma)
		return SCAN_VMA_NULL;
	if (!thp_vma_suitable_order(vma, address, PMD_ORDER))
		return SCAN_ADDRESS_RANGE;
	if (!thp_vma_allowable_order(&mm->mem->os->thp, vma, vma->vm_flags, mm->mem->flags,
				     cc->is_khugepaged ? TVA_KHUGEPAGED : TVA_FORCED_COLLAPSE,
				     PMD_ORDER))
		return SCAN_VMA_CHECK;
	if (!vma->anon_vma)
		return SCAN_PAGE_ANON;
	return SCAN_SUCCEED;
}

/* The PTEs from ptep mapping consecutive pages of folio f, from pfn on (folio_pte_batch()). */
static unsigned int folio_pte_batch(struct mm_pgtable *pt, const struct folio *f,
				    uint64_t ptep, unsigned long pfn, unsigned int max_nr)
{
	unsigned long last = f->pfn + (1UL << f->order);
	unsigned int nr = 1;

	while (nr < max_nr && pfn + nr < last) {
		pte_t next = ptep_get(pt, ptep + 8ULL * nr);

		if (!pte_present(next) || (pte_val(next) & _PAGE_SPECIAL) ||
		    pte_pfn(next) != pfn + nr)
			break;
		nr++;
	}
	return nr;
}

static void trace_copy(struct mm_mem *mem, unsigned long dst_pfn, unsigned long src_pfn,
		       unsigned int nr)
{
	const struct pgtable_trace *tr = &mem->pgtable.trace;

	if (tr->copy)
		tr->copy(tr->ctx, (uint64_t)dst_pfn << PAGE_SHIFT, (uint64_t)src_pfn << PAGE_SHIFT,
			 (uint64_t)nr << PAGE_SHIFT);
}

static void trace_zero(struct mm_mem *mem, unsigned long pfn, unsigned int nr)
{
	const struct pgtable_trace *tr = &mem->pgtable.trace;

	if (tr->zero && nr)
		tr->zero(tr->ctx, (uint64_t)pfn << PAGE_SHIFT, (uint64_t)nr << PAGE_SHIFT);
}

/*
 * __collapse_huge_page_copy() and __collapse_huge_page_copy_succeeded():
 * fill the new folio (runs of none/zero PTEs cleared, mapped pages copied,
 * each as one bulk operation), then clear the old PTEs, unmap and release
 * the old folios, and count the none/zero PTEs into RSS.
 */
static void __collapse_huge_page_copy(struct mm_mem *mem, pmd_t table, unsigned long address,
				      unsigned long new_pfn)
{
	struct mm_pgtable *pt = &mem->pgtable;
	struct mimicos *os = mem->os;
	unsigned int i = 0, zero_run = 0;

	while (i < HPAGE_PMD_NR) {
		unsigned long addr = address + (unsigned long)i * PAGE_SIZE;
		uint64_t ptep = pte_offset(table, addr);
		pte_t pte = ptep_get(pt, ptep);
		unsigned long pfn = pte_pfn(pte);
		struct folio *f;
		unsigned int nr;

		if (pte_none(pte) || is_zero_pfn(os, pfn)) {
			add_mm_counter(mem, MM_ANONPAGES, 1);
			if (!pte_none(pte))
				pte_clear(pt, addr, ptep);
			zero_run++;
			i++;
			continue;
		}
		trace_zero(mem, new_pfn + i - zero_run, zero_run);
		zero_run = 0;
		f = pfn_folio(os, pfn);
		mimicos_check(f, "collapse: PTE at %#lx maps pfn %#lx, no folio", addr, pfn);
		nr = f->order ? folio_pte_batch(pt, f, ptep, pfn, HPAGE_PMD_NR - i) : 1;
		trace_copy(mem, new_pfn + i, pfn, nr);
		for (unsigned int k = 0; k < nr; k++)	/* clear_ptes() */
			pte_clear(pt, addr + (unsigned long)k * PAGE_SIZE, ptep + 8ULL * k);
		folio_remove_rmap(os, f, (int)nr);	/* folio_remove_rmap_ptes() */
		folio_put_refs(os, f, (int)nr);
		i += nr;
	}
	trace_zero(mem, new_pfn + i - zero_run, zero_run);
}

/*
 * collapse_huge_page(): allocate, revalidate, pmdp_collapse_flush(), copy,
 * deposit the old table and install the huge PMD. No lock is ever dropped
 * here, so what the scan saw still holds (isolation cannot fail).
 */
static enum scan_result collapse_huge_page(struct mm_struct *mm, unsigned long address,
					   const struct collapse_control *cc)
{
	struct mm_mem *mem = mm->mem;
	struct mimicos *os = mem->os;
	struct mm_pgtable *pt = &mem->pgtable;
	struct vm_area_struct *vma;
	enum scan_result result;
	unsigned long new_pfn = PFN_NONE;
	struct folio *f;
	uint64_t pmdp;
	pmd_t table, entry;
	gfp_t gfp;

	/* alloc_charge_folio(); what the collapse allocates and frees joins its event */
	os->alloc_cause = cc->is_khugepaged ? MIMICOS_CAUSE_KHUGEPAGED : MIMICOS_CAUSE_MADV_COLLAPSE;
	os->collapse.has_alloc = false;
	os->collapse.freed = 0;
	gfp = cc->is_khugepaged ? alloc_hugepage_khugepaged_gfpmask(&os->thp) : GFP_TRANSHUGE;
	f = vma_alloc_folio(os, gfp, HPAGE_PMD_ORDER);
	if (!f) {
		count_vm_event(&os->ev, THP_COLLAPSE_ALLOC_FAILED);
		result = SCAN_ALLOC_HUGE_PAGE_FAIL;
		goto out;
	}
	count_vm_event(&os->ev, THP_COLLAPSE_ALLOC);
	if (os->khugepaged)
		(*(cc->is_khugepaged ? &os->khugepaged->stats.collapse_allocs
				     : &os->khugepaged->stats.madv_collapse_allocs))++;
	new_pfn = f->pfn;

	result = hugepage_vma_revalidate(mm, address, cc, &vma);
	if (result == SCAN_SUCCEED)
		result = find_pmd_or_thp_or_none(pt, address, &pmdp);
	if (result != SCAN_SUCCEED) {
		folio_put_refs(os, pfn_folio(os, new_pfn), 1);
		new_pfn = PFN_NONE;
		goto out;
	}

	/* pmdp_collapse_flush(): the table leaves the PMD; the 2 MiB is flushed. */
	table = pmdp_get(pt, pmdp);
	pmd_clear(pt, pmdp);
	if (cc->is_khugepaged)
		flush_tlb_range_remote(mem, address, address + HPAGE_PMD_SIZE);
	else			/* MADV_COLLAPSE runs in the workload's own context */
		flush_tlb_range(mem, address, address + HPAGE_PMD_SIZE);

	__collapse_huge_page_copy(mem, table, address, new_pfn);

	pgtable_trans_huge_deposit(pt, pmdp, pmd_pgtable(table));
	/* map_anon_folio_pmd_nopf() */
	f = pfn_folio(os, new_pfn);
	entry = pmd_mkhuge(pfn_pmd(new_pfn, vma_page_prot(vma)));
	entry = maybe_pmd_mkwrite(pmd_mkdirty(entry), vma);
	__folio_set_anon(f, vma, address);
	folio_add_new_anon_rmap(f, 1);
	folio_add_lru(os, f);			/* folio_add_lru_vma() */
	set_pmd_at(pt, address, pmdp, entry);
	result = SCAN_SUCCEED;
out:
	if (os->khugepaged)
		os->khugepaged->stats.collapse_results[result]++;
	trace_event(os, &(struct khugepaged_event){
		.type = KHUGEPAGED_EV_COLLAPSE, .madv_collapse = !cc->is_khugepaged,
		.time_ns = cc->now_ns, .mm = mm, .address = address, .pfn = new_pfn,
		.status = result,
	});
	os->alloc_cause = MIMICOS_CAUSE_OTHER;
	return result;
}

/* hpage_collapse_scan_pmd(): may this 2 MiB collapse? If so, collapse it. */
static enum scan_result hpage_collapse_scan_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
						unsigned long start_addr,
						const struct collapse_control *cc)
{
	struct mm_mem *mem = mm->mem;
	struct mimicos *os = mem->os;
	struct mm_pgtable *pt = &mem->pgtable;
	const struct khugepaged_settings *khs = &os->thp.khugepaged;
	int referenced = 0, none_or_zero = 0, shared = 0, unmapped = 0;
	unsigned long addr, last_pfn = PFN_NONE;
	enum scan_result result;
	uint64_t pmdp;
	pmd_t pmd;
	unsigned int i;

	(void)vma;
	result = find_pmd_or_thp_or_none(pt, start_addr, &pmdp);
	if (result != SCAN_SUCCEED)
		goto out;
	pmd = pmdp_get(pt, pmdp);
	for (i = 0, addr = start_addr; i < HPAGE_PMD_NR; i++, addr += PAGE_SIZE) {
		pte_t pte = ptep_get(pt, pte_offset(pmd, addr));
		struct folio *f;

		/* no swap here: is_swap_pte() never holds */
		if (pte_none(pte) || is_zero_pfn(os, pte_pfn(pte))) {
			++none_or_zero;
			if (!cc->is_khugepaged || none_or_zero <= (int)khs->max_ptes_none)
				continue;
			result = SCAN_EXCEED_NONE_PTE;
			count_vm_event(&os->ev, THP_SCAN_EXCEED_NONE_PTE);
			goto out;
		}
		f = (pte_val(pte) & _PAGE_SPECIAL) ? NULL : pfn_folio(os, pte_pfn(pte));
		if (!f) {				/* vm_normal_page() */
			result = SCAN_PAGE_NULL;
			goto out;
		}
		last_pfn = pte_pfn(pte);
		if (!(f->flags & FOLIO_ANON)) {
			result = SCAN_PAGE_ANON;
			goto out;
		}
		/* folio_maybe_mapped_shared(): without fork, only a page mapped twice */
		if (!f->order && f->mapcount > 1) {
			++shared;
			if (cc->is_khugepaged && shared > (int)khs->max_ptes_shared) {
				result = SCAN_EXCEED_SHARED_PTE;
				count_vm_event(&os->ev, THP_SCAN_EXCEED_SHARE_PTE);
				goto out;
			}
		}
		/* Every folio is on the LRU and unlocked here. */
		if (f->refcount != f->mapcount) {	/* folio_expected_ref_count() */
			result = SCAN_PAGE_COUNT;
			goto out;
		}
		if (cc->is_khugepaged && pte_young(pte))
			referenced++;
	}
	if (cc->is_khugepaged &&
	    (!referenced || (unmapped && referenced < HPAGE_PMD_NR / 2)))
		result = SCAN_LACK_REFERENCED_PAGE;
	else
		result = SCAN_SUCCEED;
	if (result == SCAN_SUCCEED)
		result = collapse_huge_page(mm, start_addr, cc);
out:
	trace_event(os, &(struct khugepaged_event){
		.type = KHUGEPAGED_EV_SCAN_PMD, .madv_collapse = !cc->is_khugepaged,
		.time_ns = cc->now_ns, .mm = mm, .address = start_addr, .pfn = last_pfn,
		.referenced = referenced, .none_or_zero = none_or_zero, .unmapped = unmapped,
		.status = result,
	});
	if (os->khugepaged)
		os->khugepaged->stats.scan_results[result]++;
	return result;
}

/* ---------------------------------------------------------------------- */
/* The thread.                                                             */

/*
 * khugepaged_scan_mm_slot(): scan the mm at the cursor for up to 'pages' of
 * progress. *result: the last range's outcome.
 */
static unsigned int khugepaged_scan_mm_slot(struct mimicos *os, unsigned int pages,
					    enum scan_result *result)
{
	struct khugepaged *kh = os->khugepaged;
	struct collapse_control cc = { .is_khugepaged = true, .now_ns = kh->now_ns };
	struct vm_area_struct *vma = NULL;
	struct mm_struct *mm;
	unsigned int progress = 0;

	*result = SCAN_FAIL;
	if (kh->cursor < 0) {
		kh->cursor = 0;
		kh->address = 0;
	}
	mm = kh->slots[kh->cursor];
	progress++;					/* mmap_read_trylock() succeeded */
	for (vma = find_vma(mm, kh->address); vma; vma = vma->vm_next) {
		unsigned long hstart, hend;

		if (!thp_vma_allowable_order(&os->thp, vma, vma->vm_flags, mm->mem->flags,
					     TVA_KHUGEPAGED, PMD_ORDER)) {
skip:
			progress++;
			continue;
		}
		hstart = (vma->vm_start + HPAGE_PMD_SIZE - 1) & HPAGE_PMD_MASK;
		hend = vma->vm_end & HPAGE_PMD_MASK;
		if (kh->address > hend)
			goto skip;
		if (kh->address < hstart)
			kh->address = hstart;
		while (kh->address < hend) {
			*result = hpage_collapse_scan_pmd(mm, vma, kh->address, &cc);
			if (*result == SCAN_SUCCEED)
				kh->stats.pages_collapsed++;
			kh->address += HPAGE_PMD_SIZE;
			progress += HPAGE_PMD_NR;
			/*
			 * collapse_huge_page() drops mmap_lock: Linux leaves the mm
			 * and comes back to it (the cursor stays) in the next loop.
			 */
			if (*result == SCAN_SUCCEED || *result == SCAN_ALLOC_HUGE_PAGE_FAIL)
				return progress;
			if (progress >= pages)
				return progress;
		}
	}
	/* Every VMA scanned: the cursor moves to the next mm, or past the end. */
	if ((size_t)kh->cursor + 1 < kh->nr) {
		kh->cursor++;
		kh->address = 0;
	} else {
		kh->cursor = -1;
		kh->stats.full_scans++;
	}
	return progress;
}

/*
 * khugepaged_do_scan() from where it stands (a new pass, or one resumed
 * after khugepaged_alloc_sleep()). Returns true if it suspended itself.
 */
static bool khugepaged_do_scan(struct mimicos *os)
{
	struct khugepaged *kh = os->khugepaged;
	unsigned int pages = os->thp.khugepaged.pages_to_scan;
	enum scan_result result = SCAN_SUCCEED;

	if (!kh->in_pass) {
		kh->in_pass = true;
		kh->progress = 0;
		kh->pass_through_head = 0;
		kh->wait = true;
		kh->stats.passes++;
		lru_add_drain_all(os);
	}
	for (;;) {
		if (kh->cursor < 0)
			kh->pass_through_head++;
		if (kh->nr && kh->pass_through_head < 2)
			kh->progress += khugepaged_scan_mm_slot(os, pages - kh->progress, &result);
		else
			kh->progress = pages;
		if (kh->progress >= pages)
			break;
		if (result == SCAN_ALLOC_HUGE_PAGE_FAIL) {
			if (!kh->wait)
				break;
			kh->wait = false;
			/* khugepaged_alloc_sleep() */
			kh->wake_ns = kh->now_ns + os->thp.khugepaged.alloc_sleep_millisecs * NSEC_PER_MSEC;
			return true;
		}
	}
	kh->in_pass = false;
	return false;
}

/* khugepaged_wait_work(): when the next pass starts. */
static void khugepaged_wait_work(struct mimicos *os)
{
	struct khugepaged *kh = os->khugepaged;
	uint64_t sleep = os->thp.khugepaged.scan_sleep_millisecs * NSEC_PER_MSEC;

	if (kh->nr)
		kh->wake_ns = kh->now_ns + (sleep ? sleep : KHUGEPAGED_MIN_SLEEP_NS);
	else
		kh->wake_ns = UINT64_MAX;	/* until __khugepaged_enter() wakes it */
}

/* Run the passes due before 'now_ns' (or at it too, when 'inclusive'). */
static unsigned int run_due(struct mimicos *os, uint64_t now_ns, bool inclusive)
{
	struct khugepaged *kh = os->khugepaged;
	unsigned int passes = 0;

	mimicos_check(now_ns >= kh->now_ns, "khugepaged: time going back (%llu < %llu)",
		      (unsigned long long)now_ns, (unsigned long long)kh->now_ns);
	while (kh->wake_ns < now_ns || (inclusive && kh->wake_ns == now_ns)) {
		kh->now_ns = kh->wake_ns;
		os->now_ns = kh->now_ns;		/* the pass's events carry its time */
		if (!khugepaged_enabled(&os->thp)) {
			kh->wake_ns = UINT64_MAX;
			break;
		}
		if (!khugepaged_do_scan(os))
			khugepaged_wait_work(os);
		passes++;
	}
	kh->now_ns = now_ns;
	os->now_ns = now_ns;
	return passes;
}

unsigned int khugepaged_advance(struct mimicos *os, uint64_t now_ns)
{
	return os->khugepaged ? run_due(os, now_ns, false) : 0;
}

uint64_t khugepaged_next_wakeup(const struct mimicos *os)
{
	return os->khugepaged ? os->khugepaged->wake_ns : UINT64_MAX;
}

bool khugepaged_wait_full_scans(struct mimicos *os, uint64_t *now_ns, unsigned int full_scans,
				uint64_t timeout_ns)
{
	struct khugepaged *kh = os->khugepaged;
	uint64_t deadline = *now_ns + timeout_ns, target;

	if (!kh) {
		*now_ns = deadline;
		return false;
	}
	/* The count is read first: a pass due now has not run yet (see khugepaged.h). */
	target = kh->stats.full_scans + full_scans;
	run_due(os, *now_ns, false);
	while (kh->stats.full_scans < target) {
		if (kh->wake_ns > deadline) {
			run_due(os, deadline, true);
			*now_ns = deadline;
			return kh->stats.full_scans >= target;
		}
		*now_ns = kh->wake_ns;
		run_due(os, *now_ns, true);
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* MADV_COLLAPSE.                                                          */

static int madvise_collapse_errno(enum scan_result r)
{
	switch (r) {
	case SCAN_ALLOC_HUGE_PAGE_FAIL:
		return -ENOMEM;
	case SCAN_CGROUP_CHARGE_FAIL:
	case SCAN_EXCEED_NONE_PTE:
		return -EBUSY;
	case SCAN_PAGE_COUNT:
	case SCAN_PAGE_LOCK:
	case SCAN_PAGE_LRU:
	case SCAN_DEL_PAGE_LRU:
	case SCAN_PAGE_FILLED:
		return -EAGAIN;
	default:
		return -EINVAL;
	}
}

int madvise_collapse(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		     uint64_t now_ns)
{
	struct mm_struct *mm = vma->vm_mm;
	struct collapse_control cc = { .is_khugepaged = false, .now_ns = now_ns };
	enum scan_result last_fail = SCAN_FAIL;
	unsigned long hstart, hend, addr;
	unsigned long thps = 0;

	mimicos_check(vma->vm_start <= start && end <= vma->vm_end, "madvise_collapse outside its VMA");
	if (!mm->mem)
		return -EINVAL;
	if (!thp_vma_allowable_order(&mm->mem->os->thp, vma, vma->vm_flags, mm->mem->flags,
				     TVA_FORCED_COLLAPSE, PMD_ORDER))
		return -EINVAL;
	lru_add_drain_all(mm->mem->os);
	hstart = (start + HPAGE_PMD_SIZE - 1) & HPAGE_PMD_MASK;
	hend = end & HPAGE_PMD_MASK;
	for (addr = hstart; addr < hend; addr += HPAGE_PMD_SIZE) {
		enum scan_result result = hpage_collapse_scan_pmd(mm, vma, addr, &cc);

		switch (result) {
		case SCAN_SUCCEED:
		case SCAN_PMD_MAPPED:
			++thps;
			break;
		/* Whitelisted set of results where continuing is OK. */
		case SCAN_PMD_NULL:
		case SCAN_PTE_NON_PRESENT:
		case SCAN_PTE_UFFD_WP:
		case SCAN_LACK_REFERENCED_PAGE:
		case SCAN_PAGE_NULL:
		case SCAN_PAGE_COUNT:
		case SCAN_PAGE_LOCK:
		case SCAN_PAGE_COMPOUND:
		case SCAN_PAGE_LRU:
		case SCAN_DEL_PAGE_LRU:
			last_fail = result;
			break;
		default:
			last_fail = result;
			goto out;
		}
	}
out:
	return hend > hstart && thps == (hend - hstart) / HPAGE_PMD_SIZE ? 0
		: madvise_collapse_errno(last_fail);
}

/* ---------------------------------------------------------------------- */

int khugepaged_init(struct mimicos *os)
{
	os->khugepaged = calloc(1, sizeof(*os->khugepaged));
	if (!os->khugepaged)
		return -ENOMEM;
	os->khugepaged->wake_ns = UINT64_MAX;
	os->khugepaged->cursor = -1;
	return 0;
}

void khugepaged_release(struct mimicos *os)
{
	if (!os->khugepaged)
		return;
	free(os->khugepaged->slots);
	free(os->khugepaged);
	os->khugepaged = NULL;
}

const struct khugepaged_stats *khugepaged_stats(const struct mimicos *os)
{
	static const struct khugepaged_stats none;

	return os->khugepaged ? &os->khugepaged->stats : &none;
}

void khugepaged_set_trace(struct mimicos *os, const struct khugepaged_trace *t)
{
	if (os->khugepaged)
		os->khugepaged->trace = t ? *t : (struct khugepaged_trace){ 0 };
}
