/*++
 * NAME
 *	test_policy_dialogue 1
 * SUMMARY
 *	the policy connection: Postfix requests in, replies and records out
 * DESCRIPTION
 *	Each named case is a script of policy requests on one connection, as
 *	Postfix's smtpd sends them, each with the exact reply it must get,
 *	interleaved with checks of how many records and notices the sink has
 *	seen so far (a record that comes too early or too late fails as
 *	surely as a wrong one), and ended by the records it must have
 *	written, in order. Every case also checks that seq runs 1, 2, 3 ...
 *	without a gap and that every record carries the service's instance.
 *
 *	A request is Postfix's full RCPT request for a plaintext client
 *	(every attribute it sends, empty where it has nothing to say) with
 *	the attributes a step names replaced, added or ("-name") left out.
 *	It goes through the request parser line by line, as the server
 *	feeds it, and must parse.
 *
 *	Configurations are written as text to a temporary directory and
 *	loaded with config_load(), as tests/unit/test_session.c does. No
 *	sockets, no libevent: the dialogue alone.
 *--*/

/* System library. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "config/config.h"
#include "config/config_ref.h"
#include "policy/dialogue.h"
#include "policy/request.h"
#include "capture.h"
#include "session/session.h"

#define INSTANCE  "0123456789ab"
#define MAX_ATTRS 48

static char tmpdir[200];

/* The policies of tests/unit/test_session.c, and a monitor-mode variant. */
static const char base_conf[] =
    "exempt = { clients = [ \"127.0.0.0/8\", \"::1\" ]; authenticated = true; };\n"
    "policies = (\n"
    "  { name = \"gdpr\"; recipient_domains = [ \"gdpr.example\" ]; level = \"required\";\n"
    "    min_tls_version = \"TLSv1.2\"; },\n"
    "  { name = \"soft\"; recipient_domains = [ \"soft.example\" ]; level = \"required\";\n"
    "    action = \"tempfail\"; },\n"
    "  { name = \"watch\"; recipient_domains = [ \"watch.example\" ]; level = \"required\";\n"
    "    mode = \"monitor\"; }\n"
    ");\n";
static const char monitor_conf[] = "mode = \"monitor\";\n";

enum conf { ENFORCE = 0, MONITOR };

/* Postfix 3.7's RCPT request for a plaintext client, in its order. */
static const char *const postfix_request[][2] = {
    {"request", "smtpd_access_policy"},
    {"protocol_state", "RCPT"},
    {"protocol_name", "ESMTP"},
    {"helo_name", "mx.sender.example"},
    {"queue_id", ""},
    {"sender", "a@sender.example"},
    {"recipient", "v@other.example"},
    {"recipient_count", "0"},
    {"client_address", "192.0.2.7"},
    {"client_name", "mx.sender.example"},
    {"client_port", "40000"},
    {"reverse_client_name", "mx.sender.example"},
    {"server_address", "192.0.2.1"},
    {"server_port", "25"},
    {"instance", "I1"},
    {"sasl_method", ""},
    {"sasl_username", ""},
    {"sasl_sender", ""},
    {"size", "0"},
    {"ccert_subject", ""},
    {"ccert_issuer", ""},
    {"ccert_fingerprint", ""},
    {"ccert_pubkey_fingerprint", ""},
    {"encryption_protocol", ""},
    {"encryption_cipher", ""},
    {"encryption_keysize", "0"},
    {"etrn_domain", ""},
    {"stress", ""},
    {"compatibility_level", "3.6"},
    {"mail_version", "3.7.11"},
};

/*
 * Scripts.
 */
enum op { OP_END = 0, OP_REQ, OP_RECORDS, OP_NOTICES, OP_IN_SESSION, OP_END_SESSION, OP_FREE };

