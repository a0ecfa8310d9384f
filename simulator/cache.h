/*
 * cache.h - the one generic set-associative structure of the simulator: data
 * caches, TLBs and page-walk caches are all a struct sa_cache, configured by a
 * struct sa_config (sa.h), as ChampSim's TLBs are cache instances with the
 * same JSON keys as L1D.
 *
 * An entry is a (key, asid) tag and a 64-bit payload the structure never
 * reads. What the key and the payload mean is the user's choice; the three
 * uses of the simulator are:
 *
 *   data cache	key = sa_line_key(paddr) (the physical line number, 64-byte
 *		lines), asid 0, payload unused (0). The dirty bit marks lines
 *		to write back: sa_mark_dirty() after a store, and a dirty
 *		victim is reported by sa_insert() (SA_VICTIM_DIRTY).
 *   TLB	key = sa_va_key(vaddr, page_shift), the virtual page number
 *		of that page size with the size in the key's top byte, so
 *		a 4 KiB and a 2 MiB page with the same page number never
 *		alias and one structure can hold several sizes (a unified
 *		STLB: the caller looks up once per size it may hold). asid
 *		is the PCID of the mm. payload = sa_tlb_payload(frame
 *		physical address, page_shift, SA_PERM_* bits).
 *   page-walk	key = sa_va_key(vaddr, level_shift), where level_shift is
 *   cache	the lowest virtual-address bit the cached upper-level entry
 *		translates (e.g. 21 for a PMD entry: bits 47..21 select it),
 *		asid the PCID, payload the physical address of the next
 *		table. One structure per level, as ChampSim's walker has.
 *
 * Index function: set = key & (sets - 1), i.e. key modulo sets, sets a power
 * of two. For the three uses above that is the low bits of the line number or
 * the page number, the conventional index (no hashing, no XOR folding). The
 * whole key is kept as the tag (the set bits included: it costs nothing and
 * makes invalidation and victim reporting exact).
 *
 * Storage: the metadata of a set is one block, so that a lookup or a fill
 * touches one or two host cache lines instead of one per array (the LLC of
 * the default machine is 32768 sets, far beyond the host's caches):
 *
 *	tag words	uint32_t[ways]		(__sa_tag(), 0 if invalid)
 *	policy state	uint8_t[ways]		(uint16_t: LRU of more than 256 ways)
 *	dirty bits	uint32_t[(ways + 31) / 32]	(bit w % 32 of word w / 32)
 *
 * padded to a power of two up to 64 bytes, or to a multiple of 64 bytes,
 * with at least 16 bytes from the policy state on (one SSE2 load); the
 * blocks are 64-byte aligned. A 12-way set is 48 + 12 + 4 = 64 bytes: one
 * host line. Keys and payloads, read only for a way whose tag word matches
 * and for the way a fill replaces, are flat arrays of sets * ways, way-major
 * within a set (entry = set * ways + way). Until a non-zero payload is
 * written the payloads are all 0 and are neither read nor written (a data
 * cache's never are: its fills touch no payload line of the host). A key
 * with no bit above the tag word's (key < 2^(set bits + 14): the line keys
 * of the L2 and LLC of up to 2 GiB and 32 GiB of memory) is short: its tag
 * word and its set are the whole key, so a lookup of a short key trusts a
 * tag match, the victim's key comes from its tag, and its keys entry is
 * neither read nor written (__sa_key() gives any valid entry's key). A
 * longer key sets the tag word's long bit, and its keys entry holds it (see
 * __sa_tag()). Everything is allocated once by sa_init(); no operation
 * allocates. A lookup compares the set's tag words without a branch per
 * way, then the full key of a matching way (__sa_find()); a fill takes the
 * lowest invalid way, found by the same comparison against 0.
 *
 * Fast paths: the operations the simulator repeats on every access are
 * inline here, specialised for the structures it has (narrow sets of at
 * most 16 ways under LRU), and fall back to cache.c's general code for
 * anything else. A lookup that misses keeps what it computed (the miss
 * memo in struct sa_cache) for the fill that follows it. Measured by
 * bench/bench_cache.c.
 *
 * Invariants (a policy choosing a way out of range, a reversed invalidation
 * range) are checked in every build and abort with a message.
 *
 * Replacement: an invalid way is always filled first (the lowest-numbered
 * one); only a full set asks the policy for a victim. Policies are ops
 * (struct sa_repl_ops) over one small value of state per way:
 *
 *   LRU	true LRU, as recency ranks: 0 is the way touched last (by a
 *		hit or an insert), ways - 1 the one touched longest ago; a
 *		touch moves its way to 0 and ages the ways that were more
 *		recent by one. The ranks are a permutation of 0..ways-1
 *		(way w starts at w), so the victim of a full set, whose ways
 *		were all touched since they were filled, is the way at rank
 *		ways - 1: the least recently touched one.
 *   SRRIP	static RRIP with 2-bit re-reference prediction values
 *		(Jaleel et al., ISCA 2010): insert at RRPV 2, a hit sets 0;
 *		the victim is the lowest-numbered way with RRPV 3, after
 *		aging the whole set (+1 to every way) as often as needed.
 *   RANDOM	a way drawn uniformly by wl_rng_below() from the struct wl_rng
 *		given to sa_init() (workload/prng.h), so a seed gives one
 *		victim sequence. The structure keeps a pointer: the generator
 *		must outlive it, and may be shared with other components.
 *
 * Counters: struct sa_stats, plain fields the operations bump; the
 * simulator's stats printer (stats.h) is the one place they are printed. The
 * owner copies or zeroes them for a region of interest.
 *
 * Not thread-safe: one structure belongs to one simulated core (or to the
 * shared level's owner).
 */
