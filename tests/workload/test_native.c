/*
 * test_native.c - the native executor against the host's own view of memory.
 *
 * Specs are built by hand here (not parsed), run for real, and the result is
 * read back from the kernel: mincore() and /proc/self/pagemap for residency,
 * /proc/self/maps for protections, the region memory itself for what was
 * stored. Expectations come from two independent sources: numbers derived by
 * hand from the phase parameters, and a walk of the generator's stream done
 * here in the test (never from the executor's own records).
 *
 * Every region gets the advice nohugepage, so neither a THP fault nor an mTHP
 * fault nor khugepaged can widen residency beyond the 4 KiB pages touched,
 * whatever the host's THP setting (madvise or always).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "workload/gen.h"
#include "workload/native.h"

#define PAGE 4096ULL
#define KiB 1024ULL
#define MiB (1024ULL * 1024ULL)
#define MS 1000000ULL

/* ---- building specs by hand ----------------------------------------------- */

#define T_MAX_REGIONS 8
#define T_MAX_PHASES 16

struct tspec {
	struct wl_spec s;
	struct wl_region r[T_MAX_REGIONS];
	struct wl_phase p[T_MAX_PHASES];
};

static enum wl_advice nohuge[] = { WL_ADV_NOHUGEPAGE };

static void ts_init(struct tspec *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->s.file = (char *)"test_native.json";
	t->s.name = (char *)"test-native";
	t->s.seed = seed;
	t->s.regions = t->r;
	t->s.phases = t->p;
}

static uint32_t ts_region(struct tspec *t, uint64_t size, bool populate)
{
	struct wl_region *r = &t->r[t->s.nr_regions];

	cr_assert_lt(t->s.nr_regions, T_MAX_REGIONS);
	r->name = (char *)"r";
	r->size = size;
	r->advice = nohuge;
	r->nr_advice = 1;
	r->populate = populate;
	return (uint32_t)t->s.nr_regions++;
}

/* A phase with every default of the format filled, as the parser would. */
static struct wl_phase *ts_phase(struct tspec *t, enum wl_phase_op op, uint32_t region)
{
	struct wl_phase *p = &t->p[t->s.nr_phases++];

	cr_assert_leq(t->s.nr_phases, T_MAX_PHASES);
	p->op = op;
	p->region = region;
	p->offset = 0;
	p->length = region < t->s.nr_regions ? t->r[region].size : 0;
	p->stride = op == WL_PH_ACCESS ? 64 : PAGE;
	p->order = WL_ORDER_SEQUENTIAL;
	p->write = true;
	p->pattern = WL_PAT_SEQUENTIAL;
	p->count = 1;
	p->write_fraction = 0;
	p->zipf_s = 0.99;
	p->full_scans = 2;
	p->timeout_ms = 60000;
	p->ms = 0;
	return p;
}

static struct wl_phase *ts_touch(struct tspec *t, uint32_t region, uint64_t off,
				 uint64_t len, uint64_t stride, bool write)
{
	struct wl_phase *p = ts_phase(t, WL_PH_TOUCH, region);

	p->offset = off;
	p->length = len;
	p->stride = stride;
	p->write = write;
	return p;
}

static struct wl_phase *ts_access(struct tspec *t, uint32_t region, enum wl_pattern pat,
				  uint64_t off, uint64_t len, uint64_t stride, uint64_t count)
{
	struct wl_phase *p = ts_phase(t, WL_PH_ACCESS, region);

	p->pattern = pat;
	p->offset = off;
	p->length = len;
	p->stride = stride;
	p->count = count;
	return p;
}

static struct wl_phase *ts_range(struct tspec *t, enum wl_phase_op op, uint32_t region,
				 uint64_t off, uint64_t len)
{
	struct wl_phase *p = ts_phase(t, op, region);

	p->offset = off;
	p->length = len;
	return p;
}

static void run_spec(struct tspec *t, struct wl_native_run *run, const char *thp_root,
		     const struct wl_native_hooks *hooks)
{
	struct wl_error err;

	memset(&err, 0, sizeof(err));
	wl_native_init(run, &t->s);
	if (thp_root)
		run->thp_root = thp_root;
	cr_assert_eq(wl_native_exec(run, hooks, &err), 0, "exec failed: %s: %s: %s",
		     err.file, err.path, err.msg);
}

/* ---- reading the host's view -------------------------------------------- */

/* mincore() of [addr, addr+len): one byte per page into vec, returns the count. */
static size_t resident(uint64_t addr, uint64_t len, unsigned char *vec)
{
	size_t i, n = 0;

	cr_assert_eq(mincore((void *)(uintptr_t)addr, len, vec), 0, "mincore: %s",
		     strerror(errno));
	for (i = 0; i < len / PAGE; i++) {
		vec[i] &= 1;
		n += vec[i];
	}
	return n;
}

static size_t resident_count(uint64_t addr, uint64_t len)
{
	unsigned char *vec = malloc(len / PAGE);
	size_t n;

	cr_assert_not_null(vec);
	n = resident(addr, len, vec);
	free(vec);
	return n;
}

/* Bit 63 of each page's /proc/self/pagemap entry: present in RAM. */
static void pagemap_present(uint64_t addr, uint64_t len, unsigned char *vec)
{
	size_t i, n = len / PAGE;
	uint64_t *ent = malloc(n * sizeof(*ent));
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	cr_assert_not_null(ent);
	cr_assert_geq(fd, 0, "open pagemap: %s", strerror(errno));
	cr_assert_eq(pread(fd, ent, n * sizeof(*ent), (off_t)(addr / PAGE * sizeof(*ent))),
		     (ssize_t)(n * sizeof(*ent)));
	for (i = 0; i < n; i++)
		vec[i] = (unsigned char)(ent[i] >> 63);
	close(fd);
	free(ent);
}

/* mincore fails with ENOMEM on an address no VMA covers. */
static bool is_unmapped(uint64_t addr)
{
	unsigned char vec[1];

	return mincore((void *)(uintptr_t)addr, PAGE, vec) == -1 && errno == ENOMEM;
}

