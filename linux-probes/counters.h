/*
 * counters.h - the perf_event counters `virtuoso linux` opens on the
 * workload's process, encoded by libpfm4.
 *
 * Every counter has our stable name (the JSON key), a description, and a few
 * libpfm4 event strings, its candidates, tried in order. The counter is the
 * first candidate that libpfm4 encodes for a PMU it detected on this host AND
 * that perf_event_open(2) accepts. So one table serves Intel and AMD: the
 * Intel names do not exist in libpfm4's AMD tables and the other way round.
 *
 * A counter none of whose candidates works is "unsupported", with the reason
 * kept for the report; it is never reported as zero. Unsupported means:
 *
 *  - libpfm4 has no such event or umask for this host's core PMU
 *    (PFM_ERR_NOTFOUND, PFM_ERR_UMASK, PFM_ERR_ATTR): "not in libpfm4's table
 *    for amd64_fam19h_zen4";
 *  - the kernel refuses the encoded event (ENOENT, EOPNOTSUPP, ENODEV, and
 *    EINVAL for a hardware event): "no hardware PMU (perf_event_open: ENOENT)"
 *    when the kernel has no hardware PMU at all (virtual machines), else
 *    "the kernel's PMU driver refuses it (perf_event_open: ENOENT)".
 *
 * When several candidates fail, a refusal by the kernel is reported rather
 * than a missing table entry (it says more). Any other failure is an error
 * of the whole set (EACCES, EPERM, ESRCH, EMFILE...): counters_open() fails.
 *
 * What is counted. Each counter is opened on one process (cpu -1) with
 * inherit = 1, so threads and children created after the open count too
 * (their counts are folded in when they exit). Privilege levels are user AND
 * kernel (PFM_PLM3 | PFM_PLM0, exclude_kernel = 0):
 *
 *  - software fault events fire in the kernel's fault handler; faults taken
 *    in kernel mode on user memory (copy_to_user into a fresh page, for
 *    instance) are only seen without exclude_kernel, and getrusage's
 *    ru_minflt counts them too;
 *  - TLB walks caused by the kernel touching user memory on the process's
 *    behalf belong to the workload's cost as well.
 *
 * Counting kernel mode on another process needs root, CAP_PERFMON, or
 * kernel.perf_event_paranoid <= 1; otherwise counters_open() fails (EACCES).
 *
 * Hardware counters are not grouped (inherit forbids PERF_FORMAT_GROUP), so
 * when there are more counters than hardware registers the kernel time-
 * multiplexes them; counter_growth() scales each interval's count by
 * its time_enabled / time_running, as perf stat does, and says when a
 * counter never ran in it.
 *
 * LIBPFM_FORCE_PMU=skl (read by libpfm4 itself, at the first use) makes
 * libpfm4 use that PMU's tables whatever the CPU: this is how the tests check
 * the Intel names on an AMD machine. libpfm4 then activates no other PMU, not
 * even its "perf" one; software counters fall back on their kernel ABI
 * number (the same encoding: PERF_TYPE_SOFTWARE and PERF_COUNT_SW_*).
 *
 * Not thread-safe (libpfm4's initialisation is not).
 */
#ifndef LINUX_PROBES_COUNTERS_H
#define LINUX_PROBES_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "workload/error.h"
#include "workload/tlbev.h"

struct cJSON;

/*
 * The table: C(name, kind, description, candidates...), in report order.
 * kind is COUNTER_SW(PERF_COUNT_SW_x) for a software event (opened on every
 * host) or COUNTER_HW. A candidate is E(libpfm4 string, scope, tlb event):
 * the accesses it counts (workload/tlbev.h's TLB_SCOPES) and its meaning
 * (workload/tlbev.h's TLB_EVENTS, NONE for the faults), the two the
 * comparison pairs with the simulator's statistics, recorded with the
 * counter, since the Intel and AMD events of one counter differ in them
 * (AMD counts loads and stores together, and reloads, not faulting walks).
 * At most COUNTER_MAX_EVENTS candidates.
 *
 * Intel (libpfm4 skl, icl, spr, hsw... tables; SKL/ICL event 0x08 loads,
 * 0x49 stores; SPR 0x12, 0x13): DTLB_*_MISSES umasks WALK_COMPLETED 0x0e,
 * WALK_COMPLETED_4K 0x02, _2M_4M 0x04, _1G 0x08 (not on ICL, HSW), STLB_HIT
 * 0x20, WALK_ACTIVE 0x10 with cmask 1 (cycles with a walk in flight; HSW only
 * has WALK_DURATION, the same cycles; on SKL WALK_DURATION is the pending-walk
 * sum, hence WALK_ACTIVE first).
 *
 * AMD Zen 1-4 (libpfm4 amd64_fam17h_zen*, amd64_fam19h_zen*): event 0x45,
 * which libpfm4 4.13 calls L1_DTLB_MISS (ls_l1_d_tlb_miss in the PPR), counts
 * L1 DTLB misses of loads AND stores, split by whether the L2 DTLB hit (umask
 * 0x01 4K, 0x02 coalesced, 0x04 2M, 0x08 1G) or missed, requesting a page
 * walk (0x10 4K, 0x20 coalesced, 0x40 2M, 0x80 1G). A coalesced page is four
 * adjacent 4K pages held as one 16K entry, so it counts as 4K here. AMD has
 * no store-only and no walk-cycle event: those counters are Intel only.
 *
 * Last resort: perf's generic dTLB-load-misses / dTLB-store-misses
 * (PERF_TYPE_HW_CACHE 0x10003 / 0x10103), whatever the kernel maps them to
 * (Intel: the load walks; AMD: every L1 DTLB miss): scope "unknown",
 * recorded and never compared.
 */
