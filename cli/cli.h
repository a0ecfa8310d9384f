/*
 * cli.h - the virtuoso command line: one function per subcommand.
 *
 * Exit status (../shared/spec/results.md): 0 success; 2 bad input (spec,
 * config, arguments), one line on stderr naming the file and field; 3 this
 * host cannot do what was asked, one line saying what is missing; 1 anything
 * else.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

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
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_hwinfo(int argc, char **argv);

extern const struct cli_cmd cli_cmds[];
const struct cli_cmd *cli_find(const char *name);

/* Verbosity (-v, repeatable) shared by all commands. */
extern int cli_verbose;

/* The tool's version ("0.1.0"), recorded in results. */
extern const char *const cli_version;

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

/* Print "virtuoso CMD: <msg>" and a hint, return EXIT_BAD_INPUT. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct cJSON;

/*
 * Read a JSON file that must hold one object (a --config file). Returns 0
 * with *root (free with cJSON_Delete), or -1 with err naming the file.
 */
int cli_load_json_object(const char *path, struct cJSON **root, struct wl_error *err);

/* Load a spec or print its error; returns EXIT_OK or EXIT_BAD_INPUT. */
int cli_load_spec(const char *path, struct wl_spec *s);

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

#endif
