/*
 * huge_memory.c - THP/mTHP policy (include/linux/huge_mm.h, mm/huge_memory.c
 * and the khugepaged knobs of mm/khugepaged.c), then mm/huge_memory.c's
 * mechanisms: the huge zero folio, PMD-level faults, splitting, zapping and
 * changing a huge PMD, the deferred split. See huge_memory.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mimicos/huge_memory.h"
#include "mimicos/internal.h"
#include "mimicos/mmap.h"
#include "workload/spec.h"

void mimicos_modules_init(struct mimicos_modules *m)
{
	m->thp = true;
	m->mthp = true;
	m->huge_zero_page = true;
	m->khugepaged = true;
}

void thp_settings_init(struct thp_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->enabled = THP_ENABLED_MADVISE;
	s->defrag = THP_DEFRAG_MADVISE;
	s->use_zero_page = true;
	for (int order = 0; order <= PMD_ORDER; order++)
		s->size[order] = THP_SIZE_NEVER;
	s->size[PMD_ORDER] = THP_SIZE_INHERIT;	/* huge_anon_orders_inherit = BIT(PMD_ORDER) */
	/* khugepaged.c: khugepaged_init() */
	s->khugepaged.scan_sleep_millisecs = 10000;
	s->khugepaged.alloc_sleep_millisecs = 60000;
	s->khugepaged.pages_to_scan = HPAGE_PMD_NR * 8;
	s->khugepaged.max_ptes_none = HPAGE_PMD_NR - 1;
	s->khugepaged.max_ptes_swap = HPAGE_PMD_NR / 8;
	s->khugepaged.max_ptes_shared = HPAGE_PMD_NR / 2;
	s->khugepaged.defrag = true;
	mimicos_modules_init(&s->modules);
}

