/*
 * channel.h - the two channels between MimicOS and the simulator (as
 * Virtuoso has them).
 *
 * The functional channel: the simulator sends a request (a fault at an
 * address with its access kind, mmap/munmap/mprotect/madvise, advancing
 * simulated time, a query) and gets back a response: the result, the page
 * size and pfn a fault installed, the virtual range whose entries changed,
 * the TLB ranges to invalidate and the khugepaged events.
 *
 * The instruction-stream channel: for the same request, what the kernel's
 * own code did, as fixed-size records (struct kstream_rec) in program
 * order: 8-byte reads and writes of page-table entries at their physical
 * addresses, writes of page metadata (struct page) lines, bulk clears of
 * physical ranges, and one count of the instructions the kernel code ran.
 * The simulator replays them on its caches and TLBs to time the kernel's
 * work.
 *
 * One API whatever the mode (struct channel_config.mode):
 *
 *   in-process       MimicOS runs in the caller's process; channel_request()
 *                    calls it directly (under a mutex, so several threads
 *                    may drive several cores).
 *   out-of-process   MimicOS runs in its own process, fork()ed by
 *                    channel_open(). Per simulated core, a request/response
 *                    slot and a stream ring live in a MAP_SHARED anonymous
 *                    region; futexes on shared words wake the server (one
 *                    doorbell for all cores) and each client (one word per
 *                    core). The server handles every core with a pending
 *                    request, in the order the requests were posted (a
 *                    shared sequence number), so a run's results do not
 *                    depend on scheduling.
 *
 * Both modes run the same code on the same requests: responses and streams
 * are byte-identical (tests/mimicos/test_channel.c checks it).
 *
 * Usage:
 *
 *	struct channel_config cfg;
 *	struct mimicos_channel ch;
 *	struct mimicos_request rq = { .type = MIMICOS_REQ_FAULT, .addr = va,
 *				      .access = MIMICOS_ACCESS_WRITE };
 *	struct mimicos_response rs;
 *	struct kstream ks;
 *
 *	channel_config_init(&cfg);		   defaults, then overrides
 *	cfg.mode = CHANNEL_OUT_OF_PROCESS;
 *	if (channel_open(&ch, &cfg))
 *		return error(...);
 *	kstream_init(&ks);
 *	if (channel_request(&ch, core, &rq, &rs, &ks))   transport failure
 *		...;
 *	if (rs.result & VM_FAULT_ERROR) ...	   the operation's own result
 *	for (size_t i = 0; i < ks.nr; i++) replay(&ks.rec[i]);
 *	kstream_release(&ks);
 *	channel_close(&ch);
 *
 * Address spaces: cfg.nr_mms mms exist from channel_open() on, each laid out
 * as mm_init() does with its own stream of cfg.seed (mm i draws from
 * wl_rng_derive(seed, CHANNEL_MM_STREAM + i), so mm 0 is placed as
 * simulator/driver.c places its one mm), each with cfg.levels-level
 * page tables and khugepaged wired (khugepaged_mm_init()). Requests name
 * the mm by index.
 *
 * Cores: channel_request()'s 'core' (< cfg.cores) sets os->cpu and every
 * mm's pgtable.cpu before the request runs, so folios and tables come from
 * that CPU's per-cpu lists; the zone is created with nr_cpus = cfg.cores.
 * Different cores may be driven from different threads at once; callers of
 * the same core take turns (a per-core lock), and in-process every request
 * takes the instance's lock.
 *
 * What the kernel work is not (yet): the VMA layer's own memory (the tree,
 * the VMA structs), the GUP walk of MAP_POPULATE (its faults are there),
 * the copy of a COW fault from a real page (memory.c does not model it),
 * buddy-list and per-cpu list manipulation beyond the head page's struct
 * page, Linux's tail-page writes of prep_compound_page(), and locks.
 */
#ifndef MIMICOS_CHANNEL_H
#define MIMICOS_CHANNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>		/* a request's PROT_*, MAP_* and MADV_* */
#include <sys/types.h>

#include "mimicos/huge_memory.h"
#include "mimicos/khugepaged.h"
#include "mimicos/memory.h"
#include "mimicos/mimicos.h"
#include "mimicos/reservation.h"
#include "mimicos/version.h"	/* MIMICOS_LINUX_VERSION, which results record */
#include "workload/error.h"

