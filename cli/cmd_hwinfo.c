/*
 * cmd_hwinfo.c - virtuoso hwinfo: this host's TLB and cache geometry as a
 * simulator configuration (simulator/hwinfo.h), the host preset of
 * datasets/configs/host.json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "simulator/config.h"
#include "simulator/hwinfo.h"
#include "workload/json.h"

enum { OPT_SYSFS = 256, OPT_MEASUREMENTS };

#define MAX_POINTS 64

/* A stat's median (calibrate/README.md: {"median", "min", "max", "spread"}) at path.key. */
static int stat_median(const struct wj_ctx *c, const cJSON *obj, const char *path,
		       const char *key, double *out)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, key);
	char p[128];

	if (!cJSON_IsObject(st))
		return wj_fail(c, path, key, "expected a stat object {\"median\", ...}");
	return wj_number(c, st, wj_path_key(p, sizeof(p), path, key), "median", true, 0, true,
			 1e9, out) < 0 ? -1 : 0;
}

/*
 * measurements.json (calibrate/README.md): the clock's and the line chase's
 * medians into *m (points in pts). 0, or -1 with err filled.
 */
static int read_measurements(const char *path, struct hwinfo_measured *m,
			     struct hwinfo_chase_point *pts, struct wl_error *err)
{
	struct wj_ctx c = { .file = path, .err = err };
	const cJSON *clock, *chase, *points, *pt;
	const char *fmt;
	uint64_t version;
	cJSON *root;
	size_t i = 0;
	int ret = -1;

	if (wj_load_object(path, &root, err))
		return -1;
	if (wj_string(&c, root, "", "format", true, &fmt) < 0)
		goto cleanup;
	if (strcmp(fmt, "virtuoso-measurements")) {
		wj_fail(&c, "", "format", "expected \"virtuoso-measurements\"");
		goto cleanup;
	}
	if (wj_uint(&c, root, "", "format_version", true, 1, 1, &version) < 0)
		goto cleanup;
	clock = cJSON_GetObjectItemCaseSensitive(root, "clock");
	chase = cJSON_GetObjectItemCaseSensitive(root, "line_chase");
	if (!cJSON_IsObject(clock)) {
		wj_fail(&c, "", "clock", "expected an object {\"cycles_per_ns\": STAT}");
		goto cleanup;
	}
	if (stat_median(&c, clock, "clock", "cycles_per_ns", &m->cycles_per_ns))
		goto cleanup;
	if (!cJSON_IsObject(chase)) {
		wj_fail(&c, "", "line_chase", "expected an object with \"points\"");
		goto cleanup;
	}
	points = cJSON_GetObjectItemCaseSensitive(chase, "points");
	if (!cJSON_IsArray(points)) {
		wj_fail(&c, "line_chase", "points", "expected an array of {\"bytes\", \"ns_per_load\"}");
		goto cleanup;
	}
	cJSON_ArrayForEach(pt, points) {
		char p[64];

		wj_path_index(p, sizeof(p), "line_chase.points", i);
		if (i == MAX_POINTS) {
			wj_fail(&c, p, "", "expected at most %d points", MAX_POINTS);
			goto cleanup;
		}
		if (!cJSON_IsObject(pt)) {
			wj_fail(&c, p, "", "expected an object {\"bytes\", \"ns_per_load\"}");
			goto cleanup;
		}
		if (wj_uint(&c, pt, p, "bytes", true, 1, WJ_MAX_EXACT, &pts[i].bytes) < 0 ||
		    stat_median(&c, pt, p, "ns_per_load", &pts[i].ns))
			goto cleanup;
		i++;
	}
	m->points = pts;
	m->n = i;
	ret = 0;
cleanup:
	cJSON_Delete(root);
	return ret;
}

