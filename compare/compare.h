/*
 * compare.h - the comparison engine: two sides of one workload (linux.json
 * from `virtuoso linux`, sim.json from `virtuoso sim`, each with its event
 * log), the divergence of the simulated world from Linux per mechanism, a
 * tolerance and a verdict per metric, and summary.json as
 * docs/results-format.md defines it.
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
 *			contract's divergence fields, the overall verdict
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
 *   runtime		(timing) ratio error max(sim/linux, linux/sim) - 1 of the
 *		total runtime_ns, from the nearest edge of Linux's band
 *   phase_faults	(per phase, scope "phase I OP" with I from 0, as the
 *		log's phase tags) relative error
 *   phase_runtime	(timing, per phase) ratio error from the band
 *   alloc_orders	(all) total variation distance between the two
 *		normalised histograms of fault allocation orders (0..1)
 *   faults_by_kind	(per fault kind) relative error of the count
 *   fault_latency_p50, fault_latency_p90, fault_latency_p99	(timing, per
 *		fault kind; "all": information) ratio error of Linux's measured
 *		kernel latency quantile against MimicOS's simulated one, over
 *		the logs' warm faults of the kind in the regions during the
 *		phases whose latency is known (latency_ns > 0); NA without a
 *		log or a timing model
 *   fault_latency_wasserstein	(timing, per kind; "all": information) the
 *		1-Wasserstein distance to the nearest Linux run, less the
 *		largest between Linux's runs, over Linux's median (unitless)
 *   cold_faults	(information, per kind) Linux's share of cold faults
 *   fault_time_share	(information, per phase) ratio error of the share
 *		of the phase inside fault latency windows
 *   collapses		(all) relative error of khugepaged + MADV_COLLAPSE
 *		collapses that succeeded
 *   scan_results	(information) total variation distance between the
 *		histograms of khugepaged scan outcomes (by the kernel's names)
 *   tlb_flushes	(all) relative error of TLB flush events (all reasons
 *		but "flush on task switch")
 *   tlb_l1_misses, tlb_stlb_hits, tlb_walks, tlb_walks_4k, tlb_walks_2m,
 *   tlb_walks_1g	(TLB, per phase with accesses, scope "phase I OP
 *		(loads)" by the accesses the host's counter counts) the
 *		hardware counters' growth (workload/tlbev.h) against the
 *		simulated MMU's counts of the same meaning, relative error
 *		with a floor: |sim - linux| / max(linux, 1% of the phase's
 *		accesses of that scope), from the nearest edge of Linux's
 *		band; l1 misses are STLB hits plus walks on both sides
 *   tlb_walk_cycles	(TLB, per phase) walk cycles per access, ratio error
 *		The TLB metrics are n/a, with the reason, where the host has
 *		no counter for the event (no PMU: "no hardware PMU
 *		(perf_event_open: ENOENT)"), the counter never ran in the
 *		phase, or the simulated side ran untimed; never 0 in its place.
 *
 * Verdicts: a divergence (or a distance) at or below warn passes, above
 * fail fails, between warns; for backing_agreement (higher is better) at or
 * above warn passes, below fail fails. NA: not measured on a side (no log,
 * no events of the kind on either side: 0 vs 0 is a pass, not NA).
 * Unstable: Linux's runs disagree on a count and the simulated value is
 * inside their range (not for the TLB's hardware counts, which always
 * differ from run to run: inside their band is a pass). The functional
 * verdict is the worst of the functional metrics, the timing verdict of
 * the timing ones, the TLB verdict of the TLB ones, the overall verdict
 * the worst of the three; NA, unstable and information never fail a run.
 */
#ifndef COMPARE_COMPARE_H
#define COMPARE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "workload/error.h"
#include "workload/side.h"	/* enum page_class, page_class_name(), struct side_backing_run */
#include "workload/tlbev.h"	/* the TLB events both sides count */

