/*
 * plot.c - the report's figures: data files and a gnuplot script per
 * figure, gnuplot run on them, its SVG made fit to sit inline in a page.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports/plot.h"
#include "workload/event.h"
#include "workload/json.h"

#define BLOCK_SHIFT	21		/* 2 MiB */
#define MAX_POINTS	4000		/* per series: the SVG stays small */

/* Bottom to top in a cell: the classes a reader looks for first go first. */
static const enum page_class stack_order[PAGE_CLASS_NR] = {
	PAGE_CLASS_PMD, PAGE_CLASS_PTE, PAGE_CLASS_ZERO, PAGE_CLASS_NONE,
};
static const unsigned class_rgb[PAGE_CLASS_NR] = {
	[PAGE_CLASS_NONE] = 0xe4e4e4, [PAGE_CLASS_ZERO] = 0xf2c94c,
	[PAGE_CLASS_PTE] = 0x5b8def, [PAGE_CLASS_PMD] = 0x2e9e5b,
};
static const char *const class_label[PAGE_CLASS_NR] = {
	[PAGE_CLASS_NONE] = "none (not present)", [PAGE_CLASS_ZERO] = "zero page",
	[PAGE_CLASS_PTE] = "pte (4 KiB mapped)", [PAGE_CLASS_PMD] = "pmd (2 MiB mapped)",
};

/* ---- shared views ------------------------------------------------------------- */

void figure_html(FILE *f, const struct figure *fig, const char *caption)
{
	fputs(fig->state == FIG_SVG ? "<figure>\n" : "<figure class=\"plot-missing\">\n", f);
	if (fig->state == FIG_SVG) {
		fputs(fig->svg, f);
	} else {
		fputs("<div class=\"placeholder\"><strong>Plot not drawn:</strong> ", f);
		report_html_escape(f, fig->why);
		fputs("</div>\n", f);
	}
	fputs("<figcaption>", f);
	report_html_escape(f, caption);
	fputs("</figcaption>\n</figure>\n", f);
}

size_t report_linux_runs(const struct comparison *c, const struct side *const **runs)
{
	if (c->linux_runs && c->nr_linux_runs) {
		*runs = c->linux_runs;
		return c->nr_linux_runs;
	}
	*runs = &c->linux_side;
	return 1;
}

