/*
 * gen.c - the generator: a spec becomes the op stream of gen.h.
 *
 * The stream is produced in batches by a small state machine (struct wl_gen
 * 'stage'). The dispatch on the phase's op and pattern happens once per
 * batch; each pattern then fills the batch in its own tight loop with the
 * phase's invariants (base offset, stride, write threshold, rng state) held
 * in locals, so a uniform or sequential access costs a few nanoseconds.
 *
 * Determinism rests on two rules: phase i draws only from its own rng, seeded
 * with wl_rng_derive(seed, i) at its PHASE_BEGIN; and within a phase the draws
 * happen in a fixed order (the permutation first, then per access: address,
 * then write decision), whatever the batch boundaries are.
 */
#include "workload/gen.h"

enum gen_stage {
	ST_MAP,		/* MAP of g->region next */
	ST_ADVICE,	/* MADVISE g->advice of g->region next */
	ST_BEGIN,	/* PHASE_BEGIN of g->phase next */
	ST_BUILD,	/* chase: link stores, slot g->i of g->n */
	ST_BODY,	/* the phase's ops, g->i of g->n done */
	ST_END,		/* PHASE_END of g->phase next */
	ST_DONE,
};

/* How an access picks load or store; see write_flag(). */
enum write_mode { WR_NEVER, WR_ALWAYS, WR_SOME };

static enum write_mode write_mode(double fraction)
{
	if (fraction <= 0)
		return WR_NEVER;
	if (fraction >= 1)
		return WR_ALWAYS;
	return WR_SOME;
}

/* ---- building ops -------------------------------------------------------- */

static inline struct wl_op mk_op(uint8_t type, uint32_t region, uint64_t off,
				 uint64_t arg, uint8_t flags)
{
	return (struct wl_op){
		.off = off, .arg = arg, .region = region,
		.type = type, .flags = flags, .size = 0,
	};
}

static inline struct wl_op mk_access(uint32_t region, uint64_t off,
				     uint64_t arg, uint8_t flags)
{
	return (struct wl_op){
		.off = off, .arg = arg, .region = region,
		.type = WL_OP_ACCESS, .flags = flags, .size = WL_ACCESS_SIZE,
	};
}

/*
 * The store-or-load decision. 'mode' is a constant at every call site (the
 * loops below are instantiated once per mode), so NEVER and ALWAYS cost
 * nothing and draw nothing.
 */
static inline __attribute__((always_inline))
uint8_t write_flag(struct wl_rng *rng, enum write_mode mode, uint64_t wthresh)
{
	if (mode == WR_NEVER)
		return 0;
	if (mode == WR_ALWAYS)
		return WL_ACC_WRITE;
	return wl_rng_next(rng) < wthresh ? WL_ACC_WRITE : 0;
}

/* ---- access patterns: one loop each --------------------------------------- */

static inline __attribute__((always_inline))
void uniform_loop(struct wl_rng *rng, struct wl_op *buf, size_t n,
		  uint32_t region, uint64_t base, uint64_t words,
		  enum write_mode mode, uint64_t wthresh)
{
	for (size_t k = 0; k < n; k++) {
		uint64_t off = base + 8 * wl_rng_below(rng, words);

		buf[k] = mk_access(region, off, 0, write_flag(rng, mode, wthresh));
	}
}

static void fill_uniform(struct wl_gen *g, const struct wl_phase *p,
			 struct wl_op *buf, size_t n)
{
	struct wl_rng rng = g->rng;	/* a local copy lives in registers */
	uint64_t words = p->length / 8 ? p->length / 8 : 1;

	switch (write_mode(p->write_fraction)) {
	case WR_NEVER:
		uniform_loop(&rng, buf, n, p->region, p->offset, words, WR_NEVER, 0);
		break;
	case WR_ALWAYS:
		uniform_loop(&rng, buf, n, p->region, p->offset, words, WR_ALWAYS, 0);
		break;
	case WR_SOME:
		uniform_loop(&rng, buf, n, p->region, p->offset, words, WR_SOME,
			     g->wthresh);
		break;
	}
	g->rng = rng;
}

static inline __attribute__((always_inline))
uint64_t sequential_loop(struct wl_rng *rng, struct wl_op *buf, size_t n,
			 uint32_t region, uint64_t base, uint64_t pos,
			 uint64_t stride, uint64_t length,
			 enum write_mode mode, uint64_t wthresh)
{
	for (size_t k = 0; k < n; k++) {
		buf[k] = mk_access(region, base + pos, 0,
				   write_flag(rng, mode, wthresh));
		pos += stride;
		if (pos >= length)
			pos = 0;
	}
	return pos;
}

