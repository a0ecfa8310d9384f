/*
 * tolerance.c - the default tolerance of every metric (the one place they
 * are set, each with its reason), the JSON file that overrides them, and
 * the verdict rule.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/compare.h"
#include "workload/json.h"

/*
 * Divergences are relative errors |sim - linux| / max(linux, 1) unless said
 * otherwise; a value at or below warn passes, above fail fails. Against
 * several Linux runs a count or a time is measured from the nearest edge
 * of their band, a distance from the nearest run (compare.h).
 */
#define F METRIC_FUNCTIONAL
#define T METRIC_TIMING
#define I METRIC_INFO
#define L METRIC_TLB
static const struct tolerance defaults[] = {
	/*
	 * Counts of what the fault path did. MimicOS runs Linux's fault path
	 * on the same addresses and the same policy, and the Linux side
	 * counts only the workload's faults in its regions during its
	 * phases: nothing should differ, so any difference warns and more
	 * than 1% fails. The same for each kind of fault.
	 */
	{ "faults",			0.0,	0.01,	false, F },
	{ "thp_faults",			0.0,	0.01,	false, F },
	{ "huge_bytes",			0.0,	0.01,	false, F },
	{ "resident_bytes",		0.0,	0.01,	false, F },
	{ "phase_faults",		0.0,	0.01,	false, F },
	{ "faults_by_kind",		0.0,	0.01,	false, F },
	/*
	 * Page by page, the same class on both sides (higher is better). One
	 * page in 1000 elsewhere warns (a 2MiB page of a 1GiB region is 1 in
	 * 512); 1 in 100 fails: the memory layout a TLB study sees is wrong.
	 */
	{ "backing_agreement",		0.999,	0.99,	true,  F },
	/*
	 * Time, as the ratio error max(sim/linux, linux/sim) - 1 from the
	 * nearest edge of Linux's band: what a calibrated model must meet, so
	 * an uncalibrated one fails here, honestly. The whole run within 10%
	 * passes and 1.5x off fails. A phase within 20% passes, 2x off fails:
	 * a calibrated model is expected to have most phases within 20% and
	 * none off by 2x; Linux's own run-to-run spread is already taken out
	 * by the band.
	 */
	{ "runtime",			0.1,	0.5,	false, T },
	{ "phase_runtime",		0.2,	1.0,	false, T },
	/*
	 * The order of the folio each fault allocated (total variation
	 * distance, 0..1): decided by the same THP and mTHP policy on both
	 * sides, so as tight as the counts.
	 */
	{ "alloc_orders",		0.0,	0.01,	false, F },
	/*
	 * Fault latency of one kind (ratio error of the nearest-rank quantile,
	 * cold faults left out): the median is what a cost model is fitted
	 * to, so within 10% passes and 1.5x fails; the p90 carries the spread
	 * (page-table allocation, per-CPU list refills, zeroing that misses),
	 * 25% and 2x; the p99 carries interrupts and host preemption, 50% and
	 * 2.5x. A model 3x off fails all three.
	 */
	{ "fault_latency_p50",		0.1,	0.5,	false, T },
	{ "fault_latency_p90",		0.25,	1.0,	false, T },
	{ "fault_latency_p99",		0.5,	1.5,	false, T },
	/*
	 * The whole distribution of a kind, in units of Linux's median, past
	 * what Linux's runs differ among themselves: the average fault off
	 * by a quarter of a median warns, by a whole median fails (a single
	 * simulated value against a spread-out Linux does).
	 */
	{ "fault_latency_wasserstein",	0.25,	1.0,	false, T },
	/*
	 * Information: the share of a kind's faults on Linux that met cold
	 * memory (compare.h, FAULT_COLD_FACTOR). More than 5% warns, a
	 * quarter fails, as a hint to prewarm; it never decides a verdict.
	 */
	{ "cold_faults",		0.05,	0.25,	false, I },
	/*
	 * Information: the share of a phase spent inside fault latency
	 * windows, each side's own (ratio error): where a phase's time goes,
	 * to tell a wrong kernel cost from a wrong user-level one.
	 */
	{ "fault_time_share",		0.2,	1.0,	false, I },
	/*
	 * Successful collapses. khugepaged runs beside the workload on Linux;
	 * khugepaged_wait phases wait for whole scans, yet a pass in flight
	 * when a phase ends can put a collapse on either side of the end:
	 * any difference warns, more than 10% fails.
	 */
	{ "collapses",			0.0,	0.1,	false, F },
	/*
	 * khugepaged's scan outcomes by status name (total variation
	 * distance). They race with the workload on Linux: khugepaged runs at
	 * nice 19 when woken, and a workload of a few milliseconds may exit
	 * before its first pass, or get it at another point of its run (seen
	 * here on default and munmap-partial: no scans in one run, eight in the
	 * next). So they are information: a difference warns (5% of the
	 * outcomes moved) and never fails (the distance is at most 1); what a
	 * pass decides, the collapses, has its own tight tolerance above and
	 * counts in the functional verdict.
	 */
	{ "scan_results",		0.05,	1.0,	false, I },
	/*
	 * TLB flushes the workload's memory management caused. MimicOS
	 * imitates flush_tlb_range() and its single-page ceiling, but Linux
	 * also flushes for reasons the workload did not ask for (migration,
	 * compaction, NUMA hinting): 10% warns, 50% fails.
	 */
	{ "tlb_flushes",		0.1,	0.5,	false, F },
	/*
	 * The cross-calls of the mm's flushes (a spec with threads). Linux's
	 * also depend on what its other CPUs run (another process there takes
	 * one when the once-a-second mask trim is due): the same bands.
	 */
	{ "tlb_ipis",			0.1,	0.5,	false, F },
	/*
	 * Their time, on the target and the initiator's wait: information
	 * (an IPI's cost on a guest is the hypervisor's, and calibrate
	 * measures it): 50% warns, 2x fails.
	 */
	{ "tlb_ipi_time",		0.5,	1.0,	false, I },
	/*
	 * The hardware's TLB counters against the simulated MMU, per phase
	 * (relative error, the floor 1% of the phase's accesses: the host's
	 * counters also see the harness's own loads, interrupts and the
	 * kernel's work, about that many). The geometry is the host's
	 * (CPUID), but the replacement is not: real TLBs use pseudo-LRU,
	 * and a chase near a TLB's reach moves by that. 10% warns and a
	 * quarter fails; a chase beyond the STLB's reach misses on every
	 * load on both sides, so a wrong geometry or page size fails far
	 * beyond that.
	 */
	{ "tlb_l1_misses",		0.1,	0.25,	false, L },
	{ "tlb_stlb_hits",		0.1,	0.25,	false, L },
	{ "tlb_walks",			0.1,	0.25,	false, L },
	{ "tlb_walks_4k",		0.1,	0.25,	false, L },
	{ "tlb_walks_2m",		0.1,	0.25,	false, L },
	{ "tlb_walks_1g",		0.1,	0.25,	false, L },
	/*
	 * Walk cycles per access (ratio error): the walks' latency through
	 * the page-walk caches and the data caches, what calibration fits:
	 * within 25% passes, 2x off fails.
	 */
	{ "tlb_walk_cycles",		0.25,	1.0,	false, L },
};
#undef L
#undef F
#undef T
#undef I

