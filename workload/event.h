/*
 * event.h - the event model both worlds record: what the vmtrace probes send
 * from the kernel (bpf/vmtrace.bpf.c) to the loader (linux-probes/vmtrace.c),
 * what MimicOS emits for the same mechanisms (mimicos/memory.c,
 * mimicos/khugepaged.c), and what the event log stores as is (evlog.h).
 *
 * One fixed-size record per event. A user page fault is one record, written
 * when it completes: the entry tracepoint stores it per thread, allocations
 * and RSS changes made while it is open are folded into it, and the perf
 * software fault event that ends handle_mm_fault emits it. A fault that never
 * completes (it failed) is emitted with completed = 0 when its thread faults
 * again or the run ends. With `virtuoso linux --latency-sample N` that event
 * fires for one minor fault in N: the others are emitted when the thread
 * next faults or makes a system call (or an allocation or flush sees them
 * done), completed by the thread's fault counters, with latency_ns 0: a
 * completed fault of latency 0 was not timed.
 *
 * Its latency runs from the entry program's clock read (its last act) to the
 * completion program's (its first), so what the probes themselves do inside
 * that window is the programs that fire during the fault: the allocation
 * hook (nr_allocs times), the rss_stat hook (nr_rss times), the tlb_flush
 * hook (for a COW), and the dispatch of each (linux-probes/README.md,
 * "What the probes cost").
 *
 * Fixed-width types only: this header is compiled for BPF (through
 * bpf/vmtrace.h) and for the host. <linux/types.h> gives the __u64 family on
 * both, which is what a BPF program may include.
 */
#ifndef WORKLOAD_EVENT_H
#define WORKLOAD_EVENT_H

#include <linux/types.h>

#define VT_FAULT_ALLOCS	2	/* allocations folded into a fault record */
#define VT_NO_PHASE	(-1)	/* outside every phase (start-up, exit) */

enum vt_type {
	VT_FAULT = 1,		/* exceptions:page_fault_user + completion */
	VT_ALLOC = 2,		/* kmem:mm_page_alloc not folded into a fault */
	VT_FREE = 3,		/* kmem:mm_page_free */
	VT_SCAN_PMD = 4,	/* huge_memory:mm_khugepaged_scan_pmd */
	VT_COLLAPSE = 5,	/* huge_memory:mm_collapse_huge_page */
	VT_SYSCALL = 6,		/* mmap/munmap/mprotect/madvise/brk/mremap: enter + exit */
	VT_TLB_FLUSH = 7,	/* tlb:tlb_flush */
	VT_RSS = 8,		/* kmem:rss_stat not folded into a fault */
	VT_IPI = 9,		/* a TLB-flush cross-call for the workload's mm: queued, or run */
	VT_TYPE_NR
};

/*
 * Where a TLB flush recorded on a workload thread came from, as the probe
 * judges it from the reason and what the thread is doing (bpf/vmtrace.bpf.c,
 * tlb_source()). The first three are the workload's own: what it asked for.
 * The rest are the background: the flush was for another mm, or for kernel
 * work, or is the scheduler's, or (ipi) is the message its own flush sent to
 * the other CPUs its mm had run on, which depends on where the scheduler put
 * it before rather than on what it did.
 */
enum vt_tlb_source {
	VT_TLB_SRC_UNKNOWN = 0,		/* not attributed (a log of an older probe) */
	VT_TLB_SRC_SYSCALL = 1,		/* its mm, inside one of its memory syscalls */
	VT_TLB_SRC_FAULT = 2,		/* its mm, inside its write fault on a present entry (COW) */
	VT_TLB_SRC_KHUGEPAGED = 3,	/* a shootdown of its mm received while khugepaged collapses */
	VT_TLB_SRC_SWITCH = 4,		/* the scheduler, switching from it to another mm */
	VT_TLB_SRC_IPI = 5,		/* the IPIs its own flush sent to other CPUs */
	VT_TLB_SRC_OTHER_MM = 6,	/* a shootdown for another mm, received on its CPU */
	VT_TLB_SRC_KERNEL = 7,		/* kernel work: batched flushes, compaction in a fault, ... */
	VT_TLB_SRC_SHOOTDOWN = 8,	/* a shootdown of its mm received from another of its threads */
	VT_TLB_SRC_NR
};