/* The /proc/self/maps line containing addr: its range and "rwxp" perms. */
static bool maps_find(uint64_t addr, uint64_t *lo, uint64_t *hi, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char p[5];

		if (sscanf(line, "%lx-%lx %4s", &a, &b, p) != 3)
			continue;
		if (addr >= a && addr < b) {
			*lo = a;
			*hi = b;
			memcpy(perms, p, 5);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* ---- walking the stream ourselves ------------------------------------------- */

typedef void (*walk_fn)(const struct wl_op *op, long phase, void *ctx);

static void walk_stream(const struct wl_spec *s, walk_fn fn, void *ctx)
{
	struct wl_op buf[256];
	struct wl_gen g;
	long phase = -1;
	size_t n, i;

	wl_gen_init(&g, s);
	while ((n = wl_gen_next(&g, buf, 256)) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i].type == WL_OP_PHASE_BEGIN)
				phase = (long)buf[i].arg;
			fn(&buf[i], phase, ctx);
			if (buf[i].type == WL_OP_PHASE_END)
				phase = -1;
		}
	}
}

/* Expected residency: one byte per page per region, from the stream's ops. */
struct pageset {
	const struct wl_spec *s;
	unsigned char *page[T_MAX_REGIONS];
};

static void pageset_fn(const struct wl_op *op, long phase, void *ctx)
{
	struct pageset *ps = ctx;
	unsigned char *pg = ps->page[op->region];

	(void)phase;
	switch (op->type) {
	case WL_OP_MAP:
		if (op->flags & WL_MAP_POPULATE)
			memset(pg, 1, op->arg / PAGE);
		break;
	case WL_OP_ACCESS:
		/* 8-byte aligned 8-byte accesses never straddle a page. */
		cr_assert_eq(op->off % 8, 0);
		pg[op->off / PAGE] = 1;
		break;
	case WL_OP_MADVISE:
		if (op->flags == WL_ADV_DONTNEED)
			memset(pg + op->off / PAGE, 0, op->arg / PAGE);
		break;
	default:
		break;
	}
}

static void pageset_init(struct pageset *ps, const struct wl_spec *s)
{
	size_t r;

	memset(ps, 0, sizeof(*ps));
	ps->s = s;
	for (r = 0; r < s->nr_regions; r++) {
		ps->page[r] = calloc(s->regions[r].size / PAGE, 1);
		cr_assert_not_null(ps->page[r]);
	}
	walk_stream(s, pageset_fn, ps);
}

static void pageset_release(struct pageset *ps)
{
	for (size_t r = 0; r < T_MAX_REGIONS; r++)
		free(ps->page[r]);
}

/* ---- residency ------------------------------------------------------------- */

/*
 * A write touch of 16 MiB at a 64 KiB stride stores once per 16 pages:
 * 16 MiB / 64 KiB = 256 resident pages, exactly those at 64 KiB-aligned offsets.
 */
Test(native, residency_touch_stride_64k)
{
	struct tspec t;
	struct wl_native_run run;
	static unsigned char vec[16 * MiB / PAGE];
	uint32_t r;
	size_t i;

	ts_init(&t, 1);
	r = ts_region(&t, 16 * MiB, false);
	ts_touch(&t, r, 0, 16 * MiB, 64 * KiB, true);
	run_spec(&t, &run, NULL, NULL);

	cr_assert_eq(resident(run.start[r], 16 * MiB, vec), 256);
	for (i = 0; i < 16 * MiB / PAGE; i++)
		cr_assert_eq(vec[i], i % 16 == 0, "page %zu: resident=%d", i, vec[i]);
	cr_assert_eq(run.phases[0].accesses, 256);
	wl_native_release(&run);
}

/*
 * A read touch maps the shared zero page: no memory is allocated, but the PTE
 * is present, so mincore counts all 4 MiB / 4 KiB = 1024 pages. A second,
 * untouched region has none.
 */
Test(native, residency_read_touch_zero_page)
{
	struct tspec t;
	struct wl_native_run run;
	uint32_t a, b;
	const volatile uint64_t *w;

	ts_init(&t, 2);
	a = ts_region(&t, 4 * MiB, false);
	b = ts_region(&t, 4 * MiB, false);
	ts_touch(&t, a, 0, 4 * MiB, PAGE, false);
	run_spec(&t, &run, NULL, NULL);

	cr_assert_eq(resident_count(run.start[a], 4 * MiB), 1024);
	cr_assert_eq(resident_count(run.start[b], 4 * MiB), 0);
	cr_assert_eq(run.phases[0].accesses, 1024);
	/* Loads of never-written memory read zeros, so nothing folds in. */
	w = (const volatile uint64_t *)(uintptr_t)run.start[a];
	cr_assert_eq(w[0], 0);
	cr_assert_eq(run.sink, 0);
	wl_native_release(&run);
}

/*
 * A sequential access at a 64 B stride visits 4096/64 = 64 addresses per
 * page; count 640 from offset 1 MiB covers pages 256..265 and nothing else,
 * even though the range (2 MiB) is far longer.
 */
Test(native, residency_access_sequential_prefix)
{
	struct tspec t;
	struct wl_native_run run;
	static unsigned char vec[8 * MiB / PAGE];
	uint32_t r;
	size_t i;

	ts_init(&t, 3);
	r = ts_region(&t, 8 * MiB, false);
	ts_access(&t, r, WL_PAT_SEQUENTIAL, 1 * MiB, 2 * MiB, 64, 640);
	run_spec(&t, &run, NULL, NULL);

	cr_assert_eq(resident(run.start[r], 8 * MiB, vec), 10);
	for (i = 0; i < 8 * MiB / PAGE; i++)
		cr_assert_eq(vec[i], i >= 256 && i < 266, "page %zu", i);
	cr_assert_eq(run.phases[0].accesses, 640);
	wl_native_release(&run);
}

/*
 * Every kind of access phase at once; mincore and pagemap must both agree,
 * page for page, with the set of pages the stream names (walked here), and a
 * hand count for the chase region.
 */
