/*
 * calibration.c - calibration.md and calibration.html: the fitted
 * parameters, the chases and the fault costs, measured against the
 * simulator before and after the fit.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/calibration.h"
#include "reports/plot.h"

#define BEFORE_RGB	"#888888"

/* What a report is drawn from; before or after NULL when not simulated. */
struct cal_view {
	const struct cal_results *m;
	const struct cal_fit *fit;
	const struct cal_results *before, *after;
	const struct cal_heldout *held;		/* NULL: not cross-validated */
};

struct cdoc {
	FILE *f;
	bool html;
};

/* ---- formatting -------------------------------------------------------------------- */

static const char *fmt_g(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.6g", v);
	return buf;
}

/* 16 KiB, 4 MiB, 1 GiB: the largest binary unit that divides the size, else bytes. */
static const char *fmt_size(char *buf, size_t len, uint64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (u < 4 && b >= 1024 && !(b % 1024)) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", b, unit[u]);
	return buf;
}

/* The unit of the measurement a parameter explains, from its key's last part. */
static const char *explains_unit(const char *what)
{
	static const struct {
		const char *suffix, *unit;
	} units[] = {
		{ "cycles_per_ns", "cycles/ns" }, { "gb_per_s", "GB/s" },
		{ "ns_per_access", "ns per access" }, { "ns_per_load", "ns per load" },
		{ "us_per_fault", "µs per fault" },
	};
	size_t n = strlen(what);

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t k = strlen(units[i].suffix);

		if (n >= k && !strcmp(what + n - k, units[i].suffix))
			return units[i].unit;
	}
	return "";
}

/* ---- the document layer ------------------------------------------------------------ */

static void cesc(struct cdoc *d, const char *s)
{
	if (d->html) {
		report_html_escape(d->f, s);
		return;
	}
	for (; s && *s; s++)
		fputs(*s == '|' ? "\\|" : (char[2]){ *s, 0 }, d->f);
}

static void c_h(struct cdoc *d, int level, const char *id, const char *text)
{
	if (d->html) {
		fprintf(d->f, "<h%d id=\"%s\">", level, id);
		cesc(d, text);
		fprintf(d->f, "</h%d>\n", level);
	} else {
		fprintf(d->f, "%.*s %s\n\n", level, "######", text);
	}
}

