/*
 * test_sweep.c - virtuoso sweep on the local pool, no root.
 *
 * datasets/sweeps/thp-by-l2.json is the 2 x 3 x 2 grid: two workloads,
 * kernel.thp never/madvise/always, config.l2.ways 8/16. What must hold, from
 * the simulator's definition rather than from a run: every point is done;
 * the fault counts and page classes do not depend on L2's ways (a
 * functional count); under thp never no point has a THP fault or a PMD
 * page. A second run skips every done point; a point interrupted (its
 * status gone) is redone and only it; one that fails is retried "retries"
 * times and then left with its error. The table is the same with 1 or 2
 * processes. A bad sweep file is one line naming the file and the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "tests/host.h"
#include "tests/run.h"

#define GRID "datasets/sweeps/thp-by-l2.json"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The rows of DIR/results.jsonl, as an array. */
static cJSON *rows(const char *dir)
{
	char path[256], *text, *line, *save = NULL;
	cJSON *a = cJSON_CreateArray();

	snprintf(path, sizeof(path), "%s/results.jsonl", dir);
	text = slurp(path);
	cr_assert_not_null(text, "%s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *r = cJSON_Parse(line);

		cr_assert_not_null(r, "%s: a line does not parse", path);
		cJSON_AddItemToArray(a, r);
	}
	free(text);
	return a;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	cr_assert(cJSON_IsNumber(v), "%s is not a number", k);
	return v->valuedouble;
}

static const char *axis(const cJSON *row, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(row, "axes"),
							   k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void fresh(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(sweep, the_grid_runs_every_point_and_its_counts_follow_the_axes, .timeout = 300)
{
	const char *dir = "/tmp/vsweep-grid";
	struct result r;
	const cJSON *a, *b;
	cJSON *t;
	size_t n = 0;

	fresh(dir);
	RUN(&r, "sweep", GRID, "-o", dir, "--local", "2", "--plot", "faults");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.out, "12 points, 0 not done"), "%s", r.out);
	t = rows(dir);
	cr_assert_eq(cJSON_GetArraySize(t), 12);
	cJSON_ArrayForEach(a, t) {
		cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(a, "state")), "done");
		cr_expect_eq(num(a, "index"), (double)n++);
		if (!strcmp(axis(a, "kernel.thp"), "never")) {
			cr_expect_eq(num(a, "thp_faults"), 0);
			cr_expect_eq(num(a, "pages_pmd"), 0);
		}
	}
	/* l2.ways is the last axis: points 2k and 2k+1 differ in it alone */
	for (int i = 0; i < 12; i += 2) {
		a = cJSON_GetArrayItem(t, i);
		b = cJSON_GetArrayItem(t, i + 1);
		cr_expect_eq(num(a, "faults"), num(b, "faults"), "point %d", i);
		cr_expect_eq(num(a, "pages_pmd"), num(b, "pages_pmd"), "point %d", i);
		cr_expect_eq(num(a, "pages_pte"), num(b, "pages_pte"), "point %d", i);
	}
	cJSON_Delete(t);
	cr_expect_eq(access("/tmp/vsweep-grid/plot-faults.gp", F_OK), 0);
}

Test(sweep, a_second_run_redoes_only_what_was_interrupted, .timeout = 300)
{
	const char *dir = "/tmp/vsweep-resume";
	char *before, *after, cmd[512];
	struct result r;
	cJSON *t;
	const char *id;

	fresh(dir);
	RUN(&r, "sweep", GRID, "-o", dir, "--local", "2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	t = rows(dir);
	before = slurp("/tmp/vsweep-resume/results.csv");
	/* point 5 interrupted: no status, a half-written result */
	id = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 5), "id"));
	snprintf(cmd, sizeof(cmd), "rm %s/points/%s/status.json && echo half > %s/points/%s/out/sim.json",
		 dir, id, dir, id);
	cr_assert_eq(system(cmd), 0);
	RUN(&r, "sweep", GRID, "-o", dir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "12 points, 1 to run"), "%s", r.err);
	after = slurp("/tmp/vsweep-resume/results.csv");
	cr_expect_str_eq(after, before, "the redone point gives what it gave");
	RUN(&r, "sweep", GRID, "-o", dir);
	cr_expect_not_null(strstr(r.err, "12 points, 0 to run"), "%s", r.err);
	/* another sweep in the same directory is refused */
	RUN(&r, "sweep", "datasets/sweeps/seeds-functional.json", "-o", dir);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cJSON_Delete(t);
	free(before);
	free(after);
}

