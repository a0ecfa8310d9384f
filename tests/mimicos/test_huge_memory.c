/*
 * test_huge_memory.c - THP/mTHP policy (huge_memory.h) and the counters
 * (vmstat.h).
 *
 * Every expectation is written by hand from Linux 6.18's rules (the facts
 * file, section 1; include/linux/huge_mm.h), not computed by the code under
 * test. The policy rule, for an anonymous VMA and one order of mode M:
 *   VM_NOHUGEPAGE                  -> never
 *   M = never                      -> never
 *   M = always                     -> always
 *   M = madvise                    -> iff VM_HUGEPAGE
 *   M = inherit                    -> iff global always, or VM_HUGEPAGE and global madvise
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <criterion/parameterized.h>

#include "mimicos/huge_memory.h"
#include "mimicos/vmstat.h"
#include "workload/spec.h"

#define KiB (1UL << 10)
#define MiB (1UL << 20)

/* Orders by size, spelled out so the tests do not compute them. */
#define O16K	2
#define O32K	3
#define O64K	4
#define O128K	5
#define O256K	6
#define O512K	7
#define O1M	8
#define O2M	9
#define ANON_ORDERS	0x3fcUL		/* orders 2..9 */
#define MTHP_ORDERS	0x1fcUL		/* orders 2..8 */

static struct mm_struct fake_mm;

/* An anonymous VMA that has faulted once (anon_vma set), 2 MiB aligned. */
static struct vm_area_struct vma_at(unsigned long start, unsigned long len, vm_flags_t extra)
{
	struct vm_area_struct v;

	memset(&v, 0, sizeof(v));
	v.vm_start = start;
	v.vm_end = start + len;
	v.vm_flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | extra;
	v.anon_vma = 1;
	v.vm_mm = &fake_mm;
	return v;
}

static unsigned long allowed(const struct thp_settings *s, const struct vm_area_struct *v,
			     enum tva_type type, unsigned long orders)
{
	return thp_vma_allowable_orders(s, v, v->vm_flags, 0, type, orders);
}

/* ---- the policy table: global x per-size x VMA advice ------------------- */

enum advice { ADV_HUGEPAGE, ADV_NONE, ADV_NOHUGEPAGE };

struct policy_row {
	enum thp_enabled global;
	enum thp_size_mode mode;
	enum advice advice;
	bool allowed;
};

