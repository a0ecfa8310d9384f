/*
 * test_spec.c - the workload parser against the format (docs/workload-format.md).
 *
 * Expected values are read off the format by hand: defaults from its tables,
 * sizes computed from their units, error paths from the rule each malformed
 * file breaks (tests/data/malformed/EXPECTED, one line per file).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include "workload/json.h"
#include "workload/spec.h"

static int parse(struct wl_spec *s, const char *text, struct wl_error *err)
{
	return wl_spec_parse(s, text, strlen(text), "mem.json", err);
}

/* The format's own example (docs/workload-format.md), verbatim. */
static const char *example =
	"{\n"
	"  \"name\": \"thp-madvise-mixed\",\n"
	"  \"seed\": 7,\n"
	"  \"kernel\": { \"thp\": \"madvise\", \"defrag\": \"madvise\", \"use_zero_page\": true,\n"
	"              \"khugepaged\": { \"scan_sleep_ms\": 100, \"pages_to_scan\": 4096 } },\n"
	"  \"regions\": [\n"
	"    { \"name\": \"hot\",  \"size\": \"64MiB\", \"advice\": [\"hugepage\"] },\n"
	"    { \"name\": \"cold\", \"size\": \"16MiB\" }\n"
	"  ],\n"
	"  \"phases\": [\n"
	"    { \"op\": \"touch\",  \"region\": \"hot\" },\n"
	"    { \"op\": \"touch\",  \"region\": \"cold\", \"stride\": \"64KiB\", \"write\": false },\n"
	"    { \"op\": \"access\", \"region\": \"hot\", \"pattern\": \"chase\", \"count\": 1000000, \"stride\": \"4KiB\" },\n"
	"    { \"op\": \"madvise\", \"region\": \"hot\", \"offset\": \"1MiB\", \"length\": \"2MiB\", \"advice\": \"dontneed\" },\n"
	"    { \"op\": \"khugepaged_wait\", \"full_scans\": 2 }\n"
	"  ]\n"
	"}\n";

