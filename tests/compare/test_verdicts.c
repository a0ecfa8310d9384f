/*
 * test_verdicts.c - the timing verdict's measuring stick: symmetric errors,
 * Linux's band over repeated runs, counts Linux disagrees with itself on,
 * faults by kind from hand-built logs, cold faults, and the two verdicts.
 * Every expected number is worked out by hand in the comment beside it.
 */
#include <math.h>

#include "tests/compare/harness.h"

TestSuite(verdicts, .fini = cmp_cleanup);

static void expect_near(double got, double want, const char *what)
{
	cr_expect(fabs(got - want) < 1e-9, "%s: %.12g, expected %.12g", what, got, want);
}

/* ---- the errors ----------------------------------------------------------------- */

Test(verdicts, timing_error_is_the_same_for_too_fast_and_too_slow)
{
	expect_near(ratio_error(3000, 1000), 2.0, "3x too fast");
	expect_near(ratio_error(1000, 3000), 2.0, "3x too slow");
	expect_near(ratio_error(1000, 1100), 0.1, "10% slow");
	expect_near(ratio_error(1100, 1000), 0.1, "10% fast");
	expect_near(ratio_error(0, 0), 0, "0 against 0");
	cr_expect(isinf(ratio_error(1000, 0)));
	/* the relative error could not exceed 1 for a faster simulator */
	cr_expect_lt(rel_error(3000, 1000), 1.0);
	/* against a band: 0 inside, from the nearest edge outside */
	expect_near(band_error(100, 200, 150, ratio_error), 0, "inside");
	expect_near(band_error(100, 200, 50, ratio_error), 1.0, "2x below the low edge");
	expect_near(band_error(100, 200, 300, ratio_error), 0.5, "1.5x above the high edge");
	expect_near(band_error(100, 200, 220, rel_error), 0.1, "a count 10% above");
}

/* ---- whole sides ---------------------------------------------------------------- */

/* linux.json of tests/data/compare/small, and the same numbers as the sim side */
static void write_twins(const char *dir)
{
	cJSON *j = cmp_read_json(SMALL "/linux.json");

	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	cmp_set(j, "side", cJSON_CreateString("sim"));
	cmp_write_json(j, dir, "sim.json");
}

/* Scale every time of dir/sim.json by f (runtime 1.2 ms, phases 1.0 and 0.2 ms). */
static void scale_sim_times(const char *dir, double f)
{
	cJSON *j = cmp_read_json(cmp_path(dir, "sim.json")), *p;

	cmp_set(j, "runtime_ns", cJSON_CreateNumber(1200000 * f));
	p = cJSON_GetObjectItem(j, "phases");
	cmp_set(cJSON_GetArrayItem(p, 0), "runtime_ns", cJSON_CreateNumber(round(1000000 * f)));
	cmp_set(cJSON_GetArrayItem(p, 1), "runtime_ns", cJSON_CreateNumber(round(200000 * f)));
	cmp_write_json(j, dir, "sim.json");
}

static void compare_dir(struct comparison *c, struct side *l, struct side *s, const char *dir)
{
	cmp_load(l, dir, "linux.json");
	cmp_load(s, dir, "sim.json");
	cmp_compare(c, l, s);
}

static void release3(struct comparison *c, struct side *l, struct side *s)
{
	comparison_release(c);
	side_release(l);
	side_release(s);
}

Test(verdicts, a_simulator_3x_too_fast_fails_on_timing_alone)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;
	char what[160];

	write_twins(dir);
	scale_sim_times(dir, 1.0 / 3);
	compare_dir(&c, &l, &s, dir);
	/* 1.2 ms against 0.4 ms: 3x, a ratio error of 2 */
	expect_near(cmp_metric(&c, "runtime", "all")->value, 2.0, "runtime");
	cr_expect_eq(cmp_metric(&c, "runtime", "all")->verdict, VERDICT_FAIL);
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 0 touch")->verdict, VERDICT_FAIL);
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 1 touch")->verdict, VERDICT_FAIL);
	cr_expect_eq(c.functional, VERDICT_PASS);
	cr_expect_eq(c.timing, VERDICT_FAIL);
	cr_expect_eq(c.overall, VERDICT_FAIL);
	cr_expect_not(c.calibrated);
	metric_describe(cmp_metric(&c, "runtime", "all"), what, sizeof(what));
	cr_expect_str_eq(what, "runtime 3x too fast");
	release3(&c, &l, &s);
}

