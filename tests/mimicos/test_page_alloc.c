/*
 * test_page_alloc.c - the buddy allocator against hand-derived expectations.
 *
 * Zones start at pfn 0x100000 (4 GiB, where ZONE_NORMAL starts on x86-64),
 * written s below. Expectations are derived by hand from mm/page_alloc.c
 * (Linux 6.18): expand() puts the upper half of each split on the free list,
 * so an order-0 allocation from one order-10 block at s leaves s+1 (order 0),
 * s+2 (1), s+4 (2), ..., s+512 (9); __free_one_page() merges back.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "mimicos/page_alloc.h"
#include "workload/prng.h"

#define S 0x100000UL
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct zone zone;

static void zone_setup(uint64_t size, int min_free_kbytes)
{
	struct zone_config cfg = {
		.size_bytes = size, .start_pfn = S, .nr_cpus = 1,
		.min_free_kbytes = min_free_kbytes,
	};

	cr_assert_eq(zone_init(&zone, &cfg), 0);
	zone_check(&zone);
}

static void teardown(void)
{
	zone_release(&zone);
}

static long alloc_ok(gfp_t gfp, unsigned int order)
{
	long pfn = __alloc_pages(&zone, gfp, order, 0);

	cr_assert_geq(pfn, 0, "allocation of order %u failed", order);
	return pfn;
}

Test(page_alloc, version_is_pinned_once)
{
	cr_expect_str_eq(MIMICOS_LINUX_VERSION, "6.18");
	/* a release string is the imitated kernel by its major and minor alone */
	cr_expect(mimicos_imitates("6.18.44-fc-v1300"));
	cr_expect(mimicos_imitates("6.18"));
	cr_expect_not(mimicos_imitates("6.12.48-1-amd64"));
	cr_expect_not(mimicos_imitates("6.1.0"));
	cr_expect_not(mimicos_imitates("16.18.0"));
	cr_expect_not(mimicos_imitates("garbage"));
}

Test(page_alloc, find_buddy_pfn_flips_the_order_bit)
{
	cr_expect_eq(__find_buddy_pfn(S, 0), S + 1);
	cr_expect_eq(__find_buddy_pfn(S + 1, 0), S);
	cr_expect_eq(__find_buddy_pfn(S + 4, 2), S);
	cr_expect_eq(__find_buddy_pfn(S + 8, 2), S + 12);
	cr_expect_eq(__find_buddy_pfn(S + 512, 9), S);
	cr_expect_eq(__find_buddy_pfn(S + 1024, 10), S);
	cr_expect_eq(__find_buddy_pfn(S + 2048, 10), S + 3072);
}

Test(page_alloc, init_puts_every_max_order_block_on_the_movable_list_ascending, .fini = teardown)
{
	zone_setup(64 * MiB, 0);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 16);
	for (unsigned int o = 0; o < MAX_PAGE_ORDER; o++)
		cr_expect_eq(zone_nr_free(&zone, o), 0);
	for (unsigned long k = 0; k < 16; k++)
		cr_expect_eq(zone_free_list_nth(&zone, MAX_PAGE_ORDER, MIGRATE_MOVABLE, k), S + k * 1024);
	cr_expect_eq(zone.nr_free_pages, 16384);
	cr_expect_eq(zone.nr_mem_map_chunks, 0, "no struct page exists before a split");
	cr_expect_eq(get_pfnblock_migratetype(&zone, S + 700), MIGRATE_MOVABLE);
}

Test(page_alloc, split_order10_to_order0_leaves_one_block_per_order_at_expand_pfns, .fini = teardown)
{
	/* 4 MiB: one order-10 block; batch is 1 (1024 >> 12 = 0). */
	zone_setup(4 * MiB, 0);
	cr_assert_eq(zone.pcp[0].batch, 1);
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)S);
	cr_expect_eq(zone.pcp[0].count, 0);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 0);
	for (unsigned int o = 0; o < MAX_PAGE_ORDER; o++) {
		cr_expect_eq(zone_nr_free(&zone, o), 1, "order %u", o);
		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_MOVABLE, 0), S + (1UL << o),
			     "order %u", o);
		cr_expect(zone_pfn_is_free_head(&zone, S + (1UL << o), o));
	}
	cr_expect_eq(zone.nr_free_pages, 1023);
	zone_check(&zone);
}

