/*
 * test_backing.c - the page classifier on real memory of a real process.
 *
 * Each layout is built by a forked child (maps, advises, touches, then waits
 * on a pipe), so the parent classifies ANOTHER process; one test classifies
 * its own. Expected counts follow from what the child did, by hand. Layout
 * tests run both methods and check that they agree page for page: kpageflags
 * is the independent check of PAGEMAP_SCAN. They need root (PFNs,
 * /proc/kpageflags) and the PAGEMAP_SCAN ioctl; whether the kernel has the
 * ioctl is decided by uname and the test's own ioctl, never by backing.c.
 *
 * THP layouts need the host's THP "enabled" to be always or madvise (the
 * children use MADV_HUGEPAGE); nothing here writes sysfs. Once built, every
 * layout is marked MADV_NOHUGEPAGE so khugepaged cannot collapse it between
 * the two classifications (that changes no existing mapping).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include <criterion/criterion.h>

#include "linux-probes/backing.h"
#include "tests/host.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define PAGE 4096ull
#define THP_SYSFS "/sys/kernel/mm/transparent_hugepage"

struct layout {
	uint64_t size;		/* bytes of the region, the range classified */
	bool align_2m;		/* map size + 2MiB and trim to a 2MiB boundary */
	int advice;		/* MADV_HUGEPAGE, MADV_NOHUGEPAGE, or 0 */
	uint64_t stride;	/* touch the first byte every 'stride' bytes; 0: none */
	bool write;		/* touch by writing (else by reading) */
	/* then, each skipped when its length is 0: */
	uint64_t dontneed_off, dontneed_len;	/* MADV_DONTNEED */
	uint64_t rdonly_off, rdonly_len;	/* mprotect(PROT_READ) */
	uint64_t unmap_off, unmap_len;		/* munmap */
};

struct child {
	pid_t pid;
	int go;			/* closing it lets the child exit */
	uint64_t addr;		/* the region in the child */
};

