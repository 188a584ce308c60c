/*++
 * NAME
 *	diagnose 3h
 * SUMMARY
 *	--diagnose: MTA handshake failures joined with the records, per client
 * DESCRIPTION
 *	A client is the client domain of agg_client_key() (the registered
 *	domain of a verified client_name, else client_addr, an address in
 *	inet_ntop() form). A failure (see mtafail.h) is keyed the same way
 *	from the name the MTA vouches for and its address; but when records
 *	name the failure's address under one client, the failure is that
 *	client's: the address is the same connection's source, the name may
 *	have failed to verify for one of them.
 *
 *	Events are ordered by their time stamps, not by the order read, so
 *	files of several hosts may come in any order. That cannot be done
 *	in one pass with memory bounded by the clients: which records come
 *	after a client's first failure is only known once every failure is
 *	read. So the inputs are read twice, by two scan consumers (see
 *	scan.h). Pass one reads the failures, the time of each client's
 *	last decision over TLS, and which client each named address
 *	belongs to. At its end, each client's break is fixed: its first
 *	handshake failure, or, for a client without any, its last decision
 *	over TLS. Pass two places each decision record of such a client
 *	before or after its break: the TLS facts before it (last
 *	sighting, versions and ciphers), the decisions over TLS, in
 *	plaintext, rejected and deferred from it on ("at or after" the
 *	failure's second; after the last TLS decision).
 *
 *	Lines without a time stamp cannot be placed in time: they are left
 *	out of the diagnosis and counted. --since and --until apply as to
 *	the report.
 *
 *	Failures without a name the MTA vouches for are keyed by IPv4
 *	address or IPv6 /64 (as tlspolicyd's fallback keys), so one host
 *	cannot make a key per connection from its /64. Memory is
 *	proportional to those keys and the clients (a few hundred bytes
 *	each; a timeline only for the DIAGNOSE_CLIENTS_MAX clients shown)
 *	and to the distinct versions, ciphers, reasons (at most
 *	DIAGNOSE_REASONS_MAX each) and failure addresses (at most
 *	DIAGNOSE_ADDRS_MAX kept) of those shown; never to the lines.
 *--*/
#ifndef REPORT_DIAGNOSE_H
#define REPORT_DIAGNOSE_H

#include <stdbool.h>
#include <time.h>

#include "util/map.h"
#include "logread/mtafail.h"

#define DIAGNOSE_REASONS_MAX 8 /* distinct reasons per client, then "(other)" */
#define DIAGNOSE_RCPTS_MAX 8   /* refused recipients named per client, then "(other)" */
#define DIAGNOSE_ADDRS_MAX   8 /* failure addresses listed per client */
#define DIAGNOSE_CLIENTS_MAX 100 /* clients shown, most failures first */

/* One client's timeline, as the writers see it. */
struct diagnose_client {
    const char *key;
    /* Handshake failures (with a time stamp). */
    unsigned long long failures;
    time_t first_fail, last_fail;
    enum mtafail_mta first_mta;
    char first_host[MTAFAIL_HOST_MAX + 1];
    char first_addr[MTAFAIL_ADDR_MAX + 1];
    char first_reason[MTAFAIL_REASON_MAX + 1]; /* "" when none was logged */
    time_t reason_time;                        /* the failure with the most telling reason */
    char reason[MTAFAIL_REASON_MAX + 1];       /* its reason; "" when none had one */
    unsigned long long closed;                 /* closed after STARTTLS, no handshake failure */
    time_t first_closed;
    struct map reasons;                        /* reason ("" none logged) -> failures */
    struct map addrs;                          /* failure addresses, at most DIAGNOSE_ADDRS_MAX */
    unsigned long long more_addrs;             /* failures from addresses not kept */
    /* Decision records: before the break ... */
    bool has_tls;   /* any decision over TLS */
    time_t tls_max; /* the last one */
    bool tls_before;
    time_t last_tls;        /* the last decision over TLS before the break */
    char *version, *cipher; /* its facts */
    struct map versions, ciphers;
    /* ... and from the break on. */
    unsigned long long tls_after, plain_after, rejected_after, deferred_after;
    time_t last_tls_after, first_plain_after;
    struct map
        refused; /* rcpt_domain -> plaintext recipients rejected or deferred, at most DIAGNOSE_REASONS_MAX */
    struct map refused_rcpts; /* rcpt (as logged) -> the same, at most DIAGNOSE_RCPTS_MAX */
    /* Some client's decision over an RSA-authenticated suite in a minute
       between this client's first and last failure: while it kept failing,
       an RSA certificate was still offered somewhere. */
    bool rsa_after;
};

struct diagnose;
struct report_section;
struct scan_consumer;

/* diagnose_new - nothing read yet; NULL when memory runs out */
struct diagnose *diagnose_new(void);
/* diagnose_period - the report's --since/--until, for the failure lines */
void diagnose_period(struct diagnose *, bool has_since, time_t since, bool has_until, time_t until);

/* diagnose_consumers - the scan consumers of pass one (failures, the
   last decisions; at its end, each client's break) and of pass two
   (each client's decisions before and after its break) */
void diagnose_consumers(struct diagnose *, struct scan_consumer *one, struct scan_consumer *two);

/* diagnose_clients - the clients to show, sorted by key, in a new array
   *out of *n (NULL when none); 0, or -1 when memory runs out */
int diagnose_clients(const struct diagnose *, const struct diagnose_client ***out, size_t *n);

/* Counts for the writers. */
struct diagnose_counts {
    unsigned long long failures;       /* read, with a time stamp, in the period */
    unsigned long long bad_lines;      /* started like a failure, refused */
    unsigned long long untimed_fail;   /* failures without a time stamp */
    unsigned long long untimed_record; /* decision records without a time stamp */
    unsigned long long closed;         /* connections closed after STARTTLS, with a time stamp */
    unsigned long long not_shown;      /* clients beyond DIAGNOSE_CLIENTS_MAX */
    int oom;
};
void diagnose_counts(const struct diagnose *, struct diagnose_counts *);
/* diagnose_oom - memory ran out: the diagnosis is incomplete */
bool diagnose_oom(const struct diagnose *);

/* diagnose_section - the report's section (diagnose_out.c): the text
   "Diagnosis", the json "diagnosis_input" and "diagnosis", the html
   diagnosis */
void diagnose_section(const struct diagnose *, struct report_section *);

void diagnose_free(struct diagnose *);

#endif
