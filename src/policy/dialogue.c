/*++
 * NAME
 *	dialogue 3
 * SUMMARY
 *	one policy connection: requests in, session calls, replies out
 * SYNOPSIS
 *	#include "policy/dialogue.h"
 *
 *	struct policy_conn *policy_conn_new(svc)
 *	void	policy_conn_answer(conn, req, reply)
 *	void	policy_conn_malformed(conn, why, reply)
 *	enum policy_parse policy_conn_line(conn, req, line, len, reply)
 *	void	policy_conn_overlong(conn, reply)
 *	bool	policy_conn_in_session(conn)
 *	void	policy_conn_end_session(conn)
 *	void	policy_conn_free(conn)
 * DESCRIPTION
 *	The policy front end of the session service, as milter/milter.c is
 *	the milter's: each request attribute maps to the argument of one
 *	session call, and the reply of session_rcpt() becomes an action.
 *	Nothing here decides, learns or logs records.
 *
 *	Postfix sends every attribute in every request, empty when it has
 *	no value: an empty encryption_protocol is plaintext, an empty
 *	ccert_subject no trusted certificate. Its ccert_subject and
 *	ccert_issuer are the xtext-encoded CNs of a trusted certificate
 *	only, as its milter macros are; ccert_fingerprint and
 *	ccert_pubkey_fingerprint come with any certificate.
 * DIAGNOSTICS
 *	A malformed request is logged through the session service's
 *	notice sink and answered "action=DEFER_IF_PERMIT 4.3.5 ...": never
 *	a permit for a recipient nobody decided.
 *--*/

/* System library. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

/* Application. */
#include "config/config_ref.h"
#include "policy/dialogue.h"

#define KEY_MAX 128 /* client_address, '/', client_port */

struct policy_conn {
    struct session_service *svc;
    struct session *session;             /* NULL: between SMTP sessions */
    char client[KEY_MAX];                /* the session's client, as a key */
    char instance[POLICY_VALUE_MAX + 1]; /* the message's, "" before MAIL */
    bool in_message;
    unsigned long accepted;       /* recipients we let pass in this message */
    bool unseen_checked;          /* recipient_count compared with them */
    unsigned long rcpts;          /* RCPT requests decided in this message */
    struct session_reply refusal; /* not DECISION_ACCEPT: the message was refused at
                                     DATA or END-OF-MESSAGE, and this is the answer
                                     to its every later request */
};

/* Postfix accepts "postmaster" without asking (RFC 5321 4.5.1). */
#define UNSEEN_RCPT "postmaster"
#define UNSEEN_MAX  100 /* decided at most: Postfix's own recipient limit is 1000 */

/* Reply when the session service has no answer (out of memory). */
#define REPLY_NO_DECISION "action=451 4.3.0 Temporary policy failure\n\n"
/* Reply past POLICY_MESSAGE_RCPT_MAX: RFC 5321's answer to too many recipients. */
#define REPLY_TOO_MANY "action=452 4.5.3 Too many recipients\n\n"

/* policy_conn_new - a new connection */
struct policy_conn *policy_conn_new(struct session_service *svc)
{
    struct policy_conn *conn = calloc(1, sizeof(*conn));

    if (conn)
        conn->svc = svc;
    return conn;
}

/* attr - a request attribute, or "" when not sent */
static const char *attr(const struct policy_request *req, const char *name)
{
    const char *v = policy_request_get(req, name);

    return v ? v : "";
}

/* client_key - who the session is with: address and port */
static void client_key(const struct policy_request *req, char *key, size_t len)
{
    snprintf(key, len, "%.64s/%.32s", attr(req, "client_address"), attr(req, "client_port"));
}

/* policy_conn_end_session - the session record, now */
void policy_conn_end_session(struct policy_conn *conn)
{
    if (conn->session == NULL)
        return;
    /* The last request, not the silence after it, ends the session. */
    session_close_idle(conn->session);
    conn->session = NULL;
    conn->in_message = false; /* the next RCPT begins a message (follow) */
}

