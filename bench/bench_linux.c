/*
 * bench_linux.c - what the probes of `virtuoso linux` cost the workload they
 * watch, and what bpftrace costs for the same job.
 *
 * Workload: write-touch 1 GiB at 4 KiB with THP and every mTHP size off,
 * 262144 user page faults; each fires page_fault_user, the software
 * page-fault event, mm_page_alloc and rss_stat. The measure is the touch
 * phase's runtime_ns.
 *
 * Ours: bin/virtuoso linux with every probe, and with --latency-sample 64
 * (one fault in 64 timed, every fault still recorded), against --no-probes
 * (the same loader and handshake, no BPF, no perf counters), the three
 * alternated, ROUNDS rounds. The probed runs skip the second, probe-free run
 * (the baseline is that already) and the BPF run-time statistics, which cost
 * every program run their own two clock reads (linux.json's
 * probes.stats_overhead_ns says how much on this host): what is measured is
 * the probes. Goals (issue 17): the ratio of the medians probes/baseline
 * <= 1.30 with every fault timed, <= 1.10 with --latency-sample 64, no
 * dropped events. A fourth way in the same rounds is the floor: --no-probes
 * with bpf/hookfloor.bpf.c attached (empty programs on the two hooks every
 * recorded fault needs), what dispatching them costs on this host.
 *
 * Then every dataset workload (each JSON file of datasets/workloads), probes
 * with every fault timed against --no-probes, DS_ROUNDS rounds alternated; the measure
 * is the sum of its phases' runtime_ns but the waits (khugepaged_wait,
 * sleep: time the workload spends asleep, whatever the probes cost). Goal:
 * <= 1.10 each.
 *
 * Reference: bench/linux_probes.bt (the same hooks, the same filter by
 * process, every event printed to a file) around bin/virtuoso exec, against
 * bin/virtuoso exec alone. Goal: bpftrace's cost (its ratio - 1) at least 10
 * times ours with every fault timed. bpftrace takes ~20 s a run, so it runs
 * REF_ROUNDS times, each between two exec runs; its ratio is far above the
 * noise. exec leaves THP sysfs alone, so
 * for this pair the bench applies the spec's kernel block itself, under the
 * lock `virtuoso linux` takes (linux-probes/thp_sysfs.h: saved on disk
 * first, restored on exit, on error and on SIGINT/SIGTERM/SIGHUP; after a
 * SIGKILL the next `virtuoso linux` restores it).
 *
 * The host is shared: the bench holds the host test suites' lock
 * (tests/host.h) throughout, and retries a linux run that took fewer 4 KiB
 * faults than the workload needs (THP settings changed under it).
 *
 * Before every measured run the bench write-touches and frees a little more
 * memory than the workload needs: on a VM with free page reporting
 * (virtio-balloon), memory freed a few seconds earlier has gone back to the
 * host, and a first touch then pays a host fault as well, which otherwise
 * dominates the spread between runs.
 *
 * Needs root and kernel BTF ("needs root, skipped" otherwise). Runs from the
 * top of the tree (bin/virtuoso, bench/linux_probes.bt), as `make bench`
 * does. Usage: bench_linux [ROUNDS [REF_ROUNDS [DS_ROUNDS]]] (DS_ROUNDS 0: no
 * dataset runs). Exit status is 0 even when
 * a goal is missed; 1 when a run cannot be made, 130 when interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <bpf/libbpf.h>
#include <cjson/cJSON.h>

#include "bpf/hookfloor.skel.h"
#include "linux-probes/hostlock.h"
#include "linux-probes/thp_sysfs.h"
#include "workload/json.h"
#include "workload/spec.h"

#define GOAL_TIMED	1.30	/* every fault timed */
#define GOAL_SAMPLED	1.10	/* --latency-sample SAMPLE */
#define GOAL_DATASET	1.10	/* each dataset workload, every fault timed */
#define GOAL_BPFTRACE	10.0	/* bpftrace's cost over ours */
#define SAMPLE		"64"
#define ROUNDS		7
#define REF_ROUNDS	1
#define DS_ROUNDS	5
#define DATASETS	"datasets/workloads"
#define MAX_ROUNDS	64
#define RUN_TRIES	3
#define WARM_BYTES	((1ULL << 30) + (256ULL << 20))
#define VIRTUOSO	"bin/virtuoso"
#define BT_SCRIPT	"bench/linux_probes.bt"
#define TRACEFS		"/sys/kernel/tracing"