Test(verdicts, a_simulator_3x_too_slow_fails_the_same)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;
	char what[160];

	write_twins(dir);
	scale_sim_times(dir, 3);
	compare_dir(&c, &l, &s, dir);
	expect_near(cmp_metric(&c, "runtime", "all")->value, 2.0, "runtime");
	expect_near(cmp_metric(&c, "phase_runtime", "phase 1 touch")->value, 2.0, "phase 1");
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 1 touch")->verdict, VERDICT_FAIL);
	cr_expect_eq(c.timing, VERDICT_FAIL);
	cr_expect_eq(c.functional, VERDICT_PASS);
	metric_describe(cmp_metric(&c, "phase_runtime", "phase 1 touch"), what, sizeof(what));
	cr_expect_str_eq(what, "phase_runtime (phase 1 touch) 3x too slow");
	release3(&c, &l, &s);
}

/* dir/linux-k.json: the small Linux side with phase 0 taking p0 ns and region b f faults */
static void write_linux_run(const char *dir, const char *name, double p0, double f)
{
	cJSON *j = cmp_read_json(SMALL "/linux.json");

	cmp_set(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 0), "runtime_ns",
		cJSON_CreateNumber(p0));
	cmp_set(j, "runtime_ns", cJSON_CreateNumber(p0 + 200000));
	cmp_set(cmp_region(j, "b"), "faults", cJSON_CreateNumber(f));
	cmp_write_json(j, dir, name);
}

/* The sim side of the small workload with phase 0 taking p0 ns and region b f faults. */
static void write_sim(const char *dir, double p0, double f)
{
	write_linux_run(dir, "sim.json", p0, f);
	{
		cJSON *j = cmp_read_json(cmp_path(dir, "sim.json"));

		cmp_set(j, "side", cJSON_CreateString("sim"));
		cmp_write_json(j, dir, "sim.json");
	}
}

/* Three Linux runs: phase 0 in 1.0, 1.6 and 1.3 ms, region b 3, 5 and 4 faults. */
static void compare_three(struct comparison *c, struct side l[3], struct side *s,
			  const char *dir, double sim_p0, double sim_b)
{
	const struct side *runs[3] = { &l[0], &l[1], &l[2] };
	struct tolerances tol;
	struct wl_error err = { 0 };

	write_linux_run(dir, "linux.json", 1000000, 3);
	write_linux_run(dir, "linux-2.json", 1600000, 5);
	write_linux_run(dir, "linux-3.json", 1300000, 4);
	write_sim(dir, sim_p0, sim_b);
	cmp_load(&l[0], dir, "linux.json");
	cmp_load(&l[1], dir, "linux-2.json");
	cmp_load(&l[2], dir, "linux-3.json");
	cmp_load(s, dir, "sim.json");
	tolerances_init(&tol);
	cr_assert_eq(compare_runs(c, runs, 3, s, &tol, &err), 0, "%s: %s", err.path, err.msg);
	tolerances_release(&tol);
}

static void release_three(struct comparison *c, struct side l[3], struct side *s)
{
	comparison_release(c);
	for (int i = 0; i < 3; i++)
		side_release(&l[i]);
	side_release(s);
}

Test(verdicts, the_band_of_three_runs_by_hand)
{
	const char *dir = cmp_tmp_dir();
	struct side l[3], s;
	struct comparison c;
	const struct metric *m;

	compare_three(&c, l, &s, dir, 1400000, 4);
	m = cmp_metric(&c, "phase_runtime", "phase 0 touch");
	/* sorted 1.0, 1.3, 1.6 ms: median 1.3, band 1.0..1.6; 1.4 inside: 0 */
	expect_near(m->linux_value, 1300000, "median");
	expect_near(m->linux_lo, 1000000, "low edge");
	expect_near(m->linux_hi, 1600000, "high edge");
	cr_expect_eq(m->linux_runs, 3);
	expect_near(m->value, 0, "inside the band");
	cr_expect_eq(m->verdict, VERDICT_PASS);
	/* the whole run: 1.2, 1.8, 1.5 ms; 1.6 inside */
	m = cmp_metric(&c, "runtime", "all");
	expect_near(m->linux_value, 1500000, "runtime median");
	cr_expect_eq(m->verdict, VERDICT_PASS);
	cr_expect_eq(c.nr_linux_runs, 3);
	release_three(&c, l, &s);
}

