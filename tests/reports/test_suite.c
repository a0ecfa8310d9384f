/*
 * test_suite.c - a suite's figures and their numbers (reports/suite.h): the
 * scatter's points are exactly the phase runtimes and per-kind latency
 * quantiles where both sides have a value, their MAPE, maximum and
 * Pearson r are those of those points, and a pooled CDF's curves step
 * through the samples' nearest-rank quantiles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "reports/plot.h"
#include "reports/suite.h"
#include "tests/files.h"

static const char *const sides[2] = { "before", "after" };

/*
 * Three points after: a phase (Linux 100, simulated 200, error 1), a phase
 * inside Linux's band (1000 against 900..1100, error 0) and an anon_4k
 * p50 (10 against 5, error 1); left out: the whole-run runtime, the p50 of
 * every fault mixed, a quantile whose simulated value is null.
 */
static const char suite_text[] =
	"{\"workloads\": [{\"workload\": \"a\", \"metrics\": ["
	"{\"name\": \"runtime\", \"scope\": \"all\", \"linux\": 5000, \"linux_lo\": 5000,"
	" \"linux_hi\": 5000, \"before\": {\"sim\": 1, \"error\": 4999},"
	" \"after\": {\"sim\": 1, \"error\": 4999}},"
	"{\"name\": \"phase_runtime\", \"scope\": \"phase 0 touch\", \"linux\": 100,"
	" \"linux_lo\": 100, \"linux_hi\": 100, \"before\": {\"sim\": 50, \"error\": 1},"
	" \"after\": {\"sim\": 200, \"error\": 1}},"
	"{\"name\": \"fault_latency_p50\", \"scope\": \"all\", \"linux\": 7, \"linux_lo\": 7,"
	" \"linux_hi\": 7, \"before\": {\"sim\": 700, \"error\": 99},"
	" \"after\": {\"sim\": 700, \"error\": 99}}]},"
	"{\"workload\": \"b\", \"metrics\": ["
	"{\"name\": \"phase_runtime\", \"scope\": \"phase 0 run\", \"linux\": 1000,"
	" \"linux_lo\": 900, \"linux_hi\": 1100, \"before\": {\"sim\": 250, \"error\": 2.6},"
	" \"after\": {\"sim\": 1000, \"error\": 0}},"
	"{\"name\": \"fault_latency_p50\", \"scope\": \"anon_4k\", \"linux\": 10, \"linux_lo\": 10,"
	" \"linux_hi\": 10, \"before\": {\"sim\": 5, \"error\": 1},"
	" \"after\": {\"sim\": 5, \"error\": 1}},"
	"{\"name\": \"fault_latency_p90\", \"scope\": \"anon_4k\", \"linux\": 20, \"linux_lo\": 18,"
	" \"linux_hi\": 25, \"before\": {\"sim\": null, \"error\": null},"
	" \"after\": {\"sim\": null, \"error\": null}}]}]}";

Test(suite, scatter_numbers_are_those_of_the_points_with_both_values)
{
	cJSON *suite = cJSON_Parse(suite_text);
	struct suite_scatter_stats st;

	cr_assert_not_null(suite);
	suite_scatter_stats(suite, "after", SUITE_MASK_PHASES_AND_QUANTILES, &st);
	cr_expect_eq(st.n, 3);
	cr_expect_float_eq(st.mape, 2.0 / 3.0, 1e-12);
	cr_expect_float_eq(st.max, 1.0, 1e-12);
	/* Pearson r of (ln 100, ln 1000, ln 10) against (ln 200, ln 1000, ln 5), by hand */
	cr_expect_float_eq(st.r, 0.9752757372578458, 1e-9);

	suite_scatter_stats(suite, "after", SUITE_MASK(SUITE_phase_runtime), &st);
	cr_expect_eq(st.n, 2);
	cr_expect_float_eq(st.mape, 0.5, 1e-12);
	suite_scatter_stats(suite, "before", SUITE_MASK(SUITE_phase_runtime), &st);
	cr_expect_eq(st.n, 2);
	cr_expect_float_eq(st.mape, 1.8, 1e-12);
	cr_expect_float_eq(st.max, 2.6, 1e-12);
	/* two points rise together: r is 1 */
	cr_expect_float_eq(st.r, 1.0, 1e-12);

	/* the whole run's runtime is a family of its own, scope "all" and all */
	suite_scatter_stats(suite, "after", SUITE_MASK(SUITE_runtime), &st);
	cr_expect_eq(st.n, 1);
	cr_expect_float_eq(st.mape, 4999, 1e-9);

	suite_scatter_stats(suite, "after", SUITE_MASK(SUITE_fault_latency_p90), &st);
	cr_expect_eq(st.n, 0);
	cr_expect(isnan(st.mape) && isnan(st.max) && isnan(st.r));
	suite_scatter_stats(suite, "nobody", SUITE_MASK_PHASES_AND_QUANTILES, &st);
	cr_expect_eq(st.n, 0);
	cJSON_Delete(suite);
}

static bool have_gnuplot(void)
{
	return !system("command -v gnuplot >/dev/null 2>&1");
}

static char tmp[] = "/tmp/vsuite-XXXXXX";

static void mk(void)
{
	tmp_make(tmp);
}

static void rm(void)
{
	tmp_remove(tmp);
}

