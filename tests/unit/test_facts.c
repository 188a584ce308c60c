/*++
 * NAME
 *	test_facts 1
 * SUMMARY
 *	unit tests for facts.c
 * DESCRIPTION
 *	Table-driven: every case has a name, so a failure says which one.
 *	Covers the macro parsers (verify, xtext, CN, cipher bits), the
 *	mailbox parser including hostile input, and the setters' ownership
 *	(run under ASan, a leak or a double free fails the test).
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
#include "core/facts.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* fail_case - report which table entry broke */
static void fail_case(const char *name, const char *what, const char *got, const char *want)
{
    fail_msg("case %s: %s: got \"%s\", want \"%s\"", name, what, got ? got : "(null)",
             want ? want : "(null)");
}

/* same - two possibly-NULL strings are equal */
static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* test_verify_parse - Sendmail {verify} values */
static void test_verify_parse(void **state)
{
    static const struct {
        const char *in;
        enum verify_result want;
    } cases[] = {
        {NULL, VERIFY_ABSENT},
        {"OK", VERIFY_OK},
        {"ok", VERIFY_OK},
        {"No", VERIFY_NO},
        {"NOT", VERIFY_NOT},
        {"FAIL", VERIFY_FAIL},
        {"NONE", VERIFY_NONE},
        {"TEMP", VERIFY_TEMP},
        {"PROTOCOL", VERIFY_PROTOCOL},
        {"software", VERIFY_SOFTWARE},
        {"", VERIFY_OTHER},
        {"OKAY", VERIFY_OTHER},
        {"OK ", VERIFY_OTHER},
        {"CRL", VERIFY_OTHER},
    };
    size_t i;

    (void) state;
    for (i = 0; i < N(cases); i++)
        if (facts_verify_parse(cases[i].in) != cases[i].want)
            fail_msg("verify %s: got %d want %d", cases[i].in ? cases[i].in : "NULL",
                     facts_verify_parse(cases[i].in), cases[i].want);
    assert_string_equal(facts_verify_name(VERIFY_OK), "OK");
    assert_string_equal(facts_verify_name(VERIFY_ABSENT), "absent");
    assert_string_equal(facts_verify_name(VERIFY_OTHER), "other");
}

/* test_xtext_decode - RFC 3461 xtext, malformed escapes literal */
static void test_xtext_decode(void **state)
{
    static const struct {
        const char *name, *in, *want;
    } cases[] = {
        {"plain", "mx.example", "mx.example"},
        {"space", "Partner+20GmbH", "Partner GmbH"},
        {"lower hex", "a+2fb", "a/b"},
        {"plus", "a+2Bb", "a+b"},
        {"utf8", "M+C3+BCller", "M\xc3\xbcller"},
        {"lone plus", "a+", "a+"},
        {"one digit", "a+2", "a+2"},
        {"bad hex", "a+zz1", "a+zz1"},
        {"half hex", "a+2g", "a+2g"},
        {"nul kept", "a+00b", "a+00b"},
        {"empty", "", ""},
        {"adjacent", "+41+42+43", "ABC"},
    };
    size_t i;
    char *got;

    (void) state;
    assert_null(xtext_decode(NULL));
    for (i = 0; i < N(cases); i++) {
        got = xtext_decode(cases[i].in);
        if (!same(got, cases[i].want))
            fail_case(cases[i].name, "xtext", got, cases[i].want);
        free(got);
    }
}

/* test_cert_cn - CN of a Postfix CN or a Sendmail DN */
static void test_cert_cn(void **state)
{
    static const struct {
        const char *name, *in, *want;
    } cases[] = {
        {"postfix cn", "mx.partner.example", "mx.partner.example"},
        {"sendmail dn", "/O=Partner GmbH/CN=mx.partner.example", "mx.partner.example"},
        {"last cn wins", "/CN=Partner CA/OU=x/CN=mx.partner.example", "mx.partner.example"},
        {"key case", "/C=DE/cn=mx.example", "mx.example"},
        {"cn not last", "/CN=mx.example/emailAddress=a@b", "mx.example"},
        {"no cn", "/O=Partner/OU=Mail", NULL},
        {"empty cn", "/CN=", NULL},
        {"last cn empty", "/CN=a/CN=", NULL},
        {"empty", "", NULL},
        {"cnx key", "/CNX=foo", NULL},
        {"slash only", "/", NULL},
        {"cn with space", "Partner Mail Gateway", "Partner Mail Gateway"},
    };
    size_t i;
    char *got;

    (void) state;
    assert_null(cert_cn(NULL));
    for (i = 0; i < N(cases); i++) {
        got = cert_cn(cases[i].in);
        if (!same(got, cases[i].want))
            fail_case(cases[i].name, "cn", got, cases[i].want);
        free(got);
    }
}