/* In the child: build the layout; the region's address, or 0 on failure. */
static uint64_t build(const struct layout *l)
{
	uint64_t extra = l->align_2m ? 2 * MiB : 0;
	volatile char *p;
	char *m;
	uint64_t off;

	m = mmap(NULL, l->size + extra, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return 0;
	p = (volatile char *)m;
	if (l->align_2m) {
		char *a = (char *)(((uintptr_t)m + 2 * MiB - 1) & ~(uintptr_t)(2 * MiB - 1));

		if (a > m && munmap(m, (size_t)(a - m)))
			return 0;
		if (munmap(a + l->size, (size_t)(m + l->size + extra - (a + l->size))))
			return 0;
		p = (volatile char *)a;
	}
	if (l->advice && madvise((void *)p, l->size, l->advice))
		return 0;
	for (off = 0; l->stride && off < l->size; off += l->stride) {
		if (l->write)
			p[off] = 1;
		else
			(void)p[off];
	}
	if (l->dontneed_len &&
	    madvise((void *)(p + l->dontneed_off), l->dontneed_len, MADV_DONTNEED))
		return 0;
	if (l->rdonly_len && mprotect((void *)(p + l->rdonly_off), l->rdonly_len, PROT_READ))
		return 0;
	if (l->unmap_len && munmap((void *)(p + l->unmap_off), l->unmap_len))
		return 0;
	/* freeze: no khugepaged collapse from now on (existing mappings stay) */
	if (l->advice == MADV_HUGEPAGE && !l->unmap_len &&
	    madvise((void *)p, l->size, MADV_NOHUGEPAGE))
		return 0;
	return (uint64_t)(uintptr_t)p;
}

static struct child spawn(const struct layout *l)
{
	struct child c;
	int up[2], down[2];
	char byte;

	cr_assert(pipe(up) == 0 && pipe(down) == 0);
	c.pid = fork();
	cr_assert(c.pid >= 0, "fork: %s", strerror(errno));
	if (c.pid == 0) {
		uint64_t addr;

		close(up[0]);
		close(down[1]);
		addr = build(l);
		if (write(up[1], &addr, sizeof(addr)) != (ssize_t)sizeof(addr))
			_exit(1);
		while (read(down[0], &byte, 1) > 0)
			;	/* EOF: the parent is done */
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	cr_assert(read(up[0], &c.addr, sizeof(c.addr)) == (ssize_t)sizeof(c.addr),
		  "child %d died before reporting", (int)c.pid);
	close(up[0]);
	c.go = down[1];
	cr_assert(c.addr, "child %d could not build its layout", (int)c.pid);
	return c;
}

static void reap(struct child *c)
{
	int status;

	close(c->go);
	cr_assert(waitpid(c->pid, &status, 0) == c->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The bracketed word of a sysfs choice ("always [madvise] never"), or the value. */
static void sysfs_word(const char *path, char *out, size_t n)
{
	char buf[128], *w = buf;
	FILE *f = fopen(path, "r");
	size_t len;

	out[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		if (strchr(buf, '[') && strchr(buf, ']'))
			w = strchr(buf, '[') + 1;
		len = strcspn(w, "]\n");
		if (len >= n)
			len = n - 1;
		memcpy(out, w, len);
		out[len] = '\0';
	}
	fclose(f);
}

/*
 * MADV_HUGEPAGE regions get THPs at fault time only with enabled=always|madvise;
 * the host is held first, so that no run changes the setting under the test.
 */
static void require_thp_madvise(void)
{
	char v[32];

	host_exclusive();
	sysfs_word(THP_SYSFS "/enabled", v, sizeof(v));
	if (strcmp(v, "always") && strcmp(v, "madvise"))
		cr_skip_test("needs THP enabled=always or madvise (host has \"%s\")", v);
}

/* AnonHugePages (PMD-mapped THP) of the child's VMA at addr, in KiB; -1 if not found. */
static long anon_huge_kib(pid_t pid, uint64_t addr)
{
	char path[64], line[256];
	unsigned long long lo, hi;
	bool in = false;
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2)	/* a VMA's first line */
			in = lo == addr;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/* The host gave the child whole THPs (else the layout is not what the test means). */
static void require_thps(const struct child *c, uint64_t bytes)
{
	long kib = anon_huge_kib(c->pid, c->addr);

	if (kib < (long)(bytes / KiB))
		cr_skip_test("host gave no THP: AnonHugePages %ld kB, wanted %llu kB",
			     kib, (unsigned long long)(bytes / KiB));
}

/*
 * The test's own feature probe, independent of backing.c: an empty
 * PAGEMAP_SCAN (Linux 6.7, fs/proc/task_mmu.c; uapi struct pm_scan_arg is 12
 * u64s: size, flags, start, end, walk_end, vec, vec_len, max_pages, then the
 * four masks, return_mask last) on our own pagemap. 0 or an errno.
 */
struct probe_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define PROBE_PAGE_IS_PRESENT	(1 << 3)
#define PROBE_PAGEMAP_SCAN	_IOWR('f', 16, struct probe_scan_arg)

static int scan_ioctl_errno(void)
{
	struct probe_scan_arg arg = { .size = sizeof(arg), .return_mask = PROBE_PAGE_IS_PRESENT };
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), e = 0;

	cr_assert(fd >= 0, "/proc/self/pagemap: %s", strerror(errno));
	if (ioctl(fd, PROBE_PAGEMAP_SCAN, &arg) < 0)
		e = errno;
	close(fd);
	return e;
}

/* The running kernel is major.minor or later (uname's release). */
static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	cr_assert(uname(&u) == 0);
	cr_assert(sscanf(u.release, "%d.%d", &ma, &mi) == 2, "uname release \"%s\"", u.release);
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Skip only where the kernel lacks the ioctl (before 6.7, and our own probe
 * agrees); from then on backing.c must use it, and any failure of backing_open
 * in the tests is a failure.
 */
static void require_scan(void)
{
	int e = scan_ioctl_errno();

	if (!e)
		return;
	if (!kernel_at_least(6, 7) && (e == ENOTTY || e == EINVAL))
		cr_skip_test("needs the PAGEMAP_SCAN ioctl (Linux 6.7+)");
	cr_assert_fail("PAGEMAP_SCAN fails on a kernel that has it (6.7+): %s", strerror(e));
}

/* Both methods need: root for kpageflags, the ioctl for PAGEMAP_SCAN. */
static void require_both(void)
{
	host_require_root();
	require_scan();
}

static void classify(pid_t pid, enum backing_method m, uint64_t addr, uint64_t len,
		     uint8_t *classes, uint64_t counts[PAGE_CLASS_NR])
{
	struct backing_reader r;
	struct wl_error err = { 0 };
	int ret;

	ret = backing_open(&r, pid, m, &err);
	cr_assert_eq(ret, 0, "open %s: %s: %s", backing_method_name(m), err.file, err.msg);
	cr_assert_eq(r.method, m);
	ret = backing_classify(&r, addr, len, classes, counts, &err);
	cr_assert_eq(ret, 0, "classify %s: %s: %s", backing_method_name(m), err.file, err.msg);
	backing_close(&r);
}

/*
 * Classify with both methods, check they agree page for page and that the
 * counts add up; return PAGEMAP_SCAN's classes (free them) and counts.
 */
static uint8_t *classify_both(pid_t pid, uint64_t addr, uint64_t len,
			      uint64_t counts[PAGE_CLASS_NR])
{
	uint64_t n = len / PAGE, kcounts[PAGE_CLASS_NR], sum = 0, i;
	uint8_t *scan = malloc(n), *kpf = malloc(n);
	int c;

	cr_assert(scan && kpf);
	classify(pid, BACKING_PAGEMAP_SCAN, addr, len, scan, counts);
	classify(pid, BACKING_KPAGEFLAGS, addr, len, kpf, kcounts);
	for (i = 0; i < n; i++)
		cr_assert_eq(scan[i], kpf[i], "page %llu (+%#llx): pagemap_scan says %s, kpageflags says %s",
			     (unsigned long long)i, (unsigned long long)(i * PAGE),
			     page_class_name(scan[i]), page_class_name(kpf[i]));
	for (c = 0; c < PAGE_CLASS_NR; c++) {
		cr_assert_eq(counts[c], kcounts[c], "%s", page_class_name(c));
		sum += counts[c];
	}
	cr_assert_eq(sum, n);
	free(kpf);
	return scan;
}

static void assert_counts(const uint64_t *counts, uint64_t none, uint64_t zero,
			  uint64_t pte, uint64_t pmd)
{
	cr_expect_eq(counts[PAGE_CLASS_NONE], none, "none: got %llu, want %llu",
		     (unsigned long long)counts[PAGE_CLASS_NONE], (unsigned long long)none);
	cr_expect_eq(counts[PAGE_CLASS_ZERO], zero, "zero: got %llu, want %llu",
		     (unsigned long long)counts[PAGE_CLASS_ZERO], (unsigned long long)zero);
	cr_expect_eq(counts[PAGE_CLASS_PTE], pte, "pte: got %llu, want %llu",
		     (unsigned long long)counts[PAGE_CLASS_PTE], (unsigned long long)pte);
	cr_expect_eq(counts[PAGE_CLASS_PMD], pmd, "pmd: got %llu, want %llu",
		     (unsigned long long)counts[PAGE_CLASS_PMD], (unsigned long long)pmd);
}

Test(backing, names_are_the_results_keys)
{
	cr_expect_str_eq(page_class_name(PAGE_CLASS_NONE), "none");
	cr_expect_str_eq(page_class_name(PAGE_CLASS_ZERO), "zero");
	cr_expect_str_eq(page_class_name(PAGE_CLASS_PTE), "pte");
	cr_expect_str_eq(page_class_name(PAGE_CLASS_PMD), "pmd");
	cr_expect_str_eq(page_class_name(PAGE_CLASS_NR), "?");
	cr_expect_str_eq(backing_method_name(BACKING_AUTO), "auto");
	cr_expect_str_eq(backing_method_name(BACKING_PAGEMAP_SCAN), "pagemap_scan");
	cr_expect_str_eq(backing_method_name(BACKING_KPAGEFLAGS), "kpageflags");
}

Test(backing, auto_picks_pagemap_scan_when_the_ioctl_works)
{
	struct backing_reader r;
	struct wl_error err;

	require_scan();
	cr_assert_eq(backing_open(&r, getpid(), BACKING_AUTO, &err), 0, "%s: %s", err.file, err.msg);
	cr_expect_eq(r.method, BACKING_PAGEMAP_SCAN);
	cr_expect_eq(r.kpageflags_fd, -1);
	backing_close(&r);
}

/* 4MiB mapped, nothing touched: 1024 none. */
Test(backing, untouched_region_is_all_none)
{
	struct layout l = { .size = 4 * MiB, .advice = MADV_NOHUGEPAGE };
	uint64_t counts[PAGE_CLASS_NR];
	struct child c;

	require_both();
	c = spawn(&l);
	free(classify_both(c.pid, c.addr, l.size, counts));
	assert_counts(counts, 1024, 0, 0, 0);
	reap(&c);
}

/*
 * 4MiB, no THP, a write to every 4th page (every 16KiB): 1024 / 4 = 256 pte,
 * the other 768 none, and pte exactly at the multiples of 4. 256 separate
 * ranges are more than BACKING_SCAN_VEC: PAGEMAP_SCAN stops early and the
 * reader goes on from walk_end.
 */
Test(backing, every_4th_page_written_is_pte)
{
	struct layout l = { .size = 4 * MiB, .advice = MADV_NOHUGEPAGE,
			    .stride = 16 * KiB, .write = true };
	uint64_t counts[PAGE_CLASS_NR], i;
	struct child c;
	uint8_t *cls;

	require_both();
	c = spawn(&l);
	cls = classify_both(c.pid, c.addr, l.size, counts);
	assert_counts(counts, 768, 0, 256, 0);
	for (i = 0; i < 1024; i++)
		cr_assert_eq(cls[i], i % 4 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, "page %llu",
			     (unsigned long long)i);
	free(cls);
	reap(&c);
}

/* 4MiB, no THP, every page read: all 1024 map the 4KiB zero page. */
Test(backing, pages_only_read_are_zero)
{
	struct layout l = { .size = 4 * MiB, .advice = MADV_NOHUGEPAGE, .stride = PAGE };
	uint64_t counts[PAGE_CLASS_NR];
	struct child c;

	require_both();
	c = spawn(&l);
	free(classify_both(c.pid, c.addr, l.size, counts));
	assert_counts(counts, 0, 1024, 0, 0);
	reap(&c);
}

/* 4MiB 2MiB-aligned MADV_HUGEPAGE, every page written: two THPs, 1024 pmd. */
Test(backing, written_thp_region_is_pmd)
{
	struct layout l = { .size = 4 * MiB, .align_2m = true, .advice = MADV_HUGEPAGE,
			    .stride = PAGE, .write = true };
	uint64_t counts[PAGE_CLASS_NR];
	struct child c;

	require_both();
	require_thp_madvise();
	c = spawn(&l);
	require_thps(&c, l.size);
	free(classify_both(c.pid, c.addr, l.size, counts));
	assert_counts(counts, 0, 0, 0, 1024);
	reap(&c);
}

/*
 * Same region read instead of written, with use_zero_page=1: each 2MiB is
 * PMD-mapped to the huge zero page, which is zero, not pmd: 1024 zero.
 */
Test(backing, huge_zero_page_is_zero)
{
	struct layout l = { .size = 4 * MiB, .align_2m = true, .advice = MADV_HUGEPAGE,
			    .stride = PAGE };
	uint64_t counts[PAGE_CLASS_NR];
	struct child c;
	char v[32];

	require_both();
	require_thp_madvise();
	sysfs_word(THP_SYSFS "/use_zero_page", v, sizeof(v));
	if (strcmp(v, "1"))
		cr_skip_test("needs THP use_zero_page=1 (host has \"%s\")", v);
	c = spawn(&l);
	free(classify_both(c.pid, c.addr, l.size, counts));
	assert_counts(counts, 0, 1024, 0, 0);
	reap(&c);
}

/*
 * Two written THPs, then MADV_DONTNEED of one 4KiB page at +2MiB+8KiB (page
 * 514). On 6.18 the second PMD is split (__split_huge_pmd, folio queued for
 * deferred split) and only that PTE is zapped: the first block stays 512 pmd,
 * the second is 511 pte + 1 none.
 */
Test(backing, dontneed_of_one_page_splits_its_thp_to_pte)
{
	struct layout l = { .size = 4 * MiB, .align_2m = true, .advice = MADV_HUGEPAGE,
			    .stride = PAGE, .write = true,
			    .dontneed_off = 2 * MiB + 8 * KiB, .dontneed_len = PAGE };
	uint64_t counts[PAGE_CLASS_NR], i;
	struct child c;
	uint8_t *cls;

	require_both();
	require_thp_madvise();
	c = spawn(&l);
	require_thps(&c, 2 * MiB);
	cls = classify_both(c.pid, c.addr, l.size, counts);
	assert_counts(counts, 1, 0, 511, 512);
	for (i = 0; i < 1024; i++)
		cr_assert_eq(cls[i], i < 512 ? PAGE_CLASS_PMD : i == 514 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE,
			     "page %llu", (unsigned long long)i);
	free(cls);
	reap(&c);
}

/*
 * A range that cuts a THP: the 1MiB at +512KiB of a written 2MiB THP is 256
 * pmd with both methods (kpageflags reads the whole block).
 */
Test(backing, range_inside_a_thp_is_pmd)
{
	struct layout l = { .size = 2 * MiB, .align_2m = true, .advice = MADV_HUGEPAGE,
			    .stride = PAGE, .write = true };
	uint64_t counts[PAGE_CLASS_NR];
	struct child c;

	require_both();
	require_thp_madvise();
	c = spawn(&l);
	require_thps(&c, l.size);
	free(classify_both(c.pid, c.addr + 512 * KiB, 1 * MiB, counts));
	assert_counts(counts, 0, 0, 0, 256);
	reap(&c);
}

/*
 * 16 written pages (no THP), then pages 4..7 unmapped: the range still
 * covers them and they count as none: 12 pte, 4 none.
 */
Test(backing, unmapped_hole_is_none)
{
	struct layout l = { .size = 64 * KiB, .advice = MADV_NOHUGEPAGE, .stride = PAGE,
			    .write = true, .unmap_off = 16 * KiB, .unmap_len = 16 * KiB };
	uint64_t counts[PAGE_CLASS_NR];
	struct child c;
	uint8_t *cls;
	int i;

	require_both();
	c = spawn(&l);
	cls = classify_both(c.pid, c.addr, l.size, counts);
	assert_counts(counts, 4, 0, 12, 0);
	for (i = 0; i < 16; i++)
		cr_expect_eq(cls[i], i >= 4 && i < 8 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, "page %d", i);
	free(cls);
	reap(&c);
}

/*
 * The own process: 1MiB without THP, pages 0-9 written, 10-14 read: 10 pte,
 * 5 zero, 256 - 15 = 241 none.
 */
Test(backing, own_process_is_classified)
{
	uint64_t counts[PAGE_CLASS_NR];
	volatile char *p;
	int i;

	require_both();
	p = mmap(NULL, 1 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(p != MAP_FAILED);
	cr_assert(madvise((void *)p, 1 * MiB, MADV_NOHUGEPAGE) == 0);
	for (i = 0; i < 10; i++)
		p[i * PAGE] = 1;
	for (i = 10; i < 15; i++)
		(void)p[i * PAGE];
	free(classify_both(getpid(), (uint64_t)(uintptr_t)p, 1 * MiB, counts));
	assert_counts(counts, 241, 5, 10, 0);
	munmap((void *)p, 1 * MiB);
}

/*
 * The documented limit of the fallback. mprotect of one page inside a written
 * THP splits the VMA and so the PMD: all 512 pages stay mapped, now by PTEs,
 * and the order-9 folio stays whole. PAGEMAP_SCAN sees 512 pte; kpageflags
 * cannot tell this from a PMD mapping and says 512 pmd.
 */
Test(backing, kpageflags_cannot_tell_a_pte_mapped_whole_thp)
{
	struct layout l = { .size = 2 * MiB, .align_2m = true, .advice = MADV_HUGEPAGE,
			    .stride = PAGE, .write = true,
			    .rdonly_off = 12 * KiB, .rdonly_len = PAGE };
	uint64_t scan[PAGE_CLASS_NR], kpf[PAGE_CLASS_NR];
	struct child c;

	require_both();
	require_thp_madvise();
	c = spawn(&l);
	/* the split leaves no PMD-mapped page to check: look at the folio instead */
	classify(c.pid, BACKING_PAGEMAP_SCAN, c.addr, l.size, NULL, scan);
	classify(c.pid, BACKING_KPAGEFLAGS, c.addr, l.size, NULL, kpf);
	assert_counts(scan, 0, 0, 512, 0);
	if (kpf[PAGE_CLASS_PMD] == 0)
		cr_skip_test("host gave no THP (kpageflags: %llu pte)",
			     (unsigned long long)kpf[PAGE_CLASS_PTE]);
	assert_counts(kpf, 0, 0, 0, 512);
	reap(&c);
}

Test(backing, misaligned_range_is_refused)
{
	struct backing_reader r;
	struct wl_error err;
	uint64_t counts[PAGE_CLASS_NR];

	require_scan();
	cr_assert_eq(backing_open(&r, getpid(), BACKING_PAGEMAP_SCAN, &err), 0);
	cr_expect_eq(backing_classify(&r, 0x10000 + 1, PAGE, NULL, counts, &err), -EINVAL);
	cr_expect_eq(backing_classify(&r, 0x10000, PAGE + 1, NULL, counts, &err), -EINVAL);
	backing_close(&r);
}

/*
 * A process that exits after backing_open: classify says ESRCH (a zombie has
 * no address space), and once reaped, backing_open says ENOENT. Both errors
 * name the pagemap file.
 */
static void gone_process(enum backing_method m)
{
	struct layout l = { .size = 64 * KiB, .stride = PAGE, .write = true };
	struct backing_reader r;
	struct wl_error err = { 0 };
	uint64_t counts[PAGE_CLASS_NR];
	char path[64];
	struct child c;
	int status;

	c = spawn(&l);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)c.pid);
	cr_assert_eq(backing_open(&r, c.pid, m, &err), 0, "%s: %s", err.file, err.msg);
	close(c.go);
	/* wait for the exit without reaping: the child stays a zombie */
	cr_assert(waitid(P_PID, (id_t)c.pid, NULL, WEXITED | WNOWAIT) == 0);
	cr_expect_eq(backing_classify(&r, c.addr, l.size, NULL, counts, &err), -ESRCH);
	cr_expect_str_eq(err.file, path);
	backing_close(&r);

	cr_assert(waitpid(c.pid, &status, 0) == c.pid);
	memset(&err, 0, sizeof(err));
	cr_expect_eq(backing_open(&r, c.pid, m, &err), -ENOENT);
	cr_expect_str_eq(err.file, path);
	cr_expect(strstr(err.msg, "cannot open"), "message: %s", err.msg);
	backing_close(&r);
}

Test(backing, gone_process_is_esrch_with_pagemap_scan)
{
	require_scan();
	gone_process(BACKING_PAGEMAP_SCAN);
}

Test(backing, gone_process_is_esrch_with_kpageflags)
{
	host_require_root();
	gone_process(BACKING_KPAGEFLAGS);
}

/* Run fn in a child (to drop privileges there); its exit status, 0 = as expected. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0)
		_exit(fn());
	cr_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

static int open_kpageflags_as_nobody(void)
{
	struct backing_reader r;
	struct wl_error err = { 0 };
	int ret;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 1;
	prctl(PR_SET_DUMPABLE, 1);	/* setuid made /proc/self root's */
	ret = backing_open(&r, getpid(), BACKING_KPAGEFLAGS, &err);
	backing_close(&r);
	if (ret != -EACCES)
		return 2;
	return strcmp(err.file, "/proc/kpageflags") ? 3 : 0;
}

/* Without root /proc/kpageflags does not open: -EACCES, naming the file. */
Test(backing, kpageflags_without_root_is_refused)
{
	host_require_root();
	cr_expect_eq(in_child(open_kpageflags_as_nobody), 0);
}

static int classify_without_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	struct backing_reader r;
	struct wl_error err = { 0 };
	uint64_t counts[PAGE_CLASS_NR];
	volatile char *p;
	int ret;

	if (syscall(SYS_capget, &hdr, data))
		return 1;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data))
		return 2;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 3;
	p[0] = 1;
	/* uid 0 still opens /proc/kpageflags (mode 0400), but pagemap hides PFNs */
	if (backing_open(&r, getpid(), BACKING_KPAGEFLAGS, &err))
		return 4;
	ret = backing_classify(&r, (uint64_t)(uintptr_t)p, PAGE, NULL, counts, &err);
	backing_close(&r);
	if (ret != -EPERM)
		return 5;
	return strstr(err.msg, "CAP_SYS_ADMIN") && strstr(err.file, "/pagemap") ? 0 : 6;
}

/* Root without CAP_SYS_ADMIN reads PFNs as 0: the fallback refuses with -EPERM. */
Test(backing, hidden_pfns_are_refused_by_kpageflags)
{
	host_require_root();
	cr_expect_eq(in_child(classify_without_sys_admin), 0);
}
