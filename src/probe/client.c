/*++
 * NAME
 *	client 3
 * SUMMARY
 *	a client SSL_CTX that offers what a profile offers
 * SYNOPSIS
 *	#include "probe/client.h"
 *
 *	SSL_CTX	*client_ctx_new(profile, result)
 *	void	client_outcome(ssl, result)
 * DESCRIPTION
 *	client_ctx_new() builds the ClientHello of a real sender as closely
 *	as this OpenSSL can. The client runs at security level 0: a sender
 *	offering TLS 1.0 or 3DES does so whatever our OpenSSL thinks of it,
 *	and the question is only whether our server accepts. The server
 *	side keeps exactly the settings it is given.
 *
 *	Each suite, TLS 1.3 suite and group the profile names is tried
 *	alone first. Those this OpenSSL lacks (RC4-SHA and DES-CBC3-SHA on
 *	Debian 12) are dropped and listed in result->dropped: the profile
 *	is still tested with the rest, which is what the sender would
 *	negotiate anyway since those suites are never chosen by a current
 *	server. When nothing usable remains, the profile is not testable.
 *
 *	client_outcome() reads the result of a completed handshake. The
 *	group is reported only where one was negotiated (TLS 1.3, or an
 *	ECDHE or DHE suite): a TLS 1.3 ClientHello records its key share
 *	group even when the server then picks static RSA over TLS 1.2.
 * DIAGNOSTICS
 *	client_ctx_new() returns NULL with PROBE_UNTESTABLE when this
 *	OpenSSL cannot offer the profile, PROBE_ERROR when memory runs out.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Libraries. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

/* Application. */
#include "probe/client.h"
#include "probe/sslerr.h"
#include "util/strbuf.h"

/* What a profile's list is tested with: one item alone on a scratch context. */
typedef int (*item_test)(SSL_CTX *, const char *item);

/* A profile's list being filtered: the usable items, as long as the list is. */
struct filter {
    struct strbuf kept;
    size_t positive; /* kept items that select something (not "!X", "@X") */
};

