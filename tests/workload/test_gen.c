/*
 * test_gen.c - the generator (gen.c), its permutation (perm.c) and Zipf
 * sampler (zipf.c).
 *
 * Specs are built by hand here (struct wl_spec filled in C), never parsed, so
 * these tests depend on nothing but the generator. Expected values come from
 * the format's rules worked out by hand, from theory (binomial and
 * chi-square bounds, stated where used), or from an independent re-derivation
 * of the documented draw order with the raw rng; never from the generator's
 * own output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "workload/gen.h"

#define KIB 1024ULL
#define MIB (1024ULL * KIB)

/* ---- building specs by hand --------------------------------------------- */

struct spec_buf {
	struct wl_spec spec;
	struct wl_region regions[4];
	struct wl_phase phases[8];
	enum wl_advice advice[4][4];
};

static void spec_init(struct spec_buf *b, uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	b->spec.file = "test";
	b->spec.name = "test";
	b->spec.seed = seed;
	b->spec.regions = b->regions;
	b->spec.phases = b->phases;
}

static struct wl_region *add_region(struct spec_buf *b, uint64_t size)
{
	struct wl_region *r = &b->regions[b->spec.nr_regions];

	r->name = "r";
	r->size = size;
	r->advice = b->advice[b->spec.nr_regions];
	b->spec.nr_regions++;
	return r;
}

static struct wl_phase *add_phase(struct spec_buf *b, enum wl_phase_op op)
{
	struct wl_phase *p = &b->phases[b->spec.nr_phases++];

	memset(p, 0, sizeof(*p));
	p->op = op;
	return p;
}

static struct wl_phase *add_touch(struct spec_buf *b, uint64_t off, uint64_t len,
				  uint64_t stride, enum wl_order order, bool write)
{
	struct wl_phase *p = add_phase(b, WL_PH_TOUCH);

	p->offset = off;
	p->length = len;
	p->stride = stride;
	p->order = order;
	p->write = write;
	return p;
}

static struct wl_phase *add_access(struct spec_buf *b, enum wl_pattern pat,
				   uint64_t off, uint64_t len, uint64_t stride,
				   uint64_t count, double wf)
{
	struct wl_phase *p = add_phase(b, WL_PH_ACCESS);

	p->pattern = pat;
	p->offset = off;
	p->length = len;
	p->stride = stride;
	p->count = count;
	p->write_fraction = wf;
	p->zipf_s = 0.99;
	return p;
}

/* ---- draining streams ------------------------------------------------------ */

struct stream {
	struct wl_op *ops;
	size_t n;
};

static struct stream drain_cap(const struct wl_spec *s, size_t cap)
{
	struct stream st = { NULL, 0 };
	size_t alloc = 0, got;
	struct wl_gen g;

	wl_gen_init(&g, s);
	do {
		if (st.n + cap > alloc) {
			alloc = 2 * (st.n + cap);
			st.ops = realloc(st.ops, alloc * sizeof(*st.ops));
			cr_assert_not_null(st.ops);
		}
		got = wl_gen_next(&g, st.ops + st.n, cap);
		cr_assert_leq(got, cap);
		st.n += got;
	} while (got);
	return st;
}

static struct stream drain(const struct wl_spec *s)
{
	return drain_cap(s, 4096);
}

/* The ops strictly between PHASE_BEGIN i and PHASE_END i. */
static struct stream phase_body(struct stream st, size_t i)
{
	size_t a = 0, b;

	while (a < st.n && !(st.ops[a].type == WL_OP_PHASE_BEGIN && st.ops[a].arg == i))
		a++;
	cr_assert_lt(a, st.n, "no PHASE_BEGIN %zu", i);
	for (b = a + 1; b < st.n && st.ops[b].type != WL_OP_PHASE_END; b++)
		;
	cr_assert_lt(b, st.n, "no PHASE_END %zu", i);
	cr_assert_eq(st.ops[b].arg, i);
	return (struct stream){ st.ops + a + 1, b - a - 1 };
}

static uint64_t phase_hash(struct stream st, size_t i)
{
	struct stream body = phase_body(st, i);

	return wl_ops_hash(WL_FNV_OFFSET, body.ops, body.n);
}

