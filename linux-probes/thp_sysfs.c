/*
 * thp_sysfs.c - save, apply and restore THP sysfs settings around a run.
 *
 * File formats are the kernel's (mm/huge_memory.c, mm/khugepaged.c); see
 * thp_sysfs.h for the contract.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux-probes/thp_sysfs.h"
#include "workload/spec.h"

#define SAVED "thp-saved"
#define SAVED_TMP "thp-saved.tmp"

static const char *const top_files[] = { "enabled", "defrag", "use_zero_page" };
#define NR_TOP (sizeof(top_files) / sizeof(top_files[0]))

const char *thp_sysfs_state_dir(void)
{
	const char *d = getenv(THP_SYSFS_STATE_ENV);

	return d && *d ? d : THP_SYSFS_STATE_DIR;
}

static int join(char *buf, const char *dir, const char *rel, struct wl_error *err)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, rel) >= PATH_MAX)
		return wl_error_set(err, dir, "", "path too long");
	return 0;
}

static int make_state_dir(const char *dir, struct wl_error *err)
{
	if (mkdir(dir, 0755) && errno != EEXIST)
		return wl_error_set(err, dir, "", "cannot create: %s", strerror(errno));
	return 0;
}

static int fsync_dir(const char *dir, struct wl_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return wl_error_set(err, dir, "", "cannot open: %s", strerror(errno));
	ret = fsync(fd);
	close(fd);
	return ret ? wl_error_set(err, dir, "", "cannot fsync: %s", strerror(errno)) : 0;
}

/* "hugepages-<N>kB" -> N, or 0 when the name is anything else. */
static unsigned long mthp_kb(const char *name)
{
	unsigned long kb = 0;
	int n = 0;

	if (sscanf(name, "hugepages-%lukB%n", &kb, &n) != 1 || n == 0 || name[n])
		return 0;
	return kb;
}

/* The settings thp_sysfs_save() records: nothing else is ever restored. */
static int is_setting(const char *rel)
{
	const char *slash = strchr(rel, '/');
	char dir[64];

	for (size_t i = 0; i < NR_TOP; i++)
		if (!strcmp(rel, top_files[i]))
			return 1;
	for (int i = 0; i < WL_KHP_NR; i++)
		if (!strcmp(rel, wl_khugepaged_file(i)))
			return 1;
	if (!slash || strcmp(slash, "/enabled") || (size_t)(slash - rel) >= sizeof(dir))
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
	return mthp_kb(dir) != 0;
}

/* A setting's value: the bracketed word of "always [madvise] never", or "511". */
static int read_value(const char *path, char *val, size_t len, struct wl_error *err)
{
	char buf[256], *s, *e;
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return wl_error_set(err, path, "", "cannot read: %s", strerror(errno));
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return wl_error_set(err, path, "", "cannot read: empty file");
	buf[strcspn(buf, "\n")] = '\0';
	if ((s = strchr(buf, '['))) {
		e = strchr(++s, ']');
	} else {
		s = buf + strspn(buf, " \t");
		e = s + strcspn(s, " \t");
		if (e[strspn(e, " \t")])
			e = NULL;
	}
	if (!e || e == s || (size_t)(e - s) >= len || memchr(s, ' ', (size_t)(e - s)))
		return wl_error_set(err, path, "", "expected a bracketed choice or a number, got \"%s\"",
				    buf);
	memcpy(val, s, (size_t)(e - s));
	val[e - s] = '\0';
	return 0;
}

/* As "echo VALUE > path" does: one write, which sysfs needs. */
static int write_value(const char *path, const char *val, struct wl_error *err)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%s\n", val), fd, e = 0;
	ssize_t w;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return wl_error_set(err, path, "", "cannot write \"%s\": %s", val, strerror(errno));
	w = write(fd, buf, (size_t)n);
	if (w != n)
		e = w < 0 ? errno : EIO;
	if (close(fd) && !e)
		e = errno;
	return e ? wl_error_set(err, path, "", "cannot write \"%s\": %s", val, strerror(e)) : 0;
}

