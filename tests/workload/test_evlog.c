/*
 * test_evlog.c - the binary event log: what the writer puts at which byte,
 * that the reader gives back exactly what was written and refuses every cut
 * and every damaged byte, that nothing half-written is ever left behind, and
 * bin/virtuoso dump as a user runs it.
 *
 * Expected values are worked out here from the format in evlog.h (offsets,
 * sizes, a separate FNV-1a), not read back through the code under test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <zstd.h>

#include "workload/evlog.h"

#define BIN "bin/virtuoso"

/* ---- helpers ------------------------------------------------------------- */

/* A fresh empty directory per test, removed after it (see the suite's .fini). */
static char test_dir[64];

static const char *tmp_dir(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/vevlog-XXXXXX");
	cr_assert_not_null(mkdtemp(test_dir));
	return test_dir;
}

static void remove_tmp_dir(void)
{
	DIR *d;
	struct dirent *e;
	char p[320];

	if (!test_dir[0] || !(d = opendir(test_dir)))
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", test_dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(test_dir);
}

TestSuite(evlog, .fini = remove_tmp_dir);

static const char *in_dir(const char *dir, const char *name)
{
	static char paths[4][256];
	static int slot;
	char *p = paths[slot++ % 4];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* Entries of dir other than . and .. */
static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	int fd = open(path, O_RDONLY);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void write_all(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* FNV-1a 64, written out again from its definition: the reference. */
static uint64_t ref_fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

static uint32_t le32_at(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_at(const unsigned char *p)
{
	return le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

/* Record i of the round-trip stream: every type in turn, fields from i. */
static void make_event(struct vt_event *e, uint64_t i)
{
	memset(e, 0, sizeof(*e));
	e->ts = 1000000000ull + i * 1000;
	e->tid = 4000 + (uint32_t)(i % 7);
	e->type = (uint16_t)(1 + i % 8);	/* fault .. rss, as the values below were worked out */
	e->phase = (int16_t)(i % 5) - 1;
	e->cpu = (uint32_t)(i % 3);
	switch (e->type) {
	case VT_FAULT:
		e->fault.addr = 0x7f0000000000ull + i * 4096;
		e->fault.ip = 0x401000 + i;
		e->fault.latency_ns = 700 + i;
		e->fault.error_code = i & 1 ? 0x6 : 0x4;
		e->fault.completed = 1;
		e->fault.nr_allocs = 1;
		e->fault.rss_anon = (int64_t)(i * 4096);
		e->fault.alloc[0] = (struct vt_alloc){ .pfn = 0x100000 + i, .gfp = 0x140dca,
						       .order = 0, .migratetype = 1, .cause = 1 };
		break;
	case VT_SYSCALL:
		for (int k = 0; k < 6; k++)
			e->sys.args[k] = i * 10 + (uint64_t)k;
		e->sys.ret = -(int64_t)i;
		e->sys.exit_ts = e->ts + 55;
		e->sys.nr = 28;
		break;
	default:
		/* the other types: some bytes of the union set from i */
		e->scan.pfn = 0x200000 + i;
		e->scan.status = (int32_t)(i % 3);
		break;
	}
}

static void write_log(const char *path, const char *meta, const struct vt_event *ev, size_t n)
{
	struct evlog_writer w;
	struct wl_error err;

	cr_assert_eq(evlog_create(&w, path, NULL, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(evlog_append(&w, ev, n), 0);
	cr_assert_eq(evlog_set_meta(&w, meta, &err), 0, "%s: %s", err.path, err.msg);
	cr_assert_eq(evlog_commit(&w, &err), 0, "%s: %s", err.path, err.msg);
}

/* The small log the cut and flip tests damage: meta, then two records. */
static const char *small_meta = "{\"workload\":\"small\"}";

static const char *small_log(const char *dir)
{
	const char *path = in_dir(dir, "small.evlog");
	struct vt_event ev[2];

	make_event(&ev[0], 0);
	make_event(&ev[1], 5);
	write_log(path, small_meta, ev, 2);
	return path;
}

/* Open path expecting failure; returns the error. */
static struct wl_error open_fails(const char *path)
{
	struct evlog_reader r;
	struct wl_error err;

	memset(&err, 0, sizeof(err));
	cr_assert_eq(evlog_open(&r, path, &err), -1, "%s opened", path);
	cr_assert_str_eq(err.file, path);
	return err;
}

/* ---- running bin/virtuoso (as test_cli.c does) ---------------------------- */

struct result {
	int status;
	char out[1 << 16];
	char err[4096];
};

static void slurp(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

static void run(struct result *r, const char *const *args)
{
	char outp[] = "/tmp/vevlog-out-XXXXXX", errp[] = "/tmp/vevlog-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp), st;
	const char *argv[16] = { BIN };
	pid_t pid;

	cr_assert(ofd >= 0 && efd >= 0);
	unlink(outp);
	unlink(errp);
	for (int i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	pid = fork();
	cr_assert_neq(pid, -1);
	if (!pid) {
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(BIN, (char *const *)argv);
		_exit(98);
	}
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	slurp(ofd, r->out, sizeof(r->out));
	slurp(efd, r->err, sizeof(r->err));
}

#define RUN(r, ...) run(r, (const char *const[]){ __VA_ARGS__, NULL })

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Line i (from 0) of text, parsed. */
static cJSON *json_line(const char *text, int i)
{
	const char *p = text, *nl;
	char *buf;
	cJSON *j;

	for (; i > 0; i--) {
		p = strchr(p, '\n');
		cr_assert_not_null(p);
		p++;
	}
	nl = strchr(p, '\n');
	cr_assert_not_null(nl);
	buf = strndup(p, (size_t)(nl - p));
	j = cJSON_Parse(buf);
	cr_assert_not_null(j, "not JSON: %s", buf);
	free(buf);
	return j;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsNumber(v), "%s is not a number", key);
	return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsString(v), "%s is not a string", key);
	return v->valuestring;
}

static bool is_null(const cJSON *o, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
}

static bool is_true(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert(cJSON_IsBool(v), "%s is not a boolean", key);
	return cJSON_IsTrue(v);
}

/*
 * The hand-made log dump is run on: two regions, the kernel's names, and
 * one record of each kind with values chosen here.
 */
static const char *dump_meta =
	"{\"workload\":\"handmade\",\"pid\":4242,\"clock\":\"CLOCK_MONOTONIC\",\"version\":\"0.1.0\","
	"\"regions\":[{\"name\":\"hot\",\"start\":268435456,\"size\":2097152},"
	"{\"name\":\"cold\",\"start\":536870912,\"size\":4096}],"
	"\"phases\":[{\"op\":\"touch\",\"region\":\"hot\",\"start_ns\":100,\"runtime_ns\":50}],"
	"\"scan_status\":[\"failed\",\"succeeded\",\"pmd_null\"],"
	"\"tlb_flush_reason\":[\"TLB_FLUSH_ON_TASK_SWITCH\",\"TLB_REMOTE_SHOOTDOWN\","
	"\"TLB_LOCAL_SHOOTDOWN\",\"TLB_LOCAL_MM_SHOOTDOWN\",\"TLB_REMOTE_SEND_IPI\"]}";

enum { DUMP_N = 10 };

static const char *dump_log(const char *dir)
{
	const char *path = in_dir(dir, "events.vlog");
	struct vt_event ev[DUMP_N];

	memset(ev, 0, sizeof(ev));
	for (int i = 0; i < DUMP_N; i++) {
		ev[i].ts = 5000 + (uint64_t)i;
		ev[i].tid = 77;
		ev[i].phase = 0;
	}
	/* 0: a write fault inside "hot" (0x10000000 + 0x1000), two allocations */
	ev[0].type = VT_FAULT;
	ev[0].fault.addr = 0x10001000;
	ev[0].fault.ip = 0x401234;
	ev[0].fault.error_code = 0x6;
	ev[0].fault.completed = 1;
	ev[0].fault.latency_ns = 1500;
	ev[0].fault.nr_allocs = 2;
	ev[0].fault.nr_rss = 1;
	ev[0].fault.rss_anon = 8192;
	ev[0].fault.alloc[0] = (struct vt_alloc){ .pfn = 0x12345, .gfp = 0x140dca, .order = 0,
						  .migratetype = 1, .cause = VT_CAUSE_FAULT };
	ev[0].fault.alloc[1] = (struct vt_alloc){ .pfn = 0x400, .gfp = 0xcc0, .order = 9,
						  .migratetype = 2, .cause = VT_CAUSE_OTHER };
	/* 1: a read fault outside every region, failed, before the phases */
	ev[1].type = VT_FAULT;
	ev[1].phase = VT_NO_PHASE;
	ev[1].fault.addr = 0x30000000;
	ev[1].fault.error_code = 0x4;
	ev[1].fault.rss_anon = -1;
	/* 2: an allocation for khugepaged */
	ev[2].type = VT_ALLOC;
	ev[2].alloc = (struct vt_alloc){ .pfn = 0x600, .gfp = 0x1c2, .order = 9, .migratetype = 1,
					 .cause = VT_CAUSE_KHUGEPAGED };
	/* 3: a free */
	ev[3].type = VT_FREE;
	ev[3].free.pfn = 0x777;
	ev[3].free.order = 0;
	/* 4: a scan, status 2 = "pmd_null" in this metadata */
	ev[4].type = VT_SCAN_PMD;
	ev[4].scan.pfn = 0x888;
	ev[4].scan.referenced = 3;
	ev[4].scan.none_or_zero = 511;
	ev[4].scan.status = 2;
	ev[4].scan.unmapped = 0;
	/* 5: a collapse with its huge page */
	ev[5].type = VT_COLLAPSE;
	ev[5].collapse.isolated = 1;
	ev[5].collapse.status = 1;
	ev[5].collapse.nr_freed = 512;
	ev[5].collapse.has_alloc = 1;
	ev[5].collapse.alloc = (struct vt_alloc){ .pfn = 0xa00, .gfp = 0x1c2, .order = 9,
						  .migratetype = 1,
						  .cause = VT_CAUSE_MADV_COLLAPSE };
	/* 6: a collapse without one */
	ev[6].type = VT_COLLAPSE;
	ev[6].collapse.status = 0;
	/* 7: madvise(0x10000000, 2 MiB, MADV_HUGEPAGE = 14) = 0 */
	ev[7].type = VT_SYSCALL;
	ev[7].sys.nr = 28;
	ev[7].sys.args[0] = 0x10000000;
	ev[7].sys.args[1] = 2097152;
	ev[7].sys.args[2] = 14;
	ev[7].sys.ret = 0;
	ev[7].sys.exit_ts = 5100;
	/* 8: a full TLB flush, reason 2, which the probe judged kernel work */
	ev[8].type = VT_TLB_FLUSH;
	ev[8].tlb.reason = 2;
	ev[8].tlb.source = VT_TLB_SRC_KERNEL;
	ev[8].tlb.pages = -1;
	/* 9: MM_ANONPAGES grew to 12 KiB */
	ev[9].type = VT_RSS;
	ev[9].rss.member = 1;
	ev[9].rss.size = 12288;
	write_log(path, dump_meta, ev, DUMP_N);
	return path;
}

/* CSV fields of one line (no quoting in these tests' values). */
static int csv_fields(const char *line, size_t len)
{
	int n = 1;

	for (size_t i = 0; i < len; i++)
		n += line[i] == ',';
	return n;
}

/* Cell 'col' of CSV line 'row' (0 = header) into buf. */
static const char *csv_cell(const char *text, int row, int col, char *buf, size_t len)
{
	const char *p = text, *end;

	for (; row > 0; row--)
		p = strchr(p, '\n') + 1;
	for (; col > 0; col--)
		p = strpbrk(p, ",\n") + 1;
	end = strpbrk(p, ",\n");
	snprintf(buf, len, "%.*s", (int)(end - p), p);
	return buf;
}

static int csv_column(const char *text, const char *name)
{
	char buf[64];

	for (int c = 0; c < 100; c++)
		if (!strcmp(csv_cell(text, 0, c, buf, sizeof(buf)), name))
			return c;
	cr_assert_fail("no column %s", name);
	return -1;
}

/* ---- the format ------------------------------------------------------------ */

Test(evlog, fnv1a_matches_the_published_vectors)
{
	cr_assert_eq(evlog_fnv1a(EVLOG_FNV_BASIS, "", 0), 0xcbf29ce484222325ull);
	cr_assert_eq(evlog_fnv1a(EVLOG_FNV_BASIS, "a", 1), 0xaf63dc4c8601ec8cull);
	cr_assert_eq(evlog_fnv1a(EVLOG_FNV_BASIS, "foobar", 6), 0x85944171f73967e8ull);
	/* continuing a hash is hashing the concatenation */
	cr_assert_eq(evlog_fnv1a(evlog_fnv1a(EVLOG_FNV_BASIS, "foo", 3), "bar", 3),
		     0x85944171f73967e8ull);
}

Test(evlog, header_bytes_sit_at_the_offsets_the_format_gives)
{
	const char *dir = tmp_dir(), *path = small_log(dir);
	size_t len, mlen = strlen(small_meta), rlen;
	unsigned char *b = read_all(path, &len);

	cr_assert_gt(len, 64 + mlen);
	rlen = len - 64 - mlen;
	cr_assert_eq(memcmp(b, "VRTEVLOG", 8), 0);
	cr_assert_eq(memcmp(b + 8, "\x03\0\0\0", 4), 0, "version");
	cr_assert_eq(memcmp(b + 12, "\x40\0\0\0", 4), 0, "header_size");
	cr_assert_eq(memcmp(b + 16, "\x60\0\0\0", 4), 0, "record_size 96");
	cr_assert_eq(le32_at(b + 20), mlen, "meta_len");
	cr_assert_eq(le64_at(b + 24), 2, "nr_records");
	/* the records, then the metadata: one hash over both, in file order */
	cr_assert_eq(le64_at(b + 32), ref_fnv(b + 64, len - 64), "checksum");
	cr_assert_eq(le64_at(b + 40), rlen, "records_len");
	for (int i = 48; i < 64; i++)
		cr_assert_eq(b[i], 0, "flags and reserved byte %d", i);
	cr_assert_eq(memcmp(b + 64 + rlen, small_meta, mlen), 0, "metadata last");
	/* two records coded in fewer bytes than one of version 1 */
	cr_assert_lt(rlen, 88, "records_len %zu", rlen);
	free(b);
}

/*
 * The code of three records worked out by hand from evlog.h: a fault at ts
 * 300 (words 0 and 1 differ from the zero start: ts, and type 1 in word 1's
 * bits 32..47), the same at ts 310, then at ts 305 (a negative difference).
 */
Test(evlog, records_are_coded_against_the_previous_of_their_type)
{
	static const unsigned char want[] = {
		0x01, 0x03, 0xd8, 0x04, 0x80, 0x80, 0x80, 0x80, 0x20,	/* zz(300) = 600, zz(2^32) = 2^33 */
		0x01, 0x01, 0x14,					/* zz(10) = 20 */
		0x01, 0x01, 0x09,					/* zz(-5) = 9 */
	};
	const char *dir = tmp_dir(), *path = in_dir(dir, "coded.evlog");
	struct vt_event ev[3], got;
	struct evlog_reader r;
	struct wl_error err;
	size_t len;
	unsigned char *b;

	memset(ev, 0, sizeof(ev));
	for (int i = 0; i < 3; i++)
		ev[i].type = VT_FAULT;
	ev[0].ts = 300;
	ev[1].ts = 310;
	ev[2].ts = 305;
	cr_assert_eq(VT_FAULT, 1);
	write_log(path, "{}", ev, 3);
	b = read_all(path, &len);
	cr_assert_eq(len, 64 + sizeof(want) + 2, "file is %zu bytes", len);
	cr_assert_eq(le64_at(b + 40), sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++)
		cr_assert_eq(b[64 + i], want[i], "byte %zu of the records: 0x%02x, by hand 0x%02x", i,
			     b[64 + i], want[i]);
	free(b);
	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s", err.msg);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(evlog_next(&r, &got), 1);
		cr_assert_eq(memcmp(&got, &ev[i], sizeof(got)), 0, "record %d", i);
	}
	cr_assert_eq(evlog_next(&r, &got), 0);
	evlog_close(&r);
}

/* Version 1, made here byte by byte from its format: still read, and still checked. */
Test(evlog, a_version_1_log_is_still_read_and_checked)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "v1.evlog");
	const char *meta = "{\"workload\":\"old\"}";
	size_t mlen = strlen(meta), len = 64 + mlen + 2 * 88;
	unsigned char *b = calloc(1, len + 1);
	struct vt_event ev[2], got;
	struct evlog_reader r;
	struct wl_error err;
	size_t mtext;

	cr_assert_not_null(b);
	make_event(&ev[0], 0);
	make_event(&ev[1], 5);
	memcpy(b, "VRTEVLOG\x01\0\0\0\x40\0\0\0\x58\0\0\0", 20);
	for (int i = 0; i < 4; i++)
		b[20 + i] = (unsigned char)(mlen >> (8 * i));
	b[24] = 2;
	memcpy(b + 64, meta, mlen);
	/* a version 1 record is the first 88 bytes of today's; it has no cpu */
	for (int i = 0; i < 2; i++) {
		memcpy(b + 64 + mlen + 88 * (size_t)i, &ev[i], 88);
		ev[i].cpu = VT_CPU_UNKNOWN;
		ev[i].reserved = 0;
	}
	{
		uint64_t h = ref_fnv(b + 64, len - 64);

		for (int i = 0; i < 8; i++)
			b[32 + i] = (unsigned char)(h >> (8 * i));
	}
	write_all(path, b, len);
	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s: %s: %s", err.file, err.path, err.msg);
	cr_assert_str_eq(cJSON_GetObjectItem(evlog_meta(&r), "workload")->valuestring, "old");
	cr_assert_eq(strncmp(evlog_meta_text(&r, &mtext), meta, mlen), 0);
	cr_assert_eq(mtext, mlen);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(evlog_next(&r, &got), 1);
		cr_assert_eq(memcmp(&got, &ev[i], sizeof(got)), 0, "record %d", i);
	}
	cr_assert_eq(evlog_next(&r, &got), 0);
	evlog_close(&r);
	/* a byte after its records, as version 1 says it */
	write_all(path, b, len + 1);
	err = open_fails(path);
	cr_assert_str_eq(err.path, "records");
	cr_assert_not_null(strstr(err.msg, "1 bytes after the last record"), "%s", err.msg);
	free(b);
}

/*
 * Version 2, made here byte by byte: the three records of the coding test
 * above as version 2 coded them (11 words: no cpu), record_size 88. Still
 * read: the same records, their cpu unknown.
 */
Test(evlog, a_version_2_log_is_still_read_its_cpus_unknown)
{
	static const unsigned char rec[] = {
		0x01, 0x03, 0xd8, 0x04, 0x80, 0x80, 0x80, 0x80, 0x20,
		0x01, 0x01, 0x14,
		0x01, 0x01, 0x09,
	};
	static const uint64_t ts[3] = { 300, 310, 305 };
	const char *dir = tmp_dir(), *path = in_dir(dir, "v2.evlog");
	unsigned char b[64 + sizeof(rec) + 2] = { 0 };
	struct evlog_reader r;
	struct wl_error err;
	struct vt_event got;
	uint64_t h;

	memcpy(b, "VRTEVLOG\x02\0\0\0\x40\0\0\0\x58\0\0\0\x02\0\0\0\x03", 25);
	b[40] = sizeof(rec);
	memcpy(b + 64, rec, sizeof(rec));
	memcpy(b + 64 + sizeof(rec), "{}", 2);
	h = ref_fnv(b + 64, sizeof(b) - 64);
	for (int i = 0; i < 8; i++)
		b[32 + i] = (unsigned char)(h >> (8 * i));
	write_all(path, b, sizeof(b));
	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s: %s", err.path, err.msg);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(evlog_next(&r, &got), 1);
		cr_assert_eq(got.type, VT_FAULT);
		cr_assert_eq(got.ts, ts[i]);
		cr_assert_eq(got.cpu, VT_CPU_UNKNOWN, "record %d", i);
	}
	cr_assert_eq(evlog_next(&r, &got), 0);
	evlog_close(&r);
}

Test(evlog, records_that_do_not_decode_are_refused_with_a_valid_checksum)
{
	static const struct {
		unsigned char rec[12];
		size_t len;
		const char *what;
	} bad[] = {
		{ { 0x7f, 0x00 }, 2, "a context past the types" },
		{ { 0x01, 0x80 }, 2, "a varint cut" },
		{ { 0x01, 0x80, 0x10 }, 3, "a mask past 11 words" },
		{ { 0x02, 0x02, 0x02 }, 3, "a record whose type is not its context's" },
	};
	const char *dir = tmp_dir(), *path = in_dir(dir, "bad.evlog");

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unsigned char b[128] = { 0 };
		size_t len = 64 + bad[k].len + 2;
		struct wl_error err;
		uint64_t h;

		memcpy(b, "VRTEVLOG\x02\0\0\0\x40\0\0\0\x58\0\0\0\x02\0\0\0\x01", 25);
		b[40] = (unsigned char)bad[k].len;
		memcpy(b + 64, bad[k].rec, bad[k].len);
		memcpy(b + 64 + bad[k].len, "{}", 2);
		h = ref_fnv(b + 64, len - 64);
		for (int i = 0; i < 8; i++)
			b[32 + i] = (unsigned char)(h >> (8 * i));
		write_all(path, b, len);
		err = open_fails(path);
		cr_assert_str_eq(err.path, "records", "%s: %s", bad[k].what, err.msg);
		cr_assert_str_eq(err.msg, "record 0 at byte 0 of the records does not decode", "%s",
				 bad[k].what);
	}
}

