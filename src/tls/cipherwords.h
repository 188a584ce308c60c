/*++
 * NAME
 *	cipherwords 3h
 * SUMMARY
 *	the words OpenSSL knows in cipher and ciphersuites strings
 * DESCRIPTION
 *	OpenSSL silently skips a word it does not know in a cipher string,
 *	so a typo in an exclusion ("!kRAS") weakens a policy without a
 *	word of warning. These checks reject such strings; tlsinfo runs
 *	them on every string OpenSSL has already accepted.
 *--*/
#ifndef CIPHERWORDS_H
#define CIPHERWORDS_H

#include "util/tp_error.h"

/* Every word of an SSL_CTX_set_cipher_list() string is a suite name or an
   alias of this OpenSSL. Returns 0, or -1 with err->msg set. */
int cipherwords_check_ciphers(const char *str, struct tp_error *err);

/* Every item of an SSL_CTX_set_ciphersuites() string is a TLS 1.3 suite
   name. Returns 0, or -1 with err->msg set. */
int cipherwords_check_ciphersuites(const char *str, struct tp_error *err);

#endif
