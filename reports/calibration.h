/*
 * calibration.h - a calibration as documents: DIR/calibration.md and
 * DIR/calibration.html (one self-contained file: inline CSS, inline SVG
 * figures, no scripts, nothing fetched), written beside calibrated.json and
 * calibration.json by `virtuoso calibrate`.
 *
 * Drawn from the measurements (calibrate/measure.h), the fit
 * (calibrate/fit.h) and the configuration the fit started from ("before":
 * the base or reference configuration). The simulated numbers are
 * cal_simulate()'s, the forward model the fit itself runs, at the measured
 * sizes: once with 'before', once with the fitted configuration. Both
 * documents hold, in this order:
 *
 *	parameters	one row per fitted parameter: name, value, unit,
 *			bounds, method, the measurement it explains, that
 *			measurement, the fitted model's value of it, the
 *			residual (modelled - measured, and relative)
 *	line chase	per measured size: the measured ns per load (median,
 *			min..max) and the simulated one before and after;
 *			figure: the three curves, log-log
 *	page chase	per measured size, both THP modes (MADV_NOHUGEPAGE,
 *			MADV_HUGEPAGE): measured ns per load and the THP
 *			backing obtained; the fit models no page chase, so
 *			these are measured only (the documents say so);
 *			figure: both curves, log-log
 *	faults		per fault kind: measured warm and cold µs per fault,
 *			simulated before and after (warm, and cold as warm
 *			plus the first touch), or why a value is missing;
 *			figure: clustered bars, log y
 *	held out	the cross-validation (struct cal_heldout), or why
 *			there is none: per family of timing metrics the
 *			points, MAPE, maximum error and Pearson's r before
 *			and after; per fault kind the pooled p50 and p90 of
 *			Linux and of the simulator before and after;
 *			figures: the scatter of every phase runtime and
 *			latency quantile (reports/suite.h), one pooled CDF
 *			per fault kind present
 *
 * Figures appear in the HTML only (reports/plot.h); the Markdown says where
 * each is and does not depend on gnuplot. Without gnuplot (or when it fails)
 * the HTML says, where each figure would be, why it is not there; that is
 * not an error.
 *
 * Writing is atomic as report_write()'s: both documents rendered in memory,
 * written to temporary files in DIR, synced, renamed; on error neither is
 * left half-written, nor a new one without the other.
 */
#ifndef REPORTS_CALIBRATION_H
#define REPORTS_CALIBRATION_H

#include "calibrate/fit.h"
#include "calibrate/measure.h"
#include "reports/report.h"
#include "reports/suite.h"
#include "simulator/config.h"
#include "workload/error.h"

/*
 * The cross-validation on held-out workloads: crossval.json (cli/xval.h;
 * sides "before" and "after") and the faults of its workloads pooled by
 * kind (may be NULL: no CDFs). crossval NULL: there was none, 'why' says
 * why ("--no-crossval", ...).
 */
struct cal_heldout {
	const cJSON *crossval;
	const struct suite_faults *faults;
	const char *why;
};

/*
 * Write DIR/calibration.md and DIR/calibration.html. 'before' may be NULL
 * (no "before" curve, the documents say so); 'held' may be NULL (not
 * cross-validated). DIR must exist. 0, or -1 with err naming the file and
 * what failed (a failed simulation among them).
 */
int calibration_report_write(const struct cal_results *measured, const struct cal_fit *fit,
			     const struct sim_config *before, const struct cal_heldout *held,
			     const char *dir, struct wl_error *err);

/* calibration_report_write() with report_write_opts()'s options ('o' may be NULL). */
int calibration_report_write_opts(const struct cal_results *measured, const struct cal_fit *fit,
				  const struct sim_config *before,
				  const struct cal_heldout *held, const char *dir,
				  const struct report_options *o, struct wl_error *err);

#endif
