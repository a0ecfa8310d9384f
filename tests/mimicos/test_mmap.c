/*
 * test_mmap.c - VMA tree, placement, merge/split, munmap, mprotect, madvise,
 * brk and the invariant checker.
 *
 * Expected addresses are derived by hand from Linux 6.18's rules (mmap.h):
 * with ASLR off, mmap_base = TASK_SIZE - gap, TASK_SIZE = 0x7ffffffff000,
 * gap = 8 MiB (stack rlimit) + 0x3fffff000 (stack_maxrandom_size) + 1 MiB
 * (stack_guard_gap) = 0x4008ff000, so mmap_base = 0x7ffbff700000, which is
 * 1 MiB past a 2 MiB boundary. Seeded values (seed 42) were computed by a
 * separate Python script from the published xoshiro256** and splitmix64 and the
 * formulas of arch_rnd() and randomize_page(): rnd = 0xc2ec716000, so
 * mmap_base = 0x7f3912fea000; the heap's offset is 0x13a7e000.
 */
#include <errno.h>
#include <signal.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "mimicos/mmap.h"

#define MiB (1UL << 20)
#define PMD (2 * MiB)
#define ALIGN_DOWN_PMD(x) ((x) & ~(PMD - 1))
/*
 * The placement rules' inputs (mimicos/mmap.c, arch/x86/mm/mmap.c):
 * TASK_SIZE_4LEVEL = 2^47 - 4 KiB; stack_maxrandom_size() = STACK_RND_MASK
 * 0x3fffff pages; stack_guard_gap = 256 pages; the stack rlimit 8 MiB.
 */
#define TASK_TOP ((1UL << 47) - 4096)
#define STACK_RND (0x3fffffUL << PAGE_SHIFT)
#define GUARD_GAP (256UL << PAGE_SHIFT)
/* mmap_base() without ASLR: TASK_SIZE - (rlimit + maxrandom + guard gap) */
#define BASE_NORAND (TASK_TOP - (8 * MiB + STACK_RND + GUARD_GAP))
/* mm_layout_init()'s end of bss, a PIE's without ASLR: start_brk before arch_randomize_brk() */
#define END_DATA 0x555555559000UL
/*
 * Seed 42 (the Python script above): arch_rnd() = 0xc2ec716000 below the
 * unrandomized base; randomize_page() puts the heap 0x13a7e000 past END_DATA.
 */
#define RND_SEED42 0xc2ec716000UL
#define BRK_OFF_SEED42 0x13a7e000UL
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#define ANON_FLAGS (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT)

static struct mm_struct mm;

/* An address space with ASLR off (deterministic without any PRNG). */
static void setup_norand(void)
{
	struct mm_layout l;
	struct wl_rng rng;

	mm_layout_init(&l);
	l.randomize = false;
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
}

static void teardown(void)
{
	mm_release(&mm);
}

static unsigned long map(unsigned long addr, unsigned long len, unsigned long prot,
			 unsigned long flags)
{
	unsigned long a = 0;
	int err = do_mmap(&mm, addr, len, prot, flags, &a);

	cr_assert_eq(err, 0, "do_mmap(%#lx, %#lx) = %d", addr, len, err);
	return a;
}

/* Flags without VM_SOFTDIRTY, which every new mapping carries. */
static vm_flags_t flags_of(const struct vm_area_struct *v)
{
	return v->vm_flags & ~VM_SOFTDIRTY;
}

