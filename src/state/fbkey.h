/*++
 * NAME
 *	fbkey 3h
 * SUMMARY
 *	the key the fallback rules learn a sender under
 * DESCRIPTION
 *	client_domain: the registered domain (public suffix list, libpsl) of
 *	the client's verified host name, so that all MX hosts of one sender
 *	share one history; a client without a verified name falls back to
 *	client_net. client_net: the client's /24 (IPv4) or /64 (IPv6).
 *	client_addr: the address itself. sender_domain: the envelope sender's
 *	domain (the null sender has none, and no key).
 *
 *	Keys carry their kind ("client_domain:example.net") so that a change
 *	of fallback.key never mixes histories.
 *--*/
#ifndef FBKEY_H
#define FBKEY_H

#include <stddef.h>

#include "core/facts.h"
#include "core/policy.h"

#define FBKEY_MAX 300

/* fbkey_make - the key for this session; 0, or -1 when it has none */
int fbkey_make(enum fallback_key kind, const struct session_facts *, char *out, size_t len);

/* fbkey_registered_domain - the registered domain of a host name, or -1 */
int fbkey_registered_domain(const char *host, char *out, size_t len);

#endif
