/*++
 * NAME
 *	decision 3h
 * SUMMARY
 *	the outcome of a policy decision: action, reason, reply (pure core)
 * SYNOPSIS
 *	#include "core/decision.h"
 * DESCRIPTION
 *	The vocabulary that policy_decide() (policy(3)) writes and reply(3)
 *	reads: levels, modes, actions, reasons and struct decision itself.
 *	It sits in a header of its own so that the reply writer needs
 *	nothing of the policy model: policy.c calls reply_set() for a
 *	refusal, and reply.h must therefore not include policy.h, or the
 *	two modules would include each other.
 *
 *	A decision is filled by policy_decide() alone and read by the
 *	front ends, --explain, the record writer and tlspolicy-report's
 *	what-if; no reader changes it. It owns nothing: the policy
 *	pointers point into the policy set in force, rcpt_domain into the
 *	recipient's facts, so a decision lives no longer than both.
 *--*/
#ifndef DECISION_H
#define DECISION_H

#include <stdbool.h>
#include <stddef.h>

#include "tls/tlsinfo.h"

/* Ordered: a larger level requires more. */
enum tls_level {
    TLS_LEVEL_NONE = 0,
    TLS_LEVEL_OPPORTUNISTIC,
    TLS_LEVEL_REQUIRED,
    TLS_LEVEL_VERIFIED,
};

enum policy_mode {
    POLICY_MODE_INHERIT = 0, /* per-policy: use the global mode */
    POLICY_MODE_ENFORCE,
    POLICY_MODE_MONITOR,
};

enum decision_action {
    DECISION_ACCEPT = 0,
    DECISION_TEMPFAIL,
    DECISION_REJECT,
};

/* The order of the requirement checks is the order here. */
enum reason {
    REASON_TLS_OK = 0,
    REASON_PLAINTEXT_ALLOWED,
    REASON_PLAINTEXT,
    REASON_TLS_VERSION,
    REASON_CIPHER,
    REASON_CIPHER_BITS,
    REASON_CERT_UNVERIFIED,
    REASON_CERT_MISMATCH,
    REASON_DOWNGRADE,
    REASON_DOWNGRADE_ACCEPTED,
    REASON_EXEMPT,
    REASON_STATE_ERROR,
};

struct policy; /* policy(3); a decision only points at the deciding ones */

#define DECISION_INFORCE_MAX 32
#define DECISION_TEXT_MAX    400 /* SMTP reply line limit is 512 with code */

struct decision {
    enum decision_action action; /* what the MTA is told */
    enum decision_action would;  /* what enforcement does; == action unless monitoring */
    enum reason reason;
    const struct policy *policy; /* the deciding policy; NULL when exempt */
    const struct policy *inforce[DECISION_INFORCE_MAX];
    size_t ninforce;              /* may exceed DECISION_INFORCE_MAX; list truncated */
    enum tls_level level;         /* combined level in force */
    enum tls_version min_version; /* combined floors in force (levels required and up) */
    int min_cipher_bits;
    enum policy_mode mode;   /* ENFORCE or MONITOR: the mode that decided */
    bool cert_verified;      /* by a CA, or by a pin of a policy in force */
    bool pin_mismatch;       /* cert_mismatch: a pin list, not a name, failed */
    const char *rcpt_domain; /* points into rcpt facts, or NULL */
    /* reply, for reject/tempfail and monitor would-refusals; empty for accept */
    char rcode[4];                /* "530" */
    char xcode[8];                /* "5.7.0" */
    char text[DECISION_TEXT_MAX]; /* printable ASCII, no CR/LF */
    int text_rcpt_at;             /* where the recipient stands in text, -1: nowhere; */
    int text_rcpt_len;            /* a log that hides addresses replaces it */
    /* fallback seam */
    char fallback_key[128]; /* empty: none */
    int deferrals;          /* -1: not applicable */
};

#endif
