/*
 * test_report.c - report.md and report.html from a hand-made comparison:
 * the verdict table's rows, report.md against a golden file, one inline SVG
 * per plot (gnuplot), notes where plots would be without gnuplot, escaping,
 * atomic writing; and the page as a browser shows it (headless Chromium: a
 * screenshot that is not blank, every SVG laid out with a non-zero size).
 *
 * The comparison is built here from struct side values, not read from files,
 * so this suite depends on compare/ only for verdict_name().
 *
 * No golden file: what report.md must hold is asserted row by row, each
 * value worked out from the hand-built sides (a snapshot of the tool's own
 * output would only say that it did not change).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "compare/compare.h"
#include "reports/report.h"
#include "tests/browser.h"

#define MIB (UINT64_C(1) << 20)
/*
 * timeline, phases, latency of the three kinds present (thp, zero_read,
 * anon_4k) and of all faults, 2 backing strips, orders, scan, collapse, tlb
 */
#define NR_PLOTS 12

/* ---- the fixture: two small sides and their comparison --------------------------- */

struct fixture {
	struct side lx, sm;
	struct side_region reg[2][2];
	struct side_phase ph[2][3];
	struct side_backing_run runs[4][3];
	struct side_named_count scan[2][2], coll[1], tlb[2][2];
	struct side_fault *faults[2];
	struct metric m[12];
	struct comparison c;
	/* runs 2 and 3 of Linux (fixture_three_runs), and all three for the comparison */
	struct side more[2];
	struct side_phase more_ph[2][3];
	struct side_fault *more_faults[2];
	const struct side *linux_runs[3];
};

static struct fixture fx;

static const char *kernel_json =
	"{\"thp\":\"madvise\",\"defrag\":\"%s\",\"use_zero_page\":true,"
	"\"mthp\":{\"16KiB\":\"never\",\"64KiB\":\"never\"},"
	"\"khugepaged\":{\"scan_sleep_ms\":10000,\"pages_to_scan\":4096,\"max_ptes_none\":511}}";

static cJSON *side_json(bool sim)
{
	char kernel[512];
	cJSON *root = cJSON_CreateObject();

	snprintf(kernel, sizeof(kernel), kernel_json, sim ? "always" : "madvise");
	cJSON_AddItemToObject(root, "kernel", cJSON_Parse(kernel));
	if (sim) {
		cJSON_AddStringToObject(root, "timing", "interval");
		cJSON_AddItemToObject(root, "config", cJSON_Parse(
			"{\"origin\":\"test machine\",\"core\":{\"freq_mhz\":5100,\"mlp\":10},"
			"\"mmu\":{\"stlb\":{\"sets\":256,\"ways\":8,\"latency\":12,"
			"\"replacement\":\"lru\"},\"pwc\":true,\"nested\":{\"enabled\":false,"
			"\"ntlb\":{\"sets\":4,\"ways\":4}}},\"dram\":{\"channels\":1,\"t_row_hit\":157}}"));
	} else {
		cJSON_AddItemToObject(root, "host", cJSON_Parse(
			"{\"kernel\":\"6.18.0-test\",\"user\":\"nobody\"}"));
		cJSON_AddItemToObject(root, "probes", cJSON_Parse(
			"{\"flavour\":\"tp_btf\",\"backing\":\"pagemap_scan\",\"dropped\":0}"));
	}
	return root;
}

static void set_region(struct side_region *r, const char *name, uint64_t start, uint64_t size,
		       uint64_t faults, uint64_t thp, uint64_t huge, uint64_t resident,
		       uint64_t none, uint64_t zero, uint64_t pte, uint64_t pmd)
{
	*r = (struct side_region){
		.name = (char *)name, .start = start, .size = size, .faults = faults,
		.thp_faults = thp, .huge_bytes = huge, .resident_bytes = resident,
		.pages = { none, zero, pte, pmd },
	};
}

static void set_phase(struct side_phase *p, const char *op, int region, uint64_t start,
		      uint64_t runtime, uint64_t faults, uint64_t thp)
{
	*p = (struct side_phase){ .op = (char *)op, .region = region, .start_ns = start,
				  .runtime_ns = runtime, .faults = faults, .thp_faults = thp };
}

static void set_metric(struct metric *m, const char *name, const char *scope, double lx,
		       double sm, double value, double warn, double fail, bool higher,
		       enum verdict v, const char *note)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->scope, sizeof(m->scope), "%s", scope);
	m->linux_value = m->linux_lo = m->linux_hi = lx;
	m->linux_runs = isnan(lx) ? 0 : 1;	/* one run, as compare_sides() leaves it */
	m->sim_value = sm;
	m->value = value;
	m->warn = warn;
	m->fail = fail;
	m->higher_is_better = higher;
	m->verdict = v;
	snprintf(m->note, sizeof(m->note), "%s", note);
}

/* n faults of a phase, evenly spread over [t0, t0 + span), latencies from lat(i). */
static size_t add_faults(struct side_fault *f, size_t at, size_t n, int region, int phase,
			 uint64_t t0, uint64_t span, uint64_t start, uint64_t stride, uint8_t order,
			 uint64_t lat0, uint64_t lat_spread)
{
	for (size_t i = 0; i < n; i++)
		f[at + i] = (struct side_fault){
			.t_ns = t0 + span * i / n, .addr = start + stride * i,
			.latency_ns = lat0 + (i * 7919) % (lat_spread ? lat_spread : 1),
			.region = region, .phase = phase, .order = order, .write = true,
			.allocated = true,
		};
	return at + n;
}

static void set_kinds(struct side_fault *f, size_t at, size_t n, enum fault_kind kind)
{
	for (size_t i = at; i < at + n; i++)
		f[i].kind = (uint8_t)kind;
}

/*
 * Linux: "hot" (8 MiB, 2 MiB aligned) fully PMD-mapped by 4 THP faults;
 * "cold" (4 MiB starting 1 MiB into a block, so 3 blocks) with 512 zero
 * pages, 88 pte pages, the rest untouched. Simulated: one block of "hot"
 * fell back to 4 KiB pages; "cold" the same counts but no backing map.
 */