Test(page_alloc, split_order10_to_order4_then_free_merges_back_to_order10, .fini = teardown)
{
	long pfn;

	zone_setup(4 * MiB, 0);
	pfn = alloc_ok(GFP_HIGHUSER_MOVABLE, 4);	/* not a pcp order: straight to buddy */
	cr_expect_eq(pfn, (long)S);
	for (unsigned int o = 0; o < 4; o++)
		cr_expect_eq(zone_nr_free(&zone, o), 0);
	for (unsigned int o = 4; o < MAX_PAGE_ORDER; o++)
		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_MOVABLE, 0), S + (1UL << o));
	zone_check(&zone);

	__free_pages(&zone, (unsigned long)pfn, 4, 0);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 1);
	cr_expect_eq(zone_free_list_nth(&zone, MAX_PAGE_ORDER, MIGRATE_MOVABLE, 0), S);
	for (unsigned int o = 0; o < MAX_PAGE_ORDER; o++)
		cr_expect_eq(zone_nr_free(&zone, o), 0);
	cr_expect_eq(zone.nr_mem_map_chunks, 0, "merged block drops its struct pages");
	cr_expect_eq(zone.stats.pgfree, 16);
	cr_expect_eq(zone.stats.pgalloc_normal, 16);
	zone_check(&zone);
}

Test(page_alloc, consecutive_order0_allocations_take_ascending_pfns, .fini = teardown)
{
	/*
	 * Batch 1, but nr_pcp_alloc() doubles the order-0 refill (1 << alloc_factor)
	 * while nothing is freed: refills of 1, 2, 4, 8 at allocations 1, 2, 4, 8,
	 * each taking the lowest free pfns in order. After 8 allocations the pcp
	 * list holds s+8..s+14 and the buddy s+15 (0), s+16 (4), ..., s+512 (9).
	 */
	zone_setup(4 * MiB, 0);
	for (unsigned long i = 0; i < 8; i++)
		cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + i), "allocation %lu", i);
	cr_expect_eq(zone.pcp[0].count, 7);
	cr_expect_eq(zone.pcp[0].alloc_factor, 4);
	cr_expect_eq(zone_free_list_nth(&zone, 0, MIGRATE_MOVABLE, 0), S + 15);
	for (unsigned int o = 1; o < 4; o++)
		cr_expect_eq(zone_nr_free(&zone, o), 0, "order %u", o);
	for (unsigned int o = 4; o < MAX_PAGE_ORDER; o++)
		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_MOVABLE, 0), S + (1UL << o));
	zone_check(&zone);
}

