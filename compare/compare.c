/*
 * compare.c - two sides of one workload, metric by metric (compare.h), and
 * summary.json: the one place a comparison is printed.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"

#define PAGE_4K 4096u

struct build {
	struct comparison *c;
	size_t cap;
	const struct tolerances *tol;
	const struct side *const *L;	/* Linux's runs */
	size_t nl;
	const struct side *l, *s;	/* the first Linux run, the simulated side */
	int **rmap;		/* region i of run 0 is region rmap[r][i] of run r */
	int *map;		/* region i of run 0 is sim region map[i] */
	bool oom;
};

/* Append a metric; its verdict from its tolerance. note: printf format or NULL. */
static struct metric *add(struct build *b, const char *name, const char *scope,
			  double linux_value, double sim_value, double value,
			  const char *note, ...) __attribute__((format(printf, 7, 8)));

static struct metric *add(struct build *b, const char *name, const char *scope,
			  double linux_value, double sim_value, double value,
			  const char *note, ...)
{
	const struct tolerance *t = tolerance_find(b->tol, name);
	struct comparison *c = b->c;
	struct metric *m;

	if (!t) {
		fprintf(stderr, "compare: no tolerance for metric \"%s\"\n", name);
		abort();
	}
	if (c->nr_metrics == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct metric *nm = realloc(c->metrics, cap * sizeof(*nm));

		if (!nm) {
			b->oom = true;
			return NULL;
		}
		c->metrics = nm;
		b->cap = cap;
	}
	m = &c->metrics[c->nr_metrics++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->scope, sizeof(m->scope), "%s", scope);
	m->linux_value = m->linux_lo = m->linux_hi = linux_value;
	m->linux_runs = isnan(linux_value) ? 0 : 1;
	m->sim_value = sim_value;
	m->value = value;
	m->warn = t->warn;
	m->fail = t->fail;
	m->higher_is_better = t->higher_is_better;
	m->klass = t->klass;
	m->verdict = verdict_of(t, value);
	if (note) {
		va_list ap;

		va_start(ap, note);
		vsnprintf(m->note, sizeof(m->note), note, ap);
		va_end(ap);
	}
	return m;
}

/* Add to a metric's note, after what it says. */
static void note_append(struct metric *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note_append(struct metric *m, const char *fmt, ...)
{
	size_t len = strlen(m->note);
	va_list ap;

	if (len && len + 2 < sizeof(m->note)) {
		memcpy(m->note + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(m->note + len, sizeof(m->note) - len, fmt, ap);
	va_end(ap);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

enum band_mode { BAND_COUNT, BAND_TIME };

/*
 * A count or a time over Linux's runs (v[r], NAN where run r has none):
 * the median, the band min..max, and the error of the simulated value
 * from the band's nearest edge (relative for counts, the ratio for
 * times). A count that Linux's runs disagree on, with the simulated value
 * inside their range, is "unstable", not a pass: it checked nothing.
 */
/* The median and range of the values of v that are numbers; how many are. */
static size_t band_of(const double *v, size_t n, double *med, double *lo, double *hi)
{
	double w[COMPARE_MAX_RUNS];
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			w[k++] = v[i];
	if (!k)
		return 0;
	qsort(w, k, sizeof(*w), cmp_double);
	*lo = w[0];
	*hi = w[k - 1];
	*med = k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2;
	return k;
}

static struct metric *add_band(struct build *b, const char *name, const char *scope,
			       const double *v, size_t n, double sim, enum band_mode mode)
{
	double med, lo, hi;
	struct metric *m;
	size_t k = band_of(v, n, &med, &lo, &hi);

	if (!k)
		return add(b, name, scope, NAN, sim, NAN, "no Linux run measured it");
	m = add(b, name, scope, med, sim,
		band_error(lo, hi, sim, mode == BAND_TIME ? ratio_error : rel_error), NULL);
	if (!m)
		return NULL;
	m->linux_lo = lo;
	m->linux_hi = hi;
	m->linux_runs = (unsigned)k;
	if (lo != hi && mode == BAND_COUNT) {
		note_append(m, "Linux unstable: %.17g..%.17g over %zu runs", lo, hi, k);
		if (m->value == 0)
			m->verdict = VERDICT_UNSTABLE;
	}
	return m;
}

/* One count per Linux run and the simulated one. */
static struct metric *add_counts(struct build *b, const char *name, const char *scope,
				 const uint64_t *l, uint64_t s)
{
	double v[COMPARE_MAX_RUNS];

	for (size_t r = 0; r < b->nl; r++)
		v[r] = (double)l[r];
	return add_band(b, name, scope, v, b->nl, (double)s, BAND_COUNT);
}

/*
 * A distance (or an agreement) per Linux run: judged on the run nearest
 * the simulated side; the range over runs in the note when they differ.
 */
static struct metric *add_nearest(struct build *b, const char *name, const char *scope,
				  const double *v, bool higher_is_better)
{
	double best = v[0], lo = v[0], hi = v[0];
	struct metric *m;

	for (size_t r = 1; r < b->nl; r++) {
		best = higher_is_better ? fmax(best, v[r]) : fmin(best, v[r]);
		lo = fmin(lo, v[r]);
		hi = fmax(hi, v[r]);
	}
	m = add(b, name, scope, NAN, NAN, best, NULL);
	if (m && lo != hi)
		note_append(m, "%.4g..%.4g over the %zu Linux runs: the nearest counts", lo, hi, b->nl);
	return m;
}

/* ---- do the sides belong together? -------------------------------------------- */

static int check_sides(const struct side *l, const struct side *s, int *map, struct wl_error *err)
{
	char path[160], lv[80], sv[80];

	if (strcmp(l->workload, s->workload))
		return wl_error_set(err, s->path, "workload",
				    "\"%s\", but \"%s\" in %s: not the same workload",
				    s->workload, l->workload, l->path);
	snprintf(lv, sizeof(lv), "%s%s%s", l->version ? "\"" : "", l->version ? l->version : "none",
		 l->version ? "\"" : "");
	snprintf(sv, sizeof(sv), "%s%s%s", s->version ? "\"" : "", s->version ? s->version : "none",
		 s->version ? "\"" : "");
	if (strcmp(lv, sv))
		return wl_error_set(err, s->path, "tool",
				    "%s, but %s in %s: results of different tool versions",
				    sv, lv, l->path);
	for (size_t i = 0; i < l->nr_regions; i++) {
		const struct side_region *r = &l->regions[i];

		map[i] = -1;
		for (size_t j = 0; j < s->nr_regions; j++)
			if (!strcmp(r->name, s->regions[j].name))
				map[i] = (int)j;
		snprintf(path, sizeof(path), "regions.%s", r->name);
		if (map[i] < 0)
			return wl_error_set(err, s->path, path, "missing: %s has this region", l->path);
		if (s->regions[map[i]].size != r->size)
			return wl_error_set(err, s->path, path,
					    "size %llu, but %llu in %s",
					    (unsigned long long)s->regions[map[i]].size,
					    (unsigned long long)r->size, l->path);
	}
	if (s->nr_regions != l->nr_regions)
		for (size_t j = 0; j < s->nr_regions; j++) {
			size_t i;

			for (i = 0; i < l->nr_regions && strcmp(l->regions[i].name,
								s->regions[j].name); i++)
				;
			if (i == l->nr_regions) {
				snprintf(path, sizeof(path), "regions.%s", s->regions[j].name);
				return wl_error_set(err, s->path, path, "not a region of %s",
						    l->path);
			}
		}
	if (s->nr_phases != l->nr_phases)
		return wl_error_set(err, s->path, "phases", "%zu phases, but %zu in %s",
				    s->nr_phases, l->nr_phases, l->path);
	for (size_t i = 0; i < l->nr_phases; i++)
		if (strcmp(l->phases[i].op, s->phases[i].op)) {
			snprintf(path, sizeof(path), "phases[%zu].op", i);
			return wl_error_set(err, s->path, path, "\"%s\", but \"%s\" in %s",
					    s->phases[i].op, l->phases[i].op, l->path);
		}
	return 0;
}

/* ---- the metrics ----------------------------------------------------------------- */

/* Region i of the first Linux run, in Linux run r. */
static const struct side_region *lreg(const struct build *b, size_t r, size_t i)
{
	return &b->L[r]->regions[b->rmap[r][i]];
}

static void region_counts(struct build *b)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "faults", offsetof(struct side_region, faults) },
		{ "thp_faults", offsetof(struct side_region, thp_faults) },
		{ "huge_bytes", offsetof(struct side_region, huge_bytes) },
		{ "resident_bytes", offsetof(struct side_region, resident_bytes) },
	};
#define FIELD(r, f) (*(const uint64_t *)((const char *)(r) + fields[f].off))
	uint64_t lv[COMPARE_MAX_RUNS];

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		uint64_t st = 0;

		for (size_t r = 0; r < b->nl; r++) {
			lv[r] = 0;
			for (size_t i = 0; i < b->l->nr_regions; i++)
				lv[r] += FIELD(lreg(b, r, i), f);
		}
		for (size_t i = 0; i < b->l->nr_regions; i++)
			st += FIELD(&b->s->regions[b->map[i]], f);
		add_counts(b, fields[f].name, "all", lv, st);
		for (size_t i = 0; i < b->l->nr_regions; i++) {
			for (size_t r = 0; r < b->nl; r++)
				lv[r] = FIELD(lreg(b, r, i), f);
			add_counts(b, fields[f].name, b->l->regions[i].name, lv,
				   FIELD(&b->s->regions[b->map[i]], f));
		}
	}
#undef FIELD
}

