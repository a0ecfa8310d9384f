/*
 * test_memsys.c - the cache hierarchy against hand-computed sequences.
 *
 * L1D 1 set x 2 ways (4 cycles), L2 1 set x 4 ways (12), LLC 1 set x 8 ways
 * (30), LRU; DRAM: one bank, 8 KiB rows, row hit 100, miss 300, empty 200.
 * Lines are 64 bytes; A, B, C, ... are lines in one 8 KiB row.
 */
#include <criterion/criterion.h>

#include "simulator/memsys.h"

static struct memsys ms;

#define L(n) ((uint64_t)(n) * 64)

static void setup(void)
{
	struct sa_config l1 = { .sets = 1, .ways = 2, .latency = 4, .repl = SA_REPL_LRU };
	struct sa_config l2 = { .sets = 1, .ways = 4, .latency = 12, .repl = SA_REPL_LRU };
	struct sa_config llc = { .sets = 1, .ways = 8, .latency = 30, .repl = SA_REPL_LRU };
	struct dram_config d = { .channels = 1, .ranks = 1, .banks = 1, .row_bytes = 8192,
				 .t_row_hit = 100, .t_row_miss = 300, .t_row_empty = 200 };

	cr_assert_eq(memsys_init(&ms, &l1, &l2, &llc, &d, NULL, NULL), 0);
}

static void teardown(void)
{
	memsys_release(&ms);
}

TestSuite(memsys, .init = setup, .fini = teardown);

/* A first access goes to DRAM (empty bank): 4 + 12 + 30 + 200; again: an L1 hit. */
Test(memsys, miss_then_hit)
{
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 246);
	cr_assert_eq(memsys_access(&ms, L(0) + 8, false, MEMSYS_DATA), 4);
	cr_assert_eq(ms.stats.hits[MEMSYS_L1D][MEMSYS_DATA], 1);
	cr_assert_eq(ms.stats.misses[MEMSYS_LLC][MEMSYS_DATA], 1);
	cr_assert_eq(ms.stats.dram[MEMSYS_DATA], 1);
}

/*
 * A B C: C evicts A from the 2-way L1 (A is still in L2): A costs 4 + 12.
 * B and C were row hits in DRAM: 146 each.
 */
Test(memsys, l1_victim_hits_in_l2)
{
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 246);
	cr_assert_eq(memsys_access(&ms, L(1), false, MEMSYS_DATA), 146);
	cr_assert_eq(memsys_access(&ms, L(2), false, MEMSYS_DATA), 146);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 16);
	cr_assert_eq(ms.stats.hits[MEMSYS_L2][MEMSYS_DATA], 1);
}

/* Classes are counted apart. */
Test(memsys, traffic_classes_are_separate)
{
	memsys_access(&ms, L(0), false, MEMSYS_TRANSLATION);
	memsys_access(&ms, L(0), false, MEMSYS_DATA);
	memsys_access(&ms, L(5), true, MEMSYS_KERNEL);
	cr_assert_eq(ms.stats.misses[MEMSYS_L1D][MEMSYS_TRANSLATION], 1);
	cr_assert_eq(ms.stats.hits[MEMSYS_L1D][MEMSYS_DATA], 1);
	cr_assert_eq(ms.stats.dram[MEMSYS_KERNEL], 1);
	cr_assert_eq(ms.stats.dram[MEMSYS_DATA], 0);
}

/*
 * A dirty line travels down: store A, then 11 more lines push it out of L1
 * (2), L2 (4) and the LLC (8): 2 + 4 + 8 = 14 lines hold the hierarchy, so
 * the 15th distinct line evicts A from the LLC, written to DRAM.
 */
Test(memsys, dirty_lines_are_written_back)
{
	memsys_access(&ms, L(0), true, MEMSYS_DATA);
	for (int i = 1; i < 8; i++)
		memsys_access(&ms, L(i), false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.writebacks, 0);
	for (int i = 8; i < 16; i++)
		memsys_access(&ms, L(i), false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.writebacks, 1, "A reached DRAM");
	cr_assert_eq(ms.dram.stats.writes, 1);
}

