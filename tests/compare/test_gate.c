/*
 * test_gate.c - the accuracy gate (compare/gate.h) on suites made by hand:
 * the baseline of a suite round-trips through its JSON and passes against
 * the suite itself; a functional metric that stops passing, a timing error
 * that grows past its tolerance, a lost value, a missing workload or
 * metric each fail, naming the workload and metric; growth within the
 * tolerance, improvements and new metrics do not; a malformed baseline is
 * refused naming the field.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "compare/gate.h"

/*
 * Two workloads. a: faults pass (exact), runtime error 0.05 (tolerance
 * 0.1), p50 error 0.3 (tolerance 0.1). b: backing_agreement fails,
 * runtime error NA.
 */
static const char suite_text[] =
	"{\"workloads\": ["
	"{\"workload\": \"a\", \"functional\": ["
	"  {\"name\": \"faults\", \"scope\": \"all\", \"linux\": 10,"
	"   \"sim\": {\"sim\": 10, \"error\": 0, \"verdict\": \"pass\"}}],"
	" \"metrics\": ["
	"  {\"name\": \"runtime\", \"scope\": \"all\", \"linux\": 100, \"tolerance\": 0.1,"
	"   \"sim\": {\"sim\": 105, \"error\": 0.05, \"verdict\": \"pass\"}},"
	"  {\"name\": \"fault_latency_p50\", \"scope\": \"anon_4k\", \"linux\": 10, \"tolerance\": 0.1,"
	"   \"sim\": {\"sim\": 13, \"error\": 0.3, \"verdict\": \"warn\"}}]},"
	"{\"workload\": \"b\", \"functional\": ["
	"  {\"name\": \"backing_agreement\", \"scope\": \"all\", \"linux\": null,"
	"   \"sim\": {\"sim\": null, \"error\": 0.5, \"verdict\": \"fail\"}}],"
	" \"metrics\": ["
	"  {\"name\": \"runtime\", \"scope\": \"all\", \"linux\": null, \"tolerance\": 0.1,"
	"   \"sim\": {\"sim\": null, \"error\": null, \"verdict\": \"n/a\"}}]}]}";

static cJSON *suite(void)
{
	cJSON *s = cJSON_Parse(suite_text);

	cr_assert_not_null(s);
	return s;
}

/* The metric entry of workload w named name in array key of the suite. */
static cJSON *entry(cJSON *s, int w, const char *key, const char *name)
{
	cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(s, "workloads"), w), key))
		if (!strcmp(cJSON_GetObjectItem(m, "name")->valuestring, name))
			return cJSON_GetObjectItem(m, "sim");
	cr_assert_fail("no %s", name);
	return NULL;
}

static void set_num(cJSON *o, const char *key, double v)
{
	cJSON_ReplaceItemInObject(o, key, cJSON_CreateNumber(v));
}

/* The baseline of the suite, printed and parsed back: what git keeps. */
static cJSON *baseline_of(const cJSON *s)
{
	cJSON *b = gate_baseline(s, "sim", cJSON_CreateString("by hand")), *back;
	char *text;

	cr_assert_not_null(b);
	text = cJSON_Print(b);
	cJSON_Delete(b);
	back = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(back);
	return back;
}

static size_t count_change(const struct gate_result *r, enum gate_change c, const char *workload,
			   const char *metric)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->items[i].change == c && !strcmp(r->items[i].workload, workload) &&
		     !strcmp(r->items[i].metric, metric);
	return n;
}

Test(gate, a_baseline_round_trips_and_passes_against_its_suite)
{
	cJSON *s = suite(), *b = baseline_of(s);
	struct gate_result r;
	struct wl_error err = { 0 };

	cr_assert_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.failures, 0);
	cr_expect_eq(r.n, 0, "nothing moved");
	/* two functional and three timing metrics held against it */
	cr_expect_eq(r.checked, 5);
	cr_expect_str_eq(cJSON_GetObjectItem(b, "provenance")->valuestring, "by hand");
	gate_result_release(&r);
	cJSON_Delete(b);
	cJSON_Delete(s);
}

Test(gate, a_functional_metric_that_stops_passing_fails_and_one_that_starts_improves)
{
	cJSON *s = suite(), *b = baseline_of(s);
	struct gate_result r;
	struct wl_error err = { 0 };

	cJSON_ReplaceItemInObject(entry(s, 0, "functional", "faults"), "verdict",
				  cJSON_CreateString("fail"));
	cJSON_ReplaceItemInObject(entry(s, 1, "functional", "backing_agreement"), "verdict",
				  cJSON_CreateString("pass"));
	cr_assert_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.failures, 1);
	cr_expect_eq(count_change(&r, GATE_regression, "a", "faults"), 1);
	cr_expect_eq(r.improvements, 1);
	cr_expect_eq(count_change(&r, GATE_improved, "b", "backing_agreement"), 1);
	/* the failure listed first */
	cr_expect_eq(r.items[0].change, GATE_regression);
	gate_result_release(&r);
	cJSON_Delete(b);
	cJSON_Delete(s);
}