Test(verdicts, outside_the_band_is_judged_from_its_nearest_edge)
{
	const char *dir = cmp_tmp_dir();
	struct side l[3], s;
	struct comparison c;

	/* 2.4 ms against the high edge 1.6: 1.5x, 0.5, a warning (phase: warn 0.2, fail 1) */
	compare_three(&c, l, &s, dir, 2400000, 4);
	expect_near(cmp_metric(&c, "phase_runtime", "phase 0 touch")->value, 0.5, "above");
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 0 touch")->verdict, VERDICT_WARN);
	release_three(&c, l, &s);
	cmp_cleanup();
	/* 0.4 ms against the low edge 1.0: 2.5x too fast, 1.5: fails */
	dir = cmp_tmp_dir();
	compare_three(&c, l, &s, dir, 400000, 4);
	expect_near(cmp_metric(&c, "phase_runtime", "phase 0 touch")->value, 1.5, "below");
	cr_expect_eq(cmp_metric(&c, "phase_runtime", "phase 0 touch")->verdict, VERDICT_FAIL);
	release_three(&c, l, &s);
}

Test(verdicts, a_count_linux_disagrees_on_is_unstable_not_failed)
{
	const char *dir = cmp_tmp_dir();
	struct side l[3], s;
	struct comparison c;
	const struct metric *m;

	/* region b: Linux 3, 5, 4 faults; the simulator's 4 is inside */
	compare_three(&c, l, &s, dir, 1300000, 4);
	m = cmp_metric(&c, "faults", "b");
	cr_expect_eq(m->verdict, VERDICT_UNSTABLE);
	cr_expect_not_null(strstr(m->note, "Linux unstable: 3..5 over 3 runs"), "%s", m->note);
	cr_expect_eq(c.functional, VERDICT_PASS, "unstable blames nobody");
	release_three(&c, l, &s);
	cmp_cleanup();
	/* 6 is beyond 5 by 20%: a failure, unstable or not */
	dir = cmp_tmp_dir();
	compare_three(&c, l, &s, dir, 1300000, 6);
	m = cmp_metric(&c, "faults", "b");
	expect_near(m->value, 0.2, "from the nearest edge");
	cr_expect_eq(m->verdict, VERDICT_FAIL);
	cr_expect_eq(c.functional, VERDICT_FAIL);
	release_three(&c, l, &s);
}

Test(verdicts, summary_json_has_both_verdicts_and_the_band)
{
	const char *dir = cmp_tmp_dir();
	struct side l[3], s;
	struct comparison c;
	cJSON *j, *m;

	compare_three(&c, l, &s, dir, 400000, 4);
	j = comparison_to_json(&c);
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "functional_verdict")), "pass");
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "timing_verdict")), "fail");
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "verdict")), "fail");
	cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(j, "calibrated")));
	cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "linux_runs")), 3);
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(j, "metrics"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")), "phase_runtime") &&
		    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "scope")), "phase 0 touch"))
			break;
	cr_assert_not_null(m);
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(m, "class")), "timing");
	cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "linux_min")), 1000000);
	cr_expect_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(m, "linux_max")), 1600000);
	cJSON_Delete(j);
	release_three(&c, l, &s);
}

Test(verdicts, a_calibrated_configuration_says_so)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;
	cJSON *j;

	write_twins(dir);
	j = cmp_read_json(cmp_path(dir, "sim.json"));
	cmp_set(j, "calibrated", cJSON_CreateTrue());
	cmp_write_json(j, dir, "sim.json");
	compare_dir(&c, &l, &s, dir);
	cr_expect(c.calibrated);
	release3(&c, &l, &s);
}

/* ---- faults by kind ------------------------------------------------------------------ */

#define R0	0x40000000ull		/* region r: nine 2 MiB blocks */
#define BLK(i)	(R0 + ((uint64_t)(i) << 21))
#define MIB2	2097152