static void fill_sequential(struct wl_gen *g, const struct wl_phase *p,
			    struct wl_op *buf, size_t n)
{
	struct wl_rng rng = g->rng;
	uint64_t pos = g->cur;

	switch (write_mode(p->write_fraction)) {
	case WR_NEVER:
		pos = sequential_loop(&rng, buf, n, p->region, p->offset, pos,
				      p->stride, p->length, WR_NEVER, 0);
		break;
	case WR_ALWAYS:
		pos = sequential_loop(&rng, buf, n, p->region, p->offset, pos,
				      p->stride, p->length, WR_ALWAYS, 0);
		break;
	case WR_SOME:
		pos = sequential_loop(&rng, buf, n, p->region, p->offset, pos,
				      p->stride, p->length, WR_SOME, g->wthresh);
		break;
	}
	g->cur = pos;
	g->rng = rng;
}

/* Zipf is bound by its log/exp, not by the loop: one loop with a live mode. */
static void fill_zipf(struct wl_gen *g, const struct wl_phase *p,
		      struct wl_op *buf, size_t n)
{
	enum write_mode mode = write_mode(p->write_fraction);

	for (size_t k = 0; k < n; k++) {
		uint64_t rank = wl_zipf_sample(&g->zipf, &g->rng);
		uint64_t item = wl_perm_apply(&g->perm, rank - 1);

		buf[k] = mk_access(p->region, p->offset + item * p->stride, 0,
				   write_flag(&g->rng, mode, g->wthresh));
	}
}

/* Chase build: slot s stores the offset of its successor in the cycle. */
static void fill_chase_build(struct wl_gen *g, const struct wl_phase *p,
			     struct wl_op *buf, size_t n)
{
	uint64_t slots = g->perm.n;

	for (size_t k = 0; k < n; k++) {
		uint64_t s = g->i + k;
		uint64_t pos = wl_perm_invert(&g->perm, s) + 1;
		uint64_t succ = wl_perm_apply(&g->perm, pos == slots ? 0 : pos);

		buf[k] = mk_access(p->region, p->offset + s * p->stride,
				   p->offset + succ * p->stride,
				   WL_ACC_WRITE | WL_ACC_LINK);
	}
}

/* Chase loads: g->cur is the position in the cycle, perm(cur) the slot. */
static void fill_chase_loads(struct wl_gen *g, const struct wl_phase *p,
			     struct wl_op *buf, size_t n)
{
	uint64_t slots = g->perm.n, j = g->cur;

	for (size_t k = 0; k < n; k++) {
		uint64_t s = wl_perm_apply(&g->perm, j);

		buf[k] = mk_access(p->region, p->offset + s * p->stride, 0,
				   g->i + k ? WL_ACC_DEP : 0);
		if (++j == slots)
			j = 0;
	}
	g->cur = j;
}

static void fill_touch(struct wl_gen *g, const struct wl_phase *p,
		       struct wl_op *buf, size_t n)
{
	uint8_t flags = p->write ? WL_ACC_WRITE : 0;
	uint64_t base = p->offset, stride = p->stride, j = g->i;
	size_t k;

	switch (p->order) {
	case WL_ORDER_SEQUENTIAL:
		for (k = 0; k < n; k++)
			buf[k] = mk_access(p->region, base + (j + k) * stride, 0, flags);
		break;
	case WL_ORDER_REVERSE:
		for (k = 0; k < n; k++)
			buf[k] = mk_access(p->region,
					   base + (g->n - 1 - (j + k)) * stride, 0, flags);
		break;
	case WL_ORDER_RANDOM:
		for (k = 0; k < n; k++)
			buf[k] = mk_access(p->region,
					   base + wl_perm_apply(&g->perm, j + k) * stride,
					   0, flags);
		break;
	}
}

/* ---- the state machine --------------------------------------------------- */

/* The single op of a madvise/mprotect/munmap/khugepaged_wait/sleep phase. */
static struct wl_op single_op(const struct wl_phase *p)
{
	switch (p->op) {
	case WL_PH_MADVISE:
		return mk_op(WL_OP_MADVISE, p->region, p->offset, p->length, p->advice);
	case WL_PH_MPROTECT:
		return mk_op(WL_OP_MPROTECT, p->region, p->offset, p->length, p->prot);
	case WL_PH_MUNMAP:
		return mk_op(WL_OP_MUNMAP, p->region, p->offset, p->length, 0);
	case WL_PH_KHUGEPAGED_WAIT:
		return mk_op(WL_OP_KHUGEPAGED_WAIT, 0, p->timeout_ms, p->full_scans, 0);
	case WL_PH_SLEEP:
	default:
		return mk_op(WL_OP_SLEEP, 0, 0, p->ms, 0);
	}
}

