/*++
 * NAME
 *	logger 3h
 * SUMMARY
 *	the one record writer: syslog, and stderr in the foreground
 * DESCRIPTION
 *	Every record gets the next seq of this instance under one lock, and
 *	is written while the lock is held, so that records reach syslog in
 *	seq order and a reader can prove that none was lost.
 *--*/
#ifndef LOGGER_H
#define LOGGER_H

#include <stdbool.h>

#include "record/record.h"

#define LOGGER_INSTANCE_LEN 12

/* logger_open - syslog ident and facility; also_stderr for -f */
void logger_open(const char *ident, int facility, bool also_stderr);

/* logger_stderr - also write to stderr (the foreground, start-up errors) or not */
void logger_stderr(bool on);

/* logger_instance - the random id of this run, chosen at first use */
const char *logger_instance(void);

/* logger_decision - assign seq and instance, format and write a decision */
void logger_decision(const struct record_opts *, struct decision_record *);

/* logger_session - the same for a session record */
void logger_session(const struct record_opts *, struct session_record *);

/* logger_notice - an operational message (start, reload, errors), not a record */
void logger_notice(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
