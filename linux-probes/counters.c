#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <perfmon/pfmlib_perf_event.h>

#include "linux-probes/counters.h"

struct counter_candidate {
	const char *event;
	enum tlb_scope scope;
	int tlb;		/* enum tlb_event, or TLB_EV_NONE */
};

static const struct counter_def {
	const char *name;
	int sw;			/* PERF_COUNT_SW_x, or COUNTER_HW */
	const char *desc;
	struct counter_candidate events[COUNTER_MAX_EVENTS];
} counter_defs[] = {
#define E(ev, sc, tlb) { ev, TLB_SCOPE_##sc, TLB_EV_##tlb }
#define COUNTER_DEF(n, kind, d, ...) { #n, kind, d, { __VA_ARGS__ } },
	COUNTERS_TABLE(COUNTER_DEF)
#undef COUNTER_DEF
#undef E
};

size_t counters_nr(void)
{
	return COUNTERS_NR;
}

const char *counters_name(size_t i)
{
	return i < COUNTERS_NR ? counter_defs[i].name : NULL;
}

const char *counters_description(size_t i)
{
	return i < COUNTERS_NR ? counter_defs[i].desc : NULL;
}

static int pfm_init(struct wl_error *err)
{
	int ret = pfm_initialize();	/* once: later calls return the first result */

	if (ret != PFM_SUCCESS)
		return wl_error_set(err, "libpfm4", "", "pfm_initialize: %s",
				    pfm_strerror(ret));
	return 0;
}

/* "amd64_fam19h_zen4": the core PMUs libpfm4 detected (or was forced to). */
static const char *core_pmus(void)
{
	static char names[128];
	pfm_pmu_t p;

	if (names[0])
		return names;
	pfm_for_all_pmus(p) {
		pfm_pmu_info_t info = { .size = sizeof(info) };

		if (pfm_get_pmu_info(p, &info) != PFM_SUCCESS ||
		    !info.is_present || info.type != PFM_PMU_TYPE_CORE)
			continue;
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%s", names[0] ? ", " : "", info.name);
	}
	return names;
}

/* Does the kernel have a hardware PMU? cpu-cycles on ourselves says. */
static bool hw_pmu_present(void)
{
	static int present = -1;
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_HARDWARE,
		.config = PERF_COUNT_HW_CPU_CYCLES,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd;

	if (present < 0) {
		fd = perf_event_open(&attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		present = fd >= 0 || (errno != ENOENT && errno != EOPNOTSUPP &&
				      errno != ENODEV);
		if (fd >= 0)
			close(fd);
	}
	return present;
}

static int encode(const struct counter_def *d, const char *ev,
		  struct perf_event_attr *attr)
{
	pfm_perf_encode_arg_t arg = { .attr = attr, .size = sizeof(arg) };
	int ret;

	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	ret = pfm_get_os_event_encoding(ev, PFM_PLM0 | PFM_PLM3,
					PFM_OS_PERF_EVENT_EXT, &arg);
	if (ret == PFM_ERR_NOTFOUND && d->sw != COUNTER_HW) {
		/* LIBPFM_FORCE_PMU hides libpfm4's perf PMU: same encoding */
		memset(attr, 0, sizeof(*attr));
		attr->type = PERF_TYPE_SOFTWARE;
		attr->config = (uint64_t)d->sw;
		ret = PFM_SUCCESS;
	}
	attr->size = sizeof(*attr);
	return ret;
}

static bool not_in_table(int pfm_ret)
{
	return pfm_ret == PFM_ERR_NOTFOUND || pfm_ret == PFM_ERR_UMASK ||
	       pfm_ret == PFM_ERR_ATTR;
}

static bool refused(int e, uint32_t type)
{
	return e == ENOENT || e == EOPNOTSUPP || e == ENODEV ||
	       (e == EINVAL && type != PERF_TYPE_SOFTWARE);
}

static int perf_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = -99;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -99;
		fclose(f);
	}
	return v;
}

static int open_error(struct wl_error *err, const struct counter_def *d,
		      const char *ev, pid_t pid, int e)
{
	char who[32] = "this process";

	if (pid)
		snprintf(who, sizeof(who), "pid %d", (int)pid);
	if (e == EACCES || e == EPERM)
		return wl_error_set(err, "perf_event_open", "",
				    "%s (%s) on %s: %s; counting kernel mode needs root, CAP_PERFMON or kernel.perf_event_paranoid <= 1 (it is %d)",
				    d->name, ev, who, strerror(e), perf_paranoid());
	return wl_error_set(err, "perf_event_open", "", "%s (%s) on %s: %s",
			    d->name, ev, who, strerror(e));
}

/* Open counter i, or mark it unsupported. -1 with err set on an error. */
static int counter_open(struct counter *c, size_t i, pid_t pid,
			struct wl_error *err)
{
	const struct counter_def *d = &counter_defs[i];
	char refusal[COUNTER_REASON_MAX] = "";
	struct perf_event_attr attr;
	size_t k;
	int ret, fd, e;

