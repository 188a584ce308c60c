/*++
 * NAME
 *	logger 3
 * SUMMARY
 *	the one record writer: syslog, and stderr in the foreground
 * SYNOPSIS
 *	#include "daemon/logger.h"
 *
 *	void	logger_open(ident, facility, also_stderr)
 *	void	logger_decision(opts, rec)
 *	void	logger_session(opts, rec)
 *	void	logger_notice(priority, fmt, ...)
 * DESCRIPTION
 *	Records go to syslog at LOG_INFO under the configured facility;
 *	notices at their own priority, prefixed "event=notice" so that a
 *	reader of the records can tell them apart.
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
#include "util/strbuf.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long seq;
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

/* emit - write the line (lock held) */
static void emit(int priority)
{
    const char *text = strbuf_str(&line);

    syslog(priority, "%s", text);
    if (to_stderr) {
        fputs(text, stderr);
        fputc('\n', stderr);
    }
}

/* write_record - next seq, format with fmt, emit; all under the lock */
static void write_record(unsigned long long *seqp, int (*fmt)(const void *, struct strbuf *), const void *arg)
{
    pthread_mutex_lock(&lock);
    *seqp = ++seq;
    strbuf_reset(&line);
    if (fmt(arg, &line) == 0)
        emit(LOG_INFO);
    else
        syslog(LOG_ERR, "event=notice message=\"out of memory formatting record seq=%llu\"", *seqp);
    pthread_mutex_unlock(&lock);
}

struct fmt_decision {
    const struct record_opts *opts;
    const struct decision_record *rec;
};

struct fmt_session {
    const struct record_opts *opts;
    const struct session_record *rec;
};

/* fmt_decision - write_record formatter for a decision */
static int fmt_decision(const void *arg, struct strbuf *out)
{
    const struct fmt_decision *f = arg;

    return record_format_decision(f->opts, f->rec, out);
}

/* fmt_session - write_record formatter for a session */
static int fmt_session(const void *arg, struct strbuf *out)
{
    const struct fmt_session *f = arg;

    return record_format_session(f->opts, f->rec, out);
}

/* logger_decision - one decision record */
void logger_decision(const struct record_opts *opts, struct decision_record *rec)
{
    struct fmt_decision f = {opts, rec};

    rec->instance = logger_instance();
    write_record(&rec->seq, fmt_decision, &f);
}

/* logger_session - one session record */
void logger_session(const struct record_opts *opts, struct session_record *rec)
{
    struct fmt_session f = {opts, rec};

    rec->instance = logger_instance();
    write_record(&rec->seq, fmt_session, &f);
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
    emit(priority);
    pthread_mutex_unlock(&lock);
}
