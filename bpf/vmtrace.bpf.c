// SPDX-License-Identifier: GPL-2.0
/*
 * vmtrace.bpf.c - what the kernel does for one workload process: its user page
 * faults (with their kernel latency), the pages allocated and freed for it,
 * khugepaged's scans and collapses of its mm, its memory syscalls, TLB
 * flushes and RSS changes. Records are struct vt_event (workload/event.h).
 *
 * Filtering happens here, in the kernel: only the workload's threads
 * (target_tgid), khugepaged (khugepaged_pid) when it works on the workload's
 * mm, and only while a phase runs (cur_phase, written by the loader while
 * the workload is paused at a phase boundary).
 *
 * A fault's latency needs its end, and this kernel has no kprobes or fentry.
 * The end is the PAGE_FAULTS_MIN/MAJ software perf event that
 * mm_account_fault() emits when handle_mm_fault() is done; a perf_event
 * program on it closes the fault opened by the page_fault_user tracepoint on
 * the same thread.
 *
 * Every hook comes in two flavours: tp_btf (cheapest) and a fallback
 * (tracepoint, reading the format's fields, or raw_tp where no argument is
 * dereferenced); the loader loads one of them per hook. The kmem and
 * scan_pmd hooks get a struct page * in tp_btf, and page_to_pfn() needs
 * vmemmap_base, which a BPF program cannot look up on a kernel without
 * KALLSYMS_ALL: the loader learns it (calib_tgid, calib_page) and sets it,
 * or attaches their tracepoint twins, whose records hold the pfn.
 *
 * The fault in progress lives in the thread's task storage. Records go to
 * the ring buffer without waking the reader, which drains on a timer.
 */
#include "bpf/kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "bpf/vmtrace.h"
#include "workload/x86.h"

#define HPAGE_PMD_ORDER		9
#define MADV_COLLAPSE		25
#define NR_mmap			9
#define NR_mprotect		10
#define NR_munmap		11
#define NR_brk			12
#define NR_mremap		25
#define NR_madvise		28
#define MM_ANONPAGES		1
#define MIGRATE_MOVABLE		1
#define PF_COW			(X86_PF_PROT | X86_PF_WRITE)	/* a write refused by a present entry */

const volatile __u32 target_tgid = 0;

/*
 * One fault in this many has its latency measured (the loader's
 * --latency-sample): the completion event's sample period. Above 1, the
 * end of every other fault is seen from the thread's fault counters
 * (fault_in_progress()).
 */
const volatile __u32 latency_sample = 1;

/* Written by the loader while the workload is paused. */
__s32 cur_phase = VT_NO_PHASE;

/*
 * A workload with threads: each thread's phase, written by the loader at
 * every phase group's start while the threads are held (a thread in none of
 * the group's phases has VT_NO_PHASE). cur_phase is then the group's first
 * phase, for what other threads (khugepaged) do meanwhile.
 */
const volatile bool per_thread_phase = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __s32);
} thread_phase SEC(".maps");

/* The phase an event of thread tid belongs to. */
static __always_inline __s32 phase_now(__u32 tid)
{
	__s32 *p;

	if (!per_thread_phase)
		return cur_phase;
	p = bpf_map_lookup_elem(&thread_phase, &tid);
	return p ? *p : cur_phase;
}

/* Learnt from the workload's first traced event. */
__u64 target_mm = 0;

/*
 * khugepaged's pid: the loader's guess from /proc, corrected here from the
 * thread's name when khugepaged allocates a huge page or traces a scan (it
 * is restarted, with a new pid, whenever THP sysfs changes).
 */
__u32 khugepaged_pid = 0;

/* Accounting of the ring buffer and of the matching of fault ends. */
__u64 emitted = 0;
__u64 dropped = 0;
__u64 stray_ends = 0;		/* a fault end with no open fault on the thread */
__u64 addr_mismatch = 0;	/* a fault end whose address is not the open fault's */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/*
 * The fault in progress on each thread, in task-local storage: written in
 * place at entry (ts != 0 while it is open), closed at completion (ts = 0).
 * Cheaper than a hash map update and delete per fault.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vt_open_fault);
} open_faults SEC(".maps");

static __always_inline struct vt_open_fault *fault_slot(int create)
{
	return bpf_task_storage_get(&open_faults, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Memory syscalls entered and not yet returned, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vt_event);
} open_syscalls SEC(".maps");

/*
 * khugepaged's huge page for the collapse in progress. The allocation comes
 * before the mm is known (mm_collapse_huge_page fires at the end of
 * collapse_huge_page), so it waits here, with the pages khugepaged frees
 * meanwhile, and is kept only if the collapse was for the workload's mm.
 */
