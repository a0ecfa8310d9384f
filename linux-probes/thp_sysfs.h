/*
 * thp_sysfs.h - apply a workload's kernel block to the host's THP sysfs for
 * one run, and always give the host its own settings back.
 *
 * `virtuoso linux` changes system-wide settings (transparent_hugepage/enabled,
 * the mTHP sizes, khugepaged's tunables). Those outlive the process, so the
 * order of a run is:
 *
 *	hostlock_take()		one run at a time on a host (hostlock.h)
 *	thp_sysfs_recover()	undo what a killed run left behind
 *	thp_sysfs_save()	record the host's settings, on disk
 *	thp_sysfs_apply()	the spec's settings
 *	... the run ...
 *	thp_sysfs_restore()	on exit, on error and from signal handlers' exits
 *	hostlock_release()
 *
 * The saved settings live in a file, not in memory, because the one case
 * where restoring matters most is the one where the process cannot do it: a
 * SIGKILL, an OOM kill, a crash. The next run finds the file and restores it
 * first (thp_sysfs_recover), so a host is never left in a workload's state
 * for longer than until the next run.
 *
 * The same discipline as the kernel's selftests (tools/testing/selftests/mm,
 * thp_settings.c): save every setting a run may change, restore them all.
 *
 * Paths are parameters so tests run on a fake tree (no root needed): the THP
 * root is normally WL_THP_SYSFS, the state directory thp_sysfs_state_dir().
 *
 * Every function returns 0, or -1 with err filled: err->file is the sysfs or
 * state file concerned, err->path is "" (or "line N" of the saved file).
 */
#ifndef LINUX_PROBES_THP_SYSFS_H
#define LINUX_PROBES_THP_SYSFS_H

#include "workload/error.h"

struct wl_kernel;

/*
 * Where the host's lock (hostlock.h) and the saved settings live. /run is
 * a tmpfs emptied at boot, which is right: a reboot restores the kernel's
 * defaults by itself, and a saved file from before it would describe a host
 * that is gone.
 * The environment variable VIRTUOSO_STATE_DIR overrides it (tests, hosts
 * without a writable /run).
 */
#define THP_SYSFS_STATE_DIR "/run/virtuoso"
#define THP_SYSFS_STATE_ENV "VIRTUOSO_STATE_DIR"

/* $VIRTUOSO_STATE_DIR if set and not empty, else THP_SYSFS_STATE_DIR. */
const char *thp_sysfs_state_dir(void);

/*
 * Record every setting a spec can change, as the host has it now, in
 * state_dir/thp-saved: enabled, defrag, use_zero_page, the enabled file of
 * every hugepages-<N>kB size the kernel has (all of them, also the sizes a
 * spec cannot name such as 2048kB, so restoring covers whatever a run or its
 * user may have touched), and the seven khugepaged tunables.
 *
 * "enabled" must exist (otherwise thp_root is not a THP tree); any other
 * file the kernel lacks (older kernels have no mTHP, no max_ptes_shared) is
 * simply not saved. Choice files ("always [madvise] never") are saved as
 * their bracketed word, the others as their one number.
 *
 * The format is one line "pid PID root THP_ROOT", then one "REL VALUE" line
 * per setting, REL relative to THP_ROOT. It is written to a temporary file,
 * fsynced, then linked into place, so a crash leaves either no saved state
 * or a complete one.
 *
 * Refuses (returns -1) if a saved state already exists: it holds the host's
 * real settings from before an earlier run and must be restored first, not
 * replaced by the earlier run's leftovers. Call with the lock held.
 */
int thp_sysfs_save(const char *thp_root, const char *state_dir, struct wl_error *err);

/*
 * Write the settings the spec sets; those still left to the host (*_HOST,
 * -1) are not touched. enabled, defrag and the mTHP sizes get the format's
 * names, which are the kernel's; use_zero_page and khugepaged/defrag get 0/1.
 * mTHP order o is the file hugepages-<4<<o>kB/enabled.
 *
 * A file is written only when its current value differs: writing any
 * khugepaged tunable wakes khugepaged and restarts its sleep, which would
 * itself change what the run measures.
 *
 * An mTHP size the kernel lacks is fine when the spec says "never" (the size
 * is as off as it can be) and an error naming the file otherwise. Stops at
 * the first error, naming the file and the value; the caller then restores.
 */
int thp_sysfs_apply(const struct wl_kernel *k, const char *thp_root, struct wl_error *err);

/*
 * Write back every value of state_dir/thp-saved (where it differs from the
 * current one) under thp_root, or under the root recorded in the file when
 * thp_root is NULL; then remove the file and fsync state_dir.
 *
 * One failing file does not stop the others: every setting that can be
 * restored is, and err reports the first failure. The saved file is then
 * kept, so a later thp_sysfs_recover() tries again; remove it by hand to
 * give up on it. Returns 0 when nothing was saved.
 *
 * Only settings thp_sysfs_save() writes are accepted from the file, so a
 * damaged file cannot make this write anywhere else.
 */
int thp_sysfs_restore(const char *state_dir, const char *thp_root, struct wl_error *err);

/*
 * At the start of a run, with the lock held: if state_dir/thp-saved exists,
 * a run was killed before it could restore; restore it now as
 * thp_sysfs_restore() does and set *restored_pid to that run's pid, for the
 * caller's note
 *	"virtuoso: restored THP settings left by an interrupted run (pid N)".
 * *restored_pid is 0 when there was nothing to restore or restoring failed.
 */
int thp_sysfs_recover(const char *state_dir, const char *thp_root, int *restored_pid,
		      struct wl_error *err);

#endif