static void fixture_init(void)
{
	struct side *L = &fx.lx, *S = &fx.sm;
	size_t n;

	memset(&fx, 0, sizeof(fx));
	*L = (struct side){ .path = "out/unit/linux.json", .workload = "unit-mixed",
			    .kind = "linux", .version = "0.1.0", .complete = true,
			    .runtime_ns = 12000000, .timed = true, .has_log = true };
	*S = (struct side){ .path = "out/unit/sim.json", .workload = "unit-mixed",
			    .kind = "sim", .version = "0.1.0", .complete = true,
			    .runtime_ns = 2500000, .timed = true, .has_log = true };

	set_region(&fx.reg[0][0], "hot", 0x7f0000000000, 8 * MIB, 4, 4, 8 * MIB, 8 * MIB,
		   0, 0, 0, 2048);
	fx.reg[0][0].alloc_orders[9] = 4;
	fx.runs[0][0] = (struct side_backing_run){ PAGE_CLASS_PMD, 2048 };
	fx.reg[0][0].backing = fx.runs[0];
	fx.reg[0][0].nr_backing = 1;
	set_region(&fx.reg[0][1], "cold", 0x7f0000b00000, 4 * MIB, 600, 0, 0, 600 * 4096,
		   424, 512, 88, 0);
	fx.reg[0][1].alloc_orders[0] = 88;
	fx.runs[1][0] = (struct side_backing_run){ PAGE_CLASS_ZERO, 512 };
	fx.runs[1][1] = (struct side_backing_run){ PAGE_CLASS_PTE, 88 };
	fx.runs[1][2] = (struct side_backing_run){ PAGE_CLASS_NONE, 424 };
	fx.reg[0][1].backing = fx.runs[1];
	fx.reg[0][1].nr_backing = 3;

	set_region(&fx.reg[1][0], "hot", 0x7f1000000000, 8 * MIB, 515, 3, 6 * MIB, 8 * MIB,
		   0, 0, 512, 1536);
	fx.reg[1][0].alloc_orders[9] = 3;
	fx.reg[1][0].alloc_orders[0] = 512;
	fx.runs[2][0] = (struct side_backing_run){ PAGE_CLASS_PMD, 1024 };
	fx.runs[2][1] = (struct side_backing_run){ PAGE_CLASS_PTE, 512 };
	fx.runs[2][2] = (struct side_backing_run){ PAGE_CLASS_PMD, 512 };
	fx.reg[1][0].backing = fx.runs[2];
	fx.reg[1][0].nr_backing = 3;
	set_region(&fx.reg[1][1], "cold", 0x7f1000b00000, 4 * MIB, 600, 0, 0, 600 * 4096,
		   424, 512, 88, 0);
	fx.reg[1][1].alloc_orders[0] = 88;

	L->regions = fx.reg[0];
	S->regions = fx.reg[1];
	L->nr_regions = S->nr_regions = 2;

	set_phase(&fx.ph[0][0], "touch", 0, 0, 4000000, 4, 4);
	set_phase(&fx.ph[0][1], "touch", 1, 4100000, 6000000, 600, 0);
	fx.ph[0][0].probe_free_ns = 3000000;	/* phase 0 ran in 3 ms without probes */
	set_phase(&fx.ph[0][2], "access", 0, 10200000, 1800000, 0, 0);
	set_phase(&fx.ph[1][0], "touch", 0, 500, 1200000, 515, 3);
	set_phase(&fx.ph[1][1], "touch", 1, 1200600, 1000000, 600, 0);
	set_phase(&fx.ph[1][2], "access", 0, 2200700, 299300, 0, 0);
	L->phases = fx.ph[0];
	S->phases = fx.ph[1];
	L->nr_phases = S->nr_phases = 3;

	fx.scan[0][0] = (struct side_named_count){ "pmd_none", 3 };
	fx.scan[0][1] = (struct side_named_count){ "succeeded", 1 };
	fx.scan[1][0] = (struct side_named_count){ "pmd_none", 3 };
	fx.scan[1][1] = (struct side_named_count){ "page_pmd_mapped", 1 };
	fx.coll[0] = (struct side_named_count){ "succeeded", 1 };
	L->scan_results = fx.scan[0];
	S->scan_results = fx.scan[1];
	L->nr_scan_results = S->nr_scan_results = 2;
	L->collapse_results = fx.coll;
	L->nr_collapse_results = 1;
	L->collapses = 1;
	fx.tlb[0][0] = (struct side_named_count){ "remote_shootdown", 5 };
	fx.tlb[0][1] = (struct side_named_count){ "local_mm_shootdown", 2 };
	fx.tlb[1][0] = (struct side_named_count){ "remote_shootdown", 4 };
	L->tlb_flushes = fx.tlb[0];
	L->nr_tlb_flushes = 2;
	L->tlb_flush_total = 7;
	S->tlb_flushes = fx.tlb[1];
	S->nr_tlb_flushes = 1;
	S->tlb_flush_total = 4;

	fx.faults[0] = calloc(604, sizeof(struct side_fault));
	n = add_faults(fx.faults[0], 0, 4, 0, 0, 500000, 3500000, 0x7f0000000000, 2 * MIB, 9,
		       150000, 450000);
	n = add_faults(fx.faults[0], n, 600, 1, 1, 4100000, 5800000, 0x7f0000b00000, 4096, 0,
		       900, 3000);
	L->faults = fx.faults[0];
	L->nr_faults = n;
	fx.faults[1] = calloc(1115, sizeof(struct side_fault));
	n = add_faults(fx.faults[1], 0, 3, 0, 0, 1000, 300000, 0x7f1000000000, 2 * MIB, 9,
		       90000, 20000);
	n = add_faults(fx.faults[1], n, 512, 0, 0, 300000, 800000, 0x7f1000400000, 4096, 0,
		       1500, 500);
	n = add_faults(fx.faults[1], n, 600, 1, 1, 1200600, 950000, 0x7f1000b00000, 4096, 0,
		       1200, 1500);
	S->faults = fx.faults[1];
	S->nr_faults = n;

	/*
	 * Kinds as the comparison would classify them: the THP faults of "hot";
	 * in "cold", 512 reads of the zero page, then 88 writes of 4 KiB pages,
	 * the last of Linux's cold (its first touch cost the host a fault); the
	 * simulated side's 512 fallback faults in "hot" are 4 KiB pages too.
	 */
	set_kinds(fx.faults[0], 0, 4, FAULT_thp);
	set_kinds(fx.faults[0], 4, 512, FAULT_zero_read);
	set_kinds(fx.faults[0], 516, 88, FAULT_anon_4k);
	fx.faults[0][603].cold = true;
	set_kinds(fx.faults[1], 0, 3, FAULT_thp);
	set_kinds(fx.faults[1], 3, 512, FAULT_anon_4k);
	set_kinds(fx.faults[1], 515, 512, FAULT_zero_read);
	set_kinds(fx.faults[1], 1027, 88, FAULT_anon_4k);

	L->json = side_json(false);
	S->json = side_json(true);

	set_metric(&fx.m[0], "faults", "all", 604, 1115, 511.0 / 604, 0.05, 0.2, false,
		   VERDICT_FAIL, "");
	set_metric(&fx.m[1], "thp_faults", "all", 4, 3, 0.25, 0.1, 0.3, false, VERDICT_WARN, "");
	set_metric(&fx.m[2], "huge_bytes", "all", 8 * MIB, 6 * MIB, 0.25, 0.1, 0.3, false,
		   VERDICT_WARN, "");
	set_metric(&fx.m[3], "backing_agreement", "all", NAN, NAN, 0.9, 0.99, 0.95, true,
		   VERDICT_FAIL, "");
	set_metric(&fx.m[4], "faults", "hot", 4, 515, 127.75, 0.05, 0.2, false, VERDICT_FAIL, "");
	set_metric(&fx.m[5], "backing_agreement", "cold", NAN, NAN, 1.0, 0.99, 0.95, true,
		   VERDICT_PASS, "from class counts (an upper bound)");
	set_metric(&fx.m[6], "runtime", "all", 12000000, 2500000, 0.7917, 0.5, 1.0, false,
		   VERDICT_WARN, "");
	set_metric(&fx.m[7], "phase_faults", "phase 1 touch", 600, 600, 0, 0.05, 0.2, false,
		   VERDICT_PASS, "");
	set_metric(&fx.m[8], "fault_latency_p50", "all", 2500, 2000, 0.2, 0.25, 0.5, false,
		   VERDICT_PASS, "");
	set_metric(&fx.m[9], "alloc_orders", "all", NAN, NAN, 0.5006, 0.05, 0.2, false,
		   VERDICT_FAIL, "");
	set_metric(&fx.m[10], "collapses", "all", 1, 0, 1, 0.1, 0.5, false, VERDICT_FAIL, "");
	set_metric(&fx.m[11], "fault_latency_wasserstein", "all", NAN, NAN, NAN, 0.5, 1, false,
		   VERDICT_NA, "no latencies on the simulated side");
	fx.m[6].klass = fx.m[8].klass = METRIC_TIMING;
	fx.m[11].klass = METRIC_INFO;
	/* the worst of each class; an uncalibrated simulated machine */
	fx.c = (struct comparison){ .linux_side = L, .sim_side = S, .metrics = fx.m,
				    .nr_metrics = 12, .functional = VERDICT_FAIL,
				    .timing = VERDICT_WARN, .tlb = VERDICT_NA, .overall = VERDICT_FAIL,
				    .complete = true, .calibrated = false };
}