static struct vt_alloc movable(unsigned order)
{
	return (struct vt_alloc){ .pfn = 1000, .order = (uint8_t)order, .migratetype = 1,
				  .cause = VT_CAUSE_FAULT };
}

static struct vt_alloc table(void)
{
	return (struct vt_alloc){ .pfn = 7, .order = 0, .migratetype = 0, .cause = VT_CAUSE_FAULT };
}

/* A fault of phase 0: P and W bits, its allocations (up to two recorded, nr in all). */
static struct vt_event fault(uint64_t ts, uint64_t addr, bool present, bool write,
			     unsigned nr, const struct vt_alloc *a, int64_t rss)
{
	struct vt_event e = cmp_fault(ts, 0, addr, 1000 + ts);

	e.fault.error_code = (present ? 1u : 0u) | (write ? 2u : 0u) | 4u;
	e.fault.nr_allocs = (uint8_t)nr;
	for (unsigned i = 0; i < nr && i < VT_FAULT_ALLOCS; i++)
		e.fault.alloc[i] = a[i];
	e.fault.rss_anon = rss;
	return e;
}

/*
 * One fault of each kind, each in its own 2 MiB block (the comment names
 * what decides it), and the region's backing at the end to match.
 */
static size_t kinds_log(struct vt_event *ev)
{
	struct vt_alloc o0 = movable(0), o9 = movable(9), o4 = movable(4);
	struct vt_alloc pt[2] = { table(), table() };
	size_t n = 0;

	/* block 0: a write to nothing, order 0: anon_4k; then a spurious write: other */
	ev[n++] = fault(10, BLK(0), false, true, 1, &o0, -1);
	ev[n++] = fault(20, BLK(0), true, true, 0, NULL, -1);
	/* block 1: two reads (a PTE table: both the 4 KiB zero page), then COW of the first */
	ev[n++] = fault(30, BLK(1), false, false, 0, NULL, -1);
	ev[n++] = fault(40, BLK(1) + 4096, false, false, 0, NULL, -1);
	ev[n++] = fault(50, BLK(1), true, true, 1, &o0, -1);
	/* block 2: a read, then a write to a present entry allocating 2 MiB: the huge zero page */
	ev[n++] = fault(60, BLK(2), false, false, 0, NULL, -1);
	ev[n++] = fault(70, BLK(2) + 8192, true, true, 1, &o9, -1);
	/* block 3: a THP; block 4: a 64 KiB mTHP */
	ev[n++] = fault(80, BLK(3), false, true, 1, &o9, -1);
	ev[n++] = fault(90, BLK(4), false, true, 1, &o4, -1);
	/* block 5: a lone read, the block all "zero" at the end: the huge zero page */
	ev[n++] = fault(100, BLK(5), false, false, 0, NULL, -1);
	/* block 6: two reads (4 KiB), munmap of the block, a read and a 2 MiB write: huge zero */
	ev[n++] = fault(110, BLK(6), false, false, 0, NULL, -1);
	ev[n++] = fault(120, BLK(6) + 4096, false, false, 0, NULL, -1);
	memset(&ev[n], 0, sizeof(ev[n]));
	ev[n].ts = 125;
	ev[n].type = VT_SYSCALL;
	ev[n].phase = 0;
	ev[n].sys.nr = 11;
	ev[n].sys.args[0] = BLK(6);
	ev[n++].sys.args[1] = MIB2;
	ev[n++] = fault(130, BLK(6), false, false, 0, NULL, -1);
	ev[n++] = fault(140, BLK(6) + 4096, true, true, 1, &o9, -1);
	/* block 7: a lone read, one page "zero" at the end: the 4 KiB zero page */
	ev[n++] = fault(150, BLK(7), false, false, 0, NULL, -1);
	/* block 8: page tables at two levels recorded, the folio not: RSS grew by 2 MiB */
	memset(&ev[n], 0, sizeof(ev[n]));
	ev[n].ts = 155;
	ev[n].type = VT_RSS;
	ev[n].phase = 0;
	ev[n].rss.member = 1;
	ev[n++].rss.size = 40960;
	ev[n++] = fault(160, BLK(8), false, true, 3, pt, 40960 + MIB2);
	/* a fault that failed */
	ev[n] = fault(170, BLK(0) + 8192, false, true, 0, NULL, -1);
	ev[n++].fault.completed = 0;
	return n;
}

