/*
 * report.c - report.md and report.html from a comparison (report.h).
 *
 * One renderer writes both documents through a tiny document layer (struct
 * doc: headings, paragraphs, lists, tables, figures) that speaks Markdown or
 * HTML, so the two always hold the same tables. Markdown gets a plotter
 * with nowhere to draw: its figures come back empty (a note says why) or
 * missing (a pointer to report.html), never gnuplot's output.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/plot.h"
#include "workload/side.h"
#include "reports/report.h"

/* ---- values as text ----------------------------------------------------------- */

#define DASH "\u2014"
/*
 * In a table cell, what follows SUB is a second, smaller line (HTML) or
 * follows after a comma (Markdown): a median's range under it, say.
 */
#define SUB "\x1f"

static const char *fmt_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, DASH);
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

static const char *fmt_bytes(char *buf, size_t len, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = 0;

	if (isnan(v))
		return fmt_num(buf, len, v);
	while (fabs(v) >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.4g %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static const char *fmt_ns(char *buf, size_t len, double v)
{
	if (isnan(v))
		return fmt_num(buf, len, v);
	if (fabs(v) < 1e3)
		snprintf(buf, len, "%.0f ns", v);
	else if (fabs(v) < 1e6)
		snprintf(buf, len, "%.4g \u00b5s", v / 1e3);
	else if (fabs(v) < 1e9)
		snprintf(buf, len, "%.4g ms", v / 1e6);
	else
		snprintf(buf, len, "%.4g s", v / 1e9);
	return buf;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A metric's Linux or simulated value, in the metric's unit. */
static const char *fmt_metric_value(char *buf, size_t len, const char *metric, double v)
{
	size_t n = strlen(metric);

	if (n > 6 && !strcmp(metric + n - 6, "_bytes"))
		return fmt_bytes(buf, len, v);
	if (!strncmp(metric, "fault_latency_p", 15) || !strcmp(metric, "runtime") ||
	    !strcmp(metric, "phase_runtime"))
		return fmt_ns(buf, len, v);
	if (!strcmp(metric, "cold_faults") && !isnan(v)) {
		snprintf(buf, len, "%.3g%%", v * 100);
		return buf;
	}
	return fmt_num(buf, len, v);
}

/*
 * A value of Linux's runs: the median and, when the runs differ, their
 * range "min..max (N runs)" after SUB; in the unit of 'metric'.
 */
static const char *fmt_range(char *buf, size_t len, const char *metric, double med, double lo,
			     double hi, unsigned runs)
{
	char m[48], a[48], b[48];

	fmt_metric_value(m, sizeof(m), metric, med);
	/* runs that agree need no range: the first screen says how many there were */
	if (runs <= 1 || isnan(lo) || isnan(hi) || lo == hi)
		snprintf(buf, len, "%s", m);
	else
		snprintf(buf, len, "%s" SUB "%s..%s (%u runs)", m,
			 fmt_metric_value(a, sizeof(a), metric, lo),
			 fmt_metric_value(b, sizeof(b), metric, hi), runs);
	return buf;
}

/* Linux's value of a metric, as fmt_range() writes it. */
static const char *fmt_linux_value(char *buf, size_t len, const struct metric *m)
{
	return fmt_range(buf, len, m->name, m->linux_value, m->linux_lo, m->linux_hi,
			 m->linux_runs);
}

/* The median, least and greatest of v[0..k) (sorted in place); NAN for none. */
static void runs_spread(double *v, size_t k, double *med, double *lo, double *hi)
{
	if (!k) {
		*med = *lo = *hi = NAN;
		return;
	}
	qsort(v, k, sizeof(*v), cmp_double);
	*med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	*lo = v[0];
	*hi = v[k - 1];
}

static const char *fmt_ratio(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, DASH);
	else
		snprintf(buf, len, "%.4g", v);
	return buf;
}

static const char *fmt_tolerance(char *buf, size_t len, double t, bool higher_is_better)
{
	if (isnan(t))
		snprintf(buf, len, DASH);
	else
		snprintf(buf, len, "%s %.4g", higher_is_better ? "<" : ">", t);
	return buf;
}

static const char *verdict_cls(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "v-pass";
	case VERDICT_WARN: return "v-warn";
	case VERDICT_FAIL: return "v-fail";
	case VERDICT_UNSTABLE: return "v-unstable";
	default: return "v-na";
	}
}

/* A JSON value as table text; malloc'ed. */
static char *json_text(const cJSON *v)
{
	char buf[64];

	if (cJSON_IsString(v))
		return strdup(v->valuestring ? v->valuestring : "");
	if (cJSON_IsBool(v))
		return strdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNull(v))
		return strdup("null");
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(buf, sizeof(buf), "%.0f", d);
		else
			snprintf(buf, sizeof(buf), "%.10g", d);
		return strdup(buf);
	}
	return cJSON_PrintUnformatted(v);
}

/* ---- tables -------------------------------------------------------------------- */

struct cell {
	char *text;
	const char *cls;		/* HTML: "badge v-..." (a verdict), a class, or "" */
	const char *row_cls;		/* first cell of a row: the row's class */
};

struct table {
	size_t ncols;
	const char *const *head;
	unsigned num;			/* bit i: column i right-aligned (numbers) */
	struct cell *cells;
	size_t nr, cap;
	const char *next_row_cls;
};

static void table_init(struct table *t, const char *const *head, size_t ncols, unsigned num)
{
	memset(t, 0, sizeof(*t));
	t->head = head;
	t->ncols = ncols;
	t->num = num;
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->cells[i].text);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