Test(native, residency_matches_stream)
{
	struct tspec t;
	struct wl_native_run run;
	struct pageset ps;
	struct wl_phase *p;
	uint32_t a, b, c;
	size_t r, i;

	ts_init(&t, 42);
	a = ts_region(&t, 16 * MiB, false);
	b = ts_region(&t, 8 * MiB, false);
	c = ts_region(&t, 4 * MiB, false);
	p = ts_touch(&t, a, 0, 16 * MiB, 20488, true);
	p->order = WL_ORDER_RANDOM;
	p = ts_touch(&t, b, 1 * MiB, 2 * MiB, 64 * KiB, false);
	p->order = WL_ORDER_REVERSE;
	p = ts_access(&t, a, WL_PAT_UNIFORM, 8 * MiB, 4 * MiB, 64, 3000);
	p->write_fraction = 0.5;
	p = ts_access(&t, b, WL_PAT_ZIPF, 4 * MiB, 4 * MiB, PAGE, 5000);
	p->write_fraction = 0.3;
	ts_access(&t, c, WL_PAT_CHASE, 0, 2 * MiB, 8 * KiB, 1000);
	ts_access(&t, c, WL_PAT_SEQUENTIAL, 3 * MiB, 1 * MiB, 64, 5 * 64);
	p = ts_range(&t, WL_PH_MADVISE, a, 0, 1 * MiB);
	p->advice = WL_ADV_DONTNEED;
	run_spec(&t, &run, NULL, NULL);

	pageset_init(&ps, &t.s);
	for (r = 0; r < t.s.nr_regions; r++) {
		size_t n = t.r[r].size / PAGE, want = 0;
		unsigned char *mc = malloc(n), *pm = malloc(n);

		cr_assert(mc && pm);
		resident(run.start[r], t.r[r].size, mc);
		pagemap_present(run.start[r], t.r[r].size, pm);
		for (i = 0; i < n; i++) {
			want += ps.page[r][i];
			cr_assert_eq(mc[i], ps.page[r][i], "regions[%zu] page %zu: mincore %d, stream %d",
				     r, i, mc[i], ps.page[r][i]);
			cr_assert_eq(pm[i], ps.page[r][i], "regions[%zu] page %zu: pagemap %d, stream %d",
				     r, i, pm[i], ps.page[r][i]);
		}
		cr_assert_gt(want, 0);
		free(mc);
		free(pm);
	}
	/* By hand: 256 chase slots on every other page of [0, 2 MiB), and 5 pages. */
	cr_assert_eq(resident_count(run.start[c], 4 * MiB), 256 + 5);
	cr_assert_eq(resident_count(run.start[c], 2 * MiB), 256);
	/* The dontneed left the first MiB of a empty. */
	cr_assert_eq(resident_count(run.start[a], 1 * MiB), 0);
	pageset_release(&ps);
	wl_native_release(&run);
}

/* ---- what is stored ---------------------------------------------------------- */

struct wordset {
	uint32_t region;
	long phase;
	unsigned char *word;	/* one byte per 8-byte word of the region */
};

static void wordset_fn(const struct wl_op *op, long phase, void *ctx)
{
	struct wordset *ws = ctx;

	if (op->type == WL_OP_ACCESS && phase == ws->phase && op->region == ws->region &&
	    (op->flags & WL_ACC_WRITE))
		ws->word[op->off / 8] = 1;
}

/*
 * A write touch at stride 520 over 64 KiB stores at k * 520 for
 * k = 0 .. ceil(65536 / 520) - 1 = 126: each such word holds its own address,
 * every other word of the region (on the same pages) is still zero. A uniform
 * phase with write_fraction 1 stores only at the offsets the stream names.
 */
Test(native, stores_hold_their_address)
{
	struct tspec t;
	struct wl_native_run run;
	struct wl_phase *p;
	struct wordset ws;
	const uint64_t *w;
	uint32_t a, b;
	size_t i, stored = 0;

	ts_init(&t, 5);
	a = ts_region(&t, 64 * KiB, false);
	b = ts_region(&t, 256 * KiB, false);
	p = ts_touch(&t, a, 0, 64 * KiB, 520, true);
	p->order = WL_ORDER_RANDOM;
	p = ts_access(&t, b, WL_PAT_UNIFORM, 0, 256 * KiB, 64, 2000);
	p->write_fraction = 1.0;
	run_spec(&t, &run, NULL, NULL);

	cr_assert_eq(run.phases[0].accesses, 127);
	cr_assert_eq(run.phases[1].accesses, 2000);
	cr_assert_eq(resident_count(run.start[a], 64 * KiB), 16);
	w = (const uint64_t *)(uintptr_t)run.start[a];
	for (i = 0; i < 64 * KiB / 8; i++) {
		uint64_t addr = run.start[a] + i * 8;

		if (i * 8 % 520 == 0) {
			cr_assert_eq(w[i], addr, "word %zu: 0x%" PRIx64, i, w[i]);
			stored++;
		} else {
			cr_assert_eq(w[i], 0, "word %zu: 0x%" PRIx64, i, w[i]);
		}
	}
	cr_assert_eq(stored, 127);

	ws.region = b;
	ws.phase = 1;
	ws.word = calloc(256 * KiB / 8, 1);
	cr_assert_not_null(ws.word);
	walk_stream(&t.s, wordset_fn, &ws);
	w = (const uint64_t *)(uintptr_t)run.start[b];
	stored = 0;
	for (i = 0; i < 256 * KiB / 8; i++) {
		cr_assert_eq(w[i], ws.word[i] ? run.start[b] + i * 8 : 0, "word %zu", i);
		stored += ws.word[i];
	}
	/* 2000 uniform picks over 32768 words: a few repeat, most do not. */
	cr_assert(stored > 1800 && stored <= 2000, "%zu distinct words", stored);
	free(ws.word);
	wl_native_release(&run);
}

/* ---- the chase ---------------------------------------------------------------- */

struct chase_loads {
	long phase;
	uint64_t *off;		/* offsets of the phase's loads, in order */
	size_t n, cap;
	size_t links;		/* build stores (WL_ACC_LINK) */
	bool first_dep;		/* the first load had WL_ACC_DEP (it must not) */
};

static void chase_fn(const struct wl_op *op, long phase, void *ctx)
{
	struct chase_loads *cl = ctx;

	if (op->type != WL_OP_ACCESS || phase != cl->phase)
		return;
	if (op->flags & WL_ACC_WRITE) {
		cl->links += (op->flags & WL_ACC_LINK) != 0;
		return;
	}
	if (cl->n == 0)
		cl->first_dep = op->flags & WL_ACC_DEP;
	cr_assert_lt(cl->n, cl->cap);
	cl->off[cl->n++] = op->off;
}