/* Check that every op is an 8-byte ACCESS of region 'r'; returns the write count. */
static uint64_t check_accesses(struct stream body, uint32_t r)
{
	uint64_t writes = 0;

	for (size_t k = 0; k < body.n; k++) {
		const struct wl_op *o = &body.ops[k];

		if (o->type != WL_OP_ACCESS || o->size != WL_ACCESS_SIZE || o->region != r)
			cr_assert_fail("op %zu: type %u size %u region %u", k,
				       o->type, o->size, o->region);
		writes += o->flags & WL_ACC_WRITE ? 1 : 0;
	}
	return writes;
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* ---- setup ops, markers and single-op phases -------------------------------- */

Test(gen, setup_maps_regions_then_applies_advice_in_order)
{
	struct spec_buf b;
	struct wl_region *r0, *r1;
	struct stream st;

	spec_init(&b, 1);
	r0 = add_region(&b, 8 * MIB);
	r0->populate = true;
	r0->advice[0] = WL_ADV_HUGEPAGE;
	r0->advice[1] = WL_ADV_NOHUGEPAGE;
	r0->nr_advice = 2;
	r1 = add_region(&b, 4 * MIB);
	(void)r1;
	add_phase(&b, WL_PH_SLEEP)->ms = 5;
	st = drain(&b.spec);

	struct wl_op want[] = {
		{ .type = WL_OP_MAP, .region = 0, .arg = 8 * MIB, .flags = WL_MAP_POPULATE },
		{ .type = WL_OP_MADVISE, .region = 0, .off = 0, .arg = 8 * MIB,
		  .flags = WL_ADV_HUGEPAGE },
		{ .type = WL_OP_MADVISE, .region = 0, .off = 0, .arg = 8 * MIB,
		  .flags = WL_ADV_NOHUGEPAGE },
		{ .type = WL_OP_MAP, .region = 1, .arg = 4 * MIB, .flags = 0 },
		{ .type = WL_OP_PHASE_BEGIN, .arg = 0 },
		{ .type = WL_OP_SLEEP, .arg = 5 },
		{ .type = WL_OP_PHASE_END, .arg = 0 },
	};
	cr_assert_eq(st.n, sizeof(want) / sizeof(want[0]));
	for (size_t k = 0; k < st.n; k++) {
		cr_expect_eq(st.ops[k].type, want[k].type, "op %zu type", k);
		cr_expect_eq(st.ops[k].region, want[k].region, "op %zu region", k);
		cr_expect_eq(st.ops[k].off, want[k].off, "op %zu off", k);
		cr_expect_eq(st.ops[k].arg, want[k].arg, "op %zu arg", k);
		cr_expect_eq(st.ops[k].flags, want[k].flags, "op %zu flags", k);
	}
	free(st.ops);
}

Test(gen, single_op_phases_carry_their_fields)
{
	struct spec_buf b;
	struct wl_phase *p;
	struct stream st;

	spec_init(&b, 1);
	add_region(&b, 4 * MIB);
	add_region(&b, 4 * MIB);
	p = add_phase(&b, WL_PH_MADVISE);
	p->region = 1, p->offset = 4 * KIB, p->length = 8 * KIB, p->advice = WL_ADV_DONTNEED;
	p = add_phase(&b, WL_PH_MPROTECT);
	p->region = 1, p->offset = 0, p->length = 4 * KIB, p->prot = WL_PROT_R;
	p = add_phase(&b, WL_PH_MUNMAP);
	p->region = 0, p->offset = 12 * KIB, p->length = 4 * KIB;
	p = add_phase(&b, WL_PH_KHUGEPAGED_WAIT);
	p->full_scans = 3, p->timeout_ms = 1234;
	p = add_phase(&b, WL_PH_SLEEP);
	p->ms = 77;
	p = add_phase(&b, WL_PH_MADVISE);
	p->region = 0, p->offset = 2 * MIB, p->length = 2 * MIB, p->advice = WL_ADV_COLLAPSE;
	st = drain(&b.spec);

	struct { uint8_t type; uint32_t region; uint64_t off, arg; uint8_t flags; } want[] = {
		{ WL_OP_MADVISE, 1, 4 * KIB, 8 * KIB, WL_ADV_DONTNEED },
		{ WL_OP_MPROTECT, 1, 0, 4 * KIB, WL_PROT_R },
		{ WL_OP_MUNMAP, 0, 12 * KIB, 4 * KIB, 0 },
		{ WL_OP_KHUGEPAGED_WAIT, 0, 1234, 3, 0 },
		{ WL_OP_SLEEP, 0, 0, 77, 0 },
		{ WL_OP_MADVISE, 0, 2 * MIB, 2 * MIB, WL_ADV_COLLAPSE },
	};
	/* 2 MAPs, then BEGIN, op, END per phase. */
	cr_assert_eq(st.n, 2 + 3 * 6);
	for (size_t i = 0; i < 6; i++) {
		struct stream body = phase_body(st, i);

		cr_assert_eq(body.n, 1, "phase %zu has one op", i);
		cr_expect_eq(body.ops[0].type, want[i].type, "phase %zu type", i);
		cr_expect_eq(body.ops[0].region, want[i].region, "phase %zu region", i);
		cr_expect_eq(body.ops[0].off, want[i].off, "phase %zu off", i);
		cr_expect_eq(body.ops[0].arg, want[i].arg, "phase %zu arg", i);
		cr_expect_eq(body.ops[0].flags, want[i].flags, "phase %zu flags", i);
		cr_expect_eq(wl_phase_accesses(&b.spec, i), 0);
	}
	free(st.ops);
}

Test(gen, phase_markers_bracket_each_phase_in_order)
{
	struct spec_buf b;
	struct stream st;
	size_t k, next = 0;
	int inside = 0;
	/* Worked out by hand: 64KiB/4KiB = 16 steps; 100; 16 slots + 50 loads; 1. */
	const uint64_t accesses[] = { 16, 100, 66, 0 };
	uint64_t seen[4] = { 0 };

	spec_init(&b, 3);
	add_region(&b, 1 * MIB);
	add_touch(&b, 0, 64 * KIB, 4 * KIB, WL_ORDER_RANDOM, true);
	add_access(&b, WL_PAT_UNIFORM, 0, 1 * MIB, 64, 100, 0.5);
	add_access(&b, WL_PAT_CHASE, 0, 64 * KIB, 4 * KIB, 50, 0);
	add_phase(&b, WL_PH_SLEEP)->ms = 1;
	st = drain(&b.spec);

	cr_assert_eq(st.ops[0].type, WL_OP_MAP);
	for (k = 1; k < st.n; k++) {
		const struct wl_op *o = &st.ops[k];

		if (o->type == WL_OP_PHASE_BEGIN) {
			cr_assert(!inside && o->arg == next, "op %zu: BEGIN %llu", k,
				  (unsigned long long)o->arg);
			inside = 1;
		} else if (o->type == WL_OP_PHASE_END) {
			cr_assert(inside && o->arg == next, "op %zu: END %llu", k,
				  (unsigned long long)o->arg);
			inside = 0;
			next++;
		} else {
			cr_assert(inside, "op %zu outside any phase", k);
			seen[next] += o->type == WL_OP_ACCESS;
		}
	}
	cr_assert_eq(next, 4);
	cr_assert(!inside);
	for (size_t i = 0; i < 4; i++) {
		cr_expect_eq(seen[i], accesses[i], "phase %zu accesses", i);
		cr_expect_eq(wl_phase_accesses(&b.spec, i), accesses[i], "phase %zu", i);
	}
	cr_expect_eq(wl_phase_accesses(&b.spec, 4), 0, "no such phase");
	free(st.ops);
}

Test(gen, spec_without_phases_is_only_setup)
{
	struct spec_buf b;
	struct stream st;

	spec_init(&b, 0);
	add_region(&b, 4 * KIB);
	st = drain(&b.spec);
	cr_assert_eq(st.n, 1);
	cr_expect_eq(st.ops[0].type, WL_OP_MAP);
	free(st.ops);
}

/* ---- determinism --------------------------------------------------------- */

/* Four phases that use every random choice the generator makes. */
static void mixed_spec(struct spec_buf *b, uint64_t seed)
{
	spec_init(b, seed);
	add_region(b, 4 * MIB);
	add_touch(b, 0, 1 * MIB, 4 * KIB, WL_ORDER_RANDOM, true);
	add_access(b, WL_PAT_ZIPF, 0, 4 * MIB, 4 * KIB, 2000, 0.25);
	add_access(b, WL_PAT_UNIFORM, 1 * MIB, 2 * MIB, 64, 3000, 0.5);
	add_access(b, WL_PAT_CHASE, 0, 1 * MIB, 1 * KIB, 2000, 0);
}

static uint64_t stream_hash(const struct wl_spec *s)
{
	struct stream st = drain(s);
	uint64_t h = wl_ops_hash(WL_FNV_OFFSET, st.ops, st.n);

	free(st.ops);
	return h;
}

Test(gen, same_spec_and_seed_give_same_stream)
{
	struct spec_buf a, b;

	mixed_spec(&a, 7);
	mixed_spec(&b, 7);
	cr_expect_eq(stream_hash(&a.spec), stream_hash(&b.spec));
}

Test(gen, another_seed_gives_another_stream)
{
	struct spec_buf a, b;

	mixed_spec(&a, 7);
	mixed_spec(&b, 8);
	cr_expect_neq(stream_hash(&a.spec), stream_hash(&b.spec));
}

Test(gen, changing_one_phase_leaves_the_others_unchanged)
{
	struct spec_buf a, b;
	struct stream sa, sb;

	mixed_spec(&a, 7);
	mixed_spec(&b, 7);
	/* Phase 2 of b: other length, count, write fraction and pattern. */
	b.phases[2].pattern = WL_PAT_ZIPF;
	b.phases[2].count = 5000;
	b.phases[2].length = 1 * MIB;
	b.phases[2].stride = 4 * KIB;
	b.phases[2].write_fraction = 0.9;
	sa = drain(&a.spec);
	sb = drain(&b.spec);
	cr_expect_eq(phase_hash(sa, 0), phase_hash(sb, 0), "phase 0");
	cr_expect_eq(phase_hash(sa, 1), phase_hash(sb, 1), "phase 1");
	cr_expect_neq(phase_hash(sa, 2), phase_hash(sb, 2), "phase 2 did change");
	cr_expect_eq(phase_hash(sa, 3), phase_hash(sb, 3), "phase 3");
	free(sa.ops);
	free(sb.ops);
}

Test(gen, batch_size_does_not_change_the_stream)
{
	static const size_t caps[] = { 1, 2, 3, 7, 1000, 4096, 100000 };
	struct spec_buf b;
	struct stream ref, st;

	mixed_spec(&b, 11);
	ref = drain_cap(&b.spec, 4096);
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		st = drain_cap(&b.spec, caps[c]);
		cr_expect_eq(st.n, ref.n, "cap %zu", caps[c]);
		cr_expect_eq(wl_ops_hash(WL_FNV_OFFSET, st.ops, st.n),
			     wl_ops_hash(WL_FNV_OFFSET, ref.ops, ref.n), "cap %zu", caps[c]);
		free(st.ops);
	}
	free(ref.ops);
}

