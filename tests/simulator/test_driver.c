/*
 * test_driver.c - the dataset workloads through the workload driver
 * (simulator/driver.h), against the outcomes datasets/workloads/INDEX.md
 * expects on Linux 6.18. The numbers below are typed from INDEX.md; "none"
 * is what is left of the region once the other classes are counted.
 *
 * Settings a workload leaves to the host (only khugepaged's, in the datasets)
 * come from Linux's defaults here, not from this machine's sysfs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "simulator/config.h"
#include "simulator/driver.h"
#include "tests/simulator/harness.h"
#include "workload/evlog.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)

static struct wl_spec spec;
static struct driver_run run;
static bool loaded;


/* Run datasets/workloads/<name>.json; 'start' NULL or per-region MAP_FIXED addresses. */
static void run_fixed(const char *name, const uint64_t *start)
{
	struct driver_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };
	char path[256];

	snprintf(path, sizeof(path), "datasets/workloads/%s.json", name);
	cr_assert_eq(wl_spec_load(&spec, path, &err), 0, "%s: %s", err.path, err.msg);
	loaded = true;
	linux_defaults(&host);
	driver_opts_init(&o);
	o.host = &host;
	o.region_start = start;
	o.mem_bytes = 4ULL << 30;
	cr_assert_eq(driver_run(&run, &spec, &o, &err), 0, "%s: %s: %s", err.file,
		     err.path, err.msg);
}

static void run_dataset(const char *name)
{
	run_fixed(name, NULL);
}

static void teardown(void)
{
	driver_release(&run);
	if (loaded)
		wl_spec_release(&spec);
	loaded = false;
}

static const struct driver_region *region(const char *name)
{
	for (size_t i = 0; i < spec.nr_regions; i++)
		if (!strcmp(spec.regions[i].name, name))
			return &run.regions[i];
	cr_assert_fail("no region %s", name);
	return NULL;
}

/* faults, THP faults and the end classes of a region; none = the rest. */
static void expect(const char *name, uint64_t faults, uint64_t thp, uint64_t zero,
		   uint64_t pte, uint64_t pmd)
{
	const struct driver_region *r = region(name);
	uint64_t total = r->size / (4 * KiB);

	cr_assert_eq(r->faults, faults, "%s: faults %lu, want %lu", name,
		     (unsigned long)r->faults, (unsigned long)faults);
	cr_assert_eq(r->thp_faults, thp, "%s: thp_faults %lu, want %lu", name,
		     (unsigned long)r->thp_faults, (unsigned long)thp);
	cr_assert_eq(r->pages[PAGE_CLASS_ZERO], zero, "%s: zero %lu, want %lu", name,
		     (unsigned long)r->pages[PAGE_CLASS_ZERO], (unsigned long)zero);
	cr_assert_eq(r->pages[PAGE_CLASS_PTE], pte, "%s: pte %lu, want %lu", name,
		     (unsigned long)r->pages[PAGE_CLASS_PTE], (unsigned long)pte);
	cr_assert_eq(r->pages[PAGE_CLASS_PMD], pmd, "%s: pmd %lu, want %lu", name,
		     (unsigned long)r->pages[PAGE_CLASS_PMD], (unsigned long)pmd);
	cr_assert_eq(r->pages[PAGE_CLASS_NONE], total - zero - pte - pmd, "%s: none %lu", name,
		     (unsigned long)r->pages[PAGE_CLASS_NONE]);
}

static void expect_complete(void)
{
	cr_assert(run.complete, "incomplete: %s", run.nr_reasons ? run.reasons[0] : "?");
	cr_assert_eq(run.nr_reasons, 0);
}

/* n 2MiB-aligned blocks fit in [start, start + size). */
static uint64_t aligned_blocks(uint64_t start, uint64_t size)
{
	uint64_t first = (start + 2 * MiB - 1) & ~(2 * MiB - 1);

	return first + 2 * MiB > start + size ? 0 : (start + size - first) / (2 * MiB);
}

TestSuite(driver, .fini = teardown);

Test(driver, thp_never_4k)
{
	run_dataset("thp-never-4k");
	expect_complete();
	expect("buf", 16384, 0, 0, 16384, 0);
}

Test(driver, thp_always_fault_aligned_and_odd)
{
	const struct driver_region *odd;
	uint64_t n;

	run_dataset("thp-always-fault");
	expect_complete();
	expect("aligned", 16, 16, 0, 0, 8192);
	odd = region("odd");
	n = aligned_blocks(odd->start, 5 * MiB);
	cr_assert(n == 1 || n == 2, "odd at 0x%lx: %lu blocks", (unsigned long)odd->start,
		  (unsigned long)n);
	expect("odd", n + (1280 - 512 * n), n, 0, 1280 - 512 * n, 512 * n);
	/* INDEX.md: usually packed right below 'aligned', giving n = 2. */
	cr_assert_eq(odd->start + 5 * MiB, region("aligned")->start);
	cr_assert_eq(n, 2);
}

/* MAP_FIXED at the address a Linux run recorded: odd 512KiB into a block, n = 1. */
Test(driver, thp_always_fault_at_fixed_addresses)
{
	const uint64_t start[] = { 0x7f0000000000ULL, 0x7f0004000000ULL + 512 * KiB };

	run_fixed("thp-always-fault", start);
	expect_complete();
	cr_assert_eq(region("aligned")->start, start[0]);
	cr_assert_eq(region("odd")->start, start[1]);
	cr_assert_eq(aligned_blocks(start[1], 5 * MiB), 1);
	expect("aligned", 16, 16, 0, 0, 8192);
	expect("odd", 1 + 768, 1, 0, 768, 512);
}

Test(driver, thp_madvise_advised)
{
	run_dataset("thp-madvise-advised");
	expect_complete();
	expect("advised", 8, 8, 0, 0, 4096);
	expect("plain", 2052, 4, 0, 2048, 2048);
}

Test(driver, zero_page_huge)
{
	const struct driver_region *r;

	run_dataset("zero-page-huge");
	expect_complete();
	expect("buf", 10, 2, 3072, 0, 1024);
	r = region("buf");
	cr_assert_eq(r->pages[PAGE_CLASS_PMD] * 4 * KiB, 4 * MiB);		/* huge_bytes */
	cr_assert_eq((r->pages[PAGE_CLASS_PMD] + r->pages[PAGE_CLASS_PTE] +
		      r->pages[PAGE_CLASS_ZERO]) * 4 * KiB, 16 * MiB);	/* resident_bytes */
}

Test(driver, zero_page_4k_cow)
{
	run_dataset("zero-page-4k-cow");
	expect_complete();
	expect("thp", 4, 4, 0, 0, 2048);
	expect("small", 1536, 0, 512, 512, 0);
}

Test(driver, mthp_64k)
{
	run_dataset("mthp-64k");
	expect_complete();
	expect("buf", 128, 0, 0, 2048, 0);
	expect("ro", 512, 0, 512, 0, 0);
	cr_assert_eq(region("buf")->alloc_orders[4], 128);	/* 64KiB folios */
}

