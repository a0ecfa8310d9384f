/*
 * test_cli.c - bin/virtuoso as a user runs it: exit codes of docs/results-format.md,
 * help texts, one-line errors, and output files that are whole or absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

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
	static const char *const cmds[] = { "check", "gen", "exec", "linux", "sim", "run", "compare" };
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

static int count_glob(const char *pattern)
{
	glob_t g;
	int n = glob(pattern, 0, NULL, &g) ? 0 : (int)g.gl_pathc;

	if (n)
		globfree(&g);
	return n;
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
	char dir[] = "/tmp/vcli-cal-XXXXXX", out[128], path[160];
	const char *spec = spec_file(0, small);
	cJSON *root, *cal;
	struct result r;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(path, sizeof(path), "%s/sim.json", out);
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