#ifndef SIMULATOR_CACHE_H
#define SIMULATOR_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "simulator/sa.h"
#include "workload/prng.h"

/* Data caches: 64-byte lines. */
#define SA_LINE_SHIFT	6

/* The key of the line holding physical address 'paddr'. */
static inline uint64_t sa_line_key(uint64_t paddr)
{
	return paddr >> SA_LINE_SHIFT;
}

/*
 * The key of the page (or upper-level page-table entry) of 'shift' bits
 * holding virtual address 'vaddr': the page number in bits 55..0, 'shift' in
 * bits 63..56. 'shift' >= 9 so that the number fits in 56 bits for any
 * 64-bit address (4 KiB: 12, 2 MiB: 21, 1 GiB: 30; page-walk caches: the
 * level's shift). The keys of one shift are ordered as the addresses, so a
 * virtual range [start, end) of that size is the key range
 * [sa_va_key(start, shift), sa_va_key(end - 1, shift)].
 */
static inline uint64_t sa_va_key(uint64_t vaddr, unsigned int shift)
{
	return (vaddr >> shift) | ((uint64_t)shift << 56);
}

/* The page shift a sa_va_key() key was made with, and its first address. */
static inline unsigned int sa_va_key_shift(uint64_t key)
{
	return (unsigned int)(key >> 56);
}

static inline uint64_t sa_va_key_addr(uint64_t key)
{
	return (key & ((1ULL << 56) - 1)) << sa_va_key_shift(key);
}

/*
 * TLB payload: the frame's physical address (page-aligned, so its low 12
 * bits are free) | page shift << 6 | permission bits in bits 5..0.
 */
#define SA_PERM_READ	0x01u
#define SA_PERM_WRITE	0x02u
#define SA_PERM_EXEC	0x04u
#define SA_PERM_USER	0x08u
#define SA_PERM_ACCESSED 0x10u
#define SA_PERM_DIRTY	0x20u
#define SA_PERM_MASK	0x3fu

static inline uint64_t sa_tlb_payload(uint64_t frame_paddr, unsigned int shift,
				      unsigned int perms)
{
	return (frame_paddr & ~0xfffULL) | ((uint64_t)(shift & 0x3f) << 6) |
	       (perms & SA_PERM_MASK);
}

static inline uint64_t sa_tlb_frame(uint64_t payload)
{
	return payload & ~0xfffULL;
}

static inline unsigned int sa_tlb_shift(uint64_t payload)
{
	return (unsigned int)(payload >> 6) & 0x3f;
}

static inline unsigned int sa_tlb_perms(uint64_t payload)
{
	return (unsigned int)payload & SA_PERM_MASK;
}

/* The physical address 'vaddr' translates to through a TLB payload. */
static inline uint64_t sa_tlb_translate(uint64_t payload, uint64_t vaddr)
{
	return sa_tlb_frame(payload) | (vaddr & ((1ULL << sa_tlb_shift(payload)) - 1));
}