Test(evlog, records_read_back_identical_in_order)
{
	/* past several 1 MiB buffer flushes, and appended in uneven batches */
	enum { N = 40000 };
	const char *dir = tmp_dir(), *path = in_dir(dir, "big.evlog");
	struct vt_event *ev = calloc(N, sizeof(*ev)), got;
	struct evlog_writer w;
	struct evlog_reader r;
	struct wl_error err;
	size_t i = 0, batch = 1;

	cr_assert_not_null(ev);
	for (size_t k = 0; k < N; k++)
		make_event(&ev[k], k);
	cr_assert_eq(evlog_create(&w, path, "{\"first\":1}", &err), 0, "%s", err.msg);
	while (i < N) {
		size_t n = batch < N - i ? batch : N - i;

		cr_assert_eq(evlog_append(&w, ev + i, n), 0);
		i += n;
		batch = batch * 3 % 1001 + 1;
	}
	cr_assert_eq(evlog_count(&w), N);
	cr_assert_eq(evlog_set_meta(&w, "{\"workload\":\"big\",\"pid\":7}", &err), 0);
	cr_assert_eq(evlog_commit(&w, &err), 0, "%s: %s", err.path, err.msg);

	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s: %s: %s", err.file, err.path, err.msg);
	cr_assert_eq(evlog_nr_records(&r), N);
	/* the metadata given last is the one written */
	cr_assert_str_eq(cJSON_GetObjectItem(evlog_meta(&r), "workload")->valuestring, "big");
	cr_assert_null(cJSON_GetObjectItem(evlog_meta(&r), "first"));
	for (i = 0; evlog_next(&r, &got) > 0; i++)
		cr_assert_eq(memcmp(&got, &ev[i], sizeof(got)), 0, "record %zu differs", i);
	cr_assert_eq(i, N);
	/* by index, with values worked out by hand: record 8 is the second fault */
	cr_assert_eq(evlog_get(&r, 8, &got), 0);
	cr_assert_eq(got.type, VT_FAULT);
	cr_assert_eq(got.ts, 1000008000ull);
	cr_assert_eq(got.tid, 4001);
	cr_assert_eq(got.phase, 2);
	cr_assert_eq(got.fault.addr, 0x7f0000008000ull);
	cr_assert_eq(got.fault.alloc[0].pfn, 0x100008);
	cr_assert_eq(got.fault.alloc[0].gfp, 0x140dca);
	cr_assert_eq(evlog_get(&r, 13, &got), 0);
	cr_assert_eq(got.type, VT_SYSCALL);
	cr_assert_eq(got.sys.args[5], 135);
	cr_assert_eq(got.sys.ret, -13);
	cr_assert_eq(evlog_get(&r, N, &got), -1);
	evlog_close(&r);
	free(ev);
}

