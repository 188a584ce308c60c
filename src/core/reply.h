/*++
 * NAME
 *	reply 3h
 * SUMMARY
 *	SMTP reply codes and texts for a decision (pure core)
 * DESCRIPTION
 *	reply.h includes decision.h, not policy.h: policy.c calls
 *	reply_set(), so the policy model is passed in as the one value
 *	the reply needs from it, the deciding policy's configured text.
 *--*/
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

#include "core/decision.h"
#include "core/facts.h"

/* reply_set - fill rcode, xcode and text of a refusal or would-refusal;
   needs reason, would, min_version, min_cipher_bits and rcpt_domain set.
   tmpl is the deciding policy's reply text (%d: the recipient domain),
   NULL for SPEC.md's default text. */
void reply_set(struct decision *, const char *tmpl, const struct session_facts *, const struct rcpt_facts *);

/* "530 5.7.0 text", or "" when the decision has no reply. */
int decision_format_reply(const struct decision *, char *buf, size_t len);

#endif
