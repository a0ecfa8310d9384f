/*
 * test_cli.c - bin/virtuoso as a user runs it: exit codes of docs/results-format.md,
 * help texts, one-line errors, and output files that are whole or absent.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "calibrate/store.h"
#include "tests/run.h"
#include "workload/spec.h"


/* A spec in a temporary file; returns its path (static buffer per slot). */
static const char *spec_file(int slot, const char *text)
{
	static char paths[4][64];
	int fd;

	snprintf(paths[slot], sizeof(paths[slot]), "/tmp/vcli-spec-XXXXXX");
	fd = mkstemp(paths[slot]);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return paths[slot];
}

static const char *small =
	"{\"name\":\"small\",\"seed\":3,\"regions\":[{\"name\":\"a\",\"size\":\"1MiB\","
	"\"advice\":[\"nohugepage\"]},{\"name\":\"b\",\"size\":\"64KiB\"}],\"phases\":["
	"{\"op\":\"touch\",\"region\":\"a\",\"stride\":\"64KiB\"},"
	"{\"op\":\"access\",\"region\":\"b\",\"pattern\":\"chase\",\"count\":100,\"stride\":\"4KiB\"},"
	"{\"op\":\"sleep\",\"ms\":1}]}";

Test(cli, version_prints_the_version_file)
{
	struct result r;
	char want[64] = "";
	FILE *f = fopen("VERSION", "r");

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(want, sizeof(want), f));
	fclose(f);
	want[strcspn(want, "\n")] = '\0';
	RUN(&r, "--version");
	cr_assert_eq(r.status, 0);
	cr_assert_eq(strncmp(r.out, "virtuoso ", 9), 0, "%s", r.out);
	cr_assert_not_null(strstr(r.out, want), "%s lacks %s", r.out, want);
}

Test(cli, help_lists_every_command_and_each_has_its_own)
{
	static const char *const cmds[] = { "check", "gen", "exec", "linux", "sim", "run", "compare",
					    "hwinfo", "dump", "calibrate" };
	struct result r;

	RUN(&r, "--help");
	cr_assert_eq(r.status, 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char want[64];

		snprintf(want, sizeof(want), "\n  %s ", cmds[i]);
		cr_expect_not_null(strstr(r.out, want), "--help lacks %s", cmds[i]);
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct result h;
		char want[64];

		RUN(&h, cmds[i], "--help");
		snprintf(want, sizeof(want), "usage: virtuoso %s", cmds[i]);
		cr_expect_eq(h.status, 0, "%s --help", cmds[i]);
		cr_expect_eq(strncmp(h.out, want, strlen(want)), 0, "%s --help: %s", cmds[i], h.out);
	}
}

Test(cli, unknown_command_or_option_is_bad_input)
{
	struct result r;

	RUN(&r, "frobnicate");
	cr_assert_eq(r.status, 2);
	cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
	RUN(&r, "check", "--frob", "x.json");
	cr_assert_eq(r.status, 2);
	RUN(&r, "check");
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "SPEC"), "%s", r.err);
}

Test(cli, check_rejects_a_bad_spec_in_one_line_naming_file_and_field)
{
	struct result r;

	RUN(&r, "check", "tests/data/malformed/touch-stride-not-8.json");
	cr_assert_eq(r.status, 2);
	cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
	cr_assert_eq(strncmp(r.err, "tests/data/malformed/touch-stride-not-8.json: phases[0].stride: ",
			     63), 0, "%s", r.err);
	cr_assert_str_eq(r.out, "", "nothing on stdout");

	RUN(&r, "check", "tests/data/does-not-exist.json");
	cr_assert_eq(r.status, 2);
	cr_assert_eq(run_lines(r.err), 1);
	cr_assert_not_null(strstr(r.err, "tests/data/does-not-exist.json"));
}

Test(cli, check_prints_the_spec_normalised)
{
	struct result r;
	cJSON *j, *regions, *ph;

	RUN(&r, "check", "--no-host", spec_file(0, small));
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = cJSON_Parse(r.out);
	cr_assert_not_null(j, "%s", r.out);
	regions = cJSON_GetObjectItem(j, "regions");
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(regions, 0), "size")->valuedouble, 1048576.0);
	ph = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 0);
	cr_assert_eq(cJSON_GetObjectItem(ph, "stride")->valuedouble, 65536.0);
	cr_assert_eq(cJSON_GetObjectItem(ph, "length")->valuedouble, 1048576.0);
	cr_assert_str_eq(cJSON_GetObjectItem(ph, "order")->valuestring, "sequential");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(ph, "write")));
	/* --no-host leaves the kernel block as the spec had it: empty */
	cr_assert_null(cJSON_GetObjectItem(j, "kernel")->child);
	cJSON_Delete(j);
}

Test(cli, check_fills_host_settings_from_sysfs)
{
	struct result r;
	cJSON *j, *k;

	if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK))
		cr_skip_test("no THP sysfs on this host");
	RUN(&r, "check", spec_file(0, small));
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = cJSON_Parse(r.out);
	k = cJSON_GetObjectItem(j, "kernel");
	cr_assert(cJSON_IsString(cJSON_GetObjectItem(k, "thp")));
	cr_assert(cJSON_IsBool(cJSON_GetObjectItem(k, "use_zero_page")));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(k, "khugepaged")), 7);
	cJSON_Delete(j);
}

/* Every example normalises, and the normal form is a spec with the same normal form. */
Test(cli, check_normalises_every_dataset_workload)
{
	glob_t g;

	cr_assert_eq(glob("datasets/workloads/*.json", 0, NULL, &g), 0);
	cr_assert_geq(g.gl_pathc, 11);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct result r;
		struct wl_spec s;
		struct wl_error err;
		cJSON *want, *got;

		RUN(&r, "check", "--no-host", g.gl_pathv[i]);
		cr_expect_eq(r.status, 0, "%s: %s", g.gl_pathv[i], r.err);
		cr_assert_eq(wl_spec_parse(&s, r.out, strlen(r.out), "normalised", &err), 0,
			     "%s: normal form rejected: %s: %s", g.gl_pathv[i], err.path, err.msg);
		want = cJSON_Parse(r.out);
		got = wl_spec_to_json(&s);
		cr_expect(cJSON_Compare(want, got, true), "%s: not a fixed point", g.gl_pathv[i]);
		cJSON_Delete(want);
		cJSON_Delete(got);
		wl_spec_release(&s);
	}
	globfree(&g);
}