Test(mmap, mmap_base_without_aslr_is_task_size_minus_stack_gap, .init = setup_norand,
     .fini = teardown)
{
	cr_expect_eq(mm.mmap_base, BASE_NORAND);
	cr_expect_eq(BASE_NORAND, 0x7ffbff700000UL, "the header's arithmetic");
	cr_expect_eq(mmap_base(0, TASK_SIZE_4LEVEL, 8 * MiB), BASE_NORAND);
	/* A tiny rlimit is clamped up to 128 MiB, a huge one down to 5/6 of the space. */
	cr_expect_eq(mmap_base(0, TASK_SIZE_4LEVEL, ~0UL),
		     PAGE_ALIGN(TASK_SIZE_4LEVEL - TASK_SIZE_4LEVEL / 6 * 5));
	/* rlimit 0: the gap is maxrandom + guard gap alone, above the 128 MiB floor */
	cr_expect_eq(mmap_base(0, 1UL << 40, 0), (1UL << 40) - (STACK_RND + GUARD_GAP));
	cr_expect_eq(mm.start_brk, END_DATA);
	/* __TASK_UNMAPPED_BASE = PAGE_ALIGN(TASK_SIZE / 3), 0x2aaaaaaab000 */
	cr_expect_eq(mm.mmap_legacy_base, PAGE_ALIGN(TASK_TOP / 3));
}

Test(mmap, seeded_layout_places_first_64mib_below_mmap_base)
{
	struct mm_layout l;
	struct wl_rng rng;

	mm_layout_init(&l);
	wl_rng_seed(&rng, 42);
	mm_init(&mm, &l, &rng);
	/* 0x7f3912fea000 and 0x555568fd7000 */
	cr_expect_eq(mm.mmap_base, BASE_NORAND - RND_SEED42);
	cr_expect_eq(mm.start_brk, END_DATA + BRK_OFF_SEED42);
	cr_expect_eq(mm.brk, mm.start_brk);
	/*
	 * A 2 MiB multiple: search 64 + 2 MiB below mmap_base, the start
	 * aligned down from the top: rounddown(mmap_base - 64 MiB, 2 MiB),
	 * 0x7f390ee00000.
	 */
	cr_expect_eq(map(0, 64 * MiB, RW, ANON), ALIGN_DOWN_PMD(mm.mmap_base - 64 * MiB));
	mm_release(&mm);
}

Test(mmap, first_64mib_sits_at_rounddown_base_minus_64mib, .init = setup_norand,
     .fini = teardown)
{
	unsigned long a = map(0, 64 * MiB, RW, ANON);
	struct vm_area_struct *v = vma_lookup(&mm, a);

	/* rounddown(mmap_base - 64 MiB, 2 MiB) = 0x7ffbfb600000 */
	cr_expect_eq(a, ALIGN_DOWN_PMD(BASE_NORAND - 64 * MiB));
	cr_assert_not_null(v);
	cr_expect_eq(v->vm_start, a);
	cr_expect_eq(v->vm_end, a + 64 * MiB);
	cr_expect_eq(v->vm_pgoff, a >> PAGE_SHIFT);
	cr_expect_eq(flags_of(v), ANON_FLAGS);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(mm.total_vm, 64 * MiB >> PAGE_SHIFT);
	cr_expect_eq(mm.data_vm, 64 * MiB >> PAGE_SHIFT);
}

Test(mmap, aligned_8mib_then_4mib_pack_back_to_back, .init = setup_norand,
     .fini = teardown)
{
	unsigned long a8 = map(0, 8 * MiB, RW, ANON);
	unsigned long a4 = map(0, 4 * MiB, RW, ANON);

	/* 8 MiB: search 10 MiB below mmap_base, align: 0x7ffbfee00000. */
	cr_expect_eq(a8, ALIGN_DOWN_PMD(BASE_NORAND - 8 * MiB));
	/* 4 MiB: the 1 MiB left above is too small; the next gap ends at a8: 0x7ffbfea00000. */
	cr_expect_eq(a8 + 8 * MiB, BASE_NORAND - MiB);
	cr_expect_eq(a4, ALIGN_DOWN_PMD(a8 - 4 * MiB));
	cr_expect_eq(a4 + 4 * MiB, a8);
	cr_expect_eq(a8 % PMD_SIZE, 0);
	cr_expect_eq(a4 % PMD_SIZE, 0);
	/* Adjacent anonymous mappings merge: one VMA. */
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(find_vma(&mm, 0)->vm_start, a4);
	cr_expect_eq(find_vma(&mm, 0)->vm_end, a8 + 8 * MiB);
}

