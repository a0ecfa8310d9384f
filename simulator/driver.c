/*
 * driver.c - the workload driver: a spec's stream through MimicOS, timed or not (driver.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "simulator/driver.h"
#include "simulator/stats.h"
#include "workload/evlog.h"
#include "workload/gen.h"
#include "workload/prng.h"
#include "workload/side.h"

#define DRIVER_BATCH 1024
#define DRIVER_INSTALLS 64
#define ZONE_ALIGN (4ULL << 20)
#define ZONE_MAX (1ULL << 40)

/*
 * What the driver knows of the translations, as a TLB would: present pages
 * (4 KiB, keyed by va >> 12) and 2 MiB mappings (va >> 21), with their
 * writability, filled from the hardware walks it asks for and emptied by
 * every range MimicOS reports as changed or flushed. A hit needs no request.
 */
struct tcache {
	uint64_t *keys;		/* key << 1 | writable, 0 empty; key = vpn*2 (+1 for 2 MiB) + 1 */
	size_t cap, nr;
};

struct driver_state {
	struct driver_run *run;
	struct wl_error *err;
	struct mimicos_channel ch;
	/* the core whose thread runs now, and (untimed) each core's translations */
	unsigned int core;
	struct tcache *tcs;		/* run->cores of them */
	struct tcache *tc;		/* &tcs[core] */
	struct driver_thread *thr;	/* the thread running now (a spec with threads) */
	/*
	 * Timed, several cores: the THP faults whose install another core's
	 * clock has not reached yet (race_lost()), oldest first.
	 */
	struct driver_install {
		uint64_t start;		/* the 2 MiB block */
		uint64_t cycles;	/* the installing core's clock when it was done */
		uint64_t raced;		/* cores that raced it already (bit per core < 64) */
		unsigned int core;
	} installs[DRIVER_INSTALLS];
	unsigned int nr_installs;
	uint64_t busy_cores;		/* several cores: those running a thread (bit per core < 64) */
	/* timed runs: a timing model per core (sharing the LLC and DRAM), tm the current core's */
	struct timing *tms;
	struct timing *tm;
	bool lookahead;		/* timed and in-process: look_ahead() */
	uint64_t la_page[2];	/* the 4 KiB page (of la_region[]) each look-ahead stage hinted last */
	uint32_t la_region[2];
	struct kstream ks;		/* each request's instruction stream */
	bool log;			/* MimicOS writes an event log: give it fault latencies */
	uint64_t fault_ns;		/* timed: the last fault's simulated time */
	uint64_t wake_cycles;		/* timed: the core cycle from which khugepaged's next pass is due */
	struct timing_stats phase_begin;
	long phase;		/* -1 during setup */
	struct driver_phase *ph;	/* &run->phases[phase], NULL during setup */
	uint64_t now_ns;	/* simulated time */
};

void driver_opts_init(struct driver_opts *o)
{
	memset(o, 0, sizeof(*o));
}

uint64_t driver_host_mem_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t b;

	if (pages <= 0 || psz <= 0)
		return 1ULL << 30;
	b = (uint64_t)pages * (uint64_t)psz;
	if (b > ZONE_MAX)
		b = ZONE_MAX;
	b &= ~(ZONE_ALIGN - 1);
	return b ? b : ZONE_ALIGN;
}

/* "phases[N]" inside a phase, "regions[N]" during setup. */
static const char *where(const struct driver_state *st, uint32_t region,
			 char *buf, size_t len)
{
	if (st->phase >= 0)
		snprintf(buf, len, "phases[%ld]", st->phase);
	else
		snprintf(buf, len, "regions[%" PRIu32 "]", region);
	return buf;
}

