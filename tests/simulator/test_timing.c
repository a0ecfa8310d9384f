/*
 * test_timing.c - the timed simulation end to end (driver_run() with a
 * timing model), against values derived by hand from the configuration;
 * and, at the end ("the model pinned"), one struct timing alone on a small
 * machine whose every latency the test sets, each fault kind's kernel
 * stream and each path of an access timed to the cycle, derived by hand.
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
#include "simulator/driver.h"
#include "simulator/stats.h"
#include "tests/simulator/harness.h"

static struct timing_config tc;
static struct wl_spec spec;
static struct driver_run run;
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
	driver_release(&run);
	if (loaded)
		wl_spec_release(&spec);
	loaded = false;
}

TestSuite(timing, .init = config, .fini = teardown);

/* Run a spec given as text, timed, THP settings all given by the spec. */
static void run_text(const char *text)
{
	struct driver_opts o;
	struct wl_error err = { 0 };

	cr_assert_eq(wl_spec_parse(&spec, text, strlen(text), "test.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	loaded = true;
	driver_opts_init(&o);
	o.mem_bytes = 1ULL << 30;
	o.timing = &tc;
	cr_assert_eq(driver_run(&run, &spec, &o, &err), 0, "%s: %s", err.path, err.msg);
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
	driver_release(&run);
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
	struct driver_run a;
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
			const struct channel_config *m, struct driver_run *out)
{
	struct driver_opts o;
	struct wl_error err = { 0 };
	struct wl_kernel host;
	char path[128];

	snprintf(path, sizeof(path), "datasets/workloads/%s.json", name);
	if (!loaded) {
		cr_assert_eq(wl_spec_load(&spec, path, &err), 0, "%s", err.msg);
		loaded = true;
	}
	driver_opts_init(&o);
	o.mem_bytes = 4ULL << 30;
	o.mimicos = m;
	o.timing = t;
	linux_defaults(&host);
	o.host = &host;
	cr_assert_eq(driver_run(out, &spec, &o, &err), 0, "%s: %s: %s", name, err.path, err.msg);
}

static char *json_text(struct driver_run *r)
{
	cJSON *j = driver_to_json(r);
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
 * test_driver.c checks against INDEX.md), and takes simulated time.
 */
ParameterizedTest(struct ds_name *d, timing, every_dataset_runs_timed_with_the_functional_outcome)
{
	struct timing_config t;
	struct channel_config m;
	struct driver_run untimed;

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
	driver_release(&untimed);
}

/* The same spec, configuration and seed give a byte-identical result. */
Test(timing, runs_are_deterministic)
{
	struct timing_config t;
	struct channel_config m;
	struct driver_run again;
	char *a, *b;

	reference(&t, &m, CHANNEL_IN_PROCESS);
	run_dataset("access-mix", &t, &m, &run);
	run_dataset("access-mix", &t, &m, &again);
	a = json_text(&run);
	b = json_text(&again);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	driver_release(&again);
}

/* MimicOS in its own process (the walker reads its entries over the channel): the same result. */
Test(timing, out_of_process_gives_the_same_timed_result)
{
	struct timing_config t;
	struct channel_config m;
	struct driver_run other;
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
	driver_release(&other);
}

/*
 * Nested paging: the same outcome, host entries read on every walk that
 * misses the NTLB, and so more walk cycles.
 */
Test(timing, nested_paging_adds_host_references)
{
	struct timing_config t;
	struct channel_config m;
	struct driver_run nested;
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
	driver_release(&nested);
}

/* ---- the model pinned: hand-derived cycle counts ------------------------------------ */

/*
 * One struct timing alone (no MimicOS), on the small machine pin_config()
 * sets in full, every latency explicit:
 *
 *   core   2000 MHz, work 1, mlp 4, fault entry 100 and exit 60, kernel_cpi 1.5
 *   TLBs   L1 4 KiB 1 entry (1 cycle), L1 2 MiB 8 sets x 4 ways (1), no L1 1 GiB;
 *          STLB 64 x 8 (7); PWCs of 4 x 4 for PML4 (1), PDPT (2), PD (3), none
 *          for PML5: one PWC probe costs the largest, 3; NTLB 4 x 4 (2)
 *   caches L1D 64 x 8 (4), L2 512 x 8 (10), LLC 4096 x 16 (30, 4 MiB), LRU
 *   DRAM   1 channel, 1 rank, 8 banks, 8 KiB rows: bank = pa bits 15..13,
 *          row = pa >> 16; row hit 50, no open row 100, conflict 150
 *
 * So a data-cache access costs: L1D hit 4; L2 hit 4 + 10 = 14; LLC hit
 * 14 + 30 = 44; from DRAM 44 + 50 = 94 (row hit), 44 + 100 = 144 (bank
 * empty), 44 + 150 = 194 (conflict). The kernel's direct-map translation
 * of a 2 MiB region (mmu_kernel_translate()): L1 2 MiB hit 1; STLB hit
 * 1 + 7 = 8; else 1 + 7 + 3 (PWC) + the access to its PD entry at
 * MMU_KERNEL_PD + (pa >> 21) * 8 (bank 0, row 3 << 24; regions 0..7 share
 * one line, 512.. another).
 *
 * Physical layout (bank, row): tables PML4 0x2000 and PDPT 0x3000 (1, 0),
 * PD 0x4000 (2, 0), PT 0x6000 (3, 0), PT2 0x8000 (4, 0), PD2 0xa000 (5, 0),
 * PT3 0xe000 (7, 0); data pages 0x20a000, 0x20b000 (5, 0x20), 0x20c000
 * (6, 0x20), 0x20e000 (7, 0x20); struct pages at 1 GiB + pfn * 64 (bank
 * 4, row 0x4000 for pfns 0x20a..0x20f). va0 = 0x7f0000005000 indexes
 * PML4 254, PDPT 0, PD 0, PT 5: entries 0x27f0, 0x3000, 0x4000, 0x6028.
 */
#define PIN_MEM_MAX	64
static struct { uint64_t pa, val; } pin_mem[PIN_MEM_MAX];
static unsigned int pin_mem_nr;

static uint64_t pin_read(void *ctx, uint64_t pa)
{
	(void)ctx;
	for (unsigned int i = 0; i < pin_mem_nr; i++)
		if (pin_mem[i].pa == pa)
			return pin_mem[i].val;
	return 0;
}

static void pin_set(uint64_t pa, uint64_t val)
{
	cr_assert_lt(pin_mem_nr, PIN_MEM_MAX);
	pin_mem[pin_mem_nr].pa = pa;
	pin_mem[pin_mem_nr++].val = val;
}

#define PIN_VA0		0x7f0000005000ULL
#define PIN_CR3		0x2000ULL
#define PIN_MEMMAP	(1ULL << 30)
#define PIN_LEAF	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

/* The tables of the layout above: va0, va0 + 4 KiB, va0 + 2 MiB, va0 + 1 GiB mapped. */
static void pin_tables(void)
{
	pin_mem_nr = 0;
	pin_set(0x27f0, 0x3000 | _PAGE_TABLE);		/* PML4[254] -> PDPT */
	pin_set(0x3000, 0x4000 | _PAGE_TABLE);		/* PDPT[0] -> PD */
	pin_set(0x3008, 0xa000 | _PAGE_TABLE);		/* PDPT[1] -> PD2 */
	pin_set(0x4000, 0x6000 | _PAGE_TABLE);		/* PD[0] -> PT */
	pin_set(0x4008, 0x8000 | _PAGE_TABLE);		/* PD[1] -> PT2 */
	pin_set(0xa000, 0xe000 | _PAGE_TABLE);		/* PD2[0] -> PT3 */
	pin_set(0x6028, 0x20a000 | PIN_LEAF);		/* va0 */
	pin_set(0x6030, 0x20b000 | PIN_LEAF);		/* va0 + 4 KiB */
	pin_set(0x8028, 0x20c000 | PIN_LEAF);		/* va0 + 2 MiB */
	pin_set(0xe028, 0x20e000 | PIN_LEAF);		/* va0 + 1 GiB */
}

static void pin_config(struct timing_config *c)
{
	memset(c, 0, sizeof(*c));
	c->core = (struct core_config){ .freq_mhz = 2000, .work_cycles = 1, .mlp = 4,
				       .fault_entry_cycles = 100, .fault_exit_cycles = 60,
				       .kernel_cpi = 1.5 };
	c->mmu.dtlb_4k = sa(1, 1, 1);
	c->mmu.dtlb_2m = sa(8, 4, 1);
	c->mmu.dtlb_1g = sa(1, 0, 1);
	c->mmu.dtlb = sa(1, 0, 1);
	c->mmu.stlb = sa(64, 8, 7);
	c->mmu.pwc = true;
	c->mmu.pwc_level[PWC_PML5] = sa(1, 0, 1);
	c->mmu.pwc_level[PWC_PML4] = sa(4, 4, 1);
	c->mmu.pwc_level[PWC_PDPT] = sa(4, 4, 2);
	c->mmu.pwc_level[PWC_PD] = sa(4, 4, 3);
	c->mmu.walkers = 1;
	c->mmu.nested.host_page_size = 4096;
	c->mmu.nested.host_levels = 4;
	c->mmu.nested.ntlb = sa(4, 4, 2);
	/* host-physical = gpa + 1 TiB: the pinned banks and rows are worked out on it */
	c->mmu.nested.contiguous = true;
	c->l1d = sa(64, 8, 4);
	c->l2 = sa(512, 8, 10);
	c->llc = sa(4096, 16, 30);
	c->dram = (struct dram_config){ .channels = 1, .ranks = 1, .banks = 8,
					.row_bytes = 8192, .t_row_hit = 50,
					.t_row_miss = 150, .t_row_empty = 100 };
}

static void pin_init(struct timing *t, bool nested)
{
	struct timing_config c;

	pin_config(&c);
	c.mmu.nested.enabled = nested;
	pin_tables();
	cr_assert_eq(timing_init(t, &c, 4, PIN_CR3, pin_read, NULL, 1), 0);
}

/* Stream records. */
static void ks_add(struct kstream *ks, enum kstream_type type, uint64_t paddr, uint32_t len)
{
	struct kstream_rec r = { .paddr = paddr, .len = len, .type = (uint8_t)type };

	cr_assert_eq(kstream_push(ks, &r), 0);
}

/* READ of the four entries of va0 (+ 8 * pte_off for its PTE), as a fault's walk does. */
static void ks_walk_va0(struct kstream *ks, unsigned int pte_off)
{
	ks_add(ks, KSTREAM_READ, 0x27f0, 8);
	ks_add(ks, KSTREAM_READ, 0x3000, 8);
	ks_add(ks, KSTREAM_READ, 0x4000, 8);
	ks_add(ks, KSTREAM_READ, 0x6028 + 8 * pte_off, 8);
}

/*
 * Time one request's stream on t; check the window timing_kernel() returns
 * and the cycles charged to the core (entry + window + exit, the core
 * idle before: the clock advances by exactly that).
 */
static void pin_kernel(struct timing *t, enum timing_kernel_kind kind,
		       const struct mimicos_response *rs, const struct kstream *ks,
		       uint64_t window, uint64_t charged)
{
	uint64_t before = core_drain(&t->core);

	cr_assert_eq(timing_kernel(t, kind, rs, ks), window, "window");
	cr_assert_eq(core_drain(&t->core) - before, charged, "charged");
}

/*
 * A 4 KiB anonymous write fault (do_anonymous_page), cold: the walk's four
 * entry reads, the new folio's struct page, its zeroing, the PTE's write.
 *   READ 0x27f0   kernel TLB: region 0 walks: 1 + 7 + 3 + PD line cold,
 *                 bank 0 empty, 144 = 155; the line: bank 1 empty, 144   299
 *   READ 0x3000   TLB 1; cold line, bank 1 row 0 open: 94                 95
 *   READ 0x4000   TLB 1; bank 2 empty: 144                                145
 *   READ 0x6028   TLB 1; bank 3 empty: 144                                145
 *                                                   reads (serial): 684
 *   WRITE 1 GiB + 0x20a * 64 (struct page, 64 B): region 512 walks:
 *                 1 + 7 + 3 + its PD line (cold, bank 0 row 3 << 24 open:
 *                 94) = 105; the line: bank 4 empty, 144                  249
 *   ZERO 0x20a000, 4 KiB: region 1 walks: 1 + 7 + 3 + its PD entry, on
 *                 region 0's line, in L1D: 4 = 15; memsys_bulk: 64 lines,
 *                 cold, bank 5: the first row-empty 144, 63 row hits of
 *                 94: sum 144 + 5922 = 6066, / mlp 4 = 1516 (floor; more
 *                 than 64 lines): 15 + 1516                              1531
 *   WRITE 0x6028  TLB 1; the line read above, an L1D hit: 4                 5
 *                 stores overlapped: (249 + 5) / mlp 4 = 63 (floor)
 *   INSNS 500     * 1.5                                                   750
 *   window = 684 + 63 + 1531 + 750 = 3028; charged 100 + 3028 + 60 = 3188.
 * L1D set 0 ends with 6 lines (0x3000, 0x4000, 0x6000, two PD lines, the
 * folio's first): no eviction, everything stays.
 *
 * Then the next page's fault, warm (PTE 0x6030, pfn 0x20b):
 *   4 READs: TLB 1 (region 0 in the L1 2 MiB TLB) + L1D hit 4 (0x6030
 *            shares 0x6028's line), 5 each                                20
 *   WRITE struct page 1 GiB + 0x20b * 64: TLB hit 1; its own line, cold,
 *            bank 4 row 0x4000 open: 94                                   95
 *   ZERO 0x20b000: TLB 1; 64 cold lines on bank 5's open row 0x20:
 *            64 * 94 = 6016, / 4 = 1504                                 1505
 *   WRITE 0x6030: 1 + 4                                                    5
 *            stores: (95 + 5) / 4 = 25
 *   INSNS 500                                                            750
 *   window = 20 + 25 + 1505 + 750 = 2300; charged 2460.
 * Both are 'small' faults (order 0, no TLB flush).
 */
Test(timing, pinned_4k_anonymous_write_fault)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096 };
	struct timing t;
	struct kstream ks;

	pin_init(&t, false);
	kstream_init(&ks);
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_WRITE, PIN_MEMMAP + 0x20a * 64, 64);
	ks_add(&ks, KSTREAM_ZERO, 0x20a000, 4096);
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 500);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 3028, 3188);

	ks.nr = 0;
	ks_walk_va0(&ks, 1);
	ks_add(&ks, KSTREAM_WRITE, PIN_MEMMAP + 0x20b * 64, 64);
	ks_add(&ks, KSTREAM_ZERO, 0x20b000, 4096);
	ks_add(&ks, KSTREAM_WRITE, 0x6030, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 500);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 2300, 2460);

	cr_assert_eq(t.stats.faults[TIMING_FAULT_small], 2);
	cr_assert_eq(t.stats.fault_window_cycles, 3028 + 2300);
	cr_assert_eq(t.stats.fault_entry_exit_cycles, 2 * 160);
	cr_assert_eq(t.stats.fault_cycles, 3188 + 2460);
	cr_assert_eq(t.stats.kernel_insns, 1000);
	/* the clock: 5648 cycles at 2000 MHz */
	cr_assert_eq(timing_now_ns(&t), 2824);
	kstream_release(&ks);
	timing_release(&t);
}

