/*++
 * NAME
 *	test_record_read 1
 * SUMMARY
 *	unit tests for the field table and the record reader
 * DESCRIPTION
 *	The field table (record/fields.h) against the lists of SPEC.md,
 *	written out here by hand: a change to either must be a change to
 *	both.
 *
 *	The round trip: a record written by record_format_decision() or
 *	record_format_session(), kv and json, read back by
 *	recparse_record(), gives every field of the event byte for byte,
 *	and no field of the other event. The values are hostile (quotes,
 *	backslashes, control bytes, UTF-8, spaces, '=', a forged field, the
 *	empty string, "-", absent values), one named case each, put into
 *	every field the writer copies as given. json replaces a byte that
 *	is not valid UTF-8 by U+FFFD (record.c); that case says what json
 *	gives back.
 *
 *	Then the reader on text the writer does not make: fields out of
 *	order, unknown fields, repeated fields and json values of the wrong
 *	type.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "record/fields.h"
#include "record/recparse.h"
#include "record/record.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* SPEC.md, "Decision records", copied by hand. */
static const char *const spec_decision[] = {
    "event",        "seq",       "instance",      "config",        "qid",          "action",
    "would",        "reason",    "policy",        "level",         "mode",         "rcpt",
    "rcpt_domain",  "sender",    "sender_domain", "client_addr",   "client_name",  "helo",
    "tls_version",  "cipher",    "cipher_bits",   "cert_verified", "cert_subject", "cert_issuer",
    "fallback_key", "deferrals", "reply",
};

static const char *const spec_session[] = {
    "event",         "seq",           "instance",        "client_addr",           "client_name",
    "helo",          "tls_version",   "cipher",          "cipher_bits",           "messages",
    "rcpt_accepted", "rcpt_rejected", "rcpt_tempfailed", "suspected_tls_failure", "duration_ms",
};

/* The fields the writer emits as numbers. */
static const char *const spec_numbers[] = {
    "seq",           "cipher_bits",   "deferrals",       "messages",
    "rcpt_accepted", "rcpt_rejected", "rcpt_tempfailed", "duration_ms",
};

/* check_order - the table filtered by event is the SPEC list */
static void check_order(enum rec_event event, const char *const *spec, size_t n, const char *what)
{
    size_t k = 0;
    int f;

    for (f = 0; f < REC_NFIELDS; f++) {
        if (!rec_field_in((enum rec_field) f, event))
            continue;
        if (k >= n || strcmp(rec_fields[f].name, spec[k]) != 0)
            fail_msg("%s field %zu: table has \"%s\", SPEC \"%s\"", what, k, rec_fields[f].name,
                     k < n ? spec[k] : "(end)");
        if (rec_fields[f].len != strlen(rec_fields[f].name))
            fail_msg("%s: length of \"%s\"", what, rec_fields[f].name);
        k++;
    }
    if (k != n)
        fail_msg("%s: table has %zu fields, SPEC %zu", what, k, n);
}

/* test_table_is_spec - both events, the kinds and the names the report uses */
static void test_table_is_spec(void **state)
{
    size_t i, nnum = 0;
    int f;

    (void) state;
    check_order(REC_DECISION, spec_decision, N(spec_decision), "decision");
    check_order(REC_SESSION, spec_session, N(spec_session), "session");
    for (f = 0; f < REC_NFIELDS; f++) {
        bool number = false;

        for (i = 0; i < N(spec_numbers); i++)
            number |= strcmp(rec_fields[f].name, spec_numbers[i]) == 0;
        if (number != (rec_fields[f].kind == REC_NUM))
            fail_msg("field \"%s\": kind %d", rec_fields[f].name, rec_fields[f].kind);
        nnum += number;
        if (!rec_field_in((enum rec_field) f, REC_DECISION) && !rec_field_in((enum rec_field) f, REC_SESSION))
            fail_msg("field \"%s\" belongs to no event", rec_fields[f].name);
    }
    assert_int_equal(nnum, REC_NNUM);
    /* The REC_* names tlspolicy-report, the probe and what-if use. */
    assert_string_equal(rec_fields[REC_SUSPECTED].name, "suspected_tls_failure");
    assert_string_equal(rec_fields[REC_RCPT_DOMAIN].name, "rcpt_domain");
    assert_string_equal(rec_fields[REC_TLS_VERSION].name, "tls_version");
    assert_string_equal(rec_fields[REC_DURATION_MS].name, "duration_ms");
}

/* A hostile value and what json gives back for it (NULL: the value). */
struct hostile {
    const char *name, *value, *json;
};

