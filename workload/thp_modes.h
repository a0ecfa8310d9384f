/*
 * thp_modes.h - the values of THP's sysfs settings, one list each: the
 * enums of the spec (workload/spec.h) and of MimicOS (mimicos/huge_memory.h)
 * and every table of their names are generated from these lists, so a mode
 * is spelled in one place. X(ENUM_SUFFIX, "name as sysfs and the JSON files
 * spell it"), in the order of the kernel's own enums.
 */
#ifndef WORKLOAD_THP_MODES_H
#define WORKLOAD_THP_MODES_H

/* /sys/kernel/mm/transparent_hugepage/enabled */
#define THP_ENABLED_MODES(X)			\
	X(ALWAYS, "always")			\
	X(MADVISE, "madvise")			\
	X(NEVER, "never")

/* /sys/kernel/mm/transparent_hugepage/defrag */
#define THP_DEFRAG_MODES(X)			\
	X(ALWAYS, "always")			\
	X(DEFER, "defer")			\
	X(DEFER_MADVISE, "defer+madvise")	\
	X(MADVISE, "madvise")			\
	X(NEVER, "never")

/* /sys/kernel/mm/transparent_hugepage/hugepages-<N>kB/enabled */
#define THP_SIZE_MODES(X)			\
	X(ALWAYS, "always")			\
	X(INHERIT, "inherit")			\
	X(MADVISE, "madvise")			\
	X(NEVER, "never")

#define THP_MODE_NAME(e, name) name,
#define THP_MODE_ONE(e, name) + 1

#define THP_ENABLED_NR	(0 THP_ENABLED_MODES(THP_MODE_ONE))
#define THP_DEFRAG_NR	(0 THP_DEFRAG_MODES(THP_MODE_ONE))
#define THP_SIZE_NR	(0 THP_SIZE_MODES(THP_MODE_ONE))

/* The names, index = position in the list (workload/kernel.c). */
extern const char *const thp_enabled_names[THP_ENABLED_NR];
extern const char *const thp_defrag_names[THP_DEFRAG_NR];
extern const char *const thp_size_mode_names[THP_SIZE_NR];

#endif
