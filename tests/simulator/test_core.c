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
