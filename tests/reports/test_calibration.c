/*
 * test_calibration.c - the calibration report (reports/calibration.h): from
 * a host's measurements and a fit of them, calibration.md holds a row per
 * fitted parameter with the fit's own values, calibration.html is one file
 * with an inline SVG per figure (when gnuplot is installed) or a placeholder
 * saying why, and a failed write leaves neither file behind.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "calibrate/fit.h"
#include "reports/calibration.h"
#include "tests/files.h"
#include "workload/json.h"

#define HOST_FILE "tests/data/calibrate/measurements-host.json"
#define NR_FIGURES 3

static struct cal_results *measured;
static struct cal_fit *fit;
static struct sim_config base;
static char dir[] = "/tmp/vcalrep-XXXXXX";

static void setup(void)
{
	struct cal_fit_opts o;
	struct wl_error err = { 0 };
	char *text;
	size_t len;
	cJSON *root;

	measured = calloc(1, sizeof(*measured));
	fit = calloc(1, sizeof(*fit));
	cr_assert(measured && fit);
	cr_assert_eq(wj_read_file(HOST_FILE, &text, &len, NULL), 0, "%s: cannot read", HOST_FILE);
	root = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(root, "%s: not JSON", HOST_FILE);
	cr_assert_eq(cal_results_from_json(measured, root, HOST_FILE, &err), 0, "%s", err.msg);
	cJSON_Delete(root);
	sim_config_init(&base);
	cal_fit_opts_init(&o);
	/* the quick fit (virtuoso calibrate --quick): the report, not the fit, is under test */
	o.max_evals = 12;
	o.grid_passes = 1;
	o.max_chase_bytes = o.fit_chase_bytes = 64ull << 20;
	cr_assert_eq(cal_fit(fit, measured, &base, &o, HOST_FILE, &err), 0, "%s: %s", err.path,
		     err.msg);
	tmp_make(dir);
}

static void teardown(void)
{
	tmp_remove(dir);
	free(measured);
	free(fit);
}

