/*
 * side.h - pieces of a result "side" (docs/results-format.md: linux.json
 * and sim.json) that both worlds print the same way, so the comparison
 * reads them without a mapping: the page classes, allocation-order
 * histograms, and the kernel block in force.
 */
#ifndef WORKLOAD_SIDE_H
#define WORKLOAD_SIDE_H

#include <stddef.h>
#include <stdint.h>

#include "workload/spec.h"

/*
 * The four page classes of docs/results-format.md, in this order everywhere:
 * what backs a 4 KiB virtual page at the end of a run. The one list both
 * worlds classify into (linux-probes/backing.c from pagemap, the simulated
 * side from MimicOS's tables) and the comparison and reports read.
 */
enum page_class {
	PAGE_CLASS_NONE,	/* not present */
	PAGE_CLASS_ZERO,	/* the 4 KiB zero page or the huge zero folio */
	PAGE_CLASS_PTE,		/* a PTE to a real page, any folio size */
	PAGE_CLASS_PMD,		/* part of a PMD-mapped THP */
	PAGE_CLASS_NR
};

/* The bytes of the page a class describes. */
#define PAGE_CLASS_SIZE	4096u

/* "none", "zero", "pte", "pmd" (the results' keys); "?" if out of range. */
const char *page_class_name(enum page_class c);

struct cJSON;

/* {"none": n, "zero": n, "pte": n, "pmd": n} */
struct cJSON *side_pages_json(const uint64_t pages[PAGE_CLASS_NR]);

/* {"0": n, "9": n, ...}: the orders 0..nr-1 whose count is not zero. */
struct cJSON *side_orders_json(const uint64_t *orders, int nr);

/*
 * The contract's fields of one region, added to 'obj': start, size, faults,
 * thp_faults, huge_bytes and resident_bytes (both derived from the pages),
 * pages. Each side then adds its own extras.
 */
void side_region_fields(struct cJSON *obj, uint64_t start, uint64_t size, uint64_t faults,
			uint64_t thp_faults, const uint64_t pages[PAGE_CLASS_NR]);

/*
 * A phase object with the contract's fields (op, region for the ops that
 * have one, runtime_ns, faults), appended to the array 'phases'; returned
 * so the side can add its extras.
 */
struct cJSON *side_phase_json(struct cJSON *phases, const struct wl_spec *s, size_t i,
			      uint64_t runtime_ns, uint64_t faults);

/* The spec's kernel block with 'k' (resolved: nothing left to the host) in force. */
struct cJSON *side_kernel_json(const struct wl_spec *s, const struct wl_kernel *k);

/*
 * A region's backing map: its 4 KiB pages at the end of the run, in address
 * order from the region's start, as runs of consecutive pages of one class
 * (enum page_class). Both sides build it the same way, so the
 * comparison can match the two worlds page by page:
 *
 *	struct side_backing b = { 0 };
 *
 *	side_backing_add(&b, PAGE_CLASS_PMD, 512);	merges with the run before it
 *	side_backing_add(&b, PAGE_CLASS_PMD, 512);	when the class is the same:
 *	side_backing_add(&b, PAGE_CLASS_NONE, 2);	[["pmd", 1024], ["none", 2]]
 *	cJSON_AddItemToObject(region, "backing", side_backing_json(&b));
 *	side_backing_release(&b);
 */
struct side_backing_run {
	uint8_t cls;		/* enum page_class */
	uint64_t pages;
};

struct side_backing {
	struct side_backing_run *run;
	size_t nr, alloc;
};

/* Append 'pages' pages of class 'cls' (0 pages: nothing). 0, -EINVAL or -ENOMEM. */
int side_backing_add(struct side_backing *b, int cls, uint64_t pages);
void side_backing_release(struct side_backing *b);
/* [["pmd", 8192], ["none", 2], ...]: class name and page count per run. */
struct cJSON *side_backing_json(const struct side_backing *b);

/*
 * Fault latencies in ns, one per completed user fault of a region: Linux's
 * measured kernel time (linux.json) or the timing model's simulated time
 * (sim.json), summarised the same way on both sides.
 */
struct side_latencies {
	uint64_t *v;
	size_t n, alloc;
};

/* Append one latency; aborts when out of memory (a run cannot go on without it). */
void side_latencies_push(struct side_latencies *l, uint64_t ns);
void side_latencies_release(struct side_latencies *l);
/*
 * {"count", "mean", "p50", "p90", "p99", "max"}: the quantiles are nearest
 * rank (the smallest value with at least q * count values at or below it),
 * all 0 when count is 0; mean is the exact mean (not rounded).
 */
struct cJSON *side_latencies_json(const struct side_latencies *l);

/*
 * The nearest-rank q-quantile (0 < q <= 1) of v[0..n), sorted ascending:
 * v[ceil(q * n) - 1], forgiving rounding below 1e-6; 0 when n is 0. The one
 * definition both sides' summaries and the comparison use.
 */
uint64_t side_quantile(const uint64_t *v, size_t n, double q);

#endif
