/*++
 * NAME
 *	explain 3
 * SUMMARY
 *	tlspolicyd --explain: one hypothetical session, decided and explained
 * SYNOPSIS
 *	#include "daemon/explain.h"
 *
 *	int	explain_run(config, argc, argv, out, err)
 * DESCRIPTION
 *	The records come from the session service itself (session/session.h),
 *	driven as the milter drives it: session_open() with the client,
 *	session_tls(), session_helo(), session_mail(), one session_rcpt(rcpt,
 *	rcpt_addr) per recipient, then the end of the message and the close.
 *	A capture sink keeps the decision records instead of syslog, so
 *	--explain prints exactly what the daemon would log, in the order it
 *	would log them (a refusal at RCPT, an acceptance when the message
 *	ends), and cannot drift from it. The session record is left out: it
 *	describes a connection that never was.
 *
 *	The account that follows the records re-runs policy_decide() for each
 *	recipient with a trace, on the same facts, to say which policies
 *	matched and why. Nothing touches the network, syslog or the state
 *	store, so an administrator can ask "what would happen if ..." on a
 *	live host.
 *
 *	rcpt_addr=ADDRESS is the recipient as the MTA resolved it (Postfix's
 *	{rcpt_addr}). The n-th rcpt_addr goes with the n-th rcpt; a rcpt
 *	without one has none, as with an MTA that does not send the macro.
 * DIAGNOSTICS
 *	An unknown key, an argument without '=', an unparsable client
 *	address, a missing rcpt or more rcpt_addr than rcpt arguments is a
 *	usage error.
 *--*/

/* System library. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "daemon/explain.h"
#include "record/record.h"
#include "session/session.h"
#include "util/strbuf.h"

#define EXPLAIN_RCPT_MAX 100
#define EXPLAIN_KEYS     15 /* entries of explain_keys[] */

struct explain_input {
    struct session_facts session;  /* parsed: validation, summary, trace */
    const char *raw[EXPLAIN_KEYS]; /* as given, for the session service */
    const char *rcpts[EXPLAIN_RCPT_MAX];
    const char *resolved[EXPLAIN_RCPT_MAX]; /* rcpt_addr, paired by position */
    size_t nrcpts, nresolved;
};

typedef int (*setter_fn)(struct session_facts *, const char *);

static int set_fingerprint(struct session_facts *, const char *);
static int set_pubkey_fingerprint(struct session_facts *, const char *);

static const struct explain_key {
    const char *name;
    setter_fn set;
} explain_keys[] = {
    {"client_addr", facts_set_client_addr},
    {"client_name", facts_set_client_name},
    {"helo", facts_set_helo},
    {"tls_version", facts_set_tls_version},
    {"cipher", facts_set_cipher},
    {"cipher_bits", facts_set_cipher_bits},
    {"cert_subject", facts_set_cert_subject},
    {"cert_issuer", facts_set_cert_issuer},
    {"cert_fingerprint", set_fingerprint},
    {"cert_pubkey_fingerprint", set_pubkey_fingerprint},
    {"verify", facts_set_verify},
    {"auth_type", facts_set_auth_type},
    {"sender", facts_set_sender},
    {"rcpt", NULL},
    {"rcpt_addr", NULL},
};

#define NKEYS (sizeof(explain_keys) / sizeof(explain_keys[0]))

_Static_assert(NKEYS == EXPLAIN_KEYS, "EXPLAIN_KEYS must count explain_keys[]");

/* Indexes of explain_keys[] the session calls need. */
enum {
    K_CLIENT_ADDR,
    K_CLIENT_NAME,
    K_HELO,
    K_TLS_VERSION,
    K_CIPHER,
    K_CIPHER_BITS,
    K_CERT_SUBJECT,
    K_CERT_ISSUER,
    K_CERT_FINGERPRINT,
    K_CERT_PUBKEY_FINGERPRINT,
    K_VERIFY,
    K_AUTH_TYPE,
    K_SENDER,
    K_RCPT,
    K_RCPT_ADDR
};

/* set_fingerprint - as the session takes it, but a typo is a usage error,
   not a fingerprint that silently matches no pin */
static int set_fingerprint(struct session_facts *sf, const char *value)
{
    return facts_set_cert_fingerprint(sf, value) < 0 || (*value && sf->cert_fp.digest == CERTFP_NONE) ? -1
                                                                                                      : 0;
}

/* set_pubkey_fingerprint - the same for the public key's fingerprint */
static int set_pubkey_fingerprint(struct session_facts *sf, const char *value)
{
    return facts_set_cert_pubkey_fingerprint(sf, value) < 0 ||
                   (*value && sf->cert_pubkey_fp.digest == CERTFP_NONE)
               ? -1
               : 0;
}

/* find_key - the table entry for a key of length len */
static const struct explain_key *find_key(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < NKEYS; i++)
        if (strlen(explain_keys[i].name) == len && strncmp(explain_keys[i].name, name, len) == 0)
            return &explain_keys[i];
    return NULL;
}