Test(gen, seek_phase_restarts_at_that_phase_begin)
{
	struct spec_buf b;
	struct stream full;
	struct wl_op buf[512];
	struct wl_gen g;
	size_t start = 0, pos, got;

	mixed_spec(&b, 5);
	full = drain(&b.spec);
	while (!(full.ops[start].type == WL_OP_PHASE_BEGIN && full.ops[start].arg == 2))
		start++;
	wl_gen_init(&g, &b.spec);
	got = wl_gen_next(&g, buf, 10);	/* part-way into the stream first */
	cr_assert_eq(got, 10);
	wl_gen_seek_phase(&g, 2);
	pos = start;
	while ((got = wl_gen_next(&g, buf, 512))) {
		cr_assert_leq(pos + got, full.n);
		cr_assert_eq(wl_ops_hash(WL_FNV_OFFSET, buf, got),
			     wl_ops_hash(WL_FNV_OFFSET, full.ops + pos, got),
			     "ops %zu..%zu", pos, pos + got);
		pos += got;
	}
	cr_expect_eq(pos, full.n, "seek stream ends with the full one");
	wl_gen_seek_phase(&g, 4);
	cr_expect_eq(wl_gen_next(&g, buf, 512), 0, "seeking past the end ends");
	free(full.ops);
}

struct foreach_ctx {
	uint64_t hash;
	size_t ops, calls, stop_after;
};

static int foreach_cb(const struct wl_op *ops, size_t n, void *arg)
{
	struct foreach_ctx *c = arg;

	c->hash = wl_ops_hash(c->hash, ops, n);
	c->ops += n;
	c->calls++;
	return c->calls == c->stop_after ? 42 : 0;
}

Test(gen, foreach_sees_the_whole_stream_and_stops_on_request)
{
	struct spec_buf b;
	struct stream st;
	struct foreach_ctx c = { WL_FNV_OFFSET, 0, 0, 0 };

	mixed_spec(&b, 9);
	st = drain(&b.spec);
	cr_expect_eq(wl_gen_foreach(&b.spec, foreach_cb, &c), 0);
	cr_expect_eq(c.ops, st.n);
	cr_expect_eq(c.hash, wl_ops_hash(WL_FNV_OFFSET, st.ops, st.n));

	c = (struct foreach_ctx){ WL_FNV_OFFSET, 0, 0, 2 };
	cr_expect_eq(wl_gen_foreach(&b.spec, foreach_cb, &c), 42);
	cr_expect_eq(c.calls, 2);
	free(st.ops);
}

Test(gen, ops_hash_is_fnv1a_over_field_values)
{
	/*
	 * FNV-1a 64 of the 24 bytes: off = 1 (8 bytes LE), arg = 0 (8),
	 * region = 0 (4), type = 4, flags = 1, size = 8 (2), computed by hand
	 * with Python: h = 0xcbf29ce484222325; for b in bytes: h = ((h ^ b) *
	 * 0x100000001b3) % 2**64.
	 */
	struct wl_op op = { .off = 1, .type = WL_OP_ACCESS, .flags = 1, .size = 8 };
	struct wl_op padded;

	cr_expect_eq(wl_ops_hash(WL_FNV_OFFSET, &op, 1), 0xe4049179eefa5e53ULL);
	cr_expect_eq(wl_ops_hash(WL_FNV_OFFSET, &op, 0), WL_FNV_OFFSET);
	/* Padding bytes (if any) do not count. */
	memset(&padded, 0xa5, sizeof(padded));
	padded.off = 1, padded.arg = 0, padded.region = 0;
	padded.type = WL_OP_ACCESS, padded.flags = 1, padded.size = 8;
	cr_expect_eq(wl_ops_hash(WL_FNV_OFFSET, &padded, 1), 0xe4049179eefa5e53ULL);
}

/* ---- touch ----------------------------------------------------------------- */

static struct stream touch_body(enum wl_order order, uint64_t off, uint64_t len,
				uint64_t stride, bool write, struct stream *all)
{
	struct spec_buf b;

	spec_init(&b, 21);
	add_region(&b, 64 * MIB);
	add_touch(&b, off, len, stride, order, write);
	*all = drain(&b.spec);
	return phase_body(*all, 0);
}

