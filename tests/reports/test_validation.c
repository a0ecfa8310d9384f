/*
 * test_validation.c - the paper material virtuoso validate writes
 * (reports/validation.h): from a suite made by hand, the CSV rows and the
 * TeX table's cells are the suite's numbers, and the TeX compiles with
 * pdflatex; from the shipped bundle, every figure is an SVG with content
 * and a PDF, every file carries the provenance, and validation.html renders
 * in Chromium with every figure loaded; a history grows by a line a run and
 * a bad line is refused naming the file and the line.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "reports/validation.h"
#include "tests/browser.h"
#include "tests/files.h"
#include "tests/run.h"
#include "workload/json.h"

static char tmp[] = "/tmp/vtest-valdoc-XXXXXX";

static void mk(void)
{
	tmp_make(tmp);
}

static void rm(void)
{
	tmp_remove(tmp);
}

static char *slurp(const char *name)
{
	return slurp_in(tmp, name);
}

/*
 * One workload: runtime 2 ms on Linux (band 1.8..2.5), 2.5 ms simulated,
 * error 0; an anon_4k p50 of 1500 ns against 1200, error 0.25; two
 * functional metrics, one passing.
 */
static const char suite_text[] =
	"{\"provenance\": {\"tool\": {\"version\": \"9.9\", \"commit\": \"abc1234\"},"
	" \"config_hash\": \"fnv1a64:00000000deadbeef\", \"config\": \"cal.json\","
	" \"reference\": {\"dir\": \"ref\", \"date\": \"2026-01-02T03:04:05Z\", \"host\": {"
	"  \"cpu\": {\"vendor\": \"V\", \"model_name\": \"Some CPU\", \"key\": \"V:1:2\"},"
	"  \"guest\": true, \"kernel\": \"6.18.0-test\"}}},"
	"\"metrics\": [{\"name\": \"runtime\", \"sim\": {\"n\": 1, \"measured\": 1, \"mape\": 0,"
	" \"max\": 0, \"pass\": 1, \"aggregate\": 0.25, \"pearson_r\": null, \"kendall_tau\": null}},"
	" {\"name\": \"fault_latency_p50\", \"sim\": {\"n\": 1, \"measured\": 1, \"mape\": 0.25,"
	" \"max\": 0.25, \"pass\": 0, \"aggregate\": 0.25, \"pearson_r\": null,"
	" \"kendall_tau\": null}}],"
	"\"functional\": [{\"name\": \"faults\", \"sim\": {\"n\": 1, \"pass\": 1}},"
	" {\"name\": \"thp_faults\", \"sim\": {\"n\": 1, \"pass\": 0}}],"
	"\"workloads\": [{\"workload\": \"my_load\", \"dir\": \"my_load\", \"linux_runs\": 3,"
	" \"metrics\": ["
	"  {\"name\": \"runtime\", \"scope\": \"all\", \"linux\": 2000000, \"linux_lo\": 1800000,"
	"   \"linux_hi\": 2500000, \"tolerance\": 0.1,"
	"   \"sim\": {\"sim\": 2500000, \"error\": 0, \"verdict\": \"pass\"}},"
	"  {\"name\": \"fault_latency_p50\", \"scope\": \"anon_4k\", \"linux\": 1500,"
	"   \"linux_lo\": 1500, \"linux_hi\": 1500, \"tolerance\": 0.1,"
	"   \"sim\": {\"sim\": 1200, \"error\": 0.25, \"verdict\": \"fail\"}}],"
	" \"functional\": ["
	"  {\"name\": \"faults\", \"scope\": \"all\", \"linux\": 10,"
	"   \"sim\": {\"sim\": 10, \"error\": 0, \"verdict\": \"pass\"}},"
	"  {\"name\": \"thp_faults\", \"scope\": \"buf, the big one\", \"linux\": 2,"
	"   \"sim\": {\"sim\": 3, \"error\": 0.5, \"verdict\": \"fail\"}}]}]}";

