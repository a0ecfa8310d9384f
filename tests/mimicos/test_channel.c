/*
 * test_channel.c - the functional and instruction-stream channels
 * (mimicos/channel.h) against hand-derived expectations, and the two modes
 * against each other.
 *
 * Unless a test says otherwise: a 256 MiB zone at pfn 0x100000 (so the
 * mem_map starts at 5 GiB), one core, one 4-level mm, THP never.
 *
 * The first write fault into an empty 4-level mm, by pgtable.h's trace
 * rules and memory.c's fault path (THP never: no create_huge_pmd):
 *
 *   walk_to_pmd  p4d_alloc: folded, reads nothing
 *                pud_alloc: R pgd; none -> __pud_alloc: alloc (META),
 *                  ZERO table, R pgd (under the lock), W pgd; R pgd again
 *                pmd_alloc: the same on the pud entry
 *   __handle_mm_fault  R pmd (orig_pmd)
 *   handle_pte_fault   R pmd
 *   do_anonymous_page  R pmd; none -> __pte_alloc: alloc (META), ZERO
 *                      table, pmd_install: R pmd, W pmd; R pmd again
 *     write: alloc_anon_folio order 0: alloc (META), ZERO 4 KiB (DATA);
 *            R pte (recheck), W pte
 *   INSNS  320 + 12 reads * 5 + 4 writes * 8 + 4 allocs * 30 + 4 pages * 2 = 540
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "mimicos/channel.h"
#include "mimicos/mmap.h"
#include "workload/evlog.h"
#include "workload/prng.h"

#define KiB (1UL << 10)
#define MiB (1UL << 20)
#define START_PFN 0x100000UL
#define MEMMAP_BASE (5ULL << 30)

static void config(struct channel_config *c, enum channel_mode mode)
{
	channel_config_init(c);
	c->mode = mode;
	c->mem_bytes = 256 * MiB;
	c->start_pfn = START_PFN;
	c->thp.enabled = THP_ENABLED_NEVER;
}

static uint64_t meta(uint64_t pfn)
{
	return kstream_page_meta(MEMMAP_BASE, START_PFN, pfn);
}

static struct mimicos_response req(struct mimicos_channel *ch, unsigned int core,
				   struct mimicos_request rq, struct kstream *ks)
{
	struct mimicos_response rs;

	cr_assert_eq(channel_request(ch, core, &rq, &rs, ks), 0, "request type %u", rq.type);
	return rs;
}

static uint64_t map(struct mimicos_channel *ch, uint32_t mm, uint64_t len, uint32_t flags)
{
	struct mimicos_response rs = req(ch, 0, (struct mimicos_request){
		.type = MIMICOS_REQ_MMAP, .mm = mm, .len = len, .prot = PROT_READ | PROT_WRITE,
		.flags = MAP_PRIVATE | MAP_ANONYMOUS | flags }, NULL);

	cr_assert_eq(rs.result, 0, "mmap: %d", rs.result);
	return rs.addr;
}

static struct mimicos_response fault(struct mimicos_channel *ch, unsigned int core, uint32_t mm,
				     uint64_t addr, uint32_t access, struct kstream *ks)
{
	return req(ch, core, (struct mimicos_request){ .type = MIMICOS_REQ_FAULT, .mm = mm,
						       .addr = addr, .access = access }, ks);
}

static void expect_rec(const struct kstream *ks, size_t i, enum kstream_type type,
		       enum kstream_src src, uint64_t paddr, uint32_t len)
{
	cr_assert_lt(i, ks->nr);
	cr_expect_eq(ks->rec[i].type, type, "record %zu: type %u, expected %u", i,
		     ks->rec[i].type, type);
	cr_expect_eq(ks->rec[i].src, src, "record %zu: src %u, expected %u", i, ks->rec[i].src, src);
	cr_expect_eq(ks->rec[i].paddr, paddr, "record %zu: paddr %#llx, expected %#llx", i,
		     (unsigned long long)ks->rec[i].paddr, (unsigned long long)paddr);
	cr_expect_eq(ks->rec[i].len, len, "record %zu: len %u, expected %u", i, ks->rec[i].len, len);
}

Test(channel, first_write_fault_reads_and_writes_the_derived_entries)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs, q, w;
	struct kstream ks;
	uint64_t a, pgdp, pudp, pmdp, ptep, p1, p2, p3;

	config(&cfg, CHANNEL_IN_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	kstream_init(&ks);
	a = map(&ch, 0, 4 * MiB, 0) + 0x5000;
	q = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_QUERY }, NULL);
	cr_assert_eq(q.u.query.memmap_base, MEMMAP_BASE);
	cr_assert_eq(q.u.query.levels, 4);

	rs = fault(&ch, 0, 0, a, MIMICOS_ACCESS_WRITE, &ks);
	cr_assert_eq(rs.result, 0);
	cr_assert_eq(rs.page_size, PAGE_SIZE);
	cr_assert_eq(rs.order, 0);
	cr_assert_eq(rs.changed_start, a);
	cr_assert_eq(rs.changed_end, a + PAGE_SIZE);
	cr_assert_eq(rs.nr_tlb, 0, "none -> present needs no flush");
	cr_assert_eq(ks.nr, 25, "%zu records", ks.nr);
	cr_assert_eq(rs.nr_records, 25);

	/* The tables are the pages the three table clears name. */
	p1 = ks.rec[2].paddr >> PAGE_SHIFT;
	p2 = ks.rec[8].paddr >> PAGE_SHIFT;
	p3 = ks.rec[16].paddr >> PAGE_SHIFT;
	pgdp = q.u.query.cr3 + ((a >> 39) & 511) * 8;
	pudp = (p1 << PAGE_SHIFT) + ((a >> 30) & 511) * 8;
	pmdp = (p2 << PAGE_SHIFT) + ((a >> 21) & 511) * 8;
	ptep = (p3 << PAGE_SHIFT) + ((a >> 12) & 511) * 8;

	expect_rec(&ks, 0, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pgdp, 8);
	expect_rec(&ks, 1, KSTREAM_WRITE, KSTREAM_SRC_PAGE_META, meta(p1), 64);
	expect_rec(&ks, 2, KSTREAM_ZERO, KSTREAM_SRC_PGTABLE, p1 << PAGE_SHIFT, 4096);
	expect_rec(&ks, 3, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pgdp, 8);
	expect_rec(&ks, 4, KSTREAM_WRITE, KSTREAM_SRC_PGTABLE, pgdp, 8);
	expect_rec(&ks, 5, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pgdp, 8);
	expect_rec(&ks, 6, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pudp, 8);
	expect_rec(&ks, 7, KSTREAM_WRITE, KSTREAM_SRC_PAGE_META, meta(p2), 64);
	expect_rec(&ks, 8, KSTREAM_ZERO, KSTREAM_SRC_PGTABLE, p2 << PAGE_SHIFT, 4096);
	expect_rec(&ks, 9, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pudp, 8);
	expect_rec(&ks, 10, KSTREAM_WRITE, KSTREAM_SRC_PGTABLE, pudp, 8);
	expect_rec(&ks, 11, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pudp, 8);
	expect_rec(&ks, 12, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pmdp, 8);
	expect_rec(&ks, 13, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pmdp, 8);
	expect_rec(&ks, 14, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pmdp, 8);
	expect_rec(&ks, 15, KSTREAM_WRITE, KSTREAM_SRC_PAGE_META, meta(p3), 64);
	expect_rec(&ks, 16, KSTREAM_ZERO, KSTREAM_SRC_PGTABLE, p3 << PAGE_SHIFT, 4096);
	expect_rec(&ks, 17, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pmdp, 8);
	expect_rec(&ks, 18, KSTREAM_WRITE, KSTREAM_SRC_PGTABLE, pmdp, 8);
	expect_rec(&ks, 19, KSTREAM_READ, KSTREAM_SRC_PGTABLE, pmdp, 8);
	expect_rec(&ks, 20, KSTREAM_WRITE, KSTREAM_SRC_PAGE_META, meta(rs.pfn), 64);
	expect_rec(&ks, 21, KSTREAM_ZERO, KSTREAM_SRC_DATA, rs.pfn << PAGE_SHIFT, 4096);
	expect_rec(&ks, 22, KSTREAM_READ, KSTREAM_SRC_PGTABLE, ptep, 8);
	expect_rec(&ks, 23, KSTREAM_WRITE, KSTREAM_SRC_PGTABLE, ptep, 8);
	expect_rec(&ks, 24, KSTREAM_INSNS, KSTREAM_SRC_CODE, 0, 540);
	cr_expect_eq(rs.insns, 540);

	/* The hardware walk reads the same entries the kernel wrote. */
	w = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_WALK, .addr = a + 0x123 }, NULL);
	cr_assert_eq(w.u.walk.nr, 4);
	cr_expect_eq(w.u.walk.entry_pa[0], pgdp);
	cr_expect_eq(w.u.walk.entry_pa[1], pudp);
	cr_expect_eq(w.u.walk.entry_pa[2], pmdp);
	cr_expect_eq(w.u.walk.entry_pa[3], ptep);
	cr_expect_eq(w.u.walk.pa, (rs.pfn << PAGE_SHIFT) + 0x123);
	kstream_release(&ks);
	channel_close(&ch);
}

