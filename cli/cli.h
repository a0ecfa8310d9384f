/*
 * cli.h - the virtuoso command line: one function per subcommand.
 *
 * Exit status (docs/results-format.md): 0 success; 2 bad input (spec,
 * config, arguments), one line on stderr naming the file and field; 3 this
 * host cannot do what was asked, one line saying what is missing; 1 anything
 * else.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <time.h>
#include <stddef.h>
#include <stdint.h>

#include "workload/spec.h"

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_BAD_INPUT = 2,
	EXIT_HOST = 3,
};

struct cli_cmd {
	const char *name;
	const char *summary;	/* one line for virtuoso --help */
	const char *usage;	/* the whole text of virtuoso CMD --help */
	int (*fn)(int argc, char **argv);
};

int cmd_check(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_linux(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_hwinfo(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

extern const struct cli_cmd cli_cmds[];
const struct cli_cmd *cli_find(const char *name);

/* Verbosity (-v, repeatable) shared by all commands. */
extern int cli_verbose;

/* The tool's version ("0.1.0"), recorded in results. */
extern const char *const cli_version;
extern const char *const cli_git;	/* git describe of the build */

/*
 * What the Linux side needs of this host: root, and the kernel's BTF.
 * Prints one line naming what is missing and returns EXIT_HOST, else EXIT_OK.
 */
int cli_check_linux_host(const char *name);

/* What every command's arguments come to. */
struct cli_args {
	const char *out;	/* -o/--out FILE or DIR */
	const char *config;	/* -c/--config FILE, for commands that list it */
	const char *arg;	/* the one positional argument: SPEC or DIR */
};

/*
 * Parse a command's arguments with getopt_long: the shared options -h (print
 * the usage), -v (cli_verbose++), -o FILE and -c FILE are handled here; any
 * other option the command lists in shortopts/longopts goes to own(c, ctx),
 * which returns 0 or an exit status. Exactly one positional argument is
 * expected, named 'what' in the usage error.
 * Returns -1 to go on, else the exit status to return (EXIT_OK after -h).
 */
struct option;
int cli_parse(int argc, char **argv, const struct cli_cmd *cmd, const char *shortopts,
	      const struct option *longopts, int (*own)(int c, void *ctx), void *ctx,
	      const char *what, struct cli_args *a);
/*
 * cli_parse() for a command taking any number of positional arguments:
 * they are argv[*first .. *first + *n) (the caller checks *n); a->arg
 * stays NULL.
 */
int cli_parse_many(int argc, char **argv, const struct cli_cmd *cmd, const char *shortopts,
		   const struct option *longopts, int (*own)(int c, void *ctx), void *ctx,
		   struct cli_args *a, int *first, int *n);

/* Print "virtuoso CMD: <msg>" and a hint, return EXIT_BAD_INPUT. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct cJSON;

/*
 * Read a JSON file that must hold one object (a --config file). Returns 0
 * with *root (free with cJSON_Delete), or -1 with err naming the file.
 */
int cli_load_json_object(const char *path, struct cJSON **root, struct wl_error *err);

/* Remove a directory and everything in it (a temporary, a failed output); errors ignored. */
void cli_remove_tree(const char *dir);

/* Whether execvp() would find 'prog': a path that is executable, or a name on PATH. */
bool cli_command_found(const char *prog);

/*
 * The options before argv[dashdash] ("--") of a command that runs
 * COMMAND [ARGS...] after it: no SPEC beside it, a command there that
 * can be found (exit 2 saying so), --out given. -1 to go on, else the exit
 * status.
 */
struct option;
int cli_parse_command(int argc, char **argv, int dashdash, const struct cli_cmd *cmd,
		      const char *shortopts, const struct option *longopts,
		      int (*own)(int c, void *ctx), void *ctx, struct cli_args *a);

/* Load a spec or print its error; returns EXIT_OK or EXIT_BAD_INPUT. */
int cli_load_spec(const char *path, struct wl_spec *s);

/*
 * cli_load_spec() for a command that simulates it: threads
 * (docs/workload-format.md, "Threads") only if 'threads_ok'.
 */
int cli_load_runnable_spec(const char *path, struct wl_spec *s, bool threads_ok);

/* Print a JSON tree (indented, newline-terminated) through cli_out; frees it. */
int cli_write_json(const char *path, struct cJSON *json);

/*
 * Output that leaves nothing half-written: cli_out_open() returns stdout for NULL/"-",
 * else a temporary file beside 'path' (name kept in o); cli_out_close()
 * renames it into place, or removes it when 'ok' is false or writing failed.
 */
struct cli_out {
	FILE *f;
	const char *path;
	char tmp[4096];
	bool direct;	/* path is a device or pipe: written in place */
};
int cli_out_open(struct cli_out *o, const char *path);
int cli_out_close(struct cli_out *o, bool ok);

/*
 * The longest name a command writes in its --out DIR, with the temporary
 * suffix: "linux-32.json.tmp.XXXXXX", "sim-events.vlog".
 */
#define CLI_OUT_NAME_MAX 32

/*
 * Check an --out DIR before anything runs: "DIR/NAME" fits in 'room'
 * bytes for every NAME the command writes, and DIR, when it exists, is a
 * directory. Else one line naming it and EXIT_BAD_INPUT.
 */
int cli_check_out_dir(const char *name, const char *dir, size_t room);

/* ---- compare and run ---------------------------------------------------------- */

/* The comparison options of compare and run. */
enum { CLI_OPT_TOLERANCES = 512, CLI_OPT_STRICT, CLI_OPT_REPEAT };
struct cli_compare_opts {
	const char *tolerances;	/* --tolerances FILE: overrides the defaults */
	bool strict;		/* --strict: exit 1 when the verdict is fail */
	unsigned repeat;	/* run: --repeat N, Linux's runs (0: one) */
	int wait_s;		/* run: --wait-timeout, --no-wait (cli_parse_wait) */
	bool no_calibration;	/* run: --no-calibration (cli_sim_config) */
};

/*
 * --wait-timeout SECONDS and --no-wait, of the commands that take the host
 * (linux, run): c is CLI_OPT_WAIT_TIMEOUT (arg: whole seconds, 0 is
 * --no-wait) or CLI_OPT_NO_WAIT; sets *wait_s for hostlock_take(). Returns 0,
 * or EXIT_BAD_INPUT after one line on stderr.
 */
enum { CLI_OPT_WAIT_TIMEOUT = 768, CLI_OPT_NO_WAIT };
int cli_parse_wait(const char *name, int c, const char *arg, int *wait_s);
/* --repeat N: 1..COMPARE_MAX_RUNS, else a one-line error and EXIT_BAD_INPUT. */
int cli_parse_repeat(const char *name, const char *arg, unsigned *repeat);

/*
 * The Linux side 'repeat' times into ro->out_dir (cmd_linux.c), holding the
 * host (linux-probes/hostlock.h) for all of them, waiting for it up to
 * wait_s seconds as hostlock_take() does: run 1 as
 * linux.json and events.vlog, run k as linux-k.json and events-k.vlog;
 * the files of runs beyond 'repeat' left by an earlier measurement are
 * removed first, so the directory holds exactly these runs. *incomplete:
 * some run was. Returns the exit status, the error printed.
 */
struct runner_opts;
int cli_linux_runs(const char *name, struct runner_opts *ro, unsigned repeat, int wait_s,
		   bool *incomplete);
/* own() for cli_parse() of a command taking the options above (ctx: the opts). */
int cli_compare_own_option(int c, void *ctx);

/*
 * Compare DIR's two sides and write DIR/summary.json, report.md and
 * report.html; print the verdict and where the report is. 'name' is the
 * command, for messages. Returns the exit status (cmd_compare.c).
 */
int cli_compare_dir(const char *name, const char *dir, const struct cli_compare_opts *co);

/*
 * DIR's Linux runs into runs[COMPARE_MAX_RUNS] (cmd_compare.c): linux.json,
 * then linux-2.json, linux-3.json, ... as long as they follow each other.
 * 0 with *n, or -1 with err; side_release() every entry in both cases.
 */
struct side;
int cli_load_linux_runs(const char *dir, struct side *runs, size_t *n, struct wl_error *err);

/*
 * What the simulated side takes from DIR/linux.json (cmd_run.c): each
 * region r of s at start[r] (s->nr_regions entries), and the kernel
 * settings Linux ran with (the file records every one, resolved) into
 * *host. Returns the exit status, one line printed naming the file and
 * the field; 'name' is the command.
 */
struct wl_kernel;
int cli_read_linux_side(const char *name, const char *dir, const struct wl_spec *s,
			uint64_t *start, struct wl_kernel *host);

/*
 * --no-calibration, of the commands that simulate (sim, run): the reference
 * model, whatever the calibration store holds.
 */
enum { CLI_OPT_NO_CALIBRATION = 1024 };
struct sim_config;

/*
 * Where the simulator's configuration came from, for sim.json and stderr:
 * file, the file the calibration came from ("" when uncalibrated); note,
 * the lines that say which model is used (and why not a stored one).
 */
/* --zstd: the event log's records compressed at zstd's default level (workload/evlog.h) */
#define CLI_LOG_ZSTD_LEVEL 3

struct cli_sim_model {
	char file[4096];
	char note[1024];
};

/*
 * The simulator's configuration for sim and run (cmd_sim.c): the --config
 * file when given (config not NULL); else, unless no_calibration, this
 * host's stored calibration when calibrate/store.h finds one for it; else
 * sim_config_init()'s reference model. m->note says which: "using this
 * host's calibration: PATH (calibrated DATE from SOURCE)", or "no
 * calibration for this host (KEY): ...", after a warning naming both
 * identities when the store holds another host's; cli_sim_write() prints it
 * once the output directory is there, so an error stays one line.
 * *mem_bytes as cli_sim_read_config() gives it. --config with
 * --no-calibration is bad input. Returns the exit status.
 */
int cli_sim_config(const char *name, const char *config, bool no_calibration,
		   struct sim_config *cfg, uint64_t *mem_bytes, struct cli_sim_model *m);

/*
 * The simulated side into DIR (cmd_sim.c): sim.json and sim-events.vlog for
 * spec s under cfg (timed or --functional), m (or NULL: uncalibrated) where
 * cfg came from: m->note on stderr, m->file as "calibration_file", each region r at region_start[r]
 * when region_start is given (virtuoso run: where Linux put it), the settings
 * the spec leaves to the host from 'host' when given (else this host's
 * sysfs). mem_bytes 0: cfg's MimicOS size or this machine's RAM. 'name' is
 * the command, for messages. Returns the exit status; a failure leaves no
 * directory it created.
 */
struct sim_config;
struct wl_kernel;
int cli_sim_write(const char *name, const struct wl_spec *s, const char *dir, uint64_t mem_bytes,
		  struct sim_config *cfg, const struct cli_sim_model *m, bool timed,
		  const uint64_t *region_start, const struct wl_kernel *host);

/*
 * A recording of a command (virtuoso linux -o DIR -- COMMAND) as the replay
 * reads it (cmd_sim.c): DIR/linux.json's regions as a spec (their names and
 * sizes, one phase "command"), their addresses, the kernel settings it ran
 * under, and its event log's path. cli_recording_load() returns the exit
 * status, EXIT_BAD_INPUT after one line naming the file and the field: not
 * a recording, another tool version's, a malformed field, a truncated log.
 */
struct cli_recording {
	struct wl_spec spec;
	uint64_t *start;
	struct wl_kernel kernel;
	char json_path[4200], log_path[4200];
};

int cli_recording_load(const char *dir, struct cli_recording *r);
void cli_recording_release(struct cli_recording *r);

/* cli_sim_write() for a recording: its replay (driver_replay()), untimed. */
int cli_sim_replay_write(const char *name, const struct cli_recording *rec, const char *dir,
			 uint64_t mem_bytes, struct sim_config *cfg, const struct cli_sim_model *m);

/* cli_check_out_dir() for an --out DIR the simulated side writes into (cmd_sim.c). */
int cli_sim_check_out_dir(const char *name, const char *dir);

/* Read a --config file over sim_config_init()'s defaults (cmd_sim.c); *mem_bytes as there. */
int cli_sim_read_config(const char *path, struct sim_config *cfg, uint64_t *mem_bytes);

/*
 * A progress display on stderr: "virtuoso NAME: [k/n] what, 12 s elapsed,
 * ETA 30 s", one line per step, or rewritten in place on a terminal. The
 * ETA assumes the steps left take as long as the steps done did, on
 * average. cli_progress_show(p, total, total, ...) ends it with the time taken.
 */
struct cli_progress {
	struct timespec start;
	bool tty;
	unsigned total;
	const char *name;
};

void cli_progress_init(struct cli_progress *p, const char *name);
/* ctx: the struct cli_progress (a callback's shape) */
void cli_progress_show(void *ctx, unsigned done, unsigned total, const char *what);

#endif