/* The request constants a libc may not have yet (the same values as mmap.h's). */
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif

struct cJSON;

/* ---------------------------------------------------------------------- */
/* The instruction stream.                                                */

enum kstream_type {
	KSTREAM_READ,	/* 8-byte load at paddr */
	KSTREAM_WRITE,	/* 8-byte store at paddr (entries), 64-byte line (metadata) */
	KSTREAM_ZERO,	/* clear [paddr, paddr + len): one bulk operation */
	KSTREAM_INSNS,	/* len instructions of kernel code; paddr 0 */
	KSTREAM_COPY_FROM, /* a bulk copy reads [paddr, paddr + len) ... */
	KSTREAM_COPY_TO,   /* ... and writes [paddr, paddr + len): always right after */
};

/* What a record touches. */
enum kstream_src {
	KSTREAM_SRC_PGTABLE,	/* a page-table entry, or a table page being cleared */
	KSTREAM_SRC_PAGE_META,	/* struct page of a block allocated or freed (mem_map) */
	KSTREAM_SRC_DATA,	/* a user folio being cleared */
	KSTREAM_SRC_CODE,	/* INSNS */
};

/*
 * One record, 16 bytes. Records of one request come in program order and
 * (for FAULT .. KHUGEPAGED_WAIT; the other requests are the simulator's
 * own look-ups and bookkeeping and produce no records) end with one
 * KSTREAM_INSNS record (the request's total, the same
 * number as mimicos_response.insns, split over several records only if it
 * exceeds UINT32_MAX): the simulator spreads those instructions over the
 * accesses before it.
 *
 * Where they come from:
 *   READ/WRITE PGTABLE  every traced table access (pgtable.h's rules: one
 *                       read per entry load, one write per store or clear)
 *   ZERO PGTABLE        a new table page (4 KiB), before it is linked
 *   ZERO DATA           folio_zero_user() of a new folio (PAGE_SIZE << order),
 *                       and khugepaged's clearing of none/zero subpages
 *   COPY_FROM/COPY_TO DATA  khugepaged's copy of old pages into the new THP
 *                       (pgtable_trace.copy): the pair is one bulk copy
 *   WRITE PAGE_META     each block __alloc_pages() handed out or
 *                       __free_pages() took back (user folios, table pages,
 *                       the huge zero folio), and each folio an lru_add
 *                       batch moves: one 64-byte line, the head
 *                       page's struct page, at kstream_page_meta() of its pfn
 *
 * The mem_map layout: Linux's struct page is 64 bytes, one per pfn. The
 * simulated mem_map sits in physical memory above the zone, at the first
 * 1 GiB boundary at or above the zone's end (so it never aliases a page the
 * zone hands out): struct page of pfn p is at
 *   memmap_base + (p - zone_start_pfn) * 64,
 *   memmap_base = ALIGN((zone_start_pfn + zone pages) << PAGE_SHIFT, 1 GiB).
 * MIMICOS_REQ_QUERY reports memmap_base.
 */
struct kstream_rec {
	uint64_t paddr;
	uint32_t len;		/* bytes (READ/WRITE 8 or 64, ZERO n), or instructions */
	uint8_t type;		/* enum kstream_type */
	uint8_t src;		/* enum kstream_src */
	uint16_t reserved;	/* 0 */
};

#define KSTREAM_PAGE_META_SIZE	64
#define KSTREAM_MEMMAP_ALIGN	(1ULL << 30)

/* A growable buffer of records: what channel_request() fills. */
struct kstream {
	struct kstream_rec *rec;
	size_t nr, alloc;
};

void kstream_init(struct kstream *ks);
void kstream_release(struct kstream *ks);
/* Append one record; 0 or -ENOMEM. */
int kstream_push(struct kstream *ks, const struct kstream_rec *r);

