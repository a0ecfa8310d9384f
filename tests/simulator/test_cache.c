/*
 * test_cache.c - the generic set-associative structure (simulator/cache.h)
 * alone, against sequences derived by hand below.
 *
 * Most tests drive it as a cache does: sa_lookup(), and on a miss
 * sa_insert(). run() records one character per access: 'H' hit, 'M' miss;
 * and the victim of each access: its letter, or '.' if nothing was evicted.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "simulator/cache.h"
#include "simulator/stats.h"

/*
 * Letters as keys, for 2-set structures: the set is key & 1, so
 * A, B, C, G are in set 0 and D, E, F in set 1.
 */
static uint64_t letter_key(char l)
{
	switch (l) {
	case 'A': return 0;
	case 'B': return 2;
	case 'C': return 4;
	case 'G': return 6;
	case 'D': return 1;
	case 'E': return 3;
	case 'F': return 5;
	}
	cr_assert_fail("no key for letter %c", l);
	return 0;
}

static char key_letter(uint64_t key)
{
	static const char *letters = "ABCDEFG";

	for (const char *l = letters; *l; l++)
		if (letter_key(*l) == key)
			return *l;
	return '?';
}

/* Lookup, insert on a miss; hit/miss and victim strings (seq-length + 1). */
static void run(struct sa_cache *c, const char *seq, char *hm, char *victims)
{
	size_t i;

	for (i = 0; seq[i]; i++) {
		uint64_t key = letter_key(seq[i]), victim = 0;

		victims[i] = '.';
		if (sa_lookup(c, key, 0, NULL)) {
			hm[i] = 'H';
			continue;
		}
		hm[i] = 'M';
		if (sa_insert(c, key, 0, key * 10, &victim))
			victims[i] = key_letter(victim);
	}
	hm[i] = victims[i] = '\0';
}

static void init_or_die(struct sa_cache *c, uint32_t sets, uint32_t ways,
			enum sa_repl repl, struct wl_rng *rng)
{
	struct sa_config cfg = { .sets = sets, .ways = ways, .latency = 1, .repl = repl };

	cr_assert_eq(sa_init(c, &cfg, "test", rng), 0);
}

/*
 * The sequence of both policy tests, on 2 sets x 2 ways:
 *
 *	A B C A D B A E F D C A B G A
 *
 * LRU, set 0 listed oldest first (set 1 only gets D, E, F, D):
 *	 1 A  M  {A}
 *	 2 B  M  {A B}
 *	 3 C  M  {B C}     evicts A
 *	 4 A  M  {C A}     evicts B
 *	 5 D  M  set 1 {D}
 *	 6 B  M  {A B}     evicts C
 *	 7 A  H  {B A}
 *	 8 E  M  set 1 {D E}
 *	 9 F  M  set 1 {E F}  evicts D
 *	10 D  M  set 1 {F D}  evicts E
 *	11 C  M  {A C}     evicts B
 *	12 A  H  {C A}
 *	13 B  M  {A B}     evicts C
 *	14 G  M  {B G}     evicts A
 *	15 A  M  {G A}     evicts B
 */
#define SEQ "ABCADBAEFDCABGA"

Test(cache, lru_two_sets_two_ways_hand_sequence)
{
	struct sa_cache c;
	char hm[32], v[32];

	init_or_die(&c, 2, 2, SA_REPL_LRU, NULL);
	run(&c, SEQ, hm, v);
	cr_expect_str_eq(hm, "MMMMMMHMMMMHMMM");
	cr_expect_str_eq(v, "..AB.C..DEB.CAB");
	cr_expect_eq(c.stats.hits, 2);
	cr_expect_eq(c.stats.misses, 13);
	cr_expect_eq(c.stats.inserts, 13);
	cr_expect_eq(c.stats.evictions, 9);
	sa_release(&c);
}

/*
 * SRRIP on the same sequence: [way0 way1] with RRPVs; insert at 2, hit -> 0,
 * victim the lowest way at 3 after aging (+1 to all) as often as needed.
 *	 1 A  M  [A2 -]
 *	 2 B  M  [A2 B2]
 *	 3 C  M  age [A3 B3] -> evict A: [C2 B3]
 *	 4 A  M  B is 3 -> evict B:      [C2 A2]
 *	 5 D  M  set 1 [D2 -]
 *	 6 B  M  age [C3 A3] -> evict C: [B2 A3]
 *	 7 A  H  [B2 A0]
 *	 8 E  M  set 1 [D2 E2]
 *	 9 F  M  set 1 age [D3 E3] -> evict D: [F2 E3]
 *	10 D  M  set 1 E is 3 -> evict E: [F2 D2]
 *	11 C  M  age [B3 A1] -> evict B: [C2 A1]
 *	12 A  H  [C2 A0]
 *	13 B  M  age [C3 A1] -> evict C: [B2 A1]
 *	14 G  M  age [B3 A2] -> evict B: [G2 A2]
 *	15 A  H  [G2 A0]   (LRU evicted A at 14: SRRIP kept the reused line)
 */
Test(cache, srrip_two_sets_two_ways_hand_sequence)
{
	struct sa_cache c;
	char hm[32], v[32];

	init_or_die(&c, 2, 2, SA_REPL_SRRIP, NULL);
	run(&c, SEQ, hm, v);
	cr_expect_str_eq(hm, "MMMMMMHMMMMHMMH");
	cr_expect_str_eq(v, "..AB.C..DEB.CB.");
	cr_expect_eq(c.stats.hits, 3);
	cr_expect_eq(c.stats.evictions, 8);
	sa_release(&c);
}

