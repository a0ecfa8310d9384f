/*
 * runner.c - `virtuoso linux` (see runner.h): the child, the handshake, the
 * aggregation of events into linux.json.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "linux-probes/counters.h"
#include "linux-probes/hoststat.h"
#include "linux-probes/prewarm.h"
#include "workload/prng.h"
#include "linux-probes/runner.h"
#include "linux-probes/thp_sysfs.h"
#include "linux-probes/vmtrace.h"
#include "workload/evlog.h"
#include "workload/json.h"
#include "workload/native.h"
#include "workload/side.h"
#include "workload/size.h"
#include "workload/x86.h"

#define MAX_ORDER_NR	11	/* orders 0..10 */
#define MIGRATE_MOVABLE	1
#define STATUS_NR	64
#define TLB_REASON_NR	8
#define TLB_CPUS	1024
#define TLB_REMOTE_SEND_IPI	4	/* enum tlb_flush_reason */
#define POLL_MS		20
#define RUNNER_SAMPLE_STREAM	0x73616d706c65ULL	/* "sample" */

/* ---- the handshake ---------------------------------------------------------- */

enum msg_type { MSG_READY = 1, MSG_REGION, MSG_THREAD, MSG_BEGIN, MSG_END, MSG_DONE, MSG_ERROR };

struct msg {
	uint32_t type;
	uint32_t idx;
	uint64_t v[6];
	char text[400];
};

struct child_ctx {
	int to_parent, from_parent;
};

