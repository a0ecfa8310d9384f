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
		const struct sa_config *llc, const struct dram_config *dram,
		const struct prefetch_config *pf, struct wl_rng *rng)
{
	const struct sa_config *cfg[MEMSYS_LEVELS] = { l1d, l2, llc };
	int err = 0, i;

	memset(ms, 0, sizeof(*ms));
	if (pf && pf->degree) {
		if (pf->degree > 63 || !pf->streams || pf->streams > MEMSYS_MAX_STREAMS)
			return -EINVAL;
		ms->pf = *pf;
	}
	if (pf)
		ms->pf.adjacent = pf->adjacent;
	for (i = 0; i < MEMSYS_MAX_STREAMS; i++)
		ms->stream[i].page = UINT64_MAX;
	for (i = 0; i < MEMSYS_LEVELS && !err; i++)
		err = sa_init(&ms->level[i], cfg[i], level_names[i], rng);
	if (!err)
		err = dram_init(&ms->dram, dram);
	if (err) {
		memsys_release(ms);
		return err;
	}
	ms->llc = &ms->level[MEMSYS_LLC];
	ms->mem = &ms->dram;
	ms->last_key = MEMSYS_NO_LINE;
	ms->fill_is_hit = l1d->repl == SA_REPL_LRU || l1d->repl == SA_REPL_RANDOM;
	return 0;
}

void memsys_release(struct memsys *ms)
{
	for (int i = 0; i < MEMSYS_LLC; i++)
		sa_release(&ms->level[i]);
	if (ms->llc == &ms->level[MEMSYS_LLC] || !ms->llc) {
		sa_release(&ms->level[MEMSYS_LLC]);
		dram_release(&ms->dram);
	}
	memset(ms, 0, sizeof(*ms));
}

void memsys_share(struct memsys *ms, struct memsys *owner)
{
	if (ms->llc == &ms->level[MEMSYS_LLC]) {
		sa_release(&ms->level[MEMSYS_LLC]);
		dram_release(&ms->dram);
	}
	ms->llc = owner->llc;
	ms->mem = owner->mem;
}

/* Level l of this core's hierarchy: its own L1D and L2, the LLC it uses. */
static inline struct sa_cache *lvl(struct memsys *ms, int l)
{
	return l == MEMSYS_LLC ? ms->llc : &ms->level[l];
}

/* A dirty line leaving level l goes to level l + 1, or to DRAM. */
static void writeback(struct memsys *ms, int l, uint64_t key)
{
	uint64_t victim;

	for (l++; l < MEMSYS_LEVELS; l++) {
		if (!(sa_write_back(lvl(ms, l), key, 0, &victim) & SA_VICTIM_DIRTY))
			return;
		key = victim;		/* the level's own dirty victim goes on down */
	}
	dram_access(ms->mem, key << SA_LINE_SHIFT, true);
	ms->stats.writebacks++;
}

/*
 * A prefetcher brings line 'key' into L2 (and the LLC, from DRAM if need
 * be); *brought and *from_dram count it. Nothing when L2 has it.
 */
static void prefetch_line(struct memsys *ms, uint64_t key, uint64_t *brought,
			  uint64_t *from_dram)
{
	uint64_t victim;

	if (sa_probe(&ms->level[MEMSYS_L2], key, 0, NULL))
		return;
	(*brought)++;
	if (!sa_probe(ms->llc, key, 0, NULL)) {
		dram_access(ms->mem, key << SA_LINE_SHIFT, false);
		(*from_dram)++;
		if (sa_fill(ms->llc, key, 0, 0, false, &victim) & SA_VICTIM_DIRTY)
			writeback(ms, MEMSYS_LLC, victim);
	}
	if (sa_fill(&ms->level[MEMSYS_L2], key, 0, 0, false, &victim) & SA_VICTIM_DIRTY)
		writeback(ms, MEMSYS_L2, victim);
}

