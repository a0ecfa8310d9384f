/*
 * fit.c - the calibration fit (fit.h): direct values, a bounded linear least
 * squares, a bounded derivative-free search with the simulator in the loop.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <nlopt.h>

#include "calibrate/fit.h"
#include "calibrate/latency_specs.h"
#include "calibrate/store.h"
#include "mimicos/swap.h"
#include "simulator/driver.h"
#include "simulator/stats.h"
#include "simulator/timing.h"

void cal_fit_opts_init(struct cal_fit_opts *o)
{
	o->max_evals = 24;
	o->chase_loads = 8192;
	o->fault_pages = 2048;
	o->max_chase_bytes = 0;
	o->fit_chase_bytes = 256ull << 20;
	o->grid_passes = 2;
}

/* ---- reading measurements.json ------------------------------------------ */

static int need(const cJSON *parent, const char *key, const char *path, const char *file,
		struct wl_error *err, const cJSON **out)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (!o)
		{
		char full[160];

		snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "", key);
		return wl_error_set(err, file, full, "missing");
	}
	*out = o;
	return 0;
}

/* A stat's median: a finite number > 0 at PATH.KEY.median. */
static int need_stat(const cJSON *parent, const char *key, const char *path, const char *file,
		     struct wl_error *err, struct cal_stat *s)
{
	const cJSON *o = NULL, *v;
	static const char *const names[4] = { "median", "min", "max", "spread" };
	double *dst[4] = { &s->median, &s->min, &s->max, &s->spread };

	if (need(parent, key, path, file, err, &o))
		return -1;
	for (int i = 0; i < 4; i++) {
		v = cJSON_GetObjectItemCaseSensitive(o, names[i]);
		if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
		    (i == 0 && v->valuedouble <= 0))
		{
			char full[160];

			snprintf(full, sizeof(full), "%s.%s.%s", path, key, names[i]);
			return wl_error_set(err, file, full, "expected a %s number",
					    i == 0 ? "positive" : "non-negative");
		}
		*dst[i] = v->valuedouble;
	}
	return 0;
}

/* "shootdown": optional (older files, hosts without the probes or with one CPU). */
static int load_shootdown(const cJSON *root, const char *file, struct cal_shootdown *x,
			  struct wl_error *err)
{
	static const char *const counts[3] = { "runs", "cross_calls", "waits" };
	static const char *const nums[2] = { "handle_ns", "wait_ns" };
	const cJSON *sd = cJSON_GetObjectItemCaseSensitive(root, "shootdown"), *o;
	uint64_t c[3];
	char path[64];

	memset(x, 0, sizeof(*x));
	if (!sd) {
		snprintf(x->skipped, sizeof(x->skipped), "not in the file");
		return 0;
	}
	if (!cJSON_IsObject(sd))
		return wl_error_set(err, file, "shootdown", "expected an object");
	if ((o = cJSON_GetObjectItemCaseSensitive(sd, "skipped"))) {
		if (!cJSON_IsString(o))
			return wl_error_set(err, file, "shootdown.skipped", "expected a string");
		snprintf(x->skipped, sizeof(x->skipped), "%s", o->valuestring);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		o = cJSON_GetObjectItemCaseSensitive(sd, counts[i]);
		snprintf(path, sizeof(path), "shootdown.%s", counts[i]);
		if (!cJSON_IsNumber(o) || o->valuedouble < (i < 2 ? 1 : 0) ||
		    o->valuedouble > (i ? 0x1p53 : CAL_REPEAT_MAX) ||
		    o->valuedouble != floor(o->valuedouble))
			return wl_error_set(err, file, path, "expected a whole number%s",
					    i < 2 ? " above 0" : "");
		c[i] = (uint64_t)o->valuedouble;
	}
	x->runs = (unsigned)c[0];
	x->cross_calls = c[1];
	x->waits = c[2];
	for (int i = 0; i < 2; i++) {
		double *dst = i ? &x->wait_ns : &x->handle_ns;

		o = cJSON_GetObjectItemCaseSensitive(sd, nums[i]);
		snprintf(path, sizeof(path), "shootdown.%s", nums[i]);
		/* no wait measured: 0 */
		if (!cJSON_IsNumber(o) || !isfinite(o->valuedouble) || o->valuedouble < 0 ||
		    (!i && o->valuedouble == 0))
			return wl_error_set(err, file, path, "expected a %s number of ns",
					    i ? "non-negative" : "positive");
		*dst = o->valuedouble;
	}
	x->measured = true;
	return 0;
}