static const char spec_text[] =
	"{\n"
	"  \"name\": \"bench-linux-touch-1g\",\n"
	"  \"description\": \"write-touch 1GiB at 4KiB, THP and every mTHP size off: "
	"262144 faults\",\n"
	"  \"seed\": 1,\n"
	"  \"kernel\": {\n"
	"    \"thp\": \"never\",\n"
	"    \"mthp\": {\"16KiB\": \"never\", \"32KiB\": \"never\", \"64KiB\": \"never\", "
	"\"128KiB\": \"never\", \"256KiB\": \"never\", \"512KiB\": \"never\", \"1MiB\": \"never\"}\n"
	"  },\n"
	"  \"regions\": [{\"name\": \"buf\", \"size\": \"1GiB\"}],\n"
	"  \"phases\": [{\"op\": \"touch\", \"region\": \"buf\", \"stride\": \"4KiB\", "
	"\"write\": true}]\n"
	"}\n";

/* One run's numbers, from linux.json or exec's JSON. */
struct result {
	double touch_ns;
	double work_ns;		/* every phase's runtime_ns but the waits' */
	double minflt;		/* linux.json: the workload's own count (getrusage) */
	double thp_faults;	/* linux.json, probed */
	double faults;		/* linux.json, probed: faults the probes saw */
	double emitted;		/* linux.json: probes.emitted */
	double dropped;		/* linux.json: dropped_events */
};

/* What one way of running the workload gave over its rounds. */
struct series {
	const char *name;
	double touch_ns[MAX_ROUNDS + 1];
	double events_ps[MAX_ROUNDS + 1];
	int n;
};

static volatile sig_atomic_t stopped;
static char tmp_dir[] = "/tmp/bench_linux.XXXXXX";
static bool have_tmp;

static void on_signal(int sig)
{
	stopped = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmp_dir, name);
	return buf;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) && errno != ENOENT ? -1 : 0;
}

static void rm_tmp(void)
{
	if (have_tmp)
		nftw(tmp_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	have_tmp = false;
}

/* The last line of a child's log, for an error message. */
static void print_log_tail(const char *log)
{
	char line[512], last[512] = "";
	FILE *f = fopen(log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '\n')
			memcpy(last, line, sizeof(last));
	fclose(f);
	if (last[0])
		fprintf(stderr, "  %s", last);
}

/*
 * Run argv in its own process group, stdout and stderr to 'log'. Returns
 * its exit status, or -1 if it could not start or we were interrupted (the
 * group then gets SIGTERM and is waited for).
 */
static int run(char *const argv[], const char *log)
{
	int status;
	pid_t pid;

	if (stopped)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		close(fd);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
		if (stopped)
			kill(-pid, SIGTERM);
	}
	if (stopped)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Touch and free a bit more than the workload, right before it runs. */
static void warm_up(void)
{
	volatile char *p = mmap(NULL, WARM_BYTES, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return;
	for (size_t off = 0; off < WARM_BYTES; off += 4096)
		p[off] = 1;
	munmap((void *)p, WARM_BYTES);
}

static double num(const cJSON *obj, const char *key)
{
	double v = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(obj, key));

	return isnan(v) ? 0 : v;
}

/* phases[0].runtime_ns and, from linux.json, the probes' accounting. */
static int read_result(const char *path, struct result *r)
{
	struct wl_error err;
	cJSON *ph;
	size_t len;
	char *text;
	cJSON *j;

	if (wj_read_file(path, &text, &len, &err)) {
		wl_error_print(&err, stderr);
		return -1;
	}
	j = cJSON_ParseWithLength(text, len);
	free(text);
	r->work_ns = 0;
	cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(j, "phases")) {
		const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ph, "op"));

		if (!op || (strcmp(op, "khugepaged_wait") && strcmp(op, "sleep")))
			r->work_ns += num(ph, "runtime_ns");
	}
	ph = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "phases"), 0);
	r->touch_ns = num(ph, "runtime_ns");
	r->minflt = num(ph, "minflt");
	r->thp_faults = num(ph, "thp_faults");
	r->faults = num(ph, "faults");
	r->emitted = num(cJSON_GetObjectItemCaseSensitive(j, "probes"), "emitted");
	r->dropped = num(j, "dropped_events");
	cJSON_Delete(j);
	if (r->touch_ns <= 0) {
		fprintf(stderr, "%s: phases[0].runtime_ns: expected a positive number\n", path);
		return -1;
	}
	return 0;
}

