/*
 * check.h - the simulator's always-on invariant check: a violated one
 * prints where and what, then aborts (tests expect SIGABRT), as MimicOS's
 * mimicos_check() does for the kernel side.
 */
#ifndef SIMULATOR_CHECK_H
#define SIMULATOR_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static inline void __attribute__((format(printf, 3, 4), noreturn))
sim_check_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "simulator: %s:%d: invariant violated: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define sim_check(cond, ...)							\
	do {									\
		if (__builtin_expect(!(cond), 0))				\
			sim_check_failed(__FILE__, __LINE__, __VA_ARGS__);	\
	} while (0)

#endif
