/*++
 * NAME
 *	syslog_out 3h
 * SUMMARY
 *	a small syslog client that says when a line did not get through
 * DESCRIPTION
 *	glibc's syslog(3) drops a line without a word when the log socket
 *	is gone or full; records are evidence, so we need to know. This
 *	client writes RFC 3164 lines exactly as glibc does and returns
 *	whether the line was delivered. Not thread-safe: the logger calls
 *	it under its lock.
 *--*/
#ifndef SYSLOG_OUT_H
#define SYSLOG_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* What a full socket may cost one line: SYSLOG_OUT_TRIES sends,
   SYSLOG_OUT_WAIT_MS apart, so at most 100 ms in all. */
#define SYSLOG_OUT_TRIES   5
#define SYSLOG_OUT_WAIT_MS 25

struct syslog_out;

/* syslog_out_format - "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MSG" into buf; its length (cut at size - 1) */
size_t syslog_out_format(char *buf, size_t size, int pri, const struct tm *tm, const char *ident, pid_t pid,
                         const char *msg);

/* syslog_out_new - a client for the socket at path (connects now if it can); NULL: no memory */
struct syslog_out *syslog_out_new(const char *path);

/* syslog_out_send - one line (header added here); 0, or the errno of the last try.
   Not patient: one try and a reconnect, no wait for a full socket. */
int syslog_out_send(struct syslog_out *, int pri, const char *ident, const char *msg, bool patient);

/* syslog_out_free - close and release; NULL is allowed */
void syslog_out_free(struct syslog_out *);

#endif