static int xwrite(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int xread(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static uint64_t minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_minflt;
}

/* In the child: say something and, if asked, wait for the loader's go-ahead. */
static void child_say(struct child_ctx *c, const struct msg *m, bool wait)
{
	char ack;

	if (xwrite(c->to_parent, m, sizeof(*m)) || (wait && xread(c->from_parent, &ack, 1)))
		_exit(111);	/* the loader is gone */
}

static void hook_region(void *ctx, size_t region, uint64_t start, uint64_t size)
{
	struct msg m = { .type = MSG_REGION, .idx = (uint32_t)region, .v = { start, size } };

	child_say(ctx, &m, false);
}

/* A spec with threads: each one's tid, so that the probes give its events its phase. */
static void hook_threads(void *ctx, const int *tids, unsigned n)
{
	for (unsigned t = 0; t < n; t++) {
		struct msg m = { .type = MSG_THREAD, .idx = t, .v = { (uint64_t)tids[t] } };

		child_say(ctx, &m, false);
	}
}

static void hook_begin(void *ctx, size_t phase)
{
	struct msg m = { .type = MSG_BEGIN, .idx = (uint32_t)phase };

	m.v[0] = minflt();
	child_say(ctx, &m, true);
}

static void hook_end(void *ctx, size_t phase, const struct wl_native_phase *ph)
{
	struct msg m = { .type = MSG_END, .idx = (uint32_t)phase };

	m.v[0] = minflt();
	m.v[1] = ph->start_ns;
	m.v[2] = ph->runtime_ns;
	m.v[3] = ph->accesses;
	m.v[4] = ph->timed_out;
	m.v[5] = (uint64_t)(int64_t)ph->collapse_errno;
	child_say(ctx, &m, true);
}

static int drop_privileges(uid_t uid, gid_t gid, pid_t parent)
{
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		return -1;
	/* a credential change clears these: set them after it */
	prctl(PR_SET_DUMPABLE, 1);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		return -1;
	return 0;
}

static void __attribute__((noreturn))
child_main(struct child_ctx *c, const struct wl_spec *s, const char *thp_root,
	   uid_t uid, gid_t gid, pid_t parent)
{
	struct wl_native_hooks hooks = {
		.region_mapped = hook_region,
		.phase_begin = hook_begin,
		.phase_end = hook_end,
		.threads_started = hook_threads,
		.ctx = c,
	};
	struct wl_native_run run;
	struct wl_error err = { 0 };
	struct msg m = { .type = MSG_READY };
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (drop_privileges(uid, gid, parent)) {
		m.type = MSG_ERROR;
		snprintf(m.text, sizeof(m.text), "cannot drop to uid %u: %s", (unsigned)uid,
			 strerror(errno));
		child_say(c, &m, false);
		_exit(1);
	}
	child_say(c, &m, true);

	wl_native_init(&run, s);
	run.thp_root = thp_root;
	if (wl_native_exec(&run, &hooks, &err)) {
		m.type = MSG_ERROR;
		snprintf(m.text, sizeof(m.text), "%.150s%s%.240s", err.path,
			 err.path[0] ? ": " : "", err.msg);
		child_say(c, &m, false);
		_exit(1);
	}
	m.type = MSG_DONE;
	m.v[0] = run.runtime_ns;
	m.v[1] = run.complete;
	child_say(c, &m, true);
	_exit(0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The command's minor faults so far, from /proc/PID/stat (field 10); 0 unknown. */
static uint64_t pid_minflt(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command's name, in parentheses: state is field 3, minflt field 10 */
	if (!(p = strrchr(buf, ')')) || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %llu", &v) != 1)
		return 0;
	return v;
}

/*
 * A command (runner_opts.command): this child drops privileges and forks
 * it, held before exec, and traces it (PTRACE_SEIZE, stopped at its exit:
 * PTRACE_O_TRACEEXIT), so that the loader can read its memory's backing
 * while the process still has it. READY names the command's pid, whom the
 * probes follow; BEGIN 0 opens the one phase, then the command execs; at
 * its exit stop END 0 and DONE (its exit status in v[2]) are said while it
 * is held, then it is let go and reaped. Its threads are its own (one
 * thread group: the probes follow them); processes it forks are not.
 */
static void __attribute__((noreturn))
command_main(struct child_ctx *c, char *const *argv, uid_t uid, gid_t gid, pid_t parent)
{
	struct msg m = { .type = MSG_READY };
	int go[2], failed[2], status, e = 0;
	uint64_t t0, t1;
	sigset_t all;
	pid_t cmd;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	m.type = MSG_ERROR;
	if (drop_privileges(uid, gid, parent)) {
		snprintf(m.text, sizeof(m.text), "cannot drop to uid %u: %s", (unsigned)uid,
			 strerror(errno));
		child_say(c, &m, false);
		_exit(1);
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(failed, O_CLOEXEC) || (cmd = fork()) < 0) {
		snprintf(m.text, sizeof(m.text), "cannot start %.100s: %s", argv[0], strerror(errno));
		child_say(c, &m, false);
		_exit(1);
	}
	if (cmd == 0) {
		char b;

		close(go[1]);
		close(failed[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (read(go[0], &b, 1) == 1)
			execvp(argv[0], argv);
		e = errno;
		if (write(failed[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(failed[1]);
	if (ptrace(PTRACE_SEIZE, cmd, NULL, (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL))) {
		snprintf(m.text, sizeof(m.text), "cannot trace %.100s: %s", argv[0], strerror(errno));
		child_say(c, &m, false);
		_exit(1);
	}
	m = (struct msg){ .type = MSG_READY, .v = { (uint64_t)cmd } };
	child_say(c, &m, true);
	m = (struct msg){ .type = MSG_BEGIN };
	child_say(c, &m, true);
	t0 = now_ns();
	if (write(go[1], "g", 1) != 1 || read(failed[0], &e, sizeof(e)) == sizeof(e)) {
		m = (struct msg){ .type = MSG_ERROR };
		snprintf(m.text, sizeof(m.text), "%.200s: %s", argv[0], strerror(e ? e : EPIPE));
		child_say(c, &m, false);
		_exit(1);
	}
	for (;;) {
		if (waitpid(cmd, &status, __WALL) < 0) {
			m = (struct msg){ .type = MSG_ERROR };
			snprintf(m.text, sizeof(m.text), "waitpid: %s", strerror(errno));
			child_say(c, &m, false);
			_exit(1);
		}
		if (!WIFSTOPPED(status))
			break;		/* gone without its exit stop (killed): no backing */
		if (status >> 16 == PTRACE_EVENT_EXIT)
			break;
		/* a signal for it: delivered; another stop: let it go on */
		ptrace(PTRACE_CONT, cmd, NULL, (void *)(long)(status >> 16 ? 0 : WSTOPSIG(status)));
	}
	t1 = now_ns();
	if (WIFSTOPPED(status)) {
		unsigned long code = 0;

		ptrace(PTRACE_GETEVENTMSG, cmd, NULL, &code);
		status = (int)code;
	}
	m = (struct msg){ .type = MSG_END, .v = { pid_minflt(cmd), t0, t1 - t0 } };
	child_say(c, &m, true);
	m = (struct msg){ .type = MSG_DONE,
			  .v = { t1 - t0, WIFEXITED(status) && !WEXITSTATUS(status),
				 (uint64_t)(unsigned)status } };
	child_say(c, &m, true);
	ptrace(PTRACE_CONT, cmd, NULL, NULL);
	waitpid(cmd, NULL, __WALL);
	_exit(0);
}

/* ---- what the loader gathers ------------------------------------------------ */

struct region_acc {
	uint64_t start, size;
	bool mapped;
	uint64_t faults, thp_faults, write_faults, failed_faults;
	uint64_t folio_orders[MAX_ORDER_NR];	/* movable allocations made by its faults */
	uint64_t pagetable_allocs;		/* unmovable ones: page tables */
	struct side_latencies lat;		/* of its completed faults */
	uint64_t pages[PAGE_CLASS_NR];		/* at the end */
	struct side_backing backing;		/* the same pages, page by page */
};

struct phase_acc {
	bool begun, ended;
	uint64_t minflt_begin, minflt_end;
	uint64_t start_ns, runtime_ns, accesses;
	uint64_t probe_free_ns;			/* its runtime in the run without probes */
	bool timed_out;
	int collapse_errno;
	uint64_t faults, thp_faults, other_faults;
	struct counter_sample *ctr_begin, *ctr_end;
	uint64_t (*pages)[PAGE_CLASS_NR];	/* per region, at the phase's end */
};

/*
 * Allocations of a fault beyond the VT_FAULT_ALLOCS its record holds (a
 * fault that needs a new PMD table as well as a PTE table, say) arrive as
 * alloc records before the fault's own record, from the same thread: they
 * wait here and are attributed to the fault's region when it arrives.
 */
#define PENDING_TIDS	16
#define PENDING_ALLOCS	6

struct pending_allocs {
	uint32_t tid;
	unsigned n;
	struct vt_alloc a[PENDING_ALLOCS];
};

struct gather {
	const struct runner_opts *o;
	struct pending_allocs pending[PENDING_TIDS];
	const struct wl_spec *s;
	struct region_acc *regions;
	struct phase_acc *phases;
	uint64_t allocs[VT_CAUSE_NR][MAX_ORDER_NR];
	uint64_t frees[MAX_ORDER_NR];
	uint64_t scan_status[STATUS_NR];
	uint64_t collapse_status[STATUS_NR];
	uint64_t isolate_status[STATUS_NR];
	uint64_t swapins, swapped_in;
	uint64_t collapse_allocs, collapse_freed;
	/* [0] the workload's flushes, [1] the background (enum vt_tlb_source) */
	uint64_t tlb_count[2][TLB_REASON_NR], tlb_pages[2][TLB_REASON_NR], tlb_full[2][TLB_REASON_NR];
	uint64_t tlb_sources[VT_TLB_SRC_NR];
	/* TLB-flush cross-calls for its mm: queued for other CPUs, run (and their ns) */
	uint64_t ipis_sent, ipis_received, ipi_received_ns;
	/*
	 * The initiators' waits (ipi_wait()): the workload's last "remote IPI
	 * send", the cross-calls queued for it not yet run, and the flush whose
	 * wait is being measured (from its send to its last cross-call's end)
	 */
	struct {
		uint64_t ts;
		uint32_t tid;
		uint32_t no;		/* 0: none yet */
	} last_send;
	struct ipi_queued {
		uint64_t send_ts;
		uint32_t target, no;
	} queued[16];
	unsigned nr_queued;
	uint32_t wait_no;
	uint64_t wait_start, wait_end;
	uint64_t ipi_waits, ipi_wait_ns;
	/* the workload's flushes by the CPU they ran on, and reason (cpu < TLB_CPUS) */
	uint64_t (*tlb_cpu)[TLB_REASON_NR];
	uint64_t syscalls[32];
	uint64_t syscall_failed;
	uint64_t rss_events;
	/*
	 * A command (runner_opts.command): the spec the loader made for it,
	 * whose regions are its anonymous mappings as they are created
	 * (command_region()), and the heap's region, -1 until its first brk
	 */
	struct wl_spec *dyn;
	long heap;
	/* a spec with threads: each one's tid (the loader's) and in-phase faults */
	const pid_t *tids;
	struct {
		uint64_t faults, thp_faults;
		uint32_t cpu;		/* the CPU of its last fault */
	} thread[WL_MAX_THREADS];
	struct evlog_writer log;
	bool log_live;
	int log_errno;
};

static struct region_acc *region_of(struct gather *g, uint64_t addr)
{
	/* the latest first: a command's new mapping may reuse an old one's range */
	for (size_t i = g->s->nr_regions; i-- > 0;) {
		struct region_acc *r = &g->regions[i];

		if (r->mapped && addr >= r->start && addr - r->start < r->size)
			return r;
	}
	return NULL;
}

static struct pending_allocs *pending_of(struct gather *g, uint32_t tid, bool create)
{
	struct pending_allocs *free_slot = NULL;

	for (int i = 0; i < PENDING_TIDS; i++) {
		if (g->pending[i].n && g->pending[i].tid == tid)
			return &g->pending[i];
		if (!g->pending[i].n && !free_slot)
			free_slot = &g->pending[i];
	}
	if (create && free_slot)
		free_slot->tid = tid;
	return create ? free_slot : NULL;
}

/* One allocation made by a fault in region r (or outside every region). */
static void fault_alloc(struct region_acc *r, const struct vt_alloc *a, bool *thp)
{
	if (a->order == 9 && a->migratetype == MIGRATE_MOVABLE)
		*thp = true;
	if (r && a->migratetype == MIGRATE_MOVABLE && a->order < MAX_ORDER_NR)
		r->folio_orders[a->order]++;
	else if (r)
		r->pagetable_allocs++;
}

static void on_fault(struct gather *g, const struct vt_event *e)
{
	struct region_acc *r = region_of(g, e->fault.addr);
	struct phase_acc *p = &g->phases[e->phase];
	struct pending_allocs *pa = pending_of(g, e->tid, false);
	bool thp = false;

	/* the kernel's fault on a command's behalf: in the log for its replay, not a user fault */
	if (!(e->fault.error_code & X86_PF_USER)) {
		if (pa)
			pa->n = 0;
		return;
	}

	for (unsigned i = 0; i < e->fault.nr_allocs && i < VT_FAULT_ALLOCS; i++) {
		const struct vt_alloc *a = &e->fault.alloc[i];

		if (a->order < MAX_ORDER_NR)
			g->allocs[VT_CAUSE_FAULT][a->order]++;
		fault_alloc(r, a, &thp);
	}
	/* the overflow, already in the allocs histogram as alloc records */
	for (unsigned i = 0; pa && i < pa->n; i++)
		fault_alloc(r, &pa->a[i], &thp);
	if (pa)
		pa->n = 0;
	if (!r) {
		p->other_faults++;
		return;
	}
	p->faults++;
	r->faults++;
	for (unsigned t = 0; g->tids && t < g->s->threads; t++)
		if ((uint32_t)g->tids[t] == e->tid) {
			g->thread[t].faults++;
			g->thread[t].thp_faults += thp;
			g->thread[t].cpu = e->cpu;
		}
	if (e->fault.error_code & X86_PF_WRITE)
		r->write_faults++;
	if (!e->fault.completed)
		r->failed_faults++;
	else if (e->fault.latency_ns)	/* 0: not timed (--latency-sample) */
		side_latencies_push(&r->lat, e->fault.latency_ns);
	if (thp) {
		p->thp_faults++;
		r->thp_faults++;
	}
}

/* The flush being measured is over: its wait counts. */
static void ipi_wait_done(struct gather *g)
{
	if (g->wait_no && g->wait_end > g->wait_start) {
		g->ipi_waits++;
		g->ipi_wait_ns += g->wait_end - g->wait_start;
	}
	g->wait_no = 0;
}

/*
 * The wait of a workload flush for its cross-calls, as its initiator
 * spends it in smp_call_function_many_cond(): from its "remote IPI send"
 * (native_flush_tlb_multi()) to the end of the last cross-call it queued
 * (csd_function_exit on the target). A cross-call queued by the thread of
 * the last send is that flush's; a run on CPU c is the oldest one queued
 * for c. Khugepaged's sends leave no tlb:tlb_flush record of the workload,
 * so their cross-calls are not waited for here.
 */
static void ipi_wait(struct gather *g, const struct vt_event *e)
{
	if (e->type == VT_TLB_FLUSH) {
		g->last_send.ts = e->ts;
		g->last_send.tid = e->tid;
		g->last_send.no++;
		return;
	}
	if (e->ipi.sent) {
		if (g->last_send.no && e->tid == g->last_send.tid &&
		    g->nr_queued < sizeof(g->queued) / sizeof(g->queued[0]))
			g->queued[g->nr_queued++] = (struct ipi_queued){
				.send_ts = g->last_send.ts, .target = e->ipi.target,
				.no = g->last_send.no };
		return;
	}
	for (unsigned i = 0; i < g->nr_queued; i++) {
		uint64_t end = e->ts + e->ipi.ns;

		if (g->queued[i].target != e->cpu)
			continue;
		if (g->queued[i].no != g->wait_no) {
			ipi_wait_done(g);
			g->wait_no = g->queued[i].no;
			g->wait_start = g->queued[i].send_ts;
			g->wait_end = end;
		} else if (end > g->wait_end) {
			g->wait_end = end;
		}
		memmove(&g->queued[i], &g->queued[i + 1], (g->nr_queued - i - 1) *
			sizeof(g->queued[0]));
		g->nr_queued--;
		return;
	}
}

/* A new region of a command's: spec and accumulator grow together. */
static struct region_acc *add_region(struct gather *g, const char *name, uint64_t start,
				     uint64_t size)
{
	struct wl_spec *d = g->dyn;
	struct wl_region *nr = realloc(d->regions, (d->nr_regions + 1) * sizeof(*nr));
	struct region_acc *na;

	if (!nr)
		return NULL;
	d->regions = nr;
	na = realloc(g->regions, (d->nr_regions + 1) * sizeof(*na));
	if (!na)
		return NULL;
	g->regions = na;
	memset(&nr[d->nr_regions], 0, sizeof(nr[0]));
	memset(&na[d->nr_regions], 0, sizeof(na[0]));
	if (!(nr[d->nr_regions].name = strdup(name)))
		return NULL;
	nr[d->nr_regions].size = size;
	na[d->nr_regions] = (struct region_acc){ .start = start, .size = size, .mapped = true };
	return &na[d->nr_regions++];
}

#define CMD_PAGE		4096ULL
#define CMD_MAP_SHARED		0x01
#define CMD_MAP_ANONYMOUS	0x20

/*
 * A command's memory system call that succeeded: each private anonymous
 * mmap is a new region ("mmap<n>-<size>", n counting the command's regions
 * in creation order), as is the target of each mremap ("mremap<n>-<size>");
 * the heap is one region, "[heap]", from the first brk's answer to the
 * highest break since. Shared and file mappings are not MimicOS's.
 */
static void command_region(struct gather *g, const struct vt_event *e)
{
	uint64_t ret = (uint64_t)e->sys.ret, len = 0;
	const char *kind = NULL;
	char name[64], size[32];

	switch (e->sys.nr) {
	case 9:		/* mmap */
		if ((e->sys.args[3] & (CMD_MAP_SHARED | CMD_MAP_ANONYMOUS)) == CMD_MAP_ANONYMOUS) {
			kind = "mmap";
			len = e->sys.args[1];
		}
		break;
	case 25:	/* mremap */
		kind = "mremap";
		len = e->sys.args[2];
		break;
	case 12: {	/* brk */
		uint64_t lo = ret & ~(CMD_PAGE - 1), hi = (ret + CMD_PAGE - 1) & ~(CMD_PAGE - 1);
		struct region_acc *h;

		if (g->heap < 0) {
			if (!add_region(g, "[heap]", lo, hi - lo))
				return;
			g->heap = (long)g->dyn->nr_regions - 1;
		}
		h = &g->regions[g->heap];
		if (hi > h->start + h->size) {
			h->size = hi - h->start;
			g->dyn->regions[g->heap].size = h->size;
		}
		return;
	}
	}
	if (!kind || !len)
		return;
	len = (len + CMD_PAGE - 1) & ~(CMD_PAGE - 1);
	wl_size_format(len, size, sizeof(size));
	snprintf(name, sizeof(name), "%s%zu-%s", kind, g->dyn->nr_regions, size);
	add_region(g, name, ret, len);
}

static int on_event(void *ctx, const struct vt_event *e)
{
	struct gather *g = ctx;

	if (g->log_live && evlog_append(&g->log, e, 1) && !g->log_errno)
		g->log_errno = errno;
	if (e->phase < 0 || (size_t)e->phase >= g->s->nr_phases)
		return 0;
	switch (e->type) {
	case VT_FAULT:
		on_fault(g, e);
		break;
	case VT_ALLOC:
		if (e->alloc.cause < VT_CAUSE_NR && e->alloc.order < MAX_ORDER_NR)
			g->allocs[e->alloc.cause][e->alloc.order]++;
		if (e->alloc.cause == VT_CAUSE_FAULT) {
			struct pending_allocs *pa = pending_of(g, e->tid, true);

			if (pa && pa->n < PENDING_ALLOCS)
				pa->a[pa->n++] = e->alloc;
		}
		break;
	case VT_FREE:
		if (e->free.order < MAX_ORDER_NR)
			g->frees[e->free.order]++;
		break;
	case VT_SCAN_PMD:
		if (e->scan.status >= 0 && e->scan.status < STATUS_NR)
			g->scan_status[e->scan.status]++;
		break;
	case VT_COLLAPSE:
		if (e->collapse.status >= 0 && e->collapse.status < STATUS_NR)
			g->collapse_status[e->collapse.status]++;
		if (e->collapse.has_isolate && e->collapse.isolate_status >= 0 &&
		    e->collapse.isolate_status < STATUS_NR)
			g->isolate_status[e->collapse.isolate_status]++;
		if (e->collapse.has_swapin) {
			g->swapins++;
			g->swapped_in += (uint64_t)(e->collapse.swapped_in > 0 ? e->collapse.swapped_in : 0);
		}
		if (e->collapse.has_alloc) {
			g->collapse_allocs++;
			g->collapse_freed += e->collapse.nr_freed;
			if (e->collapse.alloc.order < MAX_ORDER_NR)
				g->allocs[VT_CAUSE_KHUGEPAGED][e->collapse.alloc.order]++;
		}
		break;
	case VT_SYSCALL:
		if (e->sys.nr < 32)
			g->syscalls[e->sys.nr]++;
		if (e->sys.ret < 0 && e->sys.ret > -4096)
			g->syscall_failed++;
		else if (g->dyn)
			command_region(g, e);
		break;
	case VT_TLB_FLUSH: {
		int bg = !VT_TLB_SRC_WORKLOAD(e->tlb.source), r = e->tlb.reason;

		if (e->tlb.source < VT_TLB_SRC_NR)
			g->tlb_sources[e->tlb.source]++;
		if (r == TLB_REMOTE_SEND_IPI)
			ipi_wait(g, e);
		if (r >= 0 && r < TLB_REASON_NR) {
			if (!bg && e->cpu < TLB_CPUS && (g->tlb_cpu || (g->tlb_cpu =
					calloc(TLB_CPUS, sizeof(*g->tlb_cpu)))))
				g->tlb_cpu[e->cpu][r]++;
			g->tlb_count[bg][r]++;
			if (e->tlb.pages < 0)
				g->tlb_full[bg][r]++;
			else
				g->tlb_pages[bg][r] += (uint64_t)e->tlb.pages;
		}
		break;
	}
	case VT_RSS:
		g->rss_events++;
		break;
	case VT_IPI:
		if (e->ipi.sent) {
			g->ipis_sent++;
		} else {
			g->ipis_received++;
			g->ipi_received_ns += e->ipi.ns;
		}
		ipi_wait(g, e);
		break;
	}
	return 0;
}

/* ---- the loader's side ------------------------------------------------------ */

struct loader {
	const struct runner_opts *o;
	const struct wl_spec *s;
	struct gather g;
	struct vmtrace trace;
	bool traced;
	struct wl_rng sample_rng;	/* --latency-sample's periods (resample()) */
	pid_t tids[WL_MAX_THREADS];	/* a spec with threads: each one's (MSG_THREAD) */
	uint64_t next_resample_ns;	/* CLOCK_MONOTONIC */
	int cost_errno;			/* 0: t.cost holds the programs' runs over the phases */
	bool costing;
	int overhead_errno;		/* 0: stats_overhead_ns is known */
	double stats_overhead_ns;	/* what the statistics add to a program's run */
	struct counter_set ctr;
	bool counting;
	struct backing_reader backing;
	bool backing_open;
	struct hoststat hs_before, hs_after;
	struct hostid host;
	struct prewarm warm;
	bool prewarm_asked;
	uint64_t prewarm_wanted;	/* what the regions add up to */
	bool prewarmed;			/* warm holds a finished prewarm */
	struct wl_kernel kernel;	/* in force during the run */
	pid_t child;
	pid_t pid;			/* the child's pid, kept after it is reaped */
	int to_child, from_child, sigfd;
	bool applied;			/* THP sysfs changed: restore it */
	bool bare;			/* the probe-free run: phase times only */
	bool interrupted;		/* a signal ended serve() */
	bool done;
	int command_status;		/* a command's wait status at its exit */
	uint64_t runtime_ns;
	uint64_t probe_free_ns;		/* the probe-free run's, 0 when there was none */
	bool complete;
	char log_path[4096], json_path[4096];
};

/* classes[0..n) appended to b (side_backing_add() merges equal neighbours into runs). */
static int backing_runs(struct side_backing *b, const uint8_t *classes, uint64_t n)
{
	for (uint64_t p = 0; p < n; p++)
		if (side_backing_add(b, classes[p], 1))
			return -1;
	return 0;
}

/*
 * The classes of every region's pages now: counts in out[i] and, with
 * 'maps', the region's backing map, from the same reading (so the runs add
 * up to the counts). A region never mapped is all none.
 */
static int scan_regions(struct loader *l, uint64_t (*out)[PAGE_CLASS_NR], bool maps,
			struct wl_error *err)
{
	for (size_t i = 0; i < l->s->nr_regions; i++) {
		struct region_acc *r = &l->g.regions[i];
		uint64_t n = r->mapped ? r->size / BACKING_PAGE_SIZE
				       : l->s->regions[i].size / BACKING_PAGE_SIZE;
		uint8_t *classes = NULL;
		int ret;

		memset(out[i], 0, sizeof(out[i]));
		if (maps)
			side_backing_release(&r->backing);
		if (!r->mapped) {
			out[i][PAGE_CLASS_NONE] = n;
			if (maps && side_backing_add(&r->backing, PAGE_CLASS_NONE, n))
				return wl_error_set(err, "virtuoso linux", "", "out of memory");
			continue;
		}
		if (maps && !(classes = malloc(n ? n : 1)))
			return wl_error_set(err, "virtuoso linux", "", "out of memory");
		ret = backing_classify(&l->backing, r->start, r->size, classes, out[i], err);
		if (!ret && maps && backing_runs(&r->backing, classes, n))
			ret = wl_error_set(err, "virtuoso linux", "", "out of memory");
		free(classes);
		if (ret)
			return -1;
	}
	return 0;
}

static int counters_snapshot(struct loader *l, struct counter_sample **slot)
{
	size_t n = counters_nr();

	*slot = calloc(n ? n : 1, sizeof(**slot));
	if (!*slot)
		return -1;
	if (l->counting)
		counters_read(&l->ctr, *slot);
	return 0;
}

/*
 * Phase i begins (the threads held): its events take phase i. With threads,
 * a group's first phase gives every thread no phase, then each phase of the
 * group (one message each) its own threads; the process-wide phase stays
 * the group's first, for khugepaged. At its end (MSG_END) its threads have
 * no phase again.
 */
/* Give the threads in 'mask' (bit t: thread t) the phase 'phase'. 0, or -1 with errno. */
static int set_threads_phase(struct loader *l, uint64_t mask, int phase)
{
	for (unsigned t = 0; t < l->s->threads; t++)
		if ((mask >> t & 1) && vmtrace_set_thread_phase(&l->trace, l->tids[t], phase))
			return -1;
	return 0;
}

static int thread_phases(struct loader *l, size_t i)
{
	const struct wl_spec *s = l->s;

	if (s->threads <= 1) {
		vmtrace_set_phase(&l->trace, (int)i);
		return 0;
	}
	if (!s->phases[i].concurrent) {
		vmtrace_set_phase(&l->trace, (int)i);
		if (set_threads_phase(l, UINT64_MAX, VT_NO_PHASE))
			return -1;
	}
	return set_threads_phase(l, s->phases[i].thread_mask, (int)i);
}

static int ack(struct loader *l)
{
	return xwrite(l->to_child, "k", 1);
}

/* Handle one message from the child. Returns 0, or -1 with err. */
static int handle(struct loader *l, const struct msg *m, struct wl_error *err)
{
	struct phase_acc *p = m->idx < l->s->nr_phases ? &l->g.phases[m->idx] : NULL;

	switch (m->type) {
	case MSG_REGION:
		if (m->idx >= l->s->nr_regions)
			break;
		l->g.regions[m->idx].start = m->v[0];
		l->g.regions[m->idx].size = m->v[1];
		l->g.regions[m->idx].mapped = true;
		return 0;
	case MSG_THREAD:
		if (m->idx >= l->s->threads || m->idx >= WL_MAX_THREADS)
			break;
		l->tids[m->idx] = (pid_t)m->v[0];
		return 0;
	case MSG_BEGIN:
		if (!p)
			break;
		p->begun = true;
		p->minflt_begin = m->v[0];
		if (counters_snapshot(l, &p->ctr_begin))
			return wl_error_set(err, "virtuoso linux", "", "out of memory");
		if (l->traced && thread_phases(l, m->idx))
			return wl_error_set(err, "bpf", "", "thread_phase: %s", strerror(errno));
		return ack(l) ? wl_error_set(err, "virtuoso linux", "", "the workload is gone") : 0;
	case MSG_END:
		if (!p)
			break;
		/*
		 * Events keep phase i's tag until phase i+1 begins: the workload
		 * is stopped meanwhile, but khugepaged is not, and its work in
		 * the pause belongs to the run.
		 */
		p->ended = true;
		/*
		 * A thread's events after its phase are not the phase's: held, a
		 * thread does nothing, but after the last phase it exits (glibc
		 * gives its stack back with madvise).
		 */
		if (l->traced && l->s->threads > 1 &&
		    set_threads_phase(l, l->s->phases[m->idx].thread_mask, VT_NO_PHASE))
			return wl_error_set(err, "bpf", "", "thread_phase: %s", strerror(errno));
		p->minflt_end = m->v[0];
		p->start_ns = m->v[1];
		p->runtime_ns = m->v[2];
		p->accesses = m->v[3];
		p->timed_out = m->v[4] != 0;
		p->collapse_errno = (int)(int64_t)m->v[5];
		if (counters_snapshot(l, &p->ctr_end))
			return wl_error_set(err, "virtuoso linux", "", "out of memory");
		p->pages = calloc(l->s->nr_regions ? l->s->nr_regions : 1, sizeof(*p->pages));
		if (!p->pages)
			return wl_error_set(err, "virtuoso linux", "", "out of memory");
		/*
		 * A command has exec'd since the reader was opened: /proc/PID/
		 * pagemap opened before holds the mm exec replaced. Open it again
		 * on the command's own, at its exit stop.
		 */
		if (!l->bare && l->o->command && l->backing_open) {
			backing_close(&l->backing);
			l->backing_open = false;
			if (backing_open(&l->backing, l->pid, l->o->backing, err))
				return -1;
			l->backing_open = true;
		}
		if (!l->bare && scan_regions(l, p->pages, false, err))
			return -1;
		return ack(l) ? wl_error_set(err, "virtuoso linux", "", "the workload is gone") : 0;
	case MSG_DONE: {
		uint64_t (*end)[PAGE_CLASS_NR];

		l->command_status = (int)m->v[2];
		if (l->bare) {
			l->runtime_ns = m->v[0];
			l->complete = m->v[1] != 0;
			l->done = true;
			return ack(l) ? wl_error_set(err, "virtuoso linux", "", "the workload is gone") : 0;
		}
		end = calloc(l->s->nr_regions ? l->s->nr_regions : 1, sizeof(*end));
		if (!end)
			return wl_error_set(err, "virtuoso linux", "", "out of memory");
		if (l->traced) {
			vmtrace_collect_open(&l->trace, l->pid);
			vmtrace_set_phase(&l->trace, VT_NO_PHASE);
		}
		if (l->costing) {
			l->cost_errno = -vmtrace_cost_end(&l->trace);
			l->costing = false;
		}
		l->runtime_ns = m->v[0];
		l->complete = m->v[1] != 0;
		if (scan_regions(l, end, true, err)) {
			free(end);
			return -1;
		}
		for (size_t i = 0; i < l->s->nr_regions; i++)
			memcpy(l->g.regions[i].pages, end[i], sizeof(end[i]));
		free(end);
		hoststat_read(&l->hs_after, "/proc/vmstat", l->o->thp_root);
		l->done = true;
		return ack(l) ? wl_error_set(err, "virtuoso linux", "", "the workload is gone") : 0;
	}
	case MSG_ERROR:
		return wl_error_set(err, l->o->spec_path, "", "the workload failed: %s", m->text);
	}
	return wl_error_set(err, "virtuoso linux", "", "unexpected message %u from the workload",
			    m->type);
}

static int wait_child(struct loader *l, struct wl_error *err)
{
	int status;

	if (waitpid(l->child, &status, 0) < 0)
		return wl_error_set(err, "virtuoso linux", "", "waitpid: %s", strerror(errno));
	l->child = 0;
	if (WIFSIGNALED(status))
		return wl_error_set(err, l->o->spec_path, "", "the workload was killed by signal %d (%s)",
				    WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status))
		return wl_error_set(err, l->o->spec_path, "", "the workload exited with status %d",
				    WEXITSTATUS(status));
	return 0;
}

/*
 * --latency-sample N: a new period for the completion event on the drain
 * timer, from the run's own stream of the spec's seed. Faults recur with
 * periods of their own (a page table every 512, a per-CPU list refill every
 * batch); one fixed period in step with one of them would time those faults
 * always or never. The rate, not the period, is drawn uniform in
 * [0.5/N, 1.5/N], so that one fault in N is timed on average (a period drawn
 * uniform around N would time more: the mean of 1/p is above 1/mean(p)).
 */
static int resample(struct loader *l)
{
	double n = (double)l->o->latency_sample, u;
	uint64_t now = now_ns(), period;

	/* on the timer, not on every wake-up: a new period restarts the count */
	if (now < l->next_resample_ns)
		return 0;
	l->next_resample_ns = now + POLL_MS * 1000000ULL;
	u = 2 * wl_rng_double(&l->sample_rng) - 1;
	period = (uint64_t)llround(n / (1 + u / 2));
	return vmtrace_set_sample_period(&l->trace, period ? period : 1);
}

/* The loop: messages from the child, records from the kernel, signals. */
static int serve(struct loader *l, struct wl_error *err)
{
	struct pollfd fds[3] = {
		{ .fd = l->from_child, .events = POLLIN },
		{ .fd = l->sigfd, .events = POLLIN },
		{ .fd = l->traced ? vmtrace_fd(&l->trace) : -1, .events = POLLIN },
	};

	while (!l->done) {
		struct msg m;

		if (poll(fds, 3, POLL_MS) < 0 && errno != EINTR)
			return wl_error_set(err, "virtuoso linux", "", "poll: %s", strerror(errno));
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
				l->interrupted = true;
				return wl_error_set(err, "virtuoso linux", "",
						    "interrupted by %s: the run was abandoned",
						    strsignal((int)si.ssi_signo));
			}
		}
		if (l->traced && vmtrace_poll(&l->trace, 0) < 0)
			return wl_error_set(err, "bpf", "", "ring buffer: %s", strerror(errno));
		if (l->traced && l->o->latency_sample > 1 && resample(l))
			return wl_error_set(err, "perf_event_open", "", "sample period: %s",
					    strerror(errno));
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			if (xread(l->from_child, &m, sizeof(m))) {
				wait_child(l, err);
				if (!err->msg[0])
					wl_error_set(err, l->o->spec_path, "",
						     "the workload ended before finishing its phases");
				return -1;
			}
			if (handle(l, &m, err))
				return -1;
		}
	}
	return wait_child(l, err);
}

static cJSON *status_json(const uint64_t *counts, cJSON *names)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; i < STATUS_NR; i++) {
		cJSON *n = names ? cJSON_GetArrayItem(names, i) : NULL;
		char k[32];

		if (!counts[i])
			continue;
		if (cJSON_IsString(n))
			snprintf(k, sizeof(k), "%s", n->valuestring);
		else
			snprintf(k, sizeof(k), "%d", i);
		cJSON_AddNumberToObject(o, k, (double)counts[i]);
	}
	return o;
}

/* The kernel's name of flush reason i into k, or its number where the names are not known. */
static const char *reason_key(cJSON *tlb_names, int i, char *k, size_t len)
{
	cJSON *n = tlb_names ? cJSON_GetArrayItem(tlb_names, i) : NULL;

	if (cJSON_IsString(n))
		snprintf(k, len, "%s", n->valuestring);
	else
		snprintf(k, len, "%d", i);
	return k;
}

/* The workload's TLB flushes (bg 0) or the background's (bg 1), by the kernel's reason names. */
static cJSON *tlb_json(const struct gather *g, int bg, cJSON *tlb_names)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; i < TLB_REASON_NR; i++) {
		cJSON *j;
		char k[48];

		if (!g->tlb_count[bg][i])
			continue;
		j = cJSON_AddObjectToObject(o, reason_key(tlb_names, i, k, sizeof(k)));
		cJSON_AddNumberToObject(j, "count", (double)g->tlb_count[bg][i]);
		cJSON_AddNumberToObject(j, "pages", (double)g->tlb_pages[bg][i]);
		cJSON_AddNumberToObject(j, "full", (double)g->tlb_full[bg][i]);
	}
	return o;
}

/* The workload's flushes by CPU ("0", "1", ...), each by the kernel's reason names. */
static cJSON *tlb_cpu_json(const struct gather *g, cJSON *tlb_names)
{
	cJSON *o = cJSON_CreateObject();

	for (int c = 0; g->tlb_cpu && c < TLB_CPUS; c++) {
		cJSON *j = NULL;
		char k[48];

		for (int i = 0; i < TLB_REASON_NR; i++) {
			if (!g->tlb_cpu[c][i])
				continue;
			if (!j) {
				snprintf(k, sizeof(k), "%d", c);
				j = cJSON_AddObjectToObject(o, k);
			}
			cJSON_AddNumberToObject(j, reason_key(tlb_names, i, k, sizeof(k)),
						(double)g->tlb_cpu[c][i]);
		}
	}
	return o;
}

static cJSON *counters_total_json(struct loader *l)
{
	size_t n = counters_nr();
	struct counter_sample *sum = calloc(n ? n : 1, sizeof(*sum));
	cJSON *o;

	if (!sum)
		abort();
	/*
	 * The phases' growths added up, counts and times alike, so that the
	 * whole is scaled as perf scales one interval
	 */
	for (size_t i = 0; i < l->s->nr_phases; i++) {
		const struct phase_acc *p = &l->g.phases[i];

		if (!p->ctr_begin || !p->ctr_end)
			continue;
		for (size_t c = 0; c < n; c++) {
			sum[c].value += p->ctr_end[c].value - p->ctr_begin[c].value;
			sum[c].enabled += p->ctr_end[c].enabled - p->ctr_begin[c].enabled;
			sum[c].running += p->ctr_end[c].running - p->ctr_begin[c].running;
		}
	}
	o = counters_to_json(&l->ctr, NULL, sum, NULL);
	free(sum);
	return o;
}

/*
 * What the probes cost over the phases: each attached program's runs, and
 * the average run of those that fire inside a fault's window (null when the
 * kernel would not give run-time statistics, or no such run happened).
 */
static void probe_cost_json(cJSON *o, const struct loader *l)
{
	uint64_t cnt[VMTRACE_ROLE_NR] = { 0 }, ns[VMTRACE_ROLE_NR] = { 0 };
	cJSON *progs, *avg;

	if (!l->traced || l->cost_errno) {
		cJSON_AddNullToObject(o, "programs");
		cJSON_AddNullToObject(o, "probe_cost_ns");
		cJSON_AddNullToObject(o, "stats_overhead_ns");
		if (l->traced && l->cost_errno != ENODATA)
			cJSON_AddStringToObject(o, "programs_error", strerrorname_np(l->cost_errno));
		return;
	}
	progs = cJSON_AddObjectToObject(o, "programs");
	for (size_t i = 0; i < l->trace.nr_cost; i++) {
		const struct vmtrace_cost *c = &l->trace.cost[i];
		cJSON *j = cJSON_AddObjectToObject(progs, c->name);

		cJSON_AddNumberToObject(j, "run_cnt", (double)c->run_cnt);
		cJSON_AddNumberToObject(j, "run_time_ns", (double)c->run_time_ns);
		cnt[c->role] += c->run_cnt;
		ns[c->role] += c->run_time_ns;
	}
	if (l->overhead_errno)
		cJSON_AddNullToObject(o, "stats_overhead_ns");
	else
		cJSON_AddNumberToObject(o, "stats_overhead_ns", l->stats_overhead_ns);
	avg = cJSON_AddObjectToObject(o, "probe_cost_ns");
	for (int r = VMTRACE_ROLE_FAULT_ENTRY; r < VMTRACE_ROLE_NR; r++) {
		if (cnt[r])
			cJSON_AddNumberToObject(avg, vmtrace_role_name(r), (double)ns[r] / (double)cnt[r]);
		else
			cJSON_AddNullToObject(avg, vmtrace_role_name(r));
	}
}

static cJSON *result_json(struct loader *l, const struct vmtrace_stats *st, cJSON *scan_names,
			  cJSON *tlb_names)
{
	const struct wl_spec *s = l->s;
	struct gather *g = &l->g;
	cJSON *root = cJSON_CreateObject(), *regions, *phases, *o;
	struct utsname u;

	cJSON_AddStringToObject(root, "workload", s->name);
	if (l->o->command) {
		cJSON *c = cJSON_AddObjectToObject(root, "command"), *a;

		a = cJSON_AddArrayToObject(c, "argv");
		for (char *const *v = l->o->command; *v; v++)
			cJSON_AddItemToArray(a, cJSON_CreateString(*v));
		cJSON_AddNumberToObject(c, "exit_status", WEXITSTATUS(l->command_status));
		cJSON_AddBoolToObject(c, "children_followed", false);
	}
	cJSON_AddStringToObject(root, "side", "linux");
	cJSON_AddBoolToObject(root, "complete", l->complete && !st->dropped);
	cJSON_AddNumberToObject(root, "dropped_events", (double)st->dropped);
	cJSON_AddItemToObject(root, "kernel", side_kernel_json(s, &l->kernel));

	regions = cJSON_AddObjectToObject(root, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		struct region_acc *r = &g->regions[i];
		cJSON *j = cJSON_AddObjectToObject(regions, s->regions[i].name);

		side_region_fields(j, r->start, s->regions[i].size, r->faults, r->thp_faults, r->pages);
		cJSON_AddItemToObject(j, "backing", side_backing_json(&r->backing));
		cJSON_AddNumberToObject(j, "write_faults", (double)r->write_faults);
		cJSON_AddNumberToObject(j, "failed_faults", (double)r->failed_faults);
		cJSON_AddItemToObject(j, "fault_alloc_orders", side_orders_json(r->folio_orders, MAX_ORDER_NR));
		cJSON_AddNumberToObject(j, "pagetable_allocs", (double)r->pagetable_allocs);
		cJSON_AddItemToObject(j, "fault_latency_ns", side_latencies_json(&r->lat));
	}

	phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < s->nr_phases; i++) {
		const struct wl_phase *ph = &s->phases[i];
		const struct phase_acc *p = &g->phases[i];
		cJSON *j = side_phase_json(phases, s, i, p->runtime_ns, p->faults), *pg;

		cJSON_AddNumberToObject(j, "thp_faults", (double)p->thp_faults);
		cJSON_AddNumberToObject(j, "other_faults", (double)p->other_faults);
		cJSON_AddNumberToObject(j, "minflt", (double)(p->minflt_end - p->minflt_begin));
		cJSON_AddNumberToObject(j, "accesses", (double)p->accesses);
		cJSON_AddNumberToObject(j, "start_ns", (double)(p->start_ns - g->phases[0].start_ns));
		if (l->probe_free_ns)
			cJSON_AddNumberToObject(j, "probe_free_runtime_ns", (double)p->probe_free_ns);
		else
			cJSON_AddNullToObject(j, "probe_free_runtime_ns");
		if (ph->op == WL_PH_KHUGEPAGED_WAIT)
			cJSON_AddBoolToObject(j, "timed_out", p->timed_out);
		if (p->collapse_errno)
			cJSON_AddStringToObject(j, "collapse_error", strerrorname_np(p->collapse_errno));
		if (l->counting && p->ctr_begin && p->ctr_end) {
			cJSON *running = NULL;

			cJSON_AddItemToObject(j, "counters", counters_to_json(&l->ctr, p->ctr_begin,
									      p->ctr_end, &running));
			if (running)
				cJSON_AddItemToObject(j, "counters_running", running);
		}
		pg = cJSON_AddObjectToObject(j, "pages");
		for (size_t r = 0; p->pages && r < s->nr_regions; r++)
			cJSON_AddItemToObject(pg, s->regions[r].name, side_pages_json(p->pages[r]));
	}
	cJSON_AddNumberToObject(root, "runtime_ns", (double)l->runtime_ns);
	if (s->threads > 1) {
		cJSON *a = cJSON_AddArrayToObject(root, "threads");

		for (unsigned t = 0; t < s->threads; t++) {
			cJSON *j = cJSON_CreateObject();

			cJSON_AddNumberToObject(j, "thread", t);
			cJSON_AddNumberToObject(j, "tid", l->tids[t]);
			cJSON_AddNumberToObject(j, "cpu", g->thread[t].cpu);
			cJSON_AddNumberToObject(j, "faults", (double)g->thread[t].faults);
			cJSON_AddNumberToObject(j, "thp_faults", (double)g->thread[t].thp_faults);
			cJSON_AddItemToArray(a, j);
		}
	}
	if (l->probe_free_ns)
		cJSON_AddNumberToObject(root, "probe_free_runtime_ns", (double)l->probe_free_ns);
	else
		cJSON_AddNullToObject(root, "probe_free_runtime_ns");

	o = cJSON_AddObjectToObject(root, "allocs");
	for (int c = 0; c < VT_CAUSE_NR; c++)
		cJSON_AddItemToObject(o, vt_cause_name(c), side_orders_json(g->allocs[c], MAX_ORDER_NR));
	cJSON_AddItemToObject(root, "frees", side_orders_json(g->frees, MAX_ORDER_NR));

	o = cJSON_AddObjectToObject(root, "khugepaged");
	cJSON_AddItemToObject(o, "scan_pmd", status_json(g->scan_status, scan_names));
	cJSON_AddItemToObject(o, "collapse", status_json(g->collapse_status, scan_names));
	cJSON_AddItemToObject(o, "isolate", status_json(g->isolate_status, scan_names));
	cJSON_AddNumberToObject(o, "swapins", (double)g->swapins);
	cJSON_AddNumberToObject(o, "swapped_in_pages", (double)g->swapped_in);
	cJSON_AddNumberToObject(o, "collapse_allocs", (double)g->collapse_allocs);
	cJSON_AddNumberToObject(o, "collapse_freed_pages", (double)g->collapse_freed);

	cJSON_AddItemToObject(root, "tlb_flushes", tlb_json(g, 0, tlb_names));
	cJSON_AddItemToObject(root, "tlb_flushes_background", tlb_json(g, 1, tlb_names));
	cJSON_AddItemToObject(root, "tlb_flushes_by_cpu", tlb_cpu_json(g, tlb_names));
	o = cJSON_AddObjectToObject(root, "tlb_ipis");
	cJSON_AddNumberToObject(o, "sent", (double)g->ipis_sent);
	cJSON_AddNumberToObject(o, "received", (double)g->ipis_received);
	cJSON_AddNumberToObject(o, "received_ns", (double)g->ipi_received_ns);
	ipi_wait_done(g);
	cJSON_AddNumberToObject(o, "waits", (double)g->ipi_waits);
	cJSON_AddNumberToObject(o, "wait_ns", (double)g->ipi_wait_ns);
	o = cJSON_AddObjectToObject(root, "tlb_flush_sources");
	for (int i = 0; i < VT_TLB_SRC_NR; i++)
		if (g->tlb_sources[i])
			cJSON_AddNumberToObject(o, vt_tlb_source_name(i), (double)g->tlb_sources[i]);
	o = cJSON_AddObjectToObject(root, "syscalls");
	for (unsigned nr = 0; nr < 32; nr++)
		if (g->syscalls[nr])
			cJSON_AddNumberToObject(o, vt_syscall_name(nr), (double)g->syscalls[nr]);
	cJSON_AddNumberToObject(o, "failed", (double)g->syscall_failed);

	if (l->counting) {
		cJSON_AddItemToObject(root, "counters", counters_total_json(l));
		cJSON_AddItemToObject(root, "counter_events", counters_events_json(&l->ctr));
	}
	cJSON_AddItemToObject(root, "host_counters", hoststat_delta_json(&l->hs_before, &l->hs_after));

	o = cJSON_AddObjectToObject(root, "probes");
	cJSON_AddStringToObject(o, "flavour", l->traced ? vmtrace_flavour(&l->trace) : "none");
	cJSON_AddStringToObject(o, "backing", backing_method_name(l->backing.method));
	cJSON_AddNumberToObject(o, "emitted", (double)st->emitted);
	cJSON_AddNumberToObject(o, "received", (double)st->received);
	cJSON_AddNumberToObject(o, "dropped", (double)st->dropped);
	cJSON_AddNumberToObject(o, "stray_fault_ends", (double)st->stray_ends);
	cJSON_AddNumberToObject(o, "fault_end_addr_mismatch", (double)st->addr_mismatch);
	cJSON_AddNumberToObject(o, "khugepaged_pid", (double)st->khugepaged_pid);
	cJSON_AddNumberToObject(o, "latency_sample",
				l->o->latency_sample > 1 ? l->o->latency_sample : 1);
	cJSON_AddBoolToObject(o, "rss_stat", l->traced && l->o->rss_stat);
	probe_cost_json(o, l);

	o = cJSON_AddObjectToObject(root, "host");
	if (!uname(&u))
		cJSON_AddStringToObject(o, "kernel", u.release);
	cJSON_AddStringToObject(o, "user", l->o->user ? l->o->user : "nobody");
	cJSON_AddNumberToObject(o, "pid", (double)l->pid);
	hostid_json(o, &l->host);
	if (l->prewarm_asked) {
		o = cJSON_AddObjectToObject(root, "prewarm");
		cJSON_AddNumberToObject(o, "bytes", l->prewarmed ? (double)l->warm.bytes : 0);
		cJSON_AddNumberToObject(o, "wanted", (double)l->prewarm_wanted);
		cJSON_AddNumberToObject(o, "cpus", l->prewarmed ? l->warm.cpus : 0);
		cJSON_AddNumberToObject(o, "ns", l->prewarmed ? (double)l->warm.ns : 0);
	} else {
		cJSON_AddNullToObject(root, "prewarm");
	}
	cJSON_AddStringToObject(root, "events_log", strrchr(l->log_path, '/') + 1);
	if (l->o->tool_version)
		cJSON_AddStringToObject(root, "tool", l->o->tool_version);
	return root;
}

static cJSON *meta_json(struct loader *l, cJSON *scan_names, cJSON *tlb_names)
{
	const struct wl_spec *s = l->s;
	cJSON *m = cJSON_CreateObject(), *a;

	cJSON_AddStringToObject(m, "workload", s->name);
	cJSON_AddNumberToObject(m, "pid", (double)l->pid);
	cJSON_AddStringToObject(m, "clock", "CLOCK_MONOTONIC");
	if (l->o->tool_version)
		cJSON_AddStringToObject(m, "version", l->o->tool_version);
	a = cJSON_AddArrayToObject(m, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		cJSON *r = cJSON_CreateObject();

		cJSON_AddStringToObject(r, "name", s->regions[i].name);
		cJSON_AddNumberToObject(r, "start", (double)l->g.regions[i].start);
		cJSON_AddNumberToObject(r, "size", (double)s->regions[i].size);
		cJSON_AddItemToArray(a, r);
	}
	a = cJSON_AddArrayToObject(m, "phases");
	for (size_t i = 0; i < s->nr_phases; i++) {
		cJSON *p = side_phase_json(a, s, i, l->g.phases[i].runtime_ns, l->g.phases[i].faults);

		cJSON_AddNumberToObject(p, "start_ns", (double)l->g.phases[i].start_ns);
	}
	cJSON_AddItemToObject(m, "scan_status",
			      scan_names ? cJSON_Duplicate(scan_names, 1) : cJSON_CreateArray());
	cJSON_AddItemToObject(m, "tlb_flush_reason",
			      tlb_names ? cJSON_Duplicate(tlb_names, 1) : cJSON_CreateArray());
	a = cJSON_AddArrayToObject(m, "tlb_flush_source");
	for (unsigned i = 0; i < VT_TLB_SRC_NR; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(vt_tlb_source_name(i)));
	return m;
}

/* Write JSON to 'path' through a temporary file, so nothing is half-written. */
static int write_json_file(const char *path, cJSON *json, struct wl_error *err)
{
	char tmp[4200], *text = wj_print(json);
	FILE *f;
	bool ok;

	if (!text)
		return wl_error_set(err, path, "", "out of memory");
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		free(text);
		return wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
	}
	ok = fputs(text, f) >= 0;
	ok = !fflush(f) && !fsync(fileno(f)) && ok;
	ok = !fclose(f) && ok;
	free(text);
	if (!ok || rename(tmp, path)) {
		unlink(tmp);
		return wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
	}
	return 0;
}

