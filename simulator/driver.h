/*
 * driver.h - the workload driver: a spec's operation stream through
 * MimicOS, untimed (the functional mode) or on one core's timing model.
 *
 * The driver consumes the stream of workload/gen.h, the same one the native
 * executor (workload/native.c) performs on the host, and does to one
 * simulated process what the host kernel does to the real one. It talks to
 * MimicOS only through its channel (mimicos/channel.h), in-process or
 * out-of-process as opts.mimicos says:
 *
 *	MAP r		MMAP (NULL hint, size, rw, private anonymous), or
 *			MAP_FIXED_NOREPLACE at opts.region_start[r] when given
 *			(virtuoso run: the address Linux chose). With populate,
 *			MimicOS faults every page in as GUP does: counted as
 *			populate_faults, never as faults (Linux's populate fires no
 *			user-fault tracepoint)
 *	MADVISE		MADVISE; the region's advice during setup, or a phase (a
 *			failed MADV_COLLAPSE is recorded, as native.c records it)
 *	MPROTECT	MPROTECT;  MUNMAP: MUNMAP
 *	ACCESS		what the MMU would do. Untimed: a translation cache
 *			(filled by hardware WALKs, emptied by every range MimicOS
 *			reports changed or flushed) decides; timed: the core's MMU
 *			(timing.h). A missing translation, or a store to a read-only
 *			one, is a FAULT
 *	KHUGEPAGED_WAIT	KHUGEPAGED_WAIT: simulated time runs pass by pass until
 *			khugepaged's full_scans has grown by the spec's count, or the
 *			timeout passes (then the phase and the run are marked timed
 *			out and incomplete, as on Linux)
 *	SLEEP		simulated time advances by the spec's ms; khugepaged's passes
 *			due meanwhile run (ADVANCE)
 *
 * Simulated time: untimed, only SLEEP and KHUGEPAGED_WAIT move the clock;
 * timed, the clock is the core's, and khugepaged's passes run (on another
 * CPU) as it passes their due time. Each fault and system call tells
 * MimicOS its time (request.now_ns), which stamps what it logs.
 *
 * Counted per region, as docs/results-format.md defines them: faults
 * (user faults whose address is in it), thp_faults (faults that installed a
 * PMD-mapped folio they allocated), write_faults, the folio orders its faults
 * allocated; at each phase end and at the end, the class of each of its 4 KiB
 * pages (CLASSES), and at the end its backing map (BACKING: the classes page
 * by page, as runs). Timed runs add per-phase and whole-run statistics
 * (struct timing_stats) and each user fault's simulated time: the cycles of
 * its fault window (timing.h: the kernel's stream, without exception entry
 * and exit, which count in the runtime only) in ns at the core's clock,
 * rounded to the nearest ns. That time goes into the
 * region's latencies and, through MIMICOS_REQ_FAULT_LATENCY, into the fault's
 * record in the event log (latency_ns; 0 in untimed runs, and for the GUP
 * faults of MAP_POPULATE, which are the mmap's time).
 *
 * Deterministic: the same spec and options give the same result, placement
 * included (mmap's random base is drawn from the spec's seed), in either
 * channel mode.
 */
#ifndef SIMULATOR_DRIVER_H
#define SIMULATOR_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mimicos/channel.h"
#include "simulator/timing.h"
#include "workload/error.h"
#include "workload/side.h"
#include "workload/spec.h"

