/*
 * huge_memory.c - THP/mTHP policy (include/linux/huge_mm.h, mm/huge_memory.c
 * and the khugepaged knobs of mm/khugepaged.c). See huge_memory.h.
 */
#include <errno.h>
#include <string.h>

#include "mimicos/huge_memory.h"
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
