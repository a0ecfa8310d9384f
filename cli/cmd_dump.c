/*
 * cmd_dump.c - virtuoso dump: print an event log (workload/evlog.h) as
 * JSON lines or CSV.
 *
 * One set of emitters serves both outputs: in JSON each field is written as
 * "key":value when emitted; in CSV it fills its column's cell and the row is
 * written when the record is done. The columns (and the JSON keys) are one
 * list, DUMP_COLUMNS.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "workload/evlog.h"
#include "workload/json.h"
#include "workload/x86.h"

/*
 * The CSV columns, in order; a JSON record uses the same names as keys. A
 * fault's first allocation, an alloc record's, and a collapse's new huge page
 * fill pfn..cause; a fault's second allocation fills alloc1_*.
 */
#define DUMP_COLUMNS(X) \
	X(ts) X(tid) X(cpu) X(type) X(phase) \
	X(addr) X(ip) X(error_code) X(write) X(completed) X(major) X(latency_ns) \
	X(nr_allocs) X(nr_rss) X(rss_anon) X(region) \
	X(pfn) X(order) X(gfp) X(migratetype) X(cause) \
	X(alloc1_pfn) X(alloc1_order) X(alloc1_gfp) X(alloc1_migratetype) X(alloc1_cause) \
	X(referenced) X(none_or_zero) X(status) X(status_name) X(unmapped) \
	X(isolated) X(nr_freed) \
	X(isolate_none_or_zero) X(isolate_referenced) X(isolate_status) X(isolate_status_name) \
	X(swapped_in) X(swapin_referenced) X(swapin_ret) \
	X(name) X(nr) X(arg0) X(arg1) X(arg2) X(arg3) X(arg4) X(arg5) X(ret) X(exit_ts) \
	X(reason) X(reason_name) X(pages) X(source) \
	X(member) X(member_name) X(size) \
	X(sent) X(target) X(flush_ns)

enum dump_col {
#define X(n) C_##n,
	DUMP_COLUMNS(X)
#undef X
	C_NR
};

static const char *const col_names[] = {
#define X(n) #n,
	DUMP_COLUMNS(X)
#undef X
};

/* The two allocation slots of a fault are the same five columns apart. */
_Static_assert(C_alloc1_pfn - C_pfn == 5 && C_alloc1_cause - C_alloc1_pfn == C_cause - C_pfn &&
	       C_order - C_pfn == 1 && C_gfp - C_pfn == 2 && C_migratetype - C_pfn == 3,
	       "allocation columns out of step");
_Static_assert(C_arg5 - C_arg0 == 5, "args out of step");

struct cell {
	const char *str;	/* a string value (lives as long as the log), or */
	char num[24];		/* a number, "" when the field does not apply */
};

struct region {
	const char *name;
	uint64_t start, size;
};

struct dump {
	FILE *f;
	bool csv;
	bool first;		/* JSON: nothing written yet in this object/array */
	struct cell cells[C_NR];
	struct region *regions;
	size_t nr_regions;
	const cJSON *scan_status, *tlb_reason;	/* arrays of names, or NULL */
};

/* ---- emitters ------------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* JSON: the separator and "key": (no key inside an array). */
static void json_key(struct dump *d, const char *key)
{
	if (!d->first)
		fputc(',', d->f);
	d->first = false;
	if (key) {
		json_str(d->f, key);
		fputc(':', d->f);
	}
}

static void emit_num(struct dump *d, enum dump_col col, const char *num)
{
	if (d->csv) {
		snprintf(d->cells[col].num, sizeof(d->cells[col].num), "%s", num);
		return;
	}
	json_key(d, col_names[col]);
	fputs(num, d->f);
}

static void emit_u64(struct dump *d, enum dump_col col, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	emit_num(d, col, num);
}

static void emit_s64(struct dump *d, enum dump_col col, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	emit_num(d, col, num);
}

static void emit_bool(struct dump *d, enum dump_col col, bool v)
{
	emit_num(d, col, v ? "true" : "false");
}

/* null in JSON, an empty cell in CSV */
static void emit_null(struct dump *d, enum dump_col col)
{
	if (!d->csv) {
		json_key(d, col_names[col]);
		fputs("null", d->f);
	}
}

static void emit_str(struct dump *d, enum dump_col col, const char *s)
{
	if (!s) {
		emit_null(d, col);
	} else if (d->csv) {
		d->cells[col].str = s;
	} else {
		json_key(d, col_names[col]);
		json_str(d->f, s);
	}
}

