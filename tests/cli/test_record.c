/*
 * test_record.c - virtuoso record: a bundle holds every run of every
 * workload, each event log whole once decompressed (the log's own checksum,
 * and as many fault records as the run's linux.json counts faults), and a
 * manifest that says what, where and on what; bad input exits 2 naming it,
 * and nothing is left behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <zstd.h>

#include "tests/host.h"
#include "tests/run.h"
#include "workload/json.h"

static cJSON *load(const char *path)
{
	struct wl_error err = { 0 };
	cJSON *j = NULL;

	cr_assert_eq(wj_load_object(path, &j, &err), 0, "%s: %s", path, err.msg);
	return j;
}

static const char *str_at(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));

	cr_assert_not_null(s, "%s: not a string", key);
	return s;
}

/* The .zst file at path decompressed into a new file; its size. */
static size_t unzstd(const char *path, const char *to)
{
	struct wl_error err = { 0 };
	char *z;
	size_t n, got;
	unsigned long long size;
	void *raw;
	FILE *f;

	cr_assert_eq(wj_read_file(path, &z, &n, &err), 0, "%s", err.msg);
	size = ZSTD_getFrameContentSize(z, n);
	cr_assert(size != ZSTD_CONTENTSIZE_ERROR && size != ZSTD_CONTENTSIZE_UNKNOWN,
		  "%s: not one zstd frame of known size", path);
	raw = malloc(size ? size : 1);
	cr_assert_not_null(raw);
	got = ZSTD_decompress(raw, size, z, n);
	cr_assert(!ZSTD_isError(got) && got == size, "%s: does not decompress", path);
	f = fopen(to, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(raw, 1, got, f), got);
	fclose(f);
	free(raw);
	free(z);
	return got;
}

/* Fault records in a log, by virtuoso dump (which checks its size and checksum first). */
static long fault_records(const char *log)
{
	char cmd[1024];
	long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), BIN " dump %s | grep -c '\"type\":\"fault\"'", log);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%ld", &n), 1);
	pclose(p);
	return n;
}

Test(record, bundle_holds_every_run_its_log_and_the_host, .timeout = 300)
{
	char dir[] = "/tmp/vtest-record-XXXXXX", out[128], path[512], tmp[600];
	struct result *r = malloc(sizeof(*r));
	const cJSON *w, *run, *host;
	cJSON *m;
	int nw = 0;

	host_require_bpf();
	host_exclusive();
	cr_assert_not_null(r);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/bundle", dir);
	RUN(r, "record", "datasets/workloads/zero-page-4k-cow.json",
	    "datasets/workloads/populate.json", "-o", out, "--repeat", "2");
	cr_assert_eq(r->status, 0, "%s", r->err);
	snprintf(path, sizeof(path), "%s/manifest.json", out);
	m = load(path);
	cr_expect_str_eq(str_at(m, "format"), "virtuoso-reference");
	cr_expect_eq(cJSON_GetObjectItemCaseSensitive(m, "repeat")->valueint, 2);
	cr_expect_gt(strlen(str_at(cJSON_GetObjectItemCaseSensitive(m, "tool"), "commit")), 0);
	host = cJSON_GetObjectItemCaseSensitive(m, "host");
	cr_expect_gt(strlen(str_at(cJSON_GetObjectItemCaseSensitive(host, "cpu"), "key")), 0);
	cr_expect_gt(strlen(str_at(host, "kernel")), 0);
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(m, "workloads")) {
		const char *name = str_at(w, "name");
		int k = 0;

		cr_expect_str_eq(name, nw ? "populate" : "zero-page-4k-cow", "in the order given");
		snprintf(path, sizeof(path), "%s/%s", out, str_at(w, "spec"));
		cJSON_Delete(load(path));
		cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(w, "runs")) {
			cJSON *side;
			const cJSON *ph;
			long faults = 0;
			size_t raw;

			snprintf(path, sizeof(path), "%s/%s", out, str_at(run, "linux"));
			side = load(path);
			cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "complete")));
			cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(side, "phases"))
				faults += cJSON_GetObjectItemCaseSensitive(ph, "faults")->valueint;
			cJSON_Delete(side);
			snprintf(path, sizeof(path), "%s/%s", out, str_at(run, "events"));
			snprintf(tmp, sizeof(tmp), "%s/run.vlog", dir);
			raw = unzstd(path, tmp);
			cr_expect_eq((double)raw,
				     cJSON_GetObjectItemCaseSensitive(run, "events_bytes")->valuedouble);
			/* the phases' faults and a few outside them (the program's own start) */
			cr_expect_geq(fault_records(tmp), faults, "%s run %d: the log's faults",
				      name, k + 1);
			unlink(tmp);
			k++;
		}
		cr_expect_eq(k, 2, "%s: two runs", name);
		nw++;
	}
	cr_expect_eq(nw, 2);
	cJSON_Delete(m);
	snprintf(tmp, sizeof(tmp), "rm -rf %s", dir);
	cr_assert_eq(system(tmp), 0);
	free(r);
}

/* Each refused with exit 2 and a line naming what, and no bundle (nor its temporary) left. */
Test(record, bad_input_exits_2_and_leaves_nothing)
{
	char dir[] = "/tmp/vtest-record-XXXXXX", out[128], cmd[256];
	struct result *r = malloc(sizeof(*r));
	struct stat st;

	cr_assert_not_null(r);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/bundle", dir);
	RUN(r, "record", "datasets/workloads/no-such.json", "-o", out);
	cr_expect_eq(r->status, 2);
	cr_expect_not_null(strstr(r->err, "no-such.json"), "%s", r->err);
	RUN(r, "record", "datasets/workloads/populate.json", "datasets/workloads/populate.json",
	    "-o", out);
	cr_expect_eq(r->status, 2);
	cr_expect_not_null(strstr(r->err, "name"), "%s", r->err);
	RUN(r, "record", "datasets/workloads/populate.json");
	cr_expect_eq(r->status, 2, "no --out");
	RUN(r, "record", "datasets/workloads/populate.json", "-o", dir);
	cr_expect_eq(r->status, 2, "an existing directory");
	cr_expect_not_null(strstr(r->err, "already exists"), "%s", r->err);
	RUN(r, "record", "datasets/workloads/populate.json", "-o", out, "--repeat", "0");
	cr_expect_eq(r->status, 2, "--repeat 0");
	cr_expect_neq(stat(out, &st), 0, "no bundle left");
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", dir);
	cr_expect_eq(system(cmd), 0, "nothing left in %s", dir);
	rmdir(dir);
	free(r);
}
