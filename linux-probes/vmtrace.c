/*
 * vmtrace.c - load, attach and read the vmtrace probes (see vmtrace.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>

#include "linux-probes/vmtrace.h"
#include "bpf/vmtrace.skel.h"

#define TRACEFS "/sys/kernel/tracing"

static const char *const role_names[] = {
	[VMTRACE_ROLE_OTHER] = "other",
	[VMTRACE_ROLE_FAULT_ENTRY] = "fault_entry",
	[VMTRACE_ROLE_FAULT_COMPLETION] = "fault_completion",
	[VMTRACE_ROLE_PAGE_ALLOC] = "page_alloc",
	[VMTRACE_ROLE_RSS_STAT] = "rss_stat",
	[VMTRACE_ROLE_TLB_FLUSH] = "tlb_flush",
};
_Static_assert(sizeof(role_names) / sizeof(role_names[0]) == VMTRACE_ROLE_NR,
	       "a vmtrace_role without a name");

const char *vmtrace_role_name(enum vmtrace_role role)
{
	return role < VMTRACE_ROLE_NR ? role_names[role] : NULL;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct vmtrace *t = ctx;

	if (size < sizeof(struct vt_event))
		return 0;
	t->received++;
	return t->fn(t->ctx, data);
}

/* libbpf prints through this; keep its warnings for -v runs only. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("VIRTUOSO_LIBBPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static bool btf_has_tracepoint(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) >= 0;
}

/* A kernel function's address from /proc/kallsyms, or 0 (absent, or hidden by kptr_restrict). */
static uint64_t kallsyms_addr(const char *name)
{
	char line[256], sym[128], type;
	unsigned long long addr;
	uint64_t found = 0;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 && !strcmp(sym, name))
			found = addr;
	fclose(f);
	return found;
}

static pid_t find_khugepaged(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "khugepaged\n"))
			found = (pid_t)atoi(de->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

#define TRACEFS_RECORD "tracefs-mounted"

/* Is tracefs mounted at TRACEFS? */
static bool tracefs_mounted(void)
{
	char line[1024], dev[256], dir[256], type[64];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%255s %255s %63s", dev, dir, type) == 3 &&
			!strcmp(dir, TRACEFS) && !strcmp(type, "tracefs");
	fclose(f);
	return found;
}

/* state_dir/tracefs-mounted says "pid PID", written and fsynced before the mount. */
static int record_mount(struct vmtrace *t, const char *state_dir, struct wl_error *err)
{
	char text[32];
	int fd, n = snprintf(text, sizeof(text), "pid %d\n", (int)getpid());

	if (snprintf(t->tracefs_record, sizeof(t->tracefs_record), "%s/" TRACEFS_RECORD,
		     state_dir) >= (int)sizeof(t->tracefs_record)) {
		t->tracefs_record[0] = '\0';
		return wl_error_set(err, state_dir, "", "path too long");
	}
	if (mkdir(state_dir, 0755) && errno != EEXIST)
		return wl_error_set(err, state_dir, "", "cannot create: %s", strerror(errno));
	fd = open(t->tracefs_record, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd)) {
		wl_error_set(err, t->tracefs_record, "", "cannot write: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(t->tracefs_record);
		t->tracefs_record[0] = '\0';
		return -1;
	}
	close(fd);
	return 0;
}

static void unrecord_mount(struct vmtrace *t)
{
	if (t->tracefs_record[0])
		unlink(t->tracefs_record);
	t->tracefs_record[0] = '\0';
}

static int ensure_tracefs(struct vmtrace *t, const char *state_dir, bool *host_missing,
			  struct wl_error *err)
{
	if (access(TRACEFS "/events", F_OK) == 0)
		return 0;
	/* recorded first: a kill between the two leaves a record, never a stray mount */
	if (state_dir && record_mount(t, state_dir, err))
		return -1;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL)) {
		unrecord_mount(t);
		*host_missing = true;
		return wl_error_set(err, TRACEFS, "",
				    "tracefs is not mounted and mounting it failed: %s",
				    strerror(errno));
	}
	t->mounted_tracefs = true;
	return 0;
}