Test(mmap, length_2mib_plus_4kib_is_not_aligned, .init = setup_norand, .fini = teardown)
{
	unsigned long a = map(0, 2 * MiB + 4096, RW, ANON);

	cr_expect_eq(a, BASE_NORAND - 2 * MiB - 4096);
	cr_expect_neq(a % PMD_SIZE, 0);
}

Test(mmap, free_hint_is_used_unaligned, .init = setup_norand, .fini = teardown)
{
	/* any free hint; this one 1 MiB past a 2 MiB boundary, to show no alignment */
	cr_expect_eq(map(0x10000100000UL, 4 * MiB, RW, ANON), 0x10000100000UL);
	/* A busy hint falls back to the top-down search (and no THP alignment). */
	cr_expect_eq(map(0x10000200000UL, 4 * MiB, PROT_READ, ANON), BASE_NORAND - 4 * MiB);
}

Test(mmap, adjacent_anonymous_mappings_merge, .init = setup_norand, .fini = teardown)
{
	unsigned long a = map(0, MiB, RW, ANON);
	unsigned long b = map(0, MiB, RW, ANON);
	unsigned long c;
	struct vm_area_struct *v;

	cr_expect_eq(a, BASE_NORAND - MiB);
	cr_expect_eq(b, BASE_NORAND - 2 * MiB);
	cr_expect_eq(mm.map_count, 1);
	v = vma_lookup(&mm, a);
	cr_expect_eq(v->vm_start, b);
	cr_expect_eq(v->vm_end, BASE_NORAND);
	cr_expect_eq(v->vm_pgoff, b >> PAGE_SHIFT);
	/* Different protection: placed adjacent, not merged. */
	c = map(0, MiB, PROT_READ, ANON);
	cr_expect_eq(c, b - MiB);
	cr_expect_eq(mm.map_count, 2);
	cr_expect_eq(mm.stats.vma_merges, 1);
}

Test(mmap, mapping_between_two_merges_all_three, .init = setup_norand, .fini = teardown)
{
	unsigned long base = 0x200000000000UL;

	map(base, 4096, RW, ANON | MAP_FIXED);
	map(base + 2 * 4096, 4096, RW, ANON | MAP_FIXED);
	cr_expect_eq(mm.map_count, 2);
	map(base + 4096, 4096, RW, ANON | MAP_FIXED);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(vma_lookup(&mm, base)->vm_end, base + 3 * 4096);
}

Test(mmap, anon_vmas_of_different_faults_do_not_merge, .init = setup_norand,
     .fini = teardown)
{
	unsigned long base = 0x200000000000UL;
	struct vm_area_struct *l, *r;

	map(base, 4096, RW, ANON | MAP_FIXED);
	map(base + 2 * 4096, 4096, RW, ANON | MAP_FIXED);
	l = vma_lookup(&mm, base);
	r = vma_lookup(&mm, base + 2 * 4096);
	anon_vma_prepare(l);
	anon_vma_prepare(r);
	cr_expect_neq(l->anon_vma, r->anon_vma);
	/* The middle page joins the left one only (can_vma_merge_right()). */
	map(base + 4096, 4096, RW, ANON | MAP_FIXED);
	cr_expect_eq(mm.map_count, 2);
	cr_expect_eq(vma_lookup(&mm, base + 4096), l);
	cr_expect_eq(l->vm_end, base + 2 * 4096);
}

Test(mmap, munmap_middle_splits_with_right_pgoff, .init = setup_norand, .fini = teardown)
{
	unsigned long a = map(0, 64 * MiB, RW, ANON);
	struct vm_area_struct *lo, *hi;

	cr_assert_eq(do_munmap(&mm, a + 16 * MiB, 16 * MiB), 0);
	cr_expect_eq(mm.map_count, 2);
	lo = vma_lookup(&mm, a);
	hi = vma_lookup(&mm, a + 32 * MiB);
	cr_assert(lo && hi);
	cr_expect_eq(lo->vm_end, a + 16 * MiB);
	cr_expect_eq(lo->vm_pgoff, a >> PAGE_SHIFT);
	cr_expect_eq(hi->vm_start, a + 32 * MiB);
	cr_expect_eq(hi->vm_end, a + 64 * MiB);
	cr_expect_eq(hi->vm_pgoff, (a + 32 * MiB) >> PAGE_SHIFT);
	cr_expect_null(vma_lookup(&mm, a + 16 * MiB));
	cr_expect_null(find_vma_intersection(&mm, a + 16 * MiB, a + 32 * MiB));
	cr_expect_eq(find_vma(&mm, a + 16 * MiB), hi);
	cr_expect_eq(mm.total_vm, 48 * MiB >> PAGE_SHIFT);
	cr_expect_eq(mm.stats.vma_splits, 2);
}

