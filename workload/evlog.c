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

#include "workload/evlog.h"
#include "workload/json.h"

/* Records are stored as the host holds them: the format says x86-64. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the event log is little-endian");
_Static_assert(sizeof(struct vt_event) == 88, "struct vt_event changed: bump EVLOG_VERSION");
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

/* ---- writer -------------------------------------------------------------- */

static void writer_release(struct evlog_writer *w)
{
	if (w->spool_fd >= 0)
		close(w->spool_fd);
	free(w->meta);
	free(w->buf);
	w->spool_fd = -1;
	w->meta = NULL;
	w->buf = NULL;
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

int evlog_create(struct evlog_writer *w, const char *path, const char *meta_json,
		 struct wl_error *err)
{
	char spool[sizeof(w->path) + 16];

	memset(w, 0, sizeof(*w));
	w->spool_fd = -1;
	if (strlen(path) + 16 > sizeof(w->path))
		return wl_error_set(err, path, "", "cannot write: the path is too long");
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->buf = malloc(SPOOL_BUF);
	if (!w->buf)
		return wl_error_set(err, path, "", "out of memory");
	w->buf_cap = SPOOL_BUF;
	/* beside PATH, so it fills the same file system; unlinked at once */
	snprintf(spool, sizeof(spool), "%s.spool.XXXXXX", path);
	w->spool_fd = mkostemp(spool, O_CLOEXEC);
	if (w->spool_fd < 0) {
		int e = errno;

		writer_release(w);
		return wl_error_set(err, path, "", "cannot write: %s", strerror(e));
	}
	unlink(spool);
	w->live = true;
	if (meta_json && evlog_set_meta(w, meta_json, err)) {
		writer_release(w);
		return -1;
	}
	return 0;
}

static int flush_buf(struct evlog_writer *w)
{
	if (w->error) {
		errno = w->error;
		return -1;
	}
	if (write_all(w->spool_fd, w->buf, w->buf_len)) {
		w->error = errno;
		return -1;
	}
	w->buf_len = 0;
	return 0;
}

int evlog_append(struct evlog_writer *w, const struct vt_event *ev, size_t n)
{
	const unsigned char *p = (const unsigned char *)ev;
	size_t left = n * sizeof(*ev);

	if (!w->live) {
		errno = EBADF;
		return -1;
	}
	if (w->error) {
		errno = w->error;
		return -1;
	}
	while (left) {
		size_t room = w->buf_cap - w->buf_len, k = left < room ? left : room;

		memcpy(w->buf + w->buf_len, p, k);
		w->buf_len += k;
		p += k;
		left -= k;
		if (w->buf_len == w->buf_cap && flush_buf(w))
			return -1;
	}
	w->nr_records += n;
	return 0;
}

/* Copy the spooled records to fd after the metadata, hashing them into *h. */
static int copy_records(struct evlog_writer *w, int fd, uint64_t *h)
{
	uint64_t total = w->nr_records * sizeof(struct vt_event), off = 0;

	while (off < total) {
		size_t want = total - off < w->buf_cap ? (size_t)(total - off) : w->buf_cap;
		ssize_t got = pread(w->spool_fd, w->buf, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (!got)
				errno = EIO;	/* the spool is shorter than what was appended */
			return -1;
		}
		*h = evlog_fnv1a(*h, w->buf, (size_t)got);
		if (write_all(fd, w->buf, (size_t)got))
			return -1;
		off += (uint64_t)got;
	}
	return 0;
}

/* Make the rename durable: fsync PATH's directory (best effort). */
static void sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int evlog_commit(struct evlog_writer *w, struct wl_error *err)
{
	unsigned char hdr[EVLOG_HEADER_SIZE] = { 0 };
	char tmp[sizeof(w->path) + 16];
	const char *field = "records";
	uint64_t h;
	int fd = -1, e;

	if (!w->live)
		return wl_error_set(err, w->path, "", "the log was already committed or aborted");
	if (!w->meta) {
		wl_error_set(err, w->path, "meta", "none was given (evlog_set_meta)");
		goto fail;
	}
	if (w->buf_len && flush_buf(w)) {
		wl_error_set(err, w->path, "records", "cannot write: %s", strerror(errno));
		goto fail;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", w->path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		wl_error_set(err, w->path, "", "cannot write: %s", strerror(errno));
		goto fail;
	}
	/* header last, once the checksum is known */
	h = evlog_fnv1a(EVLOG_FNV_BASIS, w->meta, w->meta_len);
	field = "meta";
	if (lseek(fd, EVLOG_HEADER_SIZE, SEEK_SET) < 0 || write_all(fd, w->meta, w->meta_len))
		goto io;
	field = "records";
	if (copy_records(w, fd, &h))
		goto io;
	memcpy(hdr + EVLOG_OFF_MAGIC, EVLOG_MAGIC, EVLOG_MAGIC_LEN);
	put_le32(hdr + EVLOG_OFF_VERSION, EVLOG_VERSION);
	put_le32(hdr + EVLOG_OFF_HEADER_SIZE, EVLOG_HEADER_SIZE);
	put_le32(hdr + EVLOG_OFF_RECORD_SIZE, sizeof(struct vt_event));
	put_le32(hdr + EVLOG_OFF_META_LEN, (uint32_t)w->meta_len);
	put_le64(hdr + EVLOG_OFF_NR_RECORDS, w->nr_records);
	put_le64(hdr + EVLOG_OFF_CHECKSUM, h);
	field = "header";
	if (pwrite(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		goto io;
	field = "";
	if (fchmod(fd, 0644) || fsync(fd))
		goto io;
	if (close(fd)) {
		fd = -1;
		goto io;
	}
	fd = -1;
	if (rename(tmp, w->path))
		goto io;
	sync_dir(w->path);
	writer_release(w);
	return 0;
io:
	e = errno;
	wl_error_set(err, w->path, field, "cannot write: %s", strerror(e));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
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

/* Check the header and sizes; fill r's counts. */
static int check_layout(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	const unsigned char *d = r->data;
	size_t n = r->size < EVLOG_MAGIC_LEN ? r->size : EVLOG_MAGIC_LEN;
	uint32_t header_size;
	uint64_t avail, want;
	char got[WJ_QUOTED_LEN];

	if (memcmp(d, EVLOG_MAGIC, n))
		return wl_error_set(err, path, "magic",
				    "expected \"" EVLOG_MAGIC "\", got \"%s\": not a virtuoso event log",
				    show_bytes(got, sizeof(got), d, n));
	if (r->size < EVLOG_HEADER_SIZE)
		return wl_error_set(err, path, "header", "truncated: the file holds %zu bytes, a header is %d",
				    r->size, EVLOG_HEADER_SIZE);
	r->version = get_le32(d + EVLOG_OFF_VERSION);
	if (r->version != EVLOG_VERSION)
		return wl_error_set(err, path, "version", "expected %d, got %" PRIu32 "%s", EVLOG_VERSION,
				    r->version, r->version > EVLOG_VERSION ?
				    " (written by a newer virtuoso?)" : "");
	header_size = get_le32(d + EVLOG_OFF_HEADER_SIZE);
	if (header_size != EVLOG_HEADER_SIZE)
		return wl_error_set(err, path, "header_size", "expected %d, got %" PRIu32,
				    EVLOG_HEADER_SIZE, header_size);
	r->record_size = get_le32(d + EVLOG_OFF_RECORD_SIZE);
	if (r->record_size != sizeof(struct vt_event))
		return wl_error_set(err, path, "record_size",
				    "expected %zu (sizeof(struct vt_event)), got %" PRIu32,
				    sizeof(struct vt_event), r->record_size);
	for (int i = EVLOG_OFF_RESERVED; i < EVLOG_HEADER_SIZE; i++)
		if (d[i])
			return wl_error_set(err, path, "reserved",
					    "expected zero bytes, got 0x%02x at offset %d", d[i], i);
	r->meta_len = get_le32(d + EVLOG_OFF_META_LEN);
	r->nr_records = get_le64(d + EVLOG_OFF_NR_RECORDS);
	r->checksum = get_le64(d + EVLOG_OFF_CHECKSUM);
	avail = r->size - EVLOG_HEADER_SIZE;
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
	r->records = d + EVLOG_HEADER_SIZE + r->meta_len;
	return 0;
}

static int parse_meta(struct evlog_reader *r, const char *path, struct wl_error *err)
{
	const char *text = (const char *)r->data + EVLOG_HEADER_SIZE, *end = NULL;
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

int evlog_open(struct evlog_reader *r, const char *path, struct wl_error *err)
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
	h = evlog_fnv1a(EVLOG_FNV_BASIS, r->data + EVLOG_HEADER_SIZE, r->size - EVLOG_HEADER_SIZE);
	if (h != r->checksum) {
		wl_error_set(err, path, "checksum",
			     "mismatch: header says 0x%016" PRIx64 ", the contents hash to 0x%016" PRIx64
			     ": the log is corrupted", r->checksum, h);
		goto fail;
	}
	if (parse_meta(r, path, err))
		goto fail;
	return 0;
fail:
	evlog_close(r);
	return -1;
}

int evlog_get(const struct evlog_reader *r, uint64_t i, struct vt_event *ev)
{
	if (i >= r->nr_records)
		return -1;
	memcpy(ev, r->records + i * r->record_size, sizeof(*ev));
	return 0;
}

int evlog_next(struct evlog_reader *r, struct vt_event *ev)
{
	if (evlog_get(r, r->next, ev))
		return 0;
	r->next++;
	return 1;
}

void evlog_close(struct evlog_reader *r)
{
	cJSON_Delete(r->meta);
	free(r->data);
	memset(r, 0, sizeof(*r));
}

int evlog_rewrite_meta(const char *path, const char *meta_json, struct wl_error *err)
{
	struct evlog_reader r;
	struct evlog_writer w;
	struct vt_event ev;
	int n;

	if (evlog_open(&r, path, err))
		return -1;
	if (evlog_create(&w, path, meta_json, err)) {
		evlog_close(&r);
		return -1;
	}
	while ((n = evlog_next(&r, &ev)) > 0)
		if (evlog_append(&w, &ev, 1))
			break;
	evlog_close(&r);
	return evlog_commit(&w, err);
}