Test(gate, a_timing_error_fails_only_past_its_tolerance)
{
	cJSON *s = suite(), *b = baseline_of(s);
	struct gate_result r;
	struct wl_error err = { 0 };

	/* runtime 0.05 -> 0.14: within 0.1; p50 0.3 -> 0.41: past it */
	set_num(entry(s, 0, "metrics", "runtime"), "error", 0.14);
	set_num(entry(s, 0, "metrics", "fault_latency_p50"), "error", 0.41);
	cr_assert_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.failures, 1);
	cr_expect_eq(count_change(&r, GATE_regression, "a", "fault_latency_p50"), 1);
	cr_expect_eq(count_change(&r, GATE_worse, "a", "runtime"), 1);
	gate_result_release(&r);

	/* both better: improvements, no failure */
	set_num(entry(s, 0, "metrics", "runtime"), "error", 0);
	set_num(entry(s, 0, "metrics", "fault_latency_p50"), "error", 0.1);
	cr_assert_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), 0);
	cr_expect_eq(r.failures, 0);
	cr_expect_eq(r.improvements, 2);
	gate_result_release(&r);

	/* a value lost fails; a value gained is new */
	cJSON_ReplaceItemInObject(entry(s, 0, "metrics", "runtime"), "error", cJSON_CreateNull());
	set_num(entry(s, 1, "metrics", "runtime"), "error", 0.2);
	cr_assert_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), 0);
	cr_expect_eq(count_change(&r, GATE_regression, "a", "runtime"), 1);
	cr_expect_eq(count_change(&r, GATE_new, "b", "runtime"), 1);
	cr_expect_eq(r.failures, 1);
	gate_result_release(&r);
	cJSON_Delete(b);
	cJSON_Delete(s);
}

Test(gate, a_missing_workload_or_metric_fails_and_a_new_one_does_not)
{
	cJSON *s = suite(), *b = baseline_of(s), *ws = cJSON_GetObjectItem(s, "workloads");
	struct gate_result r;
	struct wl_error err = { 0 };
	FILE *f;
	char *text = NULL;
	size_t len = 0;

	/* b gone, a's p50 gone, a new workload c */
	cJSON_DeleteItemFromArray(ws, 1);
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(cJSON_GetArrayItem(ws, 0), "metrics"), 1);
	cJSON_AddItemToArray(ws, cJSON_Parse("{\"workload\": \"c\", \"functional\": [], "
					     "\"metrics\": []}"));
	cr_assert_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), 0, "%s", err.msg);
	cr_expect_eq(r.failures, 2);
	cr_expect_eq(count_change(&r, GATE_missing, "b", ""), 1);
	cr_expect_eq(count_change(&r, GATE_missing, "a", "fault_latency_p50"), 1);
	cr_expect_eq(count_change(&r, GATE_new, "c", ""), 1);

	/* the table names them, failures first, and the verdict: a's three metrics checked */
	f = open_memstream(&text, &len);
	gate_print(f, &r);
	fclose(f);
	cr_expect_not_null(strstr(text, "| FAIL missing | b | (the workload) |"), "%s", text);
	cr_expect_not_null(strstr(text, "| FAIL missing | a | fault_latency_p50 | anon_4k |"), "%s",
			   text);
	cr_expect_lt(strstr(text, "FAIL missing"), strstr(text, "| new |"), "%s", text);
	cr_expect_not_null(strstr(text, "accuracy gate: FAIL: 3 metrics checked, 2 failures"),
			   "%s", text);
	free(text);
	gate_result_release(&r);
	cJSON_Delete(b);
	cJSON_Delete(s);
}

Test(gate, a_malformed_baseline_is_refused_naming_the_field)
{
	static const struct {
		const char *text, *field;
	} bad[] = {
		{ "{\"format\": \"x\"}", "format" },
		{ "{\"format\": \"virtuoso-baseline\", \"format_version\": 2}", "format_version" },
		{ "{\"format\": \"virtuoso-baseline\", \"format_version\": 1}", "workloads" },
		{ "{\"format\": \"virtuoso-baseline\", \"format_version\": 1, \"workloads\": "
		  "[{\"workload\": \"a\", \"functional\": [], \"timing\": [{\"name\": \"runtime\", "
		  "\"scope\": \"all\", \"error\": \"big\", \"tolerance\": 0.1}]}]}",
		  "workloads[0].timing[0]" },
	};
	cJSON *s = suite();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *b = cJSON_Parse(bad[i].text);
		struct gate_result r;
		struct wl_error err = { 0 };

		cr_assert_not_null(b);
		cr_expect_eq(gate_check(b, "baseline.json", s, "sim", &r, &err), -1, "%s",
			     bad[i].text);
		cr_expect_str_eq(err.file, "baseline.json");
		cr_expect_str_eq(err.path, bad[i].field);
		cJSON_Delete(b);
	}
	cJSON_Delete(s);
}
