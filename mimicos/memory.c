/*
 * memory.c - the anonymous fault path (see memory.h for the branches).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mimicos/internal.h"
#include "mimicos/khugepaged.h"
#include "mimicos/memory.h"
#include "mimicos/mimicos.h"
#include "mimicos/mmap.h"
#include "workload/event.h"
#include "workload/x86.h"


/* ---------------------------------------------------------------------- */
/* Folios.                                                                 */

/* The slot of pfn, making its section when 'make'; NULL when none (or out of memory). */
static struct folio *folio_slot(struct folio_table *t, unsigned long pfn, bool make)
{
	size_t sec = pfn >> FOLIO_SECTION_SHIFT;

	if (sec >= t->nr_sections || !t->sections[sec]) {
		struct folio *f;

		if (!make)
			return NULL;
		if (sec >= t->nr_sections) {
			size_t n = t->nr_sections ? t->nr_sections : 8;
			struct folio **ns;

			while (n <= sec)
				n *= 2;
			if (!(ns = realloc(t->sections, n * sizeof(*ns))))
				return NULL;
			memset(ns + t->nr_sections, 0, (n - t->nr_sections) * sizeof(*ns));
			t->sections = ns;
			t->nr_sections = n;
		}
		if (!(f = malloc(FOLIO_SECTION_PAGES * sizeof(*f))))
			return NULL;
		for (size_t i = 0; i < FOLIO_SECTION_PAGES; i++)
			f[i].pfn = PFN_NONE;
		t->sections[sec] = f;
	}
	return &t->sections[sec][pfn & (FOLIO_SECTION_PAGES - 1)];
}

static struct folio *folio_lookup(struct mimicos *os, unsigned long head)
{
	struct folio *f = folio_slot(&os->folios, head, false);

	return f && f->pfn == head ? f : NULL;
}

static void folio_table_erase(struct folio_table *t, struct folio *f)
{
	f->pfn = PFN_NONE;
	t->nr--;
}

static void folio_table_release(struct folio_table *t)
{
	for (size_t i = 0; i < t->nr_sections; i++)
		free(t->sections[i]);
	free(t->sections);
	memset(t, 0, sizeof(*t));
}

struct folio *pfn_folio(struct mimicos *os, unsigned long pfn)
{
	unsigned int o;

	for (o = 0; o <= HPAGE_PMD_ORDER; o++) {
		struct folio *f = folio_lookup(os, pfn & ~((1UL << o) - 1));

		if (f && f->order == o)
			return f;
	}
	return NULL;
}

struct folio *folio_record(struct mimicos *os, unsigned long pfn, unsigned int order)
{
	struct folio *f = folio_slot(&os->folios, pfn, true);

	if (!f)
		return NULL;
	mimicos_check(f->pfn == PFN_NONE, "pfn %#lx recorded twice", pfn);
	*f = (struct folio){ .pfn = pfn, .order = (uint8_t)order, .refcount = 1 };
	os->folios.nr++;
	return f;
}

void folio_forget(struct mimicos *os, struct folio *f)
{
	lru_batch_forget(os, f->pfn);
	folio_table_erase(&os->folios, f);
}

struct folio *vma_alloc_folio(struct mimicos *os, gfp_t gfp, unsigned int order)
{
	long pfn = __alloc_pages(&os->zone, gfp, order, os->cpu);
	struct folio *f;

	if (pfn < 0)
		return NULL;
	if (!(f = folio_record(os, (unsigned long)pfn, order)))
		__free_pages(&os->zone, (unsigned long)pfn, order, os->cpu);
	return f;
}

/* folio_put(): drop a reference; the last one frees the pages. */
void folio_put_refs(struct mimicos *os, struct folio *f, int refs)
{
	mimicos_check(f->refcount >= refs, "folio %#lx refcount %d - %d", f->pfn, f->refcount, refs);
	f->refcount -= refs;
	if (f->refcount)
		return;
	mimicos_check(!f->mapcount, "freeing folio %#lx still mapped %d times", f->pfn, f->mapcount);
	if (f->flags & FOLIO_PARTIALLY_MAPPED)
		folio_unqueue_deferred_split(os, f);
	lru_batch_forget(os, f->pfn);
	__free_pages(&os->zone, f->pfn, f->order, os->cpu);
	folio_table_erase(&os->folios, f);
}

void folio_zero_range(struct mm_mem *mem, unsigned long pfn, unsigned int order)
{
	const struct pgtable_trace *tr = &mem->pgtable.trace;

	if (tr->zero)
		tr->zero(tr->ctx, (uint64_t)pfn << PAGE_SHIFT, PAGE_SIZE << order);
}

/* folio_zero_user(): clear the folio; reported as one bulk clear. */
void folio_zero_user(struct vm_fault *vmf, const struct folio *f)
{
	folio_zero_range(vmf->mem, f->pfn, f->order);
}

void __folio_set_anon(struct folio *f, const struct vm_area_struct *vma, unsigned long address)
{
	f->mapping = vma->vm_mm->mem;
	f->index = (address & ~((PAGE_SIZE << f->order) - 1)) >> PAGE_SHIFT;
}

/* folio_add_new_anon_rmap(RMAP_EXCLUSIVE) for 'nr' mappings of its pages. */
void folio_add_new_anon_rmap(struct folio *f, int nr)
{
	f->flags |= FOLIO_ANON | FOLIO_ANON_EXCLUSIVE;
	f->mapcount += nr;
}

/* ---------------------------------------------------------------------- */
/* The kernel instance and the zero pages.                                 */

/* ---------------------------------------------------------------------- */
/* Events (memory.h: struct mimicos_event_sink).                           */

void mimicos_emit(struct mimicos *os, struct vt_event *ev)
{
	const struct cpu_tlbstate *c = &os->cpus[os->cpu];

	ev->ts = os->now_ns;
	ev->tid = c->task;
	ev->phase = c->phase;
	ev->cpu = os->cpu;
	os->events.event(os->events.ctx, ev);
}