/*
 * A seed reads back as the same integer: check prints it digit for digit up
 * to 2^53 - 1, and refuses a larger one naming it (a JSON reader would take
 * 2^53 + 1 for 2^53: another stream).
 */
Test(cli, check_prints_seeds_exactly_and_refuses_those_it_cannot)
{
	static const char *const exact[] = {
		"4503599627370497", "9007199254740991",		/* 2^52 + 1, 2^53 - 1 */
	};
	static const char *const refused[] = {
		"9007199254740992", "9007199254740993", "18446744073709551615",
	};
	char text[512], want[64];
	struct result r;

	for (size_t i = 0; i < 2; i++) {
		snprintf(text, sizeof(text), "{\"name\":\"s\",\"seed\":%s,\"regions\":[{\"name\":"
			 "\"a\",\"size\":4096}],\"phases\":[{\"op\":\"touch\",\"region\":\"a\"}]}",
			 exact[i]);
		RUN(&r, "check", "--no-host", spec_file(0, text));
		cr_assert_eq(r.status, 0, "%s", r.err);
		snprintf(want, sizeof(want), "\"seed\": %s,\n", exact[i]);
		cr_expect_not_null(strstr(r.out, want), "%s printed as:\n%s", exact[i], r.out);
		/* and the printed spec reads back to the same seed */
		RUN(&r, "check", "--no-host", spec_file(1, r.out));
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_expect_not_null(strstr(r.out, want), "%s read back as:\n%s", exact[i], r.out);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "{\"name\":\"s\",\"seed\":%s,\"regions\":[{\"name\":"
			 "\"a\",\"size\":4096}],\"phases\":[{\"op\":\"touch\",\"region\":\"a\"}]}",
			 refused[i]);
		RUN(&r, "check", "--no-host", spec_file(0, text));
		cr_expect_eq(r.status, 2, "seed %s: %d %s", refused[i], r.status, r.out);
		cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
		cr_expect_not_null(strstr(r.err, ": seed: expected an integer from 0 to 9007199254740991"),
				   "%s", r.err);
		cr_expect_str_empty(r.out);
	}
}

static int count_glob(const char *pattern)
{
	glob_t g;
	int n = glob(pattern, 0, NULL, &g) ? 0 : (int)g.gl_pathc;

	if (n)
		globfree(&g);
	return n;
}

/* RUN with writes limited to 'bytes' per file (RLIMIT_FSIZE: EFBIG past it). */
static void run_limited(struct result *r, rlim_t bytes, const char *const *args)
{
	struct rlimit old, lim = { bytes, bytes };

	/* the child inherits both; SIGXFSZ ignored, the write fails instead */
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	run_start(r, -1, args);
	setrlimit(RLIMIT_FSIZE, &old);
	run_finish(r);
}

/*
 * A write that fails (a full disk, a file size limit) is one line naming
 * the file and why, exit 1, and leaves nothing behind.
 */
Test(cli, a_failed_write_names_the_file_and_why)
{
	char dir[] = "/tmp/vcli-full-XXXXXX", out[128], pat[160];
	const char *spec = spec_file(0, small);
	struct result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/n.json", dir);
	snprintf(pat, sizeof(pat), "%s/*", dir);
	run_limited(&r, 100, (const char *const[]){ "check", "--no-host", "-o", out, spec, NULL });
	cr_expect_eq(r.status, 1, "%d: %s", r.status, r.err);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	cr_expect_not_null(strstr(r.err, out), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "File too large"), "%s", r.err);
	cr_expect_eq(count_glob(pat), 0, "nothing half-written");
	run_limited(&r, 100, (const char *const[]){ "gen", "-o", out, spec, NULL });
	cr_expect_eq(r.status, 1, "%d: %s", r.status, r.err);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "File too large"), "%s", r.err);
	cr_expect_eq(count_glob(pat), 0, "nothing half-written");
	/* dump and hwinfo write through the same path */
	run_limited(&r, 100, (const char *const[]){ "dump", "tests/data/compare/default/events.vlog",
						    "-o", out, NULL });
	cr_expect_eq(r.status, 1, "%d: %s", r.status, r.err);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	cr_expect_not_null(strstr(r.err, out), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "File too large"), "%s", r.err);
	cr_expect_eq(count_glob(pat), 0, "nothing half-written");
	run_limited(&r, 100, (const char *const[]){ "hwinfo", "-o", out, NULL });
	cr_expect_eq(r.status, 1, "%d: %s", r.status, r.err);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "File too large"), "%s", r.err);
	cr_expect_eq(count_glob(pat), 0, "nothing half-written");
	RUN(&r, "dump", "tests/data/compare/default/events.vlog", "-o", "/dev/full");
	cr_expect_eq(r.status, 1);
	cr_expect_not_null(strstr(r.err, "/dev/full"), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "No space left on device"), "%s", r.err);
	RUN(&r, "check", "--no-host", "-o", "/dev/full", spec);
	cr_expect_eq(r.status, 1);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "/dev/full: cannot write: No space left on device"), "%s",
			   r.err);
	snprintf(pat, sizeof(pat), "rm -rf %s", dir);
	cr_assert_eq(system(pat), 0);
}

/*
 * The simulated side's event log that cannot be written (a full disk, a
 * file size limit) is named with the cause, in either channel mode (the
 * log is written by whichever process runs MimicOS), and nothing is left.
 */
Test(cli, sim_names_the_event_log_it_could_not_write)
{
	static const char *const modes[] = { "in-process", "out-of-process" };
	char dir[] = "/tmp/vcli-simfull-XXXXXX", out[128], pat[160], cfg[128];
	const char *spec = spec_file(0, small);
	struct result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/o", dir);
	snprintf(cfg, sizeof(cfg), "%s/cfg.json", dir);
	snprintf(pat, sizeof(pat), "%s/o", dir);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		FILE *f = fopen(cfg, "w");

		cr_assert_not_null(f);
		fprintf(f, "{\"mimicos\": {\"mode\": \"%s\"}}\n", modes[i]);
		fclose(f);
		/* 1 KiB per file: the log's 256 fault records (about 10 bytes each) do not fit */
		run_limited(&r, 1024, (const char *const[]){ "sim", spec, "-o", out, "--config", cfg,
							     "--functional", NULL });
		cr_expect_eq(r.status, 1, "%s: %d: %s", modes[i], r.status, r.err);
		cr_expect_eq(run_lines(r.err), 1, "%s: %s", modes[i], r.err);
		cr_expect_not_null(strstr(r.err, "sim-events.vlog"), "%s: %s", modes[i], r.err);
		cr_expect_not_null(strstr(r.err, "File too large"), "%s: %s", modes[i], r.err);
		cr_expect_eq(count_glob(pat), 0, "%s: nothing half-written", modes[i]);
	}
	snprintf(pat, sizeof(pat), "rm -rf %s", dir);
	cr_assert_eq(system(pat), 0);
}

