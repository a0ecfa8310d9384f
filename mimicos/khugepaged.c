/*
 * khugepaged.c - khugepaged and MADV_COLLAPSE (see khugepaged.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "mimicos/internal.h"
#include "mimicos/khugepaged.h"
#include "mimicos/mmap.h"

struct khugepaged {
	uint64_t now_ns;
	uint64_t wake_ns;
	struct khugepaged_stats stats;
	struct khugepaged_trace trace;
};

static const char *const scan_result_names[] = {
#define SCAN_NAME(e, s) [e] = s,
	SCAN_RESULTS(SCAN_NAME)
#undef SCAN_NAME
};

const char *scan_result_name(enum scan_result r)
{
	return (unsigned)r < NR_SCAN_RESULTS ? scan_result_names[r] : "unknown";
}

int khugepaged_init(struct mimicos *os)
{
	os->khugepaged = calloc(1, sizeof(*os->khugepaged));
	if (!os->khugepaged)
		return -ENOMEM;
	os->khugepaged->wake_ns = UINT64_MAX;
	return 0;
}

void khugepaged_release(struct mimicos *os)
{
	free(os->khugepaged);
	os->khugepaged = NULL;
}

void khugepaged_mm_init(struct mm_struct *mm) { (void)mm; }
void khugepaged_exit(struct mm_struct *mm) { (void)mm; }
void khugepaged_enter_vma(struct vm_area_struct *vma, vm_flags_t vm_flags) { (void)vma; (void)vm_flags; }

unsigned int khugepaged_advance(struct mimicos *os, uint64_t now_ns)
{
	os->khugepaged->now_ns = now_ns;
	return 0;
}

uint64_t khugepaged_next_wakeup(const struct mimicos *os)
{
	return os->khugepaged->wake_ns;
}

bool khugepaged_wait_full_scans(struct mimicos *os, uint64_t *now_ns, unsigned int full_scans,
				uint64_t timeout_ns)
{
	(void)os; (void)full_scans;
	*now_ns += timeout_ns;
	return false;
}

int madvise_collapse(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		     uint64_t now_ns)
{
	(void)vma; (void)start; (void)end; (void)now_ns;
	return -EINVAL;
}

const struct khugepaged_stats *khugepaged_stats(const struct mimicos *os)
{
	return &os->khugepaged->stats;
}

void khugepaged_set_trace(struct mimicos *os, const struct khugepaged_trace *t)
{
	os->khugepaged->trace = *t;
}
