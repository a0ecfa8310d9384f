/*
 * gate.c - the accuracy gate (gate.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare/gate.h"
#include "workload/json.h"

/* Errors that differ by less than this are the same: the simulation is deterministic. */
#define SAME 1e-9

static const char *const change_names[] = {
#define GATE_CHANGE_NAME(name, desc) desc,
	GATE_CHANGES(GATE_CHANGE_NAME)
#undef GATE_CHANGE_NAME
};

const char *gate_change_name(unsigned c)
{
	return c < GATE_CHANGE_NR ? change_names[c] : NULL;
}

bool gate_change_fails(enum gate_change c)
{
	return c == GATE_regression || c == GATE_missing;
}

#define AT(o, k) cJSON_GetObjectItemCaseSensitive(o, k)

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(AT(o, key));
}

/* ---- the baseline ------------------------------------------------------------------- */

cJSON *gate_baseline(const cJSON *suite, const char *side, cJSON *provenance)
{
	cJSON *b = cJSON_CreateObject(), *ws;
	const cJSON *w, *m;

	if (!b) {
		cJSON_Delete(provenance);
		return NULL;
	}
	cJSON_AddStringToObject(b, "format", GATE_FORMAT);
	cJSON_AddNumberToObject(b, "format_version", GATE_FORMAT_VERSION);
	if (provenance)
		cJSON_AddItemToObject(b, "provenance", provenance);
	ws = cJSON_AddArrayToObject(b, "workloads");
	cJSON_ArrayForEach(w, AT(suite, "workloads")) {
		cJSON *o = cJSON_CreateObject(), *fs, *ts;

		cJSON_AddStringToObject(o, "workload", str(w, "workload") ? str(w, "workload") : "");
		fs = cJSON_AddArrayToObject(o, "functional");
		ts = cJSON_AddArrayToObject(o, "timing");
		cJSON_ArrayForEach(m, AT(w, "functional")) {
			const cJSON *s = AT(m, side);
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "name", str(m, "name"));
			cJSON_AddStringToObject(e, "scope", str(m, "scope"));
			wj_add_num_or_null(e, "error", wj_num_or_nan(s, "error"));
			cJSON_AddBoolToObject(e, "pass", str(s, "verdict") &&
					      !strcmp(str(s, "verdict"), "pass"));
			cJSON_AddItemToArray(fs, e);
		}
		cJSON_ArrayForEach(m, AT(w, "metrics")) {
			const cJSON *s = AT(m, side);
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "name", str(m, "name"));
			cJSON_AddStringToObject(e, "scope", str(m, "scope"));
			wj_add_num_or_null(e, "error", wj_num_or_nan(s, "error"));
			wj_add_num_or_null(e, "tolerance", wj_num_or_nan(m, "tolerance"));
			cJSON_AddItemToArray(ts, e);
		}
		cJSON_AddItemToArray(ws, o);
	}
	return b;
}

/* ---- holding results against it ----------------------------------------------------- */

static int add_item(struct gate_result *r, enum gate_change c, const char *workload,
		    const cJSON *m, bool functional, double before, double after, double tol)
{
	struct gate_item *it;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 32;

		if (!(it = realloc(r->items, cap * sizeof(*it))))
			return -1;
		r->items = it;
		r->cap = cap;
	}
	it = &r->items[r->n++];
	memset(it, 0, sizeof(*it));
	it->change = c;
	snprintf(it->workload, sizeof(it->workload), "%s", workload);
	if (m) {
		snprintf(it->metric, sizeof(it->metric), "%s", str(m, "name") ? str(m, "name") : "");
		snprintf(it->scope, sizeof(it->scope), "%s", str(m, "scope") ? str(m, "scope") : "");
	}
	it->functional = functional;
	it->before = before;
	it->after = after;
	it->tolerance = tol;
	r->failures += gate_change_fails(c);
	r->improvements += c == GATE_improved;
	return 0;
}

/* The entry of 'arr' with m's name and scope, or NULL. */
static const cJSON *find_metric(const cJSON *arr, const cJSON *m)
{
	const cJSON *x;

	cJSON_ArrayForEach(x, arr)
		if (str(x, "name") && str(m, "name") && !strcmp(str(x, "name"), str(m, "name")) &&
		    str(x, "scope") && str(m, "scope") && !strcmp(str(x, "scope"), str(m, "scope")))
			return x;
	return NULL;
}

static const cJSON *find_workload(const cJSON *arr, const char *name)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, arr)
		if (str(w, "workload") && !strcmp(str(w, "workload"), name))
			return w;
	return NULL;
}

static int bad(struct wl_error *err, const char *path, const char *field, const char *what)
{
	return wl_error_set(err, path, field, "%s", what);
}