static void c_p(struct cdoc *d, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void c_p(struct cdoc *d, const char *cls, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (d->html) {
		fprintf(d->f, "<p%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
		report_html_escape(d->f, s);
		fputs("</p>\n", d->f);
	} else {
		fprintf(d->f, cls ? "*%s*\n\n" : "%s\n\n", s ? s : "");
	}
	free(s);
}

/* A table's head: n columns, bit i of num: column i right-aligned. */
static void c_thead(struct cdoc *d, const char *const *head, size_t n, unsigned num)
{
	if (d->html) {
		fputs("<table>\n<thead><tr>", d->f);
		for (size_t j = 0; j < n; j++) {
			fprintf(d->f, "<th scope=\"col\"%s>", num & (1u << j) ? " class=\"num\"" : "");
			cesc(d, head[j]);
			fputs("</th>", d->f);
		}
		fputs("</tr></thead>\n<tbody>\n", d->f);
		return;
	}
	fputc('|', d->f);
	for (size_t j = 0; j < n; j++) {
		fputc(' ', d->f);
		cesc(d, head[j]);
		fputs(" |", d->f);
	}
	fputs("\n|", d->f);
	for (size_t j = 0; j < n; j++)
		fputs(num & (1u << j) ? "---:|" : "---|", d->f);
	fputc('\n', d->f);
}

static void c_row(struct cdoc *d, const char *const *cell, size_t n, unsigned num)
{
	fputs(d->html ? "<tr>" : "|", d->f);
	for (size_t j = 0; j < n; j++) {
		if (d->html) {
			fputs(num & (1u << j) ? "<td class=\"num\">" : "<td>", d->f);
			cesc(d, cell[j]);
			fputs("</td>", d->f);
		} else {
			fputc(' ', d->f);
			cesc(d, cell[j]);
			fputs(" |", d->f);
		}
	}
	fputs(d->html ? "</tr>\n" : "\n", d->f);
}

static void c_tend(struct cdoc *d)
{
	fputs(d->html ? "</tbody>\n</table>\n" : "\n", d->f);
}

static void c_figure(struct cdoc *d, struct figure *fig, const char *caption)
{
	if (fig->state == FIG_EMPTY) {
		c_p(d, "note", "%s", fig->why);
	} else if (!d->html) {
		fprintf(d->f, "*Figure in calibration.html: %s.*\n\n", caption);
	} else {
		figure_html(d->f, fig, caption);
	}
	figure_release(fig);
}

/* ---- the figures --------------------------------------------------------------------- */

/* A number for a data file, '?' (gnuplot's missing) when there is none. */
static void dat_num(FILE *f, bool have, double v)
{
	if (have && isfinite(v) && v > 0)
		fprintf(f, " %.9g", v);
	else
		fputs(" ?", f);
}

/* xtics at each size, labelled in binary units. */
static void gp_size_tics(FILE *g, const struct cal_chase_point *pt, size_t n)
{
	char b[32];

	fputs("set xtics rotate by -35 (", g);
	for (size_t i = 0; i < n; i++) {
		fprintf(g, "%s", i ? ", " : "");
		gp_quote(g, fmt_size(b, sizeof(b), pt[i].bytes));
		fprintf(g, " %" PRIu64, pt[i].bytes);
	}
	fputs(")\n", g);
}

static void plot_line_chase(struct plotter *p, const struct cal_view *v, struct figure *f)
{
	static const char *const stem = "cal_line_chase";
	const struct cal_results *m = v->m;
	FILE *d, *g;

	memset(f, 0, sizeof(*f));
	if (!m->nr_line) {
		figure_set(f, FIG_EMPTY, "The measurements hold no line chase.");
		return;
	}
	if (!fig_can_draw(p, f) || !(d = fig_open(p, f, "cal_line_chase.dat")))
		return;
	fputs("# bytes measured_median measured_min measured_max before after (ns per load)\n", d);
	for (size_t i = 0; i < m->nr_line; i++) {
		fprintf(d, "%" PRIu64, m->line[i].bytes);
		dat_num(d, true, m->line[i].ns_per_load.median);
		dat_num(d, true, m->line[i].ns_per_load.min);
		dat_num(d, true, m->line[i].ns_per_load.max);
		dat_num(d, v->before, v->before ? v->before->line[i].ns_per_load.median : 0);
		dat_num(d, v->after, v->after ? v->after->line[i].ns_per_load.median : 0);
		fputc('\n', d);
	}
	if (!fig_close(d, f, "cal_line_chase.dat") || !(g = fig_open(p, f, "cal_line_chase.gp")))
		return;
	gp_header(g, stem, 960, 460);
	fputs("set datafile missing '?'\nset logscale xy\nset key top left box opaque\n", g);
	gp_size_tics(g, m->line, m->nr_line);
	fputs("set xlabel 'buffer span (one 64 B line per load; log scale)'\n"
	      "set ylabel 'ns per load (log scale)'\n"
	      "set title 'Line-granular chase: measured vs simulated before and after "
	      "calibration (ns per load)'\n", g);
	fprintf(g, "plot '%s.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '%s' "
		"title 'measured (median, bar: min..max)'", stem, REPORT_LINUX_RGB);
	if (v->before)
		fprintf(g, ", \\\n     '' using 1:5 with linespoints dt 2 pt 6 lc rgb '%s' "
			"title 'simulated before calibration'", BEFORE_RGB);
	if (v->after)
		fprintf(g, ", \\\n     '' using 1:6 with linespoints lw 2 pt 5 lc rgb '%s' "
			"title 'simulated after calibration'", REPORT_SIM_RGB);
	fputc('\n', g);
	if (fig_close(g, f, "cal_line_chase.gp"))
		figure_draw(p, stem, "Line-granular chase, ns per load against buffer span", f);
}

/* A simulated page-chase point: NAN where the fit did not simulate it (beyond max_chase_bytes). */
static bool page_sim(const struct cal_results *r, int t, size_t i, double *ns)
{
	*ns = r ? r->page[t][i].ns_per_load.median : NAN;
	return r && !isnan(*ns);
}

static void plot_page_chase(struct plotter *p, const struct cal_view *v, struct figure *f)
{
	static const char *const stem = "cal_page_chase";
	static const char *const mode[2] = { "MADV_NOHUGEPAGE", "MADV_HUGEPAGE" };
	static const char *const rgb[2] = { REPORT_LINUX_RGB, "#2e9e5b" };
	const struct cal_results *m = v->m;
	FILE *d, *g;
	double ns = NAN;

	memset(f, 0, sizeof(*f));
	if (!m->nr_page) {
		figure_set(f, FIG_EMPTY, "The measurements hold no page chase.");
		return;
	}
	if (!fig_can_draw(p, f) || !(d = fig_open(p, f, "cal_page_chase.dat")))
		return;
	fputs("# bytes, then per mode (nohugepage, hugepage): measured median min max, "
	      "before, after (ns per load)\n", d);
	for (size_t i = 0; i < m->nr_page; i++) {
		fprintf(d, "%" PRIu64, m->page[0][i].bytes);
		for (int t = 0; t < 2; t++) {
			dat_num(d, true, m->page[t][i].ns_per_load.median);
			dat_num(d, true, m->page[t][i].ns_per_load.min);
			dat_num(d, true, m->page[t][i].ns_per_load.max);
			bool have = page_sim(v->before, t, i, &ns);

			dat_num(d, have, ns);
			have = page_sim(v->after, t, i, &ns);
			dat_num(d, have, ns);
		}
		fputc('\n', d);
	}
	if (!fig_close(d, f, "cal_page_chase.dat") || !(g = fig_open(p, f, "cal_page_chase.gp")))
		return;
	gp_header(g, stem, 960, 460);
	fputs("set datafile missing '?'\nset logscale xy\nset key top left box opaque\n", g);
	gp_size_tics(g, m->page[0], m->nr_page);
	fputs("set xlabel 'buffer span (one line per 4 KiB page; log scale)'\n"
	      "set ylabel 'ns per load (log scale)'\n"
	      "set title 'Page-granular chase in both THP modes: measured vs simulated before "
	      "and after calibration (ns per load)'\n", g);
	fputs("plot ", g);
	for (int t = 0; t < 2; t++) {
		int c = 2 + 5 * t;

		fprintf(g, "%s'%s.dat' using 1:%d:%d:%d with yerrorlines lw 2 pt 7 lc rgb '%s' "
			"title 'measured, %s'", t ? ", \\\n     " : "", stem, c, c + 1, c + 2,
			rgb[t], mode[t]);
		if (v->before)
			fprintf(g, ", \\\n     '' using 1:%d with linespoints dt 2 pt 6 lc rgb '%s' "
				"title 'before, %s'", c + 3, rgb[t], mode[t]);
		if (v->after)
			fprintf(g, ", \\\n     '' using 1:%d with linespoints lw 2 pt 5 lc rgb '%s' "
				"title 'after, %s'", c + 4, rgb[t], mode[t]);
	}
	fputc('\n', g);
	if (fig_close(g, f, "cal_page_chase.gp"))
		figure_draw(p, stem, "Page-granular chase in both THP modes, ns per load", f);
}

/* The six fault series: measured, before, after; warm and cold each. */
static const struct cal_results *fault_source(const struct cal_view *v, int s)
{
	return s == 0 ? v->m : s == 1 ? v->before : v->after;
}

static bool fault_value(const struct cal_view *v, int s, int k, int mem, double *us)
{
	const struct cal_results *r = fault_source(v, s);

	if (!r || !r->fault[k][mem].measured)
		return false;
	*us = r->fault[k][mem].us_per_fault.median;
	return isfinite(*us) && *us > 0;
}

static void plot_faults(struct plotter *p, const struct cal_view *v, struct figure *f)
{
	static const char *const stem = "cal_faults";
	static const char *const series[6] = {
		"measured, warm", "measured, cold", "simulated before, warm",
		"simulated before, cold", "simulated after, warm", "simulated after, cold",
	};
	static const char *const rgb[6] = { REPORT_LINUX_RGB, "#9fbce0", BEFORE_RGB, "#cccccc",
					    REPORT_SIM_RGB, "#f2b98a" };
	double lo = INFINITY, hi = 0, us;
	FILE *d, *g;

	memset(f, 0, sizeof(*f));
	for (int k = 0; k < CAL_FAULT_NR; k++)
		for (int s = 0; s < 6; s++)
			if (fault_value(v, s / 2, k, s % 2 ? CAL_COLD : CAL_WARM, &us)) {
				lo = fmin(lo, us);
				hi = fmax(hi, us);
			}
	if (!hi) {
		figure_set(f, FIG_EMPTY, "No fault cost was measured or simulated.");
		return;
	}
	if (!fig_can_draw(p, f) || !(d = fig_open(p, f, "cal_faults.dat")))
		return;
	fputs("# x kind measured_warm measured_cold before_warm before_cold after_warm after_cold "
	      "(us per fault)\n", d);
	for (int k = 0; k < CAL_FAULT_NR; k++) {
		fprintf(d, "%d %s", k, cal_fault_name(k));
		for (int s = 0; s < 6; s++) {
			bool have = fault_value(v, s / 2, k, s % 2 ? CAL_COLD : CAL_WARM, &us);

			dat_num(d, have, have ? us : 0);
		}
		fputc('\n', d);
	}
	if (!fig_close(d, f, "cal_faults.dat") || !(g = fig_open(p, f, "cal_faults.gp")))
		return;
	gp_header(g, stem, 960, 460);
	fprintf(g, "set datafile missing '?'\nset logscale y\nset yrange [%.6g:%.6g]\n", lo / 2,
		hi * 3);
	fprintf(g, "set xrange [-0.6:%d.6]\nset xtics scale 0 (", CAL_FAULT_NR - 1);
	for (int k = 0; k < CAL_FAULT_NR; k++)
		fprintf(g, "%s'%s' %d", k ? ", " : "", cal_fault_name(k), k);
	fputs(")\nset style fill solid 0.9 noborder\nset boxwidth 0.13\n"
	      "set key outside right top box\n"
	      "set xlabel 'fault kind'\nset ylabel 'µs per fault (log scale)'\n"
	      "set title 'Fault cost per kind: measured (warm, cold) vs simulated before and "
	      "after calibration (µs per fault)'\n", g);
	fputs("plot ", g);
	for (int s = 0; s < 6; s++)
		fprintf(g, "%s'%s.dat' using ($1%+.3f):%d with boxes lc rgb '%s' title '%s'",
			s ? ", \\\n     " : "", stem, (s - 2.5) * 0.13, s + 3, rgb[s], series[s]);
	fputc('\n', g);
	if (fig_close(g, f, "cal_faults.gp"))
		figure_draw(p, stem, "Fault cost per kind, µs per fault", f);
}

/* ---- the sections ------------------------------------------------------------------ */

static void section_params(struct cdoc *d, const struct cal_view *v)
{
	static const char *const head[] = { "parameter", "value", "unit", "bounds", "method",
					    "explains", "measured", "modelled", "residual" };
	char val[32], lo[32], hi[32], bounds[80], meas[64], mod[64], res[96];

	c_h(d, 2, "parameters", "Parameters");
	c_p(d, NULL, "%zu parameters, fitted with %u simulator runs; the residual is the "
	    "fitted model's value of the measurement it explains less the measured one.",
	    v->fit->nr_param, v->fit->evals);
	c_thead(d, head, 9, 0x1c2);
	for (size_t i = 0; i < v->fit->nr_param; i++) {
		const struct cal_param *q = &v->fit->param[i];
		const char *u = explains_unit(q->explains);
		const char *cell[9];

		snprintf(bounds, sizeof(bounds), "[%s, %s]", fmt_g(lo, sizeof(lo), q->lo),
			 fmt_g(hi, sizeof(hi), q->hi));
		if (q->has_residual) {
			snprintf(meas, sizeof(meas), "%.6g %s", q->measured, u);
			snprintf(mod, sizeof(mod), "%.6g %s", q->modelled, u);
			if (q->measured)
				snprintf(res, sizeof(res), "%+.4g %s (%+.2f%%)",
					 q->modelled - q->measured, u,
					 100 * (q->modelled - q->measured) / q->measured);
			else
				snprintf(res, sizeof(res), "%+.4g %s", q->modelled - q->measured, u);
		} else {
			snprintf(meas, sizeof(meas), "-");
			snprintf(mod, sizeof(mod), "-");
			snprintf(res, sizeof(res), "-");
		}
		cell[0] = q->name;
		cell[1] = fmt_g(val, sizeof(val), q->value);
		cell[2] = q->unit ? q->unit : "";
		cell[3] = bounds;
		cell[4] = q->method ? q->method : "";
		cell[5] = q->explains[0] ? q->explains : "-";
		cell[6] = meas;
		cell[7] = mod;
		cell[8] = res;
		c_row(d, cell, 9, 0x1c2);
	}
	c_tend(d);
}

/* "1.234 ns" or "-". */
static const char *fmt_unit(char *buf, size_t len, bool have, double v, const char *unit)
{
	if (have && isfinite(v))
		snprintf(buf, len, "%.4g %s", v, unit);
	else
		snprintf(buf, len, "-");
	return buf;
}

static void section_line(struct cdoc *d, const struct cal_view *v, struct plotter *p)
{
	static const char *const head[] = { "buffer span", "measured (median)",
					    "measured min..max", "simulated before",
					    "simulated after" };
	char size[32], med[32], range[80], a[32], b[32], x[32], y[32];
	struct figure fig;

	c_h(d, 2, "line-chase", "Line-granular chase");
	c_p(d, NULL, "One 64 B line per load in a random cycle; ns per load. The simulated "
	    "values are the simulator's own chase at each measured size (cal_simulate, as the "
	    "fit runs it), with the configuration before calibration and with the fitted one.");
	if (!v->before)
		c_p(d, "note", "No configuration before calibration was given: no \"before\" "
		    "values.");
	c_thead(d, head, 5, 0x1e);
	for (size_t i = 0; i < v->m->nr_line; i++) {
		const struct cal_stat *s = &v->m->line[i].ns_per_load;
		const char *cell[5];

		snprintf(range, sizeof(range), "%s..%s", fmt_unit(x, sizeof(x), true, s->min, "ns"),
			 fmt_unit(y, sizeof(y), true, s->max, "ns"));
		cell[0] = fmt_size(size, sizeof(size), v->m->line[i].bytes);
		cell[1] = fmt_unit(med, sizeof(med), true, s->median, "ns");
		cell[2] = range;
		cell[3] = fmt_unit(a, sizeof(a), v->before,
				   v->before ? v->before->line[i].ns_per_load.median : 0, "ns");
		cell[4] = fmt_unit(b, sizeof(b), v->after,
				   v->after ? v->after->line[i].ns_per_load.median : 0, "ns");
		c_row(d, cell, 5, 0x1e);
	}
	c_tend(d);
	plot_line_chase(p, v, &fig);
	c_figure(d, &fig, "Line-granular chase: ns per load against the buffer span, log-log; "
		 "measured (median, bar from the fastest to the slowest run) against the "
		 "simulator before and after calibration");
}

/*
 * The TLBs' sizes: fitted to the counted TLB events where the host counted
 * them, with both readings of each reach (the counts' and the latency
 * knee's); else the base's, and why.
 */
static void section_tlb_geometry(struct cdoc *d, const struct cal_view *v)
{
	static const char *const head[] = { "TLB", "base entries", "fitted entries",
					    "reach counted (pages)", "latency knee (pages)" };
	const struct cal_tlb_fit *t = &v->fit->tlb;
	char num[4][32];
	const char *cell[5];

	c_h(d, 3, "tlb-geometry", "TLB geometry");
	if (!t->counted) {
		c_p(d, NULL, "The TLBs' sizes are the base configuration's (the host's CPUID, "
		    "through virtuoso hwinfo): the page chases counted no TLB event (%s). They are "
		    "checked here only through the page chase's latency above.", t->why);
		return;
	}
	c_p(d, NULL, "Fitted to the TLB events the host's PMU counted in the page chases "
	    "(exact counts are stronger evidence than the latency's knees, where a TLB's reach "
	    "and a cache's may fall together): the reach counted is the first point where half "
	    "the loads missed, the knee the point after the latency's largest rise.");
	c_thead(d, head, 5, 0x1e);
	for (int k = 0; k < 2; k++) {
		const uint64_t row[2][4] = {
			{ t->base_l1_entries, t->l1_entries, t->l1_counted_knee, t->l1_latency_knee },
			{ t->base_stlb_entries, t->stlb_entries, t->stlb_counted_knee,
			  t->stlb_latency_knee },
		};

		cell[0] = k ? "STLB" : "L1 DTLB (4 KiB)";
		for (int i = 0; i < 4; i++) {
			snprintf(num[i], sizeof(num[i]), "%" PRIu64, row[k][i]);
			cell[1 + i] = num[i];
		}
		c_row(d, cell, 5, 0x1e);
	}
	c_tend(d);
	if (t->pwc_counted)
		c_p(d, NULL, "The page-walk cache of PD entries: %" PRIu64 " entries (the base "
		    "had %" PRIu64 "), fitted to the counted cycles per walk.", t->pwc_entries,
		    t->base_pwc_entries);
	else
		c_p(d, NULL, "The page-walk caches are the base's: %s.", t->pwc_why);
}

static void section_page(struct cdoc *d, const struct cal_view *v, struct plotter *p)
{
	static const char *const head[] = { "buffer span", "pages", "NOHUGEPAGE measured",
					    "before", "after", "HUGEPAGE measured", "before",
					    "after", "THP backing (hugepage run)" };
	char size[32], pages[32], num[6][32], thp[48];
	struct figure fig;
	double ns = NAN;

	c_h(d, 2, "page-chase", "Page-granular chase");
	c_p(d, NULL, "One line per 4 KiB page in a random cycle, the buffer advised "
	    "MADV_NOHUGEPAGE and MADV_HUGEPAGE; ns per load, measured (median) and the "
	    "simulator's own page chase with the configuration before calibration and with the "
	    "fitted one (\"-\": not simulated).");
	if (v->m->nr_page) {
		c_thead(d, head, 9, 0x1fc);
		for (size_t i = 0; i < v->m->nr_page; i++) {
			const char *cell[9];

			snprintf(pages, sizeof(pages), "%" PRIu64, v->m->page[0][i].pages);
			snprintf(thp, sizeof(thp), "%" PRIu64 " KiB", v->m->page[1][i].anon_huge_kib);
			cell[0] = fmt_size(size, sizeof(size), v->m->page[0][i].bytes);
			cell[1] = pages;
			for (int t = 0; t < 2; t++) {
				cell[2 + 3 * t] = fmt_unit(num[3 * t], sizeof(num[0]), true,
							   v->m->page[t][i].ns_per_load.median, "ns");
				/* the value first: an argument list has no order */
				bool have = page_sim(v->before, t, i, &ns);

				cell[3 + 3 * t] = fmt_unit(num[3 * t + 1], sizeof(num[0]), have, ns,
							   "ns");
				have = page_sim(v->after, t, i, &ns);
				cell[4 + 3 * t] = fmt_unit(num[3 * t + 2], sizeof(num[0]), have, ns,
							   "ns");
			}
			cell[8] = thp;
			c_row(d, cell, 9, 0x1fc);
		}
		c_tend(d);
	}
	plot_page_chase(p, v, &fig);
	c_figure(d, &fig, "Page-granular chase: ns per load against the buffer span, log-log, "
		 "MADV_NOHUGEPAGE and MADV_HUGEPAGE, measured (median, bar from the fastest to "
		 "the slowest run) against the simulator before and after calibration");
	section_tlb_geometry(d, v);
}

static void section_faults(struct cdoc *d, const struct cal_view *v, struct plotter *p)
{
	static const char *const head[] = { "fault kind", "measured warm", "measured cold",
					    "simulated before, warm", "simulated before, cold",
					    "simulated after, warm", "simulated after, cold" };
	char buf[6][200];
	struct figure fig;

	c_h(d, 2, "faults", "Fault cost per kind");
	c_p(d, NULL, "µs per fault (median of the runs). Simulated cold faults are the warm "
	    "ones plus the first touch of a 4 KiB page (core.first_touch_cycles_per_4k).");
	c_thead(d, head, 7, 0x7e);
	for (int k = 0; k < CAL_FAULT_NR; k++) {
		const char *cell[7] = { cal_fault_name(k) };

		for (int s = 0; s < 6; s++) {
			const struct cal_results *r = fault_source(v, s / 2);
			int mem = s % 2 ? CAL_COLD : CAL_WARM;
			double us;

			if (fault_value(v, s / 2, k, mem, &us))
				snprintf(buf[s], sizeof(buf[s]), "%.4g µs", us);
			else if (r && r->fault[k][mem].skipped[0])
				snprintf(buf[s], sizeof(buf[s]), "- (%s)", r->fault[k][mem].skipped);
			else
				snprintf(buf[s], sizeof(buf[s]), "-");
			cell[s + 1] = buf[s];
		}
		c_row(d, cell, 7, 0x7e);
	}
	c_tend(d);
	plot_faults(p, v, &fig);
	c_figure(d, &fig, "Fault cost per kind, µs per fault, log y: measured warm and cold "
		 "against the simulator before and after calibration; a missing bar was not "
		 "measured or not simulated");
}

static const char *const heldout_sides[2] = { "before", "after" };

/* Nearest-rank quantile of a sorted sample, as the comparison takes it ("-": none). */
static const char *fmt_quantile(char *buf, size_t len, const struct suite_sample *s, double q)
{
	if (!s->n)
		return strcpy(buf, "-");
	snprintf(buf, len, "%" PRIu64 " ns", sample_quantile(s->v, s->n, q));
	return buf;
}

/* Linux's: the median over its pooled runs of each run's quantile. */
static const char *fmt_linux_quantile(char *buf, size_t len, const struct suite_faults *sf,
				      unsigned kind, double q)
{
	double w[COMPARE_MAX_RUNS];
	struct cal_stat st;
	size_t k = 0;

	for (size_t r = 0; r < sf->nr; r++)
		if (sf->linux_runs[kind][r].n)
			w[k++] = (double)sample_quantile(sf->linux_runs[kind][r].v,
							 sf->linux_runs[kind][r].n, q);
	if (!k)
		return strcpy(buf, "-");
	cal_stat_of(&st, w, k);
	snprintf(buf, len, "%.0f ns", st.median);
	return buf;
}

static void fmt_stat_pct(char *buf, size_t len, double v)
{
	if (isfinite(v))
		snprintf(buf, len, "%.1f%%", 100 * v);
	else
		snprintf(buf, len, "-");
}

static void section_heldout(struct cdoc *d, const struct cal_view *v, struct plotter *p)
{
	static const char *const head[] = { "timing metrics", "points", "MAPE before",
					    "MAPE after", "max before", "max after",
					    "Pearson r before", "Pearson r after" };
	static const char *const khead[] = { "fault kind", "Linux faults", "Linux p50",
					     "before p50", "after p50", "Linux p90", "before p90",
					     "after p90" };
	const struct cal_heldout *h = v->held;
	const struct suite_faults *sf = h ? h->faults : NULL;
	char buf[8][48], stem[64], caption[200];
	struct figure fig;

	c_h(d, 2, "held-out", "Held-out workloads");
	if (!h || !h->crossval) {
		c_p(d, "note", "Not cross-validated%s%s: no held-out figures.",
		    h && h->why ? ": " : "", h && h->why ? h->why : "");
		return;
	}
	c_p(d, NULL, "The dataset workloads, which the fit never saw, on Linux (median of its "
	    "runs, the band from the fastest to the slowest) and in the simulator before and "
	    "after calibration; crossval.md holds every metric of every workload. The error of a "
	    "point is its ratio error from Linux's band (0 inside it); Pearson's r is of the "
	    "logarithms.");
	c_thead(d, head, 8, 0xfe);
	for (unsigned fam = 0; fam <= SUITE_FAMILY_NR; fam++) {
		struct suite_scatter_stats st[2];

		if (fam < SUITE_FAMILY_NR && !(SUITE_MASK(fam) & SUITE_MASK_PHASES_AND_QUANTILES))
			continue;
		const char *cell[8];

		for (int k = 0; k < 2; k++) {
			suite_scatter_stats(h->crossval, heldout_sides[k],
					    fam < SUITE_FAMILY_NR ? SUITE_MASK(fam) :
					    SUITE_MASK_PHASES_AND_QUANTILES, &st[k]);
			fmt_stat_pct(buf[1 + k], sizeof(buf[0]), st[k].mape);
			fmt_stat_pct(buf[3 + k], sizeof(buf[0]), st[k].max);
			if (isfinite(st[k].r))
				snprintf(buf[5 + k], sizeof(buf[0]), "%.3f", st[k].r);
			else
				strcpy(buf[5 + k], "-");
		}
		snprintf(buf[0], sizeof(buf[0]), "%zu", st[1].n);
		cell[0] = fam < SUITE_FAMILY_NR ? suite_family_desc(fam) : "all four";
		cell[1] = buf[0];
		for (int i = 1; i < 7; i++)
			cell[i + 1] = buf[i];
		c_row(d, cell, 8, 0xfe);
	}
	c_tend(d);
	suite_plot_scatter(p, h->crossval, heldout_sides, 2, SUITE_MASK_PHASES_AND_QUANTILES,
			   "Every phase runtime and fault latency quantile", "cal_heldout_scatter",
			   &fig);
	c_figure(d, &fig, "Every held-out phase runtime and fault latency quantile, simulated "
		 "against Linux, log-log: Linux's band as error bars, the y = x line, before "
		 "(grey, open) and after (orange, filled) calibration");
	if (!sf) {
		c_p(d, "note", "The held-out faults were not kept: no latency distributions.");
		return;
	}
	c_h(d, 3, "held-out-faults", "Fault latency by kind, held-out workloads pooled");
	c_p(d, NULL, "Every held-out workload's faults of each kind, cold ones left out: Linux's "
	    "run r of every workload pooled into one run (the median of the %zu pooled runs' "
	    "quantiles), each simulated configuration's faults pooled.", sf->nr);
	c_thead(d, khead, 8, 0xfe);
	for (unsigned kind = 0; kind < FAULT_KIND_NR; kind++) {
		const char *cell[8];
		size_t nl = 0;

		for (size_t r = 0; r < sf->nr; r++)
			nl += sf->linux_runs[kind][r].n;
		if (!nl && !sf->sim[kind][0].n && !sf->sim[kind][1].n)
			continue;
		snprintf(buf[0], sizeof(buf[0]), "%zu", nl);
		cell[0] = fault_kind_name(kind);
		cell[1] = buf[0];
		cell[2] = fmt_linux_quantile(buf[1], sizeof(buf[1]), sf, kind, 0.5);
		cell[3] = fmt_quantile(buf[2], sizeof(buf[2]), &sf->sim[kind][0], 0.5);
		cell[4] = fmt_quantile(buf[3], sizeof(buf[3]), &sf->sim[kind][1], 0.5);
		cell[5] = fmt_linux_quantile(buf[4], sizeof(buf[4]), sf, kind, 0.9);
		cell[6] = fmt_quantile(buf[5], sizeof(buf[5]), &sf->sim[kind][0], 0.9);
		cell[7] = fmt_quantile(buf[6], sizeof(buf[6]), &sf->sim[kind][1], 0.9);
		c_row(d, cell, 8, 0xfe);
	}
	c_tend(d);
	for (unsigned kind = 0; kind < FAULT_KIND_NR; kind++) {
		size_t any = sf->sim[kind][0].n + sf->sim[kind][1].n;

		for (size_t r = 0; r < sf->nr; r++)
			any += sf->linux_runs[kind][r].n;
		if (!any)
			continue;
		snprintf(stem, sizeof(stem), "cal_heldout_cdf_%s", fault_kind_name(kind));
		suite_plot_cdf(p, sf, kind, heldout_sides, stem, &fig);
		snprintf(caption, sizeof(caption), "Fault latency CDF of the held-out %s faults "
			 "(%s), Linux against the simulator before and after calibration",
			 fault_kind_name(kind), fault_kind_desc(kind));
		c_figure(d, &fig, caption);
	}
}

static void render(struct cdoc *d, const struct cal_view *v, struct plotter *p)
{
	const struct cal_results *m = v->m;
	char title[256];

	snprintf(title, sizeof(title), "Calibration of %s (%s, kernel %s)",
		 m->host.model_name[0] ? m->host.model_name : "this host",
		 m->host.guest ? "guest" : "bare metal", m->kernel_release);
	if (d->html) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>", d->f);
		report_html_escape(d->f, title);
		fputs(" (virtuoso)</title>\n<style>\n", d->f);
		fputs(report_html_style, d->f);
		fputs("</style>\n</head>\n<body>\n<main>\n", d->f);
	}
	c_h(d, 1, "calibration", title);
	c_p(d, "meta", "Measured %s; clock %.4g cycles/ns; configuration source: %s.", m->date,
	    m->cycles_per_ns.median, v->fit->cfg.calibration.source);
	section_params(d, v);
	section_line(d, v, p);
	section_page(d, v, p);
	section_faults(d, v, p);
	section_heldout(d, v, p);
	if (d->html) {
		fputs("</main>\n<footer>Written by virtuoso's calibration report "
		      "(reports/calibration.c)", d->f);
		if (p->gnuplot) {
			fputs(". Figures drawn by gnuplot.", d->f);
		} else {
			fputs(". No figures: ", d->f);
			report_html_escape(d->f, p->missing);
			fputc('.', d->f);
		}
		fputs("</footer>\n</body>\n</html>\n", d->f);
	} else {
		fputs("---\n\nWritten by virtuoso's calibration report (reports/calibration.c); "
		      "calibration.html holds the same tables with figures.\n", d->f);
	}
}

/* ---- writing both, atomically ------------------------------------------------------ */

/* Render into a malloc'ed buffer; 0, or -1 with err set. */
static int render_to(char **buf, size_t *len, bool html, const struct cal_view *v,
		     struct plotter *p, const char *dir, struct wl_error *err)
{
	struct cdoc d = { .html = html };

	*buf = NULL;
	if (!(d.f = open_memstream(buf, len)))
		return wl_error_set(err, dir, "", "out of memory");
	render(&d, v, p);
	if ((ferror(d.f) | fclose(d.f)) || !*buf) {
		free(*buf);
		*buf = NULL;
		return wl_error_set(err, dir, "", "cannot render calibration.%s: out of memory",
				    html ? "html" : "md");
	}
	return 0;
}

int calibration_report_write_opts(const struct cal_results *measured, const struct cal_fit *fit,
				  const struct sim_config *before,
				  const struct cal_heldout *held, const char *dir,
				  const struct report_options *o, struct wl_error *err)
{
	struct cal_results *sim[2] = { NULL, NULL };
	struct cal_view v = { .m = measured, .fit = fit, .held = held };
	struct cal_fit_opts fo;
	struct plotter p, none;
	char *md = NULL, *html = NULL;
	size_t mdlen = 0, htmllen = 0;
	struct stat st;
	int ret = -1;

	if (!measured || !fit)
		return wl_error_set(err, dir, "", "no calibration to report");
	if (stat(dir, &st))
		return wl_error_set(err, dir, "", "cannot write the calibration report: %s",
				    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return wl_error_set(err, dir, "", "cannot write the calibration report: not a "
				    "directory");
	fo = fit->opts;
	for (int i = 0; i < 2; i++) {
		const struct sim_config *cfg = i ? &fit->cfg : before;

		if (!cfg)
			continue;
		if (!(sim[i] = malloc(sizeof(*sim[i])))) {
			wl_error_set(err, dir, "", "out of memory");
			goto out;
		}
		*sim[i] = *measured;
		if (cal_simulate(sim[i], cfg, &fo, err))
			goto out;
	}
	v.before = sim[0];
	v.after = sim[1];

	memset(&none, 0, sizeof(none));
	snprintf(none.missing, sizeof(none.missing), "Markdown holds no figures");
	if (render_to(&md, &mdlen, false, &v, &none, dir, err))
		goto out;
	if (plotter_init(&p, o ? o->gnuplot : NULL, o ? o->plot_dir : NULL, err))
		goto out;
	ret = render_to(&html, &htmllen, true, &v, &p, dir, err);
	plotter_release(&p);
	if (ret)
		goto out;
	ret = report_write_pair(dir, "calibration.md", md, mdlen, "calibration.html", html, htmllen,
				err);
out:
	free(md);
	free(html);
	free(sim[0]);
	free(sim[1]);
	return ret;
}

int calibration_report_write(const struct cal_results *measured, const struct cal_fit *fit,
			     const struct sim_config *before, const struct cal_heldout *held,
			     const char *dir, struct wl_error *err)
{
	return calibration_report_write_opts(measured, fit, before, held, dir, NULL, err);
}
