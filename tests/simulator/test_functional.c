/*
 * test_functional.c - the dataset workloads through the functional driver
 * (simulator/functional.h), against the outcomes datasets/workloads/INDEX.md
 * expects on Linux 6.18. The numbers below are typed from INDEX.md; "none"
 * is what is left of the region once the other classes are counted.
 *
 * Settings a workload leaves to the host (only khugepaged's, in the datasets)
 * come from Linux's defaults here, not from this machine's sysfs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "linux-probes/evlog.h"
#include "simulator/functional.h"
#include "tests/simulator/harness.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)

static struct wl_spec spec;
static struct functional_run run;
static bool loaded;


/* Run datasets/workloads/<name>.json; 'start' NULL or per-region MAP_FIXED addresses. */
static void run_fixed(const char *name, const uint64_t *start)
{
	struct functional_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };
	char path[256];

	snprintf(path, sizeof(path), "datasets/workloads/%s.json", name);
	cr_assert_eq(wl_spec_load(&spec, path, &err), 0, "%s: %s", err.path, err.msg);
	loaded = true;
	linux_defaults(&host);
	functional_opts_init(&o);
	o.host = &host;
	o.region_start = start;
	o.mem_bytes = 4ULL << 30;
	cr_assert_eq(functional_run(&run, &spec, &o, &err), 0, "%s: %s: %s", err.file,
		     err.path, err.msg);
}

static void run_dataset(const char *name)
{
	run_fixed(name, NULL);
}

static void teardown(void)
{
	functional_release(&run);
	if (loaded)
		wl_spec_release(&spec);
	loaded = false;
}

static const struct functional_region *region(const char *name)
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
	const struct functional_region *r = region(name);
	uint64_t total = r->size / (4 * KiB);

	cr_assert_eq(r->faults, faults, "%s: faults %lu, want %lu", name,
		     (unsigned long)r->faults, (unsigned long)faults);
	cr_assert_eq(r->thp_faults, thp, "%s: thp_faults %lu, want %lu", name,
		     (unsigned long)r->thp_faults, (unsigned long)thp);
	cr_assert_eq(r->pages[MM_PAGE_ZERO], zero, "%s: zero %lu, want %lu", name,
		     (unsigned long)r->pages[MM_PAGE_ZERO], (unsigned long)zero);
	cr_assert_eq(r->pages[MM_PAGE_PTE], pte, "%s: pte %lu, want %lu", name,
		     (unsigned long)r->pages[MM_PAGE_PTE], (unsigned long)pte);
	cr_assert_eq(r->pages[MM_PAGE_PMD], pmd, "%s: pmd %lu, want %lu", name,
		     (unsigned long)r->pages[MM_PAGE_PMD], (unsigned long)pmd);
	cr_assert_eq(r->pages[MM_PAGE_NONE], total - zero - pte - pmd, "%s: none %lu", name,
		     (unsigned long)r->pages[MM_PAGE_NONE]);
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

TestSuite(functional, .fini = teardown);

Test(functional, thp_never_4k)
{
	run_dataset("thp-never-4k");
	expect_complete();
	expect("buf", 16384, 0, 0, 16384, 0);
}

