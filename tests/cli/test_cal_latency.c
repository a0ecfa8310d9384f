/*
 * test_cal_latency.c - the kernel's fault latency per kind for virtuoso
 * calibrate (cli/cal_latency.h): as root, anon_4k and zero_read measured
 * quick, one run each, checked against what holds whatever the host's speed
 * (8 MiB touched a page at a time is 2048 faults of the kind and none of
 * another; quantiles in order); and without root every kind is skipped with
 * the reason while the rest of the calibration is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "cli/cal_latency.h"
#include "cli/cli.h"
#include "tests/host.h"
#include "tests/run.h"
#include "workload/json.h"

Test(cal_latency, anon_4k_and_zero_read_quick_one_run, .timeout = 120)
{
	static const unsigned kinds[] = { CAL_LAT_anon_4k, CAL_LAT_zero_read };
	char dir[] = "/tmp/vlat-XXXXXX", path[256];
	struct wl_error err = { 0 };
	struct cal_latency x;
	int lock;

	host_require_bpf();
	/* held for the whole test and lent to each kind's run, as virtuoso calibrate does */
	cr_assert_eq(hostlock_take(thp_sysfs_state_dir(), "a test", HOSTLOCK_FOREVER, NULL, &lock,
				   &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_not_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *name = cal_lat_name(kinds[i]);
		bool ok = false;

		/* a run whose probe cost a stall stretched is left out, saying so: once more then */
		for (int attempt = 0; attempt < 3; attempt++) {
			ok = cli_cal_latency(&x, kinds[i], dir, true, 1, NULL, lock);
			cr_expect_eq(x.runs + x.runs_left_out, 1u);
			if (!x.runs_left_out)
				break;
			cr_expect(!ok);
		}
		cr_assert(ok, "%s: %s", name, x.skipped);
		cr_expect_str_eq(x.spec, cal_lat_spec_name(kinds[i]));
		/* 8 MiB a 4 KiB page at a time: 8 << 20 >> 12 = 2048 faults, all of the kind */
		cr_expect_eq(x.faults, 2048u, "%s: %llu faults", name, (unsigned long long)x.faults);
		cr_expect_eq(x.other, 0u, "%s: %llu of other kinds", name,
			     (unsigned long long)x.other);
		cr_expect_lt(x.cold, x.faults / 2, "%s: %llu cold", name, (unsigned long long)x.cold);
		cr_expect_gt(x.p50_ns, 0);
		cr_expect_leq(x.p50_ns, x.p90_ns, "%s", name);
		cr_expect_leq(x.p90_ns, x.p99_ns, "%s", name);
		cr_expect_gt(x.mean_ns, 0);
		/* one run: its own quantiles are the pooled ones */
		cr_expect_eq(x.p50_ns_runs.median, x.p50_ns);
		cr_expect_eq(x.p90_ns_runs.min, x.p90_ns_runs.max);
		snprintf(path, sizeof(path), "%s/latency/%s/spec.json", dir, name);
		cr_expect_eq(access(path, R_OK), 0, "%s", path);
		snprintf(path, sizeof(path), "%s/latency/%s/linux.json", dir, name);
		cr_expect_eq(access(path, R_OK), 0, "%s", path);
	}
	/* the lock was lent, not given away: still ours */
	cr_expect_eq(flock(lock, LOCK_EX | LOCK_NB), 0);
	hostlock_release(lock);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_expect_eq(system(path), 0);
}

/* As nobody (a child of root drops to it): the calibration is written, every kind skipped. */
Test(cal_latency, skipped_with_the_reason_without_root, .timeout = 120)
{
	char dir[] = "/tmp/vlat-nobody-XXXXXX", out[256], path[300];
	const char *args[] = { "calibrate", "--measure", "--quick", "--repeat", "1", "-o", out,
			       NULL };
	struct result *r = malloc(sizeof(*r));
	struct wl_error err = { 0 };
	const cJSON *fl, *k;
	cJSON *root;

	cr_assert_not_null(r);
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chmod(dir, 0777), 0);
	snprintf(out, sizeof(out), "%s/out", dir);
	run_as(r, geteuid() == 0 ? 65534 : -1, args);
	cr_assert_eq(r->status, 0, "exit %d: %s", r->status, r->err);
	cr_expect(strstr(r->err, "fault latency and shootdowns skipped: needs root"), "%s", r->err);
	snprintf(path, sizeof(path), "%s/measurements.json", out);
	cr_assert_eq(wj_load_object(path, &root, &err), 0, "%s: %s", err.file, err.msg);
	fl = cJSON_GetObjectItemCaseSensitive(root, "fault_latency");
	cr_assert(cJSON_IsObject(fl));
	for (unsigned i = 0; i < CAL_LAT_NR; i++) {
		k = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(fl, cal_lat_name(i)), "skipped");
		cr_expect(cJSON_IsString(k) && strstr(k->valuestring, "needs root"), "%s",
			  cal_lat_name(i));
	}
	k = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "shootdown"),
					     "skipped");
	cr_expect(cJSON_IsString(k) && strstr(k->valuestring, "needs root"), "shootdown");
	cJSON_Delete(root);
	free(r);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_expect_eq(system(path), 0);
}

/*
 * The shootdown spec, quick, once, on this host: thread 1's 8 MADV_DONTNEEDs
 * of one page each flush while thread 0 runs on the other CPU, so each
 * makes one cross-call there (mimicos/tlb.h: a CPU running the mm is
 * flushed); each flush waits at least as long as its cross-call ran.
 */
Test(cal_latency, shootdowns_quick_one_run, .timeout = 120)
{
	char dir[] = "/tmp/vshoot-XXXXXX", path[256];
	struct wl_error err = { 0 };
	struct cal_shootdown x;
	int lock;

	host_require_bpf();
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("one CPU: no cross-call to measure");
	cr_assert_eq(hostlock_take(thp_sysfs_state_dir(), "a test", HOSTLOCK_FOREVER, NULL, &lock,
				   &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_not_null(mkdtemp(dir));
	cr_assert(cli_cal_shootdown(&x, dir, true, 1, lock), "%s", x.skipped);
	cr_expect_eq(x.runs, 1u);
	/*
	 * A DONTNEED makes a cross-call only if thread 0 is already on its
	 * CPU (a CPU still lazy after the phases' meeting gets none): on a
	 * busy host some of the samples find it not yet running, so at least
	 * one, and at most one per sample and a trim's each
	 */
	cr_expect_geq(x.cross_calls, 1);
	cr_expect_leq(x.cross_calls, 2 * CAL_SHOOTDOWN_SAMPLES(true), "a trim may add one each");
	cr_expect_gt(x.handle_ns, 0);
	cr_expect_geq(x.waits, 1);
	cr_expect_leq(x.waits, x.cross_calls);
	cr_expect_geq(x.wait_ns, x.handle_ns * 0.5, "a wait spans its cross-call");
	snprintf(path, sizeof(path), "%s/shootdown/linux.json", dir);
	cr_expect_eq(access(path, R_OK), 0, "%s", path);
	hostlock_release(lock);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_expect_eq(system(path), 0);
}