struct khp_pending {
	struct vt_alloc alloc;
	__u32 has_alloc;
	__u32 nr_freed;
	__s32 isolate_none_or_zero, isolate_referenced, isolate_status;
	__s32 swapped_in, swapin_referenced, swapin_ret;
	__u8 has_isolate, has_swapin;
};

/*
 * Slot 0: khugepaged's collapse in progress. Slot 1: the workload's own
 * (MADV_COLLAPSE), whose isolate and swap-in steps also wait for its end.
 */
#define KHP_KHUGEPAGED	0
#define KHP_WORKLOAD	1

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct khp_pending);
} khp SEC(".maps");

/* The loader drains on its own timer: no wake-ups, no query of the buffer per event. */
/* The header every record starts with: now, the thread, its type, the phase. */
static __always_inline void event_start(struct vt_event *e, __u32 tid, __u16 type)
{
	e->ts = bpf_ktime_get_ns();
	e->tid = tid;
	e->type = type;
	e->phase = phase_now(tid);
	e->cpu = bpf_get_smp_processor_id();
}

static __always_inline void emit(const struct vt_event *e)
{
	if (bpf_ringbuf_output(&events, (void *)e, sizeof(*e), BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&dropped, 1);
	else
		__sync_fetch_and_add(&emitted, 1);
}

/* The calling thread's id if it belongs to the workload, else 0. */
static __always_inline __u32 workload_tid(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	if ((__u32)(id >> 32) != target_tgid || !target_tgid)
		return 0;
	if (!target_mm) {
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		target_mm = (__u64)BPF_CORE_READ(task, mm);
	}
	return (__u32)id;
}

static __always_inline bool is_khugepaged(__u32 tgid, bool learn)
{
	static const char name[] = "khugepaged";
	char comm[16];

	if (tgid && tgid == khugepaged_pid)
		return true;
	if (!learn || bpf_get_current_comm(comm, sizeof(comm)))
		return false;
	for (int i = 0; i < (int)sizeof(name); i++)
		if (comm[i] != name[i])
			return false;
	khugepaged_pid = tgid;
	return true;
}

/*
 * A fault's window is entry clock to completion clock. The entry program
 * reads the clock last and the completion program first, so their own work
 * stays outside the window (what is inside is the dispatch of the perf event
 * and of the hooks that fire during the fault).
 */
/*
 * The thread's successful faults so far, and its major ones: what
 * mm_account_fault() counts when handle_mm_fault() is done (not a failed
 * fault, not one to retry), right before the completion event fires.
 */
static __always_inline __u64 thread_faults(__u64 *maj)
{
	struct task_struct *t = bpf_get_current_task_btf();

	*maj = BPF_CORE_READ(t, maj_flt);
	return BPF_CORE_READ(t, min_flt) + *maj;
}

/*
 * Close the open fault 'o' whose completion event was not sampled, as its
 * counters show: completed (or major) if they moved since its entry,
 * failed if not; no latency. Emitted if it began in a phase.
 */
static __always_inline void fault_close_untimed(struct vt_open_fault *o, __u64 flt, __u64 maj)
{
	o->e.fault.completed = flt > o->flt;
	o->e.fault.major = maj > o->maj_flt;
	if (o->e.phase != VT_NO_PHASE)
		emit(&o->e);
	o->e.ts = 0;
}

/*
 * The thread's fault in progress, or NULL. With every fault timed, an open
 * fault is in progress until its completion program closes it. With one in
 * latency_sample timed, a fault whose completion went unsampled is over as
 * soon as the thread's counters moved: it is closed here, first.
 */
static __always_inline struct vt_open_fault *fault_in_progress(void)
{
	struct vt_open_fault *o = fault_slot(0);
	__u64 flt, maj;

	if (!o || !o->e.ts)
		return NULL;
	if (latency_sample <= 1)
		return o;
	flt = thread_faults(&maj);
	if (flt == o->flt)
		return o;
	fault_close_untimed(o, flt, maj);
	return NULL;
}

/*
 * A fault's window is entry clock to completion clock. The entry program
 * reads the clock last and the completion program first, so their own work
 * stays outside the window (what is inside is the dispatch of the perf event
 * and of the hooks that fire during the fault).
 */
static __always_inline int fault_enter(__u64 addr, __u64 ip, __u64 error_code)
{
	struct vt_open_fault *o;
	struct vt_event *e;
	__u32 tid = workload_tid();
	__u64 flt = 0, maj = 0;

	if (!tid)
		return 0;
	o = fault_slot(1);
	if (!o)
		return 0;
	e = &o->e;
	if (latency_sample > 1)
		flt = thread_faults(&maj);
	/* The thread's previous fault is still open: it failed, or went unsampled. */
	if (e->ts) {
		if (latency_sample > 1)
			fault_close_untimed(o, flt, maj);
		else
			emit(e);
	}
	o->flt = flt;
	o->maj_flt = maj;
	e->tid = tid;
	e->type = VT_FAULT;
	e->phase = phase_now(tid);
	e->cpu = bpf_get_smp_processor_id();
	e->fault.addr = addr;
	e->fault.ip = ip;
	e->fault.error_code = error_code;
	e->fault.latency_ns = 0;
	e->fault.completed = 0;
	e->fault.major = 0;
	e->fault.nr_allocs = 0;
	e->fault.nr_rss = 0;
	e->fault.rss_anon = -1;
	e->ts = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int fault_end(struct bpf_perf_event_data *ctx, int major)
{
	__u64 now = bpf_ktime_get_ns();
	struct vt_open_fault *o;
	struct vt_event *e;
	__u32 tid = workload_tid();

	if (!tid)
		return 0;
	o = fault_slot(0);
	if (!o || !o->e.ts) {
		__sync_fetch_and_add(&stray_ends, 1);
		return 0;
	}
	e = &o->e;
	if (ctx->addr != e->fault.addr)
		__sync_fetch_and_add(&addr_mismatch, 1);
	e->fault.latency_ns = now - e->ts;
	e->fault.completed = 1;
	e->fault.major = major;
	if (e->phase != VT_NO_PHASE)
		emit(e);
	e->ts = 0;
	return 0;
}

SEC("perf_event")
int fault_end_min(struct bpf_perf_event_data *ctx)
{
	return fault_end(ctx, 0);
}

SEC("perf_event")
int fault_end_maj(struct bpf_perf_event_data *ctx)
{
	return fault_end(ctx, 1);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_enter_btf, unsigned long address, struct pt_regs___kern *regs,
	     unsigned long error_code)
{
	return fault_enter(address, BPF_CORE_READ(regs, ip), error_code);
}

SEC("tracepoint/exceptions/page_fault_user")
int fault_enter_tp(struct trace_event_raw_exceptions *ctx)
{
	return fault_enter(ctx->address, ctx->ip, ctx->error_code);
}

/*
 * A recorded command's faults the kernel takes on its behalf on a user
 * address (read() into a buffer it never touched: copy_to_user), attached
 * only for a command (vmtrace_opts.kernel_faults): its replay needs the
 * pages they fill. Their error_code has no U bit; they are not the user
 * faults the results count.
 */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(fault_kernel_btf, unsigned long address, struct pt_regs___kern *regs,
	     unsigned long error_code)
{
	if (address >= 0x800000000000ULL)
		return 0;	/* the kernel's own memory */
	return fault_enter(address, BPF_CORE_READ(regs, ip), error_code);
}

/*
 * page_to_pfn() for the tp_btf hooks, which get a struct page *: the
 * loader learns vmemmap_base at start-up (a page it faults in itself, whose
 * pfn /proc/self/pagemap gives; see vmtrace_open) and sets it here.
 */
__u64 vmemmap_base = 0;
__u32 calib_tgid = 0;		/* the loader, while it calibrates */
__u64 calib_page = 0;		/* the struct page * of its calibration page */

/*
 * The pointer's value as a plain number: the verifier forbids arithmetic on
 * a trusted kernel pointer, so copy it out through a helper.
 */
static __always_inline __u64 page_to_pfn(const void *page)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &page);
	return (v - vmemmap_base) / bpf_core_type_size(struct page);
}