Test(suite, scatter_figure_draws_each_family_of_each_side, .init = mk, .fini = rm)
{
	cJSON *suite = cJSON_Parse(suite_text);
	struct wl_error err = { 0 };
	struct plotter p;
	struct figure f;
	char *dat, *gp;

	cr_assert_not_null(suite);
	cr_assert_eq(plotter_init(&p, NULL, tmp, &err), 0, "%s", err.msg);
	suite_plot_scatter(&p, suite, sides, 2, SUITE_MASK_PHASES_AND_QUANTILES,
			   "Every phase runtime and fault latency quantile", "sc", &f);
	if (!have_gnuplot()) {
		cr_expect_eq(f.state, FIG_MISSING);
		goto out;
	}
	cr_expect_eq(f.state, FIG_SVG, "%s", f.why);
	dat = slurp_in(tmp, "sc-after-phase_runtime.dat");
	/* Linux, simulated, Linux's band */
	cr_expect_not_null(strstr(dat, "100 200 100 100\n"), "%s", dat);
	cr_expect_not_null(strstr(dat, "1000 1000 900 1100\n"), "%s", dat);
	free(dat);
	dat = slurp_in(tmp, "sc-before-fault_latency_p50.dat");
	cr_expect_not_null(strstr(dat, "10 5 10 10\n"), "%s", dat);
	/* the quantile of every fault mixed is no point */
	cr_expect_null(strstr(dat, "\n7 "), "%s", dat);
	free(dat);
	gp = slurp_in(tmp, "sc.gp");
	cr_expect_not_null(strstr(gp, "after: MAPE 66.7%, max 100.0%, Pearson r 0.975 "
				  "(3 points)"), "%s", gp);
	cr_expect_not_null(strstr(gp, "'y = x'"), "%s", gp);
	cr_expect_not_null(strstr(gp, "with xerrorbars"), "%s", gp);
	/* no file for a family without a point is plotted */
	cr_expect_null(strstr(gp, "fault_latency_p90.dat"), "%s", gp);
	free(gp);
out:
	figure_release(&f);
	plotter_release(&p);
	cJSON_Delete(suite);
}

Test(suite, scatter_without_points_is_empty_and_says_why, .init = mk, .fini = rm)
{
	cJSON *suite = cJSON_Parse("{\"workloads\": []}");
	struct wl_error err = { 0 };
	struct plotter p;
	struct figure f;

	cr_assert_eq(plotter_init(&p, NULL, tmp, &err), 0, "%s", err.msg);
	suite_plot_scatter(&p, suite, sides, 2, SUITE_MASK_PHASES_AND_QUANTILES,
			   "Every phase runtime and fault latency quantile", "sc", &f);
	cr_expect_eq(f.state, FIG_EMPTY);
	cr_expect_not_null(strstr(f.why, "on both sides"), "%s", f.why);
	figure_release(&f);
	plotter_release(&p);
	cJSON_Delete(suite);
}

Test(suite, pooled_cdf_steps_through_each_samples_quantiles, .init = mk, .fini = rm)
{
	static uint64_t l0[] = { 100, 300 }, l1[] = { 200, 400 }, b[] = { 10, 20, 30, 40 },
			a[] = { 100, 200, 300, 400 };
	struct suite_faults sf;
	struct wl_error err = { 0 };
	struct plotter p;
	struct figure f;
	char *dat;

	memset(&sf, 0, sizeof(sf));
	sf.nr = 2;
	sf.nk = 2;
	sf.linux_runs[FAULT_anon_4k][0] = (struct suite_sample){ .v = l0, .n = 2 };
	sf.linux_runs[FAULT_anon_4k][1] = (struct suite_sample){ .v = l1, .n = 2 };
	sf.sim[FAULT_anon_4k][0] = (struct suite_sample){ .v = b, .n = 4 };
	sf.sim[FAULT_anon_4k][1] = (struct suite_sample){ .v = a, .n = 4 };
	cr_assert_eq(plotter_init(&p, NULL, tmp, &err), 0, "%s", err.msg);

	suite_plot_cdf(&p, &sf, FAULT_thp, sides, "none", &f);
	cr_expect_eq(f.state, FIG_EMPTY);
	figure_release(&f);

	suite_plot_cdf(&p, &sf, FAULT_anon_4k, sides, "cdf", &f);
	if (!have_gnuplot()) {
		cr_expect_eq(f.state, FIG_MISSING);
		goto out;
	}
	cr_expect_eq(f.state, FIG_SVG, "%s", f.why);
	/* four values: a step of a quarter at each */
	dat = slurp_in(tmp, "cdf-after.dat");
	cr_expect_str_eq(dat, "100 0\n100 0.25\n200 0.25\n200 0.5\n300 0.5\n300 0.75\n"
			 "400 0.75\n400 1\n");
	free(dat);
	dat = slurp_in(tmp, "cdf-before.dat");
	cr_expect_str_eq(dat, "10 0\n10 0.25\n20 0.25\n20 0.5\n30 0.5\n30 0.75\n40 0.75\n40 1\n");
	free(dat);
	/* Linux's two runs: their median at each half, 150 then 350 */
	dat = slurp_in(tmp, "cdf-linux.dat");
	cr_expect_str_eq(dat, "150 0\n150 0.5\n350 0.5\n350 1\n");
	free(dat);
	dat = slurp_in(tmp, "cdf.gp");
	cr_expect_not_null(strstr(dat, "'MimicOS, before (4 faults)'"), "%s", dat);
	cr_expect_not_null(strstr(dat, "'MimicOS, after (4 faults)'"), "%s", dat);
	free(dat);
out:
	figure_release(&f);
	plotter_release(&p);
	/* the samples are the test's own: nothing to release */
}
