/*
 * mmu.h - the MMU model: L1 data TLBs (per page size, or one unified), the
 * L2 STLB, page-walk caches per upper level, and the page-table walker that
 * reads MimicOS's real entries at their physical addresses, natively or as
 * a 2D (nested) walk. The configuration is fixed; the model is below it.
 *
 * JSON (the "mmu" object of a simulator configuration; keys = field names):
 *
 *   "l1_unified": false,
 *   "dtlb_4k": SA, "dtlb_2m": SA, "dtlb_1g": SA,   per page size (l1_unified false)
 *   "dtlb": SA,                                    one L1 for all sizes (l1_unified true)
 *   "stlb": SA, "stlb_1g": false,                  L2 TLB: 4 KiB and 2 MiB entries (and 1 GiB)
 *   "pwc": true,
 *   "pwc_pml5": SA, "pwc_pml4": SA, "pwc_pdpt": SA, "pwc_pd": SA,
 *                                                  page-walk caches, keyed by the VA bits
 *                                                  that select an entry of that level,
 *                                                  holding the entry (the next table)
 *   "walkers": 4,                                  page walks in flight at once
 *   "nested": { "enabled": false, "host_page_size": 4096 | 2097152 | 1073741824,
 *               "host_levels": 4 | 5, "ntlb": SA,
 *               "host_frames": "scattered" | "contiguous" }
 *                                                  2D walks: every guest table access and
 *                                                  the final guest-physical address go
 *                                                  through the host's tables; ntlb caches
 *                                                  guest-physical -> host-physical frames
 *
 * SA is a set-associative structure's object (sa.h): {"sets", "ways",
 * "latency", "replacement"}. A structure with ways 0 is absent.
 */
#ifndef SIMULATOR_MMU_H
#define SIMULATOR_MMU_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "simulator/cache.h"
#include "simulator/sa.h"
#include "workload/prng.h"

/* Page-walk cache levels: the entry of that level is cached (PML5 only with 5 levels). */
enum pwc_level {
	PWC_PML5,
	PWC_PML4,
	PWC_PDPT,
	PWC_PD,
	PWC_NR
};

struct nested_config {
	bool enabled;
	uint64_t host_page_size;	/* 4 KiB, 2 MiB or 1 GiB */
	uint32_t host_levels;		/* 4 or 5 */
	bool contiguous;		/* host frames = guest frames (JSON host_frames "contiguous") */
	struct sa_config ntlb;		/* guest-physical -> host-physical, per host page */
};

struct mmu_config {
	bool l1_unified;
	struct sa_config dtlb_4k, dtlb_2m, dtlb_1g;
	struct sa_config dtlb;
	struct sa_config stlb;
	bool stlb_1g;
	bool pwc;
	struct sa_config pwc_level[PWC_NR];	/* JSON pwc_pml5 .. pwc_pd */
	uint32_t walkers;
	struct nested_config nested;
};