/*
 * Clearing 4 lines with mlp 2: the first store misses to an empty bank (246),
 * the next three are row hits (146): (246 + 3 * 146) / 2 = 342 cycles.
 */
Test(memsys, bulk_overlaps_up_to_mlp)
{
	cr_assert_eq(memsys_bulk(&ms, L(0), 256, MEMSYS_NO_SOURCE, 2, MEMSYS_KERNEL), 342);
	/*
	 * Again: L1 holds lines 2 and 3, L2 all four. Line 0 hits L2 (16) and
	 * evicts 2 from L1, line 1 evicts 3, so 2 and 3 hit L2 too (LRU
	 * thrash): 4 * 16 / 2 = 32.
	 */
	cr_assert_eq(memsys_bulk(&ms, L(0), 256, MEMSYS_NO_SOURCE, 2, MEMSYS_KERNEL), 32);
}

/*
 * The line just filled is the most recent in LRU: A B B C evicts A, not B
 * (B's second access, right after its fill, is an L1 hit like any other:
 * counted by the structure and the class).
 */
Test(memsys, refill_of_the_line_just_filled_is_an_lru_hit)
{
	memsys_access(&ms, L(0), false, MEMSYS_DATA);
	memsys_access(&ms, L(1), false, MEMSYS_DATA);
	cr_assert_eq(memsys_access(&ms, L(1) + 8, false, MEMSYS_TRANSLATION), 4);
	cr_assert_eq(ms.level[MEMSYS_L1D].stats.hits, 1);
	cr_assert_eq(ms.stats.hits[MEMSYS_L1D][MEMSYS_TRANSLATION], 1);
	memsys_access(&ms, L(2), false, MEMSYS_DATA);
	cr_assert_eq(memsys_access(&ms, L(1), false, MEMSYS_DATA), 4);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 16);
}

/*
 * SRRIP: a hit lowers a line's prediction to 0 where a fill set it to 2, so
 * the access after a fill must reach the policy. L1D SRRIP, 2 ways: A, A
 * again (0), B (2); C finds no way at 3 and ages the set by 1 (A 1, B 3):
 * B goes, A still hits in L1 (had A kept its fill's 2, the tie would evict
 * A, way 0, and A would cost 4 + 12).
 */
Test(memsys, srrip_hit_after_fill_reaches_the_policy)
{
	struct sa_config l1 = { .sets = 1, .ways = 2, .latency = 4, .repl = SA_REPL_SRRIP };
	struct sa_config l2 = { .sets = 1, .ways = 4, .latency = 12, .repl = SA_REPL_LRU };
	struct sa_config llc = { .sets = 1, .ways = 8, .latency = 30, .repl = SA_REPL_LRU };
	struct dram_config d = { .channels = 1, .ranks = 1, .banks = 1, .row_bytes = 8192,
				 .t_row_hit = 100, .t_row_miss = 300, .t_row_empty = 200 };

	memsys_release(&ms);
	cr_assert_eq(memsys_init(&ms, &l1, &l2, &llc, &d, NULL, NULL), 0);
	memsys_access(&ms, L(0), false, MEMSYS_DATA);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 4);
	memsys_access(&ms, L(1), false, MEMSYS_DATA);
	memsys_access(&ms, L(2), false, MEMSYS_DATA);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 4);
	cr_assert_eq(memsys_access(&ms, L(1), false, MEMSYS_DATA), 16);
}

/* Push line A out of all three levels: 14 more distinct lines (2 + 4 + 8). */
static void evict_line_0(void)
{
	for (int i = 1; i < 16; i++)
		memsys_access(&ms, L(i), false, MEMSYS_DATA);
}

/*
 * A store to the line just loaded dirties it (written back once evicted),
 * whether the load filled it or hit it (A, B, A: a hit).
 */
