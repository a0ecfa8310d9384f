/*
 * dram.h - main memory: a fixed latency that depends on the state of the
 * addressed bank's row buffer (open-row policy), no queueing.
 *
 * Organisation: channels x ranks (per channel) x banks (per rank), each bank
 * with one row buffer. Under the open-row policy a row stays open after an
 * access until another row of the same bank is needed, so an access is
 *
 *   a row hit		its row is open:		t_row_hit
 *   a row miss		another row is open (conflict):	t_row_miss
 *			(precharge, activate, read)
 *   row empty		no row open in its bank yet:	t_row_empty
 *			(activate, read)
 *
 * and leaves its row open. Reads and writes cost the same (no write queue).
 * There is no bank or bus occupancy, no refresh and no scheduling: the
 * latency of an access depends only on the row-buffer state it finds, so the
 * model is exact for the timing it claims and cheap (an array per bank).
 *
 * Address mapping (row : bank : rank : channel : column : line offset, most
 * to least significant; every count a power of two):
 *
 *   bits  5..0	byte in the 64-byte line
 *   next  log2(row_bytes / 64)	column: the line within the row
 *   next  log2(channels)		channel
 *   next  log2(ranks)		rank
 *   next  log2(banks)		bank
 *   rest			row
 *
 * so a row-sized, row-aligned chunk of physical memory is one row of one
 * bank (sequential lines hit the open row), and consecutive chunks go to the
 * next channel, then rank, then bank, before the row changes (Ramulator's
 * "RoBaRaChCo" order, without XOR bank hashing).
 *
 * Latencies are core cycles: the simulator counts time in the core's clock,
 * so dram_config_ddr4_2400() converts the DRAM timings with the core
 * frequency it is given (the core's configuration, default 4 GHz).
 */
#ifndef SIMULATOR_DRAM_H
#define SIMULATOR_DRAM_H

#include <stdbool.h>
#include <stdint.h>

/* JSON keys are the field names, as for every component. */
struct dram_config {
	uint32_t channels;	/* power of two >= 1 */
	uint32_t ranks;		/* per channel, power of two >= 1 */
	uint32_t banks;		/* per rank, power of two >= 1 */
	uint32_t row_bytes;	/* a row (DRAM page) of one rank, power of two >= 64 */
	uint32_t t_row_hit;	/* core cycles of a row-buffer hit */
	uint32_t t_row_miss;	/* ... of a conflict: precharge + activate + read */
	uint32_t t_row_empty;	/* ... of a bank with no open row: activate + read */
};

/* The default core clock of the simulator, in MHz. */
#define DRAM_DEFAULT_CORE_MHZ	4000

/*
 * The defaults: the reference system's DDR4-2400 at 45 ns.
 *
 * Geometry: 1 channel, 1 rank, 16 banks (DDR4: 4 bank groups x 4), 8 KiB
 * rows (a rank of eight x8 chips with 1 KiB pages).
 *
 * Timing: DDR4-2400T (JEDEC 17-17-17), tCK = 1/1200 MHz = 0.833 ns, so
 * tCL = tRCD = tRP = 17 tCK = 14.17 ns. The reference system's memory latency
 * is a fixed 45 ns (= 54 tCK); here it is the latency of an access to a bank
 * with no open row (the closed-page case a fixed latency stands for), so
 *
 *   t_row_empty = 54 tCK (45.00 ns): controller and transfer 20 tCK + tRCD + tCL
 *   t_row_hit   = 37 tCK (30.83 ns): no activate (- tRCD)
 *   t_row_miss  = 71 tCK (59.17 ns): precharge first (+ tRP)
 *
 * each converted once to core cycles, rounded to the nearest (half up):
 * cycles = (tCK * core_mhz + 600) / 1200. At 4000 MHz: 123, 237, 180.
 */
void dram_config_ddr4_2400(struct dram_config *cfg, uint32_t core_mhz);

/*
 * NULL if 'cfg' is valid, else one phrase naming the field that is not (for
 * the configuration reader): counts powers of two in [1, 65536], row_bytes a
 * power of two in [64, 2^24], channels * ranks * banks <= 2^20.
 */
const char *dram_config_error(const struct dram_config *cfg);

/*
 * X(name): the counters, in print order; the only list of them.
 *   reads, writes	accesses by kind
 *   row_hits, row_misses, row_empty	accesses by row-buffer outcome
 */
#define DRAM_STATS_LIST(X)	\
	X(reads)		\
	X(writes)		\
	X(row_hits)		\
	X(row_misses)		\
	X(row_empty)

struct dram_stats {
#define DRAM_STATS_FIELD(name) uint64_t name;
	DRAM_STATS_LIST(DRAM_STATS_FIELD)
#undef DRAM_STATS_FIELD
};

/* Where a physical address lives (see the mapping above). */
struct dram_loc {
	uint32_t channel, rank, bank;	/* bank within its rank */
	uint32_t column;		/* line within the row */
	uint64_t row;
};

#define DRAM_ROW_NONE	UINT64_MAX	/* a bank's open_row before its first access */

struct dram {
	struct dram_config cfg;
	unsigned int col_shift;		/* bit of the column: 6 (line offset) */
	unsigned int chan_shift, rank_shift, bank_shift, row_shift;
	uint32_t nr_banks;		/* channels * ranks * banks */
	uint32_t bank_mask;		/* nr_banks - 1 */
	uint64_t *open_row;		/* per bank, indexed by the address bits
				   from chan_shift to row_shift */
	struct dram_stats stats;
};

/*
 * Allocate the row buffers (all closed). 0, -EINVAL for a configuration
 * dram_config_error() rejects, -ENOMEM. On error *d needs no release.
 */
int dram_init(struct dram *d, const struct dram_config *cfg);

/* Free the row buffers; *d is zeroed. */
void dram_release(struct dram *d);

/* Decompose 'paddr' by the mapping. */
void dram_map(const struct dram *d, uint64_t paddr, struct dram_loc *loc);

/*
 * One access (a line fill, or a writeback if 'is_write'): its latency in
 * core cycles; the addressed row is open afterwards, the counters updated.
 * Inline: every miss of the LLC and every writeback to memory comes here.
 */
static inline uint32_t dram_access(struct dram *d, uint64_t paddr, bool is_write)
{
	/* channel, rank and bank bits are adjacent: together, the bank's index */
	uint64_t *open = &d->open_row[(paddr >> d->chan_shift) & d->bank_mask];
	uint64_t row = paddr >> d->row_shift;
	uint32_t lat;

	if (is_write)
		d->stats.writes++;
	else
		d->stats.reads++;
	if (*open == row) {
		d->stats.row_hits++;
		lat = d->cfg.t_row_hit;
	} else if (*open == DRAM_ROW_NONE) {
		d->stats.row_empty++;
		lat = d->cfg.t_row_empty;
	} else {
		d->stats.row_misses++;
		lat = d->cfg.t_row_miss;
	}
	*open = row;
	return lat;
}

/* Close every row (e.g. between regions of interest); counters untouched. */
void dram_close_rows(struct dram *d);

#endif