static void table_add(struct table *t, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void table_add(struct table *t, const char *cls, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	if (t->nr == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct cell *c = realloc(t->cells, cap * sizeof(*c));

		if (!c)
			return;		/* the cell is lost; the table stays consistent enough */
		t->cells = c;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	t->cells[t->nr] = (struct cell){ .text = text, .cls = cls ? cls : "" };
	if (t->nr % t->ncols == 0) {
		t->cells[t->nr].row_cls = t->next_row_cls;
		t->next_row_cls = NULL;
	}
	t->nr++;
}

/* The next row's class (HTML). */
static void table_row_class(struct table *t, const char *cls)
{
	t->next_row_cls = cls;
}

static size_t table_rows(const struct table *t)
{
	return t->nr / t->ncols;
}

/* ---- the document layer ----------------------------------------------------------- */

struct doc {
	FILE *f;
	bool html;
};

static void md_escape_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == SUB[0])
			fputs(", ", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void esc(struct doc *d, const char *s)
{
	if (d->html)
		report_html_escape(d->f, s);
	else
		fputs(s ? s : "", d->f);
}

/* A cell's text, HTML: the part after SUB on a line of its own. */
static void esc_cell(struct doc *d, const char *s)
{
	const char *sub = s ? strchr(s, SUB[0]) : NULL;
	char *head;

	if (!sub || !(head = strndup(s, (size_t)(sub - s)))) {
		esc(d, s);
		return;
	}
	esc(d, head);
	fputs("<br><span class=\"sub\">", d->f);
	esc(d, sub + 1);
	fputs("</span>", d->f);
	free(head);
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

static void doc_h(struct doc *d, int level, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void doc_h(struct doc *d, int level, const char *id, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	if (d->html) {
		fprintf(d->f, "<h%d%s%s%s>", level, id ? " id=\"" : "", id ? id : "", id ? "\"" : "");
		esc(d, s);
		fprintf(d->f, "</h%d>\n", level);
	} else {
		fprintf(d->f, "%.*s %s\n\n", level, "######", s ? s : "");
	}
	free(s);
}

/* A paragraph; cls "note" (italic aside) or "warning" (a call-out), or NULL. */
static void doc_p(struct doc *d, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void doc_p(struct doc *d, const char *cls, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	if (d->html) {
		fprintf(d->f, "<p%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
		esc(d, s);
		fputs("</p>\n", d->f);
	} else if (cls && !strcmp(cls, "note")) {
		fprintf(d->f, "*%s*\n\n", s ? s : "");
	} else if (cls && !strcmp(cls, "warning")) {
		fprintf(d->f, "> **Warning:** %s\n\n", s ? s : "");
	} else {
		fprintf(d->f, "%s\n\n", s ? s : "");
	}
	free(s);
}

static void doc_ul(struct doc *d, bool open)
{
	if (d->html)
		fputs(open ? "<ul>\n" : "</ul>\n", d->f);
	else if (!open)
		fputc('\n', d->f);
}

/* A list item led by a verdict badge (or none: VERDICT_NA with badge false). */
static void doc_li(struct doc *d, const enum verdict *badge, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void doc_li(struct doc *d, const enum verdict *badge, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	if (d->html) {
		fputs("<li>", d->f);
		if (badge)
			fprintf(d->f, "<span class=\"badge %s\">%s</span> ", verdict_cls(*badge),
				verdict_name(*badge));
		esc(d, s);
		fputs("</li>\n", d->f);
	} else {
		fprintf(d->f, "- %s%s%s\n", badge ? verdict_name(*badge) : "", badge ? ": " : "",
			s ? s : "");
	}
	free(s);
}

/* Render and release the table. */
static void doc_table(struct doc *d, struct table *t)
{
	size_t rows = table_rows(t);

	if (!d->html) {
		fputc('|', d->f);
		for (size_t j = 0; j < t->ncols; j++) {
			fputc(' ', d->f);
			md_escape_cell(d->f, t->head[j]);
			fputs(" |", d->f);
		}
		fputs("\n|", d->f);
		for (size_t j = 0; j < t->ncols; j++)
			fputs(t->num & (1u << j) ? "---:|" : "---|", d->f);
		fputc('\n', d->f);
		for (size_t i = 0; i < rows; i++) {
			fputc('|', d->f);
			for (size_t j = 0; j < t->ncols; j++) {
				const char *s = t->cells[i * t->ncols + j].text;

				fputc(' ', d->f);
				md_escape_cell(d->f, s);
				fputs(s && *s ? " |" : "|", d->f);
			}
			fputc('\n', d->f);
		}
		fputc('\n', d->f);
		table_release(t);
		return;
	}
	fputs("<table>\n<thead><tr>", d->f);
	for (size_t j = 0; j < t->ncols; j++) {
		fprintf(d->f, "<th scope=\"col\"%s>", t->num & (1u << j) ? " class=\"num\"" : "");
		esc(d, t->head[j]);
		fputs("</th>", d->f);
	}
	fputs("</tr></thead>\n<tbody>\n", d->f);
	for (size_t i = 0; i < rows; i++) {
		const struct cell *row = &t->cells[i * t->ncols];

		if (row[0].row_cls)
			fprintf(d->f, "<tr class=\"%s\">", row[0].row_cls);
		else
			fputs("<tr>", d->f);
		for (size_t j = 0; j < t->ncols; j++) {
			const struct cell *c = &row[j];
			bool badge = !strncmp(c->cls, "badge", 5);

			bool num = t->num & (1u << j), own = *c->cls && !badge;

			if (num || own)
				fprintf(d->f, "<td class=\"%s%s%s\">", num ? "num" : "",
					num && own ? " " : "", own ? c->cls : "");
			else
				fputs("<td>", d->f);
			if (badge)
				fprintf(d->f, "<span class=\"%s\">", c->cls);
			esc_cell(d, c->text);
			fputs(badge ? "</span></td>" : "</td>", d->f);
		}
		fputs("</tr>\n", d->f);
	}
	fputs("</tbody>\n</table>\n", d->f);
	table_release(t);
}

/* Render and release the figure. */
static void doc_figure(struct doc *d, struct figure *fig, const char *caption)
{
	if (fig->state == FIG_EMPTY) {
		doc_p(d, "note", "%s", fig->why);
	} else if (!d->html) {
		fprintf(d->f, "*Plot in report.html: %s.*\n\n", caption);
	} else {
		figure_html(d->f, fig, caption);
	}
	figure_release(fig);
}

/* ---- the sections ------------------------------------------------------------------ */

static const char *side_label(int s)
{
	return s ? "simulated" : "Linux";
}

static size_t count_verdict(const struct comparison *c, enum verdict v)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nr_metrics; i++)
		n += c->metrics[i].verdict == v;
	return n;
}

static const char *workload_name(const struct comparison *c)
{
	if (c->linux_side->workload)
		return c->linux_side->workload;
	return c->sim_side->workload ? c->sim_side->workload : "?";
}

/* "2 pass, 1 warn, 5 fail" over the metrics of class k, the verdicts that occur. */
static const char *class_counts(char *buf, size_t len, const struct comparison *c,
				enum metric_class k)
{
	static const enum verdict order[] = {
		VERDICT_PASS, VERDICT_WARN, VERDICT_FAIL, VERDICT_UNSTABLE, VERDICT_NA,
	};
	size_t at = 0;

	buf[0] = '\0';
	for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
		size_t n = 0;

		for (size_t i = 0; i < c->nr_metrics; i++)
			n += c->metrics[i].klass == k && c->metrics[i].verdict == order[j];
		if (n && at < len)
			at += (size_t)snprintf(buf + at, len - at, "%s%zu %s", at ? ", " : "", n,
					       verdict_name(order[j]));
	}
	if (!at)
		snprintf(buf, len, "no metrics");
	return buf;
}

/* What the three verdicts are made of, as the first screen says it. */
#define NR_VERDICT_CLASSES 3
static const char *const class_checks[NR_VERDICT_CLASSES] = {
	[METRIC_FUNCTIONAL] = "faults, pages and their backing, allocation orders, collapses, "
			      "TLB flushes",
	[METRIC_TIMING] = "runtimes, fault latency by kind",
	[METRIC_TLB] = "TLB misses, STLB hits, walks by page size and walk cycles, against the "
		       "host's hardware counters",
};

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "?";
}

/*
 * The first screen: the overall verdict and the counts, the functional and
 * the timing verdict side by side, whether timing can be expected to pass
 * at all, how many Linux runs stand behind Linux's values, and the worst
 * failures in words.
 */
static void section_verdict_summary(struct doc *d, const struct comparison *c)
{
	static const char *const class_title[NR_VERDICT_CLASSES] = { "Functional", "Timing", "TLB" };
	const struct side *const *runs;
	size_t nr_runs = report_linux_runs(c, &runs);
	const struct metric *worst[3];
	size_t nr_worst = comparison_worst(c, worst, 3);
	const enum verdict v[NR_VERDICT_CLASSES] = { c->functional, c->timing, c->tlb };
	char counts[NR_VERDICT_CLASSES][96], what[160];

	for (int k = 0; k < NR_VERDICT_CLASSES; k++)
		class_counts(counts[k], sizeof(counts[k]), c, (enum metric_class)k);
	if (d->html) {
		fprintf(d->f, "<p class=\"overall\">Overall verdict: <span class=\"badge %s big\">%s</span>"
			" &middot; results %s &middot; %zu metrics: %zu pass, %zu warn, %zu fail, "
			"%zu n/a, %zu unstable</p>\n", verdict_cls(c->overall), verdict_name(c->overall),
			c->complete ? "complete" : "<strong>incomplete</strong>", c->nr_metrics,
			count_verdict(c, VERDICT_PASS), count_verdict(c, VERDICT_WARN),
			count_verdict(c, VERDICT_FAIL), count_verdict(c, VERDICT_NA),
			count_verdict(c, VERDICT_UNSTABLE));
		fputs("<div class=\"classes\">\n", d->f);
		for (int k = 0; k < NR_VERDICT_CLASSES; k++) {
			fprintf(d->f, "<div class=\"class-card\"><span class=\"class-name\">%s</span> "
				"<span class=\"badge %s big\">%s</span>", class_title[k],
				verdict_cls(v[k]), verdict_name(v[k]));
			if (k == METRIC_TIMING && !c->calibrated)
				fputs(" <span class=\"tag\">uncalibrated configuration</span>", d->f);
			fputs("<div class=\"meta\">", d->f);
			esc(d, class_checks[k]);
			fputs(": ", d->f);
			esc(d, counts[k]);
			fputs("</div></div>\n", d->f);
		}
		fputs("</div>\n", d->f);
	} else {
		static const char *const head[] = { "Functional", "Timing", "TLB" };
		struct table t;

		fprintf(d->f, "**Overall verdict: %s** · results %s · %zu metrics: %zu pass, %zu warn, "
			"%zu fail, %zu n/a, %zu unstable\n\n", verdict_name(c->overall),
			c->complete ? "complete" : "**incomplete**", c->nr_metrics,
			count_verdict(c, VERDICT_PASS), count_verdict(c, VERDICT_WARN),
			count_verdict(c, VERDICT_FAIL), count_verdict(c, VERDICT_NA),
			count_verdict(c, VERDICT_UNSTABLE));
		table_init(&t, head, NR_VERDICT_CLASSES, 0);
		table_add(&t, NULL, "**%s**", verdict_name(v[0]));
		table_add(&t, NULL, "**%s**%s", verdict_name(v[1]),
			  c->calibrated ? "" : " (uncalibrated configuration)");
		table_add(&t, NULL, "**%s**", verdict_name(v[2]));
		for (int k = 0; k < NR_VERDICT_CLASSES; k++)
			table_add(&t, NULL, "%s: %s", class_checks[k], counts[k]);
		doc_table(d, &t);
	}
	if (!c->calibrated)
		doc_p(d, "warning", "Uncalibrated configuration: the simulated machine was not "
		      "calibrated for this host (sim.json does not say \"calibrated\": true), so "
		      "the timing verdict is expected to fail until the model is calibrated for "
		      "this host. The functional verdict does not depend on it.");
	if (nr_runs > 1) {
		char *names = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&names, &len);

		for (size_t r = 0; m && r < nr_runs; r++)
			fprintf(m, "%s%s", r ? ", " : "", base_name(runs[r]->path));
		if (m)
			fclose(m);
		doc_p(d, NULL, "Linux runs: %zu (%s). Linux's values are their median, shown with "
		      "their range min..max; counts and times are judged from the range's nearest "
		      "edge.", nr_runs, names ? names : "?");
		free(names);
	} else {
		doc_p(d, NULL, "Linux runs: 1. With one run, Linux's own spread is unknown: a "
		      "divergence may be Linux varying (virtuoso linux --repeat N records N runs).");
	}
	if (!nr_worst)
		return;
	doc_p(d, NULL, "Worst failures:");
	doc_ul(d, true);
	for (size_t i = 0; i < nr_worst; i++) {
		metric_describe(worst[i], what, sizeof(what));
		doc_li(d, &worst[i]->verdict, "%s", what);
	}
	doc_ul(d, false);
}

static void section_run(struct doc *d, const struct comparison *c)
{
	const struct side *sides[2] = { c->linux_side, c->sim_side };
	static const char *const head[] = { "", "Linux", "simulated" };
	static const char *const head_runs[] = { "", "Linux (first run)", "simulated" };
	const struct side *const *runs;
	struct table t;
	char a[64], b[64];

	section_verdict_summary(d, c);
	if (c->sim_side->replayed)
		doc_p(d, "note", "The simulated side replays a recorded command (virtuoso sim "
		      "--replay; docs/recordings.md): MimicOS took its anonymous mmaps at Linux's "
		      "addresses, its munmap, mprotect and madvise calls, its heap as mappings, and "
		      "each of its faults in a region in their order, khugepaged on the recording's "
		      "clock. A recording cannot tell the accesses that did not fault (so the replay "
		      "is untimed), the accessed bits khugepaged reads (set only by the replayed "
		      "faults), nor what mremap moved (replayed as an unmap and a new mapping); "
		      "file and shared mappings are not MimicOS's, and neither are their TLB flushes.");
	for (int s = 0; s < 2; s++)
		if (!sides[s]->complete || sides[s]->dropped_events)
			doc_p(d, "warning", "The %s side is %s (%" PRIu64 " events dropped): its counts "
			      "and the metrics built on them may be short.", side_label(s),
			      sides[s]->complete ? "marked complete but lost events" : "incomplete",
			      sides[s]->dropped_events);

	table_init(&t, report_linux_runs(c, &runs) > 1 ? head_runs : head, 3, 0);
	table_add(&t, NULL, "file");
	for (int s = 0; s < 2; s++)
		table_add(&t, NULL, "%s", sides[s]->path ? sides[s]->path : DASH);
	table_add(&t, NULL, "tool version");
	for (int s = 0; s < 2; s++)
		table_add(&t, NULL, "%s", sides[s]->version ? sides[s]->version : DASH);
	table_add(&t, NULL, "complete");
	for (int s = 0; s < 2; s++)
		table_add(&t, NULL, "%s", sides[s]->complete ? "yes" : "no");
	table_add(&t, NULL, "dropped events");
	for (int s = 0; s < 2; s++)
		table_add(&t, NULL, "%" PRIu64, sides[s]->dropped_events);
	table_add(&t, NULL, "event log");
	for (int s = 0; s < 2; s++)
		if (sides[s]->has_log)
			table_add(&t, NULL, "yes (%zu faults)", sides[s]->nr_faults);
		else
			table_add(&t, NULL, "none");
	table_add(&t, NULL, "runtime");
	for (int s = 0; s < 2; s++)
		table_add(&t, NULL, "%s", fmt_ns(s ? b : a, sizeof(a), (double)sides[s]->runtime_ns));
	table_add(&t, NULL, "regions, phases");
	for (int s = 0; s < 2; s++)
		table_add(&t, NULL, "%zu, %zu", sides[s]->nr_regions, sides[s]->nr_phases);
	doc_table(d, &t);

	if (count_verdict(c, VERDICT_FAIL) + count_verdict(c, VERDICT_WARN) +
	    count_verdict(c, VERDICT_UNSTABLE)) {
		static const enum verdict listed[] = { VERDICT_FAIL, VERDICT_WARN, VERDICT_UNSTABLE };

		doc_p(d, NULL, "Metrics that did not pass:");
		doc_ul(d, true);
		for (size_t j = 0; j < sizeof(listed) / sizeof(listed[0]); j++)
			for (size_t i = 0; i < c->nr_metrics; i++) {
				const struct metric *m = &c->metrics[i];
				const char *info = m->klass == METRIC_INFO ? ", info: not counted" : "";
				char v[32], tol[32];

				if (m->verdict != listed[j])
					continue;
				if (m->verdict == VERDICT_UNSTABLE) {
					doc_li(d, &m->verdict, "%s (%s%s): Linux's runs disagree and the "
					       "simulated value is inside their range%s%s", m->name,
					       m->scope, info, m->note[0] ? "; " : "", m->note);
					continue;
				}
				doc_li(d, &m->verdict, "%s (%s%s): %s, %s if %s%s%s", m->name, m->scope,
				       info, fmt_ratio(v, sizeof(v), m->value),
				       m->verdict == VERDICT_FAIL ? "fails" : "warns",
				       fmt_tolerance(tol, sizeof(tol), m->verdict == VERDICT_FAIL ?
						     m->fail : m->warn, m->higher_is_better),
				       m->note[0] ? "; " : "", m->note);
			}
		doc_ul(d, false);
	}
}

static void section_verdicts(struct doc *d, const struct comparison *c)
{
	static const char *const head[] = {
		"Metric", "Scope", "Class", "Linux", "Simulated", "Divergence", "Warn if",
		"Fail if", "Verdict", "Note",
	};
	static const char *const class_text[] = {
		[METRIC_FUNCTIONAL] = "functional", [METRIC_TIMING] = "timing",
		[METRIC_TLB] = "tlb", [METRIC_INFO] = "info (not counted)",
	};
	/* info metrics: the verdict outlined, not filled, since it counts toward none */
	static const char *const badge[][2] = {
		[VERDICT_PASS] = { "badge v-pass", "badge v-pass muted" },
		[VERDICT_WARN] = { "badge v-warn", "badge v-warn muted" },
		[VERDICT_FAIL] = { "badge v-fail", "badge v-fail muted" },
		[VERDICT_NA] = { "badge v-na", "badge v-na muted" },
		[VERDICT_UNSTABLE] = { "badge v-unstable", "badge v-unstable muted" },
	};
	struct table t;

	doc_h(d, 2, "verdicts", "Verdicts");
	doc_p(d, NULL, "One row per metric. Its class says which verdict it makes: functional, "
	      "timing or tlb; info metrics are shown but count toward none. Divergence: for "
	      "counts and sizes the relative error |sim - linux| / max(linux, 1); for times "
	      "(runtime, phase_runtime, fault_latency_p50/p90/p99) the ratio error max(sim / "
	      "linux, linux / sim) - 1, the same for too fast and too slow (2 is 3x off either "
	      "way); a distance (alloc_orders, scan_results: total variation; "
	      "fault_latency_wasserstein: 1-Wasserstein over Linux's median) or, for "
	      "backing_agreement, the fraction of 4 KiB pages whose class agrees (higher is "
	      "better).");
	doc_p(d, NULL, "With several Linux runs, Linux's value is their median, shown with their "
	      "range min..max (N runs): Linux's band. A count or a time inside the band diverges "
	      "by 0; outside it, the error is taken from the band's nearest edge. A distance is "
	      "taken from the Linux run nearest the simulated side. A metric warns beyond \"warn "
	      "if\" and fails beyond \"fail if\"; n/a: not measured on a side; unstable: "
	      "Linux's runs disagree on a count and the simulated value is inside their range, "
	      "so the metric can blame neither side and fails nothing.");
	if (!c->nr_metrics) {
		doc_p(d, "note", "The comparison holds no metrics.");
		return;
	}
	table_init(&t, head, 10, 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7);
	for (size_t i = 0; i < c->nr_metrics; i++) {
		const struct metric *m = &c->metrics[i];
		bool info = m->klass == METRIC_INFO;
		char buf[128];

		table_row_class(&t, info ? "info" : NULL);
		table_add(&t, "nowrap", "%s", m->name);
		table_add(&t, "nowrap", "%s", m->scope);
		table_add(&t, "nowrap", "%s", m->klass <= METRIC_INFO ? class_text[m->klass] : "?");
		table_add(&t, NULL, "%s", fmt_linux_value(buf, sizeof(buf), m));
		table_add(&t, NULL, "%s", fmt_metric_value(buf, sizeof(buf), m->name, m->sim_value));
		table_add(&t, NULL, "%s", fmt_ratio(buf, sizeof(buf), m->value));
		table_add(&t, NULL, "%s", fmt_tolerance(buf, sizeof(buf), m->warn, m->higher_is_better));
		table_add(&t, NULL, "%s", fmt_tolerance(buf, sizeof(buf), m->fail, m->higher_is_better));
		table_add(&t, badge[m->verdict <= VERDICT_UNSTABLE ? m->verdict : VERDICT_NA][info],
			  "%s", verdict_name(m->verdict));
		table_add(&t, NULL, "%s", m->note);
	}
	doc_table(d, &t);
}

static void section_regions(struct doc *d, const struct comparison *c)
{
	static const char *const head[] = {
		"Region", "Side", "Start", "Size", "Faults", "THP faults", "Huge", "Resident",
		"none", "zero", "pte", "pmd",
	};
	struct table t;

	doc_h(d, 2, "regions", "Regions");
	doc_p(d, NULL, "Per region and side, at the end of the run: faults in the region, faults "
	      "that installed a PMD-mapped 2 MiB page, bytes mapped by PMDs and present, and the "
	      "region's 4 KiB pages by class.");
	table_init(&t, head, 12, 0xff0u);
	for (size_t i = 0; i < c->linux_side->nr_regions; i++) {
		const struct side_region *r[2];
		int si;

		r[0] = &c->linux_side->regions[i];
		si = report_region_index(c->sim_side, r[0]->name);
		r[1] = si >= 0 ? &c->sim_side->regions[si] : NULL;
		for (int s = 0; s < 2; s++) {
			char a[32], b[32], h[32];

			table_add(&t, NULL, "%s", r[0]->name ? r[0]->name : "?");
			table_add(&t, NULL, "%s", side_label(s));
			if (!r[s]) {
				table_add(&t, NULL, "not on this side");
				for (int k = 0; k < 9; k++)
					table_add(&t, NULL, DASH);
				continue;
			}
			table_add(&t, NULL, "0x%" PRIx64, r[s]->start);
			table_add(&t, NULL, "%s", fmt_bytes(a, sizeof(a), (double)r[s]->size));
			table_add(&t, NULL, "%" PRIu64, r[s]->faults);
			table_add(&t, NULL, "%" PRIu64, r[s]->thp_faults);
			table_add(&t, NULL, "%s", fmt_bytes(h, sizeof(h), (double)r[s]->huge_bytes));
			table_add(&t, NULL, "%s", fmt_bytes(b, sizeof(b), (double)r[s]->resident_bytes));
			for (int k = 0; k < PAGE_CLASS_NR; k++)
				table_add(&t, NULL, "%" PRIu64, r[s]->pages[k]);
		}
	}
	doc_table(d, &t);
}

static const char *phase_region(const struct side *s, const struct side_phase *p)
{
	if (p->region >= 0 && (size_t)p->region < s->nr_regions && s->regions[p->region].name)
		return s->regions[p->region].name;
	return DASH;
}

static void section_phases(struct doc *d, const struct comparison *c, struct plotter *p)
{
	static const char *const head[] = {
		"#", "Op", "Region", "Linux start", "Linux runtime", "Linux without probes",
		"Sim start", "Sim runtime", "Linux faults", "Sim faults", "Linux THP", "Sim THP",
	};
	const struct side *L = c->linux_side, *S = c->sim_side;
	size_t n = L->nr_phases > S->nr_phases ? L->nr_phases : S->nr_phases;
	const struct side *const *runs;
	struct figure fig;
	struct table t;
	char cap[320];

	doc_h(d, 2, "phases", "Phases");
	if (!n) {
		doc_p(d, "note", "Neither side recorded phases.");
		return;
	}
	doc_p(d, NULL, "Phases are numbered from 0, as in the metrics' scopes and the event logs. "
	      "Start times are from the first phase's start, each in its own world's time "
	      "(Linux: wall time; simulated: simulated time). \"Linux without probes\" is the "
	      "same phase in a second run of the workload without the probes: the simulated "
	      "world has none, so timing is judged by it where every Linux run has one (the "
	      "fault_time_share rows of the verdicts say how much of each phase is fault "
	      "time, in both worlds).%s",
	      report_linux_runs(c, &runs) > 1 ? " The table shows Linux's first run (the one "
	      "whose addresses the simulated side used); the figure all of its runs." : "");
	table_init(&t, head, 12, 0xff9u);
	for (size_t i = 0; i < n; i++) {
		const struct side_phase *ph[2] = {
			i < L->nr_phases ? &L->phases[i] : NULL,
			i < S->nr_phases ? &S->phases[i] : NULL,
		};
		const struct side_phase *any = ph[0] ? ph[0] : ph[1];
		char buf[4][32];

		table_add(&t, NULL, "%zu", i);
		table_add(&t, NULL, "%s", any->op ? any->op : "?");
		table_add(&t, NULL, "%s", phase_region(ph[0] ? L : S, any));
		for (int s = 0; s < 2; s++) {
			table_add(&t, NULL, "%s", ph[s] ? fmt_ns(buf[2 * s], 32, (double)ph[s]->start_ns) : DASH);
			table_add(&t, NULL, "%s", ph[s] ? fmt_ns(buf[2 * s + 1], 32,
							       (double)ph[s]->runtime_ns) : DASH);
			if (!s) {
				char pf[32];

				/* the same phase in Linux's run without probes: what timing is judged by */
				table_add(&t, NULL, "%s", ph[0] && ph[0]->probe_free_ns ?
					  fmt_ns(pf, sizeof(pf), (double)ph[0]->probe_free_ns) : DASH);
			}
		}
		for (int s = 0; s < 2; s++)
			if (ph[s])
				table_add(&t, NULL, "%" PRIu64, ph[s]->faults);
			else
				table_add(&t, NULL, DASH);
		for (int s = 0; s < 2; s++)
			if (ph[s])
				table_add(&t, NULL, "%" PRIu64, ph[s]->thp_faults);
			else
				table_add(&t, NULL, DASH);
	}
	doc_table(d, &t);
	plot_phase_runtime(p, c, &fig);
	if (report_linux_runs(c, &runs) > 1)
		snprintf(cap, sizeof(cap), "Phase runtimes (log scale): Linux's median over its %zu "
			 "runs, the bar from the fastest to the slowest, against simulated; labels: "
			 "how many times too fast or too slow the simulated phase is from the nearest "
			 "edge of Linux's range", report_linux_runs(c, &runs));
	else
		snprintf(cap, sizeof(cap), "Phase runtimes (log scale): Linux's one run against "
			 "simulated; labels: how many times too fast or too slow the simulated phase is");
	doc_figure(d, &fig, cap);
}
static void section_timeline(struct doc *d, const struct comparison *c, struct plotter *p)
{
	const struct side *sides[2] = { c->linux_side, c->sim_side };
	const struct side *const *runs;
	struct figure fig;
	uint64_t t = 0;
	size_t same, n;
	char buf[32];

	doc_h(d, 2, "timeline", "Fault timeline");
	doc_p(d, NULL, "The workload's user faults in each side's event log (in its regions, "
	      "during its phases, as the metrics count them), counted as they happened. "
	      "Above: against each world's own clock, phase starts dashed and numbered (Linux's "
	      "at the top, the simulated side's at the bottom). Below: each phase stretched to "
	      "the same width, to compare shapes when the two worlds run at different speeds.%s%s",
	      report_linux_runs(c, &runs) > 1 ? " Linux's curve is its first run's, the one "
	      "whose addresses the simulated side used." : "",
	      sides[0]->nr_flushes || sides[1]->nr_flushes ? " Marks against the right axis: the "
	      "workload's TLB flushes on each CPU (circles its local flushes, triangles up the "
	      "remote shootdowns it received, down the IPIs its flushes sent)." : "");
	for (int s = 0; s < 2; s++)
		if ((same = report_untimed_faults(sides[s], &t, &n)))
			doc_p(d, "note", "%zu of the %s side's %zu faults carry one time (%s): its "
			      "event log does not time them, so its curve rises at once.", same,
			      side_label(s), n, fmt_ns(buf, sizeof(buf), (double)t));
	plot_fault_timeline(p, c, &fig);
	doc_figure(d, &fig, "Cumulative faults over time, Linux and simulated");
}

/* The latencies of one kind, per side: what the table and the captions say. */
struct kind_latency {
	unsigned nr_runs;		/* Linux's runs with a latency of the kind */
	/* [0] Linux (median of its runs; lo, hi: their range), [1] simulated */
	double n[2], cold[2], q[2][4];	/* q: p50, p90, p99, max */
	double n_lo, n_hi, cold_lo, cold_hi, q_lo[4], q_hi[4];
};

static const double kind_q[3] = { 0.5, 0.9, 0.99 };

static int kind_latency_get(const struct comparison *c, unsigned kind, struct kind_latency *kl)
{
	const struct side *const *runs;
	size_t nr = report_linux_runs(c, &runs), k = 0;
	double n[COMPARE_MAX_RUNS], cold[COMPARE_MAX_RUNS], q[4][COMPARE_MAX_RUNS];

	memset(kl, 0, sizeof(*kl));
	for (size_t r = 0; r <= nr; r++) {
		const struct side *s = r < nr ? runs[r] : c->sim_side;
		size_t nv, nc;
		uint64_t *v = report_kind_latencies(s, kind, &nv, &nc);

		if (!v)
			return -1;
		if (r < nr) {
			n[r] = (double)nv;
			cold[r] = (double)nc;
			if (nv) {
				for (int i = 0; i < 3; i++)
					q[i][k] = (double)sample_quantile(v, nv, kind_q[i]);
				q[3][k++] = (double)v[nv - 1];
			}
		} else {
			kl->n[1] = (double)nv;
			kl->cold[1] = (double)nc;
			for (int i = 0; i < 3; i++)
				kl->q[1][i] = nv ? (double)sample_quantile(v, nv, kind_q[i]) : NAN;
			kl->q[1][3] = nv ? (double)v[nv - 1] : NAN;
		}
		free(v);
	}
	kl->nr_runs = (unsigned)k;
	runs_spread(n, nr, &kl->n[0], &kl->n_lo, &kl->n_hi);
	runs_spread(cold, nr, &kl->cold[0], &kl->cold_lo, &kl->cold_hi);
	for (int i = 0; i < 4; i++)
		runs_spread(q[i], k, &kl->q[0][i], &kl->q_lo[i], &kl->q_hi[i]);
	return 0;
}

/* "2" or "2 (1..3 over 3 runs)": a count of Linux's runs in running text. */
static const char *fmt_count_runs(char *buf, size_t len, double med, double lo, double hi,
				  size_t runs)
{
	if (runs > 1 && lo != hi)
		snprintf(buf, len, "%.0f (%.0f..%.0f over %zu runs)", med, lo, hi, runs);
	else
		snprintf(buf, len, "%.0f", med);
	return buf;
}

static void latency_rows(struct table *t, const struct comparison *c, unsigned kind,
			 const struct kind_latency *kl)
{
	const struct side *const *runs;
	size_t nr = report_linux_runs(c, &runs);
	bool all = kind >= FAULT_KIND_NR;

	for (int s = 0; s < 2; s++) {
		char buf[128];

		table_row_class(t, all ? "info" : NULL);
		table_add(t, "nowrap", "%s", all ? "all (information only)" : fault_kind_name(kind));
		table_add(t, NULL, "%s", side_label(s));
		if (s) {
			table_add(t, NULL, "%.0f", kl->n[1]);
			table_add(t, NULL, all ? "%.0f kept" : "%.0f", kl->cold[1]);
		} else {
			table_add(t, NULL, "%s", fmt_range(buf, sizeof(buf), "faults", kl->n[0], kl->n_lo,
							   kl->n_hi, (unsigned)nr));
			fmt_range(buf, sizeof(buf), "faults", kl->cold[0], kl->cold_lo, kl->cold_hi,
				  (unsigned)nr);
			table_add(t, NULL, all ? "%s kept" : "%s", buf);
		}
		for (int i = 0; i < 4; i++)
			if (s)
				table_add(t, NULL, "%s", fmt_ns(buf, sizeof(buf), kl->q[1][i]));
			else
				table_add(t, NULL, "%s", fmt_range(buf, sizeof(buf), "runtime", kl->q[0][i],
								   kl->q_lo[i], kl->q_hi[i],
								   kl->nr_runs));
	}
}

/* One kind's CDF, its caption counting the faults drawn and the cold ones left out. */
static void latency_figure(struct doc *d, const struct comparison *c, struct plotter *p,
			   unsigned kind, const struct kind_latency *kl)
{
	const struct side *const *runs;
	size_t nr = report_linux_runs(c, &runs);
	bool all = kind >= FAULT_KIND_NR;
	char cap[480], n[64], cold[64];
	struct figure fig;

	plot_latency_cdf(p, c, kind, &fig);
	fmt_count_runs(n, sizeof(n), kl->n[0], kl->n_lo, kl->n_hi, nr);
	fmt_count_runs(cold, sizeof(cold), kl->cold[0], kl->cold_lo, kl->cold_hi, nr);
	if (all)
		snprintf(cap, sizeof(cap), "All faults together, every kind, cold ones kept "
			 "(information only): latency CDF (log-scale x), Linux measured (%s faults%s) "
			 "and MimicOS simulated (%.0f faults)", n, kl->nr_runs > 1 ? ", shaded: the "
			 "range of its runs, line: their median" : "", kl->n[1]);
	else
		snprintf(cap, sizeof(cap), "%s (%s): latency CDF (log-scale x), Linux measured (%s "
			 "faults%s) and MimicOS simulated (%.0f faults). Cold faults left out: Linux "
			 "%s, simulated %.0f", fault_kind_name(kind), fault_kind_desc(kind), n,
			 kl->nr_runs > 1 ? ", shaded: the range of its runs, line: their median" : "",
			 kl->n[1], cold, kl->cold[1]);
	doc_figure(d, &fig, cap);
}

static void section_latency(struct doc *d, const struct comparison *c, struct plotter *p)
{
	static const char *const head[] = { "Kind", "Side", "Faults", "Cold (left out)", "p50",
					    "p90", "p99", "max" };
	const struct side *const *runs;
	size_t nr = report_linux_runs(c, &runs);
	struct kind_latency kl[FAULT_KIND_NR + 1];
	bool present[FAULT_KIND_NR + 1], any = false;
	struct table t;

	doc_h(d, 2, "latency", "Fault latency");
	doc_p(d, NULL, "Linux: the kernel's fault handling time as the probes measured it. "
	      "Simulated: MimicOS's fault handling time in the timing model. By fault kind (what "
	      "the kernel did for the fault, as the comparison classifies it from the event "
	      "logs), because kinds differ by orders of magnitude (a 4 KiB page in about a "
	      "microsecond, a 2 MiB THP in hundreds of microseconds or more): a mix of kinds "
	      "compares their shares as much as their latencies. Cold faults, more than %d times the lower quartile of "
	      "their kind on their side (first touches of memory the hypervisor had not "
	      "backed), are left out of their kind as its timing metrics leave them out. "
	      "Quantiles by nearest rank.", FAULT_COLD_FACTOR);
	if (nr > 1)
		doc_p(d, NULL, "Linux's values are the median of its %zu runs, with their range. In "
		      "the figures, the shaded envelope spans, at each fraction of faults, the "
		      "fastest to the slowest run, and the line is their median.", nr);
	for (unsigned k = 0; k <= FAULT_KIND_NR; k++) {
		present[k] = k == FAULT_KIND_NR || report_kind_present(c, k);
		if (present[k] && kind_latency_get(c, k, &kl[k]))
			present[k] = false;	/* out of memory: the row is lost */
		any |= present[k] && (kl[k].nr_runs || kl[k].n[1]);
	}
	if (any) {
		table_init(&t, head, 8, 0xfcu);
		for (unsigned k = 0; k <= FAULT_KIND_NR; k++)
			if (present[k])
				latency_rows(&t, c, k, &kl[k]);
		doc_table(d, &t);
	}
	for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
		if (!present[k])
			continue;
		doc_h(d, 3, NULL, "%s: %s", fault_kind_name(k), fault_kind_desc(k));
		latency_figure(d, c, p, k, &kl[k]);
	}
	doc_h(d, 3, NULL, "All faults together (information only)");
	doc_p(d, NULL, "Every kind in one distribution, cold faults kept, as the metrics of scope "
	      "\"all\" take it. It counts toward no verdict: the mix moves with the shares of the "
	      "kinds as much as with their latencies.");
	if (present[FAULT_KIND_NR])
		latency_figure(d, c, p, FAULT_KIND_NR, &kl[FAULT_KIND_NR]);
}

static void section_backing(struct doc *d, const struct comparison *c, struct plotter *p)
{
	doc_h(d, 2, "backing", "Backing per 2 MiB block");
	doc_p(d, NULL, "For each region, one strip per side (Linux above, simulated below), one "
	      "cell per 2 MiB-aligned block of the region (large regions: per group of blocks), "
	      "stacked by the share of the block's 4 KiB pages in each class at the end of the "
	      "run: pmd (part of a PMD-mapped 2 MiB page), pte, zero page, none.");
	for (size_t i = 0; i < c->linux_side->nr_regions; i++) {
		const struct side_region *r = &c->linux_side->regions[i];
		struct figure fig;
		char size[32], cap[200];

		doc_h(d, 3, NULL, "Region %s (%s at 0x%" PRIx64 " on Linux)", r->name ? r->name : "?",
		      fmt_bytes(size, sizeof(size), (double)r->size), r->start);
		plot_backing(p, c, i, &fig);
		snprintf(cap, sizeof(cap), "Backing of region %s per 2 MiB block: Linux above, "
			 "simulated below", r->name ? r->name : "?");
		doc_figure(d, &fig, cap);
	}
	if (!c->linux_side->nr_regions)
		doc_p(d, "note", "There are no regions.");
}

static void section_orders(struct doc *d, const struct comparison *c, struct plotter *p)
{
	static const char *const head[] = { "Order", "Folio size", "Linux", "Simulated" };
	uint64_t o[2][SIDE_ORDERS];
	struct figure fig;
	struct table t;

	doc_h(d, 2, "orders", "Allocation orders");
	doc_p(d, NULL, "Folios allocated at fault time, by order, over all regions; bars show each "
	      "side's shares so that the two histograms compare at a glance, labels the counts.");
	plot_alloc_orders(p, c, &fig);
	doc_figure(d, &fig, "Fault allocation orders, Linux and simulated");
	report_alloc_orders(c->linux_side, o[0]);
	report_alloc_orders(c->sim_side, o[1]);
	table_init(&t, head, 4, 0xfu);
	for (int k = 0; k < SIDE_ORDERS; k++) {
		char size[32];

		if (!o[0][k] && !o[1][k])
			continue;
		table_add(&t, NULL, "%d", k);
		table_add(&t, NULL, "%s", fmt_bytes(size, sizeof(size), (double)(4096ull << k)));
		table_add(&t, NULL, "%" PRIu64, o[0][k]);
		table_add(&t, NULL, "%" PRIu64, o[1][k]);
	}
	if (table_rows(&t))
		doc_table(d, &t);
	else
		table_release(&t);
}

/* A named histogram as a figure and a table, or a note when empty on both sides. */
static void named_section(struct doc *d, struct plotter *p, const char *stem, const char *what,
			  const char *title, const struct side_named_count *lx, size_t nr_lx,
			  const struct side_named_count *sm, size_t nr_sm, uint64_t total_lx,
			  uint64_t total_sm)
{
	const char *head[] = { what, "Linux", "Simulated" };
	const char **names = NULL;
	uint64_t *a = NULL, *b = NULL;
	struct figure fig;
	struct table t;
	size_t n;

	plot_named_counts(p, stem, title, lx, nr_lx, sm, nr_sm, &fig);
	if (fig.state == FIG_EMPTY) {
		figure_release(&fig);
		doc_p(d, "note", "No %s on either side.", title);
		return;
	}
	doc_figure(d, &fig, title);
	if (report_named_union(lx, nr_lx, sm, nr_sm, &names, &a, &b, &n))
		return;
	table_init(&t, head, 3, 0x6u);
	for (size_t i = 0; i < n; i++) {
		table_add(&t, NULL, "%s", names[i]);
		table_add(&t, NULL, "%" PRIu64, a[i]);
		table_add(&t, NULL, "%" PRIu64, b[i]);
	}
	if (total_lx != UINT64_MAX) {
		table_add(&t, NULL, "total");
		table_add(&t, NULL, "%" PRIu64, total_lx);
		table_add(&t, NULL, "%" PRIu64, total_sm);
	}
	doc_table(d, &t);
	free(names);
	free(a);
	free(b);
}

static void section_khugepaged(struct doc *d, const struct comparison *c, struct plotter *p)
{
	const struct side *L = c->linux_side, *S = c->sim_side;

	doc_h(d, 2, "khugepaged", "khugepaged and collapses");
	doc_p(d, NULL, "Successful collapses (khugepaged and MADV_COLLAPSE): Linux %" PRIu64
	      ", simulated %" PRIu64 ". Outcomes by the kernel's names (enum scan_result).",
	      L->collapses, S->collapses);
	doc_h(d, 3, NULL, "Scan results (khugepaged.scan_pmd)");
	named_section(d, p, "khugepaged_scan", "Scan result", "khugepaged scan results",
		      L->scan_results, L->nr_scan_results, S->scan_results, S->nr_scan_results,
		      UINT64_MAX, 0);
	doc_h(d, 3, NULL, "Collapse results (khugepaged.collapse)");
	named_section(d, p, "khugepaged_collapse", "Collapse result", "collapse results",
		      L->collapse_results, L->nr_collapse_results, S->collapse_results,
		      S->nr_collapse_results, UINT64_MAX, 0);
}

static void section_tlb(struct doc *d, const struct comparison *c, struct plotter *p)
{
	const struct side *L = c->linux_side, *S = c->sim_side;

	doc_h(d, 2, "tlb", "TLB flushes");
	if (!L->nr_tlb_flushes && !S->nr_tlb_flushes && !L->tlb_flush_total && !S->tlb_flush_total) {
		doc_p(d, "note", "No TLB flushes on either side.");
		return;
	}
	named_section(d, p, "tlb_flushes", "Reason", "TLB flushes by reason", L->tlb_flushes,
		      L->nr_tlb_flushes, S->tlb_flushes, S->nr_tlb_flushes, L->tlb_flush_total,
		      S->tlb_flush_total);
	if (L->nr_threads <= 1 && S->nr_threads <= 1)
		return;
	doc_p(d, NULL, "The same flushes by the CPU they ran on (a thread's CPU is in the "
	      "Threads section), and the cross-calls of the mm's flushes, queued for another CPU "
	      "and run there, whoever sent them.");
	named_section(d, p, "tlb_flushes_by_cpu", "CPU", "TLB flushes by CPU", L->tlb_by_cpu,
		      L->nr_tlb_by_cpu, S->tlb_by_cpu, S->nr_tlb_by_cpu, UINT64_MAX, UINT64_MAX);
	if (L->has_tlb_ipis || S->has_tlb_ipis) {
		const char *head[] = { "Cross-calls", "Linux", "Simulated" };
		struct table t;

		table_init(&t, head, 3, 0x6u);
		table_add(&t, NULL, "queued");
		table_add(&t, NULL, "%" PRIu64, L->tlb_ipis_sent);
		table_add(&t, NULL, "%" PRIu64, S->tlb_ipis_sent);
		table_add(&t, NULL, "run");
		table_add(&t, NULL, "%" PRIu64, L->tlb_ipis_received);
		table_add(&t, NULL, "%" PRIu64, S->tlb_ipis_received);
		doc_table(d, &t);
	}
}

/*
 * The TLB verdict's rows, phase by phase; where there is none, why, and
 * where the TLB model was checked instead.
 */
static void section_tlb_misses(struct doc *d, const struct comparison *c)
{
	static const char *const head[] = {
		"Metric", "Phase (accesses)", "Linux", "Simulated", "Divergence", "Verdict", "Note",
	};
	const cJSON *cal = cJSON_GetObjectItemCaseSensitive(c->sim_side->json, "calibration_file");
	const char *why = NULL;
	struct table t;
	size_t rows = 0;

	doc_h(d, 2, "tlb-misses", "TLB misses");
	for (size_t i = 0; i < c->nr_metrics; i++)
		if (c->metrics[i].klass == METRIC_TLB) {
			if (c->metrics[i].verdict != VERDICT_NA)
				rows++;
			else if (!why)
				why = c->metrics[i].note;
		}
	if (c->tlb == VERDICT_NA) {
		doc_p(d, "note", "No TLB verdict: the host's hardware counters were not compared "
		      "(%s).", why ? why : "no TLB metric");
		if (c->calibrated)
			doc_p(d, NULL, "The simulated TLBs, page-walk caches and walker were checked "
			      "only through timing: by the pointer-chase curve of the calibration "
			      "this configuration came from (%s), whose page chases, from 8 pages to "
			      "beyond the STLB's reach, with 4 KiB and with 2 MiB pages, the fit "
			      "reproduces (its calibration.json gives each point's residual).",
			      cJSON_IsString(cal) ? cal->valuestring : "sim.json's config.calibration");
		else
			doc_p(d, NULL, "The simulated TLBs, page-walk caches and walker are checked "
			      "only through timing where the host has no counters: by the "
			      "pointer-chase curve of a calibration of the host (virtuoso calibrate). "
			      "This configuration is uncalibrated, so this run checked them against "
			      "nothing.");
		return;
	}
	doc_p(d, NULL, "The host's data-TLB counters (linux.json's counter_events say which "
	      "events, and which accesses they count) against the simulated MMU's counts of "
	      "the same meaning (sim.json's tlb_events), phase by phase. Counts diverge by "
	      "|sim - linux| / max(linux, 1%% of the phase's accesses); walk cycles per access "
	      "by the ratio error.");
	table_init(&t, head, 7, 0x1cu);
	for (size_t i = 0; i < c->nr_metrics; i++) {
		const struct metric *m = &c->metrics[i];
		char a[32], cls[24];

		if (m->klass != METRIC_TLB || (m->verdict == VERDICT_NA && !strcmp(m->scope, "all")))
			continue;
		table_add(&t, NULL, "%s", m->name);
		table_add(&t, NULL, "%s", m->scope);
		table_add(&t, NULL, "%.10g", m->linux_value);
		table_add(&t, NULL, "%.10g", m->sim_value);
		table_add(&t, NULL, "%s", fmt_ratio(a, sizeof(a), m->value));
		snprintf(cls, sizeof(cls), "badge %s", verdict_cls(m->verdict));
		table_add(&t, cls, "%s", verdict_name(m->verdict));
		table_add(&t, NULL, "%s", m->note);
	}
	doc_table(d, &t);
	if (rows < c->nr_metrics && why)
		doc_p(d, NULL, "Not compared: %s.", why);
}

/* A spec with threads: each thread's CPU and faults on both sides. */
static void section_threads(struct doc *d, const struct comparison *c)
{
	const struct side *L = c->linux_side, *S = c->sim_side;
	const char *head[] = { "Thread", "Linux CPU", "Linux faults", "Simulated core",
			       "Simulated faults" };
	size_t n = L->nr_threads > S->nr_threads ? L->nr_threads : S->nr_threads;
	struct table t;

	if (n <= 1)
		return;
	doc_h(d, 2, "threads", "Threads");
	doc_p(d, NULL, "Each thread's CPU (Linux: the CPU of its last fault; pinned, thread t to "
	      "the (t mod n)th CPU; simulated: core t mod cores) and its faults in the phases. "
	      "The metrics table compares each thread's faults and, as information, its median "
	      "fault latency.");
	table_init(&t, head, 5, 0x1eu);
	for (size_t i = 0; i < n; i++) {
		table_add(&t, NULL, "%zu", i);
		if (i < L->nr_threads && L->thread_cpus[i] >= 0)
			table_add(&t, NULL, "%" PRId64, L->thread_cpus[i]);
		else
			table_add(&t, NULL, "?");
		if (i < L->nr_threads)
			table_add(&t, NULL, "%" PRIu64, L->thread_faults[i]);
		else
			table_add(&t, NULL, "-");
		if (i < S->nr_threads && S->thread_cpus[i] >= 0)
			table_add(&t, NULL, "%" PRId64, S->thread_cpus[i]);
		else
			table_add(&t, NULL, "?");
		if (i < S->nr_threads)
			table_add(&t, NULL, "%" PRIu64, S->thread_faults[i]);
		else
			table_add(&t, NULL, "-");
	}
	doc_table(d, &t);
}

/* ---- JSON objects as tables ------------------------------------------------------ */

struct kv {
	char *key;
	char *val[2];
};

struct kvs {
	struct kv *v;
	size_t n, cap;
};

static struct kv *kvs_get(struct kvs *k, const char *key)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->v[i].key, key))
			return &k->v[i];
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 32;
		struct kv *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n] = (struct kv){ .key = strdup(key) };
	if (!k->v[k->n].key)
		return NULL;
	return &k->v[k->n++];
}