int vmtrace_recover(const char *state_dir, int *mounted_pid, struct wl_error *err)
{
	char path[4096], text[64] = "";
	int pid = 0;
	FILE *f;

	*mounted_pid = 0;
	if (snprintf(path, sizeof(path), "%s/" TRACEFS_RECORD, state_dir) >= (int)sizeof(path))
		return wl_error_set(err, state_dir, "", "path too long");
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? 0 :
			wl_error_set(err, path, "", "cannot read: %s", strerror(errno));
	if (!fgets(text, sizeof(text), f) || sscanf(text, "pid %d", &pid) != 1)
		pid = -1;	/* cut short by the kill: the mount may have been made */
	fclose(f);
	if (tracefs_mounted() && umount2(TRACEFS, MNT_DETACH))
		return wl_error_set(err, TRACEFS, "", "cannot unmount the tracefs a killed run "
				    "left (%s): %s", path, strerror(errno));
	if (unlink(path))
		return wl_error_set(err, path, "", "cannot remove: %s", strerror(errno));
	*mounted_pid = pid;
	return 0;
}

static size_t ringbuf_size(size_t want)
{
	size_t sz = 4096;

	if (!want)
		want = 8 << 20;
	while (sz < want)
		sz <<= 1;
	return sz;
}

/* The typed hooks: one tp_btf program and its tracepoint twin each. */
static void choose_flavour(struct vmtrace *t, const struct vmtrace_opts *o)
{
	struct vmtrace_bpf *s = t->skel;
	struct btf *vmlinux = o->no_tp_btf ? NULL : btf__load_vmlinux_btf();
	struct {
		const char *tp;
		struct bpf_program *btf, *tracepoint;
	} hooks[] = {
		{ "page_fault_user", s->progs.fault_enter_btf, s->progs.fault_enter_tp },
		{ "mm_collapse_huge_page", s->progs.collapse_btf, s->progs.collapse_tp },
		{ "sys_enter", s->progs.sys_enter_btf, s->progs.sys_enter_tp },
		{ "sys_exit", s->progs.sys_exit_btf, s->progs.sys_exit_tp },
		{ "tlb_flush", s->progs.tlb_flush_btf, s->progs.tlb_flush_tp },
		{ "rss_stat", s->progs.rss_stat_btf, s->progs.rss_stat_tp },
		{ "mm_collapse_huge_page_isolate", s->progs.collapse_isolate_btf,
		  s->progs.collapse_isolate_raw },
		{ "mm_collapse_huge_page_swapin", s->progs.collapse_swapin_btf,
		  s->progs.collapse_swapin_raw },
	};

	t->tp_btf = true;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		bool btf = btf_has_tracepoint(vmlinux, hooks[i].tp);

		bpf_program__set_autoload(hooks[i].btf, btf);
		bpf_program__set_autoload(hooks[i].tracepoint, !btf);
		t->tp_btf &= btf;
	}
	if (!o->rss_stat) {
		bpf_program__set_autoload(s->progs.rss_stat_btf, false);
		bpf_program__set_autoload(s->progs.rss_stat_tp, false);
	}
	bpf_program__set_autoload(s->progs.fault_kernel_btf, o->kernel_faults &&
				  btf_has_tracepoint(vmlinux, "page_fault_kernel"));
	/* the cross-call hooks have no tracepoint twin: without their BTF, no IPI records */
	{
		struct { const char *tp; struct bpf_program *p; } ipi[] = {
			{ "csd_queue_cpu", s->progs.csd_queue_btf },
			{ "csd_function_entry", s->progs.csd_entry_btf },
			{ "csd_function_exit", s->progs.csd_exit_btf },
		};

		for (size_t i = 0; i < sizeof(ipi) / sizeof(ipi[0]); i++)
			bpf_program__set_autoload(ipi[i].p, btf_has_tracepoint(vmlinux, ipi[i].tp));
	}
	/*
	 * The kmem and scan hooks: the tp_btf flavour needs page_to_pfn(), so
	 * both flavours are loaded and attach_kmem() picks one once the
	 * vmemmap base is known (or could not be learnt).
	 */
	struct bpf_program *kmem[] = {
		s->progs.page_alloc_btf, s->progs.page_free_btf, s->progs.scan_pmd_btf,
		s->progs.page_alloc_tp, s->progs.page_free_tp, s->progs.scan_pmd_tp,
	};

	t->kmem_btf = btf_has_tracepoint(vmlinux, "mm_page_alloc") &&
		      btf_has_tracepoint(vmlinux, "mm_page_free") &&
		      btf_has_tracepoint(vmlinux, "mm_khugepaged_scan_pmd");
	if (vmlinux && t->kmem_btf) {
		int id = btf__find_by_name_kind(vmlinux, "page", BTF_KIND_STRUCT);

		t->page_size = id >= 0 ? (size_t)btf__resolve_size(vmlinux, id) : 0;
	}
	for (int i = 0; i < 6; i++) {
		bpf_program__set_autoattach(kmem[i], false);
		if (i < 3)
			bpf_program__set_autoload(kmem[i], t->kmem_btf && t->page_size);
	}
	btf__free(vmlinux);
	/* The perf_event programs are attached by hand, to the process's events. */
	bpf_program__set_autoattach(s->progs.fault_end_min, false);
	bpf_program__set_autoattach(s->progs.fault_end_maj, false);
}