/*
 * Make the comparison one of three Linux runs: runs 2 and 3 are run 1 with
 * every phase and fault latency 0.8 and 1.25 times as long (so run 1 is
 * the median of each), the same faults at the same times.
 */
static void fixture_three_runs(void)
{
	static const double scale[2] = { 0.8, 1.25 };
	static const char *const path[2] = { "out/unit/linux-2.json", "out/unit/linux-3.json" };

	for (int r = 0; r < 2; r++) {
		struct side *s = &fx.more[r];

		*s = fx.lx;
		s->path = (char *)path[r];
		s->json = NULL;
		s->runtime_ns = (uint64_t)((double)fx.lx.runtime_ns * scale[r]);
		for (size_t i = 0; i < 3; i++) {
			fx.more_ph[r][i] = fx.ph[0][i];
			fx.more_ph[r][i].runtime_ns = (uint64_t)((double)fx.ph[0][i].runtime_ns *
								  scale[r]);
		}
		s->phases = fx.more_ph[r];
		fx.more_faults[r] = calloc(fx.lx.nr_faults, sizeof(struct side_fault));
		cr_assert_not_null(fx.more_faults[r]);
		for (size_t i = 0; i < fx.lx.nr_faults; i++) {
			fx.more_faults[r][i] = fx.lx.faults[i];
			fx.more_faults[r][i].latency_ns = (uint64_t)((double)fx.lx.faults[i].latency_ns *
								      scale[r]);
		}
		s->faults = fx.more_faults[r];
	}
	fx.linux_runs[0] = &fx.lx;
	fx.linux_runs[1] = &fx.more[0];
	fx.linux_runs[2] = &fx.more[1];
	fx.c.linux_runs = fx.linux_runs;
	fx.c.nr_linux_runs = 3;
}

static void fixture_fini(void)
{
	cJSON_Delete(fx.lx.json);
	cJSON_Delete(fx.sm.json);
	free(fx.faults[0]);
	free(fx.faults[1]);
	free(fx.more_faults[0]);
	free(fx.more_faults[1]);
}

/* ---- helpers --------------------------------------------------------------------- */

static char tmpdir[64];

static void tmp_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vreport-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	fixture_init();
	tmp_init();
}