/* add_rcpt - rcpt or rcpt_addr, kept in the order given */
static int add_rcpt(struct explain_input *in, bool resolved, const char *value, struct tp_error *err)
{
    size_t *n = resolved ? &in->nresolved : &in->nrcpts;

    if (*n >= EXPLAIN_RCPT_MAX) {
        tp_error_set(err, NULL, 0, "--explain: at most %d %s arguments", EXPLAIN_RCPT_MAX,
                     resolved ? "rcpt_addr" : "rcpt");
        return -1;
    }
    (resolved ? in->resolved : in->rcpts)[(*n)++] = value;
    return 0;
}

/* parse_arg - one KEY=VALUE argument into the input */
static int parse_arg(struct explain_input *in, const char *arg, struct tp_error *err)
{
    const char *eq = strchr(arg, '=');
    const struct explain_key *key;

    if (eq == NULL) {
        tp_error_set(err, NULL, 0, "--explain: \"%s\" is not KEY=VALUE", arg);
        return -1;
    }
    if ((key = find_key(arg, (size_t) (eq - arg))) == NULL) {
        tp_error_set(err, NULL, 0,
                     "--explain: unknown key \"%.*s\" (expected client_addr, client_name, helo, tls_version,"
                     " cipher, cipher_bits, cert_subject, cert_issuer, cert_fingerprint,"
                     " cert_pubkey_fingerprint, verify, auth_type, sender, rcpt or rcpt_addr)",
                     (int) (eq - arg), arg);
        return -1;
    }
    if (key->set == NULL)
        return add_rcpt(in, key == &explain_keys[K_RCPT_ADDR], eq + 1, err);
    if (key->set(&in->session, eq + 1) < 0) {
        tp_error_set(err, NULL, 0, "--explain: invalid value for %s: \"%s\"", key->name, eq + 1);
        return -1;
    }
    in->raw[key - explain_keys] = eq + 1;
    return 0;
}

/* trace_to_buf - policy_trace sink collecting indented lines */
static void trace_to_buf(void *arg, const char *text)
{
    strbuf_printf(arg, "  %s\n", text);
}

/* explain_one - account for one recipient: the traced decision */
static void explain_one(const struct config *cfg, const struct explain_input *in, size_t i,
                        struct strbuf *account)
{
    struct policy_trace trace = {trace_to_buf, account};
    struct rcpt_facts r;
    struct decision d;

    rcpt_facts_init(&r);
    /* As session_rcpt() sets them, so that the account and the record agree. */
    if (facts_set_rcpt(&r, in->rcpts[i]) < 0 ||
        (i < in->nresolved && *in->resolved[i] && facts_set_rcpt_resolved(&r, in->resolved[i]) < 0)) {
        strbuf_puts(account, "  out of memory\n");
        rcpt_facts_clear(&r);
        return;
    }
    strbuf_printf(account, "\nRecipient %s", in->rcpts[i]);
    if (i < in->nresolved)
        strbuf_printf(account, " (rcpt_addr %s)", in->resolved[i]);
    strbuf_puts(account, ":\n");
    policy_decide(&cfg->policies, &in->session, &r, NULL, 0, &trace, &d);
    rcpt_facts_clear(&r);
}

/* capture_record - the capture sink: keep decision records, as the daemon logs them */
static void capture_record(void *arg, int priority, unsigned long long seq, const char *line)
{
    /* The session record describes a connection that never was. */
    static const char kv[] = "event=session ", json[] = "{\"event\":\"session\"";

    (void) priority;
    (void) seq;
    if (strncmp(line, kv, sizeof(kv) - 1) == 0 || strncmp(line, json, sizeof(json) - 1) == 0)
        return;
    strbuf_printf(arg, "%s\n", line);
}

/* capture_notice - an operational message of the session service */
static void capture_notice(void *arg, int priority, const char *text)
{
    (void) priority;
    strbuf_printf(arg, "notice: %s\n", text);
}

/* drive_session - the milter's calls, in the order of the SMTP dialogue */
static void drive_session(struct session *s, const struct explain_input *in)
{
    const char *const *raw = in->raw;
    const struct session_tls_values tls = {.version = raw[K_TLS_VERSION],
                                           .cipher = raw[K_CIPHER],
                                           .cipher_bits = raw[K_CIPHER_BITS],
                                           .cert_subject = raw[K_CERT_SUBJECT],
                                           .cert_issuer = raw[K_CERT_ISSUER],
                                           .verify = raw[K_VERIFY],
                                           .auth_type = raw[K_AUTH_TYPE],
                                           .cert_fingerprint = raw[K_CERT_FINGERPRINT],
                                           .cert_pubkey_fingerprint = raw[K_CERT_PUBKEY_FINGERPRINT]};
    struct session_reply reply;
    size_t i;

    session_tls(s, &tls);
    if (raw[K_HELO])
        session_helo(s, raw[K_HELO]);
    session_mail(s, raw[K_SENDER], NULL);
    for (i = 0; i < in->nrcpts; i++)
        session_rcpt(s, in->rcpts[i], i < in->nresolved ? in->resolved[i] : NULL, &reply);
    session_message_end(s);
}