static int mkdir_p(const char *dir)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

static void release(struct loader *l)
{
	prewarm_abort(&l->warm);
	if (l->child > 0) {
		kill(l->child, SIGKILL);
		waitpid(l->child, NULL, 0);
		l->child = 0;
	}
	if (l->traced)
		vmtrace_close(&l->trace);
	l->traced = false;
	if (l->counting)
		counters_close(&l->ctr);
	l->counting = false;
	if (l->backing_open)
		backing_close(&l->backing);
	l->backing_open = false;
	for (size_t i = 0; l->g.regions && i < l->s->nr_regions; i++) {
		side_latencies_release(&l->g.regions[i].lat);
		side_backing_release(&l->g.regions[i].backing);
	}
	for (size_t i = 0; l->g.phases && i < l->s->nr_phases; i++) {
		free(l->g.phases[i].ctr_begin);
		free(l->g.phases[i].ctr_end);
		free(l->g.phases[i].pages);
	}
	free(l->g.regions);
	free(l->g.phases);
	free(l->g.tlb_cpu);
	l->g.regions = NULL;
	l->g.phases = NULL;
	l->g.tlb_cpu = NULL;
	hoststat_release(&l->hs_before);
	hoststat_release(&l->hs_after);
	if (l->to_child >= 0)
		close(l->to_child);
	if (l->from_child >= 0)
		close(l->from_child);
	if (l->sigfd >= 0)
		close(l->sigfd);
	l->to_child = l->from_child = l->sigfd = -1;
}

