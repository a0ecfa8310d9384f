/*
 * store.h - the per-host calibration store: where a calibration of this
 * machine is kept, so that virtuoso sim and virtuoso run apply it without a
 * --config, and never apply one made on another machine.
 *
 * Where:
 *
 *   $VIRTUOSO_CALIBRATION_DIR/<dir>/	when the variable is set and not empty
 *					(tests, users who cannot write /var/lib)
 *   /var/lib/virtuoso/calibration/<dir>/	otherwise (CAL_STORE_ROOT)
 *
 * <dir> is the host key with ':' turned into '-' (no ':' in a path, which
 * PATH-like lists, make and scp read as separators).
 *
 * The host key, "vendor:family:model:major.minor:guest|metal", for example
 * "AuthenticAMD:25:1:6.8:guest":
 *
 *   vendor:family:model	hostid_cpu_key(): the core's microarchitecture
 *				decides the caches', TLBs' and walker's
 *				latencies. Not the stepping (a stepping fixes
 *				errata, not latencies) and not the host name
 *				(one calibration serves every machine of a kind).
 *   major.minor		the kernel release's first two numbers (uname -r):
 *				the fault path's and khugepaged's costs are the
 *				kernel's code, which changes between releases;
 *				a stable update (the third number, the
 *				distribution's suffix) rarely changes it.
 *   guest|metal		CPUID's hypervisor bit (hostid.h): in a guest a
 *				TLB miss walks two page tables and a first touch
 *				may pay for the host's fault too, so the same CPU
 *				calibrates differently in a VM and on bare metal.
 *
 * What is stored, per host: calibrated.json (required: a simulator
 * configuration, simulator/config.h, with a "calibration" object), and
 * calibration.json and measurements.json (the fit's report and the
 * measurements it came from) when the calibration's output directory has
 * them.
 *
 * Identity: a stored calibration says which host it is for, and is read
 * back from its files, not from where it lies: calibrated.json's
 * "calibration.host" holds the host key (the fit writes
 * calibrate_store_host_key()'s string there), and measurements.json's
 * "host" (cpu.key, kernel.release, guest), when present, must give the same
 * key. A calibration whose identity is not this host's is refused, with
 * both identities named, and never applied.
 */
#ifndef CALIBRATE_STORE_H
#define CALIBRATE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "linux-probes/hostid.h"
#include "simulator/config.h"
#include "workload/error.h"

#define CAL_STORE_ROOT		"/var/lib/virtuoso/calibration"
#define CAL_STORE_ENV		"VIRTUOSO_CALIBRATION_DIR"

#define CAL_STORE_CALIBRATED	"calibrated.json"
#define CAL_STORE_CALIBRATION	"calibration.json"
#define CAL_STORE_MEASUREMENTS	"measurements.json"

/* Long enough for any host key: vendor (12), two numbers, a release, "metal". */
#define CAL_STORE_KEY_MAX	96

/*
 * The host key of a CPU key ("vendor:family:model"), a kernel release
 * ("6.8.0-45-generic": "6.8" is kept; a release without two numbers gives
 * "0.0") and the hypervisor bit.
 */
void calibrate_store_host_key(char *buf, size_t len, const char *cpu_key, const char *release,
			      bool guest);

/* This host's key: hostid_read() and uname(2). */
void calibrate_store_this_key(char *buf, size_t len);

/* The store's root: $VIRTUOSO_CALIBRATION_DIR when set and not empty, else CAL_STORE_ROOT. */
const char *calibrate_store_root(void);

/* ROOT/<dir> for 'key' into buf; -ENAMETOOLONG when it does not fit, else 0. */
int calibrate_store_dir(char *buf, size_t len, const char *key);

/*
 * <dir> alone: the key as a file name ("AuthenticAMD-25-17-6.18-guest"), as
 * the store and the shipped reference bundles (datasets/reference/) name a host.
 */
void calibrate_store_key_name(char *buf, size_t len, const char *key);

/* What calibrate_store_find() found for this host. */
struct cal_stored {
	char key[CAL_STORE_KEY_MAX];	/* this host's key */
	char path[4096];		/* the stored calibrated.json */
	struct sim_calibration cal;	/* its "calibration": host, date, source */
	bool refused;			/* something was stored, and err says why it is not used */
	char other[128];		/* none for this host: another host's stored identity, or "" */
};

/*
 * The calibration stored for this host: its calibrated.json's path (st->path),
 * a whole simulator configuration whose identity (as above) is this host's.
 * NULL when there is none: st->refused false when nothing is stored under
 * this host's key (st->other then names a key stored for another host, if
 * any), true when what is stored cannot be used (unreadable, not a
 * configuration, no "calibration", or another host's identity), err saying
 * why and naming both identities.
 */
const char *calibrate_store_find(struct cal_stored *st, struct wl_error *err);

/*
 * Store the calibration in output directory 'dir' as this host's:
 * dir/calibrated.json, and dir/calibration.json and dir/measurements.json
 * when they exist. Refused (-EINVAL) when calibrated.json is not a
 * configuration with a "calibration" whose host is this host's key, or
 * when measurements.json names another host: a store holds nothing it
 * would refuse to apply.
 *
 * Whole or not at all: the files are copied into a temporary directory
 * beside the host's (hidden, ".<dir>.tmp.XXXXXX") and synced, then exchanged with it in one rename
 * (renameat2 RENAME_EXCHANGE; where that is missing, the old one is
 * renamed away first, and a reader in between finds none), and the old
 * one removed. A reader sees the old calibration, whole, or the new one,
 * whole. Makes the store's root when missing.
 *
 * For virtuoso calibrate to call once its output directory is complete.
 * Returns 0, or -errno with err naming the file and what went wrong; on
 * error the store is as it was. *stored (when not NULL) gets the stored
 * calibrated.json's path (4096 bytes).
 */
int calibrate_store_save(const char *dir, char *stored, struct wl_error *err);

#endif
