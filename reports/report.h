/*
 * report.h - a comparison as documents a researcher can hand on:
 * DIR/report.md (GitHub-flavoured Markdown) and DIR/report.html (one
 * self-contained file: inline CSS, inline SVG plots, no scripts, nothing
 * fetched from elsewhere; printable).
 *
 * Both are drawn from a struct comparison and its two struct side
 * (compare/compare.h) and nothing else. They hold the same tables, in this
 * order:
 *
 *	the run		first screen: the overall verdict and the counts
 *			per verdict, the functional and the timing verdict
 *			side by side (with "uncalibrated configuration" when
 *			the simulated machine was not calibrated for this
 *			host: timing is then expected to fail), how many
 *			Linux runs, the three worst failures in words
 *			(comparison_worst, metric_describe); then the two
 *			sides (file, tool version, complete, dropped events,
 *			event log, runtime; Linux's first run) and every
 *			metric that did not pass (info ones marked)
 *	verdicts	one row per metric: name, scope, class (functional,
 *			timing, or info: shown, counted toward no verdict),
 *			Linux value (the median of its runs, with their range
 *			"min..max (N runs)" when they differ), simulated
 *			value, divergence, the tolerance as "warn if" / "fail
 *			if", verdict (unstable styled apart), note
 *	regions		per region and side: start, faults, thp_faults,
 *			huge_bytes, resident_bytes, the four page classes
 *	phases		per phase: op, region, start, runtime and faults of
 *			both sides (Linux's first run); a figure of the phase
 *			runtimes on a log axis, Linux's median over its runs
 *			with a bar from the fastest to the slowest run against
 *			the simulated runtime, labelled with how many times too
 *			fast or too slow the simulated phase is
 *	fault timeline	cumulative faults over time (each fault's t_ns),
 *			Linux's first run and simulated overlaid, each side's
 *			phase boundaries marked; and the same with every phase
 *			stretched to one width (the two worlds run at
 *			different speeds); a note when most of a side's faults
 *			carry one time (a log that does not time them); the
 *			workload's TLB flushes marked on their CPU by reason
 *	fault latency	by fault kind (compare.h's FAULT_KINDS): a table of
 *			faults, cold faults and quantiles per kind and side
 *			(Linux: the median of its runs with their range); per
 *			kind present on either side, a CDF on a log x axis,
 *			Linux's measured kernel latency against MimicOS's
 *			simulated fault time, Linux's runs drawn as a shaded
 *			envelope (at each fraction of faults, the fastest to
 *			the slowest run) around their median, cold faults
 *			left out and counted in the caption; then all faults
 *			together, cold ones kept, marked information only
 *	backing		per region, one strip of cells per side (Linux above,
 *			simulated below), a cell per 2 MiB block (or per group
 *			of blocks in a large region) stacked by the fraction of
 *			its pages in each class; or a note that no map exists
 *	allocation orders	fault allocations per folio order, side by side
 *	khugepaged	scan outcomes and collapse outcomes by the kernel's
 *			names, successful collapses
 *	TLB flushes	by reason
 *	kernel policy	each side's "kernel" object, flattened, differences
 *			marked
 *	hardware	sim.json's "config" (the simulated machine), and the
 *			Linux host's "host" and "probes" objects
 *
 * Plots: gnuplot draws every plot (terminal svg). For each figure the
 * report writes a data file per series and a script into a temporary
 * directory, runs `gnuplot -d SCRIPT` there, and embeds the SVG it wrote
 * inline (XML prolog dropped, element ids prefixed so that several plots
 * share a page validly). Without gnuplot the HTML says where each plot
 * would be and why it is not; report.md never holds plots, so it is the
 * same with or without gnuplot (and byte-identical for the same input: a
 * golden-output test pins it).
 *
 * Writing is atomic: both documents are rendered in memory first, written to
 * temporary files in DIR, synced and renamed into place; on any error
 * neither a half-written nor a new-but-partial pair is left behind.
 */
#ifndef REPORTS_REPORT_H
#define REPORTS_REPORT_H

#include <stdio.h>

#include "compare/compare.h"
#include "workload/error.h"

struct report_options {
	/*
	 * The gnuplot program: a path, or a name looked up on PATH. NULL:
	 * "gnuplot". "": draw no plots (the HTML says so where they would be).
	 */
	const char *gnuplot;
	/*
	 * Keep each plot's data files, gnuplot script and SVG in this
	 * directory (created if missing; `cd DIR && gnuplot NAME.gp` redraws a
	 * plot, e.g. after `set terminal pdfcairo` for a paper). NULL: a
	 * temporary directory, removed afterwards.
	 */
	const char *plot_dir;
};

/*
 * Write DIR/report.md and DIR/report.html for 'c' with the default options
 * (gnuplot from PATH, temporary plot files). 0, or -1 with err naming the
 * file and what failed; DIR must exist.
 */
int report_write(const struct comparison *c, const char *dir, struct wl_error *err);

/* report_write() with options; 'o' may be NULL (the defaults). */
int report_write_opts(const struct comparison *c, const char *dir,
		      const struct report_options *o, struct wl_error *err);

/* The Markdown document on 'out'. 0, or -1 if writing failed. */
int report_markdown(const struct comparison *c, FILE *out);

/*
 * The HTML document on 'out', plots drawn as 'o' says ('o' may be NULL). 0,
 * or -1 with err (a plot directory that cannot be made, a write error); a
 * plot that gnuplot fails to draw is not an error: the page says why.
 */
int report_html(const struct comparison *c, const struct report_options *o, FILE *out,
		struct wl_error *err);

#endif