static void print_tlb(const char *what, const struct hwinfo_tlb *t)
{
	if (!t->entries)
		fprintf(stderr, "virtuoso hwinfo:   %-10s none\n", what);
	else if (t->fully)
		fprintf(stderr, "virtuoso hwinfo:   %-10s %u entries, fully associative\n", what,
			t->entries);
	else
		fprintf(stderr, "virtuoso hwinfo:   %-10s %u entries, %u-way\n", what, t->entries,
			t->ways);
}

static void print_cache(const char *what, const struct hwinfo_cache *c)
{
	if (!c->size)
		fprintf(stderr, "virtuoso hwinfo:   %-10s not found (default kept)\n", what);
	else
		fprintf(stderr, "virtuoso hwinfo:   %-10s %llu KiB, %u-way, %u sets, %u-byte lines\n",
			what, (unsigned long long)(c->size >> 10), c->ways, c->sets, c->line);
}

/* -v: what was read, from where, before the mapping to power-of-two sets. */
static void report(const struct hwinfo *hw)
{
	static const char *const ps[HWINFO_NR_PSIZE] = { "4K", "2M", "1G" };
	char what[16];

	fprintf(stderr, "virtuoso hwinfo: %s family %#x model %#x stepping %u: %s\n",
		hw->vendor_id, hw->family, hw->model, hw->stepping, hw->name);
	fprintf(stderr, "virtuoso hwinfo: data TLBs from %s%s\n", hw->tlb_source,
		hw->tlb.l1_unified ? " (L1 one structure for all page sizes)" : "");
	for (int s = 0; s < HWINFO_NR_PSIZE; s++) {
		snprintf(what, sizeof(what), "L1 %s", ps[s]);
		print_tlb(what, &hw->tlb.l1[s]);
	}
	for (int s = 0; s < HWINFO_NR_PSIZE; s++) {
		snprintf(what, sizeof(what), "L2 %s", ps[s]);
		print_tlb(what, &hw->tlb.l2[s]);
	}
	fprintf(stderr, "virtuoso hwinfo: caches from %s\n", hw->cache_source);
	print_cache("L1D", &hw->l1d);
	print_cache("L2", &hw->l2);
	print_cache("LLC", &hw->llc);
	fprintf(stderr, "virtuoso hwinfo: %u MHz from %s\n", hw->freq_mhz, hw->freq_source);
}

int cmd_hwinfo(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "sysfs", required_argument, NULL, OPT_SYSFS },
		{ "measurements", required_argument, NULL, OPT_MEASUREMENTS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("hwinfo");
	const char *out = NULL, *sysfs = NULL, *measurements = NULL;
	struct hwinfo_chase_point pts[MAX_POINTS];
	struct hwinfo_measured m = { 0 };
	struct wl_error err;
	struct sim_config cfg;
	struct hwinfo hw;
	cJSON *json;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cmd->usage, stdout);
			return EXIT_OK;
		case 'v':
			cli_verbose++;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_SYSFS:
			sysfs = optarg;
			break;
		case OPT_MEASUREMENTS:
			measurements = optarg;
			break;
		default:
			if (optopt)
				return cli_usage_error(cmd, "option -%c: unknown, or missing its value",
						       optopt);
			return cli_usage_error(cmd, "option %s: unknown, or missing its value",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "expected no arguments, got '%s'", argv[optind]);
	if (measurements && read_measurements(measurements, &m, pts, &err)) {
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	if (hwinfo_probe(&hw, sysfs)) {
		fprintf(stderr, "virtuoso hwinfo: this host has no CPUID (not x86)\n");
		return EXIT_HOST;
	}
	if (cli_verbose)
		report(&hw);
	hwinfo_to_config(&hw, &cfg);
	if (measurements && !hwinfo_apply_measured(&hw, &m, &cfg))
		fprintf(stderr, "virtuoso hwinfo: %s: no level's latency measured (see notes)\n",
			measurements);
	json = sim_config_hw_to_json(&cfg);
	if (!json) {
		fprintf(stderr, "virtuoso hwinfo: out of memory\n");
		return EXIT_FAIL;
	}
	return cli_write_json(out, json);
}