/* Pages of the same class at the same place, walking both run lists. */
static uint64_t runs_agree(const struct side_region *a, const struct side_region *b)
{
	uint64_t same = 0, ra, rb;
	size_t i = 0, j = 0;

	if (!a->nr_backing || !b->nr_backing)
		return 0;
	ra = a->backing[0].pages;
	rb = b->backing[0].pages;
	while (i < a->nr_backing && j < b->nr_backing) {
		uint64_t n = ra < rb ? ra : rb;

		if (a->backing[i].cls == b->backing[j].cls)
			same += n;
		ra -= n;
		rb -= n;
		if (!ra && ++i < a->nr_backing)
			ra = a->backing[i].pages;
		if (!rb && ++j < b->nr_backing)
			rb = b->backing[j].pages;
	}
	return same;
}

/* Pages agreeing in region i against Linux run r; *counted: from class counts. */
static uint64_t region_agree(const struct build *b, size_t r, size_t i, bool *counted)
{
	const struct side_region *lr = lreg(b, r, i), *sr = &b->s->regions[b->map[i]];
	uint64_t same = 0;

	*counted = !lr->backing || !sr->backing;
	if (!*counted)
		return runs_agree(lr, sr);
	for (int k = 0; k < PAGE_CLASS_NR; k++)
		same += lr->pages[k] < sr->pages[k] ? lr->pages[k] : sr->pages[k];
	return same;
}

static void backing_agreement(struct build *b)
{
	size_t n = b->l->nr_regions;
	double all[COMPARE_MAX_RUNS] = { 0 }, per[COMPARE_MAX_RUNS] = { 0 };
	bool counted, any_counted = false;
	uint64_t pages_all = 0;
	struct metric *m;

	for (size_t i = 0; i < n; i++)
		pages_all += b->l->regions[i].size / PAGE_4K;
	for (size_t r = 0; r < b->nl; r++) {
		uint64_t same = 0;

		for (size_t i = 0; i < n; i++) {
			same += region_agree(b, r, i, &counted);
			any_counted |= counted;
		}
		all[r] = pages_all ? (double)same / (double)pages_all : 1.0;
	}
	m = add_nearest(b, "backing_agreement", "all", all, true);
	if (m && any_counted)
		note_append(m, "from class counts where a side has no backing map: an upper bound");
	for (size_t i = 0; i < n; i++) {
		const struct side_region *lr = &b->l->regions[i], *sr = &b->s->regions[b->map[i]];
		uint64_t pages = lr->size / PAGE_4K;

		for (size_t r = 0; r < b->nl; r++)
			per[r] = pages ? (double)region_agree(b, r, i, &counted) / (double)pages : 1.0;
		region_agree(b, 0, i, &counted);
		m = add_nearest(b, "backing_agreement", lr->name, per, true);
		if (!m)
			continue;
		if (counted)
			note_append(m, "from class counts (%s has no backing map): an upper bound",
				    lr->backing ? "sim" : "linux");
		else if (lr->start != sr->start)
			note_append(m, "the region starts at different addresses on the two sides");
	}
}

static const char *untimed(const struct build *b)
{
	for (size_t r = 0; r < b->nl; r++)
		if (!b->L[r]->timed)
			return "the Linux side has no timing";
	return !b->s->timed ? "the simulated side ran without a timing model (--functional)" : NULL;
}

/*
 * Linux's times to judge the simulated ones by: those of its runs without
 * probes, when every run has one (the simulated world has no probes, and on
 * a fault-heavy phase they cost a microsecond per fault, most of it outside
 * the faults' windows), else the probed runs'. Returns whether probe-free.
 */
static bool linux_times(const struct build *b, long phase, double *v)
{
	bool unprobed = true;

	for (size_t r = 0; r < b->nl; r++)
		unprobed &= (phase < 0 ? b->L[r]->probe_free_ns : b->L[r]->phases[phase].probe_free_ns) != 0;
	for (size_t r = 0; r < b->nl; r++) {
		const struct side *l = b->L[r];

		if (phase < 0)
			v[r] = (double)(unprobed ? l->probe_free_ns : l->runtime_ns);
		else
			v[r] = (double)(unprobed ? l->phases[phase].probe_free_ns : l->phases[phase].runtime_ns);
	}
	return unprobed;
}