	c->fd = -1;
	c->event = NULL;
	c->scope = TLB_SCOPE_none;
	c->tlb = TLB_EV_NONE;
	for (k = 0; k < COUNTER_MAX_EVENTS && d->events[k].event; k++) {
		ret = encode(d, d->events[k].event, &attr);
		if (not_in_table(ret))
			continue;
		if (ret != PFM_SUCCESS)
			return wl_error_set(err, "libpfm4", "", "%s: cannot encode %s: %s",
					    d->name, d->events[k].event, pfm_strerror(ret));
		attr.inherit = 1;
		attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
				   PERF_FORMAT_TOTAL_TIME_RUNNING;
		fd = perf_event_open(&attr, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd >= 0) {
			c->fd = fd;
			c->event = d->events[k].event;
			c->scope = d->events[k].scope;
			c->tlb = d->events[k].tlb;
			c->reason[0] = '\0';
			return 0;
		}
		e = errno;
		if (!refused(e, attr.type))
			return open_error(err, d, d->events[k].event, pid, e);
		if (!refusal[0])
			snprintf(refusal, sizeof(refusal), "%s (perf_event_open: %s)",
				 hw_pmu_present() ? "the kernel's PMU driver refuses it"
						  : "no hardware PMU",
				 strerrorname_np(e));
	}
	if (refusal[0])
		snprintf(c->reason, sizeof(c->reason), "%s", refusal);
	else if (core_pmus()[0])
		snprintf(c->reason, sizeof(c->reason),
			 "not in libpfm4's table for %s", core_pmus());
	else
		snprintf(c->reason, sizeof(c->reason),
			 "libpfm4 detected no core PMU on this host");
	return 0;
}

static void counters_mark_closed(struct counter_set *cs)
{
	for (size_t i = 0; i < COUNTERS_NR; i++) {
		cs->c[i].fd = -1;
		cs->c[i].event = NULL;
		cs->c[i].scope = TLB_SCOPE_none;
		cs->c[i].tlb = TLB_EV_NONE;
		snprintf(cs->c[i].reason, sizeof(cs->c[i].reason), "not open");
	}
}

int counters_open(struct counter_set *cs, pid_t pid, struct wl_error *err)
{
	counters_mark_closed(cs);
	if (pfm_init(err))
		return -1;
	for (size_t i = 0; i < COUNTERS_NR; i++) {
		if (counter_open(&cs->c[i], i, pid, err)) {
			counters_close(cs);
			return -1;
		}
	}
	return 0;
}

int counters_read(const struct counter_set *cs, struct counter_sample *s)
{
	uint64_t buf[3];	/* value, time_enabled, time_running */
	ssize_t n;

	for (size_t i = 0; i < COUNTERS_NR; i++) {
		if (cs->c[i].fd < 0)
			continue;
		n = read(cs->c[i].fd, buf, sizeof(buf));
		if (n != (ssize_t)sizeof(buf))
			return n < 0 ? -errno : -EIO;
		s[i].value = buf[0];
		s[i].enabled = buf[1];
		s[i].running = buf[2];
	}
	return 0;
}

enum counter_growth counter_growth(const struct counter_sample *a, const struct counter_sample *b,
				   double *value, double *fraction)
{
	uint64_t v = b->value - a->value, en = b->enabled - a->enabled;
	uint64_t run = b->running - a->running;

	*value = (double)v;
	*fraction = 1;
	if (!en || run >= en)
		return COUNTER_EXACT;
	if (!run) {
		*value = 0;
		*fraction = 0;
		return COUNTER_NOT_COUNTED;
	}
	*value = (double)((unsigned __int128)v * en / run);
	*fraction = (double)run / (double)en;
	return COUNTER_SCALED;
}

bool counters_supported(const struct counter_set *cs, size_t i)
{
	return i < COUNTERS_NR && cs->c[i].fd >= 0;
}

const char *counters_reason(const struct counter_set *cs, size_t i)
{
	return i < COUNTERS_NR && cs->c[i].fd < 0 ? cs->c[i].reason : "";
}

const char *counters_event(const struct counter_set *cs, size_t i)
{
	return counters_supported(cs, i) ? cs->c[i].event : NULL;
}

void counters_close(struct counter_set *cs)
{
	for (size_t i = 0; i < COUNTERS_NR; i++)
		if (cs->c[i].fd >= 0)
			close(cs->c[i].fd);
	counters_mark_closed(cs);
}

const char *counters_encode(size_t i, uint32_t *type, uint64_t *config, enum tlb_scope *scope,
			    int *tlb)
{
	struct perf_event_attr attr;

	if (i >= COUNTERS_NR || pfm_init(NULL))
		return NULL;
	for (size_t k = 0; k < COUNTER_MAX_EVENTS && counter_defs[i].events[k].event; k++) {
		if (encode(&counter_defs[i], counter_defs[i].events[k].event, &attr) != PFM_SUCCESS)
			continue;
		*type = attr.type;
		*config = attr.config;
		if (scope)
			*scope = counter_defs[i].events[k].scope;
		if (tlb)
			*tlb = counter_defs[i].events[k].tlb;
		return counter_defs[i].events[k].event;
	}
	return NULL;
}

