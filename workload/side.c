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