Test(page_alloc, freed_pages_merge_to_one_order10_block_after_drain, .fini = teardown)
{
	long pfn[4];

	zone_setup(4 * MiB, 0);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(pfn[i] = alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + i));
	/* Refills 1, 2, 4: s+4..s+6 wait on the pcp list; s+7 is free (order 0). */
	cr_expect_eq(zone.pcp[0].count, 3);
	drain_local_pages(&zone, 0);
	/* s+4..s+7 merged to order 2 at s+4; its buddy s..s+3 is allocated. */
	cr_expect(zone_pfn_is_free_head(&zone, S + 4, 2));
	cr_expect_eq(zone_nr_free(&zone, 0), 0);
	cr_expect_eq(zone.stats.mm_page_pcpu_drain, 3);
	/* Free s+1 then s: they wait on the pcp list, then merge to order 1. */
	__free_pages(&zone, (unsigned long)pfn[1], 0, 0);
	__free_pages(&zone, (unsigned long)pfn[0], 0, 0);
	cr_expect_eq(zone.pcp[0].count, 2, "order-0 frees go to the pcp list first");
	cr_expect(!zone_pfn_is_free_head(&zone, S, 1));
	drain_local_pages(&zone, 0);
	cr_expect(zone_pfn_is_free_head(&zone, S, 1));
	cr_expect_eq(zone_nr_free(&zone, 0), 0);
	__free_pages(&zone, (unsigned long)pfn[3], 0, 0);
	__free_pages(&zone, (unsigned long)pfn[2], 0, 0);
	drain_local_pages(&zone, 0);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 1);
	cr_expect_eq(zone.nr_free_pages, 1024);
	for (unsigned int o = 0; o < MAX_PAGE_ORDER; o++)
		cr_expect_eq(zone_nr_free(&zone, o), 0);
	cr_expect_eq(zone.stats.mm_page_pcpu_drain, 3 + 4);
	cr_expect_eq(zone.nr_mem_map_chunks, 0);
	zone_check(&zone);
}

Test(page_alloc, unmovable_request_claims_a_whole_movable_max_order_block, .fini = teardown)
{
	zone_setup(4 * MiB, 0);
	cr_expect_eq(alloc_ok(GFP_KERNEL, 0), (long)S);
	/* try_to_claim_block(), current_order 10 >= pageblock_order: both pageblocks change. */
	cr_expect_eq(get_pfnblock_migratetype(&zone, S), MIGRATE_UNMOVABLE);
	cr_expect_eq(get_pfnblock_migratetype(&zone, S + 512), MIGRATE_UNMOVABLE);
	for (unsigned int o = 0; o < MAX_PAGE_ORDER; o++) {
		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_UNMOVABLE, 0), S + (1UL << o));
		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_MOVABLE, 0), PFN_NONE);
	}
	cr_expect_eq(zone.stats.mm_page_alloc_extfrag, 1);
	zone_check(&zone);
}

Test(page_alloc, unmovable_request_claims_movable_pageblock_with_half_free, .fini = teardown)
{
	/*
	 * s..s+511 allocated MOVABLE (order 9), s+512 allocated MOVABLE (order 0):
	 * pageblock 1 holds free MOVABLE s+513 (0), s+514 (1), ..., s+768 (8).
	 * An UNMOVABLE order-4 request: ALLOC_NOFRAGMENT finds nothing >= order 9,
	 * the retry claims from the largest fallback (order 8, s+768): free 511 +
	 * alike (512 - 511 free - 1 movable = 0) >= 256, so the whole pageblock
	 * moves to UNMOVABLE and __rmqueue_smallest(4) returns s+528.
	 */
	zone_setup(4 * MiB, 4);
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 9), (long)S);
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + 512));
	cr_expect_eq(alloc_ok(GFP_KERNEL, 4), (long)(S + 528));
	cr_expect_eq(get_pfnblock_migratetype(&zone, S + 512), MIGRATE_UNMOVABLE);
	cr_expect_eq(get_pfnblock_migratetype(&zone, S), MIGRATE_MOVABLE);
	for (unsigned int o = 0; o <= 8; o++) {
		unsigned long want = o == 4 ? PFN_NONE : S + 512 + (1UL << o);

		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_UNMOVABLE, 0), want, "order %u", o);
		cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_MOVABLE, 0), PFN_NONE, "order %u", o);
	}
	cr_expect_eq(zone.stats.mm_page_alloc_extfrag, 1);
	zone_check(&zone);
}

