/*
 * evlog.h - the binary event log: every vmtrace event of a run, as recorded.
 *
 * `virtuoso linux` writes DIR/events.vlog (EVLOG_NAME) beside DIR/linux.json;
 * the simulated world writes DIR/sim-events.vlog (EVLOG_SIM_NAME) beside
 * DIR/sim.json, in the same format and model; `virtuoso dump` prints either;
 * the comparison reads both. This header is the contract between them, on
 * the shared floor because both worlds write it.
 *
 * The format (version 3; versions 1 and 2 are still read)
 * -------------------------------------------------------
 *
 * A log is three parts, back to back, nothing before or after:
 *
 *	header		64 bytes
 *	records		records_len bytes: nr_records records, coded (below)
 *	metadata	meta_len bytes of JSON text
 *
 * Version 1 put the metadata before the records and stored each record as
 * its 88 bytes (records_len = nr_records * 88, not in the header). Versions
 * 1 and 2 knew a record of 88 bytes, 11 words: struct vt_event without its
 * last word (cpu, reserved); a reader gives their records cpu
 * VT_CPU_UNKNOWN.
 *
 * The header. Integers are little-endian, at these offsets:
 *
 *	offset size field	value
 *	     0    8 magic	"VRTEVLOG" (no terminating NUL)
 *	     8    4 version	EVLOG_VERSION (3), or 1, 2
 *	    12    4 header_size	EVLOG_HEADER_SIZE (64)
 *	    16    4 record_size	sizeof(struct vt_event) (96; versions 1, 2: 88), as decoded
 *	    20    4 meta_len	bytes of metadata
 *	    24    8 nr_records	records in the log
 *	    32    8 checksum	FNV-1a 64 of every byte after the header, in
 *				file order (one running hash): versions 2
 *				and 3 the records then the metadata, version
 *				1 the metadata then the records
 *	    40    8 records_len	bytes of records (version 1: reserved, zero)
 *	    48    4 flags	0, or EVLOG_FLAG_ZSTD (1): the records are stored
 *				zstd-compressed (version 1: reserved, zero)
 *	    52   12 reserved	zero
 *
 * The header itself is not hashed; a reader checks every one of its fields
 * instead (the reserved bytes must be zero), so a damaged header is refused
 * as surely as damaged data. The checksum is FNV-1a 64: h starts at
 * EVLOG_FNV_BASIS (0xcbf29ce484222325), and for each byte b, h = (h ^ b) *
 * EVLOG_FNV_PRIME (0x100000001b3) modulo 2^64. The hash of no bytes is the
 * basis, so an empty log (meta "{}" aside) still has a checksum to check.
 *
 * A record is struct vt_event (workload/event.h) as 12 little-endian 64-bit
 * words (version 2: 11), coded against the previous record of its context:
 * its type, or one context for a type this tool has no name for (VT_TYPE_NR); every
 * context starts from all-zero words. The code of a record:
 *
 *	1 byte		the context (0 .. VT_TYPE_NR)
 *	varint		mask: bit i set when word i differs from the context's
 *			previous record
 *	varints		for each set bit, lowest first, the difference
 *			(word - previous, modulo 2^64) zigzagged: (d << 1) ^
 *			(d >> 63, arithmetic)
 *
 * Varints are LEB128: 7 bits a byte, low first, the high bit set on every
 * byte but the last; at most 10 bytes. The decoded record's type must be
 * its context's. A 4 KiB fault after another takes 10 to 20 bytes where
 * version 1 took 88. A reader decodes every record once at open, so a log
 * whose records do not decode, or do not come to nr_records, is refused.
 *
 * Compressed (flags EVLOG_FLAG_ZSTD, evlog_set_zstd()): the records part is
 * one zstd frame whose content is the coded records above; records_len is
 * its stored size, and the checksum covers it as stored. A reader
 * decompresses it at open. For large logs: a 4 KiB fault storm's records
 * come to 8-10 bytes a fault coded, about 1 compressed (docs/results-format.md).
 *
 * The metadata is one JSON object, UTF-8, no NUL byte, no terminator counted
 * in meta_len. The writer's caller builds it; the log checks only that it is
 * an object. What `virtuoso linux` puts there (and `virtuoso dump` uses):
 *
 *	"version"	  the tool's version string ("0.1.0")
 *	"workload"	  the spec's name
 *	"pid"		  the process traced
 *	"clock"		  "CLOCK_MONOTONIC": what every ts, exit_ts is read on
 *	"regions"	  [{"name", "start", "size"}]: each region's address
 *			  range [start, start + size), bytes
 *	"phases"	  [{"op", "region", "start_ns", "runtime_ns"}]: phase i
 *			  is what a record's "phase" i refers to
 *	"scan_status"	  the kernel's names of enum scan_result, index =
 *			  value ("failed", "succeeded", ...): the status of
 *			  scan_pmd and collapse records
 *	"tlb_flush_reason" the kernel's names of enum tlb_flush_reason, index
 *			  = value: the reason of tlb_flush records
 *	"tlb_flush_source" the names of enum vt_tlb_source (event.h),
 *			  index = value: whose a tlb_flush record is (the
 *			  workload's: "syscall", "fault", "khugepaged")
 *
 * The records are struct vt_event (workload/event.h) exactly as the kernel
 * side sent them: the in-memory layout of an x86-64 (little-endian, LP64)
 * host, in the order they were appended (the order the ring buffer
 * delivered them; ts is not sorted across CPUs). A reader refuses a
 * record_size other than its own sizeof(struct vt_event): a change of
 * struct vt_event's layout is a change of EVLOG_VERSION.
 *
 * A log is whole or absent: the writer builds it in a file without a name
 * in the same directory, names it once complete and synced and renames it
 * into place, so a reader that finds PATH finds a whole log. A reader still
 * checks the exact size and the checksum, because files get copied, cut and
 * damaged.
 */
