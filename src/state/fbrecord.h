/*++
 * NAME
 *	fbrecord 3h
 * SUMMARY
 *	what the fallback rules remember about one sender, and its encoding
 * DESCRIPTION
 *	One struct fb_record per fallback key ("client_domain:partner.example").
 *	The state store keeps it as FB_RECORD_SIZE bytes in a versioned,
 *	fixed-width little-endian encoding, never as a raw struct: padding,
 *	byte order and enum sizes are not stable across compilers, hosts and
 *	releases, and a store outlives the binary that wrote it.
 *
 *	Encoding, format 1 (offset: width field):
 *	  0: u8  format version, FB_RECORD_FORMAT
 *	  1: u8  best_level (enum fb_level)
 *	  2: u8  best_version (enum tls_version)
 *	  3: u8  zero, reserved
 *	  4: u32 deferrals
 *	  8: i64 first_seen     16: i64 last_tls     24: i64 last_plain
 *	 32: i64 defer_start    40: i64 updated
 *	Times are seconds since the epoch as the caller's clock gave them;
 *	0 means "never". Nothing here reads the clock.
 *--*/
#ifndef FBRECORD_H
#define FBRECORD_H

#include <stddef.h>
#include <stdint.h>

#include "tls/tlsinfo.h"

/* Best transport level a sender has shown; ordered, so "better" is ">". */
enum fb_level {
    FB_LEVEL_NONE = 0,     /* plaintext only, so far */
    FB_LEVEL_TLS = 1,      /* TLS, client certificate absent or unverified */
    FB_LEVEL_VERIFIED = 2, /* TLS with a verified client certificate */
};

struct fb_record {
    enum fb_level best_level;
    enum tls_version best_version; /* highest protocol version seen */
    int64_t first_seen;
    int64_t last_tls;    /* last TLS session, 0: never */
    int64_t last_plain;  /* last plaintext session, 0: never */
    uint32_t deferrals;  /* downgrade deferrals since defer_start */
    int64_t defer_start; /* start of the deferral window, 0: none */
    int64_t updated;     /* last write; expiry compares this */
    int64_t last_tls_failure; /* last plaintext session right after a
                                 failed-STARTTLS pattern (suspected_tls_failure) */
};

#define FB_RECORD_FORMAT 1
#define FB_RECORD_SIZE   56

/* fb_record_encode - fill buf[FB_RECORD_SIZE] */
void fb_record_encode(const struct fb_record *, unsigned char buf[FB_RECORD_SIZE]);

/*
 * fb_record_decode - parse len bytes. Returns 0, or -1 with a reason in
 * why (a static string) for a wrong length, an unknown format version or
 * an out-of-range field; *out is then zeroed.
 */
int fb_record_decode(const void *buf, size_t len, struct fb_record *out, const char **why);

#endif
