/*
 * test_compare.c - the comparison engine: the distances (worked out by
 * hand below), the tolerances and the verdict rule at its boundaries, every
 * metric of two hand-written sides (tests/data/compare/small), the
 * refusals of sides that do not belong together, latencies from event
 * logs, summary.json, and the recorded Linux example against a simulation
 * made now.
 *
 * The two small sides (see the files) differ on purpose:
 *   region a (1024 pages): faults 100 vs 101; backing pmd 512 + pte 512 vs
 *     pmd 512 + pte 509 + zero 3, so 3 pages differ
 *   region b (256 pages): the same class counts (pte 3, none 253) at other
 *     places: pte 3 + none 253 vs none 3 + pte 3 + none 250, so 6 differ
 *   phases: runtime 1 ms vs 1.5 ms (0.5) and 0.2 ms vs 0.6 ms (2.0)
 *   fault orders: {0: 102, 9: 1} vs {0: 103, 9: 1}
 *   khugepaged: scans {succeeded 3, pmd_none 1} vs {succeeded 2,
 *     exceed_none_pte 2}, collapses 3 vs 2
 *   TLB flushes: 10 shootdowns (and 7 task switches) vs 11
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "tests/compare/harness.h"

#define BIN "bin/virtuoso"

/* ---- distances ------------------------------------------------------------------- */

TestSuite(distance);

Test(distance, rel_error_over_linux_or_one)
{
	cr_expect_eq(rel_error(100, 101), 0.01);
	cr_expect_eq(rel_error(100, 99), 0.01);
	cr_expect_eq(rel_error(200, 100), 0.5);
	cr_expect_eq(rel_error(0, 3), 3.0, "max(linux, 1): 0 counts as 1");
	cr_expect_eq(rel_error(0, 0), 0.0);
}

Test(distance, nearest_rank_quantiles)
{
	uint64_t ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, four[] = { 10, 20, 30, 40 };

	cr_expect_eq(sample_quantile(ten, 10, 0.5), 5);
	cr_expect_eq(sample_quantile(ten, 10, 0.9), 9);
	cr_expect_eq(sample_quantile(ten, 10, 0.99), 10);
	cr_expect_eq(sample_quantile(four, 4, 0.5), 20, "rank ceil(2) = 2");
	cr_expect_eq(sample_quantile(four, 4, 0.9), 40, "rank ceil(3.6) = 4");
	cr_expect_eq(sample_quantile(four, 4, 0.6), 30, "rank ceil(2.4) = 3");
	cr_expect_eq(sample_quantile(four, 1, 0.99), 10);
	cr_expect_eq(sample_quantile(four, 0, 0.5), 0);
}

Test(distance, wasserstein_of_unequal_samples)
{
	/*
	 * X = {0, 0, 3}: X^-1 is 0 on (0, 2/3], 3 on (2/3, 1].
	 * Y = {1, 2}:   Y^-1 is 1 on (0, 1/2], 2 on (1/2, 1].
	 * |X^-1 - Y^-1|: 1 on (0, 1/2], 2 on (1/2, 2/3], 1 on (2/3, 1]
	 * integral = 1/2 + 2/6 + 1/3 = 7/6
	 */
	uint64_t x[] = { 0, 0, 3 }, y[] = { 1, 2 };

	cr_expect_float_eq(wasserstein1(x, 3, y, 2), 7.0 / 6.0, 1e-12);
	cr_expect_float_eq(wasserstein1(y, 2, x, 3), 7.0 / 6.0, 1e-12, "symmetric");
}

Test(distance, wasserstein_of_latencies)
{
	/*
	 * {1, 2, 3, 4} us against {2, 6} us: quarters 1-2, 2-2, 3-6, 4-6 ->
	 * (1 + 0 + 3 + 2) / 4 = 1.5 us
	 */
	uint64_t x[] = { 1000, 2000, 3000, 4000 }, y[] = { 2000, 6000 };

	cr_expect_float_eq(wasserstein1(x, 4, y, 2), 1500.0, 1e-9);
}

Test(distance, wasserstein_of_equal_sizes_is_the_mean_gap)
{
	uint64_t x[] = { 10, 20, 30, 40, 50 }, y[] = { 11, 25, 25, 40, 100 };

	/* (1 + 5 + 5 + 0 + 50) / 5 */
	cr_expect_float_eq(wasserstein1(x, 5, y, 5), 12.2, 1e-12);
	cr_expect_eq(wasserstein1(x, 5, x, 5), 0.0);
	cr_expect(isnan(wasserstein1(x, 5, y, 0)));
	cr_expect(isnan(wasserstein1(x, 0, y, 5)));
}

Test(distance, total_variation)
{
	uint64_t a[] = { 1, 3 }, b[] = { 3, 1 }, c[] = { 10, 30 }, z[] = { 0, 0 };

	cr_expect_float_eq(tv_distance(a, b, 2), 0.5, 1e-15);
	cr_expect_eq(tv_distance(a, c, 2), 0.0, "normalised: scale does not matter");
	cr_expect_eq(tv_distance(z, z, 2), 0.0);
	cr_expect_eq(tv_distance(z, a, 2), 1.0);
}

/* ---- tolerances ------------------------------------------------------------------ */

TestSuite(tolerance, .fini = cmp_cleanup);

