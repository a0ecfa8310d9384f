/*
 * spec_json.c - a parsed spec back to JSON, normalised (virtuoso check).
 */
#include <cjson/cJSON.h>

#include "workload/size.h"
#include "workload/spec.h"

static void add_range(cJSON *o, const struct wl_spec *s, const struct wl_phase *p)
{
	cJSON_AddStringToObject(o, "region", s->regions[p->region].name);
	cJSON_AddNumberToObject(o, "offset", (double)p->offset);
	cJSON_AddNumberToObject(o, "length", (double)p->length);
}

static cJSON *kernel_to_json(const struct wl_kernel *k)
{
	cJSON *o = cJSON_CreateObject(), *m = cJSON_CreateObject(), *kh = cJSON_CreateObject();

	if (k->thp != WL_THP_HOST)
		cJSON_AddStringToObject(o, "thp", wl_thp_name(k->thp));
	if (k->defrag != WL_DEFRAG_HOST)
		cJSON_AddStringToObject(o, "defrag", wl_defrag_name(k->defrag));
	if (k->use_zero_page >= 0)
		cJSON_AddBoolToObject(o, "use_zero_page", k->use_zero_page);
	for (int i = 0; i < WL_MTHP_NR; i++) {
		char name[32];

		if (k->mthp[i] == WL_MTHP_HOST)
			continue;
		wl_size_format(WL_PAGE_SIZE << (i + WL_MTHP_MIN_ORDER), name, sizeof(name));
		cJSON_AddStringToObject(m, name, wl_mthp_name(k->mthp[i]));
	}
	for (int i = 0; i < WL_KHP_NR; i++) {
		const char *name = wl_khugepaged_key_name((enum wl_khugepaged_key)i);

		if (k->khugepaged[i] < 0)
			continue;
		if (i == WL_KHP_DEFRAG)
			cJSON_AddBoolToObject(kh, name, k->khugepaged[i] != 0);
		else
			cJSON_AddNumberToObject(kh, name, (double)k->khugepaged[i]);
	}
	if (m->child)
		cJSON_AddItemToObject(o, "mthp", m);
	else
		cJSON_Delete(m);
	if (kh->child)
		cJSON_AddItemToObject(o, "khugepaged", kh);
	else
		cJSON_Delete(kh);
	return o;
}

static cJSON *phase_to_json(const struct wl_spec *s, const struct wl_phase *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "op", wl_phase_op_name(p->op));
	if (p->op <= WL_PH_MUNMAP)
		add_range(o, s, p);
	switch (p->op) {
	case WL_PH_TOUCH:
		cJSON_AddNumberToObject(o, "stride", (double)p->stride);
		cJSON_AddStringToObject(o, "order", wl_order_name(p->order));
		cJSON_AddBoolToObject(o, "write", p->write);
		break;
	case WL_PH_ACCESS:
		cJSON_AddStringToObject(o, "pattern", wl_pattern_name(p->pattern));
		cJSON_AddNumberToObject(o, "count", (double)p->count);
		if (p->pattern != WL_PAT_CHASE)
			cJSON_AddNumberToObject(o, "write_fraction", p->write_fraction);
		cJSON_AddNumberToObject(o, "stride", (double)p->stride);
		if (p->pattern == WL_PAT_ZIPF)
			cJSON_AddNumberToObject(o, "zipf_s", p->zipf_s);
		break;
	case WL_PH_MADVISE:
		cJSON_AddStringToObject(o, "advice", wl_advice_name(p->advice));
		break;
	case WL_PH_MPROTECT:
		cJSON_AddStringToObject(o, "prot", wl_prot_name(p->prot));
		break;
	case WL_PH_MUNMAP:
		break;
	case WL_PH_KHUGEPAGED_WAIT:
		cJSON_AddNumberToObject(o, "full_scans", (double)p->full_scans);
		cJSON_AddNumberToObject(o, "timeout_ms", (double)p->timeout_ms);
		break;
	case WL_PH_SLEEP:
		cJSON_AddNumberToObject(o, "ms", (double)p->ms);
		break;
	case WL_PH_COMMAND:
		break;
	}
	if (s->version >= 2 && p->op <= WL_PH_MUNMAP) {
		cJSON *t = cJSON_AddArrayToObject(o, "threads");

		for (unsigned i = 0; i < s->threads; i++)
			if (wl_phase_runs(p, i))
				cJSON_AddItemToArray(t, cJSON_CreateNumber(i));
		if (p->op <= WL_PH_ACCESS)
			cJSON_AddStringToObject(o, "share", wl_share_name(p->share));
		if (p->concurrent)
			cJSON_AddBoolToObject(o, "concurrent", true);
	}
	return o;
}

cJSON *wl_spec_to_json(const struct wl_spec *s)
{
	cJSON *root = cJSON_CreateObject(), *regions, *phases;

	cJSON_AddStringToObject(root, "name", s->name);
	if (s->description)
		cJSON_AddStringToObject(root, "description", s->description);
	cJSON_AddNumberToObject(root, "seed", (double)s->seed);
	if (s->version >= 2) {
		cJSON_AddNumberToObject(root, "version", s->version);
		cJSON_AddNumberToObject(root, "threads", s->threads);
	}
	cJSON_AddItemToObject(root, "kernel", kernel_to_json(&s->kernel));
	regions = cJSON_AddArrayToObject(root, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		const struct wl_region *r = &s->regions[i];
		cJSON *o = cJSON_CreateObject(), *adv = cJSON_CreateArray();

		cJSON_AddStringToObject(o, "name", r->name);
		cJSON_AddNumberToObject(o, "size", (double)r->size);
		for (size_t j = 0; j < r->nr_advice; j++)
			cJSON_AddItemToArray(adv, cJSON_CreateString(wl_advice_name(r->advice[j])));
		cJSON_AddItemToObject(o, "advice", adv);
		cJSON_AddBoolToObject(o, "populate", r->populate);
		cJSON_AddItemToArray(regions, o);
	}
	phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < s->nr_phases; i++)
		cJSON_AddItemToArray(phases, phase_to_json(s, &s->phases[i]));
	return root;
}
