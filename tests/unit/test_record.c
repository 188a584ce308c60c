/*++
 * NAME
 *	test_record 1
 * SUMMARY
 *	unit tests for record.c
 * DESCRIPTION
 *	Exact output for typical records in both formats, then hostile values
 *	in every string field: each kv line is read back with a small
 *	tokenizer written here, and must give exactly the field list of
 *	SPEC.md and the original values; each json object is read back with a
 *	small strict parser and must be valid UTF-8. Address modes are
 *	checked against an HMAC computed here with OpenSSL's EVP_MAC API.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test framework. */
#include <cmocka.h>

/* OpenSSL. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* Application. */
#include "record/record.h"

#define N(a)       (sizeof(a) / sizeof((a)[0]))
#define MAX_FIELDS 40
#define JSON_FROM  "\"\\/bfnrt"
#define JSON_TO    "\"\\/\b\f\n\r\t"

static const char *const decision_keys[] = {
    "event",        "seq",       "instance",      "config",        "qid",          "action",
    "would",        "reason",    "policy",        "level",         "mode",         "rcpt",
    "rcpt_domain",  "sender",    "sender_domain", "client_addr",   "client_name",  "helo",
    "tls_version",  "cipher",    "cipher_bits",   "cert_verified", "cert_subject", "cert_issuer",
    "fallback_key", "deferrals", "reply",
};

/* A field read back from a record; value NULL is the absent marker. */
struct field {
    char key[32];
    char *value;
    size_t len;
    int number;
};

/* fields_free - release what a read-back left */
static void fields_free(struct field *f, int n)
{
    while (n-- > 0)
        free(f[n].value);
}

/* unquote - a quoted value after '"' into v; the end, or NULL if malformed.
   "\\X" maps by from/to; num is 'x' (kv: 2 hex digits) or 'u' (json: 4). */
static const char *unquote(const char *p, struct strbuf *v, const char *from, const char *to, char num)
{
    size_t digits = num == 'x' ? 2 : 4;
    char hex[5] = "";
    const char *q;
    unsigned long c;

    for (; *p != '"'; p++) {
        if (*p == 0 || (unsigned char) *p < 0x20 || (num == 'x' && (unsigned char) *p > 0x7e))
            return NULL; /* kv: a raw control or non-ASCII byte is a forgery risk */
        if (*p != '\\') {
            strbuf_putc(v, *p);
        } else if (*++p != 0 && (q = strchr(from, *p)) != NULL) {
            strbuf_putc(v, to[q - from]);
        } else if (*p == num && strspn(p + 1, "0123456789abcdefABCDEF") >= digits) {
            memcpy(hex, p + 1, digits);
            if ((c = strtoul(hex, NULL, 16)) == 0 || (num == 'u' && c >= 0x80))
                return NULL; /* json: the writer escapes only controls */
            strbuf_putc(v, (char) c);
            p += digits;
        } else {
            return NULL;
        }
    }
    return p + 1;
}

