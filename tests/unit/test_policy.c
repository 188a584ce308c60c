/*
 * test_policy - table-driven tests of the pure decision (policy_decide).
 *
 * One policy set, built by hand so that these tests depend on the model
 * and not on the configuration parser, and one table of named cases: the
 * session facts as an MTA would send them, one recipient, and the expected
 * action, would-action, reason, deciding policy and reply codes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

static const char *const STRICT_CIPHERS = "HIGH:!aNULL:!kRSA:!RC4:!3DES";

/* add_policy - append a named policy to the set */
static struct policy *add_policy(struct policy_set *ps, const char *name, enum tls_level level,
                                 enum policy_action action)
{
    struct policy *p;

    ps->policies = realloc(ps->policies, (ps->npolicies + 1) * sizeof(*ps->policies));
    assert_non_null(ps->policies);
    p = &ps->policies[ps->npolicies++];
    policy_init(p);
    p->name = strdup(name);
    p->line = (int) ps->npolicies;
    p->level = level;
    p->action = action;
    return p;
}

/* add_domains - recipient or sender domains for the last policy */
static void add_domains(struct policy_set *ps, bool sender, const char *const *rules)
{
    struct domain_map **map = sender ? &ps->sender_map : &ps->rcpt_map;
    struct policy *p = &ps->policies[ps->npolicies - 1];
    struct tp_error err;

    if (*map == NULL)
        *map = domain_map_new();
    for (; *rules; rules++)
        assert_int_equal(domain_map_add(*map, *rules, (unsigned) (ps->npolicies - 1), &err), 0);
    if (sender)
        p->by_sender = true;
    else
        p->by_rcpt = true;
}

/* add_cidr - one CIDR to a list */
static void add_cidr(struct cidr_list *list, const char *text)
{
    struct cidr c;

    assert_int_equal(cidr_parse(text, &c), 0);
    assert_int_equal(cidr_list_add(list, &c), 0);
}

/* ciphers - a cipher set that must build */
static struct cipher_set *ciphers(const char *str, bool tls13)
{
    struct tp_error err;
    struct cipher_set *set = tls13 ? cipher_set_from_ciphersuites(str, &err) : cipher_set_from_ciphers(str, &err);

    assert_non_null(set);
    return set;
}

