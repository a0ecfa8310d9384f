/*
 * core.c - the interval core model (see core.h).
 */
#include <errno.h>
#include <string.h>

#include "simulator/core.h"

int core_init(struct core *c, const struct core_config *cfg, uint32_t short_latency)
{
	memset(c, 0, sizeof(*c));
	if (!cfg->mlp || cfg->mlp > CORE_MAX_MLP || !cfg->freq_mhz)
		return -EINVAL;
	c->cfg = *cfg;
	c->short_latency = short_latency;
	core_set_work(c, cfg->work_cycles);
	return 0;
}

void core_set_work(struct core *c, uint32_t work_cycles)
{
	uint32_t k = 0;

	c->cfg.work_cycles = work_cycles;
	if (c->cfg.rob_cycles) {
		k = work_cycles ? c->cfg.rob_cycles / work_cycles : CORE_MAX_ROB;
		k = k < 1 ? 1 : k > CORE_MAX_ROB ? CORE_MAX_ROB : k;
	}
	if (k != c->rob_k) {
		/* the new ring's accesses: as if all retired with the last */
		for (uint32_t i = 0; i < k; i++)
			c->retire[i] = c->last_retire;
		c->rob_k = k;
		c->rob_at = 0;
	}
}

/* __core_insert()'s uncommon case: t lands between the earliest and the latest. */
uint32_t __core_insert_between(struct core *c, uint32_t head, uint32_t n, uint64_t t)
{
	uint32_t i;

	if (t < *__core_ring(c, head, n / 2)) {
		/* the earlier half moves one towards the front */
		head--;
		for (i = 0; *__core_ring(c, head, i + 1) < t; i++)
			*__core_ring(c, head, i) = *__core_ring(c, head, i + 1);
	} else {
		for (i = n; *__core_ring(c, head, i - 1) > t; i--)
			*__core_ring(c, head, i) = *__core_ring(c, head, i - 1);
	}
	*__core_ring(c, head, i) = t;
	return head;
}

uint64_t core_drain(struct core *c)
{
	if (c->horizon > c->now)
		c->now = c->horizon;
	c->nr_slots = 0;
	c->last_complete = c->now;
	c->last_retire = c->now;
	return c->now;
}

void core_serialize(struct core *c, uint64_t cycles)
{
	uint64_t before = c->now;

	core_drain(c);
	c->stats.serialize_cycles += c->now - before;
	c->stats.kernel_cycles += cycles;
	c->now += cycles;
	c->horizon = c->now;
	c->last_complete = c->now;
}
