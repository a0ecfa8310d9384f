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
	return 0;
}

/* The slot that completes first. */
static uint32_t earliest(const struct core *c)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < c->nr_slots; i++)
		if (c->slot[i] < c->slot[best])
			best = i;
	return best;
}

/* Forget the misses complete by 'now'. */
static void retire(struct core *c, uint64_t now)
{
	for (uint32_t i = 0; i < c->nr_slots;)
		if (c->slot[i] <= now)
			c->slot[i] = c->slot[--c->nr_slots];
		else
			i++;
}

void core_access(struct core *c, uint32_t latency, bool dependent)
{
	uint64_t issue, done;

	c->stats.accesses++;
	c->now += c->cfg.work_cycles;
	issue = c->now;
	if (dependent) {
		c->stats.dependent++;
		if (c->last_complete > issue) {
			c->stats.dep_stall_cycles += c->last_complete - issue;
			issue = c->last_complete;
		}
	}
	if (latency > c->short_latency) {
		c->stats.long_misses++;
		retire(c, issue);
		if (c->nr_slots == c->cfg.mlp) {
			uint32_t e = earliest(c);

			c->stats.mlp_stall_cycles += c->slot[e] - issue;
			issue = c->slot[e];
			c->slot[e] = c->slot[--c->nr_slots];
		}
	}
	done = issue + latency;
	if (latency > c->short_latency)
		c->slot[c->nr_slots++] = done;
	/* the core dispatches in order: a stalled issue holds what follows */
	c->now = issue;
	c->last_complete = done;
	if (done > c->horizon)
		c->horizon = done;
}

uint64_t core_drain(struct core *c)
{
	if (c->horizon > c->now)
		c->now = c->horizon;
	c->nr_slots = 0;
	c->last_complete = c->now;
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
