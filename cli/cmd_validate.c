/*
 * cmd_validate.c - virtuoso validate --reference DIR -o OUT: every workload
 * of a reference bundle (virtuoso record, docs/references.md) simulated at
 * the addresses and with the kernel settings Linux ran with, compared with
 * all of its recorded runs (Linux's band), the suite summarised. No root:
 * the bundle holds the Linux side.
 *
 *   OUT/NAME/linux*.json, events*.vlog	the bundle's runs, logs decompressed
 *   OUT/NAME/sim/sim.json, summary.json	the simulated side and the comparison
 *   OUT/validation.json, validation.md	per workload and metric, and per metric
 *					over the suite (cli/xval.h's layout)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zstd.h>

#include "calibrate/store.h"
#include "cli/cli.h"
#include "cli/xval.h"
#include "compare/compare.h"
#include "compare/gate.h"
#include "reports/validation.h"
#include "simulator/config.h"
#include "workload/evlog.h"
#include "workload/json.h"

#define NAME "validate"

struct validate_opts {
	const char *reference, *baseline, *history;
	bool no_calibration, update_baseline;
};

enum { OPT_REFERENCE = 1200, OPT_BASELINE, OPT_UPDATE_BASELINE, OPT_HISTORY };

static int own_option(int c, void *ctx)
{
	struct validate_opts *o = ctx;

	if (c == OPT_REFERENCE)
		o->reference = optarg;
	else if (c == OPT_BASELINE)
		o->baseline = optarg;
	else if (c == OPT_UPDATE_BASELINE)
		o->update_baseline = true;
	else if (c == OPT_HISTORY)
		o->history = optarg;
	else if (c == CLI_OPT_NO_CALIBRATION)
		o->no_calibration = true;
	else
		return EXIT_BAD_INPUT;
	return EXIT_OK;
}

static int bad(const char *file, const char *field, const char *what)
{
	fprintf(stderr, "virtuoso %s: %s: %s: %s\n", NAME, file, field, what);
	return EXIT_BAD_INPUT;
}

/* The string at o.key, or NULL. */
static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* A bundle path: relative, no "..", inside the bundle. */
static bool inside(const char *rel)
{
	return rel && rel[0] && rel[0] != '/' && !strstr(rel, "..");
}

