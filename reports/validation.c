/*
 * validation.c - a validation suite as material for a paper (validation.h).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/plot.h"
#include "reports/validation.h"
#include "workload/json.h"

#define S VALIDATION_SIDE
#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)
#define MAX_HISTORY 1000

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(AT(o, key));
}

/* ---- provenance --------------------------------------------------------------------- */

/* One line: tool and commit, configuration, the bundle's host, kernel and date. */
static void prov_line(char *buf, size_t len, const cJSON *suite)
{
	const cJSON *p = AT(suite, "provenance"), *r = AT(p, "reference"), *h = AT(r, "host");
	const cJSON *cpu = AT(h, "cpu");

	snprintf(buf, len, "virtuoso %s (commit %s); configuration %s (%s); Linux recorded %s on "
		 "%s (%s), kernel %s, %s",
		 str(AT(p, "tool"), "version") ? str(AT(p, "tool"), "version") : "?",
		 str(AT(p, "tool"), "commit") ? str(AT(p, "tool"), "commit") : "?",
		 str(p, "config_hash") ? str(p, "config_hash") : "?",
		 str(p, "config") ? str(p, "config") : "?",
		 str(r, "date") ? str(r, "date") : "?",
		 str(cpu, "model_name") ? str(cpu, "model_name") : "?",
		 str(cpu, "key") ? str(cpu, "key") : "?", str(h, "kernel") ? str(h, "kernel") : "?",
		 cJSON_IsTrue(AT(h, "guest")) ? "guest" : "bare metal");
}

/* ---- files, whole or not at all ----------------------------------------------------- */

/* A document rendered in memory, then written whole (report_write_temp) and renamed. */
struct out {
	FILE *f;
	char *buf;
	size_t len;
	const char *dir, *name;
};

static int out_open(struct out *o, const char *dir, const char *name, struct wl_error *err)
{
	o->buf = NULL;
	o->dir = dir;
	o->name = name;
	if (!(o->f = open_memstream(&o->buf, &o->len)))
		return wl_error_set(err, dir, "", "cannot render %s: out of memory", name);
	return 0;
}

static int out_close(struct out *o, struct wl_error *err)
{
	char tmp[PATH_MAX], path[PATH_MAX + 64];
	bool ok = !ferror(o->f);
	int ret = -1;

	ok = !fclose(o->f) && ok && o->buf;
	if (!ok) {
		wl_error_set(err, o->dir, "", "cannot render %s: out of memory", o->name);
		goto out;
	}
	tmp[0] = '\0';
	if (report_write_temp(o->dir, o->name, o->buf, o->len, tmp, sizeof(tmp), err))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", o->dir, o->name);
	if (rename(tmp, path)) {
		wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(o->buf);
	return ret;
}

/* ---- what the table shows of a workload ---------------------------------------------- */

struct row {
	const char *name;
	const cJSON *m[2];		/* the runtime's and the p50's entries, or NULL */
	int fpass, fn;			/* functional metrics passing, of */
};

#define RUNTIME 0
#define P50 1

static void row_of(const cJSON *w, struct row *r)
{
	const cJSON *m;

	memset(r, 0, sizeof(*r));
	r->name = str(w, "workload");
	cJSON_ArrayForEach(m, AT(w, "metrics")) {
		const char *n = str(m, "name"), *sc = str(m, "scope");

		if (!n || !sc)
			continue;
		if (!strcmp(n, "runtime") && !strcmp(sc, "all"))
			r->m[RUNTIME] = m;
		/* the first fault kind Linux has a p50 for */
		if (!r->m[P50] && !strcmp(n, "fault_latency_p50") && strcmp(sc, "all") &&
		    isfinite(wj_num_or_nan(m, "linux")))
			r->m[P50] = m;
	}
	cJSON_ArrayForEach(m, AT(w, "functional")) {
		r->fn++;
		r->fpass += str(AT(m, S), "verdict") && !strcmp(str(AT(m, S), "verdict"), "pass");
	}
}

/* The suite's statistics of one timing metric. */
static const cJSON *suite_metric(const cJSON *suite, const char *name)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, AT(suite, "metrics"))
		if (str(m, "name") && !strcmp(str(m, "name"), name))
			return AT(m, S);
	return NULL;
}

static void functional_total(const cJSON *suite, int *pass, int *n)
{
	const cJSON *m;

	*pass = *n = 0;
	cJSON_ArrayForEach(m, AT(suite, "functional")) {
		*pass += (int)wj_num_or_nan(AT(m, S), "pass");
		*n += (int)wj_num_or_nan(AT(m, S), "n");
	}
}

