/*
 * browser.h - what the tests that look at a rendered page share: a program
 * on PATH, running a browser with a time limit, and reading back the PNG
 * screenshot it takes (8-bit RGB or RGBA, as Chromium writes it; zlib).
 */
#ifndef TESTS_BROWSER_H
#define TESTS_BROWSER_H

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <zlib.h>

/* NAME's path on PATH, or NULL. */
static inline const char *which(const char *name)
{
	static char buf[512];
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	const char *found = NULL;

	copy = strdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", dir, name);
		if (!access(buf, X_OK))
			found = buf;
	}
	free(copy);
	return found;
}

/* Chromium's path, or the test is skipped saying how to get it. */
static inline const char *browser_or_skip(void)
{
	const char *b = which("chromium");

	if (!b)
		b = which("chromium-browser");
	if (!b)
		cr_skip_test("chromium is not installed (Debian: apt-get install chromium)");
	return b;
}

/* Run argv with stdout to 'out', stderr to 'errf', at most 'secs' seconds; exit status. */
static inline int run_timed(char *const argv[], const char *out, const char *errf, int secs)
{
	int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int efd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	pid_t pid;
	int status = -1;

	cr_assert(ofd >= 0 && efd >= 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		setpgid(0, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(ofd);
	close(efd);
	for (int i = 0; i < secs * 20; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		nanosleep(&tick, NULL);
	}
	kill(-pid, SIGKILL);		/* the browser and the children it started */
	waitpid(pid, &status, 0);
	return -1;
}

struct png {
	uint32_t w, h;
	uint8_t *px;			/* RGBA, w * h * 4 */
};

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decode an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes). */
static inline void png_read(const char *path, struct png *img)
{
	char *file = NULL;
	uint8_t *idat = NULL, *raw, *p;
	size_t idat_len = 0, bpp, stride;
	uLongf raw_len;
	int ctype = -1;
	FILE *f = fopen(path, "rb");
	long size;

	cr_assert_not_null(f, "no screenshot at %s", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	file = malloc((size_t)size);
	cr_assert_eq(fread(file, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	cr_assert_eq(memcmp(file, "\x89PNG\r\n\x1a\n", 8), 0, "not a PNG");
	for (p = (uint8_t *)file + 8; p + 12 <= (uint8_t *)file + size; ) {
		uint32_t len = be32(p);

		if (!memcmp(p + 4, "IHDR", 4)) {
			img->w = be32(p + 8);
			img->h = be32(p + 12);
			cr_assert_eq(p[16], 8, "bit depth %d", p[16]);
			ctype = p[17];
			cr_assert(ctype == 2 || ctype == 6, "colour type %d", ctype);
			cr_assert_eq(p[20], 0, "interlaced");
		} else if (!memcmp(p + 4, "IDAT", 4)) {
			idat = realloc(idat, idat_len + len);
			memcpy(idat + idat_len, p + 8, len);
			idat_len += len;
		}
		p += 12 + len;
	}
	cr_assert(ctype >= 0 && idat);
	bpp = ctype == 6 ? 4 : 3;
	stride = img->w * bpp;
	raw_len = (uLongf)(img->h * (stride + 1));
	raw = malloc(raw_len);
	cr_assert_eq(uncompress(raw, &raw_len, idat, idat_len), Z_OK);
	cr_assert_eq(raw_len, img->h * (stride + 1));
	img->px = malloc((size_t)img->w * img->h * 4);
	for (uint32_t y = 0; y < img->h; y++) {
		uint8_t *row = raw + y * (stride + 1) + 1, *up = y ? row - (stride + 1) : NULL;
		int filter = row[-1];

		for (size_t x = 0; x < stride; x++) {
			int a = x >= bpp ? row[x - bpp] : 0, b = up ? up[x] : 0;
			int c = x >= bpp && up ? up[x - bpp] : 0;

			switch (filter) {
			case 1: row[x] += a; break;
			case 2: row[x] += b; break;
			case 3: row[x] += (a + b) / 2; break;
			case 4: row[x] += paeth(a, b, c); break;
			}
		}
		for (uint32_t x = 0; x < img->w; x++) {
			memcpy(img->px + ((size_t)y * img->w + x) * 4, row + x * bpp, 3);
			img->px[((size_t)y * img->w + x) * 4 + 3] = bpp == 4 ? row[x * bpp + 3] : 255;
		}
	}
	free(raw);
	free(idat);
	free(file);
}

#endif
