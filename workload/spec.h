/*
 * spec.h - the workload specification (docs/workload-format.md, version 1).
 *
 * A spec is parsed once, validated completely, and then read-only: both the
 * native executor (the real host) and the simulator drive the generator from
 * the same struct wl_spec, so both worlds execute the same stream.
 *
 * Every rule of the format is enforced by wl_spec_parse(); on failure nothing
 * is returned but one error: the file, the JSON path of the offending field
 * (e.g. "phases[2].stride") and what was expected.
 */
#ifndef WORKLOAD_SPEC_H
#define WORKLOAD_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "workload/error.h"
#include "workload/thp_modes.h"

/*
 * Version 1 is the contract (../shared/spec/workload.md); version 2 adds
 * threads (docs/workload-format.md, "Threads"), and a version 1 file means
 * what it always meant.
 */
#define WL_SPEC_VERSION 2
#define WL_MAX_THREADS 64	/* a phase's threads are a 64-bit mask */
#define WL_PAGE_SIZE 4096ULL
#define WL_ACCESS_SIZE 8u	/* every access loads or stores 8 bytes */
/*
 * The most all regions together may map: 2^46 bytes (64 TiB), half of the
 * x86-64 user address space (2^47 bytes with 4-level page tables); the
 * other half is left to the program, its libraries, heap and stack, and
 * the gaps mmap leaves. More can never be mapped, so check refuses it.
 */
#define WL_MAX_MAPPED (UINT64_C(1) << 46)

/* ---- the kernel block ---------------------------------------------------- */

/*
 * Every kernel setting may be left to "the host's current setting": the
 * parser records that as *_HOST (or -1 for numbers) and wl_kernel_resolve()
 * fills the values in from THP sysfs when a concrete policy is needed.
 */
#define WL_THP_ENUM(e, name) WL_THP_##e,
#define WL_DEFRAG_ENUM(e, name) WL_DEFRAG_##e,
#define WL_MTHP_ENUM(e, name) WL_MTHP_##e,
/* each mode's value is its position in workload/thp_modes.h's list plus 1 */
enum wl_thp { WL_THP_HOST, THP_ENABLED_MODES(WL_THP_ENUM) };
enum wl_defrag { WL_DEFRAG_HOST, THP_DEFRAG_MODES(WL_DEFRAG_ENUM) };
enum wl_mthp_mode { WL_MTHP_HOST, THP_SIZE_MODES(WL_MTHP_ENUM) };
#undef WL_THP_ENUM
#undef WL_DEFRAG_ENUM
#undef WL_MTHP_ENUM

/* mTHP sizes the format knows: 16KiB (order 2) .. 1MiB (order 8). */
#define WL_MTHP_MIN_ORDER 2
#define WL_MTHP_MAX_ORDER 8
#define WL_MTHP_NR (WL_MTHP_MAX_ORDER - WL_MTHP_MIN_ORDER + 1)

/* khugepaged tunables, in the order of the format; -1 = host's setting. */
enum wl_khugepaged_key {
	WL_KHP_SCAN_SLEEP_MS, WL_KHP_ALLOC_SLEEP_MS, WL_KHP_PAGES_TO_SCAN,
	WL_KHP_MAX_PTES_NONE, WL_KHP_MAX_PTES_SWAP, WL_KHP_MAX_PTES_SHARED,
	WL_KHP_DEFRAG, WL_KHP_NR,
};

struct wl_kernel {
	enum wl_thp thp;
	enum wl_defrag defrag;
	int use_zero_page;		/* 0, 1, or -1 = host */
	enum wl_mthp_mode mthp[WL_MTHP_NR];	/* index: order - WL_MTHP_MIN_ORDER */
	int64_t khugepaged[WL_KHP_NR];	/* -1 = host; defrag is 0/1 */
};

/* ---- regions and phases ------------------------------------------------ */

enum wl_advice { WL_ADV_DONTNEED, WL_ADV_HUGEPAGE, WL_ADV_NOHUGEPAGE, WL_ADV_COLLAPSE };
enum wl_prot { WL_PROT_NONE, WL_PROT_R, WL_PROT_RW };

struct wl_region {
	char *name;
	uint64_t size;
	enum wl_advice *advice;		/* hugepage / nohugepage, applied in order */
	size_t nr_advice;
	bool populate;
};

enum wl_phase_op {
	WL_PH_TOUCH, WL_PH_ACCESS, WL_PH_MADVISE, WL_PH_MPROTECT, WL_PH_MUNMAP,
	WL_PH_KHUGEPAGED_WAIT, WL_PH_SLEEP,
	WL_PH_COMMAND,		/* a recorded command's one phase (never in a file) */
};
enum wl_order { WL_ORDER_SEQUENTIAL, WL_ORDER_REVERSE, WL_ORDER_RANDOM };
/* How a touch or access phase's threads share its range. */
enum wl_share {
	WL_SHARE_SLICE,		/* each its own contiguous slice, in thread order */
	WL_SHARE_WHOLE,		/* each the whole range, with its own stream */
};
enum wl_pattern { WL_PAT_SEQUENTIAL, WL_PAT_UNIFORM, WL_PAT_ZIPF, WL_PAT_CHASE };

/*
 * One phase. Only the fields of its op are meaningful; the parser fills every
 * default, so consumers never look at the JSON again.
 */
