/*
 * measure.c - the calibration microbenchmarks (measure.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "calibrate/measure.h"
#include "linux-probes/counters.h"
#include "simulator/hwinfo.h"
#include "workload/native.h"
#include "workload/prng.h"

#define LINE		64u
#define PAGE		4096u
#define HPAGE		(2u << 20)
#define KiB		(UINT64_C(1) << 10)
#define MiB		(UINT64_C(1) << 20)
#define GiB		(UINT64_C(1) << 30)
#define COLD_WAIT_S	2.5	/* free page reporting's delay is about 2 s (docs/linux-facts.md) */

/* Folds every loaded value, so no load is dead code. */
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void cal_stat_of(struct cal_stat *s, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->spread = s->median > 0 ? (s->max - s->min) / s->median : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (reordered; nearest rank below). */
static double median_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(n - 1) / 2];
}

double cal_periodic_excess(const uint64_t *v, size_t n, unsigned period, unsigned *residue)
{
	uint64_t *tmp;
	unsigned best = 0;
	double best_mean = -1, all, of_best;
	size_t m = 0;

	if (!period || n < 8 * (size_t)period)
		return NAN;
	for (unsigned r = 0; r < period; r++) {
		double sum = 0;
		size_t k = 0;

		for (size_t i = r; i < n; i += period, k++)
			sum += (double)v[i];
		if (sum / (double)k > best_mean) {
			best_mean = sum / (double)k;
			best = r;
		}
	}
	tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return NAN;
	for (size_t i = best; i < n; i += period)
		tmp[m++] = v[i];
	of_best = median_u64(tmp, m);
	memcpy(tmp, v, n * sizeof(*tmp));
	all = median_u64(tmp, n);
	free(tmp);
	if (residue)
		*residue = best;
	return of_best - all;
}

void cal_opts_init(struct cal_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->repeat = CAL_REPEAT_DEFAULT;
	o->warmup = CAL_WARMUP_DEFAULT;
	o->seed = 0x5ca1ab1e;
}

static const char *const fault_names[CAL_FAULT_NR] = { "write_4k", "zero_read", "zero_cow",
						       "thp_2m" };
static const char *const memory_names[CAL_MEMORY_NR] = { "cold", "warm" };

const char *cal_fault_name(enum cal_fault_kind k) { return fault_names[k]; }
const char *cal_memory_name(enum cal_memory m) { return memory_names[m]; }

/* ---- the run's bookkeeping ------------------------------------------------ */

struct suite {
	struct cal_results *r;
	const struct cal_opts *o;
	struct wl_error *err;
	unsigned done, total;
	struct wl_rng rng;
	/* the page chases' TLB counters, when they opened (tlb_open) */
	struct counter_set ctr;
	bool counting;
};

static void step(struct suite *s, const char *what)
{
	if (s->o->progress)
		s->o->progress(s->o->ctx, s->done, s->total, what);
	s->done++;
}

/*
 * Run fn 'warmup' times discarded, then 'repeat' times kept, into st.
 * fn returns the run's value, or a negative number on error.
 */
typedef double (*run_fn)(struct suite *s, void *arg);

static int repeated(struct suite *s, run_fn fn, void *arg, struct cal_stat *st)
{
	double v[CAL_REPEAT_MAX];
	unsigned n = s->o->repeat;

	for (unsigned i = 0; i < s->o->warmup; i++)
		if (fn(s, arg) < 0)
			return -1;
	for (unsigned i = 0; i < n; i++)
		if ((v[i] = fn(s, arg)) < 0)
			return -1;
	cal_stat_of(st, v, n);
	return 0;
}

/*
 * An anonymous private mapping of 'bytes' aligned to 2 MiB (so a THP can
 * back its first byte), with 'advice' unless it is 0. NULL with err set.
 */
static void *map_aligned(struct suite *s, uint64_t bytes, int advice)
{
	size_t len = bytes + HPAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED) {
		wl_error_set(s->err, "mmap", "", "%" PRIu64 " bytes: %s", bytes, strerror(errno));
		return NULL;
	}
	a = ((uintptr_t)p + HPAGE - 1) & ~(uintptr_t)(HPAGE - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	if ((uintptr_t)p + len > a + bytes)
		munmap((char *)(a + bytes), (uintptr_t)p + len - (a + bytes));
	if (advice && madvise((void *)a, bytes, advice)) {
		wl_error_set(s->err, "madvise", "", "%s: %s",
			     advice == MADV_HUGEPAGE ? "MADV_HUGEPAGE" : "MADV_NOHUGEPAGE",
			     strerror(errno));
		munmap((void *)a, bytes);
		return NULL;
	}
	return (void *)a;
}

/* AnonHugePages of the mapping holding addr, in KiB, from /proc/self/smaps; 0 if not found. */
static uint64_t anon_huge_kib(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool in = false;
	uint64_t kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		unsigned long long v;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2) {
			if (in)
				break;
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		} else if (in && sscanf(line, "AnonHugePages: %llu kB", &v) == 1) {
			kib = v;
		}
	}
	fclose(f);
	return kib;
}