Test(evlog, empty_log_has_a_header_metadata_and_no_records)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "empty.evlog");
	struct evlog_reader r;
	struct wl_error err;
	struct vt_event ev;
	size_t len;
	unsigned char *b;

	write_log(path, "{}", NULL, 0);
	b = read_all(path, &len);
	cr_assert_eq(len, 66);
	cr_assert_eq(le64_at(b + 32), ref_fnv((const unsigned char *)"{}", 2));
	free(b);
	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s", err.msg);
	cr_assert_eq(evlog_next(&r, &ev), 0);
	evlog_close(&r);
}

/* ---- refusing bad logs ----------------------------------------------------- */

Test(evlog, every_truncation_point_is_refused_as_truncated)
{
	const char *dir = tmp_dir(), *path = small_log(dir), *cut = in_dir(dir, "cut.evlog");
	size_t len, mlen = strlen(small_meta), rlen;
	unsigned char *b = read_all(path, &len);

	rlen = len - 64 - mlen;
	for (size_t n = 0; n < len; n++) {
		struct wl_error err;
		char want[160];

		write_all(cut, b, n);
		err = open_fails(cut);
		cr_assert_not_null(strstr(err.msg, "truncated"), "cut at %zu: %s: %s", n, err.path,
				   err.msg);
		if (n < 64) {
			cr_assert_str_eq(err.path, "header", "cut at %zu", n);
			snprintf(want, sizeof(want), "truncated: the file holds %zu bytes, a header is 64",
				 n);
		} else if (n < 64 + rlen) {
			cr_assert_str_eq(err.path, "records", "cut at %zu", n);
			snprintf(want, sizeof(want),
				 "truncated: header says %zu bytes of records, file holds %zu", rlen,
				 n - 64);
		} else {
			cr_assert_str_eq(err.path, "meta_len", "cut at %zu", n);
			snprintf(want, sizeof(want),
				 "truncated: header says %zu bytes of metadata, file holds %zu", mlen,
				 n - 64 - rlen);
		}
		cr_assert_str_eq(err.msg, want, "cut at %zu", n);
	}
	free(b);
}
Test(evlog, bytes_after_the_metadata_are_refused)
{
	const char *dir = tmp_dir(), *path = small_log(dir);
	size_t len;
	unsigned char *b = read_all(path, &len);
	struct wl_error err;

	b[len] = 0;
	write_all(path, b, len + 1);
	err = open_fails(path);
	cr_assert_str_eq(err.path, "meta");
	cr_assert_not_null(strstr(err.msg, "1 bytes after the metadata"), "%s", err.msg);
	free(b);
}
Test(evlog, one_flipped_byte_after_the_header_is_a_checksum_mismatch)
{
	const char *dir = tmp_dir(), *path = small_log(dir), *bad = in_dir(dir, "bad.evlog");
	size_t len;
	unsigned char *b = read_all(path, &len);

	for (size_t i = 64; i < len; i++) {
		struct wl_error err;

		b[i] ^= 0x20;
		write_all(bad, b, len);
		b[i] ^= 0x20;
		err = open_fails(bad);
		cr_assert_str_eq(err.path, "checksum", "byte %zu: %s: %s", i, err.path, err.msg);
		cr_assert_eq(strncmp(err.msg, "mismatch: ", 10), 0, "byte %zu: %s", i, err.msg);
		cr_assert_not_null(strstr(err.msg, "the log is corrupted"), "%s", err.msg);
	}
	free(b);
}