Test(spec, accepts_the_format_example_with_its_values)
{
	struct wl_spec s;
	struct wl_error err;

	cr_assert_eq(parse(&s, example, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_str_eq(s.name, "thp-madvise-mixed");
	cr_assert_eq(s.seed, 7);
	cr_assert_eq(s.kernel.thp, WL_THP_MADVISE);
	cr_assert_eq(s.kernel.defrag, WL_DEFRAG_MADVISE);
	cr_assert_eq(s.kernel.use_zero_page, 1);
	cr_assert_eq(s.kernel.khugepaged[WL_KHP_SCAN_SLEEP_MS], 100);
	cr_assert_eq(s.kernel.khugepaged[WL_KHP_PAGES_TO_SCAN], 4096);
	cr_assert_eq(s.kernel.khugepaged[WL_KHP_MAX_PTES_NONE], -1, "left to the host");
	cr_assert_eq(s.nr_regions, 2);
	cr_assert_eq(s.regions[0].size, 64ULL << 20);
	cr_assert_eq(s.regions[0].nr_advice, 1);
	cr_assert_eq(s.regions[0].advice[0], WL_ADV_HUGEPAGE);
	cr_assert_eq(s.regions[1].size, 16ULL << 20);
	cr_assert_eq(s.regions[1].nr_advice, 0);
	cr_assert_eq(s.nr_phases, 5);
	cr_assert_eq(s.phases[1].region, 1);
	cr_assert_eq(s.phases[1].stride, 65536);
	cr_assert_eq(s.phases[1].write, false);
	cr_assert_eq(wl_touch_steps(&s.phases[1]), 256, "16MiB / 64KiB");
	cr_assert_eq(s.phases[2].pattern, WL_PAT_CHASE);
	cr_assert_eq(s.phases[2].count, 1000000);
	cr_assert_eq(wl_slots(&s.phases[2]), 16384, "64MiB / 4KiB");
	cr_assert_eq(s.phases[3].offset, 1 << 20);
	cr_assert_eq(s.phases[3].length, 2 << 20);
	cr_assert_eq(s.phases[3].advice, WL_ADV_DONTNEED);
	cr_assert_eq(s.phases[4].full_scans, 2);
	cr_assert_eq(s.phases[4].timeout_ms, 60000);
	wl_spec_release(&s);
}

Test(spec, fills_every_default_of_the_format)
{
	struct wl_spec s;
	struct wl_error err;
	const char *text =
		"{\"name\":\"d\",\"regions\":[{\"name\":\"r\",\"size\":1048576}],\"phases\":["
		"{\"op\":\"touch\",\"region\":\"r\",\"offset\":\"256KiB\"},"
		"{\"op\":\"access\",\"region\":\"r\",\"pattern\":\"zipf\",\"count\":5},"
		"{\"op\":\"khugepaged_wait\"},"
		"{\"op\":\"sleep\",\"ms\":0}]}";

	cr_assert_eq(parse(&s, text, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(s.seed, 0);
	cr_assert_null(s.description);
	cr_assert_eq(s.kernel.thp, WL_THP_HOST);
	cr_assert_eq(s.kernel.defrag, WL_DEFRAG_HOST);
	cr_assert_eq(s.kernel.use_zero_page, -1);
	for (int i = 0; i < WL_MTHP_NR; i++)
		cr_assert_eq(s.kernel.mthp[i], WL_MTHP_HOST);
	cr_assert_eq(s.regions[0].populate, false);
	/* touch: length to the end of the region, 4KiB stride, sequential, store */
	cr_assert_eq(s.phases[0].offset, 256 << 10);
	cr_assert_eq(s.phases[0].length, 768 << 10);
	cr_assert_eq(s.phases[0].stride, 4096);
	cr_assert_eq(s.phases[0].order, WL_ORDER_SEQUENTIAL);
	cr_assert_eq(s.phases[0].write, true);
	/* access: whole region, 64B stride, no stores, s = 0.99 */
	cr_assert_eq(s.phases[1].offset, 0);
	cr_assert_eq(s.phases[1].length, 1 << 20);
	cr_assert_eq(s.phases[1].stride, 64);
	cr_assert_float_eq(s.phases[1].write_fraction, 0.0, 0.0);
	cr_assert_float_eq(s.phases[1].zipf_s, 0.99, 1e-12);
	cr_assert_eq(s.phases[2].full_scans, 2);
	cr_assert_eq(s.phases[2].timeout_ms, 60000);
	cr_assert_eq(s.phases[3].ms, 0);
	wl_spec_release(&s);
}

/* Every example in datasets/workloads parses. */
Test(spec, accepts_every_dataset_workload)
{
	DIR *d = opendir("datasets/workloads");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d, "run from the top of the tree");
	while ((e = readdir(d))) {
		char path[512];
		struct wl_spec s;
		struct wl_error err;
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".json"))
			continue;
		snprintf(path, sizeof(path), "datasets/workloads/%s", e->d_name);
		cr_expect_eq(wl_spec_load(&s, path, &err), 0, "%s: %s: %s", path, err.path, err.msg);
		if (!s.name)
			continue;
		/* each file is named after its workload */
		cr_expect_eq(strncmp(e->d_name, s.name, len - 5), 0, "%s is named %s", path, s.name);
		wl_spec_release(&s);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 11, "a default and at least 10 examples, found %d", n);
}

/*
 * Each malformed spec is rejected, and the error names the file and exactly
 * the JSON path (or position) of the mistake.
 */
Test(spec, rejects_each_malformed_spec_naming_its_field)
{
	FILE *f = fopen("tests/data/malformed/EXPECTED", "r");
	char line[512];
	int n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), path[600];
		struct wl_spec s;
		struct wl_error err;

		if (line[0] == '#' || !tab)
			continue;
		*tab = '\0';
		tab[1 + strcspn(tab + 1, "\n")] = '\0';
		snprintf(path, sizeof(path), "tests/data/malformed/%s", line);
		memset(&err, 0, sizeof(err));
		cr_expect_eq(wl_spec_load(&s, path, &err), -1, "%s was accepted", path);
		cr_expect_str_eq(err.file, path);
		cr_expect_str_eq(err.path, tab + 1, "%s: error names '%s' (%s), expected '%s'",
				 line, err.path, err.msg, tab + 1);
		cr_expect_neq(err.msg[0], '\0', "%s: no message", line);
		cr_expect_null(strchr(err.msg, '\n'), "%s: message spans lines", line);
		n++;
	}
	fclose(f);
	cr_assert_geq(n, 30, "the corpus holds %d specs", n);
}