#define VT_TLB_SRC_WORKLOAD(s)	(((s) >= VT_TLB_SRC_SYSCALL && (s) <= VT_TLB_SRC_KHUGEPAGED) || \
				 (s) == VT_TLB_SRC_SHOOTDOWN)

/* Who an allocation was made for. */
enum vt_cause {
	VT_CAUSE_OTHER = 0,
	VT_CAUSE_FAULT = 1,		/* a page fault of the workload was open on the thread */
	VT_CAUSE_KHUGEPAGED = 2,	/* khugepaged, collapsing for the workload's mm */
	VT_CAUSE_MADV_COLLAPSE = 3,	/* inside madvise(MADV_COLLAPSE) */
	VT_CAUSE_NR
};

struct vt_alloc {
	__u64 pfn;
	__u32 gfp;		/* gfp_flags as the kernel passed them */
	__u8 order;
	__u8 migratetype;
	__u8 cause;		/* enum vt_cause */
	__u8 pad;
};

struct vt_event {
	__u64 ts;		/* bpf_ktime_get_ns (CLOCK_MONOTONIC); a fault's entry time */
	__u32 tid;
	__u16 type;		/* enum vt_type */
	__s16 phase;		/* the workload's phase, or VT_NO_PHASE */
	union {
		struct {
			__u64 addr;
			__u64 ip;
			__u64 latency_ns;	/* entry to completion; 0: failed, or not timed */
			__u32 error_code;	/* X86_PF_* (workload/x86.h) */
			__u8 completed;
			__u8 major;
			__u8 nr_allocs;		/* allocations made during the fault */
			__u8 nr_rss;		/* kmem:rss_stat firings for its mm during it */
			__s64 rss_anon;		/* MM_ANONPAGES bytes after it, -1 unknown */
			struct vt_alloc alloc[VT_FAULT_ALLOCS];
		} fault;
		struct vt_alloc alloc;
		struct {
			__u64 pfn;
			__u32 order;
			__u32 pad;
		} free;
		struct {
			__u64 pfn;
			__s32 referenced;
			__s32 none_or_zero;
			__s32 status;		/* enum scan_result */
			__s32 unmapped;
		} scan;
		struct {
			__s32 isolated;
			__s32 status;		/* enum scan_result */
			__u32 nr_freed;		/* pages freed by khugepaged during it */
			__u32 has_alloc;
			struct vt_alloc alloc;	/* the new huge page, if has_alloc */
			/* huge_memory:mm_collapse_huge_page_isolate, if has_isolate */
			__s32 isolate_none_or_zero;
			__s32 isolate_referenced;
			__s32 isolate_status;	/* enum scan_result */
			/* huge_memory:mm_collapse_huge_page_swapin, if has_swapin */
			__s32 swapped_in;
			__s32 swapin_referenced;
			__s32 swapin_ret;
			__u8 has_isolate;
			__u8 has_swapin;
		} collapse;
		struct {
			__u64 args[6];
			__s64 ret;
			__u64 exit_ts;
			__u32 nr;		/* x86-64 syscall number */
			__u32 pad;
		} sys;
		struct {
			__s32 reason;		/* enum tlb_flush_reason */
			__u8 source;		/* enum vt_tlb_source */
			__u8 pad[3];
			__s64 pages;		/* -1: full flush */
		} tlb;
		struct {
			__u32 sent;		/* 1: queued for another CPU; 0: run on this one */
			__u32 target;		/* sent: the CPU it was queued for */
			__u64 ns;		/* run: flush_tlb_func's time there */
		} ipi;
		struct {
			__s64 size;		/* bytes, after the change */
			__s32 member;		/* 0 FILE, 1 ANON, 2 SWAP, 3 SHMEM */
			__s32 pad;
		} rss;
	};
	/*
	 * The CPU the event happened on (a fault: where it entered), or
	 * VT_CPU_UNKNOWN (logs before version 3). Last, so that the union
	 * keeps its offsets.
	 */
	__u32 cpu;
	__u32 reserved;		/* zero */
};

#define VT_CPU_UNKNOWN	0xffffffffu

#endif