/*
 * The cost model: instruction counts of the kernel code, per request type
 * (base) plus per event of the request. These are ESTIMATES, to be
 * calibrated against Linux later (the linux-probes side measures
 * instructions per fault). Anchors: the reference system measured a MimicOS
 * 4 KiB fault at a median of 565 instructions and a 2 MiB promoting fault
 * at 1,426; Linux minor faults take 2,000-8,000. With the defaults of
 * channel_config_init() a first 4 KiB write fault into an empty 4-level mm
 * (12 entry reads, 4 writes, 4 blocks allocated, 4 pages cleared) costs
 * 320 + 60 + 32 + 120 + 8 = 540, a first THP fault (8 reads, 3 writes,
 * 4 blocks, 3 table pages + 512 pages cleared) 320 + 40 + 24 + 120 + 1030 =
 * 1534. clear_page_erms is one "rep stosb" per 4 KiB page, so clearing costs
 * few instructions and much memory traffic (the ZERO records carry the
 * traffic).
 *
 * Per-cpu list refills: MimicOS's pcp lists refill as Linux's do
 * (rmqueue_pcplist(): an empty list takes nr_pcp_alloc() blocks from the
 * buddy, batch << alloc_factor for order 0), and the allocation that finds
 * its list empty pays the refill. Neither the stream nor the other terms
 * hold that work (page_alloc counts the block handed out, the struct page
 * write is of that block alone): pcp_refill and pcp_refill_block price it,
 * 0 by default (a calibration sets them). A new PTE table, once per 512
 * 4 KiB faults in a fresh range, needs no term of its own: its allocation
 * (page_alloc, its struct page), its clearing (a ZERO record of the table)
 * and the PMD's store are in the stream already.
 *
 * The per-CPU lru_add batch (swap.h): a new folio joins it, and the request
 * that fills it (every 31st 4 KiB fault; any large folio; a munmap, a
 * DONTNEED, khugepaged) moves the whole batch onto the LRU: a WRITE
 * PAGE_META record per folio moved (its flags and list links) and lru_add
 * instructions per folio, 0 by default (a calibration measures it from the
 * period-31 tail of Linux's 4 KiB faults).
 *
 * insns = base[type] + entry_read * reads + entry_write * writes
 *       + page_alloc * blocks allocated + page_free * blocks freed
 *       + zero_page * 4 KiB pages cleared + copy_page * 4 KiB copied
 *       + tlb_flush * TLB ranges
 *       + khugepaged_pass * passes + khugepaged_event * events
 *       + fault * faults run by MAP_POPULATE
 *       + pcp_refill * per-cpu list refills + pcp_refill_block * blocks refilled
 *       + lru_add * folios moved onto the LRU
 * Deterministic: integers only, no host measurement.
 */
struct kstream_cost {
	uint32_t fault;		/* base of a fault (do_user_addr_fault .. return) */
	uint32_t mmap;
	uint32_t munmap;
	uint32_t mprotect;
	uint32_t madvise;
	uint32_t advance;	/* the timer tick that looks at khugepaged */
	uint32_t entry_read;
	uint32_t entry_write;
	uint32_t page_alloc;	/* __alloc_pages() fast path + struct page update */
	uint32_t page_free;
	uint32_t zero_page;	/* per 4 KiB cleared */
	uint32_t copy_page;	/* per 4 KiB copied */
	uint32_t tlb_flush;	/* per flush_tlb_range() reported */
	uint32_t khugepaged_pass;
	uint32_t khugepaged_event;
	uint32_t pcp_refill;	/* per per-cpu list refill (rmqueue_bulk()), default 0 */
	uint32_t pcp_refill_block; /* per block it takes from the buddy, default 0 */
	uint32_t lru_add;	/* per folio a full lru_add batch moves (swap.h), default 0 */
};

/* ---------------------------------------------------------------------- */
/* The functional channel: requests and responses.                        */

