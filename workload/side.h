/*
 * side.h - pieces of a result "side" (../shared/spec/results.md: linux.json
 * and sim.json) that both worlds print the same way, so the comparison
 * reads them without a mapping: the page classes, allocation-order
 * histograms, and the kernel block in force.
 */
#ifndef WORKLOAD_SIDE_H
#define WORKLOAD_SIDE_H

#include <stdint.h>

#include "workload/spec.h"

/* The four page classes of results.md, in this order everywhere. */
enum side_page_class { SIDE_NONE, SIDE_ZERO, SIDE_PTE, SIDE_PMD, SIDE_PAGE_NR };

struct cJSON;

/* {"none": n, "zero": n, "pte": n, "pmd": n} */
struct cJSON *side_pages_json(const uint64_t pages[SIDE_PAGE_NR]);

/* {"0": n, "9": n, ...}: the orders 0..nr-1 whose count is not zero. */
struct cJSON *side_orders_json(const uint64_t *orders, int nr);

/*
 * The contract's fields of one region, added to 'obj': start, size, faults,
 * thp_faults, huge_bytes and resident_bytes (both derived from the pages),
 * pages. Each side then adds its own extras.
 */
void side_region_fields(struct cJSON *obj, uint64_t start, uint64_t size, uint64_t faults,
			uint64_t thp_faults, const uint64_t pages[SIDE_PAGE_NR]);

/*
 * A phase object with the contract's fields (op, region for the ops that
 * have one, runtime_ns, faults), appended to the array 'phases'; returned
 * so the side can add its extras.
 */
struct cJSON *side_phase_json(struct cJSON *phases, const struct wl_spec *s, size_t i,
			      uint64_t runtime_ns, uint64_t faults);

/* The spec's kernel block with 'k' (resolved: nothing left to the host) in force. */
struct cJSON *side_kernel_json(const struct wl_spec *s, const struct wl_kernel *k);

#endif
