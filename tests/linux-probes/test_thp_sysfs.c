/*
 * test_thp_sysfs.c - saving, applying and restoring THP settings, on a fake
 * sysfs tree in a temporary directory (no root needed).
 *
 * The tree is written in the kernel's formats (mm/huge_memory.c prints
 * "always [madvise] never"). A real sysfs choice file accepts "madvise\n" and
 * then shows the list again with the new choice bracketed; a plain file just
 * holds what was written, so settle() plays the kernel's part after each
 * write. Every expected value comes from the table the tree was built from.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "linux-probes/hostlock.h"
#include "linux-probes/thp_sysfs.h"
#include "workload/spec.h"

#define THP_CHOICES "always madvise never"
#define DEFRAG_CHOICES "always defer defer+madvise madvise never"
#define MTHP_CHOICES "always inherit madvise never"

/* The host of the facts file: madvise, 64KiB always, khugepaged defaults. */
static const struct file {
	const char *rel, *text, *choices;	/* choices: NULL for a number */
} tree[] = {
	{ "enabled", "always [madvise] never\n", THP_CHOICES },
	{ "defrag", "always defer defer+madvise [madvise] never\n", DEFRAG_CHOICES },
	{ "use_zero_page", "1\n", NULL },
	{ "hugepages-8kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-16kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-32kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-64kB/enabled", "[always] inherit madvise never\n", MTHP_CHOICES },
	{ "hugepages-128kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-256kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-512kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-1024kB/enabled", "always inherit madvise [never]\n", MTHP_CHOICES },
	{ "hugepages-2048kB/enabled", "always [inherit] madvise never\n", MTHP_CHOICES },
	{ "khugepaged/scan_sleep_millisecs", "10000\n", NULL },
	{ "khugepaged/alloc_sleep_millisecs", "60000\n", NULL },
	{ "khugepaged/pages_to_scan", "4096\n", NULL },
	{ "khugepaged/max_ptes_none", "511\n", NULL },
	{ "khugepaged/max_ptes_swap", "64\n", NULL },
	{ "khugepaged/max_ptes_shared", "256\n", NULL },
	{ "khugepaged/defrag", "1\n", NULL },
	/* read-only counters beside the settings: never saved, never written */
	{ "khugepaged/full_scans", "17\n", NULL },
	{ "hpage_pmd_size", "2097152\n", NULL },
};
#define NR_TREE (sizeof(tree) / sizeof(tree[0]))

static char base[64], root[128], state[128];

static void path_of(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", root, rel);
}

