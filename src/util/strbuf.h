/*++
 * NAME
 *	strbuf 3h
 * SUMMARY
 *	growing string buffer
 * DESCRIPTION
 *	Always NUL-terminated. On allocation failure the buffer is marked
 *	failed, further appends are ignored, and strbuf_failed() says so;
 *	callers check once at the end instead of after every append.
 *--*/
#ifndef STRBUF_H
#define STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *s;
    size_t len;
    size_t cap;
    bool failed;
};

void strbuf_init(struct strbuf *);
void strbuf_reset(struct strbuf *);   /* empty, keeps the memory */
void strbuf_free(struct strbuf *);
void strbuf_putc(struct strbuf *, char);
void strbuf_puts(struct strbuf *, const char *);
void strbuf_putn(struct strbuf *, const char *, size_t);
void strbuf_printf(struct strbuf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool strbuf_failed(const struct strbuf *);
/* The contents ("" when failed or empty); valid until the next change. */
const char *strbuf_str(const struct strbuf *);

#endif