Test(sweep, one_process_or_two_give_the_same_table, .timeout = 300)
{
	struct result r;
	char *one, *two;

	fresh("/tmp/vsweep-one");
	fresh("/tmp/vsweep-two");
	RUN(&r, "sweep", "datasets/sweeps/seeds-functional.json", "-o", "/tmp/vsweep-one");
	cr_assert_eq(r.status, 0, "%s", r.err);
	RUN(&r, "sweep", "datasets/sweeps/seeds-functional.json", "-o", "/tmp/vsweep-two", "--local",
	    "2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	one = slurp("/tmp/vsweep-one/results.csv");
	two = slurp("/tmp/vsweep-two/results.csv");
	cr_assert(one && two);
	cr_expect_str_eq(one, two);
	free(one);
	free(two);
}

/* A point that cannot run (a 4 MiB machine for a 64 MiB workload) fails, is retried, keeps its error. */
Test(sweep, a_failed_point_is_retried_then_reported, .timeout = 120)
{
	static const char sweep[] =
		"{\"name\": \"tight\", \"command\": \"functional\", "
		"\"workloads\": [\"datasets/workloads/thp-never-4k.json\"], "
		"\"axes\": [{\"key\": \"config.mimicos.mem_bytes\", \"values\": [4194304, 1073741824]}], "
		"\"retries\": 1}";
	const char *dir = "/tmp/vsweep-fail";
	struct result r;
	FILE *f;
	cJSON *t, *bad;

	fresh(dir);
	f = fopen("/tmp/vsweep-tight.json", "w");
	cr_assert_not_null(f);
	fputs(sweep, f);
	fclose(f);
	RUN(&r, "sweep", "/tmp/vsweep-tight.json", "-o", dir);
	cr_expect_eq(r.status, 1, "%s", r.err);
	RUN(&r, "sweep", "/tmp/vsweep-tight.json", "-o", dir);
	cr_expect_not_null(strstr(r.err, "2 points, 1 to run"), "retried once: %s", r.err);
	RUN(&r, "sweep", "/tmp/vsweep-tight.json", "-o", dir);
	cr_expect_not_null(strstr(r.err, "2 points, 0 to run"), "then left: %s", r.err);
	t = rows(dir);
	bad = cJSON_GetArrayItem(t, 0);
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(bad, "state")), "failed");
	cr_expect_not_null(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(bad, "error")),
				  "out of memory"));
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 1), "state")),
			 "done");
	RUN(&r, "sweep", "--status", dir);
	cr_expect_not_null(strstr(r.out, "1 done, 1 failed, 0 pending"), "%s", r.out);
	cJSON_Delete(t);
}

Test(sweep, a_bad_sweep_file_is_one_line_naming_the_field)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "{\"name\": \"x\", \"workloads\": [\"datasets/workloads/default.json\"], \"axis\": []}",
		  "axis" },
		{ "{\"name\": \"x\", \"workloads\": []}", "workloads" },
		{ "{\"name\": \"x\", \"workloads\": [\"datasets/workloads/default.json\"], "
		  "\"axes\": [{\"key\": \"l2.ways\", \"values\": [1]}]}", "axes[0].key" },
		{ "{\"name\": \"x\", \"workloads\": [\"datasets/workloads/default.json\"], "
		  "\"axes\": [{\"key\": \"config.l2.wayz\", \"values\": [8]}]}", "wayz" },
		{ "{\"name\": \"x\", \"workloads\": [\"datasets/workloads/default.json\"], "
		  "\"axes\": [{\"key\": \"kernel.thp\", \"values\": [\"sometimes\"]}]}", "kernel.thp" },
		{ "{\"name\": \"x\", \"workloads\": [\"no/such.json\"]}", "no/such.json" },
		{ "{\"name\": \"x\", \"command\": \"calibrate\", "
		  "\"workloads\": [\"datasets/workloads/default.json\"]}", "command" },
	};
	struct result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen("/tmp/vsweep-bad.json", "w");

		cr_assert_not_null(f);
		fputs(bad[i].text, f);
		fclose(f);
		fresh("/tmp/vsweep-bad");
		RUN(&r, "sweep", "/tmp/vsweep-bad.json", "-o", "/tmp/vsweep-bad");
		cr_expect_eq(r.status, 2, "%zu: %s", i, r.err);
		cr_expect_not_null(strstr(r.err, bad[i].says), "%zu: %s", i, r.err);
		cr_expect_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
		cr_expect_neq(access("/tmp/vsweep-bad", F_OK), 0, "%zu left a directory", i);
	}
}