/* ---- the clock ------------------------------------------------------------ */

#define ADDS_PER_ITER 64

static double clock_run(struct suite *s, void *arg)
{
	uint64_t iters = *(uint64_t *)arg, x = 0, t0 = now_ns(), t1;

	for (uint64_t i = 0; i < iters; i++) {
#if defined(__x86_64__) || defined(__i386__)
		/* each add waits for the one before: one cycle of latency apiece */
		__asm__ volatile(".rept 64\n\tadd $1, %0\n\t.endr" : "+r"(x));
#else
		for (int k = 0; k < ADDS_PER_ITER; k++)
			__asm__ volatile("" : "+r"(x));
		x += ADDS_PER_ITER;
#endif
	}
	t1 = now_ns();
	(void)s;
	sink ^= x;
	return (double)iters * ADDS_PER_ITER / (double)(t1 - t0);
}

/* ---- the chases ----------------------------------------------------------- */

/*
 * Link n slots into one random cycle: slot(i) holds the address of
 * slot(next(i)). The cycle is a shuffled order of all n slots (every slot
 * on it, so the chase visits the whole buffer); the links are written in
 * ascending address order.
 */
static int link_cycle(struct suite *s, char *buf, uint64_t n, uint64_t (*slot)(uint64_t))
{
	uint32_t *ord = malloc(n * sizeof(*ord)), *next = malloc(n * sizeof(*next));

	if (!ord || !next) {
		free(ord);
		free(next);
		return wl_error_set(s->err, "malloc", "", "%" PRIu64 " slots: out of memory", n);
	}
	for (uint64_t i = 0; i < n; i++)
		ord[i] = (uint32_t)i;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = wl_rng_below(&s->rng, i + 1);
		uint32_t t = ord[i];

		ord[i] = ord[j];
		ord[j] = t;
	}
	for (uint64_t k = 0; k < n; k++)
		next[ord[k]] = ord[(k + 1) % n];
	for (uint64_t i = 0; i < n; i++)
		*(void **)(buf + slot(i)) = buf + slot(next[i]);
	free(ord);
	free(next);
	return 0;
}

static uint64_t line_slot(uint64_t i) { return i * LINE; }

/*
 * One line per page; the line's index within its page steps by 7 (odd, so
 * 64 consecutive pages use all 64 lines): the slots spread over every cache
 * set a page offset can reach, instead of piling into the sets of offset 0.
 */
static uint64_t page_slot(uint64_t i) { return i * PAGE + ((i * 7) % (PAGE / LINE)) * LINE; }

struct chase {
	char *start;
	uint64_t loads;
	/* counted: every run's counters' growth added up, and the runs */
	bool count;
	struct counter_sample sum[COUNTERS_NR];
	unsigned runs;
};

static double chase_run(struct suite *s, void *arg)
{
	struct chase *c = arg;
	struct counter_sample a[COUNTERS_NR], b[COUNTERS_NR];
	void **p = (void **)c->start;
	uint64_t t0, t1;

	/* read outside the timed loop: a read is a system call */
	if (c->count && counters_read(&s->ctr, a))
		c->count = false;
	t0 = now_ns();
	for (uint64_t i = 0; i < c->loads; i++)
		p = *(void **)p;
	t1 = now_ns();
	if (c->count && counters_read(&s->ctr, b))
		c->count = false;
	for (size_t i = 0; c->count && i < COUNTERS_NR; i++) {
		c->sum[i].value += b[i].value - a[i].value;
		c->sum[i].enabled += b[i].enabled - a[i].enabled;
		c->sum[i].running += b[i].running - a[i].running;
	}
	c->runs++;
	sink ^= (uintptr_t)p;
	return (double)(t1 - t0) / (double)c->loads;
}

/*
 * The page chase's TLB counters on this process, where they open: a host
 * without a PMU, or one that refuses kernel-mode counting to this user,
 * leaves the reason in r->tlb_why and the chases uncounted.
 */
static void tlb_open(struct suite *s)
{
	struct wl_error err = { 0 };

	s->counting = false;
	if (counters_open(&s->ctr, 0, &err)) {
		snprintf(s->r->tlb_why, sizeof(s->r->tlb_why), "%.159s", err.msg);
		return;
	}
	for (size_t i = 0; i < COUNTERS_NR; i++) {
		if (counters_tlb_event(&s->ctr, i) == TLB_EV_NONE) {
			/* the first TLB counter's reason speaks for them all */
			if (!s->r->tlb_why[0] && counters_reason(&s->ctr, i)[0] &&
			    strstr(counters_name(i), "dtlb_"))
				snprintf(s->r->tlb_why, sizeof(s->r->tlb_why), "%s",
					 counters_reason(&s->ctr, i));
			continue;
		}
		s->counting = true;
	}
	if (s->counting)
		s->r->tlb_why[0] = '\0';
	else
		counters_close(&s->ctr);
}

