/*++
 * NAME
 *	client 3h
 * SUMMARY
 *	a client SSL_CTX that offers what a profile offers
 * DESCRIPTION
 *	Used by the offline and the live probe alike, so that both send
 *	the same ClientHello for the same profile.
 *--*/
#ifndef PROBE_CLIENT_H
#define PROBE_CLIENT_H

/* Libraries. */
#include <openssl/ssl.h>

/* Application. */
#include "probe/probe.h"

/* client_ctx_new - the profile's client; NULL with r->verdict and r->error set */
SSL_CTX *client_ctx_new(const struct probe_profile *p, struct probe_result *r);

/* client_outcome - version, cipher and group of the completed handshake on ssl */
void client_outcome(SSL *ssl, struct probe_result *r);

#endif