/* kv_plain_value - an unquoted kv value; "-" is absent; the end or NULL */
static const char *kv_plain_value(const char *p, struct field *f)
{
    const char *start = p;

    for (; *p && *p != ' '; p++)
        if ((unsigned char) *p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\' || *p == '=')
            return NULL;
    if (p == start)
        return NULL;
    if (p - start == 1 && *start == '-')
        return p;
    f->len = (size_t) (p - start);
    f->value = strndup(start, f->len);
    assert_non_null(f->value);
    return p;
}

/* kv_read - tokenize a kv line strictly; the number of fields, or -1 */
static int kv_read(const char *p, struct field *f)
{
    struct strbuf v;
    int n;
    size_t k;

    for (n = 0; n < MAX_FIELDS; n++) {
        memset(&f[n], 0, sizeof(f[n]));
        for (k = 0; (*p >= 'a' && *p <= 'z') || *p == '_'; p++)
            if (k < sizeof(f[n].key) - 1)
                f[n].key[k++] = *p;
        if (k == 0 || *p++ != '=')
            return -1;
        if (*p == '"') {
            strbuf_init(&v);
            p = unquote(p + 1, &v, "\"\\ntr", "\"\\\n\t\r", 'x');
            assert_false(strbuf_failed(&v));
            f[n].len = v.len;
            f[n].value = v.s ? v.s : strdup("");
        } else {
            p = kv_plain_value(p, &f[n]);
        }
        if (p == NULL)
            return fields_free(f, n + 1), -1;
        if (*p == 0)
            return n + 1;
        if (*p++ != ' ')
            return fields_free(f, n + 1), -1;
    }
    return fields_free(f, n), -1;
}

/* valid_utf8 - decode each sequence to its code point and check it (RFC 3629) */
static int valid_utf8(const unsigned char *p, size_t n)
{
    static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t i = 0, len, j;
    unsigned long cp;

    while (i < n) {
        len = p[i] < 0x80 ? 1 : p[i] >> 5 == 6 ? 2 : p[i] >> 4 == 14 ? 3 : p[i] >> 3 == 30 ? 4 : 0;
        if (len == 0 || i + len > n)
            return 0;
        cp = len == 1 ? p[i] : p[i] & (0x7f >> len);
        for (j = 1; j < len; j++) {
            if (p[i + j] >> 6 != 2)
                return 0;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

/* json_value - one value of a flat object; the end or NULL */
static const char *json_value(const char *p, struct field *f)
{
    struct strbuf v;
    size_t n;

    if (*p == '"') {
        strbuf_init(&v);
        p = unquote(p + 1, &v, JSON_FROM, JSON_TO, 'u');
        f->len = v.len;
        f->value = v.s ? v.s : strdup("");
        return p;
    }
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    n = strspn(p + (*p == '-'), "0123456789") + (*p == '-');
    if (n == 0 || (n == 1 && *p == '-'))
        return NULL;
    f->value = strndup(p, n);
    f->len = n;
    f->number = 1;
    return p + n;
}

/* json_read - read a flat object strictly; the number of fields, or -1 */
static int json_read(const char *p, struct field *f)
{
    struct strbuf k;
    int n;

    if (!valid_utf8((const unsigned char *) p, strlen(p)) || *p++ != '{')
        return -1;
    for (n = 0; n < MAX_FIELDS; n++) {
        memset(&f[n], 0, sizeof(f[n]));
        strbuf_init(&k);
        if (*p++ != '"' || (p = unquote(p, &k, JSON_FROM, JSON_TO, 'u')) == NULL ||
            k.len >= sizeof(f[n].key) || *p++ != ':') {
            strbuf_free(&k);
            return fields_free(f, n), -1;
        }
        strcpy(f[n].key, strbuf_str(&k));
        strbuf_free(&k);
        if ((p = json_value(p, &f[n])) == NULL)
            return fields_free(f, n + 1), -1;
        if (*p == '}' && p[1] == 0)
            return n + 1;
        if (*p++ != ',')
            return fields_free(f, n + 1), -1;
    }
    return fields_free(f, n), -1;
}

/* A decision as policy_decide() might have made it, filled by hand. */
struct fixture {
    struct session_facts sf;
    struct rcpt_facts rf;
    struct policy gdpr, partner;
    struct decision d;
    struct decision_record r;
    struct record_opts opts;
    struct strbuf out;
};

static char gdpr_name[] = "gdpr";
static char partner_name[] = "partner";

/* fixture_new - plaintext mail for a GDPR recipient, rejected */
static struct fixture *fixture_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    session_facts_init(&f->sf);
    rcpt_facts_init(&f->rf);
    policy_init(&f->gdpr);
    policy_init(&f->partner);
    f->gdpr.name = gdpr_name;
    f->gdpr.level = TLS_LEVEL_REQUIRED;
    f->partner.name = partner_name;
    assert_int_equal(facts_set_client_addr(&f->sf, "192.0.2.25"), 0);
    assert_int_equal(facts_set_client_name(&f->sf, "mx.partner.example"), 0);
    assert_int_equal(facts_set_helo(&f->sf, "mx.partner.example"), 0);
    assert_int_equal(facts_set_sender(&f->sf, "<alice@Partner.example>"), 0);
    assert_int_equal(facts_set_rcpt(&f->rf, "<Bob@GDPR.example>"), 0);
    f->d.action = f->d.would = DECISION_REJECT;
    f->d.reason = REASON_PLAINTEXT;
    f->d.policy = f->d.inforce[0] = &f->gdpr;
    f->d.ninforce = 1;
    f->d.level = TLS_LEVEL_REQUIRED;
    f->d.mode = POLICY_MODE_ENFORCE;
    f->d.rcpt_domain = f->rf.addr.domain;
    strcpy(f->d.rcode, "530");
    strcpy(f->d.xcode, "5.7.0");
    strcpy(f->d.text, "Must issue a STARTTLS command first for gdpr.example");
    f->d.deferrals = -1;
    f->r.seq = 42;
    f->r.instance = "i-1a2b";
    f->r.config = "c0ffee";
    f->r.decision = &f->d;
    f->r.session = &f->sf;
    f->r.rcpt = &f->rf;
    strbuf_init(&f->out);
    return f;
}

/* fixture_free - release the fixture */
static void fixture_free(struct fixture *f)
{
    session_facts_clear(&f->sf);
    rcpt_facts_clear(&f->rf);
    strbuf_free(&f->out);
    free(f);
}

/* format - the decision record in the given format */
static const char *format(struct fixture *f, enum log_format fmt)
{
    f->opts.format = fmt;
    strbuf_reset(&f->out);
    assert_int_equal(record_format_decision(&f->opts, &f->r, &f->out), 0);
    return strbuf_str(&f->out);
}

/* monitor_tls - TLS with a certificate that failed, in monitor mode */
static void monitor_tls(struct fixture *f)
{
    assert_int_equal(facts_set_tls_version(&f->sf, "TLSv1.2"), 0);
    assert_int_equal(facts_set_cipher(&f->sf, "ECDHE-RSA-AES256-GCM-SHA384"), 0);
    assert_int_equal(facts_set_cipher_bits(&f->sf, "256"), 0);
    assert_int_equal(facts_set_cert_subject(&f->sf, "/O=Partner+20GmbH/CN=mx.partner.example"), 0);
    assert_int_equal(facts_set_cert_issuer(&f->sf, "/CN=Partner+20CA"), 0);
    f->r.qid = "4XyZ1q2w3e";
    f->d.action = DECISION_ACCEPT;
    f->d.reason = REASON_CERT_UNVERIFIED;
    f->d.policy = &f->partner;
    f->d.inforce[1] = &f->partner;
    f->d.ninforce = 2;
    f->d.level = TLS_LEVEL_VERIFIED;
    f->d.mode = POLICY_MODE_MONITOR;
    strcpy(f->d.rcode, "550");
    strcpy(f->d.xcode, "5.7.1");
    strcpy(f->d.text, "Verified client certificate required");
    strcpy(f->d.fallback_key, "partner.example");
    f->d.deferrals = 2;
}

/* test_kv_value - plain tokens and quoting */
static void test_kv_value(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"tls_ok", "tls_ok"},
        {"", "\"\""},
        {"-", "\"-\""},
        {"--", "--"},
        {"-1", "-1"},
        {"a b", "\"a b\""},
        {"a=b", "\"a=b\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"a\\b", "\"a\\\\b\""},
        {"l1\nl2\r\t", "\"l1\\nl2\\r\\t\""},
        {"\001\037\177", "\"\\x01\\x1f\\x7f\""},
        {"\xc3\xbc", "\"\\xc3\\xbc\""},
        {"\xe9t\xe9", "\"\\xe9t\\xe9\""},
    };
    struct strbuf sb;
    size_t i;

    (void) state;
    strbuf_init(&sb);
    for (i = 0; i < N(cases); i++) {
        strbuf_reset(&sb);
        record_kv_value(&sb, cases[i].in);
        if (strcmp(strbuf_str(&sb), cases[i].want) != 0)
            fail_msg("kv %zu: got %s want %s", i, strbuf_str(&sb), cases[i].want);
    }
    strbuf_free(&sb);
}

/* test_decision_exact - a plaintext refusal, both formats, to the byte */
static void test_decision_exact(void **state)
{
    struct fixture *f = fixture_new();

    (void) state;
    assert_string_equal(
        format(f, LOG_FORMAT_KV),
        "event=decision seq=42 instance=i-1a2b config=c0ffee qid=- action=reject would=- "
        "reason=plaintext policy=gdpr level=required mode=enforce rcpt=Bob@GDPR.example "
        "rcpt_domain=gdpr.example sender=alice@Partner.example sender_domain=partner.example "
        "client_addr=192.0.2.25 client_name=mx.partner.example helo=mx.partner.example "
        "tls_version=none cipher=- cipher_bits=- cert_verified=- cert_subject=- cert_issuer=- "
        "fallback_key=- deferrals=- reply=\"530 5.7.0 Must issue a STARTTLS command first for "
        "gdpr.example\"");
    assert_string_equal(
        format(f, LOG_FORMAT_JSON),
        "{\"event\":\"decision\",\"seq\":42,\"instance\":\"i-1a2b\",\"config\":\"c0ffee\",\"qid\":null,"
        "\"action\":\"reject\",\"would\":null,\"reason\":\"plaintext\",\"policy\":\"gdpr\","
        "\"level\":\"required\",\"mode\":\"enforce\",\"rcpt\":\"Bob@GDPR.example\","
        "\"rcpt_domain\":\"gdpr.example\",\"sender\":\"alice@Partner.example\","
        "\"sender_domain\":\"partner.example\",\"client_addr\":\"192.0.2.25\","
        "\"client_name\":\"mx.partner.example\",\"helo\":\"mx.partner.example\",\"tls_version\":\"none\","
        "\"cipher\":null,\"cipher_bits\":null,\"cert_verified\":null,\"cert_subject\":null,"
        "\"cert_issuer\":null,\"fallback_key\":null,\"deferrals\":null,"
        "\"reply\":\"530 5.7.0 Must issue a STARTTLS command first for gdpr.example\"}");
    fixture_free(f);
}

/* test_decision_monitor - would-refusal over TLS with a Sendmail DN */
static void test_decision_monitor(void **state)
{
    struct fixture *f = fixture_new();

    (void) state;
    monitor_tls(f);
    assert_string_equal(
        format(f, LOG_FORMAT_KV),
        "event=decision seq=42 instance=i-1a2b config=c0ffee qid=4XyZ1q2w3e action=accept "
        "would=reject reason=cert_unverified policy=partner level=verified mode=monitor "
        "rcpt=Bob@GDPR.example rcpt_domain=gdpr.example sender=alice@Partner.example "
        "sender_domain=partner.example client_addr=192.0.2.25 client_name=mx.partner.example "
        "helo=mx.partner.example tls_version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 "
        "cipher_bits=256 cert_verified=no cert_subject=\"/O=Partner GmbH/CN=mx.partner.example\" "
        "cert_issuer=\"/CN=Partner CA\" fallback_key=partner.example deferrals=2 "
        "reply=\"550 5.7.1 Verified client certificate required\"");
    f->d.cert_verified = true;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " cert_verified=yes "));
    assert_non_null(strstr(format(f, LOG_FORMAT_JSON),
                           ",\"cipher_bits\":256,\"cert_verified\":\"yes\",\"cert_subject\":"
                           "\"/O=Partner GmbH/CN=mx.partner.example\","));
    assert_int_equal(facts_set_tls_version(&f->sf, "TLSv9.9"), 0); /* unknown: logged as sent */
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " tls_version=TLSv9.9 "));
    assert_int_equal(facts_set_cert_subject(&f->sf, ""), 0); /* Sendmail: no certificate */
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " cert_subject=- "));
    fixture_free(f);
}

