/*
 * functional.c - a spec's stream through MimicOS, no timing (functional.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mimicos/mmap.h"
#include "simulator/functional.h"
#include "workload/gen.h"
#include "workload/prng.h"
#include "workload/side.h"

#define FUNCTIONAL_BATCH 1024
#define FUNCTIONAL_MM_STREAM 0x6d6d5f6c61796f75ULL	/* "mm_layou": placement's rng stream */
#define ZONE_ALIGN (4ULL << 20)
#define ZONE_MAX (1ULL << 40)

struct functional_state {
	struct functional_run *run;
	struct wl_error *err;
	struct mimicos os;
	struct mm_struct mm;
	struct mm_mem mem;
	long phase;		/* -1 during setup */
	uint64_t now_ns;	/* simulated time */
};

void functional_opts_init(struct functional_opts *o)
{
	memset(o, 0, sizeof(*o));
}

uint64_t functional_host_mem_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t b;

	if (pages <= 0 || psz <= 0)
		return 1ULL << 30;
	b = (uint64_t)pages * (uint64_t)psz;
	if (b > ZONE_MAX)
		b = ZONE_MAX;
	b &= ~(ZONE_ALIGN - 1);
	return b ? b : ZONE_ALIGN;
}

_Static_assert((int)MM_PAGE_NONE == (int)SIDE_NONE && (int)MM_PAGE_ZERO == (int)SIDE_ZERO && (int)MM_PAGE_PTE == (int)SIDE_PTE &&
	       (int)MM_PAGE_PMD == (int)SIDE_PMD && (int)MM_PAGE_NR == (int)SIDE_PAGE_NR, "page classes out of step");

/* "phases[N]" inside a phase, "regions[N]" during setup. */
static const char *where(const struct functional_state *st, uint32_t region,
			 char *buf, size_t len)
{
	if (st->phase >= 0)
		snprintf(buf, len, "phases[%ld]", st->phase);
	else
		snprintf(buf, len, "regions[%" PRIu32 "]", region);
	return buf;
}