Test(evlog, one_flipped_byte_in_the_header_is_refused_naming_its_field)
{
	static const char *const field[64 / 4] = {
		"magic", "magic", "version", "header_size", "record_size", "meta_len",
		"records", "records", "checksum", "checksum", "records_len", "records_len",
		"flags", "reserved", "reserved", "reserved",
	};
	const char *dir = tmp_dir(), *path = small_log(dir), *bad = in_dir(dir, "bad.evlog");
	size_t len;
	unsigned char *b = read_all(path, &len);

	for (size_t i = 0; i < 64; i++) {
		struct wl_error err;
		const char *want = field[i / 4];

		b[i] ^= 0x01;
		write_all(bad, b, len);
		b[i] ^= 0x01;
		err = open_fails(bad);
		/*
		 * another meta_len or records_len moves where the parts meet: the
		 * file then reads as cut short, or as too long, at that part
		 */
		if (!strcmp(want, "meta_len") && !strcmp(err.path, "meta"))
			continue;
		/* version 3 to 2: the record size is then version 2's that is wrong */
		if (!strcmp(want, "version") && !strcmp(err.path, "record_size"))
			continue;
		/* flags bit 0 says zstd: the plain records are then no zstd frame */
		if (i == 48 && !strcmp(err.path, "records") && strstr(err.msg, "zstd"))
			continue;
		if (!strcmp(want, "records_len") && (!strcmp(err.path, "records") ||
						     !strcmp(err.path, "meta_len") ||
						     !strcmp(err.path, "meta")))
			continue;
		cr_assert_str_eq(err.path, want, "byte %zu: %s: %s", i, err.path, err.msg);
	}
	free(b);
}
Test(evlog, wrong_version_and_record_size_say_what_was_expected)
{
	const char *dir = tmp_dir(), *path = small_log(dir), *bad = in_dir(dir, "bad.evlog");
	size_t len;
	unsigned char *b = read_all(path, &len);
	struct wl_error err;

	b[8] = 4;
	write_all(bad, b, len);
	err = open_fails(bad);
	cr_assert_str_eq(err.path, "version");
	cr_assert_str_eq(err.msg, "expected 1 to 3, got 4 (written by a newer virtuoso?)");
	b[8] = 3;
	b[16] = 88;
	write_all(bad, b, len);
	err = open_fails(bad);
	cr_assert_str_eq(err.path, "record_size");
	cr_assert_str_eq(err.msg, "expected 96 (struct vt_event of version 3), got 88");
	b[8] = 2;
	b[16] = 96;
	write_all(bad, b, len);
	err = open_fails(bad);
	cr_assert_str_eq(err.path, "record_size");
	cr_assert_str_eq(err.msg, "expected 88 (struct vt_event of version 2), got 96");
	free(b);
}
Test(evlog, other_files_are_not_logs)
{
	const char *dir = tmp_dir(), *json = in_dir(dir, "linux.json");
	struct wl_error err;

	write_all(json, "{\"name\": \"x\"}\n", 14);
	err = open_fails(json);
	cr_assert_str_eq(err.path, "magic");
	cr_assert_str_eq(err.msg, "expected \"VRTEVLOG\", got \"{\\\"name\\\":\": not a virtuoso event log");
	err = open_fails(in_dir(dir, "missing.evlog"));
	cr_assert_str_eq(err.msg, "cannot read: No such file or directory");
}