/*
 * Touch what the workload will need, if the host can spare it (half of
 * what is available): a workload that maps more is a sparse one, or one the
 * host cannot run without reclaim, and either way touching that much would
 * cost more than it saves. A prewarm is an aid: when it cannot be done, the
 * run goes on without it (prewarm.bytes 0) and says why.
 */
static void start_prewarm(struct loader *l)
{
	struct wl_error err = { 0 };

	l->prewarm_asked = true;
	l->prewarm_wanted = prewarm_bytes(l->s);
	if (!l->prewarm_wanted || l->prewarm_wanted > prewarm_cap(NULL))
		return;
	if (prewarm_start(&l->warm, l->prewarm_wanted, &err)) {
		fprintf(stderr, "virtuoso linux: no prewarm: ");
		wl_error_print(&err, stderr);
		memset(&l->warm, 0, sizeof(l->warm));
		l->warm.to_helper = -1;
	}
}

/* Fork the workload; it drops privileges and waits for READY's answer. */
static int start_child(struct loader *l, uid_t uid, gid_t gid, struct wl_error *err)
{
	int up[2], down[2];
	pid_t parent = getpid();
	struct msg m;

	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
		return wl_error_set(err, "virtuoso linux", "", "pipe: %s", strerror(errno));
	fflush(NULL);
	l->child = fork();
	if (l->child < 0)
		return wl_error_set(err, "virtuoso linux", "", "fork: %s", strerror(errno));
	if (l->child == 0) {
		struct child_ctx c = { .to_parent = up[1], .from_parent = down[0] };

		close(up[0]);
		close(down[1]);
		if (l->sigfd >= 0)
			close(l->sigfd);
		if (l->o->command)
			command_main(&c, l->o->command, uid, gid, parent);
		child_main(&c, l->s, l->o->thp_root, uid, gid, parent);
	}
	l->pid = l->child;
	close(up[1]);
	close(down[0]);
	l->from_child = up[0];
	l->to_child = down[1];
	if (xread(l->from_child, &m, sizeof(m)))
		return wl_error_set(err, "virtuoso linux", "", "the workload did not start");
	if (m.type == MSG_ERROR)
		return wl_error_set(err, "virtuoso linux", "", "%s", m.text);
	/* a command: the probes follow it, not the child that holds it */
	if (l->o->command)
		l->pid = (pid_t)m.v[0];
	return 0;
}

