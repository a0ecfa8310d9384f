/*
 * test_fit.c - the calibration fit (calibrate/fit.h) and virtuoso calibrate
 * --from: parameters known to the simulator come back from the
 * measurements it generates with them; the output is the same from run to
 * run; a malformed file is refused naming the field; the configuration
 * written loads in virtuoso sim as a calibrated one. No root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "calibrate/fit.h"
#include "calibrate/store.h"
#include "linux-probes/hostid.h"
#include "tests/run.h"

#define HOST_FILE "tests/data/calibrate/measurements-host.json"

/* the full suite's: doubling, so that every cache's knee is sampled */
static const uint64_t sizes[] = { 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 512 << 10,
				  1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20, 32 << 20,
				  64 << 20 };

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s: cannot open", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static double param(const struct cal_fit *f, const char *name)
{
	for (size_t i = 0; i < f->nr_param; i++)
		if (!strcmp(f->param[i].name, name))
			return f->param[i].value;
	cr_assert_fail("no parameter %s", name);
	return NAN;
}

static void within(double got, double want, const char *what)
{
	cr_expect(fabs(got - want) <= 0.05 * want, "%s: fitted %g, generated with %g", what, got,
		  want);
}

Test(fit, recovers_the_parameters_it_was_generated_with, .timeout = 600)
{
	struct sim_config truth, base;
	struct cal_results *r = calloc(1, sizeof(*r));
	struct cal_fit *f = malloc(sizeof(*f));
	struct cal_fit_opts o;
	struct wl_error err = { 0 };

	cr_assert(r && f);
	sim_config_init(&base);
	truth = base;
	/* a host unlike the reference: another clock, a slower L2, its own fault costs */
	truth.core.freq_mhz = 3000;
	truth.dram.t_row_hit = truth.dram.t_row_hit * 3 / 4;
	truth.dram.t_row_miss = truth.dram.t_row_miss * 3 / 4;
	truth.dram.t_row_empty = truth.dram.t_row_empty * 3 / 4;
	truth.l1d.latency = 5;
	truth.l2.latency = 12;
	truth.core.zero_bandwidth_gbs = 12.5;
	truth.core.copy_bandwidth_gbs = 8;
	truth.core.fault_outside_window_cycles = 1500;
	truth.mimicos.cost.zero_page = 2000;
	truth.mimicos.cost.tlb_flush = 800;
	truth.core.executor_cycles[WL_PAT_CHASE] = 20;
	truth.mimicos.cost.lru_add = 300;
	/* this host class's executor: zipf's sampling a hundred cycles, uniform's a dozen */
	truth.core.executor_cycles[WL_PAT_UNIFORM] = 12;
	truth.core.executor_cycles[WL_PAT_ZIPF] = 106;
	truth.core.rob_cycles = 128;
	truth.prefetch.degree = 4;

	snprintf(r->host.vendor, sizeof(r->host.vendor), "GenuineIntel");
	r->host.family = 6;
	r->host.model = 170;
	snprintf(r->date, sizeof(r->date), "2026-01-01T00:00:00Z");
	r->nr_line = sizeof(sizes) / sizeof(sizes[0]);
	for (size_t i = 0; i < r->nr_line; i++)
		r->line[i].bytes = sizes[i];
	r->native_large_bytes = 64 << 20;
	r->native_large_accesses = 100000;
	cal_fit_opts_init(&o);
	o.max_evals = 40;	/* DRAM's three timings move together: let the search settle */
	cr_assert_eq(cal_simulate(r, &truth, &o, &err), 0, "%s", err.msg);
	cr_assert_eq(cal_fit(f, r, &base, &o, "test", &err), 0, "%s: %s", err.path, err.msg);

	within(param(f, "core.freq_mhz"), truth.core.freq_mhz, "core.freq_mhz");
	within(param(f, "l1d.latency"), truth.l1d.latency, "l1d.latency");
	within(param(f, "l2.latency"), truth.l2.latency, "l2.latency");
	within(param(f, "core.zero_bandwidth_gbs"), truth.core.zero_bandwidth_gbs,
	       "core.zero_bandwidth_gbs");
	within(param(f, "core.executor_cycles.chase"), 20, "core.executor_cycles.chase");
	within(param(f, "core.fault_outside_window_cycles"),
	       truth.core.fault_outside_window_cycles, "core.fault_outside_window_cycles");
	within(param(f, "mimicos.cost.zero_page"), truth.mimicos.cost.zero_page,
	       "mimicos.cost.zero_page");
	within(param(f, "mimicos.cost.tlb_flush"), truth.mimicos.cost.tlb_flush,
	       "mimicos.cost.tlb_flush");
	within(param(f, "core.copy_bandwidth_gbs"), truth.core.copy_bandwidth_gbs,
	       "core.copy_bandwidth_gbs");
	within(param(f, "llc.latency"), truth.llc.latency, "llc.latency");
	within(param(f, "mimicos.cost.lru_add"), truth.mimicos.cost.lru_add,
	       "mimicos.cost.lru_add");
	within(param(f, "dram.t_row_miss"), truth.dram.t_row_miss, "dram.t_row_miss");
	/* the grid keeps each cache's sets: the truth's ways are among its candidates */
	cr_expect_eq((uint64_t)f->cfg.l2.sets * f->cfg.l2.ways,
		     (uint64_t)truth.l2.sets * truth.l2.ways, "l2: %u x %u sets x ways, truth %u x %u",
		     f->cfg.l2.sets, f->cfg.l2.ways, truth.l2.sets, truth.l2.ways);
	cr_expect_eq((uint64_t)f->cfg.llc.sets * f->cfg.llc.ways,
		     (uint64_t)truth.llc.sets * truth.llc.ways,
		     "llc: %u x %u sets x ways, truth %u x %u", f->cfg.llc.sets, f->cfg.llc.ways,
		     truth.llc.sets, truth.llc.ways);
	cr_expect_eq(f->cfg.l2.repl, truth.l2.repl, "l2 replacement %d, truth %d", f->cfg.l2.repl,
		     truth.l2.repl);
	cr_expect_eq(f->cfg.llc.repl, truth.llc.repl, "llc replacement %d, truth %d",
		     f->cfg.llc.repl, truth.llc.repl);
	/* the grid holds the truth's: uniform's window spans 128 / 13 = 9 accesses, 96's 7 */
	cr_expect_eq(f->cfg.core.rob_cycles, truth.core.rob_cycles, "rob_cycles %u, truth %u",
		     f->cfg.core.rob_cycles, truth.core.rob_cycles);
	cr_expect_eq(f->cfg.prefetch.degree, truth.prefetch.degree, "prefetch.degree %u, truth %u",
		     f->cfg.prefetch.degree, truth.prefetch.degree);
	cr_expect(f->cfg.calibration.given);
	free(r);
	free(f);
}