Test(gen, touch_sequential_visits_steps_ascending)
{
	struct stream all, body = touch_body(WL_ORDER_SEQUENTIAL, 8 * KIB, 1 * MIB,
					     4 * KIB, true, &all);

	cr_assert_eq(body.n, 256);	/* 1MiB / 4KiB */
	cr_expect_eq(check_accesses(body, 0), 256, "all stores");
	for (size_t k = 0; k < body.n; k++)
		if (body.ops[k].off != 8 * KIB + k * 4 * KIB)
			cr_assert_fail("step %zu at %llu", k,
				       (unsigned long long)body.ops[k].off);
	free(all.ops);
}

Test(gen, touch_reverse_visits_steps_descending)
{
	struct stream all, body = touch_body(WL_ORDER_REVERSE, 0, 1 * MIB,
					     64 * KIB, false, &all);

	cr_assert_eq(body.n, 16);
	cr_expect_eq(check_accesses(body, 0), 0, "write false gives loads");
	for (size_t k = 0; k < 16; k++)
		cr_expect_eq(body.ops[k].off, (15 - k) * 64 * KIB, "step %zu", k);
	free(all.ops);
}

Test(gen, touch_random_visits_each_step_once)
{
	const size_t steps = 4096;	/* 16MiB / 4KiB */
	struct stream all, body = touch_body(WL_ORDER_RANDOM, 4 * KIB, 16 * MIB,
					     4 * KIB, true, &all);
	uint8_t *seen = calloc(steps, 1);
	size_t in_place = 0;

	cr_assert_eq(body.n, steps);
	cr_expect_eq(check_accesses(body, 0), steps);
	for (size_t k = 0; k < steps; k++) {
		uint64_t rel = body.ops[k].off - 4 * KIB;
		uint64_t step = rel / (4 * KIB);

		if (body.ops[k].off < 4 * KIB || rel % (4 * KIB) || step >= steps || seen[step])
			cr_assert_fail("op %zu at %llu", k, (unsigned long long)body.ops[k].off);
		seen[step] = 1;
		in_place += step == k;
	}
	/* A random permutation has about one fixed point; the identity has 4096. */
	cr_expect_lt(in_place, 10, "%zu steps in sequential position", in_place);
	free(seen);
	free(all.ops);
}

Test(gen, touch_last_step_may_be_shorter_than_stride)
{
	/* ceil(8KiB / 3000) = 3 steps: 0, 3000, 6000. */
	struct stream all, body = touch_body(WL_ORDER_SEQUENTIAL, 0, 8 * KIB, 3000,
					     true, &all);

	cr_assert_eq(body.n, 3);
	cr_expect_eq(body.ops[0].off, 0);
	cr_expect_eq(body.ops[1].off, 3000);
	cr_expect_eq(body.ops[2].off, 6000);
	free(all.ops);
}

Test(gen, touch_random_follows_documented_draw_order)
{
	/* Re-derive from gen.h: perm over the steps, drawn first from phase 0's rng. */
	struct stream all, body = touch_body(WL_ORDER_RANDOM, 0, 4 * MIB, 4 * KIB,
					     true, &all);
	struct wl_rng rng;
	struct wl_perm perm;

	wl_rng_seed(&rng, wl_rng_derive(21, 0));
	wl_perm_init(&perm, 1024, &rng);
	cr_assert_eq(body.n, 1024);
	for (size_t j = 0; j < 1024; j++)
		if (body.ops[j].off != wl_perm_apply(&perm, j) * 4 * KIB)
			cr_assert_fail("step %zu", j);
	free(all.ops);
}

/* ---- chase ----------------------------------------------------------------- */

Test(gen, chase_builds_then_follows_a_single_cycle)
{
	const uint64_t off = 8 * KIB, stride = 64, n = 1024, count = 3000;
	struct spec_buf b;
	struct stream all, body;
	uint64_t *link = malloc(n * sizeof(*link));
	uint8_t *seen = calloc(n, 1);
	uint64_t s, steps, ascending_succ = 0;

	spec_init(&b, 4);
	add_region(&b, 1 * MIB);
	add_access(&b, WL_PAT_CHASE, off, n * stride, stride, count, 0.7);
	all = drain(&b.spec);
	body = phase_body(all, 0);
	cr_assert_eq(body.n, n + count);
	check_accesses(body, 0);

	/* The build: one linking store per slot, ascending. */
	for (s = 0; s < n; s++) {
		const struct wl_op *o = &body.ops[s];
		uint64_t t = (o->arg - off) / stride;

		if (o->off != off + s * stride || o->flags != (WL_ACC_WRITE | WL_ACC_LINK))
			cr_assert_fail("build %llu: off %llu flags %u",
				       (unsigned long long)s, (unsigned long long)o->off, o->flags);
		if (o->arg < off || (o->arg - off) % stride || t >= n)
			cr_assert_fail("build %llu links outside", (unsigned long long)s);
		link[s] = t;
		ascending_succ += t == s + 1;
	}
	/* The links form one cycle through all n slots. */
	for (s = 0, steps = 0; !seen[s]; steps++) {
		seen[s] = 1;
		s = link[s];
	}
	cr_expect_eq(s, 0, "the walk from slot 0 comes back to slot 0");
	cr_expect_eq(steps, n, "and visits every slot first");
	cr_expect_lt(ascending_succ, 10, "the cycle is not the address order");

	/* The loads: dependent, along the links, every slot once per n loads. */
	for (uint64_t k = 0; k < count; k++) {
		const struct wl_op *o = &body.ops[n + k];
		uint64_t slot = (o->off - off) / stride;
		uint8_t want = k ? WL_ACC_DEP : 0;

		if (o->flags != want)
			cr_assert_fail("load %llu flags %u", (unsigned long long)k, o->flags);
		/* The previous load's slot stored, at build, this load's offset. */
		if (k && o->off != body.ops[(body.ops[n + k - 1].off - off) / stride].arg)
			cr_assert_fail("load %llu does not follow the link",
				       (unsigned long long)k);
		if (k % n == 0)
			memset(seen, 0, n);
		if (seen[slot])
			cr_assert_fail("load %llu revisits slot %llu within a lap",
				       (unsigned long long)k, (unsigned long long)slot);
		seen[slot] = 1;
	}
	free(link);
	free(seen);
	free(all.ops);
}