static struct vt_alloc vt_alloc_of(unsigned long pfn, unsigned int order, gfp_t gfp, int cause)
{
	return (struct vt_alloc){ .pfn = pfn, .gfp = gfp, .order = (__u8)order,
				  .migratetype = (__u8)gfp_migratetype(gfp), .cause = (__u8)cause };
}

/* The zone's allocation hook: the page trace first, then the events. */
static void zone_alloc_observed(void *ctx, unsigned long pfn, unsigned int order, gfp_t gfp)
{
	struct mimicos *os = ctx;
	struct vt_event ev = { .type = VT_ALLOC };

	if (os->page_trace.alloc)
		os->page_trace.alloc(os->page_trace.ctx, pfn, order, gfp);
	if (!os->events.event)
		return;
	if (os->fault_ev) {		/* folded into the fault's record */
		if (os->fault_ev->fault.nr_allocs < VT_FAULT_ALLOCS)
			os->fault_ev->fault.alloc[os->fault_ev->fault.nr_allocs] =
				vt_alloc_of(pfn, order, gfp, VT_CAUSE_FAULT);
		if (os->fault_ev->fault.nr_allocs < UINT8_MAX)
			os->fault_ev->fault.nr_allocs++;
		return;
	}
	if (os->alloc_cause != MIMICOS_CAUSE_OTHER && !os->collapse.has_alloc) {
		/* the collapse's THP: its record carries it */
		os->collapse.has_alloc = true;
		os->collapse.pfn = pfn;
		os->collapse.order = order;
		os->collapse.gfp = gfp;
		return;
	}
	ev.alloc = vt_alloc_of(pfn, order, gfp, os->alloc_cause);
	mimicos_emit(os, &ev);
}

/* The zone's refill hook: to the page trace alone (the log has allocations and frees). */
static void zone_refill_observed(void *ctx, unsigned int order, int blocks)
{
	struct mimicos *os = ctx;

	if (os->page_trace.refill)
		os->page_trace.refill(os->page_trace.ctx, order, blocks);
}

static void zone_free_observed(void *ctx, unsigned long pfn, unsigned int order)
{
	struct mimicos *os = ctx;
	struct vt_event ev = { .type = VT_FREE };

	if (os->page_trace.free)
		os->page_trace.free(os->page_trace.ctx, pfn, order);
	if (!os->events.event)
		return;
	if (os->alloc_cause != MIMICOS_CAUSE_OTHER)
		os->collapse.freed += 1u << order;
	ev.free.pfn = pfn;
	ev.free.order = order;
	mimicos_emit(os, &ev);
}


int mimicos_init(struct mimicos *os, const struct zone_config *zc,
		 const struct thp_settings *thp)
{
	long pfn;
	int err;

	memset(os, 0, sizeof(*os));
	if (thp)
		os->thp = *thp;
	else
		thp_settings_init(&os->thp);
	vm_events_init(&os->ev);
	os->huge_zero_pfn = PFN_NONE;
	err = zone_init(&os->zone, zc);
	if (err)
		return err;
	err = physmem_init(&os->physmem, &os->zone);
	if (err)
		goto out_zone;
	/* ZERO_PAGE(0): reserved before anything runs; the pcp refill goes back. */
	pfn = __alloc_pages(&os->zone, GFP_KERNEL, 0, 0);
	if (pfn < 0) {
		err = -ENOMEM;
		goto out_physmem;
	}
	drain_local_pages(&os->zone, 0);
	os->zero_pfn = (unsigned long)pfn;
	err = lru_batches_init(os, os->zone.nr_cpus);
	if (err)
		goto out_physmem;
	os->zone.shrinker.scan = deferred_split_shrinker;
	os->zone.shrinker.ctx = os;
	os->zone.trace = (struct zone_trace){ .alloc = zone_alloc_observed,
					      .free = zone_free_observed,
					      .refill = zone_refill_observed, .ctx = os };
	os->phase = VT_NO_PHASE;
	tlb_cpus_init(os);
	return 0;
out_physmem:
	physmem_release(&os->physmem);
out_zone:
	zone_release(&os->zone);
	return err;
}

void mimicos_release(struct mimicos *os)
{
	if (os->policy && os->policy->release)
		os->policy->release(os);
	folio_table_release(&os->folios);
	free(os->deferred_split.pfns);
	lru_batches_release(os);
	physmem_release(&os->physmem);
	zone_release(&os->zone);
	memset(os, 0, sizeof(*os));
}

/* ---------------------------------------------------------------------- */
/* Helpers.                                                                */

pgprot_t vma_page_prot(const struct vm_area_struct *vma)
{
	return vm_get_page_prot(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED));
}

pte_t maybe_mkwrite(pte_t pte, const struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_WRITE) ? pte_mkwrite(pte, vma) : pte;
}

static bool pmd_write(pmd_t pmd)
{
	return pmd_val(pmd) & _PAGE_RW;
}

void add_mm_counter(struct mm_mem *mem, int member, long value)
{
	struct mimicos *os = mem->os;

	mem->rss_stat[member] += value;
	mimicos_check(mem->rss_stat[member] >= 0, "rss counter %d below 0", member);
	if (os->events.event && !os->fault_ev && value) {	/* trace_rss_stat() */
		struct vt_event ev = { .type = VT_RSS };

		ev.rss.size = mem->rss_stat[member] * (long)PAGE_SIZE;
		ev.rss.member = member;
		mimicos_emit(os, &ev);
	}
}

void vmf_set_result(struct vm_fault *vmf, uint64_t size, unsigned long start,
		    unsigned long end, unsigned long pfn, bool zero)
{
	struct fault_result *r = vmf->res;

	/* A split then a COW in one fault: the range covers both. */
	if (r->start < r->end) {
		start = start < r->start ? start : r->start;
		end = end > r->end ? end : r->end;
	}
	r->page_size = size;
	r->start = start;
	r->end = end;
	r->pfn = pfn;
	r->zero_page = zero;
}

