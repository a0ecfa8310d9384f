/*
 * cmd_sweep.c - virtuoso sweep: a grid of simulator runs (workloads x axes)
 * on a local pool of processes, resumable, gathered into one table
 * (docs/sweeps.md).
 *
 *   virtuoso sweep SWEEP.json -o DIR [--local J]	run what is not done yet
 *   virtuoso sweep --status DIR			how far it is
 *   virtuoso sweep --collect DIR [--plot STAT]	the table (and a plot)
 *   virtuoso sweep --point DIR INDEX		one point (what the pool runs)
 *
 * DIR holds sweep.json (the sweep as given, the first time; a later run
 * must give the same), and points/ID/ per point: spec.json and config.json
 * (its inputs: the workload with the point's kernel settings and seed, the
 * base configuration with the point's keys), point.json (its index, workload
 * and axis values), out/ (the command's results) and status.json (done or
 * failed, attempts, the error's last line). ID is the FNV-1a hash of the
 * command, the inputs and the tool version: the same point is the same
 * directory whatever the sweep file looks like around it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "simulator/config.h"
#include "workload/evlog.h"
#include "workload/json.h"

#define NAME "sweep"
#define SWEEP_MAX_POINTS 100000
#define SWEEP_MAX_AXES 8

enum { OPT_LOCAL = 256, OPT_STATUS, OPT_COLLECT, OPT_POINT, OPT_PLOT, OPT_SLURM, OPT_DETACH,
       OPT_THROTTLE };

struct sweep_axis {
	const char *key;	/* "seed", "kernel.K" or "config.A.B..." */
	const cJSON *values;	/* an array of one or more */
	size_t n;
};

struct sweep {
	cJSON *root;		/* the file, owning everything below */
	const char *file;
	const char *name, *command;
	const cJSON *workloads;	/* array of spec paths */
	size_t nr_workloads;
	cJSON *base;		/* the configuration object (a copy), {} by default */
	struct sweep_axis axes[SWEEP_MAX_AXES];
	size_t nr_axes;
	uint64_t retries;
	size_t nr_points;
	/* "slurm": the job array's resources (empty: Slurm's defaults) */
	const char *partition, *time_limit, *mem;
	uint64_t cpus, throttle;
};

/* What a point is: its workload and its value on each axis. */
struct sweep_point {
	size_t index, workload;
	size_t value[SWEEP_MAX_AXES];
	char id[17];
	char *spec_text, *config_text;
};

static void sweep_release(struct sweep *sw)
{
	cJSON_Delete(sw->root);
	cJSON_Delete(sw->base);
	memset(sw, 0, sizeof(*sw));
}

static void point_release(struct sweep_point *p)
{
	free(p->spec_text);
	free(p->config_text);
	p->spec_text = p->config_text = NULL;
}

/* Point i's coordinates: the workload varies slowest, then the axes in their order. */
static void point_at(const struct sweep *sw, size_t i, struct sweep_point *p)
{
	memset(p, 0, sizeof(*p));
	p->index = i;
	for (size_t a = sw->nr_axes; a-- > 0;) {
		p->value[a] = i % sw->axes[a].n;
		i /= sw->axes[a].n;
	}
	p->workload = i;
}

/* Set obj.path (dotted, objects made as needed) to a copy of v. */
static int set_path(cJSON *obj, const char *path, const cJSON *v)
{
	char buf[256], *save = NULL, *k, *next;

	snprintf(buf, sizeof(buf), "%s", path);
	k = strtok_r(buf, ".", &save);
	while (k) {
		cJSON *child;

		next = strtok_r(NULL, ".", &save);
		if (!next) {
			cJSON *copy = cJSON_Duplicate(v, true);

			if (!copy)
				return -1;
			if (cJSON_GetObjectItemCaseSensitive(obj, k))
				cJSON_ReplaceItemInObjectCaseSensitive(obj, k, copy);
			else
				cJSON_AddItemToObject(obj, k, copy);
			return 0;
		}
		child = cJSON_GetObjectItemCaseSensitive(obj, k);
		if (!child && !(child = cJSON_AddObjectToObject(obj, k)))
			return -1;
		if (!cJSON_IsObject(child))
			return -1;
		obj = child;
		k = next;
	}
	return -1;
}

/*
 * Point p's inputs as text (p->spec_text, p->config_text) and its id. 0,
 * or -1 with err naming the field (a workload that does not load, a key
 * the spec or the configuration refuses).
 */