Test(mmap, munmap_head_tail_and_whole, .init = setup_norand, .fini = teardown)
{
	unsigned long a = map(0, 64 * MiB, RW, ANON);

	cr_assert_eq(do_munmap(&mm, a, 4096), 0);
	cr_expect_eq(find_vma(&mm, 0)->vm_start, a + 4096);
	cr_expect_eq(find_vma(&mm, 0)->vm_pgoff, (a + 4096) >> PAGE_SHIFT);
	cr_assert_eq(do_munmap(&mm, a + 63 * MiB, 2 * MiB), 0);	/* past the end too */
	cr_expect_eq(find_vma(&mm, 0)->vm_end, a + 63 * MiB);
	cr_expect_eq(mm.map_count, 1);
	cr_assert_eq(do_munmap(&mm, 0, a + 64 * MiB), 0);
	cr_expect_eq(mm.map_count, 0);
	cr_expect_eq(mm.total_vm, 0);
	/* Nothing mapped: still success. */
	cr_expect_eq(do_munmap(&mm, a, 4096), 0);
}

Test(mmap, munmap_rejects_bad_ranges, .init = setup_norand, .fini = teardown)
{
	cr_expect_eq(do_munmap(&mm, 0x1001, 4096), -EINVAL);
	cr_expect_eq(do_munmap(&mm, 0x1000, 0), -EINVAL);
	cr_expect_eq(do_munmap(&mm, TASK_SIZE_4LEVEL - 4096, 2 * 4096), -EINVAL);
}

Test(mmap, mprotect_middle_gives_three_and_restore_merges, .init = setup_norand,
     .fini = teardown)
{
	unsigned long a = map(0, 64 * MiB, RW, ANON);
	struct vm_area_struct *mid;

	cr_assert_eq(do_mprotect(&mm, a + 16 * MiB, 16 * MiB, PROT_READ), 0);
	cr_expect_eq(mm.map_count, 3);
	mid = vma_lookup(&mm, a + 16 * MiB);
	cr_expect_eq(mid->vm_start, a + 16 * MiB);
	cr_expect_eq(mid->vm_end, a + 32 * MiB);
	cr_expect_eq(mid->vm_pgoff, (a + 16 * MiB) >> PAGE_SHIFT);
	/* Never faulted (no anon_vma): read-only drops VM_ACCOUNT. */
	cr_expect_eq(flags_of(mid), ANON_FLAGS & ~(VM_WRITE | VM_ACCOUNT));
	cr_expect_eq(mm.data_vm, 48 * MiB >> PAGE_SHIFT);

	cr_assert_eq(do_mprotect(&mm, a + 16 * MiB, 16 * MiB, RW), 0);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(flags_of(find_vma(&mm, 0)), ANON_FLAGS);
	cr_expect_eq(find_vma(&mm, 0)->vm_end, a + 64 * MiB);
	cr_expect_eq(mm.data_vm, 64 * MiB >> PAGE_SHIFT);
}

Test(mmap, mprotect_of_faulted_vma_keeps_account_and_remerges, .init = setup_norand,
     .fini = teardown)
{
	unsigned long a = map(0, 8 * MiB, RW, ANON);
	struct vm_area_struct *v = vma_lookup(&mm, a);

	anon_vma_prepare(v);
	cr_assert_eq(do_mprotect(&mm, a + 4096, 4096, PROT_NONE), 0);
	cr_expect_eq(mm.map_count, 3);
	cr_expect_eq(flags_of(vma_lookup(&mm, a + 4096)), ANON_FLAGS & ~(VM_READ | VM_WRITE));
	cr_expect_eq(vma_lookup(&mm, a + 4096)->anon_vma, v->anon_vma);
	cr_assert_eq(do_mprotect(&mm, a, 8 * MiB, RW), 0);
	cr_expect_eq(mm.map_count, 1);
}

