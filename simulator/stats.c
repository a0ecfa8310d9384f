/*
 * stats.c - the simulator's counters as JSON (see stats.h); the only file of
 * simulator/ that prints them.
 */
#include <cjson/cJSON.h>

#include "simulator/cache.h"
#include "simulator/dram.h"
#include "simulator/stats.h"

#define ADD_COUNTER(name)							\
	if (!cJSON_AddNumberToObject(obj, #name, (double)st->name))		\
		goto fail;

struct cJSON *sa_stats_to_json(const struct sa_stats *st)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	SA_STATS_LIST(ADD_COUNTER)
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

struct cJSON *dram_stats_to_json(const struct dram_stats *st)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	DRAM_STATS_LIST(ADD_COUNTER)
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}
