/*
 * cache_fast.h - the inline fast paths of struct sa_cache (cache.h, which
 * includes this file at its end; include cache.h): the tag words and their
 * SSE2 scans, LRU on narrow sets, and the inline definitions of
 * sa_lookup(), sa_prefetch(), sa_access(), sa_fill() and sa_insert(), whose
 * contracts cache.h documents. What they leave to the general case is
 * cache.c's (__sa_find_wide(), __sa_fill_general(), __sa_bad_victim()).
 *
 * SSE2 is part of x86-64, the one target: the scans and the LRU ranks are
 * written for it alone.
 */
#ifndef SIMULATOR_CACHE_FAST_H
#define SIMULATOR_CACHE_FAST_H

#ifndef SIMULATOR_CACHE_H
#error "include simulator/cache.h, which includes cache_fast.h"
#endif

#ifndef __SSE2__
#error "simulator/cache_fast.h needs SSE2: x86-64 has it, and x86-64 is the only target"
#endif

#include <stdbool.h>
#include <stdint.h>

#include <emmintrin.h>

/*
 * The tag word of (key, asid): bit 0 valid, bits 16..1 the asid, bit 17 set
 * for a long key (key >> exact_shift non-zero), bits 31..18 the low 14 key
 * bits above the set index. Equal tag words are necessary for a match, and
 * the asid is exact in them, so a lookup compares the set's 32-bit tag words
 * (four ways per SSE2 instruction, no branch per way: a search that stops at
 * the first match mispredicts on most hits, as the way that hits is random)
 * and then, for a long key only, the full keys of the ways whose tag word
 * matches (almost always one or none). For a short key the tag word and the
 * set are the whole key: a matching tag word is a match.
 */
#define SA_TAG_LONG	(1u << 17)
#define SA_TAG_KEY_SHIFT 18

static inline uint32_t __sa_tag(const struct sa_cache *c, uint64_t key, uint16_t asid)
{
	/* one variable shift: long means bits above the 14 of the tag word */
	uint64_t above = key >> c->set_shift;

	return 1u | (uint32_t)asid << 1 | (uint32_t)(above >= 1u << 14) * SA_TAG_LONG |
	       (uint32_t)above << SA_TAG_KEY_SHIFT;
}

static inline uint16_t __sa_tag_asid(uint32_t tag)
{
	return (uint16_t)(tag >> 1);
}

/* The tag words, policy state and dirty bits of 'set'. */
static inline uint32_t *__sa_set_tags(const struct sa_cache *c, uint32_t set)
{
	return c->tags + (size_t)set * c->set_words;
}

static inline uint8_t *__sa_set_repl(const struct sa_cache *c, uint32_t set)
{
	return (uint8_t *)__sa_set_tags(c, set) + c->repl_off;
}

static inline uint16_t *__sa_set_repl16(const struct sa_cache *c, uint32_t set)
{
	return (uint16_t *)(void *)__sa_set_repl(c, set);
}

static inline uint32_t *__sa_set_dirty(const struct sa_cache *c, uint32_t set)
{
	return __sa_set_tags(c, set) + c->dirty_off;
}

/* The payload of entry i (set * ways + way), and its update. */
static inline uint64_t __sa_payload(const struct sa_cache *c, size_t i)
{
	return c->payloads_used ? c->payloads[i] : 0;
}

static inline void __sa_set_payload(struct sa_cache *c, size_t i, uint64_t payload)
{
	if (payload || c->payloads_used) {
		c->payloads_used = true;
		c->payloads[i] = payload;
	}
}

/* Bit w set if t[w] == v, for n <= 64 ways. */
static inline uint64_t __sa_tag_mask(const uint32_t *t, uint32_t v, uint32_t n)
{
	uint64_t m = 0;
	uint32_t w = 0;
	__m128i vv = _mm_set1_epi32((int)v);

	for (; w + 4 <= n; w += 4) {
		__m128i x = _mm_loadu_si128((const __m128i *)(t + w));

		m |= (uint64_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(x, vv))) << w;
	}
	for (; w < n; w++)
		m |= (uint64_t)(t[w] == v) << w;
	return m;
}