static int fail(struct functional_state *st, uint32_t region, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct functional_state *st, uint32_t region, const char *fmt, ...)
{
	char path[48], msg[sizeof(st->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return wl_error_set(st->err, st->run->spec->file, where(st, region, path, sizeof(path)),
			    "%s", msg);
}

/* Mark the run incomplete: "phases[N]: <why>". */
static int incomplete(struct functional_state *st, uint32_t region, const char *why)
{
	struct functional_run *run = st->run;
	char path[48], line[256], **r;

	snprintf(line, sizeof(line), "%s: %s", where(st, region, path, sizeof(path)), why);
	run->complete = false;
	r = realloc(run->reasons, (run->nr_reasons + 1) * sizeof(*r));
	if (!r)
		return fail(st, region, "out of memory");
	run->reasons = r;
	if (!(r[run->nr_reasons] = strdup(line)))
		return fail(st, region, "out of memory");
	run->nr_reasons++;
	return 0;
}

/* ---- kernel settings ------------------------------------------------------ */

/* Settings the spec leaves to the host: from 'host' where it has them, then sysfs. */
static int resolve_kernel(struct functional_run *run, const struct functional_opts *o,
			  struct wl_error *err)
{
	struct wl_kernel *k = &run->kernel;
	const struct wl_kernel *h = o->host;

	*k = run->spec->kernel;
	if (h) {
		if (k->thp == WL_THP_HOST)
			k->thp = h->thp;
		if (k->defrag == WL_DEFRAG_HOST)
			k->defrag = h->defrag;
		if (k->use_zero_page < 0)
			k->use_zero_page = h->use_zero_page;
		for (int i = 0; i < WL_MTHP_NR; i++)
			if (k->mthp[i] == WL_MTHP_HOST)
				k->mthp[i] = h->mthp[i];
		for (int i = 0; i < WL_KHP_NR; i++)
			if (k->khugepaged[i] < 0)
				k->khugepaged[i] = h->khugepaged[i];
	}
	return wl_kernel_resolve(k, o->thp_root ? o->thp_root : WL_THP_SYSFS, err);
}

/* ---- setup and range ops ---------------------------------------------------- */

/*
 * populate_vma_page_range() -> __get_user_pages(FOLL_WRITE): fault in what
 * is not mapped writable, one PMD at a time over a huge mapping.
 */
static int populate(struct functional_state *st, uint32_t region, unsigned long start,
		    unsigned long len)
{
	struct functional_region *r = &st->run->regions[region];
	unsigned long addr = start, end = start + len;

	while (addr < end) {
		struct pgtable_walk w;
		struct fault_result fr;
		struct vm_area_struct *vma;

		if (pgtable_walk(&st->mem.pgtable, addr, &w) && (w.entry & _PAGE_RW)) {
			addr = (addr & ~(unsigned long)(w.page_size - 1)) + w.page_size;
			continue;
		}
		vma = vma_lookup(&st->mm, addr);
		if (handle_mm_fault(vma, addr, FAULT_FLAG_WRITE, &fr) & VM_FAULT_ERROR)
			return fail(st, region, "MAP_POPULATE: fault at offset 0x%lx failed (0x%x)",
				    addr - start, fr.ret);
		r->populate_faults++;
		if (!pgtable_walk(&st->mem.pgtable, addr, &w) || !(w.entry & _PAGE_RW))
			return fail(st, region, "MAP_POPULATE: offset 0x%lx still not writable "
				    "after a fault", addr - start);
	}
	return 0;
}

static int do_map(struct functional_state *st, const struct wl_op *op,
		  const struct functional_opts *o)
{
	struct functional_region *r = &st->run->regions[op->region];
	unsigned long flags = MAP_PRIVATE | MAP_ANONYMOUS, hint = 0, addr;
	int ret;

	if (o->region_start && o->region_start[op->region]) {
		hint = o->region_start[op->region];
		flags |= MAP_FIXED_NOREPLACE;
	}
	ret = do_mmap(&st->mm, hint, op->arg, PROT_READ | PROT_WRITE, flags, &addr);
	if (ret)
		return fail(st, op->region, "mmap(0x%lx, %" PRIu64 ") failed: %s",
			    hint, op->arg, strerror(-ret));
	r->start = addr;
	r->size = op->arg;
	if (op->flags & WL_MAP_POPULATE)
		return populate(st, op->region, addr, op->arg);
	return 0;
}

static int op_madvise(struct functional_state *st, const struct wl_op *op)
{
	static const struct { int advice; const char *name; } map[] = {
		[WL_ADV_DONTNEED]	= { MADV_DONTNEED, "dontneed" },
		[WL_ADV_HUGEPAGE]	= { MADV_HUGEPAGE, "hugepage" },
		[WL_ADV_NOHUGEPAGE]	= { MADV_NOHUGEPAGE, "nohugepage" },
		[WL_ADV_COLLAPSE]	= { MADV_COLLAPSE, "collapse" },
	};
	const struct mm_hooks *h = &st->mm.hooks;
	char why[128];
	int ret;

	if (op->flags >= sizeof(map) / sizeof(map[0]))
		return fail(st, op->region, "madvise: unknown advice %u", op->flags);
	/* do_madvise() treats a missing hook as done: say it was not. */
	if ((op->flags == WL_ADV_DONTNEED && !h->madvise_dontneed) ||
	    (op->flags == WL_ADV_COLLAPSE && !h->madvise_collapse)) {
		snprintf(why, sizeof(why), "madvise(%s) is not implemented in MimicOS yet; skipped",
			 map[op->flags].name);
		return incomplete(st, op->region, why);
	}
	ret = do_madvise(&st->mm, st->run->regions[op->region].start + op->off, op->arg,
			 map[op->flags].advice);
	if (ret == -EOPNOTSUPP || ret == -ENOSYS) {
		snprintf(why, sizeof(why), "madvise(%s) is not implemented in MimicOS yet (%s)",
			 map[op->flags].name, strerror(-ret));
		return incomplete(st, op->region, why);
	}
	if (ret && op->flags == WL_ADV_COLLAPSE) {
		/* native.c records a failed collapse, not an error */
		if (st->phase >= 0)
			st->run->phases[st->phase].collapse_errno = -ret;
		return 0;
	}
	if (ret)
		return fail(st, op->region, "madvise(%s) failed: %s", map[op->flags].name,
			    strerror(-ret));
	return 0;
}

static int op_mprotect(struct functional_state *st, const struct wl_op *op)
{
	static const unsigned long prot[] = {
		[WL_PROT_NONE] = PROT_NONE, [WL_PROT_R] = PROT_READ,
		[WL_PROT_RW] = PROT_READ | PROT_WRITE,
	};
	int ret;

	if (op->flags >= sizeof(prot) / sizeof(prot[0]))
		return fail(st, op->region, "mprotect: unknown prot %u", op->flags);
	if (!st->mm.hooks.change_protection)
		return incomplete(st, op->region, "mprotect of mapped memory (change_protection) "
				  "is not implemented in MimicOS yet; skipped");
	ret = do_mprotect(&st->mm, st->run->regions[op->region].start + op->off, op->arg,
			  prot[op->flags]);
	if (ret == -EOPNOTSUPP || ret == -ENOSYS)
		return incomplete(st, op->region, "mprotect is not implemented in MimicOS yet");
	if (ret)
		return fail(st, op->region, "mprotect failed: %s", strerror(-ret));
	return 0;
}

static int op_munmap(struct functional_state *st, const struct wl_op *op)
{
	int ret;

	/* Without the hook the tables under the range would outlive it (memory.h). */
	if (!st->mm.hooks.unmap_range)
		return incomplete(st, op->region, "munmap of mapped memory (unmap_range) is not "
				  "implemented in MimicOS yet; skipped");
	ret = do_munmap(&st->mm, st->run->regions[op->region].start + op->off, op->arg);
	if (ret == -EOPNOTSUPP || ret == -ENOSYS)
		return incomplete(st, op->region, "munmap is not implemented in MimicOS yet");
	if (ret)
		return fail(st, op->region, "munmap failed: %s", strerror(-ret));
	return 0;
}

/* ---- accesses ------------------------------------------------------------------ */

/*
 * The MMU's view: a present leaf, writable for a store, needs no fault.
 * Otherwise the fault path decides (it may also find the fault spurious).
 */
static int op_access(struct functional_state *st, const struct wl_op *op)
{
	struct functional_run *run = st->run;
	struct functional_region *r = &run->regions[op->region];
	struct functional_phase *ph = st->phase >= 0 ? &run->phases[st->phase] : NULL;
	unsigned long addr = r->start + op->off;
	bool write = op->flags & WL_ACC_WRITE;
	unsigned int flags = FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
	struct pgtable_walk w;
	struct fault_result fr;
	vm_fault_t ret;

	if (ph)
		ph->accesses++;
	if (pgtable_walk(&st->mem.pgtable, addr, &w) && (!write || (w.entry & _PAGE_RW)))
		return 0;
	ret = do_user_addr_fault(&st->mm, addr, flags, &fr);
	r->faults++;
	if (write)
		r->write_faults++;
	if (ph)
		ph->faults++;
	if (ret & VM_FAULT_ERROR)
		return fail(st, op->region, "%s at offset 0x%" PRIx64 " of regions[%" PRIu32 "]: %s",
			    write ? "store" : "load", op->off, op->region,
			    ret & VM_FAULT_SIGSEGV ? "SIGSEGV" : ret & VM_FAULT_SIGBUS ?
			    "SIGBUS" : "out of memory");
	if (fr.order >= 0 && fr.order < NR_PAGE_ORDERS)
		r->alloc_orders[fr.order]++;
	if (fr.page_size == PMD_SIZE && fr.order >= 0) {
		r->thp_faults++;
		if (ph)
			ph->thp_faults++;
	}
	return 0;
}

/* ---- phases ------------------------------------------------------------------- */

static void classify(struct functional_state *st, uint64_t (*pages)[MM_PAGE_NR])
{
	const struct wl_spec *s = st->run->spec;

	for (size_t i = 0; i < s->nr_regions; i++) {
		const struct functional_region *r = &st->run->regions[i];

		memset(pages[i], 0, sizeof(pages[i]));
		if (r->size)
			mm_page_classes(&st->mm, r->start, r->size, pages[i]);
		else
			pages[i][MM_PAGE_NONE] = s->regions[i].size / PAGE_SIZE;
	}
}

static int run_op(struct functional_state *st, const struct wl_op *op,
		  const struct functional_opts *o)
{
	const struct wl_spec *s = st->run->spec;

	khugepaged_advance(&st->os, st->now_ns);	/* the passes due by now */
	switch (op->type) {
	case WL_OP_MAP:
		return do_map(st, op, o);
	case WL_OP_MADVISE:
		return op_madvise(st, op);
	case WL_OP_MPROTECT:
		return op_mprotect(st, op);
	case WL_OP_MUNMAP:
		return op_munmap(st, op);
	case WL_OP_ACCESS:
		return op_access(st, op);
	case WL_OP_KHUGEPAGED_WAIT:
		if (!khugepaged_wait_full_scans(&st->os, &st->now_ns, (unsigned int)op->arg,
						op->off * 1000000ULL)) {
			if (st->phase >= 0)
				st->run->phases[st->phase].timed_out = true;
			return incomplete(st, 0, "khugepaged_wait timed out");
		}
		return 0;
	case WL_OP_SLEEP:
		st->now_ns += op->arg * 1000000ULL;
		khugepaged_advance(&st->os, st->now_ns);
		return 0;
	case WL_OP_PHASE_BEGIN:
		if (op->arg >= s->nr_phases)
			return wl_error_set(st->err, s->file, "", "generator emitted phase %"
					    PRIu64 " of %zu", op->arg, s->nr_phases);
		st->phase = (long)op->arg;
		st->run->phases[st->phase].start_ns = st->now_ns;
		return 0;
	case WL_OP_PHASE_END:
		if (st->phase < 0 || (uint64_t)st->phase != op->arg)
			return wl_error_set(st->err, s->file, "", "generator ended phase %"
					    PRIu64 " outside it", op->arg);
		classify(st, st->run->phases[st->phase].pages);
		st->run->phases[st->phase].runtime_ns = st->now_ns - st->run->phases[st->phase].start_ns;
		st->phase = -1;
		return 0;
	default:
		return wl_error_set(st->err, s->file, "", "generator emitted unknown op type %u",
				    op->type);
	}
}

/* ---- the API -------------------------------------------------------------------- */

/* khugepaged's scans and collapses, counted as the Linux side counts them. */
static void khugepaged_event(void *ctx, const struct khugepaged_event *ev)
{
	struct functional_state *st = ctx;
	struct functional_run *run = st->run;

	if (ev->type == KHUGEPAGED_EV_SCAN_PMD) {
		run->scan_status[ev->status]++;
		return;
	}
	run->collapse_status[ev->status]++;
	if (ev->status != SCAN_SUCCEED)
		return;
	for (size_t i = 0; i < run->spec->nr_regions; i++) {
		struct functional_region *r = &run->regions[i];

		if (ev->address >= r->start && ev->address < r->start + r->size)
			r->collapses++;
	}
}

static int boot(struct functional_state *st, const struct thp_settings *thp)
{
	struct functional_run *run = st->run;
	struct zone_config zc = { .size_bytes = run->mem_bytes, .nr_cpus = 1 };
	struct mm_layout l;
	struct wl_rng rng;
	int ret;

	ret = mimicos_init(&st->os, &zc, thp);
	if (ret)
		return wl_error_set(st->err, run->spec->file, "", "MimicOS with a %" PRIu64
				    "-byte zone: %s", run->mem_bytes, strerror(-ret));
	mm_layout_init(&l);
	wl_rng_seed(&rng, wl_rng_derive(run->spec->seed, FUNCTIONAL_MM_STREAM));
	mm_init(&st->mm, &l, &rng);
	ret = khugepaged_init(&st->os);
	if (!ret)
		ret = mm_mem_init(&st->os, &st->mm, &st->mem, 4);
	if (ret) {
		mm_release(&st->mm);
		khugepaged_release(&st->os);
		mimicos_release(&st->os);
		return wl_error_set(st->err, run->spec->file, "", "MimicOS mm: %s",
				    strerror(-ret));
	}
	khugepaged_mm_init(&st->mm);
	khugepaged_set_trace(&st->os, &(struct khugepaged_trace){ .event = khugepaged_event,
								  .ctx = st });
	return 0;
}

int functional_run(struct functional_run *run, const struct wl_spec *s,
		   const struct functional_opts *o, struct wl_error *err)
{
	struct functional_opts defaults;
	struct functional_state *st;
	struct thp_settings thp;
	struct wl_op buf[FUNCTIONAL_BATCH];
	struct wl_gen g;
	size_t n;
	int ret = 0;

	if (!o) {
		functional_opts_init(&defaults);
		o = &defaults;
	}
	memset(run, 0, sizeof(*run));
	run->spec = s;
	run->mem_bytes = o->mem_bytes ? o->mem_bytes : functional_host_mem_bytes();
	if (resolve_kernel(run, o, err))
		return -1;
	if (thp_settings_from_spec(&thp, &run->kernel, NULL))
		return wl_error_set(err, s->file, "kernel",
				    "settings MimicOS cannot take (thp_settings_from_spec)");
	run->regions = calloc(s->nr_regions ? s->nr_regions : 1, sizeof(*run->regions));
	run->phases = calloc(s->nr_phases ? s->nr_phases : 1, sizeof(*run->phases));
	if (!run->regions || !run->phases)
		return wl_error_set(err, s->file, "", "out of memory");
	for (size_t i = 0; i < s->nr_phases; i++) {
		run->phases[i].pages = calloc(s->nr_regions ? s->nr_regions : 1,
					      sizeof(*run->phases[i].pages));
		if (!run->phases[i].pages)
			return wl_error_set(err, s->file, "", "out of memory");
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return wl_error_set(err, s->file, "", "out of memory");
	st->run = run;
	st->err = err;
	st->phase = -1;
	if (boot(st, &thp)) {
		free(st);
		return -1;
	}
	run->complete = true;

	wl_gen_init(&g, s);
	while (!ret && (n = wl_gen_next(&g, buf, FUNCTIONAL_BATCH)) > 0)
		for (size_t i = 0; i < n && !ret; i++)
			ret = run_op(st, &buf[i], o);
	if (!ret) {
		uint64_t (*pages)[MM_PAGE_NR] = calloc(s->nr_regions ? s->nr_regions : 1,
						       sizeof(*pages));

		if (!pages) {
			ret = wl_error_set(err, s->file, "", "out of memory");
		} else {
			classify(st, pages);
			for (size_t i = 0; i < s->nr_regions; i++)
				memcpy(run->regions[i].pages, pages[i], sizeof(pages[i]));
			free(pages);
		}
	}
	run->ev = st->os.ev;
	run->khugepaged = *khugepaged_stats(&st->os);
	run->runtime_ns = st->now_ns;
	khugepaged_exit(&st->mm);
	mm_mem_release(&st->mm);
	mm_release(&st->mm);
	khugepaged_release(&st->os);
	mimicos_release(&st->os);
	free(st);
	return ret ? -1 : 0;
}

void functional_release(struct functional_run *run)
{
	if (run->phases && run->spec)
		for (size_t i = 0; i < run->spec->nr_phases; i++)
			free(run->phases[i].pages);
	for (size_t i = 0; i < run->nr_reasons; i++)
		free(run->reasons[i]);
	free(run->reasons);
	free(run->regions);
	free(run->phases);
	memset(run, 0, sizeof(*run));
}

/* ---- JSON: the one place a functional run is printed ----------------------------- */

static cJSON *scan_status_json(const uint64_t *counts)
{
	cJSON *o = cJSON_CreateObject();

	for (int i = 0; o && i < NR_SCAN_RESULTS; i++)
		if (counts[i])
			cJSON_AddNumberToObject(o, scan_result_name((enum scan_result)i),
						(double)counts[i]);
	return o;
}

/* The kernel block as the Linux side prints it: the spec's spelling, resolved. */
cJSON *functional_to_json(const struct functional_run *run)
{
	const struct wl_spec *s = run->spec;
	cJSON *root = cJSON_CreateObject(), *regions, *phases, *a, *cfg, *ev, *kh;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "workload", s->name);
	cJSON_AddStringToObject(root, "side", "sim");
	cJSON_AddBoolToObject(root, "complete", run->complete);
	cJSON_AddNumberToObject(root, "dropped_events", 0);
	cJSON_AddStringToObject(root, "timing", "none");
	if (run->nr_reasons) {
		a = cJSON_AddArrayToObject(root, "incomplete_reasons");
		for (size_t i = 0; i < run->nr_reasons; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(run->reasons[i]));
	}
	cJSON_AddItemToObject(root, "kernel", side_kernel_json(s, &run->kernel));

	regions = cJSON_AddObjectToObject(root, "regions");
	for (size_t i = 0; i < s->nr_regions; i++) {
		const struct functional_region *r = &run->regions[i];
		const uint64_t *pg = r->pages;
		cJSON *j = cJSON_AddObjectToObject(regions, s->regions[i].name);

		side_region_fields(j, r->start, s->regions[i].size, r->faults, r->thp_faults, pg);
		cJSON_AddNumberToObject(j, "write_faults", (double)r->write_faults);
		cJSON_AddNumberToObject(j, "failed_faults", 0);
		cJSON_AddNumberToObject(j, "populate_faults", (double)r->populate_faults);
		cJSON_AddItemToObject(j, "fault_alloc_orders", side_orders_json(r->alloc_orders, NR_PAGE_ORDERS));
		cJSON_AddNumberToObject(j, "collapses", (double)r->collapses);
	}

	phases = cJSON_AddArrayToObject(root, "phases");
	for (size_t i = 0; i < s->nr_phases; i++) {
		const struct functional_phase *p = &run->phases[i];
		cJSON *j = side_phase_json(phases, s, i, p->runtime_ns, p->faults), *pg;

		cJSON_AddNumberToObject(j, "thp_faults", (double)p->thp_faults);
		cJSON_AddNumberToObject(j, "accesses", (double)p->accesses);
		cJSON_AddNumberToObject(j, "start_ns", (double)p->start_ns);
		if (s->phases[i].op == WL_PH_KHUGEPAGED_WAIT)
			cJSON_AddBoolToObject(j, "timed_out", p->timed_out);
		if (p->collapse_errno)
			cJSON_AddStringToObject(j, "collapse_error", strerrorname_np(p->collapse_errno));
		pg = cJSON_AddObjectToObject(j, "pages");
		for (size_t r = 0; p->pages && r < s->nr_regions; r++)
			cJSON_AddItemToObject(pg, s->regions[r].name, side_pages_json(p->pages[r]));
	}
	cJSON_AddNumberToObject(root, "runtime_ns", (double)run->runtime_ns);

	/* As the Linux side's "khugepaged" block: outcomes by tracepoint status name. */
	kh = cJSON_AddObjectToObject(root, "khugepaged");
	cJSON_AddItemToObject(kh, "scan_pmd", scan_status_json(run->scan_status));
	cJSON_AddItemToObject(kh, "collapse", scan_status_json(run->collapse_status));
	cJSON_AddNumberToObject(kh, "collapse_allocs", (double)run->khugepaged.collapse_allocs);
	cJSON_AddNumberToObject(kh, "madv_collapse_allocs",
				(double)run->khugepaged.madv_collapse_allocs);
	cJSON_AddNumberToObject(kh, "full_scans", (double)run->khugepaged.full_scans);
	cJSON_AddNumberToObject(kh, "pages_collapsed", (double)run->khugepaged.pages_collapsed);
	cJSON_AddNumberToObject(kh, "passes", (double)run->khugepaged.passes);

	/* The effective configuration (STYLE 6): what this run used. */
	cfg = cJSON_AddObjectToObject(root, "config");
	cJSON_AddNumberToObject(cJSON_AddObjectToObject(cfg, "zone"), "size_bytes",
				(double)run->mem_bytes);

	/* MimicOS's counters, with Linux's names: {"vmstat": {...}, "mthp": {...}}. */
	ev = vm_events_to_json(&run->ev);
	if (ev)
		cJSON_AddItemToObject(root, "mimicos", ev);
	return root;
}