static char *read_out(const char *name)
{
	return slurp_in(dir, name);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

static bool have_gnuplot(void)
{
	return !system("command -v gnuplot >/dev/null 2>&1");
}

Test(calibration, markdown_holds_a_row_per_parameter_from_the_fit, .init = setup,
     .fini = teardown, .timeout = 300)
{
	struct report_options none = { .gnuplot = "" };
	struct wl_error err = { 0 };
	char *md;

	cr_assert_eq(calibration_report_write_opts(measured, fit, &base, NULL, dir, &none, &err), 0,
		     "%s: %s", err.path, err.msg);
	md = read_out("calibration.md");
	cr_assert_gt(fit->nr_param, 5);
	for (size_t i = 0; i < fit->nr_param; i++) {
		const struct cal_param *p = &fit->param[i];
		char row[512];

		snprintf(row, sizeof(row), "| %s | %.6g | %s | [%.6g, %.6g] | %s | %s |", p->name,
			 p->value, p->unit, p->lo, p->hi, p->method,
			 p->explains[0] ? p->explains : "-");
		cr_expect_eq(count(md, row), 1, "no row \"%s\" in:\n%s", row, md);
		if (p->has_residual && p->measured) {
			snprintf(row, sizeof(row), "(%+.2f%%) |",
				 100 * (p->modelled - p->measured) / p->measured);
			cr_expect_not_null(strstr(md, row), "%s: no residual %s", p->name, row);
		}
	}
	/*
	 * the chases and faults, with units; the page chase simulated up to
	 * the quick fit's 64 MiB: its 32 KiB row has a value in all six
	 * columns, its 128 MiB row "-" in the four simulated ones
	 */
	cr_expect_not_null(strstr(md, "| 16 KiB | "));
	cr_expect_not_null(strstr(md, " ns | "));
	cr_expect_not_null(strstr(md, " µs | "));
	{
		const char *row = strstr(md, "| 32 KiB | 8 | "), *big = strstr(md, "| 128 MiB | 32768 | ");
		size_t ns = 0, dash = 0;

		cr_assert(row && big, "no page-chase rows in:\n%s", md);
		for (const char *c = row; *c && *c != '\n'; c++)
			ns += !strncmp(c, " ns |", 5);
		for (const char *c = big; *c && *c != '\n'; c++)
			dash += !strncmp(c, "| - |", 5);
		cr_expect_eq(ns, 6, "%.200s", row);
		cr_expect_eq(dash, 4, "%.200s", big);
	}
	cr_expect_eq(count(md, "*Figure in calibration.html: "), NR_FIGURES);
	cr_expect_null(strstr(md, "<svg"));
	/* the recorded host counted no TLB event: the geometry is the base's, and why */
	cr_expect_not_null(strstr(md, "### TLB geometry\n\nThe TLBs' sizes are the base "
				  "configuration's"), "%s", md);
	cr_expect_not_null(strstr(md, "(the measurements hold no TLB counts (an older file))"),
			   "%s", md);
	free(md);
}

Test(calibration, counted_tlb_events_show_both_readings_of_each_reach, .init = setup,
     .fini = teardown, .timeout = 300)
{
	struct report_options none = { .gnuplot = "" };
	struct wl_error err = { 0 };
	char *md;

	/* what cal_fit_tlb() found on a host with a 32-entry L1 and a 1024-entry STLB */
	fit->tlb = (struct cal_tlb_fit){ .counted = true, .l1_entries = 32, .base_l1_entries = 64,
					 .l1_counted_knee = 64, .l1_latency_knee = 64,
					 .stlb_entries = 1024, .base_stlb_entries = 2048,
					 .stlb_counted_knee = 2048, .stlb_latency_knee = 1024 };
	cr_assert_eq(calibration_report_write_opts(measured, fit, &base, NULL, dir, &none, &err), 0,
		     "%s: %s", err.path, err.msg);
	md = read_out("calibration.md");
	cr_expect_not_null(strstr(md, "| L1 DTLB (4 KiB) | 64 | 32 | 64 | 64 |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "| STLB | 2048 | 1024 | 2048 | 1024 |\n"), "%s", md);
	free(md);
}

Test(calibration, html_inlines_an_svg_per_figure, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct wl_error err = { 0 };
	char *html;

	if (!have_gnuplot())
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	cr_assert_eq(calibration_report_write(measured, fit, &base, NULL, dir, &err), 0, "%s: %s",
		     err.path, err.msg);
	html = read_out("calibration.html");
	cr_expect_eq(count(html, "<svg class=\"plot\""), NR_FIGURES, "%s", html);
	cr_expect_eq(count(html, "</svg>"), NR_FIGURES);
	cr_expect_null(strstr(html, "Plot not drawn"));
	cr_expect_null(strstr(html, "<script"));
	cr_expect_null(strstr(html, "src=\""));
	cr_expect_null(strstr(html, "<link"));
	cr_expect_not_null(strstr(html, "Line-granular chase: measured vs simulated before and "
				  "after calibration (ns per load)"));
	cr_expect_not_null(strstr(html, "Page-granular chase in both THP modes: measured vs "
				  "simulated before and after calibration (ns per load)"));
	cr_expect_not_null(strstr(html, "Fault cost per kind: measured (warm, cold) vs simulated"));
	cr_expect_eq(count(html, "</html>"), 1);
	free(html);
}

Test(calibration, html_says_why_without_gnuplot, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct report_options none = { .gnuplot = "/nonexistent/gnuplot" };
	struct wl_error err = { 0 };
	char *html;

	cr_assert_eq(calibration_report_write_opts(measured, fit, &base, NULL, dir, &none, &err), 0,
		     "%s: %s", err.path, err.msg);
	html = read_out("calibration.html");
	cr_expect_eq(count(html, "<strong>Plot not drawn:</strong> gnuplot was not found"),
		     NR_FIGURES);
	cr_expect_null(strstr(html, "<svg"));
	cr_expect_not_null(strstr(html, "No figures: gnuplot was not found"));
	free(html);
}

Test(calibration, a_failed_write_leaves_nothing, .init = setup, .fini = teardown,
     .timeout = 300)
{
	struct report_options none = { .gnuplot = "" };
	struct wl_error err = { 0 };
	char path[128], missing[320];
	struct stat st;

	/* DIR not a directory */
	snprintf(path, sizeof(path), "%s/file", dir);
	cr_assert_eq(close(creat(path, 0644)), 0);
	cr_expect_eq(calibration_report_write_opts(measured, fit, &base, NULL, path, &none, &err), -1);
	cr_expect_not_null(strstr(err.msg, "not a directory"), "%s", err.msg);
	/*
	 * DIR unwritable: no file, no temporary file left. Root writes into a
	 * read-only directory, so as root the write is tried by a child that
	 * drops to nobody first.
	 */
	snprintf(path, sizeof(path), "%s/ro", dir);
	cr_assert_eq(mkdir(path, 0555), 0);
	{
		int status;
		pid_t pid = fork();

		cr_assert_geq(pid, 0);
		if (!pid) {
			if (geteuid() == 0 && (chmod(dir, 0755) || setgid(65534) || setuid(65534)))
				_exit(100);
			if (calibration_report_write_opts(measured, fit, &base, NULL, path, &none, &err) != -1)
				_exit(1);
			_exit(strstr(err.msg, "calibration.md") ? 0 : 2);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status));
		cr_expect_eq(WEXITSTATUS(status), 0, "the write into %s: %s", path,
			     WEXITSTATUS(status) == 100 ? "could not drop to nobody" :
			     WEXITSTATUS(status) == 1 ? "succeeded" : "failed without naming the file");
	}
	snprintf(missing, sizeof(missing), "%s/calibration.md", path);
	cr_expect_neq(stat(missing, &st), 0);
	snprintf(missing, sizeof(missing), "%s/calibration.html", path);
	cr_expect_neq(stat(missing, &st), 0);
	snprintf(missing, sizeof(missing), "test -z \"$(ls -A '%s')\"", path);
	cr_expect_eq(system(missing), 0, "%s is not empty", path);
	chmod(path, 0755);
}

/*
 * Two held-out phases (Linux 100 and 1000 against 50 and 250 before, 200
 * and 1000 after) and anon_4k faults pooled from two Linux runs and both
 * configurations.
 */
static const char heldout_text[] =
	"{\"workloads\": [{\"workload\": \"a\", \"metrics\": ["
	"{\"name\": \"phase_runtime\", \"scope\": \"phase 0 touch\", \"linux\": 100,"
	" \"linux_lo\": 100, \"linux_hi\": 100, \"before\": {\"sim\": 50, \"error\": 1},"
	" \"after\": {\"sim\": 200, \"error\": 1}},"
	"{\"name\": \"phase_runtime\", \"scope\": \"phase 1 run\", \"linux\": 1000,"
	" \"linux_lo\": 900, \"linux_hi\": 1100, \"before\": {\"sim\": 250, \"error\": 2.6},"
	" \"after\": {\"sim\": 1000, \"error\": 0}}]}]}";

Test(calibration, held_out_section_shows_the_suite_and_its_pooled_faults, .init = setup,
     .fini = teardown, .timeout = 300)
{
	static uint64_t l0[] = { 100, 300 }, l1[] = { 200, 400 }, b[] = { 10, 20, 30, 40 },
			a[] = { 100, 200, 300, 400 };
	struct report_options opts = { .gnuplot = have_gnuplot() ? NULL : "" };
	struct suite_faults sf;
	struct cal_heldout held = { .faults = &sf };
	struct wl_error err = { 0 };
	cJSON *xv = cJSON_Parse(heldout_text);
	char *md, *html;

	cr_assert_not_null(xv);
	held.crossval = xv;
	memset(&sf, 0, sizeof(sf));
	sf.nr = sf.nk = 2;
	sf.linux_runs[FAULT_anon_4k][0] = (struct suite_sample){ .v = l0, .n = 2 };
	sf.linux_runs[FAULT_anon_4k][1] = (struct suite_sample){ .v = l1, .n = 2 };
	sf.sim[FAULT_anon_4k][0] = (struct suite_sample){ .v = b, .n = 4 };
	sf.sim[FAULT_anon_4k][1] = (struct suite_sample){ .v = a, .n = 4 };
	cr_assert_eq(calibration_report_write_opts(measured, fit, &base, &held, dir, &opts, &err),
		     0, "%s: %s", err.path, err.msg);
	md = read_out("calibration.md");
	/* MAPE (1 + 2.6) / 2 and (1 + 0) / 2, max 2.6 and 1; two rising points: r 1 */
	cr_expect_not_null(strstr(md, "| phase runtime | 2 | 180.0% | 50.0% | 260.0% | 100.0% | "
				  "1.000 | 1.000 |"), "%s", md);
	cr_expect_not_null(strstr(md, "| fault latency p50 | 0 | - | - | - | - | - | - |"), "%s",
			   md);
	/*
	 * nearest rank: Linux's runs' p50s 100 and 200 (median 150), p90s 300
	 * and 400 (350); before 20 and 40, after 200 and 400
	 */
	cr_expect_not_null(strstr(md, "| anon_4k | 4 | 150 ns | 20 ns | 200 ns | 350 ns | 40 ns | "
				  "400 ns |"), "%s", md);
	cr_expect_null(strstr(md, "| thp |"), "%s", md);
	cr_expect_eq(count(md, "*Figure in calibration.html: "), NR_FIGURES + 2);
	free(md);
	html = read_out("calibration.html");
	if (have_gnuplot()) {
		cr_expect_eq(count(html, "<svg class=\"plot\""), NR_FIGURES + 2);
		cr_expect_not_null(strstr(html, "Every phase runtime and fault latency quantile, "
					  "after: MAPE 50.0%, max 100.0%, Pearson r 1.000 "
					  "(2 points)"));
		cr_expect_not_null(strstr(html, "anon_4k: 4 KiB anonymous page, every workload"));
	}
	free(html);
	cJSON_Delete(xv);
}

Test(calibration, without_cross_validation_the_report_says_why, .init = setup,
     .fini = teardown, .timeout = 300)
{
	struct report_options none = { .gnuplot = "" };
	struct cal_heldout held = { .why = "--no-crossval" };
	struct wl_error err = { 0 };
	char *md;

	cr_assert_eq(calibration_report_write_opts(measured, fit, &base, &held, dir, &none, &err),
		     0, "%s: %s", err.path, err.msg);
	md = read_out("calibration.md");
	cr_expect_not_null(strstr(md, "*Not cross-validated: --no-crossval: no held-out "
				  "figures.*"), "%s", md);
	free(md);
}
