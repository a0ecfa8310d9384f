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

#define RING_MASK	(CORE_MAX_MLP - 1)

_Static_assert((CORE_MAX_MLP & RING_MASK) == 0, "the slots' ring needs a power of two");

/* The i-th earliest completion in flight (i < nr_slots). */
static inline uint64_t *slot_at(struct core *c, uint32_t i)
{
	return &c->slot[(c->head + i) & RING_MASK];
}

/* Remove the earliest. */
static inline void slot_pop(struct core *c)
{
	c->head++;
	c->nr_slots--;
}

/*
 * Add completion time t, keeping the ring sorted. The two common cases (t
 * the new earliest or the new latest) cost a comparison; otherwise the
 * times on the side of t nearer its end move by one.
 */
static void slot_push(struct core *c, uint64_t t)
{
	uint32_t n = c->nr_slots, i;

	c->nr_slots = n + 1;
	if (!n || *slot_at(c, n - 1) <= t) {
		*slot_at(c, n) = t;
		return;
	}
	if (t <= *slot_at(c, 0)) {
		c->head--;
		*slot_at(c, 0) = t;
		return;
	}
	if (t < *slot_at(c, n / 2)) {
		/* the earlier half moves towards the front */
		c->head--;
		for (i = 0; *slot_at(c, i + 1) < t; i++)
			*slot_at(c, i) = *slot_at(c, i + 1);
	} else {
		for (i = n; *slot_at(c, i - 1) > t; i--)
			*slot_at(c, i) = *slot_at(c, i - 1);
	}
	*slot_at(c, i) = t;
}

/* Forget the misses complete by 'now'. */
static inline void retire(struct core *c, uint64_t now)
{
	while (c->nr_slots && *slot_at(c, 0) <= now)
		slot_pop(c);
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
			c->stats.mlp_stall_cycles += *slot_at(c, 0) - issue;
			issue = *slot_at(c, 0);
			slot_pop(c);
		}
	}
	done = issue + latency;
	if (latency > c->short_latency)
		slot_push(c, done);
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
