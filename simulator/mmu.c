/*
 * mmu.c - TLBs, page-walk caches and the page-table walker, native and
 * nested (the contract is in mmu.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulator/check.h"
#include "simulator/mmu.h"
#include "workload/x86.h"

const char *const mmu_page_size_names[MMU_PS_NR] = { "4k", "2m", "1g" };
const char *const mmu_pwc_level_names[PWC_NR] = { "pml5", "pml4", "pdpt", "pd" };
const char *const mmu_level_names[MMU_LEVELS_MAX] = { "pt", "pd", "pdpt", "pml4", "pml5" };

static const unsigned int ps_shift[MMU_PS_NR] = { 12, 21, 30 };

/* The page-size index of a leaf or TLB entry of 'shift' bits (12, 21, 30). */
static inline unsigned int shift_ps(unsigned int shift)
{
	return (shift - 12) / 9;
}

/* enum pwc_level of page-table level 'level' (2..5). */
static inline unsigned int level_pwc(unsigned int level)
{
	return MMU_LEVELS_MAX - level;
}

#define mmu_check sim_check

/* ---- set-up -------------------------------------------------------------- */

static inline bool sa_present(const struct sa_cache *c)
{
	return c->ways != 0;
}

/* sa_init() unless the configuration has no ways (absent). */
static int init_one(struct sa_cache *c, const struct sa_config *cfg, const char *name,
		    struct wl_rng *rng)
{
	if (cfg->ways == 0)
		return 0;
	return sa_init(c, cfg, name, rng);
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

int mmu_init(struct mmu *m, const struct mmu_config *cfg, unsigned int levels,
	     const struct mmu_port *port, struct wl_rng *rng)
{
	static const char *const dtlb_names[MMU_PS_NR] = { "dtlb_4k", "dtlb_2m", "dtlb_1g" };
	static const char *const pwc_names[PWC_NR] = {
		"pwc_pml5", "pwc_pml4", "pwc_pdpt", "pwc_pd"
	};
	const struct sa_config *dtlb_cfg[MMU_PS_NR] = { &cfg->dtlb_4k, &cfg->dtlb_2m, &cfg->dtlb_1g };
	int err;

	memset(m, 0, sizeof(*m));
	if ((levels != 4 && levels != 5) || !port || !port->read_entry)
		return -EINVAL;
	m->cfg = *cfg;
	m->levels = levels;
	m->port = *port;
	m->hint_gen = 1;

	if (cfg->l1_unified) {
		err = init_one(&m->dtlb_unified, &cfg->dtlb, "dtlb", rng);
		if (err)
			goto fail;
		for (int ps = 0; ps < MMU_PS_NR; ps++)
			m->l1[ps] = sa_present(&m->dtlb_unified) ? &m->dtlb_unified : NULL;
		m->l1_latency = cfg->dtlb.ways ? cfg->dtlb.latency : 0;
	} else {
		for (int ps = 0; ps < MMU_PS_NR; ps++) {
			err = init_one(&m->dtlb[ps], dtlb_cfg[ps], dtlb_names[ps], rng);
			if (err)
				goto fail;
			if (sa_present(&m->dtlb[ps])) {
				m->l1[ps] = &m->dtlb[ps];
				m->l1_latency = max_u32(m->l1_latency, dtlb_cfg[ps]->latency);
			}
		}
	}

	err = init_one(&m->stlb, &cfg->stlb, "stlb", rng);
	if (err)
		goto fail;
	if (sa_present(&m->stlb)) {
		m->l2[MMU_4K] = m->l2[MMU_2M] = &m->stlb;
		m->l2[MMU_1G] = cfg->stlb_1g ? &m->stlb : NULL;
		m->stlb_latency = cfg->stlb.latency;
	}

	if (cfg->pwc) {
		for (unsigned int i = 0; i < PWC_NR; i++) {
			unsigned int level = MMU_LEVELS_MAX - i;

			if (level > levels)
				continue;
			err = init_one(&m->pwc[i], &cfg->pwc_level[i], pwc_names[i], rng);
			if (err)
				goto fail;
			if (sa_present(&m->pwc[i])) {
				m->pwc_at[level] = &m->pwc[i];
				m->pwc_latency = max_u32(m->pwc_latency, cfg->pwc_level[i].latency);
			}
		}
	}

	if (cfg->nested.enabled) {
		const struct nested_config *n = &cfg->nested;

		err = -EINVAL;
		if (n->host_levels != 4 && n->host_levels != 5)
			goto fail;
		switch (n->host_page_size) {
		case 1ULL << 12: m->host_leaf = 1; break;
		case 1ULL << 21: m->host_leaf = 2; break;
		case 1ULL << 30: m->host_leaf = 3; break;
		default: goto fail;
		}
		m->host_levels = n->host_levels;
		m->host_shift = mmu_level_shift(m->host_leaf);
		err = init_one(&m->ntlb, &n->ntlb, "ntlb", rng);
		if (err)
			goto fail;
		m->ntlbp = sa_present(&m->ntlb) ? &m->ntlb : NULL;
	}
	return 0;
fail:
	mmu_release(m);
	return err;
}

void mmu_release(struct mmu *m)
{
	for (int i = 0; i < MMU_PS_NR; i++)
		sa_release(&m->dtlb[i]);
	sa_release(&m->dtlb_unified);
	sa_release(&m->stlb);
	for (int i = 0; i < PWC_NR; i++)
		sa_release(&m->pwc[i]);
	sa_release(&m->ntlb);
	memset(m, 0, sizeof(*m));
}

/* ---- invalidation -------------------------------------------------------- */

/* Forget mmu_prefetch()'s tables (any of them may be freed now). */
static void hint_forget(struct mmu *m)
{
	if (++m->hint_gen >> (64 - MMU_HINT_GEN_SHIFT)) {
		/* the generation no longer fits its key: start again from empty slots */
		memset(m->hint, 0, sizeof(m->hint));
		m->hint_gen = 1;
	}
}

/* What x86 does on a page fault: forget every cached translation of va. */
static void invalidate_va(struct mmu *m, uint16_t asid, uint64_t va)
{
	m->last.valid = false;
	for (int ps = 0; ps < MMU_PS_NR; ps++) {
		uint64_t key = sa_va_key(va, ps_shift[ps]);

		if (m->l1[ps])
			sa_invalidate(m->l1[ps], key, asid);
		if (m->l2[ps])
			sa_invalidate(m->l2[ps], key, asid);
	}
	for (unsigned int l = 2; l <= m->levels; l++)
		if (m->pwc_at[l])
			sa_invalidate(m->pwc_at[l], sa_va_key(va, mmu_level_shift(l)), asid);
}

void mmu_invalidate_range(struct mmu *m, uint16_t asid, uint64_t start, uint64_t end)
{
	uint64_t n = 0;

	mmu_check(start < end, "mmu: invalidate range [%#llx, %#llx) is empty or reversed",
		  (unsigned long long)start, (unsigned long long)end);
	m->last.valid = false;
	hint_forget(m);
	for (int ps = 0; ps < MMU_PS_NR; ps++) {
		uint64_t lo = sa_va_key(start, ps_shift[ps]);
		uint64_t hi = sa_va_key(end - 1, ps_shift[ps]);

		if (m->l1[ps])
			n += sa_invalidate_range(m->l1[ps], lo, hi, asid);
		if (m->l2[ps])
			n += sa_invalidate_range(m->l2[ps], lo, hi, asid);
	}
	for (int i = 0; i < PWC_NR; i++)
		if (sa_present(&m->pwc[i]))
			n += sa_flush_asid(&m->pwc[i], asid);
	m->stats.shootdowns++;
	m->stats.shootdown_entries += n;
}

/* Every TLB and PWC (not the NTLB), for one asid or (all) every one. */
static void flush(struct mmu *m, bool all, uint16_t asid)
{
	struct sa_cache *cs[MMU_PS_NR + 2 + PWC_NR];
	int nr = 0;

	m->last.valid = false;
	hint_forget(m);
	for (int i = 0; i < MMU_PS_NR; i++)
		cs[nr++] = &m->dtlb[i];
	cs[nr++] = &m->dtlb_unified;
	cs[nr++] = &m->stlb;
	for (int i = 0; i < PWC_NR; i++)
		cs[nr++] = &m->pwc[i];
	for (int i = 0; i < nr; i++) {
		if (!sa_present(cs[i]))
			continue;
		if (all)
			sa_flush_all(cs[i]);
		else
			sa_flush_asid(cs[i], asid);
	}
	m->stats.flushes++;
}

void mmu_flush_asid(struct mmu *m, uint16_t asid)
{
	flush(m, false, asid);
}

void mmu_flush_all(struct mmu *m)
{
	flush(m, true, 0);
}

/* ---- translation --------------------------------------------------------- */

static inline uint32_t port_access(struct mmu *m, uint64_t paddr)
{
	return m->port.access ? m->port.access(m->port.ctx, paddr, false) : 0;
}

static int fault(struct mmu *m, uint16_t asid, uint64_t va, enum mmu_fault kind,
		 unsigned int level, struct mmu_result *r)
{
	invalidate_va(m, asid, va);
	r->fault = (uint8_t)kind;
	r->fault_level = (uint8_t)level;
	r->paddr = 0;
	r->page_size = 0;
	r->perms = 0;
	if (kind == MMU_FAULT_NOT_PRESENT)
		m->stats.faults_not_present++;
	else
		m->stats.faults_protection++;
	return -EFAULT;
}

/* The permission check of a user-mode access (x86: U/S, then R/W). */
static inline bool perms_deny(unsigned int perms, bool write)
{
	return !(perms & SA_PERM_USER) || (write && !(perms & SA_PERM_WRITE));
}

static inline int tlb_hit(struct mmu *m, uint16_t asid, uint64_t va, bool write,
			  uint64_t payload, struct mmu_result *r)
{
	unsigned int perms = sa_tlb_perms(payload);

	if (__builtin_expect(perms_deny(perms, write), 0))
		return fault(m, asid, va, MMU_FAULT_PROTECTION, 0, r);
	r->paddr = sa_tlb_translate(payload, va);
	r->page_size = 1ULL << sa_tlb_shift(payload);
	r->perms = (uint8_t)perms;
	return 0;
}

/*
 * The host frame of guest frame 'gfn' (host pages of 1 << shift bytes), as
 * a byte offset below MMU_NESTED_GPA_LIMIT: a fixed bijection of the frame
 * numbers (an odd multiply, an xorshift and another odd multiply, each
 * invertible modulo 2^k), so that consecutive guest frames lie scattered
 * in the host's memory as a host's allocator leaves them, and a
 * physically indexed cache sees their lines in unrelated sets.
 */
static uint64_t host_frame(uint64_t gfn, unsigned int shift)
{
	unsigned int k = 40 - shift;		/* MMU_NESTED_GPA_LIMIT is 2^40 */
	uint64_t mask = (1ULL << k) - 1, y = (gfn * 0x9e3779b97f4a7c15ULL) & mask;

	y ^= y >> (k / 2 ? k / 2 : 1);
	y = (y * 0xbf58476d1ce4e5b9ULL) & mask;
	return y << shift;
}

/*
 * Nested: the host-physical address of guest-physical 'gpa', by the NTLB or
 * a host walk (its references counted in r and the stats, its time in *cyc).
 */
static uint64_t gpa_to_hpa(struct mmu *m, uint64_t gpa, uint64_t *cyc, struct mmu_result *r)
{
	uint64_t key = sa_va_key(gpa, m->host_shift), p, hpa;

	mmu_check(gpa < MMU_NESTED_GPA_LIMIT,
		  "mmu: guest-physical address %#llx beyond the nested mode's %#llx",
		  (unsigned long long)gpa, (unsigned long long)MMU_NESTED_GPA_LIMIT);
	if (m->ntlbp) {
		*cyc += m->ntlbp->cfg.latency;
		if (sa_lookup(m->ntlbp, key, 0, &p)) {
			m->stats.ntlb_hits++;
			return sa_tlb_translate(p, gpa);
		}
	}
	m->stats.ntlb_misses++;
	for (unsigned int l = m->host_levels; l >= m->host_leaf; l--) {
		uint64_t table = MMU_NESTED_TABLES + (uint64_t)(l - 1) * MMU_NESTED_LEVEL_SPAN +
				 (gpa >> (mmu_level_shift(l) + 9)) * 4096;
		uint64_t ea = table + ((gpa >> mmu_level_shift(l)) & 511) * 8;

		*cyc += port_access(m, ea);
		r->host_reads[l]++;
		r->refs++;
		m->stats.host_refs[l - 1]++;
	}
	hpa = MMU_NESTED_GPA_OFFSET + (m->cfg.nested.contiguous ? gpa & ~((1ULL << m->host_shift) - 1)
				       : host_frame(gpa >> m->host_shift, m->host_shift)) +
	      (gpa & ((1ULL << m->host_shift) - 1));
	if (m->ntlbp)
		sa_insert(m->ntlbp, key, 0,
			  sa_tlb_payload(hpa & ~((1ULL << m->host_shift) - 1), m->host_shift,
					 SA_PERM_READ | SA_PERM_WRITE | SA_PERM_USER | SA_PERM_EXEC),
			  NULL);
	return hpa;
}

/* A present entry of 'level' that maps a page: a PTE, or a PSE PMD or PUD. */
static inline bool entry_is_leaf(unsigned int level, uint64_t e)
{
	return level == 1 || (level <= 3 && (e & _PAGE_PSE));
}

/* The permissions among write, user and exec a present entry leaves on its path. */
static inline unsigned int entry_grants(uint64_t e)
{
	return (e & _PAGE_RW ? SA_PERM_WRITE : 0) | (e & _PAGE_USER ? SA_PERM_USER : 0) |
	       (e & _PAGE_NX ? 0 : SA_PERM_EXEC);
}

static int walk(struct mmu *m, uint64_t cr3, uint16_t asid, uint64_t va, bool write,
		struct mmu_result *r)
{
	const bool nested = m->cfg.nested.enabled;
	const bool data_hint = m->port.prefetch && !nested && !m->data_hints;
	unsigned int level = m->levels, perms = SA_PERM_WRITE | SA_PERM_USER | SA_PERM_EXEC;
	unsigned int shift, ps;
	uint64_t table = cr3 & PTE_PFN_MASK, cyc = m->pwc_latency, e, pa, payload;
	int ret = 0;

