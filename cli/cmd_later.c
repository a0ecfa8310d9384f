/*
 * cmd_later.c - run and compare: the command line, argument and
 * input checks and exit codes of ../shared/spec/results.md, ahead of the
 * parts that fill them in (the Linux side, MimicOS and the simulator, the
 * comparison). Until those land, each validates what it was given exactly as
 * it will then, and stops with exit status 1 saying what is missing.
 * (sim moved to cmd_sim.c when its functional run landed.)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "workload/json.h"

/* A JSON input file must exist and hold one object; errors name the file. */
static int check_json_file(const char *path)
{
	struct wl_error err;
	cJSON *root;

	if (cli_load_json_object(path, &root, &err)) {
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	cJSON_Delete(root);
	return EXIT_OK;
}

int cli_check_linux_host(const char *name)
{
	if (geteuid() != 0) {
		fprintf(stderr, "virtuoso %s: needs root to load BPF programs and set THP policy "
			"(running as uid %u)\n", name, (unsigned)geteuid());
		return EXIT_HOST;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "virtuoso %s: this kernel has no BTF (/sys/kernel/btf/vmlinux), "
			"which the CO-RE probes need\n", name);
		return EXIT_HOST;
	}
	return EXIT_OK;
}

static int not_yet(const char *name, const char *what)
{
	fprintf(stderr, "virtuoso %s: %s is not built yet; the input was checked and nothing was "
		"written\n", name, what);
	return EXIT_FAIL;
}

/* Validate SPEC (and the config), then the host for the Linux side. */
static int common(const char *name, int argc, char **argv, bool config_ok, bool linux_side)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find(name);
	struct cli_args a;
	struct wl_spec s;
	int ret = cli_parse(argc, argv, cmd, "o:c:vh", longopts, NULL, NULL, "SPEC file", &a);

	if (ret >= 0)
		return ret;
	if (!a.out)
		return cli_usage_error(cmd, "expected --out DIR");
	if (a.config && !config_ok)
		return cli_usage_error(cmd, "--config: not an option of this command");
	ret = cli_load_spec(a.arg, &s);
	if (ret)
		return ret;
	wl_spec_release(&s);
	if (a.config && (ret = check_json_file(a.config)))
		return ret;
	if (linux_side && (ret = cli_check_linux_host(name)))
		return ret;
	return -1;
}

int cmd_run(int argc, char **argv)
{
	int ret = common("run", argc, argv, true, true);

	return ret >= 0 ? ret : not_yet("run", "the end-to-end run (Linux side, simulator, comparison)");
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_args a;
	char path[4096];
	int ret = cli_parse(argc, argv, cli_find("compare"), "vh", longopts, NULL, NULL, "DIR", &a);

	if (ret >= 0)
		return ret;
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", a.arg, i ? "sim.json" : "linux.json");
		ret = check_json_file(path);
		if (ret)
			return ret;
	}
	return not_yet("compare", "the comparison engine");
}
