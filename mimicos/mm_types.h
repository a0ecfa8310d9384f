/*
 * mm_types.h - the address space: struct mm_struct and struct vm_area_struct.
 *
 * Imitates include/linux/mm_types.h and the VM_* bits of include/linux/mm.h
 * (Linux MIMICOS_LINUX_VERSION, see version.h; x86-64). Only what anonymous memory needs is kept: no files,
 * no mempolicy, no userfaultfd, no anon names, no fork (so every anon_vma
 * chain is singular).
 *
 * The VMA tree. Linux 6.1+ keeps VMAs in a maple tree (a B-tree of up to 16
 * slots per node, RCU-safe, each allocation-range node storing the largest gap
 * below each slot so vm_unmapped_area() can skip whole subtrees). Linux 3.8 to
 * 6.0 used an augmented red-black tree plus a sorted vm_next/vm_prev list, the
 * augmentation being rb_subtree_gap. MimicOS has one thread per mm and no RCU
 * readers, so it uses the simpler pre-maple shape: a binary search tree keyed
 * by vm_start plus the vm_prev/vm_next list, where the tree is a treap (Aragon
 * and Seidel) whose priorities are a hash of a per-mm sequence number, so the
 * shape is deterministic, expected depth O(log n), and insert/erase are a few
 * lines of split/merge. Each node is augmented with a summary of its subtree:
 * lowest vm_start, highest vm_end and the largest gap between two consecutive
 * VMAs inside the subtree (subtree_gap). Unlike rb_subtree_gap, the summary
 * depends only on the subtree, so inserting or erasing a VMA never has to
 * refresh its neighbours; the gaps at a subtree's edges are computed during
 * the search from the bounds passed down. find_vma() and the top-down gap
 * search are O(log n).
 */
#ifndef MIMICOS_MM_TYPES_H
#define MIMICOS_MM_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "mimicos/mm.h"

#define PMD_SHIFT	21
#define PMD_SIZE	(1UL << PMD_SHIFT)
#define PMD_MASK	(~(PMD_SIZE - 1))

/* vm_flags bits, with Linux's values (include/linux/mm.h). */
typedef unsigned long vm_flags_t;
#define VM_NONE		0x00000000UL
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_EXEC		0x00000004UL
#define VM_SHARED	0x00000008UL
#define VM_MAYREAD	0x00000010UL
#define VM_MAYWRITE	0x00000020UL
#define VM_MAYEXEC	0x00000040UL
#define VM_MAYSHARE	0x00000080UL
#define VM_GROWSDOWN	0x00000100UL
#define VM_LOCKED	0x00002000UL
#define VM_ACCOUNT	0x00100000UL
#define VM_NORESERVE	0x00200000UL
#define VM_SOFTDIRTY	0x08000000UL
#define VM_HUGEPAGE	0x20000000UL
#define VM_NOHUGEPAGE	0x40000000UL

#define VM_ACCESS_FLAGS		(VM_READ | VM_WRITE | VM_EXEC)
/* Bits that never prevent a merge (VM_IGNORE_MERGE). */
#define VM_IGNORE_MERGE		VM_SOFTDIRTY
/* x86-64 VM_DATA_DEFAULT_FLAGS (VM_DATA_FLAGS_TSK_EXEC without READ_IMPLIES_EXEC). */
#define VM_DATA_DEFAULT_FLAGS	(VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC)

struct mm_struct;
struct mm_mem;

struct vm_area_struct {
	unsigned long vm_start;		/* first byte */
	unsigned long vm_end;		/* first byte after */
	vm_flags_t vm_flags;
	unsigned long vm_pgoff;		/* anon: vm_start >> PAGE_SHIFT at creation */
	/*
	 * Placeholder for struct anon_vma: 0 until the first fault calls
	 * anon_vma_prepare(), then an id shared by the pieces of a split.
	 */
	uint64_t anon_vma;
	struct mm_struct *vm_mm;