Test(evlog, metadata_that_is_not_a_json_object_is_refused)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "m.evlog");
	struct evlog_writer w;
	struct wl_error err;
	size_t len;
	unsigned char *b;

	/* the writer refuses it when given ... */
	cr_assert_eq(evlog_create(&w, path, "[1,2]", &err), -1);
	cr_assert_str_eq(err.path, "meta");
	cr_assert_str_eq(err.msg, "expected a JSON object, got an array");
	cr_assert_eq(dir_entries(dir), 0);
	cr_assert_eq(evlog_create(&w, path, NULL, &err), 0);
	cr_assert_eq(evlog_set_meta(&w, "{\"a\":", &err), -1);
	cr_assert_str_eq(err.path, "meta");
	evlog_abort(&w);
	/* ... and the reader, in a log made by hand with a valid checksum */
	write_log(path, "{\"abc\":123}", NULL, 0);
	b = read_all(path, &len);
	memcpy(b + 64, "[\"abc\",12]", 10);
	{
		uint64_t h = ref_fnv(b + 64, len - 64);

		for (int i = 0; i < 8; i++)
			b[32 + i] = (unsigned char)(h >> (8 * i));
	}
	write_all(path, b, len);
	err = open_fails(path);
	cr_assert_str_eq(err.path, "meta");
	cr_assert_str_eq(err.msg, "expected a JSON object, got invalid JSON at byte 10");
	free(b);
}

/* ---- nothing half-written -------------------------------------------------- */

Test(evlog, aborted_writer_leaves_no_file_and_no_temporary)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "events.vlog");
	struct evlog_writer w;
	struct wl_error err;
	struct vt_event ev[100];

	for (int i = 0; i < 100; i++)
		make_event(&ev[i], (uint64_t)i);
	cr_assert_eq(evlog_create(&w, path, "{}", &err), 0, "%s", err.msg);
	for (int k = 0; k < 2000; k++)	/* past several 1 MiB flushes: the log is written to */
		cr_assert_eq(evlog_append(&w, ev, 100), 0);
	/* while it is written, nothing is visible in the directory at all */
	cr_assert_eq(dir_entries(dir), 0);
	evlog_abort(&w);
	cr_assert_eq(access(path, F_OK), -1);
	cr_assert_eq(dir_entries(dir), 0);
	/* a second abort, and an abort of a zeroed writer, do nothing */
	evlog_abort(&w);
	memset(&w, 0, sizeof(w));
	evlog_abort(&w);
	cr_assert_eq(evlog_append(&w, ev, 1), -1);
}

Test(evlog, failed_commit_leaves_nothing_and_keeps_an_older_log)
{
	const char *dir = tmp_dir(), *path = small_log(dir);
	struct evlog_writer w;
	struct wl_error err;
	struct vt_event ev;
	size_t before, after;
	unsigned char *b0 = read_all(path, &before), *b1;

	make_event(&ev, 1);
	cr_assert_eq(evlog_create(&w, path, NULL, &err), 0);
	cr_assert_eq(evlog_append(&w, &ev, 1), 0);
	cr_assert_eq(evlog_commit(&w, &err), -1);	/* no metadata was given */
	cr_assert_str_eq(err.path, "meta");
	cr_assert_str_eq(err.file, path);
	cr_assert_eq(dir_entries(dir), 1);
	b1 = read_all(path, &after);
	cr_assert(before == after && !memcmp(b0, b1, before), "the older log changed");
	evlog_abort(&w);	/* released already: harmless */
	free(b0);
	free(b1);
}

Test(evlog, create_in_a_missing_directory_names_the_path)
{
	struct evlog_writer w;
	struct wl_error err;

	cr_assert_eq(evlog_create(&w, "/nonexistent-vevlog/linux.evlog", "{}", &err), -1);
	cr_assert_str_eq(err.file, "/nonexistent-vevlog/linux.evlog");
	cr_assert_str_eq(err.msg, "cannot write: No such file or directory");
}

/* ---- names ----------------------------------------------------------------- */

Test(evlog, every_type_cause_syscall_and_tlb_source_has_its_name)
{
	static const char *const types[] = { NULL, "fault", "alloc", "free", "scan_pmd",
					     "collapse", "syscall", "tlb_flush", "rss", "ipi", NULL };
	static const char *const causes[] = { "other", "fault", "khugepaged", "madv_collapse",
					      NULL };

	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (types[i])
			cr_assert_str_eq(vt_type_name(i), types[i]);
		else
			cr_assert_null(vt_type_name(i), "type %u", i);
	}
	cr_assert_null(vt_type_name(1000));
	for (unsigned i = 0; i < sizeof(causes) / sizeof(causes[0]); i++) {
		if (causes[i])
			cr_assert_str_eq(vt_cause_name(i), causes[i]);
		else
			cr_assert_null(vt_cause_name(i));
	}
	cr_assert_str_eq(vt_syscall_name(9), "mmap");
	cr_assert_str_eq(vt_syscall_name(10), "mprotect");
	cr_assert_str_eq(vt_syscall_name(11), "munmap");
	cr_assert_str_eq(vt_syscall_name(12), "brk");
	cr_assert_str_eq(vt_syscall_name(25), "mremap");
	cr_assert_str_eq(vt_syscall_name(28), "madvise");
	cr_assert_null(vt_syscall_name(0));
	cr_assert_null(vt_syscall_name(13));
	cr_assert_null(vt_syscall_name(29));
	cr_assert_str_eq(vt_rss_member_name(1), "MM_ANONPAGES");
	cr_assert_null(vt_rss_member_name(4));
	cr_assert_str_eq(vt_tlb_source_name(VT_TLB_SRC_UNKNOWN), "unknown");
	cr_assert_str_eq(vt_tlb_source_name(VT_TLB_SRC_SYSCALL), "syscall");
	cr_assert_str_eq(vt_tlb_source_name(VT_TLB_SRC_KHUGEPAGED), "khugepaged");
	cr_assert_str_eq(vt_tlb_source_name(VT_TLB_SRC_KERNEL), "kernel");
	cr_assert_null(vt_tlb_source_name(VT_TLB_SRC_NR));
	/* the workload's own are the first three and the shootdowns its other threads send */
	cr_assert(!VT_TLB_SRC_WORKLOAD(VT_TLB_SRC_UNKNOWN));
	cr_assert(VT_TLB_SRC_WORKLOAD(VT_TLB_SRC_SYSCALL) && VT_TLB_SRC_WORKLOAD(VT_TLB_SRC_FAULT) &&
		  VT_TLB_SRC_WORKLOAD(VT_TLB_SRC_KHUGEPAGED) &&
		  VT_TLB_SRC_WORKLOAD(VT_TLB_SRC_SHOOTDOWN));
	cr_assert_str_eq(vt_tlb_source_name(VT_TLB_SRC_SHOOTDOWN), "shootdown");
	for (unsigned i = VT_TLB_SRC_SWITCH; i < VT_TLB_SRC_SHOOTDOWN; i++)
		cr_assert(!VT_TLB_SRC_WORKLOAD(i), "%s", vt_tlb_source_name(i));
}

/* ---- virtuoso dump --------------------------------------------------------- */

