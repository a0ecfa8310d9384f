/*
 * harness.h - what the comparison suites share: a scratch directory per
 * test, hand-written sides (tests/data/compare/small) edited and saved
 * there, and event logs written record by record. Header-only (static
 * functions); include it after criterion.h.
 */
#ifndef TESTS_COMPARE_HARNESS_H
#define TESTS_COMPARE_HARNESS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "compare/compare.h"
#include "workload/evlog.h"
#include "workload/json.h"

#define SMALL	"tests/data/compare/small"

/* A fresh empty directory per test, removed by the suite's .fini (cmp_cleanup). */
static char cmp_dir[64];

static inline const char *cmp_tmp_dir(void)
{
	snprintf(cmp_dir, sizeof(cmp_dir), "/tmp/vcompare-XXXXXX");
	cr_assert_not_null(mkdtemp(cmp_dir));
	return cmp_dir;
}

static inline void cmp_cleanup(void)
{
	DIR *d;
	struct dirent *e;
	char p[320];

	if (!cmp_dir[0] || !(d = opendir(cmp_dir)))
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", cmp_dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(cmp_dir);
}

static inline const char *cmp_path(const char *dir, const char *name)
{
	static char paths[4][320];
	static int slot;
	char *p = paths[slot++ % 4];

	snprintf(p, 320, "%s/%s", dir, name);
	return p;
}

/* The JSON file at path, parsed (the test fails if it cannot be). */
static inline cJSON *cmp_read_json(const char *path)
{
	struct wl_error err;
	struct wj_ctx c = { .file = path, .err = &err };
	char *text;
	size_t len;
	cJSON *j;

	cr_assert_eq(wj_read_file(path, &text, &len, &err), 0, "%s: %s", path, err.msg);
	j = wj_parse(&c, text, len);
	free(text);
	cr_assert_not_null(j, "%s: %s: %s", path, err.path, err.msg);
	return j;
}

/* Write j as dir/name, and free it. */
static inline void cmp_write_json(cJSON *j, const char *dir, const char *name)
{
	char *text = wj_print(j);
	FILE *f = fopen(cmp_path(dir, name), "w");

	cr_assert_not_null(text);
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	free(text);
	cJSON_Delete(j);
}

static inline void cmp_write_text(const char *dir, const char *name, const char *text)
{
	FILE *f = fopen(cmp_path(dir, name), "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static inline void cmp_copy(const char *from, const char *dir, const char *name)
{
	FILE *in = fopen(from, "rb"), *out = fopen(cmp_path(dir, name), "wb");
	char buf[65536];
	size_t n;

	cr_assert_not_null(in, "%s", from);
	cr_assert_not_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* Set (replace or add) key of the object at obj to v. */
static inline void cmp_set(cJSON *obj, const char *key, cJSON *v)
{
	cr_assert_not_null(obj, "no object to set %s in", key);
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v);
	else
		cJSON_AddItemToObject(obj, key, v);
}

/* regions.NAME of a side's tree */
static inline cJSON *cmp_region(cJSON *side, const char *name)
{
	cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(side, "regions"),
						    name);

	cr_assert_not_null(r, "no region %s", name);
	return r;
}

/* Load dir/name, which must succeed. */
static inline void cmp_load(struct side *s, const char *dir, const char *name)
{
	struct wl_error err = { 0 };

	cr_assert_eq(side_load(s, dir, name, &err), 0, "%s: %s: %s", err.file, err.path, err.msg);
}

/* Compare two loaded sides under the defaults, which must succeed. */
static inline void cmp_compare(struct comparison *c, const struct side *l, const struct side *s)
{
	struct tolerances tol;
	struct wl_error err = { 0 };

	tolerances_init(&tol);
	cr_assert_eq(compare_sides(c, l, s, &tol, &err), 0, "%s: %s: %s", err.file, err.path,
		     err.msg);
	tolerances_release(&tol);
}

static inline const struct metric *cmp_metric(const struct comparison *c, const char *name,
					      const char *scope)
{
	const struct metric *m = comparison_find(c, name, scope);

	cr_assert_not_null(m, "no metric %s of %s", name, scope);
	return m;
}

/* A fault record: in phase 'phase', at addr, that took latency_ns. */
static inline struct vt_event cmp_fault(uint64_t ts, int phase, uint64_t addr, uint64_t latency_ns)
{
	struct vt_event e;

	memset(&e, 0, sizeof(e));
	e.ts = ts;
	e.tid = 1;
	e.type = VT_FAULT;
	e.phase = (__s16)phase;
	e.fault.addr = addr;
	e.fault.error_code = 6;		/* W, U */
	e.fault.latency_ns = latency_ns;
	e.fault.completed = 1;
	e.fault.rss_anon = -1;
	return e;
}

/* dir/name: an event log of these records under this metadata (a JSON object's text). */
static inline void cmp_write_log(const char *dir, const char *name, const char *meta,
				 const struct vt_event *ev, size_t n)
{
	struct evlog_writer w;
	struct wl_error err = { 0 };

	cr_assert_eq(evlog_create(&w, cmp_path(dir, name), meta, &err), 0, "%s", err.msg);
	cr_assert_eq(evlog_append(&w, ev, n), 0);
	cr_assert_eq(evlog_commit(&w, &err), 0, "%s: %s", err.path, err.msg);
}

#endif