Test(driver, mthp_policy)
{
	run_dataset("mthp-policy");
	expect_complete();
	expect("advised", 32, 0, 0, 1024, 0);
	expect("plain", 256, 0, 0, 1024, 0);
	cr_assert_eq(region("advised")->alloc_orders[5], 32);	/* 128KiB */
	cr_assert_eq(region("plain")->alloc_orders[2], 256);	/* 16KiB */
}

Test(driver, default_workload)
{
	static const uint64_t phase_faults[] = { 16, 2048, 2048, 0, 0 };

	run_dataset("default");
	expect_complete();
	expect("hot", 16, 16, 0, 0, 8192);
	expect("cold", 4096, 0, 2048, 2048, 0);
	cr_assert_eq(spec.nr_phases, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(run.phases[i].faults, phase_faults[i], "phase %zu: %lu", i,
			     (unsigned long)run.phases[i].faults);
	/* Total: 32MiB huge, 48MiB resident. */
	cr_assert_eq((region("hot")->pages[PAGE_CLASS_PMD] + region("cold")->pages[PAGE_CLASS_PMD]) *
		     4 * KiB, 32 * MiB);
	/* Phase pages: after the first phase hot is all PMD, cold untouched. */
	cr_assert_eq(run.phases[0].pages[0][PAGE_CLASS_PMD], 8192);
	cr_assert_eq(run.phases[0].pages[1][PAGE_CLASS_NONE], 4096);
}

Test(driver, chase_tlb)
{
	run_dataset("chase-tlb");
	expect_complete();
	expect("huge", 16, 16, 0, 0, 8192);
	expect("small", 8192, 0, 0, 8192, 0);
}

Test(driver, access_mix)
{
	run_dataset("access-mix");
	expect_complete();
	expect("heap", 12288, 0, 0, 12288, 0);
	for (size_t i = 1; i < spec.nr_phases; i++)
		cr_assert_eq(run.phases[i].faults, 0, "phase %zu", i);
}

Test(driver, nohugepage_override)
{
	run_dataset("nohugepage-override");
	expect_complete();
	expect("mixed", 1026, 2, 0, 1024, 1024);
	expect("small", 2048, 0, 0, 2048, 0);
}

Test(driver, populate_faults_are_not_user_faults)
{
	run_dataset("populate");
	expect_complete();
	expect("pop", 0, 0, 0, 0, 4096);
	expect("lazy", 8, 8, 0, 0, 4096);
	cr_assert_eq(region("pop")->populate_faults, 8);
}

/* The split cases: munmap, mprotect and MADV_DONTNEED on mapped memory. */
Test(driver, dontneed_split)
{
	run_dataset("dontneed-split");
	expect_complete();
	expect("buf", 133, 5, 0, 512, 1536);
}

Test(driver, mprotect_split)
{
	run_dataset("mprotect-split");
	expect_complete();
	expect("buf", 4, 4, 0, 512, 1536);
	for (size_t i = 1; i < spec.nr_phases; i++)
		cr_assert_eq(run.phases[i].faults, 0, "phase %zu", i);
}

Test(driver, munmap_partial)
{
	run_dataset("munmap-partial");
	expect_complete();
	expect("buf", 4, 4, 0, 512, 512);
	cr_assert_eq(region("buf")->pages[PAGE_CLASS_NONE], 1024);
}

/* A run that cannot finish is marked with a reason (docs/results-format.md); nothing aborts. */
static bool has_reason(const char *what)
{
	for (size_t i = 0; i < run.nr_reasons; i++)
		if (strstr(run.reasons[i], what))
			return true;
	return false;
}

/* INDEX.md madv-collapse: 32 4 KiB faults, then the collapse: 4 THPs, 0 faults after. */
Test(driver, madv_collapse)
{
	run_dataset("madv-collapse");
	expect_complete();
	expect("buf", 32, 0, 0, 0, 2048);
	cr_assert_eq(run.collapse_status[SCAN_SUCCEED], 4);
	cr_assert_eq(run.khugepaged.madv_collapse_allocs, 4);
	cr_assert_eq(run.khugepaged.collapse_allocs, 0);
	cr_assert_eq(run.phases[2].faults, 0);
	cr_assert_eq(run.phases[1].collapse_errno, 0);
}

/* INDEX.md khugepaged-sleep: 32 faults, 0 THP faults; by the end of the 1 s sleep 2 collapses. */
Test(driver, khugepaged_collapses_during_sleep)
{
	run_dataset("khugepaged-sleep");
	expect_complete();
	expect("buf", 32, 0, 0, 0, 1024);
	cr_assert_eq(run.collapse_status[SCAN_SUCCEED], 2);
	cr_assert_eq(run.phases[2].runtime_ns, 1000000000ULL);
	cr_assert_eq(run.phases[1].pages[0][PAGE_CLASS_PMD], 0, "nothing collapsed before the sleep");
	cr_assert_eq(run.phases[2].pages[0][PAGE_CLASS_PMD], 1024);
	/* scan_sleep 100 ms: passes at 0, 100, ..., 900 ms (see khugepaged.h). */
	cr_assert_eq(run.khugepaged.passes, 10);
}

/* INDEX.md khugepaged-collapse: 128 faults, 0 THP faults, then 4 collapses: pmd 2048. */
Test(driver, khugepaged_wait_collapses)
{
	run_dataset("khugepaged-collapse");
	expect_complete();
	expect("sparse", 128, 0, 0, 0, 2048);
	cr_assert_eq(run.collapse_status[SCAN_SUCCEED], 4);
	cr_assert_eq(run.khugepaged.collapse_allocs, 4);
	cr_assert_eq(run.scan_status[SCAN_SUCCEED], 4);
	cr_assert_not(run.phases[2].timed_out);
	cr_assert_geq(run.khugepaged.full_scans, 2);
}

/* INDEX.md khugepaged-max-ptes-none: dense collapses (2), sparse fails with exceed_none_pte. */
Test(driver, khugepaged_max_ptes_none)
{
	run_dataset("khugepaged-max-ptes-none");
	expect_complete();
	expect("dense", 256, 0, 0, 0, 1024);
	expect("sparse", 64, 0, 0, 64, 0);
	cr_assert_eq(run.collapse_status[SCAN_SUCCEED], 2, "dense only (sparse stays pte)");
	cr_assert_gt(run.scan_status[SCAN_EXCEED_NONE_PTE], 0);
	cr_assert_eq(run.ev.event[THP_SCAN_EXCEED_NONE_PTE], run.scan_status[SCAN_EXCEED_NONE_PTE]);
}

/*
 * A khugepaged_wait that cannot finish (thp=never: no PMD order anywhere, so
 * khugepaged never runs) ends at its timeout, marked as the Linux side marks it.
 */
Test(driver, khugepaged_wait_timeout_is_marked)
{
	static const char text[] =
		"{\"name\": \"wait-never\", \"seed\": 1,"
		" \"kernel\": {\"thp\": \"never\"},"
		" \"regions\": [{\"name\": \"a\", \"size\": \"2MiB\"}],"
		" \"phases\": [{\"op\": \"touch\", \"region\": \"a\"},"
		" {\"op\": \"khugepaged_wait\", \"full_scans\": 1, \"timeout_ms\": 500}]}";
	struct driver_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };

	cr_assert_eq(wl_spec_parse(&spec, text, sizeof(text) - 1, "wait-never.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	loaded = true;
	linux_defaults(&host);
	driver_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 1ULL << 30;
	cr_assert_eq(driver_run(&run, &spec, &o, &err), 0, "%s", err.msg);
	cr_assert_not(run.complete);
	cr_assert(has_reason("timed out"));
	cr_assert(run.phases[1].timed_out);
	cr_assert_eq(run.phases[1].runtime_ns, 500000000ULL);
}

Test(driver, json_has_the_side_fields)
{
	cJSON *j, *r, *pg;

	run_dataset("default");
	j = driver_to_json(&run);
	cr_assert_not_null(j);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "side")), "sim");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "timing")), "none");
	/* the kernel MimicOS imitates, so a reader can tell it from the host's */
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "mimicos_linux_version")),
			 "6.18");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "runtime_ns")), 0);
	r = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "regions"), "hot");
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "huge_bytes")), 32.0 * MiB);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "thp_faults")), 16);
	pg = cJSON_GetObjectItem(r, "pages");
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(pg, "pmd")), 8192);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(r, "fault_alloc_orders"), "9")), 16);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "phases")), 5);
	cJSON_Delete(j);
}

