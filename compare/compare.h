/*
 * compare.h - the comparison engine: two sides of one workload (linux.json
 * from `virtuoso linux`, sim.json from `virtuoso sim`, each with its event
 * log), the divergence of the simulated world from Linux per mechanism, a
 * tolerance and a verdict per metric, and summary.json as
 * ../shared/spec/results.md defines it.
 *
 *   struct side	one side as read from DIR/{linux,sim}.json and its log
 *			(DIR/events.vlog, DIR/sim-events.vlog): counts per region
 *			and phase, each region's backing map, allocation orders,
 *			khugepaged's scan and collapse outcomes, TLB flushes,
 *			and per-fault records (time, address, latency) from the log
 *   struct tolerances	per metric: warn and fail thresholds (defaults in
 *			compare/tolerance.c, the one place; a JSON file overrides
 *			them, unknown keys refused)
 *   struct comparison	both sides, the metrics with values and verdicts, the
 *			results.md divergence fields, the overall verdict
 *
 * Reading: side_load() refuses a missing file, a truncated or malformed
 * one, a field of the wrong type, page classes ("pages", "backing") that do
 * not add up to the region or disagree with each other, a damaged event
 * log, with one line naming the file and the field (wl_error); a missing
 * log is no error. compare_sides() refuses sides of different workloads,
 * of different tool versions ("tool"; a side without one matches only
 * another without one), with region lists that do not match (names
 * and sizes) or phase lists that do not (count, ops), naming what differs.
 * The callers exit 2 on those.
 *
 * Metrics, each with a name (stable: tolerance files, reports and tests use
 * it), a scope ("all", a region's name, or a phase "phase N op"), the Linux
 * and simulated values, the divergence, the tolerance used and a verdict:
 *
 *   faults, thp_faults, huge_bytes, resident_bytes	(all and per region)
 *		relative error |sim - linux| / max(linux, 1)
 *   backing_agreement	(all and per region) fraction of 4 KiB pages whose
 *		class (none/zero/pte/pmd) is the same on both sides, page by
 *		page from the backing maps (the regions are at the same
 *		addresses in `virtuoso run`; a side without a map falls back to
 *		the class counts: sum over classes of min(linux, sim) / pages,
 *		an upper bound, and the metric says so in its note)
 *   runtime		relative error of total runtime_ns
 *   phase_faults, phase_runtime	(per phase, scope "phase I OP" with I from
 *		0, as the log's phase tags) relative errors
 *   alloc_orders	(all) total variation distance between the two
 *		normalised histograms of fault allocation orders (0..1)
 *   fault_latency_p50, fault_latency_p90, fault_latency_p99	(all)
 *		relative error of Linux's measured kernel latency quantile
 *		against MimicOS's simulated fault time, over the logs' faults
 *		in the regions during the phases whose latency is known
 *		(latency_ns > 0); NA without a log or a timing model
 *   fault_latency_wasserstein	(all) the 1-Wasserstein distance between
 *		the two latency distributions divided by Linux's median (so it
 *		is unitless); NA when a side has no latencies
 *   collapses		(all) relative error of khugepaged + MADV_COLLAPSE
 *		collapses that succeeded
 *   scan_results	(all) total variation distance between the
 *		histograms of khugepaged scan outcomes (by the kernel's names)
 *   tlb_flushes	(all) relative error of TLB flush events (all reasons
 *		but "flush on task switch")
 *
 * Verdicts: a divergence (or a distance) at or below warn passes, above
 * fail fails, between warns; for backing_agreement (higher is better) at or
 * above warn passes, below fail fails. NA: not measured on a side (no log,
 * no events of the kind on either side: 0 vs 0 is a pass, not NA). The
 * overall verdict is the worst of the metrics; NA never fails a run.
 */
#ifndef COMPARE_COMPARE_H
#define COMPARE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "linux-probes/backing.h"	/* enum page_class, page_class_name() */
#include "workload/error.h"
#include "workload/side.h"	/* struct side_backing_run */

