/*
 * mapper.c - a program with a known sequence of mappings and touches, for
 * the tests of recording a command (virtuoso linux -- CMD): no stdio, no
 * malloc, so that what it maps is what it says.
 *
 *   A = mmap(8 MiB, rw, private anonymous), MADV_NOHUGEPAGE; its first
 *       4 MiB written a page at a time (1024 faults); its last 1 MiB unmapped
 *   B = mmap(3 MiB), MADV_NOHUGEPAGE; 16 of its pages read, one in 32 (the zero page)
 *   the heap grown by 1 MiB with brk, its 256 pages written
 *   C = mmap(4 MiB), no advice (Linux aligns it to 2 MiB: a multiple of it),
 *       one byte written in each of its two 2 MiB blocks: two faults, THPs
 *       when THP is "always", 4 KiB pages otherwise
 *
 * Exit status 0, or 1 when a call fails.
 */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB (1UL << 20)
#define PAGE 4096UL

int main(void)
{
	volatile char *a, *b, *c, *h;
	char *brk0;
	unsigned long sum = 0;

	a = mmap(NULL, 8 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || madvise((void *)a, 8 * MiB, MADV_NOHUGEPAGE))
		return 1;
	for (unsigned long off = 0; off < 4 * MiB; off += PAGE)
		a[off] = 1;
	if (munmap((char *)a + 7 * MiB, MiB))
		return 1;

	b = mmap(NULL, 3 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED || madvise((void *)b, 3 * MiB, MADV_NOHUGEPAGE))
		return 1;
	for (unsigned long i = 0; i < 16; i++)
		sum += (unsigned char)b[i * 32 * PAGE];

	brk0 = sbrk(0);
	if (brk0 == (void *)-1 || brk(brk0 + MiB))
		return 1;
	h = (volatile char *)brk0;
	for (unsigned long off = 0; off < MiB; off += PAGE)
		h[off] = 1;

	c = mmap(NULL, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return 1;
	c[0] = 1;
	c[2 * MiB] = 1;
	return sum ? 1 : 0;
}