Test(channel, mmap_stream_is_its_instruction_count_alone)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs;
	struct kstream ks;

	config(&cfg, CHANNEL_IN_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	kstream_init(&ks);
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MMAP, .len = MiB,
		.prot = PROT_READ | PROT_WRITE, .flags = MAP_PRIVATE | MAP_ANONYMOUS }, &ks);
	cr_assert_eq(rs.result, 0);
	cr_assert_eq(ks.nr, 1);
	expect_rec(&ks, 0, KSTREAM_INSNS, KSTREAM_SRC_CODE, 0, cfg.cost.mmap);
	cr_expect_eq(rs.changed_start, rs.changed_end, "mmap changes no entry");
	kstream_release(&ks);
	channel_close(&ch);
}

Test(channel, thp_fault_zeroes_exactly_2mib_at_the_folio)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs;
	struct kstream ks;
	uint64_t a, head, zero_data = 0;
	size_t nr_zero_data = 0;

	config(&cfg, CHANNEL_IN_PROCESS);
	cfg.thp.enabled = THP_ENABLED_ALWAYS;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	kstream_init(&ks);
	a = map(&ch, 0, 4 * MiB, 0);
	cr_assert_eq(a & (PMD_SIZE - 1), 0, "4 MiB is placed 2 MiB-aligned");
	rs = fault(&ch, 0, 0, a + 0x1234, MIMICOS_ACCESS_WRITE, &ks);
	cr_assert_eq(rs.result, 0);
	cr_assert_eq(rs.page_size, PMD_SIZE);
	cr_assert_eq(rs.order, HPAGE_PMD_ORDER);
	head = rs.pfn & ~511UL;
	cr_assert_eq(rs.pfn, head + 1, "the pfn mapping a + 0x1234");
	cr_assert_eq(rs.changed_start, a);
	cr_assert_eq(rs.changed_end, a + PMD_SIZE);
	for (size_t i = 0; i < ks.nr; i++) {
		if (ks.rec[i].type != KSTREAM_ZERO || ks.rec[i].src != KSTREAM_SRC_DATA)
			continue;
		nr_zero_data++;
		zero_data += ks.rec[i].len;
		cr_expect_eq(ks.rec[i].paddr, head << PAGE_SHIFT);
	}
	cr_expect_eq(nr_zero_data, 1, "one bulk clear");
	cr_expect_eq(zero_data, PMD_SIZE);
	/* 8 reads, 3 writes, 4 blocks (PUD, PMD, THP, deposited PTE table), 515 pages */
	cr_expect_eq(rs.insns, 320 + 8 * 5 + 3 * 8 + 4 * 30 + 515 * 2, "%llu",
		     (unsigned long long)rs.insns);
	kstream_release(&ks);
	channel_close(&ch);
}

Test(channel, munmap_reports_its_tlb_range_and_frees)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs;
	struct kstream ks;
	uint64_t a, pfn[3], off[3] = { 0, 0x1000, 0x5000 };
	size_t nr_meta = 0;

	config(&cfg, CHANNEL_IN_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	kstream_init(&ks);
	a = map(&ch, 0, MiB, 0);
	for (int i = 0; i < 3; i++) {
		rs = fault(&ch, 0, 0, a + off[i], MIMICOS_ACCESS_WRITE, NULL);
		cr_assert_eq(rs.result, 0);
		pfn[i] = rs.pfn;
	}
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MUNMAP, .addr = a,
						   .len = 0x8000 }, &ks);
	cr_assert_eq(rs.result, 0);
	cr_assert_eq(rs.nr_tlb, 1);
	cr_assert_eq(rs.tlb_flush_all, 0);
	cr_expect_eq(rs.tlb[0].mm, 0);
	cr_expect_eq(rs.tlb[0].start, a, "from the first entry cleared");
	cr_expect_eq(rs.tlb[0].end, a + 0x6000, "to the end of the last");
	cr_expect_eq(rs.changed_start, a);
	cr_expect_eq(rs.changed_end, a + 0x8000);
	for (size_t i = 0; i < ks.nr; i++) {
		if (ks.rec[i].src != KSTREAM_SRC_PAGE_META)
			continue;
		cr_expect(ks.rec[i].paddr == meta(pfn[0]) || ks.rec[i].paddr == meta(pfn[1]) ||
			  ks.rec[i].paddr == meta(pfn[2]), "metadata of a page not unmapped");
		nr_meta++;
	}
	/*
	 * unmap_region()'s lru_add_drain() first moves the three folios still
	 * in the CPU's lru_add batch (3 < 31) onto the LRU: a line each; then
	 * the three are freed
	 */
	cr_expect_eq(nr_meta, 3 + 3, "three folios moved and freed, the PTE table kept (the VMA "
		     "goes on)");
	kstream_release(&ks);
	channel_close(&ch);
}

Test(channel, mmap_places_as_mmap_c_does)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs, q;
	struct mm_struct mm;
	struct mm_layout l;
	struct wl_rng rng;
	unsigned long want;
	uint64_t a;

	config(&cfg, CHANNEL_IN_PROCESS);
	cfg.nr_mms = 2;
	cfg.seed = 42;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	for (uint32_t i = 0; i < 2; i++) {
		mm_layout_init(&l);
		wl_rng_seed(&rng, wl_rng_derive(42, CHANNEL_MM_STREAM + i));
		mm_init(&mm, &l, &rng);
		cr_assert_eq(do_mmap(&mm, 0, 6 * MiB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, &want), 0);
		q = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_QUERY, .mm = i }, NULL);
		cr_expect_eq(q.u.query.mmap_base, mm.mmap_base);
		rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MMAP, .mm = i,
			.len = 6 * MiB, .prot = PROT_READ, .flags = MAP_PRIVATE | MAP_ANONYMOUS }, NULL);
		cr_assert_eq(rs.result, 0);
		cr_expect_eq(rs.addr, want, "mm %u: %#llx, expected %#lx", i,
			     (unsigned long long)rs.addr, want);
		mm_release(&mm);
	}
	a = rs.addr;
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MMAP, .mm = 1, .addr = a,
		.len = MiB, .prot = PROT_READ,
		.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE }, NULL);
	cr_expect_eq(rs.result, -EEXIST);
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MMAP, .mm = 1, .addr = a + 1,
		.len = MiB, .prot = PROT_READ, .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED }, NULL);
	cr_expect_eq(rs.result, -EINVAL);
	channel_close(&ch);
}

