/*
 * reservation.c - reservation-based THP promotion (see reservation.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "mimicos/internal.h"
#include "mimicos/mimicos.h"
#include "mimicos/mmap.h"
#include "mimicos/reservation.h"
#include "workload/json.h"

/* One reserved 2 MiB range of one mm (FreeBSD: struct vm_reserv). */
struct reservation {
	struct mm_mem *mem;		/* NULL: empty slot */
	unsigned long haddr;		/* the range's first address */
	unsigned long pfn;		/* the order-9 block, PFN_NONE until the first write */
	unsigned int nr_populated;	/* FreeBSD's popcnt */
	uint64_t populated[HPAGE_PMD_NR / 64];	/* FreeBSD's popmap, by pte_index() */
};

/* The reservations, by (mm, range), in open addressing. */
struct reservation_table {
	struct reservation *slots;
	size_t cap;			/* power of two (or 0) */
	size_t nr;
	unsigned int shift;
};

struct reservation_policy {
	struct reservation_config cfg;
	unsigned int promote_at;	/* ceil(promote_threshold * 512) */
	struct reservation_stats stats;
	struct reservation_table table;
};

const char *const reservation_counter_names[] = {
#define X(name) #name,
	RESERVATION_COUNTERS(X)
#undef X
	NULL,
};

static const struct thp_policy_ops reservation_policy_ops;

static struct reservation_policy *policy_of(const struct mimicos *os)
{
	return os->policy == &reservation_policy_ops ? os->policy_data : NULL;
}

/* ---------------------------------------------------------------------- */
/* Configuration and statistics.                                           */

void reservation_config_init(struct reservation_config *cfg)
{
	cfg->promote_threshold = 0.5;
	cfg->populate_on_read = false;
}

int reservation_config_parse(struct reservation_config *cfg, const cJSON *obj,
			     const char *file, const char *path, struct wl_error *err)
{
	static const char *const keys[] = { "promote_threshold", "populate_on_read", NULL };
	const struct wj_ctx c = { .file = file, .err = err };

	if (!obj)
		return 0;
	if (wj_check_object(&c, obj, path, "the reservation policy's parameters", keys) ||
	    wj_number(&c, obj, path, "promote_threshold", false, 0, true, 1,
		      &cfg->promote_threshold) < 0 ||
	    wj_bool(&c, obj, path, "populate_on_read", false, &cfg->populate_on_read) < 0)
		return -EINVAL;
	return 0;
}

cJSON *reservation_config_to_json(const struct reservation_config *cfg)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddNumberToObject(o, "promote_threshold", cfg->promote_threshold) ||
	    !cJSON_AddBoolToObject(o, "populate_on_read", cfg->populate_on_read)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *reservation_stats_to_json(const struct reservation_stats *st)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
#define X(name)								\
	if (!cJSON_AddNumberToObject(o, #name, (double)st->name)) {	\
		cJSON_Delete(o);					\
		return NULL;						\
	}
	RESERVATION_COUNTERS(X)
#undef X
	return o;
}

const struct reservation_stats *reservation_policy_stats(const struct mimicos *os)
{
	const struct reservation_policy *rp = policy_of(os);

	return rp ? &rp->stats : NULL;
}

unsigned long reservation_pages_held(const struct mimicos *os)
{
	const struct reservation_policy *rp = policy_of(os);
	unsigned long n = 0;
	size_t i;

	if (!rp)
		return 0;
	for (i = 0; i < rp->table.cap; i++) {
		const struct reservation *r = &rp->table.slots[i];

		if (r->mem && r->pfn != PFN_NONE)
			n += HPAGE_PMD_NR - r->nr_populated;
	}
	return n;
}

/* ---------------------------------------------------------------------- */
/* The table.                                                              */

static size_t res_slot(const struct reservation_table *t, const struct mm_mem *mem,
		       unsigned long haddr)
{
	uint64_t key = (uint64_t)(uintptr_t)mem ^ ((uint64_t)haddr >> PMD_SHIFT) * 0xff51afd7ed558ccdULL;

	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> t->shift);
}

static struct reservation *res_lookup(struct reservation_table *t, const struct mm_mem *mem,
				      unsigned long haddr)
{
	size_t j;

	if (!t->cap)
		return NULL;
	for (j = res_slot(t, mem, haddr); t->slots[j].mem; j = (j + 1) & (t->cap - 1))
		if (t->slots[j].mem == mem && t->slots[j].haddr == haddr)
			return &t->slots[j];
	return NULL;
}

