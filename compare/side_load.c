/*
 * side_load.c - one side of a comparison, read from DIR/linux.json or
 * DIR/sim.json (docs/results-format.md) and its event log
 * (workload/evlog.h) into struct side (compare.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare/compare.h"
#include "workload/evlog.h"
#include "workload/json.h"
#include "workload/x86.h"

#define PAGE_4K		4096u
#define MIGRATE_MOVABLE	1		/* a folio's, as opposed to a page table's */
#define MM_ANONPAGES	1		/* rss_stat's member */
#define TASK_SWITCH	"flush on task switch"

static char *join(const char *dir, const char *name)
{
	size_t n = (dir ? strlen(dir) : 0) + strlen(name) + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s%s", dir && dir[0] ? dir : "", dir && dir[0] ? "/" : "", name);
	return p;
}

static int oom(const struct wj_ctx *c)
{
	return wl_error_set(c->err, c->file, "", "out of memory");
}

/* A histogram by name: add n to 'name' (created at 0). */
static int named_add(struct side_named_count **v, size_t *nr, const char *name, uint64_t n)
{
	struct side_named_count *nv;

	for (size_t i = 0; i < *nr; i++)
		if (!strcmp((*v)[i].name, name)) {
			(*v)[i].count += n;
			return 0;
		}
	nv = realloc(*v, (*nr + 1) * sizeof(**v));
	if (!nv)
		return -1;
	*v = nv;
	nv[*nr].name = strdup(name);
	if (!nv[*nr].name)
		return -1;
	nv[(*nr)++].count = n;
	return 0;
}

static void named_free(struct side_named_count *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(v[i].name);
	free(v);
}

/* {"name": n, ...} at path (or, with 'counted', {"name": {"count": n, ...}} too). */
static int load_named(const struct wj_ctx *c, const cJSON *obj, const char *path, bool counted,
		      struct side_named_count **v, size_t *nr)
{
	char got[WJ_QUOTED_LEN], where[160];

	if (!cJSON_IsObject(obj))
		return wj_fail(c, path, "", "expected an object of counts by name, got %s",
			       wj_describe(obj, got, sizeof(got)));
	for (const cJSON *k = obj->child; k; k = k->next) {
		uint64_t n = 0;

		if (counted && cJSON_IsObject(k)) {
			if (wj_uint(c, k, wj_path_key(where, sizeof(where), path, k->string),
				    "count", true, 0, WJ_MAX_EXACT, &n) < 0)
				return -1;
		} else if (cJSON_IsNumber(k)) {
			if (wj_uint(c, obj, path, k->string, true, 0, WJ_MAX_EXACT, &n) < 0)
				return -1;
		} else {
			return wj_fail(c, path, k->string, "expected a count%s, got %s",
				       counted ? " or an object with \"count\"" : "",
				       wj_describe(k, got, sizeof(got)));
		}
		if (named_add(v, nr, k->string, n))
			return oom(c);
	}
	return 0;
}

/* "backing": [["pmd", 8192], ["none", 2], ...] */
static int load_backing(const struct wj_ctx *c, const cJSON *a, const char *path,
			struct side_region *r)
{
	uint64_t total = 0, counts[PAGE_CLASS_NR] = { 0 };
	char got[WJ_QUOTED_LEN], where[192];
	size_t i = 0;

	if (!cJSON_IsArray(a))
		return wj_fail(c, path, "", "expected an array of [class, pages] runs, got %s",
			       wj_describe(a, got, sizeof(got)));
	r->nr_backing = (size_t)cJSON_GetArraySize(a);
	r->backing = calloc(r->nr_backing ? r->nr_backing : 1, sizeof(*r->backing));
	if (!r->backing)
		return oom(c);
	for (const cJSON *run = a->child; run; run = run->next, i++) {
		const cJSON *cls = cJSON_GetArrayItem(run, 0), *n = cJSON_GetArrayItem(run, 1);
		int k;

		wj_path_index(where, sizeof(where), path, i);
		if (!cJSON_IsArray(run) || cJSON_GetArraySize(run) != 2)
			return wj_fail(c, where, "", "expected a run [class, pages], got %s",
				       wj_describe(run, got, sizeof(got)));
		for (k = 0; k < PAGE_CLASS_NR; k++)
			if (cJSON_IsString(cls) && !strcmp(cls->valuestring, page_class_name(k)))
				break;
		if (k == PAGE_CLASS_NR)
			return wj_fail(c, where, "", "expected a class \"none\", \"zero\", \"pte\" "
				       "or \"pmd\" first, got %s", wj_describe(cls, got, sizeof(got)));
		if (!cJSON_IsNumber(n) || n->valuedouble < 1 || n->valuedouble > (double)WJ_MAX_EXACT ||
		    n->valuedouble != (double)(uint64_t)n->valuedouble)
			return wj_fail(c, where, "", "expected a number of pages (an integer >= 1) "
				       "second, got %s", wj_describe(n, got, sizeof(got)));
		r->backing[i].cls = (uint8_t)k;
		r->backing[i].pages = (uint64_t)n->valuedouble;
		total += r->backing[i].pages;
		counts[k] += r->backing[i].pages;
	}
	if (total != r->size / PAGE_4K)
		return wj_fail(c, path, "", "the runs add up to %llu pages, the region has %llu",
			       (unsigned long long)total, (unsigned long long)(r->size / PAGE_4K));
	for (int k = 0; k < PAGE_CLASS_NR; k++)
		if (counts[k] != r->pages[k])
			return wj_fail(c, path, "", "the runs hold %llu \"%s\" pages, \"pages\" says %llu",
				       (unsigned long long)counts[k], page_class_name(k),
				       (unsigned long long)r->pages[k]);
	return 0;
}

