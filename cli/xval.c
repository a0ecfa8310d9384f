/*
 * xval.c - cross-validation of a calibration on held-out workloads (xval.h).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "cli/xval.h"
#include "compare/compare.h"
#include "linux-probes/runner.h"
#include "simulator/config.h"

#define XVAL_NAME "calibrate"

static const char *const xval_sides[2] = { "before", "after" };

/* One timing metric's name over the suite, under each configuration. */
struct xval_stat {
	char name[48];
	size_t n[2], measured[2], pass[2];
	double sum[2], max[2];
};

struct xval_suite {
	struct xval_stat *st;
	size_t nr;
};

/* DIR/xval/NAME, refusing a name that is no single path component. */
static int workload_dir(const struct wl_spec *s, const char *dir, char *buf, size_t len)
{
	if (!s->name[0] || strchr(s->name, '/') || s->name[0] == '.') {
		fprintf(stderr, "virtuoso %s: %s: name: expected a name that can be a directory\n",
			XVAL_NAME, s->name);
		return EXIT_BAD_INPUT;
	}
	if ((size_t)snprintf(buf, len, "%s/xval/%s", dir, s->name) >= len) {
		fprintf(stderr, "virtuoso %s: %.60s…: too long\n", XVAL_NAME, dir);
		return EXIT_BAD_INPUT;
	}
	return EXIT_OK;
}

static int make_dir(const char *name, const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "virtuoso %s: %s: cannot create the directory: %s\n", name, path,
			strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_xval_record(const char *name, const char *dir, const char *const *specs, size_t n,
		    int wait_s)
{
	char path[4096];
	int ret;

	if (cli_check_linux_host(name)) {
		fprintf(stderr, "virtuoso %s: cross-validation skipped: recording the held-out "
			"workloads on Linux needs root and BTF\n", name);
		return EXIT_HOST;
	}
	snprintf(path, sizeof(path), "%s/xval", dir);
	if ((ret = make_dir(name, dir)) || (ret = make_dir(name, path)))
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct runner_opts ro = { .tool_version = cli_version };
		struct wl_spec s;
		bool incomplete;

		if ((ret = cli_load_spec(specs[i], &s)))
			return ret;
		if (!(ret = workload_dir(&s, dir, path, sizeof(path))) &&
		    !(ret = make_dir(name, path))) {
			if (cli_verbose)
				fprintf(stderr, "virtuoso %s: cross-validation: %s on Linux, %d runs\n",
					name, s.name, XVAL_LINUX_RUNS);
			ro.spec = &s;
			ro.spec_path = specs[i];
			ro.out_dir = path;
			ret = cli_linux_runs(name, &ro, XVAL_LINUX_RUNS, wait_s, &incomplete);
			if (!ret && incomplete)
				fprintf(stderr, "virtuoso %s: cross-validation: %s: a Linux run is "
					"incomplete\n", name, s.name);
		}
		wl_spec_release(&s);
		if (ret)
			return ret;
	}
	return EXIT_OK;
}

static struct xval_stat *suite_stat(struct xval_suite *su, const char *name)
{
	struct xval_stat *st;

	for (size_t i = 0; i < su->nr; i++)
		if (!strcmp(su->st[i].name, name))
			return &su->st[i];
	st = realloc(su->st, (su->nr + 1) * sizeof(*st));
	if (!st)
		return NULL;
	su->st = st;
	st = &su->st[su->nr++];
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", name);
	return st;
}

static void add_num(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *side_metric_json(const struct metric *m)
{
	cJSON *o = cJSON_CreateObject();

	add_num(o, "sim", m ? m->sim_value : NAN);
	add_num(o, "error", m ? m->value : NAN);
	cJSON_AddStringToObject(o, "verdict", verdict_name(m ? m->verdict : VERDICT_NA));
	return o;
}

/*
 * The timing metrics of one workload's two comparisons into its JSON
 * entry and the suite's statistics. -1 when out of memory.
 */
static int add_workload(struct xval_suite *su, cJSON *arr, const char *name,
			const struct comparison c[2])
{
	cJSON *w = cJSON_CreateObject(), *ms = cJSON_CreateArray();
	char d[4200];

	if (!w || !ms) {
		cJSON_Delete(w);
		cJSON_Delete(ms);
		return -1;
	}
	snprintf(d, sizeof(d), "xval/%s", name);
	cJSON_AddStringToObject(w, "workload", name);
	cJSON_AddStringToObject(w, "dir", d);
	cJSON_AddNumberToObject(w, "linux_runs", (double)c[0].nr_linux_runs);
	cJSON_AddItemToObject(w, "metrics", ms);
	cJSON_AddItemToArray(arr, w);
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < c[k].nr_metrics; i++) {
			const struct metric *m = &c[k].metrics[i];
			struct xval_stat *st;

			if (m->klass != METRIC_TIMING)
				continue;
			if (!(st = suite_stat(su, m->name)))
				return -1;
			st->n[k]++;
			st->pass[k] += m->verdict == VERDICT_PASS;
			if (isnan(m->value))
				continue;
			st->measured[k]++;
			st->sum[k] += m->value;
			if (st->measured[k] == 1 || m->value > st->max[k])
				st->max[k] = m->value;
		}
	for (size_t i = 0; i < c[0].nr_metrics; i++) {
		const struct metric *m = &c[0].metrics[i];
		cJSON *o;

		if (m->klass != METRIC_TIMING)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "scope", m->scope);
		add_num(o, "linux", m->linux_value);
		add_num(o, "linux_lo", m->linux_lo);
		add_num(o, "linux_hi", m->linux_hi);
		cJSON_AddItemToObject(o, "before", side_metric_json(m));
		cJSON_AddItemToObject(o, "after",
				      side_metric_json(comparison_find(&c[1], m->name, m->scope)));
		cJSON_AddItemToArray(ms, o);
	}
	return 0;
}

