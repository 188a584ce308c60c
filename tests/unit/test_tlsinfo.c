/*++
 * NAME
 *	test_tlsinfo 1
 * SUMMARY
 *	unit tests for tlsinfo: versions and OpenSSL cipher sets
 * DESCRIPTION
 *	Table-driven; each case has a name that a failure prints. Cipher
 *	expectations were checked against the OpenSSL 3.0 the project builds
 *	with: it has no RC4, 3DES, DES or export suites at all, so those names
 *	are in no set, whatever the string says.
 *
 *	A string that selects suites must name only words OpenSSL knows:
 *	typo cases show that OpenSSL's silent skipping of an unknown word
 *	("!kRAS") is turned into an error, and strings from the wild show
 *	that real aliases, suite names and obsolete exclusions still load.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

/* OpenSSL. */
#include <openssl/err.h>

/* Application. */
#include "tls/tlsinfo.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/*
 * Suites no strict policy may admit: static-RSA key exchange, NULL
 * encryption, anonymous key exchange, and names this OpenSSL cannot offer
 * (RC4, 3DES, export). Both naming forms, since MTAs log either.
 */
#define WEAK_TLS12                                                                                           \
    "AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",    \
        "AES256-SHA", "AES128-GCM-SHA256", "NULL-SHA256", "NULL-SHA", "NULL-MD5", "ECDHE-RSA-NULL-SHA",      \
        "ECDHE-ECDSA-NULL-SHA", "ADH-AES256-GCM-SHA384", "TLS_DH_anon_WITH_AES_256_GCM_SHA384",              \
        "AECDH-AES256-SHA", "AECDH-NULL-SHA", "RC4-SHA", "RC4-MD5", "ECDHE-RSA-RC4-SHA", "DES-CBC3-SHA",     \
        "ECDHE-RSA-DES-CBC3-SHA", "EXP-RC4-MD5", "EXP-DES-CBC-SHA"

#define TLS13_SUITES "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"

/*
 * Versions.
 */
static const struct {
    const char *name;
    const char *value;
    enum tls_version want;
} macro_cases[] = {
    {"null is plaintext", NULL, TLS_V_NONE},
    {"empty is plaintext", "", TLS_V_NONE},
    {"SSLv3", "SSLv3", TLS_V_SSL3},
    {"TLSv1", "TLSv1", TLS_V_TLS1},
    {"TLSv1.0 alias", "TLSv1.0", TLS_V_TLS1},
    {"TLSv1.1", "TLSv1.1", TLS_V_TLS11},
    {"TLSv1.2", "TLSv1.2", TLS_V_TLS12},
    {"TLSv1.3", "TLSv1.3", TLS_V_TLS13},
    {"SSLv2 unknown", "SSLv2", TLS_V_UNKNOWN},
    {"future version unknown", "TLSv1.4", TLS_V_UNKNOWN},
    {"lower case unknown", "tlsv1.2", TLS_V_UNKNOWN},
    {"trailing space unknown", "TLSv1.2 ", TLS_V_UNKNOWN},
    {"garbage unknown", "xyzzy", TLS_V_UNKNOWN},
    {"postfix none is not a version", "none", TLS_V_UNKNOWN},
};

/* test_version_from_macro - {tls_version} values */
static void test_version_from_macro(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(macro_cases) / sizeof(macro_cases[0]); i++) {
        enum tls_version got = tlsinfo_version_from_macro(macro_cases[i].value);

        if (got != macro_cases[i].want)
            fail_msg("case \"%s\": got %s, want %s", macro_cases[i].name, tlsinfo_version_name(got),
                     tlsinfo_version_name(macro_cases[i].want));
    }
}

static const struct {
    const char *name;
    const char *value;
    int rc;
    enum tls_version want;
} config_cases[] = {
    {"TLSv1", "TLSv1", 0, TLS_V_TLS1},
    {"TLSv1.1", "TLSv1.1", 0, TLS_V_TLS11},
    {"TLSv1.2", "TLSv1.2", 0, TLS_V_TLS12},
    {"TLSv1.3", "TLSv1.3", 0, TLS_V_TLS13},
    {"TLSv1.0 not documented", "TLSv1.0", -1, TLS_V_NONE},
    {"SSLv3 not a floor", "SSLv3", -1, TLS_V_NONE},
    {"lower case", "tlsv1.2", -1, TLS_V_NONE},
    {"bare number", "1.2", -1, TLS_V_NONE},
    {"empty", "", -1, TLS_V_NONE},
    {"null", NULL, -1, TLS_V_NONE},
};