	r->where = MMU_WALK;
	m->stats.walks++;
	m->stats.store_walks += write;

	/* PWCs, deepest first: a hit at level l gives the table of level l - 1. */
	for (unsigned int l = 2; l <= m->levels; l++) {
		struct sa_cache *c = m->pwc_at[l];

		if (!c)
			continue;
		if (sa_lookup(c, sa_va_key(va, mmu_level_shift(l)), asid, &e)) {
			m->stats.pwc_hits[level_pwc(l)]++;
			table = e & PTE_PFN_MASK;
			perms = (unsigned int)e & SA_PERM_MASK;
			level = l - 1;
			break;
		}
		m->stats.pwc_misses[level_pwc(l)]++;
	}

	/* One entry per level from there. */
	for (;; level--) {
		uint64_t ea = table + ((va >> mmu_level_shift(level)) & 511) * 8;

		uint64_t hea = nested ? gpa_to_hpa(m, ea, &cyc, r) : ea;

		bool leaf;

		/* the entry first: its host cache miss overlaps the caches' work */
		e = m->port.read_entry(m->port.ctx, ea);
		leaf = (e & _PAGE_PRESENT) && entry_is_leaf(level, e);
		if (leaf && data_hint) {
			unsigned int sh = mmu_level_shift(level);

			m->port.prefetch(m->port.ctx, (e & __PHYSICAL_MASK & ~((1ULL << sh) - 1)) |
						       (va & ((1ULL << sh) - 1)));
		}
		cyc += port_access(m, hea);
		r->reads[level]++;
		r->refs++;
		m->stats.guest_refs[level - 1]++;
		if (!(e & _PAGE_PRESENT)) {
			ret = fault(m, asid, va, MMU_FAULT_NOT_PRESENT, level, r);
			goto out;
		}
		perms &= entry_grants(e) | ~(SA_PERM_WRITE | SA_PERM_USER | SA_PERM_EXEC);
		if (leaf)
			break;
		table = e & PTE_PFN_MASK;
		if (m->pwc_at[level])
			sa_insert(m->pwc_at[level], sa_va_key(va, mmu_level_shift(level)), asid,
				  table | perms, NULL);
	}