/* test_decision_accept - the policies in force, exempt, truncation */
static void test_decision_accept(void **state)
{
    struct fixture *f = fixture_new();
    struct strbuf want;
    size_t i;

    (void) state;
    f->d.action = f->d.would = DECISION_ACCEPT;
    f->d.reason = REASON_TLS_OK;
    f->d.inforce[1] = &f->partner;
    f->d.ninforce = 2;
    f->d.rcode[0] = f->d.xcode[0] = f->d.text[0] = 0;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV),
                           " action=accept would=- reason=tls_ok policy=gdpr,partner level=required "));
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " reply=-"));
    f->d.mode = POLICY_MODE_MONITOR;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " would=accept "));
    f->d.reason = REASON_EXEMPT;
    f->d.policy = NULL;
    f->d.ninforce = 0;
    f->d.mode = POLICY_MODE_ENFORCE;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " reason=exempt policy=- level=- mode=enforce "));
    assert_non_null(strstr(format(f, LOG_FORMAT_JSON), ",\"policy\":null,\"level\":null,"));
    /* more policies in force than the decision can list: the first 32 */
    strbuf_init(&want);
    strbuf_puts(&want, " policy=gdpr");
    for (i = 0; i < DECISION_INFORCE_MAX; i++)
        f->d.inforce[i] = &f->gdpr;
    for (i = 1; i < DECISION_INFORCE_MAX; i++)
        strbuf_puts(&want, ",gdpr");
    strbuf_puts(&want, " level=");
    f->d.reason = REASON_TLS_OK;
    f->d.ninforce = 40;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), strbuf_str(&want)));
    strbuf_free(&want);
    fixture_free(f);
}