static int fail(struct driver_state *st, uint32_t region, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct driver_state *st, uint32_t region, const char *fmt, ...)
{
	char path[48], msg[sizeof(st->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return wl_error_set(st->err, st->run->spec->file, where(st, region, path, sizeof(path)),
			    "%s", msg);
}

/* Mark the run incomplete: "phases[N]: <why>". */
static int incomplete(struct driver_state *st, uint32_t region, const char *why)
{
	struct driver_run *run = st->run;
	char path[48], line[256], **r;

	snprintf(line, sizeof(line), "%s: %s", where(st, region, path, sizeof(path)), why);
	run->complete = false;
	r = realloc(run->reasons, (run->nr_reasons + 1) * sizeof(*r));
	if (!r)
		return fail(st, region, "out of memory");
	run->reasons = r;
	if (!(r[run->nr_reasons] = strdup(line)))
		return fail(st, region, "out of memory");
	run->nr_reasons++;
	return 0;
}

/* ---- kernel settings ------------------------------------------------------ */

/* Settings the spec leaves to the host: from 'host' where it has them, then sysfs. */
static int resolve_kernel(struct driver_run *run, const struct driver_opts *o,
			  struct wl_error *err)
{
	struct wl_kernel *k = &run->kernel;
	const struct wl_kernel *h = o->host;

	*k = run->spec->kernel;
	if (h) {
		if (k->thp == WL_THP_HOST)
			k->thp = h->thp;
		if (k->defrag == WL_DEFRAG_HOST)
			k->defrag = h->defrag;
		if (k->use_zero_page < 0)
			k->use_zero_page = h->use_zero_page;
		for (int i = 0; i < WL_MTHP_NR; i++)
			if (k->mthp[i] == WL_MTHP_HOST)
				k->mthp[i] = h->mthp[i];
		for (int i = 0; i < WL_KHP_NR; i++)
			if (k->khugepaged[i] < 0)
				k->khugepaged[i] = h->khugepaged[i];
	}
	return wl_kernel_resolve(k, o->thp_root ? o->thp_root : WL_THP_SYSFS, err);
}

/* ---- the translation cache ------------------------------------------------ */

#define TC_HUGE 1ULL

static uint64_t tc_hash(uint64_t k)
{
	return (k * 0x9e3779b97f4a7c15ULL) >> 20;
}

static void tc_clear(struct tcache *tc)
{
	if (tc->nr)
		memset(tc->keys, 0, tc->cap * sizeof(*tc->keys));
	tc->nr = 0;
}

/* The slot of key k (its own, or the empty one it would take). */
static size_t tc_slot(const struct tcache *tc, uint64_t k)
{
	size_t j = tc_hash(k) & (tc->cap - 1);

	while (tc->keys[j] && tc->keys[j] >> 1 != k)
		j = (j + 1) & (tc->cap - 1);
	return j;
}

/* -1: not cached; else the writable bit. */
static int tc_lookup(const struct tcache *tc, uint64_t va)
{
	uint64_t k4 = ((va >> PAGE_SHIFT) << 1) + 2, k2 = ((va >> PMD_SHIFT) << 1 | TC_HUGE) + 2;
	size_t j;

	if (!tc->cap)
		return -1;
	j = tc_slot(tc, k4);
	if (tc->keys[j])
		return (int)(tc->keys[j] & 1);
	j = tc_slot(tc, k2);
	return tc->keys[j] ? (int)(tc->keys[j] & 1) : -1;
}

static int tc_insert(struct tcache *tc, uint64_t va, uint64_t page_size, bool writable)
{
	uint64_t k = page_size == PMD_SIZE ? ((va >> PMD_SHIFT) << 1 | TC_HUGE) + 2
					   : ((va >> PAGE_SHIFT) << 1) + 2;
	size_t j;

	if ((tc->nr + 1) * 2 > tc->cap) {
		struct tcache n = { .cap = tc->cap ? tc->cap * 2 : 4096 };

		n.keys = calloc(n.cap, sizeof(*n.keys));
		if (!n.keys)
			return -ENOMEM;
		for (size_t i = 0; i < tc->cap; i++)
			if (tc->keys[i]) {
				n.keys[tc_slot(&n, tc->keys[i] >> 1)] = tc->keys[i];
				n.nr++;
			}
		free(tc->keys);
		*tc = n;
	}
	j = tc_slot(tc, k);
	if (!tc->keys[j])
		tc->nr++;
	tc->keys[j] = k << 1 | (writable ? 1 : 0);
	return 0;
}

/* Remove key k, moving the probe chain back (no tombstones). */
static void tc_erase(struct tcache *tc, uint64_t k)
{
	size_t i = tc_slot(tc, k), j = i;

	if (!tc->keys[i])
		return;
	for (;;) {
		size_t h;

		tc->keys[i] = 0;
		do {
			j = (j + 1) & (tc->cap - 1);
			if (!tc->keys[j]) {
				tc->nr--;
				return;
			}
			h = tc_hash(tc->keys[j] >> 1) & (tc->cap - 1);
		} while (i <= j ? (i < h && h <= j) : (i < h || h <= j));
		tc->keys[i] = tc->keys[j];
		i = j;
	}
}

/* Forget [start, end): a shootdown. Large ranges empty the whole cache. */
static void tc_flush(struct tcache *tc, uint64_t start, uint64_t end)
{
	if (start >= end || !tc->nr)
		return;
	if ((end - start) >> PAGE_SHIFT > 4096) {
		tc_clear(tc);
		return;
	}
	for (uint64_t va = start & PAGE_MASK; va < end; va += PAGE_SIZE)
		tc_erase(tc, ((va >> PAGE_SHIFT) << 1) + 2);
	for (uint64_t va = start & PMD_MASK; va < end; va += PMD_SIZE)
		tc_erase(tc, ((va >> PMD_SHIFT) << 1 | TC_HUGE) + 2);
}

/* ---- requests ------------------------------------------------------------------ */

/*
 * Timed runs: khugepaged's next pass, due at next_wake_ns, as the core cycle
 * from which the clock has passed it: clock_ns > W  <=>  cycles >=
 * ceil((W + 1) * MHz / 1000). Compared on every access, so no division there.
 */
static void set_wake(struct driver_state *st, uint64_t next_wake_ns)
{
	unsigned __int128 t = ((unsigned __int128)next_wake_ns + 1) * st->tm->cfg.core.freq_mhz + 999;

	t /= 1000;
	st->wake_cycles = t > UINT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/* The channel failed (the server gone): the run fails, saying so. */
static int transport_failed(struct driver_state *st, int err)
{
	return wl_error_set(st->err, st->run->spec->file, "", "MimicOS (%s): %s",
			    channel_mode_name(st->ch.cfg.mode), strerror(-err));
}

/*
 * Time a fault MimicOS handled: its latency is the fault window's
 * (timing.h), the kernel's stream as timing_kernel() replayed it; entry and
 * exit take the core's time but lie outside the window, as outside Linux's.
 * MimicOS holds the fault's log record until it hears that time, so the log
 * carries it as Linux's carries the measured one.
 */
static int fault_timed(struct driver_state *st, const struct mimicos_response *rs)
{
	uint64_t cycles, mhz = st->tm->cfg.core.freq_mhz;
	struct mimicos_request rq = { .type = MIMICOS_REQ_FAULT_LATENCY };
	struct mimicos_response lrs;
	int ret;

	cycles = timing_kernel(st->tm, TIMING_KERNEL_FAULT, rs, &st->ks);
	st->fault_ns = (cycles * 1000 + mhz / 2) / mhz;
	if (!st->log)
		return 0;
	rq.addr = st->fault_ns;
	ret = channel_request(&st->ch, st->core, &rq, &lrs, NULL);
	return ret ? transport_failed(st, ret) : 0;
}

/*
 * One request to MimicOS; what it changed or flushed leaves the
 * translation cache. A transport failure (the server gone) fails the run.
 * A fault or system call carries the simulated time its kernel work begins
 * (the time its log records are stamped with); ADVANCE's own time is the
 * caller's.
 */
static int request(struct driver_state *st, struct mimicos_request *rq,
		   struct mimicos_response *rs)
{
	int ret;

	if (rq->type <= MIMICOS_REQ_MADVISE)
		rq->now_ns = st->tm ? timing_kernel_begin_ns(st->tm) : st->now_ns;
	ret = channel_request(&st->ch, st->core, rq, rs, st->tm ? &st->ks : NULL);

	if (ret)
		return transport_failed(st, ret);
	st->run->ipis += rs->nr_ipis;
	st->run->ipi_waits += rs->nr_ipi_waits;
	if (st->tm)
		set_wake(st, rs->next_wake_ns);
	if (st->tm) {
		/* the kernel's work, timed where it runs; then the shootdowns */
		switch (rq->type) {
		case MIMICOS_REQ_FAULT:
			if (fault_timed(st, rs))
				return -1;
			break;
		case MIMICOS_REQ_MMAP:
		case MIMICOS_REQ_MUNMAP:
		case MIMICOS_REQ_MPROTECT:
		case MIMICOS_REQ_MADVISE:
			timing_kernel(st->tm, TIMING_KERNEL_SYSCALL, rs, &st->ks);
			break;
		case MIMICOS_REQ_ADVANCE:
		case MIMICOS_REQ_KHUGEPAGED_WAIT:
			timing_kernel(st->tm, TIMING_KERNEL_BACKGROUND, rs, &st->ks);
			break;
		default:
			break;
		}
		/* every core's TLBs; the cross-calls' time on both ends */
		for (unsigned int c = 0; c < st->run->cores; c++) {
			timing_shootdowns(&st->tms[c], rs);
			if (c < MIMICOS_MAX_CPUS && (rs->ipi_cpus[c / 64] >> (c % 64) & 1))
				timing_ipi_handle(&st->tms[c], 1);
		}
		if (rs->nr_ipi_waits)
			timing_ipi_wait(st->tm, rs->nr_ipi_waits);
		return 0;
	}
	/* every core's: a flush reaches them all before they use the mm again (mimicos/tlb.h) */
	for (unsigned int c = 0; c < st->run->cores; c++) {
		struct tcache *tc = &st->tcs[c];

		if (rs->tlb_flush_all)
			tc_clear(tc);
		for (uint32_t i = 0; i < rs->nr_tlb; i++)
			tc_flush(tc, rs->tlb[i].start, rs->tlb[i].end);
		tc_flush(tc, rs->changed_start, rs->changed_end);
	}
	return 0;
}

/* catch_up() once the core's clock may have passed khugepaged's next pass. */
static __attribute__((noinline)) int catch_up_due(struct driver_state *st)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_ADVANCE };
	struct mimicos_response rs;

	rq.now_ns = timing_clock_ns(st->tm);
	/*
	 * Several cores: the time every core running a thread has reached
	 * (cores waiting at the group's end are past any time), so that
	 * khugepaged runs no later than any of them and their records keep
	 * their own times
	 */
	for (unsigned int c = 0; c < st->run->cores && c < 64; c++)
		if ((st->busy_cores >> c & 1) && timing_clock_ns(&st->tms[c]) < rq.now_ns)
			rq.now_ns = timing_clock_ns(&st->tms[c]);
	if (rq.now_ns <= st->now_ns)
		return 0;
	st->now_ns = rq.now_ns;
	return request(st, &rq, &rs);
}

/* Timed runs: khugepaged's passes due by the core's clock run (on another CPU). */
static inline int catch_up(struct driver_state *st)
{
	if (st->tm->core.now < st->wake_cycles)	/* the common case, without a division */
		return 0;
	return catch_up_due(st);
}

/*
 * The run's counters over every core: summed, but the clock is the latest
 * core's and the shared LLC's and DRAM's counters are counted once.
 */
static void snapshot_all(struct driver_state *st, struct timing_stats *out)
{
	timing_snapshot(&st->tms[0], out);
	for (unsigned int c = 1; c < st->run->cores; c++) {
		struct timing_stats one;
		uint64_t cycles = out->cycles;
		const uint64_t *po;
		uint64_t *pa = (uint64_t *)out;

		timing_snapshot(&st->tms[c], &one);
		if (one.cycles > cycles)
			cycles = one.cycles;
		memset(&one.cache[MEMSYS_LLC], 0, sizeof(one.cache[MEMSYS_LLC]));
		memset(&one.dram, 0, sizeof(one.dram));
		po = (const uint64_t *)&one;
		for (size_t i = 0; i < sizeof(one) / sizeof(uint64_t); i++)
			pa[i] += po[i];
		out->cycles = cycles;
	}
}

/* The latest core's time; every core idles up to its clock (the threads meet). */
static uint64_t meet_cores(struct driver_state *st)
{
	uint64_t t = 0;

	for (unsigned int c = 0; c < st->run->cores; c++) {
		uint64_t n = timing_idle_until(&st->tms[c], 0);

		t = n > t ? n : t;
	}
	for (unsigned int c = 0; c < st->run->cores; c++)
		timing_idle_until(&st->tms[c], t);
	return core_ns(&st->tms[0].core, t);
}

/* ---- setup and range ops ---------------------------------------------------- */

static int do_map(struct driver_state *st, const struct wl_op *op,
		  const struct driver_opts *o)
{
	struct driver_region *r = &st->run->regions[op->region];
	struct mimicos_request rq = { .type = MIMICOS_REQ_MMAP, .len = op->arg,
				      .prot = PROT_READ | PROT_WRITE,
				      .flags = MAP_PRIVATE | MAP_ANONYMOUS };
	struct mimicos_response rs;

	if (o->region_start && o->region_start[op->region]) {
		rq.addr = o->region_start[op->region];
		rq.flags |= MAP_FIXED_NOREPLACE;
	}
	/* MAP_POPULATE: populate_vma_page_range(), GUP write faults (no user-fault count) */
	if (op->flags & WL_MAP_POPULATE)
		rq.flags |= MAP_POPULATE;
	if (request(st, &rq, &rs))
		return -1;
	if (rs.result)
		return fail(st, op->region, "mmap(0x%" PRIx64 ", %" PRIu64 ") failed: %s",
			    rq.addr, op->arg, strerror(-rs.result));
	r->start = rs.addr;
	r->size = op->arg;
	r->populate_faults += rs.nr_faults;
	return 0;
}

static int op_madvise(struct driver_state *st, const struct wl_op *op)
{
	static const struct { int advice; const char *name; } map[] = {
		[WL_ADV_DONTNEED]	= { MADV_DONTNEED, "dontneed" },
		[WL_ADV_HUGEPAGE]	= { MADV_HUGEPAGE, "hugepage" },
		[WL_ADV_NOHUGEPAGE]	= { MADV_NOHUGEPAGE, "nohugepage" },
		[WL_ADV_COLLAPSE]	= { MADV_COLLAPSE, "collapse" },
	};
	struct mimicos_request rq = { .type = MIMICOS_REQ_MADVISE };
	struct mimicos_response rs;

	if (op->flags >= sizeof(map) / sizeof(map[0]))
		return fail(st, op->region, "madvise: unknown advice %u", op->flags);
	rq.addr = st->run->regions[op->region].start + op->off;
	rq.len = op->arg;
	rq.advice = map[op->flags].advice;
	if (request(st, &rq, &rs))
		return -1;
	if (rs.result && op->flags == WL_ADV_COLLAPSE) {
		/* native.c records a failed collapse, not an error */
		if (st->phase >= 0)
			st->run->phases[st->phase].collapse_errno = -rs.result;
		return 0;
	}
	if (rs.result)
		return fail(st, op->region, "madvise(%s) failed: %s", map[op->flags].name,
			    strerror(-rs.result));
	return 0;
}

static int op_mprotect(struct driver_state *st, const struct wl_op *op)
{
	static const unsigned long prot[] = {
		[WL_PROT_NONE] = PROT_NONE, [WL_PROT_R] = PROT_READ,
		[WL_PROT_RW] = PROT_READ | PROT_WRITE,
	};
	struct mimicos_request rq = { .type = MIMICOS_REQ_MPROTECT };
	struct mimicos_response rs;

	if (op->flags >= sizeof(prot) / sizeof(prot[0]))
		return fail(st, op->region, "mprotect: unknown prot %u", op->flags);
	rq.addr = st->run->regions[op->region].start + op->off;
	rq.len = op->arg;
	rq.prot = (uint32_t)prot[op->flags];
	if (request(st, &rq, &rs))
		return -1;
	if (rs.result)
		return fail(st, op->region, "mprotect failed: %s", strerror(-rs.result));
	return 0;
}

static int op_munmap(struct driver_state *st, const struct wl_op *op)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_MUNMAP };
	struct mimicos_response rs;

	rq.addr = st->run->regions[op->region].start + op->off;
	rq.len = op->arg;
	if (request(st, &rq, &rs))
		return -1;
	if (rs.result)
		return fail(st, op->region, "munmap failed: %s", strerror(-rs.result));
	return 0;
}