/*
 * One run of argv, which writes 'json'; retried when it fails, and when a
 * linux run took fewer 4 KiB faults than the workload needs (something
 * changed THP sysfs under it: only `virtuoso linux` runs share its lock).
 */
static int measure(const char *what, char *const argv[], const char *json, uint64_t faults,
		   struct result *r)
{
	char log[300];

	in_tmp(log, sizeof(log), "run.log");
	for (int t = 1; t <= RUN_TRIES; t++) {
		const char *again = t < RUN_TRIES ? ", trying again" : "";
		int status;

		unlink(json);
		warm_up();
		status = run(argv, log);
		if (stopped)
			return -1;
		if (status) {
			fprintf(stderr, "bench_linux: %s failed (status %d)%s\n", what, status, again);
			print_log_tail(log);
		} else if (read_result(json, r)) {
			return -1;
		} else if (faults && r->minflt && (r->minflt < (double)faults || r->thp_faults)) {
			fprintf(stderr, "bench_linux: %s took %.0f faults (%.0f THP), not %llu: "
				"THP settings changed under it?%s\n", what, r->minflt, r->thp_faults,
				(unsigned long long)faults, again);
		} else {
			return 0;
		}
		sleep(1);
	}
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS + 1];

	if (n <= 0)
		return NAN;
	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void add(struct series *s, const struct result *r)
{
	s->events_ps[s->n] = r->emitted / (r->touch_ns * 1e-9);
	s->touch_ns[s->n++] = r->touch_ns;
}

/* ---- ours: virtuoso linux, probes against --no-probes ------------------------ */

/* The ways `virtuoso linux` runs a workload here, alternated round by round. */
enum { OURS_BASE, OURS_TIMED, OURS_SAMPLED, OURS_FLOOR, OURS_NR };

static const char *const ours_dir[OURS_NR] = { "linux-base", "linux-probes", "linux-sample",
					       "linux-floor" };

/*
 * measure() with bpf/hookfloor.bpf.c's empty programs attached around it;
 * checks that they ran for every fault of the storm.
 */
static int measure_floor(const char *what, char *const argv[], const char *json, uint64_t faults,
			 struct result *r)
{
	struct hookfloor_bpf *f = hookfloor_bpf__open_and_load();
	int ret = -1;

	if (!f || hookfloor_bpf__attach(f)) {
		fprintf(stderr, "bench_linux: cannot load bpf/hookfloor.bpf.c: %s\n", strerror(errno));
		goto out;
	}
	if (measure(what, argv, json, faults, r))
		goto out;
	if (f->bss->faults < faults || f->bss->allocs < faults) {
		fprintf(stderr, "bench_linux: the floor's hooks ran %llu and %llu times, not %llu\n",
			(unsigned long long)f->bss->faults, (unsigned long long)f->bss->allocs,
			(unsigned long long)faults);
		goto out;
	}
	ret = 0;
out:
	hookfloor_bpf__destroy(f);
	return ret;
}

struct ours {
	struct series s[OURS_NR];	/* touch_ns: the measure (the touch, or a dataset's work) */
	double dropped, min_faults;
};

/*
 * 'rounds' rounds of the first 'ways' of OURS_* on 'spec', each round in a
 * rotated order so that no way always follows another. 'faults' > 0: the
 * 4 KiB faults a run must take (the fault storm), and the touch phase is
 * the measure; 0: a dataset, measured by its work (struct result).
 */