/* The seed of thread t's stream in phase i (gen.h). */
static uint64_t phase_seed(const struct wl_spec *s, size_t i, unsigned t)
{
	uint64_t seed = wl_rng_derive(s->seed, i);

	return t ? wl_rng_derive(seed, t) : seed;
}

/* The threads that run p: a spec built by hand without any means thread 0. */
static uint64_t runs_mask(const struct wl_phase *p)
{
	return p->thread_mask ? p->thread_mask : 1;
}

/* Seed the phase's stream and draw what it needs before its first access. */
static void begin_phase(struct wl_gen *g, const struct wl_phase *p)
{
	wl_rng_seed(&g->rng, phase_seed(g->spec, g->phase, g->thread));
	g->i = 0;
	g->cur = 0;
	g->n = 1;
	g->wthresh = 0;
	g->stage = ST_BODY;
	if (p->op == WL_PH_TOUCH) {
		g->n = wl_touch_steps(p);
		if (p->order == WL_ORDER_RANDOM)
			wl_perm_init(&g->perm, g->n, &g->rng);
		return;
	}
	if (p->op != WL_PH_ACCESS)
		return;
	g->n = p->count;
	if (write_mode(p->write_fraction) == WR_SOME)
		g->wthresh = (uint64_t)(p->write_fraction * 0x1p64);
	if (p->pattern == WL_PAT_ZIPF) {
		wl_perm_init(&g->perm, wl_slots(p), &g->rng);
		wl_zipf_init(&g->zipf, wl_slots(p), p->zipf_s);
	} else if (p->pattern == WL_PAT_CHASE) {
		wl_perm_init(&g->perm, wl_slots(p), &g->rng);
		g->n = wl_slots(p);
		g->stage = ST_BUILD;
	}
}

/* Fill the body of an access or touch phase; 'n' ops, all of which fit. */
static void fill_body(struct wl_gen *g, const struct wl_phase *p,
		      struct wl_op *buf, size_t n)
{
	if (p->op == WL_PH_TOUCH) {
		fill_touch(g, p, buf, n);
		return;
	}
	switch (p->pattern) {
	case WL_PAT_SEQUENTIAL:
		fill_sequential(g, p, buf, n);
		break;
	case WL_PAT_UNIFORM:
		fill_uniform(g, p, buf, n);
		break;
	case WL_PAT_ZIPF:
		fill_zipf(g, p, buf, n);
		break;
	case WL_PAT_CHASE:
		fill_chase_loads(g, p, buf, n);
		break;
	}
}

/* Emit what the current stage has, at most cap (>= 1) ops; returns how many. */
static size_t gen_step(struct wl_gen *g, struct wl_op *buf, size_t cap)
{
	const struct wl_spec *s = g->spec;
	const struct wl_region *r;
	const struct wl_phase *p = g->phase < s->nr_phases ? &g->ph : NULL;
	size_t n;

	switch (g->stage) {
	case ST_MAP:
		r = &s->regions[g->region];
		buf[0] = mk_op(WL_OP_MAP, g->region, 0, r->size,
			       r->populate ? WL_MAP_POPULATE : 0);
		g->advice = 0;
		g->stage = ST_ADVICE;
		return 1;
	case ST_ADVICE:
		r = &s->regions[g->region];
		if (g->advice < r->nr_advice) {
			buf[0] = mk_op(WL_OP_MADVISE, g->region, 0, r->size,
				       r->advice[g->advice++]);
			return 1;
		}
		g->region++;
		g->stage = g->region < s->nr_regions ? ST_MAP : ST_BEGIN;
		if (g->stage == ST_BEGIN && !p)
			g->stage = ST_DONE;
		return 0;
	case ST_BEGIN:
		buf[0] = mk_op(WL_OP_PHASE_BEGIN, 0, 0, g->phase, 0);
		g->ph = s->phases[g->phase];
		if (!(runs_mask(&g->ph) >> g->thread & 1)) {
			g->stage = ST_END;	/* not this thread's: the barrier alone */
			return 1;
		}
		g->ph = wl_phase_of_thread(&s->phases[g->phase], g->thread);
		begin_phase(g, p);
		return 1;
	case ST_BUILD:
	case ST_BODY:
		if (p->op != WL_PH_TOUCH && p->op != WL_PH_ACCESS) {
			/* khugepaged_wait, sleep: thread 0 acts, the others wait at the barrier */
			if (p->op <= WL_PH_MUNMAP || !g->thread) {
				buf[0] = single_op(p);
				g->stage = ST_END;
				return 1;
			}
			g->stage = ST_END;
			return 0;
		}
		n = g->n - g->i < cap ? g->n - g->i : cap;
		if (g->stage == ST_BUILD)
			fill_chase_build(g, p, buf, n);
		else
			fill_body(g, p, buf, n);
		g->i += n;
		if (g->i == g->n) {
			g->i = 0;
			/* After the build come the chase's loads. */
			if (g->stage == ST_BUILD) {
				g->n = p->count;
				g->stage = ST_BODY;
			} else {
				g->stage = ST_END;
			}
		}
		return n;
	case ST_END:
		buf[0] = mk_op(WL_OP_PHASE_END, 0, 0, g->phase, 0);
		g->phase++;
		g->stage = g->phase < s->nr_phases ? ST_BEGIN : ST_DONE;
		return 1;
	default:
		return 0;
	}
}