/* ---- accesses ------------------------------------------------------------------ */

/* A fault MimicOS handled: counted per region and phase; a fatal one fails the run. */
static int count_fault(struct driver_state *st, const struct wl_op *op,
		       struct driver_region *r, struct driver_phase *ph, bool write,
		       const struct mimicos_response *rs)
{
	r->faults++;
	if (write)
		r->write_faults++;
	if (ph)
		ph->faults++;
	if (st->thr)
		st->thr->faults++;
	if ((uint32_t)rs->result & VM_FAULT_ERROR)
		return fail(st, op->region, "%s at offset 0x%" PRIx64 " of regions[%" PRIu32 "]: %s",
			    write ? "store" : "load", op->off, op->region,
			    (uint32_t)rs->result & VM_FAULT_SIGSEGV ? "SIGSEGV" :
			    (uint32_t)rs->result & VM_FAULT_SIGBUS ? "SIGBUS" : "out of memory");
	if (rs->order >= 0 && rs->order < NR_PAGE_ORDERS)
		r->alloc_orders[rs->order]++;
	if (rs->page_size == PMD_SIZE && rs->order >= 0) {
		r->thp_faults++;
		if (ph)
			ph->thp_faults++;
		if (st->thr)
			st->thr->thp_faults++;
	}
	return 0;
}

/*
 * Timed, several cores: a THP fault done on this core at its clock now,
 * which other cores' accesses made before that time race (race_lost()).
 * Installs every core's clock has passed are dropped first.
 */
static void note_install(struct driver_state *st, uint64_t addr)
{
	uint64_t oldest = UINT64_MAX;
	unsigned int n = 0;

	for (unsigned int c = 0; c < st->run->cores; c++)
		if (st->tms[c].core.now < oldest)
			oldest = st->tms[c].core.now;
	for (unsigned int i = 0; i < st->nr_installs; i++)
		if (st->installs[i].cycles > oldest)
			st->installs[n++] = st->installs[i];
	if (n == DRIVER_INSTALLS)
		memmove(st->installs, st->installs + 1, --n * sizeof(st->installs[0]));
	st->installs[n++] = (struct driver_install){ .start = addr & ~(PMD_SIZE - 1),
						     .cycles = st->tm->core.now, .core = st->core };
	st->nr_installs = n;
}

/*
 * Whether this core's access at addr, now, comes before another core's
 * THP fault installed the block's PMD: then its own fault found the PMD
 * empty and lost the race (once per core and install).
 */
static bool race_lost(struct driver_state *st, uint64_t addr)
{
	uint64_t block = addr & ~(PMD_SIZE - 1);

	for (unsigned int i = 0; i < st->nr_installs; i++) {
		struct driver_install *in = &st->installs[i];

		if (in->start != block || in->core == st->core || st->core >= 64 ||
		    st->tm->core.now >= in->cycles || (in->raced >> st->core & 1))
			continue;
		in->raced |= 1ULL << st->core;
		return true;
	}
	return false;
}

/* The fault of an access that lost the race to another core's THP fault. */
static __attribute__((noinline)) int fault_raced(struct driver_state *st, const struct wl_op *op)
{
	struct driver_region *r = &st->run->regions[op->region];
	bool write = op->flags & WL_ACC_WRITE;
	struct mimicos_request rq = { .type = MIMICOS_REQ_FAULT, .addr = r->start + op->off,
				      .flags = MIMICOS_FAULT_RACED,
				      .access = write ? MIMICOS_ACCESS_WRITE : MIMICOS_ACCESS_READ };
	struct mimicos_response rs;

	if (request(st, &rq, &rs) || count_fault(st, op, r, st->ph, write, &rs))
		return -1;
	side_latencies_push(&r->latency, st->fault_ns);
	if (st->ph)
		side_latencies_push(&st->ph->latency, st->fault_ns);
	return 0;
}

/*
 * A timed access's translation faulted: MimicOS handles the fault and the
 * translation is retried, at most twice. 0 with *pa and *tcycles of the
 * translation that succeeded, or -1.
 */
static __attribute__((noinline)) int fault_timed_access(struct driver_state *st,
							const struct wl_op *op,
							uint64_t *pa, uint32_t *tcycles)
{
	struct driver_region *r = &st->run->regions[op->region];
	struct driver_phase *ph = st->ph;
	uint64_t addr = r->start + op->off;
	bool write = op->flags & WL_ACC_WRITE;
	struct mimicos_request rq = { .type = MIMICOS_REQ_FAULT, .addr = addr,
				      .access = write ? MIMICOS_ACCESS_WRITE : MIMICOS_ACCESS_READ };
	struct mimicos_response rs;
	int tries = 0;

	do {
		if (++tries > 2)
			return fail(st, op->region, "%s at offset 0x%" PRIx64 ": the fault does not "
				    "resolve", write ? "store" : "load", op->off);
		if (request(st, &rq, &rs) || count_fault(st, op, r, ph, write, &rs))
			return -1;
		side_latencies_push(&r->latency, st->fault_ns);
		if (ph)
			side_latencies_push(&ph->latency, st->fault_ns);
		if (st->run->cores > 1 && rs.page_size == PMD_SIZE && rs.order == HPAGE_PMD_ORDER &&
		    !rs.zero_page)
			note_install(st, addr);
	} while (timing_translate(st->tm, addr, write, pa, tcycles));
	return 0;
}

/*
 * A timed access: the core's MMU translates (a walk reads MimicOS's real
 * entries); no translation means a fault, MimicOS handles it and the access
 * is retried; then the data access through the caches, on the core. Inline
 * in the driver's loop: the common case is a translation and an access.
 */
static inline int access_timed(struct driver_state *st, const struct wl_op *op)
{
	uint64_t addr = st->run->regions[op->region].start + op->off, pa;
	bool write = op->flags & WL_ACC_WRITE;
	uint32_t tcycles;

	if (st->ph)
		st->ph->accesses++;
	if (st->thr)
		st->thr->accesses++;
	/* the fault path finds again what it needs: nothing more lives across the call */
	if (__builtin_expect(timing_translate(st->tm, addr, write, &pa, &tcycles), 0)) {
		if (fault_timed_access(st, op, &pa, &tcycles))
			return -1;
	} else if (__builtin_expect(st->nr_installs != 0, 0) && race_lost(st, addr) &&
		   fault_raced(st, op)) {
		return -1;
	}
	timing_access(st->tm, pa, write, tcycles, op->flags & WL_ACC_DEP);
	return catch_up(st);
}

/*
 * The MMU's view: a present leaf, writable for a store, needs no fault.
 * Known translations are in the cache; otherwise the hardware walk decides,
 * and a fault goes to MimicOS (which may also find it spurious).
 */