int cal_results_from_json(struct cal_results *r, const cJSON *root, const char *file,
			  struct wl_error *err)
{
	static const char *const pats[4] = { "sequential", "uniform", "zipf", "chase" };
	const cJSON *o = NULL, *p = NULL, *q = NULL, *pts = NULL, *fl = NULL;
	char path[96];
	int i;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(root))
		return wl_error_set(err, file, "", "expected a JSON object");
	if (need(root, "format", "", file, err, &o))
		return -1;
	if (!cJSON_IsString(o) || strcmp(o->valuestring, "virtuoso-measurements"))
		return wl_error_set(err, file, "format", "expected \"virtuoso-measurements\"");
	if (need(root, "date", "", file, err, &o))
		return -1;
	if (!cJSON_IsString(o) || strlen(o->valuestring) >= sizeof(r->date))
		return wl_error_set(err, file, "date", "expected an ISO 8601 string");
	strcpy(r->date, o->valuestring);
	if (need(root, "host", "", file, err, &o) || need(o, "cpu", "host", file, err, &p))
		return -1;
	if (need(p, "vendor", "host.cpu", file, err, &q))
		return -1;
	if (!cJSON_IsString(q))
		return wl_error_set(err, file, "host.cpu.vendor", "expected a string");
	snprintf(r->host.vendor, sizeof(r->host.vendor), "%s", q->valuestring);
	if (need(p, "family", "host.cpu", file, err, &q))
		return -1;
	if (!cJSON_IsNumber(q) || q->valuedouble < 0)
		return wl_error_set(err, file, "host.cpu.family", "expected a number");
	r->host.family = (unsigned)q->valuedouble;
	if (need(p, "model", "host.cpu", file, err, &q))
		return -1;
	if (!cJSON_IsNumber(q) || q->valuedouble < 0)
		return wl_error_set(err, file, "host.cpu.model", "expected a number");
	r->host.model = (unsigned)q->valuedouble;
	q = cJSON_GetObjectItemCaseSensitive(p, "model_name");
	if (cJSON_IsString(q))
		snprintf(r->host.model_name, sizeof(r->host.model_name), "%s", q->valuestring);
	q = cJSON_GetObjectItemCaseSensitive(o, "llc_bytes");
	if (cJSON_IsNumber(q) && q->valuedouble > 0)
		r->llc_bytes = (uint64_t)q->valuedouble;
	/* the kernel and the guest bit: with the CPU, the host a calibration is for */
	q = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "kernel"), "release");
	if (cJSON_IsString(q))
		snprintf(r->kernel_release, sizeof(r->kernel_release), "%s", q->valuestring);
	q = cJSON_GetObjectItemCaseSensitive(o, "guest");
	if (q && !cJSON_IsBool(q))
		return wl_error_set(err, file, "host.guest", "expected true or false");
	r->host.guest = cJSON_IsTrue(q);

	if (need(root, "clock", "", file, err, &o) ||
	    need_stat(o, "cycles_per_ns", "clock", file, err, &r->cycles_per_ns))
		return -1;
	if (r->cycles_per_ns.median < 0.1 || r->cycles_per_ns.median > 20)
		return wl_error_set(err, file, "clock.cycles_per_ns.median", "expected 0.1 to 20, "
				    "got %g", r->cycles_per_ns.median);

	if (need(root, "line_chase", "", file, err, &o) ||
	    need(o, "points", "line_chase", file, err, &pts))
		return -1;
	if (!cJSON_IsArray(pts) || cJSON_GetArraySize(pts) < 1 ||
	    cJSON_GetArraySize(pts) > CAL_MAX_SIZES)
		return wl_error_set(err, file, "line_chase.points", "expected an array of 1 to %d "
				    "points", CAL_MAX_SIZES);
	i = 0;
	cJSON_ArrayForEach(p, pts) {
		snprintf(path, sizeof(path), "line_chase.points[%d]", i);
		if (need(p, "bytes", path, file, err, &q))
			return -1;
		if (!cJSON_IsNumber(q) || q->valuedouble < 64 || q->valuedouble > 0x1p40 ||
		    fmod(q->valuedouble, 64) != 0 ||
		    (i && q->valuedouble <= (double)r->line[i - 1].bytes))
			return wl_error_set(err, file, strcat(path, ".bytes"), "expected a multiple "
					    "of 64 above the previous point's");
		r->line[i].bytes = (uint64_t)q->valuedouble;
		if (need_stat(p, "ns_per_load", path, file, err, &r->line[i].ns_per_load))
			return -1;
		i++;
	}
	r->nr_line = (size_t)i;

	/* the page chase: not fitted, read for the report when the file has it */
	o = cJSON_GetObjectItemCaseSensitive(root, "page_chase");
	for (int t = 0; o && t < 2; t++) {
		static const char *const mode[2] = { "nohugepage", "hugepage" };

		snprintf(path, sizeof(path), "page_chase.%s", mode[t]);
		if (need(o, mode[t], "page_chase", file, err, &pts))
			return -1;
		if (!cJSON_IsArray(pts) || cJSON_GetArraySize(pts) > CAL_MAX_SIZES ||
		    (t && (size_t)cJSON_GetArraySize(pts) != r->nr_page))
			return wl_error_set(err, file, path, "expected an array of at most %d "
					    "points, as many in both modes", CAL_MAX_SIZES);
		i = 0;
		cJSON_ArrayForEach(p, pts) {
			struct cal_chase_point *pt = &r->page[t][i];

			snprintf(path, sizeof(path), "page_chase.%s[%d]", mode[t], i);
			if (need(p, "bytes", path, file, err, &q))
				return -1;
			if (!cJSON_IsNumber(q) || q->valuedouble < 4096 || q->valuedouble > 0x1p40)
				return wl_error_set(err, file, strcat(path, ".bytes"), "expected a "
						    "size of 4096 bytes or more");
			pt->bytes = (uint64_t)q->valuedouble;
			q = cJSON_GetObjectItemCaseSensitive(p, "pages");
			pt->pages = cJSON_IsNumber(q) && q->valuedouble > 0 ?
				    (uint64_t)q->valuedouble : pt->bytes >> 12;
			q = cJSON_GetObjectItemCaseSensitive(p, "anon_huge_kib");
			pt->anon_huge_kib = cJSON_IsNumber(q) && q->valuedouble > 0 ?
					    (uint64_t)q->valuedouble : 0;
			if (need_stat(p, "ns_per_load", path, file, err, &pt->ns_per_load))
				return -1;
			q = cJSON_GetObjectItemCaseSensitive(p, "tlb_per_load");
			if (q && !cJSON_IsObject(q))
				return wl_error_set(err, file, strcat(path, ".tlb_per_load"),
						    "expected an object of TLB events per load");
			for (const cJSON *e = q ? q->child : NULL; e; e = e->next) {
				int ev = tlb_event_from_name(e->string);
				size_t at = strlen(path);

				if (ev == TLB_EV_NONE || !cJSON_IsNumber(e) || e->valuedouble < 0 ||
				    e->valuedouble > 1e6) {
					snprintf(path + at, sizeof(path) - at, ".tlb_per_load.%s",
						 e->string);
					return wl_error_set(err, file, path, ev == TLB_EV_NONE ?
							    "expected a TLB event (workload/tlbev.h)" :
							    "expected a number of events per load, 0 or more");
				}
				pt->tlb_per_load[ev] = e->valuedouble;
				pt->tlb_counted |= 1u << ev;
				r->has_tlb_counts = true;
			}
			i++;
		}
		r->nr_page = (size_t)i;
	}
	if (!r->has_tlb_counts) {
		q = o ? cJSON_GetObjectItemCaseSensitive(o, "tlb_unsupported") : NULL;
		snprintf(r->tlb_why, sizeof(r->tlb_why), "%s", cJSON_IsString(q) ? q->valuestring :
			 "the measurements hold no TLB counts (an older file)");
	}

	if (need(root, "bandwidth", "", file, err, &o) ||
	    need_stat(o, "memset_gb_per_s", "bandwidth", file, err, &r->memset_gb_per_s) ||
	    need_stat(o, "memcpy_gb_per_s", "bandwidth", file, err, &r->memcpy_gb_per_s))
		return -1;
	if (need(root, "native", "", file, err, &o))
		return -1;
	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "native.%s", pats[i]);
		if (need(o, pats[i], "native", file, err, &p) ||
		    need_stat(p, "ns_per_access", path, file, err, &r->native_ns_per_access[i]))
			return -1;
	}

	/* optional: files before it was measured */
	o = cJSON_GetObjectItemCaseSensitive(root, "native_large");
	if (o) {
		static const int lp[CAL_NATIVE_LARGE_NR] = CAL_NATIVE_LARGE_PATTERNS;
		const cJSON *v;
		uint64_t *dst[2] = { &r->native_large_bytes, &r->native_large_accesses };
		static const char *const keys[2] = { "region_bytes", "accesses_per_run" };

		for (i = 0; i < 2; i++) {
			v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
			if (!cJSON_IsNumber(v) || v->valuedouble < (i ? 1 : 1 << 20) ||
			    v->valuedouble > (i ? 1e9 : 0x1p40) || v->valuedouble != floor(v->valuedouble)) {
				snprintf(path, sizeof(path), "native_large.%s", keys[i]);
				return wl_error_set(err, file, path, "expected a whole number%s", i ?
						    " of accesses, 1 to 10^9" : " of bytes, 1 MiB to 1 TiB");
			}
			*dst[i] = (uint64_t)v->valuedouble;
		}
		for (i = 0; i < CAL_NATIVE_LARGE_NR; i++) {
			snprintf(path, sizeof(path), "native_large.%s", wl_pattern_name(lp[i]));
			if (need(o, wl_pattern_name(lp[i]), "native_large", file, err, &p) ||
			    need_stat(p, "ns_per_access", path, file, err,
				      &r->native_large_ns_per_access[i]))
				return -1;
		}
		r->has_native_large = true;
	}

	if (need(root, "faults", "", file, err, &fl))
		return -1;
	for (int k = 0; k < CAL_FAULT_NR; k++)
		for (int m = 0; m < CAL_MEMORY_NR; m++) {
			struct cal_fault *f = &r->fault[k][m];
			bool required = k != CAL_FAULT_THP_2M && m == CAL_WARM;

			p = cJSON_GetObjectItemCaseSensitive(fl, cal_fault_name(k));
			q = p ? cJSON_GetObjectItemCaseSensitive(p, cal_memory_name(m)) : NULL;
			snprintf(path, sizeof(path), "faults.%s.%s", cal_fault_name(k),
				 cal_memory_name(m));
			if (!q) {
				if (required)
					return wl_error_set(err, file, path, "missing");
				snprintf(f->skipped, sizeof(f->skipped), "not in the file");
				continue;
			}
			o = cJSON_GetObjectItemCaseSensitive(q, "skipped");
			if (o) {
				if (required)
					return wl_error_set(err, file, path, "skipped, and the fit "
							    "needs it");
				snprintf(f->skipped, sizeof(f->skipped), "%s",
					 cJSON_IsString(o) ? o->valuestring : "");
				continue;
			}
			if (need_stat(q, "us_per_fault", path, file, err, &f->us_per_fault))
				return -1;
			o = cJSON_GetObjectItemCaseSensitive(q, "faults_per_run");
			f->faults = cJSON_IsNumber(o) ? (uint64_t)o->valuedouble : 0;
			f->measured = true;
		}

	/* optional: files from before the suite recorded the geometry fit the reference's */
	o = cJSON_GetObjectItemCaseSensitive(root, "geometry");
	if (o) {
		sim_config_init(&r->geometry);
		if (sim_config_from_json(&r->geometry, o, file, err)) {
			char inner[sizeof(err->path) - 16];

			memcpy(inner, err->path, sizeof(inner) - 1);
			inner[sizeof(inner) - 1] = '\0';
			snprintf(err->path, sizeof(err->path), "geometry%s%s", *inner ? "." : "",
				 inner);
			return -1;
		}
		r->has_geometry = true;
	}

	/* the kernel's fault latencies: optional (older files, hosts without the probes) */
	fl = cJSON_GetObjectItemCaseSensitive(root, "fault_latency");
	if (fl && !cJSON_IsObject(fl))
		return wl_error_set(err, file, "fault_latency", "expected an object");
	o = cJSON_GetObjectItemCaseSensitive(fl, "runs");
	if (o && (!cJSON_IsNumber(o) || o->valuedouble < 0 || o->valuedouble > CAL_REPEAT_MAX ||
		  o->valuedouble != floor(o->valuedouble)))
		return wl_error_set(err, file, "fault_latency.runs", "expected a whole number of "
				    "runs from 0 to %d", CAL_REPEAT_MAX);
	r->latency_runs = o ? (unsigned)o->valuedouble : 0;
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		static const char *const counts[3] = { "faults", "cold", "other_kinds" };
		static const char *const nums[4] = { "p50_ns", "p90_ns", "p99_ns", "mean_ns" };
		struct cal_latency *x = &r->latency[k];
		uint64_t *cdst[3] = { &x->faults, &x->cold, &x->other };
		double *ndst[4] = { &x->p50_ns, &x->p90_ns, &x->p99_ns, &x->mean_ns };

		snprintf(path, sizeof(path), "fault_latency.%s", cal_lat_name(k));
		p = cJSON_GetObjectItemCaseSensitive(fl, cal_lat_name(k));
		if (!p) {
			snprintf(x->skipped, sizeof(x->skipped), "not in the file");
			continue;
		}
		if (!cJSON_IsObject(p))
			return wl_error_set(err, file, path, "expected an object");
		if ((o = cJSON_GetObjectItemCaseSensitive(p, "skipped"))) {
			if (!cJSON_IsString(o))
				return wl_error_set(err, file, strcat(path, ".skipped"),
						    "expected a string");
			snprintf(x->skipped, sizeof(x->skipped), "%s", o->valuestring);
			continue;
		}
		if (need(p, "spec", path, file, err, &o))
			return -1;
		if (!cJSON_IsString(o) || strlen(o->valuestring) >= sizeof(x->spec))
			return wl_error_set(err, file, strcat(path, ".spec"), "expected a spec's "
					    "name");
		strcpy(x->spec, o->valuestring);
		for (i = 0; i < 3; i++) {
			o = cJSON_GetObjectItemCaseSensitive(p, counts[i]);
			if (!o && i)
				continue;	/* only the count of the kind is required */
			if (!o || !cJSON_IsNumber(o) || o->valuedouble < (i ? 0 : 1) ||
			    o->valuedouble > 0x1p53 || o->valuedouble != floor(o->valuedouble))
				return wl_error_set(err, file, strcat(strcat(path, "."), counts[i]),
						    "expected a whole number%s", i ? "" : " above 0");
			*cdst[i] = (uint64_t)o->valuedouble;
		}
		for (i = 0; i < 4; i++) {
			o = cJSON_GetObjectItemCaseSensitive(p, nums[i]);
			if (!cJSON_IsNumber(o) || !isfinite(o->valuedouble) || o->valuedouble <= 0)
				return wl_error_set(err, file, strcat(strcat(path, "."), nums[i]),
						    "expected a positive number of ns");
			*ndst[i] = o->valuedouble;
		}
		if (x->p50_ns > x->p90_ns || x->p90_ns > x->p99_ns)
			return wl_error_set(err, file, strcat(path, ".p90_ns"), "expected p50_ns <= "
					    "p90_ns <= p99_ns");
		if (need_stat(p, "p50_ns_runs", path, file, err, &x->p50_ns_runs) ||
		    need_stat(p, "p90_ns_runs", path, file, err, &x->p90_ns_runs))
			return -1;
		/* optional: files before the lru_add batch was measured */
		if (cJSON_GetObjectItemCaseSensitive(p, "lru_batch_excess_ns_runs")) {
			if (need_stat(p, "lru_batch_excess_ns_runs", path, file, err,
				      &x->lru_batch_excess_ns_runs))
				return -1;
			x->has_lru_batch = true;
		}
		x->runs = r->latency_runs;
		for (i = 0; i < 2; i++) {
			static const char *const rk[2] = { "runs", "runs_left_out" };
			unsigned *dst = i ? &x->runs_left_out : &x->runs;

			o = cJSON_GetObjectItemCaseSensitive(p, rk[i]);
			if (!o)
				continue;
			if (!cJSON_IsNumber(o) || o->valuedouble < (i ? 0 : 1) ||
			    o->valuedouble > CAL_REPEAT_MAX || o->valuedouble != floor(o->valuedouble))
				return wl_error_set(err, file, strcat(strcat(path, "."), rk[i]),
						    "expected a whole number of runs, %d to %d", i ? 0 : 1,
						    CAL_REPEAT_MAX);
			*dst = (unsigned)o->valuedouble;
		}
		x->measured = true;
	}
	return load_shootdown(root, file, &r->shootdown, err);
}

/* ---- the simulator in the loop ------------------------------------------ */

#define KERNEL_JSON "\"kernel\": {\"thp\": \"madvise\", \"defrag\": \"madvise\", " \
	"\"use_zero_page\": true, \"mthp\": {\"16KiB\": \"never\", \"32KiB\": \"never\", " \
	"\"64KiB\": \"never\", \"128KiB\": \"never\", \"256KiB\": \"never\", " \
	"\"512KiB\": \"never\", \"1MiB\": \"never\"}}"

/* Linux's khugepaged defaults: the fit reads no sysfs, so every host fits alike. */
static const int64_t khugepaged_defaults[WL_KHP_NR] = { 10000, 60000, 4096, 511, 64, 256, 1 };

/*
 * Run the spec 'text' timed on cfg into run, parsed into *s (the run points
 * into it); *evals counts runs. Release both with sim_done() after.
 */
