/*
 * suite.c - a suite's pooled fault latencies and its scatter (suite.h).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/plot.h"
#include "reports/suite.h"

#define EARLIER_RGB	"#888888"

static const char *const family_names[] = {
#define SUITE_FAMILY_NAME(name, desc) #name,
	SUITE_SCATTER_FAMILIES(SUITE_FAMILY_NAME)
#undef SUITE_FAMILY_NAME
};

static const char *const family_descs[] = {
#define SUITE_FAMILY_DESC(name, desc) desc,
	SUITE_SCATTER_FAMILIES(SUITE_FAMILY_DESC)
#undef SUITE_FAMILY_DESC
};

const char *suite_family_name(unsigned family)
{
	return family < SUITE_FAMILY_NR ? family_names[family] : NULL;
}

const char *suite_family_desc(unsigned family)
{
	return family < SUITE_FAMILY_NR ? family_descs[family] : NULL;
}

/* ---- pooled fault latencies --------------------------------------------------------- */

void suite_faults_release(struct suite_faults *sf)
{
	for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
		for (size_t r = 0; r < COMPARE_MAX_RUNS; r++)
			free(sf->linux_runs[k][r].v);
		for (size_t s = 0; s < SUITE_MAX_SIDES; s++)
			free(sf->sim[k][s].v);
	}
	memset(sf, 0, sizeof(*sf));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* v[0..n) into the sample, kept sorted. */
static int sample_add(struct suite_sample *s, const uint64_t *v, size_t n)
{
	if (!n)
		return 0;
	if (s->n + n > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		uint64_t *nv;

		while (cap < s->n + n)
			cap *= 2;
		if (!(nv = realloc(s->v, cap * sizeof(*nv))))
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	memcpy(s->v + s->n, v, n * sizeof(*v));
	s->n += n;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u64);
	return 0;
}

/* The side's warm faults of 'kind' into s. */
static int side_add(struct suite_sample *s, const struct side *sd, unsigned kind)
{
	size_t n = 0, cold;
	uint64_t *v = report_kind_latencies(sd, kind, &n, &cold);
	int ret;

	if (!v)
		return -1;
	ret = sample_add(s, v, n);
	free(v);
	return ret;
}

int suite_faults_add(struct suite_faults *sf, const struct comparison *c, size_t nk)
{
	const struct side *const *runs;
	size_t nr;

	if (!nk)
		return 0;
	nr = report_linux_runs(&c[0], &runs);
	if (nr > COMPARE_MAX_RUNS)
		nr = COMPARE_MAX_RUNS;
	if (nk > SUITE_MAX_SIDES)
		nk = SUITE_MAX_SIDES;
	for (unsigned kind = 0; kind < FAULT_KIND_NR; kind++) {
		for (size_t r = 0; r < nr; r++)
			if (side_add(&sf->linux_runs[kind][r], runs[r], kind))
				return -1;
		for (size_t k = 0; k < nk; k++)
			if (side_add(&sf->sim[kind][k], c[k].sim_side, kind))
				return -1;
	}
	sf->nr = nr > sf->nr ? nr : sf->nr;
	sf->nk = nk > sf->nk ? nk : sf->nk;
	return 0;
}

void suite_plot_cdf(struct plotter *p, const struct suite_faults *sf, unsigned kind,
		    const char *const *sides, const char *stem, struct figure *f)
{
	uint64_t *vl[COMPARE_MAX_RUNS];
	size_t nl[COMPARE_MAX_RUNS], any = 0;
	struct cdf_curve cv[SUITE_MAX_SIDES];
	char title[256], label[200], ct[SUITE_MAX_SIDES][96];
	struct cdf_plot cp = { .stem = stem, .title = title, .label = label, .vl = vl, .nl = nl,
			       .nr = sf->nr, .sim = cv, .nsim = sf->nk };

	memset(f, 0, sizeof(*f));
	if (kind >= FAULT_KIND_NR) {
		figure_set(f, FIG_EMPTY, "No such fault kind.");
		return;
	}
	for (size_t r = 0; r < sf->nr; r++) {
		vl[r] = sf->linux_runs[kind][r].v;
		nl[r] = sf->linux_runs[kind][r].n;
		any += nl[r];
	}
	for (size_t k = 0; k < sf->nk; k++) {
		bool last = k + 1 == sf->nk;

		snprintf(ct[k], sizeof(ct[k]), "MimicOS, %s", sides[k]);
		cv[k] = (struct cdf_curve){ .v = sf->sim[kind][k].v, .n = sf->sim[kind][k].n,
					    .title = ct[k], .tag = sides[k],
					    .rgb = last ? REPORT_SIM_RGB : EARLIER_RGB,
					    .dt = last ? 1 : 2 };
		any += cv[k].n;
	}
	if (!any) {
		figure_set(f, FIG_EMPTY, "No %s fault has a known latency on either side, cold "
			   "ones aside.", fault_kind_name(kind));
		return;
	}
	snprintf(title, sizeof(title), "%s: %s, every workload's faults pooled, cold ones left out "
		 "(dotted: 50th, 90th, 99th percentile)", fault_kind_name(kind),
		 fault_kind_desc(kind));
	snprintf(label, sizeof(label), "Fault latency CDF of the suite's %s faults, Linux "
		 "measured and MimicOS simulated", fault_kind_name(kind));
	plot_cdf(p, &cp, f);
}

