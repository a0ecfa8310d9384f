/*
 * hwinfo.c - this host's TLB and cache geometry (CPUID, sysfs) as a
 * simulator configuration. The decoders take raw register values, so the
 * tests feed them recorded CPUIDs of other machines.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_CPUID 1
#endif

#include "simulator/hwinfo.h"

#define SYSFS_CACHE	"/sys/devices/system/cpu/cpu0/cache"
#define CPUFREQ_MAX	"/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"
#define PROC_CPUINFO	"/proc/cpuinfo"

enum { EAX, EBX, ECX, EDX };

/* ---- TLB tables ------------------------------------------------------------- */

/* Add a structure to a (level, page size) slot: entries add up, ways the largest. */
static void tlb_add(struct hwinfo_tlb *slot, uint32_t entries, uint32_t ways, bool fully)
{
	if (!entries)
		return;
	if (fully)
		ways = entries;
	if (!slot->entries) {
		*slot = (struct hwinfo_tlb){ .entries = entries, .ways = ways, .fully = fully };
		return;
	}
	slot->entries += entries;
	slot->fully = slot->fully && fully;
	if (slot->fully)
		slot->ways = slot->entries;
	else if (ways > slot->ways)
		slot->ways = ways;
}

uint32_t hwinfo_amd_l2_assoc(uint32_t code, uint32_t entries, bool *fully)
{
	static const uint32_t ways[16] = {
		[0x1] = 1, [0x2] = 2, [0x3] = 3, [0x4] = 4, [0x5] = 6, [0x6] = 8,
		[0x8] = 16, [0xA] = 32, [0xB] = 48, [0xC] = 64, [0xD] = 96, [0xE] = 128,
	};

	*fully = (code & 0xF) == 0xF;
	return *fully ? entries : ways[code & 0xF];
}

/* An L1 field of 0x80000005: 8-bit associativity (0xFF fully) above 8-bit entries. */
static void amd_l1(struct hwinfo_tlb *slot, uint32_t field16)
{
	uint32_t entries = field16 & 0xFF, assoc = (field16 >> 8) & 0xFF;

	if (entries && assoc)
		tlb_add(slot, entries, assoc == 0xFF ? entries : assoc, assoc == 0xFF);
}

/* A field of 0x80000006/0x80000019: 4-bit encoded associativity above 12-bit entries. */
static void amd_l2(struct hwinfo_tlb *slot, uint32_t field16)
{
	uint32_t entries = field16 & 0xFFF, ways;
	bool fully;

	ways = hwinfo_amd_l2_assoc(field16 >> 12, entries, &fully);
	if (entries && ways)
		tlb_add(slot, entries, ways, fully);
}

void hwinfo_decode_amd(const uint32_t l5[4], const uint32_t l6[4], const uint32_t l19[4],
		       struct hwinfo_tlbs *t)
{
	const struct hwinfo_tlb *a, *b;

	memset(t, 0, sizeof(*t));
	/* data TLBs are the high halves; the low halves are the instruction TLBs */
	if (l5) {
		amd_l1(&t->l1[HWINFO_2M], l5[EAX] >> 16);
		amd_l1(&t->l1[HWINFO_4K], l5[EBX] >> 16);
	}
	if (l6) {
		amd_l2(&t->l2[HWINFO_2M], l6[EAX] >> 16);
		amd_l2(&t->l2[HWINFO_4K], l6[EBX] >> 16);
	}
	if (l19) {
		amd_l2(&t->l1[HWINFO_1G], l19[EAX] >> 16);
		amd_l2(&t->l2[HWINFO_1G], l19[EBX] >> 16);
	}
	/* one fully associative L1 for every size, reported once per size */
	a = &t->l1[HWINFO_4K];
	b = &t->l1[HWINFO_2M];
	t->l1_unified = a->entries && a->fully && b->fully && a->entries == b->entries &&
			(!t->l1[HWINFO_1G].entries ||
			 (t->l1[HWINFO_1G].fully && t->l1[HWINFO_1G].entries == a->entries));
}

