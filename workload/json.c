#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload/json.h"
#include "workload/size.h"

/* How many bytes of s to show: all, or WJ_QUOTE_MAX cut back to a UTF-8 boundary. */
static int shown(const char *s, bool *cut)
{
	size_t n = strnlen(s, WJ_QUOTE_MAX + 1);

	*cut = n > WJ_QUOTE_MAX;
	if (!*cut)
		return (int)n;
	n = WJ_QUOTE_MAX;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

const char *wj_quote(char *buf, size_t len, const char *s)
{
	bool cut;
	int n = shown(s, &cut);

	snprintf(buf, len, "\"%.*s%s\"", n, s, cut ? "…" : "");
	return buf;
}

const char *wj_path_key(char *buf, size_t len, const char *parent, const char *key)
{
	bool cut = false;
	int n = key ? shown(key, &cut) : 0;

	if (!parent || !parent[0])
		snprintf(buf, len, "%.*s%s", n, key, cut ? "…" : "");
	else if (!key || !key[0])
		snprintf(buf, len, "%s", parent);
	else
		snprintf(buf, len, "%s.%.*s%s", parent, n, key, cut ? "…" : "");
	return buf;
}

const char *wj_path_index(char *buf, size_t len, const char *parent, size_t i)
{
	snprintf(buf, len, "%s[%zu]", parent, i);
	return buf;
}

int wj_fail(const struct wj_ctx *c, const char *path, const char *key,
	    const char *fmt, ...)
{
	char where[160], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wj_path_key(where, sizeof(where), path, key);
	return wl_error_set(c->err, c->file, where, "%s", msg);
}

int wj_read_file(const char *path, char **text, size_t *len, struct wl_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return wl_error_set(err, path, "", "cannot read: %s", strerror(errno));
	for (;;) {
		if (n + 1 >= cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return wl_error_set(err, path, "", "out of memory");
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;

		free(buf);
		fclose(f);
		return wl_error_set(err, path, "", "cannot read: %s", strerror(e));
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

cJSON *wj_parse(const struct wj_ctx *c, const char *text, size_t len)
{
	const char *end = NULL;
	char *buf, where[64];
	cJSON *root;
	size_t line = 1, col = 1, at, n;

	if (memchr(text, '\0', len))
		return wl_error_set(c->err, c->file, "", "expected JSON text, got a NUL byte"), NULL;
	/* text need not be NUL-terminated: look at len bytes, no more */
	for (n = 0; n < len && memchr(" \t\r\n", text[n], 4); n++)
		;
	if (n == len)
		return wl_error_set(c->err, c->file, "", "expected a JSON object, got an empty file"), NULL;
	/*
	 * Parse a NUL-terminated copy, so that input ending inside a value
	 * fails at the terminator and reads as truncated.
	 */
	buf = malloc(len + 1);
	if (!buf)
		return wl_error_set(c->err, c->file, "", "out of memory"), NULL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	root = cJSON_ParseWithLengthOpts(buf, len + 1, &end, true);
	if (root) {
		free(buf);
		return root;
	}
	at = end ? (size_t)(end - buf) : 0;
	free(buf);
	for (size_t i = 0; i < at && i < len; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
	if (at >= len) {
		wl_error_set(c->err, c->file, where,
			     "expected more JSON: the file ends inside a value (truncated?)");
		return NULL;
	}
	for (n = 0; at + n < len && n < 12 && text[at + n] != '\n' && text[at + n] != '\r'; n++)
		;
	wl_error_set(c->err, c->file, where, "expected valid JSON, got '%.*s'", (int)n, text + at);
	return NULL;
}

const char *wj_describe(const cJSON *v, char *buf, size_t len)
{
	if (!v)
		snprintf(buf, len, "nothing");
	else if (cJSON_IsObject(v))
		snprintf(buf, len, "an object");
	else if (cJSON_IsArray(v))
		snprintf(buf, len, "an array");
	else if (cJSON_IsNull(v))
		snprintf(buf, len, "null");
	else if (cJSON_IsBool(v))
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsString(v))
		wj_quote(buf, len, v->valuestring);
	else if (fabs(v->valuedouble) > (double)WJ_MAX_EXACT)
		snprintf(buf, len, "about %.17g", v->valuedouble);	/* read inexactly */
	else
		snprintf(buf, len, "%.17g", v->valuedouble);
	return buf;
}

int wj_check_object(const struct wj_ctx *c, const cJSON *obj, const char *path,
		    const char *what, const char *const *allowed)
{
	char got[WJ_QUOTED_LEN];

	if (!cJSON_IsObject(obj))
		return wj_fail(c, path, "", "expected %s (an object), got %s", what,
			       wj_describe(obj, got, sizeof(got)));
	for (const cJSON *k = obj->child; k; k = k->next) {
		bool known = false;

		for (const char *const *a = allowed; *a; a++)
			if (!strcmp(*a, k->string))
				known = true;
		if (!known) {
			char list[256] = "";

			for (const char *const *a = allowed; *a; a++) {
				strncat(list, *a, sizeof(list) - strlen(list) - 1);
				if (a[1])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			return wj_fail(c, path, k->string,
				       "unknown key in %s (expected one of: %s)", what, list);
		}
		for (const cJSON *d = obj->child; d != k; d = d->next)
			if (!strcmp(d->string, k->string))
				return wj_fail(c, path, k->string, "duplicate key");
	}
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

int wj_check_unique_keys(const struct wj_ctx *c, const cJSON *v, const char *path)
{
	const cJSON **keys = NULL;
	char sub[256];
	size_t n = 0, i = 0;
	int ret = 0;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return 0;
	for (const cJSON *k = v->child; k; k = k->next)
		n++;
	if (cJSON_IsObject(v) && n > 1) {
		keys = malloc(n * sizeof(*keys));
		if (!keys)
			return wl_error_set(c->err, c->file, path, "out of memory");
		for (const cJSON *k = v->child; k; k = k->next)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_key);
		for (i = 1; i < n && !ret; i++)
			if (!strcmp(keys[i - 1]->string, keys[i]->string))
				ret = wj_fail(c, path, keys[i]->string, "duplicate key");
		free(keys);
	}
	i = 0;
	for (const cJSON *k = v->child; k && !ret; k = k->next, i++) {
		if (cJSON_IsObject(v))
			wj_path_key(sub, sizeof(sub), path, k->string);
		else
			wj_path_index(sub, sizeof(sub), path, i);
		ret = wj_check_unique_keys(c, k, sub);
	}
	return ret;
}

/* The item for key, or NULL; a missing required key is an error. */
static int get(const struct wj_ctx *c, const cJSON *obj, const char *path,
	       const char *key, bool required, const char *what, const cJSON **out)
{
	*out = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (*out)
		return 1;
	if (required)
		return wj_fail(c, path, key, "required: expected %s", what);
	return 0;
}

int wj_string(const struct wj_ctx *c, const cJSON *obj, const char *path,
	      const char *key, bool required, const char **out)
{
	const cJSON *v;
	char got[WJ_QUOTED_LEN];
	int r = get(c, obj, path, key, required, "a string", &v);

	if (r <= 0)
		return r;
	if (!cJSON_IsString(v))
		return wj_fail(c, path, key, "expected a string, got %s",
			       wj_describe(v, got, sizeof(got)));
	*out = v->valuestring;
	return 1;
}

int wj_bool(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, bool *out)
{
	const cJSON *v;
	char got[WJ_QUOTED_LEN];
	int r = get(c, obj, path, key, required, "true or false", &v);

	if (r <= 0)
		return r;
	if (!cJSON_IsBool(v))
		return wj_fail(c, path, key, "expected true or false, got %s",
			       wj_describe(v, got, sizeof(got)));
	*out = cJSON_IsTrue(v);
	return 1;
}

int wj_uint(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v;
	char got[WJ_QUOTED_LEN];
	int r = get(c, obj, path, key, required, "an integer", &v);
	double d;

	if (r <= 0)
		return r;
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)min || d > (double)max)
		return wj_fail(c, path, key, "expected an integer from %llu to %llu, got %s",
			       (unsigned long long)min, (unsigned long long)max,
			       wj_describe(v, got, sizeof(got)));
	*out = (uint64_t)d;
	return 1;
}

int wj_number(const struct wj_ctx *c, const cJSON *obj, const char *path,
	      const char *key, bool required, double min, bool min_open,
	      double max, double *out)
{
	const cJSON *v;
	char got[WJ_QUOTED_LEN];
	int r = get(c, obj, path, key, required, "a number", &v);

	if (r <= 0)
		return r;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble > max ||
	    (min_open ? v->valuedouble <= min : v->valuedouble < min))
		return wj_fail(c, path, key, "expected a number %s %g and <= %g, got %s",
			       min_open ? ">" : ">=", min, max,
			       wj_describe(v, got, sizeof(got)));
	*out = v->valuedouble;
	return 1;
}

int wj_size(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, uint64_t *out)
{
	const cJSON *v;
	char got[WJ_QUOTED_LEN];
	int r = get(c, obj, path, key, required, "a size", &v);

	if (r <= 0)
		return r;
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d == floor(d) && d >= 0 && d <= (double)WJ_MAX_EXACT) {
			*out = (uint64_t)d;
			return 1;
		}
	} else if (cJSON_IsString(v) && !wl_size_parse(v->valuestring, out)) {
		return 1;
	}
	return wj_fail(c, path, key,
		       "expected a size: bytes as an integer, or a string like \"4KiB\" (units B, KiB, MiB, GiB), got %s",
		       wj_describe(v, got, sizeof(got)));
}

