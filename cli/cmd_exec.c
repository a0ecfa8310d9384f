/*
 * cmd_exec.c - virtuoso exec: run a spec natively, without probes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "workload/native.h"

/* Say where the spec's explicit kernel settings differ from the host's. */
static void warn_policy(const struct wl_kernel *want, const struct wl_kernel *host)
{
	const char *fmt = "virtuoso exec: note: the spec sets %s %s, the host has %s; "
			  "exec leaves kernel settings alone (virtuoso linux applies them)\n";

	if (want->thp != WL_THP_HOST && want->thp != host->thp)
		fprintf(stderr, fmt, "thp", wl_thp_name(want->thp), wl_thp_name(host->thp));
	if (want->defrag != WL_DEFRAG_HOST && want->defrag != host->defrag)
		fprintf(stderr, fmt, "defrag", wl_defrag_name(want->defrag),
			wl_defrag_name(host->defrag));
	if (want->use_zero_page >= 0 && want->use_zero_page != host->use_zero_page)
		fprintf(stderr, fmt, "use_zero_page", want->use_zero_page ? "true" : "false",
			host->use_zero_page ? "true" : "false");
	for (int i = 0; i < WL_MTHP_NR; i++)
		if (want->mthp[i] != WL_MTHP_HOST && want->mthp[i] != host->mthp[i])
			fprintf(stderr, fmt, "an mthp size to", wl_mthp_name(want->mthp[i]),
				wl_mthp_name(host->mthp[i]));
	for (int i = 0; i < WL_KHP_NR; i++)
		if (want->khugepaged[i] >= 0 && want->khugepaged[i] != host->khugepaged[i])
			fprintf(stderr, "virtuoso exec: note: the spec sets khugepaged %s %lld, "
				"the host has %lld; exec leaves kernel settings alone\n",
				wl_khugepaged_key_name((enum wl_khugepaged_key)i),
				(long long)want->khugepaged[i], (long long)host->khugepaged[i]);
}

static cJSON *run_to_json(const struct wl_native_run *run, const struct wl_kernel *host,
			  bool host_known)
{
	const struct wl_spec *s = run->spec;
	cJSON *root = cJSON_CreateObject(), *regions, *phases;

	cJSON_AddStringToObject(root, "workload", s->name);
	cJSON_AddStringToObject(root, "side", "native");
	cJSON_AddBoolToObject(root, "complete", run->complete);
	if (host_known) {
		cJSON *k = cJSON_AddObjectToObject(root, "kernel");

		cJSON_AddStringToObject(k, "thp", wl_thp_name(host->thp));
		cJSON_AddStringToObject(k, "defrag", wl_defrag_name(host->defrag));
		cJSON_AddBoolToObject(k, "use_zero_page", host->use_zero_page > 0);
	}
	regions = cJSON_AddObjectToObject(root, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		cJSON *r = cJSON_AddObjectToObject(regions, s->regions[i].name);

		cJSON_AddNumberToObject(r, "start", (double)run->start[i]);
		cJSON_AddNumberToObject(r, "size", (double)s->regions[i].size);
	}
	phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < s->nr_phases; i++) {
		const struct wl_phase *p = &s->phases[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "op", wl_phase_op_name(p->op));
		if (p->op <= WL_PH_MUNMAP)
			cJSON_AddStringToObject(o, "region", s->regions[p->region].name);
		cJSON_AddNumberToObject(o, "runtime_ns", (double)run->phases[i].runtime_ns);
		cJSON_AddNumberToObject(o, "accesses", (double)run->phases[i].accesses);
		if (run->phases[i].collapse_errno)
			cJSON_AddStringToObject(o, "collapse_error",
						strerrorname_np(run->phases[i].collapse_errno));
		if (p->op == WL_PH_KHUGEPAGED_WAIT)
			cJSON_AddBoolToObject(o, "timed_out", run->phases[i].timed_out);
		cJSON_AddItemToArray(phases, o);
	}
	cJSON_AddNumberToObject(root, "runtime_ns", (double)run->runtime_ns);
	if (run->thread_cpu) {
		cJSON *t = cJSON_AddArrayToObject(root, "thread_cpus");

		for (unsigned i = 0; i < s->threads; i++)
			cJSON_AddItemToArray(t, cJSON_CreateNumber(run->thread_cpu[i]));
	}
	return root;
}

/* -v: what ran, for a person; the JSON is for programs. */
static void print_summary(const struct wl_native_run *run)
{
	const struct wl_spec *s = run->spec;

	for (size_t i = 0; i < s->nr_regions; i++)
		fprintf(stderr, "region %-12s %10llu KiB at 0x%llx\n", s->regions[i].name,
			(unsigned long long)(s->regions[i].size >> 10),
			(unsigned long long)run->start[i]);
	for (size_t i = 0; i < s->nr_phases; i++) {
		const struct wl_phase *p = &s->phases[i];

		fprintf(stderr, "phase %-3zu %-16s %-12s %10.3f ms %12llu accesses%s\n", i,
			wl_phase_op_name(p->op), p->op <= WL_PH_MUNMAP ? s->regions[p->region].name : "",
			run->phases[i].runtime_ns / 1e6,
			(unsigned long long)run->phases[i].accesses,
			run->phases[i].timed_out ? "  (timed out)" : "");
	}
	fprintf(stderr, "total %43.3f ms\n", run->runtime_ns / 1e6);
}

int cmd_exec(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_args a;
	struct wl_spec s;
	struct wl_kernel host;
	struct wl_native_run run;
	struct wl_error err;
	bool host_known;
	cJSON *json;
	int ret;

	ret = cli_parse(argc, argv, cli_find("exec"), "o:vh", longopts, NULL, NULL, "SPEC file", &a);
	if (ret >= 0)
		return ret;
	ret = cli_load_spec(a.arg, &s);
	if (ret)
		return ret;
	if (s.threads > (unsigned)sysconf(_SC_NPROCESSORS_ONLN))
		fprintf(stderr, "virtuoso exec: %u threads on %ld CPUs: some share a CPU\n",
			s.threads, sysconf(_SC_NPROCESSORS_ONLN));

	wl_kernel_init(&host);
	host_known = !wl_kernel_resolve(&host, WL_THP_SYSFS, &err);
	if (host_known)
		warn_policy(&s.kernel, &host);
	else if (cli_verbose)
		wl_error_print(&err, stderr);

	wl_native_init(&run, &s);
	if (wl_native_exec(&run, NULL, &err)) {
		wl_error_print(&err, stderr);
		wl_native_release(&run);
		wl_spec_release(&s);
		return EXIT_FAIL;
	}
	if (!run.complete)
		fprintf(stderr, "virtuoso exec: a khugepaged_wait timed out; results marked \"complete\": false\n");
	if (cli_verbose)
		print_summary(&run);
	json = run_to_json(&run, &host, host_known);
	wl_native_release(&run);
	wl_spec_release(&s);
	return cli_write_json(a.out, json);
}