/*
 * A read fault that maps the zero page: the walk's reads (684, as above),
 * the PTE written (TLB 1 + L1D hit 4 = 5, / 4 = 1), no zeroing, INSNS 300
 * (450). window = 684 + 1 + 450 = 1135; charged 1295. Counted as 'zero'.
 */
Test(timing, pinned_zero_page_read_fault)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096,
				       .zero_page = 1 };
	struct timing t;
	struct kstream ks;

	pin_init(&t, false);
	kstream_init(&ks);
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 300);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 1135, 1295);
	cr_assert_eq(t.stats.faults[TIMING_FAULT_zero], 1);
	cr_assert_eq(t.stats.faults[TIMING_FAULT_small], 0);
	kstream_release(&ks);
	timing_release(&t);
}

/*
 * A COW fault that copies 4 KiB (wp_page_copy() from a written page:
 * __wp_page_copy_user(); a COW of the zero page clears instead, as Linux's
 * and MimicOS's wp_page_copy() do: the 4 KiB fault's ZERO). Source
 * 0x20c000 (bank 6), destination 0x20e000 (bank 7), pfn 0x20e's struct page.
 *   reads as above                                                       684
 *   WRITE struct page 1 GiB + 0x20e * 64: 105 (region 512 walks) + 144    249
 *   COPY 0x20c000 -> 0x20e000: the source's TLB, region 1 walks:
 *        1 + 7 + 3 + 4 (region 0's PD line) = 15, the destination's
 *        TLB hit 1; memsys_bulk: per line a load then a store, all cold,
 *        each side on its own bank: 2 * (144 + 63 * 94) = 12132, / 4 = 3033
 *        (more than 64 lines)                                 15 + 1 + 3033 = 3049
 *   WRITE 0x6028: 5; stores (249 + 5) / 4 = 63
 *   INSNS 600                                                            900
 *   window = 684 + 63 + 3049 + 900 = 4696; charged 4856.
 * Order 0 with a TLB flush reported: 'other'.
 */
