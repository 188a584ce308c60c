/*++
 * NAME
 *	listen 3h
 * SUMMARY
 *	listening stream sockets for the daemon's services
 * DESCRIPTION
 *	The policy service and the metrics page listen the same way: made
 *	as root before any thread, close-on-exec and non-blocking (their
 *	event loops accept), SO_REUSEADDR on TCP, a backlog of SOMAXCONN.
 *	what names the service in messages ("policy socket").
 *--*/
#ifndef LISTEN_H
#define LISTEN_H

#include "util/tp_error.h"

/* listen_unix - a socket at path; a file there is replaced (the caller
   made sure it is stale). The descriptor, or -1 with err set. */
int listen_unix(const char *path, const char *what, struct tp_error *err);

/* listen_inet - a TCP socket at HOST:PORT or [V6]:PORT, on the first
   address of HOST that binds. The descriptor, or -1 with err set. */
int listen_inet(const char *hostport, const char *what, struct tp_error *err);

#endif