Test(page_alloc, movable_order0_steals_small_unmovable_blocks_without_claiming, .fini = teardown)
{
	long pfn;

	/*
	 * An UNMOVABLE order-0 allocation claims the block (s taken); orders 9..4
	 * are then allocated UNMOVABLE, leaving UNMOVABLE s+1 (0), s+2 (1),
	 * s+4 (2), s+8 (3). A MOVABLE order-0 request: the claim loop stops at
	 * order 3 (should_try_claim_block() is false below pageblock_order / 2
	 * for movable), so __rmqueue_steal() takes the smallest blocks and the
	 * pageblock stays UNMOVABLE. The pcp refill (batch 1 << alloc_factor)
	 * takes 4: s+1, s+2, s+3 (from s+2's split), s+4.
	 */
	zone_setup(4 * MiB, 4);
	cr_expect_eq(alloc_ok(GFP_KERNEL, 0), (long)S);
	for (unsigned int o = 9; o >= 4; o--)
		cr_expect_eq(alloc_ok(GFP_KERNEL, o), (long)(S + (1UL << o)), "order %u", o);
	cr_expect_eq(zone.stats.mm_page_alloc_extfrag, 1);
	pfn = alloc_ok(GFP_HIGHUSER_MOVABLE, 0);
	cr_expect_eq(pfn, (long)(S + 1));
	cr_expect_eq(zone.pcp[0].count, 3);
	cr_expect_eq(zone.stats.mm_page_alloc_extfrag, 1 + 4);
	cr_expect_eq(get_pfnblock_migratetype(&zone, S), MIGRATE_UNMOVABLE);
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + 2));
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + 3));
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + 4));
	/* What s+4's split left stays UNMOVABLE: s+5 (0), s+6 (1), s+8 (3). */
	cr_expect_eq(zone_free_list_nth(&zone, 0, MIGRATE_UNMOVABLE, 0), S + 5);
	cr_expect_eq(zone_free_list_nth(&zone, 1, MIGRATE_UNMOVABLE, 0), S + 6);
	cr_expect_eq(zone_free_list_nth(&zone, 3, MIGRATE_UNMOVABLE, 0), S + 8);
	zone_check(&zone);
}

Test(page_alloc, batch_and_high_follow_zone_batchsize_and_zone_highsize, .fini = teardown)
{
	/*
	 * 1 GiB, 1 CPU: managed 262144; batch min(262144 >> 12, 64) = 64 ->
	 * rounddown_pow_of_two(96) - 1 = 63. min_free_kbytes: sqrt(1048576 * 16)
	 * = 4096, raised by khugepaged to (2 + 9) * 512 pages = 22528 KiB:
	 * min 5632, low 5632 + max(1408, 262) = 7040, high 8448.
	 * high_min = low / 1 = 7040, high_max = 262144 / 8 = 32768.
	 */
	zone_setup(1 * GiB, 0);
	cr_expect_eq(zone.min_free_kbytes, 22528);
	cr_expect_eq(min_wmark_pages(&zone), 5632);
	cr_expect_eq(low_wmark_pages(&zone), 7040);
	cr_expect_eq(high_wmark_pages(&zone), 8448);
	cr_expect_eq(zone.pcp[0].batch, 63);
	cr_expect_eq(zone.pcp[0].high_min, 7040);
	cr_expect_eq(zone.pcp[0].high_max, 32768);
}

Test(page_alloc, batch_is_63_for_the_fact_file_host, .fini = teardown)
{
	/* ~4.25 GiB, 2 CPUs: high_max = 1114112 / 8 / 2 = 69632, as measured. */
	struct zone_config cfg = { .size_bytes = 4352 * MiB, .start_pfn = S, .nr_cpus = 2 };

	cr_assert_eq(zone_init(&zone, &cfg), 0);
	cr_expect_eq(zone.pcp[0].batch, 63);
	cr_expect_eq(zone.pcp[1].high_max, 69632);
}