/* Worth converting a pfn for: the workload, or khugepaged. */
static __always_inline bool kmem_wanted(bool learn)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return tgid == target_tgid || is_khugepaged(tgid, learn);
}

static __always_inline int page_alloc(__u64 pfn, __u32 order, __u32 gfp, int migratetype)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vt_alloc a = {
		.pfn = pfn,
		.gfp = gfp,
		.order = (__u8)order,
		.migratetype = (__u8)migratetype,
	};
	struct vt_event e = {}, *f, *sys;
	struct vt_open_fault *o;
	struct khp_pending *k;
	__u32 tid, zero = 0;

	if ((__u32)(id >> 32) != target_tgid &&
	    is_khugepaged(id >> 32, a.order == HPAGE_PMD_ORDER)) {
		if (a.order != HPAGE_PMD_ORDER)
			return 0;
		k = bpf_map_lookup_elem(&khp, &zero);
		if (!k)
			return 0;
		a.cause = VT_CAUSE_KHUGEPAGED;
		k->alloc = a;
		k->has_alloc = 1;
		k->nr_freed = 0;
		k->has_isolate = 0;
		k->has_swapin = 0;
		return 0;
	}
	tid = workload_tid();
	if (!tid || phase_now(tid) == VT_NO_PHASE)
		return 0;
	o = fault_in_progress();
	if (o) {
		__u8 n;

		f = &o->e;
		n = f->fault.nr_allocs;

		a.cause = VT_CAUSE_FAULT;
		if (n < 255)
			f->fault.nr_allocs = n + 1;
		if (n < VT_FAULT_ALLOCS) {
			f->fault.alloc[n] = a;
			return 0;
		}
	} else {
		sys = bpf_map_lookup_elem(&open_syscalls, &tid);
		if (sys && sys->sys.nr == NR_madvise && sys->sys.args[2] == MADV_COLLAPSE)
			a.cause = VT_CAUSE_MADV_COLLAPSE;
	}
	event_start(&e, tid, VT_ALLOC);
	e.alloc = a;
	emit(&e);
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc_btf, struct page *page, unsigned int order, gfp_t gfp, int migratetype)
{
	if (calib_tgid && (__u32)(bpf_get_current_pid_tgid() >> 32) == calib_tgid) {
		if (order == 0 && migratetype == MIGRATE_MOVABLE)
			bpf_probe_read_kernel(&calib_page, sizeof(calib_page), &page);
		return 0;
	}
	if (!kmem_wanted(order == HPAGE_PMD_ORDER))
		return 0;
	return page_alloc(page_to_pfn(page), order, gfp, migratetype);
}

