/*++
 * NAME
 *	service 3
 * SUMMARY
 *	what all sessions of one instance share: seq, sink, store, tlsfail
 * SYNOPSIS
 *	#include "session/session.h"
 *
 *	struct session_service *session_service_new(sink, instance)
 *	void	session_service_set_store(svc, store)
 *	void	session_service_free(svc)
 * DESCRIPTION
 *	The record writer of the session layer. Every record gets the next
 *	seq of this instance and is formatted and handed to the sink under
 *	one lock, so that records reach the log in seq order and a reader
 *	can prove that none was lost (SPEC.md, seq). The sink only writes a
 *	finished line: the daemon's sink is syslog, a test's is an array, and
 *	no code below the daemon needs to know which.
 *
 *	The store pointer is swapped on reload while sessions decide with
 *	it; an atomic load per use is all they need, because the daemon
 *	closes a store only after the last session ended.
 * DIAGNOSTICS
 *	A record that cannot be formatted (no memory) still uses up its
 *	seq, and a notice names the seq, so that the gap is explained.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

/* Application. */
#include "session/session_impl.h"

/* Sessions that ended after EHLO without TLS or MAIL, per client. */
#define TLSFAIL_CAPACITY 16384

/* session_service_new - the shared state of one instance */
struct session_service *session_service_new(const struct session_sink *sink, const char *instance)
{
    struct session_service *svc = calloc(1, sizeof(*svc));

    if (svc == NULL)
        return NULL;
    if ((svc->tlsfail = tlsfail_new(TLSFAIL_CAPACITY, TLSFAIL_WINDOW)) == NULL) {
        free(svc);
        return NULL;
    }
    if (session_stats_init(&svc->stats) < 0) {
        tlsfail_free(svc->tlsfail);
        free(svc);
        return NULL;
    }
    svc->sink = *sink;
    snprintf(svc->instance, sizeof(svc->instance), "%s", instance);
    pthread_mutex_init(&svc->lock, NULL);
    strbuf_init(&svc->line);
    atomic_init(&svc->store, NULL);
    return svc;
}

/* session_service_set_store - the fallback rules' memory from now on */
void session_service_set_store(struct session_service *svc, struct store *st)
{
    atomic_store(&svc->store, st);
}

/* session_service_name_policies - each policy's label in the metrics */
void session_service_name_policies(struct session_service *svc, struct config *cfg)
{
    session_stats_name_policies(&svc->stats, cfg);
}

/* session_service_stats - the live counters */
const struct session_stats *session_service_stats(const struct session_service *svc)
{
    return &svc->stats;
}

/* session_service_free - release the shared state */
void session_service_free(struct session_service *svc)
{
    if (svc == NULL)
        return;
    tlsfail_free(svc->tlsfail);
    session_stats_free(&svc->stats);
    strbuf_free(&svc->line);
    pthread_mutex_destroy(&svc->lock);
    free(svc);
}

/* session_service_notice - an operational message to the sink */
void session_service_notice(struct session_service *svc, int priority, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    svc->sink.notice(svc->sink.arg, priority, text);
}

/* write_line - hand the formatted line to the sink (lock held); false when
   there was none to hand over */
static bool write_line(struct session_service *svc, int formatted, unsigned long long seq)
{
    char text[128];

    if (formatted == 0 && !strbuf_failed(&svc->line)) {
        svc->sink.record(svc->sink.arg, LOG_INFO, seq, strbuf_str(&svc->line));
        return true;
    }
    snprintf(text, sizeof(text), "out of memory formatting record seq=%llu", seq);
    svc->sink.notice(svc->sink.arg, LOG_ERR, text);
    return false;
}

/* service_decision - number, format and write a decision record */
void service_decision(struct session_service *svc, const struct record_opts *opts,
                      struct decision_record *rec, enum front_end fe)
{
    bool written;

    pthread_mutex_lock(&svc->lock);
    rec->seq = ++svc->seq;
    rec->instance = svc->instance;
    strbuf_reset(&svc->line);
    written = write_line(svc, record_format_decision(opts, rec, &svc->line), rec->seq);
    pthread_mutex_unlock(&svc->lock);
    /* Counted as written: the counts sum to the records handed to the sink. */
    if (written)
        session_stats_decision(&svc->stats, fe, rec->decision, rec->session);
}

/* service_session - number, format and write a session record */
void service_session(struct session_service *svc, const struct record_opts *opts, struct session_record *rec,
                     enum front_end fe)
{
    bool written;

    pthread_mutex_lock(&svc->lock);
    rec->seq = ++svc->seq;
    rec->instance = svc->instance;
    strbuf_reset(&svc->line);
    written = write_line(svc, record_format_session(opts, rec, &svc->line), rec->seq);
    pthread_mutex_unlock(&svc->lock);
    if (written)
        session_stats_session(&svc->stats, fe, rec->session, rec->suspected_tls_failure);
}
