/*
 * test_measure.c - the calibration measurements (calibrate/measure.h) and
 * virtuoso calibrate --measure.
 *
 * The host's numbers differ from host to host, so the tests check what
 * holds on any host (each derived where it is checked), with generous
 * bounds, never a timing against a target.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "calibrate/measure.h"
#include "tests/host.h"
#include "tests/run.h"
#include "workload/json.h"

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

/*
 * Ten periods of 31 faults, 1000 + (i % 5) * 10 ns each, and the fault at
 * residue 7 of each period 3000 ns more (a batch filled every 31): by hand,
 * the median of all 310 is 1020 (300 plain ones spread evenly over 1000 ..
 * 1040), of residue 7's ten 4020; the excess 3000. Fewer than 8 periods: NAN.
 */
Test(measure, periodic_excess_is_what_the_batch_fault_pays_beyond_the_rest)
{
	uint64_t v[310];
	unsigned residue = 99;

	for (unsigned i = 0; i < 310; i++)
		v[i] = 1000 + (i % 5) * 10 + (i % 31 == 7 ? 3000 : 0);
	cr_expect_eq(cal_periodic_excess(v, 310, 31, &residue), 3000);
	cr_expect_eq(residue, 7);
	cr_expect(isnan(cal_periodic_excess(v, 31 * 8 - 1, 31, NULL)), "under 8 periods");
	/* no batch: a flat series has no excess to speak of */
	for (unsigned i = 0; i < 310; i++)
		v[i] = 1000 + (i % 5) * 10;
	cr_expect_leq(fabs(cal_periodic_excess(v, 310, 31, NULL)), 20);
}

/* A stat object: every key a number, and min <= median <= max (the median is one of the runs, or the mean of two). */
static double stat_median(const cJSON *parent, const char *key, const char *where)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key), *v;
	double m[4];
	static const char *const names[4] = { "median", "min", "max", "spread" };

	cr_assert(cJSON_IsObject(o), "%s.%s: expected a stat object", where, key);
	for (int i = 0; i < 4; i++) {
		v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
		cr_assert(cJSON_IsNumber(v), "%s.%s.%s: expected a number", where, key, names[i]);
		m[i] = v->valuedouble;
		cr_assert(isfinite(m[i]) && m[i] >= 0, "%s.%s.%s: %g", where, key, names[i], m[i]);
	}
	cr_expect(m[1] <= m[0] && m[0] <= m[2], "%s.%s: median %g outside [%g, %g]", where, key,
		  m[0], m[1], m[2]);
	return m[0];
}

static const cJSON *obj(const cJSON *parent, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);

	cr_assert_not_null(o, "missing \"%s\"", key);
	return o;
}

/* Every field of the host's identity: what a fit files its parameters under. */
static void check_host(const cJSON *root)
{
	const cJSON *h = obj(root, "host"), *cpu = obj(h, "cpu"), *k = obj(h, "kernel");
	const cJSON *thp = obj(h, "thp");

	cr_expect(cJSON_IsString(obj(root, "tool_version")));
	cr_expect(cJSON_IsString(obj(root, "date")) && strlen(obj(root, "date")->valuestring) == 20);
	cr_expect(cJSON_IsString(obj(cpu, "vendor")));
	cr_expect(cJSON_IsNumber(obj(cpu, "family")));
	cr_expect(cJSON_IsNumber(obj(cpu, "model")));
	cr_expect(cJSON_IsNumber(obj(cpu, "stepping")));
	cr_expect(cJSON_IsString(obj(cpu, "model_name")));
	cr_expect(cJSON_IsString(obj(cpu, "key")));
	cr_expect(cJSON_IsString(obj(k, "release")) && obj(k, "release")->valuestring[0]);
	cr_expect(cJSON_IsString(obj(k, "version")));
	cr_expect(cJSON_IsBool(obj(h, "guest")));
	cr_expect(cJSON_IsString(obj(h, "hypervisor")) || cJSON_IsNull(obj(h, "hypervisor")));
	cr_expect(cJSON_IsNumber(obj(h, "page_reporting_order")) ||
		  cJSON_IsNull(obj(h, "page_reporting_order")));
	cr_expect(cJSON_IsString(obj(thp, "enabled")));
	cr_expect(cJSON_IsString(obj(thp, "defrag")));
	cr_expect(cJSON_IsBool(obj(thp, "use_zero_page")));
	cr_expect(cJSON_IsNumber(obj(h, "llc_bytes")) || cJSON_IsNull(obj(h, "llc_bytes")));
}

