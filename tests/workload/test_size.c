/*
 * test_size.c - sizes as the format writes them; values computed by hand.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "workload/size.h"

struct size_case {
	char text[32];	/* inline: Criterion copies parameters into a new process */
	int ret;
	uint64_t bytes;
};

ParameterizedTestParameters(size, parses_units_exactly)
{
	static struct size_case cases[] = {
		{ "0B", 0, 0 },
		{ "4096B", 0, 4096 },
		{ "4KiB", 0, 4096 },
		{ "64MiB", 0, 67108864 },
		{ "1GiB", 0, 1073741824 },
		{ "256GiB", 0, 274877906944ULL },
		{ "8589934592GiB", 0, 1ULL << 63 },	/* 2^33 GiB: the limit */
		{ "8589934593GiB", -1, 0 },
		{ "99999999999999999999B", -1, 0 },	/* overflows 64 bits */
		{ "4kB", -1, 0 },
		{ "4KB", -1, 0 },
		{ "4 KiB", -1, 0 },
		{ "1.5MiB", -1, 0 },
		{ "-4KiB", -1, 0 },
		{ "KiB", -1, 0 },
		{ "4", -1, 0 },		/* a string needs a unit; bare bytes are JSON integers */
		{ "", -1, 0 },
		{ "4KiBs", -1, 0 },
	};
	return cr_make_param_array(struct size_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct size_case *c, size, parses_units_exactly)
{
	uint64_t v = 12345;

	cr_assert_eq(wl_size_parse(c->text, &v), c->ret, "\"%s\"", c->text);
	if (!c->ret)
		cr_assert_eq(v, c->bytes, "\"%s\" -> %llu", c->text, (unsigned long long)v);
}

Test(size, formats_with_the_largest_exact_unit)
{
	char buf[32];

	wl_size_format(4096, buf, sizeof(buf));
	cr_assert_str_eq(buf, "4KiB");
	wl_size_format(1 << 20, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1MiB");
	wl_size_format(3ULL << 30, buf, sizeof(buf));
	cr_assert_str_eq(buf, "3GiB");
	wl_size_format(1536 << 10, buf, sizeof(buf));
	cr_assert_str_eq(buf, "1536KiB");
	wl_size_format(12, buf, sizeof(buf));
	cr_assert_str_eq(buf, "12B");
	wl_size_format(0, buf, sizeof(buf));
	cr_assert_str_eq(buf, "0B");
}
