#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include "linux-probes/backing.h"

/* Linux 6.7 UAPI (include/uapi/linux/fs.h); Debian 12's headers predate it. */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#endif

#define KPAGEFLAGS_PATH		"/proc/kpageflags"

/* /proc/PID/pagemap entry (Documentation/admin-guide/mm/pagemap.rst) */
#define PM_PRESENT		(1ULL << 63)
#define PM_PFN_MASK		((1ULL << 55) - 1)

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define KPF_THP			22
#define KPF_ZERO_PAGE		24
#define KPF(flags, bit)		(((flags) >> (bit)) & 1)

#define PMD_BLOCK_PAGES		512u	/* 4KiB pages per PMD */
#define PMD_BLOCK_SIZE		((uint64_t)PMD_BLOCK_PAGES * BACKING_PAGE_SIZE)

static const char *const method_names[] = {
	[BACKING_AUTO] = "auto",
	[BACKING_PAGEMAP_SCAN] = "pagemap_scan",
	[BACKING_KPAGEFLAGS] = "kpageflags",
};

const char *backing_method_name(enum backing_method m)
{
	return (unsigned)m <= BACKING_KPAGEFLAGS ? method_names[m] : "?";
}

/* Fill err with "FILE: MESSAGE" and return -e. */
__attribute__((format(printf, 4, 5)))
static int fail(struct wl_error *err, const char *file, int e, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wl_error_set(err, file, "", "%s", msg);
	return -e;
}

/*
 * The address space behind the pagemap file is alive: pagemap_read() returns
 * nothing once the mm has no users (exited, zombie) or for a task without one.
 */
static int mm_alive(struct backing_reader *r, uint64_t addr, struct wl_error *err)
{
	uint64_t pme;
	ssize_t n = pread(r->pagemap_fd, &pme, sizeof(pme),
			  (off_t)(addr / BACKING_PAGE_SIZE * sizeof(pme)));

	if (n == (ssize_t)sizeof(pme))
		return 0;
	if (n < 0)
		return fail(err, r->pagemap_path, errno, "read failed: %s", strerror(errno));
	return fail(err, r->pagemap_path, ESRCH,
		    "process %d has no address space (it exited)", (int)r->pid);
}

static void scan_args(struct pm_scan_arg *arg, uint64_t start, uint64_t end,
		      struct page_region *vec, uint64_t vec_len)
{
	memset(arg, 0, sizeof(*arg));
	arg->size = sizeof(*arg);
	arg->start = start;
	arg->end = end;
	arg->vec = (uint64_t)(uintptr_t)vec;
	arg->vec_len = vec_len;
	arg->category_anyof_mask = PAGE_IS_PRESENT;
	arg->return_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO | PAGE_IS_HUGE;
}

/* An empty scan with the real masks: 0, or -ENOTTY/-EINVAL where unsupported. */
static int scan_probe(struct backing_reader *r)
{
	struct pm_scan_arg arg;

	scan_args(&arg, 0, 0, NULL, 0);
	return ioctl(r->pagemap_fd, PAGEMAP_SCAN, &arg) < 0 ? -errno : 0;
}

int backing_open(struct backing_reader *r, pid_t pid, enum backing_method m,
		 struct wl_error *err)
{
	int ret, e;

	r->pid = pid;
	r->method = m;
	r->pagemap_fd = r->kpageflags_fd = -1;
	snprintf(r->pagemap_path, sizeof(r->pagemap_path), "/proc/%d/pagemap", (int)pid);
	if ((unsigned)m > BACKING_KPAGEFLAGS)
		return fail(err, r->pagemap_path, EINVAL, "unknown backing method %d", (int)m);

	r->pagemap_fd = open(r->pagemap_path, O_RDONLY | O_CLOEXEC);
	if (r->pagemap_fd < 0)
		return fail(err, r->pagemap_path, errno, "cannot open: %s", strerror(errno));
	/* before any ioctl: PAGEMAP_SCAN does not check for a missing mm */
	ret = mm_alive(r, 0, err);
	if (ret < 0)
		goto out_close;