static void check_measurements(const cJSON *root)
{
	const cJSON *line = obj(obj(root, "line_chase"), "points"), *pc = obj(root, "page_chase");
	const cJSON *faults = obj(root, "faults"), *native = obj(root, "native"), *p;
	static const char *const kinds[] = { "write_4k", "zero_read", "zero_cow", "thp_2m" };
	static const char *const pats[] = { "sequential", "uniform", "zipf", "chase" };
	double clk, first, last = 0;
	int n;

	check_host(root);
	/*
	 * Every x86 core since the P6 retires one dependent add per cycle at
	 * best, and no core of the last twenty years clocks below 0.5 GHz or
	 * above 10 GHz: between 0.5 and 10 adds (cycles) per ns.
	 */
	clk = stat_median(obj(root, "clock"), "cycles_per_ns", "clock");
	cr_expect(clk >= 0.5 && clk <= 10, "clock: %g cycles/ns", clk);

	/*
	 * A chase over 16 KiB stays in L1 (every L1D since 1995 holds 16 KiB);
	 * the largest buffer exceeds the LLC the quick run was given (64 MiB >
	 * 32 MiB here; on bigger LLCs it is at least not in L1 or L2). A load
	 * that misses L1 waits longer than one that hits it.
	 */
	n = cJSON_GetArraySize(line);
	cr_assert_geq(n, 5);
	first = stat_median(cJSON_GetArrayItem(line, 0), "ns_per_load", "line_chase[0]");
	for (int i = 1; i < n; i++)
		last = stat_median(cJSON_GetArrayItem(line, i), "ns_per_load", "line_chase[i]");
	cr_expect_eq(obj(cJSON_GetArrayItem(line, 0), "bytes")->valuedouble, 16384);
	cr_expect_lt(first, last, "line chase: %g ns at 16 KiB, %g at the largest", first, last);
	cr_expect(first > 0.05 && last < 10000, "line chase: %g, %g ns per load", first, last);

	/*
	 * 8 pages of 4 KiB: 8 lines and 8 translations, which every L1 DTLB
	 * holds. The largest buffer (128 MiB in the quick run, 1 GiB in the
	 * full) needs 32768 translations: more than any STLB (a few thousand
	 * entries), and its lines spill the L1 and L2. Each load then misses
	 * where the small chase hits.
	 */
	for (int h = 0; h < 2; h++) {
		const char *adv = h ? "hugepage" : "nohugepage";
		const cJSON *pts = obj(pc, adv);

		n = cJSON_GetArraySize(pts);
		cr_assert_geq(n, 7, "page_chase.%s: %d sizes", adv, n);
		cr_expect_eq(obj(cJSON_GetArrayItem(pts, 0), "pages")->valuedouble, 8);
		first = stat_median(cJSON_GetArrayItem(pts, 0), "ns_per_load", adv);
		for (int i = 1; i < n; i++)
			last = stat_median(cJSON_GetArrayItem(pts, i), "ns_per_load", adv);
		if (!h)
			cr_expect_lt(first, last, "page chase nohugepage: %g ns at 8 pages, %g at %g B",
				     first, last,
				     obj(cJSON_GetArrayItem(pts, n - 1), "bytes")->valuedouble);
		/* MADV_NOHUGEPAGE: no THP can back the buffer */
		if (!h)
			for (int i = 0; i < n; i++)
				cr_expect_eq(obj(cJSON_GetArrayItem(pts, i), "anon_huge_kib")->valuedouble,
					     0);
	}
	cr_expect(cJSON_IsBool(obj(pc, "thp_obtained")));

	/* memset and memcpy move at least 0.1 GB/s and less than 1000 on any machine */
	for (int i = 0; i < 2; i++) {
		double bw = stat_median(obj(root, "bandwidth"),
					i ? "memcpy_gb_per_s" : "memset_gb_per_s", "bandwidth");

		cr_expect(bw > 0.1 && bw < 1000, "bandwidth: %g GB/s", bw);
	}
	/* an access of the executor is at least a load or store: over 0.05 ns, and under 10 us */
	for (int i = 0; i < 4; i++) {
		double v = stat_median(obj(native, pats[i]), "ns_per_access", pats[i]);

		cr_expect(v > 0.05 && v < 10000, "native %s: %g ns", pats[i], v);
	}
	/*
	 * Faults: each kind measured or skipped with a reason. A fault enters
	 * the kernel (0.05 us at least, a syscall's round trip) and takes less
	 * than 100 ms even cold in a guest. A zero-page read allocates nothing;
	 * a THP write clears 512 pages: the THP fault costs more than the read.
	 */
	for (int k = 0; k < 4; k++)
		for (int m = 0; m < 2; m++) {
			const cJSON *f = obj(obj(faults, kinds[k]), m ? "warm" : "cold");

			p = cJSON_GetObjectItemCaseSensitive(f, "skipped");
			if (p) {
				cr_expect(cJSON_IsString(p) && p->valuestring[0], "%s: empty reason",
					  kinds[k]);
				continue;
			}
			double us = stat_median(f, "us_per_fault", kinds[k]);

			cr_expect(us > 0.05 && us < 100000, "%s: %g us per fault", kinds[k], us);
			cr_expect_gt(obj(f, "faults_per_run")->valuedouble, 0);
		}
	if (!cJSON_GetObjectItemCaseSensitive(obj(faults, "thp_2m"), "skipped"))
		cr_expect_gt(stat_median(obj(obj(faults, "thp_2m"), "warm"), "us_per_fault", "thp"),
			     stat_median(obj(obj(faults, "zero_read"), "warm"), "us_per_fault", "zero"));
}

