/*
 * cmd_record.c - virtuoso record SPEC... -o DIR [--repeat N]: the Linux side
 * of each workload N times, kept as a reference bundle that any machine can
 * compare against later without root or BPF (docs/references.md):
 *
 *   DIR/manifest.json           what was recorded, where, on what, by what
 *   DIR/NAME/spec.json          the spec as given
 *   DIR/NAME/linux.json         run 1 (linux-2.json, ... the others)
 *   DIR/NAME/events.vlog.zst    run 1's event log, zstd-compressed (events-2...)
 *
 * The bundle is built in a hidden directory beside DIR and renamed to DIR
 * once whole: a failed or interrupted record leaves no DIR behind. DIR must
 * not exist yet.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zstd.h>

#include "calibrate/store.h"
#include "cli/cli.h"
#include "compare/compare.h"
#include "linux-probes/hostid.h"
#include "linux-probes/hostlock.h"
#include "linux-probes/runner.h"
#include "linux-probes/thp_sysfs.h"
#include "simulator/driver.h"
#include "workload/json.h"
#include "workload/side.h"

#define NAME "record"

/* The level the logs are compressed at: a tenth of the size, at 100 MB/s and more. */
#define RECORD_ZSTD_LEVEL	9

struct record_opts {
	struct cli_compare_opts co;	/* --repeat, --wait-timeout, --no-wait */
};

static int own_option(int c, void *ctx)
{
	return cli_compare_own_option(c, &((struct record_opts *)ctx)->co);
}

/* The whole file, or NULL after one line on stderr. */
static char *slurp(const char *path, size_t *len)
{
	struct wl_error err = { 0 };
	char *text;

	if (wj_read_file(path, &text, len, &err)) {
		fprintf(stderr, "virtuoso %s: ", NAME);
		wl_error_print(&err, stderr);
		return NULL;
	}
	return text;
}

static int write_all(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int bad;

	if (!f) {
		fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, path, strerror(errno));
		return -1;
	}
	bad = fwrite(buf, 1, len, f) != len;
	bad |= fclose(f) != 0;
	if (bad)
		fprintf(stderr, "virtuoso %s: %s: cannot write it\n", NAME, path);
	return bad ? -1 : 0;
}

/* PATH.vlog into PATH.vlog.zst, the original removed; *raw, *packed: the sizes. */
static int compress_log(const char *path, uint64_t *raw, uint64_t *packed)
{
	char out[4700];
	size_t len = 0, bound, n;
	char *in = slurp(path, &len), *z;
	int ret = -1;

	if (!in)
		return -1;
	bound = ZSTD_compressBound(len);
	z = malloc(bound ? bound : 1);
	if (!z) {
		free(in);
		fprintf(stderr, "virtuoso %s: %s: out of memory\n", NAME, path);
		return -1;
	}
	n = ZSTD_compress(z, bound, in, len, RECORD_ZSTD_LEVEL);
	if (ZSTD_isError(n)) {
		fprintf(stderr, "virtuoso %s: %s: zstd: %s\n", NAME, path, ZSTD_getErrorName(n));
	} else {
		snprintf(out, sizeof(out), "%s.zst", path);
		if (!write_all(out, z, n) && !unlink(path)) {
			*raw = len;
			*packed = n;
			ret = 0;
		}
	}
	free(z);
	free(in);
	return ret;
}

/* The bundle's record of one workload: its runs' files, and whether each completed. */
static cJSON *workload_json(const char *name, const char *dir, unsigned repeat)
{
	cJSON *w = cJSON_CreateObject(), *runs;
	char rel[300], path[4600];

	if (!w)
		return NULL;
	cJSON_AddStringToObject(w, "name", name);
	snprintf(rel, sizeof(rel), "%s/spec.json", name);
	cJSON_AddStringToObject(w, "spec", rel);
	runs = cJSON_AddArrayToObject(w, "runs");
	for (unsigned k = 1; runs && k <= repeat; k++) {
		cJSON *r = cJSON_CreateObject(), *side;
		char sfx[16] = "";
		uint64_t raw = 0, packed = 0;
		size_t len;
		char *text;

		if (!r)
			break;
		cJSON_AddItemToArray(runs, r);
		if (k > 1)
			snprintf(sfx, sizeof(sfx), "-%u", k);
		snprintf(rel, sizeof(rel), "%s/linux%s.json", name, sfx);
		cJSON_AddStringToObject(r, "linux", rel);
		snprintf(path, sizeof(path), "%s/linux%s.json", dir, sfx);
		text = slurp(path, &len);
		side = text ? cJSON_ParseWithLength(text, len) : NULL;
		free(text);
		cJSON_AddBoolToObject(r, "complete",
				      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(side, "complete")));
		cJSON_Delete(side);
		snprintf(path, sizeof(path), "%s/events%s.vlog", dir, sfx);
		if (compress_log(path, &raw, &packed)) {
			cJSON_Delete(w);
			return NULL;
		}
		snprintf(rel, sizeof(rel), "%s/events%s.vlog.zst", name, sfx);
		cJSON_AddStringToObject(r, "events", rel);
		cJSON_AddNumberToObject(r, "events_bytes", (double)raw);
		cJSON_AddNumberToObject(r, "events_zst_bytes", (double)packed);
	}
	return w;
}

