/*++
 * NAME
 *	tlsfail 3h
 * SUMMARY
 *	recent sessions that look like a failed STARTTLS
 * DESCRIPTION
 *	A failed STARTTLS handshake never reaches a milter as TLS: it looks
 *	like connect, EHLO, close. A sender that falls back to plaintext then
 *	reconnects at once. This table remembers, per client address, the
 *	last session that ended after EHLO without TLS and without MAIL, so
 *	that the next plaintext session from that address can be flagged
 *	(suspected_tls_failure=yes).
 *
 *	Memory is bounded: a set-associative table of fixed size, where a
 *	full set forgets its oldest entry. Safe for concurrent use.
 *--*/
#ifndef TLSFAIL_H
#define TLSFAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cidr.h"

#define TLSFAIL_WINDOW 600 /* seconds: "shortly before" */

struct tlsfail;

/* tlsfail_new - a table of about capacity entries remembering window seconds */
struct tlsfail *tlsfail_new(size_t capacity, long window);

/* tlsfail_note - a session from addr ended after EHLO without TLS and MAIL */
void tlsfail_note(struct tlsfail *, const struct ip_addr *, long now);

/* tlsfail_take - was there such a session within the window? Forgets it. */
bool tlsfail_take(struct tlsfail *, const struct ip_addr *, long now);

void tlsfail_free(struct tlsfail *);

#endif
