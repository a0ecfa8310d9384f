/*
 * spec.c - parse and validate a workload spec (docs/workload-format.md).
 *
 * Validation is complete before anything runs: types, ranges, defaults,
 * region names, ranges that leave their region, and the phase-order rules
 * (a munmapped range is never referenced again; accesses respect earlier
 * mprotects, since the native run would otherwise die of SIGSEGV).
 */
#include <stdlib.h>
#include <string.h>

#include "workload/json.h"
#include "workload/size.h"
#include "workload/spec.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Name tables: index = enum value (the *_HOST entries have no name). */
static const char *const khp_names[] = {
	"scan_sleep_ms", "alloc_sleep_ms", "pages_to_scan", "max_ptes_none",
	"max_ptes_swap", "max_ptes_shared", "defrag",
};
static const char *const advice_names[] = { "dontneed", "hugepage", "nohugepage", "collapse" };
static const char *const region_advice_names[] = { "hugepage", "nohugepage" };
static const char *const prot_names[] = { "none", "r", "rw" };
static const char *const op_names[] = {
	"touch", "access", "madvise", "mprotect", "munmap", "khugepaged_wait", "sleep", "command",
};
static const char *const order_names[] = { "sequential", "reverse", "random" };
static const char *const pattern_names[] = { "sequential", "uniform", "zipf", "chase" };
static const char *const share_names[] = { "slice", "whole" };

#define NAME(tbl, v) ((size_t)(v) < ARRAY_SIZE(tbl) ? tbl[v] : "?")
const char *wl_thp_name(enum wl_thp v) { return v == WL_THP_HOST ? "host" : NAME(thp_enabled_names, v - 1); }
const char *wl_defrag_name(enum wl_defrag v) { return v == WL_DEFRAG_HOST ? "host" : NAME(thp_defrag_names, v - 1); }
const char *wl_mthp_name(enum wl_mthp_mode v) { return v == WL_MTHP_HOST ? "host" : NAME(thp_size_mode_names, v - 1); }
const char *wl_khugepaged_key_name(enum wl_khugepaged_key k) { return NAME(khp_names, k); }
const char *wl_advice_name(enum wl_advice v) { return NAME(advice_names, v); }
const char *wl_prot_name(enum wl_prot v) { return NAME(prot_names, v); }
const char *wl_phase_op_name(enum wl_phase_op v) { return NAME(op_names, v); }
const char *wl_order_name(enum wl_order v) { return NAME(order_names, v); }
const char *wl_pattern_name(enum wl_pattern v) { return NAME(pattern_names, v); }
const char *wl_share_name(enum wl_share v) { return NAME(share_names, v); }

struct wl_phase wl_phase_of_thread(const struct wl_phase *p, unsigned t)
{
	struct wl_phase q = *p;
	unsigned n, rank;
	uint64_t pages, base, rem, mask;

	if ((p->op != WL_PH_TOUCH && p->op != WL_PH_ACCESS) || p->share != WL_SHARE_SLICE)
		return q;
	mask = p->thread_mask ? p->thread_mask : 1;	/* built by hand: thread 0 */
	n = (unsigned)__builtin_popcountll(mask);
	rank = (unsigned)__builtin_popcountll(mask & ((UINT64_C(1) << t) - 1));
	pages = p->length / WL_PAGE_SIZE;
	base = pages / n;
	rem = pages % n;
	q.offset = p->offset + WL_PAGE_SIZE * (rank * base + (rank < rem ? rank : rem));
	q.length = WL_PAGE_SIZE * (base + (rank < rem));
	return q;
}

uint64_t wl_touch_steps(const struct wl_phase *p)
{
	return (p->length + p->stride - 1) / p->stride;
}

uint64_t wl_slots(const struct wl_phase *p)
{
	return p->length / p->stride;
}

/* khugepaged tunables: the kernel's own limits (mm/khugepaged.c). */
static const uint64_t khp_max[WL_KHP_NR] = {
	[WL_KHP_SCAN_SLEEP_MS] = UINT32_MAX,
	[WL_KHP_ALLOC_SLEEP_MS] = UINT32_MAX,
	[WL_KHP_PAGES_TO_SCAN] = UINT32_MAX,
	[WL_KHP_MAX_PTES_NONE] = 511,
	[WL_KHP_MAX_PTES_SWAP] = 511,
	[WL_KHP_MAX_PTES_SHARED] = 511,
};

