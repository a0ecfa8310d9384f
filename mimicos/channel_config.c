/*
 * channel_config.c - MimicOS's configuration (struct channel_config,
 * channel.h): the defaults, the JSON reader and the echo of the effective
 * configuration.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mimicos/channel.h"
#include "workload/json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *channel_mode_name(enum channel_mode m)
{
	return m == CHANNEL_OUT_OF_PROCESS ? "out-of-process" : "in-process";
}

void channel_config_init(struct channel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = CHANNEL_IN_PROCESS;
	cfg->cores = 1;
	cfg->mem_bytes = 1ULL << 30;
	cfg->levels = 4;
	cfg->nr_mms = 1;
	cfg->seed = 1;
	cfg->stream_ring_records = 65536;
	thp_settings_init(&cfg->thp);
	/* Estimates (see struct kstream_cost), to be calibrated against Linux. */
	cfg->cost = (struct kstream_cost){
		.fault = 320, .mmap = 900, .munmap = 700, .mprotect = 800, .madvise = 500,
		.advance = 50, .entry_read = 5, .entry_write = 8, .page_alloc = 30,
		.page_free = 25, .zero_page = 2, .copy_page = 4, .tlb_flush = 40, .khugepaged_pass = 300,
		.khugepaged_event = 100,
	};
	snprintf(cfg->policy, sizeof(cfg->policy), "linux");
	reservation_config_init(&cfg->reservation);
}

static const char *const mode_names[] = { "in-process", "out-of-process" };
static const char *const size_names[PMD_ORDER + 1] = {
	[2] = "16kB", [3] = "32kB", [4] = "64kB", [5] = "128kB", [6] = "256kB",
	[7] = "512kB", [8] = "1024kB", [9] = "2048kB",
};

#define COST_FIELDS(X) X(fault) X(mmap) X(munmap) X(mprotect) X(madvise) X(advance) \
	X(entry_read) X(entry_write) X(page_alloc) X(page_free) X(zero_page) X(copy_page) \
	X(tlb_flush) \
	X(khugepaged_pass) X(khugepaged_event) X(pcp_refill) X(pcp_refill_block) X(lru_add)
#define KHP_UINT_FIELDS(X) X(scan_sleep_millisecs, 0, UINT32_MAX) \
	X(alloc_sleep_millisecs, 0, UINT32_MAX) X(pages_to_scan, 1, UINT32_MAX) \
	X(max_ptes_none, 0, 511) X(max_ptes_swap, 0, 511) X(max_ptes_shared, 0, 511)
#define MODULE_FIELDS(X) X(thp) X(mthp) X(huge_zero_page) X(khugepaged)

static int enum_key(const struct wj_ctx *c, const cJSON *o, const char *path, const char *key,
		    const char *const *names, size_t n, int *out)
{
	return wj_enum(c, o, path, key, false, names, n, out) < 0 ? -1 : 0;
}