/* A khugepaged value within [min, max], as the sysfs store would accept it. */
static int khugepaged_value(const struct wl_kernel *k, enum wl_khugepaged_key key,
			    int64_t min, int64_t max, unsigned int *out)
{
	int64_t v = k->khugepaged[key];

	if (v < min || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int thp_settings_from_spec(struct thp_settings *s, const struct wl_kernel *k,
			   const struct mimicos_modules *modules)
{
	static const enum thp_enabled enabled[] = {
		[WL_THP_ALWAYS] = THP_ENABLED_ALWAYS, [WL_THP_MADVISE] = THP_ENABLED_MADVISE,
		[WL_THP_NEVER] = THP_ENABLED_NEVER,
	};
	static const enum thp_defrag defrag[] = {
		[WL_DEFRAG_ALWAYS] = THP_DEFRAG_ALWAYS, [WL_DEFRAG_DEFER] = THP_DEFRAG_DEFER,
		[WL_DEFRAG_DEFER_MADVISE] = THP_DEFRAG_DEFER_MADVISE,
		[WL_DEFRAG_MADVISE] = THP_DEFRAG_MADVISE, [WL_DEFRAG_NEVER] = THP_DEFRAG_NEVER,
	};
	static const enum thp_size_mode size[] = {
		[WL_MTHP_ALWAYS] = THP_SIZE_ALWAYS, [WL_MTHP_INHERIT] = THP_SIZE_INHERIT,
		[WL_MTHP_MADVISE] = THP_SIZE_MADVISE, [WL_MTHP_NEVER] = THP_SIZE_NEVER,
	};
	struct thp_settings t;
	struct khugepaged_settings *khp = &t.khugepaged;
	unsigned int khp_defrag;
	const unsigned int nr = HPAGE_PMD_NR;

	thp_settings_init(s);
	thp_settings_init(&t);
	if (modules)
		t.modules = *modules;

	if (k->thp == WL_THP_HOST || (unsigned)k->thp > WL_THP_NEVER)
		return -EINVAL;
	t.enabled = enabled[k->thp];
	if (k->defrag == WL_DEFRAG_HOST || (unsigned)k->defrag > WL_DEFRAG_NEVER)
		return -EINVAL;
	t.defrag = defrag[k->defrag];
	if (k->use_zero_page != 0 && k->use_zero_page != 1)
		return -EINVAL;
	t.use_zero_page = k->use_zero_page;
	for (int i = 0; i < WL_MTHP_NR; i++) {
		enum wl_mthp_mode m = k->mthp[i];

		if (m == WL_MTHP_HOST || (unsigned)m > WL_MTHP_NEVER)
			return -EINVAL;
		t.size[WL_MTHP_MIN_ORDER + i] = size[m];
	}
	/* Limits of the khugepaged sysfs stores (mm/khugepaged.c). */
	if (khugepaged_value(k, WL_KHP_SCAN_SLEEP_MS, 0, UINT32_MAX, &khp->scan_sleep_millisecs) ||
	    khugepaged_value(k, WL_KHP_ALLOC_SLEEP_MS, 0, UINT32_MAX, &khp->alloc_sleep_millisecs) ||
	    khugepaged_value(k, WL_KHP_PAGES_TO_SCAN, 1, UINT32_MAX, &khp->pages_to_scan) ||
	    khugepaged_value(k, WL_KHP_MAX_PTES_NONE, 0, nr - 1, &khp->max_ptes_none) ||
	    khugepaged_value(k, WL_KHP_MAX_PTES_SWAP, 0, nr - 1, &khp->max_ptes_swap) ||
	    khugepaged_value(k, WL_KHP_MAX_PTES_SHARED, 0, nr - 1, &khp->max_ptes_shared) ||
	    khugepaged_value(k, WL_KHP_DEFRAG, 0, 1, &khp_defrag))
		return -EINVAL;
	khp->defrag = khp_defrag;
	*s = t;
	return 0;
}

const char *thp_enabled_name(enum thp_enabled v)
{
	return (unsigned)v < THP_ENABLED_NR ? thp_enabled_names[v] : "?";
}

const char *thp_defrag_name(enum thp_defrag v)
{
	return (unsigned)v < THP_DEFRAG_NR ? thp_defrag_names[v] : "?";
}

const char *thp_size_mode_name(enum thp_size_mode v)
{
	return (unsigned)v < THP_SIZE_NR ? thp_size_mode_names[v] : "?";
}

unsigned long thp_orders_supported(const struct thp_settings *s)
{
	if (!s->modules.thp)
		return 0;
	return s->modules.mthp ? THP_ORDERS_ALL_ANON : BIT(PMD_ORDER);
}

unsigned long huge_anon_orders(const struct thp_settings *s, enum thp_size_mode mode)
{
	unsigned long supported = thp_orders_supported(s), mask = 0;

	for (int order = 0; order <= PMD_ORDER; order++)
		if ((supported & BIT(order)) && s->size[order] == mode)
			mask |= BIT(order);
	return mask;
}

bool hugepage_pmd_enabled(const struct thp_settings *s)
{
	unsigned long pmd = BIT(PMD_ORDER);

	if (huge_anon_orders(s, THP_SIZE_ALWAYS) & pmd)
		return true;
	if (huge_anon_orders(s, THP_SIZE_MADVISE) & pmd)
		return true;
	return (huge_anon_orders(s, THP_SIZE_INHERIT) & pmd) && hugepage_global_enabled(s);
}

bool vma_thp_disabled(vm_flags_t vm_flags, unsigned long mm_flags, bool forced_collapse)
{
	/* Are THPs disabled for this VMA? */
	if (vm_flags & VM_NOHUGEPAGE)
		return true;
	/* ... for every VMA of the process? */
	if (mm_flags & BIT(MMF_DISABLE_THP_COMPLETELY))
		return true;
	/* ... only where there is no explicit advice (VM_HUGEPAGE, MADV_COLLAPSE)? */
	if (vm_flags & VM_HUGEPAGE)
		return false;
	if (forced_collapse)
		return false;
	return mm_flags & BIT(MMF_DISABLE_THP_EXCEPT_ADVISED);
}

/* __thp_vma_allowable_orders(), anonymous VMAs. */
static unsigned long __thp_vma_allowable_orders(const struct thp_settings *s,
						const struct vm_area_struct *vma,
						vm_flags_t vm_flags, unsigned long mm_flags,
						enum tva_type type, unsigned long orders)
{
	const bool smaps = type == TVA_SMAPS;
	const bool in_pf = type == TVA_PAGEFAULT;
	const bool forced_collapse = type == TVA_FORCED_COLLAPSE;

	orders &= thp_orders_supported(s);
	if (!orders)
		return 0;
	if (!vma->vm_mm)	/* vdso */
		return 0;
	if (vma_thp_disabled(vm_flags, mm_flags, forced_collapse))
		return 0;
	/*
	 * Linux next drops khugepaged and collapse for VM_NO_KHUGEPAGED (VM_SPECIAL,
	 * VM_HUGETLB): MimicOS's anonymous VMAs never carry those bits.
	 *
	 * Outside the fault path (which checks the address itself), keep only the
	 * orders whose aligned block fits at the VMA's end; all lower orders fit
	 * when one does.
	 */
	if (!in_pf) {
		int order = highest_order(orders);

		while (orders) {
			unsigned long addr = vma->vm_end - (PAGE_SIZE << order);

			if (vma->vm_end - vma->vm_start >= (PAGE_SIZE << order) &&
			    thp_vma_suitable_order(vma, addr, order))
				break;
			order = next_order(&orders, order);
		}
		if (!orders)
			return 0;
	}
	if (vma_is_temporary_stack(vma))
		return 0;
	/*
	 * smaps shows THPeligible 1 before the first fault, and a fault may come
	 * before anon_vma_prepare(); khugepaged needs the anon_vma.
	 */
	if (!vma->anon_vma)
		return (smaps || in_pf) ? orders : 0;
	return orders;
}

unsigned long thp_vma_allowable_orders(const struct thp_settings *s,
				       const struct vm_area_struct *vma,
				       vm_flags_t vm_flags, unsigned long mm_flags,
				       enum tva_type type, unsigned long orders)
{
	/* The sysfs knobs, which only a forced collapse ignores. */
	if (type != TVA_FORCED_COLLAPSE) {
		unsigned long mask = huge_anon_orders(s, THP_SIZE_ALWAYS);

		if (vm_flags & VM_HUGEPAGE)
			mask |= huge_anon_orders(s, THP_SIZE_MADVISE);
		if (hugepage_global_always(s) ||
		    ((vm_flags & VM_HUGEPAGE) && hugepage_global_enabled(s)))
			mask |= huge_anon_orders(s, THP_SIZE_INHERIT);
		orders &= mask;
		if (!orders)
			return 0;
	}
	return __thp_vma_allowable_orders(s, vma, vm_flags, mm_flags, type, orders);
}

unsigned long thp_vma_suitable_orders(const struct vm_area_struct *vma,
				      unsigned long addr, unsigned long orders)
{
	int order = highest_order(orders);

	/* Highest to lowest: once one order fits, every lower one does. */
	while (orders) {
		if (thp_vma_suitable_order(vma, addr, order))
			break;
		order = next_order(&orders, order);
	}
	return orders;
}

gfp_t vma_thp_gfp_mask(const struct thp_settings *s, bool vma_madvised)
{
	switch (s->defrag) {
	case THP_DEFRAG_ALWAYS:		/* always do synchronous compaction */
		return GFP_TRANSHUGE | (vma_madvised ? 0 : __GFP_NORETRY);
	case THP_DEFRAG_DEFER:		/* kick kcompactd and fail quickly */
		return GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM;
	case THP_DEFRAG_DEFER_MADVISE:	/* direct if madvised, else kcompactd */
		return GFP_TRANSHUGE_LIGHT |
		       (vma_madvised ? __GFP_DIRECT_RECLAIM : __GFP_KSWAPD_RECLAIM);
	case THP_DEFRAG_MADVISE:	/* direct only if madvised */
		return GFP_TRANSHUGE_LIGHT | (vma_madvised ? __GFP_DIRECT_RECLAIM : 0);
	case THP_DEFRAG_NEVER:
		break;
	}
	return GFP_TRANSHUGE_LIGHT;
}

/* ---------------------------------------------------------------------- */
/* The huge zero folio.                                                    */

/* get_huge_zero_folio(): allocate it on first use. */
static bool get_huge_zero_folio(struct mimicos *os)
{
	long pfn;

	if (os->huge_zero_refcount) {
		os->huge_zero_refcount++;
		return true;
	}
	pfn = __alloc_pages(&os->zone, GFP_TRANSHUGE & ~__GFP_MOVABLE, HPAGE_PMD_ORDER, os->cpu);
	if (pfn < 0) {
		count_vm_event(&os->ev, THP_ZERO_PAGE_ALLOC_FAILED);
		return false;
	}
	os->huge_zero_pfn = (unsigned long)pfn;
	/* One for the caller, one held until the shrinker would free it. */
	os->huge_zero_refcount = 2;
	count_vm_event(&os->ev, THP_ZERO_PAGE_ALLOC);
	return true;
}

/* mm_get_huge_zero_folio(): the mm takes one reference, on first use. */
static bool mm_get_huge_zero_folio(struct mm_mem *mem)
{
	if (mem->huge_zero_folio)
		return true;
	if (!get_huge_zero_folio(mem->os))
		return false;
	mem->huge_zero_folio = true;
	return true;
}

/* ---------------------------------------------------------------------- */
/* PMD-level faults.                                                       */

pmd_t maybe_pmd_mkwrite(pmd_t pmd, const struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_WRITE) ? pmd_mkwrite_novma(pmd) : pmd;
}

/* vma_alloc_anon_folio_pmd(): an order-9 folio, zeroed; NULL after counting the fallback. */
static struct folio *vma_alloc_anon_folio_pmd(struct vm_fault *vmf)
{
	const struct thp_settings *s = &vmf->os->thp;
	gfp_t gfp = vma_thp_gfp_mask(s, vmf->vma->vm_flags & VM_HUGEPAGE);
	struct folio *f = vma_alloc_folio(vmf->os, gfp, HPAGE_PMD_ORDER);

	if (!f) {
		count_vm_event(&vmf->os->ev, THP_FAULT_FALLBACK);
		count_mthp_stat(&vmf->os->ev, HPAGE_PMD_ORDER, MTHP_STAT_ANON_FAULT_FALLBACK);
		return NULL;
	}
	folio_zero_user(vmf, f);
	vmf->res->order = HPAGE_PMD_ORDER;
	return f;
}

/* map_anon_folio_pmd_pf(): map a new THP at the PMD and count the fault-time THP. */
static void map_anon_folio_pmd_pf(struct vm_fault *vmf, struct folio *f)
{
	unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
	pmd_t entry = pmd_mkhuge(pfn_pmd(f->pfn, vma_page_prot(vmf->vma)));

	entry = maybe_pmd_mkwrite(pmd_mkdirty(entry), vmf->vma);
	__folio_set_anon(f, vmf->vma, haddr);
	folio_add_new_anon_rmap(f, 1);
	folio_add_lru(vmf->os, f);		/* folio_add_lru_vma() */
	set_pmd_at(&vmf->mem->pgtable, haddr, vmf->pmd, entry);
	add_mm_counter(vmf->mem, MM_ANONPAGES, HPAGE_PMD_NR);
	count_vm_event(&vmf->os->ev, THP_FAULT_ALLOC);
	count_mthp_stat(&vmf->os->ev, HPAGE_PMD_ORDER, MTHP_STAT_ANON_FAULT_ALLOC);
	vmf_set_result(vmf, PMD_SIZE, haddr, haddr + HPAGE_PMD_SIZE,
		       f->pfn + pte_index(vmf->address), false);
}

/* __do_huge_pmd_anonymous_page() */
static vm_fault_t __do_huge_pmd_anonymous_page(struct vm_fault *vmf)
{
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	struct folio *f = vma_alloc_anon_folio_pmd(vmf);
	long pgtable;

	if (!f)
		return VM_FAULT_FALLBACK;
	pgtable = pte_alloc_one(pt);
	if (pgtable < 0) {
		vmf->res->order = -1;
		folio_put_refs(vmf->os, f, 1);
		return VM_FAULT_OOM;
	}
	mimicos_check(pmd_none(pmdp_get(pt, vmf->pmd)), "PMD filled under a THP fault");
	pgtable_trans_huge_deposit(pt, vmf->pmd, (pgtable_t)pgtable);
	map_anon_folio_pmd_pf(vmf, f);
	mm_inc_nr_ptes(pt);
	return 0;
}

/* set_huge_zero_folio(): PMD-map the huge zero folio, depositing 'pgtable'. */
static void set_huge_zero_folio(struct vm_fault *vmf, pgtable_t pgtable)
{
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
	pmd_t entry = pmd_mkhuge(pfn_pmd(vmf->os->huge_zero_pfn, vma_page_prot(vmf->vma)));

	/* 6.18 marks huge zero PMDs special (pmd_mkspecial()). */
	entry = __pmd(pmd_val(entry) | _PAGE_SPECIAL);
	pgtable_trans_huge_deposit(pt, vmf->pmd, pgtable);
	set_pmd_at(pt, haddr, vmf->pmd, entry);
	mm_inc_nr_ptes(pt);
	vmf_set_result(vmf, PMD_SIZE, haddr, haddr + HPAGE_PMD_SIZE,
		vmf->os->huge_zero_pfn + pte_index(vmf->address), true);
}

/* do_huge_pmd_anonymous_page() */
vm_fault_t do_huge_pmd_lost_race(struct vm_fault *vmf)
{
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	struct folio *f;
	long pgtable;

	if (!(vmf->flags & FAULT_FLAG_WRITE) && transparent_hugepage_use_zero_page(&vmf->os->thp))
		return 0;	/* a read maps the huge zero folio: nothing of its own to give back */
	f = vma_alloc_anon_folio_pmd(vmf);
	if (!f)
		return 0;	/* it fell back, then found the PMD: spurious */
	vmf->res->page_size = HPAGE_PMD_SIZE;
	pgtable = pte_alloc_one(pt);
	/* under the PMD lock the PMD is not none: unlock_release */
	if (pgtable >= 0)
		pte_free(pt, (pgtable_t)pgtable);
	folio_put_refs(vmf->os, f, 1);
	return 0;
}

vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vmf->mm;
	unsigned long haddr = vmf->address & HPAGE_PMD_MASK;

	if (!thp_vma_suitable_order(vma, haddr, PMD_ORDER))
		return VM_FAULT_FALLBACK;
	anon_vma_prepare(vma);			/* vmf_anon_prepare() */
	if (mm->hooks.khugepaged_enter_vma)	/* khugepaged_enter_vma() */
		mm->hooks.khugepaged_enter_vma(mm->hooks.priv, vma);

	if (!(vmf->flags & FAULT_FLAG_WRITE) &&
	    transparent_hugepage_use_zero_page(&vmf->os->thp)) {
		struct mm_pgtable *pt = &vmf->mem->pgtable;
		long pgtable = pte_alloc_one(pt);

		if (pgtable < 0)
			return VM_FAULT_OOM;
		if (!mm_get_huge_zero_folio(vmf->mem)) {
			pte_free(pt, (pgtable_t)pgtable);
			count_vm_event(&vmf->os->ev, THP_FAULT_FALLBACK);
			return VM_FAULT_FALLBACK;
		}
		mimicos_check(pmd_none(pmdp_get(pt, vmf->pmd)), "PMD filled under a THP fault");
		set_huge_zero_folio(vmf, (pgtable_t)pgtable);
		return 0;
	}
	return __do_huge_pmd_anonymous_page(vmf);
}