#define SIDE_ORDERS	11		/* allocation orders 0..10 */
#define COMPARE_MAX_RUNS 32		/* Linux runs one comparison takes */

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

/*
 * A phase's data-TLB events (workload/tlbev.h) by the accesses they count.
 * Linux: its hardware counters' growth, each under the event and scope of
 * the candidate that opened (counter_events), scaled for multiplexing;
 * sim: the MMU's counts of loads and of stores, and their sum. NAN where
 * the side did not measure it.
 */
struct side_tlb {
	double n[TLB_SCOPE_NR][TLB_EV_NR];
	/* Linux: the share of the phase the counter ran (1: not multiplexed) */
	double running[TLB_SCOPE_NR][TLB_EV_NR];
	/* sim: user accesses of each scope (NAN on Linux: not counted) */
	double accesses[TLB_SCOPE_NR];
};

struct side_phase {
	char *op;			/* the workload's op name ("touch", "access", ...) */
	struct side_tlb tlb;
	int region;			/* index into regions, -1 if the phase names none */
	uint64_t start_ns;		/* from the first phase's start (0 for phase 0) */
	uint64_t runtime_ns;
	uint64_t probe_free_ns;		/* Linux: the phase in a run without probes; 0 none */
	uint64_t faults, thp_faults;
};

/* A histogram keyed by the kernel's names (scan results, TLB flush reasons). */
struct side_named_count {
	char *name;
	uint64_t count;
};

/*
 * Faults by what the kernel did for them, one list for the enum, the names
 * (stable: metric scopes, reports, tests) and the descriptions. Classified
 * from the event log alone, the same way on both sides (compare/faultkind.c):
 *
 *	anon_4k		not present, an order-0 folio allocated (a write, or a
 *			read without the zero page)
 *	zero_read	a read, not present, nothing allocated, the 4 KiB zero
 *			page mapped
 *	zero_cow	a write to a present (zero) page, an order-0 folio
 *			allocated
 *	huge_zero_read	a read, not present, nothing allocated, the huge zero
 *			page PMD-mapped
 *	huge_zero_write	a write to a present page with a 2 MiB folio allocated
 *			(6.18 replaces the huge zero page by a THP)
 *	thp		not present, a 2 MiB folio allocated
 *	mthp_16k..1m	not present, a folio of order 2..8 allocated
 *	other		failed, spurious, or a protection fault that allocates
 *			nothing (write-protect reuse, mprotect upgrades)
 */
#define FAULT_KINDS(X)								\
	X(anon_4k,		"4 KiB anonymous page")				\
	X(zero_read,		"read of the zero page")			\
	X(zero_cow,		"write to the zero page (COW)")			\
	X(huge_zero_read,	"read of the huge zero page")			\
	X(huge_zero_write,	"write to the huge zero page")			\
	X(thp,			"2 MiB THP")					\
	X(mthp_16k,		"16 KiB mTHP")					\
	X(mthp_32k,		"32 KiB mTHP")					\
	X(mthp_64k,		"64 KiB mTHP")					\
	X(mthp_128k,		"128 KiB mTHP")					\
	X(mthp_256k,		"256 KiB mTHP")					\
	X(mthp_512k,		"512 KiB mTHP")					\
	X(mthp_1m,		"1 MiB mTHP")					\
	X(other,		"other (protection, spurious, failed)")

enum fault_kind {
#define FAULT_KIND_ENUM(name, desc) FAULT_##name,
	FAULT_KINDS(FAULT_KIND_ENUM)
#undef FAULT_KIND_ENUM
	FAULT_KIND_NR
};

/* "anon_4k", ...; NULL past the end */
const char *fault_kind_name(unsigned kind);
/* "4 KiB anonymous page", ... */
const char *fault_kind_desc(unsigned kind);

