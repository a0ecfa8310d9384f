/*
 * evlog.c - the binary event log (format and contract in evlog.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "workload/evlog.h"
#include "workload/json.h"

/* Records are stored as the host holds them: the format says x86-64. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the event log is little-endian");
_Static_assert(sizeof(struct vt_event) == 96, "struct vt_event changed: bump EVLOG_VERSION");

/* Versions 1 and 2 stored the record without cpu and reserved: its first 88 bytes. */
#define LEGACY_RECORD_SIZE	88
#define LEGACY_WORDS		(LEGACY_RECORD_SIZE / 8)

/* A record of a version 1 or 2 log, its first 88 bytes given: the rest as such logs mean it. */
static void legacy_fill(struct vt_event *ev)
{
	ev->cpu = VT_CPU_UNKNOWN;
	ev->reserved = 0;
}
_Static_assert(offsetof(struct vt_event, fault) == 16, "struct vt_event changed");
_Static_assert(sizeof(struct vt_alloc) == 16, "struct vt_alloc changed");

#define SPOOL_BUF	(1u << 20)

/* ---- names --------------------------------------------------------------- */

#define NAME_OF(table, i) \
	((i) < sizeof(table) / sizeof(table[0]) ? table[i] : NULL)

static const char *const type_names[] = {
	[VT_FAULT] = "fault",
	[VT_ALLOC] = "alloc",
	[VT_FREE] = "free",
	[VT_SCAN_PMD] = "scan_pmd",
	[VT_COLLAPSE] = "collapse",
	[VT_SYSCALL] = "syscall",
	[VT_TLB_FLUSH] = "tlb_flush",
	[VT_RSS] = "rss",
	[VT_IPI] = "ipi",
};
_Static_assert(sizeof(type_names) / sizeof(type_names[0]) == VT_TYPE_NR,
	       "a vt_type without a name");

static const char *const cause_names[] = {
	[VT_CAUSE_OTHER] = "other",
	[VT_CAUSE_FAULT] = "fault",
	[VT_CAUSE_KHUGEPAGED] = "khugepaged",
	[VT_CAUSE_MADV_COLLAPSE] = "madv_collapse",
};
_Static_assert(sizeof(cause_names) / sizeof(cause_names[0]) == VT_CAUSE_NR,
	       "a vt_cause without a name");

static const char *const tlb_source_names[] = {
	[VT_TLB_SRC_UNKNOWN] = "unknown",
	[VT_TLB_SRC_SYSCALL] = "syscall",
	[VT_TLB_SRC_FAULT] = "fault",
	[VT_TLB_SRC_KHUGEPAGED] = "khugepaged",
	[VT_TLB_SRC_SWITCH] = "switch",
	[VT_TLB_SRC_IPI] = "ipi",
	[VT_TLB_SRC_OTHER_MM] = "other_mm",
	[VT_TLB_SRC_KERNEL] = "kernel",
	[VT_TLB_SRC_SHOOTDOWN] = "shootdown",
};
_Static_assert(sizeof(tlb_source_names) / sizeof(tlb_source_names[0]) == VT_TLB_SRC_NR,
	       "a vt_tlb_source without a name");

/* arch/x86/entry/syscalls/syscall_64.tbl: the ones bpf/vmtrace.bpf.c traces */
static const char *const syscall_names[] = {
	[9] = "mmap",
	[10] = "mprotect",
	[11] = "munmap",
	[12] = "brk",
	[25] = "mremap",
	[28] = "madvise",
};

/* include/trace/events/kmem.h, TRACE_MM_PAGES: enum of include/linux/mm_types_task.h */
static const char *const rss_member_names[] = {
	"MM_FILEPAGES",
	"MM_ANONPAGES",
	"MM_SWAPENTS",
	"MM_SHMEMPAGES",
};

const char *vt_type_name(unsigned type)
{
	return NAME_OF(type_names, type);
}

const char *vt_cause_name(unsigned cause)
{
	return NAME_OF(cause_names, cause);
}

const char *vt_tlb_source_name(unsigned source)
{
	return NAME_OF(tlb_source_names, source);
}

const char *vt_syscall_name(unsigned nr)
{
	return NAME_OF(syscall_names, nr);
}