/* A point's counted TLB events per load: the loads' counters (a chase stores nothing). */
static void tlb_point(struct suite *s, const struct chase *c, struct cal_chase_point *pt)
{
	static const struct counter_sample zero;

	for (size_t i = 0; c->count && c->runs && i < COUNTERS_NR; i++) {
		enum tlb_scope sc = counters_scope(&s->ctr, i);
		int ev = counters_tlb_event(&s->ctr, i);
		double v, f;

		if (ev == TLB_EV_NONE || (sc != TLB_SCOPE_loads && sc != TLB_SCOPE_loads_stores))
			continue;
		if (counter_growth(&zero, &c->sum[i], &v, &f) == COUNTER_NOT_COUNTED)
			continue;
		pt->tlb_per_load[ev] = v / ((double)c->runs * (double)c->loads);
		pt->tlb_counted |= 1u << ev;
		s->r->has_tlb_counts = true;
	}
}

static const uint64_t line_sizes_full[] = {
	16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, 1 * MiB, 2 * MiB,
	4 * MiB, 8 * MiB, 16 * MiB, 32 * MiB, 64 * MiB, 128 * MiB, 256 * MiB,
};
static const uint64_t line_sizes_quick[] = {
	16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 16 * MiB, 64 * MiB,
};

static int line_chases(struct suite *s)
{
	struct cal_results *r = s->r;
	const uint64_t *sizes = s->o->quick ? line_sizes_quick : line_sizes_full;
	size_t n = s->o->quick ? sizeof(line_sizes_quick) / sizeof(uint64_t)
			       : sizeof(line_sizes_full) / sizeof(uint64_t);
	uint64_t max = sizes[n - 1];
	/*
	 * Huge pages where the host gives them: the line chase measures the
	 * caches, and a TLB miss per load would add the walk to DRAM's latency.
	 */
	char *buf = map_aligned(s, max, MADV_HUGEPAGE), what[64];
	int ret = 0;

	if (!buf)
		return -1;
	memset(buf, 1, max);
	r->line_loads = s->o->quick ? 200000 : 1000000;
	for (size_t i = 0; i < n && !ret; i++) {
		struct chase c = { .start = buf, .loads = r->line_loads };
		struct cal_chase_point *pt = &r->line[i];

		snprintf(what, sizeof(what), "line chase %" PRIu64 " KiB", sizes[i] >> 10);
		step(s, what);
		pt->bytes = sizes[i];
		ret = link_cycle(s, buf, sizes[i] / LINE, line_slot);
		if (!ret)
			ret = repeated(s, chase_run, &c, &pt->ns_per_load);
	}
	r->nr_line = n;
	munmap(buf, max);
	return ret;
}

static int page_chases(struct suite *s, int h)
{
	struct cal_results *r = s->r;
	/* 8 pages to 1 GiB (2^18 pages), doubling; quick: to 128 MiB, by fours */
	unsigned first = 3, last = s->o->quick ? 15 : 18, by = s->o->quick ? 2 : 1;
	uint64_t max = (UINT64_C(1) << last) * PAGE;
	char *buf = map_aligned(s, max, h ? MADV_HUGEPAGE : MADV_NOHUGEPAGE), what[64];
	size_t n = 0;
	int ret = 0;

	if (!buf)
		return -1;
	r->page_loads = s->o->quick ? 200000 : 1000000;
	for (unsigned e = first; e <= last && !ret; e += by, n++) {
		uint64_t pages = UINT64_C(1) << e;
		struct chase c = { .start = buf + page_slot(0), .loads = r->page_loads,
				   .count = s->counting };
		struct cal_chase_point *pt = &r->page[h][n];

		snprintf(what, sizeof(what), "page chase %s %" PRIu64 " pages",
			 h ? "hugepage" : "nohugepage", pages);
		step(s, what);
		pt->pages = pages;
		pt->bytes = pages * PAGE;
		ret = link_cycle(s, buf, pages, page_slot);
		if (!ret)
			ret = repeated(s, chase_run, &c, &pt->ns_per_load);
		tlb_point(s, &c, pt);
		pt->anon_huge_kib = anon_huge_kib(buf);
	}
	r->nr_page = n;
	munmap(buf, max);
	return ret;
}

static unsigned page_chase_steps(const struct cal_opts *o)
{
	return o->quick ? 7 : 16;
}

/* ---- bandwidth ------------------------------------------------------------- */

struct bw {
	char *dst, *src;
	uint64_t bytes;
	bool copy;
};

static double bw_run(struct suite *s, void *arg)
{
	const struct bw *b = arg;
	uint64_t t0 = now_ns(), t1;

	if (b->copy)
		memcpy(b->dst, b->src, b->bytes);
	else
		memset(b->dst, (int)(t0 & 0x7f) | 1, b->bytes);
	t1 = now_ns();
	(void)s;
	sink ^= (uint64_t)b->dst[b->bytes / 2];
	return (double)b->bytes / (double)(t1 - t0);	/* bytes per ns: GB/s */
}