Test(page_alloc, pcp_refill_takes_batch_then_doubles_by_alloc_factor, .fini = teardown)
{
	/*
	 * First order-0 refill: nr_pcp_alloc() = 63 << 0 (alloc_factor becomes 1);
	 * the 64th allocation refills 63 << 1 = 126 (pfns stay ascending).
	 */
	zone_setup(1 * GiB, 0);
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)S);
	cr_expect_eq(zone.pcp[0].count, 62);
	cr_expect_eq(zone.pcp[0].alloc_factor, 1);
	for (unsigned long i = 1; i < 63; i++)
		cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + i));
	cr_expect_eq(zone.pcp[0].count, 0);
	cr_expect_eq(alloc_ok(GFP_HIGHUSER_MOVABLE, 0), (long)(S + 63));
	cr_expect_eq(zone.pcp[0].count, 125);
	cr_expect_eq(zone.pcp[0].alloc_factor, 2);
	/* pcp->high grew by each refill: 7040 + 63 + 126. */
	cr_expect_eq(zone.pcp[0].high, 7229);
	/* decay_pcp_high(): max(125 - (63 << 5), 7229 - 7229 / 8, 7040) = 7040. */
	cr_expect(!decay_pcp_high(&zone, 0));
	cr_expect_eq(zone.pcp[0].high, 7040);
	cr_expect_eq(zone.pcp[0].count, 125);
	/* Order 9 (THP) refills max(63 >> 9, 2) = 2 blocks. */
	alloc_ok(GFP_HIGHUSER_MOVABLE, 9);
	cr_expect_eq(zone.pcp[0].count, 125 + 512);
	zone_check(&zone);
}

Test(page_alloc, pcp_free_drains_free_count_when_count_reaches_high, .fini = teardown)
{
	/*
	 * percpu_pagelist_high_fraction 512: high_min = high_max = 262144 / 512 =
	 * 512, no auto-tuning. After 512 frees into an empty list, count == high:
	 * nr_pcp_free() = clamp(free_count 512, batch 63, high - batch 449) = 449
	 * pages go back by free_pcppages_bulk() (7 x 63 + 8), leaving 63.
	 */
	struct zone_config cfg = {
		.size_bytes = 1 * GiB, .start_pfn = S, .nr_cpus = 1,
		.percpu_pagelist_high_fraction = 512,
	};
	long pfn[600];

	cr_assert_eq(zone_init(&zone, &cfg), 0);
	cr_assert_eq(zone.pcp[0].high_min, 512);
	cr_assert_eq(zone.pcp[0].high_max, 512);
	for (int i = 0; i < 600; i++)
		pfn[i] = alloc_ok(GFP_HIGHUSER_MOVABLE, 0);
	drain_local_pages(&zone, 0);
	cr_assert_eq(zone.pcp[0].count, 0);
	zone.stats.mm_page_pcpu_drain = 0;
	for (int i = 0; i < 511; i++)
		__free_pages(&zone, (unsigned long)pfn[i], 0, 0);
	cr_expect_eq(zone.pcp[0].count, 511);
	cr_expect_eq(zone.stats.mm_page_pcpu_drain, 0);
	__free_pages(&zone, (unsigned long)pfn[511], 0, 0);
	cr_expect_eq(zone.pcp[0].count, 63);
	cr_expect_eq(zone.stats.mm_page_pcpu_drain, 449);
	for (int i = 512; i < 600; i++)
		__free_pages(&zone, (unsigned long)pfn[i], 0, 0);
	cr_expect_eq(zone.pcp[0].count, 151);
	zone_check(&zone);
	drain_local_pages(&zone, 0);
	cr_expect_eq(zone.nr_free_pages, zone.managed_pages);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 256);
	zone_check(&zone);
}