/*
 * The Slurm backend against the local pool: the 2 x 3 x 2 grid as a job
 * array (at most 2 tasks at once) gives the same table, point for point, as
 * does the other shipped sweep;
 * a detached submission returns at once, --status shows it under way, and
 * --collect after the array is done gives the same table again. Skipped
 * without a Slurm to submit to (.ci/run starts one: scripts/slurm-local.sh).
 */
static bool slurm_started;

/* A cluster this test started is stopped, however the test ended. */
static void slurm_stop(void)
{
	if (slurm_started && system("scripts/slurm-local.sh stop >/dev/null 2>&1"))
		fprintf(stderr, "test_sweep: scripts/slurm-local.sh stop failed\n");
	slurm_started = false;
}

Test(sweep, slurm_gives_the_local_pools_table, .timeout = 600, .fini = slurm_stop)
{
	struct result r;
	char *local, *slurm, *detached;

	/* none running: as root, one for this test (it writes /etc/slurm: the host's) */
	if (system("scripts/slurm-local.sh status >/dev/null 2>&1")) {
		if (geteuid())
			cr_skip_test("no Slurm cluster here, and not root to start one "
				     "(scripts/slurm-local.sh start)");
		host_exclusive();
		if (system("scripts/slurm-local.sh start >/dev/null 2>&1"))
			cr_skip_test("Slurm could not start here (scripts/deps.sh installs "
				     "slurmctld, slurmd and munge)");
		slurm_started = true;
	}
	fresh("/tmp/vsweep-local");
	fresh("/tmp/vsweep-slurm");
	fresh("/tmp/vsweep-detached");
	RUN(&r, "sweep", GRID, "-o", "/tmp/vsweep-local", "--local", "2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	RUN(&r, "sweep", GRID, "-o", "/tmp/vsweep-slurm", "--slurm", "--throttle", "2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "12 submitted as Slurm job array"), "%s", r.err);
	local = slurp("/tmp/vsweep-local/results.csv");
	slurm = slurp("/tmp/vsweep-slurm/results.csv");
	cr_assert(local && slurm);
	cr_expect_str_eq(slurm, local);
	cr_expect_eq(access("/tmp/vsweep-slurm/slurm/array.sh", F_OK), 0);

	RUN(&r, "sweep", GRID, "-o", "/tmp/vsweep-detached", "--slurm", "--detach");
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (int i = 0; i < 300; i++) {
		RUN(&r, "sweep", "--status", "/tmp/vsweep-detached");
		if (strstr(r.out, "12 done"))
			break;
		usleep(200000);
	}
	cr_assert_not_null(strstr(r.out, "12 done, 0 failed, 0 pending"), "%s", r.out);
	RUN(&r, "sweep", "--collect", "/tmp/vsweep-detached");
	cr_assert_eq(r.status, 0, "%s", r.err);
	detached = slurp("/tmp/vsweep-detached/results.csv");
	cr_assert_not_null(detached);
	cr_expect_str_eq(detached, local);
	free(local);
	free(slurm);
	free(detached);

	/* the other shipped sweep, the same way */
	fresh("/tmp/vsweep-local");
	fresh("/tmp/vsweep-slurm");
	RUN(&r, "sweep", "datasets/sweeps/seeds-functional.json", "-o", "/tmp/vsweep-local");
	cr_assert_eq(r.status, 0, "%s", r.err);
	RUN(&r, "sweep", "datasets/sweeps/seeds-functional.json", "-o", "/tmp/vsweep-slurm",
	    "--slurm");
	cr_assert_eq(r.status, 0, "%s", r.err);
	local = slurp("/tmp/vsweep-local/results.csv");
	slurm = slurp("/tmp/vsweep-slurm/results.csv");
	cr_assert(local && slurm);
	cr_expect_str_eq(slurm, local);
	free(local);
	free(slurm);
}

/*
 * A sweep of `virtuoso run` points (root): Linux and the simulator for each
 * of thp never and always on one workload; both done, each row with the
 * comparison's verdicts. The axis overrides zero-page-huge's own THP mode:
 * never leaves no PMD page, always gives its THPs.
 */
