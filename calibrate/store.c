/*
 * store.c - the per-host calibration store (store.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "calibrate/store.h"
#include "workload/json.h"

static const char *const stored_names[] = {
	CAL_STORE_CALIBRATED, CAL_STORE_CALIBRATION, CAL_STORE_MEASUREMENTS,
};

void calibrate_store_host_key(char *buf, size_t len, const char *cpu_key, const char *release,
			      bool guest)
{
	unsigned major = 0, minor = 0;

	if (!release || sscanf(release, "%u.%u", &major, &minor) != 2)
		major = minor = 0;
	snprintf(buf, len, "%s:%u.%u:%s", cpu_key, major, minor, guest ? "guest" : "metal");
}

void calibrate_store_this_key(char *buf, size_t len)
{
	char cpu[64];
	struct hostid h;
	struct utsname u;

	hostid_read(&h, NULL);
	hostid_cpu_key(&h, cpu, sizeof(cpu));
	calibrate_store_host_key(buf, len, cpu, uname(&u) ? NULL : u.release, h.guest);
}

const char *calibrate_store_root(void)
{
	const char *env = getenv(CAL_STORE_ENV);

	return env && env[0] ? env : CAL_STORE_ROOT;
}

void calibrate_store_key_name(char *buf, size_t len, const char *key)
{
	snprintf(buf, len, "%s", key);
	for (char *p = buf; *p; p++)
		if (*p == ':')
			*p = '-';
}

int calibrate_store_dir(char *buf, size_t len, const char *key)
{
	char name[CAL_STORE_KEY_MAX];
	int n;

	calibrate_store_key_name(name, sizeof(name), key);
	n = snprintf(buf, len, "%s/%s", calibrate_store_root(), name);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * The host key measurements.json at 'path' names (its "host": cpu.key,
 * kernel.release, guest) into key. 0, -ENOENT when there is no such file,
 * else -EINVAL with err.
 */
static int measurements_key(const char *path, char *key, size_t len, struct wl_error *err)
{
	const cJSON *host, *cpu_key, *rel, *guest;
	cJSON *root;

	if (access(path, F_OK))
		return -ENOENT;
	if (wj_load_object(path, &root, err))
		return -EINVAL;
	host = cJSON_GetObjectItemCaseSensitive(root, "host");
	cpu_key = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(host, "cpu"),
						   "key");
	rel = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(host, "kernel"),
					       "release");
	guest = cJSON_GetObjectItemCaseSensitive(host, "guest");
	if (!cJSON_IsString(cpu_key) || !cJSON_IsString(rel) || !cJSON_IsBool(guest)) {
		cJSON_Delete(root);
		wl_error_set(err, path, "host", "expected cpu.key, kernel.release and guest: "
			     "the host the measurements were taken on");
		return -EINVAL;
	}
	calibrate_store_host_key(key, len, cpu_key->valuestring, rel->valuestring,
				 cJSON_IsTrue(guest));
	cJSON_Delete(root);
	return 0;
}

/*
 * Check that the calibration in directory 'dir' is for host 'key':
 * calibrated.json a configuration with a calibration naming it, and
 * measurements.json, when there, taken on it. *cal gets the calibration.
 * 0, or -EINVAL with err.
 */
static int check_identity(const char *dir, const char *key, struct sim_calibration *cal,
			  struct wl_error *err)
{
	char path[4096], mkey[CAL_STORE_KEY_MAX];
	struct sim_config *cfg = malloc(sizeof(*cfg));
	int ret;

	if (!cfg)
		return wl_error_set(err, dir, "", "out of memory"), -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, CAL_STORE_CALIBRATED);
	ret = sim_config_load(cfg, path, err) ? -EINVAL : 0;
	if (!ret && !cfg->calibration.given) {
		wl_error_set(err, path, "calibration", "missing: not a calibration's output");
		ret = -EINVAL;
	}
	if (!ret)
		*cal = cfg->calibration;
	free(cfg);
	if (ret)
		return ret;
	if (strcmp(cal->host, key))
		return wl_error_set(err, path, "calibration.host", "calibrated for %s, and this "
				    "host is %s", cal->host, key), -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", dir, CAL_STORE_MEASUREMENTS);
	ret = measurements_key(path, mkey, sizeof(mkey), err);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (strcmp(mkey, key))
		return wl_error_set(err, path, "host", "measured on %s, and this host is %s",
				    mkey, key), -EINVAL;
	return 0;
}

/* A key stored in the root other than 'mine' (its directory's name) into other, else "". */
static void other_key(const char *mine, char *other, size_t len)
{
	DIR *d = opendir(calibrate_store_root());
	char dir[4096];
	struct sim_config *cfg;
	struct wl_error err;
	struct dirent *e;

	other[0] = '\0';
	if (!d)
		return;
	cfg = malloc(sizeof(*cfg));
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, mine))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s/%s", calibrate_store_root(), e->d_name,
			 CAL_STORE_CALIBRATED);
		if (stat(dir, &st))
			continue;
		/* its identity as its files give it, else where it lies */
		snprintf(other, len, "%.*s", 120, e->d_name);
		if (cfg && !sim_config_load(cfg, dir, &err) && cfg->calibration.given)
			snprintf(other, len, "%s", cfg->calibration.host);
		break;
	}
	free(cfg);
	closedir(d);
}

