/*++
 * NAME
 *	logger 3
 * SUMMARY
 *	where records and notices go: syslog, and stderr in the foreground
 * SYNOPSIS
 *	#include "daemon/logger.h"
#include "daemon/syslog_out.h"
 *
 *	void	logger_open(ident, facility, socket, also_stderr)
 *	struct session_sink logger_sink(void)
 *	void	logger_notice(priority, fmt, ...)
 *	unsigned long long logger_records_failed(void)
 * DESCRIPTION
 *	Records come numbered and formatted from the session service, which
 *	hands them over one at a time in seq order; they go to syslog at
 *	LOG_INFO under the configured facility. Notices go at their own
 *	priority, prefixed "event=notice" so that a reader of the records
 *	can tell them apart. One lock keeps a line and its stderr copy whole.
 *
 *	Records are evidence, so a record syslog did not take is not
 *	dropped in silence (glibc's syslog(3) would): it is counted, and
 *	when a line gets through again a notice first says how many
 *	records were lost and their seq range, which explains the gap a
 *	reader sees. Decisions go on meanwhile: mail must not stop while
 *	the syslog daemon restarts. While records are being lost, a full
 *	socket is tried once per line, without waiting, so that the lock
 *	every decision needs is held only briefly.
 *--*/

/* System library. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

/* Libraries. */
#include <openssl/rand.h>

/* Application. */
#include "daemon/logger.h"
#include "daemon/syslog_out.h"
#include "record/record.h"
#include "util/strbuf.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool to_stderr;
static char instance[LOGGER_INSTANCE_LEN + 1];
static struct strbuf line;
static struct syslog_out *out; /* NULL: no memory; every line is lost */
static char ident_copy[64];
static int log_facility = LOG_MAIL;
/* Since start, for the metrics page, which must not take the lock records are written under. */
static _Atomic unsigned long long records_failed;

/* Lost since the last line that got through; reported when one does. */
static struct {
    unsigned long long records, first, last; /* count and seq range */
    unsigned long notices;
    int err; /* errno of the last failure */
} lost;

/* LOSING - lines are being lost: no waiting for a full socket now */
#define LOSING() (lost.records > 0 || lost.notices > 0)

/* logger_open - where records go; again on start only */
void logger_open(const char *ident, int facility, const char *socket, bool also_stderr)
{
    pthread_mutex_lock(&lock);
    snprintf(ident_copy, sizeof(ident_copy), "%s", ident);
    log_facility = facility;
    syslog_out_free(out);
    out = syslog_out_new(socket);
    to_stderr = also_stderr;
    pthread_mutex_unlock(&lock);
}

/* logger_records_failed - records syslog did not take, since start */
unsigned long long logger_records_failed(void)
{
    return atomic_load_explicit(&records_failed, memory_order_relaxed);
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

/* deliver - one line to syslog (lock held); 0 or errno */
static int deliver(int priority, const char *text)
{
    int err;

    if (out == NULL)
        return ENOMEM;
    err = syslog_out_send(out, log_facility | LOG_PRI(priority), ident_copy, text, !LOSING());
    if (err != 0)
        lost.err = err;
    return err;
}

/* copy_stderr - the foreground's copy of a line (lock held) */
static void copy_stderr(const char *text)
{
    if (to_stderr) {
        fputs(text, stderr);
        fputc('\n', stderr);
    }
}

/* report_lost - say what was lost, once syslog takes lines again (lock held);
   false: it still does not */
static bool report_lost(void)
{
    struct strbuf msg = {0};
    char text[256];
    int n;
    bool ok;

    if (!LOSING())
        return true;
    n = snprintf(text, sizeof(text), "syslog delivery resumed, %llu records lost", lost.records);
    if (lost.records > 0 && n > 0 && (size_t) n < sizeof(text))
        n += snprintf(text + n, sizeof(text) - n, " (seq %llu-%llu)", lost.first, lost.last);
    if (lost.notices > 0 && n > 0 && (size_t) n < sizeof(text))
        n += snprintf(text + n, sizeof(text) - n, ", %lu notices lost", lost.notices);
    if (n > 0 && (size_t) n < sizeof(text))
        snprintf(text + n, sizeof(text) - n, "; last error: %s", strerror(lost.err));
    /* The form of every notice, so that readers need no new rule. */
    strbuf_puts(&msg, "event=notice message=");
    record_kv_value(&msg, text);
    ok = !strbuf_failed(&msg) && deliver(LOG_WARNING, strbuf_str(&msg)) == 0;
    if (ok) {
        copy_stderr(strbuf_str(&msg));
        memset(&lost, 0, sizeof(lost));
    }
    strbuf_free(&msg);
    return ok;
}

/* emit_record - one record line (lock held): delivered, or counted lost */
static void emit_record(int priority, unsigned long long seq, const char *text)
{
    copy_stderr(text);
    if (report_lost() && deliver(priority, text) == 0)
        return;
    atomic_fetch_add_explicit(&records_failed, 1, memory_order_relaxed);
    if (lost.records++ == 0)
        lost.first = seq;
    lost.last = seq;
}

/* emit_notice - one notice line (lock held) */
static void emit_notice(int priority, const char *text)
{
    copy_stderr(text);
    if (!report_lost() || deliver(priority, text) != 0)
        lost.notices++;
}

/* sink_record - a record line the session service numbered and formatted */
static void sink_record(void *arg, int priority, unsigned long long seq, const char *text)
{
    (void) arg;
    pthread_mutex_lock(&lock);
    emit_record(priority, seq, text);
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
    emit_notice(priority, strbuf_str(&line));
    pthread_mutex_unlock(&lock);
}