/*
 * An --out that cannot be the directory asked for is bad input naming it:
 * a file there, or a path too long to hold the files (never a cut name).
 */
Test(cli, out_dir_that_is_a_file_or_too_long_is_bad_input)
{
	static const char *const cmds[] = { "sim", "linux", "run" };
	char dir[] = "/tmp/vcli-odir-XXXXXX", file[64], pat[160], *longp;
	const char *spec = spec_file(0, small);
	struct result r;
	size_t n;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/f", dir);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	for (size_t i = 0; i < 3; i++) {
		RUN(&r, cmds[i], spec, "-o", file);
		cr_expect_eq(r.status, 2, "%s: %d: %s", cmds[i], r.status, r.err);
		cr_expect_eq(run_lines(r.err), 1, "%s: %s", cmds[i], r.err);
		cr_expect_not_null(strstr(r.err, "not a directory"), "%s: %s", cmds[i], r.err);
		cr_expect_not_null(strstr(r.err, file), "%s: %s", cmds[i], r.err);
	}
	/* 600 bytes of directories that exist: fine for Linux, too long for the log's path */
	longp = malloc(4200);
	cr_assert_not_null(longp);
	n = (size_t)sprintf(longp, "%s", dir);
	for (int i = 0; i < 3; i++) {
		n += (size_t)sprintf(longp + n, "/%0200d", i);
		cr_assert_eq(mkdir(longp, 0755), 0);
	}
	for (size_t i = 0; i < 3; i += 2) {
		RUN(&r, cmds[i], "--functional", spec, "-o", longp);
		if (i == 2)	/* run takes no --functional */
			RUN(&r, cmds[i], spec, "-o", longp);
		cr_expect_eq(r.status, 2, "%s: %d: %s", cmds[i], r.status, r.err);
		cr_expect_eq(run_lines(r.err), 1, "%s: %s", cmds[i], r.err);
		cr_expect_not_null(strstr(r.err, "--out"), "%s: %s", cmds[i], r.err);
		cr_expect_not_null(strstr(r.err, "too long"), "%s: %s", cmds[i], r.err);
	}
	snprintf(pat, sizeof(pat), "%s/*/*/*/*", dir);
	cr_expect_eq(count_glob(pat), 0, "nothing written under a cut name");
	/* a file path longer than PATH_MAX */
	while (n < 4150)
		n += (size_t)sprintf(longp + n, "/x");
	RUN(&r, "check", "--no-host", "-o", longp, spec);
	cr_expect_eq(r.status, 2, "%d: %s", r.status, r.err);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "too long"), "%s", r.err);
	free(longp);
	snprintf(pat, sizeof(pat), "rm -rf %s", dir);
	cr_assert_eq(system(pat), 0);
}

Test(cli, output_file_is_whole_or_absent)
{
	char dir[] = "/tmp/vcli-dir-XXXXXX", out[128], pat[160];
	struct result r;
	struct stat st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/n.json", dir);
	snprintf(pat, sizeof(pat), "%s/*", dir);
	RUN(&r, "check", "-o", out, "tests/data/malformed/truncated.json");
	cr_assert_eq(r.status, 2);
	cr_assert_eq(count_glob(pat), 0, "a rejected spec leaves nothing");
	RUN(&r, "check", "--no-host", "-o", out, spec_file(0, small));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(stat(out, &st), 0);
	cr_assert_eq(count_glob(pat), 1, "no temporary file left beside it");
	snprintf(out, sizeof(out), "%s/missing/n.json", dir);
	RUN(&r, "check", "-o", out, spec_file(0, small));
	cr_assert_eq(r.status, 1);
	cr_assert_eq(count_glob(pat), 1);
	snprintf(pat, sizeof(pat), "rm -rf %s", dir);
	cr_assert_eq(system(pat), 0);
}

/*
 * gen --hash: the stream is the same on every run, and the access counts are
 * those of the format: 1MiB / 64KiB = 16 touch steps; 64KiB / 4KiB = 16 chase
 * slots built, then 100 loads.
 */
Test(cli, gen_counts_match_the_format_and_repeat_exactly)
{
	struct result a, b;
	const char *path = spec_file(0, small);

	RUN(&a, "gen", "--hash", path);
	RUN(&b, "gen", "--hash", path);
	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_assert_str_eq(a.out, b.out);
	cr_assert_not_null(strstr(a.out, "{\"setup\":true,\"ops\":3,\"accesses\":0"),
			   "2 maps and 1 madvise: %s", a.out);
	cr_assert_not_null(strstr(a.out, "{\"phase\":0,\"ops\":18,\"accesses\":16,"), "%s", a.out);
	cr_assert_not_null(strstr(a.out, "{\"phase\":1,\"ops\":118,\"accesses\":116,"), "%s", a.out);
	cr_assert_not_null(strstr(a.out, "{\"phase\":2,\"ops\":3,\"accesses\":0,"), "%s", a.out);

	RUN(&a, "gen", "--phase", "0", path);
	cr_assert_eq(a.status, 0);
	cr_assert_eq(run_lines(a.out), 18, "begin, 16 stores, end");
	RUN(&a, "gen", "--phase", "3", path);
	cr_assert_eq(a.status, 2);
}

Test(cli, exec_runs_natively_and_reports_regions_and_phases)
{
	struct result r;
	cJSON *j, *regions, *a;

	RUN(&r, "exec", spec_file(0, small));
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = cJSON_Parse(r.out);
	cr_assert_not_null(j, "%s", r.out);
	regions = cJSON_GetObjectItem(j, "regions");
	a = cJSON_GetObjectItem(regions, "a");
	cr_assert_not_null(a);
	cr_assert_gt(cJSON_GetObjectItem(a, "start")->valuedouble, 0);
	cr_assert_eq(fmod(cJSON_GetObjectItem(a, "start")->valuedouble, 4096), 0);
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "phases")), 3);
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 1),
					 "accesses")->valuedouble, 116);
	cr_assert_geq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "phases"), 2),
					  "runtime_ns")->valuedouble, 1e6, "sleep 1 ms");
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "complete")));
	cJSON_Delete(j);
}