/*
 * The model.
 *
 * Levels are numbered as x86's enum pg_level (mimicos/pgtable.h): 1 the PT
 * (its entries map 4 KiB), 2 the PD (2 MiB), 3 the PDPT (1 GiB), 4 the PML4,
 * 5 the PML5. An entry of level l translates the virtual-address bits from
 * mmu_level_shift(l) = 12 + 9 * (l - 1) up.
 *
 * Translation (mmu_translate()), as x86 does it for a user-mode access:
 *
 *   1. The L1: every page size it holds is probed (split: dtlb_4k, dtlb_2m,
 *      dtlb_1g, each with its size's key; unified: dtlb with the three keys),
 *      in parallel as hardware does: one L1 latency (split: the largest of
 *      the present structures' latencies).
 *   2. On an L1 miss, the STLB (its latency): the 4 KiB and 2 MiB keys, and
 *      the 1 GiB key if stlb_1g. A hit fills the L1 of that size.
 *   3. On an STLB miss, a walk. The page-walk caches are probed from the
 *      deepest level up (PD, PDPT, PML4, then PML5 with 5 levels), stopping
 *      at the first hit, for one PWC latency (the largest of the present
 *      ones: they are probed in parallel); a hit at level l gives the table
 *      of level l - 1, so the entries of levels levels..l are not read.
 *      Then one 8-byte entry per level is read, level by level, its value
 *      with port->read_entry() and its time with port->access() (through
 *      the caller's cache hierarchy); the latencies add up. Every non-leaf
 *      entry read fills its level's PWC (payload: the next table's address
 *      | the permissions of the path so far, as x86's PWC entries hold the
 *      AND of the R/W and U/S bits above them); the leaf fills the L1 of
 *      the page's size and the STLB when it holds that size. A 1 GiB page
 *      without stlb_1g is cached in dtlb_1g (or the unified dtlb) only, and
 *      with neither nowhere: every access to it walks (one read, the PDPT
 *      entry, once the PML4 entry is in its PWC; leaves never enter a PWC).
 *
 * A leaf is a present entry at level 1, or a present entry with PSE at level
 * 2 or 3 (PSE at levels 4 and 5 is reserved on x86 and not checked here: it
 * is read as a table pointer, as pgtable_walk() does).
 *
 * Faults, in x86's order: an entry without P at level l -> MMU_FAULT_NOT_PRESENT
 * at l (the walk stops there); otherwise at the leaf, MMU_FAULT_PROTECTION if
 * U/S is clear at any level (every access is a user access) or the access
 * is a write and R/W is clear at any level. A TLB hit is checked the same
 * way from its payload's permission bits, so a write that hits a read-only
 * entry reports a protection fault without walking. A faulting translation
 * is never cached, and, as x86 does on every page fault (Intel SDM vol. 3A,
 * 4.10.4.1), the fault invalidates the TLB entries of the faulting address
 * (every page size, L1 and STLB) and the PWC entries that would be used to
 * translate it: MimicOS's fault path relies on that (do_wp_page's reuse
 * makes a PTE writable without a flush), so the access retried after the
 * fault walks and sees the new entry.
 *
 * A/D bits: not modelled. The walker never writes an entry; MimicOS creates
 * user PTEs with A set (and D on a write fault), and the simulator only
 * needs them for reclaim, which MimicOS does not do. The leaf's A and D
 * bits are copied into the TLB payload (SA_PERM_ACCESSED, SA_PERM_DIRTY)
 * for whoever wants to look.
 *
 * Invalidation: mmu_invalidate_range() is a shootdown of [start, end) for an
 * asid: every L1 and STLB entry overlapping the range at every page size
 * (sa_invalidate_range() of each size's keys), and every PWC entry of the
 * asid, because x86's INVLPG invalidates all paging-structure-cache entries
 * of the current PCID whatever their addresses (SDM 4.10.4.1), which is what
 * makes freeing page tables safe. mmu_flush_asid() (INVPCID single-context)
 * and mmu_flush_all() (a CR3 write without PCIDs) empty the TLBs and PWCs
 * of one or every asid; the NTLB holds host translations, which never
 * change, and is kept by all three.
 *
 * Nested paging (cfg.nested.enabled). cr3 and the guest's entries hold
 * guest-physical addresses (MimicOS's page tables, read with
 * port->read_entry() at those addresses). The host's tables are synthetic:
 * their entries are computed, never stored, and only their addresses reach
 * port->access():
 *
 *   host-physical = MMU_NESTED_GPA_OFFSET (1 TiB) + the host frame of the
 *   guest's frame (frames of host_page_size) + the offset in it, the host
 *   frame a fixed bijection of the guest's (mmu.c host_frame()): a host
 *   allocator scatters a guest's consecutive frames, and its caches are
 *   physically indexed, so lines that follow their page's index do not
 *   crowd a few sets as they would in one contiguous run; with
 *   host_frames "contiguous" (cfg.nested.contiguous), host-physical =
 *   guest-physical + MMU_NESTED_GPA_OFFSET;
 *   guest-physical addresses must be below MMU_NESTED_GPA_LIMIT (1 TiB,
 *   checked: aborts);
 *   the host table of level L (1..host_levels) covering guest-physical g
 *   lies at MMU_NESTED_TABLES + (L - 1) * 4 GiB + (g >> (12 + 9 * L)) * 4096
 *   (level 1 needs 2^19 tables for 1 TiB, 2 GiB; the root is one table),
 *   and its entry for g at that table + ((g >> (12 + 9 * (L - 1))) & 511) * 8;
 *   the host leaf is at level 1, 2 or 3 for host_page_size 4 KiB, 2 MiB or
 *   1 GiB: h = host_levels - leaf + 1 host references per host walk.
 *
 * Every guest entry read and the final guest-physical address are
 * translated to host-physical: by the NTLB (key sa_va_key(gpa, host page
 * shift), asid 0, its latency per lookup) or, on a miss, by a host walk of h
 * references through port->access(), which fills the NTLB. With nothing
 * cached and every guest table and the data in different host pages, a walk
 * of g guest levels costs (g + 1) * h + g references (24 for 4/4 with 4 KiB
 * host pages). The PWCs cache guest entries, as in hardware: their payload
 * is the guest-physical address of the next guest table, so a PWC hit skips
 * the skipped levels' guest reads and their host translations alike (only
 * the tables actually read are translated). The TLBs cache guest-virtual ->
 * host-physical for the smaller of the guest and the host page (a 2 MiB
 * guest page over 4 KiB host pages is cached as the 4 KiB page accessed),
 * with the guest leaf's permissions (the host's are all granted).
 *
 * Timing: mmu_result.cycles is the L1 latency, plus the STLB's on an L1 miss,
 * plus the walk's: the PWC latency, the latencies port->access() returned,
 * and the NTLB latency of every NTLB lookup. Walks are serial: 'walkers'
 * (concurrent walks) is the caller's to model (the core's memory-level
 * parallelism); the MMU neither reads nor checks it.
 *
 * cr3's low 12 bits (a PCID) are ignored: asid tags the entries. 'levels'
 * must be the page table's (MimicOS chooses it per mm at pgd_alloc()).
 *
 * Performance (a 2-core AMD EPYC VM, -O2, the fast path alone with a free
 * port): an L1 hit costs about 8 ns (one inline sa_lookup(), about 4 ns
 * alone, plus the call, the result and the counters); a translation of a
 * random page that misses both TLBs and walks one or two entries costs
 * 55-90 ns (three L1 and two STLB probes, the PWC probes, the reads, and
 * the fills of the L1, the STLB and the PWCs, whose LRU victim searches
 * dominate); a nested one 100-160 ns.
 */

