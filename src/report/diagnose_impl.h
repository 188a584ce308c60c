/*++
 * NAME
 *	diagnose_impl 3h
 * SUMMARY
 *	--diagnose internals shared by its pass one, failure and pass two files
 * DESCRIPTION
 *	See diagnose.c for how the maps are used across the passes. Calls
 *	go one way: diagnose.c (pass one, the break) calls diagnose_fail.c
 *	(failure lines) and diagnose_rescan.c (pass two); those call
 *	diagnose_common.c; diagnose_out.c (the writers) calls diagnose.c.
 *--*/
#ifndef REPORT_DIAGNOSE_IMPL_H
#define REPORT_DIAGNOSE_IMPL_H

#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "logread/mtafail.h"
#include "logread/prefix.h"
#include "record/recparse.h"
#include "report/diagnose.h"
#include "report/transitions.h"
#include "util/map.h"
#include "util/seqset.h"

/* The failures of one fail key (see diagnose.h) in pass one, then of one
   client while diagnose_resolve() joins them. Small, without maps until a
   second reason shows up: hostile input can make one per line. */
struct fail {
    char *name_key;                /* client key of the first name the MTA vouched for, or NULL */
    unsigned long long failures;   /* handshake failures */
    unsigned long long addr_n;     /* of them from addr */
    unsigned long long closed;     /* closed after STARTTLS without a failure */
    time_t first_fail, last_fail, reason_time, first_closed;
    enum mtafail_mta first_mta;
    int rank; /* of reason: see reason_rank() */
    bool has_tls;                  /* resolve: the client's last decision over TLS */
    time_t tls_max;
    char first_host[MTAFAIL_HOST_MAX + 1];
    char first_addr[MTAFAIL_ADDR_MAX + 1];
    char addr[MTAFAIL_ADDR_MAX + 1]; /* the first address read */
    char first_reason[MTAFAIL_REASON_MAX + 1];
    char reason[MTAFAIL_REASON_MAX + 1]; /* the most telling one, see reason_rank() */
    struct map *reasons;                 /* NULL while every failure had first_reason */
};

/* What pass one keeps of every client's decisions. */
struct seen {
    bool has_tls, has_plain;
    time_t tls_max, plain_max; /* the last decision over TLS, in plaintext */
};

struct diagnose {
    struct map clients; /* key -> struct diagnose_client (after pass one) */
    struct map seen;    /* key -> struct seen (pass one) */
    struct map fails;   /* fail key -> struct fail (pass one) */
    struct map named;   /* address -> client key (char *) or AMBIGUOUS (pass one) */
    struct mtafail_track *track;
    bool has_since, has_until; /* the period, for the failure lines */
    time_t since, until;
    struct diagnose_counts n; /* to look ciphers up in, opened on first use */
    struct map rsa_memo;        /* cipher -> count 1: not RSA-authenticated, 2: it is */
    struct seqset rsa_minutes;  /* minutes (from 1970, + 1) with a decision over
                                   an RSA-authenticated suite: bounded by the
                                   period's length, never by the lines */
};

#define IS(s, lit) ((s) != NULL && strcmp((s), (lit)) == 0)

/* diagnose_common.c, under every other part. diagnose_bump - add n to
   key in a map of at most max keys (then to "(other)"); 0, or -1 on OOM.
   diagnose_record_key - the client key of a record, an address in
   inet_ntop() form; NULL when it has none. buf holds DOMAIN_MAX + 1
   bytes, addr MTAFAIL_ADDR_MAX + 1. */
int diagnose_bump(struct map *, const char *key, unsigned long long n, size_t max);
const char *diagnose_record_key(const struct rec *, char *buf, char *addr);

/* diagnose_fail.c: the failure lines of pass one, for diagnose.c.
   diagnose_line - a line that is not a record; diagnose_file_end - no
   failure waits across inputs; diagnose_on_failure - the joiner's
   callback; diagnose_merge_fail - add src's failures to dst's;
   diagnose_fail_free - map_free()'s callback for struct fail. */
void diagnose_line(struct diagnose *, const struct prefix *);
void diagnose_file_end(struct diagnose *);
void diagnose_on_failure(void *ctx, const struct mtafail *);
int diagnose_merge_fail(struct fail *dst, const struct fail *src);
void diagnose_fail_free(void *);

/* diagnose_rescan.c: the scan consumer of pass two, for diagnose.c */
void diagnose_rescan_consumer(struct diagnose *, struct scan_consumer *);

#endif
