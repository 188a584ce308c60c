/*++
 * NAME
 *	kv 3
 * SUMMARY
 *	reading kv records: the inverse of record_kv_value()
 * SYNOPSIS
 *	#include "report/kv.h"
 *
 *	int	kv_next(cursor, key, value, why)
 * DESCRIPTION
 *	See kv.h. Unescaping never makes a value longer, so the value is
 *	written over its own quoted text.
 * DIAGNOSTICS
 *	*why names the broken rule ("bad escape", "unterminated quote", ...).
 *--*/

/* System library. */
#include <stdbool.h>
#include <stddef.h>

/* Application. */
#include "report/kv.h"

/* A byte record_kv_value() writes unquoted. */
#define KV_PLAIN(c) ((c) >= 0x21 && (c) <= 0x7e && (c) != '"' && (c) != '\\' && (c) != '=')
/* A key as the record writer names fields. */
#define KV_KEYCHAR(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || (c) == '_')

/* hexval - value of one hex digit, or -1 */
static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* unescape - one escape after the backslash at *p; the byte, or -1 */
static int unescape(unsigned char **p)
{
    unsigned char *s = *p;
    int hi, lo;

    *p = s + 2;
    switch (s[1]) {
    case '"':
        return '"';
    case '\\':
        return '\\';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    case 'x':
        /* \x00 cannot come from a C string: only a forger writes it. */
        if ((hi = hexval(s[2])) < 0 || (lo = hexval(s[3])) < 0 || hi * 16 + lo == 0)
            return -1;
        *p = s + 4;
        return hi * 16 + lo;
    default:
        return -1;
    }
}

/* quoted - a quoted value at *p (past the opening quote), unescaped */
static int quoted(unsigned char **p, const char **why)
{
    unsigned char *in = *p, *out = *p;
    int c;

    for (;;) {
        if (*in == 0) {
            *why = "unterminated quote";
            return -1;
        }
        if (*in == '"')
            break;
        if (*in == '\\') {
            if ((c = unescape(&in)) < 0) {
                *why = "bad escape";
                return -1;
            }
            *out++ = (unsigned char) c;
            continue;
        }
        if (*in < 0x20 || *in > 0x7e) {
            *why = "unescaped byte in quoted value";
            return -1;
        }
        *out++ = *in++;
    }
    *out = 0;
    *p = in + 1;
    return 0;
}

/* kv_next - the next key=value */
int kv_next(char **cursor, char **key, char **value, const char **why)
{
    unsigned char *p = (unsigned char *) *cursor;

    if (*p == 0)
        return 0;
    *key = (char *) p;
    while (KV_KEYCHAR(*p))
        p++;
    if (p == (unsigned char *) *key || *p != '=') {
        *why = "bad key";
        return -1;
    }
    *p++ = 0;
    *value = (char *) p;
    if (*p == '-' && (p[1] == ' ' || p[1] == 0)) {
        *value = NULL;
        p++;
    } else if (*p == '"') {
        *value = (char *) ++p;
        if (quoted(&p, why) != 0)
            return -1;
    } else {
        while (KV_PLAIN(*p))
            p++;
        if (p == (unsigned char *) *value) {
            *why = "bad value";
            return -1;
        }
    }
    if (*p != ' ' && *p != 0) {
        *why = "bad value";
        return -1;
    }
    if (*p == ' ') {
        *p++ = 0;
        if (*p == 0 || *p == ' ') {
            *why = "stray space";
            return -1;
        }
    }
    *cursor = (char *) p;
    return 1;
}