Test(evlog, dump_prints_the_metadata_then_one_json_line_per_record)
{
	const char *dir = tmp_dir(), *path = dump_log(dir);
	static struct result r;
	const cJSON *a;
	cJSON *j;

	RUN(&r, "dump", path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(lines(r.out), 1 + DUMP_N, "%s", r.out);

	j = json_line(r.out, 0);
	a = cJSON_GetObjectItem(j, "meta");
	cr_assert(cJSON_IsObject(a));
	cr_assert_str_eq(str(a, "workload"), "handmade");
	cr_assert_eq(num(a, "pid"), 4242);
	cJSON_Delete(j);

	/* the write fault in "hot" */
	j = json_line(r.out, 1);
	cr_assert_eq(num(j, "ts"), 5000);
	cr_assert_eq(num(j, "tid"), 77);
	cr_assert_str_eq(str(j, "type"), "fault");
	cr_assert_eq(num(j, "phase"), 0);
	cr_assert_eq(num(j, "addr"), 0x10001000);
	cr_assert_eq(num(j, "ip"), 0x401234);
	cr_assert_eq(num(j, "error_code"), 6);
	cr_assert(is_true(j, "write"));
	cr_assert(is_true(j, "completed"));
	cr_assert(!is_true(j, "major"));
	cr_assert_eq(num(j, "latency_ns"), 1500);
	cr_assert_eq(num(j, "nr_allocs"), 2);
	cr_assert_eq(num(j, "nr_rss"), 1);
	cr_assert_eq(num(j, "rss_anon"), 8192);
	cr_assert_str_eq(str(j, "region"), "hot");
	a = cJSON_GetObjectItem(j, "allocs");
	cr_assert_eq(cJSON_GetArraySize(a), 2);
	cr_assert_eq(num(cJSON_GetArrayItem(a, 0), "pfn"), 0x12345);
	cr_assert_eq(num(cJSON_GetArrayItem(a, 0), "order"), 0);
	cr_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "gfp"), "0x140dca");
	cr_assert_eq(num(cJSON_GetArrayItem(a, 0), "migratetype"), 1);
	cr_assert_str_eq(str(cJSON_GetArrayItem(a, 0), "cause"), "fault");
	cr_assert_eq(num(cJSON_GetArrayItem(a, 1), "order"), 9);
	cr_assert_str_eq(str(cJSON_GetArrayItem(a, 1), "gfp"), "0xcc0");
	cr_assert_str_eq(str(cJSON_GetArrayItem(a, 1), "cause"), "other");
	cJSON_Delete(j);

	/* the read fault outside every region, outside the phases */
	j = json_line(r.out, 2);
	cr_assert(!is_true(j, "write"));
	cr_assert(!is_true(j, "completed"));
	cr_assert(is_null(j, "region"));
	cr_assert(is_null(j, "phase"));
	cr_assert(is_null(j, "rss_anon"));
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "allocs")), 0);
	cJSON_Delete(j);

	j = json_line(r.out, 3);
	cr_assert_str_eq(str(j, "type"), "alloc");
	cr_assert_eq(num(j, "pfn"), 0x600);
	cr_assert_eq(num(j, "order"), 9);
	cr_assert_str_eq(str(j, "gfp"), "0x1c2");
	cr_assert_str_eq(str(j, "cause"), "khugepaged");
	cJSON_Delete(j);

	j = json_line(r.out, 4);
	cr_assert_str_eq(str(j, "type"), "free");
	cr_assert_eq(num(j, "pfn"), 0x777);
	cr_assert_eq(num(j, "order"), 0);
	cJSON_Delete(j);

	j = json_line(r.out, 5);
	cr_assert_str_eq(str(j, "type"), "scan_pmd");
	cr_assert_eq(num(j, "pfn"), 0x888);
	cr_assert_eq(num(j, "referenced"), 3);
	cr_assert_eq(num(j, "none_or_zero"), 511);
	cr_assert_eq(num(j, "status"), 2);
	cr_assert_str_eq(str(j, "status_name"), "pmd_null");
	cr_assert_eq(num(j, "unmapped"), 0);
	cJSON_Delete(j);

	j = json_line(r.out, 6);
	cr_assert_str_eq(str(j, "type"), "collapse");
	cr_assert_eq(num(j, "isolated"), 1);
	cr_assert_str_eq(str(j, "status_name"), "succeeded");
	cr_assert_eq(num(j, "nr_freed"), 512);
	a = cJSON_GetObjectItem(j, "alloc");
	cr_assert_eq(num(a, "pfn"), 0xa00);
	cr_assert_str_eq(str(a, "cause"), "madv_collapse");
	cJSON_Delete(j);

	j = json_line(r.out, 7);
	cr_assert_str_eq(str(j, "status_name"), "failed");
	cr_assert(is_null(j, "alloc"));
	cJSON_Delete(j);

	j = json_line(r.out, 8);
	cr_assert_str_eq(str(j, "type"), "syscall");
	cr_assert_str_eq(str(j, "name"), "madvise");
	a = cJSON_GetObjectItem(j, "args");
	cr_assert_eq(cJSON_GetArraySize(a), 6);
	cr_assert_eq(cJSON_GetArrayItem(a, 0)->valuedouble, 0x10000000);
	cr_assert_eq(cJSON_GetArrayItem(a, 1)->valuedouble, 2097152);
	cr_assert_eq(cJSON_GetArrayItem(a, 2)->valuedouble, 14);
	cr_assert_eq(num(j, "ret"), 0);
	cr_assert_eq(num(j, "exit_ts"), 5100);
	cJSON_Delete(j);

	j = json_line(r.out, 9);
	cr_assert_str_eq(str(j, "type"), "tlb_flush");
	cr_assert_eq(num(j, "reason"), 2);
	cr_assert_str_eq(str(j, "reason_name"), "TLB_LOCAL_SHOOTDOWN");
	cr_assert_eq(num(j, "pages"), -1);
	cr_assert_str_eq(str(j, "source"), "kernel");
	cJSON_Delete(j);

	j = json_line(r.out, 10);
	cr_assert_str_eq(str(j, "type"), "rss");
	cr_assert_eq(num(j, "member"), 1);
	cr_assert_str_eq(str(j, "member_name"), "MM_ANONPAGES");
	cr_assert_eq(num(j, "size"), 12288);
	cJSON_Delete(j);
}

Test(evlog, dump_csv_has_a_header_and_one_row_per_record_of_equal_width)
{
	const char *dir = tmp_dir(), *path = dump_log(dir);
	static struct result r;
	const char *p;
	char cell[64];
	int width = -1, row = 0;

	RUN(&r, "dump", "--csv", path);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(lines(r.out), 1 + DUMP_N, "%s", r.out);
	cr_assert_eq(strncmp(r.out, "ts,tid,cpu,type,phase,", 22), 0, "%.80s", r.out);
	for (p = r.out; *p; row++) {
		const char *nl = strchr(p, '\n');
		int w = csv_fields(p, (size_t)(nl - p));

		if (width < 0)
			width = w;
		cr_assert_eq(w, width, "row %d has %d fields, the header %d", row, w, width);
		p = nl + 1;
	}
	/* row 1 is the fault in "hot"; row 2 the one outside every region */
	cr_assert_str_eq(csv_cell(r.out, 1, csv_column(r.out, "region"), cell, sizeof(cell)), "hot");
	cr_assert_str_eq(csv_cell(r.out, 1, csv_column(r.out, "write"), cell, sizeof(cell)), "true");
	cr_assert_str_eq(csv_cell(r.out, 1, csv_column(r.out, "gfp"), cell, sizeof(cell)), "0x140dca");
	cr_assert_str_eq(csv_cell(r.out, 1, csv_column(r.out, "alloc1_order"), cell, sizeof(cell)), "9");
	cr_assert_str_eq(csv_cell(r.out, 2, csv_column(r.out, "region"), cell, sizeof(cell)), "");
	cr_assert_str_eq(csv_cell(r.out, 2, csv_column(r.out, "phase"), cell, sizeof(cell)), "");
	/* a field that does not apply is empty: a free has no address */
	cr_assert_str_eq(csv_cell(r.out, 4, csv_column(r.out, "addr"), cell, sizeof(cell)), "");
	cr_assert_str_eq(csv_cell(r.out, 4, csv_column(r.out, "pfn"), cell, sizeof(cell)), "1911");
	cr_assert_str_eq(csv_cell(r.out, 8, csv_column(r.out, "arg1"), cell, sizeof(cell)), "2097152");
	cr_assert_str_eq(csv_cell(r.out, 9, csv_column(r.out, "reason_name"), cell, sizeof(cell)),
			 "TLB_LOCAL_SHOOTDOWN");
	cr_assert_str_eq(csv_cell(r.out, 9, csv_column(r.out, "source"), cell, sizeof(cell)), "kernel");
}

