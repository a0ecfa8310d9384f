/*
 * cache.c - the generic set-associative structure and its replacement
 * policies (the contract is in cache.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "simulator/cache.h"
#include "simulator/check.h"

#define sa_check sim_check

/* ---- policies ------------------------------------------------------------ */

const uint8_t __sa_lane_bit[16][16] __attribute__((aligned(16))) = {
#define ROW(w) [w] = { [w] = 0xff }
	ROW(0), ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7),
	ROW(8), ROW(9), ROW(10), ROW(11), ROW(12), ROW(13), ROW(14), ROW(15),
#undef ROW
};

static inline void dirty_set(uint32_t *d, uint32_t way)
{
	d[way >> 5] |= 1u << (way & 31);
}

static inline void dirty_clear(uint32_t *d, uint32_t way)
{
	d[way >> 5] &= ~(1u << (way & 31));
}

static inline bool dirty_test(const uint32_t *d, uint32_t way)
{
	return d[way >> 5] >> (way & 31) & 1;
}

/*
 * LRU: recency ranks (cache.h). A touch of 'way' ages by one every way more
 * recent than it and makes it the most recent (0).
 */
static void lru_touch(struct sa_cache *c, uint32_t set, uint32_t way)
{
	uint8_t *r;
	uint8_t old;

	if (c->ways <= 16) {
		__sa_lru16_touch(c, __sa_set_repl(c, set), way);
		return;
	}
	r = __sa_set_repl(c, set);
	old = r[way];
	for (uint32_t w = 0; w < c->ways; w++)
		r[w] += r[w] < old;
	r[way] = 0;
}

static uint32_t lru_victim(struct sa_cache *c, uint32_t set)
{
	const uint8_t *r = __sa_set_repl(c, set);
	uint8_t last = (uint8_t)(c->ways - 1);
	uint32_t w;

	if (c->ways <= 16)
		return __sa_lru16_victim(c, r);
	for (w = 0; w < c->ways; w++)
		if (r[w] == last)
			break;
	return w;	/* c->ways (none: ranks corrupted) fails the caller's check */
}

static void lru_init(struct sa_cache *c)
{
	for (uint32_t s = 0; s <= c->set_mask; s++)
		for (uint32_t w = 0; w < c->ways; w++)
			__sa_set_repl(c, s)[w] = (uint8_t)w;
}

static const struct sa_repl_ops lru_ops = {
	.name = "lru",
	.init = lru_init,
	.on_hit = lru_touch,
	.on_insert = lru_touch,
	.victim = lru_victim,
};

/* The same with 16-bit ranks, for more than 256 ways. */
static void lru16_touch(struct sa_cache *c, uint32_t set, uint32_t way)
{
	uint16_t *r = __sa_set_repl16(c, set);
	uint16_t old = r[way];

	for (uint32_t w = 0; w < c->ways; w++)
		r[w] += r[w] < old;
	r[way] = 0;
}

static uint32_t lru16_victim(struct sa_cache *c, uint32_t set)
{
	const uint16_t *r = __sa_set_repl16(c, set);
	uint16_t last = (uint16_t)(c->ways - 1);
	uint32_t w;

	for (w = 0; w < c->ways; w++)
		if (r[w] == last)
			break;
	return w;
}

static void lru16_init(struct sa_cache *c)
{
	for (uint32_t s = 0; s <= c->set_mask; s++)
		for (uint32_t w = 0; w < c->ways; w++)
			__sa_set_repl16(c, s)[w] = (uint16_t)w;
}

static const struct sa_repl_ops lru16_ops = {
	.name = "lru",
	.init = lru16_init,
	.on_hit = lru16_touch,
	.on_insert = lru16_touch,
	.victim = lru16_victim,
};

/* SRRIP: 2-bit re-reference prediction values. */
#define RRPV_MAX	3
#define RRPV_INSERT	2

static void srrip_hit(struct sa_cache *c, uint32_t set, uint32_t way)
{
	__sa_set_repl(c, set)[way] = 0;
}

static void srrip_insert(struct sa_cache *c, uint32_t set, uint32_t way)
{
	__sa_set_repl(c, set)[way] = RRPV_INSERT;
}

