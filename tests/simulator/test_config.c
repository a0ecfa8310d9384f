/*
 * test_config.c - the simulator's configuration (simulator/config.h): the
 * defaults are the reference preset, the echo reads back to the same
 * struct, unknown keys and bad values are rejected naming their JSON path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "simulator/config.h"
#include "workload/json.h"
#include "workload/spec.h"

#define REFERENCE "datasets/configs/virtuoso-reference.json"

/* Apply 'text' over the defaults; the result of sim_config_from_json(). */
static int apply(const char *text, struct sim_config *cfg, struct wl_error *err)
{
	cJSON *root = cJSON_Parse(text);
	int ret;

	cr_assert_not_null(root, "test JSON does not parse: %s", text);
	sim_config_init(cfg);
	memset(err, 0, sizeof(*err));
	ret = sim_config_from_json(cfg, root, "test.json", err);
	cJSON_Delete(root);
	return ret;
}

/* 'text' must be rejected at JSON path 'path'. */
static void expect_error(const char *text, const char *path)
{
	struct sim_config cfg;
	struct wl_error err;

	cr_assert_eq(apply(text, &cfg, &err), -1, "accepted: %s", text);
	cr_expect_str_eq(err.file, "test.json");
	cr_expect_str_eq(err.path, path, "%s: path '%s' (%s), expected '%s'", text, err.path,
			 err.msg, path);
	cr_expect_neq(err.msg[0], '\0');
}

static void expect_ok(const char *text, struct sim_config *cfg)
{
	struct wl_error err;

	cr_assert_eq(apply(text, cfg, &err), 0, "%s rejected: %s: %s", text, err.path, err.msg);
}

Test(config, defaults_are_the_reference_preset)
{
	struct sim_config def, ref;
	struct wl_error err;
	cJSON *file, *echo;
	char *text;
	size_t len;

	sim_config_init(&def);
	cr_assert_eq(sim_config_load(&ref, REFERENCE, &err), 0, "%s: %s: %s", err.file, err.path,
		     err.msg);
	cr_assert_eq(memcmp(&def, &ref, sizeof(def)), 0,
		     REFERENCE " differs from sim_config_init()");

	/* and the file holds every hardware key: it is the echo of the defaults */
	cr_assert_eq(wj_read_file(REFERENCE, &text, &len, &err), 0);
	file = cJSON_Parse(text);
	free(text);
	echo = sim_config_hw_to_json(&def);
	cr_assert(cJSON_Compare(file, echo, true),
		  REFERENCE " is not sim_config_hw_to_json() of the defaults");
	cJSON_Delete(file);
	cJSON_Delete(echo);
}

Test(config, defaults_are_the_reference_values)
{
	struct sim_config c;

	sim_config_init(&c);
	cr_expect_eq(c.core.freq_mhz, 5100);
	cr_expect_eq(c.mmu.dtlb_4k.sets * c.mmu.dtlb_4k.ways, 64);
	cr_expect_eq(c.mmu.dtlb_4k.ways, 4);
	cr_expect_eq(c.mmu.dtlb_2m.sets * c.mmu.dtlb_2m.ways, 64);
	cr_expect_eq(c.mmu.dtlb_1g.ways, 0);
	cr_expect_eq(c.mmu.stlb.sets * c.mmu.stlb.ways, 2048);
	cr_expect_eq(c.mmu.stlb.ways, 8);
	cr_expect_eq(c.mmu.stlb.latency, 12);
	for (int l = PWC_PML4; l <= PWC_PD; l++)
		cr_expect(c.mmu.pwc_level[l].sets * c.mmu.pwc_level[l].ways == 32 &&
			  c.mmu.pwc_level[l].ways == 4 && c.mmu.pwc_level[l].latency == 1);
	cr_expect_eq(c.mmu.pwc_level[PWC_PML5].ways, 0);
	cr_expect_eq(c.mmu.walkers, 4);
	cr_expect_eq((uint64_t)c.l1d.sets * c.l1d.ways * SIM_LINE_SIZE, 48 << 10);
	cr_expect_eq(c.l1d.ways, 12);
	cr_expect_eq((uint64_t)c.l2.sets * c.l2.ways * SIM_LINE_SIZE, 2 << 20);
	cr_expect_eq(c.l2.ways, 16);
	cr_expect_eq(c.llc.latency, 20);
	/* DDR4-2400, 45 ns to a closed bank: 54 tCK at 5.1 GHz */
	cr_expect_eq(c.dram.t_row_empty, (54 * 5100 + 600) / 1200);
}