/* Check the baseline's shape before anything is held against it. */
static int check_baseline(const cJSON *b, const char *path, struct wl_error *err)
{
	const cJSON *w, *m;
	char field[128];
	size_t i = 0, j;

	if (!cJSON_IsObject(b))
		return bad(err, path, "", "expected a JSON object");
	if (!str(b, "format") || strcmp(str(b, "format"), GATE_FORMAT))
		return bad(err, path, "format", "expected \"" GATE_FORMAT "\"");
	if (!cJSON_IsNumber(AT(b, "format_version")) ||
	    AT(b, "format_version")->valueint != GATE_FORMAT_VERSION)
		return bad(err, path, "format_version", "expected 1 (this tool reads version 1)");
	if (!cJSON_IsArray(AT(b, "workloads")))
		return bad(err, path, "workloads", "expected an array");
	cJSON_ArrayForEach(w, AT(b, "workloads")) {
		snprintf(field, sizeof(field), "workloads[%zu]", i);
		if (!str(w, "workload") || !cJSON_IsArray(AT(w, "functional")) ||
		    !cJSON_IsArray(AT(w, "timing")))
			return bad(err, path, field, "expected a workload name, functional and timing");
		j = 0;
		cJSON_ArrayForEach(m, AT(w, "functional")) {
			snprintf(field, sizeof(field), "workloads[%zu].functional[%zu]", i, j++);
			if (!str(m, "name") || !str(m, "scope") || !cJSON_IsBool(AT(m, "pass")))
				return bad(err, path, field, "expected name, scope and pass");
		}
		j = 0;
		cJSON_ArrayForEach(m, AT(w, "timing")) {
			snprintf(field, sizeof(field), "workloads[%zu].timing[%zu]", i, j++);
			if (!str(m, "name") || !str(m, "scope") ||
			    !(cJSON_IsNumber(AT(m, "error")) || cJSON_IsNull(AT(m, "error"))) ||
			    !(cJSON_IsNumber(AT(m, "tolerance")) || cJSON_IsNull(AT(m, "tolerance"))))
				return bad(err, path, field, "expected name, scope, error and "
					   "tolerance");
		}
		i++;
	}
	return 0;
}

static int check_workload(struct gate_result *r, const char *name, const cJSON *bw,
			  const cJSON *sw, const char *side)
{
	const cJSON *m, *x;

	cJSON_ArrayForEach(m, AT(bw, "functional")) {
		bool was = cJSON_IsTrue(AT(m, "pass")), now;
		double before = wj_num_or_nan(m, "error"), after;

		r->checked++;
		if (!(x = find_metric(AT(sw, "functional"), m))) {
			if (add_item(r, GATE_missing, name, m, true, before, NAN, 0))
				return -1;
			continue;
		}
		after = wj_num_or_nan(AT(x, side), "error");
		now = str(AT(x, side), "verdict") && !strcmp(str(AT(x, side), "verdict"), "pass");
		if (was != now && add_item(r, was ? GATE_regression : GATE_improved, name, m, true,
					   before, after, 0))
			return -1;
	}
	cJSON_ArrayForEach(m, AT(bw, "timing")) {
		double before = wj_num_or_nan(m, "error"), after, tol;
		enum gate_change c = GATE_CHANGE_NR;

		r->checked++;
		if (!(x = find_metric(AT(sw, "metrics"), m))) {
			if (add_item(r, GATE_missing, name, m, false, before, NAN,
				     wj_num_or_nan(m, "tolerance")))
				return -1;
			continue;
		}
		after = wj_num_or_nan(AT(x, side), "error");
		tol = wj_num_or_nan(m, "tolerance");
		if (!isfinite(tol))
			tol = 0;
		if (isfinite(before) && !isfinite(after))
			c = GATE_regression;		/* a value lost */
		else if (!isfinite(before) && isfinite(after))
			c = GATE_new;
		else if (isfinite(before) && after > before + tol + SAME)
			c = GATE_regression;
		else if (isfinite(before) && after > before + SAME)
			c = GATE_worse;
		else if (isfinite(before) && after < before - SAME)
			c = GATE_improved;
		if (c != GATE_CHANGE_NR && add_item(r, c, name, m, false, before, after, tol))
			return -1;
	}
	/* what the baseline lacks */
	cJSON_ArrayForEach(x, AT(sw, "functional"))
		if (!find_metric(AT(bw, "functional"), x) &&
		    add_item(r, GATE_new, name, x, true, NAN, wj_num_or_nan(AT(x, side), "error"),
			     0))
			return -1;
	cJSON_ArrayForEach(x, AT(sw, "metrics"))
		if (!find_metric(AT(bw, "timing"), x) &&
		    add_item(r, GATE_new, name, x, false, NAN, wj_num_or_nan(AT(x, side), "error"),
			     wj_num_or_nan(x, "tolerance")))
			return -1;
	return 0;
}

