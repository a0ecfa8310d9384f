/*
 * channel.c - the functional and instruction-stream channels (channel.h):
 * the server (struct channel_server: the instance, its mms, the request
 * being run), the in-process mode and the API.
 *
 * One server executes requests the same way in both modes; the modes only
 * differ in where the server lives and where its records go. The
 * out-of-process mode is channel_transport.c, the configuration
 * channel_config.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "mimicos/channel.h"
#include "mimicos/channel_internal.h"
#include "mimicos/mimicos.h"
#include "mimicos/mmap.h"
#include "workload/evlog.h"
#include "workload/prng.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the stream buffer ---------------------------------------------------- */

void kstream_init(struct kstream *ks)
{
	memset(ks, 0, sizeof(*ks));
}

void kstream_release(struct kstream *ks)
{
	free(ks->rec);
	kstream_init(ks);
}

int kstream_grow(struct kstream *ks, size_t want)
{
	size_t alloc = ks->alloc ? ks->alloc : 256;
	struct kstream_rec *r;

	if (want <= ks->alloc)
		return 0;
	while (alloc < want)
		alloc *= 2;
	r = realloc(ks->rec, alloc * sizeof(*r));
	if (!r)
		return -ENOMEM;
	ks->rec = r;
	ks->alloc = alloc;
	return 0;
}

int kstream_push(struct kstream *ks, const struct kstream_rec *r)
{
	if (ks->nr == ks->alloc && kstream_grow(ks, ks->nr + 1))
		return -ENOMEM;
	ks->rec[ks->nr++] = *r;
	return 0;
}

/* ---- the server: one instance and the request it runs ----------------------- */

struct mm_ctx {
	struct channel_server *srv;
	uint32_t idx;
};

struct op_counts {
	uint64_t reads, writes, allocs, frees, zero_pages, copy_pages, tlb, events, passes, faults;
	uint64_t refills, refill_blocks, lru_moves;
};

/* A core's log records held back until its fault's latency is known. */
struct held_events {
	struct vt_event *ev;
	size_t nr, alloc;
};

struct channel_server {
	struct mimicos os;
	struct evlog_writer log;	/* cfg.events_path's, when given */
	struct held_events *held;	/* per core: its last FAULT's records */
	struct held_events *holding;	/* where records go instead of the log, or NULL */
	struct channel_config cfg;
	struct mm_struct *mm;
	struct mm_mem *mem;
	struct mm_ctx *mctx;
	unsigned int nr_mms;		/* set up so far */
	bool discard;			/* destroy without exit_mmap (channel_discard) */
	uint64_t memmap_base;
	uint64_t now_ns, next_decay_ns;
	/* The request running (rs NULL outside one). */
	struct mimicos_response *rs;
	struct op_counts cnt;
	channel_emit_fn emit;
	void *emit_ctx;
};

static void emit(struct channel_server *srv, uint64_t paddr, uint32_t len,
		 enum kstream_type type, enum kstream_src src)
{
	struct kstream_rec r = { .paddr = paddr, .len = len, .type = (uint8_t)type,
				 .src = (uint8_t)src };

	srv->rs->nr_records++;
	if (srv->emit)
		srv->emit(srv->emit_ctx, &r);
}

static void cb_pt_access(void *ctx, uint64_t paddr, bool write)
{
	struct channel_server *srv = ((struct mm_ctx *)ctx)->srv;

	if (!srv->rs)
		return;
	if (write)
		srv->cnt.writes++;
	else
		srv->cnt.reads++;
	emit(srv, paddr, 8, write ? KSTREAM_WRITE : KSTREAM_READ, KSTREAM_SRC_PGTABLE);
}

static void cb_pt_zero(void *ctx, uint64_t paddr, uint64_t len)
{
	struct channel_server *srv = ((struct mm_ctx *)ctx)->srv;
	bool table;

	if (!srv->rs)
		return;
	/* table_alloc_one() adds the page to physmem before clearing it */
	table = page_ptdesc(&srv->os.physmem, paddr >> PAGE_SHIFT) != NULL;
	srv->cnt.zero_pages += (len + PAGE_SIZE - 1) / PAGE_SIZE;
	emit(srv, paddr, (uint32_t)len, KSTREAM_ZERO, table ? KSTREAM_SRC_PGTABLE : KSTREAM_SRC_DATA);
}

static void cb_pt_copy(void *ctx, uint64_t dst, uint64_t src, uint64_t len)
{
	struct channel_server *srv = ((struct mm_ctx *)ctx)->srv;

	if (!srv->rs)
		return;
	srv->cnt.copy_pages += (len + PAGE_SIZE - 1) / PAGE_SIZE;
	emit(srv, src, (uint32_t)len, KSTREAM_COPY_FROM, KSTREAM_SRC_DATA);
	emit(srv, dst, (uint32_t)len, KSTREAM_COPY_TO, KSTREAM_SRC_DATA);
}

static void page_meta(struct channel_server *srv, unsigned long pfn)
{
	emit(srv, kstream_page_meta(srv->memmap_base, srv->os.zone.zone_start_pfn, pfn),
	     KSTREAM_PAGE_META_SIZE, KSTREAM_WRITE, KSTREAM_SRC_PAGE_META);
}