	/* Sorted list (Linux <= 6.0's vm_next/vm_prev). */
	struct vm_area_struct *vm_prev, *vm_next;

	/* Treap node and its subtree summary (see the top of this file). */
	struct vm_area_struct *rb_left, *rb_right;
	uint64_t rb_prio;
	unsigned long subtree_start;	/* lowest vm_start in the subtree */
	unsigned long subtree_end;	/* highest vm_end in the subtree */
	unsigned long subtree_gap;	/* largest gap between VMAs of the subtree */
};

/*
 * Called where Linux leaves the VMA layer for page tables, which other
 * modules own. Every hook may be NULL. 'priv' is passed back unchanged.
 */
struct mm_hooks {
	void *priv;
	/* unmap_region()/zap of [start, end) before the VMAs go away. */
	void (*unmap_range)(void *priv, struct mm_struct *mm,
			    unsigned long start, unsigned long end);
	/* vma_adjust_trans_huge(): a VMA boundary moves to 'addr' (split_huge_pmd). */
	void (*adjust_trans_huge)(void *priv, struct vm_area_struct *vma,
				  unsigned long addr);
	/* change_protection() of [start, end) to vma->vm_flags. */
	void (*change_protection)(void *priv, struct vm_area_struct *vma,
				  unsigned long start, unsigned long end);
	/* khugepaged_enter_vma() after mmap, merge or MADV_HUGEPAGE. */
	void (*khugepaged_enter_vma)(void *priv, struct vm_area_struct *vma);
	/* MADV_DONTNEED: zap_page_range_single() of [start, end). */
	int (*madvise_dontneed)(void *priv, struct vm_area_struct *vma,
				unsigned long start, unsigned long end);
	/* MADV_COLLAPSE: madvise_collapse() of [start, end). */
	int (*madvise_collapse)(void *priv, struct vm_area_struct *vma,
				unsigned long start, unsigned long end);
};

/* Plain counters of VMA-layer work (no Linux vmstat names exist for these). */
struct mm_vma_stats {
	uint64_t mmap_calls;
	uint64_t munmap_calls;
	uint64_t mprotect_calls;
	uint64_t madvise_calls;
	uint64_t brk_calls;
	uint64_t vma_splits;	/* __split_vma */
	uint64_t vma_merges;	/* a merge that removed or grew a VMA */
	uint64_t unmapped_area_retries;
};

struct mm_struct {
	struct vm_area_struct *mm_mt;	/* treap root (Linux: the maple tree) */
	struct vm_area_struct *mmap;	/* lowest VMA (Linux <= 6.0: mm->mmap) */
	int map_count;			/* number of VMAs */
	int max_map_count;		/* sysctl_max_map_count, 65530 */

	unsigned long task_size;	/* TASK_SIZE: top of user space */
	unsigned long mmap_base;	/* top-down search starts below this */
	unsigned long mmap_legacy_base;	/* bottom-up fallback base */
	bool topdown;			/* MMF_TOPDOWN */
	unsigned long stack_guard_gap;	/* stack_guard_gap, 256 pages */
	unsigned long mmap_min_addr;	/* vm.mmap_min_addr, 65536 */

	unsigned long start_brk, brk;	/* heap [start_brk, brk) */

	unsigned long total_vm;		/* pages mapped */
	unsigned long data_vm;		/* private writable, not stack */
	unsigned long stack_vm;		/* VM_GROWSDOWN */
	unsigned long exec_vm;		/* VM_EXEC and not VM_WRITE */
	vm_flags_t def_flags;

	uint64_t vma_seq;		/* treap priorities */
	uint64_t anon_vma_seq;		/* last anon_vma id handed out */

	struct mm_hooks hooks;
	struct mm_vma_stats stats;

	/*
	 * Page tables, RSS counters and MMF_* bits of this mm (memory.h:
	 * Linux's mm->pgd, mm->rss_stat, mm->flags); NULL until mm_mem_init().
	 * mm_init() clears it, so attach it afterwards.
	 */
	struct mm_mem *mem;
};

#endif
