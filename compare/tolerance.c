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
 * otherwise; a value at or below warn passes, above fail fails.
 */
static const struct tolerance defaults[] = {
	/*
	 * Counts of what the fault path did. MimicOS runs Linux's fault path
	 * on the same addresses and the same policy, and the Linux side
	 * counts only the workload's faults in its regions during its
	 * phases: nothing should differ, so any difference warns and more
	 * than 1% fails.
	 */
	{ "faults",			0.0,	0.01,	false },
	{ "thp_faults",			0.0,	0.01,	false },
	{ "huge_bytes",			0.0,	0.01,	false },
	{ "resident_bytes",		0.0,	0.01,	false },
	{ "phase_faults",		0.0,	0.01,	false },
	/*
	 * Page by page, the same class on both sides (higher is better). One
	 * page in 1000 elsewhere warns (a 2MiB page of a 1GiB region is 1 in
	 * 512); 1 in 100 fails: the memory layout a TLB study sees is wrong.
	 */
	{ "backing_agreement",		0.999,	0.99,	true },
	/*
	 * Time. The cost model is not calibrated yet against this host, and
	 * Linux's wall time carries the host's noise (interrupts, frequency,
	 * other tenants): within 50% passes, more than 3x (an error above
	 * 2.0) fails. Short phases are the noisiest; the same bounds apply.
	 */
	{ "runtime",			0.5,	2.0,	false },
	{ "phase_runtime",		0.5,	2.0,	false },
	/*
	 * The order of the folio each fault allocated (total variation
	 * distance, 0..1): decided by the same THP and mTHP policy on both
	 * sides, so as tight as the counts.
	 */
	{ "alloc_orders",		0.0,	0.01,	false },
	/*
	 * Fault latency: Linux's measured kernel time against MimicOS's
	 * simulated one, loose as runtime is (uncalibrated; the tail holds
	 * the host's interrupts and zeroing of cold memory).
	 */
	{ "fault_latency_p50",		0.5,	2.0,	false },
	{ "fault_latency_p90",		0.5,	2.0,	false },
	{ "fault_latency_p99",		0.5,	2.0,	false },
	/*
	 * The whole latency distribution, in units of Linux's median: the
	 * average fault off by one median warns, by four fails.
	 */
	{ "fault_latency_wasserstein",	1.0,	4.0,	false },
	/*
	 * Successful collapses. khugepaged runs beside the workload on Linux;
	 * khugepaged_wait phases wait for whole scans, yet a pass in flight
	 * when a phase ends can put a collapse on either side of the end:
	 * any difference warns, more than 10% fails.
	 */
	{ "collapses",			0.0,	0.1,	false },
	/*
	 * khugepaged's scan outcomes by status name (total variation
	 * distance). They race with the workload on Linux: khugepaged runs at
	 * nice 19 when woken, and a workload of a few milliseconds may exit
	 * before its first pass, or get it at another point of its run (seen
	 * here on default and munmap-partial: no scans in one run, eight in the
	 * next). So a difference warns (5% of the outcomes moved) and never
	 * fails on its own (the distance is at most 1); what a pass decides,
	 * the collapses, has its own tight tolerance above.
	 */
	{ "scan_results",		0.05,	1.0,	false },
	/*
	 * TLB flushes the workload's memory management caused. MimicOS
	 * imitates flush_tlb_range() and its single-page ceiling, but Linux
	 * also flushes for reasons the workload did not ask for (migration,
	 * compaction, NUMA hinting): 10% warns, 50% fails.
	 */
	{ "tlb_flushes",		0.1,	0.5,	false },
};

#define NR_DEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

const char *verdict_name(enum verdict v)
{
	static const char *const names[] = {
		[VERDICT_PASS] = "pass", [VERDICT_WARN] = "warn",
		[VERDICT_FAIL] = "fail", [VERDICT_NA] = "n/a",
	};

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
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
			char list[512] = "";

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