/* Write root/rel only when its value is not already val. */
static int set_value(const char *root, const char *rel, const char *val, struct wl_error *err)
{
	char path[PATH_MAX], cur[64];

	if (join(path, root, rel, err) || read_value(path, cur, sizeof(cur), err))
		return -1;
	return strcmp(cur, val) ? write_value(path, val, err) : 0;
}

static int save_one(FILE *out, const char *root, const char *rel, int required,
		    struct wl_error *err)
{
	char path[PATH_MAX], val[64];

	if (join(path, root, rel, err))
		return -1;
	if (!required && access(path, F_OK) && errno == ENOENT)
		return 0;	/* a setting this kernel does not have */
	if (read_value(path, val, sizeof(val), err))
		return -1;
	fprintf(out, "%s %s\n", rel, val);
	return 0;
}

static int mthp_filter(const struct dirent *d)
{
	return mthp_kb(d->d_name) != 0;
}

static int mthp_cmp(const struct dirent **a, const struct dirent **b)
{
	unsigned long x = mthp_kb((*a)->d_name), y = mthp_kb((*b)->d_name);

	return (x > y) - (x < y);
}

static int save_all(FILE *out, const char *root, struct wl_error *err)
{
	struct dirent **sizes;
	char rel[300];
	int n, ret = 0;

	fprintf(out, "pid %d root %s\n", (int)getpid(), root);
	for (size_t i = 0; i < NR_TOP; i++)
		if (save_one(out, root, top_files[i], i == 0, err))
			return -1;
	n = scandir(root, &sizes, mthp_filter, mthp_cmp);
	if (n < 0)
		return wl_error_set(err, root, "", "cannot list: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		snprintf(rel, sizeof(rel), "%s/enabled", sizes[i]->d_name);
		if (!ret && save_one(out, root, rel, 0, err))
			ret = -1;
		free(sizes[i]);
	}
	free(sizes);
	for (int i = 0; i < WL_KHP_NR && !ret; i++)
		if (save_one(out, root, wl_khugepaged_file(i), 0, err))
			ret = -1;
	return ret;
}

/* The pid and root of a saved file's first line; pid 0 if unreadable. */
static int read_header(FILE *f, int *pid, char **root)
{
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	*pid = 0;
	*root = NULL;
	if (getline(&line, &cap, f) < 0 || sscanf(line, "pid %d root %n", pid, &n) != 1 || !n) {
		free(line);
		return -1;
	}
	line[strcspn(line, "\n")] = '\0';
	memmove(line, line + n, strlen(line + n) + 1);
	*root = line;
	return 0;
}

int thp_sysfs_save(const char *thp_root, const char *state_dir, struct wl_error *err)
{
	char saved[PATH_MAX], tmp[PATH_MAX], *old_root;
	FILE *out;
	int fd, pid, ret;

	if (strchr(thp_root, '\n'))
		return wl_error_set(err, thp_root, "", "a THP root with a newline cannot be saved");
	if (make_state_dir(state_dir, err) || join(saved, state_dir, SAVED, err) ||
	    join(tmp, state_dir, SAVED_TMP, err))
		return -1;
	if ((out = fopen(saved, "re"))) {
		read_header(out, &pid, &old_root);
		free(old_root);
		fclose(out);
		return wl_error_set(err, saved, "",
				    "settings saved by an earlier run (pid %d) were never restored; "
				    "restore them first", pid);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return wl_error_set(err, tmp, "", "cannot create: %s", strerror(errno));
	}
	ret = save_all(out, thp_root, err);
	if (!ret && (fflush(out) || fsync(fd)))
		ret = wl_error_set(err, tmp, "", "cannot write: %s", strerror(errno));
	if (fclose(out) && !ret)
		ret = wl_error_set(err, tmp, "", "cannot write: %s", strerror(errno));
	/* link, not rename: an existing saved state is never replaced */
	if (!ret && link(tmp, saved))
		ret = wl_error_set(err, saved, "", "cannot create: %s", strerror(errno));
	unlink(tmp);
	return ret ? ret : fsync_dir(state_dir, err);
}