int wj_enum(const struct wj_ctx *c, const cJSON *obj, const char *path,
	    const char *key, bool required, const char *const *names, size_t n,
	    int *out)
{
	const cJSON *v;
	char got[WJ_QUOTED_LEN], list[256] = "";
	int r;

	for (size_t i = 0; i < n; i++) {
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
		if (i + 1 < n)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	r = get(c, obj, path, key, required, list, &v);
	if (r <= 0)
		return r;
	if (cJSON_IsString(v))
		for (size_t i = 0; i < n; i++)
			if (!strcmp(v->valuestring, names[i])) {
				*out = (int)i;
				return 1;
			}
	return wj_fail(c, path, key, "expected one of %s, got %s", list,
		       wj_describe(v, got, sizeof(got)));
}

/* Append to a growing buffer; on failure the buffer is freed and NULL kept. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (!b->p)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *np = realloc(b->p, cap);

		if (!np) {
			free(b->p);
			b->p = NULL;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_indent(struct sbuf *b, int depth)
{
	sb_put(b, "\n", 1);
	for (int i = 0; i < depth; i++)
		sb_put(b, "  ", 2);
}

/* Integers of a tree (a copy) as raw digits: "%.0f" is exact where %.15g rounds. */
static void exact_integers(cJSON *v)
{
	for (cJSON *k = v->child; k; k = k->next)
		exact_integers(k);
	if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
	    fabs(v->valuedouble) < 0x1p64) {
		char digits[32];

		snprintf(digits, sizeof(digits), "%.0f", v->valuedouble + 0.0);	/* no "-0" */
		v->valuestring = strdup(digits);
		if (v->valuestring)
			v->type = cJSON_Raw;
	}
}

