/*
 * test_store.c - the per-host calibration store (calibrate/store.h), in a
 * temporary store ($VIRTUOSO_CALIBRATION_DIR): the host key, saving whole
 * or not at all, finding this host's calibration, and refusing another
 * host's.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "calibrate/store.h"

static char root[64], src[128];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/vstore-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(src, sizeof(src), "%s/out", root);
	cr_assert_eq(mkdir(src, 0755), 0);
	strcat(root, "/store");	/* made by the first save */
	setenv(CAL_STORE_ENV, root, 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(root) - 6), root);
	cr_assert_eq(system(cmd), 0);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* dir/calibrated.json: the reference configuration with a calibration for 'host'. */
static void write_calibrated(const char *dir, const char *host, const char *date)
{
	FILE *f = fopen("datasets/configs/virtuoso-reference.json", "r");
	char text[1 << 16], *out;
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
	cJSON_AddStringToObject(cal, "date", date);
	cJSON_AddStringToObject(cal, "source", "out/calib");
	out = cJSON_Print(j);
	write_text(dir, CAL_STORE_CALIBRATED, out);
	free(out);
	cJSON_Delete(j);
}

/* dir/measurements.json with only its "host" identity. */
static void write_measurements(const char *dir, const char *cpu_key, const char *release, bool guest)
{
	char text[512];

	snprintf(text, sizeof(text), "{\"host\": {\"cpu\": {\"key\": \"%s\"}, \"kernel\": "
		 "{\"release\": \"%s\"}, \"guest\": %s}}", cpu_key, release,
		 guest ? "true" : "false");
	write_text(dir, CAL_STORE_MEASUREMENTS, text);
}

/* This host's CPU key, kernel release and guest bit, as the store reads them. */
static void this_host(char *cpu, size_t len, char *release, size_t rlen, bool *guest)
{
	char key[CAL_STORE_KEY_MAX], *p;

	calibrate_store_this_key(key, sizeof(key));
	p = strrchr(key, ':');
	*guest = !strcmp(p + 1, "guest");
	*p = '\0';
	p = strrchr(key, ':');
	snprintf(release, rlen, "%s.99-test", p + 1);
	*p = '\0';
	snprintf(cpu, len, "%.60s", key);
}

static int count_leftovers(void)
{
	char pattern[128];
	glob_t g;
	int n;

	snprintf(pattern, sizeof(pattern), "%s/.*.??????", root);
	n = glob(pattern, 0, NULL, &g) ? 0 : (int)g.gl_pathc;
	globfree(&g);
	return n;
}

Test(store, host_key_is_cpu_kernel_major_minor_and_guest)
{
	char key[CAL_STORE_KEY_MAX];

	calibrate_store_host_key(key, sizeof(key), "AuthenticAMD:25:1", "6.8.0-45-generic", true);
	cr_expect_str_eq(key, "AuthenticAMD:25:1:6.8:guest");
	calibrate_store_host_key(key, sizeof(key), "GenuineIntel:6:170", "6.12.3", false);
	cr_expect_str_eq(key, "GenuineIntel:6:170:6.12:metal");
	calibrate_store_host_key(key, sizeof(key), "GenuineIntel:6:170", "weird", false);
	cr_expect_str_eq(key, "GenuineIntel:6:170:0.0:metal");
	calibrate_store_this_key(key, sizeof(key));
	cr_expect(strstr(key, ":guest") || strstr(key, ":metal"), "%s", key);
}

Test(store, dir_is_under_the_environment_root_without_colons, .init = setup, .fini = teardown)
{
	char dir[256], want[256];

	cr_assert_eq(calibrate_store_dir(dir, sizeof(dir), "AuthenticAMD:25:1:6.8:guest"), 0);
	snprintf(want, sizeof(want), "%s/AuthenticAMD-25-1-6.8-guest", root);
	cr_expect_str_eq(dir, want);
	cr_expect_eq(calibrate_store_dir(dir, 8, "AuthenticAMD:25:1:6.8:guest"), -ENAMETOOLONG);
	unsetenv(CAL_STORE_ENV);
	cr_expect_str_eq(calibrate_store_root(), CAL_STORE_ROOT);
	setenv(CAL_STORE_ENV, "", 1);
	cr_expect_str_eq(calibrate_store_root(), CAL_STORE_ROOT);
}

Test(store, nothing_stored_is_none_not_refused, .init = setup, .fini = teardown)
{
	struct wl_error err = { 0 };
	struct cal_stored st;

	cr_expect_null(calibrate_store_find(&st, &err));
	cr_expect_not(st.refused);
	cr_expect_str_eq(st.other, "");
}