Test(channel, out_of_process_walk_and_phys_read_agree)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs, w, q, v;
	uint64_t a;

	config(&cfg, CHANNEL_OUT_OF_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	cr_assert_null(channel_mimicos(&ch));
	a = map(&ch, 0, MiB, 0);
	rs = fault(&ch, 0, 0, a + 0x3008, MIMICOS_ACCESS_WRITE, NULL);
	cr_assert_eq(rs.result, 0);
	q = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_QUERY }, NULL);
	w = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_WALK, .addr = a + 0x3008 }, NULL);
	cr_assert(w.u.walk.mapped);
	cr_assert_eq(w.u.walk.page_size, PAGE_SIZE);
	cr_assert_eq(w.u.walk.pa, (rs.pfn << PAGE_SHIFT) + 8);
	cr_assert_eq(w.u.walk.entry_pa[0] & ~(uint64_t)(PAGE_SIZE - 1), q.u.query.cr3);
	for (uint32_t i = 0; i < w.u.walk.nr; i++) {
		v = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_PHYS_READ,
							  .addr = w.u.walk.entry_pa[i] }, NULL);
		cr_expect_eq(v.result, 0);
		cr_expect_eq(v.addr, w.u.walk.entry[i], "level %u", i);
	}
	w = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_WALK, .addr = a + 0x4000 }, NULL);
	cr_expect_not(w.u.walk.mapped);
	cr_expect_eq(w.u.walk.nr, 4, "the PTE is read and found empty");
	channel_close(&ch);
}

/* The walker's fast path reads what MIMICOS_REQ_PHYS_READ answers, in-process only. */
Test(channel, phys_reader_reads_what_phys_read_answers_in_process_only)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct channel_phys_reader r;
	struct mimicos_response rs, w, v;
	uint64_t a;

	config(&cfg, CHANNEL_IN_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	cr_assert_eq(channel_phys_reader(&ch, &r), 0);
	cr_assert_not_null(r.read64);
	cr_assert_not_null(r.prefetch);
	a = map(&ch, 0, MiB, 0);
	rs = fault(&ch, 0, 0, a + 0x3008, MIMICOS_ACCESS_WRITE, NULL);
	cr_assert_eq(rs.result, 0);
	w = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_WALK, .addr = a + 0x3008 }, NULL);
	cr_assert(w.u.walk.mapped);
	for (uint32_t i = 0; i < w.u.walk.nr; i++) {
		v = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_PHYS_READ,
							  .addr = w.u.walk.entry_pa[i] }, NULL);
		cr_expect_eq(v.result, 0);
		r.prefetch(r.ctx, w.u.walk.entry_pa[i]);
		cr_expect_eq(r.read64(r.ctx, w.u.walk.entry_pa[i]), v.addr, "level %u", i);
	}
	channel_close(&ch);

	config(&cfg, CHANNEL_OUT_OF_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	cr_expect_eq(channel_phys_reader(&ch, &r), -EOPNOTSUPP);
	channel_close(&ch);
}

Test(channel, request_for_a_bad_core_or_mm_is_refused)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_request rq = { .type = MIMICOS_REQ_QUERY };
	struct mimicos_response rs;

	config(&cfg, CHANNEL_OUT_OF_PROCESS);
	cfg.cores = 2;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	cr_expect_eq(channel_request(&ch, 2, &rq, &rs, NULL), -EINVAL);
	rq.mm = 1;
	cr_expect_eq(channel_request(&ch, 1, &rq, &rs, NULL), 0);
	cr_expect_eq(rs.result, -EINVAL);
	rq = (struct mimicos_request){ .type = MIMICOS_REQ_NR };
	cr_expect_eq(channel_request(&ch, 1, &rq, &rs, NULL), 0);
	cr_expect_eq(rs.result, -EINVAL);
	channel_close(&ch);
	cfg.cores = 0;
	cr_expect_eq(channel_open(&ch, &cfg), -EINVAL);
}

Test(channel, each_core_allocates_from_its_own_pcp_lists)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos *os;
	uint64_t a;
	int before0;

	config(&cfg, CHANNEL_IN_PROCESS);
	cfg.cores = 2;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	os = channel_mimicos(&ch);
	cr_assert_not_null(os);
	cr_assert_eq(os->zone.nr_cpus, 2);
	a = map(&ch, 0, MiB, 0);
	before0 = os->zone.pcp[0].count;
	cr_assert_eq(os->zone.pcp[1].count, 0);
	cr_assert_eq(fault(&ch, 1, 0, a, MIMICOS_ACCESS_WRITE, NULL).result, 0);
	cr_expect_gt(os->zone.pcp[1].count, 0, "core 1's list was refilled");
	cr_expect_eq(os->zone.pcp[0].count, before0, "core 0's untouched");
	channel_close(&ch);
}

Test(channel, advance_reports_khugepaged_collapse_flush_and_copy)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_response rs, w;
	struct kstream ks;
	uint64_t a, copied = 0, meta_writes = 0;
	const struct mimicos_event *ev = NULL;

	config(&cfg, CHANNEL_IN_PROCESS);
	cfg.thp.enabled = THP_ENABLED_MADVISE;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	kstream_init(&ks);
	a = map(&ch, 0, 4 * MiB, 0);
	for (uint64_t off = 0; off < PMD_SIZE; off += PAGE_SIZE)
		cr_assert_eq(fault(&ch, 0, 0, a + off, MIMICOS_ACCESS_WRITE, NULL).page_size, PAGE_SIZE);
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MADVISE, .addr = a,
						   .len = PMD_SIZE, .advice = MADV_HUGEPAGE }, NULL);
	cr_assert_eq(rs.result, 0);
	/* Registration wakes khugepaged at once: its first pass runs at time 0. */
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_ADVANCE, .now_ns = 1 }, &ks);
	cr_assert_eq(rs.result, 0);
	cr_assert_geq(rs.passes, 1);
	for (uint32_t i = 0; i < rs.nr_events && i < MIMICOS_EVENTS_MAX; i++)
		if (rs.events[i].type == KHUGEPAGED_EV_COLLAPSE)
			ev = &rs.events[i];
	cr_assert_not_null(ev, "no collapse among %u events", rs.nr_events);
	cr_expect_eq(ev->status, SCAN_SUCCEED);
	cr_expect_eq(ev->mm, 0);
	cr_expect_eq(ev->address, a);
	cr_assert_geq(rs.nr_tlb, 1);
	cr_expect_eq(rs.tlb[0].start, a, "pmdp_collapse_flush() of the 2 MiB");
	cr_expect_eq(rs.tlb[0].end, a + PMD_SIZE);
	for (size_t i = 0; i < ks.nr; i++) {
		if (ks.rec[i].type == KSTREAM_COPY_TO) {
			cr_assert_eq(ks.rec[i - 1].type, KSTREAM_COPY_FROM, "a copy is a pair");
			cr_expect_eq(ks.rec[i - 1].len, ks.rec[i].len);
			cr_expect_geq(ks.rec[i].paddr, ev->pfn << PAGE_SHIFT);
			copied += ks.rec[i].len;
		}
		meta_writes += ks.rec[i].src == KSTREAM_SRC_PAGE_META;
	}
	cr_expect_eq(copied, PMD_SIZE, "the 512 pages copied into the THP");
	/*
	 * The pass's lru_add_drain_all() moves the 512 - 16 * 31 = 16 folios
	 * the faults left in the batch; the THP is large, so it moves at once
	 */
	cr_expect_eq(meta_writes, 16 + 1 + 512 + 1, "16 folios moved, the THP allocated, 512 pages "
		     "freed, the THP moved");
	w = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_WALK, .addr = a }, NULL);
	cr_expect_eq(w.u.walk.page_size, PMD_SIZE);
	cr_expect_eq(w.u.walk.pa, ev->pfn << PAGE_SHIFT);
	rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_ADVANCE, .now_ns = 0 }, NULL);
	cr_expect_eq(rs.result, -EINVAL, "time never goes back");
	kstream_release(&ks);
	channel_close(&ch);
}

/* ---- the two modes give identical results ---------------------------------- */

struct region {
	uint32_t mm;
	uint64_t start, len;
};

