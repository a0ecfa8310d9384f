/*
 * test_latency.c - the fault-latency microbenchmarks' specs
 * (calibrate/latency_specs.h) and measurements.json's "fault_latency":
 * every kind's spec parses and its kernel block pins what the kind needs;
 * the kinds are named as the comparison names them; the section goes
 * through cal_results_to_json() and cal_results_from_json() unchanged; a
 * malformed field is refused naming it, and virtuoso calibrate --from
 * exits 2 on it. No root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "calibrate/fit.h"
#include "calibrate/latency_specs.h"
#include "calibrate/measure.h"
#include "compare/compare.h"
#include "tests/run.h"
#include "workload/json.h"
#include "workload/spec.h"

#define HOST_FILE "tests/data/calibrate/measurements-host.json"

static struct wl_spec parse(unsigned k, bool quick)
{
	char text[CAL_LAT_SPEC_MAX];
	struct wl_error err = { 0 };
	struct wl_spec s;
	int n = cal_lat_spec(k, quick, text, sizeof(text));

	cr_assert_gt(n, 0, "%s: no spec", cal_lat_name(k));
	cr_assert_eq((size_t)n, strlen(text));
	cr_assert_eq(wl_spec_parse(&s, text, strlen(text), cal_lat_name(k), &err), 0,
		     "%s: %s: %s", cal_lat_name(k), err.path, err.msg);
	return s;
}

static bool has_advice(const struct wl_region *r, enum wl_advice a)
{
	for (size_t i = 0; i < r->nr_advice; i++)
		if (r->advice[i] == a)
			return true;
	return false;
}

Test(latency_specs, every_kind_parses_and_pins_its_kernel_settings)
{
	for (unsigned k = 0; k < CAL_LAT_NR; k++)
		for (int quick = 0; quick < 2; quick++) {
			struct wl_spec s = parse(k, quick);
			const struct wl_kernel *kn = &s.kernel;
			const struct wl_phase *t = &s.phases[s.nr_phases - 1];
			unsigned kib = cal_lat_mthp_kib(k);
			const char *name = cal_lat_name(k);
			bool huge = k == CAL_LAT_thp || k == CAL_LAT_huge_zero_read ||
				    k == CAL_LAT_huge_zero_write;
			bool setup = k == CAL_LAT_zero_cow || k == CAL_LAT_huge_zero_write;
			bool write = k != CAL_LAT_zero_read && k != CAL_LAT_huge_zero_read;

			cr_expect_str_eq(s.name, cal_lat_spec_name(k));
			/* nothing left to the host */
			cr_expect_neq(kn->thp, WL_THP_HOST, "%s: thp", name);
			cr_expect_neq(kn->defrag, WL_DEFRAG_HOST, "%s: defrag", name);
			cr_expect_eq(kn->use_zero_page, 1, "%s: use_zero_page", name);
			for (int o = 0; o < WL_MTHP_NR; o++) {
				unsigned okib = 4u << (o + WL_MTHP_MIN_ORDER);

				cr_expect_eq(kn->mthp[o], okib == kib ? WL_MTHP_ALWAYS : WL_MTHP_NEVER,
					     "%s: mthp %u KiB", name, okib);
			}
			cr_expect_eq(kn->thp, huge ? WL_THP_ALWAYS : WL_THP_NEVER, "%s: thp", name);
			/* the 4 KiB kinds: no THP of any size, whatever the host */
			cr_expect_eq(has_advice(&s.regions[0], WL_ADV_NOHUGEPAGE), !huge && !kib,
				     "%s: nohugepage", name);
			/* a setup phase of reads first where the kind needs one, the timed one last */
			cr_expect_eq(s.nr_phases, setup ? 2u : 1u, "%s: phases", name);
			cr_expect_eq(cal_lat_timed_phase(k), s.nr_phases - 1, "%s", name);
			if (setup) {
				cr_expect_eq(s.phases[0].op, WL_PH_TOUCH);
				cr_expect(!s.phases[0].write, "%s: setup writes", name);
				cr_expect_eq(s.phases[0].stride, t->stride);
			}
			cr_expect_eq(t->op, WL_PH_TOUCH);
			cr_expect_eq(t->write, write, "%s: timed phase write", name);
			/* one access per 4 KiB page, 2 MiB block or mTHP folio: one fault each */
			cr_expect_eq(t->stride, kib ? kib * 1024ull : huge ? 2ull << 20 : 4096ull,
				     "%s: stride", name);
			cr_expect_eq(s.regions[0].size / t->stride, cal_lat_faults(k, quick),
				     "%s: faults", name);
			cr_expect_eq(t->offset, 0u);
			cr_expect_eq(t->length, s.regions[0].size);
			wl_spec_release(&s);
		}
	/* the sizes the brief holds to: 16384 4 KiB faults, 64..128 THP, 1024..4096 mTHP */
	cr_expect_eq(cal_lat_faults(CAL_LAT_anon_4k, false), 16384u);
	cr_expect_eq(cal_lat_faults(CAL_LAT_anon_4k, true), 2048u);
	cr_expect_eq(cal_lat_faults(CAL_LAT_thp, false), 128u);
	cr_expect_eq(cal_lat_faults(CAL_LAT_mthp_64k, false), 2048u);
}

