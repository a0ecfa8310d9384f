/*
 * config.c - the simulator's configuration: the defaults (the one place
 * they are written), the strict JSON reader and the echo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "simulator/config.h"
#include "simulator/timing.h"
#include "workload/json.h"
#include "workload/spec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(CORE_PATTERNS == WL_PAT_CHASE + 1, "core.executor_cycles: one per wl_pattern");

static const char *const pwc_keys[PWC_NR] = {
	[PWC_PML5] = "pwc_pml5", [PWC_PML4] = "pwc_pml4",
	[PWC_PDPT] = "pwc_pdpt", [PWC_PD] = "pwc_pd",
};

static struct sa_config sa(uint32_t sets, uint32_t ways, uint32_t latency)
{
	return (struct sa_config){ .sets = sets, .ways = ways, .latency = latency,
				   .repl = SA_REPL_LRU };
}

/* ---- the defaults ---------------------------------------------------------- */

void sim_config_init(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->origin, sizeof(cfg->origin),
		 "reference: Virtuoso on Sniper, Meteor Lake P-core, DDR4-2400");

	/*
	 * Core: the reference's Meteor Lake P-core runs at 5.1 GHz. work_cycles
	 * and mlp: one cycle of work per access, ten misses in flight. Fault
	 * entry and exit (not given by
	 * the reference, whose in-simulator mode charges a flat
	 * page_fault_latency): exception delivery through the IDT is ~100-150
	 * cycles on recent x86 cores and the entry code (swapgs, saving
	 * pt_regs, error_entry) ~100 more; the return (restoring registers,
	 * iretq) ~200; without KPTI, whose CR3 switches would add ~200 more
	 * each way. kernel_cpi 1.0: the kernel's fault path is branchy integer
	 * code; its memory accesses are timed separately, through the caches,
	 * so only the rest is charged here.
	 *
	 * The calibration knobs (bandwidth floors, time outside the fault
	 * window, the hypervisor's first touch, the executor's work per
	 * access) are 0: off. A calibration to a host sets them; the
	 * reference publishes none of them.
	 */
	cfg->core = (struct core_config){
		.freq_mhz = 5100,
		.work_cycles = 1,
		.mlp = 10,
		.fault_entry_cycles = 250,
		.fault_exit_cycles = 200,
		.kernel_cpi = 1.0,
		/* ~1 us and ~0.5 us at 5.1 GHz: a bare-metal IPI round trip and handler */
		.ipi_wait_cycles = 5000,
		.ipi_handle_cycles = 2500,
	};

	/*
	 * MMU: the reference's Sniper defaults. L1 DTLBs per page size,
	 * 64 entries 4-way (16 sets) and 1 cycle each for 4 KiB and 2 MiB; it
	 * has no 1 GiB L1 (ways 0). The unified "dtlb" is not used unless
	 * l1_unified; it holds the 4 KiB geometry so that turning it on gives
	 * a sensible L1. L2 TLB 2048 entries 8-way (256 sets), 12 cycles, for
	 * 4 KiB and 2 MiB pages. Page-walk caches for the PML4, PDPT and PD
	 * entries, 32 entries 4-way (8 sets), 1 cycle; none for PML5 (4-level
	 * tables; ways 0, sets kept at 8 so that giving ways 4 makes a
	 * 32-entry one). 4 walkers. Nested paging off; when on, 4 KiB host
	 * pages, 4 host levels and a 16-entry 4-way nested TLB (the reference
	 * has a nested MMU but publishes no size for it).
	 */
	cfg->mmu.l1_unified = false;
	cfg->mmu.dtlb_4k = sa(16, 4, 1);
	cfg->mmu.dtlb_2m = sa(16, 4, 1);
	cfg->mmu.dtlb_1g = sa(1, 0, 1);
	cfg->mmu.dtlb = sa(16, 4, 1);
	cfg->mmu.stlb = sa(256, 8, 12);
	cfg->mmu.stlb_1g = false;
	cfg->mmu.pwc = true;
	cfg->mmu.pwc_level[PWC_PML5] = sa(8, 0, 1);
	cfg->mmu.pwc_level[PWC_PML4] = sa(8, 4, 1);
	cfg->mmu.pwc_level[PWC_PDPT] = sa(8, 4, 1);
	cfg->mmu.pwc_level[PWC_PD] = sa(8, 4, 1);
	cfg->mmu.walkers = 4;
	cfg->mmu.nested.enabled = false;
	cfg->mmu.nested.host_page_size = 4096;
	cfg->mmu.nested.host_levels = 4;
	cfg->mmu.nested.ntlb = sa(4, 4, 1);

	/*
	 * Caches, 64-byte lines: the reference's L1D 48 KiB 12-way (64 sets),
	 * 4 cycles; L2 2 MiB 16-way (2048 sets), 12 cycles. Its LLC is given
	 * only as slices of 20 cycles: here one LLC of 24 MiB 12-way (32768
	 * sets), the L3 of the Meteor Lake parts with that P-core (Core Ultra
	 * 7/9 H), at 20 cycles.
	 */
	cfg->l1d = sa(64, 12, 4);
	cfg->l2 = sa(2048, 16, 12);
	cfg->llc = sa(32768, 12, 20);

	/* DRAM: the reference's DDR4-2400 at 45 ns, in cycles of this core. */
	dram_config_ddr4_2400(&cfg->dram, cfg->core.freq_mhz);
	/* no data prefetcher in the reference; a calibration sets one */
	cfg->prefetch = (struct prefetch_config){ .degree = 0, .streams = 16 };

	channel_config_init(&cfg->mimicos);

	/* Uncalibrated until a calibration says otherwise. */
	cfg->calibration.given = false;
}

