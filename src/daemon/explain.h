/*++
 * NAME
 *	explain 3h
 * SUMMARY
 *	tlspolicyd --explain: one hypothetical session, decided and explained
 *--*/
#ifndef EXPLAIN_H
#define EXPLAIN_H

#include <stdio.h>

#include "config/config.h"
#include "util/tp_error.h"

/*
 * explain_run - parse KEY=VALUE arguments (SPEC.md: client_addr
 * client_name helo tls_version cipher cipher_bits cert_subject cert_issuer
 * verify auth_type sender rcpt rcpt_addr; rcpt and rcpt_addr repeatable,
 * paired in order), drive the session service as the milter does, and
 * print to out the decision records the daemon would log followed by a
 * readable account of the evaluation. Takes ownership of cfg (the session
 * holds it by reference, as in the daemon). Returns 0, or -1 with err set
 * for a usage error (unknown key, no rcpt, malformed argument).
 */
int explain_run(struct config *, int argc, char **argv, FILE *out, struct tp_error *err);

#endif