Test(driver, same_spec_same_result)
{
	struct driver_run first;

	run_dataset("thp-always-fault");
	first = run;
	memset(&run, 0, sizeof(run));
	wl_spec_release(&spec);
	loaded = false;
	run_dataset("thp-always-fault");
	cr_assert_eq(first.regions[1].start, run.regions[1].start);
	cr_assert_eq(memcmp(first.regions[1].pages, run.regions[1].pages,
			    sizeof(run.regions[1].pages)), 0);
	/* 'first' points at the released spec: free its arrays by hand. */
	for (size_t i = 0; i < 2; i++) {
		free(first.phases[i].pages);
		side_backing_release(&first.regions[i].backing);
	}
	free(first.regions);
	free(first.phases);
}

/* ---- the two channel modes -------------------------------------------------------- */

/* The whole file at path, NUL-terminated; *len its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * Run dataset 'name' into r (spec sp): MimicOS in 'mode', timed on the
 * reference hardware (virtuoso sim's default) or not, its event log at 'log'
 * (NULL: none).
 */
static void run_into(struct driver_run *r, struct wl_spec *sp, const char *name,
		     enum channel_mode mode, bool timed, const char *log)
{
	struct channel_config cfg;
	struct timing_config tc;
	struct sim_config sc;
	struct driver_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };
	char path[256];

	/* "threads/x": datasets/threads/x.json */
	snprintf(path, sizeof(path), strchr(name, '/') ? "datasets/%s.json" :
		 "datasets/workloads/%s.json", name);
	cr_assert_eq(wl_spec_load(sp, path, &err), 0, "%s", err.msg);
	linux_defaults(&host);
	sim_config_init(&sc);
	sim_config_timing(&sc, &tc);
	cfg = sc.mimicos;
	cfg.mode = mode;
	driver_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 4ULL << 30;
	o.mimicos = &cfg;
	o.events_path = log;
	o.timing = timed ? &tc : NULL;
	cr_assert_eq(driver_run(r, sp, &o, &err), 0, "%s: %s", name, err.msg);
}

static char *run_mode_log(const char *name, enum channel_mode mode, bool timed, const char *log)
{
	struct driver_run r;
	struct wl_spec sp;
	char *text;
	cJSON *j;

	run_into(&r, &sp, name, mode, timed, log);
	j = driver_to_json(&r);
	cr_assert_not_null(j);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(j, "config"), "mimicos"), "mode")), channel_mode_name(mode));
	cJSON_DeleteItemFromObject(j, "config");	/* the one field that differs */
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	driver_release(&r);
	wl_spec_release(&sp);
	return text;
}


ParameterizedTestParameters(driver, out_of_process_gives_the_same_result)
{
	return cr_make_param_array(struct ds_name, all_datasets,
				   NR_DATASETS);
}

/*
 * Run dataset 'name' in process and out of process ('timed' or not): the
 * same sim.json and the same event log, byte for byte. Returns the log's
 * size.
 */
static size_t expect_modes_agree(const char *name, bool timed)
{
	char dir[] = "/tmp/vfunc-XXXXXX", log_in[64], log_out[64];
	char *in, *out, *a, *b;
	size_t la, lb;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log_in, sizeof(log_in), "%s/in.vlog", dir);
	snprintf(log_out, sizeof(log_out), "%s/out.vlog", dir);
	in = run_mode_log(name, CHANNEL_IN_PROCESS, timed, log_in);
	out = run_mode_log(name, CHANNEL_OUT_OF_PROCESS, timed, log_out);
	cr_assert_str_eq(in, out, "%s differs between the modes", name);
	a = slurp(log_in, &la);
	b = slurp(log_out, &lb);
	cr_assert_eq(la, lb, "%s: event logs of %zu and %zu bytes", name, la, lb);
	cr_assert(!memcmp(a, b, la), "%s: the event logs differ", name);
	free(a);
	free(b);
	free(in);
	free(out);
	unlink(log_in);
	unlink(log_out);
	rmdir(dir);
	return la;
}

/*
 * MimicOS in its own process (shared-memory rings) gives the same sim.json
 * and the same event log, byte for byte.
 */
ParameterizedTest(struct ds_name *d, driver, out_of_process_gives_the_same_result)
{
	cr_assert_gt(expect_modes_agree(d->name, false), 64 + 88,
		     "%s: an event log with records", d->name);
}

/*
 * The event log of khugepaged-collapse, counted by hand: 128 user faults
 * (phase 0, completed, writes), one mmap and one madvise syscall, 4 successful
 * collapses in the wait (phase 2), each with its order-9 khugepaged
 * allocation and 32 pages freed, and 8 scans (4 succeeded in the pass
 * MADV_HUGEPAGE woke, 4 page_pmd_mapped in the next); one flush per collapse.
 */