struct addr_case {
    const char *name;
    const char *in;
    enum addr_kind kind;
    const char *domain;
};

static const struct addr_case addr_cases[] = {
    {"brackets upper", "<user@Example.ORG>", ADDR_DOMAIN, "example.org"},
    {"bare", "user@example.org", ADDR_DOMAIN, "example.org"},
    {"white space", "  <user@example.org>  ", ADDR_DOMAIN, "example.org"},
    {"null sender", "<>", ADDR_NULL, ""},
    {"null sender params", "<> SIZE=10", ADDR_NULL, ""},
    {"source route", "<@relay1,@relay2:user@dest.example>", ADDR_DOMAIN, "dest.example"},
    {"quoted at gt", "<\"odd@local>\"@example.org>", ADDR_DOMAIN, "example.org"},
    {"quoted escape", "<\"a\\\"b\"@example.org>", ADDR_DOMAIN, "example.org"},
    {"quoted empty", "<\"\"@example.org>", ADDR_DOMAIN, "example.org"},
    {"quoted space", "<\"a b\"@example.org>", ADDR_DOMAIN, "example.org"},
    {"atom escape", "<a\\@b@example.org>", ADDR_DOMAIN, "example.org"},
    {"literal v4", "<user@[192.0.2.1]>", ADDR_LITERAL, ""},
    {"literal v6", "<user@[IPv6:2001:db8::1]>", ADDR_LITERAL, ""},
    {"literal junk", "<user@[not an ip]>", ADDR_INVALID, ""},
    {"literal open", "<user@[192.0.2.1>", ADDR_INVALID, ""},
    {"local brackets", "<postmaster>", ADDR_LOCAL, ""},
    {"local bare", "postmaster", ADDR_LOCAL, ""},
    {"local quoted", "<\"post master\">", ADDR_LOCAL, ""},
    {"idn",
     "<user@b\xc3\xbc"
     "cher.example>",
     ADDR_DOMAIN, "xn--bcher-kva.example"},
    {"utf8 local", "<j\xc3\xb6rg@example.org>", ADDR_DOMAIN, "example.org"},
    {"a-label", "<user@XN--BCHER-KVA.example>", ADDR_DOMAIN, "xn--bcher-kva.example"},
    {"params", "<user@example.org> SIZE=100", ADDR_DOMAIN, "example.org"},
    {"params tab", "<user@example.org>\tNOTIFY=NEVER", ADDR_DOMAIN, "example.org"},
    {"trailing dot", "user@example.org.", ADDR_DOMAIN, "example.org"},
    {"trailing dot bracket", "<user@example.org.>", ADDR_DOMAIN, "example.org"},
    {"empty domain", "<user@>", ADDR_INVALID, ""},
    {"at only", "<@>", ADDR_INVALID, ""},
    {"space in domain", "<user@exa mple.org>", ADDR_INVALID, ""},
    {"space bare", "user@exa mple.org", ADDR_INVALID, ""},
    {"double at", "user@@x", ADDR_INVALID, ""},
    {"two ats", "<a@b@c.example>", ADDR_INVALID, ""},
    {"unclosed bracket", "<a@b", ADDR_INVALID, ""},
    {"unclosed quote", "<\"abc@example.org>", ADDR_INVALID, ""},
    {"unclosed quote bare", "\"abc@example.org", ADDR_INVALID, ""},
    {"escape at end", "<\"abc\\", ADDR_INVALID, ""},
    {"atom escape at end", "abc\\", ADDR_INVALID, ""},
    {"empty", "", ADDR_INVALID, ""},
    {"blank", "   ", ADDR_INVALID, ""},
    {"empty local", "<@example.org>", ADDR_INVALID, ""},
    {"route no colon", "<@relay1,user@example.org>", ADDR_INVALID, ""},
    {"route empty", "<@:user@example.org>", ADDR_INVALID, ""},
    {"junk after bracket", "<user@example.org>x", ADDR_INVALID, ""},
    {"nested bracket", "<<user@example.org>>", ADDR_INVALID, ""},
    {"gt only", ">", ADDR_INVALID, ""},
    {"lt only", "<", ADDR_INVALID, ""},
    {"empty label", "<user@a..example>", ADDR_INVALID, ""},
    {"bad char domain", "<user@exa_mple!.org>", ADDR_INVALID, ""},
    {"comma local", "<a,b@example.org>", ADDR_INVALID, ""},
    {"control local", "<a\001b@example.org>", ADDR_INVALID, ""},
    {"display name", "Name <user@example.org>", ADDR_INVALID, ""},
    {"null with junk", "<>x", ADDR_INVALID, ""},
};