static int point_inputs(const struct sweep *sw, struct sweep_point *p, struct wl_error *err)
{
	const char *wpath = cJSON_GetArrayItem(sw->workloads, (int)p->workload)->valuestring;
	cJSON *spec = NULL, *cfg = cJSON_Duplicate(sw->base, true);
	struct sim_config sc;
	struct wl_spec s;
	uint64_t h = EVLOG_FNV_BASIS;
	int ret = -1;

	if (!cfg)
		goto out;
	/* validate: a reference bundle (virtuoso record), named by its path */
	if (!strcmp(sw->command, "validate")) {
		char mpath[4200];
		cJSON *m = NULL;

		snprintf(mpath, sizeof(mpath), "%s/manifest.json", wpath);
		if (wj_load_object(mpath, &m, err))
			goto out;
		cJSON_Delete(m);
		spec = cJSON_CreateString(wpath);
	} else if (wj_load_object(wpath, &spec, err)) {
		goto out;
	}
	for (size_t a = 0; a < sw->nr_axes; a++) {
		const struct sweep_axis *ax = &sw->axes[a];
		const cJSON *v = cJSON_GetArrayItem(ax->values, (int)p->value[a]);
		int r;

		if (!strcmp(ax->key, "seed"))
			r = set_path(spec, "seed", v);
		else if (!strncmp(ax->key, "kernel.", 7))
			r = set_path(spec, ax->key, v);
		else
			r = set_path(cfg, ax->key + 7, v);	/* "config." */
		if (r) {
			wl_error_set(err, sw->file, "", "axes[%zu].key: \"%s\" goes through a value "
				     "that is not an object", a, ax->key);
			goto out;
		}
	}
	p->spec_text = wj_print(spec);
	p->config_text = wj_print(cfg);
	if (!p->spec_text || !p->config_text) {
		wl_error_set(err, sw->file, "", "out of memory");
		goto out;
	}
	/* refused here, with the point named, rather than by each run */
	if (strcmp(sw->command, "validate")) {
		if (wl_spec_parse(&s, p->spec_text, strlen(p->spec_text), wpath, err))
			goto out;
		wl_spec_release(&s);
	}
	sim_config_init(&sc);
	if (sim_config_from_json(&sc, cfg, sw->file, err))
		goto out;
	h = evlog_fnv1a(h, sw->command, strlen(sw->command) + 1);
	h = evlog_fnv1a(h, p->spec_text, strlen(p->spec_text) + 1);
	h = evlog_fnv1a(h, p->config_text, strlen(p->config_text) + 1);
	h = evlog_fnv1a(h, cli_version, strlen(cli_version));
	snprintf(p->id, sizeof(p->id), "%016" PRIx64, h);
	ret = 0;
out:
	cJSON_Delete(spec);
	cJSON_Delete(cfg);
	if (ret)
		point_release(p);
	return ret;
}

/* Read and check a sweep file; every point's inputs are made once to check them. */
static int sweep_load(struct sweep *sw, const char *path, struct wl_error *err)
{
	static const char *const keys[] = { "name", "command", "workloads", "base", "axes",
					    "retries", "slurm", NULL };
	static const char *const slurm_keys[] = { "partition", "time", "mem", "cpus_per_task",
						  "throttle", NULL };
	static const char *const axis_keys[] = { "key", "values", NULL };
	static const char *const commands[] = { "sim", "functional", "run", "validate" };
	struct wj_ctx c = { .file = path, .err = err };
	const cJSON *a, *b;
	char where[64];
	int cmd = 0;

	memset(sw, 0, sizeof(*sw));
	sw->file = path;
	if (wj_load_object(path, &sw->root, err))
		return -1;
	if (wj_check_unique_keys(&c, sw->root, "") ||
	    wj_check_object(&c, sw->root, "", "a sweep", keys) ||
	    wj_string(&c, sw->root, "", "name", true, &sw->name) < 0 ||
	    wj_enum(&c, sw->root, "", "command", false, commands, 4, &cmd) < 0)
		return -1;
	sw->command = commands[cmd];
	sw->retries = 1;
	if (wj_uint(&c, sw->root, "", "retries", false, 0, 10, &sw->retries) < 0)
		return -1;
	b = cJSON_GetObjectItemCaseSensitive(sw->root, "slurm");
	sw->cpus = 1;
	sw->throttle = 0;
	if (b && (wj_check_object(&c, b, "slurm", "the job array's resources", slurm_keys) ||
		  wj_string(&c, b, "slurm", "partition", false, &sw->partition) < 0 ||
		  wj_string(&c, b, "slurm", "time", false, &sw->time_limit) < 0 ||
		  wj_string(&c, b, "slurm", "mem", false, &sw->mem) < 0 ||
		  wj_uint(&c, b, "slurm", "cpus_per_task", false, 1, 1024, &sw->cpus) < 0 ||
		  wj_uint(&c, b, "slurm", "throttle", false, 0, 100000, &sw->throttle) < 0))
		return -1;
	sw->workloads = cJSON_GetObjectItemCaseSensitive(sw->root, "workloads");
	if (!cJSON_IsArray(sw->workloads) || !cJSON_GetArraySize(sw->workloads))
		return wj_fail(&c, "", "workloads", "expected an array of one or more spec files");
	cJSON_ArrayForEach(a, sw->workloads) {
		if (!cJSON_IsString(a))
			return wj_fail(&c, wj_path_index(where, sizeof(where), "workloads",
							 sw->nr_workloads), "", "expected a spec file");
		sw->nr_workloads++;
	}
	b = cJSON_GetObjectItemCaseSensitive(sw->root, "base");
	if (cJSON_IsString(b)) {
		if (wj_load_object(b->valuestring, &sw->base, err))
			return -1;
	} else if (cJSON_IsObject(b)) {
		sw->base = cJSON_Duplicate(b, true);
	} else if (b) {
		return wj_fail(&c, "", "base", "expected a configuration file or object");
	} else {
		sw->base = cJSON_CreateObject();
	}
	if (!sw->base)
		return wl_error_set(err, path, "", "out of memory");
	sw->nr_points = sw->nr_workloads;
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(sw->root, "axes")) {
		struct sweep_axis *ax = &sw->axes[sw->nr_axes];

		wj_path_index(where, sizeof(where), "axes", sw->nr_axes);
		if (sw->nr_axes == SWEEP_MAX_AXES)
			return wj_fail(&c, where, "", "at most %d axes", SWEEP_MAX_AXES);
		if (wj_check_object(&c, a, where, "an axis", axis_keys) ||
		    wj_string(&c, a, where, "key", true, &ax->key) < 0)
			return -1;
		if (strcmp(ax->key, "seed") && strncmp(ax->key, "kernel.", 7) &&
		    strncmp(ax->key, "config.", 7))
			return wj_fail(&c, where, "key", "expected \"seed\", \"kernel.KEY\" or "
				       "\"config.KEY\", got \"%.60s\"", ax->key);
		/* a bundle's workloads carry their own specs and kernel settings */
		if (!strcmp(sw->command, "validate") && strncmp(ax->key, "config.", 7))
			return wj_fail(&c, where, "key", "a validate sweep varies configuration keys "
				       "only (\"config.KEY\"), got \"%.60s\"", ax->key);
		ax->values = cJSON_GetObjectItemCaseSensitive(a, "values");
		if (!cJSON_IsArray(ax->values) || !cJSON_GetArraySize(ax->values))
			return wj_fail(&c, where, "values", "expected an array of one or more values");
		ax->n = (size_t)cJSON_GetArraySize(ax->values);
		sw->nr_points *= ax->n;
		if (sw->nr_points > SWEEP_MAX_POINTS)
			return wj_fail(&c, where, "values", "more than %d points", SWEEP_MAX_POINTS);
		sw->nr_axes++;
	}
	if (cJSON_GetObjectItemCaseSensitive(sw->root, "axes") &&
	    !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(sw->root, "axes")))
		return wj_fail(&c, "", "axes", "expected an array of axes");
	/* every point's inputs, so that a bad value is named before anything runs */
	for (size_t i = 0; i < sw->nr_points; i++) {
		struct sweep_point p;
		struct wl_error perr = { 0 };

		point_at(sw, i, &p);
		if (point_inputs(sw, &p, &perr)) {
			/* which point: its coordinates beside the inner error */
			wl_error_set(err, path, "", "point %zu (%s%s): %s%s%s", i,
				     cJSON_GetArrayItem(sw->workloads, (int)p.workload)->valuestring,
				     sw->nr_axes ? ", ..." : "", perr.path[0] ? perr.path : "",
				     perr.path[0] ? ": " : "", perr.msg);
			return -1;
		}
		point_release(&p);
	}
	return 0;
}

