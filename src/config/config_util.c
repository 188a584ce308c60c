/*++
 * NAME
 *	config_util 3
 * SUMMARY
 *	generic libconfig helpers of the configuration loader
 * SYNOPSIS
 *	#include "config/config_internal.h"
 *
 *	void	cfg_error(ctx, s, fmt, ...)
 *	void	cfg_check_keys(ctx, group, keys, where)
 *	const config_setting_t *cfg_get(group, name, type)
 *	int	cfg_enum(ctx, group, name, names, n)
 *	bool	cfg_string(ctx, group, name, dst)
 *	bool	cfg_int(ctx, group, name, min, max, out)
 *	void	cfg_duration(ctx, group, name, out)
 *	bool	cfg_absolute(ctx, s, name, path)
 *	const char *cfg_quote(value, buf)
 *	char	*cfg_strdup(ctx, s)
 *
 *	void	cfg_scan_init(scan)
 *	void	cfg_scan_include(ctx, scan, buf, len)
 *
 *	int	config_parse_duration(text, seconds)
 *	const char *text;
 *	long	*seconds;
 * DESCRIPTION
 *	What every group of the file needs and no group owns: FILE:LINE
 *	errors, the check of a group's keys against a table of {name, type},
 *	the typed value readers, and the quoting of values echoed in
 *	messages. config.c and config_policy.c use them; neither knows how
 *	libconfig represents types.
 *
 *	cfg_scan_include() reads the configuration file's bytes as they go
 *	to the hash and reports every @include directive, before libconfig
 *	sees the file. It follows libconfig's own lexical rules: a directive
 *	is "@include" first on a line after blanks, outside a string and
 *	outside a comment (#, // or C style). It runs chunk by chunk, so the
 *	whole file is never held in memory.
 * DIAGNOSTICS
 *	FILE:LINE: message, added to ctx->errs; see tlspolicyd.conf(5).
 *--*/

/* System library. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "config/config_internal.h"

/* cfg_error - add FILE:LINE: message for the place of setting s */
void cfg_error(struct cfg_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
{
    char msg[TP_ERROR_MSG_MAX];
    const char *file = s ? config_setting_source_file(s) : NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Settings read through a stream carry no file name: they are ours. */
    tp_errlist_add(ctx->errs, file ? file : ctx->path, s ? config_setting_source_line(s) : 0, "%s", msg);
}

/* cfg_strdup - copy, noting an allocation failure in the context */
char *cfg_strdup(struct cfg_ctx *ctx, const char *s)
{
    char *copy = strdup(s);

    if (copy == NULL)
        ctx->oom = true;
    return copy;
}

/* cfg_quote - a value made safe to echo: no terminal escapes, no new lines */
const char *cfg_quote(const char *value, char *buf)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    unsigned char c;

    for (; (c = (unsigned char) *value) != 0; value++) {
        if (o + 8 >= CFG_QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            buf[o++] = (char) c;
            continue;
        }
        buf[o++] = '\\';
        buf[o++] = 'x';
        buf[o++] = hex[c >> 4];
        buf[o++] = hex[c & 15];
    }
    buf[o] = 0;
    return buf;
}

 /*
  * Types.
  */

#define T(x) (1u << CONFIG_TYPE_##x)

/* What each cfg_type accepts: libconfig types, and the type of elements. */
static const struct {
    const char *expected;
    unsigned types;
    int elem;
} ctype[] = {
    [CT_STRING] = {"a string", T(STRING), -1},
    [CT_INT] = {"an integer", T(INT) | T(INT64), -1},
    [CT_BOOL] = {"true or false", T(BOOL), -1},
    [CT_DURATION] = {"a duration", T(STRING) | T(INT) | T(INT64), -1},
    [CT_STRINGS] = {"a list of strings", T(ARRAY) | T(LIST), CONFIG_TYPE_STRING},
    [CT_GROUP] = {"a group", T(GROUP), -1},
    [CT_LIST] = {"a list of groups", T(LIST), CONFIG_TYPE_GROUP},
};