/* open_session - the first RCPT of a session */
static int open_session(struct policy_conn *conn, const struct policy_request *req, const char *key)
{
    const char *addr = attr(req, "client_address");
    const char *version = policy_request_get(req, "mail_version");
    const char *name = attr(req, "client_name");
    char mta[64], bracketed[80] = "";
    struct session_client client;

    /* Postfix >= 3.8 says which version it is; it is Postfix either way. */
    snprintf(mta, sizeof(mta), "Postfix%s%.40s", version ? " " : "", version ? version : "");
    /* Postfix names a client without a verified name "unknown" here and
       "[address]" to a milter: both front ends log the milter's form. */
    if (strcmp(name, "unknown") == 0 && *addr)
        snprintf(bracketed, sizeof(bracketed), "[%.64s]", addr);
    client = (struct session_client){*addr ? addr : NULL,
                                     *bracketed ? bracketed
                                     : *name    ? name
                                                : NULL,
                                     NULL, mta, FRONT_END_POLICY};
    if ((conn->session = session_open(conn->svc, config_ref_acquire(), &client)) == NULL)
        return -1;
    snprintf(conn->client, sizeof(conn->client), "%s", key);
    return 0;
}

/* value - a non-empty attribute, or NULL: what a milter macro not sent would be */
static const char *value(const struct policy_request *req, const char *name)
{
    const char *v = policy_request_get(req, name);

    return v && *v ? v : NULL;
}

/*
 * pass_tls - the TLS and SASL attributes, every request anew. Postfix
 * sends them all, empty (keysize "0") when there is nothing to say; the
 * milter gets no macro then. Empty ones are passed as not sent, so that
 * both front ends log a plaintext session alike (cipher=-, not "").
 */
static void pass_tls(struct session *s, const struct policy_request *req)
{
    const char *protocol = value(req, "encryption_protocol");
    const struct session_tls_values v = {
        .version = protocol ? protocol : "",
        .cipher = protocol ? value(req, "encryption_cipher") : NULL,
        .cipher_bits = protocol ? value(req, "encryption_keysize") : NULL,
        .cert_subject = value(req, "ccert_subject"),
        .cert_issuer = value(req, "ccert_issuer"),
        .auth_type = value(req, "sasl_method"),
        .cert_fingerprint = value(req, "ccert_fingerprint"),
        .cert_pubkey_fingerprint = value(req, "ccert_pubkey_fingerprint"),
    };

    session_tls(s, &v);
}

/* dot_string - RFC 5321 Dot-string: atoms of atext (UTF-8 allowed) joined by dots */
static bool dot_string(const char *s, size_t len)
{
    static const char specials[] = "!#$%&'*+-/=?^_`{|}~";
    size_t i;

    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];

        if (c == '.' ? s[i + 1] == '.' : !(isalnum(c) || c >= 0x80 || (c && strchr(specials, c))))
            return false;
    }
    return true;
}

/*
 * external - Postfix's recipient and sender attributes are its internal
 * form, quotes removed ("u v"@d arrives as u v@d); the MTA parser in
 * core/facts.c reads the form sent in SMTP. Quote the local part again
 * where SMTP needs it, as Postfix itself does when it logs the address.
 */
static const char *external(const char *addr, char *buf, size_t len)
{
    const char *at = strrchr(addr, '@');
    size_t i, n = 0, local = at ? (size_t) (at - addr) : 0;

    if (at == NULL || dot_string(addr, local) || 2 * local + strlen(at) + 3 > len)
        return addr;
    buf[n++] = '"';
    for (i = 0; i < local; i++) {
        if (addr[i] == '"' || addr[i] == '\\')
            buf[n++] = '\\';
        buf[n++] = addr[i];
    }
    buf[n++] = '"';
    strcpy(buf + n, at);
    return buf;
}

