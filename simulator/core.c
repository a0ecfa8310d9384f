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

/*
 * The misses in flight are a binary min-heap of completion times (slot[0]
 * completes first): only the earliest is ever asked for, and the model
 * depends on the set of times alone, not on their order.
 */
static void heap_push(struct core *c, uint64_t t)
{
	uint32_t i = c->nr_slots++;

	while (i) {
		uint32_t parent = (i - 1) / 2;

		if (c->slot[parent] <= t)
			break;
		c->slot[i] = c->slot[parent];
		i = parent;
	}
	c->slot[i] = t;
}

/* Remove the earliest. */
static void heap_pop(struct core *c)
{
	uint64_t t = c->slot[--c->nr_slots];
	uint32_t i = 0, n = c->nr_slots;

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && c->slot[child + 1] < c->slot[child])
			child++;
		if (t <= c->slot[child])
			break;
		c->slot[i] = c->slot[child];
		i = child;
	}
	c->slot[i] = t;
}

/* Forget the misses complete by 'now'. */
static void retire(struct core *c, uint64_t now)
{
	while (c->nr_slots && c->slot[0] <= now)
		heap_pop(c);
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
			c->stats.mlp_stall_cycles += c->slot[0] - issue;
			issue = c->slot[0];
			heap_pop(c);
		}
	}
	done = issue + latency;
	if (latency > c->short_latency)
		heap_push(c, done);
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