static void cb_zone_alloc(void *ctx, unsigned long pfn, unsigned int order, gfp_t gfp)
{
	struct channel_server *srv = ctx;

	(void)order;
	(void)gfp;
	if (!srv->rs)
		return;
	srv->cnt.allocs++;
	page_meta(srv, pfn);
}

/* A per-cpu list refilled from the buddy: instructions only (the cost model's). */
static void cb_zone_refill(void *ctx, unsigned int order, int blocks)
{
	struct channel_server *srv = ctx;

	(void)order;
	if (!srv->rs)
		return;
	srv->cnt.refills++;
	srv->cnt.refill_blocks += (uint64_t)blocks;
}

/* A folio an lru_add batch moves onto the LRU: its struct page's flags and links. */
static void cb_lru_move(void *ctx, unsigned long pfn, unsigned int order)
{
	struct channel_server *srv = ctx;

	(void)order;
	if (!srv->rs)
		return;
	srv->cnt.lru_moves++;
	page_meta(srv, pfn);
}

static void cb_zone_free(void *ctx, unsigned long pfn, unsigned int order)
{
	struct channel_server *srv = ctx;

	(void)order;
	if (!srv->rs)
		return;
	srv->cnt.frees++;
	page_meta(srv, pfn);
}

static void add_tlb(struct channel_server *srv, uint32_t mm, uint64_t start, uint64_t end)
{
	struct mimicos_response *rs = srv->rs;

	srv->cnt.tlb++;
	if (rs->nr_tlb == MIMICOS_TLB_MAX) {
		rs->tlb_flush_all = 1;
		return;
	}
	rs->tlb[rs->nr_tlb++] = (struct mimicos_tlb_range){ .mm = mm, .start = start, .end = end };
}

static void cb_tlb_flush(void *ctx, unsigned long start, unsigned long end)
{
	struct mm_ctx *m = ctx;

	if (m->srv->rs)
		add_tlb(m->srv, m->idx, start, end);
}

static void cb_tlb_ipi(void *ctx, unsigned int from, const uint64_t *to)
{
	struct mm_ctx *m = ctx;
	struct mimicos_response *rs = m->srv->rs;

	if (!rs)
		return;
	if (from == m->srv->os.cpu)
		rs->nr_ipi_waits++;
	for (unsigned int w = 0; w < MIMICOS_CPUMASK_WORDS; w++) {
		rs->nr_ipis += (uint32_t)__builtin_popcountll(to[w]);
		rs->ipi_cpus[w] |= to[w];
	}
}

static void cb_khugepaged_event(void *ctx, const struct khugepaged_event *ev)
{
	struct channel_server *srv = ctx;
	struct mimicos_response *rs = srv->rs;
	uint32_t mm = UINT32_MAX;

	if (!rs)
		return;
	srv->cnt.events++;
	if (rs->nr_events++ >= MIMICOS_EVENTS_MAX)
		return;
	for (uint32_t i = 0; i < srv->nr_mms; i++)
		if (ev->mm == &srv->mm[i])
			mm = i;
	rs->events[rs->nr_events - 1] = (struct mimicos_event){
		.type = ev->type, .status = ev->status, .mm = mm,
		.madv_collapse = ev->madv_collapse, .time_ns = ev->time_ns,
		.address = ev->address, .pfn = ev->pfn, .referenced = ev->referenced,
		.none_or_zero = ev->none_or_zero, .unmapped = ev->unmapped,
	};
}

static void cb_event(void *ctx, const struct vt_event *ev)
{
	struct channel_server *srv = ctx;
	struct held_events *h = srv->holding;

	if (!h) {
		evlog_append(&srv->log, ev, 1);
		return;
	}
	if (h->nr == h->alloc) {
		size_t alloc = h->alloc ? 2 * h->alloc : 8;
		struct vt_event *e = realloc(h->ev, alloc * sizeof(*e));

		if (!e) {		/* cannot hold it: write it now, in order */
			evlog_append(&srv->log, h->ev, h->nr);
			h->nr = 0;
			evlog_append(&srv->log, ev, 1);
			return;
		}
		h->ev = e;
		h->alloc = alloc;
	}
	/* every byte, padding included: the log stores records as they are */
	memcpy(&h->ev[h->nr++], ev, sizeof(*ev));
}

/*
 * Write what core 'c' holds: a FAULT's records, its own VT_FAULT given the
 * latency the driver timed (0 when it gave none), in the order MimicOS
 * emitted them. On Linux the fault's record is written when the fault
 * completes, so holding it until its cost is known is the same order.
 */
static void release_held(struct channel_server *srv, unsigned int c, uint64_t latency_ns)
{
	struct held_events *h = &srv->held[c];

	for (size_t i = 0; i < h->nr; i++)
		if (h->ev[i].type == VT_FAULT && h->ev[i].fault.completed)
			h->ev[i].fault.latency_ns = latency_ns;
	if (h->nr)
		evlog_append(&srv->log, h->ev, h->nr);
	h->nr = 0;
}

/* tlb:tlb_flush's reason names on 6.18 (its print fmt), index = value. */
static const char *const tlb_reason_names[] = {
	"flush on task switch", "remote shootdown", "local shootdown", "local MM shootdown",
	"remote IPI send", "remote wrong CPU",
};

