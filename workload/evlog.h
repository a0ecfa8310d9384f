/*
 * evlog.h - the binary event log: every vmtrace event of a run, as recorded.
 *
 * `virtuoso linux` writes DIR/events.vlog (EVLOG_NAME) beside DIR/linux.json;
 * the simulated world writes DIR/sim-events.vlog (EVLOG_SIM_NAME) beside
 * DIR/sim.json, in the same format and model; `virtuoso dump` prints either;
 * the comparison reads both. This header is the contract between them, on
 * the shared floor because both worlds write it.
 *
 * The format (version 1)
 * ----------------------
 *
 * A log is three parts, back to back, nothing before or after:
 *
 *	header		64 bytes
 *	metadata	meta_len bytes of JSON text
 *	records		nr_records * record_size bytes
 *
 * The header. Integers are little-endian, at these offsets:
 *
 *	offset size field	value
 *	     0    8 magic	"VRTEVLOG" (no terminating NUL)
 *	     8    4 version	EVLOG_VERSION (1)
 *	    12    4 header_size	EVLOG_HEADER_SIZE (64)
 *	    16    4 record_size	sizeof(struct vt_event) (88)
 *	    20    4 meta_len	bytes of metadata that follow the header
 *	    24    8 nr_records	records that follow the metadata
 *	    32    8 checksum	FNV-1a 64 of the metadata bytes, then of the
 *				record bytes (one running hash, not two)
 *	    40   24 reserved	zero
 *
 * The header itself is not hashed; a reader checks every one of its fields
 * instead (the reserved bytes must be zero), so a damaged header is refused
 * as surely as damaged data. The checksum is FNV-1a 64: h starts at
 * EVLOG_FNV_BASIS (0xcbf29ce484222325), and for each byte b, h = (h ^ b) *
 * EVLOG_FNV_PRIME (0x100000001b3) modulo 2^64. The hash of no bytes is the
 * basis, so an empty log (meta "{}" aside) still has a checksum to check.
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
 * host, record_size bytes each, in the order they were appended (the order
 * the ring buffer delivered them; ts is not sorted across CPUs). A reader
 * refuses a record_size other than its own sizeof(struct vt_event): a change
 * of struct vt_event's layout is a change of EVLOG_VERSION.
 *
 * A log is whole or absent: the writer builds it under a temporary name in
 * the same directory and renames it into place once complete and synced,
 * so a reader that finds PATH finds a whole log. A reader still checks the
 * exact size and the checksum, because files get copied, cut and damaged.
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
#define EVLOG_VERSION		1
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
#define EVLOG_OFF_RESERVED	40

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
 * Records are appended before the metadata is known, but the format puts the
 * metadata first. So the writer spools records (through a 1 MiB buffer) to
 * an anonymous file in PATH's directory: created with mkstemp and unlinked at
 * once, so that it vanishes whatever happens to the process. evlog_commit()
 * then writes PATH.tmp.XXXXXX: the header, the metadata given last, and the
 * records copied from the spool while hashing them; it fsyncs that file,
 * renames it to PATH and fsyncs the directory. Commit reads the records back
 * once (from the page cache, as a rule); append does nothing but a memcpy,
 * and a write(2) per MiB.
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
	int spool_fd;		/* the records, unlinked */
	bool live;		/* created, not yet committed or aborted */
	int error;		/* errno of the first failed spool write, sticky */
	char *meta;		/* NUL-terminated copy of the metadata, or NULL */
	size_t meta_len;
	unsigned char *buf;	/* records not yet written to the spool */
	size_t buf_len, buf_cap;
	uint64_t nr_records;
};

/*
 * Start a log that will be PATH. meta_json may be NULL (give it later with
 * evlog_set_meta). Errors: the spool cannot be created in PATH's directory,
 * or meta_json is not a JSON object; w is then released.
 */
int evlog_create(struct evlog_writer *w, const char *path, const char *meta_json,
		 struct wl_error *err);

/* Give (or replace) the metadata: a JSON object's text. */
int evlog_set_meta(struct evlog_writer *w, const char *meta_json, struct wl_error *err);

/*
 * Append n records. Buffered: cheap enough for a ring-buffer callback.
 * Returns -1 (errno set) when the spool cannot be written; the error is
 * also kept, and evlog_commit() reports it.
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
 * object), keeping its records: read and checked as evlog_open() does, then
 * written again through a writer (so atomically). For a writer that knows
 * the run's description only after another process wrote the records.
 */
int evlog_rewrite_meta(const char *path, const char *meta_json, struct wl_error *err);

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
 * returning: the magic, version, header_size, record_size, the reserved
 * bytes, meta_len and nr_records against the file's exact size, the
 * checksum, and that the metadata is a JSON object. Each error is one line
 * naming the file and the header field (wl_error path):
 *
 *	FILE: cannot read: No such file or directory
 *	FILE: magic: expected "VRTEVLOG", got "{\n  \"nam": not a virtuoso event log
 *	FILE: version: expected 1, got 2
 *	FILE: header: truncated: the file holds 40 bytes, a header is 64
 *	FILE: meta_len: truncated: header says 312 bytes of metadata, file holds 100
 *	FILE: records: truncated: header says 10 records (880 bytes), file holds 800 bytes
 *	FILE: records: header says 10 records (880 bytes), file holds 900 bytes: 20 bytes after the last record
 *	FILE: checksum: mismatch: header says 0x..., the contents hash to 0x...: the log is corrupted
 *	FILE: meta: expected a JSON object: line 1, column 3: expected valid JSON, got '...'
 *
 * On error r holds nothing to release (evlog_close on it is harmless).
 * Records are copied out (the file gives them no alignment).
 */
struct evlog_reader {
	unsigned char *data;	/* the whole file */
	size_t size;
	uint32_t version, record_size, meta_len;
	uint64_t nr_records, checksum;
	const unsigned char *records;	/* into data */
	cJSON *meta;
	uint64_t next;		/* index evlog_next returns next */
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
	return (const char *)r->data + EVLOG_HEADER_SIZE;
}

static inline uint64_t evlog_nr_records(const struct evlog_reader *r)
{
	return r->nr_records;
}

/* Copy the next record into ev: 1, or 0 after the last one. */
int evlog_next(struct evlog_reader *r, struct vt_event *ev);

/* Copy record i into ev: 0, or -1 when i >= nr_records. */
int evlog_get(const struct evlog_reader *r, uint64_t i, struct vt_event *ev);

/* Start evlog_next over from the first record. */
static inline void evlog_rewind(struct evlog_reader *r)
{
	r->next = 0;
}

void evlog_close(struct evlog_reader *r);

#endif