const char *vt_rss_member_name(unsigned member)
{
	return NAME_OF(rss_member_names, member);
}

/* ---- bytes --------------------------------------------------------------- */

uint64_t evlog_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * EVLOG_FNV_PRIME;
	return h;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t got = write(fd, c, n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		c += got;
		n -= (size_t)got;
	}
	return 0;
}

/* ---- the record encoding (version 2) -------------------------------------- */

/*
 * A record is 11 little-endian 64-bit words. Each is coded against the same
 * word of the previous record of its context (its type; one context for
 * types this tool has no name for): a context byte, a varint mask of the
 * words that differ, then each such word's difference (wrapping), zigzagged,
 * as a varint. Consecutive faults differ in a few words by small amounts.
 */
#define WORDS		(sizeof(struct vt_event) / 8)
#define CTX_NR		(VT_TYPE_NR + 1)
/* context byte, mask (2 bytes), 11 words of up to 10 bytes */
#define ENC_MAX		(1 + 2 + WORDS * 10)

_Static_assert(sizeof(struct vt_event) % 8 == 0, "a record is whole words");
_Static_assert(WORDS <= 14, "the mask is two varint bytes at most");

static unsigned ctx_of(const struct vt_event *ev)
{
	return ev->type < VT_TYPE_NR ? ev->type : VT_TYPE_NR;
}

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

/* A varint from p[0..left); 0 when malformed or cut. */
static size_t get_varint(const unsigned char *p, size_t left, uint64_t *v)
{
	uint64_t x = 0;

	for (size_t n = 0; n < left && n < 10; n++) {
		x |= (uint64_t)(p[n] & 0x7f) << (7 * n);
		if (!(p[n] & 0x80)) {
			if (n == 9 && p[n] > 1)
				return 0;	/* more than 64 bits */
			*v = x;
			return n + 1;
		}
	}
	return 0;
}

/* Encode ev against prev (updated to ev); the bytes written into p. */
static size_t encode(unsigned char *p, const struct vt_event *ev, uint64_t prev[CTX_NR][WORDS])
{
	unsigned ctx = ctx_of(ev);
	uint64_t w[WORDS], d[WORDS];
	unsigned mask = 0;
	size_t n = 0;

	memcpy(w, ev, sizeof(w));
	for (unsigned i = 0; i < WORDS; i++) {
		d[i] = w[i] - prev[ctx][i];
		mask |= (d[i] != 0) << i;
		prev[ctx][i] = w[i];
	}
	p[n++] = (unsigned char)ctx;
	n += put_varint(p + n, mask);
	for (unsigned i = 0; i < WORDS; i++)
		if (mask >> i & 1)
			n += put_varint(p + n, (d[i] << 1) ^ (uint64_t)((int64_t)d[i] >> 63));
	return n;
}

/*
 * Decode one record of 'words' words (version 3: WORDS; version 2:
 * LEGACY_WORDS, the rest filled as legacy_fill() says) from p[0..left)
 * against prev (updated); the bytes taken, or 0 when they are not a record.
 */
static size_t decode(const unsigned char *p, size_t left, struct vt_event *ev,
		     uint64_t prev[CTX_NR][WORDS], unsigned words)
{
	uint64_t mask, z;
	size_t n = 1, k;
	unsigned ctx;

	if (!left || p[0] >= CTX_NR)
		return 0;
	ctx = p[0];
	if (!(k = get_varint(p + n, left - n, &mask)) || mask >> words)
		return 0;
	n += k;
	for (unsigned i = 0; i < words; i++)
		if (mask >> i & 1) {
			if (!(k = get_varint(p + n, left - n, &z)))
				return 0;
			n += k;
			prev[ctx][i] += (z >> 1) ^ (0 - (z & 1));
		}
	memcpy(ev, prev[ctx], sizeof(*ev));
	if (words < WORDS)
		legacy_fill(ev);
	return ctx_of(ev) == ctx ? n : 0;
}

/* The words a record of this log has. */
static unsigned log_words(const struct evlog_reader *r)
{
	return r->version >= 3 ? WORDS : LEGACY_WORDS;
}

