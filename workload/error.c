#include <stdarg.h>
#include <string.h>

#include "workload/error.h"

int wl_error_set(struct wl_error *err, const char *file, const char *path,
		 const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void wl_error_print(const struct wl_error *err, FILE *to)
{
	if (err->path[0])
		fprintf(to, "%s: %s: %s\n", err->file, err->path, err->msg);
	else
		fprintf(to, "%s: %s\n", err->file, err->msg);
}
