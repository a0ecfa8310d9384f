#include <string.h>

#include "workload/tlbev.h"

static const char *const event_names[] = {
#define TLB_EVENT_NAME(name, ...) #name,
	TLB_EVENTS(TLB_EVENT_NAME)
#undef TLB_EVENT_NAME
};

static const char *const event_descs[] = {
#define TLB_EVENT_DESC(name, desc, ...) desc,
	TLB_EVENTS(TLB_EVENT_DESC)
#undef TLB_EVENT_DESC
};

static const char *const scope_names[] = {
#define TLB_SCOPE_NAME(name, str) str,
	TLB_SCOPES(TLB_SCOPE_NAME)
#undef TLB_SCOPE_NAME
};

const char *tlb_event_name(int ev)
{
	return ev >= 0 && ev < TLB_EV_NR ? event_names[ev] : NULL;
}

const char *tlb_event_desc(int ev)
{
	return ev >= 0 && ev < TLB_EV_NR ? event_descs[ev] : NULL;
}

int tlb_event_from_name(const char *name)
{
	for (int i = 0; name && i < TLB_EV_NR; i++)
		if (!strcmp(event_names[i], name))
			return i;
	return TLB_EV_NONE;
}

const char *tlb_scope_name(int scope)
{
	return scope >= 0 && scope < TLB_SCOPE_NR ? scope_names[scope] : NULL;
}

int tlb_scope_from_name(const char *name)
{
	for (int i = 0; name && i < TLB_SCOPE_NR; i++)
		if (!strcmp(scope_names[i], name))
			return i;
	return -1;
}