struct step {
    enum op op;
    const char *attrs; /* REQ: "name=value -name ..." over postfix_request */
    const char *reply; /* REQ: the whole reply without its "\n\n" */
    size_t n;          /* RECORDS, NOTICES: how many so far; IN_SESSION: 0 or 1 */
};

/* clang-format off */
#define REQ(attrs, reply) {OP_REQ, attrs, reply, 0}
#define RECORDS(n) {OP_RECORDS, NULL, NULL, n}
#define NOTICES(n) {OP_NOTICES, NULL, NULL, n}
#define IN_SESSION(b) {OP_IN_SESSION, NULL, NULL, b}
#define END_SESSION {OP_END_SESSION, NULL, NULL, 0}
#define FREE {OP_FREE, NULL, NULL, 0}
/* clang-format on */

#define DUNNO "action=DUNNO"
#define DEFER "action=DEFER_IF_PERMIT 4.3.5 Malformed policy request"
#define NO_TLS(rcpt, domain)                                                                                 \
    "Must issue a STARTTLS command first: mail for <" rcpt "> (domain " domain ") requires TLS"
#define TLS12                                                                                                \
    "encryption_protocol=TLSv1.2 encryption_cipher=ECDHE-RSA-AES256-GCM-SHA384 encryption_keysize=256"

struct dialogue_case {
    const char *name;
    enum conf conf;
    struct step steps[32];
    const char *want[12]; /* per record, in order: "key=value ..." that must hold */
};

/* The fields of a decision and of a session record most cases look at. */
#define DEC(action, reason, qid, rcpt)                                                                       \
    "event=decision action=" action " reason=" reason " qid=" qid " rcpt=" rcpt
#define SES(msgs, acc, rej, tmp, tls)                                                                        \
    "event=session messages=" msgs " rcpt_accepted=" acc " rcpt_rejected=" rej " rcpt_tempfailed=" tmp       \
    " tls_version=" tls

