/*++
 * NAME
 *	reply 3h
 * SUMMARY
 *	SMTP reply codes and texts for a decision (pure core)
 *--*/
#ifndef REPLY_H
#define REPLY_H

#include "core/policy.h"

/* reply_set - fill rcode, xcode and text of a refusal or would-refusal;
   needs reason, would, policy, inforce and rcpt_domain set. */
void reply_set(struct decision *, const struct session_facts *, const struct rcpt_facts *);

#endif