static int run_ours(const char *spec, int ways, int rounds, uint64_t faults, bool verbose,
		    struct ours *o)
{
	char dir[OURS_NR][300], json[OURS_NR][300];
	char *argv[OURS_NR][10] = {
		{ VIRTUOSO, "linux", (char *)spec, "-o", dir[0], "--no-probes", NULL },
		{ VIRTUOSO, "linux", (char *)spec, "-o", dir[1], "--no-probe-free",
		  "--no-probe-stats", NULL },
		{ VIRTUOSO, "linux", (char *)spec, "-o", dir[2], "--no-probe-free",
		  "--no-probe-stats", "--latency-sample", SAMPLE, NULL },
		{ VIRTUOSO, "linux", (char *)spec, "-o", dir[3], "--no-probes", NULL },
	};

	for (int k = 0; k < ways; k++) {
		char rel[64];

		in_tmp(dir[k], sizeof(dir[k]), ours_dir[k]);
		snprintf(rel, sizeof(rel), "%s/linux.json", ours_dir[k]);
		in_tmp(json[k], sizeof(json[k]), rel);
	}
	o->min_faults = (double)faults;
	for (int i = 0; i < rounds; i++) {
		struct result r[OURS_NR];

		for (int step = 0; step < ways; step++) {
			int k = (i + step) % ways;

			if ((k == OURS_FLOOR ? measure_floor : measure)(o->s[k].name, argv[k],
									 json[k], faults, &r[k]))
				return -1;
			if (!faults)
				r[k].touch_ns = r[k].work_ns;
		}
		for (int k = 0; k < ways; k++)
			add(&o->s[k], &r[k]);
		for (int k = OURS_TIMED; k < ways && k != OURS_FLOOR; k++) {
			o->dropped += r[k].dropped;
			if (faults && r[k].faults < o->min_faults)
				o->min_faults = r[k].faults;
		}
		if (!verbose)
			continue;
		printf("  round %2d: --no-probes %8.1f ms", i + 1, r[0].touch_ns / 1e6);
		for (int k = OURS_TIMED; k < ways; k++)
			printf("   %s %6.1f ms %5.3fx",
			       k == OURS_TIMED ? "probes" : k == OURS_SAMPLED ? "sampled" : "floor",
			       r[k].touch_ns / 1e6, r[k].touch_ns / r[0].touch_ns);
		printf("   %.0f dropped\n", r[1].dropped + (ways > 2 ? r[2].dropped : 0));
		fflush(stdout);
	}
	return 0;
}