#define SIDE_ORDERS	11		/* allocation orders 0..10 */

struct side_region {
	char *name;
	uint64_t start, size;
	uint64_t faults, thp_faults, huge_bytes, resident_bytes;
	uint64_t pages[PAGE_CLASS_NR];
	uint64_t alloc_orders[SIDE_ORDERS];	/* fault_alloc_orders */
	/*
	 * The region's pages at the end, in address order from start, as runs
	 * (the side's "backing" field); NULL when the side has none. The runs
	 * add up to size / 4096 pages.
	 */
	struct side_backing_run *backing;	/* workload/side.h's runs, as both sides write them */
	size_t nr_backing;
};

struct side_phase {
	char *op;			/* the workload's op name ("touch", "access", ...) */
	int region;			/* index into regions, -1 if the phase names none */
	uint64_t start_ns;		/* from the first phase's start (0 for phase 0) */
	uint64_t runtime_ns;
	uint64_t faults, thp_faults;
};

/* A histogram keyed by the kernel's names (scan results, TLB flush reasons). */
struct side_named_count {
	char *name;
	uint64_t count;
};

/* One user fault from the side's event log. */
struct side_fault {
	uint64_t t_ns;			/* from the first phase's start */
	uint64_t addr;
	uint64_t latency_ns;		/* Linux: measured; sim: simulated; 0 unknown */
	int region;			/* index into regions, -1 outside them */
	int phase;			/* index into phases, -1 outside them */
	uint8_t order;			/* of the folio it allocated (0 if none) */
	bool write, allocated;
};

struct side {
	char *path;			/* the JSON file read */
	char *workload;
	char *kind;			/* "linux" or "sim" (the file's "side") */
	char *version;			/* the tool's ("tool") */
	bool complete;
	uint64_t dropped_events;
	uint64_t runtime_ns;
	/*
	 * false when sim.json says "timing": "none" (virtuoso sim --functional:
	 * no timing model, so no runtime and no fault latency to compare)
	 */
	bool timed;
	struct side_region *regions;
	size_t nr_regions;
	bool has_alloc_orders;		/* every region has "fault_alloc_orders" */
	struct side_phase *phases;
	size_t nr_phases;
	/*
	 * khugepaged and MADV_COLLAPSE, from the file's "khugepaged" block or,
	 * without one, from the log's in-phase scan_pmd and collapse records;
	 * has_khugepaged false when neither is there
	 */
	bool has_khugepaged;
	struct side_named_count *scan_results;	/* khugepaged.scan_pmd */
	size_t nr_scan_results;
	struct side_named_count *collapse_results;	/* khugepaged.collapse */
	size_t nr_collapse_results;
	uint64_t collapses;		/* successful collapses (both contexts) */
	/*
	 * TLB flushes by reason (the file's "tlb_flushes", counts or {"count":
	 * n, ...} per reason; without it, the log's in-phase tlb_flush
	 * records). The total leaves out "flush on task switch": the
	 * scheduler's, not the workload's memory management.
	 */
	bool has_tlb_flushes;
	struct side_named_count *tlb_flushes;
	size_t nr_tlb_flushes;
	uint64_t tlb_flush_total;
	/* from the event log; nr_faults 0 and has_log false when there was none */
	bool has_log;
	struct side_fault *faults;
	size_t nr_faults;
	/* the parsed file, for what a report shows as is ("kernel", "config") */
	cJSON *json;
};

/*
 * Read DIR/<name> ("linux.json" or "sim.json") and, when present, its event
 * log beside it (the file's "events_log" or the side's default name). 0, or
 * -1 with err naming the file and the field. side_release() in both cases.
 */
int side_load(struct side *s, const char *dir, const char *name, struct wl_error *err);
void side_release(struct side *s);

/* ---- tolerances --------------------------------------------------------------- */

enum verdict { VERDICT_PASS, VERDICT_WARN, VERDICT_FAIL, VERDICT_NA };

