/*++
 * NAME
 *	tp_error 3
 * SUMMARY
 *	errors as values, with file and line
 * SYNOPSIS
 *	#include "util/tp_error.h"
 *
 *	void	tp_error_set(err, file, line, fmt, ...)
 *	void	tp_errlist_add(list, file, line, fmt, ...)
 *	int	tp_error_format(err, buf, len)
 * DESCRIPTION
 *	See tp_error.h. Messages longer than TP_ERROR_MSG_MAX are truncated;
 *	a list that is full counts what it dropped so that the caller can say so.
 *--*/

/* System library. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Application. */
#include "util/tp_error.h"

/* set_va - fill one error */
static void set_va(struct tp_error *err, const char *file, int line, const char *fmt, va_list ap)
{
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

/* tp_error_set - fill an error */
void tp_error_set(struct tp_error *err, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_va(err, file, line, fmt, ap);
    va_end(ap);
}

/* tp_errlist_init - empty list */
void tp_errlist_init(struct tp_errlist *list)
{
    list->n = 0;
    list->dropped = 0;
}

/* tp_errlist_add - append one error, or count it as dropped */
void tp_errlist_add(struct tp_errlist *list, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (list->n >= TP_ERRLIST_MAX) {
        list->dropped++;
        return;
    }
    va_start(ap, fmt);
    set_va(&list->items[list->n++], file, line, fmt, ap);
    va_end(ap);
}

/* tp_errlist_append - copy an error into the list */
void tp_errlist_append(struct tp_errlist *list, const struct tp_error *err)
{
    if (list->n >= TP_ERRLIST_MAX) {
        list->dropped++;
        return;
    }
    list->items[list->n++] = *err;
}

/* tp_error_format - the administrator's form of an error */
int tp_error_format(const struct tp_error *err, char *buf, size_t len)
{
    if (err->file[0] && err->line > 0)
        return snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->msg);
    if (err->file[0])
        return snprintf(buf, len, "%s: %s", err->file, err->msg);
    return snprintf(buf, len, "%s", err->msg);
}