static int copy_file(const char *from, const char *to)
{
	struct wl_error err = { 0 };
	char *text;
	size_t len;
	FILE *f;
	int bad_write;

	if (wj_read_file(from, &text, &len, &err)) {
		fprintf(stderr, "virtuoso %s: ", NAME);
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	f = fopen(to, "wb");
	if (!f) {
		fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, to, strerror(errno));
		free(text);
		return EXIT_FAIL;
	}
	bad_write = fwrite(text, 1, len, f) != len;
	bad_write |= fclose(f) != 0;
	free(text);
	if (bad_write) {
		fprintf(stderr, "virtuoso %s: %s: cannot write it\n", NAME, to);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* A bundle's .zst log into 'to'; one frame of recorded size, else bad input naming it. */
static int unpack_log(const char *from, const char *to)
{
	struct wl_error err = { 0 };
	unsigned long long size;
	char *z, *raw;
	size_t len, got;
	FILE *f;
	int ret = EXIT_OK;

	if (wj_read_file(from, &z, &len, &err)) {
		fprintf(stderr, "virtuoso %s: ", NAME);
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	size = ZSTD_getFrameContentSize(z, len);
	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size > (1ull << 34)) {
		free(z);
		return bad(from, "zstd", "not one zstd frame of recorded size");
	}
	raw = malloc(size ? size : 1);
	if (!raw) {
		free(z);
		return EXIT_FAIL;
	}
	got = ZSTD_decompress(raw, size, z, len);
	free(z);
	if (ZSTD_isError(got) || got != size) {
		free(raw);
		return bad(from, "zstd", ZSTD_isError(got) ? ZSTD_getErrorName(got) :
			   "shorter than its recorded size");
	}
	f = fopen(to, "wb");
	if (!f || fwrite(raw, 1, got, f) != got)
		ret = EXIT_FAIL;
	if (f && fclose(f))
		ret = EXIT_FAIL;
	if (ret)
		fprintf(stderr, "virtuoso %s: %s: cannot write it\n", NAME, to);
	free(raw);
	return ret;
}

/*
 * The bundle's manifest into the specs' paths (specs[i] allocated) and each
 * workload's runs unpacked under OUT/NAME. Returns the exit status.
 */
struct bundle {
	char **specs;		/* each workload's spec.json, allocated */
	size_t n;
	uint64_t mem_bytes;	/* the recorded host's RAM; 0: not recorded */
	char calibration[4200];	/* the bundle's calibrated.json, or "" */
	cJSON *manifest;	/* kept: the provenance */
};

static int unpack(const char *ref, const char *out, struct bundle *b)
{
	char ***specs = &b->specs;
	size_t *n = &b->n;
	struct wl_error err = { 0 };
	char path[4096], to[4400], field[96];
	const cJSON *w, *runs, *r;
	cJSON *m = NULL;
	size_t i = 0;
	int ret;

	*specs = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/manifest.json", ref);
	if (wj_load_object(path, &m, &err)) {
		fprintf(stderr, "virtuoso %s: ", NAME);
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	ret = EXIT_BAD_INPUT;
	if (!str(m, "format") || strcmp(str(m, "format"), "virtuoso-reference")) {
		bad(path, "format", "expected \"virtuoso-reference\"");
		goto out;
	}
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(m, "format_version")) ||
	    cJSON_GetObjectItemCaseSensitive(m, "format_version")->valueint != 1) {
		bad(path, "format_version", "expected 1 (this tool reads version 1)");
		goto out;
	}
	{
		const cJSON *host = cJSON_GetObjectItemCaseSensitive(m, "host");
		const cJSON *mem = cJSON_GetObjectItemCaseSensitive(host, "mem_bytes");
		const cJSON *cal = cJSON_GetObjectItemCaseSensitive(m, "calibration");

		if (mem && (!cJSON_IsNumber(mem) || mem->valuedouble < (1 << 26) ||
			    mem->valuedouble > 0x1p50)) {
			bad(path, "host.mem_bytes", "expected the host's RAM in bytes");
			goto out;
		}
		b->mem_bytes = mem ? (uint64_t)mem->valuedouble : 0;
		b->calibration[0] = '\0';
		if (cal && !cJSON_IsNull(cal)) {
			if (!inside(str(cal, "config"))) {
				bad(path, "calibration.config", "expected a path inside the bundle");
				goto out;
			}
			snprintf(b->calibration, sizeof(b->calibration), "%s/%s", ref,
				 str(cal, "config"));
		}
	}
	w = cJSON_GetObjectItemCaseSensitive(m, "workloads");
	if (!cJSON_IsArray(w) || !cJSON_GetArraySize(w)) {
		bad(path, "workloads", "expected a non-empty array");
		goto out;
	}
	*specs = calloc((size_t)cJSON_GetArraySize(w), sizeof(**specs));
	if (!*specs) {
		ret = EXIT_FAIL;
		goto out;
	}
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(m, "workloads")) {
		const char *name = str(w, "name"), *spec = str(w, "spec");
		size_t k = 0;

		snprintf(field, sizeof(field), "workloads[%zu]", i);
		if (!name || !inside(name) || strchr(name, '/') || !inside(spec)) {
			bad(path, field, "expected a name and a spec path inside the bundle");
			goto out;
		}
		snprintf(to, sizeof(to), "%s/%s", ref, spec);
		(*specs)[i] = strdup(to);
		if (!(*specs)[i]) {
			ret = EXIT_FAIL;
			goto out;
		}
		*n = ++i;
		snprintf(to, sizeof(to), "%s/%s", out, name);
		if (mkdir(to, 0755) && errno != EEXIST) {
			fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, to, strerror(errno));
			ret = EXIT_FAIL;
			goto out;
		}
		runs = cJSON_GetObjectItemCaseSensitive(w, "runs");
		if (!cJSON_IsArray(runs) || !cJSON_GetArraySize(runs) ||
		    cJSON_GetArraySize(runs) > COMPARE_MAX_RUNS) {
			snprintf(field, sizeof(field), "workloads[%zu].runs", i - 1);
			bad(path, field, "expected 1 to 32 runs");
			goto out;
		}
		cJSON_ArrayForEach(r, runs) {
			const char *lx = str(r, "linux"), *ev = str(r, "events");
			char sfx[16] = "", from[4200];

			if (!inside(lx) || !inside(ev)) {
				snprintf(field, sizeof(field), "workloads[%zu].runs[%zu]", i - 1, k);
				bad(path, field, "expected linux and events paths inside the bundle");
				goto out;
			}
			if (k)
				snprintf(sfx, sizeof(sfx), "-%zu", k + 1);
			snprintf(from, sizeof(from), "%s/%s", ref, lx);
			snprintf(to, sizeof(to), "%s/%s/linux%s.json", out, name, sfx);
			if ((ret = copy_file(from, to)))
				goto out;
			snprintf(from, sizeof(from), "%s/%s", ref, ev);
			snprintf(to, sizeof(to), "%s/%s/events%s.vlog", out, name, sfx);
			if ((ret = unpack_log(from, to)))
				goto out;
			ret = EXIT_BAD_INPUT;
			k++;
		}
	}
	ret = EXIT_OK;
	b->manifest = m;
	m = NULL;
