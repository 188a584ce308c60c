/*++
 * NAME
 *	test_session 1
 * SUMMARY
 *	the session service, driven as a front end drives it
 * DESCRIPTION
 *	Each named case is a script of session calls (open, TLS values, HELO,
 *	MAIL, queue id, RCPT with the answer it must get, end of message,
 *	abort, close), run against a fresh service whose sink captures the
 *	record lines, followed by the records it must have written, in order.
 *	Every case also checks that seq runs 1, 2, 3 ... without a gap and
 *	that every record carries the service's instance.
 *
 *	Configurations are written as text to a temporary directory (made by
 *	mkdtemp) and loaded with config_load(), as the daemon loads them.
 *	Fallback cases open an LMDB store in a fresh directory under it (all
 *	of it is removed after), or use a store that fails every operation,
 *	whose errors must reach the sink as notices. No libmilter: this is
 *	the engine alone.
 *--*/

/* System library. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "config/config.h"
#include "config/config_ref.h"
#include "capture.h"
#include "session/session.h"
#include "state/store.h"

#define INSTANCE "0123456789ab"

static char tmpdir[200];

/* The policies every case runs under; fallback cases add the rules. */
static const char base_conf[] =
    "exempt = { clients = [ \"127.0.0.0/8\", \"::1\" ]; authenticated = true; };\n"
    "policies = (\n"
    "  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\" ]; level = \"required\";\n"
    "    min_tls_version = \"TLSv1.2\"; },\n"
    "  { name = \"soft\"; recipient_domains = [ \"soft.example\" ]; level = \"required\";\n"
    "    action = \"tempfail\"; },\n"
    "  { name = \"watch\"; recipient_domains = [ \"watch.example\" ]; level = \"required\";\n"
    "    mode = \"monitor\"; },\n"
    "  { name = \"pinned\"; recipient_domains = [ \"pinned.example\" ]; level = \"verified\";\n"
    "    cert_fingerprint = [ \"SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\" ]; "
    "}\n"
    ");\n";

static const char fallback_conf[] =
    "fallback = { enabled = true; key = \"client_net\"; window = \"30d\"; action = \"tempfail\";\n"
    "             max_deferrals = 2; defer_period = \"6h\"; then = \"accept\"; };\n"
    "state = { backend = \"lmdb\"; path = \"%s/state\"; on_error = \"%s\"; };\n";

/*
 * Scripts.
 */
enum op { OP_END = 0, OP_OPEN, OP_TLS, OP_HELO, OP_MAIL, OP_QID, OP_RCPT, OP_EOM, OP_ABORT, OP_CLOSE };

struct step {
    enum op op;
    const char *a, *b;
    const struct session_tls_values *tls;
    enum decision_action want;
    const char *rcode; /* RCPT: the reply code the front end must give, "" none */
};

/* One line each: clang-format would spread each over four. */
/* clang-format off */
#define OPEN(addr, name) {OP_OPEN, addr, name, NULL, 0, NULL}
#define TLS(values) {OP_TLS, NULL, NULL, values, 0, NULL}
#define HELO(name) {OP_HELO, name, NULL, NULL, 0, NULL}
#define MAIL(sender) {OP_MAIL, sender, NULL, NULL, 0, NULL}
#define QID(id) {OP_QID, id, NULL, NULL, 0, NULL}
#define RCPT(rcpt, action, code) {OP_RCPT, rcpt, NULL, NULL, action, code}
#define RCPT_AS(rcpt, resolved, action, code) {OP_RCPT, rcpt, resolved, NULL, action, code}
#define EOM {OP_EOM, NULL, NULL, NULL, 0, NULL}
#define ABORT {OP_ABORT, NULL, NULL, NULL, 0, NULL}
#define CLOSE {OP_CLOSE, NULL, NULL, NULL, 0, NULL}
/* clang-format on */

