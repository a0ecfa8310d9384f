/*
 * size.h - sizes as the workload format writes them.
 *
 * A size is a non-negative integer number of bytes, or a string of decimal
 * digits followed by one unit: B, KiB, MiB or GiB ("4KiB", "64MiB"). Nothing
 * else: no spaces, no fractions, no decimal (kB/MB) units, so a size always
 * means exactly one number of bytes.
 */
#ifndef WORKLOAD_SIZE_H
#define WORKLOAD_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parse "64MiB" into *out; returns 0, or -1 if malformed or over 2^63. */
int wl_size_parse(const char *s, uint64_t *out);

/* Shortest exact spelling of 'bytes' with the largest unit that divides it. */
void wl_size_format(uint64_t bytes, char *buf, size_t len);

#endif
