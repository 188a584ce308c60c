/*++
 * NAME
 *	fallback 3h
 * SUMMARY
 *	the fallback rules' memory: decide with it, learn from the decision
 * DESCRIPTION
 *	Glue between the pure decision (policy.c), the key (fbkey.c) and the
 *	state store (store.h): one store transaction per decision.
 *--*/
#ifndef FALLBACK_H
#define FALLBACK_H

#include <stdbool.h>

#include "core/policy.h"
#include "state/store.h"

/* A TLS or plaintext sighting is written at most this often per key, so
   that a busy sender does not cost a disk sync per recipient. */
#define FALLBACK_REFRESH 60

/* Per SMTP session: a session is deferred at most once in the counts. */
struct fallback_session {
    bool deferral_counted;
};

/*
 * fallback_decide - decide one recipient. With the fallback rules enabled
 * and a store, reads what was learned under the session's key, decides,
 * and in the same transaction learns from the session (a TLS or plaintext
 * sighting) and counts a deferral. Exempt sessions teach nothing. A store
 * failure becomes learned.error (state.on_error decides); its message is
 * left in err for the caller to log. Returns 0, or -1 after a store error.
 */
int fallback_decide(struct store *, const struct policy_set *, const struct session_facts *,
                    const struct rcpt_facts *, long now, struct fallback_session *, struct decision *,
                    struct tp_error *err);

/*
 * fallback_note_tls_failure - a plaintext session of this sender followed a
 * failed-STARTTLS pattern (suspected_tls_failure=yes): remembered under its
 * key as last_tls_failure, for --state and the report. 0, or -1 (err set).
 */
int fallback_note_tls_failure(struct store *, const struct policy_set *, const struct session_facts *,
                              long now, struct tp_error *err);

/* fallback_expire - forget keys not seen within the window; at most once an
   hour, and never where the store expires keys itself (Redis) */
void fallback_expire(struct store *, const struct policy_set *, long now, struct tp_error *err);

#endif