Test(tolerance, defaults)
{
	struct tolerances tol;
	const struct tolerance *t;

	tolerances_init(&tol);
	t = tolerance_find(&tol, "faults");
	cr_assert_not_null(t);
	cr_expect_eq(t->warn, 0.0);
	cr_expect_eq(t->fail, 0.01);
	cr_expect_not(t->higher_is_better);
	t = tolerance_find(&tol, "backing_agreement");
	cr_expect_eq(t->warn, 0.999);
	cr_expect_eq(t->fail, 0.99);
	cr_expect(t->higher_is_better);
	cr_expect_eq(t->klass, METRIC_FUNCTIONAL);
	t = tolerance_find(&tol, "runtime");
	cr_expect_eq(t->warn, 0.1);
	cr_expect_eq(t->fail, 0.5);
	cr_expect_eq(t->klass, METRIC_TIMING);
	t = tolerance_find(&tol, "phase_runtime");
	cr_expect_eq(t->warn, 0.2);
	cr_expect_eq(t->fail, 1.0);
	t = tolerance_find(&tol, "fault_latency_p50");
	cr_expect_eq(t->warn, 0.1);
	cr_expect_eq(t->fail, 0.5);
	t = tolerance_find(&tol, "fault_latency_p99");
	cr_expect_eq(t->fail, 1.5);
	t = tolerance_find(&tol, "fault_latency_wasserstein");
	cr_expect_eq(t->warn, 0.25);
	cr_expect_eq(t->fail, 1.0);
	cr_expect_eq(tolerance_find(&tol, "cold_faults")->klass, METRIC_INFO);
	cr_expect_eq(tolerance_find(&tol, "faults_by_kind")->klass, METRIC_FUNCTIONAL);
	cr_expect_eq(tolerance_find(&tol, "scan_results")->klass, METRIC_INFO);
	/* every time metric fails a model 3x off (a ratio error of 2) */
	for (size_t i = 0; i < tol.nr; i++)
		if (tol.t[i].klass == METRIC_TIMING)
			cr_expect_lt(tol.t[i].fail, 2.0, "%s", tol.t[i].metric);
	cr_expect_null(tolerance_find(&tol, "fautls"));
	for (size_t i = 0; i < tol.nr; i++)
		cr_expect(tol.t[i].higher_is_better ? tol.t[i].warn >= tol.t[i].fail
						    : tol.t[i].warn <= tol.t[i].fail, "%s",
			  tol.t[i].metric);
	tolerances_release(&tol);
}

Test(tolerance, verdicts_at_the_boundaries)
{
	struct tolerance lo = { "runtime", 0.5, 2.0, false, METRIC_TIMING };
	struct tolerance hi = { "backing_agreement", 0.999, 0.99, true, METRIC_FUNCTIONAL };
	struct tolerance exact = { "faults", 0.0, 0.01, false, METRIC_FUNCTIONAL };

	cr_expect_eq(verdict_of(&lo, 0.0), VERDICT_PASS);
	cr_expect_eq(verdict_of(&lo, 0.5), VERDICT_PASS, "at warn passes");
	cr_expect_eq(verdict_of(&lo, nextafter(0.5, 1)), VERDICT_WARN);
	cr_expect_eq(verdict_of(&lo, 2.0), VERDICT_WARN, "at fail warns");
	cr_expect_eq(verdict_of(&lo, nextafter(2.0, 3)), VERDICT_FAIL);
	cr_expect_eq(verdict_of(&lo, NAN), VERDICT_NA);
	cr_expect_eq(verdict_of(&hi, 1.0), VERDICT_PASS);
	cr_expect_eq(verdict_of(&hi, 0.999), VERDICT_PASS, "at warn passes");
	cr_expect_eq(verdict_of(&hi, nextafter(0.999, 0)), VERDICT_WARN);
	cr_expect_eq(verdict_of(&hi, 0.99), VERDICT_WARN, "at fail warns");
	cr_expect_eq(verdict_of(&hi, nextafter(0.99, 0)), VERDICT_FAIL);
	cr_expect_eq(verdict_of(&hi, NAN), VERDICT_NA);
	/* faults differing by 1 of 100 */
	cr_expect_eq(verdict_of(&exact, rel_error(100, 100)), VERDICT_PASS);
	cr_expect_eq(verdict_of(&exact, rel_error(100, 101)), VERDICT_WARN);
	cr_expect_eq(verdict_of(&exact, rel_error(100, 102)), VERDICT_FAIL);
	cr_expect_str_eq(verdict_name(VERDICT_PASS), "pass");
	cr_expect_str_eq(verdict_name(VERDICT_WARN), "warn");
	cr_expect_str_eq(verdict_name(VERDICT_FAIL), "fail");
	cr_expect_str_eq(verdict_name(VERDICT_NA), "n/a");
}

