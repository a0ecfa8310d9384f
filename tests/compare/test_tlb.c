/*
 * test_tlb.c - the TLB verdict: hardware counters against the simulated
 * MMU, per phase, by the accesses each host's events count.
 *
 * The Linux sides are written by hand (tests/data/tlb/README.md works the
 * numbers out from the chase and the TLB geometry of hw-64-2048.json) for
 * an Intel host (loads and stores apart, faulting walks counted) and an AMD
 * one (loads and stores together, reloads only); the simulated side is
 * `virtuoso sim` of the same chase under that geometry, made here.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/compare/harness.h"

#define BIN	"bin/virtuoso"
#define DATA	"tests/data/tlb"

TestSuite(tlb, .fini = cmp_cleanup);

/* sim of the chase under hw (a file of DATA, or "--functional"), and the hand-written side */
static const char *pair(const char *host, const char *hw)
{
	const char *dir = cmp_tmp_dir();
	char cmd[512];
	cJSON *sim, *lx;

	if (!strcmp(hw, "--functional"))
		snprintf(cmd, sizeof(cmd), BIN " sim " DATA "/chase.json -o %s --functional "
			 "--no-calibration 2>/dev/null >/dev/null", dir);
	else
		snprintf(cmd, sizeof(cmd), BIN " sim " DATA "/chase.json -o %s --config " DATA
			 "/%s 2>/dev/null >/dev/null", dir, hw);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	sim = cmp_read_json(cmp_path(dir, "sim.json"));
	lx = cmp_read_json(host);
	/* this build's version, so that the two belong together */
	cmp_set(lx, "tool", cJSON_Duplicate(cJSON_GetObjectItem(sim, "tool"), true));
	cmp_write_json(lx, dir, "linux.json");
	cJSON_Delete(sim);
	return dir;
}

static void compare_dir(const char *dir, struct side *l, struct side *s, struct comparison *c)
{
	cmp_load(l, dir, "linux.json");
	cmp_load(s, dir, "sim.json");
	cmp_compare(c, l, s);
}

static const struct metric *expect(const struct comparison *c, const char *name,
				   const char *scope, double linux_value, enum verdict v)
{
	const struct metric *m = cmp_metric(c, name, scope);

	cr_expect_eq(m->klass, METRIC_TLB, "%s (%s)", name, scope);
	cr_expect_eq(m->linux_value, linux_value, "%s (%s): Linux %.17g, want %.17g", name, scope,
		     m->linux_value, linux_value);
	cr_expect_eq(m->verdict, v, "%s (%s): %s (value %g, sim %g), want %s", name, scope,
		     verdict_name(m->verdict), m->value, m->sim_value, verdict_name(v));
	return m;
}

/* No metric of name has a scope containing 'part'. */
static void expect_no_scope(const struct comparison *c, const char *name, const char *part)
{
	for (size_t i = 0; i < c->nr_metrics; i++)
		if (!strcmp(c->metrics[i].name, name))
			cr_expect_null(strstr(c->metrics[i].scope, part), "%s (%s)", name,
				       c->metrics[i].scope);
}