/* A random key sequence over 64 keys on 4 sets x 4 ways: hits and victims. */
static void random_run(uint64_t seed, char *hm, uint64_t *victims, size_t n)
{
	struct wl_rng rng, keys;
	struct sa_cache c;

	wl_rng_seed(&rng, seed);
	wl_rng_seed(&keys, 99);
	init_or_die(&c, 4, 4, SA_REPL_RANDOM, &rng);
	for (size_t i = 0; i < n; i++) {
		uint64_t key = wl_rng_below(&keys, 64);

		victims[i] = UINT64_MAX;
		hm[i] = sa_lookup(&c, key, 0, NULL) ? 'H' : 'M';
		if (hm[i] == 'M')
			sa_insert(&c, key, 0, 0, &victims[i]);
	}
	hm[n] = '\0';
	sa_release(&c);
}

Test(cache, random_is_deterministic_for_a_seed)
{
	enum { N = 2000 };
	static char hm1[N + 1], hm2[N + 1], hm3[N + 1];
	static uint64_t v1[N], v2[N], v3[N];

	random_run(7, hm1, v1, N);
	random_run(7, hm2, v2, N);
	random_run(8, hm3, v3, N);
	cr_expect_str_eq(hm1, hm2);
	cr_expect_arr_eq(v1, v2, sizeof(v1));
	cr_expect(memcmp(v1, v3, sizeof(v1)), "another seed, other victims");
}

Test(cache, random_fills_free_ways_before_evicting)
{
	struct wl_rng rng;
	struct sa_cache c;
	uint64_t victim;
	unsigned int chosen[8] = { 0 };

	wl_rng_seed(&rng, 1);
	init_or_die(&c, 1, 8, SA_REPL_RANDOM, &rng);
	for (uint64_t k = 0; k < 8; k++)
		cr_expect_eq(sa_insert(&c, k, 0, 0, NULL), 0, "key %lu evicted", (unsigned long)k);
	for (uint64_t k = 0; k < 8; k++)
		cr_expect(sa_probe(&c, k, 0, NULL));
	/* after an invalidation, the free way is filled, nothing evicted */
	cr_expect_eq(sa_invalidate(&c, 3, 0), SA_VICTIM);
	cr_expect_eq(sa_insert(&c, 100, 0, 0, NULL), 0);
	cr_expect_eq(c.tags[3] != 0 && __sa_key(&c, 0, 3, c.tags[3]) == 100, 1, "refilled way 3");
	/* full: each insert evicts one of the ways, all ways get chosen */
	for (uint64_t k = 200; k < 1200; k++) {
		cr_assert_eq(sa_insert(&c, k, 0, 0, &victim), SA_VICTIM);
		cr_assert(!sa_probe(&c, victim, 0, NULL));
		for (uint32_t w = 0; w < 8; w++)
			if (__sa_key(&c, 0, w, c.tags[w]) == k)
				chosen[w]++;
	}
	for (uint32_t w = 0; w < 8; w++)
		cr_expect_gt(chosen[w], 60, "way %u chosen %u times of 1000", w, chosen[w]);
	cr_expect_eq(c.stats.evictions, 1000);
	sa_release(&c);
}

Test(cache, random_needs_a_generator)
{
	struct sa_config cfg = { .sets = 4, .ways = 4, .repl = SA_REPL_RANDOM };
	struct sa_cache c;

	cr_expect_eq(sa_init(&c, &cfg, "r", NULL), -EINVAL);
	sa_release(&c);
}

Test(cache, config_errors_are_rejected)
{
	struct sa_config ok = { .sets = 64, .ways = 12, .latency = 4, .repl = SA_REPL_LRU };
	struct sa_config bad;
	struct sa_cache c;

	cr_expect_null(sa_config_error(&ok));
	bad = ok, bad.sets = 48;
	cr_expect_not_null(sa_config_error(&bad));
	cr_expect_eq(sa_init(&c, &bad, "x", NULL), -EINVAL);
	bad = ok, bad.sets = 0;
	cr_expect_not_null(sa_config_error(&bad));
	bad = ok, bad.ways = 0;
	cr_expect_not_null(sa_config_error(&bad));
	bad = ok, bad.repl = SA_REPL_NR;
	cr_expect_not_null(sa_config_error(&bad));
	bad = ok, bad.sets = 1;	/* fully associative */
	cr_expect_null(sa_config_error(&bad));
}

Test(cache, replacement_names_round_trip)
{
	enum sa_repl r;

	for (int i = 0; i < SA_REPL_NR; i++) {
		cr_assert_eq(sa_repl_from_name(sa_repl_name((enum sa_repl)i), &r), 0);
		cr_expect_eq(r, (enum sa_repl)i);
	}
	cr_expect_str_eq(sa_repl_name(SA_REPL_LRU), "lru");
	cr_expect_str_eq(sa_repl_name(SA_REPL_SRRIP), "srrip");
	cr_expect_str_eq(sa_repl_name(SA_REPL_RANDOM), "random");
	cr_expect_null(sa_repl_name(SA_REPL_NR));
	cr_expect_eq(sa_repl_from_name("LRU", &r), -EINVAL);
	cr_expect_eq(sa_repl_from_name("plru", &r), -EINVAL);
}