/* The pfn of the page mapped at 'addr' in this process, from /proc/self/pagemap. */
static uint64_t self_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / 4096 * 8)) != sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

/*
 * Learn vmemmap_base: fault in a page of our own, take its struct page *
 * from the tp_btf allocation hook and its pfn from pagemap. Twice, and the
 * two must agree. Returns 0, or -1 (the tracepoint flavour is used then).
 */
static int calibrate_vmemmap(struct vmtrace *t)
{
	struct vmtrace_bpf__bss *b = t->skel->bss;
	uint64_t base[2] = { 0, 0 };

	b->calib_tgid = (__u32)getpid();
	for (int i = 0; i < 2; i++) {
		volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t pfn, page;

		if (p == MAP_FAILED)
			break;
		__atomic_store_n(&b->calib_page, 0, __ATOMIC_SEQ_CST);
		p[0] = 1;
		page = __atomic_load_n(&b->calib_page, __ATOMIC_SEQ_CST);
		pfn = self_pfn((const void *)p);
		if (page && pfn)
			base[i] = page - pfn * t->page_size;
		munmap((void *)p, 4096);
	}
	b->calib_tgid = 0;
	if (!base[0] || base[0] != base[1])
		return -1;
	b->vmemmap_base = base[0];
	return 0;
}

/* Attach the kmem and scan hooks: tp_btf if the vmemmap base is known, else tracepoints. */
static int attach_kmem(struct vmtrace *t, struct wl_error *err)
{
	struct vmtrace_bpf *s = t->skel;
	struct bpf_program *btf[3] = { s->progs.page_alloc_btf, s->progs.page_free_btf,
				       s->progs.scan_pmd_btf };
	struct bpf_program *tp[3] = { s->progs.page_alloc_tp, s->progs.page_free_tp,
				      s->progs.scan_pmd_tp };

	if (t->kmem_btf && t->page_size) {
		t->kmem_link[0] = bpf_program__attach(btf[0]);
		if (t->kmem_link[0] && !calibrate_vmemmap(t)) {
			for (int i = 1; i < 3; i++)
				if (!(t->kmem_link[i] = bpf_program__attach(btf[i])))
					goto fail;
			return 0;
		}
		bpf_link__destroy(t->kmem_link[0]);
		t->kmem_link[0] = NULL;
	}
	t->kmem_btf = false;
	for (int i = 0; i < 3; i++)
		if (!(t->kmem_link[i] = bpf_program__attach(tp[i])))
			goto fail;
	return 0;
fail:
	return wl_error_set(err, "bpf", "", "cannot attach the kmem and khugepaged programs: %s",
			    strerror(errno));
}

/* The completion events, PAGE_FAULTS_MIN every 'sample' faults (0: 1), PAGE_FAULTS_MAJ every one. */
static int attach_fault_ends(struct vmtrace *t, pid_t pid, unsigned sample, struct wl_error *err)
{
	static const unsigned long long config[2] = {
		PERF_COUNT_SW_PAGE_FAULTS_MIN, PERF_COUNT_SW_PAGE_FAULTS_MAJ,
	};
	struct bpf_program *prog[2] = { t->skel->progs.fault_end_min, t->skel->progs.fault_end_maj };

	for (int i = 0; i < 2; i++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(attr),
			.config = config[i],
			.sample_period = i == 0 && sample > 1 ? sample : 1,
			.inherit = 1,	/* the workload's threads too */
			.disabled = 1,
		};

		t->perf_fd[i] = syscall(SYS_perf_event_open, &attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (t->perf_fd[i] < 0)
			return wl_error_set(err, "perf_event_open", "",
					    "software page-fault event on pid %d: %s", (int)pid,
					    strerror(errno));
		t->perf_link[i] = bpf_program__attach_perf_event(prog[i], t->perf_fd[i]);
		if (!t->perf_link[i]) {
			t->perf_link[i] = NULL;
			return wl_error_set(err, "bpf", "",
					    "cannot attach the fault-completion program: %s",
					    strerror(errno));
		}
	}
	return 0;
}