/* test_address_parse - mailboxes as an MTA reads them */
static void test_address_parse(void **state)
{
    struct address a;
    size_t i;

    (void) state;
    for (i = 0; i < N(addr_cases); i++) {
        memset(&a, 'X', sizeof(a));
        address_parse(addr_cases[i].in, &a);
        if (a.kind != addr_cases[i].kind)
            fail_msg("case %s: kind %d, want %d", addr_cases[i].name, a.kind, addr_cases[i].kind);
        if (strcmp(a.domain, addr_cases[i].domain) != 0)
            fail_case(addr_cases[i].name, "domain", a.domain, addr_cases[i].domain);
    }
    address_parse(NULL, &a);
    assert_int_equal(a.kind, ADDR_INVALID);
    assert_string_equal(a.domain, "");
}

/* filled - a string of n copies of c, with prefix and suffix */
static char *filled(const char *prefix, char c, size_t n, const char *suffix)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    char *s = malloc(lp + n + ls + 1);

    assert_non_null(s);
    memcpy(s, prefix, lp);
    memset(s + lp, c, n);
    memcpy(s + lp + n, suffix, ls + 1);
    return s;
}

/* test_address_long - oversized parts end as ADDR_INVALID, never overflow */
static void test_address_long(void **state)
{
    struct address a;
    char *s;

    (void) state;
    s = filled("<", 'a', 100000, "@example.org>"); /* long local parts are the MTA's business */
    address_parse(s, &a);
    assert_int_equal(a.kind, ADDR_DOMAIN);
    free(s);
    s = filled("<user@", 'a', 10000, ".example>");
    address_parse(s, &a);
    assert_int_equal(a.kind, ADDR_INVALID);
    free(s);
    s = filled("<user@[", '1', 10000, "]>");
    address_parse(s, &a);
    assert_int_equal(a.kind, ADDR_INVALID);
    free(s);
    s = filled("<\"", '\\', 10001, "\"@example.org>"); /* odd count: the last escapes the quote */
    address_parse(s, &a);
    assert_int_equal(a.kind, ADDR_INVALID);
    free(s);
    s = filled("<@", 'r', 10000, ":u@example.org>");
    address_parse(s, &a);
    assert_int_equal(a.kind, ADDR_DOMAIN);
    assert_string_equal(a.domain, "example.org");
    free(s);
    s = filled("", '"', 9999, "@example.org");
    address_parse(s, &a);
    assert_int_equal(a.kind, ADDR_INVALID);
    free(s);
}

/* test_fuzz - random hostile strings through every parser; ASan judges */
static void test_fuzz(void **state)
{
    static const char alphabet[] = "<>@\"\\[]:,. \t+/=aZ9-CN\xc3\xbc\xff\001";
    char buf[64];
    struct address a;
    unsigned long x = 12345;
    size_t len, j;
    int i;
    char *d, *cn;

    (void) state;
    for (i = 0; i < 200000; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        len = (x >> 33) % (sizeof(buf) - 1);
        for (j = 0; j < len; j++) {
            x = x * 6364136223846793005UL + 1442695040888963407UL;
            buf[j] = alphabet[(x >> 33) % (sizeof(alphabet) - 1)];
        }
        buf[len] = 0;
        address_parse(buf, &a);
        assert_true(a.kind <= ADDR_INVALID);
        assert_true(strlen(a.domain) <= DOMAIN_MAX);
        if (a.kind != ADDR_DOMAIN)
            assert_string_equal(a.domain, "");
        d = xtext_decode(buf);
        assert_non_null(d);
        assert_true(strlen(d) <= len);
        cn = cert_cn(d);
        free(cn);
        free(d);
    }
}