/* create_huge_pmd(): anonymous VMAs only. */
static vm_fault_t create_huge_pmd(struct vm_fault *vmf)
{
	return do_huge_pmd_anonymous_page(vmf);
}

/* ---------------------------------------------------------------------- */
/* PTE level (mm/memory.c).                                                */

/* pte_range_none(): all 'nr' PTEs from ptep are none (each read is traced). */
static bool pte_range_none(struct mm_pgtable *pt, uint64_t ptep, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!pte_none(ptep_get(pt, ptep + 8ULL * i)))
			return false;
	return true;
}

/* alloc_anon_folio(): the mTHP order choice, then order 0. NULL: OOM. */
static struct folio *alloc_anon_folio(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mimicos *os = vmf->os;
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long orders, addr;
	struct folio *f;
	pmd_t pmd;
	int order;

	orders = thp_vma_allowable_orders(&os->thp, vma, vma->vm_flags, vmf->mem->flags,
					  TVA_PAGEFAULT, BIT(PMD_ORDER) - 1);
	orders = thp_vma_suitable_orders(vma, vmf->address, orders);
	if (!orders)
		goto fallback;

	/* The highest order whose aligned range is all pte_none. */
	pmd = pmdp_get(pt, vmf->pmd);
	order = highest_order(orders);
	while (orders) {
		addr = vmf->address & ~((PAGE_SIZE << order) - 1);
		if (pte_range_none(pt, pte_offset(pmd, addr), 1u << order))
			break;
		order = next_order(&orders, order);
	}
	if (!orders)
		goto fallback;

	while (orders) {
		f = vma_alloc_folio(os, vma_thp_gfp_mask(&os->thp, vma->vm_flags & VM_HUGEPAGE),
				    (unsigned int)order);
		if (f) {
			folio_zero_user(vmf, f);
			return f;
		}
		count_mthp_stat(&os->ev, order, MTHP_STAT_ANON_FAULT_FALLBACK);
		order = next_order(&orders, order);
	}
fallback:
	/* folio_prealloc(need_zero): GFP_HIGHUSER_MOVABLE | __GFP_ZERO */
	f = vma_alloc_folio(os, GFP_HIGHUSER_MOVABLE, 0);
	if (f)
		folio_zero_user(vmf, f);
	return f;
}

/* do_anonymous_page() */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long addr = vmf->address;
	unsigned int nr_pages, i;
	struct folio *f;
	pte_t entry;
	pmd_t pmd;
	uint64_t ptep;

	if (vma->vm_flags & VM_SHARED)
		return VM_FAULT_SIGBUS;
	/* pte_alloc() */
	pmd = pmdp_get(pt, vmf->pmd);
	if (pmd_none(pmd)) {
		if (__pte_alloc(pt, vmf->pmd))
			return VM_FAULT_OOM;
		pmd = pmdp_get(pt, vmf->pmd);
	}

	/* Use the zero-page for reads. */
	if (!(vmf->flags & FAULT_FLAG_WRITE)) {
		entry = pfn_pte(vmf->os->zero_pfn, vma_page_prot(vma));
		entry = __pte(pte_val(entry) | _PAGE_SPECIAL);	/* pte_mkspecial() */
		ptep = pte_offset(pmd, addr);
		if (!pte_none(ptep_get(pt, ptep)))		/* vmf_pte_changed() */
			return 0;
		set_pte_at(pt, addr, ptep, entry);
		vmf_set_result(vmf, PAGE_SIZE, addr & PAGE_MASK, (addr & PAGE_MASK) + PAGE_SIZE,
			vmf->os->zero_pfn, true);
		return 0;
	}

	anon_vma_prepare(vma);		/* vmf_anon_prepare() */
	f = alloc_anon_folio(vmf);
	if (!f)
		return VM_FAULT_OOM;
	nr_pages = 1u << f->order;
	addr = vmf->address & ~((PAGE_SIZE << f->order) - 1);
	vmf->res->order = f->order;

	entry = pfn_pte(f->pfn, vma_page_prot(vma));
	if (vma->vm_flags & VM_WRITE)
		entry = pte_mkwrite(pte_mkdirty(entry), vma);
	ptep = pte_offset(pmd, addr);
	/* Rechecks under the PTE lock (vmf_pte_changed(), pte_range_none()). */
	if (nr_pages == 1)
		mimicos_check(pte_none(ptep_get(pt, ptep)), "PTE filled under a fault");
	else
		mimicos_check(pte_range_none(pt, ptep, nr_pages), "PTEs filled under a fault");

	f->refcount += (int)nr_pages - 1;	/* folio_ref_add(nr - 1) */
	add_mm_counter(vmf->mem, MM_ANONPAGES, nr_pages);
	count_mthp_stat(&vmf->os->ev, f->order, MTHP_STAT_ANON_FAULT_ALLOC);
	__folio_set_anon(f, vma, addr);
	folio_add_new_anon_rmap(f, (int)nr_pages);
	folio_add_lru(vmf->os, f);		/* folio_add_lru_vma() */
	for (i = 0; i < nr_pages; i++)		/* set_ptes() */
		set_pte_at(pt, addr + i * PAGE_SIZE, ptep + 8ULL * i,
			   __pte(pte_val(entry) + ((uint64_t)i << PAGE_SHIFT)));
	vmf_set_result(vmf, PAGE_SIZE, addr, addr + nr_pages * PAGE_SIZE,
		f->pfn + ((vmf->address - addr) >> PAGE_SHIFT), false);
	return 0;
}

