/*
 * config.h - the simulator's whole configuration: one JSON object per
 * component, defaults in one place (sim_config_init()), unknown keys and bad
 * values rejected with the file and the JSON path named, the effective
 * configuration echoed into every result (sim_config_to_json()).
 *
 * JSON (every key optional; each overrides the default it names):
 *
 *   {
 *     "origin": "...",		what the configuration describes (free text)
 *     "notes": [ "...", ... ],	how it was derived, one line each (free text)
 *     "core":  { core.h's keys },
 *     "mmu":   { mmu.h's keys },
 *     "l1d":   SA, "l2": SA, "llc": SA,	the data caches, 64-byte lines
 *     "dram":  { dram.h's keys },
 *     "mimicos": { channel_config_from_json()'s keys },
 *     "calibration": { "host": STRING, "date": STRING, "source": STRING }
 *   }
 *
 * where SA is a set-associative structure (sa.h):
 *   { "sets": 64, "ways": 12, "latency": 4, "replacement": "lru" }.
 * Keys are the struct field names (sa_config.repl is "replacement", as sa.h
 * says). Sizes of structures are sets x ways, never bytes: a cache of
 * S sets and W ways holds S * W * 64 bytes.
 *
 * Absent structures: an MMU structure with "ways": 0 does not exist (mmu.h).
 * Only the L1 TLB that holds 4 KiB pages must exist (dtlb_4k, or dtlb when
 * l1_unified); dtlb_2m, dtlb_1g, the unused one of dtlb/dtlb_4k, stlb, the
 * page-walk caches and nested.ntlb may have ways 0. Their "sets" must still
 * be a power of two. The three data caches always exist.
 *
 * The defaults (sim_config_init(), datasets/configs/virtuoso-reference.json
 * holds the same values, and a test keeps them equal) are the reference
 * system's: Virtuoso on Sniper, configured as a Meteor Lake P-core
 * (docs/reference-system.md). Values the reference does not give are
 * chosen and justified in config.c.
 *
 * DRAM timings are core cycles (dram.h). Their default is DDR4-2400 at the
 * core's clock, so when "core.freq_mhz" changes the clock and the DRAM
 * timings are still the DDR4-2400 values of the old clock (none of t_row_*
 * given before), they are recomputed for the new clock, before "dram"'s own
 * keys apply: 45 ns stays 45 ns whatever the frequency.
 */
#ifndef SIMULATOR_CONFIG_H
#define SIMULATOR_CONFIG_H

#include "mimicos/channel.h"
#include "simulator/core.h"
#include "simulator/dram.h"
#include "simulator/memsys.h"
#include "simulator/mmu.h"
#include "simulator/sa.h"
#include "workload/error.h"

struct cJSON;

/* Every cache line of the simulator: fixed, not configurable. */
#define SIM_LINE_SIZE	64

/*
 * Which calibration produced a configuration: the host it was measured on,
 * when, and from what (the Linux runs, a report...). Written by a
 * calibration; recorded, never interpreted. In JSON all three keys are
 * required once "calibration" is given; absent, the configuration is
 * uncalibrated ('given' false, the strings empty) and sim.json says
 * "calibrated": false.
 */
struct sim_calibration {
	bool given;
	char host[128];
	char date[64];
	char source[256];
};

struct sim_config {
	/*
	 * What this configuration describes: "reference: ..." for the
	 * defaults, "hwinfo: <vendor> family F model M: <cpu name>" for a host
	 * preset. Recorded, never interpreted (the host preset's test compares
	 * the vendor and family it names).
	 */
	char origin[160];
	/*
	 * How the configuration was derived, one line per note joined by '\n'
	 * ("notes": an array of strings in JSON, left out when empty): what
	 * virtuoso hwinfo read, rounded, shared or measured. Recorded, never
	 * interpreted.
	 */
	char notes[2048];
	struct core_config core;
	struct mmu_config mmu;
	struct sa_config l1d, l2, llc;
	struct prefetch_config prefetch;	/* L2's stream prefetcher (memsys.h) */
	struct dram_config dram;
	struct channel_config mimicos;
	struct sim_calibration calibration;
};

/* The defaults (the whole struct is zeroed first, padding included). */
void sim_config_init(struct sim_config *cfg);

/*
 * Apply the JSON object 'root' over *cfg (call sim_config_init() first).
 * 'file' names the input in errors. Returns 0, or -1 with err filled: the
 * file, the JSON path of the offending key ("mmu.pwc_pd.ways",
 * "mimicos.thp.enabled") and what was expected. On error *cfg may be
 * partly updated.
 */
int sim_config_from_json(struct sim_config *cfg, const struct cJSON *root, const char *file,
			 struct wl_error *err);

/*
 * sim_config_init() then sim_config_from_json() of the file at 'path' (one
 * JSON object). 0 or -1 with err naming the file.
 */
int sim_config_load(struct sim_config *cfg, const char *path, struct wl_error *err);

/*
 * The whole effective configuration, every key, as sim_config_from_json()
 * reads it ("calibration" only when given): sim_config_from_json(
 * sim_config_to_json(x)) over the defaults gives x back exactly. NULL when
 * out of memory.
 */
struct cJSON *sim_config_to_json(const struct sim_config *cfg);

/*
 * The same without "mimicos": the hardware only, as the presets in
 * datasets/configs/ hold it (the OS's configuration is the run's, not the
 * machine's).
 */
struct cJSON *sim_config_hw_to_json(const struct sim_config *cfg);

/* The hardware part the timing model takes (timing.h's struct timing_config). */
struct timing_config;
void sim_config_timing(const struct sim_config *cfg, struct timing_config *out);

/* One structure's object, {"sets", "ways", "latency", "replacement"}. */
struct cJSON *sa_config_to_json(const struct sa_config *sa);

#endif
