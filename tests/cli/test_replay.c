/*
 * test_replay.c - virtuoso sim --replay: recorded commands driving MimicOS,
 * without root (the recordings are data).
 *
 * tests/data/recordings/mapper is tests/helpers/mapper.c recorded on this
 * kind of host; what its replay must give follows from the program: its
 * 8 MiB mapping (MADV_NOHUGEPAGE) 1024 write faults and pte 1024 (its last
 * MiB unmapped), its 3 MiB one 16 read faults on the zero page, the heap
 * (1 MiB grown by brk) 256 write faults. The shipped recordings of real
 * programs (datasets/recordings/INDEX.md) must replay within the
 * functional floor: faults within 1%, backing agreement >= 0.99, every
 * functional metric a pass. Replays are deterministic. Bad recordings are
 * one line naming the file and the field, exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "tests/run.h"

#define MAPPER "tests/data/recordings/mapper"

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	cJSON *j;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	buf[n] = '\0';
	fclose(f);
	j = cJSON_Parse(buf);
	free(buf);
	cr_assert_not_null(j, "%s does not parse", path);
	return j;
}

/* The region of sim.json j whose name ends in suffix. */
static const cJSON *region_named(const cJSON *j, const char *suffix)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(j, "regions")) {
		size_t n = strlen(r->string), m = strlen(suffix);

		if (n >= m && !strcmp(r->string + n - m, suffix))
			return r;
	}
	cr_assert_fail("no region *%s", suffix);
	return NULL;
}

static double num(const cJSON *j, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);

	if (b)
		x = cJSON_GetObjectItemCaseSensitive(x, b);
	cr_assert(cJSON_IsNumber(x), "%s.%s is not a number", a, b ? b : "");
	return x->valuedouble;
}

/* A fresh copy of recording 'from' in /tmp/vreplay-NAME (so replay and compare write beside it). */
static void copy_recording(const char *from, const char *name, char *dir, size_t len)
{
	char cmd[1024];

	snprintf(dir, len, "/tmp/vreplay-%s", name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && "
		 "cp '%s'/linux.json '%s'/events.vlog '%s'/", dir, dir, from, from, dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(replay, the_programs_replay_gives_its_derived_faults_and_backing)
{
	char dir[128], path[160];
	struct result r;
	const cJSON *a, *b, *h;
	cJSON *j;

	copy_recording(MAPPER, "mapper", dir, sizeof(dir));
	RUN(&r, "sim", "--replay", dir, "-o", dir, "--no-calibration");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(path, sizeof(path), "%s/sim.json", dir);
	j = load_json(path);
	a = region_named(j, "-8MiB");
	b = region_named(j, "-3MiB");
	h = region_named(j, "[heap]");
	cr_expect_eq(num(a, "faults", NULL), 1024);
	cr_expect_eq(num(a, "write_faults", NULL), 1024);
	cr_expect_eq(num(a, "pages", "pte"), 1024);
	cr_expect_eq(num(a, "pages", "none"), 1024);
	cr_expect_eq(num(b, "faults", NULL), 16);
	cr_expect_eq(num(b, "pages", "zero"), 16);
	cr_expect_eq(num(h, "faults", NULL), 256);
	cr_expect_eq(num(h, "pages", "pte"), 256);
	cr_expect_eq(num(j, "replay", "faults_refused"), 0);
	cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "timing")), "none");
	cJSON_Delete(j);
	/* and against its recording: the functional verdict a pass */
	RUN(&r, "compare", dir);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "functional pass") || strstr(r.err, "functional pass"), "%s%s", r.out,
		  r.err);
	/* the report says what a replay is, and what it cannot know */
	{
		char *md;
		long n;
		FILE *f;

		snprintf(path, sizeof(path), "%s/report.md", dir);
		f = fopen(path, "r");
		cr_assert_not_null(f);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		md = calloc(1, (size_t)n + 1);
		cr_assert(md && fread(md, 1, (size_t)n, f) == (size_t)n);
		fclose(f);
		cr_expect_not_null(strstr(md, "replays a recorded command"), "%.300s", md);
		cr_expect_not_null(strstr(md, "accesses that did not fault"), "%.300s", md);
		free(md);
	}
}

Test(replay, is_the_same_every_time)
{
	char dir[128], cmd[1024];
	struct result r;

	copy_recording(MAPPER, "again", dir, sizeof(dir));
	RUN(&r, "sim", "--replay", dir, "-o", "/tmp/vreplay-again/one", "--no-calibration");
	cr_assert_eq(r.status, 0, "%s", r.err);
	RUN(&r, "sim", "--replay", dir, "-o", "/tmp/vreplay-again/two", "--no-calibration");
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(cmd, sizeof(cmd), "cmp -s %s/one/sim.json %s/two/sim.json && "
		 "cmp -s %s/one/sim-events.vlog %s/two/sim-events.vlog", dir, dir, dir, dir);
	cr_expect_eq(system(cmd), 0, "two replays differ");
}

struct rec {
	char name[32];
};

ParameterizedTestParameters(replay, a_shipped_recording_replays_within_the_floor)
{
	static struct rec list[] = {
		{ "python-dict" }, { "sqlite3-index" }, { "cc1-compile" }, { "xz-compress" },
	};

	return cr_make_param_array(struct rec, list, sizeof(list) / sizeof(list[0]));
}