/* kinds in log order of the fault records above */
static const enum fault_kind kinds_want[] = {
	FAULT_anon_4k, FAULT_other, FAULT_zero_read, FAULT_zero_read, FAULT_zero_cow,
	FAULT_huge_zero_read, FAULT_huge_zero_write, FAULT_thp, FAULT_mthp_64k,
	FAULT_huge_zero_read, FAULT_zero_read, FAULT_zero_read, FAULT_huge_zero_read,
	FAULT_huge_zero_write, FAULT_zero_read, FAULT_thp, FAULT_other,
};

static void write_kinds_side(const char *dir, const char *name, const char *side,
			     const char *log)
{
	cJSON *j = cJSON_Parse(
		"{\"workload\": \"kinds\", \"complete\": true, \"runtime_ns\": 1000, "
		" \"regions\": {\"r\": {\"start\": 1073741824, \"size\": 18874368, \"faults\": 17,"
		"   \"thp_faults\": 2, \"huge_bytes\": 0, \"resident_bytes\": 0,"
		"   \"pages\": {\"none\": 2028, \"zero\": 514, \"pte\": 18, \"pmd\": 2048},"
		"   \"backing\": [[\"pte\", 1], [\"none\", 511], [\"pte\", 1], [\"zero\", 1],"
		"     [\"none\", 510], [\"pmd\", 1024], [\"pte\", 16], [\"none\", 496],"
		"     [\"zero\", 512], [\"pmd\", 512], [\"zero\", 1], [\"none\", 511],"
		"     [\"pmd\", 512]]}},"
		" \"phases\": [{\"op\": \"touch\", \"region\": \"r\", \"runtime_ns\": 1000,"
		"   \"faults\": 17, \"start_ns\": 0}]}");

	cr_assert_not_null(j);
	cmp_set(j, "side", cJSON_CreateString(side));
	cmp_set(j, "events_log", cJSON_CreateString(log));
	cmp_write_json(j, dir, name);
}

Test(verdicts, faults_classified_by_kind_the_same_on_both_sides)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event ev[32];
	size_t n = kinds_log(ev);
	struct side l, s;
	struct comparison c;

	write_kinds_side(dir, "linux.json", "linux", "events.vlog");
	write_kinds_side(dir, "sim.json", "sim", "sim-events.vlog");
	cmp_write_log(dir, "events.vlog", "{}", ev, n);
	cmp_write_log(dir, "sim-events.vlog", "{}", ev, n);
	compare_dir(&c, &l, &s, dir);
	cr_assert_eq(l.nr_faults, sizeof(kinds_want) / sizeof(kinds_want[0]));
	cr_assert_eq(s.nr_faults, l.nr_faults);
	for (size_t i = 0; i < l.nr_faults; i++) {
		cr_expect_eq(l.faults[i].kind, kinds_want[i], "Linux fault %zu: %s, expected %s", i,
			     fault_kind_name(l.faults[i].kind), fault_kind_name(kinds_want[i]));
		cr_expect_eq(s.faults[i].kind, kinds_want[i], "sim fault %zu: %s, expected %s", i,
			     fault_kind_name(s.faults[i].kind), fault_kind_name(kinds_want[i]));
	}
	/* counted per kind: 5 zero-page reads, 3 huge-zero reads, 2 THPs, ... */
	expect_near(cmp_metric(&c, "faults_by_kind", "zero_read")->linux_value, 5, "zero_read");
	expect_near(cmp_metric(&c, "faults_by_kind", "huge_zero_read")->sim_value, 3, "hzp");
	expect_near(cmp_metric(&c, "faults_by_kind", "thp")->linux_value, 2, "thp");
	cr_expect_eq(cmp_metric(&c, "faults_by_kind", "mthp_64k")->verdict, VERDICT_PASS);
	cr_expect_null(comparison_find(&c, "faults_by_kind", "mthp_16k"), "no such faults");
	cr_expect_str_eq(fault_kind_name(FAULT_huge_zero_write), "huge_zero_write");
	cr_expect_null(fault_kind_name(FAULT_KIND_NR));
	release3(&c, &l, &s);
}