static int parse_kernel(const struct wj_ctx *c, const cJSON *k, struct wl_kernel *out)
{
	static const char *const keys[] = {
		"thp", "defrag", "use_zero_page", "mthp", "khugepaged", NULL,
	};
	const cJSON *m;
	char path[160];
	int v;
	bool b;

	if (wj_check_object(c, k, "kernel", "the kernel block", keys))
		return -1;
	if (wj_enum(c, k, "kernel", "thp", false, thp_enabled_names, THP_ENABLED_NR, &v) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(k, "thp"))
		out->thp = (enum wl_thp)(v + 1);
	if (wj_enum(c, k, "kernel", "defrag", false, thp_defrag_names, THP_DEFRAG_NR, &v) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(k, "defrag"))
		out->defrag = (enum wl_defrag)(v + 1);
	switch (wj_bool(c, k, "kernel", "use_zero_page", false, &b)) {
	case -1:
		return -1;
	case 1:
		out->use_zero_page = b;
	}

	m = cJSON_GetObjectItemCaseSensitive(k, "mthp");
	if (m) {
		char got[WJ_QUOTED_LEN];

		if (!cJSON_IsObject(m))
			return wj_fail(c, "kernel", "mthp",
				       "expected an object of size -> always/inherit/madvise/never, got %s",
				       wj_describe(m, got, sizeof(got)));
		for (const cJSON *e = m->child; e; e = e->next) {
			uint64_t bytes;
			int order = -1;

			wj_path_key(path, sizeof(path), "kernel.mthp", e->string);
			if (!wl_size_parse(e->string, &bytes))
				for (int o = WL_MTHP_MIN_ORDER; o <= WL_MTHP_MAX_ORDER; o++)
					if (bytes == WL_PAGE_SIZE << o)
						order = o;
			if (order < 0)
				return wl_error_set(c->err, c->file, path,
						    "expected an mTHP size: a power of two from \"16KiB\" to \"1MiB\"");
			if (out->mthp[order - WL_MTHP_MIN_ORDER] != WL_MTHP_HOST)
				return wl_error_set(c->err, c->file, path,
						    "duplicate mTHP size (already given with another spelling)");
			if (!cJSON_IsString(e) || wj_enum(c, m, "kernel.mthp", e->string, true,
							   thp_size_mode_names, THP_SIZE_NR, &v) < 0)
				return wl_error_set(c->err, c->file, path,
						    "expected one of always, inherit, madvise, never, got %s",
						    wj_describe(e, got, sizeof(got)));
			out->mthp[order - WL_MTHP_MIN_ORDER] = (enum wl_mthp_mode)(v + 1);
		}
	}

	m = cJSON_GetObjectItemCaseSensitive(k, "khugepaged");
	if (m) {
		static const char *const khp_keys[] = {
			"scan_sleep_ms", "alloc_sleep_ms", "pages_to_scan", "max_ptes_none",
			"max_ptes_swap", "max_ptes_shared", "defrag", NULL,
		};

		if (wj_check_object(c, m, "kernel.khugepaged", "the khugepaged settings", khp_keys))
			return -1;
		for (int i = 0; i < WL_KHP_NR; i++) {
			uint64_t u;
			int r;

			if (i == WL_KHP_DEFRAG) {
				bool d = false;

				r = wj_bool(c, m, "kernel.khugepaged", khp_names[i], false, &d);
				u = d;
			} else {
				/* pages_to_scan 0 is refused by the kernel's sysfs store */
				r = wj_uint(c, m, "kernel.khugepaged", khp_names[i], false,
					    i == WL_KHP_PAGES_TO_SCAN, khp_max[i], &u);
			}
			if (r < 0)
				return -1;
			if (r)
				out->khugepaged[i] = (int64_t)u;
		}
	}
	return 0;
}

static bool valid_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/*
 * Region names to indices: open addressing over a power-of-two table at
 * most half full, so finding a name costs O(1) and checking n regions for
 * duplicates O(n).
 */
struct name_index {
	size_t *slot;		/* region index + 1; 0: empty */
	size_t mask;
};

static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return h;
}

static int name_index_init(struct name_index *ix, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	ix->mask = cap - 1;
	return ix->slot ? 0 : -1;
}

/* The slot holding name, or the empty one where it would go. */
static size_t *name_index_slot(const struct name_index *ix, const struct wl_spec *s,
			       const char *name)
{
	size_t i = (size_t)name_hash(name) & ix->mask;

	while (ix->slot[i] && strcmp(s->regions[ix->slot[i] - 1].name, name))
		i = (i + 1) & ix->mask;
	return &ix->slot[i];
}

static int parse_region(const struct wj_ctx *c, const cJSON *o, const char *path,
			struct wl_spec *s, const struct name_index *ix, struct wl_region *r)
{
	size_t *slot;

	static const char *const keys[] = { "name", "size", "advice", "populate", NULL };
	const char *name;
	const cJSON *adv;
	char p[160], got[WJ_QUOTED_LEN], q[WJ_QUOTED_LEN];