static double ours_ratio(const struct ours *o, int k)
{
	return median(o->s[k].touch_ns, o->s[k].n) / median(o->s[OURS_BASE].touch_ns,
							     o->s[OURS_BASE].n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every dataset workload, probes (every fault timed) against --no-probes:
 * one line each. Returns how many missed the goal, or -1.
 */
static int run_datasets(int rounds)
{
	char *names[64];
	size_t n = 0;
	struct dirent *d;
	DIR *dir = opendir(DATASETS);
	int missed = 0;

	if (!dir) {
		fprintf(stderr, "bench_linux: " DATASETS ": %s\n", strerror(errno));
		return -1;
	}
	while ((d = readdir(dir)) && n < sizeof(names) / sizeof(names[0])) {
		size_t len = strlen(d->d_name);

		if (len > 5 && !strcmp(d->d_name + len - 5, ".json"))
			names[n++] = strdup(d->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	printf("\n%-28s %6s %14s %14s %9s  %s\n", "dataset (probes, every fault)", "runs",
	       "no-probes ms", "probes ms", "ratio", "goal");
	for (size_t i = 0; i < n && missed >= 0; i++) {
		struct ours o = { .s = { { .name = "--no-probes" }, { .name = names[i] } } };
		char spec[300];
		double ratio;

		snprintf(spec, sizeof(spec), DATASETS "/%s", names[i]);
		if (run_ours(spec, 2, rounds, 0, false, &o)) {
			missed = -1;
			break;
		}
		ratio = ours_ratio(&o, OURS_TIMED);
		printf("%-28.*s %6d %14.3f %14.3f %8.4fx  <= %.2fx: %s%s\n",
		       (int)(strlen(names[i]) - 5), names[i], o.s[1].n,
		       median(o.s[0].touch_ns, o.s[0].n) / 1e6,
		       median(o.s[1].touch_ns, o.s[1].n) / 1e6, ratio, GOAL_DATASET,
		       ratio <= GOAL_DATASET ? "met" : "GOAL MISSED",
		       o.dropped > 0 ? " (events dropped)" : "");
		fflush(stdout);
		missed += ratio > GOAL_DATASET || o.dropped > 0;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return missed;
}

/* ---- the reference: bpftrace around virtuoso exec ---------------------------- */

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
		if (n && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* bpftrace's "Lost N events" lines in its output. */
static double bt_lost(const char *out)
{
	char line[512];
	double lost = 0;
	unsigned long n;
	FILE *f = fopen(out, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Lost %lu events", &n) == 1)
			lost += (double)n;
	fclose(f);
	return lost;
}

struct ref {
	struct series exec, bt;
	double lost;
};

/* Undo what a killed run left (the host is held: main()'s lock). */
static int recover_host(const char *state_dir)
{
	struct wl_error err = { 0 };
	int restored = 0;

	if (thp_sysfs_recover(state_dir, WL_THP_SYSFS, &restored, &err)) {
		wl_error_print(&err, stderr);
		return -1;
	}
	if (restored)
		fprintf(stderr, "bench_linux: restored THP settings left by an interrupted run "
			"(pid %d)\n", restored);
	return 0;
}

static int run_ref(const char *spec, const struct wl_kernel *kernel, int rounds, struct ref *o)
{
	const char *state_dir = thp_sysfs_state_dir();
	char json[300], out[300], cmd[700];
	char *exec_argv[] = { VIRTUOSO, "exec", (char *)spec, "-o", json, NULL };
	char *bt_argv[] = { "bpftrace", "-o", out, "-c", cmd, BT_SCRIPT, NULL };
	struct wl_error err = { 0 };
	bool saved = false, mounted = false;
	int ret = -1;

	in_tmp(json, sizeof(json), "exec.json");
	in_tmp(out, sizeof(out), "bpftrace.out");
	snprintf(cmd, sizeof(cmd), "%s exec %s -o %s", VIRTUOSO, spec, json);

	if (access(TRACEFS "/events", F_OK)) {
		if (mount("nodev", TRACEFS, "tracefs", 0, NULL)) {
			fprintf(stderr, "bench_linux: " TRACEFS ": cannot mount tracefs: %s\n",
				strerror(errno));
			return -1;
		}
		mounted = true;
	}
	if (recover_host(state_dir))
		goto out;
	if (thp_sysfs_save(WL_THP_SYSFS, state_dir, &err))
		goto out;
	saved = true;
	if (thp_sysfs_apply(kernel, WL_THP_SYSFS, &err))
		goto out;

	/* exec, bpftrace, exec, bpftrace, ..., exec: every bpftrace run between two exec runs */
	for (int i = 0; i <= rounds; i++) {
		struct result r;

		if (measure(o->exec.name, exec_argv, json, 0, &r))
			goto out;
		add(&o->exec, &r);
		printf("  exec %8.1f ms\n", r.touch_ns / 1e6);
		fflush(stdout);
		if (i == rounds)
			break;
		if (measure(o->bt.name, bt_argv, json, 0, &r))
			goto out;
		add(&o->bt, &r);
		o->lost += bt_lost(out);
		printf("  bpftrace + exec %8.1f ms\n", r.touch_ns / 1e6);
		fflush(stdout);
	}
	ret = 0;
out:
	if (err.msg[0])
		wl_error_print(&err, stderr);
	if (saved) {
		struct wl_error rerr = { 0 };

		if (thp_sysfs_restore(state_dir, WL_THP_SYSFS, &rerr)) {
			wl_error_print(&rerr, stderr);
			ret = -1;
		}
	}
	if (mounted)
		umount2(TRACEFS, MNT_DETACH);
	return ret;
}

/* ---- the report ---------------------------------------------------------------- */

static void print_row(const struct series *s, uint64_t faults, const char *events,
		      double ratio, const char *goal)
{
	double ms = median(s->touch_ns, s->n) / 1e6;
	char r[16] = "-";

	if (!isnan(ratio))
		snprintf(r, sizeof(r), "%.3fx", ratio);
	printf("%-28s %6d %10.1f %12.1f %12s %9s  %s\n", s->name, s->n, ms,
	       (double)faults / ms, events, r, goal);
}

static int parse_rounds(const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || v < 1 || v > MAX_ROUNDS) {
		fprintf(stderr, "bench_linux: rounds: expected 1..%d, got \"%s\"\n", MAX_ROUNDS, arg);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: waitpid returns */
	struct ours ours = { .s = { { .name = "virtuoso linux --no-probes" },
				   { .name = "virtuoso linux (probes)" },
				   { .name = "  --latency-sample " SAMPLE },
				   { .name = "floor: 2 empty hooks" } } };
	struct ref ref = { .exec.name = "virtuoso exec", .bt.name = "bpftrace + virtuoso exec" };
	int rounds = ROUNDS, ref_rounds = REF_ROUNDS, ds_rounds = DS_ROUNDS, ret = 1, missed = 0;
	int lock_fd = -1, ds_missed = 0;
	double t0 = now_s(), timed, sampled, bt_ratio = NAN, bt_cost = NAN;
	bool bpftrace = in_path("bpftrace");
	struct wl_error err = { 0 };
	struct wl_spec s;
	uint64_t faults;
	char spec[300], events[32];
	FILE *f;

	if ((argc > 1 && parse_rounds(argv[1], &rounds)) ||
	    (argc > 2 && parse_rounds(argv[2], &ref_rounds)) ||
	    (argc > 3 && strcmp(argv[3], "0") && parse_rounds(argv[3], &ds_rounds)))
		return 1;
	if (argc > 3 && !strcmp(argv[3], "0"))
		ds_rounds = 0;
	if (geteuid() != 0) {
		printf("bench_linux: needs root, skipped\n");
		return 0;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		printf("bench_linux: needs root, skipped (no /sys/kernel/btf/vmlinux: no kernel BTF)\n");
		return 0;
	}
	if (access(VIRTUOSO, X_OK) || access(BT_SCRIPT, R_OK)) {
		fprintf(stderr, "bench_linux: run from the top of the tree after 'make': "
			"needs " VIRTUOSO " and " BT_SCRIPT "\n");
		return 1;
	}
	if (wl_spec_parse(&s, spec_text, sizeof(spec_text) - 1, "bench_linux spec", &err)) {
		wl_error_print(&err, stderr);
		return 1;
	}
	faults = wl_touch_steps(&s.phases[0]);

	/*
	 * The host for the whole benchmark, the test suites' and virtuoso's
	 * lock, passed down to the virtuoso linux runs it starts; waited for
	 * before the handlers, so that a SIGINT ends the wait.
	 */
	if (hostlock_take(thp_sysfs_state_dir(), "bench_linux", HOSTLOCK_FOREVER, stdout,
			  &lock_fd, &err) || hostlock_pass(lock_fd)) {
		fprintf(stderr, "bench_linux: ");
		if (lock_fd < 0)
			wl_error_print(&err, stderr);
		else
			fprintf(stderr, "cannot pass the host lock down: %s\n", strerror(errno));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!mkdtemp(tmp_dir)) {
		fprintf(stderr, "bench_linux: %s: %s\n", tmp_dir, strerror(errno));
		goto out;
	}
	have_tmp = true;
	f = fopen(in_tmp(spec, sizeof(spec), "spec.json"), "w");
	if (!f || fputs(spec_text, f) < 0 || fclose(f)) {
		fprintf(stderr, "bench_linux: %s: cannot write\n", spec);
		goto out;
	}

	printf("bench_linux: write-touch 1 GiB at 4 KiB, thp never: %llu faults a run\n",
	       (unsigned long long)faults);
	printf("ours: virtuoso linux, probes (every fault timed, and one in " SAMPLE "), and the "
	       "floor, vs --no-probes, %d round%s\n", rounds, rounds > 1 ? "s" : "");
	if (run_ours(spec, OURS_NR, rounds, faults, true, &ours))
		goto out;
	if (!bpftrace) {
		printf("bpftrace: not installed, reference skipped\n");
	} else {
		printf("reference: bpftrace + virtuoso exec, %d run%s, between %d runs of "
		       "virtuoso exec\n", ref_rounds, ref_rounds > 1 ? "s" : "", ref_rounds + 1);
		if (run_ref(spec, &s.kernel, ref_rounds, &ref))
			goto out;
		bt_ratio = median(ref.bt.touch_ns, ref.bt.n) / median(ref.exec.touch_ns, ref.exec.n);
	}
	timed = ours_ratio(&ours, OURS_TIMED);
	sampled = ours_ratio(&ours, OURS_SAMPLED);
	/* what each adds to the workload, bpftrace's over ours */
	if (bpftrace)
		bt_cost = (bt_ratio - 1) / (timed > 1 ? timed - 1 : 1e-9);

	printf("\n%-28s %6s %10s %12s %12s %9s  %s\n", "run", "runs", "touch ms",
	       "k faults/s", "M events/s", "ratio", "goal");
	print_row(&ours.s[OURS_BASE], faults, "-", NAN, "");
	for (int k = OURS_TIMED; k < OURS_FLOOR; k++) {
		double ratio = k == OURS_TIMED ? timed : sampled;
		double goal = k == OURS_TIMED ? GOAL_TIMED : GOAL_SAMPLED;
		char g[64];

		snprintf(events, sizeof(events), "%.3f",
			 median(ours.s[k].events_ps, ours.s[k].n) / 1e6);
		snprintf(g, sizeof(g), "<= %.2fx: %s", goal, ratio <= goal ? "met" : "GOAL MISSED");
		print_row(&ours.s[k], faults, events, ratio, g);
		if (ratio > goal)
			missed = 1;
	}
	print_row(&ours.s[OURS_FLOOR], faults, "-", ours_ratio(&ours, OURS_FLOOR),
		  "this host's least, for reference");
	if (bpftrace) {
		char g[96];

		snprintf(g, sizeof(g), "cost %.1fx ours (>= %.0fx): %s", bt_cost, GOAL_BPFTRACE,
			 bt_cost >= GOAL_BPFTRACE ? "met" : "GOAL MISSED");
		print_row(&ref.exec, faults, "-", NAN, "");
		print_row(&ref.bt, faults, "-", bt_ratio, g);
		if (!(bt_cost >= GOAL_BPFTRACE))
			missed = 1;
	}
	printf("\nprobed runs: %.0f events dropped, fewest faults seen %.0f of %llu\n",
	       ours.dropped, ours.min_faults, (unsigned long long)faults);
	if (bpftrace)
		printf("bpftrace: %.0f events lost\n", ref.lost);
	if (ours.dropped > 0 || ours.min_faults < (double)faults) {
		printf("bench_linux: GOAL MISSED: the probed runs lost events\n");
		missed = 1;
	}
	if (ds_rounds) {
		ds_missed = run_datasets(ds_rounds);
		if (ds_missed < 0)
			goto out;
	}
	if (ds_missed)
		printf("bench_linux: GOAL MISSED: %d dataset workload%s above %.2fx\n", ds_missed,
		       ds_missed > 1 ? "s" : "", GOAL_DATASET);
	printf("bench_linux: %s: every fault timed %.3fx (<= %.2fx), one in " SAMPLE " %.3fx "
	       "(<= %.2fx)%s\n", missed || ds_missed ? "goals missed" : "goals met", timed,
	       GOAL_TIMED, sampled, GOAL_SAMPLED, ds_rounds ? "" : ", datasets not run");
	printf("bench_linux: %.0f s\n", now_s() - t0);
	ret = 0;
out:
	rm_tmp();
	hostlock_release(lock_fd);
	wl_spec_release(&s);
	if (stopped) {
		fprintf(stderr, "bench_linux: interrupted by %s\n", strsignal(stopped));
		return 130;
	}
	return ret;
}