/*
 * After a chase phase the region itself holds the cycle: starting from any
 * slot and following the stored pointers (read here, not from the generator)
 * visits all n = length / stride slots exactly once and comes back; every
 * pointer is an absolute address of a slot inside the range; nothing else in
 * the region was written. And the loads the stream asked for are exactly the
 * walk of that in-memory chain from the first load's slot.
 */
static void check_chase(uint64_t region_size, uint64_t off, uint64_t len,
			uint64_t stride, uint64_t count)
{
	struct tspec t;
	struct wl_native_run run;
	struct chase_loads cl;
	uint64_t n = len / stride, lo, hi, p, k;
	unsigned char *seen = calloc(n, 1);
	const uint64_t *w;
	uint32_t r;

	cr_assert_not_null(seen);
	ts_init(&t, 77);
	r = ts_region(&t, region_size, false);
	ts_access(&t, r, WL_PAT_CHASE, off, len, stride, count);
	run_spec(&t, &run, NULL, NULL);
	lo = run.start[r] + off;
	hi = lo + len;

	cr_assert_eq(run.phases[0].accesses, n + count);

	/* From the first slot of the range, independent of the stream. */
	p = lo;
	for (k = 0; k < n; k++) {
		uint64_t idx;

		cr_assert(p >= lo && p < hi, "step %" PRIu64 ": 0x%" PRIx64 " outside [0x%"
			  PRIx64 ", 0x%" PRIx64 ")", k, p, lo, hi);
		cr_assert_eq((p - lo) % stride, 0, "step %" PRIu64 ": not a slot", k);
		idx = (p - lo) / stride;
		cr_assert_not(seen[idx], "slot %" PRIu64 " visited twice (step %" PRIu64 ")",
			      idx, k);
		seen[idx] = 1;
		p = *(const uint64_t *)(uintptr_t)p;
	}
	cr_assert_eq(p, lo, "the chain does not close after %" PRIu64 " steps", n);

	/* Nothing but the slots was written. */
	w = (const uint64_t *)(uintptr_t)run.start[r];
	for (k = 0; k < region_size / 8; k++) {
		uint64_t o = k * 8;

		if (o >= off && o < off + len && (o - off) % stride == 0)
			cr_assert_neq(w[k], 0);
		else
			cr_assert_eq(w[k], 0, "offset 0x%" PRIx64 " written", o);
	}

	/* The stream's loads walk the memory chain from the perm's start. */
	memset(&cl, 0, sizeof(cl));
	cl.phase = 0;
	cl.cap = count;
	cl.off = calloc(count, sizeof(*cl.off));
	cr_assert_not_null(cl.off);
	walk_stream(&t.s, chase_fn, &cl);
	cr_assert_eq(cl.links, n);
	cr_assert_eq(cl.n, count);
	cr_assert_not(cl.first_dep);
	p = run.start[r] + cl.off[0];
	for (k = 0; k < count; k++) {
		cr_assert_eq(p - run.start[r], cl.off[k], "load %" PRIu64, k);
		p = *(const uint64_t *)(uintptr_t)p;
	}
	free(cl.off);
	free(seen);
	wl_native_release(&run);
}

Test(native, chase_is_a_cycle_in_memory)
{
	/* 1024 slots of 256 B in 256 KiB, loads wrap the cycle about three times. */
	check_chase(1 * MiB, 64 * KiB, 256 * KiB, 256, 3000);
}

Test(native, chase_is_a_cycle_in_memory_page_stride)
{
	/* 512 slots a page apart: every load is on its own page. */
	check_chase(2 * MiB, 0, 2 * MiB, PAGE, 100);
}

/*
 * The check against the stream fires: once the build stores have filled the
 * last slot, a helper thread rewrites every slot to point at itself, while
 * the executor is in the middle of a long run of dependent loads. The next
 * DEP load then returns its own address instead of its successor's.
 */
struct breaker {
	_Atomic uint64_t base;	/* published by the region_mapped hook */
	uint64_t off, len, stride;
};

static void breaker_mapped(void *ctx, size_t region, uint64_t start, uint64_t size)
{
	struct breaker *b = ctx;

	(void)region;
	(void)size;
	atomic_store(&b->base, start);
}

static void *breaker_thread(void *arg)
{
	struct breaker *b = arg;
	uint64_t base, lo, last, o;

	while (!(base = atomic_load(&b->base)))
		;
	lo = base + b->off;
	last = lo + b->len - b->stride;
	/* The build stores go in ascending order: the last slot is the last one. */
	while (!__atomic_load_n((uint64_t *)(uintptr_t)last, __ATOMIC_ACQUIRE))
		;
	for (o = 0; o < b->len; o += b->stride)
		__atomic_store_n((uint64_t *)(uintptr_t)(lo + o), lo + o, __ATOMIC_RELEASE);
	return NULL;
}

Test(native, error_chase_chain_broken)
{
	struct tspec t;
	struct wl_native_run run;
	struct wl_error err;
	struct breaker b = { .off = 0, .len = 64 * KiB, .stride = 64 };
	struct wl_native_hooks hooks = { .region_mapped = breaker_mapped, .ctx = &b };
	pthread_t th;
	uint32_t r;
	int ret;

	atomic_init(&b.base, 0);
	ts_init(&t, 18);
	r = ts_region(&t, 64 * KiB, false);
	/* 1024 slots; 200M loads would take seconds, the break comes in microseconds. */
	ts_access(&t, r, WL_PAT_CHASE, 0, 64 * KiB, 64, 200000000);
	cr_assert_eq(pthread_create(&th, NULL, breaker_thread, &b), 0);
	wl_native_init(&run, &t.s);
	memset(&err, 0, sizeof(err));
	ret = wl_native_exec(&run, &hooks, &err);
	pthread_join(th, NULL);

	cr_assert_eq(ret, -1);
	cr_assert_str_eq(err.path, "phases[0]");
	cr_assert(strncmp(err.msg, "chase chain broken", 18) == 0, "%s", err.msg);
	wl_native_release(&run);
}

/* ---- populate, munmap, mprotect, madvise ---------------------------------- */

