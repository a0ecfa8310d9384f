/*
 * test_hwinfo.c - the host's geometry (simulator/hwinfo.h): the CPUID
 * decoders on recorded register values, the sysfs cache reader on fake
 * trees (tests/data/hwinfo/), the mapping to power-of-two structures, and
 * virtuoso hwinfo end to end.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "simulator/config.h"
#include "simulator/hwinfo.h"
#include "tests/run.h"
#include "workload/json.h"

#define HOST_PRESET "datasets/configs/host.json"

/*
 * AMD EPYC, Zen 4 (family 0x19 model 0x11 stepping 1, "AMD EPYC" under a
 * hypervisor), recorded on the machine this was written on with
 *
 *	__cpuid_count(leaf, 0, eax, ebx, ecx, edx);
 *	printf("eax=%#010x ebx=%#010x ecx=%#010x edx=%#010x\n", ...);
 *
 * for leaves 0x80000005 and 0x80000006 (registers eax, ebx, ecx, edx).
 * Leaf 0x80000019 reads all zeros under that hypervisor; ZEN4_L19 is the
 * value bare-metal Zen 4 parts report (eax 0xF048F040, ebx 0xF0400000),
 * whose 0x80000005/6 data fields are the same as ours.
 */
static const uint32_t ZEN4_L5[4] = { 0xff48ff40, 0xff48ff40, 0x20080140, 0x20080140 };
static const uint32_t ZEN4_L6[4] = { 0x5c002200, 0x6c004200, 0x04006140, 0x0a009140 };
static const uint32_t ZEN4_L19[4] = { 0xf048f040, 0xf0400000, 0x00000000, 0x00000000 };

/*
 * Intel Core i5-1135G7 (Tiger Lake, family 6 model 0x8C), CPUID 0x18
 * subleaves 0..8 as AIDA64 dumped them (the dump Bochs keeps as
 * cpudb/intel/tigerlake.txt), registers eax, ebx, ecx, edx:
 *	SL1, SL2   instruction TLB (type 2): 4K 16x8, 2M/4M 2x8
 *	SL3        store-only (type 5), all sizes, 16 entries fully associative
 *	SL4..6     load-only (type 4) L1: 4K 16 sets x 4, 2M/4M 8 x 4, 1G fully 8
 *	SL7, SL8   unified (type 3) L2: 4K+2M/4M 128 x 8, 4K+1G 128 x 8
 */
static const uint32_t TGL_18[9][4] = {
	{ 0x00000008, 0x00000000, 0x00000000, 0x00000000 },
	{ 0x00000000, 0x00080001, 0x00000010, 0x00004022 },
	{ 0x00000000, 0x00080006, 0x00000002, 0x00004022 },
	{ 0x00000000, 0x0010000F, 0x00000001, 0x00004125 },
	{ 0x00000000, 0x00040001, 0x00000010, 0x00004024 },
	{ 0x00000000, 0x00040006, 0x00000008, 0x00004024 },
	{ 0x00000000, 0x00080008, 0x00000001, 0x00004124 },
	{ 0x00000000, 0x00080007, 0x00000080, 0x00004043 },
	{ 0x00000000, 0x00080009, 0x00000080, 0x00004043 },
};
/* The same CPU's leaf 0x2: 0xFE "see leaf 0x18", 0xFF "see leaf 4", 0xF0 prefetch. */
static const uint32_t TGL_2[4] = { 0x00FEFF01, 0x000000F0, 0x00000000, 0x00000000 };
/* Its leaf 4 subleaves 0..3: L1D 48K, L1I 32K, L2 1280K, L3 8M. */
static const uint32_t TGL_4[4][4] = {
	{ 0x1C004121, 0x02C0003F, 0x0000003F, 0x00000000 },
	{ 0x1C004122, 0x01C0003F, 0x0000003F, 0x00000000 },
	{ 0x1C004143, 0x04C0003F, 0x000003FF, 0x00000000 },
	{ 0x1C03C163, 0x01C0003F, 0x00003FFF, 0x00000004 },
};

/*
 * Skylake-SP / Cascade Lake leaf 0x2 (Bochs corei7_skylake-x.cc, the same
 * in public dumps of Xeon Gold parts): descriptors 0x63, 0x03, 0x76 (ITLB),
 * 0xFF, 0xB5 (ITLB), 0xF0, 0xC3.
 */
static const uint32_t SKX_2[4] = { 0x76036301, 0x00F0B5FF, 0x00000000, 0x00C30000 };

static void expect_tlb(const struct hwinfo_tlb *t, uint32_t entries, uint32_t ways, bool fully,
		       const char *what)
{
	cr_expect(t->entries == entries && t->ways == ways && t->fully == fully,
		  "%s: %u entries %u ways%s, expected %u entries %u ways%s", what, t->entries,
		  t->ways, t->fully ? " fully" : "", entries, ways, fully ? " fully" : "");
}

static void expect_sa(const struct sa_config *s, uint32_t sets, uint32_t ways, const char *what)
{
	cr_expect(s->sets == sets && s->ways == ways, "%s: %u sets x %u ways, expected %u x %u",
		  what, s->sets, s->ways, sets, ways);
}

Test(hwinfo, amd_assoc_encoding)
{
	static const uint32_t want[16] = { 0, 1, 2, 3, 4, 6, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0 };
	bool fully;

	for (uint32_t code = 0; code < 0xF; code++) {
		cr_expect_eq(hwinfo_amd_l2_assoc(code, 3072, &fully), want[code], "code %#x", code);
		cr_expect(!fully);
	}
	cr_expect_eq(hwinfo_amd_l2_assoc(0xF, 64, &fully), 64);
	cr_expect(fully);
}

/*
 * By hand, from the APM: 0x80000005 EBX = 0xff48ff40: L1 DTLB 4K assoc 0xFF
 * (fully), 0x48 = 72 entries (the ITLB: fully, 0x40 = 64). EAX the same for
 * 2M/4M. 0x80000006 EBX = 0x6c004200: L2 DTLB 4K assoc 6 = 8 ways,
 * 0xC00 = 3072 entries (ITLB 4 ways, 512); EAX = 0x5c002200: L2 DTLB 2M
 * assoc 5 = 6 ways, 3072 entries. Zen 4 as documented: a 72-entry fully
 * associative L1 DTLB for every page size, a 3072-entry L2 DTLB.
 */
