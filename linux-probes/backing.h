/*
 * backing.h - what backs each 4KiB page of a range of a live process.
 *
 * Classifies every 4KiB page of [start, start + len) of process 'pid' (any
 * process we may ptrace-read, getpid() included) into the four classes of
 * the results' "pages" block (docs/results-format.md, as README.md cites it):
 *
 *	none	not present (never touched, zapped, swapped out, unmapped)
 *	zero	mapped to the 4KiB zero page or to the huge zero page
 *	pte	mapped by a PTE to a real page, whatever the folio size: order 0,
 *		mTHP, and a THP that is PTE-mapped (after a split of its PMD)
 *	pmd	part of a PMD-mapped 2MiB page (the huge zero page is "zero")
 *
 * Two methods, chosen at backing_open():
 *
 * BACKING_PAGEMAP_SCAN: the PAGEMAP_SCAN ioctl on /proc/PID/pagemap (Linux
 * 6.7+). No root needed. One walk reports present ranges with their
 * categories; from fs/proc/task_mmu.c (6.18):
 *
 *   - pagemap_page_category() (one PTE) never sets PAGE_IS_HUGE, whatever the
 *     folio behind the PTE: order 0, mTHP and PTE-mapped THP are all plain
 *     PAGE_IS_PRESENT. PAGE_IS_PFNZERO is is_zero_pfn() (the 4KiB zero page).
 *   - pagemap_thp_category() (a leaf PMD, reached through
 *     pagemap_scan_thp_entry() only when pmd_trans_huge_lock() succeeds) sets
 *     PAGE_IS_HUGE always, PAGE_IS_PRESENT if the PMD is present, and
 *     PAGE_IS_PFNZERO if is_huge_zero_pmd(). So a PMD-mapped THP is
 *     PRESENT|HUGE and the huge zero page PRESENT|HUGE|PFNZERO.
 *     Kernels before David Hildenbrand's fix "fs/proc/task_mmu: fix
 *     PAGE_IS_PFNZERO detection for the huge zero folio" (June 2025, marked
 *     for stable) tested is_zero_pfn() here, never true for the huge zero
 *     folio: there the huge zero page reads as PRESENT|HUGE and this method
 *     calls it "pmd". 6.18 has the fix (checked: a read fault in a
 *     MADV_HUGEPAGE range reports 0x68 = PRESENT|PFNZERO|HUGE).
 *   - pagemap_hugetlb_category() sets PAGE_IS_HUGE for hugetlb pages of any
 *     size; they count as "pmd" (hugetlb is outside results.md's anonymous
 *     regions; both methods agree on it).
 *   - A THP range cut by [start, end) is reported HUGE for the part inside.
 *
 * Hence: PFNZERO -> zero; else HUGE -> pmd; else PRESENT -> pte; pages the
 * scan does not return -> none. The ioctl stops early when the vector is
 * full and says where in walk_end; backing_classify() loops from walk_end
 * with a vector of BACKING_SCAN_VEC entries.
 *
 * BACKING_KPAGEFLAGS: the fallback and the independent check of the first.
 * Needs root: the PFNs in /proc/PID/pagemap (bit 63 present, bits 0-54 PFN,
 * zero without CAP_SYS_ADMIN) and /proc/kpageflags (root only). Per page:
 *
 *   - not present -> none;
 *   - KPF_ZERO_PAGE (24) -> zero (set for the 4KiB zero page and for every
 *     page of the huge zero folio, which also has KPF_THP);
 *   - KPF_HUGE (17, hugetlb) -> pmd;
 *   - pmd if its 2MiB-aligned virtual block is all present, its 512 PFNs are
 *     contiguous from a 512-aligned PFN whose page has KPF_THP (22) and
 *     KPF_COMPOUND_HEAD (15), the other 511 have KPF_COMPOUND_TAIL (16) and
 *     the page after them does not (the folio is exactly order 9);
 *   - else pte.
 * The block is read whole even where [start, end) cuts it, so a page's class
 * does not depend on where the range begins (as with PAGEMAP_SCAN).
 *
 * The pmd rule is an inference. pagemap has no "mapped by a PMD" bit, and an
 * intact order-9 folio mapped by 512 PTEs of one block looks exactly like a
 * PMD-mapped one: same PFNs, same folio flags. That happens after a PMD split
 * that leaves every page mapped (mprotect of part of a THP, or a VMA split
 * inside it) until the deferred split or khugepaged changes things: there
 * PAGEMAP_SCAN says pte and this method says pmd (a test pins this down).
 * A split PMD does leave PG_dirty (KPF_DIRTY) on the folio, but so do other
 * paths (reclaim, swap); it is not used as a hint.
 *
 * Both methods read a moving target if the process runs: classify a process
 * that is stopped or waiting. Neither changes the process or the system.
 *
 * Usage:
 *
 *	struct backing_reader r;
 *	uint64_t counts[PAGE_CLASS_NR];
 *
 *	if (backing_open(&r, pid, BACKING_AUTO, &err) < 0 ||
 *	    backing_classify(&r, start, len, NULL, counts, &err) < 0)
 *		wl_error_print(&err, stderr);
 *	backing_close(&r);
 *
 * Errors: functions return 0 or -errno and fill 'err' (may be NULL) with one
 * line naming the /proc file and what failed. A process that is gone gives
 * -ENOENT at backing_open() (no /proc/PID) and -ESRCH at backing_classify()
 * (its address space was torn down after the open; a zombie counts as gone).
 * The library prints nothing.
 */