Test(fit, from_twice_gives_the_same_bytes, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	static const char *const names[] = { "calibrated.json", "calibration.json" };

	cr_assert_not_null(r);
	system("rm -rf /tmp/vfit-a /tmp/vfit-b");
	RUN(r, "calibrate", "--from", HOST_FILE, "-o", "/tmp/vfit-a", "--no-store", "--quick");
	cr_assert_eq(r->status, 0, "%s", r->err);
	RUN(r, "calibrate", "--from", HOST_FILE, "-o", "/tmp/vfit-b", "--no-store", "--quick");
	cr_assert_eq(r->status, 0, "%s", r->err);
	for (int i = 0; i < 2; i++) {
		char pa[64], pb[64], *a, *b;
		size_t la, lb;

		snprintf(pa, sizeof(pa), "/tmp/vfit-a/%s", names[i]);
		snprintf(pb, sizeof(pb), "/tmp/vfit-b/%s", names[i]);
		a = slurp(pa, &la);
		b = slurp(pb, &lb);
		cr_expect(la == lb && !memcmp(a, b, la), "%s differs from run to run", names[i]);
		free(a);
		free(b);
	}
	free(r);
}

Test(fit, malformed_file_exits_2_naming_the_field)
{
	struct result *r = malloc(sizeof(*r));
	size_t len;
	char *text = slurp(HOST_FILE, &len), *at;
	FILE *f;

	cr_assert_not_null(r);
	/* the clock's median a string */
	at = strstr(text, "\"cycles_per_ns\"");
	cr_assert_not_null(at);
	at = strstr(at, "\"median\":");
	cr_assert_not_null(at);
	at += strlen("\"median\":");
	while (*at == ' ' || *at == '\t')
		at++;
	*at = '"';
	at = strchr(at, ',');
	cr_assert_not_null(at);
	memmove(at + 1, at, strlen(at) + 1);
	*at = '"';
	f = fopen("/tmp/vfit-bad.json", "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	RUN(r, "calibrate", "--from", "/tmp/vfit-bad.json", "-o", "/tmp/vfit-bad", "--no-store");
	cr_expect_eq(r->status, 2, "%s", r->err);
	cr_expect(strstr(r->err, "clock.cycles_per_ns.median"), "%s", r->err);
	free(text);
	free(r);
}

Test(fit, calibrated_config_loads_in_sim_as_calibrated, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	size_t len;
	char *text;
	cJSON *root;

	cr_assert_not_null(r);
	system("rm -rf /tmp/vfit-c /tmp/vfit-sim");
	RUN(r, "calibrate", "--from", HOST_FILE, "-o", "/tmp/vfit-c", "--no-store", "--quick");
	cr_assert_eq(r->status, 0, "%s", r->err);
	RUN(r, "sim", "datasets/workloads/zero-page-4k-cow.json", "-o", "/tmp/vfit-sim",
	    "--config", "/tmp/vfit-c/calibrated.json");
	cr_assert_eq(r->status, 0, "%s", r->err);
	text = slurp("/tmp/vfit-sim/sim.json", &len);
	root = cJSON_Parse(text);
	cr_assert_not_null(root);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "calibrated")));
	cJSON_Delete(root);
	free(text);
	free(r);
}