SEC("tracepoint/kmem/mm_page_alloc")
int page_alloc_tp(struct trace_event_raw_mm_page_alloc *ctx)
{
	return page_alloc(ctx->pfn, ctx->order, (__u32)ctx->gfp_flags, ctx->migratetype);
}

static __always_inline int page_free(__u64 pfn, __u32 order)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vt_event e = {};
	struct khp_pending *k;
	__u32 tid, zero = 0;

	if (is_khugepaged(id >> 32, false)) {
		k = bpf_map_lookup_elem(&khp, &zero);
		if (k && k->has_alloc)
			k->nr_freed += 1U << (order & 15);
		return 0;
	}
	tid = workload_tid();
	if (!tid || phase_now(tid) == VT_NO_PHASE)
		return 0;
	event_start(&e, tid, VT_FREE);
	e.free.pfn = pfn;
	e.free.order = order;
	emit(&e);
	return 0;
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(page_free_btf, struct page *page, unsigned int order)
{
	if (!kmem_wanted(false))
		return 0;
	return page_free(page_to_pfn(page), order);
}

SEC("tracepoint/kmem/mm_page_free")
int page_free_tp(struct trace_event_raw_mm_page_free *ctx)
{
	__u32 order = ctx->order;

	return page_free(ctx->pfn, order);
}

static __always_inline int scan_pmd(__u64 mm, __u64 pfn, int referenced, int none_or_zero,
				    int status, int unmapped)
{
	struct vt_event e = {};

	if (!target_mm || mm != target_mm)
		return 0;
	event_start(&e, (__u32)bpf_get_current_pid_tgid(), VT_SCAN_PMD);
	e.scan.pfn = pfn;
	e.scan.referenced = referenced;
	e.scan.none_or_zero = none_or_zero;
	e.scan.status = status;
	e.scan.unmapped = unmapped;
	emit(&e);
	return 0;
}

