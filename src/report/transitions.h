/*++
 * NAME
 *	transitions 3h
 * SUMMARY
 *	clients whose sessions went from TLS to plaintext
 * DESCRIPTION
 *	Not --diagnose: the short account of the plain report (the json
 *	report's "diagnostics"), from the records alone, in one pass. With
 *	--diagnose its text gives way to the diagnosis, which tells the
 *	same story from the MTA's logs as well.
 *
 *	The consumer follows the decision records of the period in the
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
#ifndef REPORT_TRANSITIONS_H
#define REPORT_TRANSITIONS_H

#include <stdbool.h>

#include "util/map.h"
#include "logread/prefix.h"
#include "record/recparse.h"
#include "util/strbuf.h"

struct transitions;
struct report_section;
struct scan_consumer;

#define TRANSITIONS_TIME_MAX 32

/* One client's history, as the writers see it. */
struct transitions_client {
    char last_tls[TRANSITIONS_TIME_MAX]; /* last TLS sighting before the change */
    char *version, *cipher;              /* at that sighting */
    struct map versions;                 /* seen over TLS before the change */
    struct map ciphers;
    char first_plain[TRANSITIONS_TIME_MAX]; /* the change; "" until then */
    unsigned long long plaintext, refused;
};

/* What TLS facts imply, in output order. */
enum transitions_imp {
    TRANSITIONS_IMP_OLD_TLS,
    TRANSITIONS_IMP_RSA_AUTH,
    TRANSITIONS_IMP_RSA_KX,
    TRANSITIONS_IMP_CBC,
    TRANSITIONS_IMP_LEGACY, /* only 3DES/RC4: suites OpenSSL 3 builds may lack */
    TRANSITIONS_IMP_N
};

struct transitions_implies {
    bool imp[TRANSITIONS_IMP_N];
    const char *unknown; /* a cipher OpenSSL does not know (a key of the map), or NULL */
};

/* transitions_new - no client yet; NULL when memory runs out */
struct transitions *transitions_new(void);

/* transitions_consumer - the scan consumer (pass one) that follows the
   records */
void transitions_consumer(struct transitions *, struct scan_consumer *);

/* transitions_changed - the entries (key: the client, ptr: its struct
   transitions_client) of the clients that went from TLS to plaintext,
   sorted by key, in a new array *out of *n (NULL when none); 0, or -1
   when memory runs out */
int transitions_changed(const struct transitions *, struct map_entry ***out, size_t *n);
/* transitions_oom - memory ran out while the records were read: the
   list is incomplete */
bool transitions_oom(const struct transitions *);

/* transitions_section - the report's section (transitions_out.c): the
   text "TLS to plaintext", nothing when no client changed, and the json
   "diagnostics" array */
void transitions_section(const struct transitions *, struct report_section *);

void transitions_free(struct transitions *);

/* transitions_rsa_auth - the suite called name is RSA-authenticated, as
   the suite catalogue (tls/suites.h) knows it */
bool transitions_rsa_auth(const char *name);

/* transitions_implies - what every version and every cipher (the keys of the
   maps) have in common; nothing about ciphers when one is unknown */
void transitions_implies(const struct map *versions, const struct map *ciphers, struct transitions_implies *);

/* transitions_imp_text - one implication as a sentence */
const char *transitions_imp_text(enum transitions_imp);

/* transitions_unknown_text - the sentence for an unknown cipher, in sb */
const char *transitions_unknown_text(struct strbuf *, const char *cipher);

#endif