	/* The leaf. */
	if (perms_deny(perms, write)) {
		ret = fault(m, asid, va, MMU_FAULT_PROTECTION, 0, r);
		goto out;
	}
	perms |= SA_PERM_READ;
	if (e & _PAGE_ACCESSED)
		perms |= SA_PERM_ACCESSED;
	if (e & _PAGE_DIRTY)
		perms |= SA_PERM_DIRTY;
	shift = mmu_level_shift(level);
	pa = (e & __PHYSICAL_MASK & ~((1ULL << shift) - 1)) | (va & ((1ULL << shift) - 1));
	if (nested) {
		pa = gpa_to_hpa(m, pa, &cyc, r);
		if (m->host_shift < shift)
			shift = m->host_shift;
	}
	ps = shift_ps(shift);
	m->stats.walks_found[ps]++;
	m->stats.store_walks_found[ps] += write;
	payload = sa_tlb_payload(pa & ~((1ULL << shift) - 1), shift, perms);
	m->last.valid = false;		/* an insert may evict or demote it */
	if (asid != MMU_KERNEL_ASID)
		m->user_sizes |= (uint8_t)(1u << ps);
	if (m->l1[ps])
		sa_insert(m->l1[ps], sa_va_key(va, shift), asid, payload, NULL);
	if (m->l2[ps])
		sa_insert(m->l2[ps], sa_va_key(va, shift), asid, payload, NULL);
	r->paddr = pa;
	r->page_size = 1ULL << shift;
	r->perms = (uint8_t)perms;
out:
	r->cycles += (uint32_t)cyc;
	m->stats.walk_cycles += cyc;
	if (write)
		m->stats.store_walk_cycles += cyc;
	return ret;
}

/*
 * The page sizes a lookup for asid may hit, bit ps set (struct mmu's
 * user_sizes): a lookup of another size must miss, so it is only counted.
 */
static inline unsigned int sizes_used(const struct mmu *m, uint16_t asid)
{
	return asid == MMU_KERNEL_ASID ? (1u << MMU_PS_NR) - 1 : m->user_sizes;
}

/*
 * Look va's page of size ps up in 'c' (an L1 or the STLB; NULL: absent, not
 * probed), as sa_lookup() does, or only count the miss of a size not in
 * 'sizes'. Always inline, so that each size's shift is a constant.
 */
static inline __attribute__((always_inline))
bool tlb_probe(struct sa_cache *c, unsigned int sizes, int ps, uint64_t va, uint16_t asid,
	       uint64_t *payload)
{
	if (!c)
		return false;
	if (!(sizes >> ps & 1)) {
		c->stats.misses++;	/* what the lookup would do */
		return false;
	}
	return sa_lookup(c, sa_va_key(va, ps_shift[ps]), asid, payload);
}

/* The first page size whose probe of 'tlb' (l1 or l2 by size) hits, or MMU_PS_NR. */
static inline __attribute__((always_inline))
int tlb_probe_sizes(struct sa_cache *const tlb[MMU_PS_NR], unsigned int sizes, uint64_t va,
		    uint16_t asid, uint64_t *payload)
{
	if (tlb_probe(tlb[MMU_4K], sizes, MMU_4K, va, asid, payload))
		return MMU_4K;
	if (tlb_probe(tlb[MMU_2M], sizes, MMU_2M, va, asid, payload))
		return MMU_2M;
	if (tlb_probe(tlb[MMU_1G], sizes, MMU_1G, va, asid, payload))
		return MMU_1G;
	return MMU_PS_NR;
}

int __mmu_translate(struct mmu *m, uint64_t cr3, uint16_t asid, uint64_t va, bool write,
		    struct mmu_result *r)
{
	unsigned int sizes = sizes_used(m, asid);
	uint64_t payload;
	int ps;