static void teardown(void)
{
	fixture_fini();
	if (!getenv("VIRTUOSO_KEEP_REPORT"))
		nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "kept %s\n", tmpdir);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static char *in_tmp(const char *name)
{
	static char path[4][256];
	static int slot;
	char *p = path[slot++ % 4];

	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The program on PATH, or NULL (static buffer). */

static void render(const struct report_options *o)
{
	struct wl_error err = { 0 };

	cr_assert_eq(report_write_opts(&fx.c, tmpdir, o, &err), 0, "%s: %s: %s", err.file,
		     err.path, err.msg);
}

/* ---- Markdown --------------------------------------------------------------------- */

TestSuite(report, .init = setup, .fini = teardown);

Test(report, markdown_has_the_verdict_rows)
{
	static const char *const rows[] = {
		"| Metric | Scope | Class | Linux | Simulated | Divergence | Warn if | Fail if | Verdict | "
		"Note |\n"
		"|---|---|---|---:|---:|---:|---:|---:|---|---|\n",
		"| faults | all | functional | 604 | 1115 | 0.846 | > 0.05 | > 0.2 | fail | |\n",
		"| thp_faults | all | functional | 4 | 3 | 0.25 | > 0.1 | > 0.3 | warn | |\n",
		"| huge_bytes | all | functional | 8 MiB | 6 MiB | 0.25 | > 0.1 | > 0.3 | warn | |\n",
		"| backing_agreement | all | functional | \u2014 | \u2014 | 0.9 | < 0.99 | < 0.95 | fail | |\n",
		"| faults | hot | functional | 4 | 515 | 127.8 | > 0.05 | > 0.2 | fail | |\n",
		"| backing_agreement | cold | functional | \u2014 | \u2014 | 1 | < 0.99 | < 0.95 | pass | "
		"from class counts (an upper bound) |\n",
		"| runtime | all | timing | 12 ms | 2.5 ms | 0.7917 | > 0.5 | > 1 | warn | |\n",
		"| phase_faults | phase 1 touch | functional | 600 | 600 | 0 | > 0.05 | > 0.2 | pass | |\n",
		"| fault_latency_p50 | all | timing | 2.5 \u00b5s | 2 \u00b5s | 0.2 | > 0.25 | > 0.5 | pass | |\n",
		"| alloc_orders | all | functional | \u2014 | \u2014 | 0.5006 | > 0.05 | > 0.2 | fail | |\n",
		"| fault_latency_wasserstein | all | info (not counted) | \u2014 | \u2014 | \u2014 | > 0.5 | "
		"> 1 | n/a | no latencies on the simulated side |\n",
	};
	struct report_options none = { .gnuplot = "" };
	char *md;

	render(&none);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		cr_expect_not_null(strstr(md, rows[i]), "report.md lacks the row\n%s", rows[i]);
	cr_expect_not_null(strstr(md, "**Overall verdict: fail** · results complete · 12 metrics: "
				  "3 pass, 3 warn, 5 fail, 1 n/a, 0 unstable"), "%s", md);
	cr_expect_not_null(strstr(md, "- fail: faults (all): 0.846, fails if > 0.2\n"));
	cr_expect_not_null(strstr(md, "- warn: runtime (all): 0.7917, warns if > 0.5\n"));
	/* the other tables */
	cr_expect_not_null(strstr(md, "| hot | simulated | 0x7f1000000000 | 8 MiB | 515 | 3 | "
				  "6 MiB | 8 MiB | 0 | 0 | 512 | 1536 |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "| 0 | touch | hot | 0 ns | 4 ms | 3 ms | 500 ns | 1.2 ms | 4 | "
				  "515 | 4 | 3 |\n"), "%s", md);
	/* no probe-free time for phase 1: a dash */
	cr_expect_not_null(strstr(md, "| 1 | touch | cold | 4.1 ms | 6 ms | \u2014 |"), "%s", md);
	cr_expect_not_null(strstr(md, "| 9 | 2 MiB | 4 | 3 |\n"));
	cr_expect_not_null(strstr(md, "| succeeded | 1 | 0 |\n"));
	cr_expect_not_null(strstr(md, "| page_pmd_mapped | 0 | 1 |\n"));
	cr_expect_not_null(strstr(md, "| total | 7 | 4 |\n"));
	cr_expect_not_null(strstr(md, "| defrag | madvise | always | yes |\n"));
	cr_expect_not_null(strstr(md, "| khugepaged.max_ptes_none | 511 | 511 | |\n"));
	cr_expect_not_null(strstr(md, "| mmu.stlb | sets=256, ways=8, latency=12, "
				  "replacement=lru |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "| mmu.nested.ntlb | sets=4, ways=4 |\n"));
	cr_expect_not_null(strstr(md, "| timing mode | interval |\n"));
	cr_expect_not_null(strstr(md, "| host.kernel | 6.18.0-test |\n"));
	cr_expect_null(strstr(md, "<svg"));
	free(md);
}

Test(report, first_screen_shows_both_verdicts_and_uncalibrated)
{
	static const char want_worst[] = "Worst failures:\n\n"
		"- fail: faults (hot) 515 vs Linux 4\n"
		"- fail: faults 1115 vs Linux 604\n"
		"- fail: alloc_orders 0.5006 (fails above 0.2)\n\n";
	struct report_options none = { .gnuplot = "" };
	char *md, *html, *worst;

	render(&none);
	md = slurp(in_tmp("report.md"));
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(md);
	cr_assert_not_null(html);
	/* functional: m0, m3, m4, m9, m10 fail, m1, m2 warn, m5, m7 pass; timing: m6 warn, m8 pass */
	cr_expect_not_null(strstr(md, "| Functional | Timing | TLB |\n|---|---|---|\n"
				  "| **fail** | **warn** (uncalibrated configuration) | **n/a** |\n"
				  "| faults, pages and their backing, allocation orders, collapses, TLB "
				  "flushes: 2 pass, 2 warn, 5 fail | runtimes, fault latency by kind: "
				  "1 pass, 1 warn | TLB misses, STLB hits, walks by page size and walk "
				  "cycles, against the host's hardware counters: no metrics |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "> **Warning:** Uncalibrated configuration: "));
	cr_expect_not_null(strstr(md, "timing verdict is expected to fail until the model is "
				  "calibrated for this host"));
	cr_expect_not_null(strstr(md, "Linux runs: 1. "));
	/*
	 * by how far past "fail if" each is: faults (hot) 127.75 / 0.2, faults
	 * (all) 0.846 / 0.2, alloc_orders 0.5006 / 0.2; then backing_agreement
	 * and collapses at 2, not shown
	 */
	worst = strstr(md, "Worst failures:\n\n");
	cr_assert_not_null(worst, "%s", md);
	cr_expect_eq(strncmp(worst, want_worst, strlen(want_worst)), 0, "%s", worst);
	cr_expect_not_null(strstr(html, "<span class=\"class-name\">Functional</span> "
				  "<span class=\"badge v-fail big\">fail</span>"));
	cr_expect_not_null(strstr(html, "<span class=\"class-name\">Timing</span> "
				  "<span class=\"badge v-warn big\">warn</span> "
				  "<span class=\"tag\">uncalibrated configuration</span>"));
	cr_expect_not_null(strstr(html, "<p class=\"warning\">Uncalibrated configuration: "));
	/* the first screen comes before the table of the two sides */
	cr_expect_lt(strstr(html, "Worst failures:"), strstr(html, "tool version"));
	free(md);
	free(html);
}

Test(report, first_screen_of_a_calibrated_run_says_nothing_of_calibration)
{
	struct report_options none = { .gnuplot = "" };
	char *md, *html;

	fx.c.calibrated = true;
	render(&none);
	md = slurp(in_tmp("report.md"));
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(md);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(md, "| **fail** | **warn** | **n/a** |\n"), "%s", md);
	/* nothing but the TLB section's word of where the TLB was checked instead */
	cr_expect_null(strstr(md, "ncalibrat"), "%s", md);
	cr_expect_null(strstr(html, "ncalibrat"));
	free(md);
	free(html);
}

Test(report, verdict_table_shows_the_band_of_linux_runs)
{
	struct report_options none = { .gnuplot = "" };
	char *md, *html;

	/* three runs of 10, 12 and 15 ms: median 12, band 10..15; 2.5 ms is 4x below 10 */
	fx.m[6].linux_lo = 10000000;
	fx.m[6].linux_hi = 15000000;
	fx.m[6].linux_runs = 3;
	fx.m[6].value = 10.0 / 2.5 - 1;
	fx.m[6].verdict = VERDICT_FAIL;
	/* three runs that agree on 604 faults: no range to show */
	fx.m[0].linux_runs = 3;
	render(&none);
	md = slurp(in_tmp("report.md"));
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(md);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(md, "| runtime | all | timing | 12 ms, 10 ms..15 ms (3 runs) | "
				  "2.5 ms | 3 | > 0.5 | > 1 | fail | |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "| faults | all | functional | 604 | 1115 |"), "%s", md);
	cr_expect_not_null(strstr(html, "<td class=\"num\">12 ms<br><span class=\"sub\">"
				  "10 ms..15 ms (3 runs)</span></td>"));
	/* the text above the table says what the error of a time and the band are */
	cr_expect_not_null(strstr(md, "max(sim / linux, linux / sim) - 1, the same for too "
				  "fast and too slow"));
	cr_expect_not_null(strstr(md, "A count or a time inside the band diverges by 0; "
				  "outside it, the error is taken from the band's nearest edge."));
	cr_expect_null(strstr(md, "Divergence is the relative error"), "the old, time-blind text");
	free(md);
	free(html);
}

Test(report, unstable_metric_renders_with_its_verdict)
{
	struct report_options none = { .gnuplot = "" };
	char *md, *html;

	/* Linux's runs found 590, 600 and 610 faults; the simulated 600 is inside */
	fx.m[7].linux_lo = 590;
	fx.m[7].linux_hi = 610;
	fx.m[7].linux_runs = 3;
	fx.m[7].verdict = VERDICT_UNSTABLE;
	snprintf(fx.m[7].note, sizeof(fx.m[7].note), "Linux unstable: 590..610 over 3 runs");
	render(&none);
	md = slurp(in_tmp("report.md"));
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(md);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(md, "| phase_faults | phase 1 touch | functional | 600, 590..610 "
				  "(3 runs) | 600 | 0 | > 0.05 | > 0.2 | unstable | Linux unstable: "
				  "590..610 over 3 runs |\n"), "%s", md);
	cr_expect_not_null(strstr(md, "12 metrics: 2 pass, 3 warn, 5 fail, 1 n/a, 1 unstable"));
	cr_expect_not_null(strstr(md, "- unstable: phase_faults (phase 1 touch): Linux's runs "
				  "disagree and the simulated value is inside their range"));
	cr_expect_not_null(strstr(html, "<td><span class=\"badge v-unstable\">unstable</span></td>"));
	cr_expect_not_null(strstr(html, ".v-unstable{"), "the verdict has its own style");
	free(md);
	free(html);
}

Test(report, info_metric_is_marked_as_not_counting)
{
	struct report_options none = { .gnuplot = "" };
	char *html;

	render(&none);
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(html, "<tr class=\"info\"><td class=\"nowrap\">"
				  "fault_latency_wasserstein</td><td class=\"nowrap\">all</td>"
				  "<td class=\"nowrap\">info (not counted)</td>"));
	cr_expect_not_null(strstr(html, "<span class=\"badge v-na muted\">n/a</span>"));
	/* that row, and the all-faults mix's two rows in the latency table */
	cr_expect_eq(count(html, "<tr class=\"info\">"), 3);
	cr_expect_not_null(strstr(html, "<tr class=\"info\"><td class=\"nowrap\">all (information "
				  "only)</td><td>Linux</td>"));
	free(html);
}

Test(report, markdown_is_the_same_without_gnuplot)
{
	struct report_options none = { .gnuplot = "/nonexistent/gnuplot" };
	char *a, *b;

	render(NULL);
	a = slurp(in_tmp("report.md"));
	render(&none);
	b = slurp(in_tmp("report.md"));
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_expect_str_eq(a, b);
	free(a);
	free(b);
}

/* ---- HTML ------------------------------------------------------------------------ */

/* Every id="..." / id='...' in the page is unique. */
static void expect_unique_ids(const char *html)
{
	size_t n = 0, cap = 4096;
	char **ids = calloc(cap, sizeof(*ids));

	for (const char *p = html; (p = strstr(p, "id=")); p += 3) {
		char q = p[3];
		const char *end;

		if ((q != '"' && q != '\'') || (p > html && p[-1] != ' ' && p[-1] != '\t' &&
						p[-1] != '\n'))
			continue;
		end = strchr(p + 4, q);
		cr_assert_not_null(end);
		cr_assert_lt(n, cap);
		ids[n] = strndup(p + 4, (size_t)(end - p - 4));
		for (size_t i = 0; i < n; i++)
			cr_expect_str_neq(ids[i], ids[n], "id \"%s\" appears twice", ids[n]);
		n++;
	}
	cr_expect_gt(n, 0);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

static void expect_self_contained(const char *html)
{
	cr_expect_eq(strncmp(html, "<!DOCTYPE html>\n<html lang=\"en\">", 31), 0);
	cr_expect_not_null(strstr(html, "<meta charset=\"utf-8\">"));
	cr_expect_not_null(strstr(html, "<style>"));
	cr_expect_not_null(strstr(html, "</html>\n"));
	cr_expect_null(strstr(html, "<?xml"), "an XML prolog inside HTML");
	cr_expect_null(strstr(html, "<!DOCTYPE svg"));
	cr_expect_null(strstr(html, "<script"), "the report runs no scripts");
	cr_expect_null(strstr(html, "<link"));
	cr_expect_null(strstr(html, "<img"));
	cr_expect_null(strstr(html, "src="));
	cr_expect_null(strstr(html, "@import"));
	cr_expect_null(strstr(html, "href=\"http"));
	cr_expect_null(strstr(html, "href='http"));
	cr_expect_null(strstr(html, "url(http"));
	cr_expect_eq(count(html, "<svg"), count(html, "</svg>"));
}

Test(report, html_has_an_inline_svg_per_plot)
{
	char *html;

	if (!which("gnuplot"))
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	render(NULL);
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(html);
	cr_expect_eq(count(html, "<svg class=\"plot\""), NR_PLOTS, "%zu plots",
		     count(html, "<svg class=\"plot\""));
	cr_expect_eq(count(html, "<svg"), NR_PLOTS);
	cr_expect_eq(count(html, "plot-missing"), 0, "a plot was not drawn");
	cr_expect_eq(count(html, "<figure>"), NR_PLOTS);
	cr_expect_not_null(strstr(html, "aria-label=\"Cumulative faults over time, Linux and "
				  "simulated\""));
	cr_expect_not_null(strstr(html, "aria-label=\"Backing of region hot per 2 MiB block"));
	cr_expect_not_null(strstr(html, "aria-label=\"Backing of region cold per 2 MiB block"));
	cr_expect_not_null(strstr(html, "aria-label=\"Fault latency CDF of thp faults"));
	cr_expect_not_null(strstr(html, "aria-label=\"Fault latency CDF of all faults "
				  "(information only)"));
	/* the sim side has no map of cold: its strip says so */
	cr_expect_not_null(strstr(html, "simulated: no backing map recorded"));
	expect_self_contained(html);
	expect_unique_ids(html);
	/* the same tables as report.md */
	cr_expect_not_null(strstr(html, "<td class=\"nowrap\">faults</td><td class=\"nowrap\">all</td>"
				  "<td class=\"nowrap\">functional</td><td class=\"num\">604</td>"
				  "<td class=\"num\">1115</td><td class=\"num\">0.846</td>"
				  "<td class=\"num\">&gt; 0.05</td><td class=\"num\">&gt; 0.2</td>"
				  "<td><span class=\"badge v-fail\">fail</span></td><td></td>"));
	cr_expect_not_null(strstr(html, "<tr class=\"differs\"><td>defrag</td>"));
	free(html);
}

Test(report, html_says_where_each_plot_would_be_without_gnuplot)
{
	struct report_options none = { .gnuplot = "/nonexistent/gnuplot" };
	char *html;

	render(&none);
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(html);
	cr_expect_eq(count(html, "<svg"), 0);
	cr_expect_eq(count(html, "<figure class=\"plot-missing\">"), NR_PLOTS);
	cr_expect_eq(count(html, "<strong>Plot not drawn:</strong> gnuplot was not found "
			   "(&quot;/nonexistent/gnuplot&quot;): install it (Debian: apt-get install "
			   "gnuplot-nox)"), NR_PLOTS);
	cr_expect_not_null(strstr(html, "No plots: gnuplot was not found"));
	expect_self_contained(html);
	free(html);
}

Test(report, html_notes_a_gnuplot_failure_and_still_writes)
{
	struct report_options bad;
	char *html, *fake = in_tmp("fake-gnuplot");
	FILE *f = fopen(fake, "w");

	cr_assert_not_null(f);
	fputs("#!/bin/sh\necho 'plot.gp line 3: boom' >&2\nexit 1\n", f);
	fclose(f);
	cr_assert_eq(chmod(fake, 0755), 0);
	bad = (struct report_options){ .gnuplot = fake };
	render(&bad);
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(html);
	cr_expect_eq(count(html, "<figure class=\"plot-missing\">"), NR_PLOTS);
	cr_expect_not_null(strstr(html, "gnuplot failed on fault_timeline.gp (exit status): "
				  "plot.gp line 3: boom"));
	free(html);
}

Test(report, plot_dir_keeps_data_and_scripts)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	struct stat st;
	static const char *const files[] = {
		"fault_timeline.gp", "fault_timeline-linux.dat", "fault_timeline-sim-phase.dat",
		"phase_runtime.gp", "phase_runtime.dat",
		"fault_latency.gp", "fault_latency-sim.dat", "fault_latency_thp.gp",
		"fault_latency_zero_read-linux.dat", "fault_latency_anon_4k-sim.dat",
		"backing_0.gp", "backing_1.dat",
		"alloc_orders.gp", "khugepaged_scan.gp", "khugepaged_collapse.dat", "tlb_flushes.gp",
	};

	render(&keep);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), "%s/plots/%s", tmpdir, files[i]);
		cr_expect_eq(stat(path, &st), 0, "%s missing", path);
	}
	if (which("gnuplot"))
		cr_expect_eq(stat(in_tmp("plots/backing_0.svg"), &st), 0);
}