static int sim_spec(struct driver_run *run, struct wl_spec *s, const char *text,
		    const struct sim_config *cfg, unsigned *evals, struct wl_error *err)
{
	struct driver_opts o;
	struct timing_config tc;
	int ret;

	memset(run, 0, sizeof(*run));
	if (wl_spec_parse(s, text, strlen(text), "calibrate/fit.c", err))
		return -1;
	for (int k = 0; k < WL_KHP_NR; k++)
		if (s->kernel.khugepaged[k] < 0)
			s->kernel.khugepaged[k] = khugepaged_defaults[k];
	driver_opts_init(&o);
	o.host = &s->kernel;
	o.mimicos = &cfg->mimicos;
	o.mem_bytes = ((s->mapped * 2 + (256ull << 20)) + (4ull << 20) - 1) & ~((4ull << 20) - 1);
	sim_config_timing(cfg, &tc);
	o.timing = &tc;
	ret = driver_run(run, s, &o, err);
	(*evals)++;
	if (!ret && !run->complete)
		ret = wl_error_set(err, "calibrate/fit.c", "", "a simulated microbenchmark did not "
				   "complete: %s", run->nr_reasons ? run->reasons[0] : "?");
	if (ret) {
		driver_release(run);
		wl_spec_release(s);
	}
	return ret;
}

static void sim_done(struct driver_run *run, struct wl_spec *s)
{
	driver_release(run);
	wl_spec_release(s);
}

static double cycles_per_ns(const struct sim_config *cfg)
{
	return cfg->core.freq_mhz / 1000.0;
}

/*
 * The line chase at 'bytes', THP-advised as the suite's: cycles per load.
 * A simulated chase phase first stores its links over the whole buffer
 * (faulting it in and warming the caches, as the suite's warm-up run does)
 * and then loads; the suite times only the loads. Two runs that differ
 * only in their number of loads (the same seed: the same buffer, links and
 * order) differ by exactly the later loads, so their difference over the
 * extra loads is the loads' cost alone, the build cancelled. The
 * executor's own work is not the suite's chase: executor_cycles are off
 * here.
 */
static int sim_chase_run(double *cycles, struct mmu_stats *mmu, const struct sim_config *cfg,
			 uint64_t bytes, const char *advice, uint64_t stride, uint64_t loads,
			 unsigned *evals, struct wl_error *err)
{
	struct driver_run run;
	struct wl_spec spec;
	char text[1024];
	uint64_t size = (bytes + (2ull << 20) - 1) & ~((2ull << 20) - 1);

	/*
	 * 4 KiB pages are faulted first in a random order: a guest's pages
	 * lie scattered in the host's memory, so the caches' sets of one line
	 * per page are too. Faulted in the chase's slot order they would be
	 * consecutive frames, and with the line a function of the slot too,
	 * a few sets would take every line.
	 */
	bool scatter = !strcmp(advice, "nohugepage");

	snprintf(text, sizeof(text),
		 "{\"name\": \"cal-chase\", \"seed\": 7, " KERNEL_JSON ", "
		 "\"regions\": [{\"name\": \"buf\", \"size\": %llu, \"advice\": [\"%s\"]}], "
		 "\"phases\": [%s{\"op\": \"access\", \"region\": \"buf\", \"length\": %llu, "
		 "\"pattern\": \"chase\", \"count\": %llu, \"stride\": %llu}]}",
		 (unsigned long long)size, advice,
		 scatter ? "{\"op\": \"touch\", \"region\": \"buf\", \"order\": \"random\"}, " : "",
		 (unsigned long long)bytes, (unsigned long long)loads, (unsigned long long)stride);
	if (sim_spec(&run, &spec, text, cfg, evals, err))
		return -1;
	*cycles = (double)run.phases[scatter].timing.cycles;
	if (mmu)
		*mmu = run.phases[scatter].timing.mmu;
	sim_done(&run, &spec);
	return 0;
}

static int sim_chase_loads_tlb(double *cycles, double *tlb, const struct sim_config *base,
			       uint64_t bytes, const char *advice, uint64_t stride, uint64_t loads,
			       unsigned *evals, struct wl_error *err)
{
	struct sim_config cfg = *base;
	/*
	 * The suite's runs go round the cycle many times after a warm-up run:
	 * the caches hold what a lap leaves, not what the build wrote. One
	 * lap (up to 2^18 loads, 16 MiB of lines: beyond, nearly every load misses
	 * either way) before
	 * the loads that count gives the same state.
	 */
	uint64_t lap = bytes / stride < (1u << 18) ? bytes / stride : (1u << 18);
	struct mmu_stats m1, m2;
	double c1, c2;

	memset(cfg.core.executor_cycles, 0, sizeof(cfg.core.executor_cycles));
	if (sim_chase_run(&c1, &m1, &cfg, bytes, advice, stride, lap, evals, err) ||
	    sim_chase_run(&c2, &m2, &cfg, bytes, advice, stride, lap + loads, evals, err))
		return -1;
	*cycles = (c2 - c1) / (double)loads;
	/* the loads' events, as the suite's counters see its loads */
	for (int ev = 0; tlb && ev < TLB_EV_NR; ev++)
		tlb[ev] = ((double)mmu_tlb_event(&m2, ev, false) -
			   (double)mmu_tlb_event(&m1, ev, false)) / (double)loads;
	return 0;
}

static int sim_chase_loads(double *cycles, const struct sim_config *base, uint64_t bytes,
			   const char *advice, uint64_t stride, uint64_t loads, unsigned *evals,
			   struct wl_error *err)
{
	return sim_chase_loads_tlb(cycles, NULL, base, bytes, advice, stride, loads, evals, err);
}

static int sim_chase(double *cycles, const struct sim_config *base, uint64_t bytes,
		     uint64_t loads, unsigned *evals, struct wl_error *err)
{
	return sim_chase_loads(cycles, base, bytes, "hugepage", 64, loads, evals, err);
}

/*
 * The page chase: one line per 4 KiB page, 'pages' of them, advised
 * nohugepage (t 0) or hugepage (t 1). A stride of a page and a line puts
 * slot i on its own page at line i mod 64: the lines spread over the
 * cache's sets as the suite's (7 i) mod 64 does, over a span 1/64 longer.
 */
#define PAGE_STRIDE	(4096 + 64)

static int sim_page_chase_tlb(double *cycles, double *tlb, const struct sim_config *cfg,
			      uint64_t pages, int t, uint64_t loads, unsigned *evals,
			      struct wl_error *err)
{
	/* a phase's length is whole pages: the slack is less than a slot */
	uint64_t bytes = (pages * PAGE_STRIDE + 4095) & ~4095ull;

	return sim_chase_loads_tlb(cycles, tlb, cfg, bytes, t ? "hugepage" : "nohugepage",
				   PAGE_STRIDE, loads, evals, err);
}

static int sim_page_chase(double *cycles, const struct sim_config *cfg, uint64_t pages, int t,
			  uint64_t loads, unsigned *evals, struct wl_error *err)
{
	return sim_page_chase_tlb(cycles, NULL, cfg, pages, t, loads, evals, err);
}

/*
 * One fault kind's microbenchmark, warm: 'pages' faults in a NOHUGEPAGE
 * region, one access per page; cycles per fault of the timed phase.
 */
static int sim_fault(double *cycles, const struct sim_config *cfg, enum cal_fault_kind k,
		     uint64_t pages, unsigned *evals, struct wl_error *err)
{
	struct driver_run run;
	struct wl_spec spec;
	char text[1024];
	const char *phases;
	int timed = 0;

	switch (k) {
	case CAL_FAULT_WRITE_4K:
		phases = "{\"op\": \"touch\", \"region\": \"buf\"}";
		break;
	case CAL_FAULT_ZERO_READ:
		phases = "{\"op\": \"touch\", \"region\": \"buf\", \"write\": false}";
		break;
	case CAL_FAULT_ZERO_COW:
		phases = "{\"op\": \"touch\", \"region\": \"buf\", \"write\": false}, "
			 "{\"op\": \"touch\", \"region\": \"buf\"}";
		timed = 1;
		break;
	default:
		return wl_error_set(err, "calibrate/fit.c", "", "no model of fault kind %s",
				    cal_fault_name(k));
	}
	snprintf(text, sizeof(text),
		 "{\"name\": \"cal-fault\", \"seed\": 7, " KERNEL_JSON ", "
		 "\"regions\": [{\"name\": \"buf\", \"size\": %llu, \"advice\": [\"nohugepage\"]}], "
		 "\"phases\": [%s]}", (unsigned long long)(pages << 12), phases);
	if (sim_spec(&run, &spec, text, cfg, evals, err))
		return -1;
	*cycles = (double)run.phases[timed].timing.cycles / (double)pages;
	sim_done(&run, &spec);
	return 0;
}

/*
 * The large-region native spec simulated: ns per access of its access
 * phase, for pattern index i of CAL_NATIVE_LARGE_PATTERNS (at most 200,000
 * accesses: the mean settles well before).
 */
static int sim_native_large(double *ns, const struct sim_config *cfg, const struct cal_results *r,
			    int i, unsigned *evals, struct wl_error *err)
{
	static const int lp[CAL_NATIVE_LARGE_NR] = CAL_NATIVE_LARGE_PATTERNS;
	uint64_t n = r->native_large_accesses < 200000 ? r->native_large_accesses : 200000;
	struct driver_run run;
	struct wl_spec spec;
	char text[1024];

	if (cal_native_large_spec(text, sizeof(text), lp[i], r->native_large_bytes, n) < 0)
		return wl_error_set(err, "calibrate/fit.c", "", "the native spec does not fit");
	if (sim_spec(&run, &spec, text, cfg, evals, err))
		return -1;
	*ns = (double)run.phases[1].runtime_ns / (double)n;
	sim_done(&run, &spec);
	return 0;
}

static uint64_t sa_bytes(const struct sa_config *sa)
{
	return (uint64_t)sa->sets * sa->ways * 64;
}

/*
 * The plateau between 'lo' and 'hi' bytes (fit.h): the largest point there,
 * furthest from the inner level; with none, the largest up to 'cap'.
 */
static double plateau(const struct cal_results *r, uint64_t lo, uint64_t hi, uint64_t cap,
		      size_t *at)
{
	size_t last = 0;
	bool found = false;

	for (size_t i = 0; i < r->nr_line; i++) {
		if (r->line[i].bytes >= lo && r->line[i].bytes <= hi) {
			*at = i;
			found = true;
		}
		if (r->line[i].bytes <= cap)
			last = i;
	}
	if (!found)
		*at = last;
	return r->line[*at].ns_per_load.median;
}