out:
	cJSON_Delete(m);
	return ret;
}

/*
 * Where the numbers come from, for every file written: the tool, the
 * configuration (its hash over its JSON, and where it came from), the
 * bundle (its host, kernel, CPU and date).
 */
static cJSON *provenance(const struct sim_config *cfg, const char *cfg_from, const char *ref,
			 const cJSON *manifest)
{
	struct sim_config c = *cfg;
	cJSON *o = cJSON_CreateObject(), *t, *r, *cj = sim_config_to_json(&c);
	char *text = cj ? cJSON_PrintUnformatted(cj) : NULL, hash[40];
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(manifest, "host");

	cJSON_Delete(cj);
	if (!o || !text) {
		free(text);
		cJSON_Delete(o);
		return NULL;
	}
	t = cJSON_AddObjectToObject(o, "tool");
	cJSON_AddStringToObject(t, "version", cli_version);
	cJSON_AddStringToObject(t, "commit", cli_git);
	snprintf(hash, sizeof(hash), "fnv1a64:%016llx",
		 (unsigned long long)evlog_fnv1a(0xcbf29ce484222325ull, text, strlen(text)));
	free(text);
	cJSON_AddStringToObject(o, "config_hash", hash);
	cJSON_AddStringToObject(o, "config", cfg_from);
	r = cJSON_AddObjectToObject(o, "reference");
	cJSON_AddStringToObject(r, "dir", ref);
	if (str(manifest, "date"))
		cJSON_AddStringToObject(r, "date", str(manifest, "date"));
	if (host)
		cJSON_AddItemToObject(r, "host", cJSON_Duplicate(host, true));
	return o;
}

/*
 * --history FILE: this run's suite statistics appended as one JSON line,
 * in one write (O_APPEND), so that runs never interleave within a line.
 */
static int history_append(const char *path, const cJSON *suite)
{
	char date[32], *text;
	time_t now = time(NULL);
	struct tm tm;
	cJSON *e;
	size_t len;
	int fd, ret = EXIT_OK;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	e = validation_history_entry(suite, date);
	text = e ? cJSON_PrintUnformatted(e) : NULL;
	cJSON_Delete(e);
	if (!text)
		return EXIT_FAIL;
	len = strlen(text);
	text[len] = '\n';	/* over the terminator: the line is written by length */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, len + 1) != (ssize_t)(len + 1)) {
		fprintf(stderr, "virtuoso %s: --history: %s: %s\n", NAME, path, strerror(errno));
		ret = EXIT_FAIL;
	}
	if (fd >= 0)
		close(fd);
	free(text);
	return ret;
}