#define NR_DEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

const char *verdict_name(enum verdict v)
{
	static const char *const names[] = {
		[VERDICT_PASS] = "pass", [VERDICT_WARN] = "warn",
		[VERDICT_FAIL] = "fail", [VERDICT_NA] = "n/a",
		[VERDICT_UNSTABLE] = "unstable",
	};

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

const char *metric_class_name(enum metric_class k)
{
	static const char *const names[] = {
		[METRIC_FUNCTIONAL] = "functional", [METRIC_TIMING] = "timing",
		[METRIC_TLB] = "tlb", [METRIC_INFO] = "info",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

enum verdict verdict_of(const struct tolerance *t, double value)
{
	if (isnan(value))
		return VERDICT_NA;
	if (t->higher_is_better)
		return value >= t->warn ? VERDICT_PASS : value < t->fail ? VERDICT_FAIL : VERDICT_WARN;
	return value <= t->warn ? VERDICT_PASS : value > t->fail ? VERDICT_FAIL : VERDICT_WARN;
}

void tolerances_init(struct tolerances *tol)
{
	tol->t = malloc(sizeof(defaults));
	if (!tol->t) {
		fprintf(stderr, "tolerances_init: out of memory\n");
		abort();
	}
	memcpy(tol->t, defaults, sizeof(defaults));
	tol->nr = NR_DEFAULTS;
}

const struct tolerance *tolerance_find(const struct tolerances *tol, const char *metric)
{
	for (size_t i = 0; i < tol->nr; i++)
		if (!strcmp(tol->t[i].metric, metric))
			return &tol->t[i];
	return NULL;
}

void tolerances_release(struct tolerances *tol)
{
	free(tol->t);
	tol->t = NULL;
	tol->nr = 0;
}

/* One metric's {"warn": x, "fail": y} into t. */
static int load_one(const struct wj_ctx *c, const cJSON *v, struct tolerance *t)
{
	static const char *const keys[] = { "warn", "fail", NULL };
	double hi = t->higher_is_better ? 1.0 : DBL_MAX;
	const char *path = v->string;
	char where[160];

	if (wj_check_object(c, v, path, "a metric's tolerance", keys) < 0 ||
	    wj_number(c, v, path, "warn", false, 0, false, hi, &t->warn) < 0 ||
	    wj_number(c, v, path, "fail", false, 0, false, hi, &t->fail) < 0)
		return -1;
	if (t->higher_is_better ? t->warn < t->fail : t->warn > t->fail)
		return wj_fail(c, wj_path_key(where, sizeof(where), path, "warn"), "",
			       "warn %g is beyond fail %g (%s is better %s)", t->warn, t->fail,
			       t->metric, t->higher_is_better ? "higher" : "lower");
	return 0;
}

int tolerances_load(struct tolerances *tol, const char *path, struct wl_error *err)
{
	struct wj_ctx c = { .file = path, .err = err };
	struct tolerance *t;
	cJSON *root;
	int ret = -1;

	if (wj_load_object(path, &root, err))
		return -1;
	/* changed on a copy, so a refused file leaves tol as it was */
	t = malloc(tol->nr * sizeof(*t));
	if (!t) {
		wl_error_set(err, path, "", "out of memory");
		goto out;
	}
	memcpy(t, tol->t, tol->nr * sizeof(*t));
	for (const cJSON *k = root->child; k; k = k->next) {
		size_t i;

		for (const cJSON *d = root->child; d != k; d = d->next)
			if (!strcmp(d->string, k->string)) {
				wj_fail(&c, k->string, "", "duplicate key");
				goto out;
			}
		for (i = 0; i < tol->nr && strcmp(t[i].metric, k->string); i++)
			;
		if (i == tol->nr) {
			char list[1024] = "";

			for (size_t j = 0; j < tol->nr; j++) {
				strncat(list, t[j].metric, sizeof(list) - strlen(list) - 1);
				if (j + 1 < tol->nr)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			wj_fail(&c, k->string, "", "unknown metric (expected one of: %s)", list);
			goto out;
		}
		if (load_one(&c, k, &t[i]))
			goto out;
	}
	memcpy(tol->t, t, tol->nr * sizeof(*t));
	ret = 0;
out:
	free(t);
	cJSON_Delete(root);
	return ret;
}
