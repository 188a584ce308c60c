/*++
 * NAME
 *	seqset 3h
 * SUMMARY
 *	the seq numbers seen of one instance, as a set of intervals
 * DESCRIPTION
 *	tlspolicyd numbers the records of one instance 1, 2, 3, ... A
 *	missing number is a record lost between the milter and the file
 *	(syslog dropped it, a file was not given). Records can arrive out of
 *	order (several files, several relays), so the set keeps the sorted,
 *	disjoint, non-adjacent intervals of numbers seen: an in-order log
 *	is one interval whatever its length, and memory grows with the
 *	number of holes, never with the number of records or the span of
 *	the numbers (a forged seq=18446744073709551615 costs one interval,
 *	not a bitmap of that size). A number seen again is a duplicate (the
 *	same file given twice, or a relay that repeats).
 *
 *	Bounds: one struct seq_range (16 bytes) per interval, so 16 bytes
 *	per hole plus one; the array doubles as it grows (at most twice the
 *	intervals in use). An in-order log of any length costs 16 bytes; the
 *	worst, every other number of a forged or shuffled log, 16 bytes per
 *	record seen. tlspolicy-report keeps one set per instance for the seq
 *	table and, in its scan driver, one per instance and pass to count
 *	each (instance, seq) once; an insertion out of order moves the
 *	intervals after it (memmove), which only a log of many holes pays.
 *--*/
#ifndef REPORT_SEQSET_H
#define REPORT_SEQSET_H

#include <stddef.h>

struct seq_range {
    unsigned long long lo, hi; /* inclusive */
};

struct seqset {
    struct seq_range *v;
    size_t n, cap;
    unsigned long long records; /* distinct numbers seen */
    unsigned long long duplicates;
};

void seqset_init(struct seqset *);
/* seqset_add - note one number; 0, or -1 when memory runs out */
int seqset_add(struct seqset *, unsigned long long seq);
/* seqset_missing - numbers between the first and the last not seen */
unsigned long long seqset_missing(const struct seqset *);
void seqset_free(struct seqset *);

#endif