/* follow - bring the session up to this request: client, HELO, TLS, message */
static int follow(struct policy_conn *conn, const struct policy_request *req)
{
    const char *instance = attr(req, "instance");
    char key[KEY_MAX];

    client_key(req, key, sizeof(key));
    if (conn->session && strcmp(conn->client, key) != 0)
        policy_conn_end_session(conn);
    if (conn->session == NULL && open_session(conn, req, key) < 0)
        return -1;
    session_helo(conn->session, value(req, "helo_name")); /* none sent: helo=- */
    pass_tls(conn->session, req);
    if (!conn->in_message || strcmp(conn->instance, instance) != 0) {
        const char *sender = attr(req, "sender");
        char buf[2 * POLICY_VALUE_MAX + 4];

        /* Postfix's sender is already parsed, the null sender empty, as
           its {mail_addr}; the MAIL FROM argument would have been "<>". */
        session_mail(conn->session, *sender ? external(sender, buf, sizeof(buf)) : "<>", sender);
        snprintf(conn->instance, sizeof(conn->instance), "%s", instance);
        conn->in_message = true;
        conn->accepted = conn->rcpts = 0;
        conn->unseen_checked = false;
        conn->refusal.action = DECISION_ACCEPT;
    }
    session_queue_id(conn->session, attr(req, "queue_id"));
    return 0;
}

/* reply_of - the action for a session reply */
static void reply_of(const struct session_reply *r, struct strbuf *reply)
{
    if (r->action == DECISION_ACCEPT)
        strbuf_puts(reply, "action=DUNNO\n\n");
    else if (r->rcode[0] == 0)
        strbuf_puts(reply, REPLY_NO_DECISION);
    else
        strbuf_printf(reply, "action=%s %s %s\n\n", r->rcode, r->xcode, r->text);
}

/* same_message - a request about the message in progress */
static bool same_message(const struct policy_conn *conn, const struct policy_request *req)
{
    char key[KEY_MAX];

    client_key(req, key, sizeof(key));
    return conn->session && conn->in_message && strcmp(conn->client, key) == 0 &&
           strcmp(conn->instance, attr(req, "instance")) == 0;
}

/*
 * too_many - a RCPT past the bound: refused undecided, said once per
 * message. Each accepted recipient waits in the session until its message
 * ends (for the queue id): without a bound, one client sending RCPT after
 * RCPT for one instance would grow the daemon without end.
 */
static void too_many(struct policy_conn *conn, const struct policy_request *req, struct strbuf *reply)
{
    if (conn->rcpts++ == POLICY_MESSAGE_RCPT_MAX)
        session_service_notice(conn->svc, LOG_WARNING,
                               "policy service: more than %d recipients in one message from %.64s; "
                               "the rest refused with 452 4.5.3",
                               POLICY_MESSAGE_RCPT_MAX, attr(req, "client_address"));
    strbuf_puts(reply, REPLY_TOO_MANY);
}

/* rcpt - protocol_state=RCPT: one decision */
static void rcpt(struct policy_conn *conn, const struct policy_request *req, struct strbuf *reply)
{
    char buf[2 * POLICY_VALUE_MAX + 4];
    struct session_reply r;

    if (policy_request_get(req, "recipient") == NULL) {
        policy_conn_malformed(conn, "RCPT request without recipient", reply);
        return;
    }
    if (same_message(conn, req) && conn->rcpts >= POLICY_MESSAGE_RCPT_MAX) {
        too_many(conn, req, reply);
        return;
    }
    if (follow(conn, req) < 0) {
        strbuf_puts(reply, REPLY_NO_DECISION);
        return;
    }
    conn->rcpts++;
    if (session_rcpt(conn->session, external(attr(req, "recipient"), buf, sizeof(buf)), NULL, &r) ==
        DECISION_ACCEPT)
        conn->accepted++;
    reply_of(&r, reply);
}

/* count_of - recipient_count as a number; anything else is 0 */
static unsigned long count_of(const char *v)
{
    unsigned long n = 0;

    for (; *v >= '0' && *v <= '9' && n < 1000000; v++)
        n = n * 10 + (unsigned long) (*v - '0');
    return *v ? 0 : n;
}

/*
 * unseen - recipients Postfix accepted without asking: its
 * recipient_count beyond those we let pass. Postfix skips the recipient
 * restrictions for "postmaster" only; each such recipient is decided
 * as that address, so that it has a record and the policy for a
 * recipient without a domain (the strictest) applies. The first
 * refusal refuses the message: Postfix asks at DATA or END-OF-MESSAGE.
 */