Test(functional, thp_always_fault_aligned_and_odd)
{
	const struct functional_region *odd;
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
Test(functional, thp_always_fault_at_fixed_addresses)
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

Test(functional, thp_madvise_advised)
{
	run_dataset("thp-madvise-advised");
	expect_complete();
	expect("advised", 8, 8, 0, 0, 4096);
	expect("plain", 2052, 4, 0, 2048, 2048);
}

Test(functional, zero_page_huge)
{
	const struct functional_region *r;

	run_dataset("zero-page-huge");
	expect_complete();
	expect("buf", 10, 2, 3072, 0, 1024);
	r = region("buf");
	cr_assert_eq(r->pages[MM_PAGE_PMD] * 4 * KiB, 4 * MiB);		/* huge_bytes */
	cr_assert_eq((r->pages[MM_PAGE_PMD] + r->pages[MM_PAGE_PTE] +
		      r->pages[MM_PAGE_ZERO]) * 4 * KiB, 16 * MiB);	/* resident_bytes */
}

Test(functional, zero_page_4k_cow)
{
	run_dataset("zero-page-4k-cow");
	expect_complete();
	expect("thp", 4, 4, 0, 0, 2048);
	expect("small", 1536, 0, 512, 512, 0);
}

Test(functional, mthp_64k)
{
	run_dataset("mthp-64k");
	expect_complete();
	expect("buf", 128, 0, 0, 2048, 0);
	expect("ro", 512, 0, 512, 0, 0);
	cr_assert_eq(region("buf")->alloc_orders[4], 128);	/* 64KiB folios */
}

Test(functional, mthp_policy)
{
	run_dataset("mthp-policy");
	expect_complete();
	expect("advised", 32, 0, 0, 1024, 0);
	expect("plain", 256, 0, 0, 1024, 0);
	cr_assert_eq(region("advised")->alloc_orders[5], 32);	/* 128KiB */
	cr_assert_eq(region("plain")->alloc_orders[2], 256);	/* 16KiB */
}

Test(functional, default_workload)
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
	cr_assert_eq((region("hot")->pages[MM_PAGE_PMD] + region("cold")->pages[MM_PAGE_PMD]) *
		     4 * KiB, 32 * MiB);
	/* Phase pages: after the first phase hot is all PMD, cold untouched. */
	cr_assert_eq(run.phases[0].pages[0][MM_PAGE_PMD], 8192);
	cr_assert_eq(run.phases[0].pages[1][MM_PAGE_NONE], 4096);
}

Test(functional, chase_tlb)
{
	run_dataset("chase-tlb");
	expect_complete();
	expect("huge", 16, 16, 0, 0, 8192);
	expect("small", 8192, 0, 0, 8192, 0);
}

Test(functional, access_mix)
{
	run_dataset("access-mix");
	expect_complete();
	expect("heap", 12288, 0, 0, 12288, 0);
	for (size_t i = 1; i < spec.nr_phases; i++)
		cr_assert_eq(run.phases[i].faults, 0, "phase %zu", i);
}

Test(functional, nohugepage_override)
{
	run_dataset("nohugepage-override");
	expect_complete();
	expect("mixed", 1026, 2, 0, 1024, 1024);
	expect("small", 2048, 0, 0, 2048, 0);
}

Test(functional, populate_faults_are_not_user_faults)
{
	run_dataset("populate");
	expect_complete();
	expect("pop", 0, 0, 0, 0, 4096);
	expect("lazy", 8, 8, 0, 0, 4096);
	cr_assert_eq(region("pop")->populate_faults, 8);
}

/* The split cases: munmap, mprotect and MADV_DONTNEED on mapped memory. */
Test(functional, dontneed_split)
{
	run_dataset("dontneed-split");
	expect_complete();
	expect("buf", 133, 5, 0, 512, 1536);
}

Test(functional, mprotect_split)
{
	run_dataset("mprotect-split");
	expect_complete();
	expect("buf", 4, 4, 0, 512, 1536);
	for (size_t i = 1; i < spec.nr_phases; i++)
		cr_assert_eq(run.phases[i].faults, 0, "phase %zu", i);
}

Test(functional, munmap_partial)
{
	run_dataset("munmap-partial");
	expect_complete();
	expect("buf", 4, 4, 0, 512, 512);
	cr_assert_eq(region("buf")->pages[MM_PAGE_NONE], 1024);
}

/* A run that cannot finish is marked with a reason (results.md); nothing aborts. */
static bool has_reason(const char *what)
{
	for (size_t i = 0; i < run.nr_reasons; i++)
		if (strstr(run.reasons[i], what))
			return true;
	return false;
}

