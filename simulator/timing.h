/*
 * timing.h - the timing model of one simulated core: the core (core.h), its
 * MMU (mmu.h) and its memory hierarchy (memsys.h), and how MimicOS's work
 * is timed on them. The workload driver (driver.c) asks it to
 * translate, to access data, to replay the kernel's instruction stream and
 * to apply TLB shootdowns; it keeps the clock and the statistics.
 *
 * An access: mmu_translate() (L1 TLB, STLB, page-walk caches, a walk whose
 * entry reads go through the caches as translation traffic), then the data
 * access through the caches, then core_access() with the sum of both
 * latencies (a dependent load waits for the previous one). The core's
 * short latency (core.h: at or below it an access takes no MLP slot) is
 * therefore the L1 TLB's plus the L1D's: an access that hits both.
 *
 * A fault: the walk found no present leaf, or a write met a read-only one.
 * AMD re-walks the tables before raising a permission fault from a TLB
 * entry (so a permission upgrade without a flush, which Linux does not
 * flush on x86, does not fault): a protection fault from a cached entry is
 * retried once after dropping it. Then the driver asks MimicOS (FAULT);
 * timing_kernel() replays the request's instruction stream on this core's
 * caches and TLBs (the kernel's accesses go through the direct map: see
 * below), charges fault_entry_cycles + the stream + fault_exit_cycles as one
 * serialising interval (core_serialize()), and the shootdowns MimicOS
 * reported are applied before the access is retried.
 *
 * The fault window: what a fault's latency measures, defined here alone.
 * Linux's latency (bpf/vmtrace.bpf.c) runs from the
 * exceptions:page_fault_user tracepoint, which handle_page_fault() fires
 * once the CPU has delivered the exception and the entry code has run, to
 * the PAGE_FAULTS_MIN software event that mm_account_fault() emits at the
 * end of handle_mm_fault(): exception entry and exit (iret, the return to
 * user) lie outside it. So does the simulated one: a fault's latency is the
 * replayed stream alone (timing_kernel()'s return, counted in
 * fault_window_cycles); fault_entry_cycles before it and fault_exit_cycles
 * after it (fault_entry_exit_cycles) are the core's time all the same and
 * count in the phase's and the run's runtime, never in a latency. The
 * window begins at timing_kernel_begin_ns(), which stamps the fault's log
 * record as the tracepoint stamps Linux's. docs/fault-window.md compares
 * the two.
 *
 * The kernel's stream: READ/WRITE of entries and struct page lines, ZERO and
 * COPY of physical ranges, INSNS. Entry reads are dependent (a table walk in
 * software): their latencies add up. Stores (WRITE) overlap up to the
 * core's mlp: the sum of their latencies (direct-map translation included)
 * divided by mlp, rounded down, as memsys_bulk() divides its lines' (without
 * its one cycle per line: a lone store costs its latency / mlp). Bulk
 * clears and copies cost memsys_bulk(), plus their translations. Instructions
 * cost kernel_cpi each, their product rounded down. The kernel reaches physical memory through the direct
 * map: each access translates there (mmu_kernel_translate(): 2 MiB entries
 * of the kernel's address space in the same L1 2 MiB TLB and STLB the
 * workload uses), so the kernel pollutes this core's TLBs as well as its
 * caches.
 *
 * The calibration knobs (core.h; all 0, off, by default):
 *  - zero_bandwidth_gbs, copy_bandwidth_gbs: a ZERO or COPY costs
 *    len / bandwidth (bytes / GB/s = ns, times freq_mhz / 1000, rounded
 *    down) instead of what memsys_bulk() gives (which still moves its lines
 *    through the caches); its translations come on top. A measured
 *    streaming rate: not a sum of the lines' latencies over the user's
 *    memory parallelism (mlp).
 *  - fault_outside_window_cycles: per fault, charged with the exit (after
 *    the window), outside the window: the runtime grows, no latency does;
 *    counted in fault_entry_exit_cycles. System calls are not charged it.
 *  - first_touch_cycles_per_4k, cold_share: a fault whose stream clears
 *    user data (ZERO records of KSTREAM_SRC_DATA, not table pages) is cold
 *    with probability cold_share, drawn from its own stream of the run's
 *    seed (wl_rng_derive(seed, TIMING_COLD_STREAM), one draw per such
 *    fault, none when either knob is 0); a cold fault pays
 *    first_touch_cycles_per_4k per 4 KiB cleared inside the window (the
 *    hypervisor's EPT fault and host allocation, which a guest's Linux
 *    measures inside its latency). Faults that MAP_POPULATE runs in a
 *    system call do not pay it.
 *  - executor_cycles[pattern]: timing_set_pattern() (the driver, at each
 *    phase) makes every access of an access phase cost work_cycles +
 *    executor_cycles[its pattern] of work before it issues; other phases
 *    (touch) pay work_cycles alone.
 *
 * System calls (mmap, munmap, mprotect, madvise) are timed the same way,
 * with the same entry and exit costs. khugepaged runs on another CPU: its
 * stream pollutes the shared caches here (the LLC is the only shared
 * level in a real machine; here all levels belong to the one core) but
 * costs this core no time.
 */
