/*++
 * NAME
 *	server 3h
 * SUMMARY
 *	the server SSL_CTX under test, built from the command line
 * DESCRIPTION
 *	Exactly the settings given and OpenSSL's defaults (including the
 *	system configuration's security level) for the rest: the probe
 *	answers "what would this server accept", so it adds nothing.
 *--*/
#ifndef PROBE_SERVER_H
#define PROBE_SERVER_H

/* System library. */
#include <stddef.h>

/* Libraries. */
#include <openssl/ssl.h>

/* Application. */
#include "util/tp_error.h"

#define SERVER_CERTS_MAX 8

struct server_opts {
    const char *cert[SERVER_CERTS_MAX]; /* paired with key[] in order */
    const char *key[SERVER_CERTS_MAX];
    size_t ncert, nkey;
    const char *ciphers;      /* NULL: OpenSSL's default */
    const char *ciphersuites; /* NULL: OpenSSL's default */
    const char *groups;       /* NULL: OpenSSL's default */
    const char *min_version;  /* NULL: OpenSSL's default */
};

/* server_ctx_new - the server of opts; NULL with err set */
SSL_CTX *server_ctx_new(const struct server_opts *opts, struct tp_error *err);

#endif
