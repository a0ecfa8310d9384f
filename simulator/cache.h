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
	bool hashed;			/* cfg.hashed: the set an xor of the key's fields */
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

/*
 * The set 'key' maps to: key modulo sets; hashed, the xor of the key's low
 * three fields of log2(sets) bits, as a sliced LLC spreads addresses that
 * share their low bits (one line at the same offset of every page) over
 * all its sets. (set, key >> log2(sets)) still gives the key back
 * (cache_fast.h __sa_key()).
 */
static inline uint32_t sa_set_of(const struct sa_cache *c, uint64_t key)
{
	if (c->hashed)
		key ^= (key >> c->set_shift) ^ (key >> 2 * c->set_shift);
	return (uint32_t)(key & c->set_mask);
}

/*
 * Look (key, asid) up. On a hit: *payload_out (if not NULL) gets the payload,
 * the policy's on_hit runs, hits is bumped, true is returned. On a miss:
 * misses is bumped, false; nothing else changes (fill with sa_insert()).
 */
static inline bool sa_lookup(struct sa_cache *c, uint64_t key, uint16_t asid,
			     uint64_t *payload_out);

/*
 * Start loading the set 'key' maps to into the host's caches; no effect on
 * the structure. A caller about to visit several large structures (the
 * L2 and the LLC on an L1D miss) prefetches them all first, so that their
 * host cache misses overlap instead of following one another.
 */
static inline void sa_prefetch(const struct sa_cache *c, uint64_t key);

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
			     uint64_t *payload_out);
static inline int sa_fill(struct sa_cache *c, uint64_t key, uint16_t asid, uint64_t payload,
			  bool dirty, uint64_t *victim_key_out);
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

/* The inline fast paths of the operations above, and their helpers. */
#include "simulator/cache_fast.h"

#endif