/*
 * A Linux fault is cold when its latency is more than FAULT_COLD_FACTOR
 * times the lower quartile of its kind in its run (the simulated world has
 * no cold memory): on a guest, the first touch of
 * memory the hypervisor has not backed (or took back through free page
 * reporting) costs host faults, 10 to 50 times a warm fault (4 KiB: 1.2 us
 * warm, 14 us cold; THP: 230 us warm, 3-13 ms cold), while the warm tail
 * of a kind (interrupts, cache misses) stays within 4 times its lower
 * quartile. The quartile, not the median, so that up to three faults in
 * four may be cold and still be found.
 */
#define FAULT_COLD_FACTOR	5

/* One user fault from the side's event log. */
struct side_fault {
	uint64_t t_ns;			/* from the first phase's start */
	uint64_t addr;
	/*
	 * Linux: measured, less the probes' own work inside the window where
	 * the side says what that costs (probe_ns); sim: simulated; 0 unknown
	 */
	uint64_t latency_ns;
	uint64_t probe_ns;		/* taken off latency_ns: the probes' in-window cost */
	int region;			/* index into regions, -1 outside them */
	int phase;			/* index into phases, -1 outside them */
	int thread;			/* a spec with threads: whose, -1 unknown */
	uint8_t order;			/* of the folio it allocated (0 if none) */
	uint8_t kind;			/* enum fault_kind */
	uint8_t nr_allocs, nr_rss;	/* page allocations and rss_stat firings inside it */
	bool write, allocated;
	bool present;			/* error_code's P bit (X86_PF_PROT): a present entry refused it */
	bool completed;
	bool cold;			/* see FAULT_COLD_FACTOR */
};

/*
 * A range the workload's system calls unmapped or zapped (munmap, mremap's
 * old range, MAP_FIXED, MADV_DONTNEED/FREE/REMOVE), before fault number
 * 'before' of the log: what a fault left mapped there is gone after it.
 */
struct side_zap {
	size_t before;
	uint64_t start, end;
};

/*
 * Give every fault of s its kind (from the records in log order, the zaps
 * between them, and the regions' backing at the end) and mark the cold
 * ones. side_load() does it; exposed for tests.
 */
struct side;
void fault_kinds_classify(struct side *s, const struct side_zap *zaps, size_t nr_zaps);
/* Mark the cold faults of s again (after its latencies changed). */
void fault_mark_cold(struct side *s);