Test(driver, event_log_records_what_mimicos_did)
{
	char dir[] = "/tmp/vfunc-XXXXXX", log[64];
	struct evlog_reader r;
	struct wl_error err = { 0 };
	struct vt_event ev;
	unsigned n[VT_TYPE_NR] = { 0 }, scans_ok = 0, scans_mapped = 0, collapses_ok = 0;
	char *text;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	text = run_mode_log("khugepaged-collapse", CHANNEL_IN_PROCESS, false, log);
	free(text);
	cr_assert_eq(evlog_open(&r, log, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &ev) > 0) {
		cr_assert_lt(ev.type, VT_TYPE_NR);
		n[ev.type]++;
		if (ev.type == VT_FAULT) {
			cr_assert_eq(ev.phase, 0);
			cr_assert(ev.fault.completed);
			cr_assert_eq(ev.fault.error_code, 6, "W|U, not present");
			cr_assert_eq(ev.fault.latency_ns, 0, "untimed: no simulated time");
		} else if (ev.type == VT_COLLAPSE) {
			cr_assert_eq(ev.phase, 2);
			collapses_ok += ev.collapse.status == 1;
			cr_assert(ev.collapse.has_alloc);
			cr_assert_eq(ev.collapse.alloc.order, 9);
			cr_assert_eq(ev.collapse.alloc.cause, VT_CAUSE_KHUGEPAGED);
			cr_assert_eq(ev.collapse.nr_freed, 32);
		} else if (ev.type == VT_SCAN_PMD) {
			scans_ok += ev.scan.status == 1;
			scans_mapped += ev.scan.status == 4;
		}
	}
	cr_assert_eq(n[VT_FAULT], 128);
	cr_assert_eq(n[VT_SYSCALL], 2);
	cr_assert_eq(collapses_ok, 4);
	cr_assert_eq(n[VT_COLLAPSE], 4);
	cr_assert_eq(scans_ok, 4);
	cr_assert_eq(scans_mapped, 4);
	/*
	 * The collapses' flushes run while the workload is blocked in its
	 * khugepaged_wait: no CPU of its takes the IPI, no tlb:tlb_flush in
	 * its context (on Linux too: events.vlog of this workload has none).
	 */
	cr_assert_eq(n[VT_TLB_FLUSH], 0);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(evlog_meta(&r), "workload")),
			 "khugepaged-collapse");
	evlog_close(&r);
	unlink(log);
	rmdir(dir);
}

/*
 * Timed, the pass that MADV_HUGEPAGE's registration woke runs after the
 * wait read full_scans (khugepaged.h), as on Linux: khugepaged-collapse's
 * wait for 2 full scans (one pass scans the whole 8 MiB: 4 PMDs of 512
 * pages < pages_to_scan 4096) ends with the second pass, one scan_sleep
 * (100 ms) after the first, not two (Linux on this host: 112-122 ms in
 * three of the four last calibrations' runs, 195 ms in one).
 */
Test(driver, timed_wait_counts_the_pass_its_madvise_woke)
{
	struct driver_run r;
	struct wl_spec sp;

	run_into(&r, &sp, "khugepaged-collapse", CHANNEL_IN_PROCESS, true, NULL);
	cr_assert(r.timed);
	cr_assert_not(r.phases[2].timed_out);
	cr_assert_eq(r.khugepaged.passes, 2, "the woken pass and one after scan_sleep");
	/* the first pass ran at the madvise, just before the wait began */
	cr_assert_gt(r.phases[2].runtime_ns, 99000000ULL, "%llu ns",
		     (unsigned long long)r.phases[2].runtime_ns);
	cr_assert_leq(r.phases[2].runtime_ns, 100000000ULL, "%llu ns: one scan_sleep less the "
		      "way into the wait", (unsigned long long)r.phases[2].runtime_ns);
	driver_release(&r);
	wl_spec_release(&sp);
}

/* The reservation policy, chosen by configuration, changes the outcome as designed. */
Test(driver, reservation_policy_by_configuration)
{
	struct channel_config cfg;
	struct driver_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };

	cr_assert_eq(wl_spec_load(&spec, "datasets/workloads/thp-madvise-advised.json", &err), 0);
	loaded = true;
	linux_defaults(&host);
	channel_config_init(&cfg);
	snprintf(cfg.policy, sizeof(cfg.policy), "reservation");
	driver_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 4ULL << 30;
	o.mimicos = &cfg;
	cr_assert_eq(driver_run(&run, &spec, &o, &err), 0, "%s", err.msg);
	/*
	 * advised (16 MiB, VM_HUGEPAGE, written in order): each 2 MiB takes 256
	 * 4 KiB faults then promotes at the 256th (threshold 0.5): 8 x 256
	 * faults, 8 promotions, pmd 4096; none of them a Linux THP fault.
	 */
	expect("advised", 8 * 256, 8, 0, 0, 4096);
	cr_assert_eq(run.reservation.promotions, 8 + 4, "advised 8 + plain's advised half 4");
	cr_assert_eq(run.ev.event[THP_FAULT_ALLOC], 0);
}

/* ---- backing maps ------------------------------------------------------------------ */

/* A backing map as text, "pte 256, none 512, ...", for messages and comparisons. */
static void map_text(const struct side_backing *b, char *buf, size_t len)
{
	static const char *const names[] = { "none", "zero", "pte", "pmd" };
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < b->nr && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s %lu", i ? ", " : "",
					 names[b->run[i].cls], (unsigned long)b->run[i].pages);
}

/*
 * Hand-derived end maps (INDEX.md's outcomes laid out in address order).
 * "" for a region whose map depends on placement (thp-always-fault's odd)
 * or is checked in a test of its own (the sparse region).
 */
struct ds_map {
	char name[40];
	char map[2][96];
};

static struct ds_map ds_maps[] = {
	{ "access-mix", { "pte 12288" } },
	{ "chase-tlb", { "pmd 8192", "pte 8192" } },
	/* cold: the first 8MiB written, the rest read (4 KiB zero page) */
	{ "default", { "pmd 8192", "pte 2048, zero 2048" } },
	/* block 0 zapped whole and refilled by a THP; block 1 split, its hole refilled */
	{ "dontneed-split", { "pmd 512, pte 512, pmd 1024" } },
	{ "khugepaged-collapse", { "pmd 2048" } },
	{ "khugepaged-max-ptes-none", { "pmd 1024", "" } },
	/* MimicOS's khugepaged reaches the mm within the sleep, always */
	{ "khugepaged-sleep", { "pmd 1024" } },
	{ "madv-collapse", { "pmd 2048" } },
	/* [3MiB, 4MiB) made read-only split block 1; the PROT_NONE block 3 keeps its PMD */
	{ "mprotect-split", { "pmd 512, pte 512, pmd 1024" } },
	{ "mthp-64k", { "pte 2048", "zero 512" } },
	{ "mthp-policy", { "pte 1024", "pte 1024" } },
	/* [1MiB, 3MiB) and [6MiB, 8MiB) unmapped; blocks 0 and 1 split around the hole */
	{ "munmap-partial", { "pte 256, none 512, pte 256, pmd 512, none 512" } },
	/* the nohugepage half is the second */
	{ "nohugepage-override", { "pmd 1024, pte 1024", "pte 2048" } },
	{ "populate", { "pmd 4096", "pmd 4096" } },
	{ "thp-always-fault", { "pmd 8192", "" } },
	/* plain: the first half written before its MADV_HUGEPAGE, the second after */
	{ "thp-madvise-advised", { "pmd 4096", "pte 2048, pmd 2048" } },
	{ "thp-never-4k", { "pte 16384" } },
	{ "zero-page-4k-cow", { "pmd 2048", "pte 512, zero 512" } },
	/* the first 4MiB written over the huge zero page: new THPs */
	{ "zero-page-huge", { "pmd 1024, zero 3072" } },
};

