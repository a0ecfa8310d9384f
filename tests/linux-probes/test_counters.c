/*
 * test_counters.c - the perf_event counters, against the kernel's own
 * accounting and against event codes computed by hand.
 *
 * Fault counts are checked against getrusage(2) of the measured process
 * itself (task->min_flt, a count the kernel keeps apart from perf). Event
 * encodings are checked against the event/umask/cmask numbers of Intel's and
 * AMD's documentation (docs/linux-facts.md, section 7), assembled here into the PERFEVTSEL layout: event bits 0-7, umask 8-15,
 * cmask 24-31.
 *
 * Whether the host has a hardware PMU is decided here, independently of the
 * module: perf_event_open of PERF_TYPE_HARDWARE cpu-cycles on ourselves.
 * Without one, every TLB counter must be "unsupported" (never 0); with one,
 * a counter may be a number or "unsupported", consistently.
 *
 * LIBPFM_FORCE_PMU is set before the first libpfm4 call, which is safe
 * because Criterion runs every test in its own process.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "linux-probes/counters.h"
#include "tests/host.h"

#define NR_PAGES 1000

/* The JSON keys, in report order: a contract with compare/ and reports. */
static const char *const names[] = {
	"page_faults",
	"minor_faults",
	"major_faults",
	"dtlb_load_misses_walk_completed",
	"dtlb_store_misses_walk_completed",
	"dtlb_load_walk_completed_4k",
	"dtlb_load_walk_completed_2m",
	"dtlb_load_walk_completed_1g",
	"dtlb_load_walk_cycles",
	"dtlb_load_stlb_hit",
};
#define NR_NAMES (sizeof(names) / sizeof(names[0]))
#define NR_SOFTWARE 3	/* the first three are software events */

static int paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = 99;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = 99;
		fclose(f);
	}
	return v;
}

/* Counting kernel mode (exclude_kernel = 0) needs root or paranoid <= 1. */
static void require_perf_kernel(void)
{
	int p = paranoid();

	if (geteuid() != 0 && p > 1)
		cr_skip_test("needs root or kernel.perf_event_paranoid <= 1 (it is %d)", p);
}

/* PERFEVTSEL layout, Intel and AMD alike (AMD's event bits 8-11 unused here) */
#define X86(event, umask, cmask) \
	((uint64_t)(event) | (uint64_t)(umask) << 8 | (uint64_t)(cmask) << 24)
_Static_assert(X86(0x08, 0x0e, 0) == 0x0e08, "SKL DTLB_LOAD_MISSES.WALK_COMPLETED");

Test(counters, table_is_the_documented_list)
{
	cr_assert_eq(counters_nr(), NR_NAMES);
	cr_assert_eq(COUNTERS_NR, NR_NAMES);
	for (size_t i = 0; i < NR_NAMES; i++) {
		cr_assert_str_eq(counters_name(i), names[i]);
		cr_assert(counters_description(i) && counters_description(i)[0],
			  "%s has no description", names[i]);
	}
	cr_assert_eq(COUNTER_page_faults, 0);
	cr_assert_eq(COUNTER_dtlb_load_stlb_hit, NR_NAMES - 1);
	cr_assert_null(counters_name(NR_NAMES));
}

/* ---- faults of another process, against its own getrusage ------------------ */

struct fault_report {
	long minflt;
	long majflt;
};

/*
 * One round: wait for "go", touch pages [first, first + count), report the
 * getrusage delta. Returns -1 when the parent closes the pipe. The child runs
 * a warm-up round first, so that between the parent's counter reads (taken
 * while the child waits in read) and the child's getrusage calls it runs only
 * code and stack it has already faulted in: the two intervals see the same
 * faults.
 */