/* wp_page_copy(): a new order-0 page replaces the read-only one (always order 0). */
static vm_fault_t wp_page_copy(struct vm_fault *vmf, struct folio *old)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long addr = vmf->address & PAGE_MASK;
	struct folio *f;
	pte_t entry;

	anon_vma_prepare(vma);		/* vmf_anon_prepare() */
	/* folio_prealloc(need_zero = is_zero_pfn) */
	f = vma_alloc_folio(vmf->os, GFP_HIGHUSER_MOVABLE, 0);
	if (!f)
		return VM_FAULT_OOM;
	if (is_zero_pfn(vmf->os, pte_pfn(vmf->orig_pte)))
		folio_zero_user(vmf, f);
	/* else __wp_page_copy_user(): a copy, not modelled in the trace yet */
	vmf->res->order = 0;
	mimicos_check(pte_val(ptep_get(pt, vmf->pte)) == pte_val(vmf->orig_pte),
		      "PTE changed under a COW fault");
	if (!old)
		add_mm_counter(vmf->mem, MM_ANONPAGES, 1);
	entry = pfn_pte(f->pfn, vma_page_prot(vma));
	entry = maybe_mkwrite(pte_mkdirty(entry), vma);
	pte_clear(pt, addr, vmf->pte);		/* ptep_clear_flush() */
	fault_flush(vmf, 1);
	__folio_set_anon(f, vma, addr);
	folio_add_new_anon_rmap(f, 1);
	folio_add_lru(vmf->os, f);		/* folio_add_lru_vma() */
	set_pte_at(pt, addr, vmf->pte, entry);
	if (old) {				/* folio_remove_rmap_pte() + folio_put() */
		old->mapcount--;
		folio_put_refs(vmf->os, old, 1);
	}
	vmf_set_result(vmf, PAGE_SIZE, addr, addr + PAGE_SIZE, f->pfn, false);
	return 0;
}

/* do_wp_page(): a write to a present read-only PTE. */
static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long pfn = pte_pfn(vmf->orig_pte);
	unsigned long addr = vmf->address & PAGE_MASK;
	struct folio *f = NULL;
	pte_t entry;

	/* vm_normal_page(): NULL for the (special) zero page. */
	if (!(pte_val(vmf->orig_pte) & _PAGE_SPECIAL))
		f = pfn_folio(vmf->os, pfn);
	if (f && (f->flags & FOLIO_ANON) && (f->flags & FOLIO_ANON_EXCLUSIVE)) {
		/* wp_page_reuse(): ptep_set_access_flags(), no flush on x86 */
		entry = pte_mkyoung(vmf->orig_pte);
		entry = maybe_mkwrite(pte_mkdirty(entry), vmf->vma);
		set_pte_at(pt, addr, vmf->pte, entry);
		vmf_set_result(vmf, PAGE_SIZE, addr, addr + PAGE_SIZE, pfn, false);
		return 0;
	}
	return wp_page_copy(vmf, f);
}

/* handle_pte_fault() */
static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	pmd_t pmd = pmdp_get(pt, vmf->pmd);
	pte_t entry;

	mimicos_check(!pmd_trans_huge(pmd), "handle_pte_fault on a huge PMD");
	if (pmd_none(pmd))
		return do_anonymous_page(vmf);
	vmf->pte = pte_offset(pmd, vmf->address);
	vmf->orig_pte = ptep_get(pt, vmf->pte);
	if (pte_none(vmf->orig_pte))
		return do_anonymous_page(vmf);
	mimicos_check(pte_present(vmf->orig_pte), "non-present PTE %#llx (no swap here)",
		      (unsigned long long)pte_val(vmf->orig_pte));

	vmf->res->pfn = pte_pfn(vmf->orig_pte);
	vmf->res->zero_page = is_zero_pfn(vmf->os, vmf->res->pfn);
	entry = vmf->orig_pte;
	if (vmf->flags & FAULT_FLAG_WRITE) {
		if (!pte_write(entry))
			return do_wp_page(vmf);
		entry = pte_mkdirty(entry);
	}
	entry = pte_mkyoung(entry);
	/* ptep_set_access_flags(): x86 writes only for a write fault that changes it. */
	if ((vmf->flags & FAULT_FLAG_WRITE) && pte_val(entry) != pte_val(vmf->orig_pte)) {
		unsigned long addr = vmf->address & PAGE_MASK;

		set_pte_at(pt, addr, vmf->pte, entry);
		vmf->res->page_size = PAGE_SIZE;
		vmf->res->start = addr;
		vmf->res->end = addr + PAGE_SIZE;
	}
	return 0;
}

