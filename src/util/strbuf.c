/*++
 * NAME
 *	strbuf 3
 * SUMMARY
 *	growing string buffer
 * SYNOPSIS
 *	#include "util/strbuf.h"
 *
 *	void	strbuf_init(sb)
 *	void	strbuf_puts(sb, s)
 *	void	strbuf_printf(sb, fmt, ...)
 *	const char *strbuf_str(sb)
 * DESCRIPTION
 *	The buffer doubles when full. See strbuf.h for the failure rule.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Application. */
#include "util/strbuf.h"

/* strbuf_init - empty buffer, no memory yet */
void strbuf_init(struct strbuf *sb)
{
    sb->s = NULL;
    sb->len = 0;
    sb->cap = 0;
    sb->failed = false;
}

/* strbuf_reset - empty the buffer, keep its memory */
void strbuf_reset(struct strbuf *sb)
{
    sb->len = 0;
    sb->failed = false;
    if (sb->s)
        sb->s[0] = 0;
}

/* strbuf_free - release the memory */
void strbuf_free(struct strbuf *sb)
{
    free(sb->s);
    strbuf_init(sb);
}

/* reserve - room for extra more bytes plus the terminator */
static bool reserve(struct strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *s;

    if (sb->failed)
        return false;
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    cap = sb->cap ? sb->cap : 128;
    while (cap < need)
        cap *= 2;
    if ((s = realloc(sb->s, cap)) == NULL) {
        sb->failed = true;
        return false;
    }
    sb->s = s;
    sb->cap = cap;
    return true;
}

/* strbuf_putn - append n bytes */
void strbuf_putn(struct strbuf *sb, const char *p, size_t n)
{
    if (!reserve(sb, n))
        return;
    memcpy(sb->s + sb->len, p, n);
    sb->len += n;
    sb->s[sb->len] = 0;
}

/* strbuf_putc - append one byte */
void strbuf_putc(struct strbuf *sb, char c)
{
    strbuf_putn(sb, &c, 1);
}

/* strbuf_puts - append a string */
void strbuf_puts(struct strbuf *sb, const char *s)
{
    strbuf_putn(sb, s, strlen(s));
}

/* strbuf_printf - append formatted text */
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(sb, (size_t) n))
        return;
    va_start(ap, fmt);
    vsnprintf(sb->s + sb->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t) n;
}

/* strbuf_failed - did an allocation fail */
bool strbuf_failed(const struct strbuf *sb)
{
    return sb->failed;
}

/* strbuf_str - the contents */
const char *strbuf_str(const struct strbuf *sb)
{
    return (sb->s && !sb->failed) ? sb->s : "";
}
