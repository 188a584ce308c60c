/*++
 * NAME
 *	histogram 3
 * SUMMARY
 *	a latency histogram that many threads fill without a lock
 * SYNOPSIS
 *	#include "util/histogram.h"
 *
 *	void	histogram_observe(h, ns)
 *	void	histogram_render(h, name, labels, out)
 * DESCRIPTION
 *	See histogram.h. The bounds are kept in nanoseconds for the
 *	comparison and as text for the exposition, so that no float is
 *	printed (and rounded) on the way to a label.
 *--*/

/* System library. */
#include <inttypes.h>
#include <time.h>

/* Application. */
#include "util/histogram.h"

static const uint64_t bound_ns[HISTOGRAM_NBOUNDS] = {
    100000,   250000,   500000,    1000000,   2500000,   5000000,    10000000,
    25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000,
};

const char *const histogram_le[HISTOGRAM_NBOUNDS] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025",  "0.05",    "0.1",    "0.25",  "0.5",    "1",     "2.5",
};

/* histogram_observe - one duration in nanoseconds */
void histogram_observe(struct histogram *h, uint64_t ns)
{
    size_t i = 0;

    while (i < HISTOGRAM_NBOUNDS && ns > bound_ns[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

/* bucket_line - NAME_bucket{labels,le="LE"} N */
static void bucket_line(const char *name, const char *labels, const char *le, uint64_t n, struct strbuf *out)
{
    strbuf_printf(out, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name, labels, *labels ? "," : "", le, n);
}

/* histogram_render - the buckets, sum and count of h */
void histogram_render(const struct histogram *h, const char *name, const char *labels, struct strbuf *out)
{
    uint64_t cum = 0, sum = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
    const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";

    for (size_t i = 0; i < HISTOGRAM_NBOUNDS; i++) {
        cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
        bucket_line(name, labels, histogram_le[i], cum, out);
    }
    cum += atomic_load_explicit(&h->counts[HISTOGRAM_NBOUNDS], memory_order_relaxed);
    bucket_line(name, labels, "+Inf", cum, out);
    strbuf_printf(out, "%s_sum%s%s%s %" PRIu64 ".%09" PRIu64 "\n", name, open, labels, close,
                  sum / 1000000000, sum % 1000000000);
    strbuf_printf(out, "%s_count%s%s%s %" PRIu64 "\n", name, open, labels, close, cum);
}

/* histogram_now_ns - a monotonic clock for observations */
uint64_t histogram_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}
