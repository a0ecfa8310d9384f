/*
 * cal_latency.c - the kernel's fault latency per fault kind (cal_latency.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cal_latency.h"
#include "cli/cli.h"
#include "compare/compare.h"
#include "linux-probes/hostlock.h"
#include "linux-probes/runner.h"
#include "mimicos/swap.h"
#include "workload/side.h"

#define NAME "calibrate"

bool cli_cal_latency_unavailable(char *buf, size_t len)
{
	if (geteuid() != 0)
		snprintf(buf, len, "needs root to load the BPF probes (running as uid %u)",
			 (unsigned)geteuid());
	else if (access("/sys/kernel/btf/vmlinux", R_OK))
		snprintf(buf, len, "needs the kernel's BTF (/sys/kernel/btf/vmlinux) for the "
			 "probes");
	else
		return false;
	return true;
}

/* compare's fault kind of the same name: the two lists name kinds alike. */
static int fault_kind_of(unsigned k)
{
	for (unsigned i = 0; fault_kind_name(i); i++)
		if (!strcmp(fault_kind_name(i), cal_lat_name(k)))
			return (int)i;
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static bool skip(struct cal_latency *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool skip(struct cal_latency *out, const char *fmt, ...)
{
	va_list ap;

	out->measured = false;
	va_start(ap, fmt);
	vsnprintf(out->skipped, sizeof(out->skipped), fmt, ap);
	va_end(ap);
	return false;
}

static bool skip_shootdown(struct cal_shootdown *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool skip_shootdown(struct cal_shootdown *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->skipped, sizeof(out->skipped), fmt, ap);
	va_end(ap);
	out->measured = false;
	return false;
}

/*
 * 'runs' Linux runs of ro's spec, the caller's host lock lent to them:
 * cli_linux_runs() takes an inherited lock (hostlock.h) and closes it
 * after, so it gets a duplicate of ours, which keeps holding the host
 * between the measurements. 0, or the exit status with why in buf.
 */
static int lent_runs(struct runner_opts *ro, unsigned runs, int lock_fd, bool *incomplete,
		     char *why, size_t len)
{
	int ret;

	if (lock_fd >= 0) {
		int d = dup(lock_fd);

		if (d < 0 || hostlock_pass(d)) {
			snprintf(why, len, "cannot lend the host lock to the runs: %s",
				 strerror(errno));
			if (d >= 0)
				close(d);
			return EXIT_FAIL;
		}
	}
	ret = cli_linux_runs(NAME, ro, runs, HOSTLOCK_WAIT_DEFAULT_S, incomplete);
	if (ret)
		snprintf(why, len, "the Linux run failed (exit %d; stderr says why)", ret);
	return ret;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "virtuoso %s: %s: cannot create the directory: %s\n", NAME, path,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* The spec text as DIR/spec.json (the runner's messages name it). */
static int write_spec(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int bad;

	if (!f) {
		fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, path, strerror(errno));
		return -1;
	}
	bad = fputs(text, f) < 0;
	bad |= fclose(f) != 0;
	if (bad)
		fprintf(stderr, "virtuoso %s: %s: cannot write it\n", NAME, path);
	return bad ? -1 : 0;
}

/*
 * A run whose probes' measured mean cost per run is beyond this was
 * stretched by a stall inside a probe (the vCPU descheduled there: one
 * 26 ms run among 4000 of 200 ns makes a 6.5 us mean), and side_load()
 * takes that mean off every fault of the run, leaving most of them at
 * its floor of 1 ns. A probe costs 100-300 ns here; such a run is left out.
 */
#define PROBE_COST_MAX_NS 2000.0

/* The probe whose cost side_load() took off kind fk's faults of s is stretched, or NULL. */
static const char *stretched_probe(const struct side *s, int fk)
{
	/* the probes take_off_probes() charges: allocations, RSS, a COW's TLB flush */
	if (s->probe_alloc_ns > PROBE_COST_MAX_NS)
		return "page_alloc";
	if (s->probe_rss_ns > PROBE_COST_MAX_NS)
		return "rss_stat";
	if ((fk == FAULT_zero_cow || fk == FAULT_huge_zero_write) &&
	    s->probe_tlb_ns > PROBE_COST_MAX_NS)
		return "tlb_flush";
	return NULL;
}

/*
 * The runs' latencies of kind fk in the timed phase into *out. Each run's
 * sample is sorted for its own quantiles; the pool of all of them for the
 * pooled ones.
 */
static bool summarise(struct cal_latency *out, const struct side *runs, size_t nr, int fk,
		      unsigned phase)
{
	double p50[COMPARE_MAX_RUNS], p90[COMPARE_MAX_RUNS], lru[COMPARE_MAX_RUNS], sum = 0;
	uint64_t *pool, *v, *series;
	size_t total = 0, np = 0, nk = 0, nl = 0;
	/* a new order-0 folio per fault: the kinds an lru_add batch fills */
	bool batched = fk == FAULT_anon_4k || fk == FAULT_zero_cow;

	for (size_t r = 0; r < nr; r++)
		total += runs[r].nr_faults;
	pool = malloc((total ? total : 1) * sizeof(*pool));
	series = malloc((total ? total : 1) * sizeof(*series));
	if (!pool || !series) {
		free(pool);
		free(series);
		return skip(out, "out of memory");
	}
	v = pool;
	for (size_t r = 0; r < nr; r++) {
		const char *probe = stretched_probe(&runs[r], fk);
		size_t n = 0;

		if (probe) {
			fprintf(stderr, "virtuoso %s: fault latency %s: run %zu left out: its %s "
				"probe's mean cost per run was stretched beyond %.0f ns\n", NAME,
				fault_kind_name((unsigned)fk), r + 1, probe, PROBE_COST_MAX_NS);
			out->runs_left_out++;
			continue;
		}
		size_t ns = 0;

		out->runs++;
		for (size_t i = 0; i < runs[r].nr_faults; i++) {
			const struct side_fault *f = &runs[r].faults[i];

			if (f->region < 0 || f->phase != (int)phase)
				continue;
			if (f->kind != fk) {
				out->other++;
				continue;
			}
			out->faults++;
			/* in program order, cold ones too: they keep the period's count */
			if (f->latency_ns)
				series[ns++] = f->latency_ns;
			if (f->cold)
				out->cold++;
			else if (f->latency_ns)
				v[n++] = f->latency_ns;
		}
		if (batched) {
			double e = cal_periodic_excess(series, ns, FOLIO_BATCH_SIZE, NULL);

			if (!isnan(e))
				lru[nl++] = e > 0 ? e : 0;
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		if (n) {
			p50[nk] = (double)side_quantile(v, n, 0.50);
			p90[nk++] = (double)side_quantile(v, n, 0.90);
		}
		v += n;
		np += n;
	}
	if (!out->runs) {
		free(series);
		free(pool);
		return skip(out, "every run left out: a probe's cost stretched by a stall");
	}
	if (!np) {
		free(series);
		free(pool);
		return skip(out, "no warm fault of the kind with a latency in the timed phase "
			    "(%llu of the kind, %llu cold; %llu of other kinds)",
			    (unsigned long long)out->faults, (unsigned long long)out->cold,
			    (unsigned long long)out->other);
	}
	qsort(pool, np, sizeof(*pool), cmp_u64);
	for (size_t i = 0; i < np; i++)
		sum += (double)pool[i];
	out->p50_ns = (double)side_quantile(pool, np, 0.50);
	out->p90_ns = (double)side_quantile(pool, np, 0.90);
	out->p99_ns = (double)side_quantile(pool, np, 0.99);
	out->mean_ns = sum / (double)np;
	cal_stat_of(&out->p50_ns_runs, p50, nk);
	cal_stat_of(&out->p90_ns_runs, p90, nk);
	if (nl) {
		cal_stat_of(&out->lru_batch_excess_ns_runs, lru, nl);
		out->has_lru_batch = out->lru_batch_excess_ns_runs.median > 0;
	}
	free(series);
	free(pool);
	out->measured = true;
	return true;
}

bool cli_cal_latency(struct cal_latency *out, unsigned k, const char *dir, bool quick,
		     unsigned runs, const char *thp_root, int lock_fd)
{
	struct runner_opts ro = { .tool_version = cli_version, .no_probe_free = true,
				  .thp_root = thp_root };
	struct wl_error err = { 0 };
	struct side *sides = NULL;
	struct wl_spec s;
	char text[CAL_LAT_SPEC_MAX], path[4400], kdir[4200], why[160];
	unsigned kib = cal_lat_mthp_kib(k);
	int fk = fault_kind_of(k), ret;
	size_t nr = 0;
	bool incomplete, ok;

	memset(out, 0, sizeof(*out));
	snprintf(out->spec, sizeof(out->spec), "%s", cal_lat_spec_name(k));
	if (cli_cal_latency_unavailable(why, sizeof(why)))
		return skip(out, "%s", why);
	if (fk < 0 || runs < 1 || runs > COMPARE_MAX_RUNS)
		return skip(out, "no such fault kind, or %u runs", runs);
	if (kib) {
		snprintf(path, sizeof(path), "%s/hugepages-%ukB/enabled",
			 thp_root ? thp_root : WL_THP_SYSFS, kib);
		if (access(path, F_OK))
			return skip(out, "this kernel offers no %u KiB mTHP size (%s)", kib, path);
	}
	if (cal_lat_spec(k, quick, text, sizeof(text)) < 0)
		return skip(out, "the spec does not fit its buffer");
	if (wl_spec_parse(&s, text, strlen(text), out->spec, &err))
		return skip(out, "the spec does not parse: %s: %s", err.path, err.msg);
	snprintf(path, sizeof(path), "%s/latency", dir);
	snprintf(kdir, sizeof(kdir), "%s/latency/%s", dir, cal_lat_name(k));
	if (make_dir(dir) || make_dir(path) || make_dir(kdir)) {
		wl_spec_release(&s);
		return skip(out, "cannot create %s", kdir);
	}
	snprintf(path, sizeof(path), "%s/spec.json", kdir);
	if (write_spec(path, text)) {
		wl_spec_release(&s);
		return skip(out, "cannot write %s", path);
	}
	ro.spec = &s;
	ro.spec_path = path;
	ro.out_dir = kdir;
	ret = lent_runs(&ro, runs, lock_fd, &incomplete, why, sizeof(why));
	wl_spec_release(&s);
	if (ret)
		return skip(out, "%s", why);
	if (incomplete)
		fprintf(stderr, "virtuoso %s: fault latency %s: a Linux run is incomplete (%s)\n",
			NAME, cal_lat_name(k), kdir);
	sides = calloc(COMPARE_MAX_RUNS, sizeof(*sides));
	if (!sides)
		return skip(out, "out of memory");
	if (cli_load_linux_runs(kdir, sides, &nr, &err)) {
		ok = skip(out, "%s: %s: %s", err.file, err.path, err.msg);
	} else {
		ok = summarise(out, sides, nr, fk, cal_lat_timed_phase(k));
	}
	for (size_t i = 0; i < COMPARE_MAX_RUNS; i++)
		side_release(&sides[i]);
	free(sides);
	return ok;
}

/* A number of linux.json's tlb_ipis, 0 when absent. */
static double ipis_num(const struct side *s, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(s->json, "tlb_ipis");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
}

bool cli_cal_shootdown(struct cal_shootdown *out, const char *dir, bool quick, unsigned runs,
		       int lock_fd)
{
	struct runner_opts ro = { .tool_version = cli_version, .no_probe_free = true };
	struct wl_error err = { 0 };
	struct side *sides = NULL;
	struct wl_spec s;
	char *text = malloc(CAL_SHOOTDOWN_SPEC_MAX), path[4400], sdir[4200], why[160];
	double calls = 0, received_ns = 0, waits = 0, wait_ns = 0;
	size_t nr = 0;
	bool incomplete;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!text)
		return skip_shootdown(out, "out of memory");
	if (cli_cal_latency_unavailable(why, sizeof(why))) {
		free(text);
		return skip_shootdown(out, "%s", why);
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		free(text);
		return skip_shootdown(out, "one CPU: no other CPU to send a cross-call to");
	}
	if (runs < 1 || runs > COMPARE_MAX_RUNS || cal_shootdown_spec(quick, text,
								  CAL_SHOOTDOWN_SPEC_MAX) < 0 ||
	    wl_spec_parse(&s, text, strlen(text), CAL_SHOOTDOWN_SPEC_NAME, &err)) {
		free(text);
		return skip_shootdown(out, "%u runs, or the spec does not parse: %s", runs,
				      err.msg);
	}
	snprintf(sdir, sizeof(sdir), "%s/shootdown", dir);
	snprintf(path, sizeof(path), "%s/spec.json", sdir);
	if (make_dir(dir) || make_dir(sdir) || write_spec(path, text)) {
		free(text);
		wl_spec_release(&s);
		return skip_shootdown(out, "cannot write %s", path);
	}
	free(text);
	ro.spec = &s;
	ro.spec_path = path;
	ro.out_dir = sdir;
	ret = lent_runs(&ro, runs, lock_fd, &incomplete, why, sizeof(why));
	wl_spec_release(&s);
	if (ret)
		return skip_shootdown(out, "%s", why);
	sides = calloc(COMPARE_MAX_RUNS, sizeof(*sides));
	if (!sides)
		return skip_shootdown(out, "out of memory");
	if (cli_load_linux_runs(sdir, sides, &nr, &err))
		skip_shootdown(out, "%s: %s: %s", err.file, err.path, err.msg);
	for (size_t i = 0; i < nr; i++) {
		calls += ipis_num(&sides[i], "received");
		received_ns += ipis_num(&sides[i], "received_ns");
		waits += ipis_num(&sides[i], "waits");
		wait_ns += ipis_num(&sides[i], "wait_ns");
	}
	for (size_t i = 0; i < COMPARE_MAX_RUNS; i++)
		side_release(&sides[i]);
	free(sides);
	if (out->skipped[0])
		return false;
	if (!calls || !received_ns)
		return skip_shootdown(out, "no cross-call was recorded in %zu runs (%s)", nr, sdir);
	out->runs = (unsigned)nr;
	out->cross_calls = (uint64_t)calls;
	out->waits = (uint64_t)waits;
	out->handle_ns = received_ns / calls;
	out->wait_ns = waits ? wait_ns / waits : 0;
	out->measured = true;
	return true;
}
