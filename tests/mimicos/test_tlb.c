/*
 * test_tlb.c - whom a flush reaches (mimicos/tlb.c) against Linux 6.18's
 * arch/x86/mm/tlb.c, worked out by hand for each case: flush_tlb_mm_range()
 * sends only when another CPU is in mm_cpumask, and then traces "remote IPI
 * send" whoever it reaches; native_flush_tlb_multi() skips lazy CPUs unless
 * page tables were freed, and CPUs that left the mm unless the once-a-second
 * trim is due; flush_tlb_func() on a lazy CPU switches it to init_mm
 * silently, on a CPU not running the mm takes it out of the mask ("remote
 * wrong CPU").
 *
 * A 256 MiB zone with four CPUs, one mm, a 16 MiB private region written
 * page by page from CPU 0 (4096 PTEs, 8 PTE tables) before each case.
 */
#include <string.h>
#include <sys/mman.h>

#include <criterion/criterion.h>

#include "mimicos/memory.h"
#include "mimicos/internal.h"
#include "mimicos/mmap.h"
#include "tests/mimicos/harness.h"
#include "workload/event.h"
#include "workload/prng.h"

#define MiB (1UL << 20)

static struct mimicos os;
static struct mm_struct mm;
static struct mm_mem mem;
static struct flush_log flushes;

/* The flush and cross-call records, and the cross-calls the channel would hear. */
static struct vt_event ev[64];
static unsigned int nr_ev;
static unsigned int ipi_calls, ipi_targets;

static void record(void *ctx, const struct vt_event *e)
{
	(void)ctx;
	if ((e->type == VT_TLB_FLUSH || e->type == VT_IPI) && nr_ev < 64)
		ev[nr_ev++] = *e;
}

static void ipi(void *ctx, unsigned int from, const uint64_t *to)
{
	(void)ctx;
	(void)from;
	ipi_calls++;
	for (unsigned int w = 0; w < MIMICOS_CPUMASK_WORDS; w++)
		ipi_targets += (unsigned int)__builtin_popcountll(to[w]);
}

static void boot(void)
{
	struct zone_config zc = { .size_bytes = 256 * MiB, .start_pfn = 0x100000, .nr_cpus = 4 };
	struct thp_settings thp;
	struct mm_layout l;
	struct wl_rng rng;

	thp_settings_init(&thp);
	thp.enabled = THP_ENABLED_NEVER;
	cr_assert_eq(mimicos_init(&os, &zc, &thp), 0);
	mm_layout_init(&l);
	wl_rng_seed(&rng, 1);
	mm_init(&mm, &l, &rng);
	cr_assert_eq(mm_mem_init(&os, &mm, &mem, 4), 0);
	mem.tlb = (struct mm_tlb_trace){ .flush = flush_log_record, .ipi = ipi, .ctx = &flushes };
}

static void shutdown(void)
{
	if (mm.mem)
		mm_mem_release(&mm);
	mm_release(&mm);
	mimicos_release(&os);
}

TestSuite(tlb, .init = boot, .fini = shutdown);

/* 16 MiB written from CPU 0; then the records start. */
static unsigned long touched_region(void)
{
	unsigned long a;

	cr_assert_eq(do_mmap(&mm, 0, 16 * MiB, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, &a), 0);
	for (unsigned long va = a; va < a + 16 * MiB; va += PAGE_SIZE)
		cr_assert_eq(do_user_addr_fault(&mm, va, FAULT_FLAG_USER | FAULT_FLAG_WRITE, NULL), 0);
	os.events = (struct mimicos_event_sink){ .event = record };
	nr_ev = ipi_calls = ipi_targets = 0;
	flushes.nr = 0;
	return a;
}

static unsigned int count(int type, int reason, unsigned int cpu)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr_ev; i++)
		if (ev[i].type == type && ev[i].cpu == cpu &&
		    (type != VT_TLB_FLUSH || ev[i].tlb.reason == reason))
			n++;
	return n;
}

#define FLUSHES(reason, cpu)	count(VT_TLB_FLUSH, reason, cpu)
#define LOCAL_MM	3
#define REMOTE		1
#define SEND_IPI	4
#define WRONG_CPU	5

Test(tlb, a_flush_on_the_only_cpu_is_local_and_sends_nothing)
{
	unsigned long a = touched_region();

	cr_assert_eq(do_madvise(&mm, a, 16 * MiB, MADV_DONTNEED), 0);
	cr_assert_eq(nr_ev, 1);
	cr_assert_eq(FLUSHES(LOCAL_MM, 0), 1);
	cr_assert_eq(ev[0].tlb.pages, -1, "4096 pages: past the ceiling of 33");
	cr_assert_eq(ev[0].tlb.source, VT_TLB_SRC_SYSCALL);
	cr_assert_eq(ipi_calls, 0);
	cr_assert_eq(flushes.nr, 1);
}