/* An L1D miss of the program's data at line 'key' trains the streams (memsys.h). */
static void prefetch_train(struct memsys *ms, uint64_t key)
{
	const uint64_t page = key >> (12 - SA_LINE_SHIFT);
	const uint64_t page_end = ((page + 1) << (12 - SA_LINE_SHIFT)) - 1;
	struct memsys_stream *s = NULL, *lru = &ms->stream[0];
	uint64_t line, end;

	for (uint32_t i = 0; i < ms->pf.streams; i++) {
		if (ms->stream[i].page == page) {
			s = &ms->stream[i];
			break;
		}
		if (ms->stream[i].used < lru->used)
			lru = &ms->stream[i];
	}
	ms->pf_clock++;
	if (!s) {
		*lru = (struct memsys_stream){ .page = page, .last = key, .ahead = key,
					       .used = ms->pf_clock };
		return;
	}
	s->used = ms->pf_clock;
	if (key == s->last + 1) {
		end = key + ms->pf.degree < page_end ? key + ms->pf.degree : page_end;
		for (line = (s->ahead > key ? s->ahead : key) + 1; line <= end; line++)
			prefetch_line(ms, line, &ms->stats.prefetches, &ms->stats.prefetch_dram);
		if (end > s->ahead)
			s->ahead = end;
	}
	s->last = key;
}

/*
 * L1D, then L2 and LLC (their sets prefetched together), then DRAM; the
 * fills go lowest level first. One loop visits L2 and LLC, so that the
 * lookup is inlined once.
 */
uint32_t __memsys_access(struct memsys *ms, uint64_t paddr, bool write, enum memsys_class cls)
{
	struct sa_cache *l1d = &ms->level[MEMSYS_L1D];
	uint64_t key = sa_line_key(paddr), victim;
	uint32_t lat = l1d->cfg.latency;
	int l;

	/* a store that hits L1D dirties its line there */
	if (sa_access(l1d, key, 0, write, NULL)) {
		ms->stats.hits[MEMSYS_L1D][cls]++;
		ms->last_key = key;
		ms->last_dirty = write;		/* a load's line may be dirty: not known */
		return lat;
	}
	ms->stats.misses[MEMSYS_L1D][cls]++;
	sa_prefetch(&ms->level[MEMSYS_L2], key);
	sa_prefetch(ms->llc, key);
	for (l = MEMSYS_L2; l < MEMSYS_LEVELS; l++) {
		struct sa_cache *c = lvl(ms, l);

		lat += c->cfg.latency;
		if (sa_lookup(c, key, 0, NULL)) {
			ms->stats.hits[l][cls]++;
			break;
		}
		ms->stats.misses[l][cls]++;
	}
	if (l == MEMSYS_LEVELS) {
		lat += dram_access(ms->mem, paddr, false);
		ms->stats.dram[cls]++;
		if (sa_fill(ms->llc, key, 0, 0, false, &victim) & SA_VICTIM_DIRTY)
			writeback(ms, MEMSYS_LLC, victim);
	}
	if (l >= MEMSYS_LLC &&
	    sa_fill(&ms->level[MEMSYS_L2], key, 0, 0, false, &victim) & SA_VICTIM_DIRTY)
		writeback(ms, MEMSYS_L2, victim);
	/* an L2 miss: its pair's other line too */
	if (l >= MEMSYS_LLC && ms->pf.adjacent)
		prefetch_line(ms, key ^ 1, &ms->stats.adjacent, &ms->stats.adjacent_dram);
	/* a store's line is dirty in L1D */
	if (sa_fill(l1d, key, 0, 0, write, &victim) & SA_VICTIM_DIRTY)
		writeback(ms, MEMSYS_L1D, victim);
	ms->last_key = ms->fill_is_hit ? key : MEMSYS_NO_LINE;
	ms->last_dirty = write;
	if (ms->pf.degree && cls == MEMSYS_DATA)
		prefetch_train(ms, key);
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
