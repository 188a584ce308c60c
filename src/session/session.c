/*++
 * NAME
 *	session 3
 * SUMMARY
 *	what every front end does per SMTP session and recipient
 * SYNOPSIS
 *	#include "session/session.h"
 *
 *	struct session *session_open(svc, ref, client)
 *	void	session_tls(s, values)
 *	void	session_helo(s, helo)
 *	void	session_mail(s, sender, sender_resolved)
 *	void	session_queue_id(s, qid)
 *	enum decision_action session_rcpt(s, rcpt, rcpt_resolved, reply)
 *	void	session_message_end(s)
 *	void	session_abort(s)
 *	void	session_close(s)
 *	void	session_close_idle(s)
 * DESCRIPTION
 *	The engine behind every front end. A front end only translates: the
 *	milter maps libmilter callbacks and macros to these calls, the
 *	policy service maps request attributes; neither decides nor logs.
 *	Here MTA values become facts (core/facts.c parses them), a recipient
 *	is decided by policy_decide() through the fallback rules
 *	(state/fallback.c, which read and teach the store in one
 *	transaction), and each decision becomes a reply and a record.
 *
 *	Postfix 3.7 sends the TLS macros only with the EHLO after STARTTLS and
 *	with MAIL, never at connect, so the facts live in the session and
 *	every stage refreshes whatever values it was given.
 *
 *	Records: a refusal is logged at RCPT (there may never be a queue
 *	file); an accepted recipient waits in the session until the message
 *	ends, so that its record carries the queue id the MTA assigns late,
 *	and is logged then, or at abort or close without one. The session
 *	record follows at close, with the counters of the whole session.
 *
 *	Failed STARTTLS: a session that closes after EHLO, without TLS and
 *	without MAIL, is noted per client address (session/tlsfail.c); a
 *	plaintext session with MAIL from that address closing shortly after
 *	is flagged suspected_tls_failure=yes and taught to the store.
 *
 *	A session is decided under the configuration reference it was
 *	opened with, to its end; a reload affects new sessions only.
 *--*/

/* System library. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Application. */
#include "session/session_impl.h"
#include "state/fallback.h"

/* An accepted recipient waiting for the queue id. */
struct pending {
    struct rcpt_facts rcpt;
    struct decision decision;
    struct pending *next;
};

struct session {
    struct session_service *svc;
    struct config_ref *ref;
    struct session_facts facts;
    char *qid;
    struct pending *pending, **pending_tail;
    unsigned messages, accepted, rejected, tempfailed;
    bool mail_seen;
    struct fallback_session fb;
    struct timespec start, last; /* open, and the latest call */
    enum front_end front_end;
};

/* The store in force for this session's decisions. */
#define STORE_OF(s) atomic_load(&(s)->svc->store)

/* session_open - a new SMTP session */
struct session *session_open(struct session_service *svc, struct config_ref *ref,
                             const struct session_client *client)
{
    struct session *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        config_ref_release(ref);
        return NULL;
    }
    s->svc = svc;
    s->front_end = client->front_end;
    s->ref = ref;
    session_facts_init(&s->facts);
    s->pending_tail = &s->pending;
    clock_gettime(CLOCK_MONOTONIC, &s->start);
    s->last = s->start;
    if (client->addr)
        facts_set_client_addr(&s->facts, client->addr);
    facts_set_client_name(&s->facts, client->name);
    facts_set_mta(&s->facts, client->mta);
    /* Sendmail hands over the PTR name even when forward DNS denies it. */
    facts_set_client_resolve(&s->facts, client->resolve);
    return s;
}

/* touch - the session is alive now */
static void touch(struct session *s)
{
    clock_gettime(CLOCK_MONOTONIC, &s->last);
}

/*
 * TLS values by fact. Each stage refreshes what it is given; a value the
 * MTA did not send leaves the fact as it was.
 */
typedef int (*fact_setter)(struct session_facts *, const char *);

static const struct tls_fact {
    size_t offset; /* in struct session_tls_values */
    fact_setter set;
} tls_facts[] = {
    {offsetof(struct session_tls_values, version), facts_set_tls_version},
    {offsetof(struct session_tls_values, cipher), facts_set_cipher},
    {offsetof(struct session_tls_values, cipher_bits), facts_set_cipher_bits},
    {offsetof(struct session_tls_values, cert_subject), facts_set_cert_subject},
    {offsetof(struct session_tls_values, cert_issuer), facts_set_cert_issuer},
    {offsetof(struct session_tls_values, verify), facts_set_verify},
    {offsetof(struct session_tls_values, auth_type), facts_set_auth_type},
    {offsetof(struct session_tls_values, cert_fingerprint), facts_set_cert_fingerprint},
    {offsetof(struct session_tls_values, cert_pubkey_fingerprint), facts_set_cert_pubkey_fingerprint},
};

