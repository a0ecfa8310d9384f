/*
 * tlb.c - arch/x86/mm/tlb.c: mm_cpumask, lazy TLB and whom a flush reaches (tlb.h).
 */
#include <string.h>

#include "mimicos/memory.h"
#include "mimicos/mimicos.h"
#include "mimicos/tlb.h"
#include "workload/event.h"

#define NSEC_PER_SEC		1000000000ULL

/* enum tlb_flush_reason (include/linux/mm_types.h) */
#define TLB_REMOTE_SHOOTDOWN	1
#define TLB_LOCAL_MM_SHOOTDOWN	3
#define TLB_REMOTE_SEND_IPI	4
#define TLB_REMOTE_WRONG_CPU	5

static void cpu_set(uint64_t *mask, unsigned int cpu)
{
	mask[cpu / 64] |= 1ULL << (cpu % 64);
}

static void cpu_clear(uint64_t *mask, unsigned int cpu)
{
	mask[cpu / 64] &= ~(1ULL << (cpu % 64));
}

bool mm_cpumask_test(const struct mm_mem *mem, unsigned int cpu)
{
	return cpu < MIMICOS_MAX_CPUS && (mem->cpumask[cpu / 64] >> (cpu % 64) & 1);
}

void tlb_cpus_init(struct mimicos *os)
{
	for (unsigned int c = 0; c <= MIMICOS_MAX_CPUS; c++)
		os->cpus[c] = (struct cpu_tlbstate){ .task = c, .phase = VT_NO_PHASE };
	os->cpus[KHUGEPAGED_CPU].task = MIMICOS_TID_NONE;
}

void tlb_mm_init(struct mm_mem *mem, uint64_t now_ns)
{
	memset(mem->cpumask, 0, sizeof(mem->cpumask));
	mem->next_trim_cpumask_ns = now_ns + NSEC_PER_SEC;	/* init_new_context(): jiffies + HZ */
}

void switch_mm(struct mimicos *os, unsigned int cpu, struct mm_mem *next, uint32_t task)
{
	struct cpu_tlbstate *s = &os->cpus[cpu];

	s->is_lazy = false;
	s->loaded_mm = next;
	s->task = task;
	if (next && cpu < MIMICOS_MAX_CPUS)
		cpu_set(next->cpumask, cpu);
}

void enter_lazy_tlb(struct mimicos *os, unsigned int cpu)
{
	if (os->cpus[cpu].loaded_mm)
		os->cpus[cpu].is_lazy = true;
}

/* Whether CPU c runs a thread of the workload now: where its probes record. */
static bool runs_workload(const struct mimicos *os, unsigned int c)
{
	return c < MIMICOS_MAX_CPUS && os->cpus[c].loaded_mm && !os->cpus[c].is_lazy;
}

/* The phase of what CPU c runs (khugepaged's: the workload's, as its records have it). */
static int16_t phase_on(const struct mimicos *os, unsigned int c)
{
	return c < MIMICOS_MAX_CPUS ? os->cpus[c].phase : os->phase;
}

/* A record on CPU c, in 'phase': the tid of the thread it runs, if any. */
static void emit_on(struct mimicos *os, unsigned int c, int16_t phase, struct vt_event *ev)
{
	ev->ts = os->now_ns;
	ev->tid = runs_workload(os, c) ? os->cpus[c].task : MIMICOS_TID_NONE;
	ev->phase = phase;
	ev->cpu = c;
	os->events.event(os->events.ctx, ev);
}

/* trace_tlb_flush() on CPU c, recorded where the workload runs. */
static void trace_tlb_flush(struct mimicos *os, unsigned int c, int reason, long pages,
			    uint8_t source)
{
	struct vt_event ev = { .type = VT_TLB_FLUSH };

	if (!os->events.event || !runs_workload(os, c))
		return;
	ev.tlb.reason = reason;
	ev.tlb.pages = pages;
	ev.tlb.source = source;
	emit_on(os, c, phase_on(os, c), &ev);
}