/* A folio's address is its head page's. */
SEC("tp_btf/mm_khugepaged_scan_pmd")
int BPF_PROG(scan_pmd_btf, struct mm_struct *mm, struct folio *folio, int referenced,
	     int none_or_zero, int status, int unmapped)
{
	if (!target_mm || (__u64)mm != target_mm)
		return 0;
	return scan_pmd((__u64)mm, folio ? page_to_pfn(folio) : (__u64)-1, referenced,
			none_or_zero, status, unmapped);
}

SEC("tracepoint/huge_memory/mm_khugepaged_scan_pmd")
int scan_pmd_tp(struct trace_event_raw_mm_khugepaged_scan_pmd *ctx)
{
	return scan_pmd((__u64)ctx->mm, ctx->pfn, ctx->referenced, ctx->none_or_zero, ctx->status,
			ctx->unmapped);
}

/* The pending slot of the calling context: khugepaged's, the workload's, or none. */
static __always_inline struct khp_pending *pending_slot(bool learn)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, key;

	if (tgid && tgid == target_tgid)
		key = KHP_WORKLOAD;
	else if (is_khugepaged(tgid, learn))
		key = KHP_KHUGEPAGED;
	else
		return NULL;
	return bpf_map_lookup_elem(&khp, &key);
}

static __always_inline int collapse(__u64 mm, int isolated, int status)
{
	struct khp_pending *k = pending_slot(true);
	struct vt_event e = {};

	if (target_mm && mm == target_mm) {
		event_start(&e, (__u32)bpf_get_current_pid_tgid(), VT_COLLAPSE);
		e.collapse.isolated = isolated;
		e.collapse.status = status;
		if (k && k->has_alloc) {
			e.collapse.has_alloc = 1;
			e.collapse.alloc = k->alloc;
			e.collapse.nr_freed = k->nr_freed;
		}
		if (k && k->has_isolate) {
			e.collapse.has_isolate = 1;
			e.collapse.isolate_none_or_zero = k->isolate_none_or_zero;
			e.collapse.isolate_referenced = k->isolate_referenced;
			e.collapse.isolate_status = k->isolate_status;
		}
		if (k && k->has_swapin) {
			e.collapse.has_swapin = 1;
			e.collapse.swapped_in = k->swapped_in;
			e.collapse.swapin_referenced = k->swapin_referenced;
			e.collapse.swapin_ret = k->swapin_ret;
		}
		emit(&e);
	}
	if (k) {
		k->has_alloc = 0;
		k->nr_freed = 0;
		k->has_isolate = 0;
		k->has_swapin = 0;
	}
	return 0;
}

/*
 * The isolate step has no mm argument: it waits in the caller's pending slot
 * for the collapse event that names the mm. The swap-in step names its mm.
 */
static __always_inline int collapse_isolate(int none_or_zero, int referenced, int status)
{
	struct khp_pending *k = pending_slot(true);

	if (!k)
		return 0;
	k->isolate_none_or_zero = none_or_zero;
	k->isolate_referenced = referenced;
	k->isolate_status = status;
	k->has_isolate = 1;
	return 0;
}

static __always_inline int collapse_swapin(__u64 mm, int swapped_in, int referenced, int ret)
{
	struct khp_pending *k;

	if (!target_mm || mm != target_mm || !(k = pending_slot(true)))
		return 0;
	k->swapped_in = swapped_in;
	k->swapin_referenced = referenced;
	k->swapin_ret = ret;
	k->has_swapin = 1;
	return 0;
}

SEC("tp_btf/mm_collapse_huge_page_isolate")
int BPF_PROG(collapse_isolate_btf, struct folio *folio, int none_or_zero, int referenced,
	     int status)
{
	return collapse_isolate(none_or_zero, referenced, status);
}

/* No typed arguments are read: raw_tp needs neither BTF nor tracefs. */
SEC("raw_tp/mm_collapse_huge_page_isolate")
int collapse_isolate_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return collapse_isolate((int)ctx->args[1], (int)ctx->args[2], (int)ctx->args[3]);
}

SEC("tp_btf/mm_collapse_huge_page_swapin")
int BPF_PROG(collapse_swapin_btf, struct mm_struct *mm, int swapped_in, int referenced, int ret)
{
	return collapse_swapin((__u64)mm, swapped_in, referenced, ret);
}

SEC("raw_tp/mm_collapse_huge_page_swapin")
int collapse_swapin_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return collapse_swapin(ctx->args[0], (int)ctx->args[1], (int)ctx->args[2], (int)ctx->args[3]);
}

