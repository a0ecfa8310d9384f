/*
 * plot.h - the report's figures, drawn by gnuplot; private to reports/.
 *
 * A plotter owns the directory where figures are made. Each plot_*()
 * function decides first whether there is anything to draw (FIG_EMPTY with
 * the reason if not), then writes NAME-SERIES.dat files and NAME.gp into the
 * directory, runs `gnuplot -d NAME.gp` there (stdin and stdout /dev/null,
 * stderr to NAME.err) and reads NAME.svg back as an inline SVG: FIG_SVG. No
 * gnuplot, or gnuplot failing: FIG_MISSING with the reason (the first line
 * gnuplot printed, or how to get gnuplot). Scripts use relative names only,
 * so a kept directory can be replotted by hand.
 *
 * Also here: the few derived views both the tables (report.c) and the plots
 * need, so the two never disagree.
 */
#ifndef REPORTS_PLOT_H
#define REPORTS_PLOT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "compare/compare.h"

#define REPORT_LINUX_RGB	"#3465a4"
#define REPORT_SIM_RGB		"#e07020"

/* Cells in a backing strip at most; larger regions group blocks per cell. */
#define REPORT_MAX_CELLS	512

struct plotter {
	char *gnuplot;			/* the program's path; NULL: none */
	char dir[PATH_MAX];		/* "" when there is nowhere to draw */
	bool keep;			/* the caller's directory: leave it */
	unsigned seq;			/* figures made: ids are prefixed "pSEQ-" */
	char missing[224];		/* why there are no plots (gnuplot NULL) */
	/*
	 * "" or a line every script (a NAME.gp fig_open() opens) prints in its
	 * figure's bottom left corner: where the numbers come from
	 */
	char footer[320];
};

enum figure_state { FIG_EMPTY, FIG_MISSING, FIG_SVG };

struct figure {
	enum figure_state state;
	char *svg;			/* FIG_SVG: the inline <svg> element */
	char why[320];			/* FIG_EMPTY, FIG_MISSING: why no plot */
};

/* 0, or -1 with err when plot_dir cannot be made (or no temporary dir). */
int plotter_init(struct plotter *p, const char *gnuplot, const char *plot_dir,
		 struct wl_error *err);
/* Remove the temporary directory and what this plotter wrote there. */
void plotter_release(struct plotter *p);
void figure_release(struct figure *f);

/*
 * A drawn figure (FIG_SVG) or its placeholder (why it was not drawn) as an
 * HTML <figure> with 'caption', onto f. FIG_EMPTY is the caller's to say.
 */
void figure_html(FILE *f, const struct figure *fig, const char *caption);

void plot_fault_timeline(struct plotter *p, const struct comparison *c, struct figure *f);
/*
 * Phase runtimes on a log axis: Linux's median over its runs with bars from
 * the fastest to the slowest run, the simulated runtime beside it, and how
 * many times too fast or too slow the simulated phase is.
 */
void plot_phase_runtime(struct plotter *p, const struct comparison *c, struct figure *f);
/*
 * The latency CDF of one fault kind (FAULT_KIND_NR: every fault, the
 * all-faults mix), log x: Linux's runs as a shaded envelope (at each
 * fraction of faults, the fastest to the slowest run) around their median,
 * the simulated side as a line; cold faults left out of a kind, as the
 * timing metrics leave them out (kept in the mix, as its info metrics do).
 */
void plot_latency_cdf(struct plotter *p, const struct comparison *c, unsigned kind,
		      struct figure *f);
/*
 * A latency CDF, log x, as plot_latency_cdf() draws it, of any samples:
 * Linux's nr runs (vl[r], nl[r] values each, sorted) as the median and
 * the envelope, and nsim simulated curves (sorted too), each with its
 * title, colour and gnuplot dash type (0: solid). Files STEM*: a curve's
 * points in STEM-TAG.dat.
 */
struct cdf_curve {
	const uint64_t *v;
	size_t n;
	const char *title, *tag, *rgb;
	int dt;
};

struct cdf_plot {
	const char *stem, *title, *label;	/* label: the figure's accessible name */
	uint64_t *const *vl;
	const size_t *nl;
	size_t nr;
	const struct cdf_curve *sim;
	size_t nsim;
};

void plot_cdf(struct plotter *p, const struct cdf_plot *cp, struct figure *f);
/* Linux's region 'region' and the simulated region of the same name. */
void plot_backing(struct plotter *p, const struct comparison *c, size_t region,
		  struct figure *f);
void plot_alloc_orders(struct plotter *p, const struct comparison *c, struct figure *f);
/* A histogram by the kernel's names ('stem' names the files). */
void plot_named_counts(struct plotter *p, const char *stem, const char *title,
		       const struct side_named_count *lx, size_t nr_lx,
		       const struct side_named_count *sm, size_t nr_sm, struct figure *f);