enum mimicos_req_type {
	MIMICOS_REQ_FAULT,	/* addr, access, flags (MIMICOS_FAULT_*): do_user_addr_fault() */
	MIMICOS_REQ_MMAP,	/* addr (hint or fixed), len, prot, flags: do_mmap() */
	MIMICOS_REQ_MUNMAP,	/* addr, len: do_munmap() */
	MIMICOS_REQ_MPROTECT,	/* addr, len, prot: do_mprotect() */
	MIMICOS_REQ_MADVISE,	/* addr, len, advice: do_madvise() */
	MIMICOS_REQ_ADVANCE,	/* now_ns: khugepaged_advance(); len 1: the workload sleeps meanwhile */
	MIMICOS_REQ_KHUGEPAGED_WAIT, /* addr = full_scans, len = timeout_ns: khugepaged_wait_full_scans() */
	MIMICOS_REQ_QUERY,	/* the mm's page-table root and the mem_map base */
	MIMICOS_REQ_CLASSES,	/* addr, len: mm_page_classes() of the range */
	MIMICOS_REQ_WALK,	/* addr: the hardware walk of the mm's tables */
	MIMICOS_REQ_PHYS_READ,	/* addr: phys_read64() (the walker's view) */
	MIMICOS_REQ_STATS,	/* counters of the instance and the mm */
	MIMICOS_REQ_PHASE,	/* addr = the workload's phase (int64, -1 none): tags later events */
	MIMICOS_REQ_BACKING,	/* addr, len: mm_page_class() of each page, as runs (u.backing) */
	MIMICOS_REQ_FAULT_LATENCY, /* addr = the last FAULT's simulated latency in ns (the log) */
	MIMICOS_REQ_LOG_COMMIT,	/* write the event log out now: u.log.error says why it could not */
	MIMICOS_REQ_SWITCH_MM,	/* len 1: the core runs thread 'addr' of mm; 0: it goes idle */
	MIMICOS_REQ_NR
};

/*
 * FAULT's flags: the fault began before the huge PMD now at addr was
 * installed by another core's fault, and lost the race to fill it
 * (memory.h: FAULT_FLAG_RACED).
 */
#define MIMICOS_FAULT_RACED	1u
/* The kernel's fault on a user address (copy_to_user): no FAULT_FLAG_USER, no U bit in its record. */
#define MIMICOS_FAULT_KERNEL	2u

enum mimicos_access {
	MIMICOS_ACCESS_READ,
	MIMICOS_ACCESS_WRITE,
	MIMICOS_ACCESS_EXEC,
};

/*
 * A request: only the fields of its type are read (set the others to 0 so
 * requests compare equal). Addresses and lengths are those of the system
 * calls; prot PROT_*, flags MAP_* (MAP_PRIVATE | MAP_ANONYMOUS implied;
 * MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_STACK, MAP_GROWSDOWN
 * as mmap.h honours them; MAP_POPULATE is done here as __mm_populate()
 * does: every page not mapped (writable, for a writable private mapping)
 * is faulted in, writing when the mapping is writable), advice MADV_*
 * (MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE).
 */
struct mimicos_request {
	uint32_t type;		/* enum mimicos_req_type */
	uint32_t mm;		/* address space, < channel_config.nr_mms */
	uint64_t addr;
	uint64_t len;
	uint32_t prot;
	uint32_t flags;
	int32_t advice;
	uint32_t access;	/* enum mimicos_access (FAULT) */
	/*
	 * ADVANCE: simulated time, never decreasing (khugepaged's clock and
	 * the per-cpu lists' decay follow it).
	 * FAULT, MMAP, MUNMAP, MPROTECT, MADVISE: the caller's simulated time
	 * when the kernel's work of the request begins, only to stamp what the
	 * request logs (ts of its event records). It moves no clock that
	 * decides what MimicOS does; an earlier time than the last ADVANCE's
	 * (0 included) stamps with that instead, as every record did before
	 * callers gave one.
	 */
	uint64_t now_ns;
};

/* A range whose TLB entries must go, in address space 'mm'. */
struct mimicos_tlb_range {
	uint32_t mm;
	uint32_t reserved;
	uint64_t start, end;
};

/* struct khugepaged_event, by value, with the mm as its index. */
struct mimicos_event {
	uint32_t type;		/* enum khugepaged_event_type */
	uint32_t status;	/* enum scan_result */
	uint32_t mm;		/* UINT32_MAX: not one of the channel's */
	uint32_t madv_collapse;
	uint64_t time_ns;
	uint64_t address;
	uint64_t pfn;
	int32_t referenced, none_or_zero, unmapped;
	uint32_t reserved;
};

/* MIMICOS_REQ_WALK: what the x86 walker reads for addr, top level first. */
struct mimicos_walk {
	uint32_t nr;		/* entries read (levels down to the leaf or the hole) */
	uint32_t mapped;	/* 1: a present leaf */
	uint64_t entry_pa[5];	/* physical address of each entry read */
	uint64_t entry[5];	/* its value */
	uint64_t page_size;	/* 4K/2M/1G when mapped, else 0 */
	uint64_t pa;		/* addr's physical address when mapped */
};