/* x -> JSON -> over the defaults -> x, byte for byte. */
static void round_trip(const struct sim_config *x)
{
	struct sim_config y;
	struct wl_error err;
	cJSON *j = sim_config_to_json(x);
	char *text;

	cr_assert_not_null(j);
	text = wj_print(j);
	cJSON_Delete(j);
	cr_assert_eq(apply(text, &y, &err), 0, "echo rejected: %s: %s", err.path, err.msg);
	cr_assert_eq(memcmp(x, &y, sizeof(y)), 0, "round trip differs:\n%s", text);
	free(text);
}

Test(config, round_trip_defaults)
{
	struct sim_config x;

	sim_config_init(&x);
	round_trip(&x);
}

Test(config, round_trip_every_field_changed)
{
	struct sim_config x;

	sim_config_init(&x);
	snprintf(x.origin, sizeof(x.origin), "a test \"quoted\" origin");
	x.core = (struct core_config){ .freq_mhz = 3210, .work_cycles = 3, .mlp = 7,
				       .fault_entry_cycles = 1234, .fault_exit_cycles = 567,
				       .kernel_cpi = 1.37, .zero_bandwidth_gbs = 12.5,
				       .copy_bandwidth_gbs = 7.25,
				       .fault_outside_window_cycles = 321,
				       .first_touch_cycles_per_4k = 4321, .cold_share = 0.375,
				       .executor_cycles = { 2, 3, 5, 7 } };
	x.mmu.l1_unified = true;
	x.mmu.dtlb = (struct sa_config){ 1, 72, 2, SA_REPL_SRRIP, false };
	x.mmu.dtlb_4k.ways = 0;
	x.mmu.dtlb_1g = (struct sa_config){ 4, 2, 3, SA_REPL_RANDOM, false };
	x.mmu.stlb = (struct sa_config){ 256, 12, 9, SA_REPL_SRRIP, false };
	x.mmu.stlb_1g = true;
	x.mmu.pwc = false;
	x.mmu.pwc_level[PWC_PML5] = (struct sa_config){ 2, 2, 2, SA_REPL_LRU, false };
	x.mmu.pwc_level[PWC_PD].latency = 3;
	x.mmu.walkers = 6;
	x.mmu.nested.enabled = true;
	x.mmu.nested.host_page_size = 2 << 20;
	x.mmu.nested.host_levels = 5;
	x.mmu.nested.ntlb = (struct sa_config){ 8, 8, 2, SA_REPL_RANDOM, false };
	x.l1d = (struct sa_config){ 64, 8, 5, SA_REPL_LRU, false };
	x.l2 = (struct sa_config){ 2048, 8, 14, SA_REPL_SRRIP, false };
	x.llc = (struct sa_config){ 32768, 16, 50, SA_REPL_RANDOM, true };
	x.dram = (struct dram_config){ .channels = 2, .ranks = 2, .banks = 32, .row_bytes = 4096,
				       .t_row_hit = 11, .t_row_miss = 33, .t_row_empty = 22 };
	x.mimicos.cores = 4;
	x.mimicos.mem_bytes = 8ULL << 30;
	x.mimicos.levels = 5;
	x.mimicos.seed = 42;
	x.mimicos.cost.fault = 999;
	x.calibration.given = true;
	snprintf(x.calibration.host, sizeof(x.calibration.host), "epyc-vm \"zen4\"");
	snprintf(x.calibration.date, sizeof(x.calibration.date), "2026-12-01");
	snprintf(x.calibration.source, sizeof(x.calibration.source), "out/calib/summary.json");
	round_trip(&x);

	/* the DRAM's timings following a new clock round-trip too */
	sim_config_init(&x);
	x.core.freq_mhz = 2000;
	dram_config_ddr4_2400(&x.dram, 2000);
	round_trip(&x);
}

Test(config, unknown_keys_named_by_path)
{
	expect_error("{\"cores\": {}}", "cores");
	expect_error("{\"core\": {\"freq\": 4000}}", "core.freq");
	expect_error("{\"l2\": {\"size\": 4096}}", "l2.size");
	expect_error("{\"mmu\": {\"pwc_pd\": {\"wayz\": 4}}}", "mmu.pwc_pd.wayz");
	expect_error("{\"mmu\": {\"nested\": {\"ntlb\": {\"latency\": 1, \"repl\": \"lru\"}}}}",
		     "mmu.nested.ntlb.repl");
	expect_error("{\"dram\": {\"tCL\": 17}}", "dram.tCL");
	expect_error("{\"mimicos\": {\"thp\": {\"khugepaged\": {\"bogus\": 1}}}}",
		     "mimicos.thp.khugepaged.bogus");
	/* and a duplicate is no override */
	expect_error("{\"core\": {\"mlp\": 4, \"mlp\": 8}}", "core.mlp");
}

