/*
 * hostid.c - the CPU's identity and the VM facts (see hostid.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define HAVE_CPUID 1
#endif

#include <cjson/cJSON.h>

#include "linux-probes/hostid.h"

#ifdef HAVE_CPUID
/* Twelve signature bytes from three registers, in the order given. */
static void signature(char out[13], uint32_t a, uint32_t b, uint32_t c)
{
	memcpy(out, &a, 4);
	memcpy(out + 4, &b, 4);
	memcpy(out + 8, &c, 4);
	out[12] = '\0';
}

static void read_cpuid(struct hostid *h)
{
	uint32_t a, b, c, d, max;

	if (!__get_cpuid(0, &max, &b, &c, &d))
		return;
	signature(h->vendor, b, d, c);
	if (max >= 1) {
		__cpuid(1, a, b, c, d);
		h->family = (a >> 8) & 0xF;
		h->model = (a >> 4) & 0xF;
		h->stepping = a & 0xF;
		if (h->family == 0xF)
			h->family += (a >> 20) & 0xFF;
		if (h->family == 0x6 || h->family >= 0xF)
			h->model |= ((a >> 16) & 0xF) << 4;
		h->guest = (c >> 31) & 1;
	}
	/* leaf 0x40000000 is the hypervisor's, and means nothing without the bit */
	if (h->guest) {
		__cpuid(0x40000000, a, b, c, d);
		signature(h->hypervisor, b, c, d);
	}
	if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004) {
		char *p = h->model_name, *e;

		for (uint32_t l = 0; l < 3; l++) {
			__cpuid(0x80000002 + l, a, b, c, d);
			memcpy(h->model_name + 16 * l, &a, 4);
			memcpy(h->model_name + 16 * l + 4, &b, 4);
			memcpy(h->model_name + 16 * l + 8, &c, 4);
			memcpy(h->model_name + 16 * l + 12, &d, 4);
		}
		h->model_name[48] = '\0';
		while (*p == ' ')
			p++;
		memmove(h->model_name, p, strlen(p) + 1);
		for (e = h->model_name + strlen(h->model_name); e > h->model_name && e[-1] == ' '; e--)
			e[-1] = '\0';
	}
}
#endif

void hostid_read(struct hostid *h, const char *page_reporting)
{
	FILE *f = fopen(page_reporting ? page_reporting : HOSTID_PAGE_REPORTING, "r");
	int order;

	memset(h, 0, sizeof(*h));
	h->page_reporting_order = -1;
#ifdef HAVE_CPUID
	read_cpuid(h);
#endif
	if (f) {
		if (fscanf(f, "%d", &order) == 1 && order >= 0)
			h->page_reporting_order = order;
		fclose(f);
	}
}

void hostid_cpu_key(const struct hostid *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u:%u", h->vendor[0] ? h->vendor : "unknown", h->family, h->model);
}

void hostid_json(cJSON *o, const struct hostid *h)
{
	cJSON *cpu = cJSON_AddObjectToObject(o, "cpu");
	char key[64];

	cJSON_AddStringToObject(cpu, "vendor", h->vendor);
	cJSON_AddNumberToObject(cpu, "family", h->family);
	cJSON_AddNumberToObject(cpu, "model", h->model);
	cJSON_AddNumberToObject(cpu, "stepping", h->stepping);
	cJSON_AddStringToObject(cpu, "model_name", h->model_name);
	hostid_cpu_key(h, key, sizeof(key));
	cJSON_AddStringToObject(cpu, "key", key);
	cJSON_AddBoolToObject(o, "guest", h->guest);
	if (h->hypervisor[0])
		cJSON_AddStringToObject(o, "hypervisor", h->hypervisor);
	else
		cJSON_AddNullToObject(o, "hypervisor");
	if (h->page_reporting_order >= 0)
		cJSON_AddNumberToObject(o, "page_reporting_order", h->page_reporting_order);
	else
		cJSON_AddNullToObject(o, "page_reporting_order");
}