struct driver_opts {
	/*
	 * NULL, or one address per region: map region r there (MAP_FIXED_NOREPLACE)
	 * unless it is 0 (then the placement is MimicOS's own, as without).
	 */
	const uint64_t *region_start;
	/* Size of the simulated zone; 0: this machine's RAM (driver_host_mem_bytes()). */
	uint64_t mem_bytes;
	/*
	 * Kernel settings the spec leaves to the host: taken from 'host' where
	 * it gives them (e.g. the values the Linux side recorded), the rest read
	 * from the THP sysfs tree at 'thp_root' (NULL: WL_THP_SYSFS).
	 */
	const struct wl_kernel *host;
	const char *thp_root;
	/*
	 * NULL, or MimicOS's configuration (channel.h): the channel mode, the
	 * THP policy, the modules, the cost model... The spec's kernel settings
	 * replace its thp settings (its modules stay), mem_bytes above replaces
	 * its zone size, and mm 0 is placed from the spec's seed.
	 */
	const struct channel_config *mimicos;
	/*
	 * NULL, or where to write MimicOS's event log (EVLOG_SIM_NAME in a
	 * result directory, workload/evlog.h): the Linux side's event model (memory.h), with
	 * the run's regions and phases in its metadata. Written whole or not at
	 * all: removed when the run fails.
	 */
	const char *events_path;
	/*
	 * NULL: no timing ("timing": "none"). Else the timing model of one core
	 * (simulator/timing.h): every access goes through its MMU and caches,
	 * faults and system calls are timed with the kernel's instruction
	 * stream, and simulated time is the core's clock.
	 */
	const struct timing_config *timing;
	/*
	 * Simulated cores for a spec with threads (0: mimicos.cores when above
	 * 1, else one per thread); thread t runs on core t mod cores, as the
	 * native executor pins it.
	 */
	unsigned int cores;
};

/* No fixed addresses, the host's RAM, host settings from sysfs. */
void driver_opts_init(struct driver_opts *o);

/* Physical memory of this machine, rounded down to 4 MiB, at most 1 TiB. */
uint64_t driver_host_mem_bytes(void);

struct driver_region {
	uint64_t start, size;
	uint64_t faults, thp_faults, write_faults;
	uint64_t populate_faults;		/* GUP faults of MAP_POPULATE */
	uint64_t alloc_orders[NR_PAGE_ORDERS];	/* folios its user faults allocated */
	uint64_t pages[PAGE_CLASS_NR];		/* classes at the end */
	struct side_backing backing;		/* the same pages in address order, as runs */
	struct side_latencies latency;		/* timed: each user fault's simulated ns */
};

struct driver_phase {
	uint64_t faults, thp_faults, accesses;
	struct timing_stats timing;		/* the phase's counters (timed runs) */
	uint64_t start_ns, runtime_ns;		/* simulated time (sleeps and waits only) */
	bool timed_out;				/* a khugepaged_wait that gave up */
	int collapse_errno;			/* MADV_COLLAPSE's error, 0 if none */
	uint64_t (*pages)[PAGE_CLASS_NR];		/* per region, at the phase end */
	struct side_latencies latency;		/* timed: its user faults' simulated ns */
};

/* A spec with threads: each thread's (docs/workload-format.md, "Threads"). */
struct driver_thread {
	unsigned int cpu;			/* its core: thread t on t mod cores */
	uint64_t faults, thp_faults, accesses;
};

/*
 * What a replay (driver_replay()) did with the recording's records, in
 * print order (stats.c's replay_stats_to_json() is generated from it):
 *   syscalls, syscalls_refused, syscalls_skipped	replayed, refused by
 *			MimicOS, not MimicOS's (file and shared mappings...)
 *   faults, faults_refused, faults_outside	replayed, refused, outside
 *			every region
 *   kernel_faults	of faults, the kernel's on the command's behalf
 */
#define DRIVER_REPLAY_STATS_LIST(X)					\
	X(syscalls) X(syscalls_refused) X(syscalls_skipped)		\
	X(faults) X(faults_refused) X(faults_outside) X(kernel_faults)

struct driver_replay_stats {
#define DRIVER_REPLAY_FIELD(name) uint64_t name;
	DRIVER_REPLAY_STATS_LIST(DRIVER_REPLAY_FIELD)
#undef DRIVER_REPLAY_FIELD
};

