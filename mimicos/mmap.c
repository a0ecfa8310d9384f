/*
 * mmap.c - address spaces (see mmap.h; the tree is described in mm_types.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mimicos/mmap.h"

#define IS_ERR_VALUE(x)		((unsigned long)(x) >= (unsigned long)-4095)
#define STACK_RND_MASK_64	0x3fffffUL	/* __STACK_RND_MASK(0) */
#define SIZE_128M		(128UL << 20)
#define SZ_1G			(1UL << 30)
#define STACK_GUARD_GAP		(256UL << PAGE_SHIFT)

/* Linux's VM_BUG_ON_MM, always on: an mmap invariant broke. */
#define MM_BUG_ON(cond, ...) mimicos_check(!(cond), "mmap: " __VA_ARGS__)

static inline unsigned long vma_pages(const struct vm_area_struct *v)
{
	return (v->vm_end - v->vm_start) >> PAGE_SHIFT;
}

static inline unsigned long max_ul(unsigned long a, unsigned long b)
{
	return a > b ? a : b;
}

/* vm_start_gap(): the stack guard gap below a VM_GROWSDOWN VMA. */
static unsigned long vm_start_gap(const struct vm_area_struct *v)
{
	unsigned long s = v->vm_start;

	if (v->vm_flags & VM_GROWSDOWN) {
		s -= v->vm_mm->stack_guard_gap;
		if (s > v->vm_start)
			s = 0;
	}
	return s;
}

static void validate_mm_range(struct mm_struct *mm, unsigned long start,
			      unsigned long end);
static void validate_pair(struct mm_struct *mm, const struct vm_area_struct *prev,
			  const struct vm_area_struct *v);

/* ---------------------------------------------------------------- tree */

/* Recompute v's subtree summary from its children. */
static void vma_augment(struct vm_area_struct *v)
{
	struct vm_area_struct *l = v->rb_left, *r = v->rb_right;
	unsigned long gap = 0;

	v->subtree_start = l ? l->subtree_start : v->vm_start;
	v->subtree_end = r ? r->subtree_end : v->vm_end;
	if (l)
		gap = max_ul(l->subtree_gap, v->vm_start - l->subtree_end);
	if (r) {
		gap = max_ul(gap, r->subtree_gap);
		gap = max_ul(gap, r->subtree_start - v->vm_end);
	}
	v->subtree_gap = gap;
}

/* Join two treaps, every VMA of a below every VMA of b. */
static struct vm_area_struct *treap_join(struct vm_area_struct *a,
					 struct vm_area_struct *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->rb_prio > b->rb_prio) {
		a->rb_right = treap_join(a->rb_right, b);
		vma_augment(a);
		return a;
	}
	b->rb_left = treap_join(a, b->rb_left);
	vma_augment(b);
	return b;
}

/* Split t into VMAs starting below key (*l) and at or above key (*r). */
static void treap_split(struct vm_area_struct *t, unsigned long key,
			struct vm_area_struct **l, struct vm_area_struct **r)
{
	if (!t) {
		*l = *r = NULL;
		return;
	}
	if (t->vm_start < key) {
		treap_split(t->rb_right, key, &t->rb_right, r);
		*l = t;
	} else {
		treap_split(t->rb_left, key, l, &t->rb_left);
		*r = t;
	}
	vma_augment(t);
}

/* Refresh the summaries on the path from t down to v after v's range moved. */
static void vma_augment_path(struct vm_area_struct *t, struct vm_area_struct *v)
{
	MM_BUG_ON(!t, "VMA %#lx-%#lx not in the tree", v->vm_start, v->vm_end);
	if (t != v)
		vma_augment_path(v->vm_start < t->vm_start ? t->rb_left : t->rb_right, v);
	vma_augment(t);
}

/* The last VMA starting below addr, or NULL. */
static struct vm_area_struct *vma_before(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *t = mm->mm_mt, *best = NULL;

	while (t) {
		if (t->vm_start < addr) {
			best = t;
			t = t->rb_right;
		} else {
			t = t->rb_left;
		}
	}
	return best;
}

/* vma_link(): insert into the tree and the sorted list. */
static void vma_link(struct mm_struct *mm, struct vm_area_struct *v)
{
	struct vm_area_struct *l, *r, *prev = vma_before(mm, v->vm_start);

	v->vm_mm = mm;
	v->rb_left = v->rb_right = NULL;
	v->rb_prio = wl_splitmix64(&mm->vma_seq);
	vma_augment(v);
	treap_split(mm->mm_mt, v->vm_start, &l, &r);
	mm->mm_mt = treap_join(treap_join(l, v), r);

	v->vm_prev = prev;
	v->vm_next = prev ? prev->vm_next : mm->mmap;
	if (v->vm_next)
		v->vm_next->vm_prev = v;
	if (prev)
		prev->vm_next = v;
	else
		mm->mmap = v;
	mm->map_count++;
}

/* vma_iter_clear() + remove_vma(): take v out of the tree and list and free it. */
static void vma_erase(struct mm_struct *mm, struct vm_area_struct *v)
{
	struct vm_area_struct *l, *m, *r;

	treap_split(mm->mm_mt, v->vm_start, &l, &m);
	treap_split(m, v->vm_start + 1, &m, &r);
	MM_BUG_ON(m != v, "erasing %#lx-%#lx found another VMA", v->vm_start, v->vm_end);
	mm->mm_mt = treap_join(l, r);

	if (v->vm_prev)
		v->vm_prev->vm_next = v->vm_next;
	else
		mm->mmap = v->vm_next;
	if (v->vm_next)
		v->vm_next->vm_prev = v->vm_prev;
	mm->map_count--;
	free(v);
}

/* find_vma() (mm/mmap.c) */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *t = mm->mm_mt, *best = NULL;

	while (t) {
		if (t->vm_end > addr) {
			best = t;
			t = t->rb_left;
		} else {
			t = t->rb_right;
		}
	}
	return best;
}

/* find_vma_intersection() (mm/mmap.c) */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm,
					     unsigned long start, unsigned long end)
{
	struct vm_area_struct *v = find_vma(mm, start);

	return v && v->vm_start < end ? v : NULL;
}

/* vma_lookup() (include/linux/mm.h) */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *v = find_vma(mm, addr);

	return v && v->vm_start <= addr ? v : NULL;
}

/* ---------------------------------------------------------- gap search */

struct gap_req {
	unsigned long low, high, length;
};

