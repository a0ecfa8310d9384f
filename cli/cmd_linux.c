/*
 * cmd_linux.c - virtuoso linux: run a workload on this host under the probes
 * (linux-probes/runner.h) and write DIR/linux.json and DIR/events.vlog.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "workload/json.h"
#include "linux-probes/counters.h"
#include "linux-probes/hostlock.h"
#include "linux-probes/runner.h"
#include "linux-probes/thp_sysfs.h"

struct linux_args {
	struct runner_opts ro;
	bool list_events;
	unsigned repeat;
	int wait_s;
};

enum { OPT_USER = 256, OPT_RINGBUF, OPT_NO_TP_BTF, OPT_NO_PROBES, OPT_BACKING, OPT_LIST,
       OPT_REPEAT, OPT_PREWARM, OPT_NO_PREWARM, OPT_NO_PROBE_FREE, OPT_NO_PROBE_STATS,
       OPT_LATENCY_SAMPLE, OPT_RSS_STAT, OPT_ZSTD };

static int own_option(int c, void *ctx)
{
	struct linux_args *la = ctx;
	char *end;

	switch (c) {
	case OPT_USER:
		la->ro.user = optarg;
		return 0;
	case OPT_RINGBUF:
		la->ro.ringbuf_bytes = strtoull(optarg, &end, 10);
		if (*end || !la->ro.ringbuf_bytes) {
			fprintf(stderr, "virtuoso linux: --ringbuf-size: expected a number of bytes, "
				"got \"%s\"\n", optarg);
			return EXIT_BAD_INPUT;
		}
		return 0;
	case OPT_NO_TP_BTF:
		la->ro.no_tp_btf = true;
		return 0;
	case OPT_NO_PROBES:
		la->ro.no_probes = true;
		return 0;
	case OPT_REPEAT:
		return cli_parse_repeat("linux", optarg, &la->repeat);
	case OPT_PREWARM:
		la->ro.prewarm = RUNNER_PREWARM_ON;
		return 0;
	case OPT_NO_PREWARM:
		la->ro.prewarm = RUNNER_PREWARM_OFF;
		return 0;
	case OPT_NO_PROBE_FREE:
		la->ro.no_probe_free = true;
		return 0;
	case OPT_NO_PROBE_STATS:
		la->ro.no_probe_stats = true;
		return 0;
	case OPT_LATENCY_SAMPLE: {
		unsigned long n;

		errno = 0;
		n = strtoul(optarg, &end, 10);
		if (errno || end == optarg || *end || optarg[0] == '-' || !n || n > 1000000) {
			fprintf(stderr, "virtuoso linux: --latency-sample: expected 1..1000000, "
				"got \"%s\"\n", optarg);
			return EXIT_BAD_INPUT;
		}
		la->ro.latency_sample = (unsigned)n;
		return 0;
	}
	case OPT_RSS_STAT:
		la->ro.rss_stat = true;
		return 0;
	case OPT_ZSTD:
		la->ro.log_zstd = CLI_LOG_ZSTD_LEVEL;
		return 0;
	case CLI_OPT_WAIT_TIMEOUT:
	case CLI_OPT_NO_WAIT:
		return cli_parse_wait("linux", c, optarg, &la->wait_s);
	case OPT_BACKING:
		if (!strcmp(optarg, "auto"))
			la->ro.backing = BACKING_AUTO;
		else if (!strcmp(optarg, "pagemap_scan"))
			la->ro.backing = BACKING_PAGEMAP_SCAN;
		else if (!strcmp(optarg, "kpageflags"))
			la->ro.backing = BACKING_KPAGEFLAGS;
		else {
			fprintf(stderr, "virtuoso linux: --backing: expected auto, pagemap_scan or "
				"kpageflags, got \"%s\"\n", optarg);
			return EXIT_BAD_INPUT;
		}
		return 0;
	}
	return EXIT_BAD_INPUT;
}

/* -v: what the kernel did, per region, read back from DIR/linux.json. */
static void print_summary(const char *dir)
{
	struct wl_error err;
	struct wj_ctx c = { .err = &err };
	char path[4096], *text;
	size_t len;
	cJSON *root, *r;

	snprintf(path, sizeof(path), "%s/linux.json", dir);
	c.file = path;
	if (wj_read_file(path, &text, &len, &err))
		return;
	root = wj_parse(&c, text, len);
	free(text);
	if (!root)
		return;
	fprintf(stderr, "%-12s %10s %10s %8s %8s %8s %8s %12s\n", "region", "faults", "thp_faults",
		"none", "zero", "pte", "pmd", "p50 fault ns");
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(root, "regions")) {
		cJSON *pg = cJSON_GetObjectItem(r, "pages"), *lat = cJSON_GetObjectItem(r, "fault_latency_ns");

		fprintf(stderr, "%-12s %10.0f %10.0f %8.0f %8.0f %8.0f %8.0f %12.0f\n", r->string,
			cJSON_GetNumberValue(cJSON_GetObjectItem(r, "faults")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(r, "thp_faults")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(pg, "none")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(pg, "zero")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(pg, "pte")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(pg, "pmd")),
			cJSON_GetNumberValue(cJSON_GetObjectItem(lat, "p50")));
	}
	fprintf(stderr, "runtime %.3f ms, %.0f events, %.0f dropped\n",
		cJSON_GetNumberValue(cJSON_GetObjectItem(root, "runtime_ns")) / 1e6,
		cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "probes"), "received")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(root, "dropped_events")));
	cJSON_Delete(root);
}

