/*++
 * NAME
 *	kv 3
 * SUMMARY
 *	reading kv records: the inverse of record_kv_value()
 * SYNOPSIS
 *	#include "record/kv.h"
 *
 *	int	kv_field(cursor, field, why)
 *	int	kv_next(cursor, key, value, why)
 * DESCRIPTION
 *	See kv.h. Unescaping never makes a value longer, so the value is
 *	written over its own quoted text.
 * DIAGNOSTICS
 *	*why names the broken rule ("bad escape", "unterminated quote", ...).
 *--*/

/* System library. */
#include <stddef.h>

/* Application. */
#include "record/kv.h"
#include "util/hex.h"

/*
 * Byte classes, one table lookup a byte: the loops below run over every
 * byte of every record, and the compound range tests they replace were
 * the report's hottest code.
 */
#define KV_KEY    1 /* a key as the record writer names fields */
#define KV_PLAIN  2 /* a byte record_kv_value() writes unquoted */
#define KV_QUOTED 4 /* a byte it writes as itself inside quotes */

static unsigned char kv_class[256];

/* kv_classes - fill the table once */
static void kv_classes(void)
{
    int c;

    for (c = 0x20; c <= 0x7e; c++) {
        if (c != '"' && c != '\\')
            kv_class[c] |= KV_QUOTED;
        if (c != ' ' && c != '"' && c != '\\' && c != '=')
            kv_class[c] |= KV_PLAIN;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            kv_class[c] |= KV_KEY;
    }
}

#define IS(class, c) (kv_class[(unsigned char) (c)] & (class))

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
        if ((hi = hex_value((unsigned char) s[2])) < 0 || (lo = hex_value((unsigned char) s[3])) < 0 ||
            hi * 16 + lo == 0)
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
        if (!IS(KV_QUOTED, *in)) {
            *why = "unescaped byte in quoted value";
            return -1;
        }
        *out++ = *in++;
    }
    *out = 0;
    *p = in + 1;
    return 0;
}

/* kv_field - the next key=value, with the key's length */
int kv_field(char **cursor, struct kv_field *f, const char **why)
{
    unsigned char *p = (unsigned char *) *cursor;

    if (*p == 0)
        return 0;
    if (kv_class['a'] == 0)
        kv_classes();
    f->key = (char *) p;
    while (IS(KV_KEY, p[0]) && IS(KV_KEY, p[1]) && IS(KV_KEY, p[2]) && IS(KV_KEY, p[3]))
        p += 4;
    while (IS(KV_KEY, *p))
        p++;
    f->keylen = (size_t) (p - (unsigned char *) f->key);
    if (f->keylen == 0 || *p != '=') {
        *why = "bad key";
        return -1;
    }
    *p++ = 0;
    f->value = (char *) p;
    if (*p == '-' && (p[1] == ' ' || p[1] == 0)) {
        f->value = NULL;
        p++;
    } else if (*p == '"') {
        f->value = (char *) ++p;
        if (quoted(&p, why) != 0)
            return -1;
    } else {
        /* Four at a time: a value seldom ends in the first few bytes. */
        while (IS(KV_PLAIN, p[0]) && IS(KV_PLAIN, p[1]) && IS(KV_PLAIN, p[2]) && IS(KV_PLAIN, p[3]))
            p += 4;
        while (IS(KV_PLAIN, *p))
            p++;
        if (p == (unsigned char *) f->value) {
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

/* kv_next - the next key=value */
int kv_next(char **cursor, char **key, char **value, const char **why)
{
    struct kv_field f;
    int rc;

    if ((rc = kv_field(cursor, &f, why)) > 0) {
        *key = f.key;
        *value = f.value;
    }
    return rc;
}