/* ---- cold faults -------------------------------------------------------------------- */

Test(verdicts, cold_faults_are_left_out_of_the_quantiles_and_counted)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event lx[8], sm[8];
	struct vt_alloc o0 = movable(0);
	struct side l, s;
	struct comparison c;
	const struct metric *m;

	/* seven warm 4 KiB faults at 1.0 us and one at 20 us: above 5 x the quartile 1.0 us */
	for (int i = 0; i < 8; i++) {
		lx[i] = fault(10 + (uint64_t)i, BLK(0) + 4096 * (uint64_t)i, false, true, 1, &o0, -1);
		lx[i].fault.latency_ns = i == 3 ? 20000 : 1000;
		sm[i] = lx[i];
		sm[i].fault.latency_ns = 1050;
	}
	write_kinds_side(dir, "linux.json", "linux", "events.vlog");
	write_kinds_side(dir, "sim.json", "sim", "sim-events.vlog");
	cmp_write_log(dir, "events.vlog", "{}", lx, 8);
	cmp_write_log(dir, "sim-events.vlog", "{}", sm, 8);
	compare_dir(&c, &l, &s, dir);
	cr_expect(l.faults[3].cold);
	cr_expect_not(l.faults[2].cold);
	/* the p99 of the warm seven is 1.0 us; 1.05 is 5% off: a pass */
	m = cmp_metric(&c, "fault_latency_p99", "anon_4k");
	expect_near(m->linux_value, 1000, "warm p99");
	expect_near(m->value, 0.05, "p99 error");
	cr_expect_eq(m->verdict, VERDICT_PASS);
	/* one in eight cold: information, above its 5% warning */
	m = cmp_metric(&c, "cold_faults", "anon_4k");
	expect_near(m->linux_value, 0.125, "cold share");
	cr_expect_eq(m->klass, METRIC_INFO);
	cr_expect_eq(m->verdict, VERDICT_WARN);
	/* the all-faults mix keeps the cold one, and decides nothing */
	m = cmp_metric(&c, "fault_latency_p99", "all");
	expect_near(m->linux_value, 20000, "the mix's p99");
	cr_expect_eq(m->klass, METRIC_INFO);
	cr_expect_eq(c.timing, VERDICT_PASS);
	release3(&c, &l, &s);
}

/* ---- the probes' own cost, and Linux without probes --------------------------------- */

/*
 * Both sides of the kinds workload with the fault records ev[0..n) on each,
 * Linux's probes block 'probes' (JSON), compared.
 */
static void compare_probed(struct comparison *c, struct side *l, struct side *s,
			   const char *probes, const struct vt_event *ev, size_t n)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j;

	write_kinds_side(dir, "linux.json", "linux", "events.vlog");
	j = cmp_read_json(cmp_path(dir, "linux.json"));
	cmp_set(j, "probes", cJSON_Parse(probes));
	cmp_write_json(j, dir, "linux.json");
	write_kinds_side(dir, "sim.json", "sim", "sim-events.vlog");
	cmp_write_log(dir, "events.vlog", "{}", ev, n);
	cmp_write_log(dir, "sim-events.vlog", "{}", ev, n);
	compare_dir(c, l, s, dir);
}

Test(verdicts, the_probes_in_window_cost_is_taken_off_linuxs_latencies)
{
	struct vt_event ev[3];
	struct vt_alloc o0 = movable(0), pt[2] = { table(), movable(0) };
	struct side l, s;
	struct comparison c;

	/*
	 * page_alloc 140 + 70 ns of statistics, rss_stat 150 + 70, tlb_flush
	 * 100 + 70: a 4 KiB write with 1 allocation and 1 RSS change is
	 * 2000 - 210 - 220 = 1570 ns; one that also allocated a page table is
	 * 2000 - 2 x 210 - 220 = 1360; a COW of the zero page, 1 allocation, 1
	 * RSS change and its flush: 3000 - 210 - 220 - 170 = 2400.
	 */
	ev[0] = fault(10, BLK(0), false, true, 1, &o0, -1);
	ev[1] = fault(20, BLK(1), false, true, 2, pt, -1);
	ev[2] = fault(30, BLK(0), true, true, 1, &o0, -1);
	ev[0].fault.latency_ns = ev[1].fault.latency_ns = 2000;
	ev[2].fault.latency_ns = 3000;
	for (int i = 0; i < 3; i++)
		ev[i].fault.nr_rss = 1;
	compare_probed(&c, &l, &s, "{\"probe_cost_ns\": {\"fault_entry\": 150, "
		       "\"fault_completion\": 180, \"page_alloc\": 140, \"rss_stat\": 150, "
		       "\"tlb_flush\": 100}, \"stats_overhead_ns\": 70}", ev, 3);
	cr_expect_eq(l.faults[0].latency_ns, 1570);
	cr_expect_eq(l.faults[0].probe_ns, 430);
	cr_expect_eq(l.faults[1].latency_ns, 1360);
	cr_expect_eq(l.faults[2].kind, FAULT_zero_cow);
	cr_expect_eq(l.faults[2].latency_ns, 2400);
	/* the simulated side has no probes: its latencies stay */
	cr_expect_eq(s.faults[0].latency_ns, 2000);
	release3(&c, &l, &s);
}

