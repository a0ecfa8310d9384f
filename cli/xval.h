/*
 * xval.h - cross-validation of a calibration on held-out workloads: the
 * Linux side of each recorded once, then each simulated under two
 * configurations (before: the reference; after: the calibration) at
 * Linux's addresses and with its kernel settings, as virtuoso run does,
 * and every timing metric of the two comparisons summarised side by side.
 *
 * The layout under DIR, one directory per workload named after the spec's
 * "name":
 *
 *	DIR/xval/NAME/linux.json, linux-2.json, ...	Linux's runs (cli_xval_record)
 *	DIR/xval/NAME/before/sim.json, summary.json	the reference configuration
 *	DIR/xval/NAME/after/sim.json, summary.json	the calibrated one
 *	DIR/crossval.json, DIR/crossval.md		the summary (cli_xval)
 *
 * crossval.json:
 *
 *	"metrics": [{"name": "runtime", "before": {"n", "measured", "mape",
 *		"max", "pass", "aggregate", "pearson_r", "kendall_tau"},
 *		"after": {...}}, ...]			one per timing metric
 *		name, over every workload and scope: n instances, "measured"
 *		of them with a value (not NA), MAPE the mean of their ratio
 *		errors (compare.h's runtime: max(sim/linux, linux/sim) - 1 from
 *		the nearest edge of Linux's band), max the largest, pass how
 *		many passed their tolerance; over the instances where both
 *		sides have a value, aggregate the ratio error of their totals,
 *		pearson_r and kendall_tau their correlations (compare.h)
 *	"functional": [{"name", "before": {"n", "pass"}, "after": {...}}]
 *		per functional metric name over every workload and scope: n
 *		instances, how many pass (exact, or within their tolerance)
 *	"workloads": [{"workload", "dir", "linux_runs", "metrics": [{"name",
 *		"scope", "linux", "linux_lo", "linux_hi", "tolerance",
 *		"before": {"sim", "error", "verdict"}, "after": {...}}],
 *		"functional": [{"name", "scope", "linux", "before": {"sim",
 *		"error", "verdict"}, "after": {...}}]}]
 *		tolerance: the error at which the metric warns (compare.h),
 *		what the accuracy gate lets an error grow by
 *	"configs": {"before": ..., "after": ...}	the effective configurations
 *
 * null where a value is NA. crossval.md holds the same two tables.
 */
#ifndef CLI_XVAL_H
#define CLI_XVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

struct sim_config;
struct suite_faults;

/* The Linux runs each held-out workload gets: a band, as make main's. */
#define XVAL_LINUX_RUNS 3

/*
 * Record the Linux side of each spec (paths) into DIR/xval/NAME/ with
 * XVAL_LINUX_RUNS runs (cli_linux_runs(), which holds the host for each
 * workload's runs, waiting for it up to wait_s seconds as
 * hostlock_take() does). Not root or no BTF: EXIT_HOST after one line
 * saying cross-validation is skipped and why, before anything is written.
 * 'name' is the command, for messages. Returns the exit status.
 */
int cli_xval_record(const char *name, const char *dir, const char *const *specs, size_t n,
		    int wait_s);

/*
 * Simulate each spec under 'before' and under 'after' at the addresses
 * and with the kernel settings of DIR/xval/NAME/linux.json (MimicOS gets
 * this machine's RAM, as virtuoso run without a mimicos.mem_bytes), compare
 * each with the recorded Linux runs under the default tolerances, and
 * write DIR/crossval.json and DIR/crossval.md (whole or not at all). md:
 * also print the Markdown there (NULL: not). json: also hand back the
 * summary (NULL: not; the caller frees it). faults: as cli_suite_opts'.
 * No root needed. Returns the
 * exit status: EXIT_BAD_INPUT for a spec, a missing or bad Linux side,
 * the error printed in one line naming the file.
 */
int cli_xval(const char *dir, const char *const *specs, size_t n, const struct sim_config *before,
	     const struct sim_config *after, FILE *md, cJSON **json, struct suite_faults *faults);

/*
 * What cli_xval() is one use of: each spec simulated under nk (1 or 2)
 * configurations named sides[k], at the addresses and with the kernel
 * settings of DIR/SUB/NAME/linux.json (DIR/NAME for an empty SUB), compared
 * with the Linux runs there, into DIR/SUB/NAME/SIDE/{sim.json,summary.json}
 * and DIR/FILE.json and DIR/FILE.md, laid out as crossval.json with the
 * sides' names for "before" and "after". 'name' is the command, for
 * messages; title and legend head the Markdown. faults (NULL: not): every
 * workload's fault latencies pooled by kind into it (reports/suite.h), for
 * the figures.
 */
struct cli_suite_opts {
	const char *name, *sub, *file, *title, *legend;
	int nk;
	const char *const *sides;
	struct suite_faults *faults;
	uint64_t mem_bytes;	/* MimicOS's size; 0: the configuration's, else this RAM */
	const cJSON *provenance; /* copied into FILE.json's "provenance" when not NULL */
	bool progress;		/* a progress display on stderr, a step per workload */
};
int cli_suite(const struct cli_suite_opts *so, const char *dir, const char *const *specs,
	      size_t n, const struct sim_config *const *cfgs, FILE *md, cJSON **json);

#endif
