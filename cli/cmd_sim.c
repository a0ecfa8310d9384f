/*
 * cmd_sim.c - virtuoso sim: a workload through MimicOS, DIR/sim.json.
 *
 * The workload's stream drives MimicOS through the channel
 * (simulator/driver.h). By default every access is timed on one core
 * (simulator/timing.h: MMU, caches, DRAM, the interval core model, faults
 * and system calls timed with the kernel's instruction stream: "timing":
 * "interval"); --functional skips timing ("timing": "none").
 *
 * The --config file is one JSON object, simulator/config.h's: "core",
 * "mmu", "l1d", "l2", "llc", "dram" (the hardware; defaults: the reference
 * system's, datasets/configs/virtuoso-reference.json) and "mimicos"
 * (MimicOS's configuration, mimicos/channel.h: "mode" in-process or
 * out-of-process, "mem_bytes" (default here: this machine's RAM), "policy",
 * "thp": {"modules": {...}}, "cost", ...; the workload's kernel block
 * replaces its THP settings), and "calibration" ({"host", "date", "source"}:
 * the calibration that produced the file; absent: uncalibrated). Unknown
 * keys are refused, naming the key. The effective configuration is written
 * into sim.json under "config", with "calibrated" (whether "calibration"
 * was given) beside it.
 *
 * Without --config, this host's stored calibration (calibrate/store.h) is
 * the configuration when there is one whose identity is this host's; else
 * the reference model. stderr says which, and sim.json's
 * "calibration_file" names the file the calibration came from (null when
 * uncalibrated). --no-calibration skips the store.
 */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "calibrate/store.h"
#include "cli/cli.h"
#include "simulator/config.h"
#include "simulator/driver.h"
#include "workload/evlog.h"
#include "workload/json.h"

enum { OPT_FUNCTIONAL = 256, OPT_ZSTD, OPT_REPLAY, OPT_THP };

/* The longest path MimicOS takes for its event log: DIR/sim-events.vlog must fit. */
#define SIM_PATH_ROOM sizeof(((struct channel_config *)0)->events_path)

int cli_sim_check_out_dir(const char *name, const char *dir)
{
	return cli_check_out_dir(name, dir, SIM_PATH_ROOM);
}

struct sim_args {
	bool functional;
	bool no_calibration;
	bool zstd;
	const char *replay;
	const char *thp;	/* --thp: the replay's THP mode instead of the recording's */
};

static int own_option(int c, void *ctx)
{
	struct sim_args *sa = ctx;

	if (c == OPT_FUNCTIONAL)
		sa->functional = true;
	else if (c == CLI_OPT_NO_CALIBRATION)
		sa->no_calibration = true;
	else if (c == OPT_ZSTD)
		sa->zstd = true;
	else if (c == OPT_REPLAY)
		sa->replay = optarg;
	else if (c == OPT_THP)
		sa->thp = optarg;
	else
		return EXIT_BAD_INPUT;
	return 0;
}

/*
 * The config over sim_config_init()'s defaults. *mem_bytes: its
 * mimicos.mem_bytes when given, else 0 (the host's RAM).
 */
int cli_sim_read_config(const char *path, struct sim_config *cfg, uint64_t *mem_bytes)
{
	struct wl_error err;
	const cJSON *m;
	cJSON *root;
	int ret = -1;

	sim_config_init(cfg);
	*mem_bytes = 0;
	if (cli_load_json_object(path, &root, &err))
		goto out;
	if (sim_config_from_json(cfg, root, path, &err))
		goto out_root;
	m = cJSON_GetObjectItemCaseSensitive(root, "mimicos");
	if (m && cJSON_GetObjectItemCaseSensitive(m, "mem_bytes"))
		*mem_bytes = cfg->mimicos.mem_bytes;
	ret = 0;
out_root:
	cJSON_Delete(root);
out:
	if (ret)
		wl_error_print(&err, stderr);
	return ret ? EXIT_BAD_INPUT : EXIT_OK;
}