Test(mmap, mprotect_errors_follow_linux, .init = setup_norand, .fini = teardown)
{
	unsigned long a = map(0x300000000000UL, 4 * 4096, RW, ANON | MAP_FIXED);

	map(a + 5 * 4096, 4096, RW, ANON | MAP_FIXED);
	cr_expect_eq(do_mprotect(&mm, a + 1, 4096, PROT_READ), -EINVAL);
	cr_expect_eq(do_mprotect(&mm, a, 4096, 0x10), -EINVAL);
	cr_expect_eq(do_mprotect(&mm, a, 0, PROT_READ), 0);
	cr_expect_eq(do_mprotect(&mm, a - 4096, 2 * 4096, PROT_READ), -ENOMEM);
	/* A hole: the part before it is changed, then -ENOMEM. */
	cr_expect_eq(do_mprotect(&mm, a, 6 * 4096, PROT_READ), -ENOMEM);
	cr_expect_eq(flags_of(vma_lookup(&mm, a)) & VM_WRITE, 0);
	cr_expect_eq(flags_of(vma_lookup(&mm, a + 5 * 4096)) & VM_WRITE, VM_WRITE);
}

Test(mmap, madvise_hugepage_on_half_splits_then_other_half_merges, .init = setup_norand,
     .fini = teardown)
{
	unsigned long a = map(0, 8 * MiB, RW, ANON);
	struct vm_area_struct *lo, *hi;

	cr_assert_eq(do_madvise(&mm, a + 4 * MiB, 4 * MiB, MADV_HUGEPAGE), 0);
	cr_expect_eq(mm.map_count, 2);
	lo = vma_lookup(&mm, a);
	hi = vma_lookup(&mm, a + 4 * MiB);
	cr_expect_eq(lo->vm_end, a + 4 * MiB);
	cr_expect_eq(lo->vm_flags & VM_HUGEPAGE, 0);
	cr_expect_eq(hi->vm_start, a + 4 * MiB);
	cr_expect_eq(hi->vm_flags & VM_HUGEPAGE, VM_HUGEPAGE);
	cr_expect_eq(hi->vm_pgoff, (a + 4 * MiB) >> PAGE_SHIFT);

	cr_assert_eq(do_madvise(&mm, a, 4 * MiB, MADV_HUGEPAGE), 0);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(flags_of(find_vma(&mm, 0)), ANON_FLAGS | VM_HUGEPAGE);

	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_NOHUGEPAGE), 0);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(flags_of(find_vma(&mm, 0)), ANON_FLAGS | VM_NOHUGEPAGE);
}

struct hook_log {
	int calls;
	unsigned long start[8], end[8];
};

static int log_dontneed(void *priv, struct vm_area_struct *vma, unsigned long start,
			unsigned long end)
{
	struct hook_log *log = priv;

	(void)vma;
	if (log->calls < 8) {
		log->start[log->calls] = start;
		log->end[log->calls] = end;
	}
	log->calls++;
	return 0;
}

Test(mmap, madvise_dontneed_reports_ranges_and_enomem_for_holes, .init = setup_norand,
     .fini = teardown)
{
	struct hook_log log = {0};
	unsigned long a = 0x400000000000UL;

	map(a, 4 * 4096, RW, ANON | MAP_FIXED);
	map(a + 4 * 4096, 4 * 4096, PROT_READ, ANON | MAP_FIXED);
	map(a + 10 * 4096, 4096, RW, ANON | MAP_FIXED);
	mm.hooks.priv = &log;
	mm.hooks.madvise_dontneed = log_dontneed;
	cr_expect_eq(do_madvise(&mm, a + 4096, 10 * 4096, MADV_DONTNEED), -ENOMEM);
	cr_assert_eq(log.calls, 3);
	cr_expect_eq(log.start[0], a + 4096);
	cr_expect_eq(log.end[0], a + 4 * 4096);
	cr_expect_eq(log.start[1], a + 4 * 4096);
	cr_expect_eq(log.end[1], a + 8 * 4096);
	cr_expect_eq(log.start[2], a + 10 * 4096);
	cr_expect_eq(log.end[2], a + 11 * 4096);
	cr_expect_eq(mm.map_count, 3);
	cr_expect_eq(do_madvise(&mm, a, 4096, MADV_WILLNEED), -EINVAL);
	cr_expect_eq(do_madvise(&mm, a + 1, 4096, MADV_HUGEPAGE), -EINVAL);
	cr_expect_eq(do_madvise(&mm, a, 0, MADV_HUGEPAGE), 0);
}