/* One request per line or two; clang-format would pack them. */
/* clang-format off */
static const struct dialogue_case cases[] = {
    {"plaintext: required domain refused at RCPT with 530, logged at once; the other at END-OF-MESSAGE",
     ENFORCE,
     {REQ("recipient=u@gdpr.example", "action=530 5.7.0 " NO_TLS("u@gdpr.example", "gdpr.example")),
      RECORDS(1), IN_SESSION(1),
      REQ("recipient=v@other.example queue_id=Q1", DUNNO), RECORDS(1),
      REQ("protocol_state=DATA recipient= recipient_count=1 queue_id=Q1", DUNNO), RECORDS(1),
      REQ("protocol_state=END-OF-MESSAGE recipient= recipient_count=1 queue_id=Q1 size=321", DUNNO),
      RECORDS(2), IN_SESSION(1), FREE, RECORDS(3), NOTICES(0)},
     {DEC("reject", "plaintext", "-", "u@gdpr.example") " policy=gdpr client_addr=192.0.2.7"
          " client_name=mx.sender.example helo=mx.sender.example sender=a@sender.example"
          " tls_version=none cipher=- cipher_bits=- cert_subject=-",
      DEC("accept", "plaintext_allowed", "Q1", "v@other.example") " policy=default cipher=- cipher_bits=-",
      SES("1", "1", "1", "0", "none") " cipher=- cipher_bits=- client_addr=192.0.2.7 helo=mx.sender.example"}},
    {"tempfail policy: 450 4.7.0 with the same text; monitor policy: DUNNO and would=reject",
     ENFORCE,
     {REQ("recipient=s@soft.example", "action=450 4.7.0 " NO_TLS("s@soft.example", "soft.example")),
      RECORDS(1),
      REQ("recipient=w@watch.example", DUNNO), RECORDS(1),
      REQ("protocol_state=END-OF-MESSAGE recipient= queue_id=T1", DUNNO), RECORDS(2), FREE},
     {DEC("tempfail", "plaintext", "-", "s@soft.example") " policy=soft would=-",
      DEC("accept", "plaintext", "T1", "w@watch.example") " would=reject mode=monitor",
      SES("1", "1", "0", "1", "none")}},
    {"monitor mode: every refusal becomes DUNNO, the record says what would have been done",
     MONITOR,
     {REQ("recipient=u@gdpr.example", DUNNO), REQ("recipient=s@soft.example queue_id=MO1", DUNNO),
      RECORDS(0),
      REQ("protocol_state=END-OF-MESSAGE recipient= queue_id=MO1", DUNNO), RECORDS(2), FREE},
     {DEC("accept", "plaintext", "MO1", "u@gdpr.example") " would=reject mode=monitor policy=gdpr",
      DEC("accept", "plaintext", "MO1", "s@soft.example") " would=tempfail mode=monitor",
      SES("1", "2", "0", "0", "none")}},
    {"TLS 1.2: accepted with the cipher in the records; TLS 1.0 refused as too weak",
     ENFORCE,
     {REQ(TLS12 " recipient=u@gdpr.example", DUNNO), RECORDS(0),
      REQ(TLS12 " protocol_state=END-OF-MESSAGE recipient= queue_id=TL1", DUNNO), RECORDS(1), FREE,
      REQ("encryption_protocol=TLSv1 encryption_cipher=ECDHE-RSA-AES256-SHA encryption_keysize=256"
          " client_port=40001 recipient=u@gdpr.example",
          "action=550 5.7.0 TLS protocol or cipher too weak: mail for <u@gdpr.example> (domain gdpr.example)"
          " requires TLSv1.2 or newer, negotiated TLSv1"),
      RECORDS(3), FREE},
     {DEC("accept", "tls_ok", "TL1", "u@gdpr.example") " tls_version=TLSv1.2"
          " cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256",
      SES("1", "1", "0", "0", "TLSv1.2") " cipher=ECDHE-RSA-AES256-GCM-SHA384 cipher_bits=256",
      DEC("reject", "tls_version", "-", "u@gdpr.example") " tls_version=TLSv1",
      SES("1", "0", "1", "0", "TLSv1")}},
    {"a new instance begins a new message: each recipient with its own queue id",
     ENFORCE,
     {REQ("instance=M1 recipient=a@other.example", DUNNO),
      REQ("instance=M1 protocol_state=END-OF-MESSAGE recipient= queue_id=QA", DUNNO), RECORDS(1),
      REQ("instance=M2 sender=b@sender.example recipient=b@other.example", DUNNO),
      REQ("instance=M2 sender=b@sender.example recipient=c@other.example queue_id=QB", DUNNO),
      REQ("instance=M2 protocol_state=END-OF-MESSAGE recipient= queue_id=QB", DUNNO), RECORDS(3),
      END_SESSION, RECORDS(4)},
     {DEC("accept", "plaintext_allowed", "QA", "a@other.example") " sender=a@sender.example",
      DEC("accept", "plaintext_allowed", "QB", "b@other.example") " sender=b@sender.example",
      DEC("accept", "plaintext_allowed", "QB", "c@other.example") " sender=b@sender.example",
      SES("2", "3", "0", "0", "none")}},
    {"a new instance without END-OF-MESSAGE (the message was refused): its recipients logged then; the null sender as the milter logs it",
     ENFORCE,
     {REQ("instance=R1 recipient=a@other.example", DUNNO), RECORDS(0),
      REQ("instance=R2 sender= recipient=b@other.example", DUNNO), RECORDS(1), FREE},
     {DEC("accept", "plaintext_allowed", "-", "a@other.example") " sender=a@sender.example",
      DEC("accept", "plaintext_allowed", "-", "b@other.example") " sender=<> sender_domain=-",
      SES("2", "2", "0", "0", "none")}},
    {"another client_port ends the session: its record is written as the next one opens",
     ENFORCE,
     {REQ("recipient=a@other.example", DUNNO),
      REQ("protocol_state=END-OF-MESSAGE recipient= queue_id=P1", DUNNO), RECORDS(1),
      REQ("client_port=40001 recipient=b@other.example", DUNNO), RECORDS(2), IN_SESSION(1),
      REQ("client_port=40001 client_address=192.0.2.8 recipient=c@other.example", DUNNO), RECORDS(4), FREE},
     {DEC("accept", "plaintext_allowed", "P1", "a@other.example"),
      SES("1", "1", "0", "0", "none") " client_addr=192.0.2.7",
      DEC("accept", "plaintext_allowed", "-", "b@other.example"),
      SES("1", "1", "0", "0", "none") " client_addr=192.0.2.7",
      DEC("accept", "plaintext_allowed", "-", "c@other.example") " client_addr=192.0.2.8",
      SES("1", "1", "0", "0", "none") " client_addr=192.0.2.8"}},
    {"CONNECT, EHLO, MAIL, DATA, VRFY and ETRN: DUNNO, no session, no record",
     ENFORCE,
     {REQ("protocol_state=CONNECT recipient= sender= helo_name=", DUNNO), IN_SESSION(0),
      REQ("protocol_state=EHLO recipient= sender=", DUNNO),
      REQ("protocol_state=MAIL recipient=", DUNNO), REQ("protocol_state=DATA recipient= queue_id=D1", DUNNO),
      REQ("protocol_state=END-OF-MESSAGE recipient= queue_id=D1", DUNNO),
      REQ("protocol_state=VRFY recipient=u@gdpr.example", DUNNO),
      REQ("protocol_state=ETRN recipient= etrn_domain=gdpr.example", DUNNO), IN_SESSION(0), FREE,
      RECORDS(0), NOTICES(0)},
     {NULL}},
    {"END-OF-MESSAGE of another instance does not end ours",
     ENFORCE,
     {REQ("instance=E1 recipient=a@other.example", DUNNO),
      REQ("instance=E9 protocol_state=END-OF-MESSAGE recipient= queue_id=XX", DUNNO), RECORDS(0),
      REQ("instance=E1 protocol_state=END-OF-MESSAGE recipient= queue_id=E1Q", DUNNO), RECORDS(1), FREE},
     {DEC("accept", "plaintext_allowed", "E1Q", "a@other.example"), SES("1", "1", "0", "0", "none")}},
    {"malformed: RCPT without recipient, a request without protocol_state: DEFER_IF_PERMIT and a notice",
     ENFORCE,
     {REQ("-recipient", DEFER), NOTICES(1), IN_SESSION(0),
      REQ("-protocol_state recipient=u@gdpr.example", DEFER), NOTICES(2), RECORDS(0),
      REQ("recipient=u@gdpr.example", "action=530 5.7.0 " NO_TLS("u@gdpr.example", "gdpr.example")),
      NOTICES(2), FREE},
     {DEC("reject", "plaintext", "-", "u@gdpr.example"), SES("1", "0", "1", "0", "none")}},
    {"policy_conn_end_session: the records now; the next request opens a new session",
     ENFORCE,
     {REQ("recipient=a@other.example", DUNNO), RECORDS(0), END_SESSION, RECORDS(2), IN_SESSION(0),
      END_SESSION, RECORDS(2),
      REQ("recipient=b@other.example instance=I2", DUNNO), IN_SESSION(1), FREE, RECORDS(4)},
     {DEC("accept", "plaintext_allowed", "-", "a@other.example"), SES("1", "1", "0", "0", "none"),
      DEC("accept", "plaintext_allowed", "-", "b@other.example"), SES("1", "1", "0", "0", "none")}},
    {"exempt: a loopback client and a SASL-authenticated one",
     ENFORCE,
     {REQ("client_address=127.0.0.1 client_name=localhost recipient=u@gdpr.example", DUNNO),
      REQ("client_address=192.0.2.9 sasl_method=PLAIN sasl_username=bob recipient=u@gdpr.example", DUNNO),
      FREE},
     {DEC("accept", "exempt", "-", "u@gdpr.example") " client_addr=127.0.0.1",
      SES("1", "1", "0", "0", "none") " client_addr=127.0.0.1",
      DEC("accept", "exempt", "-", "u@gdpr.example") " client_addr=192.0.2.9",
      SES("1", "1", "0", "0", "none") " client_addr=192.0.2.9"}},
    {"no HELO (Postfix sends helo_name empty) and no client name: helo=- client_name=-, as the milter logs them",
     ENFORCE,
     {REQ("helo_name= client_name= recipient=u@gdpr.example",
          "action=530 5.7.0 " NO_TLS("u@gdpr.example", "gdpr.example")),
      FREE},
     {DEC("reject", "plaintext", "-", "u@gdpr.example") " helo=- client_name=-",
      SES("1", "0", "1", "0", "none") " helo=- client_name=-"}},
    {"recipient_count beyond the recipients let pass: the unseen one is decided as postmaster at DATA",
     ENFORCE,
     {REQ("instance=U1 recipient=v@other.example", DUNNO), RECORDS(0),
      REQ("instance=U1 protocol_state=DATA recipient= recipient_count=2 queue_id=UQ",
          "action=530 5.7.0 Must issue a STARTTLS command first: mail for <postmaster> (domain unknown) requires TLS"),
      RECORDS(2), NOTICES(0), FREE},
     {DEC("reject", "plaintext", "UQ", "postmaster") " policy=gdpr rcpt_domain=-",
      "event=decision action=accept reason=plaintext_allowed rcpt=v@other.example",
      SES("1", "1", "1", "0", "none")}},
    {"DATA again after a refusal at DATA: the same answer, no second decision",
     ENFORCE,
     {REQ("instance=U3 recipient=v@other.example", DUNNO),
      REQ("instance=U3 protocol_state=DATA recipient= recipient_count=2 queue_id=UQ3",
          "action=530 5.7.0 Must issue a STARTTLS command first: mail for <postmaster> (domain unknown) requires TLS"),
      RECORDS(2),
      REQ("instance=U3 protocol_state=DATA recipient= recipient_count=2 queue_id=UQ3",
          "action=530 5.7.0 Must issue a STARTTLS command first: mail for <postmaster> (domain unknown) requires TLS"),
      RECORDS(2), NOTICES(0), FREE},
     {DEC("reject", "plaintext", "UQ3", "postmaster") " policy=gdpr rcpt_domain=-",
      "event=decision action=accept reason=plaintext_allowed rcpt=v@other.example",
      SES("1", "1", "1", "0", "none")}},
    {"recipient_count equal to the recipients let pass: nothing more is decided",
     ENFORCE,
     {REQ("instance=U2 recipient=v@other.example", DUNNO),
      REQ("instance=U2 recipient=u@gdpr.example", "action=530 5.7.0 " NO_TLS("u@gdpr.example", "gdpr.example")),
      REQ("instance=U2 protocol_state=DATA recipient= recipient_count=1 queue_id=UQ2", DUNNO),
      REQ("instance=U2 protocol_state=END-OF-MESSAGE recipient= recipient_count=1 queue_id=UQ2", DUNNO),
      RECORDS(2), FREE},
     {DEC("reject", "plaintext", "-", "u@gdpr.example"), DEC("accept", "plaintext_allowed", "UQ2", "v@other.example"),
      SES("1", "1", "1", "0", "none")}},
    {"unknown attributes are ignored; a missing optional one is no error",
     ENFORCE,
     {REQ("policy_context=inbound server_name=mx.example zz_future=1 recipient=u@gdpr.example",
          "action=530 5.7.0 " NO_TLS("u@gdpr.example", "gdpr.example")),
      REQ("-mail_version -sasl_method -ccert_subject -encryption_keysize -client_name recipient=x@other.example",
          DUNNO), NOTICES(0), FREE},
     {DEC("reject", "plaintext", "-", "u@gdpr.example"),
      DEC("accept", "plaintext_allowed", "-", "x@other.example"), SES("1", "1", "1", "0", "none")}},
};
/* clang-format on */

