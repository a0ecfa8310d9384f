/*
 * hoststat.h - the kernel's own counters, read before and after a run as a
 * cross-check of what the probes saw: every /proc/vmstat line, and under THP
 * sysfs every hugepages-<size>/stats/<counter> and khugepaged's
 * pages_collapsed and full_scans.
 *
 * These counters are system-wide: other processes move them too. The deltas
 * are reported as they are, next to the probes' per-process counts.
 */
#ifndef LINUX_PROBES_HOSTSTAT_H
#define LINUX_PROBES_HOSTSTAT_H

#include <stddef.h>
#include <stdint.h>

struct hoststat_item {
	char name[96];		/* "vmstat/pgfault", "hugepages-2048kB/anon_fault_alloc", ... */
	uint64_t value;
};

struct hoststat {
	struct hoststat_item *items;
	size_t nr, alloc;
};

/* Read every counter now. Returns 0, or -1 if /proc/vmstat cannot be read. */
int hoststat_read(struct hoststat *hs, const char *vmstat_path, const char *thp_root);

/* Look one up by name; returns 0 and the value, or -1 when absent. */
int hoststat_get(const struct hoststat *hs, const char *name, uint64_t *value);

/*
 * {"vmstat": {"pgfault": 16390, ...}, "hugepages-2048kB": {...}, "khugepaged": {...}}:
 * after - before for every counter that changed (gauges such as nr_* can go
 * down: those deltas are signed).
 */
struct cJSON;
struct cJSON *hoststat_delta_json(const struct hoststat *before, const struct hoststat *after);

void hoststat_release(struct hoststat *hs);

#endif
