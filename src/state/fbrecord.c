/*++
 * NAME
 *	fbrecord 3
 * SUMMARY
 *	fallback record encoding
 * SYNOPSIS
 *	#include "state/fbrecord.h"
 *
 *	void	fb_record_encode(rec, buf)
 *	int	fb_record_decode(buf, len, rec, why)
 * DESCRIPTION
 *	See fbrecord.h for the layout. Bytes are assembled one at a time, so
 *	the result does not depend on the host's byte order or alignment.
 * DIAGNOSTICS
 *	fb_record_decode() rejects what it cannot vouch for: a record of another
 *	length or format version may come from a newer release or from damage,
 *	and guessing at its fields could invent a TLS history that never was.
 *--*/

/* System library. */
#include <string.h>

/* Application. */
#include "state/fbrecord.h"

/* put_u32 - little-endian store */
static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char) (v >> (8 * i));
}

/* put_i64 - little-endian store, two's complement */
static void put_i64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t) v;

    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char) (u >> (8 * i));
}

/* get_u32 - little-endian load */
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* get_i64 - little-endian load; the cast back is two's complement on every target we build for */
static int64_t get_i64(const unsigned char *p)
{
    uint64_t u = 0;

    for (int i = 7; i >= 0; i--)
        u = (u << 8) | p[i];
    return (int64_t) u;
}

/* fb_record_encode - fixed-width little-endian form */
void fb_record_encode(const struct fb_record *rec, unsigned char buf[FB_RECORD_SIZE])
{
    buf[0] = FB_RECORD_FORMAT;
    buf[1] = (unsigned char) rec->best_level;
    buf[2] = (unsigned char) rec->best_version;
    buf[3] = 0;
    put_u32(buf + 4, rec->deferrals);
    put_i64(buf + 8, rec->first_seen);
    put_i64(buf + 16, rec->last_tls);
    put_i64(buf + 24, rec->last_plain);
    put_i64(buf + 32, rec->defer_start);
    put_i64(buf + 40, rec->updated);
    put_i64(buf + 48, rec->last_tls_failure);
}

/* fb_record_decode - parse and validate */
int fb_record_decode(const void *buf, size_t len, struct fb_record *out, const char **why)
{
    const unsigned char *p = buf;

    memset(out, 0, sizeof(*out));
    if (len != FB_RECORD_SIZE) {
        *why = "record has the wrong length";
        return -1;
    }
    if (p[0] != FB_RECORD_FORMAT) {
        *why = "record has an unknown format version";
        return -1;
    }
    if (p[1] > FB_LEVEL_VERIFIED || p[2] > TLS_V_TLS13) {
        *why = "record has an out-of-range level or protocol version";
        return -1;
    }
    out->best_level = (enum fb_level) p[1];
    out->best_version = (enum tls_version) p[2];
    out->deferrals = get_u32(p + 4);
    out->first_seen = get_i64(p + 8);
    out->last_tls = get_i64(p + 16);
    out->last_plain = get_i64(p + 24);
    out->defer_start = get_i64(p + 32);
    out->updated = get_i64(p + 40);
    out->last_tls_failure = get_i64(p + 48);
    return 0;
}