ParameterizedTestParameters(huge_memory, policy_table)
{
	static struct policy_row rows[] = {
		/* global always */
		{ THP_ENABLED_ALWAYS, THP_SIZE_ALWAYS, ADV_HUGEPAGE, true },
		{ THP_ENABLED_ALWAYS, THP_SIZE_ALWAYS, ADV_NONE, true },
		{ THP_ENABLED_ALWAYS, THP_SIZE_ALWAYS, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_ALWAYS, THP_SIZE_INHERIT, ADV_HUGEPAGE, true },
		{ THP_ENABLED_ALWAYS, THP_SIZE_INHERIT, ADV_NONE, true },
		{ THP_ENABLED_ALWAYS, THP_SIZE_INHERIT, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_ALWAYS, THP_SIZE_MADVISE, ADV_HUGEPAGE, true },
		{ THP_ENABLED_ALWAYS, THP_SIZE_MADVISE, ADV_NONE, false },
		{ THP_ENABLED_ALWAYS, THP_SIZE_MADVISE, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_ALWAYS, THP_SIZE_NEVER, ADV_HUGEPAGE, false },
		{ THP_ENABLED_ALWAYS, THP_SIZE_NEVER, ADV_NONE, false },
		{ THP_ENABLED_ALWAYS, THP_SIZE_NEVER, ADV_NOHUGEPAGE, false },
		/* global madvise */
		{ THP_ENABLED_MADVISE, THP_SIZE_ALWAYS, ADV_HUGEPAGE, true },
		{ THP_ENABLED_MADVISE, THP_SIZE_ALWAYS, ADV_NONE, true },
		{ THP_ENABLED_MADVISE, THP_SIZE_ALWAYS, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_INHERIT, ADV_HUGEPAGE, true },
		{ THP_ENABLED_MADVISE, THP_SIZE_INHERIT, ADV_NONE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_INHERIT, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_MADVISE, ADV_HUGEPAGE, true },
		{ THP_ENABLED_MADVISE, THP_SIZE_MADVISE, ADV_NONE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_MADVISE, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_NEVER, ADV_HUGEPAGE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_NEVER, ADV_NONE, false },
		{ THP_ENABLED_MADVISE, THP_SIZE_NEVER, ADV_NOHUGEPAGE, false },
		/* global never */
		{ THP_ENABLED_NEVER, THP_SIZE_ALWAYS, ADV_HUGEPAGE, true },
		{ THP_ENABLED_NEVER, THP_SIZE_ALWAYS, ADV_NONE, true },
		{ THP_ENABLED_NEVER, THP_SIZE_ALWAYS, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_INHERIT, ADV_HUGEPAGE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_INHERIT, ADV_NONE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_INHERIT, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_MADVISE, ADV_HUGEPAGE, true },
		{ THP_ENABLED_NEVER, THP_SIZE_MADVISE, ADV_NONE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_MADVISE, ADV_NOHUGEPAGE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_NEVER, ADV_HUGEPAGE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_NEVER, ADV_NONE, false },
		{ THP_ENABLED_NEVER, THP_SIZE_NEVER, ADV_NOHUGEPAGE, false },
	};

	return cr_make_param_array(struct policy_row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct policy_row *row, huge_memory, policy_table)
{
	static const vm_flags_t advice_flags[] = {
		[ADV_HUGEPAGE] = VM_HUGEPAGE, [ADV_NONE] = 0, [ADV_NOHUGEPAGE] = VM_NOHUGEPAGE,
	};
	struct thp_settings s;
	struct vm_area_struct v = vma_at(0x7f0000000000UL, 8 * MiB, advice_flags[row->advice]);

	/* Each order alone in the mode, the others never. */
	for (int order = O16K; order <= O2M; order++) {
		thp_settings_init(&s);
		s.enabled = row->global;
		for (int o = 0; o <= PMD_ORDER; o++)
			s.size[o] = THP_SIZE_NEVER;
		s.size[order] = row->mode;
		for (int type = TVA_SMAPS; type <= TVA_KHUGEPAGED; type++)
			cr_expect_eq(allowed(&s, &v, type, ANON_ORDERS),
				     row->allowed ? 1UL << order : 0UL,
				     "global %s, order %d %s, advice %d, tva %d",
				     thp_enabled_name(row->global), order,
				     thp_size_mode_name(row->mode), row->advice, type);
	}
	/* Every order in the mode. */
	for (int o = 0; o <= PMD_ORDER; o++)
		s.size[o] = row->mode;
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ~0UL), row->allowed ? ANON_ORDERS : 0UL);
	/* Orders 0 and 1 and above PMD are never anonymous THP orders. */
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, 0x3UL | (1UL << 10)), 0UL);
}

/* ---- the dataset's mthp-policy workload ---------------------------------- */

static void mthp_policy_kernel(struct wl_kernel *k)
{
	static const enum wl_mthp_mode mthp[WL_MTHP_NR] = {
		WL_MTHP_ALWAYS,		/* 16KiB */
		WL_MTHP_INHERIT,	/* 32KiB */
		WL_MTHP_NEVER,		/* 64KiB */
		WL_MTHP_MADVISE,	/* 128KiB */
		WL_MTHP_NEVER,		/* 256KiB */
		WL_MTHP_INHERIT,	/* 512KiB */
		WL_MTHP_NEVER,		/* 1MiB */
	};

	k->thp = WL_THP_NEVER;
	k->defrag = WL_DEFRAG_MADVISE;
	k->use_zero_page = 1;
	memcpy(k->mthp, mthp, sizeof(mthp));
	k->khugepaged[WL_KHP_SCAN_SLEEP_MS] = 10000;
	k->khugepaged[WL_KHP_ALLOC_SLEEP_MS] = 60000;
	k->khugepaged[WL_KHP_PAGES_TO_SCAN] = 4096;
	k->khugepaged[WL_KHP_MAX_PTES_NONE] = 511;
	k->khugepaged[WL_KHP_MAX_PTES_SWAP] = 64;
	k->khugepaged[WL_KHP_MAX_PTES_SHARED] = 256;
	k->khugepaged[WL_KHP_DEFRAG] = 1;
}

