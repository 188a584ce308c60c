/*++
 * NAME
 *	test_suites 1
 * SUMMARY
 *	unit tests for suites: the TLS cipher suite catalogue
 * DESCRIPTION
 *	Table-driven; each case has a name that a failure prints. The
 *	expected properties are the IANA registry's and OpenSSL's (as
 *	"openssl ciphers -V -s -stdname" shows them), checked against the
 *	OpenSSL 3.0 this project builds with, which lacks 3DES and RC4: those
 *	come from the catalogue's own legacy rows.
 *
 *	The first test runs before anything else has built the catalogue,
 *	so that its threads race for the one build.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

/* Application. */
#include "tls/suites.h"

#define NTHREADS 8

/* What one known suite must be. */
static const struct suite_case {
    const char *name; /* the case, and the OpenSSL name */
    const char *iana;
    unsigned id;
    enum tls_version version;
    enum tls_auth auth;
    enum tls_kx kx;
    int bits;
    enum tls_mode mode;
    bool legacy;
} suite_cases[] = {
    {"ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F, TLS_V_TLS12,
     TLS_AUTH_RSA, TLS_KX_ECDHE, 128, TLS_MODE_AEAD, false},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9, TLS_V_TLS12,
     TLS_AUTH_ECDSA, TLS_KX_ECDHE, 256, TLS_MODE_AEAD, false},
    {"AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", 0x002F, TLS_V_SSL3, TLS_AUTH_RSA, TLS_KX_RSA, 128,
     TLS_MODE_CBC, false},
    {"DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 0x006B, TLS_V_TLS12, TLS_AUTH_RSA,
     TLS_KX_DHE, 256, TLS_MODE_CBC, false},
    {"ADH-AES128-SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA", 0x0034, TLS_V_SSL3, TLS_AUTH_NULL, TLS_KX_DHE, 128,
     TLS_MODE_CBC, false},
    {"NULL-SHA", "TLS_RSA_WITH_NULL_SHA", 0x0002, TLS_V_SSL3, TLS_AUTH_RSA, TLS_KX_RSA, 0, TLS_MODE_NULL,
     false},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 0x1302, TLS_V_TLS13, TLS_AUTH_ANY, TLS_KX_ANY, 256,
     TLS_MODE_AEAD, false},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 0x1303, TLS_V_TLS13, TLS_AUTH_ANY,
     TLS_KX_ANY, 256, TLS_MODE_AEAD, false},
    /* Legacy: from libssl where it has them, else from the catalogue's rows. */
    {"DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000A, TLS_V_SSL3, TLS_AUTH_RSA, TLS_KX_RSA, 112,
     TLS_MODE_CBC, true},
    {"ECDHE-ECDSA-DES-CBC3-SHA", "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", 0xC008, TLS_V_TLS1, TLS_AUTH_ECDSA,
     TLS_KX_ECDHE, 112, TLS_MODE_CBC, true},
    {"RC4-SHA", "TLS_RSA_WITH_RC4_128_SHA", 0x0005, TLS_V_SSL3, TLS_AUTH_RSA, TLS_KX_RSA, 128,
     TLS_MODE_STREAM, true},
    {"ECDHE-RSA-RC4-SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", 0xC011, TLS_V_TLS1, TLS_AUTH_RSA, TLS_KX_ECDHE,
     128, TLS_MODE_STREAM, true},
};

/* Names that are no suite's. */
static const char *const unknown_names[] = {
    "",
    "ECDHE-RSA-AES128-GCM-SHA25",             /* cut */
    "ecdhe-rsa-aes128-gcm-sha256",            /* OpenSSL's names are upper case */
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ", /* trailing blank */
    "HIGH",                                   /* an alias, not a suite */
    "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",      /* a signal, not a suite */
    "TLS_FALLBACK_SCSV",
};

/* check_case - one known suite, found by s; a message on the first mismatch, NULL when right */
static const char *check_case(const struct suite_case *c, const struct tls_suite *s)
{
    if (s == NULL)
        return "not found";
    if (strcmp(s->name, c->name) != 0)
        return "OpenSSL name";
    if (s->iana == NULL || strcmp(s->iana, c->iana) != 0)
        return "IANA name";
    if (s->id != c->id)
        return "number";
    if (s->version != c->version)
        return "protocol";
    if (s->auth != c->auth)
        return "authentication";
    if (s->kx != c->kx)
        return "key exchange";
    if (s->bits != c->bits)
        return "bits";
    if (s->mode != c->mode)
        return "mode";
    if (s->legacy != c->legacy)
        return "legacy";
    return suites_at(s->index) == s ? NULL : "index";
}

/* lookup_all - every case, by both names and by number; the failures */
static int lookup_all(void)
{
    const struct suite_case *c;
    size_t i;
    int bad = 0;

    for (i = 0; i < sizeof(suite_cases) / sizeof(suite_cases[0]); i++) {
        c = &suite_cases[i];
        bad += check_case(c, suites_find(c->name)) != NULL;
        bad += check_case(c, suites_find(c->iana)) != NULL;
        bad += check_case(c, suites_by_id(c->id)) != NULL;
    }
    return bad;
}