/*
 * The same workload once more, without probes or counters, under the same
 * settings (still applied) and with the same prewarm: each phase's wall
 * time with nothing of ours in the kernel's paths. Only the phases' times
 * are kept (into l's phases). Its failure costs only those times (a warning;
 * probe_free_runtime_ns null), unless a signal asked for the run to stop:
 * then it returns -1 with err.
 */
static int probe_free_run(struct loader *l, uid_t uid, gid_t gid, struct wl_error *err)
{
	struct loader b = { .o = l->o, .s = l->s, .to_child = -1, .from_child = -1,
			    .sigfd = l->sigfd, .bare = true,
			    .warm = { .to_helper = -1 } };
	int ret = -1;

	b.g.o = l->o;
	b.g.s = l->s;
	b.g.regions = calloc(l->s->nr_regions ? l->s->nr_regions : 1, sizeof(*b.g.regions));
	b.g.phases = calloc(l->s->nr_phases, sizeof(*b.g.phases));
	if (!b.g.regions || !b.g.phases) {
		wl_error_set(err, "virtuoso linux", "", "out of memory");
		goto out;
	}
	if (start_child(&b, uid, gid, err))
		goto out;
	/* as the first run was: a failure only makes this run's memory colder */
	if (l->prewarmed && !prewarm_start(&b.warm, l->warm.bytes, err))
		prewarm_finish(&b.warm, err);
	memset(err, 0, sizeof(*err));
	if (ack(&b)) {
		wl_error_set(err, "virtuoso linux", "", "the workload is gone");
		goto out;
	}
	if (serve(&b, err))
		goto out;
	for (size_t i = 0; i < l->s->nr_phases; i++)
		l->g.phases[i].probe_free_ns = b.g.phases[i].runtime_ns;
	l->probe_free_ns = b.runtime_ns;
	ret = 0;
out:
	b.sigfd = -1;		/* l's */
	release(&b);
	if (ret && !b.interrupted) {
		fprintf(stderr, "virtuoso linux: no probe-free run: ");
		wl_error_print(err, stderr);
		memset(err, 0, sizeof(*err));
		ret = 0;
	}
	return ret;
}