Test(cli, linux_and_run_check_the_spec_before_the_host)
{
	struct result r;

	RUN(&r, "linux", "tests/data/malformed/seed-negative.json", "-o", "/tmp/vcli-never");
	cr_assert_eq(r.status, 2, "%s", r.err);
	RUN(&r, "run", "tests/data/malformed/seed-negative.json", "-o", "/tmp/vcli-never");
	cr_assert_eq(r.status, 2, "%s", r.err);
	RUN(&r, "linux", spec_file(0, small));
	cr_assert_eq(r.status, 2, "--out is required: %s", r.err);
}

/*
 * A spec with threads is understood (check and gen take it) and run by the
 * native executor (exec: each thread pinned, its CPU in "thread_cpus"; linux
 * too, tests/linux-probes), and refused by every command that would simulate
 * it, in one line naming the file and "threads", before anything runs.
 */
static cJSON *load_json(const char *path);

Test(cli, a_spec_with_threads_is_checked_and_refused_by_what_runs_one_thread)
{
	static const char *const runners[] = { "record" };
	const char *mt = spec_file(1, "{\"name\": \"mt\", \"version\": 2, \"threads\": 2,"
				   " \"regions\": [{\"name\": \"a\", \"size\": \"8KiB\"}],"
				   " \"phases\": [{\"op\": \"touch\", \"region\": \"a\"}]}");
	struct result r;

	cr_assert_eq(system("rm -rf /tmp/vcli-never-mt /tmp/vcli-mt"), 0);
	RUN(&r, "check", mt);
	cr_assert_eq(r.status, 0, "%s", r.err);
	RUN(&r, "gen", "--thread", "1", mt);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "\"offset\":4096"), "%s", r.out);
	RUN(&r, "gen", "--thread", "2", mt);
	cr_assert_eq(r.status, 2, "%s", r.err);
	RUN(&r, "exec", mt);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "\"thread_cpus\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"accesses\": 2"), "%s", r.out);
	/* the simulator runs it, timed and not: a core per thread, a page each */
	for (int functional = 0; functional < 2; functional++) {
		cJSON *j;

		RUN(&r, "sim", mt, "-o", "/tmp/vcli-mt", "--no-calibration",
		    functional ? "--functional" : NULL);
		cr_assert_eq(r.status, 0, "%s", r.err);
		j = load_json("/tmp/vcli-mt/sim.json");
		cr_assert_not_null(j);
		cr_assert_eq(cJSON_GetObjectItem(j, "cores")->valuedouble, 2);
		cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "threads")), 2);
		cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "threads"),
						 1), "faults")->valuedouble, 1);
		cJSON_Delete(j);
	}
	for (size_t i = 0; i < sizeof(runners) / sizeof(runners[0]); i++) {
		RUN(&r, runners[i], mt, "-o", "/tmp/vcli-never-mt");
		cr_assert_eq(r.status, 2, "%s: %s", runners[i], r.err);
		cr_assert_not_null(strstr(r.err, ": threads: 2: "), "%s: %s", runners[i], r.err);
		cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "%s: one line: %s",
			     runners[i], r.err);
		cr_assert_neq(access("/tmp/vcli-never-mt", F_OK), 0, "%s left its output", runners[i]);
	}
}

Test(cli, linux_and_run_check_their_wait_timeout)
{
	struct result r;

	for (const char *const *cmd = (const char *const[]){ "linux", "run", NULL }; *cmd; cmd++) {
		for (const char *const *bad = (const char *const[]){ "x", "-1", "1.5", "", NULL };
		     *bad; bad++) {
			RUN(&r, *cmd, spec_file(0, small), "-o", "/tmp/vcli-never", "--wait-timeout",
			    *bad);
			cr_assert_eq(r.status, 2, "%s --wait-timeout \"%s\": %s", *cmd, *bad, r.err);
			cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
			cr_assert_not_null(strstr(r.err, "--wait-timeout: expected whole seconds"),
					   "%s", r.err);
		}
	}
	cr_assert_neq(access("/tmp/vcli-never", F_OK), 0);
}

/* An unprivileged user cannot load BPF: exit 3 with one line saying so. */
Test(cli, linux_without_root_is_a_host_limit)
{
	struct result r;
	const char *path = spec_file(0, small);

	chmod(path, 0644);
	run_as(&r, geteuid() == 0 ? 65534 : -1,
	       (const char *const[]){ "linux", path, "-o", "/tmp/vcli-never", NULL });
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "root"), "%s", r.err);
}

Test(cli, sim_validates_its_config_file)
{
	struct result r;
	const char *path = spec_file(0, small);

	RUN(&r, "sim", path, "-o", "/tmp/vcli-never", "--config", "/tmp/vcli-no-such-config.json");
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "/tmp/vcli-no-such-config.json"), "%s", r.err);
	RUN(&r, "sim", path, "-o", "/tmp/vcli-never", "--config", spec_file(1, "{\"l1d\": "));
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "truncated"), "%s", r.err);
	RUN(&r, "sim", path, "-o", "/tmp/vcli-never", "--config", spec_file(2, "[1]"));
	cr_assert_eq(r.status, 2);
	/* a calibration knob out of range is named by its key */
	RUN(&r, "sim", path, "-o", "/tmp/vcli-never", "--config",
	    spec_file(3, "{\"core\": {\"cold_share\": 2}}"));
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "core.cold_share"), "%s", r.err);
}

/* The JSON document in the file at path (the test fails if it cannot be read or parsed). */
static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	cJSON *root;
	char *text;
	long len;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	root = cJSON_Parse(text);
	free(text);
	cr_assert_not_null(root, "%s: not JSON", path);
	return root;
}