static int bandwidth(struct suite *s)
{
	struct cal_results *r = s->r;
	uint64_t bytes = 4 * r->llc_bytes, lo = s->o->quick ? 32 * MiB : 64 * MiB;
	uint64_t hi = s->o->quick ? 256 * MiB : 1 * GiB;
	struct bw b;
	int ret;

	if (s->o->quick)
		bytes /= 2;
	bytes = bytes < lo ? lo : bytes > hi ? hi : bytes;
	bytes = (bytes + HPAGE - 1) & ~(uint64_t)(HPAGE - 1);
	r->bw_bytes = bytes;
	b.bytes = bytes;
	b.dst = map_aligned(s, bytes, 0);
	b.src = b.dst ? map_aligned(s, bytes, 0) : NULL;
	if (!b.src) {
		if (b.dst)
			munmap(b.dst, bytes);
		return -1;
	}
	/* faulted in first: the timed runs see memory, not the fault path */
	memset(b.dst, 0, bytes);
	memset(b.src, 2, bytes);
	step(s, "memset bandwidth");
	b.copy = false;
	ret = repeated(s, bw_run, &b, &r->memset_gb_per_s);
	step(s, "memcpy bandwidth");
	b.copy = true;
	if (!ret)
		ret = repeated(s, bw_run, &b, &r->memcpy_gb_per_s);
	munmap(b.dst, bytes);
	munmap(b.src, bytes);
	return ret;
}

/* ---- the native executor ----------------------------------------------------- */

struct native {
	struct wl_spec spec;
	size_t phase;	/* the timed access phase */
};

static double native_run(struct suite *s, void *arg)
{
	struct native *n = arg;
	struct wl_native_run run;
	const struct wl_native_phase *ph;
	double v;

	wl_native_init(&run, &n->spec);
	if (s->o->thp_root)
		run.thp_root = s->o->thp_root;
	if (wl_native_exec(&run, NULL, s->err)) {
		wl_native_release(&run);
		return -1;
	}
	ph = &run.phases[n->phase];
	v = ph->accesses ? (double)ph->runtime_ns / (double)ph->accesses : 0;
	sink ^= run.sink;
	wl_native_release(&run);
	return v;
}

static int native(struct suite *s)
{
	struct cal_results *r = s->r;
	char text[1024], what[64];

	r->native_region_bytes = 64 * KiB;
	r->native_accesses = s->o->quick ? 200000 : 2000000;
	for (int p = WL_PAT_SEQUENTIAL; p <= WL_PAT_CHASE; p++) {
		struct native n = { .phase = 1 };
		int ret;

		snprintf(what, sizeof(what), "native executor, %s", wl_pattern_name(p));
		step(s, what);
		/* touched first, so the timed phase takes no fault */
		snprintf(text, sizeof(text),
			 "{\"name\": \"calibrate-native\", \"seed\": %" PRIu64 ","
			 " \"regions\": [{\"name\": \"r\", \"size\": %" PRIu64 "}],"
			 " \"phases\": [{\"op\": \"touch\", \"region\": \"r\"},"
			 " {\"op\": \"access\", \"region\": \"r\", \"pattern\": \"%s\","
			 " \"count\": %" PRIu64 ", \"stride\": \"64B\"}]}",
			 s->o->seed, r->native_region_bytes, wl_pattern_name(p), r->native_accesses);
		if (wl_spec_parse(&n.spec, text, strlen(text), "calibrate-native", s->err))
			return -1;
		ret = repeated(s, native_run, &n, &r->native_ns_per_access[p]);
		wl_spec_release(&n.spec);
		if (ret)
			return -1;
	}
	return 0;
}