static cJSON *manifest_new(unsigned repeat)
{
	cJSON *m = cJSON_CreateObject(), *o;
	struct hostid h;
	struct utsname u;
	char date[32];
	time_t now = time(NULL);
	struct tm tm;

	if (!m)
		return NULL;
	cJSON_AddStringToObject(m, "format", "virtuoso-reference");
	cJSON_AddNumberToObject(m, "format_version", 1);
	o = cJSON_AddObjectToObject(m, "tool");
	cJSON_AddStringToObject(o, "version", cli_version);
	cJSON_AddStringToObject(o, "commit", cli_git);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON_AddStringToObject(m, "date", date);
	o = cJSON_AddObjectToObject(m, "host");
	hostid_read(&h, NULL);
	hostid_json(o, &h);
	if (!uname(&u))
		cJSON_AddStringToObject(o, "kernel", u.release);
	/* MimicOS is sized as the recorded host, so a bundle simulates alike anywhere */
	cJSON_AddNumberToObject(o, "mem_bytes", (double)driver_host_mem_bytes());
	cJSON_AddNumberToObject(m, "repeat", repeat);
	cJSON_AddArrayToObject(m, "workloads");
	return m;
}

/*
 * This host's stored calibration, when there is one, into DIR/calibration/
 * (calibrated.json and, when stored, calibration.json), named in the
 * manifest's "calibration"; null there when none. -1 on a failed copy.
 */
static int add_calibration(cJSON *m, const char *dir)
{
	static const char *const files[] = { CAL_STORE_CALIBRATED, CAL_STORE_CALIBRATION };
	struct wl_error err = { 0 };
	struct cal_stored *st = malloc(sizeof(*st));
	char from[4200], to[4400], *slash;
	cJSON *o;
	int ret = -1;

	if (!st)
		return -1;
	if (!calibrate_store_find(st, &err)) {
		fprintf(stderr, "virtuoso %s: no calibration stored for this host (%s): the bundle "
			"holds none\n", NAME, st->key);
		cJSON_AddNullToObject(m, "calibration");
		free(st);
		return 0;
	}
	snprintf(to, sizeof(to), "%s/calibration", dir);
	if (mkdir(to, 0755)) {
		fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, to, strerror(errno));
		goto out;
	}
	o = cJSON_AddObjectToObject(m, "calibration");
	cJSON_AddStringToObject(o, "config", "calibration/" CAL_STORE_CALIBRATED);
	cJSON_AddStringToObject(o, "date", st->cal.date);
	cJSON_AddStringToObject(o, "source", st->cal.source);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *text;

		snprintf(from, sizeof(from), "%s", st->path);
		slash = strrchr(from, '/');
		snprintf(slash ? slash + 1 : from, sizeof(from) - (size_t)(slash ? slash + 1 - from : 0),
			 "%s", files[i]);
		snprintf(to, sizeof(to), "%s/calibration/%s", dir, files[i]);
		if (i && access(from, R_OK))
			continue;	/* the report is optional in a store */
		if (!(text = slurp(from, &len)))
			goto out;
		if (write_all(to, text, len)) {
			free(text);
			goto out;
		}
		free(text);
	}
	fprintf(stderr, "virtuoso %s: with this host's calibration (%s, from %s)\n", NAME,
		st->cal.date, st->cal.source);
	ret = 0;
