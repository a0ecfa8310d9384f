/*
 * test_kernel.c - resolving host settings from a THP sysfs tree.
 *
 * Each test builds a fake tree in a temporary directory, written in the
 * kernel's own formats (mm/huge_memory.c prints "always [madvise] never").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "workload/spec.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256], dir[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0755);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* The host of the facts file: madvise, 64KiB always, khugepaged defaults. */
static void make_tree(void)
{
	static const char *const sizes[] = { "16", "32", "64", "128", "256", "512", "1024" };

	snprintf(root, sizeof(root), "/tmp/virtuoso-thp-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	put("enabled", "always [madvise] never\n");
	put("defrag", "always defer defer+madvise [madvise] never\n");
	put("use_zero_page", "1\n");
	for (size_t i = 0; i < 7; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "hugepages-%skB/enabled", sizes[i]);
		put(rel, i == 2 ? "[always] inherit madvise never\n" : "always inherit madvise [never]\n");
	}
	put("khugepaged/scan_sleep_millisecs", "10000\n");
	put("khugepaged/alloc_sleep_millisecs", "60000\n");
	put("khugepaged/pages_to_scan", "4096\n");
	put("khugepaged/max_ptes_none", "511\n");
	put("khugepaged/max_ptes_swap", "64\n");
	put("khugepaged/max_ptes_shared", "256\n");
	put("khugepaged/defrag", "1\n");
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

Test(kernel, resolves_every_unset_setting_from_sysfs, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	wl_kernel_init(&k);
	cr_assert_eq(wl_kernel_resolve(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(k.thp, WL_THP_MADVISE);
	cr_assert_eq(k.defrag, WL_DEFRAG_MADVISE);
	cr_assert_eq(k.use_zero_page, 1);
	for (int o = WL_MTHP_MIN_ORDER; o <= WL_MTHP_MAX_ORDER; o++)
		cr_assert_eq(k.mthp[o - WL_MTHP_MIN_ORDER], o == 4 ? WL_MTHP_ALWAYS : WL_MTHP_NEVER,
			     "order %d", o);
	cr_assert_eq(k.khugepaged[WL_KHP_SCAN_SLEEP_MS], 10000);
	cr_assert_eq(k.khugepaged[WL_KHP_ALLOC_SLEEP_MS], 60000);
	cr_assert_eq(k.khugepaged[WL_KHP_PAGES_TO_SCAN], 4096);
	cr_assert_eq(k.khugepaged[WL_KHP_MAX_PTES_NONE], 511);
	cr_assert_eq(k.khugepaged[WL_KHP_MAX_PTES_SWAP], 64);
	cr_assert_eq(k.khugepaged[WL_KHP_MAX_PTES_SHARED], 256);
	cr_assert_eq(k.khugepaged[WL_KHP_DEFRAG], 1);
}

Test(kernel, keeps_what_the_spec_set, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	wl_kernel_init(&k);
	k.thp = WL_THP_NEVER;
	k.use_zero_page = 0;
	k.mthp[0] = WL_MTHP_INHERIT;
	k.khugepaged[WL_KHP_MAX_PTES_NONE] = 0;
	cr_assert_eq(wl_kernel_resolve(&k, root, &err), 0);
	cr_assert_eq(k.thp, WL_THP_NEVER);
	cr_assert_eq(k.defrag, WL_DEFRAG_MADVISE);
	cr_assert_eq(k.use_zero_page, 0);
	cr_assert_eq(k.mthp[0], WL_MTHP_INHERIT);
	cr_assert_eq(k.khugepaged[WL_KHP_MAX_PTES_NONE], 0);
	cr_assert_eq(k.khugepaged[WL_KHP_MAX_PTES_SWAP], 64);
}

Test(kernel, a_kernel_without_mthp_has_no_mthp_sizes, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/hugepages-*", root);
	cr_assert_eq(system(cmd), 0);
	wl_kernel_init(&k);
	cr_assert_eq(wl_kernel_resolve(&k, root, &err), 0);
	for (int i = 0; i < WL_MTHP_NR; i++)
		cr_assert_eq(k.mthp[i], WL_MTHP_NEVER);
}

Test(kernel, a_garbled_file_is_an_error_naming_it, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	put("defrag", "always defer\n");
	wl_kernel_init(&k);
	cr_assert_eq(wl_kernel_resolve(&k, root, &err), -1);
	cr_assert_not_null(strstr(err.file, "/defrag"), "%s", err.file);

	put("defrag", "[never]\n");
	put("khugepaged/pages_to_scan", "lots\n");
	wl_kernel_init(&k);
	cr_assert_eq(wl_kernel_resolve(&k, root, &err), -1);
	cr_assert_not_null(strstr(err.file, "khugepaged/pages_to_scan"), "%s", err.file);
}

/* The real host, where there is one: whatever it says must parse. */
Test(kernel, reads_this_hosts_settings_when_present)
{
	struct wl_kernel k;
	struct wl_error err;

	if (access(WL_THP_SYSFS "/enabled", R_OK))
		cr_skip_test("no THP sysfs on this host (%s)", WL_THP_SYSFS);
	wl_kernel_init(&k);
	cr_assert_eq(wl_kernel_resolve(&k, WL_THP_SYSFS, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_neq(k.thp, WL_THP_HOST);
	cr_assert_neq(k.defrag, WL_DEFRAG_HOST);
	cr_assert_geq(k.khugepaged[WL_KHP_PAGES_TO_SCAN], 1);
}