#define MIMICOS_TLB_MAX		32
#define MIMICOS_EVENTS_MAX	32
#define MIMICOS_BACKING_RUNS	128

/* MIMICOS_REQ_BACKING: 'pages' consecutive pages of class 'cls'. */
struct mimicos_page_run {
	uint32_t pages;
	uint8_t cls;		/* enum page_class */
	uint8_t reserved[3];
};

/* MIMICOS_REQ_BACKING's answer (no bigger than STATS': responses keep their size). */
struct mimicos_backing {
	uint64_t end;		/* the runs cover [addr, end) */
	uint32_t nr;
	uint32_t reserved;
	struct mimicos_page_run run[MIMICOS_BACKING_RUNS];
};

/*
 * A response. channel_request() zeroes it first, so two responses to the
 * same request compare equal with memcmp().
 *
 *   result         FAULT: the vm_fault_t (0 or VM_FAULT_* bits); others 0 or
 *                  -errno (-EINVAL also for a bad mm, type or alignment)
 *   addr           MMAP: the mapping; PHYS_READ: the 8-byte value
 *   page_size, pfn, order, zero_page
 *                  FAULT: fault_result's fields (pfn UINT64_MAX: none)
 *   changed_start, changed_end
 *                  the virtual range whose entries may have changed (empty:
 *                  none). FAULT: fault_result's range. MMAP with populate,
 *                  MUNMAP, MPROTECT, MADVISE DONTNEED/COLLAPSE: the request's
 *                  page-aligned range, widened to cover the TLB ranges of
 *                  the same mm (a split of a huge PMD reaches outside it).
 *                  ADVANCE: empty (see tlb[] and events[], which name mms).
 *   tlb[nr_tlb]    every flush_tlb_range() of the request in order, and a
 *                  fault's own flush (fault_result.tlb_flush). More than
 *                  MIMICOS_TLB_MAX: tlb_flush_all is set (flush every TLB
 *                  entry of every mm), as x86 falls back to a full flush
 *                  past tlb_single_page_flush_ceiling; nr_tlb stays at the max.
 *   events[]       khugepaged and MADV_COLLAPSE events of the request;
 *                  nr_events counts all of them, the first MIMICOS_EVENTS_MAX
 *                  are kept (khugepaged's counters have the rest).
 *   insns          the cost model's instructions (also the stream's INSNS)
 *   nr_records     records of the request's stream, INSNS included
 *   passes         ADVANCE, KHUGEPAGED_WAIT: khugepaged passes run
 *   KHUGEPAGED_WAIT  from now_ns (when later than the last ADVANCE's
 *                  time, else from that), run khugepaged pass by
 *                  pass until full_scans (addr) more full scans are done or
 *                  timeout_ns (len) passes: result 0 or -ETIMEDOUT. The
 *                  count is read first, so a pass woken since the last
 *                  ADVANCE (a MADV_HUGEPAGE's registration) counts, as the
 *                  workload is already blocked when it runs (khugepaged.h),
 *                  u.wait.now_ns the simulated time it ended at (later
 *                  ADVANCEs continue from there)
 *   nr_faults      MMAP with MAP_POPULATE: faults run
 *   next_wake_ns   every request: when khugepaged's next pass is due
 *                  (khugepaged_next_wakeup()), so a caller whose clock moves
 *                  knows when an ADVANCE has work to do
 *   BACKING        the class of each 4 KiB page of [addr, addr + len) (addr
 *                  and len page-aligned, else -EINVAL), in address order, as
 *                  u.backing.nr runs of one class each (a run holds at most
 *                  UINT32_MAX pages). At most MIMICOS_BACKING_RUNS runs per
 *                  response, so the response keeps its size whatever the
 *                  range: u.backing.end is where the runs stop, addr + len
 *                  when the range is done, else ask again from there.
 *                  Neighbouring runs of one response differ in class (unless
 *                  the first is full); across responses they may not (the
 *                  caller merges).
 *   FAULT_LATENCY  the event log's fault record of the FAULT request just
 *                  before (from the same core) gets latency_ns = addr. That
 *                  record, and whatever else the FAULT logged, is held back
 *                  until then: the caller times the fault only after
 *                  MimicOS handled it. A request of that core that may log
 *                  (FAULT .. KHUGEPAGED_WAIT) first writes what is held as
 *                  it is (latency_ns 0), as does channel_close(); look-ups
 *                  leave it waiting. Without a log, FAULT_LATENCY does
 *                  nothing. Result 0.
 *   nr_ipi_waits, nr_ipis, ipi_cpus
 *                  the TLB-flush cross-calls the request's flushes made
 *                  (mimicos/tlb.h): how many of the requesting core's
 *                  flush_tlb_multi() calls sent any (it waits for each),
 *                  how many cross-calls ran, and on which CPUs
 *   SWITCH_MM      len 1: core 'core' runs thread 'addr' of mm 'mm'
 *                  (switch_mm(): it joins the mm's mm_cpumask; the thread's
 *                  records carry tid 'addr'); len 0: it goes idle, the mm
 *                  still loaded (enter_lazy_tlb()). A FAULT .. MADVISE, or
 *                  an ADVANCE with len 0, runs its core's last thread again
 *                  first; an ADVANCE with len 1 and a KHUGEPAGED_WAIT leave
 *                  the core lazy while they last (the workload blocked)
 *   PHASE          tags the core's later records (and khugepaged's
 *                  cross-calls) with the phase
 *   LOG_COMMIT     write the event log out (what channel_close() would,
 *                  but answered): result 0 (also without a log, or when
 *                  it was written already), or -EIO with u.log.error the
 *                  one-line reason ("records: cannot write: No space left
 *                  on device"), so that the caller can say why whichever
 *                  process MimicOS runs in. No later request logs.
 */