#ifndef WORKLOAD_EVLOG_H
#define WORKLOAD_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include <cjson/cJSON.h>

#include "workload/error.h"
#include "workload/event.h"

/* The Linux side's log in a result directory, beside linux.json. */
#define EVLOG_NAME		"events.vlog"
/* The simulated side's log in a result directory, beside sim.json. */
#define EVLOG_SIM_NAME		"sim-events.vlog"

#define EVLOG_MAGIC		"VRTEVLOG"	/* 8 bytes at offset 0 */
#define EVLOG_MAGIC_LEN		8
#define EVLOG_VERSION		3
#define EVLOG_HEADER_SIZE	64
#define EVLOG_FNV_BASIS		UINT64_C(0xcbf29ce484222325)
#define EVLOG_FNV_PRIME		UINT64_C(0x100000001b3)

/* Byte offsets of the header fields (see above). */
#define EVLOG_OFF_MAGIC		0
#define EVLOG_OFF_VERSION	8
#define EVLOG_OFF_HEADER_SIZE	12
#define EVLOG_OFF_RECORD_SIZE	16
#define EVLOG_OFF_META_LEN	20
#define EVLOG_OFF_NR_RECORDS	24
#define EVLOG_OFF_CHECKSUM	32
#define EVLOG_OFF_RECORDS_LEN	40
#define EVLOG_OFF_FLAGS		48
#define EVLOG_OFF_RESERVED	52

#define EVLOG_FLAG_ZSTD		0x1u	/* flags: the records are one zstd frame */

/* Continue an FNV-1a 64 hash h over n bytes; start with EVLOG_FNV_BASIS. */
uint64_t evlog_fnv1a(uint64_t h, const void *p, size_t n);

/*
 * Names, one table each (in evlog.c), indexed by the enums of event.h.
 * Each returns NULL for a value it has no name for.
 */

/* "fault", "alloc", "free", "scan_pmd", "collapse", "syscall", "tlb_flush", "rss" */
const char *vt_type_name(unsigned type);
/* "other", "fault", "khugepaged", "madv_collapse" */
const char *vt_cause_name(unsigned cause);
/* "unknown", "syscall", "fault", "khugepaged" (the workload's), "switch",
 * "ipi", "other_mm", "kernel" (the background): enum vt_tlb_source */
const char *vt_tlb_source_name(unsigned source);
/* The x86-64 syscalls vmtrace records: 9 "mmap", 10 "mprotect", 11 "munmap",
 * 12 "brk", 25 "mremap", 28 "madvise". */
const char *vt_syscall_name(unsigned nr);
/* The kernel's names of rss_stat members: 0 "MM_FILEPAGES", 1 "MM_ANONPAGES",
 * 2 "MM_SWAPENTS", 3 "MM_SHMEMPAGES". */