struct driver_run {
	const struct wl_spec *spec;
	unsigned int cores;			/* simulated cores */
	struct driver_thread *threads;		/* spec->threads */
	/* TLB-flush cross-calls run (khugepaged's too), and the flushes that waited for theirs */
	uint64_t ipis, ipi_waits;
	/* a replay (driver_replay()): what it did with the recording's records */
	bool replayed;
	struct driver_replay_stats replay;
	struct wl_kernel kernel;		/* the settings in force, all resolved */
	uint64_t mem_bytes;			/* the zone's size */
	struct driver_region *regions;	/* spec->nr_regions */
	struct driver_phase *phases;	/* spec->nr_phases */
	struct vm_events ev;			/* MimicOS's counters at the end */
	/* khugepaged and MADV_COLLAPSE outcomes, by enum scan_result (khugepaged.h) */
	uint64_t scan_status[NR_SCAN_RESULTS], collapse_status[NR_SCAN_RESULTS];
	struct khugepaged_stats khugepaged;
	uint64_t runtime_ns;			/* simulated time at the end */
	bool timed;				/* opts.timing was given */
	uint32_t freq_mhz;			/* its core clock */
	struct timing_stats timing;		/* the whole run's counters (timed runs) */
	struct channel_config mimicos;		/* the effective MimicOS configuration */
	struct reservation_stats reservation;	/* the "reservation" policy's counters */
	bool complete;
	char **reasons;				/* why not complete, one line each */
	size_t nr_reasons;
};

/*
 * Run 's' (which must outlive 'run') through a fresh MimicOS. 'o' NULL: the
 * defaults. Returns 0 (run filled; possibly incomplete), or -1 with err set:
 * bad kernel settings or sysfs unreadable, a failed mmap/madvise/mprotect/
 * munmap, a fault that would kill the process (SIGSEGV, SIGBUS, OOM).
 * Release the run in both cases.
 */
int driver_run(struct driver_run *run, const struct wl_spec *s,
	       const struct driver_opts *o, struct wl_error *err);
void driver_release(struct driver_run *run);

/*
 * Replay a recorded command (virtuoso linux -- CMD; virtuoso sim --replay):
 * 's' holds the recording's regions (names, sizes) and its one phase
 * ("command"), o->region_start their addresses and o->host the recorded
 * kernel settings; 'log' is the recording's event log. MimicOS, untimed
 * (o->timing must be NULL), is driven by the records of the command's
 * phase, in their order:
 *
 *	mmap		private anonymous ones, at the address Linux returned
 *			(MAP_FIXED_NOREPLACE), with their length and protection
 *	munmap, mprotect, madvise (DONTNEED, HUGEPAGE, NOHUGEPAGE, COLLAPSE)
 *			as recorded, those that succeeded on Linux
 *	brk		the heap as anonymous mappings at its addresses: growth
 *			maps [old break, new break), shrinking unmaps
 *	mremap		approximated: the old range unmapped, the new one mapped
 *	fault		each completed fault whose address is in a region made so
 *			far, with its access (write, instruction, else read); the
 *			kernel's faults on the command's user addresses (recorded
 *			without the U bit) as such, filling their pages but not
 *			counted as user faults
 *
 * and the clock follows the records' times, so that khugepaged's passes due
 * between them run (ADVANCE). What MimicOS refuses (a call outside what it
 * maps, a fault it would kill) is counted, not fatal (run->replay). What a
 * recording cannot tell is stated in docs/recordings.md: the accesses that
 * did not fault, the accessed bits khugepaged reads, file and shared
 * mappings, other processes. 0, or -1 with err set.
 */
int driver_replay(struct driver_run *run, const struct wl_spec *s, const char *log,
		  const struct driver_opts *o, struct wl_error *err);

/*
 * The run as sim.json ("side": "sim", "timing": "none" or "interval"; the
 * fields of docs/results-format.md plus backing, write_faults, populate_faults,
 * fault_alloc_orders and, timed, fault_latency_ns per region (as linux.json
 * has them), thp_faults, accesses, pages per phase, MimicOS's vmstat and the
 * effective configuration). Free with cJSON_Delete; NULL if out of memory.
 */
struct cJSON;
struct cJSON *driver_to_json(const struct driver_run *run);

#endif
