/*
 * stats.h - the simulator's one stats printer: every component's counter
 * struct becomes JSON here and nowhere else (stats.c), as ChampSim prints
 * all its counters from one JSON printer.
 *
 * Each function returns a new cJSON object (free with cJSON_Delete(), or
 * attach it to a larger tree) holding every counter of the struct, zeros
 * included, in the order of the struct's X-list, keys equal to the field
 * names; NULL if out of memory. Components' names and configurations are
 * the caller's to add around them.
 *
 * So far (issue 5): the set-associative structure and DRAM.
 *
 *   sa_stats_to_json()		{"hits": 0, "misses": 0, "inserts": 0,
 *				 "evictions": 0, "dirty_evictions": 0,
 *				 "invalidations": 0}
 *   dram_stats_to_json()	{"reads": 0, "writes": 0, "row_hits": 0,
 *				 "row_misses": 0, "row_empty": 0}
 */
#ifndef SIMULATOR_STATS_H
#define SIMULATOR_STATS_H

struct cJSON;
struct sa_stats;
struct dram_stats;

struct cJSON *sa_stats_to_json(const struct sa_stats *st);
struct cJSON *dram_stats_to_json(const struct dram_stats *st);

#endif