static void kvs_release(struct kvs *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].key);
		free(k->v[i].val[0]);
		free(k->v[i].val[1]);
	}
	free(k->v);
}

static bool all_scalar(const cJSON *o)
{
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, o) {
		if (cJSON_IsObject(e) || cJSON_IsArray(e))
			return false;
		n++;
	}
	return n > 0 && n <= 16;
}

/*
 * Flatten o's leaves into k as "a.b.c" -> text for column 'col'. compact:
 * an object of a few scalars becomes one row "k=v, k=v" (hardware tables).
 */
static void flatten(struct kvs *k, int col, const cJSON *o, const char *prefix, bool compact)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, o) {
		char key[256];
		struct kv *kv;

		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
			 e->string ? e->string : "?");
		if (cJSON_IsObject(e) && !(compact && all_scalar(e)) && e->child) {
			flatten(k, col, e, key, compact);
			continue;
		}
		if (!(kv = kvs_get(k, key)))
			return;
		free(kv->val[col]);
		if (cJSON_IsObject(e) && e->child) {
			char *s = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&s, &len);
			const cJSON *x;

			if (!m)
				continue;
			cJSON_ArrayForEach(x, e) {
				char *t = json_text(x);

				fprintf(m, "%s%s=%s", x == e->child ? "" : ", ", x->string, t ? t : "?");
				free(t);
			}
			fclose(m);
			kv->val[col] = s;
		} else {
			kv->val[col] = json_text(e);
		}
	}
}