/* ---- writer -------------------------------------------------------------- */

static void writer_release(struct evlog_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp[0])
		unlink(w->tmp);		/* a named file where O_TMPFILE is missing */
	free(w->meta);
	free(w->buf);
	free(w->prev);
	free(w->zbuf);
	ZSTD_freeCCtx(w->zstd);
	w->zstd = NULL;
	w->zbuf = NULL;
	w->fd = -1;
	w->tmp[0] = '\0';
	w->meta = NULL;
	w->buf = NULL;
	w->prev = NULL;
	w->buf_len = w->buf_cap = 0;
	w->live = false;
}

/* The metadata must be a JSON object without NUL bytes, under 4 GiB. */
static int check_meta(const char *path, const char *meta_json, size_t len, struct wl_error *err)
{
	const char *end = NULL;
	char got[WJ_QUOTED_LEN];
	cJSON *root;

	if (len > UINT32_MAX)
		return wl_error_set(err, path, "meta", "%zu bytes, more than a u32 meta_len holds", len);
	root = cJSON_ParseWithOpts(meta_json, &end, true);
	if (!root)
		return wl_error_set(err, path, "meta", "expected a JSON object, got invalid JSON at byte %zu",
				    end ? (size_t)(end - meta_json) : (size_t)0);
	if (!cJSON_IsObject(root)) {
		wl_error_set(err, path, "meta", "expected a JSON object, got %s",
			     wj_describe(root, got, sizeof(got)));
		cJSON_Delete(root);
		return -1;
	}
	cJSON_Delete(root);
	return 0;
}

int evlog_set_meta(struct evlog_writer *w, const char *meta_json, struct wl_error *err)
{
	size_t len;
	char *copy;

	if (!w->live)
		return wl_error_set(err, w->path, "meta", "the log was already committed or aborted");
	if (!meta_json)
		return wl_error_set(err, w->path, "meta", "expected a JSON object, got nothing");
	len = strlen(meta_json);
	if (check_meta(w->path, meta_json, len, err))
		return -1;
	copy = strdup(meta_json);
	if (!copy)
		return wl_error_set(err, w->path, "meta", "out of memory");
	free(w->meta);
	w->meta = copy;
	w->meta_len = len;
	return 0;
}

/* PATH's directory into dir. */
static void dir_of(char *dir, size_t len, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int evlog_create(struct evlog_writer *w, const char *path, const char *meta_json,
		 struct wl_error *err)
{
	char dir[sizeof(w->path)];

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (strlen(path) + 16 > sizeof(w->path))
		return wl_error_set(err, path, "", "cannot write: the path is too long");
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->buf = malloc(SPOOL_BUF);
	w->prev = calloc(CTX_NR, sizeof(*w->prev));
	if (!w->buf || !w->prev) {
		writer_release(w);
		return wl_error_set(err, path, "", "out of memory");
	}
	w->buf_cap = SPOOL_BUF;
	/*
	 * The log is written in place, in a file without a name in PATH's
	 * directory (the same file system): nothing to clean up whatever
	 * happens to the process. It gets its name at commit.
	 */
	dir_of(dir, sizeof(dir), path);
	w->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.XXXXXX", path);
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
		if (w->fd < 0)
			w->tmp[0] = '\0';
	}
	if (w->fd < 0 || lseek(w->fd, EVLOG_HEADER_SIZE, SEEK_SET) < 0) {
		int e = errno;

		writer_release(w);
		return wl_error_set(err, path, "", "cannot write: %s", strerror(e));
	}
	w->hash = EVLOG_FNV_BASIS;
	w->live = true;
	if (meta_json && evlog_set_meta(w, meta_json, err)) {
		writer_release(w);
		return -1;
	}
	return 0;
}

/* Hash and write n stored bytes of records. */
static int put_records(struct evlog_writer *w, const void *p, size_t n)
{
	w->hash = evlog_fnv1a(w->hash, p, n);
	if (write_all(w->fd, p, n)) {
		w->error = errno;
		return -1;
	}
	w->records_len += n;
	return 0;
}

/*
 * The coded records in the buffer to the log: as they are, or through the
 * zstd stream ('end': the frame's end, at commit).
 */
