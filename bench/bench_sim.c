/*
 * bench_sim.c - how fast the simulator simulates.
 *
 * Goals, on one core of this machine: >= 5 M simulated accesses per second
 * for `uniform` over 1 GiB with 4 KiB pages (TLB-miss heavy) and >= 30 M for
 * `sequential`, with the full timing model; >= 50 M in --functional mode.
 *
 * Each rate counts the access phase alone: runs with the access phase and
 * without (the same touch, the same faults) are timed, and the rate is
 * accesses / (difference of the fastest of each). The machine is the
 * default configuration (simulator/config.h, the reference system's),
 * MimicOS in-process.
 *
 * Reference points, side by side: valgrind's cachegrind on the same uniform
 * loop (a native program doing the same loads over 1 GiB), when valgrind is
 * installed: its loads per second, measured the same way. Each goal is
 * shown both absolute and relative to cachegrind (the issue quotes 3.9 M/s
 * for it on its machine; this VM's speed varies with other tenants).
 * ChampSim is not installed here (the issue quotes about 56 thousand
 * instructions per second for it).
 *
 * The whole command (issue 17), as a user waits for it: bin/virtuoso sim
 * run end to end (start-up, MimicOS sized as this machine, the event log
 * written and read back, sim.json), the fastest of three: a 1 GiB write
 * touch at 4 KiB (262,144 faults), functional (goal >= 2 M faults/s) and
 * timed (>= 1 M faults/s); the touch then 20 M uniform accesses (>= 6 M
 * accesses/s over the whole command); start-up and teardown, a one-page
 * touch on a machine of this host's RAM (<= 50 ms, fastest of five); and
 * the timed uniform access phase alone against the 8 M/s and 2.8x
 * cachegrind.
 *
 * Prints the rates, the ratio of each to its goal, and exits 0 (a bench
 * reports; it does not fail), 1 on an internal error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "simulator/config.h"
#include "simulator/driver.h"

#define GIB (1ULL << 30)

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *const kernel_block =
	"\"kernel\": {\"thp\": \"never\", \"defrag\": \"madvise\", \"use_zero_page\": true, "
	"\"mthp\": {\"16KiB\": \"never\", \"32KiB\": \"never\", \"64KiB\": \"never\", "
	"\"128KiB\": \"never\", \"256KiB\": \"never\", \"512KiB\": \"never\", \"1MiB\": \"never\"}}";

/* Wall seconds of one run of a 1 GiB touch, then (count > 0) one access phase. */
static double run_once(const char *pattern, uint64_t count, bool timed)
{
	struct sim_config cfg;
	struct timing_config tc;
	struct driver_opts o;
	struct driver_run run;
	struct wl_error err = { 0 };
	struct wl_spec spec;
	char text[1024], access[256] = "";
	double t0, t1;

	if (count)
		snprintf(access, sizeof(access), ", {\"op\": \"access\", \"region\": \"buf\", "
			 "\"pattern\": \"%s\", \"count\": %" PRIu64 "%s}", pattern, count,
			 strcmp(pattern, "sequential") ? "" : ", \"stride\": \"8B\"");
	snprintf(text, sizeof(text), "{\"name\": \"bench\", \"seed\": 1, %s, "
		 "\"regions\": [{\"name\": \"buf\", \"size\": \"1GiB\"}], "
		 "\"phases\": [{\"op\": \"touch\", \"region\": \"buf\"}%s]}", kernel_block, access);
	if (wl_spec_parse(&spec, text, strlen(text), "bench.json", &err)) {
		fprintf(stderr, "bench_sim: %s: %s\n", err.path, err.msg);
		exit(1);
	}
	sim_config_init(&cfg);
	sim_config_timing(&cfg, &tc);
	driver_opts_init(&o);
	o.mem_bytes = 4 * GIB;
	o.mimicos = &cfg.mimicos;
	o.timing = timed ? &tc : NULL;
	t0 = now_s();
	if (driver_run(&run, &spec, &o, &err)) {
		fprintf(stderr, "bench_sim: %s: %s\n", err.path, err.msg);
		exit(1);
	}
	t1 = now_s();
	driver_release(&run);
	wl_spec_release(&spec);
	return t1 - t0;
}

/*
 * Accesses per second of the access phase alone: the fastest of 'rounds'
 * runs with it minus the fastest without (the VM's noise only ever adds
 * time, so the minimum is the best estimate of each).
 */