int hwinfo_decode_intel_18(const uint32_t (*sub)[4], unsigned int n, struct hwinfo_tlbs *t)
{
	int counted = 0;

	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < n; i++) {
		uint32_t type = sub[i][EDX] & 0x1F, level = (sub[i][EDX] >> 5) & 0x7;
		bool fully = sub[i][EDX] & (1u << 8);
		uint32_t ways = sub[i][EBX] >> 16, sets = sub[i][ECX];
		struct hwinfo_tlb *lv;

		/* 1 data, 3 unified, 4 load-only; not 2 instruction, 5 store-only */
		if (type != 1 && type != 3 && type != 4)
			continue;
		if (level != 1 && level != 2)
			continue;
		lv = level == 1 ? t->l1 : t->l2;
		if (sub[i][EBX] & (1u << 0))
			tlb_add(&lv[HWINFO_4K], ways * sets, ways, fully);
		if (sub[i][EBX] & (3u << 1))	/* 2 MiB or 4 MiB */
			tlb_add(&lv[HWINFO_2M], ways * sets, ways, fully);
		if (sub[i][EBX] & (1u << 3))
			tlb_add(&lv[HWINFO_1G], ways * sets, ways, fully);
		counted++;
	}
	return counted;
}

/*
 * Leaf 0x2's data-TLB descriptors (SDM vol. 2A, table 3-12). 4 MiB pages
 * count as 2 MiB (the same entries hold 2 MiB pages in long mode). Level:
 * "DTLB"/"DTLB0"/"uTLB" 1; "DTLB1" (the second level behind DTLB0 on Core 2
 * and Atom) and the shared "STLB" 2. Associativity 0: fully associative
 * (the table says so, or gives none). Bit sets of page sizes.
 */
#define P4K	(1u << HWINFO_4K)
#define P2M	(1u << HWINFO_2M)
#define P1G	(1u << HWINFO_1G)

static const struct intel_desc {
	uint8_t desc, level, sizes;
	uint8_t ways;
	uint16_t entries;
} intel_descs[] = {
	{ 0x03, 1, P4K, 4, 64 },
	{ 0x04, 1, P2M, 4, 8 },
	{ 0x05, 2, P2M, 4, 32 },
	{ 0x56, 1, P2M, 4, 16 },
	{ 0x57, 1, P4K, 4, 16 },
	{ 0x59, 1, P4K, 0, 16 },
	{ 0x5A, 1, P2M, 4, 32 },
	{ 0x5B, 1, P4K | P2M, 0, 64 },
	{ 0x5C, 1, P4K | P2M, 0, 128 },
	{ 0x5D, 1, P4K | P2M, 0, 256 },
	{ 0x63, 1, P2M, 4, 32 },	/* and 0x63's 1 GiB array, below */
	{ 0x63, 1, P1G, 4, 4 },
	{ 0x64, 1, P4K, 4, 512 },
	{ 0x6B, 1, P4K, 8, 256 },
	{ 0x6C, 1, P2M, 8, 128 },
	{ 0x6D, 1, P1G, 0, 16 },
	{ 0xA0, 1, P4K, 0, 32 },
	{ 0xB3, 1, P4K, 4, 128 },
	{ 0xB4, 2, P4K, 4, 256 },
	{ 0xBA, 2, P4K, 4, 64 },
	{ 0xC0, 1, P4K | P2M, 4, 8 },
	{ 0xC1, 2, P4K | P2M, 8, 1024 },
	{ 0xC2, 1, P4K | P2M, 4, 16 },
	{ 0xC3, 2, P4K | P2M, 6, 1536 },	/* and 0xC3's 1 GiB array, below */
	{ 0xC3, 2, P1G, 4, 16 },
	{ 0xC4, 1, P2M, 4, 32 },
	{ 0xCA, 2, P4K, 4, 512 },
};

