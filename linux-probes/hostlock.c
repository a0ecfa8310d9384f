/*
 * hostlock.c - the host's one lock (see hostlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "linux-probes/hostlock.h"

#define RETRY_MS 100

int hostlock_path(char *buf, const char *state_dir, struct wl_error *err)
{
	if (snprintf(buf, PATH_MAX, "%s/" HOSTLOCK_NAME, state_dir) >= PATH_MAX)
		return wl_error_set(err, state_dir, "", "path too long");
	return 0;
}

void hostlock_holder(int fd, char *buf, size_t len)
{
	char text[128], comm[64] = "", path[64];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long pid = 0;
	int used = 0;
	FILE *f;

	text[n > 0 ? n : 0] = '\0';
	text[strcspn(text, "\n")] = '\0';
	if (sscanf(text, "%ld %n", &pid, &used) != 1 || pid <= 0) {
		snprintf(buf, len, "another process");
		return;
	}
	if (!text[used]) {	/* no name: what the kernel calls it */
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if ((f = fopen(path, "re"))) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = '\0';
			fclose(f);
		}
		comm[strcspn(comm, "\n")] = '\0';
	}
	snprintf(buf, len, "pid %ld (%s)", pid, text[used] ? text + used : comm[0] ? comm : "?");
}

/* The lock the parent passed down, if it is this one and we now hold it; else -1. */
static int inherited(const char *path)
{
	const char *v = getenv(HOSTLOCK_FD_ENV);
	struct stat a, b;
	char *end;
	long fd;

	if (!v || !*v)
		return -1;
	fd = strtol(v, &end, 10);
	unsetenv(HOSTLOCK_FD_ENV);	/* for the parent's children only, not theirs */
	if (*end || fd < 0 || fd > INT_MAX || fstat((int)fd, &a) || stat(path, &b) ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return -1;
	if (flock((int)fd, LOCK_EX | LOCK_NB))
		return -1;
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Wait for the lock on fd as hostlock_take() says; 0 once held. */
static int wait_for(int fd, const char *path, const char *name, int wait_s, FILE *note,
		    struct wl_error *err)
{
	const struct timespec retry = { 0, RETRY_MS * 1000000L };
	double until = now_s() + wait_s;
	char holder[160];

	hostlock_holder(fd, holder, sizeof(holder));
	if (wait_s == HOSTLOCK_NO_WAIT) {
		errno = EBUSY;
		return wl_error_set(err, path, "", "%s holds the host; not waiting (--no-wait)",
				    holder);
	}
	if (note) {
		fprintf(note, "%s: waiting for the host: %s holds %s\n", name, holder, path);
		fflush(note);
	}
	for (;;) {
		if (wait_s != HOSTLOCK_FOREVER && now_s() >= until) {
			hostlock_holder(fd, holder, sizeof(holder));
			errno = ETIMEDOUT;
			return wl_error_set(err, path, "", "gave up waiting for the host after %d s: "
					    "%s holds it", wait_s, holder);
		}
		nanosleep(&retry, NULL);
		if (!flock(fd, LOCK_EX | LOCK_NB))
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return wl_error_set(err, path, "", "cannot lock: %s", strerror(errno));
	}
}

int hostlock_take(const char *state_dir, const char *name, int wait_s, FILE *note, int *fd,
		  struct wl_error *err)
{
	char path[PATH_MAX], buf[128];
	int l, n, e;

	*fd = -1;
	if (hostlock_path(path, state_dir, err))
		return -1;
	if ((l = inherited(path)) >= 0) {
		*fd = l;	/* the parent's: its "PID NAME" stays */
		return 0;
	}
	if (mkdir(state_dir, 0755) && errno != EEXIST)
		return wl_error_set(err, state_dir, "", "cannot create: %s", strerror(errno));
	l = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (l < 0)
		return wl_error_set(err, path, "", "cannot open: %s", strerror(errno));
	if (flock(l, LOCK_EX | LOCK_NB)) {
		e = errno;
		if (e != EWOULDBLOCK)
			wl_error_set(err, path, "", "cannot lock: %s", strerror(e));
		else if (wait_for(l, path, name, wait_s, note, err))
			e = errno;
		else
			e = 0;
		if (e) {
			close(l);
			errno = e;
			return -1;
		}
	}
	n = snprintf(buf, sizeof(buf), "%d %s\n", (int)getpid(), name);
	if (ftruncate(l, 0) || pwrite(l, buf, (size_t)n, 0) != n) {
		wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
		close(l);
		return -1;
	}
	*fd = l;
	return 0;
}

void hostlock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

int hostlock_pass(int fd)
{
	char v[16];
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC))
		return -errno;
	snprintf(v, sizeof(v), "%d", fd);
	return setenv(HOSTLOCK_FD_ENV, v, 1) ? -errno : 0;
}
