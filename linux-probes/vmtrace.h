/*
 * vmtrace.h - the userspace side of the vmtrace probes (bpf/vmtrace.bpf.c).
 *
 * vmtrace_open() loads the programs for one workload process, already
 * forked and waiting, and attaches them:
 *
 *	exceptions:page_fault_user	tp_btf, or tracepoint where BTF lacks it
 *	PAGE_FAULTS_MIN/MAJ (software)	perf_event programs on the process: a
 *					fault's completion, hence its latency
 *	kmem:mm_page_alloc/mm_page_free	tp_btf / tracepoint
 *	huge_memory:mm_khugepaged_scan_pmd	tp_btf / tracepoint
 *	huge_memory:mm_collapse_huge_page	tp_btf / tracepoint
 *	raw_syscalls:sys_enter/sys_exit	tp_btf / tracepoint (memory syscalls only)
 *	tlb:tlb_flush			tp_btf / tracepoint
 *	kmem:rss_stat			tp_btf / tracepoint, if asked (rss_stat)
 *
 * The kmem and scan_pmd hooks get a struct page * (or folio *) in the tp_btf
 * flavour, and page_to_pfn() needs vmemmap_base, which a BPF program cannot
 * look up on a kernel without KALLSYMS_ALL. So vmtrace_open() learns it: it
 * faults in two pages of its own, takes their struct page * from the
 * allocation hook and their pfns from /proc/self/pagemap, and uses tp_btf
 * only if both give the same base; otherwise the tracepoint flavour, whose
 * record holds the pfn the kernel computed. (The tracepoint flavour costs
 * more: perf fills a trace record for every allocation on the host before
 * the filter runs.)
 *
 * Each tp_btf program is used only if vmlinux BTF describes its tracepoint
 * (a btf_trace_<name> typedef); otherwise its tracepoint twin is loaded
 * instead (bpf_program__set_autoload), as libbpf-tools do. Tracepoint
 * programs need tracefs: if it is not mounted at /sys/kernel/tracing,
 * vmtrace_open() mounts it and vmtrace_close() unmounts it again. A mount
 * outlives a killed process, so, as THP settings are (thp_sysfs.h), the
 * mount is first recorded in the state directory (state_dir/tracefs-mounted,
 * "pid PID") and the record removed after the unmount; the next run calls
 * vmtrace_recover() with the host's lock held, which unmounts what a killed
 * run left.
 *
 * Records arrive through one ring buffer. The kernel side counts what it
 * could not reserve (dropped) and what it sent (emitted); a run with drops
 * is incomplete and says so. The kernel never wakes the reader (a wake-up
 * costs the faulting thread): the reader drains on its own timer and at
 * every phase boundary (vmtrace_poll with timeout 0).
 */
#ifndef LINUX_PROBES_VMTRACE_H
#define LINUX_PROBES_VMTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/types.h>

#include "bpf/vmtrace.h"
#include "workload/error.h"

/* Called for every record, in ring-buffer order; non-zero stops the poll. */
typedef int (*vmtrace_fn)(void *ctx, const struct vt_event *ev);

struct vmtrace_opts {
	pid_t pid;		/* the workload's process (its tgid) */
	size_t ringbuf_bytes;	/* 0: 8 MiB; rounded up to a power of two >= 4 KiB */
	bool no_tp_btf;		/* use only the tracepoint flavour (a test of the fallback) */
	const char *state_dir;	/* where a tracefs mount of ours is recorded; NULL: nowhere */
	/*
	 * Time one minor fault in this many (0 and 1: every one): the
	 * completion event's sample period. Every fault is still recorded,
	 * with its allocations; an untimed one has latency_ns 0.
	 */
	unsigned latency_sample;
	/*
	 * Attach kmem:rss_stat (records of RSS changes, nr_rss and rss_anon in
	 * fault records). Off by default: a fault record already carries its
	 * allocations, and the hook costs every fault a program run.
	 */
	bool rss_stat;
	/*
	 * Also record the faults the kernel takes on the workload's user
	 * addresses (exceptions:page_fault_kernel; tp_btf only): a recorded
	 * command's, for its replay. Their records have no U bit.
	 */
	bool kernel_faults;
	/*
	 * A workload with threads: each event takes its thread's phase
	 * (vmtrace_set_thread_phase()), not the one vmtrace_set_phase() sets.
	 */
	bool per_thread_phase;
};

