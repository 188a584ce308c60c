/*++
 * NAME
 *	suites 3h
 * SUMMARY
 *	the one catalogue of TLS cipher suites
 * SYNOPSIS
 *	#include "tls/suites.h"
 * DESCRIPTION
 *	Every cipher suite the linked libssl knows, plus the few legacy
 *	suites (3DES, RC4) that senders still negotiate elsewhere and that
 *	an OpenSSL 3 build may lack: each with its OpenSSL and IANA names,
 *	its number, the oldest protocol it runs over, key exchange,
 *	authentication, strength, mode of encryption, and whether this
 *	OpenSSL can negotiate it. Built once per process on first use,
 *	read-only afterwards: any thread may look up suites at any time.
 *	The lowest module of tls/; tlsinfo(3), cipherwords(3),
 *	tlspolicy-report and tlspolicy-probe ask it rather than keep lists
 *	of their own.
 * LAYER
 *	src/tls/ sits on util/ only and knows TLS, not mail: this
 *	catalogue at its bottom, cipher sets and version names (tlsinfo)
 *	and the cipher-string vocabulary (cipherwords) above it.
 *--*/
#ifndef SUITES_H
#define SUITES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/tp_error.h"

/*
 * Ordered: a larger value is a newer protocol. TLS_V_UNKNOWN is an
 * encrypted session whose version string we do not recognise; it ranks
 * below every real version so that no minimum is ever met by a string we
 * cannot read.
 */
enum tls_version {
    TLS_V_NONE = 0, /* plaintext */
    TLS_V_UNKNOWN,
    TLS_V_SSL3,
    TLS_V_TLS1,
    TLS_V_TLS11,
    TLS_V_TLS12,
    TLS_V_TLS13,
};

/* Key exchange, as OpenSSL classifies it (SSL_CIPHER_get_kx_nid()). */
enum tls_kx {
    TLS_KX_OTHER = 0,
    TLS_KX_ANY, /* TLS 1.3: negotiated apart from the suite */
    TLS_KX_RSA, /* static RSA: no forward secrecy */
    TLS_KX_DHE,
    TLS_KX_ECDHE,
    TLS_KX_PSK,
    TLS_KX_RSA_PSK,
    TLS_KX_DHE_PSK,
    TLS_KX_ECDHE_PSK,
    TLS_KX_SRP,
    TLS_KX_GOST,
    TLS_KX_GOST18,
};

/* Authentication, as OpenSSL classifies it (SSL_CIPHER_get_auth_nid()). */
enum tls_auth {
    TLS_AUTH_OTHER = 0,
    TLS_AUTH_ANY, /* TLS 1.3: by the certificate, apart from the suite */
    TLS_AUTH_RSA,
    TLS_AUTH_ECDSA,
    TLS_AUTH_DSS,
    TLS_AUTH_PSK,
    TLS_AUTH_SRP,
    TLS_AUTH_GOST01,
    TLS_AUTH_GOST12,
    TLS_AUTH_NULL, /* anonymous */
};

/* How the bulk cipher protects records. */
enum tls_mode {
    TLS_MODE_NULL = 0, /* no encryption at all */
    TLS_MODE_STREAM,   /* RC4, GOST counter modes */
    TLS_MODE_CBC,      /* block cipher in CBC mode, MAC-then-encrypt */
    TLS_MODE_AEAD,     /* GCM, CCM, ChaCha20-Poly1305 */
};

struct tls_suite {
    unsigned id;              /* the two-byte number on the wire: 0xC02F */
    size_t index;             /* position in the catalogue, 0 .. suites_count() - 1 */
    const char *name;         /* OpenSSL's: "ECDHE-RSA-AES128-GCM-SHA256" */
    const char *iana;         /* "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"; NULL: none (GOST) */
    const char *alias;        /* an older OpenSSL spelling ("EDH-..."), or NULL */
    enum tls_version version; /* the oldest protocol that can carry it */
    enum tls_kx kx;
    enum tls_auth auth;
    enum tls_mode mode;
    int bits;       /* strength, as {cipher_bits} reports it */
    int alg_bits;   /* key size of the algorithm: 168 for 3DES's 112 */
    bool libssl;    /* in libssl's own tables; false: a row of ours */
    bool available; /* this OpenSSL can negotiate it: its providers have the algorithms */
    bool legacy;    /* 3DES or RC4, which OpenSSL 3 builds may lack */
};

/* suites_ready - build the catalogue now; 0, or -1 with err->msg set
   when it could not be built (out of memory): every lookup then fails. */
int suites_ready(struct tp_error *err);

/* suites_find - a suite by its OpenSSL, IANA or older OpenSSL name, exact
   and case-sensitive as OpenSSL's names are; NULL when unknown. */
const struct tls_suite *suites_find(const char *name);

/* suites_by_id - a suite by its two-byte number; NULL when unknown. */
const struct tls_suite *suites_by_id(unsigned id);

/* suites_count, suites_at - every suite, in order of number. */
size_t suites_count(void);
const struct tls_suite *suites_at(size_t index);

/* Short names for explanations: "ECDHE", "RSA", "CBC", ... */
const char *suites_kx_name(enum tls_kx);
const char *suites_auth_name(enum tls_auth);
const char *suites_mode_name(enum tls_mode);

#endif
