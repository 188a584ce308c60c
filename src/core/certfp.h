/*++
 * NAME
 *	certfp 3h
 * SUMMARY
 *	certificate fingerprints: digests, parsing, comparison (pure)
 * DESCRIPTION
 *	A fingerprint is a message digest of a client certificate or of its
 *	public key, as an MTA passes it: Postfix's policy service sends
 *	ccert_fingerprint and ccert_pubkey_fingerprint computed with
 *	smtpd_tls_fingerprint_digest, Sendmail {cert_md5} (or {cert_fp}
 *	with CertFingerprintAlgorithm). Neither names the digest, so a
 *	passed fingerprint's digest is recognised by its length; the four
 *	digests Postfix documents have four different lengths.
 *
 *	A pin (configuration key cert_fingerprint) names its digest:
 *	"SHA256:AB:CD:...". Both are stored normalised: the digest and the
 *	raw bytes. Two fingerprints match when digest and bytes are equal,
 *	so a pin never matches a fingerprint of another digest.
 *
 *	Text forms: hexadecimal digits in either case, with or without a
 *	colon between bytes (Postfix >= 3.6 accepts both); a colon is
 *	allowed only after a whole byte and before another one.
 *--*/
#ifndef CERTFP_H
#define CERTFP_H

#include <stdbool.h>
#include <stddef.h>

#include "util/tp_error.h"

#define CERTFP_MAX 64 /* bytes of the longest digest, SHA-512 */

/* CERTFP_NONE: no fingerprint (absent, empty, unparsable). */
enum certfp_digest {
    CERTFP_NONE = 0,
    CERTFP_MD5,    /* 16 bytes */
    CERTFP_SHA1,   /* 20 bytes */
    CERTFP_SHA256, /* 32 bytes */
    CERTFP_SHA512, /* 64 bytes */
};

struct certfp {
    enum certfp_digest digest;
    unsigned char bytes[CERTFP_MAX]; /* certfp_len(digest) of them */
};

/* certfp_len - bytes of a digest (0 for CERTFP_NONE) */
size_t certfp_len(enum certfp_digest);

/* certfp_name - "SHA256", ...; "none" for CERTFP_NONE */
const char *certfp_name(enum certfp_digest);

/*
 * certfp_parse_hex - a fingerprint as an MTA passes it ("AB:CD:..." or
 * "ABCD..."), its digest recognised by its length. 0, or -1 with
 * out->digest CERTFP_NONE for NULL, "" and anything else.
 */
int certfp_parse_hex(const char *text, struct certfp *out);

/*
 * certfp_parse_pin - a configured pin "DIGEST:HEX", DIGEST one of SHA256,
 * SHA1, MD5, SHA512 in any case, HEX as certfp_parse_hex() reads it and
 * of the digest's length. 0, or -1 with err->msg saying why.
 */
int certfp_parse_pin(const char *text, struct certfp *out, struct tp_error *err);

/* certfp_equal - same digest, same bytes; CERTFP_NONE equals nothing */
bool certfp_equal(const struct certfp *, const struct certfp *);

/* CERTFP_TEXT_MAX: "SHA512:" and 64 colon-separated bytes, with the NUL */
#define CERTFP_TEXT_MAX (7 + CERTFP_MAX * 3)

/* certfp_format - "SHA256:AB:CD:..." into buf (CERTFP_TEXT_MAX bytes) */
void certfp_format(const struct certfp *, char *buf, size_t len);

#endif