Test(timing, pinned_cow_fault_copies_4k)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096,
				       .nr_tlb = 1 };
	struct timing t;
	struct kstream ks;

	pin_init(&t, false);
	kstream_init(&ks);
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_WRITE, PIN_MEMMAP + 0x20e * 64, 64);
	ks_add(&ks, KSTREAM_COPY_FROM, 0x20c000, 4096);
	ks_add(&ks, KSTREAM_COPY_TO, 0x20e000, 4096);
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 600);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 4696, 4856);
	cr_assert_eq(t.stats.faults[TIMING_FAULT_other], 1);
	kstream_release(&ks);
	timing_release(&t);
}

/*
 * A THP fault (do_huge_pmd_anonymous_page) at 0x400000, pfn 0x400:
 *   READ 0x27f0 299, READ 0x3000 95, READ 0x4010 (PD[2]; bank 2 empty)
 *        1 + 144 = 145                                       reads: 539
 *   WRITE struct page 1 GiB + 0x400 * 64 = 0x40010000 (bank 0, row
 *        0x4001): region 512 walks, 105 (its PD line a row hit in bank 0's
 *        row 3 << 24); the line: a conflict in bank 0, 194                299
 *   ZERO 0x400000, 2 MiB: region 2 walks: 1 + 7 + 3 + 4 (region 0's PD
 *        line) = 15; memsys_bulk: 32768 lines, every one cold in all three
 *        caches: 32768 * 44 = 1441792, plus DRAM: 256 chunks of 8 KiB,
 *        chunk k in bank k % 8; each chunk's first line opens its row, the
 *        127 others hit it (256 * 127 * 50 = 1625600). The first lines of
 *        chunks 0..7: banks 0 (row 0x4001 open), 1 and 2 (row 0) conflict,
 *        3..7 empty: 3 * 150 + 5 * 100 = 950; of chunks 8..255 a conflict
 *        with chunk k - 8's row: 248 * 150 = 37200. The LLC holds 4 MiB:
 *        nothing leaves it, so the dirty lines the L1D and L2 evict are
 *        marked in the level below and no write-back reaches DRAM.
 *        sum = 1441792 + 1625600 + 950 + 37200 = 3105542, / 4 = 776385
 *        (floor)                                          15 + 776385 = 776400
 *   WRITE 0x4010 (the PMD): TLB 1 (region 0 still in the L1 2 MiB TLB);
 *        its line left the L1D and the L2 (each set of both took 64 of
 *        the zeroed lines) but not the LLC (its set took 8): 44          45
 *        stores: (299 + 45) / 4 = 86
 *   INSNS 1500                                                          2250
 *   window = 539 + 86 + 776400 + 2250 = 779275; charged 779435. 'thp'.
 */