static void put(const char *rel, const char *text)
{
	char path[256], dir[256];
	FILE *f;

	path_of(path, sizeof(path), rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	mkdir(dir, 0755);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static char *content(const char *rel)
{
	char path[256];

	path_of(path, sizeof(path), rel);
	return slurp(path);
}

static void make_tree(void)
{
	snprintf(base, sizeof(base), "/tmp/virtuoso-thp-sysfs-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/thp", base);
	snprintf(state, sizeof(state), "%s/run", base);	/* created by lock or save */
	cr_assert_eq(mkdir(root, 0755), 0);
	for (size_t i = 0; i < NR_TREE; i++)
		put(tree[i].rel, tree[i].text);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	cr_assert_eq(system(cmd), 0);
}

/* The kernel's side of a write: show the choices with the written one bracketed. */
static void settle(void)
{
	for (size_t i = 0; i < NR_TREE; i++) {
		char *now = content(tree[i].rel), word[64], shown[128] = "", *c, *copy;

		if (!tree[i].choices || !now || !*now || strchr(now, '['))
			continue;
		snprintf(word, sizeof(word), "%.*s", (int)strcspn(now, "\n"), now);
		copy = strdup(tree[i].choices);
		for (c = strtok(copy, " "); c; c = strtok(NULL, " ")) {
			char one[40];

			snprintf(one, sizeof(one), strcmp(c, word) ? "%s%s" : "%s[%s]",
				 *shown ? " " : "", c);
			strcat(shown, one);
		}
		free(copy);
		strcat(shown, "\n");
		cr_assert_not_null(strchr(shown, '['), "%s: \"%s\" is not a choice", tree[i].rel, word);
		put(tree[i].rel, shown);
	}
}

/* The kernel block of a spec, parsed as virtuoso would parse it. */
static void kernel_of(struct wl_kernel *k, const char *kernel_json)
{
	char text[1024];
	struct wl_spec s;
	struct wl_error err;

	snprintf(text, sizeof(text),
		 "{\"name\":\"t\",\"kernel\":%s,\"regions\":[{\"name\":\"r\",\"size\":4096}],"
		 "\"phases\":[{\"op\":\"sleep\",\"ms\":1}]}", kernel_json);
	cr_assert_eq(wl_spec_parse(&s, text, strlen(text), "t.json", &err), 0,
		     "%s: %s", err.path, err.msg);
	*k = s.kernel;
	wl_spec_release(&s);
}

/* A spec that changes every setting a spec can name. */
static const char *every_setting =
	"{\"thp\":\"always\",\"defrag\":\"defer+madvise\",\"use_zero_page\":false,"
	"\"mthp\":{\"16KiB\":\"always\",\"64KiB\":\"never\",\"1MiB\":\"inherit\"},"
	"\"khugepaged\":{\"scan_sleep_ms\":100,\"alloc_sleep_ms\":200,\"pages_to_scan\":8,"
	"\"max_ptes_none\":0,\"max_ptes_swap\":1,\"max_ptes_shared\":2,\"defrag\":false}}";

static void assert_tree_as_built(void)
{
	for (size_t i = 0; i < NR_TREE; i++) {
		char *now = content(tree[i].rel);

		cr_assert_not_null(now, "%s is gone", tree[i].rel);
		cr_assert_str_eq(now, tree[i].text, "%s", tree[i].rel);
	}
}

static int saved_exists(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/thp-saved", state);
	return access(path, F_OK) == 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && !strcmp(s + n - m, tail);
}

Test(thp_sysfs, save_apply_restore_returns_every_file_to_its_previous_content,
     .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	kernel_of(&k, every_setting);
	cr_assert_eq(thp_sysfs_save(root, state, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert(saved_exists());
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	settle();
	cr_assert_str_eq(content("enabled"), "[always] madvise never\n");
	cr_assert_str_eq(content("defrag"), "always defer [defer+madvise] madvise never\n");
	cr_assert_str_eq(content("use_zero_page"), "0\n");
	cr_assert_str_eq(content("hugepages-16kB/enabled"), "[always] inherit madvise never\n");
	cr_assert_str_eq(content("hugepages-64kB/enabled"), "always inherit madvise [never]\n");
	cr_assert_str_eq(content("hugepages-1024kB/enabled"), "always [inherit] madvise never\n");
	cr_assert_str_eq(content("khugepaged/scan_sleep_millisecs"), "100\n");
	cr_assert_str_eq(content("khugepaged/alloc_sleep_millisecs"), "200\n");
	cr_assert_str_eq(content("khugepaged/pages_to_scan"), "8\n");
	cr_assert_str_eq(content("khugepaged/max_ptes_none"), "0\n");
	cr_assert_str_eq(content("khugepaged/max_ptes_swap"), "1\n");
	cr_assert_str_eq(content("khugepaged/max_ptes_shared"), "2\n");
	cr_assert_str_eq(content("khugepaged/defrag"), "0\n");

	/* what a user might change by hand during the run is restored too */
	put("hugepages-2048kB/enabled", "always inherit [madvise] never\n");
	put("hugepages-8kB/enabled", "[always] inherit madvise never\n");

	cr_assert_eq(thp_sysfs_restore(state, NULL, &err), 0, "%s: %s", err.file, err.msg);
	settle();
	assert_tree_as_built();
	cr_assert_not(saved_exists(), "the saved state is removed once restored");
	cr_assert_eq(thp_sysfs_restore(state, NULL, &err), 0, "nothing saved is not an error");
}

/* Every file gets an old mtime; a file written since has a new one. */
static void age_tree(void)
{
	const struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char path[256];

	for (size_t i = 0; i < NR_TREE; i++) {
		path_of(path, sizeof(path), tree[i].rel);
		cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0, "%s", path);
	}
}

static int written(const char *rel)
{
	char path[256];
	struct stat st;

	path_of(path, sizeof(path), rel);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return st.st_mtim.tv_sec != 1000000000;
}

Test(thp_sysfs, apply_writes_only_what_the_spec_sets, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	kernel_of(&k, "{\"defrag\":\"never\",\"khugepaged\":{\"pages_to_scan\":1}}");
	age_tree();
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	for (size_t i = 0; i < NR_TREE; i++) {
		int set = !strcmp(tree[i].rel, "defrag") ||
			  !strcmp(tree[i].rel, "khugepaged/pages_to_scan");

		cr_assert_eq(written(tree[i].rel), set, "%s", tree[i].rel);
		if (!set)
			cr_assert_str_eq(content(tree[i].rel), tree[i].text, "%s", tree[i].rel);
	}
	cr_assert_str_eq(content("use_zero_page"), "1\n", "left to the host, untouched");
	cr_assert_str_eq(content("khugepaged/pages_to_scan"), "1\n");
}

/* Writing a khugepaged file wakes khugepaged: a value already in force is left alone. */
Test(thp_sysfs, apply_does_not_rewrite_a_value_already_in_force,
     .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	/* exactly the values the tree was built with */
	kernel_of(&k, "{\"thp\":\"madvise\",\"defrag\":\"madvise\",\"use_zero_page\":true,"
		  "\"mthp\":{\"64KiB\":\"always\",\"16KiB\":\"never\"},"
		  "\"khugepaged\":{\"scan_sleep_ms\":10000,\"alloc_sleep_ms\":60000,"
		  "\"pages_to_scan\":4096,\"max_ptes_none\":511,\"max_ptes_swap\":64,"
		  "\"max_ptes_shared\":256,\"defrag\":true}}");
	age_tree();
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	for (size_t i = 0; i < NR_TREE; i++)
		cr_assert_not(written(tree[i].rel), "%s", tree[i].rel);
}

Test(thp_sysfs, apply_accepts_never_for_a_size_the_kernel_lacks_but_not_always,
     .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/hugepages-128kB", root);
	cr_assert_eq(system(cmd), 0);

	kernel_of(&k, "{\"mthp\":{\"128KiB\":\"never\"}}");
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);

	kernel_of(&k, "{\"mthp\":{\"128KiB\":\"always\"}}");
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), -1);
	cr_assert(ends_with(err.file, "/hugepages-128kB/enabled"), "%s", err.file);
	cr_assert_not_null(strstr(err.msg, "always"), "%s", err.msg);
}

