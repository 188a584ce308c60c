/*++
 * NAME
 *	session 3h
 * SUMMARY
 *	what every front end does per SMTP session and recipient
 * DESCRIPTION
 *	A front end (the milter, the Postfix policy service) translates what
 *	its MTA tells it into these calls, in the order of the SMTP dialogue,
 *	and turns the reply of session_rcpt() into its own protocol. Facts,
 *	decisions, the fallback rules, the failed-STARTTLS detection and the
 *	records all happen here, so that both front ends decide and log alike.
 *
 *	MTA values are passed as the MTA sent them (NULL: not sent; the fact
 *	keeps what it was); the core/facts.c setters parse them.
 *
 *	One struct session_service per running instance: it owns the record
 *	sequence, the sink records go to, the fallback rules' store and the
 *	table of recent failed-STARTTLS sessions. Its functions are safe to
 *	call from many threads; one struct session belongs to one thread at
 *	a time, as an SMTP session does.
 * LAYER
 *	src/session/ sits on state/ (store, fallback rules), record/,
 *	config/, core/, tls/ and util/; the front ends (milter/, and the
 *	policy service to come) sit on it. It never writes to syslog
 *	itself: records go to the sink the daemon installs.
 *--*/
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>

#include "config/config_ref.h"
#include "core/policy.h"
#include "session/stats.h"

struct store;

/*
 * Where records go: installed once by the daemon (syslog), by a test (an
 * array). record() receives one formatted record line, called under the
 * service's lock so that lines arrive in seq order; it must not call the
 * service. notice() receives an operational message (a state store
 * error), not a record.
 */
struct session_sink {
    /* seq: the line's own, so that a sink that loses it can say which */
    void (*record)(void *arg, int priority, unsigned long long seq, const char *line);
    void (*notice)(void *arg, int priority, const char *text);
    void *arg;
};

struct session_service;

/* session_service_new - records to sink (copied) under instance; NULL: no memory */
struct session_service *session_service_new(const struct session_sink *, const char *instance);

/* session_service_set_store - the fallback rules' memory from now on (NULL: none) */
void session_service_set_store(struct session_service *, struct store *);

/* session_service_notice - an operational message of a front end to the sink */
void session_service_notice(struct session_service *, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * session_service_name_policies - give each policy of cfg its label in the
 * metrics (session/stats.h); call before cfg is in force. Names persist.
 */
void session_service_name_policies(struct session_service *, struct config *cfg);

/* session_service_stats - the live counters, for the metrics page (read without a lock) */
const struct session_stats *session_service_stats(const struct session_service *);

/* session_service_free - after the last session closed; NULL is allowed */
void session_service_free(struct session_service *);

/* The client as the MTA names it at connect. */
struct session_client {
    const char *addr;         /* text form of the address; NULL: unknown (local socket) */
    const char *name;         /* Postfix: "unknown" when not forward-confirmed */
    const char *resolve;      /* Sendmail {client_resolve}: OK when forward-confirmed */
    const char *mta;          /* {v}: who tells us, e.g. "Postfix 3.7.10" */
    enum front_end front_end; /* the metrics' label: who drives the session */
};

/* TLS and SASL values as sent at one stage; NULL leaves the fact as it was. */
struct session_tls_values {
    const char *version;      /* {tls_version}, encryption_protocol */
    const char *cipher;       /* {cipher} */
    const char *cipher_bits;  /* {cipher_bits}, encryption_keysize */
    const char *cert_subject; /* {cert_subject}, ccert_subject */
    const char *cert_issuer;  /* {cert_issuer} */
    const char *verify;       /* {verify}, Sendmail only */
    const char *auth_type;    /* {auth_type}, sasl_method */
    /* Client certificate digests "AB:CD:..." (policy service: ccert_fingerprint,
       ccert_pubkey_fingerprint; Sendmail: {cert_md5}); Postfix's milter sends none. */
    const char *cert_fingerprint;
    const char *cert_pubkey_fingerprint;
};

/* What the front end must answer to one RCPT. */
struct session_reply {
    enum decision_action action; /* DECISION_ACCEPT: let the recipient pass */
    char rcode[4];               /* "530"; "" when there is no text (accept, no memory) */
    char xcode[8];               /* "5.7.0" */
    char text[DECISION_TEXT_MAX];
};

struct session;

/*
 * session_open - a new SMTP session, decided under ref from start to end.
 * Takes ref (released at close, or at once when NULL is returned for
 * want of memory).
 */
struct session *session_open(struct session_service *, struct config_ref *ref, const struct session_client *);

/* session_tls - TLS and SASL facts; every stage may bring (more of) them */
void session_tls(struct session *, const struct session_tls_values *);

/* session_helo - HELO/EHLO argument */
void session_helo(struct session *, const char *helo);

/* session_mail - MAIL FROM: ends the previous message, begins one */
void session_mail(struct session *, const char *sender, const char *sender_resolved);

/* session_queue_id - the MTA's queue id, once it has one (NULL, "": not yet) */
void session_queue_id(struct session *, const char *qid);

/*
 * session_rcpt - decide one recipient (rcpt_resolved: the MTA's rewritten
 * form, or NULL). A refusal is logged now; an accepted recipient when
 * the message ends, so that its record carries the queue id.
 */
enum decision_action session_rcpt(struct session *, const char *rcpt, const char *rcpt_resolved,
                                  struct session_reply *);

/* session_message_end - the message was queued: log its accepted recipients */
void session_message_end(struct session *);

/* session_abort - the message was given up (RSET, lost client): the same */
void session_abort(struct session *);

/* session_close - the session record, then free s; NULL is allowed */
void session_close(struct session *);

/*
 * session_close_idle - the same, for a front end that learns of the end
 * late (the policy service: silence, or the next client): the session
 * lasted until its last call, not until now.
 */
void session_close_idle(struct session *);

#endif
