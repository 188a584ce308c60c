/*++
 * NAME
 *	percentile 3
 * SUMMARY
 *	latency percentiles of the bench tools (nearest rank)
 * SYNOPSIS
 *	#include "percentile.h"
 *
 *	void	pct_sort(v, n)
 *	double	pct(v, n, p)
 * DESCRIPTION
 *	See percentile.h.
 *--*/

/* System library. */
#include <stdlib.h>

/* Application. */
#include "percentile.h"

/* cmp_double - qsort order */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* pct_sort - sort v[0..n) ascending */
void pct_sort(double *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_double);
}

/* pct - the P-th percentile (nearest rank) of sorted v */
double pct(const double *v, size_t n, double p)
{
    size_t k;

    if (n == 0)
        return 0;
    k = (size_t) (p / 100.0 * (double) n + 0.999999);
    if (k > n)
        k = n;
    return v[(k ? k : 1) - 1];
}
