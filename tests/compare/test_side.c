/*
 * test_side.c - reading one side: every field of a hand-written
 * linux.json and sim.json (tests/data/compare/small), the backing maps,
 * the event log beside them, and the refusals, each naming the file and
 * the field.
 *
 * Expected values are read off the hand-written files, or (for the
 * recorded example in tests/data/compare/default) from the numbers the
 * Linux side printed itself, not through the code under test.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tests/compare/harness.h"

TestSuite(side, .fini = cmp_cleanup);

/* ---- what is read --------------------------------------------------------------- */

Test(side, reads_every_field_of_linux_json)
{
	struct side s;

	cmp_load(&s, SMALL, "linux.json");
	cr_expect_str_eq(s.path, SMALL "/linux.json");
	cr_expect_str_eq(s.workload, "small");
	cr_expect_str_eq(s.kind, "linux");
	cr_expect_str_eq(s.version, "test");
	cr_expect(s.complete);
	cr_expect_eq(s.dropped_events, 0);
	cr_expect_eq(s.runtime_ns, 1200000);
	cr_expect(s.timed, "linux.json has no \"timing\": it is timed");

	cr_assert_eq(s.nr_regions, 2);
	cr_expect_str_eq(s.regions[0].name, "a");
	cr_expect_eq(s.regions[0].start, 4194304);
	cr_expect_eq(s.regions[0].size, 4194304);
	cr_expect_eq(s.regions[0].faults, 100);
	cr_expect_eq(s.regions[0].thp_faults, 1);
	cr_expect_eq(s.regions[0].huge_bytes, 2097152);
	cr_expect_eq(s.regions[0].resident_bytes, 4194304);
	cr_expect_eq(s.regions[0].pages[PAGE_CLASS_NONE], 0);
	cr_expect_eq(s.regions[0].pages[PAGE_CLASS_PTE], 512);
	cr_expect_eq(s.regions[0].pages[PAGE_CLASS_PMD], 512);
	cr_expect_eq(s.regions[0].alloc_orders[0], 99);
	cr_expect_eq(s.regions[0].alloc_orders[9], 1);
	cr_expect_eq(s.regions[0].alloc_orders[1], 0);
	cr_expect(s.has_alloc_orders);
	cr_assert_eq(s.regions[0].nr_backing, 2);
	cr_expect_eq(s.regions[0].backing[0].cls, PAGE_CLASS_PMD);
	cr_expect_eq(s.regions[0].backing[0].pages, 512);
	cr_expect_eq(s.regions[0].backing[1].cls, PAGE_CLASS_PTE);
	cr_expect_eq(s.regions[0].backing[1].pages, 512);
	cr_expect_str_eq(s.regions[1].name, "b");
	cr_expect_eq(s.regions[1].pages[PAGE_CLASS_NONE], 253);
	cr_assert_eq(s.regions[1].nr_backing, 2);
	cr_expect_eq(s.regions[1].backing[1].cls, PAGE_CLASS_NONE);

	cr_assert_eq(s.nr_phases, 2);
	cr_expect_str_eq(s.phases[0].op, "touch");
	cr_expect_eq(s.phases[0].region, 0);
	cr_expect_eq(s.phases[1].region, 1);
	cr_expect_eq(s.phases[0].start_ns, 0);
	cr_expect_eq(s.phases[1].start_ns, 1000000);
	cr_expect_eq(s.phases[1].runtime_ns, 200000);
	cr_expect_eq(s.phases[0].faults, 100);
	cr_expect_eq(s.phases[0].thp_faults, 1);

	cr_expect(s.has_khugepaged);
	cr_expect_eq(s.nr_scan_results, 2);
	cr_expect_eq(s.collapses, 3);
	cr_expect(s.has_tlb_flushes);
	cr_expect_eq(s.nr_tlb_flushes, 2);
	cr_expect_eq(s.tlb_flush_total, 10, "10 shootdowns; the 7 task switches left out");

	cr_expect_not(s.has_log);
	cr_expect_eq(s.nr_faults, 0);
	cr_expect(cJSON_IsObject(cJSON_GetObjectItem(s.json, "kernel")));
	side_release(&s);
	cr_expect_null(s.json);
}