Test(store, saved_calibration_is_found_with_its_identity, .init = setup, .fini = teardown)
{
	char key[CAL_STORE_KEY_MAX], cpu[64], rel[64], stored[4096], path[256];
	struct wl_error err = { 0 };
	struct cal_stored st;
	const char *found;
	bool guest;

	calibrate_store_this_key(key, sizeof(key));
	this_host(cpu, sizeof(cpu), rel, sizeof(rel), &guest);
	write_calibrated(src, key, "2026-12-07");
	write_measurements(src, cpu, rel, guest);
	write_text(src, CAL_STORE_CALIBRATION, "{\"fit\": 1}");
	cr_assert_eq(calibrate_store_save(src, stored, &err), 0, "%s: %s", err.file, err.msg);
	found = calibrate_store_find(&st, &err);
	cr_assert_not_null(found, "%s: %s: %s", err.file, err.path, err.msg);
	cr_expect_str_eq(found, stored);
	cr_expect_str_eq(st.key, key);
	cr_expect_str_eq(st.cal.host, key);
	cr_expect_str_eq(st.cal.date, "2026-12-07");
	cr_expect_str_eq(st.cal.source, "out/calib");
	cr_expect_eq(strncmp(found, root, strlen(root)), 0, "%s", found);
	/* all three files, and nothing temporary */
	snprintf(path, sizeof(path), "%.*s/%s", (int)(strrchr(found, '/') - found), found,
		 CAL_STORE_CALIBRATION);
	cr_expect_eq(access(path, R_OK), 0, "%s", path);
	snprintf(path, sizeof(path), "%.*s/%s", (int)(strrchr(found, '/') - found), found,
		 CAL_STORE_MEASUREMENTS);
	cr_expect_eq(access(path, R_OK), 0, "%s", path);
	cr_expect_eq(count_leftovers(), 0);

	/* a second save replaces the first, whole */
	write_calibrated(src, key, "2026-12-08");
	cr_assert_eq(calibrate_store_save(src, NULL, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_not_null(calibrate_store_find(&st, &err));
	cr_expect_str_eq(st.cal.date, "2026-12-08");
	cr_expect_eq(count_leftovers(), 0);
}

Test(store, save_refuses_another_hosts_calibration_and_keeps_the_store, .init = setup,
     .fini = teardown)
{
	char key[CAL_STORE_KEY_MAX], cpu[64], rel[64], dir[256];
	struct wl_error err = { 0 };
	struct cal_stored st;
	bool guest;

	calibrate_store_this_key(key, sizeof(key));
	this_host(cpu, sizeof(cpu), rel, sizeof(rel), &guest);
	write_calibrated(src, key, "2026-12-07");
	cr_assert_eq(calibrate_store_save(src, NULL, &err), 0, "%s: %s", err.file, err.msg);

	/* calibrated for another host */
	write_calibrated(src, "GenuineIntel:6:1:5.4:metal", "2026-12-09");
	cr_expect_eq(calibrate_store_save(src, NULL, &err), -EINVAL);
	cr_expect_str_eq(err.path, "calibration.host");
	cr_expect_not_null(strstr(err.msg, "GenuineIntel:6:1:5.4:metal"), "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, key), "%s", err.msg);
	/* calibrated for this host, measured on another */
	write_calibrated(src, key, "2026-12-09");
	write_measurements(src, cpu, rel, !guest);
	cr_expect_eq(calibrate_store_save(src, NULL, &err), -EINVAL);
	cr_expect_str_eq(err.path, "host");
	/* no calibration object, no calibrated.json */
	write_text(src, CAL_STORE_CALIBRATED, "{}");
	cr_expect_eq(calibrate_store_save(src, NULL, &err), -EINVAL);
	cr_expect_str_eq(err.path, "calibration");
	snprintf(dir, sizeof(dir), "%s/%s", src, CAL_STORE_CALIBRATED);
	cr_assert_eq(unlink(dir), 0);
	cr_expect_lt(calibrate_store_save(src, NULL, &err), 0);

	/* the first one is still there, whole */
	cr_assert_not_null(calibrate_store_find(&st, &err), "%s", err.msg);
	cr_expect_str_eq(st.cal.date, "2026-12-07");
	cr_expect_eq(count_leftovers(), 0);
}

Test(store, find_refuses_a_stored_calibration_whose_identity_is_another_hosts, .init = setup,
     .fini = teardown)
{
	char key[CAL_STORE_KEY_MAX], cpu[64], rel[64], dir[256];
	struct wl_error err = { 0 };
	struct cal_stored st;
	bool guest;

	calibrate_store_this_key(key, sizeof(key));
	this_host(cpu, sizeof(cpu), rel, sizeof(rel), &guest);
	cr_assert_eq(calibrate_store_dir(dir, sizeof(dir), key), 0);
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(dir, 0755), 0);
	/* copied by hand into this host's place */
	write_calibrated(dir, "GenuineIntel:6:1:5.4:metal", "2026-12-07");
	cr_expect_null(calibrate_store_find(&st, &err));
	cr_expect(st.refused);
	cr_expect_not_null(strstr(err.msg, "GenuineIntel:6:1:5.4:metal"), "%s", err.msg);
	cr_expect_not_null(strstr(err.msg, key), "%s", err.msg);
	/* the right host, measured elsewhere */
	write_calibrated(dir, key, "2026-12-07");
	write_measurements(dir, "GenuineIntel:6:1", rel, guest);
	cr_expect_null(calibrate_store_find(&st, &err));
	cr_expect(st.refused);
	cr_expect_str_eq(err.path, "host");
	/* not a configuration at all */
	write_text(dir, CAL_STORE_CALIBRATED, "{\"l1d\": ");
	cr_expect_null(calibrate_store_find(&st, &err));
	cr_expect(st.refused);
}

Test(store, another_hosts_calibration_is_named_when_none_is_this_hosts, .init = setup,
     .fini = teardown)
{
	char dir[256];
	struct wl_error err = { 0 };
	struct cal_stored st;

	cr_assert_eq(calibrate_store_dir(dir, sizeof(dir), "GenuineIntel:6:1:5.4:metal"), 0);
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(dir, 0755), 0);
	write_calibrated(dir, "GenuineIntel:6:1:5.4:metal", "2026-12-07");
	cr_expect_null(calibrate_store_find(&st, &err));
	cr_expect_not(st.refused);
	cr_expect_str_eq(st.other, "GenuineIntel:6:1:5.4:metal");
}
