/*
 * latency_specs.c - the fault-latency microbenchmarks' specs (latency_specs.h).
 */
#include <stdio.h>

#include "calibrate/latency_specs.h"

static const char *const names[CAL_LAT_NR] = {
#define CAL_LAT_NAME(name, kib) #name,
	CAL_LATENCY_KINDS(CAL_LAT_NAME)
#undef CAL_LAT_NAME
};

static const unsigned mthp_kib[CAL_LAT_NR] = {
#define CAL_LAT_KIB(name, kib) kib,
	CAL_LATENCY_KINDS(CAL_LAT_KIB)
#undef CAL_LAT_KIB
};

static const char *const spec_names[CAL_LAT_NR] = {
#define CAL_LAT_SPEC(name, kib) "cal-latency-" #name,
	CAL_LATENCY_KINDS(CAL_LAT_SPEC)
#undef CAL_LAT_SPEC
};

/* The mTHP sizes the spec format knows, smallest first, as its keys spell them. */
static const struct {
	unsigned kib;
	const char *key;
} sizes[] = {
	{ 16, "16KiB" }, { 32, "32KiB" }, { 64, "64KiB" }, { 128, "128KiB" },
	{ 256, "256KiB" }, { 512, "512KiB" }, { 1024, "1MiB" },
};

/*
 * The 4 KiB and 2 MiB kinds. Faults per run: 16384 4 KiB ones (64 MiB) give
 * a p99 of 160 samples per run; 128 THP faults hold 256 MiB, as much as a
 * small guest spares. Quick: an eighth.
 */
static const struct lat_def {
	const char *thp;	/* "never" or "always" */
	const char *advice;	/* the region's, or NULL */
	bool setup_read;	/* a read of every step first, untimed */
	bool write;		/* the timed phase's accesses */
	uint64_t stride_kib;
	uint64_t faults[2];	/* [quick] */
	const char *desc;
} defs[CAL_LAT_NR] = {
	[CAL_LAT_anon_4k] = { "never", "nohugepage", false, true, 4, { 16384, 2048 },
			      "a write fault per untouched 4 KiB page: an order-0 folio" },
	[CAL_LAT_zero_read] = { "never", "nohugepage", false, false, 4, { 16384, 2048 },
				"a read fault per untouched 4 KiB page: the zero page mapped" },
	[CAL_LAT_zero_cow] = { "never", "nohugepage", true, true, 4, { 16384, 2048 },
			       "reads map the zero page, then a write per page copies it (timed)" },
	[CAL_LAT_huge_zero_read] = { "always", NULL, false, false, 2048, { 128, 16 },
				     "a read fault per 2 MiB block: the huge zero page mapped" },
	[CAL_LAT_huge_zero_write] = { "always", NULL, true, true, 2048, { 128, 16 },
				      "reads map the huge zero page, then a write per 2 MiB "
				      "block replaces it (timed)" },
	[CAL_LAT_thp] = { "always", NULL, false, true, 2048, { 128, 16 },
			  "a write fault per 2 MiB block: a THP allocated" },
};

const char *cal_lat_name(unsigned k)
{
	return k < CAL_LAT_NR ? names[k] : NULL;
}

unsigned cal_lat_mthp_kib(unsigned k)
{
	return k < CAL_LAT_NR ? mthp_kib[k] : 0;
}

const char *cal_lat_spec_name(unsigned k)
{
	return k < CAL_LAT_NR ? spec_names[k] : NULL;
}

unsigned cal_lat_timed_phase(unsigned k)
{
	return k < CAL_LAT_NR && !mthp_kib[k] && defs[k].setup_read ? 1 : 0;
}

/*
 * mTHP: a write per folio, 2048 folios (512 quick) up to 128 MiB (32 MiB
 * quick) of memory: 2048 16 KiB folios, 128 1 MiB ones.
 */
uint64_t cal_lat_faults(unsigned k, bool quick)
{
	uint64_t n, cap;

	if (k >= CAL_LAT_NR)
		return 0;
	if (!mthp_kib[k])
		return defs[k].faults[quick];
	n = quick ? 512 : 2048;
	cap = (quick ? 32 * 1024 : 128 * 1024) / mthp_kib[k];
	return n < cap ? n : cap;
}