ParameterizedTest(struct rec *rc, replay, a_shipped_recording_replays_within_the_floor,
		  .timeout = 120)
{
	char from[96], dir[128], path[160];
	const cJSON *m;
	struct result r;
	cJSON *sum;

	snprintf(from, sizeof(from), "datasets/recordings/%s", rc->name);
	copy_recording(from, rc->name, dir, sizeof(dir));
	RUN(&r, "sim", "--replay", dir, "-o", dir, "--no-calibration");
	cr_assert_eq(r.status, 0, "%s: %s", rc->name, r.err);
	RUN(&r, "compare", dir);
	cr_assert_eq(r.status, 0, "%s: %s", rc->name, r.err);
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	sum = load_json(path);
	cr_expect_leq(num(sum, "divergence", "faults"), 0.01, "%s", rc->name);
	cr_expect_geq(num(sum, "divergence", "backing_agreement"), 0.99, "%s", rc->name);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sum, "metrics")) {
		const char *cls = cJSON_GetStringValue(cJSON_GetObjectItem(m, "class"));
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(m, "verdict"));

		cr_expect(strcmp(cls, "functional") || !strcmp(v, "pass") || !strcmp(v, "n/a"),
			  "%s: %s of %s: %s", rc->name,
			  cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")),
			  cJSON_GetStringValue(cJSON_GetObjectItem(m, "scope")), v);
	}
	cJSON_Delete(sum);
}

/* Each bad recording: exit 2, one line naming the file and the field. */
Test(replay, a_bad_recording_is_one_line_naming_the_field)
{
	static const struct {
		const char *edit;	/* shell commands on DIR */
		const char *says;
	} bad[] = {
		{ "rm DIR/linux.json", "linux.json" },
		{ "sed -i 's/\"command\"/\"commando\"/' DIR/linux.json", "command: missing" },
		{ "sed -i 's/\"tool\": *\"[^\"]*\"/\"tool\": \"0.0.1\"/' DIR/linux.json",
		  "tool: recorded by virtuoso 0.0.1" },
		{ "truncate -s 100 DIR/events.vlog", "events.vlog" },
	};
	char dir[128], cmd[1024];
	struct result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at;
		char *w = cmd;

		copy_recording(MAPPER, "bad", dir, sizeof(dir));
		/* DIR -> the copy's path */
		for (const char *p = bad[i].edit; *p && w < cmd + sizeof(cmd) - 130; p++) {
			if (!strncmp(p, "DIR", 3)) {
				w += sprintf(w, "%s", dir);
				p += 2;
			} else {
				*w++ = *p;
			}
		}
		*w = '\0';
		cr_assert_eq(system(cmd), 0, "%s", cmd);
		RUN(&r, "sim", "--replay", dir, "-o", "/tmp/vreplay-bad/out");
		cr_expect_eq(r.status, 2, "%s: %s", bad[i].edit, r.err);
		at = strstr(r.err, bad[i].says);
		cr_expect_not_null(at, "%s: %s", bad[i].edit, r.err);
		cr_expect_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
		cr_expect_neq(access("/tmp/vreplay-bad/out/sim.json", F_OK), 0, "%s", bad[i].edit);
	}
}

/*
 * The same recording under another THP mode: MimicOS decides anew. The
 * program's 4 MiB mapping C is 2 MiB-aligned with a byte written in each
 * of its two blocks: two faults either way; under "always" each installs a
 * THP (pmd 1024), under "never" a 4 KiB page each (pte 2). A and B are
 * MADV_NOHUGEPAGE and the heap holds no aligned 2 MiB block: as recorded.
 */
Test(replay, another_thp_mode_decides_anew)
{
	static const struct {
		const char *mode;
		double thp_faults, pmd, pte;
	} want[] = { { "always", 2, 1024, 0 }, { "never", 0, 0, 2 } };
	char dir[128], out[160], path[192];
	struct result r;

	copy_recording(MAPPER, "thp", dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const cJSON *c;
		cJSON *j;

		snprintf(out, sizeof(out), "%s/%s", dir, want[i].mode);
		RUN(&r, "sim", "--replay", dir, "--thp", want[i].mode, "-o", out, "--no-calibration");
		cr_assert_eq(r.status, 0, "%s: %s", want[i].mode, r.err);
		snprintf(path, sizeof(path), "%s/sim.json", out);
		j = load_json(path);
		c = region_named(j, "-4MiB");
		cr_expect_eq(num(c, "faults", NULL), 2, "%s", want[i].mode);
		cr_expect_eq(num(c, "thp_faults", NULL), want[i].thp_faults, "%s", want[i].mode);
		cr_expect_eq(num(c, "pages", "pmd"), want[i].pmd, "%s", want[i].mode);
		cr_expect_eq(num(c, "pages", "pte"), want[i].pte, "%s", want[i].mode);
		cr_expect_eq(num(region_named(j, "-8MiB"), "pages", "pte"), 1024, "%s", want[i].mode);
		cr_expect_eq(num(region_named(j, "[heap]"), "pages", "pte"), 256, "%s", want[i].mode);
		cJSON_Delete(j);
	}
	RUN(&r, "sim", "--replay", dir, "--thp", "sometimes", "-o", out);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "--thp"), "%s", r.err);
}