Test(huge_memory, dataset_mthp_policy)
{
	struct wl_kernel k;
	struct thp_settings s;
	struct vm_area_struct advised = vma_at(0x7f0000000000UL, 4 * MiB, VM_HUGEPAGE);
	struct vm_area_struct plain = vma_at(0x7f0000400000UL, 4 * MiB, 0);
	/* alloc_anon_folio() asks for BIT(PMD_ORDER) - 1 */
	const unsigned long below_pmd = (1UL << O2M) - 1;
	unsigned long orders;

	mthp_policy_kernel(&k);
	cr_assert_eq(thp_settings_from_spec(&s, &k, NULL), 0);
	cr_expect_eq(s.enabled, THP_ENABLED_NEVER);
	cr_expect_eq(s.size[O16K], THP_SIZE_ALWAYS);
	cr_expect_eq(s.size[O32K], THP_SIZE_INHERIT);
	cr_expect_eq(s.size[O128K], THP_SIZE_MADVISE);
	cr_expect_eq(s.size[O2M], THP_SIZE_INHERIT, "hugepages-2048kB keeps Linux's default");

	orders = allowed(&s, &advised, TVA_PAGEFAULT, below_pmd);
	cr_expect_eq(orders, (1UL << O16K) | (1UL << O128K), "advised: {16K, 128K}, got %#lx", orders);
	cr_expect_eq(highest_order(orders), O128K);
	cr_expect_eq(allowed(&s, &plain, TVA_PAGEFAULT, below_pmd), 1UL << O16K);
	/* No PMD THP under global never (inherit), advised or not. */
	cr_expect_not(thp_vma_allowable_order(&s, &advised, VM_HUGEPAGE, 0, TVA_PAGEFAULT, O2M));
	cr_expect_not(thp_vma_allowable_order(&s, &plain, 0, 0, TVA_PAGEFAULT, O2M));
	cr_expect_not(hugepage_pmd_enabled(&s));
	cr_expect_not(khugepaged_enabled(&s));
	/* 128KiB folios in 4 MiB: 32 faults, as INDEX.md says. */
	cr_expect_eq((4 * MiB) / (PAGE_SIZE << highest_order(orders)), 32UL);
}

/* ---- settings from the spec --------------------------------------------- */

Test(huge_memory, from_spec_maps_every_knob)
{
	struct wl_kernel k;
	struct thp_settings s;
	struct mimicos_modules m = { .thp = true, .mthp = false, .huge_zero_page = false,
				     .khugepaged = true };

	mthp_policy_kernel(&k);
	k.thp = WL_THP_ALWAYS;
	k.defrag = WL_DEFRAG_DEFER_MADVISE;
	k.use_zero_page = 0;
	k.khugepaged[WL_KHP_SCAN_SLEEP_MS] = 100;
	k.khugepaged[WL_KHP_ALLOC_SLEEP_MS] = 200;
	k.khugepaged[WL_KHP_PAGES_TO_SCAN] = 512;
	k.khugepaged[WL_KHP_MAX_PTES_NONE] = 0;
	k.khugepaged[WL_KHP_MAX_PTES_SWAP] = 1;
	k.khugepaged[WL_KHP_MAX_PTES_SHARED] = 2;
	k.khugepaged[WL_KHP_DEFRAG] = 0;
	cr_assert_eq(thp_settings_from_spec(&s, &k, &m), 0);
	cr_expect_eq(s.enabled, THP_ENABLED_ALWAYS);
	cr_expect_eq(s.defrag, THP_DEFRAG_DEFER_MADVISE);
	cr_expect_not(s.use_zero_page);
	cr_expect_eq(s.size[O64K], THP_SIZE_NEVER);
	cr_expect_eq(s.size[O512K], THP_SIZE_INHERIT);
	cr_expect_eq(s.size[O1M], THP_SIZE_NEVER);
	cr_expect_eq(s.khugepaged.scan_sleep_millisecs, 100u);
	cr_expect_eq(s.khugepaged.alloc_sleep_millisecs, 200u);
	cr_expect_eq(s.khugepaged.pages_to_scan, 512u);
	cr_expect_eq(s.khugepaged.max_ptes_none, 0u);
	cr_expect_eq(s.khugepaged.max_ptes_swap, 1u);
	cr_expect_eq(s.khugepaged.max_ptes_shared, 2u);
	cr_expect_not(s.khugepaged.defrag);
	cr_expect_not(s.modules.mthp);
	cr_expect_not(s.modules.huge_zero_page);
	cr_expect(s.modules.thp);
}

Test(huge_memory, from_spec_rejects_unresolved_and_out_of_range)
{
	struct wl_kernel k, good;
	struct thp_settings s;

	wl_kernel_init(&k);
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL, "all left to the host");
	cr_expect_eq(s.enabled, THP_ENABLED_MADVISE, "defaults on failure");

	mthp_policy_kernel(&good);
	k = good;
	k.defrag = WL_DEFRAG_HOST;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL);
	k = good;
	k.use_zero_page = -1;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL);
	k = good;
	k.mthp[3] = WL_MTHP_HOST;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL);
	k = good;
	k.khugepaged[WL_KHP_MAX_PTES_SHARED] = -1;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL);
	k = good;
	k.khugepaged[WL_KHP_MAX_PTES_NONE] = 512;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL, "max_ptes_none > 511");
	k = good;
	k.khugepaged[WL_KHP_PAGES_TO_SCAN] = 0;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL, "pages_to_scan 0");
	k = good;
	k.khugepaged[WL_KHP_DEFRAG] = 2;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), -EINVAL);
	k = good;
	k.khugepaged[WL_KHP_MAX_PTES_NONE] = 511;
	cr_expect_eq(thp_settings_from_spec(&s, &k, NULL), 0);
}