struct mimicos_response {
	uint32_t type;
	int32_t result;
	uint64_t addr;
	uint64_t page_size;
	uint64_t pfn;
	int32_t order;
	uint32_t zero_page;
	uint64_t changed_start, changed_end;
	uint32_t nr_tlb;
	uint32_t tlb_flush_all;
	struct mimicos_tlb_range tlb[MIMICOS_TLB_MAX];
	uint32_t nr_events;
	uint32_t reserved;
	struct mimicos_event events[MIMICOS_EVENTS_MAX];
	uint64_t insns;
	uint64_t nr_records;
	uint32_t passes;
	uint32_t nr_faults;
	uint64_t next_wake_ns;	/* khugepaged's next pass after the request (UINT64_MAX: none due) */
	uint32_t nr_ipi_waits;	/* flush_tlb_multi() calls of the request's core that made cross-calls */
	uint32_t nr_ipis;	/* TLB-flush cross-calls run on other CPUs, khugepaged's too */
	uint64_t ipi_cpus[MIMICOS_CPUMASK_WORDS];	/* the CPUs they ran on */
	union {
		/* QUERY */
		struct {
			uint64_t cr3;		/* mm->pgd's physical address */
			uint32_t levels;	/* 4 or 5 */
			uint32_t nr_cpus;
			uint64_t memmap_base;	/* see struct kstream_rec */
			uint64_t zone_start_pfn;
			uint64_t zone_pages;
			uint64_t mmap_base;
		} query;
		struct mimicos_walk walk;
		/* KHUGEPAGED_WAIT */
		struct {
			uint64_t now_ns;
		} wait;
		/* CLASSES: pages of [addr, addr + len) by enum page_class */
		struct {
			uint64_t pages[PAGE_CLASS_NR];
		} classes;
		struct mimicos_backing backing;
		/* LOG_COMMIT: why the log could not be written ("" when it was) */
		struct {
			char error[240];
		} log;
		/* STATS */
		struct {
			struct vm_events ev;
			struct khugepaged_stats khugepaged;
			int64_t rss_anon;		/* the mm's MM_ANONPAGES */
			int64_t pgtables_bytes;		/* the mm's */
			uint64_t nr_free_pages;		/* the zone's */
			uint64_t now_ns;		/* the last ADVANCE */
			struct reservation_stats reservation;	/* policy "reservation" */
		} stats;
	} u;
};

/*
 * Whether two responses say the same: every field a reader may read (the
 * arrays as far as their counts go, the union unless the request was a
 * FAULT or FAULT_LATENCY, which leave it alone). The bytes past a count are
 * not said: a response is not zeroed whole.
 */
bool mimicos_response_equal(const struct mimicos_response *a, const struct mimicos_response *b);