#define COUNTERS_TABLE(C)						\
	C(page_faults, COUNTER_SW(PERF_COUNT_SW_PAGE_FAULTS), \
	  "page faults of any kind (kernel fault handler entries)",	\
	  E("perf::PERF_COUNT_SW_PAGE_FAULTS", none, NONE))			\
	C(minor_faults, COUNTER_SW(PERF_COUNT_SW_PAGE_FAULTS_MIN), \
	  "faults served without I/O",					\
	  E("perf::PERF_COUNT_SW_PAGE_FAULTS_MIN", none, NONE))		\
	C(major_faults, COUNTER_SW(PERF_COUNT_SW_PAGE_FAULTS_MAJ), \
	  "faults that waited for I/O",					\
	  E("perf::PERF_COUNT_SW_PAGE_FAULTS_MAJ", none, NONE))		\
	C(dtlb_load_misses_walk_completed, COUNTER_HW, \
	  "loads that missed every DTLB level and completed a page walk" \
	  " (AMD: loads and stores whose walk reloaded the TLB)",	\
	  E("DTLB_LOAD_MISSES:WALK_COMPLETED", loads, walk_completed),	\
	  E("L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_COALESCED_PAGE_MISS" \
	    ":TLB_RELOAD_2M_L2_MISS:TLB_RELOAD_1G_L2_MISS", loads_stores, walk_found), \
	  E("perf::PERF_COUNT_HW_CACHE_DTLB:READ:MISS", unknown, walk_completed)) \
	C(dtlb_store_misses_walk_completed, COUNTER_HW, \
	  "stores that missed every DTLB level and completed a page walk", \
	  E("DTLB_STORE_MISSES:WALK_COMPLETED", stores, walk_completed),	\
	  E("perf::PERF_COUNT_HW_CACHE_DTLB:WRITE:MISS", unknown, walk_completed)) \
	C(dtlb_load_walk_completed_4k, COUNTER_HW, \
	  "completed load page walks that found a 4K page",		\
	  E("DTLB_LOAD_MISSES:WALK_COMPLETED_4K", loads, walk_completed_4k), \
	  E("L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_COALESCED_PAGE_MISS", \
	    loads_stores, walk_completed_4k))				\
	C(dtlb_load_walk_completed_2m, COUNTER_HW, \
	  "completed load page walks that found a 2M page (Intel: or 4M)", \
	  E("DTLB_LOAD_MISSES:WALK_COMPLETED_2M_4M", loads, walk_completed_2m), \
	  E("L1_DTLB_MISS:TLB_RELOAD_2M_L2_MISS", loads_stores, walk_completed_2m)) \
	C(dtlb_load_walk_completed_1g, COUNTER_HW, \
	  "completed load page walks that found a 1G page",		\
	  E("DTLB_LOAD_MISSES:WALK_COMPLETED_1G", loads, walk_completed_1g), \
	  E("L1_DTLB_MISS:TLB_RELOAD_1G_L2_MISS", loads_stores, walk_completed_1g)) \
	C(dtlb_load_walk_cycles, COUNTER_HW,	\
	  "cycles with at least one load page walk in flight",		\
	  E("DTLB_LOAD_MISSES:WALK_ACTIVE", loads, walk_cycles),	\
	  E("DTLB_LOAD_MISSES:WALK_DURATION", loads, walk_cycles))	\
	C(dtlb_load_stlb_hit, COUNTER_HW,		\
	  "loads that missed the first-level DTLB and hit the second"	\
	  " (STLB, AMD L2 DTLB)",					\
	  E("DTLB_LOAD_MISSES:STLB_HIT", loads, stlb_hit),		\
	  E("L1_DTLB_MISS:TLB_RELOAD_4K_L2_HIT:TLB_RELOAD_COALESCED_PAGE_HIT" \
	    ":TLB_RELOAD_2M_L2_HIT:TLB_RELOAD_1G_L2_HIT", loads_stores, stlb_hit))

#define COUNTER_SW(config)	(config)
#define COUNTER_HW		(-1)
#define COUNTER_MAX_EVENTS	4
#define COUNTER_REASON_MAX	160