static struct cal_param *add(struct cal_fit *f, const char *name, const char *unit, double value,
			     double lo, double hi, const char *method)
{
	struct cal_param *p;

	/* a fixed list: one more parameter than it holds is a bug here */
	if (f->nr_param == CAL_FIT_MAX_PARAMS)
		abort();
	p = &f->param[f->nr_param++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->unit = unit;
	p->value = value;
	p->lo = lo;
	p->hi = hi;
	p->method = method;
	return p;
}

static void explains(struct cal_param *p, const char *what, double measured, double modelled)
{
	snprintf(p->explains, sizeof(p->explains), "%s", what);
	p->has_residual = true;
	p->measured = measured;
	p->modelled = modelled;
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The knob that makes a simulated time linear in it 'want' cycles, from its
 * times c0 at l0 and c1 at l0 + step, within [lo, hi] (a slope too flat to
 * solve: l0).
 */
static double knob_solve(double l0, double step, double c0, double c1, double want, double lo,
			 double hi)
{
	double slope = (c1 - c0) / step;

	return clampd(round(l0 + (slope > 0.05 ? (want - c0) / slope : 0)), lo, hi);
}

/* A cache's or the STLB's latency: knob_solve() by steps of 8 cycles, 1 to 1000. */
static uint32_t knob_for(uint32_t l0, double c0, double c1, double want)
{
	return knob_solve(l0, 8, c0, c1, want, 1, 1000);
}

/*
 * A latency straight from its plateau: the simulated chase at that size is
 * linear in the level's latency (the share of loads that reach the level is
 * its slope), so two runs give the latency that matches 'want' cycles.
 */
static int direct_latency(uint32_t *knob, struct sim_config *cfg, uint64_t bytes, double want,
			  const struct cal_fit_opts *o, unsigned *evals, struct wl_error *err)
{
	uint32_t l0 = *knob;
	double c0, c1;

	if (sim_chase(&c0, cfg, bytes, o->chase_loads, evals, err))
		return -1;
	*knob = l0 + 8;
	if (sim_chase(&c1, cfg, bytes, o->chase_loads, evals, err))
		return -1;
	*knob = knob_for(l0, c0, c1, want);
	return 0;
}

/* ---- bounded linear least squares --------------------------------------- */

/*
 * min sum_k ((A x - b)_k / w_k)^2, lo <= x <= hi: w_k the size of
 * equation k makes each relative to it (a THP's fault is 100 times a 4 KiB
 * one's, and both matter alike); projected Gauss-Seidel on the normal equations, a fixed
 * number of sweeps (convex: it converges; the problems are tiny). A row
 * with use[k] false is left out; weights of 1 give plain least squares.
 */
#define WLSQ_MAX_N	8
#define WLSQ_MAX_M	32	/* equations lin_fit() takes */

static void bounded_wlsq(size_t m, size_t n, const double *A, const double *b, const double *w,
			 const bool *use, const double *lo, const double *hi, double *x)
{
	double N[WLSQ_MAX_N][WLSQ_MAX_N] = { { 0 } }, g[WLSQ_MAX_N] = { 0 };

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++)
			for (size_t k = 0; k < m; k++)
				if (use[k])
					N[i][j] += A[k * n + i] * A[k * n + j] / (w[k] * w[k]);
		for (size_t k = 0; k < m; k++)
			if (use[k])
				g[i] += A[k * n + i] * b[k] / (w[k] * w[k]);
	}
	for (int sweep = 0; sweep < 2000; sweep++)
		for (size_t i = 0; i < n; i++) {
			double t = g[i];

			if (N[i][i] <= 0)
				continue;
			for (size_t j = 0; j < n; j++)
				if (j != i)
					t -= N[i][j] * x[j];
			x[i] = clampd(t / N[i][i], lo[i], hi[i]);
		}
}

/* ---- the search: l2, llc and DRAM latencies ------------------------------ */

#define SEARCH_N	3

struct search_ctx {
	struct sim_config cfg;
	const struct cal_results *r;
	const struct cal_fit_opts *o;
	struct dram_config dram0;	/* the base's DRAM: its timings' ratios */
	uint64_t from;			/* chase points above this many bytes */
	uint64_t upto;			/* and at most this many */
	bool largest;			/* and the largest point, beyond upto */
	unsigned *evals;
	struct wl_error *err;
	int failed;
};

static void search_apply(struct sim_config *cfg, const struct dram_config *d0, const double *x)
{
	double s = round(x[2]) / d0->t_row_miss;

	cfg->l2.latency = (uint32_t)lround(x[0]);
	cfg->llc.latency = (uint32_t)lround(x[1]);
	cfg->dram.t_row_miss = (uint32_t)lround(x[2]);
	cfg->dram.t_row_hit = (uint32_t)fmax(1, lround(d0->t_row_hit * s));
	cfg->dram.t_row_empty = (uint32_t)fmax(1, lround(d0->t_row_empty * s));
}

/*
 * The squared log ratio of simulated to measured, summed over the chase's
 * points: the ratio error's smooth twin (too fast and too slow by the same
 * factor weigh the same). The points beyond 'upto' but the largest are left
 * out: each costs a simulated build of its whole buffer, and DRAM's plateau
 * is already flat there.
 */
static double search_objective(unsigned n, const double *x, double *grad, void *data)
{
	struct search_ctx *c = data;
	double sum = 0, cyc, want;

	(void)n;
	(void)grad;
	if (c->failed)
		return HUGE_VAL;
	search_apply(&c->cfg, &c->dram0, x);
	for (size_t i = 0; i < c->r->nr_line; i++) {
		uint64_t bytes = c->r->line[i].bytes;

		if (bytes <= c->from || (bytes > c->upto && !(c->largest && i + 1 == c->r->nr_line)))
			continue;
		if (sim_chase(&cyc, &c->cfg, bytes, c->o->chase_loads, c->evals, c->err)) {
			c->failed = 1;
			return HUGE_VAL;
		}
		want = c->r->line[i].ns_per_load.median * cycles_per_ns(&c->cfg);
		sum += log(cyc / want) * log(cyc / want);
	}
	return sum;
}

/*
 * A cache's capacity and replacement, for the knee after its plateau: a
 * guest's share of a shared L3 can be far below what sysfs says, a
 * physically indexed L2 under a host's scattered pages holds less than its
 * size, and how steep a knee is depends on the replacement (a chase that
 * goes round a cycle larger than an LRU cache misses every time; random or
 * RRIP replacement keep part of it). A grid: each of the ways with the
 * base's sets (so a way is the base's capacity over its ways, and the base
 * is on the grid when its ways are) and
 * each replacement, scored as the search scores (search_objective) over
 * c's window of points; the best is kept (the first of equals:
 * deterministic).
 */
static const uint32_t grid_ways[] = { 2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 40, 48, 56 };
#define GRID_NR (sizeof(grid_ways) / sizeof(grid_ways[0]))

static struct sa_config *grid_cache(struct sim_config *cfg, int level)
{
	return level == 2 ? &cfg->l2 : &cfg->llc;
}

static int cache_grid(struct search_ctx *c, int level, const double *x)
{
	struct sa_config *sa = grid_cache(&c->cfg, level);
	uint32_t bw = sa->ways;
	enum sa_repl br = sa->repl;
	double best = HUGE_VAL;

	for (size_t i = 0; i < GRID_NR; i++)
		for (int repl = 0; repl < SA_REPL_NR; repl++) {
			double v;

			sa->ways = grid_ways[i];
			sa->repl = (enum sa_repl)repl;
			v = search_objective(SEARCH_N, x, NULL, c);
			if (c->failed)
				return -1;
			if (v < best) {
				best = v;
				bw = sa->ways;
				br = sa->repl;
			}
		}
	sa->ways = bw;
	sa->repl = br;
	return 0;
}

/*
 * The knobs are whole cycles, so the search's objective is a staircase its
 * quadratic models can stop short on: a coordinate descent on the integers
 * from where it stopped, each knob stepped by one cycle while that
 * improves, at most 'POLISH_STEPS' steps each, twice round.
 */
#define POLISH_STEPS	8

static int polish(struct search_ctx *c, double *x, const double *lo, const double *hi,
		  double *best)
{
	for (int i = 0; i < SEARCH_N; i++)
		x[i] = round(x[i]);
	*best = search_objective(SEARCH_N, x, NULL, c);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < SEARCH_N; i++)
			for (int dir = -1; dir <= 1; dir += 2)
				for (int k = 0; k < POLISH_STEPS; k++) {
					double keep = x[i], v;

					if (x[i] + dir < lo[i] || x[i] + dir > hi[i])
						break;
					x[i] += dir;
					v = search_objective(SEARCH_N, x, NULL, c);
					if (c->failed)
						return -1;
					if (v >= *best) {
						x[i] = keep;
						break;
					}
					*best = v;
				}
	return 0;
}

/* ---- translation: the page chase ----------------------------------------- */

/*
 * The squared log ratio of the simulated page chase to the measured, summed
 * over both advices and every point up to o->max_chase_bytes.
 */
static int page_objective(double *sum, const struct sim_config *cfg, const struct cal_results *r,
			  const struct cal_fit_opts *o, unsigned *evals, struct wl_error *err)
{
	double clk = cycles_per_ns(cfg), cyc;

	*sum = 0;
	for (int t = 0; t < 2; t++)
		for (size_t i = 0; i < r->nr_page; i++) {
			const struct cal_chase_point *pt = &r->page[t][i];

			if (pt->bytes > o->fit_chase_bytes)
				continue;
			if (sim_page_chase(&cyc, cfg, pt->pages, t, o->chase_loads, evals, err))
				return -1;
			*sum += log(cyc / clk / pt->ns_per_load.median) *
				log(cyc / clk / pt->ns_per_load.median);
		}
	return 0;
}

/* ---- the faults' wall time ---------------------------------------------- */

#define LS_N	3	/* unknowns */
#define LS_M	3	/* equations */

static uint32_t *ls_knob(struct sim_config *cfg, int i)
{
	switch (i) {
	case 0: return &cfg->core.fault_outside_window_cycles;
	case 1: return &cfg->mimicos.cost.zero_page;
	default: return &cfg->mimicos.cost.tlb_flush;
	}
}

static const char *const ls_names[LS_N] = {
	"core.fault_outside_window_cycles", "mimicos.cost.zero_page", "mimicos.cost.tlb_flush",
};
static const char *const ls_units[LS_N] = { "cycles per fault", "instructions per 4 KiB",
					    "instructions per TLB range" };
static const enum cal_fault_kind ls_kinds[LS_M] = { CAL_FAULT_WRITE_4K, CAL_FAULT_ZERO_READ,
						    CAL_FAULT_ZERO_COW };

static int ls_eval(double *y, const struct sim_config *cfg, const void *ctx, unsigned *evals,
		   struct wl_error *err)
{
	const struct cal_fit_opts *o = ctx;

	for (int k = 0; k < LS_M; k++)
		if (sim_fault(&y[k], cfg, ls_kinds[k], o->fault_pages, evals, err))
			return -1;
	return 0;
}

/* ---- the kernel's fault windows ------------------------------------------ */

#define WIN_N	4	/* unknowns: mimicos.cost.fault, page_alloc, zero_page, tlb_flush */
#define WIN_M	CAL_LAT_NR

static uint32_t *win_knob(struct sim_config *cfg, int i)
{
	switch (i) {
	case 0: return &cfg->mimicos.cost.fault;
	case 1: return &cfg->mimicos.cost.page_alloc;
	case 2: return &cfg->mimicos.cost.zero_page;
	default: return &cfg->mimicos.cost.tlb_flush;
	}
}

_Static_assert(WIN_N <= WLSQ_MAX_N && LS_N <= WLSQ_MAX_N, "bounded_wlsq(): too many unknowns");
_Static_assert(WIN_M <= WLSQ_MAX_M && LS_M <= WLSQ_MAX_M, "lin_fit(): too many equations");

static const char *const win_names[WIN_N] = {
	"mimicos.cost.fault", "mimicos.cost.page_alloc", "mimicos.cost.zero_page",
	"mimicos.cost.tlb_flush",
};
static const char *const win_units[WIN_N] = {
	"instructions per fault", "instructions per allocation", "instructions per 4 KiB",
	"instructions per TLB range",
};

/*
 * A fault kind's microbenchmark as the suite ran it on Linux (the same
 * spec, its --quick size: the quantiles of a kind do not depend on how
 * many faults there are beyond a few hundred), simulated: the p50 of its
 * timed phase's fault windows, in cycles.
 */