/*
 * X(name): the counters of one structure, in print order; the only list of
 * them (it generates the fields and the JSON keys).
 *   hits, misses	sa_lookup() outcomes
 *   inserts		sa_insert() calls (a key already present counts too)
 *   evictions		valid entries a sa_insert() replaced
 *   dirty_evictions	those of them that were dirty (writebacks)
 *   invalidations	valid entries removed by sa_invalidate*() and sa_flush*()
 */
#define SA_STATS_LIST(X)	\
	X(hits)			\
	X(misses)		\
	X(inserts)		\
	X(evictions)		\
	X(dirty_evictions)	\
	X(invalidations)

struct sa_stats {
#define SA_STATS_FIELD(name) uint64_t name;
	SA_STATS_LIST(SA_STATS_FIELD)
#undef SA_STATS_FIELD
};

struct sa_cache;

/*
 * A replacement policy. 'set' is a set, 'way' a way of it; the policy's
 * state is __sa_set_repl(c, set)[way] (__sa_set_repl16() if c->repl_wide).
 *   init	set the state of every (invalid) way; NULL: zero it
 *   on_hit	sa_lookup() hit 'way', or sa_insert() found the key present
 *   on_insert	a new entry was written in 'way'
 *   victim	the set is full: the way to replace
 */
struct sa_repl_ops {
	const char *name;
	void (*init)(struct sa_cache *c);
	void (*on_hit)(struct sa_cache *c, uint32_t set, uint32_t way);
	void (*on_insert)(struct sa_cache *c, uint32_t set, uint32_t way);
	uint32_t (*victim)(struct sa_cache *c, uint32_t set);
};

/* The policies, indexed by enum sa_repl (LRU of more than 256 ways uses a
 * 16-bit variant of the same policy). */
extern const struct sa_repl_ops *const sa_repl_ops[SA_REPL_NR];

/* The miss memo's asid when no miss is recorded: no uint16_t asid equals it. */
#define SA_MISS_NONE	0x10000u

/* Flags of sa_insert() and sa_invalidate(). */
#define SA_VICTIM	0x1	/* a valid entry was evicted (or invalidated) */
#define SA_VICTIM_DIRTY	0x2	/* ... and it was dirty */

struct sa_cache {
	struct sa_config cfg;
	char *name;			/* copy of sa_init()'s, for reports */
	uint32_t set_mask;		/* sets - 1 */
	uint32_t set_shift;		/* log2(sets) */
	uint32_t ways;
	const struct sa_repl_ops *ops;
	struct wl_rng *rng;		/* RANDOM's generator (not owned) */

	/*
	 * The set blocks (see the top of this file): set s's starts at
	 * tags + s * set_words, its tag words first (so tags[w] is way w of
	 * set 0).
	 */
	uint32_t *tags;
	uint32_t set_words;		/* a block's size, in 32-bit words */
	uint32_t repl_off;		/* the policy state, bytes into a block */
	uint32_t dirty_off;		/* the dirty bits, words into a block */
	bool repl_wide;			/* the policy state is uint16_t */

	/* sets * ways each, entry = set * ways + way */
	uint64_t *keys;			/* the keys of long-key entries only */
	uint64_t *payloads;		/* through __sa_payload() and __sa_set_payload() */
	bool payloads_used;		/* false: every payload is 0 */
	uint32_t exact_shift;		/* set_shift + 14: longer keys are long */

	/*
	 * Narrow sets (ways <= 16, every structure of the default machine):
	 * the tag words are read as 'vecs' 16-byte vectors (the block holds
	 * them: cache.h's layout), lanes past the ways masked off by 'lanes';
	 * 'lru16' is LRU on them, called directly rather than through ops.
	 * vecs is 0 for wider sets.
	 */
	uint32_t vecs;
	uint32_t lanes;			/* (1 << ways) - 1 in bits 15..0 and 31..16 */
	bool lru16;
	_Alignas(16) uint8_t lane_bytes[16];	/* 0xff for bytes 0..ways-1 */
	_Alignas(16) uint8_t last_rank[16];	/* ways - 1 in every byte */