static int res_table_grow(struct reservation_table *t)
{
	struct reservation_table n = { .cap = t->cap ? t->cap * 2 : 64 };
	size_t i;

	n.shift = 64 - (unsigned int)__builtin_ctzl(n.cap);
	n.slots = calloc(n.cap, sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++) {
		const struct reservation *r = &t->slots[i];
		size_t j;

		if (!r->mem)
			continue;
		for (j = res_slot(&n, r->mem, r->haddr); n.slots[j].mem; j = (j + 1) & (n.cap - 1))
			;
		n.slots[j] = *r;
	}
	n.nr = t->nr;
	free(t->slots);
	*t = n;
	return 0;
}

/* A new record for an unreserved range; NULL: no host memory. */
static struct reservation *res_insert(struct reservation_table *t, struct mm_mem *mem,
				      unsigned long haddr)
{
	struct reservation *r;
	size_t j;

	if ((t->nr + 1) * 4 > t->cap * 3 && res_table_grow(t))
		return NULL;
	for (j = res_slot(t, mem, haddr); t->slots[j].mem; j = (j + 1) & (t->cap - 1))
		;
	r = &t->slots[j];
	memset(r, 0, sizeof(*r));
	r->mem = mem;
	r->haddr = haddr;
	r->pfn = PFN_NONE;
	t->nr++;
	return r;
}

/* Remove a record, shifting its probe chain back (no tombstones). */
static void res_erase(struct reservation_table *t, struct reservation *r)
{
	size_t i = (size_t)(r - t->slots), j = i;

	for (;;) {
		size_t k;

		t->slots[i].mem = NULL;
		do {
			j = (j + 1) & (t->cap - 1);
			if (!t->slots[j].mem) {
				t->nr--;
				return;
			}
			k = res_slot(t, t->slots[j].mem, t->slots[j].haddr);
		} while (i <= j ? (i < k && k <= j) : (i < k || k <= j));
		t->slots[i] = t->slots[j];
		i = j;
	}
}

static bool res_test(const struct reservation *r, unsigned int i)
{
	return r->populated[i / 64] & (1ULL << (i % 64));
}

static void res_set(struct reservation *r, unsigned int i)
{
	mimicos_check(!res_test(r, i), "reservation %#lx: page %u populated twice", r->haddr, i);
	r->populated[i / 64] |= 1ULL << (i % 64);
	r->nr_populated++;
}

/* ---------------------------------------------------------------------- */
/* Reserving and breaking.                                                 */

/* Reserve the block of r for a fault in 'vma'. false: no order-9 block. */
static bool reserv_alloc(struct reservation_policy *rp, struct mimicos *os,
			 struct vm_area_struct *vma, struct reservation *r)
{
	gfp_t gfp = vma_thp_gfp_mask(&os->thp, vma->vm_flags & VM_HUGEPAGE);
	long pfn = __alloc_pages(&os->zone, gfp, HPAGE_PMD_ORDER, os->cpu);

	if (pfn < 0)
		return false;
	split_page(&os->zone, (unsigned long)pfn, HPAGE_PMD_ORDER);
	r->pfn = (unsigned long)pfn;
	rp->stats.reservations++;
	return true;
}

/*
 * vm_reserv_break(): give back the pages of r never populated, forget r.
 * Its populated pages stay with whoever maps them (order-0 folios).
 */
static void reserv_break(struct reservation_policy *rp, struct mimicos *os,
			 struct reservation *r)
{
	unsigned int i;

	if (r->pfn != PFN_NONE) {
		if (!r->nr_populated) {
			unsplit_page(&os->zone, r->pfn, HPAGE_PMD_ORDER);
			__free_pages(&os->zone, r->pfn, HPAGE_PMD_ORDER, os->cpu);
		} else {
			for (i = 0; i < HPAGE_PMD_NR; i++)
				if (!res_test(r, i))
					__free_pages(&os->zone, r->pfn + i, 0, os->cpu);
		}
		rp->stats.pages_returned += HPAGE_PMD_NR - r->nr_populated;
		rp->stats.broken++;
	}
	res_erase(&rp->table, r);
}

/* ---------------------------------------------------------------------- */
/* The fault.                                                              */

static void fault_result_set(struct vm_fault *vmf, uint64_t size, unsigned long start,
			     unsigned long end, unsigned long pfn, int order)
{
	struct fault_result *res = vmf->res;

	res->page_size = size;
	res->start = start;
	res->end = end;
	res->pfn = pfn;
	res->order = order;
	res->zero_page = false;
}