static char *dir_path(const char *dir, const char *a, const char *b)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s%s%s", dir, a, b ? "/" : "", b ? b : "") < 0)
		return NULL;
	return p;
}

/* Write text to path through a temporary file renamed over it (never half a file). */
static int write_atomic(const char *path, const char *text)
{
	char tmp[4200];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")))
		return -1;
	ok = fputs(text, f) >= 0;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* A point's status: "done", "failed" (with attempts), or NULL when it never ended. */
static cJSON *point_status(const char *dir, const char *id)
{
	char path[4200];
	cJSON *st = NULL;
	struct wl_error err = { 0 };

	snprintf(path, sizeof(path), "%s/points/%s/status.json", dir, id);
	if (access(path, F_OK) || wj_load_object(path, &st, &err))
		return NULL;
	return st;
}

static const char *status_state(const cJSON *st)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "state"));

	return s ? s : "pending";
}

/* Run point i of the sweep in DIR (virtuoso sweep --point): its inputs, the command, its status. */
static int run_point(const char *dir, size_t i)
{
	struct wl_error err = { 0 };
	struct sweep sw;
	struct sweep_point p;
	char pdir[4200], path[4300], out[4300], cfgp[4300], specp[4300], logp[4300];
	cJSON *st, *info;
	double attempts = 0;
	struct timespec t0, t1;
	char *text, last[256] = "";
	int ret = EXIT_FAIL, status;
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	if (sweep_load(&sw, path, &err)) {
		fprintf(stderr, "virtuoso sweep: ");
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	if (i >= sw.nr_points) {
		fprintf(stderr, "virtuoso sweep: --point: %zu: the sweep has %zu points\n", i,
			sw.nr_points);
		sweep_release(&sw);
		return EXIT_BAD_INPUT;
	}
	point_at(&sw, i, &p);
	if (point_inputs(&sw, &p, &err)) {
		fprintf(stderr, "virtuoso sweep: ");
		wl_error_print(&err, stderr);
		sweep_release(&sw);
		return EXIT_BAD_INPUT;
	}
	snprintf(pdir, sizeof(pdir), "%s/points/%s", dir, p.id);
	if ((st = point_status(dir, p.id))) {
		attempts = wj_num_or_nan(st, "attempts");
		cJSON_Delete(st);
	}
	mkdir(pdir, 0755);
	snprintf(specp, sizeof(specp), "%s/spec.json", pdir);
	snprintf(cfgp, sizeof(cfgp), "%s/config.json", pdir);
	snprintf(out, sizeof(out), "%s/out", pdir);
	snprintf(logp, sizeof(logp), "%s/stderr.log", pdir);
	info = cJSON_CreateObject();
	cJSON_AddNumberToObject(info, "index", (double)i);
	cJSON_AddStringToObject(info, "id", p.id);
	cJSON_AddStringToObject(info, "workload",
				cJSON_GetArrayItem(sw.workloads, (int)p.workload)->valuestring);
	{
		cJSON *ax = cJSON_AddObjectToObject(info, "axes");

		for (size_t a = 0; a < sw.nr_axes; a++)
			cJSON_AddItemToObject(ax, sw.axes[a].key, cJSON_Duplicate(
				cJSON_GetArrayItem(sw.axes[a].values, (int)p.value[a]), true));
	}
	text = wj_print(info);
	cJSON_Delete(info);
	snprintf(path, sizeof(path), "%s/point.json", pdir);
	if (!text || write_atomic(specp, p.spec_text) || write_atomic(cfgp, p.config_text) ||
	    write_atomic(path, text)) {
		fprintf(stderr, "virtuoso sweep: %s: cannot write: %s\n", pdir, strerror(errno));
		free(text);
		goto out;
	}
	free(text);
	/* a result of an earlier, interrupted attempt is not this one's */
	{
		char *rm = NULL;

		if (asprintf(&rm, "rm -rf '%s'", out) < 0 || system(rm)) {
			free(rm);
			fprintf(stderr, "virtuoso sweep: cannot clear %s\n", out);
			goto out;
		}
		free(rm);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		if (!strcmp(sw.command, "functional"))
			execl("/proc/self/exe", "virtuoso", "sim", specp, "-o", out, "--config", cfgp,
			      "--functional", (char *)NULL);
		else if (!strcmp(sw.command, "validate"))
			execl("/proc/self/exe", "virtuoso", "validate", "--reference",
			      cJSON_GetArrayItem(sw.workloads, (int)p.workload)->valuestring, "-o", out,
			      "--config", cfgp, (char *)NULL);
		else	/* "sim", or "run": Linux under the probes, then the simulator, compared */
			execl("/proc/self/exe", "virtuoso", sw.command, specp, "-o", out, "--config",
			      cfgp, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "virtuoso sweep: cannot run point %zu: %s\n", i, strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the error, if any: the last line the command wrote */
	if ((f = fopen(logp, "r"))) {
		char line[256];

		while (fgets(line, sizeof(line), f))
			if (line[0] && line[0] != '\n')
				snprintf(last, sizeof(last), "%s", line);
		fclose(f);
		last[strcspn(last, "\n")] = '\0';
	}
	st = cJSON_CreateObject();
	ret = WIFEXITED(status) && !WEXITSTATUS(status) ? EXIT_OK : EXIT_FAIL;
	cJSON_AddStringToObject(st, "state", ret ? "failed" : "done");
	cJSON_AddNumberToObject(st, "attempts", (isnan(attempts) ? 0 : attempts) + 1);
	cJSON_AddNumberToObject(st, "exit_status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	cJSON_AddNumberToObject(st, "seconds", (double)(t1.tv_sec - t0.tv_sec) +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (ret)
		cJSON_AddStringToObject(st, "error", last);
	text = wj_print(st);
	cJSON_Delete(st);
	snprintf(path, sizeof(path), "%s/status.json", pdir);
	if (!text || write_atomic(path, text)) {
		fprintf(stderr, "virtuoso sweep: %s: cannot write\n", path);
		ret = EXIT_FAIL;
	}
	free(text);
out:
	point_release(&p);
	sweep_release(&sw);
	return ret;
}

/* The points left to run: not done, and failed fewer times than 1 + retries. */
static size_t points_left(const struct sweep *sw, const char *dir, size_t *todo)
{
	size_t n = 0;

	for (size_t i = 0; i < sw->nr_points; i++) {
		struct sweep_point p;
		struct wl_error err = { 0 };
		cJSON *st;
		bool run = true;

		point_at(sw, i, &p);
		if (point_inputs(sw, &p, &err))
			continue;	/* sweep_load() checked them all */
		if ((st = point_status(dir, p.id))) {
			double att = wj_num_or_nan(st, "attempts");

			run = strcmp(status_state(st), "done") &&
			      (isnan(att) || att < 1 + (double)sw->retries);
			cJSON_Delete(st);
		}
		point_release(&p);
		if (run)
			todo[n++] = i;
	}
	return n;
}

/* The local pool: J processes running the points left, a progress line on stderr. */
static int run_local(const struct sweep *sw, const char *dir, unsigned jobs)
{
	size_t *todo = calloc(sw->nr_points ? sw->nr_points : 1, sizeof(*todo));
	size_t n, next = 0, finished = 0, failed = 0;
	pid_t *slot = calloc(jobs, sizeof(*slot));
	struct cli_progress pr;
	char what[64];

	if (!todo || !slot) {
		free(todo);
		free(slot);
		fprintf(stderr, "virtuoso sweep: out of memory\n");
		return EXIT_FAIL;
	}
	n = points_left(sw, dir, todo);
	fprintf(stderr, "virtuoso sweep: %zu points, %zu to run, %u at a time\n", sw->nr_points, n,
		jobs);
	cli_progress_init(&pr, NAME);
	while (finished < n) {
		int status;
		pid_t pid;

		for (unsigned j = 0; j < jobs && next < n; j++) {
			if (slot[j])
				continue;
			fflush(NULL);
			pid = fork();
			if (pid == 0) {
				char idx[32];

				snprintf(idx, sizeof(idx), "%zu", todo[next]);
				execl("/proc/self/exe", "virtuoso", "sweep", "--point", dir, idx,
				      (char *)NULL);
				_exit(127);
			}
			if (pid < 0)
				break;
			slot[j] = pid;
			next++;
		}
		pid = wait(&status);
		if (pid < 0)
			break;
		for (unsigned j = 0; j < jobs; j++)
			if (slot[j] == pid)
				slot[j] = 0;
		finished++;
		failed += !(WIFEXITED(status) && !WEXITSTATUS(status));
		snprintf(what, sizeof(what), "%zu done, %zu failed so far", finished - failed, failed);
		cli_progress_show(&pr, (unsigned)finished, (unsigned)n, what);
	}
	if (n && finished < n)
		fprintf(stderr, "\nvirtuoso sweep: %zu points were not run\n", n - finished);
	free(todo);
	free(slot);
	return failed ? EXIT_FAIL : EXIT_OK;
}

/*
 * The Slurm backend: the points left as one job array (DIR/slurm/array.sh,
 * each task `virtuoso sweep --point DIR INDEX`, at most 'throttle' at once
 * with "%"), submitted with sbatch; then, unless 'detach', wait until the
 * array has left the queue. Its tasks write their points' status as the
 * local pool's do, so --status and --collect read both alike.
 */
static int run_slurm(const struct sweep *sw, const char *dir, unsigned throttle, bool detach)
{
	size_t *todo = calloc(sw->nr_points ? sw->nr_points : 1, sizeof(*todo));
	char exe[4096], cwd[4096], adir[4096], path[4300], job[64] = "";
	size_t n;
	FILE *f;
	char *cmd = NULL;
	ssize_t len;
	int ret = EXIT_FAIL;

	if (!todo)
		return EXIT_FAIL;
	n = points_left(sw, dir, todo);
	if (!n) {
		fprintf(stderr, "virtuoso sweep: %zu points, none to run\n", sw->nr_points);
		free(todo);
		return EXIT_OK;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0 || !getcwd(cwd, sizeof(cwd)) || !realpath(dir, adir)) {
		fprintf(stderr, "virtuoso sweep: cannot name this program or %s\n", dir);
		goto out;
	}
	exe[len] = '\0';
	snprintf(path, sizeof(path), "%s/slurm", adir);
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "virtuoso sweep: %s: %s\n", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/slurm/array.sh", adir);
	if (!(f = fopen(path, "w"))) {
		fprintf(stderr, "virtuoso sweep: %s: %s\n", path, strerror(errno));
		goto out;
	}
	fprintf(f, "#!/bin/sh\n# written by virtuoso sweep: one task per point left\n");
	fprintf(f, "#SBATCH --job-name=virtuoso-%s\n#SBATCH --output=%s/slurm/%%A_%%a.out\n",
		sw->name, adir);
	fprintf(f, "#SBATCH --chdir=%s\n#SBATCH --cpus-per-task=%" PRIu64 "\n", cwd, sw->cpus);
	if (sw->partition)
		fprintf(f, "#SBATCH --partition=%s\n", sw->partition);
	if (sw->time_limit)
		fprintf(f, "#SBATCH --time=%s\n", sw->time_limit);
	if (sw->mem)
		fprintf(f, "#SBATCH --mem=%s\n", sw->mem);
	fputs("#SBATCH --array=", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%zu", i ? "," : "", todo[i]);
	if (throttle || sw->throttle)
		fprintf(f, "%%%u", throttle ? throttle : (unsigned)sw->throttle);
	fprintf(f, "\nexec '%s' sweep --point '%s' \"$SLURM_ARRAY_TASK_ID\"\n", exe, adir);
	if (fclose(f))
		goto out;
	if (asprintf(&cmd, "sbatch --parsable '%s'", path) < 0 || !(f = popen(cmd, "r"))) {
		fprintf(stderr, "virtuoso sweep: cannot run sbatch\n");
		goto out;
	}
	if (!fgets(job, sizeof(job), f))
		job[0] = '\0';
	if (pclose(f) || !job[0]) {
		fprintf(stderr, "virtuoso sweep: sbatch refused %s (is Slurm running? "
			"scripts/slurm-local.sh starts one here)\n", path);
		goto out;
	}
	job[strcspn(job, ";\n")] = '\0';
	snprintf(path, sizeof(path), "%s/slurm/job", adir);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%s\n", job);
		fclose(f);
	}
	fprintf(stderr, "virtuoso sweep: %zu points, %zu submitted as Slurm job array %s\n",
		sw->nr_points, n, job);
	if (detach) {
		ret = EXIT_OK;
		goto out;
	}
	free(cmd);
	cmd = NULL;
	if (asprintf(&cmd, "squeue -h -j '%s' -o %%i 2>/dev/null", job) < 0)
		goto out;
	for (;;) {
		char line[64];
		bool queued = false;

		if (!(f = popen(cmd, "r")))
			break;
		while (fgets(line, sizeof(line), f))
			queued = true;
		if (pclose(f) || !queued)
			break;
		sleep(1);
	}
	ret = EXIT_OK;
out:
	free(cmd);
	free(todo);
	return ret;
}

/* The sum over a sim.json's regions of regions.*.KEY (or pages.KEY with pages). */
static double regions_sum(const cJSON *sim, const char *key, bool pages)
{
	const cJSON *r;
	double sum = 0;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(sim, "regions")) {
		const cJSON *o = pages ? cJSON_GetObjectItemCaseSensitive(r, "pages") : r;

		sum += wj_num_or_nan(o, key);
	}
	return sum;
}

/* The statistics a point's row holds, by name, from its out/sim.json. */
static const char *const stat_names[] = {
	"runtime_ns", "faults", "thp_faults", "pages_pte", "pages_pmd", "pages_zero",
	"cycles", "kernel_insns",
};
#define NR_STATS (sizeof(stat_names) / sizeof(stat_names[0]))

static void point_stats(const cJSON *sim, double *v)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(sim, "stats");

	v[0] = wj_num_or_nan(sim, "runtime_ns");
	v[1] = regions_sum(sim, "faults", false);
	v[2] = regions_sum(sim, "thp_faults", false);
	v[3] = regions_sum(sim, "pte", true);
	v[4] = regions_sum(sim, "pmd", true);
	v[5] = regions_sum(sim, "zero", true);
	v[6] = wj_num_or_nan(st, "cycles");
	v[7] = wj_num_or_nan(st, "kernel_insns");
}

/* A JSON value as table text. */
static void value_text(const cJSON *v, char *buf, size_t len)
{
	char *t = cJSON_PrintUnformatted(v);

	if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else
		snprintf(buf, len, "%s", t ? t : "");
	free(t);
}

/*
 * DIR/results.csv and results.jsonl: a row per point in index order, its
 * id, workload, axis values, state and statistics (empty when not done);
 * the error of a failed one. Returns the number of points not done.
 */
static int collect(const struct sweep *sw, const char *dir, size_t *not_done)
{
	char *csvp = dir_path(dir, "results.csv", NULL), *jsp = dir_path(dir, "results.jsonl", NULL);
	char tmpc[4200], tmpj[4200], val[256];
	FILE *c = NULL, *j = NULL;
	int ret = EXIT_FAIL;

	*not_done = 0;
	if (!csvp || !jsp)
		goto out;
	snprintf(tmpc, sizeof(tmpc), "%s.tmp", csvp);
	snprintf(tmpj, sizeof(tmpj), "%s.tmp", jsp);
	if (!(c = fopen(tmpc, "w")) || !(j = fopen(tmpj, "w"))) {
		fprintf(stderr, "virtuoso sweep: %s: cannot write: %s\n", dir, strerror(errno));
		goto out;
	}
	fputs("index,id,workload", c);
	for (size_t a = 0; a < sw->nr_axes; a++) {
		fputc(',', c);
		wj_csv_field(c, sw->axes[a].key);
	}
	fputs(",state", c);
	for (size_t s = 0; s < NR_STATS; s++)
		fprintf(c, ",%s", stat_names[s]);
	if (!strcmp(sw->command, "run"))
		fputs(",functional_verdict,timing_verdict,tlb_verdict", c);
	if (!strcmp(sw->command, "validate"))
		fputs(",workloads_validated,functional_pass,functional_metrics", c);
	fputs(",error\n", c);
	for (size_t i = 0; i < sw->nr_points; i++) {
		struct sweep_point p;
		struct wl_error err = { 0 };
		const char *wl;
		double v[NR_STATS];
		cJSON *st, *row, *ax, *sim = NULL;
		const char *state;
		char path[4300], *line;

		point_at(sw, i, &p);
		if (point_inputs(sw, &p, &err))
			continue;
		wl = cJSON_GetArrayItem(sw->workloads, (int)p.workload)->valuestring;
		st = point_status(dir, p.id);
		state = status_state(st);
		for (size_t s = 0; s < NR_STATS; s++)
			v[s] = NAN;
		snprintf(path, sizeof(path), "%s/points/%s/out/sim.json", dir, p.id);
		if (!strcmp(state, "done") && !wj_load_object(path, &sim, &err))
			point_stats(sim, v);
		*not_done += strcmp(state, "done") != 0;
		fprintf(c, "%zu,%s,", i, p.id);
		wj_csv_field(c, wl);
		row = cJSON_CreateObject();
		cJSON_AddNumberToObject(row, "index", (double)i);
		cJSON_AddStringToObject(row, "id", p.id);
		cJSON_AddStringToObject(row, "workload", wl);
		ax = cJSON_AddObjectToObject(row, "axes");
		for (size_t a = 0; a < sw->nr_axes; a++) {
			const cJSON *x = cJSON_GetArrayItem(sw->axes[a].values, (int)p.value[a]);

			value_text(x, val, sizeof(val));
			fputc(',', c);
			wj_csv_field(c, val);
			cJSON_AddItemToObject(ax, sw->axes[a].key, cJSON_Duplicate(x, true));
		}
		fprintf(c, ",%s", state);
		cJSON_AddStringToObject(row, "state", state);
		for (size_t s = 0; s < NR_STATS; s++) {
			if (isnan(v[s]))
				fputc(',', c);
			else
				fprintf(c, ",%.17g", v[s]);
			wj_add_num_or_null(row, stat_names[s], v[s]);
		}
		if (!strcmp(sw->command, "run")) {
			/* the comparison's verdicts, from its summary */
			cJSON *sum = NULL;

			snprintf(path, sizeof(path), "%s/points/%s/out/summary.json", dir, p.id);
			if (!strcmp(state, "done") && !wj_load_object(path, &sum, &err)) {
				const char *fv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
					sum, "functional_verdict"));
				const char *tv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
					sum, "timing_verdict"));
				const char *lv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
					sum, "tlb_verdict"));

				fprintf(c, ",%s,%s,%s", fv ? fv : "", tv ? tv : "", lv ? lv : "");
				cJSON_AddStringToObject(row, "functional_verdict", fv ? fv : "");
				cJSON_AddStringToObject(row, "timing_verdict", tv ? tv : "");
				cJSON_AddStringToObject(row, "tlb_verdict", lv ? lv : "");
			} else {
				fputs(",,,", c);
			}
			cJSON_Delete(sum);
		}
		if (!strcmp(sw->command, "validate")) {
			/* the suite's functional metrics: how many of them passed, over all */
			cJSON *vj = NULL;
			double pass = 0, metrics = 0, wls = NAN;
			const cJSON *m;

			snprintf(path, sizeof(path), "%s/points/%s/out/validation.json", dir, p.id);
			if (!strcmp(state, "done") && !wj_load_object(path, &vj, &err)) {
				cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(vj, "functional")) {
					const cJSON *sm = cJSON_GetObjectItemCaseSensitive(m, "sim");

					pass += wj_num_or_nan(sm, "pass");
					metrics += wj_num_or_nan(sm, "n");
				}
				wls = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(vj, "workloads"));
				fprintf(c, ",%.17g,%.17g,%.17g", wls, pass, metrics);
			} else {
				fputs(",,,", c);
				pass = metrics = NAN;
			}
			wj_add_num_or_null(row, "workloads_validated", wls);
			wj_add_num_or_null(row, "functional_pass", pass);
			wj_add_num_or_null(row, "functional_metrics", metrics);
			cJSON_Delete(vj);
		}
		fputc(',', c);
		wj_csv_field(c, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "error")) ?
			     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "error")) : "");
		fputc('\n', c);
		if (cJSON_GetObjectItemCaseSensitive(st, "error"))
			cJSON_AddItemToObject(row, "error", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(st, "error"), true));
		/* provenance: where the point's inputs and results are */
		snprintf(path, sizeof(path), "points/%s", p.id);
		cJSON_AddStringToObject(row, "dir", path);
		cJSON_AddStringToObject(row, "tool", cli_version);
		line = cJSON_PrintUnformatted(row);
		if (line)
			fprintf(j, "%s\n", line);
		free(line);
		cJSON_Delete(row);
		cJSON_Delete(st);
		cJSON_Delete(sim);
		point_release(&p);
	}
	if (fclose(c) | fclose(j)) {
		c = j = NULL;
		goto out;
	}
	c = j = NULL;
	if (rename(tmpc, csvp) || rename(tmpj, jsp))
		goto out;
	ret = EXIT_OK;