Test(tolerance, file_overrides_what_it_names)
{
	struct tolerances tol;
	struct wl_error err = { 0 };

	tolerances_init(&tol);
	cr_assert_eq(tolerances_load(&tol, "tests/data/compare/tolerances/override.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	cr_expect_eq(tolerance_find(&tol, "faults")->warn, 0.01);
	cr_expect_eq(tolerance_find(&tol, "faults")->fail, 0.05);
	cr_expect_eq(tolerance_find(&tol, "backing_agreement")->warn, 0.999, "not named: kept");
	cr_expect_eq(tolerance_find(&tol, "backing_agreement")->fail, 0.95);
	cr_expect_eq(tolerance_find(&tol, "runtime")->fail, 10.0);
	cr_expect_eq(tolerance_find(&tol, "thp_faults")->fail, 0.01, "not named: kept");
	tolerances_release(&tol);
}

static void refused(const char *file, const char *path, const char *msg)
{
	struct tolerances tol;
	struct wl_error err = { 0 };

	tolerances_init(&tol);
	cr_assert_eq(tolerances_load(&tol, file, &err), -1, "%s accepted", file);
	cr_expect_str_eq(err.file, file);
	cr_expect_str_eq(err.path, path, "%s: %s: %s", file, err.path, err.msg);
	cr_expect_not_null(strstr(err.msg, msg), "%s: %s", file, err.msg);
	/* a refused file changes nothing */
	cr_expect_eq(tolerance_find(&tol, "faults")->warn, 0.0);
	cr_expect_eq(tolerance_find(&tol, "faults")->fail, 0.01);
	tolerances_release(&tol);
}

Test(tolerance, unknown_metric_refused_naming_it)
{
	refused("tests/data/compare/tolerances/unknown-metric.json", "fautls", "unknown metric");
}

Test(tolerance, unknown_key_refused_naming_it)
{
	refused("tests/data/compare/tolerances/unknown-key.json", "faults.warm", "unknown key");
}

Test(tolerance, non_number_refused)
{
	refused("tests/data/compare/tolerances/not-number.json", "faults.warn", "\"1%\"");
}

Test(tolerance, warn_beyond_fail_refused)
{
	refused("tests/data/compare/tolerances/warn-beyond-fail.json", "runtime.warn",
		"beyond fail 0.5");
	refused("tests/data/compare/tolerances/agreement-warn-below-fail.json",
		"backing_agreement.warn", "beyond fail 0.95");
}

Test(tolerance, missing_and_truncated_files_refused)
{
	const char *dir = cmp_tmp_dir();

	refused("tests/data/compare/tolerances/no-such-file.json", "", "cannot read");
	cmp_write_text(dir, "t.json", "{\"faults\": {\"warn\": ");
	refused(cmp_path(dir, "t.json"), "line 1, column 21", "truncated");
}

/* ---- the comparison of the two small sides -------------------------------------- */

TestSuite(compare, .fini = cmp_cleanup);

static void load_pair(struct side *l, struct side *s, const char *dir)
{
	cmp_load(l, dir, "linux.json");
	cmp_load(s, dir, "sim.json");
}

static void expect_metric(const struct comparison *c, const char *name, const char *scope,
			  double value, enum verdict v)
{
	const struct metric *m = cmp_metric(c, name, scope);

	cr_expect_float_eq(m->value, value, 1e-12, "%s of %s: %.17g, expected %.17g", name, scope,
			   m->value, value);
	cr_expect_eq(m->verdict, v, "%s of %s: %s, expected %s", name, scope,
		     verdict_name(m->verdict), verdict_name(v));
}

Test(compare, counts_by_hand)
{
	struct side l, s;
	struct comparison c;

	load_pair(&l, &s, SMALL);
	cmp_compare(&c, &l, &s);
	expect_metric(&c, "faults", "all", 1.0 / 103, VERDICT_WARN);
	expect_metric(&c, "faults", "a", 0.01, VERDICT_WARN);	/* 1 of 100: at fail, warns */
	expect_metric(&c, "faults", "b", 0, VERDICT_PASS);
	cr_expect_eq(cmp_metric(&c, "faults", "all")->linux_value, 103);
	cr_expect_eq(cmp_metric(&c, "faults", "all")->sim_value, 104);
	expect_metric(&c, "thp_faults", "all", 0, VERDICT_PASS);
	expect_metric(&c, "huge_bytes", "a", 0, VERDICT_PASS);
	expect_metric(&c, "resident_bytes", "all", 0, VERDICT_PASS);
	cr_expect_eq(cmp_metric(&c, "resident_bytes", "all")->linux_value, 4194304 + 12288);
	expect_metric(&c, "phase_faults", "phase 0 touch", 0.01, VERDICT_WARN);
	expect_metric(&c, "phase_faults", "phase 1 touch", 0, VERDICT_PASS);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, backing_page_by_page)
{
	struct side l, s;
	struct comparison c;

	load_pair(&l, &s, SMALL);
	cmp_compare(&c, &l, &s);
	expect_metric(&c, "backing_agreement", "a", 1021.0 / 1024, VERDICT_WARN);
	/* the same counts in other places: 6 of 256 pages differ */
	expect_metric(&c, "backing_agreement", "b", 250.0 / 256, VERDICT_FAIL);
	expect_metric(&c, "backing_agreement", "all", 1271.0 / 1280, VERDICT_WARN);
	cr_expect_str_eq(cmp_metric(&c, "backing_agreement", "all")->note, "");
	cr_expect(isnan(cmp_metric(&c, "backing_agreement", "a")->linux_value));
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, backing_from_counts_without_a_map)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j = cmp_read_json(SMALL "/sim.json");
	struct side l, s;
	struct comparison c;

	cJSON_DeleteItemFromObject(cmp_region(j, "a"), "backing");
	cJSON_DeleteItemFromObject(cmp_region(j, "b"), "backing");
	cmp_write_json(j, dir, "sim.json");
	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	/* sum of min(linux, sim) per class: a 512 + 509 + 0 + 0; b all 256: an upper bound */
	expect_metric(&c, "backing_agreement", "a", 1021.0 / 1024, VERDICT_WARN);
	expect_metric(&c, "backing_agreement", "b", 1.0, VERDICT_PASS);
	expect_metric(&c, "backing_agreement", "all", 1277.0 / 1280, VERDICT_WARN);
	cr_expect_not_null(strstr(cmp_metric(&c, "backing_agreement", "b")->note, "upper bound"));
	cr_expect_not_null(strstr(cmp_metric(&c, "backing_agreement", "b")->note, "sim"));
	cr_expect_not_null(strstr(cmp_metric(&c, "backing_agreement", "all")->note, "upper bound"));
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, times_by_hand)
{
	struct side l, s;
	struct comparison c;

	load_pair(&l, &s, SMALL);
	cmp_compare(&c, &l, &s);
	/* ratio errors: 2.1 / 1.2 - 1 = 0.75, beyond runtime's fail 0.5 */
	expect_metric(&c, "runtime", "all", 0.75, VERDICT_FAIL);
	expect_metric(&c, "phase_runtime", "phase 0 touch", 0.5, VERDICT_WARN);	/* 1.5x */
	expect_metric(&c, "phase_runtime", "phase 1 touch", 2.0, VERDICT_FAIL);	/* 3x slower */
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 1 touch")->linux_value, 200000);
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 1 touch")->sim_value, 600000);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, mechanisms_by_hand)
{
	struct side l, s;
	struct comparison c;

	load_pair(&l, &s, SMALL);
	cmp_compare(&c, &l, &s);
	/* {102, 1}/103 vs {103, 1}/104: TV = |1/103 - 1/104| = 1/10712 */
	expect_metric(&c, "alloc_orders", "all", 1.0 / 10712, VERDICT_WARN);
	expect_metric(&c, "collapses", "all", 1.0 / 3, VERDICT_FAIL);
	/* (3/4, 1/4, 0) vs (1/2, 0, 1/2): (1/4 + 1/4 + 1/2) / 2; scan outcomes only warn */
	expect_metric(&c, "scan_results", "all", 0.5, VERDICT_WARN);
	/* task switches left out: 10 vs 11, at warn */
	expect_metric(&c, "tlb_flushes", "all", 0.1, VERDICT_PASS);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, every_metric_once_and_the_overall_verdict)
{
	static const char *const names[] = {
		"faults", "faults", "faults", "thp_faults", "thp_faults", "thp_faults",
		"huge_bytes", "huge_bytes", "huge_bytes", "resident_bytes", "resident_bytes",
		"resident_bytes", "backing_agreement", "backing_agreement", "backing_agreement",
		"runtime", "phase_faults", "phase_faults", "phase_runtime", "phase_runtime",
		"alloc_orders", "fault_latency_p50", "fault_latency_p90", "fault_latency_p99",
		"fault_latency_wasserstein", "collapses", "scan_results", "tlb_flushes",
		"tlb_l1_misses", "tlb_stlb_hits", "tlb_walks", "tlb_walks_4k", "tlb_walks_2m",
		"tlb_walks_1g", "tlb_walk_cycles",
	};
	struct side l, s;
	struct comparison c;

	load_pair(&l, &s, SMALL);
	cmp_compare(&c, &l, &s);
	cr_assert_eq(c.nr_metrics, sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < c.nr_metrics; i++)
		cr_expect_str_eq(c.metrics[i].name, names[i], "metric %zu", i);
	/* no logs: the latency metrics are NA, and say why; no TLB counts: so are the TLB's */
	cr_expect_eq(cmp_metric(&c, "fault_latency_p50", "all")->verdict, VERDICT_NA);
	cr_expect_eq(cmp_metric(&c, "tlb_walks", "all")->verdict, VERDICT_NA);
	cr_expect_eq(c.tlb, VERDICT_NA);
	cr_expect_not_null(strstr(cmp_metric(&c, "fault_latency_wasserstein", "all")->note,
				  "no event log"));
	cr_expect_eq(c.overall, VERDICT_FAIL);
	cr_expect(c.complete);
	cr_expect_eq(c.linux_side, &l);
	cr_expect_eq(c.sim_side, &s);
	comparison_release(&c);
	cr_expect_null(c.metrics);
	side_release(&l);
	side_release(&s);
}

/* linux.json against itself (as the sim side): everything agrees. */
static void write_twins(const char *dir)
{
	cJSON *j = cmp_read_json(SMALL "/linux.json");

	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	cmp_set(j, "side", cJSON_CreateString("sim"));
	cmp_write_json(j, dir, "sim.json");
}

Test(compare, identical_sides_pass_and_na_never_fails)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;
	size_t na = 0;

	write_twins(dir);
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	for (size_t i = 0; i < c.nr_metrics; i++) {
		cr_expect(c.metrics[i].verdict == VERDICT_PASS || c.metrics[i].verdict == VERDICT_NA,
			  "%s of %s: %s", c.metrics[i].name, c.metrics[i].scope,
			  verdict_name(c.metrics[i].verdict));
		na += c.metrics[i].verdict == VERDICT_NA;
	}
	cr_expect_eq(na, 4 + 7, "the four latency metrics (no logs), the seven TLB metrics "
		     "(no counters)");
	expect_metric(&c, "backing_agreement", "all", 1.0, VERDICT_PASS);
	cr_expect_eq(c.overall, VERDICT_PASS);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, overall_is_the_worst)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j;
	struct side l, s;
	struct comparison c;

	write_twins(dir);
	j = cmp_read_json(cmp_path(dir, "sim.json"));
	cmp_set(j, "runtime_ns", cJSON_CreateNumber(1260000));	/* 1.05x: a pass */
	cmp_set(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 0), "runtime_ns",
		cJSON_CreateNumber(2000000));			/* 2x, at fail: a warning */
	cmp_write_json(j, dir, "sim.json");
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	expect_metric(&c, "runtime", "all", 0.05, VERDICT_PASS);
	expect_metric(&c, "phase_runtime", "phase 0 touch", 1.0, VERDICT_WARN);
	cr_expect_eq(c.functional, VERDICT_PASS);
	cr_expect_eq(c.timing, VERDICT_WARN);
	cr_expect_eq(c.overall, VERDICT_WARN);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, functional_sim_has_no_times_to_compare)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j;
	struct side l, s;
	struct comparison c;

	write_twins(dir);
	j = cmp_read_json(cmp_path(dir, "sim.json"));
	cmp_set(j, "timing", cJSON_CreateString("none"));
	cmp_set(j, "runtime_ns", cJSON_CreateNumber(0));
	cmp_write_json(j, dir, "sim.json");
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	cr_expect_eq(cmp_metric(&c, "runtime", "all")->verdict, VERDICT_NA);
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 1 touch")->verdict, VERDICT_NA);
	cr_expect_not_null(strstr(cmp_metric(&c, "runtime", "all")->note, "timing model"));
	cr_expect_eq(c.overall, VERDICT_PASS);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void refuse_pair(const char *dir, const char *path, const char *msg)
{
	struct side l, s;
	struct comparison c;
	struct tolerances tol;
	struct wl_error err = { 0 };

	load_pair(&l, &s, dir);
	tolerances_init(&tol);
	cr_expect_eq(compare_sides(&c, &l, &s, &tol, &err), -1, "%s: accepted", path);
	cr_expect_str_eq(err.file, cmp_path(dir, "sim.json"));
	cr_expect_str_eq(err.path, path, "%s: %s", err.path, err.msg);
	cr_expect_not_null(strstr(err.msg, msg), "%s: %s", path, err.msg);
	comparison_release(&c);
	tolerances_release(&tol);
	side_release(&l);
	side_release(&s);
}