	if (wj_check_object(c, o, path, "a region", keys) ||
	    wj_string(c, o, path, "name", true, &name) < 0)
		return -1;
	if (!name[0])
		return wj_fail(c, path, "name", "expected a non-empty region name");
	slot = name_index_slot(ix, s, name);
	if (*slot)
		return wj_fail(c, path, "name",
			       "expected a unique region name, %s is regions[%zu] already",
			       wj_quote(q, sizeof(q), name), *slot - 1);
	if (wj_size(c, o, path, "size", true, &r->size) < 0)
		return -1;
	if (r->size == 0 || r->size % WL_PAGE_SIZE)
		return wj_fail(c, path, "size", "expected a multiple of 4KiB greater than 0, got %llu",
			       (unsigned long long)r->size);
	if (r->size > WL_MAX_MAPPED - s->mapped)
		return wj_fail(c, path, "size",
			       "expected at most %llu bytes (64TiB) for all regions together, the address space's share for them; got %llu%s",
			       (unsigned long long)WL_MAX_MAPPED, (unsigned long long)r->size,
			       s->mapped ? " after the regions before it" : "");
	s->mapped += r->size;

	adv = cJSON_GetObjectItemCaseSensitive(o, "advice");
	if (adv) {
		size_t n = (size_t)cJSON_GetArraySize(adv), i = 0;
		const cJSON *e;

		if (!cJSON_IsArray(adv))
			return wj_fail(c, path, "advice",
				       "expected an array of \"hugepage\"/\"nohugepage\", got %s",
				       wj_describe(adv, got, sizeof(got)));
		r->advice = calloc(n ? n : 1, sizeof(*r->advice));
		if (!r->advice)
			return wj_fail(c, path, "advice", "out of memory");
		cJSON_ArrayForEach(e, adv) {
			size_t k;

			wj_path_index(p, sizeof(p), wj_path_key(got, sizeof(got), path, "advice"), i);
			for (k = 0; k < ARRAY_SIZE(region_advice_names); k++)
				if (cJSON_IsString(e) && !strcmp(e->valuestring, region_advice_names[k]))
					break;
			if (k == ARRAY_SIZE(region_advice_names)) {
				char d[WJ_QUOTED_LEN];

				return wl_error_set(c->err, c->file, p,
						    "expected \"hugepage\" or \"nohugepage\", got %s",
						    wj_describe(e, d, sizeof(d)));
			}
			r->advice[i++] = k ? WL_ADV_NOHUGEPAGE : WL_ADV_HUGEPAGE;
		}
		r->nr_advice = n;
	}
	if (wj_bool(c, o, path, "populate", false, &r->populate) < 0)
		return -1;
	r->name = strdup(name);
	if (!r->name)
		return wj_fail(c, path, "name", "out of memory");
	*slot = (size_t)(r - s->regions) + 1;
	return 0;
}

/* ---- what earlier phases did to each region: a map of its pages ---------- */

enum seg_state { SEG_RW, SEG_R, SEG_NONE, SEG_UNMAPPED };

struct seg {
	uint64_t start, end;
	enum seg_state state;
	size_t phase;		/* the phase that set it */
};

struct segmap {
	struct seg *v;
	size_t n, cap;
};

/*
 * The segments cover the region in address order without gaps: the one
 * holding 'at' (or the last one) by binary search, so a phase costs
 * O(log n) to look up, plus the segments it changes.
 */
static size_t seg_at(const struct segmap *m, uint64_t at)
{
	size_t lo = 0, hi = m->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= at)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int seg_split(struct segmap *m, uint64_t at)
{
	size_t i = seg_at(m, at);
	struct seg *sg = &m->v[i];

	if (at <= sg->start || at >= sg->end)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		struct seg *nv = realloc(m->v, cap * sizeof(*nv));

		if (!nv)
			return -1;
		m->v = nv;
		m->cap = cap;
		sg = &m->v[i];
	}
	memmove(&m->v[i + 2], &m->v[i + 1], (m->n - i - 1) * sizeof(*sg));
	m->v[i + 1] = *sg;
	m->v[i + 1].start = at;
	sg->end = at;
	m->n++;
	return 0;
}

static int seg_set(struct segmap *m, uint64_t start, uint64_t end,
		   enum seg_state st, size_t phase)
{
	if (seg_split(m, start) || seg_split(m, end))
		return -1;
	for (size_t i = seg_at(m, start); i < m->n && m->v[i].start < end; i++) {
		m->v[i].state = st;
		m->v[i].phase = phase;
	}
	return 0;
}

/* The first segment overlapping [start, end) in state st, or NULL. */
static const struct seg *seg_find(const struct segmap *m, uint64_t start,
				  uint64_t end, enum seg_state st)
{
	for (size_t i = seg_at(m, start); i < m->n && m->v[i].start < end; i++)
		if (m->v[i].state == st)
			return &m->v[i];
	return NULL;
}