/*
 * The lowest way at RRPV_MAX; if none, age the set by the distance of the
 * oldest to RRPV_MAX at once (the same as aging +1 that many times).
 */
static uint32_t srrip_victim(struct sa_cache *c, uint32_t set)
{
	uint8_t *r = __sa_set_repl(c, set);
	uint8_t oldest = 0;
	uint32_t v = 0;

	for (uint32_t w = 0; w < c->ways; w++) {
		if (r[w] == RRPV_MAX)
			return w;
		if (r[w] > oldest) {
			oldest = r[w];
			v = w;
		}
	}
	for (uint32_t w = 0; w < c->ways; w++)
		r[w] += RRPV_MAX - oldest;
	return v;
}

static void srrip_init(struct sa_cache *c)
{
	for (uint32_t s = 0; s <= c->set_mask; s++)
		memset(__sa_set_repl(c, s), RRPV_MAX, c->ways);
}

static const struct sa_repl_ops srrip_ops = {
	.name = "srrip",
	.init = srrip_init,
	.on_hit = srrip_hit,
	.on_insert = srrip_insert,
	.victim = srrip_victim,
};

/* RANDOM: no state; a uniform way from the seeded generator. */
static void random_none(struct sa_cache *c, uint32_t set, uint32_t way)
{
	(void)c;
	(void)set;
	(void)way;
}

static uint32_t random_victim(struct sa_cache *c, uint32_t set)
{
	(void)set;
	return (uint32_t)wl_rng_below(c->rng, c->ways);
}

static const struct sa_repl_ops random_ops = {
	.name = "random",
	.on_hit = random_none,
	.on_insert = random_none,
	.victim = random_victim,
};

const struct sa_repl_ops *const sa_repl_ops[SA_REPL_NR] = {
	[SA_REPL_LRU] = &lru_ops,
	[SA_REPL_SRRIP] = &srrip_ops,
	[SA_REPL_RANDOM] = &random_ops,
};

const char *sa_repl_name(enum sa_repl repl)
{
	return (unsigned int)repl < SA_REPL_NR ? sa_repl_ops[repl]->name : NULL;
}