Test(cache, lookup_returns_the_payload_and_refill_updates_it)
{
	struct sa_cache c;
	uint64_t p = 0;

	init_or_die(&c, 4, 2, SA_REPL_LRU, NULL);
	cr_expect_eq(sa_insert(&c, 9, 0, 0xabc, NULL), 0);
	cr_expect(sa_lookup(&c, 9, 0, &p));
	cr_expect_eq(p, 0xabc);
	/* refill of a present key: in place, no second entry, no eviction */
	cr_expect_eq(sa_insert(&c, 9, 0, 0xdef, NULL), 0);
	cr_expect(sa_lookup(&c, 9, 0, &p));
	cr_expect_eq(p, 0xdef);
	cr_expect_eq(sa_invalidate(&c, 9, 0), SA_VICTIM);
	cr_expect(!sa_probe(&c, 9, 0, NULL), "one copy only");
	cr_expect_eq(c.stats.inserts, 2);
	sa_release(&c);
}

/* 1 set x 2 ways, LRU: A B, refill A (now the newer), C evicts B. */
Test(cache, refill_counts_as_a_use_for_replacement)
{
	struct sa_cache c;
	uint64_t victim = 0;

	init_or_die(&c, 1, 2, SA_REPL_LRU, NULL);
	sa_insert(&c, 'A', 0, 0, NULL);
	sa_insert(&c, 'B', 0, 0, NULL);
	cr_expect_eq(sa_insert(&c, 'A', 0, 1, NULL), 0);
	cr_expect_eq(sa_insert(&c, 'C', 0, 0, &victim), SA_VICTIM);
	cr_expect_eq(victim, 'B');
	cr_expect_eq(c.stats.hits + c.stats.misses, 0, "inserts are not lookups");
	sa_release(&c);
}

/*
 * Keys that agree in the tag word (same set, same asid, same 15 key bits
 * above the set index) are still told apart by the full key.
 */
Test(cache, keys_sharing_a_tag_word_are_distinct)
{
	struct sa_cache c;
	uint64_t k1 = 5, k2 = 5 + (1ULL << 17), k3 = 5 + (1ULL << 40), p;

	init_or_die(&c, 4, 4, SA_REPL_LRU, NULL);	/* set index: bits 1..0 */
	cr_assert_eq(c.tags[0], 0);
	sa_insert(&c, k1, 7, 1, NULL);
	sa_insert(&c, k2, 7, 2, NULL);
	cr_expect(!sa_lookup(&c, k3, 7, NULL));
	cr_expect(sa_lookup(&c, k2, 7, &p));
	cr_expect_eq(p, 2);
	cr_expect(sa_lookup(&c, k1, 7, &p));
	cr_expect_eq(p, 1);
	cr_expect_eq(sa_invalidate(&c, k1, 7), SA_VICTIM);
	cr_expect(sa_lookup(&c, k2, 7, &p));
	cr_expect_eq(p, 2);
	cr_expect(!sa_lookup(&c, k1, 7, NULL));
	sa_release(&c);
}

/*
 * Odd and wide associativities (the tail of the 4-way compare, the path for
 * more than 64 ways): one set of W ways filled with keys 0..W-1 in order,
 * key 0 touched again, then key W evicts key 1, the least recently used.
 */
Test(cache, odd_and_wide_associativities)
{
	static const uint32_t ways[] = { 1, 3, 6, 13, 64, 65, 100 };

	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		uint32_t W = ways[i];
		struct sa_cache c;
		uint64_t victim = UINT64_MAX;

		init_or_die(&c, 1, W, SA_REPL_LRU, NULL);
		for (uint64_t k = 0; k < W; k++)
			cr_assert_eq(sa_insert(&c, k, 0, k, NULL), 0, "ways %u key %lu", W,
				     (unsigned long)k);
		for (uint64_t k = 0; k < W; k++)
			cr_assert(sa_probe(&c, k, 0, NULL), "ways %u key %lu", W, (unsigned long)k);
		cr_expect(sa_lookup(&c, 0, 0, NULL));
		cr_expect_eq(sa_insert(&c, W, 0, 0, &victim), SA_VICTIM, "ways %u", W);
		cr_expect_eq(victim, W == 1 ? 0 : 1, "ways %u", W);
		cr_expect(sa_probe(&c, W, 0, NULL));
		sa_release(&c);
	}
}

/*
 * A fill right after its lookup missed reuses what the lookup saw (the set's
 * free ways); any fill in between changes the set and must be seen. 1 set x
 * 2 ways, LRU: A fills way 0; B misses (way 1 free); C fills way 1; B must
 * now evict A, the older of the two, and report it.
 */
