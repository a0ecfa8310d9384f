/*
 * files.h - a test's scratch directory and reading what a test wrote there.
 */
#ifndef TESTS_FILES_H
#define TESTS_FILES_H

#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "workload/json.h"

/* mkdtemp() on a "/tmp/...-XXXXXX" template, or the test fails. */
static inline void tmp_make(char *templ)
{
	cr_assert_not_null(mkdtemp(templ), "cannot make %s", templ);
}

/* The directory and all in it. */
static inline void tmp_remove(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
}

/* DIR/NAME's whole text (free() it), or the test fails. */
static __attribute__((noinline, unused)) char *slurp_in(const char *dir, const char *name)
{
	char path[4200], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(wj_read_file(path, &text, &len, NULL), 0, "%s: not written", path);
	return text;
}

#endif