ParameterizedTestParameters(driver, backing_map_is_the_expected_layout)
{
	return cr_make_param_array(struct ds_map, ds_maps, sizeof(ds_maps) / sizeof(ds_maps[0]));
}

ParameterizedTest(struct ds_map *m, driver, backing_map_is_the_expected_layout)
{
	char got[2048];

	run_dataset(m->name);
	cr_assert_leq(spec.nr_regions, 2);
	for (size_t i = 0; i < spec.nr_regions; i++) {
		if (!m->map[i][0])
			continue;
		map_text(&run.regions[i].backing, got, sizeof(got));
		cr_expect_str_eq(got, m->map[i], "%s: %s: [%s], expected [%s]", m->name,
				 spec.regions[i].name, got, m->map[i]);
	}
}

/* khugepaged-max-ptes-none's sparse region: a 4 KiB page every 64 KiB, never collapsed. */
Test(driver, sparse_region_map_alternates_one_page_and_fifteen_holes)
{
	const struct driver_region *r;

	run_dataset("khugepaged-max-ptes-none");
	r = region("sparse");
	cr_assert_eq(r->backing.nr, 128, "64 pages, each followed by a hole");
	for (size_t i = 0; i < 128; i++) {
		cr_assert_eq(r->backing.run[i].cls, i % 2 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, "run %zu", i);
		cr_assert_eq(r->backing.run[i].pages, i % 2 ? 15 : 1, "run %zu", i);
	}
}

/*
 * Every other page of 8 MiB: 2048 runs, far more than one BACKING response
 * holds (MIMICOS_BACKING_RUNS), so the driver asks range after range; the
 * map must come out whole, in both channel modes.
 */
Test(driver, map_longer_than_one_response_arrives_whole)
{
	static const char text[] =
		"{\"name\": \"every-other\", \"seed\": 3,"
		" \"kernel\": {\"thp\": \"never\"},"
		" \"regions\": [{\"name\": \"a\", \"size\": \"8MiB\"}],"
		" \"phases\": [{\"op\": \"touch\", \"region\": \"a\", \"stride\": \"8KiB\"}]}";
	struct channel_config cfg;
	struct driver_opts o;
	struct driver_run oop;
	struct wl_kernel host;
	struct wl_error err = { 0 };

	cr_assert_gt(2048, MIMICOS_BACKING_RUNS);
	cr_assert_eq(wl_spec_parse(&spec, text, sizeof(text) - 1, "every-other.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	loaded = true;
	linux_defaults(&host);
	channel_config_init(&cfg);
	driver_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 1ULL << 30;
	o.mimicos = &cfg;
	cr_assert_eq(driver_run(&run, &spec, &o, &err), 0, "%s", err.msg);
	cfg.mode = CHANNEL_OUT_OF_PROCESS;
	cr_assert_eq(driver_run(&oop, &spec, &o, &err), 0, "%s", err.msg);
	cr_assert_eq(run.regions[0].backing.nr, 2048);
	for (size_t i = 0; i < 2048; i++) {
		cr_assert_eq(run.regions[0].backing.run[i].cls, i % 2 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, "run %zu", i);
		cr_assert_eq(run.regions[0].backing.run[i].pages, 1, "run %zu", i);
	}
	cr_assert_eq(oop.regions[0].backing.nr, 2048);
	for (size_t i = 0; i < 2048; i++)
		cr_assert(oop.regions[0].backing.run[i].cls == run.regions[0].backing.run[i].cls &&
			  oop.regions[0].backing.run[i].pages == run.regions[0].backing.run[i].pages,
			  "run %zu differs between the modes", i);
	driver_release(&oop);
}

ParameterizedTestParameters(driver, backing_runs_add_up_to_the_page_counts)
{
	return cr_make_param_array(struct ds_name, all_datasets, NR_DATASETS);
}

/*
 * The map (BACKING, page by page) and the counts (CLASSES) come from
 * different requests: the runs must add up to the counts and to the
 * region's size, with no empty run and no two neighbours of one class; and
 * sim.json prints the same runs.
 */
ParameterizedTest(struct ds_name *d, driver, backing_runs_add_up_to_the_page_counts)
{
	cJSON *j, *regions;

	run_dataset(d->name);
	j = driver_to_json(&run);
	cr_assert_not_null(j);
	regions = cJSON_GetObjectItem(j, "regions");
	for (size_t i = 0; i < spec.nr_regions; i++) {
		const struct driver_region *r = &run.regions[i];
		cJSON *map = cJSON_GetObjectItem(cJSON_GetObjectItem(regions, spec.regions[i].name),
						 "backing");
		uint64_t sum[PAGE_CLASS_NR] = { 0 }, total = 0;

		cr_assert(cJSON_IsArray(map), "%s: no backing array", d->name);
		cr_assert_eq((size_t)cJSON_GetArraySize(map), r->backing.nr);
		for (size_t k = 0; k < r->backing.nr; k++) {
			static const char *const names[] = { "none", "zero", "pte", "pmd" };
			const struct side_backing_run *run_k = &r->backing.run[k];
			cJSON *jr = cJSON_GetArrayItem(map, (int)k);

			cr_assert_gt(run_k->pages, 0, "%s: run %zu is empty", d->name, k);
			cr_assert(k == 0 || run_k->cls != r->backing.run[k - 1].cls,
				  "%s: runs %zu and %zu have one class", d->name, k - 1, k);
			cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(jr, 0)), names[run_k->cls]);
			cr_assert_eq(cJSON_GetNumberValue(cJSON_GetArrayItem(jr, 1)), (double)run_k->pages);
			sum[run_k->cls] += run_k->pages;
			total += run_k->pages;
		}
		cr_assert_eq(total, spec.regions[i].size / (4 * KiB), "%s: %s", d->name,
			     spec.regions[i].name);
		for (int c = 0; c < PAGE_CLASS_NR; c++)
			cr_assert_eq(sum[c], r->pages[c], "%s: %s class %d: runs %lu, counts %lu",
				     d->name, spec.regions[i].name, c, (unsigned long)sum[c],
				     (unsigned long)r->pages[c]);
	}
	cJSON_Delete(j);
}

/* ---- simulated fault latencies ------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The value of rank ceil(pct * n / 100) in v[0..n), sorted. */
static uint64_t nearest_rank(const uint64_t *v, size_t n, size_t pct)
{
	size_t rank = (pct * n + 99) / 100;

	return n ? v[(rank ? rank : 1) - 1] : 0;
}

static double jnum(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);

	cr_assert(cJSON_IsNumber(v), "no number %s", k);
	return v->valuedouble;
}

ParameterizedTestParameters(driver, timed_fault_records_carry_the_simulated_fault_time)
{
	return cr_make_param_array(struct ds_name, all_datasets, NR_DATASETS);
}

