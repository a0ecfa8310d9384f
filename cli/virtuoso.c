/*
 * virtuoso.c - entry point: dispatch to subcommands, as perf and bpftool do.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "workload/json.h"

#ifndef VIRTUOSO_VERSION
#define VIRTUOSO_VERSION "0.0.0"
#endif
#ifndef VIRTUOSO_GIT
#define VIRTUOSO_GIT "unknown"
#endif

int cli_verbose;
const char *const cli_version = VIRTUOSO_VERSION;
const char *const cli_git = VIRTUOSO_GIT;

const struct cli_cmd cli_cmds[] = {
	{ "check", "validate a workload spec and print it normalised as JSON",
	  "usage: virtuoso check [-o FILE] [--no-host] SPEC\n"
	  "\n"
	  "Validate SPEC (docs/workload-format.md) and print it normalised: sizes in\n"
	  "bytes, every default filled in. Kernel settings the spec leaves to the host\n"
	  "are read from THP sysfs and printed as the values in force.\n"
	  "\n"
	  "  -o, --out FILE   write the JSON to FILE instead of stdout\n"
	  "      --no-host    do not read the host's settings: leave them out\n"
	  "  -v, --verbose    say what was resolved from the host\n"
	  "  -h, --help       this text\n"
	  "\n"
	  "Exit status: 0 valid; 2 invalid, with one line naming the file and field.\n",
	  cmd_check },
	{ "gen", "print the operation stream a spec generates",
	  "usage: virtuoso gen [-o FILE] [--hash] [--phase N] [--limit N] [--thread T] SPEC\n"
	  "\n"
	  "Print the stream of operations the generator makes of SPEC, one JSON object\n"
	  "per line: the same stream the native executor and the simulator run.\n"
	  "\n"
	  "  -o, --out FILE   write to FILE instead of stdout\n"
	  "      --hash       print per phase the number of ops, accesses and an\n"
	  "                   FNV-1a hash of the ops instead of the ops themselves\n"
	  "      --phase N    only phase N (counting from 0)\n"
	  "      --limit N    stop after N ops\n"
	  "      --thread T   thread T's stream, of a spec with threads (default 0)\n"
	  "  -h, --help       this text\n",
	  cmd_gen },
	{ "exec", "run a workload natively on this host (no probes)",
	  "usage: virtuoso exec [-o FILE] SPEC\n"
	  "\n"
	  "Run SPEC on this host with the native executor: real mmap, madvise, mprotect,\n"
	  "munmap, loads and stores. Prints each region's address and each phase's wall\n"
	  "time as JSON. The spec's kernel block is not applied (virtuoso linux does\n"
	  "that, with probes): the host's current policy is used, and any difference is\n"
	  "reported on stderr.\n"
	  "\n"
	  "  -o, --out FILE   write the JSON to FILE instead of stdout\n"
	  "  -h, --help       this text\n"
	  "\n"
	  "Exit status: 0 ran; 2 bad spec; 1 a system call failed.\n",
	  cmd_exec },
	{ "linux", "run a workload on this Linux host under the probes",
	  "usage: virtuoso linux SPEC -o DIR [options]\n"
	  "       virtuoso linux -o DIR [options] -- COMMAND [ARGS...]\n"
	  "       virtuoso linux --list-events\n"
	  "\n"
	  "With -- COMMAND, record any command instead: its private anonymous\n"
	  "mappings (and heap) are the regions, its whole run one phase, under the\n"
	  "host's THP settings; its threads are followed, its children are not.\n"
	  "\n"
	  "Run SPEC on this host under eBPF probes and perf counters, with the spec's\n"
	  "kernel block applied to THP sysfs for the run (and restored after it, even\n"
	  "after SIGKILL: the next run restores first). Writes DIR/linux.json and the\n"
	  "event log DIR/events.vlog (virtuoso dump prints it). One run at a time:\n"
	  "while another holds the host (/run/virtuoso/lock), it says who and\n"
	  "waits. Needs root and kernel BTF; the workload itself runs unprivileged.\n"
	  "\n"
	  "  -o, --out DIR         where to write results (created if missing)\n"
	  "      --user NAME       run the workload as NAME (default nobody)\n"
	  "      --list-events     print the perf counters this host supports, and exit\n"
	  "      --backing M       backing-map method: auto (default), pagemap_scan,\n"
	  "                        kpageflags\n"
	  "      --ringbuf-size N  ring buffer bytes (default 8 MiB; drops are reported)\n"
	  "      --no-tp-btf       use tracepoint programs only (the fallback flavour)\n"
	  "      --no-probes       no probes, no counters: the overhead baseline\n"
	  "      --repeat N        run it N times (1..32): linux.json and events.vlog,\n"
	  "                        then linux-2.json, events-2.vlog, ... (Linux's spread,\n"
	  "                        which the comparison judges timing against)\n"
	  "      --prewarm         touch and free the workload's memory before it runs,\n"
	  "                        so a hypervisor has it backed (default in a guest)\n"
	  "      --no-prewarm      do not\n"
	  "      --no-probe-free   do not run the workload a second time without probes\n"
	  "                        (for each phase's probe_free_runtime_ns)\n"
	  "      --no-probe-stats  no BPF run-time statistics (probes.programs: what\n"
	  "                        each probe costs; they add to every probe's run)\n"
	  "      --latency-sample N  time one minor fault in N (default 1: every one);\n"
	  "                        every fault is still counted with its allocations\n"
	  "      --rss-stat        also record RSS changes (kmem:rss_stat; costs every\n"
	  "                        fault a probe run, and no comparison needs them)\n"
	  "      --zstd            compress the event log's records (for large logs;\n"
	  "                        every reader of the log reads it as it is)\n"
	  "      --wait-timeout S  wait at most S seconds for the host (default 600)\n"
	  "      --no-wait         do not wait for the host: exit 1 if another holds it\n"
	  "  -v, --verbose         more detail on stderr\n"
	  "  -h, --help            this text\n"
	  "\n"
	  "Exit status: 0 (also for a run that lost events: it is marked incomplete);\n"
	  "2 bad input; 3 this host cannot (not root, no BTF, BPF refused); 1 other\n"
	  "(the workload failed, interrupted, the host was not had in time).\n",
	  cmd_linux },
	{ "sim", "run a workload in the simulator with MimicOS",
	  "usage: virtuoso sim SPEC -o DIR [--functional] [--zstd]\n"
	  "                    [--config HW.json | --no-calibration]\n"
	  "       virtuoso sim --replay REC -o DIR [--thp always|madvise|never]\n"
	  "                    (a recording of virtuoso linux -- COMMAND, replayed in\n"
	  "                    MimicOS, untimed, under its THP mode or --thp's)\n"
	  "\n"
	  "Simulate SPEC with MimicOS answering every fault over its functional channel\n"
	  "and write DIR/sim.json and the event log DIR/sim-events.vlog. By default\n"
	  "every access is timed on one core (TLBs, page-walk caches and walker,\n"
	  "L1D/L2/LLC, DRAM, an interval core model; faults and system calls timed by\n"
	  "replaying the kernel's instruction stream: \"timing\": \"interval\").\n"
	  "--functional skips timing (\"timing\": \"none\", runtime_ns 0).\n"
	  "\n"
	  "Without --config, this host's calibration (calibrate/store.h: in\n"
	  "$VIRTUOSO_CALIBRATION_DIR, else /var/lib/virtuoso/calibration, under the\n"
	  "host's CPU, kernel and guest key) is used when one is stored for it, else\n"
	  "the uncalibrated reference model; stderr says which, and sim.json's\n"
	  "\"calibration_file\". One stored for another host is refused, with a warning.\n"
	  "\n"
	  "  -o, --out DIR         where to write results (created if missing)\n"
	  "      --functional      MimicOS only, no timing\n"
	  "  -c, --config HW.json  hardware and MimicOS configuration (simulator/\n"
	  "                        config.h: core, mmu, l1d, l2, llc, dram, mimicos;\n"
	  "                        defaults: datasets/configs/virtuoso-reference.json;\n"
	  "                        unknown keys are refused). mimicos.mem_bytes\n"
	  "                        defaults to this machine's RAM\n"
	  "      --no-calibration  the reference model, not this host's calibration\n"
	  "      --zstd            compress the event log's records (for large logs)\n"
	  "  -v, --verbose         more detail on stderr\n"
	  "  -h, --help            this text\n"
	  "\n"
	  "Exit status: 0; 2 bad input; 1 other.\n",
	  cmd_sim },
	{ "record", "record the Linux side of workloads as a portable reference bundle",
	  "usage: virtuoso record SPEC... -o DIR [--repeat N]\n"
	  "\n"
	  "Run each SPEC on this host under the probes N times (default 3) and keep the\n"
	  "runs as a reference bundle: DIR/manifest.json (the host's identity, the tool's\n"
	  "version and commit, the date, each workload's runs), and per workload\n"
	  "NAME/spec.json, NAME/linux.json, linux-2.json, ... and NAME/events.vlog.zst,\n"
	  "events-2.vlog.zst, ... (the event logs, zstd-compressed). Any machine can\n"
	  "read a bundle without root or BPF. DIR must not exist: the bundle is built\n"
	  "beside it and renamed to it once whole. Needs root and kernel BTF.\n"
	  "\n"
	  "  -o, --out DIR         the bundle (must not exist)\n"
	  "      --repeat N        Linux runs per workload (1..32, default 3)\n"
	  "      --wait-timeout S  wait at most S seconds for the host while another\n"
	  "                        run holds it (default 600)\n"
	  "      --no-wait         do not wait for the host: exit 1 if another holds it\n"
	  "  -v, --verbose         more detail on stderr\n"
	  "  -h, --help            this text\n"
	  "\n"
	  "Exit status: 0; 2 bad input; 3 this host cannot; 1 other.\n",
	  cmd_record },
	{ "run", "run on Linux and in the simulator, then compare",
	  "usage: virtuoso run SPEC -o DIR [--config HW.json | --no-calibration]\n"
	  "                    [--tolerances T.json] [--strict]\n"
	  "       virtuoso run -o DIR [options] -- COMMAND [ARGS...]\n"
	  "                    (a command recorded, replayed in MimicOS, compared)\n"
	  "\n"
	  "virtuoso linux (SPEC on this host under the probes), then virtuoso sim with\n"
	  "every region at the address Linux chose and the kernel settings Linux ran\n"
	  "with, then virtuoso compare. Writes linux.json, events.vlog, sim.json,\n"
	  "sim-events.vlog, summary.json, report.md and report.html in DIR, and prints\n"
	  "the verdict and where the report is. Needs root and kernel BTF.\n"
	  "\n"
	  "  -o, --out DIR            where to write results (created if missing)\n"
	  "  -c, --config HW.json     the simulator's configuration (as virtuoso sim;\n"
	  "                           without it, this host's stored calibration)\n"
	  "      --no-calibration     the reference model, not this host's calibration\n"
	  "      --tolerances T.json  per-metric tolerances over the defaults\n"
	  "                           (compare/tolerance.c): {\"faults\": {\"warn\": W,\n"
	  "                           \"fail\": F}, ...}\n"
	  "      --strict             exit 1 when the overall verdict is fail\n"
	  "      --repeat N           run the Linux side N times (1..32; make main uses\n"
	  "                           3): each metric is judged against the band of\n"
	  "                           Linux's runs (linux.json, linux-2.json, ...)\n"
	  "      --wait-timeout S     wait at most S seconds for the host while another\n"
	  "                           run holds it (default 600)\n"
	  "      --no-wait            do not wait for the host: exit 1 if another holds it\n"
	  "  -v, --verbose            more detail on stderr\n"
	  "  -h, --help               this text\n"
	  "\n"
	  "Two verdicts: functional (counts, backing, orders, collapses, flushes) and\n"
	  "timing (runtimes, fault latency by kind); the overall verdict is the worse.\n"
	  "\n"
	  "Exit status: 0 (any verdict, unless --strict); 2 bad input; 3 this host\n"
	  "cannot; 1 other.\n",
	  cmd_run },
	{ "validate", "compare the simulator with a recorded reference bundle (no root)",
	  "usage: virtuoso validate [--reference DIR] -o OUT [--config HW.json | --no-calibration]\n"
	  "                         [--baseline FILE [--update-baseline]] [--history FILE]\n"
	  "\n"
	  "Simulate every workload of a virtuoso record bundle at the addresses and with\n"
	  "the kernel settings Linux ran with, compare each with all of its recorded runs\n"
	  "(Linux's band), and write OUT/validation.json and OUT/validation.md: per\n"
	  "workload and metric the error and verdict, per timing metric over the suite\n"
	  "the MAPE, the largest and the aggregate error, Pearson's r and Kendall's tau,\n"
	  "per functional metric how many pass; each workload's runs, logs decompressed,\n"
	  "and its simulated side and comparison under OUT/NAME/. Needs neither root nor\n"
	  "BPF. The configuration: --config, else the bundle's calibration, else the\n"
	  "reference model; MimicOS is sized as the recorded host.\n"
	  "\n"
	  "With --baseline, the accuracy gate (compare/gate.h): the results held against\n"
	  "FILE (a functional metric that passed and fails, a timing error grown by more\n"
	  "than its tolerance, a workload or metric gone: each fails), what moved printed\n"
	  "as a table on stdout and in OUT/gate.json. With --update-baseline, FILE is\n"
	  "written from these results instead.\n"
	  "\n"
	  "For papers, also in OUT: validation.tex (a booktabs table), validation.csv,\n"
	  "figures/ (gnuplot, SVG and PDF: a scatter per timing metric, per-workload\n"
	  "errors, fault-latency CDFs by kind and their grid) and validation.html linking\n"
	  "them, each with its provenance (reports/validation.h). --history FILE appends\n"
	  "this run's suite statistics to FILE as a JSON line and plots FILE's lines.\n"
	  "\n"
	  "      --reference DIR   the bundle (docs/references.md; default: the one shipped\n"
	  "                        for this host, datasets/reference/HOST-KEY)\n"
	  "  -o, --out OUT         where to write (created if missing)\n"
	  "  -c, --config HW.json  the simulator's configuration (as virtuoso sim)\n"
	  "      --no-calibration  the reference model, not the bundle's calibration\n"
	  "      --baseline FILE   hold the results against FILE (the accuracy gate)\n"
	  "      --update-baseline write FILE from the results\n"
	  "      --history FILE    append the suite's statistics to FILE, plot them all\n"
	  "  -v, --verbose         more detail on stderr\n"
	  "  -h, --help            this text\n"
	  "\n"
	  "Exit status: 0; 1 the gate failed, or another failure; 2 bad input (a bundle\n"
	  "or baseline file and field, named).\n",
	  cmd_validate },
	{ "sweep", "run a grid of simulations on a local pool, resumably, into one table",
	  "usage: virtuoso sweep SWEEP.json -o DIR [--local J | --slurm [--throttle T]\n"
	  "                      [--detach]] [--plot STAT]\n"
	  "       virtuoso sweep --status DIR\n"
	  "       virtuoso sweep --collect DIR [--plot STAT]\n"
	  "\n"
	  "Run every point of SWEEP (its workloads times its axes' values:\n"
	  "docs/sweeps.md) that is not done yet, J processes at a time, each in\n"
	  "DIR/points/ID (ID: a hash of its inputs and the tool's version), then write\n"
	  "DIR/results.csv and results.jsonl: a row per point, its axes and its key\n"
	  "statistics. Running it again skips what is done, redoes what was\n"
	  "interrupted and retries failures (\"retries\" times).\n"
	  "\n"
	  "  -o, --out DIR      the sweep's directory (created; one sweep per directory)\n"
	  "      --local J      J processes at a time (default 1)\n"
	  "      --slurm        the points left as one Slurm job array (sbatch), waited for\n"
	  "      --throttle T   at most T of its tasks at once (--array=...%T)\n"
	  "      --detach       submit and return: --status and --collect follow it\n"
	  "      --status DIR   points done, failed (with their errors) and pending\n"
	  "      --collect DIR  write the table of what is done, run nothing\n"
	  "      --plot STAT    and DIR/plot-STAT.svg: STAT along the first axis, a line\n"
	  "                     per value of the second (gnuplot)\n"
	  "  -h, --help         this text\n"
	  "\n"
	  "Exit status: 0 every point done; 1 some failed; 2 a bad sweep file, one line\n"
	  "naming the file and the field.\n",
	  cmd_sweep },
	{ "compare", "compare DIR/linux.json with DIR/sim.json",
	  "usage: virtuoso compare DIR [--tolerances T.json] [--strict]\n"
	  "\n"
	  "Compare the two sides saved in DIR (linux.json and sim.json, with their\n"
	  "event logs when present): per mechanism and region, the divergence of the\n"
	  "simulated world from Linux, each metric's tolerance and verdict (pass,\n"
	  "warn, fail, n/a). Writes summary.json, report.md and report.html in DIR\n"
	  "(whole or not at all) and prints the verdict.\n"
	  "\n"
	  "      --tolerances T.json  per-metric tolerances over the defaults\n"
	  "      --strict             exit 1 when the overall verdict is fail\n"
	  "  -v, --verbose            more detail on stderr\n"
	  "  -h, --help               this text\n"
	  "\n"
	  "Exit status: 0 (any verdict, unless --strict); 2 a side is missing,\n"
	  "truncated or mismatched (different workloads, versions or regions), or a\n"
	  "bad tolerances file; 1 other.\n",
	  cmd_compare },
	{ "hwinfo", "print this host's TLB and cache geometry as a simulator configuration",
	  "usage: virtuoso hwinfo [-o FILE] [--sysfs DIR] [--measurements FILE] [-v]\n"
	  "\n"
	  "Read this host's data-TLB geometry from CPUID (AMD: leaves 0x80000005,\n"
	  "0x80000006, 0x80000019; Intel: leaf 0x18, else leaf 0x2's descriptors), its\n"
	  "caches from sysfs (else CPUID 0x8000001D or 4) and its clock, and print the\n"
	  "simulator configuration (simulator/config.h) that describes it: the defaults\n"
	  "with the host's geometry, sets rounded to powers of two keeping capacity,\n"
	  "the LLC one CPU's share of the L3 (the L3 over the CPUs sharing it), nested\n"
	  "paging on 4 KiB host pages when the host is a guest. Latencies, page-walk\n"
	  "caches, walkers and DRAM keep the defaults (no CPUID reports them) unless\n"
	  "--measurements gives them. The \"notes\" say what was derived.\n"
	  "datasets/configs/host.json is this command's output.\n"
	  "\n"
	  "  -o, --out FILE   write the JSON to FILE instead of stdout\n"
	  "      --sysfs DIR  read the caches from DIR instead of\n"
	  "                   /sys/devices/system/cpu/cpu0/cache\n"
	  "      --measurements FILE\n"
	  "                   measurements.json of virtuoso calibrate --measure: the\n"
	  "                   clock becomes core.freq_mhz, the line chase's plateaus\n"
	  "                   the L1D, L2 and LLC hit latencies and the DRAM latency\n"
	  "                   in cycles of that clock (simulator/hwinfo.h)\n"
	  "  -v, --verbose    print what was read, and from where, on stderr\n"
	  "  -h, --help       this text\n"
	  "\n"
	  "Exit status: 0; 2 bad arguments or measurements file; 3 no CPUID (not\n"
	  "x86); 1 other.\n",
	  cmd_hwinfo },
	{ "calibrate", "measure this host and fit the cost model to it",
	  "usage: virtuoso calibrate -o DIR [--quick] [--repeat N] [--config BASE.json] [--no-store]\n"
	  "       virtuoso calibrate --measure -o DIR [--quick] [--repeat N] [--no-latency] [-v]\n"
	  "       virtuoso calibrate --from MEASUREMENTS.json -o DIR [--config BASE.json] [--no-store]\n"
	  "\n"
	  "Without --measure or --from: measure, then fit, then store the result as\n"
	  "this host's calibration (calibrate/store.h), which virtuoso sim and run use\n"
	  "when no --config is given.\n"
	  "\n"
	  "--measure: run the calibration microbenchmarks natively on this host and write\n"
	  "DIR/measurements.json (whole or not at all; schema in calibrate/README.md):\n"
	  "the effective clock (a dependent-add chain), pointer chases at line and at\n"
	  "page granularity (MADV_NOHUGEPAGE and MADV_HUGEPAGE), memset and memcpy\n"
	  "bandwidth, the native executor's cost per access by pattern, and the wall\n"
	  "time per fault of each kind on cold and warm memory, with the host's\n"
	  "identity. Each measurement is repeated after discarded warm-up runs and\n"
	  "kept as median, min, max and spread. Kernel settings are not changed: a\n"
	  "fault kind the host's THP settings do not allow is skipped, and the file\n"
	  "says why. Holds the host (as virtuoso linux does) while it measures.\n"
	  "Then, as root with BTF, the kernel's in-window fault latency per fault kind:\n"
	  "each kind's microbenchmark spec run N times on Linux under the probes\n"
	  "(DIR/latency/KIND/; these runs set the THP settings their specs name and\n"
	  "restore them) and its faults classified as virtuoso compare does.\n"
	  "\n"
	  "With --from, fit the simulator to a measurements file instead (deterministic,\n"
	  "unprivileged; calibrate/fit.h): DIR/calibrated.json, a whole configuration\n"
	  "for virtuoso sim --config, and DIR/calibration.json, every parameter with\n"
	  "its unit, bounds, method (measured, least squares, search) and residual.\n"
	  "\n"
	  "      --measure        run the measurements\n"
	  "      --from FILE      fit to FILE (a measurements.json) instead\n"
	  "      --config BASE    the configuration fitted (default: the reference\n"
	  "                       system's; a virtuoso hwinfo preset of this host is better)\n"
	  "      --no-store       do not store the fit as this host's calibration (a fit\n"
	  "                       of another host's measurements never is)\n"
	  "  -o, --out DIR        where measurements.json goes (made if missing)\n"
	  "      --quick          smaller sizes, 3 runs: well under a minute\n"
	  "      --repeat N       runs kept per measurement, 1 to 100 (default 5)\n"
	  "      --no-latency     skip the fault latencies under the probes\n"
	  "  -v, --verbose        more detail on stderr\n"
	  "  -h, --help           this text\n"
	  "\n"
	  "Progress, with an estimate of the time left, goes to stderr, then a summary.\n"
	  "\n"
	  "Exit status: 0; 2 bad arguments or a malformed file (the field named); 1 other.\n",
	  cmd_calibrate },
	{ "dump", "print the event log virtuoso linux wrote, as JSON lines or CSV",
	  "usage: virtuoso dump [-o FILE] [--csv] LOG\n"
	  "\n"
	  "Check LOG (DIR/events.vlog, format in workload/evlog.h: size, checksum,\n"
	  "metadata) and print it. JSON (the default): the metadata as the first line,\n"
	  "{\"meta\": {...}}, then one object per record: ts, tid, type, phase (null\n"
	  "outside the phases) and the type's fields by name; a fault also gets write\n"
	  "(error_code bit 1) and region (the metadata region holding addr, or null);\n"
	  "status_name and reason_name come from the metadata's kernel names.\n"
	  "\n"
	  "  -o, --out FILE   write to FILE instead of stdout (whole or not at all)\n"
	  "      --csv        one header line and one row per record instead; every row\n"
	  "                   has every column, empty where a field does not apply; a\n"
	  "                   fault's second allocation is in the alloc1_* columns\n"
	  "  -v, --verbose    say how many records were printed\n"
	  "  -h, --help       this text\n"
	  "\n"
	  "Exit status: 0; 2 LOG is missing, truncated, corrupted or not a log (one line\n"
	  "naming the file and the header field, nothing written); 1 other.\n",
	  cmd_dump },
	{ NULL, NULL, NULL, NULL },
};

const struct cli_cmd *cli_find(const char *name)
{
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "virtuoso %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'virtuoso %s --help')\n", cmd->name);
	return EXIT_BAD_INPUT;
}

int cli_parse(int argc, char **argv, const struct cli_cmd *cmd, const char *shortopts,
	      const struct option *longopts, int (*own)(int c, void *ctx), void *ctx,
	      const char *what, struct cli_args *a)
{
	int first, n, ret = cli_parse_many(argc, argv, cmd, shortopts, longopts, own, ctx, a,
					   &first, &n);

	if (ret >= 0)
		return ret;
	if (n != 1)
		return cli_usage_error(cmd, "expected one %s", what);
	a->arg = argv[first];
	return -1;
}

int cli_parse_many(int argc, char **argv, const struct cli_cmd *cmd, const char *shortopts,
		   const struct option *longopts, int (*own)(int c, void *ctx), void *ctx,
		   struct cli_args *a, int *first, int *n)
{
	int c, ret;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(cmd->usage, stdout);
			return EXIT_OK;
		case 'v':
			cli_verbose++;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'c':
			a->config = optarg;
			break;
		case '?':
		case ':':
			if (optopt)
				return cli_usage_error(cmd, "option -%c: unknown, or missing its value",
						       optopt);
			return cli_usage_error(cmd, "option %s: unknown, or missing its value",
					       argv[optind - 1]);
		default:
			ret = own ? own(c, ctx) : EXIT_BAD_INPUT;
			if (ret)
				return ret;
		}
	}
	*first = optind;
	*n = argc - optind;
	return -1;
}

void cli_remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4400];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (!lstat(p, &st) && S_ISDIR(st.st_mode))
			cli_remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void cli_progress_init(struct cli_progress *p, const char *name)
{
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->tty = isatty(STDERR_FILENO);
	p->total = 0;
	p->name = name;
}

void cli_progress_show(void *ctx, unsigned done, unsigned total, const char *what)
{
	struct cli_progress *p = ctx;
	struct timespec now;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
	p->total = total;
	if (done && done < total)
		fprintf(stderr, "%svirtuoso %s: [%u/%u] %s, %.0f s elapsed, ETA %.0f s%s",
			p->tty ? "\r\033[K" : "", p->name, done + 1, total, what, t,
			t / done * (total - done), p->tty ? "" : "\n");
	else if (done < total)
		fprintf(stderr, "%svirtuoso %s: [%u/%u] %s%s", p->tty ? "\r\033[K" : "", p->name,
			done + 1, total, what, p->tty ? "" : "\n");
	else
		fprintf(stderr, "%svirtuoso %s: %u steps in %.1f s\n", p->tty ? "\r\033[K" : "",
			p->name, total, t);
}

int cli_load_spec(const char *path, struct wl_spec *s)
{
	struct wl_error err;

	if (wl_spec_load(s, path, &err)) {
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	return EXIT_OK;
}

int cli_load_runnable_spec(const char *path, struct wl_spec *s, bool threads_ok)
{
	int ret = cli_load_spec(path, s);

	if (ret || s->threads <= 1 || threads_ok)
		return ret;
	fprintf(stderr, "%s: threads: %u: this command takes one thread (virtuoso sim, run, "
		"exec and linux run more)\n", path, s->threads);
	wl_spec_release(s);
	return EXIT_BAD_INPUT;
}

int cli_check_out_dir(const char *name, const char *dir, size_t room)
{
	char q[WJ_QUOTED_LEN];
	struct stat st;
	size_t len = strlen(dir);

	errno = 0;
	wj_quote(q, sizeof(q), dir);
	if (len + 1 + CLI_OUT_NAME_MAX >= room) {
		fprintf(stderr, "virtuoso %s: --out: %s: too long: %zu bytes, at most %zu\n", name, q,
			len, room - 2 - CLI_OUT_NAME_MAX);
		return EXIT_BAD_INPUT;
	}
	if (!stat(dir, &st) ? !S_ISDIR(st.st_mode) : errno == ENOTDIR) {
		fprintf(stderr, "virtuoso %s: --out: %s: not a directory\n", name, q);
		return EXIT_BAD_INPUT;
	}
	if (errno == ENAMETOOLONG) {	/* stat failed: a name in it is longer than NAME_MAX */
		fprintf(stderr, "virtuoso %s: --out: %s: %s\n", name, q, strerror(errno));
		return EXIT_BAD_INPUT;
	}
	return EXIT_OK;
}

