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

#include <stdbool.h>
#include <stdio.h>

#include "util/map.h"
#include "logread/prefix.h"
#include "record/recparse.h"
#include "util/strbuf.h"

struct diag;
struct json_object;

/* What TLS facts imply, in output order. */
enum diag_imp {
    DIAG_IMP_OLD_TLS, DIAG_IMP_RSA_AUTH, DIAG_IMP_RSA_KX, DIAG_IMP_CBC,
    DIAG_IMP_LEGACY, /* only 3DES/RC4: suites OpenSSL 3 builds may lack */
    DIAG_IMP_N
};

struct diag_implies {
    bool imp[DIAG_IMP_N];
    const char *unknown; /* a cipher OpenSSL does not know (a key of the map), or NULL */
};

/* Every suite the linked OpenSSL knows, to look ciphers up in. */
struct diag_suites;

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

/* diag_suites_open - OpenSSL's suites; NULL when memory runs out */
struct diag_suites *diag_suites_open(void);
void diag_suites_close(struct diag_suites *);

/* diag_rsa_auth - the suite called name is RSA-authenticated (as far as
   OpenSSL or the table of suites it may lack knows) */
bool diag_rsa_auth(const struct diag_suites *, const char *name);

/* diag_implies - what every version and every cipher (the keys of the
   maps) have in common; nothing about ciphers when one is unknown */
void diag_implies(const struct diag_suites *, const struct map *versions, const struct map *ciphers,
                  struct diag_implies *);

/* diag_imp_text - one implication as a sentence */
const char *diag_imp_text(enum diag_imp);

/* diag_unknown_text - the sentence for an unknown cipher, in sb */
const char *diag_unknown_text(struct strbuf *, const char *cipher);

#endif
