/*
 * error.h - one-line errors for bad input.
 *
 * Every input error names the file, the field (a JSON path such as
 * "phases[2].stride", or a position for syntax errors) and what was expected.
 * The three parts are kept apart so tests can assert the path exactly, and
 * joined by wl_error_print() into the one line the user sees:
 *
 *	FILE: PATH: MESSAGE
 */
#ifndef WORKLOAD_ERROR_H
#define WORKLOAD_ERROR_H

#include <stdio.h>

struct wl_error {
	char file[256];
	char path[160];		/* JSON path, "line L, column C", or "" */
	char msg[512];
};

/* Fill err (which may be NULL) and return -1, for "return wl_error_set(...)". */
int wl_error_set(struct wl_error *err, const char *file, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "FILE: PATH: MESSAGE\n" (PATH omitted when empty) on 'to'. */
void wl_error_print(const struct wl_error *err, FILE *to);

#endif