static const cJSON *side_object(const struct side *s, const char *key)
{
	const cJSON *o = s->json ? cJSON_GetObjectItemCaseSensitive(s->json, key) : NULL;

	return cJSON_IsObject(o) ? o : NULL;
}

static void section_kernel(struct doc *d, const struct comparison *c)
{
	static const char *const head[] = { "Setting", "Linux", "Simulated", "Differs" };
	const struct side *sides[2] = { c->linux_side, c->sim_side };
	struct kvs k = { 0 };
	struct table t;
	size_t differ = 0;

	doc_h(d, 2, "kernel", "Kernel policy");
	for (int s = 0; s < 2; s++) {
		const cJSON *o = side_object(sides[s], "kernel");

		if (o)
			flatten(&k, s, o, "", false);
	}
	if (!k.n) {
		doc_p(d, "note", "Neither side recorded its kernel policy (the \"kernel\" object).");
		return;
	}
	doc_p(d, NULL, "The THP policy each side ran under (each file's \"kernel\" object): "
	      "Linux's as read from sysfs, the simulated side's as MimicOS was configured.");
	table_init(&t, head, 4, 0);
	for (size_t i = 0; i < k.n; i++) {
		const char *a = k.v[i].val[0], *b = k.v[i].val[1];
		bool same = a && b && !strcmp(a, b);

		differ += !same;
		table_row_class(&t, same ? NULL : "differs");
		table_add(&t, NULL, "%s", k.v[i].key);
		table_add(&t, NULL, "%s", a ? a : "not recorded");
		table_add(&t, NULL, "%s", b ? b : "not recorded");
		table_add(&t, NULL, "%s", same ? "" : "yes");
	}
	if (differ)
		doc_p(d, "warning", "The two sides ran under different kernel policies (%zu "
		      "setting%s).", differ, differ == 1 ? " differs" : "s differ");
	doc_table(d, &t);
	kvs_release(&k);
}

