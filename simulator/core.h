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
 *   - with rob_cycles set, the core runs ahead of an unfinished access by
 *     at most that much work (the reorder buffer's reach): access i issues
 *     no earlier than access i - K retires (in order: at the latest
 *     completion up to it), K = rob_cycles / the work per access, at least 1.
 *     A pattern with much work per access (zipf's sampling) thus overlaps
 *     few misses, a light one (uniform) up to mlp.
 * Without rob_cycles the core runs ahead of outstanding misses (no ROB limit beyond mlp). A
 * fault is serialising: core_serialize() drains every access in flight,
 * then adds the handler's cycles. A phase's time is core_drain()'s: when the
 * last access completed.
 *
 * JSON (the "core" object; keys = field names):
 *   "freq_mhz": 4000           the clock every cycle count is in
 *   "work_cycles": 1           non-memory work between two accesses
 *   "mlp": 10                  independent misses in flight at once
 *   "fault_entry_cycles": 250  exception entry (trap, swapgs, entry code)
 *   "fault_exit_cycles": 200   exception return (iret, restore); both outside
 *                              the fault window (timing.h)
 *   "kernel_cpi": 1.0          cycles per kernel instruction (beside its memory accesses)
 *   "ipi_wait_cycles": 5000    threads: a TLB flush that made cross-calls
 *                              waits this long for them (send, the
 *                              targets' flush, the acknowledgement)
 *   "ipi_handle_cycles": 2500  threads: a cross-call's time on the core it
 *                              reaches (interrupt entry, flush_tlb_func(),
 *                              return); both estimates: Linux's tlb_ipis.
 *                              received_ns measures the second on a host
 *
 * Calibration knobs, all off (0) by default; timing.h says how each is
 * charged:
 *   "zero_bandwidth_gbs": 0    floor on a kernel clear: bytes / this GB/s
 *   "copy_bandwidth_gbs": 0    floor on a kernel copy: bytes / this GB/s
 *   "fault_outside_window_cycles": 0
 *                              per fault, beyond entry and exit, outside
 *                              the fault window (the core's time only)
 *   "first_touch_cycles_per_4k": 0
 *                              per 4 KiB of user data a fault clears, for a
 *                              cold fault (the hypervisor's first touch)
 *   "cold_share": 0            the share of allocating faults that are cold
 *   "executor_cycles": {"sequential": 0, "uniform": 0, "zipf": 0, "chase": 0}
 *                              the native executor's own work per access in
 *                              an access phase of that pattern, on top of
 *                              work_cycles (which every access pays)
 *   "rob_cycles": 0            the work the core runs ahead of its oldest
 *                              unfinished access (0: no limit but mlp)
 */
#ifndef SIMULATOR_CORE_H
#define SIMULATOR_CORE_H

#include <stdbool.h>
#include <stdint.h>

/* Access patterns of the workload format (workload/spec.h's enum wl_pattern). */
#define CORE_PATTERNS	4

struct core_config {
	uint32_t freq_mhz;
	uint32_t work_cycles;
	uint32_t mlp;
	uint32_t fault_entry_cycles;
	uint32_t fault_exit_cycles;
	double kernel_cpi;
	double zero_bandwidth_gbs;		/* 0: no floor */
	double copy_bandwidth_gbs;		/* 0: no floor */
	uint32_t fault_outside_window_cycles;
	uint32_t first_touch_cycles_per_4k;
	double cold_share;			/* [0, 1] */
	uint32_t executor_cycles[CORE_PATTERNS];	/* by enum wl_pattern */
	uint32_t rob_cycles;			/* 0: no limit */
	uint32_t ipi_wait_cycles;		/* a flush's wait for its cross-calls */
	uint32_t ipi_handle_cycles;		/* a cross-call's time on its target */
};

#define CORE_MAX_MLP	256		/* a power of two: the slots' ring */
#define CORE_MAX_ROB	256		/* accesses the reorder buffer's reach can span */

struct core_stats {
	uint64_t accesses;
	uint64_t dependent;		/* issued after the previous access completed */
	uint64_t long_misses;		/* took an mlp slot */
	uint64_t mlp_stall_cycles;	/* waiting for a free slot */
	uint64_t rob_stall_cycles;	/* waiting for the access rob_cycles of work back to retire */
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
	/*
	 * The reorder buffer (rob_cycles): rob_k accesses' retire times, a
	 * ring from rob_at (the oldest, the next to be overwritten); rob_k 0
	 * without a limit. last_retire: the latest retire time.
	 */
	uint64_t retire[CORE_MAX_ROB];
	uint32_t rob_k, rob_at;
	uint64_t last_retire;
	struct core_stats stats;
};

/* A core at cycle 0; short_latency: the L1 hit latency. -EINVAL for mlp 0 or > CORE_MAX_MLP. */
int core_init(struct core *c, const struct core_config *cfg, uint32_t short_latency);

#define CORE_RING_MASK	(CORE_MAX_MLP - 1)

_Static_assert((CORE_MAX_MLP & CORE_RING_MASK) == 0, "the slots' ring needs a power of two");

/*
 * core_access() runs once per access: inline, with the slots' ring in
 * locals (head, n), stored back once. The i-th earliest of the n times
 * from 'head' on:
 */
static inline uint64_t *__core_ring(struct core *c, uint32_t head, uint32_t i)
{
	return &c->slot[(head + i) & CORE_RING_MASK];
}

/* __core_insert()'s uncommon case (core.c). */
uint32_t __core_insert_between(struct core *c, uint32_t head, uint32_t n, uint64_t t);

/*
 * Add completion time t to the n sorted times from 'head' on, keeping them
 * sorted; returns the new head. The common cases, t the new latest or the
 * new earliest, cost a comparison each.
 */
static inline uint32_t __core_insert(struct core *c, uint32_t head, uint32_t n, uint64_t t)
{
	if (!n || *__core_ring(c, head, n - 1) <= t) {
		*__core_ring(c, head, n) = t;
		return head;
	}
	if (t <= *__core_ring(c, head, 0)) {
		*__core_ring(c, --head, 0) = t;
		return head;
	}
	return __core_insert_between(c, head, n, t);
}

/* One access of 'latency' cycles (translation + data); dependent: WL_ACC_DEP. */
static inline void core_access(struct core *c, uint32_t latency, bool dependent)
{
	uint64_t issue, done;

	c->stats.accesses++;
	issue = c->now + c->cfg.work_cycles;
	if (c->rob_k) {
		uint64_t r = c->retire[c->rob_at];

		if (r > issue) {
			c->stats.rob_stall_cycles += r - issue;
			issue = r;
		}
	}
	if (dependent) {
		c->stats.dependent++;
		if (c->last_complete > issue) {
			c->stats.dep_stall_cycles += c->last_complete - issue;
			issue = c->last_complete;
		}
	}
	if (latency > c->short_latency) {
		uint32_t head = c->head, n = c->nr_slots;

		c->stats.long_misses++;
		/* forget the misses complete by issue */
		while (n && *__core_ring(c, head, 0) <= issue) {
			head++;
			n--;
		}
		if (n == c->cfg.mlp) {
			/* wait for the earliest to complete and take its slot */
			uint64_t first = *__core_ring(c, head, 0);

			c->stats.mlp_stall_cycles += first - issue;
			issue = first;
			head++;
			n--;
		}
		done = issue + latency;
		c->head = __core_insert(c, head, n, done);
		c->nr_slots = n + 1;
	} else {
		done = issue + latency;
	}
	/* the core dispatches in order: a stalled issue holds what follows */
	c->now = issue;
	c->last_complete = done;
	if (done > c->horizon)
		c->horizon = done;
	if (c->rob_k) {
		/* it retires in order: once it and everything before it completed */
		if (done > c->last_retire)
			c->last_retire = done;
		c->retire[c->rob_at] = c->last_retire;
		if (++c->rob_at == c->rob_k)
			c->rob_at = 0;
	}
}

/*
 * The work per access changed (a phase of another pattern): cfg.work_cycles
 * and the reorder buffer's reach in accesses, K = rob_cycles / work (at
 * least 1, at most CORE_MAX_ROB); what is in flight stays.
 */
void core_set_work(struct core *c, uint32_t work_cycles);

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