Test(hwinfo, amd_zen4_tlbs)
{
	struct hwinfo_tlbs t;

	hwinfo_decode_amd(ZEN4_L5, ZEN4_L6, NULL, &t);
	expect_tlb(&t.l1[HWINFO_4K], 72, 72, true, "L1 4K");
	expect_tlb(&t.l1[HWINFO_2M], 72, 72, true, "L1 2M");
	expect_tlb(&t.l1[HWINFO_1G], 0, 0, false, "L1 1G");
	expect_tlb(&t.l2[HWINFO_4K], 3072, 8, false, "L2 4K");
	expect_tlb(&t.l2[HWINFO_2M], 3072, 6, false, "L2 2M");
	expect_tlb(&t.l2[HWINFO_1G], 0, 0, false, "L2 1G");
	cr_expect(t.l1_unified);

	/* 0x80000019: EAX 0xF048F040 L1 DTLB 1G fully 72; EBX 0xF0400000 L2 DTLB 1G fully 64 */
	hwinfo_decode_amd(ZEN4_L5, ZEN4_L6, ZEN4_L19, &t);
	expect_tlb(&t.l1[HWINFO_1G], 72, 72, true, "L1 1G");
	expect_tlb(&t.l2[HWINFO_1G], 64, 64, true, "L2 1G");
	cr_expect(t.l1_unified);
}

Test(hwinfo, amd_zen4_config)
{
	struct hwinfo hw = { .vendor = HWINFO_AMD, .vendor_id = "AuthenticAMD",
			     .name = "AMD EPYC", .family = 0x19, .model = 0x11 };
	struct sim_config cfg, def, back;
	struct wl_error err;
	cJSON *j;

	hwinfo_decode_amd(ZEN4_L5, ZEN4_L6, ZEN4_L19, &hw.tlb);
	cr_assert_eq(hwinfo_read_sysfs_caches("tests/data/hwinfo/sysfs-zen4", &hw), 3);
	hw.freq_mhz = 2596;
	hwinfo_to_config(&hw, &cfg);
	sim_config_init(&def);

	cr_expect_str_eq(cfg.origin, "hwinfo: AuthenticAMD family 25 model 17: AMD EPYC");
	cr_expect(cfg.mmu.l1_unified);
	expect_sa(&cfg.mmu.dtlb, 1, 72, "dtlb");
	expect_sa(&cfg.mmu.dtlb_4k, 1, 72, "dtlb_4k");
	expect_sa(&cfg.mmu.dtlb_1g, 1, 72, "dtlb_1g");
	/* 3072 entries 8-way = 384 sets: 256 sets x 12 ways, the same 3072 entries */
	expect_sa(&cfg.mmu.stlb, 256, 12, "stlb");
	cr_expect(cfg.mmu.stlb_1g);
	expect_sa(&cfg.l1d, 64, 8, "l1d");
	expect_sa(&cfg.l2, 2048, 8, "l2");
	/* 32 MiB 16-way shared by CPUs 0-1: 16 MiB each, 262144 lines = 16384 x 16 */
	expect_sa(&cfg.llc, 16384, 16, "llc");
	cr_expect_str_eq(cfg.notes, "host: AuthenticAMD family 0x19 model 0x11 stepping 0 (AMD EPYC), "
			 "bare metal\n"
			 "llc: the L3 is 32 MiB 16-way shared by 2 CPUs (sysfs "
			 "shared_cpu_list): one CPU's share 16 MiB, configured 16384 sets x 16 "
			 "ways = 16 MiB\n"
			 "llc: index hashed (\"xor\"): an x86 L3's slices are chosen by an address "
			 "hash\n"
			 "prefetch: adjacent on: an x86 L2 fetches a missed line's 128-byte pair\n"
			 "mmu.nested: off, CPUID 1 ECX bit 31 clear (not a guest)");
	cr_expect(cfg.llc.hashed, "an x86 L3's index is hashed");
	cr_expect(cfg.prefetch.adjacent, "an x86 L2 fetches pairs of lines");
	cr_expect_not(cfg.mmu.nested.enabled, "not a guest: no nested paging");
	/* latencies and what CPUID does not report keep the defaults */
	cr_expect_eq(cfg.mmu.stlb.latency, def.mmu.stlb.latency);
	cr_expect_eq(cfg.l1d.latency, def.l1d.latency);
	cr_expect_eq(memcmp(cfg.mmu.pwc_level, def.mmu.pwc_level, sizeof(def.mmu.pwc_level)), 0);
	cr_expect_eq(cfg.mmu.walkers, def.mmu.walkers);
	cr_expect_eq(cfg.core.freq_mhz, 2596);
	cr_expect_eq(cfg.dram.t_row_empty, (54 * 2596 + 600) / 1200);

	/* a valid configuration that reads back to itself */
	j = sim_config_to_json(&cfg);
	sim_config_init(&back);
	cr_assert_eq(sim_config_from_json(&back, j, "hwinfo", &err), 0, "%s: %s", err.path,
		     err.msg);
	cJSON_Delete(j);
	cr_expect_eq(memcmp(&cfg, &back, sizeof(cfg)), 0);
}

/*
 * By hand, from the SDM's leaf 0x18 layout (EDX[4:0] type, EDX[7:5] level,
 * EDX[8] fully associative, EBX[3:0] page sizes 4K/2M/4M/1G, EBX[31:16]
 * ways, ECX sets): load L1 4K 4 x 16 = 64 entries, 2M 4 x 8 = 32, 1G 8
 * fully; unified L2 8 x 128 = 1024 for 4K+2M and 1024 for 4K+1G, so 2048
 * for 4K pages: Tiger Lake's documented 64/32/8-entry L1 DTLBs and
 * 2048-entry STLB.
 */