Test(thp_sysfs, apply_names_the_file_and_value_it_cannot_write,
     .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;
	char path[256];

	kernel_of(&k, "{\"khugepaged\":{\"max_ptes_swap\":7}}");
	path_of(path, sizeof(path), "khugepaged/max_ptes_swap");
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0755), 0);	/* unwritable, even for root */
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), -1);
	cr_assert_str_eq(err.file, path);
}

Test(thp_sysfs, save_refuses_to_overwrite_a_saved_state, .init = make_tree, .fini = remove_tree)
{
	struct wl_error err;
	char path[256], before[4096];

	cr_assert_eq(thp_sysfs_save(root, state, &err), 0, "%s: %s", err.file, err.msg);
	snprintf(path, sizeof(path), "%s/thp-saved", state);
	snprintf(before, sizeof(before), "%s", slurp(path));

	put("enabled", "[always] madvise never\n");	/* a run's setting, left behind */
	cr_assert_eq(thp_sysfs_save(root, state, &err), -1);
	cr_assert_str_eq(err.file, path);
	cr_assert_str_eq(slurp(path), before, "the first saved state is kept as it was");

	cr_assert_eq(thp_sysfs_restore(state, NULL, &err), 0, "%s: %s", err.file, err.msg);
	settle();
	assert_tree_as_built();
}