/* The next request of a mixed sequence; regions follow the in-process answers. */
static struct mimicos_request next_request(struct wl_rng *rng, struct region *reg, size_t nr_reg,
					   uint64_t *now, unsigned int *core)
{
	struct mimicos_request rq = { .mm = (uint32_t)wl_rng_below(rng, 2) };
	const struct region *r = nr_reg ? &reg[wl_rng_below(rng, nr_reg)] : NULL;
	uint64_t k = wl_rng_below(rng, 100), off, len;
	static const uint64_t sizes[] = { 64 * KiB, 2 * MiB, 4 * MiB, 3 * MiB + 20 * KiB };
	static const int advice[] = { MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE };
	static const uint32_t prot[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE };

	*core = (unsigned int)wl_rng_below(rng, 2);
	if (r) {
		rq.mm = r->mm;
		off = wl_rng_below(rng, r->len / PAGE_SIZE) * PAGE_SIZE;
		len = (1 + wl_rng_below(rng, (r->len - off) / PAGE_SIZE)) * PAGE_SIZE;
	} else {
		off = len = 0;
		k = 0;
	}
	if (k < 10 || nr_reg < 3) {
		rq.type = MIMICOS_REQ_MMAP;
		rq.len = sizes[wl_rng_below(rng, 4)];
		rq.prot = PROT_READ | PROT_WRITE;
		rq.flags = MAP_PRIVATE | MAP_ANONYMOUS | (wl_rng_below(rng, 8) ? 0 : MAP_POPULATE);
	} else if (k < 62) {
		rq.type = MIMICOS_REQ_FAULT;
		rq.addr = r->start + off + wl_rng_below(rng, PAGE_SIZE / 8) * 8;
		rq.access = wl_rng_below(rng, 10) < 7 ? MIMICOS_ACCESS_WRITE :
			    wl_rng_below(rng, 10) ? MIMICOS_ACCESS_READ : MIMICOS_ACCESS_EXEC;
	} else if (k < 72) {
		rq.type = MIMICOS_REQ_MADVISE;
		rq.addr = r->start + off;
		rq.len = len;
		rq.advice = advice[wl_rng_below(rng, 4)];
	} else if (k < 80) {
		rq.type = MIMICOS_REQ_MPROTECT;
		rq.addr = r->start + off;
		rq.len = len;
		rq.prot = prot[wl_rng_below(rng, 3)];
	} else if (k < 86) {
		rq.type = MIMICOS_REQ_MUNMAP;
		rq.addr = r->start + off;
		rq.len = len;
	} else if (k < 95) {
		rq.type = MIMICOS_REQ_ADVANCE;
		*now += wl_rng_below(rng, 3000) * 1000000ULL;
		rq.now_ns = *now;
	} else {
		static const uint32_t look[] = { MIMICOS_REQ_QUERY, MIMICOS_REQ_WALK, MIMICOS_REQ_STATS };

		rq.type = look[wl_rng_below(rng, 3)];
		rq.addr = r->start + off;
	}
	return rq;
}

Test(channel, both_modes_give_identical_responses_and_streams, .timeout = 120)
{
	struct channel_config cfg;
	struct mimicos_channel in, out;
	struct kstream ks_in, ks_out;
	struct region reg[256];
	size_t nr_reg = 0, longest = 0;
	uint64_t now = 0, thp = 0, tlb = 0, passes = 0, segv = 0, events = 0, copies = 0;
	struct wl_rng rng;

	config(&cfg, CHANNEL_IN_PROCESS);
	cfg.cores = 2;
	cfg.nr_mms = 2;
	cfg.seed = 7;
	cfg.thp.enabled = THP_ENABLED_ALWAYS;
	cfg.thp.size[4] = THP_SIZE_ALWAYS;	/* 64 KiB mTHP too */
	cfg.thp.khugepaged.scan_sleep_millisecs = 500;
	cr_assert_eq(channel_open(&in, &cfg), 0);
	cfg.mode = CHANNEL_OUT_OF_PROCESS;
	cfg.stream_ring_records = 64;		/* long streams go in chunks */
	cr_assert_eq(channel_open(&out, &cfg), 0);
	kstream_init(&ks_in);
	kstream_init(&ks_out);
	wl_rng_seed(&rng, 2024);

	for (int i = 0; i < 800; i++) {
		unsigned int core;
		struct mimicos_request rq = next_request(&rng, reg, nr_reg, &now, &core);
		struct mimicos_response a, b;

		cr_assert_eq(channel_request(&in, core, &rq, &a, &ks_in), 0);
		cr_assert_eq(channel_request(&out, core, &rq, &b, &ks_out), 0);
		cr_assert(mimicos_response_equal(&a, &b), "request %d (type %u): responses differ", i,
			  rq.type);
		cr_assert_eq(ks_in.nr, ks_out.nr, "request %d: %zu vs %zu records", i, ks_in.nr,
			     ks_out.nr);
		cr_assert(!memcmp(ks_in.rec, ks_out.rec, ks_in.nr * sizeof(*ks_in.rec)),
			  "request %d: streams differ", i);
		cr_assert_eq(a.nr_records, ks_in.nr);
		if (ks_in.nr > longest)
			longest = ks_in.nr;
		if (rq.type == MIMICOS_REQ_MMAP && !a.result && nr_reg < 256)
			reg[nr_reg++] = (struct region){ rq.mm, a.addr, rq.len };
		if (rq.type == MIMICOS_REQ_FAULT && a.page_size == PMD_SIZE && a.order == 9)
			thp++;
		if (rq.type == MIMICOS_REQ_FAULT && (a.result & VM_FAULT_SIGSEGV))
			segv++;
		tlb += a.nr_tlb;
		passes += a.passes;
		events += a.nr_events;
		for (size_t j = 0; j < ks_in.nr; j++)
			copies += ks_in.rec[j].type == KSTREAM_COPY_TO;
	}
	for (uint32_t mm = 0; mm < 2; mm++) {
		struct mimicos_request rq = { .type = MIMICOS_REQ_STATS, .mm = mm };
		struct mimicos_response a, b;

		cr_assert_eq(channel_request(&in, 0, &rq, &a, NULL), 0);
		cr_assert_eq(channel_request(&out, 0, &rq, &b, NULL), 0);
		cr_assert(mimicos_response_equal(&a, &b), "final stats of mm %u differ", mm);
		cr_expect_gt(a.u.stats.ev.event[PGFAULT], 100);
	}
	/* every region's backing map after all that (splits, mTHPs, collapses, holes) */
	for (size_t r = 0; r < nr_reg; r++) {
		struct mimicos_request rq = { .type = MIMICOS_REQ_BACKING, .mm = reg[r].mm,
					      .addr = reg[r].start };
		struct mimicos_response a, b;

		do {
			rq.len = reg[r].start + reg[r].len - rq.addr;
			cr_assert_eq(channel_request(&in, 0, &rq, &a, NULL), 0);
			cr_assert_eq(channel_request(&out, 0, &rq, &b, NULL), 0);
			cr_assert(mimicos_response_equal(&a, &b), "region %zu: maps differ", r);
			cr_assert_gt(a.u.backing.end, rq.addr);
			rq.addr = a.u.backing.end;
		} while (rq.addr < reg[r].start + reg[r].len);
	}
	cr_log_info("%zu regions, %llu THP faults, %llu SIGSEGV, %llu TLB ranges, %llu passes, "
		    "%llu khugepaged events, %llu copies, longest stream %zu", nr_reg,
		    (unsigned long long)thp, (unsigned long long)segv, (unsigned long long)tlb,
		    (unsigned long long)passes, (unsigned long long)events,
		    (unsigned long long)copies, longest);
	/* The sequence exercised what it should (else the comparison proves little). */
	cr_expect_gt(thp, 0, "no THP fault");
	cr_expect_gt(tlb, 0, "no TLB range");
	cr_expect_gt(segv, 0, "no SIGSEGV");
	cr_expect_gt(passes, 0, "no khugepaged pass");
	cr_expect_gt(events, 0, "no khugepaged event");
	cr_expect_gt(copies, 0, "no collapse copy");
	cr_expect_gt(longest, 4 * 64, "no stream longer than the ring (%zu)", longest);
	kstream_release(&ks_in);
	kstream_release(&ks_out);
	channel_close(&in);
	channel_close(&out);
}