Test(side, sim_phase_times_count_from_the_first_phase)
{
	struct side s;

	cmp_load(&s, SMALL, "sim.json");
	cr_expect_str_eq(s.kind, "sim");
	/* sim.json's start_ns are 700 and 1500700: the simulator's clock starts before phase 0 */
	cr_expect_eq(s.phases[0].start_ns, 0);
	cr_expect_eq(s.phases[1].start_ns, 1500000);
	cr_expect(s.timed);
	cr_expect_eq(s.tlb_flush_total, 11, "a reason's count given as a plain number");
	cr_expect_eq(s.collapses, 2, "\"succeeded\" only, not \"failed\"");
	side_release(&s);
}

Test(side, functional_sim_is_untimed)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j = cmp_read_json(SMALL "/sim.json");
	struct side s;

	cmp_set(j, "timing", cJSON_CreateString("none"));
	cmp_write_json(j, dir, "sim.json");
	cmp_load(&s, dir, "sim.json");
	cr_expect_not(s.timed);
	side_release(&s);
}

Test(side, older_files_without_backing_or_orders)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j = cmp_read_json(SMALL "/linux.json");
	struct side s;

	cJSON_DeleteItemFromObject(cmp_region(j, "a"), "backing");
	cJSON_DeleteItemFromObject(cmp_region(j, "b"), "fault_alloc_orders");
	cJSON_DeleteItemFromObject(j, "tool");
	cJSON_DeleteItemFromObject(j, "khugepaged");
	cJSON_DeleteItemFromObject(j, "tlb_flushes");
	cmp_write_json(j, dir, "linux.json");
	cmp_load(&s, dir, "linux.json");
	cr_expect_null(s.regions[0].backing);
	cr_expect_eq(s.regions[0].nr_backing, 0);
	cr_expect_not_null(s.regions[1].backing);
	cr_expect_not(s.has_alloc_orders, "region b has no fault_alloc_orders");
	cr_expect_null(s.version);
	cr_expect_not(s.has_khugepaged, "no khugepaged block and no log");
	cr_expect_not(s.has_tlb_flushes);
	side_release(&s);
}

/* ---- refusals -------------------------------------------------------------------- */

Test(side, missing_file_is_refused)
{
	const char *dir = cmp_tmp_dir();
	struct wl_error err = { 0 };
	struct side s;

	cr_assert_eq(side_load(&s, dir, "linux.json", &err), -1);
	cr_expect_str_eq(err.file, cmp_path(dir, "linux.json"));
	cr_expect_not_null(strstr(err.msg, "cannot read"), "%s", err.msg);
	side_release(&s);
}

Test(side, truncated_file_is_refused)
{
	struct wl_error err = { 0 };
	struct side s;

	cr_assert_eq(side_load(&s, "tests/data/compare/truncated", "linux.json", &err), -1);
	cr_expect_str_eq(err.file, "tests/data/compare/truncated/linux.json");
	cr_expect_not_null(strstr(err.msg, "truncated"), "%s", err.msg);
	side_release(&s);
}

Test(side, wrong_type_is_refused)
{
	struct wl_error err = { 0 };
	struct side s;

	cr_assert_eq(side_load(&s, "tests/data/compare/wrong-type", "linux.json", &err), -1);
	cr_expect_str_eq(err.file, "tests/data/compare/wrong-type/linux.json");
	cr_expect_str_eq(err.path, "regions.a.faults");
	cr_expect_not_null(strstr(err.msg, "\"100\""), "%s", err.msg);
	side_release(&s);
}

/* An edit of the small linux.json and the field the refusal must name. */
struct bad_edit {
	const char *what;
	const char *path;	/* expected err.path */
	const char *msg;	/* a part of err.msg */
};