static int op_access(struct driver_state *st, const struct wl_op *op)
{
	struct driver_run *run = st->run;
	struct driver_region *r = &run->regions[op->region];
	struct driver_phase *ph = st->phase >= 0 ? &run->phases[st->phase] : NULL;
	uint64_t addr = r->start + op->off;
	bool write = op->flags & WL_ACC_WRITE;
	struct mimicos_request rq = { .addr = addr };
	struct mimicos_response rs;
	int cached;

	if (st->tm)
		return access_timed(st, op);
	if (ph)
		ph->accesses++;
	if (st->thr)
		st->thr->accesses++;
	cached = tc_lookup(st->tc, addr);
	if (cached == 1 || (cached == 0 && !write))
		return 0;
	rq.type = MIMICOS_REQ_WALK;
	if (request(st, &rq, &rs))
		return -1;
	if (rs.u.walk.mapped) {
		bool writable = rs.u.walk.entry[rs.u.walk.nr - 1] & _PAGE_RW;

		if (tc_insert(st->tc, addr, rs.u.walk.page_size, writable))
			return fail(st, op->region, "out of memory");
		if (!write || writable)
			return 0;
	}
	rq.type = MIMICOS_REQ_FAULT;
	rq.access = write ? MIMICOS_ACCESS_WRITE : MIMICOS_ACCESS_READ;
	if (request(st, &rq, &rs))
		return -1;
	return count_fault(st, op, r, ph, write, &rs);
}

/* ---- phases ------------------------------------------------------------------- */

static int classify(struct driver_state *st, uint64_t (*pages)[PAGE_CLASS_NR])
{
	const struct wl_spec *s = st->run->spec;

	for (size_t i = 0; i < s->nr_regions; i++) {
		const struct driver_region *r = &st->run->regions[i];
		struct mimicos_request rq = { .type = MIMICOS_REQ_CLASSES, .addr = r->start,
					      .len = r->size };
		struct mimicos_response rs;

		memset(pages[i], 0, sizeof(pages[i]));
		if (!r->size) {
			pages[i][PAGE_CLASS_NONE] = s->regions[i].size / PAGE_SIZE;
			continue;
		}
		if (request(st, &rq, &rs))
			return -1;
		memcpy(pages[i], rs.u.classes.pages, sizeof(pages[i]));
	}
	return 0;
}

/*
 * Each region's backing map, BACKING request by request (each answers a
 * bounded number of runs and says where it stopped). A region never mapped
 * is all none.
 */
static int backing_maps(struct driver_state *st)
{
	const struct wl_spec *s = st->run->spec;

	for (size_t i = 0; i < s->nr_regions; i++) {
		struct driver_region *r = &st->run->regions[i];
		struct mimicos_request rq = { .type = MIMICOS_REQ_BACKING, .addr = r->start };
		uint64_t end = r->start + r->size;
		struct mimicos_response rs;
		int ret = 0;

		side_backing_release(&r->backing);
		if (!r->size)
			ret = side_backing_add(&r->backing, PAGE_CLASS_NONE, s->regions[i].size / PAGE_SIZE);
		while (!ret && rq.addr < end) {
			rq.len = end - rq.addr;
			if (request(st, &rq, &rs))
				return -1;
			if (rs.result || rs.u.backing.end <= rq.addr || rs.u.backing.end > end)
				return fail(st, (uint32_t)i, "MimicOS's backing map of 0x%" PRIx64
					    "+0x%" PRIx64 " stopped at 0x%" PRIx64 " (%d)", rq.addr,
					    rq.len, rs.u.backing.end, rs.result);
			for (uint32_t k = 0; !ret && k < rs.u.backing.nr; k++)
				ret = side_backing_add(&r->backing, rs.u.backing.run[k].cls,
						       rs.u.backing.run[k].pages);
			rq.addr = rs.u.backing.end;
		}
		if (ret)
			return fail(st, (uint32_t)i, "out of memory");
	}
	return 0;
}

static int tag_phase(struct driver_state *st, long phase)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_PHASE, .addr = (uint64_t)(int64_t)phase };
	struct mimicos_response rs;

	return request(st, &rq, &rs);
}

/* khugepaged's passes due by st->now_ns; 'sleeping': the workload slept meanwhile. */
static int advance(struct driver_state *st, bool sleeping)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_ADVANCE, .now_ns = st->now_ns,
				      .len = sleeping };
	struct mimicos_response rs;

	return request(st, &rq, &rs);
}

static int run_op(struct driver_state *st, const struct wl_op *op,
		  const struct driver_opts *o)
{
	const struct wl_spec *s = st->run->spec;

	switch (op->type) {
	case WL_OP_MAP:
		return do_map(st, op, o);
	case WL_OP_MADVISE:
		return op_madvise(st, op);
	case WL_OP_MPROTECT:
		return op_mprotect(st, op);
	case WL_OP_MUNMAP:
		return op_munmap(st, op);
	case WL_OP_ACCESS:
		return op_access(st, op);
	case WL_OP_KHUGEPAGED_WAIT: {
		struct mimicos_request rq = { .type = MIMICOS_REQ_KHUGEPAGED_WAIT, .addr = op->arg,
					      .len = op->off * 1000000ULL };
		struct mimicos_response rs;

		if (st->tm) {
			/*
			 * The wait starts at the core's time. Passes due since
			 * the last access (one MADV_HUGEPAGE's registration
			 * woke) run inside it, after it read full_scans: woken
			 * at nice 19 on another CPU, the pass starts after the
			 * workload's next step (khugepaged.h), and as it lasts far
			 * longer than the way into the wait, the workload is
			 * blocked meanwhile (no flush IPI reaches its CPU)
			 */
			st->now_ns = timing_now_ns(st->tm);
			rq.now_ns = st->now_ns;
		}
		if (request(st, &rq, &rs))
			return -1;
		if (st->tm && rs.u.wait.now_ns > st->now_ns)
			timing_idle(st->tm, rs.u.wait.now_ns - st->now_ns);
		st->now_ns = rs.u.wait.now_ns;
		if (rs.result) {
			if (st->phase >= 0)
				st->run->phases[st->phase].timed_out = true;
			return incomplete(st, 0, "khugepaged_wait timed out");
		}
		return 0;
	}
	case WL_OP_SLEEP:
		/* khugepaged's passes due meanwhile run (they would on Linux) */
		if (st->tm) {
			timing_idle(st->tm, op->arg * 1000000ULL);
			st->now_ns = timing_now_ns(st->tm);
		} else {
			st->now_ns += op->arg * 1000000ULL;
		}
		return advance(st, true);
	case WL_OP_PHASE_BEGIN:
		if (op->arg >= s->nr_phases)
			return wl_error_set(st->err, s->file, "", "generator emitted phase %"
					    PRIu64 " of %zu", op->arg, s->nr_phases);
		st->phase = (long)op->arg;
		st->ph = &st->run->phases[st->phase];
		if (st->tm) {
			const struct wl_phase *p = &s->phases[op->arg];

			/* the executor's own work per access, by the phase's pattern */
			timing_set_pattern(st->tm, p->op == WL_PH_ACCESS ? (int)p->pattern : -1);
			st->now_ns = timing_now_ns(st->tm);
			snapshot_all(st, &st->phase_begin);
		}
		st->run->phases[st->phase].start_ns = st->now_ns;
		/* the tag lasts through the pause after the phase, as on Linux */
		return tag_phase(st, st->phase);
	case WL_OP_PHASE_END:
		if (st->phase < 0 || (uint64_t)st->phase != op->arg)
			return wl_error_set(st->err, s->file, "", "generator ended phase %"
					    PRIu64 " outside it", op->arg);
		if (classify(st, st->run->phases[st->phase].pages))
			return -1;
		if (st->tm) {
			struct timing_stats end;

			timing_set_pattern(st->tm, -1);
			snapshot_all(st, &end);
			timing_stats_sub(&st->run->phases[st->phase].timing, &end, &st->phase_begin);
			st->now_ns = timing_now_ns(st->tm);
		}
		st->run->phases[st->phase].runtime_ns = st->now_ns - st->run->phases[st->phase].start_ns;
		st->phase = -1;
		st->ph = NULL;
		return 0;
	default:
		return wl_error_set(st->err, s->file, "", "generator emitted unknown op type %u",
				    op->type);
	}
}

/* ---- threads ------------------------------------------------------------------ */

/*
 * A spec with threads (docs/workload-format.md, "Threads"): each thread's
 * stream (wl_gen_init_thread()) on core t mod cores. Phases run in groups
 * (wl_phase_group()), which every thread starts and ends together, as the
 * native executor's threads meet: timed, every core idles up to the latest
 * one's clock at both ends. Inside a group the threads take turns: untimed,
 * DRIVER_QUANTUM ops each in thread order; timed, the thread whose core's
 * clock is earliest (the lowest thread on a tie) runs until that clock has
 * moved DRIVER_QUANTUM_NS on, so a run is the same every time. A core runs
 * one thread at a time and switches (SWITCH_MM) when another of its threads
 * takes its turn, and goes idle (lazy) when none of them has work left in
 * the group. Bookkeeping (phase pages, backing, counters) is core 0's.
 */
#define DRIVER_QUANTUM		64
#define DRIVER_QUANTUM_NS	1000

struct thread_run {
	struct wl_gen g;
	struct wl_op *buf;
	size_t n, i;
	long phase;		/* the phase it is in, -1 none */
	bool done;		/* at the end of the group (or of its stream) */
};

/* Core c's thread is the current one; its accesses cost what its phase's pattern says. */
static void use_core(struct driver_state *st, unsigned int c, long phase)
{
	const struct wl_spec *s = st->run->spec;

	st->core = c;
	st->tc = &st->tcs[c];
	st->phase = phase;
	st->ph = phase >= 0 ? &st->run->phases[phase] : NULL;
	if (st->tms) {
		const struct wl_phase *p = phase >= 0 ? &s->phases[phase] : NULL;

		st->tm = &st->tms[c];
		timing_set_pattern(st->tm, p && p->op == WL_PH_ACCESS ? (int)p->pattern : -1);
	}
}