/* ---- reading ------------------------------------------------------------------ */

/*
 * The key a phrase of sa_config_error()/dram_config_error() is about: its
 * first word when that is one of 'keys' and not a product ("sets * ways
 * must ..." names the structure: "").
 */
static const char *phrase_key(const char *phrase, const char *const *keys)
{
	size_t n = strcspn(phrase, " ");

	if (!strncmp(phrase + n, " *", 2))
		return "";
	for (const char *const *k = keys; *k; k++)
		if (strlen(*k) == n && !strncmp(phrase, *k, n))
			return *k;
	return "";
}

/* One structure's object at 'path' over *s (values are checked by sa_check()). */
static int sa_from_json(const struct wj_ctx *c, const cJSON *o, const char *path,
			struct sa_config *s)
{
	static const char *const keys[] = { "sets", "ways", "latency", "replacement", "index",
					    NULL };
	const char *name;
	uint64_t u;
	int r;

	if (wj_check_object(c, o, path, "a set-associative structure", keys))
		return -1;
	if ((r = wj_uint(c, o, path, "sets", false, 0, UINT32_MAX, &u)) < 0)
		return -1;
	if (r)
		s->sets = (uint32_t)u;
	if ((r = wj_uint(c, o, path, "ways", false, 0, UINT32_MAX, &u)) < 0)
		return -1;
	if (r)
		s->ways = (uint32_t)u;
	if ((r = wj_uint(c, o, path, "latency", false, 0, UINT32_MAX, &u)) < 0)
		return -1;
	if (r)
		s->latency = (uint32_t)u;
	if ((r = wj_string(c, o, path, "replacement", false, &name)) < 0)
		return -1;
	if (r && sa_repl_from_name(name, &s->repl))
		return wj_fail(c, path, "replacement",
			       "expected \"lru\", \"srrip\" or \"random\", got \"%s\"", name);
	if ((r = wj_string(c, o, path, "index", false, &name)) < 0)
		return -1;
	if (r && strcmp(name, "modulo") && strcmp(name, "xor"))
		return wj_fail(c, path, "index", "expected \"modulo\" or \"xor\", got \"%.40s\"",
			       name);
	if (r)
		s->hashed = !strcmp(name, "xor");
	return 0;
}

/*
 * Check a structure after all overrides: sa_config_error(), naming the key.
 * 'optional': ways 0 is allowed (the structure is absent); its sets must
 * still be a power of two and its policy known.
 */