Test(evlog, dump_to_a_file_writes_what_stdout_gets)
{
	const char *dir = tmp_dir(), *path = dump_log(dir), *out = in_dir(dir, "dump.jsonl");
	static struct result r, f;
	size_t len;
	char *text;

	RUN(&r, "dump", path);
	RUN(&f, "dump", "-o", out, path);
	cr_assert_eq(f.status, 0, "%s", f.err);
	cr_assert_str_eq(f.out, "");
	text = (char *)read_all(out, &len);
	text[len] = '\0';
	cr_assert_str_eq(text, r.out);
	free(text);
}

Test(evlog, dump_of_a_truncated_log_is_bad_input_and_writes_nothing)
{
	const char *dir = tmp_dir(), *path = dump_log(dir), *out = in_dir(dir, "dump.jsonl");
	static struct result r;
	size_t len;
	unsigned char *b = read_all(path, &len);
	char want[512];

	write_all(path, b, len - 10);
	RUN(&r, "dump", "-o", out, path);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(lines(r.err), 1, "%s", r.err);
	/* cut in the metadata, which comes last */
	snprintf(want, sizeof(want), "%s: meta_len: truncated: header says %u bytes of metadata, "
		 "file holds %u\n", path, le32_at(b + 20), le32_at(b + 20) - 10);
	cr_assert_str_eq(r.err, want);
	cr_assert_str_eq(r.out, "");
	cr_assert_eq(access(out, F_OK), -1, "%s was written", out);
	cr_assert_eq(dir_entries(dir), 1, "a temporary file was left");
	/* and to stdout: nothing */
	RUN(&r, "dump", "--csv", path);
	cr_assert_eq(r.status, 2);
	cr_assert_str_eq(r.out, "");
	free(b);
}

Test(evlog, dump_of_a_corrupted_missing_or_foreign_file_is_bad_input)
{
	const char *dir = tmp_dir(), *path = dump_log(dir);
	static struct result r;
	size_t len;
	unsigned char *b = read_all(path, &len);
	char want[300];

	b[len - 1] ^= 0xff;
	write_all(path, b, len);
	RUN(&r, "dump", path);
	cr_assert_eq(r.status, 2);
	cr_assert_eq(lines(r.err), 1, "%s", r.err);
	snprintf(want, sizeof(want), "%s: checksum: mismatch: ", path);
	cr_assert_eq(strncmp(r.err, want, strlen(want)), 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");

	RUN(&r, "dump", in_dir(dir, "missing.evlog"));
	cr_assert_eq(r.status, 2);
	cr_assert_eq(lines(r.err), 1, "%s", r.err);

	RUN(&r, "dump", "tests/workload/test_evlog.c");
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "test_evlog.c: magic: "), "%s", r.err);

	RUN(&r, "dump");
	cr_assert_eq(r.status, 2);
	cr_assert_not_null(strstr(r.err, "LOG"), "%s", r.err);
	free(b);
}

Test(evlog, dump_refuses_metadata_regions_it_cannot_read)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "r.evlog");
	static struct result r;
	char want[300];

	write_log(path, "{\"regions\":[{\"name\":\"a\",\"start\":0,\"size\":1},{\"name\":\"b\"}]}",
		  NULL, 0);
	RUN(&r, "dump", path);
	cr_assert_eq(r.status, 2);
	snprintf(want, sizeof(want), "%s: meta.regions[1].start: ", path);
	cr_assert_eq(strncmp(r.err, want, strlen(want)), 0, "%s", r.err);
	cr_assert_eq(lines(r.err), 1, "%s", r.err);
}

static int add_x(cJSON *meta, void *ctx)
{
	(void)ctx;
	return cJSON_AddNumberToObject(meta, "x", 1) ? 0 : -1;
}

Test(evlog, new_metadata_keeps_the_records_bytes_and_version_1_becomes_3)
{
	const char *dir = tmp_dir(), *path = small_log(dir), *v1 = in_dir(dir, "v1.evlog");
	size_t len0, len1, mlen = strlen(small_meta), rlen;
	unsigned char *b0 = read_all(path, &len0), *b1;
	struct evlog_reader r;
	struct wl_error err;
	struct vt_event ev[2], got;

	rlen = len0 - 64 - mlen;
	cr_assert_eq(evlog_update_meta(path, add_x, NULL, &err), 0, "%s", err.msg);
	b1 = read_all(path, &len1);
	cr_assert_eq(le64_at(b1 + 40), rlen, "records_len");
	cr_assert_eq(memcmp(b0 + 64, b1 + 64, rlen), 0, "the records' bytes moved");
	cr_assert_eq(le64_at(b1 + 32), ref_fnv(b1 + 64, len1 - 64), "checksum");
	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s", err.msg);
	cr_assert_str_eq(cJSON_GetObjectItem(evlog_meta(&r), "workload")->valuestring, "small");
	cr_assert_eq(cJSON_GetObjectItem(evlog_meta(&r), "x")->valueint, 1);
	cr_assert_eq(dir_entries(dir), 1, "a temporary file was left");
	evlog_close(&r);
	free(b0);
	free(b1);

	/* a version 1 log, made by hand, written again as version 3 */
	make_event(&ev[0], 0);
	make_event(&ev[1], 5);
	{
		size_t len = 64 + 2 + 2 * 88;
		unsigned char *b = calloc(1, len);
		uint64_t h;

		memcpy(b, "VRTEVLOG\x01\0\0\0\x40\0\0\0\x58\0\0\0\x02\0\0\0\x02", 25);
		memcpy(b + 64, "{}", 2);
		for (int i = 0; i < 2; i++) {
			memcpy(b + 66 + 88 * (size_t)i, &ev[i], 88);
			ev[i].cpu = VT_CPU_UNKNOWN;	/* what a version 1 record reads as */
			ev[i].reserved = 0;
		}
		h = ref_fnv(b + 64, len - 64);
		for (int i = 0; i < 8; i++)
			b[32 + i] = (unsigned char)(h >> (8 * i));
		write_all(v1, b, len);
		free(b);
	}
	cr_assert_eq(evlog_rewrite_meta(v1, "{\"new\":true}", &err), 0, "%s", err.msg);
	b1 = read_all(v1, &len1);
	cr_assert_eq(b1[8], 3, "version");
	free(b1);
	cr_assert_eq(evlog_open(&r, v1, &err), 0, "%s", err.msg);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(evlog_meta(&r), "new")));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(evlog_next(&r, &got), 1);
		cr_assert_eq(memcmp(&got, &ev[i], sizeof(got)), 0, "record %d", i);
	}
	evlog_close(&r);
}

/* ---- zstd-compressed records ------------------------------------------------- */

