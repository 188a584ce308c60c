/*++
 * NAME
 *	tlsinfo 3
 * SUMMARY
 *	TLS protocol versions and OpenSSL cipher sets
 * SYNOPSIS
 *	#include "tls/tlsinfo.h"
 *
 *	enum tls_version tlsinfo_version_from_macro(value)
 *	int	tlsinfo_version_parse_config(value, out)
 *	const char *tlsinfo_version_name(version)
 *
 *	struct cipher_set *cipher_set_from_ciphers(str, err)
 *	struct cipher_set *cipher_set_from_ciphersuites(str, err)
 *	bool	cipher_set_contains(set, cipher_name)
 *	size_t	cipher_set_size(set)
 *	const char *cipher_set_openssl_name(set, cipher_name)
 *	void	cipher_set_walk(set, fn, arg)
 *	void	cipher_set_free(set)
 *	bool	tlsinfo_is_tls13_suite(cipher_name)
 * DESCRIPTION
 *	Version strings are those of OpenSSL's SSL_get_version(), which both
 *	Postfix and Sendmail pass on in {tls_version}.
 *
 *	A cipher set is the list of suite names that an OpenSSL cipher string
 *	(or TLS 1.3 ciphersuites string) selects, expanded once by OpenSSL
 *	itself. It is not a handshake: the MTA negotiated the session, and we
 *	only ask whether the suite it reports is one the policy names.
 *
 *	Data structure: the members, in OpenSSL's preference order, as
 *	pointers into the suite catalogue (suites(3)), and one bit per
 *	catalogue entry that says whether that suite is a member. A name
 *	is looked up in the catalogue, which knows every suite under its
 *	OpenSSL name ("ECDHE-RSA-AES128-GCM-SHA256") and its IANA name
 *	("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), because MTAs log either
 *	form; membership is then that suite's bit. The catalogue is built
 *	once per process and never changes, so the bits stay valid. A set
 *	is immutable after construction and may be read by many threads.
 *
 *	OpenSSL skips words it does not know; a string that selects suites
 *	is refused all the same when cipherwords(3) finds such a word in it.
 * DIAGNOSTICS
 *	cipher_set_from_ciphers() and cipher_set_from_ciphersuites() fill
 *	err->msg (file and line empty; the configuration reader adds them):
 *	OpenSSL rejects the string, it selects no cipher, or it names a word
 *	OpenSSL does not know.
 *--*/

/* System library. */
#include <stdlib.h>
#include <string.h>

/* OpenSSL. */
#include <openssl/err.h>
#include <openssl/ssl.h>

/* Application. */
#include "tls/cipherwords.h"
#include "tls/suites.h"
#include "tls/tlsinfo.h"

/* Version names, as OpenSSL's SSL_get_version() spells them. */
static const struct {
    const char *name;
    enum tls_version version;
} macro_versions[] = {
    {"SSLv3", TLS_V_SSL3},    {"TLSv1", TLS_V_TLS1},    {"TLSv1.0", TLS_V_TLS1},
    {"TLSv1.1", TLS_V_TLS11}, {"TLSv1.2", TLS_V_TLS12}, {"TLSv1.3", TLS_V_TLS13},
};

/* tlsinfo_version_from_macro - {tls_version} value to an ordered version */
enum tls_version tlsinfo_version_from_macro(const char *value)
{
    size_t i;

    if (value == NULL || *value == 0)
        return TLS_V_NONE;
    for (i = 0; i < sizeof(macro_versions) / sizeof(macro_versions[0]); i++)
        if (strcmp(value, macro_versions[i].name) == 0)
            return macro_versions[i].version;
    /* SSLv2, a future "TLSv1.4", garbage: encrypted, but no floor is met. */
    return TLS_V_UNKNOWN;
}

/* tlsinfo_version_parse_config - min_tls_version value */
int tlsinfo_version_parse_config(const char *value, enum tls_version *out)
{
    /* SSLv3 is deliberately not a valid floor: requiring "at least SSLv3"
       is requiring nothing, and "TLSv1.0" is not the documented spelling. */
    static const struct {
        const char *name;
        enum tls_version version;
    } config_versions[] = {
        {"TLSv1", TLS_V_TLS1},
        {"TLSv1.1", TLS_V_TLS11},
        {"TLSv1.2", TLS_V_TLS12},
        {"TLSv1.3", TLS_V_TLS13},
    };
    size_t i;

    if (value == NULL)
        return -1;
    for (i = 0; i < sizeof(config_versions) / sizeof(config_versions[0]); i++) {
        if (strcmp(value, config_versions[i].name) == 0) {
            *out = config_versions[i].version;
            return 0;
        }
    }
    return -1;
}

