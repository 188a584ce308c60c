/*++
 * NAME
 *	tp_error 3h
 * SUMMARY
 *	errors as values, with file and line
 * DESCRIPTION
 *	Library code never prints and never exits: it fills a struct tp_error
 *	and returns -1 (or NULL). Configuration errors carry the file and line
 *	the administrator must fix; other errors leave file empty and line 0.
 *	Only main() decides what to do with an error.
 * LAYER
 *	src/util/ is the lowest layer: strings (strbuf), errors (tp_error),
 *	the one string hash (hash.h), hex digits (hex.h), the string map
 *	(map) and the bounded sequence set (seqset). It knows nothing of
 *	mail or TLS and includes no other folder.
 *--*/
#ifndef TP_ERROR_H
#define TP_ERROR_H

#include <stddef.h>

#define TP_ERROR_MSG_MAX 512
#define TP_ERROR_FILE_MAX 1024
#define TP_ERRLIST_MAX 64

struct tp_error {
    char file[TP_ERROR_FILE_MAX];
    int line;
    char msg[TP_ERROR_MSG_MAX];
};

/* A bounded list, so that `tlspolicyd -n` reports every mistake at once. */
struct tp_errlist {
    size_t n;
    size_t dropped;
    struct tp_error items[TP_ERRLIST_MAX];
};

void tp_error_set(struct tp_error *, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tp_errlist_init(struct tp_errlist *);
void tp_errlist_add(struct tp_errlist *, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tp_errlist_append(struct tp_errlist *, const struct tp_error *);
/* "FILE:LINE: message", or "FILE: message" without a line, or "message". */
int tp_error_format(const struct tp_error *, char *buf, size_t len);

#endif