/*
 * The probes' default is no rss_stat hook: no RSS change counted, no cost
 * of it given (null). The allocation's cost still comes off: a 4 KiB write
 * with one allocation, 2000 - (140 + 70) = 1790 ns; with two, 2000 - 420 =
 * 1580.
 */
Test(verdicts, without_the_rss_hook_only_the_allocations_cost_comes_off)
{
	struct vt_event ev[2];
	struct vt_alloc o0 = movable(0), pt[2] = { table(), movable(0) };
	struct side l, s;
	struct comparison c;

	ev[0] = fault(10, BLK(0), false, true, 1, &o0, -1);
	ev[1] = fault(20, BLK(1), false, true, 2, pt, -1);
	ev[0].fault.latency_ns = ev[1].fault.latency_ns = 2000;
	compare_probed(&c, &l, &s, "{\"probe_cost_ns\": {\"fault_entry\": 150, "
		       "\"fault_completion\": 180, \"page_alloc\": 140, \"rss_stat\": null, "
		       "\"tlb_flush\": null}, \"stats_overhead_ns\": 70}", ev, 2);
	cr_expect_eq(l.faults[0].latency_ns, 1790);
	cr_expect_eq(l.faults[1].latency_ns, 1580);
	release3(&c, &l, &s);
}

/*
 * --latency-sample: Linux timed one fault in N and the rest have no
 * latency (0), yet all completed. The share of the phase inside faults is
 * the timed faults' mean times every completed fault: here 4 completed in
 * a 1000 ns phase, two timed at 100 and 300 ns: (100 + 300) / 2 x 4 / 1000
 * = 0.8; a failed fault counts in neither. The simulated side timed all
 * four at 100: 0.4.
 */
Test(verdicts, sampled_latencies_stand_for_every_completed_fault_in_the_fault_share)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event ev[5], sv[4];
	struct vt_alloc o0 = movable(0);
	struct side l, s;
	struct comparison c;
	const struct metric *m;

	for (int i = 0; i < 4; i++) {
		ev[i] = fault(10 + 10 * (uint64_t)i, BLK(0) + 4096 * (uint64_t)i, false, true, 1,
			      &o0, -1);
		ev[i].fault.latency_ns = 0;
		sv[i] = ev[i];
		sv[i].fault.latency_ns = 100;
	}
	ev[1].fault.latency_ns = 100;
	ev[3].fault.latency_ns = 300;
	ev[4] = fault(60, BLK(1), false, true, 0, NULL, -1);
	ev[4].fault.completed = 0;
	write_kinds_side(dir, "linux.json", "linux", "events.vlog");
	write_kinds_side(dir, "sim.json", "sim", "sim-events.vlog");
	cmp_write_log(dir, "events.vlog", "{}", ev, 5);
	cmp_write_log(dir, "sim-events.vlog", "{}", sv, 4);
	compare_dir(&c, &l, &s, dir);
	m = cmp_metric(&c, "fault_time_share", "phase 0 touch");
	cr_assert_not_null(m);
	expect_near(m->linux_value, 0.8, "Linux's share");
	expect_near(m->sim_value, 0.4, "the simulator's share");
	release3(&c, &l, &s);
}