Test(native, populate_makes_region_resident)
{
	struct tspec t;
	struct wl_native_run run;
	uint32_t a, b;

	ts_init(&t, 6);
	a = ts_region(&t, 4 * MiB, true);
	b = ts_region(&t, 4 * MiB, false);
	ts_phase(&t, WL_PH_SLEEP, 0)->ms = 1;
	run_spec(&t, &run, NULL, NULL);

	cr_assert_eq(resident_count(run.start[a], 4 * MiB), 4 * MiB / PAGE);
	cr_assert_eq(resident_count(run.start[b], 4 * MiB), 0);
	wl_native_release(&run);
}

Test(native, munmap_removes_only_its_range)
{
	struct tspec t;
	struct wl_native_run run;
	uint64_t base;
	uint32_t r;

	ts_init(&t, 7);
	r = ts_region(&t, 1 * MiB, false);
	ts_touch(&t, r, 0, 1 * MiB, PAGE, true);
	ts_range(&t, WL_PH_MUNMAP, r, 256 * KiB, 256 * KiB);
	run_spec(&t, &run, NULL, NULL);
	base = run.start[r];

	cr_assert(is_unmapped(base + 256 * KiB));
	cr_assert(is_unmapped(base + 512 * KiB - PAGE));
	errno = 0;
	cr_assert_eq(mincore((void *)(uintptr_t)(base + 256 * KiB), 256 * KiB,
			     (unsigned char[64]){ 0 }), -1);
	cr_assert_eq(errno, ENOMEM);
	cr_assert_eq(resident_count(base, 256 * KiB), 64);
	cr_assert_eq(resident_count(base + 512 * KiB, 512 * KiB), 128);

	/* release unmaps the rest; the hole in the middle is no trouble. */
	wl_native_release(&run);
	cr_assert(is_unmapped(base));
	cr_assert(is_unmapped(base + 1 * MiB - PAGE));
	cr_assert_null(run.start);
	cr_assert_null(run.phases);
}

Test(native, mprotect_sets_range_permissions)
{
	struct tspec t;
	struct wl_native_run run;
	uint64_t base, base2, lo, hi;
	char perms[5];
	uint32_t r, r2;

	ts_init(&t, 8);
	r = ts_region(&t, 1 * MiB, false);
	r2 = ts_region(&t, 1 * MiB, false);
	ts_touch(&t, r, 0, 1 * MiB, PAGE, true);
	ts_range(&t, WL_PH_MPROTECT, r, 256 * KiB, 256 * KiB)->prot = WL_PROT_R;
	ts_range(&t, WL_PH_MPROTECT, r, 768 * KiB, 128 * KiB)->prot = WL_PROT_NONE;
	ts_range(&t, WL_PH_MPROTECT, r2, 0, 1 * MiB)->prot = WL_PROT_NONE;
	ts_range(&t, WL_PH_MPROTECT, r2, 0, 1 * MiB)->prot = WL_PROT_RW;
	run_spec(&t, &run, NULL, NULL);
	base = run.start[r];
	base2 = run.start[r2];

	/* The read-only piece is its own VMA, exactly the range, "r--p". */
	cr_assert(maps_find(base + 256 * KiB, &lo, &hi, perms));
	cr_assert_str_eq(perms, "r--p");
	cr_assert_eq(lo, base + 256 * KiB);
	cr_assert_eq(hi, base + 512 * KiB);
	cr_assert(maps_find(base + 768 * KiB, &lo, &hi, perms));
	cr_assert_str_eq(perms, "---p");
	cr_assert_eq(lo, base + 768 * KiB);
	cr_assert_eq(hi, base + 896 * KiB);
	/* Neighbours keep read-write. */
	cr_assert(maps_find(base, &lo, &hi, perms));
	cr_assert_str_eq(perms, "rw-p");
	cr_assert_eq(hi, base + 256 * KiB);
	cr_assert(maps_find(base + 512 * KiB, &lo, &hi, perms));
	cr_assert_str_eq(perms, "rw-p");
	cr_assert(maps_find(base + 896 * KiB, &lo, &hi, perms));
	cr_assert_str_eq(perms, "rw-p");
	/* none then rw: read-write again, all of it. */
	cr_assert(maps_find(base2, &lo, &hi, perms));
	cr_assert_str_eq(perms, "rw-p");
	cr_assert(lo <= base2 && hi >= base2 + 1 * MiB);
	/* The read-only pages still hold what the touch stored. */
	cr_assert_eq(*(const uint64_t *)(uintptr_t)(base + 256 * KiB), base + 256 * KiB);
	wl_native_release(&run);
}

Test(native, madvise_dontneed_drops_residency)
{
	struct tspec t;
	struct wl_native_run run;
	static unsigned char vec[1 * MiB / PAGE];
	uint64_t base;
	uint32_t r;
	size_t i;

	ts_init(&t, 9);
	r = ts_region(&t, 1 * MiB, false);
	ts_touch(&t, r, 0, 1 * MiB, PAGE, true);
	ts_range(&t, WL_PH_MADVISE, r, 256 * KiB, 256 * KiB)->advice = WL_ADV_DONTNEED;
	run_spec(&t, &run, NULL, NULL);
	base = run.start[r];

	cr_assert_eq(resident(base, 1 * MiB, vec), 256 - 64);
	for (i = 0; i < 256; i++)
		cr_assert_eq(vec[i], i < 64 || i >= 128, "page %zu", i);
	/* Dropped anonymous pages read back as zeros; kept ones keep their data. */
	cr_assert_eq(*(const uint64_t *)(uintptr_t)(base + 256 * KiB), 0);
	cr_assert_eq(*(const uint64_t *)(uintptr_t)(base + 512 * KiB), base + 512 * KiB);
	wl_native_release(&run);
}

/* ---- timing ---------------------------------------------------------------- */