Test(validation, csv_and_tex_hold_the_suites_numbers, .init = mk, .fini = rm)
{
	struct report_options none = { .gnuplot = "" };
	struct wl_error err = { 0 };
	cJSON *suite = cJSON_Parse(suite_text);
	char *csv, *tex;

	cr_assert_not_null(suite);
	cr_assert_eq(validation_docs_write(suite, NULL, NULL, tmp, &none, &err), 0, "%s: %s",
		     err.file, err.msg);
	csv = slurp("validation.csv");
	cr_expect_eq(strncmp(csv, "# virtuoso 9.9 (commit abc1234); configuration "
			     "fnv1a64:00000000deadbeef (cal.json); Linux recorded "
			     "2026-01-02T03:04:05Z on Some CPU (V:1:2), kernel 6.18.0-test, guest\n",
			     164), 0, "%s", csv);
	cr_expect_not_null(strstr(csv, "\nworkload,class,metric,scope,linux,linux_lo,linux_hi,sim,"
				  "error,verdict,tolerance\n"), "%s", csv);
	cr_expect_not_null(strstr(csv, "\nmy_load,timing,runtime,all,2000000,1800000,2500000,"
				  "2500000,0,pass,0.1\n"), "%s", csv);
	cr_expect_not_null(strstr(csv, "\nmy_load,timing,fault_latency_p50,anon_4k,1500,1500,1500,"
				  "1200,0.25,fail,0.1\n"), "%s", csv);
	/* a scope with a comma is quoted; a functional metric has no band or tolerance */
	cr_expect_not_null(strstr(csv, "\nmy_load,functional,thp_faults,\"buf, the big one\",2,,,3,"
				  "0.5,fail,\n"), "%s", csv);
	tex = slurp("validation.tex");
	/* ms and µs, the error in percent, the name escaped, 1 of 2 functional metrics */
	cr_expect_not_null(strstr(tex, "my\\_load & 2.00 & 2.50 & 0.0\\% & anon\\_4k & 1.50 & "
				  "1.20 & 25.0\\% & 1/2 \\\\\n"), "%s", tex);
	cr_expect_not_null(strstr(tex, "Suite (1), MAPE & & & 0.0\\% & & & & 25.0\\% & 1/2"), "%s",
			   tex);
	cr_expect_not_null(strstr(tex, "% virtuoso 9.9 (commit abc1234)"), "%s", tex);
	cr_expect_not_null(strstr(tex, "\\toprule") && strstr(tex, "\\bottomrule"));
	free(csv);
	free(tex);
	cJSON_Delete(suite);
}

Test(validation, the_table_compiles_with_pdflatex, .init = mk, .fini = rm, .timeout = 120)
{
	struct report_options none = { .gnuplot = "" };
	struct wl_error err = { 0 };
	cJSON *suite = cJSON_Parse(suite_text);
	char cmd[512], path[300];
	struct stat st;
	FILE *f;

	if (!which("pdflatex"))
		cr_skip_test("pdflatex is not installed (Debian: apt-get install texlive-latex-base "
			     "texlive-latex-recommended)");
	cr_assert_eq(validation_docs_write(suite, NULL, NULL, tmp, &none, &err), 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/paper.tex", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
	      "\\input{validation.tex}\n\\end{document}\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && pdflatex -interaction=nonstopmode -halt-on-error "
		 "paper.tex >pdflatex.log 2>&1", tmp);
	cr_expect_eq(system(cmd), 0, "pdflatex failed: see %s/pdflatex.log", tmp);
	snprintf(path, sizeof(path), "%s/paper.pdf", tmp);
	cr_expect(!stat(path, &st) && st.st_size > 1000, "no paper.pdf");
	cJSON_Delete(suite);
}

/* bin/virtuoso validate on the shipped bundle into tmp/out. */
static void validate_shipped(struct result *r, const char *extra1, const char *extra2)
{
	char ref[512], out[300];
	glob_t g;

	cr_assert_eq(glob("datasets/reference/*/manifest.json", 0, NULL, &g), 0);
	snprintf(ref, sizeof(ref), "%.*s", (int)(strlen(g.gl_pathv[0]) - strlen("/manifest.json")),
		 g.gl_pathv[0]);
	globfree(&g);
	snprintf(out, sizeof(out), "%s/out", tmp);
	run_as(r, -1, (const char *const[]){ "validate", "--reference", ref, "-o", out, extra1,
					     extra2, NULL });
}