/* test_version_parse_config - min_tls_version values */
static void test_version_parse_config(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]); i++) {
        enum tls_version got = TLS_V_NONE;
        int rc = tlsinfo_version_parse_config(config_cases[i].value, &got);

        if (rc != config_cases[i].rc || got != config_cases[i].want)
            fail_msg("case \"%s\": rc %d version %s", config_cases[i].name, rc, tlsinfo_version_name(got));
    }
}

/* test_version_order_and_names - ordering and round trip through names */
static void test_version_order_and_names(void **state)
{
    enum tls_version v;

    (void) state;
    assert_true(TLS_V_NONE < TLS_V_UNKNOWN && TLS_V_UNKNOWN < TLS_V_SSL3);
    assert_true(TLS_V_TLS1 < TLS_V_TLS11 && TLS_V_TLS12 < TLS_V_TLS13);
    assert_string_equal(tlsinfo_version_name(TLS_V_NONE), "none");
    assert_string_equal(tlsinfo_version_name(TLS_V_UNKNOWN), "unknown");
    for (v = TLS_V_SSL3; v <= TLS_V_TLS13; v++)
        assert_int_equal(tlsinfo_version_from_macro(tlsinfo_version_name(v)), v);
}

/*
 * Cipher sets: what each string must and must not contain.
 */
struct set_case {
    const char *name;
    const char *str;
    bool suites; /* a ciphersuites string */
    const char *const *in;
    const char *const *out;
};

