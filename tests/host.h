/*
 * host.h - for tests that need the real host: root, BPF, or exclusive use of
 * host kernel settings.
 *
 * Criterion runs tests in parallel (and make test may run suites side by
 * side), so every test that changes host settings (THP sysfs) or measures the
 * host calls host_exclusive() first: a blocking flock on one lock file shared
 * by every suite, held until the test's process exits (Criterion runs each
 * test in its own process).
 *
 * Tests that cannot run here skip with the reason, never fail:
 *	host_require_root();	-> "needs root (running as uid 65534)"
 *	host_require_bpf();	-> root and /sys/kernel/btf/vmlinux
 */
#ifndef TESTS_HOST_H
#define TESTS_HOST_H

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <criterion/criterion.h>

#define HOST_TEST_LOCK "/tmp/virtuoso-host-tests.lock"

static inline void host_exclusive(void)
{
	int fd = open(HOST_TEST_LOCK, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);

	cr_assert(fd >= 0, "cannot open %s", HOST_TEST_LOCK);
	cr_assert(flock(fd, LOCK_EX) == 0, "cannot lock %s", HOST_TEST_LOCK);
	/* fd stays open: the lock is released when this test's process exits */
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