/*
 * Running a case.
 */
struct run {
    struct session_service *svc;
    struct policy_conn *conn;
    struct capture cap;
    const struct dialogue_case *c;
    int failures;
};

static struct policy_request req; /* 32 KiB: not on cmocka's stack */

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

/* override - the value spec gives name ("name=value"), or NULL; *drop when "-name" */
static const char * override(const char *spec, const char *name, char *buf, size_t len, bool *drop)
{
    size_t nlen = strlen(name);
    const char *p = spec;

    *drop = false;
    while (p && *p) {
        const char *end = strchr(p, ' ');
        size_t tlen = end ? (size_t) (end - p) : strlen(p);

        if (*p == '-' && tlen == nlen + 1 && strncmp(p + 1, name, nlen) == 0) {
            *drop = true;
            return NULL;
        }
        if (tlen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            snprintf(buf, len, "%.*s", (int) (tlen - nlen - 1), p + nlen + 1);
            return buf;
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* feed - one line into the request; it must be taken */
static void feed(struct run *r, const char *name, const char *value)
{
    char line[POLICY_LINE_MAX + 1];
    struct tp_error err;
    int n = snprintf(line, sizeof(line), "%s=%s", name, value);

    if (policy_request_line(&req, line, (size_t) n, &err) != POLICY_MORE)
        case_fail(r, "line \"%s\" refused: %s", line, err.msg);
}

/* build - postfix_request with the step's attributes over it, parsed */
static void build(struct run *r, const char *spec)
{
    char buf[256], name[80];
    struct tp_error err;
    const char *p, *v;
    bool drop;
    size_t i;

    policy_request_init(&req);
    for (i = 0; i < sizeof(postfix_request) / sizeof(postfix_request[0]); i++) {
        v = override(spec, postfix_request[i][0], buf, sizeof(buf), &drop);
        if (!drop)
            feed(r, postfix_request[i][0], v ? v : postfix_request[i][1]);
    }
    /* Names Postfix's request does not have: added at the end. */
    for (p = spec; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL) {
        size_t nlen = strcspn(p, "= ");

        if (*p == '-' || p[nlen] != '=')
            continue;
        snprintf(name, sizeof(name), "%.*s", (int) nlen, p);
        if (policy_request_get(&req, name) == NULL)
            feed(r, name, override(spec, name, buf, sizeof(buf), &drop));
    }
    if (policy_request_line(&req, "", 0, &err) != POLICY_DONE)
        case_fail(r, "request \"%s\" refused: %s", spec, err.msg);
}

/* do_request - one request, its reply checked */
static void do_request(struct run *r, const struct step *st)
{
    struct strbuf reply;
    char want[1024];

    build(r, st->attrs);
    strbuf_init(&reply);
    policy_conn_answer(r->conn, &req, &reply);
    snprintf(want, sizeof(want), "%s\n\n", st->reply);
    if (strcmp(strbuf_str(&reply), want) != 0)
        case_fail(r, "request \"%s\":\n  reply %s\n  want  %s", st->attrs, strbuf_str(&reply), st->reply);
    strbuf_free(&reply);
}

/* do_step - one step of the script */
static void do_step(struct run *r, const struct step *st)
{
    switch (st->op) {
    case OP_REQ:
        do_request(r, st);
        break;
    case OP_RECORDS:
        if (r->cap.n != st->n)
            case_fail(r, "step %zu: %zu records so far, want %zu", (size_t) (st - r->c->steps), r->cap.n,
                      st->n);
        break;
    case OP_NOTICES:
        if (r->cap.notices != st->n)
            case_fail(r, "step %zu: %zu notices so far (last \"%s\"), want %zu", (size_t) (st - r->c->steps),
                      r->cap.notices, r->cap.last_notice, st->n);
        break;
    case OP_IN_SESSION:
        if (policy_conn_in_session(r->conn) != (st->n != 0))
            case_fail(r, "step %zu: in session %d", (size_t) (st - r->c->steps), !st->n);
        break;
    case OP_END_SESSION:
        policy_conn_end_session(r->conn);
        break;
    case OP_FREE:
        /* Postfix closed the connection; its next one is a new connection. */
        policy_conn_free(r->conn);
        assert_non_null(r->conn = policy_conn_new(r->svc));
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
            case_fail(r, "record \"%s\"\n  want %s=%s", line, tok, eq + 1);
    }
}

/* check_records - the records wanted, in order, seq 1..n without a gap, our instance */
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
        if (!kv_get(r->cap.lines[i], "seq", got, sizeof(got)) || strcmp(got, want_seq) != 0 ||
            r->cap.seqs[i] != i + 1)
            case_fail(r, "seq: want %s in \"%s\"", want_seq, r->cap.lines[i]);
        if (!kv_get(r->cap.lines[i], "instance", got, sizeof(got)) || strcmp(got, INSTANCE) != 0)
            case_fail(r, "instance: %s in \"%s\"", INSTANCE, r->cap.lines[i]);
        if (i < nwant)
            check_fields(r, r->cap.lines[i], r->c->want[i]);
    }
}

/* install_config - load the configuration a case runs under and put it in force */
static void install_config(enum conf conf)
{
    char path[PATH_MAX + 16], got[1024];
    struct tp_errlist errs;
    struct config *cfg;
    FILE *fp;
    size_t k;

    snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
    assert_non_null(fp = fopen(path, "w"));
    if (conf == MONITOR)
        fputs(monitor_conf, fp);
    fputs(base_conf, fp);
    assert_int_equal(fclose(fp), 0);
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

/* run_case - one script on a fresh service and connection; the number of failures */
static int run_case(const struct dialogue_case *c)
{
    struct run r = {.c = c};
    struct session_sink sink = {cap_record, cap_notice, &r.cap};
    const struct step *step;

    install_config(c->conf);
    assert_non_null(r.svc = session_service_new(&sink, INSTANCE));
    assert_non_null(r.conn = policy_conn_new(r.svc));
    for (step = c->steps; step->op != OP_END; step++)
        do_step(&r, step);
    policy_conn_free(r.conn);
    check_records(&r);
    session_service_free(r.svc);
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

/* test_malformed_notice - policy_conn_malformed: the reason reaches the sink, the reply is fixed */
static void test_malformed_notice(void **state)
{
    struct capture cap = {0};
    struct session_sink sink = {cap_record, cap_notice, &cap};
    struct session_service *svc;
    struct policy_conn *conn;
    struct strbuf reply;

    (void) state;
    install_config(ENFORCE);
    assert_non_null(svc = session_service_new(&sink, INSTANCE));
    assert_non_null(conn = policy_conn_new(svc));
    strbuf_init(&reply);
    policy_conn_malformed(conn, "line 3: no '=' in \"x\"", &reply);
    assert_string_equal(strbuf_str(&reply), DEFER "\n\n");
    assert_int_equal(cap.notices, 1);
    assert_string_equal(cap.last_notice,
                        "policy service: malformed request refused: line 3: no '=' in \"x\"");
    assert_false(policy_conn_in_session(conn));
    strbuf_free(&reply);
    policy_conn_free(conn);
    policy_conn_free(NULL);
    assert_int_equal(cap.n, 0);
    session_service_free(svc);
    config_ref_shutdown();
    cap_clear(&cap);
}

/* The counting sink of test_rcpt_bound: records by event, notices. */
struct counts {
    size_t decisions, sessions, notices;
    unsigned long long seq;
    bool gap;
};

/* count_record - sink: count, and seq without a gap */
static void count_record(void *arg, int priority, unsigned long long seq, const char *line)
{
    struct counts *c = arg;

    (void) priority;
    c->gap |= seq != ++c->seq;
    if (strncmp(line, "event=decision ", 15) == 0)
        c->decisions++;
    else if (strncmp(line, "event=session ", 14) == 0)
        c->sessions++;
}

/* count_notice - sink: count */
static void count_notice(void *arg, int priority, const char *text)
{
    struct counts *c = arg;

    (void) priority;
    c->notices++;
    print_message("notice: %s\n", text);
}

/* answer - one request through the parser and the dialogue; the reply in buf */
static const char *answer(struct policy_conn *conn, const char *attrs, char *buf, size_t len)
{
    struct run r = {.c = &cases[0]};
    struct strbuf reply;

    build(&r, attrs);
    assert_int_equal(r.failures, 0);
    strbuf_init(&reply);
    policy_conn_answer(conn, &req, &reply);
    snprintf(buf, len, "%s", strbuf_str(&reply));
    strbuf_free(&reply);
    return buf;
}

/*
 * test_rcpt_bound - POLICY_MESSAGE_RCPT_MAX recipients of one message are
 * decided; the next are refused with 452 4.5.3, undecided, with one notice;
 * the next message is decided again. The accepted recipients wait in
 * memory until their message ends: the bound is what keeps one client
 * from growing the daemon without end.
 */
static void test_rcpt_bound(void **state)
{
    struct counts cnt = {0};
    struct session_sink sink = {count_record, count_notice, &cnt};
    struct session_service *svc;
    struct policy_conn *conn;
    char attrs[128], buf[256];
    int i;

    (void) state;
    install_config(ENFORCE);
    assert_non_null(svc = session_service_new(&sink, INSTANCE));
    assert_non_null(conn = policy_conn_new(svc));
    for (i = 0; i < POLICY_MESSAGE_RCPT_MAX; i++) {
        snprintf(attrs, sizeof(attrs), "instance=B1 recipient=r%d@other.example", i);
        assert_string_equal(answer(conn, attrs, buf, sizeof(buf)), "action=DUNNO\n\n");
    }
    assert_int_equal(cnt.notices, 0);
    for (i = 0; i < 3; i++)
        assert_string_equal(answer(conn, "instance=B1 recipient=u@gdpr.example", buf, sizeof(buf)),
                            "action=452 4.5.3 Too many recipients\n\n");
    assert_int_equal(cnt.notices, 1);
    assert_int_equal(cnt.decisions, 0); /* the refusals past the bound are no decisions */
    assert_string_equal(
        answer(conn, "instance=B1 protocol_state=END-OF-MESSAGE recipient= queue_id=QB1", buf, sizeof(buf)),
        "action=DUNNO\n\n");
    assert_int_equal(cnt.decisions, POLICY_MESSAGE_RCPT_MAX);
    /* The next message of the session starts from zero. */
    assert_string_equal(answer(conn, "instance=B2 recipient=u@gdpr.example", buf, sizeof(buf)),
                        "action=530 5.7.0 " NO_TLS("u@gdpr.example", "gdpr.example") "\n\n");
    policy_conn_free(conn);
    assert_int_equal(cnt.decisions, POLICY_MESSAGE_RCPT_MAX + 1);
    assert_int_equal(cnt.sessions, 1);
    assert_false(cnt.gap);
    assert_int_equal(cnt.notices, 1);
    session_service_free(svc);
    config_ref_shutdown();
}

/* setup - the temporary directory */
static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void) state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_policy_dialogue.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

/* teardown - remove it */
static int teardown(void **state)
{
    (void) state;
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_malformed_notice),
        cmocka_unit_test(test_rcpt_bound),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