static int sim_window(double *cycles, double *excess, const struct sim_config *cfg, unsigned k,
		      unsigned *evals, struct wl_error *err)
{
	struct driver_run run;
	struct wl_spec spec;
	char text[CAL_LAT_SPEC_MAX];
	struct side_latencies *l;

	if (cal_lat_spec(k, true, text, sizeof(text)) < 0)
		return wl_error_set(err, "calibrate/fit.c", "", "no spec for fault kind %s",
				    cal_lat_name(k));
	if (sim_spec(&run, &spec, text, cfg, evals, err))
		return -1;
	l = &run.phases[cal_lat_timed_phase(k)].latency;
	/* the faults in program order, as Linux's are measured (cli/cal_latency.c) */
	if (excess)
		*excess = cal_periodic_excess(l->v, l->n, FOLIO_BATCH_SIZE, NULL) *
			  cycles_per_ns(cfg);
	qsort(l->v, l->n, sizeof(l->v[0]), cmp_u64);
	*cycles = (double)side_quantile(l->v, l->n, 0.5) * cycles_per_ns(cfg);
	sim_done(&run, &spec);
	return 0;
}

static int sim_window_p50(double *cycles, const struct sim_config *cfg, unsigned k,
			  unsigned *evals, struct wl_error *err)
{
	return sim_window(cycles, NULL, cfg, k, evals, err);
}

/* The kinds measured, those whose p50 the windows' least squares explain. */
static bool win_used(const struct cal_results *r, unsigned k)
{
	return r->latency[k].measured && r->latency[k].p50_ns > 0;
}

static int win_eval(double *y, const struct sim_config *cfg, const void *ctx, unsigned *evals,
		    struct wl_error *err)
{
	const struct cal_results *r = ctx;

	for (unsigned k = 0; k < WIN_M; k++)
		if (win_used(r, k) && sim_window_p50(&y[k], cfg, k, evals, err))
			return -1;
	return 0;
}

/*
 * A cost model linear in n knobs against m measured times: the Jacobian by
 * finite differences of the simulator (each knob moved by delta), then
 * bounded_wlsq(), twice (the second pass linearises at the first's
 * answer). On return the knobs hold the answer, x it unrounded, A the last
 * Jacobian and y the simulated times at the answer.
 */
struct lin_fit {
	size_t m, n;
	uint32_t *(*knob)(struct sim_config *cfg, int i);
	int (*eval)(double *y, const struct sim_config *cfg, const void *ctx, unsigned *evals,
		    struct wl_error *err);
	const void *ctx;
	double delta;
	const double *want, *w, *lo, *hi;
	const bool *use;
};

static int lin_fit(const struct lin_fit *lf, struct sim_config *cfg, double *A, double *x,
		   double *y, unsigned *evals, struct wl_error *err)
{
	double y1[WLSQ_MAX_M], b[WLSQ_MAX_M];

	for (int pass = 0; pass < 2; pass++) {
		if (lf->eval(y, cfg, lf->ctx, evals, err))
			return -1;
		for (size_t i = 0; i < lf->n; i++) {
			struct sim_config t = *cfg;

			x[i] = *lf->knob(cfg, (int)i);
			*lf->knob(&t, (int)i) += (uint32_t)lf->delta;
			if (lf->eval(y1, &t, lf->ctx, evals, err))
				return -1;
			for (size_t k = 0; k < lf->m; k++)
				A[k * lf->n + i] = (y1[k] - y[k]) / lf->delta;
		}
		for (size_t k = 0; k < lf->m; k++) {
			b[k] = lf->want[k] - y[k];
			for (size_t i = 0; i < lf->n; i++)
				b[k] += A[k * lf->n + i] * x[i];
		}
		bounded_wlsq(lf->m, lf->n, A, b, lf->w, lf->use, lf->lo, lf->hi, x);
		for (size_t i = 0; i < lf->n; i++)
			*lf->knob(cfg, (int)i) = (uint32_t)lround(x[i]);
	}
	return lf->eval(y, cfg, lf->ctx, evals, err);
}

/* ---- the fit ------------------------------------------------------------- */

/* ---- the TLBs' geometry, from counted TLB events ------------------------------ */

/*
 * A point's counted quantity: the first-level misses (STLB hits plus walks)
 * or the walks, whichever walks the host counted (Intel's walk_completed,
 * AMD's walk_found: a chase does not fault, so they agree); NAN when not
 * counted.
 */
static double tlb_quantity(const unsigned counted, const double *v, bool l1)
{
	double walks = counted >> TLB_EV_walk_completed & 1 ? v[TLB_EV_walk_completed] :
		       counted >> TLB_EV_walk_found & 1 ? v[TLB_EV_walk_found] : NAN;

	if (!l1)
		return walks;
	return counted >> TLB_EV_stlb_hit & 1 ? walks + v[TLB_EV_stlb_hit] : NAN;
}

/* The simulated side's, from sim_page_chase_tlb()'s loads' events. */
static double tlb_quantity_sim(const double *v, bool l1)
{
	return v[TLB_EV_walk_completed] + (l1 ? v[TLB_EV_stlb_hit] : 0);
}

/* The smallest point where the counted quantity reaches half a load: the reach counted. */
static uint64_t counted_knee(const struct cal_results *r, int t, bool l1)
{
	for (size_t i = 0; i < r->nr_page; i++) {
		const struct cal_chase_point *pt = &r->page[t][i];

		if (tlb_quantity(pt->tlb_counted, pt->tlb_per_load, l1) >= 0.5)
			return pt->pages;
	}
	return 0;
}

/*
 * The latency curve's knee between 'lo' and 'hi' pages: the point after the
 * largest rise of ns per load from the point before, as one would read a
 * TLB's reach off the curve without counters (a cache's knee may lie
 * there too: what the counts settle)
 */
static uint64_t latency_knee(const struct cal_results *r, int t, uint64_t lo, uint64_t hi)
{
	double best = 0;
	uint64_t at = 0;

	for (size_t i = 1; i < r->nr_page; i++) {
		const struct cal_chase_point *a = &r->page[t][i - 1], *b = &r->page[t][i];
		double rise = b->ns_per_load.median / fmax(a->ns_per_load.median, 1e-9);

		if (b->pages <= lo || b->pages > hi)
			continue;
		if (rise > best) {
			best = rise;
			at = b->pages;
		}
	}
	return at;
}

/* What a grid compares: the L1's misses, the walks, or the cycles a walk takes. */
enum tlb_target { TLB_L1_MISSES, TLB_WALKS, TLB_WALK_CYCLES };

/*
 * A point's counted value of the target, NAN when not counted (or, for
 * the walk cycles, when fewer than half its loads walk: too few walks to
 * time).
 */
static double tlb_target_counted(const struct cal_chase_point *pt, enum tlb_target k)
{
	double walks = tlb_quantity(pt->tlb_counted, pt->tlb_per_load, false);

	if (k != TLB_WALK_CYCLES)
		return tlb_quantity(pt->tlb_counted, pt->tlb_per_load, k == TLB_L1_MISSES);
	if (!(pt->tlb_counted >> TLB_EV_walk_cycles & 1) || !(walks >= 0.5))
		return NAN;
	return pt->tlb_per_load[TLB_EV_walk_cycles] / walks;
}

/* The simulated one, and how far it is from the counted (squared; in log for cycles). */
static double tlb_target_error(const double *sim, enum tlb_target k, double want)
{
	double got;

	if (k != TLB_WALK_CYCLES)
		return pow(tlb_quantity_sim(sim, k == TLB_L1_MISSES) - want, 2);
	got = sim[TLB_EV_walk_cycles] / fmax(sim[TLB_EV_walk_completed], 1e-9);
	return pow(log(fmax(got, 1e-9) / want), 2);
}

/*
 * One structure's sets: each power of two from 'least' to 'most' at its ways
 * simulated over the counted points of advice t up to 'upto' pages (and
 * the fit's chase limit), by the sum of the target's errors; the first of
 * equals, the fewest sets, kept. *used: the points compared.
 */
static int tlb_grid(struct cal_fit *f, const struct cal_results *r, struct sa_config *sa,
		    uint32_t least, uint32_t most, int t, enum tlb_target k, uint64_t upto,
		    size_t *used, struct wl_error *err)
{
	const struct cal_fit_opts *o = &f->opts;
	double best = HUGE_VAL, tlb[TLB_EV_NR], cyc;
	uint32_t keep = sa->sets;

	*used = 0;
	for (uint32_t sets = least; sets <= most; sets *= 2) {
		double sum = 0;
		size_t n = 0;

		sa->sets = sets;
		for (size_t i = 0; i < r->nr_page; i++) {
			const struct cal_chase_point *pt = &r->page[t][i];
			double want = tlb_target_counted(pt, k);

			if (isnan(want) || pt->pages > upto || pt->bytes > o->fit_chase_bytes ||
			    (t && !pt->anon_huge_kib))
				continue;
			if (sim_page_chase_tlb(&cyc, tlb, &f->cfg, pt->pages, t, o->chase_loads,
					       &f->evals, err))
				return -1;
			sum += tlb_target_error(tlb, k, want);
			n++;
		}
		if (n && sum < best) {
			best = sum;
			keep = sets;
			*used = n;
		}
	}
	sa->sets = keep;
	return 0;
}

