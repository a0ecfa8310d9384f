/*
 * cmd_gen.c - virtuoso gen: show the operation stream of a spec.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "workload/gen.h"

static void print_op(FILE *f, const struct wl_spec *s, const struct wl_op *op)
{
	const char *rn = s->regions[op->region].name;

	switch ((enum wl_op_type)op->type) {
	case WL_OP_MAP:
		fprintf(f, "{\"op\":\"map\",\"region\":\"%s\",\"size\":%" PRIu64 ",\"populate\":%s}\n",
			rn, op->arg, op->flags & WL_MAP_POPULATE ? "true" : "false");
		return;
	case WL_OP_MADVISE:
	case WL_OP_MPROTECT:
	case WL_OP_MUNMAP:
		fprintf(f, "{\"op\":\"%s\",\"region\":\"%s\",\"offset\":%" PRIu64 ",\"length\":%" PRIu64,
			op->type == WL_OP_MADVISE ? "madvise" :
			op->type == WL_OP_MPROTECT ? "mprotect" : "munmap", rn, op->off, op->arg);
		if (op->type == WL_OP_MADVISE)
			fprintf(f, ",\"advice\":\"%s\"", wl_advice_name((enum wl_advice)op->flags));
		if (op->type == WL_OP_MPROTECT)
			fprintf(f, ",\"prot\":\"%s\"", wl_prot_name((enum wl_prot)op->flags));
		fputs("}\n", f);
		return;
	case WL_OP_ACCESS:
		fprintf(f, "{\"op\":\"%s\",\"region\":\"%s\",\"offset\":%" PRIu64 ",\"size\":%u",
			op->flags & WL_ACC_WRITE ? "store" : "load", rn, op->off, op->size);
		if (op->flags & WL_ACC_DEP)
			fputs(",\"dep\":true", f);
		if (op->flags & WL_ACC_LINK)
			fprintf(f, ",\"link\":%" PRIu64, op->arg);
		fputs("}\n", f);
		return;
	case WL_OP_KHUGEPAGED_WAIT:
		fprintf(f, "{\"op\":\"khugepaged_wait\",\"full_scans\":%" PRIu64
			",\"timeout_ms\":%" PRIu64 "}\n", op->arg, op->off);
		return;
	case WL_OP_SLEEP:
		fprintf(f, "{\"op\":\"sleep\",\"ms\":%" PRIu64 "}\n", op->arg);
		return;
	case WL_OP_PHASE_BEGIN:
	case WL_OP_PHASE_END:
		fprintf(f, "{\"op\":\"%s\",\"phase\":%" PRIu64 ",\"kind\":\"%s\"}\n",
			op->type == WL_OP_PHASE_BEGIN ? "phase_begin" : "phase_end", op->arg,
			wl_phase_op_name(s->phases[op->arg].op));
		return;
	}
}

struct tally {
	uint64_t ops, accesses, hash;
};

static void print_tally(FILE *f, const char *what, long phase, const struct tally *t)
{
	fprintf(f, "{\"%s\":", what);
	if (phase >= 0)
		fprintf(f, "%ld", phase);
	else
		fputs("true", f);
	fprintf(f, ",\"ops\":%" PRIu64 ",\"accesses\":%" PRIu64 ",\"hash\":\"%016" PRIx64 "\"}\n",
		t->ops, t->accesses, t->hash);
}

static int parse_count(const struct cli_cmd *cmd, const char *opt, const char *v, uint64_t *out)
{
	char *end;

	*out = strtoull(v, &end, 10);
	if (!*v || *end || *v == '-')
		return cli_usage_error(cmd, "%s: expected a non-negative integer, got '%s'", opt, v);
	return 0;
}

struct gen_opts {
	const struct cli_cmd *cmd;
	bool hash, one_phase;
	uint64_t phase, limit, thread;
};

static int gen_opt(int c, void *ctx)
{
	struct gen_opts *go = ctx;

	switch (c) {
	case 'H':
		go->hash = true;
		return 0;
	case 'p':
		go->one_phase = true;
		return parse_count(go->cmd, "--phase", optarg, &go->phase) ? EXIT_BAD_INPUT : 0;
	case 'l':
		return parse_count(go->cmd, "--limit", optarg, &go->limit) ? EXIT_BAD_INPUT : 0;
	case 't':
		return parse_count(go->cmd, "--thread", optarg, &go->thread) ? EXIT_BAD_INPUT : 0;
	}
	return EXIT_BAD_INPUT;
}

int cmd_gen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "hash", no_argument, NULL, 'H' },
		{ "phase", required_argument, NULL, 'p' },
		{ "limit", required_argument, NULL, 'l' },
		{ "thread", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_opts go = { .cmd = cli_find("gen"), .limit = UINT64_MAX };
	uint64_t emitted = 0, limit;
	struct cli_args a;
	struct wl_spec s;
	struct wl_gen g;
	struct wl_op buf[1024];
	struct tally cur = { 0, 0, WL_FNV_OFFSET }, all = cur;
	struct cli_out o;
	int ret;
	size_t n;

	ret = cli_parse(argc, argv, go.cmd, "o:vh", longopts, gen_opt, &go, "SPEC file", &a);
	if (ret >= 0)
		return ret;
	ret = cli_load_spec(a.arg, &s);
	if (ret)
		return ret;
	limit = go.limit;
	if (go.one_phase && go.phase >= s.nr_phases) {
		fprintf(stderr, "virtuoso gen: --phase %" PRIu64 ": the spec has %zu phases (0..%zu)\n",
			go.phase, s.nr_phases, s.nr_phases - 1);
		wl_spec_release(&s);
		return EXIT_BAD_INPUT;
	}
	if (go.thread >= s.threads) {
		fprintf(stderr, "virtuoso gen: --thread %" PRIu64 ": the spec has %u thread%s (0..%u)\n",
			go.thread, s.threads, s.threads > 1 ? "s" : "", s.threads - 1);
		wl_spec_release(&s);
		return EXIT_BAD_INPUT;
	}
	if (cli_out_open(&o, a.out)) {
		wl_spec_release(&s);
		return EXIT_FAIL;
	}
	wl_gen_init_thread(&g, &s, (unsigned)go.thread);
	if (go.one_phase)
		wl_gen_seek_phase(&g, go.phase);
	while (emitted < limit && (n = wl_gen_next(&g, buf, sizeof(buf) / sizeof(buf[0])))) {
		for (size_t i = 0; i < n && emitted < limit; i++, emitted++) {
			const struct wl_op *op = &buf[i];

			if (!go.hash) {
				print_op(o.f, &s, op);
			} else {
				if (op->type == WL_OP_PHASE_BEGIN && cur.ops) {
					print_tally(o.f, "setup", -1, &cur);
					cur = (struct tally){ 0, 0, WL_FNV_OFFSET };
				}
				cur.ops++;
				cur.accesses += op->type == WL_OP_ACCESS;
				cur.hash = wl_ops_hash(cur.hash, op, 1);
				all.ops++;
				all.accesses += op->type == WL_OP_ACCESS;
				all.hash = wl_ops_hash(all.hash, op, 1);
				if (op->type == WL_OP_PHASE_END) {
					print_tally(o.f, "phase", (long)op->arg, &cur);
					cur = (struct tally){ 0, 0, WL_FNV_OFFSET };
				}
			}
			if (go.one_phase && op->type == WL_OP_PHASE_END)
				limit = emitted + 1;
		}
	}
	if (go.hash)
		print_tally(o.f, "total", -1, &all);
	wl_spec_release(&s);
	return cli_out_close(&o, true);
}