struct side {
	char *path;			/* the JSON file read */
	char *workload;
	char *kind;			/* "linux" or "sim" (the file's "side") */
	char *version;			/* the tool's ("tool") */
	bool complete;
	uint64_t dropped_events;
	uint64_t runtime_ns;
	uint64_t probe_free_ns;		/* Linux: runtime_ns of a run without probes; 0 none */
	/*
	 * Linux: what one run of each probe that fires inside a fault's
	 * latency window costs, ns (probes.probe_cost_ns plus what the
	 * run-time statistics add to each, probes.stats_overhead_ns); NAN
	 * unknown. The loader takes it off each fault's latency.
	 */
	double probe_alloc_ns, probe_rss_ns, probe_tlb_ns;
	/*
	 * false when sim.json says "timing": "none" (virtuoso sim --functional:
	 * no timing model, so no runtime and no fault latency to compare)
	 */
	bool timed;
	/*
	 * sim.json's "calibrated": the configuration came from a calibration
	 * of this host (false when the file does not say, and for Linux)
	 */
	bool calibrated;
	uint64_t first_phase_ns;	/* the first phase's start_ns as the file has it */
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
	/*
	 * The simulated side replayed a recorded command ("replay"): its
	 * flushes are only those of the anonymous memory MimicOS replays
	 */
	bool replayed;
	struct side_named_count *tlb_flushes;
	size_t nr_tlb_flushes;
	uint64_t tlb_flush_total;
	/*
	 * The same flushes by the CPU they ran on, named by its number, task
	 * switches left out (the file's "tlb_flushes_by_cpu", else the log's
	 * records of the workload's sources)
	 */
	struct side_named_count *tlb_by_cpu;
	size_t nr_tlb_by_cpu;
	/*
	 * TLB-flush cross-calls for its mm ("tlb_ipis" {sent, received}, else
	 * the log's in-phase ipi records); has_tlb_ipis false without either
	 */
	bool has_tlb_ipis;
	uint64_t tlb_ipis_sent, tlb_ipis_received;
	/* their time: on the targets, and the initiators' waits ("received_ns", "waits", "wait_ns"; 0 unknown) */
	uint64_t tlb_ipis_received_ns, tlb_ipis_waits, tlb_ipis_wait_ns;
	/*
	 * A spec with threads: each one's faults and tid ("threads":
	 * [{"faults", "tid"}]; the simulated side's tids are the threads'
	 * numbers), 0 threads without
	 */
	uint64_t *thread_faults;
	uint64_t *thread_tids;
	int64_t *thread_cpus;		/* -1 unknown */
	size_t nr_threads;
	/*
	 * From the event log, the workload's flushes in its phases and the
	 * IPIs they sent, in log order (the report's timeline): t_ns from the
	 * first phase's start, the CPU (VT_CPU_UNKNOWN in older logs), the
	 * kernel's reason
	 */
	struct side_flush {
		uint64_t t_ns;
		uint32_t cpu;
		int32_t reason;
	} *flushes;
	size_t nr_flushes;
	/*
	 * TLB events: has_tlb when the side says anything of them (Linux:
	 * "counter_events"; sim: a timed run's "tlb_events"); tlb_why[ev] is
	 * why event ev was not counted at all (Linux: the counter's
	 * "unsupported" reason, or "perf's generic event ..."), NULL when some
	 * scope of it was
	 */
	bool has_tlb;
	char *tlb_why[TLB_EV_NR];
	/* from the event log; nr_faults 0 and has_log false when there was none */
	bool has_log;
	struct side_fault *faults;
	size_t nr_faults;
	/* the parsed file, for what a report shows as is ("kernel", "config") */
	cJSON *json;
};

/*
 * Read DIR/<name> ("linux.json", "linux-2.json", ... or "sim.json") and,
 * when present, its event log beside it (the file's "events_log", which
 * must name a file in DIR, or the side's default name). A name starting
 * with "linux" or "sim" must hold that side; no object may repeat a key.
 * 0, or -1 with err naming the file and the field. side_release() in both
 * cases.
 */
int side_load(struct side *s, const char *dir, const char *name, struct wl_error *err);
void side_release(struct side *s);

/* ---- tolerances --------------------------------------------------------------- */

/*
 * VERDICT_UNSTABLE: Linux's own runs disagree on a count and the simulated
 * value lies inside their range, so the metric cannot blame either side;
 * like NA it never fails a run, but the report lists it.
 */
enum verdict { VERDICT_PASS, VERDICT_WARN, VERDICT_FAIL, VERDICT_NA, VERDICT_UNSTABLE };

/* "pass", "warn", "fail", "n/a", "unstable" */
const char *verdict_name(enum verdict v);

/*
 * What a metric checks: the functional verdict (counts, backing, orders,
 * collapses, flushes), the timing verdict (runtimes, latency quantiles by
 * fault kind), or nothing (information: the all-faults latency mix, the
 * cold share), shown with a verdict that counts toward neither.
 */
enum metric_class { METRIC_FUNCTIONAL, METRIC_TIMING, METRIC_TLB, METRIC_INFO };

/* "functional", "timing", "tlb", "info" */
const char *metric_class_name(enum metric_class k);