/*
 * A timed run: each user fault's record in the log carries the cycles of
 * its fault window (the kernel stream, without entry and exit) in ns at the
 * core clock, rounded to the nearest ns, so the records add up to the run's
 * fault_window_cycles within half a ns each, and fault_cycles is that plus
 * entry and exit for each fault; the GUP faults of MAP_POPULATE (setup,
 * no phase) are the mmap's time and carry none. sim.json's per-region
 * summary is the one recomputed here from the log.
 */
ParameterizedTest(struct ds_name *d, driver, timed_fault_records_carry_the_simulated_fault_time)
{
	char dir[] = "/tmp/vfunc-XXXXXX", log[64];
	struct evlog_reader r;
	struct wl_error err = { 0 };
	struct vt_event ev;
	uint64_t *lat[8] = { NULL }, sum = 0, user_faults = 0, timed = 0;
	size_t nlat[8] = { 0 };
	struct sim_config sc;
	double exact;
	cJSON *j, *regions;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	run_into(&run, &spec, d->name, CHANNEL_IN_PROCESS, true, log);
	loaded = true;
	cr_assert(run.timed);
	cr_assert_leq(spec.nr_regions, 8);
	for (size_t i = 0; i < spec.nr_regions; i++) {
		user_faults += run.regions[i].faults;
		lat[i] = calloc(run.regions[i].faults + 1, sizeof(uint64_t));
	}
	cr_assert_eq(evlog_open(&r, log, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &ev) > 0) {
		if (ev.type != VT_FAULT)
			continue;
		if (ev.phase < 0) {
			cr_assert_eq(ev.fault.latency_ns, 0, "%s: a GUP fault has no time of its own",
				     d->name);
			continue;
		}
		cr_assert(ev.fault.completed, "%s", d->name);
		cr_assert_gt(ev.fault.latency_ns, 0, "%s: fault at 0x%llx", d->name,
			     (unsigned long long)ev.fault.addr);
		sum += ev.fault.latency_ns;
		timed++;
		for (size_t i = 0; i < spec.nr_regions; i++)
			if (ev.fault.addr - run.regions[i].start < run.regions[i].size) {
				cr_assert_lt(nlat[i], run.regions[i].faults);
				lat[i][nlat[i]++] = ev.fault.latency_ns;
			}
	}
	evlog_close(&r);
	cr_assert_eq(timed, user_faults, "%s: one timed record per user fault", d->name);
	cr_assert_eq(timed, run.timing.faults[0] + run.timing.faults[1] + run.timing.faults[2] +
		     run.timing.faults[3] + run.timing.faults[4]);
	exact = (double)run.timing.fault_window_cycles * 1000.0 / run.freq_mhz;
	cr_assert_leq(fabs((double)sum - exact), 0.5 * (double)timed + 1e-6,
		      "%s: records add up to %llu ns, fault_window_cycles to %.1f ns", d->name,
		      (unsigned long long)sum, exact);
	sim_config_init(&sc);
	cr_assert_eq(run.timing.fault_entry_exit_cycles,
		     timed * (sc.core.fault_entry_cycles + sc.core.fault_exit_cycles), "%s", d->name);
	cr_assert_eq(run.timing.fault_cycles, run.timing.fault_window_cycles +
		     run.timing.fault_entry_exit_cycles, "%s", d->name);

	j = driver_to_json(&run);
	regions = cJSON_GetObjectItem(j, "regions");
	for (size_t i = 0; i < spec.nr_regions; i++) {
		cJSON *fl = cJSON_GetObjectItem(cJSON_GetObjectItem(regions, spec.regions[i].name),
						"fault_latency_ns");
		double mean = 0;

		cr_assert_not_null(fl, "%s: no fault_latency_ns", d->name);
		cr_assert_eq(nlat[i], run.regions[i].faults);
		qsort(lat[i], nlat[i], sizeof(uint64_t), cmp_u64);
		for (size_t k = 0; k < nlat[i]; k++)
			mean += (double)lat[i][k] / (double)nlat[i];
		cr_assert_eq(jnum(fl, "count"), (double)nlat[i]);
		cr_assert_eq(jnum(fl, "p50"), (double)nearest_rank(lat[i], nlat[i], 50));
		cr_assert_eq(jnum(fl, "p90"), (double)nearest_rank(lat[i], nlat[i], 90));
		cr_assert_eq(jnum(fl, "p99"), (double)nearest_rank(lat[i], nlat[i], 99));
		cr_assert_eq(jnum(fl, "max"), nlat[i] ? (double)lat[i][nlat[i] - 1] : 0);
		cr_assert_leq(fabs(jnum(fl, "mean") - mean), 1e-6 * (mean + 1), "%s: mean", d->name);
		free(lat[i]);
	}
	cJSON_Delete(j);
	unlink(log);
	rmdir(dir);
}

ParameterizedTestParameters(driver, timed_fault_records_are_stamped_when_the_fault_began)
{
	return cr_make_param_array(struct ds_name, all_datasets, NR_DATASETS);
}

/*
 * A timed run stamps each fault record with the core's time when the
 * kernel's work on it began, on the clock of sim.json's phases (simulated
 * ns since the run started): within its phase's [start_ns, start_ns +
 * runtime_ns], and later than the previous fault of the phase by at least
 * that fault's own latency (the core handles one fault at a time), give or
 * take the 1 ns of rounding a latency has.
 */
ParameterizedTest(struct ds_name *d, driver, timed_fault_records_are_stamped_when_the_fault_began)
{
	char dir[] = "/tmp/vfunc-XXXXXX", log[64];
	struct evlog_reader r;
	struct wl_error err = { 0 };
	struct vt_event ev;
	uint64_t last_end = 0, in_phase = 0;
	int16_t last_phase = -1;
	cJSON *j, *phases;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	run_into(&run, &spec, d->name, CHANNEL_IN_PROCESS, true, log);
	loaded = true;
	j = driver_to_json(&run);
	phases = cJSON_GetObjectItem(j, "phases");
	cr_assert_eq((size_t)cJSON_GetArraySize(phases), spec.nr_phases);
	cr_assert_eq(evlog_open(&r, log, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &ev) > 0) {
		cJSON *ph;
		double start, runtime;

		if (ev.type != VT_FAULT || ev.phase < 0)
			continue;	/* MAP_POPULATE's GUP faults: the mmap's time */
		ph = cJSON_GetArrayItem(phases, ev.phase);
		cr_assert_not_null(ph, "%s: fault of phase %d", d->name, ev.phase);
		start = jnum(ph, "start_ns");
		runtime = jnum(ph, "runtime_ns");
		cr_assert_geq((double)ev.ts, start, "%s: phase %d starts at %.0f, a fault at %llu",
			      d->name, ev.phase, start, (unsigned long long)ev.ts);
		cr_assert_leq((double)ev.ts, start + runtime, "%s: phase %d ends at %.0f, a fault "
			      "at %llu", d->name, ev.phase, start + runtime, (unsigned long long)ev.ts);
		if (ev.phase == last_phase)
			cr_assert_geq(ev.ts + 1, last_end, "%s: phase %d: a fault at %llu, before "
				      "the previous one ended (%llu)", d->name, ev.phase,
				      (unsigned long long)ev.ts, (unsigned long long)last_end);
		last_phase = ev.phase;
		last_end = ev.ts + ev.fault.latency_ns;
		in_phase++;
	}
	evlog_close(&r);
	cr_assert_eq(in_phase, run.timing.faults[0] + run.timing.faults[1] + run.timing.faults[2] +
		     run.timing.faults[3] + run.timing.faults[4], "%s: every user fault seen", d->name);
	cJSON_Delete(j);
	unlink(log);
	rmdir(dir);
}

