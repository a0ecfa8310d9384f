/*
 * test_timing.c - the timed simulation end to end (functional_run() with a
 * timing model), against values derived by hand from the configuration.
 *
 * The machine (config() below): 4 GHz, work 1 cycle per access, mlp 10;
 * L1 DTLB 4K and 2M 64 entries 4-way (1 cycle), STLB 2048 8-way (12),
 * PWCs 32 entries 4-way (1) for PML4/PDPT/PD; L1D 32 KiB 8-way (5), L2
 * 128 KiB 8-way (14), LLC 256 KiB 16-way (40); DDR4-2400 at 4 GHz: row hit
 * 123, no open row 180, conflict 237 cycles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <cjson/cJSON.h>

#include "simulator/config.h"
#include "simulator/functional.h"
#include "simulator/stats.h"
#include "tests/simulator/harness.h"

static struct timing_config tc;
static struct wl_spec spec;
static struct functional_run run;
static bool loaded;

static struct sa_config sa(uint32_t sets, uint32_t ways, uint32_t latency)
{
	return (struct sa_config){ .sets = sets, .ways = ways, .latency = latency,
				   .repl = SA_REPL_LRU };
}

static void config(void)
{
	memset(&tc, 0, sizeof(tc));
	tc.core = (struct core_config){ .freq_mhz = 4000, .work_cycles = 1, .mlp = 10,
					.fault_entry_cycles = 250, .fault_exit_cycles = 200,
					.kernel_cpi = 1.0 };
	tc.mmu.dtlb_4k = sa(16, 4, 1);
	tc.mmu.dtlb_2m = sa(16, 4, 1);
	tc.mmu.stlb = sa(256, 8, 12);
	tc.mmu.pwc = true;
	tc.mmu.pwc_level[PWC_PML4] = sa(8, 4, 1);
	tc.mmu.pwc_level[PWC_PDPT] = sa(8, 4, 1);
	tc.mmu.pwc_level[PWC_PD] = sa(8, 4, 1);
	tc.mmu.walkers = 4;
	tc.mmu.nested.host_page_size = 4096;
	tc.mmu.nested.host_levels = 4;
	tc.l1d = sa(64, 8, 5);
	tc.l2 = sa(256, 8, 14);
	tc.llc = sa(256, 16, 40);
	dram_config_ddr4_2400(&tc.dram, 4000);
}

static void teardown(void)
{
	functional_release(&run);
	if (loaded)
		wl_spec_release(&spec);
	loaded = false;
}

TestSuite(timing, .init = config, .fini = teardown);

/* Run a spec given as text, timed, THP settings all given by the spec. */
static void run_text(const char *text)
{
	struct functional_opts o;
	struct wl_error err = { 0 };

	cr_assert_eq(wl_spec_parse(&spec, text, strlen(text), "test.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	loaded = true;
	functional_opts_init(&o);
	o.mem_bytes = 1ULL << 30;
	o.timing = &tc;
	cr_assert_eq(functional_run(&run, &spec, &o, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert(run.complete);
	cr_assert(run.timed);
}

#define KERNEL(thp) "\"kernel\": {\"thp\": \"" thp "\", \"defrag\": \"madvise\", " \
	"\"use_zero_page\": true, \"khugepaged\": {\"scan_sleep_ms\": 100000}, " \
	"\"mthp\": {\"16KiB\": \"never\", \"32KiB\": \"never\", \"64KiB\": \"never\", " \
	"\"128KiB\": \"never\", \"256KiB\": \"never\", \"512KiB\": \"never\", \"1MiB\": \"never\"}}"

/*
 * A sequential 8-byte stream over 4 MiB of 4 KiB pages: 512 accesses per
 * page, the first of each misses the L1 TLB: 1024 misses in 524288, 511 in
 * 512 hit. The touch before left all 1024 pages in the 2048-entry STLB, so
 * no walk.
 */
Test(timing, sequential_stream_hits_the_tlb_511_times_in_512)
{
	const struct timing_stats *ph;

	run_text("{\"name\": \"seq\", \"seed\": 1, " KERNEL("never") ", "
		 "\"regions\": [{\"name\": \"buf\", \"size\": \"4MiB\"}], "
		 "\"phases\": [{\"op\": \"touch\", \"region\": \"buf\"}, "
		 "{\"op\": \"access\", \"region\": \"buf\", \"pattern\": \"sequential\", "
		 "\"stride\": \"8B\", \"count\": 524288}]}");
	cr_assert_eq(run.regions[0].faults, 1024);
	ph = &run.phases[1].timing;
	cr_assert_eq(ph->mmu.translations, 524288);
	cr_assert_eq(ph->mmu.l1_misses, 1024);
	cr_assert_eq(ph->mmu.l1_hits[MMU_4K], 524288 - 1024);
	cr_assert_eq(ph->mmu.stlb_hits[MMU_4K], 1024);
	cr_assert_eq(ph->mmu.walks, 0);
	/* 8 accesses per 64-byte line: 1 in 8 misses the L1D */
	cr_assert_eq(ph->mem.misses[MEMSYS_L1D][MEMSYS_DATA], 524288 / 8);
}

/* The cycles of a chase phase of 'count' loads over 'size' of 'thp' pages. */
static uint64_t chase_cycles(const char *thp, const char *size, unsigned int count,
			     struct timing_stats *out)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"name\": \"chase\", \"seed\": 3, " KERNEL("%s") ", "
		 "\"regions\": [{\"name\": \"buf\", \"size\": \"%s\"}], "
		 "\"phases\": [{\"op\": \"access\", \"region\": \"buf\", \"pattern\": \"chase\", "
		 "\"stride\": \"4KiB\", \"count\": %u}]}", thp, size, count);
	run_text(text);
	*out = run.phases[0].timing;
	functional_release(&run);
	wl_spec_release(&spec);
	loaded = false;
	return out->cycles;
}

/*
 * A page-stride chase over 256 MiB of 4 KiB pages: 65536 pages, whose
 * PTEs fill 128 table pages (512 KiB, twice the LLC); the STLB holds 2048 of
 * the pages, the PD-level PWC 32 of the 128 PD entries. The loads alone are
 * measured as the difference between a chase of 40000 and one of 20000
 * loads (same build, same first 20000 loads). Per load, by hand:
 *   work 1 + L1 TLB 1 + STLB 12 = 14, then a walk (the chase visits each
 *   page once per cycle of 65536 loads, so 40000 loads never find one in a
 *   TLB): the PML4/PDPT PWCs hit (1 each probed), the PD PWC
 *   mostly misses (96 of 128 PD entries not held), so the PD entry and the
 *   PTE are read; the PT pages do not fit the caches, the PD table does
 *   (one 4 KiB page): the PD read costs at most an LLC hit (59), the PTE a
 *   DRAM access; then the data line, from DRAM (256 MiB >> LLC).
 * One DRAM latency for the data plus a walk: each load costs between
 *   lower = 14 + 0.9 * (2 + 5 + 59 + 123) + (59 + 123)  = 366
 * (walks hitting an open row for the PTE, data on an open row) and
 *   upper = 14 + (3 + 59 + 59 + 237) + (59 + 237)      = 668
 * (every walk reading both entries, every DRAM access a row conflict).
 */
Test(timing, chase_far_beyond_the_llc_costs_a_dram_latency_and_a_walk)
{
	struct timing_stats a, b;
	uint64_t c1 = chase_cycles("never", "256MiB", 20000, &a);
	uint64_t c2 = chase_cycles("never", "256MiB", 40000, &b);
	double per_load = (double)(c2 - c1) / 20000.0;
	double walks = (double)(b.mmu.walks - a.mmu.walks) / 20000.0;

	cr_assert_geq(walks, 0.9, "walks per load %.3f", walks);
	cr_assert_leq(walks, 1.0, "walks per load %.3f", walks);
	cr_assert_geq(per_load, 366.0, "%.1f cycles per load", per_load);
	cr_log_info("4 KiB chase: %.1f cycles per load, %.3f walks", per_load, walks);
	cr_assert_leq(per_load, 668.0, "%.1f cycles per load", per_load);
}

/*
 * The same over THPs: 32 MiB is 16 PMD entries, TLB-resident in the 2M L1
 * (64 entries): no walk, and a load costs one DRAM access at most:
 *   14 - 12 (no STLB) + 59 + 237 = 298; at least 2 + 59 + 123 = 184.
 */
Test(timing, thp_chase_costs_a_dram_latency_and_no_walk)
{
	struct timing_stats a, b;
	uint64_t c1 = chase_cycles("always", "32MiB", 20000, &a);
	uint64_t c2 = chase_cycles("always", "32MiB", 40000, &b);
	double per_load = (double)(c2 - c1) / 20000.0;

	cr_assert_eq(b.mmu.walks, a.mmu.walks, "no walk in the extra loads");
	cr_assert_geq(per_load, 184.0, "%.1f cycles per load", per_load);
	cr_log_info("THP chase: %.1f cycles per load", per_load);
	cr_assert_leq(per_load, 298.0, "%.1f cycles per load", per_load);
}


/*
 * A write touch of 4 MiB of 4 KiB pages (THP never: 1024 faults, each of
 * one order-0 folio), then 65536 sequential reads of it (no fault), run
 * with exception entry and exit of 250 + 200 cycles, then of 650 + 600: 800
 * more per fault and per system call (the mmap of the setup), 200 ns at
 * 4 GHz. The fault window (timing.h) holds neither, so every fault's
 * latency is the same in both runs; the time is the core's all the same:
 *   the touch phase:   1024 * 800 / 4000 = 204800 ns longer
 *   the read phase:    unchanged, starting 200 + 204800 ns later
 *   the run:           (1024 + 1) * 200 = 205000 ns longer
 * fault_cycles grows by 1024 * 800, all of it entry and exit.
 */
Test(timing, entry_and_exit_lengthen_the_runtime_not_the_fault_latency)
{
	static const char text[] = "{\"name\": \"touch\", \"seed\": 5, " KERNEL("never") ", "
		"\"regions\": [{\"name\": \"buf\", \"size\": \"4MiB\"}], "
		"\"phases\": [{\"op\": \"touch\", \"region\": \"buf\"}, "
		"{\"op\": \"access\", \"region\": \"buf\", \"pattern\": \"sequential\", "
		"\"stride\": \"64B\", \"count\": 65536, \"write_fraction\": 0}]}";
	struct functional_run a;
	struct side_latencies *la, *lb;

	run_text(text);
	a = run;
	memset(&run, 0, sizeof(run));
	wl_spec_release(&spec);
	loaded = false;
	tc.core.fault_entry_cycles = 650;
	tc.core.fault_exit_cycles = 600;
	run_text(text);

	cr_assert_eq(a.regions[0].faults, 1024);
	cr_assert_eq(run.regions[0].faults, 1024);
	cr_assert_eq(run.phases[1].faults, 0);
	la = &a.regions[0].latency;
	lb = &run.regions[0].latency;
	cr_assert_eq(la->n, 1024);
	cr_assert_eq(lb->n, 1024);
	for (size_t i = 0; i < la->n; i++)
		cr_assert_eq(la->v[i], lb->v[i], "fault %zu: %llu ns, then %llu ns", i,
			     (unsigned long long)la->v[i], (unsigned long long)lb->v[i]);
	cr_assert_eq(run.phases[0].timing.fault_window_cycles, a.phases[0].timing.fault_window_cycles);
	cr_assert_eq(a.phases[0].timing.fault_entry_exit_cycles, 1024 * 450);
	cr_assert_eq(run.phases[0].timing.fault_entry_exit_cycles, 1024 * 1250);
	cr_assert_eq(run.phases[0].timing.fault_cycles - a.phases[0].timing.fault_cycles, 1024 * 800);
	cr_assert_eq(run.phases[0].runtime_ns - a.phases[0].runtime_ns, 204800);
	cr_assert_eq(run.phases[1].runtime_ns, a.phases[1].runtime_ns);
	cr_assert_eq(run.phases[1].start_ns - a.phases[1].start_ns, 200 + 204800);
	cr_assert_eq(run.runtime_ns - a.runtime_ns, 205000);
	/* 'a' points at the released spec: free what it holds by hand */
	for (size_t i = 0; i < 2; i++)
		free(a.phases[i].pages);
	side_backing_release(&a.regions[0].backing);
	side_latencies_release(la);
	free(a.regions);
	free(a.phases);
}

/* ---- every dataset, timed ---------------------------------------------------------- */



/* The reference configuration's hardware, as virtuoso sim uses it. */
static void reference(struct timing_config *t, struct channel_config *m, enum channel_mode mode)
{
	struct sim_config cfg;

	sim_config_init(&cfg);
	sim_config_timing(&cfg, t);
	*m = cfg.mimicos;
	m->mode = mode;
}

/* Run a dataset (host settings: Linux's defaults, as the datasets fix all but khugepaged's). */
static void run_dataset(const char *name, const struct timing_config *t,
			const struct channel_config *m, struct functional_run *out)
{
	struct functional_opts o;
	struct wl_error err = { 0 };
	struct wl_kernel host;
	char path[128];

	snprintf(path, sizeof(path), "datasets/workloads/%s.json", name);
	if (!loaded) {
		cr_assert_eq(wl_spec_load(&spec, path, &err), 0, "%s", err.msg);
		loaded = true;
	}
	functional_opts_init(&o);
	o.mem_bytes = 4ULL << 30;
	o.mimicos = m;
	o.timing = t;
	linux_defaults(&host);
	o.host = &host;
	cr_assert_eq(functional_run(out, &spec, &o, &err), 0, "%s: %s: %s", name, err.path, err.msg);
}

static char *json_text(struct functional_run *r)
{
	cJSON *j = functional_to_json(r);
	char *text;

	cr_assert_not_null(j);
	cJSON_DeleteItemFromObject(j, "config");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return text;
}

ParameterizedTestParameters(timing, every_dataset_runs_timed_with_the_functional_outcome)
{
	return cr_make_param_array(struct ds_name, all_datasets, NR_DATASETS);
}

/*
 * Timing decides when, never what: every dataset, timed, completes with the
 * faults, THP faults and page classes of the untimed run (whose outcomes
 * test_functional.c checks against INDEX.md), and takes simulated time.
 */
ParameterizedTest(struct ds_name *d, timing, every_dataset_runs_timed_with_the_functional_outcome)
{
	struct timing_config t;
	struct channel_config m;
	struct functional_run untimed;

	reference(&t, &m, CHANNEL_IN_PROCESS);
	run_dataset(d->name, &t, &m, &run);
	run_dataset(d->name, NULL, &m, &untimed);
	cr_assert(run.complete, "%s incomplete", d->name);
	cr_assert_gt(run.runtime_ns, 0);
	for (size_t i = 0; i < spec.nr_regions; i++) {
		cr_assert_eq(run.regions[i].faults, untimed.regions[i].faults, "%s: %s faults",
			     d->name, spec.regions[i].name);
		cr_assert_eq(run.regions[i].thp_faults, untimed.regions[i].thp_faults);
		cr_assert(!memcmp(run.regions[i].pages, untimed.regions[i].pages,
				  sizeof(run.regions[i].pages)), "%s: %s pages", d->name,
			  spec.regions[i].name);
	}
	functional_release(&untimed);
}

/* The same spec, configuration and seed give a byte-identical result. */
Test(timing, runs_are_deterministic)
{
	struct timing_config t;
	struct channel_config m;
	struct functional_run again;
	char *a, *b;

	reference(&t, &m, CHANNEL_IN_PROCESS);
	run_dataset("access-mix", &t, &m, &run);
	run_dataset("access-mix", &t, &m, &again);
	a = json_text(&run);
	b = json_text(&again);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	functional_release(&again);
}

/* MimicOS in its own process (the walker reads its entries over the channel): the same result. */
Test(timing, out_of_process_gives_the_same_timed_result)
{
	struct timing_config t;
	struct channel_config m;
	struct functional_run other;
	char *a, *b;

	reference(&t, &m, CHANNEL_IN_PROCESS);
	run_dataset("default", &t, &m, &run);
	m.mode = CHANNEL_OUT_OF_PROCESS;
	run_dataset("default", &t, &m, &other);
	a = json_text(&run);
	b = json_text(&other);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	functional_release(&other);
}

/*
 * Nested paging: the same outcome, host entries read on every walk that
 * misses the NTLB, and so more walk cycles.
 */
Test(timing, nested_paging_adds_host_references)
{
	struct timing_config t;
	struct channel_config m;
	struct functional_run nested;
	uint64_t host = 0;

	reference(&t, &m, CHANNEL_IN_PROCESS);
	run_dataset("chase-tlb", &t, &m, &run);
	t.mmu.nested.enabled = true;
	run_dataset("chase-tlb", &t, &m, &nested);
	for (int l = 0; l < MMU_LEVELS_MAX; l++) {
		cr_assert_eq(run.timing.mmu.host_refs[l], 0);
		host += nested.timing.mmu.host_refs[l];
	}
	cr_assert_gt(host, 0);
	cr_assert_gt(nested.timing.mmu.walk_cycles, run.timing.mmu.walk_cycles);
	cr_assert_gt(nested.runtime_ns, run.runtime_ns);
	cr_assert_eq(nested.regions[1].faults, run.regions[1].faults);
	functional_release(&nested);
}