static enum vmtrace_role role_of(const struct vmtrace_bpf *s, const struct bpf_program *p)
{
	if (p == s->progs.fault_enter_btf || p == s->progs.fault_enter_tp)
		return VMTRACE_ROLE_FAULT_ENTRY;
	if (p == s->progs.fault_end_min || p == s->progs.fault_end_maj)
		return VMTRACE_ROLE_FAULT_COMPLETION;
	if (p == s->progs.page_alloc_btf || p == s->progs.page_alloc_tp)
		return VMTRACE_ROLE_PAGE_ALLOC;
	if (p == s->progs.rss_stat_btf || p == s->progs.rss_stat_tp)
		return VMTRACE_ROLE_RSS_STAT;
	if (p == s->progs.tlb_flush_btf || p == s->progs.tlb_flush_tp)
		return VMTRACE_ROLE_TLB_FLUSH;
	return VMTRACE_ROLE_OTHER;
}

/*
 * The programs that are attached: every loaded one but the kmem flavour
 * attach_kmem() did not choose (both are loaded, one is attached).
 */
static void list_attached(struct vmtrace *t)
{
	struct vmtrace_bpf *s = t->skel;
	const struct bpf_program *unused[3] = {
		t->kmem_btf ? s->progs.page_alloc_tp : s->progs.page_alloc_btf,
		t->kmem_btf ? s->progs.page_free_tp : s->progs.page_free_btf,
		t->kmem_btf ? s->progs.scan_pmd_tp : s->progs.scan_pmd_btf,
	};
	struct bpf_program *p;

	t->nr_cost = 0;
	bpf_object__for_each_program(p, s->obj) {
		struct vmtrace_cost *c = &t->cost[t->nr_cost];

		if (bpf_program__fd(p) < 0 || p == unused[0] || p == unused[1] || p == unused[2])
			continue;
		if (t->nr_cost == VMTRACE_PROGS_MAX)
			break;
		memset(c, 0, sizeof(*c));
		c->prog = p;
		c->name = bpf_program__name(p);
		c->role = role_of(s, p);
		t->nr_cost++;
	}
}

static int prog_runs(const struct bpf_program *p, uint64_t *cnt, uint64_t *ns)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return -errno;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return 0;
}

int vmtrace_cost_begin(struct vmtrace *t)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);

	if (fd < 0)
		return fd;
	t->stats_fd = fd;
	for (size_t i = 0; i < t->nr_cost; i++) {
		struct vmtrace_cost *c = &t->cost[i];

		c->run_cnt = c->run_time_ns = 0;
		if (prog_runs(c->prog, &c->cnt0, &c->ns0))
			c->cnt0 = c->ns0 = 0;
	}
	return 0;
}

int vmtrace_cost_end(struct vmtrace *t)
{
	int ret = 0;

	if (t->stats_fd < 0)
		return -EBADF;
	for (size_t i = 0; i < t->nr_cost; i++) {
		struct vmtrace_cost *c = &t->cost[i];
		uint64_t cnt, ns;

		if ((ret = prog_runs(c->prog, &cnt, &ns)))
			break;
		c->run_cnt = cnt - c->cnt0;
		c->run_time_ns = ns - c->ns0;
	}
	close(t->stats_fd);
	t->stats_fd = -1;
	return ret;
}

#define OVERHEAD_REPEAT	200000
#define OVERHEAD_ROUNDS	3

static bool stats_sysctl_on(void)
{
	char c = '0';
	int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '0';
		close(fd);
	}
	return c != '0';
}

/* The kernel's average ns per repetition of prog_fd, or -errno. */
static long test_run(int prog_fd)
{
	char data[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = sizeof(data),
		    .repeat = OVERHEAD_REPEAT);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	return (long)o.duration;
}