/* Untimed (--functional): no simulated time, so no latency summary in sim.json. */
Test(driver, untimed_run_has_no_fault_latencies)
{
	cJSON *j;

	run_dataset("default");
	j = driver_to_json(&run);
	cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "regions"),
							       "hot"), "fault_latency_ns"));
	cJSON_Delete(j);
	cr_assert_eq(run.regions[0].latency.n, 0);
}

/* Datasets quick enough out of process when timed (a round trip per entry read). */
static struct ds_name quick_datasets[] = {
	{ "default" }, { "dontneed-split" }, { "khugepaged-collapse" },
	{ "khugepaged-max-ptes-none" }, { "khugepaged-sleep" }, { "madv-collapse" },
	{ "mprotect-split" }, { "mthp-64k" }, { "mthp-policy" }, { "munmap-partial" },
	{ "nohugepage-override" }, { "populate" }, { "thp-always-fault" },
	{ "thp-madvise-advised" }, { "zero-page-4k-cow" }, { "zero-page-huge" },
};

ParameterizedTestParameters(driver, timed_out_of_process_gives_the_same_result_and_log)
{
	return cr_make_param_array(struct ds_name, quick_datasets,
				   sizeof(quick_datasets) / sizeof(quick_datasets[0]));
}

/*
 * Timed, the fault records wait in MimicOS for their latency
 * (MIMICOS_REQ_FAULT_LATENCY): the log, latencies included, and sim.json
 * are byte for byte the same in both modes.
 */
ParameterizedTest(struct ds_name *d, driver, timed_out_of_process_gives_the_same_result_and_log,
		  .timeout = 60)
{
	expect_modes_agree(d->name, true);
}

/* ---- threads (datasets/threads/INDEX.md) ------------------------------------- */

/* What a threaded run's log holds of flushes and cross-calls. */
struct thread_log {
	unsigned local[4], send[4], remote[4];	/* tlb:tlb_flush by CPU */
	unsigned full;				/* of the local ones, full flushes */
	unsigned ipi_sent, ipi_run;
	struct vt_event remote_ev, sent_ev;	/* the last of each */
};

static void read_thread_log(const char *log, struct thread_log *t)
{
	struct wl_error err = { 0 };
	struct evlog_reader r;
	struct vt_event ev;

	memset(t, 0, sizeof(*t));
	cr_assert_eq(evlog_open(&r, log, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &ev) > 0) {
		if (ev.type == VT_IPI) {
			if (ev.ipi.sent) {
				t->ipi_sent++;
				t->sent_ev = ev;
			} else {
				t->ipi_run++;
			}
		}
		if (ev.type != VT_TLB_FLUSH || ev.cpu >= 4)
			continue;
		if (ev.tlb.reason == 3) {
			t->local[ev.cpu]++;
			t->full += ev.tlb.pages == -1;
		} else if (ev.tlb.reason == 4) {
			t->send[ev.cpu]++;
		} else if (ev.tlb.reason == 1) {
			t->remote[ev.cpu]++;
			t->remote_ev = ev;
		}
	}
	evlog_close(&r);
}

/* Dataset threads/<name> run functionally with its log; the log read into *t. */
static void run_threads_dataset(const char *name, struct thread_log *t)
{
	char dir[] = "/tmp/vthr-XXXXXX", log[64], full[96];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	snprintf(full, sizeof(full), "threads/%s", name);
	run_into(&run, &spec, full, CHANNEL_IN_PROCESS, false, log);
	loaded = true;
	read_thread_log(log, t);
	unlink(log);
	rmdir(dir);
	cr_assert_eq(run.cores, spec.threads, "a core per thread by default");
}

static unsigned sum4(const unsigned *a)
{
	return a[0] + a[1] + a[2] + a[3];
}

/* Four slices, four cores: each thread its 4096 first touches, nothing flushed. */
Test(driver, threads_disjoint_slices_fault_apart_and_flush_nothing)
{
	struct thread_log t;

	run_threads_dataset("threads-disjoint-4k", &t);
	expect("buf", 16384, 0, 0, 16384, 0);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(run.threads[i].faults, 4096, "thread %u", i);
		cr_assert_eq(run.threads[i].cpu, i);
	}
	cr_assert_eq(sum4(t.local) + sum4(t.send) + sum4(t.remote) + t.ipi_sent + t.ipi_run, 0);
}

/*
 * The simulator takes faults one at a time: in its turns of 64 ops thread 0
 * reaches each 2 MiB block first and installs its THP; thread 1 then finds
 * every block mapped. 16 faults, all thread 0's: the low end of what Linux
 * may do (INDEX.md: 16 to 32, 32 when the threads race in step).
 */
Test(driver, threads_on_one_thp_range_fault_each_block_once)
{
	struct thread_log t;

	run_threads_dataset("threads-same-range-thp", &t);
	expect("shared", 16, 16, 0, 0, 8192);
	cr_assert_eq(run.threads[0].faults, 16);
	cr_assert_eq(run.threads[1].faults, 0);
	cr_assert_eq(run.threads[1].accesses, 8192, "it wrote every page all the same");
	cr_assert_eq(sum4(t.local) + sum4(t.send) + sum4(t.remote), 0);
}

/*
 * Thread 0 unmaps [8 MiB, 16 MiB) of a while thread 1 faults b: the unmap
 * frees 4 PTE tables, so flush_tlb_mm_range() sends (CPU 1 is in the mask)
 * and CPU 1, running thread 1, takes the shootdown: on CPU 0 one "remote IPI
 * send" and one full local flush (2048 pages > 33), on CPU 1 one remote
 * shootdown in thread 1's phase 1; one cross-call queued and run.
 */
Test(driver, threads_munmap_alongside_shoots_down_the_running_thread)
{
	struct thread_log t;

	run_threads_dataset("threads-munmap-alongside", &t);
	expect("a", 4096, 0, 0, 2048, 0);
	expect("b", 4096, 0, 0, 4096, 0);
	cr_assert_eq(run.threads[0].faults, 2048);
	cr_assert_eq(run.threads[1].faults, 2048 + 4096);
	cr_assert_eq(run.phases[1].faults, 4096);
	cr_assert_eq(t.local[0], 1);
	cr_assert_eq(t.full, 1);
	cr_assert_eq(t.send[0], 1);
	cr_assert_eq(t.remote[1], 1);
	cr_assert_eq(sum4(t.local) + sum4(t.send) + sum4(t.remote), 3);
	cr_assert_eq(t.remote_ev.tid, 1);
	cr_assert_eq(t.remote_ev.phase, 1);
	cr_assert_eq(t.remote_ev.tlb.source, VT_TLB_SRC_SHOOTDOWN);
	cr_assert_eq(t.ipi_sent, 1);
	cr_assert_eq(t.ipi_run, 1);
	cr_assert_eq(t.sent_ev.ipi.target, 1);
	cr_assert_eq(t.sent_ev.phase, 2, "the munmap's phase");
}

