/*
 * mmap.h - address spaces: VMA lookup, placement, merge/split, munmap,
 * mprotect, madvise (VMA-flag part) and brk, as Linux 6.18 does them for
 * anonymous memory on x86-64.
 *
 * Imitates mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/madvise.c, mm/util.c and
 * arch/x86/mm/mmap.c + arch/x86/kernel/sys_x86_64.c. Each function names the
 * Linux function it imitates. The caller is the one "current" task: every
 * function takes the mm explicitly instead of reading current->mm.
 *
 * Errors are 0 or -errno, with Linux's errno for the same bad input. Addresses
 * come back through an out parameter. Page tables are not touched here: the
 * struct mm_hooks in mm_types.h tell the page-table and THP modules which
 * ranges were unmapped, re-protected, split or advised.
 *
 * Placement (mmap without MAP_FIXED, anonymous):
 *   - mmap_base = PAGE_ALIGN(task_size - gap - rnd), gap = stack rlimit +
 *     stack_maxrandom_size (0x3fffff pages) + stack_guard_gap, clamped to
 *     [128 MiB, task_size / 6 * 5]; rnd = (random & (2^28 - 1)) << 12.
 *   - a hint that is free is used as is; otherwise the highest free gap below
 *     mmap_base that fits (vm_unmapped_area, top-down); the bottom-up search
 *     from mmap_legacy_base is the fallback.
 *   - no hint and len a multiple of 2 MiB: search for len + 2 MiB and align
 *     the start up to 2 MiB, so the mapping ends at the top of the gap when
 *     that is aligned (__thp_get_unmapped_area): 8 MiB then 4 MiB land
 *     back-to-back, both aligned; 2 MiB + 4 KiB is not aligned.
 *
 * Invariants (validate_mm, always on, abort on violation): VMAs sorted and
 * non-overlapping, page-aligned and inside [0, task_size); the treap's heap
 * order and subtree summaries match a recomputation; the list matches the
 * in-order walk; map_count is the number of VMAs; and no two adjacent VMAs
 * that Linux would have merged are left apart (except a heap VMA created
 * against a VMA ending at start_brk, which do_brk_flags() never merges).
 * Every call ends with a check of the VMAs around the range it touched
 * (O(log n) each) and, whenever the number of calls is a power of two, the
 * whole validate_mm() walk; the fault path never pays for either.
 *
 * Not imitated: file and shared (shmem) mappings (-EOPNOTSUPP), mremap,
 * fork, mlock accounting, RLIMIT_AS/RLIMIT_DATA checks (may_expand_vm,
 * check_data_rlimit), pkeys, 5-level addresses above the 47-bit window,
 * madvise advice other than the four above (-EINVAL).
 */
#ifndef MIMICOS_MMAP_H
#define MIMICOS_MMAP_H

#include <stdbool.h>
#include <sys/mman.h>

#include "mimicos/mm_types.h"
#include "workload/prng.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

/* x86-64 4-level paging: TASK_SIZE_MAX = (1 << 47) - PAGE_SIZE. */
#define TASK_SIZE_4LEVEL	((1UL << 47) - PAGE_SIZE)
#define DEFAULT_MAX_MAP_COUNT	65530
#define DEFAULT_STACK_RLIMIT	(8UL << 20)
#define DEFAULT_MMAP_RND_BITS	28
#define DEFAULT_MMAP_MIN_ADDR	65536UL

/* What exec would set up; see mm_layout_init() for defaults. */
struct mm_layout {
	unsigned long task_size;	/* 0: TASK_SIZE_4LEVEL */
	unsigned long stack_rlimit;	/* RLIMIT_STACK cur; 0: 8 MiB */
	unsigned int mmap_rnd_bits;	/* 0: 28 */
	bool randomize;			/* PF_RANDOMIZE (ASLR on) */
	bool legacy;			/* legacy_va_layout: bottom-up */
	unsigned long end_data;		/* end of bss; the heap starts here + rnd */
	int max_map_count;		/* 0: 65530 */
};