/*
 * HOST_FILE with its host made 'cpu_key' (vendor:family:model), 'release'
 * and 'guest', and without what only slows a fit the store does not care
 * about (the page chase, the fault windows).
 */
static void write_host_file(const char *path, const char *vendor, unsigned family, unsigned model,
			    const char *release, bool guest)
{
	size_t len;
	char *text = slurp(HOST_FILE, &len), *out;
	cJSON *j = cJSON_Parse(text), *h, *cpu;
	char key[64];
	FILE *f;

	cr_assert_not_null(j);
	h = cJSON_GetObjectItem(j, "host");
	cpu = cJSON_GetObjectItem(h, "cpu");
	snprintf(key, sizeof(key), "%s:%u:%u", vendor, family, model);
	cJSON_ReplaceItemInObject(cpu, "vendor", cJSON_CreateString(vendor));
	cJSON_ReplaceItemInObject(cpu, "family", cJSON_CreateNumber(family));
	cJSON_ReplaceItemInObject(cpu, "model", cJSON_CreateNumber(model));
	cJSON_ReplaceItemInObject(cpu, "key", cJSON_CreateString(key));
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(h, "kernel"), "release",
				  cJSON_CreateString(release));
	cJSON_ReplaceItemInObject(h, "guest", cJSON_CreateBool(guest));
	cJSON_DeleteItemFromObject(j, "page_chase");
	cJSON_DeleteItemFromObject(j, "fault_latency");
	out = cJSON_Print(j);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(out, f);
	fclose(f);
	free(out);
	free(text);
	cJSON_Delete(j);
}

/*
 * A fit of this host's measurements is stored as its calibration, and sim
 * uses it without --config; one of another host's is written but never
 * stored.
 */
Test(fit, this_hosts_fit_is_stored_and_used_another_hosts_is_not, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	struct hostid h;
	struct utsname u;

	cr_assert_not_null(r);
	hostid_read(&h, NULL);
	cr_assert_eq(uname(&u), 0);
	system("rm -rf /tmp/vfit-store /tmp/vfit-here /tmp/vfit-there /tmp/vfit-sim");
	setenv(CAL_STORE_ENV, "/tmp/vfit-store", 1);
	write_host_file("/tmp/vfit-here.json", h.vendor, h.family, h.model, u.release, h.guest);
	RUN(r, "calibrate", "--from", "/tmp/vfit-here.json", "-o", "/tmp/vfit-here", "--quick");
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect_not_null(strstr(r->err, "stored as this host's calibration"), "%s", r->err);
	RUN(r, "sim", "datasets/workloads/zero-page-4k-cow.json", "-o", "/tmp/vfit-sim",
	    "--functional");
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect_not_null(strstr(r->err, "using this host's calibration"), "%s", r->err);
	{
		size_t len;
		char *sim = slurp("/tmp/vfit-sim/sim.json", &len);

		cr_expect_not_null(strstr(sim, "\"calibrated\": true"));
		free(sim);
	}
	/* another CPU's measurements: the fit is written, the store keeps this host's */
	system("rm -rf /tmp/vfit-store");
	write_host_file("/tmp/vfit-there.json", "GenuineTest", 6, 1, u.release, h.guest);
	RUN(r, "calibrate", "--from", "/tmp/vfit-there.json", "-o", "/tmp/vfit-there", "--quick");
	cr_assert_eq(r->status, 0, "%s", r->err);
	cr_expect_not_null(strstr(r->err, "not stored as this host's calibration"), "%s", r->err);
	cr_expect_neq(access("/tmp/vfit-there/calibrated.json", F_OK), -1);
	RUN(r, "sim", "datasets/workloads/zero-page-4k-cow.json", "-o", "/tmp/vfit-sim",
	    "--functional");
	cr_expect_not_null(strstr(r->err, "no calibration for this host"), "%s", r->err);
	unsetenv(CAL_STORE_ENV);
	system("rm -rf /tmp/vfit-store /tmp/vfit-here /tmp/vfit-there /tmp/vfit-sim "
	       "/tmp/vfit-here.json /tmp/vfit-there.json");
	free(r);
}

