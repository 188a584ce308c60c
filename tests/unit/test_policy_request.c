/*++
 * NAME
 *	test_policy_request 1
 * SUMMARY
 *	the strict parser of Postfix policy delegation requests
 * DESCRIPTION
 *	One test per rule of src/policy/request.h: what Postfix sends is
 *	taken, each thing it never sends is refused with a reason, and every
 *	limit (name length, value length, attribute count, request size) is
 *	tried at its last good value and one past it. Requests are fed line
 *	by line, as the server feeds them, without their newlines.
 *--*/

/* System library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Test framework. */
#include <cmocka.h>

/* Application. */
#include "policy/request.h"

/* A request as Postfix 3.7 sends it at RCPT (SMTPD_POLICY_README), without the empty line. */
static const char *const postfix_rcpt[] = {
    "request=smtpd_access_policy",
    "protocol_state=RCPT",
    "protocol_name=ESMTP",
    "helo_name=mx.sender.example",
    "queue_id=",
    "sender=a@sender.example",
    "recipient=u@gdpr.example",
    "recipient_count=0",
    "client_address=192.0.2.7",
    "client_name=mx.sender.example",
    "client_port=41234",
    "reverse_client_name=mx.sender.example",
    "server_address=192.0.2.1",
    "server_port=25",
    "instance=1a2b.5f3e8d01.c0ffe.0",
    "sasl_method=",
    "sasl_username=",
    "sasl_sender=",
    "size=0",
    "ccert_subject=",
    "ccert_issuer=",
    "ccert_fingerprint=",
    "ccert_pubkey_fingerprint=",
    "encryption_protocol=TLSv1.3",
    "encryption_cipher=TLS_AES_256_GCM_SHA384",
    "encryption_keysize=256",
    "etrn_domain=",
    "stress=",
    "compatibility_level=3.6",
    "mail_version=3.7.11",
    NULL,
};

/* The request under test: 32 KiB, too much for cmocka's stack. */
static struct policy_request req;
static struct tp_error err;

/* line - one line, its length from strlen */
static enum policy_parse line(const char *s)
{
    return policy_request_line(&req, s, strlen(s), &err);
}

/* lines - every line of v until NULL; each must be taken */
static void lines(const char *const *v)
{
    for (; *v; v++)
        assert_int_equal(line(*v), POLICY_MORE);
}

/* begin - a fresh request with its request= line */
static void begin(void)
{
    policy_request_init(&req);
    memset(&err, 0, sizeof(err));
    assert_int_equal(line("request=smtpd_access_policy"), POLICY_MORE);
}

/* refused - the line is refused, and the reason says so */
static void refused(const char *s, size_t len, const char *why)
{
    assert_int_equal(policy_request_line(&req, s, len, &err), POLICY_BAD);
    if (strstr(err.msg, why) == NULL)
        fail_msg("reason \"%s\" does not say \"%s\"", err.msg, why);
}

/* filled - a "name=" line with a value of n copies of c, in buf */
static const char *filled(char *buf, const char *name, char c, size_t n)
{
    size_t k = strlen(name);

    memcpy(buf, name, k);
    buf[k] = '=';
    memset(buf + k + 1, c, n);
    buf[k + 1 + n] = 0;
    return buf;
}

/* test_valid - Postfix's own request is taken, every attribute readable */
static void test_valid(void **state)
{
    (void) state;
    policy_request_init(&req);
    assert_false(policy_request_started(&req));
    lines(postfix_rcpt);
    assert_true(policy_request_started(&req));
    assert_int_equal(line(""), POLICY_DONE);
    assert_int_equal(req.nattrs, 30);
    assert_string_equal(policy_request_get(&req, "protocol_state"), "RCPT");
    assert_string_equal(policy_request_get(&req, "recipient"), "u@gdpr.example");
    assert_string_equal(policy_request_get(&req, "encryption_cipher"), "TLS_AES_256_GCM_SHA384");
    assert_string_equal(policy_request_get(&req, "mail_version"), "3.7.11");
    /* Empty values are values: Postfix sent the attribute. */
    assert_string_equal(policy_request_get(&req, "queue_id"), "");
    assert_string_equal(policy_request_get(&req, "ccert_subject"), "");
    /* A value may hold '=' and spaces: only the first '=' splits. */
    begin();
    assert_int_equal(line("ccert_subject=CN=mx.example, O=Example Inc"), POLICY_MORE);
    assert_int_equal(line(""), POLICY_DONE);
    assert_string_equal(policy_request_get(&req, "ccert_subject"), "CN=mx.example, O=Example Inc");
}

