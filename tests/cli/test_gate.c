/*
 * test_gate.c - the accuracy gate on the shipped reference bundles
 * (datasets/reference/HOST/, each with its baseline.json): an ordinary
 * user's virtuoso validate --baseline passes on each as committed; MimicOS
 * without its huge zero page fails it, naming the workloads and the
 * functional metrics; a slower simulated core fails it on timing; a bundle
 * with a workload removed fails it naming the workload; a baseline written
 * by --update-baseline passes against the same results; a truncated log, a
 * manifest of another version and a malformed baseline exit 2 naming the
 * file and the field.
 */
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "calibrate/store.h"
#include "tests/run.h"
#include "workload/json.h"

#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

static char tmp[] = "/tmp/vtest-gate-XXXXXX";
static char bundle[512];

static void setup(void)
{
	glob_t g;

	if (glob("datasets/reference/*/manifest.json", 0, NULL, &g) || !g.gl_pathc)
		cr_assert_fail("no shipped reference bundle under datasets/reference/");
	snprintf(bundle, sizeof(bundle), "%.*s", (int)(strlen(g.gl_pathv[0]) -
						       strlen("/manifest.json")), g.gl_pathv[0]);
	globfree(&g);
	cr_assert_not_null(mkdtemp(tmp));
	cr_assert_eq(chmod(tmp, 0777), 0);
}

static void teardown(void)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_expect_eq(system(cmd), 0);
}

/* As nobody when root (the gate needs no privilege), else as ourselves. */
static void validate(struct result *r, const char *ref, const char *const *extra)
{
	const char *args[24] = { "validate", "--reference", ref };
	static int n_out;
	char out[600];
	int i = 3, uid = -1;

	snprintf(out, sizeof(out), "%s/out%d", tmp, n_out++);
	args[i++] = "-o";
	args[i++] = strdup(out);
	for (int k = 0; extra && extra[k]; k++)
		args[i++] = extra[k];
	args[i] = NULL;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");

		cr_assert_not_null(pw, "no user nobody to run the gate as");
		uid = (int)pw->pw_uid;
	}
	run_as(r, uid, args);
	free((char *)args[4]);
}

static char *baseline_of(const char *ref)
{
	static char path[600];

	snprintf(path, sizeof(path), "%s/baseline.json", ref);
	return path;
}

/* The JSON object of 'from' with 'edit' applied, written to 'to' (which may be 'from'). */
static void edit_json(const char *from, const char *to, void (*edit)(cJSON *))
{
	struct wl_error err = { 0 };
	cJSON *c = NULL;
	char *text;
	FILE *f;

	cr_assert_eq(wj_load_object(from, &c, &err), 0, "%s: %s", from, err.msg);
	edit(c);
	text = cJSON_Print(c);
	f = fopen(to, "w");
	cr_assert(f && text);
	fputs(text, f);
	fclose(f);
	free(text);
	cJSON_Delete(c);
}

/* The bundle's calibration with 'edit' applied, as a --config file in tmp. */
static char *config_with(void (*edit)(cJSON *))
{
	static char out[600];
	char path[600];

	snprintf(path, sizeof(path), "%s/calibration/calibrated.json", bundle);
	snprintf(out, sizeof(out), "%s/config.json", tmp);
	edit_json(path, out, edit);
	return out;
}