/* untestable - mark the result and free the context */
static SSL_CTX *untestable(SSL_CTX *ctx, struct probe_result *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static SSL_CTX *untestable(SSL_CTX *ctx, struct probe_result *r, const char *fmt, ...)
{
    va_list ap;

    r->verdict = PROBE_UNTESTABLE;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

/* test_cipher - the TLS <= 1.2 item selects at least one suite */
static int test_cipher(SSL_CTX *scratch, const char *item)
{
    return SSL_CTX_set_cipher_list(scratch, item) == 1;
}

/* test_suite - the TLS 1.3 item names a suite; unknown names are silently ignored by OpenSSL */
static int test_suite(SSL_CTX *scratch, const char *item)
{
    STACK_OF(SSL_CIPHER) *sk;
    int i, n = 0;

    if (SSL_CTX_set_ciphersuites(scratch, item) != 1 || (sk = SSL_CTX_get_ciphers(scratch)) == NULL)
        return 0;
    for (i = 0; i < sk_SSL_CIPHER_num(sk); i++)
        if (strcmp(SSL_CIPHER_get_version(sk_SSL_CIPHER_value(sk, i)), "TLSv1.3") == 0)
            n++;
    return n > 0;
}

/* test_group - the item names a group this OpenSSL implements */
static int test_group(SSL_CTX *scratch, const char *item)
{
    return SSL_CTX_set1_groups_list(scratch, item) == 1;
}

/* append - add an item to a growing list */
static void append(struct strbuf *list, const char *sep, const char *item, size_t len)
{
    if (list->len > 0)
        strbuf_puts(list, sep);
    strbuf_putn(list, item, len);
}

/*
 * filter_list - keep the items of an OpenSSL list that work here. The
 * separators are those OpenSSL accepts (':', ',' and blanks). Operators
 * ("!X", "-X", "+X") and "@" directives select nothing by themselves
 * and are kept as written. Both lists grow with the profile's: a suite
 * cut off would be neither offered nor reported. -1 (kept freed) when
 * memory runs out.
 */
static int filter_list(const char *list, item_test test, struct filter *f, struct probe_result *r)
{
    SSL_CTX *scratch = SSL_CTX_new(TLS_client_method());
    struct strbuf item;
    size_t n;

    strbuf_init(&f->kept);
    strbuf_init(&item);
    f->positive = 0;
    for (; *list; list += n) {
        list += strspn(list, ":, ");
        if ((n = strcspn(list, ":, ")) == 0)
            break;
        strbuf_reset(&item);
        strbuf_putn(&item, list, n);
        if (strchr("!-+@", list[0]) != NULL) {
            append(&f->kept, ":", list, n);
        } else if (scratch != NULL && test(scratch, strbuf_str(&item))) {
            append(&f->kept, ":", list, n);
            f->positive++;
        } else {
            append(&r->dropped, " ", list, n);
        }
    }
    ERR_clear_error();
    SSL_CTX_free(scratch);
    n = strbuf_failed(&item) || strbuf_failed(&f->kept) || strbuf_failed(&r->dropped);
    strbuf_free(&item);
    if (n)
        strbuf_free(&f->kept);
    return n ? -1 : 0;
}

/* set_versions - the profile's protocol range */
static int set_versions(SSL_CTX *ctx, const struct probe_profile *p)
{
    return SSL_CTX_set_min_proto_version(ctx, probe_openssl_version(p->min_version)) == 1 &&
           SSL_CTX_set_max_proto_version(ctx, probe_openssl_version(p->max_version)) == 1;
}

/* out_of_memory - the result says so; frees ctx */
static SSL_CTX *out_of_memory(SSL_CTX *ctx, struct probe_result *r)
{
    r->verdict = PROBE_ERROR;
    snprintf(r->error, sizeof(r->error), "out of memory");
    SSL_CTX_free(ctx);
    return NULL;
}

/* set_lists - suites, TLS 1.3 suites and groups, each filtered; NULL ctx when none remain */
static SSL_CTX *set_lists(SSL_CTX *ctx, const struct probe_profile *p, struct probe_result *r)
{
    struct filter f;
    int ok;

    if (p->ciphers != NULL) {
        if (filter_list(p->ciphers, test_cipher, &f, r) < 0)
            return out_of_memory(ctx, r);
        ok = f.positive > 0 && SSL_CTX_set_cipher_list(ctx, strbuf_str(&f.kept)) == 1;
        strbuf_free(&f.kept);
        if (!ok)
            return untestable(ctx, r, "%s", "this OpenSSL can offer none of its TLS 1.2 suites");
    }
    if (p->ciphersuites != NULL) {
        if (filter_list(p->ciphersuites, test_suite, &f, r) < 0)
            return out_of_memory(ctx, r);
        /* None left only disables TLS 1.3; the check of what remains decides. */
        ok = SSL_CTX_set_ciphersuites(ctx, f.positive ? strbuf_str(&f.kept) : "") == 1;
        strbuf_free(&f.kept);
        if (!ok)
            return untestable(ctx, r, "this OpenSSL refuses its TLS 1.3 suites: %.200s", p->ciphersuites);
    }
    if (p->groups != NULL) {
        if (filter_list(p->groups, test_group, &f, r) < 0)
            return out_of_memory(ctx, r);
        ok = f.positive > 0 && SSL_CTX_set1_groups_list(ctx, strbuf_str(&f.kept)) == 1;
        strbuf_free(&f.kept);
        if (!ok)
            return untestable(ctx, r, "%s", "this OpenSSL has none of its groups");
    }
    if (p->sigalgs != NULL && SSL_CTX_set1_sigalgs_list(ctx, p->sigalgs) != 1)
        return untestable(ctx, r, "this OpenSSL refuses its signature algorithms: %.200s", p->sigalgs);
    return ctx;
}

/* usable - some suite can be offered with the profile's versions at security level 0 */
static int usable(SSL_CTX *ctx)
{
    SSL *ssl = SSL_new(ctx);
    STACK_OF(SSL_CIPHER) *sk = ssl ? SSL_get1_supported_ciphers(ssl) : NULL;
    int n = sk ? sk_SSL_CIPHER_num(sk) : 0;

    sk_SSL_CIPHER_free(sk);
    SSL_free(ssl);
    return n > 0;
}

/* client_ctx_new - the profile's client; NULL with r->verdict and r->error set */
SSL_CTX *client_ctx_new(const struct probe_profile *p, struct probe_result *r)
{
    SSL_CTX *ctx;
    char why[PROBE_TEXT_MAX];

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        r->verdict = PROBE_ERROR;
        sslerr_take(why, sizeof(why), "out of memory");
        snprintf(r->error, sizeof(r->error), "client context: %.200s", why);
        return NULL;
    }
    SSL_CTX_set_security_level(ctx, 0);
    /* We look at what the server accepts, not at who it is. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (!set_versions(ctx, p))
        return untestable(ctx, r, "this OpenSSL cannot speak %s", tlsinfo_version_name(p->min_version));
    if ((ctx = set_lists(ctx, p, r)) == NULL)
        return NULL;
    if (!usable(ctx))
        return untestable(ctx, r, "%s",
                          "no suite it offers is usable with its protocol versions in this OpenSSL");
    return ctx;
}

/* has_group - the suite's key exchange used a group */
static int has_group(const SSL_CIPHER *c)
{
    int kx = SSL_CIPHER_get_kx_nid(c);

    return kx == NID_kx_any || kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_ecdhe_psk ||
           kx == NID_kx_dhe_psk;
}

/*
 * dhe_group - the finite field group of a TLS <= 1.2 DHE key exchange:
 * OpenSSL does not count it as negotiated (the server chose it alone), so
 * it is read from the server's key share, by name when OpenSSL recognises
 * the prime (RFC 3526, RFC 7919), else left empty.
 */
static void dhe_group(SSL *ssl, char *buf, size_t len)
{
    EVP_PKEY *key = NULL;

    buf[0] = 0;
    if (SSL_get_peer_tmp_key(ssl, &key) == 1 &&
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, buf, len, NULL) != 1)
        buf[0] = 0;
    EVP_PKEY_free(key);
    ERR_clear_error();
}

/* client_outcome - version, cipher and group of the completed handshake on ssl */
void client_outcome(SSL *ssl, struct probe_result *r)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    const char *group = NULL;
    int nid;

    r->verdict = PROBE_OK;
    snprintf(r->version, sizeof(r->version), "%s", SSL_get_version(ssl));
    snprintf(r->cipher, sizeof(r->cipher), "%s", c ? SSL_CIPHER_get_name(c) : "");
    if (c != NULL && SSL_CIPHER_get_kx_nid(c) == NID_kx_dhe) {
        dhe_group(ssl, r->group, sizeof(r->group));
        return;
    }
    if (c != NULL && has_group(c) && (nid = SSL_get_negotiated_group(ssl)) != 0)
        group = SSL_group_to_name(ssl, nid);
    snprintf(r->group, sizeof(r->group), "%s", group ? group : "");
}
