/*
 * stats.c - the simulator's counters as JSON (see stats.h); the only file of
 * simulator/ that prints them.
 */
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "simulator/cache.h"
#include "simulator/driver.h"
#include "simulator/dram.h"
#include "simulator/mmu.h"
#include "simulator/stats.h"
#include "simulator/timing.h"
#include "workload/tlbev.h"

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

struct cJSON *replay_stats_to_json(const struct driver_replay_stats *st)
{
	cJSON *obj = cJSON_CreateObject();

	if (!obj)
		return NULL;
	DRIVER_REPLAY_STATS_LIST(ADD_COUNTER)
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

/* An array counter as an object keyed by its element names. */
#define ADD_ARRAY(name, n, names)						\
	if (!(sub = cJSON_AddObjectToObject(obj, #name)))			\
		goto fail;							\
	for (int i = 0; i < (n); i++)						\
		if (!cJSON_AddNumberToObject(sub, names[i], (double)st->name[i])) \
			goto fail;

struct cJSON *mmu_stats_to_json(const struct mmu_stats *st)
{
	cJSON *obj = cJSON_CreateObject(), *sub;

	if (!obj)
		return NULL;
	MMU_STATS_LIST(ADD_COUNTER, ADD_ARRAY)
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

uint64_t mmu_tlb_event(const struct mmu_stats *st, int ev, bool stores)
{
	uint64_t all = 0, st_part = 0;

	switch (ev) {
	case TLB_EV_stlb_hit:
		for (int ps = 0; ps < MMU_PS_NR; ps++)
			all += st->stlb_hits[ps];
		st_part = st->store_stlb_hits;
		break;
	case TLB_EV_walk_completed:
		all = st->walks;
		st_part = st->store_walks;
		break;
	case TLB_EV_walk_found:
		for (int ps = 0; ps < MMU_PS_NR; ps++) {
			all += st->walks_found[ps];
			st_part += st->store_walks_found[ps];
		}
		break;
	case TLB_EV_walk_completed_4k:
	case TLB_EV_walk_completed_2m:
	case TLB_EV_walk_completed_1g:
		all = st->walks_found[MMU_4K + (ev - TLB_EV_walk_completed_4k)];
		st_part = st->store_walks_found[MMU_4K + (ev - TLB_EV_walk_completed_4k)];
		break;
	case TLB_EV_walk_cycles:
		all = st->walk_cycles;
		st_part = st->store_walk_cycles;
		break;
	default:
		return 0;
	}
	return stores ? st_part : all - st_part;
}

struct cJSON *mmu_tlb_events_to_json(const struct mmu_stats *st)
{
	static const char *const scope[2] = { "loads", "stores" };
	cJSON *obj = cJSON_CreateObject(), *o;

	for (int k = 0; obj && k < 2; k++) {
		if (!(o = cJSON_AddObjectToObject(obj, scope[k])) ||
		    !cJSON_AddNumberToObject(o, "accesses", (double)(k ? st->store_translations :
								      st->translations - st->store_translations)))
			goto fail;
		for (int ev = 0; ev < TLB_EV_NR; ev++)
			if (!cJSON_AddNumberToObject(o, tlb_event_name(ev),
						     (double)mmu_tlb_event(st, (enum tlb_event)ev, k)))
				goto fail;
	}
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

/* struct core_stats (core.h) */
static cJSON *core_stats_to_json(const struct core_stats *st)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddNumberToObject(obj, "accesses", (double)st->accesses);
	cJSON_AddNumberToObject(obj, "dependent", (double)st->dependent);
	cJSON_AddNumberToObject(obj, "long_misses", (double)st->long_misses);
	cJSON_AddNumberToObject(obj, "mlp_stall_cycles", (double)st->mlp_stall_cycles);
	cJSON_AddNumberToObject(obj, "rob_stall_cycles", (double)st->rob_stall_cycles);
	cJSON_AddNumberToObject(obj, "dep_stall_cycles", (double)st->dep_stall_cycles);
	cJSON_AddNumberToObject(obj, "serialize_cycles", (double)st->serialize_cycles);
	cJSON_AddNumberToObject(obj, "kernel_cycles", (double)st->kernel_cycles);
	return obj;
}

struct cJSON *memsys_stats_to_json(const struct memsys_stats *st,
				   const struct sa_stats *level)
{
	cJSON *obj = cJSON_CreateObject(), *lv, *cl, *d;

	for (int l = 0; l < MEMSYS_LEVELS; l++) {
		lv = cJSON_AddObjectToObject(obj, memsys_level_name((enum memsys_level)l));
		for (int c = 0; c < MEMSYS_CLASSES; c++) {
			cl = cJSON_AddObjectToObject(lv, memsys_class_name((enum memsys_class)c));
			cJSON_AddNumberToObject(cl, "hits", (double)st->hits[l][c]);
			cJSON_AddNumberToObject(cl, "misses", (double)st->misses[l][c]);
		}
		if (level)
			cJSON_AddItemToObject(lv, "structure", sa_stats_to_json(&level[l]));
	}
	d = cJSON_AddObjectToObject(obj, "dram_accesses");
	for (int c = 0; c < MEMSYS_CLASSES; c++)
		cJSON_AddNumberToObject(d, memsys_class_name((enum memsys_class)c), (double)st->dram[c]);
	cJSON_AddNumberToObject(obj, "writebacks", (double)st->writebacks);
	cJSON_AddNumberToObject(obj, "prefetches", (double)st->prefetches);
	cJSON_AddNumberToObject(obj, "prefetch_dram", (double)st->prefetch_dram);
	cJSON_AddNumberToObject(obj, "adjacent", (double)st->adjacent);
	cJSON_AddNumberToObject(obj, "adjacent_dram", (double)st->adjacent_dram);
	return obj;
}

struct cJSON *timing_stats_to_json(const struct timing_stats *st, uint32_t freq_mhz)
{
	cJSON *obj = cJSON_CreateObject(), *f;

	if (!obj)
		return NULL;
	cJSON_AddNumberToObject(obj, "cycles", (double)st->cycles);
	cJSON_AddNumberToObject(obj, "runtime_ns", (double)(st->cycles * 1000 / freq_mhz));
	f = cJSON_AddObjectToObject(obj, "faults");
	for (int k = 0; k < TIMING_FAULT_NR; k++)
		cJSON_AddNumberToObject(f, timing_fault_kind_name((enum timing_fault_kind)k),
					(double)st->faults[k]);
	cJSON_AddNumberToObject(obj, "fault_cycles", (double)st->fault_cycles);
	cJSON_AddNumberToObject(obj, "fault_window_cycles", (double)st->fault_window_cycles);
	cJSON_AddNumberToObject(obj, "fault_entry_exit_cycles",
				(double)st->fault_entry_exit_cycles);
	cJSON_AddNumberToObject(obj, "syscall_cycles", (double)st->syscall_cycles);
	cJSON_AddNumberToObject(obj, "kernel_cycles", (double)st->core.kernel_cycles);
	cJSON_AddNumberToObject(obj, "kernel_insns", (double)st->kernel_insns);
	cJSON_AddNumberToObject(obj, "rewalks", (double)st->rewalks);
	cJSON_AddNumberToObject(obj, "shootdowns", (double)st->shootdowns);
	cJSON_AddNumberToObject(obj, "ipi_wait_cycles", (double)st->ipi_wait_cycles);
	cJSON_AddNumberToObject(obj, "ipi_handle_cycles", (double)st->ipi_handle_cycles);
	cJSON_AddItemToObject(obj, "core", core_stats_to_json(&st->core));
	cJSON_AddItemToObject(obj, "mmu", mmu_stats_to_json(&st->mmu));
	cJSON_AddItemToObject(obj, "caches", memsys_stats_to_json(&st->mem, st->cache));
	cJSON_AddItemToObject(obj, "dram", dram_stats_to_json(&st->dram));
	return obj;
}