Test(validation, every_figure_is_drawn_as_svg_and_pdf_with_its_provenance, .init = mk,
     .fini = rm, .timeout = 300)
{
	static const char *const stems[] = { "scatter_runtime", "scatter_phase_runtime",
					      "scatter_fault_latency_p50",
					      "scatter_fault_latency_p90",
					      "scatter_fault_latency_p99", "workload_errors",
					      "cdf_anon_4k", "cdf_thp", "cdf_grid" };
	struct result *r = malloc(sizeof(*r));
	char name[300], *json, *html;
	cJSON *v;
	const char *commit;

	if (!which("gnuplot"))
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	cr_assert_not_null(r);
	validate_shipped(r, NULL, NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	json = slurp("out/validation.json");
	v = cJSON_Parse(json);
	commit = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "provenance"),
							 "tool"), "commit")->valuestring;
	for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
		char *svg, *pdf;
		size_t paths = 0;

		snprintf(name, sizeof(name), "out/figures/%s.svg", stems[i]);
		svg = slurp(name);
		for (const char *s = svg; (s = strstr(s, "<path")); s++)
			paths++;
		/* axes, grid, curves or points: far more than a frame */
		cr_expect_gt(paths, 20, "%s: %zu paths: blank?", name, paths);
		cr_expect_not_null(strstr(svg, commit), "%s: no provenance (%s)", name, commit);
		free(svg);
		snprintf(name, sizeof(name), "out/figures/%s.pdf", stems[i]);
		pdf = slurp(name);
		cr_expect_eq(strncmp(pdf, "%PDF", 4), 0, "%s is no PDF", name);
		free(pdf);
	}
	html = slurp("out/validation.html");
	cr_expect_not_null(strstr(html, commit), "validation.html: no provenance");
	cr_expect_not_null(strstr(html, "src=\"figures/scatter_runtime.svg\""));
	cr_expect_not_null(strstr(html, "href=\"figures/cdf_grid.pdf\""));
	cr_expect_not_null(strstr(html, "href=\"validation.tex\""));
	free(html);
	cJSON_Delete(v);
	free(json);
	free(r);
}

