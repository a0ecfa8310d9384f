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

/* One line whatever the input held: control characters become spaces. */
static void put_flat(const char *s, FILE *to)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, to);
}

void wl_error_print(const struct wl_error *err, FILE *to)
{
	put_flat(err->file, to);
	fputs(": ", to);
	if (err->path[0]) {
		put_flat(err->path, to);
		fputs(": ", to);
	}
	put_flat(err->msg, to);
	fputc('\n', to);
}
