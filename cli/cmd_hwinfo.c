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

enum { OPT_SYSFS = 256 };

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
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("hwinfo");
	const char *out = NULL, *sysfs = NULL;
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
	if (hwinfo_probe(&hw, sysfs)) {
		fprintf(stderr, "virtuoso hwinfo: this host has no CPUID (not x86)\n");
		return EXIT_HOST;
	}
	if (cli_verbose)
		report(&hw);
	hwinfo_to_config(&hw, &cfg);
	json = sim_config_hw_to_json(&cfg);
	if (!json) {
		fprintf(stderr, "virtuoso hwinfo: out of memory\n");
		return EXIT_FAIL;
	}
	return cli_write_json(out, json);
}