static int load_region(const struct wj_ctx *c, const cJSON *j, struct side *s, struct side_region *r)
{
	static const char *const fields[] = { "faults", "thp_faults", "huge_bytes", "resident_bytes" };
	uint64_t *out[] = { &r->faults, &r->thp_faults, &r->huge_bytes, &r->resident_bytes };
	const cJSON *pg, *orders, *backing;
	char path[160], sub[192], got[WJ_QUOTED_LEN];
	uint64_t sum = 0;

	r->name = strdup(j->string);
	if (!r->name)
		return oom(c);
	wj_path_key(path, sizeof(path), "regions", j->string);
	if (!cJSON_IsObject(j))
		return wj_fail(c, path, "", "expected a region (an object), got %s",
			       wj_describe(j, got, sizeof(got)));
	if (wj_uint(c, j, path, "start", true, 0, WJ_MAX_EXACT, &r->start) < 0 ||
	    wj_uint(c, j, path, "size", true, 0, WJ_MAX_EXACT, &r->size) < 0)
		return -1;
	if (r->size % PAGE_4K)
		return wj_fail(c, path, "size", "expected a multiple of 4096 bytes, got %llu",
			       (unsigned long long)r->size);
	for (size_t i = 0; i < 4; i++)
		if (wj_uint(c, j, path, fields[i], true, 0, WJ_MAX_EXACT, out[i]) < 0)
			return -1;

	pg = cJSON_GetObjectItemCaseSensitive(j, "pages");
	wj_path_key(sub, sizeof(sub), path, "pages");
	if (!pg)
		return wj_fail(c, path, "pages", "required: expected the page classes (an object)");
	if (!cJSON_IsObject(pg))
		return wj_fail(c, sub, "", "expected the page classes (an object), got %s",
			       wj_describe(pg, got, sizeof(got)));
	for (int k = 0; k < PAGE_CLASS_NR; k++) {
		if (wj_uint(c, pg, sub, page_class_name(k), true, 0, WJ_MAX_EXACT, &r->pages[k]) < 0)
			return -1;
		sum += r->pages[k];
	}
	if (sum != r->size / PAGE_4K)
		return wj_fail(c, sub, "", "the classes add up to %llu pages, the region has %llu",
			       (unsigned long long)sum, (unsigned long long)(r->size / PAGE_4K));

	orders = cJSON_GetObjectItemCaseSensitive(j, "fault_alloc_orders");
	if (!orders) {
		s->has_alloc_orders = false;
	} else {
		wj_path_key(sub, sizeof(sub), path, "fault_alloc_orders");
		if (!cJSON_IsObject(orders))
			return wj_fail(c, sub, "", "expected counts by order (an object), got %s",
				       wj_describe(orders, got, sizeof(got)));
		for (const cJSON *k = orders->child; k; k = k->next) {
			char *end;
			long o = strtol(k->string, &end, 10);
			uint64_t n;

			if (!k->string[0] || *end || o < 0 || o >= SIDE_ORDERS)
				return wj_fail(c, sub, k->string, "expected an order from 0 to %d as the key",
					       SIDE_ORDERS - 1);
			if (wj_uint(c, orders, sub, k->string, true, 0, WJ_MAX_EXACT, &n) < 0)
				return -1;
			r->alloc_orders[o] += n;
		}
	}

	backing = cJSON_GetObjectItemCaseSensitive(j, "backing");
	if (backing) {
		wj_path_key(sub, sizeof(sub), path, "backing");
		if (load_backing(c, backing, sub, r))
			return -1;
	}
	return 0;
}

static int load_regions(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *regions = cJSON_GetObjectItemCaseSensitive(root, "regions");
	char got[WJ_QUOTED_LEN];
	size_t i = 0;

	if (!regions)
		return wj_fail(c, "", "regions", "required: expected the regions (an object)");
	if (!cJSON_IsObject(regions))
		return wj_fail(c, "regions", "", "expected the regions (an object), got %s",
			       wj_describe(regions, got, sizeof(got)));
	s->nr_regions = (size_t)cJSON_GetArraySize(regions);
	s->regions = calloc(s->nr_regions ? s->nr_regions : 1, sizeof(*s->regions));
	if (!s->regions)
		return oom(c);
	s->has_alloc_orders = true;
	for (const cJSON *j = regions->child; j; j = j->next, i++) {
		for (size_t d = 0; d < i; d++)
			if (!strcmp(s->regions[d].name, j->string))
				return wj_fail(c, "regions", j->string, "duplicate key");
		if (load_region(c, j, s, &s->regions[i]))
			return -1;
	}
	return 0;
}

static int region_index(const struct side *s, const char *name)
{
	for (size_t i = 0; i < s->nr_regions; i++)
		if (!strcmp(s->regions[i].name, name))
			return (int)i;
	return -1;
}

