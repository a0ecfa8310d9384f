/*
 * prewarm.h - have the host back the memory a run will fault in, before the
 * run: touch that much and free it again, right before the first phase.
 *
 * In a virtual machine the hypervisor backs guest memory lazily, and with
 * virtio free page reporting (hostid.h) it takes freed blocks back about two
 * seconds after the guest frees them. A guest page the host does not back
 * costs a host fault at its first touch, on top of the guest's own fault: a
 * 2 MiB THP fault then takes milliseconds instead of ~230 us. Which pages a
 * run gets, and so whether they are backed, depends on what ran before it.
 *
 * prewarm_start() forks a helper that maps 'bytes' (2 MiB aligned) and asks
 * for THPs (MADV_HUGEPAGE, under the host's THP settings: the spec's are not
 * applied yet), writes one byte in every 4 KiB page, so every guest page it
 * got is now backed by the host. It does so once on each CPU it may run on
 * (up to PREWARM_MAX_CPUS), pinned there, freeing each pass's memory before
 * the next: a freed THP goes to the per-CPU list of the CPU that frees it,
 * and a THP fault takes from its own CPU's list first, so the workload finds
 * warm pages first on whichever CPU it faults. The last pass holds its
 * memory; prewarm_finish() lets the helper free it and exit, and reaps it.
 * Page reporting takes free blocks back only after its delay (two seconds
 * from the first free since its last pass), and never the blocks on per-CPU
 * lists, so freeing just before the first phase is early enough.
 *
 * A helper rather than the workload: MADV_HUGEPAGE on the workload's own mm
 * would register it with khugepaged early and change when khugepaged first
 * wakes for it, and forking the workload would make its pages copy-on-write.
 *
 * What it cannot do: pages the workload gets from other free blocks (the
 * buddy allocator takes the smallest free block first, so 4 KiB faults may
 * be served from old fragments), or from the other CPU's per-CPU lists, may
 * still be cold. linux-probes/README.md ("Cold memory") has the measurements.
 */
#ifndef LINUX_PROBES_PREWARM_H
#define LINUX_PROBES_PREWARM_H

#include <stdint.h>
#include <sys/types.h>

#include "workload/error.h"
#include "workload/spec.h"

#define PREWARM_BLOCK	(2ULL << 20)	/* a PMD-sized THP on x86-64 */
#define PREWARM_MAX_CPUS	8	/* passes at most (one per CPU) */

struct prewarm {
	pid_t pid;		/* the helper, 0 when there is none */
	int to_helper;		/* closing it lets the helper exit */
	uint64_t bytes;
	unsigned cpus;		/* passes made, one per CPU */
	uint64_t ns;		/* wall time of touching plus freeing */
};

/* What a workload will need: the sum of its regions' sizes, rounded up to PREWARM_BLOCK. */
uint64_t prewarm_bytes(const struct wl_spec *s);

/*
 * The most a prewarm may touch: half of MemAvailable (/proc/meminfo, or
 * 'meminfo' for a test), rounded down to PREWARM_BLOCK; 0 if unreadable. A
 * region is often far larger than what the workload touches of it, and
 * touching more than the host can spare would wake the OOM killer.
 */
uint64_t prewarm_cap(const char *meminfo);

/*
 * Fork the helper and wait until it has touched 'bytes'. Returns 0, or -1
 * with err (the helper is gone then).
 */
int prewarm_start(struct prewarm *p, uint64_t bytes, struct wl_error *err);

/* Let the helper free its memory and exit; wait for it. Returns 0, or -1 with err. */
int prewarm_finish(struct prewarm *p, struct wl_error *err);

/* Kill the helper if it is still there (an error path). */
void prewarm_abort(struct prewarm *p);

#endif