Test(report, phase_runtimes_plot_linux_median_and_range_against_simulated)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char *dat, *md, *html;

	fixture_three_runs();
	render(&keep);
	/*
	 * ms per phase: Linux 4, 6, 1.8 times 0.8, 1 and 1.25 (median, min,
	 * max), simulated 1.2, 1, 0.2993
	 */
	dat = slurp(in_tmp("plots/phase_runtime.dat"));
	cr_assert_not_null(dat);
	cr_expect_not_null(strstr(dat, "\n0 4 3.2 5 1.2\n1 6 4.8 7.5 1\n2 1.8 1.44 2.25 0.2993\n"),
			   "%s", dat);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	cr_expect_not_null(strstr(md, "*Plot in report.html: Phase runtimes (log scale): Linux's "
				  "median over its 3 runs, the bar from the fastest to the slowest"));
	cr_expect_not_null(strstr(md, "The table shows Linux's first run"));
	if (which("gnuplot")) {
		html = slurp(in_tmp("report.html"));
		cr_assert_not_null(html);
		cr_expect_not_null(strstr(html, "aria-label=\"Phase runtimes, Linux&#39;s runs and "
					  "simulated\""));
		free(html);
	}
	free(dat);
	free(md);
}

Test(report, phase_runtime_labels_say_how_many_times_too_fast)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char *gp;

	/* phase 1: Linux 6 ms, simulated 1 ms: from the one run's value, 6x too fast */
	set_metric(&fx.m[7], "phase_runtime", "phase 1 touch", 6000000, 1000000, 5, 0.2, 1,
		   false, VERDICT_FAIL, "");
	fx.m[7].klass = METRIC_TIMING;
	render(&keep);
	gp = slurp(in_tmp("plots/phase_runtime.gp"));
	cr_assert_not_null(gp);
	cr_expect_not_null(strstr(gp, "set label 2 '6x too fast' at first 1, graph 0.95"), "%s", gp);
	cr_expect_eq(count(gp, "set label"), 1, "no metric, no label: %s", gp);
	free(gp);
}

