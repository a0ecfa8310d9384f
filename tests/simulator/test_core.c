/*
 * test_core.c - the interval core model against hand-computed timelines
 * (work_cycles 1, the L1 hit latency 4 as the short-latency bound).
 */
#include <errno.h>

#include <criterion/criterion.h>

#include "simulator/core.h"

static struct core c;

static void setup_mlp(uint32_t mlp)
{
	struct core_config cfg = { .freq_mhz = 4000, .work_cycles = 1, .mlp = mlp,
				   .fault_entry_cycles = 250, .fault_exit_cycles = 200,
				   .kernel_cpi = 1.0 };

	cr_assert_eq(core_init(&c, &cfg, 4), 0);
}

/* Ten L1 hits: dispatch 1 cycle each; the last completes at 10 + 4. */
Test(core, hits_cost_their_work)
{
	setup_mlp(10);
	for (int i = 0; i < 10; i++)
		core_access(&c, 4, false);
	cr_assert_eq(core_drain(&c), 14);
	cr_assert_eq(c.stats.long_misses, 0);
}

/*
 * A chase of five dependent 200-cycle loads: load 1 issues at 1 and completes
 * at 201; load k issues when load k-1 completes: 1 + 5 * 200 = 1001.
 */
Test(core, dependent_loads_serialise)
{
	setup_mlp(10);
	for (int i = 0; i < 5; i++)
		core_access(&c, 200, i > 0);
	cr_assert_eq(core_drain(&c), 1001);
	cr_assert_eq(c.stats.dependent, 4);
	cr_assert_eq(c.stats.dep_stall_cycles, 4 * 199);
}

/*
 * Four independent 100-cycle misses, two slots: a1 1..101, a2 2..102; a3
 * waits for a1's slot: 101..201; a4 waits for a2's: 102..202.
 */
Test(core, independent_misses_overlap_up_to_mlp)
{
	setup_mlp(2);
	for (int i = 0; i < 4; i++)
		core_access(&c, 100, false);
	cr_assert_eq(core_drain(&c), 202);
	cr_assert_eq(c.stats.long_misses, 4);
	cr_assert_eq(c.stats.mlp_stall_cycles, (101 - 3) + (102 - 102));
}

/* With one slot the same four misses serialise: 1 + 4 * 100 = 401. */
Test(core, one_slot_is_no_overlap)
{
	setup_mlp(1);
	for (int i = 0; i < 4; i++)
		core_access(&c, 100, false);
	cr_assert_eq(core_drain(&c), 401);
}

/* A fault drains the miss in flight (1..301), then adds its cycles: 301 + 1000. */
Test(core, fault_serialises)
{
	setup_mlp(10);
	core_access(&c, 300, false);
	core_serialize(&c, 1000);
	cr_assert_eq(c.now, 1301);
	cr_assert_eq(c.stats.serialize_cycles, 300);
	cr_assert_eq(c.stats.kernel_cycles, 1000);
	core_access(&c, 4, false);
	cr_assert_eq(core_drain(&c), 1306);
}

Test(core, bad_configuration_is_refused)
{
	struct core_config cfg = { .freq_mhz = 4000, .work_cycles = 1, .mlp = 0 };

	cr_assert_eq(core_init(&c, &cfg, 4), -EINVAL);
	cfg.mlp = CORE_MAX_MLP + 1;
	cr_assert_eq(core_init(&c, &cfg, 4), -EINVAL);
}

/*
 * The misses in flight stay ordered whichever end (or the middle) a new one
 * lands in; mlp 4, each access issued at now + 1 unless it stalls:
 *   a1 100: 1..101		{101}
 *   a2  10: 2..12		{12 101}		(a new earliest)
 *   a3 200: 3..203		{12 101 203}		(a new latest)
 *   a4  50: 4..54		{12 54 101 203}		(the earlier half)
 *   a5 150: full, waits 5 -> 12: 12..162	{54 101 162 203}	(the later half)
 *   a6   5: full, waits 13 -> 54: 54..59	{59 101 162 203}
 *   a7   5: full, waits 55 -> 59: 59..64	{64 101 162 203}
 *   a8 300: full, waits 60 -> 64: 64..364	{101 162 203 364}
 *   a9   5: full, waits 65 -> 101: 101..106
 * Stalls 7 + 41 + 4 + 4 + 36 = 92; the last completion 364.
 */
Test(core, misses_complete_in_time_order)
{
	static const uint32_t lat[] = { 100, 10, 200, 50, 150, 5, 5, 300, 5 };

	setup_mlp(4);
	for (unsigned int i = 0; i < sizeof(lat) / sizeof(lat[0]); i++)
		core_access(&c, lat[i], false);
	cr_assert_eq(c.now, 101);
	cr_assert_eq(c.stats.mlp_stall_cycles, 92);
	cr_assert_eq(core_drain(&c), 364);
}