int cli_sim_config(const char *name, const char *config, bool no_calibration,
		   struct sim_config *cfg, uint64_t *mem_bytes, struct cli_sim_model *m)
{
	struct wl_error err = { 0 };
	struct cal_stored *st;
	size_t n = 0;
	int ret;

	m->file[0] = m->note[0] = '\0';
	if (config && no_calibration) {
		fprintf(stderr, "virtuoso %s: --config and --no-calibration: give one, "
			"the configuration or the reference model\n", name);
		return EXIT_BAD_INPUT;
	}
	if (config) {
		if ((ret = cli_sim_read_config(config, cfg, mem_bytes)))
			return ret;
		if (cfg->calibration.given)
			snprintf(m->file, sizeof(m->file), "%s", config);
		return EXIT_OK;
	}
	sim_config_init(cfg);
	*mem_bytes = 0;
	if (no_calibration) {
		snprintf(m->note, sizeof(m->note), "virtuoso %s: --no-calibration: the uncalibrated "
			 "reference model\n", name);
		return EXIT_OK;
	}
	st = malloc(sizeof(*st));
	if (!st) {
		fprintf(stderr, "virtuoso %s: out of memory\n", name);
		return EXIT_FAIL;
	}
	if (calibrate_store_find(st, &err)) {
		/* the store read it whole: an error here is a store changed since */
		if ((ret = cli_sim_read_config(st->path, cfg, mem_bytes))) {
			free(st);
			return ret;
		}
		snprintf(m->file, sizeof(m->file), "%s", st->path);
		snprintf(m->note, sizeof(m->note), "virtuoso %s: using this host's calibration: "
			 "%.600s (calibrated %s from %s)\n", name, st->path, cfg->calibration.date,
			 cfg->calibration.source);
		free(st);
		return EXIT_OK;
	}
	if (st->refused)
		n = (size_t)snprintf(m->note, sizeof(m->note), "virtuoso %s: warning: a stored "
				     "calibration is not applied: %.200s: %s%s%.300s\n", name,
				     err.file, err.path, err.path[0] ? ": " : "", err.msg);
	else if (st->other[0])
		n = (size_t)snprintf(m->note, sizeof(m->note), "virtuoso %s: warning: the "
				     "calibration store %.200s holds one for another host (%s), "
				     "not for this one (%s): not applied\n", name,
				     calibrate_store_root(), st->other, st->key);
	if (n < sizeof(m->note))
		snprintf(m->note + n, sizeof(m->note) - n, "virtuoso %s: no calibration for this "
			 "host (%s): the uncalibrated reference model (virtuoso calibrate -o DIR "
			 "makes one)\n", name, st->key);
	free(st);
	return EXIT_OK;
}

static int sim_write(const char *name, const struct wl_spec *s, const char *dir, uint64_t mem_bytes,
		     struct sim_config *cfg, const struct cli_sim_model *m, bool timed,
		     const uint64_t *region_start, const struct wl_kernel *given,
		     const char *replay_log);

int cli_sim_write(const char *name, const struct wl_spec *s, const char *dir, uint64_t mem_bytes,
		  struct sim_config *cfg, const struct cli_sim_model *m, bool timed,
		  const uint64_t *region_start, const struct wl_kernel *given)
{
	return sim_write(name, s, dir, mem_bytes, cfg, m, timed, region_start, given, NULL);
}

