/*++
 * NAME
 *	sslerr 3h
 * SUMMARY
 *	OpenSSL's error queue as one reason string
 * DESCRIPTION
 *	The reason strings are OpenSSL's own ("no shared cipher",
 *	"unsupported protocol", "sslv3 alert handshake failure"): they are
 *	the words an MTA writes to its log, so the probe's table can be
 *	matched against a log by eye.
 *--*/
#ifndef PROBE_SSLERR_H
#define PROBE_SSLERR_H

/* System library. */
#include <stddef.h>

/* sslerr_take - the earliest queued reason into buf (else fallback), then empty the queue */
void sslerr_take(char *buf, size_t len, const char *fallback);

#endif