/* Check a phase against the earlier ones, then record what it does. */
static int apply_phase_rules(const struct wj_ctx *c, const char *path,
			     const struct wl_spec *s, const struct wl_phase *ph,
			     size_t idx, struct segmap *maps)
{
	struct segmap *m = &maps[ph->region];
	char rname[WJ_QUOTED_LEN];
	uint64_t a = ph->offset, b = ph->offset + ph->length;
	const struct seg *sg;
	bool stores = false, accesses = false;

	if (ph->op > WL_PH_MUNMAP)
		return 0;
	wj_quote(rname, sizeof(rname), s->regions[ph->region].name);
	sg = seg_find(m, a, b, SEG_UNMAPPED);
	if (sg)
		return wj_fail(c, path, "",
			       "expected a range still mapped: [%llu, %llu) of region %s was unmapped by phases[%zu]",
			       (unsigned long long)(sg->start > a ? sg->start : a),
			       (unsigned long long)(sg->end < b ? sg->end : b),
			       rname, sg->phase);
	if (ph->op == WL_PH_TOUCH) {
		accesses = true;
		stores = ph->write;
	} else if (ph->op == WL_PH_ACCESS) {
		accesses = true;
		stores = ph->pattern == WL_PAT_CHASE || ph->write_fraction > 0;
	}
	if (accesses && (sg = seg_find(m, a, b, SEG_NONE)))
		return wj_fail(c, path, "",
			       "expected an accessible range: [%llu, %llu) of region %s has prot none since phases[%zu]",
			       (unsigned long long)(sg->start > a ? sg->start : a),
			       (unsigned long long)(sg->end < b ? sg->end : b),
			       rname, sg->phase);
	if (stores && (sg = seg_find(m, a, b, SEG_R)))
		return wj_fail(c, path, "",
			       "expected a writable range for this phase's stores: [%llu, %llu) of region %s is read-only since phases[%zu]",
			       (unsigned long long)(sg->start > a ? sg->start : a),
			       (unsigned long long)(sg->end < b ? sg->end : b),
			       rname, sg->phase);
	if (ph->op == WL_PH_MPROTECT || ph->op == WL_PH_MUNMAP) {
		enum seg_state st = ph->op == WL_PH_MUNMAP ? SEG_UNMAPPED :
				    ph->prot == WL_PROT_NONE ? SEG_NONE :
				    ph->prot == WL_PROT_R ? SEG_R : SEG_RW;

		if (seg_set(m, a, b, st, idx))
			return wj_fail(c, path, "", "out of memory");
	}
	return 0;
}

/* The keys each op accepts, besides "op". */
static const char *const *op_keys(enum wl_phase_op op)
{
	static const char *const touch[] = {
		"op", "region", "offset", "length", "stride", "order", "write", "threads", "share",
		"concurrent", NULL,
	};
	static const char *const access[] = {
		"op", "region", "offset", "length", "pattern", "count", "write_fraction",
		"stride", "zipf_s", "threads", "share", "concurrent", NULL,
	};
	static const char *const madv[] = {
		"op", "region", "offset", "length", "advice", "threads", "concurrent", NULL,
	};
	static const char *const mprot[] = {
		"op", "region", "offset", "length", "prot", "threads", "concurrent", NULL,
	};
	static const char *const unmap[] = {
		"op", "region", "offset", "length", "threads", "concurrent", NULL,
	};
	static const char *const khp[] = { "op", "full_scans", "timeout_ms", NULL };
	static const char *const slp[] = { "op", "ms", NULL };

	switch (op) {
	case WL_PH_TOUCH: return touch;
	case WL_PH_ACCESS: return access;
	case WL_PH_MADVISE: return madv;
	case WL_PH_MPROTECT: return mprot;
	case WL_PH_MUNMAP: return unmap;
	case WL_PH_KHUGEPAGED_WAIT: return khp;
	case WL_PH_SLEEP:
	case WL_PH_COMMAND: return slp;
	}
	return unmap;
}

