/*
 * hoststat.c - /proc/vmstat and THP sysfs counters (see hoststat.h).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "linux-probes/hoststat.h"

static void add(struct hoststat *hs, const char *group, const char *name, uint64_t v)
{
	if (hs->nr == hs->alloc) {
		hs->alloc = hs->alloc ? 2 * hs->alloc : 256;
		hs->items = realloc(hs->items, hs->alloc * sizeof(*hs->items));
		if (!hs->items)
			abort();
	}
	/* a name too long for the record is skipped rather than cut */
	if ((size_t)snprintf(hs->items[hs->nr].name, sizeof(hs->items[0].name), "%s/%s", group,
			     name) >= sizeof(hs->items[0].name))
		return;
	hs->items[hs->nr++].value = v;
}

static void read_one(struct hoststat *hs, const char *group, const char *dir, const char *name)
{
	char path[512];
	unsigned long long v;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "%llu", &v) == 1)
		add(hs, group, name, v);
	fclose(f);
}

static void read_dir(struct hoststat *hs, const char *group, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			read_one(hs, group, dir, names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int hoststat_read(struct hoststat *hs, const char *vmstat_path, const char *thp_root)
{
	char name[96], path[512];
	unsigned long long v;
	struct dirent **sizes;
	FILE *f = fopen(vmstat_path, "r");
	int n;

	memset(hs, 0, sizeof(*hs));
	if (!f)
		return -1;
	while (fscanf(f, "%95s %llu", name, &v) == 2)
		add(hs, "vmstat", name, v);
	fclose(f);

	n = scandir(thp_root, &sizes, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (!strncmp(sizes[i]->d_name, "hugepages-", 10)) {
			snprintf(path, sizeof(path), "%s/%s/stats", thp_root, sizes[i]->d_name);
			read_dir(hs, sizes[i]->d_name, path);
		}
		free(sizes[i]);
	}
	if (n >= 0)
		free(sizes);
	snprintf(path, sizeof(path), "%s/khugepaged", thp_root);
	read_one(hs, "khugepaged", path, "pages_collapsed");
	read_one(hs, "khugepaged", path, "full_scans");
	return 0;
}

int hoststat_get(const struct hoststat *hs, const char *name, uint64_t *value)
{
	for (size_t i = 0; i < hs->nr; i++)
		if (!strcmp(hs->items[i].name, name)) {
			*value = hs->items[i].value;
			return 0;
		}
	return -1;
}

struct cJSON *hoststat_delta_json(const struct hoststat *before, const struct hoststat *after)
{
	struct cJSON *root = cJSON_CreateObject();

	for (size_t i = 0; i < after->nr; i++) {
		const struct hoststat_item *it = &after->items[i];
		char group[96];
		const char *slash = strchr(it->name, '/');
		uint64_t old;
		struct cJSON *g;

		if (hoststat_get(before, it->name, &old) || old == it->value || !slash)
			continue;
		snprintf(group, sizeof(group), "%.*s", (int)(slash - it->name), it->name);
		g = cJSON_GetObjectItemCaseSensitive(root, group);
		if (!g)
			g = cJSON_AddObjectToObject(root, group);
		cJSON_AddNumberToObject(g, slash + 1, (double)((int64_t)(it->value - old)));
	}
	return root;
}

void hoststat_release(struct hoststat *hs)
{
	free(hs->items);
	memset(hs, 0, sizeof(*hs));
}