/* A name if the table has one, else the number: nothing is dropped. */
static void emit_name(struct dump *d, enum dump_col col, const char *name, uint64_t v)
{
	if (name)
		emit_str(d, col, name);
	else
		emit_u64(d, col, v);
}

/* The name of value v in a metadata array of names, or NULL. */
static const char *meta_name(const cJSON *names, int64_t v)
{
	const cJSON *n;

	if (!names || v < 0 || v >= cJSON_GetArraySize(names))
		return NULL;
	n = cJSON_GetArrayItem(names, (int)v);
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

static const char *region_of(const struct dump *d, uint64_t addr)
{
	for (size_t i = 0; i < d->nr_regions; i++)
		if (addr >= d->regions[i].start && addr - d->regions[i].start < d->regions[i].size)
			return d->regions[i].name;
	return NULL;
}

/* An allocation's five fields, from column base (C_pfn or C_alloc1_pfn in CSV). */
static void emit_alloc_fields(struct dump *d, enum dump_col base, const struct vt_alloc *a)
{
	char gfp[16];

	snprintf(gfp, sizeof(gfp), "0x%" PRIx32, a->gfp);
	emit_u64(d, base, a->pfn);
	emit_u64(d, base + 1, a->order);
	if (d->csv) {
		snprintf(d->cells[base + 2].num, sizeof(d->cells[0].num), "%s", gfp);
	} else {
		json_key(d, col_names[C_gfp]);
		json_str(d->f, gfp);
	}
	emit_u64(d, base + 3, a->migratetype);
	emit_name(d, base + 4, vt_cause_name(a->cause), a->cause);
}

/*
 * An allocation inside a record: in JSON an object (after "key":, or as an
 * array element when key is NULL); in CSV slot 0's or slot 1's columns.
 */
static void emit_alloc(struct dump *d, const char *key, int slot, const struct vt_alloc *a)
{
	if (d->csv) {
		emit_alloc_fields(d, slot ? C_alloc1_pfn : C_pfn, a);
		return;
	}
	json_key(d, key);
	fputc('{', d->f);
	d->first = true;
	emit_alloc_fields(d, C_pfn, a);	/* JSON keys: pfn, order, gfp, ... */
	fputc('}', d->f);
	d->first = false;
}

/* Open and close a JSON array after "key": (CSV: nothing). */
static void json_array(struct dump *d, const char *key, bool open)
{
	if (d->csv)
		return;
	if (open) {
		json_key(d, key);
		fputc('[', d->f);
		d->first = true;
	} else {
		fputc(']', d->f);
		d->first = false;
	}
}

/* ---- records ------------------------------------------------------------- */

static void emit_fault(struct dump *d, const struct vt_event *e)
{
	unsigned n = e->fault.nr_allocs < VT_FAULT_ALLOCS ? e->fault.nr_allocs : VT_FAULT_ALLOCS;

	emit_u64(d, C_addr, e->fault.addr);
	emit_u64(d, C_ip, e->fault.ip);
	emit_u64(d, C_error_code, e->fault.error_code);
	emit_bool(d, C_write, e->fault.error_code & X86_PF_WRITE);
	emit_bool(d, C_completed, e->fault.completed);
	emit_bool(d, C_major, e->fault.major);
	emit_u64(d, C_latency_ns, e->fault.latency_ns);
	emit_u64(d, C_nr_allocs, e->fault.nr_allocs);
	emit_u64(d, C_nr_rss, e->fault.nr_rss);
	if (e->fault.rss_anon < 0)
		emit_null(d, C_rss_anon);
	else
		emit_s64(d, C_rss_anon, e->fault.rss_anon);
	json_array(d, "allocs", true);
	for (unsigned i = 0; i < n; i++)
		emit_alloc(d, NULL, (int)i, &e->fault.alloc[i]);
	json_array(d, "allocs", false);
	emit_str(d, C_region, region_of(d, e->fault.addr));
}

static void emit_syscall(struct dump *d, const struct vt_event *e)
{
	emit_str(d, C_name, vt_syscall_name(e->sys.nr));
	emit_u64(d, C_nr, e->sys.nr);
	json_array(d, "args", true);
	for (int i = 0; i < 6; i++) {
		if (d->csv) {
			emit_u64(d, C_arg0 + i, e->sys.args[i]);
		} else {
			json_key(d, NULL);
			fprintf(d->f, "%" PRIu64, (uint64_t)e->sys.args[i]);
		}
	}
	json_array(d, "args", false);
	emit_s64(d, C_ret, e->sys.ret);
	emit_u64(d, C_exit_ts, e->sys.exit_ts);
}

static void emit_record(struct dump *d, const struct vt_event *e)
{
	if (d->csv) {
		memset(d->cells, 0, sizeof(d->cells));
	} else {
		fputc('{', d->f);
		d->first = true;
	}
	emit_u64(d, C_ts, e->ts);
	emit_u64(d, C_tid, e->tid);
	if (e->cpu == VT_CPU_UNKNOWN)
		emit_null(d, C_cpu);
	else
		emit_u64(d, C_cpu, e->cpu);
	emit_name(d, C_type, vt_type_name(e->type), e->type);
	if (e->phase == VT_NO_PHASE)
		emit_null(d, C_phase);
	else
		emit_s64(d, C_phase, e->phase);
	switch (e->type) {
	case VT_FAULT:
		emit_fault(d, e);
		break;
	case VT_ALLOC:
		emit_alloc_fields(d, C_pfn, &e->alloc);	/* the record's own fields */
		break;
	case VT_FREE:
		emit_u64(d, C_pfn, e->free.pfn);
		emit_u64(d, C_order, e->free.order);
		break;
	case VT_SCAN_PMD:
		emit_u64(d, C_pfn, e->scan.pfn);
		emit_s64(d, C_referenced, e->scan.referenced);
		emit_s64(d, C_none_or_zero, e->scan.none_or_zero);
		emit_s64(d, C_status, e->scan.status);
		emit_str(d, C_status_name, meta_name(d->scan_status, e->scan.status));
		emit_s64(d, C_unmapped, e->scan.unmapped);
		break;
	case VT_COLLAPSE:
		emit_s64(d, C_isolated, e->collapse.isolated);
		emit_s64(d, C_status, e->collapse.status);
		emit_str(d, C_status_name, meta_name(d->scan_status, e->collapse.status));
		emit_u64(d, C_nr_freed, e->collapse.nr_freed);
		if (e->collapse.has_isolate) {
			emit_s64(d, C_isolate_none_or_zero, e->collapse.isolate_none_or_zero);
			emit_s64(d, C_isolate_referenced, e->collapse.isolate_referenced);
			emit_s64(d, C_isolate_status, e->collapse.isolate_status);
			emit_str(d, C_isolate_status_name,
				 meta_name(d->scan_status, e->collapse.isolate_status));
		}
		if (e->collapse.has_swapin) {
			emit_s64(d, C_swapped_in, e->collapse.swapped_in);
			emit_s64(d, C_swapin_referenced, e->collapse.swapin_referenced);
			emit_s64(d, C_swapin_ret, e->collapse.swapin_ret);
		}
		if (e->collapse.has_alloc)
			emit_alloc(d, "alloc", 0, &e->collapse.alloc);
		else if (!d->csv)
			fputs(",\"alloc\":null", d->f);
		break;
	case VT_SYSCALL:
		emit_syscall(d, e);
		break;
	case VT_TLB_FLUSH:
		emit_s64(d, C_reason, e->tlb.reason);
		emit_str(d, C_reason_name, meta_name(d->tlb_reason, e->tlb.reason));
		emit_s64(d, C_pages, e->tlb.pages);
		emit_name(d, C_source, vt_tlb_source_name(e->tlb.source), e->tlb.source);
		break;
	case VT_RSS:
		emit_s64(d, C_member, e->rss.member);
		emit_str(d, C_member_name, e->rss.member < 0 ? NULL :
			 vt_rss_member_name((unsigned)e->rss.member));
		emit_s64(d, C_size, e->rss.size);
		break;
	case VT_IPI:
		emit_bool(d, C_sent, e->ipi.sent);
		if (e->ipi.sent)
			emit_u64(d, C_target, e->ipi.target);
		else
			emit_u64(d, C_flush_ns, e->ipi.ns);
		break;
	}
	if (!d->csv) {
		fputs("}\n", d->f);
		return;
	}
	for (int i = 0; i < C_NR; i++) {
		if (i)
			fputc(',', d->f);
		if (d->cells[i].str)
			wj_csv_field(d->f, d->cells[i].str);
		else
			fputs(d->cells[i].num, d->f);
	}
	fputc('\n', d->f);
}

/* ---- metadata ------------------------------------------------------------ */

/* "regions", "scan_status", "tlb_flush_reason": optional, checked when present. */
static int load_meta(struct dump *d, const char *path, const cJSON *meta, struct wl_error *err)
{
	struct wj_ctx c = { .file = path, .err = err };
	static const char *const names[] = { "scan_status", "tlb_flush_reason" };
	const cJSON *regions = cJSON_GetObjectItemCaseSensitive(meta, "regions"), *r;
	char where[64], got[WJ_QUOTED_LEN];
	size_t i = 0;

	for (size_t k = 0; k < 2; k++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(meta, names[k]), *n;

		if (!a)
			continue;
		snprintf(where, sizeof(where), "meta.%s", names[k]);
		if (!cJSON_IsArray(a))
			return wj_fail(&c, where, "", "expected an array of names, got %s",
				       wj_describe(a, got, sizeof(got)));
		cJSON_ArrayForEach(n, a)
			if (!cJSON_IsString(n))
				return wj_fail(&c, where, "", "expected an array of names, got %s in it",
					       wj_describe(n, got, sizeof(got)));
		if (k == 0)
			d->scan_status = a;
		else
			d->tlb_reason = a;
	}
	if (!regions)
		return 0;
	if (!cJSON_IsArray(regions))
		return wj_fail(&c, "meta.regions", "", "expected an array, got %s",
			       wj_describe(regions, got, sizeof(got)));
	d->regions = calloc((size_t)cJSON_GetArraySize(regions) + 1, sizeof(*d->regions));
	if (!d->regions)
		return wj_fail(&c, "meta.regions", "", "out of memory");
	cJSON_ArrayForEach(r, regions) {
		struct region *g = &d->regions[i];

		wj_path_index(where, sizeof(where), "meta.regions", i);
		if (!cJSON_IsObject(r))
			return wj_fail(&c, where, "", "expected an object, got %s",
				       wj_describe(r, got, sizeof(got)));
		if (wj_string(&c, r, where, "name", true, &g->name) < 0 ||
		    wj_uint(&c, r, where, "start", true, 0, WJ_MAX_EXACT, &g->start) < 0 ||
		    wj_uint(&c, r, where, "size", true, 0, WJ_MAX_EXACT, &g->size) < 0)
			return -1;
		d->nr_regions = ++i;
	}
	return 0;
}

/* ---- the command --------------------------------------------------------- */

static int dump_opt(int c, void *ctx)
{
	if (c != 'C')
		return EXIT_BAD_INPUT;
	*(bool *)ctx = true;
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "csv", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump d = { 0 };
	struct evlog_reader r;
	struct wl_error err;
	struct cli_args a;
	struct cli_out o;
	struct vt_event ev;
	bool csv = false, ok = true;
	int ret;

	ret = cli_parse(argc, argv, cli_find("dump"), "o:vh", longopts, dump_opt, &csv,
			"LOG file", &a);
	if (ret >= 0)
		return ret;
	if (evlog_open(&r, a.arg, &err))
		goto bad;
	if (load_meta(&d, a.arg, evlog_meta(&r), &err)) {
		evlog_close(&r);
		goto bad;
	}
	d.csv = csv;
	ret = cli_out_open(&o, a.out);
	if (ret)
		goto out;
	d.f = o.f;
	if (csv) {
		for (int i = 0; i < C_NR; i++)
			fprintf(o.f, "%s%s", i ? "," : "", col_names[i]);
		fputc('\n', o.f);
	} else {
		char *meta = cJSON_PrintUnformatted(evlog_meta(&r));

		if (!meta) {
			fprintf(stderr, "virtuoso dump: out of memory\n");
			ok = false;
		} else {
			fprintf(o.f, "{\"meta\":%s}\n", meta);
			free(meta);
		}
	}
	while (ok && evlog_next(&r, &ev) > 0)
		emit_record(&d, &ev);
	ret = cli_out_close(&o, ok);
	if (cli_verbose && !ret)
		fprintf(stderr, "virtuoso dump: %" PRIu64 " records\n", evlog_nr_records(&r));
out:
	free(d.regions);
	evlog_close(&r);
	return ret;
bad:
	free(d.regions);
	wl_error_print(&err, stderr);
	return EXIT_BAD_INPUT;
}