Test(gen, chase_of_one_slot_links_to_itself)
{
	struct spec_buf b;
	struct stream all, body;

	spec_init(&b, 4);
	add_region(&b, 1 * MIB);
	add_access(&b, WL_PAT_CHASE, 4 * KIB, 4 * KIB, 4 * KIB, 3, 0);
	all = drain(&b.spec);
	body = phase_body(all, 0);
	cr_assert_eq(body.n, 4);
	cr_expect_eq(body.ops[0].off, 4 * KIB);
	cr_expect_eq(body.ops[0].arg, 4 * KIB);
	for (int k = 1; k < 4; k++) {
		cr_expect_eq(body.ops[k].off, 4 * KIB);
		cr_expect_eq(body.ops[k].flags, k == 1 ? 0 : WL_ACC_DEP);
	}
	free(all.ops);
}

/* ---- uniform ------------------------------------------------------------- */

Test(gen, uniform_offsets_are_aligned_inside_the_range_and_cover_it)
{
	const uint64_t off = 1 * MIB, len = 4 * MIB, count = 640000;
	struct spec_buf b;
	struct stream all, body;
	uint64_t bucket[64] = { 0 };
	double chi2 = 0, e = count / 64.0;

	spec_init(&b, 13);
	add_region(&b, 8 * MIB);
	add_access(&b, WL_PAT_UNIFORM, off, len, 64, count, 0);
	all = drain(&b.spec);
	body = phase_body(all, 0);
	cr_assert_eq(body.n, count);
	cr_expect_eq(check_accesses(body, 0), 0);
	for (size_t k = 0; k < count; k++) {
		uint64_t o = body.ops[k].off;

		if (o % 8 || o < off || o + 8 > off + len)
			cr_assert_fail("access %zu at %llu", k, (unsigned long long)o);
		bucket[(o - off) * 64 / len]++;
	}
	/*
	 * Chi-square over 64 equal buckets: df = 63. The critical value for a
	 * significance of 0.001 is 103.44 (upper quantile of chi2(63), from
	 * mpmath's regularised incomplete gamma; Wilson-Hilferty gives 103.5).
	 */
	for (int i = 0; i < 64; i++)
		chi2 += (bucket[i] - e) * (bucket[i] - e) / e;
	cr_expect_lt(chi2, 103.44, "chi2 = %f", chi2);
	free(all.ops);
}

Test(gen, uniform_follows_documented_draw_order)
{
	/* From gen.h: per access, the address draw, then the write decision. */
	const double wf = 0.3;
	struct spec_buf b;
	struct stream all, body;
	struct wl_rng rng;
	uint64_t wthresh = (uint64_t)(wf * 18446744073709551616.0);

	spec_init(&b, 99);
	add_region(&b, 8 * MIB);
	add_phase(&b, WL_PH_SLEEP)->ms = 1;
	add_access(&b, WL_PAT_UNIFORM, 4 * KIB, 1 * MIB, 64, 5000, wf);
	all = drain(&b.spec);
	body = phase_body(all, 1);
	wl_rng_seed(&rng, wl_rng_derive(99, 1));
	cr_assert_eq(body.n, 5000);
	for (size_t k = 0; k < body.n; k++) {
		uint64_t o = 4 * KIB + 8 * wl_rng_below(&rng, 1 * MIB / 8);
		uint8_t f = wl_rng_next(&rng) < wthresh ? WL_ACC_WRITE : 0;

		if (body.ops[k].off != o || body.ops[k].flags != f)
			cr_assert_fail("access %zu differs", k);
	}
	free(all.ops);
}

/* ---- sequential and write fractions -------------------------------------- */

Test(gen, sequential_walks_at_stride_and_wraps_to_the_start)
{
	/* By hand: positions 0, 1000, 2000, 3000, 4000, then 5000 >= 4096 -> 0. */
	static const uint64_t pos[] = { 0, 1000, 2000, 3000, 4000, 0, 1000, 2000,
					3000, 4000, 0, 1000 };
	struct spec_buf b;
	struct stream all, body;

	spec_init(&b, 1);
	add_region(&b, 1 * MIB);
	add_access(&b, WL_PAT_SEQUENTIAL, 8 * KIB, 4 * KIB, 1000, 12, 0);
	all = drain(&b.spec);
	body = phase_body(all, 0);
	cr_assert_eq(body.n, 12);
	cr_expect_eq(check_accesses(body, 0), 0);
	for (size_t k = 0; k < 12; k++)
		cr_expect_eq(body.ops[k].off, 8 * KIB + pos[k], "access %zu", k);
	free(all.ops);
}

Test(gen, sequential_wraps_across_batches)
{
	struct spec_buf b;
	struct stream all, body;

	spec_init(&b, 1);
	add_region(&b, 1 * MIB);
	add_access(&b, WL_PAT_SEQUENTIAL, 0, 64 * KIB, 64, 10000, 0);
	all = drain_cap(&b.spec, 333);
	body = phase_body(all, 0);
	cr_assert_eq(body.n, 10000);
	for (size_t k = 0; k < body.n; k++)
		if (body.ops[k].off != (k % 1024) * 64)
			cr_assert_fail("access %zu at %llu", k,
				       (unsigned long long)body.ops[k].off);
	free(all.ops);
}

static uint64_t writes_of(enum wl_pattern pat, double wf, uint64_t count)
{
	struct spec_buf b;
	struct stream all;
	uint64_t w;

	spec_init(&b, 17);
	add_region(&b, 4 * MIB);
	add_access(&b, pat, 0, 4 * MIB, 4 * KIB, count, wf);
	all = drain(&b.spec);
	w = check_accesses(phase_body(all, 0), 0);
	free(all.ops);
	return w;
}

Test(gen, write_fraction_zero_and_one_are_exact)
{
	static const enum wl_pattern pats[] = {
		WL_PAT_SEQUENTIAL, WL_PAT_UNIFORM, WL_PAT_ZIPF,
	};

	for (int i = 0; i < 3; i++) {
		cr_expect_eq(writes_of(pats[i], 0, 20000), 0, "pattern %d", i);
		cr_expect_eq(writes_of(pats[i], 1, 20000), 20000, "pattern %d", i);
	}
}

