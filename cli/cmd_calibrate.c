/*
 * cmd_calibrate.c - virtuoso calibrate --measure: run the calibration
 * microbenchmarks on this host (calibrate/measure.h) and write
 * DIR/measurements.json, whole or not at all; virtuoso calibrate --from
 * FILE: fit the cost model to a measurements file (calibrate/fit.h) and
 * write DIR/calibrated.json (a whole simulator configuration) and
 * DIR/calibration.json (every parameter, how it was obtained, its
 * residual). The fit is deterministic and needs no privilege.
 */
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "calibrate/fit.h"
#include "calibrate/measure.h"
#include "calibrate/store.h"
#include "cli/cal_latency.h"
#include "cli/cli.h"
#include "cli/xval.h"
#include "reports/calibration.h"
#include "linux-probes/hostlock.h"
#include "linux-probes/thp_sysfs.h"

enum { OPT_MEASURE = 256, OPT_QUICK, OPT_REPEAT, OPT_FROM, OPT_CONFIG, OPT_NO_STORE,
       OPT_NO_CROSSVAL, OPT_NO_LATENCY };

#define MEASUREMENTS_NAME "measurements.json"
#define CALIBRATED_NAME "calibrated.json"
#define CALIBRATION_NAME "calibration.json"

/*
 * --from FILE: the fit. A malformed file is bad input (EXIT_BAD_INPUT, the
 * field named); a failed fit is a failure.
 */
/*
 * The held-out workloads: every dataset workload (the .json files of datasets/workloads/,
 * from the top of the tree), or with --quick three that cover the main
 * fault kinds. None of them is seen by the fit. Returns how many (0: none
 * found, the caller says so).
 */
static size_t held_out(bool quick, char specs[][96], size_t max)
{
	static const char *const few[] = { "default", "thp-never-4k", "zero-page-4k-cow" };
	glob_t g;
	size_t n = 0;

	if (quick) {
		for (size_t i = 0; i < sizeof(few) / sizeof(few[0]) && n < max; i++) {
			snprintf(specs[n], 96, "datasets/workloads/%s.json", few[i]);
			if (!access(specs[n], R_OK))
				n++;
		}
		return n;
	}
	if (glob("datasets/workloads/*.json", 0, NULL, &g))
		return 0;
	for (size_t i = 0; i < g.gl_pathc && n < max; i++)
		if (strlen(g.gl_pathv[i]) < 96)
			snprintf(specs[n++], 96, "%s", g.gl_pathv[i]);
	globfree(&g);
	return n;
}

/*
 * Cross-validation: the held-out workloads on Linux (three runs each, root)
 * and in the simulator before and after the fit, every timing metric
 * compared (cli/xval.h): DIR/crossval.md and crossval.json. Without root it
 * is skipped, saying so; the calibration stands without it.
 */
static int crossval(const char *dir, bool quick, const struct sim_config *before,
		    const struct sim_config *after, struct cal_heldout *held, cJSON **json,
		    struct suite_faults *faults)
{
	static char specs[64][96];
	const char *list[64];
	size_t n = held_out(quick, specs, 64);
	int ret;