/* cli_sim_write(), or (replay_log given) driver_replay() of that recording's log. */
static int sim_write(const char *name, const struct wl_spec *s, const char *dir, uint64_t mem_bytes,
		     struct sim_config *cfg, const struct cli_sim_model *m, bool timed,
		     const uint64_t *region_start, const struct wl_kernel *given,
		     const char *replay_log)
{
	struct driver_opts o;
	struct driver_run run;
	struct wl_error err = { 0 };
	struct wl_kernel host = given ? *given : s->kernel;
	char path[4096], log_path[SIM_PATH_ROOM];
	struct timing_config tc;
	bool created;
	cJSON *json;
	int ret;

	/* Settings left to the host: this host's THP sysfs, or it cannot run. */
	if (wl_kernel_resolve(&host, WL_THP_SYSFS, &err)) {
		fprintf(stderr, "virtuoso %s: the spec leaves kernel settings to the host, "
			"which cannot give them: ", name);
		wl_error_print(&err, stderr);
		return EXIT_HOST;
	}
	driver_opts_init(&o);
	o.host = &host;
	o.region_start = region_start;
	o.mem_bytes = mem_bytes;
	o.mimicos = &cfg->mimicos;
	if (timed) {
		sim_config_timing(cfg, &tc);
		o.timing = &tc;
	}
	if ((ret = cli_sim_check_out_dir(name, dir)))
		return ret;
	created = !mkdir(dir, 0755);
	if (!created && errno != EEXIST) {
		/* an --out that cannot be a directory is bad input, as for virtuoso linux */
		fprintf(stderr, "virtuoso %s: --out: %s: cannot create the output directory: %s\n",
			name, dir, strerror(errno));
		return EXIT_BAD_INPUT;
	}
	if (m)			/* which model: said once nothing can fail in one line */
		fputs(m->note, stderr);
	/* cli_sim_check_out_dir() made sure these fit */
	snprintf(log_path, sizeof(log_path), "%s/" EVLOG_SIM_NAME, dir);
	o.events_path = log_path;
	if (replay_log ? driver_replay(&run, s, replay_log, &o, &err) : driver_run(&run, s, &o, &err)) {
		fprintf(stderr, "virtuoso %s: ", name);
		wl_error_print(&err, stderr);
		driver_release(&run);
		if (created)		/* nothing half-written: the log is gone already */
			rmdir(dir);
		return EXIT_FAIL;
	}
	json = driver_to_json(&run);
	if (json) {
		/* the whole effective configuration: the hardware's and MimicOS's */
		cfg->mimicos = run.mimicos;
		cJSON_DeleteItemFromObject(json, "config");
		cJSON_AddBoolToObject(json, "calibrated", cfg->calibration.given);
		if (m && m->file[0])
			cJSON_AddStringToObject(json, "calibration_file", m->file);
		else
			cJSON_AddNullToObject(json, "calibration_file");
		cJSON_AddItemToObject(json, "config", sim_config_to_json(cfg));
		cJSON_AddStringToObject(json, "tool", cli_version);
	}
	if (!json) {
		driver_release(&run);
		fprintf(stderr, "virtuoso %s: out of memory\n", name);
		unlink(log_path);
		if (created)
			rmdir(dir);
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s/sim.json", dir);
	ret = cli_write_json(path, json);
	if (ret) {
		unlink(log_path);
		if (created)
			rmdir(dir);
	}
	if (!ret && !run.complete)
		fprintf(stderr, "virtuoso %s: %s is incomplete: %s%s\n", name, path, run.reasons[0],
			run.nr_reasons > 1 ? " (and more: see incomplete_reasons)" : "");
	else if (!ret && cli_verbose)
		fprintf(stderr, "virtuoso %s: wrote %s\n", name, path);
	driver_release(&run);
	return ret;
}

/* One line naming the file and the field; EXIT_BAD_INPUT. */
static int rec_bad(const char *file, const char *field, const char *what)
{
	fprintf(stderr, "virtuoso sim: %s: %s: %s\n", file, field, what);
	return EXIT_BAD_INPUT;
}

void cli_recording_release(struct cli_recording *r)
{
	wl_spec_release(&r->spec);
	free(r->start);
	memset(r, 0, sizeof(*r));
}

int cli_recording_load(const char *dir, struct cli_recording *r)
{
	struct wl_error err = { 0 };
	const cJSON *o, *reg, *t;
	char *path = NULL;
	cJSON *root = NULL;
	size_t n = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	if (asprintf(&path, "%s/linux.json", dir) < 0)
		return EXIT_FAIL;
	snprintf(r->json_path, sizeof(r->json_path), "%s", path);
	if (wj_load_object(path, &root, &err)) {
		free(path);
		fprintf(stderr, "virtuoso sim: ");
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	free(path);
	path = r->json_path;
	ret = EXIT_BAD_INPUT;
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "command"))) {
		rec_bad(path, "command", "missing: not a recording of a command "
			"(virtuoso linux -o DIR -- COMMAND makes one)");
		goto out;
	}
	o = cJSON_GetObjectItemCaseSensitive(root, "tool");
	if (!cJSON_IsString(o) || strcmp(o->valuestring, cli_version)) {
		fprintf(stderr, "virtuoso sim: %s: tool: recorded by virtuoso %s, this is %s: record "
			"it again\n", path, cJSON_IsString(o) ? o->valuestring : "(none)",
			cli_version);
		goto out;
	}
	o = cJSON_GetObjectItemCaseSensitive(root, "workload");
	reg = cJSON_GetObjectItemCaseSensitive(root, "regions");
	if (!cJSON_IsString(o)) {
		rec_bad(path, "workload", "expected the command's name");
		goto out;
	}
	if (!cJSON_IsObject(reg)) {
		rec_bad(path, "regions", "expected an object of regions");
		goto out;
	}
	r->spec.version = 1;
	r->spec.threads = 1;
	wl_kernel_init(&r->spec.kernel);
	r->spec.name = strdup(o->valuestring);
	r->spec.file = strdup(path);
	r->spec.phases = calloc(1, sizeof(*r->spec.phases));
	r->spec.nr_phases = 1;
	r->spec.regions = calloc((size_t)cJSON_GetArraySize(reg) + 1, sizeof(*r->spec.regions));
	r->start = calloc((size_t)cJSON_GetArraySize(reg) + 1, sizeof(*r->start));
	if (!r->spec.name || !r->spec.file || !r->spec.phases || !r->spec.regions || !r->start) {
		ret = EXIT_FAIL;
		goto out;
	}
	r->spec.phases[0] = (struct wl_phase){ .op = WL_PH_COMMAND, .thread_mask = 1 };
	cJSON_ArrayForEach(t, reg) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(t, "start");
		const cJSON *sz = cJSON_GetObjectItemCaseSensitive(t, "size");
		char field[160];

		snprintf(field, sizeof(field), "regions.%.100s", t->string);
		if (!cJSON_IsNumber(st) || !cJSON_IsNumber(sz) || st->valuedouble < 0 ||
		    sz->valuedouble < 0 || fmod(sz->valuedouble, 4096)) {
			rec_bad(path, field, "expected a start and a size in pages");
			goto out;
		}
		r->spec.regions[n].name = strdup(t->string);
		if (!r->spec.regions[n].name) {
			ret = EXIT_FAIL;
			goto out;
		}
		r->spec.regions[n].size = (uint64_t)sz->valuedouble;
		r->start[n] = (uint64_t)st->valuedouble;
		r->spec.nr_regions = ++n;
	}
	o = cJSON_GetObjectItemCaseSensitive(root, "kernel");
	if (!o || wl_kernel_from_json(&r->kernel, o, path, &err)) {
		if (!o)
			rec_bad(path, "kernel", "missing");
		else {
			fprintf(stderr, "virtuoso sim: ");
			wl_error_print(&err, stderr);
		}
		goto out;
	}
	o = cJSON_GetObjectItemCaseSensitive(root, "events_log");
	snprintf(r->log_path, sizeof(r->log_path), "%s/%s", dir,
		 cJSON_IsString(o) && !strchr(o->valuestring, '/') ? o->valuestring : EVLOG_NAME);
	/* its log whole, now: a truncated recording is named before anything runs */
	{
		struct evlog_reader lr;

		if (evlog_open(&lr, r->log_path, &err)) {
			fprintf(stderr, "virtuoso sim: ");
			wl_error_print(&err, stderr);
			goto out;
		}
		evlog_close(&lr);
	}
	ret = EXIT_OK;