Test(hwinfo, intel_tigerlake_leaf_18)
{
	struct hwinfo hw = { .vendor = HWINFO_INTEL, .vendor_id = "GenuineIntel",
			     .family = 6, .model = 0x8C };
	struct sim_config cfg;

	cr_expect_eq(hwinfo_decode_intel_18(TGL_18, 9, &hw.tlb), 5);
	expect_tlb(&hw.tlb.l1[HWINFO_4K], 64, 4, false, "L1 4K");
	expect_tlb(&hw.tlb.l1[HWINFO_2M], 32, 4, false, "L1 2M");
	expect_tlb(&hw.tlb.l1[HWINFO_1G], 8, 8, true, "L1 1G");
	expect_tlb(&hw.tlb.l2[HWINFO_4K], 2048, 8, false, "L2 4K");
	expect_tlb(&hw.tlb.l2[HWINFO_2M], 1024, 8, false, "L2 2M");
	expect_tlb(&hw.tlb.l2[HWINFO_1G], 1024, 8, false, "L2 1G");
	cr_expect(!hw.tlb.l1_unified);

	hwinfo_to_config(&hw, &cfg);
	cr_expect(!cfg.mmu.l1_unified);
	expect_sa(&cfg.mmu.dtlb_4k, 16, 4, "dtlb_4k");
	expect_sa(&cfg.mmu.dtlb_2m, 8, 4, "dtlb_2m");
	expect_sa(&cfg.mmu.dtlb_1g, 1, 8, "dtlb_1g");
	expect_sa(&cfg.mmu.stlb, 256, 8, "stlb");
	cr_expect(cfg.mmu.stlb_1g);

	/* its leaf 0x2 only points at leaf 0x18 */
	cr_expect_eq(hwinfo_decode_intel_2(TGL_2, &hw.tlb), 1);
	cr_expect_eq(hw.tlb.l1[HWINFO_4K].entries, 0);
}

/*
 * By hand, from the SDM's table 3-12: 0x03 DTLB 4K 4-way 64; 0x63 DTLB
 * 2M/4M 4-way 32 and 1G 4-way 4; 0xC3 STLB 4K/2M 6-way 1536 and 1G 4-way
 * 16; 0x76 and 0xB5 are instruction TLBs. Skylake's documented L1 DTLB
 * 64/32/4 entries and 1536-entry STLB.
 */
Test(hwinfo, intel_skylake_leaf_2)
{
	struct hwinfo_tlbs t;

	cr_expect_eq(hwinfo_decode_intel_2(SKX_2, &t), 0);
	expect_tlb(&t.l1[HWINFO_4K], 64, 4, false, "L1 4K");
	expect_tlb(&t.l1[HWINFO_2M], 32, 4, false, "L1 2M");
	expect_tlb(&t.l1[HWINFO_1G], 4, 4, false, "L1 1G");
	expect_tlb(&t.l2[HWINFO_4K], 1536, 6, false, "L2 4K");
	expect_tlb(&t.l2[HWINFO_2M], 1536, 6, false, "L2 2M");
	expect_tlb(&t.l2[HWINFO_1G], 16, 4, false, "L2 1G");

	/* a register with bit 31 set holds no descriptors */
	const uint32_t invalid[4] = { 0x80036301, 0, 0, 0 };

	hwinfo_decode_intel_2(invalid, &t);
	cr_expect_eq(t.l1[HWINFO_4K].entries, 0);
}

Test(hwinfo, cpuid_cache_leaves)
{
	/* this host's 0x8000001D subleaf 3: L3 unified, 16-way, 32768 sets, 64-byte lines */
	const uint32_t zen4_l3[4] = { 0x00004163, 0x03c0003f, 0x00007fff, 0x00000001 };
	const uint32_t none[4] = { 0, 0, 0, 0 };
	static const struct { unsigned int level, type; uint64_t size; uint32_t ways, sets; } want[4] = {
		{ 1, 1, 48 << 10, 12, 64 },
		{ 1, 2, 32 << 10, 8, 64 },
		{ 2, 3, 1280 << 10, 20, 1024 },
		{ 3, 3, 8 << 20, 8, 16384 },
	};
	unsigned int level, type;
	struct hwinfo_cache c;

	for (int i = 0; i < 4; i++) {
		cr_assert_eq(hwinfo_decode_cache_leaf(TGL_4[i], &level, &type, &c), 0);
		cr_expect(level == want[i].level && type == want[i].type && c.size == want[i].size &&
			  c.ways == want[i].ways && c.sets == want[i].sets && c.line == 64,
			  "leaf 4 subleaf %d: L%u type %u %llu bytes %u-way %u sets", i, level, type,
			  (unsigned long long)c.size, c.ways, c.sets);
	}
	cr_assert_eq(hwinfo_decode_cache_leaf(zen4_l3, &level, &type, &c), 0);
	cr_expect(level == 3 && type == 3 && c.size == 32 << 20 && c.ways == 16 && c.sets == 32768);
	cr_expect_eq(hwinfo_decode_cache_leaf(none, &level, &type, &c), -1);
}