static int sa_check(const struct wj_ctx *c, const char *path, const struct sa_config *s,
		    bool optional)
{
	static const char *const keys[] = { "sets", "ways", "latency", "replacement", NULL };
	struct sa_config chk = *s;
	const char *why;

	if (optional && !chk.ways)
		chk.ways = 1;	/* absent: only sets and the policy must make sense */
	why = sa_config_error(&chk);
	if (!why)
		return 0;
	if (!optional && !s->ways)
		why = "ways must be in [1, 65535] (this structure cannot be absent)";
	return wj_fail(c, path, phrase_key(why, keys), "%s", why);
}

/* "core.executor_cycles": one count per access pattern, by its workload-format name. */
static int executor_from_json(const struct wj_ctx *c, const cJSON *o, uint32_t *cycles)
{
	const char *keys[CORE_PATTERNS + 1] = { NULL };
	uint64_t u;
	int r;

	for (int p = 0; p < CORE_PATTERNS; p++)
		keys[p] = wl_pattern_name((enum wl_pattern)p);
	if (wj_check_object(c, o, "core.executor_cycles",
			    "cycles per access by pattern", keys))
		return -1;
	for (int p = 0; p < CORE_PATTERNS; p++) {
		if ((r = wj_uint(c, o, "core.executor_cycles", keys[p], false, 0, 1000000,
				 &u)) < 0)
			return -1;
		if (r)
			cycles[p] = (uint32_t)u;
	}
	return 0;
}