out:
	cJSON_Delete(root);
	if (ret)
		cli_recording_release(r);
	return ret;
}

/* virtuoso sim --replay DIR -o OUT: the recording through MimicOS (driver_replay()). */
static int sim_replay(const struct sim_args *sa, const struct cli_args *a)
{
	struct cli_recording rec;
	struct cli_sim_model m;
	struct sim_config cfg;
	uint64_t mem_bytes = 0;
	int ret;

	if ((ret = cli_recording_load(sa->replay, &rec)))
		return ret;
	/* --thp MODE: the same recording under another THP mode (MimicOS decides anew) */
	if (sa->thp) {
		int v = 0;

		for (int k = WL_THP_HOST + 1; k <= WL_THP_NEVER && !v; k++)
			if (!strcmp(sa->thp, wl_thp_name((enum wl_thp)k)))
				v = k;
		if (!v) {
			cli_recording_release(&rec);
			fprintf(stderr, "virtuoso sim: --thp: expected always, madvise or never, got "
				"\"%.40s\"\n", sa->thp);
			return EXIT_BAD_INPUT;
		}
		rec.kernel.thp = (enum wl_thp)v;
	}
	if (!(ret = cli_sim_check_out_dir("sim", a->out)) &&
	    !(ret = cli_sim_config("sim", a->config, sa->no_calibration, &cfg, &mem_bytes, &m))) {
		if (sa->zstd)
			cfg.mimicos.events_zstd = CLI_LOG_ZSTD_LEVEL;
		ret = cli_sim_replay_write("sim", &rec, a->out, mem_bytes, &cfg, &m);
	}
	cli_recording_release(&rec);
	return ret;
}