	memset(r, 0, sizeof(*r));
	m->stats.translations++;
	m->stats.store_translations += write;
	r->cycles = m->l1_latency;
	if (m->last.valid && m->last.asid == asid &&
	    sa_va_key(va, ps_shift[m->last.ps]) == m->last.key) {
		/* what the loop below would do: misses in the sizes probed first, a hit */
		for (ps = 0; ps < m->last.ps; ps++)
			if (m->l1[ps])
				m->l1[ps]->stats.misses++;
		m->l1[ps]->stats.hits++;
		m->stats.l1_hits[ps]++;
		r->where = MMU_HIT_L1;
		return tlb_hit(m, asid, va, write, m->last.payload, r);
	}
	ps = tlb_probe_sizes(m->l1, sizes, va, asid, &payload);
	if (ps < MMU_PS_NR) {
		m->stats.l1_hits[ps]++;
		r->where = MMU_HIT_L1;
		m->last.valid = true;
		m->last.asid = asid;
		m->last.ps = (uint8_t)ps;
		m->last.key = sa_va_key(va, ps_shift[ps]);
		m->last.payload = payload;
		return tlb_hit(m, asid, va, write, payload, r);
	}
	m->stats.l1_misses++;

	if (sa_present(&m->stlb)) {
		r->cycles += m->stlb_latency;
		ps = tlb_probe_sizes(m->l2, sizes, va, asid, &payload);
		if (ps < MMU_PS_NR) {
			m->stats.stlb_hits[ps]++;
			m->stats.store_stlb_hits += write;
			r->where = MMU_HIT_STLB;
			m->last.valid = false;
			if (m->l1[ps] && !perms_deny(sa_tlb_perms(payload), write))
				sa_insert(m->l1[ps], sa_va_key(va, ps_shift[ps]), asid, payload, NULL);
			return tlb_hit(m, asid, va, write, payload, r);
		}
		m->stats.stlb_misses++;
	}
	return walk(m, cr3, asid, va, write, r);
}

_Static_assert(MMU_PTE_PRESENT == _PAGE_PRESENT && MMU_PTE_FRAME == PTE_PFN_MASK,
	       "mmu.h's entry bits are x86's");

void __mmu_prefetch(struct mmu *m, uint64_t cr3, uint64_t va, bool to_data)
{
	uint64_t table, ea, e, key = va >> 21;
	struct mmu_hint *h = &m->hint[key & (MMU_HINT_SLOTS - 1)];
	unsigned int level, sh;

	if (m->cfg.nested.enabled || !m->port.prefetch)
		return;
	if (to_data)
		m->data_hints = true;
	if (cr3 != m->hint_cr3) {
		hint_forget(m);
		m->hint_cr3 = cr3;
	}
	key |= m->hint_gen << MMU_HINT_GEN_SHIFT;
	if (h->key == key) {
		/* the levels above were walked before: start at the table they gave */
		table = h->table & PTE_PFN_MASK;
		level = (unsigned int)(h->table & ~PTE_PFN_MASK);
	} else {
		table = cr3 & PTE_PFN_MASK;
		level = m->levels;
	}
	for (;; level--) {
		ea = table + ((va >> mmu_level_shift(level)) & 511) * 8;
		if (level == 1) {
			h->key = key;
			h->table = table | 1;
			if (!to_data) {
				if (m->port.prefetch_entry)
					m->port.prefetch_entry(m->port.ctx, ea);
				m->port.prefetch(m->port.ctx, ea);
				return;
			}
		}
		e = m->port.read_entry(m->port.ctx, ea);
		if (!(e & _PAGE_PRESENT))
			return;
		if (entry_is_leaf(level, e))
			break;
		table = e & PTE_PFN_MASK;
	}
	if (level > 1) {
		h->key = key;
		h->table = table | level;
	}
	sh = mmu_level_shift(level);
	m->port.prefetch(m->port.ctx, (e & __PHYSICAL_MASK & ~((1ULL << sh) - 1)) |
				      (va & ((1ULL << sh) - 1)));
}

uint32_t mmu_kernel_translate(struct mmu *m, uint64_t paddr)
{
	uint64_t va = MMU_DIRECT_MAP + paddr, key = sa_va_key(va, 21), payload;
	struct sa_cache *l1 = m->l1[MMU_2M], *l2 = m->l2[MMU_2M];
	uint32_t cyc = m->l1_latency;

	m->stats.kernel_translations++;
	if (l1 && sa_lookup(l1, key, MMU_KERNEL_ASID, &payload)) {
		m->stats.kernel_l1_hits++;
		return cyc;
	}
	m->last.valid = false;		/* the inserts below may evict or demote it */
	payload = sa_tlb_payload(paddr & ~((1ULL << 21) - 1), 21,
				 SA_PERM_READ | SA_PERM_WRITE | SA_PERM_ACCESSED | SA_PERM_DIRTY);
	if (l2) {
		cyc += m->stlb_latency;
		if (sa_lookup(l2, key, MMU_KERNEL_ASID, NULL)) {
			m->stats.kernel_stlb_hits++;
			if (l1)
				sa_insert(l1, key, MMU_KERNEL_ASID, payload, NULL);
			return cyc;
		}
	}
	m->stats.kernel_walks++;
	cyc += m->pwc_latency;
	if (m->port.access)
		cyc += m->port.access(m->port.ctx, MMU_KERNEL_PD + (paddr >> 21) * 8, false);
	if (l1)
		sa_insert(l1, key, MMU_KERNEL_ASID, payload, NULL);
	if (l2)
		sa_insert(l2, key, MMU_KERNEL_ASID, payload, NULL);
	return cyc;
}