/*
 * __split_huge_zero_page_pmd(): replace a huge zero PMD by the withdrawn PTE
 * table filled with 512 zero-page PTEs (thp_split_pmd counted by the caller).
 */
static void __split_huge_zero_page_pmd(struct mm_mem *mem, struct vm_area_struct *vma,
				       unsigned long haddr, uint64_t pmdp)
{
	struct mm_pgtable *pt = &mem->pgtable;
	pte_t entry = pfn_pte(mem->os->zero_pfn, vma_page_prot(vma));
	unsigned long addr;
	pgtable_t pgtable;
	pmd_t table;

	entry = __pte(pte_val(entry) | _PAGE_SPECIAL);	/* pte_mkspecial() */
	pmd_clear(pt, pmdp);				/* pmdp_huge_clear_flush() */
	pgtable = pgtable_trans_huge_withdraw(pt, pmdp);
	table = __pmd(((uint64_t)pgtable << PAGE_SHIFT) | _PAGE_TABLE);
	for (addr = haddr; addr < haddr + HPAGE_PMD_SIZE; addr += PAGE_SIZE)
		set_pte_at(pt, addr, pte_offset(table, addr), entry);
	set_pmd_at(pt, haddr, pmdp, table);		/* pmd_populate() */
}

/* do_huge_zero_wp_pmd() (6.18): replace the huge zero PMD by a new THP. */
static vm_fault_t do_huge_zero_wp_pmd(struct vm_fault *vmf)
{
	struct folio *f = vma_alloc_anon_folio_pmd(vmf);

	if (!f)
		return VM_FAULT_FALLBACK;
	pmd_clear(&vmf->mem->pgtable, vmf->pmd);	/* pmdp_huge_clear_flush() */
	fault_flush(vmf, -1);
	map_anon_folio_pmd_pf(vmf, f);			/* the deposit stays */
	return 0;
}

