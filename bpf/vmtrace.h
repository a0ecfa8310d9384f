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

#endif