static cJSON *load(const char *path)
{
	struct wl_error err = { 0 };
	cJSON *root;

	cr_assert_eq(wj_load_object(path, &root, &err), 0, "%s: %s", err.file, err.msg);
	return root;
}

/* The whole suite end to end through the CLI: one quick run, every field and property. */
Test(measure, quick_run_through_the_cli, .timeout = 120)
{
	char dir[] = "/tmp/vcal-XXXXXX", path[256], cmd[300];
	const char *args[] = { "calibrate", "--measure", "--quick", "-o", path, NULL };
	struct result r;
	cJSON *root;

	host_require_root();
	host_exclusive();
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);	/* made by the command */
	run_as(&r, -1, args);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_expect_not_null(strstr(r.err, "ETA"), "no progress line: %s", r.err);
	snprintf(path, sizeof(path), "%s/out/measurements.json", dir);
	root = load(path);
	cr_expect_eq(obj(obj(root, "settings"), "quick")->type, cJSON_True);
	check_measurements(root);
	/*
	 * The page chases' TLB events: on a host without a PMU, none and why;
	 * with one, a chase of 8 pages walks on almost no load and one of
	 * 2^15 pages (128 MiB, beyond every STLB's reach) on almost every load
	 */
	{
		const cJSON *pc = obj(root, "page_chase"), *pts = obj(pc, "nohugepage");
		const cJSON *first = cJSON_GetArrayItem(pts, 0), *last;
		const cJSON *why = cJSON_GetObjectItem(pc, "tlb_unsupported");

		last = cJSON_GetArrayItem(pts, cJSON_GetArraySize(pts) - 1);
		if (!host_has_pmu()) {
			cr_expect_str_eq(cJSON_GetStringValue(why),
					 "no hardware PMU (perf_event_open: ENOENT)");
			cr_expect_null(cJSON_GetObjectItem(first, "tlb_per_load"));
		} else if (!why) {
			const cJSON *a = cJSON_GetObjectItem(first, "tlb_per_load");
			const cJSON *b = cJSON_GetObjectItem(last, "tlb_per_load");
			const cJSON *wa = cJSON_GetObjectItem(a, "walk_completed");
			const cJSON *wb = cJSON_GetObjectItem(b, "walk_completed");

			if (!wa) {
				wa = cJSON_GetObjectItem(a, "walk_found");
				wb = cJSON_GetObjectItem(b, "walk_found");
			}
			cr_assert(wa && wb, "no walks counted");
			cr_expect_lt(wa->valuedouble, 0.1, "8 pages: %g walks per load", wa->valuedouble);
			cr_expect_gt(wb->valuedouble, 0.5, "%g pages: %g walks per load",
				     cJSON_GetObjectItem(last, "pages")->valuedouble, wb->valuedouble);
		}
	}
	cJSON_Delete(root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
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

/* Bad arguments: exit 2, one line naming the argument, nothing written. */
Test(measure, bad_arguments_exit_2)
{
	static const struct {
		const char *args[8];
		const char *names;
	} cases[] = {
		{ { "calibrate", "--measure", "--from", "m.json", "-o", "/tmp/vcal-never", NULL },
		  "--measure" },
		{ { "calibrate", "--measure", NULL }, "-o DIR" },
		{ { "calibrate", "--measure", "-o", "/tmp/vcal-never", "--repeat", "0", NULL },
		  "--repeat" },
		{ { "calibrate", "--measure", "-o", "/tmp/vcal-never", "--repeat", "x", NULL },
		  "--repeat" },
		{ { "calibrate", "--measure", "-o", "/tmp/vcal-never", "--repeat", "101", NULL },
		  "--repeat" },
		{ { "calibrate", "--measure", "-o", "/tmp/vcal-never", "--fast", NULL }, "--fast" },
		{ { "calibrate", "--measure", "-o", "/tmp/vcal-never", "extra", NULL }, "extra" },
		{ { "calibrate", "--measure", "-o", "/etc/hostname", NULL }, "not a directory" },
	};
	struct result r;
	struct stat st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_as(&r, -1, cases[i].args);
		cr_expect_eq(r.status, 2, "case %zu: exit %d: %s", i, r.status, r.err);
		cr_expect_not_null(strstr(r.err, cases[i].names), "case %zu: %s", i, r.err);
		cr_expect_eq(run_lines(r.err), 1, "case %zu: %s", i, r.err);
	}
	cr_expect_neq(stat("/tmp/vcal-never", &st), 0, "a bad run made its output directory");
}
