/*
 * runner.h - `virtuoso linux`: run a workload on this host under the probes
 * and write what the kernel did (DIR/linux.json, DIR/events.vlog).
 *
 * The loader (this process, root) forks the workload, which drops to an
 * unprivileged user and waits. The loader then loads the probes filtered to
 * the child's pid, opens its perf counters, saves THP sysfs and applies the
 * spec's kernel block, and lets the child go. The child runs the native
 * executor; around every phase it stops and tells the loader over a pipe
 * (its regions' addresses first, then phase begin/end with its clock and
 * ru_minflt), and waits for the loader's acknowledgement:
 *
 *	child				loader
 *	READY ------------------------>	prewarm (touch), sysfs, probes, counters,
 *					prewarm (free), hoststat, BPF statistics on
 *	      <------------------------ GO
 *	REGION i start size ---------->	(no reply)
 *	BEGIN i minflt --------------->	counters; cur_phase = i
 *	      <------------------------ ack
 *	  ... the phase runs ...
 *	END i times minflt ----------->	counters; backing map
 *	      <------------------------ ack
 *	DONE ------------------------->	cur_phase = none; BPF statistics read and
 *					off; final backing map, hoststat
 *	      <------------------------ ack; the child exits
 *
 * So every kernel event is tagged with its phase in the kernel, and the
 * backing map of each boundary is read while the workload is stopped. Events
 * keep phase i's tag through the pause after it: the workload does nothing
 * then, but khugepaged works on, and that work is part of the run. Events
 * before the first phase (start-up: mapping the regions) and after the last
 * are not counted.
 *
 * In a guest the loader first has the memory the workload will need touched
 * and freed again (linux-probes/prewarm.h), so that its faults do not pay
 * the hypervisor's first touch (--prewarm, --no-prewarm).
 *
 * Then, unless no_probe_free, the same workload runs once more with the same
 * settings and prewarm but no probes and no counters, the same handshake
 * without the backing maps: each phase's wall time with nothing of ours in
 * the kernel (linux.json's probe_free_runtime_ns).
 *
 * Host settings are restored on every path: success, error, SIGINT, SIGTERM,
 * SIGHUP (blocked and read through a signalfd, so cleanup runs in the loop,
 * not in a handler); after SIGKILL the next run restores them first
 * (linux-probes/thp_sysfs.h). Only one run at a time holds the host: the
 * caller takes linux-probes/hostlock.h's lock around runner_run(), once for
 * all the runs of a repeated measurement.
 */
/*
 * Commands (runner_opts.command): the child forks the command, held before
 * its exec, and traces it (ptrace, stopped at its exit); READY names its
 * pid, which the probes, counters and backing reader follow. The command is
 * one phase, "command", begun before its exec and ended at its exit stop,
 * where the backing is read while it still has its memory; then it exits.
 * Its regions are made as it runs (in the order it creates them): each
 * private anonymous mmap ("mmap<n>-<size>"), each mremap's new range
 * ("mremap<n>-<size>"), and the heap ("[heap]", grown by brk). Its
 * threads are followed (one thread group); processes it forks are not.
 * linux.json's "command" says the argv and its exit status; a command that
 * cannot be started is an error, one that exits non-zero a failed run.
 */
#ifndef LINUX_PROBES_RUNNER_H
#define LINUX_PROBES_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "linux-probes/backing.h"
#include "linux-probes/hostid.h"
#include "workload/error.h"
#include "workload/spec.h"

/* Touch and free the workload's memory before it runs (linux-probes/prewarm.h)? */
enum runner_prewarm {
	RUNNER_PREWARM_AUTO = 0,	/* when the host is a guest (hostid.h) */
	RUNNER_PREWARM_ON,
	RUNNER_PREWARM_OFF,
};

struct runner_opts {
	/*
	 * The workload: a spec, or (command non-NULL, spec ignored) any
	 * command, argv NULL-terminated, run as one phase ("command") whose
	 * regions are its private anonymous mappings as it makes them (see
	 * "Commands" above)
	 */
	const struct wl_spec *spec;
	char *const *command;
	const char *spec_path;
	const char *out_dir;		/* created if missing */
	const char *user;		/* the workload runs as this user; NULL: "nobody" */
	size_t ringbuf_bytes;		/* 0: the default (8 MiB) */
	bool no_tp_btf;			/* tracepoint flavour only */
	bool no_probes;			/* no BPF, no counters: the overhead baseline */
	bool no_probe_free;		/* skip the second, probe-free run of the workload */
	bool no_probe_stats;		/* no BPF run-time statistics (they cost each program run) */
	unsigned latency_sample;	/* time one fault in this many; 0, 1: every one (vmtrace.h) */
	bool rss_stat;			/* attach the kmem:rss_stat hook (vmtrace.h) */
	int log_zstd;			/* the event log's records zstd-compressed at this level; 0: not */
	enum backing_method backing;
	enum runner_prewarm prewarm;
	const char *thp_root;		/* NULL: WL_THP_SYSFS */
	const char *state_dir;		/* NULL: thp_sysfs_state_dir() */
	const char *tool_version;
	/*
	 * Which run of a repeated measurement this is: 0 or 1 writes
	 * linux.json and events.vlog, k > 1 linux-k.json and events-k.vlog
	 * (whose "events_log" names it)
	 */
	unsigned run;
};

/* What went wrong, for the exit status of results.md. */
enum runner_status {
	RUNNER_OK = 0,
	RUNNER_FAIL = 1,
	RUNNER_BAD_INPUT = 2,
	RUNNER_HOST = 3,
};

/*
 * Run it, with the host's lock held (hostlock_take). On RUNNER_OK, DIR/linux.json and DIR/events.vlog exist (the run
 * may still be incomplete: *incomplete says so, with the reason already on
 * stderr). Otherwise nothing was written and err says why in one line.
 */
enum runner_status runner_run(const struct runner_opts *o, bool *incomplete, struct wl_error *err);

#endif