/* The page sizes TLBs hold. */
enum mmu_page_size {
	MMU_4K,
	MMU_2M,
	MMU_1G,
	MMU_PS_NR
};

/* Where a translation was found. */
enum mmu_where {
	MMU_HIT_L1,
	MMU_HIT_STLB,
	MMU_WALK
};

/* Faults (mmu_result.fault). */
enum mmu_fault {
	MMU_FAULT_NONE,
	MMU_FAULT_NOT_PRESENT,	/* an entry without P at fault_level */
	MMU_FAULT_PROTECTION,	/* no U/S on the path, or a write and no R/W */
	MMU_FAULT_NR
};

/* Page-table levels: index 1..5 of the per-level arrays (0 unused). */
#define MMU_LEVELS_MAX	5

#define MMU_NESTED_GPA_OFFSET	(1ULL << 40)
#define MMU_NESTED_GPA_LIMIT	(1ULL << 40)
#define MMU_NESTED_TABLES	(2ULL << 40)
#define MMU_NESTED_LEVEL_SPAN	(4ULL << 30)

static inline unsigned int mmu_level_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

/*
 * How the MMU reaches memory; the caller (the simulator, which owns the
 * caches, DRAM and MimicOS's physical memory) supplies it.
 *   read_entry	the 8-byte value at physical address paddr (a guest entry
 *		in nested mode, at its guest-physical address): MimicOS's
 *		phys_read64(). Required.
 *   access	the latency, in cycles, of an 8-byte access to paddr through
 *		the cache hierarchy (host-physical in nested mode, host table
 *		entries included). NULL: every access costs 0.
 */