/*
 * The cross-calls' costs are the measured times at the fitted clock:
 * handle_ns 3000 and wait_ns 7000 at cycles_per_ns c give round(3000 c)
 * and round(7000 c) cycles. A negative time is refused naming it.
 */
Test(fit, shootdown_times_become_the_ipi_cycles, .timeout = 300)
{
	size_t len;
	char *text = slurp(HOST_FILE, &len);
	struct wl_error err = { 0 };
	struct cal_results *r = calloc(1, sizeof(*r));
	struct cal_fit *f = calloc(1, sizeof(*f));
	struct cal_fit_opts o;
	struct sim_config base;
	cJSON *root = cJSON_Parse(text), *sd;
	double mhz;

	cr_assert(r && f && root);
	cJSON_DeleteItemFromObject(root, "shootdown");
	sd = cJSON_AddObjectToObject(root, "shootdown");
	cJSON_AddNumberToObject(sd, "runs", 3);
	cJSON_AddNumberToObject(sd, "cross_calls", 96);
	cJSON_AddNumberToObject(sd, "waits", 96);
	cJSON_AddNumberToObject(sd, "handle_ns", 3000);
	cJSON_AddNumberToObject(sd, "wait_ns", 7000);
	cr_assert_eq(cal_results_from_json(r, root, "m.json", &err), 0, "%s: %s", err.path,
		     err.msg);
	cr_assert(r->shootdown.measured);
	cr_expect_eq(r->shootdown.cross_calls, 96);
	/* the fewest simulations the fit takes: only the measured values matter here */
	cal_fit_opts_init(&o);
	o.max_evals = 1;
	o.grid_passes = 0;
	o.chase_loads = 1024;
	o.fault_pages = 64;
	o.max_chase_bytes = o.fit_chase_bytes = 1 << 20;
	sim_config_init(&base);
	cr_assert_eq(cal_fit(f, r, &base, &o, "test", &err), 0, "%s", err.msg);
	mhz = f->cfg.core.freq_mhz;	/* the measured clock, rounded to a MHz */
	cr_expect_eq(mhz, round(r->cycles_per_ns.median * 1000));
	cr_expect_eq(f->cfg.core.ipi_handle_cycles, (uint32_t)round(3000 * r->cycles_per_ns.median));
	cr_expect_eq(f->cfg.core.ipi_wait_cycles, (uint32_t)round(7000 * r->cycles_per_ns.median));
	cr_expect_eq(param(f, "core.ipi_handle_cycles"), f->cfg.core.ipi_handle_cycles);
	cr_expect_eq(param(f, "core.ipi_wait_cycles"), f->cfg.core.ipi_wait_cycles);

	cJSON_ReplaceItemInObject(sd, "handle_ns", cJSON_CreateNumber(-1));
	cr_expect_neq(cal_results_from_json(r, root, "m.json", &err), 0);
	cr_expect_str_eq(err.path, "shootdown.handle_ns");
	cJSON_Delete(root);
	free(text);
	free(f);
	free(r);
}

