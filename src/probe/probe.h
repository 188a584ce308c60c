/*++
 * NAME
 *	probe 3h
 * SUMMARY
 *	client profiles and handshake results of tlspolicy-probe
 * DESCRIPTION
 *	A profile is what one kind of real sender offers in its ClientHello:
 *	a protocol range, TLS <= 1.2 suites, TLS 1.3 suites, groups and
 *	signature algorithms, all in OpenSSL syntax. A result is what one
 *	handshake of that profile against our server gave.
 *
 *	Four verdicts, because "this OpenSSL cannot offer what the sender
 *	offers" (RC4 and 3DES on current systems) says nothing about our
 *	server, and a connection refused before TLS says nothing either:
 *	neither may count as a pass or a fail.
 *
 * LAYER
 *	src/probe/ is the program tlspolicy-probe, on tls/ (the suite
 *	catalogue), config/ (cfgread.h for its profiles file), record/ and
 *	logread/ (--profile-from-record) and util/. It shares no file with
 *	the report.
 *--*/
#ifndef PROBE_H
#define PROBE_H

/* System library. */
#include <stdbool.h>

/* Libraries. */
#include <openssl/tls1.h>

/* Application. */
#include "util/strbuf.h"
#include "tls/tlsinfo.h"

/* One client profile of the profiles file. */
struct probe_profile {
    char *name;
    char *note;                   /* where the profile comes from */
    int line;                     /* of its group in the file */
    enum tls_version min_version; /* TLS_V_NONE: OpenSSL's default */
    enum tls_version max_version; /* TLS_V_NONE: OpenSSL's default */
    char *ciphers;                /* TLS <= 1.2, NULL: OpenSSL's default */
    char *ciphersuites;           /* TLS 1.3, NULL: OpenSSL's default */
    char *groups;                 /* NULL: OpenSSL's default */
    char *sigalgs;                /* NULL: OpenSSL's default */
    bool must_pass;               /* a failure makes the exit status 1 */
};

enum probe_verdict {
    PROBE_OK,         /* handshake completed */
    PROBE_FAIL,       /* handshake failed */
    PROBE_UNTESTABLE, /* this OpenSSL cannot offer the profile */
    PROBE_ERROR,      /* no handshake attempted: connection or SMTP failure */
};

#define PROBE_TEXT_MAX 256

/* What one handshake of one profile gave; "" where there is nothing. */
struct probe_result {
    const struct probe_profile *profile;
    enum probe_verdict verdict;
    char version[16];
    char cipher[64];
    char group[32];
    char error[PROBE_TEXT_MAX];        /* the server's reason, else the client's */
    char client_error[PROBE_TEXT_MAX]; /* what the client saw (the alert) */
    struct strbuf dropped;             /* offered items this OpenSSL lacks, space-separated */
};

/* probe_openssl_version - the OpenSSL constant of a version; 0 (OpenSSL's default) for none */
static inline int probe_openssl_version(enum tls_version v)
{
    switch (v) {
    case TLS_V_TLS1:
        return TLS1_VERSION;
    case TLS_V_TLS11:
        return TLS1_1_VERSION;
    case TLS_V_TLS12:
        return TLS1_2_VERSION;
    case TLS_V_TLS13:
        return TLS1_3_VERSION;
    default:
        return 0;
    }
}

#endif