void wl_gen_init_thread(struct wl_gen *g, const struct wl_spec *s, unsigned t)
{
	*g = (struct wl_gen){ .spec = s, .thread = t };
	if (s->nr_regions && !t)
		g->stage = ST_MAP;
	else
		g->stage = s->nr_phases ? ST_BEGIN : ST_DONE;
	if (t)
		g->region = s->nr_regions;
}

void wl_gen_init(struct wl_gen *g, const struct wl_spec *s)
{
	wl_gen_init_thread(g, s, 0);
}

size_t wl_gen_next(struct wl_gen *g, struct wl_op *buf, size_t cap)
{
	size_t n = 0;

	while (n < cap && g->stage != ST_DONE)
		n += gen_step(g, buf + n, cap - n);
	return n;
}

void wl_gen_seek_phase(struct wl_gen *g, size_t i)
{
	const struct wl_spec *s = g->spec;

	wl_gen_init_thread(g, s, g->thread);
	g->region = s->nr_regions;
	g->phase = i;
	g->stage = i < s->nr_phases ? ST_BEGIN : ST_DONE;
}

int wl_gen_foreach(const struct wl_spec *s, wl_gen_fn fn, void *ctx)
{
	struct wl_op batch[1024];
	struct wl_gen g;
	size_t n;
	int ret;

	wl_gen_init(&g, s);
	while ((n = wl_gen_next(&g, batch, 1024))) {
		ret = fn(batch, n, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t wl_phase_thread_accesses(const struct wl_spec *s, size_t i, unsigned t)
{
	struct wl_phase p;

	if (i >= s->nr_phases || !(runs_mask(&s->phases[i]) >> t & 1))
		return 0;
	p = wl_phase_of_thread(&s->phases[i], t);
	if (p.op == WL_PH_TOUCH)
		return wl_touch_steps(&p);
	if (p.op != WL_PH_ACCESS)
		return 0;
	if (p.pattern == WL_PAT_CHASE)
		return wl_slots(&p) + p.count;
	return p.count;
}

uint64_t wl_phase_accesses(const struct wl_spec *s, size_t i)
{
	uint64_t n = 0;

	for (unsigned t = 0; t < WL_MAX_THREADS && i < s->nr_phases; t++)
		n += wl_phase_thread_accesses(s, i, t);
	return n;
}

/*
 * FNV-1a over each field's value, little-endian, in declaration order and at
 * its declared width (8+8+4+1+1+2 bytes): never the struct's bytes, so
 * padding and host byte order cannot change a hash.
 */
static inline uint64_t fnv_bytes(uint64_t h, uint64_t v, int bytes)
{
	for (int b = 0; b < bytes; b++) {
		h ^= (v >> (8 * b)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t wl_ops_hash(uint64_t h, const struct wl_op *ops, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		h = fnv_bytes(h, ops[k].off, 8);
		h = fnv_bytes(h, ops[k].arg, 8);
		h = fnv_bytes(h, ops[k].region, 4);
		h = fnv_bytes(h, ops[k].type, 1);
		h = fnv_bytes(h, ops[k].flags, 1);
		h = fnv_bytes(h, ops[k].size, 2);
	}
	return h;
}