Test(channel, stream_longer_than_the_ring_arrives_whole)
{
	struct channel_config cfg;
	struct mimicos_channel in, out;
	struct kstream ks_in, ks_out;
	struct mimicos_request rq = { .type = MIMICOS_REQ_MMAP, .len = 4 * MiB,
				      .prot = PROT_READ | PROT_WRITE,
				      .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE };
	struct mimicos_response a, b;

	config(&cfg, CHANNEL_IN_PROCESS);
	cr_assert_eq(channel_open(&in, &cfg), 0);
	cfg.mode = CHANNEL_OUT_OF_PROCESS;
	cfg.stream_ring_records = 16;
	cr_assert_eq(channel_open(&out, &cfg), 0);
	kstream_init(&ks_in);
	kstream_init(&ks_out);
	cr_assert_eq(channel_request(&in, 0, &rq, &a, &ks_in), 0);
	cr_assert_eq(channel_request(&out, 0, &rq, &b, &ks_out), 0);
	cr_assert_eq(a.nr_faults, 1024, "MAP_POPULATE faults every 4 KiB page");
	cr_assert_gt(ks_in.nr, 1024 * 4);
	cr_assert_eq(ks_out.nr, ks_in.nr);
	cr_assert(!memcmp(ks_in.rec, ks_out.rec, ks_in.nr * sizeof(*ks_in.rec)));
	cr_assert(mimicos_response_equal(&a, &b));
	/* Without a stream: the same response, nothing collected. */
	cr_assert_eq(channel_request(&out, 0, &(struct mimicos_request){ .type = MIMICOS_REQ_MUNMAP,
		.addr = a.addr, .len = 4 * MiB }, &b, NULL), 0);
	cr_assert_eq(b.result, 0);
	cr_assert_gt(b.nr_records, 1024);
	kstream_release(&ks_in);
	kstream_release(&ks_out);
	channel_close(&in);
	channel_close(&out);
}

/* ---- the server process ------------------------------------------------------ */

Test(channel, dead_server_gives_an_error_not_a_hang, .timeout = 30)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_request rq = { .type = MIMICOS_REQ_QUERY };
	struct mimicos_response rs;
	pid_t pid;

	config(&cfg, CHANNEL_OUT_OF_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	pid = channel_server_pid(&ch);
	cr_assert_gt(pid, 0);
	cr_assert_eq(channel_request(&ch, 0, &rq, &rs, NULL), 0);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_expect_eq(channel_request(&ch, 0, &rq, &rs, NULL), -EPIPE);
	cr_expect_eq(channel_request(&ch, 0, &rq, &rs, NULL), -EPIPE, "and stays gone");
	channel_close(&ch);
	cr_expect_eq(waitpid(pid, NULL, WNOHANG), -1, "reaped");
}

Test(channel, close_reaps_the_server, .timeout = 30)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_request rq = { .type = MIMICOS_REQ_QUERY };
	struct mimicos_response rs;
	pid_t pid;

	config(&cfg, CHANNEL_OUT_OF_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	pid = channel_server_pid(&ch);
	cr_assert_eq(channel_request(&ch, 0, &rq, &rs, NULL), 0);
	cr_assert_eq(kill(pid, 0), 0, "the server runs");
	channel_close(&ch);
	cr_expect_eq(channel_server_pid(&ch), 0);
	errno = 0;
	cr_expect_eq(waitpid(pid, NULL, WNOHANG), -1);
	cr_expect_eq(errno, ECHILD, "no child left to reap");
	errno = 0;
	cr_expect_eq(kill(pid, 0), -1);
	cr_expect_eq(errno, ESRCH, "no zombie either");
}

Test(channel, server_exits_when_the_simulator_dies, .timeout = 30)
{
	int fd[2];
	pid_t sim, server = 0;
	int status;

	/* The orphaned server comes to us, so we can see how it ended. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(pipe(fd), 0);
	sim = fork();
	cr_assert_geq(sim, 0);
	if (sim == 0) {
		struct channel_config cfg;
		struct mimicos_channel ch;
		pid_t s;

		config(&cfg, CHANNEL_OUT_OF_PROCESS);
		if (channel_open(&ch, &cfg))
			_exit(2);
		s = channel_server_pid(&ch);
		if (write(fd[1], &s, sizeof(s)) != sizeof(s))
			_exit(3);
		_exit(0);	/* dies without channel_close() */
	}
	close(fd[1]);
	cr_assert_eq(read(fd[0], &server, sizeof(server)), (ssize_t)sizeof(server));
	close(fd[0]);
	cr_assert_eq(waitpid(sim, &status, 0), sim);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(waitpid(server, &status, 0), server, "the server was not orphaned to us");
	cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the server ended by PR_SET_PDEATHSIG's SIGKILL (status %#x)", status);
}

struct thread_arg {
	struct mimicos_channel *ch;
	unsigned int core;
	uint64_t base;
	int failures;
};

static void *drive_core(void *p)
{
	struct thread_arg *t = p;

	for (int i = 0; i < 256; i++) {
		struct mimicos_request rq = { .type = MIMICOS_REQ_FAULT, .mm = t->core,
					      .addr = t->base + (uint64_t)i * PAGE_SIZE,
					      .access = MIMICOS_ACCESS_WRITE };
		struct mimicos_response rs;
		struct kstream ks;

		kstream_init(&ks);
		if (channel_request(t->ch, t->core, &rq, &rs, &ks) || rs.result ||
		    rs.pfn == UINT64_MAX || ks.nr != rs.nr_records)
			t->failures++;
		kstream_release(&ks);
	}
	return NULL;
}

Test(channel, server_serves_cores_driven_from_threads, .timeout = 60)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct thread_arg t[2];
	pthread_t th[2];

	config(&cfg, CHANNEL_OUT_OF_PROCESS);
	cfg.cores = 2;
	cfg.nr_mms = 2;
	cfg.stream_ring_records = 16;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	for (unsigned int i = 0; i < 2; i++)
		t[i] = (struct thread_arg){ &ch, i, map(&ch, i, MiB, 0), 0 };
	for (unsigned int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, drive_core, &t[i]), 0);
	for (unsigned int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(t[i].failures, 0, "core %u", i);
	}
	channel_close(&ch);
}

/* ---- configuration ------------------------------------------------------------ */

static int parse(struct channel_config *cfg, const char *text, struct wl_error *err)
{
	cJSON *j = cJSON_Parse(text);
	int r;

	cr_assert_not_null(j, "bad test JSON: %s", text);
	memset(err, 0, sizeof(*err));
	channel_config_init(cfg);
	r = channel_config_from_json(cfg, j, "ch.json", err);
	cJSON_Delete(j);
	return r;
}

Test(channel, config_from_json_sets_the_fields_it_names)
{
	struct channel_config cfg;
	struct wl_error err;

	cr_assert_eq(parse(&cfg, "{\"mode\": \"out-of-process\", \"cores\": 4, \"mem_bytes\": \"512MiB\","
			   " \"levels\": 5, \"thp\": {\"enabled\": \"always\", \"size\": {\"64kB\": \"always\"},"
			   " \"khugepaged\": {\"pages_to_scan\": 8}}, \"cost\": {\"fault\": 1}}", &err), 0,
		     "%s: %s: %s", err.file, err.path, err.msg);
	cr_expect_eq(cfg.mode, CHANNEL_OUT_OF_PROCESS);
	cr_expect_eq(cfg.cores, 4);
	cr_expect_eq(cfg.mem_bytes, 512 * MiB);
	cr_expect_eq(cfg.levels, 5);
	cr_expect_eq(cfg.thp.enabled, THP_ENABLED_ALWAYS);
	cr_expect_eq(cfg.thp.size[4], THP_SIZE_ALWAYS);
	cr_expect_eq(cfg.thp.size[9], THP_SIZE_INHERIT, "left alone");
	cr_expect_eq(cfg.thp.khugepaged.pages_to_scan, 8);
	cr_expect_eq(cfg.thp.khugepaged.max_ptes_none, 511, "left alone");
	cr_expect_eq(cfg.cost.fault, 1);
	cr_expect_eq(cfg.cost.entry_read, 5, "left alone");
}