static void apply(cJSON *j, int which)
{
	cJSON *a = cmp_region(j, "a"), *b = cmp_region(j, "b");
	cJSON *phases = cJSON_GetObjectItem(j, "phases");

	switch (which) {
	case 0:
		cJSON_DeleteItemFromObject(j, "runtime_ns");
		break;
	case 1:
		cmp_set(j, "side", cJSON_CreateString("simulator"));
		break;
	case 2:
		cmp_set(j, "complete", cJSON_CreateString("yes"));
		break;
	case 3:
		cmp_set(j, "regions", cJSON_CreateArray());
		break;
	case 4:
		cmp_set(cJSON_GetObjectItem(b, "pages"), "none", cJSON_CreateNumber(252));
		break;
	case 5:
		cmp_set(a, "backing", cJSON_Parse("[[\"pmd\", 512], [\"pte\", 511]]"));
		break;
	case 6:
		cmp_set(a, "backing", cJSON_Parse("[[\"pmd\", 512], [\"huge\", 512]]"));
		break;
	case 7:
		cmp_set(a, "backing", cJSON_Parse("[[\"pmd\", 512], 512]"));
		break;
	case 8:
		cmp_set(a, "backing", cJSON_Parse("[[\"pmd\", 511], [\"pte\", 513]]"));
		break;
	case 9:
		cmp_set(a, "backing", cJSON_Parse("[[\"pmd\", 512], [\"pte\", 0], [\"pte\", 512]]"));
		break;
	case 10:
		cmp_set(a, "fault_alloc_orders", cJSON_Parse("{\"0\": 99, \"12\": 1}"));
		break;
	case 11:
		cmp_set(cJSON_GetArrayItem(phases, 1), "region", cJSON_CreateString("c"));
		break;
	case 12:
		cmp_set(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "khugepaged"), "scan_pmd"),
			"succeeded", cJSON_CreateString("3"));
		break;
	case 13:
		cmp_set(cJSON_GetObjectItem(j, "tlb_flushes"), "local MM shootdown",
			cJSON_Parse("{\"pages\": 2}"));
		break;
	case 14:
		cmp_set(b, "size", cJSON_CreateNumber(1048577));
		break;
	case 15:
		cmp_set(a, "backing", cJSON_CreateString("pmd"));
		break;
	case 16:
		cmp_set(cJSON_GetArrayItem(phases, 0), "runtime_ns", cJSON_CreateNumber(-1));
		break;
	case 17:
		cmp_set(j, "workload", cJSON_CreateNumber(1));
		break;
	}
}

static const struct bad_edit bad_edits[] = {
	{ "runtime_ns missing",		"runtime_ns",			"required" },
	{ "side not linux or sim",	"side",				"\"simulator\"" },
	{ "complete not a bool",	"complete",			"\"yes\"" },
	{ "regions an array",		"regions",			"an array" },
	{ "pages do not add up",	"regions.b.pages",		"255 pages" },
	{ "backing does not add up",	"regions.a.backing",		"1023 pages" },
	{ "backing class unknown",	"regions.a.backing[1]",		"\"huge\"" },
	{ "backing run not a pair",	"regions.a.backing[1]",		"[class, pages]" },
	{ "backing against pages",	"regions.a.backing",		"513 \"pte\" pages, \"pages\" says 512" },
	{ "backing run of 0 pages",	"regions.a.backing[1]",		"integer >= 1" },
	{ "order out of range",		"regions.a.fault_alloc_orders.12", "order from 0 to 10" },
	{ "phase region unknown",	"phases[1].region",		"\"c\"" },
	{ "scan count a string",	"khugepaged.scan_pmd.succeeded", "\"3\"" },
	{ "tlb reason without count",	"tlb_flushes.local MM shootdown.count", "required" },
	{ "size not 4KiB pages",	"regions.b.size",		"multiple of 4096" },
	{ "backing a string",		"regions.a.backing",		"\"pmd\"" },
	{ "runtime negative",		"phases[0].runtime_ns",		"-1" },
	{ "workload a number",		"workload",			"a string" },
};

Test(side, malformed_fields_are_refused_by_name)
{
	for (size_t i = 0; i < sizeof(bad_edits) / sizeof(bad_edits[0]); i++) {
		const char *dir = cmp_tmp_dir();
		cJSON *j = cmp_read_json(SMALL "/linux.json");
		struct wl_error err = { 0 };
		struct side s;

		apply(j, (int)i);
		cmp_write_json(j, dir, "linux.json");
		cr_expect_eq(side_load(&s, dir, "linux.json", &err), -1, "%s: accepted", bad_edits[i].what);
		cr_expect_str_eq(err.file, cmp_path(dir, "linux.json"), "%s", bad_edits[i].what);
		cr_expect_str_eq(err.path, bad_edits[i].path, "%s: %s: %s", bad_edits[i].what,
				 err.path, err.msg);
		cr_expect_not_null(strstr(err.msg, bad_edits[i].msg), "%s: %s", bad_edits[i].what,
				   err.msg);
		side_release(&s);
		cmp_cleanup();
	}
}