Test(timing, pinned_thp_fault_zeroes_2m)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 9,
				       .page_size = 2ULL << 20 };
	struct timing t;
	struct kstream ks;

	pin_init(&t, false);
	kstream_init(&ks);
	ks_add(&ks, KSTREAM_READ, 0x27f0, 8);
	ks_add(&ks, KSTREAM_READ, 0x3000, 8);
	ks_add(&ks, KSTREAM_READ, 0x4010, 8);
	ks_add(&ks, KSTREAM_WRITE, PIN_MEMMAP + 0x400 * 64, 64);
	ks_add(&ks, KSTREAM_ZERO, 0x400000, 2u << 20);
	ks_add(&ks, KSTREAM_WRITE, 0x4010, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 1500);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 779275, 779435);
	cr_assert_eq(t.stats.faults[TIMING_FAULT_thp], 1);
	cr_assert_eq(t.ms.stats.writebacks, 0);
	kstream_release(&ks);
	timing_release(&t);
}

/*
 * A system call (mprotect of va0's page): the four reads (684), the PTE
 * rewritten (5, / 4 = 1), INSNS 400 (600): window 1285, charged 1445, in
 * syscall_cycles, no fault counted. Its kernel work begins after the entry:
 * timing_kernel_begin_ns() = 100 cycles = 50 ns at 2000 MHz; it ends at
 * 1445 cycles = 722 ns (722.5, floor).
 */
Test(timing, pinned_system_call)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_MPROTECT };
	struct timing t;
	struct kstream ks;

	pin_init(&t, false);
	kstream_init(&ks);
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 400);
	cr_assert_eq(timing_kernel_begin_ns(&t), 50);
	pin_kernel(&t, TIMING_KERNEL_SYSCALL, &rs, &ks, 1285, 1445);
	cr_assert_eq(t.stats.syscall_cycles, 1445);
	cr_assert_eq(t.stats.fault_cycles, 0);
	for (int k = 0; k < TIMING_FAULT_NR; k++)
		cr_assert_eq(t.stats.faults[k], 0);
	cr_assert_eq(timing_now_ns(&t), 722);
	kstream_release(&ks);
	timing_release(&t);
}

/*
 * One access through timing_translate() and timing_access() on a drained
 * core: the translation's cycles, and the access's whole latency
 * (translation + data, what core_access() got: completion - issue); then
 * drained again, so each access's cost adds work 1 + latency to the clock.
 */
