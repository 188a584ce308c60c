/*++
 * NAME
 *	histogram 3h
 * SUMMARY
 *	a latency histogram that many threads fill without a lock
 * DESCRIPTION
 *	Fixed bucket bounds (HISTOGRAM_BOUNDS, seconds, 100 us to 2.5 s:
 *	a decision takes tens of microseconds, a Redis timeout tens of
 *	milliseconds, an LMDB sync a few), one atomic counter per bucket and
 *	an atomic sum in nanoseconds. An observation is two relaxed atomic
 *	additions; a reader (the metrics page) may see a sum a few
 *	observations ahead of the counts, never counts that disagree with
 *	each other, because _count is rendered as the cumulative +Inf bucket.
 *	Memory: (HISTOGRAM_NBOUNDS + 2) * 8 bytes per histogram.
 *--*/
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/strbuf.h"

#define HISTOGRAM_NBOUNDS 14

struct histogram {
    _Atomic uint64_t counts[HISTOGRAM_NBOUNDS + 1]; /* per bucket, not cumulative; last: above all */
    _Atomic uint64_t sum_ns;
};

/* The upper bounds, in seconds, as Prometheus's "le" labels print them. */
extern const char *const histogram_le[HISTOGRAM_NBOUNDS];

/* histogram_observe - one duration in nanoseconds */
void histogram_observe(struct histogram *, uint64_t ns);

/*
 * histogram_render - NAME_bucket (cumulative, with le), NAME_sum (seconds)
 * and NAME_count lines in the Prometheus text format; labels is
 * 'a="x",b="y"' or "" (already escaped).
 */
void histogram_render(const struct histogram *, const char *name, const char *labels, struct strbuf *out);

/* histogram_now_ns - a monotonic clock for observations */
uint64_t histogram_now_ns(void);

#endif
