/*
 * swap.c - the per-CPU lru_add batches of mm/swap.c (swap.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "mimicos/memory.h"
#include "mimicos/mimicos.h"
#include "mimicos/swap.h"

int lru_batches_init(struct mimicos *os, unsigned int nr_cpus)
{
	os->fbatches = calloc(nr_cpus ? nr_cpus : 1, sizeof(*os->fbatches));
	if (!os->fbatches)
		return -ENOMEM;
	os->nr_fbatches = nr_cpus ? nr_cpus : 1;
	return 0;
}

void lru_batches_release(struct mimicos *os)
{
	free(os->fbatches);
	os->fbatches = NULL;
	os->nr_fbatches = 0;
}

/*
 * folio_batch_move_lru(): every folio of the batch onto its lruvec's list
 * (lru_add() under the lruvec lock), then the batch's references dropped.
 * A folio no longer in use was taken out by lru_batch_forget().
 */
static void folio_batch_move_lru(struct mimicos *os, struct folio_batch *fb)
{
	if (!fb->nr)
		return;
	for (unsigned int i = 0; i < fb->nr; i++) {
		const struct folio *f = pfn_folio(os, fb->pfn[i]);

		if (os->lru_trace.move)
			os->lru_trace.move(os->lru_trace.ctx, fb->pfn[i], f ? f->order : 0);
	}
	os->lru_stats.folios_moved += fb->nr;
	os->lru_stats.batch_moves++;
	fb->nr = 0;
}

void folio_add_lru(struct mimicos *os, const struct folio *f)
{
	struct folio_batch *fb = &os->fbatches[os->cpu % os->nr_fbatches].lru_add;

	fb->pfn[fb->nr++] = f->pfn;
	/* folio_batch_add() left no space, or !folio_may_be_lru_cached() */
	if (fb->nr == FOLIO_BATCH_SIZE || f->order > 0)
		folio_batch_move_lru(os, fb);
}

void lru_add_drain_cpu(struct mimicos *os, unsigned int cpu)
{
	if (cpu < os->nr_fbatches)
		folio_batch_move_lru(os, &os->fbatches[cpu].lru_add);
}

void lru_add_drain(struct mimicos *os)
{
	lru_add_drain_cpu(os, os->cpu % os->nr_fbatches);
}

void lru_add_drain_all(struct mimicos *os)
{
	for (unsigned int cpu = 0; cpu < os->nr_fbatches; cpu++)
		lru_add_drain_cpu(os, cpu);
}

void lru_batch_forget(struct mimicos *os, unsigned long pfn)
{
	for (unsigned int cpu = 0; cpu < os->nr_fbatches; cpu++) {
		struct folio_batch *fb = &os->fbatches[cpu].lru_add;

		for (unsigned int i = 0; i < fb->nr; i++)
			if (fb->pfn[i] == pfn) {
				/* keep the order: the move goes through them in it */
				for (; i + 1 < fb->nr; i++)
					fb->pfn[i] = fb->pfn[i + 1];
				fb->nr--;
				return;
			}
	}
}

unsigned int lru_add_pending(const struct mimicos *os)
{
	return os->fbatches ? os->fbatches[os->cpu % os->nr_fbatches].lru_add.nr : 0;
}