out:
	if (c)
		fclose(c);
	if (j)
		fclose(j);
	if (ret) {
		unlink(tmpc);
		unlink(tmpj);
	}
	free(csvp);
	free(jsp);
	return ret;
}

/*
 * DIR/plot-STAT.gp (and .svg, with gnuplot): STAT of the done points against
 * the first axis, one line per value of the second (if any) and workload.
 */
static int plot(const struct sweep *sw, const char *dir, const char *stat)
{
	size_t s;
	char path[4200], dat[4200], svg[4200], cmd[8800];
	FILE *g, *d;

	for (s = 0; s < NR_STATS && strcmp(stat_names[s], stat); s++)
		;
	if (s == NR_STATS || !sw->nr_axes) {
		fprintf(stderr, "virtuoso sweep: --plot: \"%.40s\": %s\n", stat, !sw->nr_axes ?
			"the sweep has no axis to plot along" : "not a statistic of the table");
		return EXIT_BAD_INPUT;
	}
	snprintf(dat, sizeof(dat), "%s/plot-%s.dat", dir, stat);
	snprintf(path, sizeof(path), "%s/plot-%s.gp", dir, stat);
	snprintf(svg, sizeof(svg), "%s/plot-%s.svg", dir, stat);
	if (!(d = fopen(dat, "w")) || !(g = fopen(path, "w"))) {
		if (d)
			fclose(d);
		fprintf(stderr, "virtuoso sweep: %s: cannot write\n", dir);
		return EXIT_FAIL;
	}
	/* one block per workload x second-axis value; x the first axis's index */
	for (size_t w = 0; w < sw->nr_workloads; w++) {
		size_t n2 = sw->nr_axes > 1 ? sw->axes[1].n : 1;

		for (size_t k = 0; k < n2; k++) {
			char label[160], val[64] = "";

			if (sw->nr_axes > 1)
				value_text(cJSON_GetArrayItem(sw->axes[1].values, (int)k), val,
					   sizeof(val));
			snprintf(label, sizeof(label), "%s%s%s%s",
				 cJSON_GetArrayItem(sw->workloads, (int)w)->valuestring,
				 sw->nr_axes > 1 ? " " : "", sw->nr_axes > 1 ? sw->axes[1].key : "",
				 sw->nr_axes > 1 ? "=" : "");
			fprintf(d, "# \"%s%s\"\n", label, val);
			for (size_t i = 0; i < sw->nr_points; i++) {
				struct sweep_point p;
				struct wl_error err = { 0 };
				double v[NR_STATS];
				cJSON *sim = NULL;
				char sp[4300];

				point_at(sw, i, &p);
				if (p.workload != w || (sw->nr_axes > 1 && p.value[1] != k))
					continue;
				if (sw->nr_axes > 2 && p.value[2])
					continue;	/* the first value of the rest */
				if (point_inputs(sw, &p, &err))
					continue;
				snprintf(sp, sizeof(sp), "%s/points/%s/out/sim.json", dir, p.id);
				if (!wj_load_object(sp, &sim, &err)) {
					point_stats(sim, v);
					fprintf(d, "%zu %.17g\n", p.value[0], v[s]);
				}
				cJSON_Delete(sim);
				point_release(&p);
			}
			fputs("\n\n", d);
		}
	}
	fclose(d);
	fprintf(g, "set terminal svg size 900,560 dynamic\nset output 'plot-%s.svg'\n", stat);
	fprintf(g, "set title \"%s: %s\"\nset xlabel \"%s\"\nset ylabel \"%s\"\n", sw->name, stat,
		sw->axes[0].key, stat);
	fputs("set xtics (", g);
	for (size_t i = 0; i < sw->axes[0].n; i++) {
		char val[64];

		value_text(cJSON_GetArrayItem(sw->axes[0].values, (int)i), val, sizeof(val));
		fprintf(g, "%s\"%s\" %zu", i ? ", " : "", val, i);
	}
	fprintf(g, ")\nset key outside bottom center\nplot for [b=0:*] 'plot-%s.dat' index b "
		"using 1:2 with linespoints title columnheader(1)\n", stat);
	fclose(g);
	snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot 'plot-%s.gp' 2>/dev/null", dir, stat);
	if (system(cmd)) {
		fprintf(stderr, "virtuoso sweep: gnuplot did not draw %s (the script is %s)\n", svg,
			path);
		return EXIT_OK;
	}
	return EXIT_OK;
}

