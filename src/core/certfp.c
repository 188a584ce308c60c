/*++
 * NAME
 *	certfp 3
 * SUMMARY
 *	certificate fingerprints: digests, parsing, comparison (pure)
 * SYNOPSIS
 *	#include "core/certfp.h"
 *
 *	int	certfp_parse_hex(text, fp)
 *	int	certfp_parse_pin(text, fp, err)
 *	bool	certfp_equal(a, b)
 *	void	certfp_format(fp, buf, len)
 *	size_t	certfp_len(digest)
 *	const char *certfp_name(digest)
 * DESCRIPTION
 *	See certfp.h. The one hex reader serves the configuration (pins)
 *	and the facts (what the MTA passed), so that a pin and a passed
 *	fingerprint can never be read by different rules.
 * DIAGNOSTICS
 *	certfp_parse_pin() says in err->msg what is wrong with a pin: no
 *	digest name, an unknown one, a byte that is not hex or a misplaced
 *	colon, or a length that is not the digest's.
 *--*/

/* System library. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Application. */
#include "core/certfp.h"
#include "util/hex.h"

static const struct {
    const char *name;
    size_t len;
} digests[] = {
    [CERTFP_NONE] = {"none", 0},      [CERTFP_MD5] = {"MD5", 16},       [CERTFP_SHA1] = {"SHA1", 20},
    [CERTFP_SHA256] = {"SHA256", 32}, [CERTFP_SHA512] = {"SHA512", 64},
};

#define NDIGESTS (sizeof(digests) / sizeof(digests[0]))

/* certfp_len - bytes of a digest */
size_t certfp_len(enum certfp_digest d)
{
    return (size_t) d < NDIGESTS ? digests[d].len : 0;
}

/* certfp_name - the name a pin uses */
const char *certfp_name(enum certfp_digest d)
{
    return (size_t) d < NDIGESTS ? digests[d].name : "none";
}

/* digest_by_len - the digest of that many bytes, CERTFP_NONE if none */
static enum certfp_digest digest_by_len(size_t n)
{
    size_t d;

    for (d = CERTFP_NONE + 1; d < NDIGESTS; d++)
        if (digests[d].len == n)
            return (enum certfp_digest) d;
    return CERTFP_NONE;
}

/*
 * read_hex - bytes from hex digits, a colon allowed between two bytes.
 * The number of bytes, or -1 with *bad at the offending offset (a byte
 * beyond CERTFP_MAX is offending too).
 */
static int read_hex(const char *text, unsigned char *out, size_t *bad)
{
    const char *p = text;
    size_t n = 0;
    int hi, lo;

    while (*p) {
        if (*p == ':' && n > 0 && p[-1] != ':' && p[1] != 0)
            p++;
        if ((hi = hex_value((unsigned char) p[0])) < 0 || (lo = hex_value((unsigned char) p[1])) < 0 ||
            n == CERTFP_MAX) {
            *bad = (size_t) (p - text) + (hi >= 0 && n < CERTFP_MAX);
            return -1;
        }
        out[n++] = (unsigned char) (hi << 4 | lo);
        p += 2;
    }
    return (int) n;
}

/* certfp_parse_hex - a passed fingerprint; the digest by its length */
int certfp_parse_hex(const char *text, struct certfp *out)
{
    size_t bad;
    int n;

    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == 0 || (n = read_hex(text, out->bytes, &bad)) < 0)
        return -1;
    if ((out->digest = digest_by_len((size_t) n)) == CERTFP_NONE) {
        memset(out->bytes, 0, sizeof(out->bytes));
        return -1;
    }
    return 0;
}

/* pin_digest - the digest named before the first colon */
static enum certfp_digest pin_digest(const char *text, const char *colon)
{
    size_t d, n = (size_t) (colon - text);

    for (d = CERTFP_NONE + 1; d < NDIGESTS; d++)
        if (strlen(digests[d].name) == n && strncasecmp(text, digests[d].name, n) == 0)
            return (enum certfp_digest) d;
    return CERTFP_NONE;
}

/* certfp_parse_pin - "DIGEST:HEX" of the digest's length */
int certfp_parse_pin(const char *text, struct certfp *out, struct tp_error *err)
{
    const char *colon = strchr(text, ':');
    enum certfp_digest d;
    size_t bad = 0;
    int n;

    memset(out, 0, sizeof(*out));
    if (colon == NULL || (colon - text == 2 && hex_value((unsigned char) text[0]) >= 0)) {
        tp_error_set(err, NULL, 0,
                     "no digest name (expected SHA256:, SHA1:, MD5: or SHA512: before the hex digits)");
        return -1;
    }
    if ((d = pin_digest(text, colon)) == CERTFP_NONE) {
        tp_error_set(err, NULL, 0, "unknown digest \"%.*s\" (expected SHA256, SHA1, MD5 or SHA512)",
                     (int) (colon - text) > 16 ? 16 : (int) (colon - text), text);
        return -1;
    }
    if ((n = read_hex(colon + 1, out->bytes, &bad)) < 0) {
        tp_error_set(err, NULL, 0,
                     "not hex digits at position %zu (expected pairs of hex digits, a colon allowed"
                     " between two pairs)",
                     (size_t) (colon + 1 - text) + bad + 1);
        return -1;
    }
    if ((size_t) n != certfp_len(d)) {
        tp_error_set(err, NULL, 0, "%d byte%s, but a %s fingerprint has %zu (%zu hex digits)", n,
                     n == 1 ? "" : "s", certfp_name(d), certfp_len(d), 2 * certfp_len(d));
        memset(out->bytes, 0, sizeof(out->bytes));
        return -1;
    }
    out->digest = d;
    return 0;
}

/* certfp_equal - same digest and bytes; no fingerprint equals nothing */
bool certfp_equal(const struct certfp *a, const struct certfp *b)
{
    return a->digest != CERTFP_NONE && a->digest == b->digest &&
           memcmp(a->bytes, b->bytes, certfp_len(a->digest)) == 0;
}

/* certfp_format - the pin form, upper case, colon-separated */
void certfp_format(const struct certfp *fp, char *buf, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, n = certfp_len(fp->digest), at;
    int w;

    if (len == 0)
        return;
    w = snprintf(buf, len, "%s", certfp_name(fp->digest));
    at = w > 0 ? (size_t) w : 0;
    for (i = 0; i < n && at + 4 <= len; i++, at += 3) {
        buf[at] = ':';
        buf[at + 1] = hex[fp->bytes[i] >> 4];
        buf[at + 2] = hex[fp->bytes[i] & 15];
        buf[at + 3] = 0;
    }
}