/* test_cipher_bits - strict digits, 0..65535 */
static void test_cipher_bits(void **state)
{
    static const struct {
        const char *in;
        int want;
    } cases[] = {
        {"256", 256},     {"0", 0},
        {"65535", 65535}, {"65536", -1},
        {"0128", 128},    {"", -1},
        {NULL, -1},       {"-1", -1},
        {"+128", -1},     {" 128", -1},
        {"128 ", -1},     {"12a", -1},
        {"0x80", -1},     {"99999999999999999999", -1},
    };
    struct session_facts sf;
    size_t i;

    (void) state;
    session_facts_init(&sf);
    for (i = 0; i < N(cases); i++) {
        assert_int_equal(facts_set_cipher_bits(&sf, "128"), 0);
        assert_int_equal(facts_set_cipher_bits(&sf, cases[i].in), 0);
        if (sf.cipher_bits != cases[i].want)
            fail_msg("bits \"%s\": got %d want %d", cases[i].in ? cases[i].in : "NULL", sf.cipher_bits,
                     cases[i].want);
    }
    session_facts_clear(&sf);
}

/* test_client_addr - Postfix and Sendmail spellings of the client address */
static void test_client_addr(void **state)
{
    struct session_facts sf;
    struct ip_addr want;

    (void) state;
    session_facts_init(&sf);
    assert_int_equal(facts_set_client_addr(&sf, "192.0.2.7"), 0);
    assert_true(sf.has_client_addr);
    assert_int_equal(ip_addr_parse("192.0.2.7", &want), 0);
    assert_memory_equal(sf.client_ip.b, want.b, 16);
    assert_string_equal(sf.client_addr, "192.0.2.7");

    assert_int_equal(facts_set_client_addr(&sf, "IPv6:2001:db8::1"), 0);
    assert_true(sf.has_client_addr);
    assert_int_equal(ip_addr_parse("2001:db8::1", &want), 0);
    assert_memory_equal(sf.client_ip.b, want.b, 16);
    assert_string_equal(sf.client_addr, "IPv6:2001:db8::1");

    assert_int_equal(facts_set_client_addr(&sf, "[2001:db8::1]"), 0);
    assert_true(sf.has_client_addr);
    assert_memory_equal(sf.client_ip.b, want.b, 16);

    assert_int_equal(facts_set_client_addr(&sf, "not-an-address"), -1);
    assert_false(sf.has_client_addr);
    assert_string_equal(sf.client_addr, "not-an-address");

    assert_int_equal(facts_set_client_addr(&sf, NULL), 0);
    assert_false(sf.has_client_addr);
    assert_null(sf.client_addr);
    session_facts_clear(&sf);
}

/* test_tls_facts - version, cipher, verify */
static void test_tls_facts(void **state)
{
    struct session_facts sf;

    (void) state;
    session_facts_init(&sf);
    assert_int_equal(sf.tls_version, TLS_V_NONE);
    assert_int_equal(sf.cipher_bits, -1);
    assert_int_equal(sf.verify, VERIFY_ABSENT);
    assert_int_equal(facts_set_tls_version(&sf, "TLSv1.3"), 0);
    assert_int_equal(sf.tls_version, TLS_V_TLS13);
    assert_string_equal(sf.tls_version_raw, "TLSv1.3");
    assert_int_equal(facts_set_tls_version(&sf, "QUICv9"), 0);
    assert_int_equal(sf.tls_version, TLS_V_UNKNOWN);
    assert_string_equal(sf.tls_version_raw, "QUICv9");
    assert_int_equal(facts_set_tls_version(&sf, ""), 0);
    assert_int_equal(sf.tls_version, TLS_V_NONE);
    assert_int_equal(facts_set_tls_version(&sf, NULL), 0);
    assert_int_equal(sf.tls_version, TLS_V_NONE);
    assert_null(sf.tls_version_raw);
    assert_int_equal(facts_set_cipher(&sf, "TLS_AES_256_GCM_SHA384"), 0);
    assert_string_equal(sf.cipher, "TLS_AES_256_GCM_SHA384");
    assert_int_equal(facts_set_verify(&sf, "ok"), 0);
    assert_int_equal(sf.verify, VERIFY_OK);
    assert_int_equal(facts_set_verify(&sf, NULL), 0);
    assert_int_equal(sf.verify, VERIFY_ABSENT);
    session_facts_clear(&sf);
}