/* The first run saves the sweep in DIR; a later one must give the same text. */
static int save_sweep(const char *file, const char *dir)
{
	char *text = NULL, *old = NULL, path[4200];
	size_t len, olen;
	struct wl_error err = { 0 };
	int ret = EXIT_OK;

	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	if (wj_read_file(file, &text, &len, &err)) {
		fprintf(stderr, "virtuoso sweep: ");
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	if (!access(path, F_OK)) {
		if (wj_read_file(path, &old, &olen, &err) || olen != len || memcmp(old, text, len)) {
			fprintf(stderr, "virtuoso sweep: %s: holds another sweep (%s): give it a "
				"directory of its own\n", dir, path);
			ret = EXIT_BAD_INPUT;
		}
	} else if ((mkdir(dir, 0755) && errno != EEXIST) || write_atomic(path, text)) {
		fprintf(stderr, "virtuoso sweep: %s: cannot write: %s\n", dir, strerror(errno));
		ret = EXIT_FAIL;
	}
	if (!ret) {
		char *pts = dir_path(dir, "points", NULL);

		if (!pts || (mkdir(pts, 0755) && errno != EEXIST))
			ret = EXIT_FAIL;
		free(pts);
	}
	free(text);
	free(old);
	return ret;
}

struct sweep_args {
	unsigned jobs, throttle;
	bool slurm, detach;
	const char *status, *collect, *point, *plot;
};

static int own_option(int c, void *ctx)
{
	struct sweep_args *sa = ctx;
	char *end;
	unsigned long v;

	switch (c) {
	case OPT_LOCAL:
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || !v || v > 256) {
			fprintf(stderr, "virtuoso sweep: --local: expected 1 to 256 processes, got "
				"\"%.40s\"\n", optarg);
			return EXIT_BAD_INPUT;
		}
		sa->jobs = (unsigned)v;
		return 0;
	case OPT_STATUS:
		sa->status = optarg;
		return 0;
	case OPT_COLLECT:
		sa->collect = optarg;
		return 0;
	case OPT_POINT:
		sa->point = optarg;
		return 0;
	case OPT_PLOT:
		sa->plot = optarg;
		return 0;
	case OPT_SLURM:
		sa->slurm = true;
		return 0;
	case OPT_DETACH:
		sa->detach = true;
		return 0;
	case OPT_THROTTLE:
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno || *end || !v || v > 100000) {
			fprintf(stderr, "virtuoso sweep: --throttle: expected 1 to 100000 tasks, got "
				"\"%.40s\"\n", optarg);
			return EXIT_BAD_INPUT;
		}
		sa->throttle = (unsigned)v;
		return 0;
	}
	return EXIT_BAD_INPUT;
}