/* set_want - the expected logged value; "" (or NULL) means absent when empty_absent */
static char *set_want(const char *v, int empty_absent)
{
    char *w;

    if (v == NULL || (empty_absent && *v == 0))
        return NULL;
    assert_non_null(w = strdup(v));
    return w;
}

/* hostile_set - put v into one field; returns the value the record must show */
static char *hostile_set(struct fixture *f, const char *field, const char *v)
{
    char buf[DECISION_TEXT_MAX + 16];

    if (strcmp(field, "instance") == 0)
        return f->r.instance = v, set_want(v, 0);
    if (strcmp(field, "config") == 0)
        return f->r.config = v, set_want(v, 0);
    if (strcmp(field, "qid") == 0)
        return f->r.qid = v, set_want(v, 0);
    if (strcmp(field, "policy") == 0)
        return f->gdpr.name = (char *) v, set_want(v, 1);
    if (strcmp(field, "rcpt_domain") == 0)
        return f->d.rcpt_domain = v, set_want(v, 1);
    if (strcmp(field, "helo") == 0)
        return assert_int_equal(facts_set_helo(&f->sf, v), 0), set_want(v, 0);
    if (strcmp(field, "client_name") == 0)
        return assert_int_equal(facts_set_client_name(&f->sf, v), 0), set_want(v, 0);
    if (strcmp(field, "client_addr") == 0)
        return (void) facts_set_client_addr(&f->sf, v), set_want(v, 0);
    if (strcmp(field, "cipher") == 0)
        return assert_int_equal(facts_set_cipher(&f->sf, v), 0), set_want(v, 0);
    if (strcmp(field, "tls_version") == 0)
        return assert_int_equal(facts_set_tls_version(&f->sf, v), 0), set_want(*v ? v : "none", 0);
    if (strcmp(field, "cert_subject") == 0)
        return assert_int_equal(facts_set_cert_subject(&f->sf, v), 0), *v ? xtext_decode(v) : NULL;
    if (strcmp(field, "cert_issuer") == 0)
        return assert_int_equal(facts_set_cert_issuer(&f->sf, v), 0), *v ? xtext_decode(v) : NULL;
    if (strcmp(field, "rcpt") == 0)
        return assert_int_equal(facts_set_rcpt(&f->rf, v), 0), set_want(v, 1);
    if (strcmp(field, "sender") == 0)
        return assert_int_equal(facts_set_sender(&f->sf, v), 0), set_want(v, 1);
    if (strcmp(field, "fallback_key") == 0) {
        snprintf(f->d.fallback_key, sizeof(f->d.fallback_key), "%s", v);
        return set_want(f->d.fallback_key, 1);
    }
    assert_string_equal(field, "reply");
    snprintf(f->d.text, sizeof(f->d.text), "%s", v);
    snprintf(buf, sizeof(buf), "530 5.7.0 %s", f->d.text);
    return set_want(buf, 0);
}