static int flush_buf(struct evlog_writer *w, bool end)
{
	ZSTD_inBuffer in = { w->buf, w->buf_len, 0 };
	size_t left;

	if (w->error) {
		errno = w->error;
		return -1;
	}
	if (!w->zstd) {
		if (put_records(w, w->buf, w->buf_len))
			return -1;
		w->buf_len = 0;
		return 0;
	}
	do {
		ZSTD_outBuffer out = { w->zbuf, SPOOL_BUF, 0 };

		left = ZSTD_compressStream2(w->zstd, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left)) {
			w->error = ENOMEM;	/* the one way a valid stream fails */
			errno = w->error;
			return -1;
		}
		if (out.pos && put_records(w, w->zbuf, out.pos))
			return -1;
	} while (in.pos < in.size || (end && left));
	w->buf_len = 0;
	return 0;
}

int evlog_set_zstd(struct evlog_writer *w, int level, struct wl_error *err)
{
	if (!w->live)
		return wl_error_set(err, w->path, "", "the log was already committed or aborted");
	if (w->nr_records || w->zstd)
		return wl_error_set(err, w->path, "flags", "compression is chosen before any record");
	if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
		return wl_error_set(err, w->path, "flags", "zstd level %d: expected %d..%d", level,
				    ZSTD_minCLevel(), ZSTD_maxCLevel());
	w->zstd = ZSTD_createCCtx();
	w->zbuf = malloc(SPOOL_BUF);
	if (!w->zstd || !w->zbuf ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_checksumFlag, 0))) {
		ZSTD_freeCCtx(w->zstd);
		free(w->zbuf);
		w->zstd = NULL;
		w->zbuf = NULL;
		return wl_error_set(err, w->path, "", "out of memory");
	}
	return 0;
}

int evlog_append(struct evlog_writer *w, const struct vt_event *ev, size_t n)
{
	if (!w->live) {
		errno = EBADF;
		return -1;
	}
	if (w->error) {
		errno = w->error;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (w->buf_cap - w->buf_len < ENC_MAX && flush_buf(w, false))
			return -1;
		w->buf_len += encode(w->buf + w->buf_len, &ev[i], w->prev);
		w->nr_records++;
	}
	return 0;
}

/* Make the rename durable: fsync PATH's directory (best effort). */
static void sync_dir(const char *path)
{
	char dir[4096];
	int fd;

	dir_of(dir, sizeof(dir), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * Give the unnamed file a temporary name beside PATH (its own, made
 * unique), to rename over PATH: a log replaces another in one step.
 */
static int name_it(struct evlog_writer *w)
{
	char proc[64];

	if (w->tmp[0])
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	for (unsigned k = 0; k < 100; k++) {
		snprintf(w->tmp, sizeof(w->tmp), "%s.tmp.%d.%u", w->path, (int)getpid(), k);
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, w->tmp, AT_SYMLINK_FOLLOW))
			return 0;
		if (errno != EEXIST)
			break;
	}
	w->tmp[0] = '\0';
	return -1;
}

