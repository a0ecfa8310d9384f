/*
 * validation.h - a validation suite as material for a paper, written by
 * virtuoso validate beside validation.json and validation.md:
 *
 *	validation.tex	a booktabs table (a fragment to \input): per
 *			workload, the runtime and the p50 of its first fault
 *			kind, Linux (the median of its runs), simulated and
 *			the error, and how many functional metrics pass; a
 *			suite row with the MAPE and the largest error; the
 *			caption gives Pearson's r and Kendall's tau
 *	validation.csv	one row per workload, class, metric and scope:
 *			Linux's value and band, the simulated value, the
 *			error, the verdict and the tolerance
 *	figures/	gnuplot's scripts, data and each figure as SVG and
 *			PDF: a scatter per timing metric (simulated against
 *			Linux, Linux's band as error bars, y = x, titled
 *			with MAPE, maximum and Pearson r); per workload,
 *			simulated over Linux for the runtime and the p50,
 *			Linux's band as error bars; one CDF per fault kind
 *			and the grid of all of them; with a history, each
 *			metric's MAPE over the commits
 *	validation.html	the suite's tables, the figures (linked: SVG shown,
 *			PDF beside it) and links to every other file
 *
 * Every file carries the suite's "provenance" (validation.json): the
 * tool's version and commit, the configuration's hash and origin, the
 * bundle's host, CPU, kernel and date: in a comment (TeX, CSV), the
 * caption, the page's header, and each figure's corner.
 *
 * The suite's JSON is cli/xval.h's layout with one configuration named
 * SIDE ("sim").
 */
#ifndef REPORTS_VALIDATION_H
#define REPORTS_VALIDATION_H

#include <cjson/cJSON.h>

#include "reports/report.h"
#include "reports/suite.h"
#include "workload/error.h"

#define VALIDATION_SIDE "sim"

/*
 * One line of a --history file: the suite's statistics (per timing metric
 * its MAPE, maximum, Pearson r; the functional passes) with the
 * provenance's commit, configuration hash and the date. NULL out of memory.
 */
cJSON *validation_history_entry(const cJSON *suite, const char *date);

/*
 * Check a history file before a run appends to it: 0 when it is missing or
 * every line is a history line, else -1 with err naming the file and the
 * line.
 */
int validation_history_check(const char *path, struct wl_error *err);

/*
 * Write the documents above into OUT (which exists). faults may be NULL
 * (no CDFs); history (NULL: none) is a file of validation_history_entry()
 * lines, one JSON object each. 0, or -1 with err naming the file (and the
 * line of a bad history line).
 */
int validation_docs_write(const cJSON *suite, const struct suite_faults *faults,
			  const char *history, const char *out, const struct report_options *o,
			  struct wl_error *err);

#endif