static int core_from_json(const struct wj_ctx *c, const cJSON *o, struct core_config *core)
{
	static const char *const keys[] = { "freq_mhz", "work_cycles", "mlp",
					    "fault_entry_cycles", "fault_exit_cycles",
					    "kernel_cpi", "zero_bandwidth_gbs",
					    "copy_bandwidth_gbs", "fault_outside_window_cycles",
					    "first_touch_cycles_per_4k", "cold_share",
					    "executor_cycles", "rob_cycles", "ipi_wait_cycles",
					    "ipi_handle_cycles", NULL };
	const cJSON *sub;
	uint64_t u;
	double d;
	int r;

	if (wj_check_object(c, o, "core", "the core's configuration", keys))
		return -1;
#define U32(key, lo, hi)							\
	if ((r = wj_uint(c, o, "core", #key, false, lo, hi, &u)) < 0)		\
		return -1;							\
	if (r)									\
		core->key = (uint32_t)u;
	U32(freq_mhz, 100, 100000)
	U32(work_cycles, 0, 1000000)
	U32(mlp, 1, 4096)
	U32(fault_entry_cycles, 0, 100000000)
	U32(fault_exit_cycles, 0, 100000000)
	U32(fault_outside_window_cycles, 0, 100000000)
	U32(first_touch_cycles_per_4k, 0, 100000000)
	U32(rob_cycles, 0, 1000000)
	U32(ipi_wait_cycles, 0, 100000000)
	U32(ipi_handle_cycles, 0, 100000000)
#undef U32
#define NUM(key, lo, lo_open, hi)						\
	if ((r = wj_number(c, o, "core", #key, false, lo, lo_open, hi, &d)) < 0) \
		return -1;							\
	if (r)									\
		core->key = d;
	NUM(kernel_cpi, 0, true, 1000)
	NUM(zero_bandwidth_gbs, 0, false, 100000)
	NUM(copy_bandwidth_gbs, 0, false, 100000)
	NUM(cold_share, 0, false, 1)
#undef NUM
	if ((sub = cJSON_GetObjectItemCaseSensitive(o, "executor_cycles")) &&
	    executor_from_json(c, sub, core->executor_cycles))
		return -1;
	return 0;
}

static int mmu_from_json(const struct wj_ctx *c, const cJSON *o, struct mmu_config *m)
{
	static const char *const keys[] = { "l1_unified", "dtlb_4k", "dtlb_2m", "dtlb_1g",
					    "dtlb", "stlb", "stlb_1g", "pwc", "pwc_pml5",
					    "pwc_pml4", "pwc_pdpt", "pwc_pd", "walkers",
					    "nested", NULL };
	static const char *const nested_keys[] = { "enabled", "host_page_size", "host_levels",
						   "ntlb", "host_frames", NULL };
	struct { const char *key; struct sa_config *s; } sas[] = {
		{ "dtlb_4k", &m->dtlb_4k }, { "dtlb_2m", &m->dtlb_2m },
		{ "dtlb_1g", &m->dtlb_1g }, { "dtlb", &m->dtlb }, { "stlb", &m->stlb },
		{ pwc_keys[PWC_PML5], &m->pwc_level[PWC_PML5] },
		{ pwc_keys[PWC_PML4], &m->pwc_level[PWC_PML4] },
		{ pwc_keys[PWC_PDPT], &m->pwc_level[PWC_PDPT] },
		{ pwc_keys[PWC_PD], &m->pwc_level[PWC_PD] },
	};
	const cJSON *sub;
	char path[64];
	uint64_t u;
	int r;

	if (wj_check_object(c, o, "mmu", "the MMU's configuration", keys))
		return -1;
	if (wj_bool(c, o, "mmu", "l1_unified", false, &m->l1_unified) < 0 ||
	    wj_bool(c, o, "mmu", "stlb_1g", false, &m->stlb_1g) < 0 ||
	    wj_bool(c, o, "mmu", "pwc", false, &m->pwc) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(sas); i++) {
		sub = cJSON_GetObjectItemCaseSensitive(o, sas[i].key);
		if (sub && sa_from_json(c, sub, wj_path_key(path, sizeof(path), "mmu", sas[i].key),
					sas[i].s))
			return -1;
	}
	if ((r = wj_uint(c, o, "mmu", "walkers", false, 1, 64, &u)) < 0)
		return -1;
	if (r)
		m->walkers = (uint32_t)u;
	sub = cJSON_GetObjectItemCaseSensitive(o, "nested");
	if (!sub)
		return 0;
	if (wj_check_object(c, sub, "mmu.nested", "the nested-paging configuration", nested_keys))
		return -1;
	if (wj_bool(c, sub, "mmu.nested", "enabled", false, &m->nested.enabled) < 0)
		return -1;
	if ((r = wj_size(c, sub, "mmu.nested", "host_page_size", false, &u)) < 0)
		return -1;
	if (r && u != 4096 && u != (2ULL << 20) && u != (1ULL << 30))
		return wj_fail(c, "mmu.nested", "host_page_size",
			       "expected 4096, 2097152 or 1073741824 (4 KiB, 2 MiB or 1 GiB), got %llu",
			       (unsigned long long)u);
	if (r)
		m->nested.host_page_size = u;
	if ((r = wj_uint(c, sub, "mmu.nested", "host_levels", false, 4, 5, &u)) < 0)
		return -1;
	if (r)
		m->nested.host_levels = (uint32_t)u;
	{
		const char *hf;

		if ((r = wj_string(c, sub, "mmu.nested", "host_frames", false, &hf)) < 0)
			return -1;
		if (r && strcmp(hf, "scattered") && strcmp(hf, "contiguous"))
			return wj_fail(c, "mmu.nested", "host_frames",
				       "expected \"scattered\" or \"contiguous\", got \"%.40s\"", hf);
		if (r)
			m->nested.contiguous = !strcmp(hf, "contiguous");
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(sub, "ntlb")) &&
	    sa_from_json(c, sub, "mmu.nested.ntlb", &m->nested.ntlb))
		return -1;
	return 0;
}

/* The MMU after all overrides: each structure valid, the L1 for 4 KiB present. */
static int mmu_check(const struct wj_ctx *c, const struct mmu_config *m)
{
	char path[64];

	if (sa_check(c, "mmu.dtlb_4k", &m->dtlb_4k, m->l1_unified) ||
	    sa_check(c, "mmu.dtlb_2m", &m->dtlb_2m, true) ||
	    sa_check(c, "mmu.dtlb_1g", &m->dtlb_1g, true) ||
	    sa_check(c, "mmu.dtlb", &m->dtlb, !m->l1_unified) ||
	    sa_check(c, "mmu.stlb", &m->stlb, true))
		return -1;
	for (int l = 0; l < PWC_NR; l++)
		if (sa_check(c, wj_path_key(path, sizeof(path), "mmu", pwc_keys[l]),
			     &m->pwc_level[l], true))
			return -1;
	return sa_check(c, "mmu.nested.ntlb", &m->nested.ntlb, true);
}

static int prefetch_from_json(const struct wj_ctx *c, const cJSON *o, struct prefetch_config *p)
{
	static const char *const keys[] = { "degree", "streams", "adjacent", NULL };
	uint64_t u;
	bool b;
	int r;

	if (wj_check_object(c, o, "prefetch", "the L2 stream prefetcher's configuration", keys))
		return -1;
	if ((r = wj_uint(c, o, "prefetch", "degree", false, 0, 63, &u)) < 0)
		return -1;
	if (r)
		p->degree = (uint32_t)u;
	if ((r = wj_uint(c, o, "prefetch", "streams", false, 1, MEMSYS_MAX_STREAMS, &u)) < 0)
		return -1;
	if (r)
		p->streams = (uint32_t)u;
	if ((r = wj_bool(c, o, "prefetch", "adjacent", false, &b)) < 0)
		return -1;
	if (r)
		p->adjacent = b;
	return 0;
}

static int dram_from_json(const struct wj_ctx *c, const cJSON *o, struct dram_config *d)
{
	static const char *const keys[] = { "channels", "ranks", "banks", "row_bytes",
					    "t_row_hit", "t_row_miss", "t_row_empty", NULL };
	uint64_t u;
	int r;

	if (wj_check_object(c, o, "dram", "the DRAM's configuration", keys))
		return -1;
#define U32(key)								\
	if ((r = wj_uint(c, o, "dram", #key, false, 0, UINT32_MAX, &u)) < 0)	\
		return -1;							\
	if (r)									\
		d->key = (uint32_t)u;
	U32(channels) U32(ranks) U32(banks) U32(row_bytes)
	U32(t_row_hit) U32(t_row_miss) U32(t_row_empty)
#undef U32
	return 0;
}

/* One required string of the calibration into dst (at most len - 1 characters). */
static int calibration_string(const struct wj_ctx *c, const cJSON *o, const char *key,
			      char *dst, size_t len)
{
	const char *s;

	if (wj_string(c, o, "calibration", key, true, &s) < 0)
		return -1;
	if (strlen(s) >= len)
		return wj_fail(c, "calibration", key, "expected at most %zu characters", len - 1);
	snprintf(dst, len, "%s", s);
	return 0;
}

static int calibration_from_json(const struct wj_ctx *c, const cJSON *o,
				 struct sim_calibration *cal)
{
	static const char *const keys[] = { "host", "date", "source", NULL };
	struct sim_calibration n = { .given = true };

	if (wj_check_object(c, o, "calibration",
			    "the calibration that produced this configuration", keys) ||
	    calibration_string(c, o, "host", n.host, sizeof(n.host)) ||
	    calibration_string(c, o, "date", n.date, sizeof(n.date)) ||
	    calibration_string(c, o, "source", n.source, sizeof(n.source)))
		return -1;
	*cal = n;
	return 0;
}

/* "notes": an array of strings without newlines, joined by '\n' into dst. */
static int notes_from_json(const struct wj_ctx *c, const cJSON *o, char *dst, size_t len)
{
	const cJSON *it;
	size_t n = 0;

	if (!cJSON_IsArray(o))
		return wj_fail(c, "", "notes", "expected an array of strings");
	dst[0] = '\0';
	cJSON_ArrayForEach(it, o) {
		size_t l;

		if (!cJSON_IsString(it) || strchr(it->valuestring, '\n'))
			return wj_fail(c, "", "notes", "expected strings of one line each");
		l = strlen(it->valuestring);
		if (n + l + 2 > len)
			return wj_fail(c, "", "notes", "expected at most %zu characters in all",
				       len - 1);
		n += (size_t)snprintf(dst + n, len - n, "%s%s", n ? "\n" : "", it->valuestring);
	}
	return 0;
}

/* cfg->notes as a JSON array of its lines. */
static cJSON *notes_to_json(const char *notes)
{
	cJSON *a = cJSON_CreateArray();

	for (const char *p = notes; a && *p;) {
		size_t l = strcspn(p, "\n");
		char line[sizeof(((struct sim_config *)0)->notes)];
		cJSON *s;

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (!(s = cJSON_CreateString(line))) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, s);
		p += l + (p[l] == '\n');
	}
	return a;
}

/* channel_config_from_json()'s paths are relative to its object: prefix them. */
static void prefix_path(struct wl_error *err, const char *prefix)
{
	size_t n = strlen(err->path), p = strlen(prefix);

	if (n + p + 2 > sizeof(err->path))
		return;
	memmove(err->path + p + (n ? 1 : 0), err->path, n + 1);
	memcpy(err->path, prefix, p);
	if (n)
		err->path[p] = '.';
}

int sim_config_from_json(struct sim_config *cfg, const cJSON *root, const char *file,
			 struct wl_error *err)
{
	static const char *const keys[] = { "origin", "notes", "core", "mmu", "l1d", "l2", "llc",
					    "prefetch", "dram", "mimicos", "calibration", NULL };
	struct wl_error local;
	struct wj_ctx c = { .file = file, .err = err ? err : &local };
	struct { const char *key; struct sa_config *s; } caches[] = {
		{ "l1d", &cfg->l1d }, { "l2", &cfg->l2 }, { "llc", &cfg->llc },
	};
	const cJSON *sub;
	const char *s;
	int r;

	if (wj_check_object(&c, root, "", "a simulator configuration", keys))
		return -1;
	if ((r = wj_string(&c, root, "", "origin", false, &s)) < 0)
		return -1;
	if (r && strlen(s) >= sizeof(cfg->origin))
		return wj_fail(&c, "", "origin", "expected at most %zu characters",
			       sizeof(cfg->origin) - 1);
	if (r)
		snprintf(cfg->origin, sizeof(cfg->origin), "%s", s);
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "notes")) &&
	    notes_from_json(&c, sub, cfg->notes, sizeof(cfg->notes)))
		return -1;
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "core"))) {
		uint32_t old_mhz = cfg->core.freq_mhz;
		struct dram_config ddr4;

		if (core_from_json(&c, sub, &cfg->core))
			return -1;
		/* DRAM timings still DDR4-2400 at the old clock: follow the new one */
		dram_config_ddr4_2400(&ddr4, old_mhz);
		if (cfg->core.freq_mhz != old_mhz && cfg->dram.t_row_hit == ddr4.t_row_hit &&
		    cfg->dram.t_row_miss == ddr4.t_row_miss &&
		    cfg->dram.t_row_empty == ddr4.t_row_empty) {
			dram_config_ddr4_2400(&ddr4, cfg->core.freq_mhz);
			cfg->dram.t_row_hit = ddr4.t_row_hit;
			cfg->dram.t_row_miss = ddr4.t_row_miss;
			cfg->dram.t_row_empty = ddr4.t_row_empty;
		}
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "mmu")) &&
	    mmu_from_json(&c, sub, &cfg->mmu))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(caches); i++)
		if ((sub = cJSON_GetObjectItemCaseSensitive(root, caches[i].key)) &&
		    sa_from_json(&c, sub, caches[i].key, caches[i].s))
			return -1;
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "prefetch")) &&
	    prefetch_from_json(&c, sub, &cfg->prefetch))
		return -1;
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "dram")) &&
	    dram_from_json(&c, sub, &cfg->dram))
		return -1;
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "mimicos")) &&
	    channel_config_from_json(&cfg->mimicos, sub, file, c.err)) {
		prefix_path(c.err, "mimicos");
		return -1;
	}
	if ((sub = cJSON_GetObjectItemCaseSensitive(root, "calibration")) &&
	    calibration_from_json(&c, sub, &cfg->calibration))
		return -1;

	/* Values, once every override is in. */
	if (mmu_check(&c, &cfg->mmu))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(caches); i++)
		if (sa_check(&c, caches[i].key, caches[i].s, false))
			return -1;
	{
		static const char *const dkeys[] = { "channels", "ranks", "banks", "row_bytes",
						     NULL };
		const char *why = dram_config_error(&cfg->dram);

		if (why)
			return wj_fail(&c, "dram", phrase_key(why, dkeys), "%s", why);
	}
	return 0;
}

