/*
 * cache.c - the generic set-associative structure and its replacement
 * policies (the contract is in cache.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/cache.h"

static void __attribute__((format(printf, 3, 4), noreturn))
sa_check_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "simulator: %s:%d: invariant violated: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define sa_check(cond, ...)							\
	do {									\
		if (__builtin_expect(!(cond), 0))				\
			sa_check_failed(__FILE__, __LINE__, __VA_ARGS__);	\
	} while (0)

/* ---- policies ------------------------------------------------------------ */

/* LRU: the state is the time of the last touch; the victim has the oldest. */
static void lru_touch(struct sa_cache *c, uint32_t base, uint32_t way)
{
	c->repl[base + way] = ++c->clock;
}

static uint32_t lru_victim(struct sa_cache *c, uint32_t base)
{
	const uint64_t *t = c->repl + base;
	uint32_t v = 0;

	for (uint32_t w = 1; w < c->ways; w++)
		if (t[w] < t[v])
			v = w;
	return v;
}

static const struct sa_repl_ops lru_ops = {
	.name = "lru",
	.on_hit = lru_touch,
	.on_insert = lru_touch,
	.victim = lru_victim,
};

/* SRRIP: 2-bit re-reference prediction values. */
#define RRPV_MAX	3
#define RRPV_INSERT	2

static void srrip_hit(struct sa_cache *c, uint32_t base, uint32_t way)
{
	c->repl[base + way] = 0;
}

static void srrip_insert(struct sa_cache *c, uint32_t base, uint32_t way)
{
	c->repl[base + way] = RRPV_INSERT;
}

/*
 * The lowest way at RRPV_MAX; if none, age the set by the distance of the
 * oldest to RRPV_MAX at once (the same as aging +1 that many times).
 */
static uint32_t srrip_victim(struct sa_cache *c, uint32_t base)
{
	uint64_t *r = c->repl + base;
	uint64_t oldest = 0;
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
	for (uint32_t i = 0; i < sa_entries(c); i++)
		c->repl[i] = RRPV_MAX;
}

static const struct sa_repl_ops srrip_ops = {
	.name = "srrip",
	.init = srrip_init,
	.on_hit = srrip_hit,
	.on_insert = srrip_insert,
	.victim = srrip_victim,
};

/* RANDOM: no state; a uniform way from the seeded generator. */
static void random_none(struct sa_cache *c, uint32_t base, uint32_t way)
{
	(void)c;
	(void)base;
	(void)way;
}

static uint32_t random_victim(struct sa_cache *c, uint32_t base)
{
	(void)base;
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

	memset(c->tags, 0, n * sizeof(*c->tags));
	memset(c->dirty, 0, n * sizeof(*c->dirty));
	memset(c->keys, 0, n * sizeof(*c->keys));
	memset(c->payloads, 0, n * sizeof(*c->payloads));
	memset(c->repl, 0, n * sizeof(*c->repl));
	memset(c->used, 0, (c->set_mask + 1) * sizeof(*c->used));
	if (c->ops->init)
		c->ops->init(c);
}

int sa_init(struct sa_cache *c, const struct sa_config *cfg, const char *name,
	    struct wl_rng *rng)
{
	uint32_t n;

	memset(c, 0, sizeof(*c));
	if (sa_config_error(cfg) || (cfg->repl == SA_REPL_RANDOM && !rng))
		return -EINVAL;
	c->cfg = *cfg;
	c->set_mask = cfg->sets - 1;
	c->set_shift = (uint32_t)__builtin_ctz(cfg->sets);
	c->ways = cfg->ways;
	c->ops = sa_repl_ops[cfg->repl];
	c->rng = rng;
	n = cfg->sets * cfg->ways;
	c->name = strdup(name ? name : "");
	c->keys = malloc(n * sizeof(*c->keys));
	c->payloads = malloc(n * sizeof(*c->payloads));
	c->tags = malloc(n * sizeof(*c->tags));
	c->dirty = malloc(n * sizeof(*c->dirty));
	c->repl = malloc(n * sizeof(*c->repl));
	c->used = malloc(cfg->sets * sizeof(*c->used));
	if (!c->name || !c->keys || !c->payloads || !c->tags || !c->dirty || !c->repl ||
	    !c->used) {
		sa_release(c);
		return -ENOMEM;
	}
	sa_empty(c);
	return 0;
}

void sa_release(struct sa_cache *c)
{
	free(c->name);
	free(c->keys);
	free(c->payloads);
	free(c->tags);
	free(c->dirty);
	free(c->repl);
	free(c->used);
	memset(c, 0, sizeof(*c));
}

bool sa_probe(const struct sa_cache *c, uint64_t key, uint16_t asid,
	      uint64_t *payload_out)
{
	uint32_t base = sa_set_of(c, key) * c->ways;
	int32_t w = __sa_find(c, base, key, asid);

	if (w < 0)
		return false;
	if (payload_out)
		*payload_out = c->payloads[base + (uint32_t)w];
	return true;
}