static void runtimes(struct build *b)
{
	const char *na = untimed(b);
	double v[COMPARE_MAX_RUNS];
	uint64_t u[COMPARE_MAX_RUNS];
	char scope[80];
	struct metric *m;
	bool unprobed;

	unprobed = linux_times(b, -1, v);
	if (na) {
		add(b, "runtime", "all", (double)b->l->runtime_ns, (double)b->s->runtime_ns, NAN,
		    "%s", na);
	} else {
		m = add_band(b, "runtime", "all", v, b->nl, (double)b->s->runtime_ns, BAND_TIME);
		if (m && unprobed)
			note_append(m, "Linux without probes");
	}
	for (size_t i = 0; i < b->l->nr_phases; i++) {
		snprintf(scope, sizeof(scope), "phase %zu %s", i, b->l->phases[i].op);
		for (size_t r = 0; r < b->nl; r++)
			u[r] = b->L[r]->phases[i].faults;
		add_counts(b, "phase_faults", scope, u, b->s->phases[i].faults);
	}
	for (size_t i = 0; i < b->l->nr_phases; i++) {
		const struct side_phase *lp = &b->l->phases[i], *sp = &b->s->phases[i];

		snprintf(scope, sizeof(scope), "phase %zu %s", i, lp->op);
		unprobed = linux_times(b, (long)i, v);
		if (na) {
			add(b, "phase_runtime", scope, (double)lp->runtime_ns,
			    (double)sp->runtime_ns, NAN, "%s", na);
		} else {
			m = add_band(b, "phase_runtime", scope, v, b->nl, (double)sp->runtime_ns,
				     BAND_TIME);
			if (m && unprobed)
				note_append(m, "Linux without probes");
		}
	}
}