static double rate(const char *pattern, uint64_t count, bool timed, int rounds)
{
	double base = 1e30, full = 1e30;

	for (int i = 0; i < rounds; i++) {
		double b = run_once(pattern, 0, timed), f = run_once(pattern, count, timed);

		if (b < base)
			base = b;
		if (f < full)
			full = f;
	}
	return full > base ? (double)count / (full - base) : 0;
}

/* Wall seconds of cachegrind running the native uniform loop with 'count' loads, or 0. */
static double cachegrind_once(uint64_t count)
{
	char src[] = "/tmp/bench-cg-XXXXXX", cmd[512], exe[64];
	FILE *f;
	int fd, ok;
	double t0, t1;

	fd = mkstemp(src);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "w");
	fprintf(f, "#include <stdlib.h>\n#include <stdint.h>\n#include <sys/mman.h>\n"
		"int main(void){ size_t n = 1UL << 30; volatile char *p = mmap(0, n, 3, 0x22, -1, 0);\n"
		"uint64_t x = 88172645463325252ULL, s = 0;\n"
		"for (size_t i = 0; i < n; i += 4096) p[i] = 1;\n"
		"for (uint64_t i = 0; i < %" PRIu64 "ULL; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17;\n"
		"  s += p[(x %% n) & ~7UL]; }\n return (int)(s & 1); }\n", count);
	fclose(f);
	snprintf(exe, sizeof(exe), "%s.bin", src);
	snprintf(cmd, sizeof(cmd), "cc -O2 -x c -o %s %s 2>/dev/null", exe, src);
	ok = system(cmd) == 0;
	unlink(src);
	if (!ok)
		return 0;
	snprintf(cmd, sizeof(cmd), "valgrind --tool=cachegrind --cache-sim=yes "
		 "--cachegrind-out-file=/dev/null %s >/dev/null 2>&1", exe);
	t0 = now_s();
	ok = system(cmd) == 0;
	t1 = now_s();
	unlink(exe);
	return ok ? t1 - t0 : 0;
}

/*
 * cachegrind on a native loop of the same uniform loads over 1 GiB: loads
 * per second of the loop alone (the fastest run with 'count' loads minus the
 * fastest with none: start-up and the 1 GiB touch cancel), or 0 when
 * valgrind is not installed.
 */
static double cachegrind_rate(uint64_t count, int rounds)
{
	double base = 1e30, full = 1e30;

	if (system("command -v valgrind >/dev/null 2>&1") != 0)
		return 0;
	for (int i = 0; i < rounds; i++) {
		double b = cachegrind_once(0), f = cachegrind_once(count);

		if (!b || !f)
			return 0;
		if (b < base)
			base = b;
		if (f < full)
			full = f;
	}
	return full > base ? (double)count / (full - base) : 0;
}

/*
 * The issue states its goals on a machine where cachegrind ran this loop at
 * about 3.9 M loads/s. This VM's speed varies (other tenants), so each goal
 * is also shown relative to cachegrind measured in the same run: the goal's
 * ratio to 3.9 M/s against ours to the cachegrind rate measured here.
 */
#define CACHEGRIND_REF	3.9e6

static void line(const char *what, double r, double goal, double cg)
{
	printf("%-44s %8.2f M accesses/s   goal %5.1f M/s: %-6s (%.2fx)", what, r / 1e6, goal / 1e6,
	       r >= goal ? "met" : "missed", r / goal);
	if (cg > 0)
		printf("   vs cachegrind %.2fx, goal %.2fx: %s", r / cg, goal / CACHEGRIND_REF,
		       r / cg >= goal / CACHEGRIND_REF ? "met" : "missed");
	printf("\n");
}