/*
 * Commit the event log with what MimicOS alone knows of the run. 0, or -1
 * with err saying why (the log is then dropped: nothing half-written).
 */
static int log_commit(struct channel_server *srv, struct wl_error *err)
{
	cJSON *meta = cJSON_CreateObject(), *a;
	char *text;
	int ret = 0;

	cJSON_AddStringToObject(meta, "side", "sim");
	cJSON_AddStringToObject(meta, "clock", "simulated");
	a = cJSON_AddArrayToObject(meta, "scan_status");
	for (int i = 0; i < NR_SCAN_RESULTS; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(scan_result_name((enum scan_result)i)));
	a = cJSON_AddArrayToObject(meta, "tlb_flush_reason");
	for (size_t i = 0; i < ARRAY_SIZE(tlb_reason_names); i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(tlb_reason_names[i]));
	text = cJSON_PrintUnformatted(meta);
	cJSON_Delete(meta);
	if (!text) {
		ret = wl_error_set(err, srv->cfg.events_path, "", "out of memory");
		evlog_abort(&srv->log);
	} else if (evlog_set_meta(&srv->log, text, err)) {
		evlog_abort(&srv->log);
		ret = -1;
	} else if (evlog_commit(&srv->log, err)) {
		ret = -1;	/* commit released the writer */
	}
	free(text);
	return ret;
}

/* A VT_SYSCALL record for a request that is a system call on Linux. */
static void syscall_event(struct channel_server *srv, const struct mimicos_request *rq,
			  int64_t ret)
{
	struct vt_event ev = { .type = VT_SYSCALL };

	if (!srv->os.events.event)
		return;
	ev.sys.args[0] = rq->addr;
	ev.sys.args[1] = rq->len;
	switch (rq->type) {
	case MIMICOS_REQ_MMAP:
		ev.sys.nr = 9;
		ev.sys.args[2] = rq->prot;
		ev.sys.args[3] = rq->flags;
		ev.sys.args[4] = (__u64)-1;		/* fd */
		break;
	case MIMICOS_REQ_MPROTECT:
		ev.sys.nr = 10;
		ev.sys.args[2] = rq->prot;
		break;
	case MIMICOS_REQ_MUNMAP:
		ev.sys.nr = 11;
		break;
	case MIMICOS_REQ_MADVISE:
		ev.sys.nr = 28;
		ev.sys.args[2] = (__u64)(int64_t)rq->advice;
		break;
	default:
		return;
	}
	ev.sys.ret = ret;
	ev.sys.exit_ts = srv->os.now_ns;	/* the request's time: its length is timed later */
	mimicos_emit(&srv->os, &ev);
}

void channel_server_destroy(struct channel_server *srv)
{
	if (!srv)
		return;
	srv->rs = NULL;
	for (unsigned int i = 0; i < srv->nr_mms; i++) {
		khugepaged_exit(&srv->mm[i]);
		/* a committed log hears nothing of the exit: skip its walk */
		if (srv->discard && !srv->log.live)
			mm_mem_discard(&srv->mm[i]);
		else
			mm_mem_release(&srv->mm[i]);
		mm_release(&srv->mm[i]);
	}
	if (srv->os.khugepaged)
		khugepaged_release(&srv->os);
	for (unsigned int c = 0; srv->held && c < srv->cfg.cores; c++) {
		if (srv->log.live)
			release_held(srv, c, 0);
		free(srv->held[c].ev);
	}
	free(srv->held);
	if (srv->log.live) {
		struct wl_error err;

		log_commit(srv, &err);	/* no one to tell: LOG_COMMIT is the way to hear */
	}
	if (srv->os.zone.pcp)
		mimicos_release(&srv->os);
	free(srv->mm);
	free(srv->mem);
	free(srv->mctx);
	free(srv);
}