Test(report, latency_cdf_per_kind_present_and_none_for_absent_kinds)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	static const enum fault_kind present[] = { FAULT_anon_4k, FAULT_zero_read, FAULT_thp };
	struct stat st;
	char *md, *html, path[128];

	render(&keep);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	for (unsigned k = 0; k < FAULT_KIND_NR; k++) {
		bool want = k == FAULT_anon_4k || k == FAULT_zero_read || k == FAULT_thp;
		char heading[96];

		snprintf(path, sizeof(path), "plots/fault_latency_%s.gp", fault_kind_name(k));
		cr_expect_eq(stat(in_tmp(path), &st) == 0, want, "%s: %s", path,
			     want ? "missing" : "drawn for an absent kind");
		snprintf(heading, sizeof(heading), "\n### %s: %s\n", fault_kind_name(k),
			 fault_kind_desc(k));
		cr_expect_eq(strstr(md, heading) != NULL, want, "%s", heading);
	}
	/* the mix of all, marked as information only, after the kinds */
	cr_expect_gt(strstr(md, "### All faults together (information only)"),
		     strstr(md, "### thp: 2 MiB THP"));
	if (which("gnuplot")) {
		html = slurp(in_tmp("report.html"));
		cr_assert_not_null(html);
		for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
			snprintf(path, sizeof(path), "aria-label=\"Fault latency CDF of %s faults, ",
				 fault_kind_name(present[i]));
			cr_expect_eq(count(html, path), 1, "%s", path);
		}
		cr_expect_eq(count(html, "aria-label=\"Fault latency CDF of "), 4);
		free(html);
	}
	free(md);
}

Test(report, latency_envelope_spans_the_fastest_to_the_slowest_run)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	/*
	 * Linux's four THP faults take 150000, 157919, 165838 and 173757 ns in
	 * run 1, 0.8 times that in run 2 (truncated to ns), 1.25 times in run 3.
	 * Each quantile step is a quarter: up run 2 (the fastest), down run 3.
	 */
	static const char band[] =
		"120000 0\n120000 0.25\n126335 0.25\n126335 0.5\n132670 0.5\n132670 0.75\n"
		"139005 0.75\n139005 1\n"
		"217196 1\n217196 0.75\n207297 0.75\n207297 0.5\n197398 0.5\n197398 0.25\n"
		"187500 0.25\n187500 0\n120000 0\n";
	/* the median of the three at each step is run 1 */
	static const char median[] =
		"150000 0\n150000 0.25\n157919 0.25\n157919 0.5\n165838 0.5\n165838 0.75\n"
		"173757 0.75\n173757 1\n";
	/* the simulated side's three, stepping by thirds */
	static const char sim[] =
		"90000 0\n90000 0.333333\n97919 0.333333\n97919 0.666667\n105838 0.666667\n"
		"105838 1\n";
	char *b, *m, *sm, *md;

	fixture_three_runs();
	render(&keep);
	b = slurp(in_tmp("plots/fault_latency_thp-linux-band.dat"));
	m = slurp(in_tmp("plots/fault_latency_thp-linux.dat"));
	sm = slurp(in_tmp("plots/fault_latency_thp-sim.dat"));
	md = slurp(in_tmp("report.md"));
	cr_assert(b && m && sm && md);
	cr_expect_str_eq(b, band);
	cr_expect_str_eq(m, median);
	cr_expect_str_eq(sm, sim);
	cr_expect_not_null(strstr(md, "thp (2 MiB THP): latency CDF (log-scale x), Linux measured "
				  "(4 faults, shaded: the range of its runs, line: their median) and "
				  "MimicOS simulated (3 faults). Cold faults left out: Linux 0, "
				  "simulated 0"), "%s", md);
	/* the table: Linux's median quantile with the range of its runs */
	cr_expect_not_null(strstr(md, "| thp | Linux | 4 | 0 | 157.9 \u00b5s, 126.3 \u00b5s..197.4 "
				  "\u00b5s (3 runs) |"), "%s", md);
	free(b);
	free(m);
	free(sm);
	free(md);
}

Test(report, one_linux_run_draws_no_envelope)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	struct stat st;
	char *gp;

	render(&keep);
	cr_expect_neq(stat(in_tmp("plots/fault_latency_thp-linux-band.dat"), &st), 0);
	gp = slurp(in_tmp("plots/fault_latency_thp.gp"));
	cr_assert_not_null(gp);
	cr_expect_null(strstr(gp, "filledcurves"));
	cr_expect_not_null(strstr(gp, "title 'Linux: measured kernel latency (4 faults)'"));
	free(gp);
}

Test(report, cold_faults_are_left_out_of_their_kind_and_counted)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char *md;

	render(&keep);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	/* Linux's 88 anon_4k faults, one cold: 87 in the CDF; the mix keeps it */
	cr_expect_not_null(strstr(md, "| anon_4k | Linux | 87 | 1 |"), "%s", md);
	cr_expect_not_null(strstr(md, "| anon_4k | simulated | 600 | 0 |"), "%s", md);
	cr_expect_not_null(strstr(md, "| all (information only) | Linux | 604 | 1 kept |"), "%s", md);
	cr_expect_not_null(strstr(md, "Cold faults left out: Linux 1, simulated 0"), "%s", md);
	free(md);
}

Test(report, timeline_follows_the_simulated_clock)
{
	static const char want[] = "0 0\n0.001 1\n0.101 2\n0.201 3\n0.3 4\n0.301562 5\n";
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char *dat, *md;

	render(&keep);
	/*
	 * The simulated THP faults at 1000 + 300000 i / 3 ns, then the first of
	 * the 512 fallback faults at 300000 and 300000 + 800000 / 512 ns: in ms,
	 * counted one by one.
	 */
	dat = slurp(in_tmp("plots/fault_timeline-sim.dat"));
	md = slurp(in_tmp("report.md"));
	cr_assert(dat && md);
	cr_expect_eq(strncmp(dat, want, strlen(want)), 0, "%.200s", dat);
	cr_expect_null(strstr(md, "carry one time"), "%s", md);
	free(dat);
	free(md);
}

Test(report, timeline_says_when_a_side_does_not_time_its_faults)
{
	char *md;

	/* all but the first at one instant, as a log without fault times has it */
	for (size_t i = 1; i < fx.sm.nr_faults; i++)
		fx.faults[1][i].t_ns = 126000;
	render(NULL);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	cr_expect_not_null(strstr(md, "*1114 of the simulated side's 1115 faults carry one time "
				  "(126 \u00b5s): its event log does not time them"), "%s", md);
	cr_expect_eq(count(md, "carry one time"), 1, "Linux's faults are timed");
	free(md);
}

Test(report, timeline_draws_linux_first_run)
{
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char *gp, *md;

	fixture_three_runs();
	render(&keep);
	gp = slurp(in_tmp("plots/fault_timeline.gp"));
	md = slurp(in_tmp("report.md"));
	cr_assert(gp && md);
	cr_expect_not_null(strstr(gp, "title 'Linux, first run (604 faults)'"), "%s", gp);
	cr_expect_not_null(strstr(md, "Linux's curve is its first run's, the one whose "
				  "addresses the simulated side used."));
	free(gp);
	free(md);
}

Test(report, backing_map_missing_on_both_sides_is_said)
{
	char *md, *html;

	fx.reg[0][1].backing = NULL;
	fx.reg[0][1].nr_backing = 0;
	render(NULL);
	md = slurp(in_tmp("report.md"));
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(md);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(md, "### Region cold (4 MiB at 0x7f0000b00000 on Linux)\n\n"
				  "*The backing map is not available: neither side recorded one "
				  "for this region"), "%s", md);
	cr_expect_not_null(strstr(html, "<p class=\"note\">The backing map is not available"));
	cr_expect_eq(count(html, "<svg"), which("gnuplot") ? NR_PLOTS - 1 : 0);
	free(md);
	free(html);
}