static int child_round(int go, int report, char *base, size_t first, size_t count)
{
	struct rusage r0, r1;
	struct fault_report rep;
	long page = sysconf(_SC_PAGESIZE);
	char c;

	if (read(go, &c, 1) != 1)
		return -1;
	getrusage(RUSAGE_SELF, &r0);
	for (size_t i = first; i < first + count; i++)
		((volatile char *)base)[i * (size_t)page] = 1;
	getrusage(RUSAGE_SELF, &r1);
	rep.minflt = r1.ru_minflt - r0.ru_minflt;
	rep.majflt = r1.ru_majflt - r0.ru_majflt;
	if (write(report, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(3);
	return 0;
}

static void child_main(int go, int report)
{
	size_t len = (NR_PAGES + 1) * (size_t)sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	/* one fault per 4 KiB page: no THP, no mTHP (EINVAL: no THP at all) */
	if (madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		_exit(2);
	if (child_round(go, report, p, NR_PAGES, 1))	/* warm-up: the spare page */
		_exit(4);
	while (!child_round(go, report, p, 0, NR_PAGES))
		;
	_exit(0);
}

Test(counters, page_faults_equal_child_getrusage)
{
	struct counter_set cs;
	struct wl_error err = { 0 };
	struct fault_report rep;
	struct counter_sample before[COUNTERS_NR], after[COUNTERS_NR];
	int go[2], report[2], status;
	uint64_t faults, minor, major;
	pid_t pid;

	require_perf_kernel();
	cr_assert(pipe(go) == 0 && pipe(report) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(report[0]);
		child_main(go[0], report[1]);
	}
	close(go[0]);
	close(report[1]);

	cr_assert_eq(write(go[1], "g", 1), 1);		/* warm-up round */
	cr_assert_eq(read(report[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));

	cr_assert_eq(counters_open(&cs, pid, &err), 0, "%s: %s", err.file, err.msg);
	for (size_t i = 0; i < NR_SOFTWARE; i++)
		cr_assert(counters_supported(&cs, i), "%s: %s", names[i],
			  counters_reason(&cs, i));
	cr_assert_eq(counters_read(&cs, before), 0);
	cr_assert_eq(write(go[1], "g", 1), 1);		/* the measured round */
	cr_assert_eq(read(report[0], &rep, sizeof(rep)), (ssize_t)sizeof(rep));
	cr_assert_eq(counters_read(&cs, after), 0);
	close(go[1]);					/* the child exits */
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);

	faults = after[COUNTER_page_faults].value - before[COUNTER_page_faults].value;
	minor = after[COUNTER_minor_faults].value - before[COUNTER_minor_faults].value;
	major = after[COUNTER_major_faults].value - before[COUNTER_major_faults].value;
	cr_assert_geq(rep.minflt, NR_PAGES, "ru_minflt delta %ld", rep.minflt);
	cr_assert_geq(faults, NR_PAGES);
	cr_assert_eq(faults, (uint64_t)(rep.minflt + rep.majflt),
		     "page_faults %llu, child's ru_minflt %ld + ru_majflt %ld",
		     (unsigned long long)faults, rep.minflt, rep.majflt);
	cr_assert_eq(minor, (uint64_t)rep.minflt, "minor_faults %llu, ru_minflt %ld",
		     (unsigned long long)minor, rep.minflt);
	cr_assert_eq(major, (uint64_t)rep.majflt);
	counters_close(&cs);
}

/* ---- hardware counters: unsupported is a string, never 0 ------------------- */

Test(counters, hardware_counters_follow_the_host_pmu)
{
	struct counter_set cs;
	struct wl_error err = { 0 };
	struct counter_sample v[COUNTERS_NR], before[COUNTERS_NR], after[COUNTERS_NR];
	const uint64_t sentinel = 0x5a5a5a5a5a5a5a5aULL;
	bool pmu = host_has_pmu();
	cJSON *json, *item;

	require_perf_kernel();
	cr_assert_eq(counters_open(&cs, 0, &err), 0, "%s: %s", err.file, err.msg);
	for (size_t i = 0; i < COUNTERS_NR; i++) {
		v[i].value = sentinel;
		before[i] = (struct counter_sample){ 1000 + i, 50, 50 };
		/* grew by 123 + i, never multiplexed */
		after[i] = (struct counter_sample){ 1000 + 2 * i + 123, 90, 90 };
	}
	cr_assert_eq(counters_read(&cs, v), 0);

	json = counters_to_json(&cs, before, after, NULL);
	cr_assert_not_null(json);
	cr_assert_eq(cJSON_GetArraySize(json), (int)NR_NAMES);
	for (size_t i = 0; i < COUNTERS_NR; i++) {
		bool sup = counters_supported(&cs, i);

		item = cJSON_GetObjectItemCaseSensitive(json, names[i]);
		cr_assert_not_null(item, "no %s in the JSON", names[i]);
		if (i < NR_SOFTWARE)
			cr_assert(sup, "%s: %s", names[i], counters_reason(&cs, i));
		else if (!pmu)
			cr_assert(!sup, "%s opened (%s) on a host without a PMU",
				  names[i], counters_event(&cs, i));
		if (sup) {
			cr_assert(cJSON_IsNumber(item), "%s", names[i]);
			cr_assert_eq(item->valuedouble, (double)(123 + i));
			cr_assert_not_null(counters_event(&cs, i));
			cr_assert_str_empty(counters_reason(&cs, i));
			cr_assert_neq(v[i].value, sentinel, "%s was not read", names[i]);
		} else {
			cr_assert(cJSON_IsString(item), "%s must not be a number", names[i]);
			cr_assert_str_eq(item->valuestring, "unsupported");
			cr_assert_null(counters_event(&cs, i));
			cr_assert_str_not_empty(counters_reason(&cs, i));
			cr_assert_eq(v[i].value, sentinel, "unsupported %s was written", names[i]);
		}
	}
	/*
	 * The generic dTLB-load-misses candidate encodes on every host (libpfm4's
	 * perf PMU), so without a PMU the kernel's refusal is what is reported.
	 */
	if (!pmu)
		cr_assert_str_eq(counters_reason(&cs, COUNTER_dtlb_load_misses_walk_completed),
				 "no hardware PMU (perf_event_open: ENOENT)");
	cJSON_Delete(json);
	counters_close(&cs);
	cr_assert(!counters_supported(&cs, COUNTER_page_faults));
}

/* ---- encodings: libpfm4's tables against the vendors' numbers -------------- */

struct enc_case {
	char pmu[24];		/* LIBPFM_FORCE_PMU */
	int counter;
	char event[128];	/* "" when no candidate encodes for this PMU */
	uint64_t config;	/* event | umask << 8 | cmask << 24 */
	enum tlb_scope scope;	/* what the vendor's event counts */
};

/*
 * The meaning of each counter's candidates, from the vendors' event
 * descriptions: Intel's WALK_COMPLETED counts faulting walks too, AMD's
 * TLB_RELOAD_*_L2_MISS only walks that reloaded the TLB.
 */
static int want_tlb(const struct enc_case *c)
{
	switch (c->counter) {
	case COUNTER_dtlb_load_misses_walk_completed:
	case COUNTER_dtlb_store_misses_walk_completed:
		return !strncmp(c->pmu, "amd", 3) ? TLB_EV_walk_found : TLB_EV_walk_completed;
	case COUNTER_dtlb_load_walk_completed_4k:
		return TLB_EV_walk_completed_4k;
	case COUNTER_dtlb_load_walk_completed_2m:
		return TLB_EV_walk_completed_2m;
	case COUNTER_dtlb_load_walk_completed_1g:
		return TLB_EV_walk_completed_1g;
	case COUNTER_dtlb_load_walk_cycles:
		return TLB_EV_walk_cycles;
	case COUNTER_dtlb_load_stlb_hit:
		return TLB_EV_stlb_hit;
	}
	return TLB_EV_NONE;
}

ParameterizedTestParameters(counters, candidates_encode_vendor_codes)
{
	static struct enc_case cases[] = {
		/* Skylake: DTLB_LOAD_MISSES 0x08, DTLB_STORE_MISSES 0x49 */
		{ "skl", COUNTER_dtlb_load_misses_walk_completed,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED", X86(0x08, 0x0e, 0), TLB_SCOPE_loads },
		{ "skl", COUNTER_dtlb_store_misses_walk_completed,
		  "DTLB_STORE_MISSES:WALK_COMPLETED", X86(0x49, 0x0e, 0), TLB_SCOPE_stores },
		{ "skl", COUNTER_dtlb_load_walk_completed_4k,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED_4K", X86(0x08, 0x02, 0), TLB_SCOPE_loads },
		{ "skl", COUNTER_dtlb_load_walk_completed_2m,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED_2M_4M", X86(0x08, 0x04, 0), TLB_SCOPE_loads },
		{ "skl", COUNTER_dtlb_load_walk_completed_1g,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED_1G", X86(0x08, 0x08, 0), TLB_SCOPE_loads },
		{ "skl", COUNTER_dtlb_load_walk_cycles,		/* umask 0x10, cmask 1 */
		  "DTLB_LOAD_MISSES:WALK_ACTIVE", X86(0x08, 0x10, 1), TLB_SCOPE_loads },
		{ "skl", COUNTER_dtlb_load_stlb_hit,
		  "DTLB_LOAD_MISSES:STLB_HIT", X86(0x08, 0x20, 0), TLB_SCOPE_loads },
		/* Ice Lake: no WALK_COMPLETED_1G */
		{ "icl", COUNTER_dtlb_load_misses_walk_completed,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED", X86(0x08, 0x0e, 0), TLB_SCOPE_loads },
		{ "icl", COUNTER_dtlb_load_walk_completed_1g, "", 0, TLB_SCOPE_none },
		/* Sapphire Rapids: DTLB_LOAD_MISSES 0x12, DTLB_STORE_MISSES 0x13 */
		{ "spr", COUNTER_dtlb_load_misses_walk_completed,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED", X86(0x12, 0x0e, 0), TLB_SCOPE_loads },
		{ "spr", COUNTER_dtlb_store_misses_walk_completed,
		  "DTLB_STORE_MISSES:WALK_COMPLETED", X86(0x13, 0x0e, 0), TLB_SCOPE_stores },
		{ "spr", COUNTER_dtlb_load_walk_completed_1g,
		  "DTLB_LOAD_MISSES:WALK_COMPLETED_1G", X86(0x12, 0x08, 0), TLB_SCOPE_loads },
		{ "spr", COUNTER_dtlb_load_walk_cycles,
		  "DTLB_LOAD_MISSES:WALK_ACTIVE", X86(0x12, 0x10, 1), TLB_SCOPE_loads },
		/* Haswell: walk cycles are WALK_DURATION, umask 0x10, no cmask */
		{ "hsw", COUNTER_dtlb_load_walk_cycles,
		  "DTLB_LOAD_MISSES:WALK_DURATION", X86(0x08, 0x10, 0), TLB_SCOPE_loads },
		/*
		 * Zen 3: 0x45 (L1_DTLB_MISS in libpfm4), L2 miss 0x10 4K, 0x20
		 * coalesced 4K, 0x40 2M, 0x80 1G; L2 hit 0x01, 0x02, 0x04, 0x08.
		 */
		{ "amd64_fam19h_zen3", COUNTER_dtlb_load_misses_walk_completed,
		  "L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_COALESCED_PAGE_MISS"
		  ":TLB_RELOAD_2M_L2_MISS:TLB_RELOAD_1G_L2_MISS",
		  X86(0x45, 0x10 | 0x20 | 0x40 | 0x80, 0), TLB_SCOPE_loads_stores },
		{ "amd64_fam19h_zen3", COUNTER_dtlb_load_walk_completed_4k,
		  "L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_COALESCED_PAGE_MISS",
		  X86(0x45, 0x10 | 0x20, 0), TLB_SCOPE_loads_stores },
		{ "amd64_fam19h_zen3", COUNTER_dtlb_load_walk_completed_2m,
		  "L1_DTLB_MISS:TLB_RELOAD_2M_L2_MISS", X86(0x45, 0x40, 0), TLB_SCOPE_loads_stores },
		{ "amd64_fam19h_zen3", COUNTER_dtlb_load_walk_completed_1g,
		  "L1_DTLB_MISS:TLB_RELOAD_1G_L2_MISS", X86(0x45, 0x80, 0), TLB_SCOPE_loads_stores },
		{ "amd64_fam19h_zen3", COUNTER_dtlb_load_stlb_hit,
		  "L1_DTLB_MISS:TLB_RELOAD_4K_L2_HIT:TLB_RELOAD_COALESCED_PAGE_HIT"
		  ":TLB_RELOAD_2M_L2_HIT:TLB_RELOAD_1G_L2_HIT",
		  X86(0x45, 0x01 | 0x02 | 0x04 | 0x08, 0), TLB_SCOPE_loads_stores },
		{ "amd64_fam19h_zen3", COUNTER_dtlb_store_misses_walk_completed, "", 0, TLB_SCOPE_none },
		{ "amd64_fam19h_zen3", COUNTER_dtlb_load_walk_cycles, "", 0, TLB_SCOPE_none },
		{ "amd64_fam17h_zen2", COUNTER_dtlb_load_walk_completed_2m,
		  "L1_DTLB_MISS:TLB_RELOAD_2M_L2_MISS", X86(0x45, 0x40, 0), TLB_SCOPE_loads_stores },
	};
	return cr_make_param_array(struct enc_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct enc_case *c, counters, candidates_encode_vendor_codes)
{
	enum tlb_scope scope = TLB_SCOPE_NR;
	int tlb = -2;
	uint32_t type = 0;
	uint64_t config = 0;
	const char *ev;

	cr_assert_eq(setenv("LIBPFM_FORCE_PMU", c->pmu, 1), 0);
	ev = counters_encode((size_t)c->counter, &type, &config, &scope, &tlb);
	if (!c->event[0]) {
		cr_assert_null(ev, "%s: %s encodes as %s", c->pmu,
			       names[c->counter], ev);
		return;
	}
	cr_assert_not_null(ev, "%s: nothing encodes for %s", c->pmu, names[c->counter]);
	cr_assert_str_eq(ev, c->event, "%s: %s", c->pmu, names[c->counter]);
	cr_assert_eq(type, PERF_TYPE_RAW);
	cr_assert_eq(scope, c->scope, "%s %s counts %s, want %s", c->pmu, c->event,
		     tlb_scope_name(scope), tlb_scope_name(c->scope));
	cr_assert_eq(tlb, want_tlb(c), "%s %s means %s", c->pmu, c->event, tlb_event_name(tlb));
	/* event, umask and cmask; u/k bits travel in exclude_user/kernel */
	cr_assert_eq(config & 0xff00ffffULL, c->config, "%s %s: config %#llx, want %#llx",
		     c->pmu, c->event, (unsigned long long)config,
		     (unsigned long long)c->config);
}

Test(counters, forced_skl_opens_software_and_refuses_hardware)
{
	struct counter_set cs;
	struct wl_error err = { 0 };
	bool pmu = host_has_pmu();

	require_perf_kernel();
	cr_assert_eq(setenv("LIBPFM_FORCE_PMU", "skl", 1), 0);
	cr_assert_eq(counters_open(&cs, 0, &err), 0, "%s: %s", err.file, err.msg);
	/* libpfm4 forced to skl hides its perf PMU: the fallback must hold */
	cr_assert_str_eq(counters_event(&cs, COUNTER_page_faults),
			 "perf::PERF_COUNT_SW_PAGE_FAULTS");
	cr_assert(counters_supported(&cs, COUNTER_minor_faults));
	cr_assert(counters_supported(&cs, COUNTER_major_faults));
	if (pmu) {
		counters_close(&cs);
		cr_skip_test("this host has a hardware PMU: skl raw codes may open on it");
	}
	for (size_t i = NR_SOFTWARE; i < COUNTERS_NR; i++) {
		cr_assert(!counters_supported(&cs, i), "%s", names[i]);
		cr_assert_str_eq(counters_reason(&cs, i),
				 "no hardware PMU (perf_event_open: ENOENT)", "%s", names[i]);
	}
	counters_close(&cs);
}

Test(counters, forced_icl_names_the_missing_table_entry)
{
	struct counter_set cs;
	struct wl_error err = { 0 };

	require_perf_kernel();
	cr_assert_eq(setenv("LIBPFM_FORCE_PMU", "icl", 1), 0);
	cr_assert_eq(counters_open(&cs, 0, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert(!counters_supported(&cs, COUNTER_dtlb_load_walk_completed_1g));
	cr_assert_str_eq(counters_reason(&cs, COUNTER_dtlb_load_walk_completed_1g),
			 "not in libpfm4's table for icl");
	counters_close(&cs);
}

/* ---- errors -------------------------------------------------------------- */

Test(counters, open_on_a_dead_pid_is_an_error)
{
	struct counter_set cs;
	struct wl_error err = { 0 };
	int status;
	pid_t pid;

	require_perf_kernel();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);	/* reaped: the pid is free */
	cr_assert_eq(counters_open(&cs, pid, &err), -1);
	cr_assert_str_eq(err.file, "perf_event_open");
	cr_assert(strstr(err.msg, "No such process"), "%s", err.msg);
	cr_assert(strstr(err.msg, "page_faults"), "%s", err.msg);
	for (size_t i = 0; i < COUNTERS_NR; i++)
		cr_assert(!counters_supported(&cs, i));
	counters_close(&cs);		/* safe after a failed open */
}

/* ---- --list-events ---------------------------------------------------------- */

Test(counters, list_prints_one_line_per_counter)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, col = 0;
	size_t seen[NR_NAMES] = { 0 };
	bool pmus = false, in_counters = false;
	FILE *f;

	require_perf_kernel();
	f = open_memstream(&text, &len);
	cr_assert_not_null(f);
	cr_assert_eq(counters_list(f), 0);
	fclose(f);

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *name = line + strspn(line, " ");
		size_t n = strcspn(name, " ");
		const char *status = name + n + strspn(name + n, " ");

		if (!strcmp(line, "libpfm4 PMUs on this host:"))
			pmus = true;
		if (!strncmp(line, "counters", 8)) {
			in_counters = true;
			continue;
		}
		if (!in_counters || !*name)
			continue;
		for (size_t i = 0; i < NR_NAMES; i++) {
			if (strlen(names[i]) != n || strncmp(name, names[i], n))
				continue;
			seen[i]++;
			cr_assert(!strncmp(status, "supported (", 11) ||
				  !strncmp(status, "unsupported: ", 13), "%s", line);
			if (!col)
				col = (size_t)(status - line);
			cr_assert_eq((size_t)(status - line), col, "not aligned: %s", line);
		}
	}
	cr_assert(pmus, "no PMU section:\n%s", text);
	for (size_t i = 0; i < NR_NAMES; i++)
		cr_assert_eq(seen[i], 1, "%s listed %zu times", names[i], seen[i]);
	free(text);
}

/* ---- multiplexing: scaled as perf stat scales, or not counted -------------- */

Test(counters, a_multiplexed_interval_is_scaled_by_enabled_over_running)
{
	/* 300 counted in 1000 ns of 2000 enabled: perf stat says 600 (50.00%) */
	struct counter_sample a = { 100, 1000, 500 }, b = { 400, 3000, 1500 };
	double v = -1, f = -1;

	cr_assert_eq(counter_growth(&a, &b, &v, &f), COUNTER_SCALED);
	cr_assert_eq(v, 600);
	cr_assert_eq(f, 0.5);
}

Test(counters, an_interval_counted_throughout_is_exact)
{
	struct counter_sample a = { 7, 100, 100 }, b = { 19, 350, 350 };
	double v = -1, f = -1;

	cr_assert_eq(counter_growth(&a, &b, &v, &f), COUNTER_EXACT);
	cr_assert_eq(v, 12);
	cr_assert_eq(f, 1);
}

Test(counters, an_interval_never_on_a_register_is_not_counted_rather_than_zero)
{
	/* enabled for 800 ns, running for none of them: perf's <not counted> */
	struct counter_sample a = { 55, 200, 120 }, b = { 55, 1000, 120 };
	double v = -1, f = -1;

	cr_assert_eq(counter_growth(&a, &b, &v, &f), COUNTER_NOT_COUNTED);
	cr_assert_eq(f, 0);
}

Test(counters, a_phase_json_scales_and_lists_the_multiplexed_counters)
{
	struct counter_set cs;
	struct counter_sample before[COUNTERS_NR] = { 0 }, after[COUNTERS_NR] = { 0 };
	struct wl_error err = { 0 };
	cJSON *json, *running = NULL, *item;

	require_perf_kernel();
	cr_assert_eq(counters_open(&cs, 0, &err), 0, "%s: %s", err.file, err.msg);
	/* page_faults ran a quarter of the phase, minor_faults none of it */
	after[COUNTER_page_faults] = (struct counter_sample){ 25, 400, 100 };
	after[COUNTER_minor_faults] = (struct counter_sample){ 0, 400, 0 };
	after[COUNTER_major_faults] = (struct counter_sample){ 3, 400, 400 };
	json = counters_to_json(&cs, before, after, &running);
	cr_assert_not_null(json);
	item = cJSON_GetObjectItemCaseSensitive(json, "page_faults");
	cr_assert(cJSON_IsNumber(item) && item->valuedouble == 100);
	item = cJSON_GetObjectItemCaseSensitive(json, "minor_faults");
	cr_assert(cJSON_IsString(item) && !strcmp(item->valuestring, "not counted"));
	item = cJSON_GetObjectItemCaseSensitive(json, "major_faults");
	cr_assert(cJSON_IsNumber(item) && item->valuedouble == 3);
	cr_assert_not_null(running);
	cr_assert_eq(cJSON_GetArraySize(running), 1, "only the scaled counter is listed");
	item = cJSON_GetObjectItemCaseSensitive(running, "page_faults");
	cr_assert(cJSON_IsNumber(item) && item->valuedouble == 0.25);
	cJSON_Delete(running);
	cJSON_Delete(json);
	counters_close(&cs);
}

Test(counters, counter_events_say_what_each_counts_or_why_not)
{
	struct counter_set cs;
	struct wl_error err = { 0 };
	bool pmu = host_has_pmu();
	cJSON *json, *o;

	require_perf_kernel();
	cr_assert_eq(counters_open(&cs, 0, &err), 0, "%s: %s", err.file, err.msg);
	json = counters_events_json(&cs);
	cr_assert_not_null(json);
	cr_assert_eq(cJSON_GetArraySize(json), (int)NR_NAMES);
	o = cJSON_GetObjectItemCaseSensitive(json, "page_faults");
	cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "counts")->valuestring, "none");
	cr_assert_null(cJSON_GetObjectItemCaseSensitive(o, "tlb_event"));
	for (size_t i = NR_SOFTWARE; i < COUNTERS_NR; i++) {
		o = cJSON_GetObjectItemCaseSensitive(json, names[i]);
		cr_assert_not_null(o, "%s", names[i]);
		if (counters_supported(&cs, i)) {
			cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "tlb_event")->valuestring,
					 tlb_event_name(counters_tlb_event(&cs, i)));
			cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(o, "counts"));
		} else {
			cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(o, "unsupported")->valuestring,
					 counters_reason(&cs, i));
		}
		if (!pmu)
			cr_assert(!counters_supported(&cs, i), "%s", names[i]);
	}
	cr_assert_eq(counters_tlb_event(&cs, COUNTER_minor_faults), TLB_EV_NONE);
	cJSON_Delete(json);
	counters_close(&cs);
}