int channel_server_create(struct channel_server **out, const struct channel_config *cfg)
{
	struct zone_config zc = {
		.size_bytes = cfg->mem_bytes, .start_pfn = cfg->start_pfn,
		.nr_cpus = cfg->cores, .thp_disabled = !hugepage_pmd_enabled(&cfg->thp),
	};
	struct khugepaged_trace kt;
	struct channel_server *srv;
	int err;

	*out = NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->mm = calloc(cfg->nr_mms, sizeof(*srv->mm));
	srv->mem = calloc(cfg->nr_mms, sizeof(*srv->mem));
	srv->mctx = calloc(cfg->nr_mms, sizeof(*srv->mctx));
	srv->held = calloc(cfg->cores, sizeof(*srv->held));
	if (!srv->mm || !srv->mem || !srv->mctx || !srv->held) {
		channel_server_destroy(srv);
		return -ENOMEM;
	}
	err = mimicos_init(&srv->os, &zc, &cfg->thp);
	if (!err)
		err = khugepaged_init(&srv->os);
	if (!err && !strcmp(cfg->policy, "reservation"))
		err = reservation_policy_install(&srv->os, &cfg->reservation);
	else if (!err && strcmp(cfg->policy, "linux"))
		err = -EINVAL;
	if (err) {
		channel_server_destroy(srv);
		return err;
	}
	srv->os.page_trace = (struct zone_trace){ .alloc = cb_zone_alloc, .free = cb_zone_free,
						  .refill = cb_zone_refill, .ctx = srv };
	srv->os.lru_trace = (struct lru_trace){ .move = cb_lru_move, .ctx = srv };
	kt = (struct khugepaged_trace){ .event = cb_khugepaged_event, .ctx = srv };
	khugepaged_set_trace(&srv->os, &kt);
	if (cfg->events_path[0]) {
		struct wl_error werr;

		if (evlog_create(&srv->log, cfg->events_path, NULL, &werr)) {
			channel_server_destroy(srv);
			return -EIO;
		}
		if (cfg->events_zstd && evlog_set_zstd(&srv->log, cfg->events_zstd, &werr)) {
			channel_server_destroy(srv);
			return -EINVAL;
		}
		srv->os.events = (struct mimicos_event_sink){ .event = cb_event, .ctx = srv };
	}
	srv->memmap_base = ((srv->os.zone.zone_start_pfn + srv->os.zone.spanned_pages) << PAGE_SHIFT);
	srv->memmap_base = (srv->memmap_base + KSTREAM_MEMMAP_ALIGN - 1) & ~(KSTREAM_MEMMAP_ALIGN - 1);
	srv->next_decay_ns = 1000000000ULL;
	for (unsigned int i = 0; i < cfg->nr_mms; i++) {
		struct mm_layout l;
		struct wl_rng rng;

		mm_layout_init(&l);
		wl_rng_seed(&rng, wl_rng_derive(cfg->seed, CHANNEL_MM_STREAM + i));
		mm_init(&srv->mm[i], &l, &rng);
		err = mm_mem_init(&srv->os, &srv->mm[i], &srv->mem[i], cfg->levels);
		if (err) {
			mm_release(&srv->mm[i]);
			channel_server_destroy(srv);
			return err;
		}
		srv->nr_mms++;
		khugepaged_mm_init(&srv->mm[i]);
		srv->mctx[i] = (struct mm_ctx){ srv, i };
		srv->mem[i].pgtable.trace = (struct pgtable_trace){
			.access = cb_pt_access, .zero = cb_pt_zero, .copy = cb_pt_copy,
			.ctx = &srv->mctx[i],
		};
		srv->mem[i].tlb = (struct mm_tlb_trace){ .flush = cb_tlb_flush, .ipi = cb_tlb_ipi,
							 .ctx = &srv->mctx[i] };
	}
	*out = srv;
	return 0;
}

/* Widen the changed range to [start, end). */
static void changed(struct mimicos_response *rs, uint64_t start, uint64_t end)
{
	if (start >= end)
		return;
	if (rs->changed_start >= rs->changed_end) {
		rs->changed_start = start;
		rs->changed_end = end;
		return;
	}
	if (start < rs->changed_start)
		rs->changed_start = start;
	if (end > rs->changed_end)
		rs->changed_end = end;
}

/* A VMA operation's range, plus the TLB ranges it reported in its mm. */
static void changed_vma_op(struct mimicos_response *rs, uint32_t mm, uint64_t start,
			   uint64_t len, bool touched)
{
	if (touched)
		changed(rs, start & PAGE_MASK, PAGE_ALIGN(start + len));
	for (uint32_t i = 0; i < rs->nr_tlb; i++)
		if (rs->tlb[i].mm == mm)
			changed(rs, rs->tlb[i].start, rs->tlb[i].end);
}

/* A fault's own flush (memory.c reports it in fault_result, not mm->tlb). */
static void fault_flush(struct channel_server *srv, uint32_t mm, const struct fault_result *fr)
{
	if (fr->tlb_flush && fr->start < fr->end)
		add_tlb(srv, mm, fr->start, fr->end);
}

/* __mm_populate() -> populate_vma_page_range(): fault in what is missing. */
static void populate(struct channel_server *srv, uint32_t idx, unsigned long start,
		     unsigned long len)
{
	struct mm_struct *mm = &srv->mm[idx];
	unsigned long addr = start, end = start + len;

	while (addr < end) {
		struct vm_area_struct *vma = vma_lookup(mm, addr);
		struct pgtable_walk w;
		struct fault_result fr;
		bool write;

		if (!vma || !(vma->vm_flags & VM_ACCESS_FLAGS))
			break;		/* check_vma_flags(): -EFAULT, ignored by mmap */
		write = (vma->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
		if (pgtable_walk(&srv->mem[idx].pgtable, addr, &w) &&
		    (!write || (w.entry & _PAGE_RW))) {
			addr = (addr & ~(unsigned long)(w.page_size - 1)) + w.page_size;
			continue;
		}
		handle_mm_fault(vma, addr, FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0), &fr);
		srv->cnt.faults++;
		srv->rs->nr_faults++;
		fault_flush(srv, idx, &fr);
		if (fr.ret & VM_FAULT_ERROR)
			break;
		if (pgtable_walk(&srv->mem[idx].pgtable, addr, &w) && (!write || (w.entry & _PAGE_RW)))
			addr = (addr & ~(unsigned long)(w.page_size - 1)) + w.page_size;
		else
			addr += PAGE_SIZE;	/* spurious: go on rather than loop */
	}
	changed_vma_op(srv->rs, idx, start, len, srv->cnt.faults > 0);
}