/* derived - the field whose value follows from the one under test */
static const char *derived(const char *field)
{
    if (strcmp(field, "tls_version") == 0)
        return "cert_verified"; /* "-" only for plaintext */
    if (strcmp(field, "rcpt") == 0)
        return "rcpt_domain";
    if (strcmp(field, "sender") == 0)
        return "sender_domain";
    return "";
}

/* value_is - the value read back is want, or want cut and marked (a long one) */
static bool value_is(const struct field *got, const char *want)
{
    size_t len = strlen(want);

    if (got->value == NULL)
        return false;
    if (got->len == len)
        return memcmp(got->value, want, len) == 0;
    /* Over the cap: a prefix, then the mark; never longer than the cap. */
    return len > RECORD_VALUE_MAX / 4 && got->len > 3 && got->len < len && got->len <= RECORD_REPLY_MAX &&
           memcmp(got->value + got->len - 3, RECORD_CUT_MARK, 3) == 0 &&
           memcmp(got->value, want, got->len - 3) == 0;
}

/* check_fields - read-back keys are SPEC.md's; field has want, others as base */
static void check_fields(const char *what, struct field *got, int n, struct field *base, const char *field,
                         const char *want)
{
    int i;

    assert_int_equal(n, (int) N(decision_keys));
    for (i = 0; i < n; i++) {
        assert_string_equal(got[i].key, decision_keys[i]);
        if (strcmp(got[i].key, derived(field)) == 0)
            continue;
        if (strcmp(got[i].key, field) == 0) {
            if (want == NULL ? got[i].value != NULL : !value_is(&got[i], want))
                fail_msg("%s %s: value differs: %s", what, field, got[i].value ? got[i].value : "(absent)");
        } else if ((got[i].value == NULL) != (base[i].value == NULL) ||
                   (got[i].value && strcmp(got[i].value, base[i].value) != 0)) {
            fail_msg("%s %s: field %s changed", what, field, got[i].key);
        }
    }
}

/* check_kv_line - one line of printable ASCII */
static void check_kv_line(const char *s)
{
    for (; *s; s++)
        assert_true(*s >= 0x20 && *s <= 0x7e);
}

/* hostile_case - one value in one field, read back in both formats */
static void hostile_case(const char *field, const char *value, struct field *base)
{
    struct fixture *f = fixture_new();
    struct field got[MAX_FIELDS];
    char *want = hostile_set(f, field, value);
    int n;

    format(f, LOG_FORMAT_KV);
    check_kv_line(strbuf_str(&f->out));
    if ((n = kv_read(strbuf_str(&f->out), got)) < 0)
        fail_msg("kv %s: unreadable: %s", field, strbuf_str(&f->out));
    check_fields("kv", got, n, base, field, want);
    fields_free(got, n);
    if ((n = json_read(format(f, LOG_FORMAT_JSON), got)) < 0)
        fail_msg("json %s: invalid: %s", field, strbuf_str(&f->out));
    if (want == NULL || valid_utf8((const unsigned char *) want, strlen(want)))
        check_fields("json", got, n, base, field, want);
    else
        assert_non_null(strstr(strbuf_str(&f->out), "\xef\xbf\xbd"));
    fields_free(got, n);
    free(want);
    fixture_free(f);
}

/* test_hostile - every string field, every hostile value, both formats */
static void test_hostile(void **state)
{
    static const char *const fields[] = {
        "instance",     "config",      "qid",          "policy", "rcpt",        "rcpt_domain",
        "sender",       "client_addr", "client_name",  "helo",   "tls_version", "cipher",
        "cert_subject", "cert_issuer", "fallback_key", "reply",
    };
    const char *values[] = {
        "\" x=1 reason=tls_ok",
        "mx\nevent=decision seq=1 action=accept",
        "a\tb\tc",
        "back\\slash\\\\",
        "\xe9t\xe9 Latin-1",
        "\xc3\xa9t\xc3\xa9 UTF-8",
        "",
        "-",
        "\r\n\r\n",
        "\001\037\177",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xc0\xaf",
        "\xe2\x82",
        "x=\"-\" \\x41",
        "<",
        NULL,
    };
    struct field base[MAX_FIELDS];
    struct fixture *f;
    char *big;
    int nb;
    size_t i, j;

    (void) state;
    assert_non_null(big = calloc(1, 10241));
    for (i = 0; i < 10240; i++)
        big[i] = "ab \"=\\\n\xff"[i % 8];
    values[N(values) - 1] = big; /* 10 kB */
    f = fixture_new();
    assert_int_equal(nb = kv_read(format(f, LOG_FORMAT_KV), base), (int) N(decision_keys));
    fixture_free(f);
    for (i = 0; i < N(fields); i++)
        for (j = 0; j < N(values); j++)
            hostile_case(fields[i], values[j], base);
    fields_free(base, nb);
    free(big);
}

