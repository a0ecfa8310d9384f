/*
 * native.h - the native executor: perform a spec's stream on this host.
 *
 * The executor maps each region with mmap (anonymous, private, no address
 * hint, MAP_POPULATE if asked), applies the advice, then runs the phases: the
 * real madvise/mprotect/munmap, and the real loads and stores of every ACCESS
 * op of the generator. Stores write non-zero values (the address stored to, or
 * for a chase link the successor's address), so the kernel never sees a
 * written page as a zero page. Chase loads are a genuine dependent chain: the
 * address of each load is the value the previous load returned, checked
 * against the stream so the chain and the stream cannot drift apart.
 *
 * The executor touches region memory only where the stream says: the chase
 * cycle and every other bookkeeping structure live outside the regions.
 *
 * It records each region's start address and each phase's wall time
 * (CLOCK_MONOTONIC). It does not change kernel settings: applying the spec's
 * kernel block belongs to the Linux side (virtuoso linux).
 *
 * A spec with threads runs on that many threads of this process, each its
 * own stream (gen.h), pinned to a CPU, meeting at every phase group's start
 * and end (native.c, "threads"); the hooks are called by thread 0 while the
 * others wait. A phase of a concurrent group starts with the group and ends
 * when the last of its threads ends it; the run's runtime_ns is the groups'
 * wall time.
 */
#ifndef WORKLOAD_NATIVE_H
#define WORKLOAD_NATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "workload/error.h"
#include "workload/spec.h"

struct wl_native_phase {
	uint64_t start_ns;	/* CLOCK_MONOTONIC at PHASE_BEGIN */
	uint64_t runtime_ns;	/* PHASE_BEGIN to PHASE_END */
	uint64_t accesses;	/* ACCESS ops performed */
	bool timed_out;		/* khugepaged_wait gave up */
	/*
	 * The errno of a refused MADV_COLLAPSE, else 0. The kernel may refuse
	 * a collapse (EAGAIN, ENOMEM, EINVAL on a nohugepage range): that is
	 * behaviour to record and compare, not a failure of the run.
	 */
	int collapse_errno;
};

/*
 * Optional callbacks, for a loader that attributes kernel events to regions
 * and phases (the Linux side's handshake). Called in the executing process,
 * outside any timed interval of the phase they announce... except phase_end,
 * which is called right after the phase's end time is taken.
 */
struct wl_native_hooks {
	void (*region_mapped)(void *ctx, size_t region, uint64_t start, uint64_t size);
	void (*phase_begin)(void *ctx, size_t phase);
	void (*phase_end)(void *ctx, size_t phase, const struct wl_native_phase *ph);
	/*
	 * A spec with threads: their kernel thread ids, tids[t] thread t's,
	 * once all are running and before the first phase begins.
	 */
	void (*threads_started)(void *ctx, const int *tids, unsigned n);
	void *ctx;
};

struct wl_native_run {
	const struct wl_spec *spec;
	uint64_t *start;		/* per region: mapped address */
	struct wl_native_phase *phases;	/* per phase */
	uint64_t runtime_ns;		/* sum of the phases' runtimes */
	bool complete;			/* false if a khugepaged_wait timed out */
	uint64_t sink;			/* folds every loaded value, so loads are real */
	const char *thp_root;		/* THP sysfs, for khugepaged/full_scans */
	/*
	 * A spec with threads: the CPU each thread was pinned to (-1: it could
	 * not be), thread t to the (t mod n)th CPU of the process's set; NULL
	 * for one thread, which is not pinned.
	 */
	int *thread_cpu;
};

/* Zero 'run' and point it at 's'; thp_root defaults to WL_THP_SYSFS. */
void wl_native_init(struct wl_native_run *run, const struct wl_spec *s);

/*
 * Execute the whole stream. The regions stay mapped afterwards (so tests and
 * the backing-map reader can inspect them) until wl_native_release().
 * Returns 0, or -1 with err set (a failed syscall names the phase and errno).
 */
int wl_native_exec(struct wl_native_run *run, const struct wl_native_hooks *hooks,
		   struct wl_error *err);

/* Unmap whatever is left of the regions and free the records. */
void wl_native_release(struct wl_native_run *run);

#endif