/* The small sim.json with one edit, beside the small linux.json in dir. */
static cJSON *edit_sim(const char **dir)
{
	*dir = cmp_tmp_dir();
	cmp_copy(SMALL "/linux.json", *dir, "linux.json");
	return cmp_read_json(SMALL "/sim.json");
}

Test(compare, refuses_another_workload)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cmp_set(j, "workload", cJSON_CreateString("other"));
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "workload", "\"other\", but \"small\"");
}

Test(compare, refuses_another_tool_version)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cmp_set(j, "tool", cJSON_CreateString("0.2.0"));
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "tool", "\"0.2.0\", but \"test\"");
}

Test(compare, refuses_a_side_without_tool_version)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cJSON_DeleteItemFromObject(j, "tool");
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "tool", "none, but \"test\"");
}

Test(compare, refuses_regions_of_other_sizes)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cmp_set(cmp_region(j, "b"), "size", cJSON_CreateNumber(2097152));
	cmp_set(cJSON_GetObjectItem(cmp_region(j, "b"), "pages"), "none", cJSON_CreateNumber(509));
	cJSON_DeleteItemFromObject(cmp_region(j, "b"), "backing");
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "regions.b", "size 2097152, but 1048576");
}

Test(compare, refuses_a_missing_region)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(j, "regions"), "b");
	cJSON_DeleteItemFromObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 1), "region");
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "regions.b", "missing");
}