Test(thp_sysfs, recover_restores_what_an_interrupted_run_left,
     .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;
	int status, pid, fd;
	pid_t child;

	kernel_of(&k, every_setting);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {	/* the run that gets killed before it restores */
		if (hostlock_take(state, "a test", HOSTLOCK_NO_WAIT, NULL, &fd, &err) ||
		    thp_sysfs_save(root, state, &err) ||
		    thp_sysfs_apply(&k, root, &err))
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	settle();
	cr_assert_str_eq(content("enabled"), "[always] madvise never\n", "the run's setting");

	cr_assert_eq(hostlock_take(state, "a test", HOSTLOCK_NO_WAIT, NULL, &fd, &err), 0,
		     "%s: %s", err.file, err.msg);
	cr_assert_eq(thp_sysfs_recover(state, NULL, &pid, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(pid, child);
	settle();
	assert_tree_as_built();

	cr_assert_eq(thp_sysfs_recover(state, NULL, &pid, &err), 0);
	cr_assert_eq(pid, 0, "nothing left to recover");
	hostlock_release(fd);
}

Test(thp_sysfs, restore_keeps_going_past_a_failing_file, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;
	char path[256], later[256];

	kernel_of(&k, every_setting);
	cr_assert_eq(thp_sysfs_save(root, state, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	settle();
	/* two files that can no longer be written, early and late in the saved order */
	path_of(later, sizeof(later), "khugepaged/max_ptes_swap");
	cr_assert_eq(unlink(later), 0);
	cr_assert_eq(mkdir(later, 0755), 0);
	path_of(path, sizeof(path), "defrag");
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkdir(path, 0755), 0);

	cr_assert_eq(thp_sysfs_restore(state, NULL, &err), -1);
	cr_assert_str_eq(err.file, path, "the first failure is the one reported");
	settle();
	for (size_t i = 0; i < NR_TREE; i++)
		if (strcmp(tree[i].rel, "defrag") && strcmp(tree[i].rel, "khugepaged/max_ptes_swap"))
			cr_assert_str_eq(content(tree[i].rel), tree[i].text, "%s", tree[i].rel);
	cr_assert(saved_exists(), "kept, so a later recover tries again");
}

Test(thp_sysfs, restore_writes_under_the_root_it_is_given, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;
	char moved[160];

	kernel_of(&k, every_setting);
	cr_assert_eq(thp_sysfs_save(root, state, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	snprintf(moved, sizeof(moved), "%s/moved", base);
	cr_assert_eq(rename(root, moved), 0);
	cr_assert_eq(thp_sysfs_restore(state, moved, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(rename(moved, root), 0);
	settle();
	assert_tree_as_built();
}

Test(thp_sysfs, restore_refuses_a_line_that_is_not_a_thp_setting,
     .init = make_tree, .fini = remove_tree)
{
	struct wl_error err;
	char path[256];
	FILE *f;

	cr_assert_eq(thp_sysfs_save(root, state, &err), 0, "%s: %s", err.file, err.msg);
	snprintf(path, sizeof(path), "%s/thp-saved", state);
	f = fopen(path, "a");
	cr_assert_not_null(f);
	fputs("../../etc/motd pwned\n", f);
	fclose(f);
	cr_assert_eq(thp_sysfs_restore(state, NULL, &err), -1);
	cr_assert_str_eq(err.file, path);
	/* the header, one line per setting of the tree (all but the two counters), this one */
	snprintf(path, sizeof(path), "line %zu", 1 + (NR_TREE - 2) + 1);
	cr_assert_str_eq(err.path, path);
}

Test(thp_sysfs, state_dir_follows_the_environment)
{
	cr_assert_eq(setenv(THP_SYSFS_STATE_ENV, "/tmp/elsewhere", 1), 0);
	cr_assert_str_eq(thp_sysfs_state_dir(), "/tmp/elsewhere");
	cr_assert_eq(setenv(THP_SYSFS_STATE_ENV, "", 1), 0);
	cr_assert_str_eq(thp_sysfs_state_dir(), "/run/virtuoso");
	cr_assert_eq(unsetenv(THP_SYSFS_STATE_ENV), 0);
	cr_assert_str_eq(thp_sysfs_state_dir(), "/run/virtuoso");
}

/* Linux 6.18 has hugepages-8kB/ for shmem only: no enabled file to save. */
Test(thp_sysfs, save_skips_a_size_without_an_enabled_file, .init = make_tree, .fini = remove_tree)
{
	struct wl_kernel k;
	struct wl_error err;

	put("hugepages-4096kB/shmem_enabled", "always within_size advise [never] deny force\n");
	kernel_of(&k, every_setting);
	cr_assert_eq(thp_sysfs_save(root, state, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(thp_sysfs_apply(&k, root, &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(thp_sysfs_restore(state, NULL, &err), 0, "%s: %s", err.file, err.msg);
	settle();
	assert_tree_as_built();
	cr_assert_str_eq(content("hugepages-4096kB/shmem_enabled"),
			 "always within_size advise [never] deny force\n");
}