out:
	free(st);
	return ret;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, CLI_OPT_REPEAT },
		{ "wait-timeout", required_argument, NULL, CLI_OPT_WAIT_TIMEOUT },
		{ "no-wait", no_argument, NULL, CLI_OPT_NO_WAIT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *cmd = cli_find(NAME);
	struct record_opts opts = { .co = { .wait_s = HOSTLOCK_WAIT_DEFAULT_S, .repeat = 3 } };
	const char *out = NULL;
	struct wl_spec *specs = NULL;
	char tmp[4200], dir[4400], path[4600];
	cJSON *manifest = NULL, *list;
	int nspecs, optind_first, ret = EXIT_FAIL, loaded = 0, lock = -1;
	struct cli_args a;
	struct wl_error err = { 0 };
	struct stat st;
	char *text;

	ret = cli_parse_many(argc, argv, cmd, "o:vh", longopts, own_option, &opts, &a,
			     &optind_first, &nspecs);
	if (ret >= 0)
		return ret;
	out = a.out;
	if (nspecs < 1)
		return cli_usage_error(cmd, "expected one SPEC file or more");
	if (!out)
		return cli_usage_error(cmd, "expected --out DIR");
	if (!opts.co.repeat)
		opts.co.repeat = 3;
	if (!lstat(out, &st) || errno != ENOENT) {
		fprintf(stderr, "virtuoso %s: %s: already exists: a bundle is recorded into a new "
			"directory\n", NAME, out);
		return EXIT_BAD_INPUT;
	}
	if (strlen(out) > 3000) {
		fprintf(stderr, "virtuoso %s: %s: the path is too long\n", NAME, out);
		return EXIT_BAD_INPUT;
	}
	specs = calloc((size_t)nspecs, sizeof(*specs));
	if (!specs)
		return EXIT_FAIL;
	/* every spec checked, and no two of one name, before anything runs */
	for (int i = 0; i < nspecs; i++, loaded++) {
		if ((ret = cli_load_runnable_spec(argv[optind_first + i], &specs[i], false)))
			goto out;
		for (int j = 0; j < i; j++)
			if (!strcmp(specs[i].name, specs[j].name)) {
				fprintf(stderr, "virtuoso %s: %s: name: \"%s\" is %s's too: a bundle "
					"holds one workload of a name\n", NAME, argv[optind_first + i],
					specs[i].name, argv[optind_first + j]);
				ret = EXIT_BAD_INPUT;
				goto out;
			}
	}
	if ((ret = cli_check_linux_host(NAME)))
		goto out;
	/* the host is ours for the whole bundle: each workload's runs borrow the lock */
	if (hostlock_take(thp_sysfs_state_dir(), "virtuoso record", opts.co.wait_s, stderr, &lock,
			  &err)) {
		fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, err.file, err.msg);
		ret = EXIT_FAIL;
		goto out;
	}

	/* built beside DIR, renamed to it once whole */
	{
		const char *slash = strrchr(out, '/');
		int n = slash ? (int)(slash - out + 1) : 0;

		snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.XXXXXX", n, out, slash ? slash + 1 : out);
	}
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "virtuoso %s: %s: cannot create it: %s\n", NAME, tmp, strerror(errno));
		ret = EXIT_FAIL;
		goto out;
	}
	ret = EXIT_FAIL;
	manifest = manifest_new(opts.co.repeat);
	{
		/* the host's own THP settings, as the runs found them (each run's are in its linux.json) */
		struct wl_kernel k;

		wl_kernel_init(&k);
		if (!wl_kernel_resolve(&k, WL_THP_SYSFS, &err))
			cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(manifest, "host"), "thp",
					      side_kernel_json(&specs[0], &k));
	}
	list = cJSON_GetObjectItemCaseSensitive(manifest, "workloads");
	if (!list)
		goto fail;
	for (int i = 0; i < nspecs; i++) {
		struct runner_opts ro = { .tool_version = cli_version };
		size_t len;
		bool incomplete;
		cJSON *w;

		snprintf(dir, sizeof(dir), "%s/%s", tmp, specs[i].name);
		if (mkdir(dir, 0755)) {
			fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, dir, strerror(errno));
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/spec.json", dir);
		text = slurp(argv[optind_first + i], &len);
		if (!text || write_all(path, text, len)) {
			free(text);
			goto fail;
		}
		free(text);
		fprintf(stderr, "virtuoso %s: [%d/%d] %s, %u runs\n", NAME, i + 1, nspecs,
			specs[i].name, opts.co.repeat);
		ro.spec = &specs[i];
		ro.spec_path = argv[optind_first + i];
		ro.out_dir = dir;
		{
			/* cli_linux_runs() takes a lock passed down and closes it: a copy */
			int d = dup(lock);

			if (d < 0 || hostlock_pass(d)) {
				fprintf(stderr, "virtuoso %s: cannot lend the host lock to the runs: "
					"%s\n", NAME, strerror(errno));
				if (d >= 0)
					close(d);
				goto fail;
			}
		}
		if ((ret = cli_linux_runs(NAME, &ro, opts.co.repeat, opts.co.wait_s, &incomplete)))
			goto fail;
		ret = EXIT_FAIL;
		w = workload_json(specs[i].name, dir, opts.co.repeat);
		if (!w)
			goto fail;
		cJSON_AddItemToArray(list, w);
	}
	if (add_calibration(manifest, tmp))
		goto fail;
	text = cJSON_Print(manifest);
	snprintf(path, sizeof(path), "%s/manifest.json", tmp);
	if (!text || write_all(path, text, strlen(text))) {
		free(text);
		goto fail;
	}
	free(text);
	/* mkdtemp() made it private: a bundle is for anyone to read */
	if (chmod(tmp, 0755) || rename(tmp, out)) {
		fprintf(stderr, "virtuoso %s: %s: cannot rename %s to it: %s\n", NAME, out, tmp,
			strerror(errno));
		goto fail;
	}
	fprintf(stderr, "virtuoso %s: %d workloads, %u runs each: %s/manifest.json\n", NAME, nspecs,
		opts.co.repeat, out);
	ret = EXIT_OK;
	goto out;
fail:
	cli_remove_tree(tmp);
	if (ret == EXIT_OK)
		ret = EXIT_FAIL;
out:
	hostlock_release(lock);
	cJSON_Delete(manifest);
	for (int i = 0; i < loaded; i++)
		wl_spec_release(&specs[i]);
	free(specs);
	return ret;
}