Test(huge_memory, defaults_are_the_hosts)
{
	struct thp_settings s;

	thp_settings_init(&s);
	cr_expect_eq(s.enabled, THP_ENABLED_MADVISE);
	cr_expect_eq(s.defrag, THP_DEFRAG_MADVISE);
	cr_expect(s.use_zero_page);
	cr_expect_eq(s.size[O16K], THP_SIZE_NEVER);
	cr_expect_eq(s.size[O1M], THP_SIZE_NEVER);
	cr_expect_eq(s.size[O2M], THP_SIZE_INHERIT);
	cr_expect_eq(s.khugepaged.scan_sleep_millisecs, 10000u);
	cr_expect_eq(s.khugepaged.alloc_sleep_millisecs, 60000u);
	cr_expect_eq(s.khugepaged.pages_to_scan, 4096u);
	cr_expect_eq(s.khugepaged.max_ptes_none, 511u);
	cr_expect_eq(s.khugepaged.max_ptes_swap, 64u);
	cr_expect_eq(s.khugepaged.max_ptes_shared, 256u);
	cr_expect(s.khugepaged.defrag);
	cr_expect(hugepage_pmd_enabled(&s), "2048kB inherit + global madvise");
	cr_expect(khugepaged_enabled(&s));
	cr_expect(transparent_hugepage_use_zero_page(&s));
	cr_expect_str_eq(thp_defrag_name(THP_DEFRAG_DEFER_MADVISE), "defer+madvise");
	cr_expect_str_eq(thp_enabled_name(THP_ENABLED_NEVER), "never");
	cr_expect_str_eq(thp_size_mode_name(THP_SIZE_INHERIT), "inherit");
}

/* ---- disabling: prctl, stacks, modules, anon_vma, forced collapse -------- */

Test(huge_memory, prctl_disable_thp)
{
	struct thp_settings s;
	struct vm_area_struct plain = vma_at(0x7f0000000000UL, 4 * MiB, 0);
	struct vm_area_struct advised = vma_at(0x7f0000000000UL, 4 * MiB, VM_HUGEPAGE);
	const unsigned long completely = 1UL << 24, except_advised = 1UL << 23;

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_ALWAYS;
	cr_expect_eq(thp_vma_allowable_orders(&s, &plain, 0, completely, TVA_PAGEFAULT, ANON_ORDERS), 0UL);
	cr_expect_eq(thp_vma_allowable_orders(&s, &advised, VM_HUGEPAGE, completely,
					      TVA_PAGEFAULT, ANON_ORDERS), 0UL);
	cr_expect_eq(thp_vma_allowable_orders(&s, &plain, 0, except_advised, TVA_PAGEFAULT,
					      ANON_ORDERS), 0UL);
	cr_expect_eq(thp_vma_allowable_orders(&s, &advised, VM_HUGEPAGE, except_advised,
					      TVA_PAGEFAULT, ANON_ORDERS), 1UL << O2M);
	/* MADV_COLLAPSE counts as advice; VM_NOHUGEPAGE still wins. */
	cr_expect_eq(thp_vma_allowable_orders(&s, &plain, 0, except_advised, TVA_FORCED_COLLAPSE,
					      1UL << O2M), 1UL << O2M);
	cr_expect_eq(thp_vma_allowable_orders(&s, &plain, 0, completely, TVA_FORCED_COLLAPSE,
					      1UL << O2M), 0UL);
	cr_expect_eq(thp_vma_allowable_orders(&s, &plain, VM_NOHUGEPAGE, 0, TVA_FORCED_COLLAPSE,
					      1UL << O2M), 0UL);
}

Test(huge_memory, forced_collapse_ignores_sysfs)
{
	struct thp_settings s;
	struct vm_area_struct plain = vma_at(0x7f0000000000UL, 4 * MiB, 0);

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_NEVER;
	s.size[O2M] = THP_SIZE_NEVER;
	cr_expect_eq(allowed(&s, &plain, TVA_KHUGEPAGED, 1UL << O2M), 0UL);
	cr_expect_eq(allowed(&s, &plain, TVA_FORCED_COLLAPSE, 1UL << O2M), 1UL << O2M);
}

