/*++
 * NAME
 *	milter 3
 * SUMMARY
 *	libmilter callbacks: macros in, decisions out
 * SYNOPSIS
 *	#include "milter/milter.h"
 *
 *	int	milter_register(socket)
 *	int	milter_serve(void)
 * DESCRIPTION
 *	The callbacks only translate: macro values become session facts,
 *	the recipient becomes recipient facts, policy_decide() decides, and
 *	the decision becomes a reply and a record. No policy logic lives here.
 *
 *	Postfix 3.7 sends the TLS macros only with the EHLO after STARTTLS and
 *	with MAIL, never at connect, so the facts live in the connection state
 *	and every stage refreshes whatever macros it was given.
 *
 *	Records: a refusal is logged at RCPT (there may never be a queue file);
 *	an accepted recipient is logged at end of message, when the MTA has
 *	given us its queue id, or at abort/close without one.
 *
 *	Each connection holds a reference to the configuration in force when
 *	it connected and uses it to its end; a reload affects new connections.
 *--*/

/* System library. */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

/* Libraries. */
#include <libmilter/mfapi.h>

/* Application. */
#include "config/config_ref.h"
#include "state/fallback.h"
#include "daemon/logger.h"
#include "milter/milter.h"
#include "session/tlsfail.h"

/* An accepted recipient waiting for the queue id. */
struct pending {
    struct rcpt_facts rcpt;
    struct decision decision;
    struct pending *next;
};

struct conn {
    struct config_ref *ref;
    struct session_facts facts;
    char *qid;
    struct pending *pending, **pending_tail;
    unsigned messages, accepted, rejected, tempfailed;
    bool mail_seen;
    struct fallback_session fb;
    struct timespec start;
};

/* The fallback rules' memory; NULL when they are off. Set on reload too. */
static _Atomic(struct store *) store;

/* Sessions that ended after EHLO without TLS or MAIL, per client. */
static struct tlsfail *tlsfail;
#define TLSFAIL_CAPACITY 16384

/* conn_of - our per-connection state */
static struct conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* macro - a macro value, or NULL */
static const char *macro(SMFICTX *ctx, const char *name)
{
    return smfi_getsymval(ctx, (char *) name);
}

 /*
  * Macros by stage. Each stage refreshes what it is given; a macro the MTA
  * did not send leaves the fact as it was.
  */
typedef int (*fact_setter)(struct session_facts *, const char *);

static const struct macro_fact {
    const char *name;
    fact_setter set;
} tls_macros[] = {
    {"{tls_version}", facts_set_tls_version},
    {"{cipher}", facts_set_cipher},
    {"{cipher_bits}", facts_set_cipher_bits},
    {"{cert_subject}", facts_set_cert_subject},
    {"{cert_issuer}", facts_set_cert_issuer},
    {"{verify}", facts_set_verify},
    {"{auth_type}", facts_set_auth_type},
};

/* refresh_tls - take every TLS and auth macro the MTA sent at this stage */
static void refresh_tls(SMFICTX *ctx, struct conn *c)
{
    size_t i;
    const char *v;

    for (i = 0; i < sizeof(tls_macros) / sizeof(tls_macros[0]); i++)
        if ((v = macro(ctx, tls_macros[i].name)) != NULL)
            tls_macros[i].set(&c->facts, v);
}

/* refresh_qid - the queue id, once the MTA has one */
static void refresh_qid(SMFICTX *ctx, struct conn *c)
{
    const char *v = macro(ctx, "i");

    if (v && *v && (c->qid == NULL || strcmp(c->qid, v) != 0)) {
        free(c->qid);
        c->qid = strdup(v);
    }
}

/* flush_pending - log the accepted recipients, with the queue id if known */
static void flush_pending(struct conn *c)
{
    struct record_opts opts = record_opts_from_config(c->ref->cfg);
    struct pending *p, *next;

    for (p = c->pending; p; p = next) {
        struct decision_record rec = {0, NULL, c->ref->cfg->hash, c->qid, &p->decision, &c->facts, &p->rcpt};

        logger_decision(&opts, &rec);
        next = p->next;
        rcpt_facts_clear(&p->rcpt);
        free(p);
    }
    c->pending = NULL;
    c->pending_tail = &c->pending;
}

/* message_end - a message is over: accepted, aborted or the session closed */
static void message_end(struct conn *c)
{
    flush_pending(c);
    free(c->qid);
    c->qid = NULL;
}

/* conn_free - the one function that frees per-connection state */
static void conn_free(SMFICTX *ctx, struct conn *c)
{
    message_end(c);
    session_facts_clear(&c->facts);
    config_ref_release(c->ref);
    free(c);
    smfi_setpriv(ctx, NULL);
}