static int by_change(const void *a, const void *b)
{
	const struct gate_item *x = a, *y = b;

	return (int)x->change - (int)y->change;
}

int gate_check(const cJSON *baseline, const char *baseline_path, const cJSON *suite,
	       const char *side, struct gate_result *r, struct wl_error *err)
{
	const cJSON *bw, *sw;

	memset(r, 0, sizeof(*r));
	if (check_baseline(baseline, baseline_path, err))
		return -1;
	cJSON_ArrayForEach(bw, AT(baseline, "workloads")) {
		const char *name = str(bw, "workload");

		if (!(sw = find_workload(AT(suite, "workloads"), name))) {
			if (add_item(r, GATE_missing, name, NULL, false, NAN, NAN, 0))
				goto oom;
			continue;
		}
		if (check_workload(r, name, bw, sw, side))
			goto oom;
	}
	cJSON_ArrayForEach(sw, AT(suite, "workloads"))
		if (str(sw, "workload") && !find_workload(AT(baseline, "workloads"),
							 str(sw, "workload")) &&
		    add_item(r, GATE_new, str(sw, "workload"), NULL, false, NAN, NAN, 0))
			goto oom;
	/* the failures first; a stable order within each kind: the suite's */
	for (size_t i = 1; i < r->n; i++)
		for (size_t j = i; j > 0 && by_change(&r->items[j - 1], &r->items[j]) > 0; j--) {
			struct gate_item t = r->items[j];

			r->items[j] = r->items[j - 1];
			r->items[j - 1] = t;
		}
	return 0;
oom:
	gate_result_release(r);
	return wl_error_set(err, baseline_path, "", "out of memory");
}

void gate_result_release(struct gate_result *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* ---- saying what moved -------------------------------------------------------------- */

static void fmt_error(char *buf, size_t len, const struct gate_item *it, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (it->functional)
		snprintf(buf, len, "%.4g", v);
	else
		snprintf(buf, len, "%.1f%%", 100 * v);
}

void gate_print(FILE *f, const struct gate_result *r)
{
	size_t shown = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct gate_item *it = &r->items[i];
		char b[32], a[32], t[32];

		if (!shown++)
			fprintf(f, "| change | workload | metric | scope | baseline | now | tolerance |\n"
				"|---|---|---|---|---:|---:|---:|\n");
		fmt_error(b, sizeof(b), it, it->before);
		fmt_error(a, sizeof(a), it, it->after);
		if (it->functional || !it->metric[0])
			snprintf(t, sizeof(t), "%s", it->functional ? "pass" : "-");
		else
			snprintf(t, sizeof(t), "+%.1f%%", 100 * it->tolerance);
		fprintf(f, "| %s%s | %s | %s | %s | %s | %s | %s |\n",
			gate_change_fails(it->change) ? "FAIL " : "", gate_change_name(it->change),
			it->workload, it->metric[0] ? it->metric : "(the workload)",
			it->scope[0] ? it->scope : "-", b, a, t);
	}
	if (!shown)
		fprintf(f, "Nothing moved: every one of the %zu metrics is as in the baseline.\n",
			r->checked);
	fprintf(f, "accuracy gate: %s: %zu metrics checked, %zu failures, %zu improvements\n",
		r->failures ? "FAIL" : "pass", r->checked, r->failures, r->improvements);
}

cJSON *gate_result_json(const struct gate_result *r)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "pass", !r->failures);
	cJSON_AddNumberToObject(o, "failures", (double)r->failures);
	cJSON_AddNumberToObject(o, "improvements", (double)r->improvements);
	cJSON_AddNumberToObject(o, "checked", (double)r->checked);
	arr = cJSON_AddArrayToObject(o, "changes");
	for (size_t i = 0; i < r->n; i++) {
		const struct gate_item *it = &r->items[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "change", gate_change_name(it->change));
		cJSON_AddBoolToObject(e, "fails", gate_change_fails(it->change));
		cJSON_AddStringToObject(e, "workload", it->workload);
		cJSON_AddStringToObject(e, "metric", it->metric);
		cJSON_AddStringToObject(e, "scope", it->scope);
		cJSON_AddStringToObject(e, "class", it->functional ? "functional" : "timing");
		wj_add_num_or_null(e, "baseline", it->before);
		wj_add_num_or_null(e, "now", it->after);
		wj_add_num_or_null(e, "tolerance", it->tolerance);
		cJSON_AddItemToArray(arr, e);
	}
	return o;
}
