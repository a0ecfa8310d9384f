/*
 * kernel.c - fill the settings a spec leaves to the host from THP sysfs.
 *
 * The files and their formats are the kernel's (mm/huge_memory.c,
 * mm/khugepaged.c): choice files print every choice with the active one in
 * brackets ("always [madvise] never"); the rest print one integer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload/spec.h"

/* Index: enum wl_khugepaged_key. */
static const char *const khp_files[WL_KHP_NR] = {
	"khugepaged/scan_sleep_millisecs", "khugepaged/alloc_sleep_millisecs",
	"khugepaged/pages_to_scan", "khugepaged/max_ptes_none",
	"khugepaged/max_ptes_swap", "khugepaged/max_ptes_shared",
	"khugepaged/defrag",
};

const char *wl_khugepaged_file(enum wl_khugepaged_key k)
{
	return (unsigned)k < WL_KHP_NR ? khp_files[k] : "?";
}

static int read_line(const char *root, const char *rel, char *buf, size_t len,
		     struct wl_error *err)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return wl_error_set(err, path, "", "cannot read: %s", strerror(errno));
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return wl_error_set(err, path, "", "cannot read: empty file");
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The bracketed choice of "a [b] c" as an index into names (+1), or -1. */
const char *const thp_enabled_names[THP_ENABLED_NR] = { THP_ENABLED_MODES(THP_MODE_NAME) };
const char *const thp_defrag_names[THP_DEFRAG_NR] = { THP_DEFRAG_MODES(THP_MODE_NAME) };
const char *const thp_size_mode_names[THP_SIZE_NR] = { THP_SIZE_MODES(THP_MODE_NAME) };

static int read_choice(const char *root, const char *rel, const char *const *names,
		       size_t n, struct wl_error *err)
{
	char buf[256], *open, *close, path[512];

	if (read_line(root, rel, buf, sizeof(buf), err))
		return -1;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (close) {
		*close = '\0';
		for (size_t i = 0; i < n; i++)
			if (!strcmp(open + 1, names[i]))
				return (int)i + 1;
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return wl_error_set(err, path, "", "expected one bracketed choice, got \"%s\"", buf);
}

static int read_int(const char *root, const char *rel, int64_t *out, struct wl_error *err)
{
	char buf[64], *end, path[512];
	long long v;

	if (read_line(root, rel, buf, sizeof(buf), err))
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || end == buf || *end || v < 0) {
		snprintf(path, sizeof(path), "%s/%s", root, rel);
		return wl_error_set(err, path, "", "expected a non-negative integer, got \"%s\"", buf);
	}
	*out = v;
	return 0;
}

int wl_kernel_resolve(struct wl_kernel *k, const char *thp_root, struct wl_error *err)
{
	int v;

	if (k->thp == WL_THP_HOST) {
		if ((v = read_choice(thp_root, "enabled", thp_enabled_names, THP_ENABLED_NR, err)) < 0)
			return -1;
		k->thp = (enum wl_thp)v;
	}
	if (k->defrag == WL_DEFRAG_HOST) {
		if ((v = read_choice(thp_root, "defrag", thp_defrag_names, THP_DEFRAG_NR, err)) < 0)
			return -1;
		k->defrag = (enum wl_defrag)v;
	}
	if (k->use_zero_page < 0) {
		int64_t z;

		if (read_int(thp_root, "use_zero_page", &z, err))
			return -1;
		k->use_zero_page = z != 0;
	}
	for (int i = 0; i < WL_MTHP_NR; i++) {
		char rel[64], dir[512];
		FILE *f;

		if (k->mthp[i] != WL_MTHP_HOST)
			continue;
		snprintf(rel, sizeof(rel), "hugepages-%llukB/enabled",
			 (unsigned long long)(4ULL << (i + WL_MTHP_MIN_ORDER)));
		snprintf(dir, sizeof(dir), "%s/%s", thp_root, rel);
		f = fopen(dir, "r");
		if (!f && errno == ENOENT) {
			/* a kernel without mTHP (before 6.8): no such size */
			k->mthp[i] = WL_MTHP_NEVER;
			continue;
		}
		if (f)
			fclose(f);
		if ((v = read_choice(thp_root, rel, thp_size_mode_names, THP_SIZE_NR, err)) < 0)
			return -1;
		k->mthp[i] = (enum wl_mthp_mode)v;
	}
	for (int i = 0; i < WL_KHP_NR; i++)
		if (k->khugepaged[i] < 0 &&
		    read_int(thp_root, wl_khugepaged_file(i), &k->khugepaged[i], err))
			return -1;
	return 0;
}