/* set_client - address and name from xxfi_connect's arguments */
static void set_client(struct conn *c, const char *name, const struct sockaddr *sa)
{
    char text[INET6_ADDRSTRLEN];
    const void *bytes = NULL;

    if (sa && sa->sa_family == AF_INET)
        bytes = &((const struct sockaddr_in *) sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6)
        bytes = &((const struct sockaddr_in6 *) sa)->sin6_addr;
    if (bytes && inet_ntop(sa->sa_family, bytes, text, sizeof(text)))
        facts_set_client_addr(&c->facts, text);
    facts_set_client_name(&c->facts, name);
}

/* tp_connect - a new SMTP session */
static sfsistat tp_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    c->ref = config_ref_acquire();
    session_facts_init(&c->facts);
    c->pending_tail = &c->pending;
    clock_gettime(CLOCK_MONOTONIC, &c->start);
    set_client(c, hostname, hostaddr);
    facts_set_mta(&c->facts, macro(ctx, "v"));
    /* Sendmail hands over the PTR name even when forward DNS denies it. */
    facts_set_client_resolve(&c->facts, macro(ctx, "{client_resolve}"));
    smfi_setpriv(ctx, c);
    return SMFIS_CONTINUE;
}

/* tp_helo - HELO/EHLO; after STARTTLS the TLS macros arrive here */
static sfsistat tp_helo(SMFICTX *ctx, char *helo)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    facts_set_helo(&c->facts, helo);
    refresh_tls(ctx, c);
    return SMFIS_CONTINUE;
}

/* tp_envfrom - MAIL FROM: a new message */
static sfsistat tp_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    message_end(c);
    c->mail_seen = true;
    c->messages++;
    refresh_tls(ctx, c);
    refresh_qid(ctx, c);
    facts_set_sender(&c->facts, argv && argv[0] ? argv[0] : NULL);
    /* Postfix's reading of a decorated MAIL FROM (<<a@b>>, comments). */
    facts_set_sender_resolved(&c->facts, macro(ctx, "{mail_addr}"));
    return SMFIS_CONTINUE;
}

/* set_reply - hand the decision's reply to the MTA; '%' doubled as libmilter requires */
static void set_reply(SMFICTX *ctx, const struct decision *d)
{
    char text[2 * DECISION_TEXT_MAX];
    size_t i, n = 0;

    for (i = 0; d->text[i] && n + 2 < sizeof(text); i++) {
        if (d->text[i] == '%')
            text[n++] = '%';
        text[n++] = d->text[i];
    }
    text[n] = 0;
    smfi_setreply(ctx, (char *) d->rcode, (char *) d->xcode, text);
}

/* answer - count, log and translate a decision into a milter status */
static sfsistat answer(SMFICTX *ctx, struct conn *c, struct pending *p)
{
    const struct decision *d = &p->decision;
    struct record_opts opts = record_opts_from_config(c->ref->cfg);
    bool reject;

    if (d->action == DECISION_ACCEPT) {
        c->accepted++;
        *c->pending_tail = p;
        c->pending_tail = &p->next;
        return SMFIS_CONTINUE;
    }
    set_reply(ctx, d);
    {
        struct decision_record rec = {0, NULL, c->ref->cfg->hash, c->qid, d, &c->facts, &p->rcpt};

        logger_decision(&opts, &rec);
    }
    reject = d->action == DECISION_REJECT;
    rcpt_facts_clear(&p->rcpt);
    free(p);
    if (reject) {
        c->rejected++;
        return SMFIS_REJECT;
    }
    c->tempfailed++;
    return SMFIS_TEMPFAIL;
}

/* tp_envrcpt - RCPT TO: one decision per recipient */
static sfsistat tp_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    struct pending *p;
    const char *resolved;
    struct timespec now;
    struct tp_error err;

    if (c == NULL || (p = calloc(1, sizeof(*p))) == NULL)
        return SMFIS_TEMPFAIL;
    refresh_tls(ctx, c);
    refresh_qid(ctx, c);
    rcpt_facts_init(&p->rcpt);
    facts_set_rcpt(&p->rcpt, argv && argv[0] ? argv[0] : "");
    /* Postfix's {rcpt_addr} is the recipient after its own rewriting;
       policy_decide applies the stricter of the two. */
    if ((resolved = macro(ctx, "{rcpt_addr}")) != NULL && *resolved)
        facts_set_rcpt_resolved(&p->rcpt, resolved);
    clock_gettime(CLOCK_REALTIME, &now);
    if (fallback_decide(atomic_load(&store), &c->ref->cfg->policies, &c->facts, &p->rcpt, (long) now.tv_sec, &c->fb,
                        &p->decision, &err) < 0 || err.msg[0])
        logger_notice(LOG_ERR, "state store: %s", err.msg);
    return answer(ctx, c, p);
}

/* tp_eom - end of message: the queue id is known now */
static sfsistat tp_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL)
        return SMFIS_CONTINUE;
    refresh_qid(ctx, c);
    message_end(c);
    return SMFIS_CONTINUE;
}

/* tp_abort - the message was aborted (RSET, or the MTA gave up) */
static sfsistat tp_abort(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c)
        message_end(c);
    return SMFIS_CONTINUE;
}