/* Clear the pages of r not populated, one bulk clear per aligned power-of-two run. */
static void zero_unpopulated(struct mm_mem *mem, const struct reservation *r)
{
	unsigned int s = 0, e;

	while (s < HPAGE_PMD_NR) {
		if (res_test(r, s)) {
			s++;
			continue;
		}
		for (e = s; e < HPAGE_PMD_NR && !res_test(r, e); e++)
			;
		while (s < e) {
			unsigned int o = s ? (unsigned int)__builtin_ctz(s) : HPAGE_PMD_ORDER;

			while ((1u << o) > e - s)
				o--;
			folio_zero_range(mem, r->pfn + s, o);
			s += 1u << o;
		}
	}
}

/*
 * Promote r at the fault on its page 'idx' (not yet populated), which
 * brings it to the threshold: collapse_huge_page() without the copy.
 */
static vm_fault_t reserv_promote(struct reservation_policy *rp, struct vm_fault *vmf,
				 struct reservation *r, pmd_t table, unsigned int idx)
{
	struct mm_mem *mem = vmf->mem;
	struct mm_pgtable *pt = &mem->pgtable;
	struct mimicos *os = vmf->os;
	unsigned long haddr = r->haddr, pfn = r->pfn, i;
	struct folio *f;
	pmd_t entry;

	anon_vma_prepare(vmf->vma);
	zero_unpopulated(mem, r);

	/* pmdp_collapse_flush(): detach the PTE table, shoot the 2 MiB down. */
	pmd_clear(pt, vmf->pmd);
	flush_tlb_range(mem, haddr, haddr + HPAGE_PMD_SIZE);
	for (i = 0; i < HPAGE_PMD_NR; i++) {
		unsigned long addr = haddr + i * PAGE_SIZE;
		uint64_t ptep = pte_offset(table, addr);
		pte_t pte = ptep_get(pt, ptep);

		if (pte_none(pte))
			continue;
		if (res_test(r, (unsigned int)i))
			mimicos_check(pte_present(pte) && pte_pfn(pte) == pfn + i,
				      "reserved page %#lx mapped at %#lx by %#llx", pfn + i, addr,
				      (unsigned long long)pte_val(pte));
		else
			mimicos_check(is_zero_pfn(os, pte_pfn(pte)),
				      "%#lx in reservation %#lx maps pfn %#lx", addr, haddr, pte_pfn(pte));
		pte_clear(pt, addr, ptep);
	}

	/* The order-0 folios become the THP: one reference, one PMD mapping. */
	for (i = 0; i < HPAGE_PMD_NR; i++) {
		if (!res_test(r, (unsigned int)i))
			continue;
		f = pfn_folio(os, pfn + i);
		mimicos_check(f && f->pfn == pfn + i && f->order == 0 && f->refcount == 1 &&
			      f->mapcount == 1, "reserved page %#lx: not an exclusive order-0 folio",
			      pfn + i);
		folio_forget(os, f);
	}
	unsplit_page(&os->zone, pfn, HPAGE_PMD_ORDER);
	f = folio_record(os, pfn, HPAGE_PMD_ORDER);
	/* Records were only removed above: the table cannot need to grow. */
	mimicos_check(f, "no folio record for the THP at %#lx", pfn);
	__folio_set_anon(f, vmf->vma, haddr);
	folio_add_new_anon_rmap(f, 1);

	pgtable_trans_huge_deposit(pt, vmf->pmd, pmd_pgtable(table));
	entry = pmd_mkhuge(pfn_pmd(pfn, vma_page_prot(vmf->vma)));
	entry = maybe_pmd_mkwrite(pmd_mkdirty(entry), vmf->vma);
	set_pmd_at(pt, haddr, vmf->pmd, entry);
	add_mm_counter(mem, MM_ANONPAGES, HPAGE_PMD_NR - (long)r->nr_populated);

	fault_result_set(vmf, PMD_SIZE, haddr, haddr + HPAGE_PMD_SIZE, pfn + idx, HPAGE_PMD_ORDER);
	vmf->res->tlb_flush = true;
	rp->stats.promotions++;
	res_erase(&rp->table, r);
	return 0;
}