/* What the x86 walker reads for va, from cr3, by hardware rules. */
static void hw_walk(const struct mm_pgtable *pt, uint64_t va, struct mimicos_walk *w)
{
	uint64_t table = pt->cr3;

	for (int level = (int)pt->levels; level >= 1; level--) {
		unsigned int shift = PAGE_SHIFT + 9 * (unsigned int)(level - 1);
		uint64_t pa = table + ((va >> shift) & 511) * 8;
		uint64_t e = phys_read64(pt->physmem, pa);

		w->entry_pa[w->nr] = pa;
		w->entry[w->nr++] = e;
		if (!(e & _PAGE_PRESENT))
			return;
		if (level == 1 || ((level == 2 || level == 3) && (e & _PAGE_PSE))) {
			uint64_t size = 1ULL << shift;
			uint64_t mask = level == 1 ? PTE_PFN_MASK : level == 2 ?
					PHYSICAL_PMD_PAGE_MASK : PHYSICAL_PUD_PAGE_MASK;

			w->mapped = 1;
			w->page_size = size;
			w->pa = (e & mask) | (va & (size - 1));
			return;
		}
		table = e & PTE_PFN_MASK;
	}
}

static uint64_t cost_of(const struct kstream_cost *c, uint32_t type, const struct op_counts *n)
{
	uint64_t base;

	switch (type) {
	case MIMICOS_REQ_FAULT:		base = c->fault; break;
	case MIMICOS_REQ_MMAP:		base = c->mmap; break;
	case MIMICOS_REQ_MUNMAP:	base = c->munmap; break;
	case MIMICOS_REQ_MPROTECT:	base = c->mprotect; break;
	case MIMICOS_REQ_MADVISE:	base = c->madvise; break;
	case MIMICOS_REQ_ADVANCE:
	case MIMICOS_REQ_KHUGEPAGED_WAIT: base = c->advance; break;
	default:			base = 0; break;
	}
	return base + c->entry_read * n->reads + c->entry_write * n->writes +
	       c->page_alloc * n->allocs + c->page_free * n->frees +
	       c->zero_page * n->zero_pages + c->copy_page * n->copy_pages +
	       c->tlb_flush * n->tlb +
	       c->pcp_refill * n->refills + c->pcp_refill_block * n->refill_blocks +
	       c->lru_add * n->lru_moves +
	       c->khugepaged_pass * n->passes + c->khugepaged_event * n->events +
	       c->fault * n->faults;
}

/* The clock moves to now_ns: vmstat_update()'s decay_pcp_high() once a second per CPU. */
static void set_clock(struct channel_server *srv, uint64_t now_ns)
{
	srv->now_ns = now_ns;
	for (; srv->next_decay_ns <= now_ns; srv->next_decay_ns += 1000000000ULL)
		for (unsigned int cpu = 0; cpu < srv->os.zone.nr_cpus; cpu++)
			decay_pcp_high(&srv->os.zone, cpu);
}

static int do_advance(struct channel_server *srv, uint64_t now_ns)
{
	if (now_ns < srv->now_ns)
		return -EINVAL;
	srv->rs->passes = khugepaged_advance(&srv->os, now_ns);
	srv->cnt.passes = srv->rs->passes;
	set_clock(srv, now_ns);
	return 0;
}

/* The workload format's khugepaged_wait, from the last ADVANCE's time. */
static int do_khugepaged_wait(struct channel_server *srv, unsigned int full_scans,
			      uint64_t timeout_ns, uint64_t start_ns)
{
	uint64_t now = start_ns > srv->now_ns ? start_ns : srv->now_ns;
	uint64_t passes = khugepaged_stats(&srv->os)->passes;
	bool done = khugepaged_wait_full_scans(&srv->os, &now, full_scans, timeout_ns);

	srv->rs->passes = (uint32_t)(khugepaged_stats(&srv->os)->passes - passes);
	srv->cnt.passes = srv->rs->passes;
	srv->rs->u.wait.now_ns = now;
	set_clock(srv, now);
	return done ? 0 : -ETIMEDOUT;
}

_Static_assert(sizeof(struct mimicos_backing) <= sizeof(((struct mimicos_response *)0)->u.stats),
	       "BACKING's answer must not make every response bigger");

/* The classes of [addr, end) page by page, as runs, until the response is full. */
static void page_runs(struct mm_struct *mm, uint64_t addr, uint64_t end,
		      struct mimicos_backing *b)
{
	struct mimicos_page_run *last = NULL;
	uint64_t va;

	for (va = addr; va < end; va += PAGE_SIZE) {
		uint8_t c = (uint8_t)mm_page_class(mm, va);

		if (last && last->cls == c && last->pages < UINT32_MAX) {
			last->pages++;
			continue;
		}
		if (b->nr == MIMICOS_BACKING_RUNS)
			break;
		last = &b->run[b->nr++];
		*last = (struct mimicos_page_run){ .pages = 1, .cls = c };
	}
	b->end = va;
}

