/*++
 * NAME
 *	seqset 3
 * SUMMARY
 *	the seq numbers seen of one instance, as a set of intervals
 * SYNOPSIS
 *	#include "util/seqset.h"
 *
 *	int	seqset_add(set, seq)
 *	unsigned long long seqset_missing(set)
 * DESCRIPTION
 *	See seqset.h. The common case, the next number of the last
 *	interval, is checked first and costs nothing; otherwise a binary
 *	search finds the place, and an insertion or a merge moves the
 *	intervals after it. The holes between intervals are the gaps:
 *	there are n - 1 of them.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "util/seqset.h"

/* seqset_init - an empty set */
void seqset_init(struct seqset *s)
{
    memset(s, 0, sizeof(*s));
}

/* find - index of the first interval with hi >= seq (n if none) */
static size_t find(const struct seqset *s, unsigned long long seq)
{
    size_t lo = 0, hi = s->n, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (s->v[mid].hi < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* insert - a new interval [seq, seq] at index i */
static int insert(struct seqset *s, size_t i, unsigned long long seq)
{
    struct seq_range *v;
    size_t cap;

    if (s->n == s->cap) {
        cap = s->cap ? s->cap * 2 : 4;
        if ((v = realloc(s->v, cap * sizeof(*v))) == NULL)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
    s->v[i].lo = s->v[i].hi = seq;
    s->n++;
    return 0;
}

/* seqset_add - note one number, merging neighbours */
int seqset_add(struct seqset *s, unsigned long long seq)
{
    size_t i;

    if (s->n > 0 && s->v[s->n - 1].hi + 1 == seq && seq != 0) {
        s->v[s->n - 1].hi = seq; /* the in-order case */
        s->records++;
        return 0;
    }
    i = find(s, seq);
    if (i < s->n && s->v[i].lo <= seq) {
        s->duplicates++;
        return 0;
    }
    s->records++;
    /* Now seq lies in the hole before interval i (or after the last). */
    if (i > 0 && s->v[i - 1].hi + 1 == seq) {
        s->v[i - 1].hi = seq;
        if (i < s->n && s->v[i].lo == seq + 1) {
            s->v[i - 1].hi = s->v[i].hi;
            memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
            s->n--;
        }
        return 0;
    }
    if (i < s->n && s->v[i].lo == seq + 1) {
        s->v[i].lo = seq;
        return 0;
    }
    return insert(s, i, seq);
}

/* seqset_missing - holes between the first and the last number */
unsigned long long seqset_missing(const struct seqset *s)
{
    unsigned long long missing = 0;
    size_t i;

    for (i = 1; i < s->n; i++)
        missing += s->v[i].lo - s->v[i - 1].hi - 1;
    return missing;
}

/* seqset_free - release the intervals */
void seqset_free(struct seqset *s)
{
    free(s->v);
    seqset_init(s);
}