/*
 * MADV_DONTNEED from thread 0 while thread 1 waits: CPU 1 is lazy and no
 * table is freed, so the send is traced and no cross-call made; the local
 * flush is full (4096 pages).
 */
Test(driver, threads_dontneed_skips_the_lazy_cpu)
{
	struct thread_log t;

	run_threads_dataset("threads-dontneed-shared", &t);
	expect("buf", 4096, 0, 0, 0, 0);
	cr_assert_eq(t.local[0], 1);
	cr_assert_eq(t.full, 1);
	cr_assert_eq(t.send[0], 1);
	cr_assert_eq(sum4(t.local) + sum4(t.send) + sum4(t.remote), 2);
	cr_assert_eq(t.ipi_sent + t.ipi_run, 0);
}

/*
 * khugepaged collapses the 4 blocks during the wait, when both CPUs are
 * lazy (thread 0 blocked in the wait, thread 1 at the group's end): its
 * flushes reach neither, so the workload records no flush and no cross-call.
 */
Test(driver, threads_khugepaged_collapse_reaches_no_lazy_cpu)
{
	struct thread_log t;

	run_threads_dataset("threads-khugepaged-collapse", &t);
	expect("sparse", 128, 0, 0, 0, 2048);
	cr_assert_eq(run.threads[0].faults, 64);
	cr_assert_eq(run.threads[1].faults, 64);
	cr_assert_eq(run.collapse_status[SCAN_SUCCEED], 4);
	cr_assert_eq(sum4(t.local) + sum4(t.send) + sum4(t.remote), 0);
	cr_assert_eq(t.ipi_sent + t.ipi_run, 0);
}

static struct ds_name thread_datasets[] = {
	{ "threads/threads-disjoint-4k" }, { "threads/threads-same-range-thp" },
	{ "threads/threads-munmap-alongside" }, { "threads/threads-dontneed-shared" },
	{ "threads/threads-khugepaged-collapse" },
};

ParameterizedTestParameters(driver, threads_run_the_same_in_both_modes)
{
	return cr_make_param_array(struct ds_name, thread_datasets,
				   sizeof(thread_datasets) / sizeof(thread_datasets[0]));
}

/*
 * Several cores, one MimicOS: the same sim.json and event log in process
 * and out of it, timed or not.
 */
ParameterizedTest(struct ds_name *d, driver, threads_run_the_same_in_both_modes, .timeout = 120)
{
	expect_modes_agree(d->name, false);
	expect_modes_agree(d->name, true);
}

/*
 * Timed on the reference hardware: the munmap's flush made one cross-call,
 * so core 0 waits ipi_wait_cycles (5000) once and core 1 runs it for
 * ipi_handle_cycles (2500) once; the flushes are those of the untimed run
 * (the threads start the group together and thread 0's clock is not later
 * than thread 1's, so its munmap comes while thread 1 runs). Each core has
 * its own clock: the concurrent group lasts as long as its longer thread.
 */
Test(driver, timed_threads_pay_for_the_cross_call_on_both_ends)
{
	char dir[] = "/tmp/vthrt-XXXXXX", log[64];
	struct thread_log t;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	run_into(&run, &spec, "threads/threads-munmap-alongside", CHANNEL_IN_PROCESS, true, log);
	loaded = true;
	read_thread_log(log, &t);
	unlink(log);
	rmdir(dir);
	cr_assert(run.timed);
	cr_assert_eq(run.cores, 2);
	cr_assert_eq(run.timing.ipi_wait_cycles, 5000);
	cr_assert_eq(run.timing.ipi_handle_cycles, 2500);
	cr_assert_eq(run.phases[2].timing.ipi_wait_cycles, 5000, "in the munmap's group");
	cr_assert_eq(run.ipis, 1);
	cr_assert_eq(run.ipi_waits, 1);
	cr_assert_eq(t.local[0] + t.send[0] + t.remote[1], 3);
	cr_assert_eq(t.ipi_sent + t.ipi_run, 2);
	cr_assert_eq(run.threads[1].faults, 2048 + 4096);
	cr_assert_eq(run.phases[1].runtime_ns, run.phases[2].runtime_ns, "one group, one time");
	cr_assert_gt(run.phases[1].runtime_ns, 0);
}

/*
 * Timed, the threads race: both start the group at one clock, thread 0's
 * first access faults on the empty PMD of block 0 and installs a THP about
 * a clear's time later; thread 1's first access, at the same clock, comes
 * before that install, so its fault also found the PMD empty: it allocates
 * and clears its own THP and its PTE table, finds the PMD set and gives both
 * back (do_huge_pmd_lost_race()). Whoever installs, each block is installed
 * once: 16 THPs counted by thp_fault_alloc, the losers' order-9 folios
 * allocated and freed beside them, up to 32 faults (Linux in step: 32).
 */
Test(driver, timed_threads_race_on_one_thp_block)
{
	char dir[] = "/tmp/vthrr-XXXXXX", log[64];
	const struct driver_region *r;
	struct wl_error err = { 0 };
	struct evlog_reader rd;
	struct vt_event ev;
	uint64_t raced_t1 = 0, freed9 = 0;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	run_into(&run, &spec, "threads/threads-same-range-thp", CHANNEL_IN_PROCESS, true, log);
	loaded = true;
	r = region("shared");
	cr_assert_eq(r->pages[PAGE_CLASS_PMD], 8192);
	cr_assert_eq(run.ev.event[THP_FAULT_ALLOC], 16, "each block installed once");
	cr_assert_gt(r->faults, 16, "some faults raced");
	cr_assert_leq(r->faults, 32);
	cr_assert_eq(r->thp_faults, r->faults, "every fault allocated its THP");
	cr_assert_eq(r->alloc_orders[9], r->faults);
	cr_assert_eq(run.threads[0].faults + run.threads[1].faults, r->faults);
	cr_assert_eq(evlog_open(&rd, log, &err), 0, "%s", err.msg);
	while (evlog_next(&rd, &ev) > 0) {
		if (ev.type == VT_FAULT && ev.tid == 1 && ev.fault.addr == r->start)
			raced_t1++;
		if (ev.type == VT_FREE && ev.free.order == 9)
			freed9++;
	}
	evlog_close(&rd);
	unlink(log);
	rmdir(dir);
	cr_assert_eq(raced_t1, 1, "thread 1 lost block 0");
	cr_assert_eq(freed9, r->faults - 16, "every loser gave its THP back");
}
