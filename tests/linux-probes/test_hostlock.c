/*
 * test_hostlock.c - the host's one lock, in a temporary state directory (no
 * root needed): refusing, waiting, giving up, and the lock a parent passes
 * down to its child.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "linux-probes/hostlock.h"

static char state[64];

static void make_state(void)
{
	snprintf(state, sizeof(state), "/tmp/vhostlock-XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	unsetenv(HOSTLOCK_FD_ENV);
}

static void remove_state(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" HOSTLOCK_NAME, state);
	unlink(path);
	rmdir(state);
}

TestSuite(hostlock, .init = make_state, .fini = remove_state, .timeout = 60);

/*
 * A child that holds the lock until it is killed (or, hold_s > 0, for that
 * long), and dies with the test even when an assertion ends the test early.
 */
static pid_t holder(int hold_s)
{
	struct wl_error err;
	int ready[2], fd;
	pid_t parent = getpid(), child;
	char c;

	cr_assert_eq(pipe(ready), 0);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent ||
		    hostlock_take(state, "the holder", HOSTLOCK_NO_WAIT, NULL, &fd, &err))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		if (hold_s > 0) {
			sleep((unsigned)hold_s);
			_exit(0);
		}
		for (;;)
			pause();
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1, "the child took the lock");
	close(ready[0]);
	return child;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

Test(hostlock, no_wait_refuses_naming_the_holder_until_it_is_killed)
{
	struct wl_error err;
	char want[64];
	pid_t child = holder(0);
	int fd, status;

	errno = 0;
	cr_assert_eq(hostlock_take(state, "a test", HOSTLOCK_NO_WAIT, NULL, &fd, &err), -1);
	cr_assert_eq(errno, EBUSY);
	cr_assert_eq(fd, -1);
	snprintf(want, sizeof(want), "pid %d (the holder) holds the host", (int)child);
	cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
	cr_assert_not_null(strstr(err.file, HOSTLOCK_NAME), "%s", err.file);

	/* SIGKILL leaves no stale lock */
	cr_assert_eq(kill(child, SIGKILL), 0);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert_eq(hostlock_take(state, "a test", HOSTLOCK_NO_WAIT, NULL, &fd, &err), 0,
		     "%s: %s", err.file, err.msg);
	hostlock_release(fd);
}

Test(hostlock, a_waiter_says_once_who_holds_it_and_takes_it_when_freed)
{
	struct wl_error err;
	char *text = NULL, want[256];
	size_t len = 0;
	FILE *note = open_memstream(&text, &len);
	pid_t child = holder(1);
	int fd, status;

	cr_assert_eq(hostlock_take(state, "virtuoso linux", 60, note, &fd, &err), 0, "%s: %s",
		     err.file, err.msg);
	fclose(note);
	snprintf(want, sizeof(want), "virtuoso linux: waiting for the host: pid %d (the holder) "
		 "holds %s/" HOSTLOCK_NAME "\n", (int)child, state);
	cr_assert_str_eq(text, want);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the holder held it to the end");
	hostlock_release(fd);
	free(text);
}

Test(hostlock, a_waiter_gives_up_after_its_timeout)
{
	struct wl_error err;
	char want[64];
	pid_t child = holder(0);
	double t0 = now_s();
	int fd;

	errno = 0;
	cr_assert_eq(hostlock_take(state, "a test", 1, NULL, &fd, &err), -1);
	cr_assert_eq(errno, ETIMEDOUT);
	cr_assert_geq(now_s() - t0, 1.0, "it waited its second");
	cr_assert_not_null(strstr(err.msg, "gave up waiting for the host after 1 s"), "%s", err.msg);
	snprintf(want, sizeof(want), "pid %d (the holder)", (int)child);
	cr_assert_not_null(strstr(err.msg, want), "%s", err.msg);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

/*
 * A child that tries the lock at once, with $VIRTUOSO_HOST_LOCK_FD set to
 * env (unset for NULL): 0 if it got it, 1 if not, 2 if the variable stayed.
 */
static int child_takes(const char *env)
{
	struct wl_error err;
	pid_t pid = fork();
	int status, fd;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (env)
			setenv(HOSTLOCK_FD_ENV, env, 1);
		else
			unsetenv(HOSTLOCK_FD_ENV);
		_exit(hostlock_take(state, "the child", HOSTLOCK_NO_WAIT, NULL, &fd, &err) ? 1 :
		      getenv(HOSTLOCK_FD_ENV) ? 2 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

Test(hostlock, a_child_takes_the_lock_its_parent_passes_down)
{
	struct wl_error err;
	char v[16];
	int fd, again;

	cr_assert_eq(hostlock_take(state, "the parent", HOSTLOCK_NO_WAIT, NULL, &fd, &err), 0,
		     "%s: %s", err.file, err.msg);
	cr_assert_eq(child_takes(NULL), 1, "without it, the child is refused");
	cr_assert_eq(hostlock_pass(fd), 0);
	cr_assert_eq(child_takes(getenv(HOSTLOCK_FD_ENV)), 0,
		     "with it, the child has the host (and the variable is gone)");
	/* the child's release (its exit) leaves the parent's hold alone */
	cr_assert_eq(child_takes(NULL), 1);

	/* a descriptor that is not this lock's passes nothing */
	again = open("/dev/null", O_RDONLY);
	snprintf(v, sizeof(v), "%d", again);
	cr_assert_eq(child_takes(v), 1);
	close(again);
	hostlock_release(fd);
	cr_assert_eq(child_takes(NULL), 0, "free again once the parent lets go");
}