/* racer - one thread: wait for the others, then look everything up */
static void *racer(void *arg)
{
    pthread_barrier_t *start = arg;
    intptr_t bad;

    pthread_barrier_wait(start);
    bad = lookup_all();
    return (void *) bad;
}

/* The first lookups come from several threads at once: one build, same answers. */
static void test_first_use_threads(void **state)
{
    pthread_t t[NTHREADS];
    pthread_barrier_t start;
    void *bad;
    int i;

    (void) state;
    assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
    for (i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, racer, &start), 0);
    for (i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(t[i], &bad), 0);
        if (bad != NULL)
            fail_msg("thread %d: %ld failed lookups", i, (long) (intptr_t) bad);
    }
    pthread_barrier_destroy(&start);
}

/* Known suites: both names and the number lead to the same properties. */
static void test_known_suites(void **state)
{
    const struct suite_case *c;
    const char *why;
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(suite_cases) / sizeof(suite_cases[0]); i++) {
        c = &suite_cases[i];
        if ((why = check_case(c, suites_find(c->name))) != NULL)
            fail_msg("case %s by OpenSSL name: %s", c->name, why);
        if ((why = check_case(c, suites_find(c->iana))) != NULL)
            fail_msg("case %s by IANA name: %s", c->name, why);
        if ((why = check_case(c, suites_by_id(c->id))) != NULL)
            fail_msg("case %s by number: %s", c->name, why);
    }
}

/* Names no suite has, and a number no suite has. */
static void test_unknown(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(unknown_names) / sizeof(unknown_names[0]); i++)
        if (suites_find(unknown_names[i]) != NULL)
            fail_msg("case \"%s\": found", unknown_names[i]);
    assert_null(suites_find(NULL));
    assert_null(suites_by_id(0x00FF)); /* the renegotiation SCSV */
    assert_null(suites_by_id(0xFFFE));
    assert_null(suites_at(suites_count()));
}

/* The older "EDH-" spelling of a DHE suite finds the same entry. */
static void test_alias(void **state)
{
    const struct tls_suite *s = suites_find("EDH-RSA-DES-CBC3-SHA");

    (void) state;
    assert_non_null(s);
    assert_ptr_equal(s, suites_find("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"));
    assert_int_equal(s->kx, TLS_KX_DHE);
    assert_int_equal(s->auth, TLS_AUTH_RSA);
}

/* The whole catalogue: sorted by number, indexed, every name leads back. */
static void test_walk(void **state)
{
    const struct tls_suite *s, *prev = NULL;
    size_t i, n = suites_count(), tls13 = 0, libssl = 0;
    struct tp_error err;

    (void) state;
    assert_int_equal(suites_ready(&err), 0);
    assert_true(n > 100); /* OpenSSL 3.0 has some 170 */
    for (i = 0; i < n; i++) {
        s = suites_at(i);
        assert_non_null(s);
        if (s->index != i || (prev != NULL && prev->id >= s->id))
            fail_msg("suite %s: out of order", s->name);
        if (suites_find(s->name) != s || (s->iana != NULL && suites_find(s->iana) != s) ||
            suites_by_id(s->id) != s)
            fail_msg("suite %s: a name or number leads elsewhere", s->name);
        if (s->version == TLS_V_TLS13 && (s->kx != TLS_KX_ANY || s->auth != TLS_AUTH_ANY))
            fail_msg("suite %s: TLS 1.3 with its own key exchange", s->name);
        tls13 += s->version == TLS_V_TLS13;
        libssl += s->libssl;
        prev = s;
    }
    assert_true(tls13 >= 3);
    assert_true(libssl + 8 >= n); /* at most the eight legacy rows are ours */
}

/* Available: what this OpenSSL can negotiate; never a row of ours. */
static void test_available(void **state)
{
    const struct tls_suite *s;
    size_t i;

    (void) state;
    assert_true(suites_find("ECDHE-RSA-AES128-GCM-SHA256")->available);
    assert_true(suites_find("TLS_AES_128_GCM_SHA256")->available);
    assert_true(suites_find("TLS_AES_128_CCM_SHA256")->available); /* not in the default ciphersuites */
    for (i = 0; (s = suites_at(i)) != NULL; i++)
        if (!s->libssl && s->available)
            fail_msg("suite %s: a row of ours, yet available", s->name);
}

/* Names of the classifications, for explanations. */
static void test_names(void **state)
{
    (void) state;
    assert_string_equal(suites_kx_name(TLS_KX_ECDHE), "ECDHE");
    assert_string_equal(suites_kx_name(TLS_KX_RSA), "RSA");
    assert_string_equal(suites_auth_name(TLS_AUTH_ECDSA), "ECDSA");
    assert_string_equal(suites_auth_name(TLS_AUTH_NULL), "none");
    assert_string_equal(suites_mode_name(TLS_MODE_CBC), "CBC");
    assert_string_equal(suites_mode_name(TLS_MODE_AEAD), "AEAD");
    assert_string_equal(suites_kx_name((enum tls_kx) 99), "other");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_threads), /* first: nothing built yet */
        cmocka_unit_test(test_known_suites),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_alias),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_available),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