/* Map page 'idx' of r at the fault's address by a PTE (orig: none or the zero page). */
static vm_fault_t reserv_populate(struct reservation_policy *rp, struct vm_fault *vmf,
				  struct reservation *r, uint64_t ptep, pte_t orig,
				  unsigned int idx)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long addr = vmf->address & PAGE_MASK, pfn = r->pfn + idx;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct folio *f;
	pte_t entry;

	anon_vma_prepare(vma);		/* vmf_anon_prepare() */
	folio_zero_range(vmf->mem, pfn, 0);
	f = folio_record(vmf->os, pfn, 0);
	if (!f)
		return VM_FAULT_OOM;
	__folio_set_anon(f, vma, addr);
	folio_add_new_anon_rmap(f, 1);
	folio_add_lru(vmf->os, f);
	entry = pfn_pte(pfn, vma_page_prot(vma));
	if (write)
		entry = maybe_mkwrite(pte_mkdirty(entry), vma);
	if (!pte_none(orig)) {		/* the zero page: ptep_clear_flush() */
		pte_clear(pt, addr, ptep);
		vmf->res->tlb_flush = true;
	}
	set_pte_at(pt, addr, ptep, entry);
	add_mm_counter(vmf->mem, MM_ANONPAGES, 1);
	res_set(r, idx);
	rp->stats.populated++;
	fault_result_set(vmf, PAGE_SIZE, addr, addr + PAGE_SIZE, pfn, 0);
	return 0;
}

/* A PTE mapping the 4 KiB zero page. */
static bool pte_is_zero_page(const struct mimicos *os, pte_t pte)
{
	return pte_present(pte) && (pte_val(pte) & _PAGE_SPECIAL) && is_zero_pfn(os, pte_pfn(pte));
}

/* The anon_fault hook (see reservation.h for the cases). */
static vm_fault_t reservation_anon_fault(struct vm_fault *vmf)
{
	struct reservation_policy *rp = vmf->os->policy_data;
	struct vm_area_struct *vma = vmf->vma;
	struct mm_pgtable *pt = &vmf->mem->pgtable;
	unsigned long haddr = vmf->address & HPAGE_PMD_MASK;
	bool write = vmf->flags & FAULT_FLAG_WRITE, new = false;
	unsigned int idx = (unsigned int)pte_index(vmf->address);
	struct reservation *r;
	uint64_t ptep = PHYS_ADDR_NONE;
	pte_t orig = __pte(0);
	pmd_t pmd;

	if (vma->vm_flags & VM_SHARED)
		return VM_FAULT_FALLBACK;
	r = res_lookup(&rp->table, vmf->mem, haddr);
	if (!thp_vma_allowable_order(&vmf->os->thp, vma, vma->vm_flags, vmf->mem->flags,
				     TVA_PAGEFAULT, PMD_ORDER) ||
	    !thp_vma_suitable_order(vma, haddr, PMD_ORDER)) {
		if (r)
			reserv_break(rp, vmf->os, r);
		return VM_FAULT_FALLBACK;
	}
	pmd = vmf->orig_pmd;
	if (pmd_trans_huge(pmd)) {
		if (r)			/* PMD-mapped by khugepaged or MADV_COLLAPSE */
			reserv_break(rp, vmf->os, r);
		return VM_FAULT_FALLBACK;
	}
	if (!r) {
		if (!pmd_none(pmd))	/* mapped before the policy had it: Linux's */
			return VM_FAULT_FALLBACK;
		r = res_insert(&rp->table, vmf->mem, haddr);
		if (!r)
			return VM_FAULT_OOM;
		new = true;
	}

	if (!write && !rp->cfg.populate_on_read) {
		/* Linux's do_anonymous_page() maps the zero page; never the huge one. */
		if (pmd_none(pmd) && __pte_alloc(pt, vmf->pmd)) {
			if (new)
				res_erase(&rp->table, r);
			return VM_FAULT_OOM;
		}
		return VM_FAULT_FALLBACK;
	}
	if (!pmd_none(pmd)) {
		ptep = pte_offset(pmd, vmf->address);
		orig = ptep_get(pt, ptep);
		if (!pte_none(orig) && !(write && pte_is_zero_page(vmf->os, orig)))
			return VM_FAULT_FALLBACK;	/* access bits, reuse: Linux's */
	}

	if (r->pfn == PFN_NONE && !reserv_alloc(rp, vmf->os, vma, r)) {
		/* No block: Linux's path decides, from the same PMD it would have seen. */
		rp->stats.fallbacks++;
		res_erase(&rp->table, r);
		return VM_FAULT_FALLBACK;
	}
	if (pmd_none(pmd)) {
		if (__pte_alloc(pt, vmf->pmd)) {
			reserv_break(rp, vmf->os, r);
			return VM_FAULT_OOM;
		}
		pmd = pmdp_get(pt, vmf->pmd);
		ptep = pte_offset(pmd, vmf->address);
	}
	if (r->nr_populated + 1 >= rp->promote_at)
		return reserv_promote(rp, vmf, r, pmd, idx);
	return reserv_populate(rp, vmf, r, ptep, orig, idx);
}