/* The part of [gs, ge) inside [low, high), if at least length long. */
static bool gap_fits(unsigned long gs, unsigned long ge, const struct gap_req *q,
		     unsigned long *s, unsigned long *e)
{
	if (gs < q->low)
		gs = q->low;
	if (ge > q->high)
		ge = q->high;
	if (ge <= gs || ge - gs < q->length)
		return false;
	*s = gs;
	*e = ge;
	return true;
}

/* Can subtree t, lying between lo and hi, hold a fitting gap at all? */
static bool subtree_may_fit(const struct vm_area_struct *t, unsigned long lo,
			    unsigned long hi, const struct gap_req *q)
{
	if (hi <= q->low || lo >= q->high)
		return false;
	return t->subtree_gap >= q->length || t->subtree_start - lo >= q->length ||
	       hi - t->subtree_end >= q->length;
}

/*
 * mas_empty_area_rev() as vma_iter_area_highest() uses it: the highest free
 * range of the subtree t (bounded by lo, the end of the VMA before it, and
 * hi, the start of the VMA after it) that overlaps [low, high) by length.
 */
static bool area_highest(const struct vm_area_struct *t, unsigned long lo,
			 unsigned long hi, const struct gap_req *q,
			 unsigned long *s, unsigned long *e)
{
	if (!t)
		return gap_fits(lo, hi, q, s, e);
	if (!subtree_may_fit(t, lo, hi, q))
		return false;
	if (area_highest(t->rb_right, t->vm_end, hi, q, s, e))
		return true;
	return area_highest(t->rb_left, lo, t->vm_start, q, s, e);
}

/* mas_empty_area() as vma_iter_area_lowest() uses it: the lowest such range. */
static bool area_lowest(const struct vm_area_struct *t, unsigned long lo,
			unsigned long hi, const struct gap_req *q,
			unsigned long *s, unsigned long *e)
{
	if (!t)
		return gap_fits(lo, hi, q, s, e);
	if (!subtree_may_fit(t, lo, hi, q))
		return false;
	if (area_lowest(t->rb_left, lo, t->vm_start, q, s, e))
		return true;
	return area_lowest(t->rb_right, t->vm_end, hi, q, s, e);
}

struct vm_unmapped_area_info {
	unsigned long length, low_limit, high_limit;
	unsigned long align_mask, align_offset, start_gap;
};

/* The search both directions share: room for the length, the alignment and the gap. */
static int gap_req_init(struct gap_req *q, const struct mm_struct *mm,
			const struct vm_unmapped_area_info *info)
{
	q->length = info->length + info->align_mask + info->start_gap;
	if (q->length < info->length)
		return -ENOMEM;	/* overflow */
	q->low = max_ul(info->low_limit, mm->mmap_min_addr);
	q->high = info->high_limit;
	return 0;
}

/* unmapped_area_topdown() (mm/vma.c): highest fitting address. */
static unsigned long unmapped_area_topdown(struct mm_struct *mm,
					   const struct vm_unmapped_area_info *info)
{
	struct gap_req q;
	unsigned long gap, gap_start, gap_end;
	struct vm_area_struct *tmp;

	if (gap_req_init(&q, mm, info))
		return (unsigned long)-ENOMEM;
retry:
	if (!area_highest(mm->mm_mt, 0, ULONG_MAX, &q, &gap_start, &gap_end))
		return (unsigned long)-ENOMEM;
	gap = gap_end - info->length;
	gap -= (gap - info->align_offset) & info->align_mask;
	tmp = find_vma(mm, gap_end);
	if (tmp && (tmp->vm_flags & VM_GROWSDOWN) && vm_start_gap(tmp) < gap_end) {
		/* The stack guard gap of the VMA above eats into the gap. */
		q.high = vm_start_gap(tmp);
		mm->stats.unmapped_area_retries++;
		goto retry;
	}
	/* The vm_end_gap() check against prev matters only for VM_GROWSUP (not x86). */
	return gap;
}

/* unmapped_area() (mm/vma.c): lowest fitting address. */
static unsigned long unmapped_area(struct mm_struct *mm,
				   const struct vm_unmapped_area_info *info)
{
	struct gap_req q;
	unsigned long gap, gap_start, gap_end;
	struct vm_area_struct *tmp;

	if (gap_req_init(&q, mm, info))
		return (unsigned long)-ENOMEM;
retry:
	if (!area_lowest(mm->mm_mt, 0, ULONG_MAX, &q, &gap_start, &gap_end))
		return (unsigned long)-ENOMEM;
	gap = gap_start + info->start_gap;
	gap += (info->align_offset - gap) & info->align_mask;
	tmp = find_vma(mm, gap);
	if (tmp && (tmp->vm_flags & VM_GROWSDOWN) &&
	    vm_start_gap(tmp) < gap + q.length - 1) {
		q.low = tmp->vm_end;
		mm->stats.unmapped_area_retries++;
		goto retry;
	}
	return gap;
}

/* mmap_address_hint_valid() (arch/x86/kernel/sys_x86_64.c), one map window. */
static bool mmap_address_hint_valid(struct mm_struct *mm, unsigned long addr,
				    unsigned long len)
{
	return mm->task_size - len >= addr;
}

/* arch_get_unmapped_area() (x86-64): bottom-up from mmap_legacy_base. */
static unsigned long arch_get_unmapped_area(struct mm_struct *mm, unsigned long addr,
					    unsigned long len, unsigned long flags)
{
	struct vm_unmapped_area_info info = {0};
	unsigned long begin = mm->mmap_legacy_base, end = mm->task_size;
	struct vm_area_struct *vma;

	if (flags & MAP_FIXED)
		return addr;
	if (len > end)
		return (unsigned long)-ENOMEM;
	if (addr) {
		addr = PAGE_ALIGN(addr);
		vma = find_vma(mm, addr);
		if (end - len >= addr && (!vma || addr + len <= vm_start_gap(vma)))
			return addr;
	}
	info.length = len;
	info.low_limit = begin;
	info.high_limit = end;
	return unmapped_area(mm, &info);
}

