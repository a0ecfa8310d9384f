/*
 * side.c - the JSON both result sides share (see side.h).
 */
#include <stdio.h>

#include <cjson/cJSON.h>

#include "workload/side.h"

static const char *const class_names[SIDE_PAGE_NR] = { "none", "zero", "pte", "pmd" };

struct cJSON *side_pages_json(const uint64_t pages[SIDE_PAGE_NR])
{
	cJSON *o = cJSON_CreateObject();

	for (int c = 0; c < SIDE_PAGE_NR; c++)
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
			uint64_t thp_faults, const uint64_t pages[SIDE_PAGE_NR])
{
	const double page = 4096;

	cJSON_AddNumberToObject(obj, "start", (double)start);
	cJSON_AddNumberToObject(obj, "size", (double)size);
	cJSON_AddNumberToObject(obj, "faults", (double)faults);
	cJSON_AddNumberToObject(obj, "thp_faults", (double)thp_faults);
	cJSON_AddNumberToObject(obj, "huge_bytes", (double)pages[SIDE_PMD] * page);
	cJSON_AddNumberToObject(obj, "resident_bytes",
				(double)(pages[SIDE_PMD] + pages[SIDE_PTE] + pages[SIDE_ZERO]) * page);
	cJSON_AddItemToObject(obj, "pages", side_pages_json(pages));
}

struct cJSON *side_phase_json(struct cJSON *phases, const struct wl_spec *s, size_t i,
			      uint64_t runtime_ns, uint64_t faults)
{
	const struct wl_phase *ph = &s->phases[i];
	cJSON *j = cJSON_CreateObject();

	cJSON_AddItemToArray(phases, j);
	cJSON_AddStringToObject(j, "op", wl_phase_op_name(ph->op));
	if (ph->op != WL_PH_KHUGEPAGED_WAIT && ph->op != WL_PH_SLEEP)
		cJSON_AddStringToObject(j, "region", s->regions[ph->region].name);
	cJSON_AddNumberToObject(j, "runtime_ns", (double)runtime_ns);
	cJSON_AddNumberToObject(j, "faults", (double)faults);
	return j;
}