static const unsigned char hash_key[] = "0123456789abcdef0123456789abcdef";

/* hmac16 - first 16 hex digits of HMAC-SHA256, via EVP_MAC, not the writer's HMAC() */
static void hmac16(const char *text, char *hex)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx;
    OSSL_PARAM params[2];
    unsigned char md[32];
    size_t mdlen, i;

    assert_non_null(mac);
    assert_non_null(ctx = EVP_MAC_CTX_new(mac));
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_MAC_init(ctx, hash_key, sizeof(hash_key) - 1, params), 1);
    assert_int_equal(EVP_MAC_update(ctx, (const unsigned char *) text, strlen(text)), 1);
    assert_int_equal(EVP_MAC_final(ctx, md, &mdlen, sizeof(md)), 1);
    for (i = 0; i < 8; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

/* test_addresses - full, domain and hash modes */
static void test_addresses(void **state)
{
    static const struct {
        const char *in, *domain_want, *hashed, *hash_suffix;
    } cases[] = {
        {"User@Example.ORG", "@example.org", "user", "@example.org"},
        {"<User@Example.ORG>", "@example.org", "user", "@example.org"},
        {"\"USER\"@example.org", "@example.org", "user", "@example.org"},
        {"\"a\\\"B\"@x.example", "@x.example", "a\"b", "@x.example"},
        {"\"odd@local>\"@example.org", "@example.org", "odd@local>", "@example.org"},
        {"@relay1,@relay2:User@dest.example", "@dest.example", "user", "@dest.example"},
        {"<user@example.org> SIZE=100", "@example.org", "user", "@example.org"},
        {"u@b\xc3\xbc"
         "cher.example",
         "@xn--bcher-kva.example", "u", "@xn--bcher-kva.example"},
        {"J\xc3\x96rg@example.org", "@example.org", "j\xc3\x96rg", "@example.org"},
        {"user@[192.0.2.1]", "@[192.0.2.1]", "user", "@[192.0.2.1]"},
        {"user@[IPv6:2001:db8::1]", "@[IPv6:2001:db8::1]", "user", "@[IPv6:2001:db8::1]"},
        {"Postmaster", "", "postmaster", ""},                   /* no domain: hash alone, or nothing */
        {"<user@exa mple.org>", "", "<user@exa mple.org>", ""}, /* unreadable: the whole text */
        {"<>", "<>", NULL, "<>"},
    };
    struct record_opts o = {LOG_FORMAT_KV, LOG_ADDR_FULL, hash_key, sizeof(hash_key) - 1};
    struct strbuf sb;
    char want[256], hex[17];
    size_t i;

    (void) state;
    strbuf_init(&sb);
    for (i = 0; i < N(cases); i++) {
        o.addresses = LOG_ADDR_FULL;
        strbuf_reset(&sb);
        record_address(&o, cases[i].in, &sb);
        assert_string_equal(strbuf_str(&sb), cases[i].in);
        o.addresses = LOG_ADDR_DOMAIN;
        strbuf_reset(&sb);
        record_address(&o, cases[i].in, &sb);
        if (strcmp(strbuf_str(&sb), cases[i].domain_want) != 0)
            fail_msg("domain %s: got %s", cases[i].in, strbuf_str(&sb));
        o.addresses = LOG_ADDR_HASH;
        strbuf_reset(&sb);
        record_address(&o, cases[i].in, &sb);
        hex[0] = 0;
        if (cases[i].hashed)
            hmac16(cases[i].hashed, hex);
        snprintf(want, sizeof(want), "%s%s", hex, cases[i].hash_suffix);
        if (strcmp(strbuf_str(&sb), want) != 0)
            fail_msg("hash %s: got %s want %s", cases[i].in, strbuf_str(&sb), want);
    }
    strbuf_free(&sb);
}

/* test_decision_addresses - address modes inside a record */
static void test_decision_addresses(void **state)
{
    struct fixture *f = fixture_new();
    char hex[17], want[128];

    (void) state;
    f->opts.hash_key = hash_key;
    f->opts.hash_key_len = sizeof(hash_key) - 1;
    f->opts.addresses = LOG_ADDR_DOMAIN;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV),
                           " rcpt=@gdpr.example rcpt_domain=gdpr.example sender=@partner.example "));
    f->opts.addresses = LOG_ADDR_HASH;
    hmac16("bob", hex);
    snprintf(want, sizeof(want), " rcpt=%s@gdpr.example rcpt_domain=gdpr.example ", hex);
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), want));
    assert_int_equal(facts_set_sender(&f->sf, "<>"), 0);
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " sender=<> sender_domain=- "));
    f->opts.addresses = LOG_ADDR_FULL;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " sender=<> sender_domain=- "));
    assert_int_equal(facts_set_rcpt(&f->rf, "<postmaster>"), 0);
    f->d.rcpt_domain = NULL;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " rcpt=postmaster rcpt_domain=- "));
    f->opts.addresses = LOG_ADDR_DOMAIN;
    assert_non_null(strstr(format(f, LOG_FORMAT_KV), " rcpt=- rcpt_domain=- "));
    assert_int_equal(facts_set_sender(&f->sf, NULL), 0);
    assert_non_null(strstr(format(f, LOG_FORMAT_JSON), ",\"sender\":null,\"sender_domain\":null,"));
    fixture_free(f);
}

