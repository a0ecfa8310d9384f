/*
 * test_xval.c - cross-validation of a calibration (cli/xval.h): the summary
 * of hand-made Linux sides against the reference model and a model with the
 * core clock doubled, worked out from the files by hand; and, as root, one
 * held-out workload recorded and cross-validated end to end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "cli/cli.h"
#include "cli/xval.h"
#include "compare/compare.h"
#include "reports/suite.h"
#include "simulator/config.h"
#include "tests/host.h"
#include "tests/run.h"
#include "workload/json.h"

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 22];
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return cJSON_Parse(buf);
}

static void save_json(const char *path, const cJSON *j)
{
	char *text = wj_print(j);
	FILE *f = fopen(path, "w");

	cr_assert(text && f);
	fputs(text, f);
	fclose(f);
	free(text);
}

#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

/*
 * DIR/xval/NAME/linux.json from `virtuoso sim --functional`, with the
 * runtime and each phase's runtime set by hand: phase i takes
 * (i + 1) * phase_ns, the whole total_ns.
 */
static void linux_side_by_hand(const char *dir, const char *spec, const char *name,
			       double total_ns, double phase_ns)
{
	char wdir[256], path[300], cmd[1024];
	struct result r;
	cJSON *j, *p;
	int i = 0;

	snprintf(wdir, sizeof(wdir), "%s/xval/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/xval", dir);
	cr_assert_eq(system(cmd), 0);
	RUN(&r, "sim", spec, "-o", wdir, "--functional", "--no-calibration");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(cmd, sizeof(cmd), "sed 's/\"side\": \"sim\"/\"side\": \"linux\"/' %s/sim.json "
		 "> %s/linux.json && rm %s/sim.json", wdir, wdir, wdir);
	cr_assert_eq(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/linux.json", wdir);
	j = load_json(path);
	cr_assert_not_null(j);
	/* Linux is timed: the functional run's "timing": "none" is not its */
	cJSON_DeleteItemFromObject(j, "timing");
	cJSON_ReplaceItemInObject(j, "runtime_ns", cJSON_CreateNumber(total_ns));
	cJSON_ArrayForEach(p, AT(j, "phases")) {
		cJSON_ReplaceItemInObject(p, "runtime_ns", cJSON_CreateNumber((i + 1) * phase_ns));
		i++;
	}
	save_json(path, j);
	cJSON_Delete(j);
}

/* The errors of one configuration, from the files: MAPE and max of each metric. */
struct by_hand {
	double sum[2], max[2];
	size_t n[2];
};

static void add_error(struct by_hand *h, int metric, double linux_ns, double sim_ns)
{
	double e = ratio_error(linux_ns, sim_ns);

	h->sum[metric] += e;
	h->n[metric]++;
	if (e > h->max[metric])
		h->max[metric] = e;
}

static void work_out(struct by_hand *h, const char *dir, const char *name, const char *side,
		     double total_ns, double phase_ns)
{
	char path[600];
	cJSON *j, *p;
	int i = 0;

	snprintf(path, sizeof(path), "%s/xval/%s/%s/sim.json", dir, name, side);
	j = load_json(path);
	cr_assert_not_null(j, "%s", path);
	add_error(h, 0, total_ns, AT(j, "runtime_ns")->valuedouble);
	cJSON_ArrayForEach(p, AT(j, "phases")) {
		add_error(h, 1, (i + 1) * phase_ns, AT(p, "runtime_ns")->valuedouble);
		i++;
	}
	cJSON_Delete(j);
}

static const cJSON *summary_of(const cJSON *sum, const char *metric)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, AT(sum, "metrics"))
		if (!strcmp(AT(m, "name")->valuestring, metric))
			return m;
	return NULL;
}

static void expect_close(double got, double want, const char *what)
{
	cr_expect(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)), "%s: %.12g, by hand %.12g", what,
		  got, want);
}

