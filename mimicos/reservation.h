/*
 * reservation.h - reservation-based THP promotion, a THP policy beside
 * Linux's (struct thp_policy_ops, internal.h), chosen by configuration.
 *
 * The scheme of FreeBSD's superpage reservations (Navarro, Iyer, Druschel
 * and Cox, OSDI'02) as the reference system's ReservationTHPAllocator uses
 * it (docs/reference-system.md): the first write into an eligible
 * 2 MiB range reserves an aligned order-9 block; each 4 KiB write fault then
 * maps the page at the same offset of the block with a PTE, and once the
 * populated pages reach the threshold the range is promoted in place to a
 * PMD-mapped THP. Linux instead allocates the THP at the first fault
 * (do_huge_pmd_anonymous_page) or collapses later (khugepaged, by copying).
 *
 * A range is managed by the policy when Linux's own policy would allow a
 * PMD THP there (thp_vma_allowable_order(TVA_PAGEFAULT, PMD_ORDER): so
 * thp=never, madvise mode without MADV_HUGEPAGE, VM_NOHUGEPAGE and the prctl
 * bits are all respected), the aligned 2 MiB lies inside the VMA, and the
 * range's PMD is none at its first fault (nothing mapped there yet). In a
 * managed range:
 *
 *   write to a none PTE, or to a PTE mapping the 4 KiB zero page:
 *     the block is reserved on the range's first such write
 *     (__alloc_pages(order 9) with vma_thp_gfp_mask(), as a fault-time THP;
 *     split_page() makes its pages order-0 blocks so each can be freed on
 *     its own); no block -> the range is left to Linux (fallbacks++) and the
 *     fault returns VM_FAULT_FALLBACK with the PMD untouched, so Linux's
 *     path runs exactly as it would without the policy.
 *     Below the threshold: the subpage (block pfn + pte_index) is cleared,
 *     recorded as an order-0 anonymous folio (refcount 1, mapcount 1) and
 *     mapped writable and dirty by a PTE; RSS += 1. A zero-page PTE is
 *     cleared first and the fault result asks for its TLB entry to go
 *     (fault_result.tlb_flush, as wp_page_copy() does).
 *     Reaching the threshold (this fault's page included): promotion, as
 *     collapse_huge_page() does it but without a copy: the subpages never
 *     populated are cleared (folio_zero_range(), aligned power-of-two runs),
 *     the PMD is cleared and the 2 MiB flushed through flush_tlb_range()
 *     (pmdp_collapse_flush(): the shootdown the reference system omits),
 *     every present PTE of the table is cleared, the order-0 folio records
 *     become one order-9 folio (refcount 1, mapcount 1), the PTE table is
 *     deposited and a huge PMD (writable if the VMA is, dirty) installed;
 *     RSS becomes 512. The fault result reports the 2 MiB (page_size
 *     PMD_SIZE, order 9, tlb_flush). The range is then an ordinary THP that
 *     Linux's paths zap, split and protect; the reservation is gone.
 *   read of a none PTE: Linux's do_anonymous_page(): the 4 KiB zero page
 *     (populate_on_read false, the default), never the huge zero folio, and
 *     no block is reserved; with populate_on_read the subpage is populated
 *     as for a write but mapped read-only and clean (a later write reuses
 *     it through do_wp_page()), as FreeBSD maps a real page on a read.
 *   mTHP orders are never used in a managed range (Linux's alloc_anon_folio()
 *     only runs in ranges the policy leaves to it).
 *   anything else (a present PTE: access bits, reuse of an exclusive page;
 *     a huge PMD after promotion): VM_FAULT_FALLBACK to Linux's path, which
 *     never meets a none PMD in a managed range (the policy allocates the
 *     PTE table first), so Linux's fault-time THP never fires there.
 *
 * Breaking a reservation (FreeBSD's vm_reserv_break()): its pages never
 * populated go back to the zone (__free_pages() of each at order 0, or the
 * whole block at order 9 when none was populated; pages_returned), its
 * populated pages stay mapped as the order-0 folios they are, and the range
 * is left to Linux's path (its PMD holds a PTE table, so Linux behaves as
 * after a THP split). A reservation is broken:
 *   - by the unmap hook, before munmap, MADV_DONTNEED or exit zaps any part
 *     of its 2 MiB (the zap then frees the populated pages in the range);
 *   - at a fault in its range once the range is no longer eligible
 *     (MADV_NOHUGEPAGE, a VMA split, thp settings) or is PMD-mapped by
 *     someone else (khugepaged);
 *   - by release_mm (the mm's memory goes) and release (the instance goes).
 *
 * Statistics are a plain counter struct (RESERVATION_COUNTERS), turned into
 * JSON in one place (reservation_stats_to_json()).
 *
 * Where it knowingly differs from the reference: promotion once the
 * populated count *reaches* ceil(threshold * 512) (the reference promotes
 * when the fraction *exceeds* the threshold: 257 pages at 0.5, 256 here);
 * memory is freed (the reference's deallocate is an empty TODO); promotion
 * flushes the TLB; page tables come from the zone like Linux's. Differences
 * from FreeBSD: no reservation reclaim under memory pressure (FreeBSD breaks
 * the least recently populated reservation, the reference the least used
 * one; here a failed order-0 or order-9 allocation just fails), no
 * demotion of promoted pages other than Linux's splits, anonymous memory
 * only, no khugepaged registration of managed VMAs.
 */