Test(page_alloc, allocation_fails_at_min_watermark_but_atomic_dips_into_reserve, .fini = teardown)
{
	/* 16 MiB, min_free_kbytes 1024: min 256, low 256 + max(64, 16) = 320. */
	long pfn;
	int n = 0;

	zone_setup(16 * MiB, 1024);
	cr_assert_eq(min_wmark_pages(&zone), 256);
	cr_assert_eq(low_wmark_pages(&zone), 320);
	while ((pfn = __alloc_pages(&zone, GFP_KERNEL, 0, 0)) >= 0)
		n++;
	cr_expect_eq(pfn, -ENOMEM);
	cr_expect_leq(zone.nr_free_pages, 256, "failed with %lu free", zone.nr_free_pages);
	cr_expect_gt(zone.nr_free_pages, 256 - 64);
	cr_expect_eq((unsigned long)n, 4096 - zone.nr_free_pages - (unsigned long)zone.pcp[0].count);
	/* GFP_NOWAIT has no __GFP_HIGH: the same min applies. */
	cr_expect_eq(__alloc_pages(&zone, GFP_NOWAIT, 0, 0), -ENOMEM);
	/* GFP_ATOMIC: min - min/2 - (min/2)/4 = 96. */
	cr_expect_geq(__alloc_pages(&zone, GFP_ATOMIC, 0, 0), 0);
	/* A high-order request also needs a free block of that order. */
	cr_expect_eq(__alloc_pages(&zone, GFP_ATOMIC, 10, 0), -ENOMEM);
	zone_check(&zone);
}

Test(page_alloc, atomic_high_order_slowpath_reserves_a_highatomic_pageblock, .fini = teardown)
{
	/*
	 * 256 MiB, min_free_kbytes 4096: min 1024, low 1024 + max(256, 65) = 1280.
	 * Below low the fast path fails; GFP_ATOMIC order 1 succeeds in the slow
	 * path with ALLOC_HIGHATOMIC, and reserve_highatomic_pageblock() turns
	 * the page's pageblock HIGHATOMIC (limit: ALIGN(65536 / 100, 512) = 1024).
	 */
	long pfn;

	zone_setup(256 * MiB, 4096);
	cr_assert_eq(low_wmark_pages(&zone), 1280);
	while (zone.nr_free_pages > 1280)
		alloc_ok(GFP_KERNEL, 0);
	pfn = alloc_ok(GFP_ATOMIC, 1);
	cr_expect_eq(zone.nr_reserved_highatomic, 512);
	cr_expect_eq(get_pfnblock_migratetype(&zone, (unsigned long)pfn), MIGRATE_HIGHATOMIC);
	zone_check(&zone);
	/* Freed into the reserved block, the pages land on the HIGHATOMIC lists. */
	__free_pages(&zone, (unsigned long)pfn, 1, 0);
	drain_local_pages(&zone, 0);
	cr_expect_gt(zone.nr_free_highatomic, 0);
	zone_check(&zone);
}

Test(page_alloc, seeding_from_a_distribution_gives_exactly_those_counts, .fini = teardown)
{
	static const unsigned long want[NR_PAGE_ORDERS] = { 5, 4, 3, 3, 2, 2, 1, 1, 1, 1, 2 };
	struct zone other;
	struct zone_config cfg = { .size_bytes = 64 * MiB, .start_pfn = S, .nr_cpus = 1 };

	zone_setup(64 * MiB, 0);
	cr_assert_eq(zone_seed_free_counts(&zone, want, 42), 0);
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		cr_expect_eq(zone_nr_free(&zone, o), want[o], "order %u", o);
	cr_expect_eq(zone.nr_free_pages, 3153);
	zone_check(&zone);

	/* Same seed, same placement. */
	cr_assert_eq(zone_init(&other, &cfg), 0);
	cr_assert_eq(zone_seed_free_counts(&other, want, 42), 0);
	for (unsigned int o = 0; o < NR_PAGE_ORDERS; o++)
		for (unsigned long k = 0; k < want[o]; k++)
			cr_expect_eq(zone_free_list_nth(&zone, o, MIGRATE_MOVABLE, k),
				     zone_free_list_nth(&other, o, MIGRATE_MOVABLE, k));
	zone_release(&other);

	/* The seeded free blocks are usable; the rest is held. */
	cr_expect_geq(__alloc_pages(&zone, GFP_HIGHUSER_MOVABLE, 10, 0), 0);
	cr_expect_geq(__alloc_pages(&zone, GFP_HIGHUSER_MOVABLE, 10, 0), 0);
	cr_expect_eq(__alloc_pages(&zone, GFP_HIGHUSER_MOVABLE, 10, 0), -ENOMEM);
	zone_check(&zone);
}