/* sim: DIR/sim.json, one side of docs/results-format.md, timed by default, untimed with --functional. */
Test(cli, sim_writes_a_sim_side_timed_or_functional, .timeout = 60)
{
	char dir[] = "/tmp/vcli-sim-XXXXXX", out[128], path[160];
	const char *spec = "datasets/workloads/default.json";
	cJSON *root, *hot;
	struct result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(path, sizeof(path), "%s/sim.json", out);
	/* timed by default: "timing": "interval", with statistics */
	RUN(&r, "sim", spec, "-o", out);
	cr_assert_eq(r.status, 0, "%s", r.err);
	root = load_json(path);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(root, "timing")), "interval");
	cr_assert_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "runtime_ns")), 0);
	cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "stats"), "mmu"));
	cr_assert_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "mmu"));
	cJSON_Delete(root);
	unlink(path);
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(1, "{\"mimicos\": {\"mem_bytes\": \"1GiB\", \"mode\": \"out-of-process\"},"
			 " \"l1d\": {}}"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	root = load_json(path);
	cr_assert_not_null(root);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(root, "side")), "sim");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(root, "workload")), "default");
	/* MimicOS's event log beside it, readable by virtuoso dump */
	snprintf(path, sizeof(path), "%s/sim-events.vlog", out);
	cr_assert_eq(access(path, R_OK), 0, "%s", path);
	RUN(&r, "dump", path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "\"type\":\"fault\""));
	snprintf(path, sizeof(path), "%s/sim.json", out);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "complete")));
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(root, "dropped_events")), 0);
	hot = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "regions"), "hot");
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(hot, "thp_faults")), 16);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(root, "config"), "mimicos"), "mem_bytes")), 1 << 30);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(root, "config"), "mimicos"), "mode")), "out-of-process");
	cJSON_Delete(root);
	/* An --out that cannot be created is bad input, named, and nothing is written. */
	RUN(&r, "sim", spec, "-o", "/proc/vcli-no/out", "--functional");
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "--out"), "%s", r.err);
	/* A zone size MimicOS cannot have is bad input, named by its field. */
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(2, "{\"mimicos\": {\"mem_bytes\": 12345}}"));
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "mimicos.mem_bytes"), "%s", r.err);
	/* So is a key MimicOS does not have, and a policy it does not know. */
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(2, "{\"mimicos\": {\"thp\": {\"modules\": {\"thp\": true, \"nope\": 1}}}}"));
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "nope"), "%s", r.err);
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(2, "{\"mimicos\": {\"policy\": \"buddy-magic\"}}"));
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "mimicos.policy"), "%s", r.err);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
}

/*
 * sim.json says whether its configuration came from a calibration: false
 * without "calibration", true with it (echoed under config.calibration); a
 * calibration with a key it does not have, or a key of the wrong type, is
 * bad input naming that key.
 */
Test(cli, sim_records_whether_its_configuration_is_calibrated, .timeout = 60)
{
	char dir[] = "/tmp/vcli-cal-XXXXXX", out[128], path[160], store[64];
	const char *spec = spec_file(0, small);
	cJSON *root, *cal;
	struct result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(path, sizeof(path), "%s/sim.json", out);
	/* an empty store: whatever this host has stored stays out of it */
	snprintf(store, sizeof(store), "%s/store", dir);
	setenv(CAL_STORE_ENV, store, 1);
	RUN(&r, "sim", spec, "-o", out, "--functional");
	cr_assert_eq(r.status, 0, "%s", r.err);
	root = load_json(path);
	cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(root, "calibrated")));
	cr_assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "calibration"));
	cJSON_Delete(root);

	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(1, "{\"calibration\": {\"host\": \"epyc-vm\", \"date\": \"2026-12-01\","
			 " \"source\": \"out/calib\"}}"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	root = load_json(path);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(root, "calibrated")));
	cal = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "calibration");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cal, "host")), "epyc-vm");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cal, "date")), "2026-12-01");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cal, "source")), "out/calib");
	cJSON_Delete(root);

	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(2, "{\"calibration\": {\"host\": \"h\", \"date\": \"d\", \"source\": \"s\","
			 " \"by\": \"me\"}}"));
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "calibration.by"), "%s", r.err);
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config",
	    spec_file(2, "{\"calibration\": {\"host\": 1, \"date\": \"d\", \"source\": \"s\"}}"));
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "calibration.host"), "%s", r.err);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
}

/* dir/calibrated.json: the reference configuration with a calibration for 'host'. */
static void write_calibrated(const char *dir, const char *host)
{
	FILE *f = fopen("datasets/configs/virtuoso-reference.json", "r");
	char text[1 << 16], path[256], *out;
	cJSON *j, *cal;
	size_t n;

	cr_assert_not_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	j = cJSON_Parse(text);
	cr_assert_not_null(j);
	cal = cJSON_AddObjectToObject(j, "calibration");
	cJSON_AddStringToObject(cal, "host", host);
	cJSON_AddStringToObject(cal, "date", "2026-12-07");
	cJSON_AddStringToObject(cal, "source", "out/calib");
	out = cJSON_Print(j);
	snprintf(path, sizeof(path), "%s/%s", dir, CAL_STORE_CALIBRATED);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(out, f);
	fclose(f);
	free(out);
	cJSON_Delete(j);
}

/* sim.json's "calibrated" and "calibration_file" ("" for null). */
static void sim_calibration(const char *path, bool *calibrated, char *file, size_t len)
{
	cJSON *root = load_json(path);
	const cJSON *cf = cJSON_GetObjectItem(root, "calibration_file");

	*calibrated = cJSON_IsTrue(cJSON_GetObjectItem(root, "calibrated"));
	cr_assert(cJSON_IsNull(cf) || cJSON_IsString(cf), "%s: calibration_file", path);
	snprintf(file, len, "%s", cJSON_IsString(cf) ? cf->valuestring : "");
	cJSON_Delete(root);
}

/*
 * Without --config, sim takes this host's stored calibration (in a
 * temporary $VIRTUOSO_CALIBRATION_DIR) and says so; with none, or one of
 * another host, the reference model, said so; --config and
 * --no-calibration leave the store alone.
 */