static int thp_from_json(const struct wj_ctx *c, const cJSON *o, struct thp_settings *t)
{
	static const char *const keys[] = { "enabled", "defrag", "use_zero_page", "size",
					    "khugepaged", "modules", NULL };
	static const char *const khp_keys[] = {
#define X(f, lo, hi) #f,
		KHP_UINT_FIELDS(X)
#undef X
		"defrag", NULL };
	static const char *const module_keys[] = {
#define X(f) #f,
		MODULE_FIELDS(X)
#undef X
		NULL };
	const cJSON *sub;
	uint64_t u;
	int v;

	if (wj_check_object(c, o, "thp", "the THP settings", keys))
		return -1;
	v = (int)t->enabled;
	if (enum_key(c, o, "thp", "enabled", thp_enabled_names, THP_ENABLED_NR, &v))
		return -1;
	t->enabled = (enum thp_enabled)v;
	v = (int)t->defrag;
	if (enum_key(c, o, "thp", "defrag", thp_defrag_names, THP_DEFRAG_NR, &v))
		return -1;
	t->defrag = (enum thp_defrag)v;
	if (wj_bool(c, o, "thp", "use_zero_page", false, &t->use_zero_page) < 0)
		return -1;
	if ((sub = cJSON_GetObjectItemCaseSensitive(o, "size"))) {
		static const char *const skeys[] = { "16kB", "32kB", "64kB", "128kB", "256kB",
						     "512kB", "1024kB", "2048kB", NULL };

		if (wj_check_object(c, sub, "thp.size", "the per-size modes", skeys))
			return -1;
		for (int order = 2; order <= PMD_ORDER; order++) {
			v = (int)t->size[order];
			if (enum_key(c, sub, "thp.size", size_names[order], thp_size_mode_names,
				     THP_SIZE_NR, &v))
				return -1;
			t->size[order] = (enum thp_size_mode)v;
		}
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(o, "khugepaged"))) {
		if (wj_check_object(c, sub, "thp.khugepaged", "the khugepaged settings", khp_keys))
			return -1;
#define X(f, lo, hi)								\
		if (wj_uint(c, sub, "thp.khugepaged", #f, false, lo, hi, &u) < 0)	\
			return -1;						\
		if (cJSON_GetObjectItemCaseSensitive(sub, #f))			\
			t->khugepaged.f = (unsigned int)u;
		KHP_UINT_FIELDS(X)
#undef X
		if (wj_bool(c, sub, "thp.khugepaged", "defrag", false, &t->khugepaged.defrag) < 0)
			return -1;
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(o, "modules"))) {
		if (wj_check_object(c, sub, "thp.modules", "the module switches", module_keys))
			return -1;
#define X(f) if (wj_bool(c, sub, "thp.modules", #f, false, &t->modules.f) < 0) return -1;
		MODULE_FIELDS(X)
#undef X
	}
	return 0;
}

int channel_config_from_json(struct channel_config *cfg, const struct cJSON *obj,
			     const char *file, struct wl_error *err)
{
	static const char *const keys[] = { "mode", "cores", "mem_bytes", "start_pfn", "levels",
					    "nr_mms", "seed", "stream_ring_records", "thp",
					    "cost", "policy", "reservation", NULL };
	static const char *const cost_keys[] = {
#define X(f) #f,
		COST_FIELDS(X)
#undef X
		NULL };
	struct wj_ctx c = { .file = file, .err = err };
	const cJSON *sub;
	uint64_t u;
	int v, r;

	if (wj_check_object(&c, obj, "", "MimicOS's configuration", keys))
		return -1;
	v = (int)cfg->mode;
	if (enum_key(&c, obj, "", "mode", mode_names, ARRAY_SIZE(mode_names), &v))
		return -1;
	cfg->mode = (enum channel_mode)v;
	if ((r = wj_uint(&c, obj, "", "cores", false, 1, CHANNEL_MAX_CORES, &u)) < 0)
		return -1;
	if (r)
		cfg->cores = (unsigned int)u;
	if ((r = wj_size(&c, obj, "", "mem_bytes", false, &u)) < 0)
		return -1;
	if (r && (!u || u % (4ULL << 20) || u > (1ULL << 40)))
		return wj_fail(&c, "", "mem_bytes", "expected a multiple of 4 MiB up to 1 TiB");
	if (r)
		cfg->mem_bytes = u;
	if ((r = wj_uint(&c, obj, "", "start_pfn", false, 0, 1ULL << 40, &u)) < 0)
		return -1;
	if (r && u % MAX_ORDER_NR_PAGES)
		return wj_fail(&c, "", "start_pfn", "expected a multiple of 1024");
	if (r)
		cfg->start_pfn = u;
	if ((r = wj_uint(&c, obj, "", "levels", false, 4, 5, &u)) < 0)
		return -1;
	if (r)
		cfg->levels = (unsigned int)u;
	if ((r = wj_uint(&c, obj, "", "nr_mms", false, 1, CHANNEL_MAX_MMS, &u)) < 0)
		return -1;
	if (r)
		cfg->nr_mms = (unsigned int)u;
	if ((r = wj_uint(&c, obj, "", "seed", false, 0, WJ_MAX_EXACT, &u)) < 0)
		return -1;
	if (r)
		cfg->seed = u;
	if ((r = wj_uint(&c, obj, "", "stream_ring_records", false, 16, 1ULL << 24, &u)) < 0)
		return -1;
	if (r && (u & (u - 1)))
		return wj_fail(&c, "", "stream_ring_records", "expected a power of two");
	if (r)
		cfg->stream_ring_records = (uint32_t)u;
	if ((sub = cJSON_GetObjectItemCaseSensitive(obj, "thp")) && thp_from_json(&c, sub, &cfg->thp))
		return -1;
	if ((sub = cJSON_GetObjectItemCaseSensitive(obj, "cost"))) {
		if (wj_check_object(&c, sub, "cost", "the cost model", cost_keys))
			return -1;
#define X(f)									\
		if ((r = wj_uint(&c, sub, "cost", #f, false, 0, UINT32_MAX, &u)) < 0)	\
			return -1;						\
		if (r)								\
			cfg->cost.f = (uint32_t)u;
		COST_FIELDS(X)
#undef X
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(obj, "policy"))) {
		if (!cJSON_IsString(sub) ||
		    (strcmp(sub->valuestring, "linux") && strcmp(sub->valuestring, "reservation")))
			return wj_fail(&c, "", "policy", "expected \"linux\" or \"reservation\"");
		snprintf(cfg->policy, sizeof(cfg->policy), "%s", sub->valuestring);
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(obj, "reservation")) &&
	    reservation_config_parse(&cfg->reservation, sub, file, "reservation", err))
		return -1;
	return 0;
}

cJSON *channel_config_to_json(const struct channel_config *cfg)
{
	cJSON *root = cJSON_CreateObject(), *thp, *o;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "mode", channel_mode_name(cfg->mode));
	cJSON_AddNumberToObject(root, "cores", cfg->cores);
	cJSON_AddNumberToObject(root, "mem_bytes", (double)cfg->mem_bytes);
	cJSON_AddNumberToObject(root, "start_pfn", (double)cfg->start_pfn);
	cJSON_AddNumberToObject(root, "levels", cfg->levels);
	cJSON_AddNumberToObject(root, "nr_mms", cfg->nr_mms);
	cJSON_AddNumberToObject(root, "seed", (double)cfg->seed);
	cJSON_AddNumberToObject(root, "stream_ring_records", cfg->stream_ring_records);
	thp = cJSON_AddObjectToObject(root, "thp");
	cJSON_AddStringToObject(thp, "enabled", thp_enabled_name(cfg->thp.enabled));
	cJSON_AddStringToObject(thp, "defrag", thp_defrag_name(cfg->thp.defrag));
	cJSON_AddBoolToObject(thp, "use_zero_page", cfg->thp.use_zero_page);
	o = cJSON_AddObjectToObject(thp, "size");
	for (int order = 2; order <= PMD_ORDER; order++)
		cJSON_AddStringToObject(o, size_names[order], thp_size_mode_name(cfg->thp.size[order]));
	o = cJSON_AddObjectToObject(thp, "khugepaged");
#define X(f, lo, hi) cJSON_AddNumberToObject(o, #f, cfg->thp.khugepaged.f);
	KHP_UINT_FIELDS(X)
#undef X
	cJSON_AddBoolToObject(o, "defrag", cfg->thp.khugepaged.defrag);
	o = cJSON_AddObjectToObject(thp, "modules");
#define X(f) cJSON_AddBoolToObject(o, #f, cfg->thp.modules.f);
	MODULE_FIELDS(X)
#undef X
	o = cJSON_AddObjectToObject(root, "cost");
#define X(f) cJSON_AddNumberToObject(o, #f, cfg->cost.f);
	COST_FIELDS(X)
#undef X
	cJSON_AddStringToObject(root, "policy", cfg->policy);
	if (!strcmp(cfg->policy, "reservation"))
		cJSON_AddItemToObject(root, "reservation", reservation_config_to_json(&cfg->reservation));
	return root;
}
