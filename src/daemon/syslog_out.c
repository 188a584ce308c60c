/*++
 * NAME
 *	syslog_out 3
 * SUMMARY
 *	a small syslog client that says when a line did not get through
 * SYNOPSIS
 *	#include "daemon/syslog_out.h"
 *
 *	size_t	syslog_out_format(buf, size, pri, tm, ident, pid, msg)
 *	struct syslog_out *syslog_out_new(path)
 *	int	syslog_out_send(so, pri, ident, msg, patient)
 *	void	syslog_out_free(so)
 * DESCRIPTION
 *	Lines are written as glibc's syslog(3) writes them with LOG_PID:
 *	"<PRI>Mmm dd hh:mm:ss IDENT[PID]: MSG", local time, C-locale month
 *	names, the day padded with a space. rsyslog, journald and
 *	tlspolicy-report's prefix reader (logread/prefix.c) read them as
 *	before. The socket is AF_UNIX SOCK_DGRAM; where the path is a
 *	stream socket (EPROTOTYPE), SOCK_STREAM with each line ended by a
 *	NUL byte, as glibc frames it.
 *
 *	The syslog daemon may be restarting (the socket is missing or
 *	refuses: ENOENT, ECONNREFUSED, ENOTCONN) or busy (EAGAIN, ENOBUFS:
 *	its queue is full). A send that fails for the first reason closes
 *	the socket, connects again and tries once more; one that fails for
 *	the second waits SYSLOG_OUT_WAIT_MS and tries again, at most
 *	SYSLOG_OUT_TRIES times, and only when the caller is patient. Sends
 *	never block: the caller holds the lock every decision waits for.
 * DIAGNOSTICS
 *	syslog_out_send() returns 0 or the errno of the last try.
 *--*/

/* System library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Application. */
#include "daemon/syslog_out.h"

/* Records stay under 8 KiB (record/); notices under 1 KiB. */
#define SYSLOG_OUT_LINE 16384

struct syslog_out {
    struct sockaddr_un addr;
    int fd;   /* -1: not connected */
    int type; /* SOCK_DGRAM or SOCK_STREAM */
    char buf[SYSLOG_OUT_LINE];
};

/* BUSY - the daemon is there but its queue is full: worth a short wait */
#define BUSY(err) ((err) == EAGAIN || (err) == EWOULDBLOCK || (err) == ENOBUFS)

/* syslog_out_format - the RFC 3164 line, as glibc writes it */
size_t syslog_out_format(char *buf, size_t size, int pri, const struct tm *tm, const char *ident, pid_t pid,
                         const char *msg)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int n;

    /* Month names by hand: strftime's %b follows the locale, and a
       reader of the log expects the C locale's, as glibc sends. */
    n = snprintf(buf, size, "<%d>%s %2d %02d:%02d:%02d %s[%ld]: %s", pri, months[tm->tm_mon % 12],
                 tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, ident, (long) pid, msg);
    if (n < 0)
        n = 0;
    return (size_t) n < size ? (size_t) n : size - 1;
}

/* disconnect - forget the socket (the daemon went away) */
static void disconnect(struct syslog_out *so)
{
    if (so->fd >= 0)
        close(so->fd);
    so->fd = -1;
}

/* connect_type - a socket of type connected to the path; -1 with errno */
static int connect_type(const struct syslog_out *so, int type)
{
    int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *) &so->addr, sizeof(so->addr)) == 0)
        return fd;
    {
        int err = errno;

        close(fd);
        errno = err;
    }
    return -1;
}

/* reconnect - connect afresh: datagrams, or a stream where the path is one */
static int reconnect(struct syslog_out *so)
{
    disconnect(so);
    so->type = SOCK_DGRAM;
    if ((so->fd = connect_type(so, SOCK_DGRAM)) < 0 && errno == EPROTOTYPE) {
        so->type = SOCK_STREAM;
        so->fd = connect_type(so, SOCK_STREAM);
    }
    return so->fd < 0 ? errno : 0;
}

/* try_send - one attempt at the whole line of len bytes; 0 or errno */
static int try_send(struct syslog_out *so, size_t len)
{
    size_t done = 0;
    ssize_t n;

    if (so->fd < 0 && (n = reconnect(so)) != 0)
        return (int) n;
    /* A stream carries the terminating NUL as the frame's end. */
    if (so->type == SOCK_STREAM)
        len++;
    while (done < len) {
        n = send(so->fd, so->buf + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            int err = errno;

            /* Half a line on a stream would run into the next one. */
            if (done > 0 || !BUSY(err))
                disconnect(so);
            return err;
        }
        done += (size_t) n;
    }
    return 0;
}

/* pause_ms - the wait between two sends to a full socket */
static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* syslog_out_send - deliver one line, within the bounded wait */
int syslog_out_send(struct syslog_out *so, int pri, const char *ident, const char *msg, bool patient)
{
    struct tm tm;
    time_t now = time(NULL);
    size_t len;
    int err, tries;

    localtime_r(&now, &tm);
    len = syslog_out_format(so->buf, sizeof(so->buf), pri, &tm, ident, getpid(), msg);
    for (tries = 1;; tries++) {
        if ((err = try_send(so, len)) == 0)
            return 0;
        if (!BUSY(err) && tries == 1)
            continue; /* the daemon restarted: connect again, once */
        if (!BUSY(err) || !patient || tries >= SYSLOG_OUT_TRIES)
            return err;
        pause_ms(SYSLOG_OUT_WAIT_MS);
    }
}

/* syslog_out_new - a client for path */
struct syslog_out *syslog_out_new(const char *path)
{
    struct syslog_out *so = calloc(1, sizeof(*so));

    if (so == NULL)
        return NULL;
    so->addr.sun_family = AF_UNIX;
    snprintf(so->addr.sun_path, sizeof(so->addr.sun_path), "%s", path);
    so->fd = -1;
    so->type = SOCK_DGRAM;
    (void) reconnect(so); /* as LOG_NDELAY: before a chroot or privileges go */
    return so;
}

/* syslog_out_free - close and release */
void syslog_out_free(struct syslog_out *so)
{
    if (so == NULL)
        return;
    disconnect(so);
    free(so);
}