static cJSON *suite_json(const struct xval_suite *su)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < su->nr; i++) {
		const struct xval_stat *st = &su->st[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", st->name);
		for (int k = 0; k < 2; k++) {
			cJSON *s = cJSON_CreateObject();
			bool any = st->measured[k] > 0;

			cJSON_AddNumberToObject(s, "n", (double)st->n[k]);
			cJSON_AddNumberToObject(s, "measured", (double)st->measured[k]);
			add_num(s, "mape", any ? st->sum[k] / (double)st->measured[k] : NAN);
			add_num(s, "max", any ? st->max[k] : NAN);
			cJSON_AddNumberToObject(s, "pass", (double)st->pass[k]);
			cJSON_AddItemToObject(o, xval_sides[k], s);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static void pct(char *buf, size_t len, const cJSON *v)
{
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.1f%%", v->valuedouble * 100);
	else
		snprintf(buf, len, "n/a");
}

static void num(char *buf, size_t len, const cJSON *v)
{
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.0f", v->valuedouble);
	else
		snprintf(buf, len, "n/a");
}

#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

/* crossval.md from crossval.json: the suite's table, then each workload's. */
static void md_write(FILE *f, const cJSON *root)
{
	const cJSON *m, *w;
	char a[32], b[32], c[32], d[32], e[32];

	fprintf(f, "# Cross-validation on held-out workloads\n\n"
		"Timing metrics, ratio error max(sim/linux, linux/sim) - 1 from the edge of "
		"Linux's band; before: the reference configuration, after: the calibration.\n\n"
		"| metric | n | MAPE before | MAPE after | max before | max after | pass before "
		"| pass after |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
	cJSON_ArrayForEach(m, AT(root, "metrics")) {
		const cJSON *x = AT(m, "before"), *y = AT(m, "after");

		pct(a, sizeof(a), AT(x, "mape"));
		pct(b, sizeof(b), AT(y, "mape"));
		pct(c, sizeof(c), AT(x, "max"));
		pct(d, sizeof(d), AT(y, "max"));
		fprintf(f, "| %s | %d | %s | %s | %s | %s | %d | %d |\n", AT(m, "name")->valuestring,
			AT(x, "n")->valueint, a, b, c, d, AT(x, "pass")->valueint,
			AT(y, "pass")->valueint);
	}
	cJSON_ArrayForEach(w, AT(root, "workloads")) {
		fprintf(f, "\n## %s (%d Linux runs)\n\n| metric | scope | Linux | sim before | "
			"error before | sim after | error after |\n"
			"|---|---|---:|---:|---:|---:|---:|\n", AT(w, "workload")->valuestring,
			AT(w, "linux_runs")->valueint);
		cJSON_ArrayForEach(m, AT(w, "metrics")) {
			const cJSON *x = AT(m, "before"), *y = AT(m, "after");

			num(a, sizeof(a), AT(m, "linux"));
			num(b, sizeof(b), AT(x, "sim"));
			pct(c, sizeof(c), AT(x, "error"));
			num(d, sizeof(d), AT(y, "sim"));
			pct(e, sizeof(e), AT(y, "error"));
			fprintf(f, "| %s | %s | %s | %s | %s %s | %s | %s %s |\n",
				AT(m, "name")->valuestring, AT(m, "scope")->valuestring, a, b, c,
				AT(x, "verdict")->valuestring, d, e, AT(y, "verdict")->valuestring);
		}
	}
}

/*
 * One spec under both configurations, compared with its Linux runs, into
 * the suite and 'arr'. Returns the exit status.
 */
static int xval_one(const char *dir, const char *spec, const struct sim_config *cfgs[2],
		    struct xval_suite *su, cJSON *arr)
{
	struct side lx[COMPARE_MAX_RUNS], sm[2];
	const struct side *runs[COMPARE_MAX_RUNS];
	struct comparison c[2];
	struct tolerances tol;
	struct wl_error err = { 0 };
	struct wl_kernel host;
	struct sim_config cfg;
	char wdir[4096], sdir[4200], path[4300];
	uint64_t *start = NULL;
	struct wl_spec s;
	size_t nl = 0;
	int ret;

	memset(lx, 0, sizeof(lx));
	memset(sm, 0, sizeof(sm));
	memset(c, 0, sizeof(c));
	tolerances_init(&tol);
	if ((ret = cli_load_spec(spec, &s))) {
		tolerances_release(&tol);
		return ret;
	}
	if ((ret = workload_dir(&s, dir, wdir, sizeof(wdir))))
		goto out;
	start = calloc(s.nr_regions ? s.nr_regions : 1, sizeof(*start));
	if (!start) {
		ret = EXIT_FAIL;
		goto out;
	}
	if ((ret = cli_read_linux_side(XVAL_NAME, wdir, &s, start, &host))) {
		ret = EXIT_BAD_INPUT;
		goto out;
	}
	if (cli_load_linux_runs(wdir, lx, &nl, &err))
		goto out_bad;
	for (size_t i = 0; i < nl; i++)
		runs[i] = &lx[i];
	for (int k = 0; k < 2; k++) {
		snprintf(sdir, sizeof(sdir), "%s/%s", wdir, xval_sides[k]);
		cfg = *cfgs[k];
		if (cli_verbose)
			fprintf(stderr, "virtuoso %s: cross-validation: %s in the simulator, %s\n",
				XVAL_NAME, s.name, xval_sides[k]);
		if ((ret = cli_sim_write(XVAL_NAME, &s, sdir, 0, &cfg, NULL, true, start, &host)))
			goto out;
		if (side_load(&sm[k], sdir, "sim.json", &err) ||
		    compare_runs(&c[k], runs, nl, &sm[k], &tol, &err))
			goto out_bad;
		snprintf(path, sizeof(path), "%s/summary.json", sdir);
		if ((ret = cli_write_json(path, comparison_to_json(&c[k]))))
			goto out;
	}
	ret = add_workload(su, arr, s.name, c) ? EXIT_FAIL : EXIT_OK;
	goto out;
out_bad:
	fprintf(stderr, "virtuoso %s: ", XVAL_NAME);
	wl_error_print(&err, stderr);
	ret = EXIT_BAD_INPUT;
out:
	for (int k = 0; k < 2; k++) {
		comparison_release(&c[k]);
		side_release(&sm[k]);
	}
	for (size_t i = 0; i < COMPARE_MAX_RUNS; i++)
		side_release(&lx[i]);
	tolerances_release(&tol);
	free(start);
	wl_spec_release(&s);
	return ret;
}

int cli_xval(const char *dir, const char *const *specs, size_t n, const struct sim_config *before,
	     const struct sim_config *after, FILE *md, cJSON **json)
{
	const struct sim_config *cfgs[2] = { before, after };
	struct xval_suite su = { 0 };
	struct sim_config cfg;
	struct cli_out o;
	char path[4096];
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray(), *cf;
	int ret = EXIT_OK;

	if (json)
		*json = NULL;
	if (!root || !arr) {
		cJSON_Delete(root);
		cJSON_Delete(arr);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n && !ret; i++)
		ret = xval_one(dir, specs[i], cfgs, &su, arr);
	if (ret)
		goto out;
	cJSON_AddItemToObject(root, "metrics", suite_json(&su));
	cJSON_AddItemToObject(root, "workloads", arr);
	arr = NULL;
	cf = cJSON_AddObjectToObject(root, "configs");
	for (int k = 0; k < 2; k++) {
		cfg = *cfgs[k];
		cJSON_AddItemToObject(cf, xval_sides[k], sim_config_to_json(&cfg));
	}

	snprintf(path, sizeof(path), "%s/crossval.md", dir);
	if (cli_out_open(&o, path)) {
		ret = EXIT_FAIL;
		goto out;
	}
	md_write(o.f, root);
	if ((ret = cli_out_close(&o, true)))
		goto out;
	if (md)
		md_write(md, root);
	if (json && !(*json = cJSON_Duplicate(root, true))) {
		ret = EXIT_FAIL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/crossval.json", dir);
	ret = cli_write_json(path, root);
	root = NULL;
	if (ret) {
		snprintf(path, sizeof(path), "%s/crossval.md", dir);
		remove(path);
		if (json) {
			cJSON_Delete(*json);
			*json = NULL;
		}
	}
out:
	cJSON_Delete(arr);
	cJSON_Delete(root);
	free(su.st);
	return ret;
}