/* The core's thread runs (again) in mm 'idx': switch_mm() unless it already does. */
static void run_again(struct channel_server *srv, uint32_t idx)
{
	struct cpu_tlbstate *c = &srv->os.cpus[srv->os.cpu];

	if (c->loaded_mm != &srv->mem[idx] || c->is_lazy)
		switch_mm(&srv->os, srv->os.cpu, &srv->mem[idx], c->task);
}

static int32_t do_request(struct channel_server *srv, const struct mimicos_request *rq)
{
	struct mimicos_response *rs = srv->rs;
	uint32_t idx = rq->mm;
	struct mm_struct *mm = &srv->mm[idx];
	struct fault_result fr;
	unsigned long out;
	unsigned int flags;
	int ret;

	/* only a running thread faults or makes a system call */
	if (rq->type <= MIMICOS_REQ_MADVISE || (rq->type == MIMICOS_REQ_ADVANCE && rq->len != 1))
		run_again(srv, idx);
	switch (rq->type) {
	case MIMICOS_REQ_FAULT:
		if (rq->access > MIMICOS_ACCESS_EXEC)
			return -EINVAL;
		flags = rq->flags & MIMICOS_FAULT_KERNEL ? 0 : FAULT_FLAG_USER;
		if (rq->flags & MIMICOS_FAULT_RACED)
			flags |= FAULT_FLAG_RACED;
		if (rq->access == MIMICOS_ACCESS_WRITE)
			flags |= FAULT_FLAG_WRITE;
		else if (rq->access == MIMICOS_ACCESS_EXEC)
			flags |= FAULT_FLAG_INSTRUCTION;
		do_user_addr_fault(mm, rq->addr, flags, &fr);
		rs->page_size = fr.page_size;
		rs->pfn = fr.pfn == PFN_NONE ? UINT64_MAX : fr.pfn;
		rs->order = fr.order;
		rs->zero_page = fr.zero_page;
		changed(rs, fr.start, fr.end);
		fault_flush(srv, idx, &fr);
		return (int32_t)fr.ret;
	case MIMICOS_REQ_MMAP:
		ret = do_mmap(mm, rq->addr, rq->len, rq->prot, rq->flags & ~(uint32_t)MAP_POPULATE, &out);
		syscall_event(srv, rq, ret ? ret : (int64_t)out);
		if (ret)
			return ret;
		rs->addr = out;
		if (rq->flags & MAP_POPULATE)
			populate(srv, idx, out, rq->len);
		return 0;
	case MIMICOS_REQ_MUNMAP:
		ret = do_munmap(mm, rq->addr, rq->len);
		syscall_event(srv, rq, ret);
		changed_vma_op(rs, idx, rq->addr, rq->len, !ret);
		return ret;
	case MIMICOS_REQ_MPROTECT:
		ret = do_mprotect(mm, rq->addr, rq->len, rq->prot);
		syscall_event(srv, rq, ret);
		changed_vma_op(rs, idx, rq->addr, rq->len, !ret || ret == -ENOMEM);
		return ret;
	case MIMICOS_REQ_MADVISE:
		ret = do_madvise(mm, rq->addr, rq->len, rq->advice);
		syscall_event(srv, rq, ret);
		changed_vma_op(rs, idx, rq->addr, rq->len, (!ret || ret == -ENOMEM) &&
			       (rq->advice == MADV_DONTNEED || rq->advice == MADV_COLLAPSE));
		return ret;
	case MIMICOS_REQ_ADVANCE:
		if (rq->len != 1)
			return do_advance(srv, rq->now_ns);
		/* the workload sleeps meanwhile: its CPU is lazy, and runs it again after */
		enter_lazy_tlb(&srv->os, srv->os.cpu);
		ret = do_advance(srv, rq->now_ns);
		run_again(srv, idx);
		return ret;
	case MIMICOS_REQ_KHUGEPAGED_WAIT:
		enter_lazy_tlb(&srv->os, srv->os.cpu);	/* the workload waits, blocked */
		ret = do_khugepaged_wait(srv, (unsigned int)rq->addr, rq->len, rq->now_ns);
		run_again(srv, idx);
		return ret;
	case MIMICOS_REQ_SWITCH_MM:
		if (rq->len > 1 || rq->addr >= MIMICOS_TID_NONE)
			return -EINVAL;
		if (rq->len)
			switch_mm(&srv->os, srv->os.cpu, &srv->mem[idx], (uint32_t)rq->addr);
		else
			enter_lazy_tlb(&srv->os, srv->os.cpu);
		return 0;
	case MIMICOS_REQ_CLASSES:
		mm_page_classes(mm, rq->addr, rq->len, rs->u.classes.pages);
		return 0;
	case MIMICOS_REQ_QUERY:
		rs->u.query.cr3 = srv->mem[idx].pgtable.cr3;
		rs->u.query.levels = srv->mem[idx].pgtable.levels;
		rs->u.query.nr_cpus = srv->os.zone.nr_cpus;
		rs->u.query.memmap_base = srv->memmap_base;
		rs->u.query.zone_start_pfn = srv->os.zone.zone_start_pfn;
		rs->u.query.zone_pages = srv->os.zone.spanned_pages;
		rs->u.query.mmap_base = mm->mmap_base;
		return 0;
	case MIMICOS_REQ_WALK:
		hw_walk(&srv->mem[idx].pgtable, rq->addr, &rs->u.walk);
		return 0;
	case MIMICOS_REQ_PHYS_READ:
		if (rq->addr & 7)
			return -EINVAL;
		rs->addr = phys_read64(&srv->os.physmem, rq->addr);
		return 0;
	case MIMICOS_REQ_PHASE:
		srv->os.phase = (int16_t)(int64_t)rq->addr;
		srv->os.cpus[srv->os.cpu].phase = srv->os.phase;
		return 0;
	case MIMICOS_REQ_BACKING:
		if ((rq->addr | rq->len) & ~PAGE_MASK || rq->addr + rq->len < rq->addr)
			return -EINVAL;
		page_runs(mm, rq->addr, rq->addr + rq->len, &rs->u.backing);
		return 0;
	case MIMICOS_REQ_FAULT_LATENCY:
		return 0;	/* channel_server_execute() gave the held record its latency */
	case MIMICOS_REQ_LOG_COMMIT: {
		struct wl_error err = { 0 };

		if (!srv->log.live)
			return 0;
		for (unsigned int c = 0; srv->held && c < srv->cfg.cores; c++)
			release_held(srv, c, 0);
		srv->holding = NULL;
		srv->os.events.event = NULL;	/* nothing logs after the log is out */
		if (!log_commit(srv, &err))
			return 0;
		if (snprintf(rs->u.log.error, sizeof(rs->u.log.error), "%s%s%s", err.path,
			     err.path[0] ? ": " : "", err.msg) >= (int)sizeof(rs->u.log.error))
			memcpy(rs->u.log.error + sizeof(rs->u.log.error) - 4, "...", 4);
		return -EIO;
	}
	case MIMICOS_REQ_STATS:
		rs->u.stats.ev = srv->os.ev;
		rs->u.stats.khugepaged = *khugepaged_stats(&srv->os);
		rs->u.stats.rss_anon = get_mm_counter(mm, MM_ANONPAGES);
		rs->u.stats.pgtables_bytes = srv->mem[idx].pgtable.pgtables_bytes;
		rs->u.stats.nr_free_pages = srv->os.zone.nr_free_pages;
		rs->u.stats.now_ns = srv->now_ns;
		if (reservation_policy_stats(&srv->os))
			rs->u.stats.reservation = *reservation_policy_stats(&srv->os);
		return 0;
	}
	return -EINVAL;
}