/* ---- validation.csv ------------------------------------------------------------------ */

static void csv_num(FILE *f, double v)
{
	fputc(',', f);
	if (isfinite(v))
		fprintf(f, "%.10g", v);
}

static void csv_rows(FILE *f, const char *workload, const cJSON *arr, const char *klass)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, arr) {
		const cJSON *s = AT(m, S);

		wj_csv_field(f, workload);
		fprintf(f, ",%s,", klass);
		wj_csv_field(f, str(m, "name") ? str(m, "name") : "");
		fputc(',', f);
		wj_csv_field(f, str(m, "scope") ? str(m, "scope") : "");
		csv_num(f, wj_num_or_nan(m, "linux"));
		csv_num(f, wj_num_or_nan(m, "linux_lo"));
		csv_num(f, wj_num_or_nan(m, "linux_hi"));
		csv_num(f, wj_num_or_nan(s, "sim"));
		csv_num(f, wj_num_or_nan(s, "error"));
		fprintf(f, ",%s", str(s, "verdict") ? str(s, "verdict") : "");
		csv_num(f, wj_num_or_nan(m, "tolerance"));
		fputc('\n', f);
	}
}

static int write_csv(const cJSON *suite, const char *dir, const char *prov, struct wl_error *err)
{
	struct out o;
	const cJSON *w;

	if (out_open(&o, dir, "validation.csv", err))
		return -1;
	fprintf(o.f, "# %s\n", prov);
	fputs("# error: timing, the ratio error from the edge of Linux's band; functional, the "
	      "metric's distance (0: exact) or agreement (1: exact)\n", o.f);
	fputs("workload,class,metric,scope,linux,linux_lo,linux_hi,sim,error,verdict,tolerance\n",
	      o.f);
	cJSON_ArrayForEach(w, AT(suite, "workloads")) {
		const char *name = str(w, "workload") ? str(w, "workload") : "";

		csv_rows(o.f, name, AT(w, "metrics"), "timing");
		csv_rows(o.f, name, AT(w, "functional"), "functional");
	}
	return out_close(&o, err);
}

/* ---- validation.tex ------------------------------------------------------------------ */

static void tex(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '_': case '%': case '&': case '#': case '$': case '{': case '}':
			fprintf(f, "\\%c", *s);
			break;
		case '~':
			fputs("\\textasciitilde{}", f);
			break;
		case '^':
			fputs("\\textasciicircum{}", f);
			break;
		case '\\':
			fputs("\\textbackslash{}", f);
			break;
		default:
			fputc(*s, f);
		}
}

static void tex_num(FILE *f, double v, double scale, const char *fmt)
{
	if (isfinite(v))
		fprintf(f, fmt, v / scale);
	else
		fputs("--", f);
}

static void tex_pct(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.1f\\%%", 100 * v);
	else
		fputs("--", f);
}

static void tex_cells(FILE *f, const cJSON *m, double scale, const char *fmt)
{
	fputs(" & ", f);
	tex_num(f, m ? wj_num_or_nan(m, "linux") : NAN, scale, fmt);
	fputs(" & ", f);
	tex_num(f, m ? wj_num_or_nan(AT(m, S), "sim") : NAN, scale, fmt);
	fputs(" & ", f);
	tex_pct(f, m ? wj_num_or_nan(AT(m, S), "error") : NAN);
}