/*
 * Completed misses free their slots: 10, 20 and 30 cycles at 1, 2, 3 (done
 * 11, 22, 33); a dependent 5-cycle load at 4 waits for 33 (29 cycles) and
 * finds all three done: 33..38. With mlp 3 two more 100-cycle misses issue
 * at once, 34..134 and 35..135.
 */
Test(core, completed_misses_free_their_slots)
{
	setup_mlp(3);
	core_access(&c, 10, false);
	core_access(&c, 20, false);
	core_access(&c, 30, false);
	core_access(&c, 5, true);
	cr_assert_eq(c.stats.dep_stall_cycles, 29);
	core_access(&c, 100, false);
	core_access(&c, 100, false);
	cr_assert_eq(c.stats.mlp_stall_cycles, 0);
	cr_assert_eq(core_drain(&c), 135);
}

/*
 * A long run goes round the slots' ring many times: 999 10-cycle misses
 * with mlp 3 settle into groups of three every 10 cycles. a(3k+1) would
 * issue at 4 + 10(k-1) and waits for a(3k-2)'s completion at 11 + 10(k-1):
 * 7 cycles, 332 times; a(999) = a(3 * 332 + 3) completes at 13 + 3320.
 */
Test(core, long_runs_wrap_the_ring)
{
	setup_mlp(3);
	for (int i = 0; i < 999; i++)
		core_access(&c, 10, false);
	cr_assert_eq(c.stats.mlp_stall_cycles, 332 * 7);
	cr_assert_eq(core_drain(&c), 3333);
}

static void setup_rob(uint32_t work, uint32_t rob)
{
	struct core_config cfg = { .freq_mhz = 4000, .work_cycles = work, .mlp = 10,
				   .fault_entry_cycles = 250, .fault_exit_cycles = 200,
				   .kernel_cpi = 1.0, .rob_cycles = rob };

	cr_assert_eq(core_init(&c, &cfg, 4), 0);
}

/*
 * 100 cycles of work per access, a window of 100 cycles: K = 1, an access
 * issues once the one before it retired. Ten independent 200-cycle misses:
 * a1 100..300, a2 waits to 300..500, ...: 100 + 10 * 200 = 2100; each of
 * a2..a10 stalled 100 cycles (ready at 200 past the last issue, issued at
 * 300 past it). Without the window they overlap (10 slots): the last
 * issues at 1000, done 1200.
 */
Test(core, rob_window_of_one_access_serialises_misses)
{
	setup_rob(100, 100);
	cr_assert_eq(c.rob_k, 1);
	for (int i = 0; i < 10; i++)
		core_access(&c, 200, false);
	cr_assert_eq(core_drain(&c), 2100);
	cr_assert_eq(c.stats.rob_stall_cycles, 9 * 100);
	setup_rob(100, 0);
	for (int i = 0; i < 10; i++)
		core_access(&c, 200, false);
	cr_assert_eq(core_drain(&c), 1200);
	cr_assert_eq(c.stats.rob_stall_cycles, 0);
}

/*
 * K = 2 (rob 200 / work 100): a_i waits for a_{i-2}, which completes
 * 400 - 200 = 200 cycles after it issued, just when a_i is ready: no
 * stall, 100 * 10 + 200. Halve the work (K = 4 at rob 200): the same.
 * Then a work of 12 and a window of 200 (K = 16) is bounded by mlp alone.
 */
Test(core, rob_window_spans_rob_cycles_of_work)
{
	setup_rob(100, 200);
	cr_assert_eq(c.rob_k, 2);
	for (int i = 0; i < 10; i++)
		core_access(&c, 200, false);
	cr_assert_eq(core_drain(&c), 1200);
	cr_assert_eq(c.stats.rob_stall_cycles, 0);
	core_set_work(&c, 50);
	cr_assert_eq(c.rob_k, 4);
	core_set_work(&c, 12);
	cr_assert_eq(c.rob_k, 16);
	core_set_work(&c, 0);
	cr_assert_eq(c.rob_k, CORE_MAX_ROB, "no work: the window is never the limit");
}

/* An L1 hit retires at once: a window of one access costs hits nothing more. */
Test(core, rob_window_costs_hits_their_latency_alone)
{
	setup_rob(10, 10);
	for (int i = 0; i < 10; i++)
		core_access(&c, 4, false);
	/* a_i ready at 10 i, a_{i-1} retired at 10 (i - 1) + 4: no stall */
	cr_assert_eq(core_drain(&c), 104);
	cr_assert_eq(c.stats.rob_stall_cycles, 0);
}
