/*
 * kernel.h - the kernel types the probes read, declared with only the fields
 * they use, in place of a full vmlinux.h.
 *
 * Every struct carries preserve_access_index, so clang records each field
 * access as a CO-RE relocation and libbpf fixes the offsets at load time
 * against the running kernel's BTF: the layout written here need not match
 * any kernel, only the field names and types must. The build therefore does
 * not depend on the build machine's kernel (or on its having BTF at all);
 * the host that loads the probes needs BTF, which virtuoso linux checks.
 *
 * Names follow the kernel. A "___kern" suffix is a CO-RE flavour: it
 * relocates against the kernel type without the suffix, for a type whose
 * kernel layout differs from the UAPI one of the same name (struct pt_regs:
 * di/si/ip in the kernel, rdi/rsi/rip in <asm/ptrace.h>).
 */
#ifndef BPF_KERNEL_H
#define BPF_KERNEL_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>	/* struct bpf_perf_event_data: UAPI, fixed */

#define __kern __attribute__((preserve_access_index))

typedef unsigned int gfp_t;

/* Only its size matters here: page_to_pfn() divides by it. */
struct page {
	unsigned long flags;
} __kern;

struct folio;

struct pt_regs___kern {
	unsigned long di, si, dx, r10, r8, r9, ip;
} __kern;

struct percpu_counter {
	__s64 count;
} __kern;

/* In 6.x rss_stat sits in an anonymous struct of mm_struct: CO-RE finds it there. */
struct mm_struct {
	struct percpu_counter rss_stat[4];
} __kern;

/* arch/x86/include/asm/tlbflush.h: what a TLB flush cross-call carries */
struct flush_tlb_info {
	struct mm_struct *mm;
} __kern;

/* include/linux/smp_types.h: a cross-call; info is its function's argument */
struct __call_single_data {
	void *func;		/* smp_call_func_t, read as an address */
	void *info;
} __kern;

struct task_struct {
	struct mm_struct *mm;
	unsigned long min_flt;		/* mm_account_fault()'s counts of the thread's faults */
	unsigned long maj_flt;
} __kern;

/*
 * include/linux/mm_types.h. The probes read the values through CO-RE
 * (bpf_core_enum_value), so a kernel that renumbers them still matches.
 */
enum tlb_flush_reason {
	TLB_FLUSH_ON_TASK_SWITCH,
	TLB_REMOTE_SHOOTDOWN,
	TLB_LOCAL_SHOOTDOWN,
	TLB_LOCAL_MM_SHOOTDOWN,
	TLB_REMOTE_SEND_IPI,
	TLB_REMOTE_WRONG_CPU,
};

/* The record layout of each tracepoint, as in its tracefs format. */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __kern;

struct trace_event_raw_exceptions {
	struct trace_entry ent;
	unsigned long address;
	unsigned long ip;
	unsigned long error_code;
} __kern;

struct trace_event_raw_mm_page_alloc {
	struct trace_entry ent;
	unsigned long pfn;
	unsigned int order;
	unsigned long gfp_flags;
	int migratetype;
} __kern;

struct trace_event_raw_mm_page_free {
	struct trace_entry ent;
	unsigned long pfn;
	unsigned int order;
} __kern;

struct trace_event_raw_mm_khugepaged_scan_pmd {
	struct trace_entry ent;
	struct mm_struct *mm;
	unsigned long pfn;
	int referenced;
	int none_or_zero;
	int status;
	int unmapped;
} __kern;

struct trace_event_raw_mm_collapse_huge_page {
	struct trace_entry ent;
	struct mm_struct *mm;
	int isolated;
	int status;
} __kern;

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
} __kern;

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long id;
	long ret;
} __kern;

struct trace_event_raw_tlb_flush {
	struct trace_entry ent;
	int reason;
	unsigned long pages;
} __kern;

struct trace_event_raw_rss_stat {
	struct trace_entry ent;
	unsigned int mm_id;
	unsigned int curr;
	int member;
	long size;
} __kern;

#endif