int sim_config_load(struct sim_config *cfg, const char *path, struct wl_error *err)
{
	cJSON *root;
	int ret;

	sim_config_init(cfg);
	if (wj_load_object(path, &root, err))
		return -1;
	ret = sim_config_from_json(cfg, root, path, err);
	cJSON_Delete(root);
	return ret;
}

/* ---- the echo ----------------------------------------------------------------- */

cJSON *sa_config_to_json(const struct sa_config *s)
{
	cJSON *o = cJSON_CreateObject();
	const char *name = sa_repl_name(s->repl);

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "sets", s->sets);
	cJSON_AddNumberToObject(o, "ways", s->ways);
	cJSON_AddNumberToObject(o, "latency", s->latency);
	cJSON_AddStringToObject(o, "replacement", name ? name : "?");
	if (s->hashed)	/* modulo, the default, is left out: the presets hold what differs */
		cJSON_AddStringToObject(o, "index", "xor");
	return o;
}

static cJSON *core_to_json(const struct core_config *core)
{
	cJSON *o = cJSON_CreateObject(), *ex;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "freq_mhz", core->freq_mhz);
	cJSON_AddNumberToObject(o, "work_cycles", core->work_cycles);
	cJSON_AddNumberToObject(o, "mlp", core->mlp);
	cJSON_AddNumberToObject(o, "fault_entry_cycles", core->fault_entry_cycles);
	cJSON_AddNumberToObject(o, "fault_exit_cycles", core->fault_exit_cycles);
	cJSON_AddNumberToObject(o, "kernel_cpi", core->kernel_cpi);
	cJSON_AddNumberToObject(o, "zero_bandwidth_gbs", core->zero_bandwidth_gbs);
	cJSON_AddNumberToObject(o, "copy_bandwidth_gbs", core->copy_bandwidth_gbs);
	cJSON_AddNumberToObject(o, "fault_outside_window_cycles",
				core->fault_outside_window_cycles);
	cJSON_AddNumberToObject(o, "first_touch_cycles_per_4k", core->first_touch_cycles_per_4k);
	cJSON_AddNumberToObject(o, "cold_share", core->cold_share);
	cJSON_AddNumberToObject(o, "rob_cycles", core->rob_cycles);
	cJSON_AddNumberToObject(o, "ipi_wait_cycles", core->ipi_wait_cycles);
	cJSON_AddNumberToObject(o, "ipi_handle_cycles", core->ipi_handle_cycles);
	ex = cJSON_AddObjectToObject(o, "executor_cycles");
	if (!ex) {
		cJSON_Delete(o);
		return NULL;
	}
	for (int p = 0; p < CORE_PATTERNS; p++)
		cJSON_AddNumberToObject(ex, wl_pattern_name((enum wl_pattern)p),
					core->executor_cycles[p]);
	return o;
}

