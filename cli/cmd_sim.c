/*
 * cmd_sim.c - virtuoso sim: a workload through MimicOS, DIR/sim.json.
 *
 * --functional runs the functional driver (simulator/functional.h): MimicOS
 * answers every fault, no time is simulated ("timing": "none"). Without it
 * the command needs the timing simulator (issue 5): it checks its input and
 * stops with exit status 1.
 *
 * The --config file is one JSON object. The functional run reads only
 *	"mimicos": { ... }	MimicOS's configuration (mimicos/channel.h,
 *				channel_config_from_json(): "mode" in-process or
 *				out-of-process, "mem_bytes" (default here: this
 *				machine's RAM), "policy" linux or reservation,
 *				"thp": {"modules": {...}}, "cost", ...). The
 *				workload's kernel block replaces its THP settings.
 * and leaves every other key to the timing simulator.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "simulator/functional.h"
#include "workload/json.h"

enum { OPT_FUNCTIONAL = 256 };


struct sim_args {
	bool functional;
};

static int own_option(int c, void *ctx)
{
	struct sim_args *sa = ctx;

	if (c != OPT_FUNCTIONAL)
		return EXIT_BAD_INPUT;
	sa->functional = true;
	return 0;
}

/*
 * The config: one object; its "mimicos" object over channel_config_init()'s
 * defaults. *mem_bytes: its mem_bytes when given, else 0 (the host's RAM).
 */
static int read_config(const char *path, struct channel_config *cfg, uint64_t *mem_bytes)
{
	struct wl_error err;
	const cJSON *m;
	cJSON *root;
	int ret = -1;

	channel_config_init(cfg);
	*mem_bytes = 0;
	if (cli_load_json_object(path, &root, &err))
		goto out;
	m = cJSON_GetObjectItemCaseSensitive(root, "mimicos");
	if (m && channel_config_from_json(cfg, m, path, &err)) {
		/* its paths are relative to the object: name it from the top */
		size_t n = strlen(err.path);

		if (n + sizeof("mimicos.") <= sizeof(err.path)) {
			memmove(err.path + 8, err.path, n + 1);
			memcpy(err.path, "mimicos.", 8);
			if (!n)
				err.path[7] = '\0';
		}
		goto out_root;
	}
	if (m && cJSON_GetObjectItemCaseSensitive(m, "mem_bytes"))
		*mem_bytes = cfg->mem_bytes;
	ret = 0;
out_root:
	cJSON_Delete(root);
out:
	if (ret)
		wl_error_print(&err, stderr);
	return ret ? EXIT_BAD_INPUT : EXIT_OK;
}

static int run_functional(const struct wl_spec *s, const char *dir, uint64_t mem_bytes,
			  const struct channel_config *cfg)
{
	struct functional_opts o;
	struct functional_run run;
	struct wl_error err = { 0 };
	struct wl_kernel host = s->kernel;
	char path[4096], log_path[512];
	cJSON *json;
	int ret;

	/* Settings left to the host: this host's THP sysfs, or it cannot run. */
	if (wl_kernel_resolve(&host, WL_THP_SYSFS, &err)) {
		fprintf(stderr, "virtuoso sim: the spec leaves kernel settings to the host, "
			"which cannot give them: ");
		wl_error_print(&err, stderr);
		return EXIT_HOST;
	}
	functional_opts_init(&o);
	o.host = &host;
	o.mem_bytes = mem_bytes;
	o.mimicos = cfg;
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "virtuoso sim: %s: cannot create: %s\n", dir, strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(log_path, sizeof(log_path), "%s/" FUNCTIONAL_EVLOG_NAME, dir);
	o.events_path = log_path;
	if (functional_run(&run, s, &o, &err)) {
		fprintf(stderr, "virtuoso sim: ");
		wl_error_print(&err, stderr);
		functional_release(&run);
		return EXIT_FAIL;
	}
	json = functional_to_json(&run);
	if (json)
		cJSON_AddStringToObject(json, "tool", cli_version);
	if (!json) {
		functional_release(&run);
		fprintf(stderr, "virtuoso sim: out of memory\n");
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/sim.json", dir);
	ret = cli_write_json(path, json);
	if (ret)
		unlink(log_path);
	if (!ret && !run.complete)
		fprintf(stderr, "virtuoso sim: %s is incomplete: %s%s\n", path, run.reasons[0],
			run.nr_reasons > 1 ? " (and more: see incomplete_reasons)" : "");
	else if (!ret && cli_verbose)
		fprintf(stderr, "virtuoso sim: wrote %s\n", path);
	functional_release(&run);
	return ret;
}

int cmd_sim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "functional", no_argument, NULL, OPT_FUNCTIONAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("sim");
	struct sim_args sa = { 0 };
	uint64_t mem_bytes = 0;
	struct channel_config cfg;
	struct cli_args a;
	struct wl_spec s;
	int ret = cli_parse(argc, argv, cmd, "o:c:vh", longopts, own_option, &sa, "SPEC file", &a);

	if (ret >= 0)
		return ret;
	if (!a.out)
		return cli_usage_error(cmd, "expected --out DIR");
	if ((ret = cli_load_spec(a.arg, &s)))
		return ret;
	channel_config_init(&cfg);
	if (a.config && (ret = read_config(a.config, &cfg, &mem_bytes))) {
		wl_spec_release(&s);
		return ret;
	}
	if (!sa.functional) {
		wl_spec_release(&s);
		fprintf(stderr, "virtuoso sim: the timing simulator is not built yet (try "
			"--functional); the input was checked and nothing was written\n");
		return EXIT_FAIL;
	}
	ret = run_functional(&s, a.out, mem_bytes, &cfg);
	wl_spec_release(&s);
	return ret;
}