#ifndef SIMULATOR_TIMING_H
#define SIMULATOR_TIMING_H

#include <stdbool.h>
#include <stdint.h>

#include "mimicos/channel.h"
#include "simulator/core.h"
#include "simulator/memsys.h"
#include "simulator/mmu.h"

struct timing_config {
	struct core_config core;
	struct mmu_config mmu;
	struct sa_config l1d, l2, llc;
	struct prefetch_config prefetch;
	struct dram_config dram;
};

/* Faults by what MimicOS did (from the FAULT response). */
#define TIMING_FAULT_KINDS(X)						\
	X(small)	/* a 4 KiB page allocated (do_anonymous_page, order 0) */ \
	X(mthp)		/* an mTHP folio (order 1..8) */			\
	X(thp)		/* a PMD-mapped THP allocated */			\
	X(zero)		/* the 4 KiB or huge zero page mapped */		\
	X(other)	/* COW, reuse, spurious: no new folio */

enum timing_fault_kind {
#define X(k) TIMING_FAULT_##k,
	TIMING_FAULT_KINDS(X)
#undef X
	TIMING_FAULT_NR
};

struct timing_stats {
	uint64_t cycles;			/* the clock (core_drain()) */
	uint64_t faults[TIMING_FAULT_NR];
	uint64_t fault_cycles;			/* entry + kernel work + exit, faults */
	uint64_t fault_window_cycles;		/* of which the kernel's work: the fault window */
	uint64_t fault_entry_exit_cycles;	/* of which entry, exit and the rest outside it */
	uint64_t syscall_cycles;		/* the same, system calls */
	uint64_t kernel_insns;			/* INSNS of both */
	uint64_t rewalks;			/* permission faults a re-walk cleared */
	uint64_t shootdowns;			/* ranges invalidated */
	uint64_t ipi_wait_cycles;		/* threads: waiting for a flush's cross-calls */
	uint64_t ipi_handle_cycles;		/* threads: running others' cross-calls */
	struct core_stats core;
	struct memsys_stats mem;
	struct dram_stats dram;
	struct sa_stats cache[MEMSYS_LEVELS];
	struct mmu_stats mmu;
};

/*
 * The sub-stream of the run's seed (wl_rng_derive()) that picks the cold
 * faults; far from the generator's phase streams (0, 1, ...).
 */
#define TIMING_COLD_STREAM	0x636f6c64746f7563ULL	/* "coldtouc" */
/* Core c > 0 of a run with threads draws from wl_rng_derive(seed, TIMING_CORE_STREAM + c). */
#define TIMING_CORE_STREAM	0x636f72655f726e67ULL	/* "core_rng" */

struct timing {
	struct timing_config cfg;
	struct wl_rng rng;
	struct wl_rng cold_rng;		/* which faults are cold (first_touch_cycles_per_4k) */
	struct core core;
	struct memsys ms;
	struct mmu mmu;
	uint64_t cr3;
	uint16_t asid;
	/* where the walker reads MimicOS's entries */
	uint64_t (*read_entry)(void *ctx, uint64_t paddr);
	void (*prefetch_entry)(void *ctx, uint64_t paddr);	/* optional */
	void *read_ctx;
	struct timing_stats stats;	/* the driver-level counters */
};

/*
 * Build the core, caches and MMU for an mm whose root table is at cr3
 * (levels 4 or 5); read_entry(ctx, paddr) gives the 8-byte entry at a
 * physical address (MimicOS's memory). 0, -EINVAL or -ENOMEM.
 */
int timing_init(struct timing *t, const struct timing_config *cfg, unsigned int levels,
		uint64_t cr3, uint64_t (*read_entry)(void *ctx, uint64_t paddr), void *ctx,
		uint64_t seed);
void timing_release(struct timing *t);

/*
 * Translate va for an access: 0 with *paddr and *cycles (translation
 * latency), or 1 when the access must fault (after the AMD re-walk).
 * Inline (called once per access); __timing_translate_fault() takes a
 * first translation 'r' that faulted the rest of the way.
 */