int32_t __sa_find_wide(const struct sa_cache *c, uint32_t base, uint64_t key,
		       uint16_t asid)
{
	uint32_t want = __sa_tag(c, key, asid);

	for (uint32_t w = 0; w < c->ways; w++)
		if (c->tags[base + w] == want && c->keys[base + w] == key)
			return (int32_t)w;
	return -1;
}

/*
 * The lowest invalid way of 'set' (entries from 'base'), or UINT32_MAX if it
 * is full (known from its count, without a scan).
 */
static uint32_t free_way(const struct sa_cache *c, uint32_t set, uint32_t base)
{
	const uint32_t *tags = c->tags + base;

	if (c->used[set] == c->ways)
		return UINT32_MAX;
	for (uint32_t w = 0; w < c->ways; w++)
		if (!tags[w])
			return w;
	sa_check_failed(__FILE__, __LINE__, "%s: set %u counts %u valid ways of %u, all are",
			c->name, set, c->used[set], c->ways);
}

int sa_insert(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload,
	      uint64_t *victim_key_out)
{
	uint32_t set = sa_set_of(c, key), base = set * c->ways;
	int32_t present = __sa_find(c, base, key, asid);
	uint32_t w, i;
	int ret = 0;

	c->stats.inserts++;
	if (present >= 0) {
		c->payloads[base + (uint32_t)present] = payload;
		c->ops->on_hit(c, base, (uint32_t)present);
		return 0;
	}
	w = free_way(c, set, base);
	if (w == UINT32_MAX) {
		w = c->ops->victim(c, base);
		sa_check(w < c->ways, "%s: policy %s chose way %u of %u",
			 c->name, c->ops->name, w, c->ways);
		i = base + w;
		c->victim = (struct sa_victim){
			.key = c->keys[i], .payload = c->payloads[i],
			.asid = __sa_tag_asid(c->tags[i]), .dirty = c->dirty[i],
		};
		if (victim_key_out)
			*victim_key_out = c->keys[i];
		c->stats.evictions++;
		ret = SA_VICTIM;
		if (c->dirty[i]) {
			c->stats.dirty_evictions++;
			ret |= SA_VICTIM_DIRTY;
		}
	} else {
		c->used[set]++;
	}
	i = base + w;
	c->keys[i] = key;
	c->payloads[i] = payload;
	c->tags[i] = __sa_tag(c, key, asid);
	c->dirty[i] = 0;
	c->ops->on_insert(c, base, w);
	return ret;
}

bool sa_mark_dirty(struct sa_cache *c, uint64_t key, uint16_t asid)
{
	uint32_t base = sa_set_of(c, key) * c->ways;
	int32_t w = __sa_find(c, base, key, asid);

	if (w < 0)
		return false;
	c->dirty[base + (uint32_t)w] = 1;
	return true;
}

/* Invalidate entry i (valid); returns SA_VICTIM [| SA_VICTIM_DIRTY]. */
static int __sa_invalidate(struct sa_cache *c, uint32_t i)
{
	int ret = SA_VICTIM | (c->dirty[i] ? SA_VICTIM_DIRTY : 0);

	c->tags[i] = 0;
	c->dirty[i] = 0;
	c->used[i / c->ways]--;
	c->stats.invalidations++;
	return ret;
}

int sa_invalidate(struct sa_cache *c, uint64_t key, uint16_t asid)
{
	uint32_t base = sa_set_of(c, key) * c->ways;
	int32_t w = __sa_find(c, base, key, asid);

	return w < 0 ? 0 : __sa_invalidate(c, base + (uint32_t)w);
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
			uint32_t base = sa_set_of(c, k) * c->ways;
			int32_t w = __sa_find(c, base, k, asid);

			if (w >= 0) {
				__sa_invalidate(c, base + (uint32_t)w);
				n++;
			}
			if (k == key_hi)
				break;
		}
		return n;
	}
	for (uint32_t i = 0; i < sa_entries(c); i++) {
		if (c->tags[i] && __sa_tag_asid(c->tags[i]) == asid &&
		    c->keys[i] >= key_lo && c->keys[i] <= key_hi) {
			__sa_invalidate(c, i);
			n++;
		}
	}
	return n;
}

uint64_t sa_flush_asid(struct sa_cache *c, uint16_t asid)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < sa_entries(c); i++) {
		if (c->tags[i] && __sa_tag_asid(c->tags[i]) == asid) {
			__sa_invalidate(c, i);
			n++;
		}
	}
	return n;
}

uint64_t sa_flush_all(struct sa_cache *c)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < sa_entries(c); i++)
		n += c->tags[i] != 0;
	c->stats.invalidations += n;
	sa_empty(c);
	return n;
}
