/*
 * mimicos.h - the kernel instance: struct mimicos (one simulated machine:
 * the zone, its physical memory, the THP settings, the counters, the zero
 * pages, the folios in use, khugepaged's and the policy's state) and where
 * its events go. Set up and released by memory.c (mimicos_init(),
 * mimicos_release()); every mechanism takes it as 'os'.
 */
#ifndef MIMICOS_MIMICOS_H
#define MIMICOS_MIMICOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mimicos/huge_memory.h"
#include "mimicos/page_alloc.h"
#include "mimicos/pgtable.h"
#include "mimicos/swap.h"
#include "mimicos/tlb.h"
#include "mimicos/vmstat.h"

/* enum vt_cause values MimicOS uses (workload/event.h). */
#define MIMICOS_CAUSE_OTHER		0
#define MIMICOS_CAUSE_KHUGEPAGED	2
#define MIMICOS_CAUSE_MADV_COLLAPSE	3

struct thp_policy_ops;
struct khugepaged;
struct vt_event;
struct folio;
struct mimicos;

/*
 * Where MimicOS's events go, in the Linux side's event model (struct
 * vt_event of workload/event.h, the records of events.vlog), so the comparison
 * matches both worlds by type and name:
 *
 *   VT_FAULT      every user fault handle_mm_fault() is asked for (also
 *                 the SIGSEGV ones, completed = 0): addr, error_code (P if
 *                 the hardware found a present entry, W, U, I), the
 *                 allocations made while it ran folded in (the first
 *                 VT_FAULT_ALLOCS; nr_allocs counts all), rss_anon after
 *                 it in bytes; latency_ns 0 (the timing simulator's)
 *   VT_ALLOC      an allocation outside a fault and outside a collapse
 *                 (cause other)
 *   VT_FREE       every block given back
 *   VT_SCAN_PMD, VT_COLLAPSE  khugepaged.c's (the collapse carries its
 *                 THP's allocation and the pages freed meanwhile)
 *   VT_TLB_FLUSH  every tlb:tlb_flush a CPU running the workload writes
 *                 (tlb.h): reason, source, pages, or -1 (a full flush) past
 *                 x86's tlb_single_page_flush_ceiling of 33
 *   VT_IPI        each cross-call of a flush of the mm (tlb.h)
 *   VT_RSS        an RSS change outside a fault (zaps, collapses)
 *
 * ts is the event clock (os->now_ns: the simulated time its caller set);
 * cpu the CPU it happened on, tid the workload thread running there
 * (cpus[].task), phase that thread's.
 * VT_SYSCALL records are the caller's (channel.c).
 */
struct mimicos_event_sink {
	void (*event)(void *ctx, const struct vt_event *ev);
	void *ctx;
};

/* Stamp ev (ts = os->now_ns; cpu, tid and phase of os->cpu) and send it; os->events.event must be set. */
void mimicos_emit(struct mimicos *os, struct vt_event *ev);

/*
 * The folios in use, by head pfn: Linux's mem_map, a struct per page frame,
 * in sections of FOLIO_SECTION_PAGES frames allocated when a frame of
 * theirs is first recorded (SPARSEMEM's idea), so that a simulated machine
 * pays only for the memory it uses. A slot holds a folio when its pfn is
 * the slot's own (a head), PFN_NONE otherwise.
 */
#define FOLIO_SECTION_SHIFT	15	/* 32768 frames: 128 MiB */
#define FOLIO_SECTION_PAGES	(1UL << FOLIO_SECTION_SHIFT)

struct folio_table {
	struct folio **sections;	/* by pfn >> FOLIO_SECTION_SHIFT; NULL: none yet */
	size_t nr_sections;
	size_t nr;			/* folios recorded */
};

/*
 * One simulated machine: the zone, its physical memory, the THP settings,
 * the event counters and the zero pages. cpu: whose per-CPU lists user
 * folios come from.
 */
struct mimicos {
	struct zone zone;
	struct physmem physmem;
	struct thp_settings thp;
	struct vm_events ev;
	unsigned int cpu;
	unsigned long zero_pfn;		/* ZERO_PAGE(0) */
	unsigned long huge_zero_pfn;	/* huge_zero_folio, PFN_NONE until used */
	long huge_zero_refcount;	/* huge_zero_refcount: users + 1 */
	struct folio_table folios;
	/*
	 * deferred_split_queue (mm/huge_memory.c): head pfns of the partially
	 * mapped large folios, oldest first. deferred_split_scan() splits
	 * them; a folio also leaves the queue when it is freed
	 * (folio_unqueue_deferred_split()).
	 */
	struct deferred_split {
		unsigned long *pfns;
		size_t nr, cap;
	} deferred_split;
	/* A THP policy beside Linux's (internal.h), NULL for Linux's alone. */
	const struct thp_policy_ops *policy;
	void *policy_data;
	/* khugepaged's state (khugepaged.h), NULL until khugepaged_init(). */
	struct khugepaged *khugepaged;
	/* Events (NULL event: none), and what stamps them. */
	struct mimicos_event_sink events;
	/*
	 * The event clock: the simulated time mimicos_emit() stamps records
	 * with, and the mask trim's clock (tlb.h); khugepaged keeps its own.
	 * Set by khugepaged to each pass's time, by the channel to a request's.
	 */
	uint64_t now_ns;
	/*
	 * The workload's phase tag (MIMICOS_REQ_PHASE, the last any CPU set),
	 * -1 none: its threads' records carry their CPU's (cpus[].phase),
	 * khugepaged's cross-calls this one.
	 */
	int16_t phase;
	/* Per CPU, what runs there (tlb.h); [KHUGEPAGED_CPU] is khugepaged's. */
	struct cpu_tlbstate cpus[MIMICOS_MAX_CPUS + 1];
	struct vt_event *fault_ev;	/* the fault being handled (events on) */
	uint8_t alloc_cause;		/* enum vt_cause of allocations outside faults */
	struct {
		bool has_alloc;
		unsigned long pfn;
		unsigned int order;
		gfp_t gfp;
		uint32_t freed;		/* pages freed meanwhile */
	} collapse;			/* filled while a collapse runs (alloc_cause set) */
	/* A second observer of the zone's allocations and frees (the channel's). */
	struct zone_trace page_trace;
	/* mm/swap.c's per-CPU lru_add batches (swap.h), one per zone CPU. */
	struct cpu_fbatches *fbatches;
	unsigned int nr_fbatches;
	struct lru_trace lru_trace;
	struct lru_stats lru_stats;
};

/*
 * Set up a machine with a zone as 'zc' describes, settings 'thp' (NULL:
 * thp_settings_init() defaults), counters at 0, and the 4 KiB zero page.
 * 0 or -errno (zone_init(), physmem_init(), -ENOMEM).
 */
int mimicos_init(struct mimicos *os, const struct zone_config *zc,
		 const struct thp_settings *thp);
void mimicos_release(struct mimicos *os);

static inline bool is_zero_pfn(const struct mimicos *os, unsigned long pfn)
{
	return pfn == os->zero_pfn;
}

static inline bool is_huge_zero_pfn(const struct mimicos *os, unsigned long pfn)
{
	return os->huge_zero_pfn != PFN_NONE && pfn == os->huge_zero_pfn;
}

#endif