Test(cli, sim_uses_this_hosts_stored_calibration_and_refuses_another_hosts, .timeout = 60)
{
	char dir[] = "/tmp/vcli-store-XXXXXX", store[64], out[64], path[96], cal[64];
	char key[CAL_STORE_KEY_MAX], other[4096], want[4608], file[4096], stored[4096];
	const char *spec = spec_file(0, small);
	struct wl_error err = { 0 };
	bool calibrated;
	struct result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(store, sizeof(store), "%s/store", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(path, sizeof(path), "%s/sim.json", out);
	snprintf(cal, sizeof(cal), "%s/cal", dir);
	cr_assert_eq(mkdir(cal, 0755), 0);
	setenv(CAL_STORE_ENV, store, 1);
	calibrate_store_this_key(key, sizeof(key));

	/* none stored: the reference model, said so */
	RUN(&r, "sim", spec, "-o", out, "--functional");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof(want), "virtuoso sim: no calibration for this host (%s): the "
		 "uncalibrated reference model (virtuoso calibrate -o DIR makes one)\n", key);
	cr_expect_str_eq(r.err, want);
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect_not(calibrated);
	cr_expect_str_eq(file, "");

	/* this host's, stored: used, said so, recorded */
	write_calibrated(cal, key);
	cr_assert_eq(calibrate_store_save(cal, stored, &err), 0, "%s: %s", err.file, err.msg);
	RUN(&r, "sim", spec, "-o", out, "--functional");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof(want), "virtuoso sim: using this host's calibration: %s (calibrated "
		 "2026-12-07 from out/calib)\n", stored);
	cr_expect_str_eq(r.err, want);
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect(calibrated);
	cr_expect_str_eq(file, stored);

	/* --no-calibration: the reference model */
	RUN(&r, "sim", spec, "-o", out, "--functional", "--no-calibration");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_null(strstr(r.err, "using this host's"), "%s", r.err);
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect_not(calibrated);
	cr_expect_str_eq(file, "");
	/* --config: the file, not the store; its calibration named when it has one */
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config", spec_file(1, "{\"l1d\": {}}"));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.err, "");
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect_not(calibrated);
	snprintf(other, sizeof(other), "%s/%s", cal, CAL_STORE_CALIBRATED);
	RUN(&r, "sim", spec, "-o", out, "--functional", "--config", other);
	cr_assert_eq(r.status, 0, "%s", r.err);
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect(calibrated);
	cr_expect_str_eq(file, other);
	/* both at once: which one is meant is not clear */
	RUN(&r, "sim", spec, "-o", out, "--no-calibration", "--config", other);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect_eq(run_lines(r.err), 1, "%s", r.err);
	RUN(&r, "run", spec, "-o", out, "--no-calibration", "--config", other);
	cr_expect_eq(r.status, 2, "%s", r.err);

	/* this host's place, another host's identity: refused, both named */
	snprintf(other, sizeof(other), "%s", stored);
	dirname(other);		/* this host's directory in the store */
	write_calibrated(other, "GenuineIntel:6:1:5.4:metal");
	RUN(&r, "sim", spec, "-o", out, "--functional");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "warning"), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "GenuineIntel:6:1:5.4:metal"), "%s", r.err);
	cr_expect_not_null(strstr(r.err, key), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "no calibration for this host"), "%s", r.err);
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect_not(calibrated);

	/* only another host's key in the store: not applied, both named */
	cr_assert_eq(calibrate_store_dir(file, sizeof(file), "GenuineIntel:6:1:5.4:metal"), 0);
	cr_assert_eq(rename(other, file), 0);
	RUN(&r, "sim", spec, "-o", out, "--functional");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(run_lines(r.err), 2, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "warning"), "%s", r.err);
	cr_expect_not_null(strstr(r.err, "(GenuineIntel:6:1:5.4:metal)"), "%s", r.err);
	cr_expect_not_null(strstr(r.err, key), "%s", r.err);
	sim_calibration(path, &calibrated, file, sizeof(file));
	cr_expect_not(calibrated);

	unsetenv(CAL_STORE_ENV);
	snprintf(want, sizeof(want), "rm -rf %s", dir);
	cr_assert_eq(system(want), 0);
}

Test(cli, compare_needs_both_sides_whole)
{
	char dir[] = "/tmp/vcli-cmp-XXXXXX", path[128];
	struct result r;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	RUN(&r, "compare", dir);
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "linux.json"), "%s", r.err);
	snprintf(path, sizeof(path), "%s/linux.json", dir);
	f = fopen(path, "w");
	fputs("{\"workload\": \"x\", \"regions\": {", f);
	fclose(f);
	RUN(&r, "compare", dir);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(run_lines(r.err), 1);
	cr_assert_not_null(strstr(r.err, "linux.json"), "%s", r.err);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
}

/* -o to a pipe or device writes into it: renaming a file over it would replace it. */
Test(cli, output_to_a_fifo_writes_into_it_and_leaves_it_a_fifo, .timeout = 20)
{
	char dir[] = "/tmp/vcli-fifo-XXXXXX", fifo[64], got[1 << 14];
	struct result r;
	struct stat st;
	int p[2];
	ssize_t n = 0, k;
	pid_t reader;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/out", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(pipe(p), 0);
	reader = fork();
	if (!reader) {	/* copy the fifo into the pipe */
		int fd = open(fifo, O_RDONLY);
		char buf[4096];

		while ((k = read(fd, buf, sizeof(buf))) > 0)
			if (write(p[1], buf, (size_t)k) != k)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	RUN(&r, "check", "--no-host", "datasets/workloads/default.json", "-o", fifo);
	while ((k = read(p[0], got + n, sizeof(got) - 1 - (size_t)n)) > 0)
		n += k;
	got[n] = '\0';
	waitpid(reader, NULL, 0);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(stat(fifo, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode), "the fifo was replaced");
	cr_assert_not_null(strstr(got, "\"name\": \"default\""), "%s", got);
	unlink(fifo);
	rmdir(dir);
}

/* ---- options, each by its effect ------------------------------------------- */

/* The whole file at path, NUL-terminated (the test fails if it cannot be read). */
static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

static void write_whole(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* A scratch copy of tests/data/compare/small (linux.json, sim.json) in dir. */
static void small_pair(char *dir)
{
	char cmd[256];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cp tests/data/compare/small/linux.json "
		 "tests/data/compare/small/sim.json %s/", dir);
	cr_assert_eq(system(cmd), 0);
}

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* The verdict of metric name/scope in DIR/summary.json. */
static char *summary_verdict(const char *dir, const char *name, const char *scope)
{
	static char v[16];
	char path[160];
	cJSON *sum, *m;

	snprintf(path, sizeof(path), "%s/summary.json", dir);
	sum = load_json(path);
	v[0] = '\0';
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(sum, "metrics"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")), name) &&
		    !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "scope")), scope))
			snprintf(v, sizeof(v), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(m, "verdict")));
	cJSON_Delete(sum);
	cr_assert(v[0], "no metric %s of %s in %s/summary.json", name, scope, dir);
	return v;
}

static char *summary_overall(const char *dir)
{
	static char v[16];
	char path[160];
	cJSON *sum;

	snprintf(path, sizeof(path), "%s/summary.json", dir);
	sum = load_json(path);
	snprintf(v, sizeof(v), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(sum, "verdict")));
	cJSON_Delete(sum);
	return v;
}

