/*
 * cal_latency.h - the kernel's fault latency per fault kind, for virtuoso
 * calibrate: each kind's microbenchmark spec (calibrate/latency_specs.h)
 * run on Linux under the probes as virtuoso linux runs it, its faults
 * classified as virtuoso compare classifies them, and the latencies of the
 * timed phase's faults of the kind summed up into calibrate/measure.h's
 * struct cal_latency. Here in cli/ because it joins the runner, the
 * comparison's loading and calibrate/'s plain data, which calibrate/ itself
 * may not include.
 *
 * The layout under DIR, one directory per kind:
 *
 *	DIR/latency/KIND/spec.json		the spec text that was run
 *	DIR/latency/KIND/linux.json, events.vlog, linux-2.json, ...	the runs
 */
#ifndef CLI_CAL_LATENCY_H
#define CLI_CAL_LATENCY_H

#include <stdbool.h>

#include "calibrate/measure.h"

/*
 * Why this host cannot measure fault latencies at all (not root, no kernel
 * BTF), into buf; false when it can.
 */
bool cli_cal_latency_unavailable(char *buf, size_t len);

/*
 * Kind k (enum cal_lat_kind) 'runs' times (quick: the small spec) into
 * DIR/latency/KIND/, the probe-free second run left out (only the probes'
 * windows are kept). lock_fd: the host lock the caller holds, lent to each
 * run (-1: each run takes the lock itself, waiting up to the default).
 * thp_root: THP sysfs (NULL: WL_THP_SYSFS), where an mTHP size the kernel
 * lacks is found. A kind this host cannot measure, a failed run, a run
 * without a fault of the kind: out->measured false, the reason in
 * out->skipped (the run's own error already on stderr). Returns
 * out->measured.
 */
bool cli_cal_latency(struct cal_latency *out, unsigned k, const char *dir, bool quick,
		     unsigned runs, const char *thp_root, int lock_fd);

/*
 * The TLB-flush cross-calls of cal_shootdown_spec() (calibrate/latency_specs.h),
 * 'runs' times under the probes into DIR/shootdown/: their mean time on
 * the target and the initiators' mean wait (struct cal_shootdown). Not
 * measured (the reason in out->skipped) without root or BTF, on one CPU,
 * or when no run recorded a cross-call. Returns out->measured.
 */
bool cli_cal_shootdown(struct cal_shootdown *out, const char *dir, bool quick, unsigned runs,
		       int lock_fd);

#endif
