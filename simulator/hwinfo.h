/*
 * hwinfo.h - this host's memory-system geometry, as a simulator
 * configuration (virtuoso hwinfo, datasets/configs/host.json).
 *
 * What is read, and from where:
 *
 *   vendor, family, model   CPUID 0, 1 (family and model with their extended
 *                           fields, as the SDM and APM combine them); the
 *                           name from CPUID 0x80000002..4
 *   data TLBs   AMD:   CPUID 0x80000005 (L1 DTLB, 4 KiB and 2/4 MiB),
 *                      0x80000006 (L2 DTLB, 4 KiB and 2/4 MiB),
 *                      0x80000019 (L1 and L2 DTLB, 1 GiB)
 *               Intel: CPUID 0x18 (deterministic address translation
 *                      parameters, every subleaf), or leaf 0x2's
 *                      descriptor bytes when 0x18 is absent
 *   caches      /sys/devices/system/cpu/cpu0/cache/index*: level, type,
 *               size, ways_of_associativity, number_of_sets,
 *               coherency_line_size; else CPUID 0x8000001D (AMD) or 4
 *               (Intel), which share one layout
 *   frequency   CPUID 0x16 EAX (base MHz, Intel), else cpufreq's
 *               cpuinfo_max_freq, else /proc/cpuinfo's "cpu MHz"
 *
 * Only the data side is kept (instruction and store-only TLBs are not
 * modelled). Nothing here reports latencies, page-walk caches, walkers or
 * DRAM: those keep the defaults (config.h), and DRAM's timings are DDR4-2400
 * at the host's clock, unless measurements give them (below).
 *
 * Geometry mapping (hwinfo_sa_geometry()): the simulator's structures have
 * power-of-two sets. A fully associative structure of E entries becomes
 * 1 set of E ways. Otherwise S = E / W sets (W the hardware's ways); when S
 * is not a power of two, sets become the largest power of two P <= S and
 * ways E / P rounded to the nearest: the capacity (TLB reach, cache size)
 * is kept, exactly when P divides E and otherwise within half a way per
 * set, and associativity rises. Zen 4's L2 DTLB, 3072 entries 8-way = 384
 * sets, becomes 256 sets x 12 ways (exact); an 11-way 24.75 MiB L3 (36864
 * sets) becomes 32768 sets x 12 ways (24 MiB, 3% less).
 *
 * The LLC's share: sysfs (and lscpu) report the whole L3 of a socket or
 * CCD, e.g. 260 MiB on an Emerald Rapids guest, though every CPU that
 * shares it competes for it (and in a VM, tenants the guest cannot see).
 * The preset's LLC is the share of one CPU: the L3's lines divided by the
 * CPUs sharing it (sysfs shared_cpu_list; else CPUID 4 / 0x8000001D EAX
 * bits 25:14, "logical processors sharing this cache" minus 1), the ways
 * kept and the sets the largest power of two with sets x ways not above
 * the share (hwinfo_llc_share()). Zen 4's 32 MiB 16-way L3 shared by 2
 * CPUs becomes 16384 sets x 16 ways (16 MiB); an unshared or unknown
 * sharing keeps the whole cache, mapped as above. The configuration's
 * notes give the whole size, the sharing and the share.
 *
 * Nested paging: a guest (CPUID 1 ECX bit 31, the hypervisor-present bit)
 * translates every access in two dimensions, so the preset turns the MMU's
 * nested walk on (hwinfo_nested()) with 4 KiB host pages: a guest cannot
 * see the page size its host backs it with, and 4 KiB is the size every
 * host can back it with. On bare metal nested paging is off.
 *
 * Measured latencies (virtuoso hwinfo --measurements, calibrate/README.md's
 * measurements.json): the line chase's points (bytes, median ns per load)
 * give one plateau per level (hwinfo_plateau()); each is converted to
 * cycles at the measured clock, and core.freq_mhz becomes that clock.
 *
 * Page sizes: AMD's L1 DTLB is one fully associative structure for every
 * page size (AMD's software optimization guides for families 17h and 19h);
 * CPUID repeats its geometry per size. When the 4 KiB and 2 MiB L1 DTLB
 * fields agree and are fully associative, the host preset has l1_unified
 * with that structure as "dtlb" (counting it twice would double the L1).
 * The L2 TLB ("stlb", 4 KiB and 2 MiB pages) takes the geometry reported
 * for 4 KiB pages (on Intel the sum of every level-2 structure holding
 * 4 KiB pages, e.g. Tiger Lake's two 1024-entry arrays); stlb_1g is set when
 * a level-2 structure holds 1 GiB pages.
 */