int hwinfo_decode_intel_2(const uint32_t regs[4], struct hwinfo_tlbs *t)
{
	int see_18 = 0;

	memset(t, 0, sizeof(*t));
	for (int r = EAX; r <= EDX; r++) {
		if (regs[r] & (1u << 31))
			continue;
		for (int b = r == EAX ? 1 : 0; b < 4; b++) {
			uint8_t d = (uint8_t)(regs[r] >> (8 * b));

			if (d == 0xFE)
				see_18 = 1;
			for (size_t i = 0; i < sizeof(intel_descs) / sizeof(intel_descs[0]); i++) {
				const struct intel_desc *e = &intel_descs[i];
				struct hwinfo_tlb *lv = e->level == 1 ? t->l1 : t->l2;

				if (e->desc != d)
					continue;
				for (int s = 0; s < HWINFO_NR_PSIZE; s++)
					if (e->sizes & (1u << s))
						tlb_add(&lv[s], e->entries, e->ways, !e->ways);
			}
		}
	}
	return see_18;
}

/* ---- caches ------------------------------------------------------------------- */

int hwinfo_decode_cache_leaf(const uint32_t regs[4], unsigned int *level, unsigned int *type,
			     struct hwinfo_cache *c)
{
	uint32_t ways = ((regs[EBX] >> 22) & 0x3FF) + 1;
	uint32_t parts = ((regs[EBX] >> 12) & 0x3FF) + 1;
	uint32_t line = (regs[EBX] & 0xFFF) + 1;
	uint32_t sets = regs[ECX] + 1;

	*type = regs[EAX] & 0x1F;
	*level = (regs[EAX] >> 5) & 0x7;
	if (!*type)
		return -1;
	if (regs[EAX] & (1u << 9))	/* fully associative */
		ways = sets * ways;
	c->ways = ways;
	c->sets = sets;
	c->line = line;
	c->shared_cpus = ((regs[EAX] >> 14) & 0xFFF) + 1;
	c->size = (uint64_t)ways * parts * line * sets;
	return 0;
}