Test(latency_specs, text_is_a_pure_function_of_kind_and_quick)
{
	char a[CAL_LAT_SPEC_MAX], b[CAL_LAT_SPEC_MAX], small[64];

	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		cr_assert_gt(cal_lat_spec(k, false, a, sizeof(a)), 0);
		cr_assert_gt(cal_lat_spec(k, false, b, sizeof(b)), 0);
		cr_expect_str_eq(a, b, "%s", cal_lat_name(k));
		cr_assert_gt(cal_lat_spec(k, true, b, sizeof(b)), 0);
		cr_expect_str_neq(a, b, "%s: quick is the same size", cal_lat_name(k));
		cr_expect_eq(cal_lat_spec(k, false, small, sizeof(small)), -1);
	}
	cr_expect_eq(cal_lat_spec(CAL_LAT_NR, false, a, sizeof(a)), -1);
	cr_expect_null(cal_lat_name(CAL_LAT_NR));
}

/* calibrate/ may not include compare/: the names are held equal here. */
Test(latency_specs, kind_names_are_compare_kind_names)
{
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		bool found = false;

		for (unsigned i = 0; fault_kind_name(i); i++)
			found |= !strcmp(fault_kind_name(i), cal_lat_name(k));
		cr_expect(found, "%s is no compare fault kind", cal_lat_name(k));
	}
}

static struct cal_results *host_results(void)
{
	struct cal_results *r = malloc(sizeof(*r));
	struct wl_error err = { 0 };
	cJSON *root;

	cr_assert_not_null(r);
	cr_assert_eq(wj_load_object(HOST_FILE, &root, &err), 0, "%s: %s", err.file, err.msg);
	/* the section's absence is under test: a file from before the suite measured it */
	cJSON_DeleteItemFromObject(root, "fault_latency");
	cr_assert_eq(cal_results_from_json(r, root, HOST_FILE, &err), 0, "%s: %s: %s", err.file,
		     err.path, err.msg);
	cJSON_Delete(root);
	return r;
}

/* Two kinds measured with made-up numbers, the rest skipped. */
static void fill_latency(struct cal_results *r)
{
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		memset(&r->latency[k], 0, sizeof(r->latency[k]));
		snprintf(r->latency[k].skipped, sizeof(r->latency[k].skipped), "why %u", k);
	}
	r->latency_runs = 3;
	r->latency[CAL_LAT_anon_4k] = (struct cal_latency){
		.measured = true, .spec = "cal-latency-anon_4k", .runs = 2, .runs_left_out = 1,
		.faults = 4096,
		.cold = 7, .other = 2, .p50_ns = 2100, .p90_ns = 2800, .p99_ns = 5600,
		.mean_ns = 2236.5, .p50_ns_runs = { 2100, 2050, 2200, 150.0 / 2100 },
		.p90_ns_runs = { 2800, 2700, 2900, 200.0 / 2800 },
		.has_lru_batch = true, .lru_batch_excess_ns_runs = { 3100, 2900, 3300, 400.0 / 3100 },
	};
	r->latency[CAL_LAT_mthp_64k] = (struct cal_latency){
		.measured = true, .spec = "cal-latency-mthp_64k", .runs = 3, .faults = 1536,
		.p50_ns = 10335, .p90_ns = 11157, .p99_ns = 14712, .mean_ns = 10500.25,
		.p50_ns_runs = { 10335, 10335, 10335, 0 }, .p90_ns_runs = { 11157, 11000, 11200, 0.02 },
	};
}

static void stat_eq(const struct cal_stat *a, const struct cal_stat *b, const char *what)
{
	cr_expect(a->median == b->median && a->min == b->min && a->max == b->max &&
		  fabs(a->spread - b->spread) < 1e-12, "%s differs", what);
}

