#include <stdio.h>
#include <string.h>

#include "workload/size.h"

static const struct {
	const char *name;
	unsigned shift;
} units[] = {
	{ "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 }, { "B", 0 },
};

int wl_size_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].name))
			continue;
		if (v > (UINT64_C(1) << 63) >> units[i].shift)
			return -1;
		*out = v << units[i].shift;
		return 0;
	}
	return -1;
}

void wl_size_format(uint64_t bytes, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t unit = UINT64_C(1) << units[i].shift;

		if (bytes && bytes % unit == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(bytes / unit), units[i].name);
			return;
		}
	}
	snprintf(buf, len, "0B");
}