struct tolerance {
	const char *metric;		/* a metric name above */
	double warn, fail;
	bool higher_is_better;		/* backing_agreement */
	enum metric_class klass;
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
 * The timing error, the same for too fast and too slow: max(sim / linux,
 * linux / sim) - 1, so 3x too fast and 3x too slow are both 2. 0 when the
 * two are equal (0 and 0 included), INFINITY when only one is 0.
 */
double ratio_error(double linux_value, double sim_value);

/*
 * Against Linux's band [lo, hi] of repeated runs: 0 inside it, else the
 * error from its nearest edge (err: rel_error or ratio_error).
 */
double band_error(double lo, double hi, double sim_value, double (*err)(double, double));

/*
 * How a suite's simulated values follow Linux's, over n pairs (x: Linux, y:
 * simulated): Pearson's r of the logarithms (the values span orders of
 * magnitude: a 2 ms phase and a 200 ms one weigh alike), and Kendall's
 * tau-b of the two rankings (ties counted out, as tau-b does). NAN with
 * fewer than 2 pairs, a value that is not positive (r), or no variation.
 */
double pearson_log_r(const double *x, const double *y, size_t n);
double kendall_tau_b(const double *x, const double *y, size_t n);

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
	/*
	 * Linux's value is the median of its runs, linux_lo..linux_hi their
	 * range (equal to it for one run); NAN where not a single number
	 */
	double linux_value, sim_value;
	double linux_lo, linux_hi;
	unsigned linux_runs;		/* runs that gave a value */
	double value;			/* the divergence, distance or agreement */
	double warn, fail;		/* the tolerance applied */
	bool higher_is_better;
	enum metric_class klass;
	enum verdict verdict;
	char note[128];			/* "" or why NA, "from class counts", ... */
};

struct comparison {
	const struct side *linux_side, *sim_side;	/* linux_side: the first run */
	const struct side *const *linux_runs;		/* every Linux run, the first first */
	size_t nr_linux_runs;
	struct metric *metrics;
	size_t nr_metrics;
	/*
	 * the worst of the functional metrics, of the timing metrics, of the
	 * TLB metrics, of all three
	 */
	enum verdict functional, timing, tlb, overall;
	bool complete;			/* both sides complete */
	bool calibrated;		/* the simulated side's configuration was calibrated */
};

/*
 * Compare two loaded sides under 'tol'. 0, or -1 with err when the sides do
 * not belong together (workload, version, regions: the field named).
 */
int compare_sides(struct comparison *c, const struct side *linux_side,
		  const struct side *sim_side, const struct tolerances *tol,
		  struct wl_error *err);

/*
 * The same against N runs of the Linux side (linux_runs[0] first: the run
 * whose addresses the simulated side used). Each metric's Linux value is
 * the median of the runs, its band their minimum and maximum; counts and
 * times are judged against the band's nearest edge; distances against the
 * run nearest the simulated side. linux_runs must outlive c.
 */
int compare_runs(struct comparison *c, const struct side *const *linux_runs, size_t nr_runs,
		 const struct side *sim_side, const struct tolerances *tol,
		 struct wl_error *err);

/*
 * Up to n metrics that failed, worst first (timing by ratio, others by
 * value over their fail bound); returns how many.
 */
size_t comparison_worst(const struct comparison *c, const struct metric **out, size_t n);

/* "phase_runtime (phase 0 touch) 14.2x too fast" and the like, into buf. */
void metric_describe(const struct metric *m, char *buf, size_t len);
void comparison_release(struct comparison *c);

/*
 * The metric 'name' of 'scope', or NULL. (A region named "all" shares its
 * scope with the whole: this finds the whole's.)
 */
const struct metric *comparison_find(const struct comparison *c, const char *name,
				     const char *scope);

/*
 * summary.json as docs/results-format.md shows it: workload, complete, tool (when
 * known), the two sides (their files as read), divergence (faults,
 * thp_faults, huge_bytes, resident_bytes, backing_agreement, runtime,
 * regions{name: {faults, thp_faults, huge_bytes, resident_bytes,
 * backing_agreement}}), plus "metrics": [every metric, in the order above:
 * {name, scope, linux, sim, value, warn, fail, verdict, note}, null where
 * a value is NA or not a single number] and "verdict". Caller frees.
 */
cJSON *comparison_to_json(const struct comparison *c);

#endif