static int lookup_user(const char *name, uid_t *uid, gid_t *gid, struct wl_error *err)
{
	struct passwd *pw = getpwnam(name);

	if (!pw)
		return wl_error_set(err, "--user", "", "no such user: \"%s\"", name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * A command's spec: named "cmd-" and its program's name, the host's THP
 * settings (a command brings none), no region yet, one phase "command".
 */
static int command_spec(struct wl_spec *s, char *const *argv)
{
	const char *base = strrchr(argv[0], '/');
	char name[96];

	snprintf(name, sizeof(name), "cmd-%s", base ? base + 1 : argv[0]);
	memset(s, 0, sizeof(*s));
	s->version = 1;
	s->threads = 1;
	wl_kernel_init(&s->kernel);
	s->name = strdup(name);
	s->file = strdup(argv[0]);
	s->phases = calloc(1, sizeof(*s->phases));
	if (!s->name || !s->file || !s->phases) {
		wl_spec_release(s);
		return -1;
	}
	s->phases[0] = (struct wl_phase){ .op = WL_PH_COMMAND, .thread_mask = 1 };
	s->nr_phases = 1;
	return 0;
}

enum runner_status runner_run(const struct runner_opts *opts, bool *incomplete,
			      struct wl_error *err)
{
	struct runner_opts o = *opts;
	struct loader l = { .o = &o, .s = opts->spec, .to_child = -1, .from_child = -1,
			    .sigfd = -1, .warm = { .to_helper = -1 } };
	struct wl_spec cmd = { 0 };
	enum runner_status status = RUNNER_FAIL;
	struct vmtrace_stats st = { 0 };
	cJSON *scan_names = NULL, *tlb_names = NULL, *json = NULL, *meta = NULL;
	char *meta_text = NULL;
	sigset_t block, old;
	int restored_pid = 0;
	bool host_missing = false, created_dir;
	uid_t uid = 0;
	gid_t gid = 0;

	*incomplete = false;
	if (o.command) {
		if (command_spec(&cmd, o.command)) {
			wl_error_set(err, "virtuoso linux", "", "out of memory");
			return RUNNER_FAIL;
		}
		l.s = &cmd;
		if (!o.spec_path)
			o.spec_path = o.command[0];
	}
	if (!o.user)
		o.user = "nobody";
	if (!o.thp_root)
		o.thp_root = WL_THP_SYSFS;
	if (!o.state_dir)
		o.state_dir = thp_sysfs_state_dir();
	if (lookup_user(o.user, &uid, &gid, err))
		return RUNNER_BAD_INPUT;
	created_dir = access(o.out_dir, F_OK) != 0;
	if (mkdir_p(o.out_dir)) {
		wl_error_set(err, "--out", "", "%s: cannot create the output directory: %s",
			     o.out_dir, strerror(errno));
		return RUNNER_BAD_INPUT;
	}
	/* run k > 1 of a repeated measurement is linux-k.json and events-k.vlog */
	if (o.run > 1) {
		snprintf(l.json_path, sizeof(l.json_path), "%s/linux-%u.json", o.out_dir, o.run);
		snprintf(l.log_path, sizeof(l.log_path), "%s/events-%u.vlog", o.out_dir, o.run);
	} else {
		snprintf(l.json_path, sizeof(l.json_path), "%s/linux.json", o.out_dir);
		snprintf(l.log_path, sizeof(l.log_path), "%s/" EVLOG_NAME, o.out_dir);
	}

	/* Signals wait for the loop (or for cleanup): the host must be restored. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	l.sigfd = signalfd(-1, &block, SFD_CLOEXEC);

	if (thp_sysfs_recover(o.state_dir, o.thp_root, &restored_pid, err))
		goto out;
	if (restored_pid)
		fprintf(stderr, "virtuoso: restored THP settings left by an interrupted run (pid %d)\n",
			restored_pid);
	if (vmtrace_recover(o.state_dir, &restored_pid, err))
		goto out;
	if (restored_pid)
		fprintf(stderr, "virtuoso: unmounted the tracefs an interrupted run (pid %d) left\n",
			restored_pid);
	l.kernel = l.s->kernel;
	if (wl_kernel_resolve(&l.kernel, o.thp_root, err)) {
		status = RUNNER_HOST;
		goto out;
	}

	l.g.o = &o;
	l.g.s = l.s;
	l.g.dyn = o.command ? &cmd : NULL;
	l.g.heap = -1;
	l.g.tids = l.s->threads > 1 ? l.tids : NULL;
	l.g.regions = calloc(l.s->nr_regions ? l.s->nr_regions : 1, sizeof(*l.g.regions));
	l.g.phases = calloc(l.s->nr_phases, sizeof(*l.g.phases));
	if (!l.g.regions || !l.g.phases) {
		wl_error_set(err, "virtuoso linux", "", "out of memory");
		goto out;
	}
	hostid_read(&l.host, NULL);
	if (start_child(&l, uid, gid, err))
		goto out;
	/* touched under the host's THP settings, before the spec's apply */
	if (o.prewarm == RUNNER_PREWARM_ON || (o.prewarm == RUNNER_PREWARM_AUTO && l.host.guest))
		start_prewarm(&l);

	/* before the probes: khugepaged restarts (new pid) when THP sysfs changes */
	if (thp_sysfs_save(o.thp_root, o.state_dir, err))
		goto out;
	l.applied = true;
	if (thp_sysfs_apply(&l.s->kernel, o.thp_root, err))
		goto out;
	if (evlog_create(&l.g.log, l.log_path, NULL, err))
		goto out;
	if (o.log_zstd && evlog_set_zstd(&l.g.log, o.log_zstd, err)) {
		evlog_abort(&l.g.log);
		goto out;
	}
	l.g.log_live = true;
	if (!o.no_probes) {
		struct vmtrace_opts vo = {
			.pid = l.pid,
			.ringbuf_bytes = o.ringbuf_bytes,
			.no_tp_btf = o.no_tp_btf,
			.state_dir = o.state_dir,
			.latency_sample = o.latency_sample,
			.rss_stat = o.rss_stat,
			.kernel_faults = o.command != NULL,
			.per_thread_phase = l.s->threads > 1,
		};

		if (vmtrace_open(&l.trace, &vo, on_event, &l.g, &host_missing, err)) {
			vmtrace_close(&l.trace);	/* what it did open, and its mount */
			status = host_missing ? RUNNER_HOST : RUNNER_FAIL;
			goto out;
		}
		l.traced = true;
		wl_rng_seed(&l.sample_rng, wl_rng_derive(l.s->seed, RUNNER_SAMPLE_STREAM));
		if (counters_open(&l.ctr, l.pid, err))
			goto out;
		l.counting = true;
		scan_names = vmtrace_symbols("huge_memory/mm_khugepaged_scan_pmd", "status");
		tlb_names = vmtrace_symbols("tlb/tlb_flush", "reason");
	}
	if (backing_open(&l.backing, l.pid, o.backing, err)) {
		status = RUNNER_HOST;
		goto out;
	}
	l.backing_open = true;
	/* freed last: the memory is as fresh as it can be when the first phase begins */
	if (l.warm.bytes) {
		struct wl_error werr = { 0 };

		l.prewarmed = !prewarm_finish(&l.warm, &werr);
		if (!l.prewarmed) {
			fprintf(stderr, "virtuoso linux: no prewarm: ");
			wl_error_print(&werr, stderr);
		}
	}

	hoststat_read(&l.hs_before, "/proc/vmstat", o.thp_root);
	l.cost_errno = ENODATA;
	if (l.traced && !o.no_probe_stats) {
		l.cost_errno = -vmtrace_cost_begin(&l.trace);
		l.costing = !l.cost_errno;
	}

	if (ack(&l)) {
		wl_error_set(err, "virtuoso linux", "", "the workload is gone");
		goto out;
	}
	if (serve(&l, err))
		goto out;
	/* a command that failed leaves no results: it did not run as meant */
	if (o.command && (WIFSIGNALED(l.command_status) || WEXITSTATUS(l.command_status))) {
		if (WIFSIGNALED(l.command_status))
			wl_error_set(err, o.command[0], "", "killed by signal %d (%s)",
				     WTERMSIG(l.command_status), strsignal(WTERMSIG(l.command_status)));
		else
			wl_error_set(err, o.command[0], "", "exited with status %d",
				     WEXITSTATUS(l.command_status));
		goto out;
	}
	if (l.traced) {
		if (vmtrace_drain(&l.trace)) {
			wl_error_set(err, "bpf", "", "ring buffer: %s", strerror(errno));
			goto out;
		}
		vmtrace_stats(&l.trace, &st);
		if (!l.cost_errno)
			l.overhead_errno = -vmtrace_stats_overhead(&l.stats_overhead_ns);
	}
	if (l.traced && !o.no_probe_free && probe_free_run(&l, uid, gid, err))
		goto out;

	/* Results: the log first, then linux.json, which names it. */
	meta = meta_json(&l, scan_names, tlb_names);
	meta_text = cJSON_PrintUnformatted(meta);
	if (!meta_text || evlog_set_meta(&l.g.log, meta_text, err))
		goto out;
	if (l.g.log_errno) {
		wl_error_set(err, l.log_path, "", "cannot write: %s", strerror(l.g.log_errno));
		goto out;
	}
	l.g.log_live = false;
	if (evlog_commit(&l.g.log, err))
		goto out;
	json = result_json(&l, &st, scan_names, tlb_names);
	if (write_json_file(l.json_path, json, err)) {
		unlink(l.log_path);
		goto out;
	}
	if (st.dropped) {
		fprintf(stderr, "virtuoso linux: %llu events were lost (ring buffer full): "
			"results marked incomplete\n", (unsigned long long)st.dropped);
		*incomplete = true;
	}
	if (!l.complete) {
		fprintf(stderr, "virtuoso linux: a khugepaged_wait timed out: results marked incomplete\n");
		*incomplete = true;
	}
	status = RUNNER_OK;
out:
	if (l.g.log_live)
		evlog_abort(&l.g.log);
	release(&l);
	if (l.applied) {
		struct wl_error rerr = { 0 };

		if (thp_sysfs_restore(o.state_dir, o.thp_root, &rerr)) {
			wl_error_print(&rerr, stderr);
			if (status == RUNNER_OK) {
				*err = rerr;
				status = RUNNER_FAIL;
			}
		}
	}
	if (status != RUNNER_OK && created_dir)
		rmdir(o.out_dir);	/* only if empty: nothing half-written is left */
	sigprocmask(SIG_SETMASK, &old, NULL);
	cJSON_Delete(json);
	cJSON_Delete(meta);
	cJSON_Delete(scan_names);
	cJSON_Delete(tlb_names);
	free(meta_text);
	if (o.command)
		wl_spec_release(&cmd);
	return status;
}
