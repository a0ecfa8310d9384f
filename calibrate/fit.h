/*
 * fit.h - the calibration fit: measurements.json (calibrate/measure.h) into
 * a complete simulator configuration for the host that was measured.
 *
 * Four ways a parameter is obtained, each recorded ("method"):
 *
 *   measured		what a microbenchmark isolates, taken directly:
 *			core.freq_mhz from the clock, zero and copy
 *			bandwidth from memset and memcpy, executor_cycles
 *			from the executor's ns per access times the clock
 *			less work_cycles, first_touch_cycles_per_4k from the
 *			cold write fault less the warm one, l1d.latency from
 *			the line chase's L1 plateau, mmu.stlb.latency from
 *			the page chase's STLB plateau (NOHUGEPAGE, more pages
 *			than the L1 TLB holds, fewer than half the STLB's,
 *			lines that stay in L1D), mimicos.cost.lru_add from
 *			the 4 KiB kind's period-31 excess (fault_latency
 *			anon_4k lru_batch_excess_ns_runs: the suite's spec
 *			simulated at two prices, the excess linear in it)
 *   grid		discrete choices, each candidate simulated: where the
 *			host counted the page chases' TLB events, each TLB's
 *			sets against them (cal_fit_tlb(): exact counts are
 *			stronger evidence than the latency's knees); each of
 *			L2's and the LLC's ways (2 to 56, the base's sets) and
 *			replacement (lru,
 *			srrip, random) against the line chase over its knee
 *			(L1 to 2 x L2, L2 to 16 x L2); in a guest, the host's
 *			page size (4 KiB or 2 MiB) against the page chase in
 *			both advices up to fit_chase_bytes; prefetch.degree
 *			(0, off, or 4: on; in time whatever its degree, the
 *			model tells only on from off) against the native
 *			executor's sequential on 64 MiB (native_large), then
 *			core.rob_cycles (0 to 2048) against its uniform and
 *			zipf there, by the squared log ratio
 *   search		l2.latency, llc.latency and dram.t_row_miss (t_row_hit
 *			and t_row_empty scaled with it, keeping the base's
 *			ratios): NLopt's LN_BOBYQA, bounded, a fixed number of
 *			evaluations, the simulator in the loop, minimising the
 *			squared log ratio of the simulated to the measured line
 *			chase at every point beyond L1 up to 64 MiB; the grids
 *			run before it (from the plateaus' guesses) and again
 *			after (grid_passes)
 *   least squares	linear cost models, the Jacobian by finite differences
 *			of the simulator, solved with bounds by projected
 *			Gauss-Seidel on the normal equations, twice:
 *			with fault_latency measured, mimicos.cost.fault,
 *			page_alloc, zero_page and tlb_flush against the p50 of
 *			the kernel's fault window of every kind measured (the
 *			suite's own spec simulated, each equation relative to
 *			its p50), then core.fault_outside_window_cycles against
 *			the probe-free wall time of the warm write_4k, zero_read
 *			and zero_cow faults; without it, the wall times alone
 *			against core.fault_outside_window_cycles,
 *			mimicos.cost.zero_page and mimicos.cost.tlb_flush
 *
 * The chases are simulated as the suite runs them: the loads alone (two
 * runs differing only in their number of loads, differenced: the build of
 * the links cancels), after one lap of the cycle (the caches hold what a
 * lap leaves). The page chase strides a page and a line, so slot i lies on
 * its own page at line i mod 64, as the suite's (7 i) mod 64 spreads them.
 *
 * Plateaus: for a cache of capacity C whose inner level holds C' (0 for
 * L1), the plateau is the largest point with 2 C' <= bytes <= C / 4 (L2)
 * or C / 2 (L1); with none, the largest point at most C. They start the
 * search; L1's is taken directly (two runs: the simulated chase is linear
 * in the latency).
 *
 * Everything is deterministic: fixed seeds (the specs'), fixed iteration
 * and evaluation limits, no clock read.
 */
#ifndef CALIBRATE_FIT_H
#define CALIBRATE_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calibrate/measure.h"
#include "simulator/config.h"
#include "workload/error.h"

struct cJSON;

/*
 * Read measurements.json's tree into r: what the fit uses is required
 * (format, date, host.cpu vendor, family and model, clock, line_chase.points, bandwidth, native,
 * faults' write_4k, zero_read, zero_cow, warm); the rest is optional. 0, or
 * -1 with err naming 'file' and the field ("clock.cycles_per_ns.median").
 */
