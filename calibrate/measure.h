/*
 * measure.h - the calibration measurement suite: microbenchmarks run natively
 * in this process, whose results a later fit turns into the simulator's and
 * MimicOS's cost parameters for this host.
 *
 * What is measured (calibrate/README.md gives the JSON schema):
 *
 *   clock		a chain of dependent register adds, one cycle each on
 *			every x86 core since the P6: adds per ns is the
 *			effective core clock in cycles per ns
 *   line chase		one 64 B line per step, in a random cyclic order, over
 *			buffers from 16 KiB to 256 MiB: ns per load through
 *			L1, L2, the LLC and DRAM
 *   page chase		one line per 4 KiB page (its offset within the page
 *			varied so the lines do not fall into one cache set),
 *			random cyclic order, from 8 pages to 1 GiB, once over
 *			a buffer madvised MADV_NOHUGEPAGE and once
 *			MADV_HUGEPAGE; the THP backing obtained is read from
 *			/proc/self/smaps (AnonHugePages); where the host's
 *			PMU counts them, the data-TLB events per load
 *			(linux-probes/counters.h on this process: STLB hits,
 *			walks by page size, walk cycles)
 *   bandwidth		memset and memcpy of pre-faulted buffers larger than
 *			the LLC, GB/s (10^9 bytes per second)
 *   native		the native executor (workload/native.h) on a 64 KiB
 *			region, per access pattern: ns per access
 *   faults		wall time per fault from user space, no probes: 4 KiB
 *			write, zero-page read, copy of the zero page on write,
 *			2 MiB THP write; cold (memory this process never
 *			touched, taken after the hypervisor had time to take
 *			freed memory back) and warm (touched, unmapped, faulted
 *			again at once)
 *
 *   fault_latency	the kernel's own latency per fault, inside the fault's
 *			window as the BPF probes time it, per fault kind
 *			(latency_specs.h): not measured here (calibrate/ runs
 *			no probes) but by virtuoso calibrate, which runs each
 *			kind's spec on Linux and classifies its faults as the
 *			comparison does, into struct cal_latency
 *
 * Each measurement runs 'warmup' times discarded, then 'repeat' times kept;
 * a cal_stat gives their median, min, max and spread. Cold faults have no
 * warm-up run: a warm-up would make them warm.
 *
 * Nothing here changes kernel settings: a fault kind the host's THP settings
 * do not allow is skipped, with the reason in the results.
 */
#ifndef CALIBRATE_MEASURE_H
#define CALIBRATE_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calibrate/latency_specs.h"
#include "linux-probes/hostid.h"
#include "simulator/config.h"
#include "workload/tlbev.h"
#include "workload/error.h"
#include "workload/spec.h"

#define CAL_REPEAT_DEFAULT	5
#define CAL_WARMUP_DEFAULT	1
#define CAL_REPEAT_MAX		100

/* The median, extremes and relative spread ((max - min) / median) of the kept runs. */
struct cal_stat {
	double median, min, max, spread;
};

/* Fill s from v[0..n) (reordered); n >= 1. */
void cal_stat_of(struct cal_stat *s, double *v, size_t n);

/* The patterns of native_large_ns_per_access[], in order. */
#define CAL_NATIVE_LARGE_PATTERNS { WL_PAT_SEQUENTIAL, WL_PAT_UNIFORM, WL_PAT_ZIPF }
#define CAL_NATIVE_LARGE_NR	3
#define CAL_NATIVE_LARGE_BYTES	(64ull << 20)

/*
 * The large-region native spec: 'bytes' on 4 KiB pages (nohugepage: the
 * same on every host's THP setting), touched, then 'accesses' of 'pattern'
 * with a 64 B stride (zipf_s 1.1, as the dataset's access-mix), seed 17;
 * the timed phase is 1. Its length, or -1 if buf is too small.
 */
int cal_native_large_spec(char *buf, size_t len, int pattern, uint64_t bytes, uint64_t accesses);

/*
 * What one fault in 'period' pays beyond the others, from a series of fault
 * latencies in program order: the residue modulo period whose faults have
 * the highest mean, and the median of its faults less the median of all of
 * them. A batch that fills every period faults (Linux's lru_add) shows as
 * one residue far above the rest; noise, as a few ns. NAN with fewer than
 * 8 periods of faults. *residue (may be NULL): the residue found.
 */