static void pin_access(struct timing *t, uint64_t va, uint32_t translation, uint32_t latency)
{
	uint64_t pa;
	uint32_t cyc;

	cr_assert_eq(timing_translate(t, va, false, &pa, &cyc), 0, "va %#llx faults",
		     (unsigned long long)va);
	cr_assert_eq(cyc, translation, "va %#llx: translation %u cycles", (unsigned long long)va,
		     cyc);
	timing_access(t, pa, false, cyc, false);
	cr_assert_eq(t->core.last_complete - t->core.now, latency, "va %#llx: latency %llu",
		     (unsigned long long)va,
		     (unsigned long long)(t->core.last_complete - t->core.now));
	core_drain(&t->core);
}

/*
 * The access path, native, in this order (each on a drained core):
 *   va0, cold: L1 1 + STLB 7 (both miss) + a walk: the PWCs probed (PD,
 *     PDPT, PML4 all miss) 3, then four entry reads through the caches:
 *     0x27f0 (bank 1 empty) 144, 0x3000 (bank 1 row 0 open) 94, 0x4000
 *     (bank 2 empty) 144, 0x6028 (bank 3 empty) 144 = 526:
 *     translation 1 + 7 + 3 + 526 = 537; data 0x20a000 (bank 5 empty)
 *     144; latency 681
 *   va0 again: the L1 hit 1; the data line in L1D 4; latency 5
 *   va0 + 4 KiB: the L1 (one 4 KiB entry, va0's) and the STLB miss; the
 *     PD PWC hits (the first walk filled it): the PTE alone, 0x6030 on
 *     0x6028's line, L1D 4: 1 + 7 + 3 + 4 = 15; data 0x20b000, bank 5 row
 *     0x20 open, 94; latency 109. va0's L1 entry is evicted.
 *   va0 again: L1 miss 1, STLB hit 7: 8; data L1D 4; latency 12
 *   va0 + 2 MiB: the PD PWC misses, the PDPT PWC hits (gives the PD):
 *     PD[1] 0x4008 on 0x4000's line, L1D 4; PT2's 0x8028 (bank 4 empty)
 *     144: 1 + 7 + 3 + 4 + 144 = 159; data 0x20c000 (bank 6 empty) 144;
 *     latency 303
 *   va0 + 1 GiB: PD and PDPT PWCs miss, the PML4 PWC hits (gives the
 *     PDPT): PDPT[1] 0x3008, L1D 4; PD2's 0xa000, bank 5 whose row 0x20 is
 *     open: a conflict, 194; PT3's 0xe028 (bank 7 empty) 144:
 *     1 + 7 + 3 + 4 + 194 + 144 = 353; data 0x20e000, bank 7 row 0 open:
 *     conflict, 194; latency 547
 * L1D set 0 overflows at the last access; its victims (0x6000's line and
 * 0x20b000's) are clean and not used again.
 * The clock: (1 + 681) + (1 + 5) + (1 + 109) + (1 + 12) + (1 + 303) +
 * (1 + 547) = 1663 cycles, 831 ns at 2000 MHz.
 */
Test(timing, pinned_access_path_native)
{
	struct timing t;

	pin_init(&t, false);
	pin_access(&t, PIN_VA0, 537, 681);
	cr_assert_eq(t.mmu.stats.walks, 1);
	cr_assert_eq(t.mmu.stats.pwc_misses[PWC_PD] + t.mmu.stats.pwc_misses[PWC_PDPT] +
		     t.mmu.stats.pwc_misses[PWC_PML4], 3);
	pin_access(&t, PIN_VA0, 1, 5);
	cr_assert_eq(t.mmu.stats.l1_hits[MMU_4K], 1);
	pin_access(&t, PIN_VA0 + 0x1000, 15, 109);
	cr_assert_eq(t.mmu.stats.pwc_hits[PWC_PD], 1);
	pin_access(&t, PIN_VA0, 8, 12);
	cr_assert_eq(t.mmu.stats.stlb_hits[MMU_4K], 1);
	pin_access(&t, PIN_VA0 + (2ULL << 20), 159, 303);
	cr_assert_eq(t.mmu.stats.pwc_hits[PWC_PDPT], 1);
	pin_access(&t, PIN_VA0 + (1ULL << 30), 353, 547);
	cr_assert_eq(t.mmu.stats.pwc_hits[PWC_PML4], 1);
	cr_assert_eq(t.mmu.stats.walks, 4);
	cr_assert_eq(timing_now_ns(&t), 831);
	timing_release(&t);
}