/*
 * A host whose 4 KiB L1 DTLB holds 32 entries, its 2 MiB L1 16 and its
 * STLB 1024, where the base has more of each. Its counts worked out by hand
 * for the suite's page chase (one line on each of 'pages' consecutive 4 KiB
 * pages, a random cycle gone round again and again, so an LRU set holding
 * fewer pages than the cycle puts in it misses every time): a load misses
 * the L1 when the chase has more pages than the L1 holds, and walks when
 * it has more than the STLB holds; with THPs, the pages are pages / 512 of
 * 2 MiB, all in the STLB.
 */
Test(fit, counted_tlb_events_give_the_tlbs_geometry, .timeout = 600)
{
	struct cal_results *r = calloc(1, sizeof(*r));
	struct cal_fit *f = calloc(1, sizeof(*f));
	struct wl_error err = { 0 };
	struct sim_config base;

	cr_assert(r && f);
	sim_config_init(&base);
	cr_assert_eq(base.mmu.dtlb_4k.ways, 4);
	cr_assert_eq(base.mmu.dtlb_2m.ways, 4);
	cr_assert_eq(base.mmu.stlb.ways, 8);
	cr_assert_gt(base.mmu.dtlb_4k.sets * 4, 32);
	cr_assert_gt(base.mmu.stlb.sets * 8, 1024);
	r->nr_page = 14;				/* 8 to 65536 pages */
	r->has_tlb_counts = true;
	for (size_t i = 0; i < r->nr_page; i++)
		for (int t = 0; t < 2; t++) {
			struct cal_chase_point *pt = &r->page[t][i];
			uint64_t pages = 8ull << i;
			double pages_of_l1 = t ? (double)pages / 512 : (double)pages;
			double l1 = pages_of_l1 > (t ? 16 : 32), walks = !t && pages > 1024;

			pt->pages = pages;
			pt->bytes = pages * 4096;
			pt->anon_huge_kib = t ? pt->bytes >> 10 : 0;
			pt->ns_per_load.median = 1 + l1 + 10 * walks;
			pt->tlb_per_load[TLB_EV_stlb_hit] = l1 - walks;
			pt->tlb_per_load[TLB_EV_walk_completed] = walks;
			pt->tlb_counted = 1u << TLB_EV_stlb_hit | 1u << TLB_EV_walk_completed;
		}
	f->cfg = base;
	cal_fit_opts_init(&f->opts);
	f->opts.fit_chase_bytes = 64 << 20;
	cr_assert_eq(cal_fit_tlb(f, r, &err), 0, "%s", err.msg);
	cr_expect(f->tlb.counted);
	cr_expect_eq(f->cfg.mmu.dtlb_4k.sets * f->cfg.mmu.dtlb_4k.ways, 32, "L1 4K: %u x %u",
		     f->cfg.mmu.dtlb_4k.sets, f->cfg.mmu.dtlb_4k.ways);
	cr_expect_eq(f->cfg.mmu.stlb.sets * f->cfg.mmu.stlb.ways, 1024, "STLB: %u x %u",
		     f->cfg.mmu.stlb.sets, f->cfg.mmu.stlb.ways);
	cr_expect_eq(f->cfg.mmu.dtlb_2m.sets * f->cfg.mmu.dtlb_2m.ways, 16, "L1 2M: %u x %u",
		     f->cfg.mmu.dtlb_2m.sets, f->cfg.mmu.dtlb_2m.ways);
	/* both readings of the reach: the counts' and the latency curve's */
	cr_expect_eq(f->tlb.l1_counted_knee, 64);
	cr_expect_eq(f->tlb.stlb_counted_knee, 2048);
	cr_expect_eq(f->tlb.stlb_latency_knee, 2048);
	cr_expect_eq(param(f, "mmu.stlb.sets"), 128);
	free(r);
	free(f);
}

Test(fit, without_counts_the_tlbs_keep_the_base_geometry_and_say_why)
{
	struct cal_results *r = calloc(1, sizeof(*r));
	struct cal_fit *f = calloc(1, sizeof(*f));
	struct wl_error err = { 0 };

	cr_assert(r && f);
	sim_config_init(&f->cfg);
	cal_fit_opts_init(&f->opts);
	r->nr_page = 4;
	for (size_t i = 0; i < r->nr_page; i++)
		r->page[0][i].pages = 8ull << i;
	snprintf(r->tlb_why, sizeof(r->tlb_why), "no hardware PMU (perf_event_open: ENOENT)");
	cr_assert_eq(cal_fit_tlb(f, r, &err), 0, "%s", err.msg);
	cr_expect(!f->tlb.counted);
	cr_expect_str_eq(f->tlb.why, "no hardware PMU (perf_event_open: ENOENT)");
	cr_expect_eq(f->nr_param, 0);
	cr_expect_eq(f->evals, 0, "nothing simulated");
	free(r);
	free(f);
}