Test(config, bad_values_named_by_path)
{
	expect_error("{\"l1d\": {\"sets\": 48}}", "l1d.sets");
	expect_error("{\"l2\": {\"ways\": 0}}", "l2.ways");
	expect_error("{\"llc\": {\"replacement\": \"fifo\"}}", "llc.replacement");
	expect_error("{\"mmu\": {\"stlb\": {\"sets\": 384}}}", "mmu.stlb.sets");
	expect_error("{\"mmu\": {\"dtlb_4k\": {\"ways\": 0}}}", "mmu.dtlb_4k.ways");
	expect_error("{\"mmu\": {\"l1_unified\": true, \"dtlb\": {\"ways\": 0}}}", "mmu.dtlb.ways");
	expect_error("{\"mmu\": {\"pwc_pml5\": {\"sets\": 3}}}", "mmu.pwc_pml5.sets");
	expect_error("{\"mmu\": {\"nested\": {\"host_page_size\": 8192}}}",
		     "mmu.nested.host_page_size");
	expect_error("{\"mmu\": {\"nested\": {\"host_levels\": 3}}}", "mmu.nested.host_levels");
	expect_error("{\"mmu\": {\"walkers\": 0}}", "mmu.walkers");
	expect_error("{\"mmu\": {\"pwc\": 1}}", "mmu.pwc");
	expect_error("{\"core\": {\"mlp\": 0}}", "core.mlp");
	expect_error("{\"core\": {\"kernel_cpi\": 0}}", "core.kernel_cpi");
	expect_error("{\"core\": {\"freq_mhz\": 2.5}}", "core.freq_mhz");
	expect_error("{\"dram\": {\"banks\": 3}}", "dram.banks");
	expect_error("{\"dram\": {\"row_bytes\": 32}}", "dram.row_bytes");
	expect_error("{\"l1d\": 64}", "l1d");
	expect_error("{\"origin\": 1}", "origin");
}

Test(config, absent_structures_and_accepted_values)
{
	struct sim_config c;

	/* ways 0: absent, for every structure but the L1 holding 4 KiB pages */
	expect_ok("{\"mmu\": {\"stlb\": {\"ways\": 0}, \"dtlb_2m\": {\"ways\": 0},"
		  " \"pwc_pd\": {\"ways\": 0}, \"nested\": {\"ntlb\": {\"ways\": 0}}}}", &c);
	cr_expect_eq(c.mmu.stlb.ways, 0);
	/* unified: dtlb_4k may be absent */
	expect_ok("{\"mmu\": {\"l1_unified\": true, \"dtlb_4k\": {\"ways\": 0}}}", &c);
	cr_expect(c.mmu.l1_unified);
	/* host page sizes as sizes */
	expect_ok("{\"mmu\": {\"nested\": {\"enabled\": true, \"host_page_size\": \"2MiB\"}}}", &c);
	cr_expect_eq(c.mmu.nested.host_page_size, 2 << 20);
	expect_ok("{\"mmu\": {\"nested\": {\"host_page_size\": 1073741824}}}", &c);
	expect_ok("{\"llc\": {\"replacement\": \"srrip\"}}", &c);
	cr_expect_eq(c.llc.repl, SA_REPL_SRRIP);
	/* keys left out keep their defaults */
	expect_ok("{\"l2\": {\"latency\": 15}}", &c);
	cr_expect(c.l2.latency == 15 && c.l2.sets == 2048 && c.l2.ways == 16);
	expect_ok("{}", &c);
}

Test(config, mimicos_delegated)
{
	struct sim_config c;
	struct channel_config def;

	expect_ok("{\"mimicos\": {\"cores\": 4, \"levels\": 5, \"policy\": \"reservation\","
		  " \"mem_bytes\": \"2GiB\"}}", &c);
	cr_expect_eq(c.mimicos.cores, 4);
	cr_expect_eq(c.mimicos.levels, 5);
	cr_expect_str_eq(c.mimicos.policy, "reservation");
	cr_expect_eq(c.mimicos.mem_bytes, 2ULL << 30);
	/* nothing else moved */
	channel_config_init(&def);
	cr_expect_eq(c.mimicos.seed, def.seed);
	/* its errors are named from the top */
	expect_error("{\"mimicos\": {\"levels\": 6}}", "mimicos.levels");
	expect_error("{\"mimicos\": {\"modes\": 1}}", "mimicos.modes");
	expect_error("{\"mimicos\": []}", "mimicos");
}

