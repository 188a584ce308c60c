/*++
 * NAME
 *	cfgread 3
 * SUMMARY
 *	reading a libconfig file strictly: typed values, FILE:LINE errors
 * SYNOPSIS
 *	#include "config/cfgread.h"
 *
 *	void	cfg_error(rd, s, fmt, ...)
 *	void	cfg_check_keys(rd, group, keys, where)
 *	const config_setting_t *cfg_get(group, name, type)
 *	int	cfg_enum(rd, group, name, names, n)
 *	bool	cfg_string(rd, group, name, dst)
 *	bool	cfg_int(rd, group, name, min, max, out)
 *	void	cfg_duration(rd, group, name, out)
 *	bool	cfg_absolute(rd, s, name, path)
 *	const char *cfg_quote(value, buf)
 *	char	*cfg_strdup(rd, s)
 *	int	cfg_parse_duration(text, seconds)
 * DESCRIPTION
 *	What every group of a libconfig file needs and no group owns:
 *	FILE:LINE errors, the check of a group's keys against a table of
 *	{name, type}, the typed value readers, and the quoting of values
 *	echoed in messages. The configuration loader (config.c,
 *	config_policy.c) and the probe's profile reader use them; none of
 *	them knows how libconfig represents types.
 * DIAGNOSTICS
 *	FILE:LINE: message, added to rd->errs; see tlspolicyd.conf(5).
 *--*/

/* System library. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "config/cfgread.h"

/* cfg_error - add FILE:LINE: message for the place of setting s */
void cfg_error(struct cfg_reader *rd, const config_setting_t *s, const char *fmt, ...)
{
    char msg[TP_ERROR_MSG_MAX];
    const char *file = s ? config_setting_source_file(s) : NULL;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Settings read through a stream carry no file name: they are ours. */
    tp_errlist_add(rd->errs, file ? file : rd->path, s ? config_setting_source_line(s) : 0, "%s", msg);
}

/* cfg_strdup - copy, noting an allocation failure in the context */
char *cfg_strdup(struct cfg_reader *rd, const char *s)
{
    char *copy = strdup(s);

    if (copy == NULL)
        rd->oom = true;
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
   reported when rd is not NULL */
static bool check_type(struct cfg_reader *rd, const config_setting_t *s, enum cfg_type type)
{
    const char *name = config_setting_name(s);
    const config_setting_t *e;
    char got[CFG_QUOTE_MAX + 32];
    int i, want = ctype[type].elem;
    bool ok = true;

    if ((ctype[type].types & (1u << config_setting_type(s))) == 0) {
        if (rd)
            cfg_error(rd, s, "%s: expected %s, got %s", name, ctype[type].expected,
                      describe(s, got, sizeof(got)));
        return false;
    }
    for (i = 0; want >= 0 && i < config_setting_length(s); i++) {
        e = config_setting_get_elem(s, (unsigned) i);
        if (config_setting_type(e) == want)
            continue;
        ok = false;
        if (rd)
            cfg_error(rd, e, "%s: element %d: expected %s, got %s", name, i + 1,
                      want == CONFIG_TYPE_STRING ? "a string" : "a group", describe(e, got, sizeof(got)));
    }
    return ok;
}

/* cfg_check_keys - report unknown keys and wrong types in a group */
void cfg_check_keys(struct cfg_reader *rd, const config_setting_t *group, const struct cfg_key *keys,
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
            cfg_error(rd, s, "unknown key \"%s\" %s", config_setting_name(s), where);
        else
            check_type(rd, s, k->type);
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
int cfg_enum(struct cfg_reader *rd, const config_setting_t *group, const char *name, const char *const *names,
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
    cfg_error(rd, s, "%s: invalid value \"%s\" (expected %s)", name,
              cfg_quote(config_setting_get_string(s), q), expected);
    return -1;
}

/* cfg_string - replace *dst by the member's non-empty value */
bool cfg_string(struct cfg_reader *rd, const config_setting_t *group, const char *name, char **dst)
{
    const config_setting_t *s = cfg_get(group, name, CT_STRING);

    if (s == NULL)
        return false;
    if (*config_setting_get_string(s) == 0) {
        cfg_error(rd, s, "%s: must not be empty", name);
        return false;
    }
    free(*dst);
    *dst = cfg_strdup(rd, config_setting_get_string(s));
    return true;
}

/* cfg_int - the member's value in [min, max] */
bool cfg_int(struct cfg_reader *rd, const config_setting_t *group, const char *name, long min, long max,
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
        cfg_error(rd, s, "%s: invalid value %lld (expected %ld or more)", name, v, min);
    else
        cfg_error(rd, s, "%s: invalid value %lld (expected %ld to %ld)", name, v, min, max);
    return false;
}

/* cfg_parse_duration - "30d", "6h", "90m", "45s" or "120" seconds */
int cfg_parse_duration(const char *text, long *seconds)
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
void cfg_duration(struct cfg_reader *rd, const config_setting_t *group, const char *name, long *out)
{
    const config_setting_t *s = cfg_get(group, name, CT_DURATION);
    char shown[CFG_QUOTE_MAX + 2], q[CFG_QUOTE_MAX];
    long long i;
    long v = 0;
    bool ok;

    if (s == NULL)
        return;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        ok = cfg_parse_duration(config_setting_get_string(s), &v) == 0 && v > 0;
        snprintf(shown, sizeof(shown), "\"%s\"", cfg_quote(config_setting_get_string(s), q));
    } else {
        i = config_setting_get_int64(s);
        ok = i > 0 && i <= LONG_MAX;
        v = (long) i;
        snprintf(shown, sizeof(shown), "%lld", i);
    }
    if (!ok)
        cfg_error(rd, s,
                  "%s: invalid duration %s (expected a positive number of seconds,"
                  " or a number followed by s, m, h or d)",
                  name, shown);
    else
        *out = v;
}

/* cfg_absolute - files read at load are read again on SIGHUP, after the
   daemon has changed to "/": a relative name would then point elsewhere */
bool cfg_absolute(struct cfg_reader *rd, const config_setting_t *s, const char *name, const char *path)
{
    char q[CFG_QUOTE_MAX];

    if (path[0] == '/')
        return true;
    cfg_error(rd, s, "%s: \"%s\" is not an absolute path", name, cfg_quote(path, q));
    return false;
}