int cli_out_open(struct cli_out *o, const char *path)
{
	char q[WJ_QUOTED_LEN];
	struct stat st;
	int fd;

	o->path = path;
	o->tmp[0] = '\0';
	o->direct = false;
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		return EXIT_OK;
	}
	/*
	 * A device or a pipe (-o /dev/null, -o /dev/stdout) is written in
	 * place: renaming a file over it would replace it.
	 */
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		o->f = fopen(path, "w");
		if (!o->f) {
			fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
			return EXIT_FAIL;
		}
		o->direct = true;
		return EXIT_OK;
	}
	if ((size_t)snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path) >= sizeof(o->tmp)) {
		fprintf(stderr, "%s: cannot write: the path is too long (%zu bytes, at most %zu)\n",
			wj_quote(q, sizeof(q), path), strlen(path), sizeof(o->tmp) - 12);
		o->tmp[0] = '\0';
		return EXIT_BAD_INPUT;
	}
	fd = mkstemp(o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * Why writing f failed, or 0: a failed flush's errno, else the error the
 * stream kept (its errno is gone by now: EIO).
 */
static int write_error(FILE *f)
{
	int e = 0;

	errno = 0;
	if (fflush(f))
		e = errno ? errno : EIO;
	else if (ferror(f))
		e = EIO;
	return e;
}

int cli_out_close(struct cli_out *o, bool ok)
{
	int e = write_error(o->f);

	if (e) {
		/* a write failed (a full disk: ENOSPC; a file size limit: EFBIG): say where */
		if (o->tmp[0] || o->direct)
			fprintf(stderr, "%s: cannot write: %s\n", o->path, strerror(e));
		else
			fprintf(stderr, "virtuoso: cannot write to stdout: %s\n", strerror(e));
		ok = false;
	}
	if (o->direct) {
		if (fclose(o->f) && ok) {
			fprintf(stderr, "%s: cannot write: %s\n", o->path, strerror(errno));
			return EXIT_FAIL;
		}
		return ok ? EXIT_OK : EXIT_FAIL;
	}
	if (!o->tmp[0])
		return ok ? EXIT_OK : EXIT_FAIL;
	if (fclose(o->f) && ok) {
		fprintf(stderr, "%s: cannot write: %s\n", o->path, strerror(errno));
		ok = false;
	}
	if (ok && (chmod(o->tmp, 0644) || rename(o->tmp, o->path))) {
		fprintf(stderr, "%s: cannot write: %s\n", o->path, strerror(errno));
		ok = false;
	}
	if (!ok)
		unlink(o->tmp);
	return ok ? EXIT_OK : EXIT_FAIL;
}

int cli_load_json_object(const char *path, cJSON **root, struct wl_error *err)
{
	return wj_load_object(path, root, err);
}

int cli_write_json(const char *path, cJSON *json)
{
	struct cli_out o;
	char *text = wj_print(json);
	bool ok;
	int ret;

	cJSON_Delete(json);
	if (!text) {
		fprintf(stderr, "virtuoso: out of memory\n");
		return EXIT_FAIL;
	}
	if ((ret = cli_out_open(&o, path))) {
		free(text);
		return ret;
	}
	ok = fputs(text, o.f) >= 0;
	free(text);
	return cli_out_close(&o, ok);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: virtuoso [--version] [--help] <command> [<args>]\n\n"
		"Virtuoso, checked against Linux: a userspace imitation of Linux memory\n"
		"management (MimicOS) and a memory-system simulator, validated against the\n"
		"real kernel with eBPF probes.\n\n"
		"Commands:\n");
	for (const struct cli_cmd *c = cli_cmds; c->name; c++)
		fprintf(to, "  %-9s %s\n", c->name, c->summary);
	fprintf(to, "\nSee 'virtuoso <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			cmd = cli_find(argv[2]);
			if (cmd) {
				fputs(cmd->usage, stdout);
				return EXIT_OK;
			}
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("virtuoso %s (%s), workload format %d\n", VIRTUOSO_VERSION, VIRTUOSO_GIT,
		       WL_SPEC_VERSION);
		return EXIT_OK;
	}
	cmd = cli_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "virtuoso: '%s' is not a command (see 'virtuoso --help')\n", argv[1]);
		return EXIT_BAD_INPUT;
	}
	return cmd->fn(argc - 1, argv + 1);
}

