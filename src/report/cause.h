/*++
 * NAME
 *	cause 3h
 * SUMMARY
 *	--diagnose: the cause of a client's handshake failures, and a remedy
 * DESCRIPTION
 *	One small predicate per known pattern, each taking OpenSSL's reason
 *	for the client's failures (the first one logged) and what the TLS
 *	facts before its first failure imply (transitions_implies()):
 *
 *	rsa_certificate  "no shared cipher", only RSA-authenticated suites
 *	static_rsa       "no shared cipher", only static-RSA key exchange
 *	cbc_removed      "no shared cipher", only CBC/3DES suites
 *	protocol_floor   "unsupported protocol", "version too low" or "no
 *	                 protocols available" (GnuTLS: "A packet with
 *	                 illegal or unsupported version was received."),
 *	                 only TLS 1.0/1.1
 *	security_level   "no suitable signature algorithm" (OpenSSL 3 at
 *	                 its default security level), only TLS 1.0/1.1
 *	closed_after_handshake  connections closed after STARTTLS without
 *	                 a failed handshake (Postfix logs every failed
 *	                 one): the client rejected what it saw afterwards
 *
 *	"no shared cipher" is also GnuTLS's "No supported cipher suites
 *	have been found." and "Could not negotiate a supported cipher
 *	suite.".
 *
 *	Every pattern that holds is given: with TLSv1 and AES256-SHA the
 *	facts cannot tell an RSA certificate removed from kRSA or CBC
 *	dropped, and each remedy restores one of them. When none holds, one
 *	"unknown" cause says why and which facts would tell; it has no
 *	remedy. A client without handshake failures or closes gets no cause
 *	at all: nothing in the logs says why it stopped using TLS.
 *--*/
#ifndef REPORT_CAUSE_H
#define REPORT_CAUSE_H

#include <stdbool.h>
#include <stddef.h>

#include "report/transitions.h"
#include "report/diagnose.h"

#define CAUSE_MAX 8 /* every rule, the closed pattern, and room */

struct cause {
    const char *pattern; /* "rsa_certificate", ..., "unknown" */
    const char *cause;   /* a sentence */
    const char *remedy;  /* a sentence, or NULL for "unknown" */
};

/* cause_reason_known - a reason the patterns know a class of */
bool cause_reason_known(const char *reason);

/* cause_find - the causes of c's failures into out[CAUSE_MAX]; how many */
size_t cause_find(const struct diagnose_client *c, const struct transitions_implies *im, struct cause *out);

#endif