/*
 * The small pair under the defaults (compare/tolerance.c), by hand from
 * tests/data/compare/small:
 *   faults          Linux 100+3 = 103, sim 101+3 = 104: 1/103 = 0.0097, warn 0 -> warn
 *   phase_faults    phase 0: 100 vs 101: 0.01 -> warn
 *   backing_agreement (b): "pte" 3 / "none" 253 against "none" 3, "pte" 3,
 *                   "none" 250: pages 0-2 and 3-5 differ, 6 of 256 ->
 *                   250/256 = 0.9766 < fail 0.99 -> fail
 *   alloc_orders    a: {0: 99, 9: 1} vs {0: 100, 9: 1}, weighted by pages: a
 *                   small distance above warn 0 -> warn
 *   runtime         2.1 ms vs 1.2 ms: 2.1/1.2 - 1 = 0.75 > fail 0.5 -> fail
 *   phase_runtime   phase 1: 0.6 ms vs 0.2 ms: 3 - 1 = 2 > fail 1 -> fail
 *   collapses       2 vs 3: 1/3 > fail 0.1 -> fail
 *   tlb_flushes     11 vs 10: 0.1 <= warn 0.1 -> pass
 * so the overall verdict is fail. The file below puts each of those values
 * at or inside its warn (backing_agreement: higher is better, so warn 0.97
 * below 0.9766), and every counted metric passes: overall pass.
 */
static const char *tolerances_passing_small =
	"{\"faults\": {\"warn\": 0.02, \"fail\": 0.05},"
	" \"phase_faults\": {\"warn\": 0.02, \"fail\": 0.05},"
	" \"backing_agreement\": {\"warn\": 0.97, \"fail\": 0.95},"
	" \"alloc_orders\": {\"warn\": 0.01, \"fail\": 0.05},"
	" \"runtime\": {\"warn\": 1, \"fail\": 2},"
	" \"phase_runtime\": {\"warn\": 2, \"fail\": 3},"
	" \"collapses\": {\"warn\": 0.5, \"fail\": 1}}";

Test(cli, compare_tolerances_turn_a_fail_into_a_pass_and_a_bad_file_is_refused)
{
	char dir[] = "/tmp/vcli-tol-XXXXXX", tol[160];
	struct result r;

	small_pair(dir);
	RUN(&r, "compare", dir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(summary_verdict(dir, "collapses", "all"), "fail");
	cr_assert_str_eq(summary_verdict(dir, "backing_agreement", "b"), "fail");
	cr_assert_str_eq(summary_overall(dir), "fail");

	snprintf(tol, sizeof(tol), "%s/tol.json", dir);
	write_whole(tol, tolerances_passing_small);
	RUN(&r, "compare", dir, "--tolerances", tol);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(summary_verdict(dir, "collapses", "all"), "pass");
	cr_assert_str_eq(summary_verdict(dir, "backing_agreement", "b"), "pass");
	cr_assert_str_eq(summary_verdict(dir, "faults", "all"), "pass");
	cr_assert_str_eq(summary_overall(dir), "pass");
	cr_assert_not_null(strstr(r.out, "verdict pass"), "%s", r.out);

	/* refused: exit 2, one line naming the file and the field; nothing rewritten */
	unlink(tol);
	snprintf(tol, sizeof(tol), "%s/summary.json", dir);
	unlink(tol);
	RUN(&r, "compare", dir, "--tolerances", "tests/data/compare/tolerances/unknown-key.json");
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_eq(run_lines(r.err), 1, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "tests/data/compare/tolerances/unknown-key.json"), "%s",
			   r.err);
	cr_assert_not_null(strstr(r.err, "faults.warm"), "%s", r.err);
	cr_assert_neq(access(tol, F_OK), 0, "a refused file writes no summary");
	RUN(&r, "compare", dir, "--tolerances", "tests/data/compare/tolerances/not-number.json");
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "faults.warn"), "%s", r.err);
	rm_rf(dir);
}

/* --strict: exit 1 on the small pair's fail (above), 0 once the tolerances make it pass. */
Test(cli, compare_strict_exits_1_only_on_an_overall_fail)
{
	char dir[] = "/tmp/vcli-strict-XXXXXX", tol[160];
	struct result r;

	small_pair(dir);
	RUN(&r, "compare", dir, "--strict");
	cr_assert_eq(r.status, 1, "a failing verdict: %s%s", r.out, r.err);
	cr_assert_str_eq(summary_overall(dir), "fail");
	cr_assert_not_null(strstr(r.out, "verdict fail"), "the verdict is still printed: %s", r.out);
	snprintf(tol, sizeof(tol), "%s/tol.json", dir);
	write_whole(tol, tolerances_passing_small);
	RUN(&r, "compare", dir, "--strict", "--tolerances", tol);
	cr_assert_eq(r.status, 0, "a passing verdict: %s%s", r.out, r.err);
	cr_assert_str_eq(summary_overall(dir), "pass");
	rm_rf(dir);
}

/*
 * gen --limit N: exactly the first N lines of the whole stream. The small
 * spec's stream is 3 + 18 + 118 + 3 = 142 ops (gen --hash above), so a
 * limit past it prints all 142 and --limit 0 prints nothing.
 */
Test(cli, gen_limit_prints_exactly_n_ops)
{
	const char *path = spec_file(0, small);
	static struct result all, r;
	const char *p = all.out;

	RUN(&all, "gen", path);
	cr_assert_eq(all.status, 0, "%s", all.err);
	cr_assert_eq(run_lines(all.out), 142);
	for (int i = 0; i < 5; i++)
		p = strchr(p, '\n') + 1;
	RUN(&r, "gen", "--limit", "5", path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(run_lines(r.out), 5, "%s", r.out);
	cr_assert_eq(strlen(r.out), (size_t)(p - all.out));
	cr_assert_eq(strncmp(r.out, all.out, (size_t)(p - all.out)), 0, "%s", r.out);
	RUN(&r, "gen", "--limit", "0", path);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "");
	RUN(&r, "gen", "--limit", "1000", path);
	cr_assert_eq(run_lines(r.out), 142);
	RUN(&r, "gen", "--limit", "-1", path);
	cr_assert_eq(r.status, 2);
}