/* --update-baseline: FILE from the results. --baseline: the gate. Returns the exit status. */
static int gate(const struct validate_opts *vo, const char *out, const cJSON *suite,
		const cJSON *prov)
{
	struct gate_result r;
	struct wl_error err = { 0 };
	char path[4200];
	cJSON *b = NULL, *j;
	int ret;

	if (vo->update_baseline) {
		b = gate_baseline(suite, "sim", prov ? cJSON_Duplicate(prov, true) : NULL);
		if (!b || (ret = cli_write_json(vo->baseline, b)))
			return EXIT_FAIL;
		fprintf(stderr, "virtuoso %s: wrote the baseline %s\n", NAME, vo->baseline);
		return EXIT_OK;
	}
	if (wj_load_object(vo->baseline, &b, &err)) {
		fprintf(stderr, "virtuoso %s: --baseline: ", NAME);
		wl_error_print(&err, stderr);
		return EXIT_BAD_INPUT;
	}
	if (gate_check(b, vo->baseline, suite, "sim", &r, &err)) {
		cJSON_Delete(b);
		fprintf(stderr, "virtuoso %s: --baseline: ", NAME);
		wl_error_print(&err, stderr);
		return strstr(err.msg, "out of memory") ? EXIT_FAIL : EXIT_BAD_INPUT;
	}
	cJSON_Delete(b);
	gate_print(stdout, &r);
	fflush(stdout);
	j = gate_result_json(&r);
	if (j && prov)
		cJSON_AddItemToObject(j, "provenance", cJSON_Duplicate(prov, true));
	if (j)
		cJSON_AddStringToObject(j, "baseline", vo->baseline);
	snprintf(path, sizeof(path), "%s/gate.json", out);
	ret = j ? cli_write_json(path, j) : EXIT_FAIL;
	if (!ret && r.failures)
		ret = EXIT_FAIL;
	gate_result_release(&r);
	return ret;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 'c' },
		{ "reference", required_argument, NULL, OPT_REFERENCE },
		{ "no-calibration", no_argument, NULL, CLI_OPT_NO_CALIBRATION },
		{ "baseline", required_argument, NULL, OPT_BASELINE },
		{ "update-baseline", no_argument, NULL, OPT_UPDATE_BASELINE },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const sides[1] = { "sim" };
	const struct cli_cmd *cmd = cli_find(NAME);
	struct validate_opts vo = { 0 };
	struct cli_suite_opts so = {
		.name = NAME, .sub = "", .file = "validation", .nk = 1, .sides = sides,
		.title = "Validation against recorded Linux runs",
		.legend = "sim: the configuration given, else the bundle's calibration, else the "
			  "reference model.",
	};
	struct sim_config cfg;
	const struct sim_config *cfgs[1] = { &cfg };
	struct bundle b = { 0 };
	char shipped[4200];
	struct suite_faults faults;
	cJSON *suite = NULL, *prov = NULL;
	uint64_t mem_bytes = 0;
	struct cli_args a;
	int first, npos;
	bool created;
	int ret = cli_parse_many(argc, argv, cmd, "o:c:vh", longopts, own_option, &vo, &a, &first,
				 &npos);

	(void)first;
	if (ret >= 0)
		return ret;
	if (npos)
		return cli_usage_error(cmd, "expected no positional argument (the bundle is "
				       "--reference DIR)");
	if (!a.out)
		return cli_usage_error(cmd, "expected --out DIR");
	if (!vo.reference) {
		/* the bundle shipped for this host, read from the top of the tree */
		char key[CAL_STORE_KEY_MAX], name[CAL_STORE_KEY_MAX], man[4300];

		calibrate_store_this_key(key, sizeof(key));
		calibrate_store_key_name(name, sizeof(name), key);
		snprintf(shipped, sizeof(shipped), "datasets/reference/%s", name);
		snprintf(man, sizeof(man), "%s/manifest.json", shipped);
		if (access(man, R_OK)) {
			fprintf(stderr, "virtuoso %s: no bundle shipped for this host (%s) under "
				"datasets/reference/: give --reference DIR\n", NAME, key);
			return EXIT_BAD_INPUT;
		}
		vo.reference = shipped;
		fprintf(stderr, "virtuoso %s: the bundle shipped for this host: %s\n", NAME, shipped);
	}
	memset(&faults, 0, sizeof(faults));
	if (vo.update_baseline && !vo.baseline)
		return cli_usage_error(cmd, "--update-baseline: expected --baseline FILE to write");
	if (a.config && vo.no_calibration)
		return cli_usage_error(cmd, "--config and --no-calibration: give one, the "
				       "configuration or the reference model");
	if ((ret = cli_sim_check_out_dir(NAME, a.out)))
		return ret;
	if (vo.history) {
		struct wl_error err = { 0 };

		if (validation_history_check(vo.history, &err)) {
			fprintf(stderr, "virtuoso %s: --history: ", NAME);
			wl_error_print(&err, stderr);
			return EXIT_BAD_INPUT;
		}
	}
	/* a --config that does not load is refused before anything is written */
	if (a.config && (ret = cli_sim_read_config(a.config, &cfg, &mem_bytes)))
		return ret;
	created = !mkdir(a.out, 0755);
	if (!created && errno != EEXIST) {
		fprintf(stderr, "virtuoso %s: %s: %s\n", NAME, a.out, strerror(errno));
		return EXIT_FAIL;
	}
	ret = unpack(vo.reference, a.out, &b);
	/*
	 * The bundle's timings are its host's: its calibration, never this
	 * host's, unless a configuration is given
	 */
	if (!ret && !a.config) {
		if (b.calibration[0] && !vo.no_calibration) {
			if (!(ret = cli_sim_read_config(b.calibration, &cfg, &mem_bytes)))
				fprintf(stderr, "virtuoso %s: using the bundle's calibration: %s\n",
					NAME, b.calibration);
		} else {
			sim_config_init(&cfg);
			fprintf(stderr, "virtuoso %s: the uncalibrated reference model (%s)\n", NAME,
				vo.no_calibration ? "--no-calibration" : "the bundle holds no "
				"calibration");
		}
	}
	so.mem_bytes = mem_bytes ? mem_bytes : b.mem_bytes;
	if (!ret) {
		prov = provenance(&cfg, a.config ? a.config : b.calibration[0] && !vo.no_calibration ?
				  b.calibration : "the reference model", vo.reference, b.manifest);
		so.provenance = prov;
		so.faults = &faults;
		so.progress = true;
		ret = cli_suite(&so, a.out, (const char *const *)b.specs, b.n, cfgs, NULL, &suite);
	}
	if (!ret && vo.history)
		ret = history_append(vo.history, suite);
	if (!ret) {
		struct wl_error err = { 0 };

		if (validation_docs_write(suite, &faults, vo.history, a.out, NULL, &err)) {
			fprintf(stderr, "virtuoso %s: ", NAME);
			wl_error_print(&err, stderr);
			ret = strstr(err.path, "line ") ? EXIT_BAD_INPUT : EXIT_FAIL;
		}
	}
	/* nothing half-made: an output directory this run made goes with its failure */
	if (ret && created)
		cli_remove_tree(a.out);
	if (!ret)
		fprintf(stderr, "virtuoso %s: %zu workloads: %s/validation.md (and validation.json)\n",
			NAME, b.n, a.out);
	if (!ret && vo.baseline)
		ret = gate(&vo, a.out, suite, prov);
	cJSON_Delete(suite);
	cJSON_Delete(prov);
	cJSON_Delete(b.manifest);
	suite_faults_release(&faults);
	for (size_t i = 0; i < b.n; i++)
		free(b.specs[i]);
	free(b.specs);
	return ret;
}
