/*
 * version.h - the Linux version MimicOS imitates, in one place.
 *
 * Every MimicOS mechanism follows this kernel's source (mm/page_alloc.c,
 * mm/memory.c, mm/huge_memory.c, mm/khugepaged.c, ...) and the facts recorded
 * on a host running it (docs/linux-facts.md). When the
 * imitated kernel changes, change it here and re-derive the behaviour that
 * moved; the comments naming Linux functions refer to this version.
 */
#ifndef MIMICOS_VERSION_H
#define MIMICOS_VERSION_H

#define MIMICOS_LINUX_VERSION		"6.18"
#define MIMICOS_LINUX_VERSION_MAJOR	6
#define MIMICOS_LINUX_VERSION_MINOR	18

#include <stdbool.h>
#include <stdio.h>

/*
 * Whether a kernel release string (uname -r: "6.18.44-fc-v1300") is the
 * version MimicOS imitates: the same major and minor. A host running
 * another kernel may differ from MimicOS for that reason alone.
 */
static inline bool mimicos_imitates(const char *release)
{
	int major, minor;

	return sscanf(release, "%d.%d", &major, &minor) == 2 &&
	       major == MIMICOS_LINUX_VERSION_MAJOR && minor == MIMICOS_LINUX_VERSION_MINOR;
}

#endif