/* do_huge_pmd_wp_page(): a write to a read-only huge PMD. */
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf)
{
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
	struct folio *f;
	pmd_t entry;

	if (is_huge_zero_pfn(vmf->os, pmd_pfn(vmf->orig_pmd))) {
		vm_fault_t ret = do_huge_zero_wp_pmd(vmf);

		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
		/* fallback: __split_huge_pmd() */
		count_vm_event(&vmf->os->ev, THP_SPLIT_PMD);
		__split_huge_zero_page_pmd(vmf->mem, vmf->vma, haddr, vmf->pmd);
		fault_flush(vmf, -1);		/* its pmdp_huge_clear_flush() */
		vmf_set_result(vmf, PAGE_SIZE, haddr, haddr + HPAGE_PMD_SIZE,
			       vmf->os->zero_pfn, true);
		return VM_FAULT_FALLBACK;
	}
	f = pfn_folio(vmf->os, pmd_pfn(vmf->orig_pmd));
	mimicos_check(f && (f->flags & FOLIO_ANON_EXCLUSIVE),
		      "read-only THP at %#lx not exclusive (no fork here)", haddr);
	/* reuse: the folio is exclusive */
	entry = pmd_mkyoung(vmf->orig_pmd);
	entry = maybe_pmd_mkwrite(pmd_mkdirty(entry), vmf->vma);
	set_pmd_at(pt, haddr, vmf->pmd, entry);		/* pmdp_set_access_flags() */
	vmf_set_result(vmf, PMD_SIZE, haddr, haddr + HPAGE_PMD_SIZE,
		       pmd_pfn(entry) + pte_index(vmf->address), false);
	return 0;
}

