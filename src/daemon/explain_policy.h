/*++
 * NAME
 *	explain_policy 3h
 * SUMMARY
 *	tlspolicyd --explain-policy-request: raw policy requests, decided offline
 *--*/
#ifndef EXPLAIN_POLICY_H
#define EXPLAIN_POLICY_H

#include <stdio.h>

#include "config/config.h"
#include "util/tp_error.h"

/*
 * explain_policy_run - read Postfix policy requests from in (each ended by
 * an empty line; the end of the input ends the last one), answer each as
 * the policy service would, and print the answers, then the decision
 * records the daemon would log. Takes ownership of cfg. Returns 0 when
 * every request was well-formed, 1 when one was refused as malformed
 * (the service would have closed the connection there), -1 with err set
 * when out of memory.
 */
int explain_policy_run(struct config *, FILE *in, FILE *out, struct tp_error *err);

#endif