Test(config, dram_follows_the_core_clock)
{
	struct sim_config c;
	struct dram_config want;

	expect_ok("{\"core\": {\"freq_mhz\": 4000}}", &c);
	dram_config_ddr4_2400(&want, 4000);
	cr_expect_eq(memcmp(&c.dram, &want, sizeof(want)), 0);
	/* given timings win */
	expect_ok("{\"core\": {\"freq_mhz\": 4000}, \"dram\": {\"t_row_hit\": 7}}", &c);
	cr_expect_eq(c.dram.t_row_hit, 7);
	cr_expect_eq(c.dram.t_row_empty, want.t_row_empty);
}

Test(config, load_errors_name_the_file)
{
	struct sim_config c;
	struct wl_error err;
	char path[] = "/tmp/test_config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_eq(sim_config_load(&c, "/nonexistent/hw.json", &err), -1);
	cr_expect_str_eq(err.file, "/nonexistent/hw.json");

	cr_assert(fd >= 0 && (f = fdopen(fd, "w")));
	fputs("[1, 2]\n", f);
	fclose(f);
	cr_assert_eq(sim_config_load(&c, path, &err), -1);
	cr_expect_str_eq(err.file, path);
	cr_expect_str_eq(err.path, "");

	f = fopen(path, "w");
	fputs("{\"mmu\": {\"walkers\": 4,\n  \"stlb\": }}\n", f);
	fclose(f);
	cr_assert_eq(sim_config_load(&c, path, &err), -1);
	cr_expect_str_eq(err.path, "line 2, column 11");

	f = fopen(path, "w");
	fputs("{\"mmu\": {\"pwc_pd\": {\"ways\": 4, \"sets\": 6}}}\n", f);
	fclose(f);
	cr_assert_eq(sim_config_load(&c, path, &err), -1);
	cr_expect_str_eq(err.file, path);
	cr_expect_str_eq(err.path, "mmu.pwc_pd.sets");
	unlink(path);
}

/* No "calibration": uncalibrated, and the echo has none either. */
Test(config, calibration_absent_by_default)
{
	struct sim_config c;
	cJSON *j;

	sim_config_init(&c);
	cr_expect_not(c.calibration.given);
	cr_expect_str_eq(c.calibration.host, "");
	j = sim_config_to_json(&c);
	cr_assert_not_null(j);
	cr_expect_null(cJSON_GetObjectItem(j, "calibration"));
	cJSON_Delete(j);
	expect_ok("{\"l2\": {\"latency\": 15}}", &c);
	cr_expect_not(c.calibration.given);
}

/* Given, its three strings are read and echoed as they came. */
Test(config, calibration_read_and_echoed)
{
	struct sim_config c;
	cJSON *j, *cal;

	expect_ok("{\"calibration\": {\"host\": \"epyc-vm\", \"date\": \"2026-12-01\","
		  " \"source\": \"out/calib\"}}", &c);
	cr_expect(c.calibration.given);
	cr_expect_str_eq(c.calibration.host, "epyc-vm");
	cr_expect_str_eq(c.calibration.date, "2026-12-01");
	cr_expect_str_eq(c.calibration.source, "out/calib");
	j = sim_config_to_json(&c);
	cal = cJSON_GetObjectItem(j, "calibration");
	cr_assert_not_null(cal);
	cr_expect_eq(cJSON_GetArraySize(cal), 3);
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cal, "host")), "epyc-vm");
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cal, "date")), "2026-12-01");
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cal, "source")), "out/calib");
	cJSON_Delete(j);
	round_trip(&c);
}

Test(config, calibration_unknown_key_named_by_path)
{
	expect_error("{\"calibration\": {\"host\": \"h\", \"date\": \"d\", \"source\": \"s\","
		     " \"by\": \"me\"}}", "calibration.by");
	expect_error("{\"calibrations\": {}}", "calibrations");
}

Test(config, calibration_bad_values_named_by_path)
{
	char text[512];

	/* not an object, a key of the wrong type, a key missing */
	expect_error("{\"calibration\": \"yes\"}", "calibration");
	expect_error("{\"calibration\": true}", "calibration");
	expect_error("{\"calibration\": {\"host\": 7, \"date\": \"d\", \"source\": \"s\"}}",
		     "calibration.host");
	expect_error("{\"calibration\": {\"host\": \"h\", \"date\": [], \"source\": \"s\"}}",
		     "calibration.date");
	expect_error("{\"calibration\": {\"host\": \"h\", \"date\": \"d\"}}",
		     "calibration.source");
	/* a host name of 128 characters does not fit host[128] with its NUL */
	snprintf(text, sizeof(text), "{\"calibration\": {\"host\": \"%0128d\", \"date\": \"d\","
		 " \"source\": \"s\"}}", 0);
	expect_error(text, "calibration.host");
}

