/*
 * vmtrace.h - the records the vmtrace probes (bpf/vmtrace.bpf.c) send to
 * their loader (linux-probes/vmtrace.c): struct vt_event.
 *
 * The record is the event model both worlds share, so it lives on the
 * shared floor (workload/event.h); this header is the probe trio's name for
 * it. Fixed-width types only: it is compiled for BPF and for the host.
 */
#ifndef BPF_VMTRACE_H
#define BPF_VMTRACE_H

#include "workload/event.h"

/*
 * A thread's fault in progress, in its task storage (the loader reads the
 * last one at the end of a run): the record being built, and the thread's
 * fault counters at its entry, by which a fault whose completion event was
 * not sampled (--latency-sample) is seen to have completed.
 */
struct vt_open_fault {
	struct vt_event e;
	__u64 flt;		/* min_flt + maj_flt at entry (latency_sample > 1) */
	__u64 maj_flt;		/* maj_flt at entry */
};

#endif