static const struct set_case set_cases[] = {
    {"HIGH without aNULL RC4 3DES", "HIGH:!aNULL:!RC4:!3DES", false,
     LIST("ECDHE-RSA-AES256-GCM-SHA384", "AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"),
     LIST("ADH-AES256-GCM-SHA384", "AECDH-AES256-SHA", "NULL-SHA256", "RC4-SHA", "DES-CBC3-SHA",
          TLS13_SUITES)},
    {"HIGH without aNULL kRSA", "HIGH:!aNULL:!kRSA", false,
     LIST("ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "DHE-RSA-AES256-GCM-SHA384"),
     LIST(WEAK_TLS12, TLS13_SUITES)},
    {"ECDHE AESGCM CHACHA20", "ECDHE+AESGCM:ECDHE+CHACHA20", false,
     LIST("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
     LIST(WEAK_TLS12, "DHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-SHA", TLS13_SUITES)},
    {"EECDH EDH AESGCM", "EECDH+AESGCM:EDH+AESGCM", false,
     LIST("ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-GCM-SHA256"), LIST(WEAK_TLS12, TLS13_SUITES)},
    {"HIGH with every exclusion", "HIGH:!aNULL:!eNULL:!kRSA:!PSK:!SRP:!MD5:!RC4:!3DES:!EXP", false,
     LIST("ECDHE-RSA-AES256-SHA", "DHE-RSA-CHACHA20-POLY1305"),
     LIST(WEAK_TLS12, "PSK-AES256-GCM-SHA384", "SRP-AES-256-CBC-SHA", TLS13_SUITES)},
    {"Mozilla intermediate",
     "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
     "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305",
     false, LIST("ECDHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
     LIST(WEAK_TLS12, "ECDHE-RSA-AES256-SHA384", TLS13_SUITES)},
    {"everything at level 0", "ALL:COMPLEMENTOFALL:@SECLEVEL=0", false,
     LIST("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", "AES256-GCM-SHA384", "NULL-SHA256", "NULL-SHA",
          "NULL-MD5", "ECDHE-RSA-NULL-SHA", "ADH-AES256-GCM-SHA384", "AECDH-AES256-SHA", "CAMELLIA128-SHA",
          "PSK-AES128-CBC-SHA", "ECDHE-RSA-AES256-GCM-SHA384"),
     LIST("RC4-SHA", "RC4-MD5", "DES-CBC3-SHA", "EXP-RC4-MD5", "EXP-DES-CBC-SHA", "ADH-RC4-MD5",
          TLS13_SUITES)},
    {"ALL keeps anonymous suites", "ALL", false, LIST("ADH-AES256-GCM-SHA384", "AECDH-AES256-SHA"),
     LIST("NULL-SHA256", "RC4-SHA")},
    {"SECLEVEL 1 drops anonymous suites", "ALL:@SECLEVEL=1", false,
     LIST("AES128-SHA", "ECDHE-RSA-AES128-SHA"), LIST("ADH-AES256-GCM-SHA384", "AECDH-AES256-SHA")},
    {"SECLEVEL 3 drops static RSA", "ALL:@SECLEVEL=3", false,
     LIST("ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"),
     LIST("AES128-SHA", "AES256-GCM-SHA384", "ADH-AES256-GCM-SHA384")},
    {"SECLEVEL 4 drops 128-bit and SHA1", "ALL:@SECLEVEL=4", false, LIST("ECDHE-RSA-AES256-GCM-SHA384"),
     LIST("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-SHA")},
    {"static RSA only", "kRSA", false,
     LIST("AES256-GCM-SHA384", "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"),
     LIST("ECDHE-RSA-AES256-GCM-SHA384", TLS13_SUITES)},
    {"names are case-sensitive", "ECDHE-RSA-AES128-GCM-SHA256", false, LIST("ECDHE-RSA-AES128-GCM-SHA256"),
     LIST("ecdhe-rsa-aes128-gcm-sha256", "", "ECDHE-RSA-AES128-GCM-SHA25", "ECDHE-RSA-AES128-GCM-SHA2566")},
    {"suites two of three", "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256", true,
     LIST("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
     LIST("TLS_AES_128_GCM_SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "AES256-GCM-SHA384")},
    {"suites CCM", "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256", true,
     LIST("TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"), LIST("TLS_AES_128_GCM_SHA256")},
    {"suites with blanks and an empty item", " TLS_AES_256_GCM_SHA384 ::TLS_AES_128_GCM_SHA256 ", true,
     LIST("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"), LIST("TLS_CHACHA20_POLY1305_SHA256")},

    /* Strings from the wild: every word is one OpenSSL knows. */
    {"wild HIGH without MD5 RC4 3DES", "HIGH:!aNULL:!MD5:!RC4:!3DES", false,
     LIST("ECDHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256"),
     LIST("ADH-AES256-GCM-SHA384", "NULL-MD5", TLS13_SUITES)},
    {"wild ECDHE combinations", "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL", false,
     LIST("ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"),
     LIST(WEAK_TLS12, "DHE-RSA-AES256-GCM-SHA384", TLS13_SUITES)},
    {"wild DEFAULT with obsolete exclusions", "DEFAULT:!EXPORT:!LOW:!kRSA", false,
     LIST("ECDHE-RSA-AES128-GCM-SHA256"), LIST("AES128-SHA", "AES256-GCM-SHA384", TLS13_SUITES)},
    {"wild ALL with export exclusions", "ALL:!EXP:!EXPORT40:@STRENGTH", false,
     LIST("AES128-SHA", "ADH-AES256-GCM-SHA384"), LIST("NULL-SHA256", "EXP-RC4-MD5")},
    {"wild SECLEVEL 2", "HIGH:@SECLEVEL=2", false, LIST("ECDHE-RSA-AES256-GCM-SHA384", "AES256-GCM-SHA384"),
     LIST("ADH-AES256-GCM-SHA384", "AECDH-AES256-SHA")},
    {"wild suite names", "AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256", false,
     LIST("AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), LIST("ECDHE-RSA-AES256-GCM-SHA384")},
    {"every separator and prefix", "HIGH;!aNULL,!kRSA -PSK:+SHA1", false, LIST("ECDHE-RSA-AES256-SHA"),
     LIST("ADH-AES256-GCM-SHA384", "AES256-GCM-SHA384", "PSK-AES256-GCM-SHA384")},
    {"obsolete aliases as exclusions", "ALL:!kDH:-aDH:!kECDH:!DES:!SSLv2:!EXPORT56", false,
     LIST("AES128-SHA"), LIST("NULL-SHA256")},
    /* IDEA and SEED suites are in libssl but not in the default provider. */
    {"unavailable suites as exclusions", "HIGH:!aNULL:!IDEA-CBC-SHA:!SEED-SHA", false,
     LIST("ECDHE-RSA-AES256-GCM-SHA384"), LIST("IDEA-CBC-SHA", "ADH-AES256-GCM-SHA384")},
    /* OpenSSL skips a TLS 1.3 name in a cipher list; it cannot widen the set. */
    {"TLS 1.3 name in a cipher list", "HIGH:!aNULL:TLS_AES_256_GCM_SHA384", false,
     LIST("ECDHE-RSA-AES256-GCM-SHA384"), LIST(TLS13_SUITES)},
    {"Suite B alone", "SUITEB128", false,
     LIST("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"),
     LIST("ECDHE-RSA-AES128-GCM-SHA256")},
};

/* test_set_members - each case's required and forbidden names */
static void test_set_members(void **state)
{
    const struct set_case *c;
    const char *const *p;
    struct cipher_set *set;
    struct tp_error err;
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
        c = &set_cases[i];
        set = c->suites ? cipher_set_from_ciphersuites(c->str, &err) : cipher_set_from_ciphers(c->str, &err);
        if (set == NULL)
            fail_msg("case \"%s\": %s", c->name, err.msg);
        if (cipher_set_size(set) == 0)
            fail_msg("case \"%s\": empty set", c->name);
        for (p = c->in; *p; p++)
            if (!cipher_set_contains(set, *p))
                fail_msg("case \"%s\": %s missing", c->name, *p);
        for (p = c->out; *p; p++)
            if (cipher_set_contains(set, *p))
                fail_msg("case \"%s\": %s present", c->name, *p);
        cipher_set_free(set);
    }
}

/* bad_cases - strings that yield no set, and the exact message */
static const struct {
    const char *name;
    const char *str;
    bool suites;
    const char *msg;
} bad_cases[] = {
    {"unknown name", "FOO", false, "cipher string \"FOO\" selects no cipher"},
    {"empty", "", false, "cipher string \"\" selects no cipher"},
    {"RC4 not built", "RC4-SHA", false, "cipher string \"RC4-SHA\" selects no cipher"},
    {"3DES not built", "DES-CBC3-SHA:3DES", false, "cipher string \"DES-CBC3-SHA:3DES\" selects no cipher"},
    {"everything removed", "HIGH:-ALL", false, "cipher string \"HIGH:-ALL\" selects no cipher"},
    {"TLS 1.3 suite in a cipher list", "TLS_AES_256_GCM_SHA384", false,
     "cipher string \"TLS_AES_256_GCM_SHA384\" selects no cipher"},
    {"unknown command", "HIGH:@FOO", false, "OpenSSL rejects cipher string \"HIGH:@FOO\""},
    {"SECLEVEL out of range", "ALL:@SECLEVEL=9", false, "OpenSSL rejects cipher string \"ALL:@SECLEVEL=9\""},
    {"SECLEVEL not a number", "ALL:@SECLEVEL=x", false, "OpenSSL rejects cipher string \"ALL:@SECLEVEL=x\""},
    {"SECLEVEL 5 leaves only TLS 1.3", "kRSA:@SECLEVEL=5", false,
     "cipher string \"kRSA:@SECLEVEL=5\" selects no cipher"},
    {"suites unknown name", "FOO", true, "ciphersuites string \"FOO\" selects no cipher"},
    {"suites empty", "", true, "ciphersuites string \"\" selects no cipher"},
    {"suites given a TLS 1.2 name", "AES256-SHA", true,
     "ciphersuites string \"AES256-SHA\" selects no cipher"},
    {"suites given a cipher string", "HIGH:!aNULL", true,
     "ciphersuites string \"HIGH:!aNULL\" selects no cipher"},
    {"suites with a comma", "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256", true,
     "ciphersuites string \"TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256\" selects no cipher"},

    /* Typos: OpenSSL skips the word, we do not. Alone, it selects nothing. */
    {"typo in an exclusion", "HIGH:!aNULL:!kRAS", false,
     "unknown cipher or alias \"kRAS\" in cipher string \"HIGH:!aNULL:!kRAS\""},
    {"typo in a combination alone", "ECDHE+AESGMC", false,
     "cipher string \"ECDHE+AESGMC\" selects no cipher"},
    {"typo in a combination", "HIGH:!aNULL:ECDHE+AESGMC", false,
     "unknown cipher or alias \"AESGMC\" in cipher string \"HIGH:!aNULL:ECDHE+AESGMC\""},
    {"typo in an excluded combination", "HIGH:!kRSA+AESGMC", false,
     "unknown cipher or alias \"AESGMC\" in cipher string \"HIGH:!kRSA+AESGMC\""},
    {"typo 3DESS", "HIGH:!RC4:!3DESS", false,
     "unknown cipher or alias \"3DESS\" in cipher string \"HIGH:!RC4:!3DESS\""},
    {"lower-case alias alone", "high", false, "cipher string \"high\" selects no cipher"},
    {"lower-case alias", "HIGH:!anull", false,
     "unknown cipher or alias \"anull\" in cipher string \"HIGH:!anull\""},
    {"unknown word added", "HIGH:!aNULL:FOO", false,
     "unknown cipher or alias \"FOO\" in cipher string \"HIGH:!aNULL:FOO\""},
    {"typo beside a suite name", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA265", false,
     "unknown cipher or alias \"ECDHE-RSA-AES128-GCM-SHA265\" in cipher string "
     "\"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA265\""},
    {"typo after other separators", "HIGH;!aNULL,!kRAS", false,
     "unknown cipher or alias \"kRAS\" in cipher string \"HIGH;!aNULL,!kRAS\""},
    {"IANA name alone", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false,
     "cipher string \"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\" selects no cipher"},
    {"IANA name in an exclusion", "HIGH:!TLS_RSA_WITH_AES_128_CBC_SHA", false,
     "IANA cipher name \"TLS_RSA_WITH_AES_128_CBC_SHA\" in cipher string "
     "\"HIGH:!TLS_RSA_WITH_AES_128_CBC_SHA\": "
     "OpenSSL does not read it there, use \"AES128-SHA\""},
    {"obsolete alias not excluded", "HIGH:EXPORT", false,
     "obsolete cipher alias \"EXPORT\" in cipher string \"HIGH:EXPORT\" selects nothing; it is accepted only "
     "as an exclusion (\"!EXPORT\")"},
    {"DEFAULT not first", "HIGH:!aNULL:DEFAULT", false,
     "\"DEFAULT\" must begin cipher string \"HIGH:!aNULL:DEFAULT\"; OpenSSL ignores it elsewhere"},
    {"DEFAULT run into a word", "DEFAULTS", false,
     "unknown cipher or alias \"S\" in cipher string \"DEFAULTS\""},
    {"Suite B with more", "SUITEB128:!kRSA", false,
     "\"SUITEB128\" must be the whole cipher string \"SUITEB128:!kRSA\"; OpenSSL ignores the rest"},
    {"Suite B not first", "HIGH:SUITEB192", false,
     "unknown cipher or alias \"SUITEB192\" in cipher string \"HIGH:SUITEB192\""},
    {"text after a directive", "HIGH:@STRENGTH+FOO", false,
     "unexpected text after \"@STRENGTH\" in cipher string \"HIGH:@STRENGTH+FOO\""},
    {"text in a directive", "HIGH:@SECLEVEL=2_x", false,
     "unexpected text after \"@SECLEVEL=2\" in cipher string \"HIGH:@SECLEVEL=2_x\""},
    {"suites typo alone", "TLS_AES_256_GCM_SHA348", true,
     "ciphersuites string \"TLS_AES_256_GCM_SHA348\" selects no cipher"},
    {"suites unknown word added", "TLS_AES_256_GCM_SHA384:FOO", true,
     "unknown TLS 1.3 ciphersuite \"FOO\" in ciphersuites string \"TLS_AES_256_GCM_SHA384:FOO\""},
    {"suites unknown TLS_ name", "TLS_AES_128_GCM_SHA256:TLS_FOO", true,
     "unknown TLS 1.3 ciphersuite \"TLS_FOO\" in ciphersuites string \"TLS_AES_128_GCM_SHA256:TLS_FOO\""},
    {"suites lower case", "TLS_AES_256_GCM_SHA384: tls_aes_128_gcm_sha256", true,
     "unknown TLS 1.3 ciphersuite \"tls_aes_128_gcm_sha256\" in ciphersuites string "
     "\"TLS_AES_256_GCM_SHA384: tls_aes_128_gcm_sha256\""},
    {"suites with a TLS 1.2 IANA name", "TLS_AES_256_GCM_SHA384:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", true,
     "unknown TLS 1.3 ciphersuite \"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\" in ciphersuites string "
     "\"TLS_AES_256_GCM_SHA384:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\""},
};

/* test_set_errors - rejected and empty strings */
static void test_set_errors(void **state)
{
    struct cipher_set *set;
    struct tp_error err;
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        memset(&err, 'x', sizeof(err));
        set = bad_cases[i].suites ? cipher_set_from_ciphersuites(bad_cases[i].str, &err)
                                  : cipher_set_from_ciphers(bad_cases[i].str, &err);
        if (set != NULL)
            fail_msg("case \"%s\": got a set of %zu", bad_cases[i].name, cipher_set_size(set));
        if (strcmp(err.msg, bad_cases[i].msg) != 0)
            fail_msg("case \"%s\": message \"%s\"", bad_cases[i].name, err.msg);
        if (err.file[0] != 0 || err.line != 0)
            fail_msg("case \"%s\": file or line set", bad_cases[i].name);
        /* No stale error may be left for the next OpenSSL caller. */
        if (ERR_peek_error() != 0)
            fail_msg("case \"%s\": OpenSSL error queue not empty", bad_cases[i].name);
    }
}

/* first_use_worker - one thread's strings; *arg is set to 1 on success */
static void *first_use_worker(void *arg)
{
    struct tp_error err;
    struct cipher_set *set = cipher_set_from_ciphers("HIGH:!aNULL:!kRSA", &err);
    int *ok = arg;

    *ok = set != NULL && cipher_set_contains(set, "ECDHE-RSA-AES128-GCM-SHA256");
    cipher_set_free(set);
    set = cipher_set_from_ciphers("HIGH:!aNULL:!kRAS", &err);
    *ok = *ok && set == NULL && strstr(err.msg, "\"kRAS\"") != NULL;
    cipher_set_free(set);
    return NULL;
}

/*
 * test_first_use_threads - the word list is built once, whoever asks first.
 * It must run before any other cipher test, while the list is still unbuilt.
 */
static void test_first_use_threads(void **state)
{
    pthread_t tid[8];
    int ok[8];
    size_t i;

    (void) state;
    for (i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, first_use_worker, &ok[i]), 0);
    for (i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(tid[i], NULL), 0);
        if (!ok[i])
            fail_msg("thread %zu: wrong result", i);
    }
}

/* collect_names - cipher_set_walk callback */
struct walked {
    const char *names[512];
    size_t n;
};

static void collect_names(const char *name, void *arg)
{
    struct walked *w = arg;

    if (w->n < sizeof(w->names) / sizeof(w->names[0]))
        w->names[w->n] = name;
    w->n++;
}

/* test_set_walk_order - OpenSSL names, in the string's preference order */
static void test_set_walk_order(void **state)
{
    struct tp_error err;
    struct walked w = {.n = 0};
    struct cipher_set *set =
        cipher_set_from_ciphers("ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384", &err);

    (void) state;
    assert_non_null(set);
    assert_int_equal(cipher_set_size(set), 3);
    cipher_set_walk(set, collect_names, &w);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.names[0], "ECDHE-RSA-CHACHA20-POLY1305");
    assert_string_equal(w.names[1], "AES128-SHA");
    assert_string_equal(w.names[2], "ECDHE-RSA-AES256-GCM-SHA384");
    assert_true(cipher_set_contains(set, "TLS_RSA_WITH_AES_128_CBC_SHA"));
    cipher_set_free(set);
}

/* test_set_walk_all_members - every walked name is a member; counts agree */
static void test_set_walk_all_members(void **state)
{
    static const struct {
        const char *str;
        bool suites;
    } strs[] = {{"ALL:COMPLEMENTOFALL:@SECLEVEL=0", false},
                {"DEFAULT", false},
                {"TLS_AES_256_GCM_SHA384:"
                 "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_"
                 "8_SHA256",
                 true}};
    struct tp_error err;
    size_t i, k;

    (void) state;
    for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        struct walked w = {.n = 0};
        struct cipher_set *set = strs[i].suites ? cipher_set_from_ciphersuites(strs[i].str, &err)
                                                : cipher_set_from_ciphers(strs[i].str, &err);

        assert_non_null(set);
        cipher_set_walk(set, collect_names, &w);
        assert_int_equal(w.n, cipher_set_size(set));
        assert_true(w.n <= sizeof(w.names) / sizeof(w.names[0]));
        for (k = 0; k < w.n; k++) {
            if (!cipher_set_contains(set, w.names[k]))
                fail_msg("\"%s\": walked %s is not a member", strs[i].str, w.names[k]);
            /* A set holds one protocol's suites, never the other's. */
            if (tlsinfo_is_tls13_suite(w.names[k]) != strs[i].suites)
                fail_msg("\"%s\": %s belongs to the other protocol", strs[i].str, w.names[k]);
        }
        cipher_set_free(set);
    }
}

/* test_set_null - a missing set contains nothing */
static void test_set_null(void **state)
{
    struct tp_error err;
    struct cipher_set *set = cipher_set_from_ciphers("HIGH", &err);

    (void) state;
    assert_false(cipher_set_contains(NULL, "AES128-SHA"));
    assert_int_equal(cipher_set_size(NULL), 0);
    cipher_set_free(NULL);
    assert_non_null(set);
    assert_false(cipher_set_contains(set, NULL));
    cipher_set_free(set);
}

static const struct {
    const char *name;
    bool want;
} tls13_cases[] = {
    {"TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", true},
    {"TLS_AES_128_CCM_SHA256", true},
    {"TLS_AES_128_CCM_8_SHA256", true},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false}, /* IANA name of a TLS 1.2 suite */
    {"TLS_RSA_WITH_AES_128_CBC_SHA", false},
    {"TLS_AES_128_GCM_SHA2566", false},
    {"TLS_AES_128_GCM", false},
    {"tls_aes_128_gcm_sha256", false},
    {"ECDHE-RSA-AES128-GCM-SHA256", false},
    {"", false},
    {NULL, false},
};

/* test_is_tls13_suite - suite names, not prefixes */
/* The OpenSSL name of a member, whichever of its names is asked for. */
static void test_set_openssl_name(void **state)
{
    struct tp_error err;
    struct cipher_set *set = cipher_set_from_ciphers("ALL:COMPLEMENTOFALL", &err);
    struct cipher_set *tls13 = cipher_set_from_ciphersuites("TLS_AES_128_GCM_SHA256", &err);

    (void) state;
    assert_non_null(set);
    assert_string_equal(cipher_set_openssl_name(set, "TLS_RSA_WITH_AES_128_CBC_SHA"), "AES128-SHA");
    assert_string_equal(cipher_set_openssl_name(set, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                        "ECDHE-RSA-AES256-GCM-SHA384");
    assert_string_equal(cipher_set_openssl_name(set, "AES128-SHA"), "AES128-SHA");
    assert_null(cipher_set_openssl_name(set, "TLS_RSA_WITH_AES_128_CBC"));
    assert_null(cipher_set_openssl_name(set, "TLS_AES_128_GCM_SHA256"));
    assert_null(cipher_set_openssl_name(NULL, "AES128-SHA"));
    assert_non_null(tls13);
    assert_string_equal(cipher_set_openssl_name(tls13, "TLS_AES_128_GCM_SHA256"), "TLS_AES_128_GCM_SHA256");
    cipher_set_free(set);
    cipher_set_free(tls13);
}

static void test_is_tls13_suite(void **state)
{
    size_t i;

    (void) state;
    for (i = 0; i < sizeof(tls13_cases) / sizeof(tls13_cases[0]); i++)
        if (tlsinfo_is_tls13_suite(tls13_cases[i].name) != tls13_cases[i].want)
            fail_msg("case \"%s\"", tls13_cases[i].name ? tls13_cases[i].name : "(null)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_threads),
        cmocka_unit_test(test_version_from_macro),
        cmocka_unit_test(test_version_parse_config),
        cmocka_unit_test(test_version_order_and_names),
        cmocka_unit_test(test_set_members),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_set_walk_order),
        cmocka_unit_test(test_set_walk_all_members),
        cmocka_unit_test(test_set_null),
        cmocka_unit_test(test_set_openssl_name),
        cmocka_unit_test(test_is_tls13_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