double cal_periodic_excess(const uint64_t *v, size_t n, unsigned period, unsigned *residue);

struct cal_opts {
	unsigned repeat;	/* kept runs per measurement, 1..CAL_REPEAT_MAX */
	unsigned warmup;	/* discarded runs before them */
	bool quick;		/* smaller sizes, fewer loads: well under a minute */
	uint64_t seed;		/* the chases' orders */
	const char *thp_root;	/* THP sysfs (NULL: WL_THP_SYSFS) */
	/* Called before each step: 'done' of 'total' steps, 'what' starts now. */
	void (*progress)(void *ctx, unsigned done, unsigned total, const char *what);
	void *ctx;
	/*
	 * Steps the caller runs after cal_measure() returns (the fault
	 * latencies), counted in the progress total; with any, the caller
	 * makes the last progress call (done == total), not cal_measure()
	 */
	unsigned extra_steps;
};

/* repeat and warmup the defaults, quick off, a fixed seed. */
void cal_opts_init(struct cal_opts *o);

#define CAL_MAX_SIZES 24

struct cal_chase_point {
	uint64_t bytes;		/* the buffer's span */
	uint64_t pages;		/* page chase: 4 KiB pages visited */
	uint64_t anon_huge_kib;	/* page chase: AnonHugePages of the buffer after it */
	struct cal_stat ns_per_load;
	/*
	 * Page chase: what the host's PMU counted per load over every run of
	 * the point (warm-up included: each goes round the same cycle), by
	 * workload/tlbev.h's events; bit ev of tlb_counted set where counted
	 */
	unsigned tlb_counted;
	double tlb_per_load[TLB_EV_NR];
};

enum cal_fault_kind { CAL_FAULT_WRITE_4K, CAL_FAULT_ZERO_READ, CAL_FAULT_ZERO_COW,
		      CAL_FAULT_THP_2M, CAL_FAULT_NR };
enum cal_memory { CAL_COLD, CAL_WARM, CAL_MEMORY_NR };

struct cal_fault {
	bool measured;
	char skipped[160];	/* why not, when not measured */
	uint64_t faults;	/* per run */
	uint64_t anon_huge_kib;	/* THP kind: AnonHugePages of the last run's region */
	struct cal_stat us_per_fault;
};

/*
 * One fault kind's kernel latency (measurements.json "fault_latency"): over
 * the Linux runs of the kind's spec (those kept: 'runs'), the faults of the kind in its timed
 * phase. The quantiles and the mean pool every run's warm faults whose
 * latency is known (cold ones are left out as the comparison leaves them
 * out: compare.h FAULT_COLD_FACTOR); p50_ns_runs and p90_ns_runs are the
 * spread of each run's own quantile over the runs.
 */
struct cal_latency {
	bool measured;
	char skipped[160];	/* why not, when not measured */
	char spec[64];		/* the spec's name (latency_specs.h) */
	unsigned runs;		/* the runs kept */
	/*
	 * Runs left out: a probe's measured cost stretched by a stall, which
	 * the loader would take off every fault of the run
	 */
	unsigned runs_left_out;
	uint64_t faults;	/* of the kind in the timed phase, the runs kept */
	uint64_t cold;		/* of them, left out as cold */
	uint64_t other;		/* timed-phase faults of other kinds, the runs kept */
	double p50_ns, p90_ns, p99_ns, mean_ns;
	struct cal_stat p50_ns_runs, p90_ns_runs;
	/*
	 * The lru_add batch's share of the tail (mimicos/swap.h): each run's
	 * cal_periodic_excess() of its faults in order with the period
	 * FOLIO_BATCH_SIZE; has_lru_batch false when no run had faults enough.
	 * Only the kinds that add one order-0 folio per fault have it.
	 */
	bool has_lru_batch;
	struct cal_stat lru_batch_excess_ns_runs;
};