const char *vt_rss_member_name(unsigned member);

/*
 * Writing
 * -------
 *
 *	struct evlog_writer w;
 *
 *	if (evlog_create(&w, "out/events.vlog", NULL, &err))
 *		return -1;
 *	... from the ring-buffer callback: evlog_append(&w, ev, 1);
 *	... at the end, when the phases' times are known:
 *	if (evlog_set_meta(&w, meta_text, &err) || evlog_commit(&w, &err))
 *		... (commit released w; on a set_meta error, evlog_abort(&w))
 *
 * Records are coded as they are appended, into a 1 MiB buffer that is
 * hashed and written, when full, to the log itself: a file opened with
 * O_TMPFILE in PATH's directory, which has no name and so vanishes whatever
 * happens to the process (where the file system lacks O_TMPFILE, a file
 * PATH.tmp.XXXXXX, removed on abort). evlog_commit() writes the metadata
 * after the records and the header at the front, fsyncs, gives the file a
 * temporary name, renames it to PATH and fsyncs the directory. Nothing is
 * read back.
 *
 * The metadata may be given to evlog_create() or to evlog_set_meta(), any
 * number of times before the commit: the last one given is written. It must
 * be a JSON object (checked when given, so that a commit never writes a log
 * the reader refuses).
 *
 * evlog_commit() and evlog_abort() release the writer, whatever the outcome;
 * evlog_abort() on a released (or zeroed) writer does nothing, so a cleanup
 * path may call it unconditionally. Nothing is ever left under PATH but a
 * whole log, and no temporary file is left in the directory.
 */
struct evlog_writer {
	char path[4096];	/* the final name */
	char tmp[4160];		/* the file's temporary name, or "" (none yet) */
	int fd;			/* the log being written */
	bool live;		/* created, not yet committed or aborted */
	int error;		/* errno of the first failed write, sticky */
	char *meta;		/* NUL-terminated copy of the metadata, or NULL */
	size_t meta_len;
	unsigned char *buf;	/* coded records not yet written */
	size_t buf_len, buf_cap;
	uint64_t nr_records, records_len, hash;
	uint64_t (*prev)[12];	/* each context's previous record, as words */
	struct ZSTD_CCtx_s *zstd;	/* evlog_set_zstd(): the records' stream, or NULL */
	unsigned char *zbuf;	/* its output, before it is hashed and written */
};

/*
 * Start a log that will be PATH. meta_json may be NULL (give it later with
 * evlog_set_meta). Errors: the spool cannot be created in PATH's directory,
 * or meta_json is not a JSON object; w is then released.
 */
int evlog_create(struct evlog_writer *w, const char *path, const char *meta_json,
		 struct wl_error *err);

/*
 * Compress the records with zstd at 'level' (ZSTD_minCLevel() ..
 * ZSTD_maxCLevel(); 3 is zstd's default): one frame, written as the records
 * are appended, hashed as stored. Before the first record only.
 */
int evlog_set_zstd(struct evlog_writer *w, int level, struct wl_error *err);

/* Give (or replace) the metadata: a JSON object's text. */
int evlog_set_meta(struct evlog_writer *w, const char *meta_json, struct wl_error *err);

/*
 * Append n records. Coded and buffered: cheap enough for a ring-buffer
 * callback. Returns -1 (errno set) when the log cannot be written; the
 * error is also kept, and evlog_commit() reports it.
 */
int evlog_append(struct evlog_writer *w, const struct vt_event *ev, size_t n);

/* Records appended so far. */
static inline uint64_t evlog_count(const struct evlog_writer *w)
{
	return w->nr_records;
}

/*
 * Write the whole log under a temporary name, fsync it, rename it to PATH.
 * Errors name PATH and what failed ("meta: none was given", "records: cannot
 * write: No space left on device"); nothing is then left at PATH (a file
 * already there is untouched) and the temporary file is removed. Releases w.
 */
int evlog_commit(struct evlog_writer *w, struct wl_error *err);

/* Drop the log: nothing is written. Releases w. */
void evlog_abort(struct evlog_writer *w);

/*
 * Replace the metadata of the whole log at PATH with meta_json (a JSON
 * object), keeping its records: read and checked as evlog_open() does (its
 * checksum; the records are kept as bytes, not decoded), then written again
 * beside PATH and renamed over it (so atomically); a version 2 log stays
 * version 2. A version 1 log is written again as version 3. For a writer that knows the run's
 * description only after another process wrote the records.
 */