static int switch_core(struct driver_state *st, unsigned int core, bool run, uint32_t thread)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_SWITCH_MM, .addr = thread, .len = run };
	struct mimicos_response rs;

	st->core = core;
	st->tc = &st->tcs[core];
	if (st->tms)
		st->tm = &st->tms[core];
	if (core < 64)
		st->busy_cores = (st->busy_cores & ~(1ULL << core)) | (uint64_t)run << core;
	return request(st, &rq, &rs);
}

/* The thread's next op, NULL at the end of its stream. */
static const struct wl_op *thread_next(struct thread_run *t)
{
	if (t->i == t->n) {
		t->n = wl_gen_next(&t->g, t->buf, DRIVER_BATCH);
		t->i = 0;
		if (!t->n)
			return NULL;
	}
	return &t->buf[t->i];
}

/* Whether thread 't' may take another op in this turn (its core current). */
static bool turn_goes_on(const struct driver_state *st, unsigned int k, uint64_t until)
{
	if (st->tm)
		return st->tm->core.now < until;
	return k < DRIVER_QUANTUM;
}

/*
 * Thread 't' runs its turn of group [a, b] on its core (markers_only: up
 * to its first op). Phase markers of phases it does not run are passed
 * over; the end of phase b ends its group.
 */
static int thread_turn(struct driver_state *st, struct thread_run *tr, unsigned int t, size_t b,
		       const struct driver_opts *o, bool markers_only)
{
	const struct wl_spec *s = st->run->spec;
	uint64_t until = st->tm ? st->tm->core.now + (uint64_t)DRIVER_QUANTUM_NS *
				  st->tm->cfg.core.freq_mhz / 1000 : 0;

	for (unsigned int k = 0; !tr->done && (markers_only || turn_goes_on(st, k, until)); k++) {
		const struct wl_op *op = thread_next(tr);

		if (!op) {
			tr->done = true;
			break;
		}
		if (markers_only && op->type != WL_OP_PHASE_BEGIN && op->type != WL_OP_PHASE_END)
			break;
		tr->i++;
		if (op->type == WL_OP_PHASE_BEGIN) {
			if (op->arg >= s->nr_phases)
				return wl_error_set(st->err, s->file, "", "generator emitted phase %"
						    PRIu64 " of %zu", op->arg, s->nr_phases);
			if (!wl_phase_runs(&s->phases[op->arg], t))
				continue;
			tr->phase = (long)op->arg;
			use_core(st, st->core, tr->phase);
			if (tag_phase(st, tr->phase))
				return -1;
			continue;
		}
		if (op->type == WL_OP_PHASE_END) {
			if (tr->phase == (long)op->arg) {
				tr->phase = -1;
				use_core(st, st->core, -1);
			}
			if (op->arg == b)
				tr->done = true;
			continue;
		}
		if (run_op(st, op, o))
			return -1;
	}
	return 0;
}

/* The next thread to take a turn: timed, the one whose core is earliest; -1: none left. */
static int next_turn(const struct driver_state *st, const struct thread_run *tr, unsigned int from)
{
	unsigned int n = st->run->spec->threads;
	int best = -1;

	for (unsigned int k = 0; k < n; k++) {
		unsigned int t = st->tm ? k : (from + k) % n;

		if (tr[t].done)
			continue;
		if (!st->tm)
			return (int)t;
		if (best < 0 || st->tms[t % st->run->cores].core.now <
				st->tms[best % st->run->cores].core.now)
			best = (int)t;
	}
	return best;
}

/* The group [a, b]: threads in turns until each is at its end; then each phase's pages. */
static int run_group(struct driver_state *st, struct thread_run *tr, size_t a, size_t b,
		     const struct driver_opts *o)
{
	const struct wl_spec *s = st->run->spec;
	unsigned int cores = st->run->cores, next = 0;
	int32_t *on_core = calloc(cores, sizeof(*on_core));	/* thread it runs, -1 idle */
	struct timing_stats begin, end;
	int ret = 0, t;

	if (!on_core)
		return wl_error_set(st->err, s->file, "", "out of memory");
	if (st->tms) {
		st->now_ns = meet_cores(st);
		snapshot_all(st, &begin);
	}
	for (size_t i = a; i <= b; i++)
		st->run->phases[i].start_ns = st->now_ns;
	for (unsigned int c = 0; c < cores; c++)
		on_core[c] = -1;
	/*
	 * Every thread passes the markers before its first op of the group
	 * (tagging its core with the phase it begins); one left without an op
	 * waits at the group's end from the start, as a thread with nothing to
	 * do in a phase (a khugepaged_wait's others) waits at the barrier
	 */
	for (unsigned int u = 0; !ret && u < s->threads; u++) {
		tr[u].done = false;
		use_core(st, u % cores, tr[u].phase);
		ret = thread_turn(st, &tr[u], u, b, o, true);
		if (!tr[u].done && on_core[u % cores] < 0)
			on_core[u % cores] = (int32_t)u;
	}
	for (unsigned int c = 0; !ret && c < cores; c++)
		ret = switch_core(st, c, on_core[c] >= 0, on_core[c] >= 0 ? (uint32_t)on_core[c] : 0);
	while (!ret && (t = next_turn(st, tr, next)) >= 0) {
		unsigned int c = (unsigned int)t % cores;

		next = (unsigned int)t + 1;
		if (on_core[c] != t) {
			on_core[c] = t;
			ret = switch_core(st, c, true, (uint32_t)t);
			/* the core's tag is the thread's phase */
			if (!ret && tr[t].phase >= 0)
				ret = tag_phase(st, tr[t].phase);
		}
		use_core(st, c, tr[t].phase);
		st->thr = &st->run->threads[t];
		if (!ret)
			ret = thread_turn(st, &tr[t], (unsigned int)t, b, o, false);
		st->thr = NULL;
		/* nothing more for its core in this group: idle */
		if (!ret && tr[t].done) {
			bool more = false;

			for (unsigned int u = c; u < s->threads; u += cores)
				more |= !tr[u].done;
			if (!more)
				ret = switch_core(st, c, false, 0);
		}
	}
	free(on_core);
	use_core(st, 0, -1);
	if (st->tms && !ret) {
		st->now_ns = meet_cores(st);
		snapshot_all(st, &end);
		for (size_t i = a; i <= b; i++)
			timing_stats_sub(&st->run->phases[i].timing, &end, &begin);
	}
	for (size_t i = a; !ret && i <= b; i++) {
		ret = classify(st, st->run->phases[i].pages);
		st->run->phases[i].runtime_ns = st->now_ns - st->run->phases[i].start_ns;
	}
	return ret;
}

static int run_threads(struct driver_state *st, const struct driver_opts *o)
{
	const struct wl_spec *s = st->run->spec;
	struct thread_run *tr = calloc(s->threads, sizeof(*tr));
	int ret = 0;

	if (!tr)
		return wl_error_set(st->err, s->file, "", "out of memory");
	for (unsigned int t = 0; t < s->threads; t++) {
		wl_gen_init_thread(&tr[t].g, s, t);
		tr[t].buf = malloc(DRIVER_BATCH * sizeof(*tr[t].buf));
		tr[t].phase = -1;
		st->run->threads[t].cpu = t % st->run->cores;
		if (!tr[t].buf)
			ret = wl_error_set(st->err, s->file, "", "out of memory");
	}
	/* the setup (thread 0's, on core 0), up to the first phase */
	st->thr = &st->run->threads[0];
	while (!ret) {
		const struct wl_op *op = thread_next(&tr[0]);

		if (!op || op->type == WL_OP_PHASE_BEGIN)
			break;
		tr[0].i++;
		ret = run_op(st, op, o);
	}
	st->thr = NULL;
	for (size_t a = 0, b; !ret && a < s->nr_phases; a = b + 1) {
		size_t first;

		wl_phase_group(s, a, &first, &b);
		ret = run_group(st, tr, a, b, o);
	}
	for (unsigned int t = 0; t < s->threads; t++)
		free(tr[t].buf);
	free(tr);
	return ret;
}

/* ---- the API -------------------------------------------------------------------- */

/* The walker's entries: MimicOS's memory, directly (channel_phys_reader) or through the channel. */
static uint64_t read_entry_remote(void *ctx, uint64_t paddr)
{
	struct driver_state *st = ctx;
	struct mimicos_request rq = { .type = MIMICOS_REQ_PHYS_READ, .addr = paddr };
	struct mimicos_response rs;

	/* a transport failure surfaces at the next request; read as not present */
	if (channel_request(&st->ch, 0, &rq, &rs, NULL) || rs.result)
		return 0;
	return rs.addr;
}

