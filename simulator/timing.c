/*
 * timing.c - one core's timing model (see timing.h).
 */
#include <errno.h>
#include <string.h>

#include "simulator/timing.h"

static const char *const fault_kind_names[] = {
#define X(k) #k,
	TIMING_FAULT_KINDS(X)
#undef X
};

const char *timing_fault_kind_name(enum timing_fault_kind k)
{
	return (unsigned)k < TIMING_FAULT_NR ? fault_kind_names[k] : NULL;
}

/* The MMU's way to memory: entries from MimicOS, latencies from the caches. */
static uint64_t port_read(void *ctx, uint64_t paddr)
{
	struct timing *t = ctx;

	return t->read_entry(t->read_ctx, paddr);
}

static uint32_t port_access(void *ctx, uint64_t paddr, bool write)
{
	struct timing *t = ctx;

	return memsys_access(&t->ms, paddr, write, MEMSYS_TRANSLATION);
}

static void port_prefetch(void *ctx, uint64_t paddr)
{
	struct timing *t = ctx;

	memsys_prefetch(&t->ms, paddr);
}

static void port_prefetch_entry(void *ctx, uint64_t paddr)
{
	struct timing *t = ctx;

	t->prefetch_entry(t->read_ctx, paddr);
}

int timing_init(struct timing *t, const struct timing_config *cfg, unsigned int levels,
		uint64_t cr3, uint64_t (*read_entry)(void *ctx, uint64_t paddr), void *ctx,
		uint64_t seed)
{
	struct mmu_port port = { .read_entry = port_read, .access = port_access,
				 .prefetch = port_prefetch, .ctx = t };
	int err;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	t->cr3 = cr3;
	t->asid = 1;
	t->read_entry = read_entry;
	t->read_ctx = ctx;
	wl_rng_seed(&t->rng, seed);
	wl_rng_seed(&t->cold_rng, wl_rng_derive(seed, TIMING_COLD_STREAM));
	err = core_init(&t->core, &cfg->core, cfg->l1d.latency);
	if (err)
		return err;
	err = memsys_init(&t->ms, &cfg->l1d, &cfg->l2, &cfg->llc, &cfg->dram, &cfg->prefetch,
			  &t->rng);
	if (err)
		return err;
	err = mmu_init(&t->mmu, &cfg->mmu, levels, &port, &t->rng);
	if (err) {
		memsys_release(&t->ms);
		return err;
	}
	/* core_access() gets translation + data: an L1 hit is both L1s' latencies */
	t->core.short_latency = t->mmu.l1_latency + cfg->l1d.latency;
	return 0;
}

void timing_release(struct timing *t)
{
	mmu_release(&t->mmu);
	memsys_release(&t->ms);
}

int __timing_translate_fault(struct timing *t, uint64_t va, bool write, struct mmu_result *r,
			     uint64_t *paddr, uint32_t *cycles)
{
	if (r->fault == MMU_FAULT_PROTECTION && r->where != MMU_WALK) {
		/* AMD: a permission fault from a TLB entry re-walks first */
		uint32_t first = r->cycles;

		mmu_invalidate_range(&t->mmu, t->asid, va & ~0xfffULL, (va & ~0xfffULL) + 0x1000);
		mmu_translate(&t->mmu, t->cr3, t->asid, va, write, r);
		r->cycles += first;
		if (r->fault == MMU_FAULT_NONE)
			t->stats.rewalks++;
	}
	*cycles = r->cycles;
	if (r->fault != MMU_FAULT_NONE)
		return 1;
	*paddr = r->paddr;
	return 0;
}

void timing_set_prefetch_entry(struct timing *t, void (*fn)(void *ctx, uint64_t paddr))
{
	t->prefetch_entry = fn;
	t->mmu.port.prefetch_entry = fn ? port_prefetch_entry : NULL;
}

/* The kernel's translations of [paddr, paddr + len): one per 2 MiB of the direct map. */
static uint64_t kernel_tlb(struct timing *t, uint64_t paddr, uint64_t len)
{
	uint64_t cyc = 0, end = paddr + (len ? len : 1);

	for (uint64_t p = paddr & ~((1ULL << 21) - 1); p < end; p += 1ULL << 21)
		cyc += mmu_kernel_translate(&t->mmu, p);
	return cyc;
}