	if (!n) {
		fprintf(stderr, "virtuoso calibrate: cross-validation skipped: no held-out "
			"workloads (datasets/workloads/ is read from the top of the tree)\n");
		held->why = "no held-out workloads (datasets/workloads/ is read from the top of "
			    "the tree)";
		return EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		list[i] = specs[i];
	ret = cli_xval_record("calibrate", dir, list, n, HOSTLOCK_WAIT_DEFAULT_S);
	if (ret == EXIT_HOST) {
		held->why = "recording the held-out workloads on Linux needs root and BTF";
		return EXIT_OK;		/* said why: the calibration stands without it */
	}
	if (ret) {
		held->why = "recording the held-out workloads failed";
		return ret;
	}
	ret = cli_xval(dir, list, n, before, after, NULL, json, faults);
	if (ret == EXIT_OK) {
		held->crossval = *json;
		held->faults = faults;
		fprintf(stderr, "virtuoso calibrate: cross-validated on %zu held-out workloads: "
			"%s/crossval.md\n", n, dir);
	} else {
		held->why = "the cross-validation failed";
	}
	return ret;
}

/* no_xval: why there is no cross-validation; NULL: cross-validate */
static int calibrate_from(const char *from, const char *base_path, const char *dir, bool store,
			  const char *no_xval, bool quick)
{
	struct sim_config base, fit_base;
	struct cal_results *r = NULL;
	struct cal_fit *f = NULL;
	struct cal_fit_opts o;
	struct wl_error err = { 0 };
	char path[PATH_MAX], source[256];
	const char *slash = strrchr(from, '/');
	cJSON *root = NULL, *cal = NULL, *conf = NULL, *xjson = NULL;
	struct cal_heldout held = { .why = no_xval };
	struct suite_faults faults;
	int ret = EXIT_FAIL, xret = EXIT_OK;

	memset(&faults, 0, sizeof(faults));
	sim_config_init(&base);
	if (base_path && sim_config_load(&base, base_path, &err)) {
		fprintf(stderr, "virtuoso calibrate: --config: ");
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	if (cli_load_json_object(from, &root, &err)) {
		fprintf(stderr, "virtuoso calibrate: --from: ");
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	r = malloc(sizeof(*r));
	f = malloc(sizeof(*f));
	if (!r || !f) {
		fprintf(stderr, "virtuoso calibrate: out of memory\n");
		goto cleanup;
	}
	if (cal_results_from_json(r, root, from, &err)) {
		fprintf(stderr, "virtuoso calibrate: --from: ");
		wl_error_print(&err, stderr);
		ret = EXIT_BAD_INPUT;
		goto cleanup;
	}
	/* the file's name, not its directory: the same file fits alike from anywhere */
	snprintf(source, sizeof(source), "virtuoso calibrate --from %s", slash ? slash + 1 : from);
	/*
	 * The fit starts from --config's geometry, else the host's as the
	 * suite recorded it; the report's and the cross-validation's "before"
	 * stays the reference, what an uncalibrated run uses
	 */
	fit_base = base_path || !r->has_geometry ? base : r->geometry;
	cal_fit_opts_init(&o);
	if (quick) {
		/* the quick fit: fewer search evaluations, one grid pass, page chases up to 64 MiB */
		o.max_evals = 12;
		o.grid_passes = 1;
		o.max_chase_bytes = 64ull << 20;
		o.fit_chase_bytes = 64ull << 20;
	}
	if (cal_fit(f, r, &fit_base, &o, source, &err)) {
		fprintf(stderr, "virtuoso calibrate: the fit failed: ");
		wl_error_print(&err, stderr);
		goto cleanup;
	}
	cal = cal_fit_to_json(f, r);
	conf = sim_config_to_json(&f->cfg);
	if (!cal || !conf) {
		fprintf(stderr, "virtuoso calibrate: out of memory\n");
		goto cleanup;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "virtuoso calibrate: --out: %s: %s\n", dir, strerror(errno));
		goto cleanup;
	}
	for (size_t i = 0; i < f->nr_param; i++)
		fprintf(stderr, "virtuoso calibrate: %-36s %12g %-24s %s\n", f->param[i].name,
			f->param[i].value, f->param[i].unit, f->param[i].method);
	snprintf(path, sizeof(path), "%s/%s", dir, CALIBRATED_NAME);
	ret = cli_write_json(path, conf);
	conf = NULL;
	if (ret == EXIT_OK) {
		snprintf(path, sizeof(path), "%s/%s", dir, CALIBRATION_NAME);
		ret = cli_write_json(path, cal);
		cal = NULL;
	}
	if (ret == EXIT_OK && !no_xval)
		xret = crossval(dir, quick, &base, &f->cfg, &held, &xjson, &faults);
	/* the report shows the cross-validation, or why there is none; it stands without it */
	if (ret == EXIT_OK && calibration_report_write(r, f, &base, &held, dir, &err)) {
		fprintf(stderr, "virtuoso calibrate: ");
		wl_error_print(&err, stderr);
		ret = EXIT_FAIL;
	}
	if (ret == EXIT_OK)
		fprintf(stderr, "virtuoso calibrate: wrote %s/%s, %s, calibration.md and "
			"calibration.html\n", dir, CALIBRATED_NAME, CALIBRATION_NAME);
	if (ret == EXIT_OK)
		ret = xret;
	if (ret == EXIT_OK && store) {
		char here[CAL_STORE_KEY_MAX], stored[4096];

		/* this host's calibration, for sim and run without --config; never another's */
		calibrate_store_this_key(here, sizeof(here));
		if (strcmp(here, f->cfg.calibration.host)) {
			fprintf(stderr, "virtuoso calibrate: not stored as this host's calibration: "
				"measured on %s, this host is %s\n", f->cfg.calibration.host, here);
		} else if (calibrate_store_save(dir, stored, &err)) {
			fprintf(stderr, "virtuoso calibrate: ");
			wl_error_print(&err, stderr);
			ret = EXIT_FAIL;
		} else {
			fprintf(stderr, "virtuoso calibrate: stored as this host's calibration: %s "
				"(virtuoso sim and run use it without --config)\n", stored);
		}
	}
cleanup:
	cJSON_Delete(root);
	cJSON_Delete(cal);
	cJSON_Delete(conf);
	cJSON_Delete(xjson);
	suite_faults_release(&faults);
	free(r);
	free(f);
	return ret;
}

static void summary(const struct cal_results *r)
{
	const struct cal_chase_point *l0 = &r->line[0], *ln = &r->line[r->nr_line - 1];
	const struct cal_chase_point *p0 = &r->page[0][0], *pn = &r->page[0][r->nr_page - 1];
	const struct cal_chase_point *h0 = &r->page[1][0], *hn = &r->page[1][r->nr_page - 1];

	fprintf(stderr, "virtuoso calibrate: clock %.2f cycles/ns\n", r->cycles_per_ns.median);
	fprintf(stderr, "virtuoso calibrate: line chase %.1f ns/load at %llu KiB, %.1f at %llu MiB\n",
		l0->ns_per_load.median, (unsigned long long)(l0->bytes >> 10),
		ln->ns_per_load.median, (unsigned long long)(ln->bytes >> 20));
	fprintf(stderr, "virtuoso calibrate: page chase %.1f ns/load at %llu pages, %.1f at %llu MiB "
		"(nohugepage); %.1f, %.1f (hugepage, %llu KiB THP)\n",
		p0->ns_per_load.median, (unsigned long long)p0->pages, pn->ns_per_load.median,
		(unsigned long long)(pn->bytes >> 20), h0->ns_per_load.median,
		hn->ns_per_load.median, (unsigned long long)hn->anon_huge_kib);
	fprintf(stderr, "virtuoso calibrate: memset %.1f GB/s, memcpy %.1f GB/s (%llu MiB)\n",
		r->memset_gb_per_s.median, r->memcpy_gb_per_s.median,
		(unsigned long long)(r->bw_bytes >> 20));
	fprintf(stderr, "virtuoso calibrate: native executor ns/access: sequential %.2f, "
		"uniform %.2f, zipf %.2f, chase %.2f\n",
		r->native_ns_per_access[WL_PAT_SEQUENTIAL].median,
		r->native_ns_per_access[WL_PAT_UNIFORM].median,
		r->native_ns_per_access[WL_PAT_ZIPF].median,
		r->native_ns_per_access[WL_PAT_CHASE].median);
	for (int k = 0; k < CAL_FAULT_NR; k++)
		for (int m = 0; m < CAL_MEMORY_NR; m++) {
			const struct cal_fault *f = &r->fault[k][m];

			if (f->measured)
				fprintf(stderr, "virtuoso calibrate: fault %s %s: %.2f us/fault "
					"(%.2f..%.2f)\n", cal_fault_name(k), cal_memory_name(m),
					f->us_per_fault.median, f->us_per_fault.min,
					f->us_per_fault.max);
			else
				fprintf(stderr, "virtuoso calibrate: fault %s %s: skipped: %s\n",
					cal_fault_name(k), cal_memory_name(m), f->skipped);
		}
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		const struct cal_latency *x = &r->latency[k];

		if (x->measured)
			fprintf(stderr, "virtuoso calibrate: fault latency %s: p50 %.0f ns, p90 %.0f, "
				"p99 %.0f (%llu faults, %u runs)\n", cal_lat_name(k), x->p50_ns,
				x->p90_ns, x->p99_ns, (unsigned long long)x->faults, x->runs);
		else
			fprintf(stderr, "virtuoso calibrate: fault latency %s: skipped: %s\n",
				cal_lat_name(k), x->skipped);
	}
}

/*
 * The kernel's fault latency per kind (cli/cal_latency.h), after the native
 * measurements: each kind's spec on Linux under the probes, the
 * calibration's repeat times, into DIR/latency/KIND/; then the TLB-flush
 * cross-calls of the shootdown spec, into DIR/shootdown/. Without root or BTF,
 * or with --no-latency, every kind is skipped with the reason; the rest of
 * the calibration stands without them.
 */
static void fault_latency(struct cal_results *r, const struct cal_opts *o, struct cli_progress *pr,
			  const char *dir, const char *off, int lock)
{
	unsigned total = pr->total, first = total - CAL_LAT_NR - 1, measured = 0;

	if (off) {
		fprintf(stderr, "virtuoso calibrate: fault latency and shootdowns skipped: %s\n", off);
		for (unsigned k = 0; k < CAL_LAT_NR; k++) {
			memset(&r->latency[k], 0, sizeof(r->latency[k]));
			snprintf(r->latency[k].skipped, sizeof(r->latency[k].skipped), "%s", off);
		}
		snprintf(r->shootdown.skipped, sizeof(r->shootdown.skipped), "%s", off);
		return;
	}
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		char what[64];

		snprintf(what, sizeof(what), "fault latency %s", cal_lat_name(k));
		cli_progress_show(pr, first + k, total, what);
		measured += cli_cal_latency(&r->latency[k], k, dir, o->quick, o->repeat,
					    o->thp_root, lock);
	}
	r->latency_runs = measured ? o->repeat : 0;
	cli_progress_show(pr, total - 1, total, "TLB-flush cross-calls");
	if (!cli_cal_shootdown(&r->shootdown, dir, o->quick, o->repeat, lock))
		fprintf(stderr, "\nvirtuoso calibrate: shootdowns not measured: %s\n",
			r->shootdown.skipped);
	cli_progress_show(pr, total, total, "done");
}