struct mmu_port {
	uint64_t (*read_entry)(void *ctx, uint64_t paddr);
	uint32_t (*access)(void *ctx, uint64_t paddr, bool write);
	/*
	 * Optional, a host-speed hint with no effect on results: the walk has
	 * just found the (native) leaf, so the caller may start loading what
	 * it will need for the data access to 'paddr' (its cache sets) while
	 * the walk's last entry goes through the caches (until the caller
	 * gives data hints of its own: mmu_prefetch()). mmu_prefetch() calls
	 * it with its hints too.
	 */
	void (*prefetch)(void *ctx, uint64_t paddr);
	/* Optional, a hint too: start loading the host copy of the entry at paddr. */
	void (*prefetch_entry)(void *ctx, uint64_t paddr);
	void *ctx;
};

/*
 * One translation's outcome. reads[l] counts the guest (or native) entries
 * of level l read by this translation's walk, host_reads[l] the host
 * entries of level l (nested); refs is their total. All zero unless where
 * is MMU_WALK.
 */
struct mmu_result {
	uint64_t paddr;		/* (host-)physical address of va; 0 on a fault */
	uint64_t page_size;	/* of the TLB entry: 4 KiB, 2 MiB or 1 GiB */
	uint32_t cycles;
	uint8_t where;		/* enum mmu_where */
	uint8_t fault;		/* enum mmu_fault */
	uint8_t fault_level;	/* NOT_PRESENT: the level (1..5) of the entry */
	uint8_t perms;		/* SA_PERM_* of the translation (none on a fault) */
	uint8_t reads[MMU_LEVELS_MAX + 1];
	uint8_t host_reads[MMU_LEVELS_MAX + 1];
	uint16_t refs;
};

/*
 * The counters, in print order (stats.c's mmu_stats_to_json() is generated
 * from this list). X(name): one counter; A(name, n, names): an array of n
 * counters printed as an object keyed by names[i].
 *   translations		mmu_translate() calls
 *   l1_hits[size], l1_misses	the L1 (per page size of the entry hit)
 *   stlb_hits[size], stlb_misses
 *   walks, walk_cycles		walks started, and their cycles (PWC, entry
 *				reads, NTLB and host walks)
 *   walks_found[size]		the walks that found a page, by its size (a
 *				walk that faults on a missing entry finds none)
 *   store_translations, store_stlb_hits, store_walks, store_walks_found[size],
 *   store_walk_cycles		the same counts of the stores alone (the
 *				loads' are the rest): the hardware counts loads
 *				and stores apart (workload/tlbev.h)
 *   pwc_hits[level], pwc_misses[level]	per PWC probed (enum pwc_level)
 *   guest_refs[level]		entries read per level, "pt" .. "pml5" (native
 *				walks count here too)
 *   host_refs[level]		host entries read per level (nested)
 *   ntlb_hits, ntlb_misses	nested: gPA -> hPA lookups (a miss is a host walk)
 *   faults_not_present, faults_protection
 *   kernel_translations, kernel_l1_hits, kernel_stlb_hits, kernel_walks
 *				the kernel's direct-map translations (mmu_kernel_translate())
 *   shootdowns, shootdown_entries	mmu_invalidate_range() calls and the
 *				TLB and PWC entries they removed
 *   flushes			mmu_flush_asid() and mmu_flush_all() calls
 */