int cli_check_linux_host(const char *name)
{
	if (geteuid() != 0) {
		fprintf(stderr, "virtuoso %s: needs root to load BPF programs and set THP policy "
			"(running as uid %u)\n", name, (unsigned)geteuid());
		return EXIT_HOST;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "virtuoso %s: this kernel has no BTF (/sys/kernel/btf/vmlinux), "
			"which the CO-RE probes need\n", name);
		return EXIT_HOST;
	}
	return EXIT_OK;
}

/* The files of run k (k > 1) in dir: linux-k.json and events-k.vlog. */
static void run_paths(const char *dir, unsigned k, char *json, char *log, size_t len)
{
	snprintf(json, len, "%s/linux-%u.json", dir, k);
	snprintf(log, len, "%s/events-%u.vlog", dir, k);
}

int cli_parse_wait(const char *name, int c, const char *arg, int *wait_s)
{
	char *end;
	long n;

	if (c == CLI_OPT_NO_WAIT) {
		*wait_s = HOSTLOCK_NO_WAIT;
		return 0;
	}
	errno = 0;
	n = strtol(arg, &end, 10);
	if (!arg[0] || *end || n < 0 || n > 86400 * 365 || errno) {
		fprintf(stderr, "virtuoso %s: --wait-timeout: expected whole seconds (0: do not "
			"wait), got \"%.40s\"\n", name, arg);
		return EXIT_BAD_INPUT;
	}
	*wait_s = (int)n;
	return 0;
}

/* cli_linux_runs() with the host held. */
static int linux_runs(const char *name, struct runner_opts *ro, unsigned repeat, bool *incomplete)
{
	char json[4096], log[4096];
	struct wl_error err = { 0 };

	if (!repeat)
		repeat = 1;
	*incomplete = false;
	/* a longer earlier measurement must not lend this one its runs */
	for (unsigned k = repeat + 1;; k++) {
		run_paths(ro->out_dir, k, json, log, sizeof(json));
		if (access(json, F_OK) && access(log, F_OK))
			break;
		if ((unlink(json) && errno != ENOENT) || (unlink(log) && errno != ENOENT)) {
			fprintf(stderr, "virtuoso %s: %s: cannot remove a run of an earlier "
				"measurement: %s\n", name, json, strerror(errno));
			return EXIT_FAIL;
		}
	}
	for (unsigned k = 1; k <= repeat; k++) {
		bool inc = false;
		int ret;

		if (cli_verbose && repeat > 1)
			fprintf(stderr, "virtuoso %s: Linux run %u of %u\n", name, k, repeat);
		ro->run = k;
		ret = (int)runner_run(ro, &inc, &err);
		if (ret) {
			fprintf(stderr, "virtuoso %s: ", name);
			if (repeat > 1)
				fprintf(stderr, "run %u of %u: ", k, repeat);
			wl_error_print(&err, stderr);
			/* the runs before it stand alone: nothing of a half measurement stays */
			for (unsigned j = 2; j < k; j++) {
				run_paths(ro->out_dir, j, json, log, sizeof(json));
				unlink(json);
				unlink(log);
			}
			return ret;
		}
		*incomplete |= inc;
	}
	return EXIT_OK;
}