/* The calibration knobs: off by default, read, and refused out of range by path. */
Test(config, calibration_knobs_off_by_default_and_checked)
{
	struct sim_config c;

	sim_config_init(&c);
	cr_expect_eq(c.core.zero_bandwidth_gbs, 0);
	cr_expect_eq(c.core.copy_bandwidth_gbs, 0);
	cr_expect_eq(c.core.fault_outside_window_cycles, 0);
	cr_expect_eq(c.core.first_touch_cycles_per_4k, 0);
	cr_expect_eq(c.core.cold_share, 0);
	for (int p = 0; p < CORE_PATTERNS; p++)
		cr_expect_eq(c.core.executor_cycles[p], 0);

	expect_ok("{\"core\": {\"zero_bandwidth_gbs\": 9.5, \"cold_share\": 1, "
		  "\"executor_cycles\": {\"zipf\": 4}}}", &c);
	cr_expect_eq(c.core.zero_bandwidth_gbs, 9.5);
	cr_expect_eq(c.core.cold_share, 1);
	cr_expect_eq(c.core.executor_cycles[WL_PAT_ZIPF], 4);
	cr_expect_eq(c.core.executor_cycles[WL_PAT_CHASE], 0);

	cr_expect(!c.mmu.nested.contiguous, "host frames are scattered by default");
	expect_ok("{\"mmu\": {\"nested\": {\"host_frames\": \"contiguous\"}}}", &c);
	cr_expect(c.mmu.nested.contiguous);
	expect_error("{\"mmu\": {\"nested\": {\"host_frames\": \"packed\"}}}",
		     "mmu.nested.host_frames");
	expect_error("{\"mmu\": {\"nested\": {\"host_frames\": true}}}", "mmu.nested.host_frames");
	expect_ok("{\"llc\": {\"index\": \"xor\"}, \"l2\": {\"index\": \"modulo\"}}", &c);
	cr_expect(c.llc.hashed);
	cr_expect(!c.l2.hashed);
	expect_error("{\"llc\": {\"index\": \"hash\"}}", "llc.index");
	expect_error("{\"core\": {\"zero_bandwidth_gbs\": -1}}", "core.zero_bandwidth_gbs");
	expect_error("{\"core\": {\"copy_bandwidth_gbs\": \"fast\"}}",
		     "core.copy_bandwidth_gbs");
	expect_error("{\"core\": {\"fault_outside_window_cycles\": -5}}",
		     "core.fault_outside_window_cycles");
	expect_error("{\"core\": {\"first_touch_cycles_per_4k\": 1.5}}",
		     "core.first_touch_cycles_per_4k");
	expect_error("{\"core\": {\"cold_share\": 1.01}}", "core.cold_share");
	expect_error("{\"core\": {\"cold_share\": -0.5}}", "core.cold_share");
	expect_error("{\"core\": {\"executor_cycles\": {\"random\": 1}}}",
		     "core.executor_cycles.random");
	expect_error("{\"core\": {\"executor_cycles\": {\"chase\": -1}}}",
		     "core.executor_cycles.chase");
}

/* "notes": lines of free text, joined by newlines, echoed as an array; absent when empty. */
Test(config, notes_read_and_echoed)
{
	struct sim_config c;
	cJSON *j, *n;

	sim_config_init(&c);
	j = sim_config_to_json(&c);
	cr_expect_null(cJSON_GetObjectItem(j, "notes"));
	cJSON_Delete(j);
	expect_ok("{\"notes\": [\"llc: a share\", \"l1d: measured\"]}", &c);
	cr_expect_str_eq(c.notes, "llc: a share\nl1d: measured");
	j = sim_config_to_json(&c);
	n = cJSON_GetObjectItem(j, "notes");
	cr_assert(cJSON_IsArray(n) && cJSON_GetArraySize(n) == 2);
	cr_expect_str_eq(cJSON_GetArrayItem(n, 1)->valuestring, "l1d: measured");
	cJSON_Delete(j);
	expect_error("{\"notes\": \"one\"}", "notes");
	expect_error("{\"notes\": [1]}", "notes");
	expect_error("{\"notes\": [\"a\\nb\"]}", "notes");
}