Test(report, names_are_escaped)
{
	char *md, *html;

	fx.reg[0][0].name = fx.reg[1][0].name = "a|b<i>&'x";
	snprintf(fx.m[4].scope, sizeof(fx.m[4].scope), "a|b<i>&'x");
	render(NULL);
	md = slurp(in_tmp("report.md"));
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(md);
	cr_assert_not_null(html);
	cr_expect_not_null(strstr(md, "| faults | a\\|b<i>&'x | functional | 4 | 515 |"), "%s", md);
	cr_expect_not_null(strstr(html, "<td class=\"nowrap\">a|b&lt;i&gt;&amp;&#39;x</td>"));
	cr_expect_null(strstr(html, "<i>"));
	free(md);
	free(html);
}

Test(report, sides_without_logs_or_metrics_still_render)
{
	char *md;

	fixture_fini();
	fx.lx.json = fx.sm.json = NULL;
	fx.faults[0] = fx.faults[1] = NULL;
	fx.lx.faults = fx.sm.faults = NULL;
	fx.lx.has_log = fx.sm.has_log = false;
	fx.lx.nr_faults = fx.sm.nr_faults = 0;
	fx.c.nr_metrics = 0;
	fx.lx.complete = false;
	fx.lx.dropped_events = 12;
	fx.c.complete = false;
	render(NULL);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	cr_expect_not_null(strstr(md, "results **incomplete**"));
	cr_expect_not_null(strstr(md, "> **Warning:** The Linux side is incomplete (12 events "
				  "dropped)"));
	cr_expect_not_null(strstr(md, "*Neither side has an event log, so there are no per-fault "
				  "records to draw a timeline from.*"));
	cr_expect_not_null(strstr(md, "*Neither side recorded fault latencies (no event logs).*"));
	cr_expect_not_null(strstr(md, "*The comparison holds no metrics.*"));
	cr_expect_not_null(strstr(md, "*Neither side recorded its kernel policy"));
	free(md);
}

Test(report, odd_inputs_still_plot)
{
	char *html;

	if (!which("gnuplot"))
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	/* no phases, a log without faults, one-sided histograms, a one-page region */
	fx.lx.nr_phases = fx.sm.nr_phases = 0;
	fx.sm.nr_faults = 0;
	fx.lx.nr_scan_results = 0;
	fx.sm.nr_tlb_flushes = 0;
	fx.reg[0][1].size = fx.reg[1][1].size = 4096;
	fx.runs[1][0].pages = 1;
	render(NULL);
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(html);
	cr_expect_eq(count(html, "plot-missing"), 0, "%s",
		     strstr(html, "plot-missing") ? strstr(html, "plot-missing") : "");
	/* no phases: no phase runtimes to draw, a note instead */
	cr_expect_eq(count(html, "<svg"), NR_PLOTS - 1);
	cr_expect_not_null(strstr(html, "<p class=\"note\">Neither side recorded phases.</p>"));
	free(html);
}

Test(report, refuses_a_missing_directory_and_writes_nothing)
{
	struct wl_error err = { 0 };
	char *dir = in_tmp("no/such/dir");

	cr_expect_eq(report_write(&fx.c, dir, &err), -1);
	cr_expect_str_eq(err.file, dir);
	cr_expect_not_null(strstr(err.msg, "No such file or directory"), "%s", err.msg);
	cr_expect_eq(report_write(&fx.c, in_tmp(""), &err), 0);
	cr_expect_eq(report_write(&fx.c, in_tmp("report.md"), &err), -1);
	cr_expect_not_null(strstr(err.msg, "not a directory"), "%s", err.msg);
}

Test(report, replaces_old_reports_and_leaves_no_temporaries)
{
	FILE *f = fopen(in_tmp("report.md"), "w");
	struct dirent *e;
	DIR *d;
	char *md;
	int n = 0;

	cr_assert_not_null(f);
	fputs("old\n", f);
	fclose(f);
	render(NULL);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	cr_expect_eq(strncmp(md, "# Workload unit-mixed: Linux vs simulated\n", 42), 0, "%s", md);
	free(md);
	d = opendir(tmpdir);
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))) {
			cr_expect(!strcmp(e->d_name, "report.md") || !strcmp(e->d_name, "report.html"),
				  "left behind: %s", e->d_name);
			n++;
		}
	closedir(d);
	cr_expect_eq(n, 2);
}

/* ---- in a browser ------------------------------------------------------------------ */

/* A copy of the page with a script that writes what it finds about each <svg> into the DOM. */
static void write_probe_page(const char *html, const char *path)
{
	const char *body = strstr(html, "</body>");
	FILE *f = fopen(path, "w");

	cr_assert_not_null(body);
	cr_assert_not_null(f);
	fwrite(html, 1, (size_t)(body - html), f);
	fputs("<script>(function(){var s=document.querySelectorAll('svg'),ok=0,bad=[];"
	      "for(var i=0;i<s.length;i++){var r=s[i].getBoundingClientRect(),b;"
	      "try{b=s[i].getBBox();}catch(e){b={width:0,height:0};}"
	      "if(r.width>100&&r.height>50&&b.width>0&&b.height>0)ok++;else bad.push(i);}"
	      "var p=document.createElement('pre');p.id='svgcheck';"
	      "p.textContent='svgcheck total='+s.length+' ok='+ok+' bad=['+bad.join(',')+']';"
	      "document.body.appendChild(p);})();</script>\n", f);
	fputs(body, f);
	fclose(f);
}

Test(report, renders_in_a_browser_with_every_plot)
{
	const char *chromium = browser_or_skip();
	char exe[512], profile[300], window[] = "--window-size=1280,2000", shot_arg[320];
	char url[320], page[300], *dom, *html, want[64];
	struct png img = { 0 };
	size_t ink = 0, colour = 0, n;

	snprintf(exe, sizeof(exe), "%s", chromium);
	if (!which("gnuplot"))
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	render(NULL);
	html = slurp(in_tmp("report.html"));
	cr_assert_not_null(html);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s", in_tmp("profile"));

	/* 1. every <svg> laid out with a size and drawn content */
	snprintf(page, sizeof(page), "%s", in_tmp("probe.html"));
	write_probe_page(html, page);
	snprintf(url, sizeof(url), "file://%s", page);
	{
		char *argv[] = { exe, "--headless", "--disable-gpu", "--no-sandbox",
				 "--no-first-run", "--disable-dev-shm-usage", profile, window,
				 "--dump-dom", url, NULL };

		cr_assert_eq(run_timed(argv, in_tmp("dom.html"), in_tmp("chromium.err"), 90), 0,
			     "chromium --dump-dom failed (see %s)", in_tmp("chromium.err"));
	}
	dom = slurp(in_tmp("dom.html"));
	cr_assert_not_null(dom);
	n = count(html, "<svg");
	snprintf(want, sizeof(want), "svgcheck total=%zu ok=%zu bad=[]", n, n);
	cr_expect_eq(n, NR_PLOTS);
	cr_expect_not_null(strstr(dom, want), "want \"%s\", the browser says \"%.80s\"", want,
			   strstr(dom, "svgcheck") ? strstr(dom, "svgcheck") : "nothing");

	/* 2. a screenshot of the report itself that is not blank */
	snprintf(shot_arg, sizeof(shot_arg), "--screenshot=%s", in_tmp("report.png"));
	snprintf(url, sizeof(url), "file://%s", in_tmp("report.html"));
	{
		char *argv[] = { exe, "--headless", "--disable-gpu", "--no-sandbox",
				 "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
				 profile, window, shot_arg, url, NULL };

		cr_assert_eq(run_timed(argv, in_tmp("shot.out"), in_tmp("chromium.err"), 90), 0,
			     "chromium --screenshot failed (see %s)", in_tmp("chromium.err"));
	}
	png_read(in_tmp("report.png"), &img);
	cr_expect_eq(img.w, 1280);
	cr_expect_eq(img.h, 2000);
	for (size_t i = 0; i < (size_t)img.w * img.h; i++) {
		const uint8_t *q = img.px + i * 4;
		int lo = q[0] < q[1] ? (q[0] < q[2] ? q[0] : q[2]) : (q[1] < q[2] ? q[1] : q[2]);
		int hi = q[0] > q[1] ? (q[0] > q[2] ? q[0] : q[2]) : (q[1] > q[2] ? q[1] : q[2]);

		ink += hi < 200;		/* text, lines, dark fills */
		colour += hi - lo > 60;		/* badges, plot series, class colours */
	}
	/* text and tables cover a few percent of a page; colour comes from badges and plots */
	cr_expect_gt(ink, (size_t)img.w * img.h / 100, "only %zu dark pixels: blank?", ink);
	cr_expect_gt(colour, 2000, "only %zu coloured pixels", colour);
	free(img.px);
	free(dom);
	free(html);
}