Test(compare, refuses_an_extra_region)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cJSON_AddItemToObject(cJSON_GetObjectItem(j, "regions"), "c",
			      cJSON_Duplicate(cmp_region(j, "b"), true));
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "regions.c", "not a region of");
}

Test(compare, refuses_other_phases)
{
	const char *dir;
	cJSON *j = edit_sim(&dir);

	cmp_set(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 1), "op",
		cJSON_CreateString("access"));
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "phases[1].op", "\"access\", but \"touch\"");
	cmp_cleanup();

	j = edit_sim(&dir);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(j, "phases"), 1);
	cmp_write_json(j, dir, "sim.json");
	refuse_pair(dir, "phases", "1 phases, but 2");
}

/* ---- latencies from the event logs ---------------------------------------------------- */

#define META "{\"phases\": [{\"op\": \"touch\", \"start_ns\": 0}, {\"op\": \"touch\", \"start_ns\": 5000}]}"

/* The small sides with logs: Linux's faults took 1, 2, 3, 4 us, the simulated 2 and 6 us. */
static void write_logs(const char *dir, uint64_t sim_latency_scale)
{
	struct vt_event l[7], s[3];

	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	cmp_copy(SMALL "/sim.json", dir, "sim.json");
	for (int i = 0; i < 4; i++)
		l[i] = cmp_fault(100 + (uint64_t)i, i < 2 ? 0 : 1, 4194304 + 4096 * (uint64_t)i,
				 1000 * (uint64_t)(i + 1));
	/* not in the sample: outside the regions, outside the phases, unknown latency */
	l[4] = cmp_fault(200, 0, 0x7ffff000, 900000);
	l[5] = cmp_fault(50, -1, 4194304, 900000);
	l[6] = cmp_fault(300, 1, 16777216, 0);
	s[0] = cmp_fault(10, 0, 4194304, 6000 * sim_latency_scale);
	s[1] = cmp_fault(20, 0, 4194304 + 4096, 2000 * sim_latency_scale);
	s[2] = cmp_fault(30, 1, 0x1000, 77777);
	cmp_write_log(dir, "events.vlog", META, l, 7);
	cmp_write_log(dir, "sim-events.vlog", META, s, 3);
}

