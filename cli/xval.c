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
#include "reports/suite.h"
#include "simulator/config.h"
#include "workload/json.h"

#define XVAL_NAME "calibrate"

static const char *const xval_sides[2] = { "before", "after" };

#define SUITE_MAX_CFGS 2

/* One timing metric's name over the suite, under each configuration. */
struct xval_stat {
	char name[48];
	size_t n[SUITE_MAX_CFGS], measured[SUITE_MAX_CFGS], pass[SUITE_MAX_CFGS];
	double sum[SUITE_MAX_CFGS], max[SUITE_MAX_CFGS];
	/* the (Linux, simulated) pairs where both have a value: the correlations */
	double *lx[SUITE_MAX_CFGS], *sx[SUITE_MAX_CFGS];
	size_t np[SUITE_MAX_CFGS], cap[SUITE_MAX_CFGS];
};

/* One pair more for the correlations of configuration k; -1 when out of memory. */
static int add_pair(struct xval_stat *st, int k, double linux_value, double sim_value)
{
	if (st->np[k] == st->cap[k]) {
		size_t cap = st->cap[k] ? 2 * st->cap[k] : 16;
		double *l = realloc(st->lx[k], cap * sizeof(*l)), *x;

		if (!l)
			return -1;
		st->lx[k] = l;
		x = realloc(st->sx[k], cap * sizeof(*x));
		if (!x)
			return -1;
		st->sx[k] = x;
		st->cap[k] = cap;
	}
	st->lx[k][st->np[k]] = linux_value;
	st->sx[k][st->np[k]++] = sim_value;
	return 0;
}

/*
 * The suite: nk configurations named sides[k], each workload under
 * DIR/sub/NAME (sub "" for DIR/NAME)
 */
struct xval_suite {
	struct xval_stat *st;
	size_t nr;
	int nk;
	const char *const *sides;
	const char *sub;
	const char *name;	/* the command, for messages */
	struct suite_faults *faults;
	uint64_t mem_bytes;
};