/*
 * Nested paging (4 KiB host pages, 4 host levels, NTLB latency 2): host
 * table entries at MMU_NESTED_TABLES (T = 2 TiB) + (L - 1) * 4 GiB + ...,
 * all in bank 0, one row per host level; for these small guest-physical
 * addresses the host PML4 and PDPT entries are T + 12 GiB and T + 8 GiB,
 * the PD entry T + 4 GiB (+ 8 for 2..4 MiB), the PT entry T + 8 * (gpa >>
 * 12) (+ 4096 for 2..4 MiB): 0x27f0..0x6028 on line T, 0x20a000 at
 * T + 0x1050. Host-physical = gpa + 1 TiB (same bank, its own rows).
 *   va0, cold: L1 1 + STLB 7 + PWCs 3, then per guest level an NTLB lookup
 *   (2, a miss: 5 different pages) and a host walk of 4, then the guest
 *   entry:
 *     PML4e 0x27f0: 2 + host 144 (bank 0 empty) + 194 + 194 + 194 (each
 *       level another row: conflicts) + the entry (bank 1 empty) 144 = 872
 *     PDPTe 0x3000: 2 + 4 * 4 (the host lines in L1D) + 94 (bank 1's row
 *       open)                                                      = 112
 *     PDe 0x4000: 2 + 16 + 144 (bank 2 empty)                     = 162
 *     PTE 0x6028: 2 + 16 + 144 (bank 3 empty)                     = 162
 *     the data's gpa 0x20a000: 2 + 4 + 4 + 4 (T + 4 GiB + 8 on its line)
 *       + T + 0x1050, a new line on bank 0's open row T: 94        = 108
 *     translation 1 + 7 + 3 + 872 + 112 + 162 + 162 + 108 = 1427; 24
 *     references (4 guest + 5 * 4 host); data (bank 5 empty) 144;
 *     latency 1571
 *   va0 + 4 KiB: L1 and STLB miss 1 + 7, the PD PWC hits 3 (the guest PT
 *     at gpa 0x6000); the PTE's page in the NTLB: 2, its line in L1D 4; the
 *     data's gpa 0x20b000 misses the NTLB: 2 + 4 host entries in L1D
 *     (T + 0x1058 on T + 0x1050's line) 16: 1 + 7 + 3 + 6 + 18 = 35; 5
 *     references; data on bank 5's open row 94; latency 129
 * The clock: 1572 + 130 = 1702 cycles, 851 ns.
 */
Test(timing, pinned_access_path_nested)
{
	struct timing t;
	struct mmu_result r;

	pin_init(&t, true);
	pin_access(&t, PIN_VA0, 1427, 1571);
	pin_access(&t, PIN_VA0 + 0x1000, 35, 129);
	cr_assert_eq(t.mmu.stats.ntlb_hits, 1);
	cr_assert_eq(t.mmu.stats.ntlb_misses, 6);
	cr_assert_eq(timing_now_ns(&t), 851);
	/* the reference counts of the two walks, again from a cold MMU */
	timing_release(&t);
	pin_init(&t, true);
	mmu_translate(&t.mmu, t.cr3, t.asid, PIN_VA0, false, &r);
	cr_assert_eq(r.refs, 24);
	cr_assert_eq(r.cycles, 1427);
	mmu_translate(&t.mmu, t.cr3, t.asid, PIN_VA0 + 0x1000, false, &r);
	cr_assert_eq(r.refs, 5);
	cr_assert_eq(r.cycles, 35);
	timing_release(&t);
}

/*
 * An access that hits the L1 TLB and the L1D is no long-latency miss
 * (core.h): it takes no MLP slot, so four misses in flight do not hold it.
 * After va0's cold access (drained at 682), four loads of va0's next four
 * lines: L1 TLB 1 + cold lines on bank 5's open row 94 = 95 each, issued
 * at 683..686, completing at 778..781: all four slots taken. Then va0's
 * own line: 1 + 4 = 5, the L1 hit latency, issued at 687 without waiting
 * (a slot would have made it wait until 778).
 */
Test(timing, pinned_l1_hit_takes_no_mlp_slot)
{
	struct timing t;
	uint64_t pa;
	uint32_t cyc;

	pin_init(&t, false);
	pin_access(&t, PIN_VA0, 537, 681);
	cr_assert_eq(t.core.now, 682);
	for (unsigned int k = 1; k <= 4; k++) {
		cr_assert_eq(timing_translate(&t, PIN_VA0 + 64 * k, false, &pa, &cyc), 0);
		timing_access(&t, pa, false, cyc, false);
		cr_assert_eq(t.core.last_complete - t.core.now, 95);
	}
	cr_assert_eq(t.core.now, 686);
	cr_assert_eq(timing_translate(&t, PIN_VA0, false, &pa, &cyc), 0);
	timing_access(&t, pa, false, cyc, false);
	cr_assert_eq(t.core.now, 687, "the L1 hit issued at %llu", (unsigned long long)t.core.now);
	cr_assert_eq(t.core.last_complete, 692);
	cr_assert_eq(t.core.stats.long_misses, 5);
	cr_assert_eq(t.core.stats.mlp_stall_cycles, 0);
	timing_release(&t);
}

/* ---- the calibration knobs (core.h), pinned ------------------------------------------ */

/* pin_init() with the knobs 'set' changes in pin_config()'s machine. */
static void pin_init_with(struct timing *t, void (*set)(struct timing_config *c))
{
	struct timing_config c;

	pin_config(&c);
	set(&c);
	pin_tables();
	cr_assert_eq(timing_init(t, &c, 4, PIN_CR3, pin_read, NULL, 1), 0);
}

/* pinned_4k_anonymous_write_fault's first (cold) stream; the folio's clear is user data. */
static void ks_4k_fault(struct kstream *ks)
{
	ks->nr = 0;
	ks_walk_va0(ks, 0);
	ks_add(ks, KSTREAM_WRITE, PIN_MEMMAP + 0x20a * 64, 64);
	ks_add(ks, KSTREAM_ZERO, 0x20a000, 4096);
	ks->rec[ks->nr - 1].src = KSTREAM_SRC_DATA;
	ks_add(ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(ks, KSTREAM_INSNS, 0, 500);
}

static void zero_2gbs(struct timing_config *c) { c->core.zero_bandwidth_gbs = 2; }
static void zero_8gbs(struct timing_config *c) { c->core.zero_bandwidth_gbs = 8; }

/*
 * core.zero_bandwidth_gbs times a clear at bytes / bandwidth instead of
 * memsys_bulk()'s 1516 (pinned_4k_anonymous_write_fault): 4096 B at 2 GB/s
 * is 2048 ns, 4096 cycles at 2000 MHz: the ZERO costs 15 (its translation)
 * + 4096, window = 684 + 63 + 4111 + 750 = 5608, charged 5768. At 8 GB/s
 * 1024 cycles, below the caches' 1516 and taken all the same: window 5608 -
 * 4096 + 1024 = 2536, charged 2696.
 */
Test(timing, pinned_zero_bandwidth_times_a_clear)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096 };
	struct timing t;
	struct kstream ks;

	kstream_init(&ks);
	ks_4k_fault(&ks);
	pin_init_with(&t, zero_2gbs);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 5608, 5768);
	timing_release(&t);
	pin_init_with(&t, zero_8gbs);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 2536, 2696);
	timing_release(&t);
	kstream_release(&ks);
}