/* A number or null at obj.key (absent or null: 0). */
static int optional_ns(const struct wj_ctx *c, const cJSON *obj, const char *path,
		       const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	return wj_uint(c, obj, path, key, true, 0, WJ_MAX_EXACT, out) < 0 ? -1 : 0;
}

static int load_phases(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *phases = cJSON_GetObjectItemCaseSensitive(root, "phases");
	uint64_t first = 0;
	char got[WJ_QUOTED_LEN], path[64];
	size_t i = 0;

	if (!phases)
		return wj_fail(c, "", "phases", "required: expected the phases (an array)");
	if (!cJSON_IsArray(phases))
		return wj_fail(c, "phases", "", "expected the phases (an array), got %s",
			       wj_describe(phases, got, sizeof(got)));
	s->nr_phases = (size_t)cJSON_GetArraySize(phases);
	s->phases = calloc(s->nr_phases ? s->nr_phases : 1, sizeof(*s->phases));
	if (!s->phases)
		return oom(c);
	for (const cJSON *j = phases->child; j; j = j->next, i++) {
		struct side_phase *p = &s->phases[i];
		const char *op, *region = NULL;

		p->region = -1;
		wj_path_index(path, sizeof(path), "phases", i);
		if (!cJSON_IsObject(j))
			return wj_fail(c, path, "", "expected a phase (an object), got %s",
				       wj_describe(j, got, sizeof(got)));
		if (wj_string(c, j, path, "op", true, &op) < 0 ||
		    wj_string(c, j, path, "region", false, &region) < 0 ||
		    wj_uint(c, j, path, "runtime_ns", true, 0, WJ_MAX_EXACT, &p->runtime_ns) < 0 ||
		    wj_uint(c, j, path, "faults", true, 0, WJ_MAX_EXACT, &p->faults) < 0 ||
		    wj_uint(c, j, path, "thp_faults", false, 0, WJ_MAX_EXACT, &p->thp_faults) < 0 ||
		    wj_uint(c, j, path, "start_ns", false, 0, WJ_MAX_EXACT, &p->start_ns) < 0 ||
		    optional_ns(c, j, path, "probe_free_runtime_ns", &p->probe_free_ns))
			return -1;
		p->op = strdup(op);
		if (!p->op)
			return oom(c);
		if (region && (p->region = region_index(s, region)) < 0)
			return wj_fail(c, path, "region", "expected one of the regions, got \"%s\"",
				       region);
		/* Linux's start_ns are from the first phase already, the simulator's from its start */
		if (i == 0)
			s->first_phase_ns = first = p->start_ns;
		p->start_ns = p->start_ns >= first ? p->start_ns - first : 0;
	}
	return 0;
}

static int load_khugepaged(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *kh = cJSON_GetObjectItemCaseSensitive(root, "khugepaged"), *v;
	char got[WJ_QUOTED_LEN];

	if (!kh)
		return 0;
	if (!cJSON_IsObject(kh))
		return wj_fail(c, "khugepaged", "", "expected an object, got %s",
			       wj_describe(kh, got, sizeof(got)));
	if ((v = cJSON_GetObjectItemCaseSensitive(kh, "scan_pmd")) &&
	    load_named(c, v, "khugepaged.scan_pmd", false, &s->scan_results, &s->nr_scan_results))
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(kh, "collapse")) &&
	    load_named(c, v, "khugepaged.collapse", false, &s->collapse_results,
		       &s->nr_collapse_results))
		return -1;
	s->has_khugepaged = true;
	return 0;
}

static void count_collapses(struct side *s)
{
	s->collapses = 0;
	for (size_t i = 0; i < s->nr_collapse_results; i++)
		if (!strcmp(s->collapse_results[i].name, "succeeded"))
			s->collapses += s->collapse_results[i].count;
}

static void count_tlb_flushes(struct side *s)
{
	s->tlb_flush_total = 0;
	for (size_t i = 0; i < s->nr_tlb_flushes; i++)
		if (strcmp(s->tlb_flushes[i].name, TASK_SWITCH))
			s->tlb_flush_total += s->tlb_flushes[i].count;
}

/* names[i] of the log's metadata array, or the number i */
static const char *meta_name(const cJSON *names, int i, char *buf, size_t len)
{
	const cJSON *n = i >= 0 ? cJSON_GetArrayItem(names, i) : NULL;

	if (cJSON_IsString(n))
		return n->valuestring;
	snprintf(buf, len, "%d", i);
	return buf;
}

static int region_at(const struct side *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nr_regions; i++)
		if (addr >= s->regions[i].start && addr - s->regions[i].start < s->regions[i].size)
			return (int)i;
	return -1;
}

/*
 * One fault record as a struct side_fault. A record keeps its first
 * VT_FAULT_ALLOCS allocations; when the folio was not among them (a fault
 * that also allocated page tables at several levels), Linux's probes sent
 * the rest ahead of the record as allocations caused by a fault ('spilled':
 * the movable one of them on the fault's thread, or NULL); MimicOS sends
 * only the count, and the growth of the anonymous RSS gives the folio's
 * size (rss: the process's anonymous RSS before it, bytes, -1 unknown,
 * moved to after it; exact in MimicOS, a per-CPU approximation on Linux,
 * which is why the spilled record comes first).
 */