int cal_results_from_json(struct cal_results *r, const struct cJSON *root, const char *file,
			  struct wl_error *err);

#define CAL_FIT_MAX_PARAMS	48

struct cal_param {
	char name[64];		/* the configuration's key: "core.freq_mhz" */
	const char *unit;
	double value, lo, hi;
	const char *method;	/* "measured", "least squares", "search" */
	char explains[96];	/* the measurement it explains */
	bool has_residual;
	double measured, modelled;	/* that measurement, and the fitted model's */
};

struct cal_fit_opts {
	unsigned max_evals;	/* the search's simulator evaluations */
	uint64_t chase_loads;	/* loads per simulated chase */
	uint64_t fault_pages;	/* 4 KiB faults per simulated fault run */
	uint64_t max_chase_bytes;	/* page chases beyond are not simulated; 0: all */
	uint64_t fit_chase_bytes;	/* nor fitted to (each costs its whole buffer) */
	unsigned grid_passes;	/* the caches' grids: before the search, and after (2) */
};

/* 24 evaluations, 8192 loads, 2048 faults, page chases fitted up to 256 MiB. */
void cal_fit_opts_init(struct cal_fit_opts *o);

/*
 * The TLBs' geometry: fitted to the page chases' counted TLB events where
 * the host counted them ('counted'), else the base's, 'why' saying why.
 * Both readings of each reach, for the report: the counted one (the first
 * point where half the loads missed) and the latency curve's knee (the
 * largest rise of ns per load), beside the entries fitted and the base's.
 */
struct cal_tlb_fit {
	bool counted;
	char why[160];
	uint64_t l1_entries, base_l1_entries, l1_counted_knee, l1_latency_knee;
	uint64_t stlb_entries, base_stlb_entries, stlb_counted_knee, stlb_latency_knee;
	/* the PD page-walk cache, against counted walk cycles where there are any */
	bool pwc_counted;
	char pwc_why[160];
	uint64_t pwc_entries, base_pwc_entries;
};

struct cal_fit {
	struct sim_config cfg;	/* the fitted configuration, calibration filled */
	struct cal_param param[CAL_FIT_MAX_PARAMS];
	size_t nr_param;
	unsigned evals;		/* simulator runs, all steps */
	struct cal_fit_opts opts;	/* what it ran with: the report simulates alike */
	struct cal_tlb_fit tlb;
};

/*
 * The TLBs' geometry step of cal_fit(), on f->cfg (f->opts set): where r
 * has counted TLB events per load, the 4 KiB L1 DTLB's sets (or the
 * unified L1's) against the nohugepage points' first-level misses per load
 * up to 4096 pages, the STLB's against their walks per load, the 2 MiB
 * L1's against the hugepage points' first-level misses where THP backed
 * them, then the PD page-walk cache's against the counted walk cycles per
 * walk of the points where most loads walk (Intel counts them, AMD does
 * not: f->tlb.pwc_why); each a grid of powers of two at the base's ways,
 * simulated as the suite's chases are (the loads' events of two runs
 * differenced; squared differences per load, squared log ratios of the
 * cycles). Where r has none, f->tlb.why says why and the geometry stays.
 * 0, or -1 with err.
 */
int cal_fit_tlb(struct cal_fit *f, const struct cal_results *r, struct wl_error *err);

/*
 * Fit 'base' (the geometry and every value not fitted) to r. 'source' goes
 * into cfg.calibration.source. 0, or -1 with err set (a failed simulation,
 * a measurement out of range).
 */
int cal_fit(struct cal_fit *f, const struct cal_results *r, const struct sim_config *base,
	    const struct cal_fit_opts *o, const char *source, struct wl_error *err);

/* calibration.json: every parameter, its value, unit, bounds, method, residual. */
struct cJSON *cal_fit_to_json(const struct cal_fit *f, const struct cal_results *r);

/*
 * The forward model: what the suite would measure on a host the simulator
 * configured by cfg models, at the sizes r already lists (line chase
 * points; page chase points with every TLB event counted, as a PMU
 * would); the clock, bandwidths, native executor and warm faults are
 * filled, cold faults equal to warm plus first_touch_cycles_per_4k, the
 * large-region native points when r gives their size and accesses, and
 * the 4 KiB kind's lru_add excess (its quantiles left unmeasured: the
 * windows' fit would need every kind). The host part is left as it is. 0, or -1 with err set.
 */
int cal_simulate(struct cal_results *r, const struct sim_config *cfg,
		 const struct cal_fit_opts *o, struct wl_error *err);

#endif