Test(xval, summary_is_the_ratio_errors_worked_out_by_hand, .timeout = 300)
{
	static const char *const specs[] = { "datasets/workloads/default.json",
					     "datasets/workloads/thp-never-4k.json" };
	static const char *const names[] = { "default", "thp-never-4k" };
	static const double total[] = { 40e6, 9e6 }, phase[] = { 3e6, 2e6 };
	static const char *const metrics[] = { "runtime", "phase_runtime" };
	char dir[] = "/tmp/vtest-xval-XXXXXX", cmd[600];
	struct sim_config before, after;
	struct by_hand h[2] = { 0 };
	struct wl_error err = { 0 };
	cJSON *sum = NULL, *clk;
	char clock[64];

	cr_assert_not_null(mkdtemp(dir));
	for (int w = 0; w < 2; w++)
		linux_side_by_hand(dir, specs[w], names[w], total[w], phase[w]);
	sim_config_init(&before);
	sim_config_init(&after);
	snprintf(clock, sizeof(clock), "{\"core\": {\"freq_mhz\": %u}}", 2 * before.core.freq_mhz);
	clk = cJSON_Parse(clock);
	cr_assert_eq(sim_config_from_json(&after, clk, "doubled", &err), 0, "%s", err.msg);
	cJSON_Delete(clk);

	cr_assert_eq(cli_xval(dir, specs, 2, &before, &after, NULL, &sum, NULL), EXIT_OK);
	cr_assert_not_null(sum);
	for (int k = 0; k < 2; k++)
		for (int w = 0; w < 2; w++)
			work_out(&h[k], dir, names[w], k ? "after" : "before", total[w], phase[w]);
	for (int m = 0; m < 2; m++) {
		const cJSON *s = summary_of(sum, metrics[m]);

		cr_assert_not_null(s, "%s summarised", metrics[m]);
		for (int k = 0; k < 2; k++) {
			const cJSON *x = AT(s, k ? "after" : "before");
			char what[64];

			cr_assert(h[k].n[m] > 0);
			cr_expect_eq(AT(x, "measured")->valueint, (int)h[k].n[m], "%s", metrics[m]);
			snprintf(what, sizeof(what), "%s %s mape", metrics[m], k ? "after" : "before");
			expect_close(AT(x, "mape")->valuedouble, h[k].sum[m] / (double)h[k].n[m], what);
			snprintf(what, sizeof(what), "%s %s max", metrics[m], k ? "after" : "before");
			expect_close(AT(x, "max")->valuedouble, h[k].max[m], what);
		}
	}
	/* the doubled clock changes the simulated runtime */
	cr_expect_neq(h[0].sum[0], h[1].sum[0]);
	cr_expect_eq(cJSON_GetArraySize(AT(sum, "workloads")), 2);
	cJSON_Delete(sum);
	snprintf(cmd, sizeof(cmd), "%s/crossval.json", dir);
	cr_expect_eq(access(cmd, F_OK), 0, "crossval.json written");
	snprintf(cmd, sizeof(cmd), "%s/crossval.md", dir);
	cr_expect_eq(access(cmd, F_OK), 0, "crossval.md written");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
}

Test(xval, a_workload_without_its_linux_side_is_bad_input)
{
	static const char *const specs[] = { "datasets/workloads/default.json" };
	char dir[] = "/tmp/vtest-xval-XXXXXX", cmd[600];
	struct sim_config cfg;

	cr_assert_not_null(mkdtemp(dir));
	sim_config_init(&cfg);
	cr_expect_eq(cli_xval(dir, specs, 1, &cfg, &cfg, NULL, NULL, NULL), EXIT_BAD_INPUT);
	snprintf(cmd, sizeof(cmd), "%s/crossval.json", dir);
	cr_expect_neq(access(cmd, F_OK), 0, "nothing written");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
}

Test(xval, recording_needs_root)
{
	static const char *const specs[] = { "datasets/workloads/default.json" };
	int status;
	pid_t pid;

	/* as root, the refusal is checked as an ordinary user: a child drops to nobody */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(100);
		_exit(cli_xval_record("calibrate", "/tmp/vtest-xval-none", specs, 1, 0));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_expect_neq(WEXITSTATUS(status), 100, "could not drop to nobody");
	cr_expect_eq(WEXITSTATUS(status), EXIT_HOST);
	cr_expect_neq(access("/tmp/vtest-xval-none", F_OK), 0, "nothing written");
}