/* __handle_mm_fault() */
static vm_fault_t __handle_mm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	vm_fault_t ret;

	vmf->pmd = walk_to_pmd(pt, vmf->address);
	if (vmf->pmd == PHYS_ADDR_NONE)
		return VM_FAULT_OOM;
	vmf->orig_pmd = pmdp_get(pt, vmf->pmd);
	if (vmf->os->policy && vmf->os->policy->anon_fault) {
		ret = vmf->os->policy->anon_fault(vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
		vmf->orig_pmd = pmdp_get(pt, vmf->pmd);	/* the policy may have filled it */
	}
	if (pmd_none(vmf->orig_pmd) &&
	    thp_vma_allowable_order(&vmf->os->thp, vma, vma->vm_flags, vmf->mem->flags,
				    TVA_PAGEFAULT, PMD_ORDER)) {
		ret = create_huge_pmd(vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
	} else if (pmd_trans_huge(vmf->orig_pmd)) {
		if ((vmf->flags & FAULT_FLAG_RACED) &&
		    thp_vma_allowable_order(&vmf->os->thp, vma, vma->vm_flags, vmf->mem->flags,
					    TVA_PAGEFAULT, PMD_ORDER))
			return do_huge_pmd_lost_race(vmf);
		if ((vmf->flags & FAULT_FLAG_WRITE) && !pmd_write(vmf->orig_pmd)) {
			ret = do_huge_pmd_wp_page(vmf);		/* wp_huge_pmd() */
			if (!(ret & VM_FAULT_FALLBACK))
				return ret;
		} else {
			huge_pmd_set_accessed(vmf);
			return 0;
		}
	}
	return handle_pte_fault(vmf);
}

/* x86 access_error(): may this access touch this VMA at all? */
static bool access_error(unsigned int flags, const struct vm_area_struct *vma)
{
	if (flags & FAULT_FLAG_WRITE)
		return !(vma->vm_flags & VM_WRITE);
	if (flags & FAULT_FLAG_INSTRUCTION)
		return !(vma->vm_flags & VM_EXEC);
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

/* The fault's record, open while it runs (allocations fold into it). */
static void fault_event_open(struct mm_mem *mem, unsigned long address, unsigned int flags,
			     struct vt_event *ev)
{
	struct pgtable_walk w;

	memset(ev, 0, sizeof(*ev));
	ev->type = VT_FAULT;
	ev->fault.addr = address;
	/* x86 error_code: P (a present entry refused the access), W, U, I */
	/* a raced fault's walk found the entry empty, before the other CPU filled it */
	ev->fault.error_code = (!(flags & FAULT_FLAG_RACED) &&
				pgtable_walk(&mem->pgtable, address, &w) ? X86_PF_PROT : 0u) |
			       (flags & FAULT_FLAG_WRITE ? X86_PF_WRITE : 0u) |
			       (flags & FAULT_FLAG_USER ? X86_PF_USER : 0u) |
			       (flags & FAULT_FLAG_INSTRUCTION ? X86_PF_INSTR : 0u);
	mem->os->fault_ev = ev;
}

/* Close and send the fault's record (ev NULL: one that never ran). */
static void fault_event(struct mm_mem *mem, unsigned long address, unsigned int flags,
			const struct fault_result *out, struct vt_event *ev)
{
	struct vt_event local;

	if (!ev) {
		fault_event_open(mem, address, flags, &local);
		mem->os->fault_ev = NULL;
		ev = &local;
	}
	ev->fault.completed = !(out->ret & VM_FAULT_ERROR);
	ev->fault.rss_anon = mem->rss_stat[MM_ANONPAGES] * (long)PAGE_SIZE;
	mimicos_emit(mem->os, ev);
}

vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags, struct fault_result *out)
{
	struct fault_result local;
	struct vm_fault vmf;
	vm_fault_t ret;

	if (!out)
		out = &local;
	*out = (struct fault_result){ .order = -1, .pfn = PFN_NONE };
	/* bad_area() / access_error() of do_user_addr_fault(): no pgfault */
	if (!vma || address < vma->vm_start || address >= vma->vm_end ||
	    access_error(flags, vma)) {
		out->ret = VM_FAULT_SIGSEGV;
		if (vma && vma->vm_mm->mem && vma->vm_mm->mem->os->events.event)
			fault_event(vma->vm_mm->mem, address, flags, out, NULL);
		return out->ret;
	}
	mimicos_check(vma->vm_mm && vma->vm_mm->mem, "fault in an mm without mm_mem_init()");
	vmf = (struct vm_fault){
		.vma = vma,
		.mm = vma->vm_mm,
		.mem = vma->vm_mm->mem,
		.os = vma->vm_mm->mem->os,
		.address = address,
		.flags = flags,
		.pte = PHYS_ADDR_NONE,
		.res = out,
	};
	if (vmf.os->events.event) {
		struct vt_event ev;

		fault_event_open(vmf.mem, address, flags, &ev);
		ret = __handle_mm_fault(&vmf);
		vmf.os->fault_ev = NULL;
		out->ret = ret;
		fault_event(vmf.mem, address, flags, out, &ev);
	} else {
		ret = __handle_mm_fault(&vmf);
	}
	mimicos_check(!(ret & VM_FAULT_FALLBACK), "fallback escaped the fault path");
	if (ret & VM_FAULT_ERROR) {
		out->page_size = 0;
		out->start = out->end = 0;
	}
	/* mm_account_fault() */
	count_vm_event(&vmf.os->ev, PGFAULT);
	out->ret = ret;
	return ret;
}

vm_fault_t do_user_addr_fault(struct mm_struct *mm, unsigned long address,
			      unsigned int flags, struct fault_result *out)
{
	return handle_mm_fault(find_vma(mm, address), address, flags, out);
}

/* ---------------------------------------------------------------------- */
/* Per-mm state, teardown and the class query.                             */

/* tlb_gather_mmu() */
void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_mem *mem)
{
	*tlb = (struct mmu_gather){ .mem = mem, .start = ~0UL, .end = 0 };
}

/* __tlb_adjust_range() */
void tlb_adjust_range(struct mmu_gather *tlb, unsigned long addr, unsigned long size)
{
	if (addr < tlb->start)
		tlb->start = addr;
	if (addr + size > tlb->end)
		tlb->end = addr + size;
}

/* x86's tlb_single_page_flush_ceiling: past it, flush_tlb_mm_range() flushes all. */
#define TLB_SINGLE_PAGE_FLUSH_CEILING	33

static long flush_pages(unsigned long start, unsigned long end)
{
	unsigned long pages = (end - start) >> PAGE_SHIFT;

	return pages > TLB_SINGLE_PAGE_FLUSH_CEILING ? -1 : (long)pages;
}

/* Inside a fault (its COW, a split it makes) or a system call. */
static uint8_t flush_source(const struct mimicos *os)
{
	return os->fault_ev ? VT_TLB_SRC_FAULT : VT_TLB_SRC_SYSCALL;
}

void flush_tlb_range(struct mm_mem *mem, unsigned long start, unsigned long end)
{
	flush_tlb_mm_range(mem, mem->os->cpu, start, end, flush_pages(start, end), false, true,
			   flush_source(mem->os));
}