/* test_session - event=session, exact, both formats */
static void test_session(void **state)
{
    struct record_opts o = {LOG_FORMAT_KV, LOG_ADDR_FULL, NULL, 0};
    struct session_facts sf;
    struct session_record r = {7, "i-1a2b", &sf, 2, 3, 1, 0, true, 1534};
    struct strbuf sb;

    (void) state;
    session_facts_init(&sf);
    strbuf_init(&sb);
    assert_int_equal(facts_set_client_addr(&sf, "IPv6:2001:db8::25"), 0);
    assert_int_equal(facts_set_client_name(&sf, "unknown"), 0);
    assert_int_equal(facts_set_helo(&sf, "[2001:db8::25]"), 0);
    assert_int_equal(record_format_session(&o, &r, &sb), 0);
    assert_string_equal(
        strbuf_str(&sb),
        "event=session seq=7 instance=i-1a2b client_addr=IPv6:2001:db8::25 client_name=unknown "
        "helo=[2001:db8::25] tls_version=none cipher=- cipher_bits=- messages=2 rcpt_accepted=3 "
        "rcpt_rejected=1 rcpt_tempfailed=0 suspected_tls_failure=yes duration_ms=1534");
    assert_int_equal(facts_set_tls_version(&sf, "TLSv1.3"), 0);
    assert_int_equal(facts_set_cipher(&sf, "TLS_AES_256_GCM_SHA384"), 0);
    assert_int_equal(facts_set_cipher_bits(&sf, "256"), 0);
    assert_int_equal(facts_set_helo(&sf, "h\xc3\xa9llo\xe9\x01\""), 0);
    r.suspected_tls_failure = false;
    r.seq = 18446744073709551615ULL;
    o.format = LOG_FORMAT_JSON;
    strbuf_reset(&sb);
    assert_int_equal(record_format_session(&o, &r, &sb), 0);
    assert_string_equal(
        strbuf_str(&sb),
        "{\"event\":\"session\",\"seq\":18446744073709551615,\"instance\":\"i-1a2b\","
        "\"client_addr\":\"IPv6:2001:db8::25\",\"client_name\":\"unknown\","
        "\"helo\":\"h\xc3\xa9llo\xef\xbf\xbd\\u0001\\\"\",\"tls_version\":\"TLSv1.3\","
        "\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"cipher_bits\":256,\"messages\":2,\"rcpt_accepted\":3,"
        "\"rcpt_rejected\":1,\"rcpt_tempfailed\":0,\"suspected_tls_failure\":\"no\",\"duration_ms\":1534}");
    strbuf_free(&sb);
    session_facts_clear(&sf);
}

/* The bound asserted below: a whole record, with room to spare in 8 KiB
   for the syslog prefix (RFC 5424 with structured data included). */
#define RECORD_WORST 6144
#define HOSTILE_LEN  10000

/* hostile_text - n bytes that each expand the most when escaped */
static char *hostile_text(size_t n, char c)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = 0;
    return s;
}

/* worst_decision - every untrusted field of a decision at its most hostile */
static void worst_decision(struct fixture *f, const char *h, const char *addr)
{
    f->r.qid = h;
    f->gdpr.name = (char *) h;
    f->d.rcpt_domain = h;
    (void) facts_set_client_addr(&f->sf, h); /* kept as given, though not an address */
    assert_int_equal(facts_set_client_name(&f->sf, h), 0);
    assert_int_equal(facts_set_helo(&f->sf, h), 0);
    assert_int_equal(facts_set_tls_version(&f->sf, h), 0);
    assert_int_equal(facts_set_cipher(&f->sf, h), 0);
    assert_int_equal(facts_set_cert_subject(&f->sf, h), 0);
    assert_int_equal(facts_set_cert_issuer(&f->sf, h), 0);
    assert_int_equal(facts_set_sender(&f->sf, addr), 0);
    assert_int_equal(facts_set_rcpt(&f->rf, addr), 0);
    memset(f->d.fallback_key, h[0], sizeof(f->d.fallback_key) - 1);
    memset(f->d.text, 'x', sizeof(f->d.text) - 1);
    f->d.text_rcpt_at = 10;
    f->d.text_rcpt_len = 20;
}