static int boot_timing(struct driver_state *st, const struct timing_config *cfg)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_QUERY };
	struct mimicos_response rs;
	struct channel_phys_reader local;
	bool direct = !channel_phys_reader(&st->ch, &local);
	int ret;

	st->run->timed = true;
	st->run->freq_mhz = cfg->core.freq_mhz;
	if (request(st, &rq, &rs))
		return -1;
	st->tms = calloc(st->run->cores, sizeof(*st->tms));
	if (!st->tms)
		return wl_error_set(st->err, st->run->spec->file, "", "out of memory");
	kstream_init(&st->ks);
	for (unsigned int c = 0; c < st->run->cores; c++) {
		/* core 0 draws from the run's seed, as the one core always did */
		uint64_t seed = c ? wl_rng_derive(st->run->spec->seed, TIMING_CORE_STREAM + c) :
				    st->run->spec->seed;

		ret = direct ? timing_init(&st->tms[c], cfg, rs.u.query.levels, rs.u.query.cr3,
					   local.read64, local.ctx, seed)
			 : timing_init(&st->tms[c], cfg, rs.u.query.levels, rs.u.query.cr3,
				       read_entry_remote, st, seed);
		if (ret) {
			while (c--)
				timing_release(&st->tms[c]);
			free(st->tms);
			st->tms = NULL;
			return wl_error_set(st->err, st->run->spec->file, "", "the timing model: %s",
					    strerror(-ret));
		}
		if (c)
			memsys_share(&st->tms[c].ms, &st->tms[0].ms);
		/* MimicOS's tables are in this process: the driver may look ahead */
		if (direct)
			timing_set_prefetch_entry(&st->tms[c], local.prefetch);
	}
	st->tm = &st->tms[0];
	st->lookahead = direct;
	set_wake(st, rs.next_wake_ns);
	return 0;
}

/* Start MimicOS as the configuration says, with the spec's kernel settings. */
static int boot(struct driver_state *st, const struct driver_opts *o,
		const struct thp_settings *thp)
{
	struct driver_run *run = st->run;
	int ret;

	if (o->mimicos)
		run->mimicos = *o->mimicos;
	else
		channel_config_init(&run->mimicos);
	run->mimicos.mem_bytes = run->mem_bytes;
	run->mimicos.nr_mms = 1;
	run->mimicos.cores = run->cores;
	/* mm 0 is placed from the spec's seed, as the functional run always was */
	run->mimicos.seed = run->spec->seed;
	run->mimicos.thp = *thp;
	if (o->events_path) {
		if (strlen(o->events_path) >= sizeof(run->mimicos.events_path))
			return wl_error_set(st->err, o->events_path, "", "path too long");
		snprintf(run->mimicos.events_path, sizeof(run->mimicos.events_path), "%s",
			 o->events_path);
	}
	ret = channel_open(&st->ch, &run->mimicos);
	if (ret)
		return wl_error_set(st->err, run->spec->file, "", "MimicOS (%s) with a %" PRIu64
				    "-byte zone: %s", channel_mode_name(run->mimicos.mode),
				    run->mem_bytes, strerror(-ret));
	return o->timing ? boot_timing(st, o->timing) : 0;
}

/* What MimicOS counted, at the end. */
static int collect_stats(struct driver_state *st)
{
	struct driver_run *run = st->run;
	struct mimicos_request rq = { .type = MIMICOS_REQ_STATS };
	struct mimicos_response rs;

	if (request(st, &rq, &rs))
		return -1;
	run->ev = rs.u.stats.ev;
	run->khugepaged = rs.u.stats.khugepaged;
	memcpy(run->scan_status, rs.u.stats.khugepaged.scan_results, sizeof(run->scan_status));
	memcpy(run->collapse_status, rs.u.stats.khugepaged.collapse_results,
	       sizeof(run->collapse_status));
	run->reservation = rs.u.stats.reservation;
	return 0;
}

/* The run's description into the log's metadata (evlog_update_meta()'s edit). */
static int add_run_meta(cJSON *meta, void *ctx)
{
	const struct driver_run *run = ctx;
	const struct wl_spec *s = run->spec;
	cJSON *a, *o;

	if (!cJSON_AddStringToObject(meta, "workload", s->name) ||
	    !(a = cJSON_AddArrayToObject(meta, "regions")))
		return -1;
	for (size_t i = 0; i < s->nr_regions; i++) {
		if (!(o = cJSON_CreateObject()))
			return -1;
		cJSON_AddStringToObject(o, "name", s->regions[i].name);
		cJSON_AddNumberToObject(o, "start", (double)run->regions[i].start);
		cJSON_AddNumberToObject(o, "size", (double)s->regions[i].size);
		cJSON_AddItemToArray(a, o);
	}
	if (!(a = cJSON_AddArrayToObject(meta, "phases")))
		return -1;
	for (size_t i = 0; i < s->nr_phases; i++) {
		o = side_phase_json(a, s, i, run->phases[i].runtime_ns, run->phases[i].faults);
		if (!o)
			return -1;
		cJSON_AddNumberToObject(o, "start_ns", (double)run->phases[i].start_ns);
	}
	return 0;
}

/* The log's metadata, now that the run is known (as `virtuoso linux` writes it). */
static int write_log_meta(const struct driver_run *run, const char *path,
			  struct wl_error *err)
{
	struct wl_error rerr = { 0 };

	if (evlog_update_meta(path, add_run_meta, (void *)run, &rerr))
		return wl_error_set(err, path, "", "MimicOS's event log: %s", rerr.msg);
	return 0;
}

/*
 * Timed, in-process: before each op, hints for the accesses LOOKAHEAD_FAR
 * and LOOKAHEAD_NEAR ops ahead (timing_prefetch()), so that the host memory
 * their walks and cache lookups will touch (MimicOS's leaf entries, the L2
 * and LLC sets) is on its way while this op is simulated. Results are the
 * same without it; only the host's waiting changes.
 */
#define LOOKAHEAD_FAR	4
#define LOOKAHEAD_NEAR	2

static inline void look_ahead(struct driver_state *st, const struct wl_op *op, bool to_data)
{
	/* a stream within one page needs one hint per page, not one per access (regions are page-aligned) */
	if (op->type != WL_OP_ACCESS ||
	    (op->off >> 12 == st->la_page[to_data] && op->region == st->la_region[to_data]))
		return;
	st->la_page[to_data] = op->off >> 12;
	st->la_region[to_data] = op->region;
	timing_prefetch(st->tm, st->run->regions[op->region].start + op->off, to_data);
}

/*
 * A run's start: the run's arrays, the kernel settings, the state and a
 * booted MimicOS. NULL (err set) on failure; the run is released by the
 * caller either way.
 */
