/*
 * zipf.c - Zipf(s) over 1..n by rejection-inversion.
 *
 * W. Hoermann and G. Derflinger, "Rejection-inversion to generate variates
 * from monotone discrete distributions", ACM TOMACS 6(3), 1996; the same
 * formulation as Apache Commons RNG's RejectionInversionZipfSampler.
 *
 * The hat function is h(x) = x^-s, whose integral H and its inverse are
 * closed-form. A uniform u in (H(1.5) - 1, H(n + 0.5)] is inverted to x and
 * rounded to k; k is accepted when u falls under the part of the hat that
 * belongs to k. The acceptance rate is high for every s > 0, so a sample
 * costs O(1) (a log and an exp or two) and needs no table.
 *
 * H is written with helper functions that stay accurate as s -> 1, where the
 * textbook form (x^(1-s) - 1) / (1 - s) cancels catastrophically and, at
 * s == 1, is 0/0 instead of log(x).
 */
#include <math.h>

#include "workload/gen.h"

/* log1p(x) / x, continuous at 0. */
static double helper1(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x) / x, continuous at 0. */
static double helper2(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

/* H(x) = (x^(1-s) - 1) / (1 - s), or log(x) when s == 1. */
static double h_integral(double s, double x)
{
	double log_x = log(x);

	return helper2((1 - s) * log_x) * log_x;
}

/* h(x) = x^-s */
static double h(double s, double x)
{
	return exp(-s * log(x));
}

/* The inverse of H. */
static double h_integral_inverse(double s, double x)
{
	double t = x * (1 - s);

	if (t < -1)	/* only rounding can push it there; log1p(-1) = -inf */
		t = -1;
	return exp(helper1(t) * x);
}

void wl_zipf_init(struct wl_zipf *z, uint64_t n, double s)
{
	z->n = n;
	z->s = s;
	z->h_x1 = h_integral(s, 1.5) - 1;
	z->h_n = h_integral(s, (double)n + 0.5);
	/* Any k with k - x <= t is accepted without evaluating H(k + 0.5). */
	z->t = 2 - h_integral_inverse(s, h_integral(s, 2.5) - h(s, 2));
}

uint64_t wl_zipf_sample(const struct wl_zipf *z, struct wl_rng *rng)
{
	double nd = (double)z->n;

	for (;;) {
		double u = z->h_n + wl_rng_double(rng) * (z->h_x1 - z->h_n);
		double x = h_integral_inverse(z->s, u);
		double kd = floor(x + 0.5);
		uint64_t k;

		/* Clamp in double: x may round outside [1, n]. */
		if (kd < 1)
			kd = 1;
		else if (kd > nd)
			kd = nd;
		k = (uint64_t)kd;
		if (k > z->n)	/* nd may round above n when n > 2^53 */
			k = z->n;
		if (kd - x <= z->t ||
		    u >= h_integral(z->s, kd + 0.5) - h(z->s, kd))
			return k;
	}
}
