/*++
 * NAME
 *	logger 3h
 * SUMMARY
 *	where records and notices go: syslog, and stderr in the foreground
 * DESCRIPTION
 *	The session service numbers and formats the records (session/); this
 *	module is its sink and writes each finished line, in the order given.
 *	Notices (start, reload, errors) are written here directly. Records
 *	syslog did not take are counted and reported when it takes them again.
 *--*/
#ifndef LOGGER_H
#define LOGGER_H

#include <stdbool.h>

#include "session/session.h"

#define LOGGER_INSTANCE_LEN 12

/* logger_open - syslog ident, facility and socket path; also_stderr for -f */
void logger_open(const char *ident, int facility, const char *socket, bool also_stderr);

/* logger_records_failed - records the syslog socket did not take, since start */
unsigned long long logger_records_failed(void);

/* logger_stderr - also write to stderr (the foreground, start-up errors) or not */
void logger_stderr(bool on);

/* logger_instance - the random id of this run, chosen at first use */
const char *logger_instance(void);

/* logger_sink - the session service's sink: records and its notices to us */
struct session_sink logger_sink(void);

/* logger_notice - an operational message (start, reload, errors), not a record */
void logger_notice(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