/* INDEX.md madv-collapse: 32 4 KiB faults, then the collapse: 4 THPs, 0 faults after. */
Test(functional, madv_collapse)
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
Test(functional, khugepaged_collapses_during_sleep)
{
	run_dataset("khugepaged-sleep");
	expect_complete();
	expect("buf", 32, 0, 0, 0, 1024);
	cr_assert_eq(run.collapse_status[SCAN_SUCCEED], 2);
	cr_assert_eq(run.phases[2].runtime_ns, 1000000000ULL);
	cr_assert_eq(run.phases[1].pages[0][MM_PAGE_PMD], 0, "nothing collapsed before the sleep");
	cr_assert_eq(run.phases[2].pages[0][MM_PAGE_PMD], 1024);
	/* scan_sleep 100 ms: passes at 0, 100, ..., 900 ms (see khugepaged.h). */
	cr_assert_eq(run.khugepaged.passes, 10);
}

/* INDEX.md khugepaged-collapse: 128 faults, 0 THP faults, then 4 collapses: pmd 2048. */
Test(functional, khugepaged_wait_collapses)
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
Test(functional, khugepaged_max_ptes_none)
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
Test(functional, khugepaged_wait_timeout_is_marked)
{
	static const char text[] =
		"{\"name\": \"wait-never\", \"seed\": 1,"
		" \"kernel\": {\"thp\": \"never\"},"
		" \"regions\": [{\"name\": \"a\", \"size\": \"2MiB\"}],"
		" \"phases\": [{\"op\": \"touch\", \"region\": \"a\"},"
		" {\"op\": \"khugepaged_wait\", \"full_scans\": 1, \"timeout_ms\": 500}]}";
	struct functional_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };

	cr_assert_eq(wl_spec_parse(&spec, text, sizeof(text) - 1, "wait-never.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	loaded = true;
	linux_defaults(&host);
	functional_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 1ULL << 30;
	cr_assert_eq(functional_run(&run, &spec, &o, &err), 0, "%s", err.msg);
	cr_assert_not(run.complete);
	cr_assert(has_reason("timed out"));
	cr_assert(run.phases[1].timed_out);
	cr_assert_eq(run.phases[1].runtime_ns, 500000000ULL);
}

Test(functional, json_has_the_side_fields)
{
	cJSON *j, *r, *pg;

	run_dataset("default");
	j = functional_to_json(&run);
	cr_assert_not_null(j);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "side")), "sim");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "timing")), "none");
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

Test(functional, same_spec_same_result)
{
	struct functional_run first;

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
	for (size_t i = 0; i < 2; i++)
		free(first.phases[i].pages);
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

static char *run_mode_log(const char *name, enum channel_mode mode, const char *log)
{
	struct channel_config cfg;
	struct functional_opts o;
	struct functional_run r;
	struct wl_kernel host;
	struct wl_error err = { 0 };
	struct wl_spec sp;
	char path[256], *text;
	cJSON *j;

	snprintf(path, sizeof(path), "datasets/workloads/%s.json", name);
	cr_assert_eq(wl_spec_load(&sp, path, &err), 0, "%s", err.msg);
	linux_defaults(&host);
	channel_config_init(&cfg);
	cfg.mode = mode;
	functional_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 4ULL << 30;
	o.mimicos = &cfg;
	o.events_path = log;
	cr_assert_eq(functional_run(&r, &sp, &o, &err), 0, "%s: %s", name, err.msg);
	j = functional_to_json(&r);
	cr_assert_not_null(j);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(j, "config"), "mimicos"), "mode")), channel_mode_name(mode));
	cJSON_DeleteItemFromObject(j, "config");	/* the one field that differs */
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	functional_release(&r);
	wl_spec_release(&sp);
	return text;
}


ParameterizedTestParameters(functional, out_of_process_gives_the_same_result)
{
	return cr_make_param_array(struct ds_name, all_datasets,
				   NR_DATASETS);
}

/*
 * MimicOS in its own process (shared-memory rings) gives the same sim.json
 * and the same event log, byte for byte.
 */
