/*
 * mmu.h - the MMU model: L1 data TLBs (per page size, or one unified), the
 * L2 STLB, page-walk caches per upper level, and the page-table walker that
 * reads MimicOS's real entries at their physical addresses, natively or as
 * a 2D (nested) walk. (The structure and functions are being written; the
 * configuration below is fixed.)
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
 *               "host_levels": 4 | 5, "ntlb": SA }
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

#include "simulator/sa.h"

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

#endif
