/*++
 * NAME
 *	sslerr 3
 * SUMMARY
 *	OpenSSL's error queue as one reason string
 * SYNOPSIS
 *	#include "probe/sslerr.h"
 *
 *	void	sslerr_take(buf, len, fallback)
 * DESCRIPTION
 *	The queue is per thread and shared by every SSL object; callers
 *	empty it (ERR_clear_error) before the one call whose reason they
 *	want, so that the client's and the server's reasons never mix.
 *
 *	The earliest entry is the cause; later ones are what the layers
 *	above added on the way out.
 *--*/

/* System library. */
#include <stdio.h>
#include <string.h>

/* Libraries. */
#include <openssl/err.h>

/* Application. */
#include "probe/sslerr.h"

/* sslerr_take - the earliest queued reason into buf (else fallback), then empty the queue */
void sslerr_take(char *buf, size_t len, const char *fallback)
{
    unsigned long e = ERR_peek_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;

    /* A failed fopen() inside OpenSSL queues errno, which has no reason string. */
    if (e != 0 && ERR_SYSTEM_ERROR(e))
        snprintf(buf, len, "%s", strerror(ERR_GET_REASON(e)));
    else if (reason != NULL)
        snprintf(buf, len, "%s", reason);
    else if (e != 0)
        snprintf(buf, len, "OpenSSL error %lx", e);
    else
        snprintf(buf, len, "%s", fallback);
    ERR_clear_error();
}