static int parse_range(const struct wj_ctx *c, const cJSON *o, const char *path,
		       const struct wl_spec *s, const struct name_index *ix, struct wl_phase *ph)
{
	const struct wl_region *r;
	const size_t *slot;
	const char *name;
	char list[128] = "", q[WJ_QUOTED_LEN];

	if (wj_string(c, o, path, "region", true, &name) < 0)
		return -1;
	slot = name_index_slot(ix, s, name);
	ph->region = *slot ? *slot - 1 : s->nr_regions;
	if (ph->region == s->nr_regions) {
		for (size_t i = 0; i < s->nr_regions; i++) {
			size_t at = strlen(list);

			if (at + strlen(s->regions[i].name) + 2 >= sizeof(list) - 4) {
				strcpy(list + at, "…");	/* the list stays short */
				break;
			}
			strcat(list, s->regions[i].name);
			if (i + 1 < s->nr_regions)
				strcat(list, ", ");
		}
		return wj_fail(c, path, "region", "expected the name of a region (%s), got %s",
			       list, wj_quote(q, sizeof(q), name));
	}
	r = &s->regions[ph->region];
	wj_quote(q, sizeof(q), r->name);

	ph->offset = 0;
	if (wj_size(c, o, path, "offset", false, &ph->offset) < 0)
		return -1;
	if (ph->offset % WL_PAGE_SIZE)
		return wj_fail(c, path, "offset", "expected a multiple of 4KiB, got %llu",
			       (unsigned long long)ph->offset);
	if (ph->offset >= r->size)
		return wj_fail(c, path, "offset",
			       "expected an offset inside region %s (size %llu), got %llu",
			       q, (unsigned long long)r->size,
			       (unsigned long long)ph->offset);
	ph->length = r->size - ph->offset;
	switch (wj_size(c, o, path, "length", false, &ph->length)) {
	case -1:
		return -1;
	case 1:
		if (ph->length == 0 || ph->length % WL_PAGE_SIZE)
			return wj_fail(c, path, "length",
				       "expected a multiple of 4KiB greater than 0, got %llu",
				       (unsigned long long)ph->length);
		if (ph->length > r->size - ph->offset)
			return wj_fail(c, path, "length",
				       "expected a range inside region %s: offset %llu + length %llu passes its size %llu",
				       q, (unsigned long long)ph->offset,
				       (unsigned long long)ph->length, (unsigned long long)r->size);
	}
	return 0;
}

static int parse_stride(const struct wj_ctx *c, const cJSON *o, const char *path,
			struct wl_phase *ph, uint64_t dflt, bool within_range)
{
	ph->stride = dflt;
	if (wj_size(c, o, path, "stride", false, &ph->stride) < 0)
		return -1;
	if (ph->stride == 0 || ph->stride % 8)
		return wj_fail(c, path, "stride", "expected a multiple of 8 bytes greater than 0, got %llu",
			       (unsigned long long)ph->stride);
	if (within_range && ph->stride > ph->length)
		return wj_fail(c, path, "stride",
			       "expected a stride no larger than the range (%llu bytes), got %llu",
			       (unsigned long long)ph->length, (unsigned long long)ph->stride);
	return 0;
}

static int parse_phase_op(const struct wj_ctx *c, const cJSON *o, const char *path,
			  const struct wl_spec *s, const struct name_index *ix, struct wl_phase *ph)
{
	char got[WJ_QUOTED_LEN];
	int v;

	if (!cJSON_IsObject(o))
		return wj_fail(c, path, "", "expected a phase (an object with \"op\"), got %s",
			       wj_describe(o, got, sizeof(got)));
	/* "command" names a recorded command's phase: no file has one */
	if (wj_enum(c, o, path, "op", true, op_names, WL_PH_COMMAND, &v) < 0)
		return -1;
	ph->op = (enum wl_phase_op)v;
	if (wj_check_object(c, o, path, op_names[v], op_keys(ph->op)))
		return -1;
	if (ph->op <= WL_PH_MUNMAP && parse_range(c, o, path, s, ix, ph))
		return -1;

	switch (ph->op) {
	case WL_PH_TOUCH:
		ph->write = true;
		v = WL_ORDER_SEQUENTIAL;
		if (parse_stride(c, o, path, ph, WL_PAGE_SIZE, false) ||
		    wj_enum(c, o, path, "order", false, order_names, ARRAY_SIZE(order_names), &v) < 0 ||
		    wj_bool(c, o, path, "write", false, &ph->write) < 0)
			return -1;
		ph->order = (enum wl_order)v;
		return 0;
	case WL_PH_ACCESS:
		ph->write_fraction = 0;
		ph->zipf_s = 0.99;
		if (wj_enum(c, o, path, "pattern", true, pattern_names, ARRAY_SIZE(pattern_names),
			    &v) < 0)
			return -1;
		ph->pattern = (enum wl_pattern)v;
		if (wj_uint(c, o, path, "count", true, 1, WJ_MAX_EXACT, &ph->count) < 0 ||
		    wj_number(c, o, path, "write_fraction", false, 0, false, 1,
			      &ph->write_fraction) < 0 ||
		    parse_stride(c, o, path, ph, 64, true) ||
		    wj_number(c, o, path, "zipf_s", false, 0, true, 100, &ph->zipf_s) < 0)
			return -1;
		if (ph->pattern == WL_PAT_CHASE)
			ph->write_fraction = 0;	/* does not apply: loads only */
		return 0;
	case WL_PH_MADVISE:
		if (wj_enum(c, o, path, "advice", true, advice_names, ARRAY_SIZE(advice_names), &v) < 0)
			return -1;
		ph->advice = (enum wl_advice)v;
		return 0;
	case WL_PH_MPROTECT:
		if (wj_enum(c, o, path, "prot", true, prot_names, ARRAY_SIZE(prot_names), &v) < 0)
			return -1;
		ph->prot = (enum wl_prot)v;
		return 0;
	case WL_PH_MUNMAP:
		return 0;
	case WL_PH_KHUGEPAGED_WAIT:
		ph->full_scans = 2;
		ph->timeout_ms = 60000;
		if (wj_uint(c, o, path, "full_scans", false, 1, UINT32_MAX, &ph->full_scans) < 0 ||
		    wj_uint(c, o, path, "timeout_ms", false, 1, WJ_MAX_EXACT, &ph->timeout_ms) < 0)
			return -1;
		return 0;
	case WL_PH_SLEEP:
		return wj_uint(c, o, path, "ms", true, 0, WJ_MAX_EXACT, &ph->ms) < 0 ? -1 : 0;
	case WL_PH_COMMAND:
		break;		/* never parsed (wj_enum() refused it) */
	}
	return 0;
}

