/*++
 * NAME
 *	prefix 3
 * SUMMARY
 *	syslog line prefixes and their time stamps
 * SYNOPSIS
 *	#include "logread/prefix.h"
 *
 *	void	prefix_parse(ctx, line, out)
 *	int	prefix_time_parse(s, end, when, day)
 * DESCRIPTION
 *	See prefix.h. Each shape is tried by its first bytes: "<" is a
 *	priority, a digit starts an RFC 3339 stamp, three letters a
 *	traditional one. A line that matches no shape is its own message,
 *	so a bare record is found and junk stays junk: the caller decides
 *	by the message alone.
 *--*/

/* System library. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Application. */
#include "logread/prefix.h"

#define SECS_PER_MONTH (31L * 86400)

/* digits - n decimal digits at s, or -1 */
static int digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char) s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* valid_tm - fields in range; the day is checked by the round trip */
static bool valid_tm(const struct tm *tm)
{
    return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 && tm->tm_mday <= 31 && tm->tm_hour >= 0 &&
           tm->tm_hour < 24 && tm->tm_min >= 0 && tm->tm_min < 60 && tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

/* parse_offset - "Z", "+HH:MM" or "+HHMM" at s; seconds east, or -1 */
static int parse_offset(const char *s, const char **end, long *off)
{
    int h, m;

    if (*s == 'Z' || *s == 'z') {
        *off = 0;
        *end = s + 1;
        return 0;
    }
    if ((*s != '+' && *s != '-') || (h = digits(s + 1, 2)) < 0)
        return -1;
    if (s[3] == ':' && (m = digits(s + 4, 2)) >= 0)
        *end = s + 6;
    else if ((m = digits(s + 3, 2)) >= 0)
        *end = s + 5;
    else
        return -1;
    if (h > 23 || m > 59)
        return -1;
    *off = (h * 3600L + m * 60L) * (*s == '-' ? -1 : 1);
    return 0;
}

/* to_time - an instant from wall-clock fields, with or without offset */
static int to_time(struct tm *tm, bool has_off, long off, time_t *when)
{
    struct tm copy = *tm;

    if (!valid_tm(tm))
        return -1;
    copy.tm_isdst = -1;
    *when = has_off ? timegm(&copy) - off : mktime(&copy);
    /* mktime and timegm normalise Feb 30 to Mar 2: refuse what moved. */
    if (copy.tm_mday != tm->tm_mday || copy.tm_mon != tm->tm_mon)
        return -1;
    return 0;
}

/* stamp_parse - the fields of an RFC 3339 date or date-time, unchecked */
static int stamp_parse(const char *s, const char **end, struct tm *tm, bool *has_off, long *off)
{
    const char *p = s + 10;

    memset(tm, 0, sizeof(*tm));
    *has_off = false;
    *off = 0;
    if ((tm->tm_year = digits(s, 4)) < 0 || s[4] != '-' || (tm->tm_mon = digits(s + 5, 2)) < 0 ||
        s[7] != '-' || (tm->tm_mday = digits(s + 8, 2)) < 0)
        return -1;
    tm->tm_year -= 1900;
    tm->tm_mon -= 1;
    if ((s[10] == 'T' || s[10] == 't' || s[10] == ' ') && (tm->tm_hour = digits(s + 11, 2)) >= 0 &&
        s[13] == ':' && (tm->tm_min = digits(s + 14, 2)) >= 0 && s[16] == ':' &&
        (tm->tm_sec = digits(s + 17, 2)) >= 0) {
        p = s + 19;
        if (*p == '.' && isdigit((unsigned char) p[1]))
            for (p++; isdigit((unsigned char) *p); p++)
                /* void */;
        if (parse_offset(p, &p, off) == 0)
            *has_off = true;
    } else {
        tm->tm_hour = tm->tm_min = tm->tm_sec = 0;
    }
    *end = p;
    return 0;
}

/* prefix_time_parse - RFC 3339 date or date-time */
int prefix_time_parse(const char *s, const char **end, time_t *when, char day[24])
{
    struct tm tm;
    long off;
    bool has_off;

    if (stamp_parse(s, end, &tm, &has_off, &off) != 0 || to_time(&tm, has_off, off, when) != 0)
        return -1;
    memcpy(day, s, 10);
    day[10] = 0;
    return 0;
}

/* iso_time - an RFC 3339 stamp at the start of a line; Exim's
   log_timezone puts the offset one space after it ("... +0100 ") */
static int iso_time(const char *s, const char **end, struct prefix *out)
{
    struct tm tm;
    long off;
    bool has_off;
    const char *p;

    if (stamp_parse(s, end, &tm, &has_off, &off) != 0)
        return -1;
    if (!has_off && **end == ' ' && ((*end)[1] == '+' || (*end)[1] == '-') &&
        parse_offset(*end + 1, &p, &off) == 0 && p == *end + 6 && *p == ' ') {
        has_off = true;
        *end = p;
    }
    if (to_time(&tm, has_off, off, &out->when) != 0)
        return -1;
    memcpy(out->day, s, 10);
    out->day[10] = 0;
    return 0;
}

/* month - 0..11 for "Jan".."Dec", or -1 */
static int month(const char *s)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int i;

    for (i = 0; i < 12; i++)
        if (strncmp(s, names + 3 * i, 3) == 0)
            return i;
    return -1;
}