ParameterizedTest(struct ds_name *d, functional, out_of_process_gives_the_same_result)
{
	char dir[] = "/tmp/vfunc-XXXXXX", log_in[64], log_out[64];
	char *in, *out, *a, *b;
	size_t la, lb;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log_in, sizeof(log_in), "%s/in.vlog", dir);
	snprintf(log_out, sizeof(log_out), "%s/out.vlog", dir);
	in = run_mode_log(d->name, CHANNEL_IN_PROCESS, log_in);
	out = run_mode_log(d->name, CHANNEL_OUT_OF_PROCESS, log_out);
	cr_assert_str_eq(in, out, "%s differs between the modes", d->name);
	a = slurp(log_in, &la);
	b = slurp(log_out, &lb);
	cr_assert_eq(la, lb, "%s: event logs of %zu and %zu bytes", d->name, la, lb);
	cr_assert(!memcmp(a, b, la), "%s: the event logs differ", d->name);
	cr_assert_gt(la, 64 + 88, "%s: an event log with records", d->name);
	free(a);
	free(b);
	free(in);
	free(out);
	unlink(log_in);
	unlink(log_out);
	rmdir(dir);
}

/*
 * The event log of khugepaged-collapse, counted by hand: 128 user faults
 * (phase 0, completed, writes), one mmap and one madvise syscall, 4 successful
 * collapses in the wait (phase 2), each with its order-9 khugepaged
 * allocation and 32 pages freed, and 8 scans (4 succeeded in the pass
 * MADV_HUGEPAGE woke, 4 page_pmd_mapped in the next); one flush per collapse.
 */
Test(functional, event_log_records_what_mimicos_did)
{
	char dir[] = "/tmp/vfunc-XXXXXX", log[64];
	struct evlog_reader r;
	struct wl_error err = { 0 };
	struct vt_event ev;
	unsigned n[VT_TYPE_NR] = { 0 }, scans_ok = 0, scans_mapped = 0, collapses_ok = 0;
	char *text;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/sim-events.vlog", dir);
	text = run_mode_log("khugepaged-collapse", CHANNEL_IN_PROCESS, log);
	free(text);
	cr_assert_eq(evlog_open(&r, log, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &ev) > 0) {
		cr_assert_lt(ev.type, VT_TYPE_NR);
		n[ev.type]++;
		if (ev.type == VT_FAULT) {
			cr_assert_eq(ev.phase, 0);
			cr_assert(ev.fault.completed);
			cr_assert_eq(ev.fault.error_code, 6, "W|U, not present");
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
	cr_assert_eq(n[VT_TLB_FLUSH], 4);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(evlog_meta(&r), "workload")),
			 "khugepaged-collapse");
	evlog_close(&r);
	unlink(log);
	rmdir(dir);
}

/* The reservation policy, chosen by configuration, changes the outcome as designed. */
Test(functional, reservation_policy_by_configuration)
{
	struct channel_config cfg;
	struct functional_opts o;
	struct wl_kernel host;
	struct wl_error err = { 0 };

	cr_assert_eq(wl_spec_load(&spec, "datasets/workloads/thp-madvise-advised.json", &err), 0);
	loaded = true;
	linux_defaults(&host);
	channel_config_init(&cfg);
	snprintf(cfg.policy, sizeof(cfg.policy), "reservation");
	functional_opts_init(&o);
	o.host = &host;
	o.mem_bytes = 4ULL << 30;
	o.mimicos = &cfg;
	cr_assert_eq(functional_run(&run, &spec, &o, &err), 0, "%s", err.msg);
	/*
	 * advised (16 MiB, VM_HUGEPAGE, written in order): each 2 MiB takes 256
	 * 4 KiB faults then promotes at the 256th (threshold 0.5): 8 x 256
	 * faults, 8 promotions, pmd 4096; none of them a Linux THP fault.
	 */
	expect("advised", 8 * 256, 8, 0, 0, 4096);
	cr_assert_eq(run.reservation.promotions, 8 + 4, "advised 8 + plain's advised half 4");
	cr_assert_eq(run.ev.event[THP_FAULT_ALLOC], 0);
}