static void fault_of(const struct side *s, const struct vt_event *e, uint64_t t0,
		     int64_t *rss, const struct vt_alloc *spilled, struct side_fault *f)
{
	memset(f, 0, sizeof(*f));
	f->t_ns = e->ts >= t0 ? e->ts - t0 : 0;
	f->addr = e->fault.addr;
	f->latency_ns = e->fault.completed ? e->fault.latency_ns : 0;
	f->region = region_at(s, e->fault.addr);
	f->phase = e->phase >= 0 && (size_t)e->phase < s->nr_phases ? e->phase : -1;
	f->thread = -1;
	for (size_t t = 0; t < s->nr_threads; t++)
		if (s->thread_tids[t] == e->tid)
			f->thread = (int)t;
	f->write = e->fault.error_code & X86_PF_WRITE;
	f->present = e->fault.error_code & X86_PF_PROT;
	f->completed = e->fault.completed;
	for (unsigned i = 0; i < e->fault.nr_allocs && i < VT_FAULT_ALLOCS; i++)
		if (e->fault.alloc[i].migratetype == MIGRATE_MOVABLE) {
			f->order = e->fault.alloc[i].order;
			f->allocated = true;
			break;
		}
	f->nr_allocs = e->fault.nr_allocs;
	f->nr_rss = e->fault.nr_rss;
	if (!f->allocated && spilled) {
		f->order = spilled->order;
		f->allocated = true;
	}
	if (!f->allocated && e->fault.nr_allocs > VT_FAULT_ALLOCS && *rss >= 0 &&
	    e->fault.rss_anon > *rss) {
		uint64_t pages = (uint64_t)(e->fault.rss_anon - *rss) / PAGE_4K;

		if (pages && !(pages & (pages - 1)) && pages < 1u << SIDE_ORDERS) {
			f->allocated = true;
			f->order = (uint8_t)__builtin_ctzll(pages);
		}
	}
	if (e->fault.rss_anon >= 0)
		*rss = e->fault.rss_anon;
}

/*
 * Take the probes' own work inside each fault's latency window off it, where
 * the side says what a run of each costs: every allocation and RSS change
 * during the fault ran a probe, and so did the TLB flush of a copy-on-write
 * (linux-probes/README.md, "What the probes cost"). What cannot be measured
 * (the tracepoints' dispatch) stays in. Returns whether anything changed.
 */
static bool take_off_probes(struct side *s)
{
	bool changed = false;

	if (isnan(s->probe_alloc_ns))
		return false;
	for (size_t i = 0; i < s->nr_faults; i++) {
		struct side_fault *f = &s->faults[i];
		double ns = f->nr_allocs * s->probe_alloc_ns;

		/* no rss_stat hook (the default), no RSS changes counted: nothing of it to take off */
		if (f->nr_rss && isnan(s->probe_rss_ns))
			continue;
		if (f->nr_rss)
			ns += f->nr_rss * s->probe_rss_ns;

		if ((f->kind == FAULT_zero_cow || f->kind == FAULT_huge_zero_write) &&
		    !isnan(s->probe_tlb_ns))
			ns += s->probe_tlb_ns;
		if (!f->latency_ns || ns <= 0)
			continue;
		f->probe_ns = (uint64_t)(ns + 0.5);
		/* never below 1 ns: 0 means "unknown" */
		f->latency_ns = f->latency_ns > f->probe_ns ? f->latency_ns - f->probe_ns : 1;
		changed = true;
	}
	return changed;
}

/* probes.probe_cost_ns.<role> + probes.stats_overhead_ns, or NAN. */
static double probe_cost(const cJSON *probes, const char *role)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(probes, "probe_cost_ns");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, role);
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(probes, "stats_overhead_ns");

	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		return NAN;
	return v->valuedouble + (cJSON_IsNumber(ov) && ov->valuedouble > 0 ? ov->valuedouble : 0);
}

/*
 * The range a successful system call unmapped or zapped, or false: munmap,
 * mremap's old range, a MAP_FIXED mmap over what was there, MADV_DONTNEED,
 * MADV_FREE, MADV_REMOVE, MADV_DONTNEED_LOCKED.
 */
static bool zap_of(const struct vt_event *e, uint64_t *start, uint64_t *end)
{
	enum { SYS_MMAP = 9, SYS_MUNMAP = 11, SYS_MREMAP = 25, SYS_MADVISE = 28,
	       MAP_FIXED_ = 0x10, DONTNEED = 4, FREE = 8, REMOVE = 9, DONTNEED_LOCKED = 24 };
	uint64_t adv = e->sys.args[2];

	if (e->sys.ret < 0 && e->sys.ret > -4096)
		return false;
	switch (e->sys.nr) {
	case SYS_MMAP:
		if (!(e->sys.args[3] & MAP_FIXED_))
			return false;
		break;
	case SYS_MUNMAP:
	case SYS_MREMAP:
		break;
	case SYS_MADVISE:
		if (adv != DONTNEED && adv != FREE && adv != REMOVE && adv != DONTNEED_LOCKED)
			return false;
		break;
	default:
		return false;
	}
	*start = e->sys.args[0];
	*end = e->sys.args[0] + e->sys.args[1];
	return true;
}