/* traditional_year - the year a "Mmm dd" line was most likely written */
static int traditional_year(const struct prefix_ctx *ctx, struct tm *tm)
{
    struct tm now;
    time_t t;

    if (ctx->year > 0)
        return ctx->year - 1900;
    localtime_r(&ctx->now, &now);
    tm->tm_year = now.tm_year;
    tm->tm_isdst = -1;
    if ((t = mktime(tm)) != (time_t) -1 && t > ctx->now + SECS_PER_MONTH)
        return now.tm_year - 1;
    return now.tm_year;
}

/*
 * The last hour a traditional stamp named: its "Mmm dd hh" text, the
 * instant of hh:00:00 and the day. Logs come in time order, so nearly
 * every line falls in the hour of the line before, and mktime() (which
 * consults the time zone each call) was a sixth of a report. Offsets
 * change on the hour, so minutes and seconds are simply added. The
 * report reads in one thread; the context does not change while it runs.
 */
static struct {
    char key[10];
    int year;
    time_t base;
    char day[24];
} hour_memo;

/* traditional_hour - the memo for "Mmm dd hh" at s, computed if new */
static int traditional_hour(const struct prefix_ctx *ctx, const char *s)
{
    struct tm tm, probe;
    time_t base;

    if (memcmp(hour_memo.key, s, 9) == 0 && hour_memo.year == ctx->year)
        return 0;
    memset(&tm, 0, sizeof(tm));
    if ((tm.tm_mon = month(s)) < 0 || s[3] != ' ')
        return -1;
    tm.tm_mday = s[4] == ' ' ? digits(s + 5, 1) : digits(s + 4, 2);
    if (tm.tm_mday < 0 || s[6] != ' ' || (tm.tm_hour = digits(s + 7, 2)) < 0)
        return -1;
    probe = tm;
    tm.tm_year = traditional_year(ctx, &probe);
    if (to_time(&tm, false, 0, &base) != 0)
        return -1;
    hour_memo.base = base;
    snprintf(hour_memo.day, sizeof(hour_memo.day), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
    memcpy(hour_memo.key, s, 9);
    hour_memo.year = ctx->year;
    return 0;
}

/* traditional_time - "Mmm dd hh:mm:ss" (dd space-padded or not) */
static int traditional_time(const struct prefix_ctx *ctx, const char *s, const char **end, struct prefix *out)
{
    int min, sec;

    /* The fields are read at fixed offsets: a shorter line (an empty one,
       "Nov") must be refused before s[9] is read past its end. */
    if (strnlen(s, 15) < 15 || s[9] != ':' || (min = digits(s + 10, 2)) < 0 || min > 59 || s[12] != ':' ||
        (sec = digits(s + 13, 2)) < 0 || sec > 60 || traditional_hour(ctx, s) != 0)
        return -1;
    out->when = hour_memo.base + min * 60 + sec;
    memcpy(out->day, hour_memo.day, sizeof(out->day));
    *end = s + 15;
    return 0;
}

/* skip_token - past one space-free token and the space after it, or NULL */
static const char *skip_token(const char *p)
{
    const char *sp = strchr(p, ' ');

    return sp != NULL && sp > p ? sp + 1 : NULL;
}

/* set_tag - program name and pid of a "prog[pid]" or "prog" tag */
static void set_tag(struct prefix *out, const char *tag, size_t len)
{
    const char *br = memchr(tag, '[', len);

    if (br != NULL && tag[len - 1] == ']') { /* len > 0: br is in it */
        out->pid = br + 1;
        out->pid_len = (size_t) (tag + len - 1 - out->pid);
        len = (size_t) (br - tag);
    }
    out->tag = tag;
    out->tag_len = len;
}

/* after_tag - the message after "HOST TAG: "; rest after HOST without a tag */
static const char *after_tag(const char *p, struct prefix *out)
{
    const char *host_end = skip_token(p), *colon;

    if (host_end == NULL)
        return NULL;
    out->host = p;
    out->host_len = (size_t) (host_end - 1 - p);
    /* The tag is "prog[pid]:" or "prog:", "postfix/x[pid]:" for Postfix. */
    colon = strstr(host_end, ": ");
    if (colon != NULL && memchr(host_end, ' ', (size_t) (colon - host_end)) == NULL) {
        set_tag(out, host_end, (size_t) (colon - host_end));
        return colon + 2;
    }
    return host_end;
}

/* skip_sd - past RFC 5424 STRUCTURED-DATA ("-" or "[...]..."), or NULL */
static const char *skip_sd(const char *p)
{
    bool quoted = false;

    if (*p == '-')
        return p + 1;
    while (*p == '[') {
        for (p++; *p && (quoted || *p != ']'); p++) {
            if (*p == '\\' && p[1] != 0)
                p++;
            else if (*p == '"')
                quoted = !quoted;
        }
        if (*p != ']')
            return NULL;
        p++;
    }
    return p;
}

/* nil_or - an RFC 5424 header field from tok to the space before next;
   the NILVALUE "-" stays empty */
static void nil_or(const char **field, size_t *len, const char *tok, const char *next)
{
    size_t n = (size_t) (next - 1 - tok);

    if (n == 1 && *tok == '-')
        return;
    *field = tok;
    *len = n;
}

/* rfc5424 - "1 TIME HOST APP PROCID MSGID SD MSG" after the priority */
static bool rfc5424(const char *p, struct prefix *out)
{
    const char *end, *tok[4];
    int i;

    if (p[0] != '1' || p[1] != ' ')
        return false;
    p += 2;
    if (*p == '-' && p[1] == ' ') {
        p += 2; /* NILVALUE: no time stamp */
    } else if (prefix_time_parse(p, &end, &out->when, out->day) == 0 && *end == ' ') {
        out->has_time = true;
        p = end + 1;
    } else {
        return false;
    }
    for (i = 0; i < 4 && p != NULL; i++) { /* HOST APP PROCID MSGID */
        tok[i] = p;
        p = skip_token(p);
    }
    if (p == NULL || (p = skip_sd(p)) == NULL)
        return false;
    nil_or(&out->host, &out->host_len, tok[0], tok[1]);
    nil_or(&out->tag, &out->tag_len, tok[1], tok[2]);
    nil_or(&out->pid, &out->pid_len, tok[2], tok[3]);
    if (*p == ' ')
        p++;
    if (strncmp(p, "\xef\xbb\xbf", 3) == 0) /* the BOM RFC 5424 allows */
        p += 3;
    out->msg = p;
    return true;
}

/* stamped - "TIME HOST TAG: MSG" with an RFC 3339 or traditional time */
static bool stamped(const struct prefix_ctx *ctx, const char *p, struct prefix *out)
{
    const char *end, *msg;

    if (isdigit((unsigned char) *p)) {
        if (iso_time(p, &end, out) != 0)
            return false;
    } else if (traditional_time(ctx, p, &end, out) != 0) {
        return false;
    }
    if (*end != ' ' || (msg = after_tag(end + 1, out)) == NULL) {
        out->day[0] = 0;
        return false;
    }
    out->has_time = true;
    out->msg = msg;
    return true;
}

/* no_source - forget a host, tag and pid read from a shape that failed */
static void no_source(struct prefix *out)
{
    out->host = out->tag = out->pid = "";
    out->host_len = out->tag_len = out->pid_len = 0;
}

/* prefix_parse - split a line into its time and its message */
void prefix_parse(const struct prefix_ctx *ctx, const char *line, struct prefix *out)
{
    const char *p = line;
    int pri;

    out->msg = line;
    out->has_time = false;
    out->when = 0;
    out->day[0] = 0;
    no_source(out);
    if (*p == '<') {
        for (p++, pri = 0; isdigit((unsigned char) *p) && pri < 1000; p++)
            pri = pri * 10 + (*p - '0');
        if (*p != '>' || pri > 191)
            return;
        p++;
        if (rfc5424(p, out))
            return;
        out->has_time = false;
        out->day[0] = 0;
        no_source(out);
    }
    if (!stamped(ctx, p, out)) {
        out->has_time = false;
        out->day[0] = 0;
        no_source(out);
    }
}