Test(verdicts, linux_without_probes_is_the_time_the_simulator_is_judged_by)
{
	const char *dir = cmp_tmp_dir();
	struct side l, s;
	struct comparison c;
	cJSON *j;

	/* probed: 1.2 ms, phases 1.0 and 0.2 ms; without probes 0.9, 0.75 and 0.15 ms */
	write_twins(dir);
	j = cmp_read_json(cmp_path(dir, "linux.json"));
	cmp_set(j, "probe_free_runtime_ns", cJSON_CreateNumber(900000));
	cmp_set(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 0), "probe_free_runtime_ns",
		cJSON_CreateNumber(750000));
	cmp_set(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 1), "probe_free_runtime_ns",
		cJSON_CreateNull());
	cmp_write_json(j, dir, "linux.json");
	scale_sim_times(dir, 0.75);	/* the simulator: 0.9, 0.75 and 0.15 ms */
	compare_dir(&c, &l, &s, dir);
	expect_near(cmp_metric(&c, "runtime", "all")->linux_value, 900000, "probe-free runtime");
	expect_near(cmp_metric(&c, "runtime", "all")->value, 0, "runtime");
	cr_expect_not_null(strstr(cmp_metric(&c, "runtime", "all")->note, "without probes"));
	expect_near(cmp_metric(&c, "phase_runtime", "phase 0 touch")->value, 0, "phase 0");
	/* phase 1 has no probe-free time: the probed 0.2 ms against 0.15, 1/3 */
	expect_near(cmp_metric(&c, "phase_runtime", "phase 1 touch")->value, 1.0 / 3, "phase 1");
	release3(&c, &l, &s);
}

Test(verdicts, a_folio_sent_ahead_of_its_fault_record_counts_for_the_fault)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event ev[2];
	struct vt_alloc pt[2] = { table(), table() };
	struct side l, s;
	struct comparison c;

	/* Linux: three page tables and the THP, the THP sent ahead as its own record */
	memset(&ev[0], 0, sizeof(ev[0]));
	ev[0].ts = 5;
	ev[0].tid = 1;
	ev[0].type = VT_ALLOC;
	ev[0].phase = 0;
	ev[0].alloc = movable(9);
	ev[1] = fault(10, BLK(3), false, true, 4, pt, -1);
	write_kinds_side(dir, "linux.json", "linux", "events.vlog");
	write_kinds_side(dir, "sim.json", "sim", "sim-events.vlog");
	cmp_write_log(dir, "events.vlog", "{}", ev, 2);
	cmp_write_log(dir, "sim-events.vlog", "{}", ev, 2);
	compare_dir(&c, &l, &s, dir);
	cr_assert_eq(l.nr_faults, 1);
	cr_expect_eq(l.faults[0].kind, FAULT_thp);
	cr_expect_eq(l.faults[0].order, 9);
	release3(&c, &l, &s);
}

Test(verdicts, the_simulated_sides_slow_faults_are_never_cold)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event ev[8];
	struct vt_alloc o0 = movable(0);
	struct side l, s;
	struct comparison c;

	/* the same 1.0 us and one 20 us fault on both sides: only Linux's is cold */
	for (int i = 0; i < 8; i++) {
		ev[i] = fault(10 + (uint64_t)i, BLK(0) + 4096 * (uint64_t)i, false, true, 1, &o0, -1);
		ev[i].fault.latency_ns = i == 3 ? 20000 : 1000;
	}
	write_kinds_side(dir, "linux.json", "linux", "events.vlog");
	write_kinds_side(dir, "sim.json", "sim", "sim-events.vlog");
	cmp_write_log(dir, "events.vlog", "{}", ev, 8);
	cmp_write_log(dir, "sim-events.vlog", "{}", ev, 8);
	compare_dir(&c, &l, &s, dir);
	cr_expect(l.faults[3].cold);
	cr_expect_not(s.faults[3].cold);
	/* the simulated p99 keeps its 20 us: 20x Linux's warm 1 us */
	expect_near(cmp_metric(&c, "fault_latency_p99", "anon_4k")->sim_value, 20000, "sim p99");
	cr_expect_eq(cmp_metric(&c, "fault_latency_p99", "anon_4k")->verdict, VERDICT_FAIL);
	release3(&c, &l, &s);
}