int cal_fit_tlb(struct cal_fit *f, const struct cal_results *r, struct wl_error *err)
{
	struct sim_config *cfg = &f->cfg;
	struct sa_config *l1 = cfg->mmu.l1_unified ? &cfg->mmu.dtlb : &cfg->mmu.dtlb_4k;
	const char *l1_name = cfg->mmu.l1_unified ? "mmu.dtlb.sets" : "mmu.dtlb_4k.sets";
	struct cal_tlb_fit *tf = &f->tlb;
	struct cal_param *p;
	size_t used;

	memset(tf, 0, sizeof(*tf));
	if (!r->has_tlb_counts) {
		snprintf(tf->why, sizeof(tf->why), "%s", r->tlb_why[0] ? r->tlb_why :
			 "the page chases counted no TLB event");
		return 0;
	}
	tf->counted = true;
	/* the L1 first: the STLB's points lie beyond its reach whatever it is */
	tf->base_l1_entries = (uint64_t)l1->sets * l1->ways;
	if (tlb_grid(f, r, l1, 1, 64, 0, TLB_L1_MISSES, 4096, &used, err))
		return -1;
	tf->l1_entries = (uint64_t)l1->sets * l1->ways;
	tf->l1_counted_knee = counted_knee(r, 0, true);
	tf->l1_latency_knee = latency_knee(r, 0, 0, 4096);
	if (used) {
		p = add(f, l1_name, "sets", l1->sets, 1, 64, "grid (counted TLB events)");
		snprintf(p->explains, sizeof(p->explains), "page_chase.nohugepage L1 misses per "
			 "load, %zu points: %llu entries", used, (unsigned long long)tf->l1_entries);
	}
	tf->base_stlb_entries = (uint64_t)cfg->mmu.stlb.sets * cfg->mmu.stlb.ways;
	if (tlb_grid(f, r, &cfg->mmu.stlb, 16, 2048, 0, TLB_WALKS, 65536, &used, err))
		return -1;
	tf->stlb_entries = (uint64_t)cfg->mmu.stlb.sets * cfg->mmu.stlb.ways;
	tf->stlb_counted_knee = counted_knee(r, 0, false);
	tf->stlb_latency_knee = latency_knee(r, 0, tf->l1_entries, 65536);
	if (used) {
		p = add(f, "mmu.stlb.sets", "sets", cfg->mmu.stlb.sets, 16, 2048,
			"grid (counted TLB events)");
		snprintf(p->explains, sizeof(p->explains), "page_chase.nohugepage walks per load, "
			 "%zu points: %llu entries", used, (unsigned long long)tf->stlb_entries);
	}
	if (!cfg->mmu.l1_unified) {
		if (tlb_grid(f, r, &cfg->mmu.dtlb_2m, 1, 64, 1, TLB_L1_MISSES, UINT64_MAX, &used,
			     err))
			return -1;
		if (used) {
			p = add(f, "mmu.dtlb_2m.sets", "sets", cfg->mmu.dtlb_2m.sets, 1, 64,
				"grid (counted TLB events)");
			snprintf(p->explains, sizeof(p->explains), "page_chase.hugepage L1 misses per "
				 "load, %zu points: %u entries", used,
				 cfg->mmu.dtlb_2m.sets * cfg->mmu.dtlb_2m.ways);
		}
	}
	/*
	 * The page-walk cache of PD entries (each the table of a 2 MiB
	 * range) against the counted cycles per walk where most loads walk:
	 * too few entries and a walk reads the PD entry too. Intel counts walk
	 * cycles (WALK_ACTIVE); AMD does not, and its PWCs stay the base's.
	 */
	tf->base_pwc_entries = (uint64_t)cfg->mmu.pwc_level[PWC_PD].sets *
			       cfg->mmu.pwc_level[PWC_PD].ways;
	tf->pwc_entries = tf->base_pwc_entries;
	if (!cfg->mmu.pwc || !cfg->mmu.pwc_level[PWC_PD].ways) {
		snprintf(tf->pwc_why, sizeof(tf->pwc_why), "the configuration has no PD page-walk "
			 "cache");
		return 0;
	}
	if (tlb_grid(f, r, &cfg->mmu.pwc_level[PWC_PD], 1, 64, 0, TLB_WALK_CYCLES, 65536, &used,
		     err))
		return -1;
	if (!used) {
		snprintf(tf->pwc_why, sizeof(tf->pwc_why), "the host counted no walk cycles "
			 "(AMD has no such event) where most loads walk");
		return 0;
	}
	tf->pwc_counted = true;
	tf->pwc_entries = (uint64_t)cfg->mmu.pwc_level[PWC_PD].sets *
			  cfg->mmu.pwc_level[PWC_PD].ways;
	p = add(f, "mmu.pwc_pd.sets", "sets", cfg->mmu.pwc_level[PWC_PD].sets, 1, 64,
		"grid (counted TLB events)");
	snprintf(p->explains, sizeof(p->explains), "page_chase.nohugepage walk cycles per walk, "
		 "%zu points: %llu entries", used, (unsigned long long)tf->pwc_entries);
	return 0;
}