/* ---------------------------------------------------------------------- */
/* Configuration.                                                         */

enum channel_mode {
	CHANNEL_IN_PROCESS,
	CHANNEL_OUT_OF_PROCESS,
};

#define CHANNEL_MAX_CORES	MIMICOS_MAX_CPUS
#define CHANNEL_MAX_MMS		64
/* mm i's placement stream: wl_rng_derive(seed, CHANNEL_MM_STREAM + i). */
#define CHANNEL_MM_STREAM	0x6d6d5f6c61796f75ULL

/*
 * What channel_open() builds. JSON keys are the field names ("policy" a
 * string, "reservation" reservation_config_parse()'s object); the thp object
 * has the keys enabled, defrag, use_zero_page, size ({"16kB": mode, ...,
 * "2048kB": mode}), khugepaged ({scan_sleep_millisecs, ...}) and modules
 * ({thp, mthp, huge_zero_page, khugepaged}); cost has struct kstream_cost's.
 */
struct channel_config {
	enum channel_mode mode;		/* "in-process" (default) | "out-of-process" */
	unsigned int cores;		/* simulated cores, 1..CHANNEL_MAX_CORES; 1 */
	uint64_t mem_bytes;		/* the zone: multiple of 4 MiB, <= 1 TiB; 1 GiB */
	uint64_t start_pfn;		/* the zone's first pfn, multiple of 1024; 0 */
	unsigned int levels;		/* page-table levels, 4 or 5; 4 */
	unsigned int nr_mms;		/* address spaces, 1..CHANNEL_MAX_MMS; 1 */
	uint64_t seed;			/* placement (mmap_base, brk); 1 */
	uint32_t stream_ring_records;	/* out-of-process ring per core, power of 2 >= 16; 65536 */
	struct thp_settings thp;	/* thp_settings_init() */
	struct kstream_cost cost;	/* see struct kstream_cost */
	/* THP policy beside Linux's: "linux" (none; default) | "reservation" */
	char policy[16];
	struct reservation_config reservation;	/* its parameters (reservation.h) */
	/*
	 * Not configuration but where this run writes MimicOS's events ("": no
	 * log): an event log (workload/evlog.h) in the Linux side's model
	 * (memory.h: struct mimicos_event_sink), plus VT_SYSCALL records for
	 * MMAP/MUNMAP/MPROTECT/MADVISE, ts the simulated time (a request's
	 * now_ns for what the request logs, each pass's time for khugepaged's
	 * records), phase as
	 * MIMICOS_REQ_PHASE set it; a FAULT's records wait for its latency
	 * (MIMICOS_REQ_FAULT_LATENCY). Written by whichever process runs MimicOS,
	 * committed at channel_close() with metadata {"side": "sim", "clock":
	 * "simulated", "scan_status": [...], "tlb_flush_reason": [...]}; the
	 * caller may then evlog_rewrite_meta() it. Not read from JSON, not echoed.
	 */
	char events_path[512];
	/* The log's records zstd-compressed at this level (evlog_set_zstd()); 0: not. */
	int events_zstd;
};

/* The defaults above, in this one place. */
void channel_config_init(struct channel_config *cfg);

/*
 * Override cfg's fields with those 'obj' has (other keys keep their value,
 * so call channel_config_init() first). Unknown keys and bad values are
 * refused with one error naming 'file', the key's JSON path and what was
 * expected. 0, or -1 with err filled.
 */
int channel_config_from_json(struct channel_config *cfg, const struct cJSON *obj,
			     const char *file, struct wl_error *err);
/* The effective configuration as JSON, keys as channel_config_from_json() reads them. */
struct cJSON *channel_config_to_json(const struct channel_config *cfg);

const char *channel_mode_name(enum channel_mode m);

/* ---------------------------------------------------------------------- */
/* The channel.                                                           */

struct channel_server;
struct channel_shm;
struct mimicos_channel;

/* What a mode provides (in-process: channel.c; out-of-process: channel_transport.c). */
struct channel_ops {
	const char *name;
	int (*open)(struct mimicos_channel *ch);
	int (*request)(struct mimicos_channel *ch, unsigned int core,
		       const struct mimicos_request *rq, struct mimicos_response *rs,
		       struct kstream *ks);
	void (*close)(struct mimicos_channel *ch);
};