#define MMU_STATS_LIST(X, A)						\
	X(translations)							\
	A(l1_hits, MMU_PS_NR, mmu_page_size_names)			\
	X(l1_misses)							\
	A(stlb_hits, MMU_PS_NR, mmu_page_size_names)			\
	X(stlb_misses)							\
	X(walks)							\
	X(walk_cycles)							\
	A(walks_found, MMU_PS_NR, mmu_page_size_names)			\
	X(store_translations)						\
	X(store_stlb_hits)						\
	X(store_walks)							\
	A(store_walks_found, MMU_PS_NR, mmu_page_size_names)		\
	X(store_walk_cycles)						\
	A(pwc_hits, PWC_NR, mmu_pwc_level_names)			\
	A(pwc_misses, PWC_NR, mmu_pwc_level_names)			\
	A(guest_refs, MMU_LEVELS_MAX, mmu_level_names)			\
	A(host_refs, MMU_LEVELS_MAX, mmu_level_names)			\
	X(ntlb_hits)							\
	X(ntlb_misses)							\
	X(faults_not_present)						\
	X(faults_protection)						\
	X(kernel_translations)						\
	X(kernel_l1_hits)						\
	X(kernel_stlb_hits)						\
	X(kernel_walks)							\
	X(shootdowns)							\
	X(shootdown_entries)						\
	X(flushes)

/* "4k", "2m", "1g"; "pml5", "pml4", "pdpt", "pd"; "pt", "pd", "pdpt", "pml4", "pml5". */
extern const char *const mmu_page_size_names[MMU_PS_NR];
extern const char *const mmu_pwc_level_names[PWC_NR];
extern const char *const mmu_level_names[MMU_LEVELS_MAX];

/* Arrays indexed by enum mmu_page_size, enum pwc_level, level - 1. */
struct mmu_stats {
#define MMU_STATS_FIELD(name) uint64_t name;
#define MMU_STATS_ARRAY(name, n, names) uint64_t name[n];
	MMU_STATS_LIST(MMU_STATS_FIELD, MMU_STATS_ARRAY)
#undef MMU_STATS_FIELD
#undef MMU_STATS_ARRAY
};

/* mmu_prefetch()'s table cache (struct mmu's hint): slots, where the generation starts in a key. */
#define MMU_HINT_SLOTS		1024
#define MMU_HINT_GEN_SHIFT	40	/* va >> 21 has at most 36 bits (57-bit addresses) */

struct mmu {
	struct mmu_config cfg;
	unsigned int levels;		/* guest (native) levels, 4 or 5 */
	struct mmu_port port;
	/* The structures (ways 0 in the configuration: absent, never initialized). */
	struct sa_cache dtlb[MMU_PS_NR];	/* split L1 */
	struct sa_cache dtlb_unified;
	struct sa_cache stlb;
	struct sa_cache pwc[PWC_NR];
	struct sa_cache ntlb;
	/* Per page size: the L1 holding it (the unified one three times), the STLB if it holds it. */
	struct sa_cache *l1[MMU_PS_NR];
	struct sa_cache *l2[MMU_PS_NR];
	struct sa_cache *pwc_at[MMU_LEVELS_MAX + 1];	/* by level; NULL: none */
	struct sa_cache *ntlbp;
	uint32_t l1_latency, stlb_latency, pwc_latency;
	/* nested */
	unsigned int host_levels, host_leaf, host_shift;
	/*
	 * The last L1 hit, to skip its lookup when the next translation is of
	 * the same page: that entry is still present and most recently used in
	 * its set (only an insert, which clears this, or an invalidation, which
	 * does too, can change that), so a repeated lookup would change nothing
	 * but the counters, which the fast path bumps the same way. A pure
	 * speed-up: results are the same with or without it.
	 */
	struct {
		bool valid;
		uint16_t asid;
		uint8_t ps;
		uint64_t key;
		uint64_t payload;
	} last;
	/*
	 * Bit ps: an entry of that page size was inserted into an L1 TLB or
	 * the STLB for an address space other than the kernel's since the
	 * last full flush. Without it a lookup of that size for such an
	 * address space must miss, so it is only counted (the same counters),
	 * not made: a workload without huge pages pays one lookup per level,
	 * not three. A pure speed-up, like 'last'.
	 */
	uint8_t user_sizes;
	/*
	 * mmu_prefetch()'s memory of MimicOS's tables, so that a hint need not
	 * walk from the root: per 2 MiB of virtual address (direct-mapped by
	 * va >> 21), the deepest table its last walk from the root reached
	 * (the PT, or the table holding a 2 MiB or 1 GiB leaf) | that level.
	 * 'key' is (va >> 21) | hint_gen << MMU_HINT_GEN_SHIFT: bumping
	 * hint_gen (every invalidation, flush and change of cr3, which is
	 * what precedes the freeing of a table) forgets every slot at once.
	 * A slot may still be stale (a table changed without a shootdown):
	 * the hint then reads a wrong entry, which is harmless, as hints
	 * change nothing but the host's caches. Never used by translations.
	 */
	struct mmu_hint {
		uint64_t key;
		uint64_t table;		/* table address | level (1..3) */
	} hint[MMU_HINT_SLOTS];
	uint64_t hint_gen;		/* >= 1: an all-zero slot never matches */
	uint64_t hint_cr3;
	/*
	 * The caller gives data hints (mmu_prefetch() with to_data): the
	 * walk's own port->prefetch of the data, which would repeat the one
	 * given a few accesses before, is left out.
	 */
	bool data_hints;
	struct mmu_stats stats;
};