Test(channel, config_from_json_rejects_unknown_keys_naming_file_and_key)
{
	struct channel_config cfg;
	struct wl_error err;

	cr_assert_eq(parse(&cfg, "{\"mode\": \"in-process\", \"bogus\": 1}", &err), -1);
	cr_expect_str_eq(err.file, "ch.json");
	cr_expect_str_eq(err.path, "bogus");
	cr_assert_eq(parse(&cfg, "{\"thp\": {\"khugepaged\": {\"nope\": 1}}}", &err), -1);
	cr_expect_str_eq(err.path, "thp.khugepaged.nope");
	cr_assert_eq(parse(&cfg, "{\"mode\": \"sideways\"}", &err), -1);
	cr_expect_str_eq(err.path, "mode");
	cr_assert_eq(parse(&cfg, "{\"stream_ring_records\": 100}", &err), -1);
	cr_expect_str_eq(err.path, "stream_ring_records");
	cr_assert_eq(parse(&cfg, "{\"cost\": {\"fault\": -1}}", &err), -1);
	cr_expect_str_eq(err.path, "cost.fault");
}

Test(channel, config_json_round_trips)
{
	struct channel_config a, b;
	struct wl_error err;
	cJSON *ja, *jb;
	char *ta, *tb;

	channel_config_init(&a);
	a.mode = CHANNEL_OUT_OF_PROCESS;
	a.cores = 3;
	a.thp.defrag = THP_DEFRAG_DEFER_MADVISE;
	a.thp.size[2] = THP_SIZE_MADVISE;
	a.thp.modules.mthp = false;
	a.cost.zero_page = 9;
	ja = channel_config_to_json(&a);
	channel_config_init(&b);
	cr_assert_eq(channel_config_from_json(&b, ja, "a.json", &err), 0, "%s: %s", err.path, err.msg);
	jb = channel_config_to_json(&b);
	ta = cJSON_Print(ja);
	tb = cJSON_Print(jb);
	cr_expect_str_eq(ta, tb);
	cr_expect_eq(b.thp.defrag, THP_DEFRAG_DEFER_MADVISE);
	cr_expect_eq(b.thp.modules.mthp, false);
	free(ta);
	free(tb);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
}

/* ---- backing maps --------------------------------------------------------- */

static struct mimicos_backing backing(struct mimicos_channel *ch, uint64_t addr, uint64_t len)
{
	struct mimicos_response rs = req(ch, 0, (struct mimicos_request){
		.type = MIMICOS_REQ_BACKING, .addr = addr, .len = len }, NULL);

	cr_assert_eq(rs.result, 0, "BACKING: %d", rs.result);
	cr_assert_eq(rs.nr_records, 0, "a look-up: no instruction stream");
	return rs.u.backing;
}

static void expect_run(const struct mimicos_backing *b, uint32_t i, enum page_class cls,
		       uint32_t pages)
{
	cr_assert_lt(i, b->nr);
	cr_expect_eq(b->run[i].cls, cls, "run %u: class %u, expected %u", i, b->run[i].cls, cls);
	cr_expect_eq(b->run[i].pages, pages, "run %u: %u pages, expected %u", i, b->run[i].pages,
		     pages);
}

/*
 * 4 KiB pages (THP never) in 1 MiB: written pages 0, 1 and 3, page 5 read
 * (the zero page), the rest untouched: pte 2, none 1, pte 1, none 1, zero 1,
 * none 250. Then a THP (block 0 written) and the huge zero page (block 1
 * read) in 4 MiB under THP always: pmd 512, zero 512. The counts of CLASSES
 * are the sums of the runs.
 */
Test(channel, backing_runs_follow_the_pages_in_address_order)
{
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct mimicos_backing b;
	struct mimicos_response c;
	uint64_t a;

	config(&cfg, CHANNEL_IN_PROCESS);
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	a = map(&ch, 0, MiB, 0);
	fault(&ch, 0, 0, a, MIMICOS_ACCESS_WRITE, NULL);
	fault(&ch, 0, 0, a + PAGE_SIZE + 8, MIMICOS_ACCESS_WRITE, NULL);
	fault(&ch, 0, 0, a + 3 * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
	fault(&ch, 0, 0, a + 5 * PAGE_SIZE, MIMICOS_ACCESS_READ, NULL);
	b = backing(&ch, a, MiB);
	cr_assert_eq(b.end, a + MiB);
	cr_assert_eq(b.nr, 6);
	expect_run(&b, 0, PAGE_CLASS_PTE, 2);
	expect_run(&b, 1, PAGE_CLASS_NONE, 1);
	expect_run(&b, 2, PAGE_CLASS_PTE, 1);
	expect_run(&b, 3, PAGE_CLASS_NONE, 1);
	expect_run(&b, 4, PAGE_CLASS_ZERO, 1);
	expect_run(&b, 5, PAGE_CLASS_NONE, 250);
	c = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_CLASSES, .addr = a,
						  .len = MiB }, NULL);
	cr_expect_eq(c.u.classes.pages[PAGE_CLASS_PTE], 3);
	cr_expect_eq(c.u.classes.pages[PAGE_CLASS_ZERO], 1);
	cr_expect_eq(c.u.classes.pages[PAGE_CLASS_NONE], 252);
	/* a range that starts inside a run, and one beyond the mapping: all none */
	b = backing(&ch, a + 4 * PAGE_SIZE, 2 * PAGE_SIZE);
	cr_assert_eq(b.nr, 2);
	expect_run(&b, 0, PAGE_CLASS_NONE, 1);
	expect_run(&b, 1, PAGE_CLASS_ZERO, 1);
	b = backing(&ch, a + MiB, 4 * PAGE_SIZE);
	cr_assert_eq(b.nr, 1);
	expect_run(&b, 0, PAGE_CLASS_NONE, 4);
	channel_close(&ch);

	config(&cfg, CHANNEL_IN_PROCESS);
	cfg.thp.enabled = THP_ENABLED_ALWAYS;
	cr_assert_eq(channel_open(&ch, &cfg), 0);
	a = map(&ch, 0, 4 * MiB, 0);
	cr_assert_eq(a & (PMD_SIZE - 1), 0, "4 MiB is placed 2 MiB-aligned");
	cr_assert_eq(fault(&ch, 0, 0, a + 0x1234, MIMICOS_ACCESS_WRITE, NULL).page_size, PMD_SIZE);
	cr_assert(fault(&ch, 0, 0, a + PMD_SIZE, MIMICOS_ACCESS_READ, NULL).zero_page);
	b = backing(&ch, a, 4 * MiB);
	cr_assert_eq(b.nr, 2);
	expect_run(&b, 0, PAGE_CLASS_PMD, 512);
	expect_run(&b, 1, PAGE_CLASS_ZERO, 512);
	channel_close(&ch);
}

static void expect_bad_backing(struct mimicos_channel *ch, uint64_t addr, uint64_t len)
{
	struct mimicos_response rs = req(ch, 0, (struct mimicos_request){
		.type = MIMICOS_REQ_BACKING, .addr = addr, .len = len }, NULL);

	cr_expect_eq(rs.result, -EINVAL, "BACKING of %#llx+%#llx", (unsigned long long)addr,
		     (unsigned long long)len);
}

/*
 * Pages 0, 2, ..., 298 of 2 MiB written: 300 runs (pte 1, none 1, ...; the
 * last none run is pages 299..511, 213 pages). A response holds
 * MIMICOS_BACKING_RUNS (128) runs and says where it stopped: 128 + 128 + 44,
 * the same in both modes.
 */