/* session_tls - take every TLS and SASL value sent at this stage */
void session_tls(struct session *s, const struct session_tls_values *v)
{
    const char *value;
    size_t i;

    touch(s);
    for (i = 0; i < sizeof(tls_facts) / sizeof(tls_facts[0]); i++)
        if ((value = *(const char *const *) ((const char *) v + tls_facts[i].offset)) != NULL)
            tls_facts[i].set(&s->facts, value);
}

/* session_helo - HELO/EHLO; after STARTTLS the TLS values arrive with it */
void session_helo(struct session *s, const char *helo)
{
    touch(s);
    facts_set_helo(&s->facts, helo);
}

/* record_opts - the log settings of this session's configuration */
static struct record_opts record_opts(const struct session *s)
{
    return record_opts_from_config(s->ref->cfg);
}

/* log_decision - one decision record for rcpt */
static void log_decision(struct session *s, const struct decision *d, const struct rcpt_facts *rcpt)
{
    struct record_opts opts = record_opts(s);
    struct decision_record rec = {0, NULL, s->ref->cfg->hash, s->qid, d, &s->facts, rcpt};

    service_decision(s->svc, &opts, &rec, s->front_end);
}

/* flush_pending - log the accepted recipients, with the queue id if known */
static void flush_pending(struct session *s)
{
    struct pending *p, *next;

    for (p = s->pending; p; p = next) {
        log_decision(s, &p->decision, &p->rcpt);
        next = p->next;
        rcpt_facts_clear(&p->rcpt);
        free(p);
    }
    s->pending = NULL;
    s->pending_tail = &s->pending;
}

/* message_end - a message is over: queued, aborted or the session closed */
static void message_end(struct session *s)
{
    flush_pending(s);
    free(s->qid);
    s->qid = NULL;
}

/* session_mail - MAIL FROM: a new message */
void session_mail(struct session *s, const char *sender, const char *sender_resolved)
{
    /* A client may send MAIL again after RSET without the MTA aborting. */
    touch(s);
    message_end(s);
    s->mail_seen = true;
    s->messages++;
    facts_set_sender(&s->facts, sender);
    /* Postfix's reading of a decorated MAIL FROM (<<a@b>>, comments). */
    facts_set_sender_resolved(&s->facts, sender_resolved);
}

/* session_queue_id - the queue id, once the MTA has one */
void session_queue_id(struct session *s, const char *qid)
{
    char *copy;

    if (qid == NULL || *qid == 0 || (s->qid && strcmp(s->qid, qid) == 0))
        return;
    if ((copy = strdup(qid)) == NULL)
        return; /* no memory: the records say qid=- */
    free(s->qid);
    s->qid = copy;
}

/* decide - the fallback rules around policy_decide, for one recipient */
static void decide(struct session *s, struct pending *p)
{
    struct tp_error err = {.msg = ""};
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    /* err is read even on success: a store may warn (an unreadable value
       was treated as absent), and the rules may not touch it at all. */
    if (fallback_decide(STORE_OF(s), &s->ref->cfg->policies, &s->facts, &p->rcpt, (long) now.tv_sec, &s->fb,
                        &p->decision, &err) < 0 ||
        err.msg[0])
        session_service_notice(s->svc, LOG_ERR, "state store: %s", err.msg);
}

/* fill_reply - what the front end answers for decision d */
static void fill_reply(const struct decision *d, struct session_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    reply->action = d->action;
    if (d->action == DECISION_ACCEPT)
        return; /* a monitor-mode would-refusal has text, but nobody hears it */
    memcpy(reply->rcode, d->rcode, sizeof(reply->rcode));
    memcpy(reply->xcode, d->xcode, sizeof(reply->xcode));
    memcpy(reply->text, d->text, sizeof(reply->text));
}

/* answer - count the decision; log a refusal now, keep an acceptance */
static void answer(struct session *s, struct pending *p)
{
    if (p->decision.action == DECISION_ACCEPT) {
        s->accepted++;
        *s->pending_tail = p;
        s->pending_tail = &p->next;
        return;
    }
    if (p->decision.action == DECISION_REJECT)
        s->rejected++;
    else
        s->tempfailed++;
    log_decision(s, &p->decision, &p->rcpt);
    rcpt_facts_clear(&p->rcpt);
    free(p);
}