Test(page_alloc, seeding_more_than_fits_is_enospc, .fini = teardown)
{
	unsigned long want[NR_PAGE_ORDERS] = { 0 };

	zone_setup(4 * MiB, 0);
	want[10] = 2;
	cr_expect_eq(zone_seed_free_counts(&zone, want, 1), -ENOSPC);
}

static const char buddyinfo[] =
	"Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      2 \n"
	"Node 0, zone    DMA32      3      4      2      3      4      3      3      3      4      3    400 \n"
	"Node 0, zone   Normal    311    186     97     53     21     12      6      4      2      5    120 \n";

Test(page_alloc, buddyinfo_parse_reads_the_named_zone)
{
	unsigned long nr[NR_PAGE_ORDERS];
	static const unsigned long normal[NR_PAGE_ORDERS] = { 311, 186, 97, 53, 21, 12, 6, 4, 2, 5, 120 };

	cr_assert_eq(buddyinfo_parse(buddyinfo, "Normal", nr), 0);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		cr_expect_eq(nr[o], normal[o]);
	cr_assert_eq(buddyinfo_parse(buddyinfo, NULL, nr), 0);
	cr_expect_eq(nr[10], 2);
	cr_expect_eq(buddyinfo_parse(buddyinfo, "Movable", nr), -EINVAL);
	cr_expect_eq(buddyinfo_parse("Node 0, zone   Normal 1 2 3 4 5 6 7 8 9 10\n", "Normal", nr),
		     -EINVAL);
}

Test(page_alloc, seeding_from_buddyinfo_reproduces_the_snapshot_line, .fini = teardown)
{
	char out[256];

	zone_setup(1 * GiB, 0);
	cr_assert_eq(zone_seed_buddyinfo(&zone, buddyinfo, "Normal", 7), 0);
	zone_check(&zone);
	zone_buddyinfo(&zone, out, sizeof(out));
	cr_expect_str_eq(out, "Node 0, zone   Normal    311    186     97     53     21     12      6      4      2      5    120 \n");
}

static long rss_kib(void)
{
	long pages = 0, size = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	cr_assert(f);
	cr_assert_eq(fscanf(f, "%ld %ld", &size, &pages), 2);
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

Test(page_alloc, zone_of_256g_costs_little_host_memory_after_init, .fini = teardown)
{
	long before = rss_kib(), after;
	long pfn[1000];

	zone_setup(256 * GiB, 0);
	after = rss_kib();
	cr_expect_lt(after - before, 8 * 1024, "init of 256 GiB cost %ld KiB", after - before);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 65536);
	cr_expect_eq(zone.pcp[0].batch, 63);
	for (int i = 0; i < 1000; i++)
		pfn[i] = alloc_ok(GFP_HIGHUSER_MOVABLE, 0);
	cr_expect_leq(zone.nr_mem_map_chunks, 2);
	zone_check(&zone);
	for (int i = 0; i < 1000; i++)
		__free_pages(&zone, (unsigned long)pfn[i], 0, 0);
	drain_local_pages(&zone, 0);
	cr_expect_eq(zone.nr_mem_map_chunks, 0);
	cr_expect_eq(zone.nr_free_pages, zone.managed_pages);
}