Test(tlb, a_running_thread_elsewhere_takes_a_remote_shootdown)
{
	unsigned long a = touched_region();

	switch_mm(&os, 1, &mem, 7);
	cr_assert_eq(do_madvise(&mm, a, 4 * PAGE_SIZE, MADV_DONTNEED), 0);
	/* on CPU 0: the send, then its own local half; on CPU 1: queued, run, traced */
	cr_assert_eq(FLUSHES(SEND_IPI, 0), 1);
	cr_assert_eq(FLUSHES(LOCAL_MM, 0), 1);
	cr_assert_eq(FLUSHES(REMOTE, 1), 1);
	cr_assert_eq(count(VT_IPI, 0, 0), 1, "queued on the sender");
	cr_assert_eq(count(VT_IPI, 0, 1), 1, "run on the target");
	cr_assert_eq(nr_ev, 5);
	for (unsigned int i = 0; i < nr_ev; i++)
		if (ev[i].type == VT_TLB_FLUSH && ev[i].tlb.reason == REMOTE) {
			cr_assert_eq(ev[i].tid, 7, "the thread running there");
			cr_assert_eq(ev[i].tlb.pages, 4);
			cr_assert_eq(ev[i].tlb.source, VT_TLB_SRC_SHOOTDOWN);
		}
	cr_assert_eq(ipi_calls, 1);
	cr_assert_eq(ipi_targets, 1);
}

Test(tlb, a_lazy_cpu_is_skipped_unless_tables_are_freed)
{
	unsigned long a = touched_region();

	switch_mm(&os, 1, &mem, 1);
	enter_lazy_tlb(&os, 1);
	/* DONTNEED keeps the tables: the send is traced, no cross-call made */
	cr_assert_eq(do_madvise(&mm, a, 8 * MiB, MADV_DONTNEED), 0);
	cr_assert_eq(FLUSHES(SEND_IPI, 0), 1);
	cr_assert_eq(FLUSHES(LOCAL_MM, 0), 1);
	cr_assert_eq(nr_ev, 2);
	cr_assert_eq(ipi_calls, 0);

	/* munmap of the second half frees its 4 PTE tables: the lazy CPU is called */
	nr_ev = 0;
	cr_assert_eq(do_munmap(&mm, a + 8 * MiB, 8 * MiB), 0);
	cr_assert_eq(ipi_targets, 1);
	cr_assert_eq(count(VT_IPI, 0, 1), 1, "the cross-call ran on CPU 1");
	cr_assert_eq(FLUSHES(REMOTE, 1), 0, "a lazy CPU switches to init_mm, untraced");
	cr_assert_null(os.cpus[1].loaded_mm);
	cr_assert(mm_cpumask_test(&mem, 1), "and stays in the mask");
}

Test(tlb, a_cpu_that_left_the_mm_leaves_the_mask_at_the_next_trim)
{
	unsigned long a = touched_region();

	/* CPU 1 ran the mm, then another (init_mm here): still in the mask */
	switch_mm(&os, 1, &mem, 1);
	switch_mm(&os, 1, NULL, 1);
	os.now_ns = 500000000;		/* before the first trim, a second after the mm was made */
	cr_assert_eq(do_madvise(&mm, a, PAGE_SIZE, MADV_DONTNEED), 0);
	cr_assert_eq(FLUSHES(SEND_IPI, 0), 1);
	cr_assert_eq(ipi_calls, 0, "not loaded there, and no trim due");

	os.now_ns = 1000000001;
	nr_ev = 0;
	cr_assert_eq(do_madvise(&mm, a + PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
	cr_assert_eq(FLUSHES(SEND_IPI, 0), 1);
	cr_assert_eq(ipi_targets, 1, "the trim calls it");
	cr_assert_eq(FLUSHES(WRONG_CPU, 1), 0, "traced on an idle CPU: not the workload's");
	cr_assert(!mm_cpumask_test(&mem, 1), "it left the mask");

	nr_ev = 0;
	cr_assert_eq(do_madvise(&mm, a + 2 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED), 0);
	cr_assert_eq(nr_ev, 1, "alone in the mask again: a local flush only");
	cr_assert_eq(FLUSHES(LOCAL_MM, 0), 1);
}

Test(tlb, khugepaged_flushes_from_its_own_cpu)
{
	unsigned long a = touched_region();

	os.cpu = 0;
	flush_tlb_range_remote(&mem, a, a + 2 * MiB);
	/* CPU 0 runs the mm: khugepaged's send is its own (unrecorded), CPU 0 takes it */
	cr_assert_eq(nr_ev, 3);
	cr_assert_eq(count(VT_IPI, 0, KHUGEPAGED_CPU), 1);
	cr_assert_eq(FLUSHES(REMOTE, 0), 1);
	cr_assert_eq(count(VT_IPI, 0, 0), 1);
	cr_assert_eq(ipi_targets, 1);
	cr_assert_eq(flushes.nr, 1);
}