Test(hwinfo, sysfs_caches)
{
	struct hwinfo hw;
	struct sim_config cfg;

	memset(&hw, 0, sizeof(hw));
	cr_assert_eq(hwinfo_read_sysfs_caches("tests/data/hwinfo/sysfs-zen4", &hw), 3,
		     "the instruction cache is skipped");
	cr_expect(hw.l1d.size == 32 << 10 && hw.l1d.ways == 8 && hw.l1d.sets == 64 &&
		  hw.l1d.line == 64);
	cr_expect(hw.l2.size == 1 << 20 && hw.l2.ways == 8 && hw.l2.sets == 2048);
	cr_expect(hw.llc.size == 32 << 20 && hw.llc.ways == 16 && hw.llc.sets == 32768);

	cr_expect(hw.l1d.shared_cpus == 1 && hw.l2.shared_cpus == 1 && hw.llc.shared_cpus == 2);
	cr_expect_str_eq(hw.share_source, "sysfs shared_cpu_list");

	memset(&hw, 0, sizeof(hw));
	cr_assert_eq(hwinfo_read_sysfs_caches("tests/data/hwinfo/sysfs-skx", &hw), 3);
	cr_expect(hw.llc.size == 25344ULL << 10 && hw.llc.ways == 11 && hw.llc.sets == 36864);
	cr_expect_eq(hw.llc.shared_cpus, 36, "0-17,36-53");
	hwinfo_to_config(&hw, &cfg);
	expect_sa(&cfg.l2, 1024, 16, "l2");
	/* 405504 lines / 36 CPUs = 11264 lines, 11-way = 1024 sets: 1024 x 11 (704 KiB) */
	expect_sa(&cfg.llc, 1024, 11, "llc");
	/* unshared, the whole 405504 lines, 11-way = 36864 sets: 32768 x 12 (24 MiB) */
	hw.llc.shared_cpus = 1;
	hwinfo_to_config(&hw, &cfg);
	expect_sa(&cfg.llc, 32768, 12, "llc unshared");
	hw.llc.shared_cpus = 0;
	hwinfo_to_config(&hw, &cfg);
	expect_sa(&cfg.llc, 32768, 12, "llc sharing unknown");
	cr_expect_neq(strstr(cfg.notes, "sharing unknown: configured whole"), NULL, "%s",
		      cfg.notes);

	memset(&hw, 0, sizeof(hw));
	cr_expect_eq(hwinfo_read_sysfs_caches("tests/data/hwinfo/no-such-dir", &hw), 0);
}

/*
 * An Emerald Rapids guest as Linux shows it (tests/data/hwinfo/sysfs-emr):
 * the socket's 260 MiB 20-way L3 shared by the guest's 96 CPUs. By hand:
 * 266240 KiB = 4259840 lines; / 96 = 44373 lines (2.71 MiB); / 20 ways =
 * 2218 sets, down to 2048: 2048 x 20 = 40960 lines = 2.5 MiB.
 */
Test(hwinfo, llc_share_of_a_many_cpu_guest)
{
	struct hwinfo hw;
	struct sim_config cfg;
	struct sa_config sa = { 0 };

	memset(&hw, 0, sizeof(hw));
	cr_assert_eq(hwinfo_read_sysfs_caches("tests/data/hwinfo/sysfs-emr", &hw), 3);
	cr_expect(hw.llc.size == 266240ULL << 10 && hw.llc.ways == 20 && hw.llc.shared_cpus == 96);
	cr_expect_eq(hwinfo_llc_share(&hw.llc, &sa), (266240ULL << 10) / 96);
	expect_sa(&sa, 2048, 20, "share");
	hwinfo_to_config(&hw, &cfg);
	expect_sa(&cfg.l1d, 64, 12, "l1d");
	expect_sa(&cfg.l2, 2048, 16, "l2");
	expect_sa(&cfg.llc, 2048, 20, "llc");
	cr_expect_str_eq(cfg.notes, "host: unknown family 0 model 0 stepping 0 (unknown), bare metal\n"
			 "llc: the L3 is 260 MiB 20-way shared by 96 CPUs (sysfs "
			 "shared_cpu_list): one CPU's share 2.71 MiB, configured 2048 sets x 20 "
			 "ways = 2.50 MiB\n"
			 "llc: index hashed (\"xor\"): an x86 L3's slices are chosen by an address "
			 "hash\n"
			 "prefetch: adjacent on: an x86 L2 fetches a missed line's 128-byte pair\n"
			 "mmu.nested: off, CPUID 1 ECX bit 31 clear (not a guest)");

	/* fewer lines than ways: one set of the lines */
	hw.llc = (struct hwinfo_cache){ .size = 64 << 10, .ways = 16, .line = 64,
					.shared_cpus = 128 };
	cr_expect_eq(hwinfo_llc_share(&hw.llc, &sa), 512);
	expect_sa(&sa, 1, 8, "8 lines");
}

/* A guest's preset walks in two dimensions, on 4 KiB host pages; bare metal does not. */
Test(hwinfo, nested_paging_follows_the_guest_bit)
{
	struct nested_config n, def;
	struct sim_config cfg;
	struct hwinfo hw = { .vendor = HWINFO_AMD, .vendor_id = "AuthenticAMD" };

	sim_config_init(&cfg);
	def = cfg.mmu.nested;
	n = def;
	n.host_page_size = 2u << 20;
	hwinfo_nested(true, &n);
	cr_expect(n.enabled);
	cr_expect_eq(n.host_page_size, 4096);
	cr_expect_eq(n.host_levels, def.host_levels);
	cr_expect_eq(memcmp(&n.ntlb, &def.ntlb, sizeof(n.ntlb)), 0);
	hwinfo_nested(false, &n);
	cr_expect_not(n.enabled);

	hw.guest = true;
	hwinfo_to_config(&hw, &cfg);
	cr_expect(cfg.mmu.nested.enabled);
	cr_expect_eq(cfg.mmu.nested.host_page_size, 4096);
	cr_expect_neq(strstr(cfg.notes, "mmu.nested: on, CPUID 1 ECX bit 31 says this host is a "
			     "guest; host_page_size 4 KiB assumed"), NULL, "%s", cfg.notes);
	hw.guest = false;
	hwinfo_to_config(&hw, &cfg);
	cr_expect_not(cfg.mmu.nested.enabled);
}