/* test_get - policy_request_get: sent, sent empty, never sent, exact names only */
static void test_get(void **state)
{
    (void) state;
    begin();
    assert_int_equal(line("recipient=u@gdpr.example"), POLICY_MORE);
    assert_int_equal(line("sender="), POLICY_MORE);
    assert_int_equal(line(""), POLICY_DONE);
    assert_string_equal(policy_request_get(&req, "request"), "smtpd_access_policy");
    assert_string_equal(policy_request_get(&req, "recipient"), "u@gdpr.example");
    assert_string_equal(policy_request_get(&req, "sender"), "");
    assert_null(policy_request_get(&req, "client_address"));
    assert_null(policy_request_get(&req, "recipien"));
    assert_null(policy_request_get(&req, "recipient_count"));
    assert_null(policy_request_get(&req, "RECIPIENT"));
    assert_null(policy_request_get(&req, ""));
}

/* test_no_equals - a line without '=' */
static void test_no_equals(void **state)
{
    (void) state;
    begin();
    assert_int_equal(line("protocol_state=RCPT"), POLICY_MORE);
    refused("recipient", 9, "line 3: no '=' in \"recipient\"");
}

/* test_empty_name - "=value" */
static void test_empty_name(void **state)
{
    (void) state;
    begin();
    refused("=RCPT", 5, "invalid attribute name");
}

/* test_name_chars - Postfix's names are [a-z0-9_]; upper case and '-' are refused */
static void test_name_chars(void **state)
{
    static const char *const bad[] = {"Recipient=a@b",  "client-address=192.0.2.7", "recipient =a@b",
                                      " recipient=a@b", "recip\001ent=a@b",         "r\303\251cipient=a@b"};
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        begin();
        refused(bad[i], strlen(bad[i]), "invalid attribute name");
        /* The name in the message is made printable: it came from a socket. */
        for (const char *p = err.msg; *p; p++)
            assert_true(*p >= 0x20 && *p < 0x7f);
    }
    begin();
    assert_int_equal(line("x_9_future_attr2=1"), POLICY_MORE);
}

/* test_name_length - 64 bytes of name taken, 65 refused */
static void test_name_length(void **state)
{
    char name[POLICY_NAME_MAX + 2], buf[POLICY_NAME_MAX + 8];

    (void) state;
    memset(name, 'n', POLICY_NAME_MAX);
    name[POLICY_NAME_MAX] = 0;
    snprintf(buf, sizeof(buf), "%s=v", name);
    begin();
    assert_int_equal(line(buf), POLICY_MORE);
    assert_int_equal(line(""), POLICY_DONE);
    assert_string_equal(policy_request_get(&req, name), "v");

    memset(name, 'n', POLICY_NAME_MAX + 1);
    name[POLICY_NAME_MAX + 1] = 0;
    snprintf(buf, sizeof(buf), "%s=v", name);
    begin();
    refused(buf, strlen(buf), "invalid attribute name");
}

/* test_value_length - a value of 4096 bytes taken, 4097 refused */
static void test_value_length(void **state)
{
    static char buf[POLICY_VALUE_MAX + 64];

    (void) state;
    begin();
    assert_int_equal(line(filled(buf, "ccert_subject", 'v', POLICY_VALUE_MAX)), POLICY_MORE);
    assert_int_equal(line(""), POLICY_DONE);
    assert_int_equal(strlen(policy_request_get(&req, "ccert_subject")), POLICY_VALUE_MAX);

    begin();
    filled(buf, "ccert_subject", 'v', POLICY_VALUE_MAX + 1);
    refused(buf, strlen(buf), "value of ccert_subject longer than 4096 bytes");
}