static const struct hostile hostile[] = {
    {"plain token", "mx1.example", NULL},
    {"empty", "", NULL},
    {"dash is not absent", "-", NULL},
    {"quotes", "say \"hi\" \"", NULL},
    {"backslashes", "a\\b\\\\c\\x41\\", NULL},
    {"control bytes", "l1\nl2\r\t\x01\x1b[2J\x7f", NULL},
    {"utf-8", "Z\xc3\xbcrich \xe2\x98\x83 \xf0\x9d\x84\x9e", NULL},
    {"spaces", "  lead, in  and trail  ", NULL},
    {"equals", "=a=b= x=", NULL},
    {"forged kv field", "x\" action=reject reason=\"y", NULL},
    {"forged json field", "\"},{\"event\":\"decision\",\"x\":\"", NULL},
    {"not utf-8", "\xe9t\xe9\xff", "\xef\xbf\xbdt\xef\xbf\xbd\xef\xbf\xbd"},
};

/* A decision with one value in every field the writer copies as given. */
struct fixture {
    struct session_facts sf;
    struct rcpt_facts rf;
    struct policy pol;
    struct decision d;
    struct decision_record r;
    char pol_name[256];
};

/* fixture_init - monitor mode, TLS, a would-refusal: every field present */
static void fixture_init(struct fixture *x, const char *v)
{
    memset(x, 0, sizeof(*x));
    session_facts_init(&x->sf);
    rcpt_facts_init(&x->rf);
    policy_init(&x->pol);
    snprintf(x->pol_name, sizeof(x->pol_name), "%s", v);
    x->pol.name = x->pol_name;
    (void) facts_set_client_addr(&x->sf, v); /* not an address: kept as text */
    assert_int_equal(facts_set_client_name(&x->sf, v), 0);
    assert_int_equal(facts_set_helo(&x->sf, v), 0);
    assert_int_equal(facts_set_tls_version(&x->sf, "TLSv1.3"), 0);
    assert_int_equal(facts_set_cipher(&x->sf, v), 0);
    assert_int_equal(facts_set_cipher_bits(&x->sf, "256"), 0);
    /* Certificate names are xtext, which the writer decodes: no value
       above has a '+', so each is its own encoding. */
    assert_int_equal(facts_set_cert_subject(&x->sf, v), 0);
    assert_int_equal(facts_set_cert_issuer(&x->sf, v), 0);
    assert_int_equal(facts_set_sender(&x->sf, "<\"a b=\\\"c\\\"\"@Partner.example>"), 0);
    assert_int_equal(facts_set_rcpt(&x->rf, "<Bob@GDPR.example>"), 0);
    x->d.action = DECISION_ACCEPT;
    x->d.would = DECISION_REJECT;
    x->d.reason = REASON_CERT_UNVERIFIED;
    x->d.policy = x->d.inforce[0] = &x->pol;
    x->d.ninforce = 1;
    x->d.level = TLS_LEVEL_VERIFIED;
    x->d.mode = POLICY_MODE_MONITOR;
    x->d.rcpt_domain = x->rf.addr.domain;
    x->d.cert_verified = true;
    strcpy(x->d.rcode, "550");
    strcpy(x->d.xcode, "5.7.1");
    snprintf(x->d.text, sizeof(x->d.text), "%s", v);
    x->d.text_rcpt_at = -1;
    snprintf(x->d.fallback_key, sizeof(x->d.fallback_key), "%s", v);
    x->d.deferrals = 3;
    x->r.seq = 18446744073709551615ULL;
    x->r.instance = v;
    x->r.config = v;
    x->r.qid = v;
    x->r.decision = &x->d;
    x->r.session = &x->sf;
    x->r.rcpt = &x->rf;
}

/* fixture_clear - release the facts */
static void fixture_clear(struct fixture *x)
{
    session_facts_clear(&x->sf);
    rcpt_facts_clear(&x->rf);
}

/* check_read - write with fmt, read back, compare every field with want[] */
static void check_read(const char *name, const char *fmt_name, const struct strbuf *text,
                       enum rec_event event, const char *const *want)
{
    char *copy = strdup(strbuf_str(text));
    const char *why = NULL;
    struct rec r;
    int f;

    assert_non_null(copy);
    if (recparse_record(copy, &r, &why) != 0)
        fail_msg("case \"%s\" (%s): not read back: %s\n%s", name, fmt_name, why, strbuf_str(text));
    assert_int_equal(r.event, event);
    for (f = 0; f < REC_NFIELDS; f++) {
        const char *got = r.f[f], *exp = rec_field_in((enum rec_field) f, event) ? want[f] : NULL;

        if ((got == NULL) != (exp == NULL) || (got != NULL && strcmp(got, exp) != 0))
            fail_msg("case \"%s\" (%s): field %s: got %s%s%s, want %s%s%s", name, fmt_name,
                     rec_fields[f].name, got ? "\"" : "", got ? got : "absent", got ? "\"" : "",
                     exp ? "\"" : "", exp ? exp : "absent", exp ? "\"" : "");
    }
    recparse_clear(&r);
    free(copy);
}