/*
 * Build the MMU of 'cfg' for a 'levels'-level (4 or 5) page table. Structures
 * with ways 0 are absent, any of them (no L1 at all: every access goes to the
 * STLB; pwc false: no PWC, whatever pwc_level says; pwc_pml5 is not built
 * for 4 levels; the NTLB only when nested).
 * port->read_entry is required; 'rng' serves the RANDOM replacement policy
 * (NULL if none uses it) and must outlive the MMU. 0, or -EINVAL (a
 * structure's configuration, levels, host_levels or host_page_size, no L1,
 * no read_entry) or -ENOMEM; on error nothing needs releasing.
 */
int mmu_init(struct mmu *m, const struct mmu_config *cfg, unsigned int levels,
	     const struct mmu_port *port, struct wl_rng *rng);
void mmu_release(struct mmu *m);

/*
 * Translate user-mode access to 'va' (a write if 'write') of address space
 * 'asid' whose page table is at 'cr3'. Fills *r; returns 0, or -EFAULT when
 * r->fault says why it cannot be translated.
 */
static inline int mmu_translate(struct mmu *m, uint64_t cr3, uint16_t asid, uint64_t va,
				bool write, struct mmu_result *r);

/* mmu_translate() without its inline fast path (mmu.c): the general case. */
int __mmu_translate(struct mmu *m, uint64_t cr3, uint16_t asid, uint64_t va,
		    bool write, struct mmu_result *r);

/*
 * The fast path, inline in the caller: another access to the 4 KiB page of
 * the last L1 hit (struct mmu's last), with the permissions it needs. That
 * is exactly what __mmu_translate()'s own check of 'last' would do for it:
 * the 4 KiB L1 is probed first, so it is the only structure counted (a
 * hit), and the result is the entry's. A 4 KiB key (sa_va_key(va, 12))
 * equals last.key only when the last hit was a 4 KiB entry; anything else
 * (other sizes, a fault to report) takes the general path.
 */
static inline int mmu_translate(struct mmu *m, uint64_t cr3, uint16_t asid, uint64_t va,
				bool write, struct mmu_result *r)
{
	unsigned int need = SA_PERM_USER | (write ? SA_PERM_WRITE : 0);

	if (__builtin_expect(m->last.valid && m->last.key == sa_va_key(va, 12) &&
			     m->last.asid == asid && (m->last.payload & need) == need, 1)) {
		m->stats.translations++;
		m->stats.store_translations += write;
		m->l1[MMU_4K]->stats.hits++;
		m->stats.l1_hits[MMU_4K]++;
		memset(r, 0, sizeof(*r));
		r->paddr = sa_tlb_translate(m->last.payload, va);
		r->page_size = 1ULL << 12;
		r->cycles = m->l1_latency;
		r->where = MMU_HIT_L1;
		r->perms = (uint8_t)sa_tlb_perms(m->last.payload);
		return 0;
	}
	return __mmu_translate(m, cr3, asid, va, write, r);
}

