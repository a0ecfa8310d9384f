/*
 * cmd_compare.c - virtuoso compare DIR, and the comparison step that
 * virtuoso run shares with it: the two sides saved in DIR (linux.json and
 * sim.json, with their event logs) through the comparison engine
 * (compare/compare.h), written as DIR/summary.json, DIR/report.md and
 * DIR/report.html (reports/report.h).
 *
 * Exit status: 0 (whatever the verdict, unless --strict: then 1 when the
 * overall verdict is fail); 2 a side is missing, truncated, malformed or
 * does not belong with the other (different workloads, tool versions or
 * regions), or a bad --tolerances file; 1 anything else. The three outputs
 * are written whole or not at all: a failure removes what this run wrote.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "compare/compare.h"
#include "reports/report.h"

static int own_option(int c, void *ctx)
{
	struct cli_compare_opts *co = ctx;

	switch (c) {
	case CLI_OPT_TOLERANCES:
		co->tolerances = optarg;
		return 0;
	case CLI_OPT_STRICT:
		co->strict = true;
		return 0;
	}
	return EXIT_BAD_INPUT;
}

int cli_compare_own_option(int c, void *ctx)
{
	return own_option(c, ctx);
}

static void count_verdicts(const struct comparison *c, size_t n[4])
{
	memset(n, 0, 4 * sizeof(n[0]));
	for (size_t i = 0; i < c->nr_metrics; i++)
		n[c->metrics[i].verdict]++;
}

int cli_compare_dir(const char *name, const char *dir, const struct cli_compare_opts *co)
{
	struct side lx = { 0 }, sm = { 0 };
	struct tolerances tol;
	struct comparison c = { 0 };
	struct wl_error err = { 0 };
	char path[4096];
	size_t n[4];
	int ret = EXIT_BAD_INPUT;

	tolerances_init(&tol);
	if (co->tolerances && tolerances_load(&tol, co->tolerances, &err))
		goto out_err;
	if (side_load(&lx, dir, "linux.json", &err) || side_load(&sm, dir, "sim.json", &err))
		goto out_err;
	if (compare_sides(&c, &lx, &sm, &tol, &err))
		goto out_err;

	snprintf(path, sizeof(path), "%s/summary.json", dir);
	ret = cli_write_json(path, comparison_to_json(&c));
	if (ret)
		goto out;
	if (report_write(&c, dir, &err)) {
		unlink(path);		/* nothing half-written */
		fprintf(stderr, "virtuoso %s: ", name);
		wl_error_print(&err, stderr);
		ret = EXIT_FAIL;
		goto out;
	}
	count_verdicts(&c, n);
	printf("virtuoso %s: %s: verdict %s (%zu metrics: %zu pass, %zu warn, %zu fail, %zu n/a)%s\n",
	       name, lx.workload, verdict_name(c.overall), c.nr_metrics, n[VERDICT_PASS],
	       n[VERDICT_WARN], n[VERDICT_FAIL], n[VERDICT_NA],
	       c.complete ? "" : "; a side is incomplete");
	printf("virtuoso %s: report: %s/report.html (and report.md, summary.json)\n", name, dir);
	ret = co->strict && c.overall == VERDICT_FAIL ? EXIT_FAIL : EXIT_OK;
	goto out;

out_err:
	fprintf(stderr, "virtuoso %s: ", name);
	wl_error_print(&err, stderr);
out:
	comparison_release(&c);
	side_release(&lx);
	side_release(&sm);
	tolerances_release(&tol);
	return ret;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "tolerances", required_argument, NULL, CLI_OPT_TOLERANCES },
		{ "strict", no_argument, NULL, CLI_OPT_STRICT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_compare_opts co = { 0 };
	struct cli_args a;
	int ret = cli_parse(argc, argv, cli_find("compare"), "vh", longopts, own_option, &co,
			    "DIR", &a);

	if (ret >= 0)
		return ret;
	return cli_compare_dir("compare", a.arg, &co);
}
