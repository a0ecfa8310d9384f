/*
 * harness.h - what the simulator suites share: the host settings the
 * datasets leave open, and the dataset list for parameterized tests.
 * Header-only; include after criterion.h.
 */
#ifndef TESTS_SIMULATOR_HARNESS_H
#define TESTS_SIMULATOR_HARNESS_H

#include "workload/spec.h"

/* Linux's boot defaults (CONFIG_TRANSPARENT_HUGEPAGE_MADVISE), khugepaged's own. */
static inline void linux_defaults(struct wl_kernel *k)
{
	static const int64_t khp[WL_KHP_NR] = { 10000, 60000, 4096, 511, 64, 256, 1 };

	wl_kernel_init(k);
	k->thp = WL_THP_MADVISE;
	k->defrag = WL_DEFRAG_MADVISE;
	k->use_zero_page = 1;
	for (int i = 0; i < WL_MTHP_NR; i++)
		k->mthp[i] = WL_MTHP_NEVER;
	memcpy(k->khugepaged, khp, sizeof(khp));
}

/* Parameters are copied into each test's process: names by value, not pointers. */
struct ds_name {
	char name[40];
};

static struct ds_name all_datasets[] __attribute__((unused)) = {
	{ "access-mix" }, { "chase-tlb" }, { "default" }, { "dontneed-split" },
	{ "khugepaged-collapse" }, { "khugepaged-max-ptes-none" }, { "khugepaged-sleep" },
	{ "madv-collapse" }, { "mprotect-split" }, { "mthp-64k" }, { "mthp-policy" },
	{ "munmap-partial" }, { "nohugepage-override" }, { "populate" }, { "thp-always-fault" },
	{ "thp-madvise-advised" }, { "thp-never-4k" }, { "zero-page-4k-cow" }, { "zero-page-huge" },
};

#define NR_DATASETS (sizeof(all_datasets) / sizeof(all_datasets[0]))

#endif