int cmd_calibrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "measure", no_argument, NULL, OPT_MEASURE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "out", required_argument, NULL, 'o' },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "no-store", no_argument, NULL, OPT_NO_STORE },
		{ "no-crossval", no_argument, NULL, OPT_NO_CROSSVAL },
		{ "no-latency", no_argument, NULL, OPT_NO_LATENCY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("calibrate");
	const char *dir = NULL, *from = NULL, *base = NULL;
	bool measure = false, store = true, xval = true, latency = true;
	struct cal_opts o;
	struct cal_results *r;
	struct cli_progress pr;
	struct wl_error err = { 0 };
	char path[PATH_MAX], why[160];
	int c, lock = -1, ret;
	cJSON *json;

	cal_opts_init(&o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cmd->usage, stdout);
			return EXIT_OK;
		case 'v':
			cli_verbose++;
			break;
		case 'o':
			dir = optarg;
			break;
		case OPT_MEASURE:
			measure = true;
			break;
		case OPT_FROM:
			from = optarg;
			break;
		case OPT_CONFIG:
			base = optarg;
			break;
		case OPT_NO_STORE:
			store = false;
			break;
		case OPT_NO_CROSSVAL:
			xval = false;
			break;
		case OPT_NO_LATENCY:
			latency = false;
			break;
		case OPT_QUICK:
			o.quick = true;
			break;
		case OPT_REPEAT: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (!optarg[0] || *end || optarg[0] == '-' || n < 1 || n > CAL_REPEAT_MAX)
				return cli_usage_error(cmd, "--repeat: expected a number of runs from "
						       "1 to %d, got \"%.40s\"", CAL_REPEAT_MAX,
						       optarg);
			o.repeat = (unsigned)n;
			break;
		}
		default:
			if (optopt)
				return cli_usage_error(cmd, "option -%c: unknown, or missing its value",
						       optopt);
			return cli_usage_error(cmd, "option %s: unknown, or missing its value",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "expected no arguments, got '%s'", argv[optind]);
	if (measure && from)
		return cli_usage_error(cmd, "expected at most one of --measure and --from FILE");
	if (from) {
		if (!dir)
			return cli_usage_error(cmd, "--from: expected -o DIR");
		ret = cli_check_out_dir("calibrate", dir, sizeof(path));
		if (ret)
			return ret;
		return calibrate_from(from, base, dir, store, "a refit with --from is not "
				      "cross-validated (that needs root: run virtuoso calibrate)",
				      o.quick);
	}
	if (base && measure)
		return cli_usage_error(cmd, "--config: not with --measure");
	if (!dir)
		return cli_usage_error(cmd, "expected -o DIR");
	ret = cli_check_out_dir("calibrate", dir, sizeof(path));
	if (ret)
		return ret;
	if (o.quick && o.repeat == CAL_REPEAT_DEFAULT)
		o.repeat = 3;

	/* one holder of the host at a time: no measurement beside a virtuoso linux */
	if (hostlock_take(thp_sysfs_state_dir(), "virtuoso calibrate", HOSTLOCK_WAIT_DEFAULT_S,
			  stderr, &lock, &err)) {
		if (errno != EACCES && errno != EPERM && errno != EROFS) {
			fprintf(stderr, "virtuoso calibrate: %s: %s\n", err.file, err.msg);
			return EXIT_FAIL;
		}
		fprintf(stderr, "virtuoso calibrate: measuring without the host lock: %s: %s\n",
			err.file, err.msg);
		lock = -1;
	}
	r = malloc(sizeof(*r));
	if (!r) {
		hostlock_release(lock);
		fprintf(stderr, "virtuoso calibrate: out of memory\n");
		return EXIT_FAIL;
	}
	cli_progress_init(&pr, "calibrate");
	o.progress = cli_progress_show;
	o.ctx = &pr;
	if (!latency)
		snprintf(why, sizeof(why), "--no-latency");
	/* counted in the progress only when they will run */
	o.extra_steps = latency && !cli_cal_latency_unavailable(why, sizeof(why)) ? CAL_LAT_NR + 1 :
			0;
	ret = cal_measure(r, &o, &err);
	if (ret) {
		hostlock_release(lock);
		fprintf(stderr, "\nvirtuoso calibrate: %s: %s\n", err.file, err.msg);
		free(r);
		return EXIT_FAIL;
	}
	/* the host stays ours: the latency runs borrow the lock */
	fault_latency(r, &o, &pr, dir, o.extra_steps ? NULL : why, lock);
	hostlock_release(lock);
	summary(r);
	json = cal_results_to_json(r, cli_version);
	free(r);
	if (!json) {
		fprintf(stderr, "virtuoso calibrate: out of memory\n");
		return EXIT_FAIL;
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "virtuoso calibrate: --out: %s: %s\n", dir, strerror(errno));
		cJSON_Delete(json);
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, MEASUREMENTS_NAME);
	ret = cli_write_json(path, json);
	if (ret == EXIT_OK)
		fprintf(stderr, "virtuoso calibrate: wrote %s\n", path);
	/* without --measure: the fit follows, from what was just measured */
	if (ret == EXIT_OK && !measure)
		ret = calibrate_from(path, base, dir, store, xval ? NULL : "--no-crossval",
				     o.quick);
	return ret;
}