bool mimicos_response_equal(const struct mimicos_response *a, const struct mimicos_response *b)
{
	uint32_t nt = a->nr_tlb < MIMICOS_TLB_MAX ? a->nr_tlb : MIMICOS_TLB_MAX;
	uint32_t ne = a->nr_events < MIMICOS_EVENTS_MAX ? a->nr_events : MIMICOS_EVENTS_MAX;

	return !memcmp(a, b, offsetof(struct mimicos_response, tlb)) &&
	       !memcmp(a->tlb, b->tlb, nt * sizeof(a->tlb[0])) &&
	       a->nr_events == b->nr_events && !memcmp(a->events, b->events, ne * sizeof(a->events[0])) &&
	       !memcmp(&a->insns, &b->insns, offsetof(struct mimicos_response, u) -
		       offsetof(struct mimicos_response, insns)) &&
	       ((a->type == MIMICOS_REQ_FAULT || a->type == MIMICOS_REQ_FAULT_LATENCY) ||
		!memcmp(&a->u, &b->u, sizeof(a->u)));
}

void channel_server_execute(struct channel_server *srv, unsigned int core,
			    const struct mimicos_request *rq, struct mimicos_response *rs,
			    channel_emit_fn fn, void *ctx)
{
	/*
	 * A response is 4 KiB, most of it arrays that their counts bound and a
	 * union the fault path leaves alone: zero what a reader may read
	 */
	memset(rs, 0, offsetof(struct mimicos_response, tlb));
	rs->nr_events = rs->reserved = 0;
	memset(&rs->insns, 0, offsetof(struct mimicos_response, u) -
	       offsetof(struct mimicos_response, insns));
	if (rq->type != MIMICOS_REQ_FAULT && rq->type != MIMICOS_REQ_FAULT_LATENCY)
		memset(&rs->u, 0, sizeof(rs->u));
	rs->type = rq->type;
	rs->pfn = UINT64_MAX;
	rs->order = -1;
	/*
	 * The core's last fault is over once its latency comes, or once the
	 * core asks for something that may log (its records go first, untimed).
	 * Look-ups (a walk, a phys read...) log nothing and leave them waiting.
	 */
	if (srv->held[core].nr && rq->type == MIMICOS_REQ_FAULT_LATENCY)
		release_held(srv, core, rq->addr);
	else if (srv->held[core].nr && rq->type <= MIMICOS_REQ_KHUGEPAGED_WAIT)
		release_held(srv, core, 0);
	if (rq->type >= MIMICOS_REQ_NR || rq->mm >= srv->nr_mms) {
		rs->result = -EINVAL;
		return;
	}
	srv->rs = rs;
	srv->cnt = (struct op_counts){ 0 };
	srv->emit = fn;
	srv->emit_ctx = ctx;
	srv->os.cpu = core;
	for (unsigned int i = 0; i < srv->nr_mms; i++)
		srv->mem[i].pgtable.cpu = core;
	/*
	 * What a fault or system call logs carries the caller's time, never
	 * earlier than the kernel's clock; only the event clock moves
	 * (khugepaged and the per-cpu decay keep srv->now_ns's).
	 */
	if (rq->type <= MIMICOS_REQ_MADVISE)
		srv->os.now_ns = rq->now_ns > srv->now_ns ? rq->now_ns : srv->now_ns;
	/* a fault's records wait for the latency the caller will time (FAULT_LATENCY) */
	if (rq->type == MIMICOS_REQ_FAULT && srv->log.live)
		srv->holding = &srv->held[core];
	rs->result = do_request(srv, rq);
	srv->holding = NULL;
	rs->next_wake_ns = khugepaged_next_wakeup(&srv->os);
	if (rq->type <= MIMICOS_REQ_KHUGEPAGED_WAIT) {
		uint64_t left = rs->insns = cost_of(&srv->cfg.cost, rq->type, &srv->cnt);

		do {
			uint32_t n = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;

			emit(srv, 0, n, KSTREAM_INSNS, KSTREAM_SRC_CODE);
			left -= n;
		} while (left);
	}
	srv->rs = NULL;
	srv->emit = NULL;
}