/* ---- the scatter -------------------------------------------------------------------- */

static bool json_num(const cJSON *o, const char *key, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(it))
		return false;
	*v = it->valuedouble;
	return true;
}

/* The metric's family, or SUITE_FAMILY_NR when the scatter does not draw it. */
static unsigned metric_family(const cJSON *m)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(m, "scope");

	if (!cJSON_IsString(name))
		return SUITE_FAMILY_NR;
	for (unsigned fam = 0; fam < SUITE_FAMILY_NR; fam++)
		if (!strcmp(name->valuestring, family_names[fam])) {
			/* a quantile of every fault mixed is information only */
			if (!strncmp(family_names[fam], "fault_latency", 13) &&
			    (!cJSON_IsString(scope) || !strcmp(scope->valuestring, "all")))
				return SUITE_FAMILY_NR;
			return fam;
		}
	return SUITE_FAMILY_NR;
}

/* One point: Linux's value and band, the side's value and error. */
struct point {
	double linux, lo, hi, sim, error;
};

static bool metric_point(const cJSON *m, const char *side, struct point *pt)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, side);

	if (!json_num(m, "linux", &pt->linux) || !json_num(s, "sim", &pt->sim) ||
	    !json_num(s, "error", &pt->error) || !(pt->linux > 0) || !(pt->sim > 0))
		return false;
	if (!json_num(m, "linux_lo", &pt->lo) || !(pt->lo > 0))
		pt->lo = pt->linux;
	if (!json_num(m, "linux_hi", &pt->hi) || !(pt->hi > 0))
		pt->hi = pt->linux;
	return true;
}

/*
 * Call fn for each point of 'side' in the families of 'mask'. 0, or fn's
 * first non-zero return.
 */
static int each_point(const cJSON *suite, const char *side, unsigned mask,
		      int (*fn)(void *arg, unsigned fam, const struct point *pt), void *arg)
{
	const cJSON *w, *m;
	struct point pt;
	int ret;

	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(suite, "workloads"))
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(w, "metrics")) {
			unsigned fam = metric_family(m);

			if (fam == SUITE_FAMILY_NR || !(mask & SUITE_MASK(fam)))
				continue;
			if (metric_point(m, side, &pt) && (ret = fn(arg, fam, &pt)))
				return ret;
		}
	return 0;
}

struct gather {
	double *x, *y, sum, max;
	size_t n, cap;
};

static int gather_point(void *arg, unsigned fam, const struct point *pt)
{
	struct gather *g = arg;

	(void)fam;
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		double *x = realloc(g->x, cap * sizeof(*x)), *y;

		if (!x)
			return -1;
		g->x = x;
		if (!(y = realloc(g->y, cap * sizeof(*y))))
			return -1;
		g->y = y;
		g->cap = cap;
	}
	g->x[g->n] = pt->linux;
	g->y[g->n++] = pt->sim;
	g->sum += pt->error;
	g->max = pt->error > g->max ? pt->error : g->max;
	return 0;
}

void suite_scatter_stats(const cJSON *suite, const char *side, unsigned mask,
			 struct suite_scatter_stats *st)
{
	struct gather g = { 0 };
	int ret = each_point(suite, side, mask, gather_point, &g);

	st->n = ret ? 0 : g.n;
	st->mape = st->n ? g.sum / (double)st->n : NAN;
	st->max = st->n ? g.max : NAN;
	st->r = st->n ? pearson_log_r(g.x, g.y, g.n) : NAN;
	free(g.x);
	free(g.y);
}

struct scatter_file {
	FILE *d;
	unsigned fam;
	size_t n;
	double lo, hi;
};

static int write_point(void *arg, unsigned fam, const struct point *pt)
{
	struct scatter_file *sfl = arg;

	if (sfl->d) {
		if (fam != sfl->fam)
			return 0;
		fprintf(sfl->d, "%.9g %.9g %.9g %.9g\n", pt->linux, pt->sim, pt->lo, pt->hi);
	}
	sfl->n++;
	sfl->lo = fmin(sfl->lo, fmin(pt->lo, pt->sim));
	sfl->hi = fmax(sfl->hi, fmax(pt->hi, pt->sim));
	return 0;
}

/* "12.3%", or "n/a" */
static void fmt_pct(char *buf, size_t len, double v)
{
	if (isfinite(v))
		snprintf(buf, len, "%.1f%%", 100 * v);
	else
		snprintf(buf, len, "n/a");
}

static void fmt_r(char *buf, size_t len, double v)
{
	if (isfinite(v))
		snprintf(buf, len, "%.3f", v);
	else
		snprintf(buf, len, "n/a");
}