/* test_attr_count - 64 attributes taken (request= among them), the 65th refused */
static void test_attr_count(void **state)
{
    char buf[32];
    int i;

    (void) state;
    begin();
    for (i = 1; i < POLICY_ATTRS_MAX; i++) {
        snprintf(buf, sizeof(buf), "a%d=%d", i, i);
        assert_int_equal(line(buf), POLICY_MORE);
    }
    assert_int_equal(line(""), POLICY_DONE);
    assert_int_equal(req.nattrs, POLICY_ATTRS_MAX);
    assert_string_equal(policy_request_get(&req, "a63"), "63");

    begin();
    for (i = 1; i < POLICY_ATTRS_MAX; i++) {
        snprintf(buf, sizeof(buf), "a%d=%d", i, i);
        assert_int_equal(line(buf), POLICY_MORE);
    }
    refused("a64=64", 6, "more than 64 attributes");
}

/*
 * fill_to - a request of exactly total bytes with its empty line: the
 * request= line (28 bytes with its newline), seven values of 4096 (4100
 * each), then one line that makes up the rest.
 */
static void fill_to(size_t total)
{
    static char buf[POLICY_LINE_MAX + 1];
    char name[8];
    size_t used = 28, i;

    begin();
    for (i = 0; i < 7; i++) {
        snprintf(name, sizeof(name), "v%zu", i);
        assert_int_equal(line(filled(buf, name, 'x', POLICY_VALUE_MAX)), POLICY_MORE);
        used += 3 + POLICY_VALUE_MAX + 1;
    }
    /* "z=" + value + "\n", then the empty line's "\n" */
    assert_int_equal(line(filled(buf, "z", 'y', total - used - 4)), POLICY_MORE);
    assert_int_equal(req.bytes, total - 1);
}

/* test_total - a request of 32 KiB taken, one byte more refused (at the empty line) */
static void test_total(void **state)
{
    static char buf[POLICY_LINE_MAX + 1];

    (void) state;
    fill_to(POLICY_REQUEST_MAX);
    assert_int_equal(line(""), POLICY_DONE);
    assert_int_equal(req.bytes, POLICY_REQUEST_MAX);

    fill_to(POLICY_REQUEST_MAX + 1);
    refused("", 0, "request longer than 32768 bytes");

    /* Every line counts with its newline, the empty ones too: nine more
       values of 4096 cannot fit however short their names. */
    begin();
    for (int i = 0; i < 7; i++) {
        char name[8];

        snprintf(name, sizeof(name), "v%d", i);
        assert_int_equal(line(filled(buf, name, 'x', POLICY_VALUE_MAX)), POLICY_MORE);
    }
    refused(filled(buf, "w", 'x', POLICY_VALUE_MAX), POLICY_VALUE_MAX + 2, "request longer than");
}

/* test_nul - a NUL byte anywhere in a line */
static void test_nul(void **state)
{
    (void) state;
    begin();
    refused("recipient=a\0@gdpr.example", 25, "line 2: NUL byte");
    begin();
    refused("\0", 1, "NUL byte");
    begin();
    refused("reci\0pient=a@b", 14, "NUL byte");
}

/* test_cr - Postfix ends lines with LF alone; a trailing CR is refused, an inner one too (not a name byte) */
static void test_cr(void **state)
{
    (void) state;
    begin();
    refused("recipient=a@gdpr.example\r", 25, "ends in CR");
    begin();
    refused("\r", 1, "ends in CR");
    /* In a value a CR is a byte like any other; the session service
       deals with what a value holds. */
    begin();
    assert_int_equal(line("helo_name=a\rb"), POLICY_MORE);
}