Test(mmap, map_fixed_places_at_address_and_replaces, .init = setup_norand,
     .fini = teardown)
{
	unsigned long a = 0x7f0000001000UL, got = 0;

	cr_expect_eq(map(a, 16 * 4096, RW, ANON | MAP_FIXED), a);
	/* Over the middle with another protection: three VMAs. */
	cr_expect_eq(map(a + 4 * 4096, 4 * 4096, PROT_READ, ANON | MAP_FIXED), a + 4 * 4096);
	cr_expect_eq(mm.map_count, 3);
	cr_expect_eq(vma_lookup(&mm, a + 4 * 4096)->vm_end, a + 8 * 4096);
	cr_expect_eq(mm.total_vm, 16);
	/* Same protection again: the hole is replaced and all three merge. */
	map(a + 4 * 4096, 4 * 4096, RW, ANON | MAP_FIXED);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(do_mmap(&mm, a + 4096, 4096, RW, ANON | MAP_FIXED_NOREPLACE, &got), -EEXIST);
	cr_expect_eq(do_mmap(&mm, a + 1, 4096, RW, ANON | MAP_FIXED, &got), -EINVAL);
	cr_expect_eq(do_mmap(&mm, TASK_SIZE_4LEVEL - 4096, 2 * 4096, RW, ANON | MAP_FIXED, &got),
		     -ENOMEM);
	cr_expect_eq(do_mmap(&mm, 0, 0, RW, ANON, &got), -EINVAL);
	cr_expect_eq(do_mmap(&mm, 0, 4096, RW, MAP_ANONYMOUS, &got), -EINVAL);
}

Test(mmap, brk_grows_the_heap_vma_and_shrinks, .init = setup_norand, .fini = teardown)
{
	unsigned long s = mm.start_brk;
	struct vm_area_struct *heap;

	cr_expect_eq(sys_brk(&mm, 0), s);	/* query: below start_brk is refused */
	cr_expect_eq(sys_brk(&mm, s + 10000), s + 10000);
	heap = vma_lookup(&mm, s);
	cr_assert_not_null(heap);
	cr_expect_eq(heap->vm_end, s + 3 * 4096);
	cr_expect_eq(flags_of(heap), ANON_FLAGS);
	cr_expect_eq(sys_brk(&mm, s + 132 * 1024), s + 132 * 1024);
	cr_expect_eq(mm.map_count, 1);
	cr_expect_eq(vma_lookup(&mm, s), heap);
	cr_expect_eq(heap->vm_end, s + 132 * 1024);
	cr_expect_eq(sys_brk(&mm, s + 4096), s + 4096);
	/* Shrinking unmaps the tail: __split_vma(new_below) made a new lower VMA. */
	heap = vma_lookup(&mm, s);
	cr_assert_not_null(heap);
	cr_expect_eq(heap->vm_end, s + 4096);
	cr_expect_eq(mm.total_vm, 1);
	/* A mapping one page above the new break blocks growth (guard page). */
	map(s + 8 * 4096, 4096, PROT_READ, ANON | MAP_FIXED);
	cr_expect_eq(sys_brk(&mm, s + 7 * 4096 + 1), s + 4096);
	cr_expect_eq(sys_brk(&mm, s + 7 * 4096), s + 7 * 4096);
}