int vmtrace_stats_overhead(double *ns)
{
	/* r0 = 0; exit */
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	long on = -1, off = -1;
	int prog, ret = 0;

	if (stats_sysctl_on())
		return -EBUSY;
	prog = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "vt_overhead", "GPL", insns, 2, NULL);
	if (prog < 0)
		return -errno;
	/* the least of a few rounds each, alternated: the host is shared */
	for (int r = 0; r < OVERHEAD_ROUNDS && !ret; r++) {
		int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		long a, b;

		if (fd < 0) {
			ret = fd;
			break;
		}
		a = test_run(prog);
		close(fd);
		b = test_run(prog);
		if (a < 0 || b < 0)
			ret = (int)(a < 0 ? a : b);
		on = on < 0 || a < on ? a : on;
		off = off < 0 || b < off ? b : off;
	}
	close(prog);
	if (ret)
		return ret;
	*ns = on > off ? (double)(on - off) : 0;
	return 0;
}

int vmtrace_open(struct vmtrace *t, const struct vmtrace_opts *o, vmtrace_fn fn, void *ctx,
		 bool *host_missing, struct wl_error *err)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->perf_fd[0] = t->perf_fd[1] = -1;
	t->stats_fd = -1;
	t->fn = fn;
	t->ctx = ctx;
	*host_missing = false;
	libbpf_set_print(libbpf_quiet);

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		*host_missing = true;
		return wl_error_set(err, "/sys/kernel/btf/vmlinux", "",
				    "no kernel BTF: the probes need a kernel built with CONFIG_DEBUG_INFO_BTF");
	}
	if (ensure_tracefs(t, o->state_dir, host_missing, err))
		return -1;
	t->khugepaged_pid = find_khugepaged();

	t->skel = vmtrace_bpf__open();
	if (!t->skel)
		return wl_error_set(err, "bpf", "", "cannot open the vmtrace BPF object: %s",
				    strerror(errno));
	t->skel->rodata->target_tgid = (__u32)o->pid;
	t->skel->rodata->latency_sample = o->latency_sample > 1 ? o->latency_sample : 1;
	t->skel->rodata->per_thread_phase = o->per_thread_phase;
	t->skel->rodata->flush_tlb_func_addr = kallsyms_addr("flush_tlb_func");
	t->skel->bss->khugepaged_pid = (__u32)t->khugepaged_pid;
	bpf_map__set_max_entries(t->skel->maps.events, ringbuf_size(o->ringbuf_bytes));
	choose_flavour(t, o);

	ret = vmtrace_bpf__load(t->skel);
	if (ret == -EPERM || ret == -ENOSYS) {
		*host_missing = true;
		return wl_error_set(err, "bpf", "",
				    "loading BPF programs is not allowed here (%s)", strerror(-ret));
	}
	if (ret)	/* the verifier refused a program: our bug, not the host's */
		return wl_error_set(err, "bpf", "",
				    "the kernel refused the vmtrace programs: %s "
				    "(VIRTUOSO_LIBBPF_DEBUG=1 shows the verifier's log)",
				    strerror(-ret));
	ret = vmtrace_bpf__attach(t->skel);
	if (ret) {
		*host_missing = ret == -EPERM || ret == -EACCES || ret == -ENOENT;
		return wl_error_set(err, "bpf", "", "cannot attach the vmtrace programs: %s",
				    strerror(-ret));
	}
	if (attach_kmem(t, err) || attach_fault_ends(t, o->pid, o->latency_sample, err))
		return -1;
	list_attached(t);
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_record, t, NULL);
	if (!t->rb)
		return wl_error_set(err, "bpf", "", "cannot open the ring buffer: %s",
				    strerror(errno));
	for (int i = 0; i < 2; i++)
		if (ioctl(t->perf_fd[i], PERF_EVENT_IOC_ENABLE, 0))
			return wl_error_set(err, "perf_event_open", "", "cannot enable: %s",
					    strerror(errno));
	return 0;
}

void vmtrace_set_phase(struct vmtrace *t, int phase)
{
	__atomic_store_n(&t->skel->data->cur_phase, phase, __ATOMIC_SEQ_CST);
}