/* How "fault_latency" was measured, for measurements.json's "method". */
#define CAL_LATENCY_METHOD "virtuoso linux's BPF fault windows (probe cost taken off), " \
	"faults classified as virtuoso compare does, cold ones left out; nearest-rank quantiles"

/*
 * TLB-flush cross-calls (cal_shootdown_spec()), measured by virtuoso
 * calibrate under the probes (cli/cal_latency.h: cli_cal_shootdown()):
 * over the runs, how many ran and their mean time on the target CPU
 * (csd_function_entry to exit), and how many flushes waited for theirs and
 * their mean wait (the IPI send to the end of the last cross-call).
 */
struct cal_shootdown {
	bool measured;
	char skipped[160];		/* why not, when not measured */
	unsigned runs;
	uint64_t cross_calls, waits;
	double handle_ns, wait_ns;
};

#define CAL_SHOOTDOWN_METHOD "virtuoso linux's csd tracepoints on cal-shootdown: a " \
	"cross-call's time on its target, and a flush's from its IPI send to the end of its last " \
	"cross-call; means over the runs"

struct cal_results {
	/* the host */
	struct hostid host;
	char kernel_release[65], kernel_version[65];
	struct wl_kernel thp;		/* the host's THP settings, resolved */
	uint64_t llc_bytes;		/* 0 when sysfs does not say */
	char date[32];			/* UTC, ISO 8601 */
	struct cal_opts opts;

	struct cal_stat cycles_per_ns;

	struct cal_chase_point line[CAL_MAX_SIZES];
	size_t nr_line;
	uint64_t line_loads;		/* loads per timed run */

	struct cal_chase_point page[2][CAL_MAX_SIZES];	/* [0] nohugepage, [1] hugepage */
	size_t nr_page;
	uint64_t page_loads;
	/*
	 * The page chases' TLB counters (linux-probes/counters.h, on this
	 * process): has_tlb_counts when any point counted an event, else
	 * tlb_why says why none did ("no hardware PMU (perf_event_open:
	 * ENOENT)")
	 */
	bool has_tlb_counts;
	char tlb_why[160];

	uint64_t bw_bytes;
	struct cal_stat memset_gb_per_s, memcpy_gb_per_s;

	uint64_t native_region_bytes, native_accesses;
	struct cal_stat native_ns_per_access[4];	/* by enum wl_pattern */
	/*
	 * The native executor on a region beyond the LLC and the STLB's
	 * reach (cal_native_large_spec()): sequential tells what the
	 * prefetcher hides (prefetch.degree); uniform and zipf, whose work per
	 * access differs tenfold, how many misses the core overlaps
	 * (core.rob_cycles). has_native_large false in older files.
	 */
	bool has_native_large;
	uint64_t native_large_bytes, native_large_accesses;
	struct cal_stat native_large_ns_per_access[CAL_NATIVE_LARGE_NR];	/* sequential, uniform, zipf */

	struct cal_fault fault[CAL_FAULT_NR][CAL_MEMORY_NR];
	double cold_wait_s;		/* slept before the cold faults */

	/*
	 * The host's geometry as virtuoso hwinfo reads it (caches, TLBs,
	 * nested paging on a guest): the fit's base when no --config is
	 * given, so that a file refits alike on any machine
	 */
	bool has_geometry;
	struct sim_config geometry;
	/* by enum cal_lat_kind; cal_measure() marks each "not measured" */
	struct cal_latency latency[CAL_LAT_NR];
	unsigned latency_runs;		/* Linux runs per kind (0: none made) */
	struct cal_shootdown shootdown;	/* not measured in older files */
};

/* "write_4k", "zero_read", "zero_cow", "thp_2m"; "cold", "warm". */
const char *cal_fault_name(enum cal_fault_kind k);
const char *cal_memory_name(enum cal_memory m);

/*
 * Run the whole suite into r. Returns 0, or -1 with err set (a failed mmap
 * or an unreadable THP sysfs): nothing in r is then to be used.
 */
int cal_measure(struct cal_results *r, const struct cal_opts *o, struct wl_error *err);

/* The results as measurements.json's tree (calibrate/README.md); NULL when out of memory. */
struct cJSON;
struct cJSON *cal_results_to_json(const struct cal_results *r, const char *tool_version);

#endif