/* ---- building blocks for the figures of other documents (calibration.c) -------- */

/* Set f's state and its reason (printf). */
void figure_set(struct figure *f, enum figure_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Before writing a figure's files: is there somewhere to draw? (false: f missing) */
bool fig_can_draw(struct plotter *p, struct figure *f);
/* Open DIR/NAME to write; NULL with f marked missing. */
FILE *fig_open(struct plotter *p, struct figure *f, const char *name);
/* Close; false (f marked missing) if anything failed to write. */
bool fig_close(FILE *out, struct figure *f, const char *name);
/* A gnuplot single-quoted string. */
void gp_quote(FILE *f, const char *s);
/* A script's first lines: svg terminal of width x height, output STEM.svg, grid. */
void gp_header(FILE *f, const char *stem, int width, int height);
/*
 * A log axis ('x' or 'y') of nanoseconds from 1e<elo> to 1e<ehi>, a tic
 * at each decade labelled in ns, µs, ms or s.
 */
void gp_decade_axis(FILE *g, char axis, int elo, int ehi);
/* Run gnuplot on DIR/STEM.gp and take DIR/STEM.svg inline ('label': its accessible name). */
void figure_draw(struct plotter *p, const char *stem, const char *label, struct figure *f);
/*
 * After figure_draw() drew f: DIR/STEM.pdf, the same plot replotted on
 * gnuplot's pdfcairo terminal, w_in x h_in inches. 0, or -1 with f marked
 * missing and why.
 */
int figure_pdf(struct plotter *p, const char *stem, double w_in, double h_in, struct figure *f);
/* Run DIR/STEM.gp, whatever it writes. 0, or -1 with f marked missing and why. */
int gnuplot_script(struct plotter *p, const char *stem, struct figure *f);

/* ---- shared with report.c ------------------------------------------------------ */

/*
 * Linux's runs, the first first, into *runs: the comparison's own, or its one
 * linux_side when it was made from two sides (compare_sides). How many.
 */
size_t report_linux_runs(const struct comparison *c, const struct side *const **runs);

/* The index of the region of side 's' named 'name', or -1. */
int report_region_index(const struct side *s, const char *name);

/*
 * The known (> 0) latencies of the side's faults of 'kind' in its regions
 * during its phases, sorted, *n of them, as the comparison takes them: cold
 * faults left out and counted in *cold; kind FAULT_KIND_NR: every kind,
 * cold faults kept (*cold still counts them). NULL out of memory.
 */
uint64_t *report_kind_latencies(const struct side *s, unsigned kind, size_t *n, size_t *cold);

/* Whether any Linux run or the simulated side has a fault of 'kind'. */
bool report_kind_present(const struct comparison *c, unsigned kind);


/*
 * How many of the side's faults (the workload's, *n of them) carry one time,
 * *t_ns, when that is more than half of them, else 0: a log that does not
 * time its faults, whose timeline rises at once.
 */
size_t report_untimed_faults(const struct side *s, uint64_t *t_ns, size_t *n);

/* Fault allocations per order over all regions. */
void report_alloc_orders(const struct side *s, uint64_t orders[SIDE_ORDERS]);

/*
 * The union of two named histograms, in first-seen order (Linux's, then the
 * simulated side's new names): *names (borrowed strings) and the counts of
 * each side. 0, or -1 out of memory. free() the three arrays.
 */
int report_named_union(const struct side_named_count *lx, size_t nr_lx,
		       const struct side_named_count *sm, size_t nr_sm,
		       const char ***names, uint64_t **clx, uint64_t **csm, size_t *n);

/* The report pages' inline CSS. */
extern const char report_html_style[];

/*
 * DIR/.NAME.tmp.XXXXXX holding buf, synced, its name in tmp ("" when none is
 * left). 0, or -1 with err naming DIR and NAME.
 */
int report_write_temp(const char *dir, const char *name, const char *buf, size_t len,
		      char *tmp, size_t tmplen, struct wl_error *err);

/*
 * DIR/MD_NAME and DIR/HTML_NAME, both or neither: each written under a
 * temporary name and synced (report_write_temp), then renamed into place,
 * the HTML first; if the Markdown's rename fails the HTML goes too. 0, or
 * -1 with err naming the file.
 */
int report_write_pair(const char *dir, const char *md_name, const char *md, size_t mdlen,
		      const char *html_name, const char *html, size_t htmllen,
		      struct wl_error *err);

/* HTML-escape s onto f (&, <, >, ", '). */
void report_html_escape(FILE *f, const char *s);

#endif