struct wl_phase {
	enum wl_phase_op op;
	uint32_t region;		/* index into wl_spec.regions */
	uint64_t offset, length;	/* range in bytes, inside the region */
	uint64_t stride;		/* touch, access */
	/* touch */
	enum wl_order order;
	bool write;
	/* access */
	enum wl_pattern pattern;
	uint64_t count;
	double write_fraction;
	double zipf_s;
	/* madvise / mprotect */
	enum wl_advice advice;
	enum wl_prot prot;
	/* khugepaged_wait / sleep */
	uint64_t full_scans;
	uint64_t timeout_ms;
	uint64_t ms;
	/*
	 * Threads (version 2; version 1: thread 0 alone). The threads that run
	 * it, bit t for thread t (khugepaged_wait and sleep: every thread
	 * waits, thread 0 acts); for touch and access how they share the
	 * range; whether it runs alongside the phase before it (no barrier
	 * between them).
	 */
	uint64_t thread_mask;
	enum wl_share share;
	bool concurrent;
};

struct wl_spec {
	char *file;			/* where it was read from, for messages */
	char *name;
	char *description;		/* NULL when absent */
	uint64_t seed;
	unsigned version;		/* 1 or 2 */
	unsigned threads;		/* 1 .. WL_MAX_THREADS; version 1: 1 */
	struct wl_kernel kernel;
	struct wl_region *regions;
	size_t nr_regions;
	uint64_t mapped;		/* bytes the regions map together, <= WL_MAX_MAPPED */
	struct wl_phase *phases;
	size_t nr_phases;
};

/*
 * Parse and validate a spec held in memory; 'file' only names it in errors.
 * Returns 0, or -1 with 'err' filled (s is then empty and needs no release).
 */
int wl_spec_parse(struct wl_spec *s, const char *text, size_t len,
		  const char *file, struct wl_error *err);

/* Read 'path' and parse it; a missing or unreadable file is an error too. */
int wl_spec_load(struct wl_spec *s, const char *path, struct wl_error *err);

void wl_spec_release(struct wl_spec *s);

/* Every setting left to the host (what a spec without a kernel block says). */
void wl_kernel_init(struct wl_kernel *k);

/*
 * Settings from a kernel object in the spec's format (a spec's "kernel"
 * block, or the one a result file records: linux.json's "kernel" holds every
 * setting, resolved): what it leaves out stays left to the host. 0, or -1
 * with err naming 'file' and the field ("kernel.thp").
 */
struct cJSON;
int wl_kernel_from_json(struct wl_kernel *k, const struct cJSON *obj, const char *file,
			struct wl_error *err);

/*
 * Fill every setting left to the host from a THP sysfs tree rooted at
 * 'thp_root' (normally WL_THP_SYSFS). Returns 0, or -1 with err naming the
 * sysfs file that could not be read or understood.
 */
#define WL_THP_SYSFS "/sys/kernel/mm/transparent_hugepage"
int wl_kernel_resolve(struct wl_kernel *k, const char *thp_root, struct wl_error *err);

/*
 * The file of a khugepaged tunable, relative to the THP sysfs root: the
 * kernel's name ("khugepaged/scan_sleep_millisecs"), not the spec's key.
 */
const char *wl_khugepaged_file(enum wl_khugepaged_key k);

/*
 * The spec normalised as a cJSON tree (free with cJSON_Delete): sizes in
 * bytes, every default filled in, region references by name, keys in the
 * format's order. Kernel settings still left to the host are omitted (so the
 * output is itself a valid spec meaning the same thing); resolve them first
 * with wl_kernel_resolve() to print the values in force.
 */
struct cJSON;
struct cJSON *wl_spec_to_json(const struct wl_spec *s);

/* Names as the format spells them ("defer+madvise", "dontneed", ...). */
const char *wl_thp_name(enum wl_thp v);
const char *wl_defrag_name(enum wl_defrag v);
const char *wl_mthp_name(enum wl_mthp_mode v);
const char *wl_khugepaged_key_name(enum wl_khugepaged_key k);
const char *wl_advice_name(enum wl_advice v);
const char *wl_prot_name(enum wl_prot v);
const char *wl_phase_op_name(enum wl_phase_op v);
const char *wl_order_name(enum wl_order v);
const char *wl_pattern_name(enum wl_pattern v);

const char *wl_share_name(enum wl_share v);

/*
 * The group phase i belongs to, [*first, *last]: a phase and the
 * concurrent ones after it, which every thread starts and ends together.
 */
void wl_phase_group(const struct wl_spec *s, size_t i, size_t *first, size_t *last);

/* Whether thread t runs phase p. */
static inline bool wl_phase_runs(const struct wl_phase *p, unsigned t)
{
	return t < WL_MAX_THREADS && (p->thread_mask >> t & 1);
}

/*
 * The phase as thread t runs it: p itself with, for a touch or access
 * shared by slices, the range of t's slice. The range's 4 KiB pages go to
 * the phase's threads in thread order, each a contiguous run of
 * pages / n of them, the first pages % n threads one more. t must run p.
 */
struct wl_phase wl_phase_of_thread(const struct wl_phase *p, unsigned t);

/* Number of 8-byte accesses a touch phase performs: ceil(length / stride). */
uint64_t wl_touch_steps(const struct wl_phase *p);
/* Number of stride-spaced slots of a chase/zipf range: length / stride. */
uint64_t wl_slots(const struct wl_phase *p);

#endif
