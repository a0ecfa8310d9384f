/*
 * core.h - the core timing model: an interval model, honest and simple.
 *
 * Time is in core cycles. Each access first costs work_cycles of non-memory
 * work (dispatch), then is issued:
 *   - an independent access issues at once; a dependent load (WL_ACC_DEP:
 *     its address is the value the previous load returned, a pointer chase)
 *     issues when the previous access completes: chains serialise fully;
 *   - an access that misses the L1 (latency above the L1 hit latency) is a
 *     long-latency miss and needs one of 'mlp' slots: with all taken, issue
 *     waits for the earliest to complete (memory-level parallelism);
 *   - it completes at issue + its latency (translation and data).
 * The core runs ahead of outstanding misses (no ROB limit beyond mlp). A
 * fault is serialising: core_serialize() drains every access in flight,
 * then adds the handler's cycles. A phase's time is core_drain()'s: when the
 * last access completed.
 *
 * JSON (the "core" object; keys = field names):
 *   "freq_mhz": 4000           the clock every cycle count is in
 *   "work_cycles": 1           non-memory work between two accesses
 *   "mlp": 10                  independent misses in flight at once
 *   "fault_entry_cycles": 250  exception entry (trap, swapgs, entry code)
 *   "fault_exit_cycles": 200   exception return (iret, restore)
 *   "kernel_cpi": 1.0          cycles per kernel instruction (beside its memory accesses)
 */
#ifndef SIMULATOR_CORE_H
#define SIMULATOR_CORE_H

#include <stdbool.h>
#include <stdint.h>

struct core_config {
	uint32_t freq_mhz;
	uint32_t work_cycles;
	uint32_t mlp;
	uint32_t fault_entry_cycles;
	uint32_t fault_exit_cycles;
	double kernel_cpi;
};

#define CORE_MAX_MLP	256		/* a power of two: the slots' ring */

struct core_stats {
	uint64_t accesses;
	uint64_t dependent;		/* issued after the previous access completed */
	uint64_t long_misses;		/* took an mlp slot */
	uint64_t mlp_stall_cycles;	/* waiting for a free slot */
	uint64_t dep_stall_cycles;	/* waiting for the previous access */
	uint64_t serialize_cycles;	/* draining before a fault */
	uint64_t kernel_cycles;		/* fault handling: entry, kernel work, exit */
};

struct core {
	struct core_config cfg;
	uint32_t short_latency;		/* at or below: an L1 hit, no slot */
	uint64_t now;			/* cycle the next access dispatches at */
	uint64_t last_complete;		/* the previous access's completion */
	uint64_t horizon;		/* the latest completion of anything issued */
	/*
	 * The completion times of the misses in flight, sorted, earliest
	 * first: nr_slots of them from slot[head] on, in a ring (indices mod
	 * CORE_MAX_MLP). Only the earliest is ever asked for and the model
	 * depends on the set of times alone: a ring because a new miss
	 * almost always completes first (a short one behind long misses) or
	 * last (similar misses in a row), and both ends take it at once.
	 */
	uint64_t slot[CORE_MAX_MLP];
	uint32_t head;
	uint32_t nr_slots;
	struct core_stats stats;
};

/* A core at cycle 0; short_latency: the L1 hit latency. -EINVAL for mlp 0 or > CORE_MAX_MLP. */
int core_init(struct core *c, const struct core_config *cfg, uint32_t short_latency);

/* One access of 'latency' cycles (translation + data); dependent: WL_ACC_DEP. */
void core_access(struct core *c, uint32_t latency, bool dependent);

/* Drain everything in flight, then spend 'cycles' serialised (a fault). */
void core_serialize(struct core *c, uint64_t cycles);

/* Drain: the cycle at which everything issued so far has completed (also the new now). */
uint64_t core_drain(struct core *c);

/* Cycles to nanoseconds at cfg.freq_mhz. */
static inline uint64_t core_ns(const struct core *c, uint64_t cycles)
{
	return cycles * 1000 / c->cfg.freq_mhz;
}

#endif