Test(channel, long_map_comes_in_bounded_responses_alike_in_both_modes)
{
	struct channel_config cfg;
	struct mimicos_channel ch[2];
	uint64_t a[2];

	cr_assert_eq(MIMICOS_BACKING_RUNS, 128);
	for (int m = 0; m < 2; m++) {
		config(&cfg, m ? CHANNEL_OUT_OF_PROCESS : CHANNEL_IN_PROCESS);
		cr_assert_eq(channel_open(&ch[m], &cfg), 0);
		a[m] = map(&ch[m], 0, 2 * MiB, 0);
		for (uint64_t p = 0; p < 300; p += 2)
			fault(&ch[m], 0, 0, a[m] + p * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
	}
	cr_assert_eq(a[0], a[1], "the same placement");
	for (int m = 0; m < 2; m++) {
		struct mimicos_response r[3];
		uint64_t at = a[m];

		for (int k = 0; k < 3; k++) {
			r[k] = req(&ch[m], 0, (struct mimicos_request){ .type = MIMICOS_REQ_BACKING,
				   .addr = at, .len = a[m] + 2 * MiB - at }, NULL);
			at = r[k].u.backing.end;
		}
		cr_assert_eq(r[0].u.backing.nr, 128);
		cr_assert_eq(r[0].u.backing.end, a[m] + 128 * PAGE_SIZE);
		cr_assert_eq(r[1].u.backing.nr, 128);
		cr_assert_eq(r[1].u.backing.end, a[m] + 256 * PAGE_SIZE);
		cr_assert_eq(r[2].u.backing.nr, 44);
		cr_assert_eq(r[2].u.backing.end, a[m] + 2 * MiB, "the range is done");
		for (uint32_t i = 0; i < 128; i++) {
			expect_run(&r[0].u.backing, i, i % 2 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, 1);
			expect_run(&r[1].u.backing, i, i % 2 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, 1);
		}
		for (uint32_t i = 0; i < 43; i++)
			expect_run(&r[2].u.backing, i, i % 2 ? PAGE_CLASS_NONE : PAGE_CLASS_PTE, 1);
		expect_run(&r[2].u.backing, 43, PAGE_CLASS_NONE, 213);
		if (m) {
			struct mimicos_request rq = { .type = MIMICOS_REQ_BACKING, .addr = a[0],
						      .len = 2 * MiB };
			struct mimicos_response in, out;

			cr_assert_eq(channel_request(&ch[0], 0, &rq, &in, NULL), 0);
			cr_assert_eq(channel_request(&ch[1], 0, &rq, &out, NULL), 0);
			cr_assert(!memcmp(&in, &out, sizeof(in)), "the modes' responses differ");
		}
	}
	expect_bad_backing(&ch[0], a[0] + 8, PAGE_SIZE);
	expect_bad_backing(&ch[0], a[0], PAGE_SIZE + 1);
	expect_bad_backing(&ch[0], -PAGE_SIZE, 2 * PAGE_SIZE);
	channel_close(&ch[0]);
	channel_close(&ch[1]);
}

/* ---- fault latencies in the event log ---------------------------------------- */

/* The whole file at path; *len its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The VT_FAULT records of the log at path, and the type of every record, in order. */
static size_t log_faults(const char *path, struct vt_event *faults, size_t max, char *types,
			 size_t types_len)
{
	struct evlog_reader r;
	struct wl_error err;
	struct vt_event ev;
	size_t n = 0, t = 0;

	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &ev) > 0) {
		if (t + 1 < types_len)
			types[t++] = ev.type == VT_FAULT ? 'F' : ev.type == VT_SYSCALL ? 'S' : '.';
		if (ev.type == VT_FAULT && n < max)
			faults[n++] = ev;
	}
	types[t] = '\0';
	evlog_close(&r);
	return n;
}

/*
 * A FAULT's record waits in MimicOS until the caller has timed the fault:
 * FAULT_LATENCY gives it latency_ns; any other request, or the close, writes
 * it as it is (0). The order of the log is the order MimicOS emitted in:
 * mmap, fault A (1234 ns), fault B (none: the next FAULT came first),
 * fault C (77 ns: a WALK in between does not write it), fault D (a munmap
 * follows: written before the munmap's record), then fault E (the close).
 * Byte for byte the same in both modes.
 */
Test(channel, fault_record_waits_for_its_latency)
{
	static const uint64_t want[] = { 1234, 0, 77, 0, 0 };
	char dir[] = "/tmp/vchan-XXXXXX", path[2][64], types[2][64];
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct vt_event ev[2][8];
	size_t n[2];
	uint64_t a = 0;

	cr_assert_not_null(mkdtemp(dir));
	for (int m = 0; m < 2; m++) {
		struct mimicos_response rs;

		snprintf(path[m], sizeof(path[m]), "%s/%d.vlog", dir, m);
		config(&cfg, m ? CHANNEL_OUT_OF_PROCESS : CHANNEL_IN_PROCESS);
		snprintf(cfg.events_path, sizeof(cfg.events_path), "%s", path[m]);
		cr_assert_eq(channel_open(&ch, &cfg), 0);
		a = map(&ch, 0, MiB, 0);
		/* nothing held: harmless */
		rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_FAULT_LATENCY,
							   .addr = 5 }, NULL);
		cr_assert_eq(rs.result, 0);
		fault(&ch, 0, 0, a, MIMICOS_ACCESS_WRITE, NULL);
		req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_FAULT_LATENCY,
						      .addr = 1234 }, NULL);
		fault(&ch, 0, 0, a + PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
		fault(&ch, 0, 0, a + 2 * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
		req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_WALK, .addr = a }, NULL);
		req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_FAULT_LATENCY,
						      .addr = 77 }, NULL);
		fault(&ch, 0, 0, a + 3 * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
		req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_MUNMAP,
						      .addr = a + 512 * KiB, .len = 512 * KiB }, NULL);
		fault(&ch, 0, 0, a + 4 * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
		channel_close(&ch);
		n[m] = log_faults(path[m], ev[m], 8, types[m], sizeof(types[m]));
	}
	cr_assert_eq(n[0], 5);
	for (size_t i = 0; i < 5; i++) {
		cr_expect_eq(ev[0][i].fault.addr, a + i * PAGE_SIZE, "fault %zu", i);
		cr_expect_eq(ev[0][i].fault.latency_ns, want[i], "fault %zu: %llu ns", i,
			     (unsigned long long)ev[0][i].fault.latency_ns);
	}
	/* mmap's syscall record, A..D, munmap's, E (the allocations are '.') */
	cr_assert_not_null(strstr(types[0], "SF"), "%s", types[0]);
	cr_assert_not_null(strstr(types[0], "FS"), "D before the munmap: %s", types[0]);
	cr_assert_eq(types[0][strlen(types[0]) - 1], 'F', "E last: %s", types[0]);
	{
		size_t la, lb;
		char *x = slurp(path[0], &la), *y = slurp(path[1], &lb);

		cr_assert_eq(la, lb, "logs of %zu and %zu bytes", la, lb);
		cr_assert(!memcmp(x, y, la), "the modes' logs differ");
		free(x);
		free(y);
	}
	unlink(path[0]);
	unlink(path[1]);
	rmdir(dir);
}

/* The fault and system-call records of the log at path, in order (at most max). */
static size_t log_requests(const char *path, struct vt_event *ev, size_t max)
{
	struct evlog_reader r;
	struct wl_error err;
	struct vt_event e;
	size_t n = 0;

	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s", err.msg);
	while (evlog_next(&r, &e) > 0)
		if ((e.type == VT_FAULT || e.type == VT_SYSCALL) && n < max)
			ev[n++] = e;
	evlog_close(&r);
	return n;
}

/*
 * A fault's or system call's now_ns stamps what it logs and moves no clock
 * of MimicOS's own: ADVANCE to 1000; mmap at 5000 (its record: ts and
 * exit_ts 5000); fault A at 7000; fault B at 500, before the ADVANCE's
 * time, and fault C at 0 (a caller that gives none) stamp 1000; an ADVANCE
 * to 2000 is still accepted (the kernel's clock is at 1000, not 7000) and
 * STATS reports 2000; fault D at 0 then stamps 2000. Both modes alike.
 */