Test(mmap, enomem_when_the_address_space_is_full, .init = setup_norand, .fini = teardown)
{
	unsigned long got = 0, half = 1UL << 46;

	cr_expect_eq(do_mmap(&mm, 0, TASK_SIZE_4LEVEL + 4096, RW, ANON, &got), -ENOMEM);
	/* 64 TiB, aligned: search 64 TiB + 2 MiB below mmap_base and align up. */
	cr_expect_eq(map(0, half, RW, ANON), ALIGN_DOWN_PMD(BASE_NORAND - half));	/* 0x3ffbff600000 */
	/* Neither below (64 TiB - 16 GiB free) nor above the legacy base is there room. */
	cr_expect_eq(do_mmap(&mm, 0, half, RW, ANON, &got), -ENOMEM);
	/* A small one still fits in the 1 MiB left between it and mmap_base. */
	cr_expect_eq(map(0, 3 * 4096, RW, ANON), BASE_NORAND - 3 * 4096);
}

Test(mmap, topdown_falls_back_to_bottom_up, .init = setup_norand, .fini = teardown)
{
	/*
	 * Fill everything below mmap_base but its top 1 MiB, then ask for more:
	 * the bottom-up search from mmap_legacy_base finds the end of the fill.
	 */
	unsigned long fill_end = BASE_NORAND - MiB;	/* 0x7ffbff600000 */

	map(0x10000, fill_end - 0x10000, PROT_READ, ANON | MAP_FIXED);
	cr_expect_eq(map(0, 2 * MiB + 4096, RW, ANON), fill_end);
}

Test(mmap, map_count_limit_gives_enomem)
{
	struct mm_layout l;
	struct wl_rng rng;
	unsigned long got = 0;

	mm_layout_init(&l);
	l.randomize = false;
	l.max_map_count = 3;
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
	cr_expect_eq(map(0, 2 * 4096, RW, ANON), BASE_NORAND - 2 * 4096);
	for (int i = 1; i < 4; i++)
		map(0, 4096, i % 2 ? PROT_READ : RW, ANON);
	cr_expect_eq(mm.map_count, 4);
	/* do_mmap() refuses only once map_count exceeds the limit (as Linux). */
	cr_expect_eq(do_mmap(&mm, 0, 4096, RW, ANON, &got), -ENOMEM);
	/* A split at the limit is refused too. */
	cr_expect_eq(do_mprotect(&mm, BASE_NORAND - 2 * 4096, 4096, PROT_NONE), -ENOMEM);
	cr_expect_eq(mm.map_count, 4);
	mm_release(&mm);
}

/* Brute force: the highest gap start below mmap_base that fits len (no THP). */
static unsigned long brute_topdown(unsigned long len)
{
	unsigned long hi = mm.mmap_base, best = 0;
	struct vm_area_struct *v;

	for_each_vma(&mm, v) {
		unsigned long gs = v->vm_prev ? v->vm_prev->vm_end : 0, ge = v->vm_start;

		if (gs < mm.mmap_min_addr)
			gs = mm.mmap_min_addr;
		if (ge > hi)
			ge = hi;
		if (ge > gs && ge - gs >= len)
			best = ge - len;
	}
	v = mm.mmap;
	while (v && v->vm_next)
		v = v->vm_next;
	if (v && v->vm_end < hi && hi - v->vm_end >= len)
		best = hi - len;
	return best;
}