/* test_cert_facts - Postfix CN, Sendmail xtext DN, Sendmail "" for no cert */
static void test_cert_facts(void **state)
{
    struct session_facts sf;

    (void) state;
    session_facts_init(&sf);
    assert_int_equal(facts_set_cert_subject(&sf, "mx.partner.example"), 0); /* Postfix */
    assert_string_equal(sf.cert_subject_cn, "mx.partner.example");
    assert_int_equal(facts_set_cert_subject(&sf, "/O=Partner+20GmbH/CN=mx.partner.example"), 0);
    assert_string_equal(sf.cert_subject, "/O=Partner+20GmbH/CN=mx.partner.example");
    assert_string_equal(sf.cert_subject_cn, "mx.partner.example");
    assert_int_equal(facts_set_cert_issuer(&sf, "/C=DE/O=Partner/CN=Partner+20CA"), 0);
    assert_string_equal(sf.cert_issuer_cn, "Partner CA");
    /* Sendmail's xtext leaves '=' and '/' alone; a decoded space stays in the CN */
    assert_int_equal(facts_set_cert_subject(&sf, "/O=x/CN=Mail+20Gateway+2B1"), 0);
    assert_string_equal(sf.cert_subject_cn, "Mail Gateway+1");
    assert_int_equal(facts_set_cert_subject(&sf, ""), 0); /* Sendmail: no client cert */
    assert_string_equal(sf.cert_subject, "");
    assert_null(sf.cert_subject_cn);
    assert_int_equal(facts_set_cert_subject(&sf, "/O=NoCN"), 0);
    assert_null(sf.cert_subject_cn);
    assert_int_equal(facts_set_cert_issuer(&sf, NULL), 0);
    assert_null(sf.cert_issuer);
    assert_null(sf.cert_issuer_cn);
    session_facts_clear(&sf);
}

