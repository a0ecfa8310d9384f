/*
 * native.c - perform a spec's stream on this host (see native.h).
 *
 * The executor is a loop over batches from the generator. Everything but
 * ACCESS is a syscall or a wait and costs microseconds at least; ACCESS runs
 * millions of times per phase, so runs of ACCESS ops go through one tight
 * loop (run_accesses) that does nothing per access but the load or store and
 * the chase check: no syscall, no allocation, no call.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "workload/gen.h"
#include "workload/native.h"

/* glibc 2.36 (Debian 12) lacks it; the kernel has had it since 6.1. */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define NATIVE_BATCH 1024		/* ops per wl_gen_next(): 24 KiB of stack */
#define KHUGEPAGED_POLL_NS 10000000ULL	/* 10 ms between reads of full_scans */
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* Where we are in the stream, for error paths and per-phase records. */
struct native_shared;

struct native_state {
	struct wl_native_run *run;
	const struct wl_native_hooks *hooks;
	struct wl_error *err;
	long phase;		/* current phase, -1 during setup */
	uint64_t chain;		/* value of the last load: a DEP load's address */
	bool timed_out;		/* some khugepaged_wait gave up */
	/* a spec with threads: this thread's number, and what the threads share */
	unsigned thread;
	struct native_shared *sh;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* nanosleep the whole interval even if signals interrupt it. */
static void sleep_ns(uint64_t ns)
{
	struct timespec req = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};
	struct timespec rem;

	while (nanosleep(&req, &rem) == -1 && errno == EINTR)
		req = rem;
}

