/*++
 * NAME
 *	fault 3
 * SUMMARY
 *	SIGBUS guard for the state store's memory map
 * SYNOPSIS
 *	#include "daemon/fault.h"
 *
 *	int	fault_guard_install(ident, facility, socket, also_stderr)
 * DESCRIPTION
 *	Everything the handler needs is prepared at install time: the syslog
 *	prefix "<PRI>ident[pid]: " and a datagram socket connected to
 *	the syslog socket (log.socket). The handler itself only copies bytes, send()s, write()s and
 *	_exit()s, all async-signal-safe. The message has the form of every
 *	other notice (event=notice message="..."), its value escaped by hand
 *	here because the record writer is not safe in a handler.
 *
 *	Why exit and not carry on: the faulting thread is inside an LMDB
 *	transaction with the store's locks held; there is no safe way back
 *	into it. A clean exit with a message is what an administrator and a
 *	service manager can act on, and the next start checks the store.
 * DIAGNOSTICS
 *	A fault outside every store's map, or a SIGBUS sent with kill(2), is
 *	re-raised with the default action.
 *--*/

/* System library. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

/* Application. */
#include "daemon/fault.h"
#include "state/store.h"

#define FAULT_STATUS 1

static char prefix[300]; /* "<PRI>ident[pid]: " */
static int log_fd = -1;  /* connected to /dev/log, or -1 */
static bool to_stderr;

/* put - append s to buf at *n, escaped for a kv value when esc; async-signal-safe */
static void put(char *buf, size_t size, size_t *n, const char *s, bool esc)
{
    for (; *s && *n + 2 < size; s++) {
        unsigned char c = (unsigned char) *s;

        if (esc && (c == '"' || c == '\\'))
            buf[(*n)++] = '\\';
        buf[(*n)++] = esc && (c < 0x20 || c >= 0x7f) ? '?' : (char) c;
    }
}

/* on_bus - SIGBUS: the store's map faulted, or someone else's problem */
static void on_bus(int sig, siginfo_t *si, void *uc)
{
    const char *dir = si->si_code > 0 ? store_fault_dir(si->si_addr) : NULL;
    char msg[1024];
    size_t n = 0, start;

    (void) uc;
    if (dir == NULL) {
        signal(sig, SIG_DFL);
        raise(sig); /* delivered when the handler returns: the default action */
        return;
    }
    put(msg, sizeof(msg), &n, prefix, false);
    start = n;
    put(msg, sizeof(msg), &n, "event=notice message=\"state store ", false);
    put(msg, sizeof(msg), &n, dir, true);
    put(msg, sizeof(msg), &n,
        ": bus error reading data.mdb (truncated or damaged while in use); exiting with status 1, the next "
        "start checks the store (state.on_damage)\"",
        false);
    if (log_fd >= 0)
        (void) !send(log_fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    msg[n++] = '\n';
    if (to_stderr)
        (void) !write(STDERR_FILENO, msg + start, n - start);
    _exit(FAULT_STATUS);
}

/* open_log - a datagram socket to the syslog socket; -1 when there is none */
static int open_log(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);

    if (fd >= 0 && connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* fault_guard_install - prepare the message and catch SIGBUS */
int fault_guard_install(const char *ident, int facility, const char *socket, bool also_stderr)
{
    struct sigaction sa;

    snprintf(prefix, sizeof(prefix), "<%d>%s[%ld]: ", facility | LOG_ERR, ident, (long) getpid());
    to_stderr = also_stderr;
    if (log_fd < 0)
        log_fd = open_log(socket);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_bus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL);
}
