/*++
 * NAME
 *	agg 3h
 * SUMMARY
 *	aggregation of records into groups, totals and seq sets
 * DESCRIPTION
 *	One struct agg holds the report's tables: a counter set per
 *	group (by recipient domain, sender domain, client domain or day),
 *	the same counters over all records, the seq set of each instance,
 *	and the input counts with the first few malformed lines. Memory is
 *	proportional to the number of groups, instances, distinct versions
 *	and ciphers, and seq holes; never to the number of lines.
 *
 *	Decision records count per group as recipients, each (instance,
 *	seq) once: the driver tells a copy as a duplicate, counted apart. Session records
 *	carry no recipient or sender, so they count in a group only when
 *	grouping by client domain or day; otherwise in the totals alone.
 *
 *	agg_consumer() makes it a consumer of the scan driver (scan.h);
 *	the writers of the tables are out_*.c.
 *--*/
#ifndef REPORT_AGG_H
#define REPORT_AGG_H

#include "util/map.h"
#include "record/recparse.h"
#include "util/seqset.h"

struct scan_consumer;

#define AGG_MALFORMED_SHOW 10
#define AGG_WHY_MAX        64

enum agg_by { AGG_BY_RCPT_DOMAIN, AGG_BY_SENDER_DOMAIN, AGG_BY_CLIENT_DOMAIN, AGG_BY_DAY };

struct agg_counts {
    unsigned long long recipients; /* decision records */
    unsigned long long tls;        /* of them, tls_version != none */
    unsigned long long rejected;
    unsigned long long deferred; /* action=tempfail */
    unsigned long long downgrades;
    unsigned long long downgrade_accepted;
    unsigned long long would_reject; /* mode=monitor, would=reject|tempfail */
    unsigned long long exempt;
    unsigned long long sessions;  /* session records */
    unsigned long long suspected; /* of them, suspected_tls_failure=yes */
    struct map versions;          /* tls_version -> recipients */
    struct map ciphers;           /* cipher -> recipients over TLS */
};

struct agg_malformed {
    char *file;
    unsigned long line;
    char why[AGG_WHY_MAX];
};

struct agg {
    enum agg_by by;
    struct map groups; /* key -> struct agg_counts */
    struct agg_counts total;
    struct map instances; /* instance -> struct seqset */
    unsigned long long files, lines, decisions, sessions;
    unsigned long long malformed, untimed, out_of_period;
    unsigned long long foreign;    /* record lines of another program (syslog tag) */
    unsigned long long duplicates; /* records whose (instance, seq) came before: counted once */
    struct agg_malformed shown[AGG_MALFORMED_SHOW];
    size_t nshown;
    int oom;
};

void agg_init(struct agg *, enum agg_by);
/* agg_consumer - the scan consumer (pass one) that counts into a: files
   and lines read, malformed lines (the first few kept), foreign lines,
   the seq of every record, duplicates, the records left out of the
   period, and each record of the period in its group and the totals */
void agg_consumer(struct agg *, struct scan_consumer *);
/* agg_client_key - the client domain of a record: the registered domain
   of client_name when that is a name, else client_addr (may be NULL);
   buf holds DOMAIN_MAX + 1 bytes */
const char *agg_client_key(const struct rec *, char *buf, size_t len);
/* agg_by_name - "rcpt_domain" ... -> enum; -1 if unknown */
int agg_by_name(const char *);
const char *agg_by_label(enum agg_by);
/* agg_tls_share - tls / recipients, or -1 without recipients */
double agg_tls_share(const struct agg_counts *);
void agg_free(struct agg *);

#endif