#ifndef LINUX_PROBES_BACKING_H
#define LINUX_PROBES_BACKING_H

#include <stdint.h>
#include <sys/types.h>

#include "workload/error.h"
#include "workload/side.h"	/* enum page_class */

#define BACKING_PAGE_SIZE PAGE_CLASS_SIZE
#define BACKING_SCAN_VEC 128	/* page_region entries per PAGEMAP_SCAN call */

enum backing_method {
	BACKING_AUTO,		/* PAGEMAP_SCAN if the ioctl works, else KPAGEFLAGS */
	BACKING_PAGEMAP_SCAN,
	BACKING_KPAGEFLAGS,
};

/* "auto", "pagemap_scan", "kpageflags"; "?" if out of range. */
const char *backing_method_name(enum backing_method m);

struct backing_reader {
	pid_t pid;
	enum backing_method method;	/* as resolved: never BACKING_AUTO once open */
	int pagemap_fd;			/* /proc/PID/pagemap, or -1 */
	int kpageflags_fd;		/* /proc/kpageflags (BACKING_KPAGEFLAGS), or -1 */
	char pagemap_path[32];		/* "/proc/PID/pagemap", for errors */
};

/*
 * Open the reader for 'pid' with method 'm'. BACKING_AUTO probes the
 * PAGEMAP_SCAN ioctl (an empty scan) and falls back to BACKING_KPAGEFLAGS if
 * the kernel answers ENOTTY or EINVAL. BACKING_PAGEMAP_SCAN fails with that
 * errno (-ENOTTY, -EINVAL) where the ioctl is missing; BACKING_KPAGEFLAGS
 * fails with -EACCES without root. On failure 'r' is left closed (fds -1), so
 * backing_close() is always safe.
 */
int backing_open(struct backing_reader *r, pid_t pid, enum backing_method m,
		 struct wl_error *err);

/*
 * Classify the pages of [start, start + len); start and len must be
 * multiples of 4KiB (-EINVAL otherwise). 'classes', if not NULL, receives one
 * enum page_class per page (len / 4KiB bytes); 'counts', if not NULL, the
 * number of pages of each class (they add up to len / 4KiB). Unmapped parts of
 * the range are "none".
 */
int backing_classify(struct backing_reader *r, uint64_t start, uint64_t len,
		     uint8_t *classes, uint64_t counts[PAGE_CLASS_NR],
		     struct wl_error *err);

/* Close the files; 'r' may be closed already or have failed to open. */
void backing_close(struct backing_reader *r);

#endif