Test(spec, missing_file_is_an_error_naming_it)
{
	struct wl_spec s;
	struct wl_error err;

	cr_assert_eq(wl_spec_load(&s, "tests/data/no-such-spec.json", &err), -1);
	cr_assert_str_eq(err.file, "tests/data/no-such-spec.json");
	cr_assert_not_null(strstr(err.msg, "No such file"), "%s", err.msg);
}

/*
 * The text need not end in a NUL: all-white-space text read to its length
 * and no further (it ends at a page that cannot be read).
 */
Test(spec, white_space_text_is_read_to_its_length_only)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 100;
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct wl_error err;
	struct wj_ctx c = { .file = "spaces.json", .err = &err };

	cr_assert_neq(m, MAP_FAILED);
	cr_assert_eq(mprotect(m + page, page, PROT_NONE), 0);
	memset(m + page - n, ' ', n);
	cr_assert_null(wj_parse(&c, m + page - n, n));
	cr_assert_str_eq(err.msg, "expected a JSON object, got an empty file");
	munmap(m, 2 * page);
}

/*
 * A khugepaged block without "defrag" leaves defrag to the host; given, it
 * is read as written.
 */
Test(spec, khugepaged_defrag_absent_is_left_to_the_host)
{
	static const char *const texts[] = {
		"{\"name\":\"k\",\"kernel\":{\"khugepaged\":{\"scan_sleep_ms\":5}},"
		"\"regions\":[{\"name\":\"a\",\"size\":4096}],\"phases\":[{\"op\":\"sleep\",\"ms\":0}]}",
		"{\"name\":\"k\",\"kernel\":{\"khugepaged\":{\"defrag\":false}},"
		"\"regions\":[{\"name\":\"a\",\"size\":4096}],\"phases\":[{\"op\":\"sleep\",\"ms\":0}]}",
		"{\"name\":\"k\",\"kernel\":{\"khugepaged\":{\"defrag\":true}},"
		"\"regions\":[{\"name\":\"a\",\"size\":4096}],\"phases\":[{\"op\":\"sleep\",\"ms\":0}]}",
	};
	static const int64_t want[] = { -1, 0, 1 };

	for (size_t i = 0; i < 3; i++) {
		struct wl_spec s;
		struct wl_error err;

		cr_assert_eq(parse(&s, texts[i], &err), 0, "%s: %s", err.path, err.msg);
		cr_assert_eq(s.kernel.khugepaged[WL_KHP_DEFRAG], want[i], "text %zu", i);
		cr_assert_eq(s.kernel.use_zero_page, -1);
		wl_spec_release(&s);
	}
}

/* The error line for text, as wl_error_print() prints it. */
static char *error_line(const char *text)
{
	struct wl_spec s;
	struct wl_error err;
	char *line = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(parse(&s, text, &err), -1);
	f = open_memstream(&line, &len);
	cr_assert_not_null(f);
	wl_error_print(&err, f);
	fclose(f);
	return line;
}

/*
 * A 1 MiB string anywhere in a spec gives one short error line: a quoted
 * value is cut and ends in "…".
 */
Test(spec, error_lines_stay_short_whatever_the_values)
{
	static const char *const fmts[] = {
		/* a region name unknown, where the regions' names are long too */
		"{\"name\":\"w\",\"regions\":[{\"name\":\"%s\",\"size\":4096}],"
		"\"phases\":[{\"op\":\"touch\",\"region\":\"x%s\"}]}",
		/* a name that is not a name */
		"{\"name\":\"W%s\",\"regions\":[],\"phases\":[]}",
		/* an unknown key */
		"{\"name\":\"w\",\"%s\":1,\"regions\":[],\"phases\":[]}",
		/* a duplicate region name */
		"{\"name\":\"w\",\"regions\":[{\"name\":\"%s\",\"size\":4096},"
		"{\"name\":\"%s\",\"size\":4096}],\"phases\":[]}",
		/* a string where a size goes */
		"{\"name\":\"w\",\"regions\":[{\"name\":\"a\",\"size\":\"%s\"}],\"phases\":[]}",
		/* an offset outside a region with a long name */
		"{\"name\":\"w\",\"regions\":[{\"name\":\"%s\",\"size\":4096}],"
		"\"phases\":[{\"op\":\"touch\",\"region\":\"%s\",\"offset\":8192}]}",
	};
	size_t big = 1 << 20;
	char *v = malloc(big + 1), *text = malloc(3 * big + 256);

	cr_assert(v && text);
	memset(v, 'a', big);
	v[big] = '\0';
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char *line;

		sprintf(text, fmts[i], v, v);
		line = error_line(text);
		cr_expect_lt(strlen(line), 300, "fmts[%zu]: %zu bytes: %.300s", i, strlen(line), line);
		cr_expect_not_null(strstr(line, "…"), "fmts[%zu]: %.300s", i, line);
		cr_expect_eq(strchr(line, '\n'), line + strlen(line) - 1, "fmts[%zu]: one line", i);
		free(line);
	}
	free(v);
	free(text);
}