int thp_sysfs_apply(const struct wl_kernel *k, const char *thp_root, struct wl_error *err)
{
	char rel[64], path[PATH_MAX], val[32];

	if (k->thp != WL_THP_HOST && set_value(thp_root, "enabled", wl_thp_name(k->thp), err))
		return -1;
	if (k->defrag != WL_DEFRAG_HOST &&
	    set_value(thp_root, "defrag", wl_defrag_name(k->defrag), err))
		return -1;
	if (k->use_zero_page >= 0 &&
	    set_value(thp_root, "use_zero_page", k->use_zero_page ? "1" : "0", err))
		return -1;
	for (int i = 0; i < WL_MTHP_NR; i++) {
		if (k->mthp[i] == WL_MTHP_HOST)
			continue;
		snprintf(rel, sizeof(rel), "hugepages-%llukB/enabled",
			 4ULL << (i + WL_MTHP_MIN_ORDER));
		if (join(path, thp_root, rel, err))
			return -1;
		if (access(path, F_OK) && errno == ENOENT) {
			if (k->mthp[i] == WL_MTHP_NEVER)
				continue;	/* a size the kernel lacks is never used */
			return wl_error_set(err, path, "",
					    "cannot set \"%s\": this kernel has no such mTHP size "
					    "(mTHP sizes need Linux 6.8 or later)", wl_mthp_name(k->mthp[i]));
		}
		if (set_value(thp_root, rel, wl_mthp_name(k->mthp[i]), err))
			return -1;
	}
	for (int i = 0; i < WL_KHP_NR; i++) {
		if (k->khugepaged[i] < 0)
			continue;
		snprintf(val, sizeof(val), "%lld", (long long)k->khugepaged[i]);
		if (set_value(thp_root, wl_khugepaged_file(i), val, err))
			return -1;
	}
	return 0;
}

/* 1: nothing saved; 0: restored and removed; -1: err holds the first failure. */
static int restore_saved(const char *state_dir, const char *thp_root, int *pid,
			 struct wl_error *err)
{
	char saved[PATH_MAX], lineno[32], *line = NULL, *root, *val;
	struct wl_error later, *e = err;
	size_t cap = 0;
	FILE *f;
	int ret = 0;

	if (join(saved, state_dir, SAVED, err))
		return -1;
	if (!(f = fopen(saved, "re")))
		return errno == ENOENT ? 1 :
			wl_error_set(err, saved, "", "cannot read: %s", strerror(errno));
	if (read_header(f, pid, &root)) {
		fclose(f);
		return wl_error_set(err, saved, "line 1", "expected \"pid PID root THP_ROOT\"");
	}
	for (int n = 2; getline(&line, &cap, f) >= 0; n++) {
		line[strcspn(line, "\n")] = '\0';
		val = strchr(line, ' ');
		if (val)
			*val++ = '\0';
		if (!val || !*val || strchr(val, ' ') || !is_setting(line)) {
			snprintf(lineno, sizeof(lineno), "line %d", n);
			wl_error_set(e, saved, lineno, "expected \"SETTING VALUE\" of a THP setting");
		} else if (!set_value(thp_root ? thp_root : root, line, val, e)) {
			continue;
		}
		ret = -1;
		e = &later;	/* keep the first error, restore the rest */
	}
	free(line);
	free(root);
	fclose(f);
	if (ret)
		return -1;
	if (unlink(saved))
		return wl_error_set(err, saved, "", "cannot remove: %s", strerror(errno));
	return fsync_dir(state_dir, err);
}

int thp_sysfs_restore(const char *state_dir, const char *thp_root, struct wl_error *err)
{
	int pid;

	return restore_saved(state_dir, thp_root, &pid, err) < 0 ? -1 : 0;
}

int thp_sysfs_recover(const char *state_dir, const char *thp_root, int *restored_pid,
		      struct wl_error *err)
{
	int pid = 0, ret = restore_saved(state_dir, thp_root, &pid, err);

	*restored_pid = ret == 0 ? pid : 0;
	return ret < 0 ? -1 : 0;
}