/*
 * Host-speed hints for a translation of va coming soon (the driver looks
 * ahead in the workload's stream), with no effect on any result or counter:
 * they read MimicOS's entries (not through the simulated caches) and start
 * loading host memory the translation and its data access will touch.
 *   to_data false	the leaf entry's host copy and the cache sets of its
 *			line (for a translation a few accesses away)
 *   to_data true	the data line's cache sets, from the leaf (nearer)
 * Native walks with port->prefetch only; nothing for a nested MMU. A hint
 * starts from the table struct mmu's hint cache remembers for va's 2 MiB
 * (one read for a PTE), else walks from cr3; every shootdown and flush
 * forgets those tables. Once a caller has given a to_data hint, walks no
 * longer hint the data themselves (port->prefetch at the leaf): the
 * caller's hints already did, accesses before.
 */
void __mmu_prefetch(struct mmu *m, uint64_t cr3, uint64_t va, bool to_data);

/* What the inline hint needs of an x86 entry (mimicos/pgtable.h's, checked in mmu.c). */
#define MMU_PTE_PRESENT	0x1ULL
#define MMU_PTE_FRAME	0x000ffffffffff000ULL

/*
 * mmu_prefetch(), the common case inline in the caller: va's PT is in the
 * hint cache (a slot only matches once __mmu_prefetch() filled it, which it
 * does only for a native MMU with port->prefetch), so the hint is the PTE's
 * (far) or, from the PTE, the data's (near), exactly as the general path
 * gives it from there.
 */
static inline void mmu_prefetch(struct mmu *m, uint64_t cr3, uint64_t va, bool to_data)
{
	const struct mmu_hint *h = &m->hint[(va >> 21) & (MMU_HINT_SLOTS - 1)];
	uint64_t ea, e;

	if (h->key != ((va >> 21) | m->hint_gen << MMU_HINT_GEN_SHIFT) || cr3 != m->hint_cr3 ||
	    (h->table & ~MMU_PTE_FRAME) != 1) {
		__mmu_prefetch(m, cr3, va, to_data);
		return;
	}
	ea = (h->table & MMU_PTE_FRAME) + ((va >> 12) & 511) * 8;
	if (!to_data) {
		if (m->port.prefetch_entry)
			m->port.prefetch_entry(m->port.ctx, ea);
		m->port.prefetch(m->port.ctx, ea);
		return;
	}
	m->data_hints = true;
	e = m->port.read_entry(m->port.ctx, ea);
	if (e & MMU_PTE_PRESENT)
		m->port.prefetch(m->port.ctx, (e & MMU_PTE_FRAME) | (va & 0xfff));
}

/*
 * The kernel reaching physical address 'paddr' through its direct map
 * (PAGE_OFFSET + paddr), as the fault handler's accesses do: the cycles of
 * the translation. Modelled with 2 MiB pages of address space MMU_KERNEL_ASID
 * (global pages: no user shootdown removes them), in the L1 2 MiB TLB (the
 * unified one) and the STLB, so the kernel's translations take entries the
 * workload's would use: its TLB pollution. A miss in both walks only the
 * direct map's PD entry (its upper levels stay in the page-walk caches: one
 * PWC latency), an 8-byte read at MMU_KERNEL_PD + (paddr >> 21) * 8 through
 * port->access. x86 may map the direct map with 1 GiB pages; 2 MiB is what
 * every configuration's TLBs hold (a documented simplification).
 */
#define MMU_KERNEL_ASID		0
#define MMU_DIRECT_MAP		0xffff888000000000ULL	/* x86-64 PAGE_OFFSET, 4-level, no KASLR */
#define MMU_KERNEL_PD		(3ULL << 40)		/* where the direct map's PD tables are taken to be */
uint32_t mmu_kernel_translate(struct mmu *m, uint64_t paddr);

/* Shootdown of [start, end) for 'asid' (see above); start < end. */
void mmu_invalidate_range(struct mmu *m, uint16_t asid, uint64_t start, uint64_t end);
void mmu_flush_asid(struct mmu *m, uint16_t asid);
void mmu_flush_all(struct mmu *m);

#endif