static void alloc_orders(struct build *b)
{
	uint64_t so[SIDE_ORDERS] = { 0 };
	double v[COMPARE_MAX_RUNS];

	for (size_t r = 0; r < b->nl; r++)
		if (!b->L[r]->has_alloc_orders || !b->s->has_alloc_orders) {
			add(b, "alloc_orders", "all", NAN, NAN, NAN,
			    "the %s side has no fault_alloc_orders",
			    b->L[r]->has_alloc_orders ? "simulated" : "Linux");
			return;
		}
	for (size_t i = 0; i < b->l->nr_regions; i++)
		for (int o = 0; o < SIDE_ORDERS; o++)
			so[o] += b->s->regions[b->map[i]].alloc_orders[o];
	for (size_t r = 0; r < b->nl; r++) {
		uint64_t lo[SIDE_ORDERS] = { 0 };

		for (size_t i = 0; i < b->l->nr_regions; i++)
			for (int o = 0; o < SIDE_ORDERS; o++)
				lo[o] += lreg(b, r, i)->alloc_orders[o];
		v[r] = tv_distance(lo, so, SIDE_ORDERS);
	}
	add_nearest(b, "alloc_orders", "all", v, false);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The workload's faults: in a region, during a phase. */
static bool counted_fault(const struct side_fault *f)
{
	return f->region >= 0 && f->phase >= 0;
}

/*
 * The known latencies of a side's faults of 'kind' (FAULT_KIND_NR: every
 * kind, cold ones too: the all-faults mix), sorted; *faults: how many such
 * faults there were, known or not; *cold: how many were left out as cold.
 */
static uint64_t *latencies(const struct side *s, unsigned kind, size_t *n, size_t *faults,
			   size_t *cold)
{
	uint64_t *v = malloc((s->nr_faults ? s->nr_faults : 1) * sizeof(*v));

	*n = *faults = *cold = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->nr_faults; i++) {
		const struct side_fault *f = &s->faults[i];

		if (!counted_fault(f) || (kind < FAULT_KIND_NR && f->kind != kind))
			continue;
		++*faults;
		if (!f->latency_ns)
			continue;
		if (kind < FAULT_KIND_NR && f->cold) {
			++*cold;
			continue;
		}
		v[(*n)++] = f->latency_ns;
	}
	qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

static const struct {
	const char *name;
	double q;
} quantiles[] = {
	{ "fault_latency_p50", 0.50 }, { "fault_latency_p90", 0.90 }, { "fault_latency_p99", 0.99 },
};
#define NR_QUANTILES (sizeof(quantiles) / sizeof(quantiles[0]))

/* Why fault latencies cannot be compared at all, or NULL. */
static const char *latency_na(const struct build *b, char *buf, size_t len)
{
	bool lx = true;

	for (size_t r = 0; r < b->nl; r++)
		lx &= b->L[r]->has_log;
	if (!lx || !b->s->has_log) {
		snprintf(buf, len, "no event log on the %s", !lx && !b->s->has_log ?
			 "two sides" : !lx ? "Linux side" : "simulated side");
		return buf;
	}
	return untimed(b);
}

/*
 * Latencies of one kind (or of all: kind FAULT_KIND_NR, information only):
 * each quantile judged against the band of Linux's runs' quantiles, and
 * the 1-Wasserstein distance from the nearest Linux run beyond what
 * Linux's runs are apart from each other, over Linux's median.
 */
static void kind_latency(struct build *b, unsigned kind, const char *na)
{
	const char *scope = kind < FAULT_KIND_NR ? fault_kind_name(kind) : "all";
	size_t nl[COMPARE_MAX_RUNS], fl[COMPARE_MAX_RUNS], cl[COMPARE_MAX_RUNS], ns = 0, fs = 0, cs = 0, lfaults = 0, lknown = 0;
	uint64_t *xl[COMPARE_MAX_RUNS], *xs = NULL;
	double v[COMPARE_MAX_RUNS], self = 0, near = INFINITY;
	char why[112] = "";
	struct metric *m;

	memset(xl, 0, sizeof(xl));
	if (!na) {
		for (size_t r = 0; r < b->nl; r++) {
			xl[r] = latencies(b->L[r], kind, &nl[r], &fl[r], &cl[r]);
			b->oom |= !xl[r];
			lfaults += fl[r];
			lknown += nl[r];
		}
		xs = latencies(b->s, kind, &ns, &fs, &cs);
		b->oom |= !xs;
		if (b->oom)
			goto out;
		if (!lfaults && !fs) {
			for (size_t i = 0; i < NR_QUANTILES; i++)
				add(b, quantiles[i].name, scope, 0, 0, 0, "no faults on either side");
			add(b, "fault_latency_wasserstein", scope, NAN, NAN, 0,
			    "no faults on either side");
			goto out;
		}
		if (!lknown || !ns)
			snprintf(why, sizeof(why), "%s %s carry no latency", !lknown ? "Linux's" :
				 "the simulated side's", kind < FAULT_KIND_NR ? "faults of this kind" :
				 "faults");
		na = why[0] ? why : NULL;
	}
	if (na) {
		for (size_t i = 0; i < NR_QUANTILES; i++)
			if ((m = add(b, quantiles[i].name, scope, NAN, NAN, NAN, "%s", na)) &&
			    kind == FAULT_KIND_NR)
				m->klass = METRIC_INFO;
		if ((m = add(b, "fault_latency_wasserstein", scope, NAN, NAN, NAN, "%s", na)) &&
		    kind == FAULT_KIND_NR)
			m->klass = METRIC_INFO;
		goto out;
	}
	for (size_t i = 0; i < NR_QUANTILES; i++) {
		for (size_t r = 0; r < b->nl; r++)
			v[r] = nl[r] ? (double)sample_quantile(xl[r], nl[r], quantiles[i].q) : NAN;
		m = add_band(b, quantiles[i].name, scope, v, b->nl,
			     (double)sample_quantile(xs, ns, quantiles[i].q), BAND_TIME);
		if (!m)
			continue;
		if (kind == FAULT_KIND_NR)
			m->klass = METRIC_INFO;
		note_append(m, "ns, over %zu and %zu faults", nl[0], ns);
		if (cl[0] || cs)
			note_append(m, "%zu and %zu cold left out", cl[0], cs);
	}
	for (size_t r = 0; r < b->nl; r++) {
		if (!nl[r])
			continue;
		near = fmin(near, wasserstein1(xl[r], nl[r], xs, ns));
		for (size_t q = r + 1; q < b->nl; q++)
			if (nl[q])
				self = fmax(self, wasserstein1(xl[r], nl[r], xl[q], nl[q]));
	}
	{
		double w[COMPARE_MAX_RUNS], mid;
		size_t k = 0;

		for (size_t r = 0; r < b->nl; r++)
			if (nl[r])
				w[k++] = (double)sample_quantile(xl[r], nl[r], 0.5);
		qsort(w, k, sizeof(*w), cmp_double);
		mid = k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2;
		m = add(b, "fault_latency_wasserstein", scope, NAN, NAN,
			fmax(0, near - self) / fmax(mid, 1),
			"W1 %.0f ns over Linux's median %.0f ns", near, mid);
		if (m && b->nl > 1)
			note_append(m, "less Linux's runs' own %.0f ns", self);
		if (m && kind == FAULT_KIND_NR)
			m->klass = METRIC_INFO;
	}
out:
	for (size_t r = 0; r < b->nl; r++)
		free(xl[r]);
	free(xs);
}

/* Faults of a kind on a side (the workload's), and how many were cold. */
static void kind_counts(const struct side *s, uint64_t *count, uint64_t *cold)
{
	memset(count, 0, FAULT_KIND_NR * sizeof(*count));
	memset(cold, 0, FAULT_KIND_NR * sizeof(*cold));
	for (size_t i = 0; i < s->nr_faults; i++)
		if (counted_fault(&s->faults[i])) {
			count[s->faults[i].kind]++;
			cold[s->faults[i].kind] += s->faults[i].cold;
		}
}

static void fault_kinds(struct build *b)
{
	uint64_t lc[COMPARE_MAX_RUNS][FAULT_KIND_NR], lcold[COMPARE_MAX_RUNS][FAULT_KIND_NR];
	uint64_t sc[FAULT_KIND_NR], scold[FAULT_KIND_NR], u[COMPARE_MAX_RUNS];
	char buf[112];
	const char *na = latency_na(b, buf, sizeof(buf));
	bool logs = true;

	for (size_t r = 0; r < b->nl; r++)
		logs &= b->L[r]->has_log;
	if (!logs || !b->s->has_log) {
		kind_latency(b, FAULT_KIND_NR, na);
		return;
	}
	for (size_t r = 0; r < b->nl; r++)
		kind_counts(b->L[r], lc[r], lcold[r]);
	kind_counts(b->s, sc, scold);
	for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
		bool any = sc[k];

		for (size_t r = 0; r < b->nl; r++)
			any |= lc[r][k] != 0;
		if (!any)
			continue;
		for (size_t r = 0; r < b->nl; r++)
			u[r] = lc[r][k];
		add_counts(b, "faults_by_kind", fault_kind_name(k), u, sc[k]);
	}
	for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
		double v[COMPARE_MAX_RUNS];
		bool any = sc[k];
		struct metric *m;

		for (size_t r = 0; r < b->nl; r++) {
			any |= lc[r][k] != 0;
			v[r] = lc[r][k] ? (double)lcold[r][k] / (double)lc[r][k] : NAN;
		}
		if (!any)
			continue;
		kind_latency(b, k, na);
		m = add_band(b, "cold_faults", fault_kind_name(k), v, b->nl,
			     sc[k] ? (double)scold[k] / (double)sc[k] : NAN, BAND_COUNT);
		if (m) {
			/* the value is Linux's own share, the sim's is beside it */
			m->value = m->linux_value;
			m->verdict = verdict_of(tolerance_find(b->tol, "cold_faults"), m->value);
			snprintf(m->note, sizeof(m->note), "share of faults more than %dx the kind's "
				 "lower quartile: left out of the quantiles", FAULT_COLD_FACTOR);
		}
	}
	kind_latency(b, FAULT_KIND_NR, na);
}

/*
 * The time phase i's faults in the regions took, ns: the sum of the known
 * latencies, scaled up to every completed fault when only some were timed
 * (the probes' --latency-sample).
 */
static double phase_fault_ns(const struct side *s, size_t i)
{
	double sum = 0;
	size_t completed = 0, timed = 0;

	for (size_t k = 0; k < s->nr_faults; k++) {
		const struct side_fault *f = &s->faults[k];

		if (f->region < 0 || f->phase != (int)i || !f->completed)
			continue;
		completed++;
		if (f->latency_ns) {
			timed++;
			sum += (double)f->latency_ns;
		}
	}
	return timed ? sum * (double)completed / (double)timed : 0;
}

/*
 * Information: how much of each phase went to the kernel's fault work
 * inside the latency window, on each side. A phase whose runtime is off
 * while its fault share agrees points at the user-level model, and the
 * reverse at the kernel's cost model.
 */