void flush_tlb_range_remote(struct mm_mem *mem, unsigned long start, unsigned long end)
{
	flush_tlb_mm_range(mem, KHUGEPAGED_CPU, start, end, flush_pages(start, end), false, true,
			   VT_TLB_SRC_KHUGEPAGED);
}

/*
 * The fault's own flush of the entry it replaces (ptep_clear_flush(),
 * pmdp_huge_clear_flush()): the fault result carries the range for the
 * TLBs; this is who it reaches. A PTE flushes one page; a huge PMD, as this
 * host's tlb:tlb_flush records it (zero-page-huge), the whole TLB.
 */
void fault_flush(struct vm_fault *vmf, long pages)
{
	vmf->res->tlb_flush = true;
	flush_tlb_mm_range(vmf->vma->vm_mm->mem, vmf->os->cpu, 0, 0, pages, false, false,
			   VT_TLB_SRC_FAULT);
}

/* tlb_finish_mmu(): flush what was gathered, if anything. */
void tlb_finish_mmu(struct mmu_gather *tlb)
{
	if (tlb->start < tlb->end)
		flush_tlb_mm_range(tlb->mem, tlb->mem->os->cpu, tlb->start, tlb->end,
				   flush_pages(tlb->start, tlb->end), tlb->freed_tables, true,
				   flush_source(tlb->mem->os));
}

/* mm_find_pmd() without allocating: the PMD entry's address, or PHYS_ADDR_NONE. */
uint64_t mm_find_pmd(struct mm_pgtable *pt, unsigned long addr)
{
	uint64_t pgdp = pgd_offset(pt, addr), p4dp;
	pgd_t pgd = __pgd(0);
	p4d_t p4d;
	pud_t pud;

	if (pgtable_l5_enabled(pt)) {
		pgd = pgdp_get(pt, pgdp);
		if (pgd_none(pgd))
			return PHYS_ADDR_NONE;
	}
	p4dp = p4d_offset(pt, pgdp, pgd, addr);
	p4d = p4dp_get(pt, p4dp);
	if (p4d_none(p4d))
		return PHYS_ADDR_NONE;
	pud = pudp_get(pt, pud_offset(p4d, addr));
	if (pud_none(pud))
		return PHYS_ADDR_NONE;
	return pmd_offset(pud, addr);
}

/* folio_remove_rmap_ptes()/_pmd(): a large folio left partly mapped is queued. */
void folio_remove_rmap(struct mimicos *os, struct folio *f, int nr)
{
	mimicos_check(f->mapcount >= nr, "folio %#lx mapcount %d - %d", f->pfn, f->mapcount, nr);
	f->mapcount -= nr;
	if (f->mapcount && (f->flags & FOLIO_ANON))
		deferred_split_folio(os, f);
}

/* zap_pte_range() of one PTE table over [addr, end), a folio's PTEs at a time. */
static void zap_pte_range(struct mmu_gather *tlb, pmd_t pmd, unsigned long addr,
			  unsigned long end)
{
	struct mm_mem *mem = tlb->mem;
	struct mm_pgtable *pt = &mem->pgtable;

	while (addr < end) {
		uint64_t ptep = pte_offset(pmd, addr);
		pte_t pte = ptep_get(pt, ptep);
		unsigned long pfn = pte_pfn(pte), last;
		struct folio *f;
		int nr;

		if (pte_none(pte)) {
			addr += PAGE_SIZE;
			continue;
		}
		pte_clear(pt, addr, ptep);
		tlb_adjust_range(tlb, addr, PAGE_SIZE);
		if (pte_val(pte) & _PAGE_SPECIAL) {	/* vm_normal_page(): the zero page */
			mimicos_check(is_zero_pfn(mem->os, pfn), "special PTE at %#lx maps %#lx",
				      addr, pfn);
			addr += PAGE_SIZE;
			continue;
		}
		f = pfn_folio(mem->os, pfn);
		mimicos_check(f, "PTE at %#lx maps pfn %#lx, no folio", addr, pfn);
		/* folio_pte_batch(): the next PTEs mapping the next pages of f */
		last = f->pfn + (1UL << f->order);
		for (nr = 1, addr += PAGE_SIZE; addr < end && pfn + (unsigned long)nr < last;
		     nr++, addr += PAGE_SIZE) {
			uint64_t p = pte_offset(pmd, addr);
			pte_t next = ptep_get(pt, p);

			if (!pte_present(next) || (pte_val(next) & _PAGE_SPECIAL) ||
			    pte_pfn(next) != pfn + (unsigned long)nr)
				break;
			pte_clear(pt, addr, p);
			tlb_adjust_range(tlb, addr, PAGE_SIZE);
		}
		add_mm_counter(mem, MM_ANONPAGES, -nr);
		folio_remove_rmap(mem->os, f, nr);	/* folio_remove_rmap_ptes() */
		folio_put_refs(mem->os, f, nr);
	}
}

/*
 * unmap_page_range() -> zap_pmd_range() of [addr, end) in 'vma' (NULL: exit,
 * where every huge PMD met lies wholly inside a VMA).
 */
static void unmap_page_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
			     unsigned long addr, unsigned long end)
{
	struct mm_pgtable *pt = &tlb->mem->pgtable;

	while (addr < end) {
		unsigned long next = pmd_addr_end(addr, end);
		uint64_t pmdp = mm_find_pmd(pt, addr);
		pmd_t pmd;

		if (pmdp == PHYS_ADDR_NONE)
			goto next;
		pmd = pmdp_get(pt, pmdp);
		if (pmd_trans_huge(pmd)) {
			if (next - addr == HPAGE_PMD_SIZE) {
				zap_huge_pmd(tlb, pmdp, pmd, addr);
				goto next;
			}
			mimicos_check(vma, "partial zap of a huge PMD at %#lx with no VMA", addr);
			__split_huge_pmd_locked(tlb->mem, vma, pmdp, addr & HPAGE_PMD_MASK);
			pmd = pmdp_get(pt, pmdp);
		}
		if (!pmd_none(pmd))
			zap_pte_range(tlb, pmd, addr, next);
next:
		addr = next;
	}
}