Test(gen, write_fraction_is_a_seeded_proportion)
{
	/*
	 * Binomial(200000, 0.3): mean 60000, sd sqrt(200000 * 0.3 * 0.7) = 204.9;
	 * 5 sd = 1025 (a false failure has probability below 1e-6).
	 */
	static const enum wl_pattern pats[] = {
		WL_PAT_SEQUENTIAL, WL_PAT_UNIFORM, WL_PAT_ZIPF,
	};

	for (int i = 0; i < 3; i++) {
		double w = (double)writes_of(pats[i], 0.3, 200000);

		cr_expect_lt(fabs(w - 60000), 1025, "pattern %d: %f writes", i, w);
	}
}

Test(gen, chase_ignores_write_fraction)
{
	struct spec_buf b;
	struct stream all;

	spec_init(&b, 2);
	add_region(&b, 1 * MIB);
	add_access(&b, WL_PAT_CHASE, 0, 1 * MIB, 4 * KIB, 1000, 1.0);
	all = drain(&b.spec);
	/* 256 build stores and no other store: the loads stay loads. */
	cr_expect_eq(check_accesses(phase_body(all, 0), 0), 256);
	free(all.ops);
}

/* ---- zipf through the generator ------------------------------------------ */

/* H(n, s) = sum k^-s, summed directly (independent of zipf.c's integrals). */
static double harmonic(uint64_t n, double s)
{
	double h = 0;

	for (uint64_t k = n; k >= 1; k--)	/* smallest terms first */
		h += pow((double)k, -s);
	return h;
}

static void check_zipf_top_items(double s)
{
	const uint64_t items = 1024, stride = 4 * KIB, samples = 1000000, top = 10;
	struct spec_buf b;
	struct stream all, body;
	uint64_t *count = calloc(items, sizeof(*count));
	uint64_t *sorted = malloc(items * sizeof(*sorted));
	double h = harmonic(items, s);
	size_t first_ten = 0;

	spec_init(&b, 31);
	add_region(&b, 8 * MIB);
	add_access(&b, WL_PAT_ZIPF, 2 * MIB, items * stride, stride, samples, 0)->zipf_s = s;
	all = drain(&b.spec);
	body = phase_body(all, 0);
	cr_assert_eq(body.n, samples);
	for (size_t k = 0; k < samples; k++) {
		uint64_t rel = body.ops[k].off - 2 * MIB;

		if (body.ops[k].off < 2 * MIB || rel % stride || rel / stride >= items)
			cr_assert_fail("sample %zu at %llu", k,
				       (unsigned long long)body.ops[k].off);
		count[rel / stride]++;
	}
	memcpy(sorted, count, items * sizeof(*sorted));
	qsort(sorted, items, sizeof(*sorted), cmp_desc);
	/*
	 * The k-th largest count against N k^-s / H(n, s). Each rank's count is
	 * Binomial(N, p_k); allow 5 sd. Sorting matches counts to ranks because
	 * among the top 10 adjacent ranks differ by about 10 sd (for s = 0.99,
	 * ranks 10 and 11 expect 13196 and 12008, sd 114), so a swap is
	 * practically impossible.
	 */
	for (uint64_t k = 1; k <= top; k++) {
		double p = pow((double)k, -s) / h;
		double e = samples * p, sd = sqrt(samples * p * (1 - p));

		cr_expect_lt(fabs(sorted[k - 1] - e), 5 * sd,
			     "s=%g rank %llu: %llu, expected %.0f (sd %.0f)", s,
			     (unsigned long long)k, (unsigned long long)sorted[k - 1], e, sd);
	}
	/* Placement: the popular items are scattered, not items 0..9. */
	for (size_t i = 0; i < top; i++)
		first_ten += count[i] >= sorted[top - 1];
	cr_expect_leq(first_ten, 2, "%zu of the top items sit at the start", first_ten);
	free(count);
	free(sorted);
	free(all.ops);
}

Test(gen, zipf_top_items_follow_the_power_law_s099)
{
	check_zipf_top_items(0.99);
}

Test(gen, zipf_top_items_follow_the_power_law_s12)
{
	check_zipf_top_items(1.2);
}

Test(gen, zipf_follows_documented_draw_order)
{
	/* From gen.h: perm over the items first; per access rank, item, write. */
	const double wf = 0.5;
	struct spec_buf b;
	struct stream all, body;
	struct wl_rng rng;
	struct wl_perm perm;
	struct wl_zipf z;

	spec_init(&b, 77);
	add_region(&b, 8 * MIB);
	add_access(&b, WL_PAT_ZIPF, 0, 8 * MIB, 4 * KIB, 5000, wf)->zipf_s = 1.1;
	all = drain(&b.spec);
	body = phase_body(all, 0);
	wl_rng_seed(&rng, wl_rng_derive(77, 0));
	wl_perm_init(&perm, 2048, &rng);
	wl_zipf_init(&z, 2048, 1.1);
	for (size_t k = 0; k < body.n; k++) {
		uint64_t item = wl_perm_apply(&perm, wl_zipf_sample(&z, &rng) - 1);
		uint8_t f = wl_rng_next(&rng) < (uint64_t)(wf * 0x1p64) ? WL_ACC_WRITE : 0;

		if (body.ops[k].off != item * 4 * KIB || body.ops[k].flags != f)
			cr_assert_fail("access %zu differs", k);
	}
	free(all.ops);
}

/* ---- wl_zipf alone ------------------------------------------------------- */

Test(zipf, matches_the_exact_distribution_over_ten_ranks)
{
	/*
	 * Chi-square over 10 ranks, df = 9, critical value 27.877 for a
	 * significance of 0.001 (mpmath). s = 1 and s = 1 + 1e-10 exercise the
	 * log1p/expm1 helpers where (x^(1-s) - 1) / (1 - s) is 0/0.
	 */
	static const double ss[] = { 0.5, 0.99, 1.0, 1.0000000001, 2.0, 3.5 };
	const int n = 200000;

	for (size_t j = 0; j < sizeof(ss) / sizeof(ss[0]); j++) {
		struct wl_zipf z;
		struct wl_rng rng;
		uint64_t count[11] = { 0 };
		double h = harmonic(10, ss[j]), chi2 = 0;

		wl_zipf_init(&z, 10, ss[j]);
		wl_rng_seed(&rng, 1000 + j);
		for (int i = 0; i < n; i++) {
			uint64_t k = wl_zipf_sample(&z, &rng);

			if (k < 1 || k > 10)
				cr_assert_fail("s=%g gave rank %llu", ss[j],
					       (unsigned long long)k);
			count[k]++;
		}
		for (int k = 1; k <= 10; k++) {
			double e = n * pow(k, -ss[j]) / h;

			chi2 += (count[k] - e) * (count[k] - e) / e;
		}
		cr_expect_lt(chi2, 27.877, "s=%g: chi2 = %f", ss[j], chi2);
	}
}