Test(memsys, store_after_load_dirties_the_line)
{
	memsys_access(&ms, L(0), false, MEMSYS_DATA);
	cr_assert_eq(memsys_access(&ms, L(0) + 8, true, MEMSYS_DATA), 4);
	cr_assert_eq(memsys_access(&ms, L(0) + 16, true, MEMSYS_DATA), 4);
	cr_assert_eq(ms.stats.hits[MEMSYS_L1D][MEMSYS_DATA], 2);
	evict_line_0();
	cr_assert_eq(ms.stats.writebacks, 1);
}

Test(memsys, store_after_load_hit_dirties_the_line)
{
	memsys_access(&ms, L(0), false, MEMSYS_DATA);
	memsys_access(&ms, L(1), false, MEMSYS_DATA);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 4);
	cr_assert_eq(memsys_access(&ms, L(0) + 8, true, MEMSYS_DATA), 4);
	evict_line_0();
	cr_assert_eq(ms.stats.writebacks, 1);
}

/* Loads of the same line leave it clean: nothing to write back. */
Test(memsys, repeated_loads_leave_the_line_clean)
{
	for (int i = 0; i < 4; i++)
		memsys_access(&ms, L(0) + 8 * i, false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.hits[MEMSYS_L1D][MEMSYS_DATA], 3);
	evict_line_0();
	cr_assert_eq(ms.stats.writebacks, 0);
}

/*
 * The L2 stream prefetcher, degree 4, over a hierarchy large enough to
 * keep what it brings: L1D 1 x 2 (4 cycles), L2 1 x 16 (12), LLC 1 x 32
 * (30), the same DRAM.
 */
static void setup_prefetch_adjacent(uint32_t degree, bool adjacent);

static void setup_prefetch(uint32_t degree)
{
	setup_prefetch_adjacent(degree, false);
}

static void setup_prefetch_adjacent(uint32_t degree, bool adjacent)
{
	struct sa_config l1 = { .sets = 1, .ways = 2, .latency = 4, .repl = SA_REPL_LRU };
	struct sa_config l2 = { .sets = 1, .ways = 16, .latency = 12, .repl = SA_REPL_LRU };
	struct sa_config llc = { .sets = 1, .ways = 32, .latency = 30, .repl = SA_REPL_LRU };
	struct dram_config d = { .channels = 1, .ranks = 1, .banks = 1, .row_bytes = 8192,
				 .t_row_hit = 100, .t_row_miss = 300, .t_row_empty = 200 };
	struct prefetch_config pf = { .degree = degree, .streams = 16, .adjacent = adjacent };

	memsys_release(&ms);
	cr_assert_eq(memsys_init(&ms, &l1, &l2, &llc, &d, &pf, NULL), 0);
}

/*
 * Lines 0..63 of one page in order. Line 0 misses to DRAM and opens a
 * stream; line 1 misses too and, following line 0, brings lines 2..5; each
 * later line hits L2 (4 + 12) and brings the line 4 past it, until the
 * page's end (line 63): 62 lines prefetched, 2 demand misses to DRAM.
 */
Test(memsys, stream_prefetch_brings_the_lines_ahead_into_l2)
{
	uint64_t cycles = 0;

	setup_prefetch(4);
	for (int i = 0; i < 64; i++)
		cycles += memsys_access(&ms, L(i), false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.prefetches, 62);
	cr_assert_eq(ms.stats.prefetch_dram, 62);
	cr_assert_eq(ms.stats.dram[MEMSYS_DATA], 2);
	cr_assert_eq(ms.stats.hits[MEMSYS_L2][MEMSYS_DATA], 62);
	/* line 0: an empty bank (200); line 1: the row line 0 opened (100) */
	cr_assert_eq(cycles, (4 + 12 + 30) * 2 + 200 + 100 + 62 * (4 + 12));
	/* off: every line from DRAM */
	setup_prefetch(0);
	for (int i = 0; i < 64; i++)
		memsys_access(&ms, L(i), false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.prefetches, 0);
	cr_assert_eq(ms.stats.dram[MEMSYS_DATA], 64);
}