/* A policy module gives back what it holds in [start, end) before a zap. */
static void policy_unmap(struct mm_mem *mem, unsigned long start, unsigned long end)
{
	if (mem->os->policy && mem->os->policy->unmap)
		mem->os->policy->unmap(mem->os, mem, start, end);
}

/* The unmap_range hook: unmap_region() of one VMA that munmap() removes. */
static void mm_hook_unmap_range(void *priv, struct mm_struct *mm, unsigned long start,
				unsigned long end)
{
	struct vm_area_struct *vma = find_vma(mm, start);
	unsigned long floor = 0, ceiling = 0;	/* FIRST_USER_ADDRESS, USER_PGTABLES_CEILING */
	struct mmu_gather tlb;
	long tables;

	(void)priv;
	if (!mm->mem)
		return;
	if (vma && vma->vm_start < end) {
		if (vma->vm_prev)
			floor = vma->vm_prev->vm_end;
		if (vma->vm_next)
			ceiling = vma->vm_next->vm_start;
	}
	policy_unmap(mm->mem, start, end);
	lru_add_drain(mm->mem->os);
	tlb_gather_mmu(&tlb, mm->mem);
	unmap_page_range(&tlb, vma && vma->vm_start < end ? vma : NULL, start, end);
	tables = mm->mem->pgtable.pgtables_bytes;
	free_pgtables(&mm->mem->pgtable, start, end, floor, ceiling);
	/* pte_free_tlb() and its kin: the flush must reach lazy CPUs too */
	tlb.freed_tables = mm->mem->pgtable.pgtables_bytes < tables;
	tlb_finish_mmu(&tlb);
}

/* The madvise_dontneed hook: zap_page_range_single(); the tables stay. */
static int mm_hook_madvise_dontneed(void *priv, struct vm_area_struct *vma,
				    unsigned long start, unsigned long end)
{
	struct mmu_gather tlb;

	(void)priv;
	if (!vma->vm_mm->mem)
		return 0;
	policy_unmap(vma->vm_mm->mem, start, end);
	lru_add_drain(vma->vm_mm->mem->os);	/* zap_page_range_single_batched() */
	tlb_gather_mmu(&tlb, vma->vm_mm->mem);
	unmap_page_range(&tlb, vma, start, end);
	tlb_finish_mmu(&tlb);
	return 0;
}

/*
 * The adjust_trans_huge hook: vma_adjust_trans_huge() ->
 * split_huge_pmd_if_needed(vma, addr).
 */
static void mm_hook_adjust_trans_huge(void *priv, struct vm_area_struct *vma,
				      unsigned long addr)
{
	unsigned long haddr = addr & HPAGE_PMD_MASK;

	(void)priv;
	if (!vma->vm_mm->mem || !(addr & ~HPAGE_PMD_MASK))
		return;
	if (haddr < vma->vm_start || haddr + HPAGE_PMD_SIZE > vma->vm_end)
		return;
	split_huge_pmd_address(vma->vm_mm->mem, vma, addr);
}

static uint64_t pte_modify_val(uint64_t val, pgprot_t newprot)
{
	return (val & _PAGE_CHG_MASK) | (pgprot_val(newprot) & ~_PAGE_CHG_MASK);
}

/* x86 pte_needs_flush() (also pmd_needs_flush()): does the old TLB entry matter? */
bool entry_needs_flush(uint64_t oldval, uint64_t newval, uint64_t pfn_mask)
{
	const uint64_t flush_on_clear = _PAGE_DIRTY | _PAGE_PRESENT;	/* ACCESSED ignored */
	const uint64_t flush_on_change = _PAGE_RW | _PAGE_USER | _PAGE_PWT | _PAGE_PCD |
					 _PAGE_PSE | _PAGE_GLOBAL | _PAGE_NX;
	uint64_t diff = (oldval ^ newval) & ~pfn_mask;

	if (!(oldval & _PAGE_PRESENT))
		return false;
	if ((oldval & pfn_mask) != (newval & pfn_mask))
		return true;
	return (diff & oldval & flush_on_clear) || (diff & flush_on_change);
}

/* can_change_pte_writable() for a private VMA: an exclusive anonymous page. */
bool can_change_writable(struct mimicos *os, uint64_t val, unsigned long pfn)
{
	struct folio *f;

	/* vm_normal_page() is NULL for the zero pages; pte_protnone() is never upgraded */
	if ((val & _PAGE_SPECIAL) || !(val & _PAGE_PRESENT))
		return false;
	f = pfn_folio(os, pfn);
	return f && (f->flags & FOLIO_ANON) && (f->flags & FOLIO_ANON_EXCLUSIVE);
}