static int write_tex(const cJSON *suite, const char *dir, const char *prov, struct wl_error *err)
{
	const cJSON *w, *rt = suite_metric(suite, "runtime"), *p50 = suite_metric(suite,
										   "fault_latency_p50");
	const cJSON *p = AT(suite, "provenance"), *h = AT(AT(p, "reference"), "host");
	int nw = cJSON_GetArraySize(AT(suite, "workloads")), fp, fn;
	struct out o;

	if (out_open(&o, dir, "validation.tex", err))
		return -1;
	fputs("% validation.tex: written by virtuoso validate (reports/validation.c); \\input it.\n"
	      "% Needs \\usepackage{booktabs}.\n% ", o.f);
	fputs(prov, o.f);
	fputs("\n\\begin{table}[t]\n\\centering\n\\small\n"
	      "\\begin{tabular}{@{}l rrr l rrr r@{}}\n\\toprule\n"
	      " & \\multicolumn{3}{c}{Runtime (ms)} & & \\multicolumn{3}{c}{Fault latency p50 "
	      "($\\mu$s)} & Functional \\\\\n"
	      "\\cmidrule(lr){2-4}\\cmidrule(lr){6-8}\n"
	      "Workload & Linux & Sim. & Error & Fault kind & Linux & Sim. & Error & pass \\\\\n"
	      "\\midrule\n", o.f);
	cJSON_ArrayForEach(w, AT(suite, "workloads")) {
		struct row r;

		row_of(w, &r);
		tex(o.f, r.name ? r.name : "?");
		tex_cells(o.f, r.m[RUNTIME], 1e6, "%.2f");
		fputs(" & ", o.f);
		tex(o.f, r.m[P50] ? str(r.m[P50], "scope") : "--");
		tex_cells(o.f, r.m[P50], 1e3, "%.2f");
		fprintf(o.f, " & %d/%d \\\\\n", r.fpass, r.fn);
	}
	functional_total(suite, &fp, &fn);
	fprintf(o.f, "\\midrule\nSuite (%d), MAPE & & & ", nw);
	tex_pct(o.f, wj_num_or_nan(rt, "mape"));
	fputs(" & & & & ", o.f);
	tex_pct(o.f, wj_num_or_nan(p50, "mape"));
	fprintf(o.f, " & %d/%d \\\\\nSuite, max & & & ", fp, fn);
	tex_pct(o.f, wj_num_or_nan(rt, "max"));
	fputs(" & & & & ", o.f);
	tex_pct(o.f, wj_num_or_nan(p50, "max"));
	fputs(" & \\\\\n\\bottomrule\n\\end{tabular}\n\\caption{MimicOS and the simulator "
	      "against Linux ", o.f);
	tex(o.f, str(h, "kernel") ? str(h, "kernel") : "?");
	fputs(" on ", o.f);
	tex(o.f, str(AT(h, "cpu"), "model_name") ? str(AT(h, "cpu"), "model_name") : "?");
	fprintf(o.f, "%s. Linux: the median of its runs; error: the ratio error "
		"$\\max(s/l, l/s) - 1$ from the edge of the band of Linux's runs (0 inside it). "
		"Over the suite's runtimes, Pearson's $r$ of the logarithms ", cJSON_IsTrue(AT(h,
		"guest")) ? " (a guest)" : "");
	tex_num(o.f, wj_num_or_nan(rt, "pearson_r"), 1, "%.3f");
	fputs(", Kendall's $\\tau$ ", o.f);
	tex_num(o.f, wj_num_or_nan(rt, "kendall_tau"), 1, "%.3f");
	fputs(". Functional: metrics (counts, backing, allocation orders, faults by kind, "
	      "collapses, flushes) that pass. virtuoso ", o.f);
	tex(o.f, str(AT(p, "tool"), "commit") ? str(AT(p, "tool"), "commit") : "?");
	fputs(", configuration ", o.f);
	tex(o.f, str(p, "config_hash") ? str(p, "config_hash") : "?");
	fputs(".}\n\\label{tab:validation}\n\\end{table}\n", o.f);
	return out_close(&o, err);
}

/* ---- the figures --------------------------------------------------------------------- */

#define MAX_FIGS 32

struct fig {
	char stem[64], caption[300];
	struct figure f;
	bool pdf;
};

struct figs {
	struct fig fig[MAX_FIGS];
	size_t n;
};