/* arch_get_unmapped_area_topdown() (x86-64): below mmap_base, then bottom-up. */
static unsigned long arch_get_unmapped_area_topdown(struct mm_struct *mm,
						    unsigned long addr,
						    unsigned long len,
						    unsigned long flags)
{
	struct vm_unmapped_area_info info = {0};
	struct vm_area_struct *vma;

	if (len > mm->task_size)
		return (unsigned long)-ENOMEM;
	if (flags & MAP_FIXED)
		return addr;
	if (addr) {
		addr &= PAGE_MASK;
		if (mmap_address_hint_valid(mm, addr, len)) {
			vma = find_vma(mm, addr);
			if (!vma || addr + len <= vm_start_gap(vma))
				return addr;
		}
	}
	info.length = len;
	info.low_limit = PAGE_SIZE;
	info.high_limit = mm->mmap_base;
	addr = unmapped_area_topdown(mm, &info);
	if (!(addr & ~PAGE_MASK))
		return addr;
	/* A full top-down area falls back to the bottom-up search. */
	return arch_get_unmapped_area(mm, 0, len, flags);
}

/* mm_get_unmapped_area_vmflags(): the layout's search. */
static unsigned long mm_get_unmapped_area(struct mm_struct *mm, unsigned long addr,
					  unsigned long len, unsigned long flags)
{
	if (mm->topdown)
		return arch_get_unmapped_area_topdown(mm, addr, len, flags);
	return arch_get_unmapped_area(mm, addr, len, flags);
}

/*
 * __thp_get_unmapped_area() (mm/huge_memory.c) for anonymous memory (off 0):
 * search len + size, then align up; top-down and already aligned: the upper
 * end. 0 when the padded search fails (the caller retries unpadded).
 */
static unsigned long __thp_get_unmapped_area(struct mm_struct *mm, unsigned long addr,
					     unsigned long len, unsigned long flags,
					     unsigned long size)
{
	unsigned long len_pad = len + size, ret, off_sub;

	if (len < size)
		return 0;
	if (len_pad < len)
		return 0;
	ret = mm_get_unmapped_area(mm, addr, len_pad, flags);
	if (IS_ERR_VALUE(ret))
		return 0;
	if (ret == addr)
		return addr;
	off_sub = (0 - ret) & (size - 1);
	if (mm->topdown && !off_sub)
		return ret + size;
	return ret + off_sub;
}

/* thp_get_unmapped_area_vmflags() */
static unsigned long thp_get_unmapped_area(struct mm_struct *mm, unsigned long addr,
					   unsigned long len, unsigned long flags)
{
	unsigned long ret = __thp_get_unmapped_area(mm, addr, len, flags, PMD_SIZE);

	if (ret)
		return ret;
	return mm_get_unmapped_area(mm, addr, len, flags);
}

/* __get_unmapped_area() (mm/mmap.c), anonymous private. */
static unsigned long __get_unmapped_area(struct mm_struct *mm, unsigned long addr,
					 unsigned long len, unsigned long flags)
{
	if (len > mm->task_size)
		return (unsigned long)-ENOMEM;
	/* Larger anonymous mappings without a hint are THP aligned. */
	if (!addr && !(len & (PMD_SIZE - 1)))
		addr = thp_get_unmapped_area(mm, addr, len, flags);
	else
		addr = mm_get_unmapped_area(mm, addr, len, flags);
	if (IS_ERR_VALUE(addr))
		return addr;
	if (addr > mm->task_size - len)
		return (unsigned long)-ENOMEM;
	if (addr & ~PAGE_MASK)
		return (unsigned long)-EINVAL;
	/* security_mmap_addr() -> cap_mmap_addr(): no CAP_SYS_RAWIO below mmap_min_addr. */
	if (addr < mm->mmap_min_addr)
		return (unsigned long)-EPERM;
	return addr;
}

/* get_unmapped_area() -> __get_unmapped_area() */
int get_unmapped_area(struct mm_struct *mm, unsigned long addr, unsigned long len,
		      unsigned long flags, unsigned long *out)
{
	unsigned long a = __get_unmapped_area(mm, addr, len, flags);

	if (IS_ERR_VALUE(a))
		return (int)(long)a;
	*out = a;
	return 0;
}

/* ------------------------------------------------------- merge / split */

static bool flags_mergeable(vm_flags_t a, vm_flags_t b)
{
	return !((a ^ b) & ~VM_IGNORE_MERGE);
}

/* is_mergeable_anon_vma() with a singular anon_vma_chain (no fork). */
static bool anon_compat(uint64_t a, uint64_t b)
{
	return !a || !b || a == b;
}

static uint64_t anon_pick(uint64_t a, uint64_t b)
{
	return a ? a : b;
}

/* vm_stat_account() */
static void vm_stat_account(struct mm_struct *mm, vm_flags_t flags, long npages)
{
	mm->total_vm += npages;
	if ((flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) == VM_EXEC)
		mm->exec_vm += npages;
	else if (flags & VM_GROWSDOWN)
		mm->stack_vm += npages;
	else if ((flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE)
		mm->data_vm += npages;
}

static void khugepaged_enter_vma(struct mm_struct *mm, struct vm_area_struct *vma)
{
	if (mm->hooks.khugepaged_enter_vma)
		mm->hooks.khugepaged_enter_vma(mm->hooks.priv, vma);
}

static void vma_adjust_trans_huge(struct mm_struct *mm, struct vm_area_struct *vma,
				  unsigned long addr)
{
	if (mm->hooks.adjust_trans_huge)
		mm->hooks.adjust_trans_huge(mm->hooks.priv, vma, addr);
}

/* __split_vma() (mm/vma.c) */
int __split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
		unsigned long addr, int new_below)
{
	struct vm_area_struct *new;

	if (vma->vm_start >= addr || vma->vm_end <= addr || (addr & ~PAGE_MASK))
		return -EINVAL;
	new = malloc(sizeof(*new));
	if (!new)
		return -ENOMEM;
	*new = *vma;	/* vm_area_dup() + anon_vma_clone() */
	vma_adjust_trans_huge(mm, vma, addr);
	if (new_below) {
		new->vm_end = addr;
		vma->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
		vma->vm_start = addr;
	} else {
		new->vm_start = addr;
		new->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
		vma->vm_end = addr;
	}
	vma_augment_path(mm->mm_mt, vma);
	vma_link(mm, new);
	mm->stats.vma_splits++;
	return 0;
}

/* split_vma(): __split_vma() unless the mm is at max_map_count. */
static int split_vma(struct mm_struct *mm, struct vm_area_struct *vma,
		     unsigned long addr, int new_below)
{
	if (mm->map_count >= mm->max_map_count)
		return -ENOMEM;
	return __split_vma(mm, vma, addr, new_below);
}

/*
 * vma_merge_new_range() (mm/vma.c): can [start, end) with flags/pgoff join
 * prev and/or next? Returns the grown VMA or NULL.
 */
