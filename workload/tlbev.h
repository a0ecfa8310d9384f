/*
 * tlbev.h - the data-TLB events both worlds count, by meaning: the one
 * table that ties a hardware counter of the Linux side (linux-probes/
 * counters.h opens them through libpfm4) to the simulator's statistic of
 * the same meaning (simulator/mmu.h; sim.json's phases[i].tlb_events), so
 * that the comparison (compare/compare.c) pairs them by name.
 *
 * X(name, what it counts, Intel's event, AMD Zen's event). Every event is
 * counted for one scope of accesses: loads, stores, or both. Intel splits
 * its events into loads (DTLB_LOAD_MISSES, MEM event 0x08 / SPR 0x12) and
 * stores (DTLB_STORE_MISSES, 0x49 / 0x13); AMD's L1_DTLB_MISS (event 0x45,
 * ls_l1_d_tlb_miss in the PPR) counts loads and stores together. A Linux
 * counter records the scope of the candidate that opened
 * (linux.json's counter_events.NAME.counts); the simulated side counts
 * loads and stores apart, and the comparison adds them up where the
 * hardware does.
 *
 *   stlb_hit		an access that missed the first-level DTLB and hit
 *			the second (Intel's STLB, AMD's L2 DTLB), any page size
 *   walk_completed	an access that missed every DTLB level and walked:
 *			Intel counts walks that end in a page fault too ("Includes
 *			page walks that page fault"), and so does the simulator
 *   walk_found		the walks that found a page and reloaded the TLB: AMD
 *			counts reloads (TLB_RELOAD_*), so a walk that faults is
 *			not among them; the simulator's walk_completed less its
 *			faulting walks. The two differ by the faults of a phase
 *   walk_completed_4k/2m/1g  of those, the walks that found a page of that
 *			size (a faulting walk found none). AMD's coalesced
 *			16 KiB entries are four 4 KiB pages: counted as 4k
 *   walk_cycles	cycles with a walk in flight (Intel's WALK_ACTIVE, one
 *			walk at a time counted once; AMD has no such event). The
 *			simulator walks one translation at a time, so its sum of
 *			walk latencies is the same quantity
 *
 * The first-level misses are stlb_hit + walk_completed on both sides (the
 * comparison derives them; Intel has no event of its own for them).
 */
#ifndef WORKLOAD_TLBEV_H
#define WORKLOAD_TLBEV_H

#define TLB_EVENTS(X)								\
	X(stlb_hit, "missed the first-level DTLB, hit the second (STLB)",	\
	  "DTLB_{LOAD,STORE}_MISSES.STLB_HIT",					\
	  "L1_DTLB_MISS.TLB_RELOAD_{4K,COALESCED_PAGE,2M,1G}_L2_HIT")		\
	X(walk_completed, "missed every DTLB level and walked (faulting walks included)", \
	  "DTLB_{LOAD,STORE}_MISSES.WALK_COMPLETED", "(none: AMD counts reloads)") \
	X(walk_found, "walked and found a page (the TLB reloaded)",		\
	  "(the WALK_COMPLETED_* sizes added up)",				\
	  "L1_DTLB_MISS.TLB_RELOAD_{4K,COALESCED_PAGE,2M,1G}_L2_MISS")		\
	X(walk_completed_4k, "walks that found a 4 KiB page",			\
	  "DTLB_{LOAD,STORE}_MISSES.WALK_COMPLETED_4K",				\
	  "L1_DTLB_MISS.TLB_RELOAD_{4K,COALESCED_PAGE}_L2_MISS")		\
	X(walk_completed_2m, "walks that found a 2 MiB page",			\
	  "DTLB_{LOAD,STORE}_MISSES.WALK_COMPLETED_2M_4M",			\
	  "L1_DTLB_MISS.TLB_RELOAD_2M_L2_MISS")				\
	X(walk_completed_1g, "walks that found a 1 GiB page",			\
	  "DTLB_{LOAD,STORE}_MISSES.WALK_COMPLETED_1G",				\
	  "L1_DTLB_MISS.TLB_RELOAD_1G_L2_MISS")					\
	X(walk_cycles, "cycles with a page walk in flight",			\
	  "DTLB_LOAD_MISSES.WALK_ACTIVE", "(none)")

enum tlb_event {
#define TLB_EVENT_ENUM(name, ...) TLB_EV_##name,
	TLB_EVENTS(TLB_EVENT_ENUM)
#undef TLB_EVENT_ENUM
	TLB_EV_NR,
	TLB_EV_NONE = -1,	/* a counter that is no TLB event (software faults) */
};

/*
 * Which accesses a count covers. "unknown": perf's generic events
 * (PERF_COUNT_HW_CACHE_DTLB), whose meaning is whatever the kernel's PMU
 * driver maps them to (on Intel the load walks, on AMD every L1 DTLB
 * miss): recorded, never compared.
 */
#define TLB_SCOPES(X)				\
	X(none, "none")				\
	X(loads, "loads")			\
	X(stores, "stores")			\
	X(loads_stores, "loads+stores")		\
	X(unknown, "unknown")

enum tlb_scope {
#define TLB_SCOPE_ENUM(name, str) TLB_SCOPE_##name,
	TLB_SCOPES(TLB_SCOPE_ENUM)
#undef TLB_SCOPE_ENUM
	TLB_SCOPE_NR
};

/* "stlb_hit", ...; NULL out of range */
const char *tlb_event_name(int ev);
const char *tlb_event_desc(int ev);
/* TLB_EV_x of a name, or TLB_EV_NONE */
int tlb_event_from_name(const char *name);
/* "loads", "loads+stores", ...; NULL out of range */
const char *tlb_scope_name(int scope);
/* TLB_SCOPE_x of a name, or -1 */
int tlb_scope_from_name(const char *name);

#endif
