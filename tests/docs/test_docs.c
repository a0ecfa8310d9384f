/*
 * test_docs.c - the documentation a clone carries is whole: every relative
 * Markdown link resolves inside the clone (scripts/check-links.sh), and the
 * examples of docs/workload-format.md are valid workloads.
 *
 * Nothing is skipped: a link to a file outside the clone (../shared/...)
 * fails here even on a machine where that file exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "workload/json.h"
#include "workload/spec.h"

#define CHECK_LINKS "scripts/check-links.sh"

struct script_result {
	int status;		/* exit status, or -1 if it did not exit */
	char out[1 << 16];	/* stdout and stderr together */
};

/* Run the link checker on 'root' (NULL: the clone), capturing its output. */
static void check_links(const char *root, struct script_result *r)
{
	char cmd[512];
	size_t n = 0, got;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s%s%s 2>&1", CHECK_LINKS, root ? " " : "", root ? root : "");
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s: %s", cmd, strerror(errno));
	while (n + 1 < sizeof(r->out) && (got = fread(r->out + n, 1, sizeof(r->out) - 1 - n, p)))
		n += got;
	r->out[n] = '\0';
	st = pclose(p);
	r->status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

Test(docs, every_relative_link_resolves_inside_the_clone)
{
	struct script_result r;

	cr_assert_eq(access(CHECK_LINKS, X_OK), 0, "%s: %s", CHECK_LINKS, strerror(errno));
	check_links(NULL, &r);
	cr_assert_eq(r.status, 0, "Markdown links that a clone cannot follow:\n%s", r.out);
	cr_assert_not_null(strstr(r.out, "check-links: all "), "%s", r.out);
}

/* The checker itself, on a tree made for it: what it must find, and what it must let pass. */
Test(docs, link_check_refuses_missing_and_escaping_targets_only)
{
	char base[] = "/tmp/vdocs-XXXXXX", root[64], outside[64], docs[96];
	struct script_result r;

	cr_assert_not_null(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(docs, sizeof(docs), "%s/docs", root);
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(outside, 0755), 0);
	cr_assert_eq(mkdir(docs, 0755), 0);
	write_file(outside, "there.md", "exists, outside the tree\n");
	write_file(docs, "a.md", "# A\n[back](../README.md) [self](a.md#a)\n");
	write_file(root, "README.md",
		   "# Title\n"
		   "[good](docs/a.md), [anchor](docs/a.md#a), [top](#title), [dir](docs/),\n"
		   "[web](https://example.com/x.md), [mail](mailto:a@example.com),\n"
		   "[titled](docs/a.md \"A title\"), [angle](<docs/a.md>), [abs](/docs/a.md)\n"
		   "`docs/a.md` and `./docs/a.md` and `[x](not-a-link.md)`\n"
		   "```\n[fenced](fenced-broken.md) `../fenced.md`\n```\n");
	check_links(root, &r);
	cr_assert_eq(r.status, 0, "a clean tree:\n%s", r.out);

	write_file(root, "BROKEN.md",
		   "one [missing](docs/nope.md)\n"
		   "two [escape](../outside/there.md)\n"
		   "three `../outside/there.md`\n"
		   "![image](docs/missing.png)\n"
		   "[ref]: docs/gone.md\n");
	check_links(root, &r);
	cr_assert_eq(r.status, 1, "%s", r.out);
	cr_expect_not_null(strstr(r.out, "BROKEN.md:1: docs/nope.md: no such file or directory"),
			   "%s", r.out);
	cr_expect_not_null(strstr(r.out, "BROKEN.md:2: ../outside/there.md: outside the clone"),
			   "%s", r.out);
	cr_expect_not_null(strstr(r.out, "BROKEN.md:3: ../outside/there.md: outside the clone"),
			   "%s", r.out);
	cr_expect_not_null(strstr(r.out, "BROKEN.md:4: docs/missing.png: no such file"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "BROKEN.md:5: docs/gone.md: no such file"), "%s", r.out);
	cr_expect_null(strstr(r.out, "README.md"), "the clean file has nothing to report:\n%s", r.out);
	cr_expect_not_null(strstr(r.out, "check-links: 5 of "), "%s", r.out);

	remove_file(root, "BROKEN.md");
	remove_file(root, "README.md");
	remove_file(docs, "a.md");
	remove_file(outside, "there.md");
	rmdir(docs);
	rmdir(root);
	rmdir(outside);
	rmdir(base);
}

/* Every ```json block of the workload format's page is a valid workload. */
Test(docs, workload_format_examples_are_valid_workloads)
{
	const char *path = "docs/workload-format.md";
	struct wl_error err = { 0 };
	char *text, *at;
	size_t len;
	int blocks = 0;

	cr_assert_eq(wj_read_file(path, &text, &len, &err), 0, "%s: %s", err.file, err.msg);
	for (at = text; (at = strstr(at, "\n```json\n")); ) {
		char *body = at + strlen("\n```json\n"), *end = strstr(body, "\n```");
		struct wl_spec s;

		cr_assert_not_null(end, "%s: a ```json block without its end", path);
		cr_expect_eq(wl_spec_parse(&s, body, (size_t)(end - body), path, &err), 0,
			     "%s, example %d: %s: %s", path, blocks + 1, err.path, err.msg);
		wl_spec_release(&s);
		blocks++;
		at = end + 4;
	}
	free(text);
	cr_assert_geq(blocks, 2, "%s: expected its examples, found %d", path, blocks);
}