	if (m != BACKING_KPAGEFLAGS) {
		ret = scan_probe(r);
		if (!ret) {
			r->method = BACKING_PAGEMAP_SCAN;
			return 0;
		}
		if (m == BACKING_PAGEMAP_SCAN || (ret != -ENOTTY && ret != -EINVAL)) {
			fail(err, r->pagemap_path, -ret, "PAGEMAP_SCAN ioctl failed: %s",
			     strerror(-ret));
			goto out_close;
		}
	}

	r->kpageflags_fd = open(KPAGEFLAGS_PATH, O_RDONLY | O_CLOEXEC);
	if (r->kpageflags_fd < 0) {
		e = errno;
		ret = fail(err, KPAGEFLAGS_PATH, e, "cannot open%s: %s",
			   m == BACKING_AUTO ? " (the fallback: no PAGEMAP_SCAN here)" : "",
			   strerror(e));
		goto out_close;
	}
	r->method = BACKING_KPAGEFLAGS;
	return 0;

out_close:
	backing_close(r);
	return ret;
}

void backing_close(struct backing_reader *r)
{
	if (r->pagemap_fd >= 0)
		close(r->pagemap_fd);
	if (r->kpageflags_fd >= 0)
		close(r->kpageflags_fd);
	r->pagemap_fd = r->kpageflags_fd = -1;
}

/* Give n pages from page index 'first' of the range class c. */
static void mark(uint8_t *classes, uint64_t counts[PAGE_CLASS_NR],
		 uint64_t first, uint64_t n, enum page_class c)
{
	if (classes)
		memset(classes + first, c, n);
	counts[c] += n;
}

static enum page_class scan_class(uint64_t categories)
{
	if (categories & PAGE_IS_PFNZERO)
		return PAGE_CLASS_ZERO;
	if (categories & PAGE_IS_HUGE)
		return PAGE_CLASS_PMD;
	return PAGE_CLASS_PTE;
}

static int classify_scan(struct backing_reader *r, uint64_t start, uint64_t end,
			 uint8_t *classes, uint64_t counts[PAGE_CLASS_NR],
			 struct wl_error *err)
{
	struct page_region vec[BACKING_SCAN_VEC];
	struct pm_scan_arg arg;
	uint64_t at = start;
	long i, n;

	/* every page is none until a present range says otherwise */
	while (at < end) {
		scan_args(&arg, at, end, vec, BACKING_SCAN_VEC);
		n = ioctl(r->pagemap_fd, PAGEMAP_SCAN, &arg);
		if (n < 0)
			return fail(err, r->pagemap_path, errno, "PAGEMAP_SCAN of %#llx-%#llx failed: %s",
				    (unsigned long long)at, (unsigned long long)end, strerror(errno));
		for (i = 0; i < n; i++) {
			const struct page_region *v = &vec[i];

			if (v->start < at || v->end > end || v->start >= v->end ||
			    v->start % BACKING_PAGE_SIZE || v->end % BACKING_PAGE_SIZE)
				return fail(err, r->pagemap_path, EIO,
					    "PAGEMAP_SCAN returned %#llx-%#llx outside %#llx-%#llx",
					    (unsigned long long)v->start, (unsigned long long)v->end,
					    (unsigned long long)at, (unsigned long long)end);
			counts[PAGE_CLASS_NONE] -= (v->end - v->start) / BACKING_PAGE_SIZE;
			mark(classes, counts, (v->start - start) / BACKING_PAGE_SIZE,
			     (v->end - v->start) / BACKING_PAGE_SIZE, scan_class(v->categories));
		}
		/* a full vector stops the walk early: go on from walk_end */
		if (arg.walk_end <= at || arg.walk_end > end)
			return fail(err, r->pagemap_path, EIO,
				    "PAGEMAP_SCAN of %#llx-%#llx stopped at %#llx",
				    (unsigned long long)at, (unsigned long long)end,
				    (unsigned long long)arg.walk_end);
		at = arg.walk_end;
	}
	return 0;
}

/* pread exactly 'n' 64-bit entries at entry index 'idx'; returns entries read. */
static ssize_t read_entries(int fd, uint64_t *buf, size_t n, uint64_t idx)
{
	ssize_t got = pread(fd, buf, n * sizeof(*buf), (off_t)(idx * sizeof(*buf)));

	return got < 0 ? -1 : got / (ssize_t)sizeof(*buf);
}