const char *calibrate_store_find(struct cal_stored *st, struct wl_error *err)
{
	char dir[4096];

	memset(st, 0, sizeof(*st));
	calibrate_store_this_key(st->key, sizeof(st->key));
	if (calibrate_store_dir(dir, sizeof(dir), st->key) ||
	    (size_t)snprintf(st->path, sizeof(st->path), "%s/%s", dir, CAL_STORE_CALIBRATED) >=
	    sizeof(st->path)) {
		st->refused = true;
		wl_error_set(err, calibrate_store_root(), "", "the store's path is too long");
		return NULL;
	}
	if (access(st->path, F_OK)) {
		other_key(strrchr(dir, '/') + 1, st->other, sizeof(st->other));
		return NULL;
	}
	if (check_identity(dir, st->key, &st->cal, err)) {
		st->refused = true;
		return NULL;
	}
	return st->path;
}

/* Copy src to dst (made, mode 0644) and sync it. 0 or -errno with err. */
static int copy_file(const char *src, const char *dst, struct wl_error *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return ret = -errno, wl_error_set(err, src, "", "%s", strerror(-ret)), ret;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = -errno;
		wl_error_set(err, dst, "", "%s", strerror(-ret));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			ret = errno ? -errno : -EIO;
			wl_error_set(err, dst, "", "%s", strerror(-ret));
			goto out;
		}
	if (n < 0) {
		ret = -errno;
		wl_error_set(err, src, "", "%s", strerror(-ret));
		goto out;
	}
	if (fsync(out)) {
		ret = -errno;
		wl_error_set(err, dst, "", "%s", strerror(-ret));
	}
out:
	if (out >= 0 && close(out) && !ret) {
		ret = -errno;
		wl_error_set(err, dst, "", "%s", strerror(-ret));
	}
	close(in);
	return ret;
}

/* Remove directory 'dir' and the stored files in it. */
static void remove_stored(const char *dir)
{
	char path[4096 + 32];

	for (size_t i = 0; i < sizeof(stored_names) / sizeof(stored_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, stored_names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

/* Make 'dir' and its missing parents, mode 0755. 0 or -errno. */
static int make_dirs(const char *dir)
{
	char p[4096];

	if ((size_t)snprintf(p, sizeof(p), "%s", dir) >= sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int calibrate_store_save(const char *dir, char *stored, struct wl_error *err)
{
	char key[CAL_STORE_KEY_MAX], final[4096 - 32], tmp[4096 + 16], old[4096 + 16];
	char src[4096 + 32], dst[4096 + 32];
	struct sim_calibration cal;
	const char *name;
	int ret;

	calibrate_store_this_key(key, sizeof(key));
	if ((ret = check_identity(dir, key, &cal, err)))
		return ret;
	if ((ret = calibrate_store_dir(final, sizeof(final), key)))
		return wl_error_set(err, calibrate_store_root(), "", "too long"), ret;
	if ((ret = make_dirs(calibrate_store_root())))
		return wl_error_set(err, calibrate_store_root(), "", "cannot make the store: %s",
				    strerror(-ret)), ret;
	/* beside it, hidden: never taken for another host's calibration */
	name = strrchr(final, '/') + 1;
	snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.XXXXXX", (int)(name - final), final, name);
	if (!mkdtemp(tmp))
		return ret = -errno, wl_error_set(err, tmp, "", "%s", strerror(-ret)), ret;
	chmod(tmp, 0755);
	for (size_t i = 0; i < sizeof(stored_names) / sizeof(stored_names[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s", dir, stored_names[i]);
		snprintf(dst, sizeof(dst), "%s/%s", tmp, stored_names[i]);
		if (i && access(src, F_OK))	/* only calibrated.json is required */
			continue;
		if ((ret = copy_file(src, dst, err)))
			goto fail;
	}
	if ((ret = sync_dir(tmp))) {
		wl_error_set(err, tmp, "", "%s", strerror(-ret));
		goto fail;
	}
	/* one step: the old calibration and the new change places */
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE)) {
		remove_stored(tmp);
	} else if (errno == ENOENT) {
		if (rename(tmp, final)) {
			ret = -errno;
			wl_error_set(err, final, "", "%s", strerror(-ret));
			goto fail;
		}
	} else if (errno == EINVAL || errno == ENOSYS) {
		/* no exchange here: the old one away, then the new one in */
		snprintf(old, sizeof(old), "%.*s.%s.old.XXXXXX", (int)(name - final), final, name);
		if (!mkdtemp(old) || rmdir(old) || rename(final, old) || rename(tmp, final)) {
			ret = -errno;
			wl_error_set(err, final, "", "%s", strerror(-ret));
			if (access(final, F_OK))
				rename(old, final);
			goto fail;
		}
		remove_stored(old);
	} else {
		ret = -errno;
		wl_error_set(err, final, "", "%s", strerror(-ret));
		goto fail;
	}
	sync_dir(calibrate_store_root());
	if (stored)
		snprintf(stored, 4096, "%s/%s", final, CAL_STORE_CALIBRATED);
	return 0;
fail:
	remove_stored(tmp);
	return ret;
}