/* describe - what the administrator wrote, for a type mismatch message */
static const char *describe(const config_setting_t *s, char *buf, size_t len)
{
    char q[CFG_QUOTE_MAX];
    int t = config_setting_type(s);

    if (t == CONFIG_TYPE_STRING)
        snprintf(buf, len, "the string \"%s\"", cfg_quote(config_setting_get_string(s), q));
    else if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
        snprintf(buf, len, "the integer %lld", config_setting_get_int64(s));
    else if (t == CONFIG_TYPE_FLOAT)
        snprintf(buf, len, "the number %g", config_setting_get_float(s));
    else if (t == CONFIG_TYPE_BOOL)
        snprintf(buf, len, "%s", config_setting_get_bool(s) ? "true" : "false");
    else
        snprintf(buf, len, "%s", t == CONFIG_TYPE_GROUP ? "a group" : "a list");
    return buf;
}

/* check_type - the setting and, for lists, each element have their type;
   reported when ctx is not NULL */
static bool check_type(struct cfg_ctx *ctx, const config_setting_t *s, enum cfg_type type)
{
    const char *name = config_setting_name(s);
    const config_setting_t *e;
    char got[CFG_QUOTE_MAX + 32];
    int i, want = ctype[type].elem;
    bool ok = true;

    if ((ctype[type].types & (1u << config_setting_type(s))) == 0) {
        if (ctx)
            cfg_error(ctx, s, "%s: expected %s, got %s", name, ctype[type].expected,
                      describe(s, got, sizeof(got)));
        return false;
    }
    for (i = 0; want >= 0 && i < config_setting_length(s); i++) {
        e = config_setting_get_elem(s, (unsigned) i);
        if (config_setting_type(e) == want)
            continue;
        ok = false;
        if (ctx)
            cfg_error(ctx, e, "%s: element %d: expected %s, got %s", name, i + 1,
                      want == CONFIG_TYPE_STRING ? "a string" : "a group", describe(e, got, sizeof(got)));
    }
    return ok;
}

/* cfg_check_keys - report unknown keys and wrong types in a group */
void cfg_check_keys(struct cfg_ctx *ctx, const config_setting_t *group, const struct cfg_key *keys,
                    const char *where)
{
    const config_setting_t *s;
    const struct cfg_key *k;
    int i;

    for (i = 0; i < config_setting_length(group); i++) {
        s = config_setting_get_elem(group, (unsigned) i);
        for (k = keys; k->name && strcmp(k->name, config_setting_name(s)) != 0; k++)
            continue;
        if (k->name == NULL)
            cfg_error(ctx, s, "unknown key \"%s\" %s", config_setting_name(s), where);
        else
            check_type(ctx, s, k->type);
    }
}

/* cfg_get - member name of group when present and of the given type */
const config_setting_t *cfg_get(const config_setting_t *group, const char *name, enum cfg_type type)
{
    const config_setting_t *s;

    if (group == NULL || (s = config_setting_get_member(group, name)) == NULL)
        return NULL;
    return check_type(NULL, s, type) ? s : NULL;
}

 /*
  * Value readers. Each reads one member of a group, silently skips a
  * member that is absent or of the wrong type (cfg_check_keys() reported
  * that), and reports a value of the right type but the wrong meaning.
  */

/* cfg_enum - index of the member's value in names[], or -1, -2 */
int cfg_enum(struct cfg_ctx *ctx, const config_setting_t *group, const char *name, const char *const *names,
             size_t n)
{
    const config_setting_t *s = cfg_get(group, name, CT_STRING);
    char expected[256] = "", q[CFG_QUOTE_MAX];
    size_t i, o = 0;

    if (s == NULL)
        return -2;
    for (i = 0; i < n; i++)
        if (strcmp(config_setting_get_string(s), names[i]) == 0)
            return (int) i;
    for (i = 0; i < n && o < sizeof(expected); i++)
        o += (size_t) snprintf(expected + o, sizeof(expected) - o, "%s%s",
                               i == 0       ? ""
                               : i + 1 == n ? " or "
                                            : ", ",
                               names[i]);
    cfg_error(ctx, s, "%s: invalid value \"%s\" (expected %s)", name,
              cfg_quote(config_setting_get_string(s), q), expected);
    return -1;
}