/* "phases[N]" inside a phase, "regions[N]" for the setup ops. */
static int native_fail(struct native_state *st, uint32_t region, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int native_fail(struct native_state *st, uint32_t region, const char *fmt, ...)
{
	char path[48], msg[sizeof(st->err->msg)];
	va_list ap;

	if (st->phase >= 0)
		snprintf(path, sizeof(path), "phases[%ld]", st->phase);
	else
		snprintf(path, sizeof(path), "regions[%" PRIu32 "]", region);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return wl_error_set(st->err, st->run->spec->file, path, "%s", msg);
}

/* ---- setup and range ops ------------------------------------------------ */

static int do_map(struct native_state *st, const struct wl_op *op)
{
	struct wl_native_run *run = st->run;
	const struct wl_native_hooks *h = st->hooks;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *p;

	if (op->flags & WL_MAP_POPULATE)
		flags |= MAP_POPULATE;
	p = mmap(NULL, op->arg, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return native_fail(st, op->region, "mmap failed: %s", strerror(errno));
	run->start[op->region] = (uint64_t)(uintptr_t)p;
	if (h && h->region_mapped)
		h->region_mapped(h->ctx, op->region, run->start[op->region], op->arg);
	return 0;
}

static int do_madvise(struct native_state *st, const struct wl_op *op)
{
	static const struct { int advice; const char *name; } map[] = {
		[WL_ADV_DONTNEED]	= { MADV_DONTNEED, "MADV_DONTNEED" },
		[WL_ADV_HUGEPAGE]	= { MADV_HUGEPAGE, "MADV_HUGEPAGE" },
		[WL_ADV_NOHUGEPAGE]	= { MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE" },
		[WL_ADV_COLLAPSE]	= { MADV_COLLAPSE, "MADV_COLLAPSE" },
	};
	void *addr = (void *)(uintptr_t)(st->run->start[op->region] + op->off);

	if (op->flags >= sizeof(map) / sizeof(map[0]))
		return native_fail(st, op->region, "madvise: unknown advice %u", op->flags);
	if (madvise(addr, op->arg, map[op->flags].advice)) {
		if (op->flags == WL_ADV_COLLAPSE && st->phase >= 0) {
			st->run->phases[st->phase].collapse_errno = errno;
			return 0;
		}
		return native_fail(st, op->region, "madvise(%s) failed: %s",
				   map[op->flags].name, strerror(errno));
	}
	return 0;
}

static int do_mprotect(struct native_state *st, const struct wl_op *op)
{
	static const struct { int prot; const char *name; } map[] = {
		[WL_PROT_NONE]	= { PROT_NONE, "PROT_NONE" },
		[WL_PROT_R]	= { PROT_READ, "PROT_READ" },
		[WL_PROT_RW]	= { PROT_READ | PROT_WRITE, "PROT_READ|PROT_WRITE" },
	};
	void *addr = (void *)(uintptr_t)(st->run->start[op->region] + op->off);

	if (op->flags >= sizeof(map) / sizeof(map[0]))
		return native_fail(st, op->region, "mprotect: unknown prot %u", op->flags);
	if (mprotect(addr, op->arg, map[op->flags].prot))
		return native_fail(st, op->region, "mprotect(%s) failed: %s",
				   map[op->flags].name, strerror(errno));
	return 0;
}

static int do_munmap(struct native_state *st, const struct wl_op *op)
{
	void *addr = (void *)(uintptr_t)(st->run->start[op->region] + op->off);

	if (munmap(addr, op->arg))
		return native_fail(st, op->region, "munmap failed: %s", strerror(errno));
	return 0;
}

/* ---- waits ------------------------------------------------------------------ */

/*
 * khugepaged/full_scans is a decimal counter; sysfs hands out the whole value
 * in one read, so one read() of a small buffer is enough.
 */
static int read_full_scans(struct native_state *st, const char *path, uint64_t *out)
{
	char buf[32], *end;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return native_fail(st, 0, "open %s failed: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		return native_fail(st, 0, "read %s failed: %s", path, strerror(e));
	}
	fclose(f);
	buf[n] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 10);
	if (end == buf || errno || (*end && *end != '\n'))
		return native_fail(st, 0, "%s: expected an integer, got \"%.*s\"",
				   path, (int)strcspn(buf, "\n"), buf);
	return 0;
}

/*
 * Wait until khugepaged has completed 'scans' more full scans than it had
 * when we started (as the kernel's own selftest does), polling every 10 ms,
 * or until timeout_ms has passed: then the phase and the run are marked.
 */
static int do_khugepaged_wait(struct native_state *st, const struct wl_op *op)
{
	struct wl_native_run *run = st->run;
	uint64_t scans = op->arg, timeout_ns = op->off * NSEC_PER_MSEC;
	uint64_t first, cur, t0 = now_ns();
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/khugepaged/full_scans",
		 run->thp_root ? run->thp_root : WL_THP_SYSFS);
	if (read_full_scans(st, path, &first))
		return -1;
	for (;;) {
		uint64_t elapsed;

		if (read_full_scans(st, path, &cur))
			return -1;
		if (cur - first >= scans)
			return 0;
		elapsed = now_ns() - t0;
		if (elapsed >= timeout_ns)
			break;
		sleep_ns(timeout_ns - elapsed < KHUGEPAGED_POLL_NS ?
			 timeout_ns - elapsed : KHUGEPAGED_POLL_NS);
	}
	if (st->phase >= 0)
		run->phases[st->phase].timed_out = true;
	st->timed_out = true;
	return 0;
}

/* ---- phases ----------------------------------------------------------------- */

static int phase_begin(struct native_state *st, const struct wl_op *op)
{
	const struct wl_native_hooks *h = st->hooks;

	if (op->arg >= st->run->spec->nr_phases)
		return wl_error_set(st->err, st->run->spec->file, "",
				    "generator emitted phase %" PRIu64 " of %zu",
				    op->arg, st->run->spec->nr_phases);
	st->phase = (long)op->arg;
	st->chain = 0;
	/* The hook runs before the clock starts: it is not part of the phase. */
	if (h && h->phase_begin)
		h->phase_begin(h->ctx, (size_t)op->arg);
	st->run->phases[op->arg].start_ns = now_ns();
	return 0;
}

static void phase_end(struct native_state *st, const struct wl_op *op)
{
	const struct wl_native_hooks *h = st->hooks;
	struct wl_native_phase *ph = &st->run->phases[st->phase];

	ph->runtime_ns = now_ns() - ph->start_ns;
	st->run->runtime_ns += ph->runtime_ns;
	if (h && h->phase_end)
		h->phase_end(h->ctx, (size_t)op->arg, ph);
	st->phase = -1;
}

/*
 * The hot loop: perform ops[0..n) while they are ACCESSes and return how many
 * were done, or -1 (err set) if the chase chain broke.
 *
 * A DEP load takes its address from the value the previous load returned, so
 * consecutive chase loads form a true dependency chain through memory and the
 * CPU cannot overlap them. The check against the stream comes first, so a
 * broken chain is reported rather than followed into the unknown; the empty
 * asm then hides the equality from the compiler, which could otherwise load
 * from the stream's address (known equal) and quietly break the dependency.
 */
static long run_accesses(struct native_state *st, const struct wl_op *restrict ops,
			 size_t n)
{
	const uint64_t *restrict start = st->run->start;
	uint64_t chain = st->chain, sink = 0;
	size_t i;

	for (i = 0; i < n && ops[i].type == WL_OP_ACCESS; i++) {
		const struct wl_op *op = &ops[i];
		uint64_t base = start[op->region];
		uint64_t addr = base + op->off;

		if (op->flags & WL_ACC_WRITE) {
			uint64_t v = (op->flags & WL_ACC_LINK) ? base + op->arg : addr;

			*(volatile uint64_t *)(uintptr_t)addr = v;
			continue;
		}
		if (op->flags & WL_ACC_DEP) {
			if (__builtin_expect(chain != addr, 0)) {
				__atomic_fetch_xor(&st->run->sink, sink, __ATOMIC_RELAXED);
				return native_fail(st, op->region,
						   "chase chain broken: load at offset 0x%" PRIx64
						   " of regions[%" PRIu32 "] but the previous load"
						   " returned 0x%" PRIx64 " (region at 0x%" PRIx64 ")",
						   op->off, op->region, chain, base);
			}
			addr = chain;
			__asm__ volatile("" : "+r"(addr));
		}
		chain = *(volatile const uint64_t *)(uintptr_t)addr;
		sink ^= chain;
	}
	st->chain = chain;
	__atomic_fetch_xor(&st->run->sink, sink, __ATOMIC_RELAXED);
	if (st->phase >= 0)
		__atomic_fetch_add(&st->run->phases[st->phase].accesses, i, __ATOMIC_RELAXED);
	return (long)i;
}

static int run_op(struct native_state *st, const struct wl_op *op)
{
	switch (op->type) {
	case WL_OP_MAP:
		return do_map(st, op);
	case WL_OP_MADVISE:
		return do_madvise(st, op);
	case WL_OP_MPROTECT:
		return do_mprotect(st, op);
	case WL_OP_MUNMAP:
		return do_munmap(st, op);
	case WL_OP_KHUGEPAGED_WAIT:
		return do_khugepaged_wait(st, op);
	case WL_OP_SLEEP:
		sleep_ns(op->arg * NSEC_PER_MSEC);
		return 0;
	case WL_OP_PHASE_BEGIN:
		return phase_begin(st, op);
	case WL_OP_PHASE_END:
		if (st->phase < 0 || (uint64_t)st->phase != op->arg)
			return wl_error_set(st->err, st->run->spec->file, "",
					    "generator ended phase %" PRIu64
					    " outside it", op->arg);
		phase_end(st, op);
		return 0;
	default:
		return wl_error_set(st->err, st->run->spec->file, "",
				    "generator emitted unknown op type %u", op->type);
	}
}

/* ---- threads ----------------------------------------------------------------- */

/*
 * A spec with threads (docs/workload-format.md, "Threads"): each thread runs
 * its own stream (wl_gen_init_thread), pinned to a CPU of the process's set,
 * thread t to the (t mod n)th. Phases run in groups, a phase and the
 * concurrent ones after it; every thread meets the others at a group's
 * start and end. There, with the others held, thread 0 calls the hooks (the
 * loader's handshake) and takes the clock: a group's phases start when all
 * threads are let go, and each ends when the last of its threads ends it.
 * A thread that fails keeps meeting the others at every group's start and
 * end, doing nothing else, so that nobody waits forever; the first error
 * is the run's.
 */
struct native_shared {
	pthread_barrier_t arrive, go;
	pthread_cond_t gate_cv;		/* the threads wait for every one to exist */
	int gate;			/* 0 wait, 1 go, -1 one could not be started: end */
	pthread_mutex_t lock;		/* err, below */
	struct wl_error err;		/* the first error of any thread */
	bool failed;			/* set under lock, read after a barrier */
	uint64_t *end_ns;		/* per phase: the last of its threads' ends */
	uint64_t group_start;		/* the current group's start */
	int *tids;			/* per thread: its kernel thread id */
	bool told;			/* the hooks have the tids */
};

struct native_thread {
	struct native_state st;
	struct wl_error err;
	pthread_t id;
	int cpu;
	int ret;
};

/* All threads here; thread 0 runs 'at' (the handshake) while the others wait for it. */
static void meet(struct native_state *st, void (*at)(struct native_state *, size_t), size_t i)
{
	pthread_barrier_wait(&st->sh->arrive);
	if (!st->thread)
		at(st, i);
	pthread_barrier_wait(&st->sh->go);
}

/* Thread 0, everyone held: the group of phase i begins. */
static void group_begin(struct native_state *st, size_t i)
{
	const struct wl_native_hooks *h = st->hooks;
	size_t a, b;
	uint64_t t;

	wl_phase_group(st->run->spec, i, &a, &b);
	if (!st->sh->told && h && h->threads_started)
		h->threads_started(h->ctx, st->sh->tids, st->run->spec->threads);
	st->sh->told = true;
	for (size_t j = a; j <= b; j++)
		if (h && h->phase_begin)
			h->phase_begin(h->ctx, j);
	t = now_ns();
	st->sh->group_start = t;
	for (size_t j = a; j <= b; j++) {
		st->run->phases[j].start_ns = t;
		st->sh->end_ns[j] = t;
	}
}

/* Thread 0, everyone held: the group of phase i has ended. */
static void group_end(struct native_state *st, size_t i)
{
	const struct wl_native_hooks *h = st->hooks;
	struct wl_native_run *run = st->run;
	uint64_t last = st->sh->group_start;
	size_t a, b;

	wl_phase_group(run->spec, i, &a, &b);
	for (size_t j = a; j <= b; j++) {
		run->phases[j].runtime_ns = st->sh->end_ns[j] - run->phases[j].start_ns;
		if (st->sh->end_ns[j] > last)
			last = st->sh->end_ns[j];
	}
	/* the run's time is the groups' wall time: concurrent phases count once */
	run->runtime_ns += last - st->sh->group_start;
	for (size_t j = a; j <= b; j++)
		if (h && h->phase_end)
			h->phase_end(h->ctx, j, &run->phases[j]);
}

/* Record a thread's error as the run's if it is the first. */
static void thread_failed(struct native_thread *th)
{
	struct native_shared *sh = th->st.sh;

	pthread_mutex_lock(&sh->lock);
	if (!sh->failed) {
		sh->failed = true;
		sh->err = th->err;
	}
	pthread_mutex_unlock(&sh->lock);
}

/* A phase marker of a threaded stream: the group's meeting, or the phase's own bookkeeping. */
static void thread_marker(struct native_thread *th, const struct wl_op *op)
{
	struct native_state *st = &th->st;
	const struct wl_spec *s = st->run->spec;
	size_t i = (size_t)op->arg, a, b;

	wl_phase_group(s, i, &a, &b);
	if (op->type == WL_OP_PHASE_BEGIN) {
		if (i == a)
			meet(st, group_begin, i);
		st->phase = (long)i;
		st->chain = 0;
		return;
	}
	if (wl_phase_runs(&s->phases[i], th->st.thread)) {
		uint64_t t = now_ns(), cur = __atomic_load_n(&st->sh->end_ns[i], __ATOMIC_RELAXED);

		while (cur < t && !__atomic_compare_exchange_n(&st->sh->end_ns[i], &cur, t, true,
							      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	st->phase = -1;
	if (i == b)
		meet(st, group_end, i);
}

static void *thread_main(void *arg)
{
	struct native_thread *th = arg;
	struct native_state *st = &th->st;
	struct wl_op buf[NATIVE_BATCH];
	struct wl_gen g;
	bool failed = false;
	size_t n;

	st->sh->tids[st->thread] = (int)gettid();	/* seen by thread 0 after the first meeting */
	wl_gen_init_thread(&g, st->run->spec, st->thread);
	while ((n = wl_gen_next(&g, buf, NATIVE_BATCH)) > 0) {
		size_t i = 0;

		while (i < n) {
			const struct wl_op *op = &buf[i];

			if (op->type == WL_OP_PHASE_BEGIN || op->type == WL_OP_PHASE_END) {
				thread_marker(th, op);
				/* after a meeting everyone sees a failure: stop acting */
				failed = __atomic_load_n(&st->sh->failed, __ATOMIC_ACQUIRE);
				i++;
				continue;
			}
			if (failed) {
				i++;
				continue;
			}
			if (op->type == WL_OP_ACCESS) {
				long done = run_accesses(st, op, n - i);

				if (done < 0) {
					thread_failed(th);
					failed = true;
					i++;
					continue;
				}
				i += (size_t)done;
				continue;
			}
			if (run_op(st, op)) {
				thread_failed(th);
				failed = true;
			}
			i++;
		}
	}
	return NULL;
}

/* Pin the calling thread to 'cpu'; the CPU it got, or -1 if it could not be pinned. */
static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

static void *thread_start(void *arg)
{
	struct native_thread *th = arg;
	struct native_shared *sh = th->st.sh;
	int gate;

	th->cpu = pin_to(th->cpu);
	pthread_mutex_lock(&sh->lock);
	while (!(gate = sh->gate))
		pthread_cond_wait(&sh->gate_cv, &sh->lock);
	pthread_mutex_unlock(&sh->lock);
	return gate > 0 ? thread_main(th) : NULL;
}

/* Let the threads started go (1), or end (-1). */
static void open_gate(struct native_shared *sh, int how)
{
	pthread_mutex_lock(&sh->lock);
	sh->gate = how;
	pthread_cond_broadcast(&sh->gate_cv);
	pthread_mutex_unlock(&sh->lock);
}

static int exec_threads(struct native_state *st0)
{
	struct wl_native_run *run = st0->run;
	const struct wl_spec *s = run->spec;
	unsigned nt = s->threads, ncpu = 0;
	struct native_shared sh = { 0 };
	struct native_thread *th = calloc(nt, sizeof(*th));
	int cpus[CPU_SETSIZE], ret = 0;
	cpu_set_t mine;
	unsigned started = 1;

	sh.end_ns = calloc(s->nr_phases ? s->nr_phases : 1, sizeof(*sh.end_ns));
	sh.tids = calloc(nt, sizeof(*sh.tids));
	if (!th || !sh.end_ns || !sh.tids || sched_getaffinity(0, sizeof(mine), &mine)) {
		free(th);
		free(sh.end_ns);
		free(sh.tids);
		return wl_error_set(st0->err, s->file, "threads", "cannot start the threads: %s",
				    errno ? strerror(errno) : "out of memory");
	}
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine))
			cpus[ncpu++] = c;
	pthread_barrier_init(&sh.arrive, NULL, nt);
	pthread_barrier_init(&sh.go, NULL, nt);
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.gate_cv, NULL);
	run->thread_cpu = calloc(nt, sizeof(*run->thread_cpu));
	for (unsigned t = 0; t < nt; t++) {
		th[t].st = *st0;
		th[t].st.err = &th[t].err;
		th[t].st.thread = t;
		th[t].st.sh = &sh;
		th[t].cpu = cpus[t % ncpu];
	}
	for (; started < nt; started++)
		if (pthread_create(&th[started].id, NULL, thread_start, &th[started]))
			break;
	if (started < nt) {
		int e = errno ? errno : EAGAIN;

		open_gate(&sh, -1);	/* the ones started end before any meeting */
		for (unsigned t = 1; t < started; t++)
			pthread_join(th[t].id, NULL);
		ret = wl_error_set(st0->err, s->file, "threads", "cannot start thread %u of %u: %s",
				   started, nt, strerror(e));
		goto out;
	}
	open_gate(&sh, 1);
	th[0].cpu = pin_to(th[0].cpu);
	thread_main(&th[0]);
	for (unsigned t = 1; t < nt; t++)
		pthread_join(th[t].id, NULL);
	sched_setaffinity(0, sizeof(mine), &mine);	/* the caller's thread as it was */
	for (unsigned t = 0; t < nt && run->thread_cpu; t++)
		run->thread_cpu[t] = th[t].cpu;
	for (unsigned t = 0; t < nt; t++)
		st0->timed_out |= th[t].st.timed_out;
	if (sh.failed) {
		*st0->err = sh.err;
		ret = -1;
	}
out:
	pthread_barrier_destroy(&sh.arrive);
	pthread_barrier_destroy(&sh.go);
	pthread_mutex_destroy(&sh.lock);
	pthread_cond_destroy(&sh.gate_cv);
	free(sh.end_ns);
	free(sh.tids);
	free(th);
	return ret;
}

/* ---- the API ------------------------------------------------------------------ */

void wl_native_init(struct wl_native_run *run, const struct wl_spec *s)
{
	memset(run, 0, sizeof(*run));
	run->spec = s;
	run->thp_root = WL_THP_SYSFS;
}

int wl_native_exec(struct wl_native_run *run, const struct wl_native_hooks *hooks,
		   struct wl_error *err)
{
	const struct wl_spec *s = run->spec;
	struct native_state st = {
		.run = run, .hooks = hooks, .err = err, .phase = -1,
	};
	struct wl_op buf[NATIVE_BATCH];
	struct wl_gen g;
	size_t n;

	if (run->start || run->phases)
		return wl_error_set(err, s->file, "",
				    "native run already executed (release it first)");
	/* calloc(0) may return NULL; ask for at least one element. */
	run->start = calloc(s->nr_regions ? s->nr_regions : 1, sizeof(*run->start));
	run->phases = calloc(s->nr_phases ? s->nr_phases : 1, sizeof(*run->phases));
	if (!run->start || !run->phases)
		return wl_error_set(err, s->file, "", "out of memory");
	run->runtime_ns = 0;
	run->complete = false;
	if (s->threads > 1) {
		if (exec_threads(&st))
			return -1;
		run->complete = !st.timed_out;
		return 0;
	}

	wl_gen_init(&g, s);
	while ((n = wl_gen_next(&g, buf, NATIVE_BATCH)) > 0) {
		size_t i = 0;

		while (i < n) {
			if (buf[i].type == WL_OP_ACCESS) {
				long done = run_accesses(&st, buf + i, n - i);

				if (done < 0)
					return -1;
				i += (size_t)done;
				continue;
			}
			if (run_op(&st, &buf[i]))
				return -1;
			i++;
		}
	}
	run->complete = !st.timed_out;
	return 0;
}

void wl_native_release(struct wl_native_run *run)
{
	size_t i;

	/*
	 * munmap of the whole original range: parts the workload already
	 * unmapped are simply skipped by the kernel.
	 */
	if (run->start && run->spec) {
		for (i = 0; i < run->spec->nr_regions; i++)
			if (run->start[i])
				munmap((void *)(uintptr_t)run->start[i],
				       run->spec->regions[i].size);
	}
	free(run->start);
	free(run->phases);
	free(run->thread_cpu);
	run->start = NULL;
	run->phases = NULL;
	run->thread_cpu = NULL;
}