#ifndef SIMULATOR_HWINFO_H
#define SIMULATOR_HWINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simulator/config.h"

enum hwinfo_vendor {
	HWINFO_OTHER,
	HWINFO_AMD,
	HWINFO_INTEL,
};

/* Page sizes of a TLB table. */
enum hwinfo_psize {
	HWINFO_4K,
	HWINFO_2M,
	HWINFO_1G,
	HWINFO_NR_PSIZE
};

/* One TLB as the hardware describes it; entries 0: none. */
struct hwinfo_tlb {
	uint32_t entries;
	uint32_t ways;		/* == entries when fully associative */
	bool fully;
};

/* The data TLBs: level 1 and 2, per page size. */
struct hwinfo_tlbs {
	struct hwinfo_tlb l1[HWINFO_NR_PSIZE];
	struct hwinfo_tlb l2[HWINFO_NR_PSIZE];
	bool l1_unified;	/* one L1 for every page size (see above) */
};

/* One cache level; size 0: not found. */
struct hwinfo_cache {
	uint64_t size;		/* bytes */
	uint32_t ways;
	uint32_t sets;
	uint32_t line;		/* bytes */
	uint32_t shared_cpus;	/* logical CPUs sharing it; 0: unknown */
};

struct hwinfo {
	enum hwinfo_vendor vendor;
	char vendor_id[13];		/* "AuthenticAMD", "GenuineIntel" */
	char name[49];			/* brand string, trimmed */
	uint32_t family, model, stepping;
	bool guest;			/* CPUID 1 ECX bit 31: under a hypervisor */
	char hypervisor[13];		/* CPUID 0x40000000 EBX ECX EDX in a guest: "KVMKVMKVM" */
	struct hwinfo_tlbs tlb;
	const char *tlb_source;		/* "cpuid 0x80000005/6/19", "cpuid 0x18", "cpuid 0x2", "none" */
	struct hwinfo_cache l1d, l2, llc;	/* data or unified caches, levels 1, 2, last */
	const char *cache_source;	/* "sysfs", "cpuid", "none" */
	const char *share_source;	/* of llc.shared_cpus: "sysfs shared_cpu_list", "cpuid", NULL */
	uint32_t freq_mhz;		/* 0: unknown */
	const char *freq_source;
};

/*
 * AMD's associativity field of CPUID 0x80000006 (and of 0x80000019's L2
 * fields), per the APM vol. 3 table "L2/L3 Cache and TLB Associativity
 * Field Encoding": 0 disabled, 1 direct mapped, 2, 3, 4 (4 to 5 ways), 5 6,
 * 6 8, 8 16, 0xA 32, 0xB 48, 0xC 64, 0xD 96, 0xE 128 ways, 0xF fully
 * associative. 7 is reserved and 9 means "see CPUID 0x8000001D" (caches
 * only): both give 0. Returns the ways; *fully set for 0xF (ways = entries).
 */
uint32_t hwinfo_amd_l2_assoc(uint32_t code, uint32_t entries, bool *fully);

/*
 * Decode AMD's TLB leaves (registers in the order eax, ebx, ecx, edx):
 * l5 = CPUID 0x80000005, l6 = 0x80000006, l19 = 0x80000019 (NULL when the
 * leaf is absent). L1 fields are 8-bit entries with 8-bit associativity
 * (0xFF fully associative, otherwise the number of ways); L2 fields 12-bit
 * entries with the 4-bit encoding above. A 2/4 MiB field counts 2 MiB
 * entries. Fills *t (zeroed first).
 */