	/*
	 * The last lookup's miss, for the fill that follows it: a data cache
	 * or TLB misses, fetches from below and fills the same key. The
	 * lookup keeps what it computed, so that the fill recomputes nothing:
	 * while miss.asid is not SA_MISS_NONE, (miss.key, miss.asid) is absent
	 * from its set, whose block is miss.blk, miss.tag is its tag word and
	 * miss.free the set's mask of invalid ways. Only a narrow set's
	 * lookup records a miss; any change of tags (a fill of any key, an
	 * invalidation, a flush) sets SA_MISS_NONE.
	 */
	struct {
		uint64_t key;
		uint32_t *blk;
		uint32_t tag;
		uint32_t free;
		uint32_t asid;		/* SA_MISS_NONE: no miss recorded */
	} miss;

	struct sa_stats stats;
};

/*
 * Allocate and empty a structure of cfg's geometry and policy. 'name' is
 * copied (it names the structure in reports); 'rng' is needed by RANDOM only
 * (NULL otherwise is fine) and must outlive the structure. Returns 0, or
 * -EINVAL for a configuration sa_config_error() rejects (or RANDOM without a
 * generator), -ENOMEM. On error *c needs no sa_release() (but tolerates it).
 */
int sa_init(struct sa_cache *c, const struct sa_config *cfg, const char *name,
	    struct wl_rng *rng);

/* Free what sa_init() allocated; *c is zeroed and may be initialized again. */
void sa_release(struct sa_cache *c);

/* Total entries, sets * ways. */
static inline uint32_t sa_entries(const struct sa_cache *c)
{
	return (c->set_mask + 1) * c->ways;
}

/* The set 'key' maps to: key modulo sets. */
static inline uint32_t sa_set_of(const struct sa_cache *c, uint64_t key)
{
	return (uint32_t)(key & c->set_mask);
}

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
#ifdef __SSE2__
	__m128i vv = _mm_set1_epi32((int)v);

	for (; w + 4 <= n; w += 4) {
		__m128i x = _mm_loadu_si128((const __m128i *)(t + w));

		m |= (uint64_t)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(x, vv))) << w;
	}
#endif
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
#ifdef __SSE2__
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
#else
	s = 0;
	for (uint32_t w = 0; w < c->ways; w++)
		s |= (uint32_t)(t[w] == v) << w | (uint32_t)(t[w] == 0) << (w + 16);
#endif
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
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)(void *)r);
	/* r[way] in every byte: a multiply and a shuffle, cheaper than set1_epi8 */
	__m128i b = _mm_shuffle_epi32(_mm_cvtsi32_si128((int)(r[way] * 0x01010101u)), 0);
	/* ranks are below 16: the signed compare is exact on the ways' lanes */
	__m128i lt = _mm_and_si128(_mm_cmpgt_epi8(b, v),
				   _mm_load_si128((const __m128i *)(const void *)c->lane_bytes));
	__m128i self = _mm_load_si128((const __m128i *)(const void *)__sa_lane_bit[way]);

	/* one store: a byte store after it would stall the next load */
	_mm_storeu_si128((__m128i *)(void *)r, _mm_andnot_si128(self, _mm_sub_epi8(v, lt)));
#else
	uint8_t old = r[way];

	for (uint32_t w = 0; w < c->ways; w++)
		r[w] += r[w] < old;
	r[way] = 0;
#endif
}

/*
 * The victim of a full set: the way of rank ways - 1. Corrupted ranks give
 * a way >= c->ways (the caller checks): the bytes past the ways, which may
 * hold anything, come after the ways' in the mask, and with no match at
 * all the result is 16.
 */
static inline uint32_t __sa_lru16_victim(const struct sa_cache *c, const uint8_t *r)
{
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)r);
	uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
		v, _mm_load_si128((const __m128i *)(const void *)c->last_rank)));

	return (uint32_t)__builtin_ctz(m | 0x10000);
#else
	uint32_t w;

	for (w = 0; w < c->ways; w++)
		if (r[w] == c->ways - 1)
			break;
	return w;
#endif
}

/*
 * The touch of the victim 'way' just chosen: it was the least recent, so
 * every other way ages by one and it gets 0 (no compare needed).
 */
static inline void __sa_lru16_touch_victim(const struct sa_cache *c, uint8_t *r, uint32_t way)
{
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)(void *)r);
	__m128i lanes = _mm_load_si128((const __m128i *)(const void *)c->lane_bytes);
	__m128i self = _mm_load_si128((const __m128i *)(const void *)__sa_lane_bit[way]);

	_mm_storeu_si128((__m128i *)(void *)r, _mm_andnot_si128(self, _mm_sub_epi8(v, lanes)));