Test(validation, the_page_renders_in_a_browser_with_every_figure_loaded, .init = mk, .fini = rm,
     .timeout = 300)
{
	const char *chromium = browser_or_skip();
	struct result *r = malloc(sizeof(*r));
	char exe[512], profile[300], url[520], page[400], shot[400], *html, *dom, *body;
	struct png img = { 0 };
	size_t ink = 0, colour = 0, imgs = 0;
	FILE *f;

	snprintf(exe, sizeof(exe), "%s", chromium);
	if (!which("gnuplot"))
		cr_skip_test("gnuplot is not installed (Debian: apt-get install gnuplot-nox)");
	cr_assert_not_null(r);
	validate_shipped(r, NULL, NULL);
	cr_assert_eq(r->status, 0, "%s", r->err);
	html = slurp("out/validation.html");
	for (const char *s = html; (s = strstr(s, "<img ")); s++)
		imgs++;
	cr_expect_gt(imgs, 8);

	/* 1. every image loaded with a size: a probe page beside it reports into the DOM */
	snprintf(page, sizeof(page), "%s/out/probe.html", tmp);
	body = strstr(html, "</body>");
	cr_assert_not_null(body);
	f = fopen(page, "w");
	cr_assert_not_null(f);
	fwrite(html, 1, (size_t)(body - html), f);
	fputs("<script>window.addEventListener('load',function(){var s=document.images,ok=0;"
	      "for(var i=0;i<s.length;i++)if(s[i].complete&&s[i].naturalWidth>100)ok++;"
	      "var p=document.createElement('pre');p.id='imgcheck';"
	      "p.textContent='imgcheck total='+s.length+' ok='+ok;"
	      "document.body.appendChild(p);});</script>\n", f);
	fputs(body, f);
	fclose(f);
	snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile", tmp);
	snprintf(url, sizeof(url), "file://%s", page);
	{
		char dom_path[400], err_path[400], want[64];
		char *argv[] = { exe, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
				 "--disable-dev-shm-usage", "--allow-file-access-from-files", profile,
				 "--virtual-time-budget=5000", "--dump-dom", url, NULL };

		snprintf(dom_path, sizeof(dom_path), "%s/dom.html", tmp);
		snprintf(err_path, sizeof(err_path), "%s/chromium.err", tmp);
		cr_assert_eq(run_timed(argv, dom_path, err_path, 90), 0, "chromium --dump-dom failed");
		dom = slurp("dom.html");
		snprintf(want, sizeof(want), "imgcheck total=%zu ok=%zu", imgs, imgs);
		cr_expect_not_null(strstr(dom, want), "want \"%s\", the browser says \"%.60s\"", want,
				   strstr(dom, "imgcheck") ? strstr(dom, "imgcheck") : "nothing");
		free(dom);
	}

	/* 2. a screenshot that is not blank */
	snprintf(shot, sizeof(shot), "--screenshot=%s/page.png", tmp);
	snprintf(url, sizeof(url), "file://%s/out/validation.html", tmp);
	{
		char out_path[400], err_path[400], png_path[400];
		char *argv[] = { exe, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
				 "--disable-dev-shm-usage", "--hide-scrollbars", profile,
				 "--window-size=1280,2000", shot, url, NULL };

		snprintf(out_path, sizeof(out_path), "%s/shot.out", tmp);
		snprintf(err_path, sizeof(err_path), "%s/chromium.err", tmp);
		cr_assert_eq(run_timed(argv, out_path, err_path, 90), 0, "chromium --screenshot failed");
		snprintf(png_path, sizeof(png_path), "%s/page.png", tmp);
		png_read(png_path, &img);
	}
	for (size_t i = 0; i < (size_t)img.w * img.h; i++) {
		const uint8_t *q = img.px + i * 4;
		int lo = q[0] < q[1] ? (q[0] < q[2] ? q[0] : q[2]) : (q[1] < q[2] ? q[1] : q[2]);
		int hi = q[0] > q[1] ? (q[0] > q[2] ? q[0] : q[2]) : (q[1] > q[2] ? q[1] : q[2]);

		ink += hi < 200;
		colour += hi - lo > 60;
	}
	cr_expect_gt(ink, (size_t)img.w * img.h / 100, "only %zu dark pixels: blank?", ink);
	/* the first scatter's orange points are on the first screen */
	cr_expect_gt(colour, 500, "only %zu coloured pixels", colour);
	free(img.px);
	free(html);
	free(r);
}

Test(validation, a_history_grows_by_a_line_a_run_and_a_bad_line_is_refused, .init = mk,
     .fini = rm, .timeout = 300)
{
	struct result *r = malloc(sizeof(*r));
	char hist[300], *text, *html;
	size_t lines = 0;
	FILE *f;

	cr_assert_not_null(r);
	snprintf(hist, sizeof(hist), "%s/history.jsonl", tmp);
	for (int i = 0; i < 2; i++) {
		char cmd[400];

		validate_shipped(r, "--history", hist);
		cr_assert_eq(r->status, 0, "%s", r->err);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s/out'", tmp);
		if (i == 0)
			cr_assert_eq(system(cmd), 0);
	}
	text = slurp("history.jsonl");
	for (const char *s = text; *s; s++)
		lines += *s == '\n';
	cr_expect_eq(lines, 2);
	cr_expect_not_null(strstr(text, "\"metrics\":{\"runtime\":{\"mape\":"), "%s", text);
	free(text);
	html = slurp("out/validation.html");
	if (which("gnuplot"))
		cr_expect_not_null(strstr(html, "src=\"figures/history.svg\""));
	free(html);

	f = fopen(hist, "a");
	cr_assert_not_null(f);
	fputs("{\"not\": \"a history line\"}\n", f);
	fclose(f);
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s/out'", tmp);
		cr_assert_eq(system(cmd), 0);
	}
	validate_shipped(r, "--history", hist);
	cr_expect_eq(r->status, 2, "%s", r->err);
	cr_expect_not_null(strstr(r->err, "history.jsonl: line 3:"), "%s", r->err);
	free(r);
}