/* run_session - the records the daemon would log, through the session
   service; takes ref. -1: no memory */
static int run_session(struct config_ref *ref, const struct explain_input *in, struct strbuf *records)
{
    const struct session_sink sink = {capture_record, capture_notice, records};
    /* Without verify=, cert_subject is read as Postfix sends it: the CN
       of a trusted certificate. */
    const struct session_client client = {in->raw[K_CLIENT_ADDR], in->raw[K_CLIENT_NAME], NULL, "Postfix",
                                          FRONT_END_MILTER};
    struct session_service *svc = session_service_new(&sink, "explain");
    struct session *s;

    if (svc == NULL) {
        config_ref_release(ref);
        return -1;
    }
    if ((s = session_open(svc, ref, &client)) != NULL) {
        drive_session(s, in);
        session_close(s);
    }
    session_service_free(svc);
    return s == NULL ? -1 : 0;
}

/* fingerprint_summary - the fingerprints given, in the pin form */
static void fingerprint_summary(const struct session_facts *s, struct strbuf *out)
{
    char text[CERTFP_TEXT_MAX];

    if (s->cert_fp.digest != CERTFP_NONE) {
        certfp_format(&s->cert_fp, text, sizeof(text));
        strbuf_printf(out, ", certificate fingerprint %s", text);
    }
    if (s->cert_pubkey_fp.digest != CERTFP_NONE) {
        certfp_format(&s->cert_pubkey_fp, text, sizeof(text));
        strbuf_printf(out, ", public key fingerprint %s", text);
    }
}

/* session_summary - what the hypothetical session looks like */
static void session_summary(const struct config *cfg, const struct session_facts *s, struct strbuf *out)
{
    strbuf_printf(out, "\nConfiguration %s (hash %s), global mode %s.\n", cfg->path, cfg->hash,
                  policy_mode_name(cfg->policies.mode));
    strbuf_printf(out, "Session: client %s, %s", s->client_addr ? s->client_addr : "unknown",
                  s->tls_version == TLS_V_NONE ? "plaintext" : tlsinfo_version_name(s->tls_version));
    if (s->tls_version != TLS_V_NONE)
        strbuf_printf(out, ", cipher %s (%d bits), client certificate %s", s->cipher ? s->cipher : "unknown",
                      s->cipher_bits, s->cert_subject_cn ? s->cert_subject_cn : "none");
    if (s->tls_version != TLS_V_NONE)
        fingerprint_summary(s, out);
    strbuf_printf(out, ", sender %s.\n", s->sender ? s->sender : "unknown");
}

/* parse_all - every argument; 0, or -1 with err set */
static int parse_all(struct explain_input *in, int argc, char **argv, struct tp_error *err)
{
    int i;

    for (i = 0; i < argc; i++)
        if (parse_arg(in, argv[i], err) < 0)
            return -1;
    if (in->nrcpts == 0) {
        tp_error_set(err, NULL, 0, "--explain: at least one rcpt=ADDRESS is needed");
        return -1;
    }
    if (in->nresolved > in->nrcpts) {
        tp_error_set(err, NULL, 0,
                     "--explain: %zu rcpt_addr for %zu rcpt (the n-th rcpt_addr goes with the n-th rcpt)",
                     in->nresolved, in->nrcpts);
        return -1;
    }
    return 0;
}

/* explain_run - decide and explain every rcpt argument */
int explain_run(struct config *cfg, int argc, char **argv, FILE *out, struct tp_error *err)
{
    struct config_ref *ref = calloc(1, sizeof(*ref));
    struct explain_input in;
    struct strbuf records, account;
    size_t i;
    int rc = -1;

    memset(&in, 0, sizeof(in));
    session_facts_init(&in.session);
    facts_set_mta(&in.session, "Postfix");
    strbuf_init(&records);
    strbuf_init(&account);
    if (ref == NULL) {
        config_free(cfg);
        tp_error_set(err, NULL, 0, "--explain: out of memory");
        goto out;
    }
    *ref = (struct config_ref){cfg, 1};
    if (parse_all(&in, argc, argv, err) < 0) {
        config_ref_release(ref);
        goto out;
    }
    session_summary(cfg, &in.session, &account);
    for (i = 0; i < in.nrcpts; i++)
        explain_one(cfg, &in, i, &account);
    /* Last: closing the session releases ref, and with it cfg. */
    if (run_session(ref, &in, &records) < 0 || strbuf_failed(&records) || strbuf_failed(&account)) {
        tp_error_set(err, NULL, 0, "--explain: out of memory");
        goto out;
    }
    fputs(strbuf_str(&records), out);
    fputs(strbuf_str(&account), out);
    rc = 0;
out:
    strbuf_free(&records);
    strbuf_free(&account);
    session_facts_clear(&in.session);
    return rc;
}