Test(channel, request_time_stamps_its_records_and_moves_no_clock)
{
	static const uint64_t want_ts[] = { 5000, 7000, 1000, 1000, 2000 };
	char dir[] = "/tmp/vchan-XXXXXX", path[64];
	struct channel_config cfg;
	struct mimicos_channel ch;
	struct vt_event ev[2][8];
	size_t n[2];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log.vlog", dir);
	for (int m = 0; m < 2; m++) {
		struct mimicos_response rs;
		uint64_t a;

		config(&cfg, m ? CHANNEL_OUT_OF_PROCESS : CHANNEL_IN_PROCESS);
		snprintf(cfg.events_path, sizeof(cfg.events_path), "%s", path);
		cr_assert_eq(channel_open(&ch, &cfg), 0);
		rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_ADVANCE,
							   .now_ns = 1000 }, NULL);
		cr_assert_eq(rs.result, 0);
		rs = req(&ch, 0, (struct mimicos_request){
			.type = MIMICOS_REQ_MMAP, .len = MiB, .prot = PROT_READ | PROT_WRITE,
			.flags = MAP_PRIVATE | MAP_ANONYMOUS, .now_ns = 5000 }, NULL);
		cr_assert_eq(rs.result, 0);
		a = rs.addr;
		req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_FAULT, .addr = a,
						      .access = MIMICOS_ACCESS_WRITE,
						      .now_ns = 7000 }, NULL);
		req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_FAULT,
						      .addr = a + PAGE_SIZE,
						      .access = MIMICOS_ACCESS_WRITE,
						      .now_ns = 500 }, NULL);
		fault(&ch, 0, 0, a + 2 * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
		rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_ADVANCE,
							   .now_ns = 2000 }, NULL);
		cr_assert_eq(rs.result, 0, "ADVANCE to 2000 refused: a fault moved the clock");
		rs = req(&ch, 0, (struct mimicos_request){ .type = MIMICOS_REQ_STATS }, NULL);
		cr_assert_eq(rs.u.stats.now_ns, 2000);
		fault(&ch, 0, 0, a + 3 * PAGE_SIZE, MIMICOS_ACCESS_WRITE, NULL);
		channel_close(&ch);
		n[m] = log_requests(path, ev[m], 8);
		unlink(path);
	}
	cr_assert_eq(n[0], n[1]);
	cr_assert(!memcmp(ev[0], ev[1], n[0] * sizeof(ev[0][0])), "the modes' logs differ");
	cr_assert_eq(n[0], 5, "mmap and four faults: %zu records", n[0]);
	cr_assert_eq(ev[0][0].sys.exit_ts, 5000);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(ev[0][i].type, i ? VT_FAULT : VT_SYSCALL, "record %zu", i);
		cr_expect_eq(ev[0][i].ts, want_ts[i], "record %zu: ts %llu, expected %llu", i,
			     (unsigned long long)ev[0][i].ts, (unsigned long long)want_ts[i]);
	}
	rmdir(dir);
}

/*
 * Per-cpu list refills priced by the cost model: the same 1024 write faults
 * (4 MiB of 4 KiB pages) with pcp_refill 1000 and pcp_refill_block 1, and
 * without. The pcp lists start empty (channel_open() drains them) and
 * nothing is freed, so the first fault refills, and each fault costs the
 * same as without the terms, or 1000 + the blocks its refill took more.
 * Every order-0 block handed out came from a refill: the blocks refilled
 * cover the 1024 folios and the tables, and exceed them by what is left on
 * the list, less than a refill; a refill takes more than one block, so
 * most faults pay none: fault costs become a distribution.
 */
Test(channel, pcp_refills_priced_by_the_cost_model)
{
	struct channel_config ca, cb;
	struct mimicos_channel a, b;
	uint64_t va, vb, refills = 0, blocks = 0, last = 0;

	config(&ca, CHANNEL_IN_PROCESS);
	cb = ca;
	cb.cost.pcp_refill = 1000;
	cb.cost.pcp_refill_block = 1;
	cr_assert_eq(channel_open(&a, &ca), 0);
	cr_assert_eq(channel_open(&b, &cb), 0);
	va = map(&a, 0, 4 * MiB, 0);
	vb = map(&b, 0, 4 * MiB, 0);
	cr_assert_eq(va, vb);
	for (int i = 0; i < 1024; i++) {
		struct mimicos_response ra = fault(&a, 0, 0, va + (uint64_t)i * PAGE_SIZE,
						   MIMICOS_ACCESS_WRITE, NULL);
		struct mimicos_response rb = fault(&b, 0, 0, vb + (uint64_t)i * PAGE_SIZE,
						   MIMICOS_ACCESS_WRITE, NULL);
		uint64_t d = rb.insns - ra.insns;

		cr_assert_eq(rb.pfn, ra.pfn, "fault %d: the same folio", i);
		if (i == 0)
			cr_assert_gt(d, 1001, "the first fault refills the empty list");
		if (!d)
			continue;
		cr_assert_gt(d, 1001, "fault %d: %llu more", i, (unsigned long long)d);
		refills++;
		blocks += d - 1000;
		last = d - 1000;
	}
	/* 1024 folios + 3 tables for the first + 1 PTE table for the next 2 MiB */
	cr_assert_geq(blocks, 1024 + 4);
	cr_assert_lt(blocks - (1024 + 4), last, "left on the list: less than the last refill");
	cr_assert_lt(refills, 1024 / 2);
	channel_close(&a);
	channel_close(&b);
}

/*
 * The lru_add batch priced by the cost model: the same 100 write faults
 * with lru_add 1000 and without. A fault whose folio fills the CPU's batch
 * (the 31st, 62nd and 93rd: swap.h) costs 31 * 1000 more and writes 31
 * more struct page lines; every other fault costs the same.
 */
Test(channel, lru_add_batch_moves_priced_per_folio)
{
	struct channel_config ca, cb;
	struct mimicos_channel a, b;
	struct kstream ka, kb;
	uint64_t va, vb;

	config(&ca, CHANNEL_IN_PROCESS);
	cb = ca;
	cb.cost.lru_add = 1000;
	cr_assert_eq(channel_open(&a, &ca), 0);
	cr_assert_eq(channel_open(&b, &cb), 0);
	kstream_init(&ka);
	kstream_init(&kb);
	va = map(&a, 0, 4 * MiB, 0);
	vb = map(&b, 0, 4 * MiB, 0);
	for (int i = 0; i < 100; i++) {
		bool fills = (i + 1) % 31 == 0;
		struct mimicos_response ra, rb;
		size_t meta_a = 0, meta_b = 0;

		ka.nr = kb.nr = 0;
		ra = fault(&a, 0, 0, va + (uint64_t)i * PAGE_SIZE, MIMICOS_ACCESS_WRITE, &ka);
		rb = fault(&b, 0, 0, vb + (uint64_t)i * PAGE_SIZE, MIMICOS_ACCESS_WRITE, &kb);
		cr_assert_eq(rb.insns - ra.insns, fills ? 31 * 1000 : 0, "fault %d", i);
		for (size_t j = 0; j < kb.nr; j++)
			meta_b += kb.rec[j].src == KSTREAM_SRC_PAGE_META;
		for (size_t j = 0; j < ka.nr; j++)
			meta_a += ka.rec[j].src == KSTREAM_SRC_PAGE_META;
		cr_assert_eq(meta_a, meta_b, "the stream does not depend on the price");
		cr_assert_geq(meta_b, fills ? 1 + 31 : 1, "fault %d: its folio's line, and the "
			      "batch's when it moves", i);
		if (!fills)
			cr_assert_lt(meta_b, 31, "fault %d", i);
	}
	kstream_release(&ka);
	kstream_release(&kb);
	channel_close(&a);
	channel_close(&b);
}