/*
 * The PMD inference for one block whose 512 pages are present: PFNs
 * contiguous from a 512-aligned head, THP head + 511 tails, and no 513th page
 * in the folio. kpf[] receives the 512 pages' flags.
 */
static int block_is_pmd(struct backing_reader *r, const uint64_t *pme, uint64_t *kpf,
			bool *pmd, struct wl_error *err)
{
	uint64_t pfn0 = pme[0] & PM_PFN_MASK, next = 0;
	ssize_t got;
	unsigned i;

	*pmd = false;
	if (pfn0 % PMD_BLOCK_PAGES)
		return 0;
	for (i = 1; i < PMD_BLOCK_PAGES; i++)
		if ((pme[i] & PM_PFN_MASK) != pfn0 + i)
			return 0;
	got = read_entries(r->kpageflags_fd, kpf, PMD_BLOCK_PAGES, pfn0);
	if (got != PMD_BLOCK_PAGES)
		return fail(err, KPAGEFLAGS_PATH, got < 0 ? errno : EIO,
			    "cannot read PFNs %#llx+512: %s", (unsigned long long)pfn0,
			    got < 0 ? strerror(errno) : "short read");
	if (!KPF(kpf[0], KPF_THP) || !KPF(kpf[0], KPF_COMPOUND_HEAD) ||
	    KPF(kpf[0], KPF_ZERO_PAGE))
		return 1;
	for (i = 1; i < PMD_BLOCK_PAGES; i++)
		if (!KPF(kpf[i], KPF_COMPOUND_TAIL))
			return 1;
	/* past the end of memory the read is empty: not a tail */
	if (read_entries(r->kpageflags_fd, &next, 1, pfn0 + PMD_BLOCK_PAGES) < 0)
		return fail(err, KPAGEFLAGS_PATH, errno, "cannot read PFN %#llx: %s",
			    (unsigned long long)(pfn0 + PMD_BLOCK_PAGES), strerror(errno));
	*pmd = !KPF(next, KPF_COMPOUND_TAIL);
	return 1;
}

static enum page_class kpf_class(uint64_t kpf)
{
	if (KPF(kpf, KPF_ZERO_PAGE))
		return PAGE_CLASS_ZERO;
	if (KPF(kpf, KPF_HUGE))
		return PAGE_CLASS_PMD;
	return PAGE_CLASS_PTE;
}

/* Read kpf[i] for the present pages i of [lo, hi), one read per run of contiguous PFNs. */
static int read_kpf(struct backing_reader *r, const uint64_t *pme, uint64_t *kpf,
		    unsigned lo, unsigned hi, struct wl_error *err)
{
	unsigned i, j;
	ssize_t got;

	for (i = lo; i < hi; i = j) {
		j = i + 1;
		if (!(pme[i] & PM_PRESENT))
			continue;
		while (j < hi && (pme[j] & PM_PRESENT) &&
		       (pme[j] & PM_PFN_MASK) == (pme[j - 1] & PM_PFN_MASK) + 1)
			j++;
		got = read_entries(r->kpageflags_fd, kpf + i, j - i, pme[i] & PM_PFN_MASK);
		if (got != (ssize_t)(j - i))
			return fail(err, KPAGEFLAGS_PATH, got < 0 ? errno : EIO,
				    "cannot read PFN %#llx: %s",
				    (unsigned long long)(pme[i] & PM_PFN_MASK),
				    got < 0 ? strerror(errno) : "short read");
	}
	return 0;
}

/*
 * One 2MiB-aligned block at 'base', of which pages [lo, hi) are in the range
 * that starts at 'start'.
 */
static int classify_block(struct backing_reader *r, uint64_t base, unsigned lo, unsigned hi,
			  uint64_t start, uint8_t *classes, uint64_t counts[PAGE_CLASS_NR],
			  struct wl_error *err)
{
	uint64_t pme[PMD_BLOCK_PAGES], kpf[PMD_BLOCK_PAGES];
	unsigned i, present = 0;
	bool pmd = false;
	ssize_t got;
	int ret;