static struct vm_area_struct *vma_merge_new_range(struct mm_struct *mm,
						  struct vm_area_struct *prev,
						  struct vm_area_struct *next,
						  unsigned long start, unsigned long end,
						  vm_flags_t flags, unsigned long pgoff)
{
	unsigned long pglen = (end - start) >> PAGE_SHIFT;
	bool left, right;

	left = prev && prev->vm_end == start && flags_mergeable(prev->vm_flags, flags) &&
	       prev->vm_pgoff + vma_pages(prev) == pgoff;
	/* can_vma_merge_right(): prev and next must also suit each other. */
	right = next && next->vm_start == end && flags_mergeable(next->vm_flags, flags) &&
		next->vm_pgoff == pgoff + pglen &&
		(!left || anon_compat(prev->anon_vma, next->anon_vma));
	if (left && right) {
		unsigned long new_end = next->vm_end;

		prev->anon_vma = anon_pick(prev->anon_vma, next->anon_vma);
		vma_erase(mm, next);
		prev->vm_end = new_end;
		vma_augment_path(mm->mm_mt, prev);
	} else if (left) {
		prev->vm_end = end;
		vma_augment_path(mm->mm_mt, prev);
	} else if (right) {
		next->vm_start = start;
		next->vm_pgoff = pgoff;
		vma_augment_path(mm->mm_mt, next);
		prev = next;
	} else {
		return NULL;
	}
	mm->stats.vma_merges++;
	khugepaged_enter_vma(mm, prev);
	return prev;
}

/*
 * vma_merge_existing_range() (mm/vma.c): [start, end) of middle is to get
 * newflags; merge it into prev and/or next when it touches them and they
 * suit. Returns the VMA now holding [start, end), or NULL.
 */
static struct vm_area_struct *vma_merge_existing_range(struct mm_struct *mm,
						       struct vm_area_struct *middle,
						       unsigned long start,
						       unsigned long end,
						       vm_flags_t newflags)
{
	struct vm_area_struct *prev = middle->vm_prev, *next = middle->vm_next;
	bool left_side = start == middle->vm_start, right_side = end == middle->vm_end;
	unsigned long pgoff = middle->vm_pgoff + ((start - middle->vm_start) >> PAGE_SHIFT);
	unsigned long pglen = (end - start) >> PAGE_SHIFT;
	uint64_t anon = middle->anon_vma;
	struct vm_area_struct *target;
	bool merge_left, merge_right;

	if (!left_side && !right_side)
		return NULL;
	merge_left = left_side && prev && prev->vm_end == start &&
		     flags_mergeable(prev->vm_flags, newflags) &&
		     anon_compat(prev->anon_vma, anon) &&
		     prev->vm_pgoff + vma_pages(prev) == pgoff;
	merge_right = right_side && next && next->vm_start == end &&
		      flags_mergeable(next->vm_flags, newflags) &&
		      anon_compat(next->anon_vma, anon) &&
		      next->vm_pgoff == pgoff + pglen &&
		      (!merge_left || anon_compat(prev->anon_vma, next->anon_vma));
	if (!merge_left && !merge_right)
		return NULL;

	if (merge_left && merge_right) {
		unsigned long new_end = next->vm_end;

		target = prev;
		target->anon_vma = anon_pick(anon_pick(prev->anon_vma, anon), next->anon_vma);
		vma_erase(mm, middle);
		vma_erase(mm, next);
		target->vm_end = new_end;
		vma_augment_path(mm->mm_mt, target);
	} else if (merge_left) {
		target = prev;
		target->anon_vma = anon_pick(prev->anon_vma, anon);
		if (right_side) {
			vma_erase(mm, middle);
		} else {
			vma_adjust_trans_huge(mm, middle, end);
			middle->vm_start = end;
			middle->vm_pgoff += pglen;
			vma_augment_path(mm->mm_mt, middle);
		}
		target->vm_end = end;
		vma_augment_path(mm->mm_mt, target);
	} else {
		target = next;
		target->anon_vma = anon_pick(next->anon_vma, anon);
		if (left_side) {
			vma_erase(mm, middle);
		} else {
			vma_adjust_trans_huge(mm, middle, start);
			middle->vm_end = start;
			vma_augment_path(mm->mm_mt, middle);
		}
		target->vm_start = start;
		target->vm_pgoff = pgoff;
		vma_augment_path(mm->mm_mt, target);
	}
	target->vm_flags = newflags;
	mm->stats.vma_merges++;
	khugepaged_enter_vma(mm, target);
	return target;
}

/*
 * vma_modify_flags() -> vma_modify(): merge if possible, else split off the
 * parts of vma outside [start, end); the returned VMA is exactly [start, end)
 * (or larger, if merged) and has newflags. NULL with *err on failure.
 */
static struct vm_area_struct *vma_modify_flags(struct mm_struct *mm,
					       struct vm_area_struct *vma,
					       unsigned long start, unsigned long end,
					       vm_flags_t newflags, int *err)
{
	struct vm_area_struct *merged = vma_merge_existing_range(mm, vma, start, end, newflags);

	if (merged)
		return merged;
	if (vma->vm_start < start) {
		*err = split_vma(mm, vma, start, 1);
		if (*err)
			return NULL;
	}
	if (vma->vm_end > end) {
		*err = split_vma(mm, vma, end, 0);
		if (*err)
			return NULL;
	}
	vma->vm_flags = newflags;
	return vma;
}

/* __anon_vma_prepare() + find_mergeable_anon_vma() (mm/rmap.c, mm/vma.c) */
void anon_vma_prepare(struct vm_area_struct *vma)
{
	/* anon_vma_compatible(): adjacent, flags equal but for access bits, pgoff continuous. */
	const vm_flags_t ign = VM_ACCESS_FLAGS | VM_SOFTDIRTY;
	struct vm_area_struct *n = vma->vm_next, *p = vma->vm_prev;

	if (vma->anon_vma)
		return;
	if (n && n->anon_vma && vma->vm_end == n->vm_start &&
	    !((vma->vm_flags ^ n->vm_flags) & ~ign) &&
	    n->vm_pgoff == vma->vm_pgoff + vma_pages(vma)) {
		vma->anon_vma = n->anon_vma;
		return;
	}
	if (p && p->anon_vma && p->vm_end == vma->vm_start &&
	    !((vma->vm_flags ^ p->vm_flags) & ~ign) &&
	    vma->vm_pgoff == p->vm_pgoff + vma_pages(p)) {
		vma->anon_vma = p->anon_vma;
		return;
	}
	vma->anon_vma = ++vma->vm_mm->anon_vma_seq;
}