Test(native, sleep_phase_is_timed)
{
	struct tspec t;
	struct wl_native_run run;
	uint64_t sum = 0;
	uint32_t r;
	size_t i;

	ts_init(&t, 10);
	r = ts_region(&t, 1 * MiB, false);
	ts_touch(&t, r, 0, 1 * MiB, PAGE, true);
	ts_phase(&t, WL_PH_SLEEP, 0)->ms = 50;
	ts_touch(&t, r, 0, 1 * MiB, PAGE, false);
	run_spec(&t, &run, NULL, NULL);

	cr_assert_geq(run.phases[1].runtime_ns, 50 * MS);
	/* only a hang guard: a busy machine may delay the wake-up by any amount */
	cr_assert_lt(run.phases[1].runtime_ns, 10000 * MS);
	for (i = 0; i < t.s.nr_phases; i++) {
		cr_assert_gt(run.phases[i].runtime_ns, 0);
		sum += run.phases[i].runtime_ns;
		if (i > 0)
			cr_assert_geq(run.phases[i].start_ns,
				      run.phases[i - 1].start_ns + run.phases[i - 1].runtime_ns);
	}
	cr_assert_eq(run.runtime_ns, sum);
	cr_assert(run.complete);
	wl_native_release(&run);
}

/* ---- khugepaged_wait against a fake THP sysfs -------------------------------- */

struct fake_thp {
	char root[64];
	char khp[96];
	char file[128];
};

static void write_scans(const struct fake_thp *f, unsigned long v)
{
	char tmp[160];
	FILE *fp;

	/* Write aside and rename, so the executor never reads a half-written file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->file);
	fp = fopen(tmp, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "%lu\n", v);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(rename(tmp, f->file), 0);
}

static void fake_thp_init(struct fake_thp *f, unsigned long scans)
{
	snprintf(f->root, sizeof(f->root), "/tmp/test_native.XXXXXX");
	cr_assert_not_null(mkdtemp(f->root));
	snprintf(f->khp, sizeof(f->khp), "%s/khugepaged", f->root);
	cr_assert_eq(mkdir(f->khp, 0700), 0);
	snprintf(f->file, sizeof(f->file), "%s/full_scans", f->khp);
	write_scans(f, scans);
}

static void fake_thp_release(struct fake_thp *f)
{
	char tmp[160];

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->file);
	unlink(tmp);
	unlink(f->file);
	rmdir(f->khp);
	rmdir(f->root);
	f->root[0] = '\0';
}

/* The fake tree of the current test; .fini removes it even after a failure. */
static struct fake_thp fake;

static void fake_thp_fini(void)
{
	if (fake.root[0])
		fake_thp_release(&fake);
}

static struct wl_phase *ts_khp_wait(struct tspec *t, uint64_t scans, uint64_t timeout_ms)
{
	struct wl_phase *p = ts_phase(t, WL_PH_KHUGEPAGED_WAIT, 0);

	p->full_scans = scans;
	p->timeout_ms = timeout_ms;
	return p;
}

Test(native, khugepaged_wait_times_out, .fini = fake_thp_fini)
{
	struct tspec t;
	struct wl_native_run run;
	struct fake_thp *f = &fake;
	uint32_t r;

	fake_thp_init(f, 7);
	ts_init(&t, 11);
	r = ts_region(&t, 64 * KiB, false);
	ts_touch(&t, r, 0, 64 * KiB, PAGE, true);
	ts_khp_wait(&t, 2, 100);
	run_spec(&t, &run, f->root, NULL);

	cr_assert_not(run.phases[0].timed_out);
	cr_assert(run.phases[1].timed_out);
	cr_assert_not(run.complete);
	cr_assert_geq(run.phases[1].runtime_ns, 100 * MS);
	/* only a hang guard: the last poll may be scheduled late on a busy machine */
	cr_assert_lt(run.phases[1].runtime_ns, 10000 * MS);
	wl_native_release(&run);
}

/*
 * The helper writes only after the executor has read the counter: an
 * IN_ACCESS on full_scans (a watch on its directory, since every write
 * renames a new file over it). The executor's first read is its baseline
 * (7), so 8 and then 9 are two full scans however late either thread runs.
 */
struct scans_helper {
	const struct fake_thp *f;
	int ino;		/* inotify, watching f->khp for IN_ACCESS */
};

/* Wait for a read of full_scans; false after 15 s (a hang guard). */
static bool wait_read(int ino)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p = { .fd = ino, .events = POLLIN };

	while (poll(&p, 1, 15000) == 1) {
		ssize_t n = read(ino, buf, sizeof(buf));

		for (ssize_t off = 0; n > 0 && off < n;) {
			const struct inotify_event *e = (const void *)(buf + off);

			if ((e->mask & IN_ACCESS) && e->len && !strcmp(e->name, "full_scans"))
				return true;
			off += (ssize_t)(sizeof(*e) + e->len);
		}
	}
	return false;
}

static void *advance_scans(void *arg)
{
	const struct scans_helper *h = arg;

	if (!wait_read(h->ino))
		return NULL;	/* the executor never read: the wait times out and fails */
	write_scans(h->f, 8);
	if (!wait_read(h->ino))
		return NULL;
	write_scans(h->f, 9);
	return NULL;
}

/* 7 -> 8 -> 9, each after the executor has read the counter: two full scans. */
Test(native, khugepaged_wait_sees_scans_advance, .fini = fake_thp_fini)
{
	struct tspec t;
	struct wl_native_run run;
	struct fake_thp *f = &fake;
	struct scans_helper h = { .f = f };
	pthread_t th;

	fake_thp_init(f, 7);
	h.ino = inotify_init1(IN_CLOEXEC);
	cr_assert_geq(h.ino, 0, "inotify_init1: %s", strerror(errno));
	cr_assert_geq(inotify_add_watch(h.ino, f->khp, IN_ACCESS), 0);
	ts_init(&t, 12);
	ts_region(&t, 64 * KiB, false);
	ts_khp_wait(&t, 2, 10000);	/* only a hang guard */
	cr_assert_eq(pthread_create(&th, NULL, advance_scans, &h), 0);
	run_spec(&t, &run, f->root, NULL);
	pthread_join(th, NULL);
	close(h.ino);

	cr_assert_not(run.phases[0].timed_out);
	cr_assert(run.complete);
	wl_native_release(&run);
}

/* ---- errors ------------------------------------------------------------------ */