static void copy_1gbs(struct timing_config *c)
{
	c->core.copy_bandwidth_gbs = 1;
	c->core.zero_bandwidth_gbs = 0.001;	/* clears only: the copy ignores it */
}

/*
 * core.copy_bandwidth_gbs times a copy: pinned_cow_fault_copies_4k's 4 KiB
 * at 1 GB/s is 4096 ns, 8192 cycles, instead of memsys_bulk()'s 3033: the COPY
 * costs 15 + 1 (translations) + 8192, window = 684 + 63 + 8208 + 900 =
 * 9855, charged 10015. The clear's bandwidth does not apply to a copy.
 */
Test(timing, pinned_copy_bandwidth_times_a_copy)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096,
				       .nr_tlb = 1 };
	struct timing t;
	struct kstream ks;

	pin_init_with(&t, copy_1gbs);
	kstream_init(&ks);
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_WRITE, PIN_MEMMAP + 0x20e * 64, 64);
	ks_add(&ks, KSTREAM_COPY_FROM, 0x20c000, 4096);
	ks_add(&ks, KSTREAM_COPY_TO, 0x20e000, 4096);
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 600);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 9855, 10015);
	kstream_release(&ks);
	timing_release(&t);
}

static void outside_1000(struct timing_config *c) { c->core.fault_outside_window_cycles = 1000; }

/*
 * core.fault_outside_window_cycles: a fault's window stays 3028, the core
 * is charged 3188 + 1000 = 4188, all of the extra outside the window
 * (fault_entry_exit_cycles 160 + 1000). The window still begins after the
 * entry alone (100 cycles, 50 ns). A system call is not charged it:
 * pinned_system_call's 1445.
 */
Test(timing, pinned_fault_outside_window_cycles)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096 };
	struct mimicos_response sys = { .type = MIMICOS_REQ_MPROTECT };
	struct timing t;
	struct kstream ks;

	pin_init_with(&t, outside_1000);
	kstream_init(&ks);
	ks_4k_fault(&ks);
	cr_assert_eq(timing_kernel_begin_ns(&t), 50);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 3028, 4188);
	cr_assert_eq(t.stats.fault_window_cycles, 3028);
	cr_assert_eq(t.stats.fault_entry_exit_cycles, 1160);
	cr_assert_eq(t.stats.fault_cycles, 4188);
	timing_release(&t);

	pin_init_with(&t, outside_1000);
	ks.nr = 0;
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 400);
	pin_kernel(&t, TIMING_KERNEL_SYSCALL, &sys, &ks, 1285, 1445);
	kstream_release(&ks);
	timing_release(&t);
}

static void cold_all(struct timing_config *c)
{
	c->core.first_touch_cycles_per_4k = 10000;
	c->core.cold_share = 1;
}

static void cold_none(struct timing_config *c)
{
	c->core.first_touch_cycles_per_4k = 10000;
	c->core.cold_share = 0;
}

/*
 * core.first_touch_cycles_per_4k with cold_share 1: every fault that
 * clears user data is cold and pays 10000 per 4 KiB cleared, inside the
 * window: 3028 + 10000 = 13028, charged 13188. A table page's clear (src
 * PGTABLE) is not user data: the zero-page fault's stream with one adds
 * nothing. cold_share 0: nobody pays.
 *   the zero-page fault: reads 684 (cold, its own timing), the table's
 *   ZERO at 0x20a000 as in the 4 KiB fault (1531), the PTE's store
 *   (5 / 4 = 1), INSNS 300 (450): 2666, charged 2826.
 */
Test(timing, pinned_first_touch_of_cold_faults)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096 };
	struct mimicos_response zp = { .type = MIMICOS_REQ_FAULT, .order = 0, .page_size = 4096,
				       .zero_page = 1 };
	struct timing t;
	struct kstream ks;

	kstream_init(&ks);
	ks_4k_fault(&ks);
	pin_init_with(&t, cold_all);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 13028, 13188);
	cr_assert_eq(t.stats.fault_window_cycles, 13028);
	timing_release(&t);

	pin_init_with(&t, cold_none);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &rs, &ks, 3028, 3188);
	timing_release(&t);

	pin_init_with(&t, cold_all);
	ks.nr = 0;
	ks_walk_va0(&ks, 0);
	ks_add(&ks, KSTREAM_ZERO, 0x20a000, 4096);	/* src PGTABLE: a table page */
	ks_add(&ks, KSTREAM_WRITE, 0x6028, 8);
	ks_add(&ks, KSTREAM_INSNS, 0, 300);
	pin_kernel(&t, TIMING_KERNEL_FAULT, &zp, &ks, 2666, 2826);
	kstream_release(&ks);
	timing_release(&t);
}

static void cold_half(struct timing_config *c)
{
	c->core.first_touch_cycles_per_4k = 1000;
	c->core.cold_share = 0.5;
}

/*
 * cold_share 0.5: which faults are cold is the run's seed's cold stream
 * (wl_rng_derive(seed, TIMING_COLD_STREAM)), one draw per fault that clears
 * user data, cold when its top 53 bits as a fraction are below the share.
 * 200 faults clearing 8 KiB each: each cold one's window is 2 * 1000
 * longer than the same fault's without the knob, the others' the same.
 */