/* A compressed log of n make_event() records at path: its writer's steps as a reader sees them. */
static void write_zstd_log(const char *path, const struct vt_event *ev, size_t n)
{
	struct evlog_writer w;
	struct wl_error err;

	cr_assert_eq(evlog_create(&w, path, "{\"workload\":\"z\"}", &err), 0, "%s", err.msg);
	cr_assert_eq(evlog_set_zstd(&w, 3, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < n; i += 1000)
		cr_assert_eq(evlog_append(&w, ev + i, n - i < 1000 ? n - i : 1000), 0);
	cr_assert_eq(evlog_commit(&w, &err), 0, "%s: %s", err.path, err.msg);
}

/*
 * The records part of a compressed log is one zstd frame (ZSTD's own
 * decompressor, not ours, gives back the coded records of the plain log
 * byte for byte), the flag says so, the checksum covers the stored bytes,
 * and the reader gives the same records as from the plain log.
 */
Test(evlog, zstd_records_are_one_frame_of_the_plain_logs_codes)
{
	enum { N = 40000 };
	const char *dir = tmp_dir(), *plain = in_dir(dir, "plain.evlog");
	const char *packed = in_dir(dir, "zstd.evlog");
	struct vt_event *ev = calloc(N, sizeof(*ev)), got;
	struct evlog_reader r;
	struct wl_error err;
	size_t plen, zlen, i;
	unsigned char *pb, *zb, *out;
	uint64_t prl, zrl;

	cr_assert_not_null(ev);
	for (size_t k = 0; k < N; k++)
		make_event(&ev[k], k);
	write_log(plain, "{\"workload\":\"z\"}", ev, N);
	write_zstd_log(packed, ev, N);
	pb = read_all(plain, &plen);
	zb = read_all(packed, &zlen);
	prl = le64_at(pb + 40);
	zrl = le64_at(zb + 40);
	cr_assert_eq(le32_at(pb + 48), 0, "plain flags");
	cr_assert_eq(le32_at(zb + 48), 1, "zstd flags");
	cr_assert_eq(le64_at(zb + 24), N, "nr_records");
	cr_assert_lt(zrl * 4, prl, "%llu bytes compressed, %llu coded", (unsigned long long)zrl,
		     (unsigned long long)prl);
	cr_assert_eq(zlen, 64 + zrl + strlen("{\"workload\":\"z\"}"));
	cr_assert_eq(le64_at(zb + 32), ref_fnv(zb + 64, zlen - 64), "checksum of stored bytes");
	out = malloc(prl);
	cr_assert_not_null(out);
	cr_assert_eq(ZSTD_decompress(out, prl, zb + 64, zrl), prl);
	cr_assert_eq(memcmp(out, pb + 64, prl), 0, "the frame holds the plain log's records");
	cr_assert_eq(evlog_open(&r, packed, &err), 0, "%s: %s", err.path, err.msg);
	for (i = 0; evlog_next(&r, &got) > 0; i++)
		cr_assert_eq(memcmp(&got, &ev[i], sizeof(got)), 0, "record %zu differs", i);
	cr_assert_eq(i, N);
	cr_assert_eq(evlog_get(&r, 13, &got), 0);
	cr_assert_eq(got.sys.args[5], 135);
	evlog_close(&r);
	free(out);
	free(pb);
	free(zb);
	free(ev);
}

/* New metadata keeps a compressed log compressed, its frame's bytes as they were. */
Test(evlog, zstd_log_keeps_its_frame_when_its_metadata_changes)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "z.evlog");
	struct vt_event ev[100], got;
	struct evlog_reader r;
	struct wl_error err;
	size_t len0, len1, i;
	unsigned char *b0, *b1;

	for (size_t k = 0; k < 100; k++)
		make_event(&ev[k], k);
	write_zstd_log(path, ev, 100);
	b0 = read_all(path, &len0);
	cr_assert_eq(evlog_update_meta(path, add_x, NULL, &err), 0, "%s", err.msg);
	b1 = read_all(path, &len1);
	cr_assert_eq(le32_at(b1 + 48), 1, "flags");
	cr_assert_eq(le64_at(b1 + 40), le64_at(b0 + 40), "records_len");
	cr_assert_eq(memcmp(b0 + 64, b1 + 64, le64_at(b0 + 40)), 0, "the frame moved");
	cr_assert_eq(evlog_open(&r, path, &err), 0, "%s", err.msg);
	cr_assert_eq(cJSON_GetObjectItem(evlog_meta(&r), "x")->valueint, 1);
	for (i = 0; evlog_next(&r, &got) > 0; i++)
		cr_assert_eq(memcmp(&got, &ev[i], sizeof(got)), 0, "record %zu differs", i);
	cr_assert_eq(i, 100);
	evlog_close(&r);
	free(b0);
	free(b1);
}

/*
 * A frame that is not zstd, or is cut, under a valid checksum, and a flag
 * this version has no meaning for: each refused in one line naming the part.
 */
Test(evlog, bad_zstd_frames_and_unknown_flags_are_refused_naming_the_field)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "z.evlog");
	const char *bad = in_dir(dir, "bad.evlog");
	struct vt_event ev[50];
	struct wl_error err;
	size_t len;
	unsigned char *b;
	uint64_t rl, h;

	for (size_t k = 0; k < 50; k++)
		make_event(&ev[k], k);
	write_zstd_log(path, ev, 50);
	b = read_all(path, &len);
	rl = le64_at(b + 40);

	/* the frame's magic number broken, the checksum made to match */
	b[64] ^= 0xff;
	h = ref_fnv(b + 64, len - 64);
	for (int i = 0; i < 8; i++)
		b[32 + i] = (unsigned char)(h >> (8 * i));
	write_all(bad, b, len);
	err = open_fails(bad);
	cr_assert_str_eq(err.path, "records", "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "zstd: "), "%s", err.msg);
	b[64] ^= 0xff;

	/* the frame cut by 3 bytes (records_len and the checksum made to match) */
	{
		unsigned char *c = malloc(len);
		size_t clen = len - 3, mlen = len - 64 - rl;

		memcpy(c, b, 64 + rl - 3);
		memcpy(c + 64 + rl - 3, b + 64 + rl, mlen);
		for (int i = 0; i < 8; i++)
			c[40 + i] = (unsigned char)((rl - 3) >> (8 * i));
		h = ref_fnv(c + 64, clen - 64);
		for (int i = 0; i < 8; i++)
			c[32 + i] = (unsigned char)(h >> (8 * i));
		write_all(bad, c, clen);
		err = open_fails(bad);
		cr_assert_str_eq(err.path, "records", "%s", err.msg);
		cr_assert_not_null(strstr(err.msg, "zstd"), "%s", err.msg);
		free(c);
	}

	/* flags 0x3: bit 1 means nothing to this version */
	b[48] = 0x03;
	write_all(bad, b, len);
	err = open_fails(bad);
	cr_assert_str_eq(err.path, "flags", "%s", err.msg);
	cr_assert_str_eq(err.msg, "expected 0 or 0x1 (zstd), got 0x3 (written by a newer virtuoso?)");
	free(b);
}

Test(evlog, compression_is_chosen_before_the_first_record)
{
	const char *dir = tmp_dir(), *path = in_dir(dir, "late.evlog");
	struct evlog_writer w;
	struct wl_error err;
	struct vt_event ev;

	make_event(&ev, 0);
	cr_assert_eq(evlog_create(&w, path, "{}", &err), 0, "%s", err.msg);
	cr_assert_eq(evlog_set_zstd(&w, 99, &err), -1);
	cr_assert_str_eq(err.path, "flags");
	cr_assert_eq(evlog_append(&w, &ev, 1), 0);
	cr_assert_eq(evlog_set_zstd(&w, 3, &err), -1);
	cr_assert_str_eq(err.msg, "compression is chosen before any record");
	evlog_abort(&w);
	cr_assert_eq(dir_entries(dir), 0);
}

/* `virtuoso sim --zstd` writes the same events as without, compressed, and dump reads it. */
Test(evlog, sim_with_zstd_dumps_the_same_records_as_without)
{
	const char *dir = tmp_dir();
	static struct result a, b;
	const char *spec = "datasets/workloads/thp-never-4k.json";
	const char *sa[] = { "sim", spec, "-o", in_dir(dir, "plain"), "--functional",
			     "--no-calibration", NULL };
	const char *sb[] = { "sim", spec, "-o", in_dir(dir, "zstd"), "--functional",
			     "--no-calibration", "--zstd", NULL };
	const char *da[] = { "dump", in_dir(dir, "plain/sim-events.vlog"), NULL };
	const char *db[] = { "dump", in_dir(dir, "zstd/sim-events.vlog"), NULL };
	size_t pl, zl;
	unsigned char *p, *z;

	run(&a, sa);
	cr_assert_eq(a.status, 0, "%s", a.err);
	run(&b, sb);
	cr_assert_eq(b.status, 0, "%s", b.err);
	p = read_all(in_dir(dir, "plain/sim-events.vlog"), &pl);
	z = read_all(in_dir(dir, "zstd/sim-events.vlog"), &zl);
	cr_assert_eq(le32_at(z + 48), 1);
	cr_assert_lt(zl, pl);
	free(p);
	free(z);
	run(&a, da);
	run(&b, db);
	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_assert_eq(b.status, 0, "%s", b.err);
	/* the output buffer holds the start of each: the metadata and the first records */
	cr_assert_str_eq(a.out, b.out);
}