/*
 * A narrow set's ways whose tag word is v (bits 15..0), and its invalid
 * ways (bits 31..16), in one pass over its tag vectors. A set of 5 to 16
 * ways has a block of 64 bytes or more (sa_layout()): its first 16 words
 * are scanned whatever the ways, the lanes past them masked off, which
 * costs less than a branch per vector. Its invalid ways come from the tag
 * words packed to bytes: a signed saturating pack keeps a non-zero word
 * non-zero, and only an invalid way's word is 0.
 */
static inline uint32_t __sa_scan(const struct sa_cache *c, const uint32_t *t, uint32_t v)
{
	uint32_t s;
	const __m128i vv = _mm_set1_epi32((int)v), zz = _mm_setzero_si128();
	const __m128i *x = (const __m128i *)(const void *)t;
	__m128i x0 = _mm_load_si128(x);

	if (c->vecs == 1) {
		s = (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(x0, vv))) |
		    (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(x0, zz))) << 16;
	} else {
		__m128i x1 = _mm_load_si128(x + 1), x2 = _mm_load_si128(x + 2);
		__m128i x3 = _mm_load_si128(x + 3);
		__m128i m = _mm_packs_epi16(_mm_packs_epi32(_mm_cmpeq_epi32(x0, vv),
							    _mm_cmpeq_epi32(x1, vv)),
					    _mm_packs_epi32(_mm_cmpeq_epi32(x2, vv),
							    _mm_cmpeq_epi32(x3, vv)));
		__m128i p = _mm_packs_epi16(_mm_packs_epi32(x0, x1), _mm_packs_epi32(x2, x3));

		s = (uint32_t)_mm_movemask_epi8(m) |
		    (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(p, zz)) << 16;
	}
	return s & c->lanes;
}

/*
 * LRU on a narrow set (cache.c's lru ops use these too), on the 16 bytes of
 * ranks at 'r' (__sa_set_repl()): bytes past the ways belong to the dirty
 * words or the padding and are left as they are.
 */
/* Byte w of row w set (0xff), the others 0: way w's lane of a rank vector. */
extern const uint8_t __sa_lane_bit[16][16];

/* The touch of 'way': the ways more recent than it age by one, it gets 0. */
static inline void __sa_lru16_touch(const struct sa_cache *c, uint8_t *r, uint32_t way)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(void *)r);
	/* r[way] in every byte: a multiply and a shuffle, cheaper than set1_epi8 */
	__m128i b = _mm_shuffle_epi32(_mm_cvtsi32_si128((int)(r[way] * 0x01010101u)), 0);
	/* ranks are below 16: the signed compare is exact on the ways' lanes */
	__m128i lt = _mm_and_si128(_mm_cmpgt_epi8(b, v),
				   _mm_load_si128((const __m128i *)(const void *)c->lane_bytes));
	__m128i self = _mm_load_si128((const __m128i *)(const void *)__sa_lane_bit[way]);

	/* one store: a byte store after it would stall the next load */
	_mm_storeu_si128((__m128i *)(void *)r, _mm_andnot_si128(self, _mm_sub_epi8(v, lt)));
}

/*
 * The victim of a full set: the way of rank ways - 1. Corrupted ranks give
 * a way >= c->ways (the caller checks): the bytes past the ways, which may
 * hold anything, come after the ways' in the mask, and with no match at
 * all the result is 16.
 */
static inline uint32_t __sa_lru16_victim(const struct sa_cache *c, const uint8_t *r)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)r);
	uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
		v, _mm_load_si128((const __m128i *)(const void *)c->last_rank)));

	return (uint32_t)__builtin_ctz(m | 0x10000);
}

/*
 * The touch of the victim 'way' just chosen: it was the least recent, so
 * every other way ages by one and it gets 0 (no compare needed).
 */
static inline void __sa_lru16_touch_victim(const struct sa_cache *c, uint8_t *r, uint32_t way)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(void *)r);
	__m128i lanes = _mm_load_si128((const __m128i *)(const void *)c->lane_bytes);
	__m128i self = _mm_load_si128((const __m128i *)(const void *)__sa_lane_bit[way]);

	_mm_storeu_si128((__m128i *)(void *)r, _mm_andnot_si128(self, _mm_sub_epi8(v, lanes)));
}

/*
 * A narrow set's scan for (key, asid), whose tag word is 'tag': its ways
 * that hold it (bits 15..0: one at most) and its invalid ways (31..16).
 */