Test(timing, pinned_cold_faults_follow_the_seed)
{
	struct mimicos_response rs = { .type = MIMICOS_REQ_FAULT, .order = 1, .page_size = 4096 };
	struct wl_rng rng;
	struct timing a, b;
	struct kstream ks;
	uint64_t cold = 0;

	kstream_init(&ks);
	ks_add(&ks, KSTREAM_ZERO, 0x20a000, 8192);
	ks.rec[0].src = KSTREAM_SRC_DATA;
	ks_add(&ks, KSTREAM_INSNS, 0, 100);
	pin_init(&a, false);
	pin_init_with(&b, cold_half);
	wl_rng_seed(&rng, wl_rng_derive(1, TIMING_COLD_STREAM));
	for (int i = 0; i < 200; i++) {
		uint64_t wa = timing_kernel(&a, TIMING_KERNEL_FAULT, &rs, &ks);
		uint64_t wb = timing_kernel(&b, TIMING_KERNEL_FAULT, &rs, &ks);
		bool c = (double)(wl_rng_next(&rng) >> 11) * 0x1p-53 < 0.5;

		cold += c;
		cr_assert_eq(wb - wa, c ? 2000 : 0, "fault %d", i);
	}
	cr_assert_gt(cold, 60);
	cr_assert_lt(cold, 140);
	kstream_release(&ks);
	timing_release(&a);
	timing_release(&b);
}

static void executor(struct timing_config *c)
{
	c->core.executor_cycles[WL_PAT_SEQUENTIAL] = 2;
	c->core.executor_cycles[WL_PAT_UNIFORM] = 3;
	c->core.executor_cycles[WL_PAT_ZIPF] = 5;
	c->core.executor_cycles[WL_PAT_CHASE] = 7;
}

/*
 * core.executor_cycles: an access in a phase of pattern p costs work 1 +
 * executor_cycles[p] before it issues (pinned_access_path_native's
 * latencies):
 *   zipf:  va0 cold, 1 + 5 + 681                   687
 *   none:  va0 again, 1 + 5                          6
 *   chase: va0 + 4 KiB, 1 + 7 + 109                117
 * 810 cycles, 405 ns at 2000 MHz.
 */
Test(timing, pinned_executor_cycles_by_pattern)
{
	struct timing t;

	pin_init_with(&t, executor);
	timing_set_pattern(&t, WL_PAT_ZIPF);
	pin_access(&t, PIN_VA0, 537, 681);
	cr_assert_eq(core_drain(&t.core), 687);
	timing_set_pattern(&t, -1);
	pin_access(&t, PIN_VA0, 1, 5);
	cr_assert_eq(core_drain(&t.core), 693);
	timing_set_pattern(&t, WL_PAT_CHASE);
	pin_access(&t, PIN_VA0 + 0x1000, 15, 109);
	cr_assert_eq(timing_now_ns(&t), 405);
	timing_release(&t);
}

/*
 * The driver gives the timing model each phase's pattern: executor cycles
 * for "sequential" leave the touch phase as it was and lengthen the
 * sequential access phase by at most 3 cycles per access (the core may
 * have waited for misses in that time anyway). fault_outside_window_cycles
 * of 800 lengthens the touch phase by 1024 * 800 cycles (204800 ns at
 * 4 GHz) and leaves every fault's latency as it was; the setup's mmap (a
 * system call) is not charged it.
 */
Test(timing, driver_charges_executor_cycles_and_time_outside_the_window)
{
	static const char text[] = "{\"name\": \"touch\", \"seed\": 5, " KERNEL("never") ", "
		"\"regions\": [{\"name\": \"buf\", \"size\": \"4MiB\"}], "
		"\"phases\": [{\"op\": \"touch\", \"region\": \"buf\"}, "
		"{\"op\": \"access\", \"region\": \"buf\", \"pattern\": \"sequential\", "
		"\"stride\": \"64B\", \"count\": 65536, \"write_fraction\": 0}]}";
	uint64_t touch_ns, touch_cycles, access_cycles, run_ns, lat[1024];
	const struct side_latencies *l;

	run_text(text);
	touch_ns = run.phases[0].runtime_ns;
	touch_cycles = run.phases[0].timing.cycles;
	access_cycles = run.phases[1].timing.cycles;
	run_ns = run.runtime_ns;
	cr_assert_eq(run.regions[0].latency.n, 1024);
	memcpy(lat, run.regions[0].latency.v, sizeof(lat));
	teardown();

	tc.core.executor_cycles[WL_PAT_SEQUENTIAL] = 3;
	tc.core.executor_cycles[WL_PAT_CHASE] = 100;	/* no chase phase: no effect */
	run_text(text);
	cr_assert_eq(run.phases[0].timing.cycles, touch_cycles);
	cr_assert_gt(run.phases[1].timing.cycles, access_cycles);
	cr_assert_leq(run.phases[1].timing.cycles - access_cycles, 3 * 65536);
	teardown();

	memset(tc.core.executor_cycles, 0, sizeof(tc.core.executor_cycles));
	tc.core.fault_outside_window_cycles = 800;
	run_text(text);
	l = &run.regions[0].latency;
	cr_assert_eq(l->n, 1024);
	for (size_t i = 0; i < l->n; i++)
		cr_assert_eq(l->v[i], lat[i], "fault %zu", i);
	cr_assert_eq(run.phases[0].runtime_ns - touch_ns, 204800);
	cr_assert_eq(run.phases[1].timing.cycles, access_cycles);
	cr_assert_eq(run.runtime_ns - run_ns, 204800);
}