Test(cache, fill_after_a_missed_lookup_sees_fills_in_between)
{
	struct sa_cache c;
	uint64_t victim = 0;

	init_or_die(&c, 1, 2, SA_REPL_LRU, NULL);
	cr_assert_eq(sa_insert(&c, 'A', 0, 1, NULL), 0);
	cr_assert_not(sa_lookup(&c, 'B', 0, NULL));
	cr_assert_eq(sa_insert(&c, 'C', 0, 3, NULL), 0);
	cr_expect_eq(sa_insert(&c, 'B', 0, 2, &victim), SA_VICTIM);
	cr_expect_eq(victim, 'A');
	cr_expect(sa_probe(&c, 'B', 0, NULL));
	cr_expect(sa_probe(&c, 'C', 0, NULL));
	cr_expect_not(sa_probe(&c, 'A', 0, NULL));

	/* without one in between: B's miss, then B fills the way C's invalidation freed */
	cr_assert_eq(sa_invalidate(&c, 'C', 0), SA_VICTIM);
	cr_assert_not(sa_lookup(&c, 'D', 0, NULL));
	cr_expect_eq(sa_insert(&c, 'D', 0, 4, NULL), 0);
	cr_expect(sa_probe(&c, 'B', 0, NULL));
	cr_expect(sa_probe(&c, 'D', 0, NULL));
	/* an invalidation between the miss and the fill frees a way the fill must take */
	cr_assert_not(sa_lookup(&c, 'E', 0, NULL));
	cr_assert_eq(sa_invalidate(&c, 'B', 0), SA_VICTIM);
	cr_expect_eq(sa_insert(&c, 'E', 0, 5, NULL), 0, "a free way: no eviction");
	cr_expect(sa_probe(&c, 'D', 0, NULL));
	cr_expect(sa_probe(&c, 'E', 0, NULL));
	cr_expect_eq(c.stats.evictions, 1);
	sa_release(&c);
}

/* Keys 0..31 of asid 1 and 2 fill 8 sets x 8 ways exactly (set = key & 7). */
static void fill_two_asids(struct sa_cache *c)
{
	init_or_die(c, 8, 8, SA_REPL_LRU, NULL);
	for (uint64_t k = 0; k < 32; k++) {
		cr_assert_eq(sa_insert(c, k, 1, k, NULL), 0);
		cr_assert_eq(sa_insert(c, k, 2, k, NULL), 0);
	}
}

Test(cache, invalidate_range_removes_exactly_the_range)
{
	struct sa_cache c;

	/* 11 keys >= 8 sets: the scan of every entry */
	fill_two_asids(&c);
	cr_expect_eq(sa_invalidate_range(&c, 10, 20, 1), 11);
	for (uint64_t k = 0; k < 32; k++) {
		cr_expect_eq(sa_probe(&c, k, 1, NULL), k < 10 || k > 20, "asid 1 key %lu",
			     (unsigned long)k);
		cr_expect(sa_probe(&c, k, 2, NULL), "asid 2 key %lu untouched", (unsigned long)k);
	}
	cr_expect_eq(c.stats.invalidations, 11);
	sa_release(&c);

	/* 3 keys < 8 sets: only their sets */
	fill_two_asids(&c);
	cr_expect_eq(sa_invalidate_range(&c, 14, 16, 2), 3);
	for (uint64_t k = 0; k < 32; k++) {
		cr_expect(sa_probe(&c, k, 1, NULL));
		cr_expect_eq(sa_probe(&c, k, 2, NULL), k < 14 || k > 16, "asid 2 key %lu",
			     (unsigned long)k);
	}
	/* a range beyond the keys present, and one ending at UINT64_MAX */
	cr_expect_eq(sa_invalidate_range(&c, 1000, 2000, 1), 0);
	cr_expect_eq(sa_invalidate_range(&c, 31, UINT64_MAX, 1), 1);
	cr_expect_eq(sa_invalidate_range(&c, UINT64_MAX - 2, UINT64_MAX, 1), 0);
	cr_expect_eq(c.stats.invalidations, 4);
	sa_release(&c);
}

Test(cache, invalidate_range_of_virtual_pages_by_size)
{
	struct sa_cache c;
	uint64_t start = 0x7f0000200000ULL, end = start + (4ULL << 20);

	init_or_die(&c, 16, 4, SA_REPL_LRU, NULL);
	/* the 2 MiB page at start, 4 KiB pages on each side of [start, end) */
	sa_insert(&c, sa_va_key(start, 21), 1, 0, NULL);
	sa_insert(&c, sa_va_key(start - 4096, 12), 1, 0, NULL);
	sa_insert(&c, sa_va_key(start + (2ULL << 20), 12), 1, 0, NULL);
	sa_insert(&c, sa_va_key(end, 12), 1, 0, NULL);
	cr_expect_eq(sa_invalidate_range(&c, sa_va_key(start, 12), sa_va_key(end - 1, 12), 1), 1);
	cr_expect_eq(sa_invalidate_range(&c, sa_va_key(start, 21), sa_va_key(end - 1, 21), 1), 1);
	cr_expect(sa_probe(&c, sa_va_key(start - 4096, 12), 1, NULL));
	cr_expect(sa_probe(&c, sa_va_key(end, 12), 1, NULL));
	cr_expect(!sa_probe(&c, sa_va_key(start, 21), 1, NULL));
	sa_release(&c);
}

Test(cache, invalidate_range_reversed_aborts, .signal = SIGABRT)
{
	/* the invariant's message is the expected outcome, not news */
	cr_redirect_stderr();
	struct sa_cache c;

	init_or_die(&c, 4, 4, SA_REPL_LRU, NULL);
	sa_invalidate_range(&c, 5, 4, 0);
}