#define DOMAINS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* build_set - the policy set every case runs against */
static void build_set(struct policy_set *ps)
{
    struct policy *p;

    policy_set_init(ps);
    ps->dflt.name = strdup("default");
    p = add_policy(ps, "gdpr", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    p->min_version = TLS_V_TLS12;
    p->ciphers = ciphers(STRICT_CIPHERS, false);
    p->min_cipher_bits = 128;
    add_domains(ps, false, DOMAINS("gdpr.example", ".gdpr.example", "bücher.example"));
    p = add_policy(ps, "partner", TLS_LEVEL_VERIFIED, POLICY_ACTION_REJECT);
    p->cert_subject = strdup("mx.partner.example");
    add_domains(ps, true, DOMAINS("partner.example"));
    p = add_policy(ps, "soft", TLS_LEVEL_REQUIRED, POLICY_ACTION_TEMPFAIL);
    add_domains(ps, false, DOMAINS("soft.example"));
    p = add_policy(ps, "watch", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    p->mode = POLICY_MODE_MONITOR;
    add_domains(ps, false, DOMAINS("watch.example"));
    p = add_policy(ps, "issuer", TLS_LEVEL_VERIFIED, POLICY_ACTION_TEMPFAIL);
    p->cert_issuer = strdup("Partner CA");
    add_domains(ps, false, DOMAINS("issuer.example"));
    p = add_policy(ps, "clientpol", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    p->min_version = TLS_V_TLS13;
    p->by_client = true;
    add_cidr(&p->clients, "192.0.2.0/24");
    p = add_policy(ps, "combo", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    add_domains(ps, false, DOMAINS("combo.example"));
    add_domains(ps, true, DOMAINS("combo-sender.example"));
    p = add_policy(ps, "custom", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    p->reply = strdup("Mail for %d needs TLS, 100%% sure");
    add_domains(ps, false, DOMAINS("custom.example"));
    p = add_policy(ps, "nonepol", TLS_LEVEL_NONE, POLICY_ACTION_REJECT);
    add_domains(ps, false, DOMAINS("none.example"));
    p = add_policy(ps, "t13", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    p->ciphersuites = ciphers("TLS_AES_256_GCM_SHA384", true);
    add_domains(ps, false, DOMAINS("t13.example"));
    p = add_policy(ps, "bits", TLS_LEVEL_REQUIRED, POLICY_ACTION_REJECT);
    p->min_cipher_bits = 256;
    add_domains(ps, false, DOMAINS("bits.example"));
    add_cidr(&ps->exempt_clients, "127.0.0.0/8");
    add_cidr(&ps->exempt_clients, "::1");
    ps->exempt_authenticated = true;
}

struct dcase {
    const char *name;
    /* session */
    const char *client, *tls, *cipher, *bits, *subject, *issuer, *verify, *auth, *sender;
    /* recipient as sent, and as resolved by Postfix ({rcpt_addr}) */
    const char *rcpt, *resolved;
    /* expected */
    enum decision_action action, would;
    enum reason reason;
    const char *policy;   /* deciding policy, NULL when none */
    const char *codes;    /* "530 5.7.0", or NULL for no reply */
};

#define ACC DECISION_ACCEPT
#define REJ DECISION_REJECT
#define TMP DECISION_TEMPFAIL
#define T12 "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256"
#define PLAIN NULL, NULL, NULL
#define NOCERT NULL, NULL, NULL, NULL
#define CLIENT "198.51.100.7"
#define SDR "<a@sender.example>"

static const struct dcase cases[] = {
    /* level required: plaintext, versions, ciphers, bits */
    {"plaintext to required", CLIENT, PLAIN, NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"plaintext to subdomain of required", CLIENT, PLAIN, NOCERT, SDR, "<u@a.b.gdpr.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"case and trailing dot", CLIENT, PLAIN, NOCERT, SDR, "<u@GDPR.Example.>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"IDN U-label recipient", CLIENT, PLAIN, NOCERT, SDR, "<u@BÜCHER.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"IDN A-label recipient", CLIENT, PLAIN, NOCERT, SDR, "<u@xn--bcher-kva.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"TLS 1.2 ECDHE to required", CLIENT, T12, NOCERT, SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"TLS 1.3 to required", CLIENT, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"TLS 1.1 below floor", CLIENT, "TLSv1.1", "ECDHE-RSA-AES256-SHA", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_TLS_VERSION, "gdpr", "550 5.7.0"},
    {"TLS 1.0 below floor", CLIENT, "TLSv1", "AES256-SHA", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_TLS_VERSION, "gdpr", "550 5.7.0"},
    {"SSLv3 below floor", CLIENT, "SSLv3", "AES256-SHA", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_TLS_VERSION, "gdpr", "550 5.7.0"},
    {"unknown version meets no floor", CLIENT, "TLSv1.4", "ECDHE-RSA-AES256-GCM-SHA384", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_TLS_VERSION, "gdpr", "550 5.7.0"},
    {"static RSA key exchange excluded", CLIENT, "TLSv1.2", "AES256-GCM-SHA384", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"static RSA CBC excluded", CLIENT, "TLSv1.2", "AES128-SHA", "128", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"RC4 unknown to OpenSSL", CLIENT, "TLSv1.2", "RC4-SHA", "128", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"3DES excluded", CLIENT, "TLSv1.2", "DES-CBC3-SHA", "168", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"anonymous excluded", CLIENT, "TLSv1.2", "AECDH-AES256-SHA", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"NULL cipher excluded", CLIENT, "TLSv1.2", "ECDHE-RSA-NULL-SHA", "0", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"IANA cipher name accepted", CLIENT, "TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "256", NOCERT, SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"missing cipher macro", CLIENT, "TLSv1.2", NULL, "256", NOCERT, SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_CIPHER, "gdpr", "550 5.7.0"},
    {"bits below floor", CLIENT, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", NOCERT, SDR, "<u@bits.example>", NULL, REJ, REJ, REASON_CIPHER_BITS, "bits", "550 5.7.0"},
    {"bits absent meet no floor", CLIENT, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", NULL, NOCERT, SDR, "<u@bits.example>", NULL, REJ, REJ, REASON_CIPHER_BITS, "bits", "550 5.7.0"},
    {"bits garbage meet no floor", CLIENT, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256x", NOCERT, SDR, "<u@bits.example>", NULL, REJ, REJ, REASON_CIPHER_BITS, "bits", "550 5.7.0"},
    {"TLS 1.3 suite outside ciphersuites", CLIENT, "TLSv1.3", "TLS_AES_128_GCM_SHA256", "128", NOCERT, SDR, "<u@t13.example>", NULL, REJ, REJ, REASON_CIPHER, "t13", "550 5.7.0"},
    {"TLS 1.3 suite inside ciphersuites", CLIENT, "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", NOCERT, SDR, "<u@t13.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"TLS 1.2 cipher with only ciphersuites set", CLIENT, "TLSv1.2", "AES128-SHA", "128", NOCERT, SDR, "<u@t13.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    /* opportunistic and none */
    {"plaintext to default", CLIENT, PLAIN, NOCERT, SDR, "<u@ordinary.example>", NULL, ACC, ACC, REASON_PLAINTEXT_ALLOWED, NULL, NULL},
    {"weak TLS to default is accepted", CLIENT, "TLSv1", "DES-CBC3-SHA", "168", NOCERT, SDR, "<u@ordinary.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"level none plaintext", CLIENT, PLAIN, NOCERT, SDR, "<u@none.example>", NULL, ACC, ACC, REASON_PLAINTEXT_ALLOWED, NULL, NULL},
    /* actions and modes */
    {"tempfail action", CLIENT, PLAIN, NOCERT, SDR, "<u@soft.example>", NULL, TMP, TMP, REASON_PLAINTEXT, "soft", "450 4.7.0"},
    {"monitor policy", CLIENT, PLAIN, NOCERT, SDR, "<u@watch.example>", NULL, ACC, REJ, REASON_PLAINTEXT, "watch", "530 5.7.0"},
    {"reject beats tempfail", CLIENT, PLAIN, NOCERT, "<a@partner.example>", "<u@soft.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "partner", "530 5.7.0"},
    {"custom reply", CLIENT, PLAIN, NOCERT, SDR, "<u@custom.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "custom", "530 5.7.0"},
    /* verified: Postfix (CN only, trusted certificates only) */
    {"postfix trusted cert", CLIENT, T12, "mx.partner.example", "Partner CA", NULL, NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"postfix no trusted cert", CLIENT, T12, NOCERT, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_UNVERIFIED, "partner", "550 5.7.1"},
    {"postfix other CN", CLIENT, T12, "mx.other.example", "Partner CA", NULL, NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_MISMATCH, "partner", "550 5.7.1"},
    {"postfix CN compares case-insensitively", CLIENT, T12, "MX.Partner.Example", NULL, NULL, NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"verified needs TLS first", CLIENT, PLAIN, NOCERT, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "partner", "530 5.7.0"},
    /* verified: Sendmail ({verify}, xtext DNs) */
    {"sendmail verify OK", CLIENT, T12, "/O=Partner+20GmbH/CN=mx.partner.example", "/O=Partner+20GmbH/CN=Partner+20CA", "OK", NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"sendmail verify FAIL", CLIENT, T12, "/O=Partner+20GmbH/CN=mx.partner.example", "/CN=Evil", "FAIL", NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_UNVERIFIED, "partner", "550 5.7.1"},
    {"sendmail verify NO", CLIENT, T12, "", "", "NO", NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_UNVERIFIED, "partner", "550 5.7.1"},
    {"sendmail verify NOT", CLIENT, T12, "", "", "NOT", NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_UNVERIFIED, "partner", "550 5.7.1"},
    {"sendmail verify TEMP", CLIENT, T12, "/CN=mx.partner.example", "/CN=Partner+20CA", "TEMP", NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_UNVERIFIED, "partner", "550 5.7.1"},
    {"sendmail verify OK wrong CN", CLIENT, T12, "/O=Partner/CN=mx.evil.example", "/CN=Partner+20CA", "OK", NULL, "<a@partner.example>", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_MISMATCH, "partner", "550 5.7.1"},
    {"issuer matches", CLIENT, T12, "/CN=mx.x.example", "/O=P/CN=Partner+20CA", "OK", NULL, SDR, "<u@issuer.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"issuer mismatch tempfails", CLIENT, T12, "/CN=mx.x.example", "/CN=Other+20CA", "OK", NULL, SDR, "<u@issuer.example>", NULL, TMP, TMP, REASON_CERT_MISMATCH, "issuer", "450 4.7.1"},
    {"null sender is held to no sender policy", CLIENT, T12, NOCERT, "<>", "<u@ordinary.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    /* exemptions */
    {"exempt IPv4 client", "127.0.0.1", PLAIN, NOCERT, SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_EXEMPT, NULL, NULL},
    {"exempt IPv6 client", "IPv6:::1", PLAIN, NOCERT, SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_EXEMPT, NULL, NULL},
    {"exempt IPv4-mapped client", "::ffff:127.0.0.9", PLAIN, NOCERT, SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_EXEMPT, NULL, NULL},
    {"exempt authenticated", CLIENT, PLAIN, NULL, NULL, NULL, "PLAIN", SDR, "<u@gdpr.example>", NULL, ACC, ACC, REASON_EXEMPT, NULL, NULL},
    {"empty auth_type is not authenticated", CLIENT, PLAIN, NULL, NULL, NULL, "", SDR, "<u@gdpr.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    /* client policies */
    {"client policy applies", "192.0.2.5", T12, NOCERT, SDR, "<u@ordinary.example>", NULL, REJ, REJ, REASON_TLS_VERSION, "clientpol", "550 5.7.0"},
    {"client policy not for others", "192.0.3.5", T12, NOCERT, SDR, "<u@ordinary.example>", NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL},
    {"unknown client address gets client policy", NULL, T12, NOCERT, SDR, "<u@ordinary.example>", NULL, REJ, REJ, REASON_TLS_VERSION, "clientpol", "550 5.7.0"},
    /* selectors combine with AND */
    {"combo rcpt only", CLIENT, PLAIN, NOCERT, SDR, "<u@combo.example>", NULL, ACC, ACC, REASON_PLAINTEXT_ALLOWED, NULL, NULL},
    {"combo rcpt and sender", CLIENT, PLAIN, NOCERT, "<a@combo-sender.example>", "<u@combo.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "combo", "530 5.7.0"},
    /* recipients whose domain cannot be determined: strictest */
    {"rcpt without domain", CLIENT, PLAIN, NOCERT, SDR, "<postmaster>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"rcpt address literal", CLIENT, PLAIN, NOCERT, SDR, "<u@[192.0.2.1]>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"rcpt unparsable", CLIENT, PLAIN, NOCERT, SDR, "<@>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"rcpt without domain over TLS meets every requirement", CLIENT, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "256", NOCERT, SDR, "<postmaster>", NULL, TMP, TMP, REASON_CERT_UNVERIFIED, "issuer", "450 4.7.1"},
    {"resolved rcpt stricter than sent", CLIENT, PLAIN, NOCERT, SDR, "<u@ordinary.example>", "<u@gdpr.example>", REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"percent hack is undeterminable", CLIENT, PLAIN, NOCERT, SDR, "<u%gdpr.example@other.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"bang path is undeterminable", CLIENT, PLAIN, NOCERT, SDR, "<gdpr.example!u@other.example>", NULL, REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
    {"quoted percent is an ordinary local part", CLIENT, PLAIN, NOCERT, SDR, "<\"u%x\"@other.example>", NULL, ACC, ACC, REASON_PLAINTEXT_ALLOWED, NULL, NULL},
    {"sendmail rcpt_addr is the bare local user", CLIENT, PLAIN, NOCERT, SDR, "<u@other.example>", "alice", ACC, ACC, REASON_PLAINTEXT_ALLOWED, NULL, NULL},
    {"unreadable sender gets every sender policy", CLIENT, T12, NOCERT, "x@partner.example (Partner)", "<u@ordinary.example>", NULL, REJ, REJ, REASON_CERT_UNVERIFIED, "partner", "550 5.7.1"},
    {"sent rcpt stricter than resolved", CLIENT, PLAIN, NOCERT, SDR, "<u@gdpr.example>", "<u@ordinary.example>", REJ, REJ, REASON_PLAINTEXT, "gdpr", "530 5.7.0"},
};

/* session_from - session facts of a case */
static void session_from(const struct dcase *c, struct session_facts *s)
{
    session_facts_init(s);
    /* Cases with {verify} come from Sendmail, the others from Postfix. */
    assert_int_equal(facts_set_mta(s, c->verify ? "8.17.1" : "Postfix 3.7.11"), 0);
    if (c->client)
        assert_int_equal(facts_set_client_addr(s, c->client), 0);
    assert_int_equal(facts_set_tls_version(s, c->tls), 0);
    assert_int_equal(facts_set_cipher(s, c->cipher), 0);
    assert_int_equal(facts_set_cipher_bits(s, c->bits), 0);
    assert_int_equal(facts_set_cert_subject(s, c->subject), 0);
    assert_int_equal(facts_set_cert_issuer(s, c->issuer), 0);
    assert_int_equal(facts_set_verify(s, c->verify), 0);
    assert_int_equal(facts_set_auth_type(s, c->auth), 0);
    assert_int_equal(facts_set_sender(s, c->sender), 0);
}

/* decide_case - run one case, return the decision */
static void decide_case(const struct policy_set *ps, const struct dcase *c, struct decision *d)
{
    struct session_facts s;
    struct rcpt_facts r;

    session_from(c, &s);
    rcpt_facts_init(&r);
    assert_int_equal(facts_set_rcpt(&r, c->rcpt), 0);
    if (c->resolved)
        assert_int_equal(facts_set_rcpt_resolved(&r, c->resolved), 0);
    policy_decide(ps, &s, &r, NULL, 0, NULL, d);
    d->rcpt_domain = NULL; /* points into r, which goes now */
    rcpt_facts_clear(&r);
    session_facts_clear(&s);
}

/* test_table - every named case */
static void test_table(void **state)
{
    struct policy_set *ps = *state;
    size_t i, failed = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct dcase *c = &cases[i];
        struct decision d;
        char reply[512];
        const char *pname;

        decide_case(ps, c, &d);
        decision_format_reply(&d, reply, sizeof(reply));
        pname = d.policy ? d.policy->name : NULL;
        if (d.action != c->action || d.would != c->would || d.reason != c->reason
            || (pname == NULL) != (c->policy == NULL) || (pname && strcmp(pname, c->policy) != 0)
            || (c->codes == NULL && reply[0] != 0)
            || (c->codes && strncmp(reply, c->codes, strlen(c->codes)) != 0)) {
            print_error("case \"%s\": got action=%s would=%s reason=%s policy=%s reply=\"%s\"\n", c->name,
                        decision_action_name(d.action), decision_action_name(d.would),
                        decision_reason_name(d.reason), pname ? pname : "-", reply);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* An ad-hoc case: the fields after the recipient are not used. */
#define ADHOC(...) ((struct dcase){"", __VA_ARGS__, NULL, ACC, ACC, REASON_TLS_OK, NULL, NULL})

/* reply_of - the formatted reply for one ad-hoc case */
static void reply_of(const struct policy_set *ps, struct dcase c, char *reply, size_t len, struct decision *d)
{
    decide_case(ps, &c, d);
    decision_format_reply(d, reply, len);
}

/* test_reply_texts - default and configured replies name recipient and domain */
static void test_reply_texts(void **state)
{
    const struct policy_set *ps = *state;
    struct decision d;
    char r[512];

    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "<u@gdpr.example>"), r, sizeof(r), &d);
    assert_string_equal(r, "530 5.7.0 Must issue a STARTTLS command first: mail for <u@gdpr.example>"
                           " (domain gdpr.example) requires TLS");
    /* the record writer hides the recipient here when log.addresses says so */
    assert_int_equal(d.text_rcpt_len, (int) strlen("u@gdpr.example"));
    assert_memory_equal(d.text + d.text_rcpt_at, "u@gdpr.example>", 15);
    reply_of(ps, ADHOC(CLIENT, "TLSv1", "AES256-SHA", "256", NOCERT, SDR, "<u@gdpr.example>"), r,
             sizeof(r), &d);
    assert_string_equal(r, "550 5.7.0 TLS protocol or cipher too weak: mail for <u@gdpr.example>"
                           " (domain gdpr.example) requires TLSv1.2 or newer, negotiated TLSv1");
    reply_of(ps, ADHOC(CLIENT, "TLSv1.2", "AES128-SHA", "128", NOCERT, SDR, "<u@gdpr.example>"), r,
             sizeof(r), &d);
    assert_string_equal(r, "550 5.7.0 TLS protocol or cipher too weak: mail for <u@gdpr.example>"
                           " (domain gdpr.example) requires an allowed cipher, negotiated TLSv1.2 with AES128-SHA");
    reply_of(ps, ADHOC(CLIENT, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", NOCERT, SDR,
                                "<u@bits.example>"), r, sizeof(r), &d);
    assert_string_equal(r, "550 5.7.0 TLS protocol or cipher too weak: mail for <u@bits.example>"
                           " (domain bits.example) requires at least 256-bit ciphers,"
                           " negotiated ECDHE-RSA-AES128-GCM-SHA256 with 128 bits");
    reply_of(ps, ADHOC(CLIENT, T12, NOCERT, "<a@partner.example>", "<u@o.example>"), r, sizeof(r), &d);
    assert_string_equal(r, "550 5.7.1 Verified client certificate required for mail to <u@o.example>"
                           " (domain o.example)");
    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "<u@custom.example>"), r, sizeof(r), &d);
    assert_string_equal(r, "530 5.7.0 Mail for custom.example needs TLS, 100% sure");
    assert_int_equal(d.text_rcpt_at, -1);
}

/* test_reply_hostile - a hostile recipient cannot put bytes outside printable ASCII in a reply */
static void test_reply_hostile(void **state)
{
    const struct policy_set *ps = *state;
    struct decision d;
    char r[512], rcpt[3000];
    const char *p;

    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "<\"a\r\n250 ok\xff\"@gdpr.example>"), r, sizeof(r),
             &d);
    assert_int_equal(d.reason, REASON_PLAINTEXT);
    for (p = r; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    memset(rcpt, 'a', sizeof(rcpt));
    memcpy(rcpt, "<", 1);
    snprintf(rcpt + sizeof(rcpt) - 20, 20, "@gdpr.example>");
    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, rcpt), r, sizeof(r), &d);
    assert_true(strlen(r) < 512);
    assert_memory_equal(r, "530 5.7.0 ", 10);
}

/* test_global_monitor - monitor mode decides and logs, never refuses */
static void test_global_monitor(void **state)
{
    struct policy_set *ps = *state;
    struct decision d;
    char r[512];

    ps->mode = POLICY_MODE_MONITOR;
    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "<u@gdpr.example>"), r, sizeof(r), &d);
    ps->mode = POLICY_MODE_ENFORCE;
    assert_int_equal(d.action, DECISION_ACCEPT);
    assert_int_equal(d.would, DECISION_REJECT);
    assert_int_equal(d.mode, POLICY_MODE_MONITOR);
    assert_int_equal(d.reason, REASON_PLAINTEXT);
    assert_memory_equal(r, "530 5.7.0 ", 10);
}

/* test_enforce_outranks_monitor - an enforcing failure decides over a monitored one */
static void test_enforce_outranks_monitor(void **state)
{
    const struct policy_set *ps = *state;
    struct decision d;
    char r[512];

    /* watch (monitor) and soft (enforce, tempfail) both apply to an
       undeterminable recipient; so do gdpr and others. */
    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "postmaster"), r, sizeof(r), &d);
    assert_int_equal(d.mode, POLICY_MODE_ENFORCE);
    assert_int_equal(d.action, DECISION_REJECT);
    assert_true(d.ninforce >= 8);
    assert_int_equal(d.level, TLS_LEVEL_VERIFIED);
}

/* test_inforce_list - policies in force, in configuration order; default alone */
static void test_inforce_list(void **state)
{
    const struct policy_set *ps = *state;
    struct decision d;
    char r[512];

    reply_of(ps, ADHOC(CLIENT, T12, "mx.partner.example", NULL, NULL, NULL, "<a@partner.example>",
                                "<u@gdpr.example>"), r, sizeof(r), &d);
    assert_int_equal(d.ninforce, 3);
    assert_string_equal(d.inforce[0]->name, "gdpr");
    assert_string_equal(d.inforce[1]->name, "partner");
    assert_ptr_equal(d.inforce[2], &ps->dflt);
    assert_int_equal(d.level, TLS_LEVEL_VERIFIED);
    assert_true(d.cert_verified);
    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "<u@ordinary.example>"), r, sizeof(r), &d);
    assert_int_equal(d.ninforce, 1);
    assert_ptr_equal(d.inforce[0], &ps->dflt);
    assert_int_equal(d.level, TLS_LEVEL_OPPORTUNISTIC);
}

/* test_unknown_mta_subject - without {verify}, only Postfix's subject means trusted */
static void test_unknown_mta_subject(void **state)
{
    const struct policy_set *ps = *state;
    struct session_facts s;
    struct rcpt_facts r;
    struct decision d;
    const char *const mta[] = {NULL, "8.17.1", "Postfix 3.7.11"};
    const enum reason want[] = {REASON_CERT_UNVERIFIED, REASON_CERT_UNVERIFIED, REASON_TLS_OK};
    size_t i;

    for (i = 0; i < 3; i++) {
        session_facts_init(&s);
        rcpt_facts_init(&r);
        facts_set_mta(&s, mta[i]);
        facts_set_client_addr(&s, CLIENT);
        facts_set_tls_version(&s, "TLSv1.2");
        facts_set_cipher(&s, "ECDHE-RSA-AES256-GCM-SHA384");
        facts_set_cipher_bits(&s, "256");
        facts_set_cert_subject(&s, "mx.partner.example");
        facts_set_sender(&s, "<a@partner.example>");
        facts_set_rcpt(&r, "<u@ordinary.example>");
        policy_decide(ps, &s, &r, NULL, 0, NULL, &d);
        assert_int_equal(d.reason, want[i]);
        rcpt_facts_clear(&r);
        session_facts_clear(&s);
    }
}

/* test_default_is_baseline - a named policy cannot weaken the default */
static void test_default_is_baseline(void **state)
{
    struct policy_set *ps = *state;
    struct decision d;
    char r[512];

    ps->dflt.level = TLS_LEVEL_REQUIRED;
    reply_of(ps, ADHOC(CLIENT, PLAIN, NOCERT, SDR, "<u@none.example>"), r, sizeof(r), &d);
    ps->dflt.level = TLS_LEVEL_OPPORTUNISTIC;
    assert_int_equal(d.action, DECISION_REJECT);
    assert_int_equal(d.reason, REASON_PLAINTEXT);
    assert_string_equal(d.policy->name, "default");
}

/* test_many_inforce - every policy in force counts, not only those the record lists */
static void test_many_inforce(void **state)
{
    struct policy_set set;
    struct session_facts s;
    struct rcpt_facts r;
    struct decision d;
    char name[32];
    int i;

    (void) state;
    policy_set_init(&set);
    for (i = 0; i < DECISION_INFORCE_MAX + 8; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        add_policy(&set, name, i == DECISION_INFORCE_MAX + 5 ? TLS_LEVEL_REQUIRED : TLS_LEVEL_OPPORTUNISTIC,
                   POLICY_ACTION_REJECT);
        add_domains(&set, false, DOMAINS(".example"));
    }
    session_facts_init(&s);
    rcpt_facts_init(&r);
    facts_set_rcpt(&r, "<u@many.example>");
    policy_decide(&set, &s, &r, NULL, 0, NULL, &d);
    assert_int_equal(d.ninforce, DECISION_INFORCE_MAX + 9);
    assert_int_equal(d.action, DECISION_REJECT);
    assert_int_equal(d.reason, REASON_PLAINTEXT);
    rcpt_facts_clear(&r);
    session_facts_clear(&s);
    policy_set_clear(&set);
}

/* sender_case - a plaintext session from sender (and {mail_addr} resolved), to ordinary.example */
static enum decision_action sender_case(const struct policy_set *ps, const char *sender, const char *resolved)
{
    struct session_facts s;
    struct rcpt_facts r;
    struct decision d;

    session_facts_init(&s);
    rcpt_facts_init(&r);
    facts_set_mta(&s, "Postfix 3.7.11");
    facts_set_client_addr(&s, CLIENT);
    facts_set_sender(&s, sender);
    facts_set_sender_resolved(&s, resolved);
    facts_set_rcpt(&r, "<u@ordinary.example>");
    policy_decide(ps, &s, &r, NULL, 0, NULL, &d);
    rcpt_facts_clear(&r);
    session_facts_clear(&s);
    return d.action;
}

/* test_sender_resolved - Postfix's {mail_addr} reads decorated senders */
static void test_sender_resolved(void **state)
{
    const struct policy_set *ps = *state;

    /* partner.example requires a verified certificate: plaintext is refused */
    assert_int_equal(sender_case(ps, "<<a@partner.example>>", "a@partner.example"), DECISION_REJECT);
    assert_int_equal(sender_case(ps, "<<a@friend.example>>", "a@friend.example"), DECISION_ACCEPT);
    assert_int_equal(sender_case(ps, "<a@friend.example>", "a@partner.example"), DECISION_REJECT);
    assert_int_equal(sender_case(ps, "<<>>", ""), DECISION_ACCEPT);
    assert_int_equal(sender_case(ps, "<<a@friend.example>>", NULL), DECISION_REJECT);
}

#define NOW 1000000L
#define DAY 86400L

struct fbcase {
    const char *name;
    const char *client, *tls, *rcpt;
    bool known;                       /* learned facts passed at all */
    long tls_ago, defer_ago;          /* -1: never; other negatives: ahead of now */
    int deferrals;
    enum fallback_action action;
    enum fallback_then then;
    enum policy_mode mode;            /* global */
    enum tls_level dflt;
    enum decision_action want_action, want_would;
    enum reason want_reason;
    int want_deferrals;
    const char *codes;
};

#define TA FB_ACTION_TEMPFAIL
#define EN POLICY_MODE_ENFORCE
#define OPP TLS_LEVEL_OPPORTUNISTIC
#define ORD "<u@ordinary.example>"

static const struct fbcase fbcases[] = {
    {"nothing learned", CLIENT, NULL, ORD, false, -1, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_PLAINTEXT_ALLOWED, -1, NULL},
    {"never used TLS", CLIENT, NULL, ORD, true, -1, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_PLAINTEXT_ALLOWED, 0, NULL},
    {"TLS yesterday, plaintext now", CLIENT, NULL, ORD, true, DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, TMP, TMP, REASON_DOWNGRADE, 0, "450 4.7.0"},
    {"TLS seen by an MX whose clock is 5 s ahead", CLIENT, NULL, ORD, true, -5, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, TMP, TMP, REASON_DOWNGRADE, 0, "450 4.7.0"},
    {"TLS stamped more than a window ahead", CLIENT, NULL, ORD, true, -31 * DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_PLAINTEXT_ALLOWED, 0, NULL},
    {"TLS outside the window", CLIENT, NULL, ORD, true, 31 * DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_PLAINTEXT_ALLOWED, 0, NULL},
    {"two deferrals so far", CLIENT, NULL, ORD, true, DAY, 3600, 2, TA, FB_THEN_ACCEPT, EN, OPP, TMP, TMP, REASON_DOWNGRADE, 2, "450 4.7.0"},
    {"max deferrals then accept", CLIENT, NULL, ORD, true, DAY, 3600, 3, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_DOWNGRADE_ACCEPTED, 3, NULL},
    {"max deferrals then reject", CLIENT, NULL, ORD, true, DAY, 3600, 3, TA, FB_THEN_REJECT, EN, OPP, REJ, REJ, REASON_DOWNGRADE, 3, "550 5.7.0"},
    {"deferral period over: count restarts", CLIENT, NULL, ORD, true, DAY, 7 * 3600, 3, TA, FB_THEN_ACCEPT, EN, OPP, TMP, TMP, REASON_DOWNGRADE, 0, "450 4.7.0"},
    {"action reject", CLIENT, NULL, ORD, true, DAY, -1, 0, FB_ACTION_REJECT, FB_THEN_ACCEPT, EN, OPP, REJ, REJ, REASON_DOWNGRADE, 0, "550 5.7.0"},
    {"action log", CLIENT, NULL, ORD, true, DAY, -1, 0, FB_ACTION_LOG, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_DOWNGRADE, 0, NULL},
    {"level none: no rule", CLIENT, NULL, ORD, true, DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, TLS_LEVEL_NONE, ACC, ACC, REASON_PLAINTEXT_ALLOWED, 0, NULL},
    {"required recipient: refused for plaintext", CLIENT, NULL, "<u@gdpr.example>", true, DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, REJ, REJ, REASON_PLAINTEXT, 0, "530 5.7.0"},
    {"TLS session: no downgrade", CLIENT, "TLSv1.2", ORD, true, DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_TLS_OK, 0, NULL},
    {"monitor mode would defer", CLIENT, NULL, ORD, true, DAY, -1, 0, TA, FB_THEN_ACCEPT, POLICY_MODE_MONITOR, OPP, ACC, TMP, REASON_DOWNGRADE, 0, "450 4.7.0"},
    {"exempt client", "127.0.0.1", NULL, ORD, true, DAY, -1, 0, TA, FB_THEN_ACCEPT, EN, OPP, ACC, ACC, REASON_EXEMPT, -1, NULL},
};

/* fallback_case - one case against the shared set with its rules */
static void fallback_case(struct policy_set *ps, const struct fbcase *c, struct decision *d)
{
    struct learned l = {.key = "client_domain:sender.example",
                        .last_tls = c->tls_ago == -1 ? 0 : NOW - c->tls_ago,
                        .deferrals = c->deferrals,
                        .defer_start = c->defer_ago == -1 ? 0 : NOW - c->defer_ago};
    struct session_facts s;
    struct rcpt_facts r;

    ps->fallback.enabled = true;
    ps->fallback.action = c->action;
    ps->fallback.then = c->then;
    ps->mode = c->mode;
    ps->dflt.level = c->dflt;
    session_facts_init(&s);
    rcpt_facts_init(&r);
    facts_set_client_addr(&s, c->client);
    facts_set_tls_version(&s, c->tls);
    facts_set_cipher(&s, c->tls ? "ECDHE-RSA-AES256-GCM-SHA384" : NULL);
    facts_set_cipher_bits(&s, c->tls ? "256" : NULL);
    facts_set_sender(&s, SDR);
    facts_set_rcpt(&r, c->rcpt);
    policy_decide(ps, &s, &r, c->known ? &l : NULL, NOW, NULL, d);
    d->rcpt_domain = NULL;
    rcpt_facts_clear(&r);
    session_facts_clear(&s);
    ps->fallback.enabled = false;
    ps->mode = POLICY_MODE_ENFORCE;
    ps->dflt.level = TLS_LEVEL_OPPORTUNISTIC;
}

/* test_fallback - the downgrade rules, case by case */
static void test_fallback(void **state)
{
    struct policy_set *ps = *state;
    size_t i, failed = 0;

    for (i = 0; i < sizeof(fbcases) / sizeof(fbcases[0]); i++) {
        const struct fbcase *c = &fbcases[i];
        struct decision d;
        char reply[512];

        fallback_case(ps, c, &d);
        decision_format_reply(&d, reply, sizeof(reply));
        if (d.action != c->want_action || d.would != c->want_would || d.reason != c->want_reason
            || d.deferrals != c->want_deferrals || (c->codes == NULL) != (reply[0] == 0)
            || (c->codes && strncmp(reply, c->codes, strlen(c->codes)) != 0)) {
            print_error("case \"%s\": got action=%s would=%s reason=%s deferrals=%d reply=\"%s\"\n", c->name,
                        decision_action_name(d.action), decision_action_name(d.would),
                        decision_reason_name(d.reason), d.deferrals, reply);
            failed++;
        }
        if (c->want_deferrals >= 0 && strcmp(d.fallback_key, "client_domain:sender.example") != 0) {
            print_error("case \"%s\": fallback_key \"%s\"\n", c->name, d.fallback_key);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* test_downgrade_reply - SPEC.md's text */
static void test_downgrade_reply(void **state)
{
    struct decision d;
    char reply[512];

    fallback_case(*state, &fbcases[2], &d);
    decision_format_reply(&d, reply, sizeof(reply));
    assert_string_equal(reply, "450 4.7.0 TLS downgrade suspected: your servers used TLS before;"
                               " retry with STARTTLS (mail for <u@ordinary.example>)");
    assert_null(d.policy);
}

static int trace_lines;

/* count_line - trace sink */
static void count_line(void *arg, const char *text)
{
    (void) arg;
    assert_non_null(text);
    trace_lines++;
}

/* test_trace - the account has a line per policy and a final decision */
static void test_trace(void **state)
{
    const struct policy_set *ps = *state;
    struct policy_trace trace = {count_line, NULL};
    struct session_facts s;
    struct rcpt_facts r;
    struct decision d;

    session_facts_init(&s);
    rcpt_facts_init(&r);
    assert_int_equal(facts_set_rcpt(&r, "<u@gdpr.example>"), 0);
    trace_lines = 0;
    policy_decide(ps, &s, &r, NULL, 0, &trace, &d);
    assert_int_equal(d.reason, REASON_PLAINTEXT);
    assert_true(trace_lines >= (int) ps->npolicies + 3);
    rcpt_facts_clear(&r);
    session_facts_clear(&s);
}

 /*
  * Certificate pinning: a set of its own, so that the shared table above
  * stays as it is. A pin verifies the certificate instead of a CA; no
  * fingerprint, or none that matches, is cert_mismatch.
  */
#define FP_A   "SHA256:0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define HEX_A  "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"
#define HEX_A_LOWER "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX_A_SHA1 "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67" /* A's first 20 bytes */
#define FP_C   "MD5:00112233445566778899aabbccddeeff"
#define HEX_C  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

/* add_pins - pins for a policy; every one must parse */
static void add_pins(struct policy *p, const char *const *pins)
{
    struct tp_error err;

    for (; *pins; pins++) {
        p->pins = realloc(p->pins, (p->npins + 1) * sizeof(*p->pins));
        assert_non_null(p->pins);
        assert_int_equal(certfp_parse_pin(*pins, &p->pins[p->npins++], &err), 0);
    }
}

/* build_pinned - pinned policies by sender, by recipient, and with a name */
static void build_pinned(struct policy_set *ps)
{
    struct policy *p;

    policy_set_init(ps);
    ps->dflt.name = strdup("default");
    p = add_policy(ps, "pinsender", TLS_LEVEL_VERIFIED, POLICY_ACTION_REJECT);
    add_pins(p, DOMAINS(FP_A, "SHA1:ffffffffffffffffffffffffffffffffffffffff"));
    add_domains(ps, true, DOMAINS("pinned.example"));
    p = add_policy(ps, "pinrcpt", TLS_LEVEL_VERIFIED, POLICY_ACTION_TEMPFAIL);
    add_pins(p, DOMAINS(FP_C));
    add_domains(ps, false, DOMAINS("pinrcpt.example"));
    p = add_policy(ps, "pinname", TLS_LEVEL_VERIFIED, POLICY_ACTION_REJECT);
    add_pins(p, DOMAINS(FP_A));
    p->cert_subject = strdup("mx.pinname.example");
    add_domains(ps, true, DOMAINS("pinname.example"));
}

struct pcase {
    const char *name;
    const char *tls, *subject, *verify; /* verify set: Sendmail, else Postfix */
    const char *fp, *pubkey_fp;
    const char *sender, *rcpt;
    enum decision_action action;
    enum reason reason;
    const char *policy;
    bool cert_verified;
};

static const struct pcase pcases[] = {
    {"certificate pinned", "TLSv1.2", NULL, NULL, HEX_A, NULL, "<a@pinned.example>", "<u@x.example>", ACC, REASON_TLS_OK, NULL, true},
    {"hex without colons, lower case", "TLSv1.2", NULL, NULL, HEX_A_LOWER, NULL, "<a@pinned.example>", "<u@x.example>", ACC, REASON_TLS_OK, NULL, true},
    {"public key pinned", "TLSv1.2", NULL, NULL, HEX_C, HEX_A, "<a@pinned.example>", "<u@x.example>", ACC, REASON_TLS_OK, NULL, true},
    {"no fingerprint passed", "TLSv1.2", NULL, NULL, NULL, NULL, "<a@pinned.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinsender", false},
    {"empty fingerprint", "TLSv1.2", NULL, NULL, "", "", "<a@pinned.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinsender", false},
    {"CA-trusted without fingerprint", "TLSv1.2", "mx.pinned.example", NULL, NULL, NULL, "<a@pinned.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinsender", true},
    {"other certificate", "TLSv1.2", NULL, NULL, HEX_C, NULL, "<a@pinned.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinsender", false},
    {"same bytes, shorter digest", "TLSv1.2", NULL, NULL, HEX_A_SHA1, NULL, "<a@pinned.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinsender", false},
    {"unparsable fingerprint", "TLSv1.2", NULL, NULL, "01:23:4", NULL, "<a@pinned.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinsender", false},
    {"plaintext", NULL, NULL, NULL, HEX_A, NULL, "<a@pinned.example>", "<u@x.example>", REJ, REASON_PLAINTEXT, "pinsender", false},
    {"two pinned policies, one satisfied", "TLSv1.2", NULL, NULL, HEX_A, NULL, "<a@pinned.example>", "<u@pinrcpt.example>", TMP, REASON_CERT_MISMATCH, "pinrcpt", true},
    {"two pinned policies, both satisfied", "TLSv1.2", NULL, NULL, HEX_C, HEX_A, "<a@pinned.example>", "<u@pinrcpt.example>", ACC, REASON_TLS_OK, NULL, true},
    {"Sendmail: pin verifies a certificate the CA failed", "TLSv1.2", "/CN=mx.self.example", "FAIL", HEX_C, NULL, "<a@other.example>", "<u@pinrcpt.example>", ACC, REASON_TLS_OK, NULL, true},
    {"pin and name both met", "TLSv1.2", "mx.pinname.example", NULL, HEX_A, NULL, "<a@pinname.example>", "<u@x.example>", ACC, REASON_TLS_OK, NULL, true},
    {"pin met, name wrong", "TLSv1.2", "mx.other.example", NULL, HEX_A, NULL, "<a@pinname.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinname", true},
    {"pin met, no name", "TLSv1.2", NULL, NULL, HEX_A, NULL, "<a@pinname.example>", "<u@x.example>", REJ, REASON_CERT_MISMATCH, "pinname", true},
    {"unpinned recipient", "TLSv1.2", NULL, NULL, NULL, NULL, "<a@other.example>", "<u@x.example>", ACC, REASON_TLS_OK, NULL, false},
};

/* decide_pinned - one pinning case */
static void decide_pinned(const struct policy_set *ps, const struct pcase *c, struct decision *d)
{
    struct session_facts s;
    struct rcpt_facts r;

    session_facts_init(&s);
    rcpt_facts_init(&r);
    assert_int_equal(facts_set_mta(&s, c->verify ? "8.17.1" : "Postfix 3.7.11"), 0);
    assert_int_equal(facts_set_client_addr(&s, CLIENT), 0);
    assert_int_equal(facts_set_tls_version(&s, c->tls), 0);
    assert_int_equal(facts_set_cipher(&s, c->tls ? "ECDHE-RSA-AES256-GCM-SHA384" : NULL), 0);
    assert_int_equal(facts_set_cert_subject(&s, c->subject), 0);
    assert_int_equal(facts_set_verify(&s, c->verify), 0);
    assert_int_equal(facts_set_cert_fingerprint(&s, c->fp), 0);
    assert_int_equal(facts_set_cert_pubkey_fingerprint(&s, c->pubkey_fp), 0);
    assert_int_equal(facts_set_sender(&s, c->sender), 0);
    assert_int_equal(facts_set_rcpt(&r, c->rcpt), 0);
    policy_decide(ps, &s, &r, NULL, 0, NULL, d);
    d->rcpt_domain = NULL;
    rcpt_facts_clear(&r);
    session_facts_clear(&s);
}

/* test_pins - matching by certificate or key, digests, several pinned policies */
static void test_pins(void **state)
{
    struct policy_set ps;
    struct decision d;
    size_t i, failed = 0;
    const char *pname;
    char reply[512];

    (void) state;
    build_pinned(&ps);
    for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++) {
        const struct pcase *c = &pcases[i];

        decide_pinned(&ps, c, &d);
        decision_format_reply(&d, reply, sizeof(reply));
        pname = d.policy ? d.policy->name : NULL;
        if (d.action != c->action || d.reason != c->reason || d.cert_verified != c->cert_verified ||
            (pname == NULL) != (c->policy == NULL) || (pname && strcmp(pname, c->policy) != 0)) {
            print_error("case \"%s\": got action=%s reason=%s policy=%s cert_verified=%d reply=\"%s\"\n",
                        c->name, decision_action_name(d.action), decision_reason_name(d.reason),
                        pname ? pname : "-", d.cert_verified, reply);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
    /* The reply says what failed: the fingerprint, or the name. */
    decide_pinned(&ps, &pcases[3], &d);
    decision_format_reply(&d, reply, sizeof(reply));
    assert_non_null(strstr(reply, "550 5.7.1 "));
    assert_non_null(strstr(reply, "certificate fingerprint not accepted"));
    decide_pinned(&ps, &pcases[14], &d);
    decision_format_reply(&d, reply, sizeof(reply));
    assert_non_null(strstr(reply, "certificate name not accepted"));
    policy_set_clear(&ps);
}

/* setup - build the shared policy set */
static int setup(void **state)
{
    struct policy_set *ps = calloc(1, sizeof(*ps));

    if (ps == NULL)
        return -1;
    build_set(ps);
    *state = ps;
    return 0;
}

/* teardown - release it */
static int teardown(void **state)
{
    policy_set_clear(*state);
    free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_reply_texts),
        cmocka_unit_test(test_reply_hostile),
        cmocka_unit_test(test_global_monitor),
        cmocka_unit_test(test_enforce_outranks_monitor),
        cmocka_unit_test(test_inforce_list),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_unknown_mta_subject),
        cmocka_unit_test(test_default_is_baseline),
        cmocka_unit_test(test_many_inforce),
        cmocka_unit_test(test_sender_resolved),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_downgrade_reply),
        cmocka_unit_test(test_pins),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
