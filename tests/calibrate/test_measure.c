/*
 * test_measure.c - the calibration measurements (calibrate/measure.h):
 * the suite run in process.
 *
 * The host's numbers differ from host to host, so the tests check what
 * holds on any host (each derived where it is checked), with generous
 * bounds, never a timing against a target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "calibrate/measure.h"
#include "tests/host.h"

Test(measure, stat_takes_median_min_max_and_spread)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 }, one[] = { 7 };
	struct cal_stat s;

	cal_stat_of(&s, odd, 3);
	cr_expect_eq(s.median, 3);
	cr_expect_eq(s.min, 1);
	cr_expect_eq(s.max, 5);
	cr_expect_float_eq(s.spread, 4.0 / 3, 1e-12);
	cal_stat_of(&s, even, 4);
	cr_expect_eq(s.median, 2.5);
	cal_stat_of(&s, one, 1);
	cr_expect(s.median == 7 && s.min == 7 && s.max == 7 && s.spread == 0);
}

static void write_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/*
 * In process, on a THP tree that says never: the THP fault kinds are
 * skipped with the reason, the others measured; repeat 1 gives min =
 * median = max.
 */
Test(measure, thp_kinds_skipped_when_the_host_has_thp_off, .timeout = 120)
{
	char root[] = "/tmp/vcal-thp-XXXXXX", p[512];
	static const char *const khp[] = { "scan_sleep_millisecs", "alloc_sleep_millisecs",
					   "pages_to_scan", "max_ptes_none", "max_ptes_swap",
					   "max_ptes_shared", "defrag" };
	struct cal_results *r = malloc(sizeof(*r));
	struct wl_error err = { 0 };
	struct cal_opts o;

	host_require_root();
	host_exclusive();
	cr_assert_not_null(r);
	cr_assert_not_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/khugepaged", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/hugepages-2048kB", root);
	cr_assert_eq(mkdir(p, 0755), 0);
	write_file(root, "enabled", "always madvise [never]\n");
	write_file(root, "defrag", "always defer defer+madvise [madvise] never\n");
	write_file(root, "use_zero_page", "1\n");
	write_file(root, "hugepages-2048kB/enabled", "always [inherit] madvise never\n");
	for (size_t i = 0; i < sizeof(khp) / sizeof(khp[0]); i++) {
		snprintf(p, sizeof(p), "khugepaged/%s", khp[i]);
		write_file(root, p, "1\n");
	}
	cal_opts_init(&o);
	o.quick = true;
	o.repeat = 1;
	o.thp_root = root;
	cr_assert_eq(cal_measure(r, &o, &err), 0, "%s: %s", err.file, err.msg);
	for (int m = 0; m < CAL_MEMORY_NR; m++) {
		const struct cal_fault *f = &r->fault[CAL_FAULT_THP_2M][m];

		cr_expect(!f->measured);
		cr_expect_not_null(strstr(f->skipped, "enabled never"), "%s", f->skipped);
		cr_expect(r->fault[CAL_FAULT_WRITE_4K][m].measured);
		cr_expect_eq(r->fault[CAL_FAULT_WRITE_4K][m].us_per_fault.min,
			     r->fault[CAL_FAULT_WRITE_4K][m].us_per_fault.max);
	}
	cr_expect_str_eq(wl_thp_name(r->thp.thp), "never");
	free(r);
	snprintf(p, sizeof(p), "rm -rf '%s'", root);
	cr_expect_eq(system(p), 0);
}