Test(compare, latencies_by_hand)
{
	const char *dir = cmp_tmp_dir();
	const struct metric *m;
	struct side l, s;
	struct comparison c;

	write_logs(dir, 1);
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	/* p50: rank 2 of {1,2,3,4} us = 2 us; rank 1 of {2,6} us = 2 us */
	expect_metric(&c, "fault_latency_p50", "all", 0.0, VERDICT_PASS);
	/* p90 and p99: 4 us vs 6 us = 0.5: p90 warns, p99 is at its warn */
	expect_metric(&c, "fault_latency_p90", "all", 0.5, VERDICT_WARN);
	expect_metric(&c, "fault_latency_p99", "all", 0.5, VERDICT_PASS);
	/* the all-faults mix is information: it decides no verdict */
	cr_expect_eq(cmp_metric(&c, "fault_latency_p90", "all")->klass, METRIC_INFO);
	m = cmp_metric(&c, "fault_latency_p99", "all");
	cr_expect_eq(m->linux_value, 4000);
	cr_expect_eq(m->sim_value, 6000);
	cr_expect_not_null(strstr(m->note, "4 and 2 faults"), "%s", m->note);
	/* W1 = 1.5 us over Linux's median 2 us */
	expect_metric(&c, "fault_latency_wasserstein", "all", 0.75, VERDICT_WARN);
	m = cmp_metric(&c, "fault_latency_wasserstein", "all");
	cr_expect_not_null(strstr(m->note, "W1 1500 ns"), "%s", m->note);
	cr_expect_not_null(strstr(m->note, "2000 ns"), "%s", m->note);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, latencies_far_apart_fail)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;

	write_logs(dir, 10);	/* 20 and 60 us */
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	/* p50 2 vs 20 us: 9; W1: quarters |1-20| |2-20| |3-60| |4-60| = 150 / 4 = 37.5 us / 2 us */
	expect_metric(&c, "fault_latency_p50", "all", 9.0, VERDICT_FAIL);
	expect_metric(&c, "fault_latency_wasserstein", "all", 18.75, VERDICT_FAIL);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, latencies_unknown_on_a_side_are_na)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;

	write_logs(dir, 0);	/* the simulated faults carry latency_ns 0 */
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	cr_expect_eq(cmp_metric(&c, "fault_latency_p50", "all")->verdict, VERDICT_NA);
	cr_expect_not_null(strstr(cmp_metric(&c, "fault_latency_wasserstein", "all")->note,
				  "simulated side's faults carry no latency"));
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, no_faults_on_either_side_pass)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event none;
	struct side l, s;
	struct comparison c;

	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	cmp_copy(SMALL "/sim.json", dir, "sim.json");
	cmp_write_log(dir, "events.vlog", META, &none, 0);
	cmp_write_log(dir, "sim-events.vlog", META, &none, 0);
	load_pair(&l, &s, dir);
	cmp_compare(&c, &l, &s);
	expect_metric(&c, "fault_latency_p90", "all", 0, VERDICT_PASS);
	expect_metric(&c, "fault_latency_wasserstein", "all", 0, VERDICT_PASS);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(compare, one_log_missing_is_na_not_an_error)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;

	write_logs(dir, 1);
	cr_assert_eq(unlink(cmp_path(dir, "sim-events.vlog")), 0);
	load_pair(&l, &s, dir);
	cr_expect(l.has_log);
	cr_expect_not(s.has_log);
	cmp_compare(&c, &l, &s);
	cr_expect_eq(cmp_metric(&c, "fault_latency_p50", "all")->verdict, VERDICT_NA);
	cr_expect_not_null(strstr(cmp_metric(&c, "fault_latency_p50", "all")->note,
				  "no event log on the simulated side"));
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

/* ---- summary.json --------------------------------------------------------------- */

static double jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsNumber(v), "%s is not a number", key);
	return v->valuedouble;
}