static void fault_time(struct build *b, const char *na)
{
	char scope[80];

	if (na)
		return;		/* information only: nothing to say without both */
	for (size_t i = 0; i < b->l->nr_phases; i++) {
		const struct side_phase *sp = &b->s->phases[i];
		double v[COMPARE_MAX_RUNS], sim;
		struct metric *m;
		bool any = false;

		snprintf(scope, sizeof(scope), "phase %zu %s", i, b->l->phases[i].op);
		for (size_t r = 0; r < b->nl; r++) {
			const struct side_phase *lp = &b->L[r]->phases[i];

			v[r] = lp->runtime_ns ? phase_fault_ns(b->L[r], i) / (double)lp->runtime_ns : NAN;
			any |= lp->faults != 0;
		}
		if (!any && !sp->faults)
			continue;
		sim = sp->runtime_ns ? phase_fault_ns(b->s, i) / (double)sp->runtime_ns : NAN;
		m = add_band(b, "fault_time_share", scope, v, b->nl, sim, BAND_TIME);
		if (m)
			snprintf(m->note, sizeof(m->note), "share of the phase inside faults' latency "
				 "windows");
	}
}

static bool named_has(const struct side_named_count *v, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(v[i].name, name))
			return true;
	return false;
}

static uint64_t named_count(const struct side_named_count *v, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(v[i].name, name))
			return v[i].count;
	return 0;
}

/* Total variation between two histograms by name, over the union of the names. */
static double named_tv(const struct side_named_count *a, size_t na,
		       const struct side_named_count *c, size_t nc, bool *oom)
{
	size_t n = na + nc, k = 0;
	uint64_t *p = calloc(n ? n : 1, sizeof(*p)), *q = calloc(n ? n : 1, sizeof(*q));
	double d = NAN;

	if (!p || !q) {
		*oom = true;
	} else {
		for (size_t i = 0; i < na; i++, k++) {
			p[k] = a[i].count;
			q[k] = named_count(c, nc, a[i].name);
		}
		for (size_t i = 0; i < nc; i++)
			if (!named_count(a, na, c[i].name))
				q[k++] = c[i].count;
		d = tv_distance(p, q, k);
	}
	free(p);
	free(q);
	return d;
}

static void khugepaged(struct build *b)
{
	const struct side *s = b->s;
	uint64_t u[COMPARE_MAX_RUNS];
	double v[COMPARE_MAX_RUNS];

	for (size_t r = 0; r < b->nl; r++)
		if (!b->L[r]->has_khugepaged || !s->has_khugepaged) {
			const char *na = !b->L[r]->has_khugepaged ?
					 "the Linux side has no khugepaged outcomes" :
					 "the simulated side has no khugepaged outcomes";

			add(b, "collapses", "all", NAN, NAN, NAN, "%s", na);
			add(b, "scan_results", "all", NAN, NAN, NAN, "%s", na);
			return;
		}
	for (size_t r = 0; r < b->nl; r++) {
		u[r] = b->L[r]->collapses;
		v[r] = named_tv(b->L[r]->scan_results, b->L[r]->nr_scan_results, s->scan_results,
				s->nr_scan_results, &b->oom);
	}
	add_counts(b, "collapses", "all", u, s->collapses);
	add_nearest(b, "scan_results", "all", v, false);
}

static void tlb_flushes(struct build *b)
{
	uint64_t u[COMPARE_MAX_RUNS];

	if (b->s->replayed) {
		add(b, "tlb_flushes", "all", NAN, NAN, NAN, "a replay: the command's flushes of its "
		    "file mappings (loader, libraries) are not MimicOS's");
		return;
	}
	for (size_t r = 0; r < b->nl; r++) {
		if (!b->L[r]->has_tlb_flushes || !b->s->has_tlb_flushes) {
			add(b, "tlb_flushes", "all", NAN, NAN, NAN,
			    "the %s side has no TLB flush counts",
			    b->L[r]->has_tlb_flushes ? "simulated" : "Linux");
			return;
		}
		u[r] = b->L[r]->tlb_flush_total;
	}
	add_counts(b, "tlb_flushes", "all", u, b->s->tlb_flush_total);
	/*
	 * A spec with threads (pinned, as both sides run them): by reason, then
	 * by CPU, every name either side has (task switches left out). One
	 * unpinned thread's flushes land on whichever CPU it ran on
	 */
	for (int by_cpu = 0; b->s->nr_threads > 1 && by_cpu < 2; by_cpu++) {
		const struct side *sides[COMPARE_MAX_RUNS + 1];

		for (size_t r = 0; r < b->nl; r++)
			sides[r] = b->L[r];
		sides[b->nl] = b->s;
		for (size_t k = 0; k <= b->nl; k++) {
			const struct side_named_count *v = by_cpu ? sides[k]->tlb_by_cpu :
							   sides[k]->tlb_flushes;
			size_t nr = by_cpu ? sides[k]->nr_tlb_by_cpu : sides[k]->nr_tlb_flushes;

			for (size_t i = 0; i < nr; i++) {
				char scope[80];
				bool seen = !by_cpu && !strcmp(v[i].name, "flush on task switch");

				/* an earlier side had it: its row is made */
				for (size_t e = 0; e < k && !seen; e++) {
					const struct side *o = sides[e];

					seen = by_cpu ? named_has(o->tlb_by_cpu, o->nr_tlb_by_cpu, v[i].name) :
						named_has(o->tlb_flushes, o->nr_tlb_flushes, v[i].name);
				}
				for (size_t e = 0; e < i && !seen; e++)
					seen = !strcmp(v[e].name, v[i].name);
				if (seen)
					continue;
				for (size_t r = 0; r < b->nl; r++)
					u[r] = by_cpu ? named_count(b->L[r]->tlb_by_cpu,
								    b->L[r]->nr_tlb_by_cpu, v[i].name) :
						named_count(b->L[r]->tlb_flushes,
							    b->L[r]->nr_tlb_flushes, v[i].name);
				snprintf(scope, sizeof(scope), "%s%s", by_cpu ? "cpu " : "", v[i].name);
				add_counts(b, "tlb_flushes", scope, u,
					   by_cpu ? named_count(b->s->tlb_by_cpu, b->s->nr_tlb_by_cpu,
								v[i].name) :
						    named_count(b->s->tlb_flushes, b->s->nr_tlb_flushes,
								v[i].name));
			}
		}
	}
}