/* huge_pmd_set_accessed(): touch_pmd(); writes only if the entry changes. */
void huge_pmd_set_accessed(struct vm_fault *vmf)
{
	pmd_t entry = pmd_mkyoung(vmf->orig_pmd);

	if (vmf->flags & FAULT_FLAG_WRITE)
		entry = pmd_mkdirty(entry);
	vmf->res->pfn = pmd_pfn(vmf->orig_pmd) + pte_index(vmf->address);
	vmf->res->zero_page = is_huge_zero_pfn(vmf->os, pmd_pfn(vmf->orig_pmd));
	if (pmd_val(entry) == pmd_val(vmf->orig_pmd))
		return;
	set_pmd_at(&vmf->mem->pgtable, vmf->address & HPAGE_PMD_MASK, vmf->pmd, entry);
	vmf->res->page_size = PMD_SIZE;
	vmf->res->start = vmf->address & HPAGE_PMD_MASK;
	vmf->res->end = vmf->res->start + HPAGE_PMD_SIZE;
}

/* ---------------------------------------------------------------------- */
/* Splitting, zapping and changing a huge PMD.                             */

/*
 * __split_huge_pmd_locked(): replace a huge PMD by the withdrawn PTE table
 * mapping the same pages (thp_split_pmd). The folio stays whole: it gains
 * 511 references and mappings (512 PTEs for the one PMD).
 */