/* "tlb_flushes_by_cpu": {"CPU": {"REASON": n}}, summed per CPU but for task switches. */
static int load_tlb_by_cpu(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(root, "tlb_flushes_by_cpu");
	char where[160];

	for (const cJSON *cpu = by ? by->child : NULL; cpu; cpu = cpu->next) {
		struct side_named_count *v = NULL;
		size_t nr = 0;
		uint64_t n = 0;

		if (load_named(c, cpu, wj_path_key(where, sizeof(where), "tlb_flushes_by_cpu",
						   cpu->string), false, &v, &nr))
			return -1;
		for (size_t i = 0; i < nr; i++)
			if (strcmp(v[i].name, TASK_SWITCH))
				n += v[i].count;
		named_free(v, nr);
		if (named_add(&s->tlb_by_cpu, &s->nr_tlb_by_cpu, cpu->string, n))
			return oom(c);
	}
	return 0;
}

/* "tlb_ipis": {"sent", "received", ...} */
static int load_ipis(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "tlb_ipis");

	if (!o)
		return 0;
	if (wj_uint(c, o, "tlb_ipis", "sent", true, 0, WJ_MAX_EXACT, &s->tlb_ipis_sent) < 0 ||
	    wj_uint(c, o, "tlb_ipis", "received", true, 0, WJ_MAX_EXACT,
		    &s->tlb_ipis_received) < 0 ||
	    wj_uint(c, o, "tlb_ipis", "received_ns", false, 0, WJ_MAX_EXACT,
		    &s->tlb_ipis_received_ns) < 0 ||
	    wj_uint(c, o, "tlb_ipis", "waits", false, 0, WJ_MAX_EXACT, &s->tlb_ipis_waits) < 0 ||
	    wj_uint(c, o, "tlb_ipis", "wait_ns", false, 0, WJ_MAX_EXACT, &s->tlb_ipis_wait_ns) < 0)
		return -1;
	s->has_tlb_ipis = true;
	return 0;
}

/* "threads": [{"thread": t, "faults": n, ...}], in thread order. */
static int load_threads(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "threads"), *t;
	char where[64], got[WJ_QUOTED_LEN];
	size_t i = 0;

	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return wj_fail(c, "", "threads", "expected an array, got %s",
			       wj_describe(a, got, sizeof(got)));
	s->thread_faults = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*s->thread_faults));
	s->thread_tids = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*s->thread_tids));
	s->thread_cpus = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*s->thread_cpus));
	if (!s->thread_faults || !s->thread_tids || !s->thread_cpus)
		return oom(c);
	cJSON_ArrayForEach(t, a) {
		uint64_t cpu;
		int r, rc;

		snprintf(where, sizeof(where), "threads[%zu]", i);
		if (wj_uint(c, t, where, "faults", true, 0, WJ_MAX_EXACT, &s->thread_faults[i]) < 0 ||
		    (r = wj_uint(c, t, where, "tid", false, 0, UINT32_MAX, &s->thread_tids[i])) < 0 ||
		    (rc = wj_uint(c, t, where, "cpu", false, 0, UINT32_MAX, &cpu)) < 0)
			return -1;
		if (!r)
			s->thread_tids[i] = i;
		s->thread_cpus[i] = rc ? (int64_t)cpu : -1;
		i++;
	}
	s->nr_threads = i;
	return 0;
}

static void tlb_unmeasured(struct side_tlb *t)
{
	for (int k = 0; k < TLB_SCOPE_NR; k++) {
		t->accesses[k] = NAN;
		for (int e = 0; e < TLB_EV_NR; e++) {
			t->n[k][e] = NAN;
			t->running[k][e] = NAN;
		}
	}
}

static int tlb_why(const struct wj_ctx *c, struct side *s, int ev, const char *why)
{
	if (s->tlb_why[ev])
		return 0;
	s->tlb_why[ev] = strdup(why);
	return s->tlb_why[ev] ? 0 : oom(c);
}

/*
 * Linux: "counter_events" {"NAME": {"event", "tlb_event", "counts"} |
 * {"unsupported": why}} and each phase's "counters" {"NAME": n | "unsupported"
 * | "not counted"} with "counters_running" {"NAME": fraction}.
 */
