/*++
 * NAME
 *	logger 3
 * SUMMARY
 *	where records and notices go: syslog, and stderr in the foreground
 * SYNOPSIS
 *	#include "daemon/logger.h"
 *
 *	void	logger_open(ident, facility, also_stderr)
 *	struct session_sink logger_sink(void)
 *	void	logger_notice(priority, fmt, ...)
 * DESCRIPTION
 *	Records come numbered and formatted from the session service, which
 *	hands them over one at a time in seq order; they go to syslog at
 *	LOG_INFO under the configured facility. Notices go at their own
 *	priority, prefixed "event=notice" so that a reader of the records
 *	can tell them apart. One lock keeps a line and its stderr copy whole.
 *--*/

/* System library. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

/* Libraries. */
#include <openssl/rand.h>

/* Application. */
#include "daemon/logger.h"
#include "record/record.h"
#include "util/strbuf.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool to_stderr;
static char instance[LOGGER_INSTANCE_LEN + 1];
static struct strbuf line;

/* logger_open - where records go */
void logger_open(const char *ident, int facility, bool also_stderr)
{
    static char ident_copy[64];

    /* openlog keeps the pointer; a reload must not free it under syslog. */
    snprintf(ident_copy, sizeof(ident_copy), "%s", ident);
    openlog(ident_copy, LOG_PID | LOG_NDELAY, facility);
    to_stderr = also_stderr;
}

/* logger_stderr - also write to stderr, or stop doing so */
void logger_stderr(bool on)
{
    pthread_mutex_lock(&lock);
    to_stderr = on;
    pthread_mutex_unlock(&lock);
}

/* logger_instance - random id, 48 bits as hex */
const char *logger_instance(void)
{
    unsigned char raw[LOGGER_INSTANCE_LEN / 2];
    size_t i;

    pthread_mutex_lock(&lock);
    if (instance[0] == 0) {
        if (RAND_bytes(raw, sizeof(raw)) != 1)
            memset(raw, 0, sizeof(raw));
        for (i = 0; i < sizeof(raw); i++)
            snprintf(instance + 2 * i, 3, "%02x", raw[i]);
    }
    pthread_mutex_unlock(&lock);
    return instance;
}

/* emit - write one line (lock held) */
static void emit(int priority, const char *text)
{
    syslog(priority, "%s", text);
    if (to_stderr) {
        fputs(text, stderr);
        fputc('\n', stderr);
    }
}

/* sink_record - a record line the session service numbered and formatted */
static void sink_record(void *arg, int priority, const char *text)
{
    (void) arg;
    pthread_mutex_lock(&lock);
    emit(priority, text);
    pthread_mutex_unlock(&lock);
}

/* sink_notice - a notice of the session service (a state store error) */
static void sink_notice(void *arg, int priority, const char *text)
{
    (void) arg;
    logger_notice(priority, "%s", text);
}

/* logger_sink - records and notices of the session service go to syslog */
struct session_sink logger_sink(void)
{
    return (struct session_sink){sink_record, sink_notice, NULL};
}

/* logger_notice - an operational message */
void logger_notice(int priority, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&lock);
    strbuf_reset(&line);
    strbuf_puts(&line, "event=notice message=");
    record_kv_value(&line, text);
    emit(priority, strbuf_str(&line));
    pthread_mutex_unlock(&lock);
}
