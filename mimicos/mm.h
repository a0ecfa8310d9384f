/*
 * mm.h - what every part of MimicOS shares (Linux: include/linux/mm.h and
 * asm/page.h): the page size and the always-on invariant check.
 *
 * mimicos_check() is Linux's BUG_ON made unconditional: MimicOS is a model
 * whose results researchers trust, so a broken invariant stops the run with
 * the file, the line and what broke, in every build (tests check that it
 * fires with .signal = SIGABRT).
 */
#ifndef MIMICOS_MM_H
#define MIMICOS_MM_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "mimicos/version.h"

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x)	(((x) + PAGE_SIZE - 1) & PAGE_MASK)

static inline void __attribute__((format(printf, 3, 4), noreturn))
mimicos_check_failed(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mimicos: %s:%d: invariant violated: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define mimicos_check(cond, ...)						\
	do {									\
		if (__builtin_expect(!(cond), 0))				\
			mimicos_check_failed(__FILE__, __LINE__, __VA_ARGS__);	\
	} while (0)

#endif