/* Column 0 of k as a two-column table under 'head'. */
static void kv_table(struct doc *d, struct kvs *k, const char *const head[2])
{
	struct table t;

	table_init(&t, head, 2, 0);
	for (size_t i = 0; i < k->n; i++) {
		table_add(&t, NULL, "%s", k->v[i].key);
		table_add(&t, NULL, "%s", k->v[i].val[0] ? k->v[i].val[0] : "");
	}
	doc_table(d, &t);
}

static void section_hardware(struct doc *d, const struct comparison *c)
{
	static const char *const sim_head[] = { "Component", "Settings" };
	static const char *const host_head[] = { "Field", "Value" };
	static const char *const host_keys[] = { "host", "probes" };
	const cJSON *config = side_object(c->sim_side, "config");
	const cJSON *timing = c->sim_side->json ?
			      cJSON_GetObjectItemCaseSensitive(c->sim_side->json, "timing") : NULL;
	struct kvs k = { 0 };
	struct kv *kv;

	doc_h(d, 2, "hardware", "Hardware and host");
	doc_h(d, 3, NULL, "Simulated machine");
	if (config) {
		doc_p(d, NULL, "The simulator's effective configuration (sim.json's \"config\"); an "
		      "object of a few plain settings is one row.");
		if (cJSON_IsString(timing) && (kv = kvs_get(&k, "timing mode")))
			kv->val[0] = json_text(timing);
		flatten(&k, 0, config, "", true);
		kv_table(d, &k, sim_head);
		kvs_release(&k);
	} else {
		doc_p(d, "note", "The simulated side recorded no hardware configuration (sim.json's "
		      "\"config\").");
	}
	doc_h(d, 3, NULL, "Linux host");
	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < 2; i++) {
		const cJSON *o = side_object(c->linux_side, host_keys[i]);

		if (o)
			flatten(&k, 0, o, host_keys[i], false);
	}
	if (k.n) {
		doc_p(d, NULL, "Where the Linux side ran (linux.json's \"host\" and \"probes\").");
		kv_table(d, &k, host_head);
	} else {
		doc_p(d, "note", "The Linux side recorded no host description.");
	}
	kvs_release(&k);
}