int report_region_index(const struct side *s, const char *name)
{
	for (size_t i = 0; i < s->nr_regions; i++)
		if (s->regions[i].name && name && !strcmp(s->regions[i].name, name))
			return (int)i;
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The workload's faults: in a region, during a phase (as the comparison counts them). */
static bool counted_fault(const struct side_fault *f)
{
	return f->region >= 0 && f->phase >= 0;
}

uint64_t *report_kind_latencies(const struct side *s, unsigned kind, size_t *n, size_t *cold)
{
	uint64_t *v;

	*n = *cold = 0;
	v = malloc((s->nr_faults ? s->nr_faults : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->nr_faults; i++) {
		const struct side_fault *f = &s->faults[i];

		if (!counted_fault(f) || !f->latency_ns || (kind < FAULT_KIND_NR && f->kind != kind))
			continue;
		*cold += f->cold;
		if (!f->cold || kind >= FAULT_KIND_NR)
			v[(*n)++] = f->latency_ns;
	}
	qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

bool report_kind_present(const struct comparison *c, unsigned kind)
{
	const struct side *const *runs;
	size_t nr = report_linux_runs(c, &runs);

	for (size_t r = 0; r <= nr; r++) {
		const struct side *s = r < nr ? runs[r] : c->sim_side;

		for (size_t i = 0; i < s->nr_faults; i++)
			if (counted_fault(&s->faults[i]) && s->faults[i].kind == kind)
				return true;
	}
	return false;
}

void report_alloc_orders(const struct side *s, uint64_t orders[SIDE_ORDERS])
{
	memset(orders, 0, SIDE_ORDERS * sizeof(orders[0]));
	for (size_t i = 0; i < s->nr_regions; i++)
		for (int o = 0; o < SIDE_ORDERS; o++)
			orders[o] += s->regions[i].alloc_orders[o];
}

static long find_name(const char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (long)i;
	return -1;
}

int report_named_union(const struct side_named_count *lx, size_t nr_lx,
		       const struct side_named_count *sm, size_t nr_sm,
		       const char ***names, uint64_t **clx, uint64_t **csm, size_t *n)
{
	size_t cap = nr_lx + nr_sm + 1;

	*n = 0;
	*names = calloc(cap, sizeof(**names));
	*clx = calloc(cap, sizeof(**clx));
	*csm = calloc(cap, sizeof(**csm));
	if (!*names || !*clx || !*csm) {
		free(*names);
		free(*clx);
		free(*csm);
		*names = NULL;
		*clx = *csm = NULL;
		return -1;
	}
	for (int side = 0; side < 2; side++) {
		const struct side_named_count *h = side ? sm : lx;
		size_t nr = side ? nr_sm : nr_lx;

		for (size_t i = 0; i < nr; i++) {
			const char *name = h[i].name ? h[i].name : "?";
			long k = find_name(*names, *n, name);

			if (k < 0) {
				k = (long)(*n)++;
				(*names)[k] = name;
			}
			(side ? *csm : *clx)[k] += h[i].count;
		}
	}
	return 0;
}

void report_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

/* ---- the plotter ---------------------------------------------------------------- */

/* 'name' if it holds a '/', else the first executable 'name' on PATH; strdup'ed. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH"), *p, *colon;
	char buf[PATH_MAX];
	struct stat st;

	if (strchr(name, '/'))
		return !stat(name, &st) && S_ISREG(st.st_mode) && !access(name, X_OK) ?
		       strdup(name) : NULL;
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; ; p = colon + 1) {
		colon = strchr(p, ':');
		int len = colon ? (int)(colon - p) : (int)strlen(p);

		if (snprintf(buf, sizeof(buf), "%.*s/%s", len ? len : 1, len ? p : ".", name)
		    < (int)sizeof(buf) &&
		    !stat(buf, &st) && S_ISREG(st.st_mode) && !access(buf, X_OK))
			return strdup(buf);
		if (!colon)
			return NULL;
	}
}

int plotter_init(struct plotter *p, const char *gnuplot, const char *plot_dir,
		 struct wl_error *err)
{
	memset(p, 0, sizeof(*p));
	if (!gnuplot)
		gnuplot = "gnuplot";
	if (*gnuplot)
		p->gnuplot = find_program(gnuplot);
	if (!*gnuplot)
		snprintf(p->missing, sizeof(p->missing), "plots were turned off for this report");
	else if (!p->gnuplot)
		snprintf(p->missing, sizeof(p->missing),
			 "gnuplot was not found (\"%.64s\"): install it (Debian: apt-get install "
			 "gnuplot-nox) and write the report again", gnuplot);
	if (plot_dir) {
		if (strlen(plot_dir) >= sizeof(p->dir) ||
		    (mkdir(plot_dir, 0755) && errno != EEXIST)) {
			int e = strlen(plot_dir) >= sizeof(p->dir) ? ENAMETOOLONG : errno;

			plotter_release(p);
			return wl_error_set(err, plot_dir, "", "cannot make the plot directory: %s",
					    strerror(e));
		}
		snprintf(p->dir, sizeof(p->dir), "%s", plot_dir);
		p->keep = true;
	} else if (p->gnuplot) {
		const char *tmp = getenv("TMPDIR");

		snprintf(p->dir, sizeof(p->dir), "%s/virtuoso-report.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(p->dir)) {
			int e = errno;
			char dir[sizeof(p->dir)];

			snprintf(dir, sizeof(dir), "%s", p->dir);
			p->dir[0] = '\0';
			plotter_release(p);
			return wl_error_set(err, dir, "", "cannot make a temporary directory: %s",
					    strerror(e));
		}
	}
	return 0;
}

void plotter_release(struct plotter *p)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (p->dir[0] && !p->keep && (d = opendir(p->dir))) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(path, sizeof(path), "%s/%s", p->dir, e->d_name);
				unlink(path);
			}
		closedir(d);
		rmdir(p->dir);
	}
	free(p->gnuplot);
	memset(p, 0, sizeof(*p));
}

void figure_release(struct figure *f)
{
	free(f->svg);
	memset(f, 0, sizeof(*f));
}

void figure_set(struct figure *f, enum figure_state st, const char *fmt, ...)
{
	va_list ap;

	f->state = st;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

/* Open DIR/NAME (write); NULL with the figure marked missing. */
FILE *fig_open(struct plotter *p, struct figure *f, const char *name)
{
	char path[PATH_MAX + 256];
	FILE *out;

	snprintf(path, sizeof(path), "%s/%s", p->dir, name);
	out = fopen(path, "w");
	if (!out)
		figure_set(f, FIG_MISSING, "cannot write %s: %s", path, strerror(errno));
	else if (p->footer[0] && strlen(name) > 3 && !strcmp(name + strlen(name) - 3, ".gp")) {
		/* the figure's provenance, small, in its bottom left corner */
		fputs("set label 990 ", out);
		gp_quote(out, p->footer);
		fputs(" at screen 0.005, screen 0.015 left font ',7' textcolor rgb '#888888'\n",
		      out);
	}
	return out;
}

/* Close; false (figure marked missing) if anything failed to write. */
bool fig_close(FILE *out, struct figure *f, const char *name)
{
	bool ok = !ferror(out);

	ok = !fclose(out) && ok;
	if (!ok && f->state != FIG_MISSING)
		figure_set(f, FIG_MISSING, "cannot write %s", name);
	return ok;
}

/* Before writing a figure's files: is there somewhere to draw? */
bool fig_can_draw(struct plotter *p, struct figure *f)
{
	if (p->dir[0])
		return true;
	figure_set(f, FIG_MISSING, "%s", p->missing);
	return false;
}

/* A gnuplot single-quoted string: no escapes but '' for '; no newlines. */
void gp_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	fputc('\'', f);
}

void gp_header(FILE *f, const char *stem, int width, int height)
{
	fprintf(f, "# %s.gp: drawn by virtuoso's report (reports/plot.c); "
		"`gnuplot -d %s.gp` redraws it\n", stem, stem);
	fprintf(f, "set terminal svg size %d,%d dynamic noenhanced font 'sans-serif,12' "
		"background rgb 'white'\n", width, height);
	fprintf(f, "set encoding utf8\nset output '%s.svg'\n", stem);
	fputs("set border lc rgb '#555555'\nset grid lc rgb '#dddddd' dt 1\n", f);
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * gnuplot's SVG as an element to place inline in HTML: from "<svg" to
 * "</svg>" (the XML prolog dropped), a class, role and label on the root,
 * gnuplot's own <title>s replaced or dropped, and every id (with the
 * references to it) prefixed "pSEQ-" so that ids stay unique in the page.
 */
static char *svg_inline(const char *raw, unsigned seq, const char *label)
{
	const char *s = strstr(raw, "<svg"), *end, *box;
	unsigned w, h;
	char *out = NULL;
	size_t len = 0;
	unsigned nplots = 0;
	FILE *m;

	if (!s || !(end = strstr(s, "</svg>")))
		return NULL;
	end += strlen("</svg>");
	m = open_memstream(&out, &len);
	if (!m)
		return NULL;
	fputs("<svg class=\"plot\" role=\"img\" aria-label=\"", m);
	report_html_escape(m, label);
	fputc('"', m);
	/* gnuplot's "dynamic" SVG has a viewBox only: give it its natural size too */
	box = strstr(s, "viewBox=\"0 0 ");
	if (box && box < end && sscanf(box, "viewBox=\"0 0 %u %u\"", &w, &h) == 2)
		fprintf(m, " width=\"%u\" height=\"%u\"", w, h);
	for (s += 4; s < end; ) {
		if (starts(s, "<title>Gnuplot</title>")) {
			fputs("<title>", m);
			report_html_escape(m, label);
			fputs("</title>", m);
			s += strlen("<title>Gnuplot</title>");
		} else if (starts(s, "<title>gnuplot_plot_") && strstr(s, "</title>")) {
			s = strstr(s, "</title>") + strlen("</title>");
		} else if (isspace((unsigned char)s[-1]) && (starts(s, "id='") || starts(s, "id=\""))) {
			/* gnuplot repeats its gnuplot_plot_N ids; nothing refers to them */
			if (starts(s + 4, "gnuplot_plot_") && strchr(s + 4, s[3])) {
				fprintf(m, "%.4sp%u-plot%u", s, seq, ++nplots);
				s = strchr(s + 4, s[3]);
				continue;
			}
			fprintf(m, "%.4sp%u-", s, seq);
			s += 4;
		} else if (starts(s, "href='#") || starts(s, "href=\"#")) {
			fprintf(m, "%.7sp%u-", s, seq);
			s += 7;
		} else if (starts(s, "url(#")) {
			fprintf(m, "url(#p%u-", seq);
			s += 5;
		} else {
			fputc(*s++, m);
		}
	}
	fputc('\n', m);
	if (fclose(m)) {
		free(out);
		return NULL;
	}
	return out;
}

/* The last non-blank line of a file (gnuplot's error comes last), or "". */
static void last_line(const char *path, char *buf, size_t len)
{
	char *text = NULL, *line, *save = NULL;
	size_t n;

	buf[0] = '\0';
	if (wj_read_file(path, &text, &n, NULL))
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (isspace((unsigned char)*line))
			line++;
		if (*line)
			snprintf(buf, len, "%s", line);
	}
	free(text);
}

/* Run gnuplot on DIR/STEM.gp and take DIR/STEM.svg inline. */
/*
 * Run `gnuplot -d SCRIPT [-e CMDS]` in the plot directory, stderr to
 * STEM.err. 0, or -1 with f marked missing and why.
 */
static int gnuplot_run(struct plotter *p, const char *stem, const char *script, const char *cmds,
		       struct figure *f)
{
	char path[PATH_MAX + 256], line[200];
	int errfd, nullfd, status = 0, ret = -1;
	pid_t pid;

	if (!p->gnuplot) {
		figure_set(f, FIG_MISSING, "%s", p->missing);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s.err", p->dir, stem);
	errfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (errfd < 0 || nullfd < 0) {
		figure_set(f, FIG_MISSING, "cannot run gnuplot: %s", strerror(errno));
		goto out_fds;
	}
	pid = fork();
	if (pid < 0) {
		figure_set(f, FIG_MISSING, "cannot run gnuplot: %s", strerror(errno));
		goto out_fds;
	}
	if (!pid) {
		if (dup2(nullfd, 0) < 0 || dup2(nullfd, 1) < 0 || dup2(errfd, 2) < 0 ||
		    chdir(p->dir))
			_exit(126);
		if (cmds)
			execl(p->gnuplot, "gnuplot", "-d", script, "-e", cmds, (char *)NULL);
		else
			execl(p->gnuplot, "gnuplot", "-d", script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		last_line(path, line, sizeof(line));
		figure_set(f, FIG_MISSING, "gnuplot failed on %s (%s): %s", script,
			   WIFEXITED(status) ? "exit status" : "killed",
			   line[0] ? line : "no message");
		goto out_fds;
	}
	ret = 0;
out_fds:
	if (errfd >= 0)
		close(errfd);
	if (nullfd >= 0)
		close(nullfd);
	return ret;
}

int gnuplot_script(struct plotter *p, const char *stem, struct figure *f)
{
	char script[256];

	snprintf(script, sizeof(script), "%s.gp", stem);
	return gnuplot_run(p, stem, script, NULL, f);
}

void figure_draw(struct plotter *p, const char *stem, const char *label, struct figure *f)
{
	char path[PATH_MAX + 256], script[256];
	char *raw = NULL;
	size_t len;

	snprintf(script, sizeof(script), "%s.gp", stem);
	if (gnuplot_run(p, stem, script, NULL, f))
		return;
	snprintf(path, sizeof(path), "%s/%s.svg", p->dir, stem);
	if (wj_read_file(path, &raw, &len, NULL)) {
		figure_set(f, FIG_MISSING, "gnuplot wrote no %s.svg", stem);
		return;
	}
	f->svg = svg_inline(raw, ++p->seq, label);
	free(raw);
	if (f->svg)
		f->state = FIG_SVG;
	else
		figure_set(f, FIG_MISSING, "gnuplot's %s.svg holds no <svg> element", stem);
}

int figure_pdf(struct plotter *p, const char *stem, double w_in, double h_in, struct figure *f)
{
	char script[256], cmds[512], path[PATH_MAX + 256];
	struct stat st;

	if (f->state != FIG_SVG)
		return -1;
	snprintf(script, sizeof(script), "%s.gp", stem);
	/* the same plot again on another terminal: the script's last plot, replotted */
	snprintf(cmds, sizeof(cmds), "set terminal pdfcairo size %.2fin,%.2fin font 'sans,8'; "
		 "set output '%s.pdf'; replot; unset output", w_in, h_in, stem);
	if (gnuplot_run(p, stem, script, cmds, f))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.pdf", p->dir, stem);
	if (stat(path, &st) || !st.st_size) {
		figure_set(f, FIG_MISSING, "gnuplot wrote no %s.pdf", stem);
		return -1;
	}
	return 0;
}

/* ---- fault timeline ------------------------------------------------------------- */

size_t report_untimed_faults(const struct side *s, uint64_t *t_ns, size_t *n)
{
	uint64_t *t = malloc((s->nr_faults ? s->nr_faults : 1) * sizeof(*t));
	size_t most = 0;

	*n = 0;
	if (!t)
		return 0;
	for (size_t i = 0; i < s->nr_faults; i++)
		if (counted_fault(&s->faults[i]))
			t[(*n)++] = s->faults[i].t_ns;
	qsort(t, *n, sizeof(*t), cmp_u64);
	for (size_t i = 0, j; i < *n; i = j) {
		for (j = i; j < *n && t[j] == t[i]; j++)
			;
		if (j - i > most) {
			most = j - i;
			*t_ns = t[i];
		}
	}
	free(t);
	/* no clock puts half of a workload's faults on one nanosecond */
	return *n > 2 && 2 * most > *n ? most : 0;
}

static uint64_t side_end_ns(const struct side *s)
{
	uint64_t end = s->runtime_ns;

	for (size_t i = 0; i < s->nr_phases; i++)
		if (s->phases[i].start_ns + s->phases[i].runtime_ns > end)
			end = s->phases[i].start_ns + s->phases[i].runtime_ns;
	return end;
}

/* Sorted x values as a cumulative step series from (x0, 0) to (xend, n). */
static void write_cumulative(FILE *f, const double *x, size_t n, double x0, double xend)
{
	size_t step = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;

	fprintf(f, "%.9g 0\n", x0);
	for (size_t i = 0; i < n; i += step)
		fprintf(f, "%.9g %zu\n", x[i], i + 1);
	if (n && (n - 1) % step)
		fprintf(f, "%.9g %zu\n", x[n - 1], n);
	fprintf(f, "%.9g %zu\n", xend > (n ? x[n - 1] : x0) ? xend : (n ? x[n - 1] : x0), n);
}

/*
 * Time (ms) and phase-normalised x of each fault of 's'; *nt, *np of them.
 * Both from the fault's own t_ns, whatever clock its side keeps.
 */
static int timeline_values(const struct side *s, double **t, size_t *nt, double **ph, size_t *np)
{
	*nt = *np = 0;
	*t = malloc((s->nr_faults + 1) * sizeof(**t));
	*ph = malloc((s->nr_faults + 1) * sizeof(**ph));
	if (!*t || !*ph)
		return -1;
	for (size_t i = 0; i < s->nr_faults; i++) {
		const struct side_fault *x = &s->faults[i];

		if (!counted_fault(x))
			continue;	/* the executor's own faults, or set-up */
		(*t)[(*nt)++] = (double)x->t_ns / 1e6;
		if (x->phase >= 0 && (size_t)x->phase < s->nr_phases) {
			const struct side_phase *p = &s->phases[x->phase];
			double frac = 0.5;

			if (p->runtime_ns)
				frac = ((double)x->t_ns - (double)p->start_ns) / (double)p->runtime_ns;
			(*ph)[(*np)++] = x->phase + fmin(fmax(frac, 0.0), 1.0);
		}
	}
	qsort(*t, *nt, sizeof(**t), cmp_double);
	qsort(*ph, *np, sizeof(**ph), cmp_double);
	return 0;
}

static void timeline_phase_marks(FILE *g, const struct side *s, const char *rgb, bool top,
				 int *tag)
{
	bool labels = s->nr_phases <= 24;

	for (size_t i = 0; i < s->nr_phases; i++) {
		double x = (double)s->phases[i].start_ns / 1e6;

		++*tag;
		fprintf(g, "set arrow %d from %.9g, graph 0 to %.9g, graph 1 nohead lc rgb '%s' "
			"dt 2 lw 1\n", *tag, x, x, rgb);
		if (labels)
			fprintf(g, "set label %d '%zu' at %.9g, graph %s offset 0.3,0 tc rgb '%s' "
				"font ',10'\n", *tag, i, x, top ? "0.95" : "0.05", rgb);
	}
}

/* gnuplot's point type for a flush of this reason (tlb:tlb_flush's). */
static int flush_point(int32_t reason)
{
	switch (reason) {
	case 3:
		return 7;	/* local MM shootdown: a filled circle */
	case 1:
		return 9;	/* remote shootdown: a filled triangle up */
	case 4:
		return 11;	/* remote IPI send: a filled triangle down */
	default:
		return 5;	/* others: a filled square */
	}
}

void plot_fault_timeline(struct plotter *p, const struct comparison *c, struct figure *f)
{
	const struct side *sides[2] = { c->linux_side, c->sim_side };
	static const char *const stem = "fault_timeline";
	static const char *const tag_of[2] = { "linux", "sim" };
	static const char *const rgb[2] = { REPORT_LINUX_RGB, REPORT_SIM_RGB };
	const struct side *const *runs;
	/* the first run: the one whose addresses the simulated side replayed */
	const char *who[2] = { report_linux_runs(c, &runs) > 1 ? "Linux, first run" : "Linux",
			       "simulated" };
	size_t nr_phases = 0, n[2] = { 0, 0 }, n_flush[2] = { 0, 0 };
	char name[96];
	FILE *g = NULL, *d;
	int tag = 0, max_cpu = 0;

	memset(f, 0, sizeof(*f));
	if (!sides[0]->has_log && !sides[1]->has_log) {
		figure_set(f, FIG_EMPTY, "Neither side has an event log, so there are no "
			   "per-fault records to draw a timeline from.");
		return;
	}
	if (!fig_can_draw(p, f))
		return;
	for (int s = 0; s < 2; s++) {
		double *t = NULL, *ph = NULL;
		size_t nt, np;
		bool ok;

		if (sides[s]->nr_phases > nr_phases)
			nr_phases = sides[s]->nr_phases;
		if (!sides[s]->has_log)
			continue;
		if (timeline_values(sides[s], &t, &nt, &ph, &np)) {
			free(t);
			free(ph);
			figure_set(f, FIG_MISSING, "out of memory");
			return;
		}
		n[s] = nt;
		snprintf(name, sizeof(name), "%s-%s.dat", stem, tag_of[s]);
		ok = (d = fig_open(p, f, name));
		if (ok) {
			write_cumulative(d, t, nt, 0, (double)side_end_ns(sides[s]) / 1e6);
			ok = fig_close(d, f, name);
		}
		snprintf(name, sizeof(name), "%s-%s-phase.dat", stem, tag_of[s]);
		if (ok && (ok = (d = fig_open(p, f, name)))) {
			write_cumulative(d, ph, np, 0, (double)sides[s]->nr_phases);
			ok = fig_close(d, f, name);
		}
		free(t);
		free(ph);
		if (ok && sides[s]->nr_flushes) {
			/* the TLB flushes: time, CPU, a point type by reason */
			snprintf(name, sizeof(name), "%s-%s-flush.dat", stem, tag_of[s]);
			if ((ok = (d = fig_open(p, f, name)))) {
				for (size_t i = 0; i < sides[s]->nr_flushes; i++) {
					const struct side_flush *x = &sides[s]->flushes[i];

					fprintf(d, "%.9g %d %d\n", (double)x->t_ns / 1e6,
						x->cpu == VT_CPU_UNKNOWN ? -1 : (int)x->cpu,
						flush_point(x->reason));
					if (x->cpu != VT_CPU_UNKNOWN && (int)x->cpu > max_cpu)
						max_cpu = (int)x->cpu;
				}
				ok = fig_close(d, f, name);
			}
			n_flush[s] = sides[s]->nr_flushes;
		}
		if (!ok)
			return;
	}

	snprintf(name, sizeof(name), "%s.gp", stem);
	if (!(g = fig_open(p, f, name)))
		return;
	gp_header(g, stem, 960, 640);
	fputs("set multiplot layout 2,1\nset key outside top center horizontal\n"
	      "set ylabel 'faults (cumulative)'\n", g);
	fputs("set title 'Faults over time (dashed: phase starts, numbered; Linux above, "
	      "simulated below)'\n", g);
	fputs("set xlabel 'time from the first phase start (ms)'\nset xrange [0:*]\n", g);
	for (int s = 0; s < 2; s++)
		timeline_phase_marks(g, sides[s], rgb[s], s == 0, &tag);
	if (n_flush[0] || n_flush[1])
		fprintf(g, "set y2label 'CPU of a TLB flush'\nset y2range [-0.5:%d.5]\n"
			"set y2tics 1\n", max_cpu);
	fputs("plot ", g);
	for (int s = 0, first = 1; s < 2; s++, first = 0) {
		if (!first)
			fputs(", \\\n     ", g);
		if (sides[s]->has_log)
			fprintf(g, "'%s-%s.dat' using 1:2 with steps lw 2 lc rgb '%s' "
				"title '%s (%zu faults)'", stem, tag_of[s], rgb[s], who[s], n[s]);
		else
			fprintf(g, "keyentry with lines lw 2 dt 3 lc rgb '%s' "
				"title '%s: no event log'", rgb[s], who[s]);
		if (n_flush[s])
			fprintf(g, ", \\\n     '%s-%s-flush.dat' using 1:2:3 axes x1y2 with points "
				"pt variable ps 1.5 lc rgb '%s' title '%s: %zu TLB flushes (circle "
				"local, up remote, down IPI sent)'", stem, tag_of[s], rgb[s], who[s],
				n_flush[s]);
	}
	fputs("\nunset arrow\nunset label\nunset y2label\nunset y2tics\n", g);

	fputs("set title \"The same, each phase stretched to one width (the two worlds' "
	      "speeds apart)\"\n", g);
	fputs("set xlabel 'phase (start to end of each, in its own time)'\n", g);
	fprintf(g, "set xrange [0:%zu]\n", nr_phases ? nr_phases : 1);
	if (nr_phases && nr_phases <= 24) {
		const struct side *ps = sides[0]->nr_phases >= sides[1]->nr_phases ? sides[0] : sides[1];

		fputs("set xtics (", g);
		for (size_t i = 0; i < ps->nr_phases; i++) {
			const struct side_phase *ph = &ps->phases[i];
			char tic[160];

			snprintf(tic, sizeof(tic), "%zu %s%s%s", i, ph->op ? ph->op : "?",
				 ph->region >= 0 && (size_t)ph->region < ps->nr_regions ? " " : "",
				 ph->region >= 0 && (size_t)ph->region < ps->nr_regions ?
				 ps->regions[ph->region].name : "");
			fprintf(g, "%s", i ? ", " : "");
			gp_quote(g, tic);
			fprintf(g, " %zu.5", i);
		}
		fputs(")\n", g);
		if (nr_phases > 8)
			fputs("set xtics rotate by -25 left font ',10'\n", g);
	}
	for (size_t i = 1; i < nr_phases; i++)
		fprintf(g, "set arrow %zu from %zu, graph 0 to %zu, graph 1 nohead lc rgb '#888888' dt 2\n",
			i, i, i);
	fputs("plot ", g);
	for (int s = 0, first = 1; s < 2; s++, first = 0) {
		if (!first)
			fputs(", \\\n     ", g);
		if (sides[s]->has_log)
			fprintf(g, "'%s-%s-phase.dat' using 1:2 with steps lw 2 lc rgb '%s' title '%s'",
				stem, tag_of[s], rgb[s], who[s]);
		else
			fprintf(g, "keyentry with lines lw 2 dt 3 lc rgb '%s' "
				"title '%s: no event log'", rgb[s], who[s]);
	}
	fputs("\nunset multiplot\n", g);
	if (!fig_close(g, f, name))
		return;
	figure_draw(p, stem, "Cumulative faults over time, Linux and simulated", f);
}

/* ---- phase runtimes --------------------------------------------------------------- */

/* "0 touch hot": phase i of s as a tic label. */
static void phase_tic(char *buf, size_t len, const struct side *s, size_t i)
{
	const struct side_phase *ph = &s->phases[i];
	bool named = ph->region >= 0 && (size_t)ph->region < s->nr_regions &&
		     s->regions[ph->region].name;

	snprintf(buf, len, "%zu %s%s%s", i, ph->op ? ph->op : "?", named ? " " : "",
		 named ? s->regions[ph->region].name : "");
}

void plot_phase_runtime(struct plotter *p, const struct comparison *c, struct figure *f)
{
	static const char *const stem = "phase_runtime";
	const struct side *const *runs;
	size_t nr_runs = report_linux_runs(c, &runs);
	const struct side *L = c->linux_side, *S = c->sim_side;
	const struct side *names = L->nr_phases >= S->nr_phases ? L : S;
	size_t n = names->nr_phases, drawn = 0;
	double lo = INFINITY, hi = 0;
	char name[96], tic[160];
	FILE *g, *d;

	memset(f, 0, sizeof(*f));
	if (!n) {
		figure_set(f, FIG_EMPTY, "Neither side recorded phases.");
		return;
	}
	if (!fig_can_draw(p, f))
		return;
	snprintf(name, sizeof(name), "%s.dat", stem);
	if (!(d = fig_open(p, f, name)))
		return;
	fputs("# phase linux_median linux_min linux_max sim (ms; ? where none)\n", d);
	for (size_t i = 0; i < n; i++) {
		double v[COMPARE_MAX_RUNS], sim = NAN;
		size_t k = 0;

		char scope[80];
		const struct metric *m;

		/* Linux's times as the metric judged them (without probes, when measured) */
		snprintf(scope, sizeof(scope), "phase %zu %s", i, names->phases[i].op);
		m = comparison_find(c, "phase_runtime", scope);
		if (m && isfinite(m->linux_value) && m->linux_value > 0) {
			v[0] = m->linux_lo / 1e6;
			v[1] = m->linux_value / 1e6;
			v[2] = m->linux_hi / 1e6;
			k = 3;
		} else {
			for (size_t r = 0; r < nr_runs && r < COMPARE_MAX_RUNS; r++)
				if (i < runs[r]->nr_phases && runs[r]->phases[i].runtime_ns)
					v[k++] = (double)runs[r]->phases[i].runtime_ns / 1e6;
			qsort(v, k, sizeof(v[0]), cmp_double);
		}
		if (S->timed && i < S->nr_phases && S->phases[i].runtime_ns)
			sim = (double)S->phases[i].runtime_ns / 1e6;
		fprintf(d, "%zu", i);
		if (k == 3 && m && isfinite(m->linux_value) && m->linux_value > 0)
			fprintf(d, " %.9g %.9g %.9g", v[1], v[0], v[2]);
		else if (k)
			fprintf(d, " %.9g %.9g %.9g", k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2,
				v[0], v[k - 1]);
		else
			fputs(" ? ? ?", d);
		if (isnan(sim))
			fputs(" ?\n", d);
		else
			fprintf(d, " %.9g\n", sim);
		drawn += (k > 0) + !isnan(sim);
		if (k) {
			lo = fmin(lo, v[0]);
			hi = fmax(hi, v[k - 1]);
		}
		if (!isnan(sim)) {
			lo = fmin(lo, sim);
			hi = fmax(hi, sim);
		}
	}
	if (!fig_close(d, f, name))
		return;
	if (!drawn) {
		figure_set(f, FIG_EMPTY, "No phase has a runtime on either side.");
		return;
	}

	snprintf(name, sizeof(name), "%s.gp", stem);
	if (!(g = fig_open(p, f, name)))
		return;
	gp_header(g, stem, 960, 400);
	fputs("set datafile missing '?'\nset logscale y 10\nset format y '%g'\n", g);
	/* whole decades, with room above the points for the ratio labels */
	fprintf(g, "set yrange [1e%d:1e%d]\n", (int)floor(log10(lo / 1.2)),
		(int)ceil(log10(hi * 4)));
	fprintf(g, "set xrange [-0.5:%zu.5]\nset xtics scale 0 (", n - 1);
	for (size_t i = 0; i < n; i++) {
		phase_tic(tic, sizeof(tic), names, i);
		fputs(i ? ", " : "", g);
		gp_quote(g, tic);
		fprintf(g, " %zu", i);
	}
	fputs(")\n", g);
	if (n > 8)
		fputs("set xtics rotate by -25 left font ',10'\n", g);
	fputs("set grid noxtics\nset ylabel 'phase runtime (ms, log scale)'\n", g);
	fputs("set key outside top center horizontal\n", g);
	/* how far off, as the phase_runtime metric judges it: from the band's nearest edge */
	for (size_t i = 0; n <= 12 && i < n; i++) {
		const struct metric *m;
		char scope[80], what[48];

		snprintf(scope, sizeof(scope), "phase %zu %s", i, names->phases[i].op ?
			 names->phases[i].op : "?");
		m = comparison_find(c, "phase_runtime", scope);
		if (!m || !isfinite(m->value) || !(m->sim_value > 0))
			continue;
		if (m->value == 0)
			snprintf(what, sizeof(what), "%s", nr_runs > 1 ? "within Linux's runs" :
				 "same");
		else
			snprintf(what, sizeof(what), "%.3gx too %s", m->value + 1,
				 m->sim_value < m->linux_lo ? "fast" : "slow");
		fprintf(g, "set label %zu '%s' at first %zu, graph 0.95 center font ',10' "
			"tc rgb '#444444'\n", i + 1, what, i);
	}
	fprintf(g, "plot '%s.dat' using ($1-0.1):2:3:4 with yerrorbars pt 7 ps 1.1 lw 1.5 "
		"lc rgb '%s' title ", stem, REPORT_LINUX_RGB);
	if (nr_runs > 1)
		snprintf(tic, sizeof(tic), "Linux: median of %zu runs, bar from the fastest to "
			 "the slowest", nr_runs);
	else
		snprintf(tic, sizeof(tic), "Linux (1 run)");
	gp_quote(g, tic);
	if (S->timed)
		fprintf(g, ", \\\n     '' using ($1+0.1):5 with points pt 5 ps 1.1 lc rgb '%s' "
			"title 'simulated'\n", REPORT_SIM_RGB);
	else
		fprintf(g, ", \\\n     keyentry with points pt 5 lc rgb '%s' "
			"title 'simulated: no timing model'\n", REPORT_SIM_RGB);
	if (!fig_close(g, f, name))
		return;
	figure_draw(p, stem, "Phase runtimes, Linux's runs and simulated", f);
}

/* ---- fault latency CDF ---------------------------------------------------------- */

static void decade_label(char *buf, size_t len, int e)
{
	static const char *const unit[] = { "ns", "µs", "ms", "s" };

	if (e < 0 || e > 11)
		snprintf(buf, len, "1e%d ns", e);
	else
		snprintf(buf, len, "%s %s", e % 3 == 0 ? "1" : e % 3 == 1 ? "10" : "100", unit[e / 3]);
}

void gp_decade_axis(FILE *g, char axis, int elo, int ehi)
{
	/* a hair wider than the decades, or gnuplot drops the end tics */
	fprintf(g, "set logscale %c 10\nset %crange [0.9999e%d:1.0001e%d]\nset %ctics (", axis,
		axis, elo, ehi, axis);
	for (int e = elo; e <= ehi; e++) {
		char tic[32];

		decade_label(tic, sizeof(tic), e);
		fprintf(g, "%s'%s' 1e%d", e > elo ? ", " : "", tic, e);
	}
	fprintf(g, ")\nset m%ctics 10\n", axis);
}

/*
 * The fractions of faults where any of the samples' quantile functions
 * steps (i / n for each sample of n), sorted and unique: between two of
 * them every sample's nearest-rank quantile is constant, so the curves and
 * the envelope drawn on them are exact. More than MAX_GRID of them: a
 * uniform grid instead (exact to 1 / MAX_GRID). *g of them; NULL out of
 * memory.
 */
#define MAX_GRID	1000

static double *cdf_grid(const size_t *n, size_t nr, size_t *g)
{
	size_t total = 0, k = 0;
	double *q;

	for (size_t r = 0; r < nr; r++)
		total += n[r];
	if (total > MAX_GRID) {
		q = malloc(MAX_GRID * sizeof(*q));
		for (size_t j = 0; q && j < MAX_GRID; j++)
			q[j] = (double)(j + 1) / MAX_GRID;
		*g = q ? MAX_GRID : 0;
		return q;
	}
	q = malloc((total ? total : 1) * sizeof(*q));
	if (!q)
		return NULL;
	for (size_t r = 0; r < nr; r++)
		for (size_t i = 1; i <= n[r]; i++)
			q[k++] = (double)i / (double)n[r];
	qsort(q, k, sizeof(*q), cmp_double);
	*g = 0;
	for (size_t j = 0; j < k; j++)
		if (!*g || q[j] - q[*g - 1] > 1e-12)
			q[(*g)++] = q[j];
	return q;
}

/*
 * A CDF as a step curve through the quantiles x[j] on the grid: x[j] on
 * (q[j - 1], q[j]], q[-1] = 0. Vertical at each x, horizontal between
 * them; a vertex only where the curve turns.
 */
static void write_steps(FILE *d, const double *x, const double *q, size_t g)
{
	for (size_t j = 0; j < g; j++) {
		if (!j || x[j] != x[j - 1])
			fprintf(d, "%.9g %.6g\n", x[j], j ? q[j - 1] : 0.0);
		if (j == g - 1 || x[j + 1] != x[j])
			fprintf(d, "%.9g %.6g\n", x[j], q[j]);
	}
}

/* One sample's quantiles on its own grid, as a step curve into DIR/NAME. */
static bool write_sample_cdf(struct plotter *p, struct figure *f, const char *name,
			     const uint64_t *v, size_t n)
{
	size_t g = 0;
	double *q = cdf_grid(&n, 1, &g), *x = malloc((g ? g : 1) * sizeof(*x));
	FILE *d = NULL;
	bool ok = false;

	if (!q || !x) {
		figure_set(f, FIG_MISSING, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < g; j++)
		x[j] = (double)sample_quantile(v, n, q[j]);
	if (!(d = fig_open(p, f, name)))
		goto out;
	write_steps(d, x, q, g);
	ok = fig_close(d, f, name);
out:
	free(q);
	free(x);
	return ok;
}

/*
 * Linux's runs on one grid: STEM-linux.dat the median run (at each fraction,
 * the median of the runs' quantiles, as the metrics take Linux's value) and,
 * for two runs or more, STEM-linux-band.dat the envelope from the fastest
 * to the slowest run as one closed polygon: up the fastest, down the slowest.
 */
static bool write_linux_cdf(struct plotter *p, struct figure *f, const char *stem,
			    uint64_t *const *v, const size_t *n, size_t nr)
{
	size_t g = 0, k;
	double *q = cdf_grid(n, nr, &g), *med = NULL, *lo = NULL, *hi = NULL;
	double w[COMPARE_MAX_RUNS];
	char name[96];
	FILE *d;
	bool ok = false;

	med = malloc((g ? g : 1) * sizeof(*med));
	lo = malloc((g ? g : 1) * sizeof(*lo));
	hi = malloc((g ? g : 1) * sizeof(*hi));
	if (!q || !med || !lo || !hi) {
		figure_set(f, FIG_MISSING, "out of memory");
		goto out;
	}
	for (size_t j = 0; j < g; j++) {
		k = 0;
		for (size_t r = 0; r < nr; r++)
			if (n[r])
				w[k++] = (double)sample_quantile(v[r], n[r], q[j]);
		qsort(w, k, sizeof(w[0]), cmp_double);
		med[j] = k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2;
		lo[j] = w[0];
		hi[j] = w[k - 1];
	}
	snprintf(name, sizeof(name), "%s-linux.dat", stem);
	if (!(d = fig_open(p, f, name)))
		goto out;
	write_steps(d, med, q, g);
	if (!fig_close(d, f, name))
		goto out;
	for (size_t r = k = 0; r < nr; r++)
		k += n[r] != 0;
	if (k > 1) {
		snprintf(name, sizeof(name), "%s-linux-band.dat", stem);
		if (!(d = fig_open(p, f, name)))
			goto out;
		for (size_t j = 0; j < g; j++)
			fprintf(d, "%.9g %.6g\n%.9g %.6g\n", lo[j], j ? q[j - 1] : 0.0, lo[j], q[j]);
		for (size_t j = g; j-- > 0; )
			fprintf(d, "%.9g %.6g\n%.9g %.6g\n", hi[j], q[j], hi[j], j ? q[j - 1] : 0.0);
		fprintf(d, "%.9g 0\n", lo[0]);
		if (!fig_close(d, f, name))
			goto out;
	}
	ok = true;
out:
	free(q);
	free(med);
	free(lo);
	free(hi);
	return ok;
}

void plot_cdf(struct plotter *p, const struct cdf_plot *cp, struct figure *f)
{
	size_t with = 0, first = 0;
	uint64_t lo = UINT64_MAX, hi = 0;
	char name[96];
	FILE *g;
	int elo, ehi;

	for (size_t r = 0; r < cp->nr; r++)
		if (cp->nl[r]) {
			lo = cp->vl[r][0] < lo ? cp->vl[r][0] : lo;
			hi = cp->vl[r][cp->nl[r] - 1] > hi ? cp->vl[r][cp->nl[r] - 1] : hi;
			if (!with++)
				first = cp->nl[r];
		}
	for (size_t k = 0; k < cp->nsim; k++)
		if (cp->sim[k].n) {
			lo = cp->sim[k].v[0] < lo ? cp->sim[k].v[0] : lo;
			hi = cp->sim[k].v[cp->sim[k].n - 1] > hi ? cp->sim[k].v[cp->sim[k].n - 1] : hi;
		}
	if (!fig_can_draw(p, f))
		return;
	if (with && !write_linux_cdf(p, f, cp->stem, cp->vl, cp->nl, cp->nr))
		return;
	for (size_t k = 0; k < cp->nsim; k++) {
		snprintf(name, sizeof(name), "%s-%s.dat", cp->stem, cp->sim[k].tag);
		if (cp->sim[k].n && !write_sample_cdf(p, f, name, cp->sim[k].v, cp->sim[k].n))
			return;
	}

	snprintf(name, sizeof(name), "%s.gp", cp->stem);
	if (!(g = fig_open(p, f, name)))
		return;
	gp_header(g, cp->stem, 960, 400);
	elo = lo ? (int)floor(log10((double)lo)) : 0;
	ehi = hi ? (int)ceil(log10((double)hi)) : 1;
	if (ehi <= elo)
		ehi = elo + 1;
	gp_decade_axis(g, 'x', elo, ehi);
	fputs("set yrange [0:1.0001]\nset ytics 0.1\n", g);
	fputs("set xlabel 'fault latency (log scale)'\nset ylabel 'fraction of faults at or below'\n", g);
	/* above the plot: a CDF can run through any corner */
	fputs("set key outside top center horizontal\n", g);
	fputs("set title ", g);
	gp_quote(g, cp->title);
	fputc('\n', g);
	for (int i = 0; i < 3; i++)
		fprintf(g, "set arrow %d from graph 0, first %s to graph 1, first %s nohead "
			"lc rgb '#999999' dt 3\n", i + 1, (const char *[]){ "0.5", "0.9", "0.99" }[i],
			(const char *[]){ "0.5", "0.9", "0.99" }[i]);
	fputs("plot ", g);
	if (with > 1)
		fprintf(g, "'%s-linux-band.dat' using 1:2 with filledcurves closed "
			"fs transparent solid 0.25 noborder lc rgb '%s' title 'Linux: range of its "
			"%zu runs', \\\n     ", cp->stem, REPORT_LINUX_RGB, with);
	if (with > 1)
		fprintf(g, "'%s-linux.dat' using 1:2 with lines lw 2 lc rgb '%s' title 'Linux: "
			"median of its %zu runs'", cp->stem, REPORT_LINUX_RGB, with);
	else if (with)
		fprintf(g, "'%s-linux.dat' using 1:2 with lines lw 2 lc rgb '%s' title 'Linux: "
			"measured kernel latency (%zu faults)'", cp->stem, REPORT_LINUX_RGB, first);
	else
		fprintf(g, "keyentry with lines lw 2 dt 3 lc rgb '%s' title 'Linux: none recorded'",
			REPORT_LINUX_RGB);
	for (size_t k = 0; k < cp->nsim; k++) {
		const struct cdf_curve *cv = &cp->sim[k];
		char t[160];

		if (cv->n) {
			snprintf(t, sizeof(t), "%s (%zu faults)", cv->title, cv->n);
			fprintf(g, ", \\\n     '%s-%s.dat' using 1:2 with lines lw 2 dt %d lc rgb "
				"'%s' title ", cp->stem, cv->tag, cv->dt ? cv->dt : 1, cv->rgb);
		} else {
			snprintf(t, sizeof(t), "%s: none recorded", cv->title);
			fprintf(g, ", \\\n     keyentry with lines lw 2 dt 3 lc rgb '%s' title ",
				cv->rgb);
		}
		gp_quote(g, t);
	}
	fputc('\n', g);
	if (!fig_close(g, f, name))
		return;
	figure_draw(p, cp->stem, cp->label, f);
}

void plot_latency_cdf(struct plotter *p, const struct comparison *c, unsigned kind,
		      struct figure *f)
{
	const struct side *const *runs;
	size_t nr = report_linux_runs(c, &runs), with = 0, ns = 0, cold;
	bool all = kind >= FAULT_KIND_NR;
	uint64_t *vl[COMPARE_MAX_RUNS], *vs = NULL;
	size_t nl[COMPARE_MAX_RUNS];
	char stem[64], title[200], label[200];
	struct cdf_curve sim = { .title = "MimicOS: simulated fault time", .tag = "sim",
				 .rgb = REPORT_SIM_RGB };
	struct cdf_plot cp = { .stem = stem, .title = title, .label = label, .vl = vl, .nl = nl,
			       .sim = &sim, .nsim = 1 };

	memset(f, 0, sizeof(*f));
	memset(vl, 0, sizeof(vl));
	if (nr > COMPARE_MAX_RUNS)
		nr = COMPARE_MAX_RUNS;
	cp.nr = nr;
	snprintf(stem, sizeof(stem), "fault_latency%s%s", all ? "" : "_",
		 all ? "" : fault_kind_name(kind));
	for (size_t r = 0; r <= nr; r++) {
		size_t *n = r < nr ? &nl[r] : &ns;
		uint64_t *v = report_kind_latencies(r < nr ? runs[r] : c->sim_side, kind, n, &cold);

		if (!v) {
			figure_set(f, FIG_MISSING, "out of memory");
			goto out;
		}
		if (r < nr)
			vl[r] = v;
		else
			vs = v;
		with += r < nr && *n;
	}
	if (!with && !ns) {
		if (all)
			figure_set(f, FIG_EMPTY, "Neither side recorded fault latencies (%s).",
				   !c->linux_side->has_log && !c->sim_side->has_log ?
				   "no event logs" : "no fault in the logs has a known latency");
		else
			figure_set(f, FIG_EMPTY, "No %s fault has a known latency on either side, "
				   "cold ones aside.", fault_kind_name(kind));
		goto out;
	}
	sim.v = vs;
	sim.n = ns;
	if (all)
		snprintf(title, sizeof(title), "All faults, every kind, cold ones kept: information "
			 "only (dotted: 50th, 90th, 99th percentile)");
	else
		snprintf(title, sizeof(title), "%s: %s, cold faults left out (dotted: 50th, 90th, "
			 "99th percentile)", fault_kind_name(kind), fault_kind_desc(kind));
	if (all)
		snprintf(label, sizeof(label), "Fault latency CDF of all faults (information only), "
			 "Linux measured and MimicOS simulated");
	else
		snprintf(label, sizeof(label), "Fault latency CDF of %s faults, Linux measured and "
			 "MimicOS simulated", fault_kind_name(kind));
	plot_cdf(p, &cp, f);
out:
	for (size_t r = 0; r < nr; r++)
		free(vl[r]);
	free(vs);
}

/* ---- backing strips --------------------------------------------------------------- */

struct cellmap {
	size_t ncells;
	uint64_t (*pages)[PAGE_CLASS_NR];	/* per cell */
};

static uint64_t region_blocks(const struct side_region *r)
{
	if (!r->size)
		return 0;
	return ((r->start + r->size - 1) >> BLOCK_SHIFT) - (r->start >> BLOCK_SHIFT) + 1;
}

/* The region's backing runs folded into cells of per_cell 2 MiB blocks each. */
static int cellmap_build(const struct side_region *r, uint64_t per_cell, struct cellmap *m)
{
	uint64_t first = r->start >> BLOCK_SHIFT, page = 0, total = r->size / PAGE_CLASS_SIZE;

	m->ncells = (size_t)((region_blocks(r) + per_cell - 1) / per_cell);
	m->pages = calloc(m->ncells ? m->ncells : 1, sizeof(*m->pages));
	if (!m->pages)
		return -1;
	for (size_t i = 0; i < r->nr_backing && page < total; i++) {
		uint64_t left = r->backing[i].pages;

		while (left && page < total) {
			uint64_t addr = r->start + page * PAGE_CLASS_SIZE;
			uint64_t blk = (addr >> BLOCK_SHIFT) - first;
			uint64_t room = ((((addr >> BLOCK_SHIFT) + 1) << BLOCK_SHIFT) - addr) /
					PAGE_CLASS_SIZE;
			uint64_t take = left < room ? left : room;

			if (take > total - page)
				take = total - page;
			if (!take)
				take = 1;	/* a start not 4 KiB aligned: never loop */
			if (r->backing[i].cls < PAGE_CLASS_NR && blk / per_cell < m->ncells)
				m->pages[blk / per_cell][r->backing[i].cls] += take;
			left -= take;
			page += take;
		}
	}
	return 0;
}

/*
 * Cell c spans [c, c + 1) * cell_mib MiB from the first block's start; the
 * region [off, off + size) MiB of it. A partial cell (a region edge inside
 * a block) is drawn only as wide as the region covers it.
 */
static void write_cells(FILE *d, const struct cellmap *m, double y, double cell_mib,
			double off, double size, bool gaps)
{
	double gap = gaps ? cell_mib * 0.06 : 0;

	for (size_t c = 0; c < m->ncells; c++) {
		double lo = fmax((double)c * cell_mib, off);
		double hi = fmin((double)(c + 1) * cell_mib, off + size);
		uint64_t total = 0;
		double cum = 0;

		for (int k = 0; k < PAGE_CLASS_NR; k++)
			total += m->pages[c][k];
		if (!total || hi <= lo)
			continue;
		if (lo == (double)c * cell_mib)
			lo += gap / 2;
		if (hi == (double)(c + 1) * cell_mib)
			hi -= gap / 2;
		for (int k = 0; k < PAGE_CLASS_NR; k++) {
			enum page_class cls = stack_order[k];
			double frac = (double)m->pages[c][cls] / (double)total;

			if (!m->pages[c][cls])
				continue;
			fprintf(d, "%.9g %.9g %.9g %.9g %u\n", (lo + hi) / 2,
				y - 0.4 + (cum + frac / 2) * 0.8, (hi - lo) / 2, frac * 0.4,
				class_rgb[cls]);
			cum += frac;
		}
	}
}

void plot_backing(struct plotter *p, const struct comparison *c, size_t region,
		  struct figure *f)
{
	const struct side_region *r[2] = { NULL, NULL };
	struct cellmap m[2] = { { 0 }, { 0 } };
	static const char *const row[2] = { "Linux", "simulated" };
	uint64_t blocks = 0, per_cell;
	size_t ncells = 0;
	char stem[64], name[96], label[200];
	FILE *g, *d;
	int si;

	memset(f, 0, sizeof(*f));
	r[0] = &c->linux_side->regions[region];
	si = report_region_index(c->sim_side, r[0]->name);
	r[1] = si >= 0 ? &c->sim_side->regions[si] : NULL;
	for (int s = 0; s < 2; s++)
		if (r[s] && r[s]->backing && region_blocks(r[s]) > blocks)
			blocks = region_blocks(r[s]);
	if (!blocks) {
		figure_set(f, FIG_EMPTY, "The backing map is not available: %s.",
			   (r[0]->backing || (r[1] && r[1]->backing)) ? "the region is empty" :
			   "neither side recorded one for this region (the class counts above are "
			   "all there is)");
		return;
	}
	if (!fig_can_draw(p, f))
		return;
	per_cell = (blocks + REPORT_MAX_CELLS - 1) / REPORT_MAX_CELLS;
	snprintf(stem, sizeof(stem), "backing_%zu", region);
	snprintf(name, sizeof(name), "%s.dat", stem);
	if (!(d = fig_open(p, f, name)))
		return;
	for (int s = 0; s < 2; s++) {
		if (!r[s] || !r[s]->backing)
			continue;
		if (cellmap_build(r[s], per_cell, &m[s])) {
			fclose(d);
			figure_set(f, FIG_MISSING, "out of memory");
			goto out;
		}
		if (m[s].ncells > ncells)
			ncells = m[s].ncells;
		write_cells(d, &m[s], s == 0 ? 1 : 0, (double)(per_cell * 2),
			    (double)(r[s]->start & ((UINT64_C(1) << BLOCK_SHIFT) - 1)) / (1 << 20),
			    (double)r[s]->size / (1 << 20), ncells <= 128);
	}
	if (!fig_close(d, f, name))
		goto out;

	snprintf(name, sizeof(name), "%s.gp", stem);
	if (!(g = fig_open(p, f, name)))
		goto out;
	gp_header(g, stem, 960, 210);
	fputs("unset grid\nset yrange [-0.6:1.6]\nset ytics scale 0 ('Linux' 1, 'simulated' 0)\n", g);
	fprintf(g, "set xrange [0:%" PRIu64 "]\n", (uint64_t)ncells * per_cell * 2);
	/* a tic on block boundaries, 16 at most */
	fprintf(g, "set xtics 0, %" PRIu64 "\n", per_cell * 2 * ((ncells + 15) / 16));
	fprintf(g, "set xlabel \"offset from the region's first 2 MiB boundary (MiB); one cell = %"
		PRIu64 " MiB\"\n", per_cell * 2);
	fputs("set key outside right center vertical reverse Left samplen 1\n", g);
	fputs("set style fill solid 1.0 noborder\nset lmargin 11\n", g);
	for (int s = 0; s < 2; s++)
		if (!r[s] || !r[s]->backing) {
			fprintf(g, "set label %d ", s + 1);
			snprintf(label, sizeof(label), "%s: no backing map recorded", row[s]);
			gp_quote(g, label);
			fprintf(g, " at graph 0.01, first %d left tc rgb '#777777'\n", s == 0 ? 1 : 0);
		}
	fprintf(g, "plot '%s.dat' using 1:2:3:4:5 with boxxyerror lc rgb variable notitle", stem);
	for (int k = PAGE_CLASS_NR - 1; k >= 0; k--)
		fprintf(g, ", \\\n     keyentry with boxes lc rgb '#%06x' title '%s'",
			class_rgb[stack_order[k]], class_label[stack_order[k]]);
	fputc('\n', g);
	if (!fig_close(g, f, name))
		goto out;
	snprintf(label, sizeof(label), "Backing of region %s per 2 MiB block, Linux and simulated",
		 r[0]->name ? r[0]->name : "?");
	figure_draw(p, stem, label, f);
out:
	free(m[0].pages);
	free(m[1].pages);
}

/* ---- histograms ------------------------------------------------------------------ */

/*
 * Two series of bars side by side at x = 0..n-1: STEM.dat holds x, the
 * Linux and simulated bar heights and counts; STEM-labels.dat the count
 * labels of the non-zero bars only (gnuplot 5.4 crashes on a labels plot
 * whose points are all undefined). At least one count must be non-zero.
 */
static bool write_bars(struct plotter *p, struct figure *f, const char *stem, size_t n,
		       const double *va, const double *vb, const uint64_t *ca, const uint64_t *cb)
{
	char name[96];
	FILE *d;

	snprintf(name, sizeof(name), "%s.dat", stem);
	if (!(d = fig_open(p, f, name)))
		return false;
	fputs("# x linux sim linux_count sim_count\n", d);
	for (size_t i = 0; i < n; i++)
		fprintf(d, "%zu %.9g %.9g %" PRIu64 " %" PRIu64 "\n", i, va[i], vb[i], ca[i], cb[i]);
	if (!fig_close(d, f, name))
		return false;
	snprintf(name, sizeof(name), "%s-labels.dat", stem);
	if (!(d = fig_open(p, f, name)))
		return false;
	fputs("# x y label: the counts over the non-zero bars\n", d);
	for (size_t i = 0; i < n; i++) {
		if (ca[i])
			fprintf(d, "%.2f %.9g %" PRIu64 "\n", (double)i - 0.2, va[i], ca[i]);
		if (cb[i])
			fprintf(d, "%.2f %.9g %" PRIu64 "\n", (double)i + 0.2, vb[i], cb[i]);
	}
	return fig_close(d, f, name);
}

static void gp_bar_pair(FILE *g, const char *stem, uint64_t tot_lx, uint64_t tot_sm)
{
	fputs("set style fill solid 0.9 noborder\nset boxwidth 0.38\nset key top right box opaque\n", g);
	fprintf(g, "plot '%s.dat' using ($1-0.2):2 with boxes lc rgb '%s' title 'Linux (%" PRIu64
		")', \\\n", stem, REPORT_LINUX_RGB, tot_lx);
	fprintf(g, "     '' using ($1+0.2):3 with boxes lc rgb '%s' title 'simulated (%" PRIu64
		")', \\\n", REPORT_SIM_RGB, tot_sm);
	fprintf(g, "     '%s-labels.dat' using 1:2:3 with labels offset 0,0.7 font ',10' notitle\n",
		stem);
}

void plot_alloc_orders(struct plotter *p, const struct comparison *c, struct figure *f)
{
	static const char *const stem = "alloc_orders";
	uint64_t o[2][SIDE_ORDERS], tot[2] = { 0, 0 };
	double share[2][SIDE_ORDERS], top = 0;
	char name[96];
	FILE *g;

	memset(f, 0, sizeof(*f));
	report_alloc_orders(c->linux_side, o[0]);
	report_alloc_orders(c->sim_side, o[1]);
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < SIDE_ORDERS; k++)
			tot[s] += o[s][k];
	if (!tot[0] && !tot[1]) {
		figure_set(f, FIG_EMPTY, "Neither side allocated a folio at fault time.");
		return;
	}
	if (!fig_can_draw(p, f))
		return;
	for (int s = 0; s < 2; s++)
		for (int k = 0; k < SIDE_ORDERS; k++) {
			share[s][k] = tot[s] ? (double)o[s][k] / (double)tot[s] : 0;
			top = fmax(top, share[s][k]);
		}
	if (!write_bars(p, f, stem, SIDE_ORDERS, share[0], share[1], o[0], o[1]))
		return;
	snprintf(name, sizeof(name), "%s.gp", stem);
	if (!(g = fig_open(p, f, name)))
		return;
	gp_header(g, stem, 960, 380);
	fprintf(g, "set xrange [-0.6:%d.6]\nset xtics 1 scale 0\nset yrange [0:%.4g]\n",
		SIDE_ORDERS - 1, top * 1.15 + 1e-9);
	fputs("set xlabel 'folio order of the fault allocation (0 = 4 KiB, 4 = 64 KiB, 9 = 2 MiB)'\n", g);
	fputs("set ylabel \"share of the side's fault allocations\"\n", g);
	fputs("set title 'Fault allocation orders (labels: counts)'\n", g);
	gp_bar_pair(g, stem, tot[0], tot[1]);
	if (!fig_close(g, f, name))
		return;
	figure_draw(p, stem, "Fault allocation orders, Linux and simulated", f);
}

void plot_named_counts(struct plotter *p, const char *stem, const char *title,
		       const struct side_named_count *lx, size_t nr_lx,
		       const struct side_named_count *sm, size_t nr_sm, struct figure *f)
{
	const char **names = NULL;
	size_t per, width;
	bool rotate;
	uint64_t *a = NULL, *b = NULL, tot[2] = { 0, 0 }, top = 0;
	double *va = NULL, *vb = NULL;
	size_t n = 0, longest = 0;
	char name[96], label[160];
	FILE *g;

	memset(f, 0, sizeof(*f));
	if (report_named_union(lx, nr_lx, sm, nr_sm, &names, &a, &b, &n)) {
		figure_set(f, FIG_MISSING, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		tot[0] += a[i];
		tot[1] += b[i];
		top = a[i] > top ? a[i] : top;
		top = b[i] > top ? b[i] : top;
		longest = strlen(names[i]) > longest ? strlen(names[i]) : longest;
	}
	if (!tot[0] && !tot[1]) {
		figure_set(f, FIG_EMPTY, "None on either side.");
		goto out;
	}
	if (!fig_can_draw(p, f))
		goto out;
	va = calloc(n, sizeof(*va));
	vb = calloc(n, sizeof(*vb));
	if (!va || !vb) {
		figure_set(f, FIG_MISSING, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		va[i] = (double)a[i];
		vb[i] = (double)b[i];
	}
	if (!write_bars(p, f, stem, n, va, vb, a, b))
		goto out;
	snprintf(name, sizeof(name), "%s.gp", stem);
	if (!(g = fig_open(p, f, name)))
		goto out;
	/* as wide as the names need, rotated when they do not fit side by side */
	per = longest * 8 + 40 > 150 ? longest * 8 + 40 : 150;
	width = 200 + n * per > 960 ? 960 : 200 + n * per < 480 ? 480 : 200 + n * per;
	rotate = (double)longest * 7.5 > (double)(width - 200) / (double)n;
	gp_header(g, stem, (int)width, rotate ? 360 + (int)longest * 3 : 360);
	fprintf(g, "set xrange [-0.6:%zu.6]\nset yrange [0:%.4g]\nset xtics scale 0 (",
		n - 1, (double)top * 1.15 + 0.5);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", g);
		gp_quote(g, names[i]);
		fprintf(g, " %zu", i);
	}
	fputs(")\n", g);
	if (rotate)
		fprintf(g, "set xtics rotate by -30 left\nset bmargin %.1f\nset rmargin 8\n",
			2 + (double)longest * 0.28);
	if (top <= 10)
		fputs("set ytics 1\n", g);
	fputs("set ylabel 'count'\nset title ", g);
	gp_quote(g, title);
	fputc('\n', g);
	gp_bar_pair(g, stem, tot[0], tot[1]);
	if (!fig_close(g, f, name))
		goto out;
	snprintf(label, sizeof(label), "%s, Linux and simulated", title);
	figure_draw(p, stem, label, f);
out:
	free(names);
	free(a);
	free(b);
	free(va);
	free(vb);
}