/* decision_want - what each field of the fixture's record must read back as */
static void decision_want(const char **want, const char *v, char *reply, size_t len)
{
    const char *nonempty = *v ? v : NULL; /* fields where "" is logged as absent */

    memset(want, 0, REC_NFIELDS * sizeof(*want));
    want[REC_EVENT] = "decision";
    want[REC_SEQ] = "18446744073709551615";
    want[REC_INSTANCE] = want[REC_CONFIG] = want[REC_QID] = v;
    want[REC_ACTION] = "accept";
    want[REC_WOULD] = "reject";
    want[REC_REASON] = "cert_unverified";
    want[REC_POLICY] = nonempty;
    want[REC_LEVEL] = "verified";
    want[REC_MODE] = "monitor";
    want[REC_RCPT] = "Bob@GDPR.example";
    want[REC_RCPT_DOMAIN] = "gdpr.example";
    want[REC_SENDER] = "\"a b=\\\"c\\\"\"@Partner.example";
    want[REC_SENDER_DOMAIN] = "partner.example";
    want[REC_CLIENT_ADDR] = want[REC_CLIENT_NAME] = want[REC_HELO] = want[REC_CIPHER] = v;
    want[REC_TLS_VERSION] = "TLSv1.3";
    want[REC_CIPHER_BITS] = "256";
    want[REC_CERT_VERIFIED] = "yes";
    want[REC_CERT_SUBJECT] = want[REC_CERT_ISSUER] = want[REC_FALLBACK_KEY] = nonempty;
    want[REC_DEFERRALS] = "3";
    snprintf(reply, len, "550 5.7.1 %s", v);
    want[REC_REPLY] = reply;
}

/* json_want - the same list with json's view of a value that is not UTF-8 */
static void json_want(const char **want, const char *v, const char *json)
{
    int f;

    for (f = 0; f < REC_NFIELDS && json != NULL; f++)
        if (want[f] == v)
            want[f] = json;
}

/* test_roundtrip_decision - every hostile value in every copied field */
static void test_roundtrip_decision(void **state)
{
    struct record_opts opts = {LOG_FORMAT_KV, LOG_ADDR_FULL, NULL, 0};
    const char *want[REC_NFIELDS];
    char reply[600], jreply[600];
    struct fixture x;
    struct strbuf sb;
    size_t i;

    (void) state;
    strbuf_init(&sb);
    for (i = 0; i < N(hostile); i++) {
        fixture_init(&x, hostile[i].value);
        decision_want(want, hostile[i].value, reply, sizeof(reply));
        opts.format = LOG_FORMAT_KV;
        strbuf_reset(&sb);
        assert_int_equal(record_format_decision(&opts, &x.r, &sb), 0);
        check_read(hostile[i].name, "kv", &sb, REC_DECISION, want);
        if (hostile[i].json != NULL) {
            json_want(want, hostile[i].value, hostile[i].json);
            snprintf(jreply, sizeof(jreply), "550 5.7.1 %s", hostile[i].json);
            want[REC_REPLY] = jreply;
        }
        opts.format = LOG_FORMAT_JSON;
        strbuf_reset(&sb);
        assert_int_equal(record_format_decision(&opts, &x.r, &sb), 0);
        check_read(hostile[i].name, "json", &sb, REC_DECISION, want);
        fixture_clear(&x);
    }
    strbuf_free(&sb);
}

/* test_roundtrip_absent - plaintext, enforce, exempt: every optional field absent */
static void test_roundtrip_absent(void **state)
{
    static const enum log_format formats[] = {LOG_FORMAT_KV, LOG_FORMAT_JSON};
    struct record_opts opts = {LOG_FORMAT_KV, LOG_ADDR_FULL, NULL, 0};
    const char *want[REC_NFIELDS] = {NULL};
    struct decision d;
    struct decision_record r = {7, "i-1", NULL, NULL, &d, NULL, NULL};
    struct strbuf sb;
    size_t i;

    (void) state;
    memset(&d, 0, sizeof(d));
    d.action = d.would = DECISION_ACCEPT;
    d.reason = REASON_EXEMPT;
    d.mode = POLICY_MODE_ENFORCE;
    d.deferrals = -1;
    want[REC_EVENT] = "decision";
    want[REC_SEQ] = "7";
    want[REC_INSTANCE] = "i-1";
    want[REC_ACTION] = "accept";
    want[REC_REASON] = "exempt";
    want[REC_MODE] = "enforce";
    want[REC_TLS_VERSION] = "none";
    strbuf_init(&sb);
    for (i = 0; i < N(formats); i++) {
        opts.format = formats[i];
        strbuf_reset(&sb);
        assert_int_equal(record_format_decision(&opts, &r, &sb), 0);
        check_read("absent", formats[i] == LOG_FORMAT_KV ? "kv" : "json", &sb, REC_DECISION, want);
    }
    strbuf_free(&sb);
}