Test(side, not_an_object_is_refused)
{
	const char *dir = cmp_tmp_dir();
	struct wl_error err = { 0 };
	struct side s;

	cmp_write_text(dir, "sim.json", "[1, 2]\n");
	cr_assert_eq(side_load(&s, dir, "sim.json", &err), -1);
	cr_expect_str_eq(err.file, cmp_path(dir, "sim.json"));
	cr_expect_not_null(strstr(err.msg, "an array"), "%s", err.msg);
	side_release(&s);
}

/* ---- the event log ------------------------------------------------------------------ */

/* Region a is [4 MiB, 8 MiB), b [16 MiB, 17 MiB); phase 0 starts at 1 ms. */
#define LOG_META "{\"phases\": [{\"op\": \"touch\", \"start_ns\": 1000000}, " \
		 "{\"op\": \"touch\", \"start_ns\": 2000000}], " \
		 "\"scan_status\": [\"failed\", \"succeeded\", \"pmd_null\", \"pmd_none\"], " \
		 "\"tlb_flush_reason\": [\"flush on task switch\", \"remote shootdown\", " \
		 "\"local shootdown\", \"local MM shootdown\"]}"

Test(side, faults_from_the_log)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event ev[5];
	struct side s;

	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	/* a THP fault: a page table (unmovable) then the folio (movable, order 9) */
	ev[0] = cmp_fault(1000500, 0, 4194304 + 4096, 7000);
	ev[0].fault.nr_allocs = 2;
	ev[0].fault.alloc[0] = (struct vt_alloc){ .order = 0, .migratetype = 0, .cause = 1 };
	ev[0].fault.alloc[1] = (struct vt_alloc){ .order = 9, .migratetype = 1, .cause = 1 };
	/* a read fault in b (the zero page: nothing allocated), in phase 1 */
	ev[1] = cmp_fault(2000000, 1, 16777216, 900);
	ev[1].fault.error_code = 4;
	/* outside the regions (the stack), outside the phases, one that failed */
	ev[2] = cmp_fault(1000600, 0, 0x7ffff000, 5000);
	ev[3] = cmp_fault(999000, -1, 4194304, 100);
	ev[4] = cmp_fault(1000700, 0, 4194304 + 8192, 0);
	ev[4].fault.completed = 0;
	ev[4].fault.latency_ns = 123;		/* ignored: not completed */
	cmp_write_log(dir, "events.vlog", LOG_META, ev, 5);

	cmp_load(&s, dir, "linux.json");
	cr_assert(s.has_log);
	cr_assert_eq(s.nr_faults, 5);
	cr_expect_eq(s.faults[0].t_ns, 500);
	cr_expect_eq(s.faults[0].addr, 4194304 + 4096);
	cr_expect_eq(s.faults[0].latency_ns, 7000);
	cr_expect_eq(s.faults[0].region, 0);
	cr_expect_eq(s.faults[0].phase, 0);
	cr_expect_eq(s.faults[0].order, 9);
	cr_expect(s.faults[0].allocated);
	cr_expect(s.faults[0].write);
	cr_expect_eq(s.faults[1].t_ns, 1000000);
	cr_expect_eq(s.faults[1].region, 1);
	cr_expect_eq(s.faults[1].phase, 1);
	cr_expect_not(s.faults[1].allocated);
	cr_expect_not(s.faults[1].write);
	cr_expect_eq(s.faults[2].region, -1);
	cr_expect_eq(s.faults[3].phase, -1);
	cr_expect_eq(s.faults[3].t_ns, 0, "before the first phase: 0, not a wrapped number");
	cr_expect_eq(s.faults[4].latency_ns, 0);
	/* the file's khugepaged and tlb_flushes blocks win over the log's (none here) */
	cr_expect_eq(s.collapses, 3);
	cr_expect_eq(s.tlb_flush_total, 10);
	side_release(&s);
}

