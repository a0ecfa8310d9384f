/*
 * suite.h - figures and figures' numbers over a suite of workloads, each
 * compared with its Linux runs under one or two simulator configurations
 * (cli_suite(): the calibration's cross-validation, virtuoso validate).
 *
 * Two views:
 *
 *	fault latency by kind	every workload's faults of one kind pooled:
 *				Linux's run r of every workload into Linux's
 *				run r, each configuration's simulated faults
 *				into its own sample; drawn as CDFs (Linux's
 *				median and range, one curve per configuration)
 *	the scatter		a set of timing metrics (runtimes, phase
 *				runtimes, the p50, p90, p99 of each fault
 *				kind) of the suite's JSON, simulated against Linux, Linux's
 *				band as error bars, the y = x line; its numbers
 *				(points, MAPE, maximum error, Pearson's r of
 *				the logarithms) per configuration
 *
 * The suite's JSON is crossval.json's layout (cli/xval.h): "workloads":
 * [{"metrics": [{"name", "scope", "linux", "linux_lo", "linux_hi",
 * SIDE: {"sim", "error"}}]}], null where a value is NA.
 */
#ifndef REPORTS_SUITE_H
#define REPORTS_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "compare/compare.h"

#define SUITE_MAX_SIDES 2

struct suite_sample {
	uint64_t *v;		/* sorted */
	size_t n, cap;
};

struct suite_faults {
	size_t nr;		/* Linux runs: the most any workload had */
	size_t nk;		/* configurations: the most any add had */
	struct suite_sample linux_runs[FAULT_KIND_NR][COMPARE_MAX_RUNS];
	struct suite_sample sim[FAULT_KIND_NR][SUITE_MAX_SIDES];
};

/* Zeroed is empty; release frees the samples and leaves it empty. */
void suite_faults_release(struct suite_faults *sf);

/*
 * One workload's faults: its nk comparisons (the same Linux runs, one per
 * configuration), each kind's warm faults as report_kind_latencies() takes
 * them. 0, or -1 out of memory.
 */
int suite_faults_add(struct suite_faults *sf, const struct comparison *c, size_t nk);

/* The scatter's families: the metric names it draws. */
#define SUITE_SCATTER_FAMILIES(X)						\
	X(phase_runtime,	"phase runtime")				\
	X(fault_latency_p50,	"fault latency p50")				\
	X(fault_latency_p90,	"fault latency p90")				\
	X(fault_latency_p99,	"fault latency p99")				\
	X(runtime,		"runtime")

enum suite_family {
#define SUITE_FAMILY_ENUM(name, desc) SUITE_##name,
	SUITE_SCATTER_FAMILIES(SUITE_FAMILY_ENUM)
#undef SUITE_FAMILY_ENUM
	SUITE_FAMILY_NR
};

const char *suite_family_name(unsigned family);
const char *suite_family_desc(unsigned family);

/* A set of families: SUITE_MASK(f) for each. */
#define SUITE_MASK(f)		(1u << (f))
/* every phase runtime and latency quantile: what the calibration's scatter holds */
#define SUITE_MASK_PHASES_AND_QUANTILES							\
	(SUITE_MASK(SUITE_phase_runtime) | SUITE_MASK(SUITE_fault_latency_p50) |		\
	 SUITE_MASK(SUITE_fault_latency_p90) | SUITE_MASK(SUITE_fault_latency_p99))

/*
 * The scatter's numbers for one side of the suite's JSON over a set of
 * families (a mask of SUITE_MASK()s): the points where Linux and the side both
 * have a value (fault latency of scope "all", information only, left out),
 * the mean and the largest of their errors (the suite's ratio errors from
 * Linux's band), Pearson's r of the logarithms. NAN where undefined.
 */
struct suite_scatter_stats {
	size_t n;
	double mape, max, r;
};

void suite_scatter_stats(const cJSON *suite, const char *side, unsigned mask,
			 struct suite_scatter_stats *st);

/*
 * The figures (reports/plot.h's plotter and figure; drawn into files
 * named after 'stem'). sides[k] names configuration k, the last drawn as
 * "the" simulated side, an earlier one grey and dashed.
 *
 * suite_plot_cdf: one kind's pooled CDF; FIG_EMPTY when neither Linux nor
 * any configuration has a fault of the kind.
 * suite_plot_scatter: the scatter of the families in 'mask' ('what' names
 * them in the title), log-log, titled with the last side's numbers over them, each side's in its key;
 * FIG_EMPTY without a point.
 */
struct plotter;
struct figure;

void suite_plot_cdf(struct plotter *p, const struct suite_faults *sf, unsigned kind,
		    const char *const *sides, const char *stem, struct figure *f);
void suite_plot_scatter(struct plotter *p, const cJSON *suite, const char *const *sides,
			size_t nk, unsigned mask, const char *what, const char *stem,
			struct figure *f);

#endif