/* test_roundtrip_session - hostile client facts, extreme numbers */
static void test_roundtrip_session(void **state)
{
    static const enum log_format formats[] = {LOG_FORMAT_KV, LOG_FORMAT_JSON};
    struct record_opts opts = {LOG_FORMAT_KV, LOG_ADDR_FULL, NULL, 0};
    const char *want[REC_NFIELDS];
    struct session_facts sf;
    struct session_record r;
    struct strbuf sb;
    size_t i, k;

    (void) state;
    strbuf_init(&sb);
    for (i = 0; i < N(hostile); i++) {
        session_facts_init(&sf);
        (void) facts_set_client_addr(&sf, hostile[i].value);
        assert_int_equal(facts_set_client_name(&sf, hostile[i].value), 0);
        assert_int_equal(facts_set_helo(&sf, hostile[i].value), 0);
        assert_int_equal(facts_set_tls_version(&sf, hostile[i].value), 0); /* unknown: logged as sent */
        assert_int_equal(facts_set_cipher(&sf, hostile[i].value), 0);
        r = (struct session_record){1, "i-2", &sf, 4294967295u, 0, 12, 1, i % 2 == 0, -5};
        for (k = 0; k < N(formats); k++) {
            const char *v =
                formats[k] == LOG_FORMAT_JSON && hostile[i].json ? hostile[i].json : hostile[i].value;

            memset(want, 0, sizeof(want));
            want[REC_EVENT] = "session";
            want[REC_SEQ] = "1";
            want[REC_INSTANCE] = "i-2";
            want[REC_CLIENT_ADDR] = want[REC_CLIENT_NAME] = want[REC_HELO] = want[REC_CIPHER] = v;
            /* An empty {tls_version} is plaintext (facts.c). */
            want[REC_TLS_VERSION] = *v ? v : "none";
            want[REC_MESSAGES] = "4294967295";
            want[REC_RCPT_ACCEPTED] = "0";
            want[REC_RCPT_REJECTED] = "12";
            want[REC_RCPT_TEMPFAILED] = "1";
            want[REC_SUSPECTED] = i % 2 == 0 ? "yes" : "no";
            want[REC_DURATION_MS] = "-5";
            opts.format = formats[k];
            strbuf_reset(&sb);
            assert_int_equal(record_format_session(&opts, &r, &sb), 0);
            check_read(hostile[i].name, formats[k] == LOG_FORMAT_KV ? "kv" : "json", &sb, REC_SESSION, want);
        }
        session_facts_clear(&sf);
    }
    strbuf_free(&sb);
}