SEC("tp_btf/mm_collapse_huge_page")
int BPF_PROG(collapse_btf, struct mm_struct *mm, int isolated, int status)
{
	return collapse((__u64)mm, isolated, status);
}

SEC("tracepoint/huge_memory/mm_collapse_huge_page")
int collapse_tp(struct trace_event_raw_mm_collapse_huge_page *ctx)
{
	return collapse((__u64)ctx->mm, ctx->isolated, ctx->status);
}

static __always_inline bool traced_syscall(long nr)
{
	return nr == NR_mmap || nr == NR_mprotect || nr == NR_munmap || nr == NR_brk ||
	       nr == NR_mremap || nr == NR_madvise;
}

static __always_inline int syscall_enter(long nr, const __u64 *args)
{
	struct vt_event e = {};
	__u32 tid;

	if (!traced_syscall(nr) || !(tid = workload_tid()))
		return 0;
	event_start(&e, tid, VT_SYSCALL);
	e.sys.nr = nr;
	for (int i = 0; i < 6; i++)
		e.sys.args[i] = args[i];
	bpf_map_update_elem(&open_syscalls, &tid, &e, BPF_ANY);
	return 0;
}

static __always_inline int syscall_exit(long ret)
{
	struct vt_event *e;
	__u32 tid = workload_tid();

	if (!tid)
		return 0;
	e = bpf_map_lookup_elem(&open_syscalls, &tid);
	if (!e)
		return 0;
	e->sys.ret = ret;
	e->sys.exit_ts = bpf_ktime_get_ns();
	if (e->phase != VT_NO_PHASE)
		emit(e);
	bpf_map_delete_elem(&open_syscalls, &tid);
	return 0;
}

/*
 * Any system call of the workload ends its thread's unsampled fault, if
 * one is still open (a phase's last fault before the loader's handshake,
 * the run's last before exit), before the call's own events.
 */
static __always_inline bool workload_syscall(void)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return false;
	if (latency_sample > 1)
		fault_in_progress();
	return true;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs___kern *regs, long id)
{
	__u64 args[6];

	if (!workload_syscall() || !traced_syscall(id))
		return 0;
	args[0] = BPF_CORE_READ(regs, di);
	args[1] = BPF_CORE_READ(regs, si);
	args[2] = BPF_CORE_READ(regs, dx);
	args[3] = BPF_CORE_READ(regs, r10);
	args[4] = BPF_CORE_READ(regs, r8);
	args[5] = BPF_CORE_READ(regs, r9);
	return syscall_enter(id, args);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter_tp(struct trace_event_raw_sys_enter *ctx)
{
	__u64 args[6];

	if (!workload_syscall() || !traced_syscall(ctx->id))
		return 0;
	/* constant offsets: the verifier refuses a moved context pointer */
	args[0] = ctx->args[0];
	args[1] = ctx->args[1];
	args[2] = ctx->args[2];
	args[3] = ctx->args[3];
	args[4] = ctx->args[4];
	args[5] = ctx->args[5];
	return syscall_enter(ctx->id, args);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs___kern *regs, long ret)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	return syscall_exit(ret);
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit_tp(struct trace_event_raw_sys_exit *ctx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	return syscall_exit(ctx->ret);
}

/* The receiving CPU's flush in progress: its entry time (0 outside one) and phase. */
struct csd_run {
	__u64 ts;
	__s32 phase;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct csd_run);
} csd_entry SEC(".maps");

/*
 * Whose flush this is (enum vt_tlb_source), from the reason and what the
 * workload thread it happened on is doing. The tracepoint names no mm; the
 * mm follows from the reason:
 *
 *	task switch	switch_mm_irqs_off(), current still the task leaving:
 *			the flush is of the next task's mm (the scheduler's)
 *	local mm	flush_tlb_func() on the initiating CPU for the loaded mm,
 *			the thread's own: the workload's if one of its memory
 *			syscalls is open (munmap, mprotect, madvise...) or if a
 *			write fault on a present entry is (COW, the huge zero
 *			PMD); otherwise kernel work in its context (migration
 *			during an allocation, NUMA hinting)
 *	remote		the IPI handler, for the loaded mm (the workload's) or
 *			for a batched flush with no mm: the workload's when
 *			khugepaged is inside a collapse, whose huge page is the
 *			pending one, or when it runs inside a cross-call of a
 *			flush of the workload's mm (another of its threads'
 *			munmap, mprotect...: csd_entry); the IPI for another
 *			mm is "wrong CPU"
 *	local (no mm)	arch_tlbbatch_flush(): reclaim or migration, batched
 *	IPI send	native_flush_tlb_multi(): the message its flush sends to
 *			the other CPUs in its mm's cpumask (the local half has
 *			its own record), or a flush of another mm it makes
 *	wrong CPU	an IPI for an mm this CPU ran before and left
 */
