/*
 * dram.c - the open-row DRAM model (the contract is in dram.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/dram.h"

/* DDR4-2400T in DRAM clock ticks (tCK = 1/1200 us). */
#define DDR4_2400_MHZ		1200
#define DDR4_2400_TCL		17
#define DDR4_2400_TRCD		17
#define DDR4_2400_TRP		17
#define DDR4_2400_45NS		54	/* the reference's fixed 45 ns */

static uint32_t tck_to_core(uint32_t tck, uint32_t core_mhz)
{
	return (uint32_t)(((uint64_t)tck * core_mhz + DDR4_2400_MHZ / 2) / DDR4_2400_MHZ);
}

void dram_config_ddr4_2400(struct dram_config *cfg, uint32_t core_mhz)
{
	*cfg = (struct dram_config){
		.channels = 1,
		.ranks = 1,
		.banks = 16,
		.row_bytes = 8192,
		.t_row_hit = tck_to_core(DDR4_2400_45NS - DDR4_2400_TRCD, core_mhz),
		.t_row_miss = tck_to_core(DDR4_2400_45NS + DDR4_2400_TRP, core_mhz),
		.t_row_empty = tck_to_core(DDR4_2400_45NS, core_mhz),
	};
}

static bool pow2_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return x >= lo && x <= hi && !(x & (x - 1));
}

const char *dram_config_error(const struct dram_config *cfg)
{
	if (!pow2_in(cfg->channels, 1, 1u << 16))
		return "channels must be a power of two in [1, 65536]";
	if (!pow2_in(cfg->ranks, 1, 1u << 16))
		return "ranks must be a power of two in [1, 65536]";
	if (!pow2_in(cfg->banks, 1, 1u << 16))
		return "banks must be a power of two in [1, 65536]";
	if (!pow2_in(cfg->row_bytes, 64, 1u << 24))
		return "row_bytes must be a power of two in [64, 16777216]";
	if ((uint64_t)cfg->channels * cfg->ranks * cfg->banks > (1u << 20))
		return "channels * ranks * banks must be at most 1048576";
	return NULL;
}

static unsigned int log2u(uint32_t x)
{
	return (unsigned int)__builtin_ctz(x);
}

int dram_init(struct dram *d, const struct dram_config *cfg)
{
	memset(d, 0, sizeof(*d));
	if (dram_config_error(cfg))
		return -EINVAL;
	d->cfg = *cfg;
	d->col_shift = 6;
	d->chan_shift = log2u(cfg->row_bytes);
	d->rank_shift = d->chan_shift + log2u(cfg->channels);
	d->bank_shift = d->rank_shift + log2u(cfg->ranks);
	d->row_shift = d->bank_shift + log2u(cfg->banks);
	d->nr_banks = cfg->channels * cfg->ranks * cfg->banks;
	d->bank_mask = d->nr_banks - 1;
	d->open_row = malloc(d->nr_banks * sizeof(*d->open_row));
	if (!d->open_row)
		return -ENOMEM;
	dram_close_rows(d);
	return 0;
}

void dram_release(struct dram *d)
{
	free(d->open_row);
	memset(d, 0, sizeof(*d));
}

void dram_close_rows(struct dram *d)
{
	for (uint32_t i = 0; i < d->nr_banks; i++)
		d->open_row[i] = DRAM_ROW_NONE;
}

void dram_map(const struct dram *d, uint64_t paddr, struct dram_loc *loc)
{
	loc->column = (uint32_t)((paddr >> d->col_shift) & (d->cfg.row_bytes / 64 - 1));
	loc->channel = (uint32_t)((paddr >> d->chan_shift) & (d->cfg.channels - 1));
	loc->rank = (uint32_t)((paddr >> d->rank_shift) & (d->cfg.ranks - 1));
	loc->bank = (uint32_t)((paddr >> d->bank_shift) & (d->cfg.banks - 1));
	loc->row = paddr >> d->row_shift;
}