struct vmtrace_bpf;
struct ring_buffer;
struct bpf_link;
struct bpf_program;

/*
 * What a program is for, as far as a fault's latency goes: the entry and
 * completion programs bound a fault's window; the allocation, rss_stat and
 * tlb_flush hooks fire inside it (workload/event.h).
 */
enum vmtrace_role {
	VMTRACE_ROLE_OTHER,
	VMTRACE_ROLE_FAULT_ENTRY,	/* exceptions:page_fault_user */
	VMTRACE_ROLE_FAULT_COMPLETION,	/* the PAGE_FAULTS_MIN/MAJ perf_event programs */
	VMTRACE_ROLE_PAGE_ALLOC,	/* kmem:mm_page_alloc */
	VMTRACE_ROLE_RSS_STAT,		/* kmem:rss_stat */
	VMTRACE_ROLE_TLB_FLUSH,		/* tlb:tlb_flush */
	VMTRACE_ROLE_NR
};

/* "other", "fault_entry", "fault_completion", "page_alloc", "rss_stat", "tlb_flush" */
const char *vmtrace_role_name(enum vmtrace_role role);

/*
 * One attached program's runs while the statistics were on (vmtrace_cost_begin
 * to vmtrace_cost_end): the kernel's own count and total run time, from
 * BPF_OBJ_GET_INFO_BY_FD.
 */
struct vmtrace_cost {
	const char *name;		/* the program's name: fault_enter_btf, page_alloc_tp, ... */
	enum vmtrace_role role;
	uint64_t run_cnt, run_time_ns;
	struct bpf_program *prog;
	uint64_t cnt0, ns0;		/* at vmtrace_cost_begin */
};

#define VMTRACE_PROGS_MAX 32

struct vmtrace {
	struct vmtrace_bpf *skel;
	struct ring_buffer *rb;
	int perf_fd[2];			/* PAGE_FAULTS_MIN, PAGE_FAULTS_MAJ on the process */
	struct bpf_link *perf_link[2];
	vmtrace_fn fn;
	void *ctx;
	bool mounted_tracefs;
	char tracefs_record[256];	/* state_dir/tracefs-mounted, "" if none */
	bool tp_btf;			/* the tp_btf flavour is in use (typed hooks) */
	bool kmem_btf;			/* ... and for kmem and scan_pmd (vmemmap base learnt) */
	size_t page_size;		/* sizeof(struct page), from vmlinux BTF */
	struct bpf_link *kmem_link[3];
	pid_t khugepaged_pid;		/* 0: not found (collapses are then not attributed) */
	uint64_t received;
	struct vmtrace_cost cost[VMTRACE_PROGS_MAX];	/* the attached programs */
	size_t nr_cost;
	int stats_fd;			/* BPF_ENABLE_STATS while >= 0 */
};

/*
 * Load and attach everything for o->pid. Returns 0; or -1 with err, and
 * *host_missing set when the failure is the host's (no BPF, no BTF, no
 * tracefs, not permitted) rather than a bug: the caller exits 3.
 */
int vmtrace_open(struct vmtrace *t, const struct vmtrace_opts *o, vmtrace_fn fn, void *ctx,
		 bool *host_missing, struct wl_error *err);

/* The phase that events are tagged with from now on (VT_NO_PHASE: none). */
void vmtrace_set_phase(struct vmtrace *t, int phase);

/* The ring buffer's epoll fd, for a caller's own poll loop. */
int vmtrace_fd(const struct vmtrace *t);

/*
 * Set the minor-fault completion event's sample period (--latency-sample),
 * effective at once. The loader draws a new one around N at every drain, so
 * that which faults are timed does not stay in step with a workload's own
 * period (a page table every 512 faults). 0, or -1 with errno.
 */