Test(huge_memory, stack_vmas)
{
	struct thp_settings s;
	struct vm_area_struct exec_stack = vma_at(0x7ffd00000000UL, 4 * MiB,
						  VM_GROWSDOWN | VM_SEQ_READ | VM_RAND_READ);
	struct vm_area_struct stack = vma_at(0x7ffd00000000UL, 4 * MiB, VM_GROWSDOWN);
	struct vm_area_struct thread_stack = vma_at(0x7f0000000000UL, 4 * MiB, VM_NOHUGEPAGE);

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_ALWAYS;
	cr_expect_eq(allowed(&s, &exec_stack, TVA_PAGEFAULT, ANON_ORDERS), 0UL,
		     "a stack exec is still setting up");
	cr_expect_eq(allowed(&s, &stack, TVA_PAGEFAULT, ANON_ORDERS), 1UL << O2M,
		     "Linux 6.18 lets a finished VM_GROWSDOWN stack have THP");
	cr_expect_eq(allowed(&s, &thread_stack, TVA_PAGEFAULT, ANON_ORDERS), 0UL,
		     "MAP_STACK -> VM_NOHUGEPAGE");
}

Test(huge_memory, anon_vma_needed_outside_faults)
{
	struct thp_settings s;
	struct vm_area_struct v = vma_at(0x7f0000000000UL, 4 * MiB, 0);

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_ALWAYS;
	v.anon_vma = 0;
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ANON_ORDERS), 1UL << O2M);
	cr_expect_eq(allowed(&s, &v, TVA_SMAPS, ANON_ORDERS), 1UL << O2M);
	cr_expect_eq(allowed(&s, &v, TVA_KHUGEPAGED, ANON_ORDERS), 0UL);
	v.vm_mm = NULL;		/* vdso */
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ANON_ORDERS), 0UL);
}

Test(huge_memory, khugepaged_needs_an_aligned_block_at_the_end)
{
	struct thp_settings s;
	/* [0x7f0000201000, 0x7f0000401000): 2 MiB long, no aligned 2 MiB inside */
	struct vm_area_struct v = vma_at(0x7f0000201000UL, 2 * MiB, 0);

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_ALWAYS;
	for (int o = O16K; o <= O2M; o++)
		s.size[o] = THP_SIZE_INHERIT;
	/* end - 1 MiB = 0x7f0000301000 -> block 0x7f0000300000..0x7f0000400000 fits */
	cr_expect_eq(allowed(&s, &v, TVA_KHUGEPAGED, ANON_ORDERS), MTHP_ORDERS);
	cr_expect_eq(allowed(&s, &v, TVA_KHUGEPAGED, 1UL << O2M), 0UL);
	/* The fault path leaves the check to thp_vma_suitable_orders(). */
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ANON_ORDERS), ANON_ORDERS);
}

Test(huge_memory, modules_off)
{
	struct thp_settings s;
	struct vm_area_struct v = vma_at(0x7f0000000000UL, 4 * MiB, VM_HUGEPAGE);

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_ALWAYS;
	for (int o = O16K; o <= O2M; o++)
		s.size[o] = THP_SIZE_ALWAYS;
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ANON_ORDERS), ANON_ORDERS);

	s.modules.mthp = false;
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ANON_ORDERS), 1UL << O2M);
	cr_expect_eq(huge_anon_orders(&s, THP_SIZE_ALWAYS), 1UL << O2M);
	cr_expect_eq(s.size[O16K], THP_SIZE_ALWAYS, "the knob itself is untouched");

	s.modules.mthp = true;
	s.modules.huge_zero_page = false;
	cr_expect_not(transparent_hugepage_use_zero_page(&s));
	s.modules.huge_zero_page = true;
	cr_expect(transparent_hugepage_use_zero_page(&s));

	s.modules.khugepaged = false;
	cr_expect(hugepage_pmd_enabled(&s));
	cr_expect_not(khugepaged_enabled(&s));
	s.modules.khugepaged = true;

	s.modules.thp = false;
	cr_expect_eq(allowed(&s, &v, TVA_PAGEFAULT, ANON_ORDERS), 0UL);
	cr_expect_eq(allowed(&s, &v, TVA_FORCED_COLLAPSE, ANON_ORDERS), 0UL);
	cr_expect_not(transparent_hugepage_use_zero_page(&s));
	cr_expect_not(hugepage_pmd_enabled(&s));
	cr_expect_not(khugepaged_enabled(&s));
}

Test(huge_memory, hugepage_pmd_enabled_by_pmd_mode)
{
	struct thp_settings s;

	thp_settings_init(&s);
	s.enabled = THP_ENABLED_NEVER;
	s.size[O2M] = THP_SIZE_INHERIT;
	cr_expect_not(hugepage_pmd_enabled(&s), "inherit under never");
	s.size[O2M] = THP_SIZE_MADVISE;
	cr_expect(hugepage_pmd_enabled(&s));
	s.size[O2M] = THP_SIZE_ALWAYS;
	cr_expect(hugepage_pmd_enabled(&s));
	s.size[O2M] = THP_SIZE_NEVER;
	s.enabled = THP_ENABLED_ALWAYS;
	s.size[O64K] = THP_SIZE_ALWAYS;
	cr_expect_not(hugepage_pmd_enabled(&s), "mTHP alone does not start khugepaged");
}