/*
 * tests/data/hwinfo/measurements-zen4.json, written by hand: a clock of
 * 4.0 cycles per ns and a line chase (bytes: ns) 16K 1.00, 32K 1.20, 64K
 * 2.50, 128K 3.00, 256K 3.10, 512K 3.20, 1M 5.00, 2M 8.00, 4M 11.00, 8M
 * 12.00, 16M 12.50, 32M 30, 64M 70, 128M 95, 256M 100, on sysfs-zen4's
 * caches (L1D 32 KiB, L2 1 MiB, L3 32 MiB). By hand, the windows and
 * their medians: L1D (0, 16K]: 16K, 1.00 ns = 4 cycles; L2 (64K, 512K]:
 * 3.00, 3.10, 3.20 -> 3.10 ns = 12.4 -> 12 cycles; LLC (2M, 16M]: 11, 12,
 * 12.5 -> 12 ns = 48 cycles; DRAM >= 128M: 95, 100 -> 97.5 ns = 390
 * cycles. Latencies add up on the way down: l1d 4, l2 12 - 4 = 8, llc
 * 48 - 12 = 36, t_row_miss 390 - 48 = 342, t_row_hit 342 x 37 / 71 = 178,
 * t_row_empty 342 x 54 / 71 = 260 (rounded to nearest); 4000 MHz.
 */
#define ZEN4_MEASUREMENTS "tests/data/hwinfo/measurements-zen4.json"
static const struct hwinfo_chase_point ZEN4_CHASE[] = {
	{ 16 << 10, 1.00 }, { 32 << 10, 1.20 }, { 64 << 10, 2.50 }, { 128 << 10, 3.00 },
	{ 256 << 10, 3.10 }, { 512 << 10, 3.20 }, { 1 << 20, 5.00 }, { 2 << 20, 8.00 },
	{ 4 << 20, 11.00 }, { 8 << 20, 12.00 }, { 16 << 20, 12.50 }, { 32 << 20, 30.00 },
	{ 64 << 20, 70.00 }, { 128 << 20, 95.00 }, { 256 << 20, 100.00 },
};

static void expect_measured_zen4(const struct sim_config *cfg)
{
	cr_expect_eq(cfg->core.freq_mhz, 4000);
	cr_expect_eq(cfg->l1d.latency, 4);
	cr_expect_eq(cfg->l2.latency, 8);
	cr_expect_eq(cfg->llc.latency, 36);
	cr_expect_eq(cfg->dram.t_row_miss, 342);
	cr_expect_eq(cfg->dram.t_row_hit, 178);
	cr_expect_eq(cfg->dram.t_row_empty, 260);
	cr_expect_neq(strstr(cfg->notes, "l2.latency: 8 measured (line chase 128 KiB..512 KiB: "
			     "3.10 ns = 12 cycles"), NULL, "%s", cfg->notes);
	cr_expect_neq(strstr(cfg->notes, "core.freq_mhz: 4000 measured"), NULL, "%s", cfg->notes);
}

Test(hwinfo, measured_plateaus)
{
	const size_t n = sizeof(ZEN4_CHASE) / sizeof(ZEN4_CHASE[0]);
	struct hwinfo hw;
	struct sim_config cfg, def;
	struct hwinfo_measured m = { .cycles_per_ns = 4.0, .points = ZEN4_CHASE, .n = n };
	uint64_t lo, hi;
	double ns;

	memset(&hw, 0, sizeof(hw));
	cr_assert_eq(hwinfo_read_sysfs_caches("tests/data/hwinfo/sysfs-zen4", &hw), 3);
	cr_assert_eq(hwinfo_plateau(&hw, ZEN4_CHASE, n, HWINFO_PL_L1D, &ns, &lo, &hi), 0);
	cr_expect(ns == 1.00 && lo == 16 << 10 && hi == 16 << 10);
	cr_assert_eq(hwinfo_plateau(&hw, ZEN4_CHASE, n, HWINFO_PL_L2, &ns, &lo, &hi), 0);
	cr_expect(ns == 3.10 && lo == 128 << 10 && hi == 512 << 10);
	cr_assert_eq(hwinfo_plateau(&hw, ZEN4_CHASE, n, HWINFO_PL_LLC, &ns, &lo, &hi), 0);
	cr_expect(ns == 12.00 && lo == 4 << 20 && hi == 16 << 20);
	cr_assert_eq(hwinfo_plateau(&hw, ZEN4_CHASE, n, HWINFO_PL_DRAM, &ns, &lo, &hi), 0);
	cr_expect(ns == 97.5 && lo == 128 << 20 && hi == 256 << 20);
	/* --quick's last point, 64 MiB = 2 x the L3: the DRAM's fallback */
	cr_assert_eq(hwinfo_plateau(&hw, ZEN4_CHASE, 13, HWINFO_PL_DRAM, &ns, &lo, &hi), 0);
	cr_expect(ns == 70.0 && lo == 64 << 20);
	cr_expect_eq(hwinfo_plateau(&hw, ZEN4_CHASE, 12, HWINFO_PL_DRAM, &ns, &lo, &hi), -1);
	/* no point in L2's window */
	cr_expect_eq(hwinfo_plateau(&hw, ZEN4_CHASE, 3, HWINFO_PL_L2, &ns, &lo, &hi), -1);

	hwinfo_to_config(&hw, &cfg);
	cr_expect_eq(hwinfo_apply_measured(&hw, &m, &cfg), 4);
	expect_measured_zen4(&cfg);

	/* an L2 not measured keeps its default; the LLC takes its difference from both above */
	sim_config_init(&def);
	m.n = 3;
	hwinfo_to_config(&hw, &cfg);
	cr_expect_eq(hwinfo_apply_measured(&hw, &m, &cfg), 1);
	cr_expect_eq(cfg.l1d.latency, 4);
	cr_expect_eq(cfg.l2.latency, def.l2.latency);
	cr_expect_neq(strstr(cfg.notes, "l2.latency: not measured"), NULL, "%s", cfg.notes);
	/* no clock: nothing */
	m.cycles_per_ns = 0;
	hwinfo_to_config(&hw, &cfg);
	cr_expect_eq(hwinfo_apply_measured(&hw, &m, &cfg), 0);
	cr_expect_eq(cfg.l1d.latency, def.l1d.latency);
}