/*
 * A bulk operation's cost: 'len' bytes at 'gbs' GB/s, when a calibration
 * measured that rate (a streaming clear or copy, prefetched and
 * write-combined, is not a sum of its lines' latencies); 0: the caches'
 * own estimate, 'cycles'. The caches see every line either way.
 */
static uint64_t bulk_rate(const struct timing *t, uint64_t cycles, uint64_t len, double gbs)
{
	if (gbs <= 0)
		return cycles;
	/* bytes / (GB/s) is ns; ns * MHz / 1000 is cycles */
	return (uint64_t)((double)len * t->cfg.core.freq_mhz / (1000.0 * gbs));
}

/*
 * The cycles of the kernel's own work, replayed on the caches and TLBs;
 * *insns its instructions, *zeroed the bytes of user data it cleared.
 */
static uint64_t replay(struct timing *t, const struct kstream *ks, uint64_t *insns,
		       uint64_t *zeroed)
{
	uint64_t reads = 0, writes = 0, bulk = 0, n = 0, z = 0, cyc;
	uint32_t mlp = t->cfg.core.mlp;

	for (size_t i = 0; i < ks->nr; i++) {
		const struct kstream_rec *r = &ks->rec[i];

		switch (r->type) {
		case KSTREAM_READ:
			reads += kernel_tlb(t, r->paddr, 8);
			reads += memsys_access(&t->ms, r->paddr, false, MEMSYS_KERNEL);
			break;
		case KSTREAM_WRITE:
			writes += kernel_tlb(t, r->paddr, r->len);
			writes += memsys_access(&t->ms, r->paddr, true, MEMSYS_KERNEL);
			break;
		case KSTREAM_ZERO:
			bulk += kernel_tlb(t, r->paddr, r->len);
			cyc = memsys_bulk(&t->ms, r->paddr, r->len, MEMSYS_NO_SOURCE, mlp,
					  MEMSYS_KERNEL);
			bulk += bulk_rate(t, cyc, r->len, t->cfg.core.zero_bandwidth_gbs);
			if (r->src == KSTREAM_SRC_DATA)
				z += r->len;
			break;
		case KSTREAM_COPY_FROM:
			/* the COPY_TO right after it names the destination */
			if (i + 1 < ks->nr && ks->rec[i + 1].type == KSTREAM_COPY_TO) {
				bulk += kernel_tlb(t, r->paddr, r->len);
				bulk += kernel_tlb(t, ks->rec[i + 1].paddr, r->len);
				cyc = memsys_bulk(&t->ms, ks->rec[i + 1].paddr, r->len, r->paddr,
						  mlp, MEMSYS_KERNEL);
				bulk += bulk_rate(t, cyc, r->len, t->cfg.core.copy_bandwidth_gbs);
				i++;
			}
			break;
		case KSTREAM_INSNS:
			n += r->len;
			break;
		default:
			break;
		}
	}
	*insns = n;
	*zeroed = z;
	return reads + writes / (mlp ? mlp : 1) + bulk + (uint64_t)(n * t->cfg.core.kernel_cpi);
}

/*
 * The hypervisor's first touch of a fault that cleared 'zeroed' bytes of
 * user data: first_touch_cycles_per_4k per 4 KiB when the fault is cold,
 * one draw of the cold stream per such fault (none when the knob is off, so
 * turning it off changes no other draw).
 */
static uint64_t first_touch(struct timing *t, uint64_t zeroed)
{
	const struct core_config *c = &t->cfg.core;

	if (!zeroed || !c->first_touch_cycles_per_4k || c->cold_share <= 0)
		return 0;
	/* the top 53 bits as a double in [0, 1): cold when below the share */
	if ((double)(wl_rng_next(&t->cold_rng) >> 11) * 0x1p-53 >= c->cold_share)
		return 0;
	return (uint64_t)c->first_touch_cycles_per_4k * ((zeroed + 4095) / 4096);
}