/* ---------------------------------------------------------------- mmap */

/* calc_vm_prot_bits() (include/linux/mman.h) */
vm_flags_t calc_vm_prot_bits(unsigned long prot)
{
	return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) |
	       ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

/* calc_vm_flag_bits() for anonymous memory. */
static vm_flags_t calc_vm_flag_bits(unsigned long flags)
{
	return ((flags & MAP_GROWSDOWN) ? VM_GROWSDOWN : 0) |
	       ((flags & MAP_LOCKED) ? VM_LOCKED : 0) |
	       ((flags & MAP_STACK) ? VM_NOHUGEPAGE : 0);
}

static void unmap_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	if (mm->hooks.unmap_range)
		mm->hooks.unmap_range(mm->hooks.priv, mm, start, end);
}

/* do_vmi_munmap() -> do_vmi_align_munmap() */
static int __do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	struct vm_area_struct *vma, *next;
	unsigned long end;
	int err;

	if ((start & ~PAGE_MASK) || start > mm->task_size || len > mm->task_size - start)
		return -EINVAL;
	end = start + PAGE_ALIGN(len);
	if (end == start)
		return -EINVAL;
	vma = find_vma_intersection(mm, start, end);
	if (!vma)
		return 0;
	/* vms_gather_munmap_vmas() */
	if (vma->vm_start < start) {
		if (end < vma->vm_end && mm->map_count >= mm->max_map_count)
			return -ENOMEM;
		err = __split_vma(mm, vma, start, 1);
		if (err)
			return err;
	}
	while (vma && vma->vm_start < end) {
		if (vma->vm_end > end) {
			err = __split_vma(mm, vma, end, 0);
			if (err)
				return err;
		}
		next = vma->vm_next;
		unmap_range(mm, vma->vm_start, vma->vm_end);
		vm_stat_account(mm, vma->vm_flags, -(long)vma_pages(vma));
		vma_erase(mm, vma);
		vma = next;
	}
	return 0;
}

/* do_munmap() (mm/mmap.c) */
int do_munmap(struct mm_struct *mm, unsigned long start, unsigned long len)
{
	int err;

	mm->stats.munmap_calls++;
	err = __do_munmap(mm, start, len);
	validate_mm_range(mm, start, start + len);
	return err;
}

/* mmap_region() -> __mmap_region() for an anonymous private range. */
static int mmap_region(struct mm_struct *mm, unsigned long addr, unsigned long len,
		       vm_flags_t vm_flags, unsigned long pgoff)
{
	struct vm_area_struct *vma, *prev, *next;
	int err;

	/* accountable_mapping(): private writable, not MAP_NORESERVE. */
	if ((vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE)
		vm_flags |= VM_ACCOUNT;
	/* MAP_FIXED over old mappings: unmap them first (vms_gather + complete). */
	if (find_vma_intersection(mm, addr, addr + len)) {
		err = __do_munmap(mm, addr, len);
		if (err)
			return err;
	}
	prev = vma_before(mm, addr);
	next = prev ? prev->vm_next : mm->mmap;
	vma = vma_merge_new_range(mm, prev, next, addr, addr + len, vm_flags, pgoff);
	if (!vma) {
		vma = calloc(1, sizeof(*vma));
		if (!vma)
			return -ENOMEM;
		vma->vm_start = addr;
		vma->vm_end = addr + len;
		vma->vm_flags = vm_flags;
		vma->vm_pgoff = pgoff;
		vma_link(mm, vma);
		khugepaged_enter_vma(mm, vma);
	}
	vm_stat_account(mm, vm_flags, (long)(len >> PAGE_SHIFT));
	vma->vm_flags |= VM_SOFTDIRTY;	/* __mmap_complete() */
	return 0;
}

/* do_mmap() (mm/mmap.c), anonymous memory only. */
int do_mmap(struct mm_struct *mm, unsigned long addr, unsigned long len,
	    unsigned long prot, unsigned long flags, unsigned long *out)
{
	vm_flags_t vm_flags;
	unsigned long a;
	int err;

	mm->stats.mmap_calls++;
	if (!len)
		return -EINVAL;
	if ((flags & MAP_TYPE) == MAP_SHARED)
		return -EOPNOTSUPP;	/* shmem: not imitated */
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;
	if (!(flags & MAP_FIXED)) {
		/* round_hint_to_min() */
		addr &= PAGE_MASK;
		if (addr && addr < mm->mmap_min_addr)
			addr = PAGE_ALIGN(mm->mmap_min_addr);
	}
	len = PAGE_ALIGN(len);
	if (!len)
		return -ENOMEM;
	if (mm->map_count > mm->max_map_count)
		return -ENOMEM;
	a = __get_unmapped_area(mm, addr, len, flags);
	if (IS_ERR_VALUE(a))
		return (int)(long)a;
	if (flags & MAP_FIXED_NOREPLACE) {
		if (find_vma_intersection(mm, a, a + len))
			return -EEXIST;
	}
	vm_flags = calc_vm_prot_bits(prot) | calc_vm_flag_bits(flags) | mm->def_flags |
		   VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	if ((flags & MAP_TYPE) != MAP_PRIVATE)
		return -EINVAL;
	if (flags & MAP_NORESERVE)
		vm_flags |= VM_NORESERVE;	/* overcommit != OVERCOMMIT_NEVER */
	/* Anonymous private: pgoff follows the address, for anon_vma merging. */
	err = mmap_region(mm, a, len, vm_flags, a >> PAGE_SHIFT);
	if (err)
		return err;
	validate_mm_range(mm, a, a + len);
	*out = a;
	return 0;
}

/* ------------------------------------------------------------ mprotect */

/* mprotect_fixup() (mm/mprotect.c) */
static int mprotect_fixup(struct mm_struct *mm, struct vm_area_struct *vma,
			  unsigned long start, unsigned long end, vm_flags_t newflags,
			  struct vm_area_struct **pprev)
{
	vm_flags_t oldflags = vma->vm_flags;
	long nrpages = (long)((end - start) >> PAGE_SHIFT);
	int err = 0;

	*pprev = vma;
	if (newflags == oldflags)
		return 0;
	/*
	 * Making a private mapping writable charges it; it is uncharged again
	 * when made read-only only while no anon_vma has been assigned.
	 */
	if (newflags & VM_WRITE) {
		if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)))
			newflags |= VM_ACCOUNT;
	} else if ((oldflags & VM_ACCOUNT) && !vma->anon_vma) {
		newflags &= ~VM_ACCOUNT;
	}
	vma = vma_modify_flags(mm, vma, start, end, newflags, &err);
	if (!vma)
		return err;
	*pprev = vma;
	vm_stat_account(mm, oldflags, -nrpages);
	vm_stat_account(mm, newflags, nrpages);
	if (mm->hooks.change_protection)
		mm->hooks.change_protection(mm->hooks.priv, vma, start, end);
	return 0;
}

