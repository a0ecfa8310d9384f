/*
 * gate.h - the accuracy gate: a suite's results (cli/xval.h's layout, one
 * configuration named 'side') held against a baseline of the same suite
 * kept in git, so that a change that makes MimicOS drift from Linux fails
 * a commit.
 *
 * The baseline (baseline.json, gate_baseline()):
 *
 *	{"format": "virtuoso-baseline", "format_version": 1,
 *	 "provenance": {...},			who wrote it: the caller's
 *	 "workloads": [{"workload",
 *	   "functional": [{"name", "scope", "error", "pass"}],
 *	   "timing": [{"name", "scope", "error", "tolerance"}]}]}
 *
 * error null where it is NA. The rules, per workload of the baseline:
 *
 *	missing		the workload is not in the results: fails (nothing
 *			drops out silently); so does a metric of it
 *	functional	one that passed (exact, or within its small
 *			tolerance) and no longer does fails; one that did not
 *			and now does is an improvement
 *	timing		an error (ratio error from Linux's band) that grows by
 *			more than the metric's tolerance fails, one that grows
 *			by less is listed; one that shrinks is an improvement;
 *			one that had a value and is now NA fails
 *
 * A workload or metric in the results that the baseline lacks is listed
 * as new, and does not fail: --update-baseline takes it in.
 */
#ifndef COMPARE_GATE_H
#define COMPARE_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "workload/error.h"

#define GATE_FORMAT "virtuoso-baseline"
#define GATE_FORMAT_VERSION 1

#define GATE_CHANGES(X)							\
	X(regression,	"regression")						\
	X(missing,	"missing")						\
	X(worse,	"worse, within tolerance")				\
	X(improved,	"improved")						\
	X(new,		"new")

enum gate_change {
#define GATE_CHANGE_ENUM(name, desc) GATE_##name,
	GATE_CHANGES(GATE_CHANGE_ENUM)
#undef GATE_CHANGE_ENUM
	GATE_CHANGE_NR
};

/* "regression", ...; NULL past the end */
const char *gate_change_name(unsigned c);
/* whether a change of this kind fails the gate */
bool gate_change_fails(enum gate_change c);

struct gate_item {
	enum gate_change change;
	char workload[64], metric[48], scope[80];
	bool functional;
	/* the errors, baseline and now (NAN: NA or none), and the tolerance applied */
	double before, after, tolerance;
};

struct gate_result {
	struct gate_item *items;
	size_t n, cap;
	size_t failures, improvements, checked;	/* checked: metrics held against the baseline */
};

/*
 * The baseline of 'side' in the suite's results, 'provenance' (taken; may
 * be NULL) in it. NULL out of memory.
 */
cJSON *gate_baseline(const cJSON *suite, const char *side, cJSON *provenance);

/*
 * Hold the suite's results of 'side' against the baseline. 0 with r
 * filled (the caller releases it), or -1 with err naming 'baseline_path'
 * and the field when the baseline is malformed, or out of memory.
 */
int gate_check(const cJSON *baseline, const char *baseline_path, const cJSON *suite,
	       const char *side, struct gate_result *r, struct wl_error *err);

void gate_result_release(struct gate_result *r);

/*
 * What moved, as a table for a terminal (or Markdown: the same rows), the
 * failures first, then a verdict line. Nothing moved: one line saying so.
 */
void gate_print(FILE *f, const struct gate_result *r);

/* The result as JSON: {"pass", "failures", "improvements", "checked", "changes": [...]}. */
cJSON *gate_result_json(const struct gate_result *r);

#endif