void __split_huge_pmd_locked(struct mm_mem *mem, struct vm_area_struct *vma,
				    uint64_t pmdp, unsigned long haddr)
{
	struct mm_pgtable *pt = &mem->pgtable;
	struct mimicos *os = mem->os;
	pmd_t old = pmdp_get(pt, pmdp), table;
	unsigned long pfn = pmd_pfn(old), i;
	pgtable_t pgtable;
	struct folio *f;
	pte_t entry;

	mimicos_check(pmd_trans_huge(old), "splitting a PMD that is not huge at %#lx", haddr);
	count_vm_event(&os->ev, THP_SPLIT_PMD);
	if (is_huge_zero_pfn(os, pfn)) {
		__split_huge_zero_page_pmd(mem, vma, haddr, pmdp);
		flush_tlb_range(mem, haddr, haddr + HPAGE_PMD_SIZE);
		return;
	}
	f = pfn_folio(os, pfn);
	mimicos_check(f && f->order == HPAGE_PMD_ORDER, "huge PMD at %#lx without a THP", haddr);
	pmd_clear(pt, pmdp);				/* pmdp_invalidate() */
	flush_tlb_range(mem, haddr, haddr + HPAGE_PMD_SIZE);
	pgtable = pgtable_trans_huge_withdraw(pt, pmdp);
	table = __pmd(((uint64_t)pgtable << PAGE_SHIFT) | _PAGE_TABLE);

	/* folio_mk_pte(vm_page_prot) + the PMD's write, young and dirty bits */
	entry = pfn_pte(pfn, vma_page_prot(vma));
	if (pmd_val(old) & _PAGE_RW)
		entry = pte_mkwrite(entry, vma);
	if (!(pmd_val(old) & _PAGE_ACCESSED))
		entry = pte_mkold(entry);
	if (pmd_val(old) & _PAGE_DIRTY)
		entry = pte_mkdirty(entry);
	/*
	 * folio_ref_add(), folio_add_anon_rmap_ptes(512), then
	 * folio_remove_rmap_pmd(): no page became unmapped, so the folio is
	 * not partially mapped.
	 */
	f->refcount += HPAGE_PMD_NR - 1;
	f->mapcount += HPAGE_PMD_NR - 1;
	for (i = 0; i < HPAGE_PMD_NR; i++)		/* set_ptes() */
		set_pte_at(pt, haddr + i * PAGE_SIZE, pte_offset(table, haddr + i * PAGE_SIZE),
			   __pte(pte_val(entry) + ((uint64_t)i << PAGE_SHIFT)));
	set_pmd_at(pt, haddr, pmdp, table);		/* pmd_populate() */
}