Test(compare, summary_json)
{
	static const char *const keys[] = {
		"name", "scope", "linux", "sim", "value", "warn", "fail", "verdict", "note",
	};
	const cJSON *d, *r, *metrics, *m;
	struct side l, s;
	struct comparison c;
	cJSON *j;

	load_pair(&l, &s, SMALL);
	cmp_compare(&c, &l, &s);
	j = comparison_to_json(&c);
	cr_assert_not_null(j);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "workload")->valuestring, "small");
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "linux"), "side")->valuestring,
			 "linux");
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "sim"), "side")->valuestring,
			 "sim");
	d = cJSON_GetObjectItem(j, "divergence");
	cr_expect_float_eq(jnum(d, "faults"), 1.0 / 103, 1e-15);
	cr_expect_eq(jnum(d, "thp_faults"), 0);
	cr_expect_eq(jnum(d, "huge_bytes"), 0);
	cr_expect_eq(jnum(d, "resident_bytes"), 0);
	cr_expect_eq(jnum(d, "backing_agreement"), 1271.0 / 1280);
	cr_expect_eq(jnum(d, "runtime"), 0.75);
	r = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "regions"), "a");
	cr_expect_eq(jnum(r, "faults"), 0.01);
	cr_expect_eq(jnum(r, "thp_faults"), 0);
	cr_expect_eq(jnum(r, "backing_agreement"), 1021.0 / 1024);
	r = cJSON_GetObjectItem(cJSON_GetObjectItem(d, "regions"), "b");
	cr_expect_eq(jnum(r, "backing_agreement"), 250.0 / 256);

	metrics = cJSON_GetObjectItem(j, "metrics");
	cr_assert_eq((size_t)cJSON_GetArraySize(metrics), c.nr_metrics);
	cJSON_ArrayForEach(m, metrics)
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			cr_expect_not_null(cJSON_GetObjectItem(m, keys[k]), "a metric without %s", keys[k]);
	m = cJSON_GetArrayItem(metrics, 1);
	cr_expect_str_eq(cJSON_GetObjectItem(m, "name")->valuestring, "faults");
	cr_expect_str_eq(cJSON_GetObjectItem(m, "scope")->valuestring, "a");
	cr_expect_eq(jnum(m, "linux"), 100);
	cr_expect_eq(jnum(m, "sim"), 101);
	cr_expect_eq(jnum(m, "value"), 0.01);
	cr_expect_eq(jnum(m, "fail"), 0.01);
	cr_expect_str_eq(cJSON_GetObjectItem(m, "verdict")->valuestring, "warn");
	cJSON_ArrayForEach(m, metrics)
		if (!strcmp(cJSON_GetObjectItem(m, "name")->valuestring, "fault_latency_p50")) {
			cr_expect(cJSON_IsNull(cJSON_GetObjectItem(m, "value")), "NA is null");
			cr_expect_str_eq(cJSON_GetObjectItem(m, "verdict")->valuestring, "n/a");
		}
	cr_expect_str_eq(cJSON_GetObjectItem(j, "verdict")->valuestring, "fail");
	cJSON_Delete(j);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

/* ---- the recorded Linux example against a simulation made now -------------------- */