/* ---- suitable orders, highest/next order -------------------------------- */

Test(huge_memory, suitable_orders_unaligned_vma)
{
	/* A 128 KiB VMA starting 12 KiB past a 2 MiB boundary: [0x10003000, 0x10023000). */
	struct vm_area_struct v = vma_at(0x10003000UL, 128 * KiB, 0);

	/* 64K block 0x10010000..0x10020000 fits; 128K block 0x10000000.. does not */
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x10010000UL, ANON_ORDERS), 0x1cUL);
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x10015000UL, ANON_ORDERS), 0x1cUL);
	/* at 0x10004000 only the 16K block 0x10004000..0x10008000 fits */
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x10004000UL, ANON_ORDERS), 1UL << O16K);
	/* at 0x10003000 even the 16K block starts below the VMA */
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x10003000UL, ANON_ORDERS), 0UL);
	/* the last page: 16K block 0x10020000..0x10024000 ends past the VMA */
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x10022000UL, ANON_ORDERS), 0UL);
	/* only the asked orders come back */
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x10010000UL, 1UL << O32K), 1UL << O32K);
	cr_expect_not(thp_vma_suitable_order(&v, 0x10010000UL, O2M));
	cr_expect(thp_vma_suitable_order(&v, 0x10010000UL, O64K));
}

Test(huge_memory, suitable_orders_aligned_vma)
{
	struct vm_area_struct v = vma_at(0x7f0000200000UL, 2 * MiB, 0);

	cr_expect_eq(thp_vma_suitable_orders(&v, 0x7f00003ff000UL, ANON_ORDERS), ANON_ORDERS);
	v.vm_end -= PAGE_SIZE;		/* one page short: no 2 MiB block any more */
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x7f0000200000UL, ANON_ORDERS), 0x1fcUL);
	cr_expect_eq(thp_vma_suitable_orders(&v, 0x7f00003fe000UL, ANON_ORDERS), 0UL);
}

Test(huge_memory, highest_and_next_order)
{
	unsigned long orders = (1UL << O16K) | (1UL << O128K) | (1UL << O2M);

	cr_expect_eq(highest_order(0), -1);
	cr_expect_eq(highest_order(1UL << 63), 63);
	cr_expect_eq(highest_order(orders), O2M);
	cr_expect_eq(next_order(&orders, O2M), O128K);
	cr_expect_eq(orders, (1UL << O16K) | (1UL << O128K));
	cr_expect_eq(next_order(&orders, O128K), O16K);
	cr_expect_eq(next_order(&orders, O16K), -1);
	cr_expect_eq(orders, 0UL);
}

/* ---- defrag -> gfp ------------------------------------------------------ */

struct gfp_row {
	enum thp_defrag defrag;
	bool madvised;
	gfp_t gfp;
};

Test(huge_memory, gfp_per_defrag_mode)
{
	const struct gfp_row rows[] = {
		{ THP_DEFRAG_ALWAYS, true, GFP_TRANSHUGE },
		{ THP_DEFRAG_ALWAYS, false, GFP_TRANSHUGE | __GFP_NORETRY },
		{ THP_DEFRAG_DEFER, true, GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM },
		{ THP_DEFRAG_DEFER, false, GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM },
		{ THP_DEFRAG_DEFER_MADVISE, true, GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM },
		{ THP_DEFRAG_DEFER_MADVISE, false, GFP_TRANSHUGE_LIGHT | __GFP_KSWAPD_RECLAIM },
		{ THP_DEFRAG_MADVISE, true, GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM },
		{ THP_DEFRAG_MADVISE, false, GFP_TRANSHUGE_LIGHT },
		{ THP_DEFRAG_NEVER, true, GFP_TRANSHUGE_LIGHT },
		{ THP_DEFRAG_NEVER, false, GFP_TRANSHUGE_LIGHT },
	};
	struct thp_settings s;

	thp_settings_init(&s);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		s.defrag = rows[i].defrag;
		cr_expect_eq(vma_thp_gfp_mask(&s, rows[i].madvised), rows[i].gfp,
			     "defrag %s, madvised %d: %#x", thp_defrag_name(rows[i].defrag),
			     rows[i].madvised, vma_thp_gfp_mask(&s, rows[i].madvised));
	}
	/* THP allocations are movable and GFP_TRANSHUGE is LIGHT + direct reclaim. */
	cr_expect(GFP_TRANSHUGE_LIGHT & __GFP_MOVABLE);
	cr_expect_not(GFP_TRANSHUGE_LIGHT & (__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM));
	cr_expect_eq(GFP_TRANSHUGE, GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM);

	s.khugepaged.defrag = true;
	cr_expect_eq(alloc_hugepage_khugepaged_gfpmask(&s), GFP_TRANSHUGE);
	s.khugepaged.defrag = false;
	cr_expect_eq(alloc_hugepage_khugepaged_gfpmask(&s), GFP_TRANSHUGE_LIGHT);
}