/* A phase's "threads": "all", or an array of distinct thread numbers. */
static int parse_thread_list(const struct wj_ctx *c, const cJSON *o, const char *path,
			     const struct wl_spec *s, uint64_t *mask)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "threads"), *e;
	char got[WJ_QUOTED_LEN];
	uint64_t all = s->threads == WL_MAX_THREADS ? UINT64_MAX :
		       (UINT64_C(1) << s->threads) - 1;

	if (!v)
		return 0;
	if (cJSON_IsString(v) && !strcmp(v->valuestring, "all")) {
		*mask = all;
		return 0;
	}
	if (!cJSON_IsArray(v) || !cJSON_GetArraySize(v))
		return wj_fail(c, path, "threads", "expected \"all\" or an array of thread numbers "
			       "0..%u, got %s", s->threads - 1, wj_describe(v, got, sizeof(got)));
	*mask = 0;
	cJSON_ArrayForEach(e, v) {
		double d = cJSON_GetNumberValue(e);

		if (!cJSON_IsNumber(e) || d < 0 || d >= s->threads || d != (double)(unsigned)d)
			return wj_fail(c, path, "threads", "expected thread numbers 0..%u (\"threads\": "
				       "%u), got %s", s->threads - 1, s->threads,
				       wj_describe(e, got, sizeof(got)));
		if (*mask >> (unsigned)d & 1)
			return wj_fail(c, path, "threads", "expected each thread once, got %u twice",
				       (unsigned)d);
		*mask |= UINT64_C(1) << (unsigned)d;
	}
	return 0;
}

/*
 * A phase: its op's fields, then which threads run it. Version 2 alone has
 * "threads", "share" and "concurrent"; 'prev' is the phase before (NULL for
 * the first), which a concurrent phase runs alongside.
 */
static int parse_phase(const struct wj_ctx *c, const cJSON *o, const char *path,
		       const struct wl_spec *s, const struct name_index *ix,
		       const struct wl_phase *prev, struct wl_phase *ph)
{
	static const char *const v2_keys[] = { "threads", "share", "concurrent" };
	bool ranged, shared;
	int v = WL_SHARE_SLICE;

	if (parse_phase_op(c, o, path, s, ix, ph))
		return -1;
	ranged = ph->op <= WL_PH_MUNMAP;
	shared = ph->op == WL_PH_TOUCH || ph->op == WL_PH_ACCESS;
	ph->thread_mask = shared && s->threads < WL_MAX_THREADS ?
			  (UINT64_C(1) << s->threads) - 1 : shared ? UINT64_MAX : 1;
	if (!ranged)	/* khugepaged_wait, sleep: thread 0 acts, the others wait */
		ph->thread_mask = s->threads < WL_MAX_THREADS ? (UINT64_C(1) << s->threads) - 1 :
			UINT64_MAX;
	ph->share = WL_SHARE_SLICE;
	ph->concurrent = false;
	for (size_t k = 0; k < ARRAY_SIZE(v2_keys); k++)
		if (s->version < 2 && cJSON_GetObjectItemCaseSensitive(o, v2_keys[k]))
			return wj_fail(c, path, v2_keys[k], "a field of format version 2 (threads): "
				       "the workload needs \"version\": 2");
	if (parse_thread_list(c, o, path, s, &ph->thread_mask) ||
	    wj_enum(c, o, path, "share", false, share_names, ARRAY_SIZE(share_names), &v) < 0 ||
	    wj_bool(c, o, path, "concurrent", false, &ph->concurrent) < 0)
		return -1;
	ph->share = (enum wl_share)v;
	if (ranged && !shared && __builtin_popcountll(ph->thread_mask) != 1)
		return wj_fail(c, path, "threads", "expected one thread for a %s phase (one system "
			       "call), got %d", wl_phase_op_name(ph->op),
			       __builtin_popcountll(ph->thread_mask));
	if (shared && ph->share == WL_SHARE_SLICE) {
		unsigned n = (unsigned)__builtin_popcountll(ph->thread_mask);

		if (ph->length / WL_PAGE_SIZE < n)
			return wj_fail(c, path, "length", "expected at least one 4KiB page for each of "
				       "the phase's %u threads (\"share\": \"slice\"), got %llu bytes",
				       n, (unsigned long long)ph->length);
		if (ph->op == WL_PH_ACCESS &&
		    ph->stride > WL_PAGE_SIZE * (ph->length / WL_PAGE_SIZE / n))
			return wj_fail(c, path, "stride", "expected a stride no larger than a thread's "
				       "slice (%llu bytes), got %llu",
				       (unsigned long long)(WL_PAGE_SIZE * (ph->length / WL_PAGE_SIZE / n)),
				       (unsigned long long)ph->stride);
	}
	if (ph->concurrent) {
		if (!prev)
			return wj_fail(c, path, "concurrent", "expected a phase before this one to run "
				       "alongside");
		if (prev->op > WL_PH_MUNMAP || !ranged)
			return wj_fail(c, path, "concurrent", "expected two phases of touch, access, "
				       "madvise, mprotect or munmap, got %s after %s",
				       wl_phase_op_name(ph->op), wl_phase_op_name(prev->op));
		if (prev->thread_mask & ph->thread_mask)
			return wj_fail(c, path, "concurrent", "expected threads other than the "
				       "previous phase's: thread %d runs both",
				       __builtin_ctzll(prev->thread_mask & ph->thread_mask));
	}
	return 0;
}

