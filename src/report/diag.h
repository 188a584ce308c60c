/*++
 * NAME
 *	diag 3h
 * SUMMARY
 *	diagnostics: clients whose sessions went from TLS to plaintext
 * DESCRIPTION
 *	diag_record() follows the decision records of the period in the
 *	order read, per client (the client domain of agg: the registered
 *	domain of client_name, else client_addr). Until a client's first
 *	plaintext decision after one over TLS it keeps the last TLS
 *	sighting (time, tls_version, cipher) and the versions and ciphers
 *	seen over TLS; from that change on those facts stay frozen, and
 *	the plaintext decisions and the refused (reject, tempfail) ones
 *	among them are counted.
 *
 *	The writers look each cipher seen up in OpenSSL itself and say
 *	what the facts imply: only RSA authentication, only static RSA key
 *	exchange, only non-AEAD (CBC/3DES) suites, only TLS 1.0/1.1.
 *
 *	Memory is proportional to the number of clients seen over TLS and
 *	the distinct versions and ciphers of each; never to the lines.
 *--*/
#ifndef REPORT_DIAG_H
#define REPORT_DIAG_H

#include <stdio.h>

#include "report/prefix.h"
#include "report/recparse.h"

struct diag;
struct json_object;

/* diag_new - empty diagnostics; NULL when memory runs out */
struct diag *diag_new(void);

/* diag_record - one record of the period; d may be NULL */
void diag_record(struct diag *, const struct rec *, const struct prefix *);

/* diag_write - the "TLS to plaintext" text section, nothing when no
   client changed; 0, or -1 when memory ran out */
int diag_write(FILE *, const struct diag *);

/* diag_json - the "diagnostics" array; NULL when memory runs out */
struct json_object *diag_json(const struct diag *);

void diag_free(struct diag *);

#endif