int evlog_commit(struct evlog_writer *w, struct wl_error *err)
{
	unsigned char hdr[EVLOG_HEADER_SIZE] = { 0 };
	const char *field = "records";
	int e;

	if (!w->live)
		return wl_error_set(err, w->path, "", "the log was already committed or aborted");
	if (!w->meta) {
		wl_error_set(err, w->path, "meta", "none was given (evlog_set_meta)");
		goto fail;
	}
	if ((w->buf_len || w->zstd) && flush_buf(w, true)) {
		wl_error_set(err, w->path, "records", "cannot write: %s", strerror(errno));
		goto fail;
	}
	/* the metadata after the records, and the header last, once the checksum is known */
	field = "meta";
	w->hash = evlog_fnv1a(w->hash, w->meta, w->meta_len);
	if (write_all(w->fd, w->meta, w->meta_len))
		goto io;
	memcpy(hdr + EVLOG_OFF_MAGIC, EVLOG_MAGIC, EVLOG_MAGIC_LEN);
	put_le32(hdr + EVLOG_OFF_VERSION, EVLOG_VERSION);
	put_le32(hdr + EVLOG_OFF_HEADER_SIZE, EVLOG_HEADER_SIZE);
	put_le32(hdr + EVLOG_OFF_RECORD_SIZE, sizeof(struct vt_event));
	put_le32(hdr + EVLOG_OFF_META_LEN, (uint32_t)w->meta_len);
	put_le64(hdr + EVLOG_OFF_NR_RECORDS, w->nr_records);
	put_le64(hdr + EVLOG_OFF_CHECKSUM, w->hash);
	put_le64(hdr + EVLOG_OFF_RECORDS_LEN, w->records_len);
	put_le32(hdr + EVLOG_OFF_FLAGS, w->zstd ? EVLOG_FLAG_ZSTD : 0);
	field = "header";
	if (pwrite(w->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		goto io;
	field = "";
	if (fchmod(w->fd, 0644) || fsync(w->fd) || name_it(w))
		goto io;
	if (rename(w->tmp, w->path))
		goto io;
	w->tmp[0] = '\0';
	sync_dir(w->path);
	writer_release(w);
	return 0;
io:
	e = errno;
	wl_error_set(err, w->path, field, "cannot write: %s", strerror(e));
fail:
	writer_release(w);
	return -1;
}

void evlog_abort(struct evlog_writer *w)
{
	if (w->live)
		writer_release(w);
}

/* ---- reader -------------------------------------------------------------- */

/* Up to 8 bytes as a C string literal's contents, for the magic error. */
static const char *show_bytes(char *buf, size_t len, const unsigned char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < len; i++) {
		unsigned char c = p[i];

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
		else if (c == '\n')
			o += (size_t)snprintf(buf + o, len - o, "\\n");
		else if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}

/* Check the header and sizes; fill r's counts and where the parts are. */
static int check_layout(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	const unsigned char *d = r->data;
	size_t n = r->size < EVLOG_MAGIC_LEN ? r->size : EVLOG_MAGIC_LEN;
	uint32_t header_size, flags;
	uint64_t avail, want;
	size_t want_size;
	char got[WJ_QUOTED_LEN];
	int reserved;

	if (memcmp(d, EVLOG_MAGIC, n))
		return wl_error_set(err, path, "magic",
				    "expected \"" EVLOG_MAGIC "\", got \"%s\": not a virtuoso event log",
				    show_bytes(got, sizeof(got), d, n));
	if (r->size < EVLOG_HEADER_SIZE)
		return wl_error_set(err, path, "header", "truncated: the file holds %zu bytes, a header is %d",
				    r->size, EVLOG_HEADER_SIZE);
	r->version = get_le32(d + EVLOG_OFF_VERSION);
	if (r->version < 1 || r->version > EVLOG_VERSION)
		return wl_error_set(err, path, "version", "expected 1 to %d, got %" PRIu32 "%s",
				    EVLOG_VERSION, r->version, r->version > EVLOG_VERSION ?
				    " (written by a newer virtuoso?)" : "");
	header_size = get_le32(d + EVLOG_OFF_HEADER_SIZE);
	if (header_size != EVLOG_HEADER_SIZE)
		return wl_error_set(err, path, "header_size", "expected %d, got %" PRIu32,
				    EVLOG_HEADER_SIZE, header_size);
	r->record_size = get_le32(d + EVLOG_OFF_RECORD_SIZE);
	want_size = r->version >= 3 ? sizeof(struct vt_event) : LEGACY_RECORD_SIZE;
	if (r->record_size != want_size)
		return wl_error_set(err, path, "record_size",
				    "expected %zu (struct vt_event of version %" PRIu32 "), got %" PRIu32,
				    want_size, r->version, r->record_size);
	reserved = r->version == 1 ? EVLOG_OFF_RECORDS_LEN : EVLOG_OFF_RESERVED;
	flags = r->version == 1 ? 0 : get_le32(d + EVLOG_OFF_FLAGS);
	if (flags & ~(uint32_t)EVLOG_FLAG_ZSTD)
		return wl_error_set(err, path, "flags", "expected 0 or 0x%x (zstd), got 0x%" PRIx32
				    " (written by a newer virtuoso?)", EVLOG_FLAG_ZSTD, flags);
	r->flags = flags;
	for (int i = reserved; i < EVLOG_HEADER_SIZE; i++)
		if (d[i])
			return wl_error_set(err, path, "reserved",
					    "expected zero bytes, got 0x%02x at offset %d", d[i], i);
	r->meta_len = get_le32(d + EVLOG_OFF_META_LEN);
	r->nr_records = get_le64(d + EVLOG_OFF_NR_RECORDS);
	r->checksum = get_le64(d + EVLOG_OFF_CHECKSUM);
	avail = r->size - EVLOG_HEADER_SIZE;
	if (r->version != 1) {
		/* version 2: the records, then the metadata */
		r->records_len = get_le64(d + EVLOG_OFF_RECORDS_LEN);
		if (avail < r->records_len)
			return wl_error_set(err, path, "records",
					    "truncated: header says %" PRIu64 " bytes of records, file "
					    "holds %" PRIu64, r->records_len, avail);
		avail -= r->records_len;
		if (avail < r->meta_len)
			return wl_error_set(err, path, "meta_len",
					    "truncated: header says %" PRIu32 " bytes of metadata, "
					    "file holds %" PRIu64, r->meta_len, avail);
		if (avail > r->meta_len)
			return wl_error_set(err, path, "meta",
					    "header says %" PRIu32 " bytes of metadata, file holds %"
					    PRIu64 ": %" PRIu64 " bytes after the metadata",
					    r->meta_len, avail, avail - r->meta_len);
		r->records = d + EVLOG_HEADER_SIZE;
		r->meta_text = (const char *)r->records + r->records_len;
		r->codes = r->records;
		r->codes_len = r->records_len;
		return 0;
	}
	if (avail < r->meta_len)
		return wl_error_set(err, path, "meta_len",
				    "truncated: header says %" PRIu32 " bytes of metadata, file holds %" PRIu64,
				    r->meta_len, avail);
	avail -= r->meta_len;
	if (__builtin_mul_overflow(r->nr_records, (uint64_t)r->record_size, &want))
		want = UINT64_MAX;
	if (avail < want)
		return wl_error_set(err, path, "records",
				    "truncated: header says %" PRIu64 " records (%" PRIu64 " bytes), "
				    "file holds %" PRIu64 " bytes", r->nr_records, want, avail);
	if (avail > want)
		return wl_error_set(err, path, "records",
				    "header says %" PRIu64 " records (%" PRIu64 " bytes), file holds %"
				    PRIu64 " bytes: %" PRIu64 " bytes after the last record",
				    r->nr_records, want, avail, avail - want);
	r->meta_text = (const char *)d + EVLOG_HEADER_SIZE;
	r->records = d + EVLOG_HEADER_SIZE + r->meta_len;
	r->records_len = want;
	r->codes = r->records;
	r->codes_len = want;
	return 0;
}

/* A zstd log's records decompressed: r->codes then points at them. */
static int unpack(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer in = { r->records, r->records_len, 0 };
	size_t cap = r->records_len * 4 + 4096, len = 0, ret = 1;
	unsigned char *buf = malloc(cap), *grown;

	if (!dctx || !buf)
		goto oom;
	while (in.pos < in.size || ret) {
		ZSTD_outBuffer out = { buf + len, cap - len, 0 };
		size_t before = in.pos;

		ret = ZSTD_decompressStream(dctx, &out, &in);
		if (ZSTD_isError(ret)) {
			wl_error_set(err, path, "records", "zstd: %s", ZSTD_getErrorName(ret));
			goto fail;
		}
		len += out.pos;
		if (ret && in.pos == in.size && before == in.pos && !out.pos) {
			wl_error_set(err, path, "records", "zstd: the frame is cut short");
			goto fail;
		}
		if (len == cap) {
			if (cap > SIZE_MAX / 2 || !(grown = realloc(buf, cap * 2)))
				goto oom;
			buf = grown;
			cap *= 2;
		}
	}
	ZSTD_freeDCtx(dctx);
	r->plain = buf;
	r->codes = buf;
	r->codes_len = len;
	return 0;
oom:
	wl_error_set(err, path, "records", "out of memory");
fail:
	ZSTD_freeDCtx(dctx);
	free(buf);
	return -1;
}

static int parse_meta(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	const char *text = r->meta_text, *end = NULL;
	char *buf, got[WJ_QUOTED_LEN];

	if (memchr(text, '\0', r->meta_len))
		return wl_error_set(err, path, "meta", "expected a JSON object, got a NUL byte");
	buf = malloc((size_t)r->meta_len + 1);
	if (!buf)
		return wl_error_set(err, path, "meta", "out of memory");
	memcpy(buf, text, r->meta_len);
	buf[r->meta_len] = '\0';
	r->meta = cJSON_ParseWithOpts(buf, &end, true);
	if (!r->meta) {
		size_t at = end ? (size_t)(end - buf) : 0;

		free(buf);
		return wl_error_set(err, path, "meta", "expected a JSON object, got invalid JSON at byte %zu",
				    at);
	}
	free(buf);
	if (!cJSON_IsObject(r->meta)) {
		wl_error_set(err, path, "meta", "expected a JSON object, got %s",
			     wj_describe(r->meta, got, sizeof(got)));
		cJSON_Delete(r->meta);
		r->meta = NULL;
		return -1;
	}
	return 0;
}

/* Back to the first record. */
static void restart(struct evlog_reader *r)
{
	r->next = 0;
	r->cursor = 0;
	if (r->prev)
		memset(r->prev, 0, CTX_NR * sizeof(*r->prev));
}

/*
 * Version 2: decode every record once, so that a log whose records do not
 * decode, or decode to another count than its header's, is refused at open
 * as a cut one is.
 */
static int check_records(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	struct vt_event ev;
	uint64_t i = 0;
	size_t k;

	if (!(r->prev = calloc(CTX_NR, sizeof(*r->prev))))
		return wl_error_set(err, path, "records", "out of memory");
	while (r->cursor < r->codes_len) {
		k = decode(r->codes + r->cursor, r->codes_len - r->cursor, &ev, r->prev,
			   log_words(r));
		if (!k)
			return wl_error_set(err, path, "records", "record %" PRIu64 " at byte %zu of "
					    "the records does not decode", i, r->cursor);
		r->cursor += k;
		i++;
	}
	if (i != r->nr_records)
		return wl_error_set(err, path, "records", "header says %" PRIu64 " records, the "
				    "records hold %" PRIu64, r->nr_records, i);
	restart(r);
	return 0;
}

/* evlog_open(), the records decoded to check them only when 'decode'. */
static int open_log(struct evlog_reader *r, const char *path, bool decode, struct wl_error *err)
{
	char *text;
	size_t len;
	uint64_t h;

	memset(r, 0, sizeof(*r));
	if (wj_read_file(path, &text, &len, err))
		return -1;
	r->data = (unsigned char *)text;
	r->size = len;
	if (check_layout(r, path, err))
		goto fail;
	/* both versions hash everything after the header, in file order */
	h = evlog_fnv1a(EVLOG_FNV_BASIS, r->data + EVLOG_HEADER_SIZE, r->size - EVLOG_HEADER_SIZE);
	if (h != r->checksum) {
		wl_error_set(err, path, "checksum",
			     "mismatch: header says 0x%016" PRIx64 ", the contents hash to 0x%016" PRIx64
			     ": the log is corrupted", r->checksum, h);
		goto fail;
	}
	if (parse_meta(r, path, err))
		goto fail;
	if (decode && (r->flags & EVLOG_FLAG_ZSTD) && unpack(r, path, err))
		goto fail;
	if (decode && r->version != 1 && check_records(r, path, err))
		goto fail;
	return 0;
fail:
	evlog_close(r);
	return -1;
}

int evlog_open(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	return open_log(r, path, true, err);
}

int evlog_next(struct evlog_reader *r, struct vt_event *ev)
{
	size_t k;

	if (r->next >= r->nr_records)
		return 0;
	if (r->version == 1) {
		memcpy(ev, r->records + r->next * r->record_size, LEGACY_RECORD_SIZE);
		legacy_fill(ev);
	} else {
		/* checked whole at open: every record decodes */
		k = decode(r->codes + r->cursor, r->codes_len - r->cursor, ev, r->prev,
			   log_words(r));
		if (!k)
			return 0;
		r->cursor += k;
	}
	r->next++;
	return 1;
}

int evlog_get(struct evlog_reader *r, uint64_t i, struct vt_event *ev)
{
	if (i >= r->nr_records)
		return -1;
	if (r->version == 1) {
		memcpy(ev, r->records + i * r->record_size, LEGACY_RECORD_SIZE);
		legacy_fill(ev);
		return 0;
	}
	/* records are coded one against the other: read on from the start, or from here */
	if (i < r->next)
		restart(r);
	while (r->next <= i)
		if (evlog_next(r, ev) <= 0)
			return -1;
	return 0;
}

void evlog_rewind(struct evlog_reader *r)
{
	restart(r);
}

void evlog_close(struct evlog_reader *r)
{
	cJSON_Delete(r->meta);
	free(r->data);
	free(r->plain);
	free(r->prev);
	memset(r, 0, sizeof(*r));
}

/*
 * The log r (read from path, version 2) again with metadata 'meta': its
 * records' bytes as they are, the checksum carried on over the new
 * metadata, written beside path and renamed over it.
 */
static int rewrite_v2(const struct evlog_reader *r, const char *path, const char *meta,
		      size_t len, struct wl_error *err)
{
	unsigned char hdr[EVLOG_HEADER_SIZE];
	char tmp[4200];
	uint64_t h;
	int fd, e;

	if (check_meta(path, meta, len, err))
		return -1;
	h = evlog_fnv1a(EVLOG_FNV_BASIS, r->records, r->records_len);
	h = evlog_fnv1a(h, meta, len);
	memcpy(hdr, r->data, sizeof(hdr));
	put_le32(hdr + EVLOG_OFF_META_LEN, (uint32_t)len);
	put_le64(hdr + EVLOG_OFF_CHECKSUM, h);
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return wl_error_set(err, path, "", "cannot write: %s", strerror(errno));
	if (write_all(fd, hdr, sizeof(hdr)) || write_all(fd, r->records, r->records_len) ||
	    write_all(fd, meta, len) || fchmod(fd, 0644) || fsync(fd))
		goto io;
	if (close(fd)) {
		fd = -1;
		goto io;
	}
	fd = -1;
	if (rename(tmp, path))
		goto io;
	sync_dir(path);
	return 0;
io:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return wl_error_set(err, path, "", "cannot write: %s", strerror(e));
}

/* Version 1: through a writer, which writes version 2. */
static int rewrite_v1(struct evlog_reader *r, const char *path, const char *meta_json,
		      struct wl_error *err)
{
	struct evlog_writer w;
	struct vt_event ev;
	int n;

	if (evlog_create(&w, path, meta_json, err))
		return -1;
	evlog_rewind(r);
	while ((n = evlog_next(r, &ev)) > 0)
		if (evlog_append(&w, &ev, 1))
			break;
	return evlog_commit(&w, err);
}

static int rewrite(struct evlog_reader *r, const char *path, const char *meta_json,
		   struct wl_error *err)
{
	return r->version == 1 ? rewrite_v1(r, path, meta_json, err) :
	       rewrite_v2(r, path, meta_json, strlen(meta_json), err);
}

int evlog_rewrite_meta(const char *path, const char *meta_json, struct wl_error *err)
{
	struct evlog_reader r;
	int ret;

	if (open_log(&r, path, false, err))
		return -1;
	ret = rewrite(&r, path, meta_json, err);
	evlog_close(&r);
	return ret;
}

int evlog_update_meta(const char *path, int (*edit)(cJSON *meta, void *ctx), void *ctx,
		      struct wl_error *err)
{
	struct evlog_reader r;
	char *text;
	int ret;

	if (open_log(&r, path, false, err))
		return -1;
	if ((ret = edit(r.meta, ctx))) {
		evlog_close(&r);
		return wl_error_set(err, path, "meta", "cannot add to it: out of memory");
	}
	text = cJSON_PrintUnformatted(r.meta);
	ret = text ? rewrite(&r, path, text, err) : wl_error_set(err, path, "meta", "out of memory");
	free(text);
	evlog_close(&r);
	return ret;
}
