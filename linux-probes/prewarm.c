/*
 * prewarm.c - touch and free the memory a run will need (see prewarm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux-probes/prewarm.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t prewarm_bytes(const struct wl_spec *s)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < s->nr_regions; i++)
		sum += s->regions[i].size;
	return (sum + PREWARM_BLOCK - 1) / PREWARM_BLOCK * PREWARM_BLOCK;
}

uint64_t prewarm_cap(const char *meminfo)
{
	FILE *f = fopen(meminfo ? meminfo : "/proc/meminfo", "r");
	unsigned long long kib = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1)
			break;
	fclose(f);
	return (uint64_t)kib * 1024 / 2 / PREWARM_BLOCK * PREWARM_BLOCK;
}

/* Close every descriptor but a and b (a < b): the helper holds no one else's. */
static void close_others(int a, int b)
{
	if (a > 3)
		close_range(3, (unsigned)a - 1, 0);
	if (b > a + 1)
		close_range((unsigned)a + 1, (unsigned)b - 1, 0);
	close_range((unsigned)b + 1, ~0U, 0);
}

/* Map 'bytes' 2 MiB aligned, ask for THPs, write every 4 KiB page. Returns the mapping or NULL. */
static uint8_t *touch(uint64_t bytes)
{
	uint8_t *p = mmap(NULL, bytes + PREWARM_BLOCK, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + PREWARM_BLOCK - 1) & ~(uintptr_t)(PREWARM_BLOCK - 1);
	madvise((void *)a, bytes, MADV_HUGEPAGE);	/* no THPs here: 4 KiB pages still warm */
	for (uint64_t off = 0; off < bytes; off += 4096)
		((volatile uint8_t *)a)[off] = 1;
	return p;
}

/*
 * One pass per CPU the helper may run on, pinned there: a freed THP goes to
 * the freeing CPU's per-CPU list first, and a THP fault takes from its own
 * CPU's list first, so each CPU the workload may fault on gets warm pages
 * at the head of its list. Each pass frees before the next touches (so the
 * next reuses what the buddy allocator got back); the last holds its memory
 * until the loader says go.
 */
static void __attribute__((noreturn)) helper(int ready, int go, uint64_t bytes, pid_t parent)
{
	cpu_set_t allowed, one;
	uint8_t *p = NULL;
	int cpus = 0, left;
	char c;

	close_others(ready < go ? ready : go, ready < go ? go : ready);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	left = CPU_COUNT(&allowed) < PREWARM_MAX_CPUS ? CPU_COUNT(&allowed) : PREWARM_MAX_CPUS;
	for (int cpu = 0; cpu < CPU_SETSIZE && left > 0; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		left--;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		if (!(p = touch(bytes)))
			_exit(2);
		cpus++;
		if (left > 0) {		/* freed here, on this CPU */
			munmap(p, bytes + PREWARM_BLOCK);
			p = NULL;
		}
	}
	if (!p && !(p = touch(bytes)))	/* the last CPU could not be chosen: where it runs */
		_exit(2);
	c = (char)(cpus ? cpus : 1);
	if (write(ready, &c, 1) != 1)
		_exit(3);
	/* hold the memory until the loader closes its end */
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	munmap(p, bytes + PREWARM_BLOCK);
	_exit(0);
}

int prewarm_start(struct prewarm *p, uint64_t bytes, struct wl_error *err)
{
	int ready[2], go[2];
	pid_t parent = getpid();
	uint64_t t0 = now_ns();
	char c;

	memset(p, 0, sizeof(*p));
	p->to_helper = -1;
	p->bytes = bytes;
	if (pipe2(ready, O_CLOEXEC))
		return wl_error_set(err, "prewarm", "", "pipe: %s", strerror(errno));
	if (pipe2(go, O_CLOEXEC)) {
		close(ready[0]);
		close(ready[1]);
		return wl_error_set(err, "prewarm", "", "pipe: %s", strerror(errno));
	}
	fflush(NULL);
	p->pid = fork();
	if (p->pid == 0)
		helper(ready[1], go[0], bytes, parent);
	close(ready[1]);
	close(go[0]);
	p->to_helper = go[1];
	if (p->pid < 0) {
		p->pid = 0;
		close(ready[0]);
		prewarm_abort(p);
		return wl_error_set(err, "prewarm", "", "fork: %s", strerror(errno));
	}
	if (read(ready[0], &c, 1) != 1 || c < 1) {
		close(ready[0]);
		prewarm_abort(p);
		return wl_error_set(err, "prewarm", "", "the helper could not touch %llu bytes",
				    (unsigned long long)bytes);
	}
	close(ready[0]);
	p->cpus = (unsigned)(unsigned char)c;
	p->ns = now_ns() - t0;
	return 0;
}

int prewarm_finish(struct prewarm *p, struct wl_error *err)
{
	uint64_t t0 = now_ns();
	int status;

	if (!p->pid)
		return 0;
	close(p->to_helper);
	p->to_helper = -1;
	while (waitpid(p->pid, &status, 0) < 0)
		if (errno != EINTR) {
			p->pid = 0;
			return wl_error_set(err, "prewarm", "", "waitpid: %s", strerror(errno));
		}
	p->pid = 0;
	p->ns += now_ns() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return wl_error_set(err, "prewarm", "", "the helper failed (status %d)", status);
	return 0;
}

void prewarm_abort(struct prewarm *p)
{
	if (p->to_helper >= 0)
		close(p->to_helper);
	p->to_helper = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
}