/* session_rcpt - RCPT TO: one decision per recipient */
enum decision_action session_rcpt(struct session *s, const char *rcpt, const char *rcpt_resolved,
                                  struct session_reply *reply)
{
    uint64_t t0 = histogram_now_ns();
    struct pending *p = calloc(1, sizeof(*p));

    touch(s);
    if (p == NULL) {
        /* No decision, no record: the MTA's own 4xx makes the client retry. */
        memset(reply, 0, sizeof(*reply));
        return reply->action = DECISION_TEMPFAIL;
    }
    rcpt_facts_init(&p->rcpt);
    facts_set_rcpt(&p->rcpt, rcpt ? rcpt : "");
    /* Postfix's {rcpt_addr} is the recipient after its own rewriting;
       policy_decide applies the stricter of the two. */
    if (rcpt_resolved && *rcpt_resolved)
        facts_set_rcpt_resolved(&p->rcpt, rcpt_resolved);
    decide(s, p);
    fill_reply(&p->decision, reply);
    answer(s, p);
    histogram_observe(&s->svc->stats.decision_duration, histogram_now_ns() - t0);
    return reply->action;
}

/* session_message_end - the message was queued: the queue id is known */
void session_message_end(struct session *s)
{
    touch(s);
    message_end(s);
}

/* session_abort - the message was aborted (RSET, or the MTA gave up) */
void session_abort(struct session *s)
{
    message_end(s);
}

/* elapsed_ms - milliseconds from the session's start to its last call */
static long elapsed_ms(const struct session *s)
{
    return (long) (s->last.tv_sec - s->start.tv_sec) * 1000 + (s->last.tv_nsec - s->start.tv_nsec) / 1000000;
}

/* looks_like_failed_starttls - EHLO, no TLS, no MAIL, close: what a failed handshake leaves */
static bool looks_like_failed_starttls(const struct session *s)
{
    return s->facts.has_client_addr && s->facts.helo && !s->mail_seen && s->facts.tls_version == TLS_V_NONE;
}

/* suspected_tls_failure - a plaintext session right after such a session */
static bool suspected_tls_failure(const struct session *s, long now)
{
    /* Asked at close, not at open: the MTA may report the failed
       session's close only after the client has already reconnected. */
    return s->facts.has_client_addr && s->mail_seen && s->facts.tls_version == TLS_V_NONE &&
           tlsfail_take(s->svc->tlsfail, &s->facts.client_ip, now);
}

/* learn_at_close - the store's hourly expiry, and a suspected failure */
static void learn_at_close(struct session *s, bool suspected, long now)
{
    struct tp_error err = {.msg = ""};

    /* Expiry rides on session ends: no timer thread, and an idle
       daemon has nothing to expire. */
    fallback_expire(STORE_OF(s), &s->ref->cfg->policies, now, &err);
    if (err.msg[0])
        session_service_notice(s->svc, LOG_ERR, "state store expiry: %s", err.msg);
    if (suspected && fallback_note_tls_failure(STORE_OF(s), &s->ref->cfg->policies, &s->facts, now, &err) < 0)
        session_service_notice(s->svc, LOG_ERR, "state store: %s", err.msg);
}

/* session_free - the one function that frees a session */
static void session_free(struct session *s)
{
    message_end(s);
    session_facts_clear(&s->facts);
    config_ref_release(s->ref);
    free(s);
}

/* session_close - the session is over: session record, then free */
void session_close(struct session *s)
{
    if (s == NULL)
        return;
    touch(s);
    session_close_idle(s);
}

/* session_close_idle - the same, the session having ended at its last call */
void session_close_idle(struct session *s)
{
    struct record_opts opts;
    struct session_record rec;
    long now = (long) time(NULL);

    if (s == NULL)
        return;
    message_end(s);
    if (looks_like_failed_starttls(s))
        tlsfail_note(s->svc->tlsfail, &s->facts.client_ip, now);
    opts = record_opts(s);
    rec = (struct session_record){.session = &s->facts,
                                  .messages = s->messages,
                                  .rcpt_accepted = s->accepted,
                                  .rcpt_rejected = s->rejected,
                                  .rcpt_tempfailed = s->tempfailed,
                                  .suspected_tls_failure = suspected_tls_failure(s, now),
                                  .duration_ms = elapsed_ms(s)};
    learn_at_close(s, rec.suspected_tls_failure, now);
    service_session(s->svc, &opts, &rec, s->front_end);
    session_free(s);
}