static struct fig *fig_new(struct figs *fs, const char *stem, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct fig *fig_new(struct figs *fs, const char *stem, const char *fmt, ...)
{
	struct fig *x = &fs->fig[fs->n++];
	va_list ap;

	memset(x, 0, sizeof(*x));
	snprintf(x->stem, sizeof(x->stem), "%s", stem);
	va_start(ap, fmt);
	vsnprintf(x->caption, sizeof(x->caption), fmt, ap);
	va_end(ap);
	return x;
}

static void finish(struct plotter *p, struct fig *x, double w, double h)
{
	if (x->f.state == FIG_SVG)
		x->pdf = !figure_pdf(p, x->stem, w, h, &x->f);
}

/* Per workload, simulated over Linux's median for the runtime and the p50, Linux's band as bars. */
static void plot_workloads(struct plotter *p, const cJSON *suite, struct fig *x)
{
	static const char *const stem = "workload_errors";
	const cJSON *w;
	double lo = 1, hi = 1;
	int i = 0;
	FILE *d, *g;

	if (!fig_can_draw(p, &x->f) || !(d = fig_open(p, &x->f, "workload_errors.dat")))
		return;
	fputs("# index workload, then for the runtime and the p50: sim/linux lo/linux hi/linux "
	      "(? where none)\n", d);
	cJSON_ArrayForEach(w, AT(suite, "workloads")) {
		struct row r;
		const cJSON *const *m = r.m;

		row_of(w, &r);
		fprintf(d, "%d %s", i++, r.name ? r.name : "?");
		for (int k = 0; k < 2; k++) {
			double l = m[k] ? wj_num_or_nan(m[k], "linux") : NAN, s = m[k] ? wj_num_or_nan(AT(m[k], S), "sim") : NAN;
			double a = m[k] ? wj_num_or_nan(m[k], "linux_lo") : NAN, b = m[k] ? wj_num_or_nan(m[k], "linux_hi") : NAN;

			if (l > 0 && s > 0 && a > 0 && b > 0) {
				fprintf(d, " %.6g %.6g %.6g", s / l, a / l, b / l);
				lo = fmin(lo, fmin(s / l, a / l));
				hi = fmax(hi, fmax(s / l, b / l));
			} else {
				fputs(" ? ? ?", d);
			}
		}
		fputc('\n', d);
	}
	if (!fig_close(d, &x->f, "workload_errors.dat") ||
	    !(g = fig_open(p, &x->f, "workload_errors.gp")))
		return;
	gp_header(g, stem, 1000, 520);
	fprintf(g, "set datafile missing '?'\nset logscale y\nset yrange [%.4g:%.4g]\n", lo / 1.3,
		hi * 1.3);
	fprintf(g, "set xrange [-0.6:%d.6]\nset xtics rotate by -40 scale 0 font ',10'\n", i - 1);
	fputs("set ylabel 'simulated / Linux (median of its runs), log scale'\n"
	      "set key outside top center horizontal\n"
	      "set title 'Per workload: simulated over Linux; bars: the band of Linux''s runs'\n"
	      "set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#555555' dt 3\n",
	      g);
	fprintf(g, "plot '%s.dat' using ($1-0.15):(1):4:5:xtic(2) with yerrorbars pt 0 lw 1.5 "
		"lc rgb '%s' title 'Linux runtime band', \\\n"
		"     '' using ($1-0.15):3 with points pt 7 ps 1.1 lc rgb '%s' title 'simulated "
		"runtime', \\\n"
		"     '' using ($1+0.15):(1):7:8 with yerrorbars pt 0 lw 1.5 lc rgb '%s' dt 2 "
		"title 'Linux p50 band', \\\n"
		"     '' using ($1+0.15):6 with points pt 9 ps 1.1 lc rgb '%s' title 'simulated "
		"p50 (first fault kind)'\n", stem, REPORT_LINUX_RGB, REPORT_SIM_RGB,
		REPORT_LINUX_RGB, REPORT_SIM_RGB);
	if (fig_close(g, &x->f, "workload_errors.gp"))
		figure_draw(p, stem, "Per workload, simulated over Linux", &x->f);
}

/*
 * The grid of the kinds' CDFs: one script holding each kind's plot (its
 * script, less the terminal) in a multiplot, for SVG and for PDF.
 */
static void plot_cdf_grid(struct plotter *p, const char (*stems)[64], size_t n, struct fig *x)
{
	size_t cols = n < 3 ? n : 3, rows = (n + cols - 1) / cols;
	char name[96], path[PATH_MAX + 1024], line[1024];
	FILE *g;

	if (!n || !fig_can_draw(p, &x->f))
		return;
	for (int pdf = 0; pdf < 2; pdf++) {
		snprintf(name, sizeof(name), "cdf_grid%s.gp", pdf ? "-pdf" : "");
		if (!(g = fig_open(p, &x->f, name)))
			return;
		if (pdf)
			fprintf(g, "set terminal pdfcairo size %.1fin,%.1fin font 'sans,7'\n"
				"set output 'cdf_grid.pdf'\nset encoding utf8\n", 3.6 * (double)cols,
				2.6 * (double)rows);
		else
			gp_header(g, "cdf_grid", 520 * (int)cols, 340 * (int)rows);
		fprintf(g, "set multiplot layout %zu,%zu\n", rows, cols);
		for (size_t i = 0; i < n; i++) {
			FILE *in;

			snprintf(path, sizeof(path), "%s/%s.gp", p->dir, stems[i]);
			if (!(in = fopen(path, "r")))
				continue;
			/* a panel's own plot, with a short title and the key inside */
			while (fgets(line, sizeof(line), in)) {
				if (!strncmp(line, "set terminal", 12) || !strncmp(line, "set output", 10) ||
				    !strncmp(line, "set label 990", 13) || line[0] == '#')
					continue;
				if (!strncmp(line, "set title", 9))
					fprintf(g, "set title '%s' font ',10'\n", stems[i] + 4);
				else if (!strncmp(line, "set key", 7))
					fputs("set key inside bottom right font ',7' samplen 1\n", g);
				else if (!strncmp(line, "set xlabel", 10))
					fputs("set xlabel 'fault latency' font ',8'\n", g);
				else if (!strncmp(line, "set ylabel", 10))
					fputs("set ylabel 'fraction of faults' font ',8'\n", g);
				else
					fputs(line, g);
			}
			fclose(in);
		}
		fputs("unset multiplot\n", g);
		if (pdf)
			fputs("unset output\n", g);
		if (!fig_close(g, &x->f, name))
			return;
	}
	figure_draw(p, "cdf_grid", "Fault latency CDFs by kind", &x->f);
	if (x->f.state == FIG_SVG) {
		struct figure t = { 0 };

		x->pdf = !gnuplot_script(p, "cdf_grid-pdf", &t);
		figure_release(&t);
	}
}

/* ---- history ------------------------------------------------------------------------- */

cJSON *validation_history_entry(const cJSON *suite, const char *date)
{
	const cJSON *p = AT(suite, "provenance"), *m;
	cJSON *e = cJSON_CreateObject(), *ms, *f;
	int fp, fn;

	if (!e)
		return NULL;
	cJSON_AddStringToObject(e, "date", date);
	cJSON_AddStringToObject(e, "commit", str(AT(p, "tool"), "commit") ?
				str(AT(p, "tool"), "commit") : "?");
	cJSON_AddStringToObject(e, "config_hash", str(p, "config_hash") ? str(p, "config_hash") :
				"?");
	ms = cJSON_AddObjectToObject(e, "metrics");
	cJSON_ArrayForEach(m, AT(suite, "metrics")) {
		cJSON *o = cJSON_AddObjectToObject(ms, str(m, "name") ? str(m, "name") : "?");

		wj_add_num_or_null(o, "mape", wj_num_or_nan(AT(m, S), "mape"));
		wj_add_num_or_null(o, "max", wj_num_or_nan(AT(m, S), "max"));
		wj_add_num_or_null(o, "pearson_r", wj_num_or_nan(AT(m, S), "pearson_r"));
	}
	functional_total(suite, &fp, &fn);
	f = cJSON_AddObjectToObject(e, "functional");
	cJSON_AddNumberToObject(f, "pass", fp);
	cJSON_AddNumberToObject(f, "n", fn);
	return e;
}

/* The history's lines, checked: each an object with a commit and metrics. */
static int history_read(const char *path, cJSON **lines, size_t *n, struct wl_error *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, no = 0;
	ssize_t len;
	int ret = 0;

	*n = 0;
	if (!f)
		return wl_error_set(err, path, "", "cannot read it: %s", strerror(errno));
	while ((len = getline(&line, &cap, f)) > 0) {
		cJSON *j;
		char where[32];

		no++;
		if (len == 1 && line[0] == '\n')
			continue;
		snprintf(where, sizeof(where), "line %zu", no);
		j = cJSON_Parse(line);
		if (!cJSON_IsObject(j) || !str(j, "commit") || !cJSON_IsObject(AT(j, "metrics"))) {
			cJSON_Delete(j);
			ret = wl_error_set(err, path, where, "expected a JSON object with commit and "
					   "metrics (a virtuoso validate --history line)");
			break;
		}
		if (*n == MAX_HISTORY) {
			cJSON_Delete(lines[0]);
			memmove(lines, lines + 1, (MAX_HISTORY - 1) * sizeof(*lines));
			--*n;
		}
		lines[(*n)++] = j;
	}
	free(line);
	fclose(f);
	if (ret) {
		for (size_t i = 0; i < *n; i++)
			cJSON_Delete(lines[i]);
		*n = 0;
	}
	return ret;
}

int validation_history_check(const char *path, struct wl_error *err)
{
	cJSON **lines;
	size_t n = 0;
	int ret;

	if (access(path, F_OK))
		return 0;
	if (!(lines = calloc(MAX_HISTORY, sizeof(*lines))))
		return wl_error_set(err, path, "", "out of memory");
	ret = history_read(path, lines, &n, err);
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(lines[i]);
	free(lines);
	return ret;
}

static void plot_history(struct plotter *p, cJSON *const *lines, size_t n, struct fig *x)
{
	static const char *const names[] = { "runtime", "phase_runtime", "fault_latency_p50",
					     "fault_latency_p90", "fault_latency_p99" };
	const size_t nm = sizeof(names) / sizeof(names[0]);
	FILE *d, *g;

	if (!fig_can_draw(p, &x->f) || !(d = fig_open(p, &x->f, "history.dat")))
		return;
	fputs("# index commit, then the MAPE of each metric (? where none)\n", d);
	for (size_t i = 0; i < n; i++) {
		char c[16];

		snprintf(c, sizeof(c), "%.12s", str(lines[i], "commit"));
		fprintf(d, "%zu %s", i, c);
		for (size_t k = 0; k < nm; k++) {
			double v = wj_num_or_nan(AT(AT(lines[i], "metrics"), names[k]), "mape");

			if (isfinite(v))
				fprintf(d, " %.6g", 100 * v);
			else
				fputs(" ?", d);
		}
		fputc('\n', d);
	}
	if (!fig_close(d, &x->f, "history.dat") || !(g = fig_open(p, &x->f, "history.gp")))
		return;
	gp_header(g, "history", 1000, 460);
	fprintf(g, "set datafile missing '?'\nset xrange [-0.5:%zu.5]\n"
		"set xtics rotate by -40 scale 0 font ',9'\nset ylabel 'MAPE (%%)'\n"
		"set key outside right top\nset title 'Each timing metric''s MAPE over the commits "
		"of the history'\nplot ", n ? n - 1 : 0);
	for (size_t k = 0; k < nm; k++)
		fprintf(g, "%s'history.dat' using 1:%zu%s with linespoints lw 2 pt 7 title '%s'",
			k ? ", \\\n     " : "", k + 3, k ? "" : ":xtic(2)", names[k]);
	fputc('\n', g);
	if (fig_close(g, &x->f, "history.gp"))
		figure_draw(p, "history", "Each timing metric's MAPE over the commits", &x->f);
}

/* ---- validation.html ----------------------------------------------------------------- */

static void h(FILE *f, const char *s)
{
	report_html_escape(f, s);
}

static void html_pct(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.1f%%", 100 * v);
	else
		fputs("n/a", f);
}

static void html_num(FILE *f, double v, const char *fmt)
{
	if (isfinite(v))
		fprintf(f, fmt, v);
	else
		fputs("n/a", f);
}

static int write_html(const cJSON *suite, const char *dir, const char *prov,
		      const struct figs *fs, bool history, struct wl_error *err)
{
	static const char *const files[][2] = {
		{ "validation.tex", "the table for a paper (booktabs)" },
		{ "validation.csv", "every metric of every workload" },
		{ "validation.json", "the suite, per workload and metric" },
		{ "validation.md", "the same as Markdown" },
	};
	const cJSON *m, *w;
	struct out o;
	FILE *f;

	if (out_open(&o, dir, "validation.html", err))
		return -1;
	f = o.f;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>Validation against Linux (virtuoso)</title>\n<style>\n", f);
	fputs(report_html_style, f);
	fputs("img.fig{max-width:100%;height:auto;border:1px solid #ddd}\n</style>\n</head>\n"
	      "<body>\n<main>\n<h1>Validation against Linux</h1>\n<p class=\"meta\">", f);
	h(f, prov);
	fputs("</p>\n<h2>Files</h2>\n<ul>\n", f);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4300];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		if (access(path, R_OK) && strcmp(files[i][0], "validation.tex") &&
		    strcmp(files[i][0], "validation.csv"))
			continue;
		fprintf(f, "<li><a href=\"%s\">%s</a>: ", files[i][0], files[i][0]);
		h(f, files[i][1]);
		fputs("</li>\n", f);
	}
	fputs("</ul>\n<h2>Timing metrics over the suite</h2>\n<p>Ratio error max(sim/linux, "
	      "linux/sim) &minus; 1 from the edge of Linux's band; r: Pearson's of the logarithms, "
	      "tau: Kendall's tau-b.</p>\n<table>\n<thead><tr><th>metric</th><th class=\"num\">n"
	      "</th><th class=\"num\">MAPE</th><th class=\"num\">max</th><th class=\"num\">"
	      "aggregate</th><th class=\"num\">r</th><th class=\"num\">tau</th><th class=\"num\">"
	      "pass</th></tr></thead>\n<tbody>\n", f);
	cJSON_ArrayForEach(m, AT(suite, "metrics")) {
		const cJSON *s = AT(m, S);

		fputs("<tr><td>", f);
		h(f, str(m, "name") ? str(m, "name") : "?");
		fputs("</td><td class=\"num\">", f);
		html_num(f, wj_num_or_nan(s, "n"), "%.0f");
		fputs("</td><td class=\"num\">", f);
		html_pct(f, wj_num_or_nan(s, "mape"));
		fputs("</td><td class=\"num\">", f);
		html_pct(f, wj_num_or_nan(s, "max"));
		fputs("</td><td class=\"num\">", f);
		html_pct(f, wj_num_or_nan(s, "aggregate"));
		fputs("</td><td class=\"num\">", f);
		html_num(f, wj_num_or_nan(s, "pearson_r"), "%.3f");
		fputs("</td><td class=\"num\">", f);
		html_num(f, wj_num_or_nan(s, "kendall_tau"), "%.3f");
		fputs("</td><td class=\"num\">", f);
		html_num(f, wj_num_or_nan(s, "pass"), "%.0f");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n<h2>Functional metrics over the suite</h2>\n<table>\n<thead>"
	      "<tr><th>metric</th><th class=\"num\">pass</th><th class=\"num\">of</th></tr>"
	      "</thead>\n<tbody>\n", f);
	cJSON_ArrayForEach(m, AT(suite, "functional")) {
		fputs("<tr><td>", f);
		h(f, str(m, "name") ? str(m, "name") : "?");
		fprintf(f, "</td><td class=\"num\">%.0f</td><td class=\"num\">%.0f</td></tr>\n",
			wj_num_or_nan(AT(m, S), "pass"), wj_num_or_nan(AT(m, S), "n"));
	}
	fputs("</tbody>\n</table>\n<h2>Figures</h2>\n", f);
	for (size_t i = 0; i < fs->n; i++) {
		const struct fig *x = &fs->fig[i];

		if (x->f.state == FIG_SVG) {
			fprintf(f, "<figure><a href=\"figures/%s.svg\"><img class=\"fig\" "
				"src=\"figures/%s.svg\" alt=\"", x->stem, x->stem);
			h(f, x->caption);
			fputs("\"></a><figcaption>", f);
			h(f, x->caption);
			if (x->pdf)
				fprintf(f, " (<a href=\"figures/%s.pdf\">PDF</a>)", x->stem);
			fputs("</figcaption></figure>\n", f);
		} else {
			fputs("<p class=\"note\">", f);
			h(f, x->caption);
			fputs(": ", f);
			h(f, x->f.why[0] ? x->f.why : "not drawn");
			fputs("</p>\n", f);
		}
	}
	if (!history)
		fputs("<p class=\"note\">No history: virtuoso validate --history FILE appends each "
		      "run's statistics to FILE and plots them here.</p>\n", f);
	fputs("<h2>Per workload</h2>\n<table>\n<thead><tr><th>workload</th><th class=\"num\">"
	      "runtime, Linux (ms)</th><th class=\"num\">simulated</th><th class=\"num\">error"
	      "</th><th>fault kind</th><th class=\"num\">p50, Linux (µs)</th><th class=\"num\">"
	      "simulated</th><th class=\"num\">error</th><th class=\"num\">functional</th></tr>"
	      "</thead>\n<tbody>\n", f);
	cJSON_ArrayForEach(w, AT(suite, "workloads")) {
		struct row r;
		const cJSON *const *c = r.m;

		row_of(w, &r);
		fputs("<tr><td>", f);
		h(f, r.name ? r.name : "?");
		for (int k = 0; k < 2; k++) {
			double sc = k ? 1e3 : 1e6;

			if (k) {
				fputs("</td><td>", f);
				h(f, r.m[P50] ? str(r.m[P50], "scope") : "-");
			}
			fputs("</td><td class=\"num\">", f);
			html_num(f, c[k] ? wj_num_or_nan(c[k], "linux") / sc : NAN, "%.3f");
			fputs("</td><td class=\"num\">", f);
			html_num(f, c[k] ? wj_num_or_nan(AT(c[k], S), "sim") / sc : NAN, "%.3f");
			fputs("</td><td class=\"num\">", f);
			html_pct(f, c[k] ? wj_num_or_nan(AT(c[k], S), "error") : NAN);
		}
		fprintf(f, "</td><td class=\"num\">%d/%d</td></tr>\n", r.fpass, r.fn);
	}
	fputs("</tbody>\n</table>\n</main>\n<footer>Written by virtuoso validate "
	      "(reports/validation.c); figures drawn by gnuplot.</footer>\n</body>\n</html>\n", f);
	return out_close(&o, err);
}