Test(cache, asids_are_isolated)
{
	struct sa_cache c;
	uint64_t p;

	init_or_die(&c, 4, 4, SA_REPL_LRU, NULL);
	sa_insert(&c, 42, 1, 111, NULL);
	cr_expect(!sa_lookup(&c, 42, 2, NULL), "asid 2 does not see asid 1's entry");
	cr_expect(!sa_lookup(&c, 42, 0, NULL));
	sa_insert(&c, 42, 2, 222, NULL);
	cr_expect(sa_lookup(&c, 42, 1, &p));
	cr_expect_eq(p, 111);
	cr_expect(sa_lookup(&c, 42, 2, &p));
	cr_expect_eq(p, 222);
	cr_expect(!sa_mark_dirty(&c, 42, 3));
	cr_expect_eq(sa_invalidate(&c, 42, 3), 0);
	sa_insert(&c, 43, 1, 0, NULL);
	sa_insert(&c, 44, 2, 0, NULL);
	cr_expect_eq(sa_flush_asid(&c, 1), 2);
	cr_expect(!sa_probe(&c, 42, 1, NULL));
	cr_expect(!sa_probe(&c, 43, 1, NULL));
	cr_expect(sa_probe(&c, 42, 2, NULL));
	cr_expect(sa_probe(&c, 44, 2, NULL));
	cr_expect_eq(sa_flush_all(&c), 2);
	cr_expect(!sa_probe(&c, 42, 2, NULL));
	cr_expect_eq(c.stats.invalidations, 4);
	cr_expect_eq(c.stats.hits, 2);
	cr_expect_eq(c.stats.misses, 2);
	sa_release(&c);
}

/*
 * 1 set x 2 ways, LRU: A B (A dirtied) C evicts A dirty; D evicts B clean;
 * then C dirtied and invalidated reports dirty.
 */
Test(cache, dirty_victims_are_reported)
{
	struct sa_cache c;
	uint64_t victim = 0;

	init_or_die(&c, 1, 2, SA_REPL_LRU, NULL);
	sa_insert(&c, 'A', 0, 0, NULL);
	sa_insert(&c, 'B', 0, 0, NULL);
	cr_expect(sa_mark_dirty(&c, 'A', 0));
	cr_expect(!sa_mark_dirty(&c, 'Z', 0));
	cr_expect_eq(sa_insert(&c, 'C', 0, 0, &victim), SA_VICTIM | SA_VICTIM_DIRTY);
	cr_expect_eq(victim, 'A');
	cr_expect_eq(sa_insert(&c, 'D', 0, 0, &victim), SA_VICTIM);
	cr_expect_eq(victim, 'B');
	cr_expect(sa_mark_dirty(&c, 'C', 0));
	cr_expect_eq(sa_invalidate(&c, 'C', 0), SA_VICTIM | SA_VICTIM_DIRTY);
	/* the refill of C's way starts clean */
	sa_insert(&c, 'E', 0, 0, NULL);
	cr_expect_eq(sa_insert(&c, 'F', 0, 0, &victim), SA_VICTIM);
	cr_expect_eq(victim, 'D');
	cr_expect_eq(sa_insert(&c, 'G', 0, 0, &victim), SA_VICTIM);
	cr_expect_eq(victim, 'E');
	cr_expect_eq(c.stats.evictions, 4);
	cr_expect_eq(c.stats.dirty_evictions, 1);
	sa_release(&c);
}

/*
 * A 64-entry 4-way TLB (16 sets, set = VPN mod 16) of 4 KiB pages, LRU,
 * touched by pages 0..64 twice (pcid 5, payload the translation).
 * Pass 1: 65 misses; pages 0..63 fill the 16 sets exactly (4 each), page 64
 * (set 0) evicts page 0, the oldest of set 0 = {0, 16, 32, 48}.
 * Pass 2: set 0 = {16, 32, 48, 64} sees 0, 16, 32, 48, 64 in turn, five
 * pages cycling through four ways: each one evicts the next one coming
 * (0 evicts 16, 16 evicts 32, ..., 64 evicts 0), so all five miss; the 60
 * pages of sets 1..15 hit. Evictions: 1 + 5.
 */
Test(cache, tlb_64_entries_4_ways_65_pages)
{
	struct sa_cache tlb;
	uint64_t va0 = 0x400000000000ULL, p;
	unsigned int misses[2] = { 0, 0 };

	init_or_die(&tlb, 16, 4, SA_REPL_LRU, NULL);
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t vpn = 0; vpn < 65; vpn++) {
			uint64_t va = va0 + (vpn << 12) + 0x123, key = sa_va_key(va, 12);

			if (sa_lookup(&tlb, key, 5, &p)) {
				cr_expect_eq(sa_tlb_translate(p, va), (0x100000ULL + vpn) << 12 | 0x123);
				cr_expect_eq(sa_tlb_perms(p), SA_PERM_READ | SA_PERM_USER);
				continue;
			}
			misses[pass]++;
			cr_expect(pass == 0 || vpn % 16 == 0, "pass 2 misses only in set 0: vpn %lu",
				  (unsigned long)vpn);
			sa_insert(&tlb, key, 5,
				  sa_tlb_payload((0x100000ULL + vpn) << 12, 12,
						 SA_PERM_READ | SA_PERM_USER), NULL);
		}
		if (pass == 0) {
			cr_expect(!sa_probe(&tlb, sa_va_key(va0, 12), 5, NULL), "page 0 evicted");
			cr_expect(sa_probe(&tlb, sa_va_key(va0 + (16 << 12), 12), 5, NULL));
		}
	}
	cr_expect_eq(misses[0], 65);
	cr_expect_eq(misses[1], 5);
	cr_expect_eq(tlb.stats.hits, 60);
	cr_expect_eq(tlb.stats.evictions, 6);
	sa_release(&tlb);
}