Test(tlb, an_intel_host_with_the_modelled_tlbs_gives_a_tlb_pass_per_phase)
{
	const char *dir = pair(DATA "/intel/linux.json", "hw-64-2048.json");
	const struct metric *m;
	struct side l, s;
	struct comparison c;

	compare_dir(dir, &l, &s, &c);
	/* chase small: every load walks a 4 KiB page */
	m = expect(&c, "tlb_walks", "phase 1 access (loads)", 1000000, VERDICT_PASS);
	cr_expect_leq(m->sim_value, 1000000);
	cr_expect_geq(m->sim_value, 1000000 - 2048, "at most the STLB's 2048 first-lap hits");
	expect(&c, "tlb_walks_4k", "phase 1 access (loads)", 1000000, VERDICT_PASS);
	expect(&c, "tlb_walks_2m", "phase 1 access (loads)", 0, VERDICT_PASS);
	expect(&c, "tlb_stlb_hits", "phase 1 access (loads)", 0, VERDICT_PASS);
	expect(&c, "tlb_l1_misses", "phase 1 access (loads)", 1000000, VERDICT_PASS);
	/* 5 cycles a walk: one PWC cycle and an L1D hit */
	expect(&c, "tlb_walk_cycles", "phase 1 access (loads)", 5, VERDICT_PASS);
	/* the stores: the links', and the touch's faulting walk and its retry */
	expect(&c, "tlb_walks", "phase 1 access (stores)", 4096, VERDICT_PASS);
	expect(&c, "tlb_walks", "phase 0 touch (stores)", 8192, VERDICT_PASS);
	expect(&c, "tlb_walks", "phase 2 touch (stores)", 128, VERDICT_PASS);
	/* chase huge: every load misses the L1 and hits the STLB */
	expect(&c, "tlb_stlb_hits", "phase 3 access (loads)", 1000000, VERDICT_PASS);
	expect(&c, "tlb_walks", "phase 3 access (loads)", 0, VERDICT_PASS);
	expect(&c, "tlb_l1_misses", "phase 3 access (loads)", 1000000, VERDICT_PASS);
	/* a touch has no loads: no loads' row; Intel counts nothing of both together */
	expect_no_scope(&c, "tlb_walks", "phase 0 touch (loads)");
	expect_no_scope(&c, "tlb_walks", "loads+stores");
	cr_expect_eq(c.tlb, VERDICT_PASS, "tlb verdict %s", verdict_name(c.tlb));
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(tlb, an_amd_host_is_compared_on_loads_and_stores_and_its_reloads)
{
	const char *dir = pair(DATA "/amd/linux.json", "hw-64-2048.json");
	const struct metric *m;
	struct side l, s;
	struct comparison c;

	compare_dir(dir, &l, &s, &c);
	/* reloads: the touch's faulting walks are not among them */
	m = expect(&c, "tlb_walks", "phase 0 touch (loads+stores)", 4096, VERDICT_PASS);
	cr_expect_eq(m->sim_value, 4096);
	cr_expect_not_null(strstr(m->note, "reloaded"), "%s", m->note);
	expect(&c, "tlb_walks", "phase 1 access (loads+stores)", 1004096, VERDICT_PASS);
	expect(&c, "tlb_walks_2m", "phase 2 touch (loads+stores)", 64, VERDICT_PASS);
	expect(&c, "tlb_stlb_hits", "phase 3 access (loads+stores)", 1000064, VERDICT_PASS);
	expect_no_scope(&c, "tlb_walks", "(loads)");
	expect_no_scope(&c, "tlb_walks", "(stores)");
	/* no walk-cycle event on AMD: n/a with libpfm4's reason, never 0 */
	m = cmp_metric(&c, "tlb_walk_cycles", "all");
	cr_expect_eq(m->verdict, VERDICT_NA);
	cr_expect(isnan(m->linux_value));
	cr_expect_str_eq(m->note, "not in libpfm4's table for amd64_fam19h_zen3");
	cr_expect_eq(c.tlb, VERDICT_PASS, "tlb verdict %s", verdict_name(c.tlb));
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(tlb, a_simulated_stlb_four_times_the_hosts_fails_on_both_vendors)
{
	static const char *const hosts[] = { DATA "/intel/linux.json", DATA "/amd/linux.json" };
	static const char *const scope[] = { "phase 1 access (loads)",
					     "phase 1 access (loads+stores)" };

	for (int h = 0; h < 2; h++) {
		const char *dir = pair(hosts[h], "hw-64-8192.json");
		const struct metric *m;
		struct side l, s;
		struct comparison c;

		compare_dir(dir, &l, &s, &c);
		/* all 4096 pages fit: the loads hit the STLB after the first lap */
		m = cmp_metric(&c, "tlb_walks", scope[h]);
		cr_expect_eq(m->verdict, VERDICT_FAIL, "%s: %s", hosts[h], verdict_name(m->verdict));
		cr_expect_lt(m->sim_value, 10000);
		cr_expect_eq(cmp_metric(&c, "tlb_stlb_hits", scope[h])->verdict, VERDICT_FAIL);
		cr_expect_eq(c.tlb, VERDICT_FAIL);
		cr_expect_eq(c.overall, VERDICT_FAIL);
		comparison_release(&c);
		side_release(&l);
		side_release(&s);
		cmp_cleanup();
	}
}

Test(tlb, walk_cycles_a_hundred_times_the_models_fail)
{
	const char *dir = pair(DATA "/intel/linux.json", "hw-64-2048.json");
	cJSON *lx = cmp_read_json(cmp_path(dir, "linux.json"));
	cJSON *ctr = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(lx, "phases"), 1),
					 "counters");
	struct side l, s;
	struct comparison c;

	/* 500 cycles a walk: every level from DRAM on a slow host */
	cmp_set(ctr, "dtlb_load_walk_cycles", cJSON_CreateNumber(500000000));
	cmp_write_json(lx, dir, "linux.json");
	compare_dir(dir, &l, &s, &c);
	expect(&c, "tlb_walk_cycles", "phase 1 access (loads)", 500, VERDICT_FAIL);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(tlb, a_multiplexed_counter_is_judged_scaled_and_says_so)
{
	const char *dir = pair(DATA "/intel/linux.json", "hw-64-2048.json");
	cJSON *lx = cmp_read_json(cmp_path(dir, "linux.json"));
	cJSON *p1 = cJSON_GetArrayItem(cJSON_GetObjectItem(lx, "phases"), 1);
	cJSON *p3 = cJSON_GetArrayItem(cJSON_GetObjectItem(lx, "phases"), 3);
	cJSON *run = cJSON_CreateObject();
	const struct metric *m;
	struct side l, s;
	struct comparison c;

	/* the loader scaled phase 1's walks from 40% of the phase; phase 3's never ran */
	cJSON_AddNumberToObject(run, "dtlb_load_misses_walk_completed", 0.4);
	cmp_set(p1, "counters_running", run);
	cmp_set(cJSON_GetObjectItem(p3, "counters"), "dtlb_load_stlb_hit",
		cJSON_CreateString("not counted"));
	cmp_write_json(lx, dir, "linux.json");
	compare_dir(dir, &l, &s, &c);
	m = expect(&c, "tlb_walks", "phase 1 access (loads)", 1000000, VERDICT_PASS);
	cr_expect_not_null(strstr(m->note, "multiplexed: counted 40% of the phase, scaled"), "%s",
			   m->note);
	m = cmp_metric(&c, "tlb_stlb_hits", "phase 3 access (loads)");
	cr_expect_eq(m->verdict, VERDICT_NA);
	cr_expect(isnan(m->linux_value), "not counted must not read as %g", m->linux_value);
	cr_expect_not_null(strstr(m->note, "not counted"), "%s", m->note);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(tlb, a_host_without_a_pmu_gives_na_with_its_reason_never_zero)
{
	static const char *const reason = "no hardware PMU (perf_event_open: ENOENT)";
	const char *dir = pair(DATA "/intel/linux.json", "hw-64-2048.json");
	cJSON *lx = cmp_read_json(cmp_path(dir, "linux.json"));
	cJSON *ev = cJSON_GetObjectItem(lx, "counter_events"), *e, *p;
	struct side l, s;
	struct comparison c;
	size_t n = 0;

	/* what virtuoso linux writes on this VM: each TLB counter's meaning, and why not */
	cJSON_ArrayForEach(e, ev)
		if (cJSON_GetObjectItem(e, "tlb_event")) {
			cJSON_DeleteItemFromObject(e, "event");
			cJSON_DeleteItemFromObject(e, "counts");
			cJSON_AddStringToObject(e, "unsupported", reason);
		}
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(lx, "phases"))
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(p, "counters"))
			if (strstr(e->string, "dtlb_")) {
				/* in place: the loop walks these very items */
				e->type = cJSON_String;
				e->valuestring = strdup("unsupported");
			}
	cmp_write_json(lx, dir, "linux.json");
	compare_dir(dir, &l, &s, &c);
	for (size_t i = 0; i < c.nr_metrics; i++) {
		const struct metric *m = &c.metrics[i];

		if (m->klass != METRIC_TLB)
			continue;
		n++;
		cr_expect_str_eq(m->scope, "all");
		cr_expect_eq(m->verdict, VERDICT_NA, "%s", m->name);
		cr_expect(isnan(m->linux_value), "%s: %g", m->name, m->linux_value);
		cr_expect_str_eq(m->note, reason);
	}
	cr_expect_eq(n, 7, "one n/a row per TLB metric");
	cr_expect_eq(c.tlb, VERDICT_NA);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(tlb, an_untimed_simulation_has_no_tlb_model_to_judge)
{
	const char *dir = pair(DATA "/intel/linux.json", "--functional");
	struct side l, s;
	struct comparison c;

	compare_dir(dir, &l, &s, &c);
	cr_expect_eq(cmp_metric(&c, "tlb_walks", "all")->verdict, VERDICT_NA);
	cr_expect_str_eq(cmp_metric(&c, "tlb_walks", "all")->note,
			 "the simulated side ran untimed (--functional): no TLB model");
	cr_expect_eq(c.tlb, VERDICT_NA);
	comparison_release(&c);
	side_release(&l);
	side_release(&s);
}

Test(tlb, a_counter_of_unknown_scope_or_meaning_is_refused_naming_the_field)
{
	static const struct {
		const char *key, *value, *path;
	} bad[] = {
		{ "counts", "everything", "counter_events.dtlb_load_stlb_hit.counts" },
		{ "tlb_event", "tlb_misses", "counter_events.dtlb_load_stlb_hit.tlb_event" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *dir = cmp_tmp_dir();
		cJSON *lx = cmp_read_json(DATA "/intel/linux.json");
		cJSON *e = cJSON_GetObjectItem(cJSON_GetObjectItem(lx, "counter_events"),
					       "dtlb_load_stlb_hit");
		struct wl_error err = { 0 };
		struct side l;

		cmp_set(e, bad[i].key, cJSON_CreateString(bad[i].value));
		cmp_write_json(lx, dir, "linux.json");
		cr_expect_eq(side_load(&l, dir, "linux.json", &err), -1, "%s", bad[i].value);
		cr_expect_str_eq(err.path, bad[i].path);
		side_release(&l);
		cmp_cleanup();
	}
}
