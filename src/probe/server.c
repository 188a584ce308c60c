/*++
 * NAME
 *	server 3
 * SUMMARY
 *	the server SSL_CTX under test, built from the command line
 * SYNOPSIS
 *	#include "probe/server.h"
 *
 *	SSL_CTX	*server_ctx_new(opts, err)
 * DESCRIPTION
 *	Each --cert is loaded with its chain and paired with the --key of
 *	the same rank. OpenSSL keeps one certificate per key type (RSA,
 *	ECDSA, Ed25519, ...) and picks among them per handshake, as
 *	Postfix's smtpd_tls_chain_files and Sendmail's second
 *	confSERVER_CERT do: that is what lets an RSA certificate beside an
 *	ECDSA one serve clients that offer only RSA-authenticated suites.
 *	Two certificates of one type would silently replace each other,
 *	so that is refused.
 *
 *	The server has OpenSSL's built-in DH parameters (sized to the
 *	certificate's key), as Postfix, Exim and openssl s_server have:
 *	without them a sender offering only DHE suites would fail here and
 *	succeed against the real MTA.
 *
 *	An encrypted private key is refused, never asked for: the probe
 *	runs in automation, where a pass phrase prompt would block.
 * DIAGNOSTICS
 *	NULL with err set to the file or option and OpenSSL's reason.
 *--*/

/* System library. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Libraries. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Application. */
#include "probe/probe.h"
#include "probe/server.h"
#include "probe/sslerr.h"

/* fail - err from OpenSSL's reason about what; frees ctx */
static SSL_CTX *fail(SSL_CTX *ctx, struct tp_error *err, const char *what, const char *arg)
{
    char why[PROBE_TEXT_MAX];

    sslerr_take(why, sizeof(why), "rejected by OpenSSL");
    tp_error_set(err, NULL, 0, "%s %s: %s", what, arg, why);
    SSL_CTX_free(ctx);
    return NULL;
}

/* key_type_name - how a certificate's key type is called in a message */
static const char *key_type_name(int id)
{
    return id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "ECDSA" : OBJ_nid2sn(id);
}

/* no_passphrase - the pass phrase callback: none is given, and it says it was asked */
static int no_passphrase(char *buf, int size, int rwflag, void *asked)
{
    (void) buf;
    (void) size;
    (void) rwflag;
    *(int *) asked = 1;
    return -1;
}

/* load_key - key i, which must belong to certificate i (just loaded) */
static SSL_CTX *load_key(SSL_CTX *ctx, const struct server_opts *o, size_t i, struct tp_error *err)
{
    char why[PROBE_TEXT_MAX];
    EVP_PKEY *key = NULL;
    int encrypted = 0;
    FILE *fp;

    if ((fp = fopen(o->key[i], "r")) == NULL) {
        tp_error_set(err, NULL, 0, "--key %s: %s", o->key[i], strerror(errno));
        SSL_CTX_free(ctx);
        return NULL;
    }
    key = PEM_read_PrivateKey(fp, NULL, no_passphrase, &encrypted);
    fclose(fp);
    if (key == NULL && encrypted) {
        ERR_clear_error();
        tp_error_set(err, NULL, 0, "--key %s: encrypted key: not supported", o->key[i]);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (key == NULL) {
        sslerr_take(why, sizeof(why), "no PEM key");
        tp_error_set(err, NULL, 0, "--key %s: no private key could be read (%s)", o->key[i], why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Else OpenSSL files the key by its type and blames a missing certificate. */
    if (X509_check_private_key(SSL_CTX_get0_certificate(ctx), key) != 1) {
        EVP_PKEY_free(key);
        ERR_clear_error();
        tp_error_set(err, NULL, 0, "--key %s: not the key of --cert %s", o->key[i], o->cert[i]);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        EVP_PKEY_free(key);
        return fail(ctx, err, "--key", o->key[i]);
    }
    EVP_PKEY_free(key);
    return ctx;
}

/* load_pair - certificate chain i and its key; types[] holds the key types seen */
static SSL_CTX *load_pair(SSL_CTX *ctx, const struct server_opts *o, size_t i, int *types,
                          struct tp_error *err)
{
    EVP_PKEY *pub;
    size_t j;

    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert[i]) != 1)
        return fail(ctx, err, "--cert", o->cert[i]);
    if ((pub = X509_get0_pubkey(SSL_CTX_get0_certificate(ctx))) == NULL)
        return fail(ctx, err, "--cert", o->cert[i]);
    types[i] = EVP_PKEY_get_base_id(pub);
    for (j = 0; j < i; j++)
        if (types[j] == types[i]) {
            tp_error_set(err, NULL, 0,
                         "--cert %s: a second %s certificate (after %s): OpenSSL serves one per key type",
                         o->cert[i], key_type_name(types[i]), o->cert[j]);
            SSL_CTX_free(ctx);
            return NULL;
        }
    return load_key(ctx, o, i, err);
}

/* set_options - --ciphers, --ciphersuites, --groups and --min-version */
static SSL_CTX *set_options(SSL_CTX *ctx, const struct server_opts *o, struct tp_error *err)
{
    enum tls_version v;

    if (o->ciphers && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1)
        return fail(ctx, err, "--ciphers", o->ciphers);
    if (o->ciphersuites && SSL_CTX_set_ciphersuites(ctx, o->ciphersuites) != 1)
        return fail(ctx, err, "--ciphersuites", o->ciphersuites);
    if (o->groups && SSL_CTX_set1_groups_list(ctx, o->groups) != 1)
        return fail(ctx, err, "--groups", o->groups);
    if (o->min_version == NULL)
        return ctx;
    if (tlsinfo_version_parse_config(o->min_version, &v) != 0) {
        tp_error_set(err, NULL, 0, "--min-version %s: expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3",
                     o->min_version);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, probe_openssl_version(v)) != 1)
        return fail(ctx, err, "--min-version", o->min_version);
    return ctx;
}

/* server_ctx_new - the server of opts; NULL with err set */
SSL_CTX *server_ctx_new(const struct server_opts *o, struct tp_error *err)
{
    int types[SERVER_CERTS_MAX];
    SSL_CTX *ctx;
    size_t i;

    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
        return fail(ctx, err, "server", "context");
    if (SSL_CTX_set_dh_auto(ctx, 1) != 1)
        return fail(ctx, err, "server", "DH parameters");
    for (i = 0; i < o->ncert; i++)
        if ((ctx = load_pair(ctx, o, i, types, err)) == NULL)
            return NULL;
    return set_options(ctx, o, err);
}