Test(cache, va_keys_of_different_page_sizes_never_alias)
{
	uint64_t va = 0x7fffffe00000ULL;

	cr_expect_neq(sa_va_key(va, 12), sa_va_key(va, 21));
	cr_expect_neq(sa_va_key(5ULL << 12, 12), sa_va_key(5ULL << 21, 21), "same page number");
	cr_expect_eq(sa_va_key_shift(sa_va_key(va, 30)), 30);
	cr_expect_eq(sa_va_key_addr(sa_va_key(va + 0x1234, 12)), va + 0x1000);
	cr_expect_eq(sa_va_key_addr(sa_va_key(0xffffffffffffffffULL, 12)), 0xfffffffffffff000ULL);
	cr_expect_eq(sa_line_key(0x12345), 0x12345 >> 6);
	cr_expect_eq(sa_tlb_frame(sa_tlb_payload(0x40000000ULL, 21, SA_PERM_WRITE)), 0x40000000ULL);
	cr_expect_eq(sa_tlb_shift(sa_tlb_payload(0x40000000ULL, 21, SA_PERM_WRITE)), 21);
	cr_expect_eq(sa_tlb_translate(sa_tlb_payload(0x40000000ULL, 21, 0), 0x7f00001abcdeULL),
		     0x401abcdeULL);
}

Test(cache, stats_print_every_counter_in_order)
{
	struct sa_stats st = { .hits = 1, .misses = 2, .inserts = 3, .evictions = 4,
			       .dirty_evictions = 5, .invalidations = 6 };
	cJSON *j = sa_stats_to_json(&st);
	char *s;

	cr_assert_not_null(j);
	s = cJSON_PrintUnformatted(j);
	cr_expect_str_eq(s, "{\"hits\":1,\"misses\":2,\"inserts\":3,\"evictions\":4,"
			    "\"dirty_evictions\":5,\"invalidations\":6}");
	free(s);
	cJSON_Delete(j);
}

/*
 * The fill right after a missed lookup reuses the lookup's scan (cache.h's
 * miss memo); whatever happens in between must give the victims the general
 * path gives. 1 set x 4 ways, LRU, A B C D filled in order (A the least
 * recently used):
 *   lookup E misses (the set full); a lookup of A hits (A now the most
 *   recent): the fill of E evicts B, not A.
 *   lookup F misses; an insert of G (another key: a fill between) evicts
 *   C; the fill of F then evicts D, the least recent after G's fill.
 * A twin structure without the missed lookups (every fill on the general
 * path) must evict the same keys.
 */
Test(cache, fill_after_a_missed_lookup_picks_the_general_paths_victims)
{
	struct sa_cache c, twin;
	uint64_t v = 0, tv = 0;

	init_or_die(&c, 1, 4, SA_REPL_LRU, NULL);
	init_or_die(&twin, 1, 4, SA_REPL_LRU, NULL);
	for (uint64_t k = 'A'; k <= 'D'; k++) {
		cr_assert_eq(sa_insert(&c, k, 0, 0, NULL), 0);
		cr_assert_eq(sa_insert(&twin, k, 0, 0, NULL), 0);
	}
	cr_assert_not(sa_lookup(&c, 'E', 0, NULL));
	cr_assert(sa_lookup(&c, 'A', 0, NULL));
	cr_assert(sa_lookup(&twin, 'A', 0, NULL));
	cr_expect_eq(sa_insert(&c, 'E', 0, 0, &v), SA_VICTIM);
	cr_expect_eq(sa_insert(&twin, 'E', 0, 0, &tv), SA_VICTIM);
	cr_expect_eq(v, 'B');
	cr_expect_eq(tv, 'B');

	cr_assert_not(sa_lookup(&c, 'F', 0, NULL));
	cr_expect_eq(sa_insert(&c, 'G', 0, 0, &v), SA_VICTIM);
	cr_expect_eq(sa_insert(&twin, 'G', 0, 0, &tv), SA_VICTIM);
	cr_expect_eq(v, 'C');
	cr_expect_eq(tv, 'C');
	cr_expect_eq(sa_insert(&c, 'F', 0, 0, &v), SA_VICTIM);
	cr_expect_eq(sa_insert(&twin, 'F', 0, 0, &tv), SA_VICTIM);
	cr_expect_eq(v, 'D');
	cr_expect_eq(tv, 'D');
	for (const char *k = "AEGF"; *k; k++) {
		cr_expect(sa_probe(&c, (uint64_t)*k, 0, NULL), "%c present", *k);
		cr_expect(sa_probe(&twin, (uint64_t)*k, 0, NULL), "%c present in the twin", *k);
	}
	cr_expect_eq(c.stats.evictions, 3);
	cr_expect_eq(c.stats.inserts, 7);
	sa_release(&c);
	sa_release(&twin);
}

/*
 * The memo is for one (key, asid): a miss of key 9 in asid 1, then the
 * fill of key 9 in asid 2 and of key 13 in asid 1 (same set: 4 sets) are
 * other entries, filled by the general path into the free ways. Then the
 * fill of (9, 1) itself finds both taken, and takes the next free way.
 */
