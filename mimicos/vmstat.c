/*
 * vmstat.c - counter names and the one JSON printer of MimicOS's counters
 * (mm/vmstat.c's vmstat_text and huge_memory.c's per-size stats files).
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mimicos/vmstat.h"

static const char *const vm_event_names[NR_VM_EVENT_ITEMS] = {
#define X(item, name) [item] = #name,
	VM_EVENT_ITEMS(X)
#undef X
};

static const char *const mthp_stat_names[__MTHP_STAT_COUNT] = {
#define X(item, name) [item] = #name,
	MTHP_STAT_ITEMS(X)
#undef X
};

const char *vm_event_name(enum vm_event_item item)
{
	return (unsigned)item < NR_VM_EVENT_ITEMS ? vm_event_names[item] : "?";
}

const char *mthp_stat_name(enum mthp_stat_item item)
{
	return (unsigned)item < __MTHP_STAT_COUNT ? mthp_stat_names[item] : "?";
}

void vm_events_init(struct vm_events *ev)
{
	memset(ev, 0, sizeof(*ev));
}

struct cJSON *vm_events_to_json(const struct vm_events *ev)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *vmstat = cJSON_AddObjectToObject(root, "vmstat");
	cJSON *mthp = cJSON_AddObjectToObject(root, "mthp");

	if (!vmstat || !mthp)
		goto fail;
	for (int i = 0; i < NR_VM_EVENT_ITEMS; i++)
		if (!cJSON_AddNumberToObject(vmstat, vm_event_names[i], (double)ev->event[i]))
			goto fail;
	for (int order = MTHP_STAT_MIN_ORDER; order < MTHP_STAT_NR_ORDERS; order++) {
		char dir[32];
		cJSON *size;

		/* thpsize_create(): "hugepages-%lukB" */
		snprintf(dir, sizeof(dir), "hugepages-%lukB", (PAGE_SIZE << order) >> 10);
		size = cJSON_AddObjectToObject(mthp, dir);
		if (!size)
			goto fail;
		for (int i = 0; i < __MTHP_STAT_COUNT; i++)
			if (!cJSON_AddNumberToObject(size, mthp_stat_names[i],
						     (double)ev->mthp[order][i]))
				goto fail;
	}
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}