/* ---- counters ----------------------------------------------------------- */

Test(huge_memory, counter_names_are_linuxs)
{
	cr_expect_str_eq(vm_event_name(PGFAULT), "pgfault");
	cr_expect_str_eq(vm_event_name(PGMAJFAULT), "pgmajfault");
	cr_expect_str_eq(vm_event_name(PGALLOC_NORMAL), "pgalloc_normal");
	cr_expect_str_eq(vm_event_name(PGFREE), "pgfree");
	cr_expect_str_eq(vm_event_name(THP_FAULT_ALLOC), "thp_fault_alloc");
	cr_expect_str_eq(vm_event_name(THP_FAULT_FALLBACK_CHARGE), "thp_fault_fallback_charge");
	cr_expect_str_eq(vm_event_name(THP_COLLAPSE_ALLOC_FAILED), "thp_collapse_alloc_failed");
	cr_expect_str_eq(vm_event_name(THP_DEFERRED_SPLIT_PAGE), "thp_deferred_split_page");
	cr_expect_str_eq(vm_event_name(THP_SPLIT_PMD), "thp_split_pmd");
	cr_expect_str_eq(vm_event_name(THP_SCAN_EXCEED_SHARE_PTE), "thp_scan_exceed_share_pte");
	cr_expect_str_eq(vm_event_name(THP_ZERO_PAGE_ALLOC_FAILED), "thp_zero_page_alloc_failed");
	cr_expect_str_eq(vm_event_name(NR_VM_EVENT_ITEMS), "?");
	cr_expect_str_eq(mthp_stat_name(MTHP_STAT_ANON_FAULT_ALLOC), "anon_fault_alloc");
	cr_expect_str_eq(mthp_stat_name(MTHP_STAT_ANON_FAULT_FALLBACK_CHARGE),
			 "anon_fault_fallback_charge");
	cr_expect_str_eq(mthp_stat_name(MTHP_STAT_SPLIT_DEFERRED), "split_deferred");
	cr_expect_str_eq(mthp_stat_name(MTHP_STAT_NR_ANON_PARTIALLY_MAPPED),
			 "nr_anon_partially_mapped");
	cr_expect_str_eq(mthp_stat_name(__MTHP_STAT_COUNT), "?");
}

Test(huge_memory, counting)
{
	struct vm_events ev;

	vm_events_init(&ev);
	count_vm_event(&ev, PGFAULT);
	count_vm_event(&ev, PGFAULT);
	count_vm_events(&ev, PGALLOC_NORMAL, 512);
	count_mthp_stat(&ev, O64K, MTHP_STAT_ANON_FAULT_ALLOC);
	mod_mthp_stat(&ev, O64K, MTHP_STAT_NR_ANON, 3);
	mod_mthp_stat(&ev, O64K, MTHP_STAT_NR_ANON, -2);
	count_mthp_stat(&ev, 0, MTHP_STAT_SPLIT);	/* ignored, as in Linux */
	count_mthp_stat(&ev, 10, MTHP_STAT_SPLIT);	/* ignored */
	cr_expect_eq(ev.event[PGFAULT], 2u);
	cr_expect_eq(ev.event[PGALLOC_NORMAL], 512u);
	cr_expect_eq(ev.mthp[O64K][MTHP_STAT_ANON_FAULT_ALLOC], 1u);
	cr_expect_eq(ev.mthp[O64K][MTHP_STAT_NR_ANON], 1u);
	cr_expect_eq(ev.mthp[0][MTHP_STAT_SPLIT], 0u);
}

Test(huge_memory, gauge_below_zero_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	struct vm_events ev;

	vm_events_init(&ev);
	mod_mthp_stat(&ev, O2M, MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, -1);
}