Test(cache, miss_memo_is_for_its_own_key_and_asid)
{
	struct sa_cache c;
	const uint32_t *t;
	uint64_t p;

	init_or_die(&c, 4, 4, SA_REPL_LRU, NULL);
	cr_assert_not(sa_lookup(&c, 9, 1, NULL));
	cr_expect_eq(sa_insert(&c, 9, 2, 92, NULL), 0);
	cr_expect_eq(sa_insert(&c, 13, 1, 131, NULL), 0);
	cr_expect_eq(sa_insert(&c, 9, 1, 91, NULL), 0);
	cr_expect(sa_lookup(&c, 9, 1, &p));
	cr_expect_eq(p, 91);
	cr_expect(sa_lookup(&c, 9, 2, &p));
	cr_expect_eq(p, 92);
	cr_expect(sa_lookup(&c, 13, 1, &p));
	cr_expect_eq(p, 131);
	/* ways 0, 1, 2 in fill order: the tag words say which entry is where */
	t = __sa_set_tags(&c, 1);
	cr_expect_eq(__sa_tag_asid(t[0]), 2);
	cr_expect_eq(__sa_key(&c, 1, 1, t[1]), 13);
	cr_expect_eq(__sa_key(&c, 1, 2, t[2]), 9);
	cr_expect_eq(__sa_tag_asid(t[2]), 1);
	cr_expect_eq(t[3], 0, "way 3 still free");
	sa_release(&c);
}

/*
 * Victim keys of both kinds, through the fast fill: short keys come back
 * from the tag word, long ones (TLB keys) from keys[]. 2 sets x 12 ways
 * (the L1D's associativity): keys 0, 2, ..., 22 fill set 0; key 24 evicts
 * key 0. A 16-set 4-way TLB: pages 0, 16, 32, 48 fill set 0, page 64
 * evicts page 0, whose whole key (PCID 3) is reported.
 */
Test(cache, fast_fill_reports_short_and_long_victim_keys)
{
	struct sa_cache c;
	uint64_t v = 0, va0 = 0x7f1234500000ULL;

	init_or_die(&c, 2, 12, SA_REPL_LRU, NULL);
	for (uint64_t k = 0; k < 24; k += 2) {
		cr_assert_not(sa_lookup(&c, k, 0, NULL));
		cr_assert_eq(sa_fill(&c, k, 0, 0, k == 0, NULL), 0);
	}
	cr_assert_not(sa_lookup(&c, 24, 0, NULL));
	cr_expect_eq(sa_fill(&c, 24, 0, 0, false, &v), SA_VICTIM | SA_VICTIM_DIRTY);
	cr_expect_eq(v, 0);
	cr_assert_not(sa_lookup(&c, 26, 0, NULL));
	cr_expect_eq(sa_fill(&c, 26, 0, 0, false, &v), SA_VICTIM, "key 2 was clean");
	cr_expect_eq(v, 2);
	sa_release(&c);

	init_or_die(&c, 16, 4, SA_REPL_LRU, NULL);
	for (uint64_t vpn = 0; vpn <= 64; vpn += 16) {
		uint64_t key = sa_va_key(va0 + (vpn << 12), 12);

		cr_assert_not(sa_lookup(&c, key, 3, NULL));
		cr_expect_eq(sa_insert(&c, key, 3, sa_tlb_payload(vpn << 12, 12, SA_PERM_READ), &v),
			     vpn == 64 ? SA_VICTIM : 0);
	}
	cr_expect_eq(v, sa_va_key(va0, 12));
	cr_expect_not(sa_probe(&c, sa_va_key(va0, 12), 3, NULL));
	sa_release(&c);
}

/*
 * Sets whose ways do not fill their tag vectors (6 and 13 ways: the scan
 * reads the policy state and the dirty word as lanes past the ways) never
 * see those lanes as free or matching: a full set of dirty lines evicts,
 * dirty, the least recently used, whatever those bytes hold.
 */
Test(cache, lanes_past_the_ways_are_never_ways)
{
	static const uint32_t ways[] = { 6, 13 };

	for (size_t i = 0; i < 2; i++) {
		uint32_t W = ways[i];
		struct sa_cache c;
		uint64_t v = UINT64_MAX;

		init_or_die(&c, 1, W, SA_REPL_LRU, NULL);
		for (uint64_t k = 0; k < W; k++) {
			cr_assert_not(sa_lookup(&c, k, 0, NULL));
			cr_assert_eq(sa_fill(&c, k, 0, 0, true, NULL), 0, "ways %u key %lu", W,
				     (unsigned long)k);
		}
		cr_expect_not(sa_lookup(&c, 0x3fff0000ULL, 0, NULL), "ways %u", W);
		cr_expect_not(sa_lookup(&c, W, 0, NULL));
		cr_expect_eq(sa_fill(&c, W, 0, 0, false, &v), SA_VICTIM | SA_VICTIM_DIRTY,
			     "ways %u", W);
		cr_expect_eq(v, 0, "ways %u", W);
		cr_expect_eq(c.stats.evictions, 1);
		sa_release(&c);
	}
}

/*
 * sa_write_back() on its fast path: a line present is only dirtied (no
 * counter, no policy update: it stays the least recently used), a line
 * absent is filled dirty. 1 set x 2 ways: A B; write back A (present): B
 * stays the more recent, so C evicts A, dirty. Write back D (absent): a
 * fill, dirty, that evicts B, clean; then E evicts C and F evicts D, dirty
 * (the write-back's fill is a use).
 */