/* test_duplicate - an attribute twice */
static void test_duplicate(void **state)
{
    (void) state;
    begin();
    assert_int_equal(line("recipient=a@gdpr.example"), POLICY_MORE);
    assert_int_equal(line("recipients=b@gdpr.example"), POLICY_MORE);
    refused("recipient=c@other.example", 25, "attribute recipient sent twice");
    begin();
    refused("request=smtpd_access_policy", 27, "sent twice");
}

/* test_request_attr - the empty line needs request=smtpd_access_policy */
static void test_request_attr(void **state)
{
    (void) state;
    policy_request_init(&req);
    assert_int_equal(line("protocol_state=RCPT"), POLICY_MORE);
    refused("", 0, "no request attribute");

    policy_request_init(&req);
    assert_int_equal(line("request=junk_policy"), POLICY_MORE);
    refused("", 0, "request \"junk_policy\" is not smtpd_access_policy");

    policy_request_init(&req);
    assert_int_equal(line("request=Smtpd_access_policy"), POLICY_MORE);
    refused("", 0, "is not smtpd_access_policy");

    /* An empty line alone is no request either. */
    policy_request_init(&req);
    refused("", 0, "no request attribute");
}

/* test_unknown_kept - attributes of a newer Postfix are kept, nothing refused */
static void test_unknown_kept(void **state)
{
    (void) state;
    begin();
    assert_int_equal(line("protocol_state=RCPT"), POLICY_MORE);
    assert_int_equal(line("policy_context=submission"), POLICY_MORE);
    assert_int_equal(line("server_name=mx.example"), POLICY_MORE);
    assert_int_equal(line("xyz_2031=whatever it means"), POLICY_MORE);
    assert_int_equal(line(""), POLICY_DONE);
    assert_string_equal(policy_request_get(&req, "policy_context"), "submission");
    assert_string_equal(policy_request_get(&req, "xyz_2031"), "whatever it means");
}

/* test_reuse - after DONE and after BAD, init gives a clean request */
static void test_reuse(void **state)
{
    char buf[32];
    int i;

    (void) state;
    policy_request_init(&req);
    lines(postfix_rcpt);
    assert_int_equal(line(""), POLICY_DONE);

    /* The same names again in the next request are no duplicates. */
    policy_request_init(&req);
    assert_false(policy_request_started(&req));
    assert_null(policy_request_get(&req, "recipient"));
    lines(postfix_rcpt);
    assert_int_equal(line("recipient_extra=1"), POLICY_MORE);
    assert_int_equal(line(""), POLICY_DONE);
    assert_int_equal(req.nattrs, 31);

    /* After a refusal over the count: 64 fit again. */
    begin();
    for (i = 1; i < POLICY_ATTRS_MAX; i++) {
        snprintf(buf, sizeof(buf), "a%d=%d", i, i);
        assert_int_equal(line(buf), POLICY_MORE);
    }
    refused("a64=1", 5, "more than");
    begin();
    for (i = 1; i < POLICY_ATTRS_MAX; i++) {
        snprintf(buf, sizeof(buf), "b%d=%d", i, i);
        assert_int_equal(line(buf), POLICY_MORE);
    }
    assert_int_equal(line(""), POLICY_DONE);
    assert_null(policy_request_get(&req, "a1"));
    assert_string_equal(policy_request_get(&req, "b1"), "1");

    /* After a refusal over the size: the byte count starts again. */
    fill_to(POLICY_REQUEST_MAX + 1);
    refused("", 0, "longer than");
    fill_to(POLICY_REQUEST_MAX);
    assert_int_equal(line(""), POLICY_DONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),        cmocka_unit_test(test_get),
        cmocka_unit_test(test_no_equals),    cmocka_unit_test(test_empty_name),
        cmocka_unit_test(test_name_chars),   cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_value_length), cmocka_unit_test(test_attr_count),
        cmocka_unit_test(test_total),        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_cr),           cmocka_unit_test(test_duplicate),
        cmocka_unit_test(test_request_attr), cmocka_unit_test(test_unknown_kept),
        cmocka_unit_test(test_reuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