/* Wall seconds of `bin/virtuoso sim SPEC -o DIR [--functional]`, the fastest of 'rounds'. */
static double command_s(const char *spec_text, bool timed, int rounds)
{
	char spec[] = "/tmp/bench-e2e-XXXXXX", dir[64], cmd[512];
	double best = 1e30;
	FILE *f;
	int fd = mkstemp(spec);

	if (fd < 0 || !(f = fdopen(fd, "w")))
		exit(1);
	fputs(spec_text, f);
	fclose(f);
	for (int i = 0; i < rounds; i++) {
		double t0, t;

		snprintf(dir, sizeof(dir), "%s.out", spec);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			exit(1);
		snprintf(cmd, sizeof(cmd), "bin/virtuoso sim %s -o %s --no-calibration %s "
			 ">/dev/null 2>&1", spec, dir, timed ? "" : "--functional");
		t0 = now_s();
		if (system(cmd)) {
			fprintf(stderr, "bench_sim: %s failed\n", cmd);
			exit(1);
		}
		t = now_s() - t0;
		best = t < best ? t : best;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s.out", spec);
	if (system(cmd))
		exit(1);
	unlink(spec);
	return best;
}

static void rate_line(const char *what, double r, const char *unit, double goal)
{
	printf("%-44s %8.2f M %-12s goal %5.1f M/s: %-6s (%.2fx)\n", what, r / 1e6, unit,
	       goal / 1e6, r >= goal ? "met" : "missed", r / goal);
}

int main(void)
{
	double uni, seq, fun, cg, ef, et, eu, es;
	double t0 = now_s();
	char spec[1024];

	uni = rate("uniform", 10000000, true, 3);
	seq = rate("sequential", 100000000, true, 3);
	fun = rate("uniform", 200000000, false, 3);
	cg = cachegrind_rate(10000000, 3);
	snprintf(spec, sizeof(spec), "{\"name\": \"bench-e2e\", \"seed\": 1, %s, \"regions\": "
		 "[{\"name\": \"buf\", \"size\": \"1GiB\"}], \"phases\": [{\"op\": \"touch\", "
		 "\"region\": \"buf\", \"write\": true}]}", kernel_block);
	ef = (double)(GIB >> 12) / command_s(spec, false, 3);
	et = (double)(GIB >> 12) / command_s(spec, true, 3);
	snprintf(spec, sizeof(spec), "{\"name\": \"bench-e2e\", \"seed\": 1, %s, \"regions\": "
		 "[{\"name\": \"buf\", \"size\": \"1GiB\"}], \"phases\": [{\"op\": \"touch\", "
		 "\"region\": \"buf\"}, {\"op\": \"access\", \"region\": \"buf\", \"pattern\": "
		 "\"uniform\", \"count\": 20000000}]}", kernel_block);
	eu = 20e6 / command_s(spec, true, 3);
	/* start-up and teardown: one 4 KiB page, a machine of this host's RAM */
	snprintf(spec, sizeof(spec), "{\"name\": \"bench-e2e\", \"seed\": 1, %s, \"regions\": "
		 "[{\"name\": \"buf\", \"size\": \"4KiB\"}], \"phases\": [{\"op\": \"touch\", "
		 "\"region\": \"buf\"}]}", kernel_block);
	es = command_s(spec, true, 5);

	printf("bench_sim: one core, default configuration (reference MMU, 4 KiB pages, 1 GiB); "
	       "the access phase alone, fastest of 3\n");
	if (cg > 0)
		printf("%-44s %8.2f M loads/s      (the issue's machine: %.1f M/s; caches only, "
		       "no TLBs)\n", "cachegrind, the same uniform loop", cg / 1e6,
		       CACHEGRIND_REF / 1e6);
	else
		printf("cachegrind: not installed, goals shown in absolute terms only\n");
	line("timed, uniform over 1 GiB (TLB-miss heavy)", uni, 5e6, cg);
	line("timed, sequential 8-byte stride", seq, 30e6, cg);
	line("functional, uniform over 1 GiB", fun, 50e6, cg);
	printf("ChampSim: not installed (the issue's reference: about 56 thousand instructions/s)\n");
	printf("bench_sim: the whole command (bin/virtuoso sim end to end, fastest of 3, issue 17)\n");
	rate_line("functional, 1 GiB write touch at 4 KiB", ef, "faults/s", 2e6);
	rate_line("timed, 1 GiB write touch at 4 KiB", et, "faults/s", 1e6);
	rate_line("timed, touch + 20 M uniform, whole command", eu, "accesses/s", 6e6);
	printf("%-44s %8.1f ms                goal  50 ms: %s (%.2fx)\n",
	       "start-up and teardown (4 KiB, this RAM)", es * 1e3, es <= 0.05 ? "met" : "missed",
	       es / 0.05);
	line("timed, uniform access phase alone (issue 17)", uni, 8e6, 0);
	if (cg > 0)
		printf("%-44s %8.2fx cachegrind           goal %.1fx: %s\n",
		       "timed, uniform access phase alone (issue 17)", uni / cg, 2.8,
		       uni / cg >= 2.8 ? "met" : "missed");
	printf("bench_sim: %.0f s\n", now_s() - t0);
	return 0;
}