/* split_huge_pmd_address(): split the huge PMD mapping 'address', if any. */
void split_huge_pmd_address(struct mm_mem *mem, struct vm_area_struct *vma,
				   unsigned long address)
{
	struct mm_pgtable *pt = &mem->pgtable;
	uint64_t pmdp = mm_find_pmd(pt, address);

	if (pmdp == PHYS_ADDR_NONE || !pmd_trans_huge(pmdp_get(pt, pmdp)))
		return;
	__split_huge_pmd_locked(mem, vma, pmdp, address & HPAGE_PMD_MASK);
}

/* zap_huge_pmd(): a huge PMD whose whole 2 MiB is being unmapped. */
void zap_huge_pmd(struct mmu_gather *tlb, uint64_t pmdp, pmd_t pmd, unsigned long haddr)
{
	struct mm_mem *mem = tlb->mem;
	struct mm_pgtable *pt = &mem->pgtable;
	struct folio *f;

	pmd_clear(pt, pmdp);				/* pmdp_huge_get_and_clear_full() */
	tlb_adjust_range(tlb, haddr, HPAGE_PMD_SIZE);	/* tlb_remove_pmd_tlb_entry() */
	pte_free(pt, pgtable_trans_huge_withdraw(pt, pmdp));	/* zap_deposited_table() */
	mm_dec_nr_ptes(pt);
	if (is_huge_zero_pfn(mem->os, pmd_pfn(pmd)))
		return;
	f = pfn_folio(mem->os, pmd_pfn(pmd));
	mimicos_check(f && f->order == HPAGE_PMD_ORDER, "huge PMD at %#lx without a THP", haddr);
	add_mm_counter(mem, MM_ANONPAGES, -HPAGE_PMD_NR);
	folio_remove_rmap(mem->os, f, 1);		/* folio_remove_rmap_pmd() */
	folio_put_refs(mem->os, f, 1);
}

static uint64_t pmd_modify_val(uint64_t val, pgprot_t newprot)
{
	const uint64_t keep = (_HPAGE_CHG_MASK & ~PTE_PFN_MASK) | PHYSICAL_PMD_PAGE_MASK;

	return (val & keep) | (pgprot_val(newprot) & ~keep);
}

/*
 * change_huge_pmd(): a huge PMD whose whole 2 MiB takes 'newprot'
 * (pmd_modify()), writable again if 'try_writable' and the folio is
 * exclusive; the range gathered in 'tlb' when the old entry needs a flush.
 */
void change_huge_pmd(struct mmu_gather *tlb, uint64_t pmdp, pmd_t pmd, unsigned long addr,
		     pgprot_t newprot, bool try_writable)
{
	struct mm_mem *mem = tlb->mem;
	uint64_t val = pmd_modify_val(pmd_val(pmd), newprot);

	if (try_writable && !(val & _PAGE_RW) &&
	    can_change_writable(mem->os, val, pmd_pfn(pmd)))
		val |= _PAGE_RW;
	if (val != pmd_val(pmd)) {
		set_pmd_at(&mem->pgtable, addr, pmdp, __pmd(val));
		if (entry_needs_flush(pmd_val(pmd), val, PHYSICAL_PMD_PAGE_MASK))
			tlb_adjust_range(tlb, addr, HPAGE_PMD_SIZE);
	}
}

/* ---------------------------------------------------------------------- */
/* The deferred split.                                                     */

/* folio_unqueue_deferred_split(): a freed folio leaves the queue. */
void folio_unqueue_deferred_split(struct mimicos *os, struct folio *f)
{
	struct deferred_split *q = &os->deferred_split;
	size_t i;

	for (i = 0; i < q->nr && q->pfns[i] != f->pfn; i++)
		;
	mimicos_check(i < q->nr, "partially mapped folio %#lx not queued", f->pfn);
	memmove(&q->pfns[i], &q->pfns[i + 1], (q->nr - i - 1) * sizeof(*q->pfns));
	q->nr--;
	f->flags &= ~FOLIO_PARTIALLY_MAPPED;
	mod_mthp_stat(&os->ev, f->order, MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, -1);
}

/*
 * deferred_split_folio(folio, partially_mapped = true): queue a large folio
 * that lost part of its mappings, counted once per folio.
 */
void deferred_split_folio(struct mimicos *os, struct folio *f)
{
	struct deferred_split *q = &os->deferred_split;

	if (f->order <= 1 || (f->flags & FOLIO_PARTIALLY_MAPPED))
		return;
	if (q->nr == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		unsigned long *n = realloc(q->pfns, cap * sizeof(*n));

		/* Linux's list_head cannot fail: running out of host memory is fatal here. */
		mimicos_check(n, "deferred split queue: out of host memory");
		q->pfns = n;
		q->cap = cap;
	}
	q->pfns[q->nr++] = f->pfn;
	f->flags |= FOLIO_PARTIALLY_MAPPED;
	if (f->order == HPAGE_PMD_ORDER)	/* folio_test_pmd_mappable() */
		count_vm_event(&os->ev, THP_DEFERRED_SPLIT_PAGE);
	count_mthp_stat(&os->ev, f->order, MTHP_STAT_SPLIT_DEFERRED);
	mod_mthp_stat(&os->ev, f->order, MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, 1);
}