/* cfg_string - replace *dst by the member's non-empty value */
bool cfg_string(struct cfg_ctx *ctx, const config_setting_t *group, const char *name, char **dst)
{
    const config_setting_t *s = cfg_get(group, name, CT_STRING);

    if (s == NULL)
        return false;
    if (*config_setting_get_string(s) == 0) {
        cfg_error(ctx, s, "%s: must not be empty", name);
        return false;
    }
    free(*dst);
    *dst = cfg_strdup(ctx, config_setting_get_string(s));
    return true;
}

/* cfg_int - the member's value in [min, max] */
bool cfg_int(struct cfg_ctx *ctx, const config_setting_t *group, const char *name, long min, long max,
             int *out)
{
    const config_setting_t *s = cfg_get(group, name, CT_INT);
    long long v;

    if (s == NULL)
        return false;
    v = config_setting_get_int64(s);
    if (v >= min && v <= max) {
        *out = (int) v;
        return true;
    }
    if (max >= INT_MAX)
        cfg_error(ctx, s, "%s: invalid value %lld (expected %ld or more)", name, v, min);
    else
        cfg_error(ctx, s, "%s: invalid value %lld (expected %ld to %ld)", name, v, min, max);
    return false;
}

/* config_parse_duration - "30d", "6h", "90m", "45s" or "120" seconds */
int config_parse_duration(const char *text, long *seconds)
{
    long v = 0, unit = 1;
    const char *p = text;

    if (p == NULL || !isdigit((unsigned char) *p))
        return -1;
    for (; isdigit((unsigned char) *p); p++) {
        if (v > (LONG_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (*p) {
        const char *units = "smhd", *u = strchr(units, *p++);
        static const long mult[] = {1, 60, 3600, 86400};

        if (u == NULL || *p)
            return -1;
        unit = mult[u - units];
    }
    if (v > LONG_MAX / unit)
        return -1;
    *seconds = v * unit;
    return 0;
}

/* cfg_duration - a positive duration, as a string or plain seconds */
void cfg_duration(struct cfg_ctx *ctx, const config_setting_t *group, const char *name, long *out)
{
    const config_setting_t *s = cfg_get(group, name, CT_DURATION);
    char shown[CFG_QUOTE_MAX + 2], q[CFG_QUOTE_MAX];
    long long i;
    long v = 0;
    bool ok;

    if (s == NULL)
        return;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        ok = config_parse_duration(config_setting_get_string(s), &v) == 0 && v > 0;
        snprintf(shown, sizeof(shown), "\"%s\"", cfg_quote(config_setting_get_string(s), q));
    } else {
        i = config_setting_get_int64(s);
        ok = i > 0 && i <= LONG_MAX;
        v = (long) i;
        snprintf(shown, sizeof(shown), "%lld", i);
    }
    if (!ok)
        cfg_error(ctx, s,
                  "%s: invalid duration %s (expected a positive number of seconds,"
                  " or a number followed by s, m, h or d)",
                  name, shown);
    else
        *out = v;
}

/* cfg_absolute - files read at load are read again on SIGHUP, after the
   daemon has changed to "/": a relative name would then point elsewhere */
bool cfg_absolute(struct cfg_ctx *ctx, const config_setting_t *s, const char *name, const char *path)
{
    char q[CFG_QUOTE_MAX];

    if (path[0] == '/')
        return true;
    cfg_error(ctx, s, "%s: \"%s\" is not an absolute path", name, cfg_quote(path, q));
    return false;
}

 /*
  * The @include scan. libconfig (scanner.l) honours "^[ \t]*@include" only
  * in its initial state, that is outside strings and comments; a string
  * may span lines, a C-style comment too, and # or // end at the line's
  * end. The states below are those of that scanner, plus two that hold
  * the first byte of a comment's opening and closing pair. Only the
  * directive's first word is
  * matched: whatever follows, the line is one libconfig would take as
  * an include or refuse anyway.
  */

static const char directive[] = "@include";

enum {
    SCAN_CODE,      /* libconfig's initial state */
    SCAN_SLASH,     /* code, after a '/' */
    SCAN_STRING,    /* in "..." */
    SCAN_ESCAPE,    /* in "...", after a backslash */
    SCAN_LINE,      /* in a # or // comment */
    SCAN_BLOCK,     /* in a C-style comment */
    SCAN_BLOCK_END, /* in a C-style comment, after a '*' */
};

/* cfg_scan_init - the state at the start of a file */
void cfg_scan_init(struct cfg_scan *scan)
{
    scan->line = 1;
    scan->state = SCAN_CODE;
    scan->bol = 0;
    scan->found = 0;
}

/* scan_line_start - a byte of code: part of "@include" first on a line? */
static bool scan_line_start(struct cfg_ctx *ctx, struct cfg_scan *scan, int c)
{
    if (scan->bol < 0)
        return false;
    if (scan->bol == 0 && (c == ' ' || c == '\t'))
        return true;
    if (c != directive[scan->bol]) {
        scan->bol = -1;
        return false;
    }
    if (directive[++scan->bol] == 0) {
        tp_errlist_add(ctx->errs, ctx->path, scan->line,
                       "@include is not supported: the configuration hash must cover every file"
                       " (use recipient_domains_file for long lists)");
        scan->found++;
        scan->bol = -1;
    }
    return true;
}

/* scan_code - one byte in libconfig's initial state */
static void scan_code(struct cfg_ctx *ctx, struct cfg_scan *scan, int c)
{
    if (scan_line_start(ctx, scan, c))
        return;
    if (c == '\n')
        scan->bol = 0;
    else if (c == '"')
        scan->state = SCAN_STRING;
    else if (c == '#')
        scan->state = SCAN_LINE;
    else if (c == '/')
        scan->state = SCAN_SLASH;
}

/* scan_byte - advance the scan by one byte */
static void scan_byte(struct cfg_ctx *ctx, struct cfg_scan *scan, int c)
{
    switch (scan->state) {
    case SCAN_SLASH:
        if (c == '/' || c == '*') {
            scan->state = c == '/' ? SCAN_LINE : SCAN_BLOCK;
            break;
        }
        scan->state = SCAN_CODE;
        /* FALLTHROUGH */
    case SCAN_CODE:
        scan_code(ctx, scan, c);
        break;
    case SCAN_STRING:
        scan->state = c == '\\' ? SCAN_ESCAPE : c == '"' ? SCAN_CODE : SCAN_STRING;
        break;
    case SCAN_ESCAPE:
        scan->state = SCAN_STRING;
        break;
    case SCAN_LINE:
        if (c == '\n') {
            scan->state = SCAN_CODE;
            scan->bol = 0;
        }
        break;
    case SCAN_BLOCK_END:
        if (c == '/') {
            scan->state = SCAN_CODE;
            break;
        }
        /* FALLTHROUGH */
    default: /* SCAN_BLOCK */
        scan->state = c == '*' ? SCAN_BLOCK_END : SCAN_BLOCK;
        break;
    }
    if (c == '\n')
        scan->line++;
}

/* cfg_scan_include - report every @include in the next len bytes */
void cfg_scan_include(struct cfg_ctx *ctx, struct cfg_scan *scan, const unsigned char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        scan_byte(ctx, scan, buf[i]);
}