void hwinfo_decode_amd(const uint32_t l5[4], const uint32_t l6[4], const uint32_t l19[4],
		       struct hwinfo_tlbs *t);

/*
 * Decode Intel's CPUID 0x18: sub[i] = the registers of subleaf i, n of them
 * (subleaf 0's eax is the last valid subleaf). Data, load-only and unified
 * structures (types 1, 3, 4) count; instruction (2) and store-only (5) do
 * not; type 0 subleaves are skipped. A structure holding several page sizes
 * is counted for each. Several structures of one level and page size: their
 * entries add up and the ways are the largest. Fills *t (zeroed first);
 * returns the structures counted.
 */
int hwinfo_decode_intel_18(const uint32_t (*sub)[4], unsigned int n, struct hwinfo_tlbs *t);

/*
 * Decode Intel's CPUID 0x2 descriptor bytes (eax's low byte, the call count,
 * is skipped; a register with bit 31 set holds none) with the data-TLB
 * descriptors of the SDM vol. 2A table 3-12 (0x03, 0x04, 0x05, 0x56, 0x57,
 * 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x63, 0x64, 0x6B, 0x6C, 0x6D, 0xA0, 0xB3,
 * 0xB4, 0xBA, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xCA). Fills *t (zeroed first);
 * returns 1 if descriptor 0xFE ("see CPUID 0x18") was among them, else 0.
 */
int hwinfo_decode_intel_2(const uint32_t regs[4], struct hwinfo_tlbs *t);

/*
 * One subleaf of CPUID 4 (Intel) or 0x8000001D (AMD), same layout: level
 * in *level, type in *type (1 data, 2 instruction, 3 unified, 0 none), the
 * geometry in *c. Returns 0, or -1 for type 0 (no more caches).
 */
int hwinfo_decode_cache_leaf(const uint32_t regs[4], unsigned int *level, unsigned int *type,
			     struct hwinfo_cache *c);

/*
 * Read the caches from a sysfs directory laid out as
 * /sys/devices/system/cpu/cpu0/cache (index0, index1, ...; files level,
 * type, size ("32K", "1024K", "32M"), ways_of_associativity,
 * number_of_sets, coherency_line_size). Fills l1d, l2 and llc (the highest
 * level, if above 2) of *hw with the Data or Unified caches. Returns the
 * caches found (0: none, or no such directory).
 */
int hwinfo_read_sysfs_caches(const char *dir, struct hwinfo *hw);

/*
 * Fit E entries of W ways (fully: 1 set) to sa's power-of-two sets as
 * described above; latency and replacement are left as they are. E 0 makes
 * ways 0 (absent).
 */
void hwinfo_sa_geometry(uint32_t entries, uint32_t ways, bool fully, struct sa_config *sa);

/*
 * The CPUs of a sysfs CPU list ("0-3,8,10-11": 7), or -1 when it does not
 * parse.
 */
int hwinfo_count_cpu_list(const char *list);

/*
 * One CPU's share of a cache shared by c->shared_cpus CPUs (as above):
 * lines = size / 64 / shared (rounded down), ways kept, sets the largest
 * power of two with sets x ways <= lines (1 set of 'lines' ways when
 * lines < ways). Sets sa's sets and ways; returns the share in bytes
 * before rounding (size / shared). c->shared_cpus <= 1: the whole cache,
 * as hwinfo_cache_geometry() maps it; returns c->size.
 */
uint64_t hwinfo_llc_share(const struct hwinfo_cache *c, struct sa_config *sa);

/* The same for a cache of 'c' (sets x ways x line); nothing if c->size is 0. */
void hwinfo_cache_geometry(const struct hwinfo_cache *c, struct sa_config *sa);

/*
 * Probe this host: CPUID (run on cpu0: hybrid parts differ per core type),
 * the caches from 'sysfs_dir' (NULL: the real cpu0's) and the frequency. 0, or -ENOTSUP when CPUID is not available (not
 * x86).
 */