/* A cross-call's record: queued on 'from' for 'to', or run on 'to' in the sender's phase. */
static void trace_ipi(struct mimicos *os, unsigned int from, unsigned int to, bool sent)
{
	struct vt_event ev = { .type = VT_IPI };

	if (!os->events.event)
		return;
	ev.ipi.sent = sent;
	ev.ipi.target = sent ? to : 0;
	emit_on(os, sent ? from : to, phase_on(os, from), &ev);
}

static bool should_trim_cpumask(struct mm_mem *mem)
{
	uint64_t now = mem->os->now_ns;

	if (now > mem->next_trim_cpumask_ns) {
		mem->next_trim_cpumask_ns = now + NSEC_PER_SEC;
		return true;
	}
	return false;
}

static bool should_flush_tlb(const struct mimicos *os, unsigned int c, const struct mm_mem *mem,
			     bool trim)
{
	if (os->cpus[c].is_lazy)
		return false;	/* flushed at its next switch */
	return os->cpus[c].loaded_mm == mem || trim;
}

static void flush_tlb_func(struct mm_mem *mem, unsigned int c, unsigned int initiator, long pages,
			   uint8_t source)
{
	struct mimicos *os = mem->os;
	struct cpu_tlbstate *s = &os->cpus[c];

	if (s->loaded_mm != mem) {
		/* the CPU was left in the mask: it leaves now */
		trace_tlb_flush(os, c, TLB_REMOTE_WRONG_CPU, 0, VT_TLB_SRC_OTHER_MM);
		cpu_clear(mem->cpumask, c);
		return;
	}
	if (s->is_lazy) {
		s->loaded_mm = NULL;	/* switch_mm_irqs_off(NULL, &init_mm) */
		s->is_lazy = false;
		return;
	}
	if (c == initiator)
		trace_tlb_flush(os, c, TLB_LOCAL_MM_SHOOTDOWN, pages, source);
	else
		trace_tlb_flush(os, c, TLB_REMOTE_SHOOTDOWN, pages,
				source == VT_TLB_SRC_KHUGEPAGED ? source : VT_TLB_SRC_SHOOTDOWN);
}

/* Another CPU than 'cpu' in the mask (cpumask_any_but() < nr_cpu_ids). */
static bool others_in_mask(const struct mm_mem *mem, unsigned int cpu)
{
	for (unsigned int w = 0; w < MIMICOS_CPUMASK_WORDS; w++) {
		uint64_t m = mem->cpumask[w];

		if (cpu / 64 == w)
			m &= ~(1ULL << (cpu % 64));
		if (m)
			return true;
	}
	return false;
}

void flush_tlb_mm_range(struct mm_mem *mem, unsigned int cpu, unsigned long start,
			unsigned long end, long pages, bool freed_tables, bool report,
			uint8_t source)
{
	struct mimicos *os = mem->os;

	if (others_in_mask(mem, cpu)) {
		bool trim = should_trim_cpumask(mem);
		uint64_t mask[MIMICOS_CPUMASK_WORDS], sent[MIMICOS_CPUMASK_WORDS] = { 0 };
		bool any = false;

		/* native_flush_tlb_multi(): traced whoever the cross-calls reach */
		trace_tlb_flush(os, cpu, TLB_REMOTE_SEND_IPI, pages, VT_TLB_SRC_IPI);
		memcpy(mask, mem->cpumask, sizeof(mask));
		for (unsigned int c = 0; c < MIMICOS_MAX_CPUS; c++) {
			if (!(mask[c / 64] >> (c % 64) & 1) ||
			    (!freed_tables && !should_flush_tlb(os, c, mem, trim)))
				continue;
			if (c != cpu) {
				trace_ipi(os, cpu, c, true);
				cpu_set(sent, c);
				any = true;
			}
			flush_tlb_func(mem, c, cpu, pages, source);
			if (c != cpu)
				trace_ipi(os, cpu, c, false);
		}
		if (any && mem->tlb.ipi)
			mem->tlb.ipi(mem->tlb.ctx, cpu, sent);
	} else if (cpu < MIMICOS_MAX_CPUS && os->cpus[cpu].loaded_mm == mem) {
		flush_tlb_func(mem, cpu, cpu, pages, source);
	}
	if (report && mem->tlb.flush)
		mem->tlb.flush(mem->tlb.ctx, start, end);
}