int cal_fit(struct cal_fit *f, const struct cal_results *r, const struct sim_config *base,
	    const struct cal_fit_opts *o, const char *source, struct wl_error *err)
{
	static const char *const pats[4] = { "sequential", "uniform", "zipf", "chase" };
	struct sim_config *cfg = &f->cfg;
	double clk = r->cycles_per_ns.median, cyc;
	char name[64], what[64];
	struct cal_param *p;
	size_t at;

	memset(f, 0, sizeof(*f));
	*cfg = *base;
	f->opts = *o;

	/* the clock: DRAM timings keep their ns (config.h), so rescale them */
	{
		uint32_t mhz = (uint32_t)lround(clk * 1000);
		double s = (double)mhz / cfg->core.freq_mhz;

		cfg->dram.t_row_hit = (uint32_t)fmax(1, lround(cfg->dram.t_row_hit * s));
		cfg->dram.t_row_miss = (uint32_t)fmax(1, lround(cfg->dram.t_row_miss * s));
		cfg->dram.t_row_empty = (uint32_t)fmax(1, lround(cfg->dram.t_row_empty * s));
		cfg->core.freq_mhz = mhz;
		p = add(f, "core.freq_mhz", "MHz", mhz, 100, 20000, "measured");
		explains(p, "clock.cycles_per_ns", clk, mhz / 1000.0);
	}
	/* TLB-flush cross-calls, where the probes measured them */
	if (r->shootdown.measured) {
		cfg->core.ipi_handle_cycles = (uint32_t)clampd(round(r->shootdown.handle_ns * clk),
							       0, 1e8);
		p = add(f, "core.ipi_handle_cycles", "cycles per cross-call",
			cfg->core.ipi_handle_cycles, 0, 1e8, "measured");
		explains(p, "shootdown.handle_ns", r->shootdown.handle_ns,
			 cfg->core.ipi_handle_cycles / clk);
		if (r->shootdown.waits) {
			cfg->core.ipi_wait_cycles = (uint32_t)clampd(round(r->shootdown.wait_ns * clk),
								     0, 1e8);
			p = add(f, "core.ipi_wait_cycles", "cycles per flush that sent", cfg->core.
				ipi_wait_cycles, 0, 1e8, "measured");
			explains(p, "shootdown.wait_ns", r->shootdown.wait_ns,
				 cfg->core.ipi_wait_cycles / clk);
		}
	}
	cfg->core.zero_bandwidth_gbs = r->memset_gb_per_s.median;
	p = add(f, "core.zero_bandwidth_gbs", "GB/s", cfg->core.zero_bandwidth_gbs, 0.1, 1000,
		"measured");
	explains(p, "bandwidth.memset_gb_per_s", r->memset_gb_per_s.median,
		 cfg->core.zero_bandwidth_gbs);
	cfg->core.copy_bandwidth_gbs = r->memcpy_gb_per_s.median;
	p = add(f, "core.copy_bandwidth_gbs", "GB/s", cfg->core.copy_bandwidth_gbs, 0.1, 1000,
		"measured");
	explains(p, "bandwidth.memcpy_gb_per_s", r->memcpy_gb_per_s.median,
		 cfg->core.copy_bandwidth_gbs);
	for (int i = 0; i < 4; i++) {
		double want = r->native_ns_per_access[i].median * clk;
		double v = clampd(round(want) - cfg->core.work_cycles, 0, 100000);

		cfg->core.executor_cycles[i] = (uint32_t)v;
		snprintf(name, sizeof(name), "core.executor_cycles.%s", pats[i]);
		p = add(f, name, "cycles per access", v, 0, 100000, "measured");
		snprintf(what, sizeof(what), "native.%s.ns_per_access", pats[i]);
		explains(p, what, r->native_ns_per_access[i].median,
			 (v + cfg->core.work_cycles) / clk);
	}
	if (r->fault[CAL_FAULT_WRITE_4K][CAL_COLD].measured) {
		double d = (r->fault[CAL_FAULT_WRITE_4K][CAL_COLD].us_per_fault.median -
			    r->fault[CAL_FAULT_WRITE_4K][CAL_WARM].us_per_fault.median) * 1000 * clk;
		double v = clampd(round(d), 0, 1e6);

		cfg->core.first_touch_cycles_per_4k = (uint32_t)v;
		p = add(f, "core.first_touch_cycles_per_4k", "cycles per 4 KiB", v, 0, 1e6,
			"measured");
		explains(p, "faults.write_4k.cold.us_per_fault - faults.write_4k.warm.us_per_fault",
			 d / clk / 1000, v / clk / 1000);
	}

	/* L1 from its plateau, less the simulator's own overhead there */
	{
		uint64_t c1 = sa_bytes(&cfg->l1d);
		double ns1 = plateau(r, 0, c1 / 2, c1, &at);

		if (direct_latency(&cfg->l1d.latency, cfg, r->line[at].bytes, ns1 * clk, o,
				   &f->evals, err))
			return -1;
		if (sim_chase(&cyc, cfg, r->line[at].bytes, o->chase_loads, &f->evals, err))
			return -1;
		p = add(f, "l1d.latency", "cycles", cfg->l1d.latency, 1, 1000, "measured");
		snprintf(what, sizeof(what), "line_chase.points[%zu].ns_per_load", at);
		explains(p, what, r->line[at].ns_per_load.median, cyc / clk);
	}

	/*
	 * The caches beyond L1 and DRAM against the chase beyond L1: each
	 * cache's ways and replacement by a grid over its knee, the L2, LLC
	 * and DRAM latencies by the search, the grids again at the latencies
	 * found (their first pass started from the plateaus' guesses)
	 */
	{
		uint64_t c1 = sa_bytes(&cfg->l1d), c2 = sa_bytes(&cfg->l2);
		size_t at2, at3, at4 = r->nr_line - 1;
		double ns2 = plateau(r, 2 * c1, c2 / 4, c2, &at2);
		double ns3 = plateau(r, c2 + 1, 2 * c2, 2 * c2, &at3);
		double ns4 = r->line[at4].ns_per_load.median;
		double x[SEARCH_N], lo[SEARCH_N] = { 1, 1, 10 }, hi[SEARCH_N] = { 1000, 1000, 5000 };
		double minf = 0;
		struct search_ctx c = { .r = r, .o = o, .evals = &f->evals, .err = err };
		const char *const repl_name[SA_REPL_NR] = { "lru", "srrip", "random" };
		nlopt_opt opt;
		nlopt_result res;

		x[0] = clampd(round(ns2 * clk) - cfg->l1d.latency - cfg->core.work_cycles, lo[0],
			      hi[0]);
		x[1] = clampd(round(ns3 * clk) - cfg->l1d.latency - x[0], lo[1], hi[1]);
		x[2] = clampd(round(ns4 * clk) - cfg->l1d.latency - x[0] - x[1], lo[2], hi[2]);
		c.cfg = *cfg;
		c.dram0 = cfg->dram;
		for (int pass = 0; pass < 2; pass++) {
			if (pass && o->grid_passes < 2)
				break;
			/* L2's knee up to twice its size, the LLC's up to 16 times L2 */
			c.from = c1;
			c.upto = 2 * c2;
			c.largest = false;
			if (cache_grid(&c, 2, x))
				return -1;
			c.from = c2;
			c.upto = 16 * c2;
			if (cache_grid(&c, 3, x))
				return -1;
			if (pass)
				break;
			/*
			 * DRAM's plateau is flat well before the largest point
			 * (the report shows them all), and each point costs a
			 * build of its whole buffer: up to 64 MiB
			 */
			c.from = c1;
			c.upto = 64ull << 20;
			opt = nlopt_create(NLOPT_LN_BOBYQA, SEARCH_N);
			if (!opt)
				return wl_error_set(err, "calibrate/fit.c", "",
						    "nlopt_create: out of memory");
			nlopt_set_lower_bounds(opt, lo);
			nlopt_set_upper_bounds(opt, hi);
			nlopt_set_min_objective(opt, search_objective, &c);
			nlopt_set_maxeval(opt, (int)o->max_evals);
			nlopt_set_xtol_abs1(opt, 0.5);	/* the knobs are whole cycles */
			{
				double step[SEARCH_N] = { fmax(1, x[0] / 4), fmax(2, x[1] / 4),
							  fmax(4, x[2] / 4) };

				nlopt_set_initial_step(opt, step);
			}
			res = nlopt_optimize(opt, x, &minf);
			nlopt_destroy(opt);
			if (c.failed)
				return -1;
			if (res < 0 && res != NLOPT_ROUNDOFF_LIMITED)
				return wl_error_set(err, "calibrate/fit.c", "",
						    "the search failed: nlopt %d", (int)res);
			if (o->grid_passes >= 2 && polish(&c, x, lo, hi, &minf))
				return -1;
		}
		search_apply(&c.cfg, &c.dram0, x);
		*cfg = c.cfg;

		for (int level = 2; level <= 3; level++) {
			struct sa_config *sa = grid_cache(cfg, level);
			const char *cn = level == 2 ? "l2" : "llc";

			snprintf(name, sizeof(name), "%s.ways", cn);
			p = add(f, name, "ways", sa->ways, grid_ways[0], grid_ways[GRID_NR - 1],
				"grid");
			snprintf(p->explains, sizeof(p->explains), "line_chase to %llu KiB: %llu "
				 "KiB at %u sets", (unsigned long long)((level == 2 ? 2 : 16) * c2 >> 10),
				 (unsigned long long)(sa_bytes(sa) >> 10), sa->sets);
			snprintf(name, sizeof(name), "%s.replacement", cn);
			p = add(f, name, "0 lru, 1 srrip, 2 random", sa->repl, 0, SA_REPL_NR - 1,
				"grid");
			snprintf(p->explains, sizeof(p->explains), "the same points: %s",
				 repl_name[sa->repl]);
		}
		if (sim_chase(&cyc, cfg, r->line[at2].bytes, o->chase_loads, &f->evals, err))
			return -1;
		p = add(f, "l2.latency", "cycles", cfg->l2.latency, lo[0], hi[0], "search");
		snprintf(what, sizeof(what), "line_chase.points[%zu].ns_per_load", at2);
		explains(p, what, r->line[at2].ns_per_load.median, cyc / clk);
		if (sim_chase(&cyc, cfg, r->line[at3].bytes, o->chase_loads, &f->evals, err))
			return -1;
		p = add(f, "llc.latency", "cycles", cfg->llc.latency, lo[1], hi[1], "search");
		snprintf(what, sizeof(what), "line_chase.points[%zu].ns_per_load", at3);
		explains(p, what, r->line[at3].ns_per_load.median, cyc / clk);
		if (sim_chase(&cyc, cfg, r->line[at4].bytes, o->chase_loads, &f->evals, err))
			return -1;
		p = add(f, "dram.t_row_miss", "cycles", cfg->dram.t_row_miss, lo[2], hi[2],
			"search");
		snprintf(what, sizeof(what), "line_chase.points[%zu].ns_per_load", at4);
		explains(p, what, r->line[at4].ns_per_load.median, cyc / clk);
		p = add(f, "dram.t_row_hit", "cycles", cfg->dram.t_row_hit, 1, hi[2], "search");
		snprintf(p->explains, sizeof(p->explains), "scaled with dram.t_row_miss");
		p = add(f, "dram.t_row_empty", "cycles", cfg->dram.t_row_empty, 1, hi[2], "search");
		snprintf(p->explains, sizeof(p->explains), "scaled with dram.t_row_miss");
	}

	/*
	 * Translation: the STLB's latency from its plateau in the page chase
	 * (more pages than the L1 TLB holds, fewer than half the STLB's, and
	 * few enough lines to stay in L1D), as the caches' are from theirs;
	 * then, in a guest, the host's page size by the whole page chase in
	 * both advices: a guest cannot read it, but a host backing it with 2
	 * MiB pages keeps the curve flat where 4 KiB pages make every TLB
	 * miss a two-dimensional walk of the host's four levels.
	 */
	if (cal_fit_tlb(f, r, err))
		return -1;
	if (r->nr_page) {
		const struct sa_config *l1 = cfg->mmu.l1_unified ? &cfg->mmu.dtlb
								 : &cfg->mmu.dtlb_4k;
		uint64_t l1_entries = (uint64_t)l1->sets * l1->ways;
		uint64_t stlb_entries = (uint64_t)cfg->mmu.stlb.sets * cfg->mmu.stlb.ways;
		uint64_t l1d_lines = sa_bytes(&cfg->l1d) / 64;
		size_t pat = SIZE_MAX;

		for (size_t i = 0; i < r->nr_page; i++)
			if (r->page[0][i].pages >= 2 * l1_entries &&
			    r->page[0][i].pages <= stlb_entries / 2 &&
			    r->page[0][i].pages <= l1d_lines / 2)
				pat = i;
		if (pat != SIZE_MAX) {
			uint64_t pages = r->page[0][pat].pages;
			double want = r->page[0][pat].ns_per_load.median * clk, c0, c1;
			uint32_t l0 = cfg->mmu.stlb.latency;

			if (sim_page_chase(&c0, cfg, pages, 0, o->chase_loads, &f->evals, err))
				return -1;
			cfg->mmu.stlb.latency = l0 + 8;
			if (sim_page_chase(&c1, cfg, pages, 0, o->chase_loads, &f->evals, err))
				return -1;
			cfg->mmu.stlb.latency = knob_for(l0, c0, c1, want);
			if (sim_page_chase(&cyc, cfg, pages, 0, o->chase_loads, &f->evals, err))
				return -1;
			p = add(f, "mmu.stlb.latency", "cycles", cfg->mmu.stlb.latency, 1, 1000,
				"measured");
			snprintf(what, sizeof(what), "page_chase.nohugepage[%zu].ns_per_load", pat);
			explains(p, what, r->page[0][pat].ns_per_load.median, cyc / clk);
		}
		if (cfg->mmu.nested.enabled) {
			static const uint64_t host_pages[] = { 4096, 2u << 20 };
			double best = HUGE_VAL, v;
			uint64_t keep = host_pages[0];

			for (size_t i = 0; i < 2; i++) {
				cfg->mmu.nested.host_page_size = host_pages[i];
				if (page_objective(&v, cfg, r, o, &f->evals, err))
					return -1;
				if (v < best) {
					best = v;
					keep = host_pages[i];
				}
			}
			cfg->mmu.nested.host_page_size = keep;
			p = add(f, "mmu.nested.host_page_size", "bytes", (double)keep, 4096,
				2u << 20, "grid");
			snprintf(p->explains, sizeof(p->explains), "page_chase, both advices: "
				 "4 KiB or 2 MiB");
		}
	}

	/*
	 * Beyond the caches, against the native executor on a region beyond
	 * the LLC and the STLB's reach (native_large), each a grid by the
	 * squared log ratio of simulated to measured ns per access, after the
	 * caches and translation, whose misses they hide or overlap: how far
	 * the core runs ahead of a miss, core.rob_cycles, against uniform
	 * (little work per access: misses overlap up to mlp) and zipf (its
	 * sampling fills the window: few overlap), whose random lines the
	 * prefetcher leaves alone; then, with that window, the L2 stream
	 * prefetcher on or off against sequential (each line one access: what
	 * the prefetcher brings is all that keeps it off DRAM)
	 */
	if (r->has_native_large) {
		/*
		 * off or on: the prefetch arrives in time whatever its degree
		 * (memsys.h), so every degree from 1 times sequential alike;
		 * 4 lines, a common L2 streamer's, for its traffic
		 */
		static const uint32_t degrees[] = { 0, 4 };
		static const uint32_t robs[] = { 0, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768,
						 1024, 1536, 2048 };
		double best = HUGE_VAL, ns, at_best = 0, v;
		uint32_t keep = cfg->core.rob_cycles;

		for (size_t g = 0; g < sizeof(robs) / sizeof(robs[0]); g++) {
			double z = 0;

			cfg->core.rob_cycles = robs[g];
			v = 0;
			for (int i = 1; i < CAL_NATIVE_LARGE_NR; i++) {
				if (sim_native_large(&ns, cfg, r, i, &f->evals, err))
					return -1;
				v += pow(log(ns / r->native_large_ns_per_access[i].median), 2);
				z = ns;		/* zipf's, the last */
			}
			if (v < best) {
				best = v;
				keep = robs[g];
				at_best = z;
			}
		}
		cfg->core.rob_cycles = keep;
		p = add(f, "core.rob_cycles", "cycles of work", keep, robs[0],
			robs[sizeof(robs) / sizeof(robs[0]) - 1], "grid");
		explains(p, "native_large.zipf.ns_per_access",
			 r->native_large_ns_per_access[CAL_NATIVE_LARGE_NR - 1].median, at_best);

		best = HUGE_VAL;
		keep = cfg->prefetch.degree;
		for (size_t g = 0; g < sizeof(degrees) / sizeof(degrees[0]); g++) {
			cfg->prefetch.degree = degrees[g];
			if (sim_native_large(&ns, cfg, r, 0, &f->evals, err))
				return -1;
			v = fabs(log(ns / r->native_large_ns_per_access[0].median));
			if (v < best) {
				best = v;
				keep = degrees[g];
				at_best = ns;
			}
		}
		cfg->prefetch.degree = keep;
		p = add(f, "prefetch.degree", "lines ahead", keep, degrees[0],
			degrees[sizeof(degrees) / sizeof(degrees[0]) - 1], "grid");
		explains(p, "native_large.sequential.ns_per_access",
			 r->native_large_ns_per_access[0].median, at_best);
	}

	/*
	 * The lru_add batch's price per folio, from what one 4 KiB fault in 31
	 * pays beyond the others on Linux (the fault whose folio fills the
	 * CPU's batch moves all 31): the simulated excess is linear in the
	 * price, so two runs solve it. The p50s below are of the other 30,
	 * and a large folio's fault moves the batch at once: the price first.
	 */
	if (r->latency[CAL_LAT_anon_4k].has_lru_batch) {
		const double step = 100;
		double want = r->latency[CAL_LAT_anon_4k].lru_batch_excess_ns_runs.median * clk;
		double p50, e0, e1;
		uint32_t l0 = cfg->mimicos.cost.lru_add;

		if (sim_window(&p50, &e0, cfg, CAL_LAT_anon_4k, &f->evals, err))
			return -1;
		cfg->mimicos.cost.lru_add = l0 + (uint32_t)step;
		if (sim_window(&p50, &e1, cfg, CAL_LAT_anon_4k, &f->evals, err))
			return -1;
		cfg->mimicos.cost.lru_add = (uint32_t)knob_solve(l0, step, e0, e1, want, 0, 1e6);
		if (sim_window(&p50, &e0, cfg, CAL_LAT_anon_4k, &f->evals, err))
			return -1;
		p = add(f, "mimicos.cost.lru_add", "instructions per folio moved",
			cfg->mimicos.cost.lru_add, 0, 1e6, "measured");
		explains(p, "fault_latency.anon_4k.lru_batch_excess_ns_runs.median", want / clk,
			 e0 / clk);
	}

	/*
	 * The kernel's fault windows, when the suite measured them through the
	 * probes: the p50 of every kind measured against the fault's base, an
	 * allocation, a 4 KiB clear and a TLB range, linear in the four
	 * (instructions at kernel_cpi), by least squares relative to each
	 * kind's p50; the Jacobian by finite differences of the simulator,
	 * twice. Then the wall time per fault (below) fits only what lies
	 * outside the window.
	 */
	bool windows = false;

	for (unsigned k = 0; k < WIN_M; k++)
		windows |= win_used(r, k);
	if (windows) {
		double lo[WIN_N] = { 0, 0, 0, 0 }, hi[WIN_N] = { 1e6, 1e6, 1e6, 1e6 };
		double want[WIN_M], y0[WIN_M], A[WIN_M * WIN_N], x[WIN_N];
		bool use[WIN_M];
		const double delta = 500;

		for (unsigned k = 0; k < WIN_M; k++) {
			use[k] = win_used(r, k);
			want[k] = use[k] ? r->latency[k].p50_ns * clk : 1;
			y0[k] = 0;
		}
		{
			const struct lin_fit lf = { .m = WIN_M, .n = WIN_N, .knob = win_knob,
						    .eval = win_eval, .ctx = r, .delta = delta,
						    .want = want, .w = want, .lo = lo, .hi = hi,
						    .use = use };

			if (lin_fit(&lf, cfg, A, x, y0, &f->evals, err))
				return -1;
		}
		for (int i = 0; i < WIN_N; i++) {
			/* each knob against the kind it weighs most in */
			unsigned kk = WIN_M;
			double best = -1;

			for (unsigned k = 0; k < WIN_M; k++)
				if (use[k] && A[k * WIN_N + i] * x[i] / want[k] > best) {
					best = A[k * WIN_N + i] * x[i] / want[k];
					kk = k;
				}
			p = add(f, win_names[i], win_units[i], *win_knob(cfg, i), lo[i], hi[i],
				"least squares");
			if (kk < WIN_M) {
				snprintf(what, sizeof(what), "fault_latency.%s.p50_ns", cal_lat_name(kk));
				explains(p, what, want[kk] / clk, y0[kk] / clk);
			}
		}
	}

	/* the faults' wall time: linear in three knobs (one, with the windows fitted) */
	{
		double lo[LS_N] = { 0, 0, 0 }, hi[LS_N] = { 100000, 100000, 100000 };
		double want[LS_M], y0[LS_M], A[LS_M * LS_N], x[LS_N];
		const double ones[LS_M] = { 1, 1, 1 };
		const bool all[LS_M] = { true, true, true };
		const double delta = 1000;

		/* the windows' knobs stay as fitted to them */
		for (int i = 1; windows && i < LS_N; i++)
			lo[i] = hi[i] = *ls_knob(cfg, i);

		for (int k = 0; k < LS_M; k++)
			want[k] = r->fault[ls_kinds[k]][CAL_WARM].us_per_fault.median * 1000 * clk;
		{
			const struct lin_fit lf = { .m = LS_M, .n = LS_N, .knob = ls_knob,
						    .eval = ls_eval, .ctx = o, .delta = delta,
						    .want = want, .w = ones, .lo = lo, .hi = hi,
						    .use = all };

			if (lin_fit(&lf, cfg, A, x, y0, &f->evals, err))
				return -1;
		}
		for (int i = 0; i < (windows ? 1 : LS_N); i++) {
			p = add(f, ls_names[i], ls_units[i], *ls_knob(cfg, i), lo[i], hi[i],
				"least squares");
			snprintf(what, sizeof(what), "faults.%s.warm.us_per_fault",
				 cal_fault_name(ls_kinds[i]));
			explains(p, what, want[i] / clk / 1000, y0[i] / clk / 1000);
		}
	}

	cfg->calibration.given = true;
	{
		char cpu[64];

		/* the store's host key: where this calibration applies (calibrate/store.h) */
		hostid_cpu_key(&r->host, cpu, sizeof(cpu));
		calibrate_store_host_key(cfg->calibration.host, sizeof(cfg->calibration.host), cpu,
					 r->kernel_release, r->host.guest);
	}
	snprintf(cfg->calibration.date, sizeof(cfg->calibration.date), "%s", r->date);
	snprintf(cfg->calibration.source, sizeof(cfg->calibration.source), "%s", source);
	snprintf(cfg->origin, sizeof(cfg->origin), "calibrated: %s", cfg->calibration.host);
	return 0;
}