int cal_native_large_spec(char *buf, size_t len, int pattern, uint64_t bytes, uint64_t accesses)
{
	int n = snprintf(buf, len,
			 "{\"name\": \"calibrate-native-large\", \"seed\": 17,"
			 " \"regions\": [{\"name\": \"r\", \"size\": %" PRIu64 ","
			 " \"advice\": [\"nohugepage\"]}],"
			 " \"phases\": [{\"op\": \"touch\", \"region\": \"r\"},"
			 " {\"op\": \"access\", \"region\": \"r\", \"pattern\": \"%s\","
			 " \"count\": %" PRIu64 ", \"stride\": \"64B\", \"zipf_s\": 1.1}]}",
			 bytes, wl_pattern_name(pattern), accesses);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* The same executor on CAL_NATIVE_LARGE_BYTES: the misses it overlaps. */
static int native_large(struct suite *s)
{
	static const int pats[CAL_NATIVE_LARGE_NR] = CAL_NATIVE_LARGE_PATTERNS;
	struct cal_results *r = s->r;
	char text[1024], what[64];

	r->native_large_bytes = CAL_NATIVE_LARGE_BYTES;
	r->native_large_accesses = s->o->quick ? 200000 : 1000000;
	for (int i = 0; i < CAL_NATIVE_LARGE_NR; i++) {
		struct native n = { .phase = 1 };
		int ret;

		snprintf(what, sizeof(what), "native executor, %s, %" PRIu64 " MiB",
			 wl_pattern_name(pats[i]), r->native_large_bytes >> 20);
		step(s, what);
		if (cal_native_large_spec(text, sizeof(text), pats[i], r->native_large_bytes,
					  r->native_large_accesses) < 0 ||
		    wl_spec_parse(&n.spec, text, strlen(text), "calibrate-native-large", s->err))
			return -1;
		ret = repeated(s, native_run, &n, &r->native_large_ns_per_access[i]);
		wl_spec_release(&n.spec);
		if (ret)
			return -1;
	}
	r->has_native_large = true;
	return 0;
}

/* ---- faults ----------------------------------------------------------------------- */

/* Mappings the cold runs keep, so no cold run reuses memory another freed. */
struct kept {
	void *addr[CAL_FAULT_NR * (CAL_REPEAT_MAX + 1)];
	uint64_t len[CAL_FAULT_NR * (CAL_REPEAT_MAX + 1)];
	size_t n;
};

struct fault_arg {
	enum cal_fault_kind kind;
	uint64_t bytes;
	struct kept *keep;	/* cold: keep the mapping; NULL: unmap it */
	uint64_t ahp_kib;	/* out: the last run's AnonHugePages */
};

static double fault_run(struct suite *s, void *arg)
{
	struct fault_arg *a = arg;
	bool thp = a->kind == CAL_FAULT_THP_2M;
	uint64_t step_b = thp ? HPAGE : PAGE, n = a->bytes / step_b, t0, t1, acc = 0;
	volatile char *p = map_aligned(s, a->bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);

	if (!p)
		return -1;
	if (a->kind == CAL_FAULT_ZERO_COW)	/* the zero page mapped everywhere first */
		for (uint64_t i = 0; i < n; i++)
			acc += p[i * step_b];
	t0 = now_ns();
	if (a->kind == CAL_FAULT_ZERO_READ)
		for (uint64_t i = 0; i < n; i++)
			acc += p[i * step_b];
	else
		for (uint64_t i = 0; i < n; i++)
			p[i * step_b] = 1;
	t1 = now_ns();
	sink ^= acc;
	if (thp)
		a->ahp_kib = anon_huge_kib((const void *)p);
	if (a->keep && a->keep->n < sizeof(a->keep->addr) / sizeof(a->keep->addr[0])) {
		a->keep->addr[a->keep->n] = (void *)p;
		a->keep->len[a->keep->n++] = a->bytes;
	} else {
		munmap((void *)p, a->bytes);
	}
	return (double)(t1 - t0) / 1000.0 / (double)n;
}

/* The bracketed word of a THP sysfs choice file into buf; "" when unreadable. */
static void read_choice(const char *root, const char *rel, char *buf, size_t len)
{
	char path[512], line[256], *l, *rb;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (l = strchr(line, '[')) && (rb = strchr(l, ']'))) {
		*rb = '\0';
		snprintf(buf, len, "%s", l + 1);
	}
	fclose(f);
}

/* Why the host's THP settings allow no 2 MiB THP on a MADV_HUGEPAGE region; "" if they do. */
static void thp_skip_reason(struct suite *s, char *buf, size_t len)
{
	const char *root = s->o->thp_root ? s->o->thp_root : WL_THP_SYSFS;
	char pmd[32];

	buf[0] = '\0';
	read_choice(root, "hugepages-2048kB/enabled", pmd, sizeof(pmd));
	if (!strcmp(pmd, "never") || (s->r->thp.thp == WL_THP_NEVER && strcmp(pmd, "always") &&
				      strcmp(pmd, "madvise")))
		snprintf(buf, len, "THP off on this host: enabled %s, hugepages-2048kB/enabled %s",
			 wl_thp_name(s->r->thp.thp), pmd[0] ? pmd : "absent");
}