/* Pixels within 'tol' of rgb in each channel. */
static size_t pixels_near(const struct png *img, int r, int g, int b, int tol)
{
	size_t n = 0;

	for (size_t i = 0; i < (size_t)img->w * img->h; i++) {
		const uint8_t *q = img->px + i * 4;

		n += abs(q[0] - r) <= tol && abs(q[1] - g) <= tol && abs(q[2] - b) <= tol;
	}
	return n;
}

Test(report, latency_envelope_is_not_blank_in_a_browser)
{
	const char *chromium = browser_or_skip();
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char exe[512], profile[300], window[] = "--window-size=960,400", shot_arg[320], url[320];
	struct png img = { 0 };
	size_t band, line;

	snprintf(exe, sizeof(exe), "%s", chromium);
	if (!which("gnuplot"))
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	fixture_three_runs();
	render(&keep);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s", in_tmp("profile"));
	snprintf(shot_arg, sizeof(shot_arg), "--screenshot=%s", in_tmp("band.png"));
	snprintf(url, sizeof(url), "file://%s", in_tmp("plots/fault_latency_thp.svg"));
	{
		char *argv[] = { exe, "--headless", "--disable-gpu", "--no-sandbox",
				 "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
				 profile, window, shot_arg, url, NULL };

		cr_assert_eq(run_timed(argv, in_tmp("shot.out"), in_tmp("chromium.err"), 90), 0,
			     "chromium --screenshot failed (see %s)", in_tmp("chromium.err"));
	}
	png_read(in_tmp("band.png"), &img);
	/*
	 * Linux's colour (#3465a4) at a quarter over white is (204, 216, 232):
	 * the envelope spans 120 to 217 us over two decades of an axis some 880
	 * pixels wide, about 110 pixels at its widest, the height of the plot:
	 * thousands of pixels. The median line is Linux's colour itself.
	 */
	band = pixels_near(&img, 204, 216, 232, 10);
	line = pixels_near(&img, 0x34, 0x65, 0xa4, 40);
	cr_expect_gt(band, 3000, "only %zu pixels of the envelope", band);
	cr_expect_gt(line, 200, "only %zu pixels of the median line", line);
	free(img.px);
}

/*
 * The shootdowns on the timeline: each side's flushes at their times (ms),
 * on their CPU, a point type by reason (7 local, 9 remote, 11 IPI sent);
 * the report says what the marks are.
 */
Test(report, timeline_marks_each_sides_tlb_flushes_on_their_cpu)
{
	static struct side_flush sim_flushes[] = {
		{ 1500000, 0, 4 }, { 1500000, 0, 3 }, { 1502000, 1, 1 },
	};
	struct report_options keep = { .plot_dir = in_tmp("plots") };
	char *dat, *gp, *md;

	fx.sm.flushes = sim_flushes;
	fx.sm.nr_flushes = 3;
	render(&keep);
	fx.sm.flushes = NULL;
	fx.sm.nr_flushes = 0;
	dat = slurp(in_tmp("plots/fault_timeline-sim-flush.dat"));
	gp = slurp(in_tmp("plots/fault_timeline.gp"));
	md = slurp(in_tmp("report.md"));
	cr_assert(dat && gp && md);
	cr_expect_str_eq(dat, "1.5 0 11\n1.5 0 7\n1.502 1 9\n");
	cr_expect_not_null(strstr(gp, "set y2range [-0.5:1.5]"), "%s", gp);
	cr_expect_not_null(strstr(gp, "simulated: 3 TLB flushes"), "%s", gp);
	cr_expect_null(strstr(gp, "fault_timeline-linux-flush.dat"), "Linux flushed nothing");
	cr_expect_not_null(strstr(md, "TLB flushes"), "%s", md);
	free(dat);
	free(gp);
	free(md);
}

/*
 * A spec with threads: a Threads section with each thread's CPU and faults
 * on both sides, and the flushes by CPU and the cross-calls under TLB
 * flushes; one thread, neither.
 */
Test(report, threads_get_their_section_and_the_flushes_by_cpu)
{
	static uint64_t lf[2] = { 40, 63 }, sf[2] = { 40, 64 };
	static uint64_t tids[2] = { 901, 902 }, idx[2] = { 0, 1 };
	static int64_t cpus[2] = { 0, 1 };
	static struct side_named_count lcpu[2] = { { "0", 5 }, { "1", 1 } };
	static struct side_named_count scpu[1] = { { "0", 5 } };
	char *md;

	render(NULL);
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	cr_expect_null(strstr(md, "## Threads"), "one thread: no section");
	free(md);

	fx.lx.thread_faults = lf;
	fx.lx.thread_tids = tids;
	fx.lx.thread_cpus = cpus;
	fx.lx.nr_threads = 2;
	fx.sm.thread_faults = sf;
	fx.sm.thread_tids = idx;
	fx.sm.thread_cpus = cpus;
	fx.sm.nr_threads = 2;
	fx.lx.tlb_by_cpu = lcpu;
	fx.lx.nr_tlb_by_cpu = 2;
	fx.sm.tlb_by_cpu = scpu;
	fx.sm.nr_tlb_by_cpu = 1;
	fx.lx.has_tlb_ipis = fx.sm.has_tlb_ipis = true;
	fx.lx.tlb_ipis_sent = fx.lx.tlb_ipis_received = 1;
	render(NULL);
	fx.lx.thread_faults = NULL;
	fx.lx.thread_tids = NULL;
	fx.lx.thread_cpus = NULL;
	fx.lx.nr_threads = fx.sm.nr_threads = 0;
	fx.sm.thread_faults = NULL;
	fx.sm.thread_tids = NULL;
	fx.sm.thread_cpus = NULL;
	fx.lx.tlb_by_cpu = fx.sm.tlb_by_cpu = NULL;
	fx.lx.nr_tlb_by_cpu = fx.sm.nr_tlb_by_cpu = 0;
	md = slurp(in_tmp("report.md"));
	cr_assert_not_null(md);
	cr_expect_not_null(strstr(md, "## Threads"), "%s", md);
	cr_expect_not_null(strstr(md, "| 1 | 1 | 63 | 1 | 64 |"), "%s", md);
	cr_expect_not_null(strstr(md, "| 1 | 1 | 0 |"), "CPU 1: 1 flush on Linux, none simulated");
	cr_expect_not_null(strstr(md, "| queued | 1 | 0 |"), "%s", md);
	free(md);
}