/* tlsinfo_version_name - the name records and replies use */
const char *tlsinfo_version_name(enum tls_version v)
{
    switch (v) {
    case TLS_V_NONE:
        return "none";
    case TLS_V_UNKNOWN:
        return "unknown";
    case TLS_V_SSL3:
        return "SSLv3";
    case TLS_V_TLS1:
        return "TLSv1";
    case TLS_V_TLS11:
        return "TLSv1.1";
    case TLS_V_TLS12:
        return "TLSv1.2";
    case TLS_V_TLS13:
        return "TLSv1.3";
    }
    return "unknown";
}

/* tlsinfo_is_tls13_suite - is this one of the TLS 1.3 suite names */
bool tlsinfo_is_tls13_suite(const char *cipher_name)
{
    const struct tls_suite *st = suites_find(cipher_name);

    /* By the catalogue, not by a "TLS_" prefix: the IANA names of TLS 1.2
       suites ("TLS_ECDHE_RSA_WITH_...") begin with "TLS_" too. */
    return st != NULL && st->version == TLS_V_TLS13;
}

/*
 * Cipher sets.
 */
struct cipher_set {
    size_t n;                      /* members */
    const struct tls_suite **list; /* members, OpenSSL's preference order */
    unsigned char *member;         /* one bit per catalogue entry, by index */
};

/* What a string is expanded for: the cipher list or the TLS 1.3 suites. */
enum cipher_kind {
    KIND_TLS12, /* SSL_CTX_set_cipher_list, TLS <= 1.2 */
    KIND_TLS13, /* SSL_CTX_set_ciphersuites */
};

#define SET_HAS(set, i) (((set)->member[(i) / 8] >> ((i) % 8)) & 1)

/* set_alloc - an empty set with room for max members */
static struct cipher_set *set_alloc(size_t max)
{
    struct cipher_set *set;

    if ((set = calloc(1, sizeof(*set))) == NULL)
        return NULL;
    set->list = calloc(max ? max : 1, sizeof(*set->list));
    set->member = calloc(suites_count() / 8 + 1, 1);
    if (set->list == NULL || set->member == NULL) {
        cipher_set_free(set);
        return NULL;
    }
    return set;
}

/* set_add - a suite of the catalogue joins the set (once) */
static void set_add(struct cipher_set *set, const struct tls_suite *st)
{
    if (SET_HAS(set, st->index))
        return;
    set->member[st->index / 8] |= (unsigned char) (1u << (st->index % 8));
    set->list[set->n++] = st;
}

/*
 * cipher_wanted - does a suite from the context belong in the set.
 *
 * SSL_CTX_get_ciphers() lists the TLS 1.3 suites and the TLS <= 1.2 list in
 * one stack, so each set keeps only its own protocol's half, as the
 * catalogue tells them apart.
 *
 * @SECLEVEL=n in a cipher string does not filter what SSL_CTX_get_ciphers()
 * returns: it only sets the context's security level (overriding our 0),
 * and OpenSSL applies that level per handshake. An administrator who writes
 * "HIGH:@SECLEVEL=3" means "no suite level 3 forbids" (there: no static RSA
 * key exchange, nothing under 128 bits), so we ask the context's security
 * callback the same per-suite question the handshake would ask. At level 0
 * (no @SECLEVEL in the string) it allows every suite. The parts of the
 * security level that concern keys and certificates cannot be checked from
 * the MTA's macros and are not part of the set.
 */
static bool cipher_wanted(const SSL_CTX *ctx, const SSL_CIPHER *c, const struct tls_suite *st,
                          enum cipher_kind kind)
{
    bool tls13 = st->version == TLS_V_TLS13;
    int (*sec_cb)(const SSL *, const SSL_CTX *, int, int, int, void *, void *);

    if (tls13 != (kind == KIND_TLS13))
        return false;
    if ((sec_cb = SSL_CTX_get_security_callback(ctx)) == NULL)
        return true;
    return sec_cb(NULL, ctx, SSL_SECOP_CIPHER_SUPPORTED, SSL_CIPHER_get_bits(c, NULL), 0, (void *) c,
                  SSL_CTX_get0_security_ex_data(ctx)) != 0;
}

/* collect - the wanted suites of a configured context, in preference order */
static struct cipher_set *collect(const SSL_CTX *ctx, enum cipher_kind kind, bool *nomem)
{
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
    int i, count = sk ? sk_SSL_CIPHER_num(sk) : 0;
    const struct tls_suite *st;
    const SSL_CIPHER *c;
    struct cipher_set *set;

    *nomem = false;
    if ((set = set_alloc(count > 0 ? (size_t) count : 0)) == NULL) {
        *nomem = true;
        return NULL;
    }
    for (i = 0; i < count; i++) {
        c = sk_SSL_CIPHER_value(sk, i);
        /* The catalogue holds every suite of libssl's tables, which is
           where the context's suites come from; were one missing, the
           set would only be narrower, never a weaker policy. */
        if ((st = suites_by_id(SSL_CIPHER_get_protocol_id(c))) != NULL && cipher_wanted(ctx, c, st, kind))
            set_add(set, st);
    }
    return set;
}