int vmtrace_set_sample_period(struct vmtrace *t, uint64_t period);

/* With per_thread_phase: thread tid's events belong to 'phase' (VT_NO_PHASE: to none). 0, or -1. */
int vmtrace_set_thread_phase(struct vmtrace *t, pid_t tid, int phase);

/* Deliver what is waiting (waiting at most timeout_ms for it); < 0 on error. */
int vmtrace_poll(struct vmtrace *t, int timeout_ms);

/*
 * While the workload is stopped at its end: deliver the fault still open on
 * thread 'tid' (it never completed: a failed fault; an untimed one that
 * completed was closed by the system call that stopped it), if any. The
 * open fault lives in the thread's task storage, which dies with the thread.
 */
int vmtrace_collect_open(struct vmtrace *t, pid_t tid);

/* At the end of the run: deliver everything still waiting. */
int vmtrace_drain(struct vmtrace *t);

struct vmtrace_stats {
	uint64_t emitted;	/* records the kernel side wrote */
	uint64_t dropped;	/* records it could not (ring buffer full) */
	uint64_t received;	/* records delivered to fn */
	uint64_t stray_ends;	/* fault completions with no open fault */
	uint64_t addr_mismatch;	/* completions whose address differed */
	uint32_t khugepaged_pid;	/* as the kernel side last knew it */
};
void vmtrace_stats(const struct vmtrace *t, struct vmtrace_stats *st);

/*
 * BPF run-time statistics over a window of the run. begin enables them with
 * the BPF_ENABLE_STATS command, whose fd keeps kernel.bpf_stats_enabled on
 * while it is open (and turns it off when the last such fd closes, unless
 * the sysctl was set by hand), and takes each attached program's run_cnt and
 * run_time_ns; end takes them again and closes the fd, leaving the deltas in
 * t->cost[0 .. t->nr_cost). Returns 0, or -errno from the kernel (EPERM,
 * EINVAL on a kernel without them): the run goes on without costs.
 *
 * What they measure: the kernel times each run of a program with
 * sched_clock() around it, not the tracepoint's or the perf event's dispatch
 * around that; and while they are on, each run of every program costs those
 * two clock reads more.
 */
int vmtrace_cost_begin(struct vmtrace *t);
int vmtrace_cost_end(struct vmtrace *t);

/*
 * What the statistics themselves add to each run of a program, on this
 * host: a trivial socket filter run many times by BPF_PROG_TEST_RUN with
 * them on and off, the kernel's own average per repetition compared (the
 * same bpf_prog_run() path a tracepoint or perf event takes). Call it with
 * the statistics off. Returns 0 with *ns; -EBUSY when they stay on anyway
 * (kernel.bpf_stats_enabled set by someone else: nothing to compare with);
 * or -errno.
 */
int vmtrace_stats_overhead(double *ns);

/* "tp_btf", "tracepoint", or "mixed" (tp_btf except kmem and scan_pmd). */
const char *vmtrace_flavour(const struct vmtrace *t);

void vmtrace_close(struct vmtrace *t);

/*
 * At the start of a run, with the host's lock held: if state_dir records a
 * tracefs mount (a run was killed before it could unmount), unmount
 * /sys/kernel/tracing if tracefs is mounted there, remove the record and set
 * *mounted_pid to that run's pid, for the caller's note
 *	"virtuoso: unmounted the tracefs an interrupted run (pid N) left".
 * *mounted_pid is 0 when there was nothing to undo, -1 when the record was
 * cut short (the kill came as it was written). Returns 0, or -1 with
 * err (the record is then kept, for a later run to try again).
 */
int vmtrace_recover(const char *state_dir, int *mounted_pid, struct wl_error *err);

/*
 * The kernel's names for a __print_symbolic field of a tracepoint (from its
 * tracefs format), e.g. ("huge_memory/mm_khugepaged_scan_pmd", "status") ->
 * "failed", "succeeded", ... indexed by value. Returns a cJSON array (NULL if
 * the format cannot be read); missing values are null.
 */
struct cJSON *vmtrace_symbols(const char *event, const char *field);

#endif
