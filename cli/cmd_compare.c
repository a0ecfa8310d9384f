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
	case CLI_OPT_NO_CALIBRATION:
		co->no_calibration = true;
		return 0;
	case CLI_OPT_REPEAT:
		return cli_parse_repeat("run", optarg, &co->repeat);
	case CLI_OPT_WAIT_TIMEOUT:
	case CLI_OPT_NO_WAIT:
		return cli_parse_wait("run", c, optarg, &co->wait_s);
	}
	return EXIT_BAD_INPUT;
}

int cli_compare_own_option(int c, void *ctx)
{
	return own_option(c, ctx);
}

int cli_parse_repeat(const char *name, const char *arg, unsigned *repeat)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (!arg[0] || *end || arg[0] == '-' || n < 1 || n > COMPARE_MAX_RUNS) {
		fprintf(stderr, "virtuoso %s: --repeat: expected a number of runs from 1 to %d, "
			"got \"%.40s\"\n", name, COMPARE_MAX_RUNS, arg);
		return EXIT_BAD_INPUT;
	}
	*repeat = (unsigned)n;
	return 0;
}

static void count_verdicts(const struct comparison *c, size_t n[5])
{
	memset(n, 0, 5 * sizeof(n[0]));
	for (size_t i = 0; i < c->nr_metrics; i++)
		n[c->metrics[i].verdict]++;
}

int cli_load_linux_runs(const char *dir, struct side *runs, size_t *n, struct wl_error *err)
{
	char name[32], path[4096];

	*n = 0;
	if (side_load(&runs[0], dir, "linux.json", err))
		return -1;
	for (*n = 1; *n < COMPARE_MAX_RUNS; ++*n) {
		snprintf(name, sizeof(name), "linux-%zu.json", *n + 1);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (access(path, F_OK))
			break;
		if (side_load(&runs[*n], dir, name, err)) {
			side_release(&runs[*n]);
			return -1;
		}
	}
	return 0;
}

/* The verdict line: the three verdicts, the counts, and the worst three failures. */
static void print_verdict(const char *name, const struct comparison *c)
{
	const struct metric *worst[3];
	size_t n[5], k = comparison_worst(c, worst, 3);
	char what[160];

	count_verdicts(c, n);
	printf("virtuoso %s: %s: verdict %s: functional %s, timing %s%s, tlb %s (%zu metrics: "
	       "%zu pass, %zu warn, %zu fail, %zu n/a, %zu unstable; %zu Linux run%s)%s\n", name,
	       c->linux_side->workload, verdict_name(c->overall), verdict_name(c->functional),
	       verdict_name(c->timing), c->calibrated ? "" : " (uncalibrated)",
	       verdict_name(c->tlb), c->nr_metrics,
	       n[VERDICT_PASS], n[VERDICT_WARN], n[VERDICT_FAIL], n[VERDICT_NA],
	       n[VERDICT_UNSTABLE], c->nr_linux_runs, c->nr_linux_runs == 1 ? "" : "s",
	       c->complete ? "" : "; a side is incomplete");
	if (!k)
		return;
	printf("virtuoso %s: worst:", name);
	for (size_t i = 0; i < k; i++) {
		metric_describe(worst[i], what, sizeof(what));
		printf("%s %s", i ? ";" : "", what);
	}
	printf("\n");
}

int cli_compare_dir(const char *name, const char *dir, const struct cli_compare_opts *co)
{
	struct side lx[COMPARE_MAX_RUNS], sm = { 0 };
	const struct side *runs[COMPARE_MAX_RUNS];
	struct tolerances tol;
	struct comparison c = { 0 };
	struct wl_error err = { 0 };
	char path[4096];
	size_t nl = 0;
	int ret = EXIT_BAD_INPUT;

	memset(lx, 0, sizeof(lx));
	tolerances_init(&tol);
	if (co->tolerances && tolerances_load(&tol, co->tolerances, &err))
		goto out_err;
	if (cli_load_linux_runs(dir, lx, &nl, &err) || side_load(&sm, dir, "sim.json", &err))
		goto out_err;
	for (size_t i = 0; i < nl; i++)
		runs[i] = &lx[i];
	if (compare_runs(&c, runs, nl, &sm, &tol, &err))
		goto out_err;

	if ((size_t)snprintf(path, sizeof(path), "%s/summary.json.tmp.XXXXXX", dir) >= sizeof(path)) {
		fprintf(stderr, "virtuoso %s: %.60s…: too long: %zu bytes\n", name, dir, strlen(dir));
		ret = EXIT_BAD_INPUT;
		goto out;
	}
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
	print_verdict(name, &c);
	printf("virtuoso %s: report: %s/report.html (and report.md, summary.json)\n", name, dir);
	ret = co->strict && c.overall == VERDICT_FAIL ? EXIT_FAIL : EXIT_OK;
	goto out;

out_err:
	fprintf(stderr, "virtuoso %s: ", name);
	wl_error_print(&err, stderr);
out:
	comparison_release(&c);
	for (size_t i = 0; i < COMPARE_MAX_RUNS; i++)
		side_release(&lx[i]);
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