/* ---- all of it ----------------------------------------------------------------------- */

int validation_docs_write(const cJSON *suite, const struct suite_faults *faults,
			  const char *history, const char *out, const struct report_options *o,
			  struct wl_error *err)
{
	static const char *const scatter[] = { "runtime", "phase_runtime", "fault_latency_p50",
					       "fault_latency_p90", "fault_latency_p99" };
	static const char *const sides[1] = { S };
	char prov[1200], figdir[4200], stem[64], cdfs[FAULT_KIND_NR][64];
	cJSON **lines = NULL;
	size_t nlines = 0, ncdf = 0;
	struct figs *fs = calloc(1, sizeof(*fs));
	struct plotter p;
	int ret = -1;

	if (!fs)
		return wl_error_set(err, out, "", "out of memory");
	prov_line(prov, sizeof(prov), suite);
	if (history) {
		lines = calloc(MAX_HISTORY, sizeof(*lines));
		if (!lines || history_read(history, lines, &nlines, err))
			goto out_free;
	}
	if (write_csv(suite, out, prov, err) || write_tex(suite, out, prov, err))
		goto out_free;
	snprintf(figdir, sizeof(figdir), "%s/figures", out);
	if (plotter_init(&p, o ? o->gnuplot : NULL, figdir, err))
		goto out_free;
	snprintf(p.footer, sizeof(p.footer), "%.300s", prov);

