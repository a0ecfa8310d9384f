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
 * The page-table entry bits: what the hardware walker reads in an entry of
 * any level, as the kernel names them (arch/x86/include/asm/pgtable_types.h,
 * page_64_types.h). MimicOS writes its tables with them (mimicos/pgtable.h)
 * and the simulator's walker reads them back (simulator/mmu.c).
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

#define _PAGE_BIT_PRESENT	0
#define _PAGE_BIT_RW		1
#define _PAGE_BIT_USER		2
#define _PAGE_BIT_PWT		3
#define _PAGE_BIT_PCD		4
#define _PAGE_BIT_ACCESSED	5
#define _PAGE_BIT_DIRTY		6
#define _PAGE_BIT_PSE		7	/* 4 MB (or 2MB) page */
#define _PAGE_BIT_PAT		7	/* on 4KB pages */
#define _PAGE_BIT_GLOBAL	8
#define _PAGE_BIT_PAT_LARGE	12	/* on 2MB or 1GB pages */
#define _PAGE_BIT_NX		63

#define _PAGE_PRESENT	(1ULL << _PAGE_BIT_PRESENT)
#define _PAGE_RW	(1ULL << _PAGE_BIT_RW)
#define _PAGE_USER	(1ULL << _PAGE_BIT_USER)
#define _PAGE_PWT	(1ULL << _PAGE_BIT_PWT)
#define _PAGE_PCD	(1ULL << _PAGE_BIT_PCD)
#define _PAGE_ACCESSED	(1ULL << _PAGE_BIT_ACCESSED)
#define _PAGE_DIRTY	(1ULL << _PAGE_BIT_DIRTY)
#define _PAGE_PSE	(1ULL << _PAGE_BIT_PSE)
#define _PAGE_PAT	(1ULL << _PAGE_BIT_PAT)
#define _PAGE_GLOBAL	(1ULL << _PAGE_BIT_GLOBAL)
#define _PAGE_PAT_LARGE	(1ULL << _PAGE_BIT_PAT_LARGE)
#define _PAGE_NX	(1ULL << _PAGE_BIT_NX)

/* An entry's frame (the next table's or the page's) is bits 12..51. */
#define __PHYSICAL_MASK_SHIFT	52
#define __PHYSICAL_MASK		((1ULL << __PHYSICAL_MASK_SHIFT) - 1)
#define PTE_PFN_MASK		(__PHYSICAL_MASK & ~((1ULL << 12) - 1))
#define PTE_FLAGS_MASK		(~PTE_PFN_MASK)

#endif