Test(side, khugepaged_and_tlb_flushes_from_the_log_without_the_blocks)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j = cmp_read_json(SMALL "/sim.json");
	struct vt_event ev[7];
	struct side s;

	cJSON_DeleteItemFromObject(j, "khugepaged");
	cJSON_DeleteItemFromObject(j, "tlb_flushes");
	cmp_write_json(j, dir, "sim.json");
	memset(ev, 0, sizeof(ev));
	for (int i = 0; i < 7; i++) {
		ev[i].ts = 1000000 + (uint64_t)i;
		ev[i].phase = 0;
	}
	ev[0].type = ev[1].type = ev[2].type = VT_SCAN_PMD;
	ev[0].scan.status = 1;
	ev[1].scan.status = 3;
	ev[2].scan.status = 1;
	ev[2].phase = -1;			/* outside the phases: not counted */
	ev[3].type = VT_COLLAPSE;
	ev[3].collapse.status = 1;
	ev[4].type = ev[5].type = ev[6].type = VT_TLB_FLUSH;
	ev[4].tlb.reason = 3;
	ev[5].tlb.reason = 3;
	ev[6].tlb.reason = 0;			/* a task switch: not in the total */
	cmp_write_log(dir, "sim-events.vlog", LOG_META, ev, 7);

	cmp_load(&s, dir, "sim.json");
	cr_expect(s.has_log);
	cr_expect(s.has_khugepaged);
	cr_assert_eq(s.nr_scan_results, 2);
	cr_expect_str_eq(s.scan_results[0].name, "succeeded");
	cr_expect_eq(s.scan_results[0].count, 1);
	cr_expect_str_eq(s.scan_results[1].name, "pmd_none");
	cr_expect_eq(s.collapses, 1);
	cr_expect(s.has_tlb_flushes);
	cr_expect_eq(s.nr_tlb_flushes, 2);
	cr_expect_eq(s.tlb_flush_total, 2);
	cr_expect_eq(s.nr_faults, 0);
	side_release(&s);
}

Test(side, events_log_field_names_the_log)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j = cmp_read_json(SMALL "/linux.json");
	struct vt_event ev = cmp_fault(1000000, 0, 4194304, 10);
	struct side s;

	cmp_set(j, "events_log", cJSON_CreateString("other.vlog"));
	cmp_write_json(j, dir, "linux.json");
	cmp_write_log(dir, "events.vlog", LOG_META, &ev, 0);	/* the default name: not read */
	cmp_write_log(dir, "other.vlog", LOG_META, &ev, 1);
	cmp_load(&s, dir, "linux.json");
	cr_expect(s.has_log);
	cr_expect_eq(s.nr_faults, 1);
	side_release(&s);
}

Test(side, damaged_log_is_refused_naming_it)
{
	const char *dir = cmp_tmp_dir();
	struct vt_event ev[2] = { cmp_fault(1000000, 0, 4194304, 10),
				  cmp_fault(1000001, 0, 4194304, 10) };
	struct wl_error err = { 0 };
	char path[320];
	struct side s;

	cmp_copy(SMALL "/linux.json", dir, "linux.json");
	cmp_write_log(dir, "events.vlog", LOG_META, ev, 2);
	snprintf(path, sizeof(path), "%s", cmp_path(dir, "events.vlog"));
	cr_assert_eq(truncate(path, 64 + 10), 0);
	cr_assert_eq(side_load(&s, dir, "linux.json", &err), -1);
	cr_expect_str_eq(err.file, path);
	cr_expect_not_null(strstr(err.msg, "truncated"), "%s: %s", err.path, err.msg);
	side_release(&s);
}