/* COUNTER_page_faults, ...: the index of each counter in every array here. */
enum counter_id {
#define COUNTER_ENUM(name, ...) COUNTER_##name,
	COUNTERS_TABLE(COUNTER_ENUM)
#undef COUNTER_ENUM
	COUNTERS_NR
};

struct counter {
	int fd;					/* -1: not open */
	const char *event;			/* the candidate that opened */
	enum tlb_scope scope;			/* the accesses it counts */
	int tlb;				/* its meaning, enum tlb_event */
	char reason[COUNTER_REASON_MAX];	/* why not, when fd is -1 */
};

struct counter_set {
	struct counter c[COUNTERS_NR];
};

/* Number of counters, their names ("page_faults") and descriptions. */
size_t counters_nr(void);
const char *counters_name(size_t i);
const char *counters_description(size_t i);

/*
 * Open every counter on process 'pid' (0: the calling process), counting from
 * now on. Returns 0, counters marked unsupported included; or -1 with err set
 * (file "perf_event_open" or "libpfm4") and nothing left open. counters_close()
 * is safe after either.
 */
int counters_open(struct counter_set *cs, pid_t pid, struct wl_error *err);

/*
 * A counter's raw reading: its count, and the times it was enabled and
 * really on a hardware register (they differ when the kernel
 * time-multiplexes more counters than the PMU has registers).
 */
struct counter_sample {
	uint64_t value, enabled, running;
};

/*
 * Read every open counter into s[i] (COUNTERS_NR of them, table order);
 * unsupported counters' samples are left untouched. Returns 0 or -errno.
 */
int counters_read(const struct counter_set *cs, struct counter_sample *s);

/*
 * How a counter grew from sample a to b, as perf stat reports it: the
 * count scaled by enabled / running over the interval when the counter
 * was multiplexed, *fraction the share of the interval it ran (1: not
 * multiplexed). COUNTER_NOT_COUNTED when it never ran while enabled
 * (perf's "<not counted>"): no number can be given. An interval with the
 * counter never enabled grew by 0, exactly.
 */
enum counter_growth { COUNTER_EXACT, COUNTER_SCALED, COUNTER_NOT_COUNTED };
enum counter_growth counter_growth(const struct counter_sample *a, const struct counter_sample *b,
				   double *value, double *fraction);

bool counters_supported(const struct counter_set *cs, size_t i);

/* Why counter i is unsupported ("" when it is supported). */
const char *counters_reason(const struct counter_set *cs, size_t i);

/* The libpfm4 string that opened counter i, or NULL when unsupported. */
const char *counters_event(const struct counter_set *cs, size_t i);

/* Close every counter; cs reads as unsupported ("not open") afterwards. */
void counters_close(struct counter_set *cs);

/*
 * The first candidate of counter i that libpfm4 encodes on this host, with
 * its perf_event_attr type and config, the accesses it counts and its
 * meaning (scope and tlb may be NULL); NULL when none does. Opens nothing.
 */
const char *counters_encode(size_t i, uint32_t *type, uint64_t *config, enum tlb_scope *scope,
			    int *tlb);

/*
 * The JSON of a measurement: {"page_faults": 123, "dtlb_load_misses_walk_
 * completed": "unsupported", ...}, every counter in table order, the number
 * being its growth from before[i] to after[i] (before may be NULL: from
 * zero), scaled for multiplexing; "not counted" when it never ran. With
 * 'running' not NULL, *running is set to {"NAME": fraction} for the
 * counters that were multiplexed (fraction < 1), or NULL when none was.
 * NULL if out of memory.
 */
struct cJSON *counters_to_json(const struct counter_set *cs,
			       const struct counter_sample *before,
			       const struct counter_sample *after, struct cJSON **running);

/*
 * What each counter is (linux.json's counter_events): {"NAME": {"event":
 * the libpfm4 string that opened, "tlb_event": workload/tlbev.h's name or
 * absent, "counts": the scope}} or, unsupported, {"NAME": {"tlb_event": its
 * first candidate's meaning, "unsupported": the reason}}.
 */
struct cJSON *counters_events_json(const struct counter_set *cs);

/* The scope of counter i's candidate that opened; TLB_SCOPE_none when unsupported. */
enum tlb_scope counters_scope(const struct counter_set *cs, size_t i);
/*
 * The meaning (workload/tlbev.h) of counter i's candidate that opened;
 * TLB_EV_NONE for the faults and when unsupported.
 */
int counters_tlb_event(const struct counter_set *cs, size_t i);

/*
 * `virtuoso linux --list-events`: the PMUs libpfm4 detected on this host,
 * then every counter, really opened on the calling process, as
 * "supported (EVENT)" or "unsupported: REASON" (or "error: ..."), aligned.
 * Returns 0, or -1 if libpfm4 failed or a counter met an error.
 */
int counters_list(FILE *out);

#endif
