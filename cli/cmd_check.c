/*
 * cmd_check.c - virtuoso check: validate a spec, print it normalised.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "no-host", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("check");
	const char *out = NULL;
	bool host = true;
	struct wl_spec s;
	struct wl_error err;
	cJSON *json;
	int c, ret;

	while ((c = cli_getopt(argc, argv, cmd, "o:vh", longopts)) != -1) {
		switch (c) {
		case 'h':
			return EXIT_OK;
		case 'o':
			out = optarg;
			break;
		case 'N':
			host = false;
			break;
		case 'v':
			break;
		default:
			return EXIT_BAD_INPUT;
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(cmd, "expected one SPEC file");
	ret = cli_load_spec(argv[optind], &s);
	if (ret)
		return ret;
	if (host && wl_kernel_resolve(&s.kernel, WL_THP_SYSFS, &err)) {
		/* not fatal: the spec is valid; the host's settings just stay unnamed */
		if (cli_verbose)
			wl_error_print(&err, stderr);
	} else if (host && cli_verbose) {
		fprintf(stderr, "virtuoso check: host settings read from %s\n", WL_THP_SYSFS);
	}
	json = wl_spec_to_json(&s);
	wl_spec_release(&s);
	return cli_write_json(out, json);
}