static __always_inline __u8 tlb_source(int reason, __u32 tid)
{
	struct csd_run *run;
	struct khp_pending *k;
	struct vt_open_fault *f;
	__u32 zero = 0;

	if (reason == bpf_core_enum_value(enum tlb_flush_reason, TLB_FLUSH_ON_TASK_SWITCH))
		return VT_TLB_SRC_SWITCH;
	if (reason == bpf_core_enum_value(enum tlb_flush_reason, TLB_REMOTE_SEND_IPI))
		return VT_TLB_SRC_IPI;
	if (reason == bpf_core_enum_value(enum tlb_flush_reason, TLB_REMOTE_WRONG_CPU))
		return VT_TLB_SRC_OTHER_MM;
	if (reason == bpf_core_enum_value(enum tlb_flush_reason, TLB_LOCAL_SHOOTDOWN))
		return VT_TLB_SRC_KERNEL;
	if (reason == bpf_core_enum_value(enum tlb_flush_reason, TLB_REMOTE_SHOOTDOWN)) {
		k = bpf_map_lookup_elem(&khp, &zero);
		if (k && k->has_alloc)
			return VT_TLB_SRC_KHUGEPAGED;
		/* inside a cross-call of a flush of its mm (csd_entry_btf) */
		run = bpf_map_lookup_elem(&csd_entry, &zero);
		return run && run->ts ? VT_TLB_SRC_SHOOTDOWN : VT_TLB_SRC_KERNEL;
	}
	if (reason == bpf_core_enum_value(enum tlb_flush_reason, TLB_LOCAL_MM_SHOOTDOWN)) {
		if (bpf_map_lookup_elem(&open_syscalls, &tid))
			return VT_TLB_SRC_SYSCALL;
		f = fault_in_progress();
		if (f)
			return (f->e.fault.error_code & PF_COW) == PF_COW ? VT_TLB_SRC_FAULT :
									    VT_TLB_SRC_KERNEL;
		return VT_TLB_SRC_KERNEL;
	}
	return VT_TLB_SRC_UNKNOWN;
}

static __always_inline int tlb_flush(int reason, long pages)
{
	struct vt_event e = {};
	__u32 tid = workload_tid();

	if (!tid || phase_now(tid) == VT_NO_PHASE)
		return 0;
	event_start(&e, tid, VT_TLB_FLUSH);
	e.tlb.reason = reason;
	e.tlb.source = tlb_source(reason, tid);
	e.tlb.pages = pages;
	emit(&e);
	return 0;
}

SEC("tp_btf/tlb_flush")
int BPF_PROG(tlb_flush_btf, int reason, unsigned long pages)
{
	return tlb_flush(reason, (long)pages);
}

SEC("tracepoint/tlb/tlb_flush")
int tlb_flush_tp(struct trace_event_raw_tlb_flush *ctx)
{
	return tlb_flush(ctx->reason, (long)ctx->pages);
}

static __always_inline int rss_change(int member, long size)
{
	struct vt_event e = {}, *f;
	struct vt_open_fault *o;
	__u32 tid = workload_tid();

	if (!tid || phase_now(tid) == VT_NO_PHASE)
		return 0;
	o = fault_in_progress();
	if (o) {
		f = &o->e;
		if (f->fault.nr_rss < 255)
			f->fault.nr_rss++;
		if (member == MM_ANONPAGES) {
			f->fault.rss_anon = size;
			return 0;
		}
	}
	event_start(&e, tid, VT_RSS);
	e.rss.member = member;
	e.rss.size = size;
	emit(&e);
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat_btf, struct mm_struct *mm, int member)
{
	struct task_struct *task;
	long count;

	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid || member < 0 || member > 3)
		return 0;
	/* only changes to the workload's own mm, as the tracepoint's 'curr' */
	task = (struct task_struct *)bpf_get_current_task();
	if ((__u64)mm != (__u64)BPF_CORE_READ(task, mm))
		return 0;
	/*
	 * mm->rss_stat[member].count, what get_mm_counter() reads; the index
	 * is a variable, which a CO-RE access string cannot hold, so the
	 * element's address is computed from relocated offsets and sizes.
	 */
	void *pc = (void *)mm + bpf_core_field_offset(struct mm_struct, rss_stat) +
		   (__u32)member * bpf_core_type_size(struct percpu_counter);

	if (bpf_probe_read_kernel(&count, sizeof(count),
				  pc + bpf_core_field_offset(struct percpu_counter, count)))
		return 0;
	return rss_change(member, (count < 0 ? 0 : count) << 12);
}