/* worst_len - the longest decision record over formats and address modes */
static size_t worst_len(const char *h, const char *addr)
{
    static const enum log_addresses modes[] = {LOG_ADDR_FULL, LOG_ADDR_DOMAIN, LOG_ADDR_HASH};
    size_t i, most = 0, len;
    int fmt;

    for (i = 0; i < N(modes); i++)
        for (fmt = LOG_FORMAT_KV; fmt <= LOG_FORMAT_JSON; fmt++) {
            struct fixture *f = fixture_new();

            f->opts.addresses = modes[i];
            f->opts.hash_key = hash_key;
            f->opts.hash_key_len = sizeof(hash_key) - 1;
            worst_decision(f, h, addr);
            len = strlen(format(f, (enum log_format) fmt));
            /* The cut keeps the record whole: it still ends with reply. */
            assert_non_null(
                strstr(strbuf_str(&f->out), fmt == LOG_FORMAT_KV ? " reply=\"" : ",\"reply\":\""));
            most = len > most ? len : most;
            fixture_free(f);
        }
    return most;
}

/* worst_session_len - the longest session record, both formats */
static size_t worst_session_len(const char *h)
{
    struct record_opts o = {LOG_FORMAT_KV, LOG_ADDR_FULL, NULL, 0};
    struct session_facts sf;
    struct session_record r = {18446744073709551615ULL, h, &sf, ~0u, ~0u, ~0u, ~0u, true, -1};
    struct strbuf sb;
    size_t most;

    session_facts_init(&sf);
    strbuf_init(&sb);
    (void) facts_set_client_addr(&sf, h);
    assert_int_equal(facts_set_client_name(&sf, h), 0);
    assert_int_equal(facts_set_helo(&sf, h), 0);
    assert_int_equal(facts_set_tls_version(&sf, h), 0);
    assert_int_equal(facts_set_cipher(&sf, h), 0);
    assert_int_equal(record_format_session(&o, &r, &sb), 0);
    most = sb.len;
    o.format = LOG_FORMAT_JSON;
    strbuf_reset(&sb);
    assert_int_equal(record_format_session(&o, &r, &sb), 0);
    most = sb.len > most ? sb.len : most;
    strbuf_free(&sb);
    session_facts_clear(&sf);
    return most;
}

/* test_worst_case - every untrusted field at 10 kB of the bytes that
   escape the longest (kv \xHH: 4x, json \u00HH: 6x): a record stays
   under RECORD_WORST, so no syslog daemon's 8 KiB cuts it */
static void test_worst_case(void **state)
{
    static const char fills[] = {'\001', '\377', '"', 'a'};
    size_t i, d, s, most = 0;
    char *h, *addr;

    (void) state;
    for (i = 0; i < N(fills); i++) {
        h = hostile_text(HOSTILE_LEN, fills[i]);
        /* a quoted local part and a long domain: the hash form is cut too */
        addr = hostile_text(HOSTILE_LEN, 'a');
        addr[0] = '<';
        addr[1] = '"';
        memset(addr + 2, fills[i] == '"' ? 'q' : fills[i], HOSTILE_LEN / 2);
        memcpy(addr + HOSTILE_LEN / 2, "\"@", 2);
        for (d = HOSTILE_LEN / 2 + 3; d < HOSTILE_LEN - 1; d += 2)
            addr[d] = '.';
        addr[HOSTILE_LEN - 1] = '>';
        d = worst_len(h, addr);
        s = worst_session_len(h);
        most = d > most ? d : most;
        most = s > most ? s : most;
        free(h);
        free(addr);
    }
    print_message("worst-case record: %zu bytes\n", most);
    assert_true(most <= RECORD_WORST);
}

/* test_cut_mark - a value over the cap ends in the mark, at a whole escape */
static void test_cut_mark(void **state)
{
    struct fixture *f = fixture_new();
    char *h = hostile_text(HOSTILE_LEN, '\001');
    const char *p, *end;

    (void) state;
    assert_int_equal(facts_set_helo(&f->sf, h), 0);
    p = strstr(format(f, LOG_FORMAT_KV), " helo=\"");
    assert_non_null(p);
    end = strstr(p, "...\" tls_version=none ");
    assert_non_null(end);
    assert_true(end + 4 - (p + 6) <= RECORD_VALUE_MAX);
    assert_int_equal((end - (p + 7)) % 4, 0); /* whole \x01 escapes */
    p = strstr(format(f, LOG_FORMAT_JSON), ",\"helo\":\"");
    assert_non_null(p);
    end = strstr(p, "...\",\"tls_version\":\"none\",");
    assert_non_null(end);
    assert_int_equal((end - (p + 9)) % 6, 0); /* whole \u0001 escapes */
    /* a plain token is cut as a plain token */
    memset(h, 'a', HOSTILE_LEN);
    assert_int_equal(facts_set_helo(&f->sf, h), 0);
    p = strstr(format(f, LOG_FORMAT_KV), " helo=a");
    assert_non_null(p);
    assert_int_equal(strcspn(p + 6, " "), RECORD_VALUE_MAX);
    assert_memory_equal(p + 6 + RECORD_VALUE_MAX - 3, "...", 3);
    free(h);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kv_value),
        cmocka_unit_test(test_decision_exact),
        cmocka_unit_test(test_decision_monitor),
        cmocka_unit_test(test_decision_accept),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_decision_addresses),
        cmocka_unit_test(test_session),
        cmocka_unit_test(test_worst_case),
        cmocka_unit_test(test_cut_mark),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