static cJSON *mmu_to_json(const struct mmu_config *m)
{
	cJSON *o = cJSON_CreateObject(), *n;

	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "l1_unified", m->l1_unified);
	cJSON_AddItemToObject(o, "dtlb_4k", sa_config_to_json(&m->dtlb_4k));
	cJSON_AddItemToObject(o, "dtlb_2m", sa_config_to_json(&m->dtlb_2m));
	cJSON_AddItemToObject(o, "dtlb_1g", sa_config_to_json(&m->dtlb_1g));
	cJSON_AddItemToObject(o, "dtlb", sa_config_to_json(&m->dtlb));
	cJSON_AddItemToObject(o, "stlb", sa_config_to_json(&m->stlb));
	cJSON_AddBoolToObject(o, "stlb_1g", m->stlb_1g);
	cJSON_AddBoolToObject(o, "pwc", m->pwc);
	for (int l = 0; l < PWC_NR; l++)
		cJSON_AddItemToObject(o, pwc_keys[l], sa_config_to_json(&m->pwc_level[l]));
	cJSON_AddNumberToObject(o, "walkers", m->walkers);
	n = cJSON_AddObjectToObject(o, "nested");
	if (n) {
		cJSON_AddBoolToObject(n, "enabled", m->nested.enabled);
		cJSON_AddNumberToObject(n, "host_page_size", (double)m->nested.host_page_size);
		cJSON_AddNumberToObject(n, "host_levels", m->nested.host_levels);
		cJSON_AddItemToObject(n, "ntlb", sa_config_to_json(&m->nested.ntlb));
		cJSON_AddStringToObject(n, "host_frames",
					m->nested.contiguous ? "contiguous" : "scattered");
	}
	return o;
}