/* Root: one held-out workload recorded on this host and cross-validated. */
Test(xval, one_workload_recorded_and_cross_validated, .timeout = 600)
{
	static const char *const specs[] = { "datasets/workloads/default.json" };
	char dir[] = "/tmp/vtest-xval-XXXXXX", path[600];
	struct sim_config before, after;
	struct wl_error err = { 0 };
	cJSON *sum = NULL, *clk;
	const cJSON *rt, *m;
	struct suite_faults sf;
	int checked = 0;

	host_require_bpf();
	host_exclusive();
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(cli_xval_record("calibrate", dir, specs, 1, 0), EXIT_OK);
	snprintf(path, sizeof(path), "%s/xval/default/linux-%d.json", dir, XVAL_LINUX_RUNS);
	cr_expect_eq(access(path, F_OK), 0, "%d Linux runs", XVAL_LINUX_RUNS);
	sim_config_init(&before);
	sim_config_init(&after);
	clk = cJSON_Parse("{\"core\": {\"freq_mhz\": 5000}}");
	cr_assert_eq(sim_config_from_json(&after, clk, "fast", &err), 0, "%s", err.msg);
	cJSON_Delete(clk);
	memset(&sf, 0, sizeof(sf));
	cr_assert_eq(cli_xval(dir, specs, 1, &before, &after, NULL, &sum, &sf), EXIT_OK);
	rt = summary_of(sum, "runtime");
	cr_assert_not_null(rt);
	cr_expect_eq(AT(AT(rt, "before"), "n")->valueint, 1);
	cr_expect(cJSON_IsNumber(AT(AT(rt, "before"), "mape")));
	cr_expect(cJSON_IsNumber(AT(AT(rt, "after"), "mape")));
	/*
	 * One workload: its faults pooled are its own, so each kind's p50,
	 * taken from the pooled samples, is the comparison's: Linux's the
	 * median of its runs' p50s, each configuration's its own
	 */
	cr_expect_eq(sf.nr, XVAL_LINUX_RUNS);
	cr_expect_eq(sf.nk, 2);
	cJSON_ArrayForEach(m, AT(cJSON_GetArrayItem(AT(sum, "workloads"), 0), "metrics")) {
		const char *scope = AT(m, "scope")->valuestring;
		uint64_t q[XVAL_LINUX_RUNS], t;
		unsigned kind = 0;

		if (strcmp(AT(m, "name")->valuestring, "fault_latency_p50") || !strcmp(scope, "all") ||
		    !cJSON_IsNumber(AT(m, "linux")))
			continue;
		while (kind < FAULT_KIND_NR && strcmp(fault_kind_name(kind), scope))
			kind++;
		cr_assert_lt(kind, FAULT_KIND_NR, "%s", scope);
		for (int r = 0; r < XVAL_LINUX_RUNS; r++)
			q[r] = sample_quantile(sf.linux_runs[kind][r].v, sf.linux_runs[kind][r].n, 0.5);
		for (int i = 0; i < XVAL_LINUX_RUNS; i++)
			for (int j = i + 1; j < XVAL_LINUX_RUNS; j++)
				if (q[j] < q[i]) {
					t = q[i];
					q[i] = q[j];
					q[j] = t;
				}
		cr_expect_eq((double)q[XVAL_LINUX_RUNS / 2], AT(m, "linux")->valuedouble, "%s", scope);
		for (int k = 0; k < 2; k++) {
			const cJSON *sim = AT(AT(m, k ? "after" : "before"), "sim");

			if (cJSON_IsNumber(sim))
				cr_expect_eq((double)sample_quantile(sf.sim[kind][k].v, sf.sim[kind][k].n,
								     0.5), sim->valuedouble, "%s", scope);
		}
		checked++;
	}
	cr_expect_gt(checked, 0, "no fault kind with a p50 on Linux");
	suite_faults_release(&sf);
	cJSON_Delete(sum);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	system(path);
}