/* Not a stream: descending lines, the walker's reads, and the next page (not crossed). */
Test(memsys, stream_prefetch_ignores_descending_translation_and_page_ends)
{
	setup_prefetch(4);
	for (int i = 63; i >= 0; i--)
		memsys_access(&ms, L(i), false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.prefetches, 0, "descending");
	for (int i = 64; i < 128; i++)
		memsys_access(&ms, L(i), false, MEMSYS_TRANSLATION);
	cr_assert_eq(ms.stats.prefetches, 0, "the walker's reads");
	memsys_access(&ms, L(190), false, MEMSYS_DATA);
	memsys_access(&ms, L(191), false, MEMSYS_DATA);
	cr_assert_eq(ms.stats.prefetches, 0, "line 191 ends its page: nothing past it");
}

/*
 * The adjacent-line prefetcher: line 0 misses to DRAM (4 + 12 + 30 + 200)
 * and brings line 1 (the open row), which then hits L2 (4 + 12); line 3,
 * from the walker, misses (a row hit: 4 + 12 + 30 + 100) and brings line 2.
 * A line that hits L2 brings nothing.
 */
Test(memsys, adjacent_prefetch_brings_the_other_line_of_the_pair)
{
	setup_prefetch_adjacent(0, true);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 4 + 12 + 30 + 200);
	cr_assert_eq(ms.stats.adjacent, 1);
	cr_assert_eq(ms.stats.adjacent_dram, 1);
	cr_assert_eq(memsys_access(&ms, L(1), false, MEMSYS_DATA), 4 + 12);
	cr_assert_eq(memsys_access(&ms, L(3), false, MEMSYS_TRANSLATION), 4 + 12 + 30 + 100);
	cr_assert_eq(ms.stats.adjacent, 2, "the walker's misses too");
	cr_assert_eq(memsys_access(&ms, L(2), false, MEMSYS_DATA), 4 + 12);
	cr_assert_eq(ms.stats.adjacent, 2, "an L2 hit brings nothing");
	cr_assert_eq(ms.stats.dram[MEMSYS_DATA] + ms.stats.dram[MEMSYS_TRANSLATION], 2);
}

/*
 * Two cores of one chip: the second's L1D and L2 are its own, its LLC and
 * DRAM the first's. A line the first brought in is an LLC hit for the
 * second (4 + 12 + 30), a miss in its private levels; the row it opened is
 * open for the second's next line (4 + 12 + 30 + 100).
 */
Test(memsys, a_second_core_shares_the_llc_and_dram_not_the_private_levels)
{
	struct sa_config l1 = { .sets = 1, .ways = 2, .latency = 4, .repl = SA_REPL_LRU };
	struct sa_config l2 = { .sets = 1, .ways = 4, .latency = 12, .repl = SA_REPL_LRU };
	struct sa_config llc = { .sets = 1, .ways = 8, .latency = 30, .repl = SA_REPL_LRU };
	struct dram_config d = { .channels = 1, .ranks = 1, .banks = 1, .row_bytes = 8192,
				 .t_row_hit = 100, .t_row_miss = 300, .t_row_empty = 200 };
	struct memsys second;

	cr_assert_eq(memsys_init(&second, &l1, &l2, &llc, &d, NULL, NULL), 0);
	memsys_share(&second, &ms);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 246);
	cr_assert_eq(memsys_access(&second, L(0), false, MEMSYS_DATA), 46);
	cr_assert_eq(second.stats.misses[MEMSYS_L2][MEMSYS_DATA], 1);
	cr_assert_eq(second.stats.hits[MEMSYS_LLC][MEMSYS_DATA], 1);
	cr_assert_eq(memsys_access(&second, L(1), false, MEMSYS_DATA), 146);
	cr_assert_eq(ms.dram.stats.reads, 2, "one DRAM, both cores' misses");
	cr_assert_eq(ms.level[MEMSYS_LLC].stats.hits, 1, "one LLC, the second core's hit");
	/* the first core's private levels never saw the second's line */
	cr_assert_eq(memsys_access(&ms, L(1), false, MEMSYS_DATA), 46);
	memsys_release(&second);
	cr_assert_eq(memsys_access(&ms, L(0), false, MEMSYS_DATA), 4, "the first is whole");
}