static cJSON *prefetch_to_json(const struct prefetch_config *p)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "degree", p->degree);
	cJSON_AddNumberToObject(o, "streams", p->streams);
	cJSON_AddBoolToObject(o, "adjacent", p->adjacent);
	return o;
}

static cJSON *dram_to_json(const struct dram_config *d)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "channels", d->channels);
	cJSON_AddNumberToObject(o, "ranks", d->ranks);
	cJSON_AddNumberToObject(o, "banks", d->banks);
	cJSON_AddNumberToObject(o, "row_bytes", d->row_bytes);
	cJSON_AddNumberToObject(o, "t_row_hit", d->t_row_hit);
	cJSON_AddNumberToObject(o, "t_row_miss", d->t_row_miss);
	cJSON_AddNumberToObject(o, "t_row_empty", d->t_row_empty);
	return o;
}

/* Every item created, or NULL (cJSON_AddItemToObject ignores a NULL item). */
static bool complete(const cJSON *o, size_t n)
{
	size_t got = 0;

	for (const cJSON *k = o->child; k; k = k->next)
		got++;
	return got == n;
}

cJSON *sim_config_hw_to_json(const struct sim_config *cfg)
{
	cJSON *root = cJSON_CreateObject();

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "origin", cfg->origin);
	if (cfg->notes[0])
		cJSON_AddItemToObject(root, "notes", notes_to_json(cfg->notes));
	cJSON_AddItemToObject(root, "core", core_to_json(&cfg->core));
	cJSON_AddItemToObject(root, "mmu", mmu_to_json(&cfg->mmu));
	cJSON_AddItemToObject(root, "l1d", sa_config_to_json(&cfg->l1d));
	cJSON_AddItemToObject(root, "l2", sa_config_to_json(&cfg->l2));
	cJSON_AddItemToObject(root, "llc", sa_config_to_json(&cfg->llc));
	cJSON_AddItemToObject(root, "prefetch", prefetch_to_json(&cfg->prefetch));
	cJSON_AddItemToObject(root, "dram", dram_to_json(&cfg->dram));
	if (!complete(root, 8 + !!cfg->notes[0])) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

cJSON *sim_config_to_json(const struct sim_config *cfg)
{
	cJSON *root = sim_config_hw_to_json(cfg);

	if (!root)
		return NULL;
	cJSON_AddItemToObject(root, "mimicos", channel_config_to_json(&cfg->mimicos));
	if (cfg->calibration.given) {
		cJSON *cal = cJSON_AddObjectToObject(root, "calibration");

		if (!cal || !cJSON_AddStringToObject(cal, "host", cfg->calibration.host) ||
		    !cJSON_AddStringToObject(cal, "date", cfg->calibration.date) ||
		    !cJSON_AddStringToObject(cal, "source", cfg->calibration.source)) {
			cJSON_Delete(root);
			return NULL;
		}
	}
	if (!complete(root, 9 + !!cfg->notes[0] + cfg->calibration.given)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

void sim_config_timing(const struct sim_config *cfg, struct timing_config *out)
{
	*out = (struct timing_config){ .core = cfg->core, .mmu = cfg->mmu, .l1d = cfg->l1d,
				       .l2 = cfg->l2, .llc = cfg->llc, .prefetch = cfg->prefetch,
				       .dram = cfg->dram };
}
