/*
 * test_dram.c - the open-row DRAM model (simulator/dram.h) alone.
 *
 * Default geometry (1 channel, 1 rank, 16 banks, 8 KiB rows): bits 12..6
 * column, 16..13 bank, 17 and up row. Default latencies at 4000 MHz, from
 * dram.h's tCK counts: hit 37 tCK = 123.3 -> 123, empty 54 tCK = 180,
 * miss 71 tCK = 236.7 -> 237 cycles.
 */
#include <errno.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "simulator/dram.h"
#include "simulator/stats.h"

#define HIT	123
#define EMPTY	180
#define MISS	237
#define ROW	(1ULL << 17)	/* next row, same bank */
#define BANK	(1ULL << 13)	/* next bank, same row number */

static struct dram d;

static void setup(void)
{
	struct dram_config cfg;

	dram_config_ddr4_2400(&cfg, DRAM_DEFAULT_CORE_MHZ);
	cr_assert_eq(dram_init(&d, &cfg), 0);
}

static void teardown(void)
{
	dram_release(&d);
}

Test(dram, ddr4_2400_defaults_in_core_cycles)
{
	struct dram_config cfg;

	dram_config_ddr4_2400(&cfg, 4000);
	cr_expect_eq(cfg.t_row_hit, HIT);
	cr_expect_eq(cfg.t_row_empty, EMPTY);
	cr_expect_eq(cfg.t_row_miss, MISS);
	cr_expect_eq(cfg.channels, 1);
	cr_expect_eq(cfg.ranks, 1);
	cr_expect_eq(cfg.banks, 16);
	cr_expect_eq(cfg.row_bytes, 8192);
	/* 2400 MHz: two core cycles per tCK, exact: 74, 108, 142 */
	dram_config_ddr4_2400(&cfg, 2400);
	cr_expect_eq(cfg.t_row_hit, 74);
	cr_expect_eq(cfg.t_row_empty, 108);
	cr_expect_eq(cfg.t_row_miss, 142);
	/* 3000 MHz: 92.5 and 177.5 round half up, 135 exact */
	dram_config_ddr4_2400(&cfg, 3000);
	cr_expect_eq(cfg.t_row_hit, 93);
	cr_expect_eq(cfg.t_row_empty, 135);
	cr_expect_eq(cfg.t_row_miss, 178);
}

Test(dram, same_row_twice_is_empty_then_hit, .init = setup, .fini = teardown)
{
	cr_expect_eq(dram_access(&d, 0x1000, false), EMPTY);
	cr_expect_eq(dram_access(&d, 0x1000, false), HIT);
	/* another line of the same row (the row's last line) hits too */
	cr_expect_eq(dram_access(&d, 0x1fc0, true), HIT);
	cr_expect_eq(d.stats.row_empty, 1);
	cr_expect_eq(d.stats.row_hits, 2);
	cr_expect_eq(d.stats.reads, 2);
	cr_expect_eq(d.stats.writes, 1);
}

Test(dram, two_rows_of_one_bank_conflict, .init = setup, .fini = teardown)
{
	cr_expect_eq(dram_access(&d, 0, false), EMPTY);
	cr_expect_eq(dram_access(&d, ROW, false), MISS);
	cr_expect_eq(dram_access(&d, 0, false), MISS, "row 0 was closed by row 1");
	cr_expect_eq(dram_access(&d, 64, false), HIT);
	cr_expect_eq(d.stats.row_misses, 2);
	cr_expect_eq(d.stats.row_hits, 1);
	cr_expect_eq(d.stats.row_empty, 1);
}

Test(dram, different_banks_do_not_conflict, .init = setup, .fini = teardown)
{
	/* row 0 of bank 0, row 1 of bank 1, row 0 of bank 15: each its own buffer */
	cr_expect_eq(dram_access(&d, 0, false), EMPTY);
	cr_expect_eq(dram_access(&d, ROW + BANK, false), EMPTY);
	cr_expect_eq(dram_access(&d, 15 * BANK, false), EMPTY);
	cr_expect_eq(dram_access(&d, 0, false), HIT);
	cr_expect_eq(dram_access(&d, ROW + BANK + 128, false), HIT);
	cr_expect_eq(dram_access(&d, 15 * BANK + 64, false), HIT);
	/* 16 banks: the bank field wraps into the row, bank 0 again */
	cr_expect_eq(dram_access(&d, 16 * BANK, false), MISS);
}

Test(dram, close_rows_empties_every_bank, .init = setup, .fini = teardown)
{
	dram_access(&d, 0, false);
	dram_access(&d, BANK, false);
	dram_close_rows(&d);
	cr_expect_eq(dram_access(&d, 0, false), EMPTY);
	cr_expect_eq(dram_access(&d, BANK, false), EMPTY);
	cr_expect_eq(d.stats.row_empty, 4);
}

/*
 * 2 channels, 2 ranks, 8 banks, 1 KiB rows: bits 9..6 column, 10 channel,
 * 11 rank, 14..12 bank, 15 and up row.
 */
Test(dram, address_mapping_column_channel_rank_bank_row)
{
	struct dram_config cfg = { .channels = 2, .ranks = 2, .banks = 8, .row_bytes = 1024,
				   .t_row_hit = 1, .t_row_miss = 3, .t_row_empty = 2 };
	struct dram_loc loc;
	uint64_t pa = (5ULL << 15) | (3 << 12) | (1 << 11) | (1 << 10) | (7 << 6) | 0x21;

	cr_assert_eq(dram_init(&d, &cfg), 0);
	dram_map(&d, pa, &loc);
	cr_expect_eq(loc.row, 5);
	cr_expect_eq(loc.bank, 3);
	cr_expect_eq(loc.rank, 1);
	cr_expect_eq(loc.channel, 1);
	cr_expect_eq(loc.column, 7);
	/* the other channel, the other rank: other row buffers */
	cr_expect_eq(dram_access(&d, pa, false), 2);
	cr_expect_eq(dram_access(&d, pa ^ (1 << 10), false), 2);
	cr_expect_eq(dram_access(&d, pa ^ (1 << 11), false), 2);
	cr_expect_eq(dram_access(&d, pa ^ (1 << 6), false), 1, "another column, same row");
	cr_expect_eq(dram_access(&d, pa + (1 << 15), false), 3, "next row, same bank");
	dram_release(&d);
}

Test(dram, config_errors_are_rejected)
{
	struct dram_config ok, bad;

	dram_config_ddr4_2400(&ok, 4000);
	cr_expect_null(dram_config_error(&ok));
	bad = ok, bad.banks = 12;
	cr_expect_not_null(dram_config_error(&bad));
	cr_expect_eq(dram_init(&d, &bad), -EINVAL);
	bad = ok, bad.channels = 0;
	cr_expect_not_null(dram_config_error(&bad));
	bad = ok, bad.ranks = 3;
	cr_expect_not_null(dram_config_error(&bad));
	bad = ok, bad.row_bytes = 32;
	cr_expect_not_null(dram_config_error(&bad));
}

Test(dram, stats_print_every_counter_in_order)
{
	struct dram_stats st = { .reads = 1, .writes = 2, .row_hits = 3, .row_misses = 4,
				 .row_empty = 5 };
	cJSON *j = dram_stats_to_json(&st);
	char *s;

	cr_assert_not_null(j);
	s = cJSON_PrintUnformatted(j);
	cr_expect_str_eq(s, "{\"reads\":1,\"writes\":2,\"row_hits\":3,\"row_misses\":4,"
			    "\"row_empty\":5}");
	free(s);
	cJSON_Delete(j);
}