Test(page_alloc, random_allocs_and_frees_keep_invariants_and_merge_back, .fini = teardown)
{
	static const gfp_t gfps[] = { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_KERNEL | __GFP_RECLAIMABLE };
	static struct { long pfn; unsigned int order, cpu; } live[4000];
	struct zone_config cfg = { .size_bytes = 256 * MiB, .start_pfn = S, .nr_cpus = 2 };
	struct wl_rng rng;
	int n = 0;

	cr_assert_eq(zone_init(&zone, &cfg), 0);
	wl_rng_seed(&rng, 2024);
	for (int step = 0; step < 20000; step++) {
		if (n < 4000 && (n == 0 || wl_rng_below(&rng, 100) < 55)) {
			unsigned int order = (unsigned int)wl_rng_below(&rng, 100);
			unsigned int cpu = (unsigned int)wl_rng_below(&rng, 2);
			long pfn;

			order = order < 60 ? 0 : order < 80 ? (unsigned int)wl_rng_below(&rng, 4) :
				order < 95 ? 9 : (unsigned int)wl_rng_below(&rng, 11);
			pfn = __alloc_pages(&zone, gfps[wl_rng_below(&rng, 3)], order, cpu);
			if (pfn >= 0) {
				live[n].pfn = pfn;
				live[n].order = order;
				live[n++].cpu = cpu;
			}
		} else {
			uint64_t i = wl_rng_below(&rng, (uint64_t)n);

			__free_pages(&zone, (unsigned long)live[i].pfn, live[i].order,
				     (unsigned int)wl_rng_below(&rng, 2));
			live[i] = live[--n];
		}
		if (step % 2000 == 0)
			zone_check(&zone);
	}
	zone_check(&zone);
	while (n > 0) {
		n--;
		__free_pages(&zone, (unsigned long)live[n].pfn, live[n].order, live[n].cpu);
	}
	drain_all_pages(&zone);
	zone_check(&zone);
	cr_expect_eq(zone.nr_free_pages, zone.managed_pages);
	cr_expect_eq(zone_nr_free(&zone, MAX_PAGE_ORDER), 64);
	cr_expect_eq(zone.nr_mem_map_chunks, 0);
	cr_expect_eq(zone.stats.pgalloc_normal, zone.stats.pgfree);
}

Test(page_alloc, counter_names_are_linux_names)
{
	cr_expect_str_eq(page_alloc_counter_names[0], "pgalloc_normal");
	cr_expect_str_eq(page_alloc_counter_names[1], "pgfree");
	cr_expect_str_eq(page_alloc_counter_names[2], "mm_page_alloc_extfrag");
}

Test(page_alloc, double_free_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	long pfn;

	zone_setup(4 * MiB, 0);
	pfn = alloc_ok(GFP_HIGHUSER_MOVABLE, 4);
	__free_pages(&zone, (unsigned long)pfn, 4, 0);
	__free_pages(&zone, (unsigned long)pfn, 4, 0);
}

Test(page_alloc, free_with_the_wrong_order_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	long pfn;

	zone_setup(4 * MiB, 0);
	pfn = alloc_ok(GFP_HIGHUSER_MOVABLE, 2);
	__free_pages(&zone, (unsigned long)pfn, 1, 0);
}

Test(page_alloc, zone_check_aborts_on_wrong_nr_free_pages, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	zone_setup(4 * MiB, 0);
	zone.nr_free_pages--;
	zone_check(&zone);
}

Test(page_alloc, zone_check_aborts_on_wrong_nr_free, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	zone_setup(4 * MiB, 0);
	alloc_ok(GFP_HIGHUSER_MOVABLE, 5);
	zone.free_area[7].nr_free++;
	zone_check(&zone);
}

Test(page_alloc, zone_init_rejects_sizes_that_are_not_max_order_multiples)
{
	struct zone z;
	struct zone_config cfg = { .size_bytes = 6 * MiB };

	cr_expect_eq(zone_init(&z, &cfg), -EINVAL);
	cfg.size_bytes = 0;
	cr_expect_eq(zone_init(&z, &cfg), -EINVAL);
	cfg.size_bytes = 8 * MiB;
	cfg.start_pfn = 3;
	cr_expect_eq(zone_init(&z, &cfg), -EINVAL);
}
