/*++
 * NAME
 *	percentile 3h
 * SUMMARY
 *	latency percentiles of the bench tools (nearest rank)
 * DESCRIPTION
 *	One definition of "p99" for every load generator under bench/, so
 *	that their figures compare: sort the samples once, then read any
 *	percentile by nearest rank (the smallest sample with at least P %
 *	of the samples at or below it).
 *--*/
#ifndef PERCENTILE_H
#define PERCENTILE_H

#include <stddef.h>

/* pct_sort - sort v[0..n) ascending, for pct() */
void pct_sort(double *v, size_t n);

/* pct - the P-th percentile (0 < P <= 100, nearest rank) of sorted v; 0 when n is 0 */
double pct(const double *v, size_t n, double p);

#endif