Test(gate, every_shipped_bundle_passes_its_baseline_as_an_ordinary_user, .init = setup,
     .fini = teardown, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	glob_t g;

	cr_assert_not_null(r);
	cr_assert_eq(glob("datasets/reference/*/manifest.json", 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char ref[512];

		snprintf(ref, sizeof(ref), "%.*s", (int)(strlen(g.gl_pathv[i]) -
							 strlen("/manifest.json")), g.gl_pathv[i]);
		validate(r, ref, (const char *const[]){ "--baseline", baseline_of(ref), NULL });
		cr_expect_eq(r->status, 0, "%s: %s\n%s", ref, r->out, r->err);
		cr_expect_not_null(strstr(r->out, "accuracy gate: pass"), "%s", r->out);
	}
	globfree(&g);
	free(r);
}

static void no_huge_zero_page(cJSON *c)
{
	cJSON *m = AT(c, "mimicos"), *thp = AT(m, "thp"), *mods;

	cr_assert_not_null(m);
	if (!thp)
		thp = cJSON_AddObjectToObject(m, "thp");
	cJSON_DeleteItemFromObject(thp, "modules");
	mods = cJSON_AddObjectToObject(thp, "modules");
	cJSON_AddFalseToObject(mods, "huge_zero_page");
}

Test(gate, mimicos_without_its_huge_zero_page_fails_naming_the_workload_and_metrics,
     .init = setup, .fini = teardown, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));

	cr_assert_not_null(r);
	validate(r, bundle, (const char *const[]){ "--baseline", baseline_of(bundle), "--config",
						   config_with(no_huge_zero_page), NULL });
	cr_expect_eq(r->status, 1, "%s\n%s", r->out, r->err);
	cr_expect_not_null(strstr(r->out, "| FAIL regression | zero-page-huge | "), "%s", r->out);
	/* the huge zero page's mappings become THPs or 4 KiB pages: counts and backing move */
	cr_expect(strstr(r->out, "| zero-page-huge | faults_by_kind |") ||
		  strstr(r->out, "| zero-page-huge | backing_agreement |") ||
		  strstr(r->out, "| zero-page-huge | resident_bytes |"), "%s", r->out);
	cr_expect_not_null(strstr(r->out, "accuracy gate: FAIL"), "%s", r->out);
	free(r);
}

static void half_clock(cJSON *c)
{
	cJSON *core = AT(c, "core"), *f = AT(core, "freq_mhz");

	cr_assert(cJSON_IsNumber(f));
	cJSON_SetNumberValue(f, f->valuedouble / 2);
}

Test(gate, a_slower_simulated_core_fails_on_timing, .init = setup, .fini = teardown,
     .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));

	cr_assert_not_null(r);
	validate(r, bundle, (const char *const[]){ "--baseline", baseline_of(bundle), "--config",
						   config_with(half_clock), NULL });
	cr_expect_eq(r->status, 1, "%s\n%s", r->out, r->err);
	cr_expect_not_null(strstr(r->out, "| FAIL regression | "), "%s", r->out);
	cr_expect(strstr(r->out, "| runtime | all |") || strstr(r->out, "| phase_runtime |"),
		  "%s", r->out);
	free(r);
}

/* A copy of the shipped bundle in tmp. */
static char *copy_bundle(void)
{
	static char ref[600];
	char cmd[2400];

	snprintf(ref, sizeof(ref), "%s/bundle", tmp);
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s' && chmod -R a+rX '%s'", bundle, ref, ref);
	cr_assert_eq(system(cmd), 0);
	return ref;
}

static void rewrite_manifest(const char *ref, void (*edit)(cJSON *))
{
	char path[700];

	snprintf(path, sizeof(path), "%s/manifest.json", ref);
	edit_json(path, path, edit);
}

static char removed[64];

static void drop_first_workload(cJSON *m)
{
	cJSON *w = AT(m, "workloads");

	snprintf(removed, sizeof(removed), "%s", AT(cJSON_GetArrayItem(w, 0), "name")->valuestring);
	cJSON_DeleteItemFromArray(w, 0);
}

Test(gate, a_bundle_with_a_workload_removed_fails_naming_it, .init = setup, .fini = teardown,
     .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	char *ref = copy_bundle(), want[160];

	cr_assert_not_null(r);
	rewrite_manifest(ref, drop_first_workload);
	validate(r, ref, (const char *const[]){ "--baseline", baseline_of(bundle), NULL });
	cr_expect_eq(r->status, 1, "%s\n%s", r->out, r->err);
	snprintf(want, sizeof(want), "| FAIL missing | %s | (the workload) |", removed);
	cr_expect_not_null(strstr(r->out, want), "%s", r->out);
	free(r);
}

Test(gate, a_written_baseline_round_trips, .init = setup, .fini = teardown, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	char path[600];

	cr_assert_not_null(r);
	snprintf(path, sizeof(path), "%s/baseline.json", tmp);
	validate(r, bundle, (const char *const[]){ "--baseline", path, "--update-baseline",
						   "--no-calibration", NULL });
	cr_assert_eq(r->status, 0, "%s", r->err);
	validate(r, bundle, (const char *const[]){ "--baseline", path, "--no-calibration", NULL });
	cr_expect_eq(r->status, 0, "%s\n%s", r->out, r->err);
	cr_expect_not_null(strstr(r->out, "Nothing moved"), "%s", r->out);
	/* the reference model against the calibrated baseline: timing moves */
	validate(r, bundle, (const char *const[]){ "--baseline", baseline_of(bundle),
						   "--no-calibration", NULL });
	cr_expect_eq(r->status, 1, "%s", r->out);
	free(r);
}