/* ---- the recorded example: the log read as the Linux side counted it ------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

Test(side, recorded_linux_log_agrees_with_its_json)
{
	const char *dir = "tests/data/compare/default";
	cJSON *j = cmp_read_json("tests/data/compare/default/linux.json");
	struct evlog_reader r;
	struct wl_error err;
	struct side s;

	cmp_load(&s, dir, "linux.json");
	cr_assert(s.has_log);
	cr_assert_eq(evlog_open(&r, "tests/data/compare/default/events.vlog", &err), 0);
	{
		struct vt_event e;
		size_t faults = 0;

		while (evlog_next(&r, &e) > 0)
			faults += e.type == VT_FAULT;
		cr_expect_eq(s.nr_faults, faults, "every fault record kept");
	}
	evlog_close(&r);

	/* per region: the faults in phases and their latency quantiles, as linux.json printed them */
	for (size_t i = 0; i < s.nr_regions; i++) {
		const cJSON *jr = cmp_region(j, s.regions[i].name);
		const cJSON *lat = cJSON_GetObjectItem(jr, "fault_latency_ns");
		uint64_t *v = calloc(s.nr_faults, sizeof(*v));
		size_t n = 0, in_region = 0;

		for (size_t f = 0; f < s.nr_faults; f++)
			if (s.faults[f].region == (int)i && s.faults[f].phase >= 0) {
				in_region++;
				if (s.faults[f].latency_ns)
					v[n++] = s.faults[f].latency_ns;
			}
		qsort(v, n, sizeof(*v), cmp_u64);
		cr_expect_eq(in_region, s.regions[i].faults, "%s", s.regions[i].name);
		cr_expect_eq(n, (size_t)cJSON_GetObjectItem(lat, "count")->valuedouble);
		cr_expect_eq(sample_quantile(v, n, 0.5), (uint64_t)cJSON_GetObjectItem(lat, "p50")->valuedouble,
			     "%s p50", s.regions[i].name);
		cr_expect_eq(sample_quantile(v, n, 0.9), (uint64_t)cJSON_GetObjectItem(lat, "p90")->valuedouble);
		cr_expect_eq(sample_quantile(v, n, 0.99), (uint64_t)cJSON_GetObjectItem(lat, "p99")->valuedouble);
		free(v);
	}
	cJSON_Delete(j);
	side_release(&s);
}

/* ---- stored results are trusted only so far ------------------------------------------ */

static void expect_refused(const char *dir, const char *name, const char *path, const char *msg)
{
	struct wl_error err = { 0 };
	struct side s;

	cr_expect_eq(side_load(&s, dir, name, &err), -1, "%s accepted", name);
	cr_expect_str_eq(err.file, cmp_path(dir, name));
	cr_expect_str_eq(err.path, path, "%s: %s", err.path, err.msg);
	cr_expect_not_null(strstr(err.msg, msg), "%s", err.msg);
	side_release(&s);
}

Test(side, an_events_log_outside_the_folder_is_refused)
{
	static const char *const names[] = { "../../../../etc/passwd", "/etc/passwd", "sub/log",
					     "..", "" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *dir = cmp_tmp_dir();
		cJSON *j = cmp_read_json(SMALL "/linux.json");

		cmp_set(j, "events_log", cJSON_CreateString(names[i]));
		cmp_write_json(j, dir, "linux.json");
		expect_refused(dir, "linux.json", "events_log", "a file in the side's folder");
		cmp_cleanup();
	}
}

Test(side, a_file_holding_the_other_side_is_refused)
{
	const char *dir = cmp_tmp_dir();
	cJSON *j = cmp_read_json(SMALL "/linux.json");

	cmp_set(j, "side", cJSON_CreateString("sim"));
	cmp_write_json(j, dir, "linux.json");
	expect_refused(dir, "linux.json", "side", "\"sim\", but linux.json holds the linux side");
	cmp_copy(SMALL "/linux.json", dir, "sim.json");
	expect_refused(dir, "sim.json", "side", "holds the sim side");
	cmp_copy(SMALL "/linux.json", dir, "linux-2.json");
	{
		struct wl_error err = { 0 };
		struct side s;

		cr_expect_eq(side_load(&s, dir, "linux-2.json", &err), 0, "%s", err.msg);
		side_release(&s);
	}
}

Test(side, a_repeated_key_anywhere_is_refused)
{
	const char *dir = cmp_tmp_dir();

	cmp_write_text(dir, "linux.json",
		       "{\"workload\": \"small\", \"workload\": \"other\"}\n");
	expect_refused(dir, "linux.json", "workload", "duplicate key");
	/* deep inside: a region's page classes */
	{
		FILE *in = fopen(SMALL "/linux.json", "r");
		static char text[1 << 16];
		size_t n = fread(text, 1, sizeof(text) - 1, in);
		char *at;

		fclose(in);
		text[n] = '\0';
		at = strstr(text, "\"none\": 0,");
		cr_assert_not_null(at);
		/* "none": 0, "none": 0, ... */
		memmove(at + 11, at, strlen(at) + 1);
		memcpy(at, "\"none\": 0, ", 11);
		cmp_write_text(dir, "linux.json", text);
	}
	expect_refused(dir, "linux.json", "regions.a.pages.none", "duplicate key");
}