static void unseen(struct policy_conn *conn, const struct policy_request *req, struct session_reply *worst)
{
    unsigned long n = count_of(attr(req, "recipient_count")), i;
    struct session_reply r;

    worst->action = DECISION_ACCEPT;
    if (!same_message(conn, req))
        conn->accepted = 0; /* no RCPT request of this message reached us */
    else if (conn->unseen_checked)
        return;
    if (n <= conn->accepted || follow(conn, req) < 0)
        return;
    conn->unseen_checked = true;
    for (i = conn->accepted; i < n && i < conn->accepted + UNSEEN_MAX; i++) {
        if (session_rcpt(conn->session, UNSEEN_RCPT, NULL, &r) != DECISION_ACCEPT &&
            worst->action == DECISION_ACCEPT)
            *worst = r;
    }
}

/* data - DATA and END-OF-MESSAGE: unseen recipients, the queue id, the end of the message */
static void data(struct policy_conn *conn, const struct policy_request *req, bool end, struct strbuf *reply)
{
    struct session_reply worst;

    /* A client may say DATA again after a refusal: the same answer, no
       second decision. The message stays the current one until MAIL. */
    if (same_message(conn, req) && conn->refusal.action != DECISION_ACCEPT) {
        reply_of(&conn->refusal, reply);
        return;
    }
    unseen(conn, req, &worst);
    if (same_message(conn, req) && worst.action != DECISION_ACCEPT) {
        /* Refused as a whole: its accepted recipients are logged now, as
           those of an aborted message are (with the queue id Postfix
           had given it, if any: its log says that the queue file went). */
        session_abort(conn->session);
        conn->refusal = worst;
    } else if (same_message(conn, req)) {
        session_queue_id(conn->session, attr(req, "queue_id"));
        if (end) {
            session_message_end(conn->session);
            conn->in_message = false;
        }
    }
    reply_of(&worst, reply);
}

/* policy_conn_answer - decide one complete request */
void policy_conn_answer(struct policy_conn *conn, const struct policy_request *req, struct strbuf *reply)
{
    const char *state = policy_request_get(req, "protocol_state");

    if (state == NULL) {
        policy_conn_malformed(conn, "request without protocol_state", reply);
        return;
    }
    if (strcasecmp(state, "RCPT") == 0) {
        rcpt(conn, req, reply);
        return;
    }
    if (strcasecmp(state, "DATA") == 0 || strcasecmp(state, "END-OF-MESSAGE") == 0)
        data(conn, req, strcasecmp(state, "END-OF-MESSAGE") == 0, reply);
    else
        strbuf_puts(reply, "action=DUNNO\n\n");
}

/* policy_conn_malformed - log why, answer a temporary refusal */
void policy_conn_malformed(struct policy_conn *conn, const char *why, struct strbuf *reply)
{
    session_service_notice(conn->svc, LOG_WARNING, "policy service: malformed request refused: %s", why);
    strbuf_puts(reply, "action=DEFER_IF_PERMIT 4.3.5 Malformed policy request\n\n");
}

/* policy_conn_overlong - a line longer than the parser ever takes */
void policy_conn_overlong(struct policy_conn *conn, struct strbuf *reply)
{
    char why[64];

    snprintf(why, sizeof(why), "line longer than %d bytes", POLICY_LINE_MAX);
    policy_conn_malformed(conn, why, reply);
}

/* policy_conn_line - one line of the stream: parse, then answer or refuse */
enum policy_parse policy_conn_line(struct policy_conn *conn, struct policy_request *req, const char *line,
                                   size_t len, struct strbuf *reply)
{
    struct tp_error err;
    enum policy_parse step;

    if (len > POLICY_LINE_MAX) {
        policy_conn_overlong(conn, reply);
        return POLICY_BAD;
    }
    if ((step = policy_request_line(req, line, len, &err)) == POLICY_BAD)
        policy_conn_malformed(conn, err.msg, reply);
    else if (step == POLICY_DONE) {
        policy_conn_answer(conn, req, reply);
        policy_request_init(req);
    }
    return step;
}

/* policy_conn_in_session - an SMTP session is open here */
bool policy_conn_in_session(const struct policy_conn *conn)
{
    return conn->session != NULL;
}

/* policy_conn_free - the connection is gone */
void policy_conn_free(struct policy_conn *conn)
{
    if (conn == NULL)
        return;
    policy_conn_end_session(conn);
    free(conn);
}