int cli_linux_runs(const char *name, struct runner_opts *ro, unsigned repeat, int wait_s,
		   bool *incomplete)
{
	char who[32];
	struct wl_error err = { 0 };
	int lock_fd, ret;

	snprintf(who, sizeof(who), "virtuoso %s", name);
	if (hostlock_take(ro->state_dir ? ro->state_dir : thp_sysfs_state_dir(), who, wait_s,
			  stderr, &lock_fd, &err)) {
		fprintf(stderr, "%s: ", who);
		wl_error_print(&err, stderr);
		return EXIT_FAIL;
	}
	ret = linux_runs(name, ro, repeat, incomplete);
	hostlock_release(lock_fd);
	return ret;
}


int cmd_linux(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "user", required_argument, NULL, OPT_USER },
		{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF },
		{ "no-tp-btf", no_argument, NULL, OPT_NO_TP_BTF },
		{ "no-probes", no_argument, NULL, OPT_NO_PROBES },
		{ "backing", required_argument, NULL, OPT_BACKING },
		{ "list-events", no_argument, NULL, OPT_LIST },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ "prewarm", no_argument, NULL, OPT_PREWARM },
		{ "no-prewarm", no_argument, NULL, OPT_NO_PREWARM },
		{ "no-probe-free", no_argument, NULL, OPT_NO_PROBE_FREE },
		{ "no-probe-stats", no_argument, NULL, OPT_NO_PROBE_STATS },
		{ "latency-sample", required_argument, NULL, OPT_LATENCY_SAMPLE },
		{ "rss-stat", no_argument, NULL, OPT_RSS_STAT },
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "wait-timeout", required_argument, NULL, CLI_OPT_WAIT_TIMEOUT },
		{ "no-wait", no_argument, NULL, CLI_OPT_NO_WAIT },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("linux");
	struct linux_args la = { .ro = { .tool_version = cli_version },
				 .wait_s = HOSTLOCK_WAIT_DEFAULT_S };
	struct cli_args a;
	struct wl_spec s;
	bool incomplete;
	int ret, dashdash = 0;

	/* --list-events takes no SPEC */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--list-events"))
			return counters_list(stdout) ? EXIT_FAIL : EXIT_OK;

	/* -- COMMAND [ARGS...]: a command instead of a spec */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dashdash = i;
			break;
		}
	if (dashdash) {
		ret = cli_parse_command(argc, argv, dashdash, cmd, "o:vh", longopts, own_option, &la,
					&a);
		if (ret >= 0)
			return ret;
		if ((ret = cli_check_out_dir("linux", a.out, 4096)) ||
		    (ret = cli_check_linux_host("linux")))
			return ret;
		la.ro.command = argv + dashdash + 1;
		la.ro.spec_path = argv[dashdash + 1];
		la.ro.out_dir = a.out;
		ret = cli_linux_runs("linux", &la.ro, la.repeat, la.wait_s, &incomplete);
		if (!ret && cli_verbose)
			fprintf(stderr, "virtuoso linux: wrote %s/linux.json and %s/events.vlog\n",
				a.out, a.out);
		return ret;
	}
	ret = cli_parse(argc, argv, cmd, "o:vh", longopts, own_option, &la, "SPEC file", &a);
	if (ret >= 0)
		return ret;
	if (!a.out)
		return cli_usage_error(cmd, "expected --out DIR");
	if ((ret = cli_load_spec(a.arg, &s)))
		return ret;
	if ((ret = cli_check_out_dir("linux", a.out, 4096)) ||
	    (ret = cli_check_linux_host("linux"))) {
		wl_spec_release(&s);
		return ret;
	}
	la.ro.spec = &s;
	la.ro.spec_path = a.arg;
	la.ro.out_dir = a.out;
	ret = cli_linux_runs("linux", &la.ro, la.repeat, la.wait_s, &incomplete);
	wl_spec_release(&s);
	if (ret)
		return ret;
	if (cli_verbose)
		print_summary(a.out);
	if (cli_verbose)
		fprintf(stderr, "virtuoso linux: wrote %s/linux.json and %s/events.vlog%s\n", a.out,
			a.out, incomplete ? " (incomplete)" : "");
	return EXIT_OK;
}