static int load_linux_tlb(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "counter_events"), *e;
	const cJSON *phases = cJSON_GetObjectItemCaseSensitive(root, "phases"), *pj;
	char path[96], got[WJ_QUOTED_LEN];
	bool counted[TLB_EV_NR] = { false };

	if (!ev) {
		if (!cJSON_GetObjectItemCaseSensitive(root, "counters"))
			return 0;
		/* counters, but not what they count: a file older than counter_events */
		s->has_tlb = true;
		for (int t = 0; t < TLB_EV_NR; t++)
			if (tlb_why(c, s, t, "linux.json does not say what its counters count "
				    "(no counter_events: an older file)"))
				return -1;
		return 0;
	}
	if (!cJSON_IsObject(ev))
		return wj_fail(c, "", "counter_events", "expected an object, got %s",
			       wj_describe(ev, got, sizeof(got)));
	s->has_tlb = true;
	cJSON_ArrayForEach(e, ev) {
		const char *unsup = NULL, *tev = NULL, *counts = NULL;
		int t, scope;
		size_t i = 0;

		snprintf(path, sizeof(path), "counter_events.%s", e->string);
		if (!cJSON_IsObject(e))
			return wj_fail(c, path, "", "expected an object, got %s",
				       wj_describe(e, got, sizeof(got)));
		if (wj_string(c, e, path, "unsupported", false, &unsup) < 0 ||
		    wj_string(c, e, path, "tlb_event", false, &tev) < 0 ||
		    wj_string(c, e, path, "counts", !unsup, &counts) < 0)
			return -1;
		if (!tev)
			continue;	/* the faults, or a counter that never opened */
		if ((t = tlb_event_from_name(tev)) == TLB_EV_NONE)
			return wj_fail(c, path, "tlb_event", "unknown TLB event \"%s\"", tev);
		if (unsup) {
			if (tlb_why(c, s, t, unsup))
				return -1;
			continue;
		}
		if ((scope = tlb_scope_from_name(counts)) < 0)
			return wj_fail(c, path, "counts", "expected loads, stores, loads+stores or "
				       "unknown, got \"%s\"", counts);
		if (scope == TLB_SCOPE_unknown || scope == TLB_SCOPE_none) {
			char why[160];

			snprintf(why, sizeof(why), "%s counts what the kernel's PMU driver maps it to",
				 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "event")));
			if (tlb_why(c, s, t, why))
				return -1;
			continue;
		}
		counted[t] = true;
		/* the counter's growth in each phase */
		cJSON_ArrayForEach(pj, phases) {
			const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(pj, "counters"), *v;
			const cJSON *run = cJSON_GetObjectItemCaseSensitive(pj, "counters_running");
			struct side_tlb *tl = &s->phases[i].tlb;

			snprintf(path, sizeof(path), "phases[%zu].counters", i++);
			v = cJSON_GetObjectItemCaseSensitive(ctr, e->string);
			if (!v || cJSON_IsString(v))
				continue;	/* "not counted": multiplexed out */
			if (wj_number(c, ctr, path, e->string, true, 0, false, 1e300,
				      &tl->n[scope][t]) < 0)
				return -1;
			tl->running[scope][t] = 1;
			snprintf(path, sizeof(path), "phases[%zu].counters_running", i - 1);
			if (run && wj_number(c, run, path, e->string, false, 0, false, 1,
					     &tl->running[scope][t]) < 0)
				return -1;
		}
	}
	for (int t = 0; t < TLB_EV_NR; t++)
		if (counted[t] && s->tlb_why[t]) {
			free(s->tlb_why[t]);
			s->tlb_why[t] = NULL;
		} else if (!counted[t] && tlb_why(c, s, t, "no counter of this host counts it")) {
			return -1;
		}
	return 0;
}

/* sim: each phase's "tlb_events" {"loads": {"accesses", EVENT: n...}, "stores": {...}}. */
static int load_sim_tlb(const struct wj_ctx *c, const cJSON *root, struct side *s)
{
	static const int scopes[2] = { TLB_SCOPE_loads, TLB_SCOPE_stores };
	const cJSON *phases = cJSON_GetObjectItemCaseSensitive(root, "phases"), *pj;
	char path[96];
	size_t i = 0;

	cJSON_ArrayForEach(pj, phases) {
		const cJSON *te = cJSON_GetObjectItemCaseSensitive(pj, "tlb_events");
		struct side_tlb *tl = &s->phases[i].tlb;

		snprintf(path, sizeof(path), "phases[%zu].tlb_events", i++);
		if (!te)
			continue;
		s->has_tlb = true;
		tl->accesses[TLB_SCOPE_loads_stores] = 0;
		for (int k = 0; k < 2; k++) {
			const char *name = tlb_scope_name(scopes[k]);
			const cJSON *o = cJSON_GetObjectItemCaseSensitive(te, name);
			char where[112];

			snprintf(where, sizeof(where), "%s.%s", path, name);
			if (!cJSON_IsObject(o))
				return wj_fail(c, path, name, "expected the %s' events (an object)", name);
			if (wj_number(c, o, where, "accesses", true, 0, false, 1e300,
				      &tl->accesses[scopes[k]]) < 0)
				return -1;
			tl->accesses[TLB_SCOPE_loads_stores] += tl->accesses[scopes[k]];
			for (int e = 0; e < TLB_EV_NR; e++) {
				double *both = &tl->n[TLB_SCOPE_loads_stores][e];

				if (wj_number(c, o, where, tlb_event_name(e), true, 0, false, 1e300,
					      &tl->n[scopes[k]][e]) < 0)
					return -1;
				*both = (k ? *both : 0) + tl->n[scopes[k]][e];
			}
		}
	}
	return 0;
}

/*
 * The event log beside the file: its faults, and khugepaged's outcomes and
 * the TLB flushes where the file had none. Absent: not an error.
 */