/* Append to buf (len bytes) at n, or return -1 when it does not fit; w, n, buf, len local. */
#define PUT(...)							\
	do {								\
		w = snprintf(buf + n, len - n, __VA_ARGS__);		\
		if (w < 0 || (size_t)w >= len - n)			\
			return -1;					\
		n += (size_t)w;						\
	} while (0)

int cal_lat_spec(unsigned k, bool quick, char *buf, size_t len)
{
	const struct lat_def *d = k < CAL_LAT_NR ? &defs[k] : NULL;
	unsigned mkib = cal_lat_mthp_kib(k);
	uint64_t stride = mkib ? mkib : d ? d->stride_kib : 0;
	size_t n = 0;
	int w;

	if (k >= CAL_LAT_NR || !len)
		return -1;
	PUT("{\n  \"name\": \"%s\",\n  \"description\": \"virtuoso calibrate's fault-latency "
	    "microbenchmark, %s: %s.\",\n  \"seed\": 1,\n", spec_names[k], names[k],
	    mkib ? "a write fault per untouched folio: an mTHP folio of that size" : d->desc);
	/* every setting the kind depends on, so the host's own never leak in */
	PUT("  \"kernel\": {\"thp\": \"%s\", \"defrag\": \"madvise\", \"use_zero_page\": true, "
	    "\"mthp\": {", mkib ? "never" : d->thp);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		PUT("%s\"%s\": \"%s\"", i ? ", " : "", sizes[i].key,
		    sizes[i].kib == mkib ? "always" : "never");
	PUT("}},\n  \"regions\": [{\"name\": \"buf\", \"size\": \"%lluKiB\"",
	    (unsigned long long)(cal_lat_faults(k, quick) * stride));
	if (!mkib && d->advice)
		PUT(", \"advice\": [\"%s\"]", d->advice);
	PUT("}],\n  \"phases\": [\n");
	if (!mkib && d->setup_read)
		PUT("    {\"op\": \"touch\", \"region\": \"buf\", \"stride\": \"%lluKiB\", "
		    "\"write\": false},\n", (unsigned long long)stride);
	PUT("    {\"op\": \"touch\", \"region\": \"buf\", \"stride\": \"%lluKiB\", "
	    "\"write\": %s}\n  ]\n}\n", (unsigned long long)stride,
	    mkib || d->write ? "true" : "false");
	return (int)n;
}

int cal_shootdown_spec(bool quick, char *buf, size_t len)
{
	unsigned samples = CAL_SHOOTDOWN_SAMPLES(quick);
	size_t n = 0;
	int w;

	if (!len)
		return -1;
	PUT("{\n  \"name\": \"%s\",\n  \"description\": \"virtuoso calibrate's shootdown "
	    "microbenchmark: thread 1 gives back one page at a time while thread 0 reads its "
	    "own region on another CPU, %u times: a TLB-flush cross-call each.\",\n"
	    "  \"version\": 2,\n  \"threads\": 2,\n  \"seed\": 1,\n", CAL_SHOOTDOWN_SPEC_NAME,
	    samples);
	PUT("  \"kernel\": {\"thp\": \"never\", \"defrag\": \"madvise\", \"use_zero_page\": true, "
	    "\"mthp\": {");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		PUT("%s\"%s\": \"never\"", i ? ", " : "", sizes[i].key);
	PUT("}},\n  \"regions\": [{\"name\": \"given\", \"size\": \"%uKiB\"}, "
	    "{\"name\": \"read\", \"size\": \"4MiB\"}],\n  \"phases\": [\n", 4 * samples);
	PUT("    {\"op\": \"touch\", \"region\": \"read\", \"threads\": [0]},\n");
	PUT("    {\"op\": \"touch\", \"region\": \"given\", \"threads\": [1], "
	    "\"concurrent\": true}");
	for (unsigned i = 0; i < samples; i++) {
		PUT(",\n    {\"op\": \"access\", \"region\": \"read\", \"threads\": [0], "
		    "\"pattern\": \"sequential\", \"count\": 200000}");
		PUT(",\n    {\"op\": \"madvise\", \"region\": \"given\", \"offset\": \"%uKiB\", "
		    "\"length\": \"4KiB\", \"advice\": \"dontneed\", \"threads\": [1], "
		    "\"concurrent\": true}", 4 * i);
	}
	PUT("\n  ]\n}\n");
	return (int)n;
}