Test(zipf, single_item_always_gives_rank_one)
{
	struct wl_zipf z;
	struct wl_rng rng;

	wl_zipf_init(&z, 1, 0.99);
	wl_rng_seed(&rng, 1);
	for (int i = 0; i < 10000; i++)
		if (wl_zipf_sample(&z, &rng) != 1)
			cr_assert_fail("draw %d", i);
}

Test(zipf, huge_n_stays_in_range_and_favours_rank_one)
{
	/* P(1) = 1 / H(2^40, 1.2); H(2^40, 1.2) < zeta(1.2) = 5.5916, so P(1) > 0.178. */
	const uint64_t n = 1ULL << 40;
	struct wl_zipf z;
	struct wl_rng rng;
	int ones = 0;
	const int draws = 100000;

	wl_zipf_init(&z, n, 1.2);
	wl_rng_seed(&rng, 2);
	for (int i = 0; i < draws; i++) {
		uint64_t k = wl_zipf_sample(&z, &rng);

		if (k < 1 || k > n)
			cr_assert_fail("rank %llu", (unsigned long long)k);
		ones += k == 1;
	}
	cr_expect_gt(ones, draws * 0.17, "%d ones", ones);
}

/* ---- wl_perm ---------------------------------------------------------------- */

/* Exhaustive: apply lands in [0, n), hits every value once, invert undoes it. */
static void check_bijection(uint64_t n, uint64_t seed)
{
	struct wl_rng rng;
	struct wl_perm p;
	uint8_t *seen = calloc(n, 1);

	wl_rng_seed(&rng, seed);
	wl_perm_init(&p, n, &rng);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t y = wl_perm_apply(&p, i);

		if (y >= n || seen[y])
			cr_assert_fail("n=%llu: %llu -> %llu twice or out of range",
				       (unsigned long long)n, (unsigned long long)i,
				       (unsigned long long)y);
		seen[y] = 1;
		if (wl_perm_invert(&p, y) != i)
			cr_assert_fail("n=%llu: invert(apply(%llu)) wrong",
				       (unsigned long long)n, (unsigned long long)i);
	}
	free(seen);
}

Test(perm, is_a_bijection_with_an_inverse_for_small_n)
{
	static const uint64_t more[] = { 1023, 1024, 1025, 4095, 4097, 65537 };

	for (uint64_t n = 1; n <= 600; n++)
		check_bijection(n, n);
	for (size_t j = 0; j < sizeof(more) / sizeof(more[0]); j++)
		check_bijection(more[j], 7 * j);
}

Test(perm, is_a_bijection_for_a_million_and_three)
{
	check_bijection((1ULL << 20) + 3, 5);
}

Test(perm, inverts_for_large_n)
{
	static const uint64_t ns[] = {
		(1ULL << 30) + 7, (1ULL << 40) + 5, (1ULL << 63) + 1, ~0ULL,
	};

	for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++) {
		struct wl_rng rng, pick;
		struct wl_perm p;

		wl_rng_seed(&rng, j);
		wl_rng_seed(&pick, 100 + j);
		wl_perm_init(&p, ns[j], &rng);
		for (int k = 0; k < 100000; k++) {
			uint64_t i = wl_rng_below(&pick, ns[j]);
			uint64_t y = wl_perm_apply(&p, i);

			if (y >= ns[j] || wl_perm_invert(&p, y) != i ||
			    wl_perm_apply(&p, wl_perm_invert(&p, i)) != i)
				cr_assert_fail("n=%llx i=%llx", (unsigned long long)ns[j],
					       (unsigned long long)i);
		}
	}
}

Test(perm, consecutive_inputs_land_far_apart)
{
	/*
	 * For a random permutation, |p(i+1) - p(i)| / n behaves like |U - V|
	 * of two uniforms: mean 1/3, sd sqrt(1/18) = 0.236; over ~65000 pairs
	 * the mean has sd 0.00093, so +-0.01 is about 10 sd. The lag-1
	 * correlation has sd 1/sqrt(n) = 0.004; allow 0.02. The identity, a
	 * rotation or a stride pattern fail both by far.
	 */
	static const uint64_t ns[] = { 65536, 100003 };

	for (size_t j = 0; j < 2; j++) {
		uint64_t n = ns[j];
		struct wl_rng rng;
		struct wl_perm p;
		double gap = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, r;

		wl_rng_seed(&rng, 50 + j);
		wl_perm_init(&p, n, &rng);
		for (uint64_t i = 0; i + 1 < n; i++) {
			double x = (double)wl_perm_apply(&p, i) / n;
			double y = (double)wl_perm_apply(&p, i + 1) / n;

			gap += fabs(y - x);
			sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
		}
		gap /= n - 1;
		sx /= n - 1, sy /= n - 1, sxx /= n - 1, syy /= n - 1, sxy /= n - 1;
		r = (sxy - sx * sy) / sqrt((sxx - sx * sx) * (syy - sy * sy));
		cr_expect_lt(fabs(gap - 1.0 / 3), 0.01, "n=%llu mean gap %f",
			     (unsigned long long)n, gap);
		cr_expect_lt(fabs(r), 0.02, "n=%llu lag-1 correlation %f",
			     (unsigned long long)n, r);
	}
}

Test(perm, different_streams_give_different_permutations)
{
	struct wl_rng r1, r2;
	struct wl_perm a, b;
	int same = 0;

	wl_rng_seed(&r1, 1);
	wl_rng_seed(&r2, 2);
	wl_perm_init(&a, 10000, &r1);
	wl_perm_init(&b, 10000, &r2);
	for (uint64_t i = 0; i < 10000; i++)
		same += wl_perm_apply(&a, i) == wl_perm_apply(&b, i);
	/* Two independent random permutations agree in about 1 place. */
	cr_expect_lt(same, 10, "%d agreements", same);
}

/* ---- threads (format version 2) ---------------------------------------------- */

static void parse_text(struct wl_spec *s, const char *text)
{
	struct wl_error err;

	cr_assert_eq(wl_spec_parse(s, text, strlen(text), "mem.json", &err), 0, "%s: %s", err.path,
		     err.msg);
}

/* Thread t's whole stream into ops (at most cap); returns how many. */
static size_t thread_stream(const struct wl_spec *s, unsigned t, struct wl_op *ops, size_t cap)
{
	struct wl_gen g;
	size_t n = 0, k;

	wl_gen_init_thread(&g, s, t);
	while ((k = wl_gen_next(&g, ops + n, cap - n)) > 0)
		n += k;
	cr_assert_lt(n, cap, "stream longer than the test's buffer");
	return n;
}