/* ---- the documents ----------------------------------------------------------------- */

const char report_html_style[] =
	":root{color-scheme:light}\n"
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
	"sans-serif;color:#222;background:#fff;max-width:1100px;margin:0 auto;padding:24px 32px}\n"
	"h1{font-size:1.65em;margin:0 0 .3em}\n"
	"h2{font-size:1.3em;border-bottom:2px solid #e2e2e2;padding-bottom:.2em;margin-top:2em}\n"
	"h3{font-size:1.08em;margin-top:1.4em}\n"
	"table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em}\n"
	"th,td{border:1px solid #d4d4d4;padding:.22em .55em;text-align:left;vertical-align:top}\n"
	"thead th{background:#eef1f5}\n"
	"tbody tr:nth-child(even){background:#fafafa}\n"
	"tr.differs td{background:#fff4dc}\n"
	"tr.info td{color:#777;font-style:italic}\n"
	".badge.muted{background:none;border:1px dashed currentColor;opacity:.75}\n"
	".sub{font-size:.85em;color:#666}\n"
	".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	".nowrap{white-space:nowrap}\n"
	".badge{display:inline-block;padding:0 .55em;border-radius:.8em;font-weight:600;"
	"font-size:.85em;text-transform:uppercase;letter-spacing:.02em}\n"
	".badge.big{font-size:1em;padding:.1em .7em}\n"
	".v-pass{background:#d8f0dd;color:#1b5e20}.v-warn{background:#ffefbf;color:#7a5200}\n"
	".v-fail{background:#f9d2d2;color:#8e1b1b}.v-na{background:#eceff1;color:#555}\n"
	".v-unstable{background:#e6e0f8;color:#4b3a8c}\n"
	".classes{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0 1em}\n"
	".class-card{flex:1 1 320px;border:1px solid #d4d4d4;border-radius:6px;padding:.5em .8em}\n"
	".class-name{font-weight:600;font-size:1.1em;margin-right:.3em}\n"
	".tag{display:inline-block;font-size:.8em;border:1px solid #c9a227;color:#7a5200;"
	"border-radius:.8em;padding:0 .5em;margin-left:.3em}\n"
	".overall{font-size:1.1em}\n"
	".meta{color:#555}\n"
	".note{color:#555;font-style:italic}\n"
	".warning{background:#fff4dc;border-left:4px solid #e0a000;padding:.45em .8em}\n"
	"figure{margin:1em 0 1.6em}\n"
	"figcaption{font-size:.88em;color:#555;margin-top:.3em}\n"
	"svg.plot{display:block;max-width:100%;height:auto;border:1px solid #eee}\n"
	".placeholder{border:2px dashed #c4c4c4;background:#fafafa;color:#444;padding:2em 1.2em;"
	"text-align:center}\n"
	"nav ol{columns:3;font-size:.9em;padding-left:1.4em}\n"
	"a{color:#2a5db0}\n"
	"footer{margin-top:3em;color:#777;font-size:.85em;border-top:1px solid #e2e2e2;"
	"padding-top:.6em}\n"
	"@media print{body{max-width:none;padding:0;font-size:10pt}nav{display:none}"
	"h2,h3{break-after:avoid}table,figure,tr{break-inside:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}a{color:inherit}"
	"svg.plot{border:none}}\n";