/* --status DIR: counts by state, and each failed point's error. */
static int show_status(const struct sweep *sw, const char *dir)
{
	size_t done = 0, failed = 0, pending = 0;

	for (size_t i = 0; i < sw->nr_points; i++) {
		struct sweep_point p;
		struct wl_error err = { 0 };
		cJSON *st;
		const char *s;

		point_at(sw, i, &p);
		if (point_inputs(sw, &p, &err))
			continue;
		st = point_status(dir, p.id);
		s = status_state(st);
		if (!strcmp(s, "done")) {
			done++;
		} else if (!strcmp(s, "failed")) {
			failed++;
			printf("point %zu (%s): failed: %s\n", i, p.id,
			       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "error")) ?
			       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "error")) : "");
		} else {
			pending++;
		}
		cJSON_Delete(st);
		point_release(&p);
	}
	printf("%s: %zu points: %zu done, %zu failed, %zu pending\n", sw->name, sw->nr_points, done,
	       failed, pending);
	return EXIT_OK;
}

int cmd_sweep(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "local", required_argument, NULL, OPT_LOCAL },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "collect", required_argument, NULL, OPT_COLLECT },
		{ "point", required_argument, NULL, OPT_POINT },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "slurm", no_argument, NULL, OPT_SLURM },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "throttle", required_argument, NULL, OPT_THROTTLE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find("sweep");
	struct sweep_args sa = { .jobs = 1 };
	struct wl_error err = { 0 };
	struct cli_args a;
	struct sweep sw;
	const char *dir;
	char path[4200];
	size_t not_done;
	int first, n, ret = cli_parse_many(argc, argv, cmd, "o:vh", longopts, own_option, &sa, &a,
					   &first, &n);

	if (ret >= 0)
		return ret;
	if (sa.point) {
		char *end;
		unsigned long i;

		if (n != 1)
			return cli_usage_error(cmd, "--point DIR INDEX");
		errno = 0;
		i = strtoul(argv[first], &end, 10);
		if (errno || *end)
			return cli_usage_error(cmd, "--point DIR INDEX: INDEX a number");
		return run_point(sa.point, (size_t)i);
	}
	dir = sa.status ? sa.status : sa.collect ? sa.collect : a.out;
	if (!sa.status && !sa.collect) {
		if (n != 1)
			return cli_usage_error(cmd, "expected one SWEEP file");
		if (!a.out)
			return cli_usage_error(cmd, "expected --out DIR");
		if (sweep_load(&sw, argv[first], &err)) {
			fprintf(stderr, "virtuoso sweep: ");
			wl_error_print(&err, stderr);
			return EXIT_BAD_INPUT;
		}
		sweep_release(&sw);
		if ((ret = save_sweep(argv[first], a.out)))
			return ret;
	} else if (n) {
		return cli_usage_error(cmd, "--status and --collect take a DIR, no SWEEP file");
	}
	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	if (sweep_load(&sw, path, &err)) {
		fprintf(stderr, "virtuoso sweep: ");
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	if (sa.status) {
		ret = show_status(&sw, dir);
		sweep_release(&sw);
		return ret;
	}
	ret = EXIT_OK;
	if (sa.detach && !sa.slurm) {
		sweep_release(&sw);
		return cli_usage_error(cmd, "--detach goes with --slurm");
	}
	if (sa.slurm && !sa.collect) {
		ret = run_slurm(&sw, dir, sa.throttle, sa.detach);
		if (ret || sa.detach) {
			sweep_release(&sw);
			return ret;
		}
	} else if (!sa.collect) {
		ret = run_local(&sw, dir, sa.jobs);
	}
	if (collect(&sw, dir, &not_done) && !ret)
		ret = EXIT_FAIL;
	if (!ret && not_done)
		ret = EXIT_FAIL;
	if (!ret && sa.plot)
		ret = plot(&sw, dir, sa.plot);
	printf("virtuoso sweep: %s: %zu points, %zu not done: %s/results.csv (and results.jsonl)\n",
	       sw.name, sw.nr_points, not_done, dir);
	sweep_release(&sw);
	return ret;
}
