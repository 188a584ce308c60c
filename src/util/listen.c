/*++
 * NAME
 *	listen 3
 * SUMMARY
 *	listening stream sockets for the daemon's services
 * SYNOPSIS
 *	#include "util/listen.h"
 *
 *	int	listen_unix(path, what, err)
 *	int	listen_inet(hostport, what, err)
 * DESCRIPTION
 *	See listen.h.
 *--*/

/* System library. */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Application. */
#include "util/listen.h"

#define SOCK_FLAGS (SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK)

/* listen_unix - a socket at path; a stale file there is replaced */
int listen_unix(const char *path, const char *what, struct tp_error *err)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        tp_error_set(err, NULL, 0, "%s path too long: %s", what, path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_FLAGS, 0)) < 0) {
        tp_error_set(err, NULL, 0, "cannot make %s unix:%s: %s", what, path, strerror(errno));
        return -1;
    }
    (void) unlink(path);
    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0 || listen(fd, SOMAXCONN) < 0) {
        tp_error_set(err, NULL, 0, "cannot listen on %s unix:%s: %s", what, path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* split_host_port - "HOST:PORT" or "[V6]:PORT" */
static int split_host_port(const char *hp, char *host, size_t hlen, const char **port)
{
    const char *colon = strrchr(hp, ':');
    size_t n;

    if (colon == NULL)
        return -1;
    *port = colon + 1;
    n = (size_t) (colon - hp);
    if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']') {
        hp++;
        n -= 2;
    }
    if (n == 0 || n >= hlen)
        return -1;
    memcpy(host, hp, n);
    host[n] = 0;
    return 0;
}

/* bind_one - a listening socket on one address, or -1 (errno set) */
static int bind_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_FLAGS, 0), on = 1, saved;

    if (fd < 0)
        return -1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* listen_inet - a TCP socket at HOST:PORT */
int listen_inet(const char *hp, const char *what, struct tp_error *err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res, *ai;
    char host[256];
    const char *port;
    int fd = -1, rc;

    if (split_host_port(hp, host, sizeof(host), &port) < 0) {
        tp_error_set(err, NULL, 0, "invalid %s %s (expected HOST:PORT or [IPv6]:PORT)", what, hp);
        return -1;
    }
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        tp_error_set(err, NULL, 0, "%s %s: %s", what, hp, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = bind_one(ai);
    if (fd < 0)
        tp_error_set(err, NULL, 0, "cannot listen on %s %s: %s", what, hp, strerror(errno));
    freeaddrinfo(res);
    return fd;
}