static struct driver_state *run_start(struct driver_run *run, const struct wl_spec *s,
				      const struct driver_opts *o, struct wl_error *err)
{
	struct driver_state *st;
	struct thp_settings thp;

	memset(run, 0, sizeof(*run));
	run->spec = s;
	run->cores = o->cores ? o->cores : o->mimicos && o->mimicos->cores > 1 ? o->mimicos->cores :
		     s->threads;
	if (run->cores > CHANNEL_MAX_CORES) {
		wl_error_set(err, s->file, "threads", "%u cores: at most %d", run->cores,
			     CHANNEL_MAX_CORES);
		return NULL;
	}
	run->mem_bytes = o->mem_bytes ? o->mem_bytes : driver_host_mem_bytes();
	if (resolve_kernel(run, o, err))
		return NULL;
	if (thp_settings_from_spec(&thp, &run->kernel,
				   o->mimicos ? &o->mimicos->thp.modules : NULL)) {
		wl_error_set(err, s->file, "kernel",
			     "settings MimicOS cannot take (thp_settings_from_spec)");
		return NULL;
	}
	run->regions = calloc(s->nr_regions ? s->nr_regions : 1, sizeof(*run->regions));
	run->phases = calloc(s->nr_phases ? s->nr_phases : 1, sizeof(*run->phases));
	run->threads = calloc(s->threads ? s->threads : 1, sizeof(*run->threads));
	if (!run->regions || !run->phases || !run->threads) {
		wl_error_set(err, s->file, "", "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < s->nr_phases; i++) {
		run->phases[i].pages = calloc(s->nr_regions ? s->nr_regions : 1,
					      sizeof(*run->phases[i].pages));
		if (!run->phases[i].pages) {
			wl_error_set(err, s->file, "", "out of memory");
			return NULL;
		}
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		wl_error_set(err, s->file, "", "out of memory");
		return NULL;
	}
	st->run = run;
	st->err = err;
	st->phase = -1;
	st->tcs = calloc(run->cores, sizeof(*st->tcs));
	if (!st->tcs) {
		free(st);
		wl_error_set(err, s->file, "", "out of memory");
		return NULL;
	}
	st->tc = &st->tcs[0];
	st->log = o->events_path != NULL;
	if (boot(st, o, &thp)) {
		free(st->tcs);
		free(st);
		return NULL;
	}
	run->complete = true;
	return st;
}

/*
 * A run's end after its stream ('ret' its outcome so far): the regions'
 * classes and backing, MimicOS's counters, the timing's totals, the event
 * log written out with the run's metadata (or removed when the run
 * failed), the state freed. 0 or -1.
 */
static int run_finish(struct driver_state *st, const struct driver_opts *o, int ret)
{
	struct driver_run *run = st->run;
	const struct wl_spec *s = run->spec;
	struct wl_error *err = st->err;

	if (!ret) {
		uint64_t (*pages)[PAGE_CLASS_NR] = calloc(s->nr_regions ? s->nr_regions : 1,
						       sizeof(*pages));

		if (!pages) {
			ret = wl_error_set(err, s->file, "", "out of memory");
		} else {
			ret = classify(st, pages);
			for (size_t i = 0; !ret && i < s->nr_regions; i++)
				memcpy(run->regions[i].pages, pages[i], sizeof(pages[i]));
			free(pages);
		}
	}
	if (!ret)
		ret = backing_maps(st);
	if (!ret)
		ret = collect_stats(st);
	if (st->tm) {
		st->now_ns = meet_cores(st);
		snapshot_all(st, &run->timing);
		for (unsigned int c = run->cores; c-- > 0;)
			timing_release(&st->tms[c]);
		free(st->tms);
		kstream_release(&st->ks);
	}
	run->runtime_ns = st->now_ns;
	if (o->events_path && !ret) {
		/* the log out, answered: a full disk is named here, whichever process wrote it */
		struct mimicos_request rq = { .type = MIMICOS_REQ_LOG_COMMIT };
		struct mimicos_response rs;
		int cret = channel_request(&st->ch, 0, &rq, &rs, NULL);

		if (cret)
			ret = transport_failed(st, cret);
		else if (rs.result)
			ret = wl_error_set(err, o->events_path, "", "MimicOS's event log: %s",
					   rs.u.log.error[0] ? rs.u.log.error : strerror(-rs.result));
	}
	/* results and log taken: nothing reads the machine's exit */
	channel_discard(&st->ch);
	for (unsigned int c = 0; c < run->cores; c++)
		free(st->tcs[c].keys);
	free(st->tcs);
	if (o->events_path && !ret)
		ret = write_log_meta(run, o->events_path, err);
	if (o->events_path && ret)
		unlink(o->events_path);
	free(st);
	return ret ? -1 : 0;
}

int driver_run(struct driver_run *run, const struct wl_spec *s,
	       const struct driver_opts *o, struct wl_error *err)
{
	struct driver_opts defaults;
	struct driver_state *st;
	struct wl_op buf[DRIVER_BATCH];
	struct wl_gen g;
	size_t n;
	int ret = 0;

	if (!o) {
		driver_opts_init(&defaults);
		o = &defaults;
	}
	if (!(st = run_start(run, s, o, err)))
		return -1;
	if (s->threads > 1)
		ret = run_threads(st, o);
	else
		wl_gen_init(&g, s);
	while (!ret && s->threads <= 1 && (n = wl_gen_next(&g, buf, DRIVER_BATCH)) > 0) {
		for (size_t i = 0; i < n && !ret; i++) {
			if (st->lookahead) {
				if (i + LOOKAHEAD_FAR < n)
					look_ahead(st, &buf[i + LOOKAHEAD_FAR], false);
				if (i + LOOKAHEAD_NEAR < n)
					look_ahead(st, &buf[i + LOOKAHEAD_NEAR], true);
			}
			/* the timed access, the bulk of the stream, without run_op()'s dispatch */
			if (buf[i].type == WL_OP_ACCESS && st->tm)
				ret = access_timed(st, &buf[i]);
			else
				ret = run_op(st, &buf[i], o);
		}
	}
	return run_finish(st, o, ret);
}

/* ---- replay of a recorded command ------------------------------------------- */

#define RP_PAGE		4096ULL
#define RP_ALIGN(x)	(((x) + RP_PAGE - 1) & ~(RP_PAGE - 1))
#define RP_MAP_SHARED	0x01
#define RP_MAP_ANON	0x20

/*
 * The latest of the first 'made' regions holding addr (a command's new
 * mapping may reuse an old one's range; the recording attributed each
 * fault among the regions made so far), or -1.
 */
static long replay_region(const struct driver_run *run, size_t made, uint64_t addr)
{
	for (size_t i = made < run->spec->nr_regions ? made : run->spec->nr_regions; i-- > 0;)
		if (addr >= run->regions[i].start && addr - run->regions[i].start < run->regions[i].size)
			return (long)i;
	return -1;
}

/* One system call of the recording's, replayed; MimicOS refusing it is counted. */
static int replay_call(struct driver_state *st, struct mimicos_request *rq)
{
	struct mimicos_response rs;

	st->run->replay.syscalls++;
	if (request(st, rq, &rs))
		return -1;
	if (rs.result)
		st->run->replay.syscalls_refused++;
	return 0;
}

static int replay_map(struct driver_state *st, uint64_t addr, uint64_t len, uint32_t prot)
{
	struct mimicos_request rq = { .type = MIMICOS_REQ_MMAP, .addr = addr, .len = RP_ALIGN(len),
				      .prot = prot,
				      .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE };

	return rq.len ? replay_call(st, &rq) : 0;
}

static int replay_range(struct driver_state *st, uint32_t type, uint64_t addr, uint64_t len,
			uint32_t prot, int32_t advice)
{
	struct mimicos_request rq = { .type = type, .addr = addr, .len = len, .prot = prot,
				      .advice = advice };

	return len ? replay_call(st, &rq) : 0;
}

/*
 * A recorded system call (it succeeded on Linux). *made counts the regions
 * made so far, as the recording made them (linux-probes/runner.h,
 * "Commands"): each private anonymous mmap, each mremap, the first brk.
 */
static int replay_syscall(struct driver_state *st, const struct vt_event *e, uint64_t *brk_end,
			  size_t *made)
{
	const __u64 *a = e->sys.args;
	uint64_t ret = (uint64_t)e->sys.ret;

	switch (e->sys.nr) {
	case 9:		/* mmap */
		if ((a[3] & (RP_MAP_SHARED | RP_MAP_ANON)) != RP_MAP_ANON)
			break;		/* file and shared mappings are not MimicOS's */
		if (a[1])
			++*made;
		return replay_map(st, ret, a[1], (uint32_t)a[2]);
	case 11:	/* munmap */
		return replay_range(st, MIMICOS_REQ_MUNMAP, a[0], RP_ALIGN(a[1]), 0, 0);
	case 10:	/* mprotect */
		return replay_range(st, MIMICOS_REQ_MPROTECT, a[0], RP_ALIGN(a[1]), (uint32_t)a[2], 0);
	case 28:	/* madvise */
		if (a[2] != MADV_DONTNEED && a[2] != MADV_HUGEPAGE && a[2] != MADV_NOHUGEPAGE &&
		    a[2] != MADV_COLLAPSE)
			break;
		return replay_range(st, MIMICOS_REQ_MADVISE, a[0], RP_ALIGN(a[1]), 0, (int32_t)a[2]);
	case 25:	/* mremap: the old range goes, the new one comes (its pages are not moved) */
		if (a[2])
			++*made;
		if (replay_range(st, MIMICOS_REQ_MUNMAP, a[0], RP_ALIGN(a[1]), 0, 0))
			return -1;
		return replay_map(st, ret, a[2], PROT_READ | PROT_WRITE);
	case 12: {	/* brk: the heap as anonymous mappings at its addresses */
		uint64_t end = RP_ALIGN(ret);

		if (!*brk_end) {
			*brk_end = end;		/* the first answer: where the heap starts */
			++*made;
		}
		else if (end > *brk_end && replay_map(st, *brk_end, end - *brk_end,
						      PROT_READ | PROT_WRITE))
			return -1;
		else if (end < *brk_end &&
			 replay_range(st, MIMICOS_REQ_MUNMAP, end, *brk_end - end, 0, 0))
			return -1;
		*brk_end = end;
		return 0;
	}
	default:
		break;
	}
	st->run->replay.syscalls_skipped++;
	return 0;
}

/* A recorded user fault that completed: MimicOS handles it, if it is in a region made. */
static int replay_fault(struct driver_state *st, const struct vt_event *e, size_t made)
{
	struct driver_run *run = st->run;
	long r = replay_region(run, made, e->fault.addr);
	bool write = e->fault.error_code & X86_PF_WRITE;
	struct mimicos_request rq = { .type = MIMICOS_REQ_FAULT, .addr = e->fault.addr };
	struct mimicos_response rs;
	struct driver_region *reg;

	if (r < 0) {
		run->replay.faults_outside++;
		return 0;
	}
	reg = &run->regions[r];
	rq.access = write ? MIMICOS_ACCESS_WRITE : e->fault.error_code & X86_PF_INSTR ?
		    MIMICOS_ACCESS_EXEC : MIMICOS_ACCESS_READ;
	if (!(e->fault.error_code & X86_PF_USER))
		rq.flags = MIMICOS_FAULT_KERNEL;
	if (request(st, &rq, &rs))
		return -1;
	run->replay.faults++;
	if ((uint32_t)rs.result & VM_FAULT_ERROR) {
		run->replay.faults_refused++;
		return 0;
	}
	/* the kernel's, on the command's behalf: its pages count, not as a user fault */
	if (rq.flags & MIMICOS_FAULT_KERNEL) {
		run->replay.kernel_faults++;
		return 0;
	}
	reg->faults++;
	if (write)
		reg->write_faults++;
	st->ph->faults++;
	if (rs.order >= 0 && rs.order < NR_PAGE_ORDERS)
		reg->alloc_orders[rs.order]++;
	if (rs.page_size == PMD_SIZE && rs.order >= 0) {
		reg->thp_faults++;
		st->ph->thp_faults++;
	}
	return 0;
}

int driver_replay(struct driver_run *run, const struct wl_spec *s, const char *log,
		  const struct driver_opts *o, struct wl_error *err)
{
	struct driver_state *st;
	struct evlog_reader r;
	struct vt_event e;
	uint64_t t0 = 0, brk_end = 0;
	size_t made = 0;
	bool first = true;
	int ret = 0, got;

	if (o->timing || s->nr_phases != 1 || s->threads != 1)
		return wl_error_set(err, log, "", "a replay is untimed, of one phase and one thread");
	if (evlog_open(&r, log, err))
		return -1;
	if (!(st = run_start(run, s, o, err))) {
		evlog_close(&r);
		return -1;
	}
	run->replayed = true;
	for (size_t i = 0; i < s->nr_regions; i++) {
		run->regions[i].start = o->region_start ? o->region_start[i] : 0;
		run->regions[i].size = s->regions[i].size;
	}
	st->phase = 0;
	st->ph = &run->phases[0];
	ret = tag_phase(st, 0);
	while (!ret && (got = evlog_next(&r, &e)) > 0) {
		if (e.phase != 0 || (e.type != VT_SYSCALL && e.type != VT_FAULT))
			continue;
		if (first) {
			t0 = e.ts;
			first = false;
		}
		/* khugepaged's passes due by the recording's clock */
		if (e.ts - t0 > st->now_ns) {
			st->now_ns = e.ts - t0;
			ret = advance(st, false);
			if (ret)
				break;
		}
		if (e.type == VT_SYSCALL && (e.sys.ret >= 0 || e.sys.ret < -4095))
			ret = replay_syscall(st, &e, &brk_end, &made);
		else if (e.type == VT_FAULT && e.fault.completed)
			ret = replay_fault(st, &e, made);
	}
	evlog_close(&r);
	run->phases[0].runtime_ns = st->now_ns;
	return run_finish(st, o, ret);
}

void driver_release(struct driver_run *run)
{
	if (run->phases && run->spec)
		for (size_t i = 0; i < run->spec->nr_phases; i++) {
			free(run->phases[i].pages);
			side_latencies_release(&run->phases[i].latency);
		}
	for (size_t i = 0; i < run->nr_reasons; i++)
		free(run->reasons[i]);
	free(run->reasons);
	for (size_t i = 0; run->regions && run->spec && i < run->spec->nr_regions; i++) {
		side_backing_release(&run->regions[i].backing);
		side_latencies_release(&run->regions[i].latency);
	}
	free(run->regions);
	free(run->phases);
	free(run->threads);
	memset(run, 0, sizeof(*run));
}

/* ---- JSON: the one place a functional run is printed ----------------------------- */

static cJSON *scan_status_json(const uint64_t *counts)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; o && i < NR_SCAN_RESULTS; i++)
		if (counts[i])
			cJSON_AddNumberToObject(o, scan_result_name((enum scan_result)i),
						(double)counts[i]);
	return o;
}