/* Whether execvp() would find 'prog': a path that is executable, or a name on PATH. */
bool cli_command_found(const char *prog)
{
	const char *path = getenv("PATH"), *p;
	char buf[4096];

	if (strchr(prog, '/'))
		return !access(prog, X_OK);
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", prog) <
		    (int)sizeof(buf) && !access(buf, X_OK))
			return true;
		p += n + (e != NULL);
		if (!e)
			break;
	}
	return false;
}

int cli_parse_command(int argc, char **argv, int dashdash, const struct cli_cmd *cmd,
		      const char *shortopts, const struct option *longopts,
		      int (*own)(int c, void *ctx), void *ctx, struct cli_args *a)
{
	int first, n, ret = cli_parse_many(dashdash, argv, cmd, shortopts, longopts, own, ctx, a,
					   &first, &n);

	if (ret >= 0)
		return ret;
	if (n)
		return cli_usage_error(cmd, "a SPEC and a command: expected one of them");
	if (dashdash + 1 >= argc)
		return cli_usage_error(cmd, "expected a command after --");
	if (!a->out)
		return cli_usage_error(cmd, "expected --out DIR");
	if (!cli_command_found(argv[dashdash + 1])) {
		fprintf(stderr, "virtuoso %s: %s: command not found\n", cmd->name,
			argv[dashdash + 1]);
		return EXIT_BAD_INPUT;
	}
	return -1;
}
