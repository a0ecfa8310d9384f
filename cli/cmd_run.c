/*
 * cmd_run.c - virtuoso run SPEC --out DIR: the product's one command. The
 * workload on this Linux host under the probes (virtuoso linux: linux.json,
 * events.vlog), then in the simulated world with every region mapped at
 * the address Linux chose and the kernel settings Linux ran with (virtuoso
 * sim: sim.json, sim-events.vlog), then the comparison (virtuoso compare:
 * summary.json, report.md, report.html).
 *
 * Everything given is checked before anything runs: the spec, the --config
 * and --tolerances files (exit 2), then the host (root, BTF: exit 3).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "compare/compare.h"
#include "linux-probes/hostlock.h"
#include "linux-probes/runner.h"
#include "mimicos/version.h"
#include "simulator/config.h"

int cli_read_linux_side(const char *name, const char *dir, const struct wl_spec *s,
			uint64_t *start, struct wl_kernel *host)
{
	struct wl_error err = { 0 };
	char path[4096];
	const cJSON *regions, *k;
	cJSON *root;
	int ret = EXIT_FAIL;

	snprintf(path, sizeof(path), "%s/linux.json", dir);
	if (cli_load_json_object(path, &root, &err)) {
		fprintf(stderr, "virtuoso %s: ", name);
		wl_error_print(&err, stderr);
		return EXIT_FAIL;
	}
	regions = cJSON_GetObjectItemCaseSensitive(root, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(regions, s->regions[i].name);
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "start");

		if (!cJSON_IsNumber(st) || st->valuedouble < 0) {
			fprintf(stderr, "virtuoso %s: %s: regions.%s.start: missing or not an "
				"address\n", name, path, s->regions[i].name);
			goto out;
		}
		start[i] = (uint64_t)st->valuedouble;
	}
	k = cJSON_GetObjectItemCaseSensitive(root, "kernel");
	if (!k || wl_kernel_from_json(host, k, path, &err)) {
		if (!k)
			fprintf(stderr, "virtuoso %s: %s: kernel: missing\n", name, path);
		else {
			fprintf(stderr, "virtuoso %s: ", name);
			wl_error_print(&err, stderr);
		}
		goto out;
	}
	ret = EXIT_OK;
out:
	cJSON_Delete(root);
	return ret;
}

/*
 * The CPUs Linux ran a threaded spec's threads on (linux.json's threads[].cpu,
 * each counted once), for as many simulated cores; 0 for one thread.
 */
static unsigned int linux_cores(const char *dir, const struct wl_spec *s)
{
	uint64_t seen[MIMICOS_CPUMASK_WORDS] = { 0 };
	struct wl_error err = { 0 };
	unsigned int n = 0;
	char path[4096];
	const cJSON *t;
	cJSON *root;

	snprintf(path, sizeof(path), "%s/linux.json", dir);
	if (s->threads <= 1 || cli_load_json_object(path, &root, &err))
		return 0;
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(root, "threads")) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(t, "cpu");
		unsigned int cpu;

		if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble >= MIMICOS_MAX_CPUS)
			continue;
		cpu = (unsigned int)c->valuedouble;
		if (!(seen[cpu / 64] >> (cpu % 64) & 1))
			n++;
		seen[cpu / 64] |= 1ULL << (cpu % 64);
	}
	cJSON_Delete(root);
	return n;
}

static const struct option run_longopts[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "config", required_argument, NULL, 'c' },
	{ "tolerances", required_argument, NULL, CLI_OPT_TOLERANCES },
	{ "strict", no_argument, NULL, CLI_OPT_STRICT },
	{ "repeat", required_argument, NULL, CLI_OPT_REPEAT },
	{ "wait-timeout", required_argument, NULL, CLI_OPT_WAIT_TIMEOUT },
	{ "no-wait", no_argument, NULL, CLI_OPT_NO_WAIT },
	{ "no-calibration", no_argument, NULL, CLI_OPT_NO_CALIBRATION },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * virtuoso run -o DIR [options] -- COMMAND [ARGS...]: the command recorded
 * on Linux (virtuoso linux -- COMMAND), its recording replayed in MimicOS
 * (virtuoso sim --replay), the two compared.
 */