Test(native, error_missing_full_scans_names_phase)
{
	struct tspec t;
	struct wl_native_run run;
	struct wl_error err;
	uint32_t r;

	ts_init(&t, 13);
	r = ts_region(&t, 64 * KiB, false);
	ts_touch(&t, r, 0, 64 * KiB, PAGE, true);
	ts_khp_wait(&t, 1, 100);
	wl_native_init(&run, &t.s);
	run.thp_root = "/nonexistent/test_native";
	memset(&err, 0, sizeof(err));
	cr_assert_eq(wl_native_exec(&run, NULL, &err), -1);
	cr_assert_str_eq(err.file, "test_native.json");
	cr_assert_str_eq(err.path, "phases[1]");
	cr_assert(strstr(err.msg, "khugepaged/full_scans") && strstr(err.msg, strerror(ENOENT)),
		  "%s", err.msg);
	cr_assert_not(run.complete);
	wl_native_release(&run);
}

/* A range larger than the address space: mmap must fail; region 0 is cleaned. */
Test(native, error_mmap_names_region)
{
	struct tspec t;
	struct wl_native_run run;
	struct wl_error err;
	uint64_t base0;

	ts_init(&t, 14);
	ts_region(&t, 1 * MiB, false);
	ts_region(&t, 1ULL << 50, false);
	ts_touch(&t, 0, 0, 1 * MiB, PAGE, true);
	wl_native_init(&run, &t.s);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(wl_native_exec(&run, NULL, &err), -1);
	cr_assert_str_eq(err.path, "regions[1]");
	cr_assert(strncmp(err.msg, "mmap failed: ", 13) == 0, "%s", err.msg);
	base0 = run.start[0];
	cr_assert_neq(base0, 0);
	cr_assert_eq(run.start[1], 0);
	wl_native_release(&run);
	cr_assert(is_unmapped(base0));
}

/*
 * MADV_COLLAPSE on a VM_NOHUGEPAGE range is refused with EINVAL
 * (hugepage_vma_check fails in madvise_collapse): recorded, and the run goes on.
 */
