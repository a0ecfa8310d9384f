/*
 * hostid.h - what machine this is: the CPU's identity, whether it is a
 * virtual machine (and whose), and whether its hypervisor takes freed guest
 * memory back.
 *
 * What is read, and from where:
 *
 *   vendor			CPUID 0 (EBX, EDX, ECX): "AuthenticAMD", "GenuineIntel"
 *   family, model, stepping	CPUID 1 EAX, family and model with their extended
 *				fields as the SDM and APM combine them (what
 *				/proc/cpuinfo prints as "cpu family", "model")
 *   model_name			CPUID 0x80000002..4, the brand string, trimmed (what
 *				the kernel prints as "model name")
 *   guest			CPUID 1 ECX bit 31, the hypervisor-present bit (the
 *				kernel's X86_FEATURE_HYPERVISOR, /proc/cpuinfo's
 *				"hypervisor" flag)
 *   hypervisor			CPUID 0x40000000 EBX, ECX, EDX when guest: the
 *				hypervisor's signature, "KVMKVMKVM" under KVM
 *				(Firecracker), "Microsoft Hv", "VMwareVMware"
 *   page_reporting_order	/sys/module/page_reporting/parameters/
 *				page_reporting_order: the smallest free block
 *				(as a buddy order) that virtio free page reporting
 *				hands back to the host; absent when the guest has
 *				no page reporting device
 *
 * Why the last three matter: a guest's memory is backed lazily by the host,
 * and with free page reporting the host takes freed blocks of 2^order pages
 * back about two seconds after they are freed. The next first touch of such
 * a block costs a host fault as well as the guest's: on the VMs this is
 * tested on, a 2 MiB THP fault takes 3-13 ms instead of ~230 us (see
 * linux-probes/README.md, "Cold memory"). A result that records these can
 * be read for what its timings mean.
 *
 * The CPU identity is the key that per-machine data (calibrations) are filed
 * under: hostid_cpu_key() gives it as one string.
 */
#ifndef LINUX_PROBES_HOSTID_H
#define LINUX_PROBES_HOSTID_H

#include <stdbool.h>
#include <stddef.h>

#define HOSTID_PAGE_REPORTING "/sys/module/page_reporting/parameters/page_reporting_order"

struct hostid {
	char vendor[13];		/* "" where CPUID is not available */
	unsigned family, model, stepping;
	char model_name[49];
	bool guest;
	char hypervisor[13];		/* "" when not a guest */
	int page_reporting_order;	/* -1: no free page reporting */
};

/*
 * Read this host's identity; page reporting from 'page_reporting' (NULL:
 * HOSTID_PAGE_REPORTING). Cannot fail: what cannot be read stays empty
 * ("", 0, -1).
 */
void hostid_read(struct hostid *h, const char *page_reporting);

/* "vendor:family:model", e.g. "AuthenticAMD:25:1": what per-CPU data is keyed by. */
void hostid_cpu_key(const struct hostid *h, char *buf, size_t len);

/*
 * The identity into object o, as linux.json's and measurements.json's
 * "host" hold it: "cpu" {vendor, family, model, stepping, model_name, key},
 * "guest", "hypervisor" and "page_reporting_order" (null when none).
 */
struct cJSON;
void hostid_json(struct cJSON *o, const struct hostid *h);

#endif