static void version_2(cJSON *m)
{
	cJSON_SetNumberValue(AT(m, "format_version"), 2);
}

Test(gate, bad_bundles_and_baselines_exit_2_naming_the_file_and_field, .init = setup,
     .fini = teardown, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	char *ref = copy_bundle(), path[700], cmd[1600], want[800];
	const char *w0, *log;
	struct wl_error err = { 0 };
	cJSON *m = NULL;
	FILE *f;

	cr_assert_not_null(r);
	/* a truncated log: the first run's of the first workload */
	snprintf(path, sizeof(path), "%s/manifest.json", ref);
	cr_assert_eq(wj_load_object(path, &m, &err), 0);
	w0 = AT(cJSON_GetArrayItem(AT(m, "workloads"), 0), "name")->valuestring;
	log = AT(cJSON_GetArrayItem(AT(cJSON_GetArrayItem(AT(m, "workloads"), 0), "runs"), 0),
		 "events")->valuestring;
	snprintf(cmd, sizeof(cmd), "truncate -s 100 '%s/%s'", ref, log);
	cr_assert_eq(system(cmd), 0);
	validate(r, ref, NULL);
	cr_expect_eq(r->status, 2, "%s", r->err);
	snprintf(want, sizeof(want), "%s/%s: zstd:", ref, log);
	cr_expect_not_null(strstr(r->err, want), "%s", r->err);
	cr_expect_eq(strchr(r->err, '\n'), r->err + strlen(r->err) - 1, "one line: %s", r->err);
	(void)w0;
	cJSON_Delete(m);

	/* a manifest of another version */
	rewrite_manifest(ref, version_2);
	validate(r, ref, NULL);
	cr_expect_eq(r->status, 2, "%s", r->err);
	cr_expect_not_null(strstr(r->err, "manifest.json: format_version:"), "%s", r->err);

	/* a baseline of another format */
	snprintf(path, sizeof(path), "%s/bad-baseline.json", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"format\": \"virtuoso-baseline\", \"format_version\": 1, \"workloads\": "
	      "[{\"workload\": 3}]}", f);
	fclose(f);
	validate(r, bundle, (const char *const[]){ "--baseline", path, NULL });
	cr_expect_eq(r->status, 2, "%s", r->err);
	snprintf(want, sizeof(want), "%s: workloads[0]:", path);
	cr_expect_not_null(strstr(r->err, want), "%s", r->err);
	free(r);
}

Test(gate, without_reference_the_bundle_shipped_for_this_host_is_used, .init = setup,
     .fini = teardown, .timeout = 600)
{
	struct result *r = malloc(sizeof(*r));
	char key[CAL_STORE_KEY_MAX], name[CAL_STORE_KEY_MAX], dir[300], out[600], want[400];

	cr_assert_not_null(r);
	calibrate_store_this_key(key, sizeof(key));
	calibrate_store_key_name(name, sizeof(name), key);
	snprintf(dir, sizeof(dir), "datasets/reference/%s/manifest.json", name);
	snprintf(out, sizeof(out), "%s/default", tmp);
	run_as(r, -1, (const char *const[]){ "validate", "-o", out, NULL });
	if (!access(dir, R_OK)) {
		cr_expect_eq(r->status, 0, "%s", r->err);
		snprintf(want, sizeof(want), "the bundle shipped for this host: datasets/reference/%s",
			 name);
	} else {
		/* another host class: no bundle of its own, said, nothing written */
		cr_expect_eq(r->status, 2, "%s", r->err);
		snprintf(want, sizeof(want), "no bundle shipped for this host (%s)", key);
		cr_expect_neq(access(out, F_OK), 0, "%s written", out);
	}
	cr_expect_not_null(strstr(r->err, want), "want \"%s\" in %s", want, r->err);
	free(r);
}