Test(mmap, tree_lookup_and_gap_search_match_brute_force, .init = setup_norand,
     .fini = teardown)
{
	struct wl_rng rng;
	struct vm_area_struct *v;
	unsigned long base = BASE_NORAND - (1UL << 32);

	wl_rng_seed(&rng, 7);
	for (int i = 0; i < 2000; i++) {
		unsigned long a = base + (wl_rng_below(&rng, 1UL << 20) << PAGE_SHIFT);
		unsigned long len = (1 + wl_rng_below(&rng, 8)) << PAGE_SHIFT;
		unsigned long prot = wl_rng_below(&rng, 3) ? RW : PROT_READ;

		if (wl_rng_below(&rng, 4) == 0)
			cr_assert_eq(do_munmap(&mm, a, len), 0);
		else
			map(a, len, prot, ANON | MAP_FIXED);
	}
	cr_expect_gt(mm.map_count, 100);
	for (int i = 0; i < 2000; i++) {
		unsigned long addr = base + (wl_rng_below(&rng, (1UL << 32) + 8192));
		struct vm_area_struct *want = NULL;

		for_each_vma(&mm, v) {
			if (v->vm_end > addr) {
				want = v;
				break;
			}
		}
		cr_assert_eq(find_vma(&mm, addr), want, "find_vma(%#lx)", addr);
	}
	for (unsigned long pages = 1; pages <= 16; pages++) {
		unsigned long got = 0, want = brute_topdown(pages << PAGE_SHIFT);

		cr_assert_eq(get_unmapped_area(&mm, 0, pages << PAGE_SHIFT, ANON, &got), 0);
		cr_expect_eq(got, want, "%lu pages: got %#lx want %#lx", pages, got, want);
	}
	validate_mm(&mm);
}

Test(mmap, overlapping_vmas_abort, .init = setup_norand, .fini = teardown,
     .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	unsigned long a = map(0x100000000UL, 4096, RW, ANON | MAP_FIXED);

	map(a + 2 * 4096, 4096, RW, ANON | MAP_FIXED);
	vma_lookup(&mm, a)->vm_end = a + 3 * 4096;
	validate_mm(&mm);
}

Test(mmap, unmerged_mergeable_neighbours_abort, .init = setup_norand, .fini = teardown,
     .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	unsigned long a = map(0x100000000UL, 2 * 4096, RW, ANON | MAP_FIXED);

	cr_assert_eq(do_mprotect(&mm, a + 4096, 4096, PROT_READ), 0);
	vma_lookup(&mm, a + 4096)->vm_flags = vma_lookup(&mm, a)->vm_flags;
	validate_mm(&mm);
}

Test(mmap, stale_gap_summary_aborts, .init = setup_norand, .fini = teardown,
     .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	map(0x100000000UL, 4096, RW, ANON | MAP_FIXED);
	map(0x200000000UL, 4096, RW, ANON | MAP_FIXED);
	mm.mm_mt->subtree_gap += 4096;
	validate_mm(&mm);
}

Test(mmap, stack_guard_gap_pushes_placement_below_growsdown_vma, .init = setup_norand,
     .fini = teardown)
{
	unsigned long s = map(BASE_NORAND - MiB, MiB, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
	struct vm_area_struct *v = vma_lookup(&mm, s);

	cr_expect_eq(flags_of(v), ANON_FLAGS | VM_GROWSDOWN);
	cr_expect_eq(mm.stack_vm, MiB >> PAGE_SHIFT);
	cr_expect_eq(mm.data_vm, 0);
	/* The gap right below ends at the stack; its 1 MiB guard gap is skipped. */
	cr_expect_eq(map(0, 4096, RW, ANON), BASE_NORAND - 2 * MiB - 4096);
	cr_expect_eq(mm.stats.unmapped_area_retries, 1);
}

Test(mmap, map_stack_sets_nohugepage, .init = setup_norand, .fini = teardown)
{
	unsigned long a = map(0, 4096, RW, ANON | MAP_STACK);

	cr_expect_eq(flags_of(vma_lookup(&mm, a)), ANON_FLAGS | VM_NOHUGEPAGE);
}

Test(mmap, call_next_to_corrupted_vmas_aborts, .init = setup_norand, .fini = teardown,
     .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	unsigned long a = map(0x100000000UL, 2 * 4096, RW, ANON | MAP_FIXED);

	map(0x200000000UL, 4096, RW, ANON | MAP_FIXED);
	map(0x300000000UL, 4096, RW, ANON | MAP_FIXED);	/* 3 calls: next is not a power of two */
	cr_assert_eq(do_mprotect(&mm, a + 4096, 4096, PROT_READ), 0);
	vma_lookup(&mm, a + 4096)->vm_flags = vma_lookup(&mm, a)->vm_flags;
	do_madvise(&mm, a, 4096, MADV_DONTNEED);	/* the 5th call checks around a */
}