	got = read_entries(r->pagemap_fd, pme, PMD_BLOCK_PAGES, base / BACKING_PAGE_SIZE);
	if (got < 0)
		return fail(err, r->pagemap_path, errno, "read at %#llx failed: %s",
			    (unsigned long long)base, strerror(errno));
	if (got == 0) {
		/* an exited process, or an address past the user address space */
		ret = mm_alive(r, 0, err);
		return ret < 0 ? ret : fail(err, r->pagemap_path, EFAULT,
					    "%#llx is past the user address space",
					    (unsigned long long)base);
	}
	for (i = (unsigned)got; i < PMD_BLOCK_PAGES; i++)
		pme[i] = 0;

	for (i = 0; i < PMD_BLOCK_PAGES; i++) {
		if (!(pme[i] & PM_PRESENT))
			continue;
		if (!(pme[i] & PM_PFN_MASK))
			return fail(err, r->pagemap_path, EPERM,
				    "PFNs are hidden: reading them needs CAP_SYS_ADMIN");
		present++;
	}
	/* block_is_pmd() returns 1 when it has read kpf[] for the whole block */
	ret = present == PMD_BLOCK_PAGES ? block_is_pmd(r, pme, kpf, &pmd, err) : 0;
	if (!ret)
		ret = read_kpf(r, pme, kpf, lo, hi, err);
	if (ret < 0)
		return ret;

	for (i = lo; i < hi; i++) {
		enum page_class c = PAGE_CLASS_NONE;

		if (pme[i] & PM_PRESENT)
			c = pmd ? PAGE_CLASS_PMD : kpf_class(kpf[i]);
		mark(classes, counts, (base + i * BACKING_PAGE_SIZE - start) / BACKING_PAGE_SIZE, 1, c);
	}
	return 0;
}

static int classify_kpageflags(struct backing_reader *r, uint64_t start, uint64_t end,
			       uint8_t *classes, uint64_t counts[PAGE_CLASS_NR],
			       struct wl_error *err)
{
	uint64_t base;
	int ret;

	/* whole blocks, also where the range cuts one: the PMD test needs all 512 */
	for (base = start & ~(PMD_BLOCK_SIZE - 1); base < end; base += PMD_BLOCK_SIZE) {
		uint64_t lo = base < start ? start : base;
		uint64_t hi = end - base < PMD_BLOCK_SIZE ? end : base + PMD_BLOCK_SIZE;

		ret = classify_block(r, base, (unsigned)((lo - base) / BACKING_PAGE_SIZE),
				     (unsigned)((hi - base) / BACKING_PAGE_SIZE), start,
				     classes, counts, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int backing_classify(struct backing_reader *r, uint64_t start, uint64_t len,
		     uint8_t *classes, uint64_t counts[PAGE_CLASS_NR],
		     struct wl_error *err)
{
	uint64_t tally[PAGE_CLASS_NR] = { 0 };
	int ret;

	if (r->pagemap_fd < 0)
		return fail(err, r->pagemap_path, EBADF, "reader is not open");
	if (start % BACKING_PAGE_SIZE || len % BACKING_PAGE_SIZE || start + len < start)
		return fail(err, r->pagemap_path, EINVAL,
			    "range %#llx+%#llx is not whole 4KiB pages",
			    (unsigned long long)start, (unsigned long long)len);
	if (!len)
		goto out;

	if (r->method == BACKING_PAGEMAP_SCAN) {
		if (classes)
			memset(classes, PAGE_CLASS_NONE, len / BACKING_PAGE_SIZE);
		tally[PAGE_CLASS_NONE] = len / BACKING_PAGE_SIZE;
		ret = classify_scan(r, start, start + len, classes, tally, err);
		/* an exited process scans as empty: tell that from "all none" */
		if (!ret)
			ret = mm_alive(r, start, err);
	} else {
		ret = classify_kpageflags(r, start, start + len, classes, tally, err);
	}
	if (ret < 0)
		return ret;
out:
	if (counts)
		memcpy(counts, tally, sizeof(tally));
	return 0;
}