#define ACCEPT   DECISION_ACCEPT
#define REJECT   DECISION_REJECT
#define TEMPFAIL DECISION_TEMPFAIL

static const struct session_tls_values T12 = {
    .version = "TLSv1.2", .cipher = "ECDHE-RSA-AES256-GCM-SHA384", .cipher_bits = "256"};
static const struct session_tls_values T10 = {
    .version = "TLSv1", .cipher = "ECDHE-RSA-AES256-SHA", .cipher_bits = "256"};
static const struct session_tls_values SASL = {.auth_type = "PLAIN"};
#define PIN_HEX                                                                                              \
    "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"
#define MD5_HEX "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
/* The pinned certificate, its key, another certificate (policy service values). */
static const struct session_tls_values PIN_CERT = {.version = "TLSv1.3",
                                                   .cipher = "TLS_AES_256_GCM_SHA384",
                                                   .cipher_bits = "256",
                                                   .cert_fingerprint = PIN_HEX,
                                                   .cert_pubkey_fingerprint = MD5_HEX};
static const struct session_tls_values PIN_KEY = {.version = "TLSv1.3",
                                                  .cipher = "TLS_AES_256_GCM_SHA384",
                                                  .cipher_bits = "256",
                                                  .cert_fingerprint = MD5_HEX,
                                                  .cert_pubkey_fingerprint = PIN_HEX};
static const struct session_tls_values OTHER_CERT = {.cert_fingerprint = MD5_HEX,
                                                     .cert_pubkey_fingerprint = ""};

/* The fallback rules of a case: off, on with an LMDB store, on with a store
   that fails every operation (state.on_error accept or tempfail), on with
   a store whose one record cannot be decoded (on_error tempfail). */
enum rules { NO_RULES = 0, LMDB, BROKEN, BROKEN_TEMPFAIL, UNREADABLE_TEMPFAIL };

struct session_case {
    const char *name;
    enum rules rules;
    size_t store_notices; /* "state store: ..." notices the sink must get */
    struct step steps[40];
    const char *want[16]; /* per record, in order: "key=value ..." that must hold */
};

/* The fields of a decision and of a session record most cases look at. */
#define DEC(action, reason, qid, rcpt)                                                                       \
    "event=decision action=" action " reason=" reason " qid=" qid " rcpt=" rcpt
#define SES(msgs, acc, rej, tmp, tls)                                                                        \
    "event=session messages=" msgs " rcpt_accepted=" acc " rcpt_rejected=" rej " rcpt_tempfailed=" tmp       \
    " tls_version=" tls