static int faults(struct suite *s)
{
	struct cal_results *r = s->r;
	struct kept *keep = calloc(1, sizeof(*keep));
	char what[64], skip[160];
	int ret = 0;

	if (!keep)
		return wl_error_set(s->err, "malloc", "", "out of memory");
	thp_skip_reason(s, skip, sizeof(skip));
	/*
	 * Cold first: memory this process has not touched. In a guest whose
	 * hypervisor takes freed memory back (free page reporting), the
	 * buffers the chases freed are handed back about 2 s after they were
	 * freed; waiting that long lets the cold faults meet it unbacked.
	 */
	step(s, "waiting for freed memory to be reported");
	r->cold_wait_s = 0;
	if (r->host.page_reporting_order >= 0) {
		struct timespec ts = { (time_t)COLD_WAIT_S, (long)((COLD_WAIT_S - (int)COLD_WAIT_S) * 1e9) };

		nanosleep(&ts, NULL);
		r->cold_wait_s = COLD_WAIT_S;
	}
	for (int m = CAL_COLD; m <= CAL_WARM && !ret; m++) {
		for (int k = 0; k < CAL_FAULT_NR && !ret; k++) {
			struct cal_fault *f = &r->fault[k][m];
			struct fault_arg a = { .kind = k, .keep = m == CAL_COLD ? keep : NULL };
			bool thp = k == CAL_FAULT_THP_2M;
			unsigned warmup = s->o->warmup;
			struct cal_opts o = *s->o;
			struct suite one;

			snprintf(what, sizeof(what), "faults %s %s", memory_names[m], fault_names[k]);
			step(s, what);
			if (thp && skip[0]) {
				snprintf(f->skipped, sizeof(f->skipped), "%s", skip);
				continue;
			}
			if (thp)
				a.bytes = s->o->quick ? 32 * MiB : 128 * MiB;
			else
				a.bytes = s->o->quick ? 8 * MiB : 64 * MiB;
			/* cold: no warm-up; warm: at least one run to touch and free the memory */
			o.warmup = m == CAL_COLD ? 0 : warmup ? warmup : 1;
			one = *s;
			one.o = &o;
			ret = repeated(&one, fault_run, &a, &f->us_per_fault);
			f->measured = !ret;
			f->faults = a.bytes / (thp ? HPAGE : PAGE);
			f->anon_huge_kib = a.ahp_kib;
		}
	}
	for (size_t i = 0; i < keep->n; i++)
		munmap(keep->addr[i], keep->len[i]);
	free(keep);
	return ret;
}

/* ---- the host ---------------------------------------------------------------------- */

/* The largest cache cpu0 reports in sysfs, in bytes; 0 when none. */
static uint64_t llc_bytes(void)
{
	uint64_t best = 0;

	for (int i = 0; i < 8; i++) {
		char path[128];
		unsigned long long v;
		char unit = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu%c", &v, &unit) >= 1) {
			uint64_t b = v * (unit == 'K' ? KiB : unit == 'M' ? MiB : 1);

			if (b > best)
				best = b;
		}
		fclose(f);
	}
	return best;
}

static int host(struct suite *s)
{
	struct cal_results *r = s->r;
	struct utsname u;
	struct tm tm;
	time_t t = time(NULL);

	hostid_read(&r->host, NULL);
	if (!uname(&u)) {
		snprintf(r->kernel_release, sizeof(r->kernel_release), "%s", u.release);
		snprintf(r->kernel_version, sizeof(r->kernel_version), "%s", u.version);
	}
	wl_kernel_init(&r->thp);
	if (wl_kernel_resolve(&r->thp, s->o->thp_root ? s->o->thp_root : WL_THP_SYSFS, s->err))
		return -1;
	r->llc_bytes = llc_bytes();
	gmtime_r(&t, &tm);
	strftime(r->date, sizeof(r->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

int cal_measure(struct cal_results *r, const struct cal_opts *o, struct wl_error *err)
{
	struct suite s = { .r = r, .o = o, .err = err };
	uint64_t clock_iters = o->quick ? 500000 : 2000000;
	size_t nline = o->quick ? sizeof(line_sizes_quick) / sizeof(uint64_t)
				: sizeof(line_sizes_full) / sizeof(uint64_t);

	memset(r, 0, sizeof(*r));
	r->opts = *o;
	r->opts.progress = NULL;
	r->opts.ctx = NULL;
	if (o->repeat < 1 || o->repeat > CAL_REPEAT_MAX)
		return wl_error_set(err, "repeat", "", "expected 1 to %d, got %u", CAL_REPEAT_MAX,
				    o->repeat);
	wl_rng_seed(&s.rng, o->seed);
	s.total = 1 + (unsigned)nline + 2 * page_chase_steps(o) + 2 + 4 + CAL_NATIVE_LARGE_NR + 1 +
		  CAL_FAULT_NR * CAL_MEMORY_NR + o->extra_steps;
	/* virtuoso calibrate measures them with the probes, and says so when it does */
	for (unsigned k = 0; k < CAL_LAT_NR; k++)
		snprintf(r->latency[k].skipped, sizeof(r->latency[k].skipped),
			 "not measured (virtuoso calibrate measures it, with the probes)");
	snprintf(r->shootdown.skipped, sizeof(r->shootdown.skipped),
		 "not measured (virtuoso calibrate measures it, with the probes)");
	if (host(&s))
		return -1;
	{
		struct hwinfo hw;

		/* not x86: no geometry, the fit takes the reference's or --config's */
		if (!hwinfo_probe(&hw, NULL)) {
			hwinfo_to_config(&hw, &r->geometry);
			r->has_geometry = true;
		}
	}
	step(&s, "clock");
	if (repeated(&s, clock_run, &clock_iters, &r->cycles_per_ns) || line_chases(&s))
		return -1;
	tlb_open(&s);
	if (page_chases(&s, 0) || page_chases(&s, 1)) {
		counters_close(&s.ctr);
		return -1;
	}
	counters_close(&s.ctr);
	if (!r->has_tlb_counts && !r->tlb_why[0])
		snprintf(r->tlb_why, sizeof(r->tlb_why), "no TLB counter ever ran");
	if (bandwidth(&s) || native(&s) || native_large(&s) || faults(&s))
		return -1;
	if (o->progress && !o->extra_steps)
		o->progress(o->ctx, s.total, s.total, "done");
	return 0;
}

/* ---- measurements.json -------------------------------------------------------------- */

static cJSON *stat_json(const struct cal_stat *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "median", st->median);
	cJSON_AddNumberToObject(o, "min", st->min);
	cJSON_AddNumberToObject(o, "max", st->max);
	cJSON_AddNumberToObject(o, "spread", st->spread);
	return o;
}

static cJSON *host_json(const struct cal_results *r)
{
	const struct hostid *h = &r->host;
	cJSON *o = cJSON_CreateObject(), *k, *t;

	hostid_json(o, h);
	k = cJSON_AddObjectToObject(o, "kernel");
	cJSON_AddStringToObject(k, "release", r->kernel_release);
	cJSON_AddStringToObject(k, "version", r->kernel_version);
	t = cJSON_AddObjectToObject(o, "thp");
	cJSON_AddStringToObject(t, "enabled", wl_thp_name(r->thp.thp));
	cJSON_AddStringToObject(t, "defrag", wl_defrag_name(r->thp.defrag));
	cJSON_AddBoolToObject(t, "use_zero_page", r->thp.use_zero_page == 1);
	if (r->llc_bytes)
		cJSON_AddNumberToObject(o, "llc_bytes", (double)r->llc_bytes);
	else
		cJSON_AddNullToObject(o, "llc_bytes");
	return o;
}

static cJSON *chase_json(const struct cal_chase_point *pts, size_t n, bool pages)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++) {
		cJSON *p = cJSON_CreateObject();

		cJSON_AddNumberToObject(p, "bytes", (double)pts[i].bytes);
		if (pages) {
			cJSON_AddNumberToObject(p, "pages", (double)pts[i].pages);
			cJSON_AddNumberToObject(p, "anon_huge_kib", (double)pts[i].anon_huge_kib);
		}
		cJSON_AddItemToObject(p, "ns_per_load", stat_json(&pts[i].ns_per_load));
		if (pages && pts[i].tlb_counted) {
			cJSON *t = cJSON_AddObjectToObject(p, "tlb_per_load");

			for (int ev = 0; ev < TLB_EV_NR; ev++)
				if (pts[i].tlb_counted >> ev & 1)
					cJSON_AddNumberToObject(t, tlb_event_name(ev),
								pts[i].tlb_per_load[ev]);
		}
		cJSON_AddItemToArray(a, p);
	}
	return a;
}