/* ---- in-process mode ------------------------------------------------------ */

struct inproc_sink {
	struct kstream *ks;
	int err;
};

static void inproc_emit(void *ctx, const struct kstream_rec *r)
{
	struct inproc_sink *s = ctx;

	if (!s->err)
		s->err = kstream_push(s->ks, r);
}

static int inproc_open(struct mimicos_channel *ch)
{
	int err = channel_server_create(&ch->srv, &ch->cfg);

	if (!err)
		pthread_mutex_init(&ch->lock, NULL);
	return err;
}

static int inproc_request(struct mimicos_channel *ch, unsigned int core,
			  const struct mimicos_request *rq, struct mimicos_response *rs,
			  struct kstream *ks)
{
	struct inproc_sink sink = { .ks = ks };

	pthread_mutex_lock(&ch->lock);
	channel_server_execute(ch->srv, core, rq, rs, ks ? inproc_emit : NULL, &sink);
	pthread_mutex_unlock(&ch->lock);
	return sink.err;
}

static void inproc_close(struct mimicos_channel *ch)
{
	channel_server_destroy(ch->srv);
	ch->srv = NULL;
	pthread_mutex_destroy(&ch->lock);
}

static const struct channel_ops inproc_ops = {
	.name = "in-process",
	.open = inproc_open,
	.request = inproc_request,
	.close = inproc_close,
};

/* ---- the API ---------------------------------------------------------------- */

int channel_open(struct mimicos_channel *ch, const struct channel_config *cfg)
{
	int err;

	memset(ch, 0, sizeof(*ch));
	if (cfg->cores < 1 || cfg->cores > CHANNEL_MAX_CORES || cfg->nr_mms < 1 ||
	    cfg->nr_mms > CHANNEL_MAX_MMS || (cfg->levels != 4 && cfg->levels != 5) ||
	    cfg->stream_ring_records < 16 ||
	    (cfg->stream_ring_records & (cfg->stream_ring_records - 1)))
		return -EINVAL;
	if (cfg->mode == CHANNEL_IN_PROCESS)
		ch->ops = &inproc_ops;
	else if (cfg->mode == CHANNEL_OUT_OF_PROCESS)
		ch->ops = &channel_oop_ops;
	else
		return -EINVAL;
	ch->cfg = *cfg;
	err = ch->ops->open(ch);
	if (err)
		ch->ops = NULL;
	return err;
}

int channel_request(struct mimicos_channel *ch, unsigned int core,
		    const struct mimicos_request *rq, struct mimicos_response *rs,
		    struct kstream *ks)
{
	if (!ch->ops || !rq || !rs || core >= ch->cfg.cores)
		return -EINVAL;
	if (ks)
		ks->nr = 0;
	return ch->ops->request(ch, core, rq, rs, ks);
}

void channel_discard(struct mimicos_channel *ch)
{
	if (ch->ops == &inproc_ops && ch->srv)
		ch->srv->discard = true;
	channel_close(ch);
}

void channel_close(struct mimicos_channel *ch)
{
	if (ch->ops)
		ch->ops->close(ch);
	ch->ops = NULL;
}

struct mimicos *channel_mimicos(struct mimicos_channel *ch)
{
	return ch->srv ? &ch->srv->os : NULL;
}

static uint64_t phys_reader_read64(void *ctx, uint64_t paddr)
{
	return phys_read64(ctx, paddr);
}

static void phys_reader_prefetch(void *ctx, uint64_t paddr)
{
	phys_prefetch(ctx, paddr);
}

int channel_phys_reader(struct mimicos_channel *ch, struct channel_phys_reader *r)
{
	if (!ch->srv)
		return -EOPNOTSUPP;
	r->read64 = phys_reader_read64;
	r->prefetch = phys_reader_prefetch;
	r->ctx = &ch->srv->os.physmem;
	return 0;
}
