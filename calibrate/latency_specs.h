/*
 * latency_specs.h - the fault-latency microbenchmarks: one workload spec per
 * fault kind, as spec text (workload/spec.h's format), whose timed phase
 * faults in nothing but that kind.
 *
 * virtuoso calibrate runs each spec on Linux under the probes and keeps the
 * kernel's in-window latency of the timed phase's faults of the kind
 * (measure.h's struct cal_latency); the fit simulates the very same text, so
 * the text is a pure function of (kind, quick): same inputs, same bytes.
 *
 * Each spec's kernel block sets every THP setting the kind depends on (THP
 * enabled, defrag, use_zero_page and every mTHP size the format knows), so
 * the host's own settings never change what is measured. A setup phase comes
 * first where the kind needs one (zero_cow: reads map the zero page;
 * huge_zero_write: reads map the huge zero page); the timed phase is last.
 *
 *	kind		kernel				region, timed phase
 *	anon_4k		thp never, mTHP never		nohugepage; a write per 4 KiB
 *	zero_read	thp never, mTHP never		nohugepage; a read per 4 KiB
 *	zero_cow	thp never, mTHP never		nohugepage; reads, then a
 *							write per 4 KiB (timed)
 *	huge_zero_read	thp always, use_zero_page	a read per 2 MiB
 *	huge_zero_write	thp always, use_zero_page	reads, then a write per
 *							2 MiB (timed)
 *	thp		thp always, defrag madvise	a write per 2 MiB
 *	mthp_N		thp never, N KiB always, the	a write per N KiB
 *			other sizes never
 *
 * No advice on the THP and mTHP regions, and defrag madvise: their
 * allocations do not stall in direct compaction, so the latency is the
 * fault's own, not the fragmentation of the moment.
 */
#ifndef CALIBRATE_LATENCY_SPECS_H
#define CALIBRATE_LATENCY_SPECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The kinds, one list for the enum and the names. The names are compare's
 * fault kind names (compare/compare.h FAULT_KINDS; a test holds them
 * equal). X(name, mTHP size in KiB or 0).
 */
#define CAL_LATENCY_KINDS(X)		\
	X(anon_4k, 0)			\
	X(zero_read, 0)			\
	X(zero_cow, 0)			\
	X(huge_zero_read, 0)		\
	X(huge_zero_write, 0)		\
	X(thp, 0)			\
	X(mthp_16k, 16)			\
	X(mthp_32k, 32)			\
	X(mthp_64k, 64)			\
	X(mthp_128k, 128)		\
	X(mthp_256k, 256)		\
	X(mthp_512k, 512)		\
	X(mthp_1m, 1024)

enum cal_lat_kind {
#define CAL_LAT_ENUM(name, kib) CAL_LAT_##name,
	CAL_LATENCY_KINDS(CAL_LAT_ENUM)
#undef CAL_LAT_ENUM
	CAL_LAT_NR
};

/* "anon_4k", ...; NULL past the end. */
const char *cal_lat_name(unsigned k);

/* The kind's mTHP size in KiB; 0 for the others. */
unsigned cal_lat_mthp_kib(unsigned k);

/* The spec's "name": "cal-latency-KIND" (quick or not). */
const char *cal_lat_spec_name(unsigned k);

/*
 * The spec text of kind k into buf (NUL-terminated). Returns its length, or
 * -1 when it does not fit (4096 bytes always do).
 */
#define CAL_LAT_SPEC_MAX 4096
int cal_lat_spec(unsigned k, bool quick, char *buf, size_t len);

/* The index of the timed phase in the spec (the last one). */
unsigned cal_lat_timed_phase(unsigned k);

/* The faults the timed phase takes per run: one per touch. */
uint64_t cal_lat_faults(unsigned k, bool quick);

/*
 * The shootdown microbenchmark (virtuoso calibrate's "shootdown"): two
 * threads, thread 0 reading its own region while thread 1 gives back one
 * page of its own with MADV_DONTNEED, CAL_SHOOTDOWN_SAMPLES times, each
 * pair a concurrent phase group: every call flushes one page and, thread
 * 0's CPU running the mm, makes one cross-call to it (mimicos/tlb.h's
 * rules), whose time there and whose initiator's wait the probes record
 * (linux.json's tlb_ipis). Thread 0 reads because it leaves each group's
 * meeting first (it runs the loader's handshake while the others wait), so
 * it is running by the time thread 1, woken, makes its call; the other way
 * round, the call would come before the reader woke, its CPU still lazy.
 * THP off, so that nothing else flushes.
 */
#define CAL_SHOOTDOWN_SPEC_NAME	"cal-shootdown"
#define CAL_SHOOTDOWN_SPEC_MAX	16384
#define CAL_SHOOTDOWN_SAMPLES(quick)	((quick) ? 8u : 32u)
int cal_shootdown_spec(bool quick, char *buf, size_t len);

#endif