/* The change_protection hook: change_protection() -> change_pmd_range() of [start, end). */
static void mm_hook_change_protection(void *priv, struct vm_area_struct *vma,
				      unsigned long start, unsigned long end)
{
	struct mm_mem *mem = vma->vm_mm->mem;
	struct mm_pgtable *pt;
	struct mmu_gather tlb;
	pgprot_t newprot = vma_page_prot(vma);
	/* MM_CP_TRY_CHANGE_WRITABLE: vma_wants_manual_pte_write_upgrade() */
	bool try_writable = vma->vm_flags & VM_WRITE;
	unsigned long addr = start;

	(void)priv;
	if (!mem)
		return;
	pt = &mem->pgtable;
	tlb_gather_mmu(&tlb, mem);
	while (addr < end) {
		unsigned long next = pmd_addr_end(addr, end);
		uint64_t pmdp = mm_find_pmd(pt, addr);
		pmd_t pmd;

		if (pmdp == PHYS_ADDR_NONE)
			goto next;
		pmd = pmdp_get(pt, pmdp);
		if (pmd_trans_huge(pmd)) {
			if (next - addr == HPAGE_PMD_SIZE) {
				change_huge_pmd(&tlb, pmdp, pmd, addr, newprot, try_writable);
				goto next;
			}
			__split_huge_pmd_locked(mem, vma, pmdp, addr & HPAGE_PMD_MASK);
			pmd = pmdp_get(pt, pmdp);
		}
		if (pmd_none(pmd))
			goto next;
		for (; addr < next; addr += PAGE_SIZE) {	/* change_pte_range() */
			uint64_t ptep = pte_offset(pmd, addr);
			pte_t pte = ptep_get(pt, ptep);
			uint64_t val;

			if (!pte_present(pte))
				continue;
			val = pte_modify_val(pte_val(pte), newprot);
			if (try_writable && !(val & _PAGE_RW) &&
			    can_change_writable(mem->os, val, pte_pfn(pte)))
				val |= _PAGE_RW;
			if (val == pte_val(pte))
				continue;
			set_pte_at(pt, addr, ptep, __pte(val));	/* ptep_modify_prot_commit() */
			if (entry_needs_flush(pte_val(pte), val, PTE_PFN_MASK))
				tlb_adjust_range(&tlb, addr, PAGE_SIZE);
		}
next:
		addr = next;
	}
	tlb_finish_mmu(&tlb);
}

int mm_mem_init(struct mimicos *os, struct mm_struct *mm, struct mm_mem *mem,
		unsigned int levels)
{
	int err;

	memset(mem, 0, sizeof(*mem));
	mem->os = os;
	err = pgd_alloc(&mem->pgtable, &os->physmem, levels, os->cpu);
	if (err)
		return err;
	tlb_mm_init(mem, os->now_ns);
	/* the CPU that made it runs it, as exec() leaves a process on its CPU */
	switch_mm(os, os->cpu, mem, os->cpus[os->cpu].task);
	mm->mem = mem;
	mm->hooks.unmap_range = mm_hook_unmap_range;
	mm->hooks.adjust_trans_huge = mm_hook_adjust_trans_huge;
	mm->hooks.change_protection = mm_hook_change_protection;
	mm->hooks.madvise_dontneed = mm_hook_madvise_dontneed;
	return 0;
}

/* What an mm's exit leaves after its pages: the policy's state, the huge zero folio, the hooks. */
static void mm_mem_detach(struct mm_struct *mm)
{
	struct mm_mem *mem = mm->mem;

	if (mem->os->policy && mem->os->policy->release_mm)
		mem->os->policy->release_mm(mem->os, mem);
	if (mem->huge_zero_folio)	/* mm_put_huge_zero_folio() */
		mem->os->huge_zero_refcount--;
	mm->hooks.unmap_range = NULL;
	mm->hooks.adjust_trans_huge = NULL;
	mm->hooks.change_protection = NULL;
	mm->hooks.madvise_dontneed = NULL;
	mm->mem = NULL;
}

void mm_mem_discard(struct mm_struct *mm)
{
	if (mm->mem)
		mm_mem_detach(mm);
}

void mm_mem_release(struct mm_struct *mm)
{
	struct mm_mem *mem = mm->mem;
	struct vm_area_struct *vma, *last = NULL;
	struct mmu_gather tlb;

	if (!mem)
		return;
	/* exit_mmap(): unmap_vmas() then free_pgtables() over every VMA */
	for_each_vma(mm, vma)
		policy_unmap(mem, vma->vm_start, vma->vm_end);
	tlb_gather_mmu(&tlb, mem);
	for_each_vma(mm, vma) {
		unmap_page_range(&tlb, vma, vma->vm_start, vma->vm_end);
		last = vma;
	}
	if (last)
		free_pgd_range(&mem->pgtable, mm->mmap->vm_start, last->vm_end, 0, 0);
	/* fullmm: the whole address space's entries go with it; no range to report */
	pgd_free(&mem->pgtable);
	mm_mem_detach(mm);
}

enum page_class mm_page_class(struct mm_struct *mm, unsigned long va)
{
	const struct mm_pgtable *pt = &mm->mem->pgtable;
	const struct physmem *pm = pt->physmem;
	const struct mimicos *os = mm->mem->os;
	uint64_t pgdp = pgd_offset(pt, va);
	pgd_t pgd = __pgd(phys_read64(pm, pgdp));
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;
	pte_t pte;

	if (pgtable_l5_enabled(pt) && !pgd_present(pgd))
		return PAGE_CLASS_NONE;
	p4d = __p4d(phys_read64(pm, p4d_offset(pt, pgdp, pgd, va)));
	if (!p4d_present(p4d))
		return PAGE_CLASS_NONE;
	pud = __pud(phys_read64(pm, pud_offset(p4d, va)));
	if (!pud_present(pud))
		return PAGE_CLASS_NONE;
	pmd = __pmd(phys_read64(pm, pmd_offset(pud, va)));
	if (pmd_none(pmd))
		return PAGE_CLASS_NONE;
	if (pmd_trans_huge(pmd))
		return is_huge_zero_pfn(os, pmd_pfn(pmd)) ? PAGE_CLASS_ZERO : PAGE_CLASS_PMD;
	pte = __pte(phys_read64(pm, pte_offset(pmd, va)));
	if (!pte_present(pte))
		return PAGE_CLASS_NONE;
	return is_zero_pfn(os, pte_pfn(pte)) ? PAGE_CLASS_ZERO : PAGE_CLASS_PTE;
}

void mm_page_classes(struct mm_struct *mm, unsigned long start, unsigned long len,
		     uint64_t counts[PAGE_CLASS_NR])
{
	unsigned long va;

	for (va = start & PAGE_MASK; va < start + len; va += PAGE_SIZE)
		counts[mm_page_class(mm, va)]++;
}