/* "pass", "warn", "fail", "n/a" */
const char *verdict_name(enum verdict v);

struct tolerance {
	const char *metric;		/* a metric name above */
	double warn, fail;
	bool higher_is_better;		/* backing_agreement */
};

struct tolerances {
	struct tolerance *t;
	size_t nr;
};

/* The defaults (compare/tolerance.c). */
void tolerances_init(struct tolerances *tol);
/*
 * Override from a JSON file: {"faults": {"warn": 0.01, "fail": 0.05}, ...};
 * unknown metric or key, a non-number, warn beyond fail: -1 with err naming
 * the file and the field.
 */
int tolerances_load(struct tolerances *tol, const char *path, struct wl_error *err);
const struct tolerance *tolerance_find(const struct tolerances *tol, const char *metric);
void tolerances_release(struct tolerances *tol);

/* The verdict of 'value' under 't' (see "Verdicts" above); NAN is NA. */
enum verdict verdict_of(const struct tolerance *t, double value);

/* ---- distances (compare/distance.c) -------------------------------------------- */

/* |sim - linux| / max(linux, 1) */
double rel_error(double linux_value, double sim_value);

/*
 * Nearest-rank quantile of a sorted sample, as linux.json's fault_latency_ns
 * computes it (the value of rank ceil(q * n)); 0 for an empty sample.
 */
uint64_t sample_quantile(const uint64_t *sorted, size_t n, double q);

/*
 * 1-Wasserstein distance between two empirical distributions, from their
 * sorted samples: the integral over q in [0, 1] of |X^-1(q) - Y^-1(q)|, exact
 * (the quantile functions are steps at i/n and j/m). NAN if a sample is empty.
 */
double wasserstein1(const uint64_t *x, size_t n, const uint64_t *y, size_t m);

/*
 * Total variation distance between two histograms over the same n bins,
 * each normalised: half the sum of |p_i - q_i|, in [0, 1]. Two empty
 * histograms are 0 apart; an empty and a non-empty one 1.
 */
double tv_distance(const uint64_t *p, const uint64_t *q, size_t n);

/* ---- the comparison ------------------------------------------------------------ */

struct metric {
	char name[48];			/* as above */
	char scope[80];			/* "all", a region name, "phase 2 touch" */
	double linux_value, sim_value;	/* NAN where not a single number */
	double value;			/* the divergence, distance or agreement */
	double warn, fail;		/* the tolerance applied */
	bool higher_is_better;
	enum verdict verdict;
	char note[96];			/* "" or why NA, "from class counts", ... */
};

struct comparison {
	const struct side *linux_side, *sim_side;
	struct metric *metrics;
	size_t nr_metrics;
	enum verdict overall;
	bool complete;			/* both sides complete */
};

/*
 * Compare two loaded sides under 'tol'. 0, or -1 with err when the sides do
 * not belong together (workload, version, regions: the field named).
 */
int compare_sides(struct comparison *c, const struct side *linux_side,
		  const struct side *sim_side, const struct tolerances *tol,
		  struct wl_error *err);
void comparison_release(struct comparison *c);

/*
 * The metric 'name' of 'scope', or NULL. (A region named "all" shares its
 * scope with the whole: this finds the whole's.)
 */
const struct metric *comparison_find(const struct comparison *c, const char *name,
				     const char *scope);

/*
 * summary.json as results.md shows it: workload, complete, tool (when
 * known), the two sides (their files as read), divergence (faults,
 * thp_faults, huge_bytes, resident_bytes, backing_agreement, runtime,
 * regions{name: {faults, thp_faults, huge_bytes, resident_bytes,
 * backing_agreement}}), plus "metrics": [every metric, in the order above:
 * {name, scope, linux, sim, value, warn, fail, verdict, note}, null where
 * a value is NA or not a single number] and "verdict". Caller frees.
 */
cJSON *comparison_to_json(const struct comparison *c);

#endif