static inline uint32_t __sa_scan_key(const struct sa_cache *c, uint32_t set, const uint32_t *t,
				     uint64_t key, uint32_t tag)
{
	uint32_t s = __sa_scan(c, t, tag);

	if (__builtin_expect((tag & SA_TAG_LONG) && (s & 0xffff), 0)) {
		/* a long key: the matching tag words' full keys decide */
		const uint64_t *keys = c->keys + (size_t)set * c->ways;

		for (uint32_t m = s & 0xffff; m; m &= m - 1)
			if (keys[__builtin_ctz(m)] != key)
				s &= ~(1u << __builtin_ctz(m));
	}
	return s;
}

/* __sa_find() for sets of more than 64 ways (cache.c). */
int32_t __sa_find_wide(const struct sa_cache *c, uint32_t set, uint64_t key,
		       uint16_t asid);

/* The key of valid entry 'way' of 'set', whose tag word is 'tag'. */
static inline uint64_t __sa_key(const struct sa_cache *c, uint32_t set, uint32_t way,
				uint32_t tag)
{
	uint64_t above;

	if (tag & SA_TAG_LONG)
		return c->keys[(size_t)set * c->ways + way];
	above = tag >> SA_TAG_KEY_SHIFT;
	if (c->hashed)	/* set = low ^ above ^ (above >> shift), all masked: undo it */
		set = (uint32_t)((set ^ above ^ (above >> c->set_shift)) & c->set_mask);
	return above << c->set_shift | set;
}

/* The way of (key, asid) in 'set', or -1. */
static inline int32_t __sa_find(const struct sa_cache *c, uint32_t set,
				uint64_t key, uint16_t asid)
{
	const uint64_t *keys;
	uint64_t m;

	if (__builtin_expect(c->vecs != 0, 1)) {
		uint32_t s = __sa_scan_key(c, set, __sa_set_tags(c, set), key,
					   __sa_tag(c, key, asid)) & 0xffff;

		return s ? (int32_t)__builtin_ctz(s) : -1;
	}
	if (c->ways > 64)
		return __sa_find_wide(c, set, key, asid);
	m = __sa_tag_mask(__sa_set_tags(c, set), __sa_tag(c, key, asid), c->ways);
	if (__builtin_expect(!(key >> c->exact_shift), 1))
		return m ? (int32_t)__builtin_ctzll(m) : -1;	/* the tag is the key */
	keys = c->keys + (size_t)set * c->ways;
	while (m) {
		uint32_t w = (uint32_t)__builtin_ctzll(m);

		if (keys[w] == key)
			return (int32_t)w;
		m &= m - 1;
	}
	return -1;
}

/* sa_lookup()'s work, returning the way hit (-1: a miss) and its set's block in *blk_out. */
static inline __attribute__((always_inline)) int32_t
__sa_lookup(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t *payload_out,
	    uint32_t **blk_out)
{
	uint32_t set = sa_set_of(c, key), *t = __sa_set_tags(c, set);
	int32_t w;

	*blk_out = t;
	if (__builtin_expect(c->vecs != 0, 1)) {
		/* narrow: one scan gives the match and, for a miss, the free ways */
		uint32_t tag = __sa_tag(c, key, asid), s = __sa_scan_key(c, set, t, key, tag);

		if (!(s & 0xffff)) {
			c->stats.misses++;
			c->miss.key = key;
			c->miss.asid = asid;
			c->miss.blk = t;
			c->miss.tag = tag;
			c->miss.free = s >> 16;
			return -1;
		}
		w = (int32_t)__builtin_ctz(s);
	} else {
		w = __sa_find(c, set, key, asid);
		if (w < 0) {
			c->stats.misses++;
			return -1;
		}
	}
	c->stats.hits++;
	if (payload_out)
		*payload_out = __sa_payload(c, (size_t)set * c->ways + (uint32_t)w);
	if (c->lru16)
		__sa_lru16_touch(c, (uint8_t *)t + c->repl_off, (uint32_t)w);
	else
		c->ops->on_hit(c, set, (uint32_t)w);
	return w;
}

static inline __attribute__((always_inline)) bool
sa_lookup(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t *payload_out)
{
	uint32_t *blk;

	return __sa_lookup(c, key, asid, payload_out, &blk) >= 0;
}

