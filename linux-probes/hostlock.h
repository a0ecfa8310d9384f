/*
 * hostlock.h - one holder of the host at a time: `virtuoso linux`, `virtuoso
 * run`, the benchmarks and the tests that change or measure the host all
 * take the same lock, state_dir/lock (state_dir is thp_sysfs_state_dir():
 * /run/virtuoso, or $VIRTUOSO_STATE_DIR). The name is the one every earlier
 * version of virtuoso linux locked, so that a run of an older build on the
 * same host (another checkout's tests, say) and a run of this one still keep
 * out of each other's THP settings and saved state.
 *
 * The lock is a flock(2) on that file. It belongs to the open file
 * description, so it goes away with its holder however the holder ends
 * (SIGKILL included): there is never a stale lock, only possibly a state a
 * killed run left in state_dir, which the next run undoes first
 * (thp_sysfs_recover, vmtrace_recover). The holder writes "PID NAME" into
 * the file, so that whoever waits can say who holds it:
 *
 *	virtuoso linux: waiting for the host: pid 1234 (virtuoso run) holds /run/virtuoso/lock
 *
 * A holder that runs the tool as its child (a test, a benchmark) passes the
 * lock down instead of releasing it: hostlock_pass() leaves the descriptor
 * open across exec and names it in $VIRTUOSO_HOST_LOCK_FD. The child's
 * hostlock_take() accepts the descriptor only if it is open on this very
 * lock file (same device and inode) and flock(LOCK_EX | LOCK_NB) on it
 * succeeds, which it does because the child shares the parent's open file
 * description, the one that holds the lock. So the lock is re-entrant from
 * a parent to the children it chooses, and to no one else: a process that
 * merely sets the variable names a descriptor it does not hold. The child
 * releases by closing its copy, which leaves the parent's hold alone.
 * (Why not a variable alone, "the parent holds it": nothing would check
 * it. Why not have the parent let go: another waiter could take the host
 * between the parent's release and the child's take.)
 *
 * Functions return 0, or -1 with err filled (err->file: the lock file).
 */
#ifndef LINUX_PROBES_HOSTLOCK_H
#define LINUX_PROBES_HOSTLOCK_H

#include <stdio.h>

#include "workload/error.h"

#define HOSTLOCK_NAME "lock"
#define HOSTLOCK_FD_ENV "VIRTUOSO_HOST_LOCK_FD"

/* How long hostlock_take() waits for the holder, in seconds, by default. */
#define HOSTLOCK_WAIT_DEFAULT_S	600
#define HOSTLOCK_NO_WAIT	0	/* refuse at once */
#define HOSTLOCK_FOREVER	(-1)	/* wait as long as it takes */

/* state_dir/lock into buf (PATH_MAX); -1 with err if too long. */
int hostlock_path(char *buf, const char *state_dir, struct wl_error *err);

/*
 * Take the host: create state_dir (0755) if missing, open its lock file
 * (close-on-exec) and flock it, then write "PID NAME\n" into it ('name'
 * says what the holder is: "virtuoso linux", "bench_linux", "a test").
 *
 * First a lock passed down by the parent ($VIRTUOSO_HOST_LOCK_FD, see
 * above) is taken if it is this lock's; the variable is then removed, so
 * it reaches no further. Otherwise, while another process holds the lock:
 *
 *	wait_s == HOSTLOCK_NO_WAIT: -1 at once, errno EBUSY, err naming the
 *		holder ("pid 1234 (virtuoso run) holds the host; ...").
 *	else: print "NAME: waiting for the host: pid 1234 (virtuoso run)
 *		holds PATH" on 'note' once (if note is not NULL), and try again
 *		every 100 ms; after wait_s seconds (never, for HOSTLOCK_FOREVER)
 *		-1, errno ETIMEDOUT, err saying how long it waited and who holds
 *		the lock.
 *
 * Signals are left to their disposition while waiting: a SIGINT ends a wait
 * as it ends the process, and nothing needs restoring then.
 *
 * On success *fd holds the lock; -1 on error.
 */
int hostlock_take(const char *state_dir, const char *name, int wait_s, FILE *note, int *fd,
		  struct wl_error *err);

/* Release the lock (close fd); a negative fd is ignored. */
void hostlock_release(int fd);

/*
 * Let the programs this process executes take the lock it holds: clear
 * close-on-exec on fd and set $VIRTUOSO_HOST_LOCK_FD to it. Returns 0 or
 * -errno.
 */
int hostlock_pass(int fd);

/*
 * Who holds the lock open on fd, as "pid 1234 (virtuoso run)", from what
 * the holder wrote (its /proc/PID/comm when it wrote no name, as older
 * builds do not); "another
 * process" when the file says nothing.
 */
void hostlock_holder(int fd, char *buf, size_t len);

#endif