uint64_t timing_kernel(struct timing *t, enum timing_kernel_kind kind,
		       const struct mimicos_response *rs, const struct kstream *ks)
{
	uint64_t insns, zeroed, window = replay(t, ks, &insns, &zeroed), edges;

	t->stats.kernel_insns += insns;
	if (kind == TIMING_KERNEL_BACKGROUND)
		return window;	/* another CPU's work: pollution only */
	/* entry and exit are outside the window, not outside the core's time */
	edges = (uint64_t)t->cfg.core.fault_entry_cycles + t->cfg.core.fault_exit_cycles;
	if (kind == TIMING_KERNEL_SYSCALL) {
		core_serialize(&t->core, window + edges);
		t->stats.syscall_cycles += window + edges;
		return window;
	}
	window += first_touch(t, zeroed);
	edges += t->cfg.core.fault_outside_window_cycles;
	core_serialize(&t->core, window + edges);
	t->stats.fault_cycles += window + edges;
	t->stats.fault_window_cycles += window;
	t->stats.fault_entry_exit_cycles += edges;
	if (rs->zero_page)
		t->stats.faults[TIMING_FAULT_zero]++;
	else if (rs->order == 9 && rs->page_size > 4096)
		t->stats.faults[TIMING_FAULT_thp]++;
	else if (rs->order > 0)
		t->stats.faults[TIMING_FAULT_mthp]++;
	else if (rs->order == 0 && !(rs->nr_tlb))
		t->stats.faults[TIMING_FAULT_small]++;
	else
		t->stats.faults[TIMING_FAULT_other]++;
	return window;
}

void timing_shootdowns(struct timing *t, const struct mimicos_response *rs)
{
	if (rs->tlb_flush_all) {
		mmu_flush_all(&t->mmu);
		t->stats.shootdowns++;
		return;
	}
	/*
	 * Only the flushes MimicOS did: a new mapping needs none, and a
	 * permission upgrade Linux does not flush stays stale in the TLB (the
	 * AMD re-walk of timing_translate() deals with it, as the hardware does).
	 */
	for (uint32_t i = 0; i < rs->nr_tlb; i++) {
		mmu_invalidate_range(&t->mmu, t->asid, rs->tlb[i].start, rs->tlb[i].end);
		t->stats.shootdowns++;
	}
}

void timing_ipi_wait(struct timing *t, uint32_t waits)
{
	uint64_t c = (uint64_t)waits * t->cfg.core.ipi_wait_cycles;

	core_serialize(&t->core, c);
	t->stats.ipi_wait_cycles += c;
}

void timing_ipi_handle(struct timing *t, uint32_t calls)
{
	uint64_t c = (uint64_t)calls * t->cfg.core.ipi_handle_cycles;

	core_serialize(&t->core, c);
	t->stats.ipi_handle_cycles += c;
}

void timing_set_pattern(struct timing *t, int pattern)
{
	uint32_t extra = 0;

	if (pattern >= 0 && pattern < CORE_PATTERNS)
		extra = t->cfg.core.executor_cycles[pattern];
	core_set_work(&t->core, t->cfg.core.work_cycles + extra);
}

void timing_idle(struct timing *t, uint64_t ns)
{
	core_drain(&t->core);
	t->core.now += ns * t->cfg.core.freq_mhz / 1000;
	core_drain(&t->core);
	t->core.horizon = t->core.now;
}

uint64_t timing_idle_until(struct timing *t, uint64_t cycles)
{
	uint64_t now = core_drain(&t->core);

	if (cycles > now) {
		t->core.now = cycles;
		core_drain(&t->core);
		t->core.horizon = t->core.now;
	}
	return t->core.now;
}

uint64_t timing_now_ns(struct timing *t)
{
	return core_ns(&t->core, core_drain(&t->core));
}

void timing_snapshot(struct timing *t, struct timing_stats *out)
{
	*out = t->stats;
	out->cycles = core_drain(&t->core);
	out->core = t->core.stats;
	out->mem = t->ms.stats;
	out->dram = t->ms.mem->stats;
	for (int l = 0; l < MEMSYS_LLC; l++)
		out->cache[l] = t->ms.level[l].stats;
	out->cache[MEMSYS_LLC] = t->ms.llc->stats;
	out->mmu = t->mmu.stats;
}

/* Every field of struct timing_stats is a uint64_t counter (checked below). */
void timing_stats_sub(struct timing_stats *out, const struct timing_stats *b,
		      const struct timing_stats *a)
{
	const uint64_t *pb = (const uint64_t *)b, *pa = (const uint64_t *)a;
	uint64_t *po = (uint64_t *)out;

	_Static_assert(sizeof(struct timing_stats) % sizeof(uint64_t) == 0,
		       "timing_stats must be made of uint64_t counters");
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		po[i] = pb[i] - pa[i];
}