	for (size_t i = 0; i < sizeof(scatter) / sizeof(scatter[0]); i++) {
		unsigned fam = 0;
		struct fig *x;

		while (fam < SUITE_FAMILY_NR && strcmp(suite_family_name(fam), scatter[i]))
			fam++;
		snprintf(stem, sizeof(stem), "scatter_%s", scatter[i]);
		x = fig_new(fs, stem, "%s: simulated against Linux, every workload%s, Linux's band as "
			    "error bars, y = x", suite_family_desc(fam),
			    i > 1 ? " and fault kind" : i ? " and phase" : "");
		suite_plot_scatter(&p, suite, sides, 1, SUITE_MASK(fam), suite_family_desc(fam),
				   stem, &x->f);
		finish(&p, x, 5, 4.6);
	}
	{
		struct fig *x = fig_new(fs, "workload_errors", "Per workload: simulated over Linux's "
					"median for the runtime and the first fault kind's p50, "
					"Linux's band as error bars");

		plot_workloads(&p, suite, x);
		finish(&p, x, 7, 3.6);
	}
	if (faults) {
		for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
			size_t any = faults->sim[k][0].n;
			struct fig *x;

			for (size_t r = 0; r < faults->nr; r++)
				any += faults->linux_runs[k][r].n;
			if (!any || fs->n >= MAX_FIGS - 2)
				continue;
			snprintf(stem, sizeof(stem), "cdf_%s", fault_kind_name(k));
			x = fig_new(fs, stem, "Fault latency CDF, %s (%s), every workload's faults "
				    "pooled", fault_kind_name(k), fault_kind_desc(k));
			suite_plot_cdf(&p, faults, k, sides, stem, &x->f);
			finish(&p, x, 6, 3);
			if (x->f.state == FIG_SVG)
				snprintf(cdfs[ncdf++], sizeof(cdfs[0]), "%s", stem);
		}
		plot_cdf_grid(&p, (const char (*)[64])cdfs, ncdf,
			      fig_new(fs, "cdf_grid", "Fault latency CDFs of every kind, a grid"));
	}
	if (history) {
		struct fig *x = fig_new(fs, "history", "Each timing metric's MAPE over the commits "
					"of the history");

		plot_history(&p, lines, nlines, x);
		finish(&p, x, 7, 3.2);
	}
	ret = write_html(suite, out, prov, fs, history != NULL, err);
	plotter_release(&p);
out_free:
	for (size_t i = 0; i < fs->n; i++)
		figure_release(&fs->fig[i].f);
	for (size_t i = 0; i < nlines; i++)
		cJSON_Delete(lines[i]);
	free(lines);
	free(fs);
	return ret;
}