cJSON *cal_fit_to_json(const struct cal_fit *f, const struct cal_results *r)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o, *b;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", "virtuoso-calibration");
	cJSON_AddNumberToObject(root, "format_version", 1);
	cJSON_AddStringToObject(root, "host", f->cfg.calibration.host);
	cJSON_AddStringToObject(root, "date", r->date);
	cJSON_AddStringToObject(root, "source", f->cfg.calibration.source);
	cJSON_AddNumberToObject(root, "simulator_runs", f->evals);
	arr = cJSON_AddArrayToObject(root, "parameters");
	for (size_t i = 0; arr && i < f->nr_param; i++) {
		const struct cal_param *p = &f->param[i];

		o = cJSON_CreateObject();
		if (!o)
			break;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "name", p->name);
		cJSON_AddNumberToObject(o, "value", p->value);
		cJSON_AddStringToObject(o, "unit", p->unit);
		b = cJSON_AddArrayToObject(o, "bounds");
		if (b) {
			cJSON_AddItemToArray(b, cJSON_CreateNumber(p->lo));
			cJSON_AddItemToArray(b, cJSON_CreateNumber(p->hi));
		}
		cJSON_AddStringToObject(o, "method", p->method);
		cJSON_AddStringToObject(o, "explains", p->explains);
		if (p->has_residual) {
			cJSON_AddNumberToObject(o, "measured", p->measured);
			cJSON_AddNumberToObject(o, "modelled", p->modelled);
			cJSON_AddNumberToObject(o, "residual", p->modelled - p->measured);
			cJSON_AddNumberToObject(o, "relative_residual",
						p->measured ? (p->modelled - p->measured) /
								      p->measured : 0);
		} else {
			cJSON_AddNullToObject(o, "residual");
		}
	}
	o = cJSON_AddObjectToObject(root, "tlb_geometry");
	if (!f->tlb.counted) {
		cJSON_AddStringToObject(o, "method", "the base configuration's (virtuoso hwinfo: "
					"CPUID), checked only through the page chase's latency");
		cJSON_AddStringToObject(o, "why", f->tlb.why);
	} else {
		cJSON_AddStringToObject(o, "method", "grid against the page chases' counted TLB "
					"events");
		b = cJSON_AddObjectToObject(o, "l1_4k");
		cJSON_AddNumberToObject(b, "entries", (double)f->tlb.l1_entries);
		cJSON_AddNumberToObject(b, "base_entries", (double)f->tlb.base_l1_entries);
		cJSON_AddNumberToObject(b, "counted_reach_pages", (double)f->tlb.l1_counted_knee);
		cJSON_AddNumberToObject(b, "latency_knee_pages", (double)f->tlb.l1_latency_knee);
		b = cJSON_AddObjectToObject(o, "stlb");
		cJSON_AddNumberToObject(b, "entries", (double)f->tlb.stlb_entries);
		cJSON_AddNumberToObject(b, "base_entries", (double)f->tlb.base_stlb_entries);
		cJSON_AddNumberToObject(b, "counted_reach_pages", (double)f->tlb.stlb_counted_knee);
		cJSON_AddNumberToObject(b, "latency_knee_pages", (double)f->tlb.stlb_latency_knee);
		b = cJSON_AddObjectToObject(o, "pwc_pd");
		cJSON_AddNumberToObject(b, "entries", (double)f->tlb.pwc_entries);
		cJSON_AddNumberToObject(b, "base_entries", (double)f->tlb.base_pwc_entries);
		if (!f->tlb.pwc_counted)
			cJSON_AddStringToObject(b, "why", f->tlb.pwc_why);
	}
	cJSON_AddItemToObject(root, "config", sim_config_to_json(&f->cfg));
	return root;
}

static void stat_is(struct cal_stat *s, double v)
{
	s->median = s->min = s->max = v;
	s->spread = 0;
}

int cal_simulate(struct cal_results *r, const struct sim_config *cfg,
		 const struct cal_fit_opts *o, struct wl_error *err)
{
	double clk = cycles_per_ns(cfg), cyc;
	unsigned evals = 0;

	stat_is(&r->cycles_per_ns, clk);
	for (size_t i = 0; i < r->nr_line; i++) {
		if (sim_chase(&cyc, cfg, r->line[i].bytes, o->chase_loads, &evals, err))
			return -1;
		stat_is(&r->line[i].ns_per_load, cyc / clk);
	}
	for (size_t i = 0; i < r->nr_page; i++)
		for (int t = 0; t < 2; t++) {
			struct cal_chase_point *pt = &r->page[t][i];

			if (o->max_chase_bytes && pt->bytes > o->max_chase_bytes) {
				stat_is(&pt->ns_per_load, NAN);
				continue;
			}
			if (sim_page_chase_tlb(&cyc, pt->tlb_per_load, cfg, pt->pages, t,
					       o->chase_loads, &evals, err))
				return -1;
			stat_is(&pt->ns_per_load, cyc / clk);
			/* what a PMU counting every event would see */
			pt->tlb_counted = (1u << TLB_EV_NR) - 1;
			r->has_tlb_counts = true;
		}
	stat_is(&r->memset_gb_per_s, cfg->core.zero_bandwidth_gbs);
	stat_is(&r->memcpy_gb_per_s, cfg->core.copy_bandwidth_gbs);
	for (int i = 0; i < 4; i++)
		stat_is(&r->native_ns_per_access[i],
			(cfg->core.executor_cycles[i] + cfg->core.work_cycles) / clk);
	for (int k = 0; k < LS_M; k++) {
		struct cal_fault *w = &r->fault[ls_kinds[k]][CAL_WARM];
		struct cal_fault *c = &r->fault[ls_kinds[k]][CAL_COLD];

		if (sim_fault(&cyc, cfg, ls_kinds[k], o->fault_pages, &evals, err))
			return -1;
		w->measured = c->measured = true;
		w->faults = c->faults = o->fault_pages;
		stat_is(&w->us_per_fault, cyc / clk / 1000);
		stat_is(&c->us_per_fault,
			(cyc + (ls_kinds[k] == CAL_FAULT_ZERO_READ ? 0 :
				cfg->core.first_touch_cycles_per_4k)) / clk / 1000);
	}
	if (r->native_large_bytes && r->native_large_accesses) {
		for (int i = 0; i < CAL_NATIVE_LARGE_NR; i++) {
			double ns;

			if (sim_native_large(&ns, cfg, r, i, &evals, err))
				return -1;
			stat_is(&r->native_large_ns_per_access[i], ns);
		}
		r->has_native_large = true;
	}
	/*
	 * The 4 KiB kind's lru_add batch alone: the windows' p50s would need
	 * every kind's (four knobs), and their knobs are the wall time's here
	 */
	{
		struct cal_latency *l = &r->latency[CAL_LAT_anon_4k];
		double p50, e;

		if (sim_window(&p50, &e, cfg, CAL_LAT_anon_4k, &evals, err))
			return -1;
		l->measured = false;
		snprintf(l->skipped, sizeof(l->skipped), "not simulated but its lru_add batch");
		l->has_lru_batch = e > 0;
		stat_is(&l->lru_batch_excess_ns_runs, e / clk);
	}
	r->fault[CAL_FAULT_THP_2M][CAL_COLD].measured = false;
	r->fault[CAL_FAULT_THP_2M][CAL_WARM].measured = false;
	snprintf(r->fault[CAL_FAULT_THP_2M][CAL_COLD].skipped, 160, "not simulated");
	snprintf(r->fault[CAL_FAULT_THP_2M][CAL_WARM].skipped, 160, "not simulated");
	return 0;
}