/*
 * Phases that run together may not race: a range one of them unmaps,
 * protects or advises must be apart from the ranges the others touch (which
 * would fault or not by timing alone). 'first' is the group's first phase.
 */
static int check_concurrent(const struct wj_ctx *c, const char *path, const struct wl_spec *s,
			    size_t first, size_t idx)
{
	const struct wl_phase *ph = &s->phases[idx];

	for (size_t k = first; k < idx; k++) {
		const struct wl_phase *q = &s->phases[k];
		bool sys_a = ph->op >= WL_PH_MADVISE, sys_b = q->op >= WL_PH_MADVISE;

		if ((!sys_a && !sys_b) || q->region != ph->region ||
		    q->offset >= ph->offset + ph->length || ph->offset >= q->offset + q->length)
			continue;
		return wj_fail(c, path, "concurrent", "expected a range apart from phases[%zu]'s "
			       "(a %s alongside a %s of the same pages would race)", k,
			       wl_phase_op_name(ph->op), wl_phase_op_name(q->op));
	}
	return 0;
}

static int parse_root(const struct wj_ctx *c, const cJSON *root, struct wl_spec *s)
{
	static const char *const keys[] = {
		"name", "description", "seed", "version", "threads", "kernel", "regions", "phases",
		NULL,
	};
	uint64_t version = 1, threads = 1;
	size_t group = 0;
	const cJSON *arr, *e;
	const char *str;
	struct name_index ix = { 0 };
	struct segmap *maps;
	char path[160], got[WJ_QUOTED_LEN];
	size_t i;
	int ret = 0;

	if (wj_check_object(c, root, "", "a workload", keys) ||
	    wj_string(c, root, "", "name", true, &str) < 0)
		return -1;
	if (!valid_name(str))
		return wj_fail(c, "", "name",
			       "expected a name matching [a-z0-9][a-z0-9._-]*, got %s",
			       wj_quote(got, sizeof(got), str));
	s->name = strdup(str);
	if (wj_string(c, root, "", "description", false, &str) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(root, "description"))
		s->description = strdup(str);
	if (wj_uint(c, root, "", "seed", false, 0, WJ_MAX_EXACT, &s->seed) < 0 ||
	    wj_uint(c, root, "", "version", false, 1, WL_SPEC_VERSION, &version) < 0)
		return -1;
	s->version = (unsigned)version;
	if (version < 2 && cJSON_GetObjectItemCaseSensitive(root, "threads"))
		return wj_fail(c, "", "threads", "a field of format version 2 (threads): the "
			       "workload needs \"version\": 2");
	if (wj_uint(c, root, "", "threads", false, 1, WL_MAX_THREADS, &threads) < 0)
		return -1;
	s->threads = (unsigned)threads;
	e = cJSON_GetObjectItemCaseSensitive(root, "kernel");
	if (e && parse_kernel(c, e, &s->kernel))
		return -1;

	arr = cJSON_GetObjectItemCaseSensitive(root, "regions");
	if (!arr)
		return wj_fail(c, "", "regions", "required: expected an array of at least one region");
	if (!cJSON_IsArray(arr) || !cJSON_GetArraySize(arr))
		return wj_fail(c, "", "regions", "expected an array of at least one region, got %s",
			       cJSON_IsArray(arr) ? "an empty array" : wj_describe(arr, got, sizeof(got)));
	s->regions = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*s->regions));
	if (!s->regions || name_index_init(&ix, (size_t)cJSON_GetArraySize(arr)))
		return wj_fail(c, "", "regions", "out of memory");
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		wj_path_index(path, sizeof(path), "regions", i);
		if (parse_region(c, e, path, s, &ix, &s->regions[i])) {
			free(s->regions[i].advice);
			free(ix.slot);
			return -1;
		}
		s->nr_regions = ++i;
	}

	arr = cJSON_GetObjectItemCaseSensitive(root, "phases");
	if (!arr || !cJSON_IsArray(arr) || !cJSON_GetArraySize(arr)) {
		free(ix.slot);
		if (!arr)
			return wj_fail(c, "", "phases",
				       "required: expected an array of at least one phase");
		return wj_fail(c, "", "phases", "expected an array of at least one phase, got %s",
			       cJSON_IsArray(arr) ? "an empty array" : wj_describe(arr, got, sizeof(got)));
	}
	s->phases = calloc((size_t)cJSON_GetArraySize(arr), sizeof(*s->phases));
	maps = calloc(s->nr_regions, sizeof(*maps));
	if (!s->phases || !maps) {
		free(maps);
		free(ix.slot);
		return wj_fail(c, "", "phases", "out of memory");
	}
	for (i = 0; i < s->nr_regions; i++) {
		maps[i].v = malloc(sizeof(*maps[i].v));
		if (!maps[i].v) {
			ret = wj_fail(c, "", "phases", "out of memory");
			goto cleanup;
		}
		maps[i].v[0] = (struct seg){ 0, s->regions[i].size, SEG_RW, 0 };
		maps[i].n = maps[i].cap = 1;
	}
	i = 0;
	cJSON_ArrayForEach(e, arr) {
		wj_path_index(path, sizeof(path), "phases", i);
		if (parse_phase(c, e, path, s, &ix, i ? &s->phases[i - 1] : NULL, &s->phases[i]) ||
		    (s->phases[i].concurrent && check_concurrent(c, path, s, group, i)) ||
		    apply_phase_rules(c, path, s, &s->phases[i], i, maps)) {
			ret = -1;
			goto cleanup;
		}
		if (!s->phases[i].concurrent)
			group = i;
		s->nr_phases = ++i;
	}