SEC("tracepoint/kmem/rss_stat")
int rss_stat_tp(struct trace_event_raw_rss_stat *ctx)
{
	if (!ctx->curr)
		return 0;
	return rss_change(ctx->member, ctx->size);
}

/*
 * TLB-flush cross-calls for the workload's mm, from the csd tracepoints of
 * kernel/smp.c: csd_queue_cpu for each CPU a flush_tlb_func call is queued
 * for (whether or not an IPI had to wake it), on the sender; csd_function_
 * entry/exit around the call on the receiver. The mm is the flush's own
 * (flush_tlb_info.mm), so a flush sent by khugepaged or run on an idle CPU
 * counts too; a run is recorded when its queueing was, in the sender's
 * phase (a flush of the workload's exit, after its phases, in neither). flush_tlb_func's address is the loader's (kallsyms); 0:
 * none are recorded.
 */
const volatile __u64 flush_tlb_func_addr = 0;

/*
 * The phase of each flush recorded as queued, by its flush_tlb_info (one
 * per sending CPU, reused): a run is recorded only for a flush whose
 * queueing was, with the sender's phase, whatever the receiving CPU runs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __s32);
} csd_phase SEC(".maps");


/*
 * A cross-call that is a TLB flush of the workload's mm: its flush_tlb_info
 * (the key of csd_phase), else 0. Its function is read from the csd: the
 * verifier refuses a tracepoint's function-pointer argument.
 */
static __always_inline __u64 workload_flush(struct __call_single_data *csd)
{
	struct flush_tlb_info *info;

	if (!flush_tlb_func_addr || !target_mm ||
	    (__u64)BPF_CORE_READ(csd, func) != flush_tlb_func_addr)
		return 0;
	info = BPF_CORE_READ(csd, info);
	return info && (__u64)BPF_CORE_READ(info, mm) == target_mm ? (__u64)info : 0;
}

/* An IPI record: the current thread's id and the phase it belongs to. */
static __always_inline void ipi_start(struct vt_event *e)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	event_start(e, tid, VT_IPI);
}

SEC("tp_btf/csd_queue_cpu")
int BPF_PROG(csd_queue_btf, unsigned int cpu, unsigned long callsite, void *func,
	     struct __call_single_data *csd)
{
	struct vt_event e = {};
	__u64 key = workload_flush(csd);

	if (!key)
		return 0;
	ipi_start(&e);
	if (e.phase == VT_NO_PHASE) {
		bpf_map_delete_elem(&csd_phase, &key);
		return 0;
	}
	bpf_map_update_elem(&csd_phase, &key, &e.phase, BPF_ANY);
	e.ipi.sent = 1;
	e.ipi.target = cpu;
	emit(&e);
	return 0;
}

SEC("tp_btf/csd_function_entry")
int BPF_PROG(csd_entry_btf, void *func, struct __call_single_data *csd)
{
	__u32 zero = 0;
	__u64 key = workload_flush(csd);
	__s32 *phase;
	struct csd_run *run;

	if (!key)
		return 0;
	phase = bpf_map_lookup_elem(&csd_phase, &key);
	run = bpf_map_lookup_elem(&csd_entry, &zero);
	if (!phase || !run)
		return 0;
	run->phase = *phase;
	run->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/csd_function_exit")
int BPF_PROG(csd_exit_btf, void *func, struct __call_single_data *csd)
{
	__u64 now = bpf_ktime_get_ns();
	struct vt_event e = {};
	struct csd_run *run;
	__u32 zero = 0;

	if (!(run = bpf_map_lookup_elem(&csd_entry, &zero)) || !run->ts)
		return 0;
	ipi_start(&e);
	e.ts = run->ts;
	e.phase = run->phase;	/* the sender's, whatever this CPU runs */
	run->ts = 0;
	e.ipi.ns = now - e.ts;
	emit(&e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
