/*
 * test_hostid.c - the host's identity against a second source: what the
 * kernel says in /proc/cpuinfo (from its own CPUID reading) and in sysfs.
 * No root needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "linux-probes/hostid.h"

/* The value of the first "key\t: value" line of /proc/cpuinfo, or NULL. */
static const char *cpuinfo(const char *key, char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	const char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *e;
		size_t k;

		if (!colon)
			continue;
		for (e = colon; e > line && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		k = (size_t)(e - line);
		if (k != strlen(key) || strncmp(line, key, k))
			continue;
		colon++;
		while (*colon == ' ')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		found = buf;
	}
	fclose(f);
	return found;
}

static bool has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static void need_x86_cpuinfo(void)
{
	char buf[64];

	if (!cpuinfo("vendor_id", buf, sizeof(buf)))
		cr_skip_test("/proc/cpuinfo has no vendor_id (not an x86 host)");
}

Test(hostid, guest_bit_agrees_with_the_cpuinfo_hypervisor_flag)
{
	static char flags[8192];
	struct hostid h;

	need_x86_cpuinfo();
	cr_assert_not_null(cpuinfo("flags", flags, sizeof(flags)));
	hostid_read(&h, NULL);
	cr_assert_eq(h.guest, has_flag(flags, "hypervisor"), "CPUID says guest=%d", h.guest);
	/* the signature leaf is read only in a guest */
	if (h.guest)
		cr_assert_gt(strlen(h.hypervisor), 0, "a guest names its hypervisor");
	else
		cr_assert_str_eq(h.hypervisor, "");
}

/* The kernel offers kvm-clock only once it has found KVM's signature itself. */
Test(hostid, kvm_guest_is_named_kvmkvmkvm)
{
	char src[256] = "";
	struct hostid h;
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/available_clocksource", "r");

	need_x86_cpuinfo();
	if (f) {
		if (!fgets(src, sizeof(src), f))
			src[0] = '\0';
		fclose(f);
	}
	if (!strstr(src, "kvm-clock"))
		cr_skip_test("not a KVM guest (no kvm-clock clocksource)");
	hostid_read(&h, NULL);
	cr_assert(h.guest);
	cr_assert_str_eq(h.hypervisor, "KVMKVMKVM");
}

Test(hostid, cpu_identity_agrees_with_cpuinfo)
{
	char buf[256];
	struct hostid h;

	need_x86_cpuinfo();
	hostid_read(&h, NULL);
	cr_assert_str_eq(h.vendor, cpuinfo("vendor_id", buf, sizeof(buf)));
	cr_assert_eq(h.family, (unsigned)atoi(cpuinfo("cpu family", buf, sizeof(buf))));
	cr_assert_eq(h.model, (unsigned)atoi(cpuinfo("model", buf, sizeof(buf))));
	cr_assert_eq(h.stepping, (unsigned)atoi(cpuinfo("stepping", buf, sizeof(buf))));
	cr_assert_str_eq(h.model_name, cpuinfo("model name", buf, sizeof(buf)));
}

Test(hostid, cpu_key_is_vendor_family_model)
{
	struct hostid h = { .vendor = "AuthenticAMD", .family = 25, .model = 1 };
	struct hostid none = { .vendor = "" };
	char key[64];

	hostid_cpu_key(&h, key, sizeof(key));
	cr_assert_str_eq(key, "AuthenticAMD:25:1");
	hostid_cpu_key(&none, key, sizeof(key));
	cr_assert_str_eq(key, "unknown:0:0");
}

/* ---- free page reporting --------------------------------------------------- */

static const char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/hostid-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

Test(hostid, page_reporting_order_is_read_from_the_module_parameter)
{
	const char *p = write_tmp("9\n");
	struct hostid h;

	hostid_read(&h, p);
	unlink(p);
	cr_assert_eq(h.page_reporting_order, 9);
}

Test(hostid, no_page_reporting_module_means_no_order)
{
	const char *p;
	struct hostid h;

	hostid_read(&h, "/nonexistent/page_reporting_order");
	cr_assert_eq(h.page_reporting_order, -1);
	p = write_tmp("garbage\n");
	hostid_read(&h, p);
	unlink(p);
	cr_assert_eq(h.page_reporting_order, -1);
}

Test(hostid, page_reporting_order_matches_this_hosts_sysfs)
{
	char line[32] = "";
	struct hostid h;
	FILE *f = fopen(HOSTID_PAGE_REPORTING, "r");

	hostid_read(&h, NULL);
	if (!f) {
		cr_assert_eq(h.page_reporting_order, -1, "no page_reporting module here");
		return;
	}
	cr_assert_not_null(fgets(line, sizeof(line), f));
	fclose(f);
	cr_assert_eq(h.page_reporting_order, atoi(line));
}