cJSON *cal_results_to_json(const struct cal_results *r, const char *tool_version)
{
	cJSON *root = cJSON_CreateObject(), *o, *f;
	const struct cal_chase_point *hl;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "format", "virtuoso-measurements");
	cJSON_AddNumberToObject(root, "format_version", 1);
	cJSON_AddStringToObject(root, "tool_version", tool_version);
	cJSON_AddStringToObject(root, "date", r->date);
	cJSON_AddItemToObject(root, "host", host_json(r));

	o = cJSON_AddObjectToObject(root, "settings");
	cJSON_AddNumberToObject(o, "repeat", r->opts.repeat);
	cJSON_AddNumberToObject(o, "warmup", r->opts.warmup);
	cJSON_AddBoolToObject(o, "quick", r->opts.quick);
	cJSON_AddNumberToObject(o, "seed", (double)r->opts.seed);

	o = cJSON_AddObjectToObject(root, "clock");
	cJSON_AddItemToObject(o, "cycles_per_ns", stat_json(&r->cycles_per_ns));

	o = cJSON_AddObjectToObject(root, "line_chase");
	cJSON_AddNumberToObject(o, "line_bytes", LINE);
	cJSON_AddNumberToObject(o, "loads_per_run", (double)r->line_loads);
	cJSON_AddStringToObject(o, "advice", "hugepage");
	cJSON_AddItemToObject(o, "points", chase_json(r->line, r->nr_line, false));

	o = cJSON_AddObjectToObject(root, "page_chase");
	cJSON_AddNumberToObject(o, "loads_per_run", (double)r->page_loads);
	cJSON_AddItemToObject(o, "nohugepage", chase_json(r->page[0], r->nr_page, true));
	cJSON_AddItemToObject(o, "hugepage", chase_json(r->page[1], r->nr_page, true));
	hl = r->nr_page ? &r->page[1][r->nr_page - 1] : NULL;
	cJSON_AddBoolToObject(o, "thp_obtained", hl && hl->anon_huge_kib > 0);
	if (!r->has_tlb_counts)
		cJSON_AddStringToObject(o, "tlb_unsupported", r->tlb_why[0] ? r->tlb_why : "not counted");

	o = cJSON_AddObjectToObject(root, "bandwidth");
	cJSON_AddNumberToObject(o, "buffer_bytes", (double)r->bw_bytes);
	cJSON_AddItemToObject(o, "memset_gb_per_s", stat_json(&r->memset_gb_per_s));
	cJSON_AddItemToObject(o, "memcpy_gb_per_s", stat_json(&r->memcpy_gb_per_s));

	o = cJSON_AddObjectToObject(root, "native");
	cJSON_AddNumberToObject(o, "region_bytes", (double)r->native_region_bytes);
	cJSON_AddNumberToObject(o, "accesses_per_run", (double)r->native_accesses);
	for (int p = WL_PAT_SEQUENTIAL; p <= WL_PAT_CHASE; p++) {
		cJSON *j = cJSON_AddObjectToObject(o, wl_pattern_name(p));

		cJSON_AddItemToObject(j, "ns_per_access", stat_json(&r->native_ns_per_access[p]));
	}
	if (r->has_native_large) {
		static const int pats[CAL_NATIVE_LARGE_NR] = CAL_NATIVE_LARGE_PATTERNS;

		o = cJSON_AddObjectToObject(root, "native_large");
		cJSON_AddNumberToObject(o, "region_bytes", (double)r->native_large_bytes);
		cJSON_AddNumberToObject(o, "accesses_per_run", (double)r->native_large_accesses);
		for (int i = 0; i < CAL_NATIVE_LARGE_NR; i++) {
			cJSON *j = cJSON_AddObjectToObject(o, wl_pattern_name(pats[i]));

			cJSON_AddItemToObject(j, "ns_per_access",
					      stat_json(&r->native_large_ns_per_access[i]));
		}
	}

	o = cJSON_AddObjectToObject(root, "faults");
	cJSON_AddNumberToObject(o, "cold_wait_s", r->cold_wait_s);
	for (int k = 0; k < CAL_FAULT_NR; k++) {
		f = cJSON_AddObjectToObject(o, fault_names[k]);
		for (int m = 0; m < CAL_MEMORY_NR; m++) {
			const struct cal_fault *x = &r->fault[k][m];
			cJSON *j = cJSON_AddObjectToObject(f, memory_names[m]);

			if (!x->measured) {
				cJSON_AddStringToObject(j, "skipped", x->skipped);
				continue;
			}
			cJSON_AddNumberToObject(j, "faults_per_run", (double)x->faults);
			cJSON_AddItemToObject(j, "us_per_fault", stat_json(&x->us_per_fault));
			if (k == CAL_FAULT_THP_2M)
				cJSON_AddNumberToObject(j, "anon_huge_kib", (double)x->anon_huge_kib);
		}
	}
	if (r->has_geometry)
		cJSON_AddItemToObject(root, "geometry", sim_config_hw_to_json(&r->geometry));

	o = cJSON_AddObjectToObject(root, "shootdown");
	cJSON_AddStringToObject(o, "method", CAL_SHOOTDOWN_METHOD);
	if (!r->shootdown.measured) {
		cJSON_AddStringToObject(o, "skipped", r->shootdown.skipped);
	} else {
		cJSON_AddNumberToObject(o, "runs", r->shootdown.runs);
		cJSON_AddNumberToObject(o, "cross_calls", (double)r->shootdown.cross_calls);
		cJSON_AddNumberToObject(o, "waits", (double)r->shootdown.waits);
		cJSON_AddNumberToObject(o, "handle_ns", r->shootdown.handle_ns);
		cJSON_AddNumberToObject(o, "wait_ns", r->shootdown.wait_ns);
	}

	o = cJSON_AddObjectToObject(root, "fault_latency");
	cJSON_AddStringToObject(o, "method", CAL_LATENCY_METHOD);
	cJSON_AddNumberToObject(o, "runs", r->latency_runs);
	for (unsigned k = 0; k < CAL_LAT_NR; k++) {
		const struct cal_latency *x = &r->latency[k];
		cJSON *j = cJSON_AddObjectToObject(o, cal_lat_name(k));

		if (!x->measured) {
			cJSON_AddStringToObject(j, "skipped", x->skipped);
			continue;
		}
		cJSON_AddStringToObject(j, "spec", x->spec);
		cJSON_AddNumberToObject(j, "runs", x->runs);
		cJSON_AddNumberToObject(j, "runs_left_out", x->runs_left_out);
		cJSON_AddNumberToObject(j, "faults", (double)x->faults);
		cJSON_AddNumberToObject(j, "cold", (double)x->cold);
		cJSON_AddNumberToObject(j, "other_kinds", (double)x->other);
		cJSON_AddNumberToObject(j, "p50_ns", x->p50_ns);
		cJSON_AddNumberToObject(j, "p90_ns", x->p90_ns);
		cJSON_AddNumberToObject(j, "p99_ns", x->p99_ns);
		cJSON_AddNumberToObject(j, "mean_ns", x->mean_ns);
		cJSON_AddItemToObject(j, "p50_ns_runs", stat_json(&x->p50_ns_runs));
		cJSON_AddItemToObject(j, "p90_ns_runs", stat_json(&x->p90_ns_runs));
		if (x->has_lru_batch)
			cJSON_AddItemToObject(j, "lru_batch_excess_ns_runs",
					      stat_json(&x->lru_batch_excess_ns_runs));
	}
	return root;
}