/* words_known - does the string name only words OpenSSL knows (cipherwords(3)) */
static bool words_known(const char *str, enum cipher_kind kind, struct tp_error *err)
{
    if (kind == KIND_TLS13)
        return cipherwords_check_ciphersuites(str, err) == 0;
    return cipherwords_check_ciphers(str, err) == 0;
}

/* expand - let OpenSSL expand a cipher or ciphersuites string */
static struct cipher_set *expand(const char *str, enum cipher_kind kind, struct tp_error *err)
{
    const char *what = kind == KIND_TLS13 ? "ciphersuites" : "cipher";
    struct cipher_set *set = NULL;
    unsigned long e;
    SSL_CTX *ctx;
    bool nomem = false;
    int ok;

    if (suites_ready(err) < 0)
        return NULL;
    ERR_clear_error();
    /* SSL_CTX_new() applies the system_default section of openssl.cnf
       (CipherString, Ciphersuites, SECLEVEL); the setters below replace the
       half we keep, and level 0 lets legacy suites be named so that a
       string can select or exclude them. */
    if ((ctx = SSL_CTX_new(TLS_method())) == NULL) {
        tp_error_set(err, NULL, 0, "cannot create an OpenSSL context to expand %s string \"%s\"", what, str);
        ERR_clear_error();
        return NULL;
    }
    SSL_CTX_set_security_level(ctx, 0);
    ok = kind == KIND_TLS13 ? SSL_CTX_set_ciphersuites(ctx, str) : SSL_CTX_set_cipher_list(ctx, str);
    e = ERR_peek_last_error();
    if (ok)
        set = collect(ctx, kind, &nomem);
    SSL_CTX_free(ctx);
    ERR_clear_error();

    /* OpenSSL ignores names it does not know (RC4-SHA where RC4 is not
       built, typos); a string of nothing else fails with "no cipher match",
       which is an empty selection, not a syntax error. A string that does
       select suites must still name none that OpenSSL skipped: a typo in
       an exclusion ("!kRAS") would silently widen the set. */
    if (!ok && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_NO_CIPHER_MATCH)
        tp_error_set(err, NULL, 0, "%s string \"%s\" selects no cipher", what, str);
    else if (!ok)
        tp_error_set(err, NULL, 0, "OpenSSL rejects %s string \"%s\"", what, str);
    else if (nomem)
        tp_error_set(err, NULL, 0, "out of memory expanding %s string \"%s\"", what, str);
    else if (set->n == 0)
        tp_error_set(err, NULL, 0, "%s string \"%s\" selects no cipher", what, str);
    else if (words_known(str, kind, err))
        return set;
    cipher_set_free(set);
    return NULL;
}

/* cipher_set_from_ciphers - expand a TLS <= 1.2 cipher string */
struct cipher_set *cipher_set_from_ciphers(const char *str, struct tp_error *err)
{
    return expand(str ? str : "", KIND_TLS12, err);
}

/* cipher_set_from_ciphersuites - expand a TLS 1.3 ciphersuites string */
struct cipher_set *cipher_set_from_ciphersuites(const char *str, struct tp_error *err)
{
    return expand(str ? str : "", KIND_TLS13, err);
}

/* cipher_set_contains - membership by OpenSSL or IANA name */
bool cipher_set_contains(const struct cipher_set *set, const char *cipher_name)
{
    const struct tls_suite *st;

    if (set == NULL || (st = suites_find(cipher_name)) == NULL)
        return false;
    return SET_HAS(set, st->index);
}

/* cipher_set_size - number of suites (not names) */
size_t cipher_set_size(const struct cipher_set *set)
{
    return set ? set->n : 0;
}

/* cipher_set_openssl_name - a member's OpenSSL name, from either of its names */
const char *cipher_set_openssl_name(const struct cipher_set *set, const char *cipher_name)
{
    if (!cipher_set_contains(set, cipher_name))
        return NULL;
    return suites_find(cipher_name)->name;
}

/* cipher_set_walk - each OpenSSL name, most preferred first */
void cipher_set_walk(const struct cipher_set *set, void (*fn)(const char *name, void *arg), void *arg)
{
    size_t i;

    if (set == NULL)
        return;
    for (i = 0; i < set->n; i++)
        fn(set->list[i]->name, arg);
}

/* cipher_set_free - release a set */
void cipher_set_free(struct cipher_set *set)
{
    if (set == NULL)
        return;
    free(set->list);
    free(set->member);
    free(set);
}
