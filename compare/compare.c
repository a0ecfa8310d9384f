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
	const struct side *l, *s;
	int *map;		/* linux region i is sim region map[i] */
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
	m->linux_value = linux_value;
	m->sim_value = sim_value;
	m->value = value;
	m->warn = t->warn;
	m->fail = t->fail;
	m->higher_is_better = t->higher_is_better;
	m->verdict = verdict_of(t, value);
	if (note) {
		va_list ap;

		va_start(ap, note);
		vsnprintf(m->note, sizeof(m->note), note, ap);
		va_end(ap);
	}
	return m;
}

static void add_rel(struct build *b, const char *name, const char *scope, uint64_t l, uint64_t s)
{
	add(b, name, scope, (double)l, (double)s, rel_error((double)l, (double)s), NULL);
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

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		uint64_t lt = 0, st = 0;

		for (size_t i = 0; i < b->l->nr_regions; i++) {
			lt += FIELD(&b->l->regions[i], f);
			st += FIELD(&b->s->regions[b->map[i]], f);
		}
		add_rel(b, fields[f].name, "all", lt, st);
		for (size_t i = 0; i < b->l->nr_regions; i++)
			add_rel(b, fields[f].name, b->l->regions[i].name,
				FIELD(&b->l->regions[i], f), FIELD(&b->s->regions[b->map[i]], f));
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

static void backing_agreement(struct build *b)
{
	size_t n = b->l->nr_regions;
	uint64_t *same = calloc(n ? n : 1, sizeof(*same)), same_all = 0, pages_all = 0;
	bool *counted = calloc(n ? n : 1, sizeof(*counted)), any_counted = false;

	if (!same || !counted) {
		b->oom = true;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct side_region *lr = &b->l->regions[i], *sr = &b->s->regions[b->map[i]];

		if (lr->backing && sr->backing) {
			same[i] = runs_agree(lr, sr);
		} else {
			for (int k = 0; k < PAGE_CLASS_NR; k++)
				same[i] += lr->pages[k] < sr->pages[k] ? lr->pages[k] : sr->pages[k];
			counted[i] = any_counted = true;
		}
		same_all += same[i];
		pages_all += lr->size / PAGE_4K;
	}
	add(b, "backing_agreement", "all", NAN, NAN,
	    pages_all ? (double)same_all / (double)pages_all : 1.0,
	    any_counted ? "from class counts where a side has no backing map: an upper bound" : NULL);
	for (size_t i = 0; i < n; i++) {
		const struct side_region *lr = &b->l->regions[i], *sr = &b->s->regions[b->map[i]];
		uint64_t pages = lr->size / PAGE_4K;
		struct metric *m = add(b, "backing_agreement", lr->name, NAN, NAN,
				       pages ? (double)same[i] / (double)pages : 1.0, NULL);

		if (!m)
			continue;
		if (counted[i])
			snprintf(m->note, sizeof(m->note), "from class counts (%s has no backing "
				 "map): an upper bound", lr->backing ? "sim" : "linux");
		else if (lr->start != sr->start)
			snprintf(m->note, sizeof(m->note), "the region starts at different "
				 "addresses on the two sides");
	}
out:
	free(same);
	free(counted);
}

static const char *untimed(const struct build *b)
{
	return !b->l->timed ? "the Linux side has no timing" :
	       !b->s->timed ? "the simulated side ran without a timing model (--functional)" : NULL;
}

static void runtimes(struct build *b)
{
	const char *na = untimed(b);
	char scope[80];

	if (na)
		add(b, "runtime", "all", (double)b->l->runtime_ns, (double)b->s->runtime_ns, NAN,
		    "%s", na);
	else
		add_rel(b, "runtime", "all", b->l->runtime_ns, b->s->runtime_ns);
	for (size_t i = 0; i < b->l->nr_phases; i++) {
		snprintf(scope, sizeof(scope), "phase %zu %s", i, b->l->phases[i].op);
		add_rel(b, "phase_faults", scope, b->l->phases[i].faults, b->s->phases[i].faults);
	}
	for (size_t i = 0; i < b->l->nr_phases; i++) {
		const struct side_phase *lp = &b->l->phases[i], *sp = &b->s->phases[i];

		snprintf(scope, sizeof(scope), "phase %zu %s", i, lp->op);
		if (na)
			add(b, "phase_runtime", scope, (double)lp->runtime_ns,
			    (double)sp->runtime_ns, NAN, "%s", na);
		else
			add_rel(b, "phase_runtime", scope, lp->runtime_ns, sp->runtime_ns);
	}
}

static void alloc_orders(struct build *b)
{
	uint64_t lo[SIDE_ORDERS] = { 0 }, so[SIDE_ORDERS] = { 0 };

	if (!b->l->has_alloc_orders || !b->s->has_alloc_orders) {
		add(b, "alloc_orders", "all", NAN, NAN, NAN, "the %s side has no fault_alloc_orders",
		    b->l->has_alloc_orders ? "simulated" : "Linux");
		return;
	}
	for (size_t i = 0; i < b->l->nr_regions; i++)
		for (int o = 0; o < SIDE_ORDERS; o++) {
			lo[o] += b->l->regions[i].alloc_orders[o];
			so[o] += b->s->regions[b->map[i]].alloc_orders[o];
		}
	add(b, "alloc_orders", "all", NAN, NAN, tv_distance(lo, so, SIDE_ORDERS), NULL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The known latencies of a side's faults in its regions during its phases,
 * sorted; *faults: how many such faults there were, known or not.
 */
static uint64_t *latencies(const struct side *s, size_t *n, size_t *faults)
{
	uint64_t *v = malloc((s->nr_faults ? s->nr_faults : 1) * sizeof(*v));

	*n = *faults = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->nr_faults; i++) {
		const struct side_fault *f = &s->faults[i];

		if (f->region < 0 || f->phase < 0)
			continue;
		++*faults;
		if (f->latency_ns)
			v[(*n)++] = f->latency_ns;
	}
	qsort(v, *n, sizeof(*v), cmp_u64);
	return v;
}

static void fault_latency(struct build *b)
{
	static const struct {
		const char *name;
		double q;
	} qs[] = {
		{ "fault_latency_p50", 0.50 }, { "fault_latency_p90", 0.90 },
		{ "fault_latency_p99", 0.99 },
	};
	size_t nl = 0, ns = 0, fl = 0, fs = 0;
	uint64_t *xl = NULL, *xs = NULL;
	char na[96] = "";

	if (!b->l->has_log || !b->s->has_log) {
		snprintf(na, sizeof(na), "no event log on the %s", !b->l->has_log && !b->s->has_log ?
			 "two sides" : !b->l->has_log ? "Linux side" : "simulated side");
	} else if (untimed(b)) {
		snprintf(na, sizeof(na), "%s", untimed(b));
	} else {
		xl = latencies(b->l, &nl, &fl);
		xs = latencies(b->s, &ns, &fs);
		if (!xl || !xs)
			b->oom = true;
		else if (!fl && !fs)
			;	/* no faults on either side: 0 vs 0 */
		else if (!nl || !ns)
			snprintf(na, sizeof(na), "the %s side's faults carry no latency",
				 !nl ? "Linux" : "simulated");
	}
	if (na[0] || b->oom) {
		for (size_t i = 0; i < 3; i++)
			add(b, qs[i].name, "all", NAN, NAN, NAN, "%s", na);
		add(b, "fault_latency_wasserstein", "all", NAN, NAN, NAN, "%s", na);
	} else if (!fl && !fs) {
		for (size_t i = 0; i < 3; i++)
			add(b, qs[i].name, "all", 0, 0, 0, "no faults on either side");
		add(b, "fault_latency_wasserstein", "all", NAN, NAN, 0, "no faults on either side");
	} else {
		uint64_t median = sample_quantile(xl, nl, 0.5);
		double w = wasserstein1(xl, nl, xs, ns);

		for (size_t i = 0; i < 3; i++) {
			uint64_t l = sample_quantile(xl, nl, qs[i].q), s = sample_quantile(xs, ns, qs[i].q);

			add(b, qs[i].name, "all", (double)l, (double)s, rel_error((double)l, (double)s),
			    "ns, over %zu and %zu faults", nl, ns);
		}
		add(b, "fault_latency_wasserstein", "all", NAN, NAN, w / (double)median,
		    "W1 %.0f ns over Linux's median %llu ns", w, (unsigned long long)median);
	}
	free(xl);
	free(xs);
}

static uint64_t named_count(const struct side_named_count *v, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(v[i].name, name))
			return v[i].count;
	return 0;
}

static void khugepaged(struct build *b)
{
	const struct side *l = b->l, *s = b->s;
	size_t n = l->nr_scan_results + s->nr_scan_results, k = 0;
	uint64_t *p, *q;

	if (!l->has_khugepaged || !s->has_khugepaged) {
		const char *na = !l->has_khugepaged ? "the Linux side has no khugepaged outcomes"
						     : "the simulated side has no khugepaged outcomes";

		add(b, "collapses", "all", NAN, NAN, NAN, "%s", na);
		add(b, "scan_results", "all", NAN, NAN, NAN, "%s", na);
		return;
	}
	add_rel(b, "collapses", "all", l->collapses, s->collapses);
	/* over the union of the names, Linux's first */
	p = calloc(n ? n : 1, sizeof(*p));
	q = calloc(n ? n : 1, sizeof(*q));
	if (!p || !q) {
		b->oom = true;
	} else {
		for (size_t i = 0; i < l->nr_scan_results; i++, k++) {
			p[k] = l->scan_results[i].count;
			q[k] = named_count(s->scan_results, s->nr_scan_results, l->scan_results[i].name);
		}
		for (size_t i = 0; i < s->nr_scan_results; i++)
			if (!named_count(l->scan_results, l->nr_scan_results, s->scan_results[i].name))
				q[k++] = s->scan_results[i].count;
		add(b, "scan_results", "all", NAN, NAN, tv_distance(p, q, k), NULL);
	}
	free(p);
	free(q);
}

static void tlb_flushes(struct build *b)
{
	if (!b->l->has_tlb_flushes || !b->s->has_tlb_flushes)
		add(b, "tlb_flushes", "all", NAN, NAN, NAN, "the %s side has no TLB flush counts",
		    b->l->has_tlb_flushes ? "simulated" : "Linux");
	else
		add_rel(b, "tlb_flushes", "all", b->l->tlb_flush_total, b->s->tlb_flush_total);
}

int compare_sides(struct comparison *c, const struct side *linux_side,
		  const struct side *sim_side, const struct tolerances *tol,
		  struct wl_error *err)
{
	struct build b = { .c = c, .tol = tol, .l = linux_side, .s = sim_side };

	memset(c, 0, sizeof(*c));
	b.map = calloc(linux_side->nr_regions ? linux_side->nr_regions : 1, sizeof(*b.map));
	if (!b.map)
		return wl_error_set(err, sim_side->path, "", "out of memory");
	if (check_sides(linux_side, sim_side, b.map, err)) {
		free(b.map);
		return -1;
	}
	c->linux_side = linux_side;
	c->sim_side = sim_side;
	c->complete = linux_side->complete && sim_side->complete;

	region_counts(&b);
	backing_agreement(&b);
	runtimes(&b);
	alloc_orders(&b);
	fault_latency(&b);
	khugepaged(&b);
	tlb_flushes(&b);
	free(b.map);
	if (b.oom) {
		comparison_release(c);
		return wl_error_set(err, sim_side->path, "", "out of memory");
	}
	c->overall = VERDICT_PASS;
	for (size_t i = 0; i < c->nr_metrics; i++)
		if (c->metrics[i].verdict != VERDICT_NA && c->metrics[i].verdict > c->overall)
			c->overall = c->metrics[i].verdict;
	return 0;
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
		cJSON_AddItemToObject(o, "linux", num(m->linux_value));
		cJSON_AddItemToObject(o, "sim", num(m->sim_value));
		cJSON_AddItemToObject(o, "value", num(m->value));
		cJSON_AddNumberToObject(o, "warn", m->warn);
		cJSON_AddNumberToObject(o, "fail", m->fail);
		cJSON_AddStringToObject(o, "verdict", verdict_name(m->verdict));
		cJSON_AddStringToObject(o, "note", m->note);
		cJSON_AddItemToArray(metrics, o);
	}
	cJSON_AddStringToObject(root, "verdict", verdict_name(c->overall));
	return root;
}
