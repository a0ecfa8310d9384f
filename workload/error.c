#include <stdarg.h>
#include <string.h>

#include "workload/error.h"

int wl_error_set(struct wl_error *err, const char *file, const char *path,
		 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return -1;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(err->msg)) {
		/* cut: end on a whole character and say so */
		size_t at = sizeof(err->msg) - sizeof("…");

		while (at && ((unsigned char)err->msg[at] & 0xc0) == 0x80)
			at--;
		strcpy(err->msg + at, "…");
	}
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