#else
	for (uint32_t w = 0; w < c->ways; w++)
		r[w]++;
	r[way] = 0;
#endif
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
	if (tag & SA_TAG_LONG)
		return c->keys[(size_t)set * c->ways + way];
	return (uint64_t)(tag >> SA_TAG_KEY_SHIFT) << c->set_shift | set;
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

/*
 * Look (key, asid) up. On a hit: *payload_out (if not NULL) gets the payload,
 * the policy's on_hit runs, hits is bumped, true is returned. On a miss:
 * misses is bumped, false; nothing else changes (fill with sa_insert()).
 */
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

/*
 * Start loading the set 'key' maps to into the host's caches; no effect on
 * the structure. A caller about to visit several large structures (the
 * L2 and the LLC on an L1D miss) prefetches them all first, so that their
 * host cache misses overlap instead of following one another.
 */
static inline void sa_prefetch(const struct sa_cache *c, uint64_t key)
{
	const uint32_t *tags = __sa_set_tags(c, sa_set_of(c, key));

	__builtin_prefetch(tags);
	if (c->set_words > 16)
		__builtin_prefetch(tags + 16);
}

/*
 * Whether (key, asid) is present, without side effects: no counter, no
 * replacement update (for inclusion checks and tests).
 */
bool sa_probe(const struct sa_cache *c, uint64_t key, uint16_t asid,
	      uint64_t *payload_out);

/*
 * Fill (key, asid) with 'payload', clean. If the set is full, the policy
 * chooses a valid victim, which is evicted: its key goes to *victim_key_out
 * (if not NULL; nothing else of it is kept, so that a caller that wants
 * nothing of it, as a TLB, costs no work). Returns 0 if nothing was evicted,
 * SA_VICTIM, or SA_VICTIM | SA_VICTIM_DIRTY for a dirty victim (a writeback
 * for a data cache). If (key, asid) is already present, its payload is
 * replaced in place (dirty bit kept), the policy sees a hit, and 0 is
 * returned: a refill never duplicates an entry.
 */
static inline int sa_insert(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload,
			    uint64_t *victim_key_out);

/* Set the dirty bit of (key, asid); false if it is absent. No counters. */
bool sa_mark_dirty(struct sa_cache *c, uint64_t key, uint16_t asid);

/*
 * Combined operations of a data cache, each the same as the sequence it
 * names (the same results, counters and replacement updates) in one visit of
 * the set:
 *
 * sa_access()		sa_lookup(), then on a hit sa_mark_dirty() if 'write'
 *			(a load or a store that hits).
 * sa_fill()		sa_insert(), then sa_mark_dirty() if 'dirty' (the fill
 *			of a store's line).
 * sa_write_back()	a dirty line arriving from the level above:
 *			sa_mark_dirty() if (key, asid) is present (returns 0;
 *			a write-back is not a use: no policy update, no
 *			counter), else sa_fill(c, key, asid, 0, true, ...).
 */
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

int sa_write_back(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t *victim_key_out);

/*
 * Remove (key, asid). Returns 0 if absent, else SA_VICTIM (| SA_VICTIM_DIRTY
 * if it was dirty: the caller writes it back if it must).
 */
int sa_invalidate(struct sa_cache *c, uint64_t key, uint16_t asid);

/*
 * Remove every entry of 'asid' with key_lo <= key <= key_hi (inclusive; a
 * TLB shootdown of a virtual range, see sa_va_key()); returns how many.
 * Worst case O(entries): a range shorter than the number of sets visits only
 * its keys' sets, a longer one scans every entry. key_lo > key_hi is a caller
 * bug (checked: aborts).
 */
uint64_t sa_invalidate_range(struct sa_cache *c, uint64_t key_lo, uint64_t key_hi,
			     uint16_t asid);

/* Remove every entry of 'asid' (INVPCID single-context); returns how many. */
uint64_t sa_flush_asid(struct sa_cache *c, uint16_t asid);

/* Remove every entry (e.g. a CR3 write without PCIDs); returns how many. */
uint64_t sa_flush_all(struct sa_cache *c);

#endif