/* The cross-calls of the mm's flushes, queued and run, whoever sent them. */
static void tlb_ipis(struct build *b)
{
	uint64_t u[COMPARE_MAX_RUNS];

	for (size_t r = 0; r < b->nl; r++)
		if (!b->L[r]->has_tlb_ipis || !b->s->has_tlb_ipis) {
			add(b, "tlb_ipis", "sent", NAN, NAN, NAN, "the %s side has no cross-call "
			    "counts", b->L[r]->has_tlb_ipis ? "simulated" : "Linux");
			return;
		}
	for (size_t r = 0; r < b->nl; r++)
		u[r] = b->L[r]->tlb_ipis_sent;
	add_counts(b, "tlb_ipis", "sent", u, b->s->tlb_ipis_sent);
	for (size_t r = 0; r < b->nl; r++)
		u[r] = b->L[r]->tlb_ipis_received;
	add_counts(b, "tlb_ipis", "received", u, b->s->tlb_ipis_received);
	/* their times, where both sides have them: information */
	for (int w = 0; w < 2 && !untimed(b); w++) {
		const char *scope = w ? "wait per flush" : "per cross-call";
		double v[COMPARE_MAX_RUNS], sim;
		uint64_t sn = w ? b->s->tlb_ipis_waits : b->s->tlb_ipis_received;
		uint64_t st = w ? b->s->tlb_ipis_wait_ns : b->s->tlb_ipis_received_ns;
		struct metric *m;

		for (size_t r = 0; r < b->nl; r++) {
			const struct side *l = b->L[r];
			uint64_t n = w ? l->tlb_ipis_waits : l->tlb_ipis_received;
			uint64_t t = w ? l->tlb_ipis_wait_ns : l->tlb_ipis_received_ns;

			v[r] = n && t ? (double)t / (double)n : NAN;
		}
		if (!sn || !st)
			continue;
		sim = (double)st / (double)sn;
		if ((m = add_band(b, "tlb_ipi_time", scope, v, b->nl, sim, BAND_TIME))) {
			m->klass = METRIC_INFO;
			note_append(m, "ns");
		}
	}
}