/* do_mprotect_pkey() (mm/mprotect.c) without pkeys. */
int do_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long prot)
{
	const unsigned long grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
	struct vm_area_struct *vma, *prev;
	unsigned long end, nstart, tmp;
	vm_flags_t newflags;
	int err = 0;

	mm->stats.mprotect_calls++;
	prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
	if (grows == (PROT_GROWSDOWN | PROT_GROWSUP) || (grows & PROT_GROWSUP))
		return -EINVAL;	/* no VM_GROWSUP on x86 */
	if (start & ~PAGE_MASK)
		return -EINVAL;
	if (!len)
		return 0;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	/* arch_validate_prot() */
	if (prot & ~(unsigned long)(PROT_READ | PROT_WRITE | PROT_EXEC | 0x8 /* PROT_SEM */))
		return -EINVAL;

	vma = find_vma_intersection(mm, start, end);
	if (!vma)
		return -ENOMEM;
	if (grows & PROT_GROWSDOWN) {
		if (!(vma->vm_flags & VM_GROWSDOWN))
			return -EINVAL;
		start = vma->vm_start;
	} else if (vma->vm_start > start) {
		return -ENOMEM;
	}
	nstart = start;
	tmp = vma->vm_start;
	while (vma && vma->vm_start < end) {
		if (vma->vm_start != tmp) {
			err = -ENOMEM;	/* a hole */
			break;
		}
		newflags = calc_vm_prot_bits(prot) | (vma->vm_flags & ~VM_ACCESS_FLAGS);
		/* newflags >> 4 shifts VM_MAY% into the place of VM_% */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
			err = -EACCES;
			break;
		}
		tmp = vma->vm_end < end ? vma->vm_end : end;
		err = mprotect_fixup(mm, vma, nstart, tmp, newflags, &prev);
		if (err)
			break;
		/* tmp = vma_iter_end(): a merge may have grown the VMA past tmp. */
		tmp = prev->vm_end;
		nstart = tmp;
		vma = prev->vm_next;
	}
	if (!err && tmp < end)
		err = -ENOMEM;
	validate_mm_range(mm, start, end);
	return err;
}

/* ------------------------------------------------------------- madvise */

/* madvise_vma_behavior() for one VMA piece [start, end). *out: the VMA now covering it. */
static int madvise_vma_behavior(struct mm_struct *mm, struct vm_area_struct *vma,
				unsigned long start, unsigned long end, int behavior,
				struct vm_area_struct **out)
{
	vm_flags_t new_flags = vma->vm_flags;
	int err = 0;

