/*
 * stats.h - the simulator's one stats printer: every component's counter
 * struct becomes JSON here and nowhere else (stats.c), as ChampSim prints
 * all its counters from one JSON printer.
 *
 * Each function returns a new cJSON object (free with cJSON_Delete(), or
 * attach it to a larger tree) holding every counter of the struct, zeros
 * included, in the order of the struct's X-list, keys equal to the field
 * names; NULL if out of memory. Components' names and configurations are
 * the caller's to add around them.
 *
 * Here: the set-associative structure and DRAM.
 *
 *   sa_stats_to_json()		{"hits": 0, "misses": 0, "inserts": 0,
 *				 "evictions": 0, "dirty_evictions": 0,
 *				 "invalidations": 0}
 *   dram_stats_to_json()	{"reads": 0, "writes": 0, "row_hits": 0,
 *				 "row_misses": 0, "row_empty": 0}
 *   mmu_stats_to_json()	{"translations": 0,
 *				 "l1_hits": {"4k": 0, "2m": 0, "1g": 0}, "l1_misses": 0,
 *				 "stlb_hits": {...}, "stlb_misses": 0, "walks": 0,
 *				 "walk_cycles": 0,
 *				 "pwc_hits": {"pml5": 0, "pml4": 0, "pdpt": 0, "pd": 0},
 *				 "pwc_misses": {...},
 *				 "guest_refs": {"pt": 0, "pd": 0, "pdpt": 0, "pml4": 0,
 *				 "pml5": 0}, "host_refs": {...}, "ntlb_hits": 0,
 *				 "ntlb_misses": 0, "faults_not_present": 0,
 *				 "faults_protection": 0, "shootdowns": 0,
 *				 "shootdown_entries": 0, "flushes": 0}
 *				(arrays of struct mmu_stats as objects keyed by name)
 */
#ifndef SIMULATOR_STATS_H
#define SIMULATOR_STATS_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;
struct sa_stats;
struct dram_stats;
struct mmu_stats;

struct cJSON *sa_stats_to_json(const struct sa_stats *st);
struct cJSON *dram_stats_to_json(const struct dram_stats *st);
struct cJSON *mmu_stats_to_json(const struct mmu_stats *st);

/* A replay's counters (driver.h): {"syscalls", ..., "kernel_faults"}. */
struct driver_replay_stats;
struct cJSON *replay_stats_to_json(const struct driver_replay_stats *st);

/*
 * The MMU's counts under the hardware's events (workload/tlbev.h), the
 * user accesses' (the kernel's direct-map translations are apart, in
 * mmu_stats' kernel_*): {"loads": {"accesses", "stlb_hit",
 * "walk_completed", "walk_found", "walk_completed_4k", "walk_completed_2m",
 * "walk_completed_1g", "walk_cycles"}, "stores": {...}}. loads.walk_completed
 * is what Intel's DTLB_LOAD_MISSES.WALK_COMPLETED counts; the two scopes
 * added up what AMD's L1_DTLB_MISS.TLB_RELOAD_*_L2_MISS counts.
 */
struct cJSON *mmu_tlb_events_to_json(const struct mmu_stats *st);

/* Event ev (workload/tlbev.h's enum tlb_event) of the stores, or of the loads. */
uint64_t mmu_tlb_event(const struct mmu_stats *st, int ev, bool stores);

/*
 * The timed run's counters (timing.h), a phase's or the whole run's:
 * {"cycles", "runtime_ns", "faults": {kind: n}, "fault_cycles",
 *  "fault_window_cycles", "fault_entry_exit_cycles" (fault_cycles split at
 *  the fault window, timing.h), "syscall_cycles", "kernel_cycles", "kernel_insns", "rewalks", "shootdowns",
 *  "core": {...}, "mmu": mmu_stats, "caches": {"l1d"|"l2"|"llc": {"data"|
 *  "translation"|"kernel": {"hits", "misses"}, "structure": sa_stats},
 *  "dram_accesses": {class: n}, "writebacks"}, "dram": dram_stats}
 */
struct timing_stats;
struct memsys_stats;
struct cJSON *timing_stats_to_json(const struct timing_stats *st, uint32_t freq_mhz);
struct cJSON *memsys_stats_to_json(const struct memsys_stats *st,
				   const struct sa_stats *level);
#endif