int evlog_rewrite_meta(const char *path, const char *meta_json, struct wl_error *err);

/*
 * evlog_rewrite_meta() with the log's own metadata as edit() leaves it
 * (edit returns non-zero when out of memory): one read and one write.
 */
int evlog_update_meta(const char *path, int (*edit)(cJSON *meta, void *ctx), void *ctx,
		      struct wl_error *err);

/*
 * Reading
 * -------
 *
 *	struct evlog_reader r;
 *	struct vt_event ev;
 *
 *	if (evlog_open(&r, path, &err))
 *		return wl_error_print(&err, stderr), EXIT_BAD_INPUT;
 *	while (evlog_next(&r, &ev) > 0)
 *		...
 *	evlog_close(&r);
 *
 * evlog_open() reads the whole file into memory and checks it before
 * returning: the magic, version (1 or 2), header_size, record_size, flags,
 * the reserved bytes, records_len and meta_len (version 1: nr_records)
 * against the file's exact size, the checksum, that the metadata is a JSON
 * object, and (versions 2, 3) that the records decode to nr_records. Each error
 * is one line naming the file and the header field (wl_error path):
 *
 *	FILE: cannot read: No such file or directory
 *	FILE: magic: expected "VRTEVLOG", got "{\n  \"nam": not a virtuoso event log
 *	FILE: version: expected 1 or 2, got 3 (written by a newer virtuoso?)
 *	FILE: flags: expected 0 or 0x1 (zstd), got 0x6 (written by a newer virtuoso?)
 *	FILE: records: zstd: Data corruption detected
 *	FILE: header: truncated: the file holds 40 bytes, a header is 64
 *	FILE: records: truncated: header says 880 bytes of records, file holds 800
 *	FILE: meta_len: truncated: header says 312 bytes of metadata, file holds 100
 *	FILE: meta: header says 20 bytes of metadata, file holds 21: 1 bytes after the metadata
 *	FILE: checksum: mismatch: header says 0x..., the contents hash to 0x...: the log is corrupted
 *	FILE: records: record 3 at byte 41 of the records does not decode
 *	FILE: meta: expected a JSON object: line 1, column 3: expected valid JSON, got '...'
 *
 * On error r holds nothing to release (evlog_close on it is harmless).
 * Records are copied out (the file gives them no alignment).
 */
struct evlog_reader {
	unsigned char *data;	/* the whole file */
	size_t size;
	uint32_t version, record_size, meta_len;
	uint64_t nr_records, checksum, records_len;
	uint32_t flags;			/* the header's flags (versions 2, 3) */
	const unsigned char *records;	/* into data: the records as stored */
	const unsigned char *codes;	/* the records as coded: records, or plain */
	size_t codes_len;
	unsigned char *plain;		/* a zstd log's records decompressed, or NULL */
	const char *meta_text;		/* into data */
	cJSON *meta;
	uint64_t next;		/* index evlog_next returns next */
	size_t cursor;		/* versions 2, 3: byte of the records where it is */
	uint64_t (*prev)[12];	/* versions 2, 3: each context's previous record */
};

int evlog_open(struct evlog_reader *r, const char *path, struct wl_error *err);

/* The metadata object (owned by r, valid until evlog_close). */
static inline const cJSON *evlog_meta(const struct evlog_reader *r)
{
	return r->meta;
}

/* The metadata as stored: meta_len bytes, not NUL-terminated. */
static inline const char *evlog_meta_text(const struct evlog_reader *r, size_t *len)
{
	*len = r->meta_len;
	return r->meta_text;
}

static inline uint64_t evlog_nr_records(const struct evlog_reader *r)
{
	return r->nr_records;
}

/* Copy the next record into ev: 1, or 0 after the last one. */
int evlog_next(struct evlog_reader *r, struct vt_event *ev);

/*
 * Copy record i into ev: 0, or -1 when i >= nr_records. Version 2 reads on
 * from where evlog_next is (from the first record when i is behind it):
 * cheap in order, costly at random. evlog_next then goes on after i.
 */
int evlog_get(struct evlog_reader *r, uint64_t i, struct vt_event *ev);

/* Start evlog_next over from the first record. */
void evlog_rewind(struct evlog_reader *r);

void evlog_close(struct evlog_reader *r);

#endif
