/*++
 * NAME
 *	session_impl 3h
 * SUMMARY
 *	private to session/: the service's state and its record writer
 * DESCRIPTION
 *	session.c runs the dialogue; service.c owns what all sessions of
 *	one instance share. Nothing outside session/ includes this file.
 *--*/
#ifndef SESSION_IMPL_H
#define SESSION_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "record/record.h"
#include "session/session.h"
#include "session/tlsfail.h"
#include "util/strbuf.h"

#define SESSION_INSTANCE_MAX 32

struct session_service {
    struct session_sink sink;
    char instance[SESSION_INSTANCE_MAX + 1];
    pthread_mutex_t lock;   /* seq and line: a record is numbered and */
    unsigned long long seq; /* handed to the sink in one step */
    struct strbuf line;
    _Atomic(struct store *) store; /* swapped on reload; NULL: rules off */
    struct tlsfail *tlsfail;
    struct session_stats stats;
};

/* service_decision - number, format and write a decision record */
void service_decision(struct session_service *, const struct record_opts *, struct decision_record *,
                      enum front_end);

/* service_session - the same for a session record */
void service_session(struct session_service *, const struct record_opts *, struct session_record *,
                     enum front_end);

#endif