int cli_sim_replay_write(const char *name, const struct cli_recording *rec, const char *dir,
			 uint64_t mem_bytes, struct sim_config *cfg, const struct cli_sim_model *m)
{
	return sim_write(name, &rec->spec, dir, mem_bytes, cfg, m, false, rec->start, &rec->kernel,
			 rec->log_path);
}

int cmd_sim(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "functional", no_argument, NULL, OPT_FUNCTIONAL },
		{ "no-calibration", no_argument, NULL, CLI_OPT_NO_CALIBRATION },
		{ "zstd", no_argument, NULL, OPT_ZSTD },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "thp", required_argument, NULL, OPT_THP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("sim");
	struct sim_args sa = { 0 };
	uint64_t mem_bytes = 0;
	struct sim_config cfg;
	struct cli_args a;
	struct wl_spec s;
	struct cli_sim_model m;
	int first, n, ret = cli_parse_many(argc, argv, cmd, "o:c:vh", longopts, own_option, &sa, &a,
					   &first, &n);

	if (ret >= 0)
		return ret;
	if (!a.out)
		return cli_usage_error(cmd, "expected --out DIR");
	if (sa.thp && !sa.replay)
		return cli_usage_error(cmd, "--thp goes with --replay");
	if (sa.replay) {
		if (n)
			return cli_usage_error(cmd, "a SPEC and --replay: expected one of them");
		return sim_replay(&sa, &a);
	}
	if (n != 1)
		return cli_usage_error(cmd, "expected one SPEC file");
	a.arg = argv[first];
	if ((ret = cli_load_runnable_spec(a.arg, &s, true)))
		return ret;
	if ((ret = cli_sim_check_out_dir("sim", a.out))) {
		wl_spec_release(&s);
		return ret;
	}
	if ((ret = cli_sim_config("sim", a.config, sa.no_calibration, &cfg, &mem_bytes, &m))) {
		wl_spec_release(&s);
		return ret;
	}
	if (sa.zstd)
		cfg.mimicos.events_zstd = CLI_LOG_ZSTD_LEVEL;
	ret = cli_sim_write("sim", &s, a.out, mem_bytes, &cfg, &m, !sa.functional, NULL, NULL);
	wl_spec_release(&s);
	return ret;
}