Test(latency_json, round_trip_through_measurements_json)
{
	struct cal_results *r = host_results(), *back = malloc(sizeof(*back));
	struct wl_error err = { 0 };
	cJSON *j;

	cr_assert_not_null(back);
	/* a file without the section: every kind skipped, "not in the file" */
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		cr_expect(!r->latency[k].measured);
		cr_expect_str_eq(r->latency[k].skipped, "not in the file");
	}
	fill_latency(r);
	j = cal_results_to_json(r, "test");
	cr_assert_not_null(j);
	cr_assert_eq(cal_results_from_json(back, j, "rt.json", &err), 0, "%s: %s", err.path,
		     err.msg);
	cr_expect_eq(back->latency_runs, 3u);
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		const struct cal_latency *a = &r->latency[k], *b = &back->latency[k];

		cr_expect_eq(a->measured, b->measured, "%s", cal_lat_name(k));
		if (!a->measured) {
			cr_expect_str_eq(a->skipped, b->skipped);
			continue;
		}
		cr_expect_str_eq(a->spec, b->spec);
		cr_expect_eq(a->runs, b->runs);
		cr_expect_eq(a->runs_left_out, b->runs_left_out);
		cr_expect_eq(a->faults, b->faults);
		cr_expect_eq(a->cold, b->cold);
		cr_expect_eq(a->other, b->other);
		cr_expect(a->p50_ns == b->p50_ns && a->p90_ns == b->p90_ns && a->p99_ns == b->p99_ns &&
			  a->mean_ns == b->mean_ns, "%s: quantiles differ", cal_lat_name(k));
		stat_eq(&a->p50_ns_runs, &b->p50_ns_runs, "p50_ns_runs");
		stat_eq(&a->p90_ns_runs, &b->p90_ns_runs, "p90_ns_runs");
		cr_expect_eq(a->has_lru_batch, b->has_lru_batch, "%s", cal_lat_name(k));
		stat_eq(&a->lru_batch_excess_ns_runs, &b->lru_batch_excess_ns_runs,
			"lru_batch_excess_ns_runs");
	}
	/* the keys as calibrate/README.md documents them */
	{
		const cJSON *fl = cJSON_GetObjectItemCaseSensitive(j, "fault_latency");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(fl, "anon_4k");

		cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(fl, "method")));
		cr_expect_eq(cJSON_GetObjectItemCaseSensitive(fl, "runs")->valueint, 3);
		cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(a, "spec")->valuestring,
				 "cal-latency-anon_4k");
		cr_expect_eq(cJSON_GetObjectItemCaseSensitive(a, "faults")->valuedouble, 4096);
		cr_expect_eq(cJSON_GetObjectItemCaseSensitive(a, "runs_left_out")->valuedouble, 1);
		cr_expect_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
				 a, "lru_batch_excess_ns_runs"), "median")->valuedouble, 3100);
		cr_expect_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
				 fl, "mthp_64k"), "lru_batch_excess_ns_runs"), "large folios move at once");
		cr_expect_str_eq(cJSON_GetObjectItemCaseSensitive(
				 cJSON_GetObjectItemCaseSensitive(fl, "thp"), "skipped")->valuestring,
				 "why 5");
	}
	cJSON_Delete(j);
	free(back);
	free(r);
}

/* fault_latency.anon_4k.p50_ns a string: -1 in process, exit 2 from the command, the field named. */
Test(latency_json, malformed_field_is_named, .timeout = 60)
{
	struct cal_results *r = host_results();
	struct result *res = malloc(sizeof(*res));
	struct wl_error err = { 0 };
	cJSON *j, *a;
	char *text;
	FILE *f;

	cr_assert_not_null(res);
	fill_latency(r);
	j = cal_results_to_json(r, "test");
	a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "fault_latency"),
					     "anon_4k");
	cJSON_ReplaceItemInObjectCaseSensitive(a, "p50_ns", cJSON_CreateString("2100"));
	cr_expect_eq(cal_results_from_json(r, j, "bad.json", &err), -1);
	cr_expect_str_eq(err.path, "fault_latency.anon_4k.p50_ns");
	cr_expect_str_eq(err.file, "bad.json");

	text = cJSON_Print(j);
	f = fopen("/tmp/vlat-bad.json", "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	RUN(res, "calibrate", "--from", "/tmp/vlat-bad.json", "-o", "/tmp/vlat-bad", "--no-store");
	cr_expect_eq(res->status, 2, "%s", res->err);
	cr_expect(strstr(res->err, "fault_latency.anon_4k.p50_ns"), "%s", res->err);
	cr_expect(strstr(res->err, "/tmp/vlat-bad.json"), "%s", res->err);
	remove("/tmp/vlat-bad.json");
	free(text);
	cJSON_Delete(j);
	free(res);
	free(r);
}