#ifndef MIMICOS_RESERVATION_H
#define MIMICOS_RESERVATION_H

#include <stdbool.h>
#include <stdint.h>

#include "mimicos/memory.h"
#include "mimicos/mimicos.h"
#include "workload/error.h"

struct cJSON;

/*
 * The policy's configuration: JSON keys equal the field names.
 *
 * promote_threshold: fraction of the 512 pages of a range that must be
 * populated to promote it, in (0, 1]; promotion at the fault that brings
 * the count to ceil(promote_threshold * 512). Default 0.5: the reference
 * system reads the fraction from its configuration with no fixed default
 * (its utopia example uses 75%); FreeBSD promotes only fully populated
 * reservations (1.0); Linux's khugepaged collapses a range with a single
 * populated page (max_ptes_none 511). 0.5 is the midpoint the research
 * literature sweeps around and bounds the memory bloat of a promotion to
 * 2x the populated memory.
 *
 * populate_on_read: false (default): read faults map the 4 KiB zero page as
 * Linux does and reserve nothing; true: a read populates its page from the
 * reservation (read-only), as FreeBSD does.
 */
struct reservation_config {
	double promote_threshold;
	bool populate_on_read;
};

/* The defaults above. */
void reservation_config_init(struct reservation_config *cfg);

/*
 * Read 'obj' (the policy's parameter object, found at JSON path 'path' of
 * 'file'; NULL: keep cfg as it is) into cfg, which holds defaults first.
 * Unknown or duplicate keys and values out of range fail with err naming
 * the file and the key. 0 or -EINVAL (err filled).
 */
int reservation_config_parse(struct reservation_config *cfg, const struct cJSON *obj,
			     const char *file, const char *path, struct wl_error *err);

/* The effective configuration, for echoing into results (cJSON_Delete it). */
struct cJSON *reservation_config_to_json(const struct reservation_config *cfg);

#define RESERVATION_COUNTERS(X)						\
	X(reservations)	  /* order-9 blocks reserved */				\
	X(fallbacks)	  /* first writes with no order-9 block: left to Linux */ \
	X(populated)	  /* 4 KiB pages mapped from a reservation by a PTE */	\
	X(promotions)	  /* reservations promoted to a PMD-mapped THP */	\
	X(broken)	  /* reservations given up before promotion */		\
	X(pages_returned) /* reserved pages never mapped, given back to the zone */

struct reservation_stats {
#define X(name) uint64_t name;
	RESERVATION_COUNTERS(X)
#undef X
};

/* The names of struct reservation_stats' fields, in order; NULL-ended. */
extern const char *const reservation_counter_names[];

/* {"reservations": n, ..., "pages_returned": n} in list order (cJSON_Delete it); NULL: no memory. */
struct cJSON *reservation_stats_to_json(const struct reservation_stats *st);

/*
 * Install the policy on 'os' (os->policy, os->policy_data) with a copy of
 * cfg. Install before the first fault of any mm. 0, -EINVAL (threshold
 * outside (0, 1]), -EBUSY (a policy is installed already) or -ENOMEM.
 * mimicos_release() removes it (the release hook).
 */
int reservation_policy_install(struct mimicos *os, const struct reservation_config *cfg);

/* The installed reservation policy's counters, or NULL when it is not installed. */
const struct reservation_stats *reservation_policy_stats(const struct mimicos *os);

/* Reserved pages not yet mapped, over every reservation held (tests, reports). */
unsigned long reservation_pages_held(const struct mimicos *os);

/*
 * Choose the THP policy by name, as a configuration file gives it:
 *   "linux"        Linux's own fault-time THP alone (os->policy stays NULL);
 *                  'params' must be absent or an empty object
 *   "reservation"  reservation_policy_install() with 'params' read by
 *                  reservation_config_parse() over the defaults
 * 'path' is the JSON path of 'params' in 'file' (for the error). 0, or
 * -EINVAL with err naming the file and the key (unknown name or
 * parameter), -EBUSY (another policy is installed; "linux" too then) or
 * -ENOMEM (err filled too).
 */
int mimicos_policy_install(struct mimicos *os, const char *name, const struct cJSON *params,
			   const char *file, const char *path, struct wl_error *err);

#endif