struct cJSON *counters_to_json(const struct counter_set *cs,
			       const struct counter_sample *before,
			       const struct counter_sample *after, struct cJSON **running)
{
	static const struct counter_sample zero;
	cJSON *obj = cJSON_CreateObject(), *run = NULL, *v;
	double value, fraction;

	for (size_t i = 0; obj && i < COUNTERS_NR; i++) {
		if (!counters_supported(cs, i)) {
			v = cJSON_CreateString("unsupported");
		} else if (counter_growth(before ? &before[i] : &zero, &after[i], &value,
					  &fraction) == COUNTER_NOT_COUNTED) {
			v = cJSON_CreateString("not counted");
		} else {
			v = cJSON_CreateNumber(value);
			if (running && fraction < 1) {
				if (!run && !(run = cJSON_CreateObject()))
					goto fail;
				if (!cJSON_AddNumberToObject(run, counter_defs[i].name, fraction))
					goto fail;
			}
		}
		if (!v || !cJSON_AddItemToObject(obj, counter_defs[i].name, v)) {
			cJSON_Delete(v);
			goto fail;
		}
	}
	if (running)
		*running = run;
	return obj;
fail:
	cJSON_Delete(run);
	cJSON_Delete(obj);
	return NULL;
}

struct cJSON *counters_events_json(const struct counter_set *cs)
{
	cJSON *obj = cJSON_CreateObject(), *o;

	for (size_t i = 0; obj && i < COUNTERS_NR; i++) {
		if (!(o = cJSON_AddObjectToObject(obj, counter_defs[i].name)))
			goto fail;
		if (!counters_supported(cs, i)) {
			/* what it would have counted: the first candidate's meaning */
			int tlb = counter_defs[i].events[0].tlb;

			if ((tlb != TLB_EV_NONE &&
			     !cJSON_AddStringToObject(o, "tlb_event", tlb_event_name(tlb))) ||
			    !cJSON_AddStringToObject(o, "unsupported", cs->c[i].reason))
				goto fail;
			continue;
		}
		if (!cJSON_AddStringToObject(o, "event", cs->c[i].event) ||
		    (cs->c[i].tlb != TLB_EV_NONE &&
		     !cJSON_AddStringToObject(o, "tlb_event", tlb_event_name(cs->c[i].tlb))) ||
		    !cJSON_AddStringToObject(o, "counts", tlb_scope_name(cs->c[i].scope)))
			goto fail;
	}
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

enum tlb_scope counters_scope(const struct counter_set *cs, size_t i)
{
	return counters_supported(cs, i) ? cs->c[i].scope : TLB_SCOPE_none;
}

int counters_tlb_event(const struct counter_set *cs, size_t i)
{
	return counters_supported(cs, i) ? cs->c[i].tlb : TLB_EV_NONE;
}

static void list_pmus(FILE *out)
{
	int width = 0;
	pfm_pmu_t p;

	pfm_for_all_pmus(p) {
		pfm_pmu_info_t info = { .size = sizeof(info) };

		if (pfm_get_pmu_info(p, &info) == PFM_SUCCESS && info.is_present &&
		    (int)strlen(info.name) > width)
			width = (int)strlen(info.name);
	}
	fprintf(out, "libpfm4 PMUs on this host:\n");
	pfm_for_all_pmus(p) {
		pfm_pmu_info_t info = { .size = sizeof(info) };

		if (pfm_get_pmu_info(p, &info) != PFM_SUCCESS || !info.is_present)
			continue;
		fprintf(out, "  %-*s  %s (%d events)\n", width, info.name,
			info.desc, info.nevents);
	}
}

int counters_list(FILE *out)
{
	struct wl_error err;
	struct counter c;
	int width = 0, ret = 0;

	if (pfm_init(&err)) {
		wl_error_print(&err, out);
		return -1;
	}
	list_pmus(out);
	for (size_t i = 0; i < COUNTERS_NR; i++)
		if ((int)strlen(counter_defs[i].name) > width)
			width = (int)strlen(counter_defs[i].name);
	fprintf(out, "\ncounters (opened on this process):\n");
	for (size_t i = 0; i < COUNTERS_NR; i++) {
		fprintf(out, "  %-*s  ", width, counter_defs[i].name);
		if (counter_open(&c, i, 0, &err)) {
			fprintf(out, "error: %s\n", err.msg);
			ret = -1;
		} else if (c.fd >= 0) {
			fprintf(out, "supported (%s", c.event);
			if (c.tlb != TLB_EV_NONE)
				fprintf(out, ": %s of %s", tlb_event_name(c.tlb), tlb_scope_name(c.scope));
			fputs(")\n", out);
			close(c.fd);
		} else {
			fprintf(out, "unsupported: %s\n", c.reason);
		}
	}
	return ret;
}