	*out = vma;
	switch (behavior) {
	case MADV_DONTNEED:
		/* madvise_dontneed_free_valid_vma() */
		if (vma->vm_flags & VM_LOCKED)
			return -EINVAL;
		return mm->hooks.madvise_dontneed ?
		       mm->hooks.madvise_dontneed(mm->hooks.priv, vma, start, end) : 0;
	case MADV_COLLAPSE:
		return mm->hooks.madvise_collapse ?
		       mm->hooks.madvise_collapse(mm->hooks.priv, vma, start, end) : 0;
	case MADV_HUGEPAGE:	/* hugepage_madvise() */
		new_flags = (new_flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
		break;
	case MADV_NOHUGEPAGE:
		new_flags = (new_flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
		break;
	}
	/* madvise_update_vma() */
	if (new_flags == vma->vm_flags)
		return 0;
	vma = vma_modify_flags(mm, vma, start, end, new_flags, &err);
	if (!vma)
		return err;
	*out = vma;
	if (behavior == MADV_HUGEPAGE)
		khugepaged_enter_vma(mm, vma);
	return 0;
}

/* do_madvise() (mm/madvise.c) for the VMA-flag and zap/collapse advice. */
int do_madvise(struct mm_struct *mm, unsigned long start, unsigned long len_in,
	       int behavior)
{
	struct vm_area_struct *vma, *prev;
	unsigned long end, len, tmp, first;
	int unmapped_error = 0, err;

	mm->stats.madvise_calls++;
	if (behavior != MADV_DONTNEED && behavior != MADV_HUGEPAGE &&
	    behavior != MADV_NOHUGEPAGE && behavior != MADV_COLLAPSE)
		return -EINVAL;
	if (start & ~PAGE_MASK)
		return -EINVAL;
	len = PAGE_ALIGN(len_in);
	if (len_in && !len)
		return -EINVAL;
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;

	/* madvise_walk_vmas() */
	first = start;
	vma = find_vma(mm, start);
	for (;;) {
		if (!vma)
			return -ENOMEM;
		if (start < vma->vm_start) {
			unmapped_error = -ENOMEM;
			start = vma->vm_start;
			if (start >= end)
				break;
		}
		tmp = vma->vm_end < end ? vma->vm_end : end;
		err = madvise_vma_behavior(mm, vma, start, tmp, behavior, &prev);
		if (err) {
			validate_mm_range(mm, first, end);
			return err;
		}
		start = tmp;
		if (start < prev->vm_end)
			start = prev->vm_end;
		if (start >= end)
			break;
		vma = find_vma(mm, start);
	}
	validate_mm_range(mm, first, end);
	return unmapped_error;
}

/* ----------------------------------------------------------------- brk */

/* do_brk_flags() (mm/vma.c) */
int do_brk_flags(struct mm_struct *mm, struct vm_area_struct *vma,
		 unsigned long addr, unsigned long len, vm_flags_t flags)
{
	struct vm_area_struct *merged = NULL;

	flags |= VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT | mm->def_flags;
	if (mm->map_count > mm->max_map_count)
		return -ENOMEM;
	/* Expand the existing heap VMA if possible (vmg.just_expand). */
	if (vma && vma->vm_end == addr)
		merged = vma_merge_new_range(mm, vma, NULL, addr, addr + len, flags,
					     addr >> PAGE_SHIFT);
	vma = merged;
	if (!vma) {
		vma = calloc(1, sizeof(*vma));
		if (!vma)
			return -ENOMEM;
		vma->vm_start = addr;
		vma->vm_end = addr + len;
		vma->vm_flags = flags;
		vma->vm_pgoff = addr >> PAGE_SHIFT;
		vma_link(mm, vma);
	}
	vm_stat_account(mm, flags, (long)(len >> PAGE_SHIFT));
	vma->vm_flags |= VM_SOFTDIRTY;
	return 0;
}

/* SYSCALL_DEFINE1(brk) (mm/mmap.c) */
unsigned long sys_brk(struct mm_struct *mm, unsigned long brk)
{
	unsigned long origbrk = mm->brk, newbrk, oldbrk;
	struct vm_area_struct *brkvma, *next;

	mm->stats.brk_calls++;
	if (brk < mm->start_brk)
		goto out;
	newbrk = PAGE_ALIGN(brk);
	oldbrk = PAGE_ALIGN(mm->brk);
	if (oldbrk == newbrk) {
		mm->brk = brk;
		return brk;
	}
	if (brk <= mm->brk) {
		/* Always allow shrinking brk. */
		brkvma = find_vma_intersection(mm, newbrk, oldbrk);
		if (!brkvma || brkvma->vm_start >= oldbrk)
			goto out;
		mm->brk = brk;
		if (__do_munmap(mm, newbrk, oldbrk - newbrk))
			goto out;
		validate_mm_range(mm, newbrk, oldbrk);
		return brk;
	}
	/* Check against existing mmap mappings. */
	next = find_vma(mm, oldbrk);
	if (next && newbrk + PAGE_SIZE > vm_start_gap(next))
		goto out;
	/* vma_prev_limit(&vmi, start_brk): the heap VMA, if it starts at or above start_brk. */
	brkvma = vma_before(mm, oldbrk);
	if (brkvma && brkvma->vm_start < mm->start_brk)
		brkvma = NULL;
	if (do_brk_flags(mm, brkvma, oldbrk, newbrk - oldbrk, 0) < 0)
		goto out;
	mm->brk = brk;
	validate_mm_range(mm, oldbrk, newbrk);
	return brk;
out:
	mm->brk = origbrk;
	return origbrk;
}

/* -------------------------------------------------------------- layout */

/* mmap_base() (arch/x86/mm/mmap.c) */
unsigned long mmap_base(unsigned long rnd, unsigned long task_size,
			unsigned long stack_rlimit)
{
	unsigned long gap = stack_rlimit;
	/* stack_maxrandom_size() + stack_guard_gap */
	unsigned long pad = (STACK_RND_MASK_64 << PAGE_SHIFT) + STACK_GUARD_GAP;
	unsigned long gap_min = SIZE_128M, gap_max = (task_size / 6) * 5;

	if (gap + pad > gap)	/* values close to RLIM_INFINITY overflow */
		gap += pad;
	if (gap < gap_min)
		gap = gap_min;
	else if (gap > gap_max)
		gap = gap_max;
	return PAGE_ALIGN(task_size - gap - rnd);
}

/* randomize_page() (mm/util.c): a page in [start, start + range). */
static unsigned long randomize_page(struct wl_rng *rng, unsigned long start,
				    unsigned long range)
{
	if (start & ~PAGE_MASK) {
		range -= PAGE_ALIGN(start) - start;
		start = PAGE_ALIGN(start);
	}
	if (start > ULONG_MAX - range)
		range = ULONG_MAX - start;
	range >>= PAGE_SHIFT;
	if (!range)
		return start;
	return start + ((wl_rng_next(rng) % range) << PAGE_SHIFT);
}

void mm_layout_init(struct mm_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->task_size = TASK_SIZE_4LEVEL;
	l->stack_rlimit = DEFAULT_STACK_RLIMIT;
	l->mmap_rnd_bits = DEFAULT_MMAP_RND_BITS;
	l->randomize = true;
	l->end_data = 0x555555559000UL;	/* a PIE's end of bss without ASLR */
	l->max_map_count = DEFAULT_MAX_MAP_COUNT;
}

/* arch_pick_mmap_layout() + load_elf_binary()'s arch_randomize_brk() */
void mm_init(struct mm_struct *mm, const struct mm_layout *l, struct wl_rng *rng)
{
	unsigned int bits = l->mmap_rnd_bits ? l->mmap_rnd_bits : DEFAULT_MMAP_RND_BITS;
	unsigned long rnd = 0;

	memset(mm, 0, sizeof(*mm));
	mm->task_size = l->task_size ? l->task_size : TASK_SIZE_4LEVEL;
	mm->max_map_count = l->max_map_count ? l->max_map_count : DEFAULT_MAX_MAP_COUNT;
	mm->stack_guard_gap = STACK_GUARD_GAP;
	mm->mmap_min_addr = DEFAULT_MMAP_MIN_ADDR;
	mm->vma_seq = 0x6d6d61705f736571ULL;	/* fixed: the tree shape is deterministic */

	/* arch_pick_mmap_layout() -> arch_rnd(mmap_rnd_bits) */
	if (l->randomize)
		rnd = (wl_rng_next(rng) & ((1UL << bits) - 1)) << PAGE_SHIFT;
	/* mmap_legacy_base(): __TASK_UNMAPPED_BASE = PAGE_ALIGN(task_size / 3) */
	mm->mmap_legacy_base = PAGE_ALIGN(mm->task_size / 3) + rnd;
	mm->topdown = !l->legacy;
	mm->mmap_base = l->legacy ? mm->mmap_legacy_base :
		mmap_base(rnd, mm->task_size,
			  l->stack_rlimit ? l->stack_rlimit : DEFAULT_STACK_RLIMIT);

	/* load_elf_binary(): start_brk = brk = end of bss, then arch_randomize_brk() */
	mm->start_brk = mm->brk = PAGE_ALIGN(l->end_data);
	if (l->randomize)
		mm->start_brk = mm->brk = randomize_page(rng, mm->brk, SZ_1G);
}

void mm_release(struct mm_struct *mm)
{
	struct vm_area_struct *v = mm->mmap, *n;

	for (; v; v = n) {
		n = v->vm_next;
		free(v);
	}
	mm->mm_mt = mm->mmap = NULL;
	mm->map_count = 0;
}

/* ---------------------------------------------------------- invariants */

/*
 * Recursively check heap order, order and summaries, and that the in-order
 * walk meets the VMAs in list order (*cursor walks the list); returns the
 * node count.
 */
static int validate_subtree(const struct vm_area_struct *t, unsigned long lo,
			    unsigned long hi, uint64_t max_prio,
			    const struct vm_area_struct **cursor)
{
	struct vm_area_struct copy;
	int n;

	if (!t)
		return 0;
	MM_BUG_ON(t->rb_prio > max_prio, "treap heap order broken at %#lx", t->vm_start);
	MM_BUG_ON(t->vm_start < lo || t->vm_end > hi,
		  "VMA %#lx-%#lx out of order or overlapping", t->vm_start, t->vm_end);
	n = 1 + validate_subtree(t->rb_left, lo, t->vm_start, t->rb_prio, cursor);
	MM_BUG_ON(*cursor != t, "list and tree disagree at %#lx", t->vm_start);
	*cursor = t->vm_next;
	n += validate_subtree(t->rb_right, t->vm_end, hi, t->rb_prio, cursor);
	copy = *t;
	vma_augment(&copy);
	MM_BUG_ON(copy.subtree_start != t->subtree_start || copy.subtree_end != t->subtree_end ||
		  copy.subtree_gap != t->subtree_gap,
		  "stale subtree summary at %#lx (gap %#lx, want %#lx)", t->vm_start,
		  t->subtree_gap, copy.subtree_gap);
	return n;
}

void validate_mm(struct mm_struct *mm)
{
	const struct vm_area_struct *v, *prev = NULL;
	int count = 0, tree_count;


	v = mm->mmap;
	tree_count = validate_subtree(mm->mm_mt, 0, ULONG_MAX, UINT64_MAX, &v);
	MM_BUG_ON(v, "list has VMAs past the tree's last");
	for (v = mm->mmap; v; prev = v, v = v->vm_next) {
		count++;
		MM_BUG_ON(v->vm_mm != mm, "VMA %#lx has the wrong mm", v->vm_start);
		MM_BUG_ON(v->vm_prev != prev, "list back link broken at %#lx", v->vm_start);
		MM_BUG_ON(v->vm_start >= v->vm_end, "empty VMA %#lx-%#lx", v->vm_start, v->vm_end);
		MM_BUG_ON((v->vm_start | v->vm_end) & ~PAGE_MASK,
			  "unaligned VMA %#lx-%#lx", v->vm_start, v->vm_end);
		MM_BUG_ON(v->vm_end > mm->task_size, "VMA %#lx-%#lx above task_size",
			  v->vm_start, v->vm_end);
		/*
		 * Linux leaves a new heap VMA unmerged from a VMA ending exactly
		 * at start_brk (do_brk_flags() only expands the heap VMA).
		 */
		if (prev)
			validate_pair(mm, prev, v);
	}
	MM_BUG_ON(count != mm->map_count, "map_count %d but %d VMAs listed", mm->map_count, count);
	MM_BUG_ON(tree_count != count, "%d VMAs in the tree but %d listed", tree_count, count);
}

/* The invariants between two consecutive VMAs. */
static void validate_pair(struct mm_struct *mm, const struct vm_area_struct *prev,
			  const struct vm_area_struct *v)
{
	MM_BUG_ON(v->vm_prev != prev, "list back link broken at %#lx", v->vm_start);
	MM_BUG_ON(prev->vm_end > v->vm_start, "VMAs %#lx-%#lx and %#lx-%#lx overlap",
		  prev->vm_start, prev->vm_end, v->vm_start, v->vm_end);
	MM_BUG_ON(prev->vm_end == v->vm_start && v->vm_start != mm->start_brk &&
		  flags_mergeable(prev->vm_flags, v->vm_flags) &&
		  anon_compat(prev->anon_vma, v->anon_vma) &&
		  prev->vm_pgoff + vma_pages(prev) == v->vm_pgoff,
		  "mergeable VMAs %#lx-%#lx and %#lx-%#lx left apart",
		  prev->vm_start, prev->vm_end, v->vm_start, v->vm_end);
}

/*
 * After each call: the VMAs around [start, end) (one more on each side) are
 * checked in O(k log n): bounds, list links, order, merging, tree lookup and
 * their own summaries. The whole tree is checked by validate_mm() whenever
 * the number of calls reaches a power of two, so the always-on checking
 * costs O(log n) per call plus O(n log calls) in total.
 */
static void validate_mm_range(struct mm_struct *mm, unsigned long start,
			      unsigned long end)
{
	const struct mm_vma_stats *st = &mm->stats;
	uint64_t calls = st->mmap_calls + st->munmap_calls + st->mprotect_calls +
			 st->madvise_calls + st->brk_calls;
	struct vm_area_struct *v, *prev, copy;

	if (!(calls & (calls - 1))) {
		validate_mm(mm);
		return;
	}
	MM_BUG_ON(mm->map_count < 0, "negative map_count %d", mm->map_count);
	MM_BUG_ON(!mm->mmap != !mm->mm_mt, "list and tree disagree on emptiness");
	v = vma_before(mm, start);
	if (v && v->vm_prev)
		v = v->vm_prev;
	if (!v)
		v = mm->mmap;
	for (prev = v ? v->vm_prev : NULL; v; prev = v, v = v->vm_next) {
		MM_BUG_ON(v->vm_mm != mm, "VMA %#lx has the wrong mm", v->vm_start);
		MM_BUG_ON(v->vm_start >= v->vm_end, "empty VMA %#lx-%#lx", v->vm_start, v->vm_end);
		MM_BUG_ON((v->vm_start | v->vm_end) & ~PAGE_MASK,
			  "unaligned VMA %#lx-%#lx", v->vm_start, v->vm_end);
		MM_BUG_ON(v->vm_end > mm->task_size, "VMA %#lx-%#lx above task_size",
			  v->vm_start, v->vm_end);
		MM_BUG_ON(find_vma(mm, v->vm_start) != v, "tree lookup of %#lx misses", v->vm_start);
		copy = *v;
		vma_augment(&copy);
		MM_BUG_ON(copy.subtree_start != v->subtree_start ||
			  copy.subtree_end != v->subtree_end || copy.subtree_gap != v->subtree_gap,
			  "stale subtree summary at %#lx", v->vm_start);
		if (prev)
			validate_pair(mm, prev, v);
		if (v->vm_start > end)
			break;
	}
}