struct mimicos_channel {
	const struct channel_ops *ops;
	struct channel_config cfg;
	/* in-process: the instance, and the lock that serialises cores */
	struct channel_server *srv;
	pthread_mutex_t lock;
	/* out-of-process: the shared region and the server process */
	struct channel_shm *shm;
	size_t shm_bytes;
	pid_t pid;
	pthread_mutex_t reap_lock;
	pthread_mutex_t *core_locks;	/* one request in flight per core */
	int server_gone;		/* 1 once the server is known dead (reaped) */
	int server_status;		/* its wait status */
};

/*
 * Start MimicOS as cfg says: the zone (nr_cpus = cfg->cores), the THP
 * settings, khugepaged, cfg->nr_mms empty address spaces. Out-of-process,
 * fork the server (it dies with the caller: PR_SET_PDEATHSIG, and it exits
 * if its parent changes) and wait until it is ready. 0, -EINVAL (bad
 * configuration), -ENOMEM, or what zone_init()/fork()/mmap() gave.
 */
int channel_open(struct mimicos_channel *ch, const struct channel_config *cfg);

/*
 * Run one request for simulated core 'core' and wait for its response.
 * 'ks' (may be NULL: no stream is produced) is emptied, then receives the
 * request's records. Returns 0 when the response is valid (the operation's
 * own outcome is rs->result), or: -EINVAL (core out of range, NULL
 * arguments), -EPIPE (the server process is gone: it died or was killed;
 * every later request fails the same way), -ENOMEM (the stream could not
 * grow: the response is valid, the stream is cut short).
 *
 * Out-of-process, a stream longer than the ring is carried in chunks: the
 * server waits while the ring is full, the client empties it into 'ks' and
 * wakes it. Nothing is dropped.
 */
int channel_request(struct mimicos_channel *ch, unsigned int core,
		    const struct mimicos_request *rq, struct mimicos_response *rs,
		    struct kstream *ks);

/*
 * Stop MimicOS: in-process, release everything (the invariant checks of
 * teardown run); out-of-process, ask the server to do the same and exit,
 * then reap it (SIGKILL after 5 s). Safe after the server died.
 */
void channel_close(struct mimicos_channel *ch);

/*
 * channel_close() for a run that is over, its results and log taken: in
 * process, the machine is released whole, without simulating its
 * processes' exit (exit_mmap's walk of every mapping: a tenth of a
 * functional run's time, and nothing anyone reads); out of process, as
 * channel_close().
 */
void channel_discard(struct mimicos_channel *ch);

/* The server's pid (out-of-process; 0 in-process or after close). */
static inline pid_t channel_server_pid(const struct mimicos_channel *ch)
{
	return ch->pid;
}

/*
 * In-process only: the instance itself (NULL out-of-process), for MimicOS's
 * own tests. Touch it only between requests. The simulator does not use it:
 * it reaches MimicOS through requests and channel_phys_reader().
 */
struct mimicos *channel_mimicos(struct mimicos_channel *ch);

/*
 * The page-table walker's fast path. A timed run walks MimicOS's tables on
 * every TLB miss, and a MIMICOS_REQ_PHYS_READ round trip per entry would
 * cost more than the rest of the model; in-process the tables are in this
 * process's memory, so the walker may read them directly. read64(ctx,
 * paddr) is phys_read64() of MimicOS's memory (what MIMICOS_REQ_PHYS_READ
 * answers), prefetch(ctx, paddr) a hint with no effect on results.
 *
 * channel_phys_reader() fills r and returns 0 in-process; out-of-process it
 * returns -EOPNOTSUPP (the tables are in the server) and the walker uses
 * the request. Call the reader only between requests, as channel_mimicos().
 */
struct channel_phys_reader {
	uint64_t (*read64)(void *ctx, uint64_t paddr);
	void (*prefetch)(void *ctx, uint64_t paddr);
	void *ctx;
};

int channel_phys_reader(struct mimicos_channel *ch, struct channel_phys_reader *r);

/* struct page's line of 'pfn' (see struct kstream_rec). */
static inline uint64_t kstream_page_meta(uint64_t memmap_base, uint64_t zone_start_pfn,
					 uint64_t pfn)
{
	return memmap_base + (pfn - zone_start_pfn) * KSTREAM_PAGE_META_SIZE;
}

#endif
