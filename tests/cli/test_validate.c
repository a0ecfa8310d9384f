/*
 * test_validate.c - virtuoso validate: a bundle virtuoso record wrote is
 * simulated and compared by an ordinary user, each workload against the
 * band of its recorded runs (the runtime's band is the runs' probe-free
 * runtimes, read here from the bundle's own files), the suite summarised;
 * a bad bundle exits 2 naming the file and the field.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "tests/host.h"
#include "tests/run.h"
#include "workload/json.h"

#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

static cJSON *load(const char *path)
{
	struct wl_error err = { 0 };
	cJSON *j = NULL;

	cr_assert_eq(wj_load_object(path, &j, &err), 0, "%s: %s", path, err.msg);
	return j;
}

static double runtime_of(const char *path)
{
	cJSON *j = load(path);
	double v = AT(j, "probe_free_runtime_ns")->valuedouble;

	cJSON_Delete(j);
	return v;
}

Test(validate, an_ordinary_user_validates_a_recorded_bundle, .timeout = 600)
{
	char dir[] = "/tmp/vtest-validate-XXXXXX", ref[128], out[128], path[512], cmd[600];
	struct result *r = malloc(sizeof(*r));
	const char *names[2] = { "zero-page-4k-cow", "populate" };
	const cJSON *w, *mt, *m;
	struct passwd *pw;
	cJSON *v;
	double rt[2][2] = { { 0 } };	/* each workload's runtime: Linux, simulated */
	int nw = 0;

	host_require_bpf();
	host_exclusive();
	cr_assert_not_null(r);
	pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("no user nobody on this host");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0777), 0);
	snprintf(ref, sizeof(ref), "%s/bundle", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	RUN(r, "record", "datasets/workloads/zero-page-4k-cow.json",
	    "datasets/workloads/populate.json", "-o", ref, "--repeat", "2");
	cr_assert_eq(r->status, 0, "%s", r->err);
	run_as(r, (int)pw->pw_uid, (const char *const[]){ "validate", "--reference", ref, "-o", out,
							"--no-calibration", NULL });
	cr_assert_eq(r->status, 0, "as nobody: %s", r->err);
	snprintf(path, sizeof(path), "%s/validation.json", out);
	v = load(path);
	cJSON_ArrayForEach(w, AT(v, "workloads")) {
		double a, b;
		bool seen = false;

		cr_expect_str_eq(AT(w, "workload")->valuestring, names[nw], "in the bundle's order");
		cr_expect_eq(AT(w, "linux_runs")->valueint, 2, "both recorded runs compared");
		snprintf(path, sizeof(path), "%s/%s/linux.json", ref, names[nw]);
		a = runtime_of(path);
		snprintf(path, sizeof(path), "%s/%s/linux-2.json", ref, names[nw]);
		b = runtime_of(path);
		cJSON_ArrayForEach(m, AT(w, "metrics")) {
			if (strcmp(AT(m, "name")->valuestring, "runtime"))
				continue;
			seen = true;
			cr_expect_eq(AT(m, "linux_lo")->valuedouble, a < b ? a : b, "%s", names[nw]);
			cr_expect_eq(AT(m, "linux_hi")->valuedouble, a < b ? b : a, "%s", names[nw]);
			cr_expect(cJSON_IsNumber(AT(AT(m, "sim"), "sim")), "%s: simulated", names[nw]);
			rt[nw][0] = AT(m, "linux")->valuedouble;
			rt[nw][1] = AT(AT(m, "sim"), "sim")->valuedouble;
			cr_expect(cJSON_IsString(AT(AT(m, "sim"), "verdict")));
		}
		cr_expect(seen, "%s: its runtime compared", names[nw]);
		snprintf(path, sizeof(path), "%s/%s/sim/summary.json", out, names[nw]);
		cJSON_Delete(load(path));
		nw++;
	}
	cr_expect_eq(nw, 2);
	/*
	 * Two workloads' runtimes: two points, so Pearson's r of the logs and
	 * Kendall's tau are both the sign of (linux1 - linux2)(sim1 - sim2)
	 */
	cJSON_ArrayForEach(mt, AT(v, "metrics"))
		if (!strcmp(AT(mt, "name")->valuestring, "runtime")) {
			const cJSON *st = AT(mt, "sim");
			double sign = (rt[0][0] - rt[1][0]) * (rt[0][1] - rt[1][1]) > 0 ? 1 : -1;

			cr_expect_eq(AT(st, "n")->valueint, 2, "one runtime per workload");
			cr_expect_float_eq(AT(st, "pearson_r")->valuedouble, sign, 1e-9);
			cr_expect_float_eq(AT(st, "kendall_tau")->valuedouble, sign, 1e-9);
			cr_expect(cJSON_IsNumber(AT(st, "aggregate")));
		}
	cJSON_Delete(v);
	snprintf(path, sizeof(path), "%s/validation.md", out);
	cr_expect_eq(access(path, R_OK), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	free(r);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* Each bad bundle: exit 2 and a line naming the file and what is wrong. */
Test(validate, bad_bundle_exits_2_naming_the_file_and_field)
{
	char dir[] = "/tmp/vtest-validate-XXXXXX", ref[128], out[128], path[512], cmd[600];
	struct result *r = malloc(sizeof(*r));

	cr_assert_not_null(r);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(ref, sizeof(ref), "%s/bundle", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	cr_assert_eq(mkdir(ref, 0755), 0);
	RUN(r, "validate", "--reference", ref, "-o", out, "--no-calibration");
	cr_expect_eq(r->status, 2);
	cr_expect_not_null(strstr(r->err, "manifest.json"), "%s", r->err);

	snprintf(path, sizeof(path), "%s/manifest.json", ref);
	write_text(path, "{\"format\": \"something else\", \"format_version\": 1}");
	RUN(r, "validate", "--reference", ref, "-o", out, "--no-calibration");
	cr_expect_eq(r->status, 2);
	cr_expect_not_null(strstr(r->err, "manifest.json: format"), "%s", r->err);

	/* a log that is not zstd */
	write_text(path, "{\"format\": \"virtuoso-reference\", \"format_version\": 1, "
		   "\"workloads\": [{\"name\": \"w\", \"spec\": \"w/spec.json\", \"runs\": "
		   "[{\"linux\": \"w/linux.json\", \"events\": \"w/events.vlog.zst\"}]}]}");
	snprintf(path, sizeof(path), "%s/w", ref);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/w/linux.json", ref);
	write_text(path, "{}");
	snprintf(path, sizeof(path), "%s/w/events.vlog.zst", ref);
	write_text(path, "not zstd at all");
	RUN(r, "validate", "--reference", ref, "-o", out, "--no-calibration");
	cr_expect_eq(r->status, 2);
	cr_expect_not_null(strstr(r->err, "events.vlog.zst: zstd"), "%s", r->err);

	/* a path out of the bundle */
	snprintf(path, sizeof(path), "%s/manifest.json", ref);
	write_text(path, "{\"format\": \"virtuoso-reference\", \"format_version\": 1, "
		   "\"workloads\": [{\"name\": \"w\", \"spec\": \"../w/spec.json\", \"runs\": []}]}");
	RUN(r, "validate", "--reference", ref, "-o", out, "--no-calibration");
	cr_expect_eq(r->status, 2);
	cr_expect_not_null(strstr(r->err, "workloads[0]"), "%s", r->err);
	RUN(r, "validate", "--reference", ref);
	cr_expect_eq(r->status, 2, "no -o");
	cr_expect_neq(access(out, F_OK), 0, "no output left");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	free(r);
}
