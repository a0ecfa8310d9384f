/*
 * distance.c - how far apart two numbers, samples or histograms are
 * (compare.h, "distances").
 */
#include <math.h>

#include "compare/compare.h"
#include "workload/side.h"

double rel_error(double linux_value, double sim_value)
{
	return fabs(sim_value - linux_value) / fmax(linux_value, 1.0);
}

double ratio_error(double linux_value, double sim_value)
{
	if (linux_value == sim_value)
		return 0;
	if (linux_value <= 0 || sim_value <= 0)
		return INFINITY;
	return fmax(sim_value / linux_value, linux_value / sim_value) - 1;
}

double band_error(double lo, double hi, double sim_value, double (*err)(double, double))
{
	if (sim_value < lo)
		return err(lo, sim_value);
	if (sim_value > hi)
		return err(hi, sim_value);
	return 0;
}

uint64_t sample_quantile(const uint64_t *sorted, size_t n, double q)
{
	return side_quantile(sorted, n, q);	/* the sides' own definition */
}

/*
 * X^-1 is x[i] on ((i)/n, (i+1)/n], Y^-1 is y[j] on (j/m, (j+1)/m]. In units
 * of 1/(n*m) those steps end at (i+1)*m and (j+1)*n, integers: walk both
 * step lists in order, weighting |x[i] - y[j]| by the length of each piece
 * where both are constant. Where n*m would not fit 64 bits (not a sample
 * size this project sees) the same walk runs on fractions in long double.
 */
double wasserstein1(const uint64_t *x, size_t n, const uint64_t *y, size_t m)
{
	long double sum = 0;
	size_t i = 0, j = 0;

	if (!n || !m)
		return NAN;
	if ((uint64_t)n <= UINT64_MAX / (uint64_t)m) {
		uint64_t at = 0;

		while (i < n && j < m) {
			uint64_t end_x = (uint64_t)(i + 1) * m, end_y = (uint64_t)(j + 1) * n;
			uint64_t end = end_x < end_y ? end_x : end_y;
			uint64_t d = x[i] > y[j] ? x[i] - y[j] : y[j] - x[i];

			sum += (long double)d * (long double)(end - at);
			at = end;
			i += end == end_x;
			j += end == end_y;
		}
		return (double)(sum / ((long double)n * (long double)m));
	}
	{
		long double at = 0;

		while (i < n && j < m) {
			long double end_x = (long double)(i + 1) / n, end_y = (long double)(j + 1) / m;
			long double end = end_x < end_y ? end_x : end_y;
			uint64_t d = x[i] > y[j] ? x[i] - y[j] : y[j] - x[i];

			sum += (long double)d * (end - at);
			at = end;
			i += end == end_x;
			j += end == end_y;
		}
		return (double)sum;
	}
}

double tv_distance(const uint64_t *p, const uint64_t *q, size_t n)
{
	long double tp = 0, tq = 0, sum = 0;

	for (size_t i = 0; i < n; i++) {
		tp += p[i];
		tq += q[i];
	}
	if (tp == 0 && tq == 0)
		return 0;
	if (tp == 0 || tq == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		sum += fabsl(p[i] / tp - q[i] / tq);
	return (double)(sum / 2);
}

double pearson_log_r(const double *x, const double *y, size_t n)
{
	long double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;

	if (n < 2)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (!(x[i] > 0) || !(y[i] > 0))
			return NAN;
		mx += logl(x[i]);
		my += logl(y[i]);
	}
	mx /= n;
	my /= n;
	for (size_t i = 0; i < n; i++) {
		long double dx = logl(x[i]) - mx, dy = logl(y[i]) - my;

		sxy += dx * dy;
		sxx += dx * dx;
		syy += dy * dy;
	}
	if (sxx == 0 || syy == 0)
		return NAN;
	return (double)(sxy / sqrtl(sxx * syy));
}

double kendall_tau_b(const double *x, const double *y, size_t n)
{
	long double conc = 0, disc = 0, tx = 0, ty = 0;

	if (n < 2)
		return NAN;
	/* the suites are tens of workloads: every pair */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double dx = x[i] - x[j], dy = y[i] - y[j];

			if (dx == 0 && dy == 0)
				continue;
			if (dx == 0)
				tx++;
			else if (dy == 0)
				ty++;
			else if ((dx > 0) == (dy > 0))
				conc++;
			else
				disc++;
		}
	if (conc + disc + tx == 0 || conc + disc + ty == 0)
		return NAN;
	return (double)((conc - disc) / sqrtl((conc + disc + tx) * (conc + disc + ty)));
}