/* The known latencies of thread t's counted faults, sorted; NULL out of memory. */
static uint64_t *thread_latencies(const struct side *s, size_t t, size_t *n)
{
	uint64_t *v = malloc((s->nr_faults ? s->nr_faults : 1) * sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < s->nr_faults; i++) {
		const struct side_fault *f = &s->faults[i];

		if (counted_fault(f) && f->thread == (int)t && f->latency_ns)
			v[(*n)++] = f->latency_ns;
	}
	if (v)
		qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

/*
 * Thread t's median fault latency against the band of Linux's runs':
 * information beside the per-kind quantiles, which judge the latencies
 * (a thread's mix of kinds is its own).
 */
static void thread_latency(struct build *b, size_t t, const char *scope)
{
	double v[COMPARE_MAX_RUNS];
	uint64_t *xs, *xl;
	struct metric *m;
	size_t ns, nl;

	if (untimed(b))
		return;
	xs = thread_latencies(b->s, t, &ns);
	for (size_t r = 0; r < b->nl; r++) {
		xl = thread_latencies(b->L[r], t, &nl);
		b->oom |= !xl;
		v[r] = xl && nl ? (double)sample_quantile(xl, nl, 0.5) : NAN;
		free(xl);
	}
	b->oom |= !xs;
	if (xs && ns && (m = add_band(b, "fault_latency_p50", scope, v, b->nl,
				      (double)sample_quantile(xs, ns, 0.5), BAND_TIME))) {
		m->klass = METRIC_INFO;
		note_append(m, "ns, over %zu faults simulated", ns);
	}
	free(xs);
}

/* A spec with threads: each thread's faults, where both sides count them. */
static void thread_faults(struct build *b)
{
	uint64_t u[COMPARE_MAX_RUNS];
	size_t n = b->s->nr_threads;

	for (size_t r = 0; r < b->nl; r++)
		n = b->L[r]->nr_threads < n ? b->L[r]->nr_threads : n;
	for (size_t t = 0; t < n; t++) {
		char scope[32];

		for (size_t r = 0; r < b->nl; r++)
			u[r] = b->L[r]->thread_faults[t];
		snprintf(scope, sizeof(scope), "thread %zu", t);
		add_counts(b, "faults", scope, u, b->s->thread_faults[t]);
		thread_latency(b, t, scope);
	}
}

/* ---- the TLB: hardware counters against the simulated MMU ------------------------ */

/*
 * Each TLB metric and the events that give it, the first the Linux side
 * counted being used on both sides: the walks are Intel's walk_completed
 * (faulting walks included) or AMD's walk_found (reloads).
 */
#define TLB_WALKS_EVENTS { TLB_EV_walk_completed, TLB_EV_walk_found }
static const struct {
	const char *metric;
	int ev[2];		/* workload/tlbev.h, -1 none */
	bool plus_stlb;		/* l1 misses: the STLB's hits added to the walks */
} tlb_metrics[] = {
	{ "tlb_l1_misses", TLB_WALKS_EVENTS, true },
	{ "tlb_stlb_hits", { TLB_EV_stlb_hit, -1 }, false },
	{ "tlb_walks", TLB_WALKS_EVENTS, false },
	{ "tlb_walks_4k", { TLB_EV_walk_completed_4k, -1 }, false },
	{ "tlb_walks_2m", { TLB_EV_walk_completed_2m, -1 }, false },
	{ "tlb_walks_1g", { TLB_EV_walk_completed_1g, -1 }, false },
	{ "tlb_walk_cycles", { TLB_EV_walk_cycles, -1 }, false },
};
#undef TLB_WALKS_EVENTS
#define NR_TLB_METRICS (sizeof(tlb_metrics) / sizeof(tlb_metrics[0]))

/* A side's count of event ev (plus the STLB's hits) in phase i, scope sc: NAN when not measured. */
static double tlb_value(const struct side *s, size_t i, int sc, int ev, bool plus_stlb,
			double *running)
{
	const struct side_tlb *t = &s->phases[i].tlb;

	*running = t->running[sc][ev];
	if (!plus_stlb)
		return t->n[sc][ev];
	*running = fmin(*running, t->running[sc][TLB_EV_stlb_hit]);
	return t->n[sc][TLB_EV_stlb_hit] + t->n[sc][ev];
}

/* The event of metric k the Linux runs counted in scope sc (in any phase), or -1. */
static int tlb_linux_event(const struct build *b, size_t k, int sc)
{
	double run;

	for (int j = 0; j < 2 && tlb_metrics[k].ev[j] >= 0; j++)
		for (size_t r = 0; r < b->nl; r++)
			for (size_t i = 0; i < b->L[r]->nr_phases; i++)
				if (!isnan(tlb_value(b->L[r], i, sc, tlb_metrics[k].ev[j],
						     tlb_metrics[k].plus_stlb, &run)))
					return tlb_metrics[k].ev[j];
	return -1;
}

/* Why metric k cannot be judged at all, or NULL. */
static const char *tlb_na(const struct build *b, size_t k)
{
	if (!b->s->has_tlb)
		return b->s->timed ? "the simulated side counted no TLB events (an older sim.json)"
				   : "the simulated side ran untimed (--functional): no TLB model";
	for (size_t r = 0; r < b->nl; r++) {
		const struct side *l = b->L[r];
		const char *why = NULL;

		if (!l->has_tlb)
			return "the Linux side recorded no perf counters (--no-probes, or an older "
			       "linux.json)";
		/* none of the metric's events counted: the first one's reason */
		why = l->tlb_why[tlb_metrics[k].ev[0]];
		for (int j = 1; j < 2 && why && tlb_metrics[k].ev[j] >= 0; j++)
			if (!l->tlb_why[tlb_metrics[k].ev[j]])
				why = NULL;
		if (!why && tlb_metrics[k].plus_stlb)
			why = l->tlb_why[TLB_EV_stlb_hit];
		if (why)
			return why;
	}
	return NULL;
}

static void tlb_phase(struct build *b, size_t i, int sc, size_t k, int ev)
{
	const struct side_phase *sp = &b->s->phases[i];
	const char *name = tlb_metrics[k].metric;
	bool per_access = ev == TLB_EV_walk_cycles, plus = tlb_metrics[k].plus_stlb;
	double v[COMPARE_MAX_RUNS], sim, acc = sp->tlb.accesses[sc], run, least = 1;
	double med, lo, hi, err, edge;
	char scope[80];
	struct metric *m;
	size_t n;

	for (size_t r = 0; r < b->nl; r++) {
		v[r] = tlb_value(b->L[r], i, sc, ev, plus, &run);
		if (!isnan(v[r]))
			least = fmin(least, run);
		if (per_access)
			v[r] /= acc;
	}
	sim = tlb_value(b->s, i, sc, ev, plus, &run) / (per_access ? acc : 1);
	snprintf(scope, sizeof(scope), "phase %zu %s (%s)", i, sp->op, tlb_scope_name(sc));
	if (!(n = band_of(v, b->nl, &med, &lo, &hi))) {
		add(b, name, scope, NAN, sim, NAN, "the counter never ran in this phase "
		    "(multiplexed out: perf's <not counted>)");
		return;
	}
	edge = sim < lo ? lo : hi;
	if (sim >= lo && sim <= hi)
		err = 0;
	else if (per_access)
		err = ratio_error(edge, sim);
	else
		err = fabs(sim - edge) / fmax(edge, fmax(0.01 * acc, 1));
	m = add(b, name, scope, med, sim, err, NULL);
	if (!m)
		return;
	m->linux_lo = lo;
	m->linux_hi = hi;
	m->linux_runs = (unsigned)n;
	if (per_access)
		note_append(m, "cycles per access");
	else
		note_append(m, "per access: Linux %.4g, simulated %.4g", med / acc, sim / acc);
	if (ev == TLB_EV_walk_found)
		note_append(m, "walks that reloaded the TLB (faulting walks not counted)");
	if (least < 1)
		note_append(m, "multiplexed: counted %.0f%% of the phase, scaled", 100 * least);
}

/*
 * Per phase with accesses, per event and scope Linux's counters measured:
 * Intel's load counters against the simulated loads, AMD's loads and stores
 * against both. Where no Linux run could count an event, one n/a row for
 * it with the reason.
 */
static void tlb_events(struct build *b)
{
	for (size_t k = 0; k < NR_TLB_METRICS; k++) {
		const char *na = tlb_na(b, k);
		bool any = false;

		if (na) {
			add(b, tlb_metrics[k].metric, "all", NAN, NAN, NAN, "%s", na);
			continue;
		}
		for (int sc = TLB_SCOPE_loads; sc <= TLB_SCOPE_loads_stores; sc++) {
			int ev = tlb_linux_event(b, k, sc);

			if (ev < 0)
				continue;	/* no counter of this host counts this scope */
			for (size_t i = 0; i < b->l->nr_phases; i++)
				if (b->s->phases[i].tlb.accesses[sc] > 0) {
					tlb_phase(b, i, sc, k, ev);
					any = true;
				}
		}
		if (!any)
			add(b, tlb_metrics[k].metric, "all", NAN, NAN, NAN,
			    "no phase with accesses of the scope the host's counter counts");
	}
}

/* The worst verdict of a class; NA when no metric of it was judged. */
static enum verdict class_verdict(const struct comparison *c, enum metric_class k)
{
	enum verdict v = VERDICT_NA;

	for (size_t i = 0; i < c->nr_metrics; i++) {
		enum verdict m = c->metrics[i].verdict;

		if (c->metrics[i].klass != k || m == VERDICT_NA || m == VERDICT_UNSTABLE)
			continue;
		if (v == VERDICT_NA || m > v)
			v = m;
	}
	return v;
}

int compare_runs(struct comparison *c, const struct side *const *linux_runs, size_t nr_runs,
		 const struct side *sim_side, const struct tolerances *tol,
		 struct wl_error *err)
{
	struct build b = { .c = c, .tol = tol, .L = linux_runs, .nl = nr_runs,
			   .l = nr_runs ? linux_runs[0] : NULL, .s = sim_side };
	size_t nreg;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	if (!nr_runs || nr_runs > COMPARE_MAX_RUNS)
		return wl_error_set(err, sim_side->path, "", "%zu Linux runs to compare with "
				    "(from 1 to %d)", nr_runs, COMPARE_MAX_RUNS);
	nreg = b.l->nr_regions ? b.l->nr_regions : 1;
	b.map = calloc(nreg, sizeof(*b.map));
	b.rmap = calloc(nr_runs, sizeof(*b.rmap));
	if (!b.map || !b.rmap) {
		wl_error_set(err, sim_side->path, "", "out of memory");
		goto out;
	}
	if (check_sides(b.l, sim_side, b.map, err))
		goto out;
	c->complete = sim_side->complete;
	for (size_t r = 0; r < nr_runs; r++) {
		int *m = calloc(nreg, sizeof(*m));

		if (!m || !(b.rmap[r] = m)) {
			free(m);
			wl_error_set(err, sim_side->path, "", "out of memory");
			goto out;
		}
		/* run r against run 0 as the sides are checked: same workload, regions, phases */
		if (r && (check_sides(linux_runs[r], b.l, m, err) ||
			  linux_runs[r]->nr_regions != b.l->nr_regions))
			goto out;
		for (size_t i = 0; i < b.l->nr_regions; i++)
			for (size_t j = 0; j < linux_runs[r]->nr_regions; j++)
				if (!strcmp(b.l->regions[i].name, linux_runs[r]->regions[j].name))
					m[i] = (int)j;
		c->complete &= linux_runs[r]->complete;
	}
	c->linux_side = b.l;
	c->linux_runs = linux_runs;
	c->nr_linux_runs = nr_runs;
	c->sim_side = sim_side;
	c->calibrated = sim_side->calibrated;

	region_counts(&b);
	backing_agreement(&b);
	runtimes(&b);
	alloc_orders(&b);
	fault_kinds(&b);
	{
		char buf[112];

		fault_time(&b, latency_na(&b, buf, sizeof(buf)));
	}
	khugepaged(&b);
	tlb_flushes(&b);
	tlb_events(&b);
	if (b.s->nr_threads > 1) {
		tlb_ipis(&b);
		thread_faults(&b);
	}
	if (b.oom) {
		comparison_release(c);
		wl_error_set(err, sim_side->path, "", "out of memory");
		goto out;
	}
	c->functional = class_verdict(c, METRIC_FUNCTIONAL);
	c->timing = class_verdict(c, METRIC_TIMING);
	c->tlb = class_verdict(c, METRIC_TLB);
	c->overall = c->functional == VERDICT_NA ? VERDICT_PASS : c->functional;
	if (c->timing != VERDICT_NA && c->timing > c->overall)
		c->overall = c->timing;
	if (c->tlb != VERDICT_NA && c->tlb > c->overall)
		c->overall = c->tlb;
	ret = 0;
out:
	for (size_t r = 0; b.rmap && r < nr_runs; r++)
		free(b.rmap[r]);
	free(b.rmap);
	free(b.map);
	return ret;
}

int compare_sides(struct comparison *c, const struct side *linux_side,
		  const struct side *sim_side, const struct tolerances *tol,
		  struct wl_error *err)
{
	int ret = compare_runs(c, &linux_side, 1, sim_side, tol, err);

	/* one run: nothing of the caller's array to point at once we return */
	c->linux_runs = NULL;
	c->nr_linux_runs = ret ? 0 : 1;
	return ret;
}

void comparison_release(struct comparison *c)
{
	free(c->metrics);
	memset(c, 0, sizeof(*c));
}

const struct metric *comparison_find(const struct comparison *c, const char *name,
				     const char *scope)
{
	for (size_t i = 0; i < c->nr_metrics; i++)
		if (!strcmp(c->metrics[i].name, name) && !strcmp(c->metrics[i].scope, scope))
			return &c->metrics[i];
	return NULL;
}

/* How far past its fail bound a failed metric is (1 at the bound). */
static double severity(const struct metric *m)
{
	if (m->higher_is_better)
		return (1 - m->value) / fmax(1 - m->fail, 1e-12);
	return m->value / fmax(m->fail, 1e-12);
}

size_t comparison_worst(const struct comparison *c, const struct metric **out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < c->nr_metrics; i++) {
		const struct metric *m = &c->metrics[i];
		size_t j;

		if (m->verdict != VERDICT_FAIL || m->klass == METRIC_INFO)
			continue;
		/* insertion into the n worst so far */
		for (j = k; j > 0 && severity(out[j - 1]) < severity(m); j--)
			if (j < n)
				out[j] = out[j - 1];
		if (j < n)
			out[j] = m;
		if (k < n)
			k++;
	}
	return k;
}