int vmtrace_fd(const struct vmtrace *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int vmtrace_set_sample_period(struct vmtrace *t, uint64_t period)
{
	return ioctl(t->perf_fd[0], PERF_EVENT_IOC_PERIOD, &period) ? -1 : 0;
}

int vmtrace_set_thread_phase(struct vmtrace *t, pid_t tid, int phase)
{
	__u32 key = (__u32)tid;
	__s32 v = phase;

	return bpf_map_update_elem(bpf_map__fd(t->skel->maps.thread_phase), &key, &v, BPF_ANY) ?
	       -1 : 0;
}

int vmtrace_poll(struct vmtrace *t, int timeout_ms)
{
	/* the kernel side does not wake us: read what is there, or wait for it */
	int n = timeout_ms ? ring_buffer__poll(t->rb, timeout_ms) : ring_buffer__consume(t->rb);

	return n == -EINTR ? 0 : n;
}

int vmtrace_collect_open(struct vmtrace *t, pid_t tid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	struct vt_open_fault o;
	int ret = 0;

	if (pidfd < 0)
		return -1;
	/* task storage is keyed by a pidfd from userspace */
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.open_faults), &pidfd, &o) == 0 &&
	    o.e.ts && o.e.phase != VT_NO_PHASE) {
		t->received++;
		ret = t->fn(t->ctx, &o.e);
	}
	close(pidfd);
	return ret;
}

int vmtrace_drain(struct vmtrace *t)
{
	return ring_buffer__consume(t->rb) < 0 ? -1 : 0;
}

void vmtrace_stats(const struct vmtrace *t, struct vmtrace_stats *st)
{
	const struct vmtrace_bpf__bss *b = t->skel->bss;

	st->emitted = __atomic_load_n(&b->emitted, __ATOMIC_SEQ_CST);
	st->dropped = __atomic_load_n(&b->dropped, __ATOMIC_SEQ_CST);
	st->stray_ends = b->stray_ends;
	st->addr_mismatch = b->addr_mismatch;
	st->received = t->received;
	st->khugepaged_pid = b->khugepaged_pid;
}

const char *vmtrace_flavour(const struct vmtrace *t)
{
	if (t->tp_btf && t->kmem_btf)
		return "tp_btf";
	return t->tp_btf || t->kmem_btf ? "mixed" : "tracepoint";
}

void vmtrace_close(struct vmtrace *t)
{
	if (t->stats_fd >= 0)
		close(t->stats_fd);
	ring_buffer__free(t->rb);
	for (int i = 0; i < 3; i++)
		bpf_link__destroy(t->kmem_link[i]);
	for (int i = 0; i < 2; i++) {
		bpf_link__destroy(t->perf_link[i]);
		if (t->perf_fd[i] >= 0)
			close(t->perf_fd[i]);
	}
	vmtrace_bpf__destroy(t->skel);
	/* the record stays if the mount does: the next run tries again */
	if (t->mounted_tracefs && !umount2(TRACEFS, MNT_DETACH))
		unrecord_mount(t);
	memset(t, 0, sizeof(*t));
	t->perf_fd[0] = t->perf_fd[1] = -1;
	t->stats_fd = -1;
}

struct cJSON *vmtrace_symbols(const char *event, const char *field)
{
	char path[256], line[8192], key[96];
	struct cJSON *arr = NULL;
	const char *p;
	FILE *f;

	snprintf(path, sizeof(path), TRACEFS "/events/%s/format", event);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "print fmt:", 10))
			break;
	fclose(f);
	snprintf(key, sizeof(key), "__print_symbolic(REC->%s,", field);
	p = strstr(line, key);
	if (!p)
		return NULL;
	p += strlen(key);
	arr = cJSON_CreateArray();
	/* pairs { N, "name" } up to the closing parenthesis */
	for (;;) {
		char name[64];
		int v, used = 0;

		while (*p == ' ' || *p == ',')
			p++;
		if (*p != '{' || sscanf(p, "{ %d , \"%63[^\"]\" }%n", &v, name, &used) != 2 || !used)
			break;
		p += used;
		if (v < 0 || v > 255)
			continue;
		while (cJSON_GetArraySize(arr) <= v)
			cJSON_AddItemToArray(arr, cJSON_CreateNull());
		cJSON_ReplaceItemInArray(arr, v, cJSON_CreateString(name));
	}
	return arr;
}
