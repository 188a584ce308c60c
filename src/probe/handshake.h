/*++
 * NAME
 *	handshake 3h
 * SUMMARY
 *	one client profile against a server SSL_CTX, in memory
 * DESCRIPTION
 *	No socket and no server process: the two ends of the handshake
 *	talk through a BIO pair, so a certificate can be checked before it
 *	is deployed anywhere.
 *--*/
#ifndef PROBE_HANDSHAKE_H
#define PROBE_HANDSHAKE_H

/* Libraries. */
#include <openssl/ssl.h>

/* Application. */
#include "probe/probe.h"

/* handshake_memory - handshake profile p against server; the outcome into r */
void handshake_memory(SSL_CTX *server, const struct probe_profile *p, struct probe_result *r);

enum handshake_state { HS_PENDING, HS_DONE, HS_FAILED };

/* handshake_step - one SSL_do_handshake() call on a pending side; why: the reason of a failure */
void handshake_step(SSL *ssl, enum handshake_state *st, char *why, size_t len);

#endif
