/*
 * memsys.c - L1D, L2, LLC and DRAM (see memsys.h).
 */
#include <errno.h>
#include <string.h>

#include "simulator/memsys.h"

static const char *const level_names[MEMSYS_LEVELS] = { "l1d", "l2", "llc" };
static const char *const class_names[MEMSYS_CLASSES] = { "data", "translation", "kernel" };

const char *memsys_level_name(enum memsys_level l)
{
	return (unsigned)l < MEMSYS_LEVELS ? level_names[l] : NULL;
}

const char *memsys_class_name(enum memsys_class c)
{
	return (unsigned)c < MEMSYS_CLASSES ? class_names[c] : NULL;
}

int memsys_init(struct memsys *ms, const struct sa_config *l1d, const struct sa_config *l2,
		const struct sa_config *llc, const struct dram_config *dram, struct wl_rng *rng)
{
	const struct sa_config *cfg[MEMSYS_LEVELS] = { l1d, l2, llc };
	int err = 0, i;

	memset(ms, 0, sizeof(*ms));
	for (i = 0; i < MEMSYS_LEVELS && !err; i++)
		err = sa_init(&ms->level[i], cfg[i], level_names[i], rng);
	if (!err)
		err = dram_init(&ms->dram, dram);
	if (err)
		memsys_release(ms);
	return err;
}

void memsys_release(struct memsys *ms)
{
	for (int i = 0; i < MEMSYS_LEVELS; i++)
		sa_release(&ms->level[i]);
	dram_release(&ms->dram);
	memset(ms, 0, sizeof(*ms));
}

/* A dirty line leaving level l goes to level l + 1, or to DRAM. */
static void writeback(struct memsys *ms, int l, uint64_t key)
{
	uint64_t victim;

	for (l++; l < MEMSYS_LEVELS; l++) {
		if (!(sa_write_back(&ms->level[l], key, 0, &victim) & SA_VICTIM_DIRTY))
			return;
		key = victim;		/* the level's own dirty victim goes on down */
	}
	dram_access(&ms->dram, key << SA_LINE_SHIFT, true);
	ms->stats.writebacks++;
}

uint32_t memsys_access(struct memsys *ms, uint64_t paddr, bool write, enum memsys_class cls)
{
	uint64_t key = sa_line_key(paddr), victim;
	uint32_t lat = ms->level[MEMSYS_L1D].cfg.latency;
	int l, hit;

	if (ms->last_valid && key == ms->last_key && !write) {
		ms->level[MEMSYS_L1D].stats.hits++;
		ms->stats.hits[MEMSYS_L1D][cls]++;
		return lat;
	}
	/* a store that hits L1D dirties its line there */
	if (sa_access(&ms->level[MEMSYS_L1D], key, 0, write, NULL)) {
		ms->stats.hits[MEMSYS_L1D][cls]++;
		ms->last_key = key;
		ms->last_valid = true;
		return lat;
	}
	ms->stats.misses[MEMSYS_L1D][cls]++;
	ms->last_valid = false;		/* the fill below may evict or demote it */
	for (l = MEMSYS_L1D + 1; l < MEMSYS_LEVELS; l++)
		sa_prefetch(&ms->level[l], key);
	for (l = MEMSYS_L1D + 1; l < MEMSYS_LEVELS; l++) {
		lat += ms->level[l].cfg.latency;
		if (sa_lookup(&ms->level[l], key, 0, NULL)) {
			ms->stats.hits[l][cls]++;
			break;
		}
		ms->stats.misses[l][cls]++;
	}
	hit = l;
	if (hit == MEMSYS_LEVELS) {
		lat += dram_access(&ms->dram, paddr, false);
		ms->stats.dram[cls]++;
	}
	/* fill the levels above the one that had it, lowest first; a store's L1D line dirty */
	for (l = hit - 1; l >= 0; l--)
		if (sa_fill(&ms->level[l], key, 0, 0, write && l == MEMSYS_L1D, &victim) &
		    SA_VICTIM_DIRTY)
			writeback(ms, l, victim);
	return lat;
}

uint64_t memsys_bulk(struct memsys *ms, uint64_t paddr, uint64_t len, uint64_t copy_from,
		     uint32_t mlp, enum memsys_class cls)
{
	uint64_t sum = 0, lines = 0, off;

	for (off = 0; off < len; off += 1ULL << SA_LINE_SHIFT, lines++) {
		if (copy_from != MEMSYS_NO_SOURCE)
			sum += memsys_access(ms, copy_from + off, false, cls);
		sum += memsys_access(ms, paddr + off, true, cls);
	}
	if (!mlp)
		mlp = 1;
	return sum / mlp > lines ? sum / mlp : lines;
}