static int load_log(const struct wj_ctx *c, const cJSON *root, const char *dir, struct side *s)
{
	const char *name = !strcmp(s->kind, "sim") ? EVLOG_SIM_NAME : EVLOG_NAME;
	bool kh_from_log = !s->has_khugepaged, tlb_from_log = !s->has_tlb_flushes;
	bool ipis_from_log = !s->has_tlb_ipis;
	const cJSON *meta, *scan_names, *tlb_names, *p0;
	struct evlog_reader r;
	struct vt_event e;
	struct side_zap *zaps = NULL;
	size_t cap = 0, nr_zaps = 0;
	/* MM_ANONPAGES bytes as last seen: MimicOS's mm starts empty, Linux's unknown */
	int64_t rss = strcmp(s->kind, "sim") ? -1 : 0;
	struct vt_alloc spilled = { 0 };	/* a fault's folio sent ahead of its record */
	uint32_t spilled_tid = 0;
	bool has_spilled = false;
	uint64_t t0 = s->first_phase_ns;
	char *path, buf[16];
	int ret = -1;

	if (wj_string(c, root, "", "events_log", false, &name) < 0)
		return -1;
	/* a stored result names a file beside it, never one elsewhere */
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return wj_fail(c, "", "events_log", "expected the name of a file in the side's "
			       "folder, got \"%.60s\"", name);
	path = join(dir, name);
	if (!path)
		return oom(c);
	if (access(path, F_OK) && errno == ENOENT) {
		free(path);
		return 0;
	}
	if (evlog_open(&r, path, c->err)) {
		free(path);
		return -1;
	}
	meta = evlog_meta(&r);
	scan_names = cJSON_GetObjectItemCaseSensitive(meta, "scan_status");
	tlb_names = cJSON_GetObjectItemCaseSensitive(meta, "tlb_flush_reason");
	p0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(meta, "phases"), 0);
	p0 = cJSON_GetObjectItemCaseSensitive(p0, "start_ns");
	if (cJSON_IsNumber(p0) && p0->valuedouble > 0)
		t0 = (uint64_t)p0->valuedouble;

	while (evlog_next(&r, &e) > 0) {
		bool in_phase = e.phase >= 0 && (size_t)e.phase < s->nr_phases;
		int st;

		switch (e.type) {
		case VT_FAULT:
			/* the kernel's faults on a recorded command's behalf are not user faults */
			if (!(e.fault.error_code & X86_PF_USER))
				break;
			if (s->nr_faults == cap) {
				struct side_fault *nf;

				cap = cap ? 2 * cap : 1024;
				nf = realloc(s->faults, cap * sizeof(*nf));
				if (!nf)
					goto oom;
				s->faults = nf;
			}
			fault_of(s, &e, t0, &rss, has_spilled && spilled_tid == e.tid ? &spilled : NULL,
				 &s->faults[s->nr_faults++]);
			if (spilled_tid == e.tid)
				has_spilled = false;
			break;
		case VT_ALLOC:
			if (e.alloc.cause == VT_CAUSE_FAULT && e.alloc.migratetype == MIGRATE_MOVABLE) {
				spilled = e.alloc;
				spilled_tid = e.tid;
				has_spilled = true;
			}
			break;
		case VT_RSS:
			if (e.rss.member == MM_ANONPAGES)
				rss = e.rss.size;
			break;
		case VT_SCAN_PMD:
		case VT_COLLAPSE:
			if (!kh_from_log || !in_phase)
				break;
			st = e.type == VT_SCAN_PMD ? e.scan.status : e.collapse.status;
			if (e.type == VT_SCAN_PMD
			    ? named_add(&s->scan_results, &s->nr_scan_results,
					meta_name(scan_names, st, buf, sizeof(buf)), 1)
			    : named_add(&s->collapse_results, &s->nr_collapse_results,
					meta_name(scan_names, st, buf, sizeof(buf)), 1))
				goto oom;
			break;
		case VT_SYSCALL: {
			struct side_zap z = { .before = s->nr_faults }, *nz;

			if (!zap_of(&e, &z.start, &z.end))
				break;
			nz = realloc(zaps, (nr_zaps + 1) * sizeof(*nz));
			if (!nz)
				goto oom;
			zaps = nz;
			zaps[nr_zaps++] = z;
			break;
		}
		case VT_TLB_FLUSH:
			if (in_phase && (e.tlb.source == VT_TLB_SRC_UNKNOWN || e.tlb.source ==
					 VT_TLB_SRC_IPI || VT_TLB_SRC_WORKLOAD(e.tlb.source))) {
				struct side_flush *nf = realloc(s->flushes, (s->nr_flushes + 1) *
								sizeof(*nf));

				if (!nf)
					goto oom;
				s->flushes = nf;
				nf[s->nr_flushes++] = (struct side_flush){
					.t_ns = e.ts >= t0 ? e.ts - t0 : 0, .cpu = e.cpu,
					.reason = e.tlb.reason };
			}
			/* the workload's own (a log without sources: all of them) */
			if (!tlb_from_log || !in_phase || (e.tlb.source != VT_TLB_SRC_UNKNOWN &&
							   !VT_TLB_SRC_WORKLOAD(e.tlb.source)))
				break;
			if (named_add(&s->tlb_flushes, &s->nr_tlb_flushes,
				      meta_name(tlb_names, e.tlb.reason, buf, sizeof(buf)), 1))
				goto oom;
			if (e.cpu != VT_CPU_UNKNOWN) {
				snprintf(buf, sizeof(buf), "%u", e.cpu);
				if (named_add(&s->tlb_by_cpu, &s->nr_tlb_by_cpu, buf, 1))
					goto oom;
			}
			break;
		case VT_IPI:
			if (!ipis_from_log || !in_phase)
				break;
			s->has_tlb_ipis = true;
			if (e.ipi.sent)
				s->tlb_ipis_sent++;
			else
				s->tlb_ipis_received++;
			break;
		}
	}
	fault_kinds_classify(s, zaps, nr_zaps);
	if (take_off_probes(s))
		fault_mark_cold(s);
	s->has_log = true;
	s->has_khugepaged = true;
	s->has_tlb_flushes = true;
	/* a log that records CPUs records the cross-calls too: none is 0 */
	if (ipis_from_log && r.version >= 3)
		s->has_tlb_ipis = true;
	ret = 0;
	goto out;