static void stats_text(char *buf, size_t len, const cJSON *suite, const char *side,
		       unsigned mask)
{
	struct suite_scatter_stats st;
	char mape[32], max[32], r[32];

	suite_scatter_stats(suite, side, mask, &st);
	fmt_pct(mape, sizeof(mape), st.mape);
	fmt_pct(max, sizeof(max), st.max);
	fmt_r(r, sizeof(r), st.r);
	snprintf(buf, len, "MAPE %s, max %s, Pearson r %s (%zu points)", mape, max, r, st.n);
}

void suite_plot_scatter(struct plotter *p, const cJSON *suite, const char *const *sides,
			size_t nk, unsigned mask, const char *what, const char *stem,
			struct figure *f)
{
	/* filled for the last side, open for an earlier one */
	static const int pt_last[SUITE_FAMILY_NR] = { 7, 9, 5, 13, 11 };
	static const int pt_earlier[SUITE_FAMILY_NR] = { 6, 8, 4, 12, 10 };
	struct scatter_file all = { .lo = INFINITY, .hi = 0 };
	bool drawn[SUITE_MAX_SIDES][SUITE_FAMILY_NR] = { { false } };
	char name[160], text[200], title[400];
	FILE *g;
	int elo, ehi;

	memset(f, 0, sizeof(*f));
	if (nk > SUITE_MAX_SIDES)
		nk = SUITE_MAX_SIDES;
	for (size_t k = 0; k < nk; k++)
		each_point(suite, sides[k], mask, write_point, &all);
	if (!all.n) {
		figure_set(f, FIG_EMPTY, "No phase runtime or fault latency quantile has a value "
			   "on both sides.");
		return;
	}
	if (!fig_can_draw(p, f))
		return;
	for (size_t k = 0; k < nk; k++)
		for (unsigned fam = 0; fam < SUITE_FAMILY_NR; fam++) {
			struct scatter_file one = { .fam = fam, .lo = INFINITY };

			if (!(mask & SUITE_MASK(fam)))
				continue;
			snprintf(name, sizeof(name), "%s-%s-%s.dat", stem, sides[k], family_names[fam]);
			if (!(one.d = fig_open(p, f, name)))
				return;
			fputs("# linux simulated linux_lo linux_hi (ns)\n", one.d);
			each_point(suite, sides[k], SUITE_MASK(fam), write_point, &one);
			if (!fig_close(one.d, f, name))
				return;
			drawn[k][fam] = one.n > 0;
		}

	snprintf(name, sizeof(name), "%s.gp", stem);
	if (!(g = fig_open(p, f, name)))
		return;
	gp_header(g, stem, 1040, 640);
	elo = (int)floor(log10(all.lo));
	ehi = (int)ceil(log10(all.hi));
	if (ehi <= elo)
		ehi = elo + 1;
	gp_decade_axis(g, 'x', elo, ehi);
	gp_decade_axis(g, 'y', elo, ehi);
	fputs("set size square\nset key outside right center vertical Left reverse samplen 2\n"
	      "set xlabel 'Linux (median of its runs; bar: fastest to slowest run)'\n", g);
	fputs("set ylabel 'simulated'\nset samples 200\n", g);
	stats_text(text, sizeof(text), suite, sides[nk - 1], mask);
	/* over the whole canvas: a title over the square plot alone would be cut */
	snprintf(title, sizeof(title), "%s, %s: %s", what, sides[nk - 1], text);
	fputs("set tmargin 4\nset label 100 ", g);
	gp_quote(g, title);
	fputs(" at screen 0.5, screen 0.96 center\nplot x with lines dt 3 lc rgb '#555555' title 'y = x'", g);
	for (size_t k = 0; k < nk; k++) {
		bool last = k + 1 == nk;

		for (unsigned fam = 0; fam < SUITE_FAMILY_NR; fam++) {
			if (!drawn[k][fam])
				continue;
			fprintf(g, ", \\\n     '%s-%s-%s.dat' using 1:2:3:4 with xerrorbars pt %d "
				"ps 0.9 lc rgb '%s' title ", stem, sides[k], family_names[fam],
				last ? pt_last[fam] : pt_earlier[fam],
				last ? REPORT_SIM_RGB : EARLIER_RGB);
			snprintf(text, sizeof(text), "%s: %s", sides[k], family_descs[fam]);
			gp_quote(g, text);
		}
		/* each side's numbers in the key, the title holds the last's */
		stats_text(text, sizeof(text), suite, sides[k], mask);
		snprintf(title, sizeof(title), "%s: %s", sides[k], text);
		fputs(", \\\n     keyentry with points pt 0 lc rgb 'white' title ", g);
		gp_quote(g, title);
	}
	fputc('\n', g);
	if (!fig_close(g, f, name))
		return;
	snprintf(title, sizeof(title), "Simulated against Linux: %s, %s", what, sides[nk - 1]);
	figure_draw(p, stem, title, f);
}