char *wj_print(const cJSON *v)
{
	cJSON *copy = cJSON_Duplicate(v, true);
	char *flat = NULL;
	struct sbuf b = { malloc(256), 0, 256 };

	if (copy) {
		exact_integers(copy);
		flat = cJSON_PrintUnformatted(copy);
		cJSON_Delete(copy);
	}
	bool in_str = false;
	int depth = 0;

	if (!flat || !b.p) {
		free(flat);
		free(b.p);
		return NULL;
	}
	b.p[0] = '\0';
	for (const char *c = flat; *c; c++) {
		if (in_str) {
			sb_put(&b, c, 1);
			if (*c == '\\' && c[1])
				sb_put(&b, ++c, 1);
			else if (*c == '"')
				in_str = false;
			continue;
		}
		switch (*c) {
		case '"':
			in_str = true;
			sb_put(&b, c, 1);
			break;
		case '{':
		case '[':
			sb_put(&b, c, 1);
			if (c[1] == (*c == '{' ? '}' : ']')) {
				sb_put(&b, ++c, 1);
				break;
			}
			sb_indent(&b, ++depth);
			break;
		case '}':
		case ']':
			sb_indent(&b, --depth);
			sb_put(&b, c, 1);
			break;
		case ',':
			sb_put(&b, c, 1);
			sb_indent(&b, depth);
			break;
		case ':':
			sb_put(&b, ": ", 2);
			break;
		default:
			sb_put(&b, c, 1);
		}
	}
	sb_put(&b, "\n", 1);
	free(flat);
	return b.p;
}

int wj_load_object(const char *path, cJSON **root, struct wl_error *err)
{
	struct wj_ctx c = { .file = path, .err = err };
	char *text, got[WJ_QUOTED_LEN];
	size_t len;

	*root = NULL;
	if (wj_read_file(path, &text, &len, err))
		return -1;
	*root = wj_parse(&c, text, len);
	free(text);
	if (!*root)
		return -1;
	if (!cJSON_IsObject(*root)) {
		wl_error_set(err, path, "", "expected a JSON object, got %s",
			     wj_describe(*root, got, sizeof(got)));
		cJSON_Delete(*root);
		*root = NULL;
		return -1;
	}
	return 0;
}

void wj_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

double wj_num_or_nan(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

void wj_add_num_or_null(cJSON *o, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}
