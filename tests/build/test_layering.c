/*
 * test_layering.c - the dependency picture holds: cli on top, reports over
 * compare and calibrate, compare and calibrate (each beside the other,
 * included by reports and cli alone) over both worlds, both worlds (simulated: mimicos/,
 * simulator/; real: bpf/, linux-probes/) over the shared floor (workload/).
 *
 * Checked on the #include lines of the sources, with grep: a folder may not
 * include a header of a folder beside it or above it, and the simulator
 * reaches MimicOS through its channel alone (mimicos/channel.h, no other
 * header of mimicos/). The checker is run on
 * the clone and on a tree made to break each rule, so a checker that found
 * nothing would fail too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

/*
 * A folder, the folders whose headers it may not include, and the headers of
 * those folders it may include all the same.
 */
struct layer_rule {
	const char *dir;
	const char *forbidden;	/* grep -E alternatives: folders */
	const char *allowed;	/* NULL, or grep -E alternatives: paths in them */
};

static const struct layer_rule rules[] = {
	{ "workload", "mimicos|simulator|bpf|linux-probes|calibrate|compare|reports|cli", NULL },
	{ "mimicos", "simulator|bpf|linux-probes|calibrate|compare|reports|cli", NULL },
	{ "simulator", "mimicos|bpf|linux-probes|calibrate|compare|reports|cli", "mimicos/channel\\.h" },
	{ "bpf", "mimicos|simulator|linux-probes|calibrate|compare|reports|cli", NULL },
	{ "linux-probes", "mimicos|simulator|calibrate|compare|reports|cli", NULL },
	{ "compare", "simulator|calibrate|reports|cli", NULL },
	{ "calibrate", "compare|reports|cli", NULL },
	{ "reports", "cli", NULL },
};

/*
 * The #include lines under root/dir that break the rule, one per line
 * ("path:line:text"), into out; "" when there are none. A missing folder has
 * none.
 */
static void violations(const char *root, const struct layer_rule *r, char *out, size_t size)
{
	char cmd[1024], keep[256] = "";
	size_t n = 0, got;
	FILE *p;

	if (r->allowed)
		snprintf(keep, sizeof(keep),
			 " | grep -vE '#[[:space:]]*include[[:space:]]+\"(%s)\"'", r->allowed);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && [ ! -d '%s' ] || grep -rnE --include='*.c' --include='*.h' "
		 "'^[[:space:]]*#[[:space:]]*include[[:space:]]+\"(%s)/' '%s'%s",
		 root, r->dir, r->forbidden, r->dir, keep);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s: %s", cmd, strerror(errno));
	while (n + 1 < size && (got = fread(out + n, 1, size - 1 - n, p)))
		n += got;
	out[n] = '\0';
	pclose(p);
}

Test(layering, no_folder_includes_a_header_beside_or_above_it)
{
	static char out[1 << 16];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct stat st;

		cr_assert_eq(stat(rules[i].dir, &st), 0, "%s: %s (run from the top of the tree)",
			     rules[i].dir, strerror(errno));
		violations(".", &rules[i], out, sizeof(out));
		cr_expect_str_empty(out, "%s/ may not include headers of %s:\n%s", rules[i].dir,
				    rules[i].forbidden, out);
	}
}

static void write_file(const char *root, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

/* The checker itself: each rule finds a header of a folder it forbids, and only that. */
Test(layering, checker_finds_each_forbidden_include)
{
	static char out[1 << 16];
	char root[] = "/tmp/vlayer-XXXXXX", path[512], cmd[600];

	cr_assert_not_null(mkdtemp(root));
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		char first[64], text[256], allowed[64] = "";
		size_t len = strcspn(rules[i].forbidden, "|");

		snprintf(path, sizeof(path), "%s/%s", root, rules[i].dir);
		cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
		snprintf(first, sizeof(first), "%.*s", (int)len, rules[i].forbidden);
		/* allowed: the folder's own headers, the floor's and the rule's exceptions */
		for (const char *a = rules[i].allowed; a && *a && *a != '|'; a++)
			if (*a != '\\' && strlen(allowed) + 1 < sizeof(allowed))
				strncat(allowed, a, 1);
		snprintf(text, sizeof(text), "#include \"%s/x.h\"\n#include \"workload/y.h\"\n%s%s%s",
			 rules[i].dir, *allowed ? "# include \"" : "", allowed, *allowed ? "\"\n" : "");
		snprintf(path, sizeof(path), "%s/ok.c", rules[i].dir);
		write_file(root, path, text);
		violations(root, &rules[i], out, sizeof(out));
		cr_expect_str_empty(out, "%s: %s", rules[i].dir, out);
		/* forbidden, in a header and in a source, with the spacing C allows */
		snprintf(text, sizeof(text), "# include \"%s/z.h\"\t/* why */\n", first);
		snprintf(path, sizeof(path), "%s/bad.h", rules[i].dir);
		write_file(root, path, text);
		violations(root, &rules[i], out, sizeof(out));
		cr_expect_not_null(strstr(out, "bad.h:1:"), "%s including %s/: %s", rules[i].dir,
				   first, out);
		cr_expect_null(strstr(out, "ok.c"), "%s: %s", rules[i].dir, out);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_expect_eq(system(cmd), 0);
}
