/*
 * cmd_check.c - virtuoso check: validate a spec, print it normalised.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"

/* --no-host: leave the host's settings out. */
static int check_opt(int c, void *ctx)
{
	if (c != 'N')
		return EXIT_BAD_INPUT;
	*(bool *)ctx = false;
	return 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "no-host", no_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_args a;
	struct wl_spec s;
	struct wl_error err;
	bool host = true;
	cJSON *json;
	int ret;

	ret = cli_parse(argc, argv, cli_find("check"), "o:vh", longopts, check_opt, &host,
			"SPEC file", &a);
	if (ret >= 0)
		return ret;
	ret = cli_load_spec(a.arg, &s);
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
	return cli_write_json(a.out, json);
}