Test(hwinfo, cpu_list_count)
{
	cr_expect_eq(hwinfo_count_cpu_list("0"), 1);
	cr_expect_eq(hwinfo_count_cpu_list("0-1"), 2);
	cr_expect_eq(hwinfo_count_cpu_list("0-17,36-53"), 36);
	cr_expect_eq(hwinfo_count_cpu_list("0,2,4-7"), 6);
	cr_expect_eq(hwinfo_count_cpu_list(""), -1);
	cr_expect_eq(hwinfo_count_cpu_list("3-1"), -1);
	cr_expect_eq(hwinfo_count_cpu_list("0-"), -1);
	cr_expect_eq(hwinfo_count_cpu_list("a"), -1);
	cr_expect_eq(hwinfo_count_cpu_list("0,,1"), -1);
}

/* CPUID 4 / 0x8000001D EAX[25:14]: logical processors sharing the cache, minus 1. */
Test(hwinfo, cpuid_cache_sharing)
{
	unsigned int level, type;
	struct hwinfo_cache c;

	/* Tiger Lake's L3 (EAX 0x1C03C163): 0xF + 1 = 16; its L1D (0x1C004121): 1 + 1 */
	hwinfo_decode_cache_leaf(TGL_4[3], &level, &type, &c);
	cr_expect_eq(c.shared_cpus, 16);
	hwinfo_decode_cache_leaf(TGL_4[0], &level, &type, &c);
	cr_expect_eq(c.shared_cpus, 2);
}

Test(hwinfo, geometry_rounding)
{
	struct sa_config s = { .sets = 7, .ways = 7, .latency = 9, .repl = SA_REPL_SRRIP };

	hwinfo_sa_geometry(64, 4, false, &s);
	expect_sa(&s, 16, 4, "64 4-way");
	cr_expect(s.latency == 9 && s.repl == SA_REPL_SRRIP, "latency and policy untouched");
	hwinfo_sa_geometry(72, 72, true, &s);
	expect_sa(&s, 1, 72, "72 fully");
	hwinfo_sa_geometry(3072, 8, false, &s);
	expect_sa(&s, 256, 12, "3072 8-way");
	hwinfo_sa_geometry(3072, 6, false, &s);
	expect_sa(&s, 512, 6, "3072 6-way");
	hwinfo_sa_geometry(1536, 12, false, &s);
	expect_sa(&s, 128, 12, "1536 12-way");
	hwinfo_sa_geometry(2, 4, false, &s);
	expect_sa(&s, 1, 2, "fewer entries than ways");
	hwinfo_sa_geometry(0, 4, false, &s);
	cr_expect_eq(s.ways, 0, "no entries: absent");
}

Test(hwinfo, command_end_to_end)
{
	struct result r;
	struct sim_config cfg;
	struct wl_error err;
	cJSON *j;

	RUN(&r, "hwinfo");
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	j = cJSON_Parse(r.out);
	cr_assert_not_null(j, "not JSON: %s", r.out);
	sim_config_init(&cfg);
	cr_assert_eq(sim_config_from_json(&cfg, j, "stdout", &err), 0, "%s: %s", err.path, err.msg);
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(j, "mimicos"), "hardware only");
	cr_expect_eq(strncmp(cfg.origin, "hwinfo: ", 8), 0);
	cJSON_Delete(j);

	/* caches from a given tree */
	RUN(&r, "hwinfo", "--sysfs", "tests/data/hwinfo/sysfs-skx", "-v");
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	cr_expect_neq(strstr(r.err, "caches from sysfs"), NULL, "%s", r.err);
	j = cJSON_Parse(r.out);
	sim_config_init(&cfg);
	cr_assert_eq(sim_config_from_json(&cfg, j, "stdout", &err), 0, "%s: %s", err.path, err.msg);
	cJSON_Delete(j);
	expect_sa(&cfg.llc, 1024, 11, "llc");
	cr_expect_neq(strstr(cfg.notes, "shared by 36 CPUs"), NULL, "%s", cfg.notes);

	/* measured latencies, on the fake tree the hand-written file matches */
	RUN(&r, "hwinfo", "--sysfs", "tests/data/hwinfo/sysfs-zen4", "--measurements",
	    ZEN4_MEASUREMENTS);
	cr_assert_eq(r.status, 0, "status %d: %s", r.status, r.err);
	j = cJSON_Parse(r.out);
	sim_config_init(&cfg);
	cr_assert_eq(sim_config_from_json(&cfg, j, "stdout", &err), 0, "%s: %s", err.path, err.msg);
	cJSON_Delete(j);
	expect_measured_zen4(&cfg);
	RUN(&r, "hwinfo", "--measurements", "tests/data/hwinfo/sysfs-zen4/index0/size");
	cr_expect_eq(r.status, 2);
	RUN(&r, "hwinfo", "--measurements", "datasets/configs/host.json");
	cr_expect_eq(r.status, 2);
	cr_expect_neq(strstr(r.err, "format"), NULL, "%s", r.err);

	RUN(&r, "hwinfo", "extra");
	cr_expect_eq(r.status, 2);
	RUN(&r, "hwinfo", "--bogus");
	cr_expect_eq(r.status, 2);
}

#if defined(__x86_64__) || defined(__i386__)
/*
 * This host, read by the test itself (not by hwinfo.c): the vendor string of
 * CPUID 0, family and model of CPUID 1 combined as the SDM and APM say (the
 * extended family added when the base is 0xF; the extended model prepended
 * for family 6 and 0xF and above), run on cpu0 as hwinfo_probe() does.
 */
struct host_id {
	char vendor[13];
	uint32_t family, model;
	bool guest;		/* CPUID 1 ECX bit 31 */
};

static void cpu0_only(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert(sched_setaffinity(0, sizeof(one), &one) == 0, "cannot run on cpu0");
}

static struct host_id read_host_id(void)
{
	struct host_id id = { 0 };
	uint32_t a, b, c, d;

	cr_assert(__get_cpuid(0, &a, &b, &c, &d));
	memcpy(id.vendor, &b, 4);
	memcpy(id.vendor + 4, &d, 4);
	memcpy(id.vendor + 8, &c, 4);
	cr_assert(__get_cpuid(1, &a, &b, &c, &d));
	id.family = (a >> 8) & 0xF;
	id.model = (a >> 4) & 0xF;
	id.guest = c >> 31;
	if (id.family == 0xF)
		id.family += (a >> 20) & 0xFF;
	if (id.family == 6 || id.family >= 0xF)
		id.model |= ((a >> 16) & 0xF) << 4;
	return id;
}