Test(native, refused_collapse_is_recorded_not_fatal)
{
	struct tspec t;
	struct wl_native_run run;
	struct wl_error err;
	uint32_t r;

	ts_init(&t, 15);
	r = ts_region(&t, 2 * MiB, false);
	ts_touch(&t, r, 0, 2 * MiB, PAGE, true);
	ts_range(&t, WL_PH_MADVISE, r, 0, 2 * MiB)->advice = WL_ADV_COLLAPSE;
	ts_touch(&t, r, 0, 2 * MiB, PAGE, false);
	wl_native_init(&run, &t.s);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(wl_native_exec(&run, NULL, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(run.phases[1].collapse_errno, EINVAL);
	cr_assert_eq(run.phases[0].collapse_errno, 0);
	cr_assert_eq(run.phases[2].accesses, 512, "the run went on");
	wl_native_release(&run);
}

/* ---- hooks ------------------------------------------------------------------- */

enum ev_kind { EV_REGION, EV_BEGIN, EV_END };

struct hook_ev {
	enum ev_kind kind;
	size_t idx;
	uint64_t start, size;	/* region */
	uint64_t now;		/* begin/end: when the hook ran */
	uint64_t runtime;	/* end: what it was told */
	const struct wl_native_phase *ph;
};

struct hook_log {
	struct hook_ev ev[32];
	size_t n;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_region(void *ctx, size_t region, uint64_t start, uint64_t size)
{
	struct hook_log *l = ctx;

	cr_assert_lt(l->n, 32);
	l->ev[l->n].kind = EV_REGION;
	l->ev[l->n].idx = region;
	l->ev[l->n].start = start;
	l->ev[l->n].size = size;
	l->n++;
}

static void on_begin(void *ctx, size_t phase)
{
	struct hook_log *l = ctx;

	cr_assert_lt(l->n, 32);
	l->ev[l->n].kind = EV_BEGIN;
	l->ev[l->n].idx = phase;
	l->ev[l->n].now = mono_ns();
	l->n++;
}

static void on_end(void *ctx, size_t phase, const struct wl_native_phase *ph)
{
	struct hook_log *l = ctx;

	cr_assert_lt(l->n, 32);
	l->ev[l->n].kind = EV_END;
	l->ev[l->n].idx = phase;
	l->ev[l->n].now = mono_ns();
	l->ev[l->n].runtime = ph->runtime_ns;
	l->ev[l->n].ph = ph;
	l->n++;
}

Test(native, hooks_called_once_in_order)
{
	struct tspec t;
	struct wl_native_run run;
	struct hook_log log;
	struct wl_native_hooks hooks = {
		.region_mapped = on_region, .phase_begin = on_begin,
		.phase_end = on_end, .ctx = &log,
	};
	size_t i;

	memset(&log, 0, sizeof(log));
	ts_init(&t, 16);
	ts_region(&t, 1 * MiB, false);
	ts_region(&t, 2 * MiB, true);
	ts_touch(&t, 0, 0, 1 * MiB, PAGE, true);
	ts_phase(&t, WL_PH_SLEEP, 0)->ms = 2;
	ts_touch(&t, 1, 0, 2 * MiB, PAGE, false);
	run_spec(&t, &run, NULL, &hooks);

	cr_assert_eq(log.n, 2 + 2 * 3);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(log.ev[i].kind, EV_REGION);
		cr_assert_eq(log.ev[i].idx, i);
		cr_assert_eq(log.ev[i].start, run.start[i]);
		cr_assert_eq(log.ev[i].size, t.r[i].size);
	}
	for (i = 0; i < 3; i++) {
		const struct hook_ev *b = &log.ev[2 + 2 * i], *e = &log.ev[3 + 2 * i];

		cr_assert_eq(b->kind, EV_BEGIN);
		cr_assert_eq(b->idx, i);
		cr_assert_eq(e->kind, EV_END);
		cr_assert_eq(e->idx, i);
		/* begin runs before the clock starts, end after it stops. */
		cr_assert_leq(b->now, run.phases[i].start_ns);
		cr_assert_geq(e->now, run.phases[i].start_ns + run.phases[i].runtime_ns);
		cr_assert_eq(e->runtime, run.phases[i].runtime_ns);
		cr_assert_eq(e->ph, &run.phases[i]);
	}
	wl_native_release(&run);
}

/* Hooks with members left NULL are simply skipped. */
Test(native, hooks_partial)
{
	struct tspec t;
	struct wl_native_run run;
	struct hook_log log;
	struct wl_native_hooks hooks = { .phase_end = on_end, .ctx = &log };

	memset(&log, 0, sizeof(log));
	ts_init(&t, 17);
	ts_region(&t, 64 * KiB, false);
	ts_touch(&t, 0, 0, 64 * KiB, PAGE, true);
	ts_phase(&t, WL_PH_SLEEP, 0)->ms = 1;
	run_spec(&t, &run, NULL, &hooks);

	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.ev[0].kind, EV_END);
	cr_assert_eq(log.ev[1].idx, 1);
	wl_native_release(&run);
}

/* ---- threads (format version 2) ---------------------------------------------- */

static void parse_spec(struct wl_spec *s, const char *text)
{
	struct wl_error err;

	cr_assert_eq(wl_spec_parse(s, text, strlen(text), "mem.json", &err), 0, "%s: %s",
		     err.path, err.msg);
}

/* Hooks that record the order of phase beginnings and ends, and which thread called them. */
struct mt_hook_log {
	char seq[64];
	size_t n;
	pthread_t caller[64];
};

static void mt_log_begin(void *ctx, size_t phase)
{
	struct mt_hook_log *h = ctx;

	h->caller[h->n] = pthread_self();
	h->seq[h->n++] = (char)('A' + phase);
}

static void mt_log_end(void *ctx, size_t phase, const struct wl_native_phase *ph)
{
	struct mt_hook_log *h = ctx;

	(void)ph;
	h->caller[h->n] = pthread_self();
	h->seq[h->n++] = (char)('a' + phase);
}

/*
 * Three threads: a touch of 3 MiB by slices (1 MiB each: every page
 * resident, 768 accesses), then a whole-range uniform access by threads 0
 * and 2 (2 x 1000) alongside nothing, then a touch by thread 1 of the second
 * region with a munmap of the first's last MiB by thread 2 alongside it. The
 * hooks come from the caller's thread, a group's beginnings together before
 * it and its ends together after it; the concurrent pair starts at one time.
 */
Test(native, threads_run_their_slices_and_meet_at_each_group)
{
	struct wl_spec s;
	struct wl_native_run run;
	struct wl_error err;
	struct mt_hook_log h = { .n = 0 };
	struct wl_native_hooks hooks = { .phase_begin = mt_log_begin, .phase_end = mt_log_end, .ctx = &h };

	parse_spec(&s, "{\"name\": \"mt\", \"version\": 2, \"threads\": 3, \"seed\": 3,"
		   " \"regions\": [{\"name\": \"a\", \"size\": \"3MiB\", \"advice\": [\"nohugepage\"]},"
		   "  {\"name\": \"b\", \"size\": \"64KiB\"}],"
		   " \"phases\": [{\"op\": \"touch\", \"region\": \"a\"},"
		   "  {\"op\": \"access\", \"region\": \"a\", \"pattern\": \"uniform\", \"count\": 1000,"
		   "   \"threads\": [0, 2], \"share\": \"whole\"},"
		   "  {\"op\": \"touch\", \"region\": \"b\", \"threads\": [1]},"
		   "  {\"op\": \"munmap\", \"region\": \"a\", \"offset\": \"2MiB\", \"threads\": [2],"
		   "   \"concurrent\": true}]}");
	wl_native_init(&run, &s);
	cr_assert_eq(wl_native_exec(&run, &hooks, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(run.phases[0].accesses, 768);
	cr_assert_eq(run.phases[1].accesses, 2000);
	cr_assert_eq(run.phases[2].accesses, 16);
	cr_assert_eq(resident_count(run.start[0], 2 * MiB), 512);
	cr_assert(is_unmapped(run.start[0] + 2 * MiB));
	cr_assert_eq(resident_count(run.start[1], 64 * KiB), 16);
	h.seq[h.n] = '\0';
	cr_assert_str_eq(h.seq, "AaBbCDcd");
	for (size_t i = 0; i < h.n; i++)
		cr_assert(pthread_equal(h.caller[i], pthread_self()), "hook %zu from a worker", i);
	cr_assert_eq(run.phases[2].start_ns, run.phases[3].start_ns);
	cr_assert_geq(run.phases[1].start_ns, run.phases[0].start_ns + run.phases[0].runtime_ns);
	cr_assert_not_null(run.thread_cpu);
	for (unsigned t = 0; t < 3; t++)
		cr_assert_geq(run.thread_cpu[t], 0, "thread %u not pinned", t);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		cr_assert_neq(run.thread_cpu[0], run.thread_cpu[1]);
	cr_assert(run.complete);
	wl_native_release(&run);
	wl_spec_release(&s);
}

/*
 * A failure in thread 0's setup (a 32 TiB region the host cannot commit)
 * ends the run with that error, the other threads released at the first
 * meeting rather than left waiting.
 */
Test(native, a_failed_thread_ends_the_run_without_a_hang, .timeout = 20)
{
	struct wl_spec s;
	struct wl_native_run run;
	struct wl_error err;
	cpu_set_t before, after;
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = 0;

	if (f) {
		if (fscanf(f, "%d", &mode) != 1)
			mode = 0;
		fclose(f);
	}
	if (mode == 1)
		cr_skip_test("vm.overcommit_memory is 1: a 32 TiB mapping would not fail");
	parse_spec(&s, "{\"name\": \"mt\", \"version\": 2, \"threads\": 4,"
		   " \"regions\": [{\"name\": \"a\", \"size\": 35184372088832}],"
		   " \"phases\": [{\"op\": \"touch\", \"region\": \"a\", \"length\": \"64KiB\"},"
		   "  {\"op\": \"sleep\", \"ms\": 1}]}");
	cr_assert_eq(sched_getaffinity(0, sizeof(before), &before), 0);
	wl_native_init(&run, &s);
	memset(&err, 0, sizeof(err));
	cr_assert_eq(wl_native_exec(&run, NULL, &err), -1);
	cr_assert_str_eq(err.path, "regions[0]");
	cr_assert(strstr(err.msg, "mmap failed"), "%s", err.msg);
	cr_assert_eq(sched_getaffinity(0, sizeof(after), &after), 0);
	cr_assert(CPU_EQUAL(&before, &after), "the caller's thread stays unpinned");
	wl_native_release(&run);
	wl_spec_release(&s);
}
