/*
 * json.h - reading JSON input with errors that name the field.
 *
 * Thin helpers over cJSON shared by every JSON input of the project (workload
 * specs now; hardware configurations and tolerance files later). Each getter
 * reads one key of an object, checks its type and range, and on failure fills
 * a struct wl_error with the file, the field's JSON path and what was
 * expected, then returns -1. Getters return 1 when the key was present and
 * valid, 0 when it was absent and not required (the output is left as is, so
 * callers set defaults first).
 */
#ifndef WORKLOAD_JSON_H
#define WORKLOAD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "workload/error.h"

/* Where we are: the file and the error to fill. */
struct wj_ctx {
	const char *file;
	struct wl_error *err;
};

/*
 * Largest integer read from JSON text exactly: 2^53 - 1. 2^53 itself reads
 * exactly, but so does 2^53 + 1, as 2^53: above 2^53 - 1 a reader cannot
 * tell what the text said.
 */
#define WJ_MAX_EXACT ((UINT64_C(1) << 53) - 1)

/* "parent.key" (or "key" at the top; key cut as quoted values are), "parent[i]" into buf. */
const char *wj_path_key(char *buf, size_t len, const char *parent, const char *key);
const char *wj_path_index(char *buf, size_t len, const char *parent, size_t i);

/*
 * Read a whole file into a NUL-terminated buffer (free() it). Errors name the
 * file: "cannot read: No such file or directory".
 */
int wj_read_file(const char *path, char **text, size_t *len, struct wl_error *err);

/*
 * Parse text as one JSON document, nothing after it. A syntax error (or a
 * truncated or empty file) gives "line L, column C" as the path.
 */
cJSON *wj_parse(const struct wj_ctx *c, const char *text, size_t len);

/*
 * Read 'path' and parse it as one JSON object (a --config or --tolerances
 * file): 0 with *root (cJSON_Delete it), or -1 with err naming the file (and
 * the line and column of a syntax error).
 */
int wj_load_object(const char *path, cJSON **root, struct wl_error *err);

/*
 * Check that obj (at 'path') is an object whose keys are all in 'allowed'
 * (NULL-terminated) and appear once. The error names the first offender.
 */
int wj_check_object(const struct wj_ctx *c, const cJSON *obj, const char *path,
		    const char *what, const char *const *allowed);

/*
 * Check that no object anywhere in the tree under v (at 'path') has a key
 * twice: cJSON keeps both and a lookup finds the first, so a file could say
 * two things at once. O(k log k) per object of k keys. The error names the
 * object's path and the key.
 */
int wj_check_unique_keys(const struct wj_ctx *c, const cJSON *v, const char *path);

/*
 * Values quoted in messages are cut to WJ_QUOTE_MAX bytes (at a character
 * boundary) and end in "…" when cut, so an error stays one short line
 * whatever the input holds. WJ_QUOTED_LEN holds one, quotes included.
 */
#define WJ_QUOTE_MAX 60
#define WJ_QUOTED_LEN 72

/* s in double quotes, cut as above, into buf (WJ_QUOTED_LEN bytes). */
const char *wj_quote(char *buf, size_t len, const char *s);

/* A short rendering of a value for messages: "\"12B\"", "-1", "an array". */
const char *wj_describe(const cJSON *v, char *buf, size_t len);

int wj_string(const struct wj_ctx *c, const cJSON *obj, const char *path,
	      const char *key, bool required, const char **out);
int wj_bool(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, bool *out);
/* An integer in [min, max] (max <= WJ_MAX_EXACT). */
int wj_uint(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, uint64_t min, uint64_t max, uint64_t *out);
/* A number in [min, max]; min_open excludes min itself. */
int wj_number(const struct wj_ctx *c, const cJSON *obj, const char *path,
	      const char *key, bool required, double min, bool min_open,
	      double max, double *out);
/* A size (integer bytes or "<n><unit>"), see size.h. */
int wj_size(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, uint64_t *out);
/* One of names[0..n), stored as its index. */
int wj_enum(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, const char *const *names, size_t n,
	    int *out);

/*
 * Render a tree as the project prints every JSON file: two-space indents,
 * "key": value, empty containers as {} and [], integers digit for digit
 * (cJSON's own printing rounds those above 2^52 to 15 digits). Returns malloc'd text ending
 * in a newline, or NULL when out of memory.
 */
char *wj_print(const cJSON *v);

/* Fill c->err for the field key of path ("" key: path itself); returns -1. */
int wj_fail(const struct wj_ctx *c, const char *path, const char *key,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* o.key as a number, or NAN when it is missing or not a number (null: NA). */
double wj_num_or_nan(const cJSON *o, const char *key);
/* o.key = v, or null when v is not finite (NA), as result files write it. */
void wj_add_num_or_null(cJSON *o, const char *key, double v);

/*
 * One CSV field (RFC 4180), the other text format the tools write: as it is
 * unless it holds a comma, a quote or a line break; then quoted, quotes
 * doubled.
 */
void wj_csv_field(FILE *f, const char *s);

#endif