/*
 * split_folio() of a queued, PTE-mapped anonymous folio into order-0 folios:
 * the rmap walk finds its PTEs through folio->mapping and ->index
 * (try_to_migrate() clears them, remap_page() sets them back: two writes
 * each and one flush of the folio's range); the pages still mapped become
 * order-0 folios, the others go back to the zone. false: not splittable (no
 * mapping, extra references, or PTEs that do not add up to its mapcount).
 */
static bool split_folio(struct mimicos *os, unsigned long head)
{
	struct folio *f = pfn_folio(os, head), old;
	struct mm_mem *mem;
	struct mm_pgtable *pt;
	unsigned long va, nr, i, mapped = 0;
	uint64_t pmdp;
	pmd_t pmd;

	if (!f || f->pfn != head || !f->mapping || f->refcount != f->mapcount)
		return false;
	old = *f;
	mem = old.mapping;
	pt = &mem->pgtable;
	nr = 1UL << old.order;
	va = old.index << PAGE_SHIFT;
	pmdp = mm_find_pmd(pt, va);
	if (pmdp == PHYS_ADDR_NONE)
		return false;
	pmd = pmdp_get(pt, pmdp);
	if (pmd_none(pmd) || pmd_trans_huge(pmd))	/* a PMD-mapped folio is not split here */
		return false;
	for (i = 0; i < nr; i++) {
		pte_t pte = ptep_get(pt, pte_offset(pmd, va + i * PAGE_SIZE));

		mapped += pte_present(pte) && !(pte_val(pte) & _PAGE_SPECIAL) &&
			  pte_pfn(pte) == head + i;
	}
	if (mapped != (unsigned long)old.mapcount)
		return false;

	folio_unqueue_deferred_split(os, f);
	folio_forget(os, f);
	split_page(&os->zone, head, old.order);
	for (i = 0; i < nr; i++) {
		uint64_t ptep = pte_offset(pmd, va + i * PAGE_SIZE);
		pte_t pte = ptep_get(pt, ptep);
		struct folio *n;

		if (pte_present(pte) && !(pte_val(pte) & _PAGE_SPECIAL) && pte_pfn(pte) == head + i) {
			pte_clear(pt, va + i * PAGE_SIZE, ptep);		/* try_to_migrate() */
			set_pte_at(pt, va + i * PAGE_SIZE, ptep, pte);		/* remap_page() */
			n = folio_record(os, head + i, 0);
			mimicos_check(n, "split: out of host memory for folio records");
			n->flags = old.flags & (FOLIO_ANON | FOLIO_ANON_EXCLUSIVE);
			n->mapcount = 1;
			n->mapping = mem;
			n->index = old.index + i;
		} else {
			__free_pages(&os->zone, head + i, 0, os->cpu);
		}
	}
	flush_tlb_range(mem, va, va + nr * PAGE_SIZE);
	if (old.order == HPAGE_PMD_ORDER)
		count_vm_event(&os->ev, THP_SPLIT_PAGE);
	count_mthp_stat(&os->ev, old.order, MTHP_STAT_SPLIT);
	return true;
}

unsigned long deferred_split_scan(struct mimicos *os, unsigned long nr_to_scan)
{
	struct deferred_split *q = &os->deferred_split;
	unsigned long split = 0, scanned = 0;
	size_t i = 0;

	while (i < q->nr && scanned < nr_to_scan) {
		unsigned long head = q->pfns[i];
		struct folio *f = pfn_folio(os, head);

		scanned++;
		if (split_folio(os, head)) {	/* left the queue: the next one moved to i */
			split++;
			continue;
		}
		if (f && f->order == HPAGE_PMD_ORDER)
			count_vm_event(&os->ev, THP_SPLIT_PAGE_FAILED);
		count_mthp_stat(&os->ev, f ? f->order : 0, MTHP_STAT_SPLIT_FAILED);
		i++;			/* stays queued (Linux puts it back) */
	}
	return split;
}


/* The deferred split queue's shrinker: all of it, as direct reclaim would scan it. */
unsigned long deferred_split_shrinker(void *ctx)
{
	struct mimicos *os = ctx;

	return os->deferred_split.nr ? deferred_split_scan(os, os->deferred_split.nr) : 0;
}