Test(cache, write_back_dirties_or_fills)
{
	struct sa_cache c;
	uint64_t v = 0;

	init_or_die(&c, 1, 2, SA_REPL_LRU, NULL);
	sa_insert(&c, 'A', 0, 0, NULL);
	sa_insert(&c, 'B', 0, 0, NULL);
	cr_expect_eq(sa_write_back(&c, 'A', 0, &v), 0);
	cr_expect_eq(c.stats.inserts, 2, "a write-back that finds its line is not an insert");
	cr_expect_eq(sa_insert(&c, 'C', 0, 0, &v), SA_VICTIM | SA_VICTIM_DIRTY);
	cr_expect_eq(v, 'A');
	cr_expect_eq(sa_write_back(&c, 'D', 0, &v), SA_VICTIM);
	cr_expect_eq(v, 'B');
	cr_expect_eq(c.stats.inserts, 4);
	cr_expect_eq(sa_insert(&c, 'E', 0, 0, &v), SA_VICTIM);
	cr_expect_eq(v, 'C');
	cr_expect_eq(sa_insert(&c, 'F', 0, 0, &v), SA_VICTIM | SA_VICTIM_DIRTY);
	cr_expect_eq(v, 'D');
	cr_expect_eq(c.stats.hits + c.stats.misses, 0);
	sa_release(&c);
}

/* sa_access(): a store that hits dirties the line; a miss changes nothing. */
Test(cache, access_dirties_on_a_store_hit)
{
	struct sa_cache c;
	uint64_t v = 0;

	init_or_die(&c, 1, 2, SA_REPL_LRU, NULL);
	cr_expect_not(sa_access(&c, 'A', 0, true, NULL));
	sa_fill(&c, 'A', 0, 0, false, NULL);
	sa_fill(&c, 'B', 0, 0, false, NULL);
	cr_expect(sa_access(&c, 'A', 0, true, NULL));
	cr_expect(sa_access(&c, 'B', 0, false, NULL));
	cr_expect_eq(sa_fill(&c, 'C', 0, 0, false, &v), SA_VICTIM | SA_VICTIM_DIRTY);
	cr_expect_eq(v, 'A');
	cr_expect_eq(sa_fill(&c, 'D', 0, 0, false, &v), SA_VICTIM);
	cr_expect_eq(v, 'B');
	cr_expect_eq(c.stats.hits, 2);
	cr_expect_eq(c.stats.misses, 1);
	sa_release(&c);
}

/*
 * A hashed index ("index": "xor") on 64 sets x 1 way: keys 64 apart share
 * their low six bits, so a modulo index puts keys 0, 64, .., 64 * 63 in
 * set 0 and each evicts the one before, while the xor of the key's 6-bit
 * fields (k ^ k >> 6 ^ k >> 12 for key 64 i is i ^ (i >> 6) in set bits:
 * i itself below 64) gives each its own set: all 64 stay. A victim's key,
 * rebuilt from its set and tag, is the key that was inserted, short and
 * long alike, and a range invalidation finds them.
 */
Test(cache, hashed_index_spreads_keys_sharing_their_low_bits)
{
	struct sa_config cfg = { .sets = 64, .ways = 1, .latency = 1, .repl = SA_REPL_LRU };
	struct sa_cache c;
	uint64_t v = 0;

	cr_assert_eq(sa_init(&c, &cfg, "modulo", NULL), 0);
	for (uint64_t i = 0; i < 64; i++)
		sa_insert(&c, 64 * i, 0, 0, NULL);
	cr_expect_eq(sa_probe(&c, 0, 0, NULL), false, "modulo: key 0 evicted by key 64");
	cr_expect(sa_probe(&c, 64 * 63, 0, NULL));
	sa_release(&c);

	cfg.hashed = true;
	cr_assert_eq(sa_init(&c, &cfg, "xor", NULL), 0);
	for (uint64_t i = 0; i < 64; i++)
		cr_assert_eq(sa_insert(&c, 64 * i, 0, 0, NULL), 0, "key %llu evicted another",
			     (unsigned long long)(64 * i));
	for (uint64_t i = 0; i < 64; i++)
		cr_expect(sa_probe(&c, 64 * i, 0, NULL), "key %llu gone", (unsigned long long)(64 * i));
	/* key 1's set is 1 ^ 0 ^ 0 = 1, key 64's (64 ^ 1 ^ 0) & 63 = 1: its victim is 64 */
	cr_expect_eq(sa_insert(&c, 1, 0, 0, &v), SA_VICTIM);
	cr_expect_eq(v, 64);
	/*
	 * a long key (beyond the tag word's 14 bits above the set): 2^40's
	 * fields above the low six are 0 in bits 0..5 (2^34 and 2^28 are
	 * multiples of 64), so it takes set 0 and evicts key 0; then it is
	 * found, and evicted in turn, as itself
	 */
	cr_expect_eq(sa_insert(&c, 1ULL << 40, 0, 0, &v), SA_VICTIM);
	cr_expect_eq(v, 0);
	cr_expect(sa_probe(&c, 1ULL << 40, 0, NULL));
	cr_expect_eq(sa_insert(&c, 0, 0, 0, &v), SA_VICTIM);
	cr_expect_eq(v, 1ULL << 40);
	cr_expect_eq(sa_invalidate_range(&c, 64 * 2, 64 * 10, 0), 9);
	sa_release(&c);
}
