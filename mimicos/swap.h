/*
 * swap.h - mm/swap.c's per-CPU LRU batches: a new anonymous folio reaches
 * its lruvec's list not at fault time but through this CPU's lru_add
 * folio_batch, which folio_batch_move_lru() moves in one go when it fills
 * (every FOLIO_BATCH_SIZE folios), when a large folio joins it, or when
 * lru_add_drain() / lru_add_drain_all() asks. On Linux the fault that fills
 * the batch pays for all of them: every 31st 4 KiB fault is 2-3 times a
 * plain one, the tail of the kind's latency (docs/calibration.md).
 *
 * Only the batching is imitated, for its cost: MimicOS has no LRU lists
 * (no reclaim), and PG_lru stays what page_alloc.h makes it. The batch
 * holds no reference either; a folio freed while in a batch leaves it
 * (Linux's drains before every zap make that rare there).
 */
#ifndef MIMICOS_SWAP_H
#define MIMICOS_SWAP_H

#include <stdbool.h>
#include <stdint.h>

/* PAGEVEC_SIZE: folio_batch_add() returns the space left, and 0 drains. */
#define FOLIO_BATCH_SIZE	31

struct mimicos;
struct folio;

struct folio_batch {
	unsigned int nr;
	unsigned long pfn[FOLIO_BATCH_SIZE];	/* head pfns */
};

/* struct cpu_fbatches: the batches of one CPU (lru_add alone here). */
struct cpu_fbatches {
	struct folio_batch lru_add;
};

/*
 * Who watches the moves (the channel prices them): move() once per folio
 * folio_batch_move_lru() puts on an LRU list, in batch order.
 */
struct lru_trace {
	void (*move)(void *ctx, unsigned long pfn, unsigned int order);
	void *ctx;
};

/* Counters for tests and stats: folios moved and the moves that did it. */
struct lru_stats {
	uint64_t folios_moved;
	uint64_t batch_moves;
};

/* Allocate nr_cpus empty batches; 0 or -ENOMEM. */
int lru_batches_init(struct mimicos *os, unsigned int nr_cpus);
void lru_batches_release(struct mimicos *os);

/* folio_add_lru(): f joins os->cpu's lru_add batch, which moves when full or f is large. */
void folio_add_lru(struct mimicos *os, const struct folio *f);
/* lru_add_drain(): move os->cpu's batch now. */
void lru_add_drain(struct mimicos *os);
/* lru_add_drain_cpu() */
void lru_add_drain_cpu(struct mimicos *os, unsigned int cpu);
/* lru_add_drain_all(): every CPU's. */
void lru_add_drain_all(struct mimicos *os);
/* A folio about to be freed leaves any batch it is in. */
void lru_batch_forget(struct mimicos *os, unsigned long pfn);
/* How many folios os->cpu's lru_add batch holds. */
unsigned int lru_add_pending(const struct mimicos *os);

#endif