Test(huge_memory, json_printer)
{
	static const char vmstat[] =
		"{\"pgalloc_normal\":512,\"pgfree\":0,\"pgfault\":3,\"pgmajfault\":0,"
		"\"thp_fault_alloc\":1,\"thp_fault_fallback\":0,\"thp_fault_fallback_charge\":0,"
		"\"thp_collapse_alloc\":0,\"thp_collapse_alloc_failed\":0,\"thp_split_page\":0,"
		"\"thp_split_page_failed\":0,\"thp_deferred_split_page\":0,"
		"\"thp_underused_split_page\":0,\"thp_split_pmd\":7,"
		"\"thp_scan_exceed_none_pte\":0,\"thp_scan_exceed_swap_pte\":0,"
		"\"thp_scan_exceed_share_pte\":0,\"thp_zero_page_alloc\":0,"
		"\"thp_zero_page_alloc_failed\":0}";
	static const char size64k[] =
		"{\"anon_fault_alloc\":4,\"anon_fault_fallback\":1,"
		"\"anon_fault_fallback_charge\":0,\"split\":0,\"split_failed\":0,"
		"\"split_deferred\":0,\"nr_anon\":4,\"nr_anon_partially_mapped\":0}";
	static const char *const sizes[] = {
		"hugepages-16kB", "hugepages-32kB", "hugepages-64kB", "hugepages-128kB",
		"hugepages-256kB", "hugepages-512kB", "hugepages-1024kB", "hugepages-2048kB",
	};
	struct vm_events ev;
	cJSON *json, *mthp, *child;
	char *text;
	size_t i = 0;

	vm_events_init(&ev);
	count_vm_events(&ev, PGFAULT, 3);
	count_vm_events(&ev, PGALLOC_NORMAL, 512);
	count_vm_event(&ev, THP_FAULT_ALLOC);
	count_vm_events(&ev, THP_SPLIT_PMD, 7);
	for (int n = 0; n < 4; n++) {
		count_mthp_stat(&ev, O64K, MTHP_STAT_ANON_FAULT_ALLOC);
		mod_mthp_stat(&ev, O64K, MTHP_STAT_NR_ANON, 1);
	}
	count_mthp_stat(&ev, O64K, MTHP_STAT_ANON_FAULT_FALLBACK);
	count_mthp_stat(&ev, O2M, MTHP_STAT_SPLIT);

	json = vm_events_to_json(&ev);
	cr_assert_not_null(json);
	text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(json, "vmstat"));
	cr_expect_str_eq(text, vmstat);
	free(text);

	mthp = cJSON_GetObjectItemCaseSensitive(json, "mthp");
	cr_assert_not_null(mthp);
	cJSON_ArrayForEach(child, mthp) {
		cr_assert_lt(i, sizeof(sizes) / sizeof(sizes[0]));
		cr_expect_str_eq(child->string, sizes[i]);
		i++;
	}
	cr_expect_eq(i, sizeof(sizes) / sizeof(sizes[0]));
	text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(mthp, "hugepages-64kB"));
	cr_expect_str_eq(text, size64k);
	free(text);
	child = cJSON_GetObjectItemCaseSensitive(mthp, "hugepages-2048kB");
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(child, "split")->valuedouble, 1.0);
	cJSON_Delete(json);
}

/* The spec's modes and MimicOS's are one list: the same value, the same name. */
Test(huge_memory, thp_modes_are_one_list_for_the_spec_and_mimicos)
{
	/* the sysfs spellings, in the kernel's order (mm/huge_memory.c's *_show()) */
	static const char *const enabled[] = { "always", "madvise", "never" };
	static const char *const defrag[] = { "always", "defer", "defer+madvise", "madvise", "never" };
	static const char *const size[] = { "always", "inherit", "madvise", "never" };

	cr_assert_eq(THP_ENABLED_NR, 3);
	cr_assert_eq(THP_DEFRAG_NR, 5);
	cr_assert_eq(THP_SIZE_NR, 4);
	for (int v = 0; v < THP_ENABLED_NR; v++) {
		cr_expect_str_eq(thp_enabled_name((enum thp_enabled)v), enabled[v]);
		cr_expect_str_eq(wl_thp_name((enum wl_thp)(v + 1)), enabled[v]);
	}
	for (int v = 0; v < THP_DEFRAG_NR; v++) {
		cr_expect_str_eq(thp_defrag_name((enum thp_defrag)v), defrag[v]);
		cr_expect_str_eq(wl_defrag_name((enum wl_defrag)(v + 1)), defrag[v]);
	}
	for (int v = 0; v < THP_SIZE_NR; v++) {
		cr_expect_str_eq(thp_size_mode_name((enum thp_size_mode)v), size[v]);
		cr_expect_str_eq(wl_mthp_name((enum wl_mthp_mode)(v + 1)), size[v]);
	}
	cr_expect_eq(THP_DEFRAG_DEFER_MADVISE, 2);
	cr_expect_eq(WL_DEFRAG_DEFER_MADVISE, 3);
	cr_expect_eq(THP_SIZE_NEVER, 3);
	cr_expect_eq(WL_THP_NEVER, 3);
}