void metric_describe(const struct metric *m, char *buf, size_t len)
{
	int at = snprintf(buf, len, "%s%s%s%s", m->name, strcmp(m->scope, "all") ? " (" : "",
			  strcmp(m->scope, "all") ? m->scope : "", strcmp(m->scope, "all") ? ")" : "");

	if (at < 0 || (size_t)at >= len)
		return;
	if (m->klass == METRIC_TIMING && isfinite(m->value) && isfinite(m->sim_value))
		snprintf(buf + at, len - (size_t)at, " %.3gx too %s", m->value + 1,
			 m->sim_value < m->linux_lo ? "fast" : "slow");
	else if (isfinite(m->linux_value) && isfinite(m->sim_value))
		snprintf(buf + at, len - (size_t)at, " %.6g vs Linux %.6g", m->sim_value,
			 m->linux_value);
	else
		snprintf(buf + at, len - (size_t)at, " %.4g (%s %.4g)", m->value,
			 m->higher_is_better ? "fails below" : "fails above", m->fail);
}

/* ---- summary.json ------------------------------------------------------------- */

/* A number, or null where it is not one (NA). */
static cJSON *num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static void add_value(cJSON *o, const struct comparison *c, const char *name, const char *scope)
{
	const struct metric *m = comparison_find(c, name, scope);

	cJSON_AddItemToObject(o, name, num(m ? m->value : NAN));
}

cJSON *comparison_to_json(const struct comparison *c)
{
	static const char *const region_fields[] = {
		"faults", "thp_faults", "huge_bytes", "resident_bytes", "backing_agreement",
	};
	const struct side *l = c->linux_side;
	cJSON *root = cJSON_CreateObject(), *d, *regions, *metrics;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "workload", l->workload);
	cJSON_AddBoolToObject(root, "complete", c->complete);
	if (l->version)
		cJSON_AddStringToObject(root, "tool", l->version);
	cJSON_AddItemToObject(root, "linux", cJSON_Duplicate(l->json, true));
	cJSON_AddItemToObject(root, "sim", cJSON_Duplicate(c->sim_side->json, true));

	d = cJSON_AddObjectToObject(root, "divergence");
	for (size_t i = 0; i < sizeof(region_fields) / sizeof(region_fields[0]); i++)
		add_value(d, c, region_fields[i], "all");
	add_value(d, c, "runtime", "all");
	regions = cJSON_AddObjectToObject(d, "regions");
	for (size_t r = 0; r < l->nr_regions; r++) {
		cJSON *o = cJSON_AddObjectToObject(regions, l->regions[r].name);

		for (size_t i = 0; i < sizeof(region_fields) / sizeof(region_fields[0]); i++)
			add_value(o, c, region_fields[i], l->regions[r].name);
	}

	metrics = cJSON_AddArrayToObject(root, "metrics");
	for (size_t i = 0; i < c->nr_metrics; i++) {
		const struct metric *m = &c->metrics[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "scope", m->scope);
		cJSON_AddStringToObject(o, "class", metric_class_name(m->klass));
		cJSON_AddItemToObject(o, "linux", num(m->linux_value));
		if (m->linux_runs > 1) {
			cJSON_AddItemToObject(o, "linux_min", num(m->linux_lo));
			cJSON_AddItemToObject(o, "linux_max", num(m->linux_hi));
		}
		cJSON_AddNumberToObject(o, "linux_runs", m->linux_runs);
		cJSON_AddItemToObject(o, "sim", num(m->sim_value));
		cJSON_AddItemToObject(o, "value", num(m->value));
		cJSON_AddNumberToObject(o, "warn", m->warn);
		cJSON_AddNumberToObject(o, "fail", m->fail);
		cJSON_AddStringToObject(o, "verdict", verdict_name(m->verdict));
		cJSON_AddStringToObject(o, "note", m->note);
		cJSON_AddItemToArray(metrics, o);
	}
	cJSON_AddStringToObject(root, "verdict", verdict_name(c->overall));
	cJSON_AddStringToObject(root, "functional_verdict", verdict_name(c->functional));
	cJSON_AddStringToObject(root, "timing_verdict", verdict_name(c->timing));
	cJSON_AddStringToObject(root, "tlb_verdict", verdict_name(c->tlb));
	cJSON_AddBoolToObject(root, "calibrated", c->calibrated);
	cJSON_AddNumberToObject(root, "linux_runs", (double)c->nr_linux_runs);
	return root;
}
