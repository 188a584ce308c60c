/*++
 * NAME
 *	tlsinfo 3h
 * SUMMARY
 *	TLS protocol versions and OpenSSL cipher sets
 * DESCRIPTION
 *	Protocol versions are ordered so that "at least" is a comparison.
 *	A cipher set is what OpenSSL itself makes of a cipher string, expanded
 *	once at configuration load; membership is then a lookup in the
 *	suite catalogue (suites(3)) and a bit test, so no SSL_CTX is ever
 *	built on the decision path.
 *--*/
#ifndef TLSINFO_H
#define TLSINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "tls/suites.h" /* enum tls_version */
#include "util/tp_error.h"

/* Parses a {tls_version} macro value ("TLSv1.2", "SSLv3", ...). Returns
   TLS_V_UNKNOWN for any other non-empty string, TLS_V_NONE for NULL or "". */
enum tls_version tlsinfo_version_from_macro(const char *value);

/* Parses a configuration value: exactly "TLSv1", "TLSv1.1", "TLSv1.2",
   "TLSv1.3". Returns 0 and sets *out, or -1. */
int tlsinfo_version_parse_config(const char *value, enum tls_version *out);

/* "none", "unknown", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3". */
const char *tlsinfo_version_name(enum tls_version);

struct cipher_set;

/*
 * Expands an OpenSSL cipher string (TLS <= 1.2, SSL_CTX_set_cipher_list
 * syntax) into a set. The expansion runs at security level 0 so that
 * legacy suites can be named and excluded. A member is found under any
 * name the catalogue knows it by: OpenSSL's or IANA's (RFC). Returns NULL
 * with err set when OpenSSL rejects the string or it selects no cipher.
 */
struct cipher_set *cipher_set_from_ciphers(const char *str, struct tp_error *err);

/* Same for a TLS 1.3 ciphersuites string (SSL_CTX_set_ciphersuites). */
struct cipher_set *cipher_set_from_ciphersuites(const char *str, struct tp_error *err);

/* Exact, case-sensitive membership (OpenSSL and IANA names are upper case). */
bool cipher_set_contains(const struct cipher_set *, const char *cipher_name);

size_t cipher_set_size(const struct cipher_set *);

/* The OpenSSL name of a member named by its OpenSSL or IANA name; NULL
   when it is not a member. */
const char *cipher_set_openssl_name(const struct cipher_set *, const char *cipher_name);

/* Calls fn for each OpenSSL name in the set, in OpenSSL's preference order. */
void cipher_set_walk(const struct cipher_set *, void (*fn)(const char *name, void *arg), void *arg);

void cipher_set_free(struct cipher_set *);

/* True when name is a TLS 1.3 suite name ("TLS_AES_256_GCM_SHA384", ...). */
bool tlsinfo_is_tls13_suite(const char *cipher_name);

#endif