/* File 'name' of 'dir' as one trimmed line, or -1. */
static int read_line(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int read_u64(const char *dir, const char *name, uint64_t *out)
{
	char buf[64], *end;
	unsigned long long v;

	if (read_line(dir, name, buf, sizeof(buf)))
		return -1;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* Keep the cache of the level asked for: l1d, l2, and the last level above 2. */
static void place_cache(struct hwinfo *hw, unsigned int level, const struct hwinfo_cache *c,
			unsigned int *llc_level)
{
	if (level == 1)
		hw->l1d = *c;
	else if (level == 2)
		hw->l2 = *c;
	else if (level > *llc_level) {
		hw->llc = *c;
		*llc_level = level;
	}
}

int hwinfo_count_cpu_list(const char *list)
{
	const char *p = list;
	int n = 0;

	while (*p == ' ')
		p++;
	if (!*p)
		return -1;
	for (;;) {
		unsigned long a, b;
		char *end;

		if (*p < '0' || *p > '9')
			return -1;
		a = b = strtoul(p, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				return -1;
			b = strtoul(end + 1, &end, 10);
		}
		if (b < a || b - a >= 1u << 20)
			return -1;
		n += (int)(b - a + 1);
		p = end;
		if (*p != ',')
			break;
		p++;
	}
	while (*p == ' ')
		p++;
	return *p ? -1 : n;
}

int hwinfo_read_sysfs_caches(const char *dir, struct hwinfo *hw)
{
	unsigned int llc_level = 2;
	struct dirent *de;
	int found = 0;
	DIR *d;

	if (!(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		char sub[4096], type[32], list[1024];
		uint64_t level, size, ways = 0, sets = 0, line = 64;
		int shared;
		struct hwinfo_cache c;

		if (strncmp(de->d_name, "index", 5))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (read_line(sub, "type", type, sizeof(type)) ||
		    (strcmp(type, "Data") && strcmp(type, "Unified")) ||
		    read_u64(sub, "level", &level) || read_u64(sub, "size", &size) || !size)
			continue;
		read_u64(sub, "ways_of_associativity", &ways);
		read_u64(sub, "number_of_sets", &sets);
		read_u64(sub, "coherency_line_size", &line);
		c = (struct hwinfo_cache){ .size = size, .ways = (uint32_t)ways,
					   .sets = (uint32_t)sets, .line = (uint32_t)line };
		if (!read_line(sub, "shared_cpu_list", list, sizeof(list)) &&
		    (shared = hwinfo_count_cpu_list(list)) > 0)
			c.shared_cpus = (uint32_t)shared;
		place_cache(hw, (unsigned int)level, &c, &llc_level);
		found++;
	}
	closedir(d);
	if (hw->llc.shared_cpus)
		hw->share_source = "sysfs shared_cpu_list";
	return found;
}

/* ---- mapping to the simulator's structures ---------------------------------- */

void hwinfo_sa_geometry(uint32_t entries, uint32_t ways, bool fully, struct sa_config *sa)
{
	uint32_t sets, p;

	if (!entries) {
		sa->ways = 0;
		return;
	}
	if (fully || !ways || ways >= entries) {
		sa->sets = 1;
		sa->ways = entries;
		return;
	}
	sets = entries / ways;
	if (!sets)
		sets = 1;
	for (p = 1; p * 2 <= sets; p *= 2)
		;
	sa->sets = p;
	sa->ways = (entries + p / 2) / p;	/* >= ways, as p <= entries / ways */
}

void hwinfo_cache_geometry(const struct hwinfo_cache *c, struct sa_config *sa)
{
	uint64_t lines = c->size / SIM_LINE_SIZE;

	if (!c->size || !lines || lines > UINT32_MAX)
		return;
	hwinfo_sa_geometry((uint32_t)lines, c->ways, !c->ways, sa);
}

uint64_t hwinfo_llc_share(const struct hwinfo_cache *c, struct sa_config *sa)
{
	uint64_t lines, sets, p;

	if (c->shared_cpus <= 1 || !c->size) {
		hwinfo_cache_geometry(c, sa);
		return c->size;
	}
	lines = c->size / SIM_LINE_SIZE / c->shared_cpus;
	if (!lines || !c->ways || lines > UINT32_MAX)
		hwinfo_sa_geometry((uint32_t)(lines ? lines : 1), 0, true, sa);
	else if (lines < c->ways) {
		sa->sets = 1;
		sa->ways = (uint32_t)lines;
	} else {
		sets = lines / c->ways;
		for (p = 1; p * 2 <= sets; p *= 2)
			;
		sa->sets = (uint32_t)p;
		sa->ways = c->ways;
	}
	return c->size / c->shared_cpus;
}

/* Append one line to cfg->notes. */
static void __attribute__((format(printf, 2, 3))) note(struct sim_config *cfg, const char *fmt, ...)
{
	size_t n = strlen(cfg->notes);
	va_list ap;

	if (n && n + 1 < sizeof(cfg->notes))
		cfg->notes[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(cfg->notes + n, sizeof(cfg->notes) - n, fmt, ap);
	va_end(ap);
}

/* Bytes as "N MiB" or "N KiB" with two decimals when not whole. */
static const char *size_str(uint64_t b, char *buf, size_t len)
{
	if (b >= 1u << 20 && !(b & ((1u << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(b >> 20));
	else if (b >= 1u << 20)
		snprintf(buf, len, "%.2f MiB", (double)b / (1u << 20));
	else if (!(b & 1023))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(b >> 10));
	else
		snprintf(buf, len, "%.2f KiB", (double)b / 1024);
	return buf;
}

/* The LLC: one CPU's share, said in the notes. */
static void llc_to_config(const struct hwinfo *hw, struct sim_config *cfg)
{
	const struct hwinfo_cache *c = &hw->llc;
	char whole[32], share[32], got[32];
	uint64_t bytes;

	if (!c->size)
		return;
	bytes = hwinfo_llc_share(c, &cfg->llc);
	size_str(c->size, whole, sizeof(whole));
	size_str((uint64_t)cfg->llc.sets * cfg->llc.ways * SIM_LINE_SIZE, got, sizeof(got));
	if (c->shared_cpus > 1)
		note(cfg, "llc: the L3 is %s %u-way shared by %u CPUs (%s): one CPU's share %s, "
		     "configured %u sets x %u ways = %s", whole, c->ways, c->shared_cpus,
		     hw->share_source ? hw->share_source : "unknown", size_str(bytes, share,
		     sizeof(share)), cfg->llc.sets, cfg->llc.ways, got);
	else
		note(cfg, "llc: the L3 is %s %u-way, %s: configured whole, %u sets x %u ways = %s",
		     whole, c->ways, c->shared_cpus ? "not shared" : "sharing unknown",
		     cfg->llc.sets, cfg->llc.ways, got);
	/*
	 * Intel's and AMD's L3s are sliced, the slice chosen by a hash of the
	 * physical address: lines at the same offset of many pages spread
	 * over all of it, which a modulo index would crowd into a few sets
	 */
	cfg->llc.hashed = true;
	note(cfg, "llc: index hashed (\"xor\"): an x86 L3's slices are chosen by an address hash");
	/*
	 * Intel's L2 spatial prefetcher and AMD's L2 up/down prefetcher, on
	 * by default, fetch a missed line's 128-byte pair: a page chase of
	 * one line per page leaves the LLC at half the span a line chase does
	 */
	cfg->prefetch.adjacent = true;
	note(cfg, "prefetch: adjacent on: an x86 L2 fetches a missed line's 128-byte pair");
}

void hwinfo_nested(bool guest, struct nested_config *n)
{
	n->enabled = guest;
	if (guest)
		n->host_page_size = 4096;
}

void hwinfo_origin_kind(const struct hwinfo *hw, char *buf, size_t len)
{
	snprintf(buf, len, "hwinfo: %s family %u ", hw->vendor_id[0] ? hw->vendor_id : "unknown",
		 hw->family);
}

void hwinfo_to_config(const struct hwinfo *hw, struct sim_config *cfg)
{
	const struct hwinfo_tlbs *t = &hw->tlb;
	struct mmu_config *m = &cfg->mmu;
	size_t n;

	sim_config_init(cfg);
	hwinfo_origin_kind(hw, cfg->origin, sizeof(cfg->origin));
	n = strlen(cfg->origin);
	snprintf(cfg->origin + n, sizeof(cfg->origin) - n, "model %u: %s", hw->model,
		 hw->name[0] ? hw->name : "unknown");

	note(cfg, "host: %s family %#x model %#x stepping %u (%s), %s%s",
	     hw->vendor_id[0] ? hw->vendor_id : "unknown", hw->family, hw->model, hw->stepping,
	     hw->name[0] ? hw->name : "unknown", hw->guest ? "a guest of " : "bare metal",
	     hw->guest ? (hw->hypervisor[0] ? hw->hypervisor : "an unnamed hypervisor") : "");
	if (hw->freq_mhz >= 100 && hw->freq_mhz <= 100000)
		cfg->core.freq_mhz = hw->freq_mhz;
	dram_config_ddr4_2400(&cfg->dram, cfg->core.freq_mhz);

	/* TLBs: only when the host described its L1 for 4 KiB pages */
	if (t->l1[HWINFO_4K].entries) {
		hwinfo_sa_geometry(t->l1[HWINFO_4K].entries, t->l1[HWINFO_4K].ways,
				   t->l1[HWINFO_4K].fully, &m->dtlb_4k);
		hwinfo_sa_geometry(t->l1[HWINFO_2M].entries, t->l1[HWINFO_2M].ways,
				   t->l1[HWINFO_2M].fully, &m->dtlb_2m);
		hwinfo_sa_geometry(t->l1[HWINFO_1G].entries, t->l1[HWINFO_1G].ways,
				   t->l1[HWINFO_1G].fully, &m->dtlb_1g);
		m->l1_unified = t->l1_unified;
		m->dtlb.sets = m->dtlb_4k.sets;
		m->dtlb.ways = m->dtlb_4k.ways;
		hwinfo_sa_geometry(t->l2[HWINFO_4K].entries, t->l2[HWINFO_4K].ways,
				   t->l2[HWINFO_4K].fully, &m->stlb);
		m->stlb_1g = t->l2[HWINFO_1G].entries && m->stlb.ways;
	}
	hwinfo_cache_geometry(&hw->l1d, &cfg->l1d);
	hwinfo_cache_geometry(&hw->l2, &cfg->l2);
	llc_to_config(hw, cfg);
	hwinfo_nested(hw->guest, &m->nested);
	if (hw->guest)
		note(cfg, "mmu.nested: on, CPUID 1 ECX bit 31 says this host is a guest; "
		     "host_page_size 4 KiB assumed (a guest cannot see its host's page size)");
	else
		note(cfg, "mmu.nested: off, CPUID 1 ECX bit 31 clear (not a guest)");
}

/* ---- measured latencies ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int hwinfo_plateau(const struct hwinfo *hw, const struct hwinfo_chase_point *pts, size_t n,
		   enum hwinfo_plateau_level level, double *ns, uint64_t *lo, uint64_t *hi)
{
	uint64_t min = 0, max = UINT64_MAX, top = 0;
	double v[64];
	size_t k = 0;

	switch (level) {
	case HWINFO_PL_L1D:
		if (!hw->l1d.size)
			return -1;
		max = hw->l1d.size / 2;
		break;
	case HWINFO_PL_L2:
		if (!hw->l2.size)
			return -1;
		min = 2 * hw->l1d.size;
		max = hw->l2.size / 2;
		break;
	case HWINFO_PL_LLC:
		if (!hw->llc.size)
			return -1;
		min = 2 * hw->l2.size;
		max = hw->llc.size / 2;
		break;
	default:
		if (!hw->llc.size)
			return -1;
		min = 4 * hw->llc.size - 1;
		break;
	}
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (pts[i].bytes > top)
			top = pts[i].bytes;
		if (pts[i].bytes <= min || pts[i].bytes > max || k == 64)
			continue;
		v[k++] = pts[i].ns;
		if (pts[i].bytes < *lo)
			*lo = pts[i].bytes;
		if (pts[i].bytes > *hi)
			*hi = pts[i].bytes;
	}
	if (!k && level == HWINFO_PL_DRAM && top >= 2 * hw->llc.size) {
		for (size_t i = 0; i < n && k < 64; i++)
			if (pts[i].bytes == top)
				v[k++] = pts[i].ns;
		*lo = *hi = top;
	}
	if (!k)
		return -1;
	qsort(v, k, sizeof(v[0]), cmp_double);
	*ns = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	return 0;
}

int hwinfo_apply_measured(const struct hwinfo *hw, const struct hwinfo_measured *m,
			  struct sim_config *cfg)
{
	static const char *const what[HWINFO_NR_PL] = { "l1d.latency", "l2.latency",
							"llc.latency", "dram.t_row_miss" };
	struct sa_config *lat[HWINFO_NR_PL] = { &cfg->l1d, &cfg->l2, &cfg->llc, NULL };
	double cpn = m->cycles_per_ns;
	uint32_t above = 0;
	int found = 0;

	if (!(cpn > 0.1 && cpn < 100))
		return 0;
	cfg->core.freq_mhz = (uint32_t)(cpn * 1000 + 0.5);
	dram_config_ddr4_2400(&cfg->dram, cfg->core.freq_mhz);
	note(cfg, "core.freq_mhz: %u measured (clock: %.3f cycles per ns)", cfg->core.freq_mhz,
	     cpn);
	for (int l = 0; l < HWINFO_NR_PL; l++) {
		char a[32], b[32];
		uint64_t lo, hi;
		uint32_t cyc, v;
		double ns;

		if (hwinfo_plateau(hw, m->points, m->n, (enum hwinfo_plateau_level)l, &ns, &lo,
				   &hi)) {
			note(cfg, "%s: not measured (no line-chase point in its window), default "
			     "kept", what[l]);
			if (lat[l])
				above += lat[l]->latency;
			continue;
		}
		cyc = (uint32_t)(ns * cpn + 0.5);
		v = cyc > above ? cyc - above : 1;
		if (lat[l]) {
			lat[l]->latency = v;
			above += v;
		} else {
			cfg->dram.t_row_miss = v;
			cfg->dram.t_row_hit = (v * 37 + 35) / 71;
			cfg->dram.t_row_empty = (v * 54 + 35) / 71;
			if (!cfg->dram.t_row_hit)
				cfg->dram.t_row_hit = 1;
			if (!cfg->dram.t_row_empty)
				cfg->dram.t_row_empty = 1;
		}
		note(cfg, "%s: %u measured (line chase %s..%s: %.2f ns = %u cycles%s)", what[l], v,
		     size_str(lo, a, sizeof(a)), size_str(hi, b, sizeof(b)), ns, cyc,
		     l ? " from the load, less the levels above" : "");
		found++;
	}
	return found;
}

/* ---- probing this host ---------------------------------------------------------- */

#ifdef HAVE_CPUID
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__cpuid_count(leaf, sub, r[EAX], r[EBX], r[ECX], r[EDX]);
}
#endif

/* The frequency: CPUID 0x16's base (given by the caller), cpufreq's max, /proc/cpuinfo. */
static void probe_freq(struct hwinfo *hw, uint32_t cpuid_16_mhz)
{
	uint64_t khz;
	char line[256];
	FILE *f;

	if (cpuid_16_mhz) {
		hw->freq_mhz = cpuid_16_mhz;
		hw->freq_source = "cpuid 0x16";
		return;
	}
	if (!read_u64("/sys/devices/system/cpu/cpu0/cpufreq", "cpuinfo_max_freq", &khz) && khz) {
		hw->freq_mhz = (uint32_t)((khz + 500) / 1000);
		hw->freq_source = CPUFREQ_MAX;
		return;
	}
	if (!(f = fopen(PROC_CPUINFO, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		double mhz;

		if (!strncmp(line, "cpu MHz", 7) && sscanf(strchr(line, ':') ? strchr(line, ':') + 1 : "",
							   "%lf", &mhz) == 1 && mhz > 0) {
			hw->freq_mhz = (uint32_t)(mhz + 0.5);
			hw->freq_source = PROC_CPUINFO;
			break;
		}
	}
	fclose(f);
}

static int probe(struct hwinfo *hw, const char *sysfs_dir);

/*
 * CPUID answers for the CPU it runs on, and hybrid parts (Alder Lake's P-
 * and E-cores) differ: run it on cpu0, whose caches sysfs_dir describes.
 */
int hwinfo_probe(struct hwinfo *hw, const char *sysfs_dir)
{
	cpu_set_t old, cpu0;
	bool pinned;
	int ret;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	pinned = !sched_getaffinity(0, sizeof(old), &old) &&
		 !sched_setaffinity(0, sizeof(cpu0), &cpu0);
	ret = probe(hw, sysfs_dir);
	if (pinned)
		sched_setaffinity(0, sizeof(old), &old);
	return ret;
}

static int probe(struct hwinfo *hw, const char *sysfs_dir)
{
	memset(hw, 0, sizeof(*hw));
	hw->tlb_source = "none";
	hw->cache_source = "none";
	hw->freq_source = "none";
#ifdef HAVE_CPUID
	uint32_t r[4], max, ext, f16 = 0;
	unsigned int llc_level = 2;

	if (!__get_cpuid(0, &r[EAX], &r[EBX], &r[ECX], &r[EDX]))
		return -ENOTSUP;
	max = r[EAX];
	memcpy(hw->vendor_id, &r[EBX], 4);
	memcpy(hw->vendor_id + 4, &r[EDX], 4);
	memcpy(hw->vendor_id + 8, &r[ECX], 4);
	if (!strcmp(hw->vendor_id, "AuthenticAMD") || !strcmp(hw->vendor_id, "HygonGenuine"))
		hw->vendor = HWINFO_AMD;
	else if (!strcmp(hw->vendor_id, "GenuineIntel"))
		hw->vendor = HWINFO_INTEL;
	if (max >= 1) {
		cpuid(1, 0, r);
		hw->family = (r[EAX] >> 8) & 0xF;
		hw->model = (r[EAX] >> 4) & 0xF;
		hw->stepping = r[EAX] & 0xF;
		hw->guest = r[ECX] & (1u << 31);
		if (hw->family == 0xF)
			hw->family += (r[EAX] >> 20) & 0xFF;
		if (hw->family == 0x6 || hw->family >= 0xF)
			hw->model |= ((r[EAX] >> 16) & 0xF) << 4;
		if (hw->guest) {
			cpuid(0x40000000, 0, r);
			memcpy(hw->hypervisor, &r[EBX], 4);
			memcpy(hw->hypervisor + 4, &r[ECX], 4);
			memcpy(hw->hypervisor + 8, &r[EDX], 4);
			for (char *p = hw->hypervisor; *p; p++)
				if (*p < ' ' || *p > '~')
					*p = '?';
		}
	}
	ext = __get_cpuid_max(0x80000000, NULL);
	if (ext >= 0x80000004) {
		char *p = hw->name, *e;

		for (uint32_t l = 0; l < 3; l++) {
			cpuid(0x80000002 + l, 0, r);
			memcpy(hw->name + 16 * l, r, 16);
		}
		hw->name[48] = '\0';
		while (*p == ' ')
			p++;
		memmove(hw->name, p, strlen(p) + 1);
		for (e = hw->name + strlen(hw->name); e > hw->name && e[-1] == ' '; e--)
			e[-1] = '\0';
	}

	if (hw->vendor == HWINFO_AMD && ext >= 0x80000006) {
		uint32_t l5[4], l6[4], l19[4];
		bool has19 = ext >= 0x80000019;

		cpuid(0x80000005, 0, l5);
		cpuid(0x80000006, 0, l6);
		if (has19)
			cpuid(0x80000019, 0, l19);
		hwinfo_decode_amd(l5, l6, has19 ? l19 : NULL, &hw->tlb);
		hw->tlb_source = has19 ? "cpuid 0x80000005/6/19" : "cpuid 0x80000005/6";
	} else if (hw->vendor == HWINFO_INTEL) {
		int counted = 0;

		if (max >= 0x18) {
			uint32_t sub[64][4];
			unsigned int n;

			cpuid(0x18, 0, sub[0]);
			n = sub[0][EAX] + 1 < 64 ? sub[0][EAX] + 1 : 64;
			for (unsigned int i = 1; i < n; i++)
				cpuid(0x18, i, sub[i]);
			counted = hwinfo_decode_intel_18((const uint32_t (*)[4])sub, n, &hw->tlb);
			if (counted)
				hw->tlb_source = "cpuid 0x18";
		}
		if (!counted && max >= 2) {
			cpuid(2, 0, r);
			hwinfo_decode_intel_2(r, &hw->tlb);
			if (hw->tlb.l1[HWINFO_4K].entries)
				hw->tlb_source = "cpuid 0x2";
		}
	}
	if (hw->vendor == HWINFO_INTEL && max >= 0x16) {
		cpuid(0x16, 0, r);
		f16 = r[EAX] & 0xFFFF;
	}

	bool from_sysfs = hwinfo_read_sysfs_caches(sysfs_dir ? sysfs_dir : SYSFS_CACHE, hw);
	uint32_t leaf = hw->vendor == HWINFO_AMD ? 0x8000001D : 4;
	bool ok = hw->vendor == HWINFO_AMD ? ext >= 0x8000001D : max >= 4;

	if (from_sysfs)
		hw->cache_source = "sysfs";
	/* the caches when sysfs has none; the LLC's sharing when sysfs lacks it */
	for (uint32_t i = 0; ok && i < 16 && (!from_sysfs || !hw->llc.shared_cpus); i++) {
		unsigned int level, type;
		struct hwinfo_cache c;

		cpuid(leaf, i, r);
		if (hwinfo_decode_cache_leaf(r, &level, &type, &c))
			break;
		if (type != 1 && type != 3)
			continue;
		if (!from_sysfs) {
			place_cache(hw, level, &c, &llc_level);
			hw->cache_source = "cpuid";
		} else if (level > 2 && c.size == hw->llc.size) {
			hw->llc.shared_cpus = c.shared_cpus;
		}
	}
	if (hw->llc.shared_cpus && !hw->share_source)
		hw->share_source = "cpuid";
	probe_freq(hw, f16);
	return 0;
#else
	(void)sysfs_dir;
	return -ENOTSUP;
#endif
}