/* ---------------------------------------------------------------------- */
/* Unmap, release, install.                                                */

/* The unmap hook: break every reservation of mem meeting [start, end). */
static void reservation_unmap(struct mimicos *os, struct mm_mem *mem, unsigned long start,
			      unsigned long end)
{
	struct reservation_policy *rp = os->policy_data;
	unsigned long first = start & HPAGE_PMD_MASK, haddr;
	size_t i;

	if (!rp->table.nr || start >= end)
		return;
	/* Probe range by range, or sweep the table when that is shorter. */
	if ((end - first) / HPAGE_PMD_SIZE <= rp->table.cap) {
		for (haddr = first; haddr < end; haddr += HPAGE_PMD_SIZE) {
			struct reservation *r = res_lookup(&rp->table, mem, haddr);

			if (r)
				reserv_break(rp, os, r);
		}
		return;
	}
	for (i = 0; i < rp->table.cap;) {
		struct reservation *r = &rp->table.slots[i];

		/* An erase may shift another entry into slot i: look at it again. */
		if (r->mem == mem && r->haddr + HPAGE_PMD_SIZE > start && r->haddr < end)
			reserv_break(rp, os, r);
		else
			i++;
	}
}

/* Break every reservation of mem (or of every mm, mem NULL). */
static void break_all(struct reservation_policy *rp, struct mimicos *os, struct mm_mem *mem)
{
	size_t i;

	for (i = 0; i < rp->table.cap;) {
		struct reservation *r = &rp->table.slots[i];

		if (r->mem && (!mem || r->mem == mem))
			reserv_break(rp, os, r);
		else
			i++;
	}
}

static void reservation_release_mm(struct mimicos *os, struct mm_mem *mem)
{
	break_all(os->policy_data, os, mem);
}

static void reservation_release(struct mimicos *os)
{
	struct reservation_policy *rp = os->policy_data;

	break_all(rp, os, NULL);
	free(rp->table.slots);
	free(rp);
	os->policy = NULL;
	os->policy_data = NULL;
}

static const struct thp_policy_ops reservation_policy_ops = {
	.name = "reservation",
	.anon_fault = reservation_anon_fault,
	.unmap = reservation_unmap,
	.release_mm = reservation_release_mm,
	.release = reservation_release,
};

int reservation_policy_install(struct mimicos *os, const struct reservation_config *cfg)
{
	struct reservation_policy *rp;

	if (!(cfg->promote_threshold > 0 && cfg->promote_threshold <= 1))
		return -EINVAL;
	if (os->policy)
		return -EBUSY;
	rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	rp->cfg = *cfg;
	rp->promote_at = (unsigned int)ceil(cfg->promote_threshold * HPAGE_PMD_NR);
	if (rp->promote_at < 1)
		rp->promote_at = 1;
	if (rp->promote_at > HPAGE_PMD_NR)
		rp->promote_at = HPAGE_PMD_NR;
	os->policy = &reservation_policy_ops;
	os->policy_data = rp;
	return 0;
}

int mimicos_policy_install(struct mimicos *os, const char *name, const cJSON *params,
			   const char *file, const char *path, struct wl_error *err)
{
	struct reservation_config cfg;
	const struct wj_ctx c = { .file = file, .err = err };
	int ret;

	if (!strcmp(name, "linux")) {
		static const char *const none[] = { NULL };

		if (params && wj_check_object(&c, params, path, "the linux policy's parameters", none))
			return -EINVAL;
		if (os->policy) {
			wl_error_set(err, file, path, "cannot choose the linux policy: \"%s\" is installed",
				     os->policy->name);
			return -EBUSY;
		}
		return 0;
	}
	if (strcmp(name, "reservation")) {
		wl_error_set(err, file, path,
			     "unknown THP policy \"%s\" (expected one of: linux, reservation)", name);
		return -EINVAL;
	}
	reservation_config_init(&cfg);
	if (reservation_config_parse(&cfg, params, file, path, err))
		return -EINVAL;
	ret = reservation_policy_install(os, &cfg);
	if (ret == -EBUSY)
		wl_error_set(err, file, path, "cannot install the reservation policy: \"%s\" is installed",
			     os->policy->name);
	else if (ret)
		wl_error_set(err, file, path, "cannot install the reservation policy: %s", strerror(-ret));
	return ret;
}