/* DIR/SUB/NAME (DIR/NAME for an empty SUB), refusing a name that is no single path component. */
static int workload_dir(const char *name, const struct wl_spec *s, const char *dir,
			const char *sub, char *buf, size_t len)
{
	if (!s->name[0] || strchr(s->name, '/') || s->name[0] == '.') {
		fprintf(stderr, "virtuoso %s: %s: name: expected a name that can be a directory\n",
			name, s->name);
		return EXIT_BAD_INPUT;
	}
	if ((size_t)snprintf(buf, len, "%s/%s%s%s", dir, sub, *sub ? "/" : "", s->name) >= len) {
		fprintf(stderr, "virtuoso %s: %.60s…: too long\n", name, dir);
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

		if ((ret = cli_load_runnable_spec(specs[i], &s, false)))
			return ret;
		if (!(ret = workload_dir(name, &s, dir, "xval", path, sizeof(path))) &&
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

static cJSON *side_metric_json(const struct metric *m)
{
	cJSON *o = cJSON_CreateObject();

	wj_add_num_or_null(o, "sim", m ? m->sim_value : NAN);
	wj_add_num_or_null(o, "error", m ? m->value : NAN);
	cJSON_AddStringToObject(o, "verdict", verdict_name(m ? m->verdict : VERDICT_NA));
	return o;
}

/*
 * The timing metrics of one workload's two comparisons into its JSON
 * entry and the suite's statistics. -1 when out of memory.
 */
static int add_workload(struct xval_suite *su, cJSON *arr, const char *name,
			const struct comparison *c)
{
	cJSON *w = cJSON_CreateObject(), *ms = cJSON_CreateArray(), *fs = cJSON_CreateArray();
	cJSON *ts = cJSON_CreateArray();
	char d[4200];

	if (!w || !ms || !fs || !ts) {
		cJSON_Delete(w);
		cJSON_Delete(ms);
		cJSON_Delete(fs);
		cJSON_Delete(ts);
		return -1;
	}
	snprintf(d, sizeof(d), "%s%s%s", su->sub, *su->sub ? "/" : "", name);
	cJSON_AddStringToObject(w, "workload", name);
	cJSON_AddStringToObject(w, "dir", d);
	cJSON_AddNumberToObject(w, "linux_runs", (double)c[0].nr_linux_runs);
	cJSON_AddItemToObject(w, "metrics", ms);
	cJSON_AddItemToArray(arr, w);
	for (int k = 0; k < su->nk; k++)
		for (size_t i = 0; i < c[k].nr_metrics; i++) {
			const struct metric *m = &c[k].metrics[i];
			struct xval_stat *st;

			if (m->klass != METRIC_TIMING)
				continue;
			if (!(st = suite_stat(su, m->name)))
				return -1;
			st->n[k]++;
			st->pass[k] += m->verdict == VERDICT_PASS;
			if (isfinite(m->linux_value) && isfinite(m->sim_value) &&
			    add_pair(st, k, m->linux_value, m->sim_value))
				return -1;
			if (isnan(m->value))
				continue;
			st->measured[k]++;
			st->sum[k] += m->value;
			if (st->measured[k] == 1 || m->value > st->max[k])
				st->max[k] = m->value;
		}
	cJSON_AddItemToObject(w, "functional", fs);
	/* the TLB's rows apart: on a host without counters they are all n/a */
	cJSON_AddItemToObject(w, "tlb", ts);
	for (size_t i = 0; i < c[0].nr_metrics; i++) {
		const struct metric *m = &c[0].metrics[i];
		cJSON *o;

		if (m->klass == METRIC_INFO)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "scope", m->scope);
		wj_add_num_or_null(o, "linux", m->linux_value);
		if (m->klass == METRIC_TIMING) {
			wj_add_num_or_null(o, "linux_lo", m->linux_lo);
			wj_add_num_or_null(o, "linux_hi", m->linux_hi);
			/* what the accuracy gate lets an error grow by */
			wj_add_num_or_null(o, "tolerance", m->warn);
		}
		cJSON_AddItemToObject(o, su->sides[0], side_metric_json(m));
		for (int k = 1; k < su->nk; k++)
			cJSON_AddItemToObject(o, su->sides[k], side_metric_json(
				comparison_find(&c[k], m->name, m->scope)));
		cJSON_AddItemToArray(m->klass == METRIC_TIMING ? ms : m->klass == METRIC_TLB ? ts : fs, o);
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
		for (int k = 0; k < su->nk; k++) {
			cJSON *s = cJSON_CreateObject();
			bool any = st->measured[k] > 0;

			cJSON_AddNumberToObject(s, "n", (double)st->n[k]);
			cJSON_AddNumberToObject(s, "measured", (double)st->measured[k]);
			wj_add_num_or_null(s, "mape", any ? st->sum[k] / (double)st->measured[k] : NAN);
			wj_add_num_or_null(s, "max", any ? st->max[k] : NAN);
			cJSON_AddNumberToObject(s, "pass", (double)st->pass[k]);
			{
				long double tl = 0, ts = 0;

				for (size_t j = 0; j < st->np[k]; j++) {
					tl += st->lx[k][j];
					ts += st->sx[k][j];
				}
				/* the suite's total, simulated against Linux's */
				wj_add_num_or_null(s, "aggregate", st->np[k] ? ratio_error((double)tl, (double)ts)
								  : NAN);
			}
			wj_add_num_or_null(s, "pearson_r", pearson_log_r(st->lx[k], st->sx[k], st->np[k]));
			wj_add_num_or_null(s, "kendall_tau", kendall_tau_b(st->lx[k], st->sx[k], st->np[k]));
			cJSON_AddItemToObject(o, su->sides[k], s);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/*
 * Per functional metric over the suite's workloads ("workloads"[].
 * "functional"), under each configuration: n instances and how many pass
 * (a functional metric passes when exact, or within its small tolerance).
 */
static cJSON *functional_json(const struct xval_suite *su, const cJSON *workloads)
{
	cJSON *arr = cJSON_CreateArray(), *o;
	const cJSON *w, *m;

	cJSON_ArrayForEach(w, workloads)
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(w, "functional")) {
			const char *name = cJSON_GetObjectItemCaseSensitive(m, "name")->valuestring;

			cJSON_ArrayForEach(o, arr)
				if (!strcmp(cJSON_GetObjectItemCaseSensitive(o, "name")->valuestring, name))
					break;
			if (!o) {
				o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", name);
				for (int k = 0; k < su->nk; k++) {
					cJSON *s = cJSON_AddObjectToObject(o, su->sides[k]);

					cJSON_AddNumberToObject(s, "n", 0);
					cJSON_AddNumberToObject(s, "pass", 0);
				}
				cJSON_AddItemToArray(arr, o);
			}
			for (int k = 0; k < su->nk; k++) {
				cJSON *s = cJSON_GetObjectItemCaseSensitive(o, su->sides[k]);
				const cJSON *v = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(m, su->sides[k]), "verdict");
				cJSON *n = cJSON_GetObjectItemCaseSensitive(s, "n");
				cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "pass");

				cJSON_SetNumberValue(n, n->valuedouble + 1);
				if (cJSON_IsString(v) && !strcmp(v->valuestring, "pass"))
					cJSON_SetNumberValue(p, p->valuedouble + 1);
			}
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

static void corr(char *buf, size_t len, const cJSON *v)
{
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.3f", v->valuedouble);
	else
		snprintf(buf, len, "n/a");
}

#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

/* A string's value, or "?". */
static const char *sv(const cJSON *v)
{
	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* The Markdown of the suite's JSON: the suite's table, then each workload's. */
static void md_write(FILE *f, const cJSON *root, const struct xval_suite *su,
		     const struct cli_suite_opts *so)
{
	static const char *const stat_keys[2] = { "mape", "max" };
	static const char *const stat_heads[2] = { "MAPE", "max" };
	const cJSON *m, *w;
	char a[32], b[32];
	int k, i;

	fprintf(f, "# %s\n\n", so->title);
	if (AT(root, "provenance")) {
		const cJSON *p = AT(root, "provenance"), *r = AT(p, "reference");
		const cJSON *h = AT(r, "host");

		/* where the numbers come from, as every file of a validation says */
		fprintf(f, "virtuoso %s (commit %s); configuration %s (%s); Linux recorded %s on %s "
			"(%s), kernel %s, %s.\n\n", sv(AT(AT(p, "tool"), "version")),
			sv(AT(AT(p, "tool"), "commit")), sv(AT(p, "config_hash")), sv(AT(p, "config")),
			sv(AT(r, "date")), sv(AT(AT(h, "cpu"), "model_name")),
			sv(AT(AT(h, "cpu"), "key")), sv(AT(h, "kernel")),
			cJSON_IsTrue(AT(h, "guest")) ? "guest" : "bare metal");
	}
	fprintf(f, "Timing metrics, ratio error max(sim/linux, linux/sim) - 1 from the "
		"edge of Linux's band; %s r: Pearson's of the logarithms of the values, tau: "
		"Kendall's tau-b of their rankings, over the instances that have both.\n\n"
		"| metric | n |", so->legend);
	for (i = 0; i < 2; i++)
		for (k = 0; k < su->nk; k++)
			fprintf(f, " %s %s |", stat_heads[i], su->sides[k]);
	for (k = 0; k < su->nk; k++)
		fprintf(f, " pass %s |", su->sides[k]);
	for (k = 0; k < su->nk; k++)
		fprintf(f, " r %s | tau %s |", su->sides[k], su->sides[k]);
	fprintf(f, "\n|---|---:|");
	for (k = 0; k < 5 * su->nk; k++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	cJSON_ArrayForEach(m, AT(root, "metrics")) {
		fprintf(f, "| %s | %d |", AT(m, "name")->valuestring,
			AT(AT(m, su->sides[0]), "n")->valueint);
		for (i = 0; i < 2; i++)
			for (k = 0; k < su->nk; k++) {
				pct(a, sizeof(a), AT(AT(m, su->sides[k]), stat_keys[i]));
				fprintf(f, " %s |", a);
			}
		for (k = 0; k < su->nk; k++)
			fprintf(f, " %d |", AT(AT(m, su->sides[k]), "pass")->valueint);
		for (k = 0; k < su->nk; k++) {
			corr(a, sizeof(a), AT(AT(m, su->sides[k]), "pearson_r"));
			corr(b, sizeof(b), AT(AT(m, su->sides[k]), "kendall_tau"));
			fprintf(f, " %s | %s |", a, b);
		}
		fprintf(f, "\n");
	}
	if (cJSON_GetArraySize(AT(root, "functional"))) {
		fprintf(f, "\nFunctional metrics (counts, backing, orders): instances that pass, "
			"exact or within their tolerance.\n\n| functional metric |");
		for (k = 0; k < su->nk; k++)
			fprintf(f, " pass %s |", su->sides[k]);
		fprintf(f, "\n|---|");
		for (k = 0; k < su->nk; k++)
			fprintf(f, "---:|");
		fprintf(f, "\n");
		cJSON_ArrayForEach(m, AT(root, "functional")) {
			fprintf(f, "| %s |", AT(m, "name")->valuestring);
			for (k = 0; k < su->nk; k++)
				fprintf(f, " %d of %d |", AT(AT(m, su->sides[k]), "pass")->valueint,
					AT(AT(m, su->sides[k]), "n")->valueint);
			fprintf(f, "\n");
		}
	}
	cJSON_ArrayForEach(w, AT(root, "workloads")) {
		fprintf(f, "\n## %s (%d Linux runs)\n\n| metric | scope | Linux |",
			AT(w, "workload")->valuestring, AT(w, "linux_runs")->valueint);
		for (k = 0; k < su->nk; k++)
			fprintf(f, " sim %s | error %s |", su->sides[k], su->sides[k]);
		fprintf(f, "\n|---|---|---:|");
		for (k = 0; k < 2 * su->nk; k++)
			fprintf(f, "---:|");
		fprintf(f, "\n");
		cJSON_ArrayForEach(m, AT(w, "metrics")) {
			num(a, sizeof(a), AT(m, "linux"));
			fprintf(f, "| %s | %s | %s |", AT(m, "name")->valuestring,
				AT(m, "scope")->valuestring, a);
			for (k = 0; k < su->nk; k++) {
				const cJSON *x = AT(m, su->sides[k]);

				num(a, sizeof(a), AT(x, "sim"));
				pct(b, sizeof(b), AT(x, "error"));
				fprintf(f, " %s | %s %s |", a, b, AT(x, "verdict")->valuestring);
			}
			fprintf(f, "\n");
		}
	}
}

/*
 * One spec under each of the suite's configurations, compared with its
 * Linux runs, into the suite and 'arr'. Returns the exit status.
 */
static int xval_one(const char *dir, const char *spec, const struct sim_config *const *cfgs,
		    struct xval_suite *su, cJSON *arr)
{
	struct side lx[COMPARE_MAX_RUNS], sm[SUITE_MAX_CFGS];
	const struct side *runs[COMPARE_MAX_RUNS];
	struct comparison c[SUITE_MAX_CFGS];
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
	if ((ret = cli_load_runnable_spec(spec, &s, false))) {
		tolerances_release(&tol);
		return ret;
	}
	if ((ret = workload_dir(su->name, &s, dir, su->sub, wdir, sizeof(wdir))))
		goto out;
	start = calloc(s.nr_regions ? s.nr_regions : 1, sizeof(*start));
	if (!start) {
		ret = EXIT_FAIL;
		goto out;
	}
	if ((ret = cli_read_linux_side(su->name, wdir, &s, start, &host))) {
		ret = EXIT_BAD_INPUT;
		goto out;
	}
	if (cli_load_linux_runs(wdir, lx, &nl, &err))
		goto out_bad;
	for (size_t i = 0; i < nl; i++)
		runs[i] = &lx[i];
	for (int k = 0; k < su->nk; k++) {
		snprintf(sdir, sizeof(sdir), "%s/%s", wdir, su->sides[k]);
		cfg = *cfgs[k];
		if (cli_verbose)
			fprintf(stderr, "virtuoso %s: %s in the simulator, %s\n", su->name, s.name,
				su->sides[k]);
		if ((ret = cli_sim_write(su->name, &s, sdir, su->mem_bytes, &cfg, NULL, true, start,
					 &host)))
			goto out;
		if (side_load(&sm[k], sdir, "sim.json", &err) ||
		    compare_runs(&c[k], runs, nl, &sm[k], &tol, &err))
			goto out_bad;
		snprintf(path, sizeof(path), "%s/summary.json", sdir);
		if ((ret = cli_write_json(path, comparison_to_json(&c[k]))))
			goto out;
	}
	ret = add_workload(su, arr, s.name, c) ||
	      (su->faults && suite_faults_add(su->faults, c, (size_t)su->nk)) ? EXIT_FAIL : EXIT_OK;
	goto out;
out_bad:
	fprintf(stderr, "virtuoso %s: ", su->name);
	wl_error_print(&err, stderr);
	ret = EXIT_BAD_INPUT;
out:
	for (int k = 0; k < su->nk; k++) {
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

int cli_suite(const struct cli_suite_opts *so, const char *dir, const char *const *specs,
	      size_t n, const struct sim_config *const *cfgs, FILE *md, cJSON **json)
{
	struct xval_suite su = { .nk = so->nk, .sides = so->sides, .sub = so->sub,
				 .name = so->name, .faults = so->faults,
				 .mem_bytes = so->mem_bytes };
	struct sim_config cfg;
	struct cli_progress pr;
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
	if (so->progress)
		cli_progress_init(&pr, so->name);
	for (size_t i = 0; i < n && !ret; i++) {
		if (so->progress)
			cli_progress_show(&pr, (unsigned)i, (unsigned)n, specs[i]);
		ret = xval_one(dir, specs[i], cfgs, &su, arr);
	}
	if (so->progress && !ret)
		cli_progress_show(&pr, (unsigned)n, (unsigned)n, "done");
	if (ret)
		goto out;
	if (so->provenance)
		cJSON_AddItemToObject(root, "provenance", cJSON_Duplicate(so->provenance, true));
	cJSON_AddItemToObject(root, "metrics", suite_json(&su));
	cJSON_AddItemToObject(root, "functional", functional_json(&su, arr));
	cJSON_AddItemToObject(root, "workloads", arr);
	arr = NULL;
	cf = cJSON_AddObjectToObject(root, "configs");
	for (int k = 0; k < su.nk; k++) {
		cfg = *cfgs[k];
		cJSON_AddItemToObject(cf, su.sides[k], sim_config_to_json(&cfg));
	}

	snprintf(path, sizeof(path), "%s/%s.md", dir, so->file);
	if (cli_out_open(&o, path)) {
		ret = EXIT_FAIL;
		goto out;
	}
	md_write(o.f, root, &su, so);
	if ((ret = cli_out_close(&o, true)))
		goto out;
	if (md)
		md_write(md, root, &su, so);
	if (json && !(*json = cJSON_Duplicate(root, true))) {
		ret = EXIT_FAIL;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s.json", dir, so->file);
	ret = cli_write_json(path, root);
	root = NULL;
	if (ret) {
		snprintf(path, sizeof(path), "%s/%s.md", dir, so->file);
		remove(path);
		if (json) {
			cJSON_Delete(*json);
			*json = NULL;
		}
	}
out:
	cJSON_Delete(arr);
	cJSON_Delete(root);
	for (size_t i = 0; i < su.nr; i++)
		for (int k = 0; k < SUITE_MAX_CFGS; k++) {
			free(su.st[i].lx[k]);
			free(su.st[i].sx[k]);
		}
	free(su.st);
	return ret;
}

int cli_xval(const char *dir, const char *const *specs, size_t n, const struct sim_config *before,
	     const struct sim_config *after, FILE *md, cJSON **json, struct suite_faults *faults)
{
	const struct sim_config *cfgs[2] = { before, after };
	const struct cli_suite_opts so = {
		.name = XVAL_NAME, .sub = "xval", .file = "crossval", .nk = 2, .sides = xval_sides,
		.title = "Cross-validation on held-out workloads",
		.legend = "before: the reference configuration, after: the calibration.",
		.faults = faults,
	};

	return cli_suite(&so, dir, specs, n, cfgs, md, json);
}