/*
 * The page-walk cache of PD entries from counted walk cycles: the page
 * chases a simulated host with a 4-entry PD cache would count (cal_simulate(),
 * every event, as a PMU that counts walk cycles would), fitted from the
 * base's 32 entries: beyond 4 page tables' worth (8 MiB) each walk reads
 * its PD entry too, and only the 4-entry cache gives those cycles. The
 * TLBs, the base's on both, come back unchanged.
 */
Test(fit, counted_walk_cycles_give_the_pd_walk_cache, .timeout = 600)
{
	struct cal_results *r = calloc(1, sizeof(*r));
	struct cal_fit *f = calloc(1, sizeof(*f));
	struct wl_error err = { 0 };
	struct sim_config base, truth;
	struct cal_fit_opts o;

	cr_assert(r && f);
	sim_config_init(&base);
	cr_assert(base.mmu.pwc);
	cr_assert_gt(base.mmu.pwc_level[PWC_PD].sets * base.mmu.pwc_level[PWC_PD].ways, 4);
	truth = base;
	truth.mmu.pwc_level[PWC_PD].sets = 1;
	truth.mmu.pwc_level[PWC_PD].ways = 4;
	r->nr_page = 12;				/* 8 to 16384 pages (64 MiB) */
	for (size_t i = 0; i < r->nr_page; i++)
		for (int t = 0; t < 2; t++) {
			r->page[t][i].pages = 8ull << i;
			r->page[t][i].bytes = (8ull << i) * 4096;
		}
	cal_fit_opts_init(&o);
	o.fit_chase_bytes = 64 << 20;
	o.max_chase_bytes = 64 << 20;
	cr_assert_eq(cal_simulate(r, &truth, &o, &err), 0, "%s", err.msg);
	cr_assert(r->has_tlb_counts);
	f->cfg = base;
	f->opts = o;
	cr_assert_eq(cal_fit_tlb(f, r, &err), 0, "%s", err.msg);
	cr_expect(f->tlb.pwc_counted, "%s", f->tlb.pwc_why);
	cr_expect_eq(f->cfg.mmu.pwc_level[PWC_PD].sets, 1, "PD cache: %u sets",
		     f->cfg.mmu.pwc_level[PWC_PD].sets);
	cr_expect_eq(f->cfg.mmu.stlb.sets, base.mmu.stlb.sets);
	cr_expect_eq(f->cfg.mmu.dtlb_4k.sets, base.mmu.dtlb_4k.sets);
	free(r);
	free(f);
}

/* A page chase point's TLB counts that are no TLB event, or negative: exit 2 naming them. */
Test(fit, malformed_tlb_counts_exit_2_naming_the_field)
{
	static const char *const bad[][2] = {
		{ "{\"tlb_misses\": 1}", "page_chase.nohugepage[0].tlb_per_load.tlb_misses" },
		{ "{\"walk_completed\": -1}", "page_chase.nohugepage[0].tlb_per_load.walk_completed" },
	};

	for (size_t k = 0; k < 2; k++) {
		struct result *r = malloc(sizeof(*r));
		cJSON *root, *pt;
		char *text;
		size_t len;
		FILE *f;

		cr_assert_not_null(r);
		text = slurp(HOST_FILE, &len);
		root = cJSON_Parse(text);
		free(text);
		cr_assert_not_null(root);
		pt = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "page_chase"),
							    "nohugepage"), 0);
		cr_assert_not_null(pt);
		cJSON_AddItemToObject(pt, "tlb_per_load", cJSON_Parse(bad[k][0]));
		text = cJSON_Print(root);
		f = fopen("/tmp/vfit-badtlb.json", "w");
		cr_assert_not_null(f);
		fputs(text, f);
		fclose(f);
		free(text);
		cJSON_Delete(root);
		RUN(r, "calibrate", "--from", "/tmp/vfit-badtlb.json", "-o", "/tmp/vfit-badtlb",
		    "--no-store");
		cr_expect_eq(r->status, 2, "%s", r->err);
		cr_expect(strstr(r->err, bad[k][1]), "%s", r->err);
		free(r);
	}
	unlink("/tmp/vfit-badtlb.json");
}
