/*++
 * NAME
 *	sockcheck 3
 * SUMMARY
 *	is the milter socket already served by another process?
 * SYNOPSIS
 *	#include "daemon/sockcheck.h"
 *
 *	int	sockcheck_free(spec, err)
 *	const char *spec;
 *	struct tp_error *err;
 *
 *	int	sockcheck_policy_free(spec, err)
 * DESCRIPTION
 *	libmilter removes whatever is at a unix socket path before it
 *	binds (we ask it to, so that a crashed run's socket does not stop a
 *	restart). Without a check, a second instance started by mistake
 *	would take the path from a running one, which keeps running,
 *	unreachable, while the MTA talks to the newcomer. So, before
 *	libmilter opens anything:
 *
 *	- unix:PATH, local:PATH: a connect() to PATH that succeeds (or
 *	  finds the backlog full) means a live server: refused. Refused
 *	  (ECONNREFUSED) means nobody listens: the socket is stale and
 *	  libmilter replaces it as before. No file: nothing to check.
 *	- inet:PORT@HOST, inet6:PORT@HOST: a trial bind() with
 *	  SO_REUSEADDR, as libmilter binds; EADDRINUSE means someone
 *	  listens there. The trial socket is closed before libmilter binds.
 *
 *	The policy socket (Postfix's notation, inet:HOST:PORT) gets the
 *	same checks, its spec rewritten into libmilter's notation.
 *
 *	The check runs as root, before the pidfile is written, so that a
 *	refused start changes nothing of the running instance.
 * DIAGNOSTICS
 *	-1 with err set to a message naming the socket and the reason.
 *--*/

/* System library. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Application. */
#include "daemon/sockcheck.h"

/* check_unix - a connect() that is answered means a live server */
static int check_unix(const char *spec, const char *path, struct tp_error *err)
{
    struct sockaddr_un sun;
    int fd, rc, saved;

    if (access(path, F_OK) < 0 || strlen(path) >= sizeof(sun.sun_path))
        return 0; /* nothing there, or libmilter will say the name is too long */
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        tp_error_set(err, NULL, 0, "cannot check milter socket %s: %s", spec, strerror(errno));
        return -1;
    }
    rc = connect(fd, (struct sockaddr *) &sun, sizeof(sun));
    saved = errno;
    close(fd);
    /* Refused: a socket file left by a crashed run. Not a socket: libmilter
       reports that itself. */
    if (rc < 0 && (saved == ECONNREFUSED || saved == ENOTSOCK || saved == ENOENT))
        return 0;
    if (rc == 0 || saved == EAGAIN)
        tp_error_set(err, NULL, 0,
                     "milter socket %s is in use: another tlspolicyd (or another program) accepts"
                     " connections on it; stop it first, or use another socket",
                     spec);
    else
        tp_error_set(err, NULL, 0, "cannot check milter socket %s: %s", spec, strerror(saved));
    return -1;
}

/* split_inet - "PORT@HOST" into port and host (host copied into buf) */
static int split_inet(const char *rest, char *port, size_t plen, char *host, size_t hlen)
{
    const char *at = strchr(rest, '@');

    if (at == NULL || (size_t) (at - rest) >= plen || strlen(at + 1) >= hlen)
        return -1;
    snprintf(port, plen, "%.*s", (int) (at - rest), rest);
    snprintf(host, hlen, "%s", at + 1);
    /* libmilter accepts "[::1]" for inet6 */
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = 0;
    }
    return 0;
}

/* trial_bind - bind as libmilter will and let go again; errno on failure */
static int trial_bind(const struct addrinfo *ai)
{
    int fd, on = 1, rc, saved;

    if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0)
        return errno;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
    saved = errno;
    close(fd);
    return rc == 0 ? 0 : saved;
}

/* check_inet - a port someone else listens on cannot be bound */
static int check_inet(const char *spec, const char *rest, int family, struct tp_error *err)
{
    struct addrinfo hints, *ai = NULL;
    char port[16], host[256];
    int rc;

    if (split_inet(rest, port, sizeof(port), host, sizeof(host)) < 0)
        return 0; /* the configuration check has refused it already */
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
        return 0; /* libmilter resolves the name and reports it */
    rc = trial_bind(ai);
    freeaddrinfo(ai);
    if (rc == 0)
        return 0;
    if (rc == EADDRINUSE)
        tp_error_set(err, NULL, 0,
                     "milter socket %s is in use: another tlspolicyd (or another program) listens"
                     " there; stop it first, or use another socket",
                     spec);
    else
        tp_error_set(err, NULL, 0, "cannot bind milter socket %s: %s", spec, strerror(rc));
    return -1;
}

/* sockcheck_free - may the milter socket be opened without taking it from someone? */
int sockcheck_free(const char *spec, struct tp_error *err)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return check_unix(spec, spec + 5, err);
    if (strncmp(spec, "local:", 6) == 0)
        return check_unix(spec, spec + 6, err);
    if (strncmp(spec, "inet:", 5) == 0)
        return check_inet(spec, spec + 5, AF_INET, err);
    if (strncmp(spec, "inet6:", 6) == 0)
        return check_inet(spec, spec + 6, AF_INET6, err);
    return 0;
}

/* sockcheck_policy_free - inet:HOST:PORT as inet:PORT@HOST, then as above */
int sockcheck_policy_free(const char *spec, struct tp_error *err)
{
    const char *hp, *colon;
    char milter[1100];
    int n;

    if (strncmp(spec, "inet:", 5) != 0 || (colon = strrchr(hp = spec + 5, ':')) == NULL)
        return sockcheck_free(spec, err);
    n = (int) (colon - hp);
    if (n >= 2 && hp[0] == '[' && hp[n - 1] == ']')
        snprintf(milter, sizeof(milter), "inet6:%s@%.*s", colon + 1, n - 2, hp + 1);
    else
        snprintf(milter, sizeof(milter), "inet:%s@%.*s", colon + 1, n, hp);
    return sockcheck_free(milter, err);
}