static int run_command(const struct cli_cmd *cmd, int argc, char **argv, int dashdash)
{
	struct cli_compare_opts co = { .wait_s = HOSTLOCK_WAIT_DEFAULT_S };
	struct runner_opts ro = { .tool_version = cli_version };
	struct cli_recording rec;
	struct sim_config cfg;
	struct cli_sim_model m;
	uint64_t mem_bytes = 0;
	struct cli_args a;
	bool incomplete;
	int ret;

	ret = cli_parse_command(argc, argv, dashdash, cmd, "o:c:vh", run_longopts,
				cli_compare_own_option, &co, &a);
	if (ret >= 0)
		return ret;
	if ((ret = cli_sim_check_out_dir("run", a.out)) ||
	    (ret = cli_sim_config("run", a.config, co.no_calibration, &cfg, &mem_bytes, &m)) ||
	    (ret = cli_check_linux_host("run")))
		return ret;
	ro.command = argv + dashdash + 1;
	ro.spec_path = argv[dashdash + 1];
	ro.out_dir = a.out;
	if ((ret = cli_linux_runs("run", &ro, co.repeat, co.wait_s, &incomplete)))
		return ret;
	if ((ret = cli_recording_load(a.out, &rec)))
		return ret;
	ret = cli_sim_replay_write("run", &rec, a.out, mem_bytes, &cfg, &m);
	cli_recording_release(&rec);
	return ret ? ret : cli_compare_dir("run", a.out, &co);
}

int cmd_run(int argc, char **argv)
{
	const struct cli_cmd *cmd = cli_find("run");
	struct cli_compare_opts co = { .wait_s = HOSTLOCK_WAIT_DEFAULT_S };
	struct runner_opts ro = { .tool_version = cli_version };
	struct wl_error err = { 0 };
	struct sim_config cfg;
	struct tolerances tol;
	struct wl_kernel host;
	uint64_t mem_bytes = 0, *start = NULL;
	struct cli_args a;
	struct wl_spec s;
	struct cli_sim_model m;
	bool incomplete;
	int ret;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return run_command(cmd, argc, argv, i);
	ret = cli_parse(argc, argv, cmd, "o:c:vh", run_longopts, cli_compare_own_option, &co,
			"SPEC file", &a);
	if (ret >= 0)
		return ret;
	if (!a.out)
		return cli_usage_error(cmd, "expected --out DIR");
	if ((ret = cli_load_runnable_spec(a.arg, &s, true)))
		return ret;
	/* the simulated side's limit is the tighter: it holds for Linux's files too */
	if ((ret = cli_sim_check_out_dir("run", a.out)))
		goto out;
	if ((ret = cli_sim_config("run", a.config, co.no_calibration, &cfg, &mem_bytes, &m)))
		goto out;
	tolerances_init(&tol);
	ret = co.tolerances && tolerances_load(&tol, co.tolerances, &err) ? EXIT_BAD_INPUT : 0;
	tolerances_release(&tol);
	if (ret) {
		fprintf(stderr, "virtuoso run: ");
		wl_error_print(&err, stderr);
		goto out;
	}
	if ((ret = cli_check_linux_host("run")))
		goto out;
	{
		struct utsname u;

		if (!uname(&u) && !mimicos_imitates(u.release))
			fprintf(stderr, "virtuoso run: warning: MimicOS imitates Linux %s and this host "
				"runs %.60s: where the two worlds differ, the kernels may\n",
				MIMICOS_LINUX_VERSION, u.release);
	}

	/* 1. Linux */
	ro.spec = &s;
	ro.spec_path = a.arg;
	ro.out_dir = a.out;
	if (cli_verbose)
		fprintf(stderr, "virtuoso run: %s on this host under the probes\n", s.name);
	if ((ret = cli_linux_runs("run", &ro, co.repeat, co.wait_s, &incomplete)))
		goto out;

	/* 2. the simulated world, at Linux's addresses and with its settings */
	start = calloc(s.nr_regions ? s.nr_regions : 1, sizeof(*start));
	if (!start) {
		ret = EXIT_FAIL;
		goto out;
	}
	if ((ret = cli_read_linux_side("run", a.out, &s, start, &host)))
		goto out;
	if (cli_verbose)
		fprintf(stderr, "virtuoso run: %s in the simulator with MimicOS\n", s.name);
	if (s.threads > 1) {
		/* as many cores as Linux used */
		unsigned int cores = linux_cores(a.out, &s);

		if (cores)
			cfg.mimicos.cores = cores;
		if (cli_verbose)
			fprintf(stderr, "virtuoso run: %s: %u threads on %u simulated cores\n",
				s.name, s.threads, cores ? cores : s.threads);
	}
	if ((ret = cli_sim_write("run", &s, a.out, mem_bytes, &cfg, &m, true, start, &host)))
		goto out;

	/* 3. the comparison and the report */
	ret = cli_compare_dir("run", a.out, &co);
out:
	free(start);
	wl_spec_release(&s);
	return ret;
}