/*
 * What is known of the host kinds this project runs on, by identity; 0 where
 * unknown. Caches as sysfs reports them for cpu0 (the LLC as shared by the
 * socket or CCD); L1 and L2 DTLB entries for 4 KiB pages.
 *	AMD EPYC Genoa (Zen 4, family 25 model 17): 32 KiB L1d, 1 MiB L2,
 *	  32 MiB L3 per CCD; 72-entry L1 DTLB, 3072-entry L2 DTLB (AMD's
 *	  software optimization guide for family 19h).
 *	Intel Xeon Emerald Rapids (family 6 model 207): 48 KiB L1d, 2 MiB L2
 *	  per core, 260 MiB LLC reported for the socket (seen on such a host).
 */
static const struct known_host {
	const char *vendor;
	uint32_t family, model;
	uint64_t l1d, l2, llc;
	uint32_t dtlb_4k, stlb_4k;
} KNOWN_HOSTS[] = {
	{ "AuthenticAMD", 25, 17, 32 << 10, 1 << 20, 32 << 20, 72, 3072 },
	{ "GenuineIntel", 6, 207, 48 << 10, 2 << 20, 260ULL << 20, 0, 0 },
};

static const struct known_host *known_host(const struct host_id *id)
{
	for (size_t i = 0; i < sizeof(KNOWN_HOSTS) / sizeof(KNOWN_HOSTS[0]); i++)
		if (!strcmp(KNOWN_HOSTS[i].vendor, id->vendor) && KNOWN_HOSTS[i].family == id->family &&
		    KNOWN_HOSTS[i].model == id->model)
			return &KNOWN_HOSTS[i];
	return NULL;
}

/* The test's own read of cpu0's sysfs caches: data or unified, levels 1, 2, last. */
static int read_sysfs_caches(struct hwinfo_cache *l1d, struct hwinfo_cache *l2,
			     struct hwinfo_cache *llc)
{
	unsigned int top = 2;
	int found = 0;

	for (int i = 0; i < 16; i++) {
		char path[96], type[32] = "", unit = 0;
		unsigned int level = 0, ways = 0, sets = 0, line = 0;
		unsigned long long size = 0;
		struct hwinfo_cache c;
		FILE *f;

#define SYSFS_READ(name, fmt, ...)							\
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%d/" name, i); \
		if (!(f = fopen(path, "r")))							\
			break;									\
		if (fscanf(f, fmt, __VA_ARGS__) < 1) {						\
			fclose(f);								\
			break;									\
		}										\
		fclose(f)
		SYSFS_READ("level", "%u", &level);
		SYSFS_READ("type", "%31s", type);
		SYSFS_READ("size", "%llu%c", &size, &unit);
		SYSFS_READ("ways_of_associativity", "%u", &ways);
		SYSFS_READ("number_of_sets", "%u", &sets);
		SYSFS_READ("coherency_line_size", "%u", &line);
#undef SYSFS_READ
		if (strcmp(type, "Data") && strcmp(type, "Unified"))
			continue;
		size <<= unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0;
		c = (struct hwinfo_cache){ .size = size, .ways = ways, .sets = sets, .line = line };
		found++;
		if (level == 1)
			*l1d = c;
		else if (level == 2)
			*l2 = c;
		else if (level > top) {
			top = level;
			*llc = c;
		}
	}
	return found;
}

static void expect_cache(const struct hwinfo_cache *got, const struct hwinfo_cache *want,
			 const char *what)
{
	cr_expect(got->size == want->size && got->ways == want->ways && got->sets == want->sets &&
		  got->line == want->line,
		  "%s: hwinfo %llu bytes %u-way %u sets %u-byte lines, sysfs %llu %u %u %u", what,
		  (unsigned long long)got->size, got->ways, got->sets, got->line,
		  (unsigned long long)want->size, want->ways, want->sets, want->line);
}

/*
 * The test's own count of 4 KiB L1 and L2 data TLB entries. AMD: CPUID
 * 0x80000005 EBX[23:16], 0x80000006 EBX[27:16] (APM vol. 3). Intel: CPUID
 * 0x18 subleaves of type data, unified or load-only (EDX[4:0] 1, 3, 4),
 * holding 4 KiB pages (EBX bit 0), ways EBX[31:16] x sets ECX, per level
 * EDX[7:5] (SDM vol. 2A). 0 where not found.
 */
static void own_dtlb_4k(const struct host_id *id, uint32_t *l1, uint32_t *l2)
{
	uint32_t a, b, c, d, max;

	*l1 = *l2 = 0;
	if (!strcmp(id->vendor, "AuthenticAMD")) {
		if (__get_cpuid_max(0x80000000, NULL) < 0x80000006)
			return;
		__cpuid(0x80000005, a, b, c, d);
		*l1 = (b >> 16) & 0xFF;
		__cpuid(0x80000006, a, b, c, d);
		*l2 = (b >> 16) & 0xFFF;
	} else if (!strcmp(id->vendor, "GenuineIntel") && __get_cpuid_max(0, NULL) >= 0x18) {
		__cpuid_count(0x18, 0, max, b, c, d);
		for (uint32_t i = 0; i <= max && i < 64; i++) {
			uint32_t type, level, n;

			__cpuid_count(0x18, i, a, b, c, d);
			type = d & 0x1F;
			level = (d >> 5) & 7;
			if (!(type == 1 || type == 3 || type == 4) || !(b & 1))
				continue;
			n = (b >> 16) * c;
			if (level == 1)
				*l1 += n;
			else if (level == 2)
				*l2 += n;
		}
	}
}

/*
 * hwinfo_probe() on this host agrees with what the test reads itself:
 * identity, caches (sysfs, else nothing to compare but their presence),
 * 4 KiB data TLBs; and on a known kind of host, with the table above.
 * A probe that fails on x86 is a failure.
 */
