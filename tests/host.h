/*
 * host.h - for tests that need the real host: root, BPF, or exclusive use of
 * host kernel settings.
 *
 * Criterion runs tests in parallel (and make test may run suites side by
 * side), so every test that changes host settings (THP sysfs) or measures the
 * host calls host_exclusive() first: it takes the host's one lock, the one
 * virtuoso linux and the benchmarks take (linux-probes/hostlock.h), waiting
 * as long as it takes, and holds it until the test's process exits
 * (Criterion runs each test in its own process).
 *
 * The tool the test then runs as a child must not wait for its own parent:
 * host_exclusive() passes the lock down (hostlock_pass: the descriptor stays
 * open across exec and $VIRTUOSO_HOST_LOCK_FD names it), and the child's
 * hostlock_take() takes it through the shared open file. Two runs started
 * side by side both inherit it, so a test of their waiting for each other
 * gives them a state directory of their own (VIRTUOSO_STATE_DIR), hence a
 * lock of their own, while it keeps holding the real one.
 *
 * Tests that cannot run here skip with the reason, never fail:
 *	host_require_root();	-> "needs root (running as uid 65534)"
 *	host_require_bpf();	-> root and /sys/kernel/btf/vmlinux
 */
#ifndef TESTS_HOST_H
#define TESTS_HOST_H

#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "linux-probes/hostlock.h"
#include "linux-probes/thp_sysfs.h"

/* Call after host_require_root(): the lock lives in root's /run/virtuoso. */
/*
 * Whether the kernel has a hardware PMU, decided apart from the probes'
 * code: perf_event_open of cpu-cycles on ourselves (ENOENT in a guest
 * without a virtual PMU).
 */
static inline bool host_has_pmu(void)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_HARDWARE,
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static inline void host_exclusive(void)
{
	struct wl_error err = { 0 };
	int fd;

	cr_assert_eq(hostlock_take(thp_sysfs_state_dir(), "a test", HOSTLOCK_FOREVER, NULL, &fd,
				   &err), 0, "%s: %s", err.file, err.msg);
	cr_assert_eq(hostlock_pass(fd), 0, "cannot pass the host lock down");
	/* it stays open: the lock is released when this test's process exits */
}

static inline void host_require_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (running as uid %u)", (unsigned)geteuid());
}

static inline void host_require_bpf(void)
{
	host_require_root();
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		cr_skip_test("needs kernel BTF (/sys/kernel/btf/vmlinux is missing)");
}

#endif