/* elapsed_ms - milliseconds since the connection began */
static long elapsed_ms(const struct conn *c)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long) (now.tv_sec - c->start.tv_sec) * 1000 + (now.tv_nsec - c->start.tv_nsec) / 1000000;
}

/* looks_like_failed_starttls - EHLO, no TLS, no MAIL, close: what a failed handshake leaves */
static bool looks_like_failed_starttls(const struct conn *c)
{
    return c->facts.has_client_addr && c->facts.helo && !c->mail_seen && c->facts.tls_version == TLS_V_NONE;
}

/* suspected_tls_failure - a plaintext session right after such a session */
static bool suspected_tls_failure(const struct conn *c)
{
    /* Asked at close, not at connect: the MTA may report the failed
       session's close only after the client has already reconnected. */
    return c->facts.has_client_addr && c->mail_seen && c->facts.tls_version == TLS_V_NONE
           && tlsfail_take(tlsfail, &c->facts.client_ip, (long) time(NULL));
}

/* tp_close - the session is over: session record, then free */
static sfsistat tp_close(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    struct session_record rec;
    struct record_opts opts;
    struct tp_error err;

    if (c == NULL)
        return SMFIS_CONTINUE;
    message_end(c);
    fallback_expire(atomic_load(&store), &c->ref->cfg->policies, (long) time(NULL), &err);
    if (err.msg[0])
        logger_notice(LOG_ERR, "state store expiry: %s", err.msg);
    if (looks_like_failed_starttls(c))
        tlsfail_note(tlsfail, &c->facts.client_ip, (long) time(NULL));
    opts = record_opts_from_config(c->ref->cfg);
    rec = (struct session_record){0, NULL, &c->facts, c->messages, c->accepted, c->rejected, c->tempfailed,
                                  suspected_tls_failure(c), elapsed_ms(c)};
    if (rec.suspected_tls_failure
        && fallback_note_tls_failure(atomic_load(&store), &c->ref->cfg->policies, &c->facts, (long) time(NULL),
                                     &err) < 0)
        logger_notice(LOG_ERR, "state store: %s", err.msg);
    logger_session(&opts, &rec);
    conn_free(ctx, c);
    return SMFIS_CONTINUE;
}

/* Macros we need at each stage, so that no MTA configuration must change. */
static const struct {
    int stage;
    const char *macros;
} wanted_macros[] = {
    {SMFIM_CONNECT, "j v {daemon_name} {client_addr} {client_name} {client_resolve}"},
    {SMFIM_HELO, "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}"},
    {SMFIM_ENVFROM, "i {mail_addr} {auth_type} {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}"},
    {SMFIM_ENVRCPT, "i {rcpt_addr} {auth_type} {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}"},
    {SMFIM_EOM, "i"},
};

/* tp_negotiate - ask for our macros; an MTA that cannot is still served */
static sfsistat tp_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                             unsigned long *pf3)
{
    size_t i;

    (void) f2;
    (void) f3;
    *pf0 = f0 & (SMFIF_SETSYMLIST);
    /* No body, no headers: we decide at RCPT and never need the data. */
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA);
    *pf2 = 0;
    *pf3 = 0;
    if (f0 & SMFIF_SETSYMLIST)
        for (i = 0; i < sizeof(wanted_macros) / sizeof(wanted_macros[0]); i++)
            smfi_setsymlist(ctx, wanted_macros[i].stage, (char *) wanted_macros[i].macros);
    return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = "tlspolicyd",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_SETSYMLIST,
    .xxfi_connect = tp_connect,
    .xxfi_helo = tp_helo,
    .xxfi_envfrom = tp_envfrom,
    .xxfi_envrcpt = tp_envrcpt,
    .xxfi_eom = tp_eom,
    .xxfi_abort = tp_abort,
    .xxfi_close = tp_close,
    .xxfi_negotiate = tp_negotiate,
};

/* milter_register - register the callbacks and open the socket (as root) */
int milter_register(const char *socket_spec)
{
    if (tlsfail == NULL && (tlsfail = tlsfail_new(TLSFAIL_CAPACITY, TLSFAIL_WINDOW)) == NULL) {
        logger_notice(LOG_ERR, "out of memory");
        return -1;
    }
    if (smfi_setconn((char *) socket_spec) == MI_FAILURE) {
        logger_notice(LOG_ERR, "invalid milter socket %s", socket_spec);
        return -1;
    }
    if (smfi_register(filter) == MI_FAILURE) {
        logger_notice(LOG_ERR, "smfi_register failed");
        return -1;
    }
    /* true: remove a stale unix socket left by a crashed run. */
    if (smfi_opensocket(true) == MI_FAILURE) {
        logger_notice(LOG_ERR, "cannot open milter socket %s", socket_spec);
        return -1;
    }
    return 0;
}

/* milter_set_store - the fallback rules' memory, from now on */
void milter_set_store(struct store *st)
{
    atomic_store(&store, st);
}

/* milter_serve - run libmilter's loop until smfi_stop() */
int milter_serve(void)
{
    return smfi_main() == MI_SUCCESS ? 0 : -1;
}