static const struct {
	const char *id, *title;
} toc[] = {
	{ "verdicts", "Verdicts" }, { "regions", "Regions" }, { "phases", "Phases" },
	{ "timeline", "Fault timeline" }, { "latency", "Fault latency" },
	{ "backing", "Backing per 2 MiB block" }, { "orders", "Allocation orders" },
	{ "khugepaged", "khugepaged and collapses" }, { "tlb", "TLB flushes" },
	{ "tlb-misses", "TLB misses" }, { "threads", "Threads" },
	{ "kernel", "Kernel policy" }, { "hardware", "Hardware and host" },
};

static void render(struct doc *d, const struct comparison *c, struct plotter *p)
{
	const char *w = workload_name(c);

	if (d->html) {
		fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<title>", d->f);
		esc(d, w);
		fputs(": Linux vs simulated (virtuoso)</title>\n<style>\n", d->f);
		fputs(report_html_style, d->f);
		fputs("</style>\n</head>\n<body>\n<header>\n", d->f);
	}
	doc_h(d, 1, "run", "Workload %s: Linux vs simulated", w);
	section_run(d, c);
	if (d->html) {
		fputs("</header>\n<nav aria-label=\"Contents\"><ol>\n", d->f);
		for (size_t i = 0; i < sizeof(toc) / sizeof(toc[0]); i++)
			/* a section only a spec with threads has */
			if (strcmp(toc[i].id, "threads") || c->linux_side->nr_threads > 1 ||
			    c->sim_side->nr_threads > 1)
				fprintf(d->f, "<li><a href=\"#%s\">%s</a></li>\n", toc[i].id,
					toc[i].title);
		fputs("</ol></nav>\n<main>\n", d->f);
	}
	section_verdicts(d, c);
	section_regions(d, c);
	section_phases(d, c, p);
	section_timeline(d, c, p);
	section_latency(d, c, p);
	section_backing(d, c, p);
	section_orders(d, c, p);
	section_khugepaged(d, c, p);
	section_tlb(d, c, p);
	section_tlb_misses(d, c);
	section_threads(d, c);
	section_kernel(d, c);
	section_hardware(d, c);
	if (d->html) {
		fputs("</main>\n<footer>Written by virtuoso's report (reports/report.c) from ", d->f);
		esc(d, c->linux_side->path ? c->linux_side->path : "linux.json");
		fputs(" and ", d->f);
		esc(d, c->sim_side->path ? c->sim_side->path : "sim.json");
		fputs(p->gnuplot ? ". Plots drawn by gnuplot.</footer>\n" : ". No plots: ", d->f);
		if (!p->gnuplot) {
			esc(d, p->missing);
			fputs(".</footer>\n", d->f);
		}
		fputs("</body>\n</html>\n", d->f);
	} else {
		fprintf(d->f, "---\n\nWritten by virtuoso's report (reports/report.c) from %s and %s; "
			"report.html holds the same tables with plots.\n",
			c->linux_side->path ? c->linux_side->path : "linux.json",
			c->sim_side->path ? c->sim_side->path : "sim.json");
	}
}