/* The key names and value types of j, recursively, with arrays' lengths: its shape. */
static void shape(const cJSON *j, char *buf, size_t len)
{
	const cJSON *c;

	snprintf(buf + strlen(buf), len - strlen(buf), "%d%s[", j->type & 0xff,
		 j->string ? j->string : "");
	cJSON_ArrayForEach(c, j)
		if (cJSON_IsObject(j) || cJSON_IsArray(j))
			shape(c, buf, len);
	snprintf(buf + strlen(buf), len - strlen(buf), "]");
}

/*
 * -o FILE writes what stdout would get, whole: gen and hwinfo byte for byte
 * (both are deterministic); exec measures addresses and times, so its file
 * has the shape of its stdout and the same counts.
 */
Test(cli, out_file_holds_what_stdout_gets, .timeout = 30)
{
	char dir[] = "/tmp/vcli-out-XXXXXX", out[128], pat[160];
	static char a[1 << 14], b[1 << 14];
	const char *path = spec_file(0, small);
	struct result r, so;
	cJSON *jf, *js;
	char *text;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/o", dir);
	snprintf(pat, sizeof(pat), "%s/*", dir);

	RUN(&so, "gen", path);
	RUN(&r, "gen", "-o", out, path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "", "nothing on stdout");
	text = read_whole(out);
	cr_assert_str_eq(text, so.out);
	free(text);

	RUN(&so, "hwinfo");
	if (so.status == 3) {
		cr_log_warn("hwinfo: no CPUID here, -o not checked");
	} else {
		cr_assert_eq(so.status, 0, "%s", so.err);
		RUN(&r, "hwinfo", "--out", out);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert_str_eq(r.out, "");
		text = read_whole(out);
		cr_assert_str_eq(text, so.out);
		free(text);
	}

	RUN(&so, "exec", path);
	RUN(&r, "exec", "-o", out, path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	text = read_whole(out);
	jf = cJSON_Parse(text);
	js = cJSON_Parse(so.out);
	cr_assert_not_null(jf, "not whole JSON: %s", text);
	cr_assert_not_null(js);
	a[0] = b[0] = '\0';
	shape(jf, a, sizeof(a));
	shape(js, b, sizeof(b));
	cr_assert_str_eq(a, b);
	/* 16 touch stores; 16 chase build stores + 100 loads (gen --hash above) */
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(jf, "phases"), 0), "accesses")), 16);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(jf, "phases"), 1), "accesses")), 116);
	cJSON_Delete(jf);
	cJSON_Delete(js);
	free(text);
	cr_assert_eq(count_glob(pat), 1, "no temporary file left beside it");
	rm_rf(dir);
}

/*
 * -v says more on stderr: dump counts the records it printed (stdout has the
 * metadata line, then one line per record, so the count is lines - 1);
 * check names where the host's settings came from. Without -v, neither.
 */
Test(cli, verbose_adds_to_stderr)
{
	const char *log = "tests/data/compare/default/events.vlog";
	static struct result r;
	char want[64], out[] = "/tmp/vcli-dump-XXXXXX", *text;

	close(mkstemp(out));
	RUN(&r, "dump", log);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	/* to a file: the log's lines are more than struct result holds */
	RUN(&r, "dump", "-v", "-o", out, log);
	cr_assert_eq(r.status, 0, "%s", r.err);
	text = read_whole(out);
	snprintf(want, sizeof(want), "virtuoso dump: %d records\n", run_lines(text) - 1);
	free(text);
	unlink(out);
	cr_assert_str_eq(r.err, want);

	if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK))
		return;
	RUN(&r, "check", spec_file(0, small));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err, "");
	RUN(&r, "check", "-v", spec_file(0, small));
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "virtuoso check: host settings read from "), "%s", r.err);
}

/* Can this process count its own PERF_COUNT_SW_PAGE_FAULTS? */
static bool sw_faults_countable(void)
{
	struct perf_event_attr pa = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(pa),
		/* kernel mode counted, as the tool does: a fault is the kernel's work */
		.config = PERF_COUNT_SW_PAGE_FAULTS, .disabled = 1,
	};
	long fd = syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);

	if (fd < 0)
		return false;
	close((int)fd);
	return true;
}

/*
 * linux --list-events: after the PMUs, one line per counter of linux.json's
 * "counters" (docs/results-format.md lists them, in this order), each
 * "supported (EVENT)" or "unsupported: REASON". The three software events
 * are supported wherever this process can open a software counter of kernel
 * mode itself.
 * No SPEC, no root.
 */
Test(cli, linux_list_events_prints_each_counter_once_marked)
{
	static const char *const names[] = {
		"page_faults", "minor_faults", "major_faults",
		"dtlb_load_misses_walk_completed", "dtlb_store_misses_walk_completed",
		"dtlb_load_walk_completed_4k", "dtlb_load_walk_completed_2m",
		"dtlb_load_walk_completed_1g", "dtlb_load_walk_cycles", "dtlb_load_stlb_hit",
	};
	static struct result r;
	const char *p;
	bool sw = sw_faults_countable();

	RUN(&r, "linux", "--list-events");
	/*
	 * A counter this process may not open (kernel mode needs root or
	 * perf_event_paranoid <= 1) is an error line, and the listing exits 1;
	 * root opens every counter the host has
	 */
	if (geteuid() == 0)
		cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(r.status, strstr(r.out, ": error: ") || strstr(r.out, "  error: ") ? 1 : 0,
		     "%s", r.out);
	p = strstr(r.out, "\ncounters (opened on this process):\n");
	cr_assert_not_null(p, "%s", r.out);
	p = strchr(p + 1, '\n') + 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *eol = strchr(p, '\n'), *v;
		char want[64];

		cr_assert_not_null(eol, "line %zu missing: %s", i, r.out);
		snprintf(want, sizeof(want), "  %s ", names[i]);
		cr_assert_eq(strncmp(p, want, strlen(want)), 0, "line %zu: %.*s", i, (int)(eol - p), p);
		for (v = p + strlen(want); *v == ' '; v++)
			;
		cr_assert(!strncmp(v, "supported (", 11) || !strncmp(v, "unsupported: ", 13) ||
			  (geteuid() != 0 && !strncmp(v, "error: ", 7)), "%.*s", (int)(eol - p), p);
		if (i < 3 && sw)
			cr_assert_eq(strncmp(v, "supported (perf::PERF_COUNT_SW_", 31), 0, "%.*s",
				     (int)(eol - p), p);
		p = eol + 1;
	}
	cr_assert_str_eq(p, "", "one line per counter, nothing after: %s", p);
}