Test(sweep, run_points_carry_their_verdicts, .timeout = 300)
{
	static const char sweep[] =
		"{\"name\": \"run-two\", \"command\": \"run\", "
		"\"workloads\": [\"datasets/workloads/zero-page-huge.json\"], "
		"\"axes\": [{\"key\": \"kernel.thp\", \"values\": [\"never\", \"always\"]}]}";
	const char *dir = "/tmp/vsweep-run";
	struct result r;
	const cJSON *a;
	cJSON *t;
	FILE *f;

	host_require_bpf();
	fresh(dir);
	f = fopen("/tmp/vsweep-run.json", "w");
	cr_assert_not_null(f);
	fputs(sweep, f);
	fclose(f);
	RUN(&r, "sweep", "/tmp/vsweep-run.json", "-o", dir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	t = rows(dir);
	cr_assert_eq(cJSON_GetArraySize(t), 2);
	cJSON_ArrayForEach(a, t) {
		const char *fv = cJSON_GetStringValue(cJSON_GetObjectItem(a, "functional_verdict"));

		cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(a, "state")), "done");
		const char *lv = cJSON_GetStringValue(cJSON_GetObjectItem(a, "tlb_verdict"));

		cr_expect(fv && (!strcmp(fv, "pass") || !strcmp(fv, "warn") || !strcmp(fv, "fail")),
			  "a verdict: %s", fv ? fv : "(none)");
		/* the TLB's: n/a on a host without a PMU */
		cr_expect(lv && (host_has_pmu() || !strcmp(lv, "n/a")), "tlb verdict: %s",
			  lv ? lv : "(none)");
	}
	/* never: no THP anywhere; always: the workload's THP faults */
	cr_expect_eq(num(cJSON_GetArrayItem(t, 0), "pages_pmd"), 0);
	cr_expect_gt(num(cJSON_GetArrayItem(t, 1), "pages_pmd"), 0);
	cJSON_Delete(t);
}

/*
 * A validate sweep over the shipped reference bundle, L2 ways 8 and 16:
 * both points validate every workload of the bundle (its manifest's count),
 * and the functional metrics, which L2's geometry cannot move, pass alike.
 */
Test(sweep, validate_points_count_the_bundles_passes, .timeout = 300)
{
	static const char sweep[] =
		"{\"name\": \"validate-l2\", \"command\": \"validate\", "
		"\"workloads\": [\"datasets/reference/AuthenticAMD-25-17-6.18-guest\"], "
		"\"axes\": [{\"key\": \"config.l2.ways\", \"values\": [8, 16]}]}";
	const char *dir = "/tmp/vsweep-validate";
	struct result r;
	const cJSON *a, *b;
	cJSON *t, *man;
	char *text;
	FILE *f;

	fresh(dir);
	f = fopen("/tmp/vsweep-validate.json", "w");
	cr_assert_not_null(f);
	fputs(sweep, f);
	fclose(f);
	RUN(&r, "sweep", "/tmp/vsweep-validate.json", "-o", dir, "--local", "2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	text = slurp("datasets/reference/AuthenticAMD-25-17-6.18-guest/manifest.json");
	man = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(man);
	t = rows(dir);
	a = cJSON_GetArrayItem(t, 0);
	b = cJSON_GetArrayItem(t, 1);
	cr_expect_eq(num(a, "workloads_validated"),
		     cJSON_GetArraySize(cJSON_GetObjectItem(man, "workloads")));
	cr_expect_gt(num(a, "functional_metrics"), 0);
	cr_expect_eq(num(a, "functional_pass"), num(b, "functional_pass"));
	cr_expect_eq(num(a, "functional_pass"), num(a, "functional_metrics"));
	cJSON_Delete(t);
	cJSON_Delete(man);
	/* a validate sweep takes configuration axes only */
	f = fopen("/tmp/vsweep-validate.json", "w");
	cr_assert_not_null(f);
	fputs("{\"name\": \"v\", \"command\": \"validate\", "
	      "\"workloads\": [\"datasets/reference/AuthenticAMD-25-17-6.18-guest\"], "
	      "\"axes\": [{\"key\": \"seed\", \"values\": [1]}]}", f);
	fclose(f);
	fresh(dir);
	RUN(&r, "sweep", "/tmp/vsweep-validate.json", "-o", dir);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "axes[0].key"), "%s", r.err);
}