cleanup:
	for (i = 0; i < s->nr_regions; i++)
		free(maps[i].v);
	free(maps);
	free(ix.slot);
	return ret;
}

int wl_kernel_from_json(struct wl_kernel *k, const cJSON *obj, const char *file,
			struct wl_error *err)
{
	const struct wj_ctx c = { .file = file, .err = err };

	wl_kernel_init(k);
	return parse_kernel(&c, obj, k);
}

void wl_kernel_init(struct wl_kernel *k)
{
	memset(k, 0, sizeof(*k));	/* every enum's *_HOST is 0 */
	k->use_zero_page = -1;
	for (int i = 0; i < WL_KHP_NR; i++)
		k->khugepaged[i] = -1;
}

int wl_spec_parse(struct wl_spec *s, const char *text, size_t len,
		  const char *file, struct wl_error *err)
{
	struct wj_ctx c = { .file = file, .err = err };
	cJSON *root;
	int ret;

	memset(s, 0, sizeof(*s));
	wl_kernel_init(&s->kernel);
	root = wj_parse(&c, text, len);
	if (!root)
		return -1;
	ret = parse_root(&c, root, s);
	cJSON_Delete(root);
	if (!ret)
		s->file = strdup(file);
	if (ret || !s->file || !s->name) {
		if (!ret)
			wl_error_set(err, file, "", "out of memory");
		wl_spec_release(s);
		return -1;
	}
	return 0;
}

int wl_spec_load(struct wl_spec *s, const char *path, struct wl_error *err)
{
	char *text;
	size_t len;
	int ret;

	memset(s, 0, sizeof(*s));
	if (wj_read_file(path, &text, &len, err))
		return -1;
	ret = wl_spec_parse(s, text, len, path, err);
	free(text);
	return ret;
}

void wl_spec_release(struct wl_spec *s)
{
	for (size_t i = 0; i < s->nr_regions; i++) {
		free(s->regions[i].name);
		free(s->regions[i].advice);
	}
	free(s->regions);
	free(s->phases);
	free(s->name);
	free(s->description);
	free(s->file);
	memset(s, 0, sizeof(*s));
}

void wl_phase_group(const struct wl_spec *s, size_t i, size_t *first, size_t *last)
{
	size_t a = i, b = i;

	while (a > 0 && s->phases[a].concurrent)
		a--;
	while (b + 1 < s->nr_phases && s->phases[b + 1].concurrent)
		b++;
	*first = a;
	*last = b;
}