/* Passed fingerprints: the digest by length, or none. */
static const struct {
    const char *in;
    enum certfp_digest digest;
    unsigned char first, last;
} fp_cases[] = {
    {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", CERTFP_MD5, 0x00, 0xff},
    {"00112233445566778899aabbccddeeff", CERTFP_MD5, 0x00, 0xff},
    {"0011:2233445566778899AaBbCcDdEeFf", CERTFP_MD5, 0x00, 0xff}, /* colons between any bytes */
    {"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67", CERTFP_SHA1, 0x01, 0x67},
    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", CERTFP_SHA256, 0x01, 0xef},
    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdf0",
     CERTFP_SHA512, 0x01, 0xf0},
    {"", CERTFP_NONE, 0, 0},
    {NULL, CERTFP_NONE, 0, 0},
    {"00:11:22", CERTFP_NONE, 0, 0},                                         /* no digest this long */
    {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:F", CERTFP_NONE, 0, 0},   /* odd digits */
    {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:", CERTFP_NONE, 0, 0}, /* trailing colon */
    {":00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", CERTFP_NONE, 0, 0}, /* leading colon */
    {"00::11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", CERTFP_NONE, 0, 0}, /* double colon */
    {"0:011:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", CERTFP_NONE, 0, 0},  /* colon inside a byte */
    {"MD5:00112233445566778899aabbccddeeff", CERTFP_NONE, 0, 0},             /* a pin is no fingerprint */
    {" 00112233445566778899aabbccddeeff", CERTFP_NONE, 0, 0},
    {"00112233445566778899aabbccddeefg", CERTFP_NONE, 0, 0},
};

/* test_fingerprint_facts - parsing, replacement, and the raw value kept */
static void test_fingerprint_facts(void **state)
{
    struct session_facts sf;
    size_t i;

    (void) state;
    session_facts_init(&sf);
    assert_int_equal(sf.cert_fp.digest, CERTFP_NONE);
    for (i = 0; i < N(fp_cases); i++) {
        assert_int_equal(facts_set_cert_fingerprint(&sf, fp_cases[i].in), 0);
        assert_int_equal(facts_set_cert_pubkey_fingerprint(&sf, fp_cases[i].in), 0);
        if (sf.cert_fp.digest != fp_cases[i].digest || sf.cert_pubkey_fp.digest != fp_cases[i].digest)
            fail_msg("fingerprint case %zu \"%s\": digest %s", i, fp_cases[i].in ? fp_cases[i].in : "(null)",
                     certfp_name(sf.cert_fp.digest));
        if (fp_cases[i].digest != CERTFP_NONE) {
            assert_int_equal(sf.cert_fp.bytes[0], fp_cases[i].first);
            assert_int_equal(sf.cert_fp.bytes[certfp_len(fp_cases[i].digest) - 1], fp_cases[i].last);
        }
        if (fp_cases[i].in)
            assert_string_equal(sf.cert_fingerprint, fp_cases[i].in);
        else
            assert_null(sf.cert_fingerprint);
    }
    session_facts_clear(&sf);
}

/* test_pin_parse - configured pins: digest names, lengths, messages */
static void test_pin_parse(void **state)
{
    static const struct {
        const char *in;
        enum certfp_digest digest; /* CERTFP_NONE: refused, with why in the message */
        const char *why;
    } cases[] = {
        {"SHA256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", CERTFP_SHA256, NULL},
        {"sha256:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
         CERTFP_SHA256, NULL},
        {"Sha1:0123456789abcdef0123456789abcdef01234567", CERTFP_SHA1, NULL},
        {"md5:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", CERTFP_MD5, NULL},
        {"SHA512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         CERTFP_SHA512, NULL},
        {"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", CERTFP_NONE, "no digest name"},
        {"00112233445566778899aabbccddeeff", CERTFP_NONE, "no digest name"},
        {"SHA384:00", CERTFP_NONE, "unknown digest \"SHA384\""},
        {":00", CERTFP_NONE, "unknown digest"},
        {"SHA256:00112233445566778899aabbccddeeff", CERTFP_NONE, "16 bytes, but a SHA256 fingerprint has 32"},
        {"MD5:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", CERTFP_NONE,
         "32 bytes, but a MD5 fingerprint has 16"},
        {"MD5:", CERTFP_NONE, "0 bytes"},
        {"MD5:00112233445566778899aabbccddeefx", CERTFP_NONE, "not hex digits at position 36"},
        {"SHA1:00 11", CERTFP_NONE, "not hex digits at position 8"},
    };
    struct certfp fp, again;
    struct tp_error err;
    char text[CERTFP_TEXT_MAX];
    size_t i;

    (void) state;
    for (i = 0; i < N(cases); i++) {
        err.msg[0] = 0;
        if (cases[i].digest != CERTFP_NONE) {
            if (certfp_parse_pin(cases[i].in, &fp, &err) != 0 || fp.digest != cases[i].digest)
                fail_msg("pin \"%s\": %s", cases[i].in, err.msg);
            /* The pin form reads back as the same pin. */
            certfp_format(&fp, text, sizeof(text));
            assert_int_equal(certfp_parse_pin(text, &again, &err), 0);
            assert_true(certfp_equal(&fp, &again));
            continue;
        }
        if (certfp_parse_pin(cases[i].in, &fp, &err) == 0 || strstr(err.msg, cases[i].why) == NULL)
            fail_msg("pin \"%s\": expected \"%s\", got \"%s\"", cases[i].in, cases[i].why, err.msg);
        assert_int_equal(fp.digest, CERTFP_NONE);
    }
    /* A pin matches the passed fingerprint of the same digest and bytes only. */
    assert_int_equal(certfp_parse_pin("MD5:00112233445566778899aabbccddeeff", &fp, &err), 0);
    assert_int_equal(certfp_parse_hex("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF", &again), 0);
    assert_true(certfp_equal(&fp, &again));
    assert_int_equal(certfp_parse_hex("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FE", &again), 0);
    assert_false(certfp_equal(&fp, &again));
    memset(&again, 0, sizeof(again));
    memset(&fp, 0, sizeof(fp));
    assert_false(certfp_equal(&fp, &again)); /* no fingerprint equals nothing, not even none */
}

/* test_session_setters - copies, replacement, clear */
static void test_session_setters(void **state)
{
    struct session_facts sf;
    char buf[32];

    (void) state;
    session_facts_init(&sf);
    assert_int_equal(sf.sender_addr.kind, ADDR_INVALID);
    strcpy(buf, "mx.example");
    assert_int_equal(facts_set_helo(&sf, buf), 0);
    strcpy(buf, "changed");
    assert_string_equal(sf.helo, "mx.example"); /* a copy, not the caller's buffer */
    assert_int_equal(facts_set_helo(&sf, "other.example"), 0);
    assert_string_equal(sf.helo, "other.example");
    assert_int_equal(facts_set_client_name(&sf, "unknown"), 0);
    assert_false(facts_authenticated(&sf));
    assert_int_equal(facts_set_auth_type(&sf, ""), 0);
    assert_false(facts_authenticated(&sf));
    assert_int_equal(facts_set_auth_type(&sf, "PLAIN"), 0);
    assert_true(facts_authenticated(&sf));
    assert_int_equal(facts_set_sender(&sf, "<Alice@Partner.Example>"), 0);
    assert_int_equal(sf.sender_addr.kind, ADDR_DOMAIN);
    assert_string_equal(sf.sender_addr.domain, "partner.example");
    assert_int_equal(facts_set_sender(&sf, "<>"), 0);
    assert_int_equal(sf.sender_addr.kind, ADDR_NULL);
    assert_string_equal(sf.sender, "<>");
    assert_int_equal(facts_set_sender(&sf, NULL), 0);
    assert_int_equal(sf.sender_addr.kind, ADDR_INVALID);
    assert_null(sf.sender);
    assert_int_equal(facts_set_sender(&sf, "<bob@example.org>"), 0);
    assert_int_equal(facts_set_client_addr(&sf, "192.0.2.1"), 0);
    assert_int_equal(facts_set_tls_version(&sf, "TLSv1.2"), 0);
    assert_int_equal(facts_set_cipher(&sf, "ECDHE-RSA-AES128-GCM-SHA256"), 0);
    assert_int_equal(facts_set_cipher_bits(&sf, "128"), 0);
    assert_int_equal(facts_set_cert_subject(&sf, "/CN=x"), 0);
    assert_int_equal(facts_set_cert_issuer(&sf, "/CN=y"), 0);
    assert_int_equal(facts_set_verify(&sf, "FAIL"), 0);
    session_facts_clear(&sf);
    assert_null(sf.helo);
    assert_null(sf.sender);
    assert_null(sf.cert_subject_cn);
    assert_false(sf.has_client_addr);
    assert_int_equal(sf.tls_version, TLS_V_NONE);
    assert_int_equal(sf.cipher_bits, -1);
    assert_int_equal(sf.verify, VERIFY_ABSENT);
    assert_int_equal(sf.sender_addr.kind, ADDR_INVALID);
    session_facts_clear(&sf); /* clearing twice is harmless */
}

/* test_rcpt_facts - recipient as sent and as resolved */
static void test_rcpt_facts(void **state)
{
    struct rcpt_facts rf;

    (void) state;
    rcpt_facts_init(&rf);
    assert_int_equal(rf.addr.kind, ADDR_INVALID);
    assert_int_equal(facts_set_rcpt(&rf, "<User@GDPR.Example>"), 0);
    assert_string_equal(rf.rcpt, "<User@GDPR.Example>");
    assert_int_equal(rf.addr.kind, ADDR_DOMAIN);
    assert_string_equal(rf.addr.domain, "gdpr.example");
    assert_int_equal(facts_set_rcpt_resolved(&rf, "user@mail.gdpr.example"), 0);
    assert_string_equal(rf.resolved_addr.domain, "mail.gdpr.example");
    assert_int_equal(facts_set_rcpt(&rf, "<user@>"), 0);
    assert_int_equal(rf.addr.kind, ADDR_INVALID);
    assert_string_equal(rf.addr.domain, "");
    rcpt_facts_clear(&rf);
    assert_null(rf.rcpt);
    assert_null(rf.rcpt_resolved);
    assert_int_equal(rf.resolved_addr.kind, ADDR_INVALID);
    rcpt_facts_clear(&rf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_parse),    cmocka_unit_test(test_xtext_decode),
        cmocka_unit_test(test_cert_cn),         cmocka_unit_test(test_address_parse),
        cmocka_unit_test(test_address_long),    cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_cipher_bits),     cmocka_unit_test(test_client_addr),
        cmocka_unit_test(test_tls_facts),       cmocka_unit_test(test_cert_facts),
        cmocka_unit_test(test_session_setters), cmocka_unit_test(test_rcpt_facts),
        cmocka_unit_test(test_fingerprint_facts), cmocka_unit_test(test_pin_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