oom:
	wl_error_set(c->err, path, "", "out of memory");
out:
	free(zaps);
	evlog_close(&r);
	free(path);
	return ret;
}

int side_load(struct side *s, const char *dir, const char *name, struct wl_error *err)
{
	static const char *const kinds[] = { "linux", "sim" };
	struct wj_ctx c = { .err = err };
	const char *str, *timing = NULL;
	const cJSON *tlb;
	char *text, got[WJ_QUOTED_LEN];
	size_t len;
	int kind;

	memset(s, 0, sizeof(*s));
	s->path = join(dir, name);
	if (!s->path)
		return wl_error_set(err, name, "", "out of memory");
	c.file = s->path;
	if (wj_read_file(s->path, &text, &len, err))
		return -1;
	s->json = wj_parse(&c, text, len);
	free(text);
	if (!s->json)
		return -1;
	if (!cJSON_IsObject(s->json))
		return wj_fail(&c, "", "", "expected a side (a JSON object), got %s",
			       wj_describe(s->json, got, sizeof(got)));
	if (wj_check_unique_keys(&c, s->json, ""))
		return -1;

	if (wj_string(&c, s->json, "", "workload", true, &str) < 0)
		return -1;
	s->workload = strdup(str);
	if (wj_enum(&c, s->json, "", "side", true, kinds, 2, &kind) < 0)
		return -1;
	/* linux*.json holds a Linux side, sim*.json the simulated one */
	for (int k = 0; k < 2; k++)
		if (!strncmp(name, kinds[k], strlen(kinds[k])) && k != kind)
			return wj_fail(&c, "", "side", "\"%s\", but %s holds the %s side",
				       kinds[kind], name, kinds[k]);
	s->kind = strdup(kinds[kind]);
	str = NULL;
	if (wj_string(&c, s->json, "", "tool", false, &str) < 0)
		return -1;
	if (str)
		s->version = strdup(str);
	if (!s->workload || !s->kind || (str && !s->version))
		return oom(&c);
	if (wj_bool(&c, s->json, "", "complete", true, &s->complete) < 0 ||
	    wj_uint(&c, s->json, "", "dropped_events", false, 0, WJ_MAX_EXACT,
		    &s->dropped_events) < 0 ||
	    wj_uint(&c, s->json, "", "runtime_ns", true, 0, WJ_MAX_EXACT, &s->runtime_ns) < 0 ||
	    wj_string(&c, s->json, "", "timing", false, &timing) < 0)
		return -1;
	s->timed = !timing || strcmp(timing, "none");
	if (optional_ns(&c, s->json, "", "probe_free_runtime_ns", &s->probe_free_ns))
		return -1;
	{
		const cJSON *probes = cJSON_GetObjectItemCaseSensitive(s->json, "probes");

		s->probe_alloc_ns = probe_cost(probes, "page_alloc");
		s->probe_rss_ns = probe_cost(probes, "rss_stat");
		s->probe_tlb_ns = probe_cost(probes, "tlb_flush");
	}
	if (wj_bool(&c, s->json, "", "calibrated", false, &s->calibrated) < 0)
		return -1;

	if (load_regions(&c, s->json, s) || load_phases(&c, s->json, s) ||
	    load_khugepaged(&c, s->json, s))
		return -1;
	tlb = cJSON_GetObjectItemCaseSensitive(s->json, "tlb_flushes");
	if (tlb) {
		if (load_named(&c, tlb, "tlb_flushes", true, &s->tlb_flushes, &s->nr_tlb_flushes) ||
		    load_tlb_by_cpu(&c, s->json, s))
			return -1;
		s->has_tlb_flushes = true;
	}
	if (load_threads(&c, s->json, s) || load_ipis(&c, s->json, s))
		return -1;
	for (size_t i = 0; i < s->nr_phases; i++)
		tlb_unmeasured(&s->phases[i].tlb);
	if (!strcmp(s->kind, "linux") ? load_linux_tlb(&c, s->json, s) : load_sim_tlb(&c, s->json, s))
		return -1;
	s->replayed = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->json, "replay"));
	if (load_log(&c, s->json, dir, s))
		return -1;
	count_collapses(s);
	count_tlb_flushes(s);
	return 0;
}

void side_release(struct side *s)
{
	for (size_t i = 0; s->regions && i < s->nr_regions; i++) {
		free(s->regions[i].name);
		free(s->regions[i].backing);
	}
	for (size_t i = 0; s->phases && i < s->nr_phases; i++)
		free(s->phases[i].op);
	for (int e = 0; e < TLB_EV_NR; e++)
		free(s->tlb_why[e]);
	named_free(s->scan_results, s->nr_scan_results);
	named_free(s->collapse_results, s->nr_collapse_results);
	named_free(s->tlb_flushes, s->nr_tlb_flushes);
	named_free(s->tlb_by_cpu, s->nr_tlb_by_cpu);
	free(s->thread_faults);
	free(s->thread_tids);
	free(s->thread_cpus);
	free(s->flushes);
	free(s->regions);
	free(s->phases);
	free(s->faults);
	free(s->path);
	free(s->workload);
	free(s->kind);
	free(s->version);
	cJSON_Delete(s->json);
	memset(s, 0, sizeof(*s));
}