/* One SMTP session per line or two; clang-format would pack or spread them. */
/* clang-format off */
static const struct session_case cases[] = {
    {"pinned recipient: the certificate's fingerprint or its key's verifies it; none or another is cert_mismatch",
     NO_RULES, 0,
     {OPEN("192.0.2.30", "mx.pinned.example"), HELO("h"), TLS(&PIN_CERT), MAIL("<a@sender.example>"), QID("P1"),
      RCPT("<u@pinned.example>", ACCEPT, ""), EOM, MAIL("<a@sender.example>"), TLS(&PIN_KEY), QID("P2"),
      RCPT("<k@pinned.example>", ACCEPT, ""), EOM, MAIL("<a@sender.example>"), TLS(&OTHER_CERT), QID("P3"),
      RCPT("<o@pinned.example>", REJECT, "550"), RCPT("<x@other.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("accept", "tls_ok", "P1", "u@pinned.example") " policy=pinned,default level=verified cert_verified=yes",
      DEC("accept", "tls_ok", "P2", "k@pinned.example") " cert_verified=yes",
      DEC("reject", "cert_mismatch", "P3", "o@pinned.example") " policy=pinned cert_verified=no",
      DEC("accept", "tls_ok", "P3", "x@other.example") " cert_verified=no",
      SES("3", "3", "1", "0", "TLSv1.3")}},
    {"pinned recipient, TLS without any fingerprint (Postfix's milter): cert_mismatch, never a match",
     NO_RULES, 0,
     {OPEN("192.0.2.31", "mx.pinned.example"), HELO("h"), TLS(&T12), MAIL("<a@sender.example>"), QID("P4"),
      RCPT("<u@pinned.example>", REJECT, "550"), EOM, CLOSE},
     {DEC("reject", "cert_mismatch", "P4", "u@pinned.example") " policy=pinned cert_verified=no",
      SES("1", "0", "1", "0", "TLSv1.2")}},
    {"plaintext: required recipient refused at RCPT, other accepted at end of message",
     NO_RULES, 0,
     {OPEN("192.0.2.7", "mx.sender.example"), HELO("mx.sender.example"), MAIL("<a@sender.example>"),
      QID("Q1"), RCPT("<u@gdpr.example>", REJECT, "530"), RCPT("<v@other.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("reject", "plaintext", "Q1", "u@gdpr.example") " policy=gdpr client_addr=192.0.2.7",
      DEC("accept", "plaintext_allowed", "Q1", "v@other.example") " policy=default",
      SES("1", "1", "1", "0", "none") " suspected_tls_failure=no client_addr=192.0.2.7"}},
    {"TLS 1.2 after EHLO: several recipients accepted, logged in RCPT order",
     NO_RULES, 0,
     {OPEN("192.0.2.8", "mx.sender.example"), HELO("mx.sender.example"), TLS(&T12),
      MAIL("<a@sender.example>"), QID("Q2"), RCPT("<a@gdpr.example>", ACCEPT, ""),
      RCPT("<b@other.example>", ACCEPT, ""), RCPT("<c@soft.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("accept", "tls_ok", "Q2", "a@gdpr.example") " tls_version=TLSv1.2 cipher_bits=256",
      DEC("accept", "tls_ok", "Q2", "b@other.example") " policy=default",
      DEC("accept", "tls_ok", "Q2", "c@soft.example") " policy=soft,default",
      SES("1", "3", "0", "0", "TLSv1.2") " cipher=ECDHE-RSA-AES256-GCM-SHA384"}},
    {"TLS 1.0: version refused, tempfail policy met; TLS values sent with MAIL count",
     NO_RULES, 0,
     {OPEN("192.0.2.9", NULL), HELO("old.sender.example"), MAIL("<a@sender.example>"), TLS(&T10), QID("Q3"),
      RCPT("<u@gdpr.example>", REJECT, "550"), RCPT("<s@soft.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("reject", "tls_version", "Q3", "u@gdpr.example") " tls_version=TLSv1",
      DEC("accept", "tls_ok", "Q3", "s@soft.example"), SES("1", "1", "1", "0", "TLSv1")}},
    {"plaintext: tempfail policy defers with 450, monitor policy accepts and says what it would do",
     NO_RULES, 0,
     {OPEN("192.0.2.10", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"), QID("Q4"),
      RCPT("<s@soft.example>", TEMPFAIL, "450"), RCPT("<w@watch.example>", ACCEPT, ""),
      RCPT("<t@soft.example>", TEMPFAIL, "450"), EOM, CLOSE},
     {DEC("tempfail", "plaintext", "Q4", "s@soft.example") " policy=soft would=-",
      DEC("tempfail", "plaintext", "Q4", "t@soft.example"),
      DEC("accept", "plaintext", "Q4", "w@watch.example") " would=reject mode=monitor",
      SES("1", "1", "0", "2", "none")}},
    {"queue id arrives late: refusal without it, accepted recipients with it at end of message",
     NO_RULES, 0,
     {OPEN("192.0.2.11", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"),
      RCPT("<u@gdpr.example>", REJECT, "530"), RCPT("<v@other.example>", ACCEPT, ""), QID(""),
      RCPT("<w@other.example>", ACCEPT, ""), QID("LATE1"), EOM, CLOSE},
     {DEC("reject", "plaintext", "-", "u@gdpr.example"),
      DEC("accept", "plaintext_allowed", "LATE1", "v@other.example"),
      DEC("accept", "plaintext_allowed", "LATE1", "w@other.example"), SES("1", "2", "1", "0", "none")}},
    {"the MTA's rewritten recipient: the stricter of the two domains decides",
     NO_RULES, 0,
     {OPEN("192.0.2.17", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"), QID("RW1"),
      RCPT_AS("<alias@other.example>", "u@gdpr.example", REJECT, "530"),
      RCPT_AS("<v@other.example>", "", ACCEPT, ""), EOM, CLOSE},
     {DEC("reject", "plaintext", "RW1", "alias@other.example") " policy=gdpr",
      DEC("accept", "plaintext_allowed", "RW1", "v@other.example"), SES("1", "1", "1", "0", "none")}},
    {"two messages in one session: each recipient with its own queue id",
     NO_RULES, 0,
     {OPEN("192.0.2.12", "mx.sender.example"), HELO("h"), TLS(&T12), MAIL("<a@sender.example>"), QID("M1"),
      RCPT("<a@other.example>", ACCEPT, ""), EOM, MAIL("<b@sender.example>"), QID("M2"),
      RCPT("<b@other.example>", ACCEPT, ""), RCPT("<c@gdpr.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("accept", "tls_ok", "M1", "a@other.example") " sender=a@sender.example",
      DEC("accept", "tls_ok", "M2", "b@other.example") " sender=b@sender.example",
      DEC("accept", "tls_ok", "M2", "c@gdpr.example"), SES("2", "3", "0", "0", "TLSv1.2")}},
    {"abort: accepted recipients logged without a queue id, the next message starts clean",
     NO_RULES, 0,
     {OPEN("192.0.2.13", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"),
      RCPT("<a@other.example>", ACCEPT, ""), ABORT, MAIL("<b@sender.example>"), QID("AB2"),
      RCPT("<b@other.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("accept", "plaintext_allowed", "-", "a@other.example"),
      DEC("accept", "plaintext_allowed", "AB2", "b@other.example"), SES("2", "2", "0", "0", "none")}},
    {"MAIL again without end of message: the earlier recipients are logged first",
     NO_RULES, 0,
     {OPEN("192.0.2.14", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"), QID("R1"),
      RCPT("<a@other.example>", ACCEPT, ""), MAIL("<b@sender.example>"),
      RCPT("<b@other.example>", ACCEPT, ""), CLOSE},
     {DEC("accept", "plaintext_allowed", "R1", "a@other.example"),
      DEC("accept", "plaintext_allowed", "-", "b@other.example"), SES("2", "2", "0", "0", "none")}},
    {"close without MAIL: only the session record",
     NO_RULES, 0,
     {OPEN("192.0.2.15", "mx.sender.example"), HELO("mx.sender.example"), CLOSE},
     {SES("0", "0", "0", "0", "none") " helo=mx.sender.example suspected_tls_failure=no"}},
    {"close without HELO or a client address (local socket)",
     NO_RULES, 0,
     {OPEN(NULL, "localhost"), CLOSE},
     {SES("0", "0", "0", "0", "none") " client_addr=-"}},
    {"exempt client and authenticated session: accepted as exempt",
     NO_RULES, 0,
     {OPEN("127.0.0.1", "localhost"), HELO("h"), MAIL("<a@sender.example>"), QID("EX1"),
      RCPT("<u@gdpr.example>", ACCEPT, ""), EOM, CLOSE, OPEN("192.0.2.16", "mx.sender.example"), HELO("h"),
      TLS(&SASL), MAIL("<a@sender.example>"), QID("EX2"), RCPT("<u@gdpr.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("accept", "exempt", "EX1", "u@gdpr.example"), SES("1", "1", "0", "0", "none"),
      DEC("accept", "exempt", "EX2", "u@gdpr.example"), SES("1", "1", "0", "0", "none")}},
    {"failed STARTTLS: EHLO and close, then plaintext with MAIL from the same client is suspected",
     NO_RULES, 0,
     {OPEN("198.51.100.9", "mx.sender.example"), HELO("mx.sender.example"), CLOSE,
      OPEN("198.51.100.9", "mx.sender.example"), HELO("mx.sender.example"), MAIL("<a@sender.example>"),
      QID("F1"), RCPT("<v@other.example>", ACCEPT, ""), EOM, CLOSE, OPEN("198.51.100.9", "mx.sender.example"),
      HELO("mx.sender.example"), MAIL("<a@sender.example>"), CLOSE},
     {SES("0", "0", "0", "0", "none") " suspected_tls_failure=no",
      DEC("accept", "plaintext_allowed", "F1", "v@other.example"),
      SES("1", "1", "0", "0", "none") " suspected_tls_failure=yes",
      SES("1", "0", "0", "0", "none") " suspected_tls_failure=no"}},
    {"failed STARTTLS: another client's plaintext session is not suspected",
     NO_RULES, 0,
     {OPEN("198.51.100.10", "a.example"), HELO("a.example"), CLOSE, OPEN("198.51.100.11", "b.example"),
      HELO("b.example"), MAIL("<a@sender.example>"), CLOSE},
     {SES("0", "0", "0", "0", "none") " suspected_tls_failure=no",
      SES("1", "0", "0", "0", "none") " suspected_tls_failure=no client_addr=198.51.100.11"}},
    {"fallback: TLS seen, then plaintext deferred twice (once per session), then accepted",
     LMDB, 0,
     {OPEN("192.0.2.80", "mx1.partner.example"), HELO("mx1"), TLS(&T12), MAIL("<a@sender.example>"),
      QID("FB1"), RCPT("<t1@other.example>", ACCEPT, ""), EOM, CLOSE,
      OPEN("192.0.2.81", "mx2.partner.example"), HELO("mx2"), MAIL("<a@sender.example>"),
      RCPT("<d1@other.example>", TEMPFAIL, "450"), RCPT("<d2@other.example>", TEMPFAIL, "450"), CLOSE,
      OPEN("192.0.2.80", "mx1.partner.example"), HELO("mx1"), MAIL("<a@sender.example>"),
      RCPT("<d3@other.example>", TEMPFAIL, "450"), CLOSE,
      OPEN("192.0.2.80", "mx1.partner.example"), HELO("mx1"), MAIL("<a@sender.example>"), QID("FB4"),
      RCPT("<ok@other.example>", ACCEPT, ""), RCPT("<u@gdpr.example>", REJECT, "530"), EOM, CLOSE},
     {DEC("accept", "tls_ok", "FB1", "t1@other.example") " fallback_key=client_net:192.0.2.0/24",
      SES("1", "1", "0", "0", "TLSv1.2"),
      DEC("tempfail", "downgrade", "-", "d1@other.example") " deferrals=1",
      DEC("tempfail", "downgrade", "-", "d2@other.example") " deferrals=1", SES("1", "0", "0", "2", "none"),
      DEC("tempfail", "downgrade", "-", "d3@other.example") " deferrals=2", SES("1", "0", "0", "1", "none"),
      DEC("reject", "plaintext", "FB4", "u@gdpr.example"),
      DEC("accept", "downgrade_accepted", "FB4", "ok@other.example"), SES("1", "1", "1", "0", "none")}},
    {"fallback: plaintext from a network never seen with TLS is allowed",
     LMDB, 0,
     {OPEN("203.0.113.5", "mx.new.example"), HELO("h"), MAIL("<a@sender.example>"), QID("N1"),
      RCPT("<a@other.example>", ACCEPT, ""), EOM, CLOSE},
     {DEC("accept", "plaintext_allowed", "N1", "a@other.example") " fallback_key=client_net:203.0.113.0/24",
      SES("1", "1", "0", "0", "none")}},
    {"fallback: an exempt client teaches nothing",
     LMDB, 0,
     {OPEN("127.0.0.1", "localhost"), HELO("h"), TLS(&T12), MAIL("<a@sender.example>"),
      RCPT("<a@other.example>", ACCEPT, ""), CLOSE, OPEN("127.0.0.1", "localhost"), HELO("h"),
      MAIL("<a@sender.example>"), RCPT("<b@other.example>", ACCEPT, ""), CLOSE},
     {DEC("accept", "exempt", "-", "a@other.example"), SES("1", "1", "0", "0", "TLSv1.2"),
      DEC("accept", "exempt", "-", "b@other.example"), SES("1", "1", "0", "0", "none")}},
    {"fallback: a failing store is a notice per recipient; on_error=accept lets plaintext pass",
     BROKEN, 2,
     {OPEN("192.0.2.90", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"), QID("E1"),
      RCPT("<a@other.example>", ACCEPT, ""), RCPT("<u@gdpr.example>", REJECT, "530"), EOM, CLOSE},
     {DEC("reject", "plaintext", "E1", "u@gdpr.example"),
      DEC("accept", "state_error", "E1", "a@other.example") " fallback_key=client_net:192.0.2.0/24",
      SES("1", "1", "1", "0", "none")}},
    {"fallback: a failing store with on_error=tempfail defers plaintext with 451",
     BROKEN_TEMPFAIL, 2,
     {OPEN("192.0.2.91", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"),
      RCPT("<a@other.example>", TEMPFAIL, "451"), TLS(&T12), RCPT("<b@other.example>", ACCEPT, ""), CLOSE},
     {DEC("tempfail", "state_error", "-", "a@other.example"), DEC("accept", "tls_ok", "-", "b@other.example"),
      SES("1", "1", "0", "1", "TLSv1.2")}},
    {"fallback: an undecodable record is a state error (451), never overwritten as a new sender",
     UNREADABLE_TEMPFAIL, 2,
     {OPEN("192.0.2.92", "mx.sender.example"), HELO("h"), MAIL("<a@sender.example>"),
      RCPT("<a@other.example>", TEMPFAIL, "451"), RCPT("<b@other.example>", TEMPFAIL, "451"), CLOSE},
     {DEC("tempfail", "state_error", "-", "a@other.example") " fallback_key=client_net:192.0.2.0/24",
      DEC("tempfail", "state_error", "-", "b@other.example"), SES("1", "0", "0", "2", "none")}},
};
/* clang-format on */

/*
 * Running a case.
 */
struct run {
    struct session_service *svc;
    struct session *s;
    struct capture cap;
    const struct session_case *c;
    int failures;
};

/* case_fail - report one broken expectation of the current case */
static void case_fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void case_fail(struct run *r, const char *fmt, ...)
{
    va_list ap;

    print_error("case \"%s\": ", r->c->name);
    va_start(ap, fmt);
    vprint_error(fmt, ap);
    va_end(ap);
    print_error("\n");
    r->failures++;
}

/* do_rcpt - RCPT, checked against the answer the step wants */
static void do_rcpt(struct run *r, const struct step *st)
{
    struct session_reply reply;
    enum decision_action got = session_rcpt(r->s, st->a, st->b, &reply);

    if (got != st->want || got != reply.action)
        case_fail(r, "%s: action %s", st->a, decision_action_name(got));
    if (strcmp(reply.rcode, st->rcode) != 0)
        case_fail(r, "%s: reply code \"%s\"", st->a, reply.rcode);
    if ((got != DECISION_ACCEPT) != (reply.text[0] != 0))
        case_fail(r, "%s: reply text \"%s\"", st->a, reply.text);
}

/* do_step - one session call */
static void do_step(struct run *r, const struct step *st)
{
    struct session_client client = {st->a, st->b, NULL, "Postfix 3.7.11", FRONT_END_MILTER};

    switch (st->op) {
    case OP_OPEN:
        assert_null(r->s);
        assert_non_null(r->s = session_open(r->svc, config_ref_acquire(), &client));
        break;
    case OP_TLS:
        session_tls(r->s, st->tls);
        break;
    case OP_HELO:
        session_helo(r->s, st->a);
        break;
    case OP_MAIL:
        session_mail(r->s, st->a, NULL);
        break;
    case OP_QID:
        session_queue_id(r->s, st->a);
        break;
    case OP_RCPT:
        do_rcpt(r, st);
        break;
    case OP_EOM:
        session_message_end(r->s);
        break;
    case OP_ABORT:
        session_abort(r->s);
        break;
    case OP_CLOSE:
        session_close(r->s);
        r->s = NULL;
        break;
    case OP_END:
        break;
    }
}

/* check_fields - every "key=value" of want holds in line */
static void check_fields(struct run *r, const char *line, const char *want)
{
    char copy[1024], got[1024], *tok, *save, *eq;

    snprintf(copy, sizeof(copy), "%s", want);
    for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = 0;
        if (!kv_get(line, tok, got, sizeof(got)) || strcmp(got, eq + 1) != 0)
            case_fail(r, "record \"%s\"\n  want %s", line, want);
    }
}

/* check_records - the records wanted, in order, seq 1..n, our instance */
static void check_records(struct run *r)
{
    char got[64], want_seq[32];
    size_t i, nwant = 0;

    while (nwant < sizeof(r->c->want) / sizeof(r->c->want[0]) && r->c->want[nwant])
        nwant++;
    if (r->cap.n != nwant) {
        case_fail(r, "want %zu records, got %zu", nwant, r->cap.n);
        for (i = 0; i < r->cap.n; i++)
            print_error("  %s\n", r->cap.lines[i]);
    }
    for (i = 0; i < r->cap.n; i++) {
        snprintf(want_seq, sizeof(want_seq), "%zu", i + 1);
        if (!kv_get(r->cap.lines[i], "seq", got, sizeof(got)) || strcmp(got, want_seq) != 0)
            case_fail(r, "seq: want %s in \"%s\"", want_seq, r->cap.lines[i]);
        if (!kv_get(r->cap.lines[i], "instance", got, sizeof(got)) || strcmp(got, INSTANCE) != 0)
            case_fail(r, "instance: %s in \"%s\"", INSTANCE, r->cap.lines[i]);
        if (i < nwant)
            check_fields(r, r->cap.lines[i], r->c->want[i]);
    }
}

/* write_file - text into path, or fail the test */
static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* install_config - load the configuration a case runs under and put it in force */
static void install_config(enum rules rules)
{
    char path[PATH_MAX + 16], text[4096], got[1024];
    struct tp_errlist errs;
    struct config *cfg;
    size_t k;

    snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
    snprintf(text, sizeof(text), "%s", base_conf);
    if (rules != NO_RULES)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), fallback_conf, tmpdir,
                 rules == BROKEN_TEMPFAIL || rules == UNREADABLE_TEMPFAIL ? "tempfail" : "accept");
    write_file(path, text);
    tp_errlist_init(&errs);
    cfg = config_load(path, &errs);
    for (k = 0; k < errs.n; k++) {
        tp_error_format(&errs.items[k], got, sizeof(got));
        print_error("%s\n", got);
    }
    assert_non_null(cfg);
    assert_int_equal(config_ref_install(cfg), 0);
    unlink(path);
}

/* open_store - a fresh LMDB store for a fallback case */
static struct store *open_store(char *dir, size_t len)
{
    struct tp_error err;
    struct store *st;

    snprintf(dir, len, "%s/state", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    st = store_open_lmdb(dir, 0, STORE_DAMAGE_REFUSE, &err);
    if (st == NULL)
        print_error("store: %s\n", err.msg);
    assert_non_null(st);
    return st;
}

/* remove_store - close the store and remove its directory */
static void remove_store(struct store *st, const char *dir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[PATH_MAX + 16];
    size_t i;

    store_close(st);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* broken_get - a store that cannot be read */
static int broken_get(struct store *st, const char *key, size_t klen, struct fb_record *rec,
                      struct tp_error *err)
{
    (void) st, (void) key, (void) klen, (void) rec;
    tp_error_set(err, NULL, 0, "disk on fire");
    return -1;
}

/* broken_update - nor written */
static int broken_update(struct store *st, const char *key, size_t klen, store_update_fn fn, void *arg,
                         bool readable_only, struct tp_error *err)
{
    (void) st, (void) key, (void) klen, (void) fn, (void) arg, (void) readable_only;
    tp_error_set(err, NULL, 0, "disk on fire");
    return -1;
}

/* broken_expire - nor purged */
static int broken_expire(struct store *st, int64_t cutoff, size_t *removed, struct tp_error *err)
{
    (void) st, (void) cutoff, (void) removed;
    tp_error_set(err, NULL, 0, "disk on fire");
    return -1;
}

static const struct store_ops broken_ops = {
    .name = "broken", .get = broken_get, .update = broken_update, .expire = broken_expire};
static struct store broken_store = {&broken_ops};

/* unreadable_get - the record is there but does not decode (as store_lmdb says) */
static int unreadable_get(struct store *st, const char *key, size_t klen, struct fb_record *rec,
                          struct tp_error *err)
{
    (void) st, (void) rec;
    tp_error_set(err, NULL, 0, "state store: record \"%.*s\" is unreadable: wrong length", (int) klen, key);
    return -1;
}

/* healing_update - store_update would see it as absent and overwrite it;
   store_update_readable refuses it (as the backends do) */
static int healing_update(struct store *st, const char *key, size_t klen, store_update_fn fn, void *arg,
                          bool readable_only, struct tp_error *err)
{
    struct fb_record rec = {0};

    if (readable_only)
        return unreadable_get(st, key, klen, &rec, err);
    return fn(&rec, false, arg);
}

static const struct store_ops unreadable_ops = {
    .name = "unreadable", .get = unreadable_get, .update = healing_update, .expire = broken_expire};
static struct store unreadable_store = {&unreadable_ops};

/* run_case - one script against a fresh service; the number of failures */
static int run_case(const struct session_case *c)
{
    struct run r = {.c = c};
    struct session_sink sink = {cap_record, cap_notice, &r.cap};
    struct store *st = NULL;
    char dir[PATH_MAX];
    const struct step *step;

    install_config(c->rules);
    assert_non_null(r.svc = session_service_new(&sink, INSTANCE));
    if (c->rules == LMDB)
        session_service_set_store(r.svc, st = open_store(dir, sizeof(dir)));
    else if (c->rules == UNREADABLE_TEMPFAIL)
        session_service_set_store(r.svc, &unreadable_store);
    else if (c->rules != NO_RULES)
        session_service_set_store(r.svc, &broken_store);
    for (step = c->steps; step->op != OP_END; step++)
        do_step(&r, step);
    assert_null(r.s); /* every script closes its sessions */
    check_records(&r);
    if (r.cap.notices > 0 || r.cap.store_notices != c->store_notices)
        case_fail(&r, "%zu unexpected notices, %zu state store notices", r.cap.notices, r.cap.store_notices);
    session_service_free(r.svc);
    if (st)
        remove_store(st, dir);
    config_ref_shutdown();
    cap_clear(&r.cap);
    return r.failures;
}

/* test_cases - every scripted case */
static void test_cases(void **state)
{
    size_t i;
    int failures = 0;

    (void) state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        failures += run_case(&cases[i]);
    assert_int_equal(failures, 0);
}

/* setup - the temporary directory */
static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void) state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_session.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

/* teardown - remove it; every case removed what it wrote */
static int teardown(void **state)
{
    (void) state;
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