int hwinfo_probe(struct hwinfo *hw, const char *sysfs_dir);

/* One point of the line chase: a buffer of 'bytes', its median ns per load. */
struct hwinfo_chase_point {
	uint64_t bytes;
	double ns;
};

/* What --measurements gives: the clock and the line chase. */
struct hwinfo_measured {
	double cycles_per_ns;		/* clock.cycles_per_ns's median; 0: none */
	const struct hwinfo_chase_point *points;
	size_t n;
};

enum hwinfo_plateau_level {
	HWINFO_PL_L1D,
	HWINFO_PL_L2,
	HWINFO_PL_LLC,
	HWINFO_PL_DRAM,
	HWINFO_NR_PL
};

/*
 * The plateau of a level: the median of the ns of the chase points that
 * fit it well and do not fit the level above, by the whole sizes sysfs
 * reports (a single chase can fill the whole L3, so the L3's whole size
 * counts here, not one CPU's share):
 *
 *   L1D   0      < bytes <= L1D / 2
 *   L2    2 L1D  < bytes <= L2 / 2
 *   LLC   2 L2   < bytes <= LLC / 2
 *   DRAM  bytes >= 4 LLC; none there: the largest point, if >= 2 LLC
 *
 * Half the capacity leaves room for conflict misses of a random cycle of
 * lines and twice the level above lets that level's hits fade; the median
 * of the points in the window keeps one noisy point from moving it. A
 * level of size 0 (not found) or an empty window: -1, else 0 with *ns
 * and the window's smallest and largest points in *lo, *hi. The points
 * may come in any order.
 */
int hwinfo_plateau(const struct hwinfo *hw, const struct hwinfo_chase_point *pts, size_t n,
		   enum hwinfo_plateau_level level, double *ns, uint64_t *lo, uint64_t *hi);

/*
 * Apply measurements over hwinfo_to_config()'s *cfg: core.freq_mhz =
 * cycles_per_ns x 1000 (rounded), the DRAM timings recomputed for it as
 * DDR4-2400, then each plateau found in cycles at that clock, c(level) =
 * round(ns x cycles_per_ns). The simulator adds the levels' latencies on
 * the way down (memsys.c), so l1d.latency = c(L1D), l2.latency = c(L2) -
 * c(L1D), llc.latency = c(LLC) - c(L2) (each at least 1; a level not found
 * keeps its default, and the next takes its difference from the sum of the
 * configured latencies above it). DRAM: the chase's loads are random, so
 * nearly every one is a row conflict: t_row_miss = c(DRAM) - (l1d + l2 +
 * llc latencies), t_row_hit and t_row_empty keep DDR4's ratios to it (37
 * and 54 to 71). Each value set is noted as measured, with its window and
 * its ns. No clock (cycles_per_ns 0): nothing is applied. Returns the
 * levels measured.
 */
int hwinfo_apply_measured(const struct hwinfo *hw, const struct hwinfo_measured *m,
			  struct sim_config *cfg);

/*
 * The MMU's nested paging for a host that is (guest) or is not a guest: on
 * with host_page_size 4 KiB, or off; host_levels and the nested TLB are
 * left as they are.
 */
void hwinfo_nested(bool guest, struct nested_config *n);

/*
 * The configuration: sim_config_init()'s defaults overridden with what *hw
 * reports (see above); origin "hwinfo: <vendor_id> family F model M: <name>",
 * notes saying what was read and derived: first the host ("host:
 * <vendor_id> family 0xF model 0xM stepping S (<name>), a guest of
 * <hypervisor>" or "bare metal"), then the LLC's share and nested paging.
 */
void hwinfo_to_config(const struct hwinfo *hw, struct sim_config *cfg);

/* "hwinfo: <vendor_id> family F " : the part of origin a host kind shares. */
void hwinfo_origin_kind(const struct hwinfo *hw, char *buf, size_t len);

#endif