int __timing_translate_fault(struct timing *t, uint64_t va, bool write, struct mmu_result *r,
			     uint64_t *paddr, uint32_t *cycles);

static inline int timing_translate(struct timing *t, uint64_t va, bool write, uint64_t *paddr,
				   uint32_t *cycles)
{
	struct mmu_result r;

	mmu_translate(&t->mmu, t->cr3, t->asid, va, write, &r);
	if (__builtin_expect(r.fault != MMU_FAULT_NONE, 0))
		return __timing_translate_fault(t, va, write, &r, paddr, cycles);
	*cycles = r.cycles;
	*paddr = r.paddr;
	return 0;
}

/*
 * Look-ahead hints (mmu_prefetch()): va will be translated soon; to_data as
 * there. No effect on results. timing_set_prefetch_entry() gives the hint
 * of the entries' host copies (read_entry's ctx), when the driver has one.
 */
static inline void timing_prefetch(struct timing *t, uint64_t va, bool to_data)
{
	mmu_prefetch(&t->mmu, t->cr3, va, to_data);
}

void timing_set_prefetch_entry(struct timing *t, void (*fn)(void *ctx, uint64_t paddr));

/*
 * The data access after a translation of 'tcycles': caches, then the core
 * (inline: memsys_access()'s fast path then costs no call).
 */
static inline void timing_access(struct timing *t, uint64_t paddr, bool write, uint32_t tcycles,
				 bool dependent)
{
	uint32_t lat = memsys_access(&t->ms, paddr, write, MEMSYS_DATA);

	core_access(&t->core, tcycles + lat, dependent);
}

/*
 * What a fault or system call did, from its response: counted and timed
 * (entry, the stream, exit). Returns the stream's cycles alone: a fault's
 * window (see above). Background work (khugepaged) costs this core nothing.
 */
enum timing_kernel_kind { TIMING_KERNEL_FAULT, TIMING_KERNEL_SYSCALL, TIMING_KERNEL_BACKGROUND };
uint64_t timing_kernel(struct timing *t, enum timing_kernel_kind kind,
		       const struct mimicos_response *rs, const struct kstream *ks);

/*
 * The access pattern of the phase under way (enum wl_pattern), or -1
 * outside an access phase: each access then costs work_cycles plus that
 * pattern's executor_cycles (work_cycles alone for -1).
 */
void timing_set_pattern(struct timing *t, int pattern);

/* Apply a response's shootdowns: the TLB ranges MimicOS flushed (or all). */
void timing_shootdowns(struct timing *t, const struct mimicos_response *rs);

/*
 * TLB-flush cross-calls (a run with threads, mimicos/tlb.h): 'waits' flushes
 * of this core waited for theirs (core.ipi_wait_cycles each), or this core
 * ran 'calls' of another's (core.ipi_handle_cycles each); both serialise.
 */
void timing_ipi_wait(struct timing *t, uint32_t waits);
void timing_ipi_handle(struct timing *t, uint32_t calls);

/* Let 'ns' of simulated time pass with the core idle (a sleep). */
void timing_idle(struct timing *t, uint64_t ns);

/*
 * The core idles until its clock reads 'cycles' (nothing when it is past
 * it already, after draining): threads meeting. Returns the clock.
 */
uint64_t timing_idle_until(struct timing *t, uint64_t cycles);

/* The simulated time now (everything issued has completed), in ns. */
uint64_t timing_now_ns(struct timing *t);

/*
 * When the kernel's work of a fault or system call timed now would begin,
 * in ns: every access in flight completed (both serialise, as
 * core_serialize() drains), then the exception or system-call entry. Where
 * Linux's tracepoint stamps the same event (page_fault_user, sys_enter).
 * Reads the core without draining it.
 */
static inline uint64_t timing_kernel_begin_ns(const struct timing *t)
{
	uint64_t drained = t->core.horizon > t->core.now ? t->core.horizon : t->core.now;

	return core_ns(&t->core, drained + t->cfg.core.fault_entry_cycles);
}

/* The core's dispatch clock in ns, without draining (cheap; for polling). */
static inline uint64_t timing_clock_ns(const struct timing *t)
{
	return core_ns(&t->core, t->core.now);
}

/* The whole run's counters so far (component counters gathered). */
void timing_snapshot(struct timing *t, struct timing_stats *out);
/* out = b - a, counter by counter (a phase from two snapshots). */
void timing_stats_sub(struct timing_stats *out, const struct timing_stats *b,
		      const struct timing_stats *a);

const char *timing_fault_kind_name(enum timing_fault_kind k);

#endif