/* Text the writer does not make, and what the reader makes of it. */
static const struct {
    const char *name, *text;
    const char *why;      /* NULL: read */
    enum rec_field field; /* checked when read */
    const char *value;
} reader_cases[] = {
    {"out of order", "event=decision tls_version=TLSv1.2 action=accept instance=i seq=9 helo=h reply=-", NULL,
     REC_HELO, "h"},
    {"unknown field skipped",
     "event=decision seq=9 zz_new=1 instance=i action=accept tls_version=none reply=-", NULL, REC_INSTANCE,
     "i"},
    {"other event's field kept",
     "event=decision seq=9 instance=i action=accept tls_version=none messages=2 reply=-", NULL, REC_MESSAGES,
     "2"},
    {"repeated field", "event=decision seq=9 instance=i action=accept tls_version=none helo=a helo=b",
     "repeated field", REC_HELO, NULL},
    {"repeated seq", "event=session seq=9 instance=i tls_version=none seq=10", "repeated field seq", REC_SEQ,
     NULL},
    {"seq zero", "event=session seq=0 instance=i tls_version=none", "missing or bad seq", REC_SEQ, NULL},
    {"seq too big", "event=session seq=18446744073709551616 instance=i tls_version=none",
     "missing or bad seq", REC_SEQ, NULL},
    {"no action", "event=decision seq=1 instance=i tls_version=none", "missing action", REC_ACTION, NULL},
    {"json number as text",
     "{\"event\":\"session\",\"seq\":\"5\",\"instance\":\"i\",\"tls_version\":\"none\","
     "\"messages\":\"3\",\"duration_ms\":null}",
     NULL, REC_MESSAGES, "3"},
    {"json negative number",
     "{\"event\":\"session\",\"seq\":5,\"instance\":\"i\",\"tls_version\":\"none\","
     "\"duration_ms\":-12}",
     NULL, REC_DURATION_MS, "-12"},
    {"json string field as number",
     "{\"event\":\"decision\",\"seq\":5,\"instance\":\"i\",\"action\":7,"
     "\"tls_version\":\"none\"}",
     "json field is not a string", REC_ACTION, NULL},
    {"json number field as double",
     "{\"event\":\"session\",\"seq\":5,\"instance\":\"i\","
     "\"tls_version\":\"none\",\"messages\":1.5}",
     "json field is not a number", REC_MESSAGES, NULL},
    {"json negative seq", "{\"event\":\"session\",\"seq\":-5,\"instance\":\"i\",\"tls_version\":\"none\"}",
     "missing or bad seq", REC_SEQ, NULL},
    {"json trailing text", "{\"event\":\"session\",\"seq\":5,\"instance\":\"i\",\"tls_version\":\"none\"} x",
     "bad json", REC_SEQ, NULL},
    {"kv decision cut after tls_version=no", "event=decision seq=9 instance=i action=accept tls_version=no",
     "missing reply: record cut short", REC_REPLY, NULL},
    {"kv session cut", "event=session seq=9 instance=i tls_version=none messages=1",
     "missing duration_ms: record cut short", REC_DURATION_MS, NULL},
    {"kv last field absent but there", "event=session seq=9 instance=i tls_version=none duration_ms=-", NULL,
     REC_INSTANCE, "i"},
    {"json decision without reply",
     "{\"event\":\"decision\",\"seq\":5,\"instance\":\"i\",\"action\":\"accept\",\"tls_version\":\"none\"}",
     "missing reply: record cut short", REC_REPLY, NULL},
    {"json repeated key",
     "{\"event\":\"decision\",\"seq\":5,\"instance\":\"i\",\"action\":\"accept\",\"tls_version\":\"none\","
     "\"tls_version\":\"TLSv1.3\",\"reply\":null}",
     "repeated json key", REC_TLS_VERSION, NULL},
    {"json repeated unknown key",
     "{\"event\":\"session\",\"seq\":5,\"instance\":\"i\",\"zz\":1,\"tls_version\":\"none\",\"zz\":2,"
     "\"duration_ms\":1}",
     "repeated json key", REC_SEQ, NULL},
    {"json commas inside values",
     "{\"event\":\"session\",\"seq\":5,\"instance\":\"i,\\\",\",\"zz\":{\"a\":[1,2],\"b\":\"}\"},"
     "\"tls_version\":\"none\",\"duration_ms\":1}",
     NULL, REC_INSTANCE, "i,\","},
};

/* test_reader_cases - text the writer does not make: read, or refused */
static void test_reader_cases(void **state)
{
    const char *why;
    struct rec r;
    size_t i;
    char *copy;
    int rc;

    (void) state;
    for (i = 0; i < N(reader_cases); i++) {
        assert_non_null(copy = strdup(reader_cases[i].text));
        why = NULL;
        rc = recparse_record(copy, &r, &why);
        if (reader_cases[i].why == NULL && rc != 0)
            fail_msg("case \"%s\": refused: %s", reader_cases[i].name, why);
        if (reader_cases[i].why != NULL && (rc == 0 || strcmp(why, reader_cases[i].why) != 0))
            fail_msg("case \"%s\": want \"%s\", got %s", reader_cases[i].name, reader_cases[i].why,
                     rc == 0 ? "read" : why);
        if (rc == 0 && (r.f[reader_cases[i].field] == NULL ||
                        strcmp(r.f[reader_cases[i].field], reader_cases[i].value) != 0))
            fail_msg("case \"%s\": field %s is %s", reader_cases[i].name,
                     rec_fields[reader_cases[i].field].name,
                     r.f[reader_cases[i].field] ? r.f[reader_cases[i].field] : "absent");
        recparse_clear(&r);
        free(copy);
    }
}

/* main - run the tests */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_spec),    cmocka_unit_test(test_roundtrip_decision),
        cmocka_unit_test(test_roundtrip_absent), cmocka_unit_test(test_roundtrip_session),
        cmocka_unit_test(test_reader_cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