Test(hwinfo, probe_reads_this_host)
{
	struct hwinfo_cache l1d = { 0 }, l2 = { 0 }, llc = { 0 };
	const struct known_host *k;
	struct host_id id;
	uint32_t dtlb, stlb;
	struct hwinfo hw;
	int ret;

	cpu0_only();
	id = read_host_id();
	ret = hwinfo_probe(&hw, NULL);
	cr_assert_eq(ret, 0, "hwinfo_probe: %d on an x86 host", ret);
	cr_expect_str_eq(hw.vendor_id, id.vendor);
	cr_expect_eq(hw.family, id.family, "family %u, CPUID says %u", hw.family, id.family);
	cr_expect_eq(hw.model, id.model, "model %u, CPUID says %u", hw.model, id.model);
	cr_expect_eq(hw.guest, id.guest, "guest %d, CPUID 1 ECX bit 31 says %d", hw.guest, id.guest);

	if (read_sysfs_caches(&l1d, &l2, &llc)) {
		cr_expect_str_eq(hw.cache_source, "sysfs");
		expect_cache(&hw.l1d, &l1d, "L1d");
		expect_cache(&hw.l2, &l2, "L2");
		expect_cache(&hw.llc, &llc, "LLC");
	} else {
		cr_expect(hw.l1d.size && hw.l1d.ways && hw.l1d.sets, "no L1d without sysfs");
	}

	own_dtlb_4k(&id, &dtlb, &stlb);
	if (dtlb || stlb) {
		cr_expect_eq(hw.tlb.l1[HWINFO_4K].entries, dtlb, "L1 DTLB 4K: %u, CPUID says %u",
			     hw.tlb.l1[HWINFO_4K].entries, dtlb);
		cr_expect_eq(hw.tlb.l2[HWINFO_4K].entries, stlb, "L2 DTLB 4K: %u, CPUID says %u",
			     hw.tlb.l2[HWINFO_4K].entries, stlb);
	}

	k = known_host(&id);
	if (!k)
		return;	/* nothing more is known of this kind of host */
	cr_expect_eq(hw.l1d.size, k->l1d, "L1d %llu bytes", (unsigned long long)hw.l1d.size);
	cr_expect_eq(hw.l2.size, k->l2, "L2 %llu bytes", (unsigned long long)hw.l2.size);
	cr_expect_eq(hw.llc.size, k->llc, "LLC %llu bytes", (unsigned long long)hw.llc.size);
	if (k->dtlb_4k)
		cr_expect_eq(hw.tlb.l1[HWINFO_4K].entries, k->dtlb_4k);
	if (k->stlb_4k)
		cr_expect_eq(hw.tlb.l2[HWINFO_4K].entries, k->stlb_4k);
}

/*
 * datasets/configs/host.json is `virtuoso hwinfo` of the machine it was
 * generated on, a 2-vCPU KVM guest on an AMD EPYC family 25 model 17 (its
 * origin says so; its notes say it is a guest and how its LLC is shared). On
 * every host it must hold that kind's geometry (amd_zen4_config derives it
 * from recorded CPUID and sysfs); on a host of that kind a fresh run must
 * also give the same geometry (the clock, and the DRAM timings in its
 * cycles, may differ between hosts and runs).
 */
Test(hwinfo, host_preset_matches_its_host_kind)
{
	struct sim_config file, fresh;
	struct wl_error err;
	struct hwinfo hw;
	char kind[96];

	cr_assert_eq(sim_config_load(&file, HOST_PRESET, &err), 0, "%s: %s: %s", err.file,
		     err.path, err.msg);
	cr_assert_eq(strncmp(file.origin, "hwinfo: AuthenticAMD family 25 model 17: ", 41), 0,
		     "origin: %s", file.origin);
	cr_expect(file.mmu.l1_unified);
	expect_sa(&file.mmu.dtlb, 1, 72, "dtlb");
	expect_sa(&file.mmu.stlb, 256, 12, "stlb");
	expect_sa(&file.l1d, 64, 8, "l1d");
	expect_sa(&file.l2, 2048, 8, "l2");
	expect_sa(&file.llc, 16384, 16, "llc");	/* 32 MiB shared by 2 CPUs */
	cr_expect(file.llc.hashed, "an x86 L3's index is hashed");
	cr_expect_eq(strncmp(file.notes, "host: AuthenticAMD family 0x19 model 0x11 stepping 1 "
			     "(AMD EPYC), a guest of KVMKVMKVM\n", 86), 0, "notes: %s", file.notes);
	/* made in a VM: nested paging on 4 KiB host pages */
	cr_expect(file.mmu.nested.enabled);
	cr_expect_eq(file.mmu.nested.host_page_size, 4096);

	cpu0_only();
	cr_assert_eq(hwinfo_probe(&hw, NULL), 0, "hwinfo_probe failed on an x86 host");
	hwinfo_origin_kind(&hw, kind, sizeof(kind));
	if (strncmp(file.origin, kind, strlen(kind)))
		return;	/* another kind of host: the fixed geometry above is the check */
	hwinfo_to_config(&hw, &fresh);
	fresh.core.freq_mhz = file.core.freq_mhz;
	fresh.dram = file.dram;
	memcpy(fresh.origin, file.origin, sizeof(fresh.origin));
	if (strcmp(fresh.notes, file.notes)) {
		/*
		 * Another VM size or bare metal: the LLC's share and nested
		 * paging differ with it (the notes say how); the rest may not.
		 */
		fresh.llc = file.llc;
		fresh.mmu.nested = file.mmu.nested;
		memcpy(fresh.notes, file.notes, sizeof(fresh.notes));
	}
	cr_expect_eq(memcmp(&fresh, &file, sizeof(file)), 0,
		     "%s differs from a fresh virtuoso hwinfo on this host", HOST_PRESET);
}
#else
Test(hwinfo, probe_is_unsupported_without_cpuid)
{
	struct hwinfo hw;

	cr_expect_eq(hwinfo_probe(&hw, NULL), -ENOTSUP);
}
#endif
