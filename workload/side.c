/*
 * side.c - the JSON both result sides share (see side.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "workload/side.h"

static const char *const class_names[PAGE_CLASS_NR] = {
	[PAGE_CLASS_NONE] = "none",
	[PAGE_CLASS_ZERO] = "zero",
	[PAGE_CLASS_PTE] = "pte",
	[PAGE_CLASS_PMD] = "pmd",
};

const char *page_class_name(enum page_class c)
{
	return (unsigned)c < PAGE_CLASS_NR ? class_names[c] : "?";
}

struct cJSON *side_pages_json(const uint64_t pages[PAGE_CLASS_NR])
{
	cJSON *o = cJSON_CreateObject();

	for (int c = 0; c < PAGE_CLASS_NR; c++)
		cJSON_AddNumberToObject(o, class_names[c], (double)pages[c]);
	return o;
}

struct cJSON *side_orders_json(const uint64_t *orders, int nr)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; i < nr; i++)
		if (orders[i]) {
			char k[12];

			snprintf(k, sizeof(k), "%d", i);
			cJSON_AddNumberToObject(o, k, (double)orders[i]);
		}
	return o;
}

struct cJSON *side_kernel_json(const struct wl_spec *s, const struct wl_kernel *k)
{
	struct wl_spec copy = *s;
	cJSON *spec, *kern;

	copy.kernel = *k;
	spec = wl_spec_to_json(&copy);
	kern = spec ? cJSON_DetachItemFromObjectCaseSensitive(spec, "kernel") : NULL;
	cJSON_Delete(spec);
	return kern ? kern : cJSON_CreateObject();
}

void side_region_fields(struct cJSON *obj, uint64_t start, uint64_t size, uint64_t faults,
			uint64_t thp_faults, const uint64_t pages[PAGE_CLASS_NR])
{
	const double page = PAGE_CLASS_SIZE;

	cJSON_AddNumberToObject(obj, "start", (double)start);
	cJSON_AddNumberToObject(obj, "size", (double)size);
	cJSON_AddNumberToObject(obj, "faults", (double)faults);
	cJSON_AddNumberToObject(obj, "thp_faults", (double)thp_faults);
	cJSON_AddNumberToObject(obj, "huge_bytes", (double)pages[PAGE_CLASS_PMD] * page);
	cJSON_AddNumberToObject(obj, "resident_bytes",
				(double)(pages[PAGE_CLASS_PMD] + pages[PAGE_CLASS_PTE] + pages[PAGE_CLASS_ZERO]) * page);
	cJSON_AddItemToObject(obj, "pages", side_pages_json(pages));
}

struct cJSON *side_phase_json(struct cJSON *phases, const struct wl_spec *s, size_t i,
			      uint64_t runtime_ns, uint64_t faults)
{
	const struct wl_phase *ph = &s->phases[i];
	cJSON *j = cJSON_CreateObject();

	cJSON_AddItemToArray(phases, j);
	cJSON_AddStringToObject(j, "op", wl_phase_op_name(ph->op));
	if (ph->op != WL_PH_KHUGEPAGED_WAIT && ph->op != WL_PH_SLEEP && ph->op != WL_PH_COMMAND)
		cJSON_AddStringToObject(j, "region", s->regions[ph->region].name);
	cJSON_AddNumberToObject(j, "runtime_ns", (double)runtime_ns);
	cJSON_AddNumberToObject(j, "faults", (double)faults);
	return j;
}

/* ---- backing maps ------------------------------------------------------------ */

int side_backing_add(struct side_backing *b, int cls, uint64_t pages)
{
	if (cls < 0 || cls >= PAGE_CLASS_NR)
		return -EINVAL;
	if (!pages)
		return 0;
	if (b->nr && b->run[b->nr - 1].cls == cls) {
		b->run[b->nr - 1].pages += pages;
		return 0;
	}
	if (b->nr == b->alloc) {
		size_t alloc = b->alloc ? 2 * b->alloc : 16;
		struct side_backing_run *r = realloc(b->run, alloc * sizeof(*r));

		if (!r)
			return -ENOMEM;
		b->run = r;
		b->alloc = alloc;
	}
	b->run[b->nr++] = (struct side_backing_run){ .cls = (uint8_t)cls, .pages = pages };
	return 0;
}

void side_backing_release(struct side_backing *b)
{
	free(b->run);
	b->run = NULL;
	b->nr = b->alloc = 0;
}

struct cJSON *side_backing_json(const struct side_backing *b)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a && i < b->nr; i++) {
		cJSON *run = cJSON_CreateArray();

		cJSON_AddItemToArray(run, cJSON_CreateString(class_names[b->run[i].cls]));
		cJSON_AddItemToArray(run, cJSON_CreateNumber((double)b->run[i].pages));
		cJSON_AddItemToArray(a, run);
	}
	return a;
}

/* ---- fault latencies ------------------------------------------------------------ */

void side_latencies_push(struct side_latencies *l, uint64_t ns)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 1024;
		l->v = realloc(l->v, l->alloc * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = ns;
}

void side_latencies_release(struct side_latencies *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t side_quantile(const uint64_t *v, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	if (!n)
		return 0;
	if (rank < 1)
		rank = 1;
	return v[(rank > n ? n : rank) - 1];
}

struct cJSON *side_latencies_json(const struct side_latencies *l)
{
	cJSON *o = cJSON_CreateObject();
	uint64_t *v = l->n ? malloc(l->n * sizeof(*v)) : NULL;
	double sum = 0;

	if (l->n && !v)
		abort();
	if (l->n) {
		memcpy(v, l->v, l->n * sizeof(*v));
		qsort(v, l->n, sizeof(*v), cmp_u64);
	}
	for (size_t i = 0; i < l->n; i++)
		sum += (double)v[i];
	cJSON_AddNumberToObject(o, "count", (double)l->n);
	cJSON_AddNumberToObject(o, "mean", l->n ? sum / (double)l->n : 0);
	cJSON_AddNumberToObject(o, "p50", (double)side_quantile(v, l->n, 0.50));
	cJSON_AddNumberToObject(o, "p90", (double)side_quantile(v, l->n, 0.90));
	cJSON_AddNumberToObject(o, "p99", (double)side_quantile(v, l->n, 0.99));
	cJSON_AddNumberToObject(o, "max", l->n ? (double)v[l->n - 1] : 0);
	free(v);
	return o;
}