int sa_repl_from_name(const char *name, enum sa_repl *out)
{
	for (int i = 0; i < SA_REPL_NR; i++) {
		if (!strcmp(name, sa_repl_ops[i]->name)) {
			*out = (enum sa_repl)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sa_config_error(const struct sa_config *cfg)
{
	if (!cfg->sets || (cfg->sets & (cfg->sets - 1)) || cfg->sets > (1u << 24))
		return "sets must be a power of two in [1, 16777216]";
	if (!cfg->ways || cfg->ways > 65535)
		return "ways must be in [1, 65535]";
	if ((uint64_t)cfg->sets * cfg->ways > (1u << 26))
		return "sets * ways must be at most 67108864";
	if ((unsigned int)cfg->repl >= SA_REPL_NR)
		return "replacement must be \"lru\", \"srrip\" or \"random\"";
	return NULL;
}

/* ---- the structure -------------------------------------------------------- */

static void sa_empty(struct sa_cache *c)
{
	uint32_t n = sa_entries(c);

	c->miss.asid = SA_MISS_NONE;
	memset(c->tags, 0, (size_t)(c->set_mask + 1) * c->set_words * sizeof(*c->tags));
	memset(c->keys, 0, n * sizeof(*c->keys));
	if (c->payloads_used)
		memset(c->payloads, 0, n * sizeof(*c->payloads));
	c->payloads_used = false;
	if (c->ops->init)
		c->ops->init(c);
}

/*
 * The block layout of cache.h: tag words, policy state, dirty words; padded
 * to a power of two up to 64 bytes or to a multiple of 64, and to at least
 * 16 bytes from the policy state on.
 */
static void sa_layout(struct sa_cache *c)
{
	uint32_t ways = c->ways, bytes, size = 4;

	c->repl_off = 4 * ways;
	bytes = c->repl_off + ways * (c->repl_wide ? 2 : 1);
	c->dirty_off = (bytes + 3) / 4;
	bytes = 4 * (c->dirty_off + (ways + 31) / 32);
	if (bytes < c->repl_off + 16)
		bytes = c->repl_off + 16;
	if (bytes > 64)
		size = (bytes + 63) & ~63u;
	else
		while (size < bytes)
			size *= 2;
	c->set_words = size / 4;
	/* __sa_scan() reads 16 words of a set of 5 to 16 ways */
	sa_check(c->ways < 5 || c->ways > 16 || c->set_words >= 16,
		 "a block of %u words for %u ways", c->set_words, c->ways);
}

/*
 * Zeroed host memory for an array of 'bytes': 64-byte aligned; from 2 MiB
 * on, 2 MiB aligned and advised for transparent huge pages (the LLC's arrays
 * are read at random: on 4 KiB pages most of those reads would also miss the
 * host's TLB). Freed with free().
 */
static void *sa_alloc(size_t bytes)
{
	size_t align = bytes >= (2u << 20) ? (2u << 20) : 64;
	void *p;

	bytes = (bytes + align - 1) & ~(align - 1);
	p = aligned_alloc(align, bytes);
	if (!p)
		return NULL;
#ifdef MADV_HUGEPAGE
	if (align > 64)
		madvise(p, bytes, MADV_HUGEPAGE);	/* advice: failure is harmless */
#endif
	return memset(p, 0, bytes);
}

int sa_init(struct sa_cache *c, const struct sa_config *cfg, const char *name,
	    struct wl_rng *rng)
{
	size_t n, meta;

	memset(c, 0, sizeof(*c));
	if (sa_config_error(cfg) || (cfg->repl == SA_REPL_RANDOM && !rng))
		return -EINVAL;
	c->cfg = *cfg;
	c->set_mask = cfg->sets - 1;
	c->set_shift = (uint32_t)__builtin_ctz(cfg->sets);
	c->hashed = cfg->hashed && cfg->sets > 1;
	c->exact_shift = c->set_shift + 14;
	c->ways = cfg->ways;
	c->ops = sa_repl_ops[cfg->repl];
	if (cfg->repl == SA_REPL_LRU && cfg->ways > 256) {
		c->ops = &lru16_ops;
		c->repl_wide = true;
	}
	c->rng = rng;
	if (cfg->ways <= 16) {
		c->vecs = (cfg->ways + 3) / 4;
		c->lanes = ((1u << cfg->ways) - 1) * 0x10001u;
		c->lru16 = cfg->repl == SA_REPL_LRU;
		memset(c->lane_bytes, 0xff, cfg->ways);
		memset(c->last_rank, (int)cfg->ways - 1, sizeof(c->last_rank));
	}
	sa_layout(c);
	n = (size_t)cfg->sets * cfg->ways;
	meta = (size_t)cfg->sets * c->set_words * sizeof(*c->tags);
	c->name = strdup(name ? name : "");
	c->tags = sa_alloc(meta);
	c->keys = sa_alloc(n * sizeof(*c->keys));
	c->payloads = sa_alloc(n * sizeof(*c->payloads));
	if (!c->name || !c->tags || !c->keys || !c->payloads) {
		sa_release(c);
		return -ENOMEM;
	}
	sa_empty(c);
	return 0;
}

void sa_release(struct sa_cache *c)
{
	free(c->name);
	free(c->tags);
	free(c->keys);
	free(c->payloads);
	memset(c, 0, sizeof(*c));
}

bool sa_probe(const struct sa_cache *c, uint64_t key, uint16_t asid,
	      uint64_t *payload_out)
{
	uint32_t set = sa_set_of(c, key);
	int32_t w = __sa_find(c, set, key, asid);

	if (w < 0)
		return false;
	if (payload_out)
		*payload_out = __sa_payload(c, (size_t)set * c->ways + (uint32_t)w);
	return true;
}

int32_t __sa_find_wide(const struct sa_cache *c, uint32_t set, uint64_t key,
		       uint16_t asid)
{
	const uint32_t *tags = __sa_set_tags(c, set);
	const uint64_t *keys = c->keys + (size_t)set * c->ways;
	uint32_t want = __sa_tag(c, key, asid);

	bool is_long = key >> c->exact_shift;

	for (uint32_t w = 0; w < c->ways; w++)
		if (tags[w] == want && (!is_long || keys[w] == key))
			return (int32_t)w;
	return -1;
}

/* The lowest invalid way of 'set', or UINT32_MAX if it is full. */
static inline uint32_t free_way(const struct sa_cache *c, uint32_t set)
{
	const uint32_t *tags = __sa_set_tags(c, set);

	if (c->vecs) {
		uint32_t z = __sa_scan(c, tags, 0) >> 16;

		return z ? (uint32_t)__builtin_ctz(z) : UINT32_MAX;
	}
	if (c->ways <= 64) {
		uint64_t m = __sa_tag_mask(tags, 0, c->ways);

		return m ? (uint32_t)__builtin_ctzll(m) : UINT32_MAX;
	}
	for (uint32_t w = 0; w < c->ways; w++)
		if (!tags[w])
			return w;
	return UINT32_MAX;
}

void __sa_bad_victim(const struct sa_cache *c, uint32_t way)
{
	sim_check_failed(__FILE__, __LINE__, "%s: policy %s chose way %u of %u",
			 c->name, c->ops->name, way, c->ways);
}

/*
 * Write (key, asid) into 'set', where it is absent, into way 'w' if it is
 * free (UINT32_MAX: the set is full): else the policy's victim, evicted as
 * sa_insert() says. Returns as sa_insert(). Any policy and width; the
 * narrow LRU sets have __sa_fill_lru16().
 */
static int __sa_fill(struct sa_cache *c, uint32_t set, uint32_t w, uint64_t key,
		     uint16_t asid, uint64_t payload, bool dirty, uint64_t *victim_key_out)
{
	uint32_t *tags = __sa_set_tags(c, set), *d = __sa_set_dirty(c, set);
	size_t base = (size_t)set * c->ways;
	int ret = 0;

	c->miss.asid = SA_MISS_NONE;		/* the set's tags change */
	if (w == UINT32_MAX) {
		w = c->ops->victim(c, set);
		if (w >= c->ways)
			__sa_bad_victim(c, w);
		ret = __sa_evict(c, set, w, tags[w], dirty_test(d, w), victim_key_out);
	}
	if (key >> c->exact_shift)
		c->keys[base + w] = key;	/* read back for long keys only */
	__sa_set_payload(c, base + w, payload);
	tags[w] = __sa_tag(c, key, asid);
	c->ops->on_insert(c, set, w);
	if (dirty)
		dirty_set(d, w);
	else
		dirty_clear(d, w);
	return ret;
}

int __sa_fill_general(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload,
		      bool dirty, uint64_t *victim_key_out)
{
	uint32_t set = sa_set_of(c, key);
	int32_t present;

	if (c->lru16) {
		/* not right after its missed lookup: the same scan the lookup does */
		uint32_t *t = __sa_set_tags(c, set), tag = __sa_tag(c, key, asid);
		uint32_t s = __sa_scan_key(c, set, t, key, tag);

		if (!(s & 0xffff))
			return __sa_fill_lru16(c, t, tag, s >> 16, key, payload, dirty,
					       victim_key_out);
		present = (int32_t)__builtin_ctz(s);
	} else if (c->miss.key == key && c->miss.asid == asid) {
		/* the lookup that just missed it: absent, and its set's free ways known */
		uint32_t z = c->miss.free;

		return __sa_fill(c, set, z ? (uint32_t)__builtin_ctz(z) : UINT32_MAX, key, asid,
				 payload, dirty, victim_key_out);
	} else {
		present = __sa_find(c, set, key, asid);
		if (present < 0)
			return __sa_fill(c, set, free_way(c, set), key, asid, payload, dirty,
					 victim_key_out);
	}
	/* present: a refill in place, a hit for the policy */
	__sa_set_payload(c, (size_t)set * c->ways + (uint32_t)present, payload);
	if (c->lru16)
		__sa_lru16_touch(c, __sa_set_repl(c, set), (uint32_t)present);
	else
		c->ops->on_hit(c, set, (uint32_t)present);
	if (dirty)
		dirty_set(__sa_set_dirty(c, set), (uint32_t)present);
	return 0;
}

int sa_write_back(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t *victim_key_out)
{
	uint32_t set = sa_set_of(c, key);
	int32_t present;

	if (c->lru16) {
		/* one scan for the match and the free ways */
		uint32_t *t = __sa_set_tags(c, set), tag = __sa_tag(c, key, asid);
		uint32_t s = __sa_scan_key(c, set, t, key, tag);

		if (s & 0xffff) {
			dirty_set(t + c->dirty_off, (uint32_t)__builtin_ctz(s));
			return 0;
		}
		c->stats.inserts++;
		return __sa_fill_lru16(c, t, tag, s >> 16, key, 0, true, victim_key_out);
	}
	present = __sa_find(c, set, key, asid);
	if (present >= 0) {
		dirty_set(__sa_set_dirty(c, set), (uint32_t)present);
		return 0;
	}
	c->stats.inserts++;
	return __sa_fill(c, set, free_way(c, set), key, asid, 0, true, victim_key_out);
}

bool sa_mark_dirty(struct sa_cache *c, uint64_t key, uint16_t asid)
{
	uint32_t set = sa_set_of(c, key);
	int32_t w = __sa_find(c, set, key, asid);

	if (w < 0)
		return false;
	dirty_set(__sa_set_dirty(c, set), (uint32_t)w);
	return true;
}

/* Invalidate (valid) 'way' of 'set'; returns SA_VICTIM [| SA_VICTIM_DIRTY]. */
static int __sa_invalidate(struct sa_cache *c, uint32_t set, uint32_t way)
{
	uint32_t *d = __sa_set_dirty(c, set);
	int ret = SA_VICTIM | (dirty_test(d, way) ? SA_VICTIM_DIRTY : 0);

	c->miss.asid = SA_MISS_NONE;	/* the set's tags change */
	__sa_set_tags(c, set)[way] = 0;
	dirty_clear(d, way);
	c->stats.invalidations++;
	return ret;
}

int sa_invalidate(struct sa_cache *c, uint64_t key, uint16_t asid)
{
	uint32_t set = sa_set_of(c, key);
	int32_t w = __sa_find(c, set, key, asid);

	return w < 0 ? 0 : __sa_invalidate(c, set, (uint32_t)w);
}

uint64_t sa_invalidate_range(struct sa_cache *c, uint64_t key_lo, uint64_t key_hi,
			     uint16_t asid)
{
	uint64_t n = 0;

	sa_check(key_lo <= key_hi, "%s: invalidate range [%#llx, %#llx] is reversed",
		 c->name, (unsigned long long)key_lo, (unsigned long long)key_hi);
	if (key_hi - key_lo < c->set_mask) {
		/* fewer keys than sets: each key's own set only */
		for (uint64_t k = key_lo;; k++) {
			uint32_t set = sa_set_of(c, k);
			int32_t w = __sa_find(c, set, k, asid);

			if (w >= 0) {
				__sa_invalidate(c, set, (uint32_t)w);
				n++;
			}
			if (k == key_hi)
				break;
		}
		return n;
	}
	for (uint32_t s = 0; s <= c->set_mask; s++) {
		const uint32_t *tags = __sa_set_tags(c, s);

		for (uint32_t w = 0; w < c->ways; w++) {
			uint64_t k;

			if (!tags[w] || __sa_tag_asid(tags[w]) != asid)
				continue;
			k = __sa_key(c, s, w, tags[w]);
			if (k >= key_lo && k <= key_hi) {
				__sa_invalidate(c, s, w);
				n++;
			}
		}
	}
	return n;
}

uint64_t sa_flush_asid(struct sa_cache *c, uint16_t asid)
{
	uint64_t n = 0;

	for (uint32_t s = 0; s <= c->set_mask; s++) {
		const uint32_t *tags = __sa_set_tags(c, s);

		for (uint32_t w = 0; w < c->ways; w++) {
			if (tags[w] && __sa_tag_asid(tags[w]) == asid) {
				__sa_invalidate(c, s, w);
				n++;
			}
		}
	}
	return n;
}

uint64_t sa_flush_all(struct sa_cache *c)
{
	uint64_t n = 0;

	for (uint32_t s = 0; s <= c->set_mask; s++) {
		const uint32_t *tags = __sa_set_tags(c, s);

		for (uint32_t w = 0; w < c->ways; w++)
			n += tags[w] != 0;
	}
	c->stats.invalidations += n;
	sa_empty(c);
	return n;
}