/* Defaults for a 64-bit process with ASLR on: fills 'l'. */
void mm_layout_init(struct mm_layout *l);

/*
 * An empty address space laid out as arch_pick_mmap_layout() and
 * arch_randomize_brk() do, drawing mmap's random offset first and then the
 * heap's from 'rng'. Never fails; mm_release() frees the VMAs.
 */
void mm_init(struct mm_struct *mm, const struct mm_layout *l, struct wl_rng *rng);
void mm_release(struct mm_struct *mm);

/* arch/x86/mm/mmap.c mmap_base(): exported so tests and runs can check it. */
unsigned long mmap_base(unsigned long rnd, unsigned long task_size,
			unsigned long stack_rlimit);

/* Lookup, all O(log n). */
/* find_vma(): the first VMA with vm_end > addr, or NULL. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
/* find_vma_intersection(): the first VMA overlapping [start, end), or NULL. */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm,
					     unsigned long start, unsigned long end);
/* vma_lookup(): the VMA containing addr, or NULL. */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);
/* In-order iteration: vma_next(mm->mmap...) or the macro below. */
static inline struct vm_area_struct *vma_next(struct vm_area_struct *vma)
{
	return vma->vm_next;
}
#define for_each_vma(mm, vma) \
	for ((vma) = (mm)->mmap; (vma); (vma) = (vma)->vm_next)

/*
 * do_mmap() for anonymous mappings (file == NULL): prot PROT_*, flags MAP_*
 * (MAP_PRIVATE or MAP_SHARED required; MAP_ANONYMOUS implied; MAP_FIXED,
 * MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_STACK, MAP_NORESERVE honoured).
 * On success *out is the mapping's address. -EINVAL (len 0, bad flags,
 * unaligned MAP_FIXED address), -ENOMEM (no room, too many maps, past
 * task_size), -EEXIST (MAP_FIXED_NOREPLACE over a mapping).
 */
int do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len,
	    unsigned long prot, unsigned long flags, unsigned long *out);

/* get_unmapped_area() alone (no mapping made): 0 or -errno, *out the address. */
int get_unmapped_area(struct mm_struct *mm, unsigned long addr, unsigned long len,
		      unsigned long flags, unsigned long *out);

/* do_vmi_munmap(): unmap [start, start + len); splits VMAs at the edges. */
int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);

/* do_mprotect_pkey() without pkeys: -EINVAL, -ENOMEM (hole), -EACCES. */
int do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long prot);

/*
 * do_madvise() for MADV_HUGEPAGE, MADV_NOHUGEPAGE (VMA flags: split and
 * merge here), MADV_DONTNEED and MADV_COLLAPSE (passed to the hooks per VMA
 * piece). -EINVAL for other advice or bad ranges, -ENOMEM if part of the
 * range is unmapped (the mapped parts are still advised, as Linux does).
 */
int do_madvise(struct mm_struct *mm, unsigned long start, unsigned long len,
	       int behavior);

/*
 * SYSCALL_DEFINE1(brk): returns the new break, or the old one when the
 * request is refused (below start_brk, would hit a mapping, no memory).
 */
unsigned long sys_brk(struct mm_struct *mm, unsigned long brk);

/* do_brk_flags(): map [addr, addr + len) as heap, extending 'vma' if it ends at addr. */
int do_brk_flags(struct mm_struct *mm, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len, vm_flags_t flags);

/* __split_vma(): split at addr; new_below puts the new VMA below addr. */
int __split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
		unsigned long addr, int new_below);

/*
 * anon_vma_prepare(): give vma an anon_vma id (at first fault), reusing a
 * mergeable neighbour's as find_mergeable_anon_vma() does.
 */
void anon_vma_prepare(struct vm_area_struct *vma);

/* calc_vm_prot_bits(): PROT_* to VM_READ/VM_WRITE/VM_EXEC. */
vm_flags_t calc_vm_prot_bits(unsigned long prot);

/* validate_mm(): check every invariant above; abort() with a message if one fails. */
void validate_mm(struct mm_struct *mm);

#endif
