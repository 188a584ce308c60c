/*++
 * NAME
 *	fromrec 3h
 * SUMMARY
 *	a client profile from what a tlspolicyd record says was negotiated
 * DESCRIPTION
 *	A record names one negotiated version and suite; the profile made
 *	from it offers exactly those. See tlspolicy-probe(1), PROFILES FROM
 *	RECORDS, for why that is a conservative profile.
 *--*/
#ifndef PROBE_FROMREC_H
#define PROBE_FROMREC_H

/* System library. */
#include <stdio.h>

/* Application. */
#include "probe/profiles.h"

#define FROMREC_HOST_MAX 253 /* a DNS name */
#define FROMREC_ADDR_MAX 64  /* an IPv6 address with a zone */

/* What a record says about one sender; every field safe to print in a libconfig string. */
struct fromrec {
    char name[PROFILES_NAME_MAX + 1]; /* from-CLIENT, cut to fit */
    char client[FROMREC_HOST_MAX + FROMREC_ADDR_MAX + 4]; /* "NAME [ADDR]", "ADDR" or "" */
    enum tls_version version;
    char cipher[64];   /* OpenSSL's name */
    char recorded[64]; /* as the record wrote it (OpenSSL or IANA name) */
};

/*
 * fromrec_parse - the facts of one line: a tlspolicyd record (kv or json,
 * with or without a syslog prefix) or bare "tls_version=... cipher=..."
 * fields. Returns 0, 1 when the line shows no TLS (plaintext, or not a
 * record), -1 with why when it cannot become a profile.
 */
int fromrec_parse(const char *line, struct fromrec *f, char *why, size_t len);

/* fromrec_print - the profile as a libconfig group to paste into the profiles list */
void fromrec_print(FILE *fp, const struct fromrec *f);


#endif