static inline void sa_prefetch(const struct sa_cache *c, uint64_t key)
{
	const uint32_t *tags = __sa_set_tags(c, sa_set_of(c, key));

	__builtin_prefetch(tags);
	if (c->set_words > 16)
		__builtin_prefetch(tags + 16);
}

static inline bool sa_access(struct sa_cache *c, uint64_t key, uint16_t asid, bool write,
			     uint64_t *payload_out)
{
	uint32_t *blk;
	int32_t w = __sa_lookup(c, key, asid, payload_out, &blk);

	if (w < 0)
		return false;
	if (write)
		blk[c->dirty_off + ((uint32_t)w >> 5)] |= 1u << ((uint32_t)w & 31);
	return true;
}

/*
 * The fill of a narrow LRU set (c->lru16) where (key, its tag word 'tag') is
 * absent: 't' is the set's block, 'free' its invalid ways. The lowest free
 * way, else the least recently used one, evicted as sa_insert() says. The
 * common case of every fill, inline; what it does not cover (other policies,
 * wide sets, a fill not right after its missed lookup) is
 * __sa_fill_general()'s (cache.c).
 */
void __sa_bad_victim(const struct sa_cache *c, uint32_t way) __attribute__((noreturn, cold));

/*
 * The eviction of valid way w of 'set' (tag word 'tag', dirty bit 'vdirty'),
 * which a fill replaces: counted, its key to *victim_key_out (if not NULL);
 * returns SA_VICTIM [| SA_VICTIM_DIRTY], as sa_insert() does.
 */
static inline __attribute__((always_inline)) int
__sa_evict(struct sa_cache *c, uint32_t set, uint32_t w, uint32_t tag, bool vdirty,
	   uint64_t *victim_key_out)
{
	if (victim_key_out)
		*victim_key_out = __sa_key(c, set, w, tag);
	c->stats.evictions++;
	if (!vdirty)
		return SA_VICTIM;
	c->stats.dirty_evictions++;
	return SA_VICTIM | SA_VICTIM_DIRTY;
}

static inline __attribute__((always_inline)) int
__sa_fill_lru16(struct sa_cache *c, uint32_t *t, uint32_t tag, uint32_t free, uint64_t key,
		uint64_t payload, bool dirty, uint64_t *victim_key_out)
{
	uint8_t *r = (uint8_t *)t + c->repl_off;
	uint32_t *d = t + c->dirty_off;		/* narrow: one dirty word */
	uint32_t set = sa_set_of(c, key), w;
	int ret = 0;

	c->miss.asid = SA_MISS_NONE;		/* the set's tags change */
	if (free) {
		w = (uint32_t)__builtin_ctz(free);
		__sa_lru16_touch(c, r, w);
	} else {
		w = __sa_lru16_victim(c, r);
		if (__builtin_expect(w >= c->ways, 0))
			__sa_bad_victim(c, w);
		ret = __sa_evict(c, set, w, t[w], *d >> w & 1, victim_key_out);
		__sa_lru16_touch_victim(c, r, w);
	}
	if (tag & SA_TAG_LONG)
		c->keys[(size_t)set * c->ways + w] = key;	/* read back for long keys only */
	__sa_set_payload(c, (size_t)set * c->ways + w, payload);
	t[w] = tag;
	/*
	 * The dirty word last: the policy's 16-byte load above covers it, and
	 * would wait for a store to it (no store-to-load forwarding).
	 */
	if (dirty)
		*d |= 1u << w;
	else
		*d &= ~(1u << w);
	return ret;
}

/* sa_fill() for all but its common case (cache.c); it counts nothing itself. */
int __sa_fill_general(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload,
		      bool dirty, uint64_t *victim_key_out);

static inline __attribute__((always_inline)) int
sa_fill(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload, bool dirty,
	uint64_t *victim_key_out)
{
	c->stats.inserts++;
	/* right after its missed lookup: absent, and what the fill needs is known */
	if (__builtin_expect(c->miss.key == key && c->miss.asid == asid && c->lru16, 1))
		return __sa_fill_lru16(c, c->miss.blk, c->miss.tag, c->miss.free, key, payload,
				       dirty, victim_key_out);
	return __sa_fill_general(c, key, asid, payload, dirty, victim_key_out);
}

static inline __attribute__((always_inline)) int
sa_insert(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload,
	  uint64_t *victim_key_out)
{
	return sa_fill(c, key, asid, payload, false, victim_key_out);
}

#endif