Test(compare, recorded_linux_against_virtuoso_sim)
{
	const char *dir = cmp_tmp_dir();
	char cmd[512];
	cJSON *sim, *lx, *regions, *r;
	struct side l, s;
	struct comparison c;

	snprintf(cmd, sizeof(cmd), BIN " sim datasets/workloads/default.json -o %s >/dev/null", dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	/* the recorded side, with this build's tool version so that the two belong together */
	sim = cmp_read_json(cmp_path(dir, "sim.json"));
	lx = cmp_read_json("tests/data/compare/default/linux.json");
	cmp_set(lx, "tool", cJSON_Duplicate(cJSON_GetObjectItem(sim, "tool"), true));
	cmp_write_json(lx, dir, "linux.json");
	cmp_copy("tests/data/compare/default/events.vlog", dir, "events.vlog");
	load_pair(&l, &s, dir);
	cr_expect(l.has_log);
	cr_expect(s.has_log);
	cmp_compare(&c, &l, &s);

	/* the values are the files' own */
	cr_expect_eq(cmp_metric(&c, "faults", "all")->linux_value, 16 + 4096);
	regions = cJSON_GetObjectItem(sim, "regions");
	cJSON_ArrayForEach(r, regions) {
		const struct metric *m = cmp_metric(&c, "faults", r->string);

		cr_expect_eq(m->sim_value, jnum(r, "faults"), "%s", r->string);
		m = cmp_metric(&c, "resident_bytes", r->string);
		cr_expect_eq(m->sim_value, jnum(r, "resident_bytes"), "%s", r->string);
	}
	cr_expect_eq(cmp_metric(&c, "runtime", "all")->sim_value, jnum(sim, "runtime_ns"));
	cr_expect_eq(cmp_metric(&c, "runtime", "all")->linux_value, 35252505);
	cr_expect_not_null(comparison_find(&c, "phase_runtime", "phase 4 access"));
	cr_expect(c.overall <= VERDICT_FAIL);

	/*
	 * The faults by kind, from the spec: 32 MiB advised in madvise mode is
	 * 16 THPs; 8 MiB written is 2048 4 KiB pages; 8 MiB read is 2048
	 * zero-page reads; on both sides.
	 */
	expect_metric(&c, "faults_by_kind", "thp", 0, VERDICT_PASS);
	cr_expect_eq(cmp_metric(&c, "faults_by_kind", "thp")->linux_value, 16);
	cr_expect_eq(cmp_metric(&c, "faults_by_kind", "anon_4k")->linux_value, 2048);
	cr_expect_eq(cmp_metric(&c, "faults_by_kind", "anon_4k")->sim_value, 2048);
	cr_expect_eq(cmp_metric(&c, "faults_by_kind", "zero_read")->sim_value, 2048);
	/*
	 * What a researcher relies on: every functional metric exact, so a
	 * simulation that drifts from Linux fails here (the scan outcomes,
	 * which race with the workload on Linux, are information).
	 */
	for (size_t i = 0; i < c.nr_metrics; i++) {
		const struct metric *m = &c.metrics[i];

		if (m->klass != METRIC_FUNCTIONAL)
			continue;
		cr_expect_eq(m->value, m->higher_is_better ? 1.0 : 0.0, "%s of %s: %g", m->name,
			     m->scope, m->value);
		cr_expect_eq(m->verdict, VERDICT_PASS, "%s of %s", m->name, m->scope);
	}
	cr_expect_eq(c.functional, VERDICT_PASS);
	/*
	 * Each timing metric with two values: the ratio error worked out here
	 * from them, and the verdict its tolerance gives that error.
	 */
	for (size_t i = 0; i < c.nr_metrics; i++) {
		const struct metric *m = &c.metrics[i];
		double lv = m->linux_value, sv = m->sim_value, want;
		enum verdict v;

		if (m->klass != METRIC_TIMING || isnan(lv) || isnan(sv) || lv <= 0 || sv <= 0)
			continue;
		want = (sv > lv ? sv / lv : lv / sv) - 1;
		v = want <= m->warn ? VERDICT_PASS : want > m->fail ? VERDICT_FAIL : VERDICT_WARN;
		cr_expect(fabs(m->value - want) < 1e-9 * (1 + want), "%s of %s: %g, by hand %g",
			  m->name, m->scope, m->value, want);
		cr_expect_eq(m->verdict, v, "%s of %s", m->name, m->scope);
	}
	/* the recorded phases' wall times: the file's, as recorded */
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 0 touch")->linux_value, 24221504);
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 2 touch")->linux_value, 2281552);
	{
		cJSON *j = comparison_to_json(&c);

		cr_expect_eq((size_t)cJSON_GetArraySize(cJSON_GetObjectItem(j, "metrics")), c.nr_metrics);
		cJSON_Delete(j);
	}
	cJSON_Delete(sim);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

/*
 * The suite's correlations, worked out by hand. Pearson of the logs: values
 * a constant factor apart lie on a line (r = 1), reversed r = -1; logs
 * {0, 1, 2} against {0, 2, 1} (decades): deviations {-1, 0, 1} and
 * {-1, 1, 0}, r = 1 / sqrt(2 * 2) = 0.5. Kendall: {1, 2, 3, 4} against
 * {1, 3, 2, 4}: 5 concordant pairs, 1 discordant, tau = 4 / 6; {1, 1, 2}
 * against {1, 2, 3}: one pair tied in x alone, 2 concordant, tau-b =
 * 2 / sqrt(3 * 2).
 */
Test(distance, suite_correlations)
{
	const double x[3] = { 1, 10, 100 }, y[3] = { 2, 20, 200 }, yr[3] = { 200, 20, 2 };
	const double ys[3] = { 1, 100, 10 }, k1[4] = { 1, 2, 3, 4 }, k2[4] = { 1, 3, 2, 4 };
	const double t1[3] = { 1, 1, 2 }, t2[3] = { 1, 2, 3 }, zero[2] = { 0, 1 };

	cr_expect_float_eq(pearson_log_r(x, y, 3), 1, 1e-12);
	cr_expect_float_eq(pearson_log_r(x, yr, 3), -1, 1e-12);
	cr_expect_float_eq(pearson_log_r(x, ys, 3), 0.5, 1e-12);
	cr_expect(isnan(pearson_log_r(x, y, 1)), "one pair");
	cr_expect(isnan(pearson_log_r(zero, y, 2)), "a value of 0 has no logarithm");
	cr_expect_float_eq(kendall_tau_b(k1, k2, 4), 4.0 / 6, 1e-12);
	cr_expect_float_eq(kendall_tau_b(t1, t2, 3), 2 / sqrt(6), 1e-12);
	cr_expect_float_eq(kendall_tau_b(k1, k1, 4), 1, 1e-12);
	cr_expect(isnan(kendall_tau_b(t1, t1, 2)), "no variation");
}

/*
 * A spec with threads (tests/data/compare/threads): the flushes by reason
 * and by CPU (task switches left out), the cross-calls and each thread's
 * faults, all by hand. Linux: local 1 + remote 1 (CPU 0: 1, CPU 1: 1);
 * simulated: local 1 (CPU 0) and no remote: "remote shootdown" 1 vs 0 fails,
 * "cpu 1" too; "remote IPI send" 0 on both passes. Cross-calls 1 vs 2: the
 * relative error is 1, a fail. Thread 1: 53 vs 54 faults, 1/53.
 */
Test(compare, threads_by_reason_cpu_cross_call_and_thread)
{
	struct side l, s;
	struct comparison c;

	load_pair(&l, &s, "tests/data/compare/threads");
	cr_assert_eq(s.nr_threads, 2);
	cr_assert_eq(l.thread_tids[1], 502);
	cmp_compare(&c, &l, &s);
	expect_metric(&c, "tlb_flushes", "all", 0.5, VERDICT_WARN);
	expect_metric(&c, "tlb_flushes", "local MM shootdown", 0, VERDICT_PASS);
	expect_metric(&c, "tlb_flushes", "remote shootdown", 1, VERDICT_FAIL);
	expect_metric(&c, "tlb_flushes", "remote IPI send", 0, VERDICT_PASS);
	expect_metric(&c, "tlb_flushes", "cpu 0", 0, VERDICT_PASS);
	expect_metric(&c, "tlb_flushes", "cpu 1", 1, VERDICT_FAIL);
	cr_expect_null(comparison_find(&c, "tlb_flushes", "flush on task switch"), "switches out");
	expect_metric(&c, "tlb_ipis", "sent", 1, VERDICT_FAIL);
	expect_metric(&c, "tlb_ipis", "received", 1, VERDICT_FAIL);
	expect_metric(&c, "faults", "thread 0", 0, VERDICT_PASS);
	expect_metric(&c, "faults", "thread 1", 1.0 / 53, VERDICT_FAIL);
	/* 3000 ns over 1 against 1000 over 2: 6 times too fast; 5000 over 1 both */
	expect_metric(&c, "tlb_ipi_time", "per cross-call", 5, VERDICT_FAIL);
	cr_expect_eq(cmp_metric(&c, "tlb_ipi_time", "per cross-call")->klass, METRIC_INFO);
	expect_metric(&c, "tlb_ipi_time", "wait per flush", 0, VERDICT_PASS);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}