/* The kernel block as the Linux side prints it: the spec's spelling, resolved. */
cJSON *driver_to_json(const struct driver_run *run)
{
	const struct wl_spec *s = run->spec;
	cJSON *root = cJSON_CreateObject(), *regions, *phases, *a, *cfg, *ev, *kh;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "workload", s->name);
	cJSON_AddStringToObject(root, "side", "sim");
	cJSON_AddBoolToObject(root, "complete", run->complete);
	cJSON_AddNumberToObject(root, "dropped_events", 0);
	cJSON_AddStringToObject(root, "timing", run->timed ? "interval" : "none");
	cJSON_AddStringToObject(root, "mimicos_linux_version", MIMICOS_LINUX_VERSION);
	if (run->nr_reasons) {
		a = cJSON_AddArrayToObject(root, "incomplete_reasons");
		for (size_t i = 0; i < run->nr_reasons; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(run->reasons[i]));
	}
	cJSON_AddItemToObject(root, "kernel", side_kernel_json(s, &run->kernel));

	regions = cJSON_AddObjectToObject(root, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		const struct driver_region *r = &run->regions[i];
		const uint64_t *pg = r->pages;
		cJSON *j = cJSON_AddObjectToObject(regions, s->regions[i].name);

		side_region_fields(j, r->start, s->regions[i].size, r->faults, r->thp_faults, pg);
		cJSON_AddItemToObject(j, "backing", side_backing_json(&r->backing));
		cJSON_AddNumberToObject(j, "write_faults", (double)r->write_faults);
		cJSON_AddNumberToObject(j, "failed_faults", 0);
		cJSON_AddNumberToObject(j, "populate_faults", (double)r->populate_faults);
		cJSON_AddItemToObject(j, "fault_alloc_orders", side_orders_json(r->alloc_orders, NR_PAGE_ORDERS));
		if (run->timed)		/* as linux.json's, from the simulated times */
			cJSON_AddItemToObject(j, "fault_latency_ns", side_latencies_json(&r->latency));
	}

	phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < s->nr_phases; i++) {
		const struct driver_phase *p = &run->phases[i];
		cJSON *j = side_phase_json(phases, s, i, p->runtime_ns, p->faults), *pg;

		cJSON_AddNumberToObject(j, "thp_faults", (double)p->thp_faults);
		cJSON_AddNumberToObject(j, "accesses", (double)p->accesses);
		cJSON_AddNumberToObject(j, "start_ns", (double)p->start_ns);
		if (run->timed) {
			cJSON_AddItemToObject(j, "stats", timing_stats_to_json(&p->timing,
									       run->freq_mhz));
			cJSON_AddItemToObject(j, "tlb_events", mmu_tlb_events_to_json(&p->timing.mmu));
		}
		if (s->phases[i].op == WL_PH_KHUGEPAGED_WAIT)
			cJSON_AddBoolToObject(j, "timed_out", p->timed_out);
		if (p->collapse_errno)
			cJSON_AddStringToObject(j, "collapse_error", strerrorname_np(p->collapse_errno));
		pg = cJSON_AddObjectToObject(j, "pages");
		for (size_t r = 0; p->pages && r < s->nr_regions; r++)
			cJSON_AddItemToObject(pg, s->regions[r].name, side_pages_json(p->pages[r]));
	}
	cJSON_AddNumberToObject(root, "runtime_ns", (double)run->runtime_ns);
	if (run->replayed)
		cJSON_AddItemToObject(root, "replay", replay_stats_to_json(&run->replay));
	if (s->threads > 1) {
		cJSON *o = cJSON_AddObjectToObject(root, "tlb_ipis");
		double mhz = run->freq_mhz ? run->freq_mhz : 1;

		/* as linux.json's; their times the timing model's (0 untimed) */
		cJSON_AddNumberToObject(o, "sent", (double)run->ipis);
		cJSON_AddNumberToObject(o, "received", (double)run->ipis);
		cJSON_AddNumberToObject(o, "received_ns", run->timed ?
					round(run->timing.ipi_handle_cycles * 1000.0 / mhz) : 0);
		cJSON_AddNumberToObject(o, "waits", (double)run->ipi_waits);
		cJSON_AddNumberToObject(o, "wait_ns", run->timed ?
					round(run->timing.ipi_wait_cycles * 1000.0 / mhz) : 0);
		cJSON_AddNumberToObject(root, "cores", run->cores);
		a = cJSON_AddArrayToObject(root, "threads");
		for (unsigned int t = 0; t < s->threads; t++) {
			const struct driver_thread *th = &run->threads[t];
			cJSON *j = cJSON_CreateObject();

			cJSON_AddNumberToObject(j, "thread", t);
			cJSON_AddNumberToObject(j, "cpu", th->cpu);
			cJSON_AddNumberToObject(j, "faults", (double)th->faults);
			cJSON_AddNumberToObject(j, "thp_faults", (double)th->thp_faults);
			cJSON_AddNumberToObject(j, "accesses", (double)th->accesses);
			cJSON_AddItemToArray(a, j);
		}
	}
	if (run->timed) {
		cJSON_AddItemToObject(root, "stats", timing_stats_to_json(&run->timing, run->freq_mhz));
		cJSON_AddItemToObject(root, "tlb_events", mmu_tlb_events_to_json(&run->timing.mmu));
	}

	/* As the Linux side's "khugepaged" block: outcomes by tracepoint status name. */
	kh = cJSON_AddObjectToObject(root, "khugepaged");
	cJSON_AddItemToObject(kh, "scan_pmd", scan_status_json(run->scan_status));
	cJSON_AddItemToObject(kh, "collapse", scan_status_json(run->collapse_status));
	cJSON_AddNumberToObject(kh, "collapse_allocs", (double)run->khugepaged.collapse_allocs);
	cJSON_AddNumberToObject(kh, "madv_collapse_allocs",
				(double)run->khugepaged.madv_collapse_allocs);
	cJSON_AddNumberToObject(kh, "full_scans", (double)run->khugepaged.full_scans);
	cJSON_AddNumberToObject(kh, "pages_collapsed", (double)run->khugepaged.pages_collapsed);
	cJSON_AddNumberToObject(kh, "passes", (double)run->khugepaged.passes);

	/* The effective configuration (STYLE 6): what this run used. */
	cfg = cJSON_AddObjectToObject(root, "config");
	cJSON_AddItemToObject(cfg, "mimicos", channel_config_to_json(&run->mimicos));
	if (!strcmp(run->mimicos.policy, "reservation"))
		cJSON_AddItemToObject(root, "reservation", reservation_stats_to_json(&run->reservation));

	/* MimicOS's counters, with Linux's names: {"vmstat": {...}, "mthp": {...}}. */
	ev = vm_events_to_json(&run->ev);
	if (ev)
		cJSON_AddItemToObject(root, "mimicos", ev);
	return root;
}
