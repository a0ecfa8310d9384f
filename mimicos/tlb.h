/*
 * tlb.h - arch/x86/mm/tlb.c: which CPUs run an mm, lazy TLB, and whom a
 * flush reaches, as Linux 6.18 decides it on x86 without INVLPGB
 * broadcast (this kernel's CPUs here), with the tlb:tlb_flush records each
 * CPU writes.
 *
 * Per CPU (struct cpu_tlbstate): the mm it has loaded (cpu_tlbstate.
 * loaded_mm; NULL is init_mm), whether it is lazy (cpu_tlbstate_shared.
 * is_lazy: idle, the mm still loaded), the workload thread it last ran,
 * and the workload phase that thread is in. Per mm (struct mm_mem): its
 * mm_cpumask and next_trim_cpumask.
 *
 *   switch_mm()      switch_mm_irqs_off(): the CPU loads the mm (its bit set
 *                    in mm_cpumask, never cleared here: 6.18 leaves the
 *                    previous mm's bit for the flush path to clear) and is
 *                    no longer lazy
 *   enter_lazy_tlb() the CPU goes idle, the mm still loaded
 *   flush_tlb_mm_range()  on CPU 'cpu':
 *     another CPU in mm_cpumask -> flush_tlb_multi(): trim_cpumask =
 *       should_trim_cpumask() (true once the mm's next_trim_cpumask, set a
 *       second after the mm was made, has passed; then a second later);
 *       native_flush_tlb_multi() traces "remote IPI send" (pages, or -1
 *       past tlb_single_page_flush_ceiling), then runs flush_tlb_func() on
 *       every CPU of the mask when page tables were freed, else on those
 *       should_flush_tlb() picks: not lazy, and the mm loaded or the trim
 *       due. The initiating CPU's is its local flush; every other is a
 *       cross-call (a VT_IPI record queued on the sender, one run on the
 *       target)
 *     else the mm loaded here -> the local flush_tlb_func()
 *     else nothing (khugepaged's flush of an mm no CPU holds)
 *   flush_tlb_func() on CPU c:
 *     the mm not loaded there -> c leaves mm_cpumask, "remote wrong CPU" (0)
 *     lazy -> switch to init_mm (loaded_mm NULL), no record
 *     else "local MM shootdown" on the initiator, "remote shootdown"
 *     elsewhere
 *
 * Records are written only where Linux's probes see the workload: on a CPU
 * running one of its threads (loaded, not lazy), with that thread as tid;
 * an idle CPU's and khugepaged's own tlb:tlb_flush are not the workload's.
 * Cross-call records are written whoever runs them, as the csd tracepoints
 * record every cross-call of the mm's flushes.
 *
 * The TLB model hears every range (mm_tlb_trace.flush): every CPU's entries
 * go, since a lazy CPU or one that left the mask flushes before it runs
 * the mm again (the tlb_gen check of switch_mm_irqs_off()); and, once per
 * flush_tlb_multi() that made any, the CPUs its cross-calls went to
 * (mm_tlb_trace.ipi): their time, and the initiator's wait for them.
 */
#ifndef MIMICOS_TLB_H
#define MIMICOS_TLB_H

#include <stdbool.h>
#include <stdint.h>

/* CPUs the workload's threads may run on; mm_cpumask's width. */
#define MIMICOS_MAX_CPUS	256
#define MIMICOS_CPUMASK_WORDS	(MIMICOS_MAX_CPUS / 64)
/* khugepaged's CPU: none of the workload's (it runs on another one). */
#define KHUGEPAGED_CPU		MIMICOS_MAX_CPUS
/* tid of a record on a CPU that runs no thread of the workload (khugepaged's, idle). */
#define MIMICOS_TID_NONE	0xffffffffu

struct mimicos;
struct mm_mem;

struct cpu_tlbstate {
	struct mm_mem *loaded_mm;	/* NULL: init_mm */
	bool is_lazy;
	uint32_t task;			/* the workload thread it runs, or ran last */
	int16_t phase;			/* that thread's phase (MIMICOS_REQ_PHASE) */
};

/* Every CPU with nothing loaded; CPU c's thread is c until switch_mm() says otherwise. */
void tlb_cpus_init(struct mimicos *os);
/* A new mm: no CPU in its mask, its first trim a second after 'now_ns'. */
void tlb_mm_init(struct mm_mem *mem, uint64_t now_ns);

void switch_mm(struct mimicos *os, unsigned int cpu, struct mm_mem *next, uint32_t task);
void enter_lazy_tlb(struct mimicos *os, unsigned int cpu);

/* Whether 'cpu' is in the mm's mm_cpumask. */
bool mm_cpumask_test(const struct mm_mem *mem, unsigned int cpu);

/*
 * The flush of [start, end) of 'mem' from 'cpu', as above. 'report': tell
 * the TLB model the range (a fault's own flush reports it in its result
 * instead); 'pages' the records' count (-1 a full flush); 'source' the
 * initiator's enum vt_tlb_source.
 */
void flush_tlb_mm_range(struct mm_mem *mem, unsigned int cpu, unsigned long start,
			unsigned long end, long pages, bool freed_tables, bool report,
			uint8_t source);

#endif