/*
 * A one-thread stream is thread 0's: the same spec written as version 2
 * with "threads": 1 gives the version 1 stream op for op (every choice of
 * thread 0 comes from the phase's seed as before).
 */
Test(gen, thread_0_of_a_version_2_spec_is_the_version_1_stream)
{
	static struct wl_op a[4096], b[4096];
	const char *v1 = "{\"name\": \"x\", \"seed\": 9, \"regions\": [{\"name\": \"r\", \"size\": \"64KiB\"}],"
			 " \"phases\": [{\"op\": \"touch\", \"region\": \"r\", \"order\": \"random\"},"
			 " {\"op\": \"access\", \"region\": \"r\", \"pattern\": \"uniform\", \"count\": 500,"
			 "  \"write_fraction\": 0.5}]}";
	const char *v2 = "{\"name\": \"x\", \"seed\": 9, \"version\": 2, \"threads\": 1,"
			 " \"regions\": [{\"name\": \"r\", \"size\": \"64KiB\"}],"
			 " \"phases\": [{\"op\": \"touch\", \"region\": \"r\", \"order\": \"random\"},"
			 " {\"op\": \"access\", \"region\": \"r\", \"pattern\": \"uniform\", \"count\": 500,"
			 "  \"write_fraction\": 0.5, \"threads\": [0]}]}";
	struct wl_spec s1, s2;
	size_t n1, n2;

	parse_text(&s1, v1);
	parse_text(&s2, v2);
	n1 = thread_stream(&s1, 0, a, 4096);
	n2 = thread_stream(&s2, 0, b, 4096);
	cr_assert_eq(n1, n2);
	cr_assert_eq(wl_ops_hash(WL_FNV_OFFSET, a, n1), wl_ops_hash(WL_FNV_OFFSET, b, n2));
	wl_spec_release(&s1);
	wl_spec_release(&s2);
}

/*
 * Four threads touching 40 KiB by slices: 10 pages as 3 + 3 + 2 + 2, each
 * thread its own contiguous run in thread order; together every page once.
 * Every thread's stream has both markers of every phase; only thread 0 maps.
 */
Test(gen, slices_of_a_touch_cover_the_range_once_in_thread_order)
{
	static struct wl_op ops[256];
	static const uint64_t first[4] = { 0, 3, 6, 8 }, pages[4] = { 3, 3, 2, 2 };
	struct wl_spec s;
	unsigned seen[10] = { 0 };

	parse_text(&s, "{\"name\": \"x\", \"version\": 2, \"threads\": 4,"
		       " \"regions\": [{\"name\": \"r\", \"size\": \"40KiB\"}],"
		       " \"phases\": [{\"op\": \"touch\", \"region\": \"r\"}, {\"op\": \"sleep\", \"ms\": 0}]}");
	for (unsigned t = 0; t < 4; t++) {
		size_t n = thread_stream(&s, t, ops, 256), k = 0, maps = 0, begins = 0, sleeps = 0;
		uint64_t next = first[t];

		for (size_t i = 0; i < n; i++) {
			maps += ops[i].type == WL_OP_MAP;
			begins += ops[i].type == WL_OP_PHASE_BEGIN;
			sleeps += ops[i].type == WL_OP_SLEEP;
			if (ops[i].type != WL_OP_ACCESS)
				continue;
			cr_assert_eq(ops[i].off, next * 4096, "thread %u access %zu", t, k);
			seen[next++]++;
			k++;
		}
		cr_assert_eq(k, pages[t], "thread %u", t);
		cr_assert_eq(maps, t ? 0 : 1, "thread %u", t);
		cr_assert_eq(begins, 2, "thread %u", t);
		cr_assert_eq(sleeps, t ? 0 : 1, "thread %u: only thread 0 sleeps", t);
		cr_assert_eq(wl_phase_thread_accesses(&s, 0, t), pages[t]);
	}
	for (int p = 0; p < 10; p++)
		cr_assert_eq(seen[p], 1, "page %d", p);
	cr_assert_eq(wl_phase_accesses(&s, 0), 10);
	wl_spec_release(&s);
}

/*
 * "whole": each thread draws over the whole range from its own stream, so
 * two threads' uniform offsets differ; a thread outside a phase has only its
 * markers; a munmap is its one thread's.
 */
Test(gen, whole_range_threads_draw_their_own_offsets)
{
	static struct wl_op a[512], b[512], c[512];
	struct wl_spec s;
	size_t na, nb, nc, same = 0, ka = 0, kb = 0;

	parse_text(&s, "{\"name\": \"x\", \"version\": 2, \"threads\": 3, \"seed\": 4,"
		       " \"regions\": [{\"name\": \"r\", \"size\": \"1MiB\"}],"
		       " \"phases\": [{\"op\": \"access\", \"region\": \"r\", \"pattern\": \"uniform\","
		       "  \"count\": 200, \"threads\": [0, 1], \"share\": \"whole\"},"
		       "  {\"op\": \"munmap\", \"region\": \"r\", \"threads\": [2]}]}");
	na = thread_stream(&s, 0, a, 512);
	nb = thread_stream(&s, 1, b, 512);
	nc = thread_stream(&s, 2, c, 512);
	for (size_t i = 0; i < na; i++)
		ka += a[i].type == WL_OP_ACCESS;
	for (size_t i = 0; i < nb; i++)
		kb += b[i].type == WL_OP_ACCESS;
	cr_assert_eq(ka, 200);
	cr_assert_eq(kb, 200);
	/* both over the whole range, offsets unequal (1 in 131072 per access would match by chance) */
	for (size_t i = 0; i < na && i < nb; i++)
		same += a[i].type == WL_OP_ACCESS && b[i].type == WL_OP_ACCESS && a[i].off == b[i].off;
	cr_assert_lt(same, 3);
	/* thread 2: setup none, phase 0 markers only, then its munmap */
	cr_assert_eq(nc, 5);
	cr_assert_eq(c[0].type, WL_OP_PHASE_BEGIN);
	cr_assert_eq(c[1].type, WL_OP_PHASE_END);
	cr_assert_eq(c[3].type, WL_OP_MUNMAP);
	for (size_t i = 0; i < na; i++)
		cr_assert_neq(a[i].type, WL_OP_MUNMAP);
	cr_assert_eq(wl_phase_accesses(&s, 0), 400);
	wl_spec_release(&s);
}