static bool comparison_ok(const struct comparison *c)
{
	return c && c->linux_side && c->sim_side && (c->metrics || !c->nr_metrics);
}

int report_markdown(const struct comparison *c, FILE *out)
{
	struct doc d = { .f = out, .html = false };
	struct plotter none;

	if (!comparison_ok(c))
		return -1;
	memset(&none, 0, sizeof(none));
	snprintf(none.missing, sizeof(none.missing), "Markdown holds no plots");
	render(&d, c, &none);
	return ferror(out) ? -1 : 0;
}

int report_html(const struct comparison *c, const struct report_options *o, FILE *out,
		struct wl_error *err)
{
	struct doc d = { .f = out, .html = true };
	struct plotter p;

	if (!comparison_ok(c))
		return wl_error_set(err, "report.html", "", "no comparison to report");
	if (plotter_init(&p, o ? o->gnuplot : NULL, o ? o->plot_dir : NULL, err))
		return -1;
	render(&d, c, &p);
	plotter_release(&p);
	if (ferror(out))
		return wl_error_set(err, "report.html", "", "cannot write");
	return 0;
}

/* ---- writing both, atomically ------------------------------------------------------ */

/* DIR/.NAME.tmp.XXXXXX holding buf, synced; its name in tmp. */
int report_write_temp(const char *dir, const char *name, const char *buf, size_t len,
		      char *tmp, size_t tmplen, struct wl_error *err)
{
	size_t done = 0;
	int fd;

	snprintf(tmp, tmplen, "%s/.%s.tmp.XXXXXX", dir, name);
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;

		tmp[0] = '\0';
		return wl_error_set(err, dir, "", "cannot write %s: %s", name, strerror(e));
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < len || fchmod(fd, 0644) || fsync(fd)) {
		int e = errno;

		close(fd);
		unlink(tmp);
		tmp[0] = '\0';
		return wl_error_set(err, dir, "", "cannot write %s: %s", name, strerror(e ? e : EIO));
	}
	if (close(fd)) {
		int e = errno;

		unlink(tmp);
		tmp[0] = '\0';
		return wl_error_set(err, dir, "", "cannot write %s: %s", name, strerror(e));
	}
	return 0;
}

int report_write_opts(const struct comparison *c, const char *dir,
		      const struct report_options *o, struct wl_error *err)
{
	char *md = NULL, *html = NULL;
	size_t mdlen = 0, htmllen = 0;
	struct stat st;
	FILE *m;
	int ret = -1;

	if (stat(dir, &st))
		return wl_error_set(err, dir, "", "cannot write the report: %s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return wl_error_set(err, dir, "", "cannot write the report: not a directory");
	if (!comparison_ok(c))
		return wl_error_set(err, dir, "", "no comparison to report");

	if (!(m = open_memstream(&md, &mdlen)))
		return wl_error_set(err, dir, "", "out of memory");
	if ((report_markdown(c, m) | fclose(m)) || !md) {
		wl_error_set(err, dir, "", "cannot render report.md: out of memory");
		goto out;
	}
	if (!(m = open_memstream(&html, &htmllen))) {
		wl_error_set(err, dir, "", "out of memory");
		goto out;
	}
	if (report_html(c, o, m, err)) {
		fclose(m);
		goto out;
	}
	if (fclose(m) || !html) {
		wl_error_set(err, dir, "", "cannot render report.html: out of memory");
		goto out;
	}
	ret = report_write_pair(dir, "report.md", md, mdlen, "report.html", html, htmllen, err);
out:
	free(md);
	free(html);
	return ret;
}

int report_write_pair(const char *dir, const char *md_name, const char *md, size_t mdlen,
		      const char *html_name, const char *html, size_t htmllen,
		      struct wl_error *err)
{
	char tmp_md[PATH_MAX], tmp_html[PATH_MAX], path[PATH_MAX + 64];
	int ret = -1;

	tmp_md[0] = tmp_html[0] = '\0';
	if (report_write_temp(dir, md_name, md, mdlen, tmp_md, sizeof(tmp_md), err) ||
	    report_write_temp(dir, html_name, html, htmllen, tmp_html, sizeof(tmp_html), err))
		goto out;
	snprintf(path, sizeof(path), "%s/%s", dir, html_name);
	if (rename(tmp_html, path)) {
		wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
		goto out;
	}
	tmp_html[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, md_name);
	if (rename(tmp_md, path)) {
		wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
		snprintf(path, sizeof(path), "%s/%s", dir, html_name);
		unlink(path);		/* not one without the other */
		goto out;
	}
	tmp_md[0] = '\0';
	ret = 0;
out:
	if (tmp_md[0])
		unlink(tmp_md);
	if (tmp_html[0])
		unlink(tmp_html);
	return ret;
}

int report_write(const struct comparison *c, const char *dir, struct wl_error *err)
{
	return report_write_opts(c, dir, NULL, err);
}
