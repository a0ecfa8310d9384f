/*
 * x86.h - the x86 facts both worlds write down the same way.
 *
 * The page-fault error code: the bits the CPU pushes with #PF, as the
 * kernel names them (arch/x86/include/asm/trap_pf.h, enum
 * x86_pf_error_code). exceptions:page_fault_user passes them on, the probes
 * store them in a fault record (struct vt_event, workload/event.h), MimicOS
 * builds the same word for its own faults, and the comparison and
 * `virtuoso dump` read W and P back out of it.
 *
 * Plain macros, no types: this header is compiled for BPF and for the host.
 */
#ifndef WORKLOAD_X86_H
#define WORKLOAD_X86_H

#define X86_PF_PROT	(1u << 0)	/* P: a present entry refused the access (clear: not present) */
#define X86_PF_WRITE	(1u << 1)	/* W: a write (clear: a read) */
#define X86_PF_USER	(1u << 2)	/* U: from user mode */
#define X86_PF_RSVD	(1u << 3)	/* a reserved bit was set in an entry */
#define X86_PF_INSTR	(1u << 4)	/* I: an instruction fetch */

#endif
