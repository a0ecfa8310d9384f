// SPDX-License-Identifier: GPL-2.0
/*
 * hookfloor.bpf.c - the least a probe on the fault path can cost: the two
 * hooks every recorded fault needs (exceptions:page_fault_user for the
 * fault, kmem:mm_page_alloc for its folio), attached as tp_btf like
 * vmtrace's, each doing no more than counting its runs for one process.
 *
 * bench/bench_linux.c runs the fault storm under these beside the real
 * probes: what they add is this host's price of dispatching a BPF program
 * twice per fault (the tracepoints' static branches, the trampoline, the
 * program's entry and exit), which no probe on these hooks can go below.
 */
#include "bpf/kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/hookfloor.h"

/* Count one process's runs; 0: every process's (each run then does the same work) */
const volatile __u32 target_tgid = 0;

static __always_inline bool wanted(void)
{
	return !target_tgid || (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

__u64 faults = 0;
__u64 allocs = 0;

SEC("tp_btf/page_fault_user")
int BPF_PROG(floor_fault, unsigned long address, void *regs, unsigned long error_code)
{
	if (wanted())
		faults++;
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(floor_alloc, void *page, unsigned int order, gfp_t gfp, int migratetype)
{
	if (wanted())
		allocs++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