/*
 * All regions together may map 2^46 bytes (64 TiB), not a byte more: the
 * address space holds no more, so check refuses it rather than a run's mmap.
 */
Test(spec, regions_map_at_most_the_address_space_share)
{
	struct wl_spec s;
	struct wl_error err;

	cr_assert_eq(parse(&s, "{\"name\":\"w\",\"regions\":[{\"name\":\"a\",\"size\":\"32768GiB\"},"
			   "{\"name\":\"b\",\"size\":\"32768GiB\"}],\"phases\":[{\"op\":\"sleep\",\"ms\":0}]}",
			   &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(s.mapped, WL_MAX_MAPPED);
	wl_spec_release(&s);
	cr_assert_eq(parse(&s, "{\"name\":\"w\",\"regions\":[{\"name\":\"a\",\"size\":\"65536GiB\"},"
			   "{\"name\":\"b\",\"size\":4096}],\"phases\":[{\"op\":\"sleep\",\"ms\":0}]}",
			   &err), -1);
	cr_assert_str_eq(err.path, "regions[1].size");
	cr_assert_eq(parse(&s, "{\"name\":\"w\",\"regions\":[{\"name\":\"a\",\"size\":\"1073741824GiB\"}],"
			   "\"phases\":[{\"op\":\"sleep\",\"ms\":0}]}", &err), -1);
	cr_assert_str_eq(err.path, "regions[0].size");
	cr_assert_not_null(strstr(err.msg, "expected at most 70368744177664 bytes"), "%s", err.msg);
}

/*
 * 100k regions, each touched once, then the last name given again: the
 * names are checked for duplicates and looked up in O(1) each (the timeout
 * only guards against a hang; it takes well under a second).
 */
Test(spec, hundred_thousand_regions_check_quickly, .timeout = 30)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 100 + 256, n = 0;
	char *text = malloc(cap);
	struct wl_spec s;
	struct wl_error err;

	cr_assert_not_null(text);
	n += (size_t)sprintf(text + n, "{\"name\":\"many\",\"regions\":[");
	for (int i = 0; i < N; i++)
		n += (size_t)sprintf(text + n, "%s{\"name\":\"r%d\",\"size\":4096}", i ? "," : "", i);
	n += (size_t)sprintf(text + n, "],\"phases\":[");
	for (int i = 0; i < N; i++)
		n += (size_t)sprintf(text + n, "%s{\"op\":\"touch\",\"region\":\"r%d\"}", i ? "," : "",
				     N - 1 - i);
	sprintf(text + n, "]}");
	cr_assert_eq(parse(&s, text, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(s.nr_regions, N);
	cr_assert_eq(s.phases[0].region, N - 1);
	cr_assert_eq(s.phases[N - 1].region, 0);
	wl_spec_release(&s);

	/* the same with regions[N - 1] named as regions[7] */
	memcpy(strstr(text, "\"r99999\""), "\"r7\"    ", 8);
	cr_assert_eq(parse(&s, text, &err), -1);
	cr_assert_str_eq(err.path, "regions[99999].name");
	cr_assert_not_null(strstr(err.msg, "regions[7] already"), "%s", err.msg);
	free(text);
}

/* Truncating a valid spec anywhere gives an error, never a partial spec. */
Test(spec, every_truncation_of_a_valid_spec_is_rejected)
{
	size_t len = strlen(example);

	for (size_t cut = 0; cut < len - 1; cut++) {
		struct wl_spec s;
		struct wl_error err;

		cr_assert_eq(wl_spec_parse(&s, example, cut, "cut.json", &err), -1,
			     "accepted the first %zu bytes", cut);
		cr_assert_null(s.name);
	}
}

Test(spec, mprotect_rw_restores_writability_for_later_stores)
{
	struct wl_spec s;
	struct wl_error err;
	const char *text =
		"{\"name\":\"p\",\"regions\":[{\"name\":\"r\",\"size\":\"8MiB\"}],\"phases\":["
		"{\"op\":\"mprotect\",\"region\":\"r\",\"prot\":\"r\"},"
		"{\"op\":\"touch\",\"region\":\"r\",\"write\":false},"
		"{\"op\":\"mprotect\",\"region\":\"r\",\"offset\":\"2MiB\",\"length\":\"2MiB\",\"prot\":\"rw\"},"
		"{\"op\":\"touch\",\"region\":\"r\",\"offset\":\"2MiB\",\"length\":\"2MiB\"},"
		"{\"op\":\"touch\",\"region\":\"r\",\"offset\":\"1MiB\",\"length\":\"2MiB\"}]}";

	cr_assert_eq(parse(&s, text, &err), -1, "the last touch stores into [1MiB, 2MiB), still r");
	cr_assert_str_eq(err.path, "phases[4]");
	cr_assert_not_null(strstr(err.msg, "[1048576, 2097152)"), "%s", err.msg);
}

Test(spec, munmap_of_one_range_leaves_the_rest_usable)
{
	struct wl_spec s;
	struct wl_error err;
	const char *text =
		"{\"name\":\"u\",\"regions\":[{\"name\":\"r\",\"size\":\"8MiB\"}],\"phases\":["
		"{\"op\":\"munmap\",\"region\":\"r\",\"offset\":\"4MiB\",\"length\":\"2MiB\"},"
		"{\"op\":\"touch\",\"region\":\"r\",\"length\":\"4MiB\"},"
		"{\"op\":\"touch\",\"region\":\"r\",\"offset\":\"6MiB\"}]}";

	cr_assert_eq(parse(&s, text, &err), 0, "%s: %s", err.path, err.msg);
	wl_spec_release(&s);
}

Test(spec, write_fraction_is_ignored_for_chase)
{
	struct wl_spec s;
	struct wl_error err;
	const char *text =
		"{\"name\":\"c\",\"regions\":[{\"name\":\"r\",\"size\":\"1MiB\"}],\"phases\":["
		"{\"op\":\"access\",\"region\":\"r\",\"pattern\":\"chase\",\"count\":9,\"write_fraction\":0.5}]}";

	cr_assert_eq(parse(&s, text, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_float_eq(s.phases[0].write_fraction, 0.0, 0.0);
	wl_spec_release(&s);
}

Test(spec, mthp_sizes_map_to_orders_2_to_8)
{
	struct wl_spec s;
	struct wl_error err;
	const char *text =
		"{\"name\":\"m\",\"kernel\":{\"mthp\":{\"16KiB\":\"always\",\"64KiB\":\"inherit\","
		"\"1024KiB\":\"madvise\",\"32768B\":\"never\"}},"
		"\"regions\":[{\"name\":\"r\",\"size\":4096}],\"phases\":[{\"op\":\"sleep\",\"ms\":1}]}";

	cr_assert_eq(parse(&s, text, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(s.kernel.mthp[2 - WL_MTHP_MIN_ORDER], WL_MTHP_ALWAYS);	/* 16KiB */
	cr_assert_eq(s.kernel.mthp[3 - WL_MTHP_MIN_ORDER], WL_MTHP_NEVER);	/* 32KiB */
	cr_assert_eq(s.kernel.mthp[4 - WL_MTHP_MIN_ORDER], WL_MTHP_INHERIT);	/* 64KiB */
	cr_assert_eq(s.kernel.mthp[8 - WL_MTHP_MIN_ORDER], WL_MTHP_MADVISE);	/* 1MiB */
	cr_assert_eq(s.kernel.mthp[5 - WL_MTHP_MIN_ORDER], WL_MTHP_HOST);
	wl_spec_release(&s);
}

/* Normalising is idempotent: the output is a valid spec meaning the same. */
Test(spec, normalised_output_parses_back_to_itself)
{
	struct wl_spec s, t;
	struct wl_error err;
	cJSON *a, *b;
	char *text;

	cr_assert_eq(parse(&s, example, &err), 0);
	a = wl_spec_to_json(&s);
	text = wj_print(a);
	cr_assert_eq(parse(&t, text, &err), 0, "%s: %s\n%s", err.path, err.msg, text);
	b = wl_spec_to_json(&t);
	cr_assert(cJSON_Compare(a, b, true));
	/* sizes in bytes */
	cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "regions"), 0),
					 "size")->valuedouble, 67108864.0);
	free(text);
	cJSON_Delete(a);
	cJSON_Delete(b);
	wl_spec_release(&s);
	wl_spec_release(&t);
}

/*
 * The kernel object a result file records (linux.json's "kernel": every
 * setting resolved) reads back as the settings it names: the simulated side
 * of virtuoso run runs with them. A wrong value is refused naming the field.
 */
Test(spec, kernel_object_of_a_result_file_reads_back)
{
	static const char *text =
		"{\"thp\": \"madvise\", \"defrag\": \"defer\", \"use_zero_page\": false, "
		"\"mthp\": {\"16KiB\": \"never\", \"32KiB\": \"never\", \"64KiB\": \"always\", "
		"\"128KiB\": \"never\", \"256KiB\": \"never\", \"512KiB\": \"never\", "
		"\"1MiB\": \"inherit\"}, \"khugepaged\": {\"scan_sleep_ms\": 10000, "
		"\"alloc_sleep_ms\": 60000, \"pages_to_scan\": 4096, \"max_ptes_none\": 511, "
		"\"max_ptes_swap\": 64, \"max_ptes_shared\": 256, \"defrag\": true}}";
	struct wl_error err = { 0 };
	struct wl_kernel k;
	cJSON *o = cJSON_Parse(text);

	cr_assert_not_null(o);
	cr_assert_eq(wl_kernel_from_json(&k, o, "linux.json", &err), 0, "%s", err.msg);
	cr_expect_eq(k.thp, WL_THP_MADVISE);
	cr_expect_eq(k.defrag, WL_DEFRAG_DEFER);
	cr_expect_eq(k.use_zero_page, 0);
	cr_expect_eq(k.mthp[4 - WL_MTHP_MIN_ORDER], WL_MTHP_ALWAYS, "64KiB is order 4");
	cr_expect_eq(k.mthp[8 - WL_MTHP_MIN_ORDER], WL_MTHP_INHERIT, "1MiB is order 8");
	cr_expect_eq(k.khugepaged[WL_KHP_SCAN_SLEEP_MS], 10000);
	cr_expect_eq(k.khugepaged[WL_KHP_MAX_PTES_SHARED], 256);
	cJSON_Delete(o);

	o = cJSON_Parse("{\"thp\": \"sometimes\"}");
	cr_assert_eq(wl_kernel_from_json(&k, o, "linux.json", &err), -1);
	cr_expect_str_eq(err.file, "linux.json");
	cr_expect(strstr(err.path, "thp") != NULL, "names the field: %s", err.path);
	cJSON_Delete(o);
}

/* ---- threads (format version 2) ---------------------------------------------- */

static const char *threaded =
	"{\"name\": \"mt\", \"version\": 2, \"threads\": 3, \"seed\": 5,"
	" \"regions\": [{\"name\": \"buf\", \"size\": \"40KiB\"}, {\"name\": \"b2\", \"size\": \"8KiB\"}],"
	" \"phases\": [{\"op\": \"touch\", \"region\": \"buf\"},"
	"  {\"op\": \"access\", \"region\": \"buf\", \"pattern\": \"uniform\", \"count\": 2,"
	"   \"threads\": [2, 0], \"share\": \"whole\"},"
	"  {\"op\": \"touch\", \"region\": \"b2\", \"threads\": [1]},"
	"  {\"op\": \"munmap\", \"region\": \"buf\", \"offset\": \"32KiB\", \"threads\": [2],"
	"   \"concurrent\": true},"
	"  {\"op\": \"madvise\", \"region\": \"b2\", \"advice\": \"dontneed\"},"
	"  {\"op\": \"sleep\", \"ms\": 1}]}";

/*
 * The defaults of version 2, from docs/workload-format.md's "Threads": a
 * touch or access is every thread's, by slices; a madvise, mprotect or
 * munmap thread 0's; a sleep or khugepaged_wait every thread's (thread 0
 * acting). A version 1 spec is one thread, each phase thread 0's.
 */
Test(spec, thread_fields_default_as_the_format_says)
{
	struct wl_spec s;
	struct wl_error err;

	cr_assert_eq(parse(&s, threaded, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(s.version, 2);
	cr_assert_eq(s.threads, 3);
	cr_assert_eq(s.phases[0].thread_mask, 0x7);
	cr_assert_eq(s.phases[0].share, WL_SHARE_SLICE);
	cr_assert_eq(s.phases[1].thread_mask, 0x5);
	cr_assert_eq(s.phases[1].share, WL_SHARE_WHOLE);
	cr_assert_eq(s.phases[2].thread_mask, 0x2);
	cr_assert_eq(s.phases[3].thread_mask, 0x4);
	cr_assert(s.phases[3].concurrent);
	cr_assert_not(s.phases[2].concurrent);
	cr_assert_eq(s.phases[4].thread_mask, 0x1);
	cr_assert_eq(s.phases[5].thread_mask, 0x7);
	wl_spec_release(&s);

	cr_assert_eq(parse(&s, example, &err), 0, "%s", err.msg);
	cr_assert_eq(s.version, 1);
	cr_assert_eq(s.threads, 1);
	for (size_t i = 0; i < s.nr_phases; i++)
		cr_assert_eq(s.phases[i].thread_mask, 0x1, "phase %zu", i);
	wl_spec_release(&s);
}

/*
 * Slices by hand: 40 KiB is 10 pages over 3 threads, 4 + 3 + 3; the first
 * pages % n threads take one page more. Threads [1, 3] of 4 split 6 pages
 * 3 + 3, in thread order; "whole" leaves the range as it is.
 */
Test(spec, slices_split_the_pages_in_thread_order)
{
	struct wl_spec s;
	struct wl_error err;
	struct wl_phase q;
	static const uint64_t off[3] = { 0, 16384, 28672 }, len[3] = { 16384, 12288, 12288 };
	const char *four =
		"{\"name\": \"s\", \"version\": 2, \"threads\": 4,"
		" \"regions\": [{\"name\": \"r\", \"size\": \"32KiB\"}],"
		" \"phases\": [{\"op\": \"touch\", \"region\": \"r\", \"offset\": \"8KiB\","
		"  \"length\": \"24KiB\", \"threads\": [3, 1]}]}";

	cr_assert_eq(parse(&s, threaded, &err), 0, "%s", err.msg);
	for (unsigned t = 0; t < 3; t++) {
		q = wl_phase_of_thread(&s.phases[0], t);
		cr_assert_eq(q.offset, off[t], "thread %u", t);
		cr_assert_eq(q.length, len[t], "thread %u", t);
	}
	q = wl_phase_of_thread(&s.phases[1], 2);
	cr_assert_eq(q.offset, 0);
	cr_assert_eq(q.length, 40960);
	wl_spec_release(&s);
	cr_assert_eq(parse(&s, four, &err), 0, "%s", err.msg);
	q = wl_phase_of_thread(&s.phases[0], 1);
	cr_assert_eq(q.offset, 8192);
	cr_assert_eq(q.length, 12288);
	q = wl_phase_of_thread(&s.phases[0], 3);
	cr_assert_eq(q.offset, 20480);
	cr_assert_eq(q.length, 12288);
	wl_spec_release(&s);
}

/* The normalised output of a spec with threads says the same: it parses back to the same text. */
Test(spec, normalised_threads_parse_back_to_themselves)
{
	struct wl_spec s, t;
	struct wl_error err;
	cJSON *ja, *jb;
	char *a, *b;

	cr_assert_eq(parse(&s, threaded, &err), 0, "%s", err.msg);
	ja = wl_spec_to_json(&s);
	a = cJSON_Print(ja);
	cJSON_Delete(ja);
	cr_assert_eq(parse(&t, a, &err), 0, "%s: %s\n%s", err.path, err.msg, a);
	jb = wl_spec_to_json(&t);
	b = cJSON_Print(jb);
	cJSON_Delete(jb);
	cr_assert_str_eq(a, b);
	cr_assert_not_null(strstr(a, "\"concurrent\":\ttrue"), "%s", a);
	cr_assert_eq(t.phases[1].thread_mask, 0x5);
	cr_assert_eq(t.phases[1].share, WL_SHARE_WHOLE);
	free(a);
	free(b);
	wl_spec_release(&s);
	wl_spec_release(&t);
}
